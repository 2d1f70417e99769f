//! Checking a list of declarations against an existing program: the
//! workhorse behind `check_program` (an empty base) and `extend_program`
//! (the REPL).
//!
//! Order of work: type-level declarations (reps, aliases, vocabs; lazily,
//! so any order works), then value names (duplicates reported; a new name
//! shadows an older global or a builtin), then `learn` and `param` types,
//! then defs in dependency order (cycles reported), then params' initial
//! values. One bad declaration never stops the others from being checked.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::ty::Type;
use crate::ir::{self, GlobalRef, LearnedKind, Program};
use crate::source::Span;
use crate::syntax::ast::{self, DeclKind, Ident};
use crate::types::decls::{check_def, check_param_init, check_param_type, learned_kind};
use crate::types::family;
use crate::types::graph::{cycle_diagnostic, free_names, is_cycle, sccs, Edges};
use crate::types::infer::Env;
use crate::types::resolve::TypeResolver;

/// Checks `decls` in the scope of `base`; returns the extended program.
pub fn extend(base: &Program, decls: &[&ast::Decl]) -> (Program, Vec<Diagnostic>) {
    let mut prog = base.clone();
    let mut env = env_of(&prog);
    let mut diags = Vec::new();
    let (expanded, families) = family::expand(decls, &mut diags);
    let decls: Vec<&ast::Decl> = expanded.iter().collect();
    let decls = decls.as_slice();
    collect_types(&mut env, decls);
    let names = collect_values(&prog, decls, &mut diags);
    for (name, r) in &names.registered {
        env.globals.insert(name.clone(), *r);
    }
    add_learned(&mut prog, &mut env, decls, &mut diags);
    add_param_types(&mut prog, &mut env, decls, &mut diags);
    let defs: Vec<&ast::Decl> = decls
        .iter()
        .copied()
        .filter(|d| matches!(d.kind, DeclKind::Def { .. }))
        .collect();
    let base_defs = prog.defs.len();
    env.def_schemes.extend(defs.iter().map(|_| None));
    let checked = check_defs(&mut env, &defs, base_defs, &mut diags);
    prog.defs.extend(checked);
    check_param_inits(&mut prog, &mut env, decls, &mut diags);
    check_biases(&mut prog, &mut env, decls, &mut diags);
    check_objectives(&mut prog, &env, decls, &mut diags);
    prog.types = env.types.table.clone();
    prog.draws = prog.find_draws();
    prog.globals = env.globals.clone();
    diags.extend(std::mem::take(&mut env.types.diags));
    family::dedupe(&mut diags, &families);
    diags.sort_by_key(|d| d.primary.as_ref().map(|l| (l.span.source, l.span.start)));
    (prog, diags)
}

/// The global scope of a checked program.
pub fn env_of(prog: &Program) -> Env {
    Env {
        types: TypeResolver::new(prog.types.clone()),
        globals: prog.globals.clone(),
        def_schemes: prog.defs.iter().map(|d| Some(d.scheme.clone())).collect(),
        learned: prog
            .learned
            .iter()
            .map(|l| Some(Type::func(l.domain.clone(), l.codomain.clone())))
            .collect(),
        params: prog.params.iter().map(|p| Some(p.ty.clone())).collect(),
    }
}

fn dup(name: &Ident, first: Option<Span>, what: &str) -> Diagnostic {
    let d = Diagnostic::new(
        Code::DuplicateName,
        format!("`{}` is defined more than once", name.name),
    )
    .at(
        name.span,
        format!("{what} `{}` is defined again here", name.name),
    );
    match first {
        Some(sp) => d.also(sp, "first defined here"),
        None => d.note(format!(
            "`{}` is a builtin type or already defined",
            name.name
        )),
    }
}

fn collect_types(env: &mut Env, decls: &[&ast::Decl]) {
    for d in decls {
        let name = match &d.kind {
            DeclKind::Rep { name, .. }
            | DeclKind::TypeAlias { name, .. }
            | DeclKind::Vocab { name, .. } => name,
            _ => continue,
        };
        if let Some(first) = env.types.type_name_span(&name.name) {
            env.types.diags.push(dup(name, first, "the type"));
            continue;
        }
        match &d.kind {
            DeclKind::Rep { name, ty } => env.types.add_pending(name, ty, true),
            DeclKind::TypeAlias { name, ty } => env.types.add_pending(name, ty, false),
            DeclKind::Vocab { name, symbols } => env.types.add_vocab(name, symbols, d.span),
            _ => {}
        }
    }
    env.types.resolve_pending();
}

struct Names {
    registered: Vec<(String, GlobalRef)>,
}

/// Assigns ids to learned pieces, params and defs (in source order) and
/// reports duplicates; the first of two duplicates keeps the name.
fn collect_values(prog: &Program, decls: &[&ast::Decl], diags: &mut Vec<Diagnostic>) -> Names {
    let (mut nd, mut nl, mut np) = (prog.defs.len(), prog.learned.len(), prog.params.len());
    let mut seen: HashMap<String, Span> = HashMap::new();
    let mut registered = Vec::new();
    for d in decls {
        let (name, r, what) = match &d.kind {
            DeclKind::Def { name, .. } => {
                nd += 1;
                (name, GlobalRef::Def(nd - 1), "the def")
            }
            DeclKind::Learn { name, .. } => {
                nl += 1;
                (name, GlobalRef::Learned(nl - 1), "the learned piece")
            }
            DeclKind::Param { name, .. } => {
                np += 1;
                (name, GlobalRef::Param(np - 1), "the param")
            }
            _ => continue,
        };
        if let Some(first) = seen.get(&name.name) {
            diags.push(dup(name, Some(*first), what));
            continue;
        }
        seen.insert(name.name.clone(), name.span);
        registered.push((name.name.clone(), r));
    }
    Names { registered }
}

fn add_learned(
    prog: &mut Program,
    env: &mut Env,
    decls: &[&ast::Decl],
    diags: &mut Vec<Diagnostic>,
) {
    for d in decls {
        let DeclKind::Learn { name, ty, .. } = &d.kind else {
            continue;
        };
        let resolved = env.types.resolve(ty, &mut |_, _| None);
        let Some(t) = resolved else {
            env.learned.push(None);
            prog.learned.push(placeholder_learned(name, d.span));
            continue;
        };
        match learned_kind(&env.types.table, &t, ty) {
            Ok((domain, codomain, kind)) => {
                env.learned.push(Some(t));
                prog.learned.push(ir::LearnedPiece {
                    name: name.name.clone(),
                    domain,
                    codomain,
                    kind,
                    span: d.span,
                    bias: None,
                });
            }
            Err(diag) => {
                diags.push(diag);
                let is_func = matches!(t, Type::Func(..));
                env.learned.push(is_func.then_some(t));
                prog.learned.push(placeholder_learned(name, d.span));
            }
        }
    }
}

fn placeholder_learned(name: &Ident, span: Span) -> ir::LearnedPiece {
    ir::LearnedPiece {
        name: name.name.clone(),
        domain: Type::Float,
        codomain: Type::Float,
        kind: LearnedKind::Affine {
            input: 1,
            outputs: vec![Some(1)],
        },
        span,
        bias: None,
    }
}

fn add_param_types(
    prog: &mut Program,
    env: &mut Env,
    decls: &[&ast::Decl],
    diags: &mut Vec<Diagnostic>,
) {
    for d in decls {
        let DeclKind::Param { name, ty, .. } = &d.kind else {
            continue;
        };
        let t = env.types.resolve(ty, &mut |_, _| None);
        if let Some(t) = &t {
            if let Some(diag) = check_param_type(&env.types.table, t, ty.span) {
                diags.push(diag);
            }
        }
        env.params.push(t.clone());
        prog.params.push(ir::ParamDecl {
            name: name.name.clone(),
            ty: t.unwrap_or(Type::Float),
            init: None,
            span: d.span,
        });
    }
}

fn check_param_inits(
    prog: &mut Program,
    env: &mut Env,
    decls: &[&ast::Decl],
    diags: &mut Vec<Diagnostic>,
) {
    let base = prog.params.len()
        - decls
            .iter()
            .filter(|d| matches!(d.kind, DeclKind::Param { .. }))
            .count();
    let params = decls.iter().filter_map(|d| match &d.kind {
        DeclKind::Param { init, .. } => Some(init),
        _ => None,
    });
    for (i, init) in params.enumerate() {
        let Some(init) = init else { continue };
        let id = base + i;
        let Some(Some(ty)) = env.params.get(id).cloned() else {
            continue;
        };
        let (e, ds) = check_param_init(env, &ty, init);
        diags.extend(ds);
        if let Some(p) = prog.params.get_mut(id) {
            p.init = Some(e);
        }
    }
}

/// `learn f : A -> B bias = e`: `e` a constant expression of type `B`, on
/// an affine piece (an embedding has no bias).
fn check_biases(
    prog: &mut Program,
    env: &mut Env,
    decls: &[&ast::Decl],
    diags: &mut Vec<Diagnostic>,
) {
    let learns: Vec<&Option<ast::Expr>> = decls
        .iter()
        .filter_map(|d| match &d.kind {
            DeclKind::Learn { bias, .. } => Some(bias),
            _ => None,
        })
        .collect();
    let base = prog.learned.len() - learns.len();
    for (i, bias) in learns.into_iter().enumerate() {
        let Some(bias) = bias else { continue };
        let Some(piece) = prog.learned.get(base + i) else {
            continue;
        };
        if let LearnedKind::Embedding { .. } = piece.kind {
            diags.push(
                Diagnostic::new(
                    Code::BadLearnedPiece,
                    format!("`{}` is an embedding: it has no bias", piece.name),
                )
                .at(bias.span, "a bias for an embedding")
                .note("`bias = e` sets the initial bias of an affine piece"),
            );
            continue;
        }
        let codomain = piece.codomain.clone();
        let (e, ds) = check_param_init(env, &codomain, bias);
        diags.extend(ds);
        if let Some(piece) = prog.learned.get_mut(base + i) {
            piece.bias = Some(e);
        }
    }
}

/// Checks the new defs in dependency order; returns them in source order.
fn check_defs(
    env: &mut Env,
    defs: &[&ast::Decl],
    base: usize,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ir::Def> {
    let mut names = Vec::new();
    let mut edges: Vec<Edges> = Vec::new();
    for d in defs {
        let DeclKind::Def {
            name, params, body, ..
        } = &d.kind
        else {
            continue;
        };
        names.push(name.name.clone());
        let mut es: Edges = Vec::new();
        for (n, sp) in free_names(params, body) {
            if let Some(GlobalRef::Def(id)) = env.globals.get(&n) {
                let local = id.wrapping_sub(base);
                if local < defs.len() && !es.iter().any(|(w, _)| *w == local) {
                    es.push((local, sp));
                }
            }
        }
        edges.push(es);
    }
    let mut out: Vec<Option<ir::Def>> = vec![None; defs.len()];
    for comp in sccs(&edges) {
        if is_cycle(&comp, &edges) {
            diags.push(cycle_diagnostic(&comp, &edges, &names));
        }
        for &i in &comp {
            let DeclKind::Def {
                name,
                params,
                result,
                body,
            } = &defs[i].kind
            else {
                continue;
            };
            let (scheme, body, ds) = check_def(env, params, result, body, defs[i].span);
            diags.extend(ds);
            if let Some(slot) = env.def_schemes.get_mut(base + i) {
                *slot = Some(scheme.clone());
            }
            out[i] = Some(ir::Def {
                name: name.name.clone(),
                scheme,
                body,
                span: defs[i].span,
            });
        }
    }
    out.into_iter().flatten().collect()
}

/// `objective NAME = DEF updates PIECE, ...`: NAME new among objectives
/// and values, DEF a def of one parameter with a `Float` result, each
/// PIECE a `learn` or `param`; every mistake reported.
fn check_objectives(
    prog: &mut Program,
    env: &Env,
    decls: &[&ast::Decl],
    diags: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<String, Span> = prog
        .objectives
        .iter()
        .map(|o| (o.name.clone(), o.span))
        .collect();
    for d in decls {
        let DeclKind::Objective { name, def, pieces } = &d.kind else {
            continue;
        };
        let updates = objective_pieces(env, pieces, diags);
        let def = objective_def(env, def, diags);
        if let Some(first) = seen.get(&name.name) {
            diags.push(dup(name, Some(*first), "the objective"));
            continue;
        }
        if env.globals.contains_key(&name.name) {
            diags.push(dup(name, None, "the objective"));
            continue;
        }
        seen.insert(name.name.clone(), name.span);
        if let (Some(def), Some(updates)) = (def, updates) {
            prog.objectives.push(ir::Objective {
                name: name.name.clone(),
                def,
                updates,
                span: name.span,
            });
        }
    }
}

fn bad_objective(at: &Ident, message: String, label: &str) -> Diagnostic {
    Diagnostic::new(Code::BadObjective, message).at(at.span, label.to_string())
}

/// The def an objective names, if it is one of one parameter to `Float`.
fn objective_def(env: &Env, def: &Ident, diags: &mut Vec<Diagnostic>) -> Option<ir::DefId> {
    let id = match env.globals.get(&def.name) {
        Some(GlobalRef::Def(id)) => *id,
        Some(_) => {
            let m = format!("`{}` is a learned piece or a param, not a def", def.name);
            diags.push(bad_objective(def, m, "an objective names a def here"));
            return None;
        }
        None => {
            let m = format!("unknown def `{}`", def.name);
            diags.push(bad_objective(def, m, "no def of this name"));
            return None;
        }
    };
    // A def with errors of its own has no scheme (already reported).
    let scheme = env.def_schemes.get(id).cloned().flatten()?;
    let one_to_float = matches!(&scheme.ty,
        Type::Func(a, r) if **r == Type::Float && !matches!(**a, Type::Func(..)));
    if !one_to_float {
        let m = format!(
            "`{}` is not an objective: it has type `{}`",
            def.name,
            crate::ir::pretty::pretty(&scheme.ty)
        );
        let d = bad_objective(def, m, "not a function of one argument to `Float`").note(
            "an objective is a def like `loss`: one parameter (the data line) and a `Float` result",
        );
        diags.push(d);
        return None;
    }
    Some(id)
}

/// The learned pieces an objective updates (`None` if one is not one).
fn objective_pieces(
    env: &Env,
    pieces: &[Ident],
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<GlobalRef>> {
    let mut updates = Vec::new();
    let mut ok = true;
    for piece in pieces {
        match env.globals.get(&piece.name) {
            Some(r @ (GlobalRef::Learned(_) | GlobalRef::Param(_))) => updates.push(*r),
            Some(GlobalRef::Def(_)) if family::members(&env.globals, &piece.name).is_some() => {
                updates.extend(family::members(&env.globals, &piece.name).unwrap_or_default())
            }
            Some(GlobalRef::Def(_)) => {
                ok = false;
                let m = format!("`{}` is a def, not a learned piece", piece.name);
                let note =
                    "the pieces an objective may change are `learn` and `param` declarations";
                diags.push(
                    bad_objective(piece, m, "an objective updates learned pieces").note(note),
                );
            }
            None => {
                ok = false;
                let m = format!("unknown learned piece `{}`", piece.name);
                diags.push(bad_objective(
                    piece,
                    m,
                    "no `learn` or `param` of this name",
                ));
            }
        }
    }
    ok.then_some(updates)
}
