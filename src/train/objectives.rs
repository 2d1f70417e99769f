//! The objectives of a run (spec 11.2): for each `--objective`, the def it
//! minimises and the weight tensors its step may change. A name is a
//! declared `objective` (its pieces move) or a def (every piece moves).

use crate::diagnostic::{Code, Diagnostic};
use crate::driver::Compiled;
use crate::ir::pretty::pretty;
use crate::ir::ty::Type;
use crate::ir::{GlobalRef, Program};
use crate::runtime::{function_type, Weights};

use super::trainer::Settings;

/// One objective of a run.
#[derive(Clone, Debug)]
pub struct Objective {
    /// As the run names it (`--objective`).
    pub name: String,
    /// The def it minimises.
    pub def: String,
    /// Which weight tensors (in `Weights::tensors` order) its step may
    /// change; `None`: all.
    pub moves: Option<Vec<bool>>,
}

impl Objective {
    pub fn moves(&self, slot: usize) -> bool {
        self.moves
            .as_ref()
            .is_none_or(|m| m.get(slot).copied().unwrap_or(false))
    }
}

/// The argument type the run's objectives share (the data's), each
/// checked to be a function to `Float`; the metric, if any, must be of
/// that type to `Float`.
pub fn argument(compiled: &Compiled, settings: &Settings) -> Result<Type, Diagnostic> {
    let program = &compiled.program;
    let mut arg_ty: Option<Type> = None;
    for name in std::iter::once(&settings.objective).chain(&settings.then) {
        let (arg, result) = function_type(program, &def_of(program, name))?;
        if result != Type::Float {
            return Err(Diagnostic::new(
                Code::TypeMismatch,
                format!(
                    "the objective `{name}` must return a Float, it returns `{}`",
                    pretty(&result)
                ),
            ));
        }
        match &arg_ty {
            Some(first) if *first != arg => {
                return Err(Diagnostic::new(
                    Code::TypeMismatch,
                    format!(
                        "the objectives of one run take the same data: `{}` takes `{}`, `{name}` takes `{}`",
                        settings.objective,
                        pretty(first),
                        pretty(&arg)
                    ),
                ))
            }
            _ => arg_ty = Some(arg),
        }
    }
    let arg_ty = arg_ty.unwrap_or(Type::Float);
    for metric in &settings.metrics {
        let (m_arg, m_res) = function_type(program, metric)?;
        if m_arg != arg_ty || m_res != Type::Float {
            return Err(Diagnostic::new(
                Code::TypeMismatch,
                format!(
                    "the metric `{metric}` must have type `{} -> Float`",
                    pretty(&arg_ty)
                ),
            ));
        }
    }
    Ok(arg_ty)
}

/// The def an objective name stands for: a declared objective's, or the
/// name itself.
fn def_of(program: &Program, name: &str) -> String {
    program
        .objectives
        .iter()
        .find(|o| o.name == name)
        .and_then(|o| program.defs.get(o.def))
        .map_or_else(|| name.to_string(), |d| d.name.clone())
}

/// The run's objectives, in order (checked by [`argument`]).
pub fn run(program: &Program, settings: &Settings, weights: &Weights) -> Vec<Objective> {
    std::iter::once(&settings.objective)
        .chain(&settings.then)
        .map(|name| one(program, name, weights))
        .collect()
}

/// `name` as a declared objective, or as a def moving every piece.
fn one(program: &Program, name: &str, weights: &Weights) -> Objective {
    let Some(decl) = program.objectives.iter().find(|o| o.name == name) else {
        return Objective {
            name: name.to_string(),
            def: name.to_string(),
            moves: None,
        };
    };
    let mut moves = vec![false; weights.tensors().len()];
    for r in &decl.updates {
        for slot in weights.slots_of(*r) {
            if let Some(m) = moves.get_mut(slot) {
                *m = true;
            }
        }
    }
    Objective {
        name: name.to_string(),
        def: def_of(program, name),
        moves: Some(moves),
    }
}

/// Warnings for the learned pieces no objective of the run updates (only
/// when every objective is a declared one: a def moves everything), at
/// their declarations.
pub fn unmoved_pieces(program: &Program, weights: &Weights, run: &[Objective]) -> Vec<Diagnostic> {
    if run.iter().any(|o| o.moves.is_none()) {
        return Vec::new();
    }
    let moved = |r: GlobalRef| {
        weights
            .slots_of(r)
            .any(|slot| run.iter().any(|o| o.moves(slot)))
    };
    let learned = program
        .learned
        .iter()
        .enumerate()
        .map(|(i, l)| (GlobalRef::Learned(i), &l.name, l.span));
    let params = program
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| (GlobalRef::Param(i), &p.name, p.span));
    let names: Vec<&str> = run.iter().map(|o| o.name.as_str()).collect();
    learned
        .chain(params)
        .filter(|(r, _, _)| !moved(*r))
        .map(|(_, name, span)| {
            Diagnostic::new(
                Code::PieceNotUpdated,
                format!("`{name}` is updated by no objective of this run: it stays as it is"),
            )
            .at(span, "declared here")
            .note(format!("the run's objectives: {}", names.join(", ")))
        })
        .collect()
}
