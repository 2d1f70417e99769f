//! What a run leaves besides its weights: `--log` (one JSON line per
//! epoch, written as the epoch ends, so a stopped run keeps its record) and
//! `--keep-best` (the state of the epoch with the best validation metric,
//! saved instead of the last).

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::EpochReport;
use crate::checkpoint::Checkpoint;
use crate::diagnostic::{Code, Diagnostic};

/// Which end of the first `--metric` is best.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// An accuracy: the highest is best.
    Highest,
    /// An error: the lowest is best.
    Lowest,
}

/// The run's log file.
pub struct RunLog {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl RunLog {
    /// Create (or truncate) the log at `path`.
    pub fn create(path: &Path) -> Result<RunLog, Diagnostic> {
        let file = std::fs::File::create(path).map_err(|e| io(path, &e))?;
        Ok(RunLog {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Append one minibatch's line: its number in the epoch, the examples
    /// done, each objective's mean on it.
    pub fn batch(
        &mut self,
        epoch: usize,
        batch: usize,
        done: usize,
        losses: &[f32],
    ) -> Result<(), Diagnostic> {
        let line = json!({"epoch": epoch, "batch": batch, "examples": done, "objectives": losses});
        writeln!(self.file, "{line}").map_err(|e| io(&self.path, &e))
    }

    /// Append one epoch's line.
    pub fn epoch(&mut self, r: &EpochReport) -> Result<(), Diagnostic> {
        let line = epoch_line(r).to_string();
        writeln!(self.file, "{line}")
            .and_then(|()| self.file.flush())
            .map_err(|e| io(&self.path, &e))
    }
}

fn io(path: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::new(
        Code::Io,
        format!("cannot write the run's log `{}`: {e}", path.display()),
    )
}

/// One epoch as a JSON object: every objective (and its validation mean),
/// the metrics, examples/s, the learning rate and the mean gradient norm.
/// Non-finite numbers are written as `null`.
pub fn epoch_line(r: &EpochReport) -> serde_json::Value {
    let pairs = |v: &[(String, f64)]| -> serde_json::Map<String, serde_json::Value> {
        v.iter().map(|(k, x)| (k.clone(), json!(x))).collect()
    };
    json!({
        "epoch": r.epoch,
        "objective": r.objective,
        "objectives": pairs(&r.each),
        "valid": r.valid_objective,
        "valid_objectives": pairs(&r.valid_each),
        "metrics": pairs(&r.metrics),
        "examples_per_second": r.examples_per_second,
        // As the user wrote it (0.01, not the f32's 0.009999999776...).
        "learning_rate": r.learning_rate.to_string().parse::<f64>().ok(),
        "grad_norm": r.grad_norm,
    })
}

/// The best epoch so far by the first metric.
pub struct Best {
    keep: Keep,
    /// The epoch, its metric's name and value, and the state after it.
    pub kept: Option<(usize, String, f64, Checkpoint)>,
}

impl Best {
    pub fn new(keep: Keep) -> Best {
        Best { keep, kept: None }
    }

    /// Keep `state` if the epoch's first metric beats the best so far.
    pub fn consider(&mut self, r: &EpochReport, state: impl FnOnce() -> Checkpoint) {
        let Some((name, value)) = r.metrics.first() else {
            return;
        };
        let better = match &self.kept {
            None => value.is_finite(),
            Some((_, _, best, _)) => match self.keep {
                Keep::Highest => value > best,
                Keep::Lowest => value < best,
            },
        };
        if better {
            self.kept = Some((r.epoch, name.clone(), *value, state()));
        }
    }
}
