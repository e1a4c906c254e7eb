//! Starting a router's daemons, wherever its commands run (`docker exec` into a container,
//! Kubernetes exec into a pod): the start commands in order, each of which must exit 0,
//! then polling the driver's ready command until the daemon answers. The engine and the
//! in-cluster starter pass their own exec and turn a [`StartFailure`] into their errors.

use super::{is_ready, ready_command};
use crate::plan::PlannedRouter;
use crate::runtime::ExecOutput;
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
}

/// The first non-empty line of `a`, else of `b`: what a failed command said.
pub fn first_line<'a>(a: &'a str, b: &'a str) -> &'a str {
    let text = if a.trim().is_empty() { b } else { a };
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no output)")
        .trim()
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
                output: first_line(&out.stderr, &out.stdout).to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::model::RouterKind;
    use std::sync::Mutex;

    fn out(exit_code: i64, stdout: &str, stderr: &str) -> ExecOutput {
        ExecOutput {
            exit_code,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn the_first_line_said_is_stderr_first_then_stdout() {
        assert_eq!(first_line("\n  boom  \nmore", "ok"), "boom");
        assert_eq!(first_line(" \n", "\nfrom stdout\n"), "from stdout");
        assert_eq!(first_line("", ""), "(no output)");
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
            ("b x", 2, "b failed")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_daemon_that_never_answers_is_reported_with_its_last_words() {
        let router = crate::render::fixtures::bird_ebgp();
        assert_eq!(router.kind, RouterKind::Bird);
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
