//! Gradients through the evaluator: for programs exercising every batching
//! mechanism (gathers by owner, retiring examples in `fold`, per-height
//! `cata`, window im2col, `if` sub-batches, list reductions), the gradient
//! of the summed objective over a ragged batch with respect to every weight
//! tensor matches central finite differences.

use super::*;
use crate::backend::Reduce;
use crate::codec::{assemble, decode, Example};
use crate::ir::GlobalRef;
use crate::runtime::eval::{apply, global_value};

struct Setup {
    program: Program,
    vocabs: Vocabularies,
    examples: Vec<Example>,
    arg_ty: Type,
    id: usize,
}

fn setup(src: &str, name: &str, inputs: &[&str]) -> Setup {
    let program = compile(src).program;
    let Some(GlobalRef::Def(id)) = program.globals.get(name).copied() else {
        panic!("no def `{name}`")
    };
    let Type::Func(arg_ty, _) = program.defs[id].scheme.ty.clone() else {
        panic!("`{name}` is not a function")
    };
    let mut vocabs = Vocabularies::from_types(&program.types);
    let examples = inputs
        .iter()
        .map(|s| {
            let json = serde_json::from_str(s).unwrap();
            decode(&json, &arg_ty, &program.types, &mut vocabs, true).unwrap()
        })
        .collect();
    Setup {
        program,
        vocabs,
        examples,
        arg_ty: *arg_ty,
        id,
    }
}

/// The summed objective over the batch (a `[1, 1]` real) in `graph`.
fn total(s: &Setup, weights: &Weights, graph: &mut Graph) -> crate::backend::Real {
    let ctx = Context::new(&s.program, &s.vocabs, weights);
    let refs: Vec<&Example> = s.examples.iter().collect();
    let arg = assemble(graph, &refs, &s.arg_ty, &s.program.types);
    let f = global_value(&ctx, graph, s.id, refs.len()).unwrap();
    let Value::Real(losses) = apply(&ctx, graph, &f, vec![arg], Span::default()).unwrap() else {
        panic!("the objective is not real")
    };
    graph.reduce_segments(Reduce::Sum, &losses, &[0, refs.len()])
}

fn grad_check(src: &str, name: &str, inputs: &[&str]) {
    let s = setup(src, name, inputs);
    let weights = super::super::weights::initialise(&s.program, &s.vocabs, &Graph::inference(), 3);
    let mut g = Graph::training();
    let loss = total(&s, &weights, &mut g);
    let grads = g.backward(&loss);
    let n = weights.tensors().len();
    let mut checked = 0;
    for k in 0..n {
        let t = weights.tensors()[k].clone();
        let analytic = grads
            .get(&t)
            .unwrap_or_else(|| vec![0.0; t.rows() * t.cols()]);
        let data = Graph::inference().to_vec(&t);
        let step = (data.len() / 5).max(1);
        for i in (0..data.len()).step_by(step) {
            let eps = 2e-3f32; // small enough not to cross the kinks of relu, abs, max
            let at = |delta: f32| {
                let mut w = weights.clone();
                let mut d = data.clone();
                d[i] += delta;
                let gi = Graph::inference();
                *w.tensors_mut()[k] = gi.from_vec(t.rows(), t.cols(), d);
                let mut gi = Graph::inference();
                let l = total(&s, &w, &mut gi);
                gi.to_vec(&l)[0] as f64
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps as f64);
            let a = analytic[i] as f64;
            let tol = 2e-2 * a.abs().max(numeric.abs()).max(1.0);
            assert!(
                (a - numeric).abs() <= tol,
                "{name}: tensor {k} entry {i}: analytic {a}, numeric {numeric}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no weights checked");
}

#[test]
fn fold_classifier_gradients() {
    let src = "
vocab Word
vocab Label = [\"neg\", \"pos\"]
learn embed : Word -> R[3]
learn cell : (R[2], R[3]) -> R[2]
learn decide : R[2] -> Scores Label
def loss ((ws, y) : (List Word, Label)) : Float =
  cross_entropy (decide (fold (\\h w -> tanh (cell (h, embed w))) zeros ws)) y
";
    grad_check(
        src,
        "loss",
        &[
            r#"[["a", "b", "c"], "pos"]"#,
            r#"[[], "neg"]"#,
            r#"[["b"], "neg"]"#,
        ],
    );
}

#[test]
fn tree_net_gradients() {
    let src = "
learn comb : (R[2], R[2]) -> R[2]
learn lf : Float -> R[2]
def loss (t : Tree Float) : Float = sum (cata (\\x -> tanh (lf x)) (\\l r -> tanh (comb (l, r))) t)
";
    grad_check(src, "loss", &["1", "[1, 2]", "[[1, 2], [3, [4, 5]]]"]);
}

#[test]
fn convolution_and_pooling_gradients() {
    let src = "
learn conv : Window[2] R[2] -> R[2]
learn k2 : Window[2, 2] Float -> Float
def loss1 (xs : List R[2]) : Float = sum (maxList (windowMap conv xs) + meanList (windowMap conv xs))
def loss2 (g : Grid Float) : Float = sumList (flatten (maxpool2 2 (windowMap2 k2 g)))
";
    grad_check(
        src,
        "loss1",
        &["[[1, 2], [3, 4]]", "[[1, 0], [0, 1], [2, 2], [-1, 3]]"],
    );
    grad_check(
        src,
        "loss2",
        &[
            "[[1, 2, 3], [4, 5, 6], [7, 8, 9]]",
            "[[1, 2, 0, 1], [3, 4, 1, 0], [0, 1, 2, 2]]",
        ],
    );
}

#[test]
fn accumulations_iterations_and_branches() {
    let src = "
learn lin : R[2] -> R[2]
learn out : R[2] -> Float
def accum (xs : List R[2]) : Float =
  sumList (zipWith (\\a b -> out (a * b))
    (snd (mapAccumL (\\s x -> (tanh (lin (s + x)), s)) zeros xs))
    (snd (mapAccumR (\\s x -> (tanh (lin (s - x)), s + x)) zeros xs)))
def gen (n : Int) : Float = sumList (map out (unfold n (\\s -> (s, tanh (lin s))) (ones : R[2])))
def lista ((n, x) : (Int, R[2])) : Float =
  if n > 1 then norm (iterate n (\\z -> soft_threshold ((ones : R[2]) * 0.1) (lin z + x)) x) else out x
";
    let lists = ["[[1, 2], [3, 4], [0, 1]]", "[]", "[[2, -1]]"];
    grad_check(src, "accum", &lists);
    grad_check(src, "gen", &["3", "0", "1"]);
    grad_check(
        src,
        "lista",
        &["[3, [1, 2]]", "[0, [5, -6]]", "[2, [0.5, 1]]"],
    );
}

/// A closed def is computed once per instantiation and repeated for every
/// example; its gradient is the sum over all uses.
#[test]
fn constant_defs_and_params_gradients() {
    let src = "
param theta : R[2]
learn lin : R[2] -> R[2]
def scaled : R[2] = tanh (lin theta) * 2.0
def loss (xs : List R[2]) : Float = sumList (map (\\x -> dot x scaled) xs) + sum theta
";
    grad_check(src, "loss", &["[[1, 2], [3, 4]]", "[]", "[[2, -1]]"]);
}
