//! Name resolution and type checking: AST to typed IR.
pub mod ty;
