//! One-op IR expressions: what a lowered node runs (`Exec::Expr`), its
//! operands the locals `0..`; and the text of literals and operators.

use std::rc::Rc;

use super::Sym;
use crate::ir::pretty::pretty;
use crate::ir::ty::Type;
use crate::ir::{ArithOp, Builtin, CmpOp, Expr, ExprKind, LocalId, PrimOp};
use crate::source::Span;

/// The locals `0..tys.len()`, typed `tys`: the operands of a one-op
/// expression.
pub(super) fn locals(tys: &[Type], span: Span) -> Vec<Expr> {
    let local = |(i, ty): (usize, &Type)| Expr {
        kind: ExprKind::Local(i as LocalId),
        ty: ty.clone(),
        span,
    };
    tys.iter().enumerate().map(local).collect()
}

/// A local expression `Local(i)` as `Local(i + by)`.
pub(super) fn shifted(mut e: Expr, by: LocalId) -> Expr {
    if let ExprKind::Local(i) = e.kind {
        e.kind = ExprKind::Local(i + by);
    }
    e
}

/// The types of symbolic values (a function's stands in as `()`: only a
/// node that reads no function is executed).
pub(super) fn types_of(syms: &[Sym]) -> Vec<Type> {
    fn ty(s: &Sym) -> Type {
        match s {
            Sym::Val { ty, .. } => ty.clone(),
            Sym::Tuple(parts) => Type::Tuple(parts.iter().map(ty).collect()),
            Sym::Func(_) | Sym::List(_) => Type::Tuple(Vec::new()),
        }
    }
    syms.iter().map(ty).collect()
}

pub(super) fn one_op(kind: ExprKind, ty: Type, span: Span) -> Rc<Expr> {
    Rc::new(Expr { kind, ty, span })
}

/// `b args` with `b` at its instantiated type `ty`.
pub(super) fn builtin_app(b: Builtin, ty: &Type, args: Vec<Expr>, span: Span) -> ExprKind {
    let func = Box::new(Expr {
        kind: ExprKind::Builtin(b),
        ty: ty.clone(),
        span,
    });
    ExprKind::App { func, args }
}

/// A tensor literal: its values when few, else its shape.
pub(super) fn tensor_literal(shape: &[usize], data: &[f32]) -> String {
    if data.len() <= 4 {
        let vals: Vec<String> = data.iter().map(|x| format!("{x:?}")).collect();
        return format!("[{}]", vals.join(", "));
    }
    format!("{} literal", pretty(&Type::Tensor(shape.to_vec())))
}

pub(super) fn prim_name(op: PrimOp) -> String {
    let arith = |a: ArithOp| match a {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
        ArithOp::Div => "/",
    };
    match op {
        PrimOp::IntArith(a) | PrimOp::RealArith(a, _) => arith(a).into(),
        PrimOp::IntNeg | PrimOp::RealNeg => "negate".into(),
        PrimOp::IntMod => "%".into(),
        PrimOp::MatMul { .. } => "@".into(),
        PrimOp::Compare(c, _) => match c {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
        .into(),
        PrimOp::And => "&&".into(),
        PrimOp::Or => "||".into(),
        PrimOp::Append => "++".into(),
    }
}
