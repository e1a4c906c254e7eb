//! A router's state read over and over by one long-running command inside it (for
//! `check`, `up` and `converge`), instead of one `docker exec` per reading: the script runs the
//! state queries in a loop and frames each one's output with marker lines, and
//! [`SampleReader`] takes the stream apart as it comes. A reading then costs the query
//! itself, and its markers carry the router's clock (the host's: containers share its
//! kernel) from just before and just after it, so when it was taken does not depend on
//! how fast its output reached metallab.

use super::query::StateQuery;
use crate::kinds::command_line;
use crate::state::ExecOutput;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Starts every marker line. Printed after a newline of its own, so output that does not
/// end in a newline still leaves the marker on its own line (the newline is not output).
const MARK: &[u8] = b"\n@@metallab-sample ";

/// The `sh` script that runs `queries` in turn, a round every `interval` (start to start;
/// a round that takes longer is followed at once by the next), for at most `rounds` rounds
/// (a bound in case its stdin never closes). It ends when its stdin reaches end-of-file:
/// run with stdin attached and left open, it ends with its reader, even one that was
/// killed (Docker cannot signal an exec). A query's stderr goes through `<files>.err`.
/// Per query `i` it prints `run i`, the query's stdout, `out i CODE TIME`, its stderr,
/// `done i`; TIME is the clock in nanoseconds when the query ended (`date +%s%N`; a `date`
/// without `%N` leaves it unreadable, and the reader then takes the time the marker
/// arrived). Few processes per reading: the machine is also running the daemons being
/// timed.
pub fn script(queries: &[StateQuery], interval: Duration, rounds: u32, files: &str) -> String {
    let mut body = String::new();
    for (i, query) in queries.iter().enumerate() {
        body.push_str(&format!(
            "printf '\\n@@metallab-sample run {i}\\n'; {command} 2>{files}.err; rc=$?; \
             printf '\\n@@metallab-sample out {i} %s %s\\n' \"$rc\" \"$(date +%s%N)\"; \
             [ -s {files}.err ] && cat {files}.err; printf '\\n@@metallab-sample done {i}\\n'; ",
            command = command_line(&query.argv),
        ));
    }
    // A background job's stdin is /dev/null unless redirected explicitly: the watcher
    // reads the script's own stdin through fd 3.
    format!(
        "exec 3<&0; me=$$; {{ cat <&3 >/dev/null; kill $me; rm -f {files}.err; }} >/dev/null 2>&1 & \
         watcher=$!; exec 3<&-; n=0; while [ $n -lt {rounds} ]; do n=$((n+1)); \
         sleep {interval} & next=$!; {body}wait $next; done; kill $watcher; rm -f {files}.err",
        interval = interval.as_secs_f64(),
    )
}

/// One query's output from the stream, and when the query ended: what it printed was so
/// then.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    /// Its index in the queries of [`script`].
    pub query: usize,
    pub output: ExecOutput,
    pub at: SystemTime,
}

/// A marker's TIME, or when it arrived when that is unreadable.
fn stamp(word: Option<&&str>, arrived: SystemTime) -> SystemTime {
    word.and_then(|w| w.parse::<u64>().ok())
        .map_or(arrived, |nanos| UNIX_EPOCH + Duration::from_nanos(nanos))
}

/// Where the stream is within a query's block.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Within {
    /// Between blocks (or in one whose start was missed): text here is not a query's.
    Outside,
    Stdout,
    Stderr,
}

/// Takes the script's output apart as it arrives.
#[derive(Debug)]
pub struct SampleReader {
    pending: Vec<u8>,
    within: Within,
    query: usize,
    exit_code: i64,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    ended: Option<SystemTime>,
}

impl Default for SampleReader {
    fn default() -> Self {
        SampleReader {
            pending: Vec::new(),
            within: Within::Outside,
            query: 0,
            exit_code: 0,
            stdout: Vec::new(),
            stderr: Vec::new(),
            ended: None,
        }
    }
}

impl SampleReader {
    /// Feeds what arrived at `at`; returns the queries whose output is complete.
    pub fn feed(&mut self, bytes: &[u8], at: SystemTime) -> Vec<Sampled> {
        self.pending.extend_from_slice(bytes);
        let mut complete = Vec::new();
        while let Some(mark) = find(&self.pending, MARK) {
            let line_start = mark + MARK.len();
            let Some(line_len) = self.pending[line_start..].iter().position(|b| *b == b'\n') else {
                break;
            };
            let text: Vec<u8> = self.pending[..mark].to_vec();
            let line = String::from_utf8_lossy(&self.pending[line_start..line_start + line_len])
                .into_owned();
            self.pending.drain(..line_start + line_len + 1);
            self.take_text(&text);
            if let Some(done) = self.marker(&line, at) {
                complete.push(done);
            }
        }
        // Text before a marker whose line has not ended, or before what may be the start
        // of a marker, is a block's content for sure.
        let settled = find(&self.pending, MARK)
            .unwrap_or_else(|| self.pending.len().saturating_sub(MARK.len() - 1));
        if settled > 0 && self.within != Within::Outside {
            let text: Vec<u8> = self.pending.drain(..settled).collect();
            self.take_text(&text);
        }
        complete
    }

    fn take_text(&mut self, text: &[u8]) {
        match self.within {
            Within::Stdout => self.stdout.extend_from_slice(text),
            Within::Stderr => self.stderr.extend_from_slice(text),
            Within::Outside => {}
        }
    }

    fn marker(&mut self, line: &str, at: SystemTime) -> Option<Sampled> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let query = words.get(1).and_then(|w| w.parse().ok())?;
        match words[0] {
            "run" => {
                self.query = query;
                self.ended = None;
                self.stdout.clear();
                self.stderr.clear();
                self.within = Within::Stdout;
            }
            "out" if query == self.query && self.within == Within::Stdout => {
                self.ended = Some(stamp(words.get(3), at));
                self.exit_code = words.get(2).and_then(|w| w.parse().ok()).unwrap_or(-1);
                self.within = Within::Stderr;
            }
            "done" if query == self.query && self.within == Within::Stderr => {
                self.within = Within::Outside;
                let text = |bytes: &mut Vec<u8>| {
                    String::from_utf8_lossy(&std::mem::take(bytes)).into_owned()
                };
                let output = ExecOutput {
                    exit_code: self.exit_code,
                    stdout: text(&mut self.stdout),
                    stderr: text(&mut self.stderr),
                };
                return Some(Sampled {
                    query,
                    output,
                    at: self.ended.take()?,
                });
            }
            _ => {}
        }
        None
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::StatePart;

    fn queries() -> Vec<StateQuery> {
        vec![
            StateQuery::new(StatePart::Bfd, &["vtysh", "-c", "show bfd peers json"]),
            StateQuery::shell(
                StatePart::Sessions,
                "birdc show status && birdc show protocols all",
            ),
        ]
    }

    #[test]
    fn the_script_frames_each_query_and_stops_by_itself() {
        let script = script(&queries(), Duration::from_millis(100), 600, "/tmp/m-bfd");
        assert!(script.starts_with(
            "exec 3<&0; me=$$; { cat <&3 >/dev/null; kill $me; rm -f /tmp/m-bfd.err; } >/dev/null 2>&1 & \
             watcher=$!; exec 3<&-; n=0; while [ $n -lt 600 ]; do n=$((n+1)); sleep 0.1 & next=$!; printf"
        ), "{script}");
        assert!(script.contains(
            "printf '\\n@@metallab-sample run 0\\n'; vtysh -c 'show bfd peers json' 2>/tmp/m-bfd.err; rc=$?; \
             printf '\\n@@metallab-sample out 0 %s %s\\n' \"$rc\" \"$(date +%s%N)\"; \
             [ -s /tmp/m-bfd.err ] && cat /tmp/m-bfd.err; printf '\\n@@metallab-sample done 0\\n';"
        ), "{script}");
        assert!(
            script.contains(
                "; sh -c 'birdc show status && birdc show protocols all' 2>/tmp/m-bfd.err;"
            ),
            "{script}"
        );
        assert!(
            script.ends_with("wait $next; done; kill $watcher; rm -f /tmp/m-bfd.err"),
            "{script}"
        );
    }

    /// The script run with `sh` on this machine, its stdin a pipe that the test holds:
    /// readings come while the pipe is open, and closing it ends the script (and the
    /// query's stderr file goes with it); the bound on rounds ends it too.
    #[test]
    fn the_script_reads_until_its_stdin_closes_or_its_rounds_are_done() {
        use std::io::Read;
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("sampler");
        let queries = [StateQuery::shell(
            StatePart::Sessions,
            "echo up; echo warn >&2",
        )];
        let run = |rounds: u32| {
            Command::new("sh")
                .arg("-c")
                .arg(script(
                    &queries,
                    Duration::from_millis(20),
                    rounds,
                    &files.display().to_string(),
                ))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let mut child = run(100_000);
        let mut stdout = child.stdout.take().unwrap();
        let mut reader = SampleReader::default();
        let mut samples = vec![];
        let mut buf = [0u8; 64];
        while samples.len() < 3 {
            let n = stdout.read(&mut buf).unwrap();
            assert_ne!(n, 0, "the script ended by itself");
            samples.extend(reader.feed(&buf[..n], SystemTime::now()));
        }
        assert_eq!(
            samples[2].output,
            ExecOutput {
                exit_code: 0,
                stdout: "up\n".into(),
                stderr: "warn\n".into(),
            }
        );
        // The reader goes away: the script ends, long before its rounds are done.
        drop(child.stdin.take());
        let status = child.wait().unwrap();
        assert!(!status.success(), "it was stopped, not done: {status}");
        let mut rest = vec![];
        stdout.read_to_end(&mut rest).unwrap();
        // The watcher removes the stderr file right after stopping the loop.
        let err_file = dir.path().join("sampler.err");
        for _ in 0..100 {
            if !err_file.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!err_file.exists());

        // Two rounds, the stdin left open: it ends by itself, successfully.
        let mut child = run(2);
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert!(child.wait().unwrap().success());
        assert_eq!(out.matches("@@metallab-sample done 0").count(), 2, "{out}");
        assert!(!err_file.exists());
    }

    fn second(n: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(n)
    }

    /// The stream as the script prints it, cut into chunks at awkward places.
    #[test]
    fn the_stream_comes_apart_into_outputs_with_their_times() {
        // Query 0 stamped by the router's clock (GNU date); query 1 by a `date` that does
        // not know %N (busybox prints it as is).
        let stream = "\n@@metallab-sample run 0\n[{\"peer\":\"10.0.0.2\",\"status\":\"up\"}]\n\
                      \n@@metallab-sample out 0 0 1733370000142000000\n\
                      \n@@metallab-sample done 0\n\
                      \n@@metallab-sample run 1\nno newline at the end\
                      \n@@metallab-sample out 1 1 1733370000%N\nUnable to connect to server control socket\n\
                      \n@@metallab-sample done 1\n";
        let bytes = stream.as_bytes();
        let mut reader = SampleReader::default();
        let mut got = Vec::new();
        // Chunks of 7 bytes: markers and content split anywhere; chunk n arrives at
        // second n.
        for (n, chunk) in bytes.chunks(7).enumerate() {
            got.extend(reader.feed(chunk, second(n as u64)));
        }
        let arrival =
            |text: &str| second(((stream.find(text).unwrap() + text.len() - 1) / 7) as u64);
        let nanos = |n: u64| UNIX_EPOCH + Duration::from_nanos(n);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            Sampled {
                query: 0,
                output: ExecOutput {
                    exit_code: 0,
                    stdout: "[{\"peer\":\"10.0.0.2\",\"status\":\"up\"}]\n".into(),
                    stderr: String::new(),
                },
                at: nanos(1_733_370_000_142_000_000),
            }
        );
        assert_eq!(got[1].query, 1);
        assert_eq!(
            got[1].output,
            ExecOutput {
                exit_code: 1,
                stdout: "no newline at the end".into(),
                stderr: "Unable to connect to server control socket\n".into(),
            }
        );
        assert_eq!(got[1].at, arrival("out 1 1 1733370000%N\n"));
    }

    #[test]
    fn a_block_cut_off_is_dropped_and_the_next_one_read() {
        let mut reader = SampleReader::default();
        // The script was stopped in the middle of query 1 and started again.
        let first = reader.feed(b"\n@@metallab-sample run 1\nhalf", second(1));
        assert!(first.is_empty());
        let next = reader.feed(
            b"\n@@metallab-sample run 0\nall\n\n@@metallab-sample out 0 0 8\n\
              \n@@metallab-sample done 0\n",
            second(2),
        );
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].output.stdout, "all\n");
        assert_eq!(next[0].at, UNIX_EPOCH + Duration::from_nanos(8));
        // Output of a block whose `run` was missed is no query's.
        let orphan = reader.feed(
            b"tail\n\n@@metallab-sample out 1 0 9\n\n@@metallab-sample done 1\n",
            second(3),
        );
        assert!(orphan.is_empty());
    }
}
