//! Expressions at the prompt: evaluation (`value : Type`) and `:type`.
//!
//! An expression is checked in the session's scope (`types::check_expr`),
//! evaluated on a batch of one with the session's weights, and printed as
//! its JSON (section 8). A function value prints as `<function>`. `:type`
//! shows the most general type: the expression is checked as the body of a
//! throw-away definition, so it is generalised as a `def` would be.
//! A panic inside the evaluator becomes a diagnostic; it never ends the
//! session. This module does not change the session.

use dp::backend::Graph;
use dp::diagnostic::Failure;
use dp::diagnostic::{Code, Diagnostic};
use dp::ir::GlobalRef;
use dp::runtime::{self, Context};
use dp::syntax::ast::{self, DeclKind, Ident};

use super::learned::{internal_error, Learned};
use super::render::{has_function, value_line};
use super::session::Session;

/// Evaluate `expr` and render `value : Type`.
pub fn evaluate(session: &Session, learned: &Learned, expr: &ast::Expr) -> Result<String, Failure> {
    let program = &session.compiled.program;
    let typed = dp::types::check_expr(program, expr).map_err(|d| session.failure(d))?;
    if has_function(&typed.ty) {
        // The most general type, as `:type` shows it (`a -> a`); the
        // instantiated one has unsolved variables.
        return Ok(format!("<function> : {}", type_of(session, expr)?));
    }
    let ctx = Context::new(program, &learned.vocabs, &learned.weights);
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut graph = Graph::inference();
        let value = runtime::eval_closed(&ctx, &mut graph, &typed, 1)?;
        dp::codec::encode(&graph, &value, &typed.ty, &program.types, &learned.vocabs)
            .map_err(|m| Diagnostic::new(Code::RuntimeError, m))
    }));
    let rows = match run {
        Ok(r) => r.map_err(|d| session.failure(vec![d]))?,
        Err(panic) => return Err(session.failure(vec![internal_error(panic)])),
    };
    match rows.as_slice() {
        [one] => Ok(value_line(&dp::codec::format_json(one), &typed.ty)),
        _ => Err(session.failure(vec![Diagnostic::new(
            Code::RuntimeError,
            "internal error: expected one value",
        )])),
    }
}

/// The most general type of `expr`, printed.
pub fn type_of(session: &Session, expr: &ast::Expr) -> Result<String, Failure> {
    let program = &session.compiled.program;
    if let ast::ExprKind::Var(name) = &expr.kind {
        if let Some(GlobalRef::Def(id)) = program.globals.get(name) {
            if let Some(def) = program.defs.get(*id) {
                return Ok(dp::types::pretty_scheme(&def.scheme));
            }
        }
    }
    // `<it>` cannot be written, so the expression cannot refer to it.
    let name = "<it>";
    let decl = ast::Decl {
        kind: DeclKind::Def {
            name: Ident {
                name: name.to_string(),
                span: expr.span,
            },
            params: Vec::new(),
            result: None,
            body: expr.clone(),
        },
        span: expr.span,
    };
    let (extended, diags) =
        dp::types::extend_program(program, std::slice::from_ref(&decl), session.sources());
    if diags.is_empty() {
        if let Some(GlobalRef::Def(id)) = extended.globals.get(name) {
            if let Some(def) = extended.defs.get(*id) {
                return Ok(dp::types::pretty_scheme(&def.scheme));
            }
        }
    }
    let typed = dp::types::check_expr(program, expr).map_err(|d| session.failure(d))?;
    Ok(dp::types::pretty(&typed.ty))
}
