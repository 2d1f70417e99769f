//! The examples of randomness, several objectives and families (issue
//! "Stochastic and adversarial programs"; docs/examples.md, "Stochastic
//! programs") train to their stated level. Each trains briefly through the
//! `dp` binary into a temporary directory; training is deterministic for a
//! given seed, data and flags.

mod common;

use common::examples::{apply_mean, dp, last, train, TempDir};

/// A 12-layer residual MLP, one family and one fold, separates the two
/// spirals.
#[test]
fn residual_family_separates_the_spirals() {
    let tmp = TempDir::new("residual");
    let w = tmp.file("residual.safetensors");
    let flags = ["--epochs", "12", "--lr", "0.003"];
    let acc = train("residual", "spirals", "accuracy", &flags, &w);
    assert!(last(&acc) >= 0.95, "spirals accuracy {acc:?}");
}

/// Dropout narrows the gap between training and held-out loss on a task
/// that over-fits without it, and ends with the lower held-out loss.
#[test]
fn dropout_narrows_the_held_out_gap() {
    let tmp = TempDir::new("dropout");
    let program = "examples/dropout.dp";
    let gap = |objective: &str| -> (f64, f64) {
        let w = tmp.file(&format!("{objective}.safetensors"));
        let flags = ["--objective", objective, "--epochs", "45"];
        train("dropout", "fewdigits", "nll", &flags, &w);
        let on = |file: &str| apply_mean(program, &w, "nll", file);
        let held_out = on("examples/data/fewdigits_valid.jsonl");
        (
            held_out - on("examples/data/fewdigits_train.jsonl"),
            held_out,
        )
    };
    let (dropout_gap, dropout_valid) = gap("loss");
    let (plain_gap, plain_valid) = gap("loss_plain");
    assert!(
        dropout_gap < plain_gap - 0.05 && dropout_valid < plain_valid,
        "gap with dropout {dropout_gap} (held-out {dropout_valid}), \
         without {plain_gap} (held-out {plain_valid})"
    );
}

/// A VAE of the digits: its held-out bound (reconstruction + KL) beats
/// the best code-free model (every digit decoded as the mean image, 26.6
/// nats), and its code carries information (KL above 1 nat).
#[test]
fn vae_bound_beats_the_mean_image() {
    let tmp = TempDir::new("vae");
    let w = tmp.file("vae.safetensors");
    let flags = ["--metric", "kl_term", "--epochs", "30", "--lr", "0.003"];
    let rec = train("vae", "digits64", "reconstruction", &flags, &w);
    let test = "examples/data/digits64_valid.jsonl";
    let kl = apply_mean("examples/vae.dp", &w, "kl_term", test);
    let bound = last(&rec) + kl;
    assert!(kl > 1.0, "KL {kl}: the code is not used");
    assert!(
        bound < 25.5,
        "held-out bound {bound} (reconstruction {rec:?}, KL {kl})"
    );
}

/// A GAN with two objectives (two critic steps per generator step, dropout
/// in the critic) covers at least 7 of the ring's 8 modes after 30 epochs:
/// at least 20 of 2,000 generated points within 3 standard deviations.
#[test]
fn gan_covers_the_ring() {
    let tmp = TempDir::new("gan");
    let w = tmp.file("gan.safetensors");
    let program = "examples/gan.dp";
    let flags = [
        "--objective",
        "disc",
        "--objective",
        "disc",
        "--objective",
        "gen",
        "--epochs",
        "30",
        "--lr",
        "0.0002",
    ];
    let odds = train("gan", "ring", "real_odds", &flags, &w);
    assert!(
        (0.2..0.8).contains(&last(&odds)),
        "neither side wins: {odds:?}"
    );
    let out = dp(&["run", program, "--weights", &w, "--eval", "modes_covered"]);
    let modes: f64 = out.trim().parse().expect("a number of modes");
    assert!(modes >= 7.0, "modes covered: {modes}");
}

/// A letter model samples words with `sample` inside `unfold`: nearly all
/// are made of the learnt syllables, they differ from one another (greedy
/// decoding would repeat one word), and the same seed gives the same words.
#[test]
fn char_model_samples_valid_varied_words() {
    let tmp = TempDir::new("words");
    let w = tmp.file("words.safetensors");
    let valid = train(
        "char_sample",
        "words",
        "valid_sample",
        &["--epochs", "6", "--lr", "0.01"],
        &w,
    );
    assert!(last(&valid) >= 0.9, "valid sampled words {valid:?}");
    let program = "examples/char_sample.dp";
    let words = |seed: &str| {
        dp(&[
            "run",
            program,
            "--weights",
            &w,
            "--eval",
            "words 20",
            "--seed",
            seed,
        ])
    };
    let first = words("1");
    assert_eq!(first, words("1"), "the same seed, the same words");
    assert_ne!(first, words("2"), "another seed, other words");
    let list: Vec<Vec<String>> = serde_json::from_str(first.trim()).expect("a list of words");
    let distinct: std::collections::HashSet<&Vec<String>> = list.iter().collect();
    assert!(
        distinct.len() >= 10,
        "{} distinct of 20: {first}",
        distinct.len()
    );
}

/// An LSTM whose forget-gate bias starts at 1 (`bias = ...`) carries the
/// first of 20 to 30 symbols to the end; the same LSTM with the default
/// bias is still at chance (4 classes) after as many epochs.
#[test]
fn forget_bias_remembers_the_first_symbol() {
    let tmp = TempDir::new("first");
    let run = |objective: &str, metric: &str| {
        let w = tmp.file(&format!("{objective}.safetensors"));
        let flags = ["--objective", objective, "--epochs", "8", "--lr", "0.003"];
        last(&train("remember_first", "first", metric, &flags, &w))
    };
    let open = run("loss", "accuracy");
    let zero = run("loss_zero", "accuracy_zero");
    assert!(open >= 0.95, "forget bias 1: accuracy {open}");
    assert!(zero <= 0.4, "forget bias 0: accuracy {zero}");
}
