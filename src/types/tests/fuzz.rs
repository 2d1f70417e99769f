//! No program makes the checker panic: token-level mutations of the good
//! programs of these tests (deletions, duplications, swaps, insertions of
//! tokens from elsewhere) are parsed — with error recovery, so `Error`
//! nodes appear too — and checked. Deterministic (fixed seed).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::SENTIMENT;
use crate::ir::ty::Type;
use crate::ir::{self, ExprKind, Program};
use crate::source::SourceMap;
use crate::syntax::{parse_expr, parse_module};
use crate::types::unify::collect_vars;
use crate::types::{check_expr, check_program};

/// Every type in a def mentions only the def's quantified variables.
pub(super) fn closed(prog: &Program) -> Result<(), String> {
    for d in &prog.defs {
        let ok = |t: &Type| {
            let mut vs = Vec::new();
            collect_vars(t, &mut vs);
            match vs.iter().find(|v| !d.scheme.vars.contains(v)) {
                Some(v) => Err(format!("free variable {v} in `{}`", d.name)),
                None => Ok(()),
            }
        };
        ok(&d.scheme.ty)?;
        walk(&d.body, &mut |e| {
            ok(&e.ty)?;
            match &e.kind {
                ExprKind::Global { def, inst } => {
                    let n = prog.defs.get(*def).map_or(0, |g| g.scheme.vars.len());
                    if n != inst.len() {
                        return Err(format!(
                            "instantiation of {def} has {} types, not {n}",
                            inst.len()
                        ));
                    }
                    inst.iter().try_for_each(ok)
                }
                ExprKind::Symbol { vocab, .. } if vocab.is_empty() => {
                    Err("symbol without vocabulary".into())
                }
                _ => Ok(()),
            }
        })?;
    }
    Ok(())
}

fn walk(e: &ir::Expr, f: &mut impl FnMut(&ir::Expr) -> Result<(), String>) -> Result<(), String> {
    f(e)?;
    match &e.kind {
        ExprKind::Lambda(l) => walk(&l.body, f),
        ExprKind::App { func, args } => {
            walk(func, f)?;
            args.iter().try_for_each(|a| walk(a, f))
        }
        ExprKind::Let { value, body, .. } => {
            walk(value, f)?;
            walk(body, f)
        }
        ExprKind::If {
            cond,
            then_branch,
            else_branch,
        } => {
            walk(cond, f)?;
            walk(then_branch, f)?;
            walk(else_branch, f)
        }
        ExprKind::Tuple(es) | ExprKind::List(es) | ExprKind::Prim { args: es, .. } => {
            es.iter().try_for_each(|a| walk(a, f))
        }
        _ => Ok(()),
    }
}

const EXTRA: &str = r#"
vocab Char = ["a", "b"]
rep E = R[4]
rep P = R[2, 2]
learn conv : Window[3] E -> E
learn emit : E -> (Scores Char, E)
param theta : E = [1, 2, 3, 4]
def f (xs : List E) = windowMap (\(w : Window[3] E) -> conv w + 1.0) xs
def g (m : R[2, 3]) (v : R[3]) = (m @ v, concat v v, -v * 2)
def t = cata (\x -> x) (\a b -> a + b) (node (leaf 1.0) (leaf 2.0))
def u = unfold 3 (\s -> let (sc, s2) = emit s in (argmax sc, s2)) theta
def k = iterate 2 (\z -> soft_threshold theta z) zeros
def z (g : Grid P) = windowMap2 (\(w : Window[2, 2] P) -> sum w) g |> flatten
def c = [1, 2] ++ [3] |> length
def q x = if x == "a" then ("b" : Char) else x
"#;

fn tokens(src: &str) -> Vec<String> {
    let (toks, _) = crate::syntax::lexer::lex(0, src);
    toks.iter()
        .filter_map(|(a, _, b)| src.get(*a..*b).map(str::to_string))
        .collect()
}

fn mutate(toks: &[String], rng: &mut StdRng) -> String {
    let mut t = toks.to_vec();
    for _ in 0..rng.gen_range(1..4) {
        if t.is_empty() {
            break;
        }
        let i = rng.gen_range(0..t.len());
        let j = rng.gen_range(0..t.len());
        match rng.gen_range(0..4) {
            0 => {
                t.remove(i);
            }
            1 => {
                let x = t[j].clone();
                t.insert(i, x);
            }
            2 => t.swap(i, j),
            _ => {
                let x = t[j].clone();
                t[i] = x;
            }
        }
    }
    t.join(" ")
}

/// The programs to mutate: the ones above, every example and the stdlib.
fn bases() -> Vec<(String, usize)> {
    let n: usize = std::env::var("DP_FUZZ")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut out = vec![(SENTIMENT.to_string(), n), (EXTRA.to_string(), n)];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["examples", "stdlib"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "dp"))
        {
            out.extend(std::fs::read_to_string(f).ok().map(|t| (t, n / 6)));
        }
    }
    out
}

/// Mutates, parses and checks; returns (parsed cleanly, checked cleanly).
fn run_mutants(base: &str, n: usize, rng: &mut StdRng) -> (usize, usize) {
    let toks = tokens(base);
    let (mut clean, mut checked) = (0, 0);
    for _ in 0..n {
        let src = mutate(&toks, rng);
        let mut sources = SourceMap::new();
        let id = sources.add("fuzz.dp", src.clone());
        let (m, pd) = parse_module(id, &src);
        clean += usize::from(pd.is_empty());
        let (prog, diags) = check_program(&[(id, m)], &sources);
        if diags.is_empty() && pd.is_empty() {
            checked += 1;
            if let Err(e) = closed(&prog) {
                panic!("{e} in\n{src}");
            }
        }
        if let (Some(e), _) = parse_expr(id, "model [\"a\"] |> argmax") {
            let _ = check_expr(&prog, &e);
        }
    }
    (clean, checked)
}

#[test]
fn mutated_programs_never_panic() {
    let handle = std::thread::Builder::new().stack_size(1 << 28).spawn(|| {
        let mut rng = StdRng::seed_from_u64(7);
        for (base, n) in bases() {
            let (clean, checked) = run_mutants(&base, n, &mut rng);
            eprintln!("{clean} of {n} mutants parsed cleanly, {checked} checked");
        }
    });
    assert!(
        handle.map(|h| h.join().is_ok()).unwrap_or(false),
        "the checker panicked"
    );
}
