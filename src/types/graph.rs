//! The reference graph between defs: which def uses which, strongly
//! connected components (Tarjan, iterative), the order to check defs in,
//! and the `RecursiveDefinition` diagnostic for each cycle.
//!
//! It walks the AST only to find free names; it does not type anything.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind, Pattern, PatternKind};
use crate::types::scope::Scope;

/// Edges of one node: the nodes it refers to, each with the first span.
pub type Edges = Vec<(usize, Span)>;

/// The free names of a def (parameters and body), in order of occurrence.
pub fn free_names(params: &[ast::Param], body: &ast::Expr) -> Vec<(String, Span)> {
    let mut bound = Bound::default();
    for p in params {
        bind(&p.pattern, &mut bound);
    }
    let mut out = Vec::new();
    walk(body, &mut bound, &mut out);
    out
}

/// The names bound around a point of the walk.
type Bound = Scope<()>;

fn bind(p: &Pattern, bound: &mut Bound) {
    match &p.kind {
        PatternKind::Var(n) => bound.push(n, ()),
        PatternKind::Wildcard => {}
        PatternKind::Tuple(ps) => ps.iter().for_each(|p| bind(p, bound)),
        PatternKind::Annotated(p, _) => bind(p, bound),
    }
}

fn walk(e: &ast::Expr, bound: &mut Bound, out: &mut Vec<(String, Span)>) {
    // An explicit stack keeps deep left-nested applications from
    // overflowing the native stack.
    let mut stack: Vec<&ast::Expr> = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Var(n) => {
                if !bound.contains(n) {
                    out.push((n.clone(), e.span));
                }
            }
            ExprKind::App(f, x) | ExprKind::Binary(_, f, x) => {
                stack.push(x);
                stack.push(f);
            }
            ExprKind::Lambda(ps, body) => {
                let mark = bound.len();
                ps.iter().for_each(|p| bind(p, bound));
                walk(body, bound, out);
                bound.truncate(mark);
            }
            ExprKind::Let(p, v, body) => {
                walk(v, bound, out);
                let mark = bound.len();
                bind(p, bound);
                walk(body, bound, out);
                bound.truncate(mark);
            }
            ExprKind::If(c, a, b) => {
                stack.push(b);
                stack.push(a);
                stack.push(c);
            }
            ExprKind::Tuple(es) | ExprKind::List(es) => stack.extend(es.iter().rev()),
            ExprKind::Annot(x, _) | ExprKind::Neg(x) => stack.push(x),
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Error => {}
        }
    }
}

/// Strongly connected components, dependencies before dependents; nodes
/// within a component in ascending order.
pub fn sccs(edges: &[Edges]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge to visit)
        let mut work = vec![(root, 0usize)];
        while let Some(&(v, i)) = work.last() {
            if i == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&(w, _)) = edges[v].get(i) {
                if let Some(top) = work.last_mut() {
                    top.1 += 1;
                }
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                comp.sort_unstable();
                out.push(comp);
            }
        }
    }
    out
}

/// Is this component a cycle (more than one node, or a self-reference)?
pub fn is_cycle(comp: &[usize], edges: &[Edges]) -> bool {
    comp.len() > 1
        || comp
            .first()
            .is_some_and(|&v| edges[v].iter().any(|(w, _)| *w == v))
}

/// The diagnostic for a cycle: a shortest cycle through the component's
/// first node, named in order, with a label at each reference.
pub fn cycle_diagnostic(comp: &[usize], edges: &[Edges], names: &[String]) -> Diagnostic {
    let start = comp[0];
    let mut prev: HashMap<usize, (usize, Span)> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut closing: Option<(usize, Span)> = None;
    while let Some(v) = queue.pop_front() {
        for &(w, sp) in &edges[v] {
            if w == start {
                closing = Some((v, sp));
                break;
            }
            if comp.contains(&w) && !prev.contains_key(&w) {
                prev.insert(w, (v, sp));
                queue.push_back(w);
            }
        }
        if closing.is_some() {
            break;
        }
    }
    // Walk back from the node that closes the cycle.
    let mut hops: Vec<(usize, usize, Span)> = Vec::new();
    if let Some((last, sp)) = closing {
        hops.push((last, start, sp));
        let mut v = last;
        while v != start {
            let Some(&(p, sp)) = prev.get(&v) else { break };
            hops.push((p, v, sp));
            v = p;
        }
    }
    hops.reverse();
    let name = |i: usize| names.get(i).cloned().unwrap_or_default();
    let mut path: Vec<String> = hops.iter().map(|(u, _, _)| name(*u)).collect();
    path.push(name(start));
    let mut d = Diagnostic::new(
        Code::RecursiveDefinition,
        format!(
            "definitions are not recursive, but this is a cycle: {}",
            path.join(" -> ")
        ),
    );
    for (k, (u, v, sp)) in hops.iter().enumerate() {
        let label = if u == v {
            format!("`{}` uses itself here", name(*u))
        } else {
            format!("`{}` uses `{}` here", name(*u), name(*v))
        };
        d = if k == 0 {
            d.at(*sp, label)
        } else {
            d.also(*sp, label)
        };
    }
    d.note("a def may only use defs that do not lead back to it, so every program terminates")
        .help("dp programs are total: traverse structure with `fold`, `mapAccumL`, `cata` or `iterate` instead of recursion")
}
