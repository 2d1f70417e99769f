//! Tests of the checker, driven by dp source text: `check` output
//! (`name : Type` per def) for good programs, rendered diagnostics for bad
//! ones, and a few properties of the produced IR. Snapshots are
//! expect-test (`UPDATE_EXPECT=1 cargo test --lib types` rewrites them).

mod bad;
mod bad_decls;
mod deep;
mod fuzz;
mod good;
mod ir_shape;
mod repl;

use crate::diagnostic::render;
use crate::ir::Program;
use crate::source::SourceMap;
use crate::syntax::{parse_expr, parse_module};
use crate::types::{check_expr, check_program, pretty, signatures};

/// Parses and checks `src`; the program or the rendered diagnostics.
pub(super) fn compile(src: &str) -> Result<Program, String> {
    let mut sources = SourceMap::new();
    let id = sources.add("test.dp", src);
    let (m, pd) = parse_module(id, src);
    assert!(
        pd.is_empty(),
        "parse error:\n{}",
        render(&pd, &sources, false)
    );
    let (prog, diags) = check_program(&[(id, m)], &sources);
    if diags.is_empty() {
        if let Err(e) = fuzz::closed(&prog) {
            panic!("the IR is not closed: {e}");
        }
        Ok(prog)
    } else {
        Err(render(&diags, &sources, false))
    }
}

/// `dp check` output, or the rendered diagnostics.
pub(super) fn check(src: &str) -> String {
    match compile(src) {
        Ok(p) => signatures(&p, None),
        Err(e) => e,
    }
}

/// The type of an expression checked in the scope of a program.
pub(super) fn type_of(prog_src: &str, expr: &str) -> String {
    let prog = compile(prog_src).unwrap_or_else(|e| panic!("{e}"));
    let mut sources = SourceMap::new();
    let id = sources.add("<eval>", expr);
    let (e, pd) = parse_expr(id, expr);
    assert!(pd.is_empty(), "parse error");
    let Some(e) = e else { panic!("no expression") };
    match check_expr(&prog, &e) {
        Ok(x) => pretty(&x.ty),
        Err(d) => render(&d, &sources, false),
    }
}

pub(super) const SENTIMENT: &str = r#"
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
"#;
