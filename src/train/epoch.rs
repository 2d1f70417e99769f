//! One epoch of training: minibatches in a seeded order, each one forward
//! and one backward pass over the whole batch, then one optimizer step that
//! updates the weights in place; validation at the end.

use std::io::IsTerminal;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::nonfinite::{self, At, NonFinite};
use super::optim::Optimizer;
use super::TrainConfig;
use super::{mean_over, Data, EpochReport};
use crate::backend::{Graph, Reduce};
use crate::codec::{self, Example};
use crate::diagnostic::{Code, Diagnostic};
use crate::driver::Compiled;
use crate::runtime::{self, global_function, Context, Value, Vocabularies, Weights};

/// What every step of a run reads: the program, the flags, the data and
/// the vocabularies.
pub(super) struct Job<'a> {
    pub compiled: &'a Compiled,
    pub config: &'a TrainConfig,
    pub data: &'a Data,
    pub vocabs: &'a Vocabularies,
}

/// The weights being trained and their optimizer. The optimizer updates
/// host copies of the weights in place (no copy of every weight and
/// gradient to the host and back per step: gradients are read where the
/// backward pass left them) and each step writes them into the weights'
/// own buffers.
pub(super) struct Learner {
    pub weights: Weights,
    pub optimizer: Optimizer,
    /// One host copy per weight tensor, in `Weights::tensors` order.
    host: Vec<Vec<f32>>,
}

impl Learner {
    pub fn new(weights: Weights, optimizer: Optimizer) -> Learner {
        let graph = Graph::inference();
        let host = weights.tensors().iter().map(|t| graph.to_vec(t)).collect();
        Learner {
            weights,
            optimizer,
            host,
        }
    }
}

/// Why an epoch stopped.
pub(super) enum Stop {
    Error(Diagnostic),
    /// A non-finite objective or gradient (the weights are still finite).
    NonFinite(Diagnostic),
}

pub(super) fn run_epoch(
    job: &Job,
    learner: &mut Learner,
    epoch: usize,
) -> Result<EpochReport, Stop> {
    let (config, data) = (job.config, job.data);
    let started = Instant::now();
    let mut order: Vec<usize> = (0..data.train.len()).collect();
    let mut rng =
        rand::rngs::StdRng::seed_from_u64(config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9));
    order.shuffle(&mut rng);
    let bar = progress_bar(order.len(), epoch);
    let mut total = 0.0f64;
    let batch = config.batch.max(1);
    for (bi, chunk) in order.chunks(batch).enumerate() {
        let examples: Vec<&Example> = chunk.iter().filter_map(|&i| data.train.get(i)).collect();
        let at = At {
            epoch,
            batch: bi + 1,
        };
        let loss = train_step(job, learner, &examples)
            .map_err(|d| Stop::Error(d.note(format!("in epoch {epoch}, batch {}", bi + 1))))?
            .map_err(|nf| Stop::NonFinite(nf.diagnostic(at)))?;
        total += loss as f64 * examples.len() as f64;
        if let Some(b) = &bar {
            b.inc(examples.len() as u64);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let ctx = Context {
        program: &job.compiled.program,
        vocabs: job.vocabs,
        weights: &learner.weights,
    };
    let valid_objective =
        mean_over(&ctx, &config.objective, &data.valid, &data.arg_ty).map_err(Stop::Error)?;
    let metric = match &config.metric {
        Some(m) => mean_over(&ctx, m, &data.valid, &data.arg_ty)
            .map_err(Stop::Error)?
            .map(|v| (m.clone(), v)),
        None => None,
    };
    Ok(EpochReport {
        epoch,
        objective: total / data.train.len() as f64,
        valid_objective,
        metric,
        examples_per_second: data.train.len() as f64 / seconds,
    })
}

/// One forward and backward pass over a minibatch, then one optimizer step.
/// Returns the batch's mean objective; weights are untouched if it or a
/// gradient is not finite (then `Err(NonFinite)`, saying which).
fn train_step(
    job: &Job,
    learner: &mut Learner,
    examples: &[&Example],
) -> Result<Result<f32, NonFinite>, Diagnostic> {
    let (compiled, config, data) = (job.compiled, job.config, job.data);
    let program = &compiled.program;
    let mut graph = Graph::training();
    let grads = {
        let ctx = Context {
            program,
            vocabs: job.vocabs,
            weights: &learner.weights,
        };
        let arg = codec::assemble(&graph, examples, &data.arg_ty, &program.types);
        let f = global_function(&ctx, &mut graph, &config.objective, examples.len())?;
        let Value::Real(losses) = runtime::apply(
            &ctx,
            &mut graph,
            &f,
            vec![arg],
            crate::source::Span::default(),
        )?
        else {
            return Err(Diagnostic::new(
                Code::RuntimeError,
                "internal: the objective did not produce reals",
            ));
        };
        let sum = graph.reduce_segments(Reduce::Sum, &losses, &[0, examples.len()]);
        let mean = graph.affine_scalar(&sum, 1.0 / examples.len() as f32, 0.0);
        let value = graph.to_vec(&mean).first().copied().unwrap_or(f32::NAN);
        if !value.is_finite() {
            let def = nonfinite::locate(compiled, &ctx, &config.objective, examples, &data.arg_ty);
            return Ok(Err(NonFinite::Objective { value, def }));
        }
        (graph.backward(&mean), value)
    };
    let (grads, value) = grads;
    let tensors = learner.weights.tensors();
    for (slot, t) in tensors.iter().enumerate() {
        let bad = grads.with(t, |g| g.iter().copied().find(|x| !x.is_finite()));
        if let Some(Some(value)) = bad {
            let names = learner.weights.names(program);
            let tensor = names.get(slot).map_or(String::new(), |n| n.name.clone());
            return Ok(Err(NonFinite::Gradient { value, tensor }));
        }
    }
    let Learner {
        weights,
        optimizer,
        host,
    } = learner;
    optimizer.begin_step();
    for (slot, (t, p)) in weights.tensors_mut().into_iter().zip(host).enumerate() {
        if grads.with(t, |g| optimizer.update(slot, p, g)).is_some() {
            graph.overwrite(t, p);
        }
    }
    Ok(Ok(value))
}

fn progress_bar(len: usize, epoch: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("epoch {msg} [{bar:30}] {pos}/{len} {per_sec}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(epoch.to_string());
    Some(bar)
}
