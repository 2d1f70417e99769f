//! Lowering: small programs and the networks they print.

use expect_test::{expect, Expect};

fn check(src: &str, def: &str, expect: Expect) {
    let compiled = match crate::driver::compile_source("t.dp", src) {
        Ok(c) => c,
        Err((sources, diags)) => panic!("{}", crate::diagnostic::render(&diags, &sources, false)),
    };
    let text = match super::print_defs(&compiled, Some(def)) {
        Ok(text) => text,
        Err(d) => format!("error: {}\n{}", d.message, d.help.unwrap_or_default()),
    };
    expect.assert_eq(&text);
}

#[test]
fn plain_ops_and_constants() {
    check(
        "def k : Float = 2.0\ndef f (x : Float) : Float = x * k + 1.0",
        "f",
        expect![[r#"
            f (x : Float) : Float
              %0 = k : Float
              %1 = * x %0 : Float                                       fused into %2
              %2 = + %1 1.0 : Float
              = %2
              parameters: none
        "#]],
    );
}

#[test]
fn an_rnn_with_a_captured_value() {
    check(
        "rep H = R[4]\nlearn cell : (H, R[2]) -> H\nparam bias : H\n\
         def enc (b : H) (xs : List R[2]) : H = fold (\\h x -> tanh (cell (h, x)) + b) zeros xs\n\
         def run (xs : List R[2]) : H = enc bias xs",
        "run",
        expect![[r#"
            run (xs : List R[2]) : H [4]
              %0 = param bias : H [4]                                   4 parameters
              %1 = zeros : H [4]
              %2 = rnn (fold \) %1 xs : H [4]                           hoisted over minibatches of at most 96 examples
                  cell (h : H, x : R[2], captured b : H)
                    %0 = affine cell (h, x) : H [4]                     affine 6 -> 4, 28 parameters; element half before the loop; fused into %1
                    %1 = tanh %0 : H [4]                                fused with the product
                    %2 = + %1 b : H [4]
                    = %2
              = %2
              parameters: 32 (2 learned pieces)
        "#]],
    );
}

#[test]
fn tuple_patterns_read_parts() {
    check(
        "rep H = R[3]\nlearn split : H -> (H, H)\n\
         def f (h : H) : H = let (a, b) = split h in a * b",
        "f",
        expect![[r#"
            f (h : H) : H [3]
              %0 = affine split h : (H, H)                              affine 3 -> 3 + 3, 24 parameters
              %1 = .0 %0 : H [3]
              %2 = .1 %0 : H [3]
              %3 = * %1 %2 : H [3]
              = %3
              parameters: 24 (1 learned piece)
        "#]],
    );
}

#[test]
fn modules_of_every_kind() {
    check(
        "vocab V = [\"a\", \"b\"]\nrep E = R[2]\nlearn emb : V -> E\nlearn conv : Window[3] E -> E\n\
         learn join : (E, E) -> E\n\
         def net ((t, xs, n) : (Tree V, List V, Int)) : E =\n\
           let leaves = cata emb (\\l r -> join (l, r)) t in\n\
           let seq = windowMap conv (map emb xs) in\n\
           let gen = unfold n (\\s -> (s, tanh s)) leaves in\n\
           iterate n (\\e -> relu e) (sumList seq + sumList gen)",
        "net",
        expect![[r#"
            net (t : Tree V, xs : List V, n : Int) : E [2]
              %0 = treenet (cata emb) t : E [2]
                  leaf (x0 : V)
                    %0 = embedding emb x0 : E [2]                       embedding 2 x 2, 4 parameters
                    = %0
                  node (l : E, r : E)
                    %0 = affine join (l, r) : E [2]                     affine 4 -> 2, 10 parameters; children gathered into its input
                    = %0
              %1 = layer (map emb) xs : List E
                  cell (x0 : V)
                    %0 = embedding emb x0 : E [2]                       embedding 2 x 2, 4 parameters
                    = %0
              %2 = conv1d (windowMap conv) %1 : List E
                  cell (x0 : Window[3] E)
                    %0 = affine conv x0 : E [2]                         affine 6 -> 2, 14 parameters
                    = %0
              %3 = generative rnn (unfold \) n %0 : List E
                  cell (s : E)
                    %0 = tanh s : E [2]
                    = (s, %0)
              %4 = sumList %2 : E [2]
              %5 = sumList %3 : E [2]
              %6 = + %4 %5 : E [2]
              %7 = unrolled (iterate \) n %6 : E [2]
                  cell (e : E)
                    %0 = relu e : E [2]
                    = %0
              = %7
              parameters: 28 (3 learned pieces)
        "#]],
    );
}

#[test]
fn unknown_defs_get_a_suggestion() {
    check(
        "def model (x : Float) : Float = x",
        "modle",
        expect![[r#"
        error: the program has no def `modle`
        did you mean `model`?"#]],
    );
}

#[test]
fn exponential_inlining_is_refused() {
    let mut src = String::from("def f0 (x : Float) : Float = x + x\n");
    for i in 1..20 {
        src.push_str(&format!(
            "def f{i} (x : Float) : Float = f{} (f{} x)\n",
            i - 1,
            i - 1
        ));
    }
    check(
        &src,
        "f19",
        expect![[r#"
        error: the network is larger than 20000 ops, too large to show
    "#]],
    );
}

/// The hoisting plan of def `step` (its last parameter the element, the
/// one before it the state): hoisted expressions and split affine maps, as
/// source text.
fn check_plan(src: &str, expect: Expect) {
    let compiled = match crate::driver::compile_source("t.dp", src) {
        Ok(c) => c,
        Err((sources, diags)) => panic!("{}", crate::diagnostic::render(&diags, &sources, false)),
    };
    let program = &compiled.program;
    let Some(crate::ir::GlobalRef::Def(id)) = program.globals.get("step").copied() else {
        panic!("no step");
    };
    let crate::ir::ExprKind::Lambda(lam) = &program.defs[id].body.kind else {
        panic!("step is not a lambda");
    };
    let plan = super::hoist::plan(program, lam, lam.params.len() - 2);
    let text = |span: crate::source::Span| {
        let file = compiled.sources.get(span.source).expect("source");
        file.text[span.start as usize..span.end as usize].to_string()
    };
    let mut nodes = std::collections::HashMap::new();
    let mut stack = vec![&lam.body];
    while let Some(e) = stack.pop() {
        nodes.insert(super::hoist::at(e), e.span);
        match &e.kind {
            crate::ir::ExprKind::App { func, args } => {
                stack.push(func);
                stack.extend(args.iter());
            }
            crate::ir::ExprKind::Let { value, body, .. } => stack.extend([&**value, &**body]),
            crate::ir::ExprKind::If { cond, .. } => stack.push(cond),
            crate::ir::ExprKind::Prim { args, .. }
            | crate::ir::ExprKind::Tuple(args)
            | crate::ir::ExprKind::List(args) => stack.extend(args.iter()),
            _ => {}
        }
    }
    let mut out = String::new();
    for h in &plan.values {
        let binds = match (h.binds.is_some(), h.in_loop) {
            (true, true) => " (let)",
            (true, false) => " (let, bound before the loop only)",
            _ => "",
        };
        out.push_str(&format!("hoist {}{binds}\n", text(nodes[&h.at])));
    }
    for s in &plan.splits {
        let mask: Vec<&str> = s
            .element
            .iter()
            .map(|&e| if e { "element" } else { "state" })
            .collect();
        let fused = s
            .activation
            .map_or(String::new(), |b| format!(", {} fused", b.name()));
        out.push_str(&format!(
            "split {} [{}] {:?}{fused}\n",
            text(nodes[&s.at]),
            mask.join(", "),
            s.columns
        ));
    }
    expect.assert_eq(&out);
}

#[test]
fn hoisting_plans() {
    let head = "vocab W\nrep E = R[4]\nrep H = R[5]\nlearn embed : W -> E\n\
                learn cell : (H, E) -> H\nlearn gates : (E, H) -> (H, H)\nparam p : H\n";
    check_plan(
        &format!("{head}def step (h : H) (w : W) : H = tanh (cell (h, embed w))"),
        expect![[r#"
            split tanh (cell (h, embed w)) [state, element] [(0, 5), (5, 9)], tanh fused
        "#]],
    );
    check_plan(
        &format!(
            "{head}def step (q : H) (h : H) (w : W) : H =\n\
             let e = embed w in let (z, r) = gates (e, h) in\n\
             if sum (e * 2.0) > 0.0 then z * q + relu (cell (r, e)) else h"
        ),
        expect![[r#"
            hoist embed w (let)
            hoist sum (e * 2.0) > 0.0
            split gates (e, h) [element, state] [(0, 4), (4, 9)]
        "#]],
    );
    // A `let` of the element itself: bound before the loop for `embed e`.
    check_plan(
        &format!("{head}def step (h : H) (w : W) : H = let e = w in tanh (cell (h, embed e))"),
        expect![[r#"
            hoist w (let, bound before the loop only)
            split tanh (cell (h, embed e)) [state, element] [(0, 5), (5, 9)], tanh fused
        "#]],
    );
    check_plan(
        &format!("{head}def step (h : H) (w : W) : H = tanh (cell (h + p, embed w)) * h"),
        expect![[r#"
            split tanh (cell (h + p, embed w)) [state, element] [(0, 5), (5, 9)], tanh fused
        "#]],
    );
}

#[test]
fn a_fold_over_a_family_is_unrolled() {
    check(
        "rep H = R[2]\nlearn blocks : [2] (H -> H)\nlearn out : H -> Float\n\
         def deep (x : H) : H = fold (\\h f -> h + relu (f h)) x blocks\n\
         def each (x : H) : List Float = map (\\f -> out (f x)) (reverse blocks)\n\
         def both (x : H) : (H, List Float, Int) = (deep x, each x, length blocks)",
        "both",
        expect![[r#"
            both (x : H) : (H, List Float, Int)
              %0 = affine blocks.0 x : H [2]                            affine 2 -> 2, 6 parameters; fused into %2
              %1 = relu %0 : H [2]                                      fused into %2
              %2 = + x %1 : H [2]
              %3 = affine blocks.1 %2 : H [2]                           affine 2 -> 2, 6 parameters; fused into %5
              %4 = relu %3 : H [2]                                      fused into %5
              %5 = + %2 %4 : H [2]
              %6 = affine blocks.1 x : H [2]                            affine 2 -> 2, 6 parameters
              %7 = affine out %6 : Float                                affine 2 -> 1, 3 parameters
              %8 = affine blocks.0 x : H [2]                            affine 2 -> 2, 6 parameters
              %9 = affine out %8 : Float                                affine 2 -> 1, 3 parameters
              %10 = list %7 %9 : List Float
              = (%5, %10, 2)
              parameters: 15 (3 learned pieces)
        "#]],
    );
}

#[test]
fn a_list_of_functions_not_known_here_is_an_operand() {
    check(
        "rep H = R[2]\nlearn blocks : [2] (H -> H)\n\
         def pick (n : Int) (x : H) : H = fold (\\h f -> f h) x (take n blocks)",
        "pick",
        expect![[r#"
            pick (n : Int, x : H) : H [2]
              %0 = take n <function [blocks.0, blocks.1]> : List (H -> H)
              %1 = rnn (fold \) x %0 : H [2]
                  cell (h : H, f : H -> H)
                    %0 = apply f h : H [2]
                    = %0
              = %1
              parameters: 12 (2 learned pieces)
              runs on the evaluator: it applies a function the lowering could not follow
        "#]],
    );
}

#[test]
fn branches_with_ops_are_switches() {
    // A branch that may fail runs only where taken: a switch of two cells.
    // Total ops with a discrete value, and the right side of `&&` that
    // cannot fail, run everywhere: a plain `if` and `&&`.
    check(
        "param p : Float\n\
         def f (xs : List Float) : Float = if length xs > 0 then head xs * p else p",
        "f",
        expect![[r#"
            f (xs : List Float) : Float
              %0 = length xs : Int
              %1 = > %0 0 : Bool
              %2 = if %1 : Float
                  then (captured xs : List Float)
                    %0 = head xs : Float
                    %1 = param p : Float                                1 parameter
                    %2 = * %0 %1 : Float
                    = %2
                  else ()
                    %0 = param p : Float                                1 parameter
                    = %0
              = %2
              parameters: 1 (1 learned piece)
        "#]],
    );
    check(
        "def g (xs : List Float) (n : Int) : Int = if n > 0 && length xs > n then n + 1 else n - 1",
        "g",
        expect![[r#"
        g (xs : List Float, n : Int) : Int
          %0 = > n 0 : Bool
          %1 = length xs : Int
          %2 = > %1 n : Bool
          %3 = && %0 %2 : Bool
          %4 = + n 1 : Int
          %5 = - n 1 : Int
          %6 = if %3 %4 %5 : Int
          = %6
          parameters: none
    "#]],
    );
    check(
        "def h (xs : List Float) : Bool = length xs > 0 && head xs > 0.0",
        "h",
        expect![[r#"
        h (xs : List Float) : Bool
          %0 = length xs : Int
          %1 = > %0 0 : Bool
          %2 = if %1 : Bool
              then (captured xs : List Float)
                %0 = head xs : Float
                %1 = > %0 0.0 : Bool
                = %1
              else ()
                = false
          = %2
          parameters: none
    "#]],
    );
}

#[test]
fn a_split_read_twice_keeps_its_activation_apart() {
    check(
        "learn cell : (R[3], R[2]) -> R[3]\nparam q : R[3]\n\
         def loss (xs : List R[2]) : Float =\n\
           sum (fold (\\h x -> let z = cell (h, x) in tanh z + q * z) zeros xs)",
        "loss",
        expect![[r#"
            loss (xs : List R[2]) : Float
              %0 = zeros : R[3]
              %1 = rnn (fold \) %0 xs : R[3]                            hoisted over minibatches of at most 96 examples
                  cell (h : R[3], x : R[2])
                    %0 = affine cell (h, x) : R[3]                      affine 5 -> 3, 18 parameters; element half before the loop
                    %1 = tanh %0 : R[3]                                 fused into %4
                    %2 = param q : R[3]                                 3 parameters; before the loop
                    %3 = * %2 %0 : R[3]                                 fused into %4
                    %4 = + %1 %3 : R[3]
                    = %4
              %2 = sum %1 : Float
              = %2
              parameters: 21 (2 learned pieces)
        "#]],
    );
}

#[test]
fn a_module_reading_only_the_element_runs_before_the_loop() {
    check(
        "learn cell : (R[3], R[2]) -> R[3]\n\
         def loss (xs : List R[2]) : Float =\n\
           sum (fold (\\h x -> tanh (cell (h, sumList (map (\\y -> y * x) [x, x])))) zeros xs)",
        "loss",
        expect![[r#"
            loss (xs : List R[2]) : Float
              %0 = zeros : R[3]
              %1 = rnn (fold \) %0 xs : R[3]                            hoisted; the loop one recurrence op
                  cell (h : R[3], x : R[2])
                    %0 = list x x : List R[2]                           before the loop
                    %1 = layer (map \) %0 : List R[2]                   before the loop
                        cell (y : R[2], captured x : R[2])
                          %0 = * y x : R[2]
                          = %0
                    %2 = sumList %1 : R[2]                              before the loop
                    %3 = affine cell (h, %2) : R[3]                     affine 5 -> 3, 18 parameters; element half before the loop; fused into %4
                    %4 = tanh %3 : R[3]                                 fused with the product
                    = %4
              %2 = sum %1 : Float
              = %2
              parameters: 18 (1 learned piece)
        "#]],
    );
}

/// An unrolled module's cell: the ops that read neither the state nor a
/// draw (a constant times a `param`, a captured value's work) run once
/// before the steps; a draw stays in every step.
#[test]
fn iterate_moves_invariant_work_before_the_steps() {
    check(
        "param s : R[3, 3]\nparam theta : Float\nlearn w : R[2] -> R[3]\n\
         def f (x : R[2]) : R[3] =\n\
           let b = w x in\n\
           iterate 3 (\\z -> soft_threshold ((ones : R[3]) * theta) (b + s @ z) + tanh (b * theta)\n\
             + dropout 0.5 (ones : R[3])) b",
        "f",
        expect![[r#"
            f (x : R[2]) : R[3]
              %0 = affine w x : R[3]                                    affine 2 -> 3, 9 parameters
              %1 = unrolled (iterate \) 3 %0 : R[3]
                  cell (z : R[3], captured b : R[3])
                    %0 = ones : R[3]                                    before the loop
                    %1 = param theta : Float                            1 parameter; before the loop
                    %2 = * %0 %1 : R[3]                                 before the loop
                    %3 = param s : R[3, 3]                              9 parameters; before the loop
                    %4 = @ %3 z : R[3]
                    %5 = + b %4 : R[3]
                    %6 = soft_threshold %2 %5 : R[3]
                    %7 = param theta : Float                            1 parameter; before the loop
                    %8 = * b %7 : R[3]                                  before the loop
                    %9 = tanh %8 : R[3]                                 before the loop
                    %10 = + %6 %9 : R[3]                                fused into %13
                    %11 = ones : R[3]                                   before the loop
                    %12 = dropout 0.5 %11 : R[3]
                    %13 = + %10 %12 : R[3]
                    = %13
              = %1
              parameters: 19 (3 learned pieces)
        "#]],
    );
}

#[test]
fn tree_cells_gather_children_into_the_affine_input() {
    let head = "rep E = R[2]\nlearn leaf : R[1] -> E\nlearn join : (E, E) -> E\n\
                learn join3 : (E, E, E) -> E\nlearn one : E -> E\n";
    let with = |node: &str| format!("{head}def m (t : Tree R[1]) : E = cata leaf ({node}) t");
    // Packed: components of tuple states, in any order.
    check(
        &format!(
            "{head}def m (t : Tree R[1]) : (E, E) =\n\
             cata (\\x -> (leaf x, leaf x)) (\\(a, b) (c, d) -> (a * c, join (d, b))) t"
        ),
        "m",
        expect![[r#"
            m (t : Tree R[1]) : (E, E)
              %0 = treenet (cata \) t : (E, E)
                  leaf (x : R[1])
                    %0 = affine leaf x : E [2]                          affine 1 -> 2, 4 parameters
                    %1 = affine leaf x : E [2]                          affine 1 -> 2, 4 parameters
                    = (%0, %1)
                  node (a : E, b : E, c : E, d : E)
                    %0 = * a c : E [2]
                    %1 = affine join (d, b) : E [2]                     affine 4 -> 2, 10 parameters; children gathered into its input
                    = (%0, %1)
              = %0
              parameters: 14 (2 learned pieces)
        "#]],
    );
    // Not packed: a child read twice; a tuple holding an op; one input.
    check(
        &with("\\l r -> join (l, r) + l"),
        "m",
        expect![[r#"
        m (t : Tree R[1]) : E [2]
          %0 = treenet (cata leaf) t : E [2]
              leaf (x0 : R[1])
                %0 = affine leaf x0 : E [2]                         affine 1 -> 2, 4 parameters
                = %0
              node (l : E, r : E)
                %0 = affine join (l, r) : E [2]                     affine 4 -> 2, 10 parameters
                %1 = + %0 l : E [2]
                = %1
          = %0
          parameters: 14 (2 learned pieces)
    "#]],
    );
    check(
        &with("\\l r -> join3 (l, r, one l)"),
        "m",
        expect![[r#"
        m (t : Tree R[1]) : E [2]
          %0 = treenet (cata leaf) t : E [2]
              leaf (x0 : R[1])
                %0 = affine leaf x0 : E [2]                         affine 1 -> 2, 4 parameters
                = %0
              node (l : E, r : E)
                %0 = affine one l : E [2]                           affine 2 -> 2, 6 parameters
                %1 = affine join3 (l, r, %0) : E [2]                affine 6 -> 2, 14 parameters
                = %1
          = %0
          parameters: 24 (3 learned pieces)
    "#]],
    );
    check(
        &with("\\l r -> one l + r"),
        "m",
        expect![[r#"
        m (t : Tree R[1]) : E [2]
          %0 = treenet (cata leaf) t : E [2]
              leaf (x0 : R[1])
                %0 = affine leaf x0 : E [2]                         affine 1 -> 2, 4 parameters
                = %0
              node (l : E, r : E)
                %0 = affine one l : E [2]                           affine 2 -> 2, 6 parameters
                %1 = + %0 r : E [2]
                = %1
          = %0
          parameters: 10 (2 learned pieces)
    "#]],
    );
}
