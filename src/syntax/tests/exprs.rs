//! Expression snapshots: every construct and every precedence and
//! associativity rule of spec section 5.

use expect_test::{expect, Expect};

use super::ex;

fn check(text: &str, want: Expect) {
    want.assert_eq(&ex(text));
}

#[test]
fn atoms() {
    check("x", expect!["x"]);
    check("42", expect!["42"]);
    check("0.5", expect!["0.5"]);
    check(r#""pos""#, expect![[r#""pos""#]]);
    check("true", expect!["true"]);
    check("false", expect!["false"]);
    check("()", expect!["(tuple)"]);
    check("(x)", expect!["x"]);
    check("((x))", expect!["x"]);
    check("(a, b, c)", expect!["(tuple a b c)"]);
    check("(x : R[2])", expect!["(: x R[2])"]);
    check("[]", expect!["[]"]);
    check("[1, 2, 3]", expect!["[1 2 3]"]);
    check("[[1, 0], [0, 1]]", expect!["[[1 0] [0 1]]"]);
}

#[test]
fn application_is_left_associative() {
    check("f x y z", expect!["(((f x) y) z)"]);
    check("f (g x) [y]", expect!["((f (g x)) [y])"]);
}

#[test]
fn lambdas() {
    check(r"\x -> x", expect![[r#"(\ x -> x)"#]]);
    check(r"\x y -> f x y", expect![[r#"(\ x y -> ((f x) y))"#]]);
    check(r"\(h, x) -> h", expect![[r#"(\ (tuple h x) -> h)"#]]);
    check(
        r"\_ (a : Hidden) ((b, c) : (A, B)) -> a",
        expect![[r#"(\ _ (: a Hidden) (: (tuple b c) (tuple A B)) -> a)"#]],
    );
    check(
        r"\x -> \y -> x + y",
        expect![[r#"(\ x -> (\ y -> (+ x y)))"#]],
    );
}

#[test]
fn let_and_if() {
    check("let x = 1 in x + 1", expect!["(let x 1 (+ x 1))"]);
    check("let (a, b) = p in a", expect!["(let (tuple a b) p a)"]);
    check("if c then a else b", expect!["(if c a b)"]);
    check(
        "if a == b then 1.0 else 0.0",
        expect!["(if (== a b) 1.0 0.0)"],
    );
    check(
        "let x = if c then 1 else 2 in let y = x in y",
        expect!["(let x (if c 1 2) (let y x y))"],
    );
}

#[test]
fn open_constructs_extend_right() {
    check(r"f \x -> x", expect![[r#"(f (\ x -> x))"#]]);
    check(r"map \x -> x + 1", expect![[r#"(map (\ x -> (+ x 1)))"#]]);
    check(
        r"fold \s x -> s + x",
        expect![[r#"(fold (\ s x -> (+ s x)))"#]],
    );
    check("1 + if c then 2 else 3", expect!["(+ 1 (if c 2 3))"]);
    check(
        "1 + if c then 2 else 3 + 4",
        expect!["(+ 1 (if c 2 (+ 3 4)))"],
    );
    check(
        r"xs |> map \x -> x |> f",
        expect![[r#"(|> xs (map (\ x -> (|> x f))))"#]],
    );
    check("f x (let y = 1 in y) z", expect!["(((f x) (let y 1 y)) z)"]);
    check("a * let y = 1 in y", expect!["(* a (let y 1 y))"]);
    check(r"- \x -> x", expect![[r#"(neg (\ x -> x))"#]]);
}

#[test]
fn operator_precedence() {
    check("a |> f || b", expect!["(|> a (|| f b))"]);
    check("a || b && c", expect!["(|| a (&& b c))"]);
    check("a && b == c", expect!["(&& a (== b c))"]);
    check("a == b ++ c", expect!["(== a (++ b c))"]);
    check("a ++ b + c", expect!["(++ a (+ b c))"]);
    check("a + b * c", expect!["(+ a (* b c))"]);
    check("a * b + c", expect!["(+ (* a b) c)"]);
    check("a + b % c * d", expect!["(+ a (* (% b c) d))"]);
    check("a @ b * c / d", expect!["(/ (* (@ a b) c) d)"]);
    check("a + f x * g y", expect!["(+ a (* (f x) (g y)))"]);
    check(
        "a < b || c >= d && e != f",
        expect!["(|| (< a b) (&& (>= c d) (!= e f)))"],
    );
    check("a <= b", expect!["(<= a b)"]);
    check("a > b", expect!["(> a b)"]);
}

#[test]
fn operator_associativity() {
    check("a |> f |> g", expect!["(|> (|> a f) g)"]);
    check("a || b || c", expect!["(|| (|| a b) c)"]);
    check("a && b && c", expect!["(&& (&& a b) c)"]);
    check("a ++ b ++ c", expect!["(++ a (++ b c))"]);
    check("a - b - c", expect!["(- (- a b) c)"]);
    check("a + b - c", expect!["(- (+ a b) c)"]);
    check("a / b / c", expect!["(/ (/ a b) c)"]);
    check("a @ b @ c", expect!["(@ (@ a b) c)"]);
}

#[test]
fn unary_minus() {
    check("-x", expect!["(neg x)"]);
    check("-f x", expect!["(neg (f x))"]);
    check("- -x", expect!["(neg (neg x))"]);
    check("a - -b", expect!["(- a (neg b))"]);
    check("a * -b", expect!["(* a (neg b))"]);
    check("-a * b", expect!["(* (neg a) b)"]);
    check("f -x", expect!["(- f x)"]);
    check("f (-1.5)", expect!["(f (neg 1.5))"]);
}

#[test]
fn annotations_and_tensor_literals() {
    check("([1.0, 2.0] : R[2])", expect!["(: [1.0 2.0] R[2])"]);
    check("(zeros : Hidden)", expect!["(: zeros Hidden)"]);
    check(
        r"((\x -> x) : a -> a)",
        expect![[r#"(: (\ x -> x) (-> a a))"#]],
    );
}
