//! Shared helpers of the verification tests (`tests/gradients.rs`,
//! `tests/batching.rs`, `tests/training.rs`): compile a dp program from
//! text, decode data lines by the objective's parameter type, evaluate the
//! objective per example in inference mode, take the analytic gradient of
//! the mean (or summed) objective with respect to every weight tensor from
//! the library's training step (`dp::train::Trainer::gradients`), and
//! compare it with central finite differences.

#![allow(dead_code)]

pub mod examples;

use dp::backend::{Graph, Real};
use dp::checkpoint::Checkpoint;
use dp::codec::{self, Example};
use dp::driver::{compile_source, Compiled};
use dp::ir::ty::Type;
use dp::runtime::{self, Context, Value, Vocabularies, Weights};
use dp::source::Span;
use dp::train::{Settings, Trainer};

/// A compiled program, its objective, decoded examples and vocabularies.
pub struct Setup {
    pub compiled: Compiled,
    pub objective: String,
    pub arg_ty: Type,
    pub vocabs: Vocabularies,
    pub examples: Vec<Example>,
}

/// Compile `src`; panics with the rendered diagnostics if it does not check.
pub fn compile(src: &str) -> Compiled {
    match compile_source("test.dp", src) {
        Ok(c) => c,
        Err((sources, diags)) => panic!(
            "the program does not compile:\n{}\n--- source ---\n{src}",
            dp::diagnostic::render(&diags, &sources, false)
        ),
    }
}

/// Like [`compile`], but an error is returned as rendered text.
pub fn try_compile(src: &str) -> Result<Compiled, String> {
    compile_source("test.dp", src)
        .map_err(|(sources, diags)| dp::diagnostic::render(&diags, &sources, false))
}

/// Compile, and decode `lines` (JSON, one example each) by the parameter
/// type of `objective`, growing open vocabularies as training does.
pub fn setup(src: &str, objective: &str, lines: &[&str]) -> Setup {
    try_setup(src, objective, lines).unwrap_or_else(|e| panic!("{e}\n--- source ---\n{src}"))
}

pub fn try_setup(src: &str, objective: &str, lines: &[&str]) -> Result<Setup, String> {
    setup_compiled(try_compile(src)?, objective, lines)
}

/// [`try_setup`] for a program compiled already (from a file with imports).
pub fn setup_compiled(
    compiled: Compiled,
    objective: &str,
    lines: &[&str],
) -> Result<Setup, String> {
    let (arg_ty, result) = dp::runtime::function_type(&compiled.program, objective)
        .map_err(|d| format!("{}: {}", objective, d.message))?;
    if result != Type::Float {
        return Err(format!("`{objective}` does not return a Float"));
    }
    let mut vocabs = Vocabularies::from_types(&compiled.program.types);
    let text = lines.join("\n");
    let examples = codec::decode_lines(&text, &arg_ty, &compiled.program.types, &mut vocabs, true)
        .map_err(|errs| {
            errs.iter()
                .map(|(l, e)| {
                    format!(
                        "line {l}: at {}: expected {}, found {}",
                        e.path, e.expected, e.found
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })?;
    Ok(Setup {
        compiled,
        objective: objective.to_string(),
        arg_ty,
        vocabs,
        examples,
    })
}

impl Setup {
    /// Fresh weights as `dp train` makes them (params' initialisers applied).
    pub fn weights(&self, seed: u64) -> Weights {
        match dp::train::fresh_weights(&self.compiled, &self.vocabs, seed) {
            Ok(w) => w,
            Err(f) => panic!(
                "fresh_weights failed:\n{}",
                dp::diagnostic::render(&f.diagnostics, &f.sources, false)
            ),
        }
    }

    /// Names of the weight tensors, in the order of `Weights::tensors`.
    pub fn tensor_names(&self, w: &Weights) -> Vec<String> {
        w.names(&self.compiled.program)
            .into_iter()
            .map(|n| n.name)
            .collect()
    }

    /// The objective of each example of `idx`, evaluated as one batch:
    /// returns the `[B, 1]` real in `graph`.
    pub fn objective_real(
        &self,
        w: &Weights,
        idx: &[usize],
        graph: &mut Graph,
    ) -> Result<Real, String> {
        // Each example at its position in the data, drawing as the first
        // training epoch does (as `gradients` does: finite differences see
        // the same draws).
        let positions: Vec<u64> = idx.iter().map(|&i| i as u64).collect();
        let mut ctx = Context::new(&self.compiled.program, &self.vocabs, w);
        ctx.draws.positions = &positions;
        ctx.draws.epoch = 1;
        ctx.draws.training = true;
        let refs: Vec<&Example> = idx.iter().map(|&i| &self.examples[i]).collect();
        let arg = codec::assemble(graph, &refs, &self.arg_ty, &self.compiled.program.types);
        let f = dp::runtime::global_function(&ctx, graph, &self.objective, refs.len())
            .map_err(|d| self.show(d))?;
        match runtime::apply(&ctx, graph, &f, vec![arg], Span::default()) {
            Ok(Value::Real(r)) => Ok(r),
            Ok(_) => Err("the objective did not produce reals".into()),
            Err(d) => Err(self.show(d)),
        }
    }

    fn show(&self, d: dp::diagnostic::Diagnostic) -> String {
        dp::diagnostic::render(&[d], &self.compiled.sources, false)
    }

    /// Per-example objective values of the examples `idx`, evaluated as one
    /// batch in inference mode.
    pub fn values(&self, w: &Weights, idx: &[usize]) -> Vec<f64> {
        let mut g = Graph::inference();
        let r = self
            .objective_real(w, idx, &mut g)
            .unwrap_or_else(|e| panic!("evaluation failed:\n{e}"));
        let v = g.to_vec(&r);
        assert_eq!(v.len(), idx.len(), "one objective value per example");
        v.into_iter().map(|x| x as f64).collect()
    }

    /// All example indices.
    pub fn all(&self) -> Vec<usize> {
        (0..self.examples.len()).collect()
    }

    /// The mean (or sum) of the objective over `idx` (inference, f64 sum).
    pub fn reduced(&self, w: &Weights, idx: &[usize], mean: bool) -> f64 {
        let s: f64 = self.values(w, idx).iter().sum();
        if mean {
            s / idx.len() as f64
        } else {
            s
        }
    }

    /// The reduced objective over `idx` and its gradient with respect to
    /// every weight tensor, from the library's training step itself
    /// (`train::Trainer::gradients`: one forward pass on a training graph,
    /// the mean, one backward pass); the sum's is the mean's times the
    /// number of examples. A tensor that took no part has zeros.
    pub fn gradients(&self, w: &Weights, idx: &[usize], mean: bool) -> (f64, Vec<Vec<f32>>) {
        let state = Checkpoint::new(self.vocabs.clone(), w.clone(), None, 0);
        let settings = Settings::new(&self.objective);
        let trainer = Trainer::new(&self.compiled, settings, state)
            .unwrap_or_else(|d| panic!("not an objective:\n{}", self.show(d)));
        let refs: Vec<&Example> = idx.iter().map(|&i| &self.examples[i]).collect();
        let positions: Vec<u64> = idx.iter().map(|&i| i as u64).collect();
        let (value, grads) = trainer
            .gradients_at(&refs, &positions)
            .unwrap_or_else(|s| panic!("evaluation failed:\n{}", self.show(s.diagnostic())));
        if mean {
            return (value as f64, grads);
        }
        let n = idx.len() as f32;
        let sum = grads
            .into_iter()
            .map(|g| g.into_iter().map(|x| x * n).collect())
            .collect();
        (value as f64 * n as f64, sum)
    }
}

/// A copy of `w` with entry `i` of tensor `k` moved by `delta`.
pub fn perturbed(w: &Weights, k: usize, i: usize, delta: f32) -> Weights {
    let g = Graph::inference();
    let mut w2 = w.clone();
    let t = w.tensors()[k].clone();
    let mut data = g.to_vec(&t);
    data[i] += delta;
    *w2.tensors_mut()[k] = g.from_vec(t.rows(), t.cols(), data);
    w2
}

/// Up to `n` distinct indices of `0..len`, deterministic for `seed`.
pub fn sample_indices(len: usize, n: usize, seed: u64) -> Vec<usize> {
    if len <= n {
        return (0..len).collect();
    }
    let mut rng = Lcg(seed
        .wrapping_mul(2_862_933_555_777_941_757)
        .wrapping_add(3_037_000_493));
    let mut all: Vec<usize> = (0..len).collect();
    for i in 0..n {
        let j = i + (rng.next() as usize) % (len - i);
        all.swap(i, j);
    }
    let mut out = all[..n].to_vec();
    out.sort_unstable();
    out
}

/// A tiny deterministic generator for test data.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() % (1 << 24)) as f64 / (1u64 << 24) as f64
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Options of a finite-difference check.
#[derive(Clone, Copy, Debug)]
pub struct CheckOpts {
    /// Step of the central difference.
    pub eps: f32,
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance (floor).
    pub atol: f64,
    /// Entries checked per tensor (a random subset when larger).
    pub per_tensor: usize,
    /// Seed of the weights.
    pub seed: u64,
    /// Differentiate the mean (as training does) or the sum.
    pub mean: bool,
}

impl Default for CheckOpts {
    fn default() -> Self {
        CheckOpts {
            eps: 1e-2,
            rtol: 2e-2,
            atol: 2e-3,
            per_tensor: 20,
            seed: 7,
            mean: true,
        }
    }
}

/// What a finite-difference check found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Entries compared.
    pub checked: usize,
    /// Entries skipped because the objective is not smooth within the step
    /// (the central differences with `eps` and `eps / 2` disagree: a kink
    /// of relu/abs/max/topk/thresholds was crossed).
    pub kinks: usize,
    /// Largest |numeric gradient| seen (to make sure something was tested).
    pub max_numeric: f64,
    /// Mismatches, described.
    pub failures: Vec<String>,
}

/// Central differences against the analytic gradient of the mean
/// objective over all examples, for a random subset of the entries of
/// every weight tensor.
pub fn grad_check(s: &Setup, opts: CheckOpts) -> CheckReport {
    let w = s.weights(opts.seed);
    let idx = s.all();
    let (_, analytic) = s.gradients(&w, &idx, opts.mean);
    let names = s.tensor_names(&w);
    let mut report = CheckReport::default();
    let f = |w2: &Weights| s.reduced(w2, &idx, opts.mean);
    for (k, t) in w.tensors().iter().enumerate() {
        let len = t.rows() * t.cols();
        assert_eq!(
            analytic[k].len(),
            len,
            "gradient of {} has the wrong size",
            names[k]
        );
        for i in sample_indices(len, opts.per_tensor, opts.seed + k as u64) {
            let central = |eps: f32| {
                (f(&perturbed(&w, k, i, eps)) - f(&perturbed(&w, k, i, -eps))) / (2.0 * eps as f64)
            };
            let n1 = central(opts.eps);
            let a = analytic[k][i] as f64;
            let tol = |x: f64, y: f64| opts.rtol * x.abs().max(y.abs()) + opts.atol;
            if (a - n1).abs() <= tol(a, n1) && a.is_finite() {
                report.checked += 1;
                report.max_numeric = report.max_numeric.max(n1.abs());
                continue;
            }
            // Disagreement: is the objective smooth here? A kink shows as
            // central differences that change with the step.
            let n2 = central(opts.eps / 2.0);
            let n3 = central(opts.eps / 4.0);
            let smooth = (n1 - n2).abs() <= tol(n1, n2) && (n2 - n3).abs() <= tol(n2, n3);
            if std::env::var_os("DP_GRAD_DEBUG").is_some() {
                eprintln!("{}[{i}]: analytic {a} numeric {n1} {n2} {n3}", names[k]);
            }
            if !smooth {
                report.kinks += 1;
                continue;
            }
            report.checked += 1;
            report.failures.push(format!(
                "{}[{}]: analytic {a:.6}, numeric {n1:.6} (eps/2: {n2:.6})",
                names[k], i
            ));
        }
    }
    report
}

/// Run [`grad_check`] and describe any problem (None when all is well).
pub fn grad_problems(s: &Setup, opts: CheckOpts) -> Option<String> {
    let r = grad_check(s, opts);
    let mut problems = r.failures.clone();
    if r.checked == 0 {
        problems.push("no entry could be checked".into());
    } else if r.kinks * 4 > r.checked + r.kinks {
        problems.push(format!(
            "{} of {} entries sit on kinks: choose other inputs",
            r.kinks,
            r.checked + r.kinks
        ));
    }
    if r.max_numeric < 1e-4 {
        problems.push(format!(
            "every numeric gradient is ~0 (max {:.2e}): the check tests nothing",
            r.max_numeric
        ));
    }
    (!problems.is_empty()).then(|| problems.join("\n    "))
}

/// Relative closeness: |a - b| <= rtol * max(1e-3, |a|, |b|)... with an
/// absolute floor `atol`.
pub fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    (a - b).abs() <= rtol * a.abs().max(b.abs()) + atol
}

/// Six binary trees of different shapes (sizes 1 to 7, balanced and
/// chains), each leaf from `leaf`: the data of the tree tests.
pub fn tree_shapes(leaf: &mut dyn FnMut() -> String) -> Vec<String> {
    vec![
        format!("[[{}, {}], {}]", leaf(), leaf(), leaf()),
        leaf(),
        format!("[{}, [{}, [{}, {}]]]", leaf(), leaf(), leaf(), leaf()),
        format!("[[{}, {}], [{}, {}]]", leaf(), leaf(), leaf(), leaf()),
        format!("[{}, {}]", leaf(), leaf()),
        format!(
            "[[[{}, {}], {}], [{}, [{}, [{}, {}]]]]",
            leaf(),
            leaf(),
            leaf(),
            leaf(),
            leaf(),
            leaf(),
            leaf()
        ),
    ]
}

/// Six rose trees of different shapes (a single node, a chain, wide and
/// deep ones; 1 to 9 nodes), each label from `label`: `[label, [child, ...]]`.
pub fn rose_shapes(label: &mut dyn FnMut() -> String) -> Vec<String> {
    // A shape is written with `L` for each label and `( ... )` for children.
    let shapes = [
        "L(L L(L L) L)",
        "L",
        "L(L(L(L)))",
        "L(L L L L L)",
        "L(L(L L) L(L(L) L))",
        "L(L)",
    ];
    shapes.iter().map(|s| rose_json(s, label)).collect()
}

/// A rose tree's JSON from its shape (see [`rose_shapes`]).
fn rose_json(shape: &str, label: &mut dyn FnMut() -> String) -> String {
    let mut out = String::new();
    // Each open node: has it a child yet (a comma is needed)?
    let mut open: Vec<bool> = Vec::new();
    let mut chars = shape.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            'L' => {
                if let Some(has) = open.last_mut() {
                    if *has {
                        out.push_str(", ");
                    }
                    *has = true;
                }
                out.push_str(&format!("[{}, [", label()));
                if chars.peek() == Some(&'(') {
                    chars.next();
                    open.push(false);
                } else {
                    out.push_str("]]");
                }
            }
            ')' => {
                open.pop();
                out.push_str("]]");
            }
            _ => {}
        }
    }
    out
}

/// Where the gradients `got` differ from the reference `want`, one line per
/// tensor (named by `names`): an entry differs by more than 1e-4 relative
/// to the tensor's largest reference entry (or to the entries themselves)
/// plus 1e-7, or is not finite. A last line if every reference gradient is
/// zero (the comparison would test nothing). `labels` name the two sides.
pub fn gradient_differences(
    names: &[String],
    got: &[Vec<f64>],
    want: &[Vec<f64>],
    labels: (&str, &str),
) -> Vec<String> {
    let mut out = Vec::new();
    let mut any = false;
    for (k, (g, r)) in got.iter().zip(want).enumerate() {
        let scale = r.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        any |= scale > 1e-6;
        let bad: Vec<(usize, f64, f64)> = g
            .iter()
            .zip(r)
            .enumerate()
            .filter(|(_, (b, a))| {
                (*b - *a).abs() > 1e-4 * scale.max(b.abs()).max(a.abs()) + 1e-7 || !b.is_finite()
            })
            .map(|(j, (b, a))| (j, *b, *a))
            .collect();
        if let Some(&(j, b, a)) = bad.first() {
            out.push(format!(
                "gradient of {}: {} of {} entries differ, first [{j}]: {} {b:.7}, {} {a:.7}",
                names.get(k).map_or("?", String::as_str),
                bad.len(),
                g.len(),
                labels.0,
                labels.1
            ));
        }
    }
    if !any {
        out.push("every gradient is zero: the check tests nothing".into());
    }
    out
}

/// The differences beyond float rounding between evaluating every example
/// of `s` (values, and gradients of the mean) with a runtime switch on and
/// with it off (`set` turns it on or off and returns the previous setting):
/// 1e-5 relative on values, 1e-4 relative to each tensor's gradient scale.
/// With `runs` (how often the switched path ran), also whether it ran when
/// on and did not when off.
pub fn switch_differences(
    s: &Setup,
    set: fn(bool) -> bool,
    runs: Option<fn() -> usize>,
) -> Vec<String> {
    let mut out = Vec::new();
    let w = s.weights(3);
    let all = s.all();
    let run = |on: bool| {
        let before = set(on);
        let r = (s.values(&w, &all), s.gradients(&w, &all, true));
        set(before);
        r
    };
    let count = || runs.map_or(0, |r| r());
    let before = count();
    let on = run(true);
    let between = count();
    let off = run(false);
    if runs.is_some() && between == before {
        out.push("the switched path never ran".into());
    }
    if count() != between {
        out.push("the switched path ran while off".into());
    }
    for (i, (a, b)) in on.0.iter().zip(&off.0).enumerate() {
        if (a - b).abs() > 1e-5 * a.abs().max(b.abs()) + 1e-6 {
            out.push(format!("example {i}: on {a:.7}, off {b:.7}"));
        }
    }
    let f64s = |g: &[Vec<f32>]| -> Vec<Vec<f64>> {
        g.iter()
            .map(|t| t.iter().map(|&x| x as f64).collect())
            .collect()
    };
    out.extend(gradient_differences(
        &s.tensor_names(&w),
        &f64s(&on.1 .1),
        &f64s(&off.1 .1),
        ("on", "off"),
    ));
    out
}
