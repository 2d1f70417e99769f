//! When training meets a non-finite objective or gradient: what became
//! non-finite and where (the def, found by re-running the batch with the
//! evaluator watching each application; or the weight whose gradient it
//! is), as one diagnostic naming epoch and batch.
//!
//! The step that met it changes no weight, so the weights of the last
//! completed epoch are finite; `train` saves those to `--save`.

use crate::backend::Graph;
use crate::codec::{self, Example, Printed};
use crate::diagnostic::{Code, Diagnostic};
use crate::driver::Compiled;
use crate::ir::ty::Type;
use crate::runtime::global_function;
use crate::runtime::{self, Context};
use crate::source::Span;

/// What a training step found non-finite.
#[derive(Clone, Debug, PartialEq)]
pub enum NonFinite {
    /// The batch's mean objective; the def whose value first became
    /// non-finite, where one could be found.
    Objective {
        value: f32,
        def: Option<(String, Span)>,
    },
    /// The gradient of a weight tensor (`cell.weight`, `theta`).
    Gradient { value: f32, tensor: String },
}

/// The first value of `g` that is not finite, if any. Checked in sixteen
/// lanes of `x * 0` (zero for a finite `x`, NaN for an infinity or NaN),
/// which the compiler vectorises; only a gradient that fails is searched.
/// Every weight's gradient is checked every step: at batch 1 the scalar
/// search was a tenth of the RNN's time.
pub fn first_non_finite(g: &[f32]) -> Option<f32> {
    const LANES: usize = 16;
    let mut lanes = [0.0f32; LANES];
    let chunks = g.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (l, &x) in lanes.iter_mut().zip(chunk) {
            *l += x * 0.0;
        }
    }
    let finite = lanes.iter().all(|&l| l == 0.0) && rest.iter().all(|x| x.is_finite());
    if finite {
        return None;
    }
    g.iter().copied().find(|x| !x.is_finite())
}

/// Where in training: 1-based epoch and batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct At {
    pub epoch: usize,
    pub batch: usize,
}

impl NonFinite {
    pub fn diagnostic(&self, at: At) -> Diagnostic {
        let when = format!("in epoch {}, batch {}", at.epoch, at.batch);
        let show = |v: f32| Printed::Real(v).to_json_text();
        match self {
            NonFinite::Objective { value, def } => {
                let d = Diagnostic::new(
                    Code::RuntimeError,
                    format!("the objective became {} {when}", show(*value)),
                )
                .note("training stopped; the weights are those before this batch")
                .help(
                    "lower the learning rate (--lr) or check the objective for log/sqrt of \
                     non-positive values",
                );
                match def {
                    Some((name, span)) => d.at(
                        *span,
                        format!("`{name}` is the first def whose value became non-finite"),
                    ),
                    None => d,
                }
            }
            NonFinite::Gradient { value, tensor } => Diagnostic::new(
                Code::RuntimeError,
                format!("the gradient of `{tensor}` became {} {when}", show(*value)),
            )
            .note("training stopped; the weights are those before this batch")
            .help(
                "the objective is finite but not differentiable there (sqrt or log at 0?); \
                 lower the learning rate (--lr) or keep the argument away from the edge",
            ),
        }
    }
}

/// The def whose value first became non-finite when `objective` is applied
/// to `examples` (evaluated again, watching every application).
pub fn locate(
    compiled: &Compiled,
    ctx: &Context,
    objective: &str,
    examples: &[&Example],
    arg_ty: &Type,
) -> Option<(String, Span)> {
    let program = &compiled.program;
    let mut graph = Graph::inference();
    let arg = codec::assemble(&graph, examples, arg_ty, &program.types);
    // On the evaluator (the def's IR, not its network), which can name
    // the lambda whose application went non-finite.
    let networks = runtime::set_networks(false);
    let f = global_function(ctx, &mut graph, objective, examples.len());
    let watched = f.map(|f| runtime::apply_watching(ctx, &mut graph, &f, vec![arg]));
    runtime::set_networks(networks);
    let (_, span) = watched.ok()?;
    let def = program.def_at(span?)?;
    Some((def.name.clone(), def.span))
}

#[cfg(test)]
mod tests {
    use super::first_non_finite;

    /// A non-finite value anywhere (in a lane, in the remainder, among
    /// huge finite ones) is found, and it is the first one.
    #[test]
    fn finds_the_first_non_finite_value() {
        let check = |len: usize, bad: &[(usize, f32)], want: Option<f32>| {
            let mut g: Vec<f32> = (0..len).map(|i| (i as f32 - 20.0) * 1e37).collect();
            for &(at, v) in bad {
                g[at] = v;
            }
            let got = first_non_finite(&g);
            assert_eq!(
                got.map(f32::to_bits),
                want.map(f32::to_bits),
                "{len} {bad:?}"
            );
        };
        check(0, &[], None);
        check(40, &[], None);
        check(40, &[(3, f32::NAN)], Some(f32::NAN));
        check(
            40,
            &[(17, f32::INFINITY), (30, f32::NAN)],
            Some(f32::INFINITY),
        );
        check(40, &[(39, f32::NEG_INFINITY)], Some(f32::NEG_INFINITY));
        check(7, &[(6, f32::NAN)], Some(f32::NAN));
        check(32, &[(31, f32::MAX), (0, f32::MIN)], None);
    }
}
