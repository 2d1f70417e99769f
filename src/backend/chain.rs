//! Chains of elementwise ops as one op: `Graph::chain(chain, inputs)`
//! evaluates an elementwise expression over same-shaped inputs (a
//! TreeLSTM's `sigmoid i * tanh u + sigmoid f * c`) in one pass forward
//! and one backward, with no tensor between its steps.
//!
//! Both passes run over chunks of [`CHUNK`] elements, so the steps' values
//! of a chunk stay in the first-level cache. The forward keeps every
//! step's values (the inputs are the inputs' own); the backward goes
//! through the steps in reverse, each adding its derivative times the
//! incoming gradient to its operands' gradients:
//!
//! | step | derivative |
//! | --- | --- |
//! | `tanh a` | `1 - y^2` |
//! | `sigmoid a` | `y (1 - y)` |
//! | `relu a` | `[y > 0]` |
//! | `exp a` | `y` |
//! | `-a` | `-1` |
//! | `a^2` | `2 a` |
//! | `a + b`, `a - b` | `1`, `1` / `1`, `-1` |
//! | `a * b` | `b`, `a` |

use std::cell::RefCell;
use std::sync::Arc;

use super::vmath;
use super::{Binary, Graph, Real, Unary};

/// One step of a chain; operands name earlier steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The chain's input number `k`.
    Input(usize),
    Unary(Unary, usize),
    Binary(Binary, usize, usize),
}

/// An elementwise expression: its steps in order, the last the result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    pub steps: Vec<Step>,
}

/// Elements per chunk of the passes.
const CHUNK: usize = 256;

impl Chain {
    /// The unary functions a chain may contain.
    pub fn fuses_unary(u: Unary) -> bool {
        matches!(
            u,
            Unary::Tanh | Unary::Sigmoid | Unary::Relu | Unary::Exp | Unary::Neg | Unary::Square
        )
    }

    /// The binary operators a chain may contain.
    pub fn fuses_binary(b: Binary) -> bool {
        matches!(b, Binary::Add | Binary::Sub | Binary::Mul)
    }

    /// The number of inputs the steps name.
    pub fn inputs(&self) -> usize {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Input(k) => Some(k + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// Every operand names an earlier step, every function fuses, and the
    /// chain has a result.
    pub fn is_valid(&self) -> bool {
        !self.steps.is_empty()
            && self.steps.iter().enumerate().all(|(s, step)| match *step {
                Step::Input(_) => true,
                Step::Unary(u, a) => a < s && Chain::fuses_unary(u),
                Step::Binary(b, x, y) => x < s && y < s && Chain::fuses_binary(b),
            })
    }

    /// The values of every step over all `n` elements, computed chunk by
    /// chunk (an input step's values are the input itself: empty here).
    fn forward(&self, inputs: &[Arc<[f32]>], n: usize) -> Vec<Vec<f32>> {
        let mut vals: Vec<Vec<f32>> = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Input(_) => Vec::new(),
                _ => vec![0.0; n],
            })
            .collect();
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            for (s, step) in self.steps.iter().enumerate() {
                let (before, rest) = vals.split_at_mut(s);
                let of = |p: usize| value(&self.steps, inputs, before, p, start, end);
                match *step {
                    Step::Input(_) => {}
                    Step::Unary(u, a) => unary(u, of(a), &mut rest[0][start..end]),
                    Step::Binary(b, p, q) => {
                        let each = rest[0][start..end].iter_mut().zip(of(p)).zip(of(q));
                        match b {
                            Binary::Add => each.for_each(|((y, &x), &z)| *y = x + z),
                            Binary::Sub => each.for_each(|((y, &x), &z)| *y = x - z),
                            _ => each.for_each(|((y, &x), &z)| *y = x * z),
                        }
                    }
                }
            }
        }
        vals
    }

    /// The gradients of the inputs, given the forward values `vals` and
    /// the result's gradient `g`; chunk by chunk, the steps in reverse.
    fn backward(&self, inputs: &[Arc<[f32]>], vals: &[Vec<f32>], g: &[f32]) -> Vec<Vec<f32>> {
        let n = g.len();
        let mut out = vec![vec![0.0; n]; self.inputs()];
        let mut grads = vec![vec![0.0; CHUNK]; self.steps.len()];
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            let len = end - start;
            let of = |p: usize| value(&self.steps, inputs, vals, p, start, end);
            grads.iter_mut().for_each(|d| d[..len].fill(0.0));
            if let Some(last) = grads.last_mut() {
                last[..len].copy_from_slice(&g[start..end]);
            }
            for (s, step) in self.steps.iter().enumerate().rev() {
                let (before, rest) = grads.split_at_mut(s);
                let dy = &rest[0][..len];
                match *step {
                    Step::Input(k) => add(&mut out[k][start..end], dy),
                    Step::Unary(u, a) => derivative(u, of(a), of(s), dy, &mut before[a][..len]),
                    Step::Binary(Binary::Add, p, q) => {
                        add(&mut before[p][..len], dy);
                        add(&mut before[q][..len], dy);
                    }
                    Step::Binary(Binary::Sub, p, q) => {
                        add(&mut before[p][..len], dy);
                        let dq = before[q][..len].iter_mut().zip(dy);
                        dq.for_each(|(d, &g)| *d -= g);
                    }
                    Step::Binary(_, p, q) => {
                        add_product(&mut before[p][..len], dy, of(q));
                        add_product(&mut before[q][..len], dy, of(p));
                    }
                }
            }
        }
        out
    }
}

/// Step `p`'s values over `start..end`: its input's, or its own.
fn value<'v>(
    steps: &[Step],
    inputs: &'v [Arc<[f32]>],
    vals: &'v [Vec<f32>],
    p: usize,
    start: usize,
    end: usize,
) -> &'v [f32] {
    match steps[p] {
        Step::Input(k) => &inputs[k][start..end],
        _ => &vals[p][start..end],
    }
}

/// `y = u(x)`.
fn unary(u: Unary, x: &[f32], y: &mut [f32]) {
    let each = y.iter_mut().zip(x);
    match u {
        Unary::Tanh => vmath::tanh(x, y),
        Unary::Sigmoid => vmath::sigmoid(x, y),
        Unary::Exp => vmath::exp(x, y),
        Unary::Relu => each.for_each(|(y, &x)| *y = x.max(0.0)),
        Unary::Neg => each.for_each(|(y, &x)| *y = -x),
        _ => each.for_each(|(y, &x)| *y = x * x),
    }
}

/// `da += dy u'(x)`, from the input `x` and the output `y`.
fn derivative(u: Unary, x: &[f32], y: &[f32], dy: &[f32], da: &mut [f32]) {
    let each = da.iter_mut().zip(dy);
    match u {
        Unary::Tanh => each
            .zip(y)
            .for_each(|((d, &g), &y)| *d += g * (1.0 - y * y)),
        Unary::Sigmoid => each
            .zip(y)
            .for_each(|((d, &g), &y)| *d += g * y * (1.0 - y)),
        Unary::Exp => each.zip(y).for_each(|((d, &g), &y)| *d += g * y),
        Unary::Relu => each
            .zip(y)
            .for_each(|((d, &g), &y)| *d += if y > 0.0 { g } else { 0.0 }),
        Unary::Neg => each.for_each(|(d, &g)| *d -= g),
        _ => each.zip(x).for_each(|((d, &g), &x)| *d += g * 2.0 * x),
    }
}

fn add(acc: &mut [f32], g: &[f32]) {
    acc.iter_mut().zip(g).for_each(|(a, &g)| *a += g);
}

fn add_product(acc: &mut [f32], g: &[f32], v: &[f32]) {
    acc.iter_mut()
        .zip(g)
        .zip(v)
        .for_each(|((a, &g), &v)| *a += g * v);
}

impl Graph {
    /// `chain` over `inputs` (all of one shape; `chain.inputs()` of them).
    pub(super) fn chain_impl(&mut self, chain: &Arc<Chain>, inputs: &[Real]) -> Real {
        let shape = inputs.first().map_or((0, 0), |x| (x.rows(), x.cols()));
        let values: Vec<Arc<[f32]>> = inputs.iter().map(Real::values).collect();
        let n = shape.0 * shape.1;
        let vals = chain.forward(&values, n);
        let out = match chain.steps.last() {
            Some(Step::Input(k)) => values[*k].to_vec(),
            _ => vals.last().cloned().unwrap_or_default(),
        };
        if !self.is_training() {
            return self.custom(&[], shape, out, |_, _, _| {});
        }
        let chain = chain.clone();
        let cache: RefCell<Option<Vec<Vec<f32>>>> = RefCell::new(None);
        let operands: Vec<&Real> = inputs.iter().collect();
        self.custom(&operands, shape, out, move |k, g, gi| {
            let mut cache = cache.borrow_mut();
            let grads = cache.get_or_insert_with(|| chain.backward(&values, &vals, g));
            add(gi, &grads[k]);
        })
    }
}
