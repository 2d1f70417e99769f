//! `dp repl [FILE]`: the interactive loop, in the manner of GHCi and utop.
//!
//! An expression prints `value : Type`; a declaration extends the session
//! (a name defined again replaces the old one and re-checks what depends
//! on it); `:` commands inspect, train, load and save. On a terminal the
//! line editor (rustyline) gives history in the user's data directory, tab
//! completion, highlighting and continuation lines; from a pipe, inputs are
//! read one per line (continued while incomplete) and results printed
//! plainly, so the REPL can be scripted. No error ends the session.
//!
//! Code map: `session` (declarations, checking, redefinition), `learned`
//! (vocabularies, weights, `:train`/`:weights`/`:save`), `eval`
//! (expressions, `:type`), `commands` (parsing `:` commands), `editor`
//! (completion, highlighting, continuation), `render` (what is printed).
//! Results go to stdout, diagnostics to stderr.

pub mod commands;
pub mod editor;
pub mod eval;
pub mod learned;
pub mod render;
pub mod session;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use dp::diagnostic::render as render_diagnostics;
use dp::diagnostic::Failure;
use dp::ir::Program;
use dp::syntax::ReplInput;

use commands::Command;
use learned::Learned;
use session::Session;

/// Set while `:train` runs: Ctrl-C then asks training to stop.
static TRAINING: AtomicBool = AtomicBool::new(false);
/// Ctrl-C during `:train`: stop after the current epoch.
static CANCEL: AtomicBool = AtomicBool::new(false);
/// Reading from a terminal: Ctrl-C outside `:train` does not end the REPL.
static INTERACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether the loop goes on after an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// A session with its learned state: everything the loop acts on.
pub struct Repl {
    pub session: Session,
    pub learned: Learned,
    /// The epochs of this session's `:train` runs, for `:plot`.
    pub curves: Vec<dp::train::EpochReport>,
    /// Colour in diagnostics.
    pub color: bool,
}

impl Repl {
    pub fn new(color: bool) -> Repl {
        let session = Session::new();
        let (learned, _) = Learned::fresh(&session.compiled);
        Repl {
            session,
            learned,
            curves: Vec::new(),
            color,
        }
    }

    /// Run one input (an expression, declarations or a command).
    pub fn handle(&mut self, input: &str, out: &mut dyn Write, err: &mut dyn Write) -> Flow {
        let text = input.trim();
        if text.is_empty() {
            return Flow::Continue;
        }
        if text.starts_with(':') {
            return self.command(text, out, err);
        }
        let id = self.session.add_input(input);
        let (parsed, diags) = dp::syntax::parse_repl_input(id, input);
        if !diags.is_empty() {
            self.report(&self.session.failure(diags), err);
            return Flow::Continue;
        }
        match parsed {
            ReplInput::Empty => {}
            ReplInput::Expr(e) => match eval::evaluate(&self.session, &self.learned, &e) {
                Ok(line) => say(out, &line),
                Err(f) => self.report(&f, err),
            },
            ReplInput::Decls(decls) => {
                let old = self.session.compiled.program.clone();
                match self.session.declare(decls, id) {
                    Ok(done) => {
                        for line in render::declared_lines(&self.session.compiled.program, &done) {
                            say(out, &line);
                        }
                        self.after_change(&old, out, err);
                    }
                    Err(f) => self.report(&f, err),
                }
            }
        }
        Flow::Continue
    }

    fn command(&mut self, text: &str, out: &mut dyn Write, err: &mut dyn Write) -> Flow {
        let command = match commands::parse(text) {
            Ok(c) => c,
            Err(msg) => {
                say(err, &format!("error: {msg}"));
                return Flow::Continue;
            }
        };
        match command {
            Command::Type(expr) => self.show_type(&expr, out, err),
            Command::Load(file) => self.load(Path::new(&file), out, err),
            Command::Reload => self.reload(out, err),
            Command::Browse => {
                for line in render::browse(&self.session.compiled.program, &self.learned.vocabs) {
                    say(out, &line);
                }
            }
            Command::Params => {
                let program = &self.session.compiled.program;
                for line in render::params(program, &self.learned.weights) {
                    say(out, &line);
                }
            }
            Command::Train(args) => self.train(&args, out, err),
            Command::Plot(file) => self.plot(Path::new(&file), out, err),
            Command::Weights(file) => {
                match Learned::load(Path::new(&file), &self.session.compiled.program) {
                    Ok((l, notes)) => {
                        for n in notes {
                            say(err, &format!("note: {n}"));
                        }
                        say(
                            out,
                            &format!("loaded weights from {file} (epoch {})", l.epoch),
                        );
                        self.learned = l;
                    }
                    Err(d) => self.report(&self.session.failure(vec![d]), err),
                }
            }
            Command::Save(file) => {
                match self
                    .learned
                    .save(Path::new(&file), &self.session.compiled.program)
                {
                    Ok(n) => say(out, &format!("saved {n} tensors to {file}")),
                    Err(d) => self.report(&self.session.failure(vec![d]), err),
                }
            }
            Command::Help => {
                let _ = write!(out, "{}", commands::help());
            }
            Command::Quit => return Flow::Quit,
        }
        Flow::Continue
    }

    fn show_type(&mut self, text: &str, out: &mut dyn Write, err: &mut dyn Write) {
        let id = self.session.add_input(text);
        let (expr, diags) = dp::syntax::parse_expr(id, text);
        match expr.filter(|_| diags.is_empty()) {
            Some(e) => match eval::type_of(&self.session, &e) {
                Ok(ty) => say(out, &format!("{} : {ty}", text.trim())),
                Err(f) => self.report(&f, err),
            },
            None => self.report(&self.session.failure(diags), err),
        }
    }

    /// Load `path` as a new session (`:load`, `dp repl FILE`).
    pub fn load(&mut self, path: &Path, out: &mut dyn Write, err: &mut dyn Write) {
        match self.session.load(path) {
            Ok(()) => {
                let (learned, diags) = Learned::fresh(&self.session.compiled);
                self.learned = learned;
                say(
                    out,
                    &format!("loaded {}", describe(path, &self.session.compiled.program)),
                );
                if !diags.is_empty() {
                    self.report(&self.session.failure(diags), err);
                }
            }
            Err(f) => self.report(&f, err),
        }
    }

    fn reload(&mut self, out: &mut dyn Write, err: &mut dyn Write) {
        let old = self.session.compiled.program.clone();
        match self.session.reload() {
            Ok(true) => {
                let path = self
                    .session
                    .file()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                say(
                    out,
                    &format!(
                        "reloaded {}",
                        describe(&path, &self.session.compiled.program)
                    ),
                );
                self.after_change(&old, out, err);
            }
            Ok(false) => say(err, "error: no file is loaded; use `:load FILE`"),
            Err(f) => self.report(&f, err),
        }
    }

    fn train(&mut self, text: &str, out: &mut dyn Write, err: &mut dyn Write) {
        let args = match commands::train_args(text) {
            Ok(a) => a,
            Err(msg) => {
                say(err, &msg);
                return;
            }
        };
        CANCEL.store(false, Ordering::SeqCst);
        TRAINING.store(true, Ordering::SeqCst);
        let compiled = self.session.compiled_now();
        let result = self.learned.train(compiled, args, out, &CANCEL);
        TRAINING.store(false, Ordering::SeqCst);
        CANCEL.store(false, Ordering::SeqCst);
        match result {
            Ok((warnings, reports)) => {
                self.curves.extend(reports);
                if !warnings.is_empty() {
                    self.report(&self.session.failure(warnings), err);
                }
                say(
                    out,
                    &format!(
                        "the session has the weights of epoch {}",
                        self.learned.epoch
                    ),
                )
            }
            Err(f) => self.report(&f, err),
        }
    }

    /// `:plot FILE`: the session's training curves as an SVG picture.
    fn plot(&mut self, path: &Path, out: &mut dyn Write, err: &mut dyn Write) {
        if self.curves.is_empty() {
            say(
                err,
                "error: nothing trained yet in this session; `:train` first",
            );
            return;
        }
        match dp::train::plot::write_curves(path, &self.curves) {
            Ok(()) => say(
                out,
                &format!(
                    "wrote the curves of {} epochs to {}",
                    self.curves.len(),
                    path.display()
                ),
            ),
            Err(d) => self.report(&self.session.failure(vec![d]), err),
        }
    }

    /// After the declarations changed: carry the weights over.
    fn after_change(&mut self, old: &Program, out: &mut dyn Write, err: &mut dyn Write) {
        let (learned, fresh, diags) = self.learned.carry_over(old, &self.session.compiled);
        self.learned = learned;
        if !fresh.is_empty() {
            let names: Vec<String> = fresh.iter().map(|n| format!("`{n}`")).collect();
            say(out, &format!("fresh weights for {}", names.join(", ")));
        }
        if !diags.is_empty() {
            self.report(&self.session.failure(diags), err);
        }
    }

    fn report(&self, f: &Failure, err: &mut dyn Write) {
        let _ = write!(
            err,
            "{}",
            render_diagnostics(&f.diagnostics, &f.sources, self.color)
        );
        let _ = err.flush();
    }

    /// Everything completion offers: names in scope, types, builtins.
    pub fn names(&self) -> Vec<String> {
        let program = &self.session.compiled.program;
        let mut names: Vec<String> = program.globals.keys().cloned().collect();
        names.extend(program.types.reps.keys().map(|n| n.to_string()));
        names.extend(program.types.vocabs.keys().map(|n| n.to_string()));
        names.extend(program.types.aliases.keys().map(|n| n.to_string()));
        names.extend(dp::ir::Builtin::ALL.iter().map(|b| b.name().to_string()));
        let types = [
            "Float", "Int", "Bool", "List", "Tree", "Rose", "Grid", "Window", "Scores", "R",
        ];
        names.extend(types.iter().map(|t| t.to_string()));
        names
    }
}

fn say(out: &mut dyn Write, line: &str) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// `path (2 defs, 1 learned piece)`.
fn describe(path: &Path, program: &Program) -> String {
    let count = |n: usize, what: &str| match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    let mut parts = vec![count(program.defs.len(), "def")];
    if !program.learned.is_empty() {
        parts.push(count(program.learned.len(), "learned piece"));
    }
    if !program.params.is_empty() {
        parts.push(count(program.params.len(), "param"));
    }
    format!("{} ({})", path.display(), parts.join(", "))
}

/// `dp repl [FILE]`; the exit status.
pub fn run(file: Option<&Path>, color: bool) -> i32 {
    let interactive = std::io::stdin().is_terminal();
    INTERACTIVE.store(interactive, Ordering::SeqCst);
    install_interrupt_handler();
    let mut repl = Repl::new(color);
    if let Some(path) = file {
        let mut err = std::io::stderr();
        if interactive {
            repl.load(path, &mut std::io::stdout(), &mut err);
        } else {
            repl.load(path, &mut std::io::sink(), &mut err);
        }
    }
    if interactive {
        if let Err(e) = run_interactive(&mut repl) {
            crate::app::term::eprint_quietly(&format!(
                "error: the line editor failed ({e}); reading plain lines\n"
            ));
            run_piped(&mut repl);
        }
    } else {
        run_piped(&mut repl);
    }
    0
}

fn install_interrupt_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if TRAINING.load(Ordering::SeqCst) {
                CANCEL.store(true, Ordering::SeqCst);
                crate::app::term::eprint_quietly("\ninterrupt: stopping after the current epoch\n");
            } else if !INTERACTIVE.load(Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    });
}

/// Inputs from a pipe or file: one per line, continued while incomplete.
pub fn run_piped(repl: &mut Repl) {
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let mut pending = String::new();
    loop {
        let mut buf = Vec::new();
        let n = reader.read_until(b'\n', &mut buf).unwrap_or(0);
        if n == 0 {
            if !pending.trim().is_empty() {
                let _ = repl.handle(&pending, &mut std::io::stdout(), &mut std::io::stderr());
            }
            return;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(line);
        if editor::is_incomplete(&pending) {
            continue;
        }
        let input = std::mem::take(&mut pending);
        if repl.handle(&input, &mut std::io::stdout(), &mut std::io::stderr()) == Flow::Quit {
            return;
        }
    }
}

/// The history file, `<data dir>/dp/history` (its directory created).
pub fn history_path() -> Option<PathBuf> {
    let dir = dirs::data_dir()?.join("dp");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history"))
}

fn run_interactive(repl: &mut Repl) -> rustyline::Result<()> {
    use rustyline::error::ReadlineError;
    use rustyline::history::DefaultHistory;
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut rl: rustyline::Editor<editor::DpHelper, DefaultHistory> =
        rustyline::Editor::with_config(config)?;
    let highlight = repl.color && std::io::stdout().is_terminal();
    rl.set_helper(Some(editor::DpHelper::new(highlight)));
    let history = history_path();
    if let Some(p) = &history {
        let _ = rl.load_history(p);
    }
    say(
        &mut std::io::stdout(),
        "dp repl: expressions, declarations, :help for commands, Ctrl-D to leave",
    );
    loop {
        if let Some(h) = rl.helper_mut() {
            h.names = repl.names();
        }
        match rl.readline("dp> ") {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                    if let Some(p) = &history {
                        let _ = rl.save_history(p);
                    }
                }
                let flow = repl.handle(&line, &mut std::io::stdout(), &mut std::io::stderr());
                if flow == Flow::Quit {
                    return Ok(());
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
