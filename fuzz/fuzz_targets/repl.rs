//! REPL lines (declarations, expressions, `:type`, `:browse`, `:params`,
//! `:help`) through the REPL's own session, one session per input: an
//! answer or a diagnostic, never a panic. Commands that touch files
//! (`:load`, `:save`, `:weights`, `:train`, `:plot`) are skipped.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/app/mod.rs"]
mod app;

/// Commands that only read the session.
const SAFE: [&str; 6] = [":t", ":type", ":browse", ":params", ":help", ":b"];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    // As in the `dp` binary, the session runs on a worker of dp's pool,
    // whose big stack the checker's recursion over deep input needs.
    dp::driver::with_big_stack(move || session(&text));
});

fn session(text: &str) {
    let mut repl = app::repl::Repl::new(false);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let word = line.trim_start().split_whitespace().next().unwrap_or("");
        if word.starts_with(':') && !SAFE.contains(&word) {
            continue;
        }
        if let app::repl::Flow::Quit = repl.handle(line, &mut out, &mut err) {
            break;
        }
        out.clear();
        err.clear();
    }
}
