//! Hoisting (`lower::hoist`, `runtime/hoist.rs`): a recurrence whose step
//! function's element-only work is done before the loop computes the same
//! objective and the same gradients as the plain evaluation (the
//! reference, `set_hoisting(false)`), to float rounding: 1e-5 relative on
//! values, 1e-4 relative to each tensor's gradient scale.

mod common;

use common::{try_setup, Lcg, Setup};

fn with_hoisting<T>(on: bool, f: impl FnOnce() -> T) -> T {
    let before = dp::runtime::set_hoisting(on);
    let r = f();
    dp::runtime::set_hoisting(before);
    r
}

fn problems(s: &Setup) -> Vec<String> {
    let mut out = Vec::new();
    let w = s.weights(3);
    let all = s.all();
    let before = dp::runtime::hoisted_runs();
    let hoisted = with_hoisting(true, || (s.values(&w, &all), s.gradients(&w, &all, true)));
    let between = dp::runtime::hoisted_runs();
    let plain = with_hoisting(false, || (s.values(&w, &all), s.gradients(&w, &all, true)));
    if between == before {
        out.push("the hoisted path never ran".into());
    }
    if dp::runtime::hoisted_runs() != between {
        out.push("the plain evaluation hoisted".into());
    }
    for (i, (a, b)) in hoisted.0.iter().zip(&plain.0).enumerate() {
        if (a - b).abs() > 1e-5 * a.abs().max(b.abs()) + 1e-6 {
            out.push(format!("example {i}: hoisted {a:.7}, plain {b:.7}"));
        }
    }
    let names = s.tensor_names(&w);
    let mut moved = false;
    for (k, (gh, gp)) in hoisted.1 .1.iter().zip(&plain.1 .1).enumerate() {
        let scale = gp.iter().fold(0.0f32, |m, x| m.max(x.abs())) as f64;
        moved |= scale > 1e-6;
        let bad = gh
            .iter()
            .zip(gp)
            .filter(|(a, b)| ((**a - **b) as f64).abs() > 1e-4 * scale + 1e-7 || !a.is_finite())
            .count();
        if bad > 0 {
            out.push(format!(
                "gradient of {}: {bad} of {} entries differ",
                names[k],
                gh.len()
            ));
        }
    }
    if !moved {
        out.push("every gradient is zero: the check tests nothing".into());
    }
    out
}

fn check(cases: &[(&str, &str, Vec<String>)]) {
    let mut failures = Vec::new();
    for (label, src, lines) in cases {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        match try_setup(src, "loss", &lines) {
            Ok(s) => {
                let p = problems(&s);
                if !p.is_empty() {
                    failures.push(format!("{label}:\n    {}", p.join("\n    ")));
                }
            }
            Err(e) => failures.push(format!("{label}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Sentences of words `w0..w7` with a label; lengths 0 to 6.
fn sentences() -> Vec<String> {
    let mut rng = Lcg(7);
    [3, 0, 5, 1, 4, 2, 6]
        .iter()
        .map(|&n| {
            let ws: Vec<String> = (0..n).map(|_| format!("\"w{}\"", rng.below(8))).collect();
            format!(
                "[[{}], \"{}\"]",
                ws.join(", "),
                ["a", "b"][rng.below(2) as usize]
            )
        })
        .collect()
}

/// Lists of R[2] vectors; lengths 0 to 6.
fn vectors() -> Vec<String> {
    let mut rng = Lcg(11);
    [3, 0, 5, 1, 4, 2, 6]
        .iter()
        .map(|&n| {
            let xs: Vec<String> = (0..n)
                .map(|_| format!("[{:.3}, {:.3}]", rng.range(-1.0, 1.0), rng.range(-1.0, 1.0)))
                .collect();
            format!("[{}]", xs.join(", "))
        })
        .collect()
}

const HEAD: &str = "vocab Word\nvocab Label = [\"a\", \"b\"]\nrep E = R[4]\nrep H = R[5]\n\
                    learn embed : Word -> E\nlearn decide : H -> Scores Label\n";

#[test]
fn hoisted_recurrences_equal_the_plain_evaluation() {
    let fold = format!(
        "{HEAD}learn cell : (H, E) -> H\n\
         def loss ((ws, y) : (List Word, Label)) : Float =\n\
           cross_entropy (decide (fold (\\h w -> tanh (cell (h, embed w))) zeros ws)) y"
    );
    // The element renamed by a `let` before the work on it.
    let renamed = format!(
        "{HEAD}learn cell : (H, E) -> H\n\
         def loss ((ws, y) : (List Word, Label)) : Float =\n\
           cross_entropy (decide (fold (\\h w -> let v = w in tanh (cell (h, embed v))) zeros ws)) y"
    );
    // Gates with a tuple codomain, an element bound by `let` and used by
    // two split maps, the element on the left.
    let gru = format!(
        "{HEAD}learn gates : (E, H) -> (H, H)\nlearn cand : (E, H) -> H\n\
         def step (h : H) (w : Word) : H =\n\
           let e = embed w in\n\
           let (z, r) = gates (e, h) in\n\
           let c = tanh (cand (e, sigmoid r * h)) in\n\
           (1.0 - sigmoid z) * h + sigmoid z * c\n\
         def loss ((ws, y) : (List Word, Label)) : Float = cross_entropy (decide (fold step zeros ws)) y"
    );
    // mapAccumR, a step applied to an argument first, a captured value,
    // element-only work outside any affine map and under an `if` condition.
    let accum = "learn cell : (R[3], R[2]) -> R[3]\nlearn emit : R[3] -> R[2]\nparam p : R[3]\n\
         def step (q : R[3]) (h : R[3]) (x : R[2]) : (R[3], R[2]) =\n\
           let h2 = tanh (cell (h, x * 2.0)) + q * (if sum x > 0.0 then 1.0 else 0.5) in\n\
           (h2, emit h2 + tanh x)\n\
         def loss (xs : List R[2]) : Float =\n\
           let (h, ys) = mapAccumR (step p) zeros xs in\n\
           sum h + sumList (map (\\y -> sum (tanh y)) ys)"
        .to_string();
    // A step whose split parts are all element-only but one, three parts.
    let three = "learn cell : (R[2], R[3], R[2]) -> R[3]\n\
         def loss (xs : List R[2]) : Float =\n\
           sum (fold (\\h x -> relu (cell (x, h, tanh x))) zeros xs)"
        .to_string();
    check(&[
        ("fold with an embedding", &fold, sentences()),
        ("the element renamed by a let", &renamed, sentences()),
        ("gru step", &gru, sentences()),
        ("mapAccumR with a captured value", &accum, vectors()),
        ("three-part split", &three, vectors()),
    ]);
}
