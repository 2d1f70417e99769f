//! The `dp` binary: parses the command line (clap) and runs the command on
//! a thread with a large stack. The commands and the REPL are the
//! application layer (`app/`), a client of the library.

mod app;

use std::process::ExitCode;

use app::cli::{run_command, ColorChoice, Command};
use clap::Parser;

/// dp: a typed functional language whose programs are trainable networks.
#[derive(Parser, Debug)]
#[command(name = "dp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour diagnostics: auto (on a terminal), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = cli.color.enabled();
    let command = cli.command;
    dp::backend::memory::keep_freed_memory();
    dp::backend::threads::configure(app::cli::threads(&command));
    match dp::driver::with_big_stack(move || run_command(command, color)) {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(code.clamp(1, 255) as u8),
        None => {
            app::term::eprint_quietly(
                "error: dp stopped unexpectedly (this is a bug in dp; please report it)\n",
            );
            ExitCode::from(1)
        }
    }
}
