//! Watching the values that enter learned pieces (`dp inspect`): every
//! representation-typed part of a learned piece's argument is recorded
//! under its representation's name, in evaluation order; and, to measure
//! noise stability, Gaussian noise of a relative size may be added to
//! every value of one representation before the piece reads it.
//!
//! The probe lives in the [`Context`](super::Context) (`probe`), so any
//! evaluation can be watched; the runtime's other paths to a learned piece
//! (hoisting, fused chains) are turned off while watching, so that every
//! application goes through `apply_learned` and is seen.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::backend::{Binary, Graph, Real};
use crate::ir::ty::{Name, Type};

use super::value::Value;

/// What a watched evaluation saw.
#[derive(Default)]
pub struct Probe {
    /// Each value entering a learned piece: its representation, the width
    /// of one value (a window's row holds several) and its rows.
    pub seen: Vec<(Name, usize, Real)>,
    /// Noise added to one representation's values, if any.
    pub noise: Option<Noise>,
}

/// Gaussian noise added to every value of `rep` entering a learned piece:
/// per row, of norm about `relative` times the row's norm.
pub struct Noise {
    pub rep: Name,
    pub relative: f32,
    rng: ChaCha8Rng,
}

impl Noise {
    pub fn new(rep: Name, relative: f32, seed: u64) -> Noise {
        Noise {
            rep,
            relative,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// `x` plus noise: each value `v` (`width` reals; a row of a window
    /// holds several) gets `relative * |v| / sqrt(width)` times a standard
    /// normal vector.
    fn add(&mut self, graph: &mut Graph, x: &Real, width: usize) -> Real {
        let (rows, cols) = (x.rows(), x.cols());
        let values = graph.to_vec(x);
        let mut noise = Vec::with_capacity(values.len());
        for row in values.chunks(width.max(1)) {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            let scale = self.relative * norm / (width.max(1) as f32).sqrt();
            for _ in row {
                let n: f32 = StandardNormal.sample(&mut self.rng);
                noise.push(scale * n);
            }
        }
        let noise = graph.from_vec(rows, cols, noise);
        graph.binary(Binary::Add, x, &noise)
    }
}

impl Probe {
    /// The argument `x` of a learned piece with domain `domain`, each
    /// representation-typed part recorded (and noised, if it is the noised
    /// representation).
    pub(crate) fn watch(&mut self, graph: &mut Graph, domain: &Type, x: &Value) -> Value {
        match (domain, x) {
            (Type::Rep(name), Value::Real(r)) => self.see(graph, name, r.cols(), r),
            // A window of a representation: each of its elements is a value.
            (Type::Window(dims, inner), Value::Real(r)) => match &**inner {
                Type::Rep(name) => {
                    let k: usize = dims.iter().product();
                    self.see(graph, name, r.cols() / k.max(1), r)
                }
                _ => x.clone(),
            },
            (Type::Tuple(ts), Value::Tuple(parts)) if ts.len() == parts.len() => {
                let parts = ts
                    .iter()
                    .zip(parts.iter())
                    .map(|(t, p)| self.watch(graph, t, p))
                    .collect();
                Value::tuple(parts)
            }
            _ => x.clone(),
        }
    }

    /// Record `r` (values of `width` reals) under `name`, noised first if
    /// `name` is the noised representation.
    fn see(&mut self, graph: &mut Graph, name: &Name, width: usize, r: &Real) -> Value {
        let r = match &mut self.noise {
            Some(noise) if &noise.rep == name => noise.add(graph, r, width),
            _ => r.clone(),
        };
        self.seen.push((name.clone(), width, r.clone()));
        Value::Real(r)
    }
}
