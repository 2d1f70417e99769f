//! Golden values of builtins, combinators and operators, evaluated from dp
//! source with a batch of one (expected values computed by hand).

use super::*;

const LISTS: &str = "
def xs : List Float = [1.0, 2.0, 3.0]
def nums : List Int = [1, 2, 3]
def none : List Float = []
";

fn check(src: &str, cases: &[(&str, &str)]) {
    let mut c = compile(src);
    let (vocabs, weights) = fresh(&c.program);
    let mut failures = Vec::new();
    for (expr, want) in cases {
        let got = eval_str(&mut c, &vocabs, &weights, expr);
        if got.trim() != *want {
            failures.push(format!("{expr}\n  want: {want}\n  got:  {got}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn map_fold_unfold_iterate() {
    check(
        LISTS,
        &[
            ("map (\\x -> x * 2.0) xs", "[2, 4, 6]"),
            ("map (\\x -> x * 2.0) none", "[]"),
            ("fold (\\s x -> s * 2.0 + x) 0.0 xs", "11"),
            ("fold (\\s x -> s * 2.0 + x) 5.0 none", "5"),
            (
                "fold (\\s x -> s + x) (zeros : R[2]) [([1.0, 2.0] : R[2]), [3.0, 4.0]]",
                "[4, 6]",
            ),
            ("unfold 3 (\\s -> (s * 2.0, s + 1.0)) 1.0", "[2, 4, 6]"),
            ("unfold 0 (\\s -> (s * 2.0, s + 1.0)) 1.0", "[]"),
            ("unfold (0 - 2) (\\s -> (s, s)) 1.0", "[]"),
            ("iterate 3 (\\x -> x * 2.0) 1.0", "8"),
            ("iterate 0 (\\x -> x * 2.0) 1.0", "1"),
            ("iterate (0 - 1) (\\x -> x * 2.0) 1.0", "1"),
            ("iterate 2 (\\p -> (snd p, fst p + snd p)) (1, 1)", "[2, 3]"),
        ],
    );
}

#[test]
fn map_accum_and_zips() {
    check(
        LISTS,
        &[
            (
                "mapAccumL (\\s x -> (s + x, s * x)) 0.0 xs",
                "[6, [0, 2, 9]]",
            ),
            (
                "mapAccumR (\\s x -> (s + x, s * x)) 0.0 xs",
                "[6, [5, 6, 0]]",
            ),
            ("mapAccumL (\\s x -> (s + x, s * x)) 1.0 none", "[1, []]"),
            ("mapAccumR (\\s x -> (s + 1, x)) 0 nums", "[3, [1, 2, 3]]"),
            ("zip xs [true, false]", "[[1, true], [2, false]]"),
            ("zip none nums", "[]"),
            ("zipWith (\\a b -> a - b) [5.0, 7.0] xs", "[4, 5]"),
            ("zipWith (\\a b -> a * b) nums [4, 5, 6]", "[4, 10, 18]"),
        ],
    );
}

const WINDOWS: &str = "
def pairsum (w : Window[2] Float) : Float = sum w
def wlast (w : Window[2] Int) : Int = last (elems w)
def rev3 (w : Window[3] Float) : List Float = reverse (elems w)
def box (w : Window[2, 2] Float) : Float = sum w
def corner (w : Window[2, 2] Int) : Int = last (elems w)
def pairs (w : Window[2] (Float, Float)) : Float = sum w
def img : Grid Float = grid [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
def g4 : Grid Float = grid [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]
";

#[test]
fn windows_and_grids() {
    check(
        WINDOWS,
        &[
            ("windowMap pairsum [1.0, 2.0, 3.0, 4.0]", "[3, 5, 7]"),
            ("windowMap pairsum [1.0]", "[]"),
            ("windowMap wlast [1, 2, 3]", "[2, 3]"),
            (
                "windowMap rev3 [1.0, 2.0, 3.0, 4.0]",
                "[[3, 2, 1], [4, 3, 2]]",
            ),
            (
                "windowMap pairs [(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)]",
                "[10, 18]",
            ),
            ("windowMap2 box img", "[[12, 16], [24, 28]]"),
            (
                "windowMap2 corner (grid [[1, 2, 3], [4, 5, 6]])",
                "[[5, 6]]",
            ),
            ("windowMap2 box (grid [[1.0, 2.0]])", "[]"),
            ("maxpool2 2 g4", "[[6, 8], [14, 16]]"),
            ("maxpool2 2 img", "[[5]]"),
            ("maxpool2 0 img", "error: `maxpool2` with block size 0"),
            ("flatten img", "[1, 2, 3, 4, 5, 6, 7, 8, 9]"),
            (
                "grid [[1, 2], [3]]",
                "error: ragged grid: row 2 has 1 cell, row 1 has 2",
            ),
            ("flatten (grid ([] : List (List Int)))", "[]"),
        ],
    );
}

#[test]
fn trees() {
    let src = "
def t : Tree Float = node (node (leaf 1.0) (leaf 2.0)) (leaf 3.0)
def one : Tree Float = leaf 7.0
";
    check(
        src,
        &[
            ("cata (\\x -> x) (\\l r -> l - r) t", "-4"),
            ("cata (\\x -> 1) (\\l r -> l + r) t", "3"),
            ("cata (\\x -> x) (\\l r -> l - r) one", "7"),
            ("cata (\\x -> [x]) (\\l r -> r ++ l) t", "[3, 2, 1]"),
            ("leaves t", "[1, 2, 3]"),
            ("leaves one", "[7]"),
            ("node one one", "[7, 7]"),
        ],
    );
}

#[test]
fn list_structure() {
    check(
        LISTS,
        &[
            ("length xs", "3"),
            ("length none", "0"),
            ("reverse xs", "[3, 2, 1]"),
            ("take 2 xs", "[1, 2]"),
            ("take 5 xs", "[1, 2, 3]"),
            ("take (0 - 1) xs", "[]"),
            ("drop 1 xs", "[2, 3]"),
            ("drop 5 xs", "[]"),
            ("drop (0 - 1) xs", "[1, 2, 3]"),
            ("last xs", "3"),
            ("last none", "error: `last` of an empty list"),
            ("xs ++ [4.0]", "[1, 2, 3, 4]"),
            ("none ++ xs", "[1, 2, 3]"),
            ("sumList xs", "6"),
            ("sumList none", "0"),
            ("sumList ([] : List R[2])", "[0, 0]"),
            ("sumList [([1.0, 5.0] : R[2]), [3.0, 2.0]]", "[4, 7]"),
            ("meanList [1.0, 2.0, 3.0, 6.0]", "3"),
            ("meanList none", "error: `meanList` of an empty list"),
            ("maxList [([1.0, 5.0] : R[2]), [3.0, 2.0]]", "[3, 5]"),
            ("maxList none", "error: `maxList` of an empty list"),
            ("sumList [(1.0, 2.0), (3.0, 4.0)]", "[4, 6]"),
            ("fst (1, true)", "1"),
            ("snd (1, true)", "true"),
        ],
    );
}

#[test]
fn elementwise_and_reductions() {
    let src = "
def v : R[4] = [1.0, -5.0, 3.0, 2.0]
def t3 : R[3] = [1.0, 1.0, 1.0]
def x3 : R[3] = [-3.0, 0.5, 2.0]
";
    check(
        src,
        &[
            ("tanh 0.0", "0"),
            ("sigmoid 0.0", "0.5"),
            ("relu v", "[1, 0, 3, 2]"),
            ("exp 0.0", "1"),
            ("log 1.0", "0"),
            ("sqrt 4.0", "2"),
            ("abs v", "[1, 5, 3, 2]"),
            ("relu (-1.0, 2.0)", "[0, 2]"),
            ("soft_threshold t3 x3", "[-2, 0, 1]"),
            ("hard_threshold t3 x3", "[-3, 0, 2]"),
            ("topk 2 v", "[0, -5, 3, 0]"),
            ("topk 0 v", "[0, 0, 0, 0]"),
            ("topk 9 v", "[1, -5, 3, 2]"),
            ("sum v", "1"),
            ("mean v", "0.25"),
            ("max v", "3"),
            ("dot t3 x3", "-0.5"),
            ("norm ([3.0, 4.0] : R[2])", "5"),
            ("softmax ([0.0, 0.0] : R[2])", "[0.5, 0.5]"),
            (
                "softmax ([[0.0, 0.0], [0.0, 1.0986123]] : R[2, 2])",
                "[[0.5, 0.5], [0.25, 0.75]]",
            ),
            ("log_softmax ([0.0, 0.0] : R[2])", "[-0.6931, -0.6931]"),
            ("concat ([1.0, 2.0] : R[2]) ([3.0] : R[1])", "[1, 2, 3]"),
            ("float 3", "3"),
            ("mse ([1.0, 2.0] : R[2]) [3.0, 2.0]", "2"),
            ("bce 0.0 true", "0.6931"),
            ("(zeros : R[2])", "[0, 0]"),
            ("(ones : (Float, R[2]))", "[1, [1, 1]]"),
        ],
    );
}

#[test]
fn operators() {
    check(
        LISTS,
        &[
            ("7 / 2", "3"),
            ("(0 - 7) / 2", "-3"),
            ("10 / (2 - 2)", "error: integer division by zero"),
            ("2 * 3 - 1", "5"),
            ("-(3)", "-3"),
            ("-(3.0)", "-3"),
            (
                "([[1.0, 2.0], [3.0, 4.0]] : R[2, 2]) @ ([1.0, 1.0] : R[2])",
                "[3, 7]",
            ),
            (
                "([[1.0, 2.0], [3.0, 4.0]] : R[2, 2]) @ ([[0.0, 1.0], [1.0, 0.0]] : R[2, 2])",
                "[[2, 1], [4, 3]]",
            ),
            ("([1.0, 2.0] : R[2]) + 1.0", "[2, 3]"),
            ("2.0 * ([1.0, 2.0] : R[2])", "[2, 4]"),
            ("([1.0, 2.0] : R[2]) / ([2.0, 4.0] : R[2])", "[0.5, 0.5]"),
            ("(1.0, 2.0) + (3.0, 4.0)", "[4, 6]"),
            ("1.0 < 2.0", "true"),
            ("2 >= 3", "false"),
            ("true == false", "false"),
            ("1 != 2", "true"),
            ("length none > 0 && last none > 0.0", "false"),
            ("length none == 0 || last none > 0.0", "true"),
            ("if length none > 0 then last none else 0.0 - 1.0", "-1"),
            ("let (a, b) = (1.0, 2.0) in a - b", "-1"),
            ("(\\x -> x + 1.0) 2.0", "3"),
            ("2.0 |> (\\x -> x * 3.0)", "6"),
        ],
    );
}

#[test]
fn polymorphic_defs_get_their_shapes() {
    let src = "
def total xs = sumList xs
def twice x = x + x
def start = zeros
";
    check(
        src,
        &[
            ("total ([] : List R[3])", "[0, 0, 0]"),
            ("total [1.0, 2.0]", "3"),
            ("twice ([1.0, 2.0] : R[2])", "[2, 4]"),
            ("twice 2.0", "4"),
            ("(start : R[2])", "[0, 0]"),
        ],
    );
}

#[test]
fn errors_in_constants_name_no_example() {
    let src = "
def bad : Float = last ([] : List Float)
def f (x : Float) : Float = x + bad
";
    let c = compile(src);
    let (vocabs, weights) = fresh(&c.program);
    let ctx = Context::new(&c.program, &vocabs, &weights);
    let Some(crate::ir::GlobalRef::Def(id)) = c.program.globals.get("f").copied() else {
        panic!()
    };
    let mut g = Graph::inference();
    let f = crate::runtime::global_value(&ctx, &mut g, id, 3).unwrap();
    let x = Value::Real(g.from_vec(3, 1, vec![1.0, 2.0, 3.0]));
    let err = crate::runtime::apply(&ctx, &mut g, &f, vec![x], Span::default()).unwrap_err();
    assert_eq!(error_text(&err), "error: `last` of an empty list");
}

/// An error inside `map` names the example the failing element belongs to.
#[test]
fn errors_inside_combinators_name_the_example() {
    let src = "
def lasts : List (List Float) -> List Float = map last
def f (xss : List (List Float)) : List Float = lasts xss
";
    let c = compile(src);
    let (mut vocabs, weights) = fresh(&c.program);
    let Some(crate::ir::GlobalRef::Def(id)) = c.program.globals.get("f").copied() else {
        panic!()
    };
    let ty = Type::list(Type::list(Type::Float));
    let mut g = Graph::inference();
    let parts: Vec<Value> = ["[[1], [2, 3]]", "[[4], [], [5]]", "[]"]
        .iter()
        .map(|j| {
            let json = serde_json::from_str(j).unwrap();
            let e = crate::codec::decode(&json, &ty, &c.program.types, &mut vocabs, true).unwrap();
            crate::codec::assemble(&g, &[&e], &ty, &c.program.types)
        })
        .collect();
    let arg = crate::runtime::batch::concat(&mut g, &parts);
    let ctx = Context::new(&c.program, &vocabs, &weights);
    let f = crate::runtime::global_value(&ctx, &mut g, id, 3).unwrap();
    let err = crate::runtime::apply(&ctx, &mut g, &f, vec![arg], Span::default()).unwrap_err();
    assert_eq!(
        error_text(&err),
        "error: `last` of an empty list [in example 2 of the batch of 3]"
    );
}

#[test]
fn main_and_expressions() {
    let src = "def xs : List Float = [1.0, 2.0, 3.0]\ndef main = sumList xs";
    assert_eq!(run(src, "main"), "6");
    assert_eq!(run(src, "map (\\x -> x * 2.0) xs"), "[2, 4, 6]");
}
