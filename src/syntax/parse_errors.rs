//! Syntax error messages: lalrpop's errors translated into [`Diagnostic`]s.
//!
//! What it does: looks at the offending token, the token before it, the
//! brackets still open, and the set of tokens the LR parser would have
//! accepted, and says in a short phrase what was expected ("expected an
//! expression after `+`", "unclosed `(`", "expected `=` after the parameters
//! of `def f`"). The expected-token set is grouped into phrases (an
//! expression, a type, a pattern, a name, a declaration, a few specific
//! symbols); it is never dumped as is.
//!
//! What it does not do: parse, or report lexical errors (the lexer does).

use lalrpop_util::ParseError;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceId, Span};
use crate::syntax::lexer::{SpannedToken, Token};
use crate::syntax::parser::{point, Failure, Void};

const DECL_LIST: &str = "(`def`, `rep`, `vocab`, `learn`, `param`, `type`, `import`)";

/// Bracket structure of a token stream: which openers are closed, which
/// closers match nothing, which bracket encloses each token, and how deep
/// the nesting gets.
pub struct Brackets {
    /// For each token: true when it is an opener that is closed later, or a
    /// closer that closes something.
    matched: Vec<bool>,
    /// For each token index (and the end, at `tokens.len()`): the innermost
    /// opener still open just before it.
    enclosing: Vec<Option<usize>>,
    /// Openers at which the nesting reaches a new maximum, with that depth.
    depth_at: Vec<(usize, usize)>,
}

fn closer_of(t: &Token) -> Option<Token> {
    match t {
        Token::LParen => Some(Token::RParen),
        Token::LBracket | Token::TensorOpen | Token::WindowOpen => Some(Token::RBracket),
        _ => None,
    }
}

fn is_closer(t: &Token) -> bool {
    matches!(t, Token::RParen | Token::RBracket)
}

fn set(v: &mut [bool], i: usize) {
    if let Some(slot) = v.get_mut(i) {
        *slot = true;
    }
}

impl Brackets {
    /// Match brackets with a stack. A closer closes the innermost opener of
    /// its kind (openers skipped over stay unclosed); a closer with no
    /// opener of its kind open is unmatched.
    pub fn analyse(tokens: &[SpannedToken]) -> Brackets {
        let mut matched = vec![false; tokens.len()];
        let mut enclosing = Vec::with_capacity(tokens.len() + 1);
        let mut depth_at: Vec<(usize, usize)> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        for (i, (_, tok, _)) in tokens.iter().enumerate() {
            enclosing.push(stack.last().copied());
            if closer_of(tok).is_some() {
                stack.push(i);
                if depth_at.last().is_none_or(|&(_, m)| stack.len() > m) {
                    depth_at.push((i, stack.len()));
                }
            } else if is_closer(tok) {
                let found = stack.iter().rposition(|&o| {
                    tokens
                        .get(o)
                        .and_then(|(_, t, _)| closer_of(t))
                        .is_some_and(|c| &c == tok)
                });
                if let Some(pos) = found {
                    if let Some(o) = stack.get(pos).copied() {
                        set(&mut matched, o);
                    }
                    set(&mut matched, i);
                    stack.truncate(pos);
                }
            }
        }
        enclosing.push(stack.last().copied());
        Brackets {
            matched,
            enclosing,
            depth_at,
        }
    }

    /// The opener at which the nesting first exceeds `limit`.
    pub fn too_deep(&self, limit: usize) -> Option<usize> {
        self.depth_at
            .iter()
            .find(|&&(_, d)| d > limit)
            .map(|&(i, _)| i)
    }

    fn is_matched(&self, i: usize) -> bool {
        self.matched.get(i).copied().unwrap_or(false)
    }

    fn enclosing(&self, i: usize) -> Option<usize> {
        self.enclosing.get(i).copied().flatten()
    }
}

/// How far back the message builder looks for a `def`, `if` or `let`.
const LOOK_BACK: usize = 1000;

/// Everything the message builder looks at.
pub struct Context<'a> {
    pub source: SourceId,
    pub text: &'a str,
    pub tokens: &'a [SpannedToken],
    pub brackets: &'a Brackets,
}

/// The set of expected terminals, normalised (`"("` becomes `(`).
struct Expected(Vec<String>);

impl Expected {
    fn new(raw: Vec<String>) -> Expected {
        Expected(
            raw.into_iter()
                .map(
                    |s| match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                        Some(inner) => inner.replace("\\\\", "\\").replace("\\\"", "\""),
                        None => s,
                    },
                )
                .collect(),
        )
    }

    fn has(&self, t: &str) -> bool {
        self.0.iter().any(|s| s == t)
    }

    /// After a complete expression (an operator would be accepted).
    fn continues(&self) -> bool {
        ["+", "*", "++", "==", "&&", "||", "|>"]
            .iter()
            .any(|op| self.has(op))
    }

    /// The expected set as a few phrases, most important first.
    fn phrases(&self, in_module: bool) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |s: &str| out.push(s.to_string());
        let expr = self.has("\\");
        if expr && !self.continues() {
            push("an expression");
        } else if !expr {
            if self.has("R[") {
                push("a type");
            } else if self.has("_") {
                push("a pattern");
            } else if self.has("Lower") {
                push("a name");
            } else if self.has("Upper") {
                push("a type name");
            }
            if self.has("Str") {
                push("a string");
            }
            if self.has("Int") {
                push("a number");
            }
        }
        let cont = self.continues();
        for t in ["=", "->", "in", "then", "else", ":", ",", ")", "]"] {
            let skip = cont && (t == ":" || (t == "," && !(self.has(")") || self.has("]"))));
            if self.has(t) && !skip {
                out.push(format!("`{t}`"));
            }
        }
        if self.has("def") && (out.is_empty() || !cont) {
            out.push(if in_module || out.is_empty() {
                "a declaration".to_string()
            } else {
                "the next declaration".to_string()
            });
        }
        out
    }
}

/// "a, b or c"
fn join(phrases: &[String]) -> String {
    match phrases {
        [] => "something else".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn is_cmp(t: &Token) -> bool {
    use Token::*;
    matches!(t, EqEq | NotEq | Lt | Le | Gt | Ge)
}

impl Context<'_> {
    fn span(&self, l: usize, r: usize) -> Span {
        Span::new(self.source, l, r)
    }

    /// How to refer to the token at index `i` in a message.
    fn show(&self, i: usize) -> String {
        let Some((l, tok, r)) = self.tokens.get(i) else {
            return "the end of the input".to_string();
        };
        match self.text.get(*l..*r) {
            Some(s) if s.chars().count() <= 24 && !s.contains('\n') && !s.contains('`') => {
                format!("`{s}`")
            }
            _ => tok.describe(),
        }
    }

    /// A found token for a message; numbers as written in the source.
    fn describe(&self, l: usize, tok: &Token, r: usize) -> String {
        match (tok, self.text.get(l..r)) {
            (Token::Int(_) | Token::Float(_), Some(s)) if s.len() <= 24 => format!("number `{s}`"),
            _ => tok.describe(),
        }
    }

    /// Index of the token starting at byte `l` (or the end).
    fn index_of(&self, l: usize) -> usize {
        self.tokens.partition_point(|(s, _, _)| *s < l)
    }

    pub fn diagnostic(&self, e: ParseError<usize, Token, Void>) -> Option<Diagnostic> {
        let failure = Failure::from(e)?;
        let (index, found, expected) = match failure {
            Failure::Token(l, tok, r, exp) => (self.index_of(l), Ok((l, tok, r)), exp),
            Failure::Eof(at, exp) => (self.tokens.len(), Err(at), exp),
        };
        let expected = Expected::new(expected);
        let here = match &found {
            Ok((l, _, r)) => self.span(*l, *r),
            Err(at) => point(self.source, *at),
        };
        let what = found.as_ref().ok().map(|(_, t, _)| t);
        let code = if found.is_ok() {
            Code::UnexpectedToken
        } else {
            Code::UnexpectedEnd
        };
        let unexpected = match &found {
            Ok((l, t, r)) => format!("unexpected {}", self.describe(*l, t, *r)),
            Err(_) => "the input ends here".to_string(),
        };
        let special = self
            .unmatched_closer(index, what, here)
            .or_else(|| self.chained_comparison(what, &expected, here))
            .or_else(|| self.unclosed(index, &expected, here, &unexpected))
            .or_else(|| self.def_header(index, &expected, here, &unexpected));
        if let Some(d) = special {
            return Some(Diagnostic { code, ..d });
        }
        Some(self.generic(index, what, &expected, here, &unexpected, code))
    }

    fn generic(
        &self,
        index: usize,
        what: Option<&Token>,
        expected: &Expected,
        here: Span,
        unexpected: &str,
        code: Code,
    ) -> Diagnostic {
        let prev = index.checked_sub(1).map(|p| self.show(p));
        let phrases = expected.phrases(prev.is_none());
        let only_decl = phrases.len() == 1 && expected.has("def") && !expected.continues();
        let wanted = if only_decl {
            format!("a declaration {DECL_LIST}")
        } else {
            join(&phrases)
        };
        let no_specific = phrases
            .iter()
            .all(|p| p == "the next declaration" || p == "a declaration");
        let mut d = if expected.continues() && no_specific {
            let label = if expected.has("def") {
                "expected an operator, an argument or the next declaration"
            } else {
                "expected an operator, an argument or the end of the expression"
            };
            let msg = match what {
                Some(t) => format!("unexpected {}", t.describe()),
                None => "unexpected end of input".to_string(),
            };
            Diagnostic::new(code, msg).at(here, label)
        } else {
            let msg = match &prev {
                Some(p) if !only_decl => format!("expected {wanted} after {p}"),
                _ => format!("expected {wanted}"),
            };
            Diagnostic::new(code, msg).at(here, unexpected)
        };
        if let Some(h) = help_for(what, expected) {
            d = d.help(h);
        }
        if let [only] = phrases.as_slice() {
            d = self.unfinished_keyword(d, index, only);
        }
        d
    }

    /// For a missing `then`, `else` or `in`, point at the `if` or `let`.
    fn unfinished_keyword(&self, d: Diagnostic, index: usize, wanted: &str) -> Diagnostic {
        let (opener, label) = match wanted {
            "`then`" => (Token::If, "this `if` has no `then`"),
            "`else`" => (Token::If, "this `if` has no `else`"),
            "`in`" => (Token::Let, "this `let` has no `in`"),
            _ => return d,
        };
        let before = self
            .tokens
            .get(index.saturating_sub(LOOK_BACK)..index)
            .unwrap_or_default();
        match before.iter().rev().find(|(_, t, _)| *t == opener) {
            Some((l, _, r)) => d.also(self.span(*l, *r), label),
            None => d,
        }
    }

    /// `)` or `]` that closes nothing.
    fn unmatched_closer(
        &self,
        index: usize,
        what: Option<&Token>,
        here: Span,
    ) -> Option<Diagnostic> {
        let t = what.filter(|t| is_closer(t))?;
        if self.brackets.is_matched(index) {
            return None;
        }
        let opener = if *t == Token::RParen { "(" } else { "[" };
        Some(
            Diagnostic::new(Code::UnexpectedToken, format!("unmatched `{t}`"))
                .at(here, format!("this `{t}` has no matching `{opener}`")),
        )
    }

    /// `a < b < c`
    fn chained_comparison(
        &self,
        what: Option<&Token>,
        expected: &Expected,
        here: Span,
    ) -> Option<Diagnostic> {
        let t = what.filter(|t| is_cmp(t))?;
        if expected.has("==") || expected.has("\\") {
            return None;
        }
        Some(
            Diagnostic::new(
                Code::UnexpectedToken,
                "comparison operators cannot be chained",
            )
            .at(here, format!("a second comparison `{t}`"))
            .help("add parentheses, e.g. `(a < b) == c`, or combine with `&&`"),
        )
    }

    /// The innermost open bracket is never closed and its closer would have
    /// been accepted here.
    fn unclosed(
        &self,
        index: usize,
        expected: &Expected,
        here: Span,
        unexpected: &str,
    ) -> Option<Diagnostic> {
        let open = self.brackets.enclosing(index)?;
        if self.brackets.is_matched(open) {
            return None;
        }
        let (l, tok, r) = self.tokens.get(open)?;
        let closer = closer_of(tok)?;
        if !expected.has(&closer.to_string()) {
            return None;
        }
        let shown = match tok {
            Token::LParen => "(",
            _ => "[",
        };
        let label = if index >= self.tokens.len() {
            format!("the input ends before a `{closer}`")
        } else {
            format!("expected `{closer}` before this ({unexpected})")
        };
        Some(
            Diagnostic::new(Code::UnexpectedToken, format!("unclosed `{shown}`"))
                .at(here, label)
                .also(self.span(*l, *r), format!("this `{shown}` is never closed")),
        )
    }

    /// In the header of a `def`, something that is neither a parameter, nor
    /// `:` nor `=`.
    fn def_header(
        &self,
        index: usize,
        expected: &Expected,
        here: Span,
        unexpected: &str,
    ) -> Option<Diagnostic> {
        if !(expected.has("=") && expected.has(":") && expected.has("_")) {
            return None;
        }
        let def_at = self
            .tokens
            .get(..index)?
            .iter()
            .rposition(|(_, t, _)| *t == Token::Def)?;
        let name_at = def_at + 1;
        let Some((_, Token::Lower(name), _)) = self.tokens.get(name_at) else {
            return None;
        };
        let msg = if index == name_at + 1 {
            format!("expected parameters or `=` after `def {name}`")
        } else {
            format!("expected `=` after the parameters of `def {name}`")
        };
        Some(
            Diagnostic::new(Code::UnexpectedToken, msg)
                .at(here, unexpected.to_string())
                .help(format!(
                    "a definition is written `def {name} x y = ...`, optionally with types: `def {name} (x : T) : R = ...`"
                )),
        )
    }
}

/// A hint for common slips, given what was found and what was expected.
fn help_for(what: Option<&Token>, expected: &Expected) -> Option<String> {
    match what? {
        Token::Equals if expected.continues() => {
            Some("`==` compares values; `=` only appears in declarations and `let`".into())
        }
        Token::Lower(n) if expected.has("def") && !expected.continues() => Some(format!(
            "a definition starts with `def`: `def {n} ... = ...`"
        )),
        Token::Upper(_) if expected.has("\\") => Some(
            "type names cannot be used as values; vocabulary symbols are strings, e.g. \"pos\""
                .into(),
        ),
        _ => None,
    }
}
