//! Starting a router's daemons. A router in a container boots by itself, and
//! [`follow_boot`] reads how far its boot script got on the container's output; a router
//! in a pod (and a single daemon started again) gets its commands through exec: the start
//! commands in order, each of which must exit 0, then the driver's ready command polled
//! until the daemon answers. Callers turn a [`StartFailure`] into their errors.

use crate::drivers::boot::{BootEvent, BootReader};
use crate::drivers::{is_ready, ready_command, start_commands};
use crate::plan::PlannedRouter;
use crate::state::ExecOutput;
use futures::{Stream, StreamExt};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How long one start command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one readiness query may run.
pub const READY_QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a router did not start: the exec itself failed (`E`), a command exited non-zero, or
/// the daemon did not answer in time.
#[derive(Debug)]
pub enum StartFailure<E> {
    Exec(E),
    CommandFailed {
        command: String,
        code: i64,
        output: String,
    },
    NotReady {
        seconds: u64,
        command: String,
        output: String,
    },
    /// A command ran longer than it may.
    TimedOut {
        command: String,
        seconds: u64,
    },
    /// The container stopped before its daemons answered; what it said last.
    Stopped {
        output: String,
    },
}

/// The first non-empty line of `a`, else of `b`: what a failed command said.
pub fn first_line<'a>(a: &'a str, b: &'a str) -> &'a str {
    let text = if a.trim().is_empty() { b } else { a };
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no output)")
        .trim()
}

/// How many lines of a failed start command's output are kept.
pub const KEPT_LINES: usize = 6;
/// Between kept lines: the message they end reads `… exited 2: FIRST`, the others follow
/// indented under it.
const LINE_BREAK: &str = "\n  ";

/// What a failed start command said: the non-empty lines of `a`, else of `b`, at most
/// [`KEPT_LINES`]. A daemon that refuses its config names the bad line after its first
/// complaint (FRR's `vtysh -b`: `line 7: % Unknown command[25]:  maximum-pathz 64`, one
/// line per bad line; Quagga's daemons: `*** Error occured processing line N, below:` and
/// the line itself after `*** Error reading config: …`), so the first line alone would
/// hide it. Lines naming a config line are kept before the others.
pub fn failure_lines(a: &str, b: &str) -> String {
    let text = if a.trim().is_empty() { b } else { a };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return "(no output)".to_string();
    }
    if lines.len() <= KEPT_LINES {
        return lines.join(LINE_BREAK);
    }
    let names_a_line = |l: &str| {
        l.split("line ")
            .skip(1)
            .any(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    };
    // The first line (the complaint), then lines naming a config line, then the rest, in
    // their own order; one line says how many were left out.
    let mut keep = vec![0];
    keep.extend((1..lines.len()).filter(|&i| names_a_line(lines[i])));
    keep.extend((1..lines.len()).filter(|&i| !names_a_line(lines[i])));
    keep.truncate(KEPT_LINES - 1);
    keep.sort_unstable();
    let mut kept: Vec<String> = keep.iter().map(|&i| lines[i].to_string()).collect();
    kept.push(format!("(and {} more lines)", lines.len() - keep.len()));
    kept.join(LINE_BREAK)
}

/// Runs `commands` in order through `exec` (each must exit 0); `on_command` hears each
/// before it runs.
pub async fn run_commands<F, Fut, E>(
    commands: Vec<Vec<String>>,
    exec: F,
    on_command: impl Fn(&[String]),
) -> Result<(), StartFailure<E>>
where
    F: Fn(Vec<String>, Duration) -> Fut,
    Fut: Future<Output = Result<ExecOutput, E>>,
{
    for argv in commands {
        on_command(&argv);
        let command = argv.join(" ");
        let out = exec(argv, COMMAND_TIMEOUT)
            .await
            .map_err(StartFailure::Exec)?;
        if !out.success() {
            return Err(StartFailure::CommandFailed {
                command,
                code: out.exit_code,
                output: failure_lines(&out.stderr, &out.stdout),
            });
        }
    }
    Ok(())
}

/// Polls the driver's ready command every `poll` until `is_ready`, for at most `timeout`.
/// Kinds without a ready command are ready at once.
pub async fn wait_ready<F, Fut, E>(
    router: &PlannedRouter,
    exec: F,
    timeout: Duration,
    poll: Duration,
) -> Result<(), StartFailure<E>>
where
    F: Fn(Vec<String>, Duration) -> Fut,
    Fut: Future<Output = Result<ExecOutput, E>>,
{
    let Some(argv) = ready_command(router.kind) else {
        return Ok(());
    };
    let deadline = Instant::now() + timeout;
    loop {
        let last = exec(argv.clone(), READY_QUERY_TIMEOUT)
            .await
            .map_err(StartFailure::Exec)?;
        if is_ready(router.kind, &last) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(StartFailure::NotReady {
                seconds: timeout.as_secs(),
                command: argv.join(" "),
                output: first_line(&last.stderr, &last.stdout).to_string(),
            });
        }
        tokio::time::sleep(poll).await;
    }
}

/// Follows a router's boot script on its container's output (from the start on) until it
/// says the daemons answer: each start command may take [`COMMAND_TIMEOUT`], the daemons
/// `ready_timeout` to answer once the commands are done. `on_command` hears each command
/// as it begins, `on_waiting` when they are all done.
pub async fn follow_boot<S, E>(
    router: &PlannedRouter,
    mut output: S,
    ready_timeout: Duration,
    on_command: impl Fn(&[String]),
    on_waiting: impl Fn(),
) -> Result<(), StartFailure<E>>
where
    S: Stream<Item = Result<Vec<u8>, E>> + Unpin,
{
    let commands = start_commands(router);
    let ready_query = || ready_command(router.kind).unwrap_or_default().join(" ");
    let mut reader = BootReader::new();
    // What is under way, and how long it may take: the container's start, a command
    // (by index), or the daemons' answer.
    let mut running: Option<usize> = None;
    let mut waiting = false;
    let mut deadline = Instant::now() + COMMAND_TIMEOUT;
    loop {
        let chunk = match tokio::time::timeout_at(deadline, output.next()).await {
            Ok(Some(chunk)) => chunk.map_err(StartFailure::Exec)?,
            Ok(None) => {
                return Err(StartFailure::Stopped {
                    output: reader.stray_output(),
                });
            }
            Err(_) if waiting => {
                return Err(StartFailure::NotReady {
                    seconds: ready_timeout.as_secs(),
                    command: ready_query(),
                    output: "(no answer)".to_string(),
                });
            }
            Err(_) => {
                return Err(StartFailure::TimedOut {
                    command: running
                        .and_then(|i| commands.get(i))
                        .map_or_else(|| "the container's start".to_string(), |c| c.join(" ")),
                    seconds: COMMAND_TIMEOUT.as_secs(),
                });
            }
        };
        for event in reader.feed(&chunk) {
            match event {
                BootEvent::Running(i) => {
                    running = Some(i);
                    deadline = Instant::now() + COMMAND_TIMEOUT;
                    if let Some(argv) = commands.get(i) {
                        on_command(argv);
                    }
                }
                BootEvent::Waiting => {
                    waiting = true;
                    deadline = Instant::now() + ready_timeout;
                    on_waiting();
                }
                BootEvent::Ready => return Ok(()),
                BootEvent::Failed {
                    step,
                    code,
                    stdout,
                    stderr,
                } => {
                    return Err(StartFailure::CommandFailed {
                        command: commands
                            .get(step)
                            .map_or_else(|| format!("command {step}"), |c| c.join(" ")),
                        code,
                        output: failure_lines(&stderr, &stdout),
                    });
                }
                BootEvent::NotReady { stdout, stderr } => {
                    return Err(StartFailure::NotReady {
                        seconds: crate::drivers::boot::READY_TIMEOUT.as_secs(),
                        command: ready_query(),
                        output: first_line(&stderr, &stdout).to_string(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::exec_output as out;
    use std::sync::Mutex;

    #[test]
    fn the_first_line_said_is_stderr_first_then_stdout() {
        assert_eq!(first_line("\n  boom  \nmore", "ok"), "boom");
        assert_eq!(first_line(" \n", "\nfrom stdout\n"), "from stdout");
        assert_eq!(first_line("", ""), "(no output)");
    }

    /// Real output: FRR 8.4.4 (image metallab/frr), `vtysh -b` with an frr.conf holding a
    /// misspelt `maximum-pathz 64` (line 7) and `bogus command here` (line 10); exit code 2,
    /// all on stderr, nothing on stdout.
    const FRR_VTYSH_B_BAD_CONFIG: &str = "\
line 7: % Unknown command[25]:  maximum-pathz 64
line 10: % Unknown command[4]: bogus command here
Configuration file[/etc/frr/frr.conf] processing failure: 2
";

    #[test]
    fn a_refused_config_keeps_the_lines_that_name_the_bad_lines() {
        assert_eq!(
            failure_lines(FRR_VTYSH_B_BAD_CONFIG, ""),
            "line 7: % Unknown command[25]:  maximum-pathz 64\n  \
             line 10: % Unknown command[4]: bogus command here\n  \
             Configuration file[/etc/frr/frr.conf] processing failure: 2"
        );
        assert_eq!(failure_lines(" \n", "\nfrom stdout\n"), "from stdout");
        assert_eq!(failure_lines("", ""), "(no output)");
        // Long output: the first line, the lines naming a config line, then the rest.
        let mut long = String::from("noise 0\n");
        for i in 1..=8 {
            long.push_str(&format!("noise {i}\n"));
        }
        long.push_str(FRR_VTYSH_B_BAD_CONFIG);
        let kept = failure_lines(&long, "");
        let kept: Vec<&str> = kept.lines().map(str::trim).collect();
        assert_eq!(kept.len(), KEPT_LINES);
        assert_eq!(kept[0], "noise 0");
        assert!(kept.contains(&"line 7: % Unknown command[25]:  maximum-pathz 64"));
        assert!(kept.contains(&"line 10: % Unknown command[4]: bogus command here"));
        assert_eq!(kept[KEPT_LINES - 1], "(and 7 more lines)");
    }

    #[tokio::test]
    async fn commands_run_in_order_and_stop_at_the_first_failure() {
        let ran = Mutex::new(vec![]);
        let result: Result<(), StartFailure<String>> = run_commands(
            vec![
                vec!["a".into()],
                vec!["b".into(), "x".into()],
                vec!["c".into()],
            ],
            |argv, _| {
                let code = if argv[0] == "b" { 2 } else { 0 };
                async move { Ok(out(code, "", "b failed\nand more")) }
            },
            |argv| ran.lock().unwrap().push(argv.join(" ")),
        )
        .await;
        assert_eq!(*ran.lock().unwrap(), ["a", "b x"]);
        let Err(StartFailure::CommandFailed {
            command,
            code,
            output,
        }) = result
        else {
            panic!("{result:?}")
        };
        assert_eq!(
            (command.as_str(), code, output.as_str()),
            ("b x", 2, "b failed\n  and more")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_daemon_that_never_answers_is_reported_with_its_last_words() {
        let router = crate::render::fixtures::bird_ebgp();
        assert_eq!(router.kind, crate::kinds::bird::KIND);
        let result: Result<(), StartFailure<String>> = wait_ready(
            &router,
            |_, _| async { Ok(out(1, "", "Unable to connect to server control socket")) },
            Duration::from_secs(3),
            Duration::from_millis(500),
        )
        .await;
        let Err(StartFailure::NotReady {
            seconds,
            command,
            output,
        }) = result
        else {
            panic!("{result:?}")
        };
        assert_eq!(seconds, 3);
        assert_eq!(command, "birdc show status");
        assert_eq!(output, "Unable to connect to server control socket");
    }
}
