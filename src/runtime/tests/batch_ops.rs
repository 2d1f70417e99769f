//! `batch.rs` on every kind of value: `select`, `merge`, `gather_multi`,
//! `concat` and `gather` agree with picking examples one by one.

use std::rc::Rc;

use super::*;
use crate::codec::{assemble, decode};
use crate::runtime::batch::{self, batch_size, gather, gather_multi, merge, select};
use crate::runtime::value::Func;

fn one(g: &Graph, program: &Program, ty: &Type, json: &str) -> Value {
    let mut vocabs = Vocabularies::from_types(&program.types);
    let j = serde_json::from_str(json).unwrap();
    let e = decode(&j, ty, &program.types, &mut vocabs, true).unwrap();
    assemble(g, &[&e], ty, &program.types)
}

fn show(g: &Graph, program: &Program, v: &Value, ty: &Type) -> Vec<String> {
    show_all(g, program, &Vocabularies::default(), v, ty)
}

fn kinds() -> Vec<(Type, [&'static str; 3], [&'static str; 3])> {
    let r2 = Type::Tensor(vec![2]);
    vec![
        (Type::Float, ["1", "2", "3"], ["-1", "-2", "-3"]),
        (Type::Int, ["1", "2", "3"], ["4", "5", "6"]),
        (
            Type::list(Type::Float),
            ["[1, 2]", "[]", "[3]"],
            ["[]", "[4, 5, 6]", "[7]"],
        ),
        (
            Type::Tree(Box::new(Type::Float)),
            ["[1, 2]", "[[1, 2], [3, 4]]", "5"],
            ["[0, [1, 1]]", "6", "[[9, 8], 7]"],
        ),
        (
            Type::Tree(Box::new(r2.clone())),
            [
                r#"{"leaf": [1, 2]}"#,
                r#"[{"leaf": [1, 2]}, {"leaf": [3, 4]}]"#,
                r#"{"leaf": [0, 0]}"#,
            ],
            [
                r#"[{"leaf": [5, 6]}, [{"leaf": [7, 8]}, {"leaf": [9, 9]}]]"#,
                r#"{"leaf": [1, 1]}"#,
                r#"{"leaf": [2, 2]}"#,
            ],
        ),
        (
            Type::Grid(Box::new(Type::Int)),
            ["[[1, 2], [3, 4]]", "[]", "[[5]]"],
            ["[[6]]", "[[7, 8, 9]]", "[[1], [2]]"],
        ),
        (
            Type::Tuple(vec![Type::Bool, Type::list(Type::list(Type::Int))]),
            ["[true, [[1], []]]", "[false, []]", "[true, [[2, 3]]]"],
            ["[false, [[4]]]", "[true, [[], [5]]]", "[false, []]"],
        ),
    ]
}

#[test]
fn select_merge_and_gather_multi_on_every_kind() {
    let program = Program::default();
    for (ty, xs, ys) in kinds() {
        let mut g = Graph::inference();
        let a: Vec<Value> = xs.iter().map(|j| one(&g, &program, &ty, j)).collect();
        let b: Vec<Value> = ys.iter().map(|j| one(&g, &program, &ty, j)).collect();
        let want_a: Vec<String> = a.iter().flat_map(|v| show(&g, &program, v, &ty)).collect();
        let want_b: Vec<String> = b.iter().flat_map(|v| show(&g, &program, v, &ty)).collect();
        let va = batch::concat(&mut g, &a);
        let vb = batch::concat(&mut g, &b);
        assert_eq!(show(&g, &program, &va, &ty), want_a, "concat {ty:?}");

        let mask = [true, false, true];
        let s = select(&mut g, &mask, &va, &vb);
        let want: Vec<String> = (0..3)
            .map(|i| if mask[i] { &want_a[i] } else { &want_b[i] }.clone())
            .collect();
        assert_eq!(show(&g, &program, &s, &ty), want, "select {ty:?}");

        let yes = gather(&mut g, &va, &[0, 2]);
        let no = gather(&mut g, &vb, &[1]);
        let m = merge(&mut g, &mask, Some(yes), Some(no));
        assert_eq!(show(&g, &program, &m, &ty), want, "merge {ty:?}");

        let rows = [(1, 2), (0, 0), (1, 0), (0, 0), (0, 1)];
        let gm = gather_multi(&mut g, &[va.clone(), vb.clone()], &rows);
        let want: Vec<String> = rows
            .iter()
            .map(|&(p, r)| if p == 0 { &want_a[r] } else { &want_b[r] }.clone())
            .collect();
        assert_eq!(show(&g, &program, &gm, &ty), want, "gather_multi {ty:?}");
        assert_eq!(batch_size(&gather(&mut g, &va, &[])), 0);
    }
}

/// A `Func::Select` of `take 1` and `take 2` applies each to its examples.
#[test]
fn selected_functions_apply_per_example() {
    let program = Program::default();
    let lf = Type::list(Type::Float);
    let ty = fun(&[Type::Int, lf.clone()], lf.clone());
    let take = |n: i64| {
        Value::func(Func::Partial {
            builtin: Builtin::Take,
            ty: ty.clone(),
            args: vec![Value::Int(Rc::new(vec![n; 3]))],
            origin: Rc::new(vec![0, 1, 2]),
        })
    };
    with_ctx(&program, |ctx, g| {
        let f = select(g, &[true, false, true], &take(1), &take(2));
        let xs: Vec<Value> = ["[1, 2, 3]", "[4, 5, 6]", "[7]"]
            .iter()
            .map(|j| one(g, &program, &lf, j))
            .collect();
        let xs = batch::concat(g, &xs);
        let v = crate::runtime::eval::apply(ctx, g, &f, vec![xs], Span::default()).unwrap();
        assert_eq!(show(g, &program, &v, &lf), vec!["[1]", "[4, 5]", "[7]"]);
    });
}
