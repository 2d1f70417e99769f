//! Terminal output shared by the command line and the REPL.

use std::io::Write;

/// Write to stderr; a closed stderr (`2>&1 | head -1`) is not an error, as
/// for any Unix tool. (`eprint!` panics on it.)
pub fn eprint_quietly(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}
