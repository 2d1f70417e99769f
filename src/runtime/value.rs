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
//! - `Rose t` numbers every node of every tree too; each node has a label
//!   row and a ragged list of child ids (DESIGN.md's tree schedule applies);
//! - `Grid t` is row-major cells with per-example (height, width);
//! - `Window[..] r` of a representation `r` is a [`Real`] `[B, k * size(r)]`
//!   (elements concatenated); a window of anything else is a `List`.
//! - functions are closures whose captured values are batched too.
//!
//! Invariants every producer keeps (the runtime relies on them):
//!
//! - `ListValue::offsets` starts at 0, never decreases, and ends at the batch
//!   size of `elems` (example b's elements are contiguous, examples in order);
//!   the same holds for `GridValue::offsets` and `cells`, and every grid
//!   example has exactly `height * width` cells;
//! - in a `TreeValue`, children have smaller ids than their parent, every
//!   `Leaf(row)` names a distinct row of `leaves`, and `leaves` has exactly
//!   one row per leaf node;
//! - in a `RoseValue`, children have smaller ids than their parent,
//!   `offsets` has one more entry than there are nodes (starting at 0,
//!   never decreasing, ending at `children.len()`), and `labels` has exactly
//!   one row per node;
//! - a function value knows its batch; applying it takes arguments of that
//!   batch.
//!
//! This module defines the data and small accessors; the batch-structure
//! operations (`gather`, `concat`, `select`) are in `batch.rs`, evaluation is
//! in `eval.rs`.

use std::rc::Rc;

use crate::backend::Real;
use crate::ir::ty::{TyVar, Type};
use crate::ir::{Builtin, Lambda, LearnedId};

/// Types for the quantified variables of the def being evaluated.
pub type TypeSubst = Rc<Vec<(TyVar, Type)>>;

/// For each row of a batch, the index of the top-level example it belongs
/// to (used to name the example in run-time errors). Its length is the
/// batch size.
pub type Origin = Rc<Vec<usize>>;

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
    Rose(Rc<RoseValue>),
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

/// `Rose t` over a batch. Node ids index `labels` (one row per node);
/// node i's children are `children[offsets[i]..offsets[i + 1]]`, in order,
/// each with a smaller id than i; `roots[b]` is example b's root.
#[derive(Clone, Debug)]
pub struct RoseValue {
    pub roots: Vec<usize>,
    pub offsets: Vec<usize>,
    pub children: Vec<usize>,
    pub labels: Value,
}

impl RoseValue {
    pub fn batch_size(&self) -> usize {
        self.roots.len()
    }
    pub fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    /// The children of node `id`.
    pub fn children_of(&self, id: usize) -> &[usize] {
        &self.children[self.offsets[id]..self.offsets[id + 1]]
    }
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
    /// the type substitution of the def it was created in. Its batch is
    /// `origin.len()`.
    Closure {
        lambda: Rc<Lambda>,
        captured: Vec<Value>,
        subst: TypeSubst,
        origin: Origin,
    },
    /// A cell of a lowered network (`runtime/network.rs`): a def's body or
    /// a module's step function, with the values of its captured inputs
    /// (in `Cell::captured` order). Its batch is `origin.len()`.
    Cell {
        cell: Rc<crate::lower::Cell>,
        captured: Vec<Value>,
        origin: Origin,
    },
    /// A builtin applied to fewer arguments than its arity. `ty` is the
    /// builtin's instantiated type, fully resolved. Its batch is
    /// `origin.len()`.
    Partial {
        builtin: Builtin,
        ty: Type,
        args: Vec<Value>,
        origin: Origin,
    },
    /// A learned piece (weights are looked up at application).
    Learned { id: LearnedId, batch: usize },
    /// `if c then f else g` producing functions: apply both, select per example.
    Select {
        mask: Rc<Vec<bool>>,
        then_f: Rc<Func>,
        else_f: Rc<Func>,
    },
    /// A function (closure or learned piece) applied to fewer arguments
    /// than it takes; `args` come first at application.
    Applied { func: Rc<Func>, args: Vec<Value> },
    /// Examples drawn from several functions (the result of concatenating or
    /// merging batches of different functions): example b is example
    /// `pick[b].1` of `parts[pick[b].0]`.
    Mixed {
        parts: Vec<Rc<Func>>,
        pick: Rc<Vec<(usize, usize)>>,
    },
    /// No examples: the elements of an empty list of functions, of the
    /// (resolved) function type `ty`. Applying it gives the empty value of
    /// the result type.
    Empty { ty: Type },
}

impl Func {
    /// How many examples this function value holds.
    pub fn batch_size(&self) -> usize {
        match self {
            Func::Closure { origin, .. }
            | Func::Partial { origin, .. }
            | Func::Cell { origin, .. } => origin.len(),
            Func::Learned { batch, .. } => *batch,
            Func::Select { mask, .. } => mask.len(),
            Func::Applied { func, .. } => func.batch_size(),
            Func::Mixed { pick, .. } => pick.len(),
            Func::Empty { .. } => 0,
        }
    }
}

impl ListValue {
    pub fn batch_size(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    pub fn len_of(&self, b: usize) -> usize {
        self.offsets[b + 1] - self.offsets[b]
    }
    /// Per-example lengths.
    pub fn lengths(&self) -> Vec<usize> {
        self.offsets.windows(2).map(|w| w[1] - w[0]).collect()
    }
    /// For every element row, the example it belongs to.
    pub fn owners(&self) -> Vec<usize> {
        owners_of(&self.offsets)
    }
}

impl GridValue {
    pub fn batch_size(&self) -> usize {
        self.dims.len()
    }
    /// For every cell row, the example it belongs to.
    pub fn owners(&self) -> Vec<usize> {
        owners_of(&self.offsets)
    }
}

impl TreeValue {
    pub fn batch_size(&self) -> usize {
        self.roots.len()
    }
}

/// For offsets `[0, 2, 2, 5]`, the owners `[0, 0, 2, 2, 2]`.
pub fn owners_of(offsets: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(offsets.last().copied().unwrap_or(0));
    for (b, w) in offsets.windows(2).enumerate() {
        out.extend(std::iter::repeat_n(b, w[1].saturating_sub(w[0])));
    }
    out
}

/// Offsets `[0, l0, l0 + l1, ...]` from lengths.
pub fn offsets_of(lengths: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut out = vec![0];
    let mut acc = 0;
    for l in lengths {
        acc += l;
        out.push(acc);
    }
    out
}

impl Value {
    pub fn func(f: Func) -> Value {
        Value::Func(Rc::new(f))
    }
    pub fn list(offsets: Vec<usize>, elems: Value) -> Value {
        Value::List(Rc::new(ListValue { offsets, elems }))
    }
    pub fn tuple(parts: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(parts))
    }
}
