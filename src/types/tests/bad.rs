//! Programs that do not check: their rendered diagnostics.

use expect_test::{expect, Expect};

use super::check;

fn bad(src: &str, want: Expect) {
    want.assert_eq(&check(src));
}

const PRELUDE: &str = r#"
vocab Word
vocab Label = ["neg", "pos"]
rep WordVec = R[32]
rep Hidden = R[64]
rep A = R[4]
rep B = R[4]
learn embed : Word -> WordVec
learn cell : (Hidden, WordVec) -> Hidden
"#;

fn with_prelude(body: &str) -> String {
    format!("{PRELUDE}{body}")
}

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
fn nominal_rep_mismatch_same_shape() {
    bad(
        "rep A = R[4]\nrep B = R[4]\nlearn f : A -> A\ndef g (b : B) = f b\n",
        expect![[r#"
            [E0202] Error: expected `A` (R[4]), found `B` (R[4])
               ╭─[ test.dp:4:19 ]
               │
             4 │ def g (b : B) = f b
               │                 ┬ ┬  
               │                 │ ╰── this has type `B`
               │                 │    
               │                 ╰──── `f` expects `A` here
               │ 
               │ Help: convert with a learned piece, e.g. `learn proj : B -> A`
               │ 
               │ Note: reps are nominal: data in another representation is meaningless to the layer
            ───╯
        "#]],
    );
}

#[test]
fn rep_mismatch_different_shapes() {
    bad(
        &with_prelude("def step (h : Hidden) (w : Word) : Hidden = cell (embed w, h)\n"),
        expect![[r#"
            [E0202] Error: expected `Hidden` (R[64]), found `WordVec` (R[32])
                ╭─[ test.dp:10:51 ]
                │
             10 │ def step (h : Hidden) (w : Word) : Hidden = cell (embed w, h)
                │                                             ──┬─  ───┬───  
                │                                               │      ╰───── this has type `WordVec`
                │                                               │            
                │                                               ╰──────────── `cell` expects `(Hidden, WordVec)` here
                │ 
                │ Help: convert with a learned piece, e.g. `learn proj : WordVec -> Hidden`
                │ 
                │ Note: reps are nominal: data in another representation is meaningless to the layer
            ────╯
            [E0202] Error: expected `WordVec` (R[32]), found `Hidden` (R[64])
                ╭─[ test.dp:10:60 ]
                │
             10 │ def step (h : Hidden) (w : Word) : Hidden = cell (embed w, h)
                │                                             ──┬─           ┬  
                │                                               │            ╰── this has type `Hidden`
                │                                               │               
                │                                               ╰─────────────── `cell` expects `(Hidden, WordVec)` here
                │ 
                │ Help: convert with a learned piece, e.g. `learn proj : Hidden -> WordVec`
                │ 
                │ Note: reps are nominal: data in another representation is meaningless to the layer
            ────╯
        "#]],
    );
}

#[test]
fn rep_versus_raw_tensor() {
    bad(
        "rep A = R[4]\ndef f (x : R[4]) : A = x\n",
        expect![[r#"
        [E0202] Error: expected `A` (R[4]), found `R[4]`
           ╭─[ test.dp:2:24 ]
           │
         2 │ def f (x : R[4]) : A = x
           │                    ┬   ┬  
           │                    │   ╰── this has type `R[4]`
           │                    │      
           │                    ╰────── the declared result type
           │ 
           │ Help: convert with a learned piece, e.g. `learn proj : R[4] -> A`
           │ 
           │ Note: reps are nominal: data in another representation is meaningless to the layer
        ───╯
    "#]],
    );
}

#[test]
fn matmul_shape_mismatch() {
    bad(
        "def f (m : R[2, 3]) (v : R[4]) = m @ v\n",
        expect![[r#"
        [E0206] Error: `R[2, 3] @ R[4]`: the inner dimensions 3 and 4 differ
           ╭─[ test.dp:1:34 ]
           │
         1 │ def f (m : R[2, 3]) (v : R[4]) = m @ v
           │                                  ┬─┬─┬  
           │                                  │ ╰──── shapes do not fit
           │                                  │   │  
           │                                  ╰────── this has 3 columns
           │                                      │  
           │                                      ╰── this has 4 rows
           │ 
           │ Note: `R[m, n] @ R[n]` is `R[m]` and `R[m, n] @ R[n, p]` is `R[m, p]`
        ───╯
    "#]],
    );
}

#[test]
fn matmul_on_rep() {
    bad(
        "rep A = R[4, 4]\ndef f (m : A) (v : R[4]) = m @ v\n",
        expect![[r#"
        [E0201] Error: `@` works on raw tensors, not on the rep `A` (R[4, 4])
           ╭─[ test.dp:2:28 ]
           │
         2 │ def f (m : A) (v : R[4]) = m @ v
           │                            ┬  
           │                            ╰── this has type `A`
           │ 
           │ Help: use a learned piece (`learn f : A -> B`) to map between reps
           │ 
           │ Note: reps are nominal; `@` is the matrix product of raw `R[..]` tensors
        ───╯
    "#]],
    );
}

#[test]
fn matmul_unknown_shapes() {
    bad(
        "def f m v = m @ v\n",
        expect![[r#"
        [E0210] Error: `@` needs both shapes known
           ╭─[ test.dp:1:13 ]
           │
         1 │ def f m v = m @ v
           │             ──┬──  
           │               ╰──── the shapes of these operands are not known here
           │ 
           │ Help: annotate the operands, e.g. `(w : R[4, 3]) @ (x : R[3])`
        ───╯
    "#]],
    );
}

#[test]
fn tensor_literal_length() {
    bad(
        "def m = ([[1, 2], [3, 4, 5]] : R[2, 2])\n",
        expect![[r#"
        [E0206] Error: this row has 3 elements, but `R[2, 2]` needs 2
           ╭─[ test.dp:1:19 ]
           │
         1 │ def m = ([[1, 2], [3, 4, 5]] : R[2, 2])
           │                   ────┬────  
           │                       ╰────── 3 elements
        ───╯
    "#]],
    );
}

#[test]
fn tensor_literal_not_number() {
    bad(
        "def m = ([1, true] : R[2])\n",
        expect![[r#"
        [E0201] Error: a tensor literal holds only numbers
           ╭─[ test.dp:1:14 ]
           │
         1 │ def m = ([1, true] : R[2])
           │              ──┬─  
           │                ╰─── not a number literal
           │ 
           │ Note: this list literal is a tensor literal because `R[2]` is expected
        ───╯
    "#]],
    );
}

#[test]
fn int_plus_float() {
    bad(
        "def f (n : Int) (x : Float) = n + x\n",
        expect![[r#"
        [E0201] Error: `+` cannot mix `Int` and `Float`
           ╭─[ test.dp:1:35 ]
           │
         1 │ def f (n : Int) (x : Float) = n + x
           │                                   ┬  
           │                                   ╰── this has type `Float`
           │ 
           │ Help: convert the Int with `float`, e.g. `float n * x`
           │ 
           │ Note: `Int` is discrete and never differentiated; it has its own arithmetic
        ───╯
    "#]],
    );
}

#[test]
fn arithmetic_on_list() {
    bad(
        &with_prelude("def f (ws : List Word) = ws + ws\n"),
        expect![[r#"
        [E0204] Error: `List Word` is not a representation type
            ╭─[ test.dp:10:26 ]
            │
         10 │ def f (ws : List Word) = ws + ws
            │                          ─┬  
            │                           ╰── this has type `List Word`
            │ 
            │ Note: arithmetic and elementwise builtins such as `tanh` need Float, R[..], a rep, Scores v or a tuple of these
        ────╯
    "#]],
    );
}

#[test]
fn tanh_on_list() {
    bad(
        &with_prelude("def f (ws : List Word) = tanh ws\n"),
        expect![[r#"
        [E0204] Error: expected a representation type, found `List Word`
            ╭─[ test.dp:10:31 ]
            │
         10 │ def f (ws : List Word) = tanh ws
            │                          ──┬─ ─┬  
            │                            │   ╰── this has type `List Word`
            │                            │      
            │                            ╰────── `tanh` needs a representation type here
        ────╯
    "#]],
    );
}

#[test]
fn non_bool_condition() {
    bad(
        "def f (x : Int) = if x then 1 else 2\n",
        expect![[r#"
        [E0201] Error: expected `Bool`, found `Int`
           ╭─[ test.dp:1:22 ]
           │
         1 │ def f (x : Int) = if x then 1 else 2
           │                      ┬  
           │                      ╰── this has type `Int`
        ───╯
    "#]],
    );
}

#[test]
fn branch_mismatch() {
    bad(
        "def f (b : Bool) = if b then 1 else true\n",
        expect![[r#"
        [E0201] Error: expected a number, found `Bool`
           ╭─[ test.dp:1:37 ]
           │
         1 │ def f (b : Bool) = if b then 1 else true
           │                              ┬      ──┬─  
           │                              │        ╰─── this has type `Bool`
           │                              │            
           │                              ╰──────────── the `then` branch is a number
        ───╯
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
fn window_size_unknown() {
    bad(
        "rep E = R[2]\ndef f (xs : List E) = windowMap (\\w -> sum w) xs\n",
        expect![[r#"
            [E0207] Error: the window size of the function given to `windowMap` is not known
               ╭─[ test.dp:2:23 ]
               │
             2 │ def f (xs : List E) = windowMap (\w -> sum w) xs
               │                       ────┬────  
               │                           ╰────── the size of the window cannot be inferred here
               │ 
               │ Help: annotate the window: `\(w : Window[3] Word) -> ...`
               │ 
               │ Note: `windowMap` takes the window size from its function's parameter type
            ───╯
        "#]],
    );
}

#[test]
fn window_wrong_dims() {
    bad(
        "rep E = R[2]\ndef f (xs : List E) = windowMap (\\(w : Window[2, 2] E) -> sum w) xs\n",
        expect![[r#"
            [E0207] Error: the function given to `windowMap` must take a `Window[k] a`, but it takes `Window[2, 2] E`
               ╭─[ test.dp:2:23 ]
               │
             2 │ def f (xs : List E) = windowMap (\(w : Window[2, 2] E) -> sum w) xs
               │                       ────┬────  
               │                           ╰────── `windowMap` needs a function of a `Window[k] a`
               │ 
               │ Help: annotate the window: `\(w : Window[3] Word) -> ...`
            ───╯
        "#]],
    );
}

#[test]
fn unknown_closed_vocab_symbol() {
    bad(
        &with_prelude("def l = (\"neutral\" : Label)\n"),
        expect![[r#"
        [E0211] Error: "neutral" is not a symbol of the vocabulary `Label`
            ╭─[ test.dp:10:10 ]
            │
         10 │ def l = ("neutral" : Label)
            │          ────┬────  
            │              ╰────── not in `Label`
            │ 
            │ Note: `Label` has the symbols "neg", "pos"
        ────╯
    "#]],
    );
}

#[test]
fn ambiguous_string() {
    bad(
        "def s = \"a\"\n",
        expect![[r#"
        [E0210] Error: cannot tell which vocabulary "a" belongs to
           ╭─[ test.dp:1:9 ]
           │
         1 │ def s = "a"
           │         ─┬─  
           │          ╰─── a symbol of an unknown vocabulary
           │ 
           │ Help: annotate: `("a" : Word)`
        ───╯
    "#]],
    );
}

#[test]
fn applying_a_non_function() {
    bad(
        "def f (x : Int) = x 3\n",
        expect![[r#"
        [E0205] Error: `x` is not a function; it has type `Int`
           ╭─[ test.dp:1:19 ]
           │
         1 │ def f (x : Int) = x 3
           │                   ┬ ┬  
           │                   ╰──── this has type `Int`
           │                     │  
           │                     ╰── so it cannot be applied to this argument
        ───╯
    "#]],
    );
}

#[test]
fn too_many_arguments() {
    bad(
        &with_prelude("def step (h : Hidden) (w : Word) : Hidden = h\ndef g h w = step h w w\n"),
        expect![[r#"
            [E0205] Error: too many arguments: `step` takes 2 but is given more
                ╭─[ test.dp:11:22 ]
                │
             11 │ def g h w = step h w w
                │             ──┬─     ┬  
                │               │      ╰── this argument is one too many
                │               │         
                │               ╰───────── `step` has type `Hidden -> Word -> Hidden`
            ────╯
        "#]],
    );
}

#[test]
fn annotation_too_general() {
    bad(
        "def f (x : a) : a = x + 1.0\ndef g (x : a) = x && true\ndef h (x : a) : a = x + 1\n",
        expect![[r#"
        [E0213] Error: the annotation is more general than the definition: `a` must be `Bool`
           ╭─[ test.dp:2:12 ]
           │
         2 │ def g (x : a) = x && true
           │            ┬  
           │            ╰── `a` stands for any type here
           │ 
           │ Help: replace `a` with `Bool`
           │ 
           │ Note: the definition only works when `a` is `Bool`
        ───╯
        [E0213] Error: the annotation is more general than the definition: `a` must be `Int`
           ╭─[ test.dp:3:12 ]
           │
         3 │ def h (x : a) : a = x + 1
           │            ┬  
           │            ╰── `a` stands for any type here
           │ 
           │ Help: replace `a` with `Int`
           │ 
           │ Note: the definition only works when `a` is `Int`
        ───╯
    "#]],
    );
}

#[test]
fn annotation_vars_unified() {
    bad(
        "def f (x : a) (y : b) : a = y\n",
        expect![[r#"
        [E0213] Error: the annotation is more general than the definition: `a` and `b` must be the same type
           ╭─[ test.dp:1:20 ]
           │
         1 │ def f (x : a) (y : b) : a = y
           │                    ┬  
           │                    ╰── `b` is declared as a type of its own here
           │ 
           │ Help: write `a` for both
        ───╯
    "#]],
    );
}

#[test]
fn infinite_type() {
    bad(
        "def f x = x x\n",
        expect![[r#"
        [E0203] Error: infinite type: `a` would have to be `a -> b`
           ╭─[ test.dp:1:13 ]
           │
         1 │ def f x = x x
           │             ┬  
           │             ╰── this would need `a` = `a -> b`
           │ 
           │ Note: a type cannot contain itself; this is often a function applied to itself or a list put inside itself
        ───╯
    "#]],
    );
}

#[test]
fn infinite_list() {
    bad(
        "def f x = [x] ++ x\n",
        expect![[r#"
        [E0203] Error: infinite type: `a` would have to be `List a`
           ╭─[ test.dp:1:18 ]
           │
         1 │ def f x = [x] ++ x
           │           ─┬─    ┬  
           │            │     ╰── this would need `a` = `List a`
           │            │        
           │            ╰──────── the left operand has type `List a`
           │ 
           │ Note: a type cannot contain itself; this is often a function applied to itself or a list put inside itself
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
           │ Help: use `List`, `Tree` or `Grid` for recursive structure
           │ 
           │ Note: reps and type aliases are expanded, so they cannot be recursive
        ───╯
    "#]],
    );
}

#[test]
fn list_of_functions() {
    bad(
        "def fs = [\\x -> x + 1, \\y -> y]\n",
        expect![[r#"
        [E0215] Error: the batched runtime cannot store functions in lists/trees/grids: `List (Int -> Int)`
           ╭─[ test.dp:1:10 ]
           │
         1 │ def fs = [\x -> x + 1, \y -> y]
           │          ───────────┬──────────  
           │                     ╰──────────── this builds a `List (Int -> Int)`
           │ 
           │ Note: a tuple of functions is fine; apply the functions before collecting the results
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
fn compare_lists() {
    bad(
        "def f (a : List Int) = a == a\n",
        expect![[r#"
        [E0212] Error: values of type `List Int` cannot be compared
           ╭─[ test.dp:1:24 ]
           │
         1 │ def f (a : List Int) = a == a
           │                        ───┬──  
           │                           ╰──── `==` on `List Int`
           │ 
           │ Note: `==`, `!=`, `<`, `<=`, `>`, `>=` work on Int, Float, Bool and vocabulary symbols
        ───╯
    "#]],
    );
}

#[test]
fn concat_unknown() {
    bad(
        "def f x y = concat x y\n",
        expect![[r#"
        [E0210] Error: `concat` needs both sizes known
           ╭─[ test.dp:1:13 ]
           │
         1 │ def f x y = concat x y
           │             ───┬──  
           │                ╰──── `concat` of `a` and `b`
           │ 
           │ Help: annotate the arguments, e.g. `concat (x : Hidden) (y : WordVec)`
           │ 
           │ Note: `concat x y` is a raw `R[n1 + n2]`; an open vocabulary's `Scores` has no static size
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
            [E0204] Error: `Bool` is not a representation type
               ╭─[ test.dp:2:13 ]
               │
             2 │ def b = 1 + true
               │             ──┬─  
               │               ╰─── this has type `Bool`
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
fn string_used_as_number() {
    bad(
        "def f = \"a\" + 1\n",
        expect![[r#"
        [E0201] Error: a vocabulary symbol cannot be used as a number or a representation
           ╭─[ test.dp:1:15 ]
           │
         1 │ def f = "a" + 1
           │               ┬  
           │               ╰── a number or representation and a vocabulary symbol meet here
           │ 
           │ Note: string literals are vocabulary symbols; numbers and representations are Int, Float, R[..], reps, ...
        ───╯
    "#]],
    );
}

#[test]
fn param_init_mismatch() {
    bad(
        "rep H = R[2]\nparam p : H = [1, 2, 3]\n",
        expect![[r#"
        [E0206] Error: this row has 3 elements, but `H` needs 2
           ╭─[ test.dp:2:15 ]
           │
         2 │ param p : H = [1, 2, 3]
           │               ────┬────  
           │                   ╰────── 3 elements
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
