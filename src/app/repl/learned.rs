//! The session's learned state: vocabularies, weights, optimizer state, and
//! the commands that change them (`:train`, `:weights`, `:save`).
//!
//! When the declarations change, the weights of a learned piece or param
//! survive if a piece of the same name has tensors of the same shapes;
//! others are initialised afresh (seed 0, as `dp train` would). Open
//! vocabularies grown by training survive too. `:train` starts from fresh
//! weights like `dp train` until the session has trained or loaded weights;
//! after that it continues from the session's weights, held in memory,
//! unless `--resume` is given.
//!
//! This module does not parse commands or touch the terminal; Ctrl-C
//! reaches it as the `cancel` flag.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::app::args::TrainArgs;
use dp::backend::Graph;
use dp::checkpoint::{self, Checkpoint};
use dp::diagnostic::Failure;
use dp::diagnostic::{Code, Diagnostic};
use dp::driver::Compiled;
use dp::ir::Program;
use dp::runtime::weights::LearnedWeights;
use dp::runtime::{Vocabularies, Weights};
use dp::train::optim::Optimizer;

/// Vocabularies, weights and optimizer state of a session.
#[derive(Clone)]
pub struct Learned {
    pub vocabs: Vocabularies,
    pub weights: Weights,
    pub optimizer: Option<Optimizer>,
    /// Epochs trained so far (as stored in weights files).
    pub epoch: usize,
    /// The weights came from training or a file: `:train` continues from them.
    pub trained: bool,
}

impl Learned {
    /// Fresh state for a program. Param initialisers that fail to evaluate
    /// leave zeros, with the diagnostics returned.
    pub fn fresh(compiled: &Compiled) -> (Learned, Vec<Diagnostic>) {
        let vocabs = Vocabularies::from_types(&compiled.program.types);
        let (weights, diags) = initial_weights(compiled, &vocabs);
        let learned = Learned {
            vocabs,
            weights,
            optimizer: None,
            epoch: 0,
            trained: false,
        };
        (learned, diags)
    }

    /// The state for `new` after a change of declarations: same-named
    /// pieces with same-shaped tensors keep their weights. Also returns
    /// the names initialised afresh (only when they had trained weights
    /// to lose or gain) and any initialiser diagnostics.
    pub fn carry_over(
        &self,
        old: &Program,
        new: &Compiled,
    ) -> (Learned, Vec<String>, Vec<Diagnostic>) {
        let mut vocabs = Vocabularies::from_types(&new.program.types);
        for (name, v) in vocabs.map.iter_mut() {
            if let Some(ov) = self.vocabs.map.get(name).filter(|ov| ov.is_open()) {
                if v.is_open() {
                    *v = ov.clone();
                }
            }
        }
        let (mut weights, diags) = initial_weights(new, &vocabs);
        let mut fresh = Vec::new();
        for (i, piece) in new.program.learned.iter().enumerate() {
            let kept = old
                .learned
                .iter()
                .position(|p| p.name == piece.name)
                .and_then(|j| self.weights.learned.get(j))
                .filter(|w| weights.learned.get(i).is_some_and(|n| same_shapes(w, n)));
            match (kept, weights.learned.get_mut(i)) {
                (Some(w), Some(slot)) => *slot = w.clone(),
                _ => fresh.push(piece.name.clone()),
            }
        }
        for (i, p) in new.program.params.iter().enumerate() {
            let kept = old
                .params
                .iter()
                .position(|q| q.name == p.name && q.ty == p.ty)
                .and_then(|j| self.weights.params.get(j))
                .filter(|w| {
                    weights
                        .params
                        .get(i)
                        .is_some_and(|n| (n.rows(), n.cols()) == (w.rows(), w.cols()))
                });
            match (kept, weights.params.get_mut(i)) {
                (Some(w), Some(slot)) => *slot = w.clone(),
                _ => fresh.push(p.name.clone()),
            }
        }
        let same = checkpoint::fingerprint(old) == checkpoint::fingerprint(&new.program);
        let learned = Learned {
            vocabs,
            weights,
            optimizer: self.optimizer.clone().filter(|_| same),
            epoch: self.epoch,
            trained: self.trained,
        };
        if !self.trained {
            fresh.clear();
        }
        (learned, fresh, diags)
    }

    /// What a weights file of the session holds.
    fn state(&self) -> Checkpoint {
        Checkpoint::new(
            self.vocabs.clone(),
            self.weights.clone(),
            self.optimizer.clone(),
            self.epoch,
        )
    }

    /// `:save W`.
    pub fn save(&self, path: &Path, program: &Program) -> Result<usize, Diagnostic> {
        checkpoint::save(path, program, &Graph::inference(), &self.state())?;
        Ok(self.weights.tensors().len())
    }

    /// `:weights W`, with the notes for stderr.
    pub fn load(path: &Path, program: &Program) -> Result<(Learned, Vec<String>), Diagnostic> {
        let c = checkpoint::load(path, program, &Graph::inference())?;
        let learned = Learned {
            vocabs: c.vocabs,
            weights: c.weights,
            optimizer: c.optimizer,
            epoch: c.epoch,
            trained: true,
        };
        Ok((learned, c.notes))
    }

    /// `:train`: train as `dp train` does, printing its epoch lines to `out`,
    /// from the session's weights once it has trained or loaded some; on
    /// success the session's state becomes the trained one.
    pub fn train(
        &mut self,
        compiled: &Compiled,
        args: TrainArgs,
        out: &mut dyn Write,
        cancel: &AtomicBool,
    ) -> Result<(Vec<Diagnostic>, Vec<dp::train::EpochReport>), Failure> {
        let start = self.trained.then(|| self.state());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if let Some(n) = args.threads {
                dp::backend::threads::configure(n);
            }
            let mut printer = crate::app::progress::EpochPrinter::new(out, Some(cancel));
            dp::train::train_from(compiled, &args.config(), start, &mut |p| printer.observe(p))
        }));
        let trained = match result {
            Ok(r) => r?,
            Err(panic) => return Err(plain(compiled, internal_error(panic))),
        };
        *self = Learned {
            vocabs: trained.vocabs,
            weights: trained.weights,
            optimizer: Some(trained.optimizer),
            epoch: trained.epochs_done,
            trained: true,
        };
        Ok((trained.warnings, trained.reports))
    }
}

fn plain(compiled: &Compiled, d: Diagnostic) -> Failure {
    Failure {
        sources: compiled.sources.clone(),
        diagnostics: vec![d],
    }
}

/// A diagnostic for a panic caught inside dp.
pub fn internal_error(panic: Box<dyn std::any::Any + Send>) -> Diagnostic {
    let msg = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown cause".to_string());
    Diagnostic::new(Code::RuntimeError, format!("internal error in dp: {msg}"))
        .note("this is a bug in dp; the session goes on")
}

/// Fresh weights with param initialisers applied when they evaluate.
fn initial_weights(compiled: &Compiled, vocabs: &Vocabularies) -> (Weights, Vec<Diagnostic>) {
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dp::train::fresh_weights(compiled, vocabs, 0)
    }));
    match attempt {
        Ok(Ok(w)) => (w, Vec::new()),
        Ok(Err(f)) => (zeros(compiled, vocabs), f.diagnostics),
        Err(panic) => (zeros(compiled, vocabs), vec![internal_error(panic)]),
    }
}

fn zeros(compiled: &Compiled, vocabs: &Vocabularies) -> Weights {
    dp::runtime::weights::initialise(&compiled.program, vocabs, &Graph::inference(), 0)
}

fn same_shapes(a: &LearnedWeights, b: &LearnedWeights) -> bool {
    let dims = |r: &dp::backend::Real| (r.rows(), r.cols());
    match (a, b) {
        (
            LearnedWeights::Affine {
                weight: wa,
                bias: ba,
                outputs: oa,
            },
            LearnedWeights::Affine {
                weight: wb,
                bias: bb,
                outputs: ob,
            },
        ) => dims(wa) == dims(wb) && dims(ba) == dims(bb) && oa == ob,
        (LearnedWeights::Embedding { table: ta }, LearnedWeights::Embedding { table: tb }) => {
            dims(ta) == dims(tb)
        }
        _ => false,
    }
}
