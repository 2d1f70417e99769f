//! `dp inspect`: what each part of a network does to the values flowing
//! through it, measured over data (the layer-by-layer account the seeds
//! ask for, at the measuring points a program's representation types
//! name).
//!
//! Entry point: [`inspect`], plain data out ([`Report`]); the application
//! prints it as a table or JSON. For every representation, the values
//! entering learned pieces (the probe of `runtime/probe.rs`; each element
//! of a window of it is a value): their mean
//! norm, effective rank (Roy and Vetterli 2007: the exponential of the
//! entropy of the normalised singular values of the centred values), the
//! fraction of units never non-zero and the fraction of zero entries. For
//! every weight tensor: its norm, its largest singular value, and the norm
//! of the objective's mean gradient over the data. And noise stability
//! (Arora et al. 2018): Gaussian noise of relative size 0.1 added to every
//! value of one representation, and the fraction of it left at each
//! representation and at the objective.

use std::cell::RefCell;

use crate::backend::Graph;
use crate::checkpoint::Checkpoint;
use crate::codec::{self, Example};
use crate::diagnostic::{Code, Diagnostic};
use crate::driver::Compiled;
use crate::ir::ty::{Name, Type};
use crate::runtime::probe::{Noise, Probe};
use crate::runtime::{self, function_type, global_function, Context, Vocabularies, Weights};
use crate::train::{Settings, Stop, Trainer};

/// Examples evaluated at once.
const BATCH: usize = 64;

/// The relative size of the noise injected for noise stability.
const NOISE: f32 = 0.1;

/// Rows of one representation kept for its statistics (evenly spaced
/// beyond this).
const MAX_ROWS: usize = 20_000;

/// Widest representation whose effective rank is computed (an
/// eigendecomposition of its covariance).
const MAX_RANK_DIM: usize = 1024;

/// What `dp inspect` found.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The objective measured.
    pub def: String,
    pub examples: usize,
    /// The mean objective over the data.
    pub objective: f64,
    pub representations: Vec<RepStats>,
    pub tensors: Vec<TensorStats>,
    /// Noise stability: noise injected at each representation.
    pub noise: Vec<NoiseStats>,
}

/// Gaussian noise of relative size [`NOISE`] added to every value of one
/// representation (where it enters learned pieces), and how much of it is
/// left further on (Arora et al. 2018, noise stability).
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseStats {
    /// The representation the noise is added to.
    pub at: String,
    /// The fraction of the noise left at each representation: the mean
    /// relative change of its values over the noise's relative size (1 at
    /// the noised one itself, 0 where nothing is computed from it).
    pub remains: Vec<(String, Option<f64>)>,
    /// The same for the objective.
    pub objective: Option<f64>,
}

/// One representation's values where they enter learned pieces.
#[derive(Clone, Debug, PartialEq)]
pub struct RepStats {
    pub name: String,
    pub dim: usize,
    /// How many values (rows) were seen.
    pub values: usize,
    pub mean_norm: f64,
    /// `None` when wider than [`MAX_RANK_DIM`].
    pub effective_rank: Option<f64>,
    /// Units (columns) that are zero in every value.
    pub dead_units: f64,
    /// Entries that are zero.
    pub zeros: f64,
}

/// One weight tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorStats {
    /// `cell.weight`, `embed.table`, `theta`.
    pub name: String,
    pub shape: Vec<usize>,
    pub norm: f64,
    pub top_singular: f64,
    /// The norm of the objective's mean gradient over the data.
    pub grad_norm: f64,
}

/// Measure the network of `def` (a function to `Float`) with `weights`
/// over `examples` (decoded against its argument type).
pub fn inspect(
    compiled: &Compiled,
    vocabs: &Vocabularies,
    weights: &Weights,
    def: &str,
    examples: &[Example],
) -> Result<Report, Diagnostic> {
    let program = &compiled.program;
    let subject = Subject {
        compiled,
        vocabs,
        weights,
        def,
        arg_ty: objective_argument(program, def)?,
        examples,
    };
    let clean = watch(&subject, None)?;
    let mut noise = Vec::new();
    for (name, _, _) in merged(&clean) {
        let noisy = watch(&subject, Some(&Name::from(name.as_str())))?;
        noise.push(stability(&name, &clean, &noisy));
    }
    let objective = clean.objective.iter().sum::<f64>() / examples.len().max(1) as f64;
    let representations = merged(&clean)
        .into_iter()
        .map(|(name, dim, rows)| rep_stats(name, dim, &rows))
        .collect();
    let grads = mean_gradients(compiled, vocabs, weights, def, examples)?;
    let graph = Graph::inference();
    let tensors = weights
        .names(program)
        .into_iter()
        .zip(weights.tensors())
        .zip(grads)
        .map(|((named, t), g)| {
            let values = graph.to_vec(t);
            TensorStats {
                norm: norm(&values),
                top_singular: top_singular(&values, t.rows(), t.cols()),
                grad_norm: norm(&g),
                name: named.name,
                shape: named.shape,
            }
        })
        .collect();
    Ok(Report {
        def: def.to_string(),
        examples: examples.len(),
        objective,
        representations,
        tensors,
        noise,
    })
}

/// The argument type of `def`, which must be an objective (a function to
/// `Float`).
pub fn objective_argument(program: &crate::ir::Program, def: &str) -> Result<Type, Diagnostic> {
    let (arg_ty, result_ty) = function_type(program, def)?;
    if result_ty != Type::Float {
        return Err(Diagnostic::new(
            Code::TypeMismatch,
            format!("`dp inspect` measures an objective, a function to `Float`; `{def}` is not"),
        ));
    }
    Ok(arg_ty)
}

/// What one watched evaluation over all examples saw: each value entering
/// a learned piece in evaluation order (its representation, width and
/// rows), and each example's objective.
struct Run {
    seen: Vec<(String, usize, Vec<f32>)>,
    objective: Vec<f64>,
}

/// What [`watch`] needs: the program, weights, objective and data.
struct Subject<'s> {
    compiled: &'s Compiled,
    vocabs: &'s Vocabularies,
    weights: &'s Weights,
    def: &'s str,
    arg_ty: Type,
    examples: &'s [Example],
}

/// Evaluate the objective on every example with the probe watching
/// (hoisting and fused chains off, so every learned piece's argument is
/// seen), optionally adding noise to one representation.
fn watch(s: &Subject, noise: Option<&Name>) -> Result<Run, Diagnostic> {
    let program = &s.compiled.program;
    let hoisting = runtime::set_hoisting(false);
    let chains = runtime::set_chains(false);
    let mut run = Run {
        seen: Vec::new(),
        objective: Vec::with_capacity(s.examples.len()),
    };
    let mut result = Ok(());
    for (k, chunk) in s.examples.chunks(BATCH).enumerate() {
        let probe = RefCell::new(Probe {
            seen: Vec::new(),
            noise: noise.map(|rep| Noise::new(rep.clone(), NOISE, k as u64)),
        });
        let mut ctx = Context::new(program, s.vocabs, s.weights);
        ctx.probe = Some(&probe);
        let mut graph = Graph::inference();
        let refs: Vec<&Example> = chunk.iter().collect();
        let arg = codec::assemble(&graph, &refs, &s.arg_ty, &program.types);
        let value = global_function(&ctx, &mut graph, s.def, chunk.len())
            .and_then(|f| runtime::apply(&ctx, &mut graph, &f, vec![arg], Default::default()));
        match value {
            Ok(runtime::Value::Real(r)) => run
                .objective
                .extend(graph.to_vec(&r).iter().map(|&x| f64::from(x))),
            Ok(_) => {}
            Err(d) => {
                result = Err(d);
                break;
            }
        }
        for (name, width, r) in probe.into_inner().seen {
            run.seen.push((name.to_string(), width, graph.to_vec(&r)));
        }
    }
    runtime::set_hoisting(hoisting);
    runtime::set_chains(chains);
    result.map(|()| run)
}

/// Each representation's rows, merged in order of first appearance.
fn merged(run: &Run) -> Vec<(String, usize, Vec<f32>)> {
    let mut out: Vec<(String, usize, Vec<f32>)> = Vec::new();
    for (name, dim, rows) in &run.seen {
        match out.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, _, all)) => all.extend_from_slice(rows),
            None => out.push((name.clone(), *dim, rows.clone())),
        }
    }
    out
}

/// With noise at `rep`: the fraction of it left at each representation
/// (the mean over values of `|noisy - clean| / |clean|`, over the noise's
/// relative size) and at the objective; `None` where the noisy run took
/// another path (values do not pair up).
fn stability(rep: &str, clean: &Run, noisy: &Run) -> NoiseStats {
    let mut sums: Vec<(String, f64, usize)> = Vec::new();
    let paired = clean.seen.len() == noisy.seen.len()
        && clean
            .seen
            .iter()
            .zip(&noisy.seen)
            .all(|(a, b)| a.0 == b.0 && a.2.len() == b.2.len());
    if paired {
        for ((name, dim, a), (_, _, b)) in clean.seen.iter().zip(&noisy.seen) {
            let (mut total, mut count) = (0.0, 0);
            for (ra, rb) in a.chunks((*dim).max(1)).zip(b.chunks((*dim).max(1))) {
                let base = norm(ra);
                if base > 0.0 {
                    let diff: Vec<f32> = ra.iter().zip(rb).map(|(x, y)| y - x).collect();
                    total += norm(&diff) / base;
                    count += 1;
                }
            }
            match sums.iter_mut().find(|(n, _, _)| n == name) {
                Some((_, t, c)) => {
                    *t += total;
                    *c += count;
                }
                None => sums.push((name.clone(), total, count)),
            }
        }
    }
    let rel = f64::from(NOISE);
    let at = sums
        .into_iter()
        .map(|(n, t, c)| (n, (c > 0).then(|| t / c as f64 / rel)))
        .collect();
    let pairs: Vec<f64> = clean
        .objective
        .iter()
        .zip(&noisy.objective)
        .filter(|(a, _)| a.abs() > 0.0)
        .map(|(a, b)| (b - a).abs() / a.abs())
        .collect();
    let objective =
        (paired && !pairs.is_empty()).then(|| pairs.iter().sum::<f64>() / pairs.len() as f64 / rel);
    NoiseStats {
        at: rep.to_string(),
        remains: at,
        objective,
    }
}

/// The objective's mean gradient over all examples, per weight tensor.
fn mean_gradients(
    compiled: &Compiled,
    vocabs: &Vocabularies,
    weights: &Weights,
    def: &str,
    examples: &[Example],
) -> Result<Vec<Vec<f32>>, Diagnostic> {
    let state = Checkpoint::new(vocabs.clone(), weights.clone(), None, 0);
    let trainer = Trainer::new(compiled, Settings::new(def), state)?;
    let mut sum: Vec<Vec<f32>> = Vec::new();
    for chunk in examples.chunks(BATCH) {
        let refs: Vec<&Example> = chunk.iter().collect();
        let (_, grads) = trainer.gradients(&refs).map_err(|s| match s {
            Stop::Error(d) | Stop::NonFinite(d) => d,
        })?;
        let share = chunk.len() as f32 / examples.len() as f32;
        if sum.is_empty() {
            sum = grads.iter().map(|g| vec![0.0; g.len()]).collect();
        }
        for (acc, g) in sum.iter_mut().zip(&grads) {
            acc.iter_mut().zip(g).for_each(|(a, x)| *a += share * x);
        }
    }
    if sum.is_empty() {
        sum = weights
            .tensors()
            .iter()
            .map(|t| vec![0.0; t.rows() * t.cols()])
            .collect();
    }
    Ok(sum)
}

fn norm(values: &[f32]) -> f64 {
    values
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt()
}

/// A representation's statistics from its rows (at most [`MAX_ROWS`] of
/// them, evenly spaced, are used).
fn rep_stats(name: String, dim: usize, rows: &[f32]) -> RepStats {
    let n = if dim == 0 { 0 } else { rows.len() / dim };
    let step = n.div_ceil(MAX_ROWS).max(1);
    let kept: Vec<&[f32]> = rows.chunks(dim.max(1)).step_by(step).collect();
    let m = kept.len().max(1) as f64;
    let mean_norm = kept.iter().map(|r| norm(r)).sum::<f64>() / m;
    let mut alive = vec![false; dim];
    let mut zeros = 0usize;
    for r in &kept {
        for (a, &x) in alive.iter_mut().zip(r.iter()) {
            if x != 0.0 {
                *a = true;
            } else {
                zeros += 1;
            }
        }
    }
    let dead = alive.iter().filter(|a| !**a).count();
    RepStats {
        name,
        dim,
        values: n,
        mean_norm,
        effective_rank: (dim <= MAX_RANK_DIM && !kept.is_empty())
            .then(|| effective_rank(&kept, dim)),
        dead_units: dead as f64 / dim.max(1) as f64,
        zeros: zeros as f64 / (kept.len() * dim).max(1) as f64,
    }
}

/// `exp(H(p))` for `p` the singular values of the centred rows, normalised
/// to sum 1 (1 for rank-one values, `dim` for values spread evenly).
fn effective_rank(rows: &[&[f32]], dim: usize) -> f64 {
    let m = rows.len() as f64;
    let mut mean = vec![0.0f64; dim];
    for r in rows {
        mean.iter_mut()
            .zip(r.iter())
            .for_each(|(a, &x)| *a += f64::from(x) / m);
    }
    let mut cov = nalgebra::DMatrix::<f64>::zeros(dim, dim);
    let mut centred = vec![0.0f64; dim];
    for r in rows {
        centred
            .iter_mut()
            .zip(r.iter().zip(&mean))
            .for_each(|(c, (&x, mu))| *c = f64::from(x) - mu);
        for i in 0..dim {
            let ci = centred[i];
            if ci == 0.0 {
                continue;
            }
            for j in i..dim {
                cov[(i, j)] += ci * centred[j];
            }
        }
    }
    for i in 0..dim {
        for j in 0..i {
            cov[(i, j)] = cov[(j, i)];
        }
    }
    let eigen = nalgebra::SymmetricEigen::new(cov);
    let singular: Vec<f64> = eigen
        .eigenvalues
        .iter()
        .map(|&l| l.max(0.0).sqrt())
        .collect();
    let total: f64 = singular.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let entropy: f64 = singular
        .iter()
        .map(|&s| s / total)
        .filter(|&p| p > 0.0)
        .map(|p| -p * p.ln())
        .sum();
    entropy.exp()
}

/// The largest singular value of a `rows x cols` matrix (power iteration
/// on `W^T W`; a vector or a scalar is its own norm).
fn top_singular(values: &[f32], rows: usize, cols: usize) -> f64 {
    if rows <= 1 || cols <= 1 {
        return norm(values);
    }
    let w = nalgebra::DMatrix::from_row_iterator(rows, cols, values.iter().map(|&x| f64::from(x)));
    let mut v = nalgebra::DVector::from_element(cols, 1.0 / (cols as f64).sqrt());
    let mut sigma = 0.0;
    for _ in 0..100 {
        let u = &w * &v;
        let next = w.transpose() * &u;
        let len = next.norm();
        if len == 0.0 {
            return 0.0;
        }
        let s = len.sqrt();
        v = next / len;
        if (s - sigma).abs() <= 1e-9 * s {
            return s;
        }
        sigma = s;
    }
    sigma
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_rank_counts_the_directions_used() {
        // Values along one direction: rank 1; spread over 3 axes evenly: 3.
        let line: Vec<Vec<f32>> = (0..50)
            .map(|i| vec![i as f32, 2.0 * i as f32, 0.0])
            .collect();
        let rows: Vec<&[f32]> = line.iter().map(Vec::as_slice).collect();
        assert!((effective_rank(&rows, 3) - 1.0).abs() < 1e-6);
        let axes: Vec<Vec<f32>> = (0..60)
            .map(|i| {
                let mut v = vec![0.0; 3];
                v[i % 3] = if i % 2 == 0 { 1.0 } else { -1.0 };
                v
            })
            .collect();
        let rows: Vec<&[f32]> = axes.iter().map(Vec::as_slice).collect();
        assert!(
            (effective_rank(&rows, 3) - 3.0).abs() < 0.05,
            "{}",
            effective_rank(&rows, 3)
        );
    }

    #[test]
    fn top_singular_value_of_a_known_matrix() {
        // diag(3, 1) rotated: singular values 3 and 1.
        let (c, s) = (0.6f32, 0.8f32);
        let w = [3.0 * c, -s, 3.0 * s, c];
        assert!((top_singular(&w, 2, 2) - 3.0).abs() < 1e-6);
        assert!((top_singular(&[3.0, 4.0], 1, 2) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn dead_units_and_zeros() {
        let rows = [1.0, 0.0, 0.0, 2.0, 0.0, 0.0];
        let s = rep_stats("H".into(), 3, &rows);
        assert_eq!(s.values, 2);
        assert!((s.dead_units - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.zeros - 4.0 / 6.0).abs() < 1e-12);
        assert!((s.mean_norm - 1.5).abs() < 1e-12);
    }
}

/// The report as bar charts (`dp inspect -o report.svg`): each
/// representation's effective rank against its width, the gradient norm of
/// each weight tensor, and the fraction of noise at each representation
/// left at the objective.
pub fn report_svg(r: &Report) -> Result<String, String> {
    let ranks: Vec<(String, f64)> = r
        .representations
        .iter()
        .map(|s| {
            (
                format!("{} ({} dims)", s.name, s.dim),
                s.effective_rank.unwrap_or(0.0),
            )
        })
        .collect();
    let grads: Vec<(String, f64)> = r
        .tensors
        .iter()
        .map(|t| (t.name.clone(), t.grad_norm))
        .collect();
    let noise: Vec<(String, f64)> = r
        .noise
        .iter()
        .map(|n| (format!("noise at {}", n.at), n.objective.unwrap_or(0.0)))
        .collect();
    let panels = [
        ("effective rank of each representation", ranks),
        ("gradient norm of each weight tensor", grads),
        (&*format!("fraction of noise left at `{}`", r.def), noise),
    ];
    bars_svg(&panels)
}

/// Horizontal bar charts, one panel each, stacked.
fn bars_svg(panels: &[(&str, Vec<(String, f64)>)]) -> Result<String, String> {
    use plotters::prelude::*;
    let heights: Vec<u32> = panels
        .iter()
        .map(|(_, bars)| 120 + 30 * bars.len() as u32)
        .collect();
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (760, heights.iter().sum())).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut rest = root;
        for ((title, bars), h) in panels.iter().zip(&heights) {
            let (area, below) = rest.split_vertically(*h);
            rest = below;
            let top = bars
                .iter()
                .map(|(_, v)| *v)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            let n = bars.len().max(1);
            let labels: Vec<String> = bars.iter().map(|(l, _)| l.clone()).collect();
            let mut chart = ChartBuilder::on(&area)
                .caption(*title, ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(24)
                .y_label_area_size(190)
                .build_cartesian_2d(0.0..(top * 1.1).max(1e-9), (0..n).into_segmented())
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(n)
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .draw()
                .map_err(|e| e.to_string())?;
            let style = Palette99::pick(0).filled();
            chart
                .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                    let v = if v.is_finite() { *v } else { 0.0 };
                    let mut bar = Rectangle::new(
                        [
                            (0.0, SegmentValue::Exact(i)),
                            (v, SegmentValue::Exact(i + 1)),
                        ],
                        style,
                    );
                    bar.set_margin(4, 4, 0, 0);
                    bar
                }))
                .map_err(|e| e.to_string())?;
        }
        rest.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
