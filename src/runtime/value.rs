//! Batched run-time values.
//!
//! A [`Value`] holds one value *per example of a batch* of B examples, laid
//! out for batched computation (DESIGN.md, "The runtime"):
//!
//! - a representation value (Float, `R[..]`, a rep, `Scores v`, a tuple
//!   type used as a representation is NOT packed: tuples stay tuples) is one
//!   [`Real`] `[B, size]`;
//! - `Int`, `Bool` and vocabulary symbols are host arrays of length B;
//! - `List t` is ragged: `offsets` (B + 1 entries) into one batched value
//!   of all elements of all examples (batch N = total length), so `map` is
//!   one call on N rows;
//! - `Tree t` numbers every node of every tree; leaves' payloads are one
//!   batched value; the structure is host-side, for scheduling by height;
//! - `Grid t` is row-major cells with per-example (height, width);
//! - `Window[..] r` of a representation `r` is a [`Real`] `[B, k * size(r)]`
//!   (elements concatenated); a window of anything else is a `List`.
//! - functions are closures whose captured values are batched too.
//!
//! This module defines the data and the batch-structure operations every
//! value supports (`batch_size`, `gather`, `concat`); it does not evaluate.

use std::rc::Rc;

use crate::backend::Real;
use crate::ir::{Builtin, Lambda, LearnedId};
use crate::types::ty::{TyVar, Type};

/// Types for the quantified variables of the def being evaluated.
pub type TypeSubst = Rc<Vec<(TyVar, Type)>>;

#[derive(Clone, Debug)]
pub enum Value {
    Real(Real),
    Int(Rc<Vec<i64>>),
    Bool(Rc<Vec<bool>>),
    /// Symbol indices into the run-time vocabulary of the value's type.
    Sym(Rc<Vec<u32>>),
    /// The unit value `()` over a batch of this size.
    Unit(usize),
    Tuple(Rc<Vec<Value>>),
    List(Rc<ListValue>),
    Tree(Rc<TreeValue>),
    Grid(Rc<GridValue>),
    Func(Rc<Func>),
}

/// `List t` over a batch: example b's elements are rows
/// `offsets[b]..offsets[b+1]` of `elems`.
#[derive(Clone, Debug)]
pub struct ListValue {
    pub offsets: Vec<usize>,
    pub elems: Value,
}

/// `Tree t` over a batch. Node ids index `nodes`; `roots[b]` is example
/// b's root. Children always have smaller ids than their parent.
#[derive(Clone, Debug)]
pub struct TreeValue {
    pub roots: Vec<usize>,
    pub nodes: Vec<TreeNode>,
    /// One row per `TreeNode::Leaf`, in the order of their `usize`.
    pub leaves: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeNode {
    /// The row of this leaf's payload in `TreeValue::leaves`.
    Leaf(usize),
    /// Left and right child node ids.
    Node(usize, usize),
}

/// `Grid t` over a batch: example b is `dims[b] = (height, width)`, its
/// cells row-major at rows `offsets[b]..offsets[b+1]` of `cells`.
#[derive(Clone, Debug)]
pub struct GridValue {
    pub dims: Vec<(usize, usize)>,
    pub offsets: Vec<usize>,
    pub cells: Value,
}

/// A function value over a batch.
#[derive(Clone, Debug)]
pub enum Func {
    /// A lambda with its captured values (in `Lambda::captures` order) and
    /// the type substitution of the def it was created in.
    Closure {
        lambda: Rc<Lambda>,
        captured: Vec<Value>,
        subst: TypeSubst,
        batch: usize,
    },
    /// A builtin applied to fewer arguments than its arity. `ty` is the
    /// builtin's instantiated type, fully resolved.
    Partial {
        builtin: Builtin,
        ty: Type,
        args: Vec<Value>,
        batch: usize,
    },
    /// A learned piece (weights are looked up at application).
    Learned { id: LearnedId, batch: usize },
    /// `if c then f else g` producing functions: apply both, select per example.
    Select {
        mask: Rc<Vec<bool>>,
        then_f: Rc<Func>,
        else_f: Rc<Func>,
    },
}

impl ListValue {
    pub fn batch_size(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    pub fn len_of(&self, b: usize) -> usize {
        self.offsets[b + 1] - self.offsets[b]
    }
}
