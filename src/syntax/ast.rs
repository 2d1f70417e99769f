//! The surface syntax tree produced by the parser.
//!
//! Plain data: every node carries the [`Span`] of the text it came from.
//! Names are not resolved here and nothing is typed; the checker in
//! `types/` turns this into the typed core of `ir.rs`. Sugar that is purely
//! syntactic (`x |> f`, operator sections) is kept as written so diagnostics
//! can point at it.

use crate::source::Span;

/// One parsed source file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub decls: Vec<Decl>,
}

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub kind: DeclKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DeclKind {
    /// `import nn` (stdlib module) or `import "lib/cells.dp"` (a file).
    Import(ImportTarget),
    /// `rep Hidden = R[128]`
    Rep { name: Ident, ty: TypeExpr },
    /// `type Sentence = List Word`
    TypeAlias { name: Ident, ty: TypeExpr },
    /// `vocab Word` (open, `symbols == None`) or `vocab Label = ["neg", "pos"]`.
    Vocab {
        name: Ident,
        symbols: Option<Vec<(String, Span)>>,
    },
    /// `learn cell : (Hidden, WordVec) -> Hidden`, optionally `bias = e`
    /// (its bias's initial value, spec 11.3); `learn f : [n] (A -> B)` is a
    /// family of n pieces (`family` = n and its span).
    Learn {
        name: Ident,
        family: Option<(i64, Span)>,
        ty: TypeExpr,
        bias: Option<Expr>,
    },
    /// `param theta : Code` or `param scale : Float = 1.0`
    Param {
        name: Ident,
        ty: TypeExpr,
        init: Option<Expr>,
    },
    /// `objective disc = d_loss updates d_hidden, d_out` (spec 11.2)
    Objective {
        name: Ident,
        def: Ident,
        pieces: Vec<Ident>,
    },
    /// `def name p1 p2 ... (: T)? = e`
    Def {
        name: Ident,
        params: Vec<Param>,
        result: Option<TypeExpr>,
        body: Expr,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImportTarget {
    /// A bundled stdlib module, by name.
    Module(Ident),
    /// A file path relative to the importing file (the string's contents).
    File(String, Span),
}

/// A parameter of a `def`: a pattern, optionally annotated `(p : T)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub pattern: Pattern,
    pub ty: Option<TypeExpr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    Var(String),
    Wildcard,
    Tuple(Vec<Pattern>),
    /// `(p : T)` inside a pattern (also how `def f (x : T)` is written).
    Annotated(Box<Pattern>, TypeExpr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// An upper-case name applied to arguments: `Float`, `Hidden`,
    /// `List Word`, `Scores Label`, `Tree (List Word)`. Which names are
    /// builtin type constructors is decided by the checker, not the parser.
    Con(Ident, Vec<TypeExpr>),
    /// A lower-case type variable `a`.
    Var(String),
    /// `R[n1, ..., nk]` (k >= 1); each dimension with its span.
    Tensor(Vec<(i64, Span)>),
    /// `Window[k] t` or `Window[kh, kw] t`.
    Window(Vec<(i64, Span)>, Box<TypeExpr>),
    /// `(t1, t2, ...)` with at least two elements; `()` is the unit type.
    Tuple(Vec<TypeExpr>),
    /// `t1 -> t2`
    Func(Box<TypeExpr>, Box<TypeExpr>),
    /// Placeholder left by error recovery.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A lower-case name (variable, def, learned piece, builtin).
    Var(String),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    /// `f x` (binary application; `f x y` is `App(App(f, x), y)`).
    App(Box<Expr>, Box<Expr>),
    /// `\p1 p2 -> e`
    Lambda(Vec<Pattern>, Box<Expr>),
    /// `let p = e1 in e2`
    Let(Pattern, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `(a, b, ...)`, at least two elements; `()` is the unit value (empty vec).
    Tuple(Vec<Expr>),
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `(e : T)`
    Annot(Box<Expr>, TypeExpr),
    /// `a op b`, including `|>`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `-e`
    Neg(Box<Expr>),
    /// Placeholder left by error recovery.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Pipe,
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Append,
    Add,
    Sub,
    Mul,
    Div,
    /// `%`: Int floored modulo (spec 11.4).
    Mod,
    MatMul,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Pipe => "|>",
            Or => "||",
            And => "&&",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Append => "++",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            MatMul => "@",
        }
    }
}
