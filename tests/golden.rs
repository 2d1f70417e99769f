//! Golden tests: every `tests/golden/*.dp`, `examples/*.dp` and
//! `stdlib/*.dp` program is checked and run, and the transcript compared
//! with the `.out` file beside it (`UPDATE_EXPECT=1 cargo test` rewrites
//! them). A program may carry inline directives:
//!
//! ```text
//! -- eval: EXPR      evaluate EXPR in the program's scope and print it
//! ```
//!
//! The transcript holds `dp check`'s lines, then each `-- eval:` result,
//! then `main`'s value if there is one; or the rendered diagnostics (colour
//! off) where something fails. Error programs are golden tests too: their
//! `.out` is the diagnostic snapshot.

use std::path::PathBuf;

use dp::{Model, Program};

fn transcript(path: PathBuf) -> String {
    let mut out = String::new();
    let mut program = match Program::from_file(&path) {
        Ok(p) => p,
        Err(e) => return e.render(false),
    };
    out.push_str("== check\n");
    let signatures = program.signatures();
    for line in &signatures {
        out.push_str(line);
        out.push('\n');
    }
    let model = match Model::fresh(&program, 0) {
        Ok(m) => m,
        Err(e) => return out + &e.render(false),
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut evals: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("-- eval:")
                .map(|e| e.trim().to_string())
        })
        .collect();
    if signatures.iter().any(|s| s.starts_with("main : ")) {
        evals.push("main".to_string());
    }
    for expr in evals {
        out.push_str(&format!("== {expr}\n"));
        match program.eval(&model, &expr) {
            Ok(json) => out.push_str(&format!("{json}\n")),
            Err(e) => out.push_str(&e.render(false)),
        }
    }
    out
}

fn programs(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "dp"));
    files.sort();
    files
}

/// `dp lower`'s text for a program (every def of the file).
fn lowered(path: PathBuf) -> String {
    match Program::from_file(&path).and_then(|p| p.lower(None)) {
        Ok(text) => text,
        Err(e) => e.render(false),
    }
}

fn check_dir(dir: &str) {
    check_dir_with(dir, "out", transcript);
}

fn check_dir_with(dir: &str, ext: &str, transcript: fn(PathBuf) -> String) {
    let mut failures = Vec::new();
    for path in programs(dir) {
        let expected_path = path.with_extension(ext);
        let actual = transcript(path.clone());
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            if std::env::var_os("UPDATE_EXPECT").is_some() {
                std::fs::write(&expected_path, &actual).expect("write .out");
            } else {
                failures.push(format!(
                    "--- {}\n--- expected\n{expected}\n--- actual\n{actual}",
                    path.display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden file(s) differ (UPDATE_EXPECT=1 to accept):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_programs() {
    check_dir("tests/golden");
}

#[test]
fn golden_errors() {
    check_dir("tests/errors");
}

#[test]
fn stdlib_modules() {
    check_dir("stdlib");
}

#[test]
fn examples() {
    check_dir("examples");
}

/// The network every example lowers to (`dp lower`), in `examples/*.lower`.
#[test]
fn examples_lowered() {
    check_dir_with("examples", "lower", lowered);
}
