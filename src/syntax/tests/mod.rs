//! Tests of the lexer and parser, as expect-test snapshots
//! (`UPDATE_EXPECT=1 cargo test --lib syntax` rewrites them).
//!
//! The AST is printed as compact s-expressions: `(f x)` is an application
//! (so `((f x) y)` shows left-associativity), `(+ a b)` a binary operator,
//! `(\ x y -> e)` a lambda, `(: e T)` an annotation, `[a b]` a list.

mod decls;
mod deep;
mod errors;
mod exprs;
mod lexer;

use crate::diagnostic::render;
use crate::source::SourceMap;
use crate::syntax::ast::*;
use crate::syntax::{parse_expr, parse_module, parse_repl_input, ReplInput};

/// Print an expression as an s-expression.
pub(super) fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Var(x) => x.clone(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(x) => format!("{x:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::App(f, x) => format!("({} {})", expr(f), expr(x)),
        ExprKind::Lambda(ps, b) => {
            let ps: Vec<String> = ps.iter().map(pat).collect();
            format!("(\\ {} -> {})", ps.join(" "), expr(b))
        }
        ExprKind::Let(p, a, b) => format!("(let {} {} {})", pat(p), expr(a), expr(b)),
        ExprKind::If(c, a, b) => format!("(if {} {} {})", expr(c), expr(a), expr(b)),
        ExprKind::Tuple(es) => seq("(tuple", es.iter().map(expr), ")"),
        ExprKind::List(es) => seq("[", es.iter().map(expr), "]"),
        ExprKind::Annot(e, t) => format!("(: {} {})", expr(e), ty(t)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), expr(a), expr(b)),
        ExprKind::Neg(e) => format!("(neg {})", expr(e)),
        ExprKind::Error => "<error>".to_string(),
    }
}

fn seq(open: &str, items: impl Iterator<Item = String>, close: &str) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() || open == "[" {
        format!("{open}{}{close}", items.join(" "))
    } else {
        format!("{open} {}{close}", items.join(" "))
    }
}

pub(super) fn pat(p: &Pattern) -> String {
    match &p.kind {
        PatternKind::Var(x) => x.clone(),
        PatternKind::Wildcard => "_".to_string(),
        PatternKind::Tuple(ps) => seq("(tuple", ps.iter().map(pat), ")"),
        PatternKind::Annotated(p, t) => format!("(: {} {})", pat(p), ty(t)),
    }
}

pub(super) fn ty(t: &TypeExpr) -> String {
    let dims = |ds: &[(i64, crate::source::Span)]| {
        let ds: Vec<String> = ds.iter().map(|(d, _)| d.to_string()).collect();
        ds.join(", ")
    };
    match &t.kind {
        TypeExprKind::Con(c, args) if args.is_empty() => c.name.clone(),
        TypeExprKind::Con(c, args) => {
            let args: Vec<String> = args.iter().map(ty).collect();
            format!("({} {})", c.name, args.join(" "))
        }
        TypeExprKind::Var(v) => v.clone(),
        TypeExprKind::Tensor(ds) => format!("R[{}]", dims(ds)),
        TypeExprKind::Window(ds, t) => format!("(Window[{}] {})", dims(ds), ty(t)),
        TypeExprKind::Tuple(ts) => seq("(tuple", ts.iter().map(ty), ")"),
        TypeExprKind::Func(a, b) => format!("(-> {} {})", ty(a), ty(b)),
        TypeExprKind::Error => "<error>".to_string(),
    }
}

pub(super) fn decl(d: &Decl) -> String {
    match &d.kind {
        DeclKind::Import(ImportTarget::Module(m)) => format!("(import {})", m.name),
        DeclKind::Import(ImportTarget::File(f, _)) => format!("(import {f:?})"),
        DeclKind::Rep { name, ty: t } => format!("(rep {} {})", name.name, ty(t)),
        DeclKind::TypeAlias { name, ty: t } => format!("(type {} {})", name.name, ty(t)),
        DeclKind::Vocab { name, symbols } => match symbols {
            None => format!("(vocab {})", name.name),
            Some(s) => {
                let s: Vec<String> = s.iter().map(|(s, _)| format!("{s:?}")).collect();
                format!("(vocab {} [{}])", name.name, s.join(" "))
            }
        },
        DeclKind::Learn {
            name,
            family,
            ty: t,
            bias,
        } => {
            let family = family.map(|(n, _)| format!(" [{n}]")).unwrap_or_default();
            match bias {
                None => format!("(learn {}{family} {})", name.name, ty(t)),
                Some(b) => format!("(learn {}{family} {} (bias {}))", name.name, ty(t), expr(b)),
            }
        }
        DeclKind::Param { name, ty: t, init } => match init {
            None => format!("(param {} {})", name.name, ty(t)),
            Some(e) => format!("(param {} {} {})", name.name, ty(t), expr(e)),
        },
        DeclKind::Objective { name, def, pieces } => {
            let ps: Vec<&str> = pieces.iter().map(|p| p.name.as_ref()).collect();
            format!("(objective {} {} [{}])", name.name, def.name, ps.join(" "))
        }
        DeclKind::Def {
            name,
            params,
            result,
            body,
        } => {
            let ps: Vec<String> = params.iter().map(param).collect();
            let r = result.as_ref().map_or("_".to_string(), ty);
            format!(
                "(def {} [{}] {} {})",
                name.name,
                ps.join(" "),
                r,
                expr(body)
            )
        }
    }
}

fn param(p: &Param) -> String {
    match &p.ty {
        None => pat(&p.pattern),
        Some(t) => format!("(: {} {})", pat(&p.pattern), ty(t)),
    }
}

/// Parse a module and print its declarations, one a line, then any
/// diagnostics rendered without colour.
pub(super) fn module(text: &str) -> String {
    let mut sources = SourceMap::new();
    let id = sources.add("test.dp", text);
    let (m, diags) = parse_module(id, text);
    let mut out: Vec<String> = m.decls.iter().map(decl).collect();
    if !diags.is_empty() {
        out.push(render(&diags, &sources, false));
    }
    out.join("\n")
}

/// Parse an expression and print it, or its diagnostics.
pub(super) fn ex(text: &str) -> String {
    let mut sources = SourceMap::new();
    let id = sources.add("<eval>", text);
    let (e, diags) = parse_expr(id, text);
    let mut out = e.as_ref().map(expr).unwrap_or_else(|| "<none>".into());
    if !diags.is_empty() {
        out.push('\n');
        out.push_str(&render(&diags, &sources, false));
    }
    out
}

/// Parse a type through `learn x : T`.
pub(super) fn typ(text: &str) -> String {
    module(&format!("learn x : {text}"))
}

/// Parse REPL input and print what kind it is.
pub(super) fn repl(text: &str) -> String {
    let mut sources = SourceMap::new();
    let id = sources.add("<repl:1>", text);
    let (input, diags) = parse_repl_input(id, text);
    let mut out = match input {
        ReplInput::Decls(ds) => {
            let ds: Vec<String> = ds.iter().map(decl).collect();
            format!("decls: {}", ds.join("; "))
        }
        ReplInput::Expr(e) => format!("expr: {}", expr(&e)),
        ReplInput::Empty => "empty".to_string(),
    };
    if !diags.is_empty() {
        out.push('\n');
        out.push_str(&render(&diags, &sources, false));
    }
    out
}
