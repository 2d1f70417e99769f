//! The compilation driver: reads the root file and its imports, parses
//! them, and hands the modules to the checker.
//!
//! Imports: `import nn` names a module of the bundled stdlib (embedded in
//! the binary); `import "path.dp"` is a file relative to the importing file.
//! Each module is loaded once; all share one global namespace; a module
//! that imports itself through others is an error. This module does not
//! evaluate or print anything (see `cli` for that).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{GlobalRef, Program};
use crate::source::{SourceId, SourceMap, Span};
use crate::syntax::ast::{DeclKind, ImportTarget, Module};

/// The bundled stdlib: module name and source.
pub const STDLIB: &[(&str, &str)] = &[
    ("nn", include_str!("../stdlib/nn.dp")),
    ("losses", include_str!("../stdlib/losses.dp")),
    ("cells", include_str!("../stdlib/cells.dp")),
];

/// The stdlib module that defines `name` (a `def` or `learn` at the start
/// of a line of its text), for "unknown name" diagnostics: `import cells`
/// brings `gru_cell`.
pub fn stdlib_module_defining(name: &str) -> Option<&'static str> {
    let declares = |line: &str| {
        let rest = line
            .strip_prefix("def ")
            .or_else(|| line.strip_prefix("learn "))
            .or_else(|| line.strip_prefix("param "));
        rest.and_then(|r| r.strip_prefix(name))
            .is_some_and(|after| {
                !after.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '\'')
            })
    };
    STDLIB
        .iter()
        .find(|(_, text)| text.lines().any(declares))
        .map(|(module, _)| *module)
}

/// A checked program with the sources its spans point into.
pub struct Compiled {
    pub sources: SourceMap,
    pub program: Program,
    /// The parsed modules, dependencies first, the root last.
    pub modules: Vec<(SourceId, Module)>,
}

impl Compiled {
    /// `name : Type` for the defs of the root module, in source order.
    pub fn def_signatures(&self) -> Vec<String> {
        self.root_defs()
            .into_iter()
            .filter_map(|name| {
                let def = self.program.defs.get(self.def_id(&name)?)?;
                let scheme = crate::ir::pretty::pretty_scheme(&def.scheme);
                Some(format!("{name} : {scheme}"))
            })
            .chain(
                self.program
                    .objectives
                    .iter()
                    .map(|o| self.objective_line(o)),
            )
            .collect()
    }

    /// `objective disc = d_loss updates d_hidden, d_out`, as declared.
    fn objective_line(&self, o: &crate::ir::Objective) -> String {
        let p = &self.program;
        let def = p.defs.get(o.def).map_or("?", |d| d.name.as_str());
        let pieces: Vec<&str> = o
            .updates
            .iter()
            .map(|r| match *r {
                crate::ir::GlobalRef::Learned(id) => {
                    p.learned.get(id).map_or("?", |l| l.name.as_str())
                }
                crate::ir::GlobalRef::Param(id) => {
                    p.params.get(id).map_or("?", |q| q.name.as_str())
                }
                crate::ir::GlobalRef::Def(_) => "?",
            })
            .collect();
        format!("objective {} = {def} updates {}", o.name, pieces.join(", "))
    }

    /// The names of the root module's defs, in source order.
    pub fn root_defs(&self) -> Vec<String> {
        use crate::syntax::ast::DeclKind;
        let Some((_, root)) = self.modules.last() else {
            return Vec::new();
        };
        root.decls
            .iter()
            .filter_map(|d| match &d.kind {
                DeclKind::Def { name, .. } => Some(name.name.to_string()),
                _ => None,
            })
            .filter(|name| self.def_id(name).is_some())
            .collect()
    }

    fn def_id(&self, name: &str) -> Option<usize> {
        match self.program.globals.get(name) {
            Some(GlobalRef::Def(id)) => Some(*id),
            _ => None,
        }
    }
}

/// Where a module came from, used as its identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum ModuleKey {
    Stdlib(String),
    File(PathBuf),
}

/// Reads the text of an imported file (the file system by default; a
/// library user may serve imports from elsewhere).
pub type Resolver = std::sync::Arc<dyn Fn(&Path) -> std::io::Result<String> + Send + Sync>;

/// Reads and parses modules and their imports, each once. Also used by the
/// REPL, which keeps one loader for a session: `sources` then holds the
/// REPL's inputs too, and `modules` grows with each `import`.
#[derive(Clone)]
pub struct Loader {
    /// Where imported files come from; `None` reads the file system.
    resolver: Option<Resolver>,
    pub sources: SourceMap,
    /// Parsed modules, dependencies first.
    pub modules: Vec<(SourceId, Module)>,
    done: HashMap<ModuleKey, SourceId>,
    in_progress: Vec<ModuleKey>,
    /// Read and parse errors so far.
    pub diagnostics: Vec<Diagnostic>,
}

/// Read, parse and check the program rooted at `path`.
pub fn compile_file(path: &Path) -> Result<Compiled, (SourceMap, Vec<Diagnostic>)> {
    let mut loader = Loader::new();
    if let Err(d) = loader.load_file(path) {
        return Err((loader.sources, vec![d]));
    }
    loader.finish()
}

/// Parse and check a program given as text (tests, the REPL).
pub fn compile_source(name: &str, text: &str) -> Result<Compiled, (SourceMap, Vec<Diagnostic>)> {
    compile_source_with(name, text, None)
}

/// Parse and check a program given as text, its file imports (relative to
/// the directory of `name`) read by `resolver` (the file system if `None`).
pub fn compile_source_with(
    name: &str,
    text: &str,
    resolver: Option<Resolver>,
) -> Result<Compiled, (SourceMap, Vec<Diagnostic>)> {
    let mut loader = Loader::new();
    loader.resolver = resolver;
    let dir = Path::new(name)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf);
    loader.load(
        ModuleKey::File(PathBuf::from(name)),
        name.to_string(),
        text.to_string(),
        dir,
    );
    loader.finish()
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new()
    }
}

impl Loader {
    pub fn new() -> Loader {
        Loader {
            resolver: None,
            sources: SourceMap::new(),
            modules: Vec::new(),
            done: HashMap::new(),
            in_progress: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// Read and parse the file at `path` and its imports; its id.
    pub fn load_file(&mut self, path: &Path) -> Result<SourceId, Diagnostic> {
        let text = std::fs::read(path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|e| {
                Diagnostic::new(Code::Io, format!("cannot read `{}`: {e}", path.display()))
            })?;
        let key = ModuleKey::File(canonical(path));
        Ok(self.load(
            key,
            path.display().to_string(),
            text,
            path.parent().map(Path::to_path_buf),
        ))
    }

    fn finish(mut self) -> Result<Compiled, (SourceMap, Vec<Diagnostic>)> {
        if !self.diagnostics.is_empty() {
            return Err((self.sources, self.diagnostics));
        }
        let (program, diags) = crate::types::check_program(&self.modules, &self.sources);
        if !diags.is_empty() {
            self.diagnostics.extend(diags);
            return Err((self.sources, self.diagnostics));
        }
        Ok(Compiled {
            sources: self.sources,
            program,
            modules: self.modules,
        })
    }

    /// Parse one module and, first, everything it imports.
    fn load(
        &mut self,
        key: ModuleKey,
        name: String,
        text: String,
        dir: Option<PathBuf>,
    ) -> SourceId {
        let id = self.sources.add(name, text);
        let text = self
            .sources
            .get(id)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        let (module, diags) = crate::syntax::parse_module(id, &text);
        self.diagnostics.extend(diags);
        self.in_progress.push(key.clone());
        for decl in &module.decls {
            if let DeclKind::Import(target) = &decl.kind {
                self.import(target, dir.as_deref());
            }
        }
        self.in_progress.pop();
        self.done.insert(key, id);
        self.modules.push((id, module));
        id
    }

    /// Load an imported module (and its imports) unless already loaded;
    /// a file is relative to `dir`. Problems go to `diagnostics`.
    pub fn import(&mut self, target: &ImportTarget, dir: Option<&Path>) {
        let (key, span, shown) = match target {
            ImportTarget::Module(name) => (
                ModuleKey::Stdlib(name.name.clone()),
                name.span,
                name.name.clone(),
            ),
            ImportTarget::File(path, span) => {
                let full = dir.map_or_else(|| PathBuf::from(path), |d| d.join(path));
                (ModuleKey::File(canonical(&full)), *span, path.clone())
            }
        };
        if self.done.contains_key(&key) {
            return;
        }
        if self.in_progress.contains(&key) {
            let d = Diagnostic::new(
                Code::ImportCycle,
                format!("`{shown}` imports itself through other modules"),
            )
            .at(span, "this import closes a cycle")
            .help("move the shared declarations into a module that both import");
            self.diagnostics.push(d);
            return;
        }
        match self.read_import(&key, span, &shown) {
            Ok((name, text, dir)) => {
                self.load(key, name, text, dir);
            }
            Err(d) => self.diagnostics.push(d),
        }
    }

    /// An imported file's text, through the resolver if there is one.
    fn read(&self, path: &Path) -> std::io::Result<String> {
        match &self.resolver {
            Some(resolve) => resolve(path),
            None => std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()),
        }
    }

    fn read_import(
        &self,
        key: &ModuleKey,
        span: Span,
        shown: &str,
    ) -> Result<(String, String, Option<PathBuf>), Diagnostic> {
        match key {
            ModuleKey::Stdlib(name) => match STDLIB.iter().find(|(n, _)| n == name) {
                Some((n, text)) => Ok((format!("<stdlib:{n}>"), text.to_string(), None)),
                None => {
                    let names: Vec<&str> = STDLIB.iter().map(|(n, _)| *n).collect();
                    Err(Diagnostic::new(
                        Code::ImportNotFound,
                        format!("there is no stdlib module `{name}`"),
                    )
                    .at(span, "unknown module")
                    .note(format!("the stdlib has: {}", names.join(", ")))
                    .help("to import a file, write its path in quotes: `import \"lib/cells.dp\"`"))
                }
            },
            ModuleKey::File(path) => match self.read(path) {
                Ok(text) => Ok((
                    shown.to_string(),
                    text,
                    path.parent().map(Path::to_path_buf),
                )),
                Err(e) => Err(Diagnostic::new(
                    Code::ImportNotFound,
                    format!("cannot read the imported file `{shown}`"),
                )
                .at(span, format!("{e}"))
                .note(format!("looked for `{}`", path.display()))),
            },
        }
    }
}

/// The stack of the thread the pipeline runs on: 2 GiB.
pub const BIG_STACK: usize = crate::backend::threads::STACK;

/// Run `f` on a worker of dp's pool, whose threads have a large stack, so
/// deeply nested programs and data (which the stages traverse
/// recursively) do not overflow, and the kernels split products cheaply
/// (`backend::threads`). `None` if `f` panicked.
pub fn with_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    let run = std::panic::AssertUnwindSafe(|| crate::backend::threads::install(f));
    std::panic::catch_unwind(run).ok()
}

/// A file's text (invalid UTF-8 replaced), or an `Io` diagnostic naming it.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| Diagnostic::new(Code::Io, format!("cannot read `{}`: {e}", path.display())))
}
