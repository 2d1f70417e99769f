//! Windows and grids: `windowMap` (1-D convolution), `windowMap2` (2-D,
//! im2col), `maxpool2` and `elems`.
//!
//! All windows of all examples are collected with ONE index of element rows;
//! a window of a representation type becomes one row of a `[W, k * size]`
//! tensor (a gather and a reshape), so the window function is applied once
//! to all W windows: with a learned affine function that is exactly a
//! convolution as one matmul. A window of anything else is a list of k
//! elements. This file does not build grids from lists (`grid` is in
//! `lists.rs`).

use crate::backend::Reduce;
use crate::diagnostic::Diagnostic;
use crate::ir::ty::Type;
use crate::ir::Builtin;

use super::batch::gather;
use super::builtins::Call;
use super::combinators::apply_rows;
use super::eval::Eval;
use super::layout::{self, internal, is_rep, pack, unpack};
use super::prims::map_reals;
use super::value::{offsets_of, GridValue, Value};

pub(crate) fn call(
    ev: &mut Eval,
    b: Builtin,
    c: &Call,
    args: Vec<Value>,
) -> Result<Value, Diagnostic> {
    match (b, args.as_slice()) {
        (Builtin::WindowMap, [f, Value::List(xs)]) => {
            let (dims, elem) = window_type(c, 0)?;
            let k = dims.iter().product::<usize>();
            if k == 0 {
                return Err(ev.fail(c.span, c.origin, 0, "a window of size 0", "here"));
            }
            let mut plan = Plan::default();
            for b in 0..xs.batch_size() {
                let (off, len) = (xs.offsets[b], xs.len_of(b));
                let n = if len >= k { len - k + 1 } else { 0 };
                for i in 0..n {
                    plan.window(b, (0..k).map(|j| off + i + j));
                }
                plan.counts.push(n);
            }
            let ys = apply_windows(ev, c, f, &xs.elems, &plan, k, elem)?;
            Ok(Value::list(offsets_of(plan.counts), ys))
        }
        (Builtin::WindowMapSame, [f, Value::List(xs)]) => {
            let (dims, elem) = window_type(c, 0)?;
            let k = dims.iter().product::<usize>();
            let reach = k / 2;
            let mut plan = Plan::default();
            for b in 0..xs.batch_size() {
                let (off, len) = (xs.offsets[b], xs.len_of(b));
                for i in 0..len {
                    let at = |j: usize| (i + j).checked_sub(reach).filter(|&p| p < len);
                    plan.window(b, (0..k).map(|j| at(j).map_or(PAD, |p| off + p)));
                }
                plan.counts.push(len);
            }
            let ys = apply_windows(ev, c, f, &xs.elems, &plan, k, elem)?;
            Ok(Value::list(offsets_of(plan.counts), ys))
        }
        (Builtin::WindowMap2, [f, Value::Grid(g)]) => window_map2(ev, c, f, g),
        (Builtin::WindowMap2Same, [f, Value::Grid(g)]) => window_map2_same(ev, c, f, g),
        (Builtin::Maxpool2, [Value::Int(k), Value::Grid(g)]) => maxpool2(ev, c, k, g),
        (Builtin::Elems, [w]) => elems(ev, c, w),
        _ => Err(internal(
            c.span,
            format!("`{}` applied to arguments of the wrong kind", b.name()),
        )),
    }
}

/// The row of a padded window's position outside its input: a zero row.
const PAD: usize = usize::MAX;

/// All windows of a batch: their owners, their element rows (k per window,
/// row-major; [`PAD`] for a position outside the input) and the number of
/// windows per example.
#[derive(Default)]
struct Plan {
    owners: Vec<usize>,
    rows: Vec<usize>,
    counts: Vec<usize>,
}

impl Plan {
    fn window(&mut self, owner: usize, rows: impl Iterator<Item = usize>) {
        self.owners.push(owner);
        self.rows.extend(rows);
    }
}

/// `Window[dims] a` of the domain of the function parameter `i`.
fn window_type<'t>(c: &Call<'t>, i: usize) -> Result<(&'t [usize], &'t Type), Diagnostic> {
    match c.param(i)? {
        Type::Func(d, _) => match &**d {
            Type::Window(dims, a) => Ok((dims, a)),
            _ => Err(internal(
                c.span,
                "a window function whose domain is not a window",
            )),
        },
        _ => Err(internal(c.span, "a window combinator without a function")),
    }
}

/// The result type of the function parameter `i`.
fn func_result<'t>(c: &Call<'t>, i: usize) -> Result<&'t Type, Diagnostic> {
    match c.param(i)? {
        Type::Func(_, r) => Ok(r),
        _ => Err(internal(c.span, "a window combinator without a function")),
    }
}

/// Build all windows of `plan` from `elems` and apply `f` once to them.
fn apply_windows(
    ev: &mut Eval,
    c: &Call,
    f: &Value,
    elems: &Value,
    plan: &Plan,
    k: usize,
    elem: &Type,
) -> Result<Value, Diagnostic> {
    let out = func_result(c, 0)?;
    if plan.owners.is_empty() {
        if let Ok(v) = layout::empty(ev.ctx, ev.graph, out, c.span) {
            return Ok(v);
        }
    }
    let w = plan.owners.len();
    let window = if is_rep(ev.ctx, elem) {
        let mut flat = pack(ev.graph, elems, c.span)?;
        let size = flat.cols();
        let mut rows = std::borrow::Cow::Borrowed(&plan.rows);
        if plan.rows.contains(&PAD) {
            // Padding: one zero row after the elements.
            let n = flat.rows();
            let zero = ev.graph.fill(1, size, 0.0);
            flat = ev.graph.concat_rows(&[flat, zero]);
            rows = std::borrow::Cow::Owned(
                plan.rows
                    .iter()
                    .map(|&r| if r == PAD { n } else { r })
                    .collect(),
            );
        }
        let picked = super::batch::gather_real(ev.graph, &flat, &rows);
        Value::Real(ev.graph.reshape(&picked, w, k * size))
    } else {
        if plan.rows.contains(&PAD) {
            return Err(internal(
                c.span,
                "a padded window over values that are not reals",
            ));
        }
        let picked = gather(ev.graph, elems, &plan.rows);
        Value::list((0..=w).map(|i| i * k).collect(), picked)
    };
    apply_rows(ev, f, &plan.owners, vec![window], out, c.span)
}

fn window_map2(ev: &mut Eval, c: &Call, f: &Value, g: &GridValue) -> Result<Value, Diagnostic> {
    let (dims, elem) = window_type(c, 0)?;
    let [kh, kw] = *dims else {
        return Err(internal(
            c.span,
            "`windowMap2` with a window that is not 2-D",
        ));
    };
    if kh == 0 || kw == 0 {
        return Err(ev.fail(c.span, c.origin, 0, "a window of size 0", "here"));
    }
    let mut plan = Plan::default();
    let mut out_dims = Vec::with_capacity(g.dims.len());
    for (b, &(h, w)) in g.dims.iter().enumerate() {
        let off = g.offsets[b];
        let oh = if h >= kh { h - kh + 1 } else { 0 };
        let ow = if w >= kw { w - kw + 1 } else { 0 };
        for i in 0..oh {
            for j in 0..ow {
                let rows =
                    (0..kh).flat_map(|di| (0..kw).map(move |dj| off + (i + di) * w + j + dj));
                plan.window(b, rows);
            }
        }
        plan.counts.push(oh * ow);
        out_dims.push((oh, ow));
    }
    let cells = apply_windows(ev, c, f, &g.cells, &plan, kh * kw, elem)?;
    Ok(Value::Grid(std::rc::Rc::new(GridValue {
        dims: out_dims,
        offsets: offsets_of(plan.counts),
        cells,
    })))
}

/// `windowMap2Same`: one window centred on every cell, positions outside
/// the grid zeros; the output has the input's height and width.
fn window_map2_same(
    ev: &mut Eval,
    c: &Call,
    f: &Value,
    g: &GridValue,
) -> Result<Value, Diagnostic> {
    let (dims, elem) = window_type(c, 0)?;
    let [kh, kw] = *dims else {
        return Err(internal(
            c.span,
            "`windowMap2Same` with a window that is not 2-D",
        ));
    };
    let (rh, rw) = (kh / 2, kw / 2);
    let mut plan = Plan::default();
    for (b, &(h, w)) in g.dims.iter().enumerate() {
        let off = g.offsets[b];
        for i in 0..h {
            for j in 0..w {
                let rows = (0..kh).flat_map(|di| {
                    (0..kw).map(move |dj| {
                        let r = (i + di).checked_sub(rh).filter(|&r| r < h);
                        let s = (j + dj).checked_sub(rw).filter(|&s| s < w);
                        match (r, s) {
                            (Some(r), Some(s)) => off + r * w + s,
                            _ => PAD,
                        }
                    })
                });
                plan.window(b, rows);
            }
        }
        plan.counts.push(h * w);
    }
    let cells = apply_windows(ev, c, f, &g.cells, &plan, kh * kw, elem)?;
    Ok(Value::Grid(std::rc::Rc::new(GridValue {
        dims: g.dims.clone(),
        offsets: offsets_of(plan.counts),
        cells,
    })))
}

/// `maxpool2 k g`: the elementwise max of each k x k block (partial blocks
/// at the right and bottom edges are dropped).
fn maxpool2(ev: &mut Eval, c: &Call, k: &[i64], g: &GridValue) -> Result<Value, Diagnostic> {
    let mut rows = Vec::new();
    let mut blocks = Vec::with_capacity(g.dims.len());
    let mut dims = Vec::with_capacity(g.dims.len());
    for (b, &(h, w)) in g.dims.iter().enumerate() {
        let kb = k.get(b).copied().unwrap_or(0);
        if kb <= 0 {
            let msg = format!("`maxpool2` with block size {kb}");
            return Err(ev.fail(c.span, c.origin, b, msg, "the block size must be positive"));
        }
        let kb = kb as usize;
        let (oh, ow) = (h / kb, w / kb);
        let off = g.offsets[b];
        for bi in 0..oh {
            for bj in 0..ow {
                for di in 0..kb {
                    rows.extend((0..kb).map(|dj| off + (bi * kb + di) * w + bj * kb + dj));
                }
            }
        }
        blocks.push(oh * ow);
        dims.push((oh, ow));
    }
    let picked = gather(ev.graph, &g.cells, &rows);
    let cells = if blocks.iter().all(|&n| n == 0) {
        picked
    } else {
        let mut seg = vec![0];
        for (b, &n) in blocks.iter().enumerate() {
            let kb = k.get(b).copied().unwrap_or(0).max(0) as usize;
            for _ in 0..n {
                seg.push(seg.last().copied().unwrap_or(0) + kb * kb);
            }
        }
        let gr = &mut *ev.graph;
        map_reals(
            &picked,
            &mut |r| Ok(gr.reduce_segments(Reduce::Max, r, &seg)),
            c.span,
        )?
    };
    Ok(Value::Grid(std::rc::Rc::new(GridValue {
        dims,
        offsets: offsets_of(blocks),
        cells,
    })))
}

/// `elems w`: a window as the list of its elements (row-major).
fn elems(ev: &mut Eval, c: &Call, w: &Value) -> Result<Value, Diagnostic> {
    match w {
        Value::List(_) => Ok(w.clone()),
        Value::Real(r) => {
            let (dims, elem) = match c.param(0)? {
                Type::Window(d, a) => (d, &**a),
                _ => return Err(internal(c.span, "`elems` of something not a window")),
            };
            let k = dims.iter().product::<usize>().max(1);
            let b = r.rows();
            let size = r.cols() / k;
            let flat = ev.graph.reshape(r, b * k, size);
            let xs = unpack(ev.ctx, ev.graph, &flat, elem, c.span)?;
            Ok(Value::list((0..=b).map(|i| i * k).collect(), xs))
        }
        _ => Err(internal(c.span, "`elems` of something not a window")),
    }
}
