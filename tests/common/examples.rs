//! Helpers of the example tests (`tests/examples_seq.rs`,
//! `tests/examples_stochastic.rs`): run the `dp` binary on a bundled
//! example, read the metric off its epoch lines, average `--apply` over a
//! data file.

use std::path::PathBuf;
use std::process::Command;

pub const DP: &str = env!("CARGO_BIN_EXE_dp");

/// A fresh directory for one test's weights, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("dp-examples-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    pub fn file(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn dp(args: &[&str]) -> String {
    let out = Command::new(DP)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run dp");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "dp {} failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Trains `examples/<name>.dp` on `examples/data/<data>_{train,valid}.jsonl`
/// and returns the metric of every epoch line, in order.
pub fn train(name: &str, data: &str, metric: &str, flags: &[&str], save: &str) -> Vec<f64> {
    let program = format!("examples/{name}.dp");
    let train = format!("examples/data/{data}_train.jsonl");
    let valid = format!("examples/data/{data}_valid.jsonl");
    let mut args = vec![
        "train", &program, "--data", &train, "--valid", &valid, "--metric", metric, "--save", save,
    ];
    args.extend_from_slice(flags);
    let stdout = dp(&args);
    let metrics: Vec<f64> = stdout
        .lines()
        .filter(|l| l.starts_with("epoch "))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words
                .iter()
                .position(|w| *w == metric)
                .unwrap_or_else(|| panic!("no `{metric}` in epoch line: {l}"));
            words[at + 1]
                .parse()
                .unwrap_or_else(|_| panic!("bad metric in: {l}"))
        })
        .collect();
    assert!(!metrics.is_empty(), "no epoch lines in:\n{stdout}");
    assert!(
        std::path::Path::new(save).exists(),
        "no weights saved at {save}"
    );
    metrics
}

pub fn last(metrics: &[f64]) -> f64 {
    *metrics.last().expect("at least one epoch")
}

/// The mean of `dp run --apply NAME` over a data file (one number a line).
pub fn apply_mean(program: &str, weights: &str, name: &str, input: &str) -> f64 {
    let stdout = dp(&[
        "run",
        program,
        "--weights",
        weights,
        "--apply",
        name,
        "--input",
        input,
    ]);
    let values: Vec<f64> = stdout
        .lines()
        .map(|l| {
            l.trim()
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {l}"))
        })
        .collect();
    assert!(!values.is_empty(), "no output from --apply {name}");
    values.iter().sum::<f64>() / values.len() as f64
}
