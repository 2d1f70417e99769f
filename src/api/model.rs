//! [`Model`]: what a program has learned.

use std::fmt;
use std::path::Path;

use super::{on_big_stack, DataSet, Error, Program};
use crate::backend::Graph;
use crate::checkpoint::{self, Checkpoint};
use crate::runtime::{Vocabularies, Weights};
use crate::train::optim::Optimizer;

/// What a program has learned: the vocabularies (open ones grown from the
/// training data) and the weights of its learned pieces and params, with
/// the optimizer state and epoch of a weights file.
///
/// ```
/// let program = dp::Program::from_source("lin.dp", "learn f : R[2] -> Float\nparam p : R[3]")
///     .expect("checks");
/// let model = dp::Model::fresh(&program, 7).expect("fresh weights");
/// assert_eq!(model.parameter_count(), 2 + 1 + 3);
/// assert_eq!(
///     model.tensors(&program),
///     [("f.weight".to_string(), vec![1, 2]), ("f.bias".to_string(), vec![1]), ("p".to_string(), vec![3])]
/// );
/// ```
#[derive(Clone)]
pub struct Model {
    vocabs: Vocabularies,
    weights: Weights,
    optimizer: Option<Optimizer>,
    epoch: usize,
    notes: Vec<String>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("parameters", &self.parameter_count())
            .field("epoch", &self.epoch)
            .finish()
    }
}

impl Model {
    /// Weights drawn as `dp train` draws them from `seed` (params'
    /// initialisers evaluated), the program's declared vocabularies.
    pub fn fresh(program: &Program, seed: u64) -> Result<Model, Error> {
        let compiled = &program.compiled;
        let vocabs = Vocabularies::from_types(&compiled.program.types);
        let weights = on_big_stack(|| crate::train::fresh_weights(compiled, &vocabs, seed))??;
        Ok(Model::from_state(Checkpoint::new(vocabs, weights, None, 0)))
    }

    /// Fresh weights (as [`Model::fresh`]) for the vocabularies grown by
    /// decoding `data` ([`Program::growing_data_from_values`]), as
    /// `dp train` sizes its embeddings by its training data.
    pub fn fresh_for(program: &Program, data: &DataSet, seed: u64) -> Result<Model, Error> {
        let compiled = &program.compiled;
        let vocabs = data.vocabularies().clone();
        let weights = on_big_stack(|| crate::train::fresh_weights(compiled, &vocabs, seed))??;
        Ok(Model::from_state(Checkpoint::new(vocabs, weights, None, 0)))
    }

    /// A weights file, checked against `program` in every tensor and
    /// metadata value (`dp run --weights` loads the same way).
    pub fn load(program: &Program, path: impl AsRef<Path>) -> Result<Model, Error> {
        let compiled = &program.compiled;
        let c = checkpoint::load(path.as_ref(), &compiled.program, &Graph::inference())
            .map_err(|d| program.error(d))?;
        Ok(Model::from_state(c))
    }

    /// Write a weights file atomically (`path` holds the old file or the
    /// new one, never half of one).
    pub fn save(&self, program: &Program, path: impl AsRef<Path>) -> Result<(), Error> {
        let ckpt = self.clone().into_state();
        let compiled = &program.compiled.program;
        checkpoint::save(path.as_ref(), compiled, &Graph::inference(), &ckpt)
            .map_err(|d| program.error(d))
    }

    /// Epochs trained when the weights were saved (0 for fresh ones).
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Things worth telling about a loaded file (one written by another
    /// tool, say).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The number of learned reals.
    pub fn parameter_count(&self) -> usize {
        self.weights
            .tensors()
            .iter()
            .map(|t| t.rows() * t.cols())
            .sum()
    }

    /// Each weight tensor's name and shape, as the weights file stores them.
    pub fn tensors(&self, program: &Program) -> Vec<(String, Vec<usize>)> {
        self.weights
            .names(&program.compiled.program)
            .into_iter()
            .map(|n| (n.name, n.shape))
            .collect()
    }

    /// A model of a weights file's contents.
    pub(crate) fn from_state(c: Checkpoint) -> Model {
        Model {
            vocabs: c.vocabs,
            weights: c.weights,
            optimizer: c.optimizer,
            epoch: c.epoch,
            notes: c.notes,
        }
    }

    /// What a weights file of this model holds.
    pub(crate) fn into_state(self) -> Checkpoint {
        Checkpoint::new(self.vocabs, self.weights, self.optimizer, self.epoch)
    }

    /// The vocabularies and weights, for the runtime.
    pub fn parts(&self) -> (&Vocabularies, &Weights) {
        (&self.vocabs, &self.weights)
    }
}
