//! Deep nesting: 20,000 nested parentheses parse (the LR parser is
//! iterative); lambdas nested beyond `MAX_LAMBDA_DEPTH` and brackets nested more than `MAX_DEPTH` deep are
//! refused with a `TooDeep` diagnostic instead of being parsed.
//!
//! Later stages recurse over the tree, so like the driver these tests run
//! on a thread with a big stack (dropping a deep tree recurses too).

use crate::diagnostic::Code;
use crate::syntax::ast::{Expr, ExprKind};
use crate::syntax::parser::MAX_DEPTH;
use crate::syntax::{parse_expr, parse_module};

const DEPTH: usize = 20_000;

fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    let handle = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(f)
        .map_err(|e| e.to_string());
    match handle {
        Ok(h) => assert!(h.join().is_ok(), "the test thread panicked"),
        Err(e) => panic!("cannot spawn a test thread: {e}"),
    }
}

/// Count nested lambdas without recursion.
fn lambda_depth(mut e: &Expr) -> usize {
    let mut n = 0;
    while let ExprKind::Lambda(_, body) = &e.kind {
        n += 1;
        e = body;
    }
    n
}

#[test]
fn twenty_thousand_nested_parens() {
    on_big_stack(|| {
        let text = format!("{}x{}", "(".repeat(DEPTH), ")".repeat(DEPTH));
        let (e, diags) = parse_expr(0, &text);
        assert!(diags.is_empty(), "{diags:?}");
        let e = e.map(|e| e.kind);
        assert_eq!(e, Some(ExprKind::Var("x".into())));
    });
}

#[test]
fn twenty_thousand_nested_tuples() {
    on_big_stack(|| {
        let text = format!("def f = {}x{}", "(1, ".repeat(DEPTH), ")".repeat(DEPTH));
        let (m, diags) = parse_module(0, &text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(m.decls.len(), 1);
    });
}

#[test]
fn nested_lambdas_up_to_the_limit_parse() {
    use crate::syntax::depth::MAX_LAMBDA_DEPTH;
    on_big_stack(|| {
        let text = format!("def f = {}x", "\\x -> ".repeat(MAX_LAMBDA_DEPTH));
        let (m, diags) = parse_module(0, &text);
        assert!(diags.is_empty(), "{diags:?}");
        let depth = m.decls.first().map(|d| match &d.kind {
            crate::syntax::ast::DeclKind::Def { body, .. } => lambda_depth(body),
            _ => 0,
        });
        assert_eq!(depth, Some(MAX_LAMBDA_DEPTH));
    });
}

#[test]
fn twenty_thousand_nested_lambdas_are_too_deep() {
    on_big_stack(|| {
        let text = format!("def f = {}x", "\\x -> ".repeat(DEPTH));
        let (m, diags) = parse_module(0, &text);
        let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::TooDeep]);
        assert!(m.decls.is_empty());
    });
}

#[test]
fn long_operator_chains() {
    on_big_stack(|| {
        let text = format!("x{}", " + x".repeat(DEPTH));
        let (e, diags) = parse_expr(0, &text);
        assert!(diags.is_empty() && e.is_some());
        let text = format!("f{}", " x".repeat(DEPTH));
        let (e, diags) = parse_expr(0, &text);
        assert!(diags.is_empty() && e.is_some());
    });
}

#[test]
fn too_deep_is_a_diagnostic() {
    on_big_stack(|| {
        let n = MAX_DEPTH + 1;
        let text = format!("{}x{}", "[".repeat(n), "]".repeat(n));
        let (e, diags) = parse_expr(0, &text);
        assert!(e.is_none());
        let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::TooDeep]);
        let span = diags
            .first()
            .and_then(|d| d.primary.as_ref())
            .map(|l| l.span.range());
        assert_eq!(span, Some(MAX_DEPTH..MAX_DEPTH + 1));
    });
}

/// Many recovered errors in one big input stay cheap (no quadratic work
/// per error).
#[test]
fn many_errors_are_cheap() {
    on_big_stack(|| {
        let n = 20_000;
        let text = format!("def f = g{}\n{}", " (1 +)".repeat(n), "def = 1\n".repeat(n));
        let started = std::time::Instant::now();
        let (m, diags) = parse_module(0, &text);
        assert_eq!(m.decls.len(), 1);
        assert_eq!(diags.len(), 2 * n);
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    });
}
