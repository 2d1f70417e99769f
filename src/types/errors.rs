//! Turning unification failures into diagnostics.
//!
//! `expect(expected, found, span, origin)` is the one way the checker
//! demands a type; on failure it reports "expected X, found Y" with the
//! right code: `RepMismatch` when a rep is involved (naming both reps and
//! their shapes), `InfiniteType` for the occurs check, `NotRepresentation`
//! / `NotComparable` for unmet constraints, `TypeMismatch` otherwise.

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::pretty::{pretty, Namer};
use crate::ir::ty::Type;
use crate::source::Span;
use crate::types::infer::{Checker, Origin};
use crate::types::unify::{Constraint, UErr};

pub const REPR_NOTE: &str =
    "arithmetic and elementwise builtins such as `tanh` need Float, R[..], a rep, Scores v or a tuple of these";

impl Checker<'_> {
    /// Prints a type with the current substitution applied.
    pub fn show(&self, t: &Type) -> String {
        pretty(&self.subst.zonk(t))
    }

    /// Prints a type, showing integer-literal variables as `Int` (what
    /// they default to).
    pub fn show_lit(&self, t: &Type) -> String {
        let z = self.subst.zonk(t);
        let z = crate::types::unify::map_vars(&z, &mut |v| {
            let lit = self.subst.constraint(v).has(Constraint::NUMLIT);
            lit.then_some(Type::Int)
        });
        pretty(&z)
    }

    /// Prints two types with shared variable names.
    pub fn show2(&self, a: &Type, b: &Type) -> (String, String) {
        let mut n = Namer::default();
        let a = n.print(&self.subst.zonk(a));
        (a, n.print(&self.subst.zonk(b)))
    }

    /// "has type `X`", or what a constrained variable stands for ("is a
    /// number", ...), for labels.
    pub fn describe(&self, t: &Type) -> String {
        match self.subst.zonk(t) {
            Type::Var(v) if self.subst.is_unbound(v) => {
                let c = self.subst.constraint(v);
                if c.has(Constraint::NUMLIT) {
                    "is a number".to_string()
                } else if c.has(Constraint::VOCAB) {
                    "is a vocabulary symbol".to_string()
                } else if c.has(Constraint::REPR) {
                    "is a representation".to_string()
                } else {
                    format!("has type `{}`", pretty(&Type::Var(v)))
                }
            }
            z => format!("has type `{}`", pretty(&z)),
        }
    }

    /// What a constraint asks for, in words.
    fn wanted(c: Constraint) -> &'static str {
        match c {
            Constraint::NUMLIT => "a number",
            Constraint::VOCAB => "a vocabulary symbol",
            Constraint::REPR => "a representation type",
            _ => "a comparable type",
        }
    }

    /// `` `Hidden` (R[64]) `` for a rep, `` `T` `` otherwise.
    pub fn with_shape(&self, t: &Type) -> String {
        let t = self.subst.zonk(t);
        match &t {
            Type::Rep(n) => match self.env.types.table.reps.get(n) {
                Some(r) => format!("`{n}` ({})", pretty(&r.underlying)),
                None => format!("`{n}`"),
            },
            _ => format!("`{}`", pretty(&t)),
        }
    }

    /// Demands that `found` (the type of the expression at `span`) be
    /// `expected`.
    pub fn expect(&mut self, expected: &Type, found: &Type, span: Span, origin: Option<Origin>) {
        if let Err(e) = self.subst.unify(expected, found) {
            let mut d = self.unify_diag(e, expected, found, span);
            if let Some(o) = origin {
                d = d.also(o.span, o.label);
            }
            self.error(d);
        }
    }

    /// The diagnostic for a failed `unify(expected, found)`.
    pub fn unify_diag(&self, e: UErr, expected: &Type, found: &Type, span: Span) -> Diagnostic {
        match e {
            UErr::Mismatch(a, b) => self.mismatch(expected, found, &a, &b, span),
            UErr::Occurs(v, t) => {
                let (x, y) = self.show2(&Type::Var(v), &t);
                Diagnostic::new(
                    Code::InfiniteType,
                    format!("infinite type: `{x}` would have to be `{y}`"),
                )
                .at(span, format!("this would need `{x}` = `{y}`"))
                .note("a type cannot contain itself; this is often a function applied to itself or a list put inside itself")
            }
            UErr::Unsatisfied(t, c) => {
                let open = |x: &Type| match self.subst.zonk(x) {
                    Type::Var(v) => self.subst.is_unbound(v) && self.subst.constraint(v).has(c),
                    _ => false,
                };
                let s = pretty(&t);
                let w = Self::wanted(c);
                let code = match c {
                    Constraint::REPR => Code::NotRepresentation,
                    Constraint::COMPARABLE | Constraint::EQUATABLE => Code::NotComparable,
                    _ => Code::TypeMismatch,
                };
                if open(found) && !open(expected) {
                    Diagnostic::new(code, format!("expected `{s}`, found {w}"))
                        .at(span, format!("this is {w}, not `{s}`"))
                } else if open(expected) && !open(found) {
                    Diagnostic::new(code, format!("expected {w}, found `{s}`"))
                        .at(span, format!("this has type `{s}`"))
                } else {
                    self.unsatisfied(&t, c, span)
                }
            }
            UErr::Conflict(..) => Diagnostic::new(
                Code::TypeMismatch,
                "a vocabulary symbol cannot be used as a number or a representation",
            )
            .at(span, "a number or representation and a vocabulary symbol meet here")
            .note("string literals are vocabulary symbols; numbers and representations are Int, Float, R[..], reps, ..."),
        }
    }

    fn mismatch(
        &self,
        expected: &Type,
        found: &Type,
        a: &Type,
        b: &Type,
        span: Span,
    ) -> Diagnostic {
        let (exp, fnd) = self.show2(expected, found);
        let (ia, ib) = self.show2(a, b);
        let outer_is_inner = exp == ia && fnd == ib;
        let is_rep = matches!(a, Type::Rep(_)) || matches!(b, Type::Rep(_));
        // One value where a window of them is expected: not a question of
        // representations.
        if let Type::Window(dims, e) = a {
            if self.subst.zonk(e) == self.subst.zonk(b) {
                let (sa, sb) = (pretty(&self.subst.zonk(a)), self.with_shape(b));
                let map = if dims.len() == 1 {
                    "windowMap"
                } else {
                    "windowMap2"
                };
                let over = if dims.len() == 1 { "List" } else { "Grid" };
                return Diagnostic::new(
                    Code::RepMismatch,
                    format!("expected `{sa}`, found one {sb}"),
                )
                .at(span, format!("this is one `{ib}`, not a window of them"))
                .help(format!(
                    "a function of windows is applied at every position of a `{over} {ib}` with `{map}`"
                ));
            }
        }
        if is_rep {
            let (sa, sb) = (self.with_shape(a), self.with_shape(b));
            let mut d = if outer_is_inner {
                Diagnostic::new(Code::RepMismatch, format!("expected {sa}, found {sb}"))
            } else {
                Diagnostic::new(
                    Code::RepMismatch,
                    format!("expected `{exp}`, found `{fnd}`"),
                )
                .note(format!("{sa} and {sb} are different representations"))
            };
            d = d.at(span, format!("this has type `{fnd}`")).note(NOMINAL);
            let table = &self.env.types.table;
            let same_shape = table.shape(a).is_some() && table.shape(a) == table.shape(b);
            if let (Type::Rep(_), Type::Tensor(_), true) = (a, b, same_shape) {
                // Raw data of the rep's shape: declare it as the rep.
                d = d.help(format!(
                    "data of `{ia}` is written as `{ib}`: declare the value as `{ia}` where it \
                     comes in (a parameter `: {ia}`, or the data's type), no conversion needed"
                ));
            } else if table.is_representation(a)
                && table.is_representation(b)
                && learnable(a, true)
                && learnable(b, false)
            {
                d = d.help(format!(
                    "convert with a learned piece, e.g. `learn proj : {ib} -> {ia}`"
                ));
            }
            return d;
        }
        let mut d = Diagnostic::new(
            Code::TypeMismatch,
            format!("expected `{exp}`, found `{fnd}`"),
        )
        .at(span, format!("this has type `{fnd}`"));
        if !outer_is_inner {
            d = d.note(format!("`{ia}` does not match `{ib}`"));
        }
        if matches!((a, b), (Type::Int, Type::Float) | (Type::Float, Type::Int)) {
            d = d.help("Int and Float do not mix: convert an Int with `float`");
        }
        d
    }

    fn unsatisfied(&self, t: &Type, c: Constraint, span: Span) -> Diagnostic {
        let s = pretty(t);
        match c {
            Constraint::REPR => Diagnostic::new(
                Code::NotRepresentation,
                format!("`{s}` is not a representation type"),
            )
            .at(span, format!("this has type `{s}`"))
            .note(REPR_NOTE),
            Constraint::COMPARABLE => Diagnostic::new(
                Code::NotComparable,
                format!("values of type `{s}` cannot be compared"),
            )
            .at(span, format!("this has type `{s}`"))
            .note("`==`, `<` and the other comparisons work on Int, Float, Bool and vocabulary symbols"),
            Constraint::EQUATABLE => Diagnostic::new(
                Code::NotComparable,
                format!("values of type `{s}` cannot be compared"),
            )
            .at(span, format!("this has type `{s}`"))
            .note("`==` and `!=` work on Int, Float, Bool and vocabulary symbols, and on lists and tuples of them"),
            Constraint::VOCAB => Diagnostic::new(
                Code::TypeMismatch,
                format!("`{s}` is not a vocabulary"),
            )
            .at(span, format!("a vocabulary symbol cannot have type `{s}`"))
            .note("string literals and the results of `argmax` are symbols of a vocabulary"),
            _ => Diagnostic::new(
                Code::TypeMismatch,
                format!("expected `{s}`, found a number literal"),
            )
            .at(span, format!("a number where `{s}` is expected")),
        }
    }
}

/// The note of a mismatch between two representations.
pub(super) const NOMINAL: &str =
    "reps are nominal: data in another representation is meaningless to the layer";

/// Could `t` be a learned piece's codomain (`codomain`) or domain? Closed
/// types only; a window is a domain, never a codomain; `Scores` of a
/// vocabulary.
fn learnable(t: &Type, codomain: bool) -> bool {
    match t {
        Type::Float | Type::Tensor(_) | Type::Rep(_) => true,
        Type::Scores(v) => matches!(**v, Type::Vocab(_)),
        Type::Window(_, e) => !codomain && learnable(e, false),
        Type::Tuple(ts) => !ts.is_empty() && ts.iter().all(|t| learnable(t, codomain)),
        _ => false,
    }
}

impl Checker<'_> {
    /// After checking a tuple's parts against `expected`: when the parts
    /// that did not match are exactly two whose types fit each other's
    /// place, their two mismatch diagnostics (those from `before` on)
    /// become one saying that the parts are swapped (one diagnostic per
    /// mistake, and the fix is not a conversion).
    pub(super) fn one_swap_diagnostic(
        &mut self,
        items: &[crate::ir::Expr],
        expected: &[Type],
        before: usize,
    ) {
        let closed = |c: &Self, t: &Type| c.subst.free_vars(t).is_empty();
        let same = |c: &Self, a: &Type, b: &Type| c.subst.zonk(a) == c.subst.zonk(b);
        let wrong: Vec<usize> = (0..items.len())
            .filter(|&i| !same(self, &items[i].ty, &expected[i]))
            .collect();
        let [i, j] = wrong[..] else {
            return;
        };
        let fits = same(self, &items[i].ty, &expected[j]) && same(self, &items[j].ty, &expected[i]);
        let mismatches = self.diags[before..]
            .iter()
            .filter(|d| matches!(d.code, Code::RepMismatch | Code::TypeMismatch))
            .count();
        if !fits || mismatches != 2 || self.diags.len() != before + 2 {
            return;
        }
        if !(closed(self, &expected[i]) && closed(self, &expected[j])) {
            return;
        }
        self.diags.truncate(before);
        let (a, b) = (self.show(&expected[i]), self.show(&expected[j]));
        let want: Vec<String> = expected.iter().map(|t| self.show(t)).collect();
        let d = Diagnostic::new(
            Code::RepMismatch,
            format!(
                "the parts of this tuple are swapped: `({})` is expected",
                want.join(", ")
            ),
        )
        .at(
            items[i].span,
            format!("this `{b}` belongs at part {}", j + 1),
        )
        .also(
            items[j].span,
            format!("this `{a}` belongs at part {}", i + 1),
        )
        .help(format!("swap parts {} and {}", i + 1, j + 1));
        self.error(d);
    }
}
