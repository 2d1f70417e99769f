//! Side conditions of the builtins HM cannot type on its own
//! (`windowMap`, `windowMap2`, `elems`, `concat`; see `builtins.rs`).
//!
//! Each waits until the relevant type is known, then checks the window
//! dimensions or computes the concatenated size. Undecided at the end of
//! an item: `BadWindow` or `AmbiguousType` with a hint to annotate.

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::pretty::pretty;
use crate::ir::ty::Type;
use crate::source::Span;
use crate::types::builtins::{ShapeOp, Special};
use crate::types::errors::REPR_NOTE;
use crate::types::infer::Checker;
use crate::types::unify::Constraint;

impl Checker<'_> {
    pub(crate) fn solve_special(
        &mut self,
        s: &Special,
        name: &str,
        span: Span,
        last: bool,
    ) -> bool {
        match s {
            Special::Window {
                dims,
                func,
                elem,
                out,
                same,
            } => {
                let done = self.solve_window(*dims, func, elem, out, name, span, last);
                if done && *same {
                    self.check_same_window(func, elem, name, span);
                }
                done
            }
            Special::Elems { arg, elem } => self.solve_elems(arg, elem, span, last),
            Special::Concat { left, right, out } => self.solve_concat(left, right, out, span, last),
            Special::Shape { op, arg, out } => self.solve_shape(*op, arg, out, span, last),
        }
    }

    /// How to annotate a window of `elem` (its type if known, else a
    /// representation or vocabulary the program has, else `Float`).
    fn window_help(&self, dims: usize, elem: &Type) -> String {
        let e = self.subst.zonk(elem);
        let table = &self.env.types.table;
        let shown = if self.subst.free_vars(&e).is_empty() {
            pretty(&e)
        } else {
            let named = table.reps.keys().chain(table.vocabs.keys()).next();
            named.map_or("Float".to_string(), |n| n.to_string())
        };
        let shown = if shown.contains(' ') {
            format!("({shown})")
        } else {
            shown
        };
        let size = if dims == 1 { "3" } else { "3, 3" };
        format!("annotate the window: `\\(w : Window[{size}] {shown}) -> ...`")
    }

    #[allow(clippy::too_many_arguments)]
    fn solve_window(
        &mut self,
        dims: usize,
        func: &Type,
        elem: &Type,
        out: &Type,
        name: &str,
        span: Span,
        last: bool,
    ) -> bool {
        let f = self.subst.resolve(func);
        let param = match &f {
            Type::Func(p, _) => self.subst.resolve(p),
            t if self.is_var(t) => t.clone(),
            t => {
                let s = self.show(t);
                let d = Diagnostic::new(
                    Code::BadWindow,
                    format!("`{name}` needs a function, found `{s}`"),
                )
                .at(span, format!("`{name}` is given a `{s}`"));
                self.error(d);
                return true;
            }
        };
        match &param {
            Type::Window(d, e) if d.len() == dims => {
                let Type::Func(_, res) = &f else { return true };
                self.expect(elem, e, span, None);
                self.expect(out, res, span, None);
                true
            }
            t if self.is_var(t) => {
                if last && !self.had_error {
                    self.window_unknown(dims, elem, name, span);
                }
                last
            }
            t => {
                self.window_wrong(dims, t, elem, name, span);
                true
            }
        }
    }

    /// A padded window map: odd sizes (the window is centred) over a
    /// representation type (padding is zeros of it).
    fn check_same_window(&mut self, func: &Type, elem: &Type, name: &str, span: Span) {
        let f = self.subst.zonk(func);
        let Type::Func(p, _) = &f else { return };
        let Type::Window(dims, _) = &**p else { return };
        if dims.iter().any(|d| d % 2 == 0) {
            let shown: Vec<String> = dims.iter().map(usize::to_string).collect();
            let d = Diagnostic::new(
                Code::BadWindow,
                format!("`{name}` needs odd window sizes, not {}", shown.join(" x ")),
            )
            .at(span, "the window is centred on each position")
            .note("a window of size 2r + 1 reaches r positions each side; the padding is zeros");
            self.error(d);
        }
        let e = self.subst.zonk(elem);
        // A variable is constrained too: a polymorphic def's windows must
        // still be of a representation type wherever it is used.
        if self.subst.constrain(&e, Constraint::REPR).is_err() {
            let s = self.show(&e);
            let d = Diagnostic::new(
                Code::NotRepresentation,
                format!("`{name}` pads with zeros, so its elements must be a representation type, not `{s}`"),
            )
            .at(span, format!("a window of `{s}`"))
            .note(REPR_NOTE)
            .help("use `windowMap`, which has no padding, for windows of other types");
            self.error(d);
        }
    }

    fn window_unknown(&mut self, dims: usize, elem: &Type, name: &str, span: Span) {
        let d = Diagnostic::new(
            Code::BadWindow,
            format!("the window size of the function given to `{name}` is not known"),
        )
        .at(span, "the size of the window cannot be inferred here")
        .note(format!(
            "`{name}` takes the window size from its function's parameter type"
        ))
        .help(self.window_help(dims, elem));
        self.error(d);
    }

    fn window_wrong(&mut self, dims: usize, t: &Type, elem: &Type, name: &str, span: Span) {
        let s = self.show(t);
        let want = if dims == 1 {
            "Window[k] a"
        } else {
            "Window[kh, kw] a"
        };
        let d = Diagnostic::new(
            Code::BadWindow,
            format!("the function given to `{name}` must take a `{want}`, but it takes `{s}`"),
        )
        .at(span, format!("`{name}` needs a function of a `{want}`"))
        .help(self.window_help(dims, elem));
        self.error(d);
    }

    fn is_var(&self, t: &Type) -> bool {
        matches!(t, Type::Var(v) if self.subst.is_unbound(*v))
    }

    fn solve_elems(&mut self, arg: &Type, elem: &Type, span: Span, last: bool) -> bool {
        match self.subst.resolve(arg) {
            Type::Window(_, e) => {
                self.expect(elem, &e, span, None);
                true
            }
            t if self.is_var(&t) => {
                if last && !self.had_error {
                    let d = Diagnostic::new(
                        Code::BadWindow,
                        "the window given to `elems` has no known size",
                    )
                    .at(span, "the argument's window size cannot be inferred")
                    .help(self.window_help(1, elem));
                    self.error(d);
                }
                last
            }
            t => {
                let s = self.show(&t);
                let d = Diagnostic::new(
                    Code::TypeMismatch,
                    format!("`elems` takes a `Window[..] a`, found `{s}`"),
                )
                .at(span, "this `elems`")
                .note("`elems : Window[..] a -> List a` lists a window's elements row-major");
                self.error(d);
                true
            }
        }
    }

    fn solve_concat(
        &mut self,
        left: &Type,
        right: &Type,
        out: &Type,
        span: Span,
        last: bool,
    ) -> bool {
        let (l, r) = (self.subst.zonk(left), self.subst.zonk(right));
        let mut sizes = Vec::new();
        for t in [&l, &r] {
            if !self.is_var(t) {
                if let Err(e) = self.subst.constrain(t, Constraint::REPR) {
                    let d = self.unify_diag(e, t, t, span).note(REPR_NOTE);
                    self.error(d);
                    return true;
                }
            }
            sizes.push(self.env.types.table.flat_size(&self.subst.zonk(t)));
        }
        let has_var = |t: &Type| {
            let mut vs = Vec::new();
            crate::types::unify::collect_vars(t, &mut vs);
            !vs.is_empty()
        };
        match (sizes[0], sizes[1]) {
            (Some(a), Some(b)) => {
                self.expect(out, &Type::Tensor(vec![a + b]), span, None);
                true
            }
            _ if (has_var(&l) || has_var(&r)) && !last => false,
            _ => {
                if !self.had_error {
                    let (a, b) = self.show2(&l, &r);
                    let code = if has_var(&l) || has_var(&r) {
                        Code::AmbiguousType
                    } else {
                        Code::ShapeMismatch
                    };
                    let mut d = Diagnostic::new(code, "`concat` needs both sizes known")
                        .at(span, format!("`concat` of `{a}` and `{b}`"))
                        .note("`concat x y` is a raw `R[n1 + n2]`; an open vocabulary's `Scores` has no static size");
                    if code == Code::AmbiguousType {
                        d = d.help(
                            "annotate the arguments, e.g. `concat (x : Hidden) (y : WordVec)`",
                        );
                    }
                    self.error(d);
                }
                true
            }
        }
    }
}

impl Checker<'_> {
    /// `raw`, `cast`, `transpose`, `reshape`, `row`: wait for the shape(s),
    /// then fix or check the result type.
    fn solve_shape(&mut self, op: ShapeOp, arg: &Type, out: &Type, span: Span, last: bool) -> bool {
        let (a, o) = (self.subst.zonk(arg), self.subst.zonk(out));
        let open = |t: &Type| {
            let mut vs = Vec::new();
            crate::types::unify::collect_vars(t, &mut vs);
            !vs.is_empty()
        };
        let from_context = matches!(op, ShapeOp::Cast | ShapeOp::Reshape);
        if (open(&a) || (from_context && open(&o))) && !last {
            return false;
        }
        if open(&a) || (from_context && open(&o)) {
            if !self.had_error {
                let help = match op {
                    ShapeOp::Cast => "annotate the result, e.g. `(cast x : Hidden)`",
                    ShapeOp::Reshape => "annotate the result, e.g. `(reshape x : R[4, 2])`",
                    _ => "annotate the argument, e.g. `(x : R[3, 4])`",
                };
                let d = Diagnostic::new(
                    Code::AmbiguousType,
                    format!("`{}` needs its shapes known", name(op)),
                )
                .at(span, "the shapes here are not known")
                .help(help);
                self.error(d);
            }
            return true;
        }
        let table = &self.env.types.table;
        let shape = |t: &Type| match t {
            Type::Rep(_) | Type::Tensor(_) | Type::Float => table.shape(t),
            Type::Scores(_) => table.flat_size(t).map(|n| vec![n]),
            _ => None,
        };
        let result = match (op, &a) {
            (ShapeOp::Raw, Type::Rep(_) | Type::Scores(_)) => shape(&a).map(|s| tensor(s)),
            (ShapeOp::Transpose, Type::Tensor(d)) if d.len() == 2 => Some(tensor(vec![d[1], d[0]])),
            (ShapeOp::Row, Type::Tensor(d)) if d.len() == 2 => Some(tensor(vec![d[1]])),
            (ShapeOp::Slice, Type::Tensor(d)) if d.len() == 1 => match self.slice_at(span) {
                Some((start, len)) if start >= 0 && len >= 1 && (start + len) as usize <= d[0] => {
                    Some(tensor(vec![len as usize]))
                }
                Some(_) => None,
                None => {
                    // Not applied to two literals (reported at the call if
                    // it was applied to something else).
                    if !self.had_error {
                        let d = Diagnostic::new(
                            Code::TypeMismatch,
                            "`slice` takes its start and length as integer literals",
                        )
                        .at(span, "`slice` without them")
                        .help("write the call out: `\\x -> slice 2 3 x`");
                        self.error(d);
                    }
                    return true;
                }
            },
            (ShapeOp::Cast, Type::Tensor(d)) => {
                let fits = matches!(o, Type::Rep(_) | Type::Scores(_) | Type::Tensor(_))
                    && shape(&o).is_some_and(|s| {
                        s.iter().product::<usize>() == d.iter().product::<usize>()
                    });
                fits.then(|| o.clone())
            }
            (ShapeOp::Reshape, Type::Tensor(d)) => match &o {
                Type::Tensor(e) if e.iter().product::<usize>() == d.iter().product::<usize>() => {
                    Some(o.clone())
                }
                _ => None,
            },
            _ => None,
        };
        match result {
            Some(t) => self.expect(out, &t, span, None),
            None => {
                let (sa, so) = self.show2(&a, &o);
                let what = match op {
                    ShapeOp::Raw => format!(
                        "`raw` takes a rep or the `Scores` of a closed vocabulary, not `{sa}`"
                    ),
                    ShapeOp::Transpose => format!("`transpose` takes an `R[m, n]`, not `{sa}`"),
                    ShapeOp::Row => format!("`row` takes an `R[m, n]`, not `{sa}`"),
                    ShapeOp::Slice => match self.slice_at(span) {
                        Some((s, k)) if matches!(a, Type::Tensor(ref d) if d.len() == 1) => {
                            format!("`slice {s} {k}` of `{sa}` is out of its range")
                        }
                        _ => format!("`slice` takes an `R[n]`, not `{sa}`"),
                    },
                    ShapeOp::Cast => format!("`cast` cannot make `{so}` from `{sa}`"),
                    ShapeOp::Reshape => format!("`reshape` cannot make `{so}` from `{sa}`"),
                };
                let note = match op {
                    ShapeOp::Cast => {
                        "`cast` takes a raw `R[..]` to a rep, `Scores v` or tensor of the same size"
                    }
                    ShapeOp::Reshape => {
                        "`reshape` keeps the number of entries: `R[6]` to `R[2, 3]`"
                    }
                    ShapeOp::Slice => {
                        "`slice start len x` is `len` (at least 1) entries from `start` (at least 0), within `x`"
                    }
                    _ => "shapes are checked before anything runs",
                };
                let d = Diagnostic::new(Code::ShapeMismatch, what)
                    .at(span, "here")
                    .note(note);
                self.error(d);
            }
        }
        true
    }
}

fn tensor(dims: Vec<usize>) -> Type {
    if dims.is_empty() {
        Type::Float
    } else {
        Type::Tensor(dims)
    }
}

fn name(op: ShapeOp) -> &'static str {
    match op {
        ShapeOp::Raw => "raw",
        ShapeOp::Cast => "cast",
        ShapeOp::Transpose => "transpose",
        ShapeOp::Reshape => "reshape",
        ShapeOp::Row => "row",
        ShapeOp::Slice => "slice",
    }
}

impl Checker<'_> {
    /// The literals of the `slice` call whose builtin is at `span`.
    fn slice_at(&self, span: Span) -> Option<(i64, i64)> {
        self.slices
            .iter()
            .find(|(s, _, _)| *s == span)
            .map(|&(_, start, len)| (start, len))
    }
}
