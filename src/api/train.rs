//! [`Trainer`]: training a [`Model`] from data held in memory, one step
//! or one epoch at a time, as `dp train` does (same order of examples for
//! the same seed, same updates, same figures). Nothing is printed:
//! progress goes to the caller's callback.

use std::path::Path;

use super::{on_big_stack, DataSet, Error, Model, Program};
use crate::codec::Example;
use crate::diagnostic::Diagnostic;
use crate::train::{self, EpochReport, Settings};

/// A model being trained on one objective of a program.
///
/// ```
/// use serde_json::json;
/// let program = dp::Program::from_source(
///     "fit.dp",
///     "learn f : R[1] -> Float\ndef loss ((x, y) : (R[1], Float)) : Float = (f x - y) * (f x - y)",
/// )
/// .expect("checks");
/// // y = 2x + 1, as data built in Rust.
/// let values: Vec<_> = (0..16).map(|i| { let x = i as f64 / 8.0; json!([[x], 2.0 * x + 1.0]) }).collect();
/// let model = dp::Model::fresh(&program, 0).expect("weights");
/// let data = program.data_from_values(&model, "loss", &values).expect("decodes");
/// let mut settings = dp::TrainSettings::new("loss");
/// settings.batch = 4;
/// settings.lr = Some(0.1);
/// let mut trainer = dp::Trainer::new(&program, model, settings).expect("loss is an objective");
/// let before = trainer.validate(&data).expect("evaluates").objective;
/// for _ in 0..30 {
///     trainer.epoch(&data, None, |_done| {}).expect("trains");
/// }
/// let after = trainer.validate(&data).expect("evaluates").objective;
/// assert!(after < before / 10.0, "{before} -> {after}");
/// assert_eq!(trainer.model().epoch(), 30);
/// ```
pub struct Trainer<'p> {
    program: &'p Program,
    inner: train::Trainer<'p>,
}

impl std::fmt::Debug for Trainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("settings", self.inner.settings())
            .field("epochs_done", &self.epochs_done())
            .finish()
    }
}

/// The objective and the metric over a validation set.
#[derive(Clone, Debug, PartialEq)]
pub struct Validation {
    pub objective: f64,
    /// The settings' metrics, by name, in order.
    pub metrics: Vec<(String, f64)>,
}

impl<'p> Trainer<'p> {
    /// Train `model` (fresh, or loaded: then its optimizer state and epoch
    /// count continue, as with `dp train --resume`) on `settings.objective`,
    /// which must be a function to `Float` (the metric one of the same
    /// type).
    pub fn new(
        program: &'p Program,
        model: Model,
        settings: Settings,
    ) -> Result<Trainer<'p>, Error> {
        let compiled = program.compiled();
        let inner = train::Trainer::new(compiled, settings, model.into_state())
            .map_err(|d| program.error(d))?;
        Ok(Trainer { program, inner })
    }

    /// One step on `batch` (all its examples, as one minibatch): returns
    /// their mean objective. A non-finite objective or gradient is an
    /// error and changes no weight.
    pub fn step(&mut self, batch: &DataSet) -> Result<f32, Error> {
        let examples = self.examples(batch)?;
        let refs: Vec<&Example> = examples.iter().collect();
        let inner = &mut self.inner;
        on_big_stack(|| inner.step(&refs))?.map_err(|s| self.program.error(s.diagnostic()))
    }

    /// One epoch over `train` in minibatches of the settings' size, in an
    /// order drawn from the settings' seed and the epoch number; `progress`
    /// is told the number of examples done after each step. Then the
    /// objective and metric over `valid`, if given.
    pub fn epoch(
        &mut self,
        train: &DataSet,
        valid: Option<&DataSet>,
        mut progress: impl FnMut(usize),
    ) -> Result<EpochReport, Error> {
        let train = self.examples(train)?;
        let valid = match valid {
            Some(v) => self.examples(v)?,
            None => &[],
        };
        let inner = &mut self.inner;
        on_big_stack(|| inner.epoch(train, valid, &mut |done, _| progress(done)))?
            .map_err(|s| self.program.error(s.diagnostic()))
    }

    /// The mean objective (and metric) over `data`, with the weights as
    /// they are; nothing is trained.
    pub fn validate(&self, data: &DataSet) -> Result<Validation, Error> {
        let examples = self.examples(data)?;
        if examples.is_empty() {
            return Err(self.program.error(Diagnostic::new(
                crate::diagnostic::Code::BadData,
                "the validation data has no examples",
            )));
        }
        let inner = &self.inner;
        let (objective, metrics) =
            on_big_stack(|| inner.validate(examples))?.map_err(|d| self.program.error(d))?;
        Ok(Validation {
            objective: objective.unwrap_or(f64::NAN),
            metrics,
        })
    }

    /// Epochs completed, counting those of a loaded model.
    pub fn epochs_done(&self) -> usize {
        self.inner.epochs_done()
    }

    /// The model as trained so far, with its optimizer state: save it to
    /// continue later (`Model::load` and a new `Trainer`).
    pub fn model(&self) -> Model {
        Model::from_state(self.inner.state())
    }

    /// Save the model as trained so far ([`Model::save`]).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.model().save(self.program, path)
    }

    /// A data set's examples, if it holds the objective's argument type
    /// and was decoded with this model's vocabularies.
    fn examples<'d>(&self, data: &'d DataSet) -> Result<&'d [Example], Error> {
        data.examples_for(
            self.program,
            self.inner.argument_type(),
            self.inner.vocabularies(),
        )
    }
}
