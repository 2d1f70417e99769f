//! A whole recurrence as one op: `h_t = act(c[row_t] + h_{t-1} W^T)` at
//! every step of every example. This is the RNN a `fold` lowers to when
//! its step is one affine map of the state and the element followed by an
//! activation, the element half hoisted into `c` (`W_e e + b` for every
//! element). cuDNN runs its RNNs the same way: the loop inside one call,
//! its buffers laid out once.
//!
//! The examples are independent, so from [`MIN_LANE`] twice over they run
//! in two lanes, one per thread, each lane's products single-threaded:
//! one join per pass, where splitting each step's product joined twice
//! per step (the helper thread idled 15% of the batch-32 RNN's time
//! between them, 9% with lanes).
//!
//! The examples run longest first (a stable sort by length), so those
//! still running at step `t` are the first `n_t`: each step reads a prefix
//! of the previous step's states, with no gather. The buffers are planned
//! for the whole loop instead of allocated per op: all steps' states in
//! one buffer (forward); backward, all steps' `dz` in one buffer and the
//! state's gradient in two buffers reused from step to step.
//!
//! Derivatives, from the output `h_t` (as `addmm_act`'s):
//!
//! - `dz_t = dh_t act'(z_t)`, where `dh_t` is the gradient of the final
//!   state for an example whose last step is `t`, else `dz_{t+1} W`;
//! - `dc[row_t] += dz_t`;
//! - `dh0 = dz_0 W` (the final state's own gradient for an example with
//!   no steps);
//! - `dW = sum_t dz_t^T h_{t-1}`: one product of the stacked `dz` and the
//!   stacked previous states, not one per step.

use std::cell::RefCell;

use super::fused::Activation;
use super::linalg::{gemm_acc_from, Mat};
use super::{Graph, Real};

/// The operands of [`Graph::recurrence`].
pub struct Recurrence<'r> {
    /// `[_, H]`: the element half of every element.
    pub c: &'r Real,
    /// `[H, H]`: the state's weight (`out x in`).
    pub w: &'r Real,
    /// `[n, H]`: each example's initial state.
    pub h0: &'r Real,
    /// Per example: the row of `c` of its first step; step `t` reads the
    /// row `t` after it.
    pub starts: &'r [usize],
    /// Per example: its number of steps.
    pub lengths: &'r [usize],
    pub act: Activation,
}

/// The order the examples run in and how many run at each step.
#[derive(Debug, PartialEq)]
struct Schedule {
    /// Position `p` runs example `order[p]`: longest first.
    order: Vec<usize>,
    /// Per step: how many examples run (the first of `order`).
    running: Vec<usize>,
    /// Per step: the first row of its states among all steps' (one more
    /// entry: the total).
    offsets: Vec<usize>,
}

impl Schedule {
    /// The schedule of `examples` (of `lengths`).
    fn of(lengths: &[usize], examples: &[usize]) -> Schedule {
        let mut order: Vec<usize> = examples
            .iter()
            .copied()
            .filter(|&b| lengths[b] > 0)
            .collect();
        order.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
        let steps = order.first().map_or(0, |&b| lengths[b]);
        let mut running = vec![0; steps];
        for &b in &order {
            running[..lengths[b]].iter_mut().for_each(|n| *n += 1);
        }
        let mut offsets = Vec::with_capacity(steps + 1);
        offsets.push(0);
        for (t, &n) in running.iter().enumerate() {
            offsets.push(offsets[t] + n);
        }
        Schedule {
            order,
            running,
            offsets,
        }
    }

    /// The examples running at step `t` that run at step `t + 1` too.
    fn continuing(&self, t: usize) -> usize {
        self.running.get(t + 1).copied().unwrap_or(0)
    }
}

/// The operands' values, for the lanes.
struct Operands<'o> {
    c: &'o [f32],
    w: &'o super::tape::Values,
    h0: &'o [f32],
    starts: &'o [usize],
    lengths: &'o [usize],
    act: Activation,
    h: usize,
}

/// Examples in one lane at least: from twice as many, the examples run
/// in two lanes, one per thread, each lane's steps a single-threaded
/// product (no join per step); fewer, one lane whose products are split.
const MIN_LANE: usize = 8;

/// What the forward pass of one lane (a set of examples) keeps for the
/// backward: the weight, the states in running order, and the schedule.
struct Loop {
    w: super::tape::Values,
    /// `h0`'s rows of the examples that take a step, in running order.
    h0: Vec<f32>,
    /// Every step's states: step `t` at rows `offsets[t]..offsets[t + 1]`.
    states: Vec<f32>,
    schedule: Schedule,
    starts: Vec<usize>,
    act: Activation,
    h: usize,
    /// `gemm_acc_from`'s scale: 1, or `usize::MAX` in a lane of several
    /// (one thread per lane).
    scale: usize,
}

impl Loop {
    /// Runs the recurrence of `examples`: every step's states.
    fn run(o: &Operands, examples: &[usize], scale: usize) -> Loop {
        let h = o.h;
        let schedule = Schedule::of(o.lengths, examples);
        let mut h0 = Vec::with_capacity(schedule.running.first().unwrap_or(&0) * h);
        for &b in &schedule.order {
            h0.extend_from_slice(&o.h0[b * h..(b + 1) * h]);
        }
        let rows = schedule.offsets.last().copied().unwrap_or(0);
        // Each step's rows start as its rows of `c` (no zero fill first).
        let mut states = Vec::with_capacity(rows * h);
        let wt = Mat::new(o.w, h, h).t();
        let act = |run: &mut [f32]| o.act.in_place(run);
        for (t, &n) in schedule.running.iter().enumerate() {
            for &b in &schedule.order[..n] {
                let row = o.starts[b] + t;
                states.extend_from_slice(&o.c[row * h..(row + 1) * h]);
            }
            let (done, z) = states.split_at_mut(schedule.offsets[t] * h);
            let prev = match t {
                0 => &h0[..n * h],
                _ => &done[schedule.offsets[t - 1] * h..][..n * h],
            };
            gemm_acc_from(z, Mat::new(prev, n, h), wt, scale, Some(&act));
        }
        Loop {
            w: o.w.clone(),
            h0,
            states,
            schedule,
            starts: o.starts.to_vec(),
            act: o.act,
            h,
            scale,
        }
    }

    /// Writes this lane's examples' final states into `out` (`[n, H]`).
    fn finals(&self, out: &mut [f32], lengths: &[usize]) {
        let (h, s) = (self.h, &self.schedule);
        for (p, &b) in s.order.iter().enumerate() {
            let last = s.offsets[lengths[b] - 1] + p;
            out[b * h..(b + 1) * h].copy_from_slice(&self.states[last * h..(last + 1) * h]);
        }
    }

    /// The gradients from `g`, the final states': every step's `dz` (in
    /// the order the backward runs the steps, last step first), `dW` and
    /// `dh0`.
    fn backward(&self, g: &[f32]) -> Grads {
        let (h, s) = (self.h, &self.schedule);
        let rows = s.offsets.last().copied().unwrap_or(0);
        let mut dz = Vec::with_capacity(rows * h);
        let first = s.running.first().copied().unwrap_or(0);
        let (mut next, mut cur) = (vec![0.0; first * h], vec![0.0; first * h]);
        for t in (0..s.running.len()).rev() {
            let (n_t, on) = (s.running[t], s.continuing(t));
            let at = dz.len();
            dz.extend_from_slice(&next[..on * h]);
            for &b in &s.order[on..n_t] {
                dz.extend_from_slice(&g[b * h..(b + 1) * h]);
            }
            let d = &mut dz[at..];
            self.act
                .backward_in_place(d, &self.states[s.offsets[t] * h..][..n_t * h]);
            cur[..n_t * h].fill(0.0);
            let (dst, w) = (&mut cur[..n_t * h], Mat::new(&self.w, h, h));
            gemm_acc_from(dst, Mat::new(d, n_t, h), w, self.scale, None);
            std::mem::swap(&mut cur, &mut next);
        }
        let dw = self.dw(&dz);
        Grads { dz, dw, dh0: next }
    }

    /// Adds this lane's `dh0` (in running order) into `out`, `[n, H]`.
    fn add_dh0(&self, dh0: &[f32], out: &mut [f32]) {
        let h = self.h;
        for (p, &b) in self.schedule.order.iter().enumerate() {
            let dst = &mut out[b * h..(b + 1) * h];
            dst.iter_mut()
                .zip(&dh0[p * h..])
                .for_each(|(o, &d)| *o += d);
        }
    }

    /// The steps in the order the backward runs them (last first), with
    /// their first row among all steps' `dz`.
    fn steps_backward(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let s = &self.schedule;
        let rows = s.offsets.last().copied().unwrap_or(0);
        (0..s.running.len())
            .rev()
            .map(move |t| (t, rows - s.offsets[t + 1]))
    }

    /// `dc[row_t] += dz_t` for every step's rows, into `dc`.
    fn add_dc(&self, dz: &[f32], dc: &mut [f32]) {
        let h = self.h;
        for (t, at) in self.steps_backward() {
            for (p, &b) in self.schedule.order[..self.schedule.running[t]]
                .iter()
                .enumerate()
            {
                let row = self.starts[b] + t;
                let src = &dz[(at + p) * h..][..h];
                let dst = &mut dc[row * h..(row + 1) * h];
                dst.iter_mut().zip(src).for_each(|(d, &v)| *d += v);
            }
        }
    }

    /// `dW = sum_t dz_t^T h_{t-1}`: the previous states stacked like `dz`,
    /// then one product.
    fn dw(&self, dz: &[f32]) -> Vec<f32> {
        let (h, s) = (self.h, &self.schedule);
        let rows = s.offsets.last().copied().unwrap_or(0);
        let mut prev = Vec::with_capacity(rows * h);
        for (t, _) in self.steps_backward() {
            let n_t = s.running[t];
            prev.extend_from_slice(match t {
                0 => &self.h0[..n_t * h],
                _ => &self.states[s.offsets[t - 1] * h..][..n_t * h],
            });
        }
        let mut dw = vec![0.0; h * h];
        let (dzt, prev) = (Mat::new(dz, rows, h).t(), Mat::new(&prev, rows, h));
        gemm_acc_from(&mut dw, dzt, prev, self.scale, None);
        dw
    }
}

/// One lane's backward results, kept for the operands' calls: every
/// step's `dz` (last step first), its `dW`, its `dh0` (running order).
struct Grads {
    dz: Vec<f32>,
    dw: Vec<f32>,
    dh0: Vec<f32>,
}

/// The examples in `lanes` lanes: longest first, dealt in turn, so that
/// each lane's steps add up alike.
fn deal(lengths: &[usize], lanes: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
    let lanes = lanes.max(1);
    let mut out = vec![Vec::new(); lanes];
    for (i, b) in order.into_iter().enumerate() {
        out[i % lanes].push(b);
    }
    out
}

/// Runs `f` on each of two lanes at once (one on dp's other thread), or
/// on the one lane.
fn each_lane<L: Sync, T: Send>(lanes: &[L], f: impl Fn(&L) -> T + Sync) -> Vec<T> {
    match lanes {
        [a, b] => {
            let (mut x, mut y) = (None, None);
            super::threads::join(|| x = Some(f(a)), || y = Some(f(b)));
            x.into_iter().chain(y).collect()
        }
        _ => lanes.iter().map(f).collect(),
    }
}

impl Graph {
    /// Each example's final state `[n, H]` after its `lengths[b]` steps of
    /// `h_t = act(c[starts[b] + t] + h_{t-1} W^T)` from `h0`.
    pub fn recurrence(&mut self, r: Recurrence) -> Real {
        let (n, h) = (r.h0.rows(), r.w.rows());
        let work = r.lengths.iter().sum::<usize>() * h * h;
        let two = super::threads::parts_for(work) >= 2 && n >= 2 * MIN_LANE;
        self.recurrence_in(r, if two { 2 } else { 1 })
    }

    /// [`Graph::recurrence`] in `lanes` lanes (1 or 2).
    pub(super) fn recurrence_in(&mut self, r: Recurrence, lanes: usize) -> Real {
        let (n, h) = (r.h0.rows(), r.w.rows());
        debug_assert!(r.w.cols() == h && r.c.cols() == h && r.h0.cols() == h);
        debug_assert!(r.lengths.len() == n && r.starts.len() == n);
        debug_assert!((0..n).all(|b| r.lengths[b] == 0 || r.starts[b] + r.lengths[b] <= r.c.rows()));
        let (c, w, h0) = (r.c.values(), r.w.values(), r.h0.values());
        let o = Operands {
            c: &c,
            w: &w,
            h0: &h0,
            starts: r.starts,
            lengths: r.lengths,
            act: r.act,
            h,
        };
        let scale = if lanes > 1 { usize::MAX } else { 1 };
        let runs = each_lane(&deal(r.lengths, lanes), |e| Loop::run(&o, e, scale));
        let mut finals = h0[..n * h].to_vec();
        runs.iter().for_each(|l| l.finals(&mut finals, r.lengths));
        let (t, y) = self.host_tensor(finals, (n, h));
        let idle: Vec<usize> = (0..n).filter(|&b| r.lengths[b] == 0).collect();
        let grads: RefCell<Option<Vec<Grads>>> = RefCell::new(None);
        self.record(&[r.c, r.w, r.h0], t, y, move |k, g, gi| {
            let mut cache = grads.borrow_mut();
            let grads = cache.get_or_insert_with(|| each_lane(&runs, |l| l.backward(g)));
            for (lane, d) in runs.iter().zip(grads.iter()) {
                match k {
                    0 => lane.add_dc(&d.dz, gi),
                    1 => gi.iter_mut().zip(&d.dw).for_each(|(a, &d)| *a += d),
                    _ => lane.add_dh0(&d.dh0, gi),
                }
            }
            // An example that takes no step: its state's gradient is its
            // final state's.
            if k == 2 {
                for &b in &idle {
                    let dst = &mut gi[b * h..(b + 1) * h];
                    dst.iter_mut().zip(&g[b * h..]).for_each(|(a, &d)| *a += d);
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Longest first (ties in the examples' order), examples with no step
    /// left out, and each step's count and first row; of all examples and
    /// of a lane's.
    #[test]
    fn schedule_runs_longest_first() {
        let lengths = [2, 0, 3, 2, 1];
        let s = Schedule::of(&lengths, &[0, 1, 2, 3, 4]);
        assert_eq!(s.order, [2, 0, 3, 4]);
        assert_eq!(s.running, [4, 3, 1]);
        assert_eq!(s.offsets, [0, 4, 7, 8]);
        let lane = Schedule::of(&lengths, &[4, 3]);
        assert_eq!((lane.order, lane.running), (vec![3, 4], vec![2, 1]));
        assert_eq!(Schedule::of(&[0, 0], &[0, 1]).running, Vec::<usize>::new());
    }

    /// Lanes are dealt the examples longest first, in turn.
    #[test]
    fn lanes_are_dealt_in_turn() {
        assert_eq!(deal(&[2, 0, 3, 2, 1], 2), [vec![2, 3, 1], vec![0, 4]]);
        assert_eq!(deal(&[1, 2], 1), [vec![1, 0]]);
    }
}
