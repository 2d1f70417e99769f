//! Training: data decoded by the objective's parameter type, minibatches
//! evaluated as one batched computation with one tape, gradients applied
//! by an optimizer, validation and metrics each epoch, checkpoints.
//!
//! One forward and one backward pass per minibatch: the batch is assembled
//! into batched values (`codec::assemble`) and the objective is applied to
//! all examples at once; there is no loop over examples here. This module
//! does not parse or check programs (it receives a `Compiled`).

mod nonfinite;
pub mod objectives;
pub mod optim;
pub mod plot;
pub mod record;
mod trainer;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::backend::Graph;
use crate::checkpoint::{self, Checkpoint};
use crate::codec::{self, data_errors, Example};
use crate::diagnostic::{Code, Diagnostic, Failure};
use crate::driver::{read_text, Compiled};
use crate::ir::ty::Type;
use crate::runtime::global_function;
use crate::runtime::random::Draws;
use crate::runtime::{self, Context, Value, Vocabularies, Weights};
use optim::{Optimizer, OptimizerKind};
pub use record::Keep;
pub use trainer::{Settings, Stop, Trainer};

/// Examples per batch when evaluating (validation, metrics).
const EVAL_BATCH: usize = 256;

/// A whole training run as `dp train`'s flags describe it, as plain data:
/// files to read and write, and the number of epochs.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Training data (JSON Lines, one objective argument per line).
    pub data: PathBuf,
    pub valid: Option<PathBuf>,
    /// What to minimise: a def, or a declared `objective`.
    pub objective: String,
    /// Further objectives, each one step per minibatch after `objective`.
    pub then: Vec<String>,
    /// Defs averaged over the validation data each epoch.
    pub metrics: Vec<String>,
    pub epochs: usize,
    pub batch: usize,
    pub optimizer: OptimizerKind,
    /// The learning rate; `None` for the optimizer's default.
    pub lr: Option<f32>,
    pub seed: u64,
    /// Where to write the trained weights.
    pub save: Option<PathBuf>,
    /// Weights (and optimizer state) to continue from.
    pub resume: Option<PathBuf>,
    /// Threads for the kernels; `None` leaves the current setting.
    pub threads: Option<usize>,
    /// A JSON Lines record of the run, one line per epoch.
    pub log: Option<PathBuf>,
    /// With `log`: also a line every this many minibatches.
    pub log_every: Option<usize>,
    /// Save the epoch with the best first metric instead of the last.
    pub keep_best: Option<Keep>,
    /// An SVG picture of the training curves, rewritten after every epoch.
    pub plot: Option<PathBuf>,
}

impl TrainConfig {
    /// What the run optimises and how.
    pub fn settings(&self) -> Settings {
        Settings {
            objective: self.objective.clone(),
            then: self.then.clone(),
            metrics: self.metrics.clone(),
            batch: self.batch,
            optimizer: self.optimizer,
            lr: self.lr,
            seed: self.seed,
            grad_norm: self.log.is_some(),
        }
    }
}

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    /// The mean objective over the epoch's steps (the first objective's,
    /// when the run has several).
    pub objective: f64,
    /// With several objectives: each one's name and mean, in order
    /// (empty for one).
    pub each: Vec<(String, f64)>,
    pub valid_objective: Option<f64>,
    /// With several objectives and validation data: each one's name and
    /// mean over the validation data, in order (empty otherwise).
    pub valid_each: Vec<(String, f64)>,
    /// Each metric's name and mean over the validation data, in order.
    pub metrics: Vec<(String, f64)>,
    pub examples_per_second: f64,
    /// The mean over the epoch's steps of the L2 norm of the (first)
    /// objective's gradient, when the settings ask for it.
    pub grad_norm: Option<f64>,
    pub learning_rate: f32,
}

/// How a run is going, for the caller to show: after each step, and at
/// the end of each epoch (where the caller may stop the run).
#[derive(Clone, Copy, Debug)]
pub enum Progress<'r> {
    /// `done` of `total` examples of `epoch` trained.
    Step {
        epoch: usize,
        done: usize,
        total: usize,
    },
    /// An epoch completed; `last` is the run's last epoch number.
    Epoch {
        report: &'r EpochReport,
        last: usize,
    },
}

/// The result of `dp train`.
pub struct Trained {
    pub vocabs: Vocabularies,
    pub weights: Weights,
    pub optimizer: Optimizer,
    pub epochs_done: usize,
    pub reports: Vec<EpochReport>,
    /// Notes on the weights resumed from, for stderr.
    pub notes: Vec<String>,
    /// Warnings about the run (a piece no objective updates), with spans.
    pub warnings: Vec<Diagnostic>,
    /// The caller stopped the run before its last epoch.
    pub interrupted: bool,
    /// With `--keep-best`: the epoch saved, its metric and value.
    pub kept: Option<(usize, String, f64)>,
}

struct Data {
    train: Vec<Example>,
    valid: Vec<Example>,
}

/// Train as `dp train` does: read the data (and `--resume` weights), run
/// the epochs, save. `observe` hears of every step and epoch, and stops
/// the run after an epoch by returning `Break`. Prints nothing.
pub fn train(
    compiled: &Compiled,
    config: &TrainConfig,
    observe: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<Trained, Failure> {
    train_from(compiled, config, None, observe)
}

/// [`train`], continuing from `start` (a state held in memory, as the
/// REPL's session weights) unless `config.resume` names a file: as if
/// `start` had been saved and given as `--resume`.
pub fn train_from(
    compiled: &Compiled,
    config: &TrainConfig,
    start: Option<Checkpoint>,
    observe: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<Trained, Failure> {
    let fail = |d: Diagnostic| Failure::with(&compiled.sources, d);
    let program = &compiled.program;
    let resume = match &config.resume {
        Some(p) => Some(checkpoint::load(p, program, &Graph::inference()).map_err(fail)?),
        None => start,
    };
    let mut vocabs = resume.as_ref().map_or_else(
        || Vocabularies::from_types(&program.types),
        |r| r.vocabs.clone(),
    );
    let arg_ty = objectives::argument(compiled, &config.settings()).map_err(fail)?;
    let data = load_data(compiled, config, &arg_ty, &mut vocabs, resume.is_none())?;
    let resumed = resume.is_some();
    let (start, notes) = match resume {
        Some(r) => {
            let notes = r.notes.clone();
            (Checkpoint { vocabs, ..r }, notes)
        }
        None => {
            let weights = fresh_weights(compiled, &vocabs, config.seed)?;
            (Checkpoint::new(vocabs, weights, None, 0), Vec::new())
        }
    };
    let mut trainer = Trainer::new(compiled, config.settings(), start).map_err(fail)?;
    let warnings =
        objectives::unmoved_pieces(program, &trainer.state().weights, trainer.objectives());
    let first = trainer.epochs_done();
    let last = first + config.epochs;
    let mut reports = Vec::new();
    let mut last_finite = (trainer.state(), resumed);
    let mut interrupted = false;
    let mut log = match &config.log {
        Some(path) => Some(record::RunLog::create(path).map_err(fail)?),
        None => None,
    };
    let mut best = config.keep_best.map(record::Best::new);
    for epoch in first + 1..=last {
        let total = data.train.len();
        let (mut batch, mut failed) = (0usize, None);
        let mut step = |done, losses: &[f32]| {
            batch += 1;
            if let (Some(log), Some(n)) = (&mut log, config.log_every) {
                if batch % n == 0 && failed.is_none() {
                    failed = log.batch(epoch, batch, done, losses).err();
                }
            }
            let _ = observe(Progress::Step { epoch, done, total });
        };
        let report = trainer.epoch(&data.train, &data.valid, &mut step);
        if let Some(d) = failed {
            return Err(fail(d));
        }
        let report = match report {
            Ok(report) => report,
            Err(Stop::Error(d)) => return Err(fail(d)),
            Err(Stop::NonFinite(d)) => {
                return Err(fail(keep_last_finite(compiled, config, &last_finite, d)))
            }
        };
        last_finite = (trainer.state(), true);
        if let Some(log) = &mut log {
            log.epoch(&report).map_err(fail)?;
        }
        if let Some(best) = &mut best {
            best.consider(&report, || trainer.state());
        }
        let stop = observe(Progress::Epoch {
            report: &report,
            last,
        });
        reports.push(report);
        if let Some(path) = &config.plot {
            plot::write_curves(path, &reports).map_err(fail)?;
        }
        if stop.is_break() && epoch < last {
            interrupted = true;
            break;
        }
    }
    let optimizer = trainer.optimizer().clone();
    let (kept, state) = match best.and_then(|b| b.kept) {
        Some((epoch, name, value, state)) => (Some((epoch, name, value)), state),
        None => (None, trainer.state()),
    };
    let optimizer = state.optimizer.clone().unwrap_or(optimizer);
    let trained = Trained {
        vocabs: state.vocabs,
        weights: state.weights,
        optimizer,
        epochs_done: state.epoch,
        reports,
        notes,
        warnings,
        interrupted,
        kept,
    };
    if let Some(path) = &config.save {
        save(compiled, path, &trained).map_err(fail)?;
    }
    Ok(trained)
}

/// After a non-finite stop: save the last finite state to `--save` (if
/// it holds trained or resumed weights) and say so in the diagnostic.
fn keep_last_finite(
    compiled: &Compiled,
    config: &TrainConfig,
    (last, trained): &(Checkpoint, bool),
    d: Diagnostic,
) -> Diagnostic {
    let Some(path) = &config.save else {
        return d;
    };
    if !trained {
        return d.note(format!(
            "no epoch was completed, so nothing was saved to `{}`",
            path.display()
        ));
    }
    match checkpoint::save(path, &compiled.program, &Graph::inference(), last) {
        Ok(()) => d.note(format!(
            "`{}` holds the last finite weights, those of epoch {}",
            path.display(),
            last.epoch
        )),
        Err(e) => d.note(format!(
            "the last finite weights could not be saved: {}",
            e.message
        )),
    }
}

/// Write a trained state to a weights file.
pub fn save(compiled: &Compiled, path: &std::path::Path, t: &Trained) -> Result<(), Diagnostic> {
    let ckpt = Checkpoint::new(
        t.vocabs.clone(),
        t.weights.clone(),
        Some(t.optimizer.clone()),
        t.epochs_done,
    );
    checkpoint::save(path, &compiled.program, &Graph::inference(), &ckpt)
}

pub fn format_report(r: &EpochReport, total: usize) -> String {
    let mut line = format!("epoch {}/{}", r.epoch, total);
    if r.each.is_empty() {
        line.push_str(&format!("  objective {:.4}", r.objective));
    }
    for (name, v) in &r.each {
        line.push_str(&format!("  {name} {v:.4}"));
    }
    match (r.valid_objective, r.valid_each.is_empty()) {
        (Some(v), true) => line.push_str(&format!("  valid {v:.4}")),
        _ => {
            for (name, v) in &r.valid_each {
                line.push_str(&format!("  valid {name} {v:.4}"));
            }
        }
    }
    for (name, m) in &r.metrics {
        line.push_str(&format!("  {name} {m:.4}"));
    }
    line.push_str(&format!("  {:.0} examples/s", r.examples_per_second));
    line
}

fn load_data(
    compiled: &Compiled,
    config: &TrainConfig,
    arg_ty: &Type,
    vocabs: &mut Vocabularies,
    grow: bool,
) -> Result<Data, Failure> {
    let program = &compiled.program;
    let fail = |diagnostics| Failure {
        sources: compiled.sources.clone(),
        diagnostics,
    };
    let decode = |path: &Path, vocabs: &mut Vocabularies, grow: bool| {
        let text = read_text(path).map_err(|d| fail(vec![d]))?;
        codec::decode_lines(&text, arg_ty, &program.types, vocabs, grow)
            .map_err(|e| fail(data_errors(path, arg_ty, e)))
    };
    let no_examples = |path: &Path| {
        fail(vec![Diagnostic::new(
            Code::BadData,
            format!("`{}` has no examples", path.display()),
        )])
    };
    let train = decode(&config.data, vocabs, grow)?;
    if train.is_empty() {
        return Err(no_examples(&config.data));
    }
    let valid = match &config.valid {
        Some(p) => decode(p, vocabs, false)?,
        None => Vec::new(),
    };
    if let Some(p) = config.valid.as_deref().filter(|_| valid.is_empty()) {
        return Err(no_examples(p));
    }
    Ok(Data { train, valid })
}

/// Fresh weights, with `param p : T = init` initialisers evaluated.
/// The epoch number the draws of `param` initialisers use.
pub const INIT_EPOCH: u64 = u64::MAX;

pub fn fresh_weights(
    compiled: &Compiled,
    vocabs: &Vocabularies,
    seed: u64,
) -> Result<Weights, Failure> {
    let program = &compiled.program;
    let mut graph = Graph::inference();
    let mut weights = runtime::weights::initialise(program, vocabs, &graph, seed);
    for (i, p) in program.params.iter().enumerate() {
        let Some(init) = &p.init else { continue };
        // `normal` and `uniform` in initialisers draw from `seed`, each
        // param as its own example in an epoch of its own (no run's draws
        // coincide with them).
        let position = [i as u64];
        let mut ctx = Context::new(program, vocabs, &weights);
        ctx.draws = Draws {
            seed,
            epoch: INIT_EPOCH,
            training: false,
            positions: &position,
        };
        let value = runtime::eval_closed(&ctx, &mut graph, init, 1).map_err(|d| Failure {
            sources: compiled.sources.clone(),
            diagnostics: vec![d],
        })?;
        let packed = runtime::layout::pack(&mut graph, &value, init.span).map_err(|d| Failure {
            sources: compiled.sources.clone(),
            diagnostics: vec![d],
        })?;
        let data = graph.to_vec(&packed);
        weights.params[i] = graph.from_vec(1, data.len(), data);
    }
    initial_biases(compiled, vocabs, &mut weights, &mut graph)?;
    Ok(weights)
}

/// `learn f : A -> B bias = e`: each such affine piece's bias set to `e`
/// (a constant expression; no draws of its own seed are needed).
fn initial_biases(
    compiled: &Compiled,
    vocabs: &Vocabularies,
    weights: &mut Weights,
    graph: &mut Graph,
) -> Result<(), Failure> {
    let program = &compiled.program;
    let fail = |d: Diagnostic| Failure {
        sources: compiled.sources.clone(),
        diagnostics: vec![d],
    };
    for (i, piece) in program.learned.iter().enumerate() {
        let Some(init) = &piece.bias else { continue };
        let ctx = Context::new(program, vocabs, weights);
        let value = runtime::eval_closed(&ctx, graph, init, 1).map_err(fail)?;
        let packed = runtime::layout::pack(graph, &value, init.span).map_err(fail)?;
        let data = graph.to_vec(&packed);
        let Some(runtime::weights::LearnedWeights::Affine { bias, .. }) =
            weights.learned.get_mut(i)
        else {
            continue;
        };
        if data.len() != bias.cols() * bias.rows() {
            return Err(fail(
                Diagnostic::new(
                    Code::RuntimeError,
                    format!(
                        "the bias of `{}` has {} values, its initial value {}",
                        piece.name,
                        bias.cols() * bias.rows(),
                        data.len()
                    ),
                )
                .at(init.span, "this initial bias"),
            ));
        }
        graph.overwrite(bias, &data);
    }
    Ok(())
}

/// The mean of a `_ -> Float` def over examples (inference), or None if there are none.
pub fn mean_over(
    ctx: &Context,
    name: &str,
    examples: &[Example],
    arg_ty: &Type,
) -> Result<Option<f64>, Diagnostic> {
    if examples.is_empty() {
        return Ok(None);
    }
    let mut total = 0.0f64;
    for (k, chunk) in examples.chunks(EVAL_BATCH).enumerate() {
        let start = (k * EVAL_BATCH) as u64;
        let positions: Vec<u64> = (start..start + chunk.len() as u64).collect();
        let mut ctx = *ctx;
        ctx.draws.positions = &positions;
        let ctx = &ctx;
        let mut graph = Graph::inference();
        let refs: Vec<&Example> = chunk.iter().collect();
        let arg = codec::assemble(&graph, &refs, arg_ty, &ctx.program.types);
        let f = global_function(ctx, &mut graph, name, chunk.len())?;
        if let Value::Real(r) = runtime::apply(
            ctx,
            &mut graph,
            &f,
            vec![arg],
            crate::source::Span::default(),
        )? {
            total += graph.to_vec(&r).iter().map(|&x| x as f64).sum::<f64>();
        }
    }
    Ok(Some(total / examples.len() as f64))
}
