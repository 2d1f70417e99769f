//! The public API, first half: a checked program (from a file, or from
//! source text with a resolver for its imports), its functions and their
//! types; a model (its vocabularies and weights: fresh from a seed, loaded,
//! saved); and one error type that carries the diagnostics with their
//! sources and renders them. `dp`'s command line and REPL stand on the
//! same modules. Nothing here writes to a terminal.
//!
//! Loading and checking recurse over the user's program, so they run on
//! the driver's big-stack thread: a caller's thread never overflows where
//! `dp` would not.
//!
//! ```
//! let program = dp::Program::from_source(
//!     "inc.dp",
//!     "def inc (x : Int) : Int = x + 1\ndef twice (f : Int -> Int) (x : Int) : Int = f (f x)",
//! )
//! .expect("a well-typed program");
//! assert_eq!(program.signatures(), ["inc : Int -> Int", "twice : (Int -> Int) -> Int -> Int"]);
//! assert_eq!(
//!     program.function_type("inc").expect("a function"),
//!     ("Int".to_string(), "Int".to_string())
//! );
//! ```

use std::fmt;
use std::path::Path;

use crate::diagnostic::{render, Diagnostic, Failure};
use crate::driver::{self, Compiled, Resolver};
use crate::ir::pretty::pretty;

mod data;
pub mod eval;
mod model;
mod train;

pub use data::DataSet;
pub use model::Model;
pub use train::{Trainer, Validation};

/// Why a program, its data or its weights could not be used: diagnostics
/// with the sources their spans point into.
///
/// ```
/// let err = dp::Program::from_source("bad.dp", "def x : Int = 1 + true").unwrap_err();
/// assert_eq!(err.diagnostics()[0].code.as_str(), "E0204");
/// assert!(err.to_string().contains("bad.dp:1:"));
/// ```
pub struct Error {
    failure: Failure,
}

impl Error {
    /// The diagnostics, in the order the stages found them.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.failure.diagnostics
    }

    /// The diagnostics rendered as `dp` prints them (`color` for a terminal).
    pub fn render(&self, color: bool) -> String {
        render(&self.failure.diagnostics, &self.failure.sources, color)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        e.failure
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        Error { failure }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render(false).trim_end())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// A parsed and type-checked program with the sources its spans point into.
pub struct Program {
    compiled: Compiled,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("signatures", &self.signatures())
            .finish()
    }
}

/// A value built on a worker of dp's pool and handed back whole.
struct Handed<T>(T);

// SAFETY: a `Handed` value crosses between the caller's thread and a
// worker of dp's pool while the other one waits (`install` returns only
// when the worker is done): never two threads at a time touch its `Rc`s,
// and dp keeps no global state that could hold clones of them (the
// thread-local settings hold no values).
unsafe impl<T> Send for Handed<T> {}

impl<T> Handed<T> {
    fn take(self) -> T {
        self.0
    }
}

/// Run `f` on a worker of dp's pool (a big stack, cheap splits of large
/// products: `driver::with_big_stack`) and hand its result back; the
/// caller waits, so `f` may borrow the caller's values.
pub(crate) fn on_big_stack<T>(f: impl FnOnce() -> T) -> Result<T, Error> {
    let f = Handed(f);
    // `f.take()` moves the whole `Handed` (a field pattern would capture
    // only the unsendable field).
    match driver::with_big_stack(move || Handed(f.take()())) {
        Some(Handed(v)) => Ok(v),
        None => Err(Error::from(Failure::plain(Diagnostic::new(
            crate::diagnostic::Code::Io,
            "internal error: dp stopped unexpectedly (a bug in dp)",
        )))),
    }
}

fn compiled(
    result: Result<Compiled, (crate::source::SourceMap, Vec<Diagnostic>)>,
) -> Result<Program, Error> {
    result
        .map(|compiled| Program { compiled })
        .map_err(|(sources, diagnostics)| {
            Error::from(Failure {
                sources,
                diagnostics,
            })
        })
}

impl Program {
    /// Read, parse and check the program at `path` and its imports
    /// (`import nn` from the bundled stdlib, `import "f.dp"` relative to
    /// the importing file).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Program, Error> {
        let path = path.as_ref();
        on_big_stack(|| compiled(driver::compile_file(path)))?
    }

    /// Parse and check a program given as text, called `name` in
    /// diagnostics; its file imports are read from the file system,
    /// relative to `name`'s directory.
    pub fn from_source(name: &str, text: &str) -> Result<Program, Error> {
        Program::load_source(name, text, None)
    }

    /// [`Program::from_source`], with file imports read by `resolver`
    /// (given the import's path, relative to `name`'s directory).
    ///
    /// ```
    /// use std::path::Path;
    /// let program = dp::Program::from_source_with(
    ///     "main.dp",
    ///     "import \"lib.dp\"\ndef main : Int = double 21",
    ///     |path: &Path| match path.to_str() {
    ///         Some("lib.dp") => Ok("def double (x : Int) : Int = 2 * x".to_string()),
    ///         _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
    ///     },
    /// )
    /// .expect("the import resolves");
    /// assert_eq!(program.signatures(), ["main : Int"]);
    /// ```
    pub fn from_source_with(
        name: &str,
        text: &str,
        resolver: impl Fn(&Path) -> std::io::Result<String> + Send + Sync + 'static,
    ) -> Result<Program, Error> {
        Program::load_source(name, text, Some(std::sync::Arc::new(resolver)))
    }

    fn load_source(name: &str, text: &str, resolver: Option<Resolver>) -> Result<Program, Error> {
        on_big_stack(|| compiled(driver::compile_source_with(name, text, resolver)))?
    }

    /// `name : Type` for each def of the root module, in source order, as
    /// `dp check` prints them.
    pub fn signatures(&self) -> Vec<String> {
        self.compiled.def_signatures()
    }

    /// The argument and result types of a global function (a def or a
    /// learned piece) that data can be decoded for: it must be monomorphic.
    pub fn function_type(&self, name: &str) -> Result<(String, String), Error> {
        crate::runtime::function_type(&self.compiled.program, name)
            .map(|(a, r)| (pretty(&a), pretty(&r)))
            .map_err(|d| self.error(d))
    }

    /// The network `def` lowers to (or every def of the root module), as
    /// `dp lower` prints it: modules with their cells, shapes, parameters.
    ///
    /// ```
    /// let program = dp::Program::from_source(
    ///     "rnn.dp",
    ///     "rep H = R[4]\nlearn cell : (H, R[2]) -> H\ndef enc (xs : List R[2]) : H = fold (\\h x -> tanh (cell (h, x))) zeros xs",
    /// )
    /// .expect("checks");
    /// let text = program.lower(Some("enc")).expect("lowers");
    /// assert!(text.contains("rnn (fold \\)"), "{text}");
    /// assert!(text.contains("affine 6 -> 4, 28 parameters"), "{text}");
    /// ```
    pub fn lower(&self, def: Option<&str>) -> Result<String, Error> {
        let compiled = &self.compiled;
        on_big_stack(|| crate::lower::print_defs(compiled, def))?.map_err(|d| self.error(d))
    }

    /// An error of this program: the diagnostic with the program's sources.
    pub(crate) fn error(&self, d: Diagnostic) -> Error {
        Error::from(Failure::with(&self.compiled.sources, d))
    }

    /// The checked program as the stages below the API see it.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }
}
