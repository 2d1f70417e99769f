//! Builtins of spec section 6: dispatch by name, and the elementwise,
//! reduction, vocabulary and loss builtins on representation values.
//!
//! Combinators over lists (`map`, `fold`, `mapAccumL/R`, `unfold`, `zip`,
//! `zipWith`, `iterate`) are in `combinators.rs`; windows and grids
//! (`windowMap`, `windowMap2`, `maxpool2`, `elems`) in `windows.rs`; trees
//! (`cata`, `leaves`, `leaf`, `node`) in `trees.rs`, rose trees (`rose`,
//! `cataRose`, `nodes`) in `roses.rs`; list structure helpers
//! in `lists.rs`. Every builtin here works on the whole batch with tensor
//! ops; host-side work is limited to building constant masks and reading
//! discrete results (`argmax`).

use std::rc::Rc;

use crate::backend::{Binary, Reduce, Unary};
use crate::diagnostic::Diagnostic;
use crate::ir::ty::Type;
use crate::ir::Builtin;
use crate::source::Span;

use super::eval::Eval;
use super::layout::{self, internal, pack, unpack};
use super::prims::{map_reals, zip_reals};
use super::value::{Origin, Value};
use super::{combinators, lists, roses, trees, windows};

/// What every builtin call knows besides its arguments.
pub(crate) struct Call<'a> {
    /// The builtin's instantiated, resolved type.
    pub ty: &'a Type,
    pub origin: &'a Origin,
    pub span: Span,
}

impl<'a> Call<'a> {
    /// The type of parameter `i`.
    pub fn param(&self, i: usize) -> Result<&'a Type, Diagnostic> {
        self.ty
            .uncurry()
            .0
            .get(i)
            .copied()
            .ok_or_else(|| internal(self.span, "a builtin type with too few parameters"))
    }

    /// The type of the result after all arguments.
    pub fn result(&self, arity: usize) -> &'a Type {
        let mut t = self.ty;
        for _ in 0..arity {
            if let Type::Func(_, b) = t {
                t = b;
            }
        }
        t
    }
}

/// Apply builtin `b` to exactly `b.arity()` arguments.
pub(crate) fn call(
    ev: &mut Eval,
    b: Builtin,
    ty: &Type,
    args: Vec<Value>,
    origin: &Origin,
    span: Span,
) -> Result<Value, Diagnostic> {
    use Builtin::*;
    let c = Call { ty, origin, span };
    match b {
        Map | Fold | Unfold | MapAccumL | MapAccumR | Zip | ZipWith | Iterate => {
            combinators::call(ev, b, &c, args)
        }
        WindowMap | WindowMap2 | WindowMapSame | WindowMap2Same | Maxpool2 | Elems => {
            windows::call(ev, b, &c, args)
        }
        Cata | Leaves | Leaf | Node => trees::call(ev, b, &c, args),
        Rose | CataRose | Nodes => roses::call(ev, b, &c, args),
        Length | Reverse | Take | Drop | Last | Head | SumList | MeanList | MaxList | Flatten
        | Grid => lists::call(ev, b, &c, args),
        SoftmaxList | ArgmaxIndex | Symbol | Index => super::indices::call(ev, b, &c, &args),
        Raw | Cast | Transpose | Reshape | Row | At | Slice => {
            super::tensors::call(ev, b, &c, &args)
        }
        Argmax | Sample | Score | CrossEntropy | Mse | Bce | FloatOf => {
            scores_and_losses(ev, b, &c, &args)
        }
        _ => reals(ev, b, &c, &args),
    }
}

pub(crate) fn wrong_args(b: Builtin, span: Span) -> Diagnostic {
    internal(
        span,
        format!("`{}` applied to arguments of the wrong kind", b.name()),
    )
}

/// Constants, tuple access, elementwise functions and reductions.
fn reals(ev: &mut Eval, b: Builtin, c: &Call, args: &[Value]) -> Result<Value, Diagnostic> {
    use Builtin::*;
    let span = c.span;
    let batch = c.origin.len();
    match (b, args) {
        (Zeros, []) => layout::constant(ev.ctx, ev.graph, c.ty, 0.0, batch, span),
        (Ones, []) => layout::constant(ev.ctx, ev.graph, c.ty, 1.0, batch, span),
        (Dropout, [p, x]) => super::random::dropout(ev, c, p, x),
        (Normal, []) => super::random::noise(ev, c, super::random::Dist::Normal),
        (Uniform, []) => super::random::noise(ev, c, super::random::Dist::Uniform),
        (Fst | Snd, [Value::Tuple(parts)]) if parts.len() == 2 => {
            Ok(parts[usize::from(b == Snd)].clone())
        }
        (Tanh | Sigmoid | Relu | Exp | Log | Sqrt | Abs | Sign | Sin | Cos, [x]) => {
            let op = unary_of(b);
            map_reals(x, &mut |r| Ok(ev.graph.unary(op, r)), span)
        }
        (Minimum | Maximum, [x, y]) => {
            let op = if b == Minimum {
                Binary::Min
            } else {
                Binary::Max
            };
            zip_reals(x, y, &mut |a, b| Ok(ev.graph.binary(op, a, b)), span)
        }
        (Pow, [x, Value::Real(p)]) => map_reals(x, &mut |r| Ok(ev.graph.pow_rows(r, p)), span),
        (StopGradient, [x]) => map_reals(x, &mut |r| Ok(ev.graph.stop_gradient(r)), span),
        (SoftThreshold, [t, x]) => soft_threshold(ev, t, x, span),
        (HardThreshold, [t, x]) => hard_threshold(ev, t, x, span),
        (Topk, [k, x]) => topk(ev, c, k, x),
        (Sum | Mean | Max, [x]) => {
            let r = pack(ev.graph, x, span)?;
            let op = match b {
                Sum => Reduce::Sum,
                Mean => Reduce::Mean,
                _ => Reduce::Max,
            };
            Ok(Value::Real(ev.graph.reduce_cols(op, &r, r.cols())))
        }
        (Dot, [x, y]) => {
            let p = zip_reals(
                x,
                y,
                &mut |a, b| Ok(ev.graph.binary(Binary::Mul, a, b)),
                span,
            )?;
            let p = pack(ev.graph, &p, span)?;
            Ok(Value::Real(ev.graph.reduce_cols(Reduce::Sum, &p, p.cols())))
        }
        (Norm, [x]) => {
            let r = pack(ev.graph, x, span)?;
            Ok(Value::Real(ev.graph.norm_rows(&r)))
        }
        (Softmax | LogSoftmax, [x]) => softmax(ev, c, b == Softmax, x),
        (Concat, [x, y]) => {
            let p = pack(ev.graph, x, span)?;
            let q = pack(ev.graph, y, span)?;
            Ok(Value::Real(ev.graph.concat_cols(&[p, q])))
        }
        _ => Err(wrong_args(b, span)),
    }
}

/// `float`, `argmax`, `score` and the losses.
fn scores_and_losses(
    ev: &mut Eval,
    b: Builtin,
    c: &Call,
    args: &[Value],
) -> Result<Value, Diagnostic> {
    use Builtin::*;
    let span = c.span;
    match (b, args) {
        (FloatOf, [Value::Int(n)]) => {
            let data = n.iter().map(|&v| v as f32).collect();
            Ok(Value::Real(ev.graph.from_vec(n.len(), 1, data)))
        }
        (Argmax, [x]) => argmax(ev, c, x),
        (Sample, [x]) => super::random::sample(ev, c, x),
        (Score, [s, Value::Sym(v)]) => score(ev, c, s, v),
        (CrossEntropy, [s, Value::Sym(v)]) => {
            let logits = pack(ev.graph, s, span)?;
            let targets = check_symbols(ev, c, v, logits.cols())?;
            Ok(Value::Real(ev.graph.cross_entropy(&logits, &targets)))
        }
        (Mse, [x, y]) => {
            let d = zip_reals(
                x,
                y,
                &mut |a, b| Ok(ev.graph.binary(Binary::Sub, a, b)),
                span,
            )?;
            let d = pack(ev.graph, &d, span)?;
            let sq = ev.graph.unary(Unary::Square, &d);
            Ok(Value::Real(ev.graph.reduce_cols(
                Reduce::Mean,
                &sq,
                sq.cols(),
            )))
        }
        (Bce, [Value::Real(logit), Value::Bool(labels)]) => {
            Ok(Value::Real(ev.graph.bce_with_logits(logit, labels)))
        }
        _ => Err(wrong_args(b, span)),
    }
}

pub(crate) fn unary_of(b: Builtin) -> Unary {
    match b {
        Builtin::Tanh => Unary::Tanh,
        Builtin::Sigmoid => Unary::Sigmoid,
        Builtin::Relu => Unary::Relu,
        Builtin::Exp => Unary::Exp,
        Builtin::Log => Unary::Log,
        Builtin::Sqrt => Unary::Sqrt,
        Builtin::Sign => Unary::Sign,
        Builtin::Sin => Unary::Sin,
        Builtin::Cos => Unary::Cos,
        _ => Unary::Abs,
    }
}

/// `sign x * relu (abs x - t)`, the sign a constant read from `x`: one
/// backend op.
fn soft_threshold(ev: &mut Eval, t: &Value, x: &Value, span: Span) -> Result<Value, Diagnostic> {
    let g = &mut *ev.graph;
    zip_reals(t, x, &mut |t, x| Ok(g.soft_threshold(t, x)), span)
}

/// `x` where `abs x > t`, else 0 (the mask is a constant).
fn hard_threshold(ev: &mut Eval, t: &Value, x: &Value, span: Span) -> Result<Value, Diagnostic> {
    let g = &mut *ev.graph;
    zip_reals(
        t,
        x,
        &mut |t, x| {
            let tv = g.to_vec(t);
            let xv = g.to_vec(x);
            let mask: Vec<f32> = xv
                .iter()
                .zip(tv.iter())
                .map(|(v, t)| if v.abs() > *t { 1.0 } else { 0.0 })
                .collect();
            let mask = g.from_vec(x.rows(), x.cols(), mask);
            Ok(g.binary(Binary::Mul, x, &mask))
        },
        span,
    )
}

/// Keep the k entries of largest magnitude of each example (ties: the
/// earlier entry wins), zero the rest.
fn topk(ev: &mut Eval, c: &Call, k: &Value, x: &Value) -> Result<Value, Diagnostic> {
    let Value::Int(k) = k else {
        return Err(internal(c.span, "`topk` with a count that is not an Int"));
    };
    let r = pack(ev.graph, x, c.span)?;
    let (rows, cols) = (r.rows(), r.cols());
    let data = ev.graph.to_vec(&r);
    let mut mask = vec![0.0f32; rows * cols];
    for row in 0..rows {
        let vals = &data[row * cols..(row + 1) * cols];
        let mut order: Vec<usize> = (0..cols).collect();
        order.sort_by(|&a, &b| {
            vals[b]
                .abs()
                .partial_cmp(&vals[a].abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let keep = k.get(row).copied().unwrap_or(0).clamp(0, cols as i64) as usize;
        for &j in &order[..keep] {
            mask[row * cols + j] = 1.0;
        }
    }
    let mask = ev.graph.from_vec(rows, cols, mask);
    let y = ev.graph.binary(Binary::Mul, &r, &mask);
    unpack(ev.ctx, ev.graph, &y, c.param(1)?, c.span)
}

fn softmax(ev: &mut Eval, c: &Call, plain: bool, x: &Value) -> Result<Value, Diagnostic> {
    let r = pack(ev.graph, x, c.span)?;
    let ty = c.param(0)?;
    let group = layout::last_axis(ev.ctx, ty, r.cols());
    let group = if r.cols() % group == 0 {
        group
    } else {
        r.cols().max(1)
    };
    let y = if plain {
        ev.graph.softmax(&r, group)
    } else {
        ev.graph.log_softmax(&r, group)
    };
    unpack(ev.ctx, ev.graph, &y, ty, c.span)
}

/// The scores of each example of `x` (row-major) and their number per
/// example; an error for scores over an empty vocabulary.
pub(crate) fn score_rows(
    ev: &mut Eval,
    c: &Call,
    x: &Value,
    what: &str,
) -> Result<(Vec<f32>, usize), Diagnostic> {
    let r = pack(ev.graph, x, c.span)?;
    let (rows, cols) = (r.rows(), r.cols());
    if cols == 0 && rows > 0 {
        let message = format!("`{what}` of no scores");
        return Err(ev.fail(c.span, c.origin, 0, message, "empty vocabulary"));
    }
    Ok((ev.graph.to_vec(&r), cols))
}

/// The position of the largest value of `row`, the first on ties (0 for
/// an empty row).
pub(crate) fn first_max(row: &[f32]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// The first index of the largest score of each example.
fn argmax(ev: &mut Eval, c: &Call, x: &Value) -> Result<Value, Diagnostic> {
    let (data, cols) = score_rows(ev, c, x, "argmax")?;
    let rows = data.len() / cols.max(1);
    let out = (0..rows)
        .map(|row| first_max(&data[row * cols..(row + 1) * cols]) as u32)
        .collect();
    Ok(Value::Sym(Rc::new(out)))
}

/// Symbol indices as class indices, each checked against `n` scores.
fn check_symbols(ev: &Eval, c: &Call, v: &[u32], n: usize) -> Result<Vec<usize>, Diagnostic> {
    v.iter()
        .enumerate()
        .map(|(i, &s)| {
            if (s as usize) < n {
                Ok(s as usize)
            } else {
                Err(ev.fail(
                    c.span,
                    c.origin,
                    i,
                    format!("symbol {s} is outside the {n} scores"),
                    "here",
                ))
            }
        })
        .collect()
}

/// `score s v`: the score of symbol v (a one-hot mask, multiply, sum).
fn score(ev: &mut Eval, c: &Call, s: &Value, v: &[u32]) -> Result<Value, Diagnostic> {
    let r = pack(ev.graph, s, c.span)?;
    let (rows, cols) = (r.rows(), r.cols());
    let idx = check_symbols(ev, c, v, cols)?;
    let mut mask = vec![0.0f32; rows * cols];
    for (row, &j) in idx.iter().enumerate() {
        mask[row * cols + j] = 1.0;
    }
    let mask = ev.graph.from_vec(rows, cols, mask);
    let m = ev.graph.binary(Binary::Mul, &r, &mask);
    Ok(Value::Real(ev.graph.reduce_cols(
        Reduce::Sum,
        &m,
        cols.max(1),
    )))
}
