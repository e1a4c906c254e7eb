//! Running a step's commands as the reader would type them: `sh -c COMMAND` in the
//! tutorial's folder, with this metallab first on PATH (so `metallab …` is this binary)
//! and its state directory passed on, output streamed line by line as it comes.

use crate::tutorial::model::{Command, CommandBlock};
use crate::tutorial::report::CommandRun;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::Instant;

/// How much of a command's output a report keeps (its end).
const KEPT_OUTPUT: usize = 64 * 1024;

/// Where and how commands run.
#[derive(Debug, Clone)]
pub struct CommandEnv {
    /// The tutorial's folder: paths in commands are relative to it.
    pub dir: PathBuf,
    /// PATH with this executable's folder first.
    path: std::ffi::OsString,
    state_dir: PathBuf,
    offline: bool,
}

impl CommandEnv {
    pub fn new(dir: &Path, state_dir: &Path, offline: bool) -> CommandEnv {
        let mut folders: Vec<PathBuf> = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .into_iter()
            .collect();
        if let Some(path) = std::env::var_os("PATH") {
            folders.extend(std::env::split_paths(&path));
        }
        CommandEnv {
            dir: dir.to_path_buf(),
            path: std::env::join_paths(folders).unwrap_or_default(),
            state_dir: state_dir.to_path_buf(),
            offline,
        }
    }
}

/// Kills a command's whole process group (the shell and what it started) when dropped
/// before the command ended: on a timeout, or when the run is interrupted.
struct Group(Option<u32>);

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Runs one command. Each line of its output (stdout and stderr, as they come) goes to
/// `on_line`; after the block's timeout the command and everything it started is killed.
pub async fn run(
    env: &CommandEnv,
    block: &CommandBlock,
    command: &Command,
    mut on_line: impl FnMut(&str),
) -> CommandRun {
    let started = Instant::now();
    let mut result = CommandRun {
        command: command.text.clone(),
        ran: true,
        expected: block.exit,
        exit_code: None,
        timed_out: false,
        took: Duration::ZERO,
        output: String::new(),
    };
    let mut process = tokio::process::Command::new("sh");
    process
        .arg("-c")
        .arg(&command.text)
        .current_dir(&env.dir)
        .env("PATH", &env.path)
        .env("METALLAB_STATE_DIR", &env.state_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group, so a timeout stops what it started too.
        .process_group(0);
    if env.offline {
        process.env("METALLAB_OFFLINE", "1");
    }
    let mut child = match process.spawn() {
        Ok(child) => child,
        Err(e) => {
            result.output = format!("cannot run sh: {e}\n");
            on_line(result.output.trim_end());
            return result;
        }
    };
    let mut group = Group(child.id());
    let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
    let deadline = tokio::time::sleep(block.timeout());
    tokio::pin!(deadline);
    let (mut out_open, mut err_open) = (true, true);
    while out_open || err_open {
        let line = tokio::select! {
            line = stdout.next_line(), if out_open => line.ok().flatten().or_else(|| { out_open = false; None }),
            line = stderr.next_line(), if err_open => line.ok().flatten().or_else(|| { err_open = false; None }),
            () = &mut deadline => {
                result.timed_out = true;
                break;
            }
        };
        if let Some(line) = line {
            on_line(&line);
            keep(&mut result.output, &line);
        }
    }
    if !result.timed_out {
        tokio::select! {
            status = child.wait() => {
                if let Ok(status) = status {
                    // It ended by itself: nothing left to stop.
                    group.0 = None;
                    result.exit_code = status.code();
                }
            }
            () = &mut deadline => result.timed_out = true,
        }
    }
    if result.timed_out {
        drop(group);
        let _ = child.wait().await;
    }
    result.took = started.elapsed();
    result
}

/// Appends a line, keeping the last [`KEPT_OUTPUT`] bytes.
fn keep(output: &mut String, line: &str) {
    output.push_str(line);
    output.push('\n');
    if output.len() > KEPT_OUTPUT {
        let mut cut = output.len() - KEPT_OUTPUT;
        while !output.is_char_boundary(cut) {
            cut += 1;
        }
        output.replace_range(..cut, "…");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tutorial::model::ExpectedExit;

    fn block(fails: bool, timeout: Option<Duration>) -> CommandBlock {
        CommandBlock {
            run: true,
            exit: if fails {
                ExpectedExit::Failure
            } else {
                ExpectedExit::Success
            },
            timeout,
            commands: vec![],
            span: 0..0,
        }
    }

    fn command(text: &str) -> Command {
        Command {
            text: text.into(),
            words: vec![],
            span: 0..0,
        }
    }

    #[tokio::test]
    async fn runs_in_the_folder_with_this_binary_first_on_path_and_streams_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("here.txt"), "x").unwrap();
        let env = CommandEnv::new(dir.path(), Path::new("/state"), false);
        let mut lines = Vec::new();
        let run = run(
            &env,
            &block(false, None),
            &command("ls; echo \"$METALLAB_STATE_DIR\"; echo oops >&2; exit 3"),
            |l| lines.push(l.to_string()),
        )
        .await;
        assert_eq!(run.exit_code, Some(3));
        assert!(!run.ok());
        lines.sort();
        assert_eq!(lines, ["/state", "here.txt", "oops"]);
        let first = std::env::split_paths(&env.path).next().unwrap();
        assert_eq!(
            first,
            std::env::current_exe().unwrap().parent().unwrap(),
            "`metallab` in a command is this binary"
        );
    }

    #[tokio::test]
    async fn a_command_that_must_fail_is_ok_when_it_fails() {
        let env = CommandEnv::new(Path::new("/"), Path::new("/state"), false);
        let run = run(&env, &block(true, None), &command("false"), |_| {}).await;
        assert!(run.ok(), "{run:?}");
        let run = run_true(&env).await;
        assert_eq!(
            run.problem().unwrap(),
            "`true` succeeded, but the tutorial says it fails"
        );
    }

    async fn run_true(env: &CommandEnv) -> CommandRun {
        run(env, &block(true, None), &command("true"), |_| {}).await
    }

    #[tokio::test]
    async fn a_timeout_stops_the_command_and_what_it_started() {
        let env = CommandEnv::new(Path::new("/"), Path::new("/state"), false);
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let text = format!("(sleep 3; touch {}) & sleep 30", marker.display());
        let run = run(
            &env,
            &block(false, Some(Duration::from_millis(300))),
            &command(&text),
            |_| {},
        )
        .await;
        assert!(run.timed_out);
        assert_eq!(run.exit_code, None);
        assert!(run.problem().unwrap().contains("did not finish within"));
        std::thread::sleep(Duration::from_secs(4));
        assert!(!marker.exists(), "the background part was stopped too");
    }
}
