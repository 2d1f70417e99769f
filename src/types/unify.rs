//! Unification: the substitution, type-variable constraints and the occurs
//! check.
//!
//! Inference variables are numbered from [`FRESH_BASE`]; each carries a
//! [`Constraint`] (representation, vocabulary, comparable, number literal).
//! Binding a constrained variable checks the constraint against the type.
//! This module knows nothing of expressions or diagnostics: failures are
//! returned as [`UErr`] data and turned into messages by `errors.rs`.

use crate::ir::ty::{TyVar, Type};

/// Inference variables are `FRESH_BASE + i`; quantified variables of a
/// generalised scheme are small numbers (see `lower.rs`), so the two never
/// mix.
pub const FRESH_BASE: TyVar = 1 << 28;

/// A set of constraints on a type variable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Constraint(pub u8);

impl Constraint {
    pub const NONE: Constraint = Constraint(0);
    /// A representation type (section 4).
    pub const REPR: Constraint = Constraint(1);
    /// A vocabulary.
    pub const VOCAB: Constraint = Constraint(2);
    /// Int, Float, Bool or a vocabulary.
    pub const COMPARABLE: Constraint = Constraint(4);
    /// The type of an integer literal: Int or Float.
    pub const NUMLIT: Constraint = Constraint(8);
    /// What `==` and `!=` compare: a comparable type, or a list or tuple
    /// of such types (spec 11.4).
    pub const EQUATABLE: Constraint = Constraint(16);

    pub fn has(self, c: Constraint) -> bool {
        self.0 & c.0 == c.0 && c.0 != 0
    }

    pub fn union(self, c: Constraint) -> Constraint {
        Constraint(self.0 | c.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bits that survive in a quantified variable (see `lower.rs`):
    /// REPR, VOCAB and COMPARABLE as themselves, EQUATABLE as 8 (NUMLIT
    /// never survives).
    pub fn scheme_bits(self) -> u32 {
        u32::from(self.0 & 7)
            | if self.has(Constraint::EQUATABLE) {
                8
            } else {
                0
            }
    }

    pub fn from_scheme_var(v: TyVar) -> Constraint {
        let bits = (v & 15) as u8;
        Constraint((bits & 7) | if bits & 8 != 0 { 16 } else { 0 })
    }
}

/// Why two types could not be unified.
#[derive(Clone, Debug, PartialEq)]
pub enum UErr {
    /// The innermost conflicting pair, expected side first.
    Mismatch(Type, Type),
    /// A variable would have to contain itself.
    Occurs(TyVar, Type),
    /// A type lacks a constraint demanded of it.
    Unsatisfied(Type, Constraint),
    /// Two constraints no type satisfies (e.g. vocabulary and number).
    Conflict(Constraint, Constraint),
}

#[derive(Clone, Debug, Default)]
struct Slot {
    binding: Option<Type>,
    cons: Constraint,
}

/// The substitution of one checking session.
#[derive(Clone, Debug, Default)]
pub struct Subst {
    slots: Vec<Slot>,
    /// Every variable bound or constrained, in order (read by the pending
    /// constraints to retry only those whose variables changed).
    changes: Vec<TyVar>,
}

impl Subst {
    pub fn new() -> Self {
        Subst::default()
    }

    /// The next variable `fresh` will return.
    pub fn next_var(&self) -> TyVar {
        FRESH_BASE + self.slots.len() as TyVar
    }

    pub fn fresh(&mut self, cons: Constraint) -> TyVar {
        let v = self.next_var();
        self.slots.push(Slot {
            binding: None,
            cons,
        });
        v
    }

    pub fn fresh_ty(&mut self, cons: Constraint) -> Type {
        Type::Var(self.fresh(cons))
    }

    fn slot(&self, v: TyVar) -> Option<&Slot> {
        v.checked_sub(FRESH_BASE)
            .and_then(|i| self.slots.get(i as usize))
    }

    fn slot_mut(&mut self, v: TyVar) -> Option<&mut Slot> {
        v.checked_sub(FRESH_BASE)
            .and_then(|i| self.slots.get_mut(i as usize))
    }

    /// Points every variable bound to a variable straight at the end of
    /// its chain (path compression), so that later lookups take one step:
    /// a chain of n variables zonked at each of n nodes was quadratic
    /// (10^5 operands of `++` took 17 s). Meaning is unchanged.
    pub fn compress(&mut self) {
        for i in 0..self.slots.len() {
            let mut path = Vec::new();
            let mut at = FRESH_BASE + i as TyVar;
            let end = loop {
                match self.slot(at).and_then(|s| s.binding.as_ref()) {
                    Some(Type::Var(next)) if path.len() < self.slots.len() => {
                        path.push(at);
                        at = *next;
                    }
                    _ => break at,
                }
            };
            // Every variable on the path now points at the end of the chain
            // (the last bound one keeps its own binding).
            for &v in path.iter().rev().skip(1) {
                if let Some(s) = self.slot_mut(v) {
                    s.binding = Some(Type::Var(end));
                }
            }
        }
    }

    /// Is `v` an inference variable that is still unbound?
    pub fn is_unbound(&self, v: TyVar) -> bool {
        self.slot(v).is_some_and(|s| s.binding.is_none())
    }

    pub fn constraint(&self, v: TyVar) -> Constraint {
        self.slot(v).map_or(Constraint::NONE, |s| s.cons)
    }

    /// Follows bindings at the head only.
    pub fn resolve(&self, t: &Type) -> Type {
        self.resolve_ref(t).clone()
    }

    /// Follows variable bindings without copying anything.
    pub fn resolve_ref<'t>(&'t self, mut t: &'t Type) -> &'t Type {
        let mut steps = 0;
        while let Type::Var(v) = t {
            match self.slot(*v).and_then(|s| s.binding.as_ref()) {
                Some(b) if steps < 1_000_000 => {
                    t = b;
                    steps += 1;
                }
                _ => break,
            }
        }
        t
    }

    /// Applies the substitution everywhere in `t`. Linear in the size of
    /// the result: each node is visited once and nothing is copied twice.
    pub fn zonk(&self, t: &Type) -> Type {
        match self.resolve_ref(t) {
            Type::Scores(a) => Type::Scores(Box::new(self.zonk(a))),
            Type::List(a) => Type::List(Box::new(self.zonk(a))),
            Type::Tree(a) => Type::Tree(Box::new(self.zonk(a))),
            Type::Rose(a) => Type::Rose(Box::new(self.zonk(a))),
            Type::Grid(a) => Type::Grid(Box::new(self.zonk(a))),
            Type::Window(d, a) => Type::Window(d.clone(), Box::new(self.zonk(a))),
            Type::Tuple(ts) => Type::Tuple(ts.iter().map(|t| self.zonk(t)).collect()),
            Type::Func(a, b) => Type::func(self.zonk(a), self.zonk(b)),
            t => t.clone(),
        }
    }

    /// Binds an unbound variable without any check (defaulting).
    pub fn force_bind(&mut self, v: TyVar, t: Type) {
        if let Some(s) = self.slot_mut(v) {
            if s.binding.is_none() {
                s.binding = Some(t);
                s.cons = Constraint::NONE;
                self.changes.push(v);
            }
        }
    }

    /// Binds unbound `v` to `t` (the caller has checked it), dropping its
    /// constraints, and logs the change.
    fn set_binding(&mut self, v: TyVar, t: &Type) {
        if let Some(s) = self.slot_mut(v) {
            s.binding = Some(t.clone());
            s.cons = Constraint::NONE;
            self.changes.push(v);
        }
    }

    /// The variables bound or constrained since the log had `from`
    /// entries (all of them if it had fewer).
    pub fn changes_since(&self, from: usize) -> &[TyVar] {
        self.changes.get(from..).unwrap_or(&self.changes)
    }

    /// The length of the change log.
    pub fn change_count(&self) -> usize {
        self.changes.len()
    }

    /// Unifies `expected` with `found`.
    pub fn unify(&mut self, expected: &Type, found: &Type) -> Result<(), UErr> {
        let a = self.resolve(expected);
        let b = self.resolve(found);
        match (&a, &b) {
            (Type::Var(x), Type::Var(y)) if x == y => Ok(()),
            // Two unbound variables: the newer points at the older, so a
            // run of them (the elements of a long list literal, each a
            // fresh variable) stays one step from its root instead of
            // growing a chain that every later lookup walks (quadratic).
            // Only where both carry the same constraints: merging them
            // cannot fail, so which way they are bound changes no message.
            (Type::Var(x), Type::Var(y))
                if y > x
                    && self.is_unbound(*x)
                    && self.is_unbound(*y)
                    && (self.constraint(*x) == self.constraint(*y)
                        || self.constraint(*y).is_empty()) =>
            {
                self.bind(*y, &a)
            }
            (Type::Var(x), _) if self.is_unbound(*x) => self.bind(*x, &b),
            (_, Type::Var(y)) if self.is_unbound(*y) => self.bind(*y, &a),
            (Type::Float, Type::Float) | (Type::Int, Type::Int) | (Type::Bool, Type::Bool) => {
                Ok(())
            }
            (Type::Tensor(d), Type::Tensor(e)) if d == e => Ok(()),
            (Type::Rep(n), Type::Rep(m)) | (Type::Vocab(n), Type::Vocab(m)) if n == m => Ok(()),
            (Type::Scores(x), Type::Scores(y))
            | (Type::List(x), Type::List(y))
            | (Type::Tree(x), Type::Tree(y))
            | (Type::Rose(x), Type::Rose(y))
            | (Type::Grid(x), Type::Grid(y)) => self.unify(x, y),
            (Type::Window(d, x), Type::Window(e, y)) if d == e => self.unify(x, y),
            (Type::Tuple(xs), Type::Tuple(ys)) if xs.len() == ys.len() => {
                for (x, y) in xs.iter().zip(ys) {
                    self.unify(x, y)?;
                }
                Ok(())
            }
            (Type::Func(a1, r1), Type::Func(a2, r2)) => {
                self.unify(a1, a2)?;
                self.unify(r1, r2)
            }
            _ => Err(UErr::Mismatch(a, b)),
        }
    }

    fn bind(&mut self, v: TyVar, t: &Type) -> Result<(), UErr> {
        let cons = self.constraint(v);
        if let Type::Var(w) = t {
            if self.is_unbound(*w) {
                self.set_binding(v, t);
                return self.constrain(t, cons);
            }
        }
        let z = self.zonk(t);
        if occurs(v, &z) {
            return Err(UErr::Occurs(v, z));
        }
        self.constrain(t, cons)?;
        self.set_binding(v, t);
        Ok(())
    }

    /// Demands constraint `c` of `t`.
    pub fn constrain(&mut self, t: &Type, c: Constraint) -> Result<(), UErr> {
        if c.is_empty() {
            return Ok(());
        }
        let t = self.resolve(t);
        if let Type::Var(v) = t {
            if self.is_unbound(v) {
                return self.add_constraint(v, c);
            }
            return Ok(());
        }
        for bit in [
            Constraint::REPR,
            Constraint::VOCAB,
            Constraint::COMPARABLE,
            Constraint::NUMLIT,
            Constraint::EQUATABLE,
        ] {
            if c.has(bit) && !self.satisfies(&t, bit) {
                return Err(UErr::Unsatisfied(self.zonk(&t), bit));
            }
        }
        Ok(())
    }

    /// Does a non-variable type satisfy one constraint bit? May constrain
    /// variables inside it (tuple or window elements).
    fn satisfies(&mut self, t: &Type, bit: Constraint) -> bool {
        match bit {
            Constraint::REPR => match t {
                Type::Float | Type::Tensor(_) | Type::Rep(_) | Type::Scores(_) => true,
                Type::Window(_, e) => self.constrain(e, Constraint::REPR).is_ok(),
                Type::Tuple(ts) if !ts.is_empty() => ts
                    .iter()
                    .all(|e| self.constrain(e, Constraint::REPR).is_ok()),
                _ => false,
            },
            Constraint::VOCAB => matches!(t, Type::Vocab(_)),
            Constraint::COMPARABLE => {
                matches!(t, Type::Int | Type::Float | Type::Bool | Type::Vocab(_))
            }
            Constraint::NUMLIT => matches!(t, Type::Int | Type::Float),
            Constraint::EQUATABLE => match t {
                Type::Int | Type::Float | Type::Bool | Type::Vocab(_) => true,
                Type::List(e) => self.constrain(e, Constraint::EQUATABLE).is_ok(),
                Type::Tuple(ts) => ts
                    .iter()
                    .all(|e| self.constrain(e, Constraint::EQUATABLE).is_ok()),
                _ => false,
            },
            _ => true,
        }
    }

    fn add_constraint(&mut self, v: TyVar, c: Constraint) -> Result<(), UErr> {
        let old = self.constraint(v);
        let new = old.union(c);
        let vocab = new.has(Constraint::VOCAB);
        if vocab && (new.has(Constraint::REPR) || new.has(Constraint::NUMLIT)) {
            return Err(UErr::Conflict(old, c));
        }
        let norm = if new.has(Constraint::REPR)
            && (new.has(Constraint::NUMLIT)
                || new.has(Constraint::COMPARABLE)
                || new.has(Constraint::EQUATABLE))
        {
            self.force_bind(v, Type::Float);
            return Ok(());
        } else if vocab {
            Constraint::VOCAB
        } else if new.has(Constraint::NUMLIT) {
            Constraint::NUMLIT
        } else if new.has(Constraint::COMPARABLE) {
            // Every comparable type can be compared with `==`.
            Constraint::COMPARABLE.union(Constraint(new.0 & !Constraint::EQUATABLE.0))
        } else {
            new
        };
        if let Some(s) = self.slot_mut(v) {
            if s.cons != norm {
                s.cons = norm;
                self.changes.push(v);
            }
        }
        Ok(())
    }

    /// The unbound inference variables of `t`, in order of appearance.
    pub fn free_vars(&self, t: &Type) -> Vec<TyVar> {
        let mut out = Vec::new();
        collect_vars(&self.zonk(t), &mut out);
        out
    }

    /// All variables created since `start` (for defaulting after a def).
    pub fn vars_since(&self, start: TyVar) -> std::ops::Range<TyVar> {
        start..self.next_var()
    }
}

/// Does `v` occur in `t` (already zonked)?
pub fn occurs(v: TyVar, t: &Type) -> bool {
    let mut vs = Vec::new();
    collect_vars(t, &mut vs);
    vs.contains(&v)
}

/// The variables of `t`, each once, in order of appearance.
pub fn collect_vars(t: &Type, out: &mut Vec<TyVar>) {
    match t {
        Type::Var(v) if !out.contains(v) => out.push(*v),
        Type::Scores(a)
        | Type::List(a)
        | Type::Tree(a)
        | Type::Rose(a)
        | Type::Grid(a)
        | Type::Window(_, a) => collect_vars(a, out),
        Type::Tuple(ts) => ts.iter().for_each(|t| collect_vars(t, out)),
        Type::Func(a, b) => {
            collect_vars(a, out);
            collect_vars(b, out);
        }
        _ => {}
    }
}

/// Replaces variables by `f(v)` where it returns `Some`.
pub fn map_vars(t: &Type, f: &mut impl FnMut(TyVar) -> Option<Type>) -> Type {
    match t {
        Type::Var(v) => f(*v).unwrap_or(Type::Var(*v)),
        Type::Scores(a) => Type::Scores(Box::new(map_vars(a, f))),
        Type::List(a) => Type::List(Box::new(map_vars(a, f))),
        Type::Tree(a) => Type::Tree(Box::new(map_vars(a, f))),
        Type::Rose(a) => Type::Rose(Box::new(map_vars(a, f))),
        Type::Grid(a) => Type::Grid(Box::new(map_vars(a, f))),
        Type::Window(d, a) => Type::Window(d.clone(), Box::new(map_vars(a, f))),
        Type::Tuple(ts) => Type::Tuple(ts.iter().map(|t| map_vars(t, f)).collect()),
        Type::Func(a, b) => {
            let a = map_vars(a, f);
            Type::func(a, map_vars(b, f))
        }
        t => t.clone(),
    }
}
