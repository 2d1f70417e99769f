//! The sequence examples train to their stated level (docs/examples.md,
//! "Sequence models"). Each test trains one program briefly through the
//! `dp` binary, saving into a temporary directory, and reads the metric off
//! the last epoch line (or applies a metric to held-out data with the saved
//! weights). Training is deterministic for a given seed, data and flags.

mod common;

use common::examples::{apply_mean, dp, last, train, TempDir};

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

/// windowMapSame: a sentence CNN (Kim, 2014) whose widest filter (7) is
/// longer than many of its sentences (4 to 9 words) trains to 95%.
#[test]
fn kim_cnn_padded_windows_reach_95_percent() {
    let tmp = TempDir::new("kim");
    let w = tmp.file("kim.safetensors");
    let acc = train(
        "kim_cnn",
        "sentiment",
        "accuracy",
        &["--epochs", "4", "--lr", "0.01"],
        &w,
    );
    assert!(last(&acc) >= 0.95, "kim cnn accuracy {acc:?}");
}

/// A Transformer encoder block (self-attention with `softmaxList`,
/// sinusoidal positions with `sin`, layer norm written in dp) classifies
/// the sentiment sentences.
#[test]
fn transformer_block_reaches_95_percent() {
    let tmp = TempDir::new("transformer");
    let w = tmp.file("transformer.safetensors");
    let acc = train(
        "transformer",
        "sentiment",
        "accuracy",
        &["--epochs", "4", "--lr", "0.005"],
        &w,
    );
    assert!(last(&acc) >= 0.95, "transformer accuracy {acc:?}");
}
