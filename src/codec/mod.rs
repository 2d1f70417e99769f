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

pub use decode::{assemble, decode, decode_lines, DataError, Example};
pub use elems::Elems;
pub use encode::{encode, format_json};
pub use printed::Printed;
