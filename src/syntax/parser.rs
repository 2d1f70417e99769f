//! The parser's entry points: tokens to the spanned AST (with lalrpop).
//!
//! What it does: lexes the source, prepares the token stream for the
//! grammar (`R[` and `Window[` become single tokens; a synthetic first token
//! selects the module or the expression grammar), refuses input nested more
//! than [`MAX_DEPTH`] brackets deep, runs the LR parser generated from
//! `grammar/dp.lalrpop` (which is iterative, so deep nesting does not
//! overflow the stack here), and turns lalrpop's errors into our own
//! [`Diagnostic`]s (see `parse_errors.rs`).
//!
//! An input that stops in the middle of a construct (including an unclosed
//! bracket at the end) is reported with `Code::UnexpectedEnd`, which the
//! REPL can take as "read a continuation line".
//!
//! What it does not do: resolve names, check types, or desugar anything.
//! `x |> f` stays a `Binary(Pipe, ..)`.

use lalrpop_util::ParseError;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceId, Span};
use crate::syntax::ast;
use crate::syntax::lexer::{lex, SpannedToken, Token};
use crate::syntax::parse_errors::{self, Brackets};

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, unused_parens, unused_imports, dead_code)]
    grammar,
    "/dp.rs"
);

/// Deepest bracket nesting accepted: later stages recurse over the tree.
pub const MAX_DEPTH: usize = 100_000;

/// Deepest expression tree accepted (nesting without brackets: `if`,
/// lambdas, `let`, operator chains). The checker and the evaluator recurse
/// once per level on the big stack; 10^6 nested `if`s overflowed 1 GiB.
pub const MAX_TREE_DEPTH: usize = 250_000;

/// The span of an expression deeper than `limit` in `top`, if any (an
/// explicit stack: the tree may be too deep to recurse over).
fn too_deep_tree(top: &Top, limit: usize) -> Option<Span> {
    use ast::ExprKind as K;
    let mut stack: Vec<(&ast::Expr, usize)> = Vec::new();
    match top {
        Top::Expr(e) => stack.push((e, 1)),
        Top::Module(decls) => {
            for d in decls {
                match &d.kind {
                    ast::DeclKind::Def { body, .. } => stack.push((body, 1)),
                    ast::DeclKind::Learn { bias: Some(e), .. }
                    | ast::DeclKind::Param { init: Some(e), .. } => stack.push((e, 1)),
                    _ => {}
                }
            }
        }
    }
    while let Some((e, depth)) = stack.pop() {
        if depth > limit {
            return Some(e.span);
        }
        let d = depth + 1;
        match &e.kind {
            K::App(a, b) | K::Let(_, a, b) | K::Binary(_, a, b) => {
                stack.push((a, d));
                stack.push((b, d));
            }
            K::If(c, a, b) => stack.extend([(&**c, d), (&**a, d), (&**b, d)]),
            K::Lambda(_, a) | K::Annot(a, _) | K::Neg(a) => stack.push((a, d)),
            K::Tuple(xs) | K::List(xs) => stack.extend(xs.iter().map(|x| (x, d))),
            _ => {}
        }
    }
    None
}

/// What the grammar's single start symbol produces.
#[derive(Debug)]
pub enum Top {
    Module(Vec<ast::Decl>),
    Expr(ast::Expr),
}

/// The grammar's user error type. The lexer reports its problems separately,
/// so the parser never produces one.
#[derive(Clone, Debug, PartialEq)]
pub enum Void {}

/// One line (or several) typed at the REPL.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplInput {
    /// Declarations that extend the session.
    Decls(Vec<ast::Decl>),
    /// An expression to evaluate.
    Expr(ast::Expr),
    /// Nothing but white space and comments.
    Empty,
}

/// Parse a whole source file. Always returns a module: declarations that
/// could not be parsed are left out and reported.
pub fn parse_module(source: SourceId, text: &str) -> (ast::Module, Vec<Diagnostic>) {
    let (tokens, mut diags) = lex(source, text);
    let decls = match run(source, text, Token::StartModule, tokens, &mut diags) {
        Some(Top::Module(decls)) => decls,
        _ => Vec::new(),
    };
    (ast::Module { decls }, diags)
}

/// Parse one expression (for `dp run --eval`). `None` when no expression
/// could be built at all; a tree may still contain `ExprKind::Error` nodes
/// when diagnostics are returned.
pub fn parse_expr(source: SourceId, text: &str) -> (Option<ast::Expr>, Vec<Diagnostic>) {
    let (tokens, mut diags) = lex(source, text);
    let expr = match run(source, text, Token::StartExpr, tokens, &mut diags) {
        Some(Top::Expr(e)) => Some(e),
        _ => None,
    };
    (expr, diags)
}

/// Parse REPL input: declarations when it starts with a declaration keyword
/// (`def`, `rep`, `type`, `vocab`, `learn`, `param`, `import`), otherwise an
/// expression.
pub fn parse_repl_input(source: SourceId, text: &str) -> (ReplInput, Vec<Diagnostic>) {
    let (tokens, mut diags) = lex(source, text);
    let Some((_, first, _)) = tokens.first() else {
        return (ReplInput::Empty, diags);
    };
    let start = if first.starts_decl() {
        Token::StartModule
    } else {
        Token::StartExpr
    };
    let input = match run(source, text, start, tokens, &mut diags) {
        Some(Top::Module(decls)) => ReplInput::Decls(decls),
        Some(Top::Expr(e)) => ReplInput::Expr(e),
        None => ReplInput::Empty,
    };
    (input, diags)
}

/// Prepare the tokens, check the nesting depth, run the generated parser and
/// translate its errors. Returns `None` only when nothing could be built.
fn run(
    source: SourceId,
    text: &str,
    start: Token,
    tokens: Vec<SpannedToken>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Top> {
    let tokens = merge_bracket_names(tokens);
    let brackets = Brackets::analyse(&tokens);
    if let Some(at) = brackets.too_deep(MAX_DEPTH) {
        diags.push(too_deep(source, &tokens, at));
        return None;
    }
    let mut recovered = Vec::new();
    let stream = std::iter::once((0, start, 0))
        .chain(tokens.iter().cloned())
        .map(Ok::<SpannedToken, Void>);
    let result = grammar::TopParser::new().parse(source, &mut recovered, stream);
    let ctx = parse_errors::Context {
        source,
        text,
        tokens: &tokens,
        brackets: &brackets,
    };
    let mut syntax: Vec<Diagnostic> = recovered
        .into_iter()
        .filter_map(|r| ctx.diagnostic(r.error))
        .collect();
    let top = match result {
        Ok(top) => {
            match too_deep_tree(&top, MAX_TREE_DEPTH) {
                // Nesting without brackets (`if`, `\x ->`, `let`, `-`, `|>`,
                // `++` chains): later stages recurse over the tree.
                Some(span) => {
                    syntax.push(
                    Diagnostic::new(
                        Code::TooDeep,
                        format!("expressions nested more than {MAX_TREE_DEPTH} deep"),
                    )
                    .at(span, "this expression is too deep")
                    .note("this is an implementation limit; split the expression with `let` or defs"),
                );
                    None
                }
                None => Some(top),
            }
        }
        Err(e) => {
            syntax.extend(ctx.diagnostic(e));
            None
        }
    };
    dedup_same_place(&mut syntax);
    diags.append(&mut syntax);
    top
}

/// Two recovered errors at the same token say the same thing once.
fn dedup_same_place(diags: &mut Vec<Diagnostic>) {
    diags.dedup_by(|a, b| {
        let pa = a.primary.as_ref().map(|l| l.span);
        let pb = b.primary.as_ref().map(|l| l.span);
        pa.is_some() && pa == pb
    });
}

/// `R` followed by `[` becomes `R[`, `Window` followed by `[` becomes
/// `Window[` (the grammar needs them as single tokens to stay LR(1)).
fn merge_bracket_names(tokens: Vec<SpannedToken>) -> Vec<SpannedToken> {
    let mut out: Vec<SpannedToken> = Vec::with_capacity(tokens.len());
    for (l, tok, r) in tokens {
        if tok == Token::LBracket {
            let merged = match out.last() {
                Some((_, Token::Upper(name), _)) if name == "R" => Some(Token::TensorOpen),
                Some((_, Token::Upper(name), _)) if name == "Window" => Some(Token::WindowOpen),
                _ => None,
            };
            if let (Some(m), Some(last)) = (merged, out.last_mut()) {
                *last = (last.0, m, r);
                continue;
            }
        }
        out.push((l, tok, r));
    }
    out
}

fn too_deep(source: SourceId, tokens: &[SpannedToken], at: usize) -> Diagnostic {
    let span = tokens.get(at).map_or(Span::new(source, 0, 0), |(l, _, r)| {
        Span::new(source, *l, *r)
    });
    Diagnostic::new(
        Code::TooDeep,
        format!("brackets nested more than {MAX_DEPTH} deep"),
    )
    .at(span, "this bracket is too deep")
    .note("deeper nesting is not supported; split the expression with `let` or `def`")
}

/// Helper for messages: an error's location as a span.
pub(crate) fn point(source: SourceId, at: usize) -> Span {
    Span::new(source, at, at)
}

/// Convert lalrpop's error into the pieces the message builder needs.
pub(crate) enum Failure {
    Token(usize, Token, usize, Vec<String>),
    Eof(usize, Vec<String>),
}

impl Failure {
    pub(crate) fn from(e: ParseError<usize, Token, Void>) -> Option<Failure> {
        match e {
            ParseError::UnrecognizedToken {
                token: (l, t, r),
                expected,
            } => Some(Failure::Token(l, t, r, expected)),
            ParseError::ExtraToken { token: (l, t, r) } => {
                Some(Failure::Token(l, t, r, Vec::new()))
            }
            ParseError::UnrecognizedEof { location, expected } => {
                Some(Failure::Eof(location, expected))
            }
            ParseError::InvalidToken { .. } | ParseError::User { .. } => None,
        }
    }
}
