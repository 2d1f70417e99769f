//! Chains of elementwise ops as one op: `Graph::chain(chain, inputs)`
//! evaluates an elementwise expression over same-shaped inputs (a
//! TreeLSTM's `sigmoid i * tanh u + sigmoid f * c`) in one pass forward
//! and one backward, with no tensor between its steps.
//!
//! Both passes run over chunks of [`CHUNK`] elements, so the steps' values
//! of a chunk stay in the first-level cache, and a large chain's passes
//! are cut into one piece per thread (`threads::elementwise_parts`). The
//! forward keeps only the values the backward reads (`Chain::kept`: a
//! unary step's output, a product's and a square's operands) and the
//! result; the other steps' values live in the chunk's scratch. The
//! backward goes through the steps in reverse, each adding its derivative
//! times the incoming gradient to its operands' gradients:
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

use super::tape::Values as Host;
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

    /// The steps whose values the backward reads (besides the inputs): a
    /// unary step's own output (its derivative is a function of it, but for
    /// `-a` and `a^2`), the operand of a square, both operands of a product.
    /// The others live in one chunk's scratch only.
    fn kept(&self) -> Vec<bool> {
        let mut kept = vec![false; self.steps.len()];
        for (s, step) in self.steps.iter().enumerate() {
            match *step {
                Step::Unary(Unary::Neg, _) | Step::Input(_) => {}
                Step::Unary(Unary::Square, a) => kept[a] = true,
                Step::Unary(_, _) => kept[s] = true,
                Step::Binary(Binary::Mul, p, q) => {
                    kept[p] = true;
                    kept[q] = true;
                }
                Step::Binary(..) => {}
            }
        }
        kept
    }

    /// The values of the kept steps and of the result over all `n`
    /// elements (the others empty), computed chunk by chunk, on more than
    /// one thread for a large chain.
    fn forward(&self, inputs: &[Host], n: usize, parts: usize, kept: &[bool]) -> Vec<Vec<f32>> {
        let last = self.steps.len().saturating_sub(1);
        let full = |s: usize| !matches!(self.steps[s], Step::Input(_)) && (kept[s] || s == last);
        let mut vals: Vec<Vec<f32>> = (0..self.steps.len())
            .map(|s| if full(s) { vec![0.0; n] } else { Vec::new() })
            .collect();
        let part = Part {
            inputs: inputs.iter().map(|x| &x[..n]).collect(),
            vals: vals.iter_mut().map(|v| &mut v[..]).collect(),
            len: n,
        };
        in_parts(part, n, parts, &|p| self.forward_part(p));
        vals
    }

    /// [`Chain::forward`] over one part of the elements.
    fn forward_part(&self, part: Part<&mut [f32]>) {
        let Part {
            inputs,
            mut vals,
            len: n,
        } = part;
        let mut scratch: Vec<Vec<f32>> = self.steps.iter().map(|_| vec![0.0; CHUNK]).collect();
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            for (s, step) in self.steps.iter().enumerate() {
                let (done, rest) = vals.split_at_mut(s);
                let (scr_done, scr_rest) = scratch.split_at_mut(s);
                let at = Values {
                    steps: &self.steps,
                    inputs: &inputs,
                    vals: done,
                    scratch: scr_done,
                };
                let of = |p: usize| at.of(p, start, end);
                let y = if rest[0].is_empty() {
                    &mut scr_rest[0][..end - start]
                } else {
                    &mut rest[0][start..end]
                };
                match *step {
                    Step::Input(_) => {}
                    Step::Unary(u, a) => unary(u, of(a), y),
                    Step::Binary(b, p, q) => {
                        let each = y.iter_mut().zip(of(p)).zip(of(q));
                        match b {
                            Binary::Add => each.for_each(|((y, &x), &z)| *y = x + z),
                            Binary::Sub => each.for_each(|((y, &x), &z)| *y = x - z),
                            _ => each.for_each(|((y, &x), &z)| *y = x * z),
                        }
                    }
                }
            }
        }
    }

    /// The gradients of the inputs, given the forward's values `vals` and
    /// the result's gradient `g`; chunk by chunk, the steps in reverse, on
    /// more than one thread for a large chain.
    fn backward(
        &self,
        inputs: &[Host],
        vals: &[Vec<f32>],
        g: &[f32],
        parts: usize,
    ) -> Vec<Vec<f32>> {
        let n = g.len();
        let mut out = vec![vec![0.0; n]; self.inputs()];
        let part = Part {
            inputs: inputs.iter().map(|x| &x[..n]).collect(),
            vals: vals.iter().map(|v| &v[..]).collect(),
            len: n,
        };
        let outs = Part {
            inputs: Vec::new(),
            vals: out.iter_mut().map(|v| &mut v[..]).collect(),
            len: n,
        };
        in_parts(((part, g), outs), n, parts, &|((p, g), o)| {
            self.backward_part(p, g, o)
        });
        out
    }

    /// [`Chain::backward`] over one part of the elements, `g` the result's
    /// gradient over it.
    fn backward_part(&self, part: Part<&[f32]>, g: &[f32], outs: Part<&mut [f32]>) {
        let Part {
            inputs,
            vals,
            len: n,
        } = part;
        let mut out = outs.vals;
        let mut grads = vec![vec![0.0; CHUNK]; self.steps.len()];
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            let len = end - start;
            grads.iter_mut().for_each(|d| d[..len].fill(0.0));
            if let Some(last) = grads.last_mut() {
                last[..len].copy_from_slice(&g[start..end]);
            }
            for (s, step) in self.steps.iter().enumerate().rev() {
                let (before, rest) = grads.split_at_mut(s);
                // Every value the derivatives read is kept (`kept`).
                let at = Values {
                    steps: &self.steps,
                    inputs: &inputs,
                    vals: &vals,
                    scratch: &[],
                };
                let of = |p: usize| at.of(p, start, end);
                let dy = &rest[0][..len];
                match *step {
                    Step::Input(k) => add(&mut out[k][start..end], dy),
                    Step::Unary(u, a) => {
                        let read = match u {
                            Unary::Neg => dy,
                            Unary::Square => of(a),
                            _ => of(s),
                        };
                        derivative(u, read, dy, &mut before[a][..len])
                    }
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
    }
}

/// One range of a chain's elements: the inputs' values over it and the
/// steps' (a step with no buffer of its own: empty).
struct Part<'a, V> {
    inputs: Vec<&'a [f32]>,
    vals: Vec<V>,
    len: usize,
}

/// What can be cut in two at an element.
trait Halve: Sized + Send {
    fn halve(self, at: usize) -> (Self, Self);
}

impl Halve for &[f32] {
    fn halve(self, at: usize) -> (Self, Self) {
        self.split_at(at.min(self.len()))
    }
}

impl Halve for &mut [f32] {
    fn halve(self, at: usize) -> (Self, Self) {
        let at = at.min(self.len());
        self.split_at_mut(at)
    }
}

impl<V: Halve> Halve for Part<'_, V> {
    fn halve(self, at: usize) -> (Self, Self) {
        let at = at.min(self.len);
        let (mut first, mut second) = (Part::empty(at), Part::empty(self.len - at));
        for x in self.inputs {
            let (l, r) = x.halve(at);
            first.inputs.push(l);
            second.inputs.push(r);
        }
        for v in self.vals {
            let (l, r) = v.halve(at);
            first.vals.push(l);
            second.vals.push(r);
        }
        (first, second)
    }
}

impl<V> Part<'_, V> {
    fn empty(len: usize) -> Self {
        Part {
            inputs: Vec::new(),
            vals: Vec::new(),
            len,
        }
    }
}

impl<A: Halve, B: Halve> Halve for (A, B) {
    fn halve(self, at: usize) -> (Self, Self) {
        let (a1, a2) = self.0.halve(at);
        let (b1, b2) = self.1.halve(at);
        ((a1, b1), (a2, b2))
    }
}

/// Runs `f` on `parts` pieces of `p`'s `len` elements (cut at whole
/// chunks), the pieces on rayon's pool.
fn in_parts<P: Halve>(p: P, len: usize, parts: usize, f: &(dyn Fn(P) + Sync)) {
    if parts < 2 || len < 2 * CHUNK {
        return f(p);
    }
    let at = (len / 2).div_ceil(CHUNK) * CHUNK;
    let (first, second) = p.halve(at);
    let half = parts / 2;
    super::threads::join(
        || in_parts(first, at, half, f),
        || in_parts(second, len - at, parts - half, f),
    );
}

/// Step values over `start..end` of a part: an input's, a step's own
/// buffer, or (no buffer) the chunk's scratch.
struct Values<'v, V> {
    steps: &'v [Step],
    inputs: &'v [&'v [f32]],
    vals: &'v [V],
    scratch: &'v [Vec<f32>],
}

impl<V: AsRef<[f32]>> Values<'_, V> {
    fn of(&self, p: usize, start: usize, end: usize) -> &[f32] {
        match self.steps[p] {
            Step::Input(k) => &self.inputs[k][start..end],
            _ => match self.vals[p].as_ref() {
                [] => &self.scratch[p][..end - start],
                v => &v[start..end],
            },
        }
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

/// `da += dy u'(x)`, from `read`: the output `y`, or for a square its
/// operand `x` (unread for `-a`).
fn derivative(u: Unary, read: &[f32], dy: &[f32], da: &mut [f32]) {
    let (x, y) = (read, read);
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
        let values: Vec<Host> = inputs.iter().map(Real::values).collect();
        let n = shape.0 * shape.1;
        let parts = super::threads::elementwise_parts(n);
        let kept = chain.kept();
        let mut vals = chain.forward(&values, n, parts, &kept);
        let out = match chain.steps.last() {
            Some(Step::Input(k)) => values[*k].to_vec(),
            // The backward reads the result: a copy for the tensor.
            Some(_) if kept.last() == Some(&true) => vals.last().cloned().unwrap_or_default(),
            _ => vals.pop().unwrap_or_default(),
        };
        if !self.is_training() {
            return self.custom(&[], shape, out, |_, _, _| {});
        }
        let chain = chain.clone();
        let cache: RefCell<Option<Vec<Vec<f32>>>> = RefCell::new(None);
        let operands: Vec<&Real> = inputs.iter().collect();
        self.custom(&operands, shape, out, move |k, g, gi| {
            let mut cache = cache.borrow_mut();
            let grads = cache.get_or_insert_with(|| chain.backward(&values, &vals, g, parts));
            add(gi, &grads[k]);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cut into pieces on other threads, the passes compute exactly
    /// what one pass computes: every kind of step, 2,000 elements (chunks
    /// and a partial one), up to 3 pieces.
    #[test]
    fn parts_equal_one_pass() {
        use Step::{Binary as B, Input as In, Unary as U};
        let chain = Chain {
            steps: vec![
                In(0),
                In(1),
                U(Unary::Sigmoid, 0),
                U(Unary::Tanh, 1),
                B(Binary::Mul, 2, 3),
                U(Unary::Neg, 4),
                U(Unary::Square, 5),
                B(Binary::Sub, 6, 0),
                U(Unary::Relu, 7),
                U(Unary::Exp, 1),
                B(Binary::Add, 8, 9),
            ],
        };
        let n = 2_000;
        let wave = |k: usize, f: f32| -> Host {
            let v: Vec<f32> = (0..n).map(|i| ((i * k) as f32 * f).sin() * 2.0).collect();
            v.into()
        };
        let inputs = [wave(1, 0.37), wave(3, 0.11)];
        let g: Vec<f32> = wave(5, 0.07).to_vec();
        let kept = chain.kept();
        let whole = chain.forward(&inputs, n, 1, &kept);
        let grads = chain.backward(&inputs, &whole, &g, 1);
        for parts in 2..=3 {
            let cut = chain.forward(&inputs, n, parts, &kept);
            assert_eq!(cut, whole, "{parts} parts");
            assert_eq!(chain.backward(&inputs, &cut, &g, parts), grads);
        }
        // Only the kept steps and the result have buffers.
        let sizes: Vec<usize> = whole.iter().map(Vec::len).collect();
        assert_eq!(sizes, [0, 0, n, n, 0, n, 0, 0, n, n, n]);
    }
}
