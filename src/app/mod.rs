//! The application layer: the `dp` binary's command line (clap), its
//! terminal output (progress bars, epoch lines, stderr) and the REPL
//! (rustyline). These modules belong to the binary crate, not to the
//! library: they are clients of the library (`dp::...`), and no library
//! module can import them.

pub mod args;
pub mod cli;
pub mod inspect;
pub mod progress;
pub mod repl;
pub mod term;
