//! The IR the checker produces: resolved operators, literals, captures,
//! instantiations and schemes, printed as s-expressions.

use expect_test::{expect, Expect};

use super::{compile, SENTIMENT};
use crate::ir::{self, ExprKind, Pattern};
use crate::types::pretty;

fn pat(p: &Pattern) -> String {
    match p {
        Pattern::Bind(id, n) => format!("{n}#{id}"),
        Pattern::Wildcard => "_".into(),
        Pattern::Tuple(ps) => format!("({})", ps.iter().map(pat).collect::<Vec<_>>().join(", ")),
    }
}

fn list(es: &[ir::Expr]) -> String {
    es.iter().map(dump).collect::<Vec<_>>().join(" ")
}

fn dump(e: &ir::Expr) -> String {
    match &e.kind {
        ExprKind::Local(id) => format!("#{id}"),
        ExprKind::Global { def, inst } => {
            let inst: Vec<String> = inst.iter().map(pretty).collect();
            format!("(global {def} [{}])", inst.join(", "))
        }
        ExprKind::Learned(id) => format!("learned{id}"),
        ExprKind::Param(id) => format!("param{id}"),
        ExprKind::Builtin(b) => format!("{}:<{}>", b.name(), pretty(&e.ty)),
        ExprKind::Int(n) => format!("{n}i"),
        ExprKind::Float(x) => format!("{x:?}f"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Symbol { vocab, symbol } => format!("{vocab}:{symbol:?}"),
        ExprKind::TensorLit { shape, data } => format!("(tensor {shape:?} {data:?})"),
        ExprKind::Lambda(l) => {
            let ps: Vec<String> = l.params.iter().map(pat).collect();
            format!("(\\{} {:?} -> {})", ps.join(" "), l.captures, dump(&l.body))
        }
        ExprKind::App { func, args } => format!("({} {})", dump(func), list(args)),
        ExprKind::Let {
            pattern,
            value,
            body,
        } => format!("(let {} {} {})", pat(pattern), dump(value), dump(body)),
        ExprKind::If {
            cond,
            then_branch,
            else_branch,
        } => format!(
            "(if {} {} {})",
            dump(cond),
            dump(then_branch),
            dump(else_branch)
        ),
        ExprKind::Tuple(es) => format!("(tuple {})", list(es)),
        ExprKind::List(es) => format!("[{}]", list(es)),
        ExprKind::Prim { op, args } => format!("({op:?} {})", list(args)),
    }
}

/// Every def: name, scheme vars, type and body.
fn ir_of(src: &str, want: Expect) {
    let prog = compile(src).unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    for d in &prog.defs {
        out.push_str(&format!(
            "{} {:?} : {}\n  {}\n",
            d.name,
            d.scheme.vars,
            pretty(&d.scheme.ty),
            dump(&d.body)
        ));
    }
    want.assert_eq(&out);
}

#[test]
fn sentiment_ir() {
    ir_of(
        SENTIMENT,
        expect![[r#"
        step [] : Hidden -> Word -> Hidden
          (\h#0 w#1 [] -> (tanh:<Hidden -> Hidden> (learned1 (tuple #0 (learned0 #1)))))
        model [] : List Word -> Scores Label
          (\ws#0 [] -> (learned2 (fold:<(Hidden -> Word -> Hidden) -> Hidden -> List Word -> Hidden> (global 0 []) zeros:<Hidden> #0)))
        loss [] : (List Word, Label) -> Float
          (\(ws#0, y#1) [] -> (cross_entropy:<Scores Label -> Label -> Float> ((global 1 []) #0) #1))
        accuracy [] : (List Word, Label) -> Float
          (\(ws#0, y#1) [] -> (if (Compare(Eq, Symbol) (argmax:<Scores Label -> Label> ((global 1 []) #0)) #1) 1.0f 0.0f))
    "#]],
    );
}

#[test]
fn operators_are_resolved() {
    ir_of(
        r#"
rep H = R[4]
vocab L = ["x", "y"]
def inc x = x + 1
def twice x = x + x
def scale (h : H) = h * 0.5 - 1
def left (h : H) = 2 * h
def negs (h : H) (n : Int) = (-h, -n, -(2.5))
def cmp (l : L) (a : Float) = l == "x" && a < 1 || true
def mm (m : R[2, 3]) (v : R[3]) (w : R[3, 5]) = (m @ v, m @ w)
def lit = ([[1, 2, 3], [4, -5, 6.5]] : R[2, 3])
def app = [1] ++ [2]
"#,
        expect![[r#"
            inc [] : Int -> Int
              (\x#0 [] -> (IntArith(Add) #0 1i))
            twice [1] : a -> a
              (\x#0 [] -> (RealArith(Add, None) #0 #0))
            scale [] : H -> H
              (\h#0 [] -> (RealArith(Sub, Right) (RealArith(Mul, Right) #0 0.5f) 1.0f))
            left [] : H -> H
              (\h#0 [] -> (RealArith(Mul, Left) 2.0f #0))
            negs [] : H -> Int -> (H, Int, Float)
              (\h#0 n#1 [] -> (tuple (RealNeg #0) (IntNeg #1) -2.5f))
            cmp [] : L -> Float -> Bool
              (\l#0 a#1 [] -> (Or (And (Compare(Eq, Symbol) #0 L:"x") (Compare(Lt, Float) #1 1.0f)) true))
            mm [] : R[2, 3] -> R[3] -> R[3, 5] -> (R[2], R[2, 5])
              (\m#0 v#1 w#2 [] -> (tuple (MatMul { m: 2, n: 3, p: None } #0 #1) (MatMul { m: 2, n: 3, p: Some(5) } #0 #2)))
            lit [] : R[2, 3]
              (tensor [2, 3] [1.0, 2.0, 3.0, 4.0, -5.0, 6.5])
            app [] : List Int
              (Append [1i] [2i])
        "#]],
    );
}

#[test]
fn captures_and_instantiation() {
    ir_of(
        r#"
def ident x = x
def useIt = (ident 3, ident true)
def adder (a : Int) = \b -> \c -> a + b + c
def lets (p : (Int, Int)) = let (x, y) = p in \z -> x + z
def sumOf xs = fold (\acc x -> acc + x) 0 xs
def unusedZeros = let z = zeros in 1
"#,
        expect![[r#"
            ident [0] : a -> a
              (\x#0 [] -> #0)
            useIt [] : (Int, Bool)
              (tuple ((global 0 [Int]) 3i) ((global 0 [Bool]) true))
            adder [] : Int -> Int -> Int -> Int
              (\a#0 [] -> (\b#1 [0] -> (\c#2 [0, 1] -> (IntArith(Add) (IntArith(Add) #0 #1) #2))))
            lets [] : (Int, Int) -> Int -> Int
              (\p#0 [] -> (let (x#1, y#2) #0 (\z#3 [1] -> (IntArith(Add) #1 #3))))
            sumOf [] : List Int -> Int
              (\xs#0 [] -> (fold:<(Int -> Int -> Int) -> Int -> List Int -> Int> (\acc#1 x#2 [] -> (IntArith(Add) #1 #2)) 0i #0))
            unusedZeros [] : Int
              (let z#0 zeros:<Float> 1i)
        "#]],
    );
}
