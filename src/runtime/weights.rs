//! The weights of a program's learned pieces and params, as backend tensors.
//!
//! Layout (also the safetensors layout): an affine piece has `weight`
//! `[out, in]` and `bias` `[1, out]` where `out` is the sum of its output
//! parts; an embedding has `table` `[V, dim]`; a param is `[1, size]`.
//! This module holds and initialises weights; it does not train them.

use crate::backend::Real;

#[derive(Clone, Debug)]
pub enum LearnedWeights {
    Affine {
        weight: Real,
        bias: Real,
        /// Sizes of the output parts (a tuple codomain is split).
        outputs: Vec<usize>,
    },
    Embedding {
        table: Real,
    },
}

/// Indexed like `Program::learned` and `Program::params`.
#[derive(Clone, Debug, Default)]
pub struct Weights {
    pub learned: Vec<LearnedWeights>,
    pub params: Vec<Real>,
}
