//! The symbolic evaluation behind [`super::lower_def`]: the IR evaluated
//! on symbols instead of tensors. A value is an operand of the cell under
//! construction, a tuple of values, or a function (a lambda with its
//! environment, a def, a learned piece, a builtin, or a partial
//! application of one). Applying a function inlines it; a combinator opens
//! a cell for each function it takes and applies the function to the
//! cell's inputs. A value of an enclosing cell used inside a module's cell
//! becomes a captured input of that cell.

use std::collections::HashMap;
use std::rc::Rc;

use super::{Cell, Exec, Input, Literal, Module, ModuleKind, Network, Node, Op, Operand, MAX_OPS};
use crate::diagnostic::{suggest, Code, Diagnostic};
use crate::ir::ty::{TyVar, Type};
use crate::ir::{Builtin, Expr, ExprKind, GlobalRef, Lambda, LocalId, Pattern, PrimOp, Program};
use crate::source::Span;

mod branches;
mod exprs;

use exprs::{builtin_app, locals, one_op, prim_name, shifted, tensor_literal, types_of};

type Subst = Rc<Vec<(TyVar, Type)>>;
type Env = Rc<HashMap<LocalId, Sym>>;

#[derive(Clone)]
enum Sym {
    /// An operand of the cell at `level` (0 is the def's body).
    Val {
        level: usize,
        op: Operand,
        ty: Type,
        name: Option<Rc<str>>,
    },
    Tuple(Vec<Sym>),
    Func(Rc<Closure>),
    /// A list of functions known while lowering (a family of learned
    /// pieces, a list literal of lambdas): a `fold` over it is unrolled.
    List(Vec<Sym>),
}

enum Closure {
    Lambda {
        lam: Rc<Lambda>,
        env: Env,
        subst: Subst,
    },
    Def {
        def: usize,
        inst: Vec<Type>,
    },
    Learned(usize),
    Builtin {
        b: Builtin,
        ty: Type,
    },
    Partial {
        f: Rc<Closure>,
        args: Vec<Sym>,
    },
}

/// A cell under construction, and the operands of the enclosing cell that
/// its captured inputs stand for.
struct Open {
    cell: Cell,
    captured: Vec<(Operand, usize)>,
}

struct Builder<'p> {
    program: &'p Program,
    open: Vec<Open>,
    ops: usize,
    span: Span,
}

pub(super) fn lower_def(program: &Program, name: &str) -> Result<Network, Diagnostic> {
    let Some(GlobalRef::Def(id)) = program.globals.get(name).copied() else {
        let d = Diagnostic::new(
            Code::UnknownName,
            format!("the program has no def `{name}`"),
        );
        let defs = program
            .globals
            .iter()
            .filter(|(_, g)| matches!(g, GlobalRef::Def(_)));
        return Err(match suggest(name, defs.map(|(n, _)| n.clone())) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d,
        });
    };
    let Some(def) = program.defs.get(id) else {
        return Err(internal(Span::default(), "a def the program does not hold"));
    };
    let subst: Subst = Rc::new(def.scheme.vars.iter().map(|&v| (v, Type::Float)).collect());
    let ty = def.scheme.ty.substitute(&subst);
    let mut b = Builder {
        program,
        open: vec![Open {
            cell: Cell::default(),
            captured: Vec::new(),
        }],
        ops: 0,
        span: def.span,
    };
    let value = b.eval(&def.body, &Rc::new(HashMap::new()), &subst)?;
    let names = match &def.body.kind {
        ExprKind::Lambda(l) => l.params.clone(),
        _ => Vec::new(),
    };
    let (args, _) = ty.uncurry();
    let args: Vec<Type> = args.into_iter().cloned().collect();
    let (output, result) = match value {
        Sym::Func(f) if !args.is_empty() => {
            let inputs = b.inputs(&args, &names);
            let out = b.apply_closure(&f, inputs, def.span)?;
            (b.operand(&out), ty.uncurry().1.clone())
        }
        v => (b.operand(&v), ty.clone()),
    };
    let mut body = b.open.pop().map(|o| o.cell).unwrap_or_default();
    body.output = output;
    super::fuse::fuse(&mut body);
    Ok(Network {
        name: name.to_string(),
        ty,
        result,
        body: Rc::new(body),
        span: def.span,
    })
}

impl Builder<'_> {
    fn level(&self) -> usize {
        self.open.len() - 1
    }

    fn cell(&mut self) -> &mut Cell {
        let last = self.open.len() - 1;
        &mut self.open[last].cell
    }

    /// Add an op to the current cell; its value.
    fn node(&mut self, node: Node) -> Result<Sym, Diagnostic> {
        self.ops += 1;
        if self.ops > MAX_OPS {
            return Err(Diagnostic::new(
                Code::RuntimeError,
                format!("the network is larger than {MAX_OPS} ops, too large to show"),
            )
            .at(self.span, "in the network of this def"));
        }
        let level = self.level();
        let ty = node.ty.clone();
        let cell = self.cell();
        cell.nodes.push(node);
        Ok(Sym::Val {
            level,
            op: Operand::Node(cell.nodes.len() - 1),
            ty,
            name: None,
        })
    }

    /// Inputs of the current cell for parameters of types `tys`, named by
    /// the function's patterns where it has them (a tuple pattern gives an
    /// input per component).
    /// The cell's `params` record which inputs each argument fills.
    fn inputs(&mut self, tys: &[Type], patterns: &[Pattern]) -> Vec<Sym> {
        let mut out = Vec::new();
        for (i, ty) in tys.iter().enumerate() {
            let fallback = format!("x{i}");
            let (sym, param) = self.input(ty, patterns.get(i), &fallback);
            self.cell().params.push(param);
            out.push(sym);
        }
        out
    }

    /// An input (or a tuple of inputs) for a parameter, and the pattern
    /// binding it (`Bind(i, _)` for input `i`).
    fn input(&mut self, ty: &Type, pattern: Option<&Pattern>, fallback: &str) -> (Sym, Pattern) {
        if let (Some(Pattern::Tuple(ps)), Type::Tuple(ts)) = (pattern, ty) {
            if ps.len() == ts.len() {
                let parts = ps.iter().zip(ts).enumerate();
                let (syms, pats) = parts
                    .map(|(i, (p, t))| self.input(t, Some(p), &format!("{fallback}_{i}")))
                    .unzip();
                return (Sym::Tuple(syms), Pattern::Tuple(pats));
            }
        }
        let name: Rc<str> = match pattern {
            Some(Pattern::Bind(_, n)) => n.clone(),
            Some(Pattern::Wildcard) => "_".into(),
            _ => fallback.into(),
        };
        let level = self.level();
        let cell = self.cell();
        cell.inputs.push(Input {
            name: name.to_string(),
            ty: ty.clone(),
        });
        let i = cell.inputs.len() - 1;
        let pattern = Pattern::Bind(i as LocalId, name.clone());
        let sym = Sym::Val {
            level,
            op: Operand::Input(i),
            ty: ty.clone(),
            name: Some(name),
        };
        (sym, pattern)
    }

    /// `sym` as an operand of the current cell (values of enclosing cells
    /// captured on the way in).
    fn operand(&mut self, sym: &Sym) -> Operand {
        match sym {
            Sym::Val {
                level,
                op,
                ty,
                name,
                ..
            } => {
                let mut op = op.clone();
                if !matches!(op, Operand::Input(_) | Operand::Node(_)) {
                    return op;
                }
                for l in level + 1..self.open.len() {
                    op = self.capture(l, op, ty, name.as_deref());
                }
                op
            }
            Sym::Tuple(parts) => Operand::Tuple(parts.iter().map(|p| self.operand(p)).collect()),
            Sym::Func(f) => Operand::Function(self.function_name(f)),
            Sym::List(items) => {
                let names: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        Sym::Func(f) => self.function_name(f),
                        _ => "?".into(),
                    })
                    .collect();
                Operand::Function(format!("[{}]", names.join(", ")))
            }
        }
    }

    /// The input of cell `level` that stands for `outer` of the cell below.
    fn capture(&mut self, level: usize, outer: Operand, ty: &Type, name: Option<&str>) -> Operand {
        let open = &mut self.open[level];
        if let Some((_, i)) = open.captured.iter().find(|(o, _)| *o == outer) {
            return Operand::Input(*i);
        }
        let name = name.map_or_else(|| format!("env{}", open.captured.len()), str::to_string);
        open.cell.inputs.push(Input {
            name,
            ty: ty.clone(),
        });
        let i = open.cell.inputs.len() - 1;
        open.captured.push((outer, i));
        Operand::Input(i)
    }

    fn function_name(&self, f: &Closure) -> String {
        match f {
            Closure::Lambda { .. } => "\\".into(),
            Closure::Def { def, .. } => self
                .program
                .defs
                .get(*def)
                .map_or("?".into(), |d| d.name.clone()),
            Closure::Learned(id) => self
                .program
                .learned
                .get(*id)
                .map_or("?".into(), |p| p.name.clone()),
            Closure::Builtin { b, .. } => b.name().into(),
            Closure::Partial { f, .. } => self.function_name(f),
        }
    }

    fn eval(&mut self, e: &Expr, env: &Env, subst: &Subst) -> Result<Sym, Diagnostic> {
        let ty = || e.ty.substitute(subst);
        let literal = |text: String| literal(e.kind.clone(), text, ty(), e.span);
        Ok(match &e.kind {
            ExprKind::Local(id) => match env.get(id) {
                Some(v) => v.clone(),
                None => return Err(internal(e.span, "an unbound local")),
            },
            ExprKind::Global { def, inst } => {
                let inst: Vec<Type> = inst.iter().map(|t| t.substitute(subst)).collect();
                let Some(d) = self.program.defs.get(*def) else {
                    return Err(internal(e.span, "a def the program does not hold"));
                };
                if matches!(d.scheme.ty, Type::Func(..)) {
                    Sym::Func(Rc::new(Closure::Def { def: *def, inst }))
                } else if is_function_list(&d.scheme.ty) {
                    let subst: Subst = Rc::new(d.scheme.bind(&inst));
                    self.eval(&d.body, &Rc::new(HashMap::new()), &subst)?
                } else {
                    let exec = ExprKind::Global { def: *def, inst };
                    let node = Node::new(Op::Prim(d.name.clone()), Vec::new(), ty(), e.span);
                    self.node(node.exec(exec))?
                }
            }
            ExprKind::Learned(id) => Sym::Func(Rc::new(Closure::Learned(*id))),
            ExprKind::Param(id) => {
                let Some(p) = self.program.params.get(*id) else {
                    return Err(internal(e.span, "a param the program does not hold"));
                };
                let size = self.program.types.flat_size(&p.ty);
                let op = Op::Param {
                    name: p.name.clone(),
                    size,
                };
                let node = Node::new(op, Vec::new(), ty(), e.span);
                self.node(node.exec(ExprKind::Param(*id)))?
            }
            ExprKind::Builtin(b) => {
                if matches!(e.ty, Type::Func(..)) {
                    Sym::Func(Rc::new(Closure::Builtin { b: *b, ty: ty() }))
                } else {
                    let node = Node::new(Op::Prim(b.name().into()), Vec::new(), ty(), e.span);
                    self.node(node.exec(ExprKind::Builtin(*b)))?
                }
            }
            ExprKind::Int(i) => literal(i.to_string()),
            ExprKind::Float(x) => literal(format!("{x:?}")),
            ExprKind::Bool(x) => literal(x.to_string()),
            ExprKind::Symbol { symbol, .. } => literal(format!("{symbol:?}")),
            ExprKind::TensorLit { shape, data } => literal(tensor_literal(shape, data)),
            ExprKind::Lambda(lam) => Sym::Func(Rc::new(Closure::Lambda {
                lam: lam.clone(),
                env: env.clone(),
                subst: subst.clone(),
            })),
            ExprKind::App { func, args } => {
                let f = self.eval(func, env, subst)?;
                let args = args
                    .iter()
                    .map(|a| self.eval(a, env, subst))
                    .collect::<Result<Vec<_>, _>>()?;
                self.apply(f, args, e.span)?
            }
            ExprKind::Let {
                pattern,
                value,
                body,
            } => {
                let v = self.eval(value, env, subst)?;
                let mut inner = (**env).clone();
                self.bind(pattern, v, &mut inner, value.span)?;
                self.eval(body, &Rc::new(inner), subst)?
            }
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
            } => {
                let parts = [&**cond, &**then_branch, &**else_branch];
                self.lower_if(parts, env, subst, ty(), e.span)?
            }
            ExprKind::Tuple(items) => Sym::Tuple(
                items
                    .iter()
                    .map(|i| self.eval(i, env, subst))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::List(items) if is_function_list(&ty()) => Sym::List(
                items
                    .iter()
                    .map(|i| self.eval(i, env, subst))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::List(items) => {
                let mut args = Vec::new();
                for i in items {
                    let v = self.eval(i, env, subst)?;
                    args.push(v);
                }
                self.list(args, ty(), e.span)?
            }
            ExprKind::Prim {
                op: op @ (PrimOp::And | PrimOp::Or),
                args,
            } => {
                let [a, b] = args.as_slice() else {
                    return Err(internal(e.span, "`&&` or `||` of two operands"));
                };
                self.lower_and_or(*op, [a, b], env, subst, e.span)?
            }
            ExprKind::Prim { op, args } => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.eval(a, env, subst)?);
                }
                let ops = vals.iter().map(|v| self.operand(v)).collect();
                let mut args = locals(&types_of(&vals), e.span);
                if matches!(op, PrimOp::MatMul { .. }) {
                    // A matrix the same for every example is read in place,
                    // so that the product uses it once (`Eval::shared_real`).
                    for (a, v) in args.iter_mut().zip(&vals) {
                        if let Some(x) = self.shared(v) {
                            *a = x;
                        }
                    }
                }
                let exec = ExprKind::Prim { op: *op, args };
                let node = Node::new(Op::Prim(prim_name(*op)), ops, ty(), e.span);
                self.node(node.exec(exec))?
            }
        })
    }

    /// Bind a pattern; a tuple pattern on a value that is one operand (a
    /// tuple computed by an op) reads its parts with projection ops.
    fn bind(
        &mut self,
        p: &Pattern,
        v: Sym,
        env: &mut HashMap<LocalId, Sym>,
        span: Span,
    ) -> Result<(), Diagnostic> {
        match (p, v) {
            (Pattern::Wildcard, _) => Ok(()),
            (Pattern::Bind(id, name), v) => {
                let v = match v {
                    Sym::Val {
                        level,
                        op,
                        ty,
                        name: None,
                    } => Sym::Val {
                        level,
                        op,
                        ty,
                        name: Some(name.clone()),
                    },
                    v => v,
                };
                env.insert(*id, v);
                Ok(())
            }
            (Pattern::Tuple(ps), Sym::Tuple(vs)) if ps.len() == vs.len() => {
                for (p, v) in ps.iter().zip(vs) {
                    self.bind(p, v, env, span)?;
                }
                Ok(())
            }
            (Pattern::Tuple(ps), v @ Sym::Val { .. }) => {
                let Sym::Val { ty, .. } = &v else {
                    return Ok(());
                };
                let tys = match ty {
                    Type::Tuple(ts) if ts.len() == ps.len() => ts.clone(),
                    _ => return Err(internal(span, "a tuple pattern on a value that is not one")),
                };
                let whole = self.operand(&v);
                for (i, (p, t)) in ps.iter().zip(tys).enumerate() {
                    let mut node =
                        Node::new(Op::Prim(format!(".{i}")), vec![whole.clone()], t, span);
                    node.exec = Exec::Part(i);
                    let part = self.node(node)?;
                    self.bind(p, part, env, span)?;
                }
                Ok(())
            }
            _ => Err(internal(span, "a pattern that does not fit its value")),
        }
    }

    fn apply(&mut self, f: Sym, args: Vec<Sym>, span: Span) -> Result<Sym, Diagnostic> {
        if args.is_empty() {
            return Ok(f);
        }
        match f {
            Sym::Func(c) => self.apply_closure(&c, args, span),
            v => {
                let mut ops = vec![self.operand(&v)];
                ops.extend(args.iter().map(|a| self.operand(a)));
                let ty = match &v {
                    Sym::Val { ty, .. } => ty.uncurry().1.clone(),
                    _ => Type::Tuple(Vec::new()),
                };
                let node = Node::new(Op::Prim("apply".into()), ops, ty, span);
                let node = match &v {
                    Sym::Val { ty: fty, .. } => {
                        let func = Box::new(Expr {
                            kind: ExprKind::Local(0),
                            ty: fty.clone(),
                            span,
                        });
                        let args = locals(&types_of(&args), span).into_iter();
                        let args = args.map(|a| shifted(a, 1)).collect();
                        node.exec(ExprKind::App { func, args })
                    }
                    _ => node,
                };
                self.node(node)
            }
        }
    }

    fn apply_closure(
        &mut self,
        f: &Rc<Closure>,
        args: Vec<Sym>,
        span: Span,
    ) -> Result<Sym, Diagnostic> {
        if args.is_empty() {
            return Ok(Sym::Func(f.clone()));
        }
        match &**f {
            Closure::Partial { f, args: first } => {
                let mut all = first.clone();
                all.extend(args);
                self.apply_closure(f, all, span)
            }
            Closure::Lambda { lam, env, subst } => {
                let n = lam.params.len();
                if args.len() < n {
                    return Ok(partial(f, args));
                }
                let mut inner = (**env).clone();
                let mut rest = args;
                let later = rest.split_off(n);
                for (p, a) in lam.params.iter().zip(rest) {
                    self.bind(p, a, &mut inner, span)?;
                }
                let v = self.eval(&lam.body, &Rc::new(inner), subst)?;
                self.apply(v, later, span)
            }
            Closure::Def { def, inst } => {
                let Some(d) = self.program.defs.get(*def) else {
                    return Err(internal(span, "a def the program does not hold"));
                };
                let subst: Subst = Rc::new(d.scheme.bind(inst));
                let v = self.eval(&d.body, &Rc::new(HashMap::new()), &subst)?;
                self.apply(v, args, span)
            }
            Closure::Learned(id) => self.learned(*id, args, span),
            Closure::Builtin { b, ty } => {
                let (params, _) = ty.uncurry();
                if args.len() < params.len() {
                    return Ok(partial(f, args));
                }
                let mut now = args;
                let later = now.split_off(params.len());
                if let Some(v) = self.over_function_list(*b, ty, &now, span)? {
                    return self.apply(v, later, span);
                }
                let v = match ModuleKind::of(*b) {
                    Some(kind) => self.module(kind, *b, ty, now, span)?,
                    None => {
                        let ops = now.iter().map(|a| self.operand(a)).collect();
                        let result = ty.uncurry().1.clone();
                        let exec = builtin_app(*b, ty, locals(&types_of(&now), span), span);
                        let node = Node::new(Op::Prim(b.name().into()), ops, result, span);
                        self.node(node.exec(exec))?
                    }
                };
                self.apply(v, later, span)
            }
        }
    }

    /// `fold`, `map`, `reverse` and `length` over a list of functions known
    /// here (spec 11.3: a fold over a family is unrolled, one step per
    /// member); `None` for anything else.
    fn over_function_list(
        &mut self,
        b: Builtin,
        ty: &Type,
        args: &[Sym],
        span: Span,
    ) -> Result<Option<Sym>, Diagnostic> {
        let result = ty.uncurry().1.clone();
        Ok(Some(match (b, args) {
            (Builtin::Fold, [f, init, Sym::List(items)]) => {
                let mut acc = init.clone();
                for item in items {
                    acc = self.apply(f.clone(), vec![acc, item.clone()], span)?;
                }
                acc
            }
            (Builtin::Map, [f, Sym::List(items)]) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(self.apply(f.clone(), vec![item.clone()], span)?);
                }
                if is_function_list(&result) {
                    Sym::List(out)
                } else {
                    self.list(out, result, span)?
                }
            }
            (Builtin::Reverse, [Sym::List(items)]) => {
                Sym::List(items.iter().rev().cloned().collect())
            }
            (Builtin::Length, [Sym::List(items)]) => {
                let n = items.len();
                literal(ExprKind::Int(n as i64), n.to_string(), Type::Int, span)
            }
            _ => return Ok(None),
        }))
    }

    fn learned(&mut self, id: usize, mut args: Vec<Sym>, span: Span) -> Result<Sym, Diagnostic> {
        let later = args.split_off(1);
        let Some(piece) = self.program.learned.get(id) else {
            return Err(internal(span, "a learned piece the program does not hold"));
        };
        let op = Op::of_piece(piece);
        let arg = args.iter().map(|a| self.operand(a)).collect();
        let fty = Type::func(piece.domain.clone(), piece.codomain.clone());
        let exec = ExprKind::App {
            func: Box::new(Expr {
                kind: ExprKind::Learned(id),
                ty: fty,
                span,
            }),
            args: locals(&types_of(&args), span),
        };
        let node = Node::new(op, arg, piece.codomain.clone(), span);
        let v = self.node(node.exec(exec))?;
        self.apply(v, later, span)
    }

    /// A combinator as a module: a cell for each function argument (its
    /// inputs typed by the combinator's instantiated type), the other
    /// arguments as the module's operands.
    fn module(
        &mut self,
        kind: ModuleKind,
        b: Builtin,
        ty: &Type,
        args: Vec<Sym>,
        span: Span,
    ) -> Result<Sym, Diagnostic> {
        let (params, result) = ty.uncurry();
        let result = result.clone();
        let params: Vec<Type> = params.into_iter().cloned().collect();
        let mut cells = Vec::new();
        let mut cell_args = Vec::new();
        let mut operands = Vec::new();
        let mut function = String::new();
        for (i, (a, pty)) in args.iter().zip(&params).enumerate() {
            match (a, pty) {
                (Sym::Func(f), Type::Func(..)) => {
                    if function.is_empty() {
                        function = self.function_name(f);
                    }
                    let name = cell_name(b, cells.len());
                    cells.push((name, self.cell_of(f, pty, span)?));
                    cell_args.push(i);
                }
                (v, _) => operands.push(self.operand(v)),
            }
        }
        for (_, cell) in &mut cells {
            match kind {
                ModuleKind::Rnn => super::hoist::mark_hoisted(cell, self.program),
                ModuleKind::Unrolled => super::hoist::mark_invariant(cell, self.program),
                _ => {}
            }
        }
        for (_, cell) in &mut cells {
            super::fuse::fuse(cell);
        }
        let cells = cells.into_iter().map(|(n, c)| (n, Rc::new(c))).collect();
        let exec = builtin_app(b, ty, locals(&params, span), span);
        let module = Module {
            kind,
            combinator: Some(b),
            function,
            cells,
            cell_args,
        };
        let node = Node::new(Op::Module(Box::new(module)), operands, result, span);
        self.node(node.exec(exec))
    }

    /// The expression of a value the same for every example: a node
    /// reading a `param` or a closed def that is not a function.
    fn shared(&self, v: &Sym) -> Option<Expr> {
        let Sym::Val {
            level,
            op: Operand::Node(k),
            ..
        } = v
        else {
            return None;
        };
        let node = self.open.get(*level)?.cell.nodes.get(*k)?;
        match &node.exec {
            Exec::Expr(x) if super::is_shared(x) => Some((**x).clone()),
            _ => None,
        }
    }

    /// Close the cell opened last, whose value is `value` (closed on an
    /// error too, which is then returned).
    fn close(&mut self, value: Result<Sym, Diagnostic>, span: Span) -> Result<Cell, Diagnostic> {
        let out = match &value {
            Ok(v) => self.operand(v),
            Err(_) => Operand::Unit,
        };
        let Some(Open { mut cell, captured }) = self.open.pop() else {
            return Err(internal(span, "a cell that was not opened"));
        };
        value?;
        cell.output = out;
        cell.captured = captured;
        Ok(cell)
    }

    /// A list literal of values known here.
    fn list(&mut self, items: Vec<Sym>, ty: Type, span: Span) -> Result<Sym, Diagnostic> {
        let ops = items.iter().map(|o| self.operand(o)).collect();
        let exec = ExprKind::List(locals(&types_of(&items), span));
        self.node(Node::new(Op::Prim("list".into()), ops, ty, span).exec(exec))
    }

    /// The cell of a step function of type `ty`.
    fn cell_of(&mut self, f: &Rc<Closure>, ty: &Type, span: Span) -> Result<Cell, Diagnostic> {
        self.open.push(Open {
            cell: Cell::default(),
            captured: Vec::new(),
        });
        let (params, _) = ty.uncurry();
        let params: Vec<Type> = params.into_iter().cloned().collect();
        let patterns = self.patterns(f);
        let inputs = self.inputs(&params, &patterns);
        let result = self.apply_closure(f, inputs, span);
        self.close(result, span)
    }

    /// The parameter patterns of a function, beyond those a partial
    /// application has filled.
    fn patterns(&self, f: &Closure) -> Vec<Pattern> {
        match f {
            Closure::Lambda { lam, .. } => lam.params.clone(),
            Closure::Def { def, .. } => match self.program.defs.get(*def).map(|d| &d.body.kind) {
                Some(ExprKind::Lambda(l)) => l.params.clone(),
                _ => Vec::new(),
            },
            Closure::Partial { f, args } => self.patterns(f).into_iter().skip(args.len()).collect(),
            _ => Vec::new(),
        }
    }
}

fn partial(f: &Rc<Closure>, args: Vec<Sym>) -> Sym {
    Sym::Func(Rc::new(Closure::Partial { f: f.clone(), args }))
}

/// A literal operand: `kind` as an expression of type `ty`, printed `text`.
fn literal(kind: ExprKind, text: String, ty: Type, span: Span) -> Sym {
    let expr = one_op(kind, ty.clone(), span);
    Sym::Val {
        level: 0,
        op: Operand::Literal(Literal { text, expr }),
        ty,
        name: None,
    }
}

/// `List (a -> b)`.
fn is_function_list(t: &Type) -> bool {
    matches!(t, Type::List(e) if matches!(**e, Type::Func(..)))
}

fn cell_name(b: Builtin, i: usize) -> String {
    match (b, i) {
        (Builtin::Cata, 0) => "leaf".into(),
        (Builtin::Cata | Builtin::CataRose, _) => "node".into(),
        _ => "cell".into(),
    }
}

fn internal(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::RuntimeError,
        format!("internal error in the lowering: {what}"),
    )
    .at(span, "while lowering this")
}
