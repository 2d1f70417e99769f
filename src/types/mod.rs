//! Name resolution and type checking: AST to typed IR.
pub mod ty;

/// Placeholder until the checker lands (replaced by types/pretty.rs).
pub fn pretty(ty: &ty::Type) -> String {
    format!("{ty:?}")
}

/// Placeholder until the checker lands.
pub fn pretty_scheme(s: &crate::ir::Scheme) -> String {
    pretty(&s.ty)
}

/// Placeholder until the checker lands.
pub fn check_program(
    _modules: &[(crate::source::SourceId, crate::syntax::ast::Module)],
    _sources: &crate::source::SourceMap,
) -> (crate::ir::Program, Vec<crate::diagnostic::Diagnostic>) {
    (crate::ir::Program::default(), Vec::new())
}

/// Placeholder until the checker lands.
pub fn check_expr(
    _program: &crate::ir::Program,
    _expr: &crate::syntax::ast::Expr,
) -> Result<crate::ir::Expr, Vec<crate::diagnostic::Diagnostic>> {
    Err(Vec::new())
}
