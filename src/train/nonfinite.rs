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
