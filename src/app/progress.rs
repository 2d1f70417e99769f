//! A training run's progress on a terminal, for `dp train` and the REPL's
//! `:train`: an indicatif bar per epoch on stderr (only on a terminal) and
//! one line per epoch on the output. Ctrl-C reaches it as a flag, which
//! stops the run after the epoch under way.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

use dp::train::{format_report, Progress};

/// Draws the bar and prints the epoch lines of one run.
pub struct EpochPrinter<'a> {
    out: &'a mut dyn Write,
    cancel: Option<&'a AtomicBool>,
    bar: Option<indicatif::ProgressBar>,
}

impl<'a> EpochPrinter<'a> {
    pub fn new(out: &'a mut dyn Write, cancel: Option<&'a AtomicBool>) -> EpochPrinter<'a> {
        EpochPrinter {
            out,
            cancel,
            bar: None,
        }
    }

    /// The callback `train::train` calls.
    pub fn observe(&mut self, progress: Progress) -> ControlFlow<()> {
        match progress {
            Progress::Step { epoch, done, total } => {
                if self.bar.is_none() {
                    self.bar = progress_bar(total, epoch);
                }
                if let Some(b) = &self.bar {
                    b.set_position(done as u64);
                }
                ControlFlow::Continue(())
            }
            Progress::Epoch { report, last } => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
                let _ = writeln!(self.out, "{}", format_report(report, last));
                if self.cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
                    let _ = writeln!(
                        self.out,
                        "interrupted: keeping the weights of epoch {}",
                        report.epoch
                    );
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            }
        }
    }
}

fn progress_bar(len: usize, epoch: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    // Examples per second as a whole number (indicatif's own `per_sec`
    // prints "2,967.5414/s"), and the time left in the epoch.
    let template = "epoch {msg} [{bar:30}] {pos}/{len} {rate} ETA {eta}";
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        let style = style.with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} examples/s", s.per_sec());
            },
        );
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(epoch.to_string());
    Some(bar)
}
