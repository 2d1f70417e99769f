//! Tensor views (spec 11.4): `raw` and `cast` (a rep or `Scores` and its
//! raw tensor: the same values), `reshape` (the same values, another
//! shape), `transpose` (a column permutation per example), and the
//! indexing `row` and `at` (one run of columns per example; out of range
//! a run-time error at the call). Shapes were checked by the checker.

use crate::diagnostic::Diagnostic;
use crate::ir::ty::Type;
use crate::ir::Builtin;

use super::builtins::Call;
use super::eval::Eval;
use super::layout::{internal, pack};
use super::value::Value;

pub(crate) fn call(
    ev: &mut Eval,
    b: Builtin,
    c: &Call,
    args: &[Value],
) -> Result<Value, Diagnostic> {
    match (b, args) {
        (Builtin::Raw | Builtin::Cast | Builtin::Reshape, [x]) => {
            Ok(Value::Real(pack(ev.graph, x, c.span)?))
        }
        (Builtin::Transpose, [x]) => {
            let (m, n) = matrix(c.param(0)?, c)?;
            let r = pack(ev.graph, x, c.span)?;
            // Entry (j, i) of the result is entry (i, j) of `x`.
            let perm: Vec<usize> = (0..n * m).map(|k| (k % m) * n + k / m).collect();
            Ok(Value::Real(ev.graph.permute_cols(&r, &perm)))
        }
        (Builtin::Row, [Value::Int(i), x]) => {
            let (m, n) = matrix(c.param(1)?, c)?;
            pick(ev, c, i, x, m, n, "row")
        }
        (Builtin::Slice, [Value::Int(start), Value::Int(len), x]) => {
            let r = pack(ev.graph, x, c.span)?;
            let width = len.first().map_or(0, |&k| k.max(0) as usize);
            let starts: Vec<usize> = start.iter().map(|&s| s.max(0) as usize).collect();
            if starts.iter().any(|&s| s + width > r.cols()) {
                return Err(internal(
                    c.span,
                    "a slice out of range (checked before running)",
                ));
            }
            Ok(Value::Real(ev.graph.cols_at(&r, &starts, width)))
        }
        (Builtin::At, [Value::Int(i), x]) => {
            let size = ev.ctx.program.types.flat_size(c.param(1)?).unwrap_or(0);
            pick(ev, c, i, x, size, 1, "at")
        }
        _ => Err(super::builtins::wrong_args(b, c.span)),
    }
}

/// `(m, n)` of an `R[m, n]`.
fn matrix(t: &Type, c: &Call) -> Result<(usize, usize), Diagnostic> {
    match t {
        Type::Tensor(d) if d.len() == 2 => Ok((d[0], d[1])),
        _ => Err(internal(
            c.span,
            "a matrix builtin on a value that is not `R[m, n]`",
        )),
    }
}

/// Per example, the `width` columns of `x` starting at `i * width`, for
/// `i` in `0..count`.
fn pick(
    ev: &mut Eval,
    c: &Call,
    i: &[i64],
    x: &Value,
    count: usize,
    width: usize,
    what: &str,
) -> Result<Value, Diagnostic> {
    let mut starts = Vec::with_capacity(i.len());
    for (row, &k) in i.iter().enumerate() {
        match usize::try_from(k).ok().filter(|&k| k < count) {
            Some(k) => starts.push(k * width),
            None => {
                let message = format!("`{what}` {k} of {count}");
                let why = format!("the index must be 0 to {}", count.saturating_sub(1));
                return Err(ev.fail(c.span, c.origin, row, message, why));
            }
        }
    }
    let r = pack(ev.graph, x, c.span)?;
    Ok(Value::Real(ev.graph.cols_at(&r, &starts, width)))
}
