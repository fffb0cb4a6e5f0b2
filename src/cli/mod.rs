//! The `layerlab` command line: argument types and one function per subcommand.
//!
//! `main.rs` only parses and dispatches; each subcommand returns `anyhow::Result` so errors are
//! printed once, as a sentence, with a non-zero exit.

mod args;
mod bench;
mod eval;
mod predict;
mod presets;
mod train;

pub use args::{Cli, Command};

/// Runs a parsed subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Train(args) => train::run(*args),
        Command::Predict(args) => predict::run(args),
        Command::Presets(args) => presets::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Eval(args) => eval::run(args),
    }
}
