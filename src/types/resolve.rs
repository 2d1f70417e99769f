//! Resolution of type expressions and of type-level declarations.
//!
//! [`TypeResolver`] turns an `ast::TypeExpr` into a [`Type`]: builtin type
//! constructors, reps (nominal), vocabularies and aliases (expanded
//! structurally). While the declarations of a program are being collected,
//! aliases and reps are resolved lazily so they may appear in any order;
//! cycles among them are reported. It also validates closed vocabularies
//! and owns the "did you mean" suggestion. It does not type expressions.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

pub use crate::diagnostic::suggest;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::pretty::pretty;
use crate::ir::ty::{RepDef, Type, TypeTable, VocabDef};
use crate::source::Span;
use crate::syntax::ast::{Ident, TypeExpr, TypeExprKind};

/// Most reals one value of a tensor type may hold (2^24, 64 MiB of f32):
/// larger shapes would exhaust memory at run time, so they are refused here.
pub const MAX_TENSOR_SIZE: usize = 1 << 24;

/// Builtin type constructor names (with their arity).
pub const BUILTIN_TYPES: &[(&str, usize)] = &[
    ("Float", 0),
    ("Int", 0),
    ("Bool", 0),
    ("List", 1),
    ("Tree", 1),
    ("Rose", 1),
    ("Grid", 1),
    ("Scores", 1),
];

#[derive(Clone, Debug)]
struct PendingDecl {
    is_rep: bool,
    ty: TypeExpr,
    span: Span,
}

/// Resolves type expressions against a [`TypeTable`].
pub struct TypeResolver {
    pub table: TypeTable,
    pending: HashMap<String, PendingDecl>,
    failed: HashSet<String>,
    stack: Vec<(String, Span)>,
    pub diags: Vec<Diagnostic>,
}

impl TypeResolver {
    pub fn new(table: TypeTable) -> Self {
        TypeResolver {
            table,
            pending: HashMap::new(),
            failed: HashSet::new(),
            stack: Vec::new(),
            diags: Vec::new(),
        }
    }

    /// Is `name` a type name already taken (builtin, declared or pending)?
    pub fn type_name_span(&self, name: &str) -> Option<Option<Span>> {
        if BUILTIN_TYPES.iter().any(|(n, _)| *n == name) || name == "R" || name == "Window" {
            return Some(None);
        }
        if let Some(p) = self.pending.get(name) {
            return Some(Some(p.span));
        }
        if let Some(r) = self.table.reps.get(name) {
            return Some(Some(r.span));
        }
        if let Some(v) = self.table.vocabs.get(name) {
            return Some(Some(v.span));
        }
        if self.table.aliases.contains_key(name) || self.failed.contains(name) {
            return Some(None);
        }
        None
    }

    /// Registers a `rep` or `type` declaration to be resolved lazily.
    pub fn add_pending(&mut self, name: &Ident, ty: &TypeExpr, is_rep: bool) {
        self.pending.insert(
            name.name.clone(),
            PendingDecl {
                is_rep,
                ty: ty.clone(),
                span: name.span,
            },
        );
    }

    /// Resolves every pending declaration (in a deterministic order).
    pub fn resolve_pending(&mut self) {
        let mut names: Vec<(Span, String)> = self
            .pending
            .iter()
            .map(|(n, p)| (p.span, n.clone()))
            .collect();
        names.sort_by_key(|(s, _)| (s.source, s.start));
        for (span, name) in names {
            self.ensure(&name, span);
        }
    }

    /// Adds a vocabulary, validating a closed one.
    pub fn add_vocab(&mut self, name: &Ident, symbols: &Option<Vec<(String, Span)>>, span: Span) {
        if let Some(syms) = symbols {
            if syms.is_empty() {
                self.diags.push(
                    Diagnostic::new(
                        Code::BadVocabulary,
                        format!("the closed vocabulary `{}` has no symbols", name.name),
                    )
                    .at(span, "empty vocabulary")
                    .help(format!(
                        "list its symbols, e.g. `vocab {} = [\"a\", \"b\"]`, or write `vocab {}` for an open vocabulary",
                        name.name, name.name
                    )),
                );
            }
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for (s, sp) in syms {
                if let Some(first) = seen.get(s.as_str()) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::BadVocabulary,
                            format!(
                                "the symbol \"{s}\" appears twice in vocabulary `{}`",
                                name.name
                            ),
                        )
                        .at(*sp, "duplicate symbol")
                        .also(*first, "first listed here"),
                    );
                } else {
                    seen.insert(s, *sp);
                }
            }
        }
        let vname: Rc<str> = Rc::from(name.name.as_str());
        // The distinct symbols in order (a set beside the list: `contains`
        // on the list made 10^5 symbols take 50 s).
        let mut list: Vec<String> = Vec::new();
        let mut listed: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (s, _) in symbols.iter().flatten() {
            if listed.insert(s.as_str()) {
                list.push(s.clone());
            }
        }
        self.table.vocabs.insert(
            vname.clone(),
            VocabDef {
                name: vname,
                symbols: symbols.as_ref().map(|_| list),
                span: name.span,
            },
        );
    }

    fn ensure(&mut self, name: &str, at: Span) {
        if let Some(i) = self.stack.iter().position(|(n, _)| n == name) {
            self.report_cycle(i, name, at);
            return;
        }
        let Some(decl) = self.pending.get(name).cloned() else {
            return;
        };
        self.stack.push((name.to_string(), at));
        let resolved = self.resolve(&decl.ty, &mut |_, _| None);
        self.stack.pop();
        self.pending.remove(name);
        let key: Rc<str> = Rc::from(name);
        match resolved {
            Some(t) if decl.is_rep => self.add_rep(key, t, &decl),
            Some(t) => {
                self.table.aliases.insert(key, t);
            }
            None => {
                self.failed.insert(name.to_string());
            }
        }
    }

    fn add_rep(&mut self, name: Rc<str>, t: Type, decl: &PendingDecl) {
        let underlying = match &t {
            Type::Rep(other) => match self.table.reps.get(other) {
                Some(r) => r.underlying.clone(),
                None => return,
            },
            _ => t.clone(),
        };
        if !self.table.is_representation(&underlying) || self.table.flat_size(&underlying).is_none()
        {
            self.diags.push(
                Diagnostic::new(
                    Code::BadTypeExpr,
                    format!("a rep must stand for a representation type of known size, not `{}`", pretty(&t)),
                )
                .at(decl.ty.span, "not a representation of known size")
                .note("a rep names Float, R[..], a closed `Scores v`, or a tuple of these, e.g. `rep Hidden = R[64]`"),
            );
            self.failed.insert(name.to_string());
            return;
        }
        self.table.reps.insert(
            name.clone(),
            RepDef {
                name,
                underlying,
                span: decl.span,
            },
        );
    }

    fn report_cycle(&mut self, i: usize, name: &str, at: Span) {
        let mut path: Vec<String> = self.stack[i..].iter().map(|(n, _)| n.clone()).collect();
        path.push(name.to_string());
        let mut d = Diagnostic::new(
            Code::RecursiveDefinition,
            format!(
                "type declarations refer to each other in a cycle: {}",
                path.join(" -> ")
            ),
        )
        .at(at, format!("`{name}` refers back to itself here"))
        .note("reps and type aliases are expanded, so they cannot be recursive")
        .help("use `List`, `Tree`, `Rose` or `Grid` for recursive structure");
        for (n, sp) in self.stack[i + 1..].iter() {
            d = d.also(*sp, format!("`{n}` is used here"));
        }
        self.diags.push(d);
        let names: Vec<String> = self.stack[i..].iter().map(|(n, _)| n.clone()).collect();
        self.failed.extend(names);
    }

    /// Resolves a type expression. `vars` maps a type variable name to its
    /// type (`None`: variables are not allowed here). Errors are pushed to
    /// `self.diags` and give `None`.
    pub fn resolve(
        &mut self,
        te: &TypeExpr,
        vars: &mut dyn FnMut(&str, Span) -> Option<Type>,
    ) -> Option<Type> {
        match &te.kind {
            TypeExprKind::Con(id, args) => self.resolve_con(id, args, te.span, vars),
            TypeExprKind::Var(v) => {
                let t = vars(v, te.span);
                if t.is_none() {
                    self.diags.push(
                        Diagnostic::new(Code::BadTypeExpr, format!("type variable `{v}` is not allowed here"))
                            .at(te.span, "a type variable")
                            .note("only the annotations of a `def` may mention type variables; reps, aliases, `learn` and `param` need concrete types"),
                    );
                }
                t
            }
            TypeExprKind::Tensor(dims) => Some(Type::Tensor(self.dims(dims, te.span, None)?)),
            TypeExprKind::Window(dims, elem) => {
                let d = self.dims(dims, te.span, Some(2))?;
                let e = self.resolve(elem, vars)?;
                Some(Type::Window(d, Box::new(e)))
            }
            TypeExprKind::Tuple(ts) => {
                let mut out = Vec::new();
                for t in ts {
                    out.push(self.resolve(t, vars));
                }
                Some(Type::Tuple(out.into_iter().collect::<Option<Vec<_>>>()?))
            }
            TypeExprKind::Func(a, b) => {
                let a = self.resolve(a, vars);
                let b = self.resolve(b, vars);
                Some(Type::func(a?, b?))
            }
            TypeExprKind::Error => None,
        }
    }

    fn dims(&mut self, dims: &[(i64, Span)], span: Span, max: Option<usize>) -> Option<Vec<usize>> {
        if dims.is_empty() || max.is_some_and(|m| dims.len() > m) {
            let what = if max.is_some() {
                "a window has one or two dimensions: `Window[k] t` or `Window[kh, kw] t`"
            } else {
                "a tensor type has at least one dimension: `R[n]`"
            };
            self.diags.push(
                Diagnostic::new(Code::BadTypeExpr, "wrong number of dimensions")
                    .at(span, "here")
                    .note(what),
            );
            return None;
        }
        let mut out = Vec::new();
        for (d, sp) in dims {
            match usize::try_from(*d) {
                Ok(n) if n >= 1 => out.push(n),
                _ => {
                    self.diags.push(
                        Diagnostic::new(Code::BadTypeExpr, format!("dimension {d} is not allowed"))
                            .at(*sp, "a dimension must be at least 1"),
                    );
                    return None;
                }
            }
        }
        let total = out.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
        if total.is_none_or(|t| t > MAX_TENSOR_SIZE) {
            self.diags.push(
                Diagnostic::new(Code::BadTypeExpr, "this shape is too large")
                    .at(span, "more reals than one value may hold")
                    .note(format!(
                        "a tensor type holds at most {MAX_TENSOR_SIZE} reals"
                    )),
            );
            return None;
        }
        Some(out)
    }

    fn resolve_con(
        &mut self,
        id: &Ident,
        args: &[TypeExpr],
        span: Span,
        vars: &mut dyn FnMut(&str, Span) -> Option<Type>,
    ) -> Option<Type> {
        let name = id.name.as_str();
        let arity = BUILTIN_TYPES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, a)| *a);
        if args.len() != arity {
            let msg = if arity == 0 {
                format!("`{name}` takes no type arguments")
            } else {
                format!("`{name}` takes one type argument, e.g. `{name} Word`")
            };
            self.diags.push(
                Diagnostic::new(Code::BadTypeExpr, msg)
                    .at(span, format!("{} argument(s) given", args.len())),
            );
            return None;
        }
        let arg = match args.first() {
            Some(a) => Some(self.resolve(a, vars)?),
            None => None,
        };
        match name {
            "Float" => Some(Type::Float),
            "Int" => Some(Type::Int),
            "Bool" => Some(Type::Bool),
            "List" => Some(Type::List(Box::new(arg?))),
            "Tree" => Some(Type::Tree(Box::new(arg?))),
            "Rose" => Some(Type::Rose(Box::new(arg?))),
            "Grid" => Some(Type::Grid(Box::new(arg?))),
            "Scores" => self.scores(arg?, args.first().map_or(span, |a| a.span)),
            _ => self.named(id),
        }
    }

    fn scores(&mut self, v: Type, span: Span) -> Option<Type> {
        if matches!(v, Type::Vocab(_) | Type::Var(_)) {
            return Some(Type::Scores(Box::new(v)));
        }
        self.diags.push(
            Diagnostic::new(
                Code::BadTypeExpr,
                format!("`Scores` takes a vocabulary, not `{}`", pretty(&v)),
            )
            .at(span, "not a vocabulary")
            .note("`Scores v` holds one real score per symbol of the vocabulary `v`"),
        );
        None
    }

    fn named(&mut self, id: &Ident) -> Option<Type> {
        let name = id.name.as_str();
        if self.pending.contains_key(name) || self.stack.iter().any(|(n, _)| n == name) {
            self.ensure(name, id.span);
        }
        if self.failed.contains(name) {
            return None;
        }
        if self.table.reps.contains_key(name) {
            return Some(Type::Rep(Rc::from(name)));
        }
        if self.table.vocabs.contains_key(name) {
            return Some(Type::Vocab(Rc::from(name)));
        }
        if let Some(t) = self.table.aliases.get(name) {
            return Some(t.clone());
        }
        if name == "R" || name == "Window" {
            // A window example of a type the program has.
            let elem = (self.table.reps.keys().chain(self.table.vocabs.keys()))
                .next()
                .map_or("Float".to_string(), |n| n.to_string());
            self.diags.push(
                Diagnostic::new(Code::BadTypeExpr, format!("`{name}` needs its dimensions"))
                    .at(id.span, "dimensions missing")
                    .help(format!("write `R[64]`, `R[2, 3]` or `Window[3] {elem}`")),
            );
            return None;
        }
        let mut d = Diagnostic::new(Code::UnknownType, format!("unknown type `{name}`"))
            .at(id.span, "not a type, rep or vocabulary in scope");
        if let Some(s) = suggest(name, self.type_names()) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        self.diags.push(d);
        None
    }

    fn type_names(&self) -> Vec<String> {
        let mut names: Vec<String> = BUILTIN_TYPES.iter().map(|(n, _)| n.to_string()).collect();
        names.extend(self.table.reps.keys().map(|k| k.to_string()));
        names.extend(self.table.vocabs.keys().map(|k| k.to_string()));
        names.extend(self.table.aliases.keys().map(|k| k.to_string()));
        names.extend(self.pending.keys().cloned());
        names
    }
}
