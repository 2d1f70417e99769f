//! dp's initialisers for the baselines: N(0, 1) embeddings and
//! Glorot-uniform affine weights.

use dfdx::prelude::*;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal, Uniform};

pub fn gaussian(rng: &mut StdRng, n: usize) -> Vec<f32> {
    let d = Normal::new(0.0f32, 1.0).expect("normal");
    (0..n).map(|_| d.sample(rng)).collect()
}

/// An `[O, I]` weight, uniform in ±sqrt(6 / (I + O)).
pub fn glorot<const O: usize, const I: usize>(
    dev: &Cpu,
    rng: &mut StdRng,
) -> Tensor<Rank2<O, I>, f32, Cpu> {
    let limit = (6.0 / (I + O) as f32).sqrt();
    let d = Uniform::new_inclusive(-limit, limit);
    dev.tensor_from_vec((0..O * I).map(|_| d.sample(rng)).collect(), (Const, Const))
}
