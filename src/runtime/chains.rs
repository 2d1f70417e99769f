//! Elementwise chains: an expression of two or more fusable elementwise
//! operations over one tensor type (`sigmoid i * tanh u + sigmoid f * c`)
//! is evaluated as one backend op (`Graph::chain`): its operands (the
//! leaves: any other expressions) are evaluated in the order the plain
//! evaluation would, then the whole chain runs in one pass forward and one
//! backward, with no tensor between its steps.
//!
//! Fusable: `+`, `-` and `*` of two operands of the same type, unary `-`,
//! and `tanh`, `sigmoid`, `relu`, `exp` applied to one argument, where the
//! type is one tensor (`Float`, `R[..]`, `Scores v`, a rep over one of
//! those; not a tuple) with no type variable. Inside a step function whose
//! work is hoisted (`hoist.rs`) nothing is fused, so that the hoisted
//! values are used.

use std::cell::Cell;
use std::sync::Arc;

use crate::backend::{Binary, Chain, Step, Unary};
use crate::diagnostic::Diagnostic;
use crate::ir::ty::{Type, TypeTable};
use crate::ir::{ArithOp, Broadcast, Builtin, Expr, ExprKind, PrimOp};

use super::eval::{Env, Eval};
use super::layout::internal;
use super::value::Value;

/// The most steps one chain fuses; deeper operands are evaluated apart
/// (and may be chains of their own).
const MAX_OPS: usize = 64;

thread_local! {
    static CHAINS: Cell<bool> = Cell::new(std::env::var_os("DP_NO_FUSE").is_none());
    static RUNS: Cell<usize> = const { Cell::new(0) };
}

/// How many fused ops (chains, and affine maps with their activation:
/// `learned::affine_activation`) ran on this thread so far (for tests
/// that must know the fused path ran, not just that values agree).
pub fn chain_runs() -> usize {
    RUNS.with(Cell::get)
}

/// Counts one fused op for [`chain_runs`].
pub(crate) fn count_fused() {
    RUNS.with(|n| n.set(n.get() + 1));
}

/// Turn fusion (chains, and affine maps with their activation) on or off
/// on this thread (the reference evaluation of tests; `DP_NO_FUSE=1`
/// turns it off); returns the previous setting.
pub fn set_chains(on: bool) -> bool {
    CHAINS.with(|c| c.replace(on))
}

pub(crate) fn enabled() -> bool {
    CHAINS.with(Cell::get)
}

/// A fusable node: its operation and operands.
enum Node<'e> {
    Unary(Unary, &'e Expr),
    Binary(Binary, &'e Expr, &'e Expr),
}

fn node(e: &Expr) -> Option<Node<'_>> {
    match &e.kind {
        ExprKind::Prim {
            op: PrimOp::RealArith(op, Broadcast::None),
            args,
        } => {
            let b = match op {
                ArithOp::Add => Binary::Add,
                ArithOp::Sub => Binary::Sub,
                ArithOp::Mul => Binary::Mul,
                ArithOp::Div => return None,
            };
            match args.as_slice() {
                [x, y] => Some(Node::Binary(b, x, y)),
                _ => None,
            }
        }
        ExprKind::Prim {
            op: PrimOp::RealNeg,
            args,
        } => match args.as_slice() {
            [x] => Some(Node::Unary(Unary::Neg, x)),
            _ => None,
        },
        ExprKind::App { func, args } => {
            let u = match func.kind {
                ExprKind::Builtin(Builtin::Tanh) => Unary::Tanh,
                ExprKind::Builtin(Builtin::Sigmoid) => Unary::Sigmoid,
                ExprKind::Builtin(Builtin::Relu) => Unary::Relu,
                ExprKind::Builtin(Builtin::Exp) => Unary::Exp,
                _ => return None,
            };
            match args.as_slice() {
                [x] => Some(Node::Unary(u, x)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Is a value of type `ty` one tensor (not a tuple), with no variable?
fn one_tensor(types: &TypeTable, ty: &Type) -> bool {
    match ty {
        Type::Float | Type::Tensor(_) => true,
        Type::Scores(v) => matches!(**v, Type::Vocab(_)),
        Type::Rep(n) => types
            .reps
            .get(n)
            .is_some_and(|d| one_tensor(types, &d.underlying)),
        _ => false,
    }
}

/// The chain rooted at `e` and its leaves, in evaluation order; at most
/// `budget` operations are fused (so the walk's depth is bounded too).
fn walk<'e>(
    e: &'e Expr,
    budget: &mut usize,
    steps: &mut Vec<Step>,
    leaves: &mut Vec<&'e Expr>,
) -> usize {
    let fused = node(e).filter(|_| *budget > 0);
    if fused.is_some() {
        *budget -= 1;
    }
    let step = match fused {
        Some(Node::Unary(u, x)) => {
            let a = walk(x, budget, steps, leaves);
            Step::Unary(u, a)
        }
        Some(Node::Binary(b, x, y)) => {
            let p = walk(x, budget, steps, leaves);
            let q = walk(y, budget, steps, leaves);
            Step::Binary(b, p, q)
        }
        None => {
            leaves.push(e);
            Step::Input(leaves.len() - 1)
        }
    };
    steps.push(step);
    steps.len() - 1
}

/// The steps and leaves of the chain rooted at `e`.
fn steps_and_leaves(e: &Expr) -> (Vec<Step>, Vec<&Expr>) {
    let (mut steps, mut leaves) = (Vec::new(), Vec::new());
    walk(e, &mut { MAX_OPS }, &mut steps, &mut leaves);
    (steps, leaves)
}

/// The chain to evaluate `e` with, if it is the root of one worth fusing
/// (two or more operations).
pub(crate) fn plan(types: &TypeTable, e: &Expr) -> Option<Arc<Chain>> {
    node(e)?;
    if !one_tensor(types, &e.ty) {
        return None;
    }
    let (steps, leaves) = steps_and_leaves(e);
    (steps.len() - leaves.len() >= 2).then(|| Arc::new(Chain { steps }))
}

/// `e` evaluated as `chain` (from [`plan`]).
pub(crate) fn eval(
    ev: &mut Eval,
    env: &mut Env,
    e: &Expr,
    chain: &Arc<Chain>,
) -> Result<Value, Diagnostic> {
    let (_, leaves) = steps_and_leaves(e);
    let mut inputs = Vec::with_capacity(leaves.len());
    for leaf in leaves {
        match ev.eval(env, leaf)? {
            Value::Real(r) => inputs.push(r),
            _ => {
                return Err(internal(
                    leaf.span,
                    "an operand of a chain that is not a tensor",
                ))
            }
        }
    }
    let shape = |r: &crate::backend::Real| (r.rows(), r.cols());
    if inputs.windows(2).any(|w| shape(&w[0]) != shape(&w[1])) {
        return Err(internal(e.span, "operands of a chain of different shapes"));
    }
    count_fused();
    Ok(Value::Real(ev.graph.chain(chain, &inputs)))
}
