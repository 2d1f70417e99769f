//! Lexer snapshots: tokens with their byte spans, and lexical diagnostics.

use expect_test::{expect, Expect};

use crate::diagnostic::render;
use crate::source::SourceMap;
use crate::syntax::lexer::lex;

fn check(text: &str, want: Expect) {
    let mut sources = SourceMap::new();
    let id = sources.add("lex.dp", text);
    let (tokens, diags) = lex(id, text);
    let mut out: Vec<String> = tokens
        .iter()
        .map(|(l, t, r)| format!("{l}..{r} {t:?}"))
        .collect();
    if !diags.is_empty() {
        out.push(render(&diags, &sources, false));
    }
    want.assert_eq(&out.join("\n"));
}

#[test]
fn keywords_and_names() {
    check(
        "rep type vocab learn param def let in if then else import true false\n\
         x _ _x x' foo_Bar2 letter Hidden R Window R[ Window[2]",
        expect![[r#"
            0..3 Rep
            4..8 Type
            9..14 Vocab
            15..20 Learn
            21..26 Param
            27..30 Def
            31..34 Let
            35..37 In
            38..40 If
            41..45 Then
            46..50 Else
            51..57 Import
            58..62 True
            63..68 False
            69..70 Lower("x")
            71..72 Underscore
            73..75 Lower("_x")
            76..78 Lower("x'")
            79..87 Lower("foo_Bar2")
            88..94 Lower("letter")
            95..101 Upper("Hidden")
            102..103 Upper("R")
            104..110 Upper("Window")
            111..112 Upper("R")
            112..113 LBracket
            114..120 Upper("Window")
            120..121 LBracket
            121..122 Int(2)
            122..123 RBracket"#]],
    );
}

#[test]
fn numbers() {
    check(
        "42 0.5 1e-3 2.5E+4 7e2 0 1.x 3e",
        expect![[r#"
        0..2 Int(42)
        3..6 Float(0.5)
        7..11 Float(0.001)
        12..18 Float(25000.0)
        19..22 Float(700.0)
        23..24 Int(0)
        25..26 Int(1)
        27..28 Lower("x")
        29..30 Int(3)
        30..31 Lower("e")
        [E0001] Error: unknown character `.`
           ╭─[ lex.dp:1:27 ]
           │
         1 │ 42 0.5 1e-3 2.5E+4 7e2 0 1.x 3e
           │                           ┬  
           │                           ╰── no token starts with this character
           │ 
           │ Help: numbers are written `0.5`, with digits on both sides of the point
        ───╯
    "#]],
    );
}

#[test]
fn strings() {
    check(
        r#""a \"q\" \\ \n" "" "tab\tend" "é""#,
        expect![[r#"
        0..15 Str("a \"q\" \\ \n")
        16..18 Str("")
        19..29 Str("tab\tend")
        30..34 Str("é")"#]],
    );
}

#[test]
fn symbols() {
    check(
        r"( ) [ ] , : = -> \ _ + - * / @ ++ |> == != < <= > >= && ||",
        expect![[r#"
            0..1 LParen
            2..3 RParen
            4..5 LBracket
            6..7 RBracket
            8..9 Comma
            10..11 Colon
            12..13 Equals
            14..16 Arrow
            17..18 Backslash
            19..20 Underscore
            21..22 Plus
            23..24 Minus
            25..26 Star
            27..28 Slash
            29..30 At
            31..33 PlusPlus
            34..36 Pipe
            37..39 EqEq
            40..42 NotEq
            43..44 Lt
            45..47 Le
            48..49 Gt
            50..52 Ge
            53..55 AndAnd
            56..58 OrOr"#]],
    );
}

#[test]
fn comments_and_whitespace() {
    check(
        "x -- a comment -> ignored\n  y\t--\r\nz--tail",
        expect![[r#"
        0..1 Lower("x")
        28..29 Lower("y")
        34..35 Lower("z")"#]],
    );
}

#[test]
fn unknown_characters() {
    check(
        "x $ y ## z é . w",
        expect![[r#"
        0..1 Lower("x")
        4..5 Lower("y")
        9..10 Lower("z")
        16..17 Lower("w")
        [E0001] Error: unknown character `$`
           ╭─[ lex.dp:1:3 ]
           │
         1 │ x $ y ## z é . w
           │   ┬  
           │   ╰── no token starts with this character
        ───╯
        [E0001] Error: unknown characters `##`
           ╭─[ lex.dp:1:7 ]
           │
         1 │ x $ y ## z é . w
           │       ─┬  
           │        ╰── no token starts with these characters
        ───╯
        [E0001] Error: unknown character `é`
           ╭─[ lex.dp:1:12 ]
           │
         1 │ x $ y ## z é . w
           │            ┬  
           │            ╰── no token starts with this character
        ───╯
        [E0001] Error: unknown character `.`
           ╭─[ lex.dp:1:14 ]
           │
         1 │ x $ y ## z é . w
           │              ┬  
           │              ╰── no token starts with this character
           │ 
           │ Help: numbers are written `0.5`, with digits on both sides of the point
        ───╯
    "#]],
    );
}

#[test]
fn unterminated_string() {
    check(
        "def s = \"abc\ndef t = 1",
        expect![[r#"
        0..3 Def
        4..5 Lower("s")
        6..7 Equals
        8..12 Str("abc")
        13..16 Def
        17..18 Lower("t")
        19..20 Equals
        21..22 Int(1)
        [E0002] Error: unterminated string literal
           ╭─[ lex.dp:1:9 ]
           │
         1 │ def s = "abc
           │         ──┬─  
           │           ╰─── this string has no closing `"`
           │ 
           │ Help: a string ends on the line where it starts; write a line break as `\n`
        ───╯
    "#]],
    );
}

#[test]
fn unterminated_string_at_end() {
    check(
        "\"abc \\",
        expect![[r#"
        0..6 Str("abc ")
        [E0002] Error: unterminated string literal
           ╭─[ lex.dp:1:1 ]
           │
         1 │ "abc \
           │ ───┬──  
           │    ╰──── this string has no closing `"`
           │ 
           │ Help: a string ends on the line where it starts; write a line break as `\n`
        ───╯
    "#]],
    );
}

#[test]
fn bad_escape() {
    check(
        r#"x = "a\qb\"c" y"#,
        expect![[r#"
        0..1 Lower("x")
        2..3 Equals
        4..13 Str("aqb\"c")
        14..15 Lower("y")
        [E0003] Error: unknown escape `\q` in a string
           ╭─[ lex.dp:1:7 ]
           │
         1 │ x = "a\qb\"c" y
           │       ─┬  
           │        ╰── unknown escape
           │ 
           │ Help: the escapes are `\"`, `\\`, `\n` and `\t`
        ───╯
    "#]],
    );
}

#[test]
fn integer_out_of_range() {
    check(
        "1 99999999999999999999 2 9223372036854775807",
        expect![[r#"
        0..1 Int(1)
        2..22 Int(0)
        23..24 Int(2)
        25..44 Int(9223372036854775807)
        [E0004] Error: integer literal out of range
           ╭─[ lex.dp:1:3 ]
           │
         1 │ 1 99999999999999999999 2 9223372036854775807
           │   ──────────┬─────────  
           │             ╰─────────── this does not fit in a 64-bit integer
           │ 
           │ Note: the largest integer is 9223372036854775807
        ───╯
    "#]],
    );
}
