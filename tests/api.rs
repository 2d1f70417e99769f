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
