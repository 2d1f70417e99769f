//! The REPL session: the declarations in scope and the checked program.
//!
//! A session is the modules of the loaded file (with its imports), the
//! modules imported at the prompt, and the declarations typed at the prompt.
//! Every change re-checks the whole declaration list with
//! `types::check_program`, so redefining a name *replaces* it: the old
//! declaration leaves the list (whether it came from the prompt, the file or
//! the stdlib) and everything that depends on it is checked again against
//! the new one. A change that does not check leaves the session as it was.
//!
//! This module knows nothing of weights (see `learned.rs`), commands or the
//! terminal; it returns plain data and [`Failure`]s.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use dp::diagnostic::Diagnostic;
use dp::diagnostic::Failure;
use dp::driver::{Compiled, Loader};
use dp::source::{SourceId, SourceMap};
use dp::syntax::ast::{self, DeclKind, ImportTarget, Module};
use dp::types::free_names;

/// What a declaration names: values and types live in separate namespaces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Value(String),
    Type(String),
}

impl Key {
    pub fn name(&self) -> &str {
        match self {
            Key::Value(n) | Key::Type(n) => n,
        }
    }
}

/// The name a declaration introduces, if any (imports introduce none).
pub fn decl_key(d: &ast::Decl) -> Option<Key> {
    match &d.kind {
        DeclKind::Def { name, .. }
        | DeclKind::Learn { name, .. }
        | DeclKind::Param { name, .. }
        | DeclKind::Objective { name, .. } => Some(Key::Value(name.name.clone())),
        DeclKind::Rep { name, .. }
        | DeclKind::TypeAlias { name, .. }
        | DeclKind::Vocab { name, .. } => Some(Key::Type(name.name.clone())),
        DeclKind::Import(_) => None,
    }
}

/// What a successful declaration input did.
#[derive(Debug, Default)]
pub struct Declared {
    /// The names it introduced, in input order.
    pub names: Vec<Key>,
    /// Names that existed before, each with the names re-checked because
    /// they depend on it (directly or not).
    pub redefined: Vec<(String, Vec<String>)>,
}

/// The declarations in scope and their checked program.
pub struct Session {
    /// Sources of everything (files, stdlib, every input) and the loaded modules.
    loader: Loader,
    file: Option<PathBuf>,
    /// Declarations typed at the prompt that are still in scope (no imports).
    repl: Vec<ast::Decl>,
    /// Imports typed at the prompt, replayed by `:reload`.
    repl_imports: Vec<ImportTarget>,
    inputs: usize,
    pub compiled: Compiled,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    /// An empty session: builtins only.
    pub fn new() -> Session {
        let loader = Loader::new();
        let (program, _) = dp::types::check_program(&[], &loader.sources);
        let compiled = Compiled {
            sources: loader.sources.clone(),
            program,
            modules: Vec::new(),
        };
        Session {
            loader,
            file: None,
            repl: Vec::new(),
            repl_imports: Vec::new(),
            inputs: 0,
            compiled,
        }
    }

    /// Every source seen so far (for rendering diagnostics).
    pub fn sources(&self) -> &SourceMap {
        &self.loader.sources
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Record one input as a source `<repl:N>`; its id.
    pub fn add_input(&mut self, text: &str) -> SourceId {
        self.inputs += 1;
        self.loader
            .sources
            .add(format!("<repl:{}>", self.inputs), text)
    }

    /// A failure pointing into this session's sources.
    pub fn failure(&self, diagnostics: Vec<Diagnostic>) -> Failure {
        Failure {
            sources: self.loader.sources.clone(),
            diagnostics,
        }
    }

    /// Replace the session by `path` and its imports (`:load`). Declarations
    /// typed at the prompt are dropped, as in GHCi. When the file does not
    /// check, the session stays as it was but `:reload` will try `path`;
    /// a file that cannot be read is forgotten.
    pub fn load(&mut self, path: &Path) -> Result<(), Failure> {
        let mut loader = Loader::new();
        loader.sources = self.loader.sources.clone();
        loader.load_file(path).map_err(|d| fail(&loader, vec![d]))?;
        self.file = Some(path.to_path_buf());
        if !loader.diagnostics.is_empty() {
            let diags = std::mem::take(&mut loader.diagnostics);
            return Err(fail(&loader, diags));
        }
        let compiled = build(&loader, &[]).map_err(|d| fail(&loader, d))?;
        self.loader = loader;
        self.file = Some(path.to_path_buf());
        self.repl.clear();
        self.repl_imports.clear();
        self.compiled = compiled;
        Ok(())
    }

    /// Read the loaded file again, keeping the prompt's declarations
    /// (`:reload`). Returns false when no file is loaded.
    pub fn reload(&mut self) -> Result<bool, Failure> {
        let Some(path) = self.file.clone() else {
            return Ok(false);
        };
        let mut loader = Loader::new();
        loader.sources = self.loader.sources.clone();
        loader
            .load_file(&path)
            .map_err(|d| fail(&loader, vec![d]))?;
        for target in &self.repl_imports {
            loader.import(target, None);
        }
        if !loader.diagnostics.is_empty() {
            let diags = std::mem::take(&mut loader.diagnostics);
            return Err(fail(&loader, diags));
        }
        let compiled = build(&loader, &self.repl).map_err(|d| fail(&loader, d))?;
        self.loader = loader;
        self.compiled = compiled;
        Ok(true)
    }

    /// Add the declarations of one input (from source `input`); a name that
    /// exists already is replaced. All or nothing.
    pub fn declare(&mut self, decls: Vec<ast::Decl>, input: SourceId) -> Result<Declared, Failure> {
        let mut loader = self.loader.clone();
        let mut imports = Vec::new();
        for d in &decls {
            if let DeclKind::Import(target) = &d.kind {
                loader.import(target, None);
                imports.push(target.clone());
            }
        }
        if !loader.diagnostics.is_empty() {
            let diags = std::mem::take(&mut loader.diagnostics);
            return Err(fail(&loader, diags));
        }
        let mut repl = self.repl.clone();
        let mut out = Declared::default();
        for d in decls {
            let Some(key) = decl_key(&d) else { continue };
            out.names.push(key.clone());
            // Two declarations of one name in one input are a duplicate,
            // which the checker reports; only older ones are replaced.
            let older = repl
                .iter()
                .position(|o| o.span.source != input && decl_key(o).as_ref() == Some(&key));
            if let Some(pos) = older {
                repl[pos] = d;
                out.redefined.push((key.name().to_string(), Vec::new()));
            } else {
                if module_decls(&loader).any(|o| decl_key(o).as_ref() == Some(&key)) {
                    out.redefined.push((key.name().to_string(), Vec::new()));
                }
                repl.push(d);
            }
        }
        let compiled = build(&loader, &repl).map_err(|d| fail(&loader, d))?;
        for (name, dependents) in &mut out.redefined {
            *dependents = dependents_of(&loader, &repl, name, input);
        }
        self.loader = loader;
        self.repl = repl;
        self.repl_imports.extend(imports);
        self.compiled = compiled;
        Ok(out)
    }

    /// A `Compiled` whose sources are up to date (for training).
    pub fn compiled_now(&mut self) -> &Compiled {
        self.compiled.sources = self.loader.sources.clone();
        &self.compiled
    }
}

fn fail(loader: &Loader, diagnostics: Vec<Diagnostic>) -> Failure {
    Failure {
        sources: loader.sources.clone(),
        diagnostics,
    }
}

/// The non-import declarations of the loaded modules.
fn module_decls(loader: &Loader) -> impl Iterator<Item = &ast::Decl> {
    loader
        .modules
        .iter()
        .flat_map(|(_, m)| m.decls.iter())
        .filter(|d| !matches!(d.kind, DeclKind::Import(_)))
}

/// Module declarations not replaced at the prompt, then the prompt's.
fn effective<'a>(loader: &'a Loader, repl: &'a [ast::Decl]) -> Vec<&'a ast::Decl> {
    let replaced: HashSet<Key> = repl.iter().filter_map(decl_key).collect();
    module_decls(loader)
        .filter(|d| !decl_key(d).is_some_and(|k| replaced.contains(&k)))
        .chain(repl.iter())
        .collect()
}

/// Check the active declarations as one program.
fn build(loader: &Loader, repl: &[ast::Decl]) -> Result<Compiled, Vec<Diagnostic>> {
    let mut modules: Vec<(SourceId, Module)> = Vec::new();
    for d in effective(loader, repl) {
        match modules.last_mut() {
            Some((id, m)) if *id == d.span.source => m.decls.push(d.clone()),
            _ => modules.push((
                d.span.source,
                Module {
                    decls: vec![d.clone()],
                },
            )),
        }
    }
    let (program, diags) = dp::types::check_program(&modules, &loader.sources);
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Compiled {
        sources: loader.sources.clone(),
        program,
        modules,
    })
}

/// Names of the active declarations (other than those of `input`) that
/// depend on `name`, directly or through others, in declaration order.
fn dependents_of(loader: &Loader, repl: &[ast::Decl], name: &str, input: SourceId) -> Vec<String> {
    let decls: Vec<&ast::Decl> = effective(loader, repl)
        .into_iter()
        .filter(|d| d.span.source != input)
        .collect();
    let mut affected: Vec<String> = vec![name.to_string()];
    let mut hit = vec![false; decls.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for (i, d) in decls.iter().enumerate() {
            if hit[i] || !affected.iter().any(|n| mentions(d, n, &loader.sources)) {
                continue;
            }
            hit[i] = true;
            changed = true;
            if let Some(k) = decl_key(d) {
                affected.push(k.name().to_string());
            }
        }
    }
    decls
        .iter()
        .zip(&hit)
        .filter(|(_, h)| **h)
        .filter_map(|(d, _)| decl_key(d).map(|k| k.name().to_string()))
        .filter(|n| n != name)
        .collect()
}

/// Does declaration `d` refer to `name`? Value names by the free names of
/// bodies; type names (upper case) by a whole-word match in its text.
fn mentions(d: &ast::Decl, name: &str, sources: &SourceMap) -> bool {
    if name.starts_with(|c: char| c.is_ascii_uppercase()) {
        let text = sources
            .get(d.span.source)
            .and_then(|f| f.text.get(d.span.range()))
            .unwrap_or("");
        return contains_word(text, name);
    }
    match &d.kind {
        DeclKind::Def { params, body, .. } => {
            free_names(params, body).iter().any(|(n, _)| n == name)
        }
        DeclKind::Param {
            init: Some(init), ..
        } => free_names(&[], init).iter().any(|(n, _)| n == name),
        _ => false,
    }
}

fn contains_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '\'';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words() {
        assert!(contains_word("learn f : Hidden -> H", "Hidden"));
        assert!(!contains_word("learn f : Hidden2 -> H", "Hidden"));
        assert!(contains_word("(H, x)", "H"));
    }
}
