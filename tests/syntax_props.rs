//! Property tests: no input makes the lexer or parser panic.
//!
//! Inputs are random bytes (made valid UTF-8 by lossy conversion) and random
//! sequences of token texts (which reach deeper into the grammar and its
//! error recovery). Every entry point must return, with or without
//! diagnostics, and every diagnostic span must lie inside the input.

use dp::diagnostic::Diagnostic;
use dp::syntax::{parse_expr, parse_module, parse_repl_input};
use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "rep",
    "type",
    "vocab",
    "learn",
    "param",
    "def",
    "let",
    "in",
    "if",
    "then",
    "else",
    "import",
    "true",
    "false",
    "x",
    "f",
    "_",
    "_y",
    "h'",
    "A",
    "Hidden",
    "R",
    "Window",
    "List",
    "0",
    "42",
    "0.5",
    "1e-3",
    "99999999999999999999",
    "\"s\"",
    "\"bad\\q\"",
    "\"open",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "->",
    "\\",
    "+",
    "-",
    "*",
    "/",
    "@",
    "++",
    "|>",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "&&",
    "||",
    "--c\n",
    "\n",
    "$",
    "é",
    ".",
];

fn spans_in_bounds(text: &str, diags: &[Diagnostic]) {
    for d in diags {
        for l in d.primary.iter().chain(d.secondary.iter()) {
            assert!(l.span.start <= l.span.end, "{d:?}");
            assert!(l.span.end as usize <= text.len(), "{d:?}");
        }
    }
}

fn parse_everything(text: &str) {
    let (_, d) = parse_module(0, text);
    spans_in_bounds(text, &d);
    let (_, d) = parse_expr(0, text);
    spans_in_bounds(text, &d);
    let (_, d) = parse_repl_input(0, text);
    spans_in_bounds(text, &d);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        parse_everything(&text);
    }

    #[test]
    fn random_tokens_never_panic(
        picks in proptest::collection::vec(0..TOKENS.len(), 0..60),
        glue in proptest::collection::vec(prop_oneof![Just(" "), Just(""), Just("\n")], 60),
    ) {
        let mut text = String::new();
        for (i, p) in picks.iter().enumerate() {
            text.push_str(TOKENS.get(*p).copied().unwrap_or(""));
            text.push_str(glue.get(i).copied().unwrap_or(" "));
        }
        parse_everything(&text);
    }

    #[test]
    fn mutated_programs_never_panic(cut in 0usize..400, insert in 0..TOKENS.len()) {
        let program = "vocab Word\nrep H = R[4]\nlearn cell : (H, Word) -> H\n\
                       def step (h : H) (w : Word) : H = tanh (cell (h, w))\n\
                       def f xs = fold step zeros xs |> \\h -> if sum h > 0.0 then [h] else []\n";
        let at = cut.min(program.len());
        let mut text = String::new();
        text.push_str(program.get(..at).unwrap_or(""));
        text.push(' ');
        text.push_str(TOKENS.get(insert).copied().unwrap_or(""));
        text.push(' ');
        text.push_str(program.get(at..).unwrap_or(""));
        parse_everything(&text);
        parse_everything(program.get(..at).unwrap_or(""));
    }
}
