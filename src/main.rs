//! The `metallab` binary: parse the command line, set up logging, run, map to exit codes.

use clap::Parser;
use metallab::cli::Cli;
use metallab::commands::{self, Failure};
use metallab::err;
use metallab::error_report::{self, ReportStyle};

fn main() {
    let cli = Cli::parse();
    let cli_color = cli.global.color;
    let filter = match cli.global.verbose {
        // kube's client logs every failed request at ERROR; metallab reports the ones
        // that matter itself, and retries it expects (MetalLB's webhook starting) are
        // progress, not errors.
        0 => "warn,kube_client=off",
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(()) => commands::ExitCode::Ok,
        Err(failure) => {
            report(&failure, report_style(cli_color));
            failure.exit_code()
        }
    };
    code.exit();
}

fn stderr_colors(mode: metallab::cli::ColorMode) -> bool {
    use std::io::IsTerminal;
    let env = metallab::view::table::ColorEnv::from_process();
    metallab::view::table::use_color(mode, &env) && std::io::stderr().is_terminal()
}

/// How errors print: coloured and wrapped to the terminal only on one; in pipes and CI
/// logs a long line stays one line (log viewers and grep want that).
fn report_style(mode: metallab::cli::ColorMode) -> ReportStyle {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    ReportStyle {
        color: stderr_colors(mode),
        wrap_width: terminal.then(|| {
            terminal_size::terminal_size_of(std::io::stderr())
                .map_or(100, |(width, _)| usize::from(width.0))
        }),
    }
}

fn report(failure: &Failure, style: ReportStyle) {
    let text = match failure {
        Failure::ChecksFailed
        | Failure::ProblemsFound
        | Failure::ChangesFound
        | Failure::Passthrough(_)
        | Failure::ReaderGone => return,
        Failure::Input(report) => error_report::render_diagnostic(report.as_ref(), style),
        Failure::Error { message, hint } | Failure::Interrupted { message, hint } => {
            error_report::render_error(message, hint.as_deref(), style)
        }
    };
    err!("{text}");
}
