//! Families of learned pieces (spec 11.3): `learn f : [n] (A -> B)` is n
//! independent pieces `f.0` ... `f.{n-1}` of one type, and `f` is the
//! list of them. Expanded before checking into n `learn` declarations and
//! `def f : List (A -> B) = [f.0, ..., f.{n-1}]`, so every later stage
//! (checker, runtime, weights, `dp lower`) sees plain pieces and a def;
//! the weights are `f.0.weight`, `f.0.bias`, ... A member's name holds a
//! `.`, so no source name can refer to one or collide with one.

use std::collections::HashSet;

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::GlobalRef;
use crate::source::Span;
use crate::syntax::ast::{self, DeclKind, Expr, ExprKind, Ident, TypeExpr, TypeExprKind};

/// The most members a family may have (each is a separate affine map).
pub const MAX_MEMBERS: i64 = 1024;

/// `decls` with every family expanded in place; the spans of the families'
/// declarations (a diagnostic about one member is not repeated for the
/// others, see [`dedupe`]).
pub fn expand(decls: &[&ast::Decl], diags: &mut Vec<Diagnostic>) -> (Vec<ast::Decl>, Vec<Span>) {
    let mut out = Vec::with_capacity(decls.len());
    let mut spans = Vec::new();
    for d in decls {
        let DeclKind::Learn {
            name,
            family: Some((n, n_span)),
            ty,
            bias,
        } = &d.kind
        else {
            out.push((*d).clone());
            continue;
        };
        if !(1..=MAX_MEMBERS).contains(n) {
            diags.push(
                Diagnostic::new(
                    Code::BadLearnedPiece,
                    format!("a family of learned pieces has 1 to {MAX_MEMBERS} members, not {n}"),
                )
                .at(*n_span, "the number of members"),
            );
        }
        let count = (*n).clamp(1, MAX_MEMBERS) as usize;
        spans.push(d.span);
        let member = |i: usize| Ident {
            name: member_name(&name.name, i),
            span: name.span,
        };
        for i in 0..count {
            let kind = DeclKind::Learn {
                name: member(i),
                family: None,
                ty: ty.clone(),
                bias: bias.clone(),
            };
            out.push(ast::Decl { kind, span: d.span });
        }
        out.push(list_def(name, ty, (0..count).map(member), d.span));
    }
    (out, spans)
}

/// `def f : List (A -> B) = [f.0, ...]`.
fn list_def(
    name: &Ident,
    ty: &TypeExpr,
    members: impl Iterator<Item = Ident>,
    span: Span,
) -> ast::Decl {
    let list = Ident {
        name: "List".to_string(),
        span: ty.span,
    };
    let result = TypeExpr {
        kind: TypeExprKind::Con(list, vec![ty.clone()]),
        span: ty.span,
    };
    let items = members
        .map(|m| Expr {
            kind: ExprKind::Var(m.name),
            span: m.span,
        })
        .collect();
    let kind = DeclKind::Def {
        name: name.clone(),
        params: Vec::new(),
        result: Some(result),
        body: Expr {
            kind: ExprKind::List(items),
            span: name.span,
        },
    };
    ast::Decl { kind, span }
}

/// The name of member `i` of family `family`.
pub fn member_name(family: &str, i: usize) -> String {
    format!("{family}.{i}")
}

/// The members of `name` if it names a family (in `globals`: its members
/// `name.0`, `name.1`, ... are learned pieces).
pub fn members(
    globals: &std::collections::HashMap<String, GlobalRef>,
    name: &str,
) -> Option<Vec<GlobalRef>> {
    let mut out = Vec::new();
    while let Some(r @ GlobalRef::Learned(_)) = globals.get(&member_name(name, out.len())) {
        out.push(*r);
    }
    (!out.is_empty()).then_some(out)
}

/// Drops a diagnostic inside a family's declaration that repeats an
/// earlier one's code and place (one per member otherwise).
pub fn dedupe(diags: &mut Vec<Diagnostic>, families: &[Span]) {
    if families.is_empty() {
        return;
    }
    let mut seen = HashSet::new();
    diags.retain(|d| {
        let Some(at) = d.primary.as_ref().map(|l| l.span) else {
            return true;
        };
        let inside = families
            .iter()
            .any(|f| f.source == at.source && f.start <= at.start && at.end <= f.end);
        !inside || seen.insert((d.code, at.source, at.start, at.end))
    });
}
