//! The invariants of ARCHITECTURE.md, checked on the sources: which
//! modules may use which crates, and that the library does no terminal
//! I/O (the application layer, `src/app/` in the binary crate, does it).

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Each library source file (not the application layer, not tests) with
/// its path relative to `src/` and its text without comments.
fn library() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut out = Vec::new();
    for p in files {
        let rel = p
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let is_test = rel.contains("/tests") || rel.ends_with("tests.rs");
        if rel.starts_with("app/") || rel == "main.rs" || is_test {
            continue;
        }
        let text = std::fs::read_to_string(&p).expect("readable");
        let code: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        out.push((rel, code.join("\n")));
    }
    out
}

fn check(what: &str, allowed: impl Fn(&str) -> bool, patterns: &[&str]) {
    let mut found = Vec::new();
    for (rel, code) in library() {
        for pat in patterns {
            if code.contains(pat) && !allowed(&rel) {
                found.push(format!("{rel}: {pat}"));
            }
        }
    }
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

#[test]
fn the_library_does_no_terminal_io() {
    let io = [
        "println!",
        "print!(",
        "eprint",
        "stdout()",
        "stderr()",
        "stdin()",
        "is_terminal",
        "indicatif",
        "rustyline",
        "ctrlc",
        "clap",
    ];
    check("terminal I/O in the library", |_| false, &io);
}

#[test]
fn crates_stay_in_their_modules() {
    let lib = library();
    assert!(lib.len() > 40, "the library's sources are found");
    assert!(
        lib.iter()
            .any(|(r, c)| r == "backend/mod.rs" && c.contains("dfdx")),
        "the backend is seen using dfdx"
    );
    check(
        "dfdx outside backend/",
        |r| r.starts_with("backend/"),
        &["dfdx"],
    );
    check(
        "ariadne outside diagnostic.rs",
        |r| r == "diagnostic.rs",
        &["ariadne"],
    );
    check(
        "logos or lalrpop outside syntax/",
        |r| r.starts_with("syntax/"),
        &["logos", "lalrpop"],
    );
}

#[test]
fn the_ir_does_not_import_the_checker() {
    check(
        "ir/ importing types/",
        |r| !r.starts_with("ir/"),
        &["crate::types"],
    );
}

#[test]
fn the_library_does_not_name_the_application() {
    check(
        "the library naming the application layer",
        |_| false,
        &[
            "crate::app",
            "crate::cli",
            "crate::repl",
            "crate::args",
            "crate::term",
        ],
    );
}
