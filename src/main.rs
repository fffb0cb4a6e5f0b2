//! `layerlab`: parses the command line and hands over to the library.

use clap::Parser;

mod cli;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    let Some(command) = args.command else {
        eprintln!(
            "The LayerLab window is not part of this build yet; try `layerlab train --help`."
        );
        return std::process::ExitCode::from(2);
    };
    match cli::run(command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
