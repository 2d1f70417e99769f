//! Training: data decoded by the objective's parameter type, minibatches
//! evaluated as one batched computation with one tape, gradients applied
//! by an optimizer, validation and metrics each epoch, checkpoints.
//!
//! One forward and one backward pass per minibatch: the batch is assembled
//! into batched values (`codec::assemble`) and the objective is applied to
//! all examples at once; there is no loop over examples here. This module
//! does not parse or check programs (it receives a `Compiled`).

mod epoch;
mod nonfinite;
pub mod optim;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::backend::Graph;
use crate::checkpoint::{self, Checkpoint};
use crate::codec::{self, data_errors, Example};
use crate::diagnostic::{Code, Diagnostic, Failure};
use crate::driver::{read_text, Compiled};
use crate::ir::ty::Type;
use crate::runtime::{self, Context, Value, Vocabularies, Weights};
use crate::runtime::{function_type, global_function};
use epoch::{run_epoch, Job, Learner, Stop};
use nonfinite::LastFinite;
use optim::{Optimizer, OptimizerKind};

/// Examples per batch when evaluating (validation, metrics).
const EVAL_BATCH: usize = 256;

/// How to train: what `dp train`'s flags say, as plain data.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Training data (JSON Lines, one objective argument per line).
    pub data: PathBuf,
    pub valid: Option<PathBuf>,
    /// The def to minimise.
    pub objective: String,
    /// A def averaged over the validation data each epoch.
    pub metric: Option<String>,
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
}

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub objective: f64,
    pub valid_objective: Option<f64>,
    pub metric: Option<(String, f64)>,
    pub examples_per_second: f64,
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
}

struct Data {
    arg_ty: Type,
    train: Vec<Example>,
    valid: Vec<Example>,
}

/// Train as `dp train` does, printing one line per epoch to `out`.
/// `cancel` (Ctrl-C in the REPL) stops after the current epoch.
pub fn train(
    compiled: &Compiled,
    config: &TrainConfig,
    out: &mut dyn Write,
    cancel: Option<&AtomicBool>,
) -> Result<Trained, Failure> {
    let fail = |d: Diagnostic| Failure {
        sources: compiled.sources.clone(),
        diagnostics: vec![d],
    };
    let program = &compiled.program;
    let init_graph = Graph::inference();
    let resume = match &config.resume {
        Some(p) => Some(checkpoint::load(p, program, &init_graph).map_err(fail)?),
        None => None,
    };
    let mut vocabs = resume.as_ref().map_or_else(
        || Vocabularies::from_types(&program.types),
        |r| r.vocabs.clone(),
    );
    let data = load_data(compiled, config, &mut vocabs, resume.is_none())?;
    let (weights, start_epoch, resumed_optimizer, notes) = match resume {
        Some(r) => (r.weights, r.epoch, r.optimizer, r.notes),
        None => (
            fresh_weights(compiled, &vocabs, config.seed)?,
            0,
            None,
            Vec::new(),
        ),
    };
    let lr = config.lr.unwrap_or(config.optimizer.default_lr());
    let sizes: Vec<usize> = weights
        .tensors()
        .iter()
        .map(|t| t.rows() * t.cols())
        .collect();
    let optimizer = match resumed_optimizer {
        Some(o) if o.kind == config.optimizer => Optimizer { lr, ..o },
        _ => Optimizer::new(config.optimizer, lr, &sizes),
    };
    let job = Job {
        compiled,
        config,
        data: &data,
        vocabs: &vocabs,
    };
    let mut learner = Learner::new(weights, optimizer);
    let mut reports = Vec::new();
    let mut epochs_done = start_epoch;
    let mut last_finite = LastFinite {
        vocabs: vocabs.clone(),
        weights: learner.weights.clone(),
        optimizer: learner.optimizer.clone(),
        epoch: start_epoch,
        trained: config.resume.is_some(),
    };
    for epoch in start_epoch + 1..=start_epoch + config.epochs {
        let report = match run_epoch(&job, &mut learner, epoch) {
            Ok(report) => report,
            Err(Stop::Error(d)) => return Err(fail(d)),
            Err(Stop::NonFinite(d)) => {
                return Err(fail(keep_last_finite(compiled, config, &last_finite, d)))
            }
        };
        last_finite = LastFinite {
            vocabs: vocabs.clone(),
            weights: learner.weights.clone(),
            optimizer: learner.optimizer.clone(),
            epoch,
            trained: true,
        };
        let _ = writeln!(
            out,
            "{}",
            format_report(&report, start_epoch + config.epochs)
        );
        reports.push(report);
        epochs_done = epoch;
        if cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
            let _ = writeln!(out, "interrupted: keeping the weights of epoch {epoch}");
            break;
        }
    }
    let trained = Trained {
        vocabs,
        weights: learner.weights,
        optimizer: learner.optimizer,
        epochs_done,
        reports,
        notes,
    };
    if let Some(path) = &config.save {
        save(compiled, path, &trained).map_err(fail)?;
    }
    Ok(trained)
}

/// After a non-finite stop: save the last finite weights to `--save` (if
/// they are trained or resumed ones) and say so in the diagnostic.
fn keep_last_finite(
    compiled: &Compiled,
    config: &TrainConfig,
    last: &LastFinite,
    d: Diagnostic,
) -> Diagnostic {
    let Some(path) = &config.save else {
        return d;
    };
    if !last.trained {
        return d.note(format!(
            "no epoch was completed, so nothing was saved to `{}`",
            path.display()
        ));
    }
    let ckpt = Checkpoint::new(
        last.vocabs.clone(),
        last.weights.clone(),
        Some(last.optimizer.clone()),
        last.epoch,
    );
    match checkpoint::save(path, &compiled.program, &Graph::inference(), &ckpt) {
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
    let mut line = format!("epoch {}/{}  objective {:.4}", r.epoch, total, r.objective);
    if let Some(v) = r.valid_objective {
        line.push_str(&format!("  valid {v:.4}"));
    }
    if let Some((name, m)) = &r.metric {
        line.push_str(&format!("  {name} {m:.4}"));
    }
    line.push_str(&format!("  {:.0} examples/s", r.examples_per_second));
    line
}

fn load_data(
    compiled: &Compiled,
    config: &TrainConfig,
    vocabs: &mut Vocabularies,
    grow: bool,
) -> Result<Data, Failure> {
    let program = &compiled.program;
    let fail = |diagnostics| Failure {
        sources: compiled.sources.clone(),
        diagnostics,
    };
    let (arg_ty, result) = function_type(program, &config.objective).map_err(|d| fail(vec![d]))?;
    if result != Type::Float {
        let d = Diagnostic::new(
            Code::TypeMismatch,
            format!(
                "the objective `{}` must return a Float, it returns `{}`",
                config.objective,
                crate::ir::pretty::pretty(&result)
            ),
        );
        return Err(fail(vec![d]));
    }
    if let Some(metric) = &config.metric {
        let (m_arg, m_res) = function_type(program, metric).map_err(|d| fail(vec![d]))?;
        if m_arg != arg_ty || m_res != Type::Float {
            let d = Diagnostic::new(
                Code::TypeMismatch,
                format!(
                    "the metric `{metric}` must have type `{} -> Float`",
                    crate::ir::pretty::pretty(&arg_ty)
                ),
            );
            return Err(fail(vec![d]));
        }
    }
    let decode = |path: &std::path::Path,
                  vocabs: &mut Vocabularies,
                  grow: bool|
     -> Result<Vec<Example>, Failure> {
        let text = read_text(path).map_err(|d| fail(vec![d]))?;
        codec::decode_lines(&text, &arg_ty, &program.types, vocabs, grow)
            .map_err(|e| fail(data_errors(path, &arg_ty, e)))
    };
    let no_examples = |path: &std::path::Path| {
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
    Ok(Data {
        arg_ty,
        train,
        valid,
    })
}

/// Fresh weights, with `param p : T = init` initialisers evaluated.
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
        let ctx = Context {
            program,
            vocabs,
            weights: &weights,
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
    Ok(weights)
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
    for chunk in examples.chunks(EVAL_BATCH) {
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
