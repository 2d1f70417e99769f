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

use crate::backend::Real;
use crate::ir::Pattern;
use crate::lower::gather::Packing;

use super::batch::{self, batch_size, gather, gather_multi};
use super::builtins::Call;
use super::combinators::apply_rows;
use super::eval::Eval;
use super::layout::{self, internal};
use super::network::{apply_cell_packed, Packed, Run};
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
    let folding = Folding::of(ev, g);
    for ids in &by_height {
        if ids.is_empty() {
            continue;
        }
        let (lefts, rights, owners) = children(t, ids, &owner);
        let rows = [levels.rows(&lefts), levels.rows(&rights)];
        let folded = match &folding {
            Some(f) => f.apply(ev, g, &levels, &rows, &owners, span)?,
            None => None,
        };
        let state = match folded {
            Some(state) => state,
            None => {
                let left = gather_multi(ev.graph, &levels.parts, &rows[0]);
                let right = gather_multi(ev.graph, &levels.parts, &rows[1]);
                apply_rows(ev, g, &owners, vec![left, right], r_ty, span)?
            }
        };
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
        gather_multi(graph, &self.parts, &self.rows(ids))
    }

    /// Where the results of nodes `ids` are: (part, row) each.
    fn rows(&self, ids: &[usize]) -> Vec<(usize, usize)> {
        ids.iter().map(|&id| self.pos[id]).collect()
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

thread_local! {
    static FOLDING: std::cell::Cell<bool> =
        std::cell::Cell::new(std::env::var_os("DP_NO_FOLD").is_none());
    static FOLDED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Gather the children's states of a TreeNet node cell straight into its
/// affine map's input (`lower::gather`; the default, `DP_NO_FOLD=1` turns
/// it off): off, the reference of tests. Returns the previous setting.
pub fn set_gather_folding(on: bool) -> bool {
    FOLDING.with(|f| f.replace(on))
}

/// How many heights ran with their gathers folded on this thread (tests
/// that must know the folded path ran).
pub fn folded_gathers() -> usize {
    FOLDED.with(std::cell::Cell::get)
}

/// A node cell whose affine map reads children's states packed
/// (`lower::gather::Packing`), and where each packed input is: the child
/// (0 left, 1 right) and the path of tuple components to it in that
/// child's state.
struct Folding {
    packing: Packing,
    sources: Vec<(usize, Vec<usize>)>,
}

impl Folding {
    /// The folding of node function `g`: a network cell of two
    /// parameters with a packing (not while a probe watches the pieces'
    /// inputs, which it reads as written).
    fn of(ev: &Eval, g: &Value) -> Option<Folding> {
        if !FOLDING.with(std::cell::Cell::get) || ev.ctx.probe.is_some() {
            return None;
        }
        let Value::Func(f) = g else { return None };
        let cell = Run::of(f)?.cell;
        let [left, right] = cell.params.as_slice() else {
            return None;
        };
        let packing = crate::lower::gather::packed_children(cell)?;
        let sources = packing.inputs.iter().map(|&i| match path_to(left, i) {
            Some(path) => Some((0, path)),
            None => path_to(right, i).map(|path| (1, path)),
        });
        let sources = sources.collect::<Option<Vec<_>>>()?;
        Some(Folding { packing, sources })
    }

    /// `g` on the children at `rows` (left, right) with the packed inputs
    /// gathered in one op: `None` when the states do not pack (a
    /// component that is not reals), for the plain path.
    fn apply(
        &self,
        ev: &mut Eval,
        g: &Value,
        levels: &Levels,
        rows: &[Vec<(usize, usize)>; 2],
        owners: &[usize],
        span: Span,
    ) -> Result<Option<Value>, Diagnostic> {
        // Only the parts the children are in (a deep tree has a part per
        // height).
        let (parts, rows) = batch::used_parts(&levels.parts, &[&rows[0], &rows[1]]);
        let Some(packed) = self.packed_input(ev.graph, &parts, &rows) else {
            return Ok(None);
        };
        let args = self.other_inputs(ev.graph, &parts, &rows);
        let fg = gather(ev.graph, g, owners);
        let run = match &fg {
            Value::Func(f) => Run::of(f),
            _ => None,
        };
        let run = run.ok_or_else(|| internal(span, "a node function that is no cell"))?;
        let packed = Packed {
            packing: self.packing.clone(),
            value: Value::Real(packed),
        };
        FOLDED.with(|f| f.set(f.get() + 1));
        apply_cell_packed(ev, &run, args, packed, span).map(Some)
    }

    /// The affine map's input: one block per real of each packed component
    /// (in `layout::pack`'s order), gathered from the children's `rows` of
    /// `parts` as one op; `None` if a component is not reals.
    fn packed_input(
        &self,
        graph: &mut crate::backend::Graph,
        parts: &[Value],
        rows: &[Vec<(usize, usize)>],
    ) -> Option<Real> {
        let mut blocks: Vec<(Vec<Real>, usize)> = Vec::new();
        for (child, path) in &self.sources {
            let reals = parts.iter().map(|v| {
                let mut out = Vec::new();
                component(v, path)
                    .is_some_and(|c| layout::reals_of(c, &mut out))
                    .then_some(out)
            });
            let reals = reals.collect::<Option<Vec<Vec<Real>>>>()?;
            let width = reals.first().map_or(0, Vec::len);
            if width == 0 || reals.iter().any(|r| r.len() != width) {
                return None;
            }
            for k in 0..width {
                blocks.push((reals.iter().map(|r| r[k].clone()).collect(), *child));
            }
        }
        let spec: Vec<(&[Real], &[(usize, usize)])> = (blocks.iter())
            .map(|(parts, child)| (parts.as_slice(), rows[*child].as_slice()))
            .collect();
        Some(graph.gather_cols(&spec))
    }

    /// The children's states gathered as the cell's arguments, each packed
    /// component a placeholder (gathered for nothing, bound to no input).
    fn other_inputs(
        &self,
        graph: &mut crate::backend::Graph,
        parts: &[Value],
        rows: &[Vec<(usize, usize)>],
    ) -> Vec<Value> {
        let mut args = Vec::with_capacity(rows.len());
        for (child, rows) in rows.iter().enumerate() {
            let paths: Vec<&[usize]> = (self.sources.iter())
                .filter(|(c, _)| *c == child)
                .map(|(_, p)| p.as_slice())
                .collect();
            let parts: Vec<Value> = (parts.iter())
                .map(|v| paths.iter().fold(v.clone(), |v, p| placeholder(&v, p)))
                .collect();
            args.push(gather_multi(graph, &parts, rows));
        }
        args
    }
}

/// The path of tuple components to input `i` in a parameter's pattern.
fn path_to(p: &Pattern, i: usize) -> Option<Vec<usize>> {
    match p {
        Pattern::Bind(j, _) if *j as usize == i => Some(Vec::new()),
        Pattern::Tuple(ps) => ps.iter().enumerate().find_map(|(k, p)| {
            let mut path = path_to(p, i)?;
            path.insert(0, k);
            Some(path)
        }),
        _ => None,
    }
}

/// The component of `v` at `path`.
fn component<'v>(v: &'v Value, path: &[usize]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, &k| match v {
        Value::Tuple(parts) => parts.get(k),
        _ => None,
    })
}

/// `v` with its component at `path` a placeholder (a unit value of its
/// rows: gathered for nothing, bound to no input).
fn placeholder(v: &Value, path: &[usize]) -> Value {
    match (v, path.split_first()) {
        (Value::Tuple(parts), Some((&k, rest))) if k < parts.len() => {
            let mut parts = parts.to_vec();
            parts[k] = placeholder(&parts[k], rest);
            Value::tuple(parts)
        }
        _ => Value::Unit(batch_size(v)),
    }
}
