//! The semantic types of dp, shared by the checker, the IR, the runtime and
//! the data codec.
//!
//! A [`Type`] is plain data. Aliases are already expanded; reps stay
//! nominal (`Type::Rep("Hidden")`) and their underlying representation is
//! in the [`TypeTable`]. Shapes are concrete (dp has no shape variables).

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::source::Span;

/// An interned name (of a rep or a vocabulary).
pub type Name = Rc<str>;

/// A unification / quantified type variable.
pub type TyVar = u32;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Var(TyVar),
    Float,
    Int,
    Bool,
    /// `R[n1, ..., nk]`, k >= 1.
    Tensor(Vec<usize>),
    /// A named representation (nominal).
    Rep(Name),
    /// A vocabulary of symbols.
    Vocab(Name),
    /// `Scores v`: one real per symbol of vocabulary v. The argument is a
    /// `Vocab` or (during inference, or in a polymorphic scheme) a `Var`.
    Scores(Box<Type>),
    List(Box<Type>),
    Tree(Box<Type>),
    /// `Rose a`: a node carrying an `a` and a list of child trees.
    Rose(Box<Type>),
    Grid(Box<Type>),
    /// `Window[k] t` (one dim) or `Window[kh, kw] t` (two dims).
    Window(Vec<usize>, Box<Type>),
    /// Tuples; the empty tuple is the unit type `()`.
    Tuple(Vec<Type>),
    Func(Box<Type>, Box<Type>),
}

impl Type {
    pub fn func(a: Type, b: Type) -> Type {
        Type::Func(Box::new(a), Box::new(b))
    }

    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// This type with the quantified variables of `subst` replaced (a
    /// def's scheme bound to an instantiation, `Scheme::bind`); any
    /// variable still unresolved defaults to `Float`.
    pub fn substitute(&self, subst: &[(TyVar, Type)]) -> Type {
        let go = |t: &Type| Box::new(t.substitute(subst));
        match self {
            Type::Var(v) => subst
                .iter()
                .find(|(w, _)| w == v)
                .map_or(Type::Float, |(_, t)| t.clone()),
            Type::Float
            | Type::Int
            | Type::Bool
            | Type::Tensor(_)
            | Type::Rep(_)
            | Type::Vocab(_) => self.clone(),
            Type::Scores(t) => Type::Scores(go(t)),
            Type::List(t) => Type::List(go(t)),
            Type::Tree(t) => Type::Tree(go(t)),
            Type::Rose(t) => Type::Rose(go(t)),
            Type::Grid(t) => Type::Grid(go(t)),
            Type::Window(d, t) => Type::Window(d.clone(), go(t)),
            Type::Tuple(ts) => Type::Tuple(ts.iter().map(|t| t.substitute(subst)).collect()),
            Type::Func(a, b) => Type::Func(go(a), go(b)),
        }
    }

    /// Splits `a -> b -> c` into `([a, b], c)`.
    pub fn uncurry(&self) -> (Vec<&Type>, &Type) {
        let mut args = Vec::new();
        let mut t = self;
        while let Type::Func(a, b) = t {
            args.push(&**a);
            t = b;
        }
        (args, t)
    }
}

/// A named representation: `rep Hidden = R[64]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RepDef {
    pub name: Name,
    /// The underlying representation type (never itself `Rep(name)`).
    pub underlying: Type,
    pub span: Span,
}

/// A vocabulary: closed (`symbols` fixed) or open (grown from data).
#[derive(Clone, Debug, PartialEq)]
pub struct VocabDef {
    pub name: Name,
    /// `Some` for a closed vocabulary, `None` for an open one.
    pub symbols: Option<Vec<String>>,
    pub span: Span,
}

/// The named types of a program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TypeTable {
    pub reps: BTreeMap<Name, RepDef>,
    pub vocabs: BTreeMap<Name, VocabDef>,
    /// `type Name = T`, expanded.
    pub aliases: BTreeMap<Name, Type>,
}

impl TypeTable {
    /// Number of reals in one value of a representation type, if `ty` is one
    /// and its size is known. `Scores` of an open vocabulary has no static
    /// size (its vocabulary grows from the data): `None`.
    pub fn flat_size(&self, ty: &Type) -> Option<usize> {
        match ty {
            Type::Float => Some(1),
            Type::Tensor(dims) => Some(dims.iter().product()),
            Type::Rep(n) => self.flat_size(&self.reps.get(n)?.underlying),
            Type::Scores(v) => match &**v {
                Type::Vocab(v) => self.vocabs.get(v)?.symbols.as_ref().map(|s| s.len()),
                _ => None,
            },
            Type::Window(dims, t) => Some(dims.iter().product::<usize>() * self.flat_size(t)?),
            Type::Tuple(ts) if !ts.is_empty() => ts.iter().map(|t| self.flat_size(t)).sum(),
            _ => None,
        }
    }

    /// Is `ty` a representation type (section 4)? Type variables are not.
    pub fn is_representation(&self, ty: &Type) -> bool {
        match ty {
            Type::Float | Type::Tensor(_) | Type::Rep(_) | Type::Scores(_) => true,
            Type::Window(_, t) => self.is_representation(t),
            Type::Tuple(ts) => !ts.is_empty() && ts.iter().all(|t| self.is_representation(t)),
            _ => false,
        }
    }

    /// The tensor shape of a representation type, for printing: `Float` is
    /// `[]`, `R[2,3]` is `[2, 3]`, a rep its underlying shape, a tuple or a
    /// window flattened to one dimension.
    pub fn shape(&self, ty: &Type) -> Option<Vec<usize>> {
        match ty {
            Type::Float => Some(vec![]),
            Type::Tensor(d) => Some(d.clone()),
            Type::Rep(n) => self.shape(&self.reps.get(n)?.underlying),
            _ => self.flat_size(ty).map(|n| vec![n]),
        }
    }
}
