//! Executing hoisting plans (`lower::hoist`) in `fold`, `mapAccumL` and
//! `mapAccumR`: before the loop, the step function's element-only work is
//! evaluated once on all elements of all examples (one embedding gather,
//! one large matmul for the element half of a split affine map); each step
//! then gathers its rows of those results instead of computing them, and
//! multiplies only the state half of a split affine map.
//!
//! Values are those of the plain evaluation up to the order of floating
//! point sums (`W_s s + (W_e e + b)` for `W [s; e] + b`); the reference
//! evaluation, without hoisting, is kept for tests (`set_hoisting`), and
//! `DP_NO_HOIST=1` turns hoisting off for a run.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::backend::{Activation, Binary, Real, Recurrence};
use crate::diagnostic::Diagnostic;
use crate::ir::{Expr, ExprKind, LearnedId};
use crate::lower::hoist::{at, At, HoistPlan, MAX_HOIST_BATCH};
use crate::source::Span;

use super::batch::gather;
use super::eval::{bind, Env, Eval};
use super::layout::{internal, pack};
use super::value::{Func, ListValue, Value};
use super::weights::LearnedWeights;

thread_local! {
    static HOISTING: Cell<bool> = Cell::new(std::env::var_os("DP_NO_HOIST").is_none());
    static PREPARED: Cell<usize> = const { Cell::new(0) };
    static WHOLE: Cell<bool> = Cell::new(std::env::var_os("DP_NO_WHOLE").is_none());
    static WHOLE_RUNS: Cell<usize> = const { Cell::new(0) };
}

/// How many loops ran as one recurrence op on this thread so far.
pub fn whole_runs() -> usize {
    WHOLE_RUNS.with(Cell::get)
}

/// Does a whole loop run as one recurrence op on this thread?
pub(crate) fn whole_enabled() -> bool {
    WHOLE.with(Cell::get)
}

/// Turn running a whole loop as one recurrence op on or off on this thread
/// (the reference of tests; `DP_NO_WHOLE=1` turns it off for a run);
/// returns the previous setting.
pub fn set_whole_recurrences(on: bool) -> bool {
    WHOLE.with(|w| w.replace(on))
}

/// How many recurrences ran hoisted on this thread so far (for tests that
/// must know the hoisted path ran, not just that values agree).
pub fn hoisted_runs() -> usize {
    PREPARED.with(Cell::get)
}

/// Turn hoisting on or off on this thread (the reference evaluation of
/// tests); returns the previous setting.
pub fn set_hoisting(on: bool) -> bool {
    HOISTING.with(|h| h.replace(on))
}

/// The hoisted values of one step, for the running examples' rows.
pub(crate) struct Hoisted {
    pub values: HashMap<At, Value>,
    pub splits: HashMap<At, SplitStep>,
    /// Nodes of a cell not run in the loop: element-only nodes no node of
    /// the loop reads, and split maps computed by their fused activation.
    pub skip: HashSet<At>,
}

/// A split affine map at one step: the precomputed element half, and the
/// weight columns of each state-dependent part.
#[derive(Clone)]
pub(crate) struct SplitStep {
    /// The element half of every element; this step reads rows `rows`.
    pre: Real,
    rows: Rc<Vec<usize>>,
    piece: LearnedId,
    /// Per part: the weight columns of a state part (`None`: element).
    pub weights: Rc<Vec<Option<Real>>>,
    /// The activation fused into the step's product, if the plan fused one.
    activation: Option<Activation>,
    /// A cell's split: its affine node.
    pub source: At,
}

/// A plan evaluated on all elements: one value (one row per element) per
/// hoisted expression and per split.
pub(crate) struct Prepared {
    pub values: Vec<(At, Value)>,
    pub splits: Vec<PreparedSplit>,
    pub skip: Vec<At>,
    /// The loop is its one split's step and nothing else
    /// (`lower::hoist::whole_recurrence`), and that op is on: it runs as
    /// one op.
    pub whole: bool,
}

/// A split's element half for all elements, and its state weights.
pub(crate) struct PreparedSplit {
    pub at: At,
    pub piece: LearnedId,
    pub pre: Real,
    pub weights: Rc<Vec<Option<Real>>>,
    pub activation: Option<Activation>,
    pub source: At,
}

impl Prepared {
    /// The hoisted values of the element rows `rows` (one per running
    /// example, in the running order).
    pub fn step(&self, ev: &mut Eval, rows: &[usize]) -> Rc<Hoisted> {
        let shared_rows = Rc::new(rows.to_vec());
        let values = self
            .values
            .iter()
            .map(|(a, v)| (*a, gather(ev.graph, v, rows)))
            .collect();
        let splits = self
            .splits
            .iter()
            .map(|s| {
                let step = SplitStep {
                    pre: s.pre.clone(),
                    rows: shared_rows.clone(),
                    piece: s.piece,
                    weights: s.weights.clone(),
                    activation: s.activation,
                    source: s.source,
                };
                (s.at, step)
            })
            .collect();
        let skip = self.skip.iter().copied().collect();
        Rc::new(Hoisted {
            values,
            splits,
            skip,
        })
    }
}

/// The work of `iterate`'s step function that does not depend on the
/// state, done once before the steps: for a network's unrolled cell
/// (`network::prepare_invariant`); `None` for a closure of the evaluator,
/// or with hoisting off.
pub(crate) fn prepare_invariant(ev: &mut Eval, f: &Value) -> Result<Option<Prepared>, Diagnostic> {
    let Value::Func(func) = f else {
        return Ok(None);
    };
    match super::network::Run::of(func) {
        Some(run) if HOISTING.with(Cell::get) => super::network::prepare_invariant(ev, &run),
        _ => Ok(None),
    }
}

/// Evaluate the hoisting plan of step function `f` (state first, then the
/// element, after any arguments applied beforehand) on all elements of
/// `xs`; `None` when there is nothing to hoist or hoisting is off.
pub(crate) fn prepare(
    ev: &mut Eval,
    f: &Value,
    xs: &ListValue,
    span: Span,
) -> Result<Option<Prepared>, Diagnostic> {
    let examples = xs.offsets.len().saturating_sub(1);
    let elements = xs.offsets.last().copied().unwrap_or(0);
    if !HOISTING.with(Cell::get) || elements == 0 {
        return Ok(None);
    }
    let Value::Func(func) = f else {
        return Ok(None);
    };
    if let Some(run) = super::network::Run::of(func) {
        // The network's plan knows whether the batch bound applies.
        return super::network::prepare(ev, &run, xs, span);
    }
    if examples > MAX_HOIST_BATCH {
        return Ok(None);
    }
    let (closure, applied) = match &**func {
        Func::Applied { func, args } => (func.clone(), args.clone()),
        _ => (func.clone(), Vec::new()),
    };
    let Func::Closure {
        lambda,
        captured,
        subst,
        origin,
    } = &*closure
    else {
        return Ok(None);
    };
    let k = lambda.params.len();
    if k != applied.len() + 2 || origin.len() != examples {
        return Ok(None);
    }
    // Hoisting must not reorder random draws: in a program that draws, a
    // step that may draw (itself, through a def, or through a function it
    // was given) runs as written.
    let given_function = captured
        .iter()
        .chain(&applied)
        .any(|v| matches!(v, Value::Func(_)));
    if ev.draws && (given_function || ev.ctx.program.draws_in(&lambda.body)) {
        return Ok(None);
    }
    let plan = ev.hoist_plan(lambda, k - 2);
    if plan.is_empty() {
        return Ok(None);
    }
    let owners = xs.owners();
    let mut env = Env {
        vars: HashMap::new(),
        subst: subst.clone(),
        origin: Rc::new(owners.iter().map(|&b| origin[b]).collect()),
        hoisted: None,
    };
    for (id, v) in lambda.captures.iter().zip(captured) {
        env.vars.insert(*id, gather(ev.graph, v, &owners));
    }
    for (p, v) in lambda.params.iter().zip(&applied) {
        bind(p, gather(ev.graph, v, &owners), &mut env, span)?;
    }
    bind(&lambda.params[k - 1], xs.elems.clone(), &mut env, span)?;
    let nodes = find_nodes(&lambda.body, &plan);
    let mut values = Vec::with_capacity(plan.values.len());
    for h in &plan.values {
        let e = node(&nodes, h.at, span)?;
        let v = ev.eval(&mut env, e)?;
        if let Some(p) = &h.binds {
            bind(p, v.clone(), &mut env, e.span)?;
        }
        if h.in_loop {
            values.push((h.at, v));
        }
    }
    let mut splits = Vec::with_capacity(plan.splits.len());
    for s in &plan.splits {
        let app = node(&nodes, s.at, span)?;
        let parts = tuple_parts(affine_app(app, s.activation.is_some()))?;
        let mut elements = Vec::with_capacity(parts.len());
        for (part, &element) in parts.iter().zip(&s.element) {
            elements.push(match element {
                true => Some(ev.eval(&mut env, part)?),
                false => None,
            });
        }
        splits.push(prepare_split(ev, s, elements, app.span)?);
    }
    Ok(Some(Prepared::made(values, splits, Vec::new())))
}

impl Prepared {
    /// A prepared plan (counted for [`hoisted_runs`]).
    pub fn made(values: Vec<(At, Value)>, splits: Vec<PreparedSplit>, skip: Vec<At>) -> Prepared {
        PREPARED.with(|p| p.set(p.get() + 1));
        Prepared {
            values,
            splits,
            skip,
            whole: false,
        }
    }

    /// The final states of a `fold` whose loop is this plan's one split
    /// step (`whole`), run as one recurrence op from the initial states
    /// `init` over `xs`; `None` for another loop (or with that op off).
    pub fn run_whole(
        &self,
        ev: &mut Eval,
        init: &Value,
        xs: &ListValue,
        span: Span,
    ) -> Result<Option<Value>, Diagnostic> {
        let ([split], true) = (self.splits.as_slice(), self.whole) else {
            return Ok(None);
        };
        let mut state = split.weights.iter().flatten();
        let (Some(w), None) = (state.next(), state.next()) else {
            return Ok(None);
        };
        let n = xs.offsets.len().saturating_sub(1);
        let every: Vec<usize> = (0..n).collect();
        let init = gather(ev.graph, init, &every);
        let h0 = pack(ev.graph, &init, span)?;
        let lengths = xs.lengths();
        let y = ev.graph.recurrence(Recurrence {
            c: &split.pre,
            w,
            h0: &h0,
            starts: &xs.offsets[..n],
            lengths: &lengths,
            act: split.activation.unwrap_or(Activation::Identity),
        });
        WHOLE_RUNS.with(|r| r.set(r.get() + 1));
        super::learned::affine_output(ev, split.piece, y, span).map(Some)
    }
}

/// A split's element half `sum W_e e + b` over all elements, from the
/// values of its element parts (`None` at a state part), and the weight
/// columns of its state parts.
pub(crate) fn prepare_split(
    ev: &mut Eval,
    s: &crate::lower::hoist::Split,
    elements: Vec<Option<Value>>,
    span: Span,
) -> Result<PreparedSplit, Diagnostic> {
    let Some(LearnedWeights::Affine { weight, bias, .. }) = ev.ctx.weights.learned.get(s.piece)
    else {
        return Err(internal(span, "a split affine map without affine weights"));
    };
    let mut pre: Option<Real> = None;
    let mut state_weights = Vec::with_capacity(elements.len());
    for (v, &(lo, hi)) in elements.into_iter().zip(&s.columns) {
        let w = ev.graph.slice_cols(weight, lo, hi);
        let Some(v) = v else {
            state_weights.push(Some(w));
            continue;
        };
        state_weights.push(None);
        let x = pack(ev.graph, &v, span)?;
        pre = Some(match pre {
            None => ev.graph.affine(&x, &w, bias),
            Some(acc) => {
                let y = ev.graph.matmul_t(&x, &w);
                ev.graph.binary(Binary::Add, &acc, &y)
            }
        });
    }
    let Some(pre) = pre else {
        return Err(internal(span, "a split with no element part"));
    };
    let activation = s
        .activation
        .and_then(|b| Activation::of(super::builtins::unary_of(b)));
    if s.activation.is_some() && activation.is_none() {
        return Err(internal(span, "an activation that cannot be fused"));
    }
    Ok(PreparedSplit {
        at: s.at,
        piece: s.piece,
        pre,
        weights: Rc::new(state_weights),
        activation,
        source: s.source,
    })
}

/// Look `e` up among the step's hoisted values; `None` if it is not one.
pub(crate) fn lookup(ev: &mut Eval, env: &mut Env, e: &Expr) -> Option<Result<Value, Diagnostic>> {
    let h = env.hoisted.clone()?;
    let key = at(e);
    if let Some(v) = h.values.get(&key) {
        return Some(Ok(v.clone()));
    }
    let s = h.splits.get(&key)?;
    Some(split_step(ev, env, e, s))
}

/// `W [s; e] + b` at one step: the element half precomputed, plus `W_s s`
/// for each state-dependent part.
fn split_step(ev: &mut Eval, env: &mut Env, e: &Expr, s: &SplitStep) -> Result<Value, Diagnostic> {
    let parts = tuple_parts(affine_app(e, s.activation.is_some()))?;
    let mut states = Vec::new();
    for (part, w) in parts.iter().zip(s.weights.iter()) {
        if w.is_some() {
            states.push(ev.eval(env, part)?);
        }
    }
    s.value(ev, states, e.span)
}

impl SplitStep {
    /// `W [s; e] + b` at one step from the values of the state parts (in
    /// order): the element half precomputed, plus `W_s s` for each.
    pub fn value(
        &self,
        ev: &mut Eval,
        states: Vec<Value>,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        let weights = self.weights.iter().flatten();
        let mut states: Vec<(Value, &Real)> = states.into_iter().zip(weights).collect();
        if states.len() == 1 {
            // One state part: the product, the sum and the activation fused.
            let (v, w) = states.remove(0);
            let x = pack(ev.graph, &v, span)?;
            let act = self.activation.unwrap_or(Activation::Identity);
            let y = ev.graph.addmm_act(&self.pre, Some(&self.rows), &x, w, act);
            return super::learned::affine_output(ev, self.piece, y, span);
        }
        let mut y = super::batch::gather_real(ev.graph, &self.pre, &self.rows);
        for (v, w) in states {
            let x = pack(ev.graph, &v, span)?;
            let xw = ev.graph.matmul_t(&x, w);
            y = ev.graph.binary(Binary::Add, &y, &xw);
        }
        super::learned::affine_output(ev, self.piece, y, span)
    }
}

/// The affine application of a split at `e` (inside the fused activation
/// when there is one).
fn affine_app(e: &Expr, fused: bool) -> &Expr {
    match (&e.kind, fused) {
        (ExprKind::App { args, .. }, true) => args.first().unwrap_or(e),
        _ => e,
    }
}

/// The parts of the tuple literal a split affine map is applied to.
fn tuple_parts(app: &Expr) -> Result<&[Expr], Diagnostic> {
    match &app.kind {
        ExprKind::App { args, .. } => match args.first().map(|a| &a.kind) {
            Some(ExprKind::Tuple(parts)) => Ok(parts),
            _ => Err(internal(
                app.span,
                "a split affine map not applied to a tuple",
            )),
        },
        _ => Err(internal(app.span, "a split that is not an application")),
    }
}

fn node<'a>(nodes: &HashMap<At, &'a Expr>, a: At, span: Span) -> Result<&'a Expr, Diagnostic> {
    nodes
        .get(&a)
        .copied()
        .ok_or_else(|| internal(span, "a hoisted expression not in the step function"))
}

/// The plan's nodes in `body`, by address.
fn find_nodes<'a>(body: &'a Expr, plan: &HoistPlan) -> HashMap<At, &'a Expr> {
    let wanted: HashSet<At> = plan
        .values
        .iter()
        .map(|h| h.at)
        .chain(plan.splits.iter().map(|s| s.at))
        .collect();
    let mut out = HashMap::new();
    let mut stack = vec![body];
    while let Some(e) = stack.pop() {
        if wanted.contains(&at(e)) {
            out.insert(at(e), e);
        }
        match &e.kind {
            ExprKind::App { func, args } => {
                stack.push(func);
                stack.extend(args.iter());
            }
            ExprKind::Let { value, body, .. } => {
                stack.push(value);
                stack.push(body);
            }
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
            } => stack.extend([&**cond, &**then_branch, &**else_branch]),
            ExprKind::Tuple(items) | ExprKind::List(items) => stack.extend(items.iter()),
            ExprKind::Prim { args, .. } => stack.extend(args.iter()),
            ExprKind::Lambda(l) => stack.push(&l.body),
            _ => {}
        }
    }
    out
}
