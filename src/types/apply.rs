//! Inference of applications, operators and tensor literals.
//!
//! Application is checked argument by argument against the function's
//! (resolved) type, so each argument gets its expected type before it is
//! inferred. Arithmetic, `@` and unary minus are recorded as pending
//! constraints and decided in `pending.rs`; the IR node carries a
//! placeholder `PrimOp` that `lower.rs` replaces using the final operand
//! types.

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::pretty::pretty;
use crate::ir::ty::Type;
use crate::ir::{self, ArithOp, CmpOp, PrimOp};
use crate::source::Span;
use crate::syntax::ast::{self, BinOp, ExprKind};
use crate::types::infer::{node, Checker, Origin};
use crate::types::pending::Pending;
use crate::types::unify::Constraint;

/// Splits `f a b` (and `b |> f a`) into the head and its arguments.
fn spine(e: &ast::Expr) -> (&ast::Expr, Vec<&ast::Expr>) {
    match &e.kind {
        ExprKind::App(f, x) => {
            let (h, mut args) = spine(f);
            args.push(x);
            (h, args)
        }
        ExprKind::Binary(BinOp::Pipe, x, f) => {
            let (h, mut args) = spine(f);
            args.push(x);
            (h, args)
        }
        _ => (e, vec![]),
    }
}

fn head_name(e: &ast::Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Var(n) => Some(n),
        _ => None,
    }
}

impl Checker<'_> {
    /// `f a1 ... an`.
    pub fn app(&mut self, e: &ast::Expr) -> ir::Expr {
        let (head, args) = spine(e);
        let from = self.pending.mark();
        let func = self.infer(head);
        if matches!(func.kind, ir::ExprKind::Builtin(crate::ir::Builtin::Slice)) {
            self.slice_literals(head.span, &args);
        }
        let name = head_name(head).map(str::to_string);
        let mut fty = func.ty.clone();
        let mut out = Vec::new();
        let quiet = self.quiet;
        for (i, arg) in args.iter().enumerate() {
            let before = self.diags.len();
            match self.subst.resolve(&fty) {
                Type::Func(p, r) => {
                    let origin = self.param_origin(&name, &p, head.span);
                    out.push(self.check(arg, &p, origin));
                    fty = *r;
                    if self.diags.len() > before || self.quiet > quiet {
                        self.note_combinator(&func, i, before);
                        // One mistake in an application is one error: the
                        // later arguments' and the result's type errors
                        // would only repeat it.
                        self.quiet = quiet + 1;
                        fty = self.fresh();
                    }
                }
                Type::Var(v) if self.subst.is_unbound(v) => {
                    let (p, r) = (self.fresh(), self.fresh());
                    let f = Type::func(p.clone(), r.clone());
                    if self.subst.unify(&fty, &f).is_err() {
                        let what = self.describe(&fty);
                        let d = Diagnostic::new(
                            Code::NotAFunction,
                            format!("this is applied to an argument, but it {what}"),
                        )
                        .at(head.span, format!("this {what}"))
                        .also(arg.span, "the argument");
                        self.error(d);
                    }
                    out.push(self.check(arg, &p, None));
                    fty = r;
                }
                other => {
                    self.not_a_function(head, &name, i, &other, arg.span, &func.ty);
                    for a in &args[i..] {
                        self.infer(a);
                    }
                    fty = self.fresh();
                    break;
                }
            }
        }
        self.quiet = quiet;
        self.solve_pending_from(from);
        let kind = ir::ExprKind::App {
            func: Box::new(func),
            args: out,
        };
        node(kind, fty, e.span)
    }

    /// A note on the argument order of a combinator's function, added to
    /// the first error found in that argument.
    fn note_combinator(&mut self, func: &ir::Expr, arg: usize, first: usize) {
        use crate::ir::Builtin as B;
        let ir::ExprKind::Builtin(b) = func.kind else {
            return;
        };
        let note = match (b, arg) {
            (B::Fold, 0) => "the step function of `fold` takes the state first, then the element: `fold : (s -> a -> s) -> s -> List a -> s`",
            (B::MapAccumL | B::MapAccumR, 0) => "the step function takes the state first, then the element, and returns the new state and an output: `(s -> a -> (s, b))`",
            (B::Unfold, 1) => "the step function of `unfold` takes the state and returns an output and the next state: `unfold : Int -> (s -> (b, s)) -> s -> List b`",
            (B::Iterate, 1) => "the function given to `iterate` must return a value of the type it takes: `iterate : Int -> (a -> a) -> a -> a`",
            (B::Cata, _) => "`cata leaf node tree`: `leaf : a -> r` handles a leaf, `node : r -> r -> r` combines two results",
            (B::CataRose, 0) => "the node function of `cataRose` takes a node's label and the list of its children's results (empty at a leaf): `cataRose : (a -> List r -> r) -> Rose a -> r`",
            _ => return,
        };
        if let Some(d) = self.diags.get_mut(first) {
            // The fix is the argument order, not a conversion.
            d.notes.retain(|n| n != super::errors::NOMINAL);
            if d.help
                .as_ref()
                .is_some_and(|h| h.starts_with("convert with a learned piece"))
            {
                d.help = None;
            }
            d.notes.push(note.to_string());
        }
    }

    /// "`f` expects `T` here", for a label at the function.
    fn param_origin(&self, name: &Option<String>, p: &Type, span: Span) -> Option<Origin> {
        let who = name
            .as_ref()
            .map_or("this function".to_string(), |n| format!("`{n}`"));
        let label = match self.subst.zonk(p) {
            Type::Var(v) => {
                let c = self.subst.constraint(v);
                if c.has(Constraint::REPR) {
                    format!("{who} needs a representation type here")
                } else if c.has(Constraint::VOCAB) {
                    format!("{who} needs a vocabulary symbol here")
                } else {
                    return None;
                }
            }
            t => format!("{who} expects `{}` here", pretty(&t)),
        };
        Origin::new(span, label)
    }

    fn not_a_function(
        &mut self,
        head: &ast::Expr,
        name: &Option<String>,
        given: usize,
        now: &Type,
        arg_span: Span,
        full: &Type,
    ) {
        let what = name
            .as_ref()
            .map_or("this".to_string(), |n| format!("`{n}`"));
        let d = if given == 0 {
            let t = self.show(now);
            Diagnostic::new(
                Code::NotAFunction,
                format!("{what} is not a function; it has type `{t}`"),
            )
            .at(head.span, format!("this has type `{t}`"))
            .also(arg_span, "so it cannot be applied to this argument")
        } else {
            let t = self.show(full);
            Diagnostic::new(
                Code::NotAFunction,
                format!("too many arguments: {what} takes {given} but is given more"),
            )
            .at(arg_span, "this argument is one too many")
            .also(head.span, format!("{what} has type `{t}`"))
        };
        self.error(d);
    }

    /// `slice start len x`: `start` and `len` must be integer literals, so
    /// the result's size is known before anything runs.
    fn slice_literals(&mut self, span: Span, args: &[&ast::Expr]) {
        let literal = |e: &ast::Expr| match &e.kind {
            ExprKind::Int(n) => Some(*n),
            ExprKind::Neg(x) => match x.kind {
                ExprKind::Int(n) => Some(-n),
                _ => None,
            },
            _ => None,
        };
        match (
            args.first().map(|a| literal(a)),
            args.get(1).map(|a| literal(a)),
        ) {
            (Some(Some(start)), Some(Some(len))) => self.slices.push((span, start, len)),
            _ => {
                let at = args
                    .iter()
                    .take(2)
                    .find(|a| literal(a).is_none())
                    .map_or(span, |a| a.span);
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        "`slice` takes its start and length as integer literals",
                    )
                    .at(at, "not an integer literal")
                    .note("`slice 2 3 x` is entries 2, 3 and 4 of `x`; the size of the result must be known before anything runs"),
                );
            }
        }
    }

    pub fn binary(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> ir::Expr {
        let arith = |a| Some(PrimOp::RealArith(a, ir::Broadcast::None));
        let prim = match op {
            BinOp::Add => arith(ArithOp::Add),
            BinOp::Sub => arith(ArithOp::Sub),
            BinOp::Mul => arith(ArithOp::Mul),
            BinOp::Div => arith(ArithOp::Div),
            _ => None,
        };
        if let Some(prim) = prim {
            return self.arith(op, prim, l, r, span);
        }
        match op {
            BinOp::And | BinOp::Or => {
                let a = self.check(l, &Type::Bool, None);
                let b = self.check(r, &Type::Bool, None);
                let op = if op == BinOp::And {
                    PrimOp::And
                } else {
                    PrimOp::Or
                };
                prim_node(op, vec![a, b], Type::Bool, span)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                self.compare(op, l, r, span)
            }
            BinOp::Append => self.append(l, r, span),
            BinOp::Mod => {
                let a = self.check(l, &Type::Int, None);
                let b = self.check(r, &Type::Int, None);
                prim_node(PrimOp::IntMod, vec![a, b], Type::Int, span)
            }
            BinOp::MatMul => {
                let a = self.infer(l);
                let b = self.infer(r);
                let out = self.fresh();
                self.pending.push(Pending::MatMul {
                    left: a.ty.clone(),
                    right: b.ty.clone(),
                    out: out.clone(),
                    span,
                    lspan: l.span,
                    rspan: r.span,
                });
                self.solve_pending_from(self.pending.mark() - 1);
                let op = PrimOp::MatMul {
                    m: 0,
                    n: 0,
                    p: None,
                };
                prim_node(op, vec![a, b], out, span)
            }
            _ => self.app(&ast::Expr {
                kind: ExprKind::Binary(op, Box::new(l.clone()), Box::new(r.clone())),
                span,
            }),
        }
    }

    fn arith(
        &mut self,
        op: BinOp,
        prim: PrimOp,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
    ) -> ir::Expr {
        let is_list = |e: &ast::Expr| matches!(e.kind, ExprKind::List(_));
        let (a, b) = if is_list(l) && !is_list(r) {
            let b = self.infer(r);
            let a = self.operand_like(l, &b.ty);
            (a, b)
        } else {
            let a = self.infer(l);
            let b = if is_list(r) {
                self.operand_like(r, &a.ty)
            } else {
                self.infer(r)
            };
            (a, b)
        };
        let out = self.fresh();
        self.pending.push(Pending::Arith {
            op,
            left: a.ty.clone(),
            right: b.ty.clone(),
            out: out.clone(),
            span,
            lspan: l.span,
            rspan: r.span,
        });
        self.solve_pending_from(self.pending.mark() - 1);
        prim_node(prim, vec![a, b], out, span)
    }

    /// A list literal next to an operand of a tensor type is a tensor
    /// literal of that type.
    fn operand_like(&mut self, e: &ast::Expr, other: &Type) -> ir::Expr {
        let t = self.subst.resolve(other);
        if self.tensor_shape(&t).is_some() {
            self.check(e, &t, None)
        } else {
            self.infer(e)
        }
    }

    fn compare(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> ir::Expr {
        let a = self.infer(l);
        let label = format!("the left operand {}", self.describe(&a.ty));
        let b = self.check(r, &a.ty, Origin::new(l.span, label));
        self.pending.push(Pending::Comparable {
            ty: a.ty.clone(),
            op: op.symbol(),
            span,
        });
        self.solve_pending_from(self.pending.mark() - 1);
        let cmp = match op {
            BinOp::Eq => CmpOp::Eq,
            BinOp::Ne => CmpOp::Ne,
            BinOp::Lt => CmpOp::Lt,
            BinOp::Le => CmpOp::Le,
            BinOp::Gt => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        let op = PrimOp::Compare(cmp, ir::CmpKind::Int);
        prim_node(op, vec![a, b], Type::Bool, span)
    }

    fn append(&mut self, l: &ast::Expr, r: &ast::Expr, span: Span) -> ir::Expr {
        let elem = self.fresh();
        let lt = Type::List(Box::new(elem));
        let a = self.infer(l);
        let left_ok = self.subst.unify(&lt, &a.ty).is_ok();
        if !left_ok {
            let t = self.show(&a.ty);
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("`++` joins lists, but this is `{t}`"),
                )
                .at(l.span, format!("this has type `{t}`")),
            );
            // The right operand's type errors would repeat this one.
            self.quiet += 1;
        }
        let label = format!("the left operand {}", self.describe(&lt));
        let b = self.check(r, &lt, Origin::new(l.span, label));
        if !left_ok {
            self.quiet -= 1;
        }
        prim_node(PrimOp::Append, vec![a, b], lt, span)
    }

    pub fn neg(&mut self, x: &ast::Expr, span: Span) -> ir::Expr {
        match &x.kind {
            ExprKind::Int(n) => {
                let mut e = self.infer(x);
                e.kind = ir::ExprKind::Int(n.wrapping_neg());
                e.span = span;
                return e;
            }
            ExprKind::Float(f) => return node(ir::ExprKind::Float(-f), Type::Float, span),
            _ => {}
        }
        let a = self.infer(x);
        let ty = a.ty.clone();
        self.pending.push(Pending::Numeric {
            ty: ty.clone(),
            span,
        });
        self.solve_pending_from(self.pending.mark() - 1);
        prim_node(PrimOp::RealNeg, vec![a], ty, span)
    }

    /// The shape of a tensor type (`R[..]` or a rep of one).
    pub fn tensor_shape(&self, t: &Type) -> Option<Vec<usize>> {
        match t {
            Type::Tensor(d) => Some(d.clone()),
            Type::Rep(n) => match &self.env.types.table.reps.get(n)?.underlying {
                Type::Tensor(d) => Some(d.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// A (nested) list literal of numbers as a tensor of shape `dims`.
    pub fn tensor_lit(&mut self, e: &ast::Expr, dims: &[usize], ty: Type) -> ir::Expr {
        let mut data = Vec::new();
        let ok = self.tensor_rows(e, dims, &ty, &mut Vec::new(), &mut data);
        let size: usize = dims.iter().product();
        if !ok || data.len() != size {
            data = vec![0.0; size];
        }
        let kind = ir::ExprKind::TensorLit {
            shape: dims.to_vec(),
            data,
        };
        node(kind, ty, e.span)
    }

    fn tensor_rows(
        &mut self,
        e: &ast::Expr,
        dims: &[usize],
        ty: &Type,
        path: &mut Vec<usize>,
        data: &mut Vec<f32>,
    ) -> bool {
        let Some((&n, rest)) = dims.split_first() else {
            if let Some(x) = number(e) {
                data.push(x as f32);
                return true;
            }
            let d = Diagnostic::new(Code::TypeMismatch, "a tensor literal holds only numbers")
                .at(e.span, "not a number literal")
                .note(format!(
                    "this list literal is a tensor literal because `{}` is expected",
                    pretty(ty)
                ));
            self.error(d);
            return false;
        };
        let unit = if rest.is_empty() { "number" } else { "row" };
        let what = match path.as_slice() {
            [] => "this tensor literal".to_string(),
            p => format!("row {}", join(p)),
        };
        let len = match &e.kind {
            ExprKind::List(items) => items.len(),
            _ => {
                let d = Diagnostic::new(
                    Code::ShapeMismatch,
                    format!("{what} must be a list of {}", plural(n, unit)),
                )
                .at(e.span, format!("`{}` needs a list of {n} here", pretty(ty)));
                self.error(d);
                return false;
            }
        };
        if len != n {
            let d = Diagnostic::new(
                Code::ShapeMismatch,
                format!(
                    "{what} has {}, `{}` needs {n}",
                    plural(len, unit),
                    pretty(ty)
                ),
            )
            .at(e.span, plural(len, unit));
            self.error(d);
            return false;
        }
        let ExprKind::List(items) = &e.kind else {
            return false;
        };
        let mut ok = true;
        for (i, x) in items.iter().enumerate() {
            path.push(i);
            ok &= self.tensor_rows(x, rest, ty, path, data);
            path.pop();
        }
        ok
    }
}

/// `1 number`, `3 rows`.
fn plural(n: usize, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn join(p: &[usize]) -> String {
    p.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The value of a number literal, possibly negated.
fn number(e: &ast::Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Int(n) => Some(*n as f64),
        ExprKind::Float(x) => Some(*x),
        ExprKind::Neg(x) => number(x).map(|v| -v),
        _ => None,
    }
}

pub fn prim_node(op: PrimOp, args: Vec<ir::Expr>, ty: Type, span: Span) -> ir::Expr {
    node(ir::ExprKind::Prim { op, args }, ty, span)
}
