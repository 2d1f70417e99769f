//! Positions and indices (spec 11.4): `softmaxList` (a softmax across the
//! positions of each example's list: attention weights), `argmaxIndex`
//! (the position of a vector's largest entry), `symbol` (the i-th symbol
//! of a vocabulary) and `index` (a symbol's position). The discrete ones
//! read values on the host and pass no gradient; `softmaxList` is built
//! from differentiable ops.

use std::rc::Rc;

use crate::backend::{Binary, Reduce, Unary};
use crate::diagnostic::Diagnostic;
use crate::ir::ty::Type;
use crate::ir::Builtin;

use super::builtins::Call;
use super::eval::Eval;
use super::layout::{internal, pack};
use super::value::{ListValue, Value};

pub(crate) fn call(
    ev: &mut Eval,
    b: Builtin,
    c: &Call,
    args: &[Value],
) -> Result<Value, Diagnostic> {
    match (b, args) {
        (Builtin::SoftmaxList, [Value::List(xs)]) => softmax_list(ev, c, xs),
        (Builtin::ArgmaxIndex, [x]) => argmax_index(ev, c, x),
        (Builtin::Symbol, [Value::Int(i)]) => symbol(ev, c, i),
        (Builtin::Index, [Value::Sym(s)]) => Ok(Value::Int(Rc::new(
            s.iter().map(|&v| i64::from(v)).collect(),
        ))),
        _ => Err(super::builtins::wrong_args(b, c.span)),
    }
}

/// `y_i = exp(x_i - m) / sum_j exp(x_j - m)` over each example's positions,
/// `m` its largest entry (a constant: softmax does not depend on it). Its
/// gradient comes from the ops it is made of: `dx_i = y_i (dy_i - sum_j
/// dy_j y_j)`.
fn softmax_list(ev: &mut Eval, c: &Call, xs: &ListValue) -> Result<Value, Diagnostic> {
    let x = pack(ev.graph, &xs.elems, c.span)?;
    if x.rows() == 0 {
        return Ok(Value::List(Rc::new(xs.clone())));
    }
    let owners = xs.owners();
    let g = &mut *ev.graph;
    let most = g.reduce_segments(Reduce::Max, &x, &xs.offsets);
    let most = g.stop_gradient(&most);
    let shift = g.gather_rows(&most, &owners);
    let d = g.binary(Binary::Sub, &x, &shift);
    let e = g.unary(Unary::Exp, &d);
    let total = g.reduce_segments(Reduce::Sum, &e, &xs.offsets);
    let total = g.gather_rows(&total, &owners);
    let y = g.binary(Binary::Div, &e, &total);
    Ok(Value::list(xs.offsets.clone(), Value::Real(y)))
}

/// The position of each example's largest entry (the first on ties).
fn argmax_index(ev: &mut Eval, c: &Call, x: &Value) -> Result<Value, Diagnostic> {
    let r = pack(ev.graph, x, c.span)?;
    let cols = r.cols();
    if cols == 0 && r.rows() > 0 {
        let why = "a vector with no entries";
        return Err(ev.fail(c.span, c.origin, 0, "`argmaxIndex` of no entries", why));
    }
    let data = ev.graph.to_vec(&r);
    let best = data
        .chunks(cols.max(1))
        .map(|row| super::builtins::first_max(row) as i64)
        .collect();
    Ok(Value::Int(Rc::new(best)))
}

/// The `i`-th symbol of the result's vocabulary (as the run knows it: an
/// open vocabulary holds the symbols of its data); out of range is a
/// run-time error.
fn symbol(ev: &mut Eval, c: &Call, i: &[i64]) -> Result<Value, Diagnostic> {
    let Type::Vocab(name) = c.result(1) else {
        return Err(internal(
            c.span,
            "`symbol` of a type that is not a vocabulary",
        ));
    };
    let n = ev.ctx.vocabs.get(name).map_or(0, |v| v.len());
    let mut out = Vec::with_capacity(i.len());
    for (row, &k) in i.iter().enumerate() {
        match u32::try_from(k).ok().filter(|&k| (k as usize) < n) {
            Some(k) => out.push(k),
            None => {
                let message = format!("symbol {k} of `{name}`, which has {n} symbols");
                let why = format!("the index must be 0 to {}", n.saturating_sub(1));
                return Err(ev.fail(c.span, c.origin, row, message, why));
            }
        }
    }
    Ok(Value::Sym(Rc::new(out)))
}
