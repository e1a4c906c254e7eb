//! How a router container boots by itself: its command is a script, uploaded with its
//! configs before the container starts, that runs the router's start commands in order
//! and then waits until its daemons answer, telling how far it got on the container's
//! output with marker lines. metallab reads that output ([`BootReader`]) instead of
//! running each command and each readiness query through `docker exec`: an exec costs
//! the engine far more than the command itself, and a router that Docker starts again
//! (`docker start`, `docker restart`, a fault cleared) comes back configured without
//! metallab.

use super::{ready_command, start_commands};
use crate::kinds::{ConfigFile, command_line};
use crate::plan::model::PlannedRouter;
use std::time::Duration;

/// Where the script is uploaded, beside the configs.
pub const SCRIPT_PATH: &str = "/etc/metallab/boot.sh";

/// How long the script waits for the daemons to answer before it reports them not ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Between two readiness queries inside the router.
const READY_POLL: Duration = Duration::from_millis(50);

/// Starts every marker line. The script prints a newline before each marker, so output
/// that does not end in one still leaves the marker on a line of its own.
const MARK: &str = "@@metallab-boot ";

/// How large the command that writes a router's files may be: the kernel takes at most
/// 128 KiB in one argument (`sh -c SCRIPT`).
const INLINE_LIMIT: usize = 96 * 1024;

/// How a router's container gets its files and boots: its command (Docker's init is PID 1
/// and reaps the daemons), and whether the files must be uploaded before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerBoot {
    pub command: Vec<String>,
    pub upload: bool,
}

/// The command of a router's container. On the first start it writes the router's files
/// and its boot script itself (written last: a container stopped half-way writes them
/// all again), then runs the boot script, as it does on every later start: one engine
/// call less per router than an upload, which makes the engine unpack an archive. Files
/// too large for one command are uploaded instead, and the command only runs the script.
pub fn container_boot(router: &PlannedRouter, files: &[ConfigFile]) -> ContainerBoot {
    let boot = ConfigFile {
        path: SCRIPT_PATH.to_string(),
        contents: script(router),
        mode: 0o755,
    };
    let all: Vec<&ConfigFile> = files.iter().chain([&boot]).collect();
    let mut dirs: Vec<String> = all
        .iter()
        .filter_map(|f| std::path::Path::new(&f.path).parent())
        // A bare file name has the empty path for parent: nothing to make.
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| command_line(&[dir.to_string_lossy().into_owned()]))
        .collect();
    dirs.sort();
    dirs.dedup();
    // One `rm` for all (each new file is then root's, with the mode set below, as an
    // upload makes it), and `chmod` only where umask 022 does not give the file's mode:
    // a process per file less, which a lab of 100 routers feels.
    let paths: Vec<String> = all
        .iter()
        .map(|f| command_line(std::slice::from_ref(&f.path)))
        .collect();
    let writes: Vec<String> = all.iter().map(|f| write_file(f)).collect();
    let inline = format!(
        "[ -e {SCRIPT_PATH} ] || {{ umask 022 && mkdir -p {} && rm -f {} && {}; }} && exec sh {SCRIPT_PATH}",
        dirs.join(" "),
        paths.join(" "),
        writes.join(" && ")
    );
    if inline.len() <= INLINE_LIMIT {
        ContainerBoot {
            command: vec!["sh".to_string(), "-c".to_string(), inline],
            upload: false,
        }
    } else {
        ContainerBoot {
            command: vec!["sh".to_string(), SCRIPT_PATH.to_string()],
            upload: true,
        }
    }
}

/// The mode `umask 022` gives a new file.
const NEW_FILE_MODE: u32 = 0o644;

/// Commands that put `file` in place as an upload would, its directory made and any old
/// file removed already, under umask 022: a new root-owned file with the file's mode.
fn write_file(file: &ConfigFile) -> String {
    let path = command_line(std::slice::from_ref(&file.path));
    let write = format!(
        "printf %s {contents} > {path}",
        contents = command_line(std::slice::from_ref(&file.contents)),
    );
    if file.mode == NEW_FILE_MODE {
        write
    } else {
        format!("{write} && chmod {mode:o} {path}", mode = file.mode)
    }
}

/// The router's boot script (POSIX `sh`, so any image with a shell runs it). Each start
/// command runs with its output in files; the first that exits non-zero is reported with
/// its exit code and output, and the script then only keeps the container up, so the
/// router can still be looked at. The readiness query is repeated every 50 ms for at
/// most [`READY_TIMEOUT`]. Markers: `run I` before command `I`, `waiting`, `ready`, and
/// a report `failed I CODE` or `not-ready` followed by `stdout`, the output, `stderr`,
/// the output, `end`.
pub fn script(router: &PlannedRouter) -> String {
    let behaviour = router.kind.behaviour();
    let ready = ready_command(router.kind).filter(|_| !behaviour.start_waits_for_answers());
    render(
        &format!("router {} ({})", router.name, router.kind),
        &start_commands(router),
        ready.as_deref().map(|argv| Ready {
            query: argv,
            words: behaviour.ready_words(),
        }),
        READY_TIMEOUT,
    )
}

/// How the script tells the daemons answer.
struct Ready<'a> {
    query: &'a [String],
    /// What the query's output holds then.
    words: &'a [&'a str],
}

/// The script of [`script`] for any commands and readiness query.
fn render(
    what: &str,
    commands: &[Vec<String>],
    ready: Option<Ready>,
    ready_timeout: Duration,
) -> String {
    let mut s = format!(
        "# Written by metallab: {what} boots by itself whenever its container\n\
         # starts. Progress goes to the container's output as `{mark}` lines.\n\
         out=/tmp/metallab-boot.out err=/tmp/metallab-boot.err\n\
         mark() {{ printf '\\n{MARK}%s\\n' \"$*\"; }}\n\
         report() {{ mark \"$1\"; mark stdout; cat \"$out\"; mark stderr; cat \"$err\"; mark end; exec sleep infinity; }}\n",
        mark = MARK.trim_end(),
    );
    for (i, argv) in commands.iter().enumerate() {
        s.push_str(&format!(
            "mark run {i}; {command} >\"$out\" 2>\"$err\" </dev/null || report \"failed {i} $?\"\n",
            command = command_line(argv),
        ));
    }
    if let Some(Ready { query, words }) = ready {
        let mut test = format!(
            "{} >\"$out\" 2>\"$err\" </dev/null || return 1; r=$(cat \"$out\")",
            command_line(query)
        );
        for word in words {
            let pattern = command_line(&[(*word).to_string()]);
            test.push_str(&format!("; case $r in *{pattern}*) ;; *) return 1;; esac"));
        }
        let limit = (ready_timeout.as_millis() / READY_POLL.as_millis()).max(1);
        s.push_str(&format!(
            "mark waiting\n\
             answers() {{ {test}; }}\n\
             n=0; until answers; do n=$((n+1)); [ $n -lt {limit} ] || report not-ready; sleep {poll}; done\n",
            poll = READY_POLL.as_secs_f64(),
        ));
    }
    s.push_str("mark ready\nexec sleep infinity\n");
    s
}

/// What the boot script said so far, as [`BootReader`] takes it from its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootEvent {
    /// Start command `I` (an index into `start_commands`) began.
    Running(usize),
    /// Every start command exited 0; the daemons are being asked whether they answer.
    Waiting,
    /// The daemons answer: the router is up.
    Ready,
    /// Start command `step` exited `code`.
    Failed {
        step: usize,
        code: i64,
        stdout: String,
        stderr: String,
    },
    /// The daemons did not answer within [`READY_TIMEOUT`]; what the last query said.
    NotReady { stdout: String, stderr: String },
}

/// The report being read: which one, and which of its outputs the lines belong to.
#[derive(Debug, Default)]
struct Report {
    failed: Option<(usize, i64)>,
    stderr_next: bool,
    stdout: String,
    stderr: String,
}

/// Takes the boot script's output apart as it arrives, in chunks cut anywhere.
#[derive(Debug, Default)]
pub struct BootReader {
    pending: Vec<u8>,
    report: Option<Report>,
    /// Output outside any marker's block, last lines first dropped: what the container
    /// said when it stopped before it was ready (a shell that cannot read the script).
    stray: Vec<String>,
    /// An empty line held back: the newline the script prints before each marker is not
    /// output, so an empty line just before a marker is dropped.
    blank_held: bool,
}

/// How many stray lines are kept.
const STRAY_LINES: usize = 20;

impl BootReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a chunk; returns the events whose marker lines it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<BootEvent> {
        self.pending.extend_from_slice(chunk);
        let mut events = vec![];
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        events
    }

    /// The last lines the container printed outside the script's markers.
    pub fn stray_output(&self) -> String {
        self.stray.join("\n")
    }

    /// A line of output: the report's, else stray.
    fn output(&mut self, line: &str) {
        match &mut self.report {
            Some(report) => {
                let text = if report.stderr_next {
                    &mut report.stderr
                } else {
                    &mut report.stdout
                };
                text.push_str(line);
                text.push('\n');
            }
            None if !line.trim().is_empty() => {
                if self.stray.len() == STRAY_LINES {
                    self.stray.remove(0);
                }
                self.stray.push(line.to_string());
            }
            None => {}
        }
    }

    fn line(&mut self, line: &str) -> Option<BootEvent> {
        if line.is_empty() {
            if std::mem::replace(&mut self.blank_held, true) {
                self.output("");
            }
            return None;
        }
        let Some(marker) = line.strip_prefix(MARK) else {
            if std::mem::take(&mut self.blank_held) {
                self.output("");
            }
            self.output(line);
            return None;
        };
        self.blank_held = false;
        let words: Vec<&str> = marker.split_whitespace().collect();
        match words.as_slice() {
            ["run", i] => i.parse().ok().map(BootEvent::Running),
            ["waiting"] => Some(BootEvent::Waiting),
            ["ready"] => Some(BootEvent::Ready),
            ["failed", i, code] => {
                self.report = Some(Report {
                    failed: Some((i.parse().ok()?, code.parse().ok()?)),
                    ..Report::default()
                });
                None
            }
            ["not-ready"] => {
                self.report = Some(Report::default());
                None
            }
            ["stdout"] => None,
            ["stderr"] => {
                if let Some(report) = &mut self.report {
                    report.stderr_next = true;
                }
                None
            }
            ["end"] => {
                let report = self.report.take()?;
                Some(match report.failed {
                    Some((step, code)) => BootEvent::Failed {
                        step,
                        code,
                        stdout: report.stdout,
                        stderr: report.stderr,
                    },
                    None => BootEvent::NotReady {
                        stdout: report.stdout,
                        stderr: report.stderr,
                    },
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
