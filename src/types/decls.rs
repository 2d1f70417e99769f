//! Checking single declarations: a `def` (parameters, result annotation,
//! body, generalisation), a `learn` signature (spec section 7), a `param`
//! type and its initial value.
//!
//! The order in which declarations are checked and how names are
//! registered is `program.rs`'s business, not this module's.

#![allow(clippy::result_large_err)]

use std::rc::Rc;

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::pretty::pretty;
use crate::ir::ty::{Type, TypeTable};
use crate::ir::{self, LearnedKind, Scheme};
use crate::source::Span;
use crate::syntax::ast::{self, TypeExpr, TypeExprKind};
use crate::types::infer::{node, Checker, Env, Origin};
use crate::types::unify::collect_vars;

/// Infers and generalises one def; returns its scheme, its body (a
/// `Lambda` when it has parameters) and its diagnostics.
pub fn check_def(
    env: &mut Env,
    params: &[ast::Param],
    result: &Option<TypeExpr>,
    body: &ast::Expr,
    span: Span,
) -> (Scheme, ir::Expr, Vec<Diagnostic>) {
    let mut c = Checker::new(env);
    let mut bound = Vec::new();
    let mut pats = Vec::new();
    let mut tys = Vec::new();
    for p in params {
        let t = match &p.ty {
            Some(te) => c.resolve_annot(te),
            None => c.fresh(),
        };
        pats.push(c.bind_pattern(&p.pattern, &t, &mut bound));
        tys.push(t);
    }
    let body_ir = match result {
        Some(te) => {
            let t = c.resolve_annot(te);
            c.check(body, &t, Origin::new(te.span, "the declared result type"))
        }
        None => c.infer(body),
    };
    let expr = if params.is_empty() {
        body_ir
    } else {
        let ty = tys
            .into_iter()
            .rev()
            .fold(body_ir.ty.clone(), |acc, a| Type::func(a, acc));
        let lam = ir::Lambda {
            params: pats,
            captures: vec![],
            body: body_ir,
        };
        node(ir::ExprKind::Lambda(Rc::new(lam)), ty, span)
    };
    let (scheme, expr) = c.finish(expr, true);
    (scheme, expr, c.diags)
}

/// Checks a param's initial value against its type. Learned pieces and
/// params may not appear in it (it is evaluated before training).
pub fn check_param_init(env: &mut Env, ty: &Type, init: &ast::Expr) -> (ir::Expr, Vec<Diagnostic>) {
    let mut c = Checker::new(env);
    let e = c.check(init, ty, None);
    let (_, e) = c.finish(e, false);
    let mut diags = c.diags;
    if let Some(span) = find_learned(&e) {
        diags.push(
            Diagnostic::new(
                Code::BadLearnedPiece,
                "a param's initial value must be a constant expression",
            )
            .at(span, "a learned piece or param is used here")
            .note("initial values are computed before training, from literals, builtins and defs"),
        );
    }
    (e, diags)
}

fn find_learned(e: &ir::Expr) -> Option<Span> {
    use ir::ExprKind as K;
    match &e.kind {
        K::Learned(_) | K::Param(_) => Some(e.span),
        K::Lambda(l) => find_learned(&l.body),
        K::App { func, args } => find_learned(func).or_else(|| args.iter().find_map(find_learned)),
        K::Let { value, body, .. } => find_learned(value).or_else(|| find_learned(body)),
        K::If {
            cond,
            then_branch,
            else_branch,
        } => find_learned(cond)
            .or_else(|| find_learned(then_branch))
            .or_else(|| find_learned(else_branch)),
        K::Tuple(xs) | K::List(xs) | K::Prim { args: xs, .. } => xs.iter().find_map(find_learned),
        _ => None,
    }
}

const DOMAIN_NOTE: &str = "the input of `learn f : A -> B` is a representation type (Float, R[..], a rep, Scores v), a tuple of them, a `Window[..] r`, or a vocabulary (an embedding)";
const CODOMAIN_NOTE: &str =
    "the output of `learn f : A -> B` is a representation type, `Scores v`, or a tuple of representation types";

/// Validates `learn name : ty` and computes its kind. `te` is the written
/// type (for spans).
pub fn learned_kind(
    table: &TypeTable,
    ty: &Type,
    te: &TypeExpr,
) -> Result<(Type, Type, LearnedKind), Diagnostic> {
    let (dom_span, cod_span) = match &te.kind {
        TypeExprKind::Func(a, b) => (a.span, b.span),
        _ => (te.span, te.span),
    };
    let Type::Func(a, b) = ty else {
        return Err(Diagnostic::new(
            Code::BadLearnedPiece,
            format!(
                "a learned piece is a function `A -> B`, not `{}`",
                pretty(ty)
            ),
        )
        .at(te.span, "not a function type")
        .note(DOMAIN_NOTE));
    };
    let mut vs = Vec::new();
    collect_vars(ty, &mut vs);
    if !vs.is_empty() {
        return Err(Diagnostic::new(
            Code::BadLearnedPiece,
            "a learned piece needs a concrete type",
        )
        .at(te.span, "this type has type variables"));
    }
    let outputs = codomain_sizes(table, b).map_err(|why| {
        Diagnostic::new(
            Code::BadLearnedPiece,
            format!("`{}` cannot be the output of a learned piece", pretty(b)),
        )
        .at(cod_span, why)
        .note(CODOMAIN_NOTE)
    })?;
    let kind = domain_kind(table, a, b, outputs, dom_span, cod_span)?;
    Ok(((**a).clone(), (**b).clone(), kind))
}

/// The kind of a learned piece from its domain `a` (codomain `b`).
fn domain_kind(
    table: &TypeTable,
    a: &Type,
    b: &Type,
    outputs: Vec<Option<usize>>,
    dom_span: Span,
    cod_span: Span,
) -> Result<LearnedKind, Diagnostic> {
    if let Type::Vocab(v) = a {
        return match (b, table.flat_size(b)) {
            (Type::Tuple(_), _) | (_, None) => Err(Diagnostic::new(
                Code::BadLearnedPiece,
                format!(
                    "an embedding of `{v}` needs a single representation of known size, not `{}`",
                    pretty(b)
                ),
            )
            .at(cod_span, "not a representation of known size")
            .help(format!("e.g. `learn embed : {v} -> R[32]`"))),
            (_, Some(dim)) => Ok(LearnedKind::Embedding {
                vocab: v.clone(),
                dim,
            }),
        };
    }
    if !table.is_representation(a) {
        return Err(Diagnostic::new(
            Code::BadLearnedPiece,
            format!("`{}` cannot be the input of a learned piece", pretty(a)),
        )
        .at(dom_span, "not a representation type or a vocabulary")
        .note(DOMAIN_NOTE)
        .help("map over the structure with a combinator and learn a function of its elements"));
    }
    match table.flat_size(a) {
        Some(input) => Ok(LearnedKind::Affine { input, outputs }),
        None => Err(Diagnostic::new(
            Code::BadLearnedPiece,
            format!(
                "the size of the input `{}` is not known statically",
                pretty(a)
            ),
        )
        .at(dom_span, "size unknown")
        .note("`Scores` of an open vocabulary grows with the data")),
    }
}

fn codomain_sizes(table: &TypeTable, b: &Type) -> Result<Vec<Option<usize>>, String> {
    let parts: Vec<&Type> = match b {
        Type::Tuple(ts) if !ts.is_empty() => ts.iter().collect(),
        t => vec![t],
    };
    let mut out = Vec::new();
    for p in parts {
        if !table.is_representation(p) {
            return Err(format!("`{}` is not a representation type", pretty(p)));
        }
        match (p, table.flat_size(p)) {
            (_, Some(n)) => out.push(Some(n)),
            (Type::Scores(_), None) => out.push(None),
            (_, None) => return Err(format!("the size of `{}` is not known", pretty(p))),
        }
    }
    Ok(out)
}

/// Validates `param p : ty`.
pub fn check_param_type(table: &TypeTable, ty: &Type, span: Span) -> Option<Diagnostic> {
    if table.is_representation(ty) && table.flat_size(ty).is_some() {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::BadLearnedPiece,
            format!(
                "a param is a learned tensor; `{}` is not a representation of known size",
                pretty(ty)
            ),
        )
        .at(span, "not a representation of known size")
        .note("a param's type is Float, R[..], a rep, a closed `Scores v` or a tuple of these"),
    )
}
