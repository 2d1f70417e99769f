//! Deferred weight gradients: a recurrence multiplies by the same weight
//! `W` at every step, and `dW = sum_t dz_t^T x_t` is a sum over the steps.
//! Computed step by step it is T small products (at batch 1, rank-one
//! updates that read and write all of `dW` at every step); deferred, it is
//! one product of the stacked `dz` and `x` once the backward pass has left
//! the loop. cuDNN's RNNs do the same (their weight gradients are one call
//! after the backward pass over the data).
//!
//! A region ([`Graph::begin_deferral`] .. [`Graph::end_deferral`]) covers
//! a loop. A product inside it whose weight (the right operand of `x W^T`)
//! existed before the region began records, at the weight's first use in
//! the region, a flush op on the tape, and from then on hands its `dz` and
//! `x` to the flush instead of multiplying. The tape runs backward in
//! reverse order of recording, so the flush runs after every step's
//! backward and before the weight's own producer: the weight's gradient is
//! complete when anything reads it. A weight made inside the region (a
//! per-step value) is never deferred: its producer's backward would run
//! before the flush.
//!
//! Exact up to the order of the float sums. `set_deferral(false)` (tests)
//! or `DP_NO_DEFER=1` computes every step's product in place.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::linalg::{gemm_acc_from, Mat};
use super::{Graph, Real};

/// Floats of `dz` and `x` kept before they are multiplied into a partial
/// sum (bounds the memory of a long loop: 4M floats, 16 MB; a few rows in
/// the unit tests, which then take that path too).
const MAX_PENDING: usize = if cfg!(test) { 40 } else { 1 << 22 };

thread_local! {
    static DEFERRING: Cell<bool> = Cell::new(std::env::var_os("DP_NO_DEFER").is_none());
    static DEFERRED: Cell<usize> = const { Cell::new(0) };
}

/// Turn deferral on or off on this thread (the reference of tests);
/// returns the previous setting.
pub fn set_deferral(on: bool) -> bool {
    DEFERRING.with(|d| d.replace(on))
}

/// How many weight gradients were deferred on this thread so far (tests
/// that must know the deferred path ran).
pub fn deferred_runs() -> usize {
    DEFERRED.with(Cell::get)
}

/// Steps of at most this many rows defer: there each step's `dz^T x` is
/// a thin product bound by reading and writing all of `dW` (rank one at
/// batch 1). From 32 rows a step's product is already efficient, and
/// keeping `dz` and `x` until the flush costs more memory traffic than it
/// saves (measured at batch 128: 0.9x).
const MAX_ROWS: usize = 16;

/// An open region; closed by [`Graph::end_deferral`].
#[must_use]
pub struct Deferral {
    /// The first value id made inside the region.
    start: u64,
}

/// The deferred `dz` and `x` rows of one weight `[out, in]`, and the sum
/// of the blocks already multiplied.
pub(super) struct Pending {
    out: usize,
    inp: usize,
    dz: Vec<f32>,
    x: Vec<f32>,
    sum: Option<Vec<f32>>,
}

/// The regions open on a graph, and the weights deferred in them: (the
/// weight's id, the start of the region that deferred it, what its steps
/// handed over).
#[derive(Default)]
pub(super) struct Regions {
    starts: Vec<u64>,
    pending: Vec<(u64, u64, Rc<RefCell<Pending>>)>,
}

impl Pending {
    /// Adds `dz^T x` (`dz` is `[r, out]`, `x` `[r, in]`) to the sum.
    pub(super) fn push(&mut self, dz: &[f32], x: &[f32]) {
        self.dz.extend_from_slice(dz);
        self.x.extend_from_slice(x);
        if self.dz.len() + self.x.len() > MAX_PENDING {
            let sum = self
                .sum
                .get_or_insert_with(|| vec![0.0; self.out * self.inp]);
            multiply(sum, &self.dz, &self.x, self.out, self.inp);
            self.dz.clear();
            self.x.clear();
        }
    }
}

/// `dst += dz^T x` for stacked rows; on one thread up to 8 times the
/// usual work (the flush of a recurrence at batch 1, a few hundred
/// thousand multiply-adds, ran no faster split, and woke a thread each
/// time).
fn multiply(dst: &mut [f32], dz: &[f32], x: &[f32], out: usize, inp: usize) {
    let rows = dz.len() / out.max(1);
    if rows > 0 {
        gemm_acc_from(
            dst,
            Mat::new(dz, rows, out).t(),
            Mat::new(x, rows, inp),
            8,
            None,
        );
    }
}

impl Graph {
    /// Opens a region (a loop) whose products defer their weights'
    /// gradients; a no-op without a tape.
    pub fn begin_deferral(&mut self) -> Deferral {
        let start = super::tape::fresh_id();
        if self.tape.is_some() && DEFERRING.with(Cell::get) {
            self.regions.starts.push(start);
        }
        Deferral { start }
    }

    /// Closes a region: products after it compute their weight gradients
    /// as usual. The flushes already on the tape still run.
    pub fn end_deferral(&mut self, d: Deferral) {
        let regions = &mut self.regions;
        if let Some(p) = regions.starts.iter().rposition(|&s| s == d.start) {
            regions.starts.truncate(p);
        }
        regions.pending.retain(|&(_, start, _)| start < d.start);
    }

    /// Where a product of `rows` rows with weight `w` (`[out, in]`, the
    /// right operand of `x W^T`) hands its `dz` and `x`, if `w` is
    /// deferred: it existed before the innermost open region began, and
    /// the step is thin (`MAX_ROWS`). Records the flush at the weight's
    /// first deferred use in the region.
    pub(super) fn deferred(&mut self, w: &Real, rows: usize) -> Option<Rc<RefCell<Pending>>> {
        let start = *self.regions.starts.last()?;
        if w.id >= start || rows > MAX_ROWS || self.tape.is_none() {
            return None;
        }
        if let Some((_, _, p)) = self.regions.pending.iter().find(|(id, ..)| *id == w.id) {
            return Some(p.clone());
        }
        let (out, inp) = (w.rows(), w.cols());
        let pending = Rc::new(RefCell::new(Pending {
            out,
            inp,
            dz: Vec::new(),
            x: Vec::new(),
            sum: None,
        }));
        let p = pending.clone();
        self.custom(&[w], (0, 0), Vec::new(), move |_, _, gw| {
            let Pending { dz, x, sum, .. } = &mut *p.borrow_mut();
            multiply(gw, dz, x, out, inp);
            if let Some(sum) = sum.take() {
                gw.iter_mut().zip(&sum).for_each(|(g, s)| *g += s);
            }
            *dz = Vec::new();
            *x = Vec::new();
        });
        self.regions.pending.push((w.id, start, pending.clone()));
        DEFERRED.with(|d| d.set(d.get() + 1));
        Some(pending)
    }
}
