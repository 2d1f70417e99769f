//! A program's global functions as entry points: the argument and result
//! types that data is decoded and printed by (`--apply`, the objective of
//! `dp train`), and their values over a batch.

use crate::backend::Graph;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::ty::Type;
use crate::ir::{GlobalRef, Program};

use super::eval::{global_value, Context};
use super::value::{Func, Value};

/// A global function's argument and result types; it must be monomorphic.
pub fn function_type(program: &Program, name: &str) -> Result<(Type, Type), Diagnostic> {
    let ty = match program.globals.get(name) {
        Some(GlobalRef::Def(id)) => program.defs[*id].scheme.ty.clone(),
        Some(GlobalRef::Learned(id)) => {
            let p = &program.learned[*id];
            Type::func(p.domain.clone(), p.codomain.clone())
        }
        _ => {
            let d = Diagnostic::new(
                Code::UnknownName,
                format!("the program defines no function `{name}`"),
            );
            let known = program.globals.iter().filter(|(_, g)| match g {
                GlobalRef::Def(id) => {
                    matches!(
                        program.defs.get(*id).map(|d| &d.scheme.ty),
                        Some(Type::Func(..))
                    )
                }
                GlobalRef::Learned(_) => true,
                GlobalRef::Param(_) => false,
            });
            let names = known.map(|(n, _)| n.clone());
            return Err(match crate::diagnostic::suggest(name, names) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d,
            });
        }
    };
    match ty {
        Type::Func(a, b) if !has_vars(&a) && !has_vars(&b) => Ok((*a, *b)),
        Type::Func(..) => Err(Diagnostic::new(
            Code::AmbiguousType,
            format!(
                "`{name}` is polymorphic (`{}`), so its input cannot be decoded",
                crate::ir::pretty::pretty(&ty)
            ),
        )
        .help(format!(
            "annotate its parameter, e.g. `def {name} (x : T) = ...`"
        ))),
        _ => Err(Diagnostic::new(
            Code::NotAFunction,
            format!(
                "`{name}` is not a function: it has type `{}`",
                crate::ir::pretty::pretty(&ty)
            ),
        )),
    }
}

fn has_vars(ty: &Type) -> bool {
    match ty {
        Type::Var(_) => true,
        Type::List(t)
        | Type::Tree(t)
        | Type::Rose(t)
        | Type::Grid(t)
        | Type::Window(_, t)
        | Type::Scores(t) => has_vars(t),
        Type::Tuple(ts) => ts.iter().any(has_vars),
        Type::Func(a, b) => has_vars(a) || has_vars(b),
        _ => false,
    }
}

/// The value of a global function (def or learned piece) over a batch: a
/// def runs as the network it lowers to where networks are on and it can
/// (`network.rs`), else through the evaluator.
pub fn global_function(
    ctx: &Context,
    graph: &mut Graph,
    name: &str,
    batch: usize,
) -> Result<Value, Diagnostic> {
    match ctx.program.globals.get(name) {
        Some(GlobalRef::Def(id)) => match super::network::lowered(ctx.program, name) {
            Some(net) => super::network::network_value(ctx, graph, &net, batch),
            None => global_value(ctx, graph, *id, batch),
        },
        Some(GlobalRef::Learned(id)) => Ok(Value::Func(std::rc::Rc::new(Func::Learned {
            id: *id,
            batch,
        }))),
        _ => Err(Diagnostic::new(
            Code::UnknownName,
            format!("the program defines no function `{name}`"),
        )),
    }
}
