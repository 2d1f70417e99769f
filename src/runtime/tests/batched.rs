//! Batched evaluation equals per-example evaluation: a def is applied to a
//! batch of different examples (lists of different lengths, trees of
//! different shapes, grids of different sizes), built both by the codec's
//! batch assembly and by `batch::concat` of single examples, and the result
//! of each example must equal evaluating that example alone.

use super::*;
use crate::codec::{assemble, decode, Example};
use crate::ir::GlobalRef;
use crate::runtime::batch;
use crate::runtime::eval::{apply, global_value};

fn def_id(program: &Program, name: &str) -> usize {
    match program.globals.get(name) {
        Some(GlobalRef::Def(id)) => *id,
        other => panic!("`{name}` is not a def: {other:?}"),
    }
}

/// Apply def `name` to `arg` (batch `n`) and print each example's result.
fn run_on(
    ctx: &Context,
    g: &mut Graph,
    id: usize,
    arg: Value,
    n: usize,
    res: &Type,
) -> Vec<String> {
    let f = global_value(ctx, g, id, n).unwrap();
    match apply(ctx, g, &f, vec![arg], Span::default()) {
        Ok(v) => {
            assert_eq!(batch::batch_size(&v), n, "result batch size");
            show_all(g, ctx.program, ctx.vocabs, &v, res)
        }
        Err(d) => vec![error_text(&d)],
    }
}

fn batched_equals_single(src: &str, name: &str, inputs: &[&str]) {
    let c = compile(src);
    let program = &c.program;
    let id = def_id(program, name);
    let Type::Func(arg_ty, res_ty) = &program.defs[id].scheme.ty else {
        panic!("`{name}` is not a function");
    };
    let mut vocabs = Vocabularies::from_types(&program.types);
    let examples: Vec<Example> = inputs
        .iter()
        .map(|s| {
            let json = serde_json::from_str(s).unwrap();
            decode(&json, arg_ty, &program.types, &mut vocabs, true).unwrap()
        })
        .collect();
    let weights = super::super::weights::initialise(program, &vocabs, &Graph::inference(), 7);
    let ctx = Context::new(program, &vocabs, &weights);
    let mut singles = Vec::new();
    for e in &examples {
        let mut g = Graph::inference();
        let arg = assemble(&g, &[e], arg_ty, &program.types);
        singles.extend(run_on(&ctx, &mut g, id, arg, 1, res_ty));
    }
    assert!(
        singles.iter().all(|s| !s.starts_with("error")),
        "{singles:?}"
    );
    let n = examples.len();
    let mut g = Graph::inference();
    let refs: Vec<&Example> = examples.iter().collect();
    let arg = assemble(&g, &refs, arg_ty, &program.types);
    let assembled = run_on(&ctx, &mut g, id, arg, n, res_ty);
    assert_eq!(assembled, singles, "batch by assembly");
    let parts: Vec<Value> = examples
        .iter()
        .map(|e| assemble(&g, &[e], arg_ty, &program.types))
        .collect();
    let arg = batch::concat(&mut g, &parts);
    let concatenated = run_on(&ctx, &mut g, id, arg, n, res_ty);
    assert_eq!(concatenated, singles, "batch by concat");
    // Every example twice, reversed: gather with repeats.
    let idx: Vec<usize> = (0..n).rev().chain(0..n).collect();
    let all = batch::concat(&mut g, &parts);
    let arg = batch::gather(&mut g, &all, &idx);
    let twice = run_on(&ctx, &mut g, id, arg, 2 * n, res_ty);
    let want: Vec<String> = idx.iter().map(|&i| singles[i].clone()).collect();
    assert_eq!(twice, want, "batch by gather");
}

#[test]
fn fold_rnn() {
    let src = "
vocab Word
rep H = R[3]
learn embed : Word -> R[4]
learn cell : (H, R[4]) -> H
def enc (ws : List Word) : H = fold (\\h w -> tanh (cell (h, embed w))) zeros ws
";
    batched_equals_single(
        src,
        "enc",
        &[
            r#"["a", "b", "c"]"#,
            "[]",
            r#"["b"]"#,
            r#"["c", "a", "a", "b", "c"]"#,
        ],
    );
}

#[test]
fn map_accum_both_ways_and_zip_with() {
    let src = "
def left (xs : List Float) : (Float, List Float) = mapAccumL (\\s x -> (s * 0.5 + x, s - x)) 1.0 xs
def right (xs : List Float) : (Float, List Float) = mapAccumR (\\s x -> (s * 0.5 + x, s - x)) 1.0 xs
def bi (xs : List Float) : List Float =
  zipWith (\\a b -> a * b) (snd (mapAccumL (\\s x -> (s + x, s)) 0.0 xs)) (snd (mapAccumR (\\s x -> (s + x, s)) 0.0 xs))
def zw ((xs, ys) : (List Float, List Float)) : List Float = zipWith (\\a b -> a * b + 1.0) xs ys
";
    let lists = ["[1, 2, 3]", "[]", "[4]", "[5, -1, 2, 0.5, 3]"];
    batched_equals_single(src, "left", &lists);
    batched_equals_single(src, "right", &lists);
    batched_equals_single(src, "bi", &lists);
    batched_equals_single(
        src,
        "zw",
        &["[[1, 2, 3], [4, 5]]", "[[], [1]]", "[[7], [8, 9]]"],
    );
}

#[test]
fn unfold_and_iterate() {
    let src = "
learn lin : R[2] -> R[2]
def gen ((n, s) : (Int, Float)) : List Float = unfold n (\\s -> (s * 2.0, s + 1.0)) s
def it ((n, x) : (Int, R[2])) : R[2] = iterate n (\\z -> tanh (lin z)) x
";
    batched_equals_single(src, "gen", &["[3, 1]", "[0, 5]", "[1, 2]", "[-2, 1]"]);
    batched_equals_single(src, "it", &["[3, [1, 2]]", "[0, [5, 6]]", "[1, [0, 1]]"]);
}

#[test]
fn windows_and_convolutions() {
    let src = "
learn conv : Window[2] R[2] -> R[3]
learn k2 : Window[2, 2] Float -> Float
def c1 (xs : List R[2]) : List R[3] = windowMap conv xs
def c2 (g : Grid Float) : Grid Float = windowMap2 k2 g
def pool (g : Grid Float) : Grid Float = maxpool2 2 (windowMap2 k2 g)
";
    batched_equals_single(
        src,
        "c1",
        &[
            "[]",
            "[[1, 2]]",
            "[[1, 2], [3, 4]]",
            "[[1, 2], [3, 4], [5, 6], [7, 8]]",
        ],
    );
    let grids = [
        "[[1, 2, 3], [4, 5, 6], [7, 8, 9]]",
        "[[1]]",
        "[[1, 2], [3, 4]]",
        "[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [1, 1, 1, 1, 1], [0, 2, 0, 2, 0]]",
    ];
    batched_equals_single(src, "c2", &grids);
    batched_equals_single(src, "pool", &grids);
}

#[test]
fn cata_tree_net() {
    let src = "
learn comb : (R[2], R[2]) -> R[2]
learn lf : Float -> R[2]
def tn (t : Tree Float) : R[2] = cata (\\x -> tanh (lf x)) (\\l r -> tanh (comb (l, r))) t
def size (t : Tree Float) : Int = cata (\\x -> 1) (\\l r -> l + r + 1) t
def flip (t : Tree Float) : Tree Float = cata leaf (\\l r -> node r l) t
";
    let trees = ["1", "[1, 2]", "[[1, 2], [3, [4, 5]]]", "[[[1, 2], 3], 4]"];
    batched_equals_single(src, "tn", &trees);
    batched_equals_single(src, "size", &trees);
    batched_equals_single(src, "flip", &trees);
}

#[test]
fn if_selects_per_example() {
    let src = "
def sel ((b, x) : (Bool, Float)) : Float = if b then x * 2.0 else last [x, 1.0]
def guard (xs : List Float) : Float = if length xs > 0 then last xs else 0.0 - 1.0
def shape (xs : List Float) : List Float = if length xs > 2 then take 2 xs else xs ++ [0.0]
def pick (xs : List Float) : List Float = (if length xs > 1 then map (\\x -> x + 1.0) else reverse) xs
def tree (xs : List Float) : Tree Float =
  if length xs > 1 then node (leaf (last xs)) (leaf 0.0) else leaf 5.0
";
    batched_equals_single(src, "sel", &["[true, 1]", "[false, 2]", "[true, 3]"]);
    let lists = ["[1, 2, 3]", "[]", "[4]", "[5, 6]"];
    batched_equals_single(src, "guard", &lists);
    batched_equals_single(src, "shape", &lists);
    batched_equals_single(src, "pick", &lists);
    batched_equals_single(src, "tree", &lists);
}

#[test]
fn nested_closures_capture_per_example_values() {
    let src = "
def nested ((xss, k) : (List (List Float), Float)) : List Float =
  map (\\ys -> fold (\\s y -> s + y * k) 0.0 ys) xss
";
    batched_equals_single(
        src,
        "nested",
        &["[[[1, 2], [], [3]], 2]", "[[], 5]", "[[[4, 5, 6]], -1]"],
    );
}
