//! Executing lowered networks (`lower::Network`): the runtime running the
//! modules a def compiles to instead of walking the def's IR.
//!
//! A cell runs its nodes in order, each once on the whole batch. An op is
//! its one-op IR expression (`lower::Exec::Expr`) evaluated with its
//! operands bound as the locals `0..`, so it runs through the evaluator's
//! own kernels; a module's expression is its combinator applied to its
//! operands and to its cells, each cell a function value (`Func::Cell`)
//! that the combinator applies as it would a closure: on all elements at
//! once (`map`), once per step on the running examples (`fold`), once per
//! height (`cata`). A cell's captured inputs are values of the enclosing
//! cell, gathered with the function by element owner. Values equal the
//! evaluator's (the network is the def with its functions inlined, its ops
//! in the evaluator's order); `tests/network.rs` checks values and
//! gradients of every example against it.
//!
//! A switch module (an `if`, `&&`, `||` whose branch may fail, draw or
//! carry a gradient) runs each branch cell only on the examples taking it.
//! A recurrent module's cell is hoisted by node ([`prepare`]). A network
//! runs only when every op of it can (`Cell::executable`): it applies no
//! function value the lowering could not follow.

use std::collections::HashMap;
use std::rc::Rc;

use crate::backend::Graph;
use crate::diagnostic::Diagnostic;
use crate::ir::{LocalId, Pattern};
use crate::lower::{Cell, Exec, Module, Network, Node, Op, Operand};
use crate::source::Span;

use super::batch::{gather, merge, split_mask};
use super::eval::{Context, Env, Eval};
use super::hoist::{prepare_split, Hoisted, Prepared};
use super::layout::internal;
use super::value::{Func, ListValue, Origin, Value};
use crate::lower::hoist::MAX_HOIST_BATCH;

thread_local! {
    static NETWORKS: std::cell::Cell<bool> =
        std::cell::Cell::new(std::env::var_os("DP_NO_NETWORKS").is_none());
    static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Run defs as their lowered networks on this thread (the default;
/// `DP_NO_NETWORKS=1` runs them on the evaluator); returns the previous
/// setting.
pub fn set_networks(on: bool) -> bool {
    NETWORKS.with(|n| n.replace(on))
}

/// How many network values were made on this thread (for tests that must
/// know the network ran).
pub fn network_runs() -> usize {
    RUNS.with(std::cell::Cell::get)
}

/// The network of def `name`, where networks are on and it can run.
pub fn lowered(program: &crate::ir::Program, name: &str) -> Option<Network> {
    if !NETWORKS.with(std::cell::Cell::get) {
        return None;
    }
    let net = crate::lower::lower_def(program, name).ok()?;
    net.body.executable().then_some(net)
}

/// The value of a lowered def over a batch of `batch` examples: a function
/// value running the network's body, or the body's value for a def that
/// is not a function. The network must be executable (`Cell::executable`).
pub fn network_value(
    ctx: &Context,
    graph: &mut Graph,
    net: &Network,
    batch: usize,
) -> Result<Value, Diagnostic> {
    let origin: Origin = Rc::new((0..batch).collect());
    if !net.body.executable() {
        return Err(internal(net.span, "a network that cannot run"));
    }
    RUNS.with(|r| r.set(r.get() + 1));
    if !net.body.params.is_empty() {
        return Ok(Value::func(Func::Cell {
            cell: net.body.clone(),
            captured: Vec::new(),
            origin,
        }));
    }
    let mut ev = Eval::new(ctx, graph, batch);
    let run = Run {
        cell: &net.body,
        captured: &[],
        origin: &origin,
    };
    apply_cell(&mut ev, &run, Vec::new(), None, net.span)
}

/// A cell applied over a batch: the cell, its captured values, and the
/// examples its rows belong to.
pub(crate) struct Run<'a> {
    pub cell: &'a Rc<Cell>,
    pub captured: &'a [Value],
    pub origin: &'a Origin,
}

impl<'a> Run<'a> {
    /// The run of a function value that is a network cell.
    pub fn of(f: &'a Func) -> Option<Run<'a>> {
        match f {
            Func::Cell {
                cell,
                captured,
                origin,
            } => Some(Run {
                cell,
                captured,
                origin,
            }),
            _ => None,
        }
    }
}

/// Apply a cell to one argument per parameter: bind its inputs, run its
/// nodes in order, read its output. In a recurrence whose element-only
/// work was done before the loop ([`prepare`]), `hoisted` holds this
/// step's rows of it: those nodes are read from it, a split affine map
/// multiplies only its state parts.
pub(crate) fn apply_cell(
    ev: &mut Eval,
    run: &Run,
    args: Vec<Value>,
    hoisted: Option<&Hoisted>,
    span: Span,
) -> Result<Value, Diagnostic> {
    Frame::bound(run, args, span)?.run_nodes(ev, hoisted, span)
}

/// A TreeNet node cell's inputs gathered straight into the input of its
/// affine map (`lower::gather`): the map reads `value` for the tuple of
/// the inputs `packing` names.
pub(crate) struct Packed {
    pub packing: crate::lower::gather::Packing,
    pub value: Value,
}

/// [`apply_cell`] with the inputs of `packed` read only as its packed
/// value (their arguments' components are placeholders, left unbound).
pub(crate) fn apply_cell_packed(
    ev: &mut Eval,
    run: &Run,
    args: Vec<Value>,
    packed: Packed,
    span: Span,
) -> Result<Value, Diagnostic> {
    let mut frame = Frame::bound(run, args, span)?;
    for &i in &packed.packing.inputs {
        if let Some(slot) = frame.inputs.get_mut(i) {
            *slot = None;
        }
    }
    frame.packed = Some(packed);
    frame.run_nodes(ev, None, span)
}

/// Evaluate the hoisting plan of an RNN module's cell (`lower::hoist::
/// cell_plan`; its first parameter the state, its second the element) on
/// all elements of `xs`: the element-only nodes the loop reads, and the
/// element half of each split affine map. `None` when there is nothing to
/// hoist, or the cell draws in a program that draws (hoisting would
/// reorder the draws).
pub(crate) fn prepare(
    ev: &mut Eval,
    run: &Run,
    xs: &ListValue,
    span: Span,
) -> Result<Option<Prepared>, Diagnostic> {
    let examples = xs.offsets.len().saturating_sub(1);
    let cell = run.cell;
    if cell.params.len() != 2 || run.origin.len() != examples || !may_hoist(ev, cell) {
        return Ok(None);
    }
    let plan = crate::lower::hoist::cell_plan(ev.ctx.program, cell);
    // A loop run as one op gains from hoisting whatever the batch; another
    // only up to the bound.
    let whole = super::hoist::whole_enabled() && crate::lower::hoist::whole_recurrence(cell, &plan);
    if plan.is_empty() || (examples > MAX_HOIST_BATCH && !whole) {
        return Ok(None);
    }
    let owners = xs.owners();
    let origin: Origin = Rc::new(owners.iter().map(|&b| run.origin[b]).collect());
    let captured: Vec<Value> = run
        .captured
        .iter()
        .map(|v| gather(ev.graph, v, &owners))
        .collect();
    let all = Run {
        cell,
        captured: &captured,
        origin: &origin,
    };
    let mut frame = Frame::new(&all);
    bind_input(&cell.params[1], xs.elems.clone(), &mut frame.inputs, span)?;
    let (values, mut skip) = frame.hoisted_values(ev, &plan)?;
    let mut splits = Vec::with_capacity(plan.splits.len());
    for s in &plan.splits {
        let node = &cell.nodes[s.source];
        let Some(Operand::Tuple(parts)) = node.args.first() else {
            return Err(internal(node.span, "a split affine map not over a tuple"));
        };
        let mut elements = Vec::with_capacity(parts.len());
        for (part, &element) in parts.iter().zip(&s.element) {
            elements.push(match element {
                true => Some(frame.operand(ev, part, node.span)?),
                false => None,
            });
        }
        splits.push(prepare_split(ev, s, elements, node.span)?);
        if s.source != s.at {
            skip.push(s.source);
        }
    }
    let mut prepared = Prepared::made(values, splits, skip);
    prepared.whole = whole;
    Ok(Some(prepared))
}

/// The work of an unrolled module's cell (`iterate`) that does not depend
/// on the state (`lower::hoist::mark_invariant`), evaluated once on all
/// examples before the steps; each step reads its running examples' rows.
/// `None` when there is none, or the cell draws in a program that draws.
pub(crate) fn prepare_invariant(ev: &mut Eval, run: &Run) -> Result<Option<Prepared>, Diagnostic> {
    let cell = run.cell;
    if cell.params.len() != 1 || !may_hoist(ev, cell) {
        return Ok(None);
    }
    let plan = crate::lower::hoist::cell_plan(ev.ctx.program, cell);
    if plan.values.is_empty() {
        return Ok(None);
    }
    let (values, skip) = Frame::new(run).hoisted_values(ev, &plan)?;
    Ok(Some(Prepared::made(values, Vec::new(), skip)))
}

/// May work of `cell` move before its loop? Not in a program that draws
/// when the cell draws, or runs a closed def in its place (it may draw):
/// the work before the loop would reorder the draws.
fn may_hoist(ev: &Eval, cell: &Cell) -> bool {
    let in_place = |n: &Node| {
        matches!(&n.exec, Exec::Expr(e) if crate::lower::is_shared(e)) && !deferred(ev, n)
    };
    !(ev.draws && (cell.draws(ev.ctx.program) || cell.nodes.iter().any(in_place)))
}

/// Is `node` a value the same for every example (a `param`, a closed def)
/// that is computed only where an op reads it, not in its place (a product
/// reads it in place: no copy per example)? A closed def only in a program
/// that does not draw, where no def is evaluated out of order.
fn deferred(ev: &Eval, node: &Node) -> bool {
    match &node.exec {
        Exec::Expr(e) if crate::lower::is_shared(e) => {
            matches!(e.kind, crate::ir::ExprKind::Param(_)) || !ev.draws
        }
        _ => false,
    }
}

/// The locals a one-op expression reads (its direct operands).
fn used_locals(e: &crate::ir::Expr) -> Vec<LocalId> {
    use crate::ir::ExprKind;
    let direct: Vec<&crate::ir::Expr> = match &e.kind {
        ExprKind::App { func, args } => std::iter::once(&**func).chain(args).collect(),
        ExprKind::Prim { args, .. } => args.iter().collect(),
        ExprKind::If {
            cond,
            then_branch,
            else_branch,
        } => vec![cond, then_branch, else_branch],
        ExprKind::List(items) | ExprKind::Tuple(items) => items.iter().collect(),
        _ => Vec::new(),
    };
    let local = |x: &crate::ir::Expr| match x.kind {
        ExprKind::Local(i) => Some(i),
        _ => None,
    };
    direct.into_iter().filter_map(local).collect()
}

/// Bind a parameter's pattern (`Bind(i, _)` names input `i`) to a value.
fn bind_input(
    p: &Pattern,
    v: Value,
    inputs: &mut [Option<Value>],
    span: Span,
) -> Result<(), Diagnostic> {
    match (p, v) {
        (Pattern::Bind(i, _), v) => {
            let slot = inputs
                .get_mut(*i as usize)
                .ok_or_else(|| internal(span, "a cell parameter with no input"))?;
            *slot = Some(v);
            Ok(())
        }
        (Pattern::Wildcard, _) => Ok(()),
        (Pattern::Tuple(ps), Value::Tuple(vs)) if ps.len() == vs.len() => {
            for (p, v) in ps.iter().zip(vs.iter()) {
                bind_input(p, v.clone(), inputs, span)?;
            }
            Ok(())
        }
        (Pattern::Tuple(ps), Value::Unit(_)) if ps.is_empty() => Ok(()),
        _ => Err(internal(
            span,
            "a cell argument that does not fit its parameter",
        )),
    }
}

/// The values of one application of a cell: its inputs and the nodes run
/// so far (`None`: not run here).
struct Frame<'a> {
    cell: &'a Cell,
    inputs: Vec<Option<Value>>,
    nodes: Vec<Option<Value>>,
    origin: &'a Origin,
    packed: Option<Packed>,
}

impl<'a> Frame<'a> {
    /// Run the cell's nodes in order (reading `hoisted`'s values where a
    /// recurrence's element-only work was done before the loop), then
    /// read its output.
    fn run_nodes(
        mut self,
        ev: &mut Eval,
        hoisted: Option<&Hoisted>,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        let cell = self.cell;
        for (j, node) in cell.nodes.iter().enumerate() {
            let v = match hoisted {
                _ if deferred(ev, node) || matches!(node.exec, Exec::Absorbed(_)) => None,
                Some(h) if h.skip.contains(&j) => None,
                Some(h) if h.values.contains_key(&j) => h.values.get(&j).cloned(),
                Some(h) if h.splits.contains_key(&j) => {
                    let s = &h.splits[&j];
                    let states = self.state_parts(ev, cell, s.source, &s.weights, node.span)?;
                    Some(s.value(ev, states, node.span)?)
                }
                _ => Some(self.run(ev, node)?),
            };
            self.nodes.push(v);
        }
        self.operand(ev, &cell.output, span)
    }

    /// Run the plan's hoisted nodes in order (their operands bound or
    /// hoisted before them): those the loop reads, and those only later
    /// hoisted nodes read (`skip`: not read in the loop).
    fn hoisted_values(
        &mut self,
        ev: &mut Eval,
        plan: &crate::lower::hoist::HoistPlan,
    ) -> Result<(Vec<(usize, Value)>, Vec<usize>), Diagnostic> {
        self.nodes = vec![None; self.cell.nodes.len()];
        let mut values = Vec::new();
        let mut skip = Vec::new();
        for h in &plan.values {
            let node = &self.cell.nodes[h.at];
            let v = self.run(ev, node)?;
            self.nodes[h.at] = Some(v.clone());
            match h.in_loop {
                true => values.push((h.at, v)),
                false => skip.push(h.at),
            }
        }
        Ok((values, skip))
    }

    /// A frame with the run's captured inputs and the arguments (one per
    /// parameter) bound.
    fn bound(run: &Run<'a>, args: Vec<Value>, span: Span) -> Result<Frame<'a>, Diagnostic> {
        let mut frame = Frame::new(run);
        for (p, a) in run.cell.params.iter().zip(args) {
            bind_input(p, a, &mut frame.inputs, span)?;
        }
        Ok(frame)
    }

    /// A frame with the run's captured inputs bound.
    fn new(run: &Run<'a>) -> Frame<'a> {
        let mut inputs: Vec<Option<Value>> = vec![None; run.cell.inputs.len()];
        for ((_, i), v) in run.cell.captured.iter().zip(run.captured) {
            if let Some(slot) = inputs.get_mut(*i) {
                *slot = Some(v.clone());
            }
        }
        Frame {
            cell: run.cell,
            inputs,
            nodes: Vec::with_capacity(run.cell.nodes.len()),
            origin: run.origin,
            packed: None,
        }
    }

    /// Run one node on this frame's values.
    fn run(&self, ev: &mut Eval, node: &Node) -> Result<Value, Diagnostic> {
        if let (Exec::Switch, Op::Module(m)) = (&node.exec, &node.op) {
            return self.switch(ev, node, m);
        }
        if let (Exec::Expr(e), Op::Module(m)) = (&node.exec, &node.op) {
            let args = node.args.iter().map(|o| self.operand(ev, o, node.span));
            let args = args.collect::<Result<Vec<_>, _>>()?;
            let vars = self.module_locals(ev, m, args, node.span)?;
            return ev.eval(&mut self.env(vars), e);
        }
        match &node.exec {
            Exec::Fused { expr, operands } => {
                let mut vars = HashMap::with_capacity(operands.len());
                for (i, o) in (0..).zip(operands) {
                    vars.insert(i, self.operand(ev, o, node.span)?);
                }
                ev.eval(&mut self.env(vars), expr)
            }
            Exec::Expr(e) => {
                // The operands the expression reads (not a shared matrix
                // it reads in place).
                let mut vars = HashMap::new();
                for i in used_locals(e) {
                    let o = node.args.get(i as usize);
                    let o = o.ok_or_else(|| internal(node.span, "an op with too few operands"))?;
                    vars.insert(i, self.operand(ev, o, node.span)?);
                }
                ev.eval(&mut self.env(vars), e)
            }
            _ => self.run_part(ev, node),
        }
    }

    /// A switch: each branch cell run only on the examples taking it (its
    /// captured values gathered to them), the results merged in order.
    fn switch(&self, ev: &mut Eval, node: &Node, m: &Module) -> Result<Value, Diagnostic> {
        let span = node.span;
        let cond = node.args.first();
        let mask = match cond.map(|c| self.operand(ev, c, span)).transpose()? {
            Some(Value::Bool(mask)) => mask,
            _ => return Err(internal(span, "a switch whose condition is not a Bool")),
        };
        let [(_, yes), (_, no)] = m.cells.as_slice() else {
            return Err(internal(span, "a switch without its two branches"));
        };
        let (taken, not) = split_mask(&mask);
        let mut branch = |cell: &Rc<Cell>, rows: &[usize]| {
            let all = rows.len() == mask.len();
            let mut captured = Vec::with_capacity(cell.captured.len());
            for (o, _) in &cell.captured {
                let v = self.operand(ev, o, span)?;
                captured.push(if all { v } else { gather(ev.graph, &v, rows) });
            }
            let origin: Origin = match all {
                true => self.origin.clone(),
                false => Rc::new(rows.iter().map(|&i| self.origin[i]).collect()),
            };
            let run = Run {
                cell,
                captured: &captured,
                origin: &origin,
            };
            apply_cell(ev, &run, Vec::new(), None, span)
        };
        if not.is_empty() {
            return branch(yes, &taken);
        }
        if taken.is_empty() {
            return branch(no, &not);
        }
        let a = branch(yes, &taken)?;
        let b = branch(no, &not)?;
        Ok(merge(ev.graph, &mask, Some(a), Some(b)))
    }

    /// A tuple component, or an op that cannot run.
    fn run_part(&self, ev: &mut Eval, node: &Node) -> Result<Value, Diagnostic> {
        let args = node.args.iter().map(|o| self.operand(ev, o, node.span));
        let args = args.collect::<Result<Vec<_>, _>>()?;
        match &node.exec {
            Exec::Part(i) => match args.first() {
                Some(Value::Tuple(parts)) => parts
                    .get(*i)
                    .cloned()
                    .ok_or_else(|| internal(node.span, "a tuple component out of range")),
                _ => Err(internal(
                    node.span,
                    "a component of a value that is no tuple",
                )),
            },
            _ => Err(internal(node.span, "an op the runtime cannot execute")),
        }
    }

    /// The values of the state parts of split affine node `source` (the
    /// parts with state weights), in order.
    fn state_parts(
        &self,
        ev: &mut Eval,
        cell: &Cell,
        source: usize,
        weights: &[Option<crate::backend::Real>],
        span: Span,
    ) -> Result<Vec<Value>, Diagnostic> {
        let Some(Operand::Tuple(parts)) = cell.nodes.get(source).and_then(|n| n.args.first())
        else {
            return Err(internal(span, "a split affine map not over a tuple"));
        };
        let state = parts.iter().zip(weights).filter(|(_, w)| w.is_some());
        state.map(|(p, _)| self.operand(ev, p, span)).collect()
    }

    fn batch(&self) -> usize {
        self.origin.len()
    }

    /// An environment binding `vars`, over this frame's examples.
    fn env(&self, vars: HashMap<LocalId, Value>) -> Env {
        Env {
            vars,
            subst: Rc::new(Vec::new()),
            origin: self.origin.clone(),
            hoisted: None,
        }
    }

    fn operand(&self, ev: &mut Eval, o: &Operand, span: Span) -> Result<Value, Diagnostic> {
        if let (Operand::Tuple(parts), Some(p)) = (o, &self.packed) {
            if p.packing.is(parts) {
                return Ok(p.value.clone());
            }
        }
        match o {
            Operand::Input(i) => self
                .inputs
                .get(*i)
                .and_then(Clone::clone)
                .ok_or_else(|| internal(span, "a cell input with no value")),
            Operand::Node(j) => match (self.nodes.get(*j), self.cell.nodes.get(*j)) {
                (Some(Some(v)), _) => Ok(v.clone()),
                (_, Some(node)) if deferred(ev, node) => self.run(ev, node),
                _ => Err(internal(span, "an op read before it ran")),
            },
            Operand::Literal(l) => ev.eval(&mut self.env(HashMap::new()), &l.expr),
            Operand::Tuple(parts) if parts.is_empty() => Ok(Value::Unit(self.batch())),
            Operand::Tuple(parts) => {
                let vs = parts.iter().map(|p| self.operand(ev, p, span));
                Ok(Value::tuple(vs.collect::<Result<_, _>>()?))
            }
            Operand::Unit => Ok(Value::Unit(self.batch())),
            Operand::Function(_) => Err(internal(span, "a function the lowering left unapplied")),
        }
    }

    /// The locals of a module's expression: its cells (as function values
    /// over this frame's examples, their captures read here) at the
    /// positions `cell_args`, its operands' values at the others.
    fn module_locals(
        &self,
        ev: &mut Eval,
        m: &Module,
        operands: Vec<Value>,
        span: Span,
    ) -> Result<HashMap<LocalId, Value>, Diagnostic> {
        let mut cells = m.cells.iter();
        let mut operands = operands.into_iter();
        let mut vars = HashMap::new();
        for pos in 0..m.cells.len() + operands.len() {
            let v = if m.cell_args.contains(&pos) {
                let (_, cell) = cells
                    .next()
                    .ok_or_else(|| internal(span, "a module with too few cells"))?;
                let captured = cell
                    .captured
                    .iter()
                    .map(|(outer, _)| self.operand(ev, outer, span))
                    .collect::<Result<_, _>>()?;
                Value::func(Func::Cell {
                    cell: cell.clone(),
                    captured,
                    origin: self.origin.clone(),
                })
            } else {
                operands
                    .next()
                    .ok_or_else(|| internal(span, "a module with too few operands"))?
            };
            vars.insert(pos as LocalId, v);
        }
        Ok(vars)
    }
}
