//! Lexing and parsing: source text to the spanned AST.
pub mod ast;
