//! Batch-structure operations on [`Value`]s: how many examples a value
//! holds, picking examples by index ([`gather`]), stacking batches
//! ([`concat`], [`gather_multi`]) and per-example choice ([`select`],
//! [`merge`]).
//!
//! These work for every kind of value (reals, host arrays, tuples, ragged
//! lists, trees, grids and functions) and never look at types. They keep the
//! invariants documented in `value.rs`. They do not evaluate anything.
//! Indices passed in are produced by the runtime itself and are in range.

use std::collections::HashMap;
use std::rc::Rc;

use crate::backend::{Graph, Real};

use super::value::{offsets_of, Func, GridValue, ListValue, TreeNode, TreeValue, Value};

/// How many examples `v` holds.
pub fn batch_size(v: &Value) -> usize {
    match v {
        Value::Real(r) => r.rows(),
        Value::Int(x) => x.len(),
        Value::Bool(x) => x.len(),
        Value::Sym(x) => x.len(),
        Value::Unit(n) => *n,
        Value::Tuple(parts) => parts.first().map_or(0, batch_size),
        Value::List(l) => l.batch_size(),
        Value::Tree(t) => t.batch_size(),
        Value::Rose(t) => t.batch_size(),
        Value::Grid(g) => g.batch_size(),
        Value::Func(f) => f.batch_size(),
    }
}

/// Is `idx` exactly `0..n`?
pub fn is_identity(idx: &[usize], n: usize) -> bool {
    idx.len() == n && idx.iter().enumerate().all(|(i, &j)| i == j)
}

/// Example `idx[i]` of `v` becomes example `i` of the result (repeats
/// allowed). Returns `v` itself when `idx` is the identity.
pub fn gather(graph: &mut Graph, v: &Value, idx: &[usize]) -> Value {
    if is_identity(idx, batch_size(v)) {
        return v.clone();
    }
    match v {
        Value::Real(r) => Value::Real(gather_real(graph, r, idx)),
        Value::Int(x) => Value::Int(Rc::new(idx.iter().map(|&i| x[i]).collect())),
        Value::Bool(x) => Value::Bool(Rc::new(idx.iter().map(|&i| x[i]).collect())),
        Value::Sym(x) => Value::Sym(Rc::new(idx.iter().map(|&i| x[i]).collect())),
        Value::Unit(_) => Value::Unit(idx.len()),
        Value::Tuple(parts) => Value::tuple(parts.iter().map(|p| gather(graph, p, idx)).collect()),
        Value::List(l) => Value::List(Rc::new(gather_list(graph, l, idx))),
        Value::Grid(g) => Value::Grid(Rc::new(gather_grid(graph, g, idx))),
        Value::Tree(t) => Value::Tree(Rc::new(gather_tree(graph, t, idx))),
        Value::Rose(t) => Value::Rose(Rc::new(super::roses::gather_rose(graph, t, idx))),
        Value::Func(f) => Value::Func(Rc::new(gather_func(graph, f, idx))),
    }
}

/// `gather_rows`, also for no rows or no columns (empty tensors are made
/// directly: the backend's ops expect data).
pub fn gather_real(graph: &mut Graph, x: &Real, idx: &[usize]) -> Real {
    if idx.is_empty() || x.cols() == 0 {
        return graph.fill(idx.len(), x.cols(), 0.0);
    }
    graph.gather_rows(x, idx)
}

/// `concat_rows`, skipping parts without rows.
pub fn concat_reals(graph: &mut Graph, parts: &[Real]) -> Real {
    let rows: usize = parts.iter().map(Real::rows).sum();
    let cols = parts.first().map_or(0, Real::cols);
    let full: Vec<Real> = parts.iter().filter(|p| p.rows() > 0).cloned().collect();
    match full.as_slice() {
        _ if cols == 0 => graph.fill(rows, 0, 0.0),
        [] => graph.fill(0, cols, 0.0),
        [one] => one.clone(),
        _ => graph.concat_rows(&full),
    }
}

/// Element rows of the examples `idx` (in that order) and their lengths.
fn ragged_rows(offsets: &[usize], idx: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut rows = Vec::new();
    let mut lens = Vec::with_capacity(idx.len());
    for &b in idx {
        rows.extend(offsets[b]..offsets[b + 1]);
        lens.push(offsets[b + 1] - offsets[b]);
    }
    (rows, lens)
}

fn gather_list(graph: &mut Graph, l: &ListValue, idx: &[usize]) -> ListValue {
    let (rows, lens) = ragged_rows(&l.offsets, idx);
    ListValue {
        offsets: offsets_of(lens),
        elems: gather(graph, &l.elems, &rows),
    }
}

fn gather_grid(graph: &mut Graph, g: &GridValue, idx: &[usize]) -> GridValue {
    let (rows, lens) = ragged_rows(&g.offsets, idx);
    GridValue {
        dims: idx.iter().map(|&b| g.dims[b]).collect(),
        offsets: offsets_of(lens),
        cells: gather(graph, &g.cells, &rows),
    }
}

/// Copies the nodes reachable from each picked root, renumbered so that
/// children still precede parents (sharing inside one example is kept;
/// a repeated example gets its own copy).
fn gather_tree(graph: &mut Graph, t: &TreeValue, idx: &[usize]) -> TreeValue {
    let n = t.nodes.len();
    let mut new_id = vec![usize::MAX; n];
    let mut stamp = vec![usize::MAX; n];
    let mut nodes = Vec::new();
    let mut leaf_rows = Vec::new();
    let mut roots = Vec::with_capacity(idx.len());
    for (k, &b) in idx.iter().enumerate() {
        let root = t.roots[b];
        let mut stack = vec![(root, false)];
        while let Some((id, expanded)) = stack.pop() {
            if stamp[id] == k {
                continue;
            }
            match t.nodes[id] {
                TreeNode::Leaf(row) => {
                    stamp[id] = k;
                    new_id[id] = nodes.len();
                    nodes.push(TreeNode::Leaf(leaf_rows.len()));
                    leaf_rows.push(row);
                }
                TreeNode::Node(l, r) if expanded => {
                    stamp[id] = k;
                    new_id[id] = nodes.len();
                    nodes.push(TreeNode::Node(new_id[l], new_id[r]));
                }
                TreeNode::Node(l, r) => {
                    stack.push((id, true));
                    stack.push((r, false));
                    stack.push((l, false));
                }
            }
        }
        roots.push(new_id[root]);
    }
    TreeValue {
        roots,
        nodes,
        leaves: gather(graph, &t.leaves, &leaf_rows),
    }
}

fn gather_func(graph: &mut Graph, f: &Func, idx: &[usize]) -> Func {
    let origin_of = |o: &Rc<Vec<usize>>| Rc::new(idx.iter().map(|&i| o[i]).collect::<Vec<_>>());
    match f {
        Func::Closure {
            lambda,
            captured,
            subst,
            origin,
        } => Func::Closure {
            lambda: lambda.clone(),
            captured: captured.iter().map(|v| gather(graph, v, idx)).collect(),
            subst: subst.clone(),
            origin: origin_of(origin),
        },
        Func::Cell {
            cell,
            captured,
            origin,
        } => Func::Cell {
            cell: cell.clone(),
            captured: captured.iter().map(|v| gather(graph, v, idx)).collect(),
            origin: origin_of(origin),
        },
        Func::Partial {
            builtin,
            ty,
            args,
            origin,
        } => Func::Partial {
            builtin: *builtin,
            ty: ty.clone(),
            args: args.iter().map(|v| gather(graph, v, idx)).collect(),
            origin: origin_of(origin),
        },
        Func::Learned { id, .. } => Func::Learned {
            id: *id,
            batch: idx.len(),
        },
        Func::Select {
            mask,
            then_f,
            else_f,
        } => Func::Select {
            mask: Rc::new(idx.iter().map(|&i| mask[i]).collect()),
            then_f: Rc::new(gather_func(graph, then_f, idx)),
            else_f: Rc::new(gather_func(graph, else_f, idx)),
        },
        Func::Applied { func, args } => Func::Applied {
            func: Rc::new(gather_func(graph, func, idx)),
            args: args.iter().map(|v| gather(graph, v, idx)).collect(),
        },
        Func::Mixed { parts, pick } => Func::Mixed {
            parts: parts.clone(),
            pick: Rc::new(idx.iter().map(|&i| pick[i]).collect()),
        },
        Func::Empty { ty } => Func::Empty { ty: ty.clone() },
    }
}

/// The batches of `parts` stacked, in order. `parts` must be non-empty and
/// all of one kind (values of one type).
pub fn concat(graph: &mut Graph, parts: &[Value]) -> Value {
    if parts.len() == 1 {
        return parts[0].clone();
    }
    match &parts[0] {
        Value::Real(_) => {
            let reals: Vec<_> = parts.iter().filter_map(as_real).collect();
            Value::Real(concat_reals(graph, &reals))
        }
        Value::Int(_) => Value::Int(Rc::new(host_concat(parts, |v| match v {
            Value::Int(x) => Some(x),
            _ => None,
        }))),
        Value::Bool(_) => Value::Bool(Rc::new(host_concat(parts, |v| match v {
            Value::Bool(x) => Some(x),
            _ => None,
        }))),
        Value::Sym(_) => Value::Sym(Rc::new(host_concat(parts, |v| match v {
            Value::Sym(x) => Some(x),
            _ => None,
        }))),
        Value::Unit(_) => Value::Unit(parts.iter().map(batch_size).sum()),
        Value::Tuple(first) => {
            let cols = (0..first.len())
                .map(|i| {
                    let col: Vec<Value> = parts
                        .iter()
                        .filter_map(|p| match p {
                            Value::Tuple(t) => t.get(i).cloned(),
                            _ => None,
                        })
                        .collect();
                    concat(graph, &col)
                })
                .collect();
            Value::tuple(cols)
        }
        Value::List(_) => Value::List(Rc::new(concat_lists(graph, parts))),
        Value::Grid(_) => Value::Grid(Rc::new(concat_grids(graph, parts))),
        Value::Tree(_) => {
            let trees: Vec<&TreeValue> = parts
                .iter()
                .filter_map(|p| match p {
                    Value::Tree(t) => Some(&**t),
                    _ => None,
                })
                .collect();
            Value::Tree(Rc::new(concat_trees(graph, &trees)))
        }
        Value::Rose(_) => {
            let roses: Vec<&super::value::RoseValue> = parts
                .iter()
                .filter_map(|p| match p {
                    Value::Rose(t) => Some(&**t),
                    _ => None,
                })
                .collect();
            Value::Rose(Rc::new(super::roses::concat_roses(graph, &roses)))
        }
        Value::Func(_) => Value::Func(Rc::new(concat_funcs(graph, parts))),
    }
}

fn as_real(v: &Value) -> Option<Real> {
    match v {
        Value::Real(r) => Some(r.clone()),
        _ => None,
    }
}

fn host_concat<T: Clone>(parts: &[Value], get: impl Fn(&Value) -> Option<&Rc<Vec<T>>>) -> Vec<T> {
    let mut out = Vec::new();
    for p in parts {
        if let Some(x) = get(p) {
            out.extend(x.iter().cloned());
        }
    }
    out
}

/// Offsets of several ragged parts joined; `elems` of the parts stacked.
fn join_offsets<'a>(all: impl Iterator<Item = &'a Vec<usize>>) -> Vec<usize> {
    let mut offsets = vec![0];
    let mut base = 0;
    for offs in all {
        for w in offs.windows(2) {
            offsets.push(base + w[1]);
        }
        base += offs.last().copied().unwrap_or(0);
    }
    offsets
}

fn concat_lists(graph: &mut Graph, parts: &[Value]) -> ListValue {
    let lists: Vec<&ListValue> = parts
        .iter()
        .filter_map(|p| match p {
            Value::List(l) => Some(&**l),
            _ => None,
        })
        .collect();
    let elems: Vec<Value> = lists.iter().map(|l| l.elems.clone()).collect();
    ListValue {
        offsets: join_offsets(lists.iter().map(|l| &l.offsets)),
        elems: concat(graph, &elems),
    }
}

fn concat_grids(graph: &mut Graph, parts: &[Value]) -> GridValue {
    let grids: Vec<&GridValue> = parts
        .iter()
        .filter_map(|p| match p {
            Value::Grid(g) => Some(&**g),
            _ => None,
        })
        .collect();
    let cells: Vec<Value> = grids.iter().map(|g| g.cells.clone()).collect();
    GridValue {
        dims: grids.iter().flat_map(|g| g.dims.iter().copied()).collect(),
        offsets: join_offsets(grids.iter().map(|g| &g.offsets)),
        cells: concat(graph, &cells),
    }
}

/// Trees of several batches stacked (node ids and leaf rows renumbered).
pub fn concat_trees(graph: &mut Graph, parts: &[&TreeValue]) -> TreeValue {
    let mut roots = Vec::new();
    let mut nodes = Vec::new();
    let mut leaves = Vec::new();
    let mut leaf_base = 0;
    for t in parts {
        let node_base = nodes.len();
        roots.extend(t.roots.iter().map(|r| r + node_base));
        nodes.extend(t.nodes.iter().map(|n| match *n {
            TreeNode::Leaf(row) => TreeNode::Leaf(row + leaf_base),
            TreeNode::Node(l, r) => TreeNode::Node(l + node_base, r + node_base),
        }));
        leaf_base += batch_size(&t.leaves);
        leaves.push(t.leaves.clone());
    }
    TreeValue {
        roots,
        nodes,
        leaves: concat(graph, &leaves),
    }
}

/// Closures of one lambda are joined by joining their captures; anything
/// else becomes a [`Func::Mixed`].
fn concat_funcs(graph: &mut Graph, parts: &[Value]) -> Func {
    let funcs: Vec<Rc<Func>> = parts
        .iter()
        .filter_map(|p| match p {
            Value::Func(f) if f.batch_size() > 0 => Some(f.clone()),
            _ => None,
        })
        .collect();
    match funcs.as_slice() {
        [] => {
            return parts
                .first()
                .and_then(|p| match p {
                    Value::Func(f) => Some((**f).clone()),
                    _ => None,
                })
                .unwrap_or(Func::Mixed {
                    parts: Vec::new(),
                    pick: Rc::new(Vec::new()),
                })
        }
        [one] => return (**one).clone(),
        _ => {}
    }
    if let Some(f) = concat_closures(graph, &funcs) {
        return f;
    }
    let mut pick = Vec::new();
    for (i, f) in funcs.iter().enumerate() {
        pick.extend((0..f.batch_size()).map(|j| (i, j)));
    }
    Func::Mixed {
        parts: funcs,
        pick: Rc::new(pick),
    }
}

fn concat_closures(graph: &mut Graph, funcs: &[Rc<Func>]) -> Option<Func> {
    let Func::Closure {
        lambda: lam0,
        subst: subst0,
        captured: cap0,
        ..
    } = &*funcs[0]
    else {
        return None;
    };
    let mut captured: Vec<Vec<Value>> = vec![Vec::new(); cap0.len()];
    let mut origin = Vec::new();
    for f in funcs {
        let Func::Closure {
            lambda,
            subst,
            captured: cap,
            origin: o,
        } = &**f
        else {
            return None;
        };
        if !Rc::ptr_eq(lambda, lam0) || !(Rc::ptr_eq(subst, subst0) || subst == subst0) {
            return None;
        }
        for (slot, v) in captured.iter_mut().zip(cap.iter()) {
            slot.push(v.clone());
        }
        origin.extend(o.iter().copied());
    }
    Some(Func::Closure {
        lambda: lam0.clone(),
        captured: captured.iter().map(|vs| concat(graph, vs)).collect(),
        subst: subst0.clone(),
        origin: Rc::new(origin),
    })
}

/// Rows drawn from several values of one type: result row i is row
/// `rows[i].1` of `parts[rows[i].0]`. Gathers only from the parts used, then
/// puts the rows in order with one more gather if several parts are used.
/// Its cost grows with `rows`, not with `parts` (a deep tree's level reads
/// two of a hundred thousand parts).
pub fn gather_multi(graph: &mut Graph, parts: &[Value], rows: &[(usize, usize)]) -> Value {
    let (used, mut compact) = used_parts(parts, &[rows]);
    if used.is_empty() {
        return gather(graph, &parts[0], &[]);
    }
    gather_used(graph, &used, &compact.pop().unwrap_or_default())
}

/// The parts that `rows` (lists of (part, row)) read, in order of first
/// use, and the lists with each part renumbered among them: a gather's
/// cost must not grow with parts it does not read (a deep tree has one
/// per height).
pub fn used_parts(
    parts: &[Value],
    rows: &[&[(usize, usize)]],
) -> (Vec<Value>, Vec<Vec<(usize, usize)>>) {
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut used: Vec<Value> = Vec::new();
    let compact = rows
        .iter()
        .map(|rows| {
            rows.iter()
                .map(|&(p, r)| {
                    let k = *index.entry(p).or_insert_with(|| {
                        used.push(parts[p].clone());
                        used.len() - 1
                    });
                    (k, r)
                })
                .collect()
        })
        .collect();
    (used, compact)
}

/// [`gather_multi`] where every part is used.
fn gather_used(graph: &mut Graph, parts: &[Value], rows: &[(usize, usize)]) -> Value {
    let reals: Option<Vec<Real>> = parts.iter().map(as_real).collect();
    if let Some(reals) = reals.filter(|r| !rows.is_empty() && r[0].cols() > 0) {
        return Value::Real(graph.gather_from(&reals, rows));
    }
    if let Some(Value::Tuple(first)) = parts.first() {
        let k = first.len();
        let tuples: Option<Vec<&Rc<Vec<Value>>>> = parts
            .iter()
            .map(|p| match p {
                Value::Tuple(t) if t.len() == k => Some(t),
                _ => None,
            })
            .collect();
        if let Some(tuples) = tuples.filter(|_| k > 0) {
            let each = (0..k).map(|i| {
                let column: Vec<Value> = tuples.iter().map(|t| t[i].clone()).collect();
                gather_used(graph, &column, rows)
            });
            return Value::tuple(each.collect());
        }
    }
    let mut per_part: Vec<Vec<usize>> = vec![Vec::new(); parts.len()];
    let mut slot = Vec::with_capacity(rows.len());
    for &(p, r) in rows {
        slot.push((p, per_part[p].len()));
        per_part[p].push(r);
    }
    let used: Vec<usize> = (0..parts.len())
        .filter(|&p| !per_part[p].is_empty())
        .collect();
    match used.as_slice() {
        [] => gather(graph, &parts[0], &[]),
        [p] => gather(graph, &parts[*p], &per_part[*p]),
        _ => {
            let mut base = vec![0; parts.len()];
            let mut pieces = Vec::with_capacity(used.len());
            let mut acc = 0;
            for &p in &used {
                base[p] = acc;
                acc += per_part[p].len();
                pieces.push(gather(graph, &parts[p], &per_part[p]));
            }
            let joined = concat(graph, &pieces);
            let order: Vec<usize> = slot.iter().map(|&(p, k)| base[p] + k).collect();
            gather(graph, &joined, &order)
        }
    }
}

/// Example b from `a` where `mask[b]`, else from `b` (both of one type and
/// batch `mask.len()`).
pub fn select(graph: &mut Graph, mask: &[bool], a: &Value, b: &Value) -> Value {
    if mask.iter().all(|&m| m) {
        return a.clone();
    }
    if mask.iter().all(|&m| !m) {
        return b.clone();
    }
    match (a, b) {
        (Value::Real(x), Value::Real(y)) => Value::Real(graph.select_rows(mask, x, y)),
        (Value::Int(x), Value::Int(y)) => Value::Int(Rc::new(pick(mask, x, y))),
        (Value::Bool(x), Value::Bool(y)) => Value::Bool(Rc::new(pick(mask, x, y))),
        (Value::Sym(x), Value::Sym(y)) => Value::Sym(Rc::new(pick(mask, x, y))),
        (Value::Tuple(x), Value::Tuple(y)) => Value::tuple(
            x.iter()
                .zip(y.iter())
                .map(|(p, q)| select(graph, mask, p, q))
                .collect(),
        ),
        (Value::Func(f), Value::Func(g)) => Value::func(Func::Select {
            mask: Rc::new(mask.to_vec()),
            then_f: f.clone(),
            else_f: g.clone(),
        }),
        _ => {
            let n = mask.len();
            let both = concat(graph, &[a.clone(), b.clone()]);
            let idx: Vec<usize> = (0..n).map(|i| if mask[i] { i } else { n + i }).collect();
            gather(graph, &both, &idx)
        }
    }
}

fn pick<T: Copy>(mask: &[bool], x: &[T], y: &[T]) -> Vec<T> {
    (0..mask.len())
        .map(|i| if mask[i] { x[i] } else { y[i] })
        .collect()
}

/// The inverse of splitting a batch by `mask`: `a` holds the examples where
/// `mask` is true (in order), `b` the others. Either may be `None` when no
/// example went that way.
pub fn merge(graph: &mut Graph, mask: &[bool], a: Option<Value>, b: Option<Value>) -> Value {
    match (a, b) {
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => Value::Unit(0),
        (Some(a), Some(b)) => {
            let na = batch_size(&a);
            let (mut i, mut j) = (0, na);
            let order: Vec<usize> = mask
                .iter()
                .map(|&m| {
                    let k = if m { &mut i } else { &mut j };
                    *k += 1;
                    *k - 1
                })
                .collect();
            let both = concat(graph, &[a, b]);
            gather(graph, &both, &order)
        }
    }
}

/// Positions where `mask` is true, and where it is false.
pub fn split_mask(mask: &[bool]) -> (Vec<usize>, Vec<usize>) {
    let mut yes = Vec::new();
    let mut no = Vec::new();
    for (i, &m) in mask.iter().enumerate() {
        if m {
            yes.push(i)
        } else {
            no.push(i)
        }
    }
    (yes, no)
}
