//! Name resolution and type checking: AST to typed IR.
//!
//! Entry points:
//! - [`check_program`]: all modules of a program (one flat namespace);
//! - [`extend_program`]: declarations added to a checked program (REPL);
//! - [`check_expr`]: an expression in a program's global scope
//!   (`--eval`, the REPL), its type closed by defaulting;
//! - [`type_of_expr`]: an expression's most general type (`:type`);
//! - [`pretty`] / [`pretty_scheme`]: canonical type printing;
//! - [`signatures`]: the `name : Type` lines of `dp check`.
//!
//! Code map: `resolve` (type expressions, type declarations, suggestions),
//! `graph` (def references, cycles), `program` (declaration order and
//! registration), `decls` (one def / learn / param), `infer` + `apply`
//! (expressions), `pending` + `special` (operators and builtins decided
//! late), `unify` (substitution and constraints), `errors` (messages),
//! `lower` (defaults, generalisation, zonking to IR), `builtins` (schemes),
//! `pretty`, `family` (families of learned pieces, expanded before
//! checking). Decisions are documented in `docs/types.md`.

mod apply;
mod builtins;
mod decls;
mod errors;
mod family;
mod graph;
mod infer;
mod lower;
mod pending;
mod program;
mod resolve;
mod scope;
mod special;
mod unify;

#[cfg(test)]
mod tests;

use crate::diagnostic::Diagnostic;
use crate::ir::{self, Program};
use crate::source::{SourceId, SourceMap};
use crate::syntax::ast;

pub use crate::ir::pretty::{pretty, pretty_scheme};
pub use graph::free_names;

/// Checks a whole program. `modules` share one namespace; `Import`
/// declarations are ignored (the driver resolved them).
pub fn check_program(
    modules: &[(SourceId, ast::Module)],
    sources: &SourceMap,
) -> (Program, Vec<Diagnostic>) {
    let _ = sources;
    let decls: Vec<&ast::Decl> = modules.iter().flat_map(|(_, m)| m.decls.iter()).collect();
    program::extend(&Program::default(), &decls)
}

/// Adds declarations to a checked program (the REPL). A new value name
/// (def, learned piece, param) shadows an older one: later code sees the
/// new one, existing defs keep theirs (as in GHCi). Type names cannot be
/// redefined (`DuplicateName`; the REPL's `:reload` starts afresh).
pub fn extend_program(
    program: &Program,
    decls: &[ast::Decl],
    sources: &SourceMap,
) -> (Program, Vec<Diagnostic>) {
    let _ = sources;
    let decls: Vec<&ast::Decl> = decls.iter().collect();
    program::extend(program, &decls)
}

/// Checks an expression in `program`'s global scope. Its type is closed:
/// remaining type variables are defaulted (representation: `Float`,
/// integer literal: `Int`, others `()`).
pub fn check_expr(program: &Program, expr: &ast::Expr) -> Result<ir::Expr, Vec<Diagnostic>> {
    let mut env = program::env_of(program);
    let mut c = infer::Checker::new(&mut env);
    let e = c.infer(expr);
    let (_, e) = c.finish(e, false);
    let mut diags = c.diags;
    diags.extend(env.types.diags);
    if diags.is_empty() {
        Ok(e)
    } else {
        Err(diags)
    }
}

/// The most general type of an expression (for the REPL's `:type`):
/// like [`check_expr`] but generalised instead of defaulted, so `map`
/// prints as `(a -> b) -> List a -> List b`.
pub fn type_of_expr(program: &Program, expr: &ast::Expr) -> Result<ir::Scheme, Vec<Diagnostic>> {
    let mut env = program::env_of(program);
    let mut c = infer::Checker::new(&mut env);
    let e = c.infer(expr);
    let (scheme, _) = c.finish(e, true);
    let mut diags = c.diags;
    diags.extend(env.types.diags);
    if diags.is_empty() {
        Ok(scheme)
    } else {
        Err(diags)
    }
}

/// `name : Type` for each def, in declaration order (imported modules
/// first, as the driver passes them), one per line. With
/// `source`, only the defs written in that file.
pub fn signatures(program: &Program, source: Option<SourceId>) -> String {
    program
        .defs
        .iter()
        .filter(|d| source.is_none_or(|s| d.span.source == s))
        .map(|d| format!("{} : {}\n", d.name, pretty_scheme(&d.scheme)))
        .collect()
}
