//! The batched runtime: values, vocabularies, weights, the evaluator and
//! the builtins.
pub mod batch;
mod builtins;
mod chains;
mod combinators;
pub mod eval;
mod globals;
mod hoist;
mod indices;
pub mod layout;
mod learned;
mod lists;
mod locals;
pub mod network;
mod prims;
pub mod probe;
pub mod random;
mod roses;
mod tensors;
#[cfg(test)]
mod tests;
mod trees;
pub mod value;
pub mod vocab;
pub mod weights;
mod windows;

pub use chains::{chain_runs, set_chains};
pub use eval::{apply, apply_watching, eval_closed, global_value, Context};
pub use globals::{function_type, global_function};
pub use hoist::{hoisted_runs, set_hoisting, set_whole_recurrences, whole_runs};
pub use network::{network_runs, set_networks};
pub use trees::{folded_gathers, set_gather_folding};
pub use value::Value;
pub use vocab::Vocabularies;
pub use weights::Weights;
