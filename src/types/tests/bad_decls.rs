//! Programs with name, declaration or resolution errors: their rendered
//! diagnostics.

use expect_test::expect;

use super::bad::{bad, with_prelude};

#[test]
fn unknown_name_with_suggestion() {
    bad(
        &with_prelude("def f (h : Hidden) = tahn h\n"),
        expect![[r#"
        [E0101] Error: unknown name `tahn`
            ╭─[ test.dp:10:22 ]
            │
         10 │ def f (h : Hidden) = tahn h
            │                      ──┬─  
            │                        ╰─── not defined in this scope
            │ 
            │ Help: did you mean `tanh`?
        ────╯
    "#]],
    );
}

#[test]
fn unknown_type_with_suggestion() {
    bad(
        &with_prelude("def f (h : Hiden) = h\n"),
        expect![[r#"
        [E0102] Error: unknown type `Hiden`
            ╭─[ test.dp:10:12 ]
            │
         10 │ def f (h : Hiden) = h
            │            ──┬──  
            │              ╰──── not a type, rep or vocabulary in scope
            │ 
            │ Help: did you mean `Hidden`?
        ────╯
    "#]],
    );
}

#[test]
fn duplicate_def() {
    bad(
        "def f = 1\ndef f = 2\n",
        expect![[r#"
        [E0103] Error: `f` is defined more than once
           ╭─[ test.dp:2:5 ]
           │
         1 │ def f = 1
           │     ┬  
           │     ╰── first defined here
         2 │ def f = 2
           │     ┬  
           │     ╰── the def `f` is defined again here
        ───╯
    "#]],
    );
}

#[test]
fn duplicate_type() {
    bad(
        "rep H = R[2]\nvocab H\n",
        expect![[r#"
        [E0103] Error: `H` is defined more than once
           ╭─[ test.dp:2:7 ]
           │
         1 │ rep H = R[2]
           │     ┬  
           │     ╰── first defined here
         2 │ vocab H
           │       ┬  
           │       ╰── the type `H` is defined again here
        ───╯
    "#]],
    );
}

#[test]
fn direct_recursion() {
    bad(
        "def loop x = loop x\n",
        expect![[r#"
        [E0104] Error: definitions are not recursive, but this is a cycle: loop -> loop
           ╭─[ test.dp:1:14 ]
           │
         1 │ def loop x = loop x
           │              ──┬─  
           │                ╰─── `loop` uses itself here
           │ 
           │ Help: dp programs are total: traverse structure with `fold`, `mapAccumL`, `cata` or `iterate` instead of recursion
           │ 
           │ Note: a def may only use defs that do not lead back to it, so every program terminates
        ───╯
    "#]],
    );
}

#[test]
fn mutual_recursion() {
    bad(
        &with_prelude("def model ws = step ws\ndef step ws = model ws\n"),
        expect![[r#"
            [E0104] Error: definitions are not recursive, but this is a cycle: model -> step -> model
                ╭─[ test.dp:10:16 ]
                │
             10 │ def model ws = step ws
                │                ──┬─  
                │                  ╰─── `model` uses `step` here
             11 │ def step ws = model ws
                │               ──┬──  
                │                 ╰──── `step` uses `model` here
                │ 
                │ Help: dp programs are total: traverse structure with `fold`, `mapAccumL`, `cata` or `iterate` instead of recursion
                │ 
                │ Note: a def may only use defs that do not lead back to it, so every program terminates
            ────╯
        "#]],
    );
}

#[test]
fn learn_list_domain() {
    bad(
        &with_prelude("learn bad : List Word -> Hidden\n"),
        expect![[r#"
        [E0208] Error: `List Word` cannot be the input of a learned piece
            ╭─[ test.dp:10:13 ]
            │
         10 │ learn bad : List Word -> Hidden
            │             ────┬────  
            │                 ╰────── not a representation type or a vocabulary
            │ 
            │ Help: map over the structure with a combinator and learn a function of its elements
            │ 
            │ Note: the input of `learn f : A -> B` is a representation type (Float, R[..], a rep, Scores v), a tuple of them, a `Window[..] r`, or a vocabulary (an embedding)
        ────╯
    "#]],
    );
}

#[test]
fn learn_bool_codomain() {
    bad(
        &with_prelude("learn bad : Hidden -> Bool\n"),
        expect![[r#"
        [E0208] Error: `Bool` cannot be the output of a learned piece
            ╭─[ test.dp:10:23 ]
            │
         10 │ learn bad : Hidden -> Bool
            │                       ──┬─  
            │                         ╰─── `Bool` is not a representation type
            │ 
            │ Note: the output of `learn f : A -> B` is a representation type, `Scores v`, or a tuple of representation types
        ────╯
    "#]],
    );
}

#[test]
fn learn_not_a_function() {
    bad(
        &with_prelude("learn bad : Hidden\n"),
        expect![[r#"
        [E0208] Error: a learned piece is a function `A -> B`, not `Hidden`
            ╭─[ test.dp:10:13 ]
            │
         10 │ learn bad : Hidden
            │             ───┬──  
            │                ╰──── not a function type
            │ 
            │ Note: the input of `learn f : A -> B` is a representation type (Float, R[..], a rep, Scores v), a tuple of them, a `Window[..] r`, or a vocabulary (an embedding)
        ────╯
    "#]],
    );
}

#[test]
fn param_not_representation() {
    bad(
        "param p : List Float\n",
        expect![[r#"
        [E0208] Error: a param is a learned tensor; `List Float` is not a representation of known size
           ╭─[ test.dp:1:11 ]
           │
         1 │ param p : List Float
           │           ─────┬────  
           │                ╰────── not a representation of known size
           │ 
           │ Note: a param's type is Float, R[..], a rep, a closed `Scores v` or a tuple of these
        ───╯
    "#]],
    );
}

#[test]
fn empty_vocab() {
    bad(
        "vocab V = []\n",
        expect![[r#"
        [E0107] Error: the closed vocabulary `V` has no symbols
           ╭─[ test.dp:1:1 ]
           │
         1 │ vocab V = []
           │ ──────┬─────  
           │       ╰─────── empty vocabulary
           │ 
           │ Help: list its symbols, e.g. `vocab V = ["a", "b"]`, or write `vocab V` for an open vocabulary
        ───╯
    "#]],
    );
}

#[test]
fn duplicate_vocab_symbol() {
    bad(
        "vocab V = [\"a\", \"b\", \"a\"]\n",
        expect![[r#"
        [E0107] Error: the symbol "a" appears twice in vocabulary `V`
           ╭─[ test.dp:1:22 ]
           │
         1 │ vocab V = ["a", "b", "a"]
           │            ─┬─       ─┬─  
           │             │         ╰─── duplicate symbol
           │             │             
           │             ╰───────────── first listed here
        ───╯
    "#]],
    );
}

#[test]
fn alias_cycle() {
    bad(
        "type A = List B\ntype B = (A, Int)\n",
        expect![[r#"
            [E0104] Error: type declarations refer to each other in a cycle: A -> B -> A
               ╭─[ test.dp:2:11 ]
               │
             1 │ type A = List B
               │               ┬  
               │               ╰── `B` is used here
             2 │ type B = (A, Int)
               │           ┬  
               │           ╰── `A` refers back to itself here
               │ 
               │ Help: use `List`, `Tree`, `Rose` or `Grid` for recursive structure
               │ 
               │ Note: reps and type aliases are expanded, so they cannot be recursive
            ───╯
        "#]],
    );
}

#[test]
fn duplicate_binding() {
    bad(
        "def f (x, x) = x\n",
        expect![[r#"
        [E0108] Error: `x` is bound twice in one pattern
           ╭─[ test.dp:1:11 ]
           │
         1 │ def f (x, x) = x
           │        ┬  ┬  
           │        │  ╰── bound again here
           │        │     
           │        ╰───── first bound here
           │ 
           │ Help: give the second one another name, or `_` if it is unused
        ───╯
    "#]],
    );
}

#[test]
fn scores_of_non_vocab() {
    bad(
        "rep H = R[2]\ndef f (s : Scores H) = s\n",
        expect![[r#"
        [E0209] Error: `Scores` takes a vocabulary, not `H`
           ╭─[ test.dp:2:19 ]
           │
         2 │ def f (s : Scores H) = s
           │                   ┬  
           │                   ╰── not a vocabulary
           │ 
           │ Note: `Scores v` holds one real score per symbol of the vocabulary `v`
        ───╯
    "#]],
    );
}

#[test]
fn wrong_type_arity() {
    bad(
        "def f (xs : List) = xs\n",
        expect![[r#"
        [E0209] Error: `List` takes one type argument, e.g. `List Word`
           ╭─[ test.dp:1:13 ]
           │
         1 │ def f (xs : List) = xs
           │             ──┬─  
           │               ╰─── 0 argument(s) given
        ───╯
    "#]],
    );
}

#[test]
fn bad_dimension() {
    bad(
        "def f (x : R[0]) = x\n",
        expect![[r#"
        [E0209] Error: dimension 0 is not allowed
           ╭─[ test.dp:1:14 ]
           │
         1 │ def f (x : R[0]) = x
           │              ┬  
           │              ╰── a dimension must be at least 1
        ───╯
    "#]],
    );
}

#[test]
fn errors_in_several_defs_are_all_reported() {
    bad(
        "def a = undefined1\ndef b = 1 + true\ndef c (x : Int) = x\ndef d = c 1.5\n",
        expect![[r#"
            [E0101] Error: unknown name `undefined1`
               ╭─[ test.dp:1:9 ]
               │
             1 │ def a = undefined1
               │         ─────┬────  
               │              ╰────── not defined in this scope
            ───╯
            [E0204] Error: `Bool` is not a number
               ╭─[ test.dp:2:13 ]
               │
             2 │ def b = 1 + true
               │             ──┬─  
               │               ╰─── `+` on `Bool`
               │ 
               │ Note: arithmetic and elementwise builtins such as `tanh` need Float, R[..], a rep, Scores v or a tuple of these
            ───╯
            [E0201] Error: expected `Int`, found `Float`
               ╭─[ test.dp:4:11 ]
               │
             4 │ def d = c 1.5
               │         ┬ ─┬─  
               │         │  ╰─── this has type `Float`
               │         │      
               │         ╰────── `c` expects `Int` here
               │ 
               │ Help: Int and Float do not mix: convert an Int with `float`
            ───╯
        "#]],
    );
}

#[test]
fn param_init_mismatch() {
    bad(
        "rep H = R[2]\nparam p : H = [1, 2, 3]\n",
        expect![[r#"
            [E0206] Error: this tensor literal has 3 numbers, `H` needs 2
               ╭─[ test.dp:2:15 ]
               │
             2 │ param p : H = [1, 2, 3]
               │               ────┬────  
               │                   ╰────── 3 numbers
            ───╯
        "#]],
    );
}

#[test]
fn type_variable_in_learn() {
    bad(
        "learn f : a -> R[2]\n",
        expect![[r#"
        [E0209] Error: type variable `a` is not allowed here
           ╭─[ test.dp:1:11 ]
           │
         1 │ learn f : a -> R[2]
           │           ┬  
           │           ╰── a type variable
           │ 
           │ Note: only the annotations of a `def` may mention type variables; reps, aliases, `learn` and `param` need concrete types
        ───╯
    "#]],
    );
}
