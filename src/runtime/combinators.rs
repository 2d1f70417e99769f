//! The list combinators `map`, `zip`, `zipWith`, `fold`, `mapAccumL`,
//! `mapAccumR`, `unfold` and `iterate`, batched.
//!
//! `map` and `zipWith` apply their function ONCE to all elements of all
//! examples (the function's captures gathered by element owner). The
//! stepping combinators run T = max steps over the batch; each step is one
//! application on all examples still running. Examples that have finished
//! are retired from the running batch (their final state is kept aside and
//! put back in place at the end), so a finished example is never computed on
//! again: no wasted work, no spurious errors from stepping past an end.
//! When all examples run the same number of steps no gather happens at all.
//! Outputs of all steps are concatenated and put in ragged order with one
//! gather.

use crate::diagnostic::Diagnostic;
use crate::ir::ty::Type;
use crate::ir::Builtin;
use crate::source::Span;

use super::batch::{self, batch_size, gather};
use super::builtins::Call;
use super::eval::Eval;
use super::layout::{self, internal};
use super::value::{offsets_of, ListValue, Value};

pub(crate) fn call(
    ev: &mut Eval,
    b: Builtin,
    c: &Call,
    args: Vec<Value>,
) -> Result<Value, Diagnostic> {
    let span = c.span;
    match (b, args.as_slice()) {
        (Builtin::Map, [f, Value::List(xs)]) => {
            let out = elem_type(c.result(2), span)?;
            let ys = apply_rows(ev, f, &xs.owners(), vec![xs.elems.clone()], out, span)?;
            Ok(Value::list(xs.offsets.clone(), ys))
        }
        (Builtin::Zip, [Value::List(xs), Value::List(ys)]) => {
            let (offsets, _, ix, iy) = align(xs, ys);
            let a = gather(ev.graph, &xs.elems, &ix);
            let b = gather(ev.graph, &ys.elems, &iy);
            Ok(Value::list(offsets, Value::tuple(vec![a, b])))
        }
        (Builtin::ZipWith, [f, Value::List(xs), Value::List(ys)]) => {
            let (offsets, owners, ix, iy) = align(xs, ys);
            let a = gather(ev.graph, &xs.elems, &ix);
            let b = gather(ev.graph, &ys.elems, &iy);
            let out = elem_type(c.result(3), span)?;
            let zs = apply_rows(ev, f, &owners, vec![a, b], out, span)?;
            Ok(Value::list(offsets, zs))
        }
        (Builtin::Fold, [f, z, Value::List(xs)]) => fold(ev, f, z, xs, span),
        (Builtin::MapAccumL | Builtin::MapAccumR, [f, s, Value::List(xs)]) => {
            map_accum(ev, c, b == Builtin::MapAccumR, f, s, xs)
        }
        (Builtin::Unfold, [Value::Int(n), f, s]) => {
            unfold(ev, c, &step_counts(n, "unfold", span)?, f, s)
        }
        (Builtin::Iterate, [Value::Int(n), f, x]) => {
            let n = step_counts(n, "iterate", span)?;
            let hoisted = super::hoist::prepare_invariant(ev, f)?;
            let mut step = |ev: &mut Eval, fa: &Value, st: Value, _: usize, active: &[usize]| {
                let next = match &hoisted {
                    Some(h) => {
                        let table = h.step(ev, active);
                        ev.apply_hoisted(fa, vec![st], table, span)?
                    }
                    None => ev.apply(fa, vec![st], span)?,
                };
                Ok((next, None))
            };
            let (fin, _) = run_steps(ev, f, x, &n, &mut step)?;
            Ok(fin)
        }
        _ => Err(internal(
            span,
            format!("`{}` applied to arguments of the wrong kind", b.name()),
        )),
    }
}

/// Per-example step counts from Int arguments (negative counts are 0).
fn counts(n: &[i64]) -> Vec<usize> {
    n.iter().map(|&k| k.max(0) as usize).collect()
}

/// The element type of a `List t`.
fn elem_type(t: &Type, span: Span) -> Result<&Type, Diagnostic> {
    match t {
        Type::List(e) => Ok(e),
        _ => Err(internal(
            span,
            "a list combinator whose result is not a list",
        )),
    }
}

/// Apply `f` (batch B) to argument rows whose example is `owners[i]`: the
/// function is gathered by owner and applied once. With no rows at all the
/// result is an empty value of type `out` (no call).
pub(crate) fn apply_rows(
    ev: &mut Eval,
    f: &Value,
    owners: &[usize],
    args: Vec<Value>,
    out: &Type,
    span: Span,
) -> Result<Value, Diagnostic> {
    if owners.is_empty() {
        if let Ok(v) = layout::empty(ev.ctx, ev.graph, out, span) {
            return Ok(v);
        }
    }
    let fg = gather(ev.graph, f, owners);
    ev.apply(&fg, args, span)
}

/// Positions `0..min(len x, len y)` of each example: result offsets, owners,
/// and the element rows of both sides.
fn align(xs: &ListValue, ys: &ListValue) -> (Vec<usize>, Vec<usize>, Vec<usize>, Vec<usize>) {
    let (mut owners, mut ix, mut iy, mut lens) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for b in 0..xs.batch_size().min(ys.batch_size()) {
        let m = xs.len_of(b).min(ys.len_of(b));
        lens.push(m);
        for j in 0..m {
            owners.push(b);
            ix.push(xs.offsets[b] + j);
            iy.push(ys.offsets[b] + j);
        }
    }
    (offsets_of(lens), owners, ix, iy)
}

/// One step: given the running examples' function and state, the step
/// index and the running examples (ids), the new state and an output.
type Step<'s> = dyn FnMut(&mut Eval, &Value, Value, usize, &[usize]) -> Result<(Value, Option<Value>), Diagnostic>
    + 's;

/// What a stepping run produced per step: the examples that ran (in row
/// order) and their output.
type StepOutputs = Vec<(Vec<usize>, Value)>;

/// Run example b for `steps[b]` steps from `init`, retiring examples as they
/// finish. Returns the final states (batch B, in order) and each step's
/// outputs.
/// Most steps one `unfold` or `iterate` may run: beyond it a program would
/// run for hours or exhaust memory, so it is a run-time error instead.
pub const MAX_STEPS: usize = 1_000_000;

/// Per-example step counts (negative counts are zero steps), refused
/// beyond [`MAX_STEPS`].
fn step_counts(n: &[i64], what: &str, span: Span) -> Result<Vec<usize>, Diagnostic> {
    let steps = counts(n);
    match steps.iter().position(|&k| k > MAX_STEPS) {
        None => Ok(steps),
        Some(b) => Err(Diagnostic::new(
            crate::diagnostic::Code::RuntimeError,
            format!(
                "`{what}` of {} steps is more than the limit of {MAX_STEPS}",
                n[b]
            ),
        )
        .at(span, "too many steps")),
    }
}

/// The loop of `fold`, `mapAccumL`, `mapAccumR`, `unfold` and `iterate`: `step` on
/// the running examples until each has taken its `steps`; the gradients of
/// the weights the steps share are summed over the steps as one product
/// (`Graph::begin_deferral`).
fn run_steps(
    ev: &mut Eval,
    f: &Value,
    init: &Value,
    steps: &[usize],
    step: &mut Step,
) -> Result<(Value, StepOutputs), Diagnostic> {
    let region = ev.graph.begin_deferral();
    let result = run_steps_in(ev, f, init, steps, step);
    ev.graph.end_deferral(region);
    result
}

fn run_steps_in(
    ev: &mut Eval,
    f: &Value,
    init: &Value,
    steps: &[usize],
    step: &mut Step,
) -> Result<(Value, StepOutputs), Diagnostic> {
    let n = steps.len();
    let (mut active, idle): (Vec<usize>, Vec<usize>) = (0..n).partition(|&b| steps[b] > 0);
    let mut done_parts = Vec::new();
    let mut done_ids = Vec::new();
    if !idle.is_empty() {
        done_parts.push(gather(ev.graph, init, &idle));
        done_ids.extend(idle);
    }
    let mut state = gather(ev.graph, init, &active);
    let mut fa = gather(ev.graph, f, &active);
    let mut outs = Vec::new();
    let mut t = 0;
    while !active.is_empty() {
        let (next, out) = step(ev, &fa, state, t, &active)?;
        state = next;
        if let Some(o) = out {
            outs.push((active.clone(), o));
        }
        t += 1;
        let (keep, fin): (Vec<usize>, Vec<usize>) =
            (0..active.len()).partition(|&p| steps[active[p]] > t);
        if fin.is_empty() {
            continue;
        }
        done_parts.push(gather(ev.graph, &state, &fin));
        done_ids.extend(fin.iter().map(|&p| active[p]));
        state = gather(ev.graph, &state, &keep);
        fa = gather(ev.graph, &fa, &keep);
        active = keep.iter().map(|&p| active[p]).collect();
    }
    if done_parts.is_empty() {
        return Ok((init.clone(), outs));
    }
    let all = batch::concat(ev.graph, &done_parts);
    let mut order = vec![0; n];
    for (k, &b) in done_ids.iter().enumerate() {
        order[b] = k;
    }
    Ok((gather(ev.graph, &all, &order), outs))
}

/// The outputs of a stepping run as a list: example b's outputs are those
/// of steps `0..steps[b]` (in reverse step order if `reversed`). `out` is
/// the output type, for an empty result.
fn collect_outputs(
    ev: &mut Eval,
    outs: StepOutputs,
    steps: &[usize],
    reversed: bool,
    out: &Type,
    span: Span,
) -> Result<Value, Diagnostic> {
    let mut row_of: Vec<Vec<usize>> = steps.iter().map(|&s| Vec::with_capacity(s)).collect();
    let mut base = 0;
    let mut parts = Vec::with_capacity(outs.len());
    for (ids, v) in outs {
        for (p, &b) in ids.iter().enumerate() {
            row_of[b].push(base + p);
        }
        base += batch_size(&v);
        parts.push(v);
    }
    let offsets = offsets_of(steps.iter().copied());
    if parts.is_empty() {
        let elems = layout::empty(ev.ctx, ev.graph, out, span)?;
        return Ok(Value::list(offsets, elems));
    }
    let mut idx = Vec::with_capacity(base);
    for rows in &mut row_of {
        if reversed {
            rows.reverse();
        }
        idx.extend(rows.iter().copied());
    }
    let all = batch::concat(ev.graph, &parts);
    Ok(Value::list(offsets, gather(ev.graph, &all, &idx)))
}

/// Element `t` (or `len - 1 - t` from the right) of each running example.
fn element_at(
    ev: &mut Eval,
    xs: &ListValue,
    t: usize,
    active: &[usize],
    from_right: bool,
) -> Value {
    let idx = element_rows(xs, t, active, from_right);
    gather(ev.graph, &xs.elems, &idx)
}

/// The rows of `xs.elems` that [`element_at`] reads.
fn element_rows(xs: &ListValue, t: usize, active: &[usize], from_right: bool) -> Vec<usize> {
    active
        .iter()
        .map(|&b| {
            if from_right {
                xs.offsets[b + 1] - 1 - t
            } else {
                xs.offsets[b] + t
            }
        })
        .collect()
}

/// A step function walking a list (from the left or the right), with its
/// element-only work hoisted when the plan has some.
struct Walk<'a> {
    xs: &'a ListValue,
    from_right: bool,
    hoisted: Option<&'a super::hoist::Prepared>,
    span: Span,
}

impl Walk<'_> {
    /// Apply the running examples' step function to their state and their
    /// element `t`.
    fn step(
        &self,
        ev: &mut Eval,
        fa: &Value,
        st: Value,
        t: usize,
        active: &[usize],
    ) -> Result<Value, Diagnostic> {
        let x = element_at(ev, self.xs, t, active, self.from_right);
        match self.hoisted {
            Some(h) => {
                let rows = element_rows(self.xs, t, active, self.from_right);
                let table = h.step(ev, &rows);
                ev.apply_hoisted(fa, vec![st, x], table, self.span)
            }
            None => ev.apply(fa, vec![st, x], self.span),
        }
    }
}

fn fold(
    ev: &mut Eval,
    f: &Value,
    z: &Value,
    xs: &ListValue,
    span: Span,
) -> Result<Value, Diagnostic> {
    let hoisted = super::hoist::prepare(ev, f, xs, span)?;
    if let Some(fin) = hoisted.as_ref().map(|h| h.run_whole(ev, z, xs, span)) {
        if let Some(fin) = fin? {
            return Ok(fin);
        }
    }
    let walk = Walk {
        xs,
        from_right: false,
        hoisted: hoisted.as_ref(),
        span,
    };
    let mut step = |ev: &mut Eval, fa: &Value, st: Value, t: usize, active: &[usize]| {
        Ok((walk.step(ev, fa, st, t, active)?, None))
    };
    let (fin, _) = run_steps(ev, f, z, &xs.lengths(), &mut step)?;
    Ok(fin)
}

/// Splits a pair produced by a step function.
fn pair(v: Value, span: Span) -> Result<(Value, Value), Diagnostic> {
    match v {
        Value::Tuple(p) if p.len() == 2 => Ok((p[0].clone(), p[1].clone())),
        _ => Err(internal(span, "a step function that did not return a pair")),
    }
}

fn map_accum(
    ev: &mut Eval,
    c: &Call,
    from_right: bool,
    f: &Value,
    s: &Value,
    xs: &ListValue,
) -> Result<Value, Diagnostic> {
    let span = c.span;
    let out_ty = match c.result(3) {
        Type::Tuple(ts) if ts.len() == 2 => elem_type(&ts[1], span)?,
        _ => return Err(internal(span, "`mapAccum` whose result is not a pair")),
    };
    let hoisted = super::hoist::prepare(ev, f, xs, span)?;
    let walk = Walk {
        xs,
        from_right,
        hoisted: hoisted.as_ref(),
        span,
    };
    let mut step = |ev: &mut Eval, fa: &Value, st: Value, t: usize, active: &[usize]| {
        let (s2, y) = pair(walk.step(ev, fa, st, t, active)?, span)?;
        Ok((s2, Some(y)))
    };
    let lens = xs.lengths();
    let (fin, outs) = run_steps(ev, f, s, &lens, &mut step)?;
    let ys = collect_outputs(ev, outs, &lens, from_right, out_ty, span)?;
    Ok(Value::tuple(vec![fin, ys]))
}

fn unfold(ev: &mut Eval, c: &Call, n: &[usize], f: &Value, s: &Value) -> Result<Value, Diagnostic> {
    let span = c.span;
    let out_ty = elem_type(c.result(3), span)?;
    let mut step = |ev: &mut Eval, fa: &Value, st: Value, _: usize, _: &[usize]| {
        let (y, s2) = pair(ev.apply(fa, vec![st], span)?, span)?;
        Ok((s2, Some(y)))
    };
    let (_, outs) = run_steps(ev, f, s, n, &mut step)?;
    collect_outputs(ev, outs, n, false, out_ty, span)
}
