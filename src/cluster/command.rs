//! Running the kind and minikube CLIs: one small trait, so providers build command lines
//! as plain data and tests check the exact argv, environment and stdin without the tools.

use futures::future::BoxFuture;
use std::fmt;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

/// Receives output lines as they arrive, for progress display.
pub type LineSink<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// A sink that drops every line.
pub fn ignore_lines(_: &str) {}

/// Which output stream carries a tool's progress messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStream {
    /// kind logs its steps to stderr.
    Stderr,
    /// minikube prints its steps to stdout and its errors to stderr.
    Both,
    /// Output is data (a kubeconfig, a version): nothing to show.
    None,
}

/// A command line to run, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub program: String,
    pub args: Vec<String>,
    /// Added to the inherited environment.
    pub env: Vec<(String, String)>,
    pub stdin: Option<String>,
    pub timeout: Duration,
    pub progress: ProgressStream,
}

impl CommandSpec {
    pub fn new<S: Into<String>>(
        program: &str,
        args: impl IntoIterator<Item = S>,
        timeout: Duration,
    ) -> Self {
        CommandSpec {
            program: program.to_string(),
            args: args.into_iter().map(Into::into).collect(),
            env: vec![],
            stdin: None,
            timeout,
            progress: ProgressStream::None,
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn stdin(mut self, text: String) -> Self {
        self.stdin = Some(text);
        self
    }

    pub fn progress(mut self, stream: ProgressStream) -> Self {
        self.progress = stream;
        self
    }
}

/// Shell-like rendering for messages: `KEY=value program arg 'arg with space'`.
impl fmt::Display for CommandSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quote = |s: &str| {
            if !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@,+".contains(&b))
            {
                s.to_string()
            } else {
                format!("'{}'", s.replace('\'', r"'\''"))
            }
        };
        let words: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .chain(std::iter::once(self.program.clone()))
            .chain(self.args.iter().map(|a| quote(a)))
            .collect();
        f.write_str(&words.join(" "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandOutput {
    /// `None` when the process was killed by a signal.
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CommandOutput {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{program} not found")]
    NotFound { program: String },
    #[error("{source}")]
    Io {
        #[source]
        source: std::io::Error,
    },
    /// The process was killed after `timeout`; `partial` is what it had printed.
    #[error("timed out")]
    Timeout {
        timeout: Duration,
        partial: CommandOutput,
    },
}

/// Runs commands. Non-zero exit codes are not errors here: providers read them.
pub trait CommandRunner: Send + Sync {
    fn run<'a>(
        &'a self,
        spec: &'a CommandSpec,
        on_line: LineSink<'a>,
    ) -> BoxFuture<'a, Result<CommandOutput, CommandError>>;
}

/// The real runner, on `tokio::process`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioCommandRunner;

impl CommandRunner for TokioCommandRunner {
    fn run<'a>(
        &'a self,
        spec: &'a CommandSpec,
        on_line: LineSink<'a>,
    ) -> BoxFuture<'a, Result<CommandOutput, CommandError>> {
        Box::pin(run_process(spec, on_line))
    }
}

async fn run_process(
    spec: &CommandSpec,
    on_line: LineSink<'_>,
) -> Result<CommandOutput, CommandError> {
    let mut command = tokio::process::Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A timed-out or abandoned tool must not outlive us.
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => CommandError::NotFound {
            program: spec.program.clone(),
        },
        _ => CommandError::Io { source },
    })?;

    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let forward_stdout = spec.progress == ProgressStream::Both;
    let forward_stderr = matches!(spec.progress, ProgressStream::Both | ProgressStream::Stderr);
    let mut stdout_text = String::new();
    let mut stderr_text = String::new();

    let outcome = {
        let write_stdin = async {
            if let (Some(mut pipe), Some(text)) = (stdin, spec.stdin.as_deref()) {
                // A tool that exits without reading stdin closes the pipe: not our error,
                // its exit code tells.
                let _ = pipe.write_all(text.as_bytes()).await;
                let _ = pipe.shutdown().await;
            }
        };
        let all = async {
            let (_, out, err, status) = tokio::join!(
                write_stdin,
                collect_lines(stdout, &mut stdout_text, forward_stdout, on_line),
                collect_lines(stderr, &mut stderr_text, forward_stderr, on_line),
                child.wait(),
            );
            out.and(err).and(status)
        };
        tokio::time::timeout(spec.timeout, all).await
    };
    match outcome {
        Ok(Ok(status)) => Ok(CommandOutput {
            exit_code: status.code(),
            stdout: stdout_text,
            stderr: stderr_text,
        }),
        Ok(Err(source)) => Err(CommandError::Io { source }),
        Err(_elapsed) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            Err(CommandError::Timeout {
                timeout: spec.timeout,
                partial: CommandOutput {
                    exit_code: None,
                    stdout: stdout_text,
                    stderr: stderr_text,
                },
            })
        }
    }
}

/// Appends everything read to `into` (byte for byte, lossily decoded) and passes each
/// complete, non-empty line to `on_line` when `forward`.
async fn collect_lines(
    stream: impl AsyncRead + Unpin,
    into: &mut String,
    forward: bool,
    on_line: LineSink<'_>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        into.push_str(&text);
        let shown = text.trim_end();
        if forward && !shown.is_empty() {
            on_line(shown);
        }
    }
}

#[cfg(test)]
pub mod recording {
    //! A runner that returns scripted outputs in order and records every command.

    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    pub enum Reply {
        Output(CommandOutput),
        NotFound,
        Timeout,
    }

    #[derive(Default)]
    pub struct RecordingRunner {
        replies: Mutex<VecDeque<Reply>>,
        calls: Mutex<Vec<CommandSpec>>,
    }

    impl RecordingRunner {
        pub fn new() -> Self {
            Self::default()
        }

        /// The next command exits with `code`, printing `stdout` and `stderr`.
        pub fn reply(self, code: i32, stdout: &str, stderr: &str) -> Self {
            self.push(Reply::Output(CommandOutput {
                exit_code: Some(code),
                stdout: stdout.to_string(),
                stderr: stderr.to_string(),
            }))
        }

        pub fn push(self, reply: Reply) -> Self {
            self.replies.lock().unwrap().push_back(reply);
            self
        }

        pub fn calls(&self) -> Vec<CommandSpec> {
            self.calls.lock().unwrap().clone()
        }

        /// Each call as `ENV=v program args… [stdin: N bytes]`, for compact assertions.
        pub fn call_lines(&self) -> Vec<String> {
            self.calls()
                .iter()
                .map(|c| match &c.stdin {
                    Some(s) => format!("{c} <stdin: {} bytes>", s.len()),
                    None => c.to_string(),
                })
                .collect()
        }
    }

    impl CommandRunner for RecordingRunner {
        fn run<'a>(
            &'a self,
            spec: &'a CommandSpec,
            on_line: LineSink<'a>,
        ) -> BoxFuture<'a, Result<CommandOutput, CommandError>> {
            self.calls.lock().unwrap().push(spec.clone());
            let reply = self
                .replies
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| panic!("unexpected command: {spec}"));
            Box::pin(async move {
                match reply {
                    Reply::Output(output) => {
                        let mut lines: Vec<&str> = vec![];
                        if spec.progress == ProgressStream::Both {
                            lines.extend(output.stdout.lines());
                        }
                        if spec.progress != ProgressStream::None {
                            lines.extend(output.stderr.lines());
                        }
                        for line in lines.into_iter().filter(|l| !l.trim().is_empty()) {
                            on_line(line.trim_end());
                        }
                        Ok(output)
                    }
                    Reply::NotFound => Err(CommandError::NotFound {
                        program: spec.program.clone(),
                    }),
                    Reply::Timeout => Err(CommandError::Timeout {
                        timeout: spec.timeout,
                        partial: CommandOutput {
                            exit_code: None,
                            stdout: String::new(),
                            stderr: " • Ensuring node image (kindest/node:v1.33.1) 🖼  ...\n"
                                .to_string(),
                        },
                    }),
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn spec(script: &str) -> CommandSpec {
        CommandSpec::new("sh", ["-c", script], Duration::from_secs(20))
    }

    #[tokio::test]
    async fn captures_output_exit_code_env_and_stdin_and_streams_stderr() {
        let lines = Mutex::new(Vec::<String>::new());
        let sink = |l: &str| lines.lock().unwrap().push(l.to_string());
        let spec = spec(
            "read first; echo \"got $first and $METALLAB_TEST_VAR\"; \
             echo 'step one' >&2; echo 'step two' >&2; exit 3",
        )
        .env("METALLAB_TEST_VAR", "x y")
        .stdin("hello\n".to_string())
        .progress(ProgressStream::Stderr);
        let out = TokioCommandRunner.run(&spec, &sink).await.unwrap();
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stdout, "got hello and x y\n");
        assert_eq!(out.stderr, "step one\nstep two\n");
        assert_eq!(*lines.lock().unwrap(), ["step one", "step two"]);
    }

    #[tokio::test]
    async fn data_commands_stream_nothing() {
        let lines = Mutex::new(Vec::<String>::new());
        let sink = |l: &str| lines.lock().unwrap().push(l.to_string());
        let out = TokioCommandRunner
            .run(&spec("echo data; echo noise >&2"), &sink)
            .await
            .unwrap();
        assert!(out.success());
        assert!(lines.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn missing_program_is_not_found() {
        let spec = CommandSpec::new("metallab-no-such-tool", ["version"], Duration::from_secs(5));
        let err = TokioCommandRunner
            .run(&spec, &ignore_lines)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CommandError::NotFound { program } if program == "metallab-no-such-tool")
        );
    }

    #[tokio::test]
    async fn timeout_kills_and_keeps_partial_output() {
        let mut spec = spec("echo started >&2; exec sleep 30");
        spec.timeout = Duration::from_millis(300);
        let err = TokioCommandRunner
            .run(&spec, &ignore_lines)
            .await
            .unwrap_err();
        match err {
            CommandError::Timeout { partial, .. } => assert_eq!(partial.stderr, "started\n"),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    fn display_quotes_what_a_shell_would_need() {
        let spec = CommandSpec::new(
            "kind",
            ["create", "cluster", "--name", "lab", "--wait", "3m", "it's"],
            Duration::from_secs(1),
        )
        .env("KIND_EXPERIMENTAL_DOCKER_NETWORK", "metallab-lab-kind");
        assert_eq!(
            spec.to_string(),
            "KIND_EXPERIMENTAL_DOCKER_NETWORK=metallab-lab-kind kind create cluster --name lab --wait 3m 'it'\\''s'"
        );
    }
}
