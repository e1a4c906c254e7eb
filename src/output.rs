//! Writing to stdout and stderr as a Unix tool does: when the reader of a pipe goes away
//! (`metallab topologies generate | head -1`), stop quietly instead of panicking.
//!
//! std's `println!` panics on a closed pipe. These macros write the same text, and on
//! `BrokenPipe` end the process with 141 (128 + SIGPIPE), what a shell reports for a tool
//! the signal stopped; any other write error is ignored, as a lost diagnostic must not turn
//! into a crash.

use std::io::Write;

/// Exit status after the reader of stdout or stderr went away.
pub const BROKEN_PIPE: i32 = 128 + 13;

fn write_or_stop(mut writer: impl Write, args: std::fmt::Arguments<'_>) {
    let written = writer.write_fmt(args).and_then(|()| writer.flush());
    if let Err(error) = written
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(BROKEN_PIPE);
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
