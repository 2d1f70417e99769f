//! Evaluator tests on hand-built IR (independent of parser and checker).

use std::rc::Rc;

use super::*;
use crate::diagnostic::Code;
use crate::ir::{ArithOp, Broadcast, CmpKind, CmpOp, Def, Scheme};
use crate::runtime::eval::{apply, eval_closed, global_value};

const F: Type = Type::Float;
const I: Type = Type::Int;

fn lf() -> Type {
    Type::list(F)
}

fn reals(v: &Value, graph: &Graph) -> Vec<f32> {
    match v {
        Value::Real(r) => graph.to_vec(r),
        other => panic!("not real: {other:?}"),
    }
}

fn float_lists(graph: &Graph, lists: &[&[f32]]) -> Value {
    let data: Vec<f32> = lists.iter().flat_map(|l| l.iter().copied()).collect();
    let offsets = crate::runtime::value::offsets_of(lists.iter().map(|l| l.len()));
    let n = data.len();
    Value::list(offsets, Value::Real(graph.from_vec(n, 1, data)))
}

fn program_with(body: Expr) -> Program {
    let ty = body.ty.clone();
    Program {
        defs: vec![Def {
            name: "f".into(),
            scheme: Scheme { vars: vec![], ty },
            body,
            span: Span::default(),
        }],
        ..Program::default()
    }
}

#[test]
fn int_arithmetic_over_a_batch() {
    let e = prim(
        PrimOp::IntArith(ArithOp::Add),
        vec![
            int(1),
            prim(PrimOp::IntArith(ArithOp::Mul), vec![int(2), int(3)], I),
        ],
        I,
    );
    let p = Program::default();
    with_ctx(&p, |ctx, g| match eval_closed(ctx, g, &e, 2).unwrap() {
        Value::Int(v) => assert_eq!(*v, vec![7, 7]),
        other => panic!("{other:?}"),
    });
}

#[test]
fn real_arithmetic_broadcasts_a_float() {
    let t = ex(
        ExprKind::TensorLit {
            shape: vec![2],
            data: vec![1.0, 2.0],
        },
        Type::Tensor(vec![2]),
    );
    let e = prim(
        PrimOp::RealArith(ArithOp::Mul, Broadcast::Right),
        vec![t, float(2.0)],
        Type::Tensor(vec![2]),
    );
    let p = Program::default();
    with_ctx(&p, |ctx, g| {
        let v = eval_closed(ctx, g, &e, 2).unwrap();
        assert_eq!(reals(&v, g), vec![2.0, 4.0, 2.0, 4.0]);
    });
}

/// `\xs -> if length xs > 0 then last xs else 0.0`: the untaken branch is
/// not evaluated for the empty list.
#[test]
fn if_evaluates_each_branch_on_its_examples_only() {
    let xs = || local(0, lf());
    let len = app(builtin(Builtin::Length, fun(&[lf()], I)), vec![xs()]);
    let cond = prim(
        PrimOp::Compare(CmpOp::Gt, CmpKind::Int),
        vec![len, int(0)],
        Type::Bool,
    );
    let last = app(builtin(Builtin::Last, fun(&[lf()], F)), vec![xs()]);
    let body = ex(
        ExprKind::If {
            cond: Box::new(cond),
            then_branch: Box::new(last),
            else_branch: Box::new(float(0.0)),
        },
        F,
    );
    let p = program_with(lam(vec![(0, lf())], vec![], body));
    with_ctx(&p, |ctx, g| {
        let f = global_value(ctx, g, 0, 3).unwrap();
        let arg = float_lists(g, &[&[1.0, 2.0], &[], &[3.0]]);
        let v = apply(ctx, g, &f, vec![arg], Span::default()).unwrap();
        assert_eq!(reals(&v, g), vec![2.0, 0.0, 3.0]);
    });
}

/// `\xs k -> map (\x -> x * k) xs` with k different per example.
#[test]
fn map_gathers_captures_by_owner() {
    let inner = lam(
        vec![(2, F)],
        vec![1],
        prim(
            PrimOp::RealArith(ArithOp::Mul, Broadcast::None),
            vec![local(2, F), local(1, F)],
            F,
        ),
    );
    let map = builtin(Builtin::Map, fun(&[fun(&[F], F), lf()], lf()));
    let body = app(map, vec![inner, local(0, lf())]);
    let p = program_with(lam(vec![(0, lf()), (1, F)], vec![], body));
    with_ctx(&p, |ctx, g| {
        let f = global_value(ctx, g, 0, 2).unwrap();
        let xs = float_lists(g, &[&[1.0, 2.0], &[3.0]]);
        let k = Value::Real(g.from_vec(2, 1, vec![10.0, 100.0]));
        let v = apply(ctx, g, &f, vec![xs, k], Span::default()).unwrap();
        let Value::List(l) = v else { panic!() };
        assert_eq!(l.offsets, vec![0, 2, 3]);
        assert_eq!(reals(&l.elems, g), vec![10.0, 20.0, 300.0]);
    });
}

/// `\xs -> fold (\s x -> s * 2.0 + x) 0.0 xs` over ragged lists.
#[test]
fn fold_over_ragged_lists() {
    let step = lam(
        vec![(1, F), (2, F)],
        vec![],
        prim(
            PrimOp::RealArith(ArithOp::Add, Broadcast::None),
            vec![
                prim(
                    PrimOp::RealArith(ArithOp::Mul, Broadcast::None),
                    vec![local(1, F), float(2.0)],
                    F,
                ),
                local(2, F),
            ],
            F,
        ),
    );
    let fold = builtin(Builtin::Fold, fun(&[fun(&[F, F], F), F, lf()], F));
    let body = app(fold, vec![step, float(0.0), local(0, lf())]);
    let p = program_with(lam(vec![(0, lf())], vec![], body));
    with_ctx(&p, |ctx, g| {
        let f = global_value(ctx, g, 0, 3).unwrap();
        let xs = float_lists(g, &[&[1.0, 2.0, 3.0], &[], &[5.0]]);
        let v = apply(ctx, g, &f, vec![xs], Span::default()).unwrap();
        assert_eq!(reals(&v, g), vec![11.0, 0.0, 5.0]);
    });
}

#[test]
fn division_by_zero_names_the_example() {
    let body = prim(
        PrimOp::IntArith(ArithOp::Div),
        vec![int(10), local(0, I)],
        I,
    );
    let p = program_with(lam(vec![(0, I)], vec![], body));
    with_ctx(&p, |ctx, g| {
        let f = global_value(ctx, g, 0, 2).unwrap();
        let n = Value::Int(Rc::new(vec![1, 0]));
        let err = apply(ctx, g, &f, vec![n], Span::default()).unwrap_err();
        assert_eq!(err.code, Code::RuntimeError);
        assert_eq!(err.message, "integer division by zero");
        assert_eq!(
            err.notes,
            vec!["in example 2 of the batch of 2".to_string()]
        );
    });
}

#[test]
fn last_of_an_empty_list_is_an_error() {
    let e = app(
        builtin(Builtin::Last, fun(&[lf()], F)),
        vec![list(vec![], F)],
    );
    let p = Program::default();
    with_ctx(&p, |ctx, g| {
        let err = eval_closed(ctx, g, &e, 1).unwrap_err();
        assert_eq!(err.message, "`last` of an empty list");
        assert!(err.notes.is_empty());
    });
}

/// `(\a b -> a - b) 5.0` is a function; `fst (\x -> x + 1.0, 1) 3.0` over-applies.
#[test]
fn partial_and_over_application() {
    let sub = lam(
        vec![(0, F), (1, F)],
        vec![],
        prim(
            PrimOp::RealArith(ArithOp::Sub, Broadcast::None),
            vec![local(0, F), local(1, F)],
            F,
        ),
    );
    let partial = app(sub, vec![float(5.0)]);
    let full = app(partial, vec![float(2.0)]);
    let inc = lam(
        vec![(2, F)],
        vec![],
        prim(
            PrimOp::RealArith(ArithOp::Add, Broadcast::None),
            vec![local(2, F), float(1.0)],
            F,
        ),
    );
    let pair_ty = Type::Tuple(vec![fun(&[F], F), I]);
    let pair = ex(ExprKind::Tuple(vec![inc, int(1)]), pair_ty.clone());
    let fst = builtin(Builtin::Fst, fun(&[pair_ty], fun(&[F], F)));
    let over = app(fst, vec![pair, float(3.0)]);
    let p = Program::default();
    with_ctx(&p, |ctx, g| {
        let v = eval_closed(ctx, g, &full, 1).unwrap();
        assert_eq!(reals(&v, g), vec![3.0]);
        let v = eval_closed(ctx, g, &over, 2).unwrap();
        assert_eq!(reals(&v, g), vec![4.0, 4.0]);
    });
}
