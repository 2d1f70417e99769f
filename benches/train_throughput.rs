//! Training throughput of dp against hand-written dfdx (DESIGN.md,
//! "Benchmarks"). Not a test: nothing is asserted, the figures are printed
//! (and recorded in docs/benchmarks.md by hand).
//!
//!     CARGO_TARGET_DIR=/work/target cargo bench --bench train_throughput
//!
//! Models (same sizes and optimizer on both sides, Adam lr 1e-3, one
//! forward + backward + update per minibatch):
//! (a) the spec's sentence classifier: `fold` of `tanh (cell (h, embed w))`,
//!     then an affine map to 2 labels; vocabulary 1000 (+ `<unk>`),
//!     embedding 32, hidden 128, sequences of 50 tokens, batch 32 (and 1);
//! (b) a TreeNet: `cata` with leaves `tanh (leafmap (embed w))` and nodes
//!     `tanh (combine (l, r))`, then an affine map to 5 classes; embedding
//!     300, hidden 150, batch 25 random binary trees of 10-28 leaves.
//!
//! dp is timed by its own epoch figure (`EpochReport::examples_per_second`:
//! the minibatch loop only, data decoded beforehand, no validation); dfdx is
//! timed over the same loop (shuffle, batch assembly, step). The two
//! alternate epoch by epoch (`ROUNDS` measured epochs each, every dp run
//! after a warm-up epoch of its own); the median and the best epoch are
//! reported (on a shared machine the best is the closer to unloaded speed).
//!
//! Environment: `DP_BENCH_QUICK=1` shrinks the data sets (smoke run);
//! `DP_BENCH_ONLY=rnn|rnn32|rnn1|tree` runs one model (or one batch size); `DP_BENCH_SIDE=dp|dfdx` runs
//! one implementation (for profiling).

#[path = "baseline/init.rs"]
mod init;
#[path = "baseline/rnn.rs"]
mod rnn;
#[path = "baseline/treenet.rs"]
mod treenet;

use std::path::PathBuf;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value as Json};

use treenet::Tree;

/// Words in the data; dp's open vocabulary adds `<unk>`, so both sides
/// have `VOCAB` embedding rows.
const WORDS: usize = 1000;
const VOCAB: usize = WORDS + 1;
const SEQ_LEN: usize = 50;
/// Measured epochs per implementation and configuration.
const ROUNDS: usize = 5;
const LR: f32 = 1e-3;

type SeqExample = (Vec<usize>, usize);
type TreeExample = (Tree, usize);

fn main() {
    let quick = std::env::var("DP_BENCH_QUICK").is_ok_and(|v| v != "0");
    let only = std::env::var("DP_BENCH_ONLY").unwrap_or_default();
    let scale = |n: usize| if quick { (n / 8).max(32) } else { n };
    let mut rows: Vec<Row> = Vec::new();
    println!(
        "train_throughput: {} measured epochs after 1 warm-up, dfdx and dp alternating; {} core(s)",
        ROUNDS,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    if only.is_empty() || only.starts_with("rnn") {
        let mut rng = StdRng::seed_from_u64(1);
        let seqs: Vec<SeqExample> = (0..scale(2048))
            .map(|_| {
                let ws = (0..SEQ_LEN).map(|_| rng.gen_range(0..WORDS)).collect();
                (ws, rng.gen_range(0..rnn::LABELS))
            })
            .collect();
        let small = &seqs[..scale(512)];
        let data32: Vec<Json> = seqs.iter().map(seq_json).collect();
        let data1: Vec<Json> = small.iter().map(seq_json).collect();
        let program = "benches/programs/rnn.dp";

        if only != "rnn1" {
            let mut m32 = rnn::Rnn::<VOCAB>::new(0, LR as f64);
            let (d32, p32) = paired(&seqs, &data32, program, 32, |b| m32.train_step(b));
            rows.push(Row::new("(a) RNN", "dfdx", 32, seqs.len(), &d32));
            rows.push(Row::new("(a) RNN", "dp", 32, seqs.len(), &p32));
        }
        if only != "rnn32" {
            let mut m1 = rnn::Rnn::<VOCAB>::new(0, LR as f64);
            let (d1, p1) = paired(small, &data1, program, 1, |b| m1.train_step(b));
            rows.push(Row::new("(a) RNN", "dfdx", 1, small.len(), &d1));
            rows.push(Row::new("(a) RNN", "dp", 1, small.len(), &p1));
        }
    }

    if only.is_empty() || only == "tree" {
        let mut rng = StdRng::seed_from_u64(2);
        let trees: Vec<TreeExample> = (0..scale(1000))
            .map(|_| {
                let n = rng.gen_range(10..=28);
                let t = random_tree(&mut rng, n);
                (t, rng.gen_range(0..treenet::CLASSES))
            })
            .collect();
        let data: Vec<Json> = trees.iter().map(tree_example_json).collect();
        let mut m = treenet::TreeNet::<VOCAB>::new(0, LR as f64);
        let program = "benches/programs/treenet.dp";
        let (d, p) = paired(&trees, &data, program, 25, |b| m.train_step(b));
        rows.push(Row::new("(b) TreeNet", "dfdx", 25, trees.len(), &d));
        rows.push(Row::new("(b) TreeNet", "dp", 25, trees.len(), &p));
    }

    print_table(&rows);
}

/// One line of the result table.
struct Row {
    model: &'static str,
    who: &'static str,
    batch: usize,
    examples: usize,
    median: f64,
    best: f64,
    all: Vec<f64>,
}

impl Row {
    fn new(
        model: &'static str,
        who: &'static str,
        batch: usize,
        examples: usize,
        eps: &[f64],
    ) -> Row {
        let mut sorted = eps.to_vec();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
        let row = Row {
            model,
            who,
            batch,
            examples,
            median,
            best: sorted.last().copied().unwrap_or(f64::NAN),
            all: eps.to_vec(),
        };
        println!(
            "  {:<12} {:<5} batch {:>2}: {:>8.1} examples/s (epochs: {})",
            model,
            who,
            batch,
            median,
            fmt_list(&row.all)
        );
        row
    }
}

fn fmt_list(xs: &[f64]) -> String {
    xs.iter()
        .map(|x| format!("{x:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn find<'a>(rows: &'a [Row], model: &str, who: &str, batch: usize) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.model == model && r.who == who && r.batch == batch)
}

fn print_table(rows: &[Row]) {
    println!();
    println!("| model | implementation | batch | examples/epoch | examples/s (median) | examples/s (best) | epochs |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | --- |");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.1} | {} |",
            r.model,
            r.who,
            r.batch,
            r.examples,
            r.median,
            r.best,
            fmt_list(&r.all)
        );
    }
    println!();
    println!("| comparison | figure (median, best) | target |");
    println!("| --- | ---: | --- |");
    for (model, batch) in [("(a) RNN", 32), ("(b) TreeNet", 25)] {
        if let (Some(d), Some(p)) = (
            find(rows, model, "dfdx", batch),
            find(rows, model, "dp", batch),
        ) {
            println!(
                "| {model}, batch {batch}: dp slowdown (dfdx ex/s ÷ dp ex/s) | {:.2}×, {:.2}× | ≤ 1.3× |",
                d.median / p.median,
                d.best / p.best
            );
        }
    }
    for who in ["dp", "dfdx"] {
        if let (Some(b32), Some(b1)) = (
            find(rows, "(a) RNN", who, 32),
            find(rows, "(a) RNN", who, 1),
        ) {
            println!(
                "| (a) RNN, {who}: batched speedup (ex/s at batch 32 ÷ ex/s at batch 1) | {:.2}×, {:.2}× | {} |",
                b32.median / b1.median,
                b32.best / b1.best,
                if who == "dp" { "≥ 5×" } else { "(reference)" }
            );
        }
    }
}

/// `ROUNDS` rounds, each one measured dfdx epoch then one measured dp epoch
/// (after a warm-up epoch of its own), so that the load of a shared machine
/// falls on both alike. Returns the examples/second of each round.
fn paired<T>(
    data: &[T],
    values: &[Json],
    program: &str,
    batch: usize,
    mut step: impl FnMut(&[&T]) -> f32,
) -> (Vec<f64>, Vec<f64>) {
    let side = std::env::var("DP_BENCH_SIDE").unwrap_or_default();
    let (run_dfdx, run_dp) = (side != "dp", side != "dfdx");
    let (mut dfdx, mut dp) = (Vec::new(), Vec::new());
    // The baseline's warm-up epoch.
    if run_dfdx {
        dfdx_epoch(data, batch, 0, &mut step);
    }
    for round in 1..=ROUNDS {
        if run_dfdx {
            dfdx.push(dfdx_epoch(data, batch, round as u64, &mut step));
        }
        if !run_dp {
            continue;
        }
        if let Some(&eps) = bench_dp(program, values, batch, 2).last() {
            dp.push(eps);
        }
    }
    (dfdx, dp)
}

/// Examples per second of one epoch of the dfdx baseline (shuffled order,
/// batch assembly and the training steps).
fn dfdx_epoch<T>(data: &[T], batch: usize, seed: u64, step: &mut impl FnMut(&[&T]) -> f32) -> f64 {
    let started = Instant::now();
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let mut total = 0.0f64;
    for chunk in order.chunks(batch) {
        let examples: Vec<&T> = chunk.iter().map(|&i| &data[i]).collect();
        total += step(&examples) as f64 * examples.len() as f64;
    }
    let eps = data.len() as f64 / started.elapsed().as_secs_f64();
    assert!(total.is_finite(), "dfdx baseline diverged");
    eps
}

/// dp's own examples/second for `epochs` epochs, the first dropped as
/// warm-up: the program trained through the library's `Trainer` on data
/// built here (decoded once, growing the open vocabulary as `dp train`).
fn bench_dp(program: &str, values: &[Json], batch: usize, epochs: usize) -> Vec<f64> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(program);
    let run = || -> Result<Vec<f64>, dp::Error> {
        let program = dp::Program::from_file(&path)?;
        let data = program.growing_data_from_values("loss", values)?;
        let model = dp::Model::fresh_for(&program, &data, 0)?;
        let mut settings = dp::TrainSettings::new("loss");
        settings.batch = batch;
        settings.lr = Some(LR);
        let mut trainer = dp::Trainer::new(&program, model, settings)?;
        let mut eps = Vec::new();
        for _ in 0..epochs {
            eps.push(trainer.epoch(&data, None, |_| {})?.examples_per_second);
        }
        Ok(eps.into_iter().skip(1).collect())
    };
    run().unwrap_or_else(|e| {
        eprintln!("dp: {e}");
        Vec::new()
    })
}

fn word(w: usize) -> String {
    format!("w{w}")
}

fn seq_json(ex: &SeqExample) -> Json {
    let ws: Vec<String> = ex.0.iter().map(|&w| word(w)).collect();
    let label = ["neg", "pos"][ex.1];
    json!([ws, label])
}

fn tree_json(t: &Tree) -> Json {
    match t {
        Tree::Leaf(w) => Json::String(word(*w)),
        Tree::Node(l, r) => json!([tree_json(l), tree_json(r)]),
    }
}

fn tree_example_json(ex: &TreeExample) -> Json {
    json!([tree_json(&ex.0), format!("c{}", ex.1)])
}

/// A random binary tree with `n` leaves: the leaves are split at a uniform
/// point, recursively; the words are uniform.
fn random_tree(rng: &mut StdRng, n: usize) -> Tree {
    if n == 1 {
        return Tree::Leaf(rng.gen_range(0..WORDS));
    }
    let k = rng.gen_range(1..n);
    let l = random_tree(rng, k);
    let r = random_tree(rng, n - k);
    Tree::Node(Box::new(l), Box::new(r))
}
