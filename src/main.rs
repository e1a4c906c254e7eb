//! The `metallab` binary: parse the command line, set up logging, run, map to exit codes.

use clap::Parser;
use metallab::cli::Cli;
use metallab::commands::{self, Failure};
use metallab::errln;

fn main() {
    let cli = Cli::parse();
    let filter = match cli.global.verbose {
        0 => "warn",
        1 => "metallab=info",
        2 => "metallab=debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("METALLAB_LOG")
                .unwrap_or_else(|_| filter.into()),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(()) => commands::exit::OK,
        Err(failure) => {
            report(&failure);
            failure.exit_code()
        }
    };
    std::process::exit(code);
}

fn report(failure: &Failure) {
    match failure {
        Failure::ChecksFailed => {}
        Failure::Input(report) => errln!("{report:?}"),
        Failure::Error { message, hint } => {
            errln!("error: {message}");
            if let Some(h) = hint {
                errln!("  hint: {h}");
            }
        }
    }
}
