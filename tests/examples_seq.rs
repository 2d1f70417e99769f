//! The sequence examples train to their stated level (docs/examples.md,
//! "Sequence models"). Each test trains one program briefly through the
//! `dp` binary, saving into a temporary directory, and reads the metric off
//! the last epoch line (or applies a metric to held-out data with the saved
//! weights). Training is deterministic for a given seed, data and flags.

use std::path::PathBuf;
use std::process::Command;

const DP: &str = env!("CARGO_BIN_EXE_dp");

/// A fresh directory for one test's weights, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("dp-examples-seq-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    fn file(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dp(args: &[&str]) -> String {
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
fn train(name: &str, data: &str, metric: &str, flags: &[&str], save: &str) -> Vec<f64> {
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

fn last(metrics: &[f64]) -> f64 {
    *metrics.last().expect("at least one epoch")
}

/// The mean of `dp run --apply NAME` over a data file (one number a line).
fn apply_mean(program: &str, weights: &str, name: &str, input: &str) -> f64 {
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

/// fold: an encoding RNN classifies sentences whose label negation flips.
#[test]
fn sentiment_fold_reaches_90_percent() {
    let tmp = TempDir::new("sentiment");
    let w = tmp.file("sentiment.safetensors");
    let acc = train(
        "sentiment",
        "sentiment",
        "accuracy",
        &["--epochs", "3", "--lr", "0.01"],
        &w,
    );
    assert!(last(&acc) >= 0.90, "sentiment accuracy {acc:?}");
}

/// unfold: a generative RNN completes prompts into balanced bracket strings.
#[test]
fn dyck_lm_unfold_generates_90_percent_valid() {
    let tmp = TempDir::new("dyck");
    let w = tmp.file("dyck.safetensors");
    let valid = train(
        "dyck_lm",
        "dyck",
        "valid_completion",
        &["--epochs", "4", "--lr", "0.01"],
        &w,
    );
    assert!(last(&valid) >= 0.90, "dyck valid completions {valid:?}");
    let out = dp(&[
        "run",
        "examples/dyck_lm.dp",
        "--weights",
        &w,
        "--eval",
        "is_valid (complete [])",
    ]);
    assert_eq!(out.trim(), "true", "generation from the empty prompt");
}

/// mapAccumL: a tagger of the bracket depth after each token.
#[test]
fn depth_tagger_mapaccuml_reaches_95_percent() {
    let tmp = TempDir::new("depth");
    let w = tmp.file("depth.safetensors");
    let acc = train(
        "depth_tagger",
        "depth",
        "accuracy",
        &["--epochs", "6", "--lr", "0.01"],
        &w,
    );
    assert!(last(&acc) >= 0.95, "depth token accuracy {acc:?}");
}

/// bidirectional: zipWith over mapAccumL and mapAccumR beats left to right
/// only on a tag that depends on the future.
#[test]
fn occurs_later_bidirectional_beats_forward() {
    let tmp = TempDir::new("later");
    let flags = ["--epochs", "5", "--lr", "0.01"];
    let bi = train(
        "occurs_later",
        "recur",
        "accuracy",
        &flags,
        &tmp.file("bi.safetensors"),
    );
    let fw = train(
        "occurs_later_forward",
        "recur",
        "accuracy",
        &flags,
        &tmp.file("fw.safetensors"),
    );
    let (bi, fw) = (last(&bi), last(&fw));
    assert!(bi >= 0.95, "bidirectional accuracy {bi}");
    assert!(bi > fw + 0.15, "bidirectional {bi} vs forward {fw}");
}

/// windowMap: a 1-D convolution with max pooling detects a motif anywhere.
#[test]
fn motif_conv_windowmap_reaches_95_percent() {
    let tmp = TempDir::new("motif");
    let w = tmp.file("motif.safetensors");
    let acc = train(
        "motif_conv",
        "motif",
        "accuracy",
        &["--epochs", "3", "--lr", "0.01"],
        &w,
    );
    assert!(last(&acc) >= 0.95, "motif accuracy {acc:?}");
}

/// seq2seq: fold then unfold reverses held-out sequences exactly.
#[test]
fn reverse_seq2seq_exact_match_80_percent() {
    let tmp = TempDir::new("reverse");
    let w = tmp.file("reverse.safetensors");
    let flags = ["--epochs", "6", "--batch", "64", "--lr", "0.005"];
    train("reverse_seq2seq", "reverse", "exact", &flags, &w);
    let exact = apply_mean(
        "examples/reverse_seq2seq.dp",
        &w,
        "exact",
        "examples/data/reverse_valid.jsonl",
    );
    assert!(exact >= 0.80, "held-out exact match {exact}");
}
