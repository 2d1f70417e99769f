//! dp as a library: load `examples/sentiment.dp`, train it on sentences
//! built here in Rust, save the model, load it back and apply it.
//!
//!     cargo run --release --example embed [OUT_DIR]
//!
//! The weights go to `OUT_DIR/sentiment.safetensors` (by default under
//! `target/`). The test suite runs this example too (`cargo test`).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// Sentences of a tiny sentiment language: a subject, "is" or "is not",
/// an adjective; negation flips the label.
fn sentences(n: usize, seed: u64) -> Vec<Value> {
    let subjects = ["the film", "this movie", "the plot", "the acting"];
    let good = ["good", "great", "fun", "moving"];
    let bad = ["bad", "dull", "poor", "boring"];
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005) | 1;
    let mut next = |k: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % k
    };
    (0..n)
        .map(|_| {
            let positive = next(2) == 0;
            let negated = next(3) == 0;
            let adjective = if positive {
                good[next(4)]
            } else {
                bad[next(4)]
            };
            let mut words: Vec<&str> = subjects[next(4)].split(' ').collect();
            words.push("is");
            if negated {
                words.push("not");
            }
            words.push(adjective);
            let label = if positive != negated { "pos" } else { "neg" };
            json!([words, label])
        })
        .collect()
}

fn run(out_dir: &Path) -> Result<f64, dp::Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let program = dp::Program::from_file(root.join("examples/sentiment.dp"))?;
    // Training data grows the open vocabulary `Word`; the model's embedding
    // table is sized by it, as `dp train` sizes it by its data file.
    let train = program.growing_data_from_values("loss", &sentences(400, 1))?;
    let model = dp::Model::fresh_for(&program, &train, 0)?;
    let valid = program.data_from_values(&model, "loss", &sentences(100, 2))?;
    let mut settings = dp::TrainSettings::new("loss");
    settings.metrics = vec!["accuracy".into()];
    settings.batch = 16;
    settings.lr = Some(0.01);
    let mut trainer = dp::Trainer::new(&program, model, settings)?;
    for _ in 0..6 {
        let report = trainer.epoch(&train, Some(&valid), |_| {})?;
        let accuracy = report.metrics.first().map_or(f64::NAN, |m| m.1);
        println!(
            "epoch {}: objective {:.4}, validation accuracy {accuracy:.3}",
            report.epoch, report.objective
        );
    }
    let path = out_dir.join("sentiment.safetensors");
    trainer.save(&path)?;
    let model = dp::Model::load(&program, &path)?;
    println!(
        "saved and reloaded {} ({} parameters)",
        path.display(),
        model.parameter_count()
    );
    let check = program.data_from_values(&model, "loss", &sentences(100, 2))?;
    let accuracy = dp::Trainer::new(
        &program,
        model.clone(),
        dp::TrainSettings {
            metrics: vec!["accuracy".into()],
            ..dp::TrainSettings::new("loss")
        },
    )?
    .validate(&check)?
    .metrics
    .first()
    .map_or(f64::NAN, |m| m.1);
    let asked = [
        json!(["the", "film", "is", "not", "dull"]),
        json!(["the", "plot", "is", "boring"]),
    ];
    let data = program.data_from_values(&model, "model", &asked)?;
    for (sentence, scores) in asked.iter().zip(program.apply_data(&model, &data)?) {
        println!("{sentence} -> scores {scores}");
    }
    Ok(accuracy)
}

fn out_dir() -> PathBuf {
    let dir = std::env::args_os().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/embed-example"),
        PathBuf::from,
    );
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn main() {
    match run(&out_dir()) {
        Ok(accuracy) => println!("reloaded model's validation accuracy {accuracy:.3}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

/// The example runs in the test suite: it trains, and the reloaded model
/// classifies held-out sentences (negations included) well above chance.
#[test]
fn the_example_trains_saves_reloads_and_applies() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/embed-example-test");
    std::fs::create_dir_all(&dir).expect("out dir");
    let accuracy = run(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(accuracy >= 0.9, "validation accuracy {accuracy}");
}
