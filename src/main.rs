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
        // Log lines go to stderr: colour them only where tables would be coloured and
        // stderr is a terminal too (never in pipes, CI logs, with NO_COLOR or --color never).
        .with_ansi(stderr_colors(cli.global.color))
        .without_time()
        .init();
    install_error_handler(cli.global.color);
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

/// How diagnostics print: wrapped to the terminal and with links only on a terminal; in
/// pipes and CI logs one long line stays one line (log viewers and grep want that).
fn install_error_handler(mode: metallab::cli::ColorMode) {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let color = stderr_colors(mode);
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .terminal_links(terminal)
                .wrap_lines(terminal)
                .force_graphical(true)
                .build(),
        )
    }));
}

fn stderr_colors(mode: metallab::cli::ColorMode) -> bool {
    use std::io::IsTerminal;
    let env = metallab::view::table::ColorEnv::from_process();
    metallab::view::table::use_color(mode, &env) && std::io::stderr().is_terminal()
}

fn report(failure: &Failure) {
    match failure {
        Failure::ChecksFailed | Failure::ProblemsFound => {}
        Failure::Input(report) => errln!("{report:?}"),
        Failure::Error { message, hint } | Failure::Interrupted { message, hint } => {
            errln!("error: {message}");
            if let Some(h) = hint {
                errln!("  hint: {h}");
            }
        }
    }
}
