//! Writing to stdout and stderr as a Unix tool does: when the reader of a pipe goes away
//! (`metallab topologies generate | head -1`), stop quietly instead of panicking.
//!
//! std's `println!` panics on a closed pipe. These macros write the same text, and on
//! `BrokenPipe` end the process with `ExitCode::BrokenPipe` (141); any other write error
//! is ignored, as a lost diagnostic must not turn into a crash.

use std::io::Write;

fn write_or_stop(mut writer: impl Write, args: std::fmt::Arguments<'_>) {
    let written = writer.write_fmt(args).and_then(|()| writer.flush());
    if let Err(error) = written
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        crate::exit_code::ExitCode::BrokenPipe.exit();
    }
}

/// Writes to stdout (use [`out!`](crate::out) and [`outln!`](crate::outln)).
pub fn stdout(args: std::fmt::Arguments<'_>) {
    write_or_stop(std::io::stdout().lock(), args);
}

/// Writes to stderr (use [`err!`](crate::err) and [`errln!`](crate::errln)).
pub fn stderr(args: std::fmt::Arguments<'_>) {
    write_or_stop(std::io::stderr().lock(), args);
}

/// `print!` that stops quietly on a closed pipe.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::stdout(format_args!($($arg)*)) };
}

/// `println!` that stops quietly on a closed pipe.
#[macro_export]
macro_rules! outln {
    () => { $crate::output::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that stops quietly on a closed pipe.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::output::stderr(format_args!($($arg)*)) };
}

/// `eprintln!` that stops quietly on a closed pipe.
#[macro_export]
macro_rules! errln {
    () => { $crate::output::stderr(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Writes bytes to stdout as they come (a pcap), flushed; false when the reader of the
/// pipe went away, so the caller can stop what produces them and then exit.
pub fn stdout_bytes(bytes: &[u8]) -> bool {
    let mut out = std::io::stdout().lock();
    !matches!(
        out.write_all(bytes).and_then(|()| out.flush()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe
    )
}
