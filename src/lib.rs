//! dp: a typed functional language whose programs compile to differentiable
//! graphs. See ARCHITECTURE.md for the pipeline and the code map.
//!
//! The library's entry points are re-exported here: [`Program`] (a checked
//! program, its functions and their types), [`Model`] (its weights and
//! vocabularies), [`DataSet`] (examples decoded by type), [`Trainer`]
//! (training in memory, with [`TrainSettings`]) and [`Error`]
//! (diagnostics with their sources). See the [`api`] module.

pub mod api;
pub mod backend;
pub mod checkpoint;
pub mod codec;
pub mod diagnostic;
pub mod driver;
pub mod inspect;
pub mod ir;
pub mod lower;
pub mod runtime;
pub mod source;
pub mod syntax;
pub mod train;
pub mod types;

pub use api::{DataSet, Error, Model, Program, Trainer, Validation};
pub use train::optim::OptimizerKind;
pub use train::{EpochReport, Settings as TrainSettings};
