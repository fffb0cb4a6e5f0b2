//! `layerlab`: parses the command line and hands over to the library.
//! No subcommand opens the window.

use clap::Parser;

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    let Some(command) = args.command else {
        return open_window();
    };
    match cli::run(command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader went away (`| head`): nothing more to say.
        Err(error) if is_broken_pipe(&error) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

#[cfg(feature = "gui")]
fn open_window() -> std::process::ExitCode {
    match layerlab::app::run_native() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot open the window: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "gui"))]
fn open_window() -> std::process::ExitCode {
    eprintln!(
        "this build has no window (built without the `gui` feature); try `layerlab train --help`"
    );
    std::process::ExitCode::from(2)
}
