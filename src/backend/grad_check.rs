//! Finite-difference gradient checking (test-only helper).
//!
//! [`check_gradients`] builds the leaves from given data, projects the op's
//! output to a scalar with a fixed random matrix `r` (`loss = sum(out * r)`,
//! through the backend's own `binary(Mul)`, `reduce_cols(Sum)` and
//! `backward`), and compares each leaf's analytic gradient with central
//! differences of the same loss computed in inference mode (accumulated
//! in f64). It reports every mismatch, not just the first.
//!
//! It does not choose inputs: callers keep them away from kinks (relu,
//! abs, max, ties) where the finite difference is meaningless.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Binary, Graph, Real, Reduce};

/// Tolerances of a check: `|analytic - numeric| <= atol + rtol * max(|a|, |n|)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tolerance {
    pub eps: f32,
    pub rtol: f32,
    pub atol: f32,
}

impl Default for Tolerance {
    /// The general bar (relative 1e-2 above an absolute floor of 1e-3),
    /// for compositions whose f32 rounding noise is larger.
    fn default() -> Self {
        Tolerance {
            eps: 1e-2,
            rtol: 1e-2,
            atol: 1e-3,
        }
    }
}

impl Tolerance {
    /// The bar the backend's own ops meet (relative 1e-3, floor 1e-4).
    pub(crate) fn strict() -> Self {
        Tolerance {
            eps: 1e-2,
            rtol: 1e-3,
            atol: 1e-4,
        }
    }
}

/// One leaf input: `[rows, cols]` and its values.
#[derive(Clone, Debug)]
pub(crate) struct Input {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

impl Input {
    /// Uniform values in `[lo, hi)`, seeded.
    pub(crate) fn uniform(rows: usize, cols: usize, lo: f32, hi: f32, seed: u64) -> Input {
        let mut rng = StdRng::seed_from_u64(seed);
        let data = (0..rows * cols).map(|_| rng.gen_range(lo..hi)).collect();
        Input { rows, cols, data }
    }
}

fn leaves(g: &Graph, inputs: &[Input]) -> Vec<Real> {
    inputs
        .iter()
        .map(|i| g.from_vec(i.rows, i.cols, i.data.clone()))
        .collect()
}

/// `sum(f(inputs) * r)` in inference mode, in f64.
fn loss_value<F>(f: &F, inputs: &[Input], r: &[f32]) -> f64
where
    F: Fn(&mut Graph, &[Real]) -> Real,
{
    let mut g = Graph::inference();
    let xs = leaves(&g, inputs);
    let out = f(&mut g, &xs);
    let values = g.to_vec(&out);
    assert_eq!(values.len(), r.len(), "op output changed shape");
    values
        .iter()
        .zip(r)
        .map(|(&v, &w)| v as f64 * w as f64)
        .sum()
}

/// The analytic gradients of `sum(f(inputs) * r)`, one vector per input.
fn analytic<F>(f: &F, inputs: &[Input], r: &[f32]) -> Vec<Vec<f32>>
where
    F: Fn(&mut Graph, &[Real]) -> Real,
{
    let mut g = Graph::training();
    let xs = leaves(&g, inputs);
    let out = f(&mut g, &xs);
    let proj = g.from_vec(out.rows(), out.cols(), r.to_vec());
    let prod = g.binary(Binary::Mul, &out, &proj);
    let loss = if prod.cols() > 0 {
        g.reduce_cols(Reduce::Sum, &prod, prod.cols())
    } else {
        prod
    };
    let grads = g.backward(&loss);
    xs.iter()
        .zip(inputs)
        .map(|(x, i)| grads.get(x).unwrap_or_else(|| vec![0.0; i.data.len()]))
        .collect()
}

/// Checks the gradient of `f` with respect to every input.
pub(crate) fn check_gradients<F>(inputs: &[Input], tol: Tolerance, f: F) -> Result<(), String>
where
    F: Fn(&mut Graph, &[Real]) -> Real,
{
    let shape = {
        let mut g = Graph::inference();
        let xs = leaves(&g, inputs);
        let out = f(&mut g, &xs);
        (out.rows(), out.cols())
    };
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let r: Vec<f32> = (0..shape.0 * shape.1)
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let grads = analytic(&f, inputs, &r);
    let mut errors = Vec::new();
    for (k, input) in inputs.iter().enumerate() {
        if grads[k].len() != input.data.len() {
            errors.push(format!(
                "input {k}: gradient has {} entries",
                grads[k].len()
            ));
            continue;
        }
        for (j, &a) in grads[k].iter().enumerate() {
            let mut shifted = inputs.to_vec();
            shifted[k].data[j] = input.data[j] + tol.eps;
            let up = loss_value(&f, &shifted, &r);
            shifted[k].data[j] = input.data[j] - tol.eps;
            let down = loss_value(&f, &shifted, &r);
            let numeric = ((up - down) / (2.0 * tol.eps as f64)) as f32;
            if (a - numeric).abs() > tol.atol + tol.rtol * a.abs().max(numeric.abs()) {
                errors.push(format!("input {k}[{j}]: analytic {a}, numeric {numeric}"));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// Asserts [`check_gradients`] with [`Tolerance::strict`].
#[track_caller]
pub(crate) fn assert_gradients<F>(inputs: &[Input], f: F)
where
    F: Fn(&mut Graph, &[Real]) -> Real,
{
    if let Err(e) = check_gradients(inputs, Tolerance::strict(), f) {
        panic!("gradient check failed:\n{e}");
    }
}
