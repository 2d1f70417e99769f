//! The type schemes of the builtins (spec section 6).
//!
//! [`instantiate`] gives a builtin's type with fresh variables. Most are
//! plain Hindley–Milner schemes whose variables may carry a constraint
//! (representation, vocabulary). Four cannot be written as schemes because
//! dp has no shape variables — `windowMap`, `windowMap2`, `elems` and
//! `concat` — so they come back with a [`Special`] side condition that the
//! checker resolves once the argument types are known (`pending.rs`).

use crate::ir::ty::Type;
use crate::ir::Builtin;
use crate::types::unify::{Constraint, Subst};

/// A side condition on an instantiated builtin type.
#[derive(Clone, Debug)]
pub enum Special {
    /// `windowMap`/`windowMap2`: `func` must become `Window[..] elem -> out`
    /// with `dims` dimensions.
    Window {
        dims: usize,
        func: Type,
        elem: Type,
        out: Type,
        /// `windowMapSame`/`windowMap2Same`: odd window sizes over a
        /// representation type (zero padding).
        same: bool,
    },
    /// `elems`: `arg` must become `Window[..] elem`.
    Elems { arg: Type, elem: Type },
    /// `concat`: `left`, `right` representation types of known size, `out`
    /// `R[n1 + n2]`.
    Concat { left: Type, right: Type, out: Type },
    /// `raw`, `cast`, `transpose`, `reshape` and `row` (spec 11.4): `out`
    /// follows from `arg`'s shape (or, for `cast` and `reshape`, is given
    /// by the context and checked against it).
    Shape { op: ShapeOp, arg: Type, out: Type },
}

/// The tensor builtins whose result type is a function of a shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeOp {
    /// A rep or a closed vocabulary's `Scores` as its raw tensor.
    Raw,
    /// A raw tensor as the rep (or `Scores`) the context asks for.
    Cast,
    /// `R[m, n]` to `R[n, m]`.
    Transpose,
    /// `R[s1]` to the `R[s2]` of the context, of the same size.
    Reshape,
    /// One row of an `R[m, n]`: `R[n]`.
    Row,
    /// `slice start len`: entries `start..start + len` of an `R[n]`.
    Slice,
}

fn f(a: Type, b: Type) -> Type {
    Type::func(a, b)
}

fn f2(a: Type, b: Type, c: Type) -> Type {
    f(a, f(b, c))
}

fn f3(a: Type, b: Type, c: Type, d: Type) -> Type {
    f(a, f2(b, c, d))
}

fn list(t: Type) -> Type {
    Type::List(Box::new(t))
}

fn tree(t: Type) -> Type {
    Type::Tree(Box::new(t))
}

fn rose(t: Type) -> Type {
    Type::Rose(Box::new(t))
}

fn grid(t: Type) -> Type {
    Type::Grid(Box::new(t))
}

fn pair(a: Type, b: Type) -> Type {
    Type::Tuple(vec![a, b])
}

/// The type of builtin `b` with fresh variables, and its side condition.
pub fn instantiate(b: Builtin, s: &mut Subst) -> (Type, Option<Special>) {
    if let Some((t, sp)) = special(b, s) {
        return (t, Some(sp));
    }
    let any = Constraint::NONE;
    let (a, bb, c) = (s.fresh_ty(any), s.fresh_ty(any), s.fresh_ty(any));
    match structural(b, a, bb, c) {
        Some(t) => (t, None),
        None => (numeric(b, s), None),
    }
}

/// The four builtins with a side condition.
fn special(b: Builtin, s: &mut Subst) -> Option<(Type, Special)> {
    use Builtin::*;
    let any = Constraint::NONE;
    let (a, bb, c) = (s.fresh_ty(any), s.fresh_ty(any), s.fresh_ty(any));
    match b {
        WindowMap | WindowMap2 | WindowMapSame | WindowMap2Same => {
            let dims = if matches!(b, WindowMap | WindowMapSame) {
                1
            } else {
                2
            };
            let wrap = if dims == 1 { list } else { grid };
            let ty = f2(c.clone(), wrap(a.clone()), wrap(bb.clone()));
            let special = Special::Window {
                dims,
                func: c,
                elem: a,
                out: bb,
                same: matches!(b, WindowMapSame | WindowMap2Same),
            };
            Some((ty, special))
        }
        Elems => Some((
            f(c.clone(), list(a.clone())),
            Special::Elems { arg: c, elem: a },
        )),
        Concat => {
            let ty = f2(a.clone(), bb.clone(), c.clone());
            let special = Special::Concat {
                left: a,
                right: bb,
                out: c,
            };
            Some((ty, special))
        }
        Raw | Cast | Transpose | Reshape | Row | Slice => {
            let op = match b {
                Raw => ShapeOp::Raw,
                Cast => ShapeOp::Cast,
                Transpose => ShapeOp::Transpose,
                Reshape => ShapeOp::Reshape,
                Row => ShapeOp::Row,
                _ => ShapeOp::Slice,
            };
            let ty = match op {
                ShapeOp::Row => f2(Type::Int, a.clone(), c.clone()),
                ShapeOp::Slice => f3(Type::Int, Type::Int, a.clone(), c.clone()),
                _ => f(a.clone(), c.clone()),
            };
            Some((ty, Special::Shape { op, arg: a, out: c }))
        }
        _ => None,
    }
}

/// Combinators and structure helpers: plain polymorphic schemes.
fn structural(b: Builtin, a: Type, bb: Type, c: Type) -> Option<Type> {
    use Builtin::*;
    Some(match b {
        Map => f2(f(a.clone(), bb.clone()), list(a), list(bb)),
        Fold => f3(f2(c.clone(), a.clone(), c.clone()), c.clone(), list(a), c),
        Unfold => f3(
            Type::Int,
            f(c.clone(), pair(bb.clone(), c.clone())),
            c,
            list(bb),
        ),
        MapAccumL | MapAccumR => f3(
            f2(c.clone(), a.clone(), pair(c.clone(), bb.clone())),
            c.clone(),
            list(a),
            pair(c, list(bb)),
        ),
        Zip => f2(list(a.clone()), list(bb.clone()), list(pair(a, bb))),
        ZipWith => f3(
            f2(a.clone(), bb.clone(), c.clone()),
            list(a),
            list(bb),
            list(c),
        ),
        Cata => f3(
            f(a.clone(), c.clone()),
            f2(c.clone(), c.clone(), c.clone()),
            tree(a),
            c,
        ),
        Iterate => f3(Type::Int, f(a.clone(), a.clone()), a.clone(), a),
        Length => f(list(a), Type::Int),
        Reverse => f(list(a.clone()), list(a)),
        Take | Drop => f2(Type::Int, list(a.clone()), list(a)),
        Last | Head => f(list(a.clone()), a),
        Leaves => f(tree(a.clone()), list(a)),
        Rose => f2(a.clone(), list(rose(a.clone())), rose(a)),
        CataRose => f2(f2(a.clone(), list(c.clone()), c.clone()), rose(a), c),
        Nodes => f(rose(a.clone()), list(a)),
        Flatten => f(grid(a.clone()), list(a)),
        Fst => f(pair(a.clone(), bb), a),
        Snd => f(pair(a, bb.clone()), bb),
        Leaf => f(a.clone(), tree(a)),
        Node => f2(tree(a.clone()), tree(a.clone()), tree(a)),
        Grid => f(list(list(a.clone())), grid(a)),
        FloatOf => f(Type::Int, Type::Float),
        SoftmaxList => f(list(Type::Float), list(Type::Float)),
        Bce => f2(Type::Float, Type::Bool, Type::Float),
        _ => return None,
    })
}

/// Builtins over a representation type `r` or a vocabulary `v`.
fn numeric(b: Builtin, s: &mut Subst) -> Type {
    use Builtin::*;
    let r = s.fresh_ty(Constraint::REPR);
    match b {
        SumList | MeanList | MaxList => f(list(r.clone()), r),
        Maxpool2 => f2(Type::Int, grid(r.clone()), grid(r)),
        SoftThreshold | HardThreshold | Minimum | Maximum => f2(r.clone(), r.clone(), r),
        Pow => f2(r.clone(), Type::Float, r),
        Topk => f2(Type::Int, r.clone(), r),
        Sum | Mean | Max | Norm => f(r, Type::Float),
        Dot | Mse => f2(r.clone(), r, Type::Float),
        Argmax | Sample => {
            let v = s.fresh_ty(Constraint::VOCAB);
            f(Type::Scores(Box::new(v.clone())), v)
        }
        Dropout => f2(Type::Float, r.clone(), r),
        At => f2(Type::Int, r, Type::Float),
        ArgmaxIndex => f(r, Type::Int),
        Symbol | Index => {
            let v = s.fresh_ty(Constraint::VOCAB);
            if b == Symbol {
                f(Type::Int, v)
            } else {
                f(v, Type::Int)
            }
        }
        Score | CrossEntropy => {
            let v = s.fresh_ty(Constraint::VOCAB);
            f2(Type::Scores(Box::new(v.clone())), v, Type::Float)
        }
        Zeros | Ones | Normal | Uniform => r,
        // Tanh Sigmoid Relu Exp Log Sqrt Abs Sign Sin Cos Softmax LogSoftmax StopGradient
        _ => f(r.clone(), r),
    }
}
