//! The library's public API (`dp::Program`, `dp::Error`), as a Rust user
//! calls it: no terminal, no files unless asked for.

use std::path::Path;

/// A program nested far deeper than a small thread's stack allows checks
/// fine from such a thread: loading runs on dp's big-stack thread.
#[test]
fn deep_programs_load_from_a_small_stack() {
    let depth = 20_000;
    let text = format!(
        "def main : Int = {}1{}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || dp::Program::from_source("deep.dp", &text).map(|p| p.signatures()))
        .expect("spawn");
    let signatures = handle.join().expect("no overflow").expect("checks");
    assert_eq!(signatures, ["main : Int"]);
}

/// A data tree 100,000 levels deep decodes, evaluates and is dropped on a
/// small thread's stack (decoding and `cata` use explicit stacks, and so
/// does dropping a decoded tree).
#[test]
fn deep_data_trees_from_a_small_stack() {
    let depth = 100_000;
    let line = format!("{}2{}\n", "[1, ".repeat(depth), "]".repeat(depth));
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let program = dp::Program::from_source(
                "deep.dp",
                "def height (t : Tree Int) : Int = cata (\\x -> 0) (\\l r -> 1 + (if l > r then l else r)) t",
            )?;
            let data = program.growing_data_from_jsonl("height", &line)?;
            let model = dp::Model::fresh_for(&program, &data, 0)?;
            program.apply_data(&model, &data)
        })
        .expect("spawn");
    let heights = handle.join().expect("no overflow").expect("runs");
    assert_eq!(heights, [depth.to_string()]);
}

/// Imports come through the resolver; one it cannot serve is a diagnostic
/// with a span, rendered by the error.
#[test]
fn imports_come_through_the_resolver() {
    let resolver = |path: &Path| match path.to_str() {
        Some("lib/cells.dp") => Ok("def half (x : Float) : Float = x / 2.0".to_string()),
        _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
    };
    let ok = dp::Program::from_source_with(
        "lib/main.dp",
        "import \"cells.dp\"\ndef main : Float = half 3.0",
        resolver,
    )
    .expect("resolves relative to lib/");
    assert_eq!(ok.signatures(), ["main : Float"]);
    let err = dp::Program::from_source_with("main.dp", "import \"nope.dp\"\n", resolver)
        .expect_err("nope.dp cannot be resolved");
    assert_eq!(err.diagnostics()[0].code.as_str(), "E0105");
    let shown = err.to_string();
    assert!(
        shown.contains("nope.dp") && shown.contains("main.dp:1:"),
        "{shown}"
    );
}

/// Function types for decoding data: a polymorphic or unknown name is an
/// error with a "did you mean".
#[test]
fn function_types() {
    let p = dp::Program::from_source(
        "f.dp",
        "vocab L = [\"a\", \"b\"]\ndef id x = x\ndef pick (xs : List L) : L = last xs\n",
    )
    .expect("checks");
    assert_eq!(
        p.function_type("pick").expect("monomorphic"),
        ("List L".to_string(), "L".to_string())
    );
    assert!(p.function_type("id").is_err());
    let err = p.function_type("pik").expect_err("unknown");
    assert!(err.to_string().contains("did you mean `pick`?"), "{err}");
}

/// A file that does not exist is an error naming it.
#[test]
fn missing_files_are_errors() {
    let err = dp::Program::from_file("/nonexistent/dir/x.dp").expect_err("no such file");
    assert!(err.to_string().contains("/nonexistent/dir/x.dp"), "{err}");
}

/// Fresh weights are drawn from the seed; saved and loaded back they are
/// the same model; a changed program refuses them with a diagnostic.
#[test]
fn models_fresh_saved_and_loaded() {
    let src = "vocab L = [\"a\", \"b\"]\nlearn f : R[2] -> Scores L\nparam p : R[3] = [1, 2, 3]\n";
    let program = dp::Program::from_source("m.dp", src).expect("checks");
    let a = dp::Model::fresh(&program, 1).expect("fresh");
    let b = dp::Model::fresh(&program, 1).expect("fresh");
    let c = dp::Model::fresh(&program, 2).expect("fresh");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (wa, wb, wc) = (dir.join("a.st"), dir.join("b.st"), dir.join("c.st"));
    for (m, w) in [(&a, &wa), (&b, &wb), (&c, &wc)] {
        m.save(&program, w).expect("saves");
    }
    let read = |p: &Path| std::fs::read(p).expect("written");
    assert_eq!(read(&wa), read(&wb), "the same seed gives the same weights");
    assert_ne!(read(&wa), read(&wc), "another seed gives others");
    let back = dp::Model::load(&program, &wa).expect("loads");
    assert_eq!(back.parameter_count(), 2 * 2 + 2 + 3);
    back.save(&program, dir.join("a2.st")).expect("saves again");
    assert_eq!(
        read(&wa),
        read(&dir.join("a2.st")),
        "load then save is the identity"
    );
    let changed =
        dp::Program::from_source("m.dp", &src.replace("[\"a\", \"b\"]", "[\"b\", \"a\"]"))
            .expect("checks");
    let err = dp::Model::load(&changed, &wa).expect_err("a reordered vocabulary");
    assert!(
        err.to_string()
            .contains("the closed vocabulary `L` differs"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `eval`, `apply_json` and `apply_array` give what `dp run` prints, and
/// errors that name the line, the JSON path or the shapes.
#[test]
fn evaluation_through_the_api() {
    let src = "vocab L = [\"neg\", \"pos\"]\nparam w : R[2, 2] = [[1, 0], [0, -1]]\n\
               def f (x : R[2]) : R[2] = w @ x\n\
               def g ((x, l) : (R[2], L)) : Float = if l == \"pos\" then sum x else 0.0\n";
    let mut program = dp::Program::from_source("e.dp", src).expect("checks");
    let model = dp::Model::fresh(&program, 0).expect("weights");
    assert_eq!(
        program.eval(&model, "f [1.0, 2.0]").expect("eval"),
        "[1.0,-2.0]"
    );
    assert!(program.eval(&model, "f true").is_err());
    let rows = program
        .apply_json(&model, "g", "[[1, 2], \"pos\"]\n[[3, 4], \"neg\"]\n")
        .expect("applies");
    assert_eq!(rows, ["3.0", "0.0"]);
    let err = program
        .apply_json(&model, "g", "[[1, 2], \"pos\"]\n[[3, 4], \"maybe\"]\n")
        .expect_err("an unknown symbol");
    assert!(err.to_string().contains("<data>:2: at $[1]"), "{err}");
    let x = ndarray::array![[1.0f32, 2.0], [3.0, -4.0]];
    let y = program.apply_array(&model, "f", x.view()).expect("applies");
    assert_eq!(y, ndarray::array![[1.0f32, -2.0], [3.0, 4.0]]);
    let wide = ndarray::Array2::<f32>::zeros((2, 3));
    let err = program
        .apply_array(&model, "f", wide.view())
        .expect_err("3 columns");
    assert!(err.to_string().contains("takes rows of 2 reals"), "{err}");
    let none = ndarray::Array2::<f32>::zeros((0, 2));
    assert_eq!(
        program
            .apply_array(&model, "f", none.view())
            .expect("empty")
            .dim(),
        (0, 2)
    );
    assert!(program.apply_array(&model, "g", x.view()).is_err());
}

/// Data sets from JSON values built in Rust: decoded once against the
/// function's argument type, errors naming the value and the JSON path.
#[test]
fn data_sets_from_rust_values() {
    use serde_json::json;
    let program = dp::Program::from_source(
        "d.dp",
        "vocab Word\ndef count (ws : List Word) : Int = length ws\n",
    )
    .expect("checks");
    let model = dp::Model::fresh(&program, 0).expect("weights");
    let data = program
        .data_from_values(
            &model,
            "count",
            &[json!(["a", "b"]), json!([]), json!(["c"])],
        )
        .expect("decodes");
    assert_eq!(
        (data.len(), data.argument_type()),
        (3, "List Word".to_string())
    );
    assert_eq!(
        program.apply_data(&model, &data).expect("applies"),
        ["2", "0", "1"]
    );
    let err = program
        .data_from_values(&model, "count", &[json!(["a"]), json!(["b", 3])])
        .expect_err("a number is not a word");
    assert!(err.to_string().contains("<value>:2: at $[1]"), "{err}");
    let lines = program.data_from_jsonl(&model, "count", "[\"x\"]\n\n[\"y\", \"z\"]\n");
    assert_eq!(lines.expect("decodes").len(), 2);
}

// ---- training through the API ----

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

/// The first `n` lines of a bundled data file.
fn lines(file: &str, n: usize) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/data")
        .join(file);
    let text = std::fs::read_to_string(path).expect("bundled data");
    text.lines().take(n).collect::<Vec<_>>().join("\n")
}

fn sentiment() -> dp::Program {
    dp::Program::from_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sentiment.dp"))
        .expect("checks")
}

fn settings(batch: usize, seed: u64) -> dp::TrainSettings {
    let mut s = dp::TrainSettings::new("loss");
    s.metrics = vec!["accuracy".into()];
    s.batch = batch;
    s.seed = seed;
    s
}

/// `epochs` epochs of the sentiment RNN on the first 96 training
/// sentences, from fresh weights (seed 3).
fn train_sentiment(program: &dp::Program, epochs: usize) -> (dp::Model, Vec<dp::EpochReport>) {
    let train = program
        .growing_data_from_jsonl("loss", &lines("sentiment_train.jsonl", 96))
        .expect("decodes");
    let model = dp::Model::fresh_for(program, &train, 3).expect("weights");
    let valid = program
        .data_from_jsonl(&model, "loss", &lines("sentiment_valid.jsonl", 32))
        .expect("decodes");
    let mut trainer = dp::Trainer::new(program, model, settings(16, 3)).expect("an objective");
    let mut reports = Vec::new();
    for _ in 0..epochs {
        let mut seen = Vec::new();
        reports.push(
            trainer
                .epoch(&train, Some(&valid), |done| seen.push(done))
                .expect("trains"),
        );
        assert_eq!(seen, [16, 32, 48, 64, 80, 96], "progress after each step");
    }
    (trainer.model(), reports)
}

/// What a model says about the first validation sentences.
fn outputs(program: &dp::Program, model: &dp::Model) -> Vec<String> {
    let sentences: Vec<serde_json::Value> = lines("sentiment_valid.jsonl", 8)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")[0].clone())
        .collect();
    let data = program
        .data_from_values(model, "model", &sentences)
        .expect("decodes");
    program.apply_data(model, &data).expect("applies")
}

/// The trainer trains exactly as `dp train` does: same epoch figures, same
/// weights (the same outputs to the last digit).
#[test]
fn trainer_equals_dp_train() {
    let dir = tmp("api-train");
    std::fs::write(dir.join("train.jsonl"), lines("sentiment_train.jsonl", 96)).expect("write");
    std::fs::write(dir.join("valid.jsonl"), lines("sentiment_valid.jsonl", 32)).expect("write");
    let saved = dir.join("cli.safetensors");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dp"))
        .arg("train")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sentiment.dp"))
        .args([
            "--epochs", "2", "--batch", "16", "--seed", "3", "--metric", "accuracy",
        ])
        .arg("--data")
        .arg(dir.join("train.jsonl"))
        .arg("--valid")
        .arg(dir.join("valid.jsonl"))
        .arg("--save")
        .arg(&saved)
        .output()
        .expect("dp runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let program = sentiment();
    let (model, reports) = train_sentiment(&program, 2);
    let printed = String::from_utf8_lossy(&out.stdout);
    for r in &reports {
        let figures = format!(
            "epoch {}/2  objective {:.4}  valid {:.4}  accuracy {:.4}",
            r.epoch,
            r.objective,
            r.valid_objective.expect("validated"),
            r.metrics.first().expect("a metric").1
        );
        assert!(printed.contains(&figures), "{figures}\nnot in\n{printed}");
    }
    let from_cli = dp::Model::load(&program, &saved).expect("loads");
    assert_eq!(from_cli.epoch(), 2);
    assert_eq!(outputs(&program, &from_cli), outputs(&program, &model));
}

/// Two epochs, saved, loaded and one more is the same as three at once
/// (the optimizer state and the epoch count travel with the model).
#[test]
fn trainer_resumes_exactly() {
    let program = sentiment();
    let (three, _) = train_sentiment(&program, 3);
    let (two, _) = train_sentiment(&program, 2);
    let path = tmp("api-resume").join("two.safetensors");
    two.save(&program, &path).expect("saves");
    let loaded = dp::Model::load(&program, &path).expect("loads");
    let train = program
        .data_from_jsonl(&loaded, "loss", &lines("sentiment_train.jsonl", 96))
        .expect("decodes");
    let mut trainer = dp::Trainer::new(&program, loaded, settings(16, 3)).expect("an objective");
    let report = trainer.epoch(&train, None, |_| {}).expect("trains");
    assert_eq!((report.epoch, report.valid_objective), (3, None));
    assert_eq!(
        outputs(&program, &trainer.model()),
        outputs(&program, &three)
    );
}

/// A step whose objective is not finite is an error naming the def, and
/// changes no weight; a finite one does.
#[test]
fn a_non_finite_step_changes_nothing() {
    let program = dp::Program::from_source(
        "logy.dp",
        "learn f : R[1] -> Float\ndef loss ((x, y) : (R[1], Float)) : Float = log y + f x",
    )
    .expect("checks");
    let model = dp::Model::fresh(&program, 0).expect("weights");
    let data = |y: f64| {
        program
            .data_from_values(&model, "loss", &[serde_json::json!([[1.0], y])])
            .expect("decodes")
    };
    let probe = |m: &dp::Model| program.apply_data(m, &data(1.0)).expect("applies");
    let mut trainer = dp::Trainer::new(&program, model.clone(), dp::TrainSettings::new("loss"))
        .expect("an objective");
    let err = trainer.step(&data(0.0)).expect_err("log 0");
    assert!(
        err.to_string()
            .contains("the objective became -Infinity in epoch 1, batch 1"),
        "{err}"
    );
    assert_eq!(probe(&trainer.model()), probe(&model));
    assert_eq!(
        trainer.step(&data(1.0)).expect("finite"),
        probe(&model)[0].parse::<f32>().expect("a number")
    );
    assert_ne!(probe(&trainer.model()), probe(&model));
}

/// Data of another function's type, or numbered by other vocabularies,
/// is refused with a diagnostic.
#[test]
fn the_trainer_refuses_data_it_cannot_use() {
    let program = sentiment();
    let train = program
        .growing_data_from_jsonl("loss", &lines("sentiment_train.jsonl", 8))
        .expect("decodes");
    let fresh = dp::Model::fresh(&program, 0).expect("weights");
    let mut trainer = dp::Trainer::new(&program, fresh.clone(), settings(4, 0)).expect("ok");
    let err = trainer
        .epoch(&train, None, |_| {})
        .expect_err("other vocabularies");
    assert!(
        err.to_string()
            .contains("other vocabularies than the model's"),
        "{err}"
    );
    let sentences = program
        .data_from_values(&fresh, "model", &[serde_json::json!(["a", "film"])])
        .expect("decodes");
    let err = trainer
        .step(&sentences)
        .expect_err("not the objective's type");
    assert!(
        err.to_string()
            .contains("holds arguments of `model` (`List Word`), not `(List Word, Label)`"),
        "{err}"
    );
    let err =
        dp::Trainer::new(&program, fresh, dp::TrainSettings::new("model")).expect_err("not a loss");
    assert!(err.to_string().contains("must return a Float"), "{err}");
}

/// `normal` and `uniform` have their distributions: 20,000 draws of each
/// (mean and variance within 4 standard errors; uniform inside [0, 1)).
#[test]
fn draws_have_their_distributions() {
    let mut program = dp::Program::from_source(
        "draws.dp",
        "def n : R[20000] = normal\ndef u : R[20000] = uniform\n",
    )
    .expect("checks");
    let model = dp::Model::fresh(&program, 0).expect("weights");
    let mut values = |name: &str| -> Vec<f64> {
        let json = program.eval(&model, name).expect("evaluates");
        serde_json::from_str(&json).expect("a list of numbers")
    };
    let stats = |xs: &[f64]| {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        (n, mean, var)
    };
    let normal = values("n");
    let (n, mean, var) = stats(&normal);
    assert!(mean.abs() < 4.0 / n.sqrt(), "normal mean {mean}");
    assert!(
        (var - 1.0).abs() < 4.0 * (2.0 / n).sqrt(),
        "normal variance {var}"
    );
    let uniform = values("u");
    assert!(uniform.iter().all(|&x| (0.0..1.0).contains(&x)));
    let (n, mean, var) = stats(&uniform);
    assert!(
        (mean - 0.5).abs() < 4.0 * (1.0 / 12.0 / n).sqrt(),
        "uniform mean {mean}"
    );
    assert!((var - 1.0 / 12.0).abs() < 0.005, "uniform variance {var}");
}

/// `sample` draws each symbol with its softmax probability: scores `ln 1,
/// ln 2, ln 3` give 1/6, 1/3, 1/2 (6,000 examples, each at its own
/// position, within 4 standard errors).
#[test]
fn sample_follows_the_softmax() {
    let program = dp::Program::from_source(
        "sample.dp",
        "vocab C = [\"a\", \"b\", \"c\"]\ndef pick (s : Scores C) : C = sample s\n",
    )
    .expect("checks");
    let model = dp::Model::fresh(&program, 0).expect("weights");
    let n = 6000;
    let lines = "[0.0, 0.6931472, 1.0986123]\n".repeat(n);
    let picks = program.apply_json(&model, "pick", &lines).expect("applies");
    for (symbol, p) in [("\"a\"", 1.0 / 6.0), ("\"b\"", 1.0 / 3.0), ("\"c\"", 0.5)] {
        let count = picks.iter().filter(|s| s.as_str() == symbol).count() as f64;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (count - n as f64 * p).abs() < 4.0 * sd,
            "{symbol}: {count} of {n}"
        );
    }
}

/// `param` initialisers may draw (11.1): from the model's seed, each param
/// its own draws (two params alike in type differ), the same seed the
/// same values.
#[test]
fn param_initialisers_draw_from_the_seed() {
    let mut program = dp::Program::from_source(
        "init.dp",
        "param p : R[4] = 0.02 * normal\nparam q : R[4] = 0.02 * normal\nparam u : R[4] = uniform\n",
    )
    .expect("checks");
    let mut values = |seed: u64| {
        let model = dp::Model::fresh(&program, seed).expect("weights");
        ["p", "q", "u"].map(|name| program.eval(&model, name).expect("evaluates"))
    };
    let (a, b, c) = (values(0), values(0), values(1));
    assert_eq!(a, b);
    assert_ne!(a[0], c[0]);
    assert_ne!(a[0], a[1]);
    let p: Vec<f64> = serde_json::from_str(&a[0]).expect("numbers");
    assert!(
        p.iter().all(|x| x.abs() < 0.2) && p.iter().any(|&x| x != 0.0),
        "{p:?}"
    );
}
