//! Programs that do not type-check: their rendered diagnostics (type
//! errors; name and declaration errors are in `bad_decls.rs`).

use expect_test::{expect, Expect};

use super::check;

pub(super) fn bad(src: &str, want: Expect) {
    want.assert_eq(&check(src));
}

pub(super) const PRELUDE: &str = r#"
vocab Word
vocab Label = ["neg", "pos"]
rep WordVec = R[32]
rep Hidden = R[64]
rep A = R[4]
rep B = R[4]
learn embed : Word -> WordVec
learn cell : (Hidden, WordVec) -> Hidden
"#;

pub(super) fn with_prelude(body: &str) -> String {
    format!("{PRELUDE}{body}")
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
fn swapped_tuple_parts_are_one_diagnostic() {
    bad(
        &with_prelude("def step (h : Hidden) (w : Word) : Hidden = cell (embed w, h)\n"),
        expect![[r#"
            [E0202] Error: the parts of this tuple are swapped: `(Hidden, WordVec)` is expected
                ╭─[ test.dp:10:51 ]
                │
             10 │ def step (h : Hidden) (w : Word) : Hidden = cell (embed w, h)
                │                                                   ───┬───  ┬  
                │                                                      ╰──────── this `WordVec` belongs at part 2
                │                                                            │  
                │                                                            ╰── this `Hidden` belongs at part 1
                │ 
                │ Help: swap parts 1 and 2
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
               │ Help: data of `A` is written as `R[4]`: declare the value as `A` where it comes in (a parameter `: A`, or the data's type), no conversion needed
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
fn matmul_on_a_vector_rep() {
    bad(
        "rep A = R[4]\ndef f (m : A) (v : R[4]) = m @ v\n",
        expect![[r#"
            [E0206] Error: `@` needs a matrix on the left and a vector or matrix on the right, found `A` (R[4])
               ╭─[ test.dp:2:28 ]
               │
             2 │ def f (m : A) (v : R[4]) = m @ v
               │                            ┬  
               │                            ╰── this has type `A`
               │ 
               │ Note: `R[m, n] @ R[n]` is `R[m]` and `R[m, n] @ R[n, p]` is `R[m, p]`; a rep or `Scores` multiplies as its raw tensor
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
            [E0206] Error: row 1 has 3 numbers, `R[2, 2]` needs 2
               ╭─[ test.dp:1:19 ]
               │
             1 │ def m = ([[1, 2], [3, 4, 5]] : R[2, 2])
               │                   ────┬────  
               │                       ╰────── 3 numbers
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
                │                           ╰── `+` on `List Word`
                │ 
                │ Help: combine lists elementwise with `zipWith` or `map`, or reduce one with `sumList`
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
               │ Help: annotate the window: `\(w : Window[3] E) -> ...`
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
               │ Help: annotate the window: `\(w : Window[3] E) -> ...`
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
               │ Help: declare a vocabulary, e.g. `vocab Word`, and annotate: `("a" : Word)`
               │ 
               │ Note: a string literal is a symbol of a vocabulary, decided by how it is used
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
fn tree_of_functions() {
    bad(
        "def t = leaf (\\x -> x + 1)\n",
        expect![[r#"
            [E0215] Error: the batched runtime cannot store functions in trees, grids or windows: `Tree (Int -> Int)`
               ╭─[ test.dp:1:9 ]
               │
             1 │ def t = leaf (\x -> x + 1)
               │         ─────────┬────────  
               │                  ╰────────── this builds a `Tree (Int -> Int)`
               │ 
               │ Note: a list or tuple of functions is fine; apply the functions before collecting the results
            ───╯
        "#]],
    );
}

#[test]
fn order_lists() {
    bad(
        "def f (a : List Int) = a < a\n",
        expect![[r#"
            [E0212] Error: values of type `List Int` cannot be compared
               ╭─[ test.dp:1:24 ]
               │
             1 │ def f (a : List Int) = a < a
               │                        ──┬──  
               │                          ╰──── `<` on `List Int`
               │ 
               │ Note: `==`, `!=`, `<`, `<=`, `>`, `>=` work on Int, Float, Bool and vocabulary symbols; `==` and `!=` also on lists and tuples of them
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
fn rep_mismatch_inside_a_list() {
    bad(
        &with_prelude("def f (ws : List Word) : List Hidden = map embed ws\n"),
        expect![[r#"
            [E0202] Error: expected `List Hidden`, found `List WordVec`
                ╭─[ test.dp:10:40 ]
                │
             10 │ def f (ws : List Word) : List Hidden = map embed ws
                │                          ─────┬─────   ──────┬─────  
                │                               │              ╰─────── this has type `List WordVec`
                │                               │                      
                │                               ╰────────────────────── the declared result type
                │ 
                │ Help: convert with a learned piece, e.g. `learn proj : WordVec -> Hidden`
                │ 
                │ Note 1: `Hidden` (R[64]) and `WordVec` (R[32]) are different representations
                │ 
                │ Note 2: reps are nominal: data in another representation is meaningless to the layer
            ────╯
        "#]],
    );
}

#[test]
fn wrong_vocabulary() {
    bad(
        &with_prelude("def f (w : Word) : Label = w\n"),
        expect![[r#"
            [E0201] Error: expected `Label`, found `Word`
                ╭─[ test.dp:10:28 ]
                │
             10 │ def f (w : Word) : Label = w
                │                    ──┬──   ┬  
                │                      │     ╰── this has type `Word`
                │                      │        
                │                      ╰──────── the declared result type
            ────╯
        "#]],
    );
}

#[test]
fn applying_a_string() {
    bad(
        "vocab Word\ndef f (ws : List Word) = \"neg\" (length ws)\n",
        expect![[r#"
            [E0205] Error: this is applied to an argument, but it is a vocabulary symbol
               ╭─[ test.dp:2:26 ]
               │
             2 │ def f (ws : List Word) = "neg" (length ws)
               │                          ──┬── ─────┬─────  
               │                            ╰──────────────── this is a vocabulary symbol
               │                                     │       
               │                                     ╰─────── the argument
            ───╯
        "#]],
    );
}

#[test]
fn concat_of_open_scores() {
    bad(
        "vocab W\nlearn s : R[2] -> Scores W\ndef f (x : R[2]) = concat (s x) x\n",
        expect![[r#"
            [E0206] Error: `concat` needs both sizes known
               ╭─[ test.dp:3:20 ]
               │
             3 │ def f (x : R[2]) = concat (s x) x
               │                    ───┬──  
               │                       ╰──── `concat` of `Scores W` and `R[2]`
               │ 
               │ Note: `concat x y` is a raw `R[n1 + n2]`; an open vocabulary's `Scores` has no static size
            ───╯
        "#]],
    );
}

#[test]
fn one_error_per_application() {
    bad(
        "def f (xs : List Bool) : Int = fold (\\(b : Bool) (n : Int) -> n) 0 xs\n",
        expect![[r#"
            [E0201] Error: expected `Bool`, found `Int`
               ╭─[ test.dp:1:63 ]
               │
             1 │ def f (xs : List Bool) : Int = fold (\(b : Bool) (n : Int) -> n) 0 xs
               │                                                               ┬  
               │                                                               ╰── this has type `Int`
               │ 
               │ Note: the step function of `fold` takes the state first, then the element: `fold : (s -> a -> s) -> s -> List a -> s`
            ───╯
        "#]],
    );
}

#[test]
fn independent_errors_in_one_def_are_reported() {
    bad(
        "def f (x : Int) = (x && true, undefinedName, x ++ x)\n",
        expect![[r#"
            [E0201] Error: expected `Bool`, found `Int`
               ╭─[ test.dp:1:20 ]
               │
             1 │ def f (x : Int) = (x && true, undefinedName, x ++ x)
               │                    ┬  
               │                    ╰── this has type `Int`
            ───╯
            [E0101] Error: unknown name `undefinedName`
               ╭─[ test.dp:1:31 ]
               │
             1 │ def f (x : Int) = (x && true, undefinedName, x ++ x)
               │                               ──────┬──────  
               │                                     ╰──────── not defined in this scope
            ───╯
            [E0201] Error: `++` joins lists, but this is `Int`
               ╭─[ test.dp:1:46 ]
               │
             1 │ def f (x : Int) = (x && true, undefinedName, x ++ x)
               │                                              ┬  
               │                                              ╰── this has type `Int`
            ───╯
        "#]],
    );
}
