//! The batched runtime: values, the evaluator and the builtins.
pub mod value;
