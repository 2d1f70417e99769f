//! The batched evaluator: typed IR expressions to [`Value`]s over a batch.
//!
//! Evaluation is environment-based (locals by [`LocalId`], closures capture
//! exactly `Lambda::captures`), strict, and batched: every expression is
//! evaluated once for all examples of the batch. Polymorphic defs are
//! evaluated under a type substitution built from the instantiation at each
//! `Global` reference, so constants (`zeros`, empty lists) get their shapes.
//!
//! `if` (and `&&`, `||`) splits the batch by the condition and evaluates each
//! branch only on the examples that take it (with the free locals of the
//! branch gathered to that sub-batch), then merges the results. So an
//! untaken branch can neither raise an error (`last []` guarded by a length
//! test) nor leak NaN gradients.
//!
//! A closed def that is not a function has the same value for every
//! example, so it is computed once per instantiation (as a batch of one) in
//! an evaluation run and repeated to the batch by a gather (gradients of the
//! repeats are summed by the backend).
//!
//! Run-time errors are `Code::RuntimeError` diagnostics at the offending
//! expression; with a batch of more than one example a note names the
//! example (1-based), traced through `map`, `fold` etc. by each row's
//! [`Origin`].
//!
//! This file holds the entry points, the expression walk and application;
//! closures, pattern binding and free locals are in `locals.rs`.
//! Operators are in `prims.rs`, builtins in `builtins.rs` and the files it
//! dispatches to, learned pieces in `learned.rs`, type layouts in
//! `layout.rs`, batch plumbing in `batch.rs`.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::backend::{Graph, Real};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::ty::Type;
use crate::ir::{self, Expr, ExprKind, LocalId};
use crate::source::Span;

use super::batch::{self, gather, merge, split_mask};
use super::layout::{self, internal, resolve};
pub(crate) use super::locals::bind;
use super::locals::{closure, collect_locals};
use super::value::{Func, Origin, TypeSubst, Value};
use super::vocab::Vocabularies;
use super::weights::Weights;

/// What evaluation reads: the program, its run-time vocabularies and weights.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub program: &'a ir::Program,
    pub vocabs: &'a Vocabularies,
    pub weights: &'a Weights,
    /// Where random draws come from (`random.rs`).
    pub draws: super::random::Draws<'a>,
    /// Watching the values entering learned pieces (`probe.rs`, `dp inspect`).
    pub probe: Option<&'a std::cell::RefCell<super::probe::Probe>>,
}

impl<'a> Context<'a> {
    /// A context whose draws come from seed 0, epoch 0, outside training.
    pub fn new(program: &'a ir::Program, vocabs: &'a Vocabularies, weights: &'a Weights) -> Self {
        Context {
            program,
            vocabs,
            weights,
            draws: Default::default(),
            probe: None,
        }
    }
}

/// Evaluate a closed expression (no free locals; types closed) over a batch
/// of `batch` examples.
pub fn eval_closed(
    ctx: &Context,
    graph: &mut Graph,
    expr: &Expr,
    batch: usize,
) -> Result<Value, Diagnostic> {
    let mut ev = Eval::new(ctx, graph, batch);
    let mut env = Env::top(batch);
    ev.eval(&mut env, expr)
}

/// Apply a function value to arguments (all over the same batch).
pub fn apply(
    ctx: &Context,
    graph: &mut Graph,
    f: &Value,
    args: Vec<Value>,
    span: Span,
) -> Result<Value, Diagnostic> {
    let batch = batch::batch_size(f);
    let mut ev = Eval::new(ctx, graph, batch);
    ev.apply(f, args, span)
}

/// [`apply`], also returning where a value first became non-finite: the
/// span of the first lambda (innermost first) whose application gave a
/// non-finite real. Slower than `apply` (every application's result is
/// read back); training uses it only to explain a non-finite objective.
pub fn apply_watching(
    ctx: &Context,
    graph: &mut Graph,
    f: &Value,
    args: Vec<Value>,
) -> (Result<Value, Diagnostic>, Option<Span>) {
    let batch = batch::batch_size(f);
    let mut ev = Eval::new(ctx, graph, batch);
    ev.watch = true;
    let result = ev.apply(f, args, Span::default());
    (result, ev.nonfinite_at)
}

/// The value of a global def over a batch (a Func for function-typed defs).
/// Quantified type variables of the def default to `Float`.
pub fn global_value(
    ctx: &Context,
    graph: &mut Graph,
    def: ir::DefId,
    batch: usize,
) -> Result<Value, Diagnostic> {
    let mut ev = Eval::new(ctx, graph, batch);
    let env = Env::top(batch);
    ev.global(&env, def, &[], Span::default())
}

/// Locals, type substitution and example origins of the code being run.
#[derive(Clone)]
pub(crate) struct Env {
    pub vars: HashMap<LocalId, Value>,
    pub subst: TypeSubst,
    pub origin: Origin,
    /// In a step function whose element-only work was done before the
    /// loop (`hoist.rs`): this step's rows of it.
    pub hoisted: Option<Rc<super::hoist::Hoisted>>,
}

impl Env {
    fn top(batch: usize) -> Env {
        Env {
            vars: HashMap::new(),
            subst: Rc::new(Vec::new()),
            origin: Rc::new((0..batch).collect()),
            hoisted: None,
        }
    }

    pub fn batch(&self) -> usize {
        self.origin.len()
    }
}

/// One evaluation run: the context, the graph, and caches.
pub(crate) struct Eval<'e> {
    pub ctx: &'e Context<'e>,
    pub graph: &'e mut Graph,
    /// The batch size of the entry call, to name examples in errors.
    top_batch: usize,
    /// Free locals of `if` branches, by node address.
    free: HashMap<*const Expr, Rc<Vec<LocalId>>>,
    /// Values of closed non-function defs (batch of one), by instantiation.
    constants: HashMap<(ir::DefId, Vec<Type>), Value>,
    /// Check each lambda application's result for non-finite reals
    /// ([`apply_watching`]), recording the first in `nonfinite_at`.
    watch: bool,
    nonfinite_at: Option<Span>,
    /// Hoisting plans of step functions, by lambda and state parameter.
    plans: HashMap<(usize, usize), Rc<crate::lower::hoist::HoistPlan>>,
    /// Values drawn so far for each example of the batch, and (last) for
    /// values of no example (`random.rs`).
    counters: Vec<u64>,
    /// Does the program draw random values? Then nothing is evaluated in
    /// another order or shared across examples (no hoisting, no shared
    /// leaf states, no cached constant that draws), so that an example's
    /// draws are those of running it alone.
    pub draws: bool,
    /// Elementwise chains (`chains.rs`), by root node address.
    chains: HashMap<*const Expr, Option<std::sync::Arc<crate::backend::Chain>>>,
}

/// The origin of rows that belong to no example in particular (constants).
pub(crate) const NO_EXAMPLE: usize = usize::MAX;

impl<'e> Eval<'e> {
    pub fn new(ctx: &'e Context<'e>, graph: &'e mut Graph, top_batch: usize) -> Eval<'e> {
        Eval {
            ctx,
            graph,
            top_batch,
            free: HashMap::new(),
            constants: HashMap::new(),
            watch: false,
            nonfinite_at: None,
            plans: HashMap::new(),
            counters: vec![0; top_batch + 1],
            draws: ctx.program.draws,
            chains: HashMap::new(),
        }
    }

    /// The count of values drawn for example `example` (or for no example).
    pub fn counter(&mut self, example: usize) -> &mut u64 {
        let last = self.counters.len() - 1;
        let i = if example < last { example } else { last };
        &mut self.counters[i]
    }

    /// Does `v` hold a non-finite real anywhere?
    fn has_nonfinite(&self, v: &Value) -> bool {
        match v {
            Value::Real(r) => self.graph.to_vec(r).iter().any(|x| !x.is_finite()),
            Value::Tuple(parts) => parts.iter().any(|p| self.has_nonfinite(p)),
            Value::List(l) => self.has_nonfinite(&l.elems),
            Value::Grid(g) => self.has_nonfinite(&g.cells),
            Value::Tree(t) => self.has_nonfinite(&t.leaves),
            Value::Rose(t) => self.has_nonfinite(&t.labels),
            _ => false,
        }
    }

    /// A run-time error at `span` about row `row` of a batch with `origin`.
    pub fn fail(
        &self,
        span: Span,
        origin: &[usize],
        row: usize,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        let d = Diagnostic::new(Code::RuntimeError, message).at(span, label);
        match origin.get(row) {
            Some(&ex) if self.top_batch > 1 && ex != NO_EXAMPLE => d.note(format!(
                "in example {} of the batch of {}",
                ex + 1,
                self.top_batch
            )),
            _ => d,
        }
    }

    pub fn eval(&mut self, env: &mut Env, e: &Expr) -> Result<Value, Diagnostic> {
        if env.hoisted.is_some() {
            if let Some(v) = super::hoist::lookup(self, env, e) {
                return v;
            }
        }
        if let Some(v) = super::learned::affine_activation(self, env, e) {
            return v;
        }
        if env.hoisted.is_none() && matches!(e.kind, ExprKind::Prim { .. } | ExprKind::App { .. }) {
            if let Some(chain) = self.chain_at(e) {
                return super::chains::eval(self, env, e, &chain);
            }
        }
        let b = env.batch();
        match &e.kind {
            ExprKind::Local(id) => env
                .vars
                .get(id)
                .cloned()
                .ok_or_else(|| internal(e.span, format!("unbound local {id}"))),
            ExprKind::Global { def, inst } => {
                let inst: Vec<_> = inst.iter().map(|t| resolve(t, &env.subst)).collect();
                self.global(env, *def, &inst, e.span)
            }
            ExprKind::Learned(id) => Ok(Value::func(Func::Learned { id: *id, batch: b })),
            ExprKind::Param(id) => self.param(env, *id, e),
            ExprKind::Builtin(builtin) => self.builtin(env, *builtin, e),
            ExprKind::Int(n) => Ok(Value::Int(Rc::new(vec![*n; b]))),
            ExprKind::Float(x) => Ok(Value::Real(self.graph.fill(b, 1, *x as f32))),
            ExprKind::Bool(x) => Ok(Value::Bool(Rc::new(vec![*x; b]))),
            ExprKind::Symbol { vocab, symbol } => self.symbol(vocab, symbol, b, e.span),
            ExprKind::TensorLit { data, .. } => {
                let all: Vec<f32> = (0..b).flat_map(|_| data.iter().copied()).collect();
                Ok(Value::Real(self.graph.from_vec(b, data.len(), all)))
            }
            ExprKind::Lambda(lambda) => closure(env, lambda, e.span),
            ExprKind::App { func, args } => {
                let f = self.eval(env, func)?;
                let args = self.eval_all(env, args)?;
                self.apply(&f, args, e.span)
            }
            ExprKind::Let {
                pattern,
                value,
                body,
            } => {
                let v = self.eval(env, value)?;
                bind(pattern, v, env, value.span)?;
                self.eval(env, body)
            }
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
            } => {
                let mask = self.eval_bool(env, cond)?;
                self.branch(env, &mask, then_branch, else_branch)
            }
            ExprKind::Tuple(es) if es.is_empty() => Ok(Value::Unit(b)),
            ExprKind::Tuple(es) => Ok(Value::tuple(self.eval_all(env, es)?)),
            ExprKind::List(es) => self.list_literal(env, es, e),
            ExprKind::Prim { op, args } => super::prims::eval_prim(self, env, *op, args, e),
        }
    }

    /// The elementwise chain rooted at `e`, if any (planned once per node).
    fn chain_at(&mut self, e: &Expr) -> Option<std::sync::Arc<crate::backend::Chain>> {
        if !super::chains::enabled() {
            return None;
        }
        let types = &self.ctx.program.types;
        self.chains
            .entry(e as *const Expr)
            .or_insert_with(|| super::chains::plan(types, e))
            .clone()
    }

    fn eval_all(&mut self, env: &mut Env, es: &[Expr]) -> Result<Vec<Value>, Diagnostic> {
        es.iter().map(|x| self.eval(env, x)).collect()
    }

    /// A builtin as a value: `zeros`/`ones` computed, others partial.
    fn builtin(&mut self, env: &Env, b: ir::Builtin, e: &Expr) -> Result<Value, Diagnostic> {
        let ty = resolve(&e.ty, &env.subst);
        if b.arity() == 0 {
            return super::builtins::call(self, b, &ty, Vec::new(), &env.origin, e.span);
        }
        Ok(Value::func(Func::Partial {
            builtin: b,
            ty,
            args: Vec::new(),
            origin: env.origin.clone(),
        }))
    }

    pub fn eval_bool(&mut self, env: &mut Env, e: &Expr) -> Result<Rc<Vec<bool>>, Diagnostic> {
        match self.eval(env, e)? {
            Value::Bool(m) => Ok(m),
            _ => Err(internal(e.span, "a condition that is not a Bool")),
        }
    }

    /// `if mask then a else b`, each branch on its own sub-batch.
    pub fn branch(
        &mut self,
        env: &mut Env,
        mask: &[bool],
        a: &Expr,
        b: &Expr,
    ) -> Result<Value, Diagnostic> {
        let (yes, no) = split_mask(mask);
        if no.is_empty() {
            return self.eval(env, a);
        }
        if yes.is_empty() {
            return self.eval(env, b);
        }
        let va = self.eval_subset(env, a, &yes)?;
        let vb = self.eval_subset(env, b, &no)?;
        Ok(merge(self.graph, mask, Some(va), Some(vb)))
    }

    /// Evaluate `e` for the examples `idx` of `env` only.
    pub fn eval_subset(&mut self, env: &Env, e: &Expr, idx: &[usize]) -> Result<Value, Diagnostic> {
        let free = self.free_locals(e);
        let mut vars = HashMap::with_capacity(free.len());
        for id in free.iter() {
            if let Some(v) = env.vars.get(id) {
                vars.insert(*id, gather(self.graph, v, idx));
            }
        }
        let mut sub = Env {
            vars,
            subst: env.subst.clone(),
            origin: Rc::new(idx.iter().map(|&i| env.origin[i]).collect()),
            hoisted: None,
        };
        self.eval(&mut sub, e)
    }

    fn free_locals(&mut self, e: &Expr) -> Rc<Vec<LocalId>> {
        let key = e as *const Expr;
        if let Some(f) = self.free.get(&key) {
            return f.clone();
        }
        let mut used = HashSet::new();
        let mut bound = HashSet::new();
        collect_locals(e, &mut used, &mut bound);
        let mut free: Vec<LocalId> = used.difference(&bound).copied().collect();
        free.sort_unstable();
        let free = Rc::new(free);
        self.free.insert(key, free.clone());
        free
    }

    /// The value of def `def` with its quantified variables set to `inst`.
    pub fn global(
        &mut self,
        env: &Env,
        def: ir::DefId,
        inst: &[Type],
        span: Span,
    ) -> Result<Value, Diagnostic> {
        let ctx = self.ctx;
        let Some(d) = ctx.program.defs.get(def) else {
            return Err(internal(span, format!("unknown def {def}")));
        };
        let subst = d.scheme.bind(inst);
        // In a program that draws, a def is evaluated where it is used:
        // each use is a new place in the example's evaluation (not one
        // cached value drawn for no example).
        if matches!(d.scheme.ty, Type::Func(..)) || self.draws {
            let mut inner = Env {
                vars: HashMap::new(),
                subst: Rc::new(subst),
                origin: env.origin.clone(),
                hoisted: None,
            };
            return self.eval(&mut inner, &d.body);
        }
        let one = self.constant(def, inst, subst)?;
        Ok(gather(self.graph, &one, &vec![0; env.batch()]))
    }

    /// A closed non-function def has the same value for every example:
    /// computed once (batch of one) per instantiation. (Function-typed
    /// defs are not cached: the errors of their applications must name
    /// the example.)
    fn constant(
        &mut self,
        def: ir::DefId,
        inst: &[Type],
        subst: Vec<(crate::ir::ty::TyVar, Type)>,
    ) -> Result<Value, Diagnostic> {
        let key = (def, inst.to_vec());
        if let Some(v) = self.constants.get(&key) {
            return Ok(v.clone());
        }
        let Some(d) = self.ctx.program.defs.get(def) else {
            return Err(internal(Span::default(), format!("unknown def {def}")));
        };
        let mut inner = Env {
            vars: HashMap::new(),
            subst: Rc::new(subst),
            origin: Rc::new(vec![NO_EXAMPLE]),
            hoisted: None,
        };
        let v = self.eval(&mut inner, &d.body)?;
        self.constants.insert(key, v.clone());
        Ok(v)
    }

    /// The one `[1, size]` tensor of an expression whose value is the same
    /// for every example (a `param`, or a closed def of a tensor type), so
    /// that `@` can use it once instead of a copy per example; `None` for
    /// any other expression.
    pub fn shared_real(&mut self, env: &Env, e: &Expr) -> Result<Option<Real>, Diagnostic> {
        match &e.kind {
            ExprKind::Param(id) => Ok(self.ctx.weights.params.get(*id).cloned()),
            ExprKind::Global { def, inst } => {
                let Some(d) = self.ctx.program.defs.get(*def) else {
                    return Ok(None);
                };
                if matches!(d.scheme.ty, Type::Func(..)) || self.draws {
                    return Ok(None);
                }
                let inst: Vec<Type> = inst.iter().map(|t| resolve(t, &env.subst)).collect();
                let subst = d.scheme.bind(&inst);
                match self.constant(*def, &inst, subst)? {
                    Value::Real(r) if r.rows() == 1 => Ok(Some(r)),
                    _ => Ok(None),
                }
            }
            _ => Ok(None),
        }
    }

    fn param(&mut self, env: &Env, id: ir::ParamId, e: &Expr) -> Result<Value, Diagnostic> {
        let ctx = self.ctx;
        let Some(w) = ctx.weights.params.get(id) else {
            return Err(internal(e.span, format!("no weights for param {id}")));
        };
        let rows = super::batch::gather_real(self.graph, w, &vec![0; env.batch()]);
        let ty = resolve(&e.ty, &env.subst);
        layout::unpack(ctx, self.graph, &rows, &ty, e.span)
    }

    fn symbol(
        &mut self,
        vocab: &str,
        symbol: &str,
        b: usize,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        match self.ctx.vocabs.get(vocab).and_then(|v| v.lookup(symbol)) {
            Some(i) => Ok(Value::Sym(Rc::new(vec![i; b]))),
            None => Err(Diagnostic::new(
                Code::RuntimeError,
                format!("`{symbol}` is not a symbol of vocabulary `{vocab}`"),
            )
            .at(span, "unknown symbol")),
        }
    }

    /// `[e1, ..., ek]`: example b's element j is row `b * k + j`.
    fn list_literal(&mut self, env: &mut Env, es: &[Expr], e: &Expr) -> Result<Value, Diagnostic> {
        let b = env.batch();
        let k = es.len();
        if k == 0 {
            let ty = resolve(&e.ty, &env.subst);
            let Type::List(elem) = &ty else {
                return Err(internal(e.span, "a list literal whose type is not a list"));
            };
            let elems = layout::empty(self.ctx, self.graph, elem, e.span)?;
            return Ok(Value::list(vec![0; b + 1], elems));
        }
        let parts = es
            .iter()
            .map(|x| self.eval(env, x))
            .collect::<Result<Vec<_>, _>>()?;
        let all = batch::concat(self.graph, &parts);
        let idx: Vec<usize> = (0..b)
            .flat_map(|ex| (0..k).map(move |j| j * b + ex))
            .collect();
        let elems = gather(self.graph, &all, &idx);
        Ok(Value::list((0..=b).map(|ex| ex * k).collect(), elems))
    }

    /// Apply a function value to arguments of its batch.
    pub fn apply(&mut self, f: &Value, args: Vec<Value>, span: Span) -> Result<Value, Diagnostic> {
        if args.is_empty() {
            return Ok(f.clone());
        }
        match f {
            Value::Func(func) => self.apply_func(func, args, span),
            _ => Err(internal(span, "applying a value that is not a function")),
        }
    }

    pub fn apply_func(
        &mut self,
        f: &Rc<Func>,
        mut args: Vec<Value>,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        if args.is_empty() {
            return Ok(Value::Func(f.clone()));
        }
        let n = f.batch_size();
        if let Some(a) = args.iter().find(|a| batch::batch_size(a) != n) {
            let m = batch::batch_size(a);
            return Err(internal(
                span,
                format!("argument batch {m} for a function of batch {n}"),
            ));
        }
        match &**f {
            Func::Closure { .. } => self.apply_closure(f, args, span, None),
            Func::Partial { .. } => self.apply_partial(f, args, span),
            Func::Cell {
                cell,
                captured,
                origin,
            } => {
                let k = cell.params.len();
                if args.len() < k {
                    return Ok(Value::func(Func::Applied {
                        func: f.clone(),
                        args,
                    }));
                }
                let rest = args.split_off(k);
                let run = super::network::Run {
                    cell,
                    captured,
                    origin,
                };
                let r = super::network::apply_cell(self, &run, args, None, span)?;
                self.apply(&r, rest, span)
            }
            Func::Learned { id, .. } => {
                let rest = args.split_off(1);
                let x = args.pop().ok_or_else(|| internal(span, "no argument"))?;
                let r = super::learned::apply_learned(self, *id, &x, span)?;
                self.apply(&r, rest, span)
            }
            Func::Applied { func, args: pre } => {
                let mut all = pre.clone();
                all.extend(args);
                self.apply_func(func, all, span)
            }
            Func::Select {
                mask,
                then_f,
                else_f,
            } => {
                let parts = vec![then_f.clone(), else_f.clone()];
                let pick: Vec<_> = mask
                    .iter()
                    .enumerate()
                    .map(|(i, &m)| (usize::from(!m), i))
                    .collect();
                self.apply_mixed(&parts, &pick, args, span)
            }
            Func::Mixed { parts, pick } => self.apply_mixed(parts, pick, args, span),
            Func::Empty { ty } => {
                let mut ty = ty.clone();
                for _ in &args {
                    let Type::Func(_, result) = ty else {
                        return Err(internal(span, "too many arguments for an empty function"));
                    };
                    ty = *result;
                }
                layout::empty(self.ctx, self.graph, &ty, span)
            }
        }
    }

    /// Apply a step function whose element-only work was hoisted: its body
    /// reads `hoisted` instead of computing that work.
    pub fn apply_hoisted(
        &mut self,
        f: &Value,
        mut args: Vec<Value>,
        hoisted: Rc<super::hoist::Hoisted>,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        let Value::Func(func) = f else {
            return self.apply(f, args, span);
        };
        match &**func {
            Func::Closure { .. } => self.apply_closure(func, args, span, Some(hoisted)),
            Func::Cell {
                cell,
                captured,
                origin,
            } if args.len() == cell.params.len() => {
                let run = super::network::Run {
                    cell,
                    captured,
                    origin,
                };
                super::network::apply_cell(self, &run, args, Some(&hoisted), span)
            }
            Func::Applied { func, args: pre } => {
                let mut all = pre.clone();
                all.append(&mut args);
                self.apply_hoisted(&Value::Func(func.clone()), all, hoisted, span)
            }
            _ => self.apply(f, args, span),
        }
    }

    /// The hoisting plan of a step function (state parameter `state`),
    /// made once per lambda in an evaluation run.
    pub fn hoist_plan(
        &mut self,
        lambda: &Rc<ir::Lambda>,
        state: usize,
    ) -> Rc<crate::lower::hoist::HoistPlan> {
        let key = (Rc::as_ptr(lambda) as usize, state);
        let program = self.ctx.program;
        self.plans
            .entry(key)
            .or_insert_with(|| Rc::new(crate::lower::hoist::plan(program, lambda, state)))
            .clone()
    }

    fn apply_closure(
        &mut self,
        f: &Rc<Func>,
        mut args: Vec<Value>,
        span: Span,
        hoisted: Option<Rc<super::hoist::Hoisted>>,
    ) -> Result<Value, Diagnostic> {
        let Func::Closure {
            lambda,
            captured,
            subst,
            origin,
        } = &**f
        else {
            return Err(internal(span, "not a closure"));
        };
        let k = lambda.params.len();
        if args.len() < k {
            return Ok(Value::func(Func::Applied {
                func: f.clone(),
                args,
            }));
        }
        let rest = args.split_off(k);
        let mut env = Env {
            vars: lambda
                .captures
                .iter()
                .copied()
                .zip(captured.iter().cloned())
                .collect(),
            subst: subst.clone(),
            origin: origin.clone(),
            hoisted,
        };
        for (p, v) in lambda.params.iter().zip(args) {
            bind(p, v, &mut env, span)?;
        }
        let r = self.eval(&mut env, &lambda.body)?;
        if self.watch && self.nonfinite_at.is_none() && self.has_nonfinite(&r) {
            self.nonfinite_at = Some(lambda.body.span);
        }
        self.apply(&r, rest, span)
    }

    fn apply_partial(
        &mut self,
        f: &Rc<Func>,
        args: Vec<Value>,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        let Func::Partial {
            builtin,
            ty,
            args: pre,
            origin,
        } = &**f
        else {
            return Err(internal(span, "not a partial builtin"));
        };
        let mut all = pre.clone();
        all.extend(args);
        let k = builtin.arity();
        if all.len() < k {
            return Ok(Value::func(Func::Partial {
                builtin: *builtin,
                ty: ty.clone(),
                args: all,
                origin: origin.clone(),
            }));
        }
        let rest = all.split_off(k);
        let r = super::builtins::call(self, *builtin, ty, all, origin, span)?;
        self.apply(&r, rest, span)
    }

    /// Apply each part of a mixed function to its own examples, then put
    /// the results back in order.
    fn apply_mixed(
        &mut self,
        parts: &[Rc<Func>],
        pick: &[(usize, usize)],
        args: Vec<Value>,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        if let Some(&(p, _)) = pick.first() {
            if pick.iter().all(|&(q, _)| q == p) {
                // All examples from one function (a fold's step over a
                // list of functions): no regrouping.
                let inner: Vec<usize> = pick.iter().map(|&(_, i)| i).collect();
                let part = parts
                    .get(p)
                    .ok_or_else(|| internal(span, "a mixed function's part"))?;
                let fp = gather(self.graph, &Value::Func(part.clone()), &inner);
                return self.apply(&fp, args, span);
            }
        }
        let mut results = Vec::new();
        let mut slot = vec![0; pick.len()];
        let mut base = 0;
        for (p, part) in parts.iter().enumerate() {
            let rows: Vec<usize> = (0..pick.len()).filter(|&i| pick[i].0 == p).collect();
            if rows.is_empty() {
                continue;
            }
            let inner: Vec<usize> = rows.iter().map(|&i| pick[i].1).collect();
            let fp = gather(self.graph, &Value::Func(part.clone()), &inner);
            let ap = args.iter().map(|a| gather(self.graph, a, &rows)).collect();
            results.push(self.apply(&fp, ap, span)?);
            for (k, &i) in rows.iter().enumerate() {
                slot[i] = base + k;
            }
            base += rows.len();
        }
        if results.is_empty() {
            return Err(internal(span, "applying an empty mixed function"));
        }
        let all = batch::concat(self.graph, &results);
        Ok(gather(self.graph, &all, &slot))
    }
}
