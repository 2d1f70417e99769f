//! Integration tests of the `dp` binary (spec section 9): output streams,
//! exit statuses (0 success, 1 an error in the program / data / weights,
//! 2 a usage error), `--eval`, `--apply`, data-error messages, and
//! robustness (no input may make `dp` panic or crash).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one run of `dp` produced.
struct Run {
    /// `None` when the process was ended by a signal (a crash).
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The largest resident size seen while it ran, in MB (`VmHWM`,
    /// sampled every 20 ms; 0 where `/proc` is not there).
    peak_mb: u64,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit status\n{}",
            self.describe()
        );
    }

    /// No panic message, no colour codes, not killed by a signal.
    fn assert_sane(&self) {
        assert!(
            self.code.is_some(),
            "dp was killed by a signal (a crash)\n{}",
            self.describe()
        );
        assert!(
            !self.stderr.contains("panicked"),
            "dp panicked\n{}",
            self.describe()
        );
        assert!(
            !self.stderr.contains("RUST_BACKTRACE"),
            "dp panicked\n{}",
            self.describe()
        );
        assert!(
            !self.stderr.contains("\x1b["),
            "colour codes on a non-terminal stderr\n{}",
            self.describe()
        );
        assert!(
            !self.stdout.contains("\x1b["),
            "colour codes on a non-terminal stdout\n{}",
            self.describe()
        );
    }
}

const TIMEOUT: Duration = Duration::from_secs(120);

/// Run `dp ARGS` with stdin closed and pipes for stdout and stderr (so not
/// a terminal), killing it after [`TIMEOUT`].
fn dp(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dp"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .spawn()
        .expect("start dp");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let start = Instant::now();
    let mut peak_mb = 0;
    let status = loop {
        peak_mb = peak_mb.max(resident_peak_mb(child.id()));
        if let Some(s) = child.try_wait().expect("wait for dp") {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dp {args:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    Run {
        code: status.code(),
        stdout,
        stderr,
        peak_mb,
    }
}

/// The high-water mark of process `pid`'s resident memory, in MB (0 if
/// unknown).
fn resident_peak_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh file in the temp dir holding `contents`; its path.
fn temp_file(stem: &str, ext: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "dp-cli-{}-{n}-{nanos}-{stem}.{ext}",
        std::process::id()
    ));
    std::fs::write(&path, contents).expect("write temp file");
    path
}

fn program(stem: &str, text: &str) -> PathBuf {
    temp_file(stem, "dp", text)
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const GOOD: &str = "\
-- a small well-typed program
vocab Label = [\"neg\", \"pos\"]
rep V = R[2]

def inc (x : Int) : Int = x + 1
def pair (x : Int) = (x, true)
def flip (l : Label) : Label = if l == \"neg\" then \"pos\" else \"neg\"
def count ((xs, b) : (List Int, Bool)) : Int = if b then length xs else 0
def shift (v : V) : V = v + 1.0
def main = [inc 1, inc 2]
";

const BAD_TYPE: &str = "\
def ok : Int = 1
def bad : Int = 1 + true
";

// ---------------------------------------------------------------- dp check

#[test]
fn check_good_file_prints_signatures_and_exits_0() {
    let p = program("good", GOOD);
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(
        r.stdout,
        "inc : Int -> Int\n\
         pair : Int -> (Int, Bool)\n\
         flip : Label -> Label\n\
         count : (List Int, Bool) -> Int\n\
         shift : V -> V\n\
         main : List Int\n",
        "{}",
        r.describe()
    );
    assert!(
        r.stderr.trim().is_empty(),
        "nothing on stderr for a good file\n{}",
        r.describe()
    );
}

#[test]
fn check_polymorphic_signature_uses_a_b_in_order() {
    let p = program("poly", "def compose2 f g x = f (g x)\ndef konst x _ = x\n");
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(
        r.stdout,
        "compose2 : (a -> b) -> (c -> a) -> c -> b\nkonst : a -> b -> a\n",
        "{}",
        r.describe()
    );
}

#[test]
fn check_bad_file_exits_1_with_diagnostic_on_stderr_without_colour() {
    let p = program("bad", BAD_TYPE);
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        !r.stderr.trim().is_empty(),
        "a diagnostic on stderr\n{}",
        r.describe()
    );
    assert!(
        r.stderr.contains("bad"),
        "the diagnostic points at the bad def\n{}",
        r.describe()
    );
    let file_name = p.file_name().unwrap().to_str().unwrap();
    assert!(
        r.stderr.contains(file_name),
        "the diagnostic names the file\n{}",
        r.describe()
    );
    assert!(
        !r.stdout.contains("ok : Int"),
        "no signatures are printed for a bad program\n{}",
        r.describe()
    );
}

#[test]
fn check_syntax_error_exits_1() {
    let p = program("syntax", "def f = (1 +\n");
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(!r.stderr.trim().is_empty(), "{}", r.describe());
}

#[test]
fn check_unknown_character_reports_position() {
    let p = program("char", "def f = 1 + 2 $ 3\n");
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains('$'),
        "the diagnostic shows the character\n{}",
        r.describe()
    );
    assert!(
        r.stderr.contains(":1:15"),
        "the diagnostic gives line 1, column 15\n{}",
        r.describe()
    );
}

#[test]
fn check_missing_file_exits_1() {
    let missing = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-cli-{}-does-not-exist.dp", std::process::id()));
    let r = dp(&["check", s(&missing)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("does-not-exist.dp"),
        "the message names the file\n{}",
        r.describe()
    );
}

#[test]
fn check_directory_exits_1() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let r = dp(&["check", s(&dir)]);
    r.assert_sane();
    r.assert_code(1);
}

#[test]
fn check_empty_program_is_fine() {
    let p = program("empty", "");
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "", "{}", r.describe());
}

#[test]
fn check_with_imports_lists_only_the_root_defs() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "dp-cli-{}-{}-imports",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(
        dir.join("lib/helper.dp"),
        "def triple (x : Int) : Int = x * 3\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.dp"),
        "import nn\nimport \"lib/helper.dp\"\ndef nine : Int = triple 3\n",
    )
    .unwrap();
    let r = dp(&["check", s(&dir.join("main.dp"))]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "nine : Int\n", "{}", r.describe());
    let r = dp(&["run", s(&dir.join("main.dp")), "--eval", "nine"]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "9\n", "{}", r.describe());
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------------ dp run

#[test]
fn run_prints_main_as_json() {
    let p = program("main", GOOD);
    let r = dp(&["run", s(&p)]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "[2,3]\n", "{}", r.describe());
}

#[test]
fn run_prints_floats_tuples_symbols_and_scores() {
    let p = program(
        "printing",
        "vocab Label = [\"neg\", \"pos\"]\n\
         def main = ((0.5, 1.0), (\"pos\" : Label), (zeros : Scores Label), ([1, 2] : R[2]))\n",
    );
    let r = dp(&["run", s(&p)]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(
        r.stdout,
        "[[0.5,1.0],\"pos\",{\"neg\":0.0,\"pos\":0.0},[1.0,2.0]]\n",
        "{}",
        r.describe()
    );
}

#[test]
fn run_eval_prints_the_expression() {
    let p = program("eval", GOOD);
    let r = dp(&["run", s(&p), "--eval", "inc 41"]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "42\n", "{}", r.describe());
    let r = dp(&["run", s(&p), "--eval", "shift [1.0, 2.5]"]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "[2.0,3.5]\n", "{}", r.describe());
    let r = dp(&["run", s(&p), "--eval", "flip \"neg\""]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "\"pos\"\n", "{}", r.describe());
}

#[test]
fn run_eval_without_main_works() {
    let p = program("nomain-eval", "def inc (x : Int) : Int = x + 1\n");
    let r = dp(&["run", s(&p), "--eval", "inc (inc 1)"]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "3\n", "{}", r.describe());
}

#[test]
fn run_eval_type_error_exits_1() {
    let p = program("eval-bad", GOOD);
    let r = dp(&["run", s(&p), "--eval", "inc true"]);
    r.assert_sane();
    r.assert_code(1);
    assert!(!r.stderr.trim().is_empty(), "{}", r.describe());
    assert!(r.stdout.trim().is_empty(), "{}", r.describe());
}

#[test]
fn run_eval_syntax_error_exits_1() {
    let p = program("eval-syntax", GOOD);
    let r = dp(&["run", s(&p), "--eval", "inc ("]);
    r.assert_sane();
    r.assert_code(1);
}

#[test]
fn run_eval_of_a_function_exits_1() {
    // A function has no JSON encoding.
    let p = program("eval-fn", GOOD);
    let r = dp(&["run", s(&p), "--eval", "inc"]);
    r.assert_sane();
    r.assert_code(1);
}

#[test]
fn run_without_main_exits_1() {
    let p = program("nomain", "def inc (x : Int) : Int = x + 1\n");
    let r = dp(&["run", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("main"),
        "the message mentions `main`\n{}",
        r.describe()
    );
}

#[test]
fn run_time_error_exits_1_with_position() {
    let p = program("runtime", "def xs : List Int = []\ndef main = last xs\n");
    let r = dp(&["run", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
    let file_name = p.file_name().unwrap().to_str().unwrap();
    assert!(
        r.stderr.contains(&format!("{file_name}:2:")),
        "the error gives the source position (line 2)\n{}",
        r.describe()
    );
}

#[test]
fn run_bad_program_exits_1() {
    let p = program("run-bad", BAD_TYPE);
    let r = dp(&["run", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
}

#[test]
fn run_missing_weights_file_exits_1() {
    let p = program("weights", GOOD);
    let missing = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-cli-{}-missing.safetensors", std::process::id()));
    let r = dp(&["run", s(&p), "--weights", s(&missing)]);
    r.assert_sane();
    r.assert_code(1);
}

#[test]
fn run_garbage_weights_file_exits_1() {
    let p = program(
        "weights2",
        "rep H = R[2]\nlearn f : H -> H\ndef main = f zeros\n",
    );
    let w = temp_file("garbage", "safetensors", b"this is not a safetensors file");
    let r = dp(&["run", s(&p), "--weights", s(&w)]);
    r.assert_sane();
    r.assert_code(1);
}

// ---------------------------------------------------------------- --apply

#[test]
fn apply_prints_one_json_line_per_input_line() {
    let p = program("apply", GOOD);
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "count",
        "--input",
        s(&data("count_ok.jsonl")),
    ]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "3\n0\n0\n2\n", "{}", r.describe());
}

#[test]
fn apply_symbols_and_reps() {
    let p = program("apply2", GOOD);
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "flip",
        "--input",
        s(&data("labels_ok.jsonl")),
    ]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "\"pos\"\n\"neg\"\n\"pos\"\n", "{}", r.describe());
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "shift",
        "--input",
        s(&data("vec2_ok.jsonl")),
    ]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(r.stdout, "[1.0,2.0]\n[0.5,-1.0]\n", "{}", r.describe());
}

#[test]
fn apply_a_learned_piece() {
    // zero input through an affine map with a zero bias
    let p = program("apply-learned", "rep H = R[2]\nlearn f : H -> R[3]\n");
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "f",
        "--input",
        s(&data("vec2_zeros.jsonl")),
    ]);
    r.assert_sane();
    r.assert_code(0);
    assert_eq!(
        r.stdout,
        "[0.0,0.0,0.0]\n[0.0,0.0,0.0]\n",
        "{}",
        r.describe()
    );
}

#[test]
fn apply_bad_line_names_file_line_path_expected_and_found() {
    let p = program("apply-bad", GOOD);
    let input = data("count_bad.jsonl");
    let r = dp(&["run", s(&p), "--apply", "count", "--input", s(&input)]);
    r.assert_sane();
    r.assert_code(1);
    let e = &r.stderr;
    assert!(
        e.contains("count_bad.jsonl"),
        "names the file\n{}",
        r.describe()
    );
    assert!(
        e.contains(":2") || e.contains("line 2"),
        "names line 2\n{}",
        r.describe()
    );
    assert!(
        e.contains("$[0][1]"),
        "names the path inside the value\n{}",
        r.describe()
    );
    assert!(
        e.contains("Int") || e.contains("integer"),
        "says what was expected\n{}",
        r.describe()
    );
    assert!(
        e.contains("string") || e.contains("\"x\""),
        "says what was found\n{}",
        r.describe()
    );
}

#[test]
fn apply_wrong_tuple_length_is_a_data_error() {
    let p = program("apply-tuple", GOOD);
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "count",
        "--input",
        s(&data("count_bad_tuple.jsonl")),
    ]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("count_bad_tuple.jsonl"),
        "{}",
        r.describe()
    );
    assert!(
        r.stderr.contains(":1") || r.stderr.contains("line 1"),
        "names line 1\n{}",
        r.describe()
    );
}

#[test]
fn apply_unknown_symbol_of_closed_vocab_is_a_data_error() {
    let p = program("apply-sym", GOOD);
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "flip",
        "--input",
        s(&data("labels_bad.jsonl")),
    ]);
    r.assert_sane();
    r.assert_code(1);
    assert!(r.stderr.contains("labels_bad.jsonl"), "{}", r.describe());
    assert!(
        r.stderr.contains("neutral"),
        "names the unknown symbol\n{}",
        r.describe()
    );
    assert!(
        r.stderr.contains(":3") || r.stderr.contains("line 3"),
        "names line 3\n{}",
        r.describe()
    );
}

#[test]
fn apply_wrong_tensor_length_is_a_data_error() {
    let p = program("apply-len", GOOD);
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "shift",
        "--input",
        s(&data("vec2_bad.jsonl")),
    ]);
    r.assert_sane();
    r.assert_code(1);
    assert!(r.stderr.contains("vec2_bad.jsonl"), "{}", r.describe());
    assert!(
        r.stderr.contains(":2") || r.stderr.contains("line 2"),
        "names line 2\n{}",
        r.describe()
    );
}

#[test]
fn apply_invalid_json_is_a_data_error() {
    let p = program("apply-json", GOOD);
    let input = temp_file("invalid", "jsonl", "[[1], true]\n[[1, true\n");
    let r = dp(&["run", s(&p), "--apply", "count", "--input", s(&input)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains(":2") || r.stderr.contains("line 2"),
        "names line 2\n{}",
        r.describe()
    );
}

#[test]
fn apply_deeply_nested_json_does_not_crash() {
    let p = program("apply-deep", GOOD);
    let line = format!("{}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let input = temp_file("deep", "jsonl", line);
    let r = dp(&["run", s(&p), "--apply", "count", "--input", s(&input)]);
    r.assert_sane();
    r.assert_code(1);
}

/// Data trees of any depth up to 10^6 levels (LANGUAGE.md 11.5): JSON
/// nested far beyond serde_json's default limit of 128 decodes, `leaves`
/// and `cata` run in time linear in the depth (each level of a chain reads
/// two of the states computed so far, not all of them), training's
/// backward pass goes through every level, and a deeper tree is a data
/// error naming the limit, never a crash.
#[test]
fn deep_tree_data_decodes_evaluates_and_trains() {
    let p = program(
        "apply-tree",
        "def size (t : Tree Int) : Int = length (leaves t)\n\
         def height (t : Tree Int) : Int = cata (\\x -> 0) (\\l r -> 1 + (if l > r then l else r)) t\n\
         def total (t : Tree Int) : Int = cata (\\x -> x) (\\l r -> l + r) t\n",
    );
    let chain = |depth: usize| format!("{}2{}\n", "[1, ".repeat(depth), "]".repeat(depth));
    for depth in [200, 200_000] {
        let input = temp_file("deeptree", "jsonl", chain(depth));
        for (def, want) in [("size", depth + 1), ("height", depth), ("total", depth + 2)] {
            let r = dp(&["run", s(&p), "--apply", def, "--input", s(&input)]);
            r.assert_code(0);
            assert_eq!(r.stdout.trim(), want.to_string(), "{def} at depth {depth}");
        }
    }
    let net = program(
        "train-tree",
        "rep H = R[4]\nlearn leafmap : Float -> H\nlearn comb : (H, H) -> H\nlearn out : H -> Float\n\
         def loss (t : Tree Float) : Float =\n  \
           let y = out (cata leafmap (\\l r -> tanh (comb (l, r))) t) in y * y\n",
    );
    let deep = format!("{}1.0{}\n", "[0.5, ".repeat(20_000), "]".repeat(20_000));
    let data = temp_file("deeptrain", "jsonl", deep);
    let r = dp(&["train", s(&net), "--data", s(&data), "--epochs", "2"]);
    r.assert_code(0);
    assert!(r.stdout.contains("epoch 2/2"), "{}", r.describe());
    let too_deep = temp_file("toodeep", "jsonl", chain(1_000_001));
    let r = dp(&["run", s(&p), "--apply", "size", "--input", s(&too_deep)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("a tree at most 1000000 levels deep"),
        "{}",
        r.describe()
    );
    let deeper = format!("{}{}\n", "[".repeat(3_000_000), "]".repeat(3_000_000));
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "size",
        "--input",
        s(&temp_file("deeper", "jsonl", deeper)),
    ]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("nested deeper than 2001000 levels"),
        "{}",
        r.describe()
    );
    // A node of three trees is a node of the wrong size, not a bad leaf.
    let three = temp_file("threetree", "jsonl", "[[1, 2], [3, 4, 5]]\n");
    let r = dp(&["run", s(&p), "--apply", "size", "--input", s(&three)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains(":1: at $[1]: expected a node: an array of exactly two trees, found an array of 3 elements"),
        "{}",
        r.describe()
    );
}

/// Rose trees as data (spec 11.5): `[label, [child, ...]]`, 200,000 levels
/// deep in linear time (decoding, `nodes`, `cataRose` and training all go
/// level by level); a tree deeper than 10^6 levels and a malformed node are
/// data errors naming the line and JSON path.
#[test]
fn rose_tree_data_decodes_evaluates_and_trains() {
    let p = program(
        "apply-rose",
        "def size (t : Rose Int) : Int = length (nodes t)\n\
         def height (t : Rose Int) : Int = cataRose (\\x cs -> fold (\\a b -> if a > b + 1 then a else b + 1) 0 cs) t\n\
         def total (t : Rose Int) : Int = cataRose (\\x cs -> x + fold (\\a b -> a + b) 0 cs) t\n",
    );
    let chain = |depth: usize| format!("{}[2, []]{}\n", "[1, [".repeat(depth), "]]".repeat(depth));
    let input = temp_file("deeprose", "jsonl", chain(200_000));
    for (def, want) in [("size", 200_001), ("height", 200_000), ("total", 200_002)] {
        let r = dp(&["run", s(&p), "--apply", def, "--input", s(&input)]);
        r.assert_code(0);
        assert_eq!(r.stdout.trim(), want.to_string(), "{def}");
    }
    let net = program(
        "train-rose",
        "rep H = R[4]\nlearn cell : (Float, H) -> H\nlearn out : H -> Float\n\
         def loss (t : Rose Float) : Float =\n  \
           let y = out (cataRose (\\x cs -> tanh (cell (x, fold (\\a b -> a + b) zeros cs))) t) in y * y\n",
    );
    let deep = format!(
        "{}[1.0, []]{}\n",
        "[0.5, [".repeat(20_000),
        "]]".repeat(20_000)
    );
    let data = temp_file(
        "deeprosetrain",
        "jsonl",
        deep + "[0.5, [[1.0, []], [2.0, []]]]\n",
    );
    let r = dp(&["train", s(&net), "--data", s(&data), "--epochs", "2"]);
    r.assert_code(0);
    assert!(r.stdout.contains("epoch 2/2"), "{}", r.describe());
    let too_deep = temp_file("toodeeprose", "jsonl", chain(1_000_001));
    let r = dp(&["run", s(&p), "--apply", "size", "--input", s(&too_deep)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("a tree at most 1000000 levels deep"),
        "{}",
        r.describe()
    );
    let bad = temp_file("badrose", "jsonl", "[1, [[2, []]]]\n[1, [[2, []], 3]]\n");
    let r = dp(&["run", s(&p), "--apply", "size", "--input", s(&bad)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains(
            ":2: at $[1][1]: expected a rose tree node `[label, [child, ...]]`, found the number 3"
        ),
        "{}",
        r.describe()
    );
}

#[test]
fn apply_missing_input_file_exits_1() {
    let p = program("apply-missing", GOOD);
    let missing = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-cli-{}-missing.jsonl", std::process::id()));
    let r = dp(&["run", s(&p), "--apply", "count", "--input", s(&missing)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("missing.jsonl"),
        "names the file\n{}",
        r.describe()
    );
}

#[test]
fn apply_unknown_function_exits_1() {
    let p = program("apply-unknown", GOOD);
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "nope",
        "--input",
        s(&data("count_ok.jsonl")),
    ]);
    r.assert_sane();
    r.assert_code(1);
    assert!(r.stderr.contains("nope"), "{}", r.describe());
}

#[test]
fn apply_non_function_exits_1() {
    let p = program("apply-nonfn", GOOD);
    let r = dp(&[
        "run",
        s(&p),
        "--apply",
        "main",
        "--input",
        s(&data("count_ok.jsonl")),
    ]);
    r.assert_sane();
    r.assert_code(1);
}

// ------------------------------------------------------------------- usage

#[test]
fn usage_errors_exit_2() {
    let p = program("usage", GOOD);
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["check"],
        vec!["run"],
        vec!["check", s(&p), "--frobnicate"],
        vec!["run", s(&p), "--frobnicate"],
        vec!["run", s(&p), "--eval"],
        vec!["run", s(&p), "--apply", "count"],
        vec!["run", s(&p), "--input", "x.jsonl"],
        vec![
            "run",
            s(&p),
            "--eval",
            "inc 1",
            "--apply",
            "count",
            "--input",
            "x.jsonl",
        ],
        vec!["train", s(&p)],
        vec!["train", s(&p), "--data", "x.jsonl", "--epochs", "many"],
        vec!["train", s(&p), "--data", "x.jsonl", "--optimizer", "lbfgs"],
    ];
    for args in cases {
        let r = dp(&args);
        r.assert_sane();
        assert_eq!(
            r.code,
            Some(2),
            "`dp {}` is a usage error\n{}",
            args.join(" "),
            r.describe()
        );
        assert!(
            !r.stderr.trim().is_empty(),
            "`dp {}` explains the usage error\n{}",
            args.join(" "),
            r.describe()
        );
    }
}

#[test]
fn help_exits_0() {
    let r = dp(&["--help"]);
    r.assert_sane();
    r.assert_code(0);
    assert!(
        r.stdout.contains("check") && r.stdout.contains("run"),
        "{}",
        r.describe()
    );
}

// -------------------------------------------------------------- robustness

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn random_bytes_exit_1_without_panic() {
    for seed in 1..=8u64 {
        let bytes = random_bytes(seed, 4096);
        let p = temp_file(&format!("random{seed}"), "dp", &bytes);
        for cmd in ["check", "run"] {
            let r = dp(&[cmd, s(&p)]);
            r.assert_sane();
            assert_eq!(
                r.code,
                Some(1),
                "random bytes (seed {seed}) are not a program\n{}",
                r.describe()
            );
        }
    }
}

#[test]
fn random_tokens_exit_1_without_panic() {
    // Random sequences of real tokens get further into the parser than bytes do.
    const TOKENS: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        ",",
        ":",
        "=",
        "->",
        "\\",
        "_",
        "+",
        "-",
        "*",
        "/",
        "@",
        "++",
        "|>",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "&&",
        "||",
        "def",
        "let",
        "in",
        "if",
        "then",
        "else",
        "rep",
        "type",
        "vocab",
        "learn",
        "param",
        "import",
        "true",
        "false",
        "x",
        "f",
        "R[2]",
        "Window[2]",
        "List",
        "Tree",
        "Int",
        "Float",
        "1",
        "2.5",
        "\"s\"",
        "fold",
        "map",
        "zeros",
        "\n",
    ];
    for seed in 1..=8u64 {
        let bytes = random_bytes(seed + 100, 600);
        let mut text = String::from("def f = ");
        for b in bytes {
            text.push_str(TOKENS[b as usize % TOKENS.len()]);
            text.push(' ');
        }
        let p = program(&format!("tokens{seed}"), &text);
        let r = dp(&["check", s(&p)]);
        r.assert_sane();
        assert!(
            matches!(r.code, Some(0) | Some(1)),
            "seed {seed}\n{}",
            r.describe()
        );
    }
}

#[test]
fn invalid_utf8_exits_1_without_panic() {
    let p = temp_file("utf8", "dp", b"def f = \xff\xfe 1\n");
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
}

#[test]
fn deep_parentheses_do_not_crash() {
    let n = 20_000;
    let text = format!("def main : Int = {}1{}\n", "(".repeat(n), ")".repeat(n));
    let p = program("parens", &text);
    for cmd in ["check", "run"] {
        let r = dp(&[cmd, s(&p)]);
        r.assert_sane();
        assert!(
            matches!(r.code, Some(0) | Some(1)),
            "{cmd}\n{}",
            r.describe()
        );
        if cmd == "run" && r.code == Some(0) {
            assert_eq!(r.stdout, "1\n", "{}", r.describe());
        }
    }
}

#[test]
fn deep_unclosed_parentheses_do_not_crash() {
    let text = format!("def main : Int = {}1\n", "(".repeat(20_000));
    let p = program("parens-open", &text);
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
}

#[test]
fn deep_lambdas_do_not_crash() {
    let n = 20_000;
    // (\x -> (\x -> ... (\x -> x) (x + 1) ...) (x + 1)) 0  ==  n - 1
    let mut text = String::from("def main : Int = ");
    text.push_str(&"(\\x -> ".repeat(n));
    text.push('x');
    for i in 0..n {
        text.push_str(if i + 1 == n { ") 0" } else { ") (x + 1)" });
    }
    text.push('\n');
    let p = program("lambdas", &text);
    for cmd in ["check", "run"] {
        let r = dp(&[cmd, s(&p)]);
        r.assert_sane();
        assert!(
            matches!(r.code, Some(0) | Some(1)),
            "{cmd}\n{}",
            r.describe()
        );
        if cmd == "run" && r.code == Some(0) {
            assert_eq!(r.stdout, format!("{}\n", n - 1), "{}", r.describe());
        }
    }
}

#[test]
fn deep_curried_lambda_does_not_crash() {
    // One lambda of n curried parameters applied to n arguments. 2,000 (the depth of
    // tests/golden/deep.dp) rather than 20,000: before commit bf9da89 the checker took 16 s
    // for n = 500 (about n^6); after it, n = 20,000 still takes about 3 minutes.
    let n = 2_000;
    let args: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    let text = format!(
        "def main : Int = ({}a) {}\n",
        "\\a -> ".repeat(n),
        args.join(" ")
    );
    let p = program("curried", &text);
    let r = dp(&["run", s(&p)]);
    r.assert_sane();
    assert!(matches!(r.code, Some(0) | Some(1)), "{}", r.describe());
    if r.code == Some(0) {
        assert_eq!(r.stdout, format!("{n}\n"), "{}", r.describe());
    }
}

#[test]
fn long_operator_chain_does_not_crash() {
    let n = 20_000;
    let text = format!("def main : Int = {}\n", vec!["1"; n].join(" + "));
    let p = program("chain", &text);
    let r = dp(&["run", s(&p)]);
    r.assert_sane();
    assert!(matches!(r.code, Some(0) | Some(1)), "{}", r.describe());
    if r.code == Some(0) {
        assert_eq!(r.stdout, format!("{n}\n"), "{}", r.describe());
    }
}

#[test]
fn deep_list_nesting_does_not_crash() {
    // 5,000 rather than 20,000: checking is quadratic in the nesting depth at the time of
    // writing (1.2 s at 2,000, 4.6 s at 4,000, 47 s at 10,000), so 20,000 takes minutes.
    let n = 5_000;
    let text = format!(
        "def main : Int = length {}1{}\n",
        "[".repeat(n),
        "]".repeat(n)
    );
    let p = program("lists", &text);
    let r = dp(&["run", s(&p)]);
    r.assert_sane();
    assert!(matches!(r.code, Some(0) | Some(1)), "{}", r.describe());
}

#[test]
fn deep_type_nesting_does_not_crash() {
    // 10,000 rather than 20,000: quadratic in the depth at the time of writing (0.6 s at
    // 2,000, 3.2 s at 4,000).
    let n = 10_000;
    let text = format!(
        "def f (x : {}Int{}) = x\n",
        "List (".repeat(n),
        ")".repeat(n)
    );
    let p = program("types", &text);
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    assert!(matches!(r.code, Some(0) | Some(1)), "{}", r.describe());
}

#[test]
fn eval_with_deep_nesting_does_not_crash() {
    let p = program("eval-deep", GOOD);
    let expr = format!("{}1{}", "(".repeat(20_000), ")".repeat(20_000));
    let r = dp(&["run", s(&p), "--eval", &expr]);
    r.assert_sane();
    assert!(matches!(r.code, Some(0) | Some(1)), "{}", r.describe());
}

// ---------------------------------------------------------------- closed pipes

/// `dp ARGS` whose stdout and stderr are pipes closed before it writes
/// (as `dp check bad.dp 2>&1 | head -1` leaves them); its exit status.
fn dp_into_closed_pipes(args: &[&str], stdin: &str) -> Option<i32> {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dp");
    drop(child.stdout.take());
    drop(child.stderr.take());
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait().expect("wait for dp").code()
}

/// Writing to a closed stdout or stderr ends quietly, as Unix tools do:
/// the exit status is the command's own, never a panic's 101.
#[test]
fn closed_pipes_end_quietly() {
    let many_errors: String = (0..200)
        .map(|i| format!("def bad{i} : Int = 1 + true\n"))
        .collect();
    let bad = program("many_errors", &many_errors);
    let good = program("pipe_good", GOOD);
    let lines: String = (0..5000).map(|i| format!("{i}\n")).collect();
    let input = temp_file("pipe_ints", "jsonl", lines);
    let cases: [(&[&str], &str, i32); 5] = [
        (&["check", s(&bad)], "", 1),
        (&["check", s(&good)], "", 0),
        (&["run", s(&good), "--eval", "[1, 2, 3]"], "", 0),
        (
            &["run", s(&good), "--apply", "inc", "--input", s(&input)],
            "",
            0,
        ),
        (&["repl", s(&good)], "inc 1\n1 + true\n:type inc\n", 0),
    ];
    for (args, stdin, code) in cases {
        assert_eq!(dp_into_closed_pipes(args, stdin), Some(code), "dp {args:?}");
    }
    for p in [bad, good, input] {
        let _ = std::fs::remove_file(p);
    }
}

// ---------------------------------------------------------------- non-finite reals

/// Non-finite reals print as `Infinity`, `-Infinity` and `NaN` (section
/// 11.6), with exit 0, and the same tokens are read in data; a string
/// "NaN" is still not a number.
#[test]
fn non_finite_reals_print_and_read_as_python_json_does() {
    let p = program("nonfinite", "def id (x : R[3]) : R[3] = x\n");
    for (expr, printed) in [
        ("1.0 / 0.0", "Infinity"),
        ("0.0 - 1.0 / 0.0", "-Infinity"),
        ("log 0.0", "-Infinity"),
        ("sqrt (0.0 - 1.0)", "NaN"),
        ("[1.0 / 0.0, 0.5, log 0.0]", "[Infinity,0.5,-Infinity]"),
    ] {
        let r = dp(&["run", s(&p), "--eval", expr]);
        r.assert_sane();
        r.assert_code(0);
        assert_eq!(r.stdout.trim(), printed, "{expr}");
    }
    let input = temp_file(
        "nonfinite",
        "jsonl",
        "[NaN, Infinity, -Infinity]\n[1,-Infinity,2]\n",
    );
    let r = dp(&["run", s(&p), "--apply", "id", "--input", s(&input)]);
    r.assert_code(0);
    assert_eq!(r.stdout, "[NaN,Infinity,-Infinity]\n[1.0,-Infinity,2.0]\n");
    let quoted = temp_file("nonfinite_quoted", "jsonl", "[1, \"NaN\", 2]\n");
    let r = dp(&["run", s(&p), "--apply", "id", "--input", s(&quoted)]);
    r.assert_code(1);
    assert!(
        r.stderr
            .contains("at $[1]: expected a number, found the string \"NaN\""),
        "{}",
        r.describe()
    );
    for f in [p, input, quoted] {
        let _ = std::fs::remove_file(f);
    }
}

// ---------------------------------------------------------------- data read exactly

/// A number beyond f32's range is a data error naming file, line and JSON
/// path (it would silently become infinite); a grid of empty rows prints
/// as its rows and reads back as the same grid.
#[test]
fn data_is_read_exactly_or_refused() {
    let p = program(
        "exact",
        "def v (x : R[2]) : R[2] = x\ndef g (x : Grid Int) : Grid Int = x\n",
    );
    let reals = temp_file("range", "jsonl", "[1, 3.4e38]\n[1, 3e39]\n");
    let r = dp(&["run", s(&p), "--apply", "v", "--input", s(&reals)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr
            .contains("range.jsonl:2: at $[1]: expected a number within a 32-bit float's range"),
        "{}",
        r.describe()
    );
    let grids = temp_file("grids", "jsonl", "[[], [], []]\n[]\n[[1, 2]]\n");
    let r = dp(&["run", s(&p), "--apply", "g", "--input", s(&grids)]);
    r.assert_code(0);
    assert_eq!(r.stdout, "[[],[],[]]\n[]\n[[1,2]]\n");
    for f in [p, reals, grids] {
        let _ = std::fs::remove_file(f);
    }
}

// ---------------------------------------------------------------- command-line sharp edges

/// `--metric` repeated: every metric is reported on each epoch line, in
/// the order given.
#[test]
fn several_metrics_are_each_reported() {
    let prog = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/train_classifier.dp");
    let train = data("train_good.jsonl");
    let t = s(&train);
    let r = dp(&[
        "train",
        s(&prog),
        "--data",
        t,
        "--valid",
        t,
        "--epochs",
        "2",
        "--metric",
        "accuracy",
        "--metric",
        "loss",
    ]);
    r.assert_code(0);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("epoch "))
        .collect();
    assert_eq!(lines.len(), 2, "{}", r.describe());
    for l in lines {
        let at = |w: &str| l.find(w).unwrap_or_else(|| panic!("no `{w}` in {l}"));
        assert!(at("  accuracy ") < at("  loss "), "{l}");
    }
}

/// Flags that cannot mean anything are usage errors (exit 2); a metric
/// without validation data, or empty validation data, is an error; an
/// `--eval` expression may start with `-`; unknown function names get a
/// "did you mean"; running learned pieces without weights says so.
#[test]
fn command_line_sharp_edges() {
    let prog = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/train_classifier.dp");
    let p = s(&prog);
    let train = data("train_good.jsonl");
    let t = s(&train);
    let empty = temp_file("empty_valid", "jsonl", "");
    let usage: [&[&str]; 6] = [
        &["--batch", "0"],
        &["--epochs", "0"],
        &["--lr", "nan"],
        &["--lr", "-1"],
        &["--lr", "0"],
        &["--metric", "accuracy"],
    ];
    for flags in usage {
        let mut args = vec!["train", p, "--data", t];
        args.extend_from_slice(flags);
        let r = dp(&args);
        r.assert_sane();
        r.assert_code(2);
        assert!(r.stderr.contains(flags[0]), "{flags:?}: {}", r.describe());
    }
    let cases: [(&[&str], &str); 4] = [
        (
            &["train", p, "--data", t, "--valid", s(&empty)],
            "has no examples",
        ),
        (
            &["train", p, "--data", t, "--objective", "los"],
            "did you mean `loss`?",
        ),
        (
            &["train", p, "--data", t, "--valid", t, "--metric", "acuracy"],
            "did you mean `accuracy`?",
        ),
        (
            &["run", p, "--apply", "modle", "--input", t],
            "did you mean `model`?",
        ),
    ];
    for (args, says) in cases {
        let r = dp(args);
        r.assert_sane();
        r.assert_code(1);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.describe());
    }
    let r = dp(&["run", p, "--eval", "-1 + 3"]);
    r.assert_code(0);
    assert_eq!(r.stdout.trim(), "2");
    assert!(
        r.stderr
            .contains("running with fresh weights drawn with seed 0"),
        "{}",
        r.describe()
    );
    let _ = std::fs::remove_file(empty);
}

// ---------------------------------------------------------------- no stray files

/// Training, saving and the REPL's `:train` leave nothing in the system's
/// temporary directory (TMPDIR points at an empty one here); and no test
/// of the suite writes there either.
#[test]
fn nothing_is_left_in_the_temporary_directory() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-tmpdir-{}", std::process::id()));
    let tmp = root.join("tmp");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let prog = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/train_classifier.dp");
    let train = data("train_good.jsonl");
    let w = root.join("w.safetensors");
    let status = Command::new(env!("CARGO_BIN_EXE_dp"))
        .args([
            "train",
            s(&prog),
            "--data",
            s(&train),
            "--epochs",
            "1",
            "--save",
            s(&w),
        ])
        .env("TMPDIR", &tmp)
        .output()
        .expect("dp train")
        .status;
    assert!(status.success());
    let mut repl = Command::new(env!("CARGO_BIN_EXE_dp"))
        .args(["repl", s(&prog)])
        .env("TMPDIR", &tmp)
        .env("XDG_DATA_HOME", root.join("data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dp repl");
    if let Some(mut stdin) = repl.stdin.take() {
        use std::io::Write;
        let command = format!(
            ":train --data {} --epochs 1\n:train --data {} --epochs 1\n",
            s(&train),
            s(&train)
        );
        let _ = stdin.write_all(command.as_bytes());
    }
    assert!(repl.wait_with_output().expect("dp repl").status.success());
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("temp dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    let _ = std::fs::remove_dir_all(&root);
    // The tests themselves write under target/ (CARGO_TARGET_TMPDIR) only.
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for entry in std::fs::read_dir(&tests).expect("tests dir").flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let needle = ["std::env::", "temp_dir()"].concat();
        assert!(
            !text.contains(&needle),
            "{:?} writes to the system's temporary directory",
            entry.path()
        );
    }
}

/// `dp lower` prints the network of one def (`--def`) or of every def; an
/// unknown def is an error with a suggestion, and a bad program the usual
/// diagnostics.
#[test]
fn lower_prints_networks() {
    let sentiment = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sentiment.dp");
    let s = sentiment.to_str().expect("utf-8 path");
    let one = dp(&["lower", s, "--def", "loss"]);
    one.assert_sane();
    one.assert_code(0);
    assert!(
        one.stdout
            .starts_with("loss (ws : List Word, y : Label) : Float\n"),
        "{}",
        one.describe()
    );
    assert!(
        one.stdout.contains("= rnn (fold step) %0 ws : Hidden [64]"),
        "{}",
        one.describe()
    );
    let all = dp(&["lower", s]);
    all.assert_code(0);
    assert!(
        all.stdout.contains("\nmodel (ws : List Word)"),
        "{}",
        all.describe()
    );
    let typo = dp(&["lower", s, "--def", "los"]);
    typo.assert_sane();
    typo.assert_code(1);
    assert!(
        typo.stderr.contains("no def `los`") && typo.stderr.contains("did you mean `loss`?"),
        "{}",
        typo.describe()
    );
    let bad = temp_file("bad", "dp", "def x : Int = true");
    let run = dp(&["lower", bad.to_str().expect("utf-8 path")]);
    run.assert_sane();
    run.assert_code(1);
    assert!(run.stderr.contains("E02"), "{}", run.describe());
}

/// `dp run --seed`: the same seed gives the same draws, another seed
/// others; `--apply` draws per line position (equal lines differ), and
/// `--eval` draws as the example at position 0.
#[test]
fn run_seed_fixes_the_draws() {
    let p = program(
        "draws",
        "rep H = R[3]\ndef noisy (x : Float) : H = normal * x + uniform\ndef main : H = normal\n",
    );
    let input = temp_file("draws", "jsonl", "1.0\n1.0\n");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", s(&p)];
        args.extend_from_slice(extra);
        let r = dp(&args);
        r.assert_sane();
        r.assert_code(0);
        r.stdout
    };
    assert_eq!(run(&[]), run(&["--seed", "0"]));
    assert_eq!(run(&["--seed", "7"]), run(&["--seed", "7"]));
    assert_ne!(run(&["--seed", "7"]), run(&["--seed", "8"]));
    let applied = run(&["--apply", "noisy", "--input", s(&input)]);
    let lines: Vec<&str> = applied.lines().collect();
    assert_eq!(lines.len(), 2, "{applied}");
    assert_ne!(
        lines[0], lines[1],
        "equal lines at different positions drew alike"
    );
    assert_eq!(run(&["--eval", "noisy 1.0"]).trim(), lines[0]);
}

/// `--log` writes one JSON line per epoch (each figure of the epoch line,
/// the learning rate and the mean gradient norm); `--plot` draws the
/// curves (a point per epoch of the objective, its validation mean and the
/// metric); `--keep-best highest`
/// saves the epoch with the highest first metric: byte for byte the file
/// a run of exactly that many epochs saves.
#[test]
fn run_log_and_keep_best() {
    let prog = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/remember_first.dp");
    let data = |f: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/data")
            .join(f)
            .to_string_lossy()
            .into_owned()
    };
    let (train, valid) = (data("first_train.jsonl"), data("first_valid.jsonl"));
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-cli-{}-keep-best", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (best, four, log, plot) = (
        dir.join("best.safetensors"),
        dir.join("four.safetensors"),
        dir.join("run.jsonl"),
        dir.join("curves.svg"),
    );
    let common = [
        "--data", &train, "--valid", &valid, "--metric", "accuracy", "--lr", "0.01",
    ];
    let mut args = vec!["train", s(&prog)];
    args.extend_from_slice(&common);
    args.extend_from_slice(&[
        "--epochs",
        "5",
        "--keep-best",
        "highest",
        "--save",
        s(&best),
        "--log",
        s(&log),
        "--plot",
        s(&plot),
    ]);
    let r = dp(&args);
    r.assert_code(0);
    let svg = std::fs::read_to_string(&plot).expect("the curves");
    assert!(svg.starts_with("<svg") && svg.contains("accuracy") && svg.contains("valid"));
    assert_eq!(svg.matches("<circle").count(), 15, "5 epochs x 3 curves");
    let accuracies: Vec<f64> = r
        .stdout
        .lines()
        .filter_map(|l| {
            l.split("accuracy ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(accuracies.len(), 5, "{}", r.describe());
    let top = accuracies.iter().cloned().fold(f64::MIN, f64::max);
    let at = accuracies
        .iter()
        .position(|&a| a == top)
        .map_or(0, |i| i + 1);
    assert!(
        r.stdout
            .contains(&format!("(epoch {at}, the best accuracy: {top:.4})")),
        "{}",
        r.describe()
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .expect("the log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 5);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["epoch"], i + 1);
        let logged = l["metrics"]["accuracy"].as_f64().expect("accuracy");
        assert!((logged - accuracies[i]).abs() < 1e-4, "{l}");
        assert_eq!(l["learning_rate"], 0.01);
        assert!(l["grad_norm"].as_f64().is_some_and(|g| g > 0.0), "{l}");
        assert!(l["valid"].as_f64().is_some() && l["examples_per_second"].as_f64().is_some());
    }
    let mut args = vec!["train", s(&prog)];
    args.extend_from_slice(&common);
    let epochs = at.to_string();
    args.extend_from_slice(&["--epochs", &epochs, "--save", s(&four)]);
    dp(&args).assert_code(0);
    assert!(
        std::fs::read(&best).ok() == std::fs::read(&four).ok(),
        "the kept weights are those of epoch {at}"
    );
    // --log-every 10: a line every 10 minibatches (94 of 32 in 3000), then
    // the epoch's.
    let mut args = vec!["train", s(&prog), "--data", &train, "--epochs", "1"];
    args.extend_from_slice(&["--log", s(&log), "--log-every", "10"]);
    dp(&args).assert_code(0);
    let text = std::fs::read_to_string(&log).expect("the log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 10, "{text}");
    assert_eq!(lines[0]["batch"], 10);
    assert_eq!(lines[0]["examples"], 320);
    assert!(lines[0]["objectives"][0].as_f64().is_some());
    assert_eq!(lines[9]["epoch"], 1);
    assert!(lines[9].get("batch").is_none());
    // A picture that cannot be written is an error, not a crash.
    let mut args = vec!["train", s(&prog), "--data", &train, "--epochs", "1"];
    args.extend_from_slice(&["--plot", s(&dir)]);
    let r = dp(&args);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("cannot write the training curves"),
        "{}",
        r.describe()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sizes that used to blow up (issue "Trust II" part 1) stay near linear:
/// a list literal of 10^5 elements (97 s to check and run, a chain of type
/// variables walked at every element), a closed vocabulary of 10^5 symbols
/// (50 s, a quadratic duplicate scan), 10^5 of its symbols in a list
/// (minutes: the vocabulary's list copied for every literal), a chain of
/// 10^5 `++` (17 s, each `++` copying the list built so far), a chain of
/// 10^5 `let`s each using the one before or the first (20 s and 6 s: every
/// name looked up in a list of the names in scope, by the reference graph
/// and the checker), 10^5 `|> (\x -> x + 1)` from an integer literal (6
/// min: every `+` waits for the literal's type, and all waiting
/// constraints were retried after every application), 10^5 unary minus
/// and 10^5 nested lambdas. The bounds (time and peak memory) are
/// generous; the point is the absence of a blow-up, not the figure.
#[test]
fn hostile_sizes_stay_near_linear() {
    let n = 100_000;
    let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let symbols: Vec<String> = (0..n).map(|i| format!("\"s{i}\"")).collect();
    let singles: Vec<String> = (0..n).map(|i| format!("[{i}]")).collect();
    let lets: String = (1..n)
        .map(|i| format!("let x{i} = x{} + 1 in\n", i - 1))
        .collect();
    let firsts: String = (1..n)
        .map(|i| format!("let x{i} = x0 + {i} in\n"))
        .collect();
    let cases = [
        (
            "lets",
            format!("def main : Int =\nlet x0 = 0 in\n{lets}x{}\n", n - 1),
            (n - 1).to_string(),
        ),
        (
            "lets using the first",
            format!("def main : Int =\nlet x0 = 0 in\n{firsts}x{}\n", n - 1),
            (n - 1).to_string(),
        ),
        (
            "pipes",
            format!("def main = 0{}\n", " |> (\\x -> x + 1)".repeat(n)),
            n.to_string(),
        ),
        (
            "negations",
            format!("def main = {}1\n", "- ".repeat(n)),
            "1".to_string(),
        ),
        (
            "lambdas",
            format!("def main = {}1{}\n", "(\\x -> ".repeat(n), ") 0".repeat(n)),
            "1".to_string(),
        ),
        (
            "list",
            format!("def main : Int = length [{}]\n", items.join(", ")),
            n.to_string(),
        ),
        (
            "vocab",
            format!(
                "vocab V = [{}]\ndef main : Int = index (\"s{}\" : V)\n",
                symbols.join(", "),
                n - 1
            ),
            (n - 1).to_string(),
        ),
        (
            "symbols",
            format!(
                "vocab V = [{}]\ndef main : Int = length ([{}] : List V)\n",
                symbols.join(", "),
                symbols.join(", ")
            ),
            n.to_string(),
        ),
        (
            "append",
            format!("def main : Int = length ({})\n", singles.join(" ++ ")),
            n.to_string(),
        ),
    ];
    for (name, text, want) in cases {
        let p = program(&format!("hostile-{name}"), &text);
        let started = std::time::Instant::now();
        let r = dp(&["run", s(&p)]);
        let took = started.elapsed();
        r.assert_code(0);
        assert_eq!(r.stdout.trim(), want, "{name}");
        assert!(took.as_secs() < 10, "{name} took {took:?}");
        // 0.3-0.8 GB today (deep recursion's stack pages in the checker
        // and the evaluator); a blow-up is many times that.
        assert!(r.peak_mb < 2_500, "{name} used {} MB", r.peak_mb);
    }
    // `id id ... id 1` with 10,000 `id`s: the first `id`'s type doubles
    // with every argument after it (2^10000 parts written out; 14 GB and
    // no end before). Measured through the substitution, it is refused at
    // once with the implementation limit.
    let text = format!("def id x = x\ndef main : Int = {}1\n", "id ".repeat(10_000));
    let p = program("hostile-ids", &text);
    let started = std::time::Instant::now();
    let r = dp(&["run", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(r.stderr.contains("is too large"), "{}", r.describe());
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
    // 10^6 nested `if`s (no brackets), unary minus and lambdas: refused
    // after parsing (the parser is iterative) instead of overflowing the
    // stack in the checker (they aborted with SIGABRT).
    let n = 1_000_000;
    let deep = [
        (
            "ifs",
            format!(
                "def main : Int = {}1{}\n",
                "if true then ".repeat(n),
                " else 0".repeat(n)
            ),
        ),
        ("negations", format!("def main = {}1\n", "- ".repeat(n))),
        (
            "lambdas",
            format!("def main = {}1{}\n", "(\\x -> ".repeat(n), ") 0".repeat(n)),
        ),
    ];
    for (name, text) in deep {
        let p = program(&format!("hostile-deep-{name}"), &text);
        let r = dp(&["check", s(&p)]);
        r.assert_sane();
        r.assert_code(1);
        assert!(
            r.stderr.contains("nested more than 250000 deep")
                || r.stderr.contains("deeper nesting is not supported"),
            "{name}: {}",
            r.describe()
        );
    }
}

/// A name or a symbol of a megabyte is quoted in the diagnostics about
/// it; they printed it whole (1-2 MB of stderr). Every message, label,
/// note and help over 400 characters is cut in the middle, its two ends
/// kept around a count of the rest.
#[test]
fn huge_names_are_clipped_in_diagnostics() {
    let long = "a".repeat(1_000_000);
    let cases = [
        ("name", format!("def main = {long}\n")),
        ("symbol", format!("def main = \"{long}\"\n")),
        (
            "vocabulary",
            format!("vocab V = [\"{long}\", \"c\"]\ndef main : V = \"d\"\n"),
        ),
    ];
    for (name, text) in cases {
        let p = program(&format!("huge-{name}"), &text);
        let r = dp(&["run", s(&p)]);
        r.assert_sane();
        r.assert_code(1);
        assert!(r.stderr.len() < 5_000, "{name}: {} bytes", r.stderr.len());
        assert!(r.stderr.contains("more characters)"), "{}", r.describe());
    }
}

/// `dp inspect` measures the sentiment RNN over data: each representation
/// where it enters a learned piece (the zero initial state shows as zero
/// entries, never as dead units), each weight tensor with its largest
/// singular value and gradient norm; trained weights have a far smaller
/// gradient than fresh ones; noise stability, noise at each representation
/// measured at the others and the loss. `--json` has the same figures; a
/// def that is not an objective is a diagnostic.
#[test]
fn inspect_reports_representations_and_weights() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let prog = root.join("examples/sentiment.dp");
    let train = root.join("examples/data/sentiment_train.jsonl");
    let valid = root.join("examples/data/sentiment_valid.jsonl");
    let weights = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-cli-{}-inspect.safetensors", std::process::id()));
    let r = dp(&[
        "train",
        s(&prog),
        "--data",
        s(&train),
        "--epochs",
        "3",
        "--lr",
        "0.01",
        "--save",
        s(&weights),
    ]);
    r.assert_code(0);
    let fresh = dp(&["inspect", s(&prog), "--data", s(&valid)]);
    fresh.assert_code(0);
    for want in [
        "Hidden",
        "WordVec",
        "eff. rank",
        "cell.weight",
        "64 x 96",
        "grad norm",
    ] {
        assert!(
            fresh.stdout.contains(want),
            "no `{want}`\n{}",
            fresh.describe()
        );
    }
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["inspect", s(&prog), "--data", s(&valid), "--json"];
        args.extend_from_slice(extra);
        let r = dp(&args);
        r.assert_code(0);
        serde_json::from_str(&r.stdout).expect("JSON")
    };
    let (before, after) = (json(&[]), json(&["--weights", s(&weights)]));
    assert_eq!(after["examples"], 500);
    let hidden = &after["representations"][0];
    assert_eq!(hidden["name"], "Hidden");
    assert_eq!(hidden["dim"], 64);
    assert_eq!(hidden["dead_units"], 0.0);
    let rank = hidden["effective_rank"].as_f64().expect("a rank");
    assert!(rank > 1.0 && rank <= 64.0, "{hidden}");
    let grad = |v: &serde_json::Value| v["tensors"][1]["grad_norm"].as_f64().expect("norm");
    assert_eq!(after["tensors"][1]["name"], "cell.weight");
    assert!(
        grad(&after) < 0.2 * grad(&before),
        "{} vs {}",
        grad(&after),
        grad(&before)
    );
    assert!(after["objective"].as_f64() < before["objective"].as_f64());
    // Noise at the word vectors: about all of it is there (0.1 relative),
    // some reaches the hidden state and the loss; noise at the hidden
    // state never reaches the word vectors.
    let noise = &after["noise_stability"];
    let at = |i: usize, rep: &str| noise[i]["remains"][rep].as_f64().expect("a fraction");
    assert_eq!(noise[0]["at"], "Hidden");
    assert_eq!(noise[1]["at"], "WordVec");
    assert!((at(1, "WordVec") - 1.0).abs() < 0.1, "{noise}");
    assert!(at(1, "Hidden") > 0.05, "{noise}");
    assert_eq!(at(0, "WordVec"), 0.0, "{noise}");
    assert!(
        noise[1]["objective"].as_f64().is_some_and(|x| x > 0.0),
        "{noise}"
    );
    let chart = weights.with_extension("svg");
    let table = dp(&[
        "inspect",
        s(&prog),
        "--data",
        s(&valid),
        "--weights",
        s(&weights),
        "-o",
        s(&chart),
    ]);
    assert!(
        table.stdout.contains("noise stability"),
        "{}",
        table.describe()
    );
    let svg = std::fs::read_to_string(&chart).expect("the bar charts");
    for want in ["effective rank", "cell.weight", "noise at Hidden", "<rect"] {
        assert!(svg.contains(want), "no `{want}` in the bar charts");
    }
    let _ = std::fs::remove_file(&chart);
    // A window of a representation entering a piece: each element is a
    // value (the digits net's pooled 3x3 maps of `Feat`, 9 per image).
    let digits = root.join("examples/digits.dp");
    let images = root.join("examples/data/digits_test.jsonl");
    let r = dp(&["inspect", s(&digits), "--data", s(&images), "--json"]);
    r.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(report["representations"][0]["name"], "Feat");
    assert_eq!(report["representations"][0]["dim"], 16);
    assert_eq!(report["representations"][0]["values"], 297 * 9);
    let r = dp(&["inspect", s(&prog), "--data", s(&valid), "--def", "model"]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("measures an objective"),
        "{}",
        r.describe()
    );
    let _ = std::fs::remove_file(&weights);
}

/// A program with 3,000 errors shows the first 20 and a count of the rest
/// (it printed 21,000 lines), still exit 1.
#[test]
fn many_errors_are_capped() {
    let text: Vec<String> = (0..3000)
        .map(|i| format!("def f{i} : Int = true"))
        .collect();
    let p = program("many-errors", &text.join("\n"));
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.contains("... and 2980 more diagnostics"),
        "{}",
        r.describe()
    );
    assert!(
        r.stderr.lines().count() < 400,
        "{} lines",
        r.stderr.lines().count()
    );
}

/// A mistake on a line of a megabyte (a generated program) is reported by
/// line, column and an excerpt, not by printing the line whole.
#[test]
fn long_lines_are_excerpted() {
    let terms = vec!["1"; 100_000].join(" + ");
    let p = program("long-line", &format!("def main : Int = {terms} + true\n"));
    let r = dp(&["check", s(&p)]);
    r.assert_sane();
    r.assert_code(1);
    assert!(
        r.stderr.len() < 2_000,
        "{} bytes of diagnostics",
        r.stderr.len()
    );
    assert!(
        r.stderr.contains(":1:400018:")
            && r.stderr.contains("…1 + 1")
            && r.stderr.contains("1 + 1 + true"),
        "{}",
        r.describe()
    );
}
