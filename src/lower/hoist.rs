//! Hoisting plans for recurrent modules: the work in a step function that
//! depends only on the list element (and on values fixed for the whole
//! recurrence: captures, arguments applied beforehand), not on the state,
//! can be done for all steps of all examples at once before the loop.
//!
//! A plan names, by node address in the step function's body:
//! - `values`: maximal element-only subexpressions in positions evaluated
//!   on every step (not inside an `if` branch, the right side of `&&`/`||`
//!   or a lambda body), in evaluation order; a `let` whose value is one of
//!   them also binds its pattern, and later element-only expressions may
//!   use those locals;
//! - `splits`: applications of an affine piece to a tuple literal whose
//!   parts mix element-only and state-dependent ones, `W [s; e] + b`: the
//!   element half `W_e e + b` is computed before the loop, and each step
//!   multiplies only the state half, `W_s s`.
//!
//! The runtime executes the plan (`runtime/hoist.rs`); this module only
//! reads the IR.

use std::collections::{HashMap, HashSet};

use super::{Cell, Hoisted as Mark, Node, Op, Operand};
use crate::ir::ty::Type;
use crate::ir::{Builtin, Expr, ExprKind, Lambda, LearnedKind, LocalId, Pattern, PrimOp, Program};

/// The most examples a recurrence hoists for. With few examples each step
/// is a matrix-vector product and one large product of all elements is a
/// clear gain (1.3x at batch 1 on the benchmark's RNN); with many, each
/// step's product is already large and the precomputed half (one row per
/// element of the minibatch, and its gradient) costs more memory traffic
/// than it saves. Measured on a 2-core machine with the allocator keeping
/// freed buffers (`backend::memory`), hoisting against not: 1.09x at batch
/// 32, 1.02-1.18x at 64, 1.04-1.10x at 96, 0.92-0.98x at 128.
pub const MAX_HOIST_BATCH: usize = 96;

/// An expression node's identity: its address (IR is immutable and shared
/// while a program runs).
pub type At = usize;

pub fn at(e: &Expr) -> At {
    e as *const Expr as usize
}

/// What to compute before the loop.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HoistPlan {
    pub values: Vec<Hoisted>,
    pub splits: Vec<Split>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Hoisted {
    pub at: At,
    /// The pattern of the `let` this expression is the value of: bound
    /// before the loop for later hoisted expressions.
    pub binds: Option<Pattern>,
    /// Read by the steps (`false` for a `let` of a name or a constant: bound
    /// before the loop only, for later hoisted expressions that use it; the
    /// steps evaluate it as written).
    pub in_loop: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// The node the split computes: the application `piece (p1, ..., pn)`,
    /// or the activation applied to it (`tanh (piece (..))`), fused.
    pub at: At,
    /// The activation fused (`tanh`, `sigmoid`, `relu`), if any: then `at`
    /// is its application and the piece has one state-dependent part and
    /// a codomain that is not a tuple.
    pub activation: Option<Builtin>,
    pub piece: usize,
    /// The application of the piece: `at` itself, or the node the fused
    /// activation applies to (a cell's plan; an expression plan finds it
    /// inside `at`).
    pub source: At,
    /// Per part: element-only (computed before the loop)?
    pub element: Vec<bool>,
    /// Per part: its columns of the piece's input.
    pub columns: Vec<(usize, usize)>,
}

impl HoistPlan {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.splits.is_empty()
    }
}

/// The plan for a step function `lambda` whose parameter `state` is the
/// recurrent state; every other parameter (the element, arguments applied
/// beforehand) and every capture is fixed for a given element.
pub fn plan(program: &Program, lambda: &Lambda, state: usize) -> HoistPlan {
    let mut fixed: HashSet<LocalId> = lambda.captures.iter().copied().collect();
    for (i, p) in lambda.params.iter().enumerate() {
        if i != state {
            pattern_locals(p, &mut fixed);
        }
    }
    let mut free = HashMap::new();
    free_locals(&lambda.body, &mut free);
    let mut planner = Planner {
        program,
        free,
        plan: HoistPlan::default(),
    };
    planner.walk(&lambda.body, &mut fixed);
    planner.plan
}

struct Planner<'p> {
    program: &'p Program,
    /// Free locals of every node, by address.
    free: HashMap<At, HashSet<LocalId>>,
    plan: HoistPlan,
}

impl Planner<'_> {
    fn element_only(&self, e: &Expr, fixed: &HashSet<LocalId>) -> bool {
        self.free
            .get(&at(e))
            .is_some_and(|f| f.iter().all(|l| fixed.contains(l)))
    }

    /// Plan `e`, a node evaluated on every step.
    fn walk(&mut self, e: &Expr, fixed: &mut HashSet<LocalId>) {
        if self.element_only(e, fixed) && worth_hoisting(e) {
            self.plan.values.push(Hoisted {
                at: at(e),
                binds: None,
                in_loop: true,
            });
            return;
        }
        match &e.kind {
            ExprKind::App { func, args } => {
                if let (ExprKind::Builtin(b), [inner]) = (&func.kind, args.as_slice()) {
                    let fusable = b.is_fusable_activation();
                    if let (true, ExprKind::App { func: f, args: a }) = (fusable, &inner.kind) {
                        if self.split(inner, f, a, fixed, Some((at(e), *b))) {
                            return;
                        }
                    }
                }
                if self.split(e, func, args, fixed, None) {
                    return;
                }
                self.walk(func, fixed);
                for a in args {
                    self.walk(a, fixed);
                }
            }
            ExprKind::Prim { op, args } => {
                let strict = match op {
                    PrimOp::And | PrimOp::Or => 1,
                    _ => args.len(),
                };
                for a in args.iter().take(strict) {
                    self.walk(a, fixed);
                }
            }
            ExprKind::Let {
                pattern,
                value,
                body,
            } => {
                if self.element_only(value, fixed) {
                    self.plan.values.push(Hoisted {
                        at: at(value),
                        binds: Some(pattern.clone()),
                        in_loop: worth_hoisting(value),
                    });
                    pattern_locals(pattern, fixed);
                } else {
                    self.walk(value, fixed);
                }
                self.walk(body, fixed);
            }
            ExprKind::If { cond, .. } => self.walk(cond, fixed),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for i in items {
                    self.walk(i, fixed);
                }
            }
            _ => {}
        }
    }

    /// `piece (p1, ..., pn)` with a tuple-domain affine piece and both
    /// element-only and state-dependent parts: a split (with the activation
    /// `outer` applied to it fused, if given and possible).
    fn split(
        &mut self,
        e: &Expr,
        func: &Expr,
        args: &[Expr],
        fixed: &mut HashSet<LocalId>,
        outer: Option<(At, Builtin)>,
    ) -> bool {
        let (ExprKind::Learned(id), [arg]) = (&func.kind, args) else {
            return false;
        };
        let (ExprKind::Tuple(parts), Some(piece)) = (&arg.kind, self.program.learned.get(*id))
        else {
            return false;
        };
        let (LearnedKind::Affine { .. }, Type::Tuple(domain)) = (&piece.kind, &piece.domain) else {
            return false;
        };
        if domain.len() != parts.len() {
            return false;
        }
        let element: Vec<bool> = parts.iter().map(|p| self.element_only(p, fixed)).collect();
        if element.iter().all(|&x| x) || !element.iter().any(|&x| x) {
            return false;
        }
        let one_state = element.iter().filter(|&&x| !x).count() == 1;
        if outer.is_some() && (!one_state || matches!(piece.codomain, Type::Tuple(_))) {
            return false;
        }
        let mut columns = Vec::new();
        let mut start = 0;
        for t in domain {
            let Some(n) = self.program.types.flat_size(t) else {
                return false;
            };
            columns.push((start, start + n));
            start += n;
        }
        for (p, &el) in parts.iter().zip(&element) {
            if !el {
                self.walk(p, fixed);
            }
        }
        self.plan.splits.push(Split {
            at: outer.map_or(at(e), |(a, _)| a),
            activation: outer.map(|(_, b)| b),
            piece: *id,
            source: at(e),
            element,
            columns,
        });
        true
    }
}

/// Work worth doing once for all elements: an application, an operator,
/// a `let`, an `if`, a list literal (not a name or a constant).
fn worth_hoisting(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::App { .. }
            | ExprKind::Prim { .. }
            | ExprKind::Let { .. }
            | ExprKind::If { .. }
            | ExprKind::List(_)
    )
}

fn pattern_locals(p: &Pattern, out: &mut HashSet<LocalId>) {
    match p {
        Pattern::Bind(id, _) => {
            out.insert(*id);
        }
        Pattern::Wildcard => {}
        Pattern::Tuple(ps) => ps.iter().for_each(|p| pattern_locals(p, out)),
    }
}

/// The free locals of `e` and of each node below it, recorded in `out`.
fn free_locals(e: &Expr, out: &mut HashMap<At, HashSet<LocalId>>) -> HashSet<LocalId> {
    let mut free = HashSet::new();
    let add = |s: HashSet<LocalId>, free: &mut HashSet<LocalId>| free.extend(s);
    match &e.kind {
        ExprKind::Local(id) => {
            free.insert(*id);
        }
        ExprKind::Lambda(l) => {
            let mut bound = HashSet::new();
            l.params.iter().for_each(|p| pattern_locals(p, &mut bound));
            let inner = free_locals(&l.body, out);
            free.extend(inner.difference(&bound).copied());
        }
        ExprKind::App { func, args } => {
            add(free_locals(func, out), &mut free);
            for a in args {
                add(free_locals(a, out), &mut free);
            }
        }
        ExprKind::Let {
            pattern,
            value,
            body,
        } => {
            add(free_locals(value, out), &mut free);
            let mut bound = HashSet::new();
            pattern_locals(pattern, &mut bound);
            let inner = free_locals(body, out);
            free.extend(inner.difference(&bound).copied());
        }
        ExprKind::If {
            cond,
            then_branch,
            else_branch,
        } => {
            for x in [cond, then_branch, else_branch] {
                add(free_locals(x, out), &mut free);
            }
        }
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            for i in items {
                add(free_locals(i, out), &mut free);
            }
        }
        ExprKind::Prim { args, .. } => {
            for a in args {
                add(free_locals(a, out), &mut free);
            }
        }
        _ => {}
    }
    out.insert(at(e), free.clone());
    free
}

/// Which inputs and nodes of an RNN module's cell depend on the state (the
/// inputs its first parameter binds).
struct StateDependence {
    inputs: Vec<bool>,
    nodes: Vec<bool>,
}

impl StateDependence {
    fn of(cell: &Cell) -> StateDependence {
        let mut inputs = vec![false; cell.inputs.len()];
        if let Some(p) = cell.params.first() {
            let mut locals = HashSet::new();
            pattern_locals(p, &mut locals);
            for i in locals {
                if let Some(slot) = inputs.get_mut(i as usize) {
                    *slot = true;
                }
            }
        }
        let mut deps = StateDependence {
            inputs,
            nodes: Vec::with_capacity(cell.nodes.len()),
        };
        for node in &cell.nodes {
            let dep = node.reads().any(|a| deps.on_state(a));
            deps.nodes.push(dep);
        }
        deps
    }

    /// Does operand `o` depend on the state?
    fn on_state(&self, o: &Operand) -> bool {
        match o {
            Operand::Input(i) => self.inputs.get(*i).copied().unwrap_or(true),
            Operand::Node(n) => self.nodes.get(*n).copied().unwrap_or(true),
            Operand::Tuple(ps) => ps.iter().any(|p| self.on_state(p)),
            _ => false,
        }
    }
}

/// Mark the ops of an RNN module's cell that the runtime does before the
/// loop ([`cell_plan`]): those computed on every step from the element and
/// fixed values only, the element half of an affine map over a tuple of
/// state and element parts, and the activation fused with its product.
pub(super) fn mark_hoisted(cell: &mut Cell, program: &Program) {
    let deps = StateDependence::of(cell);
    let readers = super::fuse::readers(cell);
    for i in 0..cell.nodes.len() {
        let node = &cell.nodes[i];
        let dep = deps.nodes[i];
        let fixed = is_fixed(node, dep);
        let split = dep
            && affine_over_tuple(node, program).is_some()
            && matches!(node.args.as_slice(), [Operand::Tuple(parts)]
                if parts.iter().any(|p| !deps.on_state(p)));
        let hoisted = if fixed {
            Mark::Whole
        } else if split {
            Mark::Split
        } else if dep && fusable(node, &cell.nodes, &deps, &readers) {
            Mark::Fused
        } else {
            Mark::No
        };
        cell.nodes[i].hoisted = hoisted;
    }
}

/// Mark the ops of an unrolled module's cell (`iterate`) that do not
/// depend on the state (its one parameter) and draw nothing: the same at
/// every step, the runtime computes them once before the steps
/// ([`cell_plan`]).
pub(super) fn mark_invariant(cell: &mut Cell, program: &Program) {
    let deps = StateDependence::of(cell);
    for (node, &dep) in cell.nodes.iter_mut().zip(&deps.nodes) {
        if is_fixed(node, dep) && !node.draws(program) {
            node.hoisted = Mark::Whole;
        }
    }
}

/// A node computed from fixed values only (`dep`: it reads the state),
/// not a tuple component (read where its tuple is).
fn is_fixed(node: &Node, dep: bool) -> bool {
    !dep && !matches!(node.op, Op::Prim(ref p) if p.starts_with('.'))
}

/// The piece of an affine node over a tuple domain.
fn affine_over_tuple<'p>(node: &Node, program: &'p Program) -> Option<(usize, &'p [Type])> {
    let Op::Affine { piece, .. } = &node.op else {
        return None;
    };
    let id = program.learned.iter().position(|l| &l.name == piece)?;
    match &program.learned[id].domain {
        Type::Tuple(parts) => Some((id, parts)),
        _ => None,
    }
}

/// `tanh`, `sigmoid` or `relu` of a split affine map with one state part
/// and a single output, which nothing else reads.
fn fusable(node: &Node, nodes: &[Node], deps: &StateDependence, readers: &[usize]) -> bool {
    let activation = matches!(&node.op, Op::Prim(p)
        if Builtin::from_name(p).is_some_and(Builtin::is_fusable_activation));
    let [Operand::Node(j)] = node.args.as_slice() else {
        return false;
    };
    let Some(inner) = nodes.get(*j) else {
        return false;
    };
    let one_state = match inner.args.as_slice() {
        [Operand::Tuple(parts)] => parts.iter().filter(|p| deps.on_state(p)).count() == 1,
        _ => false,
    };
    activation
        && inner.hoisted == Mark::Split
        && one_state
        && !matches!(inner.ty, Type::Tuple(_))
        && readers.get(*j) == Some(&1)
}

/// The hoisting plan of an RNN module's cell from its marks, by node
/// index: the element-only nodes (`values`; read in the loop when a node
/// of the loop or the output reads them), and the split affine maps, each
/// at its fused activation when that is the only node reading it.
pub fn cell_plan(program: &Program, cell: &Cell) -> HoistPlan {
    let deps = StateDependence::of(cell);
    let mut readers = vec![0usize; cell.nodes.len()];
    let count = |o: &Operand, readers: &mut Vec<usize>| {
        for j in operand_nodes(o) {
            if let Some(r) = readers.get_mut(j) {
                *r += 1;
            }
        }
    };
    for node in &cell.nodes {
        match (node.hoisted, node.args.as_slice()) {
            (Mark::Whole, _) => {}
            (Mark::Split, [Operand::Tuple(parts)]) => {
                for p in parts.iter().filter(|p| deps.on_state(p)) {
                    count(p, &mut readers);
                }
            }
            _ => node.reads().for_each(|a| count(a, &mut readers)),
        }
    }
    count(&cell.output, &mut readers);
    let mut plan = HoistPlan::default();
    for (j, node) in cell.nodes.iter().enumerate() {
        let shared = matches!(&node.exec, super::Exec::Expr(e) if super::is_shared(e));
        if node.hoisted == Mark::Whole && !shared {
            let in_loop = readers[j] > 0;
            plan.values.push(Hoisted {
                at: j,
                binds: None,
                in_loop,
            });
        }
    }
    for (j, node) in cell.nodes.iter().enumerate() {
        if node.hoisted != Mark::Split {
            continue;
        }
        let (Some((piece, domain)), [Operand::Tuple(parts)]) =
            (affine_over_tuple(node, program), node.args.as_slice())
        else {
            continue;
        };
        let Some(columns) = columns_of(program, domain) else {
            continue;
        };
        let fused = cell.nodes.iter().enumerate().find(|(_, f)| {
            f.hoisted == Mark::Fused && matches!(f.args.as_slice(), [Operand::Node(k)] if *k == j)
        });
        let (at, activation) = match fused {
            Some((f, n)) if readers[j] == 1 => (f, Builtin::from_name(op_name(n))),
            _ => (j, None),
        };
        plan.splits.push(Split {
            at,
            activation,
            piece,
            source: j,
            element: parts.iter().map(|p| !deps.on_state(p)).collect(),
            columns,
        });
    }
    plan
}

/// Does an RNN module's loop, once its plan is hoisted, do nothing but
/// `act(W_s h + (W_e e + b))` on the whole state `h`? Then the runtime runs
/// it as one recurrence op (`Graph::recurrence`). So: the state is one
/// parameter input; the plan has one split affine map, its one state part
/// that input, the cell's output the map or its fused activation; every
/// other node is done before the loop, and none is read by the loop.
/// `plan` is the cell's [`cell_plan`].
pub fn whole_recurrence(cell: &Cell, plan: &HoistPlan) -> bool {
    let (Some(Pattern::Bind(state, _)), 2) = (cell.params.first(), cell.params.len()) else {
        return false;
    };
    let ([s], false) = (
        plan.splits.as_slice(),
        plan.values.iter().any(|v| v.in_loop),
    ) else {
        return false;
    };
    let Some([Operand::Tuple(parts)]) = cell.nodes.get(s.source).map(|n| n.args.as_slice()) else {
        return false;
    };
    let mut state_parts = parts.iter().zip(&s.element).filter(|(_, &e)| !e);
    let one_state = matches!(
        (state_parts.next(), state_parts.next()),
        (Some((Operand::Input(i), _)), None) if *i == *state as usize
    );
    let rest_before = (cell.nodes.iter().enumerate())
        .all(|(j, n)| j == s.source || j == s.at || n.hoisted == Mark::Whole);
    one_state && rest_before && cell.output == Operand::Node(s.at)
}

fn op_name(node: &Node) -> &str {
    match &node.op {
        Op::Prim(p) => p,
        _ => "",
    }
}

/// The columns of each part of a tuple domain in the piece's input.
fn columns_of(program: &Program, domain: &[Type]) -> Option<Vec<(usize, usize)>> {
    let mut columns = Vec::new();
    let mut start = 0;
    for t in domain {
        let n = program.types.flat_size(t)?;
        columns.push((start, start + n));
        start += n;
    }
    Some(columns)
}

/// The nodes an operand reads.
fn operand_nodes(o: &Operand) -> Vec<usize> {
    match o {
        Operand::Node(j) => vec![*j],
        Operand::Tuple(ps) => ps.iter().flat_map(operand_nodes).collect(),
        _ => Vec::new(),
    }
}
