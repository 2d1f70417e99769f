//! The command-line commands (`dp check`, `dp run`, `dp train`, `dp repl`)
//! as library functions: argument structs (clap), and one function per
//! command that returns the process exit status.
//!
//! Output conventions: results on stdout, diagnostics on stderr (colour only
//! on a terminal), exit 0 on success, 1 for an error in the program, data or
//! weights. Usage errors (exit 2) are clap's. This module does not parse,
//! check or evaluate by itself: it strings the stages together.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use crate::app::args::at_least_one;
pub use crate::app::args::TrainArgs;
pub use dp::api::eval::eval_text;
use dp::api::eval::{apply_examples, encode_one};
use dp::backend::Graph;
use dp::codec::{self, data_errors};
use dp::diagnostic::{render, Code, Diagnostic, Failure};
use dp::driver::{compile_file, read_text, Compiled};
use dp::ir::GlobalRef;
use dp::runtime::{self, function_type, Context, Vocabularies, Weights};

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Parse and type-check; print `name : Type` for each def.
    Check {
        /// The program.
        file: PathBuf,
    },
    /// Print `main` (or EXPR) as JSON, or apply a function to each line of a data file.
    Run(RunArgs),
    /// Train the program's learned pieces on data.
    Train(TrainArgs),
    /// Print the network each def lowers to: modules, shapes, parameters.
    Lower {
        /// The program.
        file: PathBuf,
        /// Only this def (default: every def of the file, in order).
        #[arg(long)]
        def: Option<String>,
    },
    /// Draw the network a def lowers to (SVG, or Graphviz DOT).
    Graph {
        /// The program.
        file: PathBuf,
        /// The def to draw (default: `loss`, else `main`, else the file's last def).
        #[arg(long)]
        def: Option<String>,
        /// Write the picture here (default: standard output).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// `svg` (laid out and drawn by dp) or `dot` (for Graphviz); by
        /// default from the output's extension, else svg.
        #[arg(long, value_parser = graph_format)]
        format: Option<dp::lower::GraphFormat>,
    },
    /// Measure what each part of a network does over data: its
    /// representations (norm, effective rank, dead units) and weights
    /// (norm, largest singular value, gradient norm).
    Inspect(crate::app::inspect::InspectArgs),
    /// Explore a program interactively.
    Repl {
        /// A program to load first.
        file: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The program.
    pub file: PathBuf,
    /// Trained weights (safetensors) to run with.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// An expression to evaluate in the program's scope instead of `main`.
    #[arg(long, conflicts_with = "apply", allow_hyphen_values = true)]
    pub eval: Option<String>,
    /// A function to apply to every line of --input.
    #[arg(long, requires = "input")]
    pub apply: Option<String>,
    /// JSON Lines input for --apply, one argument per line.
    #[arg(long, requires = "apply")]
    pub input: Option<PathBuf>,
    /// Threads for the kernels (default: the number of cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<usize>,
    /// Seed of the random draws (`normal`, `uniform`, ...) and of fresh
    /// weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// How diagnostics are coloured.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// The threads a command may use (`--threads`, or the number of cores).
pub fn threads(command: &Command) -> usize {
    let threads = match command {
        Command::Run(a) => a.threads,
        Command::Train(a) => a.threads,
        _ => None,
    };
    threads.unwrap_or_else(dp::backend::threads::available)
}

/// Run one command; returns the exit status.
pub fn run_command(command: Command, color: bool) -> i32 {
    let mut out = std::io::stdout().lock();
    let result = match command {
        Command::Check { file } => check(&file, &mut out),
        Command::Run(args) => run(&args, &mut out),
        Command::Train(args) => train_command(&args, &mut out, color),
        Command::Lower { file, def } => lower(&file, def.as_deref(), &mut out),
        Command::Inspect(args) => crate::app::inspect::inspect(&args, &mut out),
        Command::Graph {
            file,
            def,
            output,
            format,
        } => graph(&file, def.as_deref(), output.as_deref(), format, &mut out),
        Command::Repl { file } => {
            drop(out);
            return crate::app::repl::run(file.as_deref(), color);
        }
    };
    let _ = out.flush();
    match result {
        Ok(()) => 0,
        Err(f) => {
            crate::app::term::eprint_quietly(&render(&f.diagnostics, &f.sources, color));
            1
        }
    }
}

fn compile(file: &Path) -> Result<Compiled, Failure> {
    compile_file(file).map_err(|(sources, diagnostics)| Failure {
        sources,
        diagnostics,
    })
}

/// `dp check`: `name : Type` for each def of the root file, in source order.
pub fn check(file: &Path, out: &mut impl Write) -> Result<(), Failure> {
    let compiled = compile(file)?;
    for line in def_signatures(&compiled) {
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// `dp lower`: the network of `def`, or of every def of the root file.
pub fn lower(file: &Path, def: Option<&str>, out: &mut impl Write) -> Result<(), Failure> {
    let compiled = compile(file)?;
    let text =
        dp::lower::print_defs(&compiled, def).map_err(|d| Failure::with(&compiled.sources, d))?;
    let _ = write!(out, "{text}");
    Ok(())
}

fn graph_format(text: &str) -> Result<dp::lower::GraphFormat, String> {
    match text {
        "svg" => Ok(dp::lower::GraphFormat::Svg),
        "dot" => Ok(dp::lower::GraphFormat::Dot),
        _ => Err("expected `svg` or `dot`".into()),
    }
}

/// `dp graph`: the picture of one def, to a file (atomically) or stdout.
pub fn graph(
    file: &Path,
    def: Option<&str>,
    output: Option<&Path>,
    format: Option<dp::lower::GraphFormat>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let compiled = compile(file)?;
    let by_extension = output
        .and_then(|o| o.extension())
        .is_some_and(|e| e == "dot" || e == "gv");
    let format = format.unwrap_or(if by_extension {
        dp::lower::GraphFormat::Dot
    } else {
        dp::lower::GraphFormat::Svg
    });
    let fail = |d| Failure::with(&compiled.sources, d);
    let text = dp::lower::graph_def(&compiled, def, format).map_err(fail)?;
    match output {
        Some(path) => dp::checkpoint::write_atomically(path, text.as_bytes()).map_err(|e| {
            let msg = format!("cannot write `{}`: {e}", path.display());
            fail(Diagnostic::new(Code::Io, msg))
        }),
        None => {
            let _ = write!(out, "{text}");
            Ok(())
        }
    }
}

/// `name : Type` for the defs of the root module, in source order.
pub fn def_signatures(compiled: &Compiled) -> Vec<String> {
    compiled.def_signatures()
}

/// `dp run`.
pub fn run(args: &RunArgs, out: &mut impl Write) -> Result<(), Failure> {
    let mut compiled = compile(&args.file)?;
    let (vocabs, weights) = load_weights(&compiled, args.weights.as_deref(), args.seed)?;
    let program = &compiled.program;
    if args.weights.is_none() && !(program.learned.is_empty() && program.params.is_empty()) {
        print_notes(&[format!(
            "`{}` has learned pieces and no --weights was given: running with fresh \
             weights drawn with seed {}",
            args.file.display(),
            args.seed
        )]);
    }
    let mut graph = Graph::inference();
    if let Some(expr) = &args.eval {
        let json = eval_text(
            &mut compiled,
            &vocabs,
            &weights,
            &mut graph,
            expr,
            args.seed,
        )?;
        let _ = writeln!(out, "{json}");
        return Ok(());
    }
    if let (Some(name), Some(input)) = (&args.apply, &args.input) {
        return apply_file(&compiled, &vocabs, &weights, (name, input), args.seed, out);
    }
    let Some(GlobalRef::Def(main)) = compiled.program.globals.get("main").copied() else {
        let d = Diagnostic::new(
            Code::NoMain,
            format!("`{}` has no `main` to run", args.file.display()),
        )
        .help("define `def main = ...`, or evaluate an expression with `--eval EXPR`");
        return Err(Failure::with(&compiled.sources, d));
    };
    let mut ctx = Context::new(&compiled.program, &vocabs, &weights);
    ctx.draws.seed = args.seed;
    let ty = compiled.program.defs[main].scheme.ty.clone();
    let value = runtime::global_value(&ctx, &mut graph, main, 1)
        .map_err(|d| Failure::with(&compiled.sources, d))?;
    let json = encode_one(
        &graph,
        &value,
        &ty,
        &compiled.program,
        &vocabs,
        &compiled.sources,
    )?;
    let _ = writeln!(out, "{json}");
    Ok(())
}

/// Notes for the user, on stderr.
fn print_notes(notes: &[String]) {
    for n in notes {
        crate::app::term::eprint_quietly(&format!("note: {n}\n"));
    }
}

/// The run-time vocabularies and weights: from a file, or fresh from
/// `seed`.
pub fn load_weights(
    compiled: &Compiled,
    path: Option<&Path>,
    seed: u64,
) -> Result<(Vocabularies, Weights), Failure> {
    let program = &compiled.program;
    if let Some(path) = path {
        let ckpt = dp::checkpoint::load(path, program, &Graph::inference())
            .map_err(|d| Failure::with(&compiled.sources, d))?;
        print_notes(&ckpt.notes);
        return Ok((ckpt.vocabs, ckpt.weights));
    }
    let vocabs = Vocabularies::from_types(&program.types);
    let weights = dp::train::fresh_weights(compiled, &vocabs, seed)?;
    Ok((vocabs, weights))
}

fn apply_file(
    compiled: &Compiled,
    vocabs: &Vocabularies,
    weights: &Weights,
    (name, input): (&str, &Path),
    seed: u64,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let sources = &compiled.sources;
    let (arg_ty, _) =
        function_type(&compiled.program, name).map_err(|d| Failure::with(sources, d))?;
    let text = read_text(input).map_err(|d| Failure::with(sources, d))?;
    let mut vocabs = vocabs.clone();
    let examples = codec::decode_lines(&text, &arg_ty, &compiled.program.types, &mut vocabs, false)
        .map_err(|errors| Failure {
            sources: sources.clone(),
            diagnostics: data_errors(input, &arg_ty, errors),
        })?;
    // A closed stdout (`| head`) ends the run: nobody reads the rest.
    apply_examples(
        compiled,
        &vocabs,
        weights,
        name,
        &examples,
        seed,
        &mut |row| writeln!(out, "{row}").is_ok(),
    )
}

/// `dp train`.
pub fn train_command(args: &TrainArgs, out: &mut dyn Write, color: bool) -> Result<(), Failure> {
    let compiled = compile(&args.file)?;
    let mut printer = crate::app::progress::EpochPrinter::new(out, None);
    let trained = dp::train::train(&compiled, &args.config(), &mut |p| printer.observe(p))?;
    print_notes(&trained.notes);
    if !trained.warnings.is_empty() {
        let text = dp::diagnostic::render(&trained.warnings, &compiled.sources, color);
        crate::app::term::eprint_quietly(&text);
    }
    if let Some(path) = &args.save {
        let best = match &trained.kept {
            Some((_, name, value)) => format!(", the best {name}: {value:.4}"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "saved {} (epoch {}{best})",
            path.display(),
            trained.epochs_done
        );
    }
    Ok(())
}
