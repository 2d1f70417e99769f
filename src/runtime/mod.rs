//! The batched runtime: values, vocabularies, weights, the evaluator and
//! the builtins.
pub mod value;
pub mod vocab;
pub mod weights;

pub use value::Value;
pub use vocab::Vocabularies;
pub use weights::Weights;
