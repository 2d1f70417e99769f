//! Finishing an item: defaults, final checks, generalisation and zonking
//! into the IR the runtime evaluates.
//!
//! After a def's body is inferred: pending constraints get their defaults;
//! integer-literal variables become `Int`; string literals must have found
//! their vocabulary (and be in it, if closed); annotation variables must
//! still be distinct variables (else `AnnotationTooGeneral`). The def's type
//! is generalised over its free variables, renumbered canonically as
//! `(i << 4) | constraint bits` so a scheme carries its constraints (see
//! `unify::Constraint::scheme_bits`). Variables left in the body but not in
//! the type are defaulted (representation: `Float`, comparable: `Int`,
//! others `()`). The final walk applies the substitution to every node,
//! turns integer literals of type `Float` into `Float` nodes, gives symbols
//! their vocabulary, decides each operator's `PrimOp` from its operand
//! types, computes lambda captures, and rejects lists/trees/grids of
//! functions.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::pretty::pretty;
use crate::ir::ty::{TyVar, Type};
use crate::ir::{self, ArithOp, Broadcast, CmpKind, LocalId, PrimOp, Scheme};
use crate::types::infer::{Checker, MAX_TYPE_SIZE};
use crate::types::resolve::suggest;
use crate::types::unify::{map_vars, Constraint, FRESH_BASE};

/// Diagnostics about string literals given in full (the vocabulary's
/// symbols, the closest one); those after are one line each, so that
/// 10^5 wrong literals cost no more than listing them.
const DETAILED: usize = 50;

impl Checker<'_> {
    /// Finishes an item whose body is `body`; with `generalise`, its free
    /// type variables are quantified, otherwise defaulted.
    pub fn finish(&mut self, mut body: ir::Expr, generalise: bool) -> (Scheme, ir::Expr) {
        self.solve_pending();
        for v in self.subst.vars_since(FRESH_BASE) {
            if self.subst.is_unbound(v) && self.subst.constraint(v).has(Constraint::NUMLIT) {
                self.subst.force_bind(v, Type::Int);
            }
        }
        self.subst.compress();
        self.check_strings();
        self.check_annotations();
        let vars = if generalise {
            self.subst.free_vars(&body.ty)
        } else {
            Vec::new()
        };
        let mut canon: HashMap<TyVar, TyVar> = HashMap::new();
        for (i, v) in vars.iter().enumerate() {
            let bits = self.subst.constraint(*v).scheme_bits();
            canon.insert(*v, ((i as TyVar) << 4) | bits);
        }
        for v in self.subst.vars_since(FRESH_BASE) {
            if self.subst.is_unbound(v) && !canon.contains_key(&v) {
                let c = self.subst.constraint(v);
                let t = if c.has(Constraint::REPR) {
                    Type::Float
                } else if c.has(Constraint::COMPARABLE)
                    || c.has(Constraint::NUMLIT)
                    || c.has(Constraint::EQUATABLE)
                {
                    Type::Int
                } else {
                    Type::Tuple(vec![])
                };
                self.subst.force_bind(v, t);
            }
        }
        let mut fin = Fin {
            canon: &canon,
            reported: false,
        };
        self.lower_expr(&mut body, &mut fin);
        let scheme = Scheme {
            vars: vars.iter().filter_map(|v| canon.get(v).copied()).collect(),
            ty: body.ty.clone(),
        };
        (scheme, body)
    }

    fn check_strings(&mut self) {
        let strings = std::mem::take(&mut self.strings);
        // Each closed vocabulary's symbols as a set, built once per item:
        // copying the list for every literal was quadratic (10^5 symbols
        // of a 10^5-symbol vocabulary did not finish in minutes).
        let mut sets: HashMap<String, Option<HashSet<String>>> = HashMap::new();
        let mut reported = 0;
        for s in &strings {
            match self.subst.zonk(&Type::Var(s.var)) {
                Type::Vocab(name) => {
                    let table = &self.env.types.table;
                    let set = sets.entry(name.to_string()).or_insert_with(|| {
                        let vocab = table.vocabs.get(&name)?;
                        Some(vocab.symbols.as_ref()?.iter().cloned().collect())
                    });
                    if set.as_ref().is_none_or(|set| set.contains(&s.text)) {
                        continue;
                    }
                    reported += 1;
                    let d = self.unknown_symbol(&name, &s.text, s.span, reported <= DETAILED);
                    self.error(d);
                }
                Type::Var(_) if !self.had_error => {
                    reported += 1;
                    let d = self.ambiguous_string(&s.text, s.span, reported <= DETAILED);
                    self.diags.push(d);
                }
                _ => {}
            }
        }
    }

    /// `UnknownSymbol` for a literal not in closed vocabulary `name`; when
    /// `detailed`, with the vocabulary's symbols and the closest one.
    fn unknown_symbol(
        &self,
        name: &str,
        text: &str,
        span: crate::source::Span,
        detailed: bool,
    ) -> Diagnostic {
        let mut d = Diagnostic::new(
            Code::UnknownSymbol,
            format!("\"{text}\" is not a symbol of the vocabulary `{name}`"),
        )
        .at(span, format!("not in `{name}`"));
        let syms = self
            .env
            .types
            .table
            .vocabs
            .get(name)
            .and_then(|v| v.symbols.as_ref());
        if let (true, Some(syms)) = (detailed, syms) {
            let list: Vec<String> = syms.iter().map(|x| format!("\"{x}\"")).collect();
            d = d.note(format!("`{name}` has the symbols {}", list.join(", ")));
            if let Some(g) = suggest(text, syms.iter().cloned()) {
                d = d.help(format!("did you mean \"{g}\"?"));
            }
        }
        d
    }

    /// `AmbiguousType` for a string literal; when `detailed`, naming the
    /// vocabularies it could belong to (closed ones that contain it, and
    /// open ones).
    fn ambiguous_string(
        &self,
        text: &str,
        span: crate::source::Span,
        detailed: bool,
    ) -> Diagnostic {
        let vocabs = &self.env.types.table.vocabs;
        if !detailed {
            return Diagnostic::new(
                Code::AmbiguousType,
                format!("cannot tell which vocabulary \"{text}\" belongs to"),
            )
            .at(span, "a symbol of an unknown vocabulary");
        }
        let fits: Vec<String> = vocabs
            .values()
            .filter(|v| {
                v.symbols
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|x| x == text))
            })
            .map(|v| format!("`(\"{text}\" : {})`", v.name))
            .collect();
        let d = Diagnostic::new(
            Code::AmbiguousType,
            format!("cannot tell which vocabulary \"{text}\" belongs to"),
        )
        .at(span, "a symbol of an unknown vocabulary")
        .note("a string literal is a symbol of a vocabulary, decided by how it is used");
        match fits.as_slice() {
            [] if vocabs.is_empty() => d.help(format!(
                "declare a vocabulary, e.g. `vocab Word`, and annotate: `(\"{text}\" : Word)`"
            )),
            [] => d.help(format!("no vocabulary of this program has \"{text}\"")),
            [one] => d.help(format!("annotate: {one}")),
            many => d.help(format!(
                "annotate it, e.g. {}",
                many[..many.len().min(3)].join(" or ")
            )),
        }
    }

    fn check_annotations(&mut self) {
        let mut seen: Vec<(TyVar, String)> = Vec::new();
        for (name, v, span) in self.annots.clone() {
            let t = self.subst.zonk(&Type::Var(v));
            let d = match t {
                Type::Var(w) if self.subst.is_unbound(w) => {
                    match seen.iter().find(|(x, _)| *x == w) {
                        Some((_, other)) => Diagnostic::new(
                            Code::AnnotationTooGeneral,
                            format!("the annotation is more general than the definition: `{other}` and `{name}` must be the same type"),
                        )
                        .at(span, format!("`{name}` is declared as a type of its own here"))
                        .help(format!("write `{other}` for both")),
                        None => {
                            seen.push((w, name));
                            continue;
                        }
                    }
                }
                t => {
                    let s = pretty(&t);
                    Diagnostic::new(
                        Code::AnnotationTooGeneral,
                        format!("the annotation is more general than the definition: `{name}` must be `{s}`"),
                    )
                    .at(span, format!("`{name}` stands for any type here"))
                    .note(format!("the definition only works when `{name}` is `{s}`"))
                    .help(format!("replace `{name}` with `{s}`"))
                }
            };
            self.error(d);
        }
    }

    /// [`Self::final_ty`], unless the type has grown past
    /// [`MAX_TYPE_SIZE`] since its node was checked (`id id id ... 1`: the
    /// first `id`'s type doubles with every argument after it): measured
    /// through the substitution first, since writing it out would take
    /// time and memory exponential in the program. Such a type is reported
    /// once per item and replaced by `()`.
    fn bounded_final_ty(&mut self, t: &Type, span: crate::source::Span, fin: &Fin) -> Type {
        if !self.exceeds(t, MAX_TYPE_SIZE) {
            return self.final_ty(t, fin.canon);
        }
        self.report_too_big(span);
        Type::Tuple(Vec::new())
    }

    fn final_ty(&self, t: &Type, canon: &HashMap<TyVar, TyVar>) -> Type {
        let z = self.subst.zonk(t);
        map_vars(&z, &mut |v| canon.get(&v).map(|c| Type::Var(*c)))
    }

    /// Zonks `e` in place; returns its free locals.
    fn lower_expr(&mut self, e: &mut ir::Expr, fin: &mut Fin) -> BTreeSet<LocalId> {
        e.ty = self.bounded_final_ty(&e.ty, e.span, fin);
        if let ir::ExprKind::Int(n) = e.kind {
            if e.ty == Type::Float {
                e.kind = ir::ExprKind::Float(n as f64);
            }
            return BTreeSet::new();
        }
        let builds = matches!(e.kind, ir::ExprKind::List(_) | ir::ExprKind::App { .. });
        let free = self.lower_kind(&mut e.kind, &e.ty, e.span, fin);
        if builds && !fin.reported && holds_functions(&e.ty, false) {
            fin.reported = true;
            self.unsupported(&e.ty, e.span);
        }
        free
    }

    fn lower_all<'x>(
        &mut self,
        es: impl IntoIterator<Item = &'x mut ir::Expr>,
        fin: &mut Fin,
    ) -> BTreeSet<LocalId> {
        let mut free = BTreeSet::new();
        for e in es {
            free.extend(self.lower_expr(e, fin));
        }
        free
    }

    fn lower_kind(
        &mut self,
        kind: &mut ir::ExprKind,
        ty: &Type,
        span: crate::source::Span,
        fin: &mut Fin,
    ) -> BTreeSet<LocalId> {
        use ir::ExprKind as K;
        match kind {
            K::Local(id) => BTreeSet::from([*id]),
            K::Global { inst, .. } => {
                for t in inst.iter_mut() {
                    *t = self.bounded_final_ty(t, span, fin);
                }
                BTreeSet::new()
            }
            K::Symbol { vocab, .. } => {
                if let Type::Vocab(v) = ty {
                    *vocab = v.clone();
                }
                BTreeSet::new()
            }
            K::Lambda(lam) => {
                let lam = Rc::make_mut(lam);
                let mut free = self.lower_expr(&mut lam.body, fin);
                lam.params.iter().for_each(|p| remove_bound(p, &mut free));
                lam.captures = free.iter().copied().collect();
                free
            }
            K::App { func, args } => {
                let mut free = self.lower_expr(func, fin);
                free.extend(self.lower_all(args.iter_mut(), fin));
                free
            }
            K::Let {
                pattern,
                value,
                body,
            } => {
                let mut inner = self.lower_expr(body, fin);
                remove_bound(pattern, &mut inner);
                let mut free = self.lower_expr(value, fin);
                free.extend(inner);
                free
            }
            K::If {
                cond,
                then_branch,
                else_branch,
            } => self.lower_all([&mut **cond, &mut **then_branch, &mut **else_branch], fin),
            K::Tuple(items) | K::List(items) => self.lower_all(items.iter_mut(), fin),
            K::Prim { op, args } => {
                let free = self.lower_all(args.iter_mut(), fin);
                *op = decide(*op, args, &self.env.types.table);
                free
            }
            _ => BTreeSet::new(),
        }
    }

    fn unsupported(&mut self, ty: &Type, span: crate::source::Span) {
        let s = pretty(ty);
        let d = Diagnostic::new(
            Code::UnsupportedType,
            format!("the batched runtime cannot store functions in trees, grids or windows: `{s}`"),
        )
        .at(span, format!("this builds a `{s}`"))
        .note("a list or tuple of functions is fine; apply the functions before collecting the results");
        self.error(d);
    }
}

/// State of the final walk over one item.
struct Fin<'a> {
    canon: &'a HashMap<TyVar, TyVar>,
    /// An `UnsupportedType` was reported (once per item).
    reported: bool,
}

fn remove_bound(p: &ir::Pattern, free: &mut BTreeSet<LocalId>) {
    match p {
        ir::Pattern::Bind(id, _) => {
            free.remove(id);
        }
        ir::Pattern::Wildcard => {}
        ir::Pattern::Tuple(ps) => ps.iter().for_each(|p| remove_bound(p, free)),
    }
}

/// Does `t` hold a function inside a tree (binary or rose), grid or window (a list of
/// functions is a value the runtime stores; a tree of them is not)?
pub fn holds_functions(t: &Type, inside: bool) -> bool {
    match t {
        Type::Func(a, b) => inside || holds_functions(a, false) || holds_functions(b, false),
        // Lists of functions are fine (a family of learned pieces, spec
        // 11.3): their elements are function values of the batch.
        Type::List(a) => holds_functions(a, inside),
        Type::Tree(a) | Type::Rose(a) | Type::Grid(a) | Type::Window(_, a) => {
            holds_functions(a, true)
        }
        Type::Tuple(ts) => ts.iter().any(|t| holds_functions(t, inside)),
        Type::Scores(a) => holds_functions(a, inside),
        _ => false,
    }
}

/// The `PrimOp` an operator means, read off its final operand types.
fn decide(op: PrimOp, args: &[ir::Expr], table: &crate::ir::ty::TypeTable) -> PrimOp {
    let ty = |i: usize| args.get(i).map(|a| &a.ty);
    match op {
        PrimOp::IntArith(a) | PrimOp::RealArith(a, _) => arith(a, ty(0), ty(1)),
        PrimOp::IntNeg | PrimOp::RealNeg => match ty(0) {
            Some(Type::Int) => PrimOp::IntNeg,
            _ => PrimOp::RealNeg,
        },
        PrimOp::Compare(c, _) => PrimOp::Compare(c, cmp_kind(ty(0))),
        PrimOp::MatMul { .. } => {
            // A rep or `Scores` operand multiplies as its raw tensor.
            let shape = |t: Option<&Type>| match t {
                Some(Type::Tensor(d)) => Some(d.clone()),
                Some(t @ (Type::Rep(_) | Type::Scores(_))) => table.shape(t),
                _ => None,
            };
            match (shape(ty(0)), shape(ty(1))) {
                (Some(l), Some(r)) if l.len() == 2 && !r.is_empty() => PrimOp::MatMul {
                    m: l[0],
                    n: l[1],
                    p: r.get(1).copied(),
                },
                _ => op,
            }
        }
        other => other,
    }
}

fn arith(a: ArithOp, l: Option<&Type>, r: Option<&Type>) -> PrimOp {
    match (l, r) {
        (Some(Type::Int), Some(Type::Int)) => PrimOp::IntArith(a),
        (Some(l), Some(r)) if l == r => PrimOp::RealArith(a, Broadcast::None),
        (Some(Type::Float), _) => PrimOp::RealArith(a, Broadcast::Left),
        (_, Some(Type::Float)) => PrimOp::RealArith(a, Broadcast::Right),
        _ => PrimOp::RealArith(a, Broadcast::None),
    }
}

/// The comparison kind for an operand type. A quantified variable (a
/// polymorphic comparison) is `Symbol` if it is a vocabulary, else `Int`
/// as a placeholder: the evaluator resolves such operands by their type.
fn cmp_kind(t: Option<&Type>) -> CmpKind {
    match t {
        Some(Type::Float) => CmpKind::Float,
        Some(Type::Bool) => CmpKind::Bool,
        Some(Type::Vocab(_)) => CmpKind::Symbol,
        Some(Type::Var(v)) if Constraint::from_scheme_var(*v).has(Constraint::VOCAB) => {
            CmpKind::Symbol
        }
        _ => CmpKind::Int,
    }
}
