//! A guard on lambda nesting.
//!
//! Each nested lambda adds a parameter to the type of every expression
//! around it, so the types of n nested lambdas hold O(n²) nodes in all.
//! Beyond [`MAX_LAMBDA_DEPTH`] parameters deep, the parser reports
//! `TooDeep` instead of handing such a tree to the checker. Bracket depth
//! is guarded separately (`parser::MAX_DEPTH`). The walk is iterative.

use crate::source::Span;
use crate::syntax::ast::{DeclKind, Expr, ExprKind};

/// Most lambda parameters in scope at once (nested lambdas and `def` parameters).
pub const MAX_LAMBDA_DEPTH: usize = 2_000;

/// The span of the first lambda nested deeper than the limit, if any.
pub fn too_many_nested_lambdas<'e>(roots: impl Iterator<Item = (&'e Expr, usize)>) -> Option<Span> {
    let mut stack: Vec<(&Expr, usize)> = roots.collect();
    while let Some((e, depth)) = stack.pop() {
        match &e.kind {
            ExprKind::Lambda(ps, body) => {
                let inner = depth + ps.len();
                if inner > MAX_LAMBDA_DEPTH {
                    return Some(e.span);
                }
                stack.push((body, inner));
            }
            ExprKind::App(a, b) | ExprKind::Binary(_, a, b) | ExprKind::Let(_, a, b) => {
                stack.push((a, depth));
                stack.push((b, depth));
            }
            ExprKind::If(c, a, b) => {
                stack.push((c, depth));
                stack.push((a, depth));
                stack.push((b, depth));
            }
            ExprKind::Tuple(es) | ExprKind::List(es) => stack.extend(es.iter().map(|x| (x, depth))),
            ExprKind::Annot(x, _) | ExprKind::Neg(x) => stack.push((x, depth)),
            _ => {}
        }
    }
    None
}

/// The expressions of declarations, with the parameters already in scope.
pub fn decl_roots(decls: &[crate::syntax::ast::Decl]) -> impl Iterator<Item = (&Expr, usize)> {
    decls.iter().filter_map(|d| match &d.kind {
        DeclKind::Def { params, body, .. } => Some((body, params.len())),
        DeclKind::Param { init: Some(e), .. } => Some((e, 0)),
        _ => None,
    })
}
