//! The vision, tree and sparse-coding examples (docs/examples.md, "Vision,
//! trees and sparse coding"): each test trains its example briefly through
//! the `dp` binary, exactly as the docs say, and asserts the level stated
//! there on held-out data (measured with `dp run --apply`).
//!
//! `cargo test --release --test examples_vision -- --nocapture` prints the
//! measured levels (and the LISTA table).

use std::path::{Path, PathBuf};
use std::process::Command;

const DP: &str = env!("CARGO_BIN_EXE_dp");

/// A fresh directory for one test's weights.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-examples-vision-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

/// Run `dp ARGS` from the crate root; its stdout, failing the test on a
/// non-zero exit.
fn dp(args: &[&str]) -> String {
    let out = Command::new(DP)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run dp");
    assert!(
        out.status.success(),
        "dp {} failed ({}):\n{}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Train `program` on `data` with extra flags, saving to `weights`.
fn train(program: &str, data: &str, flags: &[&str], weights: &Path) {
    let mut args = vec!["train", program, "--data", data];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--save", weights.to_str().expect("utf-8 path")]);
    let log = dp(&args);
    println!("{program}:\n{log}");
}

/// The lines `dp run PROGRAM [--weights W] --apply NAME --input DATA` prints.
fn apply(program: &str, weights: Option<&Path>, name: &str, input: &str) -> Vec<String> {
    let mut args = vec!["run", program];
    if let Some(w) = weights {
        args.extend_from_slice(&["--weights", w.to_str().expect("utf-8 path")]);
    }
    args.extend_from_slice(&["--apply", name, "--input", input]);
    dp(&args).lines().map(str::to_string).collect()
}

/// The mean of `--apply NAME` over a data file (NAME returns a Float).
fn apply_mean(program: &str, weights: Option<&Path>, name: &str, input: &str) -> f64 {
    let lines = apply(program, weights, name, input);
    assert!(!lines.is_empty(), "{name} printed nothing");
    let sum: f64 = lines
        .iter()
        .map(|l| {
            l.trim()
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{name} printed {l:?}"))
        })
        .sum();
    sum / lines.len() as f64
}

#[test]
fn digits_convolution_reaches_90_percent() {
    let dir = temp_dir("digits");
    let w = dir.join("digits.safetensors");
    train(
        "examples/digits.dp",
        "examples/data/digits_train.jsonl",
        &[
            "--valid",
            "examples/data/digits_test.jsonl",
            "--metric",
            "accuracy",
            "--epochs",
            "10",
            "--lr",
            "0.01",
        ],
        &w,
    );
    let acc = apply_mean(
        "examples/digits.dp",
        Some(&w),
        "accuracy",
        "examples/data/digits_test.jsonl",
    );
    println!("digits: test accuracy {acc:.4} (297 held-out images)");
    assert!(acc >= 0.90, "digits test accuracy {acc} < 0.90");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn arith_treenet_reaches_90_percent() {
    let dir = temp_dir("arith");
    let w = dir.join("arith.safetensors");
    train(
        "examples/arith.dp",
        "examples/data/arith_train.jsonl",
        &[
            "--valid",
            "examples/data/arith_test.jsonl",
            "--metric",
            "accuracy",
            "--epochs",
            "20",
            "--lr",
            "0.003",
        ],
        &w,
    );
    let acc = apply_mean(
        "examples/arith.dp",
        Some(&w),
        "accuracy",
        "examples/data/arith_test.jsonl",
    );
    println!("arith: test accuracy {acc:.4} (1000 held-out expressions)");
    assert!(acc >= 0.90, "arith test accuracy {acc} < 0.90");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn caption_exact_match_reaches_80_percent() {
    let dir = temp_dir("caption");
    let w = dir.join("caption.safetensors");
    train(
        "examples/caption.dp",
        "examples/data/caption_train.jsonl",
        &[
            "--valid",
            "examples/data/caption_test.jsonl",
            "--metric",
            "exact",
            "--epochs",
            "12",
            "--lr",
            "0.001",
        ],
        &w,
    );
    let exact = apply_mean(
        "examples/caption.dp",
        Some(&w),
        "exact",
        "examples/data/caption_test.jsonl",
    );
    let words = apply_mean(
        "examples/caption.dp",
        Some(&w),
        "word_accuracy",
        "examples/data/caption_test.jsonl",
    );
    // The greedy captions themselves, compared with the data's.
    let predicted = apply(
        "examples/caption.dp",
        Some(&w),
        "predict",
        "examples/data/caption_test.jsonl",
    );
    let truth: Vec<String> = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/caption_test.jsonl"),
    )
    .expect("read caption_test.jsonl")
    .lines()
    .map(|l| {
        let v: Vec<&str> = l.rsplitn(2, ",[").collect();
        format!("[{}]", v[0].trim_end_matches(']'))
    })
    .collect();
    assert_eq!(predicted.len(), truth.len());
    let same = predicted.iter().zip(&truth).filter(|(p, t)| p == t).count();
    println!(
        "caption: exact match {exact:.4} ({same}/{} greedy captions), word accuracy {words:.4}",
        truth.len()
    );
    assert!(
        (same as f64 / truth.len() as f64 - exact).abs() < 1e-9,
        "predict and exact disagree"
    );
    assert!(exact >= 0.80, "caption exact match {exact} < 0.80");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Mean squared error per ISTA iteration k = 1..300 over the test signals.
fn ista_curve(program: &str, input: &str) -> Vec<f64> {
    let rows: Vec<Vec<f64>> = apply(program, None, "ista_curve", input)
        .iter()
        .map(|l| {
            l.trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|x| x.trim().parse::<f64>().expect("a number"))
                .collect()
        })
        .collect();
    let k = rows[0].len();
    (0..k)
        .map(|i| rows.iter().map(|r| r[i]).sum::<f64>() / rows.len() as f64)
        .collect()
}

#[test]
fn lista_beats_ista_by_10x_iterations() {
    let program = "examples/lista.dp";
    let (train_data, test) = (
        "examples/data/lista_train.jsonl",
        "examples/data/lista_test.jsonl",
    );
    let dir = temp_dir("lista");
    let energy = apply_mean(program, None, "energy", test);
    let ista = ista_curve(program, test);
    let db = |e: f64| 10.0 * (e / energy).log10();
    let mut table = String::from(
        "| network | T | error (dB) | ISTA iterations to reach it |\n| --- | --- | --- | --- |\n",
    );
    let runs = [
        ("LISTA", 1usize, "loss1", "sq_err1"),
        ("LISTA", 2, "loss2", "sq_err2"),
        ("LISTA", 4, "loss4", "sq_err4"),
        ("SC2Net", 2, "loss_sc2", "sq_err_sc2"),
    ];
    for (net, t, objective, metric) in runs {
        let w = dir.join(format!("{objective}.safetensors"));
        train(
            program,
            train_data,
            &[
                "--valid",
                test,
                "--objective",
                objective,
                "--metric",
                metric,
                "--epochs",
                "20",
                "--lr",
                "0.003",
            ],
            &w,
        );
        let err = apply_mean(program, Some(&w), metric, test);
        let k = ista.iter().position(|&e| e <= err).map(|i| i + 1);
        let k_text = k.map_or(format!("> {}", ista.len()), |k| k.to_string());
        table.push_str(&format!("| {net} | {t} | {:.1} | {k_text} |\n", db(err)));
        if t <= 2 {
            let k = k.unwrap_or(usize::MAX);
            assert!(
                k >= 10 * t,
                "{net} T={t} ({:.2} dB) is matched by ISTA after {k} < {} iterations",
                db(err),
                10 * t
            );
        }
    }
    println!(
        "LISTA vs ISTA (500 held-out signals; ISTA after 1 / 300 iterations: {:.1} / {:.1} dB)\n{table}",
        db(ista[0]),
        db(ista[ista.len() - 1])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Normalised mutual information (arithmetic normalisation) of two labelings.
fn nmi(a: &[i64], b: &[i64]) -> f64 {
    use std::collections::HashMap;
    let n = a.len() as f64;
    let mut pa: HashMap<i64, f64> = HashMap::new();
    let mut pb: HashMap<i64, f64> = HashMap::new();
    let mut pab: HashMap<(i64, i64), f64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *pa.entry(x).or_default() += 1.0 / n;
        *pb.entry(y).or_default() += 1.0 / n;
        *pab.entry((x, y)).or_default() += 1.0 / n;
    }
    let h = |p: &HashMap<i64, f64>| -p.values().map(|&q| q * q.ln()).sum::<f64>();
    let mi: f64 = pab
        .iter()
        .map(|(&(x, y), &q)| q * (q / (pa[&x] * pb[&y])).ln())
        .sum();
    let (ha, hb) = (h(&pa), h(&pb));
    if ha + hb == 0.0 {
        1.0
    } else {
        2.0 * mi / (ha + hb)
    }
}

#[test]
fn kmeans_network_clusters_with_nmi_above_0_9() {
    let dir = temp_dir("kmeans");
    let w = dir.join("kmeans.safetensors");
    let test = "examples/data/kmeans_test.jsonl";
    train(
        "examples/kmeans.dp",
        "examples/data/kmeans_train.jsonl",
        &[
            "--valid",
            test,
            "--metric",
            "distortion",
            "--epochs",
            "20",
            "--lr",
            "0.01",
        ],
        &w,
    );
    let clusters: Vec<i64> = apply("examples/kmeans.dp", Some(&w), "cluster", test)
        .iter()
        .map(|l| l.trim().parse().expect("a cluster index"))
        .collect();
    let truth: Vec<i64> = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(test))
        .expect("read kmeans_test.jsonl")
        .lines()
        .map(|l| {
            l.trim_end_matches(']')
                .rsplit(',')
                .next()
                .and_then(|k| k.parse().ok())
                .expect("a label")
        })
        .collect();
    assert_eq!(clusters.len(), truth.len());
    let score = nmi(&clusters, &truth);
    let distortion = apply_mean("examples/kmeans.dp", Some(&w), "distortion", test);
    println!("kmeans: NMI {score:.4}, distortion {distortion:.4} (500 held-out points)");
    assert!(score >= 0.9, "k-means NMI {score} < 0.9");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nnsc_relu_layer_recovers_codes() {
    let dir = temp_dir("nnsc");
    let w = dir.join("nnsc.safetensors");
    let (program, test) = ("examples/nnsc.dp", "examples/data/nnsc_test.jsonl");
    train(
        program,
        "examples/data/nnsc_train.jsonl",
        &[
            "--valid", test, "--metric", "sq_err", "--epochs", "30", "--lr", "0.003",
        ],
        &w,
    );
    let energy = apply_mean(program, None, "energy", test);
    let db = |e: f64| 10.0 * (e / energy).log10();
    let relu = db(apply_mean(program, Some(&w), "sq_err", test));
    let ista1 = db(apply_mean(program, None, "ista1_err", test));
    let ista100 = db(apply_mean(program, None, "ista100_err", test));
    println!("nnsc: learned ReLU layer {relu:.1} dB, non-negative ISTA 1 step {ista1:.1} dB, 100 steps {ista100:.1} dB");
    assert!(
        relu <= -5.0,
        "the ReLU layer's error {relu:.2} dB is above -5 dB"
    );
    assert!(
        relu < ista1 - 3.0,
        "the ReLU layer ({relu:.2} dB) is not clearly better than one ISTA step ({ista1:.2} dB)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
