//! Fusion: an op whose only reader is an elementwise op of the same cell
//! becomes part of that reader's expression, so that the runtime runs the
//! whole group as one expression (`Exec::Fused`): a chain of elementwise
//! ops over one tensor type as one op forward and one backward
//! (`runtime/chains.rs`: `sigmoid i * tanh u + sigmoid f * c`), an
//! activation of an affine map as one product with the bias and the
//! activation (`learned::affine_activation`). The absorbed ops are not run
//! on their own (`Exec::Absorbed`).
//!
//! Fusable: `+`, `-`, `*` of two operands of one type, unary `-`, `tanh`,
//! `sigmoid`, `relu`, `exp`; an affine map is absorbed by an activation.
//! None of them draws or fails, so running them later, inside their
//! reader, changes nothing but speed. In an RNN module's cell only the
//! ops of the loop fuse, and a split affine map with its activation (the
//! pair the hoisted loop runs as one product); the work hoisted before
//! the loop is not fused (the hoisting plan names its nodes).

use std::rc::Rc;

use super::{Cell, Exec, Hoisted, Op, Operand};
use crate::ir::{ArithOp, Broadcast, Builtin, Expr, ExprKind, LocalId, PrimOp};

/// Fuse the ops of `cell` (its modules' cells are fused when made).
pub(super) fn fuse(cell: &mut Cell) {
    let readers = readers(cell);
    let n = cell.nodes.len();
    // Which node absorbs each node.
    let mut into: Vec<Option<usize>> = vec![None; n];
    for j in 0..n {
        let node = &cell.nodes[j];
        let Some(kind) = kind_of(cell, j) else {
            continue;
        };
        for o in &node.args {
            let Operand::Node(k) = o else { continue };
            let absorbed = match kind_of(cell, *k) {
                Some(Kind::Elementwise) => kind == Kind::Elementwise,
                Some(Kind::Affine) => kind == Kind::Elementwise && is_activation(cell, j),
                None => false,
            };
            // In an RNN module's cell, the loop's own ops fuse, and a split
            // affine map with its activation (as the hoisted loop runs them).
            let same_loop = matches!(
                (cell.nodes[*k].hoisted, node.hoisted),
                (Hoisted::No, Hoisted::No) | (Hoisted::Split, Hoisted::Fused)
            );
            if absorbed && same_loop && readers[*k] == 1 {
                into[*k] = Some(j);
            }
        }
    }
    for j in 0..n {
        if into[j].is_some() || !into.contains(&Some(j)) {
            continue;
        }
        let mut group = Group::default();
        if let Some(expr) = composite(cell, &into, j, &mut group) {
            for k in group.absorbed {
                cell.nodes[k].exec = Exec::Absorbed(j);
            }
            cell.nodes[j].exec = Exec::Fused {
                expr: Rc::new(expr),
                operands: group.operands,
            };
        }
    }
}

/// What a fused group reads, and the nodes it absorbs.
#[derive(Default)]
struct Group {
    operands: Vec<Operand>,
    absorbed: Vec<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Elementwise,
    Affine,
}

/// What node `j` is to fusion: an elementwise op, an affine map, or
/// neither.
fn kind_of(cell: &Cell, j: usize) -> Option<Kind> {
    let node = cell.nodes.get(j)?;
    let Exec::Expr(e) = &node.exec else {
        return None;
    };
    if matches!(node.ty, crate::ir::ty::Type::Tuple(_)) {
        return None;
    }
    match &e.kind {
        ExprKind::Prim {
            op: PrimOp::RealArith(ArithOp::Add | ArithOp::Sub | ArithOp::Mul, Broadcast::None),
            ..
        }
        | ExprKind::Prim {
            op: PrimOp::RealNeg,
            ..
        } => Some(Kind::Elementwise),
        ExprKind::App { func, args } if args.len() == 1 => match func.kind {
            ExprKind::Builtin(Builtin::Tanh | Builtin::Sigmoid | Builtin::Relu | Builtin::Exp) => {
                Some(Kind::Elementwise)
            }
            ExprKind::Learned(_) if matches!(node.op, Op::Affine { .. }) => Some(Kind::Affine),
            _ => None,
        },
        _ => None,
    }
}

fn is_activation(cell: &Cell, j: usize) -> bool {
    let Some(Exec::Expr(e)) = cell.nodes.get(j).map(|n| &n.exec) else {
        return false;
    };
    matches!(&e.kind, ExprKind::App { func, .. }
        if matches!(func.kind, ExprKind::Builtin(b) if b.is_fusable_activation()))
}

/// How many times each node is read: by ops (and the cells of their
/// modules, which capture it), and by the output.
pub(super) fn readers(cell: &Cell) -> Vec<usize> {
    let mut count = vec![0usize; cell.nodes.len()];
    cell.each_read(|o| {
        if let Operand::Node(j) = o {
            if let Some(c) = count.get_mut(*j) {
                *c += 1;
            }
        }
    });
    count
}

/// Node `j`'s expression with the nodes it absorbs written in place; its
/// other operands become the group's locals `operands.len()..` in order.
fn composite(cell: &Cell, into: &[Option<usize>], j: usize, group: &mut Group) -> Option<Expr> {
    let node = cell.nodes.get(j)?;
    let Exec::Expr(e) = &node.exec else {
        return None;
    };
    let mut out = (**e).clone();
    let slots: Vec<&mut Expr> = match &mut out.kind {
        ExprKind::Prim { args, .. } => args.iter_mut().collect(),
        ExprKind::App { args, .. } => args.iter_mut().collect(),
        _ => return None,
    };
    for slot in slots {
        let ExprKind::Local(i) = slot.kind else {
            return None;
        };
        let o = node.args.get(i as usize)?;
        match o {
            Operand::Node(k) if into.get(*k) == Some(&Some(j)) => {
                *slot = composite(cell, into, *k, group)?;
                group.absorbed.push(*k);
            }
            _ => {
                slot.kind = ExprKind::Local(group.operands.len() as LocalId);
                group.operands.push(o.clone());
            }
        }
    }
    Some(out)
}
