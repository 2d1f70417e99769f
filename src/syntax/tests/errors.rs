//! Bad programs and their diagnostics, rendered without colour.

use expect_test::{expect, Expect};

use super::{ex, module, repl};

fn check(text: &str, want: Expect) {
    want.assert_eq(&module(text));
}

#[test]
fn missing_operand() {
    check(
        "def f x = x +\ndef g = 1",
        expect![[r#"
        (def g [] _ 1)
        [E0005] Error: expected an expression after `+`
           ╭─[ test.dp:2:1 ]
           │
         2 │ def g = 1
           │ ─┬─  
           │  ╰─── unexpected `def`
        ───╯
    "#]],
    );
}

#[test]
fn missing_operand_at_end() {
    check(
        "def f x = x *",
        expect![[r#"
        [E0006] Error: expected an expression after `*`
           ╭─[ test.dp:1:14 ]
           │
         1 │ def f x = x *
           │              │ 
           │              ╰─ the input ends here
        ───╯
    "#]],
    );
}

#[test]
fn missing_equals_in_def() {
    check(
        "def f x y 1",
        expect![[r#"
        [E0005] Error: expected `=` after the parameters of `def f`
           ╭─[ test.dp:1:11 ]
           │
         1 │ def f x y 1
           │           ┬  
           │           ╰── unexpected number `1`
           │ 
           │ Help: a definition is written `def f x y = ...`, optionally with types: `def f (x : T) : R = ...`
        ───╯
    "#]],
    );
}

#[test]
fn missing_name_after_def() {
    check(
        "def = 1",
        expect![[r#"
        [E0005] Error: expected a name after `def`
           ╭─[ test.dp:1:5 ]
           │
         1 │ def = 1
           │     ┬  
           │     ╰── unexpected `=`
        ───╯
    "#]],
    );
}

#[test]
fn unclosed_paren() {
    check(
        "def f x = g (x + 1\ndef h = 2",
        expect![[r#"
        (def h [] _ 2)
        [E0005] Error: unclosed `(`
           ╭─[ test.dp:2:1 ]
           │
         1 │ def f x = g (x + 1
           │             ┬  
           │             ╰── this `(` is never closed
         2 │ def h = 2
           │ ─┬─  
           │  ╰─── expected `)` before this (unexpected `def`)
        ───╯
    "#]],
    );
}

#[test]
fn unclosed_bracket_at_end() {
    check(
        "def xs = [1, 2",
        expect![[r#"
        [E0006] Error: unclosed `[`
           ╭─[ test.dp:1:15 ]
           │
         1 │ def xs = [1, 2
           │          ┬    │ 
           │          │    ╰─ the input ends before a `]`
           │          │      
           │          ╰────── this `[` is never closed
        ───╯
    "#]],
    );
}

#[test]
fn unmatched_closer() {
    check(
        "def f = x)",
        expect![[r#"
        (def f [] _ x)
        [E0005] Error: unmatched `)`
           ╭─[ test.dp:1:10 ]
           │
         1 │ def f = x)
           │          ┬  
           │          ╰── this `)` has no matching `(`
        ───╯
    "#]],
    );
}

#[test]
fn not_a_declaration() {
    check(
        "x = 1",
        expect![[r#"
        [E0005] Error: expected a declaration (`def`, `rep`, `vocab`, `learn`, `param`, `type`, `import`)
           ╭─[ test.dp:1:1 ]
           │
         1 │ x = 1
           │ ┬  
           │ ╰── unexpected name `x`
           │ 
           │ Help: a definition starts with `def`: `def x ... = ...`
        ───╯
    "#]],
    );
}

#[test]
fn several_errors_in_one_file() {
    check(
        "def a = 1 +\ndef b = 2\nrep = R[2]\ndef c = (3 ]\nlearn f : -> A\ndef d = 4",
        expect![[r#"
            (def b [] _ 2)
            (def d [] _ 4)
            [E0005] Error: expected an expression after `+`
               ╭─[ test.dp:2:1 ]
               │
             2 │ def b = 2
               │ ─┬─  
               │  ╰─── unexpected `def`
            ───╯
            [E0005] Error: expected a type name after `rep`
               ╭─[ test.dp:3:5 ]
               │
             3 │ rep = R[2]
               │     ┬  
               │     ╰── unexpected `=`
            ───╯
            [E0005] Error: unmatched `]`
               ╭─[ test.dp:4:12 ]
               │
             4 │ def c = (3 ]
               │            ┬  
               │            ╰── this `]` has no matching `[`
            ───╯
            [E0005] Error: expected a type after `:`
               ╭─[ test.dp:5:11 ]
               │
             5 │ learn f : -> A
               │           ─┬  
               │            ╰── unexpected `->`
            ───╯
        "#]],
    );
}

#[test]
fn missing_else() {
    check(
        "def f c = if c then 1\ndef g = 2",
        expect![[r#"
        (def g [] _ 2)
        [E0005] Error: expected `else` after `1`
           ╭─[ test.dp:2:1 ]
           │
         1 │ def f c = if c then 1
           │           ─┬  
           │            ╰── this `if` has no `else`
         2 │ def g = 2
           │ ─┬─  
           │  ╰─── unexpected `def`
        ───╯
    "#]],
    );
}

#[test]
fn missing_in() {
    check(
        "def f = let x = 1 x",
        expect![[r#"
        [E0006] Error: expected `in` after `x`
           ╭─[ test.dp:1:20 ]
           │
         1 │ def f = let x = 1 x
           │         ─┬─        │ 
           │          │         ╰─ the input ends here
           │          │           
           │          ╰─────────── this `let` has no `in`
        ───╯
    "#]],
    );
}

#[test]
fn chained_comparison() {
    check(
        "def f a b c = a < b < c",
        expect![[r#"
        [E0005] Error: comparison operators cannot be chained
           ╭─[ test.dp:1:21 ]
           │
         1 │ def f a b c = a < b < c
           │                     ┬  
           │                     ╰── a second comparison `<`
           │ 
           │ Help: add parentheses, e.g. `(a < b) == c`, or combine with `&&`
        ───╯
    "#]],
    );
}

#[test]
fn missing_arrow_in_lambda() {
    check(
        r"def f = \x y . x",
        expect![[r#"
        [E0001] Error: unknown character `.`
           ╭─[ test.dp:1:14 ]
           │
         1 │ def f = \x y . x
           │              ┬  
           │              ╰── no token starts with this character
           │ 
           │ Help: numbers are written `0.5`, with digits on both sides of the point
        ───╯
        [E0006] Error: expected a pattern or `->` after `x`
           ╭─[ test.dp:1:17 ]
           │
         1 │ def f = \x y . x
           │                 │ 
           │                 ╰─ the input ends here
        ───╯
    "#]],
    );
}

#[test]
fn bad_tensor_dimension() {
    check(
        "rep H = R[a]",
        expect![[r#"
        [E0005] Error: expected a number after `R[`
           ╭─[ test.dp:1:11 ]
           │
         1 │ rep H = R[a]
           │           ┬  
           │           ╰── unexpected name `a`
        ───╯
    "#]],
    );
}

#[test]
fn missing_type() {
    check(
        "learn f :\ndef g = 1",
        expect![[r#"
        (def g [] _ 1)
        [E0005] Error: expected a type after `:`
           ╭─[ test.dp:2:1 ]
           │
         2 │ def g = 1
           │ ─┬─  
           │  ╰─── unexpected `def`
        ───╯
    "#]],
    );
}

#[test]
fn single_equals_in_expression() {
    check(
        "def f x = x = 1",
        expect![[r#"
        (def f [x] _ x)
        [E0005] Error: unexpected `=`
           ╭─[ test.dp:1:13 ]
           │
         1 │ def f x = x = 1
           │             ┬  
           │             ╰── expected an operator, an argument or the next declaration
           │ 
           │ Help: `==` compares values; `=` only appears in declarations and `let`
        ───╯
    "#]],
    );
}

#[test]
fn vocab_of_names() {
    check(
        "vocab L = [neg, pos]",
        expect![[r#"
        [E0005] Error: expected a string or `]` after `[`
           ╭─[ test.dp:1:12 ]
           │
         1 │ vocab L = [neg, pos]
           │            ─┬─  
           │             ╰─── unexpected name `neg`
        ───╯
    "#]],
    );
}

#[test]
fn type_name_as_value() {
    check(
        "def f = g Hidden",
        expect![[r#"
        (def f [] _ g)
        [E0005] Error: unexpected type name `Hidden`
           ╭─[ test.dp:1:11 ]
           │
         1 │ def f = g Hidden
           │           ───┬──  
           │              ╰──── expected an operator, an argument or the next declaration
           │ 
           │ Help: type names cannot be used as values; vocabulary symbols are strings, e.g. "pos"
        ───╯
    "#]],
    );
}

#[test]
fn error_inside_parens_is_contained() {
    check(
        "def f = (1 + ) * 2\ndef g = 3",
        expect![[r#"
        (def f [] _ (* <error> 2))
        (def g [] _ 3)
        [E0005] Error: expected an expression after `+`
           ╭─[ test.dp:1:14 ]
           │
         1 │ def f = (1 + ) * 2
           │              ┬  
           │              ╰── unexpected `)`
        ───╯
    "#]],
    );
}

#[test]
fn lexical_and_syntax_errors_together() {
    check(
        "def f = 1 $ 2\ndef s = \"abc\ndef g = (",
        expect![[r#"
        (def f [] _ (1 2))
        (def s [] _ "abc")
        [E0001] Error: unknown character `$`
           ╭─[ test.dp:1:11 ]
           │
         1 │ def f = 1 $ 2
           │           ┬  
           │           ╰── no token starts with this character
        ───╯
        [E0002] Error: unterminated string literal
           ╭─[ test.dp:2:9 ]
           │
         2 │ def s = "abc
           │         ──┬─  
           │           ╰─── this string has no closing `"`
           │ 
           │ Help: a string ends on the line where it starts; write a line break as `\n`
        ───╯
        [E0006] Error: unclosed `(`
           ╭─[ test.dp:3:10 ]
           │
         3 │ def g = (
           │         ┬│ 
           │         │╰─ the input ends before a `)`
           │         │  
           │         ╰── this `(` is never closed
        ───╯
    "#]],
    );
}

#[test]
fn expression_errors() {
    expect![[r#"
        <none>
        [E0006] Error: expected an expression
           ╭─[ <eval>:1:1 ]
           │
         1 │ 
           │ │ 
           │ ╰─ the input ends here
        ───╯
    "#]]
    .assert_eq(&ex(""));
    expect![[r#"
        <none>
        [E0006] Error: expected an expression after `+`
           ╭─[ <eval>:1:4 ]
           │
         1 │ 1 +
           │    │ 
           │    ╰─ the input ends here
        ───╯
    "#]]
    .assert_eq(&ex("1 +"));
    expect![[r#"
        <none>
        [E0005] Error: unmatched `)`
           ╭─[ <eval>:1:4 ]
           │
         1 │ f x)
           │    ┬  
           │    ╰── this `)` has no matching `(`
        ───╯
    "#]]
    .assert_eq(&ex("f x)"));
    expect![[r#"
        <none>
        [E0006] Error: unclosed `(`
           ╭─[ <eval>:1:6 ]
           │
         1 │ (a, b
           │ ┬    │ 
           │ │    ╰─ the input ends before a `)`
           │ │      
           │ ╰────── this `(` is never closed
        ───╯
    "#]]
    .assert_eq(&ex("(a, b"));
    expect![[r#"
        <none>
        [E0005] Error: expected an expression
           ╭─[ <eval>:1:1 ]
           │
         1 │ def f = 1
           │ ─┬─  
           │  ╰─── unexpected `def`
        ───╯
    "#]]
    .assert_eq(&ex("def f = 1"));
}

#[test]
fn repl_errors() {
    expect![[r#"
        decls: 
        [E0006] Error: expected an expression after `=`
           ╭─[ <repl:1>:1:8 ]
           │
         1 │ def f =
           │        │ 
           │        ╰─ the input ends here
        ───╯
    "#]]
    .assert_eq(&repl("def f ="));
    expect![[r#"
        empty
        [E0005] Error: expected an expression after `+`
           ╭─[ <repl:1>:1:5 ]
           │
         1 │ 1 + * 2
           │     ┬  
           │     ╰── unexpected `*`
        ───╯
    "#]]
    .assert_eq(&repl("1 + * 2"));
}

#[test]
fn assorted_small_mistakes() {
    let cases = [
        "def f (x : ) = x",
        "rep H = R[2",
        "def f = [1, 2 3]",
        "param p : Float =",
        "learn f : A B ->",
        "import 3",
        "def f c = if c then 1 else",
        "def f = g (1, )",
        r"def f = \ -> x",
        "type T = Window[] a",
        "def f = let = 1 in 2",
        "vocab L = [\"a\" \"b\"]",
        "def f (x, y = x",
        "def f = a ++",
        "def f = (a : Float -> )",
    ];
    let out: Vec<String> = cases.iter().map(|c| module(c)).collect();
    expect![[r#"
        [E0005] Error: expected a type after `:`
           ╭─[ test.dp:1:12 ]
           │
         1 │ def f (x : ) = x
           │            ┬  
           │            ╰── unexpected `)`
        ───╯

        [E0006] Error: unclosed `[`
           ╭─[ test.dp:1:12 ]
           │
         1 │ rep H = R[2
           │         ─┬ │ 
           │          │ ╰─ the input ends before a `]`
           │          │   
           │          ╰─── this `[` is never closed
        ───╯

        (def f [] _ [1 (2 3)])
        [E0006] Error: expected an expression after `=`
           ╭─[ test.dp:1:18 ]
           │
         1 │ param p : Float =
           │                  │ 
           │                  ╰─ the input ends here
        ───╯

        [E0006] Error: expected a type after `->`
           ╭─[ test.dp:1:17 ]
           │
         1 │ learn f : A B ->
           │                 │ 
           │                 ╰─ the input ends here
        ───╯

        [E0005] Error: expected a name or a string after `import`
           ╭─[ test.dp:1:8 ]
           │
         1 │ import 3
           │        ┬  
           │        ╰── unexpected number `3`
        ───╯

        [E0006] Error: expected an expression after `else`
           ╭─[ test.dp:1:27 ]
           │
         1 │ def f c = if c then 1 else
           │                           │ 
           │                           ╰─ the input ends here
        ───╯

        (def f [] _ (g <error>))
        [E0005] Error: expected an expression after `,`
           ╭─[ test.dp:1:15 ]
           │
         1 │ def f = g (1, )
           │               ┬  
           │               ╰── unexpected `)`
        ───╯

        [E0005] Error: expected a pattern after `\`
           ╭─[ test.dp:1:11 ]
           │
         1 │ def f = \ -> x
           │           ─┬  
           │            ╰── unexpected `->`
        ───╯

        [E0005] Error: expected a number after `Window[`
           ╭─[ test.dp:1:17 ]
           │
         1 │ type T = Window[] a
           │                 ┬  
           │                 ╰── unexpected `]`
        ───╯

        [E0005] Error: expected a pattern after `let`
           ╭─[ test.dp:1:13 ]
           │
         1 │ def f = let = 1 in 2
           │             ┬  
           │             ╰── unexpected `=`
        ───╯

        [E0005] Error: expected `,` or `]` after `"a"`
           ╭─[ test.dp:1:16 ]
           │
         1 │ vocab L = ["a" "b"]
           │                ─┬─  
           │                 ╰─── unexpected string literal
        ───╯

        [E0005] Error: unclosed `(`
           ╭─[ test.dp:1:13 ]
           │
         1 │ def f (x, y = x
           │       ┬     ┬  
           │       │     ╰── expected `)` before this (unexpected `=`)
           │       │        
           │       ╰──────── this `(` is never closed
        ───╯

        [E0006] Error: expected an expression after `++`
           ╭─[ test.dp:1:13 ]
           │
         1 │ def f = a ++
           │             │ 
           │             ╰─ the input ends here
        ───╯

        (def f [] _ <error>)
        [E0005] Error: expected a type after `->`
           ╭─[ test.dp:1:23 ]
           │
         1 │ def f = (a : Float -> )
           │                       ┬  
           │                       ╰── unexpected `)`
        ───╯
    "#]]
    .assert_eq(&out.join("\n"));
}
