//! Tests of the batched evaluator: hand-built IR (`tests/ir.rs`), golden
//! values of every builtin and combinator from dp source
//! (`tests/source.rs`), batched-versus-per-example equality
//! (`tests/batched.rs`) and gradients through the evaluator
//! (`tests/grads.rs`). This file holds the shared helpers.

mod batch_ops;
mod batched;
mod grads;
mod ir;
mod source;

use std::rc::Rc;

use crate::codec::Printed;

use crate::backend::Graph;
use crate::ir::ty::Type;
use crate::ir::{Builtin, Expr, ExprKind, Lambda, LocalId, Pattern, PrimOp, Program};
use crate::source::Span;

use super::eval::Context;
use super::value::Value;
use super::vocab::Vocabularies;
use super::weights::Weights;

/// A JSON value printed compactly with every number rounded to 4 places.
pub fn round4(j: &Printed) -> String {
    match j {
        Printed::Real(x) if x.is_finite() => {
            // From the shortest decimal of the f32, as it prints.
            let x: f64 = format!("{x}").parse().unwrap_or(f64::NAN);
            let r = (x * 1e4).round() / 1e4;
            if r == 0.0 {
                "0".to_string()
            } else {
                format!("{r}")
            }
        }
        Printed::List(xs) => format!("[{}]", xs.iter().map(round4).collect::<Vec<_>>().join(", ")),
        Printed::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k:?}: {}", round4(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_json_text(),
    }
}

/// Every example of `v` (of type `ty`) printed with [`round4`].
pub fn show_all(
    graph: &Graph,
    program: &Program,
    vocabs: &Vocabularies,
    v: &Value,
    ty: &Type,
) -> Vec<String> {
    match crate::codec::encode(graph, v, ty, &program.types, vocabs) {
        Ok(rows) => rows.iter().map(round4).collect(),
        Err(e) => vec![format!("<{e}>")],
    }
}

// ---- hand-built IR ----

pub fn ex(kind: ExprKind, ty: Type) -> Expr {
    Expr {
        kind,
        ty,
        span: Span::default(),
    }
}

pub fn float(x: f64) -> Expr {
    ex(ExprKind::Float(x), Type::Float)
}

pub fn int(n: i64) -> Expr {
    ex(ExprKind::Int(n), Type::Int)
}

pub fn local(id: LocalId, ty: Type) -> Expr {
    ex(ExprKind::Local(id), ty)
}

pub fn builtin(b: Builtin, ty: Type) -> Expr {
    ex(ExprKind::Builtin(b), ty)
}

/// `f a1 a2 ...`, with the result type computed from `f`'s type.
pub fn app(f: Expr, args: Vec<Expr>) -> Expr {
    let mut ty = f.ty.clone();
    for _ in &args {
        if let Type::Func(_, b) = ty {
            ty = *b;
        }
    }
    ex(
        ExprKind::App {
            func: Box::new(f),
            args,
        },
        ty,
    )
}

pub fn prim(op: PrimOp, args: Vec<Expr>, ty: Type) -> Expr {
    ex(ExprKind::Prim { op, args }, ty)
}

/// `\p1 p2 ... -> body` with simple parameters `(id, type)`.
pub fn lam(params: Vec<(LocalId, Type)>, captures: Vec<LocalId>, body: Expr) -> Expr {
    let mut ty = body.ty.clone();
    for (_, t) in params.iter().rev() {
        ty = Type::func(t.clone(), ty);
    }
    let lambda = Lambda {
        params: params
            .iter()
            .map(|(id, _)| Pattern::Bind(*id, Rc::from(format!("x{id}"))))
            .collect(),
        captures,
        body,
    };
    ex(ExprKind::Lambda(Rc::new(lambda)), ty)
}

pub fn list(elems: Vec<Expr>, elem: Type) -> Expr {
    ex(ExprKind::List(elems), Type::list(elem))
}

pub fn fun(args: &[Type], ret: Type) -> Type {
    args.iter()
        .rev()
        .fold(ret, |acc, a| Type::func(a.clone(), acc))
}

/// Runs `f` with a context over `program` with no vocabularies or weights.
pub fn with_ctx<T>(program: &Program, f: impl FnOnce(&Context, &mut Graph) -> T) -> T {
    let vocabs = Vocabularies::from_types(&program.types);
    let weights = Weights::default();
    let ctx = Context::new(program, &vocabs, &weights);
    let mut graph = Graph::inference();
    f(&ctx, &mut graph)
}

// ---- from dp source ----

/// A checked program; panics with the rendered diagnostics if it fails.
pub fn compile(src: &str) -> crate::driver::Compiled {
    match crate::driver::compile_source("test.dp", src) {
        Ok(c) => c,
        Err((sources, diags)) => panic!("{}", crate::diagnostic::render(&diags, &sources, false)),
    }
}

/// Fresh run-time vocabularies and weights (seed 0) of a program.
pub fn fresh(program: &Program) -> (Vocabularies, Weights) {
    let vocabs = Vocabularies::from_types(&program.types);
    let weights = super::weights::initialise(program, &vocabs, &Graph::inference(), 0);
    (vocabs, weights)
}

/// Check and evaluate `expr` in the scope of program `src` (batch of one);
/// the value printed with [`round4`], or `error: message [notes]`.
pub fn run(src: &str, expr: &str) -> String {
    let mut c = compile(src);
    let (vocabs, weights) = fresh(&c.program);
    eval_str(&mut c, &vocabs, &weights, expr)
}

pub fn eval_str(
    c: &mut crate::driver::Compiled,
    vocabs: &Vocabularies,
    weights: &Weights,
    expr: &str,
) -> String {
    let id = c.sources.add("<eval>", expr);
    let (e, diags) = crate::syntax::parse_expr(id, expr);
    let Some(e) = e.filter(|_| diags.is_empty()) else {
        return crate::diagnostic::render(&diags, &c.sources, false);
    };
    let typed = match crate::types::check_expr(&c.program, &e) {
        Ok(t) => t,
        Err(d) => return crate::diagnostic::render(&d, &c.sources, false),
    };
    let ctx = Context::new(&c.program, vocabs, weights);
    let mut graph = Graph::inference();
    match super::eval::eval_closed(&ctx, &mut graph, &typed, 1) {
        Ok(v) => show_all(&graph, &c.program, vocabs, &v, &typed.ty).join(" | "),
        Err(d) => error_text(&d),
    }
}

/// `error: message [note; note]`.
pub fn error_text(d: &crate::diagnostic::Diagnostic) -> String {
    if d.notes.is_empty() {
        format!("error: {}", d.message)
    } else {
        format!("error: {} [{}]", d.message, d.notes.join("; "))
    }
}
