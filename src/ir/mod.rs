//! The typed core IR: what the checker produces and the runtime evaluates.
//!
//! Every node carries its [`Type`] and [`Span`]; the evaluator never sees an
//! untyped term. Types inside a `def` may mention that def's quantified
//! variables (`Def::scheme.vars`); the evaluator resolves them with the
//! instantiation recorded at each `Global` reference. Surface sugar is gone:
//! `|>` is application, `def f x = e` is `f = \x -> e`, operators are
//! resolved to [`PrimOp`]s that say exactly what to compute (Int or real
//! arithmetic, which side broadcasts, matrix shapes).
//!
//! The type vocabulary shared by the checker, the runtime and the codec
//! lives here too: [`ty`] (semantic types, the `TypeTable`) and [`pretty`]
//! (types as the spec prints them); the IR imports nothing of the checker.

pub mod pretty;
pub mod ty;

use std::collections::HashMap;
use std::rc::Rc;

use crate::source::Span;
use ty::{Name, TyVar, Type, TypeTable};

pub type DefId = usize;
pub type LearnedId = usize;
pub type ParamId = usize;

/// A local variable, unique within its top-level definition.
pub type LocalId = u32;

/// A checked program.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub types: TypeTable,
    pub defs: Vec<Def>,
    /// Top-level names of defs, learned pieces and params in scope of the
    /// root file (imported names included), for `--eval`, `--apply` and the
    /// REPL.
    pub globals: HashMap<String, GlobalRef>,
    pub learned: Vec<LearnedPiece>,
    pub params: Vec<ParamDecl>,
    /// `objective NAME = DEF updates PIECE, ...` (spec 11.2).
    pub objectives: Vec<Objective>,
    /// Does any def or `param` initialiser draw random values? Set by the
    /// checker ([`Program::find_draws`]), read by every evaluation.
    pub draws: bool,
}

/// A named objective: a def (one parameter, a `Float` result) and the
/// learned pieces (`learn` or `param`) its gradient steps may change.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    pub name: String,
    pub def: DefId,
    pub updates: Vec<GlobalRef>,
    pub span: Span,
}

impl Program {
    /// Does evaluating `e` draw random values: a drawing builtin in it, or
    /// in a def it refers to (transitively)?
    pub fn draws_in(&self, e: &Expr) -> bool {
        let mut seen = vec![false; self.defs.len()];
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            let mut refs = Vec::new();
            let found = e.any(&mut |x| match x.kind {
                ExprKind::Builtin(b) => b.draws(),
                ExprKind::Global { def, .. } => {
                    refs.push(def);
                    false
                }
                _ => false,
            });
            if found {
                return true;
            }
            for def in refs {
                if let (Some(false), Some(d)) = (seen.get(def).copied(), self.defs.get(def)) {
                    seen[def] = true;
                    stack.push(&d.body);
                }
            }
        }
        false
    }

    /// Does any def or `param` initialiser draw random values (11.1)?
    pub fn find_draws(&self) -> bool {
        let mut draws = |e: &Expr| matches!(e.kind, ExprKind::Builtin(b) if b.draws());
        self.defs.iter().any(|d| d.body.any(&mut draws))
            || self
                .params
                .iter()
                .any(|p| p.init.as_ref().is_some_and(|e| e.any(&mut draws)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalRef {
    Def(DefId),
    Learned(LearnedId),
    Param(ParamId),
}

/// A type scheme: `forall vars. ty`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scheme {
    pub vars: Vec<TyVar>,
    pub ty: Type,
}

impl Scheme {
    /// The substitution of an instantiation: each quantified variable
    /// paired with its type in `inst`.
    pub fn bind(&self, inst: &[Type]) -> Vec<(TyVar, Type)> {
        self.vars
            .iter()
            .copied()
            .zip(inst.iter().cloned())
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct Def {
    pub name: String,
    pub scheme: Scheme,
    /// Parameters are already turned into a `Lambda`.
    pub body: Expr,
    pub span: Span,
}

impl Program {
    /// The def whose body most closely encloses `span` (a lambda's body,
    /// say), if any.
    pub fn def_at(&self, span: Span) -> Option<&Def> {
        self.defs
            .iter()
            .filter(|d| {
                let b = d.body.span;
                b.source == span.source && b.start <= span.start && span.end <= b.end
            })
            .min_by_key(|d| d.body.span.end - d.body.span.start)
    }
}

/// `learn name : domain -> codomain`.
#[derive(Clone, Debug)]
pub struct LearnedPiece {
    pub name: String,
    pub domain: Type,
    pub codomain: Type,
    pub kind: LearnedKind,
    pub span: Span,
    /// `bias = e`: the bias's initial value, a constant expression of the
    /// codomain's type (spec 11.3); zeros when absent.
    pub bias: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LearnedKind {
    /// `y = W x + b`. `input` is the flat size of the domain (tuples
    /// concatenated, windows flattened). `outputs` are the flat sizes of the
    /// codomain's parts (one part unless the codomain is a tuple, which is
    /// split). A size of `None` is `Scores` of an open vocabulary, sized
    /// when the vocabulary is known.
    Affine {
        input: usize,
        outputs: Vec<Option<usize>>,
    },
    /// An embedding table of an (open or closed) vocabulary into `dim` reals.
    Embedding { vocab: Name, dim: usize },
}

/// `param name : ty (= init)?`.
#[derive(Clone, Debug)]
pub struct ParamDecl {
    pub name: String,
    pub ty: Type,
    /// A constant expression (checked to have type `ty`); zeros when absent.
    pub init: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

impl Expr {
    /// Does `pred` hold for this expression or any inside it (lambda
    /// bodies included)? An explicit stack: deep expressions cannot
    /// overflow it.
    pub fn any(&self, pred: &mut dyn FnMut(&Expr) -> bool) -> bool {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            if pred(e) {
                return true;
            }
            match &e.kind {
                ExprKind::Lambda(l) => stack.push(&l.body),
                ExprKind::App { func, args } => {
                    stack.push(func);
                    stack.extend(args.iter());
                }
                ExprKind::Let { value, body, .. } => stack.extend([&**value, &**body]),
                ExprKind::If {
                    cond,
                    then_branch,
                    else_branch,
                } => stack.extend([&**cond, &**then_branch, &**else_branch]),
                ExprKind::Tuple(es) | ExprKind::List(es) | ExprKind::Prim { args: es, .. } => {
                    stack.extend(es.iter())
                }
                _ => {}
            }
        }
        false
    }
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Local(LocalId),
    /// A reference to a def, with the types its quantified variables are
    /// instantiated to here (same order as `Def::scheme.vars`).
    Global {
        def: DefId,
        inst: Vec<Type>,
    },
    Learned(LearnedId),
    Param(ParamId),
    /// A builtin, unapplied; its instantiated type is the node's type.
    Builtin(Builtin),
    Int(i64),
    /// Also integer literals in a `Float` context.
    Float(f64),
    Bool(bool),
    /// A string literal used as a symbol of a vocabulary.
    Symbol {
        vocab: Name,
        symbol: String,
    },
    /// A tensor literal, row-major; its length equals the shape's product.
    TensorLit {
        shape: Vec<usize>,
        data: Vec<f32>,
    },
    Lambda(Rc<Lambda>),
    /// `func arg1 arg2 ...` (curried application, flattened).
    App {
        func: Box<Expr>,
        args: Vec<Expr>,
    },
    Let {
        pattern: Pattern,
        value: Box<Expr>,
        body: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then_branch: Box<Expr>,
        else_branch: Box<Expr>,
    },
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    /// A resolved operator.
    Prim {
        op: PrimOp,
        args: Vec<Expr>,
    },
}

/// `\p1 p2 ... -> body`; `captures` are the free locals of the body, in a
/// fixed order, so a closure stores only what it needs.
#[derive(Clone, Debug)]
pub struct Lambda {
    pub params: Vec<Pattern>,
    pub captures: Vec<LocalId>,
    pub body: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    Bind(LocalId, Rc<str>),
    Wildcard,
    Tuple(Vec<Pattern>),
}

/// Which operand of a real binary operator is a `Float` broadcast against a
/// representation value of another type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broadcast {
    /// Both operands have the same type.
    None,
    /// The left operand is a `Float`, the right is not.
    Left,
    /// The right operand is a `Float`, the left is not.
    Right,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What is compared: the operands' type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpKind {
    Int,
    Float,
    Bool,
    Symbol,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimOp {
    /// Int arithmetic (`/` truncates; division by zero is a run-time error).
    IntArith(ArithOp),
    /// Elementwise real arithmetic on representation values.
    RealArith(ArithOp, Broadcast),
    IntNeg,
    RealNeg,
    /// Int floored modulo `%` (the result has the divisor's sign, as in
    /// Python; modulo by zero is a run-time error).
    IntMod,
    /// `R[m, n] @ R[n]` (p = None) or `R[m, n] @ R[n, p]`.
    MatMul {
        m: usize,
        n: usize,
        p: Option<usize>,
    },
    Compare(CmpOp, CmpKind),
    And,
    Or,
    /// List `++`.
    Append,
}

/// Every builtin of section 6 of the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    Map,
    Fold,
    Unfold,
    MapAccumL,
    MapAccumR,
    Zip,
    ZipWith,
    WindowMap,
    WindowMap2,
    Cata,
    Iterate,
    Length,
    Reverse,
    Take,
    Drop,
    Last,
    Head,
    SumList,
    MeanList,
    MaxList,
    Leaves,
    Flatten,
    Maxpool2,
    Fst,
    Snd,
    Elems,
    Leaf,
    Node,
    Grid,
    Tanh,
    Sigmoid,
    Relu,
    Exp,
    Log,
    Sqrt,
    Abs,
    Sign,
    Sin,
    Cos,
    Pow,
    Minimum,
    Maximum,
    SoftThreshold,
    HardThreshold,
    Topk,
    Sum,
    Mean,
    Max,
    Dot,
    Norm,
    Softmax,
    LogSoftmax,
    Concat,
    FloatOf,
    Argmax,
    Score,
    CrossEntropy,
    Mse,
    Bce,
    Zeros,
    Ones,
    StopGradient,
    Normal,
    Uniform,
    Dropout,
    Sample,
    SoftmaxList,
    ArgmaxIndex,
    Symbol,
    Index,
    Raw,
    Cast,
    Transpose,
    Reshape,
    Row,
    At,
    Slice,
    WindowMapSame,
    WindowMap2Same,
    Rose,
    CataRose,
    Nodes,
}

impl Builtin {
    pub const ALL: &'static [Builtin] = &[
        Builtin::Map,
        Builtin::Fold,
        Builtin::Unfold,
        Builtin::MapAccumL,
        Builtin::MapAccumR,
        Builtin::Zip,
        Builtin::ZipWith,
        Builtin::WindowMap,
        Builtin::WindowMap2,
        Builtin::Cata,
        Builtin::Iterate,
        Builtin::Length,
        Builtin::Reverse,
        Builtin::Take,
        Builtin::Drop,
        Builtin::Last,
        Builtin::Head,
        Builtin::SumList,
        Builtin::MeanList,
        Builtin::MaxList,
        Builtin::Leaves,
        Builtin::Flatten,
        Builtin::Maxpool2,
        Builtin::Fst,
        Builtin::Snd,
        Builtin::Elems,
        Builtin::Leaf,
        Builtin::Node,
        Builtin::Grid,
        Builtin::Tanh,
        Builtin::Sigmoid,
        Builtin::Relu,
        Builtin::Exp,
        Builtin::Log,
        Builtin::Sqrt,
        Builtin::Abs,
        Builtin::Sign,
        Builtin::Sin,
        Builtin::Cos,
        Builtin::Pow,
        Builtin::Minimum,
        Builtin::Maximum,
        Builtin::SoftThreshold,
        Builtin::HardThreshold,
        Builtin::Topk,
        Builtin::Sum,
        Builtin::Mean,
        Builtin::Max,
        Builtin::Dot,
        Builtin::Norm,
        Builtin::Softmax,
        Builtin::LogSoftmax,
        Builtin::Concat,
        Builtin::FloatOf,
        Builtin::Argmax,
        Builtin::Score,
        Builtin::CrossEntropy,
        Builtin::Mse,
        Builtin::Bce,
        Builtin::Zeros,
        Builtin::Ones,
        Builtin::StopGradient,
        Builtin::Normal,
        Builtin::Uniform,
        Builtin::Dropout,
        Builtin::Sample,
        Builtin::SoftmaxList,
        Builtin::ArgmaxIndex,
        Builtin::Symbol,
        Builtin::Index,
        Builtin::Raw,
        Builtin::Cast,
        Builtin::Transpose,
        Builtin::Reshape,
        Builtin::Row,
        Builtin::At,
        Builtin::Slice,
        Builtin::WindowMapSame,
        Builtin::WindowMap2Same,
        Builtin::Rose,
        Builtin::CataRose,
        Builtin::Nodes,
    ];

    /// The name a program uses.
    pub fn name(self) -> &'static str {
        use Builtin::*;
        match self {
            Map => "map",
            Fold => "fold",
            Unfold => "unfold",
            MapAccumL => "mapAccumL",
            MapAccumR => "mapAccumR",
            Zip => "zip",
            ZipWith => "zipWith",
            WindowMap => "windowMap",
            WindowMap2 => "windowMap2",
            Cata => "cata",
            Iterate => "iterate",
            Length => "length",
            Reverse => "reverse",
            Take => "take",
            Drop => "drop",
            Last => "last",
            Head => "head",
            SumList => "sumList",
            MeanList => "meanList",
            MaxList => "maxList",
            Leaves => "leaves",
            Flatten => "flatten",
            Maxpool2 => "maxpool2",
            Fst => "fst",
            Snd => "snd",
            Elems => "elems",
            Leaf => "leaf",
            Node => "node",
            Grid => "grid",
            Tanh => "tanh",
            Sigmoid => "sigmoid",
            Relu => "relu",
            Exp => "exp",
            Log => "log",
            Sqrt => "sqrt",
            Abs => "abs",
            Sign => "sign",
            Sin => "sin",
            Cos => "cos",
            Pow => "pow",
            Minimum => "minimum",
            Maximum => "maximum",
            SoftThreshold => "soft_threshold",
            HardThreshold => "hard_threshold",
            Topk => "topk",
            Sum => "sum",
            Mean => "mean",
            Max => "max",
            Dot => "dot",
            Norm => "norm",
            Softmax => "softmax",
            LogSoftmax => "log_softmax",
            Concat => "concat",
            FloatOf => "float",
            Argmax => "argmax",
            Score => "score",
            CrossEntropy => "cross_entropy",
            Mse => "mse",
            Bce => "bce",
            Zeros => "zeros",
            Ones => "ones",
            StopGradient => "stop_gradient",
            Normal => "normal",
            Uniform => "uniform",
            Dropout => "dropout",
            Sample => "sample",
            SoftmaxList => "softmaxList",
            ArgmaxIndex => "argmaxIndex",
            Symbol => "symbol",
            Index => "index",
            Raw => "raw",
            Cast => "cast",
            Transpose => "transpose",
            Reshape => "reshape",
            Row => "row",
            At => "at",
            Slice => "slice",
            WindowMapSame => "windowMapSame",
            WindowMap2Same => "windowMap2Same",
            Rose => "rose",
            CataRose => "cataRose",
            Nodes => "nodes",
        }
    }

    /// An activation a fused step op can apply (`tanh`, `sigmoid`, `relu`).
    pub fn is_fusable_activation(self) -> bool {
        matches!(self, Builtin::Tanh | Builtin::Sigmoid | Builtin::Relu)
    }

    /// A random draw (LANGUAGE.md 11.1): a function of the run's seed,
    /// the epoch, the example's position and the draw's place.
    pub fn draws(self) -> bool {
        matches!(
            self,
            Builtin::Normal | Builtin::Uniform | Builtin::Dropout | Builtin::Sample
        )
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.iter().copied().find(|b| b.name() == name)
    }

    /// How many arguments the builtin takes before it computes.
    pub fn arity(self) -> usize {
        use Builtin::*;
        match self {
            Zeros | Ones | Normal | Uniform => 0,
            Length | Reverse | Last | Head | SumList | MeanList | MaxList | Leaves | Flatten
            | Fst | Snd | Elems | Leaf | Grid | Tanh | Sigmoid | Relu | Exp | Log | Sqrt | Abs
            | Sign | Sin | Cos | Sum | Mean | Max | Norm | Softmax | LogSoftmax | FloatOf
            | Argmax | StopGradient | Sample | SoftmaxList | ArgmaxIndex | Symbol | Index | Raw
            | Cast | Transpose | Reshape | Nodes => 1,
            Map | Zip | WindowMap | WindowMap2 | Take | Drop | Maxpool2 | Node | SoftThreshold
            | HardThreshold | Topk | Dot | Concat | Score | CrossEntropy | Mse | Bce | Dropout
            | Pow | Minimum | Maximum | Row | At | WindowMapSame | WindowMap2Same | Rose
            | CataRose => 2,
            Fold | Unfold | MapAccumL | MapAccumR | ZipWith | Cata | Iterate | Slice => 3,
        }
    }
}
