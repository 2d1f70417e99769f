//! The batched runtime equals per-example evaluation.
//!
//! For programs built on every batching mechanism (fold, mapAccumL/R and
//! unfold freezing finished examples, windows gathered once, cata one height
//! at a time, iterate with per-example counts, zipWith of ragged lists,
//! if-select of sub-batches, nested lists, closures applied to elements),
//! the objective of a batch of examples of different sizes, evaluated at
//! once, equals each example evaluated alone (1e-5 relative), and the
//! gradient of the summed objective equals the sum of the per-example
//! gradients (1e-4 relative to the tensor's gradient scale). Batches are
//! also evaluated in another order and as sub-batches.

mod common;

use common::{try_setup, Lcg, Setup};

/// Everything that differs between batched and per-example evaluation.
fn batching_problems(s: &Setup, seed: u64) -> Vec<String> {
    let mut problems = Vec::new();
    let w = s.weights(seed);
    let n = s.examples.len();
    let all = s.all();
    let alone: Vec<f64> = all.iter().map(|&i| s.values(&w, &[i])[0]).collect();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * a.abs().max(b.abs()) + 1e-6;
    // Several batch compositions: all in order, reversed, every other one.
    let reversed: Vec<usize> = all.iter().rev().copied().collect();
    let odd: Vec<usize> = all.iter().copied().filter(|i| i % 2 == 1).collect();
    let rotated: Vec<usize> = (0..n).map(|i| (i + 2) % n).collect();
    for (what, idx) in [
        ("the whole batch", &all),
        ("the batch reversed", &reversed),
        ("every other example", &odd),
        ("the batch rotated", &rotated),
    ] {
        let batched = s.values(&w, idx);
        for (row, &i) in idx.iter().enumerate() {
            if !close(batched[row], alone[i]) {
                problems.push(format!(
                    "example {i} in {what}: batched {:.7}, alone {:.7}",
                    batched[row], alone[i]
                ));
            }
        }
    }
    // Gradients of the summed objective.
    let names = s.tensor_names(&w);
    let (total, batched) = s.gradients(&w, &all, false);
    let sum_alone: f64 = alone.iter().sum();
    if !close(total, sum_alone) {
        problems.push(format!(
            "summed objective: batched {total:.7}, sum of examples {sum_alone:.7}"
        ));
    }
    let mut summed: Vec<Vec<f64>> = batched.iter().map(|g| vec![0.0; g.len()]).collect();
    for &i in &all {
        let (_, g) = s.gradients(&w, &[i], false);
        for (acc, gi) in summed.iter_mut().zip(&g) {
            for (a, x) in acc.iter_mut().zip(gi) {
                *a += *x as f64;
            }
        }
    }
    let batched: Vec<Vec<f64>> = batched
        .iter()
        .map(|g| g.iter().map(|&x| x as f64).collect())
        .collect();
    problems.extend(common::gradient_differences(
        &names,
        &batched,
        &summed,
        ("batched", "sum of examples"),
    ));
    problems
}

/// Where the objective runs as its lowered network (`runtime/network.rs`),
/// the differences from the evaluator's values and gradients; `ran`
/// collects the labels of the cases that ran so.
fn network_problems(s: &Setup, label: &str, ran: &mut Vec<String>) -> Vec<String> {
    let before = dp::runtime::network_runs();
    let differences = common::switch_differences(s, dp::runtime::set_networks, None);
    if dp::runtime::network_runs() == before {
        return Vec::new();
    }
    ran.push(label.to_string());
    differences
        .into_iter()
        .map(|d| format!("network against evaluator: {d}"))
        .collect()
}

fn run_cases(cases: &[(&str, &str, Vec<String>)]) {
    let mut failures = Vec::new();
    let mut ran = Vec::new();
    for (label, src, lines) in cases {
        assert!(lines.len() >= 5, "{label}: at least 5 examples");
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let s = match try_setup(src, "loss", &lines) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{label}: does not compile or decode:\n{e}"));
                continue;
            }
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut p = batching_problems(&s, 5);
            p.extend(network_problems(&s, label, &mut ran));
            p
        }));
        match result {
            Ok(p) if p.is_empty() => {}
            Ok(p) => failures.push(format!("{label}:\n    {}", p.join("\n    "))),
            Err(e) => failures.push(format!(
                "{label}: panicked: {}",
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        }
    }
    eprintln!("ran as networks: {}", ran.join(", "));
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn vec_json(rng: &mut Lcg, n: usize) -> String {
    let xs: Vec<String> = (0..n)
        .map(|_| format!("{:.3}", rng.range(-1.0, 1.0)))
        .collect();
    format!("[{}]", xs.join(", "))
}

fn list_json(rng: &mut Lcg, len: usize) -> String {
    let xs: Vec<String> = (0..len).map(|_| vec_json(rng, 2)).collect();
    format!("[{}]", xs.join(", "))
}

fn grid_json(rng: &mut Lcg, h: usize, w: usize) -> String {
    let rows: Vec<String> = (0..h).map(|_| list_json(rng, w)).collect();
    format!("[{}]", rows.join(", "))
}

/// List lengths of the examples: different, including empty and 1.
const LENS: [usize; 7] = [3, 0, 5, 1, 4, 2, 6];

fn lists() -> Vec<String> {
    let mut rng = Lcg(31);
    LENS.iter().map(|&l| list_json(&mut rng, l)).collect()
}

#[test]
fn recurrences() {
    let fold = r#"
learn cell : (R[3], R[2]) -> R[3]
learn out : R[3] -> Float
def loss (xs : List R[2]) : Float = out (fold (\h x -> tanh (cell (h, x))) zeros xs)
"#;
    let accum_l = r#"
learn cell : (R[3], R[2]) -> R[3]
learn emit : R[3] -> R[2]
def loss (xs : List R[2]) : Float =
  let (h, ys) = mapAccumL (\h x -> let h2 = tanh (cell (h, x)) in (h2, emit h2)) zeros xs in
  sum h + sumList (map (\y -> sum (tanh y) * 0.5) ys) + float (length ys)
"#;
    let accum_r = r#"
learn cell : (R[3], R[2]) -> R[3]
learn emit : R[3] -> R[2]
learn read : (R[3], R[2]) -> R[3]
def loss (xs : List R[2]) : Float =
  let (h, ys) = mapAccumR (\h x -> let h2 = tanh (cell (h, x)) in (h2, emit h2)) zeros xs in
  sum (fold (\s y -> tanh (read (s, y))) h ys)
"#;
    let birnn = r#"
vocab Label = ["a", "b", "c"]
learn fw : (R[3], R[2]) -> R[3]
learn bw : (R[3], R[2]) -> R[3]
learn tag : (R[3], R[3]) -> Scores Label
def loss (xs : List R[2]) : Float =
  let (_, f) = mapAccumL (\h x -> let h2 = tanh (fw (h, x)) in (h2, h2)) zeros xs in
  let (_, b) = mapAccumR (\h x -> let h2 = tanh (bw (h, x)) in (h2, h2)) zeros xs in
  sumList (zipWith (\l r -> cross_entropy (tag (l, r)) "b") f b)
"#;
    let unfold = r#"
learn init : R[2] -> R[3]
learn cell : R[3] -> R[3]
learn emit : R[3] -> R[2]
def loss ((n, x) : (Int, R[2])) : Float =
  let ys = unfold n (\s -> (emit s, tanh (cell s))) (init x) in
  sumList (map (\y -> sum (tanh y)) ys) + sum (fold (\s y -> tanh (cell s + init y)) zeros ys)
"#;
    let seq2seq = r#"
learn enc : (R[3], R[2]) -> R[3]
learn dec : R[3] -> R[3]
learn emit : R[3] -> R[2]
def loss ((n, xs) : (Int, List R[2])) : Float =
  let h = fold (\h x -> tanh (enc (h, x))) zeros xs in
  let ys = unfold (n + length xs) (\s -> (emit s, tanh (dec s + h))) h in
  sumList (zipWith (\y x -> mse y x) ys (xs ++ xs))
"#;
    let iterate = r#"
learn w : R[3] -> R[3]
learn b : R[2] -> R[3]
def loss ((n, x) : (Int, R[2])) : Float =
  let c = b x in
  sum (iterate n (\z -> tanh (w z + c)) c) + sum (iterate 2 (\z -> sigmoid (w z)) c)
"#;
    let mut rng = Lcg(7);
    let counts = [3, 0, 5, 1, 2, 4];
    let unfold_lines: Vec<String> = counts
        .iter()
        .map(|n| format!("[{n}, {}]", vec_json(&mut rng, 2)))
        .collect();
    let s2s_lines: Vec<String> = counts
        .iter()
        .zip(LENS)
        .map(|(n, l)| format!("[{n}, {}]", list_json(&mut rng, l)))
        .collect();
    run_cases(&[
        ("fold", fold, lists()),
        ("mapAccumL", accum_l, lists()),
        ("mapAccumR", accum_r, lists()),
        (
            "bidirectional zipWith of mapAccumL and mapAccumR",
            birnn,
            lists(),
        ),
        (
            "unfold with per-example step counts",
            unfold,
            unfold_lines.clone(),
        ),
        ("fold then unfold", seq2seq, s2s_lines),
        ("iterate with per-example counts", iterate, unfold_lines),
    ]);
}

#[test]
fn windows_and_trees() {
    let window = r#"
learn conv : Window[3] R[2] -> R[4]
learn out : R[4] -> Float
def loss (xs : List R[2]) : Float =
  sumList (map out (windowMap (\w -> tanh (conv w)) xs)) + sumList (windowMap (\(w : Window[2] R[2]) -> sum (maxList (elems w))) xs)
"#;
    let window2 = r#"
learn conv : Window[2, 2] R[2] -> R[3]
learn conv2 : Window[2, 2] R[3] -> R[2]
learn cell : (R[2], R[2]) -> R[2]
def loss (g : Grid R[2]) : Float =
  let h = windowMap2 (\w -> tanh (conv w)) g in
  sum (fold (\s x -> tanh (cell (s, x))) zeros (flatten (windowMap2 (\w -> conv2 w) h)))
    + sumList (map sum (flatten (maxpool2 2 h)))
"#;
    let cata = r#"
learn lf : R[2] -> R[3]
learn comb : (R[3], R[3]) -> R[3]
learn out : R[3] -> Float
def loss (t : Tree R[2]) : Float =
  out (cata (\x -> tanh (lf x)) (\l r -> tanh (comb (l, r))) t)
    + sumList (map sum (leaves t)) * float (cata (\x -> 1) (\l r -> l + r + 1) t)
"#;
    let same = r#"
learn conv : Window[5] R[2] -> R[4]
learn out : R[4] -> Float
def loss (xs : List R[2]) : Float =
  sumList (map out (windowMapSame (\w -> tanh (conv w)) xs))
"#;
    let same2 = r#"
learn conv : Window[3, 3] R[2] -> R[3]
learn out : R[3] -> Float
def loss (g : Grid R[2]) : Float = sumList (map out (flatten (windowMap2Same (\w -> tanh (conv w)) g)))
"#;
    let mut rng = Lcg(13);
    let wl: Vec<String> = [5, 2, 3, 7, 0, 4]
        .iter()
        .map(|&l| list_json(&mut rng, l))
        .collect();
    let gl: Vec<String> = [(3, 4), (2, 2), (5, 5), (1, 3), (4, 3), (3, 6)]
        .iter()
        .map(|&(h, w)| grid_json(&mut rng, h, w))
        .collect();
    let trees = common::tree_shapes(&mut || format!("{{\"leaf\": {}}}", vec_json(&mut rng, 2)));
    run_cases(&[
        (
            "windowMap (and lists shorter than the window)",
            window,
            wl.clone(),
        ),
        (
            "windowMap2, flatten, maxpool2 on grids of different sizes",
            window2,
            gl.clone(),
        ),
        ("cata over trees of different shapes", cata, trees),
        (
            "windowMapSame (lists shorter than the window)",
            same,
            wl.clone(),
        ),
        (
            "windowMap2Same on grids of different sizes",
            same2,
            gl.clone(),
        ),
    ]);
}

#[test]
fn selection_zips_and_nesting() {
    let zipwith = r#"
learn f : R[2] -> R[3]
learn g : R[2] -> R[3]
def loss ((xs, ys) : (List R[2], List R[2])) : Float =
  sumList (zipWith (\a b -> dot (tanh (f a)) (g b)) xs ys)
    + sumList (map (\(a, b) -> sum (f a * g b)) (zip (reverse xs) ys))
"#;
    let select = r#"
learn f : R[2] -> R[3]
learn g : R[2] -> R[3]
learn cell : (R[3], R[2]) -> R[3]
def loss (xs : List R[2]) : Float =
  (if length xs > 2 then sum (fold (\h x -> tanh (cell (h, x))) (f (last xs)) xs) else 0.5 * float (length xs))
    + sumList (map (\x -> if sum x > 0.0 then sum (tanh (f x)) else sum (sigmoid (g x))) xs)
    + (if length xs == 0 then 0.0 else sum (last (map g xs)))
"#;
    let nested = r#"
learn cell : (R[3], R[2]) -> R[3]
learn outer : (R[3], R[3]) -> R[3]
learn out : R[3] -> Float
def loss (xss : List (List R[2])) : Float =
  let inner = map (\xs -> fold (\h x -> tanh (cell (h, x))) zeros xs) xss in
  out (fold (\h s -> tanh (outer (h, s))) zeros inner)
    + sumList (map (\xs -> sumList (map (\x -> out (cell (meanList inner, x))) xs)) xss)
"#;
    let embed = r#"
vocab Word
vocab Label = ["neg", "pos"]
learn embed : Word -> R[3]
learn cell : (R[3], R[3]) -> R[3]
learn decide : R[3] -> Scores Label
def loss ((ws, y) : (List Word, Label)) : Float =
  cross_entropy (decide (fold (\h w -> tanh (cell (h, embed w))) zeros ws)) y
    + sumList (map (\w -> sum (embed w)) (take 2 (drop 1 ws)))
"#;
    let mut rng = Lcg(19);
    let pairs: Vec<String> = [(3, 2), (0, 4), (5, 5), (1, 0), (4, 6), (2, 1)]
        .iter()
        .map(|&(a, b)| format!("[{}, {}]", list_json(&mut rng, a), list_json(&mut rng, b)))
        .collect();
    let nested_lines: Vec<String> = [
        vec![2, 3],
        vec![],
        vec![1],
        vec![4, 0, 2],
        vec![3, 3, 1, 2],
        vec![0],
    ]
    .iter()
    .map(|ls| {
        let inner: Vec<String> = ls.iter().map(|&l| list_json(&mut rng, l)).collect();
        format!("[{}]", inner.join(", "))
    })
    .collect();
    let words = [
        r#"[["a", "good", "film"], "pos"]"#,
        r#"[[], "neg"]"#,
        r#"[["bad"], "neg"]"#,
        r#"[["not", "a", "bad", "film", "at", "all"], "pos"]"#,
        r#"[["film", "film"], "neg"]"#,
        r#"[["good", "good", "good", "a"], "pos"]"#,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    run_cases(&[
        ("zipWith and zip of ragged lists", zipwith, pairs),
        ("if-select", select, lists()),
        ("map over nested lists", nested, nested_lines),
        ("embedding, take, drop", embed, words),
    ]);
}

/// `@` with a matrix that is the same for every example (a `param`, a
/// closed def) is one shared-weight product: on the left of a vector, on
/// the right of each example's matrix, inside `iterate`.
#[test]
fn shared_matrices() {
    let shared = r#"
param w : R[3, 2] = [[0.5, -1.0], [0.25, 2.0], [1.0, 0.0]]
param m : R[2, 2] = [[0.5, 0.25], [-0.75, 1.0]]
def c : R[3, 2] = [[1, 2], [3, 4], [5, 6]]
def loss ((n, x, a) : (Int, R[2], R[3, 2])) : Float =
  sum (tanh (w @ x)) + sum (c @ x) + sum (iterate n (\z -> tanh (m @ z + x)) x)
    + sum (tanh (a @ m)) + sum (a @ (m @ m))
"#;
    let mut rng = Lcg(23);
    let lines: Vec<String> = [3, 0, 5, 1, 2, 4]
        .iter()
        .map(|n| {
            let rows: Vec<String> = (0..3).map(|_| vec_json(&mut rng, 2)).collect();
            format!("[{n}, {}, [{}]]", vec_json(&mut rng, 2), rows.join(", "))
        })
        .collect();
    run_cases(&[("shared matrices with @", shared, lines)]);
}

/// Trees of words: a leaf function that is the same for every example (a
/// def, a lambda capturing nothing) runs once per distinct word of the
/// minibatch, its rows shared by the leaves; one that captures an
/// example's value runs per leaf. Both equal per-example evaluation.
#[test]
fn trees_of_words() {
    let shared = r#"
vocab Word
learn embed : Word -> R[3]
learn leafmap : R[3] -> R[3]
learn comb : (R[3], R[3]) -> R[3]
learn out : R[3] -> Float
def leafFn (w : Word) : R[3] = tanh (leafmap (embed w))
def loss ((t, k) : (Tree Word, R[3])) : Float =
  out (cata leafFn (\l r -> tanh (comb (l, r))) t)
    + sum (cata (\w -> embed w * embed w) (\l r -> l + r) t)
    + sum (cata (\w -> tanh (leafmap (embed w)) * k) (\l r -> l * r) t)
"#;
    let mut rng = Lcg(29);
    let trees = [
        r#"[["a", "b"], "a"]"#,
        r#""a""#,
        r#"[["b", "b"], ["a", ["c", "a"]]]"#,
        r#"["c", "c"]"#,
        r#"[[["d", "a"], "b"], ["a", ["b", ["c", "d"]]]]"#,
        r#""d""#,
    ];
    let lines: Vec<String> = trees
        .iter()
        .map(|t| format!("[{t}, {}]", vec_json(&mut rng, 3)))
        .collect();
    run_cases(&[("cata over trees of repeated words", shared, lines)]);
}

/// Random draws (LANGUAGE.md 11.1) are a function of the example's position
/// and the draw's place in its evaluation: an example drawn in a batch gets
/// what it gets alone, in `map`, `fold` (examples of different lengths), an
/// `if` taken by some examples, `cata`, a def evaluated at each use,
/// `dropout` and `sample` (as while training), and through `mu + sigma *
/// normal` to the learned pieces' gradients.
#[test]
fn random_draws() {
    let draws = r#"
learn mu : R[2] -> R[3]
learn sigma : R[2] -> R[3]
learn cell : (R[3], R[2]) -> R[3]
def eps : R[3] = normal
def loss (xs : List R[2]) : Float =
  sumList (map (\x -> sum (mu x + sigma x * normal)) xs)
    + sum (fold (\h x -> tanh (cell (h, x + uniform * 0.1))) eps xs)
    + (if length xs > 2 then sum (normal * eps) else sum uniform)
    + sum eps
"#;
    let tree = r#"
learn lf : R[2] -> R[3]
def loss (t : Tree R[2]) : Float =
  sum (cata (\x -> tanh (lf x + normal)) (\l r -> l * r + uniform) t)
"#;
    let mut rng = Lcg(31);
    let lists: Vec<String> = [3, 0, 5, 1, 4, 2]
        .iter()
        .map(|&l| list_json(&mut rng, l))
        .collect();
    let trees = common::tree_shapes(&mut || format!("{{\"leaf\": {}}}", vec_json(&mut rng, 2)));
    let choices = r#"
vocab C = ["a", "b", "c"]
learn out : R[2] -> Scores C
learn cell : (R[3], R[2]) -> R[3]
def loss (xs : List R[2]) : Float =
  sumList (map (\x -> cross_entropy (out x) (sample (out x)) + sum (dropout 0.4 (out x))) xs)
    + sum (fold (\h x -> dropout 0.25 (tanh (cell (h, x)))) zeros xs)
"#;
    let more: Vec<String> = [2, 4, 0, 3, 1, 5]
        .iter()
        .map(|&l| list_json(&mut rng, l))
        .collect();
    run_cases(&[
        ("draws in map, fold, if and a def", draws, lists),
        ("draws in cata", tree, trees),
        ("dropout and sample", choices, more),
    ]);
}

/// Families of learned pieces (LANGUAGE.md 11.3) are lists of functions:
/// a fold over one applies its members in order, `map` and `zipWith` apply
/// each member to its own element (`zipWith` against lists of different
/// lengths, so examples run different members), `reverse` and `take`
/// rearrange them; all equal per-example evaluation.
#[test]
fn families_of_pieces() {
    let family = r#"
rep H = R[3]
learn blocks : [3] (H -> H)
learn gates : [2] ((H, R[2]) -> H) bias = ones
def loss ((x, ys) : (H, List R[2])) : Float =
  sum (fold (\h f -> h + tanh (f h)) x blocks)
    + sumList (map (\f -> sum (f x)) (reverse blocks))
    + sumList (zipWith (\g y -> sum (tanh (g (x, y)))) gates ys)
    + sum (fold (\h f -> f h) x (take (length ys) blocks))
"#;
    let mut rng = Lcg(31);
    let lines: Vec<String> = [0, 3, 1, 2, 0, 4]
        .iter()
        .map(|n| format!("[{}, {}]", vec_json(&mut rng, 3), list_json(&mut rng, *n)))
        .collect();
    run_cases(&[("families of learned pieces", family, lines)]);
}

/// The everyday elementwise operations of LANGUAGE.md 11.4 (`sign`, `sin`,
/// `cos`, `pow` with a per-example exponent, `minimum`, `maximum`) equal
/// per-example evaluation in values and gradients.
#[test]
fn everyday_elementwise() {
    let src = r#"
learn f : R[3] -> R[3]
def loss ((x, p) : (R[3], Float)) : Float =
  let y = f x in
  sum (sin y * cos x + sign y * y) + sum (pow (y * y + 0.5) (p * p + 0.5))
    + sum (minimum y x) - sum (maximum y (x * 0.5))
"#;
    let mut rng = Lcg(37);
    let lines: Vec<String> = (0..6)
        .map(|_| format!("[{}, {:.3}]", vec_json(&mut rng, 3), rng.range(-1.0, 1.0)))
        .collect();
    run_cases(&[("sign sin cos pow minimum maximum", src, lines)]);
}

/// `head` of lists of different lengths and `%` on each example's Int
/// equal per-example evaluation.
#[test]
fn head_and_modulo() {
    let src = r#"
learn f : R[2] -> R[2]
def loss ((xs, n) : (List R[2], Int)) : Float =
  sum (tanh (f (head xs))) * float (n % 3 - 1) + sum (head (reverse xs))
"#;
    let mut rng = Lcg(41);
    let lines: Vec<String> = [(3, -7), (1, 4), (2, 0), (4, 5), (1, -1), (2, 9)]
        .iter()
        .map(|(len, n)| format!("[{}, {n}]", list_json(&mut rng, *len)))
        .collect();
    run_cases(&[("head and %", src, lines)]);
}

/// `==` and `!=` on lists (of different lengths per example) and tuples
/// choose per example, as evaluating each example alone does.
#[test]
fn equality_of_lists_and_tuples() {
    let src = r#"
learn f : R[2] -> R[2]
def loss ((xs, ys, x) : (List Int, List Int, R[2])) : Float =
  if xs == ys && (xs, 1) != (ys, 2) then sum (tanh (f x)) else sum (f x) * 2.0
"#;
    let mut rng = Lcg(43);
    let pairs = [
        ("[1, 2]", "[1, 2]"),
        ("[1]", "[1, 2]"),
        ("[]", "[]"),
        ("[3, 4, 5]", "[3, 4, 6]"),
        ("[7]", "[7]"),
        ("[2, 2]", "[]"),
    ];
    let lines: Vec<String> = pairs
        .iter()
        .map(|(a, b)| format!("[{a}, {b}, {}]", vec_json(&mut rng, 2)))
        .collect();
    run_cases(&[("== and != on lists and tuples", src, lines)]);
}

/// Attention over lists of different lengths (`softmaxList`), and the
/// discrete `argmaxIndex`, `symbol` and `index`, equal per-example
/// evaluation.
#[test]
fn positions_and_indices() {
    let src = r#"
vocab L = ["a", "b", "c"]
learn f : R[2] -> R[2]
learn score : R[2] -> Float
def loss ((xs, x) : (List R[2], R[2])) : Float =
  let w = softmaxList (map (\y -> score (f y)) xs) in
  let k = argmaxIndex (f x) in
  sumList (zipWith (\a y -> a * sum (tanh (f y))) w xs)
    + float (index (symbol (k + 1) : L)) * sum (f x)
"#;
    let mut rng = Lcg(47);
    let lines: Vec<String> = [3, 1, 0, 4, 2, 5]
        .iter()
        .map(|n| format!("[{}, {}]", list_json(&mut rng, *n), vec_json(&mut rng, 2)))
        .collect();
    run_cases(&[("softmaxList argmaxIndex symbol index", src, lines)]);
}

/// Tensor views and indexing with per-example indices (`row`, `at`),
/// `transpose`, `reshape`, `raw` and `cast` equal per-example evaluation.
#[test]
fn tensor_views_and_indexing() {
    let src = r#"
rep H = R[6]
rep M = R[2, 3]
learn f : R[2] -> H
def loss ((x, i, j) : (R[2], Int, Int)) : Float =
  let m = (reshape (raw (f x)) : R[2, 3]) in
  sum (tanh (row i m)) + at j (raw (f x)) * sum (transpose m @ ([1.0, -0.5] : R[2]))
    + sum (tanh ((cast (raw (f x)) : H))) + sum ((cast (raw (f x)) : M) @ ([1.0, 0.5, -1.0] : R[3]))
    + sum (slice 2 3 (raw (f x)))
"#;
    let mut rng = Lcg(53);
    let lines: Vec<String> = [(0, 5), (1, 0), (1, 3), (0, 2), (1, 1), (0, 4)]
        .iter()
        .map(|(i, j)| format!("[{}, {i}, {j}]", vec_json(&mut rng, 2)))
        .collect();
    run_cases(&[("row at transpose reshape raw cast", src, lines)]);
}

/// `cataRose` one height at a time over rose trees of different shapes: a
/// child-sum cell (the children's states summed), `nodes`, and a loss at
/// every node carried up in the result.
#[test]
fn rose_trees() {
    let childsum = r#"
learn comb : (R[2], R[3]) -> R[3]
learn out : R[3] -> Float
def hsum (cs : List R[3]) : R[3] = fold (\a b -> a + b) zeros cs
def loss (t : Rose R[2]) : Float =
  out (cataRose (\x cs -> tanh (comb (x, hsum cs))) t)
    + sumList (map sum (nodes t)) * float (cataRose (\x cs -> 1 + length cs) t)
"#;
    let per_node = r#"
learn comb : (R[2], R[3]) -> R[3]
learn out : R[3] -> Float
def step (x : R[2]) (cs : List (R[3], Float)) : (R[3], Float) =
  let h = tanh (comb (x, fold (\a c -> a + fst c) zeros cs)) in
  (h, out h * out h + fold (\a c -> a + snd c) 0.0 cs)
def loss (t : Rose R[2]) : Float =
  snd (cataRose step t) + (if length (nodes t) > 3 then sum (fst (cataRose step t)) else 0.0)
"#;
    let mut rng = Lcg(17);
    let roses = common::rose_shapes(&mut || vec_json(&mut rng, 2));
    run_cases(&[
        ("cataRose, a child-sum cell", childsum, roses.clone()),
        ("cataRose with a loss at every node", per_node, roses),
    ]);
}
