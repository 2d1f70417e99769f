//! Every bundled example's objective run as the network it lowers to
//! (`runtime/network.rs`) against the evaluator, the reference: the same
//! values and gradients (1e-5 relative on values, 1e-4 relative to each
//! tensor's gradient scale) on the first examples of its training data.
//! The snapshot lists which examples run as networks and why the others
//! do not. (`tests/batching.rs` compares the two on programs built on every
//! batching mechanism as well.)

mod common;

use expect_test::expect;

/// The example's training data and objective def, from its `dp train`
/// comment (a declared objective, `objective disc = d_loss ...`, by its
/// def).
fn training_of(src: &str) -> Option<(String, String)> {
    let word_after = |key: &str| {
        let at = src.find(key)? + key.len();
        Some(src[at..].split_whitespace().next()?.to_string())
    };
    let objective = word_after("--objective ").unwrap_or_else(|| "loss".into());
    let def = word_after(&format!("\nobjective {objective} = ")).unwrap_or(objective);
    Some((word_after("--data ")?, def))
}

#[test]
fn every_example_runs_as_its_network_with_the_evaluators_values() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files: Vec<_> = std::fs::read_dir(format!("{root}/examples"))
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dp"))
        .collect();
    files.sort();
    let (mut report, mut failures) = (Vec::new(), Vec::new());
    for path in files {
        let name = path
            .file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into());
        let src = std::fs::read_to_string(&path).expect("an example");
        let Some((data, objective)) = training_of(&src) else {
            report.push(format!("{name}: no training data"));
            continue;
        };
        let text = std::fs::read_to_string(format!("{root}/{data}")).expect("its data");
        let lines: Vec<&str> = text.lines().take(6).collect();
        let compiled = dp::driver::compile_file(&path)
            .map_err(|(sources, d)| dp::diagnostic::render(&d, &sources, false));
        let s = match compiled.and_then(|c| common::setup_compiled(c, &objective, &lines)) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let program = &s.compiled.program;
        let net = dp::lower::lower_def(program, &objective).expect("it lowers");
        if !net.body.executable() {
            report.push(format!("{name}: {objective} runs on the evaluator"));
            continue;
        }
        let before = dp::runtime::network_runs();
        let differences = common::switch_differences(&s, dp::runtime::set_networks, None);
        if dp::runtime::network_runs() == before {
            failures.push(format!("{name}: the network never ran"));
        }
        if !differences.is_empty() {
            failures.push(format!("{name}:\n    {}", differences.join("\n    ")));
        }
        report.push(format!("{name}: {objective} runs as its network"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    expect![[r#"
        arith: loss runs as its network
        caption: loss runs as its network
        char_sample: loss runs as its network
        depth_tagger: loss runs as its network
        digits: loss runs as its network
        dropout: loss runs as its network
        dyck_lm: loss runs as its network
        gan: d_loss runs as its network
        kim_cnn: loss runs as its network
        kmeans: loss runs as its network
        lista: loss2 runs as its network
        listops_nodes: loss runs as its network
        listops_treelstm: loss runs as its network
        motif_conv: loss runs as its network
        nnsc: loss runs as its network
        occurs_later: loss runs as its network
        occurs_later_forward: loss runs as its network
        remember_first: loss runs as its network
        residual: loss runs as its network
        reverse_seq2seq: loss runs as its network
        sentiment: loss runs as its network
        transformer: loss runs as its network
        vae: loss runs as its network"#]]
    .assert_eq(&report.join("\n"));
}

/// Ops that run only where a guard lets them (`if`, the right side of
/// `&&` and `||`: the branch cells of a switch) never run on the other
/// examples: `head []` is an error.
#[test]
fn guarded_ops_run_only_where_the_guard_lets_them() {
    let branches = "param p : Float\n\
               def loss (xs : List Float) : Float =\n\
                 if length xs > 0 && head xs * p > 0.0 then head xs * p\n\
                 else if length xs == 0 || last xs < 0.0 then p * p else p";
    // Only `&&` and `||` guard an op (the branches are literals).
    let operators = "param p : Float\n\
               def loss (xs : List Float) : Float =\n\
                 (if length xs > 0 && head xs > 0.0 then 1.0 else 0.5)\n\
                 * (if length xs == 0 || last xs < 1.0 then 2.0 else 3.0) * p";
    let lines = ["[]", "[1.0, 2.0]", "[-1.0]", "[0.5, -2.0]", "[]", "[3.0]"];
    for src in [branches, operators] {
        let s = common::setup(src, "loss", &lines);
        let before = dp::runtime::network_runs();
        let differences = common::switch_differences(&s, dp::runtime::set_networks, None);
        assert!(differences.is_empty(), "{}", differences.join("\n"));
        assert!(
            dp::runtime::network_runs() > before,
            "the network never ran"
        );
    }
}
