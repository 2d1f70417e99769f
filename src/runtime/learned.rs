//! Applying learned pieces (`learn f : A -> B`) to a batch.
//!
//! An affine piece packs its argument into one `[B, in]` tensor (a tuple
//! domain is concatenated, a window is already flat), computes `x W^T + b`
//! with one matmul, and splits a tuple codomain by the piece's output sizes.
//! An embedding gathers rows of its table by symbol index. Weights are read
//! from the context; this file neither creates nor trains them.

use crate::backend::Activation;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::ty::Type;
use crate::ir::{Expr, ExprKind, LearnedId};
use crate::source::Span;

use super::eval::{Env, Eval};
use super::layout::{internal, pack, unpack};
use super::value::Value;
use super::weights::LearnedWeights;

pub(crate) fn apply_learned(
    ev: &mut Eval,
    id: LearnedId,
    x: &Value,
    span: Span,
) -> Result<Value, Diagnostic> {
    let ctx = ev.ctx;
    let (Some(piece), Some(w)) = (ctx.program.learned.get(id), ctx.weights.learned.get(id)) else {
        return Err(internal(span, format!("no weights for learned piece {id}")));
    };
    match w {
        LearnedWeights::Affine {
            weight,
            bias,
            outputs,
        } => {
            let watched;
            let x = match ctx.probe {
                Some(probe) => {
                    watched = probe.borrow_mut().watch(ev.graph, &piece.domain, x);
                    &watched
                }
                None => x,
            };
            let input = pack(ev.graph, x, span)?;
            if input.cols() != weight.cols() {
                return Err(bad_weights(&piece.name, input.cols(), weight.cols(), span));
            }
            let y = ev.graph.affine(&input, weight, bias);
            split_outputs(ev, &piece.codomain, outputs, y, span)
        }
        LearnedWeights::Embedding { table } => {
            let Value::Sym(syms) = x else {
                return Err(internal(span, "an embedding applied to a non-symbol"));
            };
            let rows = table.rows();
            let mut idx = Vec::with_capacity(syms.len());
            for &s in syms.iter() {
                if s as usize >= rows {
                    return Err(bad_weights(&piece.name, s as usize + 1, rows, span));
                }
                idx.push(s as usize);
            }
            Ok(Value::Real(super::batch::gather_real(
                ev.graph, table, &idx,
            )))
        }
    }
}

/// `act (f x)` for an affine piece `f` with one output and an activation
/// a fused op applies (`tanh`, `sigmoid`, `relu`): the product, the bias
/// and the activation as one op forward and one backward
/// (`Graph::addmm_act` with the bias as the added rows). `None` for any
/// other expression (and inside a hoisted step, whose plan decides).
pub(crate) fn affine_activation(
    ev: &mut Eval,
    env: &mut Env,
    e: &Expr,
) -> Option<Result<Value, Diagnostic>> {
    if env.hoisted.is_some() || !super::chains::enabled() {
        return None;
    }
    let ExprKind::App { func, args } = &e.kind else {
        return None;
    };
    let ExprKind::Builtin(b) = func.kind else {
        return None;
    };
    let act = Activation::of(super::builtins::unary_of(b)).filter(|_| b.is_fusable_activation())?;
    let [inner] = args.as_slice() else {
        return None;
    };
    let ExprKind::App { func, args } = &inner.kind else {
        return None;
    };
    let (ExprKind::Learned(id), [arg]) = (&func.kind, args.as_slice()) else {
        return None;
    };
    let ctx = ev.ctx;
    let piece = ctx.program.learned.get(*id)?;
    let Some(LearnedWeights::Affine {
        weight,
        bias,
        outputs,
    }) = ctx.weights.learned.get(*id)
    else {
        return None;
    };
    if outputs.len() != 1 || matches!(piece.codomain, Type::Tuple(_)) {
        return None;
    }
    let mut run = |ev: &mut Eval| {
        let x = ev.eval(env, arg)?;
        let input = pack(ev.graph, &x, inner.span)?;
        if input.cols() != weight.cols() {
            return Err(bad_weights(
                &piece.name,
                input.cols(),
                weight.cols(),
                inner.span,
            ));
        }
        let rows = vec![0; input.rows()];
        super::chains::count_fused();
        let y = ev.graph.addmm_act(bias, Some(&rows), &input, weight, act);
        unpack(ctx, ev.graph, &y, &piece.codomain, e.span)
    };
    Some(run(ev))
}

/// The value of affine piece `id` from its pre-split output `y` (`x W^T +
/// b`): a tuple codomain split by the piece's output sizes.
pub(crate) fn affine_output(
    ev: &mut Eval,
    id: LearnedId,
    y: crate::backend::Real,
    span: Span,
) -> Result<Value, Diagnostic> {
    let ctx = ev.ctx;
    match (ctx.program.learned.get(id), ctx.weights.learned.get(id)) {
        (Some(piece), Some(LearnedWeights::Affine { outputs, .. })) => {
            split_outputs(ev, &piece.codomain, outputs, y, span)
        }
        _ => Err(internal(
            span,
            format!("no affine weights for learned piece {id}"),
        )),
    }
}

fn split_outputs(
    ev: &mut Eval,
    codomain: &Type,
    outputs: &[usize],
    y: crate::backend::Real,
    span: Span,
) -> Result<Value, Diagnostic> {
    let ctx = ev.ctx;
    match codomain {
        Type::Tuple(parts) if parts.len() == outputs.len() && !parts.is_empty() => {
            let mut start = 0;
            let mut vals = Vec::with_capacity(parts.len());
            for (t, &n) in parts.iter().zip(outputs.iter()) {
                let piece_y = ev.graph.slice_cols(&y, start, start + n);
                vals.push(unpack(ctx, ev.graph, &piece_y, t, span)?);
                start += n;
            }
            Ok(Value::tuple(vals))
        }
        t => unpack(ctx, ev.graph, &y, t, span),
    }
}

fn bad_weights(name: &str, need: usize, have: usize, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::BadWeights,
        format!("the weights of `{name}` do not fit its use: {need} needed, {have} present"),
    )
    .at(span, "applied here")
}
