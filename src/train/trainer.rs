//! The trainer: a program's weights being trained on one objective, one
//! minibatch step or one epoch at a time. Each step is one forward and one
//! backward pass over the whole batch, then one optimizer step that updates
//! the weights in place; an epoch visits the examples in a seeded order and
//! validates at its end. Nothing here reads files or writes to a terminal:
//! progress goes to the caller's callback.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::time::Instant;

use super::nonfinite::{self, At, NonFinite};
use super::objectives::{self, Objective};
use super::optim::{Optimizer, OptimizerKind};
use super::{mean_over, EpochReport};
use crate::backend::{Gradients, Graph, Reduce};
use crate::checkpoint::Checkpoint;
use crate::codec::{self, Example};
use crate::diagnostic::{Code, Diagnostic};
use crate::driver::Compiled;
use crate::ir::ty::Type;
use crate::runtime::random::Draws;
use crate::runtime::{self, global_function, Context, Value, Vocabularies};

/// What a run optimises and how, as plain data (no files, no epochs).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The objective to minimise: a def (a function to `Float`; every
    /// piece moves) or a declared `objective` (its pieces move).
    pub objective: String,
    /// Further objectives (spec 11.2): on each minibatch, one step of
    /// `objective`, then one of each of these, in order.
    pub then: Vec<String>,
    /// Defs of the objective's type averaged over validation data, each
    /// reported.
    pub metrics: Vec<String>,
    /// Examples per minibatch (at least 1).
    pub batch: usize,
    pub optimizer: OptimizerKind,
    /// The learning rate; `None` for the optimizer's default.
    pub lr: Option<f32>,
    /// Seeds the order of the examples in each epoch.
    pub seed: u64,
    /// Measure each step's gradient norm for the epoch report (a pass over
    /// every gradient: 7% of a TreeNet's step, so only when asked, as by
    /// `--log`).
    pub grad_norm: bool,
}

impl Settings {
    /// `dp train`'s defaults for `objective`: batches of 32, Adam at its
    /// default rate, seed 0.
    pub fn new(objective: &str) -> Settings {
        Settings {
            objective: objective.to_string(),
            then: Vec::new(),
            metrics: Vec::new(),
            batch: 32,
            optimizer: OptimizerKind::Adam,
            lr: None,
            seed: 0,
            grad_norm: false,
        }
    }
}

/// Why a step or an epoch stopped.
#[derive(Debug)]
pub enum Stop {
    Error(Diagnostic),
    /// A non-finite objective or gradient; the weights are those before
    /// the step, so still finite.
    NonFinite(Diagnostic),
}

impl Stop {
    pub fn diagnostic(self) -> Diagnostic {
        match self {
            Stop::Error(d) | Stop::NonFinite(d) => d,
        }
    }
}

/// Weights being trained: the program, the settings, the vocabularies,
/// the weights with their optimizer, and the epochs completed.
///
/// The optimizer updates host copies of the weights in place (no copy of
/// every weight and gradient to the host and back per step: gradients are
/// read where the backward pass left them) and each step gives each weight
/// a copy of them (`Graph::overwrite`).
pub struct Trainer<'a> {
    compiled: &'a Compiled,
    settings: Settings,
    arg_ty: Type,
    state: Checkpoint,
    optimizer: Optimizer,
    /// One host copy per weight tensor, in `Weights::tensors` order.
    host: Vec<Vec<f32>>,
    /// Steps taken in the epoch under way (for diagnostics).
    steps: usize,
    /// The objectives stepped on each minibatch, in order.
    run: Vec<Objective>,
    /// The L2 norm of the last backward pass's gradient (over the pieces
    /// its objective moves), for the run's record.
    last_norm: std::cell::Cell<f64>,
    /// The sum of the first objective's gradient norms in the epoch under way.
    norms: f64,
}

impl<'a> Trainer<'a> {
    /// Start from `state` (fresh weights, or loaded ones whose optimizer
    /// state and epoch count it continues when the optimizer is the same
    /// kind). The objective must be a function to `Float`, the metric one
    /// of the same type.
    pub fn new(
        compiled: &'a Compiled,
        settings: Settings,
        state: Checkpoint,
    ) -> Result<Trainer<'a>, Diagnostic> {
        let arg_ty = objectives::argument(compiled, &settings)?;
        let run = objectives::run(&compiled.program, &settings, &state.weights);
        if let Some(lr) = settings.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
            return Err(Diagnostic::new(
                Code::RuntimeError,
                format!("the learning rate must be a finite number above 0, not {lr}"),
            ));
        }
        let graph = Graph::inference();
        let host: Vec<Vec<f32>> = state
            .weights
            .tensors()
            .iter()
            .map(|t| graph.to_vec(t))
            .collect();
        let lr = settings.lr.unwrap_or(settings.optimizer.default_lr());
        let optimizer = match &state.optimizer {
            Some(o) if o.kind == settings.optimizer => Optimizer { lr, ..o.clone() },
            _ => {
                let sizes: Vec<usize> = host.iter().map(Vec::len).collect();
                Optimizer::new(settings.optimizer, lr, &sizes)
            }
        };
        Ok(Trainer {
            compiled,
            settings,
            arg_ty,
            state,
            optimizer,
            host,
            steps: 0,
            run,
            last_norm: std::cell::Cell::new(0.0),
            norms: 0.0,
        })
    }

    /// The objective's argument type: what the examples must be.
    pub fn argument_type(&self) -> &Type {
        &self.arg_ty
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The objectives stepped on each minibatch, in order.
    pub fn objectives(&self) -> &[Objective] {
        &self.run
    }

    /// Epochs completed (counting those of a resumed state).
    pub fn epochs_done(&self) -> usize {
        self.state.epoch
    }

    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    pub fn vocabularies(&self) -> &Vocabularies {
        &self.state.vocabs
    }

    /// The state as a weights file stores it (with the optimizer state).
    pub fn state(&self) -> Checkpoint {
        Checkpoint::new(
            self.state.vocabs.clone(),
            self.state.weights.clone(),
            Some(self.optimizer.clone()),
            self.state.epoch,
        )
    }

    /// The evaluation context of the current weights, drawing as in the
    /// current epoch (while training: `dropout` drops) for the examples at
    /// `positions` of their data set.
    fn context<'c>(&'c self, positions: &'c [u64], training: bool) -> Context<'c> {
        let mut ctx = Context::new(
            &self.compiled.program,
            &self.state.vocabs,
            &self.state.weights,
        );
        ctx.draws = Draws {
            seed: self.settings.seed,
            epoch: self.state.epoch as u64 + 1,
            training,
            positions,
        };
        ctx
    }

    /// One step on one minibatch: returns its mean objective. A
    /// non-finite objective or gradient changes no weight.
    pub fn step(&mut self, examples: &[&Example]) -> Result<f32, Stop> {
        let positions: Vec<u64> = (0..examples.len() as u64).collect();
        Ok(self.step_at(examples, &positions)?[0])
    }

    /// [`Trainer::step`] on examples at `positions` of their data set (what
    /// their random draws depend on): one step of each objective of the
    /// run, in order; each objective's mean. A non-finite objective or
    /// gradient stops the step before that objective changes a weight.
    fn step_at(&mut self, examples: &[&Example], positions: &[u64]) -> Result<Vec<f32>, Stop> {
        if examples.is_empty() {
            return Err(Stop::Error(Diagnostic::new(
                Code::BadData,
                "a training step needs at least one example",
            )));
        }
        self.steps += 1;
        let at = At {
            epoch: self.state.epoch + 1,
            batch: self.steps,
        };
        let when = || format!("in epoch {}, batch {}", at.epoch, at.batch);
        let mut losses = Vec::with_capacity(self.run.len());
        for k in 0..self.run.len() {
            match self.try_step(k, examples, positions) {
                Ok(Ok(loss)) => {
                    if k == 0 {
                        self.norms += self.last_norm.get();
                    }
                    losses.push(loss)
                }
                Ok(Err(nf)) => return Err(Stop::NonFinite(nf.diagnostic(at))),
                Err(d) => return Err(Stop::Error(d.note(when()))),
            }
        }
        Ok(losses)
    }

    /// One epoch over `train` in a seeded order, `progress` told the
    /// number of examples done after each step; then the objective and
    /// metric over `valid` (if any).
    pub fn epoch(
        &mut self,
        train: &[Example],
        valid: &[Example],
        progress: &mut dyn FnMut(usize, &[f32]),
    ) -> Result<EpochReport, Stop> {
        let epoch = self.state.epoch + 1;
        let started = Instant::now();
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(
            self.settings.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9),
        );
        order.shuffle(&mut rng);
        self.steps = 0;
        self.norms = 0.0;
        let (mut totals, mut done) = (vec![0.0f64; self.run.len()], 0usize);
        for chunk in order.chunks(self.settings.batch.max(1)) {
            let examples: Vec<&Example> = chunk.iter().filter_map(|&i| train.get(i)).collect();
            let positions: Vec<u64> = chunk.iter().map(|&i| i as u64).collect();
            let losses = self.step_at(&examples, &positions)?;
            for (total, &loss) in totals.iter_mut().zip(&losses) {
                *total += loss as f64 * examples.len() as f64;
            }
            done += examples.len();
            progress(done, &losses);
        }
        let means: Vec<f64> = totals
            .iter()
            .map(|t| t / train.len().max(1) as f64)
            .collect();
        let each = match self.run.len() {
            1 => Vec::new(),
            _ => self
                .run
                .iter()
                .map(|o| o.name.clone())
                .zip(means.iter().copied())
                .collect(),
        };
        let seconds = started.elapsed().as_secs_f64().max(1e-9);
        let grad_norm = (self.settings.grad_norm).then(|| self.norms / self.steps.max(1) as f64);
        let (valid_objective, metrics) = self.validate(valid).map_err(Stop::Error)?;
        let valid_each = self.validate_each(valid).map_err(Stop::Error)?;
        self.state.epoch = epoch;
        self.steps = 0;
        Ok(EpochReport {
            epoch,
            objective: means.first().copied().unwrap_or(0.0),
            each,
            valid_objective,
            valid_each,
            metrics,
            examples_per_second: train.len() as f64 / seconds,
            grad_norm,
            learning_rate: self
                .settings
                .lr
                .unwrap_or(self.settings.optimizer.default_lr()),
        })
    }

    /// With several objectives: each one's name and mean over `valid`
    /// (empty for one objective or no data).
    fn validate_each(&self, valid: &[Example]) -> Result<Vec<(String, f64)>, Diagnostic> {
        if self.run.len() < 2 || valid.is_empty() {
            return Ok(Vec::new());
        }
        let ctx = self.context(&[], false);
        let mut out = Vec::with_capacity(self.run.len());
        for o in &self.run {
            if let Some(v) = mean_over(&ctx, &o.def, valid, &self.arg_ty)? {
                out.push((o.name.clone(), v));
            }
        }
        Ok(out)
    }

    /// The mean objective and the mean metric (named) over `valid`; `None`
    /// for an empty set.
    #[allow(clippy::type_complexity)]
    pub fn validate(
        &self,
        valid: &[Example],
    ) -> Result<(Option<f64>, Vec<(String, f64)>), Diagnostic> {
        let ctx = self.context(&[], false);
        let objective = mean_over(&ctx, &self.run[0].def, valid, &self.arg_ty)?;
        let mut metrics = Vec::new();
        for m in &self.settings.metrics {
            if let Some(v) = mean_over(&ctx, m, valid, &self.arg_ty)? {
                metrics.push((m.clone(), v));
            }
        }
        Ok((objective, metrics))
    }

    /// The batch's mean objective and its gradient with respect to every
    /// weight tensor (in `Weights::tensors` order; zeros for a tensor that
    /// took no part), computed exactly as a step computes them; nothing is
    /// updated. The reference that gradient checks compare with.
    pub fn gradients(&self, examples: &[&Example]) -> Result<(f32, Vec<Vec<f32>>), Stop> {
        let positions: Vec<u64> = (0..examples.len() as u64).collect();
        self.gradients_at(examples, &positions)
    }

    /// [`Trainer::gradients`] of examples at `positions` of their data set
    /// (what their random draws depend on).
    pub fn gradients_at(
        &self,
        examples: &[&Example],
        positions: &[u64],
    ) -> Result<(f32, Vec<Vec<f32>>), Stop> {
        let at = At {
            epoch: self.state.epoch + 1,
            batch: self.steps + 1,
        };
        let mut graph = Graph::training();
        let (grads, value) = match self.backward(&mut graph, 0, examples, positions) {
            Ok(Ok(g)) => g,
            Ok(Err(nf)) => return Err(Stop::NonFinite(nf.diagnostic(at))),
            Err(d) => return Err(Stop::Error(d)),
        };
        let tensors = self.state.weights.tensors();
        let each = tensors.iter().map(|t| {
            grads
                .get(t)
                .unwrap_or_else(|| vec![0.0; t.rows() * t.cols()])
        });
        Ok((value, each.collect()))
    }

    /// The forward and backward pass and the update; `Ok(Err(_))` for a
    /// non-finite objective or gradient (weights untouched).
    fn try_step(
        &mut self,
        k: usize,
        examples: &[&Example],
        positions: &[u64],
    ) -> Result<Result<f32, NonFinite>, Diagnostic> {
        let mut graph = Graph::training();
        let (grads, value) = match self.backward(&mut graph, k, examples, positions)? {
            Ok(v) => v,
            Err(nf) => return Ok(Err(nf)),
        };
        let optimizer = &mut self.optimizer;
        // One optimizer step per minibatch, whatever the objectives.
        if k == 0 {
            optimizer.begin_step();
        }
        let objective = &self.run[k];
        let tensors = self.state.weights.tensors_mut();
        for (slot, (t, p)) in tensors.into_iter().zip(&mut self.host).enumerate() {
            if !objective.moves(slot) {
                continue;
            }
            if grads.with(t, |g| optimizer.update(slot, p, g)).is_some() {
                graph.overwrite(t, p);
            }
        }
        Ok(Ok(value))
    }

    /// The forward and the backward pass: the gradients and the batch's
    /// mean objective; `Ok(Err(_))` if it or a gradient is not finite.
    #[allow(clippy::type_complexity)]
    fn backward(
        &self,
        graph: &mut Graph,
        k: usize,
        examples: &[&Example],
        positions: &[u64],
    ) -> Result<Result<(Gradients, f32), NonFinite>, Diagnostic> {
        let (mean, value) = match self.forward(graph, k, examples, positions)? {
            Ok(v) => v,
            Err(nf) => return Ok(Err(nf)),
        };
        let grads = graph.backward(&mean);
        let program = &self.compiled.program;
        let mut squares = 0.0f64;
        let measure = self.settings.grad_norm;
        for (slot, t) in self.state.weights.tensors().iter().enumerate() {
            if !self.run[k].moves(slot) {
                continue;
            }
            let bad = grads.with(t, |g| {
                if measure {
                    squares += g.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
                }
                super::nonfinite::first_non_finite(g)
            });
            if let Some(Some(value)) = bad {
                let names = self.state.weights.names(program);
                let tensor = names.get(slot).map_or(String::new(), |n| n.name.clone());
                return Ok(Err(NonFinite::Gradient { value, tensor }));
            }
        }
        self.last_norm.set(squares.sqrt());
        Ok(Ok((grads, value)))
    }

    /// The batch's mean objective, as a tensor on `graph`'s tape and as a
    /// number; `Ok(Err(_))` if it is not finite.
    #[allow(clippy::type_complexity)]
    fn forward(
        &self,
        graph: &mut Graph,
        k: usize,
        examples: &[&Example],
        positions: &[u64],
    ) -> Result<Result<(crate::backend::Real, f32), NonFinite>, Diagnostic> {
        let ctx = self.context(positions, true);
        let program = &self.compiled.program;
        let objective = &self.run[k].def;
        let arg = codec::assemble(graph, examples, &self.arg_ty, &program.types);
        let f = global_function(&ctx, graph, objective, examples.len())?;
        let span = crate::source::Span::default();
        let Value::Real(losses) = runtime::apply(&ctx, graph, &f, vec![arg], span)? else {
            return Err(Diagnostic::new(
                Code::RuntimeError,
                "internal: the objective did not produce reals",
            ));
        };
        let sum = graph.reduce_segments(Reduce::Sum, &losses, &[0, examples.len()]);
        let mean = graph.affine_scalar(&sum, 1.0 / examples.len() as f32, 0.0);
        let value = graph.to_vec(&mean).first().copied().unwrap_or(f32::NAN);
        if !value.is_finite() {
            let def = nonfinite::locate(self.compiled, &ctx, objective, examples, &self.arg_ty);
            return Ok(Err(NonFinite::Objective { value, def }));
        }
        Ok(Ok((mean, value)))
    }
}
