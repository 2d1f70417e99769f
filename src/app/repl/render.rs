//! What the REPL prints: values (`value : Type`), `:browse`, `:params`,
//! and the one-line reports of declarations.
//!
//! Plain text only (no colour); diagnostics are rendered by
//! `diagnostic::render`, never here. Nothing here evaluates.

use dp::ir::ty::Type;
use dp::ir::{GlobalRef, Program};
use dp::runtime::weights::LearnedWeights;
use dp::runtime::{Vocabularies, Weights};
use dp::types::{pretty, pretty_scheme};

use super::session::{Declared, Key};

/// `value : Type`.
pub fn value_line(json: &str, ty: &Type) -> String {
    format!("{json} : {}", pretty(ty))
}

/// Does a type hold a function anywhere (so it cannot be printed as JSON)?
pub fn has_function(ty: &Type) -> bool {
    match ty {
        Type::Func(..) => true,
        Type::List(t)
        | Type::Tree(t)
        | Type::Rose(t)
        | Type::Grid(t)
        | Type::Window(_, t)
        | Type::Scores(t) => has_function(t),
        Type::Tuple(ts) => ts.iter().any(has_function),
        _ => false,
    }
}

/// The type of a global value name, as `:browse` and declarations show it.
pub fn global_type(program: &Program, name: &str) -> Option<String> {
    match program.globals.get(name)? {
        GlobalRef::Def(id) => program.defs.get(*id).map(|d| pretty_scheme(&d.scheme)),
        GlobalRef::Learned(id) => program
            .learned
            .get(*id)
            .map(|p| pretty(&Type::func(p.domain.clone(), p.codomain.clone()))),
        GlobalRef::Param(id) => program.params.get(*id).map(|p| pretty(&p.ty)),
    }
}

/// The lines printed after a declaration input: redefinitions, then
/// `name : Type` for each value name.
pub fn declared_lines(program: &Program, d: &Declared) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, deps) in &d.redefined {
        let mut line = format!("redefined `{name}`");
        if !deps.is_empty() {
            let list: Vec<String> = deps.iter().map(|n| format!("`{n}`")).collect();
            line.push_str(&format!("; re-checked {}", list.join(", ")));
        }
        lines.push(line);
    }
    for key in &d.names {
        if let Key::Value(name) = key {
            if let Some(ty) = global_type(program, name) {
                lines.push(format!("{name} : {ty}"));
            }
        }
    }
    lines
}

/// `:browse`: vocabs, reps, aliases, learned pieces, params, then defs in
/// source order.
pub fn browse(program: &Program, vocabs: &Vocabularies) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, v) in &program.types.vocabs {
        lines.push(match &v.symbols {
            Some(symbols) => {
                let quoted: Vec<String> = symbols.iter().map(|s| format!("{s:?}")).collect();
                format!("vocab {name} = [{}]", quoted.join(", "))
            }
            None => {
                let n = vocabs.get(name).map_or(0, |v| v.len());
                let s = if n == 1 { "" } else { "s" };
                format!("vocab {name}  -- open, {n} symbol{s} so far")
            }
        });
    }
    for (name, r) in &program.types.reps {
        lines.push(format!("rep {name} = {}", pretty(&r.underlying)));
    }
    for (name, t) in &program.types.aliases {
        lines.push(format!("type {name} = {}", pretty(t)));
    }
    for p in &program.learned {
        let ty = Type::func(p.domain.clone(), p.codomain.clone());
        lines.push(format!("learn {} : {}", p.name, pretty(&ty)));
    }
    for p in &program.params {
        lines.push(format!("param {} : {}", p.name, pretty(&p.ty)));
    }
    let mut defs: Vec<&dp::ir::Def> = program.defs.iter().collect();
    defs.sort_by_key(|d| (d.span.source, d.span.start));
    for d in defs {
        lines.push(format!("{} : {}", d.name, pretty_scheme(&d.scheme)));
    }
    lines
}

/// `:params`: one row per learned piece and param (name, kind, tensors and
/// their shapes, parameter count), then the total.
pub fn params(program: &Program, weights: &Weights) -> Vec<String> {
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut total = 0usize;
    for (piece, w) in program.learned.iter().zip(&weights.learned) {
        let (kind, tensors, count) = match w {
            LearnedWeights::Affine { weight, bias, .. } => (
                "affine",
                format!(
                    "weight [{}, {}], bias [{}]",
                    weight.rows(),
                    weight.cols(),
                    bias.cols()
                ),
                weight.rows() * weight.cols() + bias.rows() * bias.cols(),
            ),
            LearnedWeights::Embedding { table } => (
                "embedding",
                format!("table [{}, {}]", table.rows(), table.cols()),
                table.rows() * table.cols(),
            ),
        };
        total += count;
        rows.push([piece.name.clone(), kind.into(), tensors, count.to_string()]);
    }
    for (p, t) in program.params.iter().zip(&weights.params) {
        let shape = program.types.shape(&p.ty).unwrap_or_else(|| vec![t.cols()]);
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        let count = t.rows() * t.cols();
        total += count;
        rows.push([
            p.name.clone(),
            "param".into(),
            format!("[{}]", dims.join(", ")),
            count.to_string(),
        ]);
    }
    if rows.is_empty() {
        return vec!["no learned pieces or params".to_string()];
    }
    rows.insert(
        0,
        [
            "name".into(),
            "kind".into(),
            "tensors".into(),
            "parameters".into(),
        ],
    );
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| format!("{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}", r[0], r[1], r[2], r[3]))
        .map(|l| l.trim_end().to_string())
        .collect();
    lines.push(format!("total {total} parameters"));
    lines
}
