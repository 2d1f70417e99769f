//! Rose trees (spec 11.5): `rose`, `nodes` and `cataRose`, and the batch
//! structure of a [`RoseValue`] (gather, concat).
//!
//! `cataRose f t` follows the schedule of `cata` (DESIGN.md): every
//! reachable node of every tree of the batch is given its height (0 for a
//! node without children), and for each height h = 0, 1, ... the node
//! function is called ONCE on all nodes of that height: their labels, and
//! their children's results gathered from the state buffer (one part per
//! height, read only from the parts used) as one ragged list. The roots'
//! results are the value. Traversals use explicit stacks, never recursion,
//! so trees 10^6 levels deep cost linear time and no stack.

use std::rc::Rc;

use crate::backend::Graph;
use crate::diagnostic::Diagnostic;
use crate::ir::Builtin;

use super::batch::{concat, gather};
use super::builtins::Call;
use super::combinators::apply_rows;
use super::eval::Eval;
use super::layout::{self, internal};
use super::trees::Levels;
use super::value::{offsets_of, ListValue, RoseValue, Value};

pub(crate) fn call(
    ev: &mut Eval,
    b: Builtin,
    c: &Call,
    args: Vec<Value>,
) -> Result<Value, Diagnostic> {
    match (b, args.as_slice()) {
        (Builtin::Rose, [x, Value::List(kids)]) => match &kids.elems {
            Value::Rose(k) => Ok(Value::Rose(Rc::new(rose(ev.graph, x, kids, k)))),
            _ => Err(internal(c.span, "`rose`: children that are not trees")),
        },
        (Builtin::Nodes, [Value::Rose(t)]) => Ok(nodes(ev.graph, t)),
        (Builtin::CataRose, [f, Value::Rose(t)]) => cata_rose(ev, c, f, t),
        _ => Err(internal(
            c.span,
            format!("`{}` applied to arguments of the wrong kind", b.name()),
        )),
    }
}

/// `rose x kids`: the children's nodes, then one new root per example
/// whose children are that example's list elements.
fn rose(graph: &mut Graph, x: &Value, kids: &ListValue, k: &RoseValue) -> RoseValue {
    let base = k.node_count();
    let mut offsets = k.offsets.clone();
    let mut children = k.children.clone();
    for w in kids.offsets.windows(2) {
        children.extend(k.roots[w[0]..w[1]].iter().copied());
        offsets.push(children.len());
    }
    let n = kids.batch_size();
    RoseValue {
        roots: (base..base + n).collect(),
        offsets,
        children,
        labels: concat(graph, &[k.labels.clone(), x.clone()]),
    }
}

/// `nodes t`: each tree's labels in pre-order.
fn nodes(graph: &mut Graph, t: &RoseValue) -> Value {
    let mut rows = Vec::new();
    let mut lens = Vec::with_capacity(t.roots.len());
    let mut stack = Vec::new();
    for &root in &t.roots {
        let before = rows.len();
        stack.push(root);
        while let Some(id) = stack.pop() {
            rows.push(id);
            stack.extend(t.children_of(id).iter().rev());
        }
        lens.push(rows.len() - before);
    }
    Value::list(offsets_of(lens), gather(graph, &t.labels, &rows))
}

/// The example owning each node reachable from a root (`usize::MAX` if
/// unreachable), and each node's height (0 without children).
fn owners_and_heights(t: &RoseValue) -> (Vec<usize>, Vec<usize>) {
    let n = t.node_count();
    let mut owner = vec![usize::MAX; n];
    for (b, &root) in t.roots.iter().enumerate() {
        owner[root] = b;
    }
    for id in (0..n).rev() {
        let o = owner[id];
        if o != usize::MAX {
            for &c in t.children_of(id) {
                owner[c] = o;
            }
        }
    }
    let mut height = vec![0; n];
    for id in 0..n {
        let below = t.children_of(id).iter().map(|&c| height[c] + 1).max();
        height[id] = below.unwrap_or(0);
    }
    (owner, height)
}

fn cata_rose(ev: &mut Eval, c: &Call, f: &Value, t: &RoseValue) -> Result<Value, Diagnostic> {
    let span = c.span;
    let r_ty = c.result(2);
    if t.roots.is_empty() {
        return layout::empty(ev.ctx, ev.graph, r_ty, span);
    }
    let (owner, height) = owners_and_heights(t);
    let mut by_height: Vec<Vec<usize>> = Vec::new();
    for id in 0..t.node_count() {
        if owner[id] != usize::MAX {
            let h = height[id];
            if by_height.len() <= h {
                by_height.resize(h + 1, Vec::new());
            }
            by_height[h].push(id);
        }
    }
    let mut levels = Levels::new(t.node_count());
    for ids in &by_height {
        if ids.is_empty() {
            continue;
        }
        let mut kids = Vec::new();
        let mut lens = Vec::with_capacity(ids.len());
        for &id in ids {
            kids.extend_from_slice(t.children_of(id));
            lens.push(t.children_of(id).len());
        }
        let results = if kids.is_empty() {
            layout::empty(ev.ctx, ev.graph, r_ty, span)?
        } else {
            levels.gather(ev.graph, &kids)
        };
        let labels = gather(ev.graph, &t.labels, ids);
        let owners: Vec<usize> = ids.iter().map(|&id| owner[id]).collect();
        let list = Value::list(offsets_of(lens), results);
        let state = apply_rows(ev, f, &owners, vec![labels, list], r_ty, span)?;
        levels.push(ids, state);
    }
    Ok(levels.gather(ev.graph, &t.roots))
}

/// Copies the nodes reachable from each picked root, renumbered so that
/// children still precede parents (sharing inside one example is kept; a
/// repeated example gets its own copy).
pub(super) fn gather_rose(graph: &mut Graph, t: &RoseValue, idx: &[usize]) -> RoseValue {
    let n = t.node_count();
    let mut new_id = vec![usize::MAX; n];
    let mut stamp = vec![usize::MAX; n];
    let (mut offsets, mut children) = (vec![0], Vec::new());
    let mut rows = Vec::new();
    let mut roots = Vec::with_capacity(idx.len());
    let mut stack = Vec::new();
    for (k, &b) in idx.iter().enumerate() {
        let root = t.roots[b];
        stack.push((root, false));
        while let Some((id, expanded)) = stack.pop() {
            if stamp[id] == k {
                continue;
            }
            if expanded {
                stamp[id] = k;
                new_id[id] = rows.len();
                rows.push(id);
                children.extend(t.children_of(id).iter().map(|&c| new_id[c]));
                offsets.push(children.len());
            } else {
                stack.push((id, true));
                stack.extend(t.children_of(id).iter().rev().map(|&c| (c, false)));
            }
        }
        roots.push(new_id[root]);
    }
    RoseValue {
        roots,
        offsets,
        children,
        labels: gather(graph, &t.labels, &rows),
    }
}

/// Rose trees of several batches stacked (node ids renumbered).
pub(super) fn concat_roses(graph: &mut Graph, parts: &[&RoseValue]) -> RoseValue {
    let (mut roots, mut offsets, mut children) = (Vec::new(), vec![0], Vec::new());
    let mut labels = Vec::with_capacity(parts.len());
    let mut node_base = 0;
    for t in parts {
        roots.extend(t.roots.iter().map(|r| r + node_base));
        let child_base = children.len();
        offsets.extend(t.offsets.iter().skip(1).map(|o| o + child_base));
        children.extend(t.children.iter().map(|c| c + node_base));
        node_base += t.node_count();
        labels.push(t.labels.clone());
    }
    RoseValue {
        roots,
        offsets,
        children,
        labels: concat(graph, &labels),
    }
}
