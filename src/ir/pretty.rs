//! Canonical printing of types (spec section 9).
//!
//! `List Word -> Scores Label`, `(Hidden, WordVec) -> Hidden`, `R[2, 3]`,
//! `Window[3] Word`, `()`. Type variables are renamed `a, b, c, ...` in order
//! of appearance; several types printed with one [`Namer`] share the names
//! (used by diagnostics that show an expected and a found type). This module
//! only prints; it does not resolve or zonk.

use std::collections::HashMap;

use crate::ir::ty::{TyVar, Type};
use crate::ir::Scheme;

/// Prints a type with its variables renamed from `a`.
pub fn pretty(ty: &Type) -> String {
    Namer::default().print(ty)
}

/// Prints a scheme's type (the quantified variables print as `a, b, ...`).
pub fn pretty_scheme(s: &Scheme) -> String {
    pretty(&s.ty)
}

/// Names variables consistently across several printed types.
#[derive(Default)]
pub struct Namer {
    names: HashMap<TyVar, String>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    /// Anything goes.
    Top,
    /// Left of an arrow: functions need parentheses.
    FuncLeft,
    /// Argument of a type constructor: anything compound needs parentheses.
    Arg,
}

impl Namer {
    pub fn print(&mut self, ty: &Type) -> String {
        let mut out = String::new();
        self.go(ty, Prec::Top, &mut out);
        out
    }

    fn var_name(&mut self, v: TyVar) -> String {
        let n = self.names.len();
        self.names
            .entry(v)
            .or_insert_with(|| {
                let letter = (b'a' + (n % 26) as u8) as char;
                if n < 26 {
                    letter.to_string()
                } else {
                    format!("{letter}{}", n / 26)
                }
            })
            .clone()
    }

    fn go(&mut self, ty: &Type, prec: Prec, out: &mut String) {
        match ty {
            Type::Var(v) => out.push_str(&self.var_name(*v)),
            Type::Float => out.push_str("Float"),
            Type::Int => out.push_str("Int"),
            Type::Bool => out.push_str("Bool"),
            Type::Tensor(dims) => {
                out.push_str("R[");
                out.push_str(&join_dims(dims));
                out.push(']');
            }
            Type::Rep(n) | Type::Vocab(n) => out.push_str(n),
            Type::Tuple(ts) => {
                out.push('(');
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.go(t, Prec::Top, out);
                }
                out.push(')');
            }
            Type::Scores(a) => self.con("Scores", a, prec, out),
            Type::List(a) => self.con("List", a, prec, out),
            Type::Tree(a) => self.con("Tree", a, prec, out),
            Type::Rose(a) => self.con("Rose", a, prec, out),
            Type::Grid(a) => self.con("Grid", a, prec, out),
            Type::Window(d, a) => self.con(&format!("Window[{}]", join_dims(d)), a, prec, out),
            Type::Func(a, b) => {
                let paren = prec > Prec::Top;
                if paren {
                    out.push('(');
                }
                self.go(a, Prec::FuncLeft, out);
                out.push_str(" -> ");
                self.go(b, Prec::Top, out);
                if paren {
                    out.push(')');
                }
            }
        }
    }

    fn con(&mut self, name: &str, arg: &Type, prec: Prec, out: &mut String) {
        let paren = prec == Prec::Arg;
        if paren {
            out.push('(');
        }
        out.push_str(name);
        out.push(' ');
        self.go(arg, Prec::Arg, out);
        if paren {
            out.push(')');
        }
    }
}

fn join_dims(dims: &[usize]) -> String {
    dims.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
