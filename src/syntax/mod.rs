//! Lexing and parsing: source text to the spanned AST.
//!
//! Entry points: [`parse_module`] for a file, [`parse_expr`] for
//! `dp run --eval`, [`parse_repl_input`] for the REPL. They take plain data
//! and return plain data (the AST and diagnostics); nothing here resolves
//! names or checks types.
pub mod ast;
pub mod depth;
pub mod lexer;
pub mod parse_errors;
pub mod parser;

pub use parser::{parse_expr, parse_module, parse_repl_input, ReplInput};

#[cfg(test)]
mod tests;
