//! `dp repl` driven from outside: through stdin (plain mode, as a script
//! would) and through a pseudo-terminal (rexpect), as a person would.
//!
//! Covered: evaluation, types, multi-line definitions, redefinition,
//! errors that do not end the session, commands, `:train` on a small
//! program, `:save` then `:weights` in a new session, Ctrl-C and Ctrl-D,
//! history, highlighting. Not covered here: the evaluator's own semantics
//! (tested with the runtime).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test (`DP_BIN` overrides it, for a shared target
/// directory whose `dp` other builds may replace).
fn dp() -> PathBuf {
    std::env::var_os("DP_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_dp")), PathBuf::from)
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-repl-test-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run `dp repl ARGS` in `dir` with `input` on stdin; (stdout, stderr, status).
fn repl_in(dir: &Path, args: &[&str], input: &str) -> (String, String, i32) {
    let mut child = Command::new(dp())
        .arg("repl")
        .args(args)
        .current_dir(dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn repl(input: &str) -> (String, String) {
    let dir = scratch("plain");
    let (out, err, status) = repl_in(&dir, &[], input);
    assert_eq!(status, 0, "stderr: {err}");
    (out, err)
}

/// A linear regression: one learned affine map, its data.
const LINEAR: &str = "learn f : R[2] -> Float\n\
    def loss ((x, y) : (R[2], Float)) : Float = mse (f x) y\n";

fn linear_project(name: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("lin.dp"), LINEAR).unwrap();
    let mut data = String::new();
    for i in 0..32 {
        let a = (i as f32 / 16.0) - 1.0;
        let b = ((i * 7 % 32) as f32 / 16.0) - 1.0;
        data.push_str(&format!("[[{a}, {b}], {}]\n", 2.0 * a - b + 0.5));
    }
    std::fs::write(dir.join("data.jsonl"), data).unwrap();
    dir
}

#[test]
fn evaluates_and_prints_value_and_type() {
    let (out, _) = repl("1 + 2\n2.5 * 2.0\n(1, true)\nlength [1, 2, 3]\n");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "3 : Int");
    assert_eq!(lines[1], "5.0 : Float");
    assert_eq!(lines[2], "[1,true] : (Int, Bool)");
    assert_eq!(lines[3], "3 : Int");
}

#[test]
fn types_of_expressions() {
    let (out, _) = repl(":type 1 + 2\n:t map\n:t \\x -> x\n:t fst\n");
    assert_eq!(
        out,
        "1 + 2 : Int\n\
         map : (a -> b) -> List a -> List b\n\
         \\x -> x : a -> a\n\
         fst : (a, b) -> a\n"
    );
}

#[test]
fn multi_line_definition_and_use() {
    let (out, err) = repl("def double (x : Int) : Int =\n  x * 2\ndouble 21\n[1,\n 2]\n");
    assert_eq!(
        out, "double : Int -> Int\n42 : Int\n[1,2] : List Int\n",
        "{err}"
    );
}

#[test]
fn error_does_not_end_the_session() {
    let (out, err) = repl("nope 1\n1 +* 2\ndef f = )\n1 + 1\n");
    assert!(err.contains("unknown name `nope`"), "{err}");
    assert!(
        err.contains("<repl:1>"),
        "diagnostics point into the input: {err}"
    );
    assert!(err.contains("E0005") || err.contains("E0006"), "{err}");
    assert_eq!(out, "2 : Int\n");
}

#[test]
fn redefinition_replaces_and_rechecks_dependents() {
    let input = "def f (x : Int) : Int = x + 1\n\
                 def g (x : Int) : Int = f x * 10\n\
                 def h (x : Int) : Int = g x\n\
                 def f (x : Int) : Int = x + 2\n\
                 h 0\n\
                 def f (x : Bool) : Bool = x\n\
                 h 1\n";
    let (out, err) = repl(input);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[3], "redefined `f`; re-checked `g`, `h`", "{out}");
    assert_eq!(lines[4], "f : Int -> Int");
    assert_eq!(lines[5], "20 : Int", "{err}");
    // A redefinition that breaks a dependent is refused: the old f stays.
    assert!(err.contains("E0201") || err.contains("mismatch"), "{err}");
    assert_eq!(lines[6], "30 : Int");
}

#[test]
fn commands_browse_params_help_and_typos() {
    let dir = linear_project("browse");
    let input = ":browse\n:params\n:brose\n:help\nrep H = R[3]\nparam theta : H\n:params\n";
    let (out, err, _) = repl_in(&dir, &["lin.dp"], input);
    assert!(out.contains("learn f : R[2] -> Float\n"), "{out}");
    assert!(out.contains("loss : (R[2], Float) -> Float\n"), "{out}");
    assert!(
        out.contains("f     affine  weight [1, 2], bias [1]"),
        "{out}"
    );
    assert!(out.contains("total 3 parameters"), "{out}");
    assert!(out.contains("theta  param   [3]"), "{out}");
    assert!(out.contains("total 6 parameters"), "{out}");
    assert!(out.contains(":weights W"), "{out}");
    assert!(err.contains("did you mean `:browse`?"), "{err}");
}

#[test]
fn load_reload_and_bad_files() {
    let dir = scratch("load");
    std::fs::write(dir.join("a.dp"), "def one = 1\n").unwrap();
    std::fs::write(dir.join("bad.dp"), "def two = \"x\" + 1\n").unwrap();
    let (out, err, status) = repl_in(
        &dir,
        &[],
        ":load a.dp\none\n:load bad.dp\none\n:load missing.dp\n",
    );
    assert_eq!(status, 0);
    assert!(out.starts_with("loaded a.dp (1 def)\n1 : Int\n"), "{out}");
    assert!(err.contains("bad.dp"), "{err}");
    assert!(err.contains("missing.dp"), "{err}");
    assert!(out.ends_with("1 : Int\n"), "{out}");
    // A file that failed to load is the one `:reload` reads again.
    let (out, err, _) = repl_in(&dir, &["bad.dp"], ":reload\n:load a.dp\n:reload\n");
    assert!(err.matches("bad.dp").count() >= 2, "{err}");
    assert_eq!(out, "loaded a.dp (1 def)\nreloaded a.dp (1 def)\n");
    // A file that cannot be read is not: `:reload` reads the last good one.
    let (out, err, _) = repl_in(&dir, &[], ":load a.dp\n:load nope.dp\n:reload\none\n");
    assert_eq!(err.matches("nope.dp").count(), 1, "{err}");
    assert_eq!(out, "loaded a.dp (1 def)\nreloaded a.dp (1 def)\n1 : Int\n");
}

#[test]
fn function_values_print_their_most_general_type() {
    let (out, _) = repl("def f x = x\nf\n(f, 1)\ntanh\n");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[1], "<function> : a -> a", "{out}");
    assert_eq!(lines[2], "<function> : (a -> a, Int)", "{out}");
    assert!(lines[3].starts_with("<function> : "), "{out}");
    assert!(!out.contains("()"), "{out}");
}

#[test]
fn train_then_save_then_weights_in_a_new_session() {
    let dir = linear_project("train");
    let input = ":train --data data.jsonl --epochs 3 --lr 0.1\n\
                 :save w.safetensors\n\
                 f ([1, 2] : R[2])\n";
    let (out, err, _) = repl_in(&dir, &["lin.dp"], input);
    assert!(out.contains("epoch 1/3  objective"), "{out}\n{err}");
    assert!(out.contains("epoch 3/3  objective"), "{out}\n{err}");
    assert!(
        out.contains("saved 2 tensors to w.safetensors"),
        "{out}\n{err}"
    );
    let trained = out.lines().last().unwrap().to_string();
    assert!(trained.ends_with(" : Float"), "{out}");
    // A new session: fresh weights differ, loaded ones give the same value.
    let (out2, err2, _) = repl_in(
        &dir,
        &["lin.dp"],
        "f ([1, 2] : R[2])\n:weights w.safetensors\nf ([1, 2] : R[2])\n",
    );
    let lines: Vec<&str> = out2.lines().collect();
    assert_eq!(lines.len(), 3, "{out2}\n{err2}");
    assert!(lines[1].starts_with("loaded weights from w.safetensors (epoch 3)"));
    assert_eq!(lines[2], trained);
    assert_ne!(lines[0], trained);
}

/// `:plot FILE` draws the curves of every `:train` run of the session so
/// far (one point per epoch and curve); before any training it says so.
#[test]
fn plot_draws_the_sessions_training_curves() {
    let dir = linear_project("plot");
    let input = ":plot early.svg\n\
                 :train --data data.jsonl --epochs 2 --lr 0.1\n\
                 :train --data data.jsonl --epochs 1 --lr 0.1\n\
                 :plot curves.svg\n";
    let (out, err, _) = repl_in(&dir, &["lin.dp"], input);
    assert!(err.contains("nothing trained yet"), "{out}\n{err}");
    assert!(!dir.join("early.svg").exists());
    assert!(
        out.contains("wrote the curves of 3 epochs to curves.svg"),
        "{out}\n{err}"
    );
    let svg = std::fs::read_to_string(dir.join("curves.svg")).expect("the picture");
    assert!(svg.starts_with("<svg") && svg.contains("objective"));
    assert_eq!(svg.matches("<circle").count(), 3, "3 epochs, one curve");
}

/// `:train` continues from the session's weights held in memory exactly as
/// `dp train --resume` continues from a file: the same weights, byte for byte.
#[test]
fn train_in_the_session_equals_resume() {
    let dir = linear_project("resume");
    let train = |extra: &[&str]| {
        let out = Command::new(dp())
            .current_dir(&dir)
            .args(["train", "lin.dp", "--data", "data.jsonl", "--lr", "0.1"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    train(&["--epochs", "2", "--save", "a.safetensors"]);
    train(&[
        "--epochs",
        "1",
        "--resume",
        "a.safetensors",
        "--save",
        "b.safetensors",
    ]);
    let input = ":train --data data.jsonl --epochs 2 --lr 0.1\n\
                 :train --data data.jsonl --epochs 1 --lr 0.1\n\
                 :save r.safetensors\n";
    let (out, err, _) = repl_in(&dir, &["lin.dp"], input);
    assert!(
        out.contains("saved 2 tensors to r.safetensors"),
        "{out}\n{err}"
    );
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    assert!(
        read("b.safetensors") == read("r.safetensors"),
        "the session's weights differ"
    );
}

#[test]
fn train_continues_and_keeps_unchanged_weights() {
    let dir = linear_project("continue");
    let input = ":train --data data.jsonl --epochs 2 --lr 0.1\n\
                 :train --data data.jsonl --epochs 1 --lr 0.1\n\
                 f ([1, 2] : R[2])\n\
                 def twice (x : R[2]) : Float = 2.0 * f x\n\
                 f ([1, 2] : R[2])\n\
                 learn f : R[3] -> Float\n\
                 :train --data nope.jsonl\n\
                 :train --data data.jsonl extra\n";
    let (out, err, _) = repl_in(&dir, &["lin.dp"], input);
    assert!(out.contains("epoch 3/3"), "{out}\n{err}");
    let values: Vec<&str> = out.lines().filter(|l| l.ends_with(" : Float")).collect();
    assert_eq!(values.len(), 2, "{out}");
    assert_eq!(values[0], values[1], "weights survive an unrelated def");
    // Changing f's shape breaks `loss`, so it is refused.
    assert!(err.contains("loss") || err.contains("E02"), "{err}");
    assert!(err.contains("nope.jsonl"), "{err}");
    assert!(err.contains("takes no file"), "{err}");
}

#[test]
fn imports_in_the_session() {
    let (out, err) = repl("import nn\n:t compose\nimport nosuch\n1\n");
    assert!(
        out.contains("compose : (a -> b) -> (c -> a) -> c -> b"),
        "{out}\n{err}"
    );
    assert!(err.contains("no stdlib module `nosuch`"), "{err}");
    assert!(out.ends_with("1 : Int\n"), "{out}");
}

#[test]
fn garbage_never_ends_the_session() {
    let inputs = [
        ")",
        "]]]",
        "\"unterminated",
        "def",
        "def = 1",
        "let in",
        ":",
        "::",
        ":type",
        ":load",
        ":train --epochs -3",
        ":save /nonexistent/dir/w",
        ":weights /nonexistent",
        "\\",
        "1 / 0",
        "last []",
        "rep A = R[0]",
        "vocab V = []",
        "(((((",
        "\u{7f}\u{1b}[A",
        "learn g : Int -> Int",
        "param p : Float = nope",
    ];
    // An empty line ends an input that is still open.
    let mut input = inputs.join("\n\n");
    input.push_str("\n\n1 + 1\n");
    let (out, _) = repl(&input);
    assert!(out.ends_with("2 : Int\n"), "{out}");
}

#[test]
fn quit_stops_reading() {
    let (out, _) = repl("1\n:quit\n2\n");
    assert_eq!(out, "1 : Int\n");
}

mod pty {
    use super::*;
    use rexpect::session::PtySession;

    fn spawn(dir: &Path, args: &[&str]) -> PtySession {
        let mut cmd = Command::new(dp());
        cmd.arg("repl")
            .args(args)
            .current_dir(dir)
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
        p.exp_string("dp> ").unwrap();
        p
    }

    /// Type text without Enter.
    fn type_(p: &mut PtySession, text: &str) {
        p.send(text).unwrap();
        p.flush().unwrap();
    }

    /// Send a line, expect `reply`, then wait for the next prompt.
    fn ask(p: &mut PtySession, line: &str, reply: &str) {
        p.send_line(line).unwrap();
        p.exp_string(reply).unwrap();
        p.exp_string("dp> ").unwrap();
    }

    #[test]
    fn terminal_session() {
        let dir = scratch("pty");
        let mut p = spawn(&dir, &[]);
        ask(&mut p, "1 + 2", "3 : Int");
        // A multi-line definition: the first line leaves `=` open.
        p.send_line("def double (x : Int) : Int =").unwrap();
        ask(&mut p, "  x * 2", "double : Int -> Int");
        ask(&mut p, ":t double", "double : Int -> Int");
        // An error, then the session goes on.
        ask(&mut p, "nope", "unknown name");
        ask(&mut p, "double 21", "42 : Int");
        // Ctrl-C cancels the line being typed.
        type_(&mut p, "double 1000");
        p.exp_string("1000").unwrap();
        p.send_control('c').unwrap();
        p.exp_string("dp> ").unwrap();
        p.send_line("double 5").unwrap();
        p.exp_string("10 : Int").unwrap();
        p.exp_string("dp> ").unwrap();
        // Keywords are highlighted on a terminal.
        type_(&mut p, "def");
        p.exp_string("\x1b[1;35mdef").unwrap();
        p.send_control('c').unwrap();
        p.exp_string("dp> ").unwrap();
        // Tab completes names in scope.
        type_(&mut p, "doub\t");
        p.exp_string("double").unwrap();
        p.send_line(" 1").unwrap();
        p.exp_string("2 : Int").unwrap();
        p.exp_string("dp> ").unwrap();
        // Ctrl-D quits.
        p.send_control('d').unwrap();
        p.exp_eof().unwrap();
        let history = std::fs::read_to_string(dir.join("data/dp/history")).unwrap();
        assert!(history.contains("1 + 2"), "{history}");
        // The history is there in the next session (up arrow).
        let mut p = spawn(&dir, &[]);
        type_(&mut p, "\x1b[A");
        p.exp_string("dp> double").unwrap();
        p.send_control('c').unwrap();
        p.exp_string("dp> ").unwrap();
        p.send_line(":quit").unwrap();
        p.exp_eof().unwrap();
    }

    #[test]
    fn train_and_interrupt() {
        let dir = linear_project("pty-train");
        let mut p = spawn(&dir, &["lin.dp"]);
        p.send_line(":train --data data.jsonl --epochs 2 --lr 0.1")
            .unwrap();
        p.exp_string("epoch 2/2  objective").unwrap();
        p.exp_string("the session has the weights of epoch 2")
            .unwrap();
        p.send_line(":train --data data.jsonl --epochs 10000000 --batch 1")
            .unwrap();
        p.exp_string("epoch 3/").unwrap();
        p.send_control('c').unwrap();
        p.exp_string("interrupted: keeping the weights of epoch")
            .unwrap();
        p.exp_string("the session has the weights of epoch")
            .unwrap();
        p.exp_string("dp> ").unwrap();
        p.send_line(":save w.safetensors").unwrap();
        p.exp_string("saved 2 tensors").unwrap();
        p.send_line(":quit").unwrap();
        p.exp_eof().unwrap();
        let mut p = spawn(&dir, &["lin.dp"]);
        p.send_line(":weights w.safetensors").unwrap();
        p.exp_string("loaded weights from w.safetensors").unwrap();
        p.send_line(":quit").unwrap();
        p.exp_eof().unwrap();
    }
}

/// `:train` takes `dp train`'s flags, several `--objective`s included:
/// the epoch lines name each objective, with `dp train`'s figures, and a
/// piece no objective of the run updates is warned of on stderr.
#[test]
fn train_with_several_objectives() {
    let dir = scratch("objectives");
    let program = "learn g : R[2] -> R[2]\nlearn d : R[2] -> Float\nparam s : Float = 1.0\n\
                   def d_loss (x : R[2]) : Float = sigmoid (d (tanh (g x))) - sigmoid (d x)\n\
                   def g_loss (x : R[2]) : Float = -(sigmoid (d (tanh (g x)))) * s\n\
                   objective disc = d_loss updates d\n\
                   objective gen = g_loss updates g, s\n";
    std::fs::write(dir.join("gan.dp"), program).unwrap();
    std::fs::write(
        dir.join("x.jsonl"),
        "[0.5, -1.0]\n[1.5, 0.25]\n[-0.75, 2.0]\n",
    )
    .unwrap();
    let flags = "--data x.jsonl --objective disc --objective gen --epochs 2";
    let (out, err, _) = repl_in(&dir, &["gan.dp"], &format!(":train {flags}\n"));
    let epochs: Vec<&str> = out.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 2, "{out}\n{err}");
    let cli = Command::new(dp())
        .current_dir(&dir)
        .args(["train", "gan.dp"])
        .args(flags.split(' '))
        .output()
        .unwrap();
    let cli_out = String::from_utf8_lossy(&cli.stdout);
    let figures = |l: &str| l.split("  ").take(3).collect::<Vec<_>>().join("  ");
    for (a, b) in epochs.iter().zip(cli_out.lines()) {
        assert!(a.contains("  disc ") && a.contains("  gen "), "{a}");
        assert_eq!(figures(a), figures(b), "REPL vs dp train");
    }
    let (_, err, _) = repl_in(
        &dir,
        &["gan.dp"],
        ":train --data x.jsonl --objective gen --epochs 1\n",
    );
    assert!(
        err.contains("`d` is updated by no objective of this run"),
        "{err}"
    );
}
