//! Finite-difference gradient checks through whole dp programs.
//!
//! For every differentiable builtin and combinator of LANGUAGE.md section 6
//! (and arithmetic, `@`, `if`, `let`, learned affines with tuple domain and
//! codomain, embeddings and params), a small program puts the builtin
//! between learned weights and the objective. The analytic gradient of the
//! mean objective over a few examples (computed as `dp train` computes it:
//! one batched forward pass, `reduce_segments`, one backward pass) must match
//! central differences of the objective evaluated in inference mode, for a
//! random subset of up to 20 entries of every weight tensor. Inputs are
//! chosen away from kinks; an entry whose central differences change with
//! the step (a kink was crossed) is skipped, and at most a quarter may be.
//!
//! Each test runs a table of cases and reports every failing case at once.

mod common;

use common::{grad_problems, setup, try_setup, CheckOpts, Lcg};

/// Checks each `(label, program)` case, panicking with every failure.
fn run_cases(cases: &[(&str, String, Vec<String>)], opts: CheckOpts) {
    let mut failures = Vec::new();
    for (label, src, lines) in cases {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let s = match try_setup(src, "loss", &lines) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{label}: does not compile or decode:\n{e}"));
                continue;
            }
        };
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| grad_problems(&s, opts)));
        match result {
            Ok(None) => {}
            Ok(Some(p)) => failures.push(format!("{label}:\n    {p}")),
            Err(e) => failures.push(format!(
                "{label}: panicked: {}",
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `n` random reals in [-a, a], formatted as a JSON array.
fn vec_json(rng: &mut Lcg, n: usize, a: f64) -> String {
    let xs: Vec<String> = (0..n).map(|_| format!("{:.3}", rng.range(-a, a))).collect();
    format!("[{}]", xs.join(", "))
}

// ---------------------------------------------------------------- elementwise,
// reductions, losses, arithmetic

const SCALAR_HEADER: &str = r#"
vocab L = ["a", "b", "c"]
rep H = R[4]
learn f : R[3] -> H
learn g : R[3] -> H
learn sc : H -> Scores L
"#;

fn scalar_lines() -> Vec<String> {
    let mut rng = Lcg(11);
    ["a", "b", "c", "b"]
        .iter()
        .map(|c| {
            format!(
                "[{}, {}, \"{c}\"]",
                vec_json(&mut rng, 3, 1.5),
                vec_json(&mut rng, 3, 1.5)
            )
        })
        .collect()
}

fn scalar_cases(cases: &[(&'static str, &str)]) -> Vec<(&'static str, String, Vec<String>)> {
    cases
        .iter()
        .map(|(label, body)| {
            let src = format!(
                "{SCALAR_HEADER}\ndef loss ((x, y, c) : (R[3], R[3], L)) : Float =\n  let h = f x in\n  let u = g y in\n  {body}\n"
            );
            (*label, src, scalar_lines())
        })
        .collect()
}

#[test]
fn elementwise() {
    let cases = scalar_cases(&[
        ("tanh", "dot (tanh h) u"),
        ("sigmoid", "dot (sigmoid h) u"),
        ("relu", "dot (relu h) u"),
        ("exp", "dot (exp (h * 0.5)) u"),
        ("log", "dot (log (h * h + 0.5)) u"),
        ("sqrt", "dot (sqrt (h * h + 0.25)) u"),
        ("abs", "dot (abs h) u"),
        (
            "soft_threshold",
            "dot (soft_threshold (sigmoid u * 0.5) h) (tanh u)",
        ),
        (
            "hard_threshold",
            "dot (hard_threshold (sigmoid u * 0.5) h) (tanh u)",
        ),
        (
            "slice and at",
            "dot (slice 1 2 (raw h)) (slice 0 2 (raw u)) + at 2 h * at 0 u",
        ),
        ("sin", "dot (sin (h * 2.0)) u"),
        ("cos", "dot (cos (h * 2.0)) u"),
        ("sign (no gradient of its own)", "dot (sign h * h) u"),
        ("pow", "dot (pow (h * h + 0.5) (sum u * 0.3 + 1.2)) u"),
        ("minimum", "dot (minimum h (u * 0.7)) (tanh u)"),
        ("maximum", "dot (maximum h (u * 0.7)) (tanh u)"),
        ("topk", "dot (topk 2 h) u"),
        ("topk of the whole vector", "dot (topk 9 h) u"),
    ]);
    run_cases(&cases, CheckOpts::default());
}

/// `stop_gradient` passes no gradient back, so finite differences (which
/// see the whole function) cannot check it; instead: the gradient of
/// `dot (stop_gradient t) t` is exactly half that of `dot t t` (the same
/// value, one factor held constant), and `stop_gradient` alone gives none.
#[test]
fn stop_gradient_halves_a_square() {
    let setup = |body: &str| {
        let lines = scalar_lines();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let src = format!(
            "{SCALAR_HEADER}\ndef loss ((x, y, c) : (R[3], R[3], L)) : Float =\n  let h = f x in\n  let u = g y in\n  {body}\n"
        );
        common::setup(&src, "loss", &lines)
    };
    let full = setup("dot (tanh h) (tanh h) + dot (tanh u) (tanh u)");
    let half =
        setup("dot (stop_gradient (tanh h)) (tanh h) + dot (tanh u) (stop_gradient (tanh u))");
    let none = setup("dot (stop_gradient (tanh h)) (stop_gradient (tanh u))");
    let w = full.weights(3);
    let all = full.all();
    let (vf, gf) = full.gradients(&w, &all, true);
    let (vh, gh) = half.gradients(&w, &all, true);
    let (_, gn) = none.gradients(&w, &all, true);
    assert!((vf - vh).abs() < 1e-6, "same value: {vf} vs {vh}");
    let mut checked = 0;
    for ((f, h), n) in gf.iter().zip(&gh).zip(&gn) {
        for ((a, b), c) in f.iter().zip(h).zip(n) {
            assert!(
                (a * 0.5 - b).abs() <= 1e-5 * a.abs() + 1e-7,
                "{a} / 2 != {b}"
            );
            assert_eq!(*c, 0.0, "stop_gradient passed a gradient");
            checked += usize::from(a.abs() > 1e-4);
        }
    }
    assert!(checked > 10, "the gradients are not all zero");
}

/// Gradients flow through `mu + sigma * normal` (reparameterisation),
/// uniform noise and `dropout`'s kept elements, the draws fixed (as while
/// training): finite differences agree.
#[test]
fn random_draws() {
    let cases = scalar_cases(&[
        ("mu + sigma * normal", "sum (tanh (h + u * normal))"),
        (
            "normal inside an expression",
            "dot (h * normal) (tanh u + uniform)",
        ),
        ("a draw per use", "sum (h * normal) * sum (u * normal)"),
        (
            "dropout",
            "dot (dropout 0.3 (tanh h)) u + sum (dropout 0.5 (h * u))",
        ),
    ]);
    run_cases(&cases, CheckOpts::default());
}

#[test]
fn reductions() {
    let cases = scalar_cases(&[
        ("sum", "sum h * sum (tanh u)"),
        ("mean", "mean h * mean (tanh u)"),
        ("max", "max h * sum (tanh u)"),
        ("dot", "dot h u"),
        ("dot with itself", "dot h h"),
        ("norm", "norm h * sum (tanh u)"),
        ("softmax", "dot (softmax h) u"),
        ("log_softmax", "dot (log_softmax h) u"),
        ("concat", "dot (concat h u) (concat (tanh u) h)"),
        ("concat of three", "sum (tanh (concat (concat h u) h))"),
        ("softmax on Scores", "dot (softmax (sc h)) (sc u)"),
    ]);
    run_cases(&cases, CheckOpts::default());
}

#[test]
fn losses() {
    let cases = scalar_cases(&[
        ("score", "score (sc h) c * score (sc u) \"a\""),
        ("cross_entropy", "cross_entropy (sc h) c"),
        (
            "cross_entropy of a sum of scores",
            "cross_entropy (sc h + sc u) c",
        ),
        ("mse", "mse h u"),
        ("mse against data", "mse (f x) (f y)"),
        ("bce true", "bce (dot h u) (c == \"b\")"),
        (
            "bce both labels",
            "bce (sum h) (c != \"a\") + bce (mean u) (c == \"a\")",
        ),
    ]);
    run_cases(&cases, CheckOpts::default());
}

#[test]
fn arithmetic() {
    let cases = scalar_cases(&[
        ("+", "sum (tanh (h + u))"),
        ("-", "sum (tanh (h - u))"),
        ("*", "sum (h * u)"),
        ("/", "sum (h / (u * u + 1.0))"),
        (
            "Float literal broadcast, right",
            "sum (tanh (h * 2.0 + 1.5 - u / 3.0))",
        ),
        (
            "Float literal broadcast, left",
            "sum (tanh (2.0 * h - 1.0 / (h * h + 2.0) + 0.5))",
        ),
        ("Float value broadcast, *", "sum (tanh ((sum h) * u))"),
        ("Float value broadcast, +", "dot ((mean u) + h) u"),
        ("Float value broadcast, /", "sum ((max h) / (u * u + 1.0))"),
        (
            "Float value broadcast, - (left)",
            "sum (tanh ((sum u) - h))",
        ),
        ("Float value broadcast, - (right)", "sum (tanh (h - sum u))"),
        (
            "Float arithmetic",
            "(sum h * sum u - mean h) / (mean u * mean u + 1.0)",
        ),
        ("unary minus", "sum (tanh (-h * u)) - (dot h u)"),
        ("unary minus of a Float", "-(sum h) * sum (tanh u)"),
        ("let used twice", "dot h h + sum (tanh h * h)"),
        ("a value used twice in one op", "sum (h * h) + dot u u"),
    ]);
    run_cases(&cases, CheckOpts::default());
}

#[test]
fn matrix_products() {
    let src_mv = r#"
learn mk : R[3] -> R[2, 3]
learn v : R[3] -> R[3]
def loss ((x, y) : (R[3], R[3])) : Float = sum (tanh (mk x @ v y))
"#;
    let src_mm = r#"
learn mk : R[3] -> R[2, 3]
learn nk : R[3] -> R[3, 2]
def loss ((x, y) : (R[3], R[3])) : Float = sum (tanh (mk x @ nk y))
"#;
    let src_chain = r#"
learn mk : R[3] -> R[2, 3]
learn nk : R[3] -> R[3, 3]
learn v : R[3] -> R[3]
def loss ((x, y) : (R[3], R[3])) : Float =
  let m = nk y in
  sum (tanh (mk x @ (m @ (m @ v x))))
"#;
    // A param on either side of `@`: one shared-weight product.
    let src_shared = r#"
param w : R[2, 3] = [[0.5, -1.0, 0.25], [1.5, 0.5, -0.5]]
param s : R[3, 3] = [[0.5, 0.0, 0.25], [0.0, 0.5, -0.25], [0.25, 0.0, 0.5]]
learn nk : R[3] -> R[3, 2]
def loss ((x, y) : (R[3], R[3])) : Float =
  sum (tanh (w @ iterate 2 (\z -> tanh (s @ z + y)) x)) + sum (tanh (nk y @ (w @ s)))
    + sum (tanh (s @ nk x)) + sum (tanh (nk x @ w))
"#;
    let mut rng = Lcg(5);
    let lines: Vec<String> = (0..4)
        .map(|_| {
            format!(
                "[{}, {}]",
                vec_json(&mut rng, 3, 1.2),
                vec_json(&mut rng, 3, 1.2)
            )
        })
        .collect();
    run_cases(
        &[
            ("@ matrix-vector", src_mv.to_string(), lines.clone()),
            ("@ matrix-matrix", src_mm.to_string(), lines.clone()),
            (
                "@ chained, a matrix used twice",
                src_chain.to_string(),
                lines.clone(),
            ),
            ("@ with shared params", src_shared.to_string(), lines),
        ],
        CheckOpts::default(),
    );
}

/// Builtins on a rank-2 tensor: softmax over the last axis (each row),
/// reductions over every entry, topk, concat flattening.
#[test]
fn matrix_builtins() {
    let header = "
learn mk : R[3] -> R[2, 3]
learn nk : R[3] -> R[2, 3]
";
    let cases: &[(&str, &str)] = &[
        ("softmax over the last axis", "sum (softmax m * n)"),
        ("log_softmax over the last axis", "sum (log_softmax m * n)"),
        ("sum mean max norm", "sum m * mean n + max m * norm n"),
        ("topk", "sum (topk 3 m * n)"),
        ("concat of matrices", "dot (concat m n) (concat n (tanh m))"),
        ("mse", "mse m n"),
        (
            "transpose, row, at, reshape",
            "sum (tanh (transpose m) * transpose n) + sum (row 1 m * row 0 n) + at 4 (reshape m : R[6]) * at 1 (row 1 n)",
        ),
        (
            "elementwise",
            "sum (tanh m * sigmoid n + exp (m * 0.3) - sqrt (n * n + 1.0))",
        ),
    ];
    let mut rng = Lcg(29);
    let lines: Vec<String> = (0..4)
        .map(|_| {
            format!(
                "[{}, {}]",
                vec_json(&mut rng, 3, 1.2),
                vec_json(&mut rng, 3, 1.2)
            )
        })
        .collect();
    let cases: Vec<(&str, String, Vec<String>)> = cases
        .iter()
        .map(|(label, body)| {
            let src = format!(
                "{header}\ndef loss ((x, y) : (R[3], R[3])) : Float =\n  let m = mk x in\n  let n = nk y in\n  {body}\n"
            );
            (*label, src, lines.clone())
        })
        .collect();
    run_cases(&cases, CheckOpts::default());
}

// ---------------------------------------------------------------- combinators

/// Lists of R[2] of the given lengths, as JSON.
fn list_json(rng: &mut Lcg, len: usize) -> String {
    let xs: Vec<String> = (0..len).map(|_| vec_json(rng, 2, 1.0)).collect();
    format!("[{}]", xs.join(", "))
}

const SEQ_HEADER: &str = r#"
rep S = R[3]
learn f : R[2] -> S
learn g : R[2] -> S
learn cell : (S, R[2]) -> S
learn out : S -> R[2]
def step (h : S) (x : R[2]) : S = tanh (cell (h, x))
"#;

fn seq_cases(
    cases: &[(&'static str, &str)],
    lens: &[(usize, usize)],
) -> Vec<(&'static str, String, Vec<String>)> {
    let mut rng = Lcg(23);
    let lines: Vec<String> = lens
        .iter()
        .map(|&(a, b)| format!("[{}, {}]", list_json(&mut rng, a), list_json(&mut rng, b)))
        .collect();
    cases
        .iter()
        .map(|(label, body)| {
            let src = format!(
                "{SEQ_HEADER}\ndef loss ((xs, ys) : (List R[2], List R[2])) : Float =\n  {body}\n"
            );
            (*label, src, lines.clone())
        })
        .collect()
}

#[test]
fn list_combinators() {
    let lens = [(3, 2), (1, 4), (4, 4), (2, 1)];
    let cases = seq_cases(
        &[
            ("map", "sumList (map (\\x -> sum (tanh (f x))) xs)"),
            ("fold", "sum (fold step zeros xs)"),
            ("fold with a learned initial state", "sum (fold step (f (last ys)) xs)"),
            ("head", "sum (f (head ys)) + sum (tanh (f (head (reverse ys))))"),
            (
                "softmaxList (attention over the positions)",
                "let w = softmaxList (map (\\x -> sum (tanh (f x))) xs) in\n  sumList (zipWith (\\a x -> a * sum (out (g x))) w xs)",
            ),
            (
                "mapAccumL",
                "let (s, outs) = mapAccumL (\\h x -> let h2 = step h x in (h2, out h2)) zeros xs in\n  sum s + sumList (map (\\o -> sum (tanh o)) outs)",
            ),
            (
                "mapAccumR",
                "let (s, outs) = mapAccumR (\\h x -> let h2 = step h x in (h2, out h2)) zeros xs in\n  sum s + dot (last outs) (ones : R[2]) + sumList (map (\\o -> sum (tanh o)) outs)",
            ),
            (
                "mapAccumR order (outputs in input order)",
                "let (s, outs) = mapAccumR (\\h x -> let h2 = step h x in (h2, out h2)) zeros xs in\n  sum (fold (\\h o -> step h o) zeros outs)",
            ),
            ("zip", "sumList (map (\\(a, b) -> dot (f a) (g b)) (zip xs ys))"),
            ("zipWith", "sumList (zipWith (\\a b -> dot (tanh (f a)) (g b)) xs ys)"),
            (
                "bidirectional zipWith of mapAccumL and mapAccumR",
                "let (_, fw) = mapAccumL (\\h x -> let h2 = step h x in (h2, h2)) zeros xs in\n  let (_, bw) = mapAccumR (\\h x -> let h2 = tanh (cell (h, x) + f x) in (h2, h2)) zeros xs in\n  sumList (zipWith (\\a b -> sum (tanh (out (a * b)))) fw bw)",
            ),
            ("sumList", "sum (tanh (sumList (map f xs)))"),
            ("meanList", "sum (tanh (meanList (map f xs)))"),
            ("maxList", "sum (tanh (maxList (map f xs)) * g (last ys))"),
            ("reverse", "sum (fold step zeros (reverse (map out (map f xs))))"),
            ("take", "sum (fold step zeros (take 2 xs)) + sum (fold step zeros (take 5 (map out (map g ys))))"),
            ("drop", "sum (fold step zeros (drop 1 (map out (map f xs))))"),
            ("last", "sum (tanh (last (map f xs))) * sum (last (map g ys))"),
            ("++", "sum (fold step zeros (map out (map f xs) ++ ys ++ map out (map g xs)))"),
            ("length (not differentiated, used as a Float)", "float (length xs) * sum (fold step zeros xs)"),
            ("fst snd of a tuple", "let p = (f (last xs), g (last ys)) in dot (fst p) (tanh (snd p))"),
            (
                "if-select (condition on data)",
                "sumList (map (\\x -> if sum x > 0.0 then sum (tanh (f x)) else sum (sigmoid (g x)) * 2.0) xs)",
            ),
            (
                "if-select of whole lists",
                "sum (fold step zeros (if length xs > 2 then map out (map f xs) else ys))",
            ),
            (
                "if-select on a learned value",
                "sumList (map (\\x -> let h = f x in if sum h > 0.0 then sum (tanh h) else dot h (g x)) xs)",
            ),
            (
                "nested closure captures",
                "let h0 = f (last ys) in sumList (map (\\x -> sumList (map (\\y -> dot (tanh (h0 + f x)) (g y)) ys)) xs)",
            ),
        ],
        &lens,
    );
    run_cases(&cases, CheckOpts::default());
}

#[test]
fn unfold_and_iterate() {
    let src_unfold = r#"
rep S = R[3]
learn init : R[2] -> S
learn cell : S -> S
learn out : S -> R[2]
def loss ((n, x) : (Int, R[2])) : Float =
  sumList (map (\o -> sum (tanh o)) (unfold n (\s -> (out s, tanh (cell s))) (init x)))
"#;
    let src_unfold_fold = r#"
rep S = R[3]
learn enc : (S, R[2]) -> S
learn cell : S -> S
learn out : S -> R[2]
def loss ((n, xs) : (Int, List R[2])) : Float =
  let h = fold (\h x -> tanh (enc (h, x))) zeros xs in
  let ys = unfold n (\s -> (out s, tanh (cell s + h))) h in
  sumList (zipWith (\a b -> dot a (tanh b)) ys xs)
"#;
    let src_iterate = r#"
rep Z = R[3]
learn w : Z -> Z
learn b : R[2] -> Z
def loss ((n, x) : (Int, R[2])) : Float =
  let c = b x in
  sum (iterate 3 (\z -> tanh (w z + c)) zeros) + sum (iterate n (\z -> tanh (w z) + c) c)
"#;
    let src_lista = r#"
rep Z = R[3]
learn w : Z -> Z
learn b : R[2] -> Z
def loss ((n, x) : (Int, R[2])) : Float =
  let c = b x in
  sum (tanh (iterate n (\z -> soft_threshold (sigmoid c * 0.1) (w z + c)) c))
"#;
    let mut rng = Lcg(3);
    let lines_unfold: Vec<String> = [3, 0, 5, 1]
        .iter()
        .map(|n| format!("[{n}, {}]", vec_json(&mut rng, 2, 1.0)))
        .collect();
    let lines_uf: Vec<String> = [(3, 2), (1, 3), (4, 4), (2, 0)]
        .iter()
        .map(|&(n, l)| format!("[{n}, {}]", list_json(&mut rng, l)))
        .collect();
    let lines_iter: Vec<String> = [2, 0, 4, 1]
        .iter()
        .map(|n| format!("[{n}, {}]", vec_json(&mut rng, 2, 1.0)))
        .collect();
    // Inputs whose soft thresholds are not within a step of a kink.
    let mut rng = Lcg(102);
    let lines_lista: Vec<String> = [2, 0, 4, 1]
        .iter()
        .map(|n| format!("[{n}, {}]", vec_json(&mut rng, 2, 1.0)))
        .collect();
    run_cases(
        &[
            (
                "unfold (per-example step counts)",
                src_unfold.to_string(),
                lines_unfold,
            ),
            (
                "fold then unfold (seq2seq)",
                src_unfold_fold.to_string(),
                lines_uf,
            ),
            (
                "iterate (fixed and per-example counts)",
                src_iterate.to_string(),
                lines_iter.clone(),
            ),
            (
                "iterate of soft_threshold (LISTA)",
                src_lista.to_string(),
                lines_lista,
            ),
        ],
        CheckOpts::default(),
    );
}

#[test]
fn windows_grids_and_trees() {
    let src_window = r#"
learn conv : Window[3] R[2] -> R[3]
learn f : R[3] -> R[2]
def loss (xs : List R[2]) : Float = sumList (map (\o -> sum (tanh (f o))) (windowMap (\w -> tanh (conv w)) xs))
"#;
    let src_elems = r#"
learn cell : (R[3], R[2]) -> R[3]
learn g : R[2] -> R[2]
def loss (xs : List R[2]) : Float =
  sumList (windowMap (\(w : Window[3] R[2]) -> sum (fold (\h x -> tanh (cell (h, g x))) zeros (elems w))) xs)
"#;
    let src_window_arith = r#"
learn f : R[2] -> R[2]
param k : Window[2] R[2]
def loss (xs : List R[2]) : Float =
  sumList (windowMap (\(w : Window[2] R[2]) -> sum (tanh (w * k + w * w))) (map f xs))
"#;
    let src_same = r#"
learn conv : Window[3] R[2] -> R[3]
learn conv2 : Window[3, 3] R[2] -> R[3]
learn f : R[3] -> R[2]
def loss (xs : List R[2]) : Float =
  sumList (map (\o -> sum (tanh (f o))) (windowMapSame (\w -> tanh (conv w)) xs))
    + sumList (map (\o -> sum (tanh (f o))) (flatten (windowMap2Same (\w -> conv2 w) (grid [xs, reverse xs]))))
"#;
    let src_window2 = r#"
learn conv2 : Window[2, 2] R[2] -> R[3]
learn f : R[3] -> R[2]
def loss (g : Grid R[2]) : Float =
  sumList (map (\o -> sum (tanh (f o))) (flatten (windowMap2 (\w -> tanh (conv2 w)) g)))
"#;
    let src_flatten = r#"
learn conv2 : Window[2, 2] R[2] -> R[3]
learn cell : (R[3], R[3]) -> R[3]
def loss (g : Grid R[2]) : Float =
  sum (fold (\h x -> tanh (cell (h, x))) zeros (flatten (windowMap2 (\w -> conv2 w) g)))
"#;
    let src_elems2 = r#"
learn cell : (R[3], R[2]) -> R[3]
learn f : R[2] -> R[2]
def loss (g : Grid R[2]) : Float =
  sumList (flatten (windowMap2 (\(w : Window[2, 2] R[2]) -> sum (fold (\h x -> tanh (cell (h, f x))) zeros (elems w))) g))
"#;
    let src_pool = r#"
learn conv2 : Window[2, 2] R[2] -> R[3]
learn f : R[3] -> R[2]
def loss (g : Grid R[2]) : Float =
  sumList (map (\o -> sum (tanh (f o))) (flatten (maxpool2 2 (windowMap2 (\w -> conv2 w) g))))
"#;
    let src_cata = r#"
learn lf : R[2] -> R[3]
learn comb : (R[3], R[3]) -> R[3]
learn out : R[3] -> Float
def loss (t : Tree R[2]) : Float =
  out (cata (\x -> tanh (lf x)) (\l r -> tanh (comb (l, r))) t)
"#;
    let src_leaves = r#"
learn lf : R[2] -> R[3]
learn cell : (R[3], R[3]) -> R[3]
def loss (t : Tree R[2]) : Float =
  sum (fold (\h x -> tanh (cell (h, x))) zeros (map lf (leaves t)))
"#;
    let mut rng = Lcg(9);
    let list_lines: Vec<String> = [5, 3, 7, 4]
        .iter()
        .map(|&l| list_json(&mut rng, l))
        .collect();
    let grid = |rng: &mut Lcg, h: usize, w: usize| {
        let rows: Vec<String> = (0..h).map(|_| list_json(rng, w)).collect();
        format!("[{}]", rows.join(", "))
    };
    let grid_lines: Vec<String> = [(3, 4), (2, 2), (4, 3), (3, 3)]
        .iter()
        .map(|&(h, w)| grid(&mut rng, h, w))
        .collect();
    let pool_lines: Vec<String> = [(5, 5), (3, 5), (5, 4)]
        .iter()
        .map(|&(h, w)| grid(&mut rng, h, w))
        .collect();
    // Trees of different shapes; leaves are arrays so are written {"leaf": v}.
    let leaf = |rng: &mut Lcg| format!("{{\"leaf\": {}}}", vec_json(rng, 2, 1.0));
    let a = leaf(&mut rng);
    let b = leaf(&mut rng);
    let c = leaf(&mut rng);
    let d = leaf(&mut rng);
    let e = leaf(&mut rng);
    let f = leaf(&mut rng);
    let gg = leaf(&mut rng);
    let tree_lines = vec![
        format!("[[{a}, {b}], {c}]"),
        d.clone(),
        format!("[{e}, [{f}, [{gg}, {d}]]]"),
        format!("[[{a}, {c}], [{b}, {e}]]"),
    ];
    run_cases(
        &[
            ("windowMap", src_window.to_string(), list_lines.clone()),
            (
                "windowMapSame, windowMap2Same",
                src_same.to_string(),
                list_lines.clone(),
            ),
            (
                "elems of a Window[3]",
                src_elems.to_string(),
                list_lines.clone(),
            ),
            (
                "arithmetic on a Window with a param",
                src_window_arith.to_string(),
                list_lines,
            ),
            ("windowMap2", src_window2.to_string(), grid_lines.clone()),
            (
                "flatten (row-major order into a fold)",
                src_flatten.to_string(),
                grid_lines.clone(),
            ),
            (
                "elems of a Window[2, 2]",
                src_elems2.to_string(),
                grid_lines,
            ),
            ("maxpool2", src_pool.to_string(), pool_lines),
            ("cata", src_cata.to_string(), tree_lines.clone()),
            ("leaves", src_leaves.to_string(), tree_lines),
        ],
        CheckOpts::default(),
    );
}

/// `cataRose` (a child-sum cell and a per-node loss) and `nodes`, over rose
/// trees of different shapes.
#[test]
fn rose_trees() {
    let src_childsum = r#"
learn comb : (R[2], R[3]) -> R[3]
learn out : R[3] -> Float
def loss (t : Rose R[2]) : Float =
  out (cataRose (\x cs -> tanh (comb (x, fold (\a b -> a + b) zeros cs))) t)
"#;
    let src_per_node = r#"
learn comb : (R[2], R[3]) -> R[3]
learn out : R[3] -> Float
def step (x : R[2]) (cs : List (R[3], Float)) : (R[3], Float) =
  let h = tanh (comb (x, fold (\a c -> a + fst c) zeros cs)) in
  (h, sigmoid (out h) + fold (\a c -> a + snd c) 0.0 cs)
def loss (t : Rose R[2]) : Float = snd (cataRose step t)
"#;
    let src_nodes = r#"
learn f : R[2] -> R[3]
learn cell : (R[3], R[3]) -> R[3]
def loss (t : Rose R[2]) : Float =
  sum (fold (\h x -> tanh (cell (h, x))) zeros (map f (nodes t)))
"#;
    let mut rng = Lcg(21);
    let lines = common::rose_shapes(&mut || vec_json(&mut rng, 2, 1.0));
    run_cases(
        &[
            (
                "cataRose, child-sum",
                src_childsum.to_string(),
                lines.clone(),
            ),
            (
                "cataRose, a loss at every node",
                src_per_node.to_string(),
                lines.clone(),
            ),
            ("nodes", src_nodes.to_string(), lines),
        ],
        CheckOpts::default(),
    );
}

#[test]
fn learned_pieces() {
    let src_tuple = r#"
learn p : (R[3], R[2]) -> (R[2], R[4])
learn q : R[3] -> R[2]
def loss ((x, y) : (R[3], R[2])) : Float =
  let (a, b) = p (x, tanh (q x) + y) in
  sum (tanh a) * sum (tanh b) + dot (fst (p (x, a))) y
"#;
    let src_tuple3 = r#"
rep A = R[2]
learn p : (A, Float, R[3]) -> (Float, A)
learn a : R[3] -> A
def loss (x : R[3]) : Float =
  let (s, v) = p (a x, sum x, x) in
  tanh s + sum (tanh v)
"#;
    let src_embed = r#"
vocab Word
vocab Label = ["neg", "pos"]
learn embed : Word -> R[3]
learn cell : (R[3], R[3]) -> R[3]
learn decide : R[3] -> Scores Label
def loss ((ws, y) : (List Word, Label)) : Float =
  cross_entropy (decide (fold (\h w -> tanh (cell (h, embed w))) zeros ws)) y
"#;
    let src_embed_closed = r#"
vocab Tag = ["x", "y", "z"]
learn embed : Tag -> R[2]
learn f : R[2] -> R[2]
def loss ((t, u) : (Tag, Tag)) : Float = dot (tanh (f (embed t))) (embed u)
"#;
    let src_param = r#"
param theta : R[3] = ([0.5, -0.3, 0.2] : R[3])
param scale : Float = 1.5
param zero : R[3]
param pair : (Float, R[3])
learn f : R[3] -> R[3]
def loss (x : R[3]) : Float =
  sum (tanh (theta * scale + f x + zero * x)) + dot theta x + sum (tanh (snd pair + x * (fst pair + 1.0)))
"#;
    let src_param_scores = r#"
vocab L = ["a", "b"]
param bias : Scores L
learn f : R[2] -> Scores L
def loss ((x, y) : (R[2], L)) : Float = cross_entropy (f x + bias) y
"#;
    let src_scalar_piece = r#"
learn f : Float -> Float
learn g : (Float, Float) -> R[2]
def loss ((a, b) : (Float, Float)) : Float = sum (tanh (g (f a, tanh b)))
"#;
    let src_family = r#"
rep H = R[3]
learn blocks : [3] (H -> H) bias = ones
def loss (x : H) : Float =
  sum (fold (\h f -> h + tanh (f h)) x blocks) + sumList (map (\f -> sum (tanh (f x))) blocks)
"#;
    let mut rng = Lcg(17);
    let l32: Vec<String> = (0..4)
        .map(|_| {
            format!(
                "[{}, {}]",
                vec_json(&mut rng, 3, 1.0),
                vec_json(&mut rng, 2, 1.0)
            )
        })
        .collect();
    let l3: Vec<String> = (0..4).map(|_| vec_json(&mut rng, 3, 1.0)).collect();
    let words = vec![
        r#"[["a", "b", "c"], "pos"]"#.to_string(),
        r#"[[], "neg"]"#.to_string(),
        r#"[["b", "b"], "neg"]"#.to_string(),
        r#"[["c", "d", "a", "e"], "pos"]"#.to_string(),
    ];
    let tags = vec![
        r#"["x", "y"]"#.to_string(),
        r#"["z", "z"]"#.to_string(),
        r#"["y", "x"]"#.to_string(),
    ];
    let l2: Vec<String> = ["a", "b", "b", "a"]
        .iter()
        .map(|y| format!("[{}, \"{y}\"]", vec_json(&mut rng, 2, 1.0)))
        .collect();
    let ff: Vec<String> = (0..4)
        .map(|_| format!("[{:.3}, {:.3}]", rng.range(-1.0, 1.0), rng.range(-1.0, 1.0)))
        .collect();
    run_cases(
        &[
            (
                "affine with tuple domain and tuple codomain",
                src_tuple.to_string(),
                l32,
            ),
            (
                "affine with a Float in the domain and codomain",
                src_tuple3.to_string(),
                l3.clone(),
            ),
            ("embedding (open vocabulary)", src_embed.to_string(), words),
            (
                "embedding (closed vocabulary, used twice)",
                src_embed_closed.to_string(),
                tags,
            ),
            ("a family of pieces", src_family.to_string(), l3.clone()),
            ("params", src_param.to_string(), l3),
            ("param of Scores", src_param_scores.to_string(), l2),
            ("Float -> Float pieces", src_scalar_piece.to_string(), ff),
        ],
        CheckOpts::default(),
    );
}

/// The harness itself notices a wrong gradient: a program whose objective
/// is evaluated differently in training and inference would be missed
/// otherwise, so check the checker on a deliberately mismatched pair.
#[test]
fn the_harness_detects_a_wrong_gradient() {
    let s = setup(
        "learn f : R[2] -> R[2]\ndef loss (x : R[2]) : Float = sum (tanh (f x))\n",
        "loss",
        &["[0.5, -1.0]", "[1.0, 0.25]"],
    );
    let w = s.weights(1);
    let (_, mut analytic) = s.gradients(&w, &s.all(), true);
    // The honest gradient passes.
    assert!(common::grad_problems(&s, CheckOpts::default()).is_none());
    // A scaled one would not: compare by hand.
    for g in analytic.iter_mut() {
        for x in g.iter_mut() {
            *x *= 1.5;
        }
    }
    let f = |w2: &dp::runtime::Weights| s.reduced(w2, &s.all(), true);
    let n = (f(&common::perturbed(&w, 0, 0, 1e-2)) - f(&common::perturbed(&w, 0, 0, -1e-2))) / 2e-2;
    assert!(!common::close(analytic[0][0] as f64, n, 2e-2, 2e-3) || n.abs() < 1e-3);
}

/// `dropout 0.25` while training (as `gradients` and the harness's values
/// evaluate) keeps about three quarters of the elements, each scaled by
/// 4/3; outside training (`Program::eval`, as `dp run` and the REPL) it is
/// the identity.
#[test]
fn dropout_drops_only_while_training() {
    let src = "param p : R[2000] = ones\ndef loss (x : Float) : Float = sum (dropout 0.25 p) * x\n";
    let s = common::setup(src, "loss", &["1.0"]);
    let w = s.weights(0);
    let value = s.values(&w, &[0])[0];
    let kept = value * 0.75;
    assert!(
        (kept - kept.round()).abs() < 0.05,
        "kept elements scaled by 4/3: {value}"
    );
    assert!((kept - 1500.0).abs() < 4.0 * 19.4, "kept {kept} of 2000");
    let mut program = dp::Program::from_source("d.dp", src).expect("checks");
    let model = dp::Model::fresh(&program, 0).expect("weights");
    let outside = program
        .eval(&model, "sum (dropout 0.25 p)")
        .expect("evaluates");
    assert_eq!(outside, "2000.0");
    let bad = program
        .eval(&model, "dropout 1.5 p")
        .expect_err("p out of range");
    assert!(bad.to_string().contains("must be in [0, 1)"), "{bad}");
}
