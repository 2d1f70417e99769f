//! Deferred constraints: operators and builtins whose typing depends on
//! operand types that may not be known when they are met.
//!
//! `a + b` may be Int arithmetic, same-type real arithmetic, or a `Float`
//! broadcast against another representation; `@` needs both shapes;
//! `windowMap f` needs `f`'s window size; `concat` needs both sizes. Each is
//! a [`Pending`] tried when created, after the application it belongs to
//! (`solve_pending_from`), and again at the end of the item;
//! there the remaining ones get their defaults (`solve_pending`): two unknown arithmetic operands are the same
//! type (an integer literal's type is then `Int`, otherwise a
//! representation), an unknown operand next to a known representation
//! has its type, except that next to a `Float` it is `Float` unless it is
//! an annotation's type variable (then it broadcasts). What cannot be
//! decided is an error. This module only decides types; the `PrimOp` is
//! read off the final types in `lower.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::ty::{TyVar, Type};
use crate::source::Span;
use crate::syntax::ast::BinOp;
use crate::types::builtins::Special;
use crate::types::errors::REPR_NOTE;
use crate::types::infer::Checker;
use crate::types::unify::{Constraint, Subst, UErr};

#[derive(Clone, Debug)]
pub enum Pending {
    Arith {
        op: BinOp,
        left: Type,
        right: Type,
        out: Type,
        span: Span,
        lspan: Span,
        rspan: Span,
    },
    /// The operand of unary minus: Int or a representation.
    Numeric { ty: Type, span: Span },
    MatMul {
        left: Type,
        right: Type,
        out: Type,
        span: Span,
        lspan: Span,
        rspan: Span,
    },
    Special {
        special: Special,
        name: &'static str,
        span: Span,
    },
    /// The operands of a comparison (decided early; reported once the
    /// type is known, for a precise message).
    Comparable {
        ty: Type,
        op: &'static str,
        span: Span,
    },
}

/// The undecided constraints of an item, in order of creation (their
/// ids), and which must be tried again: those never tried, and those one
/// of whose type variables was bound or constrained since their last try.
/// Retrying every undecided constraint after every application was
/// quadratic (`0 |> (\x -> x + 1) |> ...`: the literal's type stays open
/// to the end, so every `+` waited, and 20,000 of them took 12 s).
#[derive(Debug, Default)]
pub struct Pendings {
    items: BTreeMap<u64, Pending>,
    next: u64,
    dirty: BTreeSet<u64>,
    /// Variable -> the constraints waiting on it.
    waiting: HashMap<TyVar, Vec<u64>>,
    /// How much of the substitution's change log has been read.
    seen: usize,
}

impl Pendings {
    pub fn push(&mut self, p: Pending) {
        self.items.insert(self.next, p);
        self.dirty.insert(self.next);
        self.next += 1;
    }

    /// The id the next constraint will get: `solve_pending_from(mark)`
    /// after an application tries those it created.
    pub fn mark(&self) -> u64 {
        self.next
    }

    fn take_all(&mut self) -> Vec<(u64, Pending)> {
        self.dirty.clear();
        self.waiting.clear();
        std::mem::take(&mut self.items).into_iter().collect()
    }

    /// Marks the constraints waiting on a variable that changed since the
    /// last call.
    fn wake(&mut self, subst: &Subst) {
        for v in subst.changes_since(self.seen) {
            if let Some(ids) = self.waiting.remove(v) {
                self.dirty.extend(ids);
            }
        }
        self.seen = subst.change_count();
    }

    /// Puts back undecided constraint `id`, waiting on `vars` (none: it
    /// is tried at every chance, as a `Special` is).
    fn wait(&mut self, id: u64, p: Pending, vars: Vec<TyVar>) {
        if vars.is_empty() {
            self.dirty.insert(id);
        }
        for v in vars {
            self.waiting.entry(v).or_default().push(id);
        }
        self.items.insert(id, p);
    }
}

impl Pending {
    /// The types whose variables decide this constraint (`None` for a
    /// `Special`, which is always retried).
    fn types(&self) -> Option<Vec<&Type>> {
        match self {
            Pending::Arith {
                left, right, out, ..
            }
            | Pending::MatMul {
                left, right, out, ..
            } => Some(vec![left, right, out]),
            Pending::Numeric { ty, .. } | Pending::Comparable { ty, .. } => Some(vec![ty]),
            Pending::Special { .. } => None,
        }
    }
}

impl Checker<'_> {
    /// Retries the pending constraints created since `from` (by an
    /// application) that may have become decidable; keeps the undecided
    /// ones. Trying one depends only on its types and the constraints of
    /// their variables, so one whose variables did not change is skipped.
    pub fn solve_pending_from(&mut self, from: u64) {
        // In order, as a pass over them all would: one decided (or
        // narrowed) may wake a later one, which is then tried in this pass.
        let end = self.pending.mark();
        let mut at = from;
        loop {
            self.pending.wake(&self.subst);
            let Some(&id) = self.pending.dirty.range(at..end).next() else {
                break;
            };
            at = id + 1;
            self.pending.dirty.remove(&id);
            let Some(p) = self.pending.items.remove(&id) else {
                continue;
            };
            if self.solve_one(&p, false) {
                continue;
            }
            let vars = p.types().map_or(Vec::new(), |ts| {
                let mut vars: Vec<TyVar> = ts
                    .into_iter()
                    .flat_map(|t| self.subst.free_vars(t))
                    .collect();
                vars.sort_unstable();
                vars.dedup();
                vars
            });
            self.pending.wait(id, p, vars);
        }
    }

    /// At the end of an item: retries everything a few times, then decides
    /// the rest in order of creation (inner operators first), applying
    /// defaults and reporting what stays undecided. Linear in the number
    /// of constraints apart from the bounded retries.
    pub fn solve_pending(&mut self) {
        for _ in 0..8 {
            if !self.solve_round() {
                break;
            }
        }
        for (_, p) in self.pending.take_all() {
            if !self.solve_one(&p, false) {
                self.solve_one(&p, true);
            }
        }
        // Defaults never create constraints, but be safe.
        for (_, p) in self.pending.take_all() {
            self.solve_one(&p, true);
        }
    }

    /// One pass over all constraints; `true` if any was decided.
    fn solve_round(&mut self) -> bool {
        let items = self.pending.take_all();
        let before = items.len();
        let mut kept = 0;
        for (id, p) in items {
            if !self.solve_one(&p, false) {
                // Back under its own id: still before any created meanwhile.
                self.pending.items.insert(id, p);
                self.pending.dirty.insert(id);
                kept += 1;
            }
        }
        kept < before
    }

    /// Tries to decide one constraint; `true` when it is done.
    fn solve_one(&mut self, p: &Pending, last: bool) -> bool {
        match p {
            Pending::Arith { .. } => self.solve_arith(p, last),
            Pending::Numeric { ty, span } => self.solve_numeric(ty, *span, last),
            Pending::MatMul { .. } => self.solve_matmul(p, last),
            Pending::Special {
                special,
                name,
                span,
            } => self.solve_special(special, name, *span, last),
            Pending::Comparable { ty, op, span } => self.solve_comparable(ty, op, *span, last),
        }
    }

    fn solve_comparable(&mut self, ty: &Type, op: &'static str, span: Span, last: bool) -> bool {
        let t = self.subst.resolve(ty);
        // `==` and `!=` compare lists and tuples of comparable values
        // (spec 11.4): each part must be comparable in turn.
        if op == "==" || op == "!=" {
            let parts: Vec<Type> = match &t {
                Type::List(e) => vec![(**e).clone()],
                Type::Tuple(ts) => ts.clone(),
                _ => Vec::new(),
            };
            if matches!(t, Type::List(_) | Type::Tuple(_)) {
                for ty in parts {
                    self.pending.push(Pending::Comparable { ty, op, span });
                }
                return true;
            }
        }
        let ok_head = matches!(
            t,
            Type::Var(_) | Type::Int | Type::Float | Type::Bool | Type::Vocab(_)
        );
        if ok_head {
            // A variable compared with `==` may still become a list or a
            // tuple (a polymorphic def); `<` needs a comparable type.
            let equality = op == "==" || op == "!=";
            let wanted = if equality {
                Constraint::EQUATABLE
            } else {
                Constraint::COMPARABLE
            };
            if let Err(e) = self.subst.constrain(ty, wanted) {
                let d = self.unify_diag(e, ty, ty, span);
                self.error(d);
            }
            return true;
        }
        if !last && !self.subst.free_vars(ty).is_empty() {
            return false;
        }
        // Integer literals are `Int` by now; say so in the message.
        for v in self.subst.free_vars(ty) {
            if self.subst.constraint(v).has(Constraint::NUMLIT) {
                self.subst.force_bind(v, Type::Int);
            }
        }
        let s = self.show(ty);
        let d = Diagnostic::new(
            Code::NotComparable,
            format!("values of type `{s}` cannot be compared"),
        )
        .at(span, format!("`{op}` on `{s}`"))
        .note("`==`, `!=`, `<`, `<=`, `>`, `>=` work on Int, Float, Bool and vocabulary symbols; `==` and `!=` also on lists and tuples of them");
        self.error(d);
        true
    }

    fn is_open(&self, t: &Type) -> bool {
        matches!(t, Type::Var(v) if self.subst.is_unbound(*v))
    }

    fn is_annot_var(&self, t: &Type) -> bool {
        let t = self.subst.resolve(t);
        self.annots
            .iter()
            .any(|(_, a, _)| self.subst.resolve(&Type::Var(*a)) == t)
    }

    fn solve_arith(&mut self, p: &Pending, last: bool) -> bool {
        let Pending::Arith {
            op,
            left,
            right,
            out,
            span,
            lspan,
            rspan,
        } = p
        else {
            return true;
        };
        let (l, r, o) = (
            self.subst.resolve(left),
            self.subst.resolve(right),
            self.subst.resolve(out),
        );
        if [&l, &r, &o].iter().any(|t| **t == Type::Int) {
            self.int_arith(*op, [(left, *lspan), (right, *rspan), (out, *span)]);
            return true;
        }
        match (self.is_open(&l), self.is_open(&r)) {
            (false, false) => {
                self.real_arith(*op, &l, &r, out, [*span, *lspan, *rspan]);
                true
            }
            (true, true) => {
                if o == Type::Float {
                    self.expect(&Type::Float, left, *lspan, None);
                    self.expect(&Type::Float, right, *rspan, None);
                    return true;
                }
                if !last {
                    return false;
                }
                self.expect(left, right, *rspan, None);
                self.expect(out, left, *span, None);
                let c = match self.subst.resolve(left) {
                    Type::Var(v) => self.subst.constraint(v),
                    _ => Constraint::NONE,
                };
                if !c.has(Constraint::NUMLIT) {
                    self.expect_repr(left, *lspan);
                }
                true
            }
            (lo, _) => {
                let (v, vspan, c, cspan) = if lo {
                    (left, *lspan, &r, *rspan)
                } else {
                    (right, *rspan, &l, *lspan)
                };
                self.arith_one_open(*op, (v, vspan), (c, cspan), out, *span, last)
            }
        }
    }

    fn arith_one_open(
        &mut self,
        op: BinOp,
        (v, vspan): (&Type, Span),
        (c, cspan): (&Type, Span),
        out: &Type,
        span: Span,
        last: bool,
    ) -> bool {
        if !self.arith_operand(op, c, v, cspan) {
            return true;
        }
        let numlit = matches!(self.subst.resolve(v), Type::Var(x) if self.subst.constraint(x).has(Constraint::NUMLIT));
        if numlit {
            self.expect(&Type::Float, v, vspan, None);
            let c2 = self.subst.resolve(c);
            self.expect(out, &c2, span, None);
            return true;
        }
        if *c != Type::Float {
            // The result is `c` whether `v` is `c` or a broadcast Float.
            self.expect(out, c, span, None);
            if last {
                self.expect(c, v, vspan, None);
            }
            return last;
        }
        let o = self.subst.resolve(out);
        if !self.is_open(&o) {
            self.expect(&o, v, vspan, None);
            return true;
        }
        if !last {
            return false;
        }
        if self.is_annot_var(v) {
            self.expect_repr(v, vspan);
            self.expect(out, v, span, None);
        } else {
            self.expect(&Type::Float, v, vspan, None);
            self.expect(out, &Type::Float, span, None);
        }
        true
    }

    /// An operand of real arithmetic must be a representation type
    /// (`other` is the other operand, for the wording).
    fn arith_operand(&mut self, op: BinOp, t: &Type, other: &Type, span: Span) -> bool {
        let e = match self.subst.constrain(t, Constraint::REPR) {
            Ok(()) => return true,
            Err(e) => e,
        };
        let UErr::Unsatisfied(..) = e else {
            let d = self.unify_diag(e, t, t, span);
            self.error(d);
            return false;
        };
        let s = self.show(t);
        let numeric = match self.subst.resolve(other) {
            Type::Int => true,
            Type::Var(v) => self.subst.constraint(v).has(Constraint::NUMLIT),
            _ => false,
        };
        let what = if numeric {
            "a number"
        } else {
            "a representation type"
        };
        let mut d = Diagnostic::new(Code::NotRepresentation, format!("`{s}` is not {what}"))
            .at(span, format!("`{}` on `{s}`", op.symbol()))
            .note(REPR_NOTE);
        if matches!(self.subst.resolve(t), Type::List(_)) {
            d = d.help(
                "combine lists elementwise with `zipWith` or `map`, or reduce one with `sumList`",
            );
        }
        self.error(d);
        false
    }

    fn expect_repr(&mut self, t: &Type, span: Span) -> bool {
        match self.subst.constrain(t, Constraint::REPR) {
            Ok(()) => true,
            Err(e) => {
                let d = self.unify_diag(e, t, t, span);
                self.error(d);
                false
            }
        }
    }

    fn int_arith(&mut self, op: BinOp, parts: [(&Type, Span); 3]) {
        for (t, span) in parts {
            let r = self.subst.resolve(t);
            if self.is_open(&r) || r == Type::Int {
                self.expect(&Type::Int, t, span, None);
                continue;
            }
            let s = self.show(&r);
            let d = if self.env.types.table.is_representation(&r) {
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("`{}` cannot mix `Int` and `{s}`", op.symbol()),
                )
                .at(span, format!("this has type `{s}`"))
                .note("`Int` is discrete and never differentiated; it has its own arithmetic")
                .help("convert the Int with `float`, e.g. `float n * x`")
            } else {
                Diagnostic::new(Code::NotRepresentation, format!("`{s}` is not a number"))
                    .at(span, format!("`{}` on `{s}`", op.symbol()))
                    .note(REPR_NOTE)
            };
            self.error(d);
            return;
        }
    }

    fn real_arith(
        &mut self,
        op: BinOp,
        l: &Type,
        r: &Type,
        out: &Type,
        [span, lspan, rspan]: [Span; 3],
    ) {
        if !self.arith_operand(op, l, r, lspan) || !self.arith_operand(op, r, l, rspan) {
            return;
        }
        let (l, r) = (self.subst.resolve(l), self.subst.resolve(r));
        if l == Type::Float && r != Type::Float {
            self.expect(out, &r, span, None);
        } else if r == Type::Float && l != Type::Float {
            self.expect(out, &l, span, None);
        } else {
            let label = format!("the left operand has type `{}`", self.show(&l));
            self.expect(
                &l,
                &r,
                rspan,
                crate::types::infer::Origin::new(lspan, label),
            );
            self.expect(out, &l, span, None);
        }
    }

    fn solve_numeric(&mut self, ty: &Type, span: Span, last: bool) -> bool {
        let t = self.subst.resolve(ty);
        if t == Type::Int {
            return true;
        }
        if let Type::Var(v) = t {
            if !self.subst.is_unbound(v) {
                return true;
            }
            if !last {
                return false;
            }
            if self.subst.constraint(v).has(Constraint::NUMLIT) {
                return true;
            }
        }
        self.expect_repr(ty, span);
        true
    }

    fn solve_matmul(&mut self, p: &Pending, last: bool) -> bool {
        let Pending::MatMul {
            left,
            right,
            out,
            span,
            lspan,
            rspan,
        } = p
        else {
            return true;
        };
        let (l, r) = (self.subst.zonk(left), self.subst.zonk(right));
        if self.is_open(&l) || self.is_open(&r) {
            if last && !self.had_error {
                let d = Diagnostic::new(Code::AmbiguousType, "`@` needs both shapes known")
                    .at(*span, "the shapes of these operands are not known here")
                    .help("annotate the operands, e.g. `(w : R[4, 3]) @ (x : R[3])`");
                self.error(d);
            }
            return last;
        }
        let Some(m_n) = self.matmul_operand(&l, *lspan, true) else {
            return true;
        };
        let Some(n_p) = self.matmul_operand(&r, *rspan, false) else {
            return true;
        };
        if m_n[1] != n_p[0] {
            let d = Diagnostic::new(
                Code::ShapeMismatch,
                format!(
                    "`{} @ {}`: the inner dimensions {} and {} differ",
                    crate::ir::pretty::pretty(&l),
                    crate::ir::pretty::pretty(&r),
                    m_n[1],
                    n_p[0]
                ),
            )
            .at(*span, "shapes do not fit")
            .also(*lspan, format!("this has {} columns", m_n[1]))
            .also(*rspan, format!("this has {} rows", n_p[0]))
            .note("`R[m, n] @ R[n]` is `R[m]` and `R[m, n] @ R[n, p]` is `R[m, p]`");
            self.error(d);
            return true;
        }
        let mut dims = vec![m_n[0]];
        dims.extend(n_p.get(1));
        self.expect(out, &Type::Tensor(dims), *span, None);
        true
    }

    /// The dims of an operand of `@`: a matrix on the left, a vector or a
    /// matrix on the right.
    fn matmul_operand(&mut self, t: &Type, span: Span, left: bool) -> Option<Vec<usize>> {
        let s = crate::ir::pretty::pretty(t);
        // A rep or a closed vocabulary's `Scores` multiplies as its raw
        // tensor (spec 11.4).
        let raw = match t {
            Type::Rep(_) | Type::Scores(_) => self.env.types.table.shape(t),
            _ => None,
        };
        if let Some(d) = raw.filter(|d| d.len() == 2 || (!left && d.len() == 1)) {
            return Some(d);
        }
        let d = match t {
            Type::Tensor(d) if d.len() == 2 || (!left && d.len() == 1) => return Some(d.clone()),
            Type::Tensor(_) => Diagnostic::new(
                Code::ShapeMismatch,
                format!("`@` needs a matrix `R[m, n]` on the left, found `{s}`"),
            )
            .at(span, format!("this has type `{s}`"))
            .note("`R[m, n] @ R[n]` is `R[m]` and `R[m, n] @ R[n, p]` is `R[m, p]`"),
            Type::Rep(_) | Type::Scores(_) => Diagnostic::new(
                Code::ShapeMismatch,
                format!(
                    "`@` needs a matrix on the left and a vector or matrix on the right, found {}",
                    self.with_shape(t)
                ),
            )
            .at(span, format!("this has type `{s}`"))
            .note("`R[m, n] @ R[n]` is `R[m]` and `R[m, n] @ R[n, p]` is `R[m, p]`; a rep or `Scores` multiplies as its raw tensor"),
            _ => Diagnostic::new(
                Code::TypeMismatch,
                format!("`@` needs tensors, found `{s}`"),
            )
            .at(span, format!("this has type `{s}`")),
        };
        self.error(d);
        None
    }
}
