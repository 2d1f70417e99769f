//! Data in and out: JSON values decoded by a dp type into batched run-time
//! values, and batched values encoded back to JSON (spec section 8).
//!
//! Decoding is two steps: [`decode`] checks one JSON value against a type
//! and produces a per-example [`Example`] (errors carry the JSON path), then
//! [`assemble`] lays a batch of examples out as one [`Value`] (padded reals,
//! ragged lists, numbered trees). [`encode`] prints each example of a batched
//! value. This module does not read files or evaluate anything.

mod decode;
mod elems;
mod encode;
mod printed;
mod tree;

pub use decode::{assemble, decode, decode_lines, DataError, Example};
pub use elems::Elems;
pub use encode::{encode, format_json};
pub use printed::Printed;

use std::path::Path;

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::ty::Type;

/// Data errors as diagnostics: file, line, JSON path, expected, found.
pub fn data_errors(file: &Path, ty: &Type, errors: Vec<(usize, DataError)>) -> Vec<Diagnostic> {
    const SHOWN: usize = 10;
    let total = errors.len();
    let mut out: Vec<Diagnostic> = errors
        .into_iter()
        .take(SHOWN)
        .map(|(line, e)| {
            Diagnostic::new(
                Code::BadData,
                format!(
                    "{}:{line}: at {}: expected {}, found {}",
                    file.display(),
                    e.path,
                    e.expected,
                    e.found
                ),
            )
            .note(format!(
                "each line must be a value of `{}`",
                crate::ir::pretty::pretty(ty)
            ))
        })
        .collect();
    if total > SHOWN {
        out.push(Diagnostic::new(
            Code::BadData,
            format!("{} more bad lines in {}", total - SHOWN, file.display()),
        ));
    }
    out
}
