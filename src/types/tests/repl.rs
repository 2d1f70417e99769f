//! `extend_program` (the REPL) and `check_expr` on a checked program.

use expect_test::expect;

use super::{type_of, SENTIMENT};
use crate::diagnostic::render;
use crate::source::SourceMap;
use crate::syntax::parse_module;
use crate::types::{check_program, extend_program, signatures};

/// Extends the program of `base` with `more`; the new signatures or errors.
fn extend(base: &str, more: &str) -> String {
    let mut sources = SourceMap::new();
    let id = sources.add("base.dp", base);
    let (m, pd) = parse_module(id, base);
    assert!(pd.is_empty());
    let (prog, diags) = check_program(&[(id, m)], &sources);
    assert!(diags.is_empty(), "{}", render(&diags, &sources, false));
    let id = sources.add("<repl>", more);
    let (m, pd) = parse_module(id, more);
    assert!(pd.is_empty());
    let (p, diags) = extend_program(&prog, &m.decls, &sources);
    if diags.is_empty() {
        signatures(&p, None)
    } else {
        render(&diags, &sources, false)
    }
}

#[test]
fn redefinition_shadows() {
    expect![[r#"
        f : Int
        g : Int
        f : Bool
        h : Bool
    "#]]
    .assert_eq(&extend(
        "def f = 1\ndef g = f + 1\n",
        "def f = true\ndef h = f && true\n",
    ));
}

#[test]
fn constrained_schemes_survive() {
    // `twice` is generalised over a representation variable; reusing it
    // from the REPL keeps the constraint (so `twice 2` is a Float).
    expect![[r#"
        twice : a -> a
        x : Float
    "#]]
    .assert_eq(&extend("def twice x = x + x\n", "def x = twice 2\n"));
    expect!["Float"].assert_eq(&type_of("def twice x = x + x\n", "twice 2"));
}

#[test]
fn repl_uses_program_types() {
    let more = "rep Big = R[128]\nlearn up : Hidden -> Big\ndef deep (ws : List Word) = up (fold step zeros ws)\n";
    let out = extend(SENTIMENT, more);
    assert!(out.ends_with("deep : List Word -> Big\n"), "{out}");
}

#[test]
fn repl_cannot_redefine_types() {
    expect![[r#"
        [E0103] Error: `Hidden` is defined more than once
           ╭─[ <repl>:1:5 ]
           │
         1 │ rep Hidden = R[3]
           │     ───┬──  
           │        ╰──── the type `Hidden` is defined again here
           │
           ├─[ base.dp:7:5 ]
           │
         7 │ rep Hidden  = R[64]
           │     ───┬──  
           │        ╰──── first defined here
        ───╯
    "#]]
    .assert_eq(&extend(SENTIMENT, "rep Hidden = R[3]\n"));
}

#[test]
fn eval_errors() {
    expect![[r#"
        [E0101] Error: unknown name `modle`
           ╭─[ <eval>:1:9 ]
           │
         1 │ argmax (modle ["a"])
           │         ──┬──  
           │           ╰──── not defined in this scope
           │ 
           │ Help: did you mean `model`?
        ───╯
    "#]]
    .assert_eq(&type_of(SENTIMENT, r#"argmax (modle ["a"])"#));
    expect![[r#"
        [E0211] Error: "good" is not a symbol of the vocabulary `Label`
           ╭─[ <eval>:1:26 ]
           │
         1 │ cross_entropy (model []) "good"
           │                          ───┬──  
           │                             ╰──── not in `Label`
           │ 
           │ Note: `Label` has the symbols "neg", "pos"
        ───╯
    "#]]
    .assert_eq(&type_of(SENTIMENT, r#"cross_entropy (model []) "good""#));
}

#[test]
fn most_general_type_for_the_repl() {
    let prog = super::compile(SENTIMENT).unwrap_or_else(|e| panic!("{e}"));
    let show = |text: &str| {
        let (e, _) = crate::syntax::parse_expr(0, text);
        let e = e.unwrap_or_else(|| panic!("parse"));
        match crate::types::type_of_expr(&prog, &e) {
            Ok(s) => crate::types::pretty_scheme(&s),
            Err(d) => format!("{d:?}"),
        }
    };
    expect!["(a -> b) -> List a -> List b"].assert_eq(&show("map"));
    expect!["a"].assert_eq(&show("zeros"));
    expect!["List Word -> Scores Label"].assert_eq(&show("model"));
    expect!["Int"].assert_eq(&show("1 + 2"));
}
