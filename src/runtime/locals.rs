//! Locals: closures over the current batch, binding patterns, and the
//! free locals of an expression (what an `if` branch gathers to its
//! sub-batch).

use std::collections::HashSet;
use std::rc::Rc;

use crate::diagnostic::Diagnostic;
use crate::ir::{self, Expr, ExprKind, LocalId, Pattern};
use crate::source::Span;

use super::eval::Env;
use super::layout::internal;
use super::value::{Func, Value};

/// A lambda as a closure over the current batch.
pub(crate) fn closure(env: &Env, lambda: &Rc<ir::Lambda>, span: Span) -> Result<Value, Diagnostic> {
    let captured = lambda
        .captures
        .iter()
        .map(|id| {
            env.vars
                .get(id)
                .cloned()
                .ok_or_else(|| internal(span, format!("captured local {id} is unbound")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Value::func(Func::Closure {
        lambda: lambda.clone(),
        captured,
        subst: env.subst.clone(),
        origin: env.origin.clone(),
    }))
}

/// Bind a pattern to a value in `env`.
pub(crate) fn bind(p: &Pattern, v: Value, env: &mut Env, span: Span) -> Result<(), Diagnostic> {
    match p {
        Pattern::Bind(id, _) => {
            env.vars.insert(*id, v);
            Ok(())
        }
        Pattern::Wildcard => Ok(()),
        Pattern::Tuple(ps) if ps.is_empty() => Ok(()),
        Pattern::Tuple(ps) => match v {
            Value::Tuple(vs) if vs.len() == ps.len() => {
                for (p, v) in ps.iter().zip(vs.iter()) {
                    bind(p, v.clone(), env, span)?;
                }
                Ok(())
            }
            _ => Err(internal(
                span,
                "a tuple pattern against a value that is not such a tuple",
            )),
        },
    }
}

/// Locals used (including lambda captures) and bound (by `let` and lambda
/// parameters) anywhere in `e`, not entering lambda bodies.
pub(crate) fn collect_locals(e: &Expr, used: &mut HashSet<LocalId>, bound: &mut HashSet<LocalId>) {
    match &e.kind {
        ExprKind::Local(id) => {
            used.insert(*id);
        }
        ExprKind::Lambda(l) => used.extend(l.captures.iter().copied()),
        ExprKind::App { func, args } => {
            collect_locals(func, used, bound);
            args.iter().for_each(|a| collect_locals(a, used, bound));
        }
        ExprKind::Let {
            pattern,
            value,
            body,
        } => {
            pattern_binds(pattern, bound);
            collect_locals(value, used, bound);
            collect_locals(body, used, bound);
        }
        ExprKind::If {
            cond,
            then_branch,
            else_branch,
        } => {
            collect_locals(cond, used, bound);
            collect_locals(then_branch, used, bound);
            collect_locals(else_branch, used, bound);
        }
        ExprKind::Tuple(es) | ExprKind::List(es) | ExprKind::Prim { args: es, .. } => {
            es.iter().for_each(|a| collect_locals(a, used, bound))
        }
        ExprKind::Global { .. }
        | ExprKind::Learned(_)
        | ExprKind::Param(_)
        | ExprKind::Builtin(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Symbol { .. }
        | ExprKind::TensorLit { .. } => {}
    }
}

fn pattern_binds(p: &Pattern, bound: &mut HashSet<LocalId>) {
    match p {
        Pattern::Bind(id, _) => {
            bound.insert(*id);
        }
        Pattern::Wildcard => {}
        Pattern::Tuple(ps) => ps.iter().for_each(|p| pattern_binds(p, bound)),
    }
}
