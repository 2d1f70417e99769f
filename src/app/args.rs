//! The flags of `dp train`, as clap parses them for `dp train` and for
//! the REPL's `:train`, and the plain training configuration they stand
//! for ([`TrainConfig`]). The library itself takes only the configuration.

use std::path::PathBuf;

use clap::Args;

use dp::train::optim::OptimizerKind;
use dp::train::{Keep, TrainConfig};

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// The program.
    pub file: PathBuf,
    /// Training data (JSON Lines, one objective argument per line).
    #[arg(long)]
    pub data: PathBuf,
    /// Validation data.
    #[arg(long)]
    pub valid: Option<PathBuf>,
    /// What to minimise: a def, or an `objective` declaration; repeated,
    /// one step of each per minibatch, in the order given.
    #[arg(long, default_value = "loss")]
    pub objective: Vec<String>,
    /// A def averaged over the validation set each epoch (needs --valid);
    /// repeated, each one reported.
    #[arg(long, requires = "valid")]
    pub metric: Vec<String>,
    #[arg(long, default_value_t = 10, value_parser = at_least_one)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32, value_parser = at_least_one)]
    pub batch: usize,
    #[arg(long, default_value = "adam", value_parser = optimizer)]
    pub optimizer: OptimizerKind,
    /// Learning rate (default 1e-3 for adam, 1e-1 for sgd).
    #[arg(long, value_parser = learning_rate, allow_hyphen_values = true)]
    pub lr: Option<f32>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write the trained weights.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Weights (and optimizer state) to continue from.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Threads for the kernels (default: the number of cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<usize>,
    /// Write a JSON Lines record of the run: one line per epoch (each
    /// objective, validation objective and metric, examples/s, learning
    /// rate, mean gradient norm).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// With --log: also a line (epoch, batch, examples done, each
    /// objective on the minibatch) every N minibatches.
    #[arg(long, value_parser = at_least_one, requires = "log")]
    pub log_every: Option<usize>,
    /// Save the epoch whose first --metric is best (highest: an accuracy;
    /// lowest: an error) instead of the last.
    #[arg(long, value_parser = keep, requires = "metric", requires = "save")]
    pub keep_best: Option<Keep>,
    /// Draw the training curves (each objective, its validation mean, each
    /// metric, against the epoch) into an SVG file, rewritten every epoch.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

pub fn keep(text: &str) -> Result<Keep, String> {
    match text {
        "highest" => Ok(Keep::Highest),
        "lowest" => Ok(Keep::Lowest),
        _ => Err("expected `highest` (an accuracy) or `lowest` (an error)".into()),
    }
}

/// A count of at least one (`--epochs`, `--batch`).
pub fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A finite, positive learning rate.
pub fn learning_rate(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(x) => Err(format!("must be a finite number above 0, not {x}")),
        Err(e) => Err(e.to_string()),
    }
}

/// `--optimizer adam|sgd`.
fn optimizer(text: &str) -> Result<OptimizerKind, String> {
    text.parse()
}

impl TrainArgs {
    /// The training configuration these flags stand for.
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            data: self.data.clone(),
            valid: self.valid.clone(),
            objective: self
                .objective
                .first()
                .cloned()
                .unwrap_or_else(|| "loss".into()),
            then: self.objective.iter().skip(1).cloned().collect(),
            metrics: self.metric.clone(),
            epochs: self.epochs,
            batch: self.batch,
            optimizer: self.optimizer,
            lr: self.lr,
            seed: self.seed,
            save: self.save.clone(),
            resume: self.resume.clone(),
            threads: self.threads,
            log: self.log.clone(),
            log_every: self.log_every,
            keep_best: self.keep_best,
            plot: self.plot.clone(),
        }
    }
}
