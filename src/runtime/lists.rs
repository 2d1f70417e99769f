//! List and grid structure helpers: `length`, `reverse`, `take`, `drop`,
//! `last`, `++`, `sumList`, `meanList`, `maxList`, `flatten` and `grid`.
//!
//! Structure is host-side (offsets), so these are index computations
//! followed by at most one gather of the element rows; the list reductions
//! are one `reduce_segments` each. `take`/`drop` clamp their count to
//! `0..=length` like Haskell's. This file does not apply functions (see
//! `combinators.rs`).

use std::rc::Rc;

use crate::backend::Reduce;
use crate::diagnostic::Diagnostic;
use crate::ir::Builtin;
use crate::source::Span;

use super::batch::{self, gather};
use super::builtins::Call;
use super::eval::Eval;
use super::layout::{self, internal};
use super::prims::map_reals;
use super::value::{offsets_of, GridValue, ListValue, Value};

pub(crate) fn call(
    ev: &mut Eval,
    b: Builtin,
    c: &Call,
    args: Vec<Value>,
) -> Result<Value, Diagnostic> {
    match (b, args.as_slice()) {
        (Builtin::Length, [Value::List(xs)]) => Ok(Value::Int(Rc::new(
            xs.lengths().into_iter().map(|n| n as i64).collect(),
        ))),
        (Builtin::Reverse, [Value::List(xs)]) => {
            Ok(pick(ev, xs, |off, len| Box::new((off..off + len).rev())))
        }
        (Builtin::Take | Builtin::Drop, [Value::Int(n), Value::List(xs)]) => {
            let take = b == Builtin::Take;
            let mut rows = Vec::new();
            let mut lens = Vec::with_capacity(xs.batch_size());
            for e in 0..xs.batch_size() {
                let (off, len) = (xs.offsets[e], xs.len_of(e));
                let k = n.get(e).copied().unwrap_or(0).clamp(0, len as i64) as usize;
                let range = if take {
                    off..off + k
                } else {
                    off + k..off + len
                };
                lens.push(range.len());
                rows.extend(range);
            }
            let elems = gather(ev.graph, &xs.elems, &rows);
            Ok(Value::list(offsets_of(lens), elems))
        }
        (Builtin::Last, [Value::List(xs)]) => {
            non_empty(ev, c, xs, "last")?;
            let rows: Vec<usize> = xs.offsets[1..].iter().map(|&o| o - 1).collect();
            Ok(gather(ev.graph, &xs.elems, &rows))
        }
        (Builtin::Head, [Value::List(xs)]) => {
            non_empty(ev, c, xs, "head")?;
            let rows = &xs.offsets[..xs.offsets.len() - 1];
            Ok(gather(ev.graph, &xs.elems, rows))
        }
        (Builtin::SumList, [Value::List(xs)]) => {
            if batch::batch_size(&xs.elems) == 0 {
                let b = xs.batch_size();
                return layout::constant(ev.ctx, ev.graph, c.result(1), 0.0, b, c.span);
            }
            reduce(ev, xs, Reduce::Sum, c.span)
        }
        (Builtin::MeanList, [Value::List(xs)]) => {
            non_empty(ev, c, xs, "meanList")?;
            reduce(ev, xs, Reduce::Mean, c.span)
        }
        (Builtin::MaxList, [Value::List(xs)]) => {
            non_empty(ev, c, xs, "maxList")?;
            reduce(ev, xs, Reduce::Max, c.span)
        }
        (Builtin::Flatten, [Value::Grid(g)]) => Ok(Value::list(g.offsets.clone(), g.cells.clone())),
        (Builtin::Grid, [Value::List(rows)]) => grid(ev, c, rows),
        _ => Err(internal(
            c.span,
            format!("`{}` applied to arguments of the wrong kind", b.name()),
        )),
    }
}

type Rows = Box<dyn Iterator<Item = usize>>;

/// A list whose example b has the element rows `rows(offset, length)`.
fn pick(ev: &mut Eval, xs: &ListValue, rows: impl Fn(usize, usize) -> Rows) -> Value {
    let mut idx = Vec::new();
    let mut lens = Vec::with_capacity(xs.batch_size());
    for b in 0..xs.batch_size() {
        let before = idx.len();
        idx.extend(rows(xs.offsets[b], xs.len_of(b)));
        lens.push(idx.len() - before);
    }
    let elems = gather(ev.graph, &xs.elems, &idx);
    Value::list(offsets_of(lens), elems)
}

fn non_empty(ev: &Eval, c: &Call, xs: &ListValue, name: &str) -> Result<(), Diagnostic> {
    match (0..xs.batch_size()).find(|&b| xs.len_of(b) == 0) {
        Some(b) => Err(ev.fail(
            c.span,
            c.origin,
            b,
            format!("`{name}` of an empty list"),
            "this list is empty",
        )),
        None => Ok(()),
    }
}

fn reduce(ev: &mut Eval, xs: &ListValue, op: Reduce, span: Span) -> Result<Value, Diagnostic> {
    let g = &mut *ev.graph;
    let b = xs.batch_size();
    map_reals(
        &xs.elems,
        &mut |r| {
            Ok(if r.rows() == 0 {
                g.fill(b, r.cols(), 0.0)
            } else {
                g.reduce_segments(op, r, &xs.offsets)
            })
        },
        span,
    )
}

/// `xs ++ ys` per example: one concatenation and one gather.
pub(crate) fn append(ev: &mut Eval, x: &Value, y: &Value, span: Span) -> Result<Value, Diagnostic> {
    append_all(ev, &[x.clone(), y.clone()], span)
}

/// `x1 ++ x2 ++ ... ++ xn` in one concat and one gather: each example's
/// elements of every part, in order. Linear in the total length.
pub(crate) fn append_all(ev: &mut Eval, parts: &[Value], span: Span) -> Result<Value, Diagnostic> {
    let lists: Vec<&ListValue> = parts
        .iter()
        .map(|p| match p {
            Value::List(xs) => Ok(&**xs),
            _ => Err(internal(span, "`++` of values that are not lists")),
        })
        .collect::<Result<_, _>>()?;
    let nonempty: Vec<&ListValue> = lists
        .iter()
        .copied()
        .filter(|xs| batch::batch_size(&xs.elems) > 0)
        .collect();
    match (nonempty.as_slice(), parts.last()) {
        ([], Some(last)) => return Ok(last.clone()),
        ([one], _) => return Ok(Value::List(Rc::new((*one).clone()))),
        _ => {}
    }
    let batch = nonempty[0].batch_size();
    let mut base = Vec::with_capacity(nonempty.len());
    let mut total = 0;
    for xs in &nonempty {
        base.push(total);
        total += batch::batch_size(&xs.elems);
    }
    let mut idx = Vec::with_capacity(total);
    let mut lens = Vec::with_capacity(batch);
    for b in 0..batch {
        let before = idx.len();
        for (xs, &at) in nonempty.iter().zip(&base) {
            idx.extend(xs.offsets[b] + at..xs.offsets[b + 1] + at);
        }
        lens.push(idx.len() - before);
    }
    let elems: Vec<Value> = nonempty.iter().map(|xs| xs.elems.clone()).collect();
    let all = batch::concat(ev.graph, &elems);
    Ok(Value::list(offsets_of(lens), gather(ev.graph, &all, &idx)))
}

/// `grid rows`: every row of an example must have the first row's length.
fn grid(ev: &mut Eval, c: &Call, outer: &ListValue) -> Result<Value, Diagnostic> {
    let Value::List(inner) = &outer.elems else {
        return Err(internal(c.span, "`grid` of something not a list of lists"));
    };
    let mut dims = Vec::with_capacity(outer.batch_size());
    for b in 0..outer.batch_size() {
        let rows = outer.offsets[b]..outer.offsets[b + 1];
        let width = if rows.is_empty() {
            0
        } else {
            inner.len_of(rows.start)
        };
        for (k, r) in rows.clone().enumerate() {
            let len = inner.len_of(r);
            if len != width {
                let cells = if len == 1 { "cell" } else { "cells" };
                let msg = format!(
                    "ragged grid: row {} has {len} {cells}, row 1 has {width}",
                    k + 1
                );
                return Err(ev.fail(c.span, c.origin, b, msg, "rows of different lengths"));
            }
        }
        dims.push((rows.len(), width));
    }
    let offsets = outer.offsets.iter().map(|&r| inner.offsets[r]).collect();
    Ok(Value::Grid(Rc::new(GridValue {
        dims,
        offsets,
        cells: inner.elems.clone(),
    })))
}
