//! The lexer: source text to a vector of spanned tokens (with logos).
//!
//! What it does: recognises the tokens of section 2 of the language spec
//! (keywords, value and type names, integer/float/string literals, symbols),
//! skips white space and `--` comments, unescapes string literals, and turns
//! every lexical problem (an unknown character, an unterminated string, a bad
//! escape, an integer that does not fit in `i64`) into a [`Diagnostic`] with
//! the exact byte span. Lexing always continues after an error, so one run
//! reports every lexical problem of a file.
//!
//! What it does not do: it knows nothing of the grammar. `R[` and `Window[`
//! come out as an upper-case name followed by `[`; the parser merges them.
//! The tokens [`Token::TensorOpen`], [`Token::WindowOpen`],
//! [`Token::StartModule`] and [`Token::StartExpr`] are never produced here.

use std::fmt;

use logos::Logos;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceId, Span};

/// State threaded through logos callbacks: where we are and what went wrong.
#[derive(Debug, Default)]
pub struct LexExtras {
    pub source: SourceId,
    pub diagnostics: Vec<Diagnostic>,
}

/// One token. Literal tokens carry their (unescaped, parsed) value.
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(extras = LexExtras)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip r"--[^\n]*")]
pub enum Token {
    #[token("rep")]
    Rep,
    #[token("type")]
    Type,
    #[token("vocab")]
    Vocab,
    #[token("learn")]
    Learn,
    #[token("param")]
    Param,
    #[token("objective")]
    Objective,
    /// `bias` is a keyword only after a learned piece's type; everywhere
    /// else the grammar takes it as a name.
    #[token("bias")]
    Bias,
    #[token("updates")]
    Updates,
    #[token("def")]
    Def,
    #[token("let")]
    Let,
    #[token("in")]
    In,
    #[token("if")]
    If,
    #[token("then")]
    Then,
    #[token("else")]
    Else,
    #[token("import")]
    Import,
    #[token("true")]
    True,
    #[token("false")]
    False,

    /// A value name `[a-z_][A-Za-z0-9_']*` (but not `_` alone).
    #[regex(r"[a-z_][A-Za-z0-9_']*", |lex| lex.slice().to_string())]
    Lower(String),
    /// A type, representation or vocabulary name `[A-Z][A-Za-z0-9_]*`.
    #[regex(r"[A-Z][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Upper(String),
    #[regex(r"[0-9]+", lex_int)]
    Int(i64),
    #[regex(r"[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?", lex_float)]
    #[regex(r"[0-9]+[eE][+-]?[0-9]+", lex_float)]
    Float(f64),
    /// A string literal's unescaped contents.
    #[token("\"", lex_string)]
    Str(String),

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token("=")]
    Equals,
    #[token("->")]
    Arrow,
    #[token("\\")]
    Backslash,
    #[token("_", priority = 3)]
    Underscore,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("@")]
    At,
    #[token("++")]
    PlusPlus,
    #[token("|>")]
    Pipe,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,

    /// `R[` (made by the parser from `R` directly followed by `[`).
    TensorOpen,
    /// `Window[` (made by the parser from `Window` directly followed by `[`).
    WindowOpen,
    /// Synthetic first token selecting the module grammar.
    StartModule,
    /// Synthetic first token selecting the expression grammar.
    StartExpr,
}

impl Token {
    /// True for the keywords that start a declaration.
    pub fn starts_decl(&self) -> bool {
        use Token::*;
        matches!(self, Rep | Type | Vocab | Learn | Param | Def | Import)
    }

    /// A short description for messages: the token as written, in backticks,
    /// or "name `foo`" for names and "number `1`" for literals.
    pub fn describe(&self) -> String {
        match self {
            Token::Lower(s) => format!("name `{s}`"),
            Token::Upper(s) => format!("type name `{s}`"),
            Token::Int(i) => format!("number `{i}`"),
            Token::Float(f) => format!("number `{f:?}`"),
            Token::Str(_) => "string literal".to_string(),
            other => format!("`{other}`"),
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Token::*;
        let s = match self {
            Rep => "rep",
            Type => "type",
            Vocab => "vocab",
            Learn => "learn",
            Param => "param",
            Objective => "objective",
            Bias => "bias",
            Updates => "updates",
            Def => "def",
            Let => "let",
            In => "in",
            If => "if",
            Then => "then",
            Else => "else",
            Import => "import",
            True => "true",
            False => "false",
            Lower(s) | Upper(s) => return f.write_str(s),
            Int(i) => return write!(f, "{i}"),
            Float(x) => return write!(f, "{x:?}"),
            Str(s) => return write!(f, "{s:?}"),
            LParen => "(",
            RParen => ")",
            LBracket => "[",
            RBracket => "]",
            Comma => ",",
            Colon => ":",
            Equals => "=",
            Arrow => "->",
            Backslash => "\\",
            Underscore => "_",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            At => "@",
            PlusPlus => "++",
            Pipe => "|>",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            AndAnd => "&&",
            OrOr => "||",
            TensorOpen => "R[",
            WindowOpen => "Window[",
            StartModule | StartExpr => "",
        };
        f.write_str(s)
    }
}

/// A token with its byte range `[start, end)`, as lalrpop wants it.
pub type SpannedToken = (usize, Token, usize);

/// Lex a whole source. Never fails: problems are returned as diagnostics and
/// the offending text is skipped (or, for strings and numbers, still yields a
/// token so that the parser does not report the same problem again).
pub fn lex(source: SourceId, text: &str) -> (Vec<SpannedToken>, Vec<Diagnostic>) {
    let extras = LexExtras {
        source,
        diagnostics: Vec::new(),
    };
    let mut lexer = Token::lexer_with_extras(text, extras);
    let mut tokens = Vec::new();
    // A run of unknown characters is reported once: (start, end).
    let mut bad_run: Option<(usize, usize)> = None;
    while let Some(result) = lexer.next() {
        let span = lexer.span();
        match result {
            Ok(tok) => {
                flush_bad_run(&mut bad_run, source, text, &mut lexer.extras);
                tokens.push((span.start, tok, span.end));
            }
            Err(()) => {
                let end = char_end(text, span.start).max(span.end);
                if end > span.end {
                    lexer.bump(end - span.end);
                }
                match &mut bad_run {
                    Some((_, e)) if *e == span.start => *e = end,
                    _ => {
                        flush_bad_run(&mut bad_run, source, text, &mut lexer.extras);
                        bad_run = Some((span.start, end));
                    }
                }
            }
        }
    }
    flush_bad_run(&mut bad_run, source, text, &mut lexer.extras);
    let mut diagnostics = lexer.extras.diagnostics;
    diagnostics.sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
    (tokens, diagnostics)
}

/// The end of the character starting at byte `at` (or `at` at the end).
fn char_end(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(at, |c| at + c.len_utf8())
}

fn flush_bad_run(
    run: &mut Option<(usize, usize)>,
    source: SourceId,
    text: &str,
    x: &mut LexExtras,
) {
    let Some((start, end)) = run.take() else {
        return;
    };
    let written = text.get(start..end).unwrap_or("?");
    let shown: String = written.escape_debug().collect();
    let (message, label) = if written.chars().count() == 1 {
        (
            format!("unknown character `{shown}`"),
            "no token starts with this character",
        )
    } else {
        (
            format!("unknown characters `{shown}`"),
            "no token starts with these characters",
        )
    };
    let mut d =
        Diagnostic::new(Code::UnknownCharacter, message).at(Span::new(source, start, end), label);
    if let Some(h) = hint_for(written) {
        d = d.help(h);
    }
    x.diagnostics.push(d);
}

/// A hint for characters people type by habit from other languages.
fn hint_for(written: &str) -> Option<&'static str> {
    match written {
        "." => Some("numbers are written `0.5`, with digits on both sides of the point"),
        "'" => Some("strings are written with double quotes: \"a\""),
        "!" => Some("`!=` means \"not equal\"; there is no `!` operator"),
        "|" => Some("`||` is \"or\", `|>` is the pipe"),
        "&" => Some("`&&` is \"and\""),
        ";" => Some("declarations need no separator"),
        _ => None,
    }
}

fn lex_int(lex: &mut logos::Lexer<Token>) -> i64 {
    match lex.slice().parse::<i64>() {
        Ok(i) => i,
        Err(_) => {
            let span = Span::new(lex.extras.source, lex.span().start, lex.span().end);
            lex.extras.diagnostics.push(
                Diagnostic::new(Code::BadNumber, "integer literal out of range")
                    .at(span, "this does not fit in a 64-bit integer")
                    .note(format!("the largest integer is {}", i64::MAX)),
            );
            0
        }
    }
}

fn lex_float(lex: &mut logos::Lexer<Token>) -> f64 {
    match lex.slice().parse::<f64>() {
        Ok(x) if x.is_finite() => x,
        _ => {
            let span = Span::new(lex.extras.source, lex.span().start, lex.span().end);
            lex.extras.diagnostics.push(
                Diagnostic::new(Code::BadNumber, "float literal out of range")
                    .at(span, "this is too large for a 64-bit float"),
            );
            0.0
        }
    }
}

/// Lex the rest of a string literal after its opening quote. A string ends
/// at the closing quote; a raw newline or the end of input before it makes
/// the string unterminated (reported, and the token still produced).
fn lex_string(lex: &mut logos::Lexer<Token>) -> String {
    let start = lex.span().start;
    let source = lex.extras.source;
    let rest = lex.remainder();
    let mut value = String::new();
    let mut chars = rest.char_indices();
    let mut bad = Vec::new();
    let consumed = loop {
        let Some((i, c)) = chars.next() else {
            break Err(rest.len());
        };
        match c {
            '"' => break Ok(i + 1),
            '\n' => break Err(i),
            '\\' => match chars.next() {
                None => break Err(rest.len()),
                Some((j, '\n')) => break Err(j),
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((j, e)) => {
                    bad.push((i, j + e.len_utf8(), e));
                    value.push(e);
                }
            },
            other => value.push(other),
        }
    };
    let base = lex.span().end;
    for (s, e, c) in bad {
        let shown: String = c.escape_debug().collect();
        lex.extras.diagnostics.push(
            Diagnostic::new(
                Code::BadEscape,
                format!("unknown escape `\\{shown}` in a string"),
            )
            .at(Span::new(source, base + s, base + e), "unknown escape")
            .help("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`"),
        );
    }
    match consumed {
        Ok(n) => lex.bump(n),
        Err(n) => {
            lex.bump(n);
            let end = lex.span().end;
            lex.extras.diagnostics.push(
                Diagnostic::new(Code::UnterminatedString, "unterminated string literal")
                    .at(
                        Span::new(source, start, end),
                        "this string has no closing `\"`",
                    )
                    .help("a string ends on the line where it starts; write a line break as `\\n`"),
            );
        }
    }
    value
}
