//! Declaration, pattern and type snapshots, the spec's section-1 program,
//! spans, and the REPL entry point.

use expect_test::{expect, Expect};

use super::{module, repl, typ};
use crate::syntax::ast::{DeclKind, ExprKind};
use crate::syntax::parse_module;

fn check(text: &str, want: Expect) {
    want.assert_eq(&module(text));
}

fn check_ty(text: &str, want: Expect) {
    want.assert_eq(&typ(text));
}

fn check_repl(text: &str, want: Expect) {
    want.assert_eq(&repl(text));
}

#[test]
fn every_declaration() {
    check(
        r#"
import nn
import "lib/cells.dp"
rep Hidden = R[128]
type Sentence = List Word
vocab Word
vocab Label = ["neg", "pos"]
vocab Empty = []
learn cell : (Hidden, WordVec) -> Hidden
param theta : Code
param scale : Float = 1.0
def name p1 p2 = e
def f (x : T) ((a, b) : (A, B)) : R = x
def g _ () (h, (i, _)) = h
def k : Int = 3
objective disc = d_loss updates d_hidden, d_out
objective fit = loss updates w
learn gates : (H, X) -> (H, H) bias = (zeros, ones)
learn blocks : [12] (H -> H) bias = zeros
"#,
        expect![[r#"
            (import nn)
            (import "lib/cells.dp")
            (rep Hidden R[128])
            (type Sentence (List Word))
            (vocab Word)
            (vocab Label ["neg" "pos"])
            (vocab Empty [])
            (learn cell (-> (tuple Hidden WordVec) Hidden))
            (param theta Code)
            (param scale Float 1.0)
            (def name [p1 p2] _ e)
            (def f [(: x T) (: (tuple a b) (tuple A B))] R x)
            (def g [_ (tuple) (tuple h (tuple i _))] _ h)
            (def k [] Int 3)
            (objective disc d_loss [d_hidden d_out])
            (objective fit loss [w])
            (learn gates (-> (tuple H X) (tuple H H)) (bias (tuple zeros ones)))
            (learn blocks [12] (-> H H) (bias zeros))"#]],
    );
}

#[test]
fn types() {
    check_ty("Float", expect!["(learn x Float)"]);
    check_ty("List Word", expect!["(learn x (List Word))"]);
    check_ty("Scores Label", expect!["(learn x (Scores Label))"]);
    check_ty("Tree (List a)", expect!["(learn x (Tree (List a)))"]);
    check_ty("Map a (List b) C", expect!["(learn x (Map a (List b) C))"]);
    check_ty("R[2, 3]", expect!["(learn x R[2, 3])"]);
    check_ty("R [4]", expect!["(learn x R[4])"]);
    check_ty("Window[3] t", expect!["(learn x (Window[3] t))"]);
    check_ty(
        "Window[2, 2] (Grid Pixel)",
        expect!["(learn x (Window[2, 2] (Grid Pixel)))"],
    );
    check_ty("(A, B)", expect!["(learn x (tuple A B))"]);
    check_ty(
        "(A, (B, C), R[1])",
        expect!["(learn x (tuple A (tuple B C) R[1]))"],
    );
    check_ty("()", expect!["(learn x (tuple))"]);
    check_ty("a -> b -> c", expect!["(learn x (-> a (-> b c)))"]);
    check_ty(
        "(a -> b) -> List a -> List b",
        expect!["(learn x (-> (-> a b) (-> (List a) (List b))))"],
    );
    check_ty("((A))", expect!["(learn x A)"]);
    check_ty(
        "List (Window[3] a) -> Scores V",
        expect!["(learn x (-> (List (Window[3] a)) (Scores V)))"],
    );
}

#[test]
fn spec_section_1_program() {
    check(
        r#"
-- sentiment.dp: classify a sentence with an encoding RNN (a fold)
vocab Word                       -- open vocabulary, grown from the training data
vocab Label = ["neg", "pos"]     -- closed vocabulary

rep WordVec = R[32]              -- a representation: a named 32-dim space
rep Hidden  = R[64]

learn embed  : Word -> WordVec               -- learned embedding table
learn cell   : (Hidden, WordVec) -> Hidden   -- learned affine map
learn decide : Hidden -> Scores Label        -- learned affine map to 2 scores

def step (h : Hidden) (w : Word) : Hidden = tanh (cell (h, embed w))

def model (ws : List Word) : Scores Label = decide (fold step zeros ws)

def loss ((ws, y) : (List Word, Label)) : Float = cross_entropy (model ws) y

def accuracy ((ws, y) : (List Word, Label)) : Float =
  if argmax (model ws) == y then 1.0 else 0.0
"#,
        expect![[r#"
            (vocab Word)
            (vocab Label ["neg" "pos"])
            (rep WordVec R[32])
            (rep Hidden R[64])
            (learn embed (-> Word WordVec))
            (learn cell (-> (tuple Hidden WordVec) Hidden))
            (learn decide (-> Hidden (Scores Label)))
            (def step [(: h Hidden) (: w Word)] Hidden (tanh (cell (tuple h (embed w)))))
            (def model [(: ws (List Word))] (Scores Label) (decide (((fold step) zeros) ws)))
            (def loss [(: (tuple ws y) (tuple (List Word) Label))] Float ((cross_entropy (model ws)) y))
            (def accuracy [(: (tuple ws y) (tuple (List Word) Label))] Float (if (== (argmax (model ws)) y) 1.0 0.0))"#]],
    );
}

/// Spans of the pieces of a definition, shown as the text they cover.
#[test]
fn spans_cover_their_text() {
    let text = "def f (x : R[2]) y = (g x, -y) |> h";
    let (m, diags) = parse_module(0, text);
    assert!(diags.is_empty());
    let mut out = Vec::new();
    let show = |s: crate::source::Span| text.get(s.range()).unwrap_or("?").to_string();
    for d in &m.decls {
        out.push(format!("decl: {}", show(d.span)));
        if let DeclKind::Def {
            name, params, body, ..
        } = &d.kind
        {
            out.push(format!("name: {}", show(name.span)));
            for p in params {
                out.push(format!(
                    "param: {} / pattern: {}",
                    show(p.span),
                    show(p.pattern.span)
                ));
                if let Some(t) = &p.ty {
                    out.push(format!("param type: {}", show(t.span)));
                }
            }
            out.push(format!("body: {}", show(body.span)));
            if let ExprKind::Binary(_, a, b) = &body.kind {
                out.push(format!("lhs: {} / rhs: {}", show(a.span), show(b.span)));
                if let ExprKind::Tuple(es) = &a.kind {
                    for e in es {
                        out.push(format!("element: {}", show(e.span)));
                    }
                }
            }
        }
    }
    expect![[r#"
        decl: def f (x : R[2]) y = (g x, -y) |> h
        name: f
        param: (x : R[2]) / pattern: x
        param type: R[2]
        param: y / pattern: y
        body: (g x, -y) |> h
        lhs: (g x, -y) / rhs: h
        element: g x
        element: -y"#]]
    .assert_eq(&out.join("\n"));
}

#[test]
fn repl_input() {
    check_repl("", expect!["empty"]);
    check_repl("  -- only a comment", expect!["empty"]);
    check_repl("f x + 1", expect!["expr: (+ (f x) 1)"]);
    check_repl(
        "def f x = x rep H = R[2]",
        expect!["decls: (def f [x] _ x); (rep H R[2])"],
    );
    check_repl("let x = 1 in x", expect!["expr: (let x 1 x)"]);
    check_repl("import nn", expect!["decls: (import nn)"]);
}
