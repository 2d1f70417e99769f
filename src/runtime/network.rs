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
//! A network runs only when every op of it can ([`executable`]): no op
//! inside an `if` branch (here it would run on every example, where the
//! evaluator runs it only on the examples that take the branch), and no
//! application of a function value the lowering could not follow.

use std::collections::HashMap;
use std::rc::Rc;

use crate::backend::Graph;
use crate::diagnostic::Diagnostic;
use crate::ir::{LocalId, Pattern};
use crate::lower::{Cell, Exec, Module, Network, Op, Operand};
use crate::source::Span;

use super::eval::{Context, Env, Eval};
use super::layout::internal;
use super::value::{Func, Origin, Value};

thread_local! {
    static NETWORKS: std::cell::Cell<bool> =
        std::cell::Cell::new(std::env::var_os("DP_NETWORKS").is_some());
    static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Run defs as their lowered networks on this thread (`DP_NETWORKS=1` for
/// a run); returns the previous setting.
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
    executable(&net.body).then_some(net)
}

/// Can the runtime execute this cell (and the cells of its modules)?
pub fn executable(cell: &Cell) -> bool {
    let nodes_run = cell.nodes.iter().all(|n| {
        let cells_run = match &n.op {
            Op::Module(m) => m.cells.iter().all(|(_, c)| executable(c)),
            _ => true,
        };
        !n.conditional
            && !matches!(n.exec, Exec::Opaque)
            && n.args.iter().all(is_value)
            && cells_run
    });
    nodes_run && is_value(&cell.output) && cell.captured.iter().all(|(o, _)| is_value(o))
}

/// Does an operand stand for a run-time value (not a function the lowering
/// left unapplied)?
fn is_value(o: &Operand) -> bool {
    match o {
        Operand::Function(_) => false,
        Operand::Tuple(parts) => parts.iter().all(is_value),
        _ => true,
    }
}

/// The value of a lowered def over a batch of `batch` examples: a function
/// value running the network's body, or the body's value for a def that
/// is not a function. The network must be [`executable`].
pub fn network_value(
    ctx: &Context,
    graph: &mut Graph,
    net: &Network,
    batch: usize,
) -> Result<Value, Diagnostic> {
    let origin: Origin = Rc::new((0..batch).collect());
    if !executable(&net.body) {
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
    apply_cell(&mut ev, &run, Vec::new(), net.span)
}

/// A cell applied over a batch: the cell, its captured values, and the
/// examples its rows belong to.
pub(crate) struct Run<'a> {
    pub cell: &'a Rc<Cell>,
    pub captured: &'a [Value],
    pub origin: &'a Origin,
}

/// Apply a cell to one argument per parameter: bind its inputs, run its
/// nodes in order, read its output.
pub(crate) fn apply_cell(
    ev: &mut Eval,
    run: &Run,
    args: Vec<Value>,
    span: Span,
) -> Result<Value, Diagnostic> {
    let cell = run.cell;
    let mut inputs: Vec<Option<Value>> = vec![None; cell.inputs.len()];
    for (p, a) in cell.params.iter().zip(args) {
        bind_input(p, a, &mut inputs, span)?;
    }
    for ((_, i), v) in cell.captured.iter().zip(run.captured) {
        if let Some(slot) = inputs.get_mut(*i) {
            *slot = Some(v.clone());
        }
    }
    let mut frame = Frame {
        inputs,
        nodes: Vec::with_capacity(cell.nodes.len()),
        origin: run.origin,
    };
    for node in &cell.nodes {
        let args = node
            .args
            .iter()
            .map(|o| frame.operand(ev, o, node.span))
            .collect::<Result<Vec<_>, _>>()?;
        let v = match (&node.exec, &node.op) {
            (Exec::Expr(e), Op::Module(m)) => {
                let vars = frame.module_locals(ev, m, args, node.span)?;
                ev.eval(&mut frame.env(vars), e)?
            }
            (Exec::Expr(e), _) => {
                let vars = (0..).zip(args).collect();
                ev.eval(&mut frame.env(vars), e)?
            }
            (Exec::Part(i), _) => match args.first() {
                Some(Value::Tuple(parts)) => parts
                    .get(*i)
                    .cloned()
                    .ok_or_else(|| internal(node.span, "a tuple component out of range"))?,
                _ => {
                    return Err(internal(
                        node.span,
                        "a component of a value that is no tuple",
                    ))
                }
            },
            (Exec::Opaque, _) => {
                return Err(internal(node.span, "an op the runtime cannot execute"));
            }
        };
        frame.nodes.push(v);
    }
    frame.operand(ev, &cell.output, span)
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
/// so far.
struct Frame<'a> {
    inputs: Vec<Option<Value>>,
    nodes: Vec<Value>,
    origin: &'a Origin,
}

impl Frame<'_> {
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
        match o {
            Operand::Input(i) => self
                .inputs
                .get(*i)
                .and_then(Clone::clone)
                .ok_or_else(|| internal(span, "a cell input with no value")),
            Operand::Node(j) => self
                .nodes
                .get(*j)
                .cloned()
                .ok_or_else(|| internal(span, "an op read before it ran")),
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
