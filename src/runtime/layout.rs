//! How types map onto value layouts at run time: resolving a node's type
//! under the current type substitution, flat sizes (with open vocabularies
//! sized from the run-time vocabularies), packing a tuple of reals into one
//! `[B, size]` tensor and unpacking it again, and building constant and
//! empty values of a type.
//!
//! This module does not evaluate expressions; it is used by the evaluator
//! and the builtins wherever a type decides a shape.

use std::rc::Rc;

use crate::backend::{Graph, Real};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::ty::Type;
use crate::source::Span;

use super::eval::Context;
use super::value::{offsets_of, GridValue, ListValue, TypeSubst, Value};

/// `ty` with the quantified variables of `subst` replaced; any variable
/// still unresolved defaults to `Float`.
pub fn resolve(ty: &Type, subst: &TypeSubst) -> Type {
    ty.substitute(subst)
}

/// A run-time error that is really a broken internal assumption (a program
/// the checker should not have accepted); reported, never panicked on.
pub fn internal(span: Span, what: impl Into<String>) -> Diagnostic {
    Diagnostic::new(
        Code::RuntimeError,
        format!("internal error in the evaluator: {}", what.into()),
    )
    .at(span, "while evaluating this")
}

/// Number of reals in one value of representation type `ty`.
pub fn size_of(ctx: &Context, ty: &Type, span: Span) -> Result<usize, Diagnostic> {
    let types = &ctx.program.types;
    match ty {
        Type::Float => Ok(1),
        Type::Tensor(dims) => Ok(dims.iter().product()),
        Type::Rep(n) => match types.reps.get(n) {
            Some(def) => size_of(ctx, &def.underlying, span),
            None => Err(internal(span, format!("unknown representation `{n}`"))),
        },
        Type::Scores(v) => match &**v {
            Type::Vocab(name) => match ctx.vocabs.get(name) {
                Some(voc) => Ok(voc.len()),
                None => types
                    .flat_size(ty)
                    .ok_or_else(|| internal(span, format!("unknown vocabulary `{name}`"))),
            },
            _ => Err(internal(span, "`Scores` of an unknown vocabulary")),
        },
        Type::Window(dims, t) => Ok(dims.iter().product::<usize>() * size_of(ctx, t, span)?),
        Type::Tuple(ts) if !ts.is_empty() => {
            let mut n = 0;
            for t in ts {
                n += size_of(ctx, t, span)?;
            }
            Ok(n)
        }
        _ => Err(internal(
            span,
            "a size of a type that is not a representation",
        )),
    }
}

/// Is `ty` a representation type (laid out as reals)?
pub fn is_rep(ctx: &Context, ty: &Type) -> bool {
    ctx.program.types.is_representation(ty)
}

/// The group of columns `softmax` works on: the last dimension of a tensor
/// shape; the whole row otherwise (Float, Scores, tuples, windows).
pub fn last_axis(ctx: &Context, ty: &Type, cols: usize) -> usize {
    let underlying = match ty {
        Type::Rep(n) => ctx.program.types.reps.get(n).map(|d| &d.underlying),
        t => Some(t),
    };
    match underlying {
        Some(Type::Tensor(d)) => d.last().copied().filter(|&g| g > 0).unwrap_or(cols),
        Some(Type::Rep(_)) => last_axis(ctx, underlying.unwrap_or(ty), cols),
        _ => cols,
    }
    .max(1)
}

/// A tuple of reals (nested) as one `[B, size]` tensor, parts side by side
/// (one concat of all its reals).
pub fn pack(graph: &mut Graph, v: &Value, span: Span) -> Result<Real, Diagnostic> {
    if let Value::Real(r) = v {
        return Ok(r.clone());
    }
    let mut reals = Vec::new();
    if !reals_of(v, &mut reals) {
        return Err(internal(span, "packing a value that is not real"));
    }
    match reals.as_slice() {
        [one] => Ok(one.clone()),
        _ => Ok(graph.concat_cols(&reals)),
    }
}

/// The reals of a (nested) tuple of reals, in [`pack`]'s order, appended
/// to `out`; false if `v` is something else (or holds an empty tuple).
pub fn reals_of(v: &Value, out: &mut Vec<Real>) -> bool {
    match v {
        Value::Real(r) => {
            out.push(r.clone());
            true
        }
        Value::Tuple(parts) if !parts.is_empty() => parts.iter().all(|p| reals_of(p, out)),
        _ => false,
    }
}

/// The inverse of [`pack`] for a value of type `ty`.
pub fn unpack(
    ctx: &Context,
    graph: &mut Graph,
    x: &Real,
    ty: &Type,
    span: Span,
) -> Result<Value, Diagnostic> {
    match ty {
        Type::Tuple(ts) if !ts.is_empty() => {
            let mut start = 0;
            let mut parts = Vec::with_capacity(ts.len());
            for t in ts {
                let n = size_of(ctx, t, span)?;
                let piece = graph.slice_cols(x, start, start + n);
                parts.push(unpack(ctx, graph, &piece, t, span)?);
                start += n;
            }
            Ok(Value::tuple(parts))
        }
        _ => Ok(Value::Real(x.clone())),
    }
}

/// A value of representation type `ty` with every real equal to `fill`
/// (`zeros`, `ones`), over `batch` examples.
pub fn constant(
    ctx: &Context,
    graph: &mut Graph,
    ty: &Type,
    fill: f32,
    batch: usize,
    span: Span,
) -> Result<Value, Diagnostic> {
    match ty {
        Type::Tuple(ts) if ts.is_empty() => Ok(Value::Unit(batch)),
        Type::Tuple(ts) => Ok(Value::tuple(
            ts.iter()
                .map(|t| constant(ctx, graph, t, fill, batch, span))
                .collect::<Result<_, _>>()?,
        )),
        _ => {
            let n = size_of(ctx, ty, span)?;
            Ok(Value::Real(graph.fill(batch, n, fill)))
        }
    }
}

/// A value of type `ty` over a batch of zero examples (the elements of an
/// empty list). Functions cannot be made from a type: an error.
pub fn empty(ctx: &Context, graph: &mut Graph, ty: &Type, span: Span) -> Result<Value, Diagnostic> {
    Ok(match ty {
        Type::Int => Value::Int(Rc::new(Vec::new())),
        Type::Bool => Value::Bool(Rc::new(Vec::new())),
        Type::Vocab(_) => Value::Sym(Rc::new(Vec::new())),
        Type::Tuple(ts) if ts.is_empty() => Value::Unit(0),
        Type::Tuple(ts) => Value::tuple(
            ts.iter()
                .map(|t| empty(ctx, graph, t, span))
                .collect::<Result<_, _>>()?,
        ),
        Type::List(t) => Value::List(Rc::new(ListValue {
            offsets: vec![0],
            elems: empty(ctx, graph, t, span)?,
        })),
        Type::Window(_, t) if !is_rep(ctx, ty) => Value::List(Rc::new(ListValue {
            offsets: vec![0],
            elems: empty(ctx, graph, t, span)?,
        })),
        Type::Grid(t) => Value::Grid(Rc::new(GridValue {
            dims: Vec::new(),
            offsets: offsets_of([]),
            cells: empty(ctx, graph, t, span)?,
        })),
        Type::Tree(t) => Value::Tree(Rc::new(super::value::TreeValue {
            roots: Vec::new(),
            nodes: Vec::new(),
            leaves: empty(ctx, graph, t, span)?,
        })),
        Type::Rose(t) => Value::Rose(Rc::new(super::value::RoseValue {
            roots: Vec::new(),
            offsets: vec![0],
            children: Vec::new(),
            labels: empty(ctx, graph, t, span)?,
        })),
        Type::Func(..) => Value::func(super::value::Func::Empty { ty: ty.clone() }),
        _ => {
            let n = size_of(ctx, ty, span)?;
            Value::Real(graph.from_vec(0, n, Vec::new()))
        }
    })
}
