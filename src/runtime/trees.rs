//! Trees: `leaf`, `node`, `leaves` and `cata` (a TreeNet).
//!
//! `cata f g` follows DESIGN.md's schedule: every reachable node of every
//! tree of the batch is numbered and given its height; all leaves are
//! evaluated with ONE call of `f`; then, for each height h = 1, 2, ..., the
//! left and right child states of all nodes of height h are gathered from
//! the node-state buffer (one part per height, gathered only from the parts
//! used) and `g` is called ONCE on them. The roots' states are the result.
//! Tree traversals use explicit stacks, never recursion, so deep trees
//! cannot overflow the stack.

use std::rc::Rc;

use crate::diagnostic::Diagnostic;
use crate::ir::Builtin;

use super::batch::{self, batch_size, gather, gather_multi};
use super::builtins::Call;
use super::combinators::apply_rows;
use super::eval::Eval;
use super::layout::{self, internal};
use super::value::{offsets_of, TreeNode, TreeValue, Value};

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
    let mut pos = vec![(0, 0); t.nodes.len()];
    let (mut leaf_ids, mut leaf_rows, mut leaf_owner) = (Vec::new(), Vec::new(), Vec::new());
    let mut by_height: Vec<Vec<usize>> = Vec::new();
    for (id, node) in t.nodes.iter().enumerate() {
        if owner[id] == usize::MAX {
            continue;
        }
        match *node {
            TreeNode::Leaf(row) => {
                pos[id] = (0, leaf_ids.len());
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
    let mut parts = vec![apply_rows(ev, f, &leaf_owner, vec![payload], r_ty, span)?];
    for ids in &by_height {
        if ids.is_empty() {
            continue;
        }
        let (lrows, rrows, owners) = children(t, ids, &pos, &owner);
        let left = gather_multi(ev.graph, &parts, &lrows);
        let right = gather_multi(ev.graph, &parts, &rrows);
        let state = apply_rows(ev, g, &owners, vec![left, right], r_ty, span)?;
        let p = parts.len();
        for (k, &id) in ids.iter().enumerate() {
            pos[id] = (p, k);
        }
        parts.push(state);
    }
    let roots: Vec<(usize, usize)> = t.roots.iter().map(|&r| pos[r]).collect();
    Ok(gather_multi(ev.graph, &parts, &roots))
}

type Rows = Vec<(usize, usize)>;

/// Where the left and right children of `ids` are in the state buffer, and
/// the nodes' owners.
fn children(
    t: &TreeValue,
    ids: &[usize],
    pos: &[(usize, usize)],
    owner: &[usize],
) -> (Rows, Rows, Vec<usize>) {
    let mut l_rows = Vec::with_capacity(ids.len());
    let mut r_rows = Vec::with_capacity(ids.len());
    let mut owners = Vec::with_capacity(ids.len());
    for &id in ids {
        if let TreeNode::Node(l, r) = t.nodes[id] {
            l_rows.push(pos[l]);
            r_rows.push(pos[r]);
            owners.push(owner[id]);
        }
    }
    (l_rows, r_rows, owners)
}
