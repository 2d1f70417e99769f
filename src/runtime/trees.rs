//! Trees: `leaf`, `node`, `leaves` and `cata` (a TreeNet).
//!
//! `cata f g` follows DESIGN.md's schedule: every reachable node of every
//! tree of the batch is numbered and given its height; all leaves are
//! evaluated with ONE call of `f` (once per distinct word when `f` is the
//! same for every example: `leaf_states`); then, for each height h = 1, 2,
//! ..., the left and right child states of all nodes of height h are
//! gathered from the node-state buffer (one part per height, gathered only
//! from the parts used) and `g` is called ONCE on them. The roots' states
//! are the result. Tree traversals use explicit stacks, never recursion,
//! so deep trees cannot overflow the stack.

use std::rc::Rc;

use crate::diagnostic::Diagnostic;
use crate::ir::ty::Type;
use crate::ir::Builtin;
use crate::source::Span;

use super::batch::{self, batch_size, gather, gather_multi};
use super::builtins::Call;
use super::combinators::apply_rows;
use super::eval::Eval;
use super::layout::{self, internal};
use super::value::{offsets_of, Func, TreeNode, TreeValue, Value};

pub(crate) fn call(
    ev: &mut Eval,
    b: Builtin,
    c: &Call,
    args: Vec<Value>,
) -> Result<Value, Diagnostic> {
    match (b, args.as_slice()) {
        (Builtin::Leaf, [x]) => {
            let n = batch_size(x);
            Ok(Value::Tree(Rc::new(TreeValue {
                roots: (0..n).collect(),
                nodes: (0..n).map(TreeNode::Leaf).collect(),
                leaves: x.clone(),
            })))
        }
        (Builtin::Node, [Value::Tree(l), Value::Tree(r)]) => {
            Ok(Value::Tree(Rc::new(node(ev, l, r))))
        }
        (Builtin::Leaves, [Value::Tree(t)]) => Ok(leaves(ev, t)),
        (Builtin::Cata, [f, g, Value::Tree(t)]) => cata(ev, c, f, g, t),
        _ => Err(internal(
            c.span,
            format!("`{}` applied to arguments of the wrong kind", b.name()),
        )),
    }
}

/// `node l r`: both trees' nodes, then one new root per example.
fn node(ev: &mut Eval, l: &TreeValue, r: &TreeValue) -> TreeValue {
    let mut t = batch::concat_trees(ev.graph, &[l, r]);
    let n = l.roots.len();
    let (left, right) = t.roots.split_at(n);
    let new_nodes: Vec<TreeNode> = left
        .iter()
        .zip(right.iter())
        .map(|(&a, &b)| TreeNode::Node(a, b))
        .collect();
    let base = t.nodes.len();
    t.nodes.extend(new_nodes);
    t.roots = (base..base + n).collect();
    t
}

/// The leaf rows of one tree, left to right.
fn leaf_rows(t: &TreeValue, root: usize, out: &mut Vec<usize>) {
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        match t.nodes[id] {
            TreeNode::Leaf(row) => out.push(row),
            TreeNode::Node(l, r) => {
                stack.push(r);
                stack.push(l);
            }
        }
    }
}

fn leaves(ev: &mut Eval, t: &TreeValue) -> Value {
    let mut rows = Vec::new();
    let mut lens = Vec::with_capacity(t.roots.len());
    for &root in &t.roots {
        let before = rows.len();
        leaf_rows(t, root, &mut rows);
        lens.push(rows.len() - before);
    }
    let elems = gather(ev.graph, &t.leaves, &rows);
    Value::list(offsets_of(lens), elems)
}

/// The example owning each node reachable from a root (`usize::MAX` if
/// unreachable), and each reachable node's height.
fn owners_and_heights(t: &TreeValue) -> (Vec<usize>, Vec<usize>) {
    let n = t.nodes.len();
    let mut owner = vec![usize::MAX; n];
    for (b, &root) in t.roots.iter().enumerate() {
        owner[root] = b;
    }
    for id in (0..n).rev() {
        if let (TreeNode::Node(l, r), o) = (t.nodes[id], owner[id]) {
            if o != usize::MAX {
                owner[l] = o;
                owner[r] = o;
            }
        }
    }
    let mut height = vec![0; n];
    for id in 0..n {
        if let TreeNode::Node(l, r) = t.nodes[id] {
            height[id] = 1 + height[l].max(height[r]);
        }
    }
    (owner, height)
}

fn cata(ev: &mut Eval, c: &Call, f: &Value, g: &Value, t: &TreeValue) -> Result<Value, Diagnostic> {
    let span = c.span;
    let r_ty = c.result(3);
    if t.roots.is_empty() {
        return layout::empty(ev.ctx, ev.graph, r_ty, span);
    }
    let (owner, height) = owners_and_heights(t);
    let (mut leaf_ids, mut leaf_rows, mut leaf_owner) = (Vec::new(), Vec::new(), Vec::new());
    let mut by_height: Vec<Vec<usize>> = Vec::new();
    for (id, node) in t.nodes.iter().enumerate() {
        if owner[id] == usize::MAX {
            continue;
        }
        match *node {
            TreeNode::Leaf(row) => {
                leaf_ids.push(id);
                leaf_rows.push(row);
                leaf_owner.push(owner[id]);
            }
            TreeNode::Node(..) => {
                let h = height[id];
                if by_height.len() < h {
                    by_height.resize(h, Vec::new());
                }
                by_height[h - 1].push(id);
            }
        }
    }
    let payload = gather(ev.graph, &t.leaves, &leaf_rows);
    let (leaf_states, slots) = leaf_states(ev, f, payload, &leaf_owner, r_ty, span)?;
    let mut levels = Levels::new(t.nodes.len());
    levels.push_rows(&leaf_ids, &slots, leaf_states);
    for ids in &by_height {
        if ids.is_empty() {
            continue;
        }
        let (lefts, rights, owners) = children(t, ids, &owner);
        let left = levels.gather(ev.graph, &lefts);
        let right = levels.gather(ev.graph, &rights);
        let state = apply_rows(ev, g, &owners, vec![left, right], r_ty, span)?;
        levels.push(ids, state);
    }
    Ok(levels.gather(ev.graph, &t.roots))
}

/// The results of a tree's nodes, one part per height (DESIGN.md's state
/// buffer), and where each node's result is: a node's children are read
/// with one gather from the parts they are in.
pub(super) struct Levels {
    parts: Vec<Value>,
    /// Node id to (part, row).
    pos: Vec<(usize, usize)>,
}

impl Levels {
    pub(super) fn new(nodes: usize) -> Levels {
        Levels {
            parts: Vec::new(),
            pos: vec![(0, 0); nodes],
        }
    }

    /// The results of nodes `ids`: node `ids[k]`'s is row `rows[k]` of
    /// `state`.
    pub(super) fn push_rows(&mut self, ids: &[usize], rows: &[usize], state: Value) {
        let p = self.parts.len();
        for (&id, &row) in ids.iter().zip(rows) {
            self.pos[id] = (p, row);
        }
        self.parts.push(state);
    }

    /// The results of nodes `ids`, one row of `state` each, in order.
    pub(super) fn push(&mut self, ids: &[usize], state: Value) {
        let p = self.parts.len();
        for (k, &id) in ids.iter().enumerate() {
            self.pos[id] = (p, k);
        }
        self.parts.push(state);
    }

    /// The results of nodes `ids`, in order (none before the first push).
    pub(super) fn gather(&self, graph: &mut crate::backend::Graph, ids: &[usize]) -> Value {
        let rows: Vec<(usize, usize)> = ids.iter().map(|&id| self.pos[id]).collect();
        gather_multi(graph, &self.parts, &rows)
    }
}

/// The states of the leaves: `f` applied to each payload; and each leaf's
/// row among them.
///
/// When `f` is the same function for every example (a def or a learned
/// piece, no captured per-example values) and the payloads are symbols or
/// integers, `f` runs once per distinct payload of the minibatch and the
/// leaves share its rows (a treebank's repeated words: 2,000 leaves of a
/// 1,000-word vocabulary are about 860 distinct). Exact, since `f` is a
/// deterministic function of its argument (not in a program that draws
/// random values); the children's gathers scatter-add the shared rows'
/// gradients.
fn leaf_states(
    ev: &mut Eval,
    f: &Value,
    payload: Value,
    owners: &[usize],
    r_ty: &Type,
    span: Span,
) -> Result<(Value, Vec<usize>), Diagnostic> {
    let uniform = !ev.draws && matches!(f, Value::Func(func) if is_uniform(func));
    if let Some((firsts, slots)) = uniform.then(|| distinct(&payload)).flatten() {
        if firsts.len() < owners.len() {
            let payload = gather(ev.graph, &payload, &firsts);
            let owners: Vec<usize> = firsts.iter().map(|&i| owners[i]).collect();
            let states = apply_rows(ev, f, &owners, vec![payload], r_ty, span)?;
            return Ok((states, slots));
        }
    }
    let states = apply_rows(ev, f, owners, vec![payload], r_ty, span)?;
    Ok((states, (0..owners.len()).collect()))
}

/// The same function for every example: its result depends on its
/// arguments only.
fn is_uniform(f: &Func) -> bool {
    match f {
        Func::Closure { captured, .. } | Func::Cell { captured, .. } => captured.is_empty(),
        Func::Learned { .. } => true,
        Func::Partial { args, .. } => args.is_empty(),
        Func::Select { .. } | Func::Applied { .. } | Func::Mixed { .. } | Func::Empty { .. } => {
            false
        }
    }
}

/// For symbol or integer payloads: the row of each distinct value's first
/// occurrence, and each row's index among those.
fn distinct(payload: &Value) -> Option<(Vec<usize>, Vec<usize>)> {
    fn of<K: Copy + Eq + std::hash::Hash>(keys: &[K]) -> (Vec<usize>, Vec<usize>) {
        let mut seen = std::collections::HashMap::with_capacity(keys.len());
        let mut firsts = Vec::new();
        let slots = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                *seen.entry(*k).or_insert_with(|| {
                    firsts.push(i);
                    firsts.len() - 1
                })
            })
            .collect();
        (firsts, slots)
    }
    match payload {
        Value::Sym(x) => Some(of(x)),
        Value::Int(x) => Some(of(x)),
        _ => None,
    }
}

/// The left and right children of `ids`, and the nodes' owners.
fn children(t: &TreeValue, ids: &[usize], owner: &[usize]) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let mut lefts = Vec::with_capacity(ids.len());
    let mut rights = Vec::with_capacity(ids.len());
    let mut owners = Vec::with_capacity(ids.len());
    for &id in ids {
        if let TreeNode::Node(l, r) = t.nodes[id] {
            lefts.push(l);
            rights.push(r);
            owners.push(owner[id]);
        }
    }
    (lefts, rights, owners)
}
