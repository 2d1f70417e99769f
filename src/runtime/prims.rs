//! Operators ([`PrimOp`]): Int arithmetic on host arrays, elementwise real
//! arithmetic on tensors (tuples of reals componentwise, a `Float` operand
//! broadcast), matrix products, comparisons, `&&`/`||` (short-circuiting per
//! example) and list `++`.
//!
//! This file does not handle builtins (see `builtins.rs`).

use std::rc::Rc;

use crate::backend::{Binary, Real, Unary};
use crate::diagnostic::Diagnostic;
use crate::ir::{ArithOp, Broadcast, CmpKind, CmpOp, Expr, ExprKind, PrimOp};

use super::eval::{Env, Eval};
use super::layout::internal;
use super::lists;
use super::value::Value;

pub(crate) fn eval_prim(
    ev: &mut Eval,
    env: &mut Env,
    op: PrimOp,
    args: &[Expr],
    e: &Expr,
) -> Result<Value, Diagnostic> {
    let span = e.span;
    match (op, args) {
        (PrimOp::And, [a, b]) => {
            let mask = ev.eval_bool(env, a)?;
            let (yes, _) = super::batch::split_mask(&mask);
            short_circuit(ev, env, &mask, &yes, b)
        }
        (PrimOp::Or, [a, b]) => {
            let mask = ev.eval_bool(env, a)?;
            let (_, no) = super::batch::split_mask(&mask);
            short_circuit(ev, env, &mask, &no, b)
        }
        (PrimOp::Append, [_, _]) => {
            // `a ++ b ++ c ++ ...` (right-nested) as one n-way append: each
            // `++` on its own copies the list built so far (quadratic in a
            // chain). The operands are evaluated left to right, as the
            // nested evaluation does.
            let mut operands = Vec::new();
            let mut at = e;
            while let ExprKind::Prim {
                op: PrimOp::Append,
                args,
            } = &at.kind
            {
                let [a, b] = args.as_slice() else { break };
                operands.push(a);
                at = b;
            }
            operands.push(at);
            let values = operands
                .into_iter()
                .map(|x| ev.eval(env, x))
                .collect::<Result<Vec<_>, _>>()?;
            lists::append_all(ev, &values, span)
        }
        (PrimOp::IntNeg, [a]) => {
            let x = int_arg(ev.eval(env, a)?, span)?;
            Ok(Value::Int(Rc::new(
                x.iter().map(|v| v.wrapping_neg()).collect(),
            )))
        }
        (PrimOp::RealNeg, [a]) => {
            let x = ev.eval(env, a)?;
            map_reals(&x, &mut |r| Ok(ev.graph.unary(Unary::Neg, r)), span)
        }
        (PrimOp::MatMul { m, n, p }, [a, b]) if env.batch() > 0 => {
            let p = p.unwrap_or(1);
            if let (Some(w), 1) = (ev.shared_real(env, a)?, p) {
                // W x for every example: one product X W^T with the one W.
                let x = real_arg(ev.eval(env, b)?, span)?;
                let w = ev.graph.reshape(&w, m, n);
                return Ok(Value::Real(ev.graph.matmul_t(&x, &w)));
            }
            if let Some(w) = ev.shared_real(env, b)? {
                // X_b W for every example: the rows of all X_b times the one W.
                let x = real_arg(ev.eval(env, a)?, span)?;
                let rows = x.rows();
                let x = ev.graph.reshape(&x, rows * m, n);
                let w = ev.graph.reshape(&w, n, p);
                let y = ev.graph.matmul(&x, &w);
                return Ok(Value::Real(ev.graph.reshape(&y, rows, m * p)));
            }
            let x = ev.eval(env, a)?;
            let y = ev.eval(env, b)?;
            binary_prim(ev, env, op, x, y, e)
        }
        (_, [a, b]) => {
            let x = ev.eval(env, a)?;
            let y = ev.eval(env, b)?;
            binary_prim(ev, env, op, x, y, e)
        }
        _ => Err(internal(
            span,
            "an operator with the wrong number of operands",
        )),
    }
}

/// `a && b` / `a || b`: `b` is evaluated only on the examples `need` whose
/// result `a` does not decide; there the result is `b`'s value.
fn short_circuit(
    ev: &mut Eval,
    env: &mut Env,
    mask: &[bool],
    need: &[usize],
    b: &Expr,
) -> Result<Value, Diagnostic> {
    if need.is_empty() {
        return Ok(Value::Bool(Rc::new(mask.to_vec())));
    }
    let vb = if need.len() == mask.len() {
        ev.eval_bool(env, b)?
    } else {
        match ev.eval_subset(env, b, need)? {
            Value::Bool(v) => v,
            _ => return Err(internal(b.span, "a Bool operand that is not a Bool")),
        }
    };
    let mut out = mask.to_vec();
    for (k, &i) in need.iter().enumerate() {
        out[i] = vb[k];
    }
    Ok(Value::Bool(Rc::new(out)))
}

fn binary_prim(
    ev: &mut Eval,
    env: &Env,
    op: PrimOp,
    x: Value,
    y: Value,
    e: &Expr,
) -> Result<Value, Diagnostic> {
    let span = e.span;
    match op {
        PrimOp::IntArith(a) => int_arith(ev, env, a, x, y, e),
        PrimOp::IntMod => int_mod(ev, env, x, y, e),
        PrimOp::RealArith(a, bc) => real_arith(ev, a, bc, &x, &y, span),
        PrimOp::MatMul { m, n, p } => match (&x, &y) {
            (Value::Real(a), Value::Real(b)) => Ok(Value::Real(ev.graph.batched_matmul(
                a,
                b,
                m,
                n,
                p.unwrap_or(1),
            ))),
            _ => Err(internal(span, "`@` on values that are not tensors")),
        },
        PrimOp::Compare(c, kind) => compare(ev, c, kind, &x, &y, span),
        PrimOp::Append => lists::append(ev, &x, &y, span),
        _ => Err(internal(
            span,
            "an operator with the wrong number of operands",
        )),
    }
}

fn real_arg(v: Value, span: crate::source::Span) -> Result<crate::backend::Real, Diagnostic> {
    match v {
        Value::Real(r) => Ok(r),
        _ => Err(internal(span, "a tensor operand that is not a tensor")),
    }
}

fn int_arg(v: Value, span: crate::source::Span) -> Result<Rc<Vec<i64>>, Diagnostic> {
    match v {
        Value::Int(x) => Ok(x),
        _ => Err(internal(span, "an Int operand that is not an Int")),
    }
}

fn int_arith(
    ev: &mut Eval,
    env: &Env,
    op: ArithOp,
    x: Value,
    y: Value,
    e: &Expr,
) -> Result<Value, Diagnostic> {
    let x = int_arg(x, e.span)?;
    let y = int_arg(y, e.span)?;
    let mut out = Vec::with_capacity(x.len());
    for (i, (&a, &b)) in x.iter().zip(y.iter()).enumerate() {
        out.push(match op {
            ArithOp::Add => a.wrapping_add(b),
            ArithOp::Sub => a.wrapping_sub(b),
            ArithOp::Mul => a.wrapping_mul(b),
            ArithOp::Div if b == 0 => {
                return Err(ev.fail(
                    e.span,
                    &env.origin,
                    i,
                    "integer division by zero",
                    "the divisor is 0 here",
                ))
            }
            ArithOp::Div => a.wrapping_div(b),
        });
    }
    Ok(Value::Int(Rc::new(out)))
}

/// `x % y`, floored: `x - y * floor(x / y)`, so the result has the
/// divisor's sign (`-7 % 3 = 2`, `7 % -3 = -2`).
fn int_mod(ev: &mut Eval, env: &Env, x: Value, y: Value, e: &Expr) -> Result<Value, Diagnostic> {
    let x = int_arg(x, e.span)?;
    let y = int_arg(y, e.span)?;
    let mut out = Vec::with_capacity(x.len());
    for (i, (&a, &b)) in x.iter().zip(y.iter()).enumerate() {
        if b == 0 {
            let why = "the divisor is 0 here";
            return Err(ev.fail(e.span, &env.origin, i, "integer modulo by zero", why));
        }
        let r = a.wrapping_rem(b);
        out.push(if r != 0 && (r < 0) != (b < 0) {
            r + b
        } else {
            r
        });
    }
    Ok(Value::Int(Rc::new(out)))
}

/// Apply `f` to every real of a (possibly nested) tuple of reals.
pub(crate) fn map_reals(
    v: &Value,
    f: &mut dyn FnMut(&Real) -> Result<Real, Diagnostic>,
    span: crate::source::Span,
) -> Result<Value, Diagnostic> {
    match v {
        Value::Real(r) => Ok(Value::Real(f(r)?)),
        Value::Tuple(parts) => Ok(Value::tuple(
            parts
                .iter()
                .map(|p| map_reals(p, f, span))
                .collect::<Result<_, _>>()?,
        )),
        _ => Err(internal(
            span,
            "real arithmetic on a value that is not real",
        )),
    }
}

/// Apply `f` to matching reals of two values of one representation type.
pub(crate) fn zip_reals(
    a: &Value,
    b: &Value,
    f: &mut dyn FnMut(&Real, &Real) -> Result<Real, Diagnostic>,
    span: crate::source::Span,
) -> Result<Value, Diagnostic> {
    match (a, b) {
        (Value::Real(x), Value::Real(y)) => Ok(Value::Real(f(x, y)?)),
        (Value::Tuple(xs), Value::Tuple(ys)) if xs.len() == ys.len() => Ok(Value::tuple(
            xs.iter()
                .zip(ys.iter())
                .map(|(x, y)| zip_reals(x, y, f, span))
                .collect::<Result<_, _>>()?,
        )),
        _ => Err(internal(
            span,
            "real arithmetic on values of different shapes",
        )),
    }
}

pub(crate) fn binary_op(a: ArithOp) -> Binary {
    match a {
        ArithOp::Add => Binary::Add,
        ArithOp::Sub => Binary::Sub,
        ArithOp::Mul => Binary::Mul,
        ArithOp::Div => Binary::Div,
    }
}

fn real_arith(
    ev: &mut Eval,
    a: ArithOp,
    bc: Broadcast,
    x: &Value,
    y: &Value,
    span: crate::source::Span,
) -> Result<Value, Diagnostic> {
    let op = binary_op(a);
    let g = &mut *ev.graph;
    match bc {
        Broadcast::None => zip_reals(x, y, &mut |p, q| Ok(g.binary(op, p, q)), span),
        Broadcast::Left => {
            let Value::Real(s) = x else {
                return Err(internal(span, "a broadcast operand that is not a Float"));
            };
            map_reals(
                y,
                &mut |q| {
                    let p = g.broadcast_cols(s, q.cols());
                    Ok(g.binary(op, &p, q))
                },
                span,
            )
        }
        Broadcast::Right => {
            let Value::Real(s) = y else {
                return Err(internal(span, "a broadcast operand that is not a Float"));
            };
            map_reals(
                x,
                &mut |p| {
                    let q = g.broadcast_cols(s, p.cols());
                    Ok(g.binary(op, p, &q))
                },
                span,
            )
        }
    }
}

/// Per example: are `x` and `y` equal (lists of the same length with equal
/// elements, tuples part by part, reals entry by entry)?
fn equal_rows(
    ev: &mut Eval,
    x: &Value,
    y: &Value,
    span: crate::source::Span,
) -> Result<Vec<bool>, Diagnostic> {
    fn same<T: PartialEq>(a: &[T], b: &[T]) -> Vec<bool> {
        a.iter().zip(b).map(|(p, q)| p == q).collect()
    }
    Ok(match (x, y) {
        (Value::Int(a), Value::Int(b)) => same(a, b),
        (Value::Bool(a), Value::Bool(b)) => same(a, b),
        (Value::Sym(a), Value::Sym(b)) => same(a, b),
        (Value::Unit(n), Value::Unit(_)) => vec![true; *n],
        (Value::Real(a), Value::Real(b)) => {
            let cols = a.cols().max(1);
            let (av, bv) = (ev.graph.to_vec(a), ev.graph.to_vec(b));
            av.chunks(cols)
                .zip(bv.chunks(cols))
                .map(|(p, q)| p == q)
                .collect()
        }
        (Value::Tuple(xs), Value::Tuple(ys)) => {
            let mut eq = vec![true; super::batch::batch_size(x)];
            for (p, q) in xs.iter().zip(ys.iter()) {
                let part = equal_rows(ev, p, q, span)?;
                eq.iter_mut().zip(part).for_each(|(e, p)| *e &= p);
            }
            eq
        }
        (Value::List(a), Value::List(b)) => {
            let (la, lb) = (a.lengths(), b.lengths());
            let (mut ia, mut ib) = (Vec::new(), Vec::new());
            for (i, (&n, &m)) in la.iter().zip(&lb).enumerate() {
                if n == m {
                    ia.extend(a.offsets[i]..a.offsets[i] + n);
                    ib.extend(b.offsets[i]..b.offsets[i] + n);
                }
            }
            let ea = super::batch::gather(ev.graph, &a.elems, &ia);
            let eb = super::batch::gather(ev.graph, &b.elems, &ib);
            let mut pairs = equal_rows(ev, &ea, &eb, span)?.into_iter();
            la.iter()
                .zip(&lb)
                .map(|(&n, &m)| n == m && pairs.by_ref().take(n).fold(true, |e, p| e && p))
                .collect()
        }
        _ => return Err(internal(span, "an equality of values of the wrong kind")),
    })
}

fn compare(
    ev: &mut Eval,
    c: CmpOp,
    kind: CmpKind,
    x: &Value,
    y: &Value,
    span: crate::source::Span,
) -> Result<Value, Diagnostic> {
    fn cmp<T: PartialOrd>(c: CmpOp, a: &[T], b: &[T]) -> Vec<bool> {
        a.iter()
            .zip(b.iter())
            .map(|(p, q)| match c {
                CmpOp::Eq => p == q,
                CmpOp::Ne => p != q,
                CmpOp::Lt => p < q,
                CmpOp::Le => p <= q,
                CmpOp::Gt => p > q,
                CmpOp::Ge => p >= q,
            })
            .collect()
    }
    // The values say what they are: inside a polymorphic def the checker's
    // `kind` is only a placeholder (the def may be used at any comparable type).
    let _ = kind;
    if matches!(x, Value::List(_) | Value::Tuple(_) | Value::Unit(_)) {
        let eq = equal_rows(ev, x, y, span)?;
        let ne = c == CmpOp::Ne;
        return Ok(Value::Bool(Rc::new(
            eq.into_iter().map(|e| e != ne).collect(),
        )));
    }
    let out = match (x, y) {
        (Value::Int(a), Value::Int(b)) => cmp(c, a, b),
        (Value::Bool(a), Value::Bool(b)) => cmp(c, a, b),
        (Value::Sym(a), Value::Sym(b)) => cmp(c, a, b),
        (Value::Real(a), Value::Real(b)) => {
            let a = ev.graph.to_vec(a);
            let b = ev.graph.to_vec(b);
            cmp(c, &a, &b)
        }
        _ => return Err(internal(span, "a comparison of values of the wrong kind")),
    };
    Ok(Value::Bool(Rc::new(out)))
}
