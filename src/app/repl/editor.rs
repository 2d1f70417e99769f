//! The line editor's helper (rustyline): tab completion, syntax
//! highlighting, and the validator that asks for continuation lines.
//!
//! [`is_incomplete`] is also used when reading from a pipe, so scripts and
//! terminals split input the same way: an input goes on while brackets are
//! open, while its last token is `=`, `->`, `in`, `then` or `else`, or while
//! the parser reports that it ended too early; an empty line ends it anyway.
//! Commands (`:…`) are one line.
//! This module does not evaluate anything; the names to complete are
//! handed to it by the session after every input.

use std::borrow::Cow;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use dp::diagnostic::Code;
use dp::syntax::lexer::{lex, Token};

/// Keywords of section 2.
pub const KEYWORDS: &[&str] = &[
    "rep", "type", "vocab", "learn", "param", "def", "let", "in", "if", "then", "else", "import",
    "true", "false",
];

/// Does `text` need more lines before it can be run?
pub fn is_incomplete(text: &str) -> bool {
    if text.trim_start().starts_with(':') {
        return false;
    }
    // An empty line ends a continued input (as in Python's REPL), so an
    // input that can never be completed does not swallow what follows.
    if text
        .rsplit('\n')
        .next()
        .is_some_and(|l| l.trim().is_empty())
        && text.contains('\n')
    {
        return false;
    }
    let (tokens, _) = lex(0, text);
    let mut depth = 0i64;
    for (_, t, _) in &tokens {
        match t {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            _ => {}
        }
    }
    if depth > 0 {
        return true;
    }
    if depth < 0 {
        return false;
    }
    if let Some((_, last, _)) = tokens.last() {
        if matches!(
            last,
            Token::Equals | Token::Arrow | Token::In | Token::Then | Token::Else
        ) {
            return true;
        }
    }
    let (_, diags) = dp::syntax::parse_repl_input(0, text);
    diags.iter().any(|d| d.code == Code::UnexpectedEnd)
}

/// The rustyline helper of a session.
pub struct DpHelper {
    /// Names in scope: globals, types, builtins.
    pub names: Vec<String>,
    /// Colour the input (only on a terminal, and not with `--color never`).
    pub color: bool,
    files: FilenameCompleter,
}

impl DpHelper {
    pub fn new(color: bool) -> DpHelper {
        DpHelper {
            names: Vec::new(),
            color,
            files: FilenameCompleter::new(),
        }
    }
}

impl Helper for DpHelper {}

impl Hinter for DpHelper {
    type Hint = String;
}

impl Validator for DpHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

/// Commands whose argument is a path.
const PATH_COMMANDS: &[&str] = &[":load", ":l", ":weights", ":w", ":save", ":s", ":train"];

impl Completer for DpHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let trimmed = before.trim_start();
        if trimmed.starts_with(':') {
            if !trimmed.contains(char::is_whitespace) {
                let start = before.len() - trimmed.len();
                let cands = super::commands::COMMANDS
                    .iter()
                    .map(|(n, _, _)| format!(":{n}"))
                    .filter(|c| c.starts_with(trimmed));
                return Ok((start, pairs(cands)));
            }
            let first = trimmed.split_whitespace().next().unwrap_or("");
            if PATH_COMMANDS.contains(&first) || first.starts_with(":lo") {
                return self.files.complete_path(line, pos);
            }
        }
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '\''))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        let after_import = before[..start].trim_end().ends_with("import");
        if after_import && before[..start].ends_with('"') {
            return self.files.complete_path(line, pos);
        }
        let mut cands: Vec<String> = if after_import {
            dp::driver::STDLIB
                .iter()
                .map(|(n, _)| n.to_string())
                .collect()
        } else {
            self.names
                .iter()
                .cloned()
                .chain(KEYWORDS.iter().map(|k| k.to_string()))
                .collect()
        };
        cands.retain(|c| c.starts_with(word));
        cands.sort();
        cands.dedup();
        Ok((start, pairs(cands.into_iter())))
    }
}

fn pairs(cands: impl Iterator<Item = String>) -> Vec<Pair> {
    cands
        .map(|c| Pair {
            display: c.clone(),
            replacement: c,
        })
        .collect()
}

const KEYWORD: &str = "\x1b[1;35m";
const NUMBER: &str = "\x1b[36m";
const STRING: &str = "\x1b[32m";
const TYPE: &str = "\x1b[33m";
const COMMENT: &str = "\x1b[2m";
const COMMAND: &str = "\x1b[1;34m";
const RESET: &str = "\x1b[0m";

/// `text` with ANSI colours: keywords, literals, type names, comments.
pub fn highlight(text: &str) -> String {
    if text.trim_start().starts_with(':') {
        let start = text.len() - text.trim_start().len();
        let end = text[start..]
            .find(char::is_whitespace)
            .map_or(text.len(), |i| start + i);
        return format!(
            "{}{COMMAND}{}{RESET}{}",
            &text[..start],
            &text[start..end],
            &text[end..]
        );
    }
    let (tokens, _) = lex(0, text);
    let mut out = String::with_capacity(text.len() * 2);
    let mut at = 0;
    for (s, t, e) in &tokens {
        let (Some(gap), Some(tok)) = (text.get(at..*s), text.get(*s..*e)) else {
            continue;
        };
        push_gap(&mut out, gap);
        let colour = match t {
            Token::Upper(_) => Some(TYPE),
            Token::Int(_) | Token::Float(_) => Some(NUMBER),
            Token::Str(_) => Some(STRING),
            Token::True | Token::False => Some(NUMBER),
            _ if tok.chars().all(|c| c.is_ascii_lowercase()) && KEYWORDS.contains(&tok) => {
                Some(KEYWORD)
            }
            _ => None,
        };
        match colour {
            Some(c) => out.push_str(&format!("{c}{tok}{RESET}")),
            None => out.push_str(tok),
        }
        at = *e;
    }
    push_gap(&mut out, text.get(at..).unwrap_or(""));
    out
}

/// White space between tokens, with `--` comments dimmed to the line end.
fn push_gap(out: &mut String, gap: &str) {
    let mut rest = gap;
    while let Some(i) = rest.find("--") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('\n').map_or(rest.len(), |j| i + j);
        out.push_str(&format!("{COMMENT}{}{RESET}", &rest[i..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
}

impl Highlighter for DpHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.color {
            Cow::Owned(highlight(line))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _forced: bool) -> bool {
        self.color
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation() {
        assert!(is_incomplete("def f (x : Int) ="));
        assert!(is_incomplete("map (\\x ->"));
        assert!(is_incomplete("[1, 2,"));
        assert!(is_incomplete("let x = 1 in"));
        assert!(is_incomplete("if true then 1 else"));
        assert!(is_incomplete("def f x = -- comment"));
        assert!(!is_incomplete("1 + 2"));
        assert!(!is_incomplete("def f x = x"));
        assert!(!is_incomplete("1 )"));
        assert!(!is_incomplete(":type ("));
        assert!(!is_incomplete(""));
        assert!(!is_incomplete("def f =\n"));
        assert!(!is_incomplete("(((\n  \n"));
        assert!(is_incomplete("def f =\n  x +"));
    }

    #[test]
    fn highlighting() {
        let h = highlight("def f = 1 -- one");
        assert!(h.contains(&format!("{KEYWORD}def{RESET}")));
        assert!(h.contains(&format!("{NUMBER}1{RESET}")));
        assert!(h.contains(&format!("{COMMENT}-- one{RESET}")));
        assert_eq!(strip(&h), "def f = 1 -- one");
        assert_eq!(strip(&highlight("\"a\" ++ ä ~ x")), "\"a\" ++ ä ~ x");
    }

    fn complete(helper: &DpHelper, line: &str) -> (usize, Vec<String>) {
        let history = rustyline::history::DefaultHistory::new();
        let ctx = Context::new(&history);
        let (start, pairs) = helper.complete(line, line.len(), &ctx).unwrap();
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn completion() {
        let mut h = DpHelper::new(false);
        h.names = vec!["double".into(), "dot".into(), "Hidden".into()];
        assert_eq!(complete(&h, "1 + dou"), (4, vec!["double".to_string()]));
        assert_eq!(
            complete(&h, "(do"),
            (1, vec!["dot".into(), "double".into()])
        );
        assert_eq!(complete(&h, ":br"), (0, vec![":browse".to_string()]));
        assert_eq!(complete(&h, "import n"), (7, vec!["nn".to_string()]));
        assert_eq!(complete(&h, "x : Hi"), (4, vec!["Hidden".to_string()]));
        assert_eq!(complete(&h, "ä do").0, 3);
        assert_eq!(complete(&h, "äx").0, 2);
    }

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
