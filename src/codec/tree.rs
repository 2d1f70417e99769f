//! Data trees (`Tree t` and `Rose t`) of any depth (spec 11.5: up to 10^6
//! levels): decoded,
//! numbered and dropped with explicit stacks, never recursion, so a deep
//! tree costs time and memory linear in its size and no stack.

use serde_json::Value as Json;

use super::decode::{DataError, Decoder, Example};
use crate::ir::ty::Type;
use crate::runtime::value::TreeNode;

/// The deepest data tree accepted (levels below the root).
pub const MAX_DEPTH: usize = 1_000_000;

impl Decoder<'_> {
    /// A `Tree t`: a node is `[left, right]`, a leaf its payload (or
    /// `{"leaf": v}` where the payload is itself written as an array).
    /// `path` is the JSON path of `json`; an error names the failing node's.
    pub(super) fn tree(
        &mut self,
        json: &Json,
        t: &Type,
        path: &mut String,
    ) -> Result<Example, DataError> {
        enum Task<'j> {
            /// Decode `json`, `depth` levels below the root, after adding
            /// `[child]` to the path (none for the root).
            Visit(&'j Json, Option<u8>, usize),
            /// The path back to `len` bytes (a child is done).
            Leave(usize),
            /// Both children are done: join them.
            Build,
        }
        let leaf_is_array = self.written_as_array(t);
        let mut tasks = vec![Task::Visit(json, None, 0)];
        let mut done: Vec<Example> = Vec::new();
        while let Some(task) = tasks.pop() {
            let (json, depth) = match task {
                Task::Leave(len) => {
                    path.truncate(len);
                    continue;
                }
                Task::Build => {
                    let (Some(r), Some(l)) = (done.pop(), done.pop()) else {
                        return self.fail(path, "a node: an array of exactly two trees", json);
                    };
                    done.push(Example::Node(Box::new(l), Box::new(r)));
                    continue;
                }
                Task::Visit(json, child, depth) => {
                    if let Some(i) = child {
                        path.push_str(if i == 0 { "[0]" } else { "[1]" });
                    }
                    (json, depth)
                }
            };
            match json {
                Json::Object(map) if leaf_is_array => match (map.len(), map.get("leaf")) {
                    (1, Some(v)) => {
                        let len = path.len();
                        path.push_str(".leaf");
                        let leaf = self.value(v, t, path)?;
                        path.truncate(len);
                        done.push(Example::Leaf(Box::new(leaf)));
                    }
                    _ => return self.fail(path, "`{\"leaf\": v}` or a node `[left, right]`", json),
                },
                Json::Array(items) if leaf_is_array || items.len() == 2 => {
                    let [l, r] = items.as_slice() else {
                        return self.fail(path, "a node: an array of exactly two trees", json);
                    };
                    if depth >= MAX_DEPTH {
                        let most = format!("a tree at most {MAX_DEPTH} levels deep");
                        return self.fail(path, most, json);
                    }
                    let len = path.len();
                    tasks.push(Task::Build);
                    tasks.push(Task::Leave(len));
                    tasks.push(Task::Visit(r, Some(1), depth + 1));
                    tasks.push(Task::Leave(len));
                    tasks.push(Task::Visit(l, Some(0), depth + 1));
                }
                // Not a leaf (a leaf of this type is no array): a node of
                // the wrong size.
                Json::Array(_) => {
                    return self.fail(path, "a node: an array of exactly two trees", json)
                }
                _ => done.push(Example::Leaf(Box::new(self.value(json, t, path)?))),
            }
        }
        match done.pop() {
            Some(tree) => Ok(tree),
            None => self.fail(path, "a tree", json),
        }
    }
}

impl Decoder<'_> {
    /// A `Rose t`: a node is `[label, [child, ...]]`. `path` is the JSON
    /// path of `json`; an error names the failing node's.
    pub(super) fn rose(
        &mut self,
        json: &Json,
        t: &Type,
        path: &mut String,
    ) -> Result<Example, DataError> {
        enum Task<'j> {
            /// Decode `json`, `depth` levels below the root, after adding
            /// `[1][child]` to the path (none for the root).
            Visit(&'j Json, Option<usize>, usize),
            /// The path back to `len` bytes (a child is done).
            Leave(usize),
            /// The last `usize` results are this label's children.
            Build(Box<Example>, usize),
        }
        const SHAPE: &str = "a rose tree node `[label, [child, ...]]`";
        let mut tasks = vec![Task::Visit(json, None, 0)];
        let mut done: Vec<Example> = Vec::new();
        while let Some(task) = tasks.pop() {
            let (json, depth) = match task {
                Task::Leave(len) => {
                    path.truncate(len);
                    continue;
                }
                Task::Build(label, k) => {
                    let kids = done.split_off(done.len().saturating_sub(k));
                    done.push(Example::Rose(label, kids));
                    continue;
                }
                Task::Visit(json, child, depth) => {
                    if let Some(i) = child {
                        path.push_str(&format!("[1][{i}]"));
                    }
                    (json, depth)
                }
            };
            let Some([label, Json::Array(kids)]) = json.as_array().map(Vec::as_slice) else {
                return self.fail(path, SHAPE, json);
            };
            if !kids.is_empty() && depth >= MAX_DEPTH {
                let most = format!("a tree at most {MAX_DEPTH} levels deep");
                return self.fail(path, most, json);
            }
            let len = path.len();
            path.push_str("[0]");
            let label = self.value(label, t, path)?;
            path.truncate(len);
            tasks.push(Task::Build(Box::new(label), kids.len()));
            for (i, kid) in kids.iter().enumerate().rev() {
                tasks.push(Task::Leave(len));
                tasks.push(Task::Visit(kid, Some(i), depth + 1));
            }
        }
        match done.pop() {
            Some(tree) => Ok(tree),
            None => self.fail(path, "a rose tree", json),
        }
    }
}

/// Number a rose tree's nodes children-first (ids in post-order): each
/// node's children appended to `children` and its end to `offsets`, its
/// label to `labels`. The root's id.
pub(super) fn number_rose<'e>(
    root: &'e Example,
    offsets: &mut Vec<usize>,
    children: &mut Vec<usize>,
    labels: &mut Vec<&'e Example>,
) -> usize {
    enum Step<'e> {
        Visit(&'e Example),
        /// The last `usize` ids done are this node's children.
        Build(&'e Example, usize),
    }
    let mut stack = vec![Step::Visit(root)];
    let mut done: Vec<usize> = Vec::new();
    while let Some(step) = stack.pop() {
        match step {
            Step::Visit(Example::Rose(label, kids)) => {
                stack.push(Step::Build(label, kids.len()));
                stack.extend(kids.iter().rev().map(Step::Visit));
            }
            Step::Visit(other) => {
                offsets.push(children.len());
                labels.push(other);
                done.push(labels.len() - 1);
            }
            Step::Build(label, k) => {
                let kids = done.split_off(done.len().saturating_sub(k));
                children.extend(kids);
                offsets.push(children.len());
                labels.push(label);
                done.push(labels.len() - 1);
            }
        }
    }
    done.pop().unwrap_or(0)
}

/// Number a tree's nodes children-first (ids in post-order, leaves'
/// payloads in `leaves`); the root's id.
pub(super) fn number_tree<'e>(
    root: &'e Example,
    nodes: &mut Vec<TreeNode>,
    leaves: &mut Vec<&'e Example>,
) -> usize {
    enum Step<'e> {
        Visit(&'e Example),
        Build,
    }
    let mut stack = vec![Step::Visit(root)];
    let mut done: Vec<usize> = Vec::new();
    while let Some(step) = stack.pop() {
        match step {
            Step::Visit(Example::Node(l, r)) => {
                stack.push(Step::Build);
                stack.push(Step::Visit(r));
                stack.push(Step::Visit(l));
            }
            Step::Visit(Example::Leaf(v)) => {
                nodes.push(TreeNode::Leaf(leaves.len()));
                leaves.push(v);
                done.push(nodes.len() - 1);
            }
            Step::Visit(other) => {
                nodes.push(TreeNode::Leaf(leaves.len()));
                leaves.push(other);
                done.push(nodes.len() - 1);
            }
            Step::Build => {
                let r = done.pop().unwrap_or(0);
                let l = done.pop().unwrap_or(0);
                nodes.push(TreeNode::Node(l, r));
                done.push(nodes.len() - 1);
            }
        }
    }
    done.pop().unwrap_or(0)
}

/// A deep tree is dropped node by node: the default drop recurses once
/// per level and would overflow any stack on a 10^6-deep chain.
impl Drop for Example {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        take_subtrees(self, &mut stack);
        while let Some(mut e) = stack.pop() {
            take_subtrees(&mut e, &mut stack);
        }
    }
}

/// Moves the subtrees (of a tree node or leaf, a rose tree's label and
/// children) out of `e` into `out`.
fn take_subtrees(e: &mut Example, out: &mut Vec<Example>) {
    let mut take = |b: &mut Box<Example>| {
        if matches!(
            **b,
            Example::Node(..) | Example::Leaf(_) | Example::Rose(..)
        ) {
            out.push(std::mem::replace(&mut **b, Example::Bool(false)));
        }
    };
    match e {
        Example::Node(l, r) => {
            take(l);
            take(r);
        }
        Example::Leaf(x) => take(x),
        Example::Rose(label, kids) => {
            take(label);
            out.append(kids);
        }
        _ => {}
    }
}
