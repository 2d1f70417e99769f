//! Type inference of expressions: AST to (not yet zonked) typed IR.
//!
//! A [`Checker`] infers one top-level item (a def, a param's initial
//! value, an `--eval` expression) against the global [`Env`]. It is
//! bidirectional where that helps (`check` pushes an expected type into
//! lambdas, list/tensor literals, tuples and branches) and otherwise plain
//! Hindley–Milner: local `let` is monomorphic, only defs are generalised
//! (in `lower.rs`). Operators whose meaning depends on operand types that
//! may still be unknown are recorded as pending constraints (`pending.rs`).
//! Application and operators live in `apply.rs`; error messages in
//! `errors.rs`.

use std::collections::HashMap;
use std::rc::Rc;

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::ty::{TyVar, Type};
use crate::ir::{self, Builtin, GlobalRef, LocalId, Scheme};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind, PatternKind, TypeExpr};
use crate::types::builtins;
use crate::types::pending::{Pending, Pendings};
use crate::types::resolve::{suggest, TypeResolver};
use crate::types::scope::Scope;
use crate::types::unify::{map_vars, Constraint, Subst};

/// The global scope a checker works in.
pub struct Env {
    pub types: TypeResolver,
    pub globals: HashMap<String, GlobalRef>,
    /// By `DefId`; `None` while not yet checked (only inside a cycle).
    pub def_schemes: Vec<Option<Scheme>>,
    /// By `LearnedId`: `domain -> codomain`, `None` if it did not resolve.
    pub learned: Vec<Option<Type>>,
    /// By `ParamId`.
    pub params: Vec<Option<Type>>,
}

/// Where an expected type came from, for a secondary label.
#[derive(Clone, Debug)]
pub struct Origin {
    pub span: Span,
    pub label: String,
}

impl Origin {
    pub fn new(span: Span, label: impl Into<String>) -> Option<Origin> {
        Some(Origin {
            span,
            label: label.into(),
        })
    }
}

/// A string literal whose vocabulary is decided by unification.
pub struct StrLit {
    pub var: TyVar,
    pub span: Span,
    pub text: String,
}

/// Infers one top-level item.
pub struct Checker<'e> {
    pub env: &'e mut Env,
    pub subst: Subst,
    pub diags: Vec<Diagnostic>,
    pub scope: Scope<(LocalId, Type)>,
    pub next_local: LocalId,
    pub pending: Pendings,
    pub strings: Vec<StrLit>,
    /// Type variables named in this item's annotations.
    pub annots: Vec<(String, TyVar, Span)>,
    pub had_error: bool,
    /// A type grew past [`MAX_TYPE_SIZE`] (reported once per item).
    pub too_big: bool,
    /// While positive, type errors are consequences of one already
    /// reported and are dropped (see `apply.rs`).
    pub quiet: u32,
    /// `slice start len x` calls: the builtin's span, `start` and `len`
    /// (integer literals, read at the application for `special.rs`).
    pub slices: Vec<(Span, i64, i64)>,
}

/// The most parts a type may have. Real programs stay far below (a list
/// nested 2,000 deep is fine); the limit keeps pathological nesting
/// (lists nested 20,000 deep, `d (d (d ..))` with `d x = (x, x)`) from
/// exhausting memory, since every IR node owns its type. Once it is hit,
/// the rest of the item gets a small limit so that growth cannot restart.
pub const MAX_TYPE_SIZE: usize = 3000;

/// The limit after [`MAX_TYPE_SIZE`] was hit once in an item.
const MAX_TYPE_SIZE_AFTER_ERROR: usize = 50;

pub fn node(kind: ir::ExprKind, ty: Type, span: Span) -> ir::Expr {
    ir::Expr { kind, ty, span }
}

impl<'e> Checker<'e> {
    pub fn new(env: &'e mut Env) -> Self {
        Checker {
            env,
            subst: Subst::new(),
            diags: Vec::new(),
            scope: Scope::default(),
            next_local: 0,
            pending: Pendings::default(),
            strings: Vec::new(),
            annots: Vec::new(),
            had_error: false,
            too_big: false,
            quiet: 0,
            slices: Vec::new(),
        }
    }

    pub fn fresh(&mut self) -> Type {
        self.subst.fresh_ty(Constraint::NONE)
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.had_error = true;
        let consequence = matches!(
            d.code,
            Code::TypeMismatch
                | Code::RepMismatch
                | Code::NotRepresentation
                | Code::NotComparable
                | Code::InfiniteType
                | Code::NotAFunction
                | Code::ShapeMismatch
        );
        if self.quiet == 0 || !consequence {
            self.diags.push(d);
        }
    }

    /// An error placeholder: a fresh variable that will not cause more errors.
    pub fn error_node(&mut self, span: Span) -> ir::Expr {
        self.had_error = true;
        let t = self.fresh();
        node(ir::ExprKind::Tuple(vec![]), t, span)
    }

    /// Resolves a type annotation; its variables are shared within the item.
    pub fn resolve_annot(&mut self, te: &TypeExpr) -> Type {
        let Checker {
            env, subst, annots, ..
        } = self;
        let before = env.types.diags.len();
        let t = env.types.resolve(te, &mut |name, span| {
            if let Some((_, v, _)) = annots.iter().find(|(n, _, _)| n == name) {
                return Some(Type::Var(*v));
            }
            let v = subst.fresh(Constraint::NONE);
            annots.push((name.to_string(), v, span));
            Some(Type::Var(v))
        });
        if env.types.diags.len() > before {
            self.had_error = true;
        }
        t.unwrap_or_else(|| self.fresh())
    }

    /// Infers the type of `e`.
    pub fn infer(&mut self, e: &ast::Expr) -> ir::Expr {
        let x = self.infer_inner(e);
        self.guard(x)
    }

    /// Checks `e` against `expected`.
    pub fn check(&mut self, e: &ast::Expr, expected: &Type, origin: Option<Origin>) -> ir::Expr {
        let x = self.check_inner(e, expected, origin);
        self.guard(x)
    }

    /// Replaces a type that grew too large by a fresh variable.
    fn guard(&mut self, mut x: ir::Expr) -> ir::Expr {
        let limit = if self.too_big {
            MAX_TYPE_SIZE_AFTER_ERROR
        } else {
            MAX_TYPE_SIZE
        };
        if !self.exceeds(&x.ty, limit) {
            return x;
        }
        self.report_too_big(x.span);
        x.ty = self.fresh();
        x
    }

    /// A type at `span` passed [`MAX_TYPE_SIZE`]: reported once per item.
    pub fn report_too_big(&mut self, span: Span) {
        if self.too_big {
            return;
        }
        self.too_big = true;
        let d = Diagnostic::new(
            Code::TooDeep,
            format!("the type of this expression is too large (more than {MAX_TYPE_SIZE} parts)"),
        )
        .at(span, "its type grows too large here")
        .note("this is an implementation limit; real programs have far smaller types");
        self.error(d);
    }

    /// Does `t` (through the substitution) have more than `limit` parts?
    pub fn exceeds(&self, t: &Type, limit: usize) -> bool {
        let mut count = 0usize;
        let mut stack = vec![t];
        while let Some(t) = stack.pop() {
            count += 1;
            if count > limit {
                return true;
            }
            match self.subst.resolve_ref(t) {
                Type::Scores(a) | Type::List(a) | Type::Tree(a) | Type::Rose(a) | Type::Grid(a) => {
                    stack.push(a)
                }
                Type::Window(_, a) => stack.push(a),
                Type::Tuple(ts) => stack.extend(ts.iter()),
                Type::Func(a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                _ => {}
            }
        }
        false
    }

    fn infer_inner(&mut self, e: &ast::Expr) -> ir::Expr {
        let span = e.span;
        match &e.kind {
            ExprKind::Var(name) => self.var(name, span),
            ExprKind::Int(n) => self.int_lit(*n, span),
            ExprKind::Float(x) => node(ir::ExprKind::Float(*x), Type::Float, span),
            ExprKind::Bool(b) => node(ir::ExprKind::Bool(*b), Type::Bool, span),
            ExprKind::Str(s) => self.str_lit(s, span),
            ExprKind::App(..) | ExprKind::Binary(ast::BinOp::Pipe, ..) => self.app(e),
            ExprKind::Lambda(pats, body) => {
                let t = self.fresh();
                self.lambda(pats, body, &t, span)
            }
            ExprKind::Let(p, v, b) => self.let_in(p, v, b, None, span),
            ExprKind::If(c, a, b) => self.if_then(c, a, b, None, span),
            ExprKind::Tuple(es) => {
                let items: Vec<ir::Expr> = es.iter().map(|x| self.infer(x)).collect();
                let t = Type::Tuple(items.iter().map(|x| x.ty.clone()).collect());
                node(ir::ExprKind::Tuple(items), t, span)
            }
            ExprKind::List(es) => {
                let elem = self.fresh();
                self.list(es, &elem, span)
            }
            ExprKind::Annot(x, te) => {
                let t = self.resolve_annot(te);
                self.check(x, &t, Origin::new(te.span, "annotated here"))
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, span),
            ExprKind::Neg(x) => self.neg(x, span),
            ExprKind::Error => self.error_node(span),
        }
    }

    fn check_inner(&mut self, e: &ast::Expr, expected: &Type, origin: Option<Origin>) -> ir::Expr {
        let span = e.span;
        let want = self.subst.resolve(expected);
        match (&e.kind, &want) {
            (ExprKind::Lambda(pats, body), _) => self.lambda(pats, body, expected, span),
            (ExprKind::Let(p, v, b), _) => self.let_in(p, v, b, Some((expected, origin)), span),
            (ExprKind::If(c, a, b), _) => self.if_then(c, a, b, Some((expected, origin)), span),
            (ExprKind::List(es), Type::List(elem)) => self.list(es, elem, span),
            (ExprKind::List(_), Type::Tensor(_) | Type::Rep(_)) => match self.tensor_shape(&want) {
                Some(dims) => self.tensor_lit(e, &dims, want.clone()),
                None => self.check_by_infer(e, expected, origin),
            },
            (ExprKind::Tuple(es), Type::Tuple(ts)) if es.len() == ts.len() => {
                let before = self.diags.len();
                let items: Vec<ir::Expr> = es
                    .iter()
                    .zip(ts.iter())
                    .map(|(x, t)| self.check(x, t, origin.clone()))
                    .collect();
                self.one_swap_diagnostic(&items, ts, before);
                let t = Type::Tuple(items.iter().map(|x| x.ty.clone()).collect());
                node(ir::ExprKind::Tuple(items), t, span)
            }
            _ => self.check_by_infer(e, expected, origin),
        }
    }

    fn check_by_infer(
        &mut self,
        e: &ast::Expr,
        expected: &Type,
        origin: Option<Origin>,
    ) -> ir::Expr {
        let x = self.infer(e);
        self.expect(expected, &x.ty, e.span, origin);
        x
    }

    fn var(&mut self, name: &str, span: Span) -> ir::Expr {
        if let Some((id, t)) = self.scope.get(name) {
            return node(ir::ExprKind::Local(*id), t.clone(), span);
        }
        match self.env.globals.get(name).copied() {
            Some(GlobalRef::Def(d)) => return self.global_def(d, span),
            Some(GlobalRef::Learned(l)) => {
                let t = self.env.learned.get(l).cloned().flatten();
                let t = t.unwrap_or_else(|| self.fresh());
                return node(ir::ExprKind::Learned(l), t, span);
            }
            Some(GlobalRef::Param(p)) => {
                let t = self.env.params.get(p).cloned().flatten();
                let t = t.unwrap_or_else(|| self.fresh());
                return node(ir::ExprKind::Param(p), t, span);
            }
            None => {}
        }
        if let Some(b) = Builtin::from_name(name) {
            return self.builtin(b, span);
        }
        self.unknown_name(name, span)
    }

    fn global_def(&mut self, d: ir::DefId, span: Span) -> ir::Expr {
        let Some(Some(scheme)) = self.env.def_schemes.get(d).cloned() else {
            let t = self.fresh();
            let kind = ir::ExprKind::Global {
                def: d,
                inst: vec![],
            };
            return node(kind, t, span);
        };
        let mut inst = Vec::new();
        let mut map = HashMap::new();
        for v in &scheme.vars {
            let fresh = self.subst.fresh_ty(Constraint::from_scheme_var(*v));
            map.insert(*v, fresh.clone());
            inst.push(fresh);
        }
        let ty = map_vars(&scheme.ty, &mut |v| map.get(&v).cloned());
        node(ir::ExprKind::Global { def: d, inst }, ty, span)
    }

    fn builtin(&mut self, b: Builtin, span: Span) -> ir::Expr {
        let (ty, special) = builtins::instantiate(b, &mut self.subst);
        if let Some(special) = special {
            self.pending.push(Pending::Special {
                special,
                name: b.name(),
                span,
            });
        }
        node(ir::ExprKind::Builtin(b), ty, span)
    }

    fn unknown_name(&mut self, name: &str, span: Span) -> ir::Expr {
        let mut cands: Vec<String> = self.scope.names().map(str::to_string).collect();
        cands.extend(self.env.globals.keys().cloned());
        cands.extend(Builtin::ALL.iter().map(|b| b.name().to_string()));
        let mut d = Diagnostic::new(Code::UnknownName, format!("unknown name `{name}`"))
            .at(span, "not defined in this scope");
        if let Some(module) = crate::driver::stdlib_module_defining(name) {
            d = d.help(format!(
                "`{name}` is defined in the stdlib module `{module}`: add `import {module}` at the top of the file"
            ));
        } else if let Some(s) = suggest(name, cands) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        self.error(d);
        self.error_node(span)
    }

    fn int_lit(&mut self, n: i64, span: Span) -> ir::Expr {
        let t = self.subst.fresh_ty(Constraint::NUMLIT);
        node(ir::ExprKind::Int(n), t, span)
    }

    fn str_lit(&mut self, s: &str, span: Span) -> ir::Expr {
        let var = self.subst.fresh(Constraint::VOCAB);
        self.strings.push(StrLit {
            var,
            span,
            text: s.to_string(),
        });
        let kind = ir::ExprKind::Symbol {
            vocab: Rc::from(""),
            symbol: s.to_string(),
        };
        node(kind, Type::Var(var), span)
    }

    /// `\p1 p2 -> body` checked against `expected`.
    pub fn lambda(
        &mut self,
        pats: &[ast::Pattern],
        body: &ast::Expr,
        expected: &Type,
        span: Span,
    ) -> ir::Expr {
        let mark = self.scope.len();
        let mut bound = Vec::new();
        let mut params = Vec::new();
        let mut param_tys = Vec::new();
        let mut rest = expected.clone();
        for p in pats {
            let (a, r) = self.split_func(&rest, p.span, pats.len());
            params.push(self.bind_pattern(p, &a, &mut bound));
            param_tys.push(a);
            rest = r;
        }
        let body = self.check(body, &rest, None);
        self.scope.truncate(mark);
        let ty = param_tys
            .into_iter()
            .rev()
            .fold(body.ty.clone(), |acc, a| Type::func(a, acc));
        let lam = ir::Lambda {
            params,
            captures: vec![],
            body,
        };
        node(ir::ExprKind::Lambda(Rc::new(lam)), ty, span)
    }

    /// Splits an expected function type into parameter and result.
    fn split_func(&mut self, t: &Type, span: Span, arity: usize) -> (Type, Type) {
        if let Type::Func(a, r) = self.subst.resolve(t) {
            return (*a, *r);
        }
        let (a, r) = (self.fresh(), self.fresh());
        let f = Type::func(a.clone(), r.clone());
        if self.subst.unify(t, &f).is_err() {
            let want = self.show(t);
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("expected `{want}`, found a function"),
                )
                .at(
                    span,
                    format!("a function of {arity} parameter(s) where `{want}` is expected"),
                ),
            );
        }
        (a, r)
    }

    /// Binds the variables of a pattern matched against a value of type `ty`.
    pub fn bind_pattern(
        &mut self,
        p: &ast::Pattern,
        ty: &Type,
        bound: &mut Vec<(String, Span)>,
    ) -> ir::Pattern {
        match &p.kind {
            PatternKind::Var(name) => {
                if let Some((_, first)) = bound.iter().find(|(n, _)| n == name) {
                    let d = Diagnostic::new(
                        Code::DuplicateBinding,
                        format!("`{name}` is bound twice in one pattern"),
                    )
                    .at(p.span, "bound again here")
                    .also(*first, "first bound here")
                    .help("give the second one another name, or `_` if it is unused");
                    self.error(d);
                }
                bound.push((name.clone(), p.span));
                let id = self.next_local;
                self.next_local += 1;
                self.scope.push(name, (id, ty.clone()));
                ir::Pattern::Bind(id, Rc::from(name.as_str()))
            }
            PatternKind::Wildcard => ir::Pattern::Wildcard,
            PatternKind::Tuple(ps) => self.bind_tuple(ps, ty, p.span, bound),
            PatternKind::Annotated(inner, te) => {
                let t = self.resolve_annot(te);
                self.expect(&t, ty, p.span, Origin::new(te.span, "annotated here"));
                self.bind_pattern(inner, &t, bound)
            }
        }
    }

    fn bind_tuple(
        &mut self,
        ps: &[ast::Pattern],
        ty: &Type,
        span: Span,
        bound: &mut Vec<(String, Span)>,
    ) -> ir::Pattern {
        let parts = match self.subst.resolve(ty) {
            Type::Tuple(ts) if ts.len() == ps.len() => ts,
            _ => {
                let ts: Vec<Type> = ps.iter().map(|_| self.fresh()).collect();
                if self.subst.unify(ty, &Type::Tuple(ts.clone())).is_err() {
                    let found = self.show_lit(ty);
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("expected a tuple of {} elements, found `{found}`", ps.len()),
                        )
                        .at(
                            span,
                            format!("this tuple pattern cannot match a value of type `{found}`"),
                        ),
                    );
                }
                ts
            }
        };
        let items = ps
            .iter()
            .zip(parts.iter())
            .map(|(p, t)| self.bind_pattern(p, t, bound))
            .collect();
        ir::Pattern::Tuple(items)
    }

    fn let_in(
        &mut self,
        p: &ast::Pattern,
        value: &ast::Expr,
        body: &ast::Expr,
        expected: Option<(&Type, Option<Origin>)>,
        span: Span,
    ) -> ir::Expr {
        let value = match &p.kind {
            PatternKind::Annotated(_, te) => {
                let t = self.resolve_annot(te);
                self.check(value, &t, Origin::new(te.span, "annotated here"))
            }
            _ => self.infer(value),
        };
        let mark = self.scope.len();
        let pattern = self.bind_pattern(p, &value.ty, &mut Vec::new());
        let body = match expected {
            Some((t, o)) => self.check(body, t, o),
            None => self.infer(body),
        };
        self.scope.truncate(mark);
        let ty = body.ty.clone();
        let kind = ir::ExprKind::Let {
            pattern,
            value: Box::new(value),
            body: Box::new(body),
        };
        node(kind, ty, span)
    }

    fn if_then(
        &mut self,
        c: &ast::Expr,
        a: &ast::Expr,
        b: &ast::Expr,
        expected: Option<(&Type, Option<Origin>)>,
        span: Span,
    ) -> ir::Expr {
        let cond = self.check(c, &Type::Bool, None);
        let (then_branch, else_branch) = match expected {
            Some((t, o)) => (self.check(a, t, o.clone()), self.check(b, t, o)),
            None => {
                let x = self.infer(a);
                let label = format!("the `then` branch {}", self.describe(&x.ty));
                let y = self.check(b, &x.ty, Origin::new(a.span, label));
                (x, y)
            }
        };
        let ty = then_branch.ty.clone();
        let kind = ir::ExprKind::If {
            cond: Box::new(cond),
            then_branch: Box::new(then_branch),
            else_branch: Box::new(else_branch),
        };
        node(kind, ty, span)
    }

    fn list(&mut self, es: &[ast::Expr], elem: &Type, span: Span) -> ir::Expr {
        let mut items = Vec::new();
        let mut origin = None;
        for x in es {
            let item = self.check(x, elem, origin.clone());
            if origin.is_none() {
                let label = format!("the first element {}", self.describe(&item.ty));
                origin = Origin::new(x.span, label);
            }
            items.push(item);
        }
        let t = Type::List(Box::new(elem.clone()));
        node(ir::ExprKind::List(items), t, span)
    }
}
