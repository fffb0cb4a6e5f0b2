//! The `layerlab` command line: argument types and one function per subcommand.
//!
//! `main.rs` only parses and dispatches; each subcommand returns `anyhow::Result` so errors are
//! printed once, as a sentence, with a non-zero exit.

/// `println!` that returns the write error instead of panicking (a closed pipe, say
/// `layerlab presets | head -1`); `main` ends quietly on a broken pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

/// `print!` that returns the write error instead of panicking, as [`outln`] does.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

mod args;
mod augment_preview;
mod bench;
mod dataset;
mod datasets;
mod eval;
mod explain;
mod export;
mod lr_find;
mod predict;
mod presets;
mod record;
mod runs;
mod runs_torch;
mod train;

pub use args::{Cli, Command};

/// Runs a parsed subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Train(args) => train::run(*args),
        Command::Predict(args) => predict::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Presets(args) => presets::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Datasets(args) => datasets::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Export(args) => export::run(args),
        Command::Runs(args) => runs::run(args),
        Command::LrFind(args) => lr_find::run(*args),
        Command::AugmentPreview(args) => augment_preview::run(args),
    }
}
