//! Evaluation strategies against the plain evaluation (the reference):
//! hoisting (`lower::hoist`, `runtime/hoist.rs`: a recurrence whose step
//! function's element-only work is done before the loop) and elementwise
//! chains (`runtime/chains.rs`: several elementwise operations as one op)
//! and deferred weight gradients (`backend/defer.rs`: a recurrence's weight
//! gradient as one product over its steps) and a TreeNet's child gathers
//! folded into its node cell's affine input (`lower::gather`) compute the
//! same objective and
//! the same gradients, to float rounding:
//! 1e-5 relative on values, 1e-4 relative to each tensor's gradient scale.

mod common;

use common::{try_setup, Lcg, Setup};

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    Hoisting,
    /// Hoisting in the cells of a def run as its network.
    NetworkHoisting,
    Chains,
    /// Fused groups of a def run as its network (`lower/fuse.rs`).
    NetworkChains,
    Deferral,
    /// A TreeNet's child gathers folded into its node cell (networks only).
    GatherFolding,
    /// A `fold` whose hoisted loop is one affine map and activation of
    /// its state, run as one recurrence op (networks only).
    WholeRecurrence,
}

impl Strategy {
    /// The switch: turns the strategy on or off, returns the previous
    /// setting.
    fn switch(self) -> fn(bool) -> bool {
        match self {
            Strategy::Hoisting | Strategy::NetworkHoisting => dp::runtime::set_hoisting,
            Strategy::Chains | Strategy::NetworkChains => dp::runtime::set_chains,
            Strategy::Deferral => dp::backend::set_deferral,
            Strategy::GatherFolding => dp::runtime::set_gather_folding,
            Strategy::WholeRecurrence => dp::runtime::set_whole_recurrences,
        }
    }

    /// How many times the strategy ran on this thread.
    fn runs(self) -> fn() -> usize {
        match self {
            Strategy::Hoisting | Strategy::NetworkHoisting => dp::runtime::hoisted_runs,
            Strategy::Chains | Strategy::NetworkChains => dp::runtime::chain_runs,
            Strategy::Deferral => dp::backend::deferred_runs,
            Strategy::GatherFolding => dp::runtime::folded_gathers,
            Strategy::WholeRecurrence => dp::runtime::whole_runs,
        }
    }
}

/// Chains are checked with hoisting off, so that they run inside
/// recurrences too; the network strategies with defs run as their
/// networks, the others on the evaluator.
fn problems(s: &Setup, strategy: Strategy) -> Vec<String> {
    let chains = matches!(strategy, Strategy::Chains | Strategy::NetworkChains);
    let hoisting = chains.then(|| dp::runtime::set_hoisting(false));
    let on_network = matches!(
        strategy,
        Strategy::NetworkHoisting
            | Strategy::NetworkChains
            | Strategy::GatherFolding
            | Strategy::WholeRecurrence
    );
    let networks = dp::runtime::set_networks(on_network);
    let before = dp::runtime::network_runs();
    let mut out = common::switch_differences(s, strategy.switch(), Some(strategy.runs()));
    // The strategy ran on the network, not on the evaluator's fallback.
    if on_network && dp::runtime::network_runs() == before {
        out.push("the def never ran as its network".into());
    }
    dp::runtime::set_networks(networks);
    if let Some(h) = hoisting {
        dp::runtime::set_hoisting(h);
    }
    out
}

fn check(strategy: Strategy, cases: &[(&str, &str, Vec<String>)]) {
    let mut failures = Vec::new();
    for (label, src, lines) in cases {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        match try_setup(src, "loss", &lines) {
            Ok(s) => {
                let p = problems(&s, strategy);
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

/// A sentence classifier whose step is `tanh (cell (h, embed w))`.
fn rnn() -> String {
    format!(
        "{HEAD}learn cell : (H, E) -> H\n\
         def loss ((ws, y) : (List Word, Label)) : Float =\n\
           cross_entropy (decide (fold (\\h w -> tanh (cell (h, embed w))) zeros ws)) y"
    )
}

/// A GRU step: gates with a tuple codomain, an element bound by `let` and
/// used by two split maps, the element on the left.
fn gru() -> String {
    format!(
        "{HEAD}learn gates : (E, H) -> (H, H)\nlearn cand : (E, H) -> H\n\
         def step (h : H) (w : Word) : H =\n\
           let e = embed w in\n\
           let (z, r) = gates (e, h) in\n\
           let c = tanh (cand (e, sigmoid r * h)) in\n\
           (1.0 - sigmoid z) * h + sigmoid z * c\n\
         def loss ((ws, y) : (List Word, Label)) : Float = cross_entropy (decide (fold step zeros ws)) y"
    )
}

/// The element renamed by a `let` before the work on it.
fn renamed() -> String {
    format!(
        "{HEAD}learn cell : (H, E) -> H\n\
         def loss ((ws, y) : (List Word, Label)) : Float =\n\
           cross_entropy (decide (fold (\\h w -> let v = w in tanh (cell (h, embed v))) zeros ws)) y"
    )
}

/// An LSTM step: gates, the cell update and the output as chains; the
/// state a tuple bound by a tuple pattern.
fn lstm() -> String {
    format!(
        "{HEAD}learn gates : (H, E) -> (H, H, H, H)\n\
         def step ((c, h) : (H, H)) (w : Word) : (H, H) =\n\
           let (i, f, o, u) = gates (h, embed w) in\n\
           let c2 = sigmoid i * tanh u + sigmoid f * c in\n\
           (c2, sigmoid o * tanh c2)\n\
         def loss ((ws, y) : (List Word, Label)) : Float =\n\
           cross_entropy (decide (snd (fold step (zeros, zeros) ws))) y"
    )
}

/// A step whose split parts are all element-only but one, three parts.
const THREE: &str = "learn cell : (R[2], R[3], R[2]) -> R[3]\n\
     def loss (xs : List R[2]) : Float =\n\
       sum (fold (\\h x -> relu (cell (x, h, tanh x))) zeros xs)";

#[test]
fn hoisted_recurrences_equal_the_plain_evaluation() {
    let fold = rnn();
    let renamed = renamed();
    let gru = gru();
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
    // A program that draws, outside the step: the step is still hoisted.
    let drawing = format!(
        "{HEAD}learn cell : (H, E) -> H\n\
         def loss ((ws, y) : (List Word, Label)) : Float =\n\
           cross_entropy (decide (dropout 0.3 (fold (\\h w -> tanh (cell (h, embed w))) normal ws))) y"
    );
    let three = THREE.to_string();
    check(
        Strategy::Hoisting,
        &[
            ("fold with an embedding", &fold, sentences()),
            ("the element renamed by a let", &renamed, sentences()),
            ("gru step", &gru, sentences()),
            ("mapAccumR with a captured value", &accum, vectors()),
            ("three-part split", &three, vectors()),
            ("a program drawing outside its step", &drawing, sentences()),
        ],
    );
}

#[test]
fn hoisted_network_cells_equal_their_plain_runs() {
    let renamed = renamed();
    let lstm = lstm();
    // mapAccumL with a captured value, element-only work outside any
    // affine map, a split read twice (not fused), outputs per element.
    let accum = "learn cell : (R[3], R[2]) -> R[3]\nlearn emit : R[3] -> R[2]\nparam p : R[3]\n\
         def step (q : R[3]) (h : R[3]) (x : R[2]) : (R[3], R[2]) =\n\
           let z = cell (h, x * 2.0) in\n\
           let h2 = tanh z + q * z in\n\
           (h2, emit h2 + tanh x)\n\
         def loss (xs : List R[2]) : Float =\n\
           let (h, ys) = mapAccumL (step p) zeros xs in\n\
           sum h + sumList (map (\\y -> sum (tanh y)) ys)"
        .to_string();
    let three = THREE.to_string();
    // A module in the step whose cell captures the state: it runs in the
    // loop, though its own operand depends only on the element.
    let inner = "learn cell : (R[3], R[2]) -> R[3]\n\
         def loss (xs : List R[2]) : Float =\n\
           sum (fold (\\h x -> let k = cell (h, x) in\n\
             tanh k + sumList (map (\\y -> sum (y * x) * k) [x, x * 2.0])) zeros xs)"
        .to_string();
    // A module whose cell reads only the element: run before the loop.
    let before = "learn cell : (R[3], R[2]) -> R[3]\n\
         def loss (xs : List R[2]) : Float =\n\
           sum (fold (\\h x -> tanh (cell (h, sumList (map (\\y -> y * x) [x, x])))) zeros xs)"
        .to_string();
    // A program that draws, a param read by the step's element work.
    let drawing = "learn cell : (R[3], R[2]) -> R[3]\nparam p : R[2]\n\
         def loss (xs : List R[2]) : Float =\n\
           sum (dropout 0.5 (fold (\\h x -> tanh (cell (h, x * p))) zeros xs))"
        .to_string();
    // An unrolled cell: a constant times a param, a captured value's work.
    let unrolled = "param s : R[3, 3]\nparam theta : Float\nlearn w : R[2] -> R[3]\n\
         def loss (x : R[2]) : Float =\n\
           let b = w x in\n\
           sum (iterate 3 (\\z -> soft_threshold ((ones : R[3]) * theta) (b + s @ z)\n\
             + tanh (b * theta)) b)"
        .to_string();
    let points: Vec<String> = ["[0.5, -0.2]", "[1.0, 0.3]", "[-0.7, 0.9]", "[0.1, 0.0]"]
        .map(String::from)
        .to_vec();
    // Per-example step counts: the running examples leave the steps one by
    // one, each step reading the rows of those still running.
    let counted = "param s : R[3, 3]\nlearn w : R[2] -> R[3]\n\
         def loss ((k, x) : (Int, R[2])) : Float =\n\
           let b = w x in\n\
           sum (iterate k (\\z -> tanh (s @ z + b * 2.0) + sigmoid b) b)"
        .to_string();
    let counts: Vec<String> = [
        "[2, [0.5, -0.2]]",
        "[0, [1.0, 0.3]]",
        "[4, [-0.7, 0.9]]",
        "[1, [0.1, 0.0]]",
        "[3, [0.3, 0.6]]",
    ]
    .map(String::from)
    .to_vec();
    check(
        Strategy::NetworkHoisting,
        &[
            ("iterate's invariant work", &unrolled, points),
            ("iterate with per-example counts", &counted, counts),
            (
                "a program drawing, a param in the step",
                &drawing,
                vectors(),
            ),
            ("a module capturing the state", &inner, vectors()),
            ("a module reading only the element", &before, vectors()),
            ("fold with an embedding", &rnn(), sentences()),
            ("the element renamed by a let", &renamed, sentences()),
            ("gru step", &gru(), sentences()),
            ("lstm step, a tuple state", &lstm, sentences()),
            ("mapAccumL with a captured value", &accum, vectors()),
            ("three-part split", &three, vectors()),
        ],
    );
}

/// A whole loop as one recurrence op (`backend/recur.rs`): lengths 0 to
/// 6 (examples with no step keep their initial state; the running set
/// shrinks), every activation and none, a split over three parts, an
/// initial state shared by the examples (a param, its gradient summed),
/// a tuple state (one packed real per example), a minibatch larger than
/// the bound of other loops' hoisting.
#[test]
fn whole_recurrences_equal_their_steps() {
    let sigmoid = "learn cell : (R[2], R[3]) -> R[3]\nparam p : R[3]\n\
         def loss (xs : List R[2]) : Float = sum (fold (\\h x -> sigmoid (cell (x, h))) p xs)"
        .to_string();
    let identity = "learn cell : (R[3], R[2]) -> R[3]\n\
         def loss (xs : List R[2]) : Float = sum (tanh (fold (\\h x -> cell (h, x)) zeros xs))"
        .to_string();
    let tuple = "learn cell : ((R[2], R[1]), R[2]) -> (R[2], R[1])\n\
         def loss (xs : List R[2]) : Float =\n\
           let (a, b) = fold (\\s x -> cell (s, x)) (ones, zeros) xs in sum (tanh a) + sum b"
        .to_string();
    // More examples than hoisting's bound for other loops: one op still.
    let many: Vec<String> = (0..(dp::lower::hoist::MAX_HOIST_BATCH + 4) / 7 + 1)
        .flat_map(|_| sentences())
        .collect();
    check(
        Strategy::WholeRecurrence,
        &[
            ("tanh, an embedding", &rnn(), sentences()),
            ("more examples than the hoisting bound", &rnn(), many),
            ("relu, three parts", &THREE.to_string(), vectors()),
            ("sigmoid, a param as the initial state", &sigmoid, vectors()),
            ("no activation", &identity, vectors()),
            ("a tuple state", &tuple, vectors()),
        ],
    );
}

/// Trees of `R[2]` leaves; sizes 1 to 7.
fn trees() -> Vec<String> {
    let mut rng = Lcg(13);
    common::tree_shapes(&mut || {
        let (a, b) = (rng.range(-1.0, 1.0), rng.range(-1.0, 1.0));
        format!("{{\"leaf\": [{a:.3}, {b:.3}]}}")
    })
}

/// A TreeLSTM over trees: chains at the leaves and at every height, a
/// variable used twice, unary minus, relu, exp and Float operands.
fn treelstm() -> String {
    "learn leafgates : R[2] -> (R[3], R[3], R[3])\n\
         learn nodegates : (R[3], R[3]) -> (R[3], R[3], R[3], R[3], R[3])\n\
         def leafFn (x : R[2]) : (R[3], R[3]) =\n\
           let (i, o, u) = leafgates x in\n\
           let c = sigmoid i * tanh u in\n\
           (c, sigmoid o * tanh c)\n\
         def nodeFn ((cl, hl) : (R[3], R[3])) ((cr, hr) : (R[3], R[3])) : (R[3], R[3]) =\n\
           let (i, fl, fr, o, u) = nodegates (hl, hr) in\n\
           let c = sigmoid i * tanh u + sigmoid fl * cl + sigmoid fr * cr in\n\
           (c, sigmoid o * tanh c - relu (-c) * exp (c * c) * 0.1)\n\
         def loss (t : Tree R[2]) : Float =\n\
           let (c, h) = cata leafFn nodeFn t in\n\
           sum (h * h - c) + sum (tanh (sum c * sum h + 1.0) * 2.0)"
        .to_string()
}

#[test]
fn elementwise_chains_equal_the_plain_evaluation() {
    let lstm = lstm();
    let treelstm = treelstm();
    // An affine map under its activation (one fused op), in a recurrence
    // and at the leaves of a tree.
    let rnn = rnn();
    let treenet = "learn lf : R[2] -> R[3]\nlearn comb : (R[3], R[3]) -> R[3]\n\
         def loss (t : Tree R[2]) : Float =\n\
           sum (cata (\\x -> relu (lf x)) (\\l r -> sigmoid (comb (l, r))) t)"
        .to_string();
    let cases: [(&str, &str, Vec<String>); 4] = [
        ("lstm step", &lstm, sentences()),
        ("treelstm", &treelstm, trees()),
        ("rnn cell", &rnn, sentences()),
        ("treenet", &treenet, trees()),
    ];
    check(Strategy::Chains, &cases);
    check(Strategy::NetworkChains, &cases);
}

#[test]
fn folded_child_gathers_equal_the_plain_gathers() {
    let treelstm = treelstm();
    // Under its activation (one fused op); the children's states swapped
    // in the map's input.
    let treenet = "learn lf : R[2] -> R[3]\nlearn comb : (R[3], R[3]) -> R[3]\n\
         def loss (t : Tree R[2]) : Float =\n\
           sum (cata (\\x -> lf x) (\\l r -> tanh (comb (r, l))) t)"
        .to_string();
    // Whole tuple states packed (a block per real), a captured value.
    let pairs = "learn lf : R[2] -> (R[2], R[3])\n\
         learn comb : ((R[2], R[3]), (R[2], R[3])) -> (R[2], R[3])\n\
         def loss (t : Tree R[2]) : Float =\n\
           let s = sum (fst (lf [0.5, -0.5])) in\n\
           let (a, b) = cata lf (\\l r -> let (p, q) = comb (l, r) in (p * s, tanh q)) t in\n\
           sum a + sum (b * b)"
        .to_string();
    // Components of both children, in another order.
    let mixed = "learn lf : R[2] -> R[3]\nlearn comb : (R[3], R[3]) -> R[3]\n\
         def loss (t : Tree R[2]) : Float =\n\
           let (a, b) = cata (\\x -> (lf x, tanh (lf x)))\n\
             (\\(a, b) (c, d) -> (a * c, tanh (comb (d, b)))) t in\n\
           sum a + sum (b * a)"
        .to_string();
    let cases: [(&str, &str, Vec<String>); 4] = [
        ("treelstm", &treelstm, trees()),
        ("treenet", &treenet, trees()),
        ("tuple states", &pairs, trees()),
        ("components in another order", &mixed, trees()),
    ];
    check(Strategy::GatherFolding, &cases);
}

#[test]
fn deferred_weight_gradients_equal_the_plain_evaluation() {
    // Hoisted: the state half as one fused op (`addmm_act`), and a GRU's
    // split maps as plain products.
    let rnn = rnn();
    let gru = gru();
    // Not hoisted: `unfold` and `iterate` steps with learned pieces and a
    // `param` product, a nested recurrence inside a step, a weight used
    // both inside and after the loop.
    let generate = "learn next : R[2] -> (R[3], R[2])\nlearn out : R[3] -> R[2]\n\
         def loss (xs : List R[2]) : Float =\n\
           let s = fold (\\h x -> tanh (h + x)) zeros xs in\n\
           sumList (map (\\y -> sum (tanh (out y))) (unfold 4 next s)) + sum (snd (next s))"
        .to_string();
    let lista = "param w : R[2, 2]\nlearn shrink : R[2] -> R[2]\n\
         def inner (h : R[2]) : R[2] = fold (\\a x -> tanh (shrink (a + x))) h [h, h * 0.5]\n\
         def loss (xs : List R[2]) : Float =\n\
           sum (iterate 3 (\\h -> inner (tanh (w @ h))) (fold (\\a x -> a + x) zeros xs))"
        .to_string();
    check(
        Strategy::Deferral,
        &[
            ("rnn cell, hoisted", &rnn, sentences()),
            ("gru step, hoisted", &gru, sentences()),
            ("unfold", &generate, vectors()),
            ("iterate with a nested fold", &lista, vectors()),
        ],
    );
}
