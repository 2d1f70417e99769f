//! Applying learned pieces (`learn f : A -> B`) to a batch.
//!
//! An affine piece packs its argument into one `[B, in]` tensor (a tuple
//! domain is concatenated, a window is already flat), computes `x W^T + b`
//! with one matmul, and splits a tuple codomain by the piece's output sizes.
//! An embedding gathers rows of its table by symbol index. Weights are read
//! from the context; this file neither creates nor trains them.

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::ty::Type;
use crate::ir::LearnedId;
use crate::source::Span;

use super::eval::Eval;
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
