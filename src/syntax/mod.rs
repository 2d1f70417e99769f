//! Lexing and parsing: source text to the spanned AST.
pub mod ast;

/// Placeholder until the parser lands.
pub fn parse_module(
    _source: crate::source::SourceId,
    _text: &str,
) -> (ast::Module, Vec<crate::diagnostic::Diagnostic>) {
    (ast::Module { decls: Vec::new() }, Vec::new())
}

/// Placeholder until the parser lands.
pub fn parse_expr(
    _source: crate::source::SourceId,
    _text: &str,
) -> (Option<ast::Expr>, Vec<crate::diagnostic::Diagnostic>) {
    (None, Vec::new())
}
