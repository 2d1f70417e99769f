//! Lowering: what network a def compiles to. The typed IR is evaluated
//! symbolically (defs and lambdas inlined, function values followed into
//! the combinators that take them) into a graph of tensor ops; each
//! combinator becomes a module holding the small cell graph of its step
//! function: `fold`, `mapAccumL` and `mapAccumR` an RNN over a list,
//! `unfold` a generative RNN, `windowMap` and `windowMap2` a convolution,
//! `cata` a TreeNet, `iterate` unrolled steps with tied weights, `map` and
//! `zipWith` one layer applied at every element; learned pieces become
//! embeddings and affine maps.
//!
//! Entry point: [`lower_def`] (one def) — plain data out ([`Network`]),
//! printed by `print.rs` for `dp lower`. The checker has already proved
//! the program well typed, so lowering cannot fail except where a network
//! would be too large to show (a diagnostic, never a panic).

mod build;
mod fuse;
pub mod gather;
mod graph;
pub mod hoist;
mod print;
#[cfg(test)]
mod tests;

use crate::diagnostic::Diagnostic;
use crate::ir::ty::{Name, Type};
use crate::ir::{Builtin, Expr, Pattern, Program};
use crate::source::Span;
use std::rc::Rc;

pub use graph::{network_dot, network_svg};
pub use print::print_network;

/// Ops one network may hold before lowering stops (inlining a def that
/// calls another twice, at every level, grows exponentially).
pub const MAX_OPS: usize = 20_000;

/// What a def lowers to: its inputs (the parameters of a function, named
/// as in the source), its graph and its type.
#[derive(Clone, Debug)]
pub struct Network {
    pub name: String,
    pub ty: Type,
    /// The type of the body: the result, for a function.
    pub result: Type,
    pub body: Rc<Cell>,
    pub span: Span,
}

/// A graph of tensor ops with named inputs: a def's body, or a module's
/// step function.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub inputs: Vec<Input>,
    /// How the function's arguments fill the inputs: one pattern per
    /// parameter, `Bind(i, _)` naming input `i` (a tuple parameter written
    /// as a tuple pattern fills one input per component).
    pub params: Vec<Pattern>,
    pub nodes: Vec<Node>,
    pub output: Operand,
    /// For each captured input, the operand of the enclosing cell it stands
    /// for: `(outer, input)`.
    pub captured: Vec<(Operand, usize)>,
}

/// An input of a cell: a parameter of its function, or a value of an
/// enclosing cell that the step function captures (`Cell::is_captured`).
#[derive(Clone, Debug)]
pub struct Input {
    pub name: String,
    pub ty: Type,
}

/// What an op reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Operand {
    Input(usize),
    Node(usize),
    /// A literal: as the source writes it, and as an expression.
    Literal(Literal),
    Tuple(Vec<Operand>),
    /// A function value that no module took (printed as such).
    Function(String),
    #[default]
    Unit,
}

/// A literal operand: its text (what `dp lower` prints) and the IR
/// literal the runtime evaluates.
#[derive(Clone, Debug)]
pub struct Literal {
    pub text: String,
    pub expr: Rc<Expr>,
}

impl PartialEq for Literal {
    fn eq(&self, other: &Literal) -> bool {
        self.text == other.text && Rc::ptr_eq(&self.expr, &other.expr)
    }
}

/// How the runtime executes a node (`runtime/network.rs`).
#[derive(Clone, Debug, Default)]
pub enum Exec {
    /// A one-op IR expression whose operands are the locals
    /// `0..args.len()`, bound to the node's operand values (a module's
    /// expression takes its cells at the positions `Module::cell_args`).
    Expr(Rc<Expr>),
    /// Component `i` of the tuple that is the node's one operand.
    Part(usize),
    /// A fused group (`fuse.rs`): the node's expression with the ops it
    /// absorbed written in place, over the locals `0..operands.len()`.
    Fused {
        expr: Rc<Expr>,
        operands: Vec<Operand>,
    },
    /// Run inside the fused group of node `j`, not on its own.
    Absorbed(usize),
    /// A switch module: its `then` cell on the examples whose condition
    /// (the node's one operand) holds, its `else` cell on the others.
    Switch,
    /// Not executable: the application of a function value the lowering
    /// could not follow.
    #[default]
    Opaque,
}

/// One op of a cell: `op args : ty`.
#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub args: Vec<Operand>,
    pub ty: Type,
    pub span: Span,
    /// In an RNN's cell: done before the loop for all elements at once.
    pub hoisted: Hoisted,
    pub exec: Exec,
}

/// Is a node's expression a value the same for every example, that ops
/// may read in place (a `param`, a closed def that is not a function)?
pub fn is_shared(e: &Expr) -> bool {
    matches!(
        e.kind,
        crate::ir::ExprKind::Param(_) | crate::ir::ExprKind::Global { .. }
    ) && !matches!(e.ty, Type::Func(..))
}

impl Node {
    /// An op (not hoisted, not executable until given its
    /// expression with [`Node::exec`]).
    pub fn new(op: Op, args: Vec<Operand>, ty: Type, span: Span) -> Node {
        Node {
            op,
            args,
            ty,
            span,
            hoisted: Hoisted::No,
            exec: Exec::Opaque,
        }
    }

    /// Every operand the node reads: its arguments, and the operands of
    /// this cell that its module's cells capture.
    pub fn reads(&self) -> impl Iterator<Item = &Operand> {
        let captured: &[(String, Rc<Cell>)] = match &self.op {
            Op::Module(m) => &m.cells,
            _ => &[],
        };
        let captured = captured
            .iter()
            .flat_map(|(_, c)| c.captured.iter().map(|(o, _)| o));
        self.args.iter().chain(captured)
    }

    /// Does running the node draw random values (its expression, the defs
    /// it uses, the cells of its module)?
    pub fn draws(&self, program: &Program) -> bool {
        let own = match &self.exec {
            Exec::Expr(e) | Exec::Fused { expr: e, .. } => program.draws_in(e),
            _ => false,
        };
        let inner = match &self.op {
            Op::Module(m) => m.cells.iter().any(|(_, c)| c.draws(program)),
            _ => false,
        };
        own || inner
    }

    /// The node executed as the one-op expression `kind` (typed as the
    /// node, at its span).
    pub fn exec(mut self, kind: crate::ir::ExprKind) -> Node {
        let expr = Expr {
            kind,
            ty: self.ty.clone(),
            span: self.span,
        };
        self.exec = Exec::Expr(Rc::new(expr));
        self
    }
}

/// What of an op of an RNN cell is done before the loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Hoisted {
    /// Nothing: it depends on the state.
    #[default]
    No,
    /// All of it: it depends only on the element (and fixed values).
    Whole,
    /// An affine map over (state, element) parts: the element half.
    Split,
    /// An activation of a split affine map with one state part: one op
    /// with its product at every step.
    Fused,
}

#[derive(Clone, Debug)]
pub enum Op {
    /// A learned embedding table: one row per symbol of `vocab`.
    Embedding {
        piece: String,
        vocab: Name,
        dim: usize,
    },
    /// A learned affine map `W x + b` from `input` reals to `outputs`
    /// (several for a tuple codomain; `None` for `Scores` of an open
    /// vocabulary).
    Affine {
        piece: String,
        input: usize,
        outputs: Vec<Option<usize>>,
    },
    /// A learned `param`, read.
    Param { name: String, size: Option<usize> },
    /// A builtin or operator (`tanh`, `+`, `@`, `cross_entropy`, ...).
    Prim(String),
    /// A combinator lowered to a network module.
    Module(Box<Module>),
}

/// A network module: a combinator and the cells it runs.
#[derive(Clone, Debug)]
pub struct Module {
    pub kind: ModuleKind,
    /// The combinator (none for a switch).
    pub combinator: Option<Builtin>,
    /// The step function's name in the source (a def), or `\` for a lambda.
    pub function: String,
    /// `cell`, or `leaf` and `node` for a TreeNet.
    pub cells: Vec<(String, Rc<Cell>)>,
    /// The positions among the combinator's arguments that its cells take,
    /// in the order of `cells` (the node's operands fill the others).
    pub cell_args: Vec<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleKind {
    /// `fold`, `mapAccumL`, `mapAccumR`.
    Rnn,
    /// `unfold`.
    GenerativeRnn,
    /// `windowMap` (1) and `windowMap2` (2).
    Conv(usize),
    /// `cata`, `cataRose`.
    TreeNet,
    /// `iterate`.
    Unrolled,
    /// `map`, `zipWith`.
    Layer,
    /// `if` (and `&&`, `||`) whose branches hold ops: each branch a cell,
    /// run only on the examples that take it.
    Switch,
}

impl ModuleKind {
    pub fn of(b: Builtin) -> Option<ModuleKind> {
        Some(match b {
            Builtin::Fold | Builtin::MapAccumL | Builtin::MapAccumR => ModuleKind::Rnn,
            Builtin::Unfold => ModuleKind::GenerativeRnn,
            Builtin::WindowMap | Builtin::WindowMapSame => ModuleKind::Conv(1),
            Builtin::WindowMap2 | Builtin::WindowMap2Same => ModuleKind::Conv(2),
            Builtin::Cata | Builtin::CataRose => ModuleKind::TreeNet,
            Builtin::Iterate => ModuleKind::Unrolled,
            Builtin::Map | Builtin::ZipWith => ModuleKind::Layer,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ModuleKind::Rnn => "rnn",
            ModuleKind::GenerativeRnn => "generative rnn",
            ModuleKind::Conv(1) => "conv1d",
            ModuleKind::Conv(_) => "conv2d",
            ModuleKind::TreeNet => "treenet",
            ModuleKind::Unrolled => "unrolled",
            ModuleKind::Layer => "layer",
            ModuleKind::Switch => "if",
        }
    }
}

/// Lower the global def `name` (a def of the program, with its declared or
/// inferred type; a polymorphic def's type variables are shown as `Float`).
pub fn lower_def(program: &Program, name: &str) -> Result<Network, Diagnostic> {
    build::lower_def(program, name)
}

/// `dp lower`'s text: the network of `def`, or of every def of the root
/// module in source order (separated by blank lines).
pub fn print_defs(
    compiled: &crate::driver::Compiled,
    def: Option<&str>,
) -> Result<String, Diagnostic> {
    let names = match def {
        Some(d) => vec![d.to_string()],
        None => compiled.root_defs(),
    };
    let mut out = String::new();
    for (i, name) in names.iter().enumerate() {
        let net = lower_def(&compiled.program, name)?;
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&print_network(&compiled.program, &net));
    }
    Ok(out)
}

/// What `dp graph` draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Svg,
    Dot,
}

/// `dp graph`'s picture of one def: `def`, or else `loss`, `main` or the
/// last def of the root module.
pub fn graph_def(
    compiled: &crate::driver::Compiled,
    def: Option<&str>,
    format: GraphFormat,
) -> Result<String, Diagnostic> {
    let defs = compiled.root_defs();
    let name = match def {
        Some(d) => d.to_string(),
        None => ["loss", "main"]
            .iter()
            .find(|n| defs.iter().any(|d| d == *n))
            .map(|n| n.to_string())
            .or_else(|| defs.last().cloned())
            .ok_or_else(|| {
                Diagnostic::new(
                    crate::diagnostic::Code::UnknownName,
                    "the program has no def to draw",
                )
            })?,
    };
    let net = lower_def(&compiled.program, &name)?;
    match format {
        GraphFormat::Dot => Ok(network_dot(&compiled.program, &net)),
        GraphFormat::Svg => network_svg(&compiled.program, &net).map_err(|e| {
            Diagnostic::new(
                crate::diagnostic::Code::RuntimeError,
                format!("internal error drawing the network of `{name}`: {e}"),
            )
        }),
    }
}

impl Op {
    /// The op a learned piece lowers to: an embedding or an affine map.
    pub fn of_piece(piece: &crate::ir::LearnedPiece) -> Op {
        match &piece.kind {
            crate::ir::LearnedKind::Embedding { vocab, dim } => Op::Embedding {
                piece: piece.name.clone(),
                vocab: vocab.clone(),
                dim: *dim,
            },
            crate::ir::LearnedKind::Affine { input, outputs } => Op::Affine {
                piece: piece.name.clone(),
                input: *input,
                outputs: outputs.clone(),
            },
        }
    }
}

impl Cell {
    /// Does running the cell draw random values?
    pub fn draws(&self, program: &Program) -> bool {
        self.nodes.iter().any(|n| n.draws(program))
    }

    /// Does input `i` stand for a value of the enclosing cell?
    /// Calls `f` on every operand read (tuples taken apart): by the ops
    /// (and the cells of their modules, which capture it), and by the
    /// output. A value read twice is seen twice.
    pub fn each_read(&self, mut f: impl FnMut(&Operand)) {
        let mut stack: Vec<&Operand> = self.nodes.iter().flat_map(Node::reads).collect();
        stack.push(&self.output);
        while let Some(o) = stack.pop() {
            match o {
                Operand::Tuple(ps) => stack.extend(ps),
                o => f(o),
            }
        }
    }

    pub fn is_captured(&self, i: usize) -> bool {
        self.captured.iter().any(|(_, j)| *j == i)
    }

    /// Can the runtime run this cell (and its modules' cells) as a network:
    /// does it never apply a function value the lowering could not follow?
    pub fn executable(&self) -> bool {
        fn is_value(o: &Operand) -> bool {
            match o {
                Operand::Function(_) => false,
                Operand::Tuple(parts) => parts.iter().all(is_value),
                _ => true,
            }
        }
        let nodes_run = self.nodes.iter().all(|n| {
            let cells_run = match &n.op {
                Op::Module(m) => m.cells.iter().all(|(_, c)| c.executable()),
                _ => true,
            };
            !matches!(n.exec, Exec::Opaque) && n.args.iter().all(is_value) && cells_run
        });
        nodes_run && is_value(&self.output) && self.captured.iter().all(|(o, _)| is_value(o))
    }

    /// The number of ops, modules' cells included.
    pub fn size(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                Op::Module(m) => 1 + m.cells.iter().map(|(_, c)| c.size()).sum::<usize>(),
                _ => 1,
            })
            .sum()
    }
}
