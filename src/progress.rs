//! Per-step progress: indicatif spinners on a terminal, plain timestamped lines otherwise
//! (pipes, CI logs). Every step also goes to `tracing` so `-v` logs tell the same story.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// When to draw spinners (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    Auto,
    Always,
    Never,
}

/// How progress is shown, decided once from the flag and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    Spinners,
    Lines,
}

/// Pure decision: spinners only for `always`, or for `auto` on a real terminal outside CI
/// (some CI systems pretend to be terminals).
pub fn resolve(mode: ProgressMode, stderr_is_terminal: bool, is_ci: bool) -> Display {
    match mode {
        ProgressMode::Always => Display::Spinners,
        ProgressMode::Never => Display::Lines,
        ProgressMode::Auto if stderr_is_terminal && !is_ci => Display::Spinners,
        ProgressMode::Auto => Display::Lines,
    }
}

#[derive(Clone)]
pub struct Progress {
    inner: Arc<Inner>,
}

struct Inner {
    display: Display,
    multi: MultiProgress,
    started: Instant,
    /// Every finished step and each part of it, for `--timings`.
    spans: Mutex<Vec<Span>>,
    /// The steps under way, by id: what a deadline that runs out names.
    running: Mutex<Vec<(u64, String)>>,
    next_id: std::sync::atomic::AtomicU64,
}

pub use crate::view::timings::Span;

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        let is_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        let display = resolve(mode, std::io::stderr().is_terminal(), is_ci);
        let multi = MultiProgress::new();
        match display {
            Display::Lines => multi.set_draw_target(ProgressDrawTarget::hidden()),
            // indicatif hides itself when stderr is not a terminal; `--progress always`
            // asks for the spinners anyway (a `tee` to a log, a terminal recorder).
            Display::Spinners if !std::io::stderr().is_terminal() => multi.set_draw_target(
                ProgressDrawTarget::term_like_with_hz(Box::new(console::Term::stderr()), 10),
            ),
            Display::Spinners => {}
        }
        Progress {
            inner: Arc::new(Inner {
                display,
                multi,
                started: Instant::now(),
                spans: Mutex::default(),
                running: Mutex::default(),
                next_id: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    pub fn display(&self) -> Display {
        self.inner.display
    }

    /// Time since the command started.
    pub fn elapsed(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// The steps finished so far and their parts, in the order they finished.
    pub fn spans(&self) -> Vec<Span> {
        self.inner
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The steps under way, each as `phase what (what it does now)`, oldest first.
    pub fn running(&self) -> Vec<String> {
        self.inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(_, text)| text.clone())
            .collect()
    }

    fn set_running(&self, id: u64, text: Option<String>) {
        let mut running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match (running.iter().position(|(i, _)| *i == id), text) {
            (Some(at), Some(text)) => running[at].1 = text,
            (None, Some(text)) => running.push((id, text)),
            (Some(at), None) => {
                running.remove(at);
            }
            (None, None) => {}
        }
    }

    fn record(&self, span: Span) {
        self.inner
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(span);
    }

    /// Start a step: `phase` is a short column (`images`, `network`, `router`), `what` names
    /// the object.
    pub fn step(&self, phase: &str, what: impl Into<String>) -> Step {
        let what = what.into();
        tracing::info!(phase, what = %what, "start");
        let bar = match self.inner.display {
            Display::Spinners => {
                let pb = self.inner.multi.add(ProgressBar::new_spinner());
                pb.set_style(
                    ProgressStyle::with_template(
                        "{spinner:.cyan} {prefix:.bold} {msg} {elapsed:.dim}",
                    )
                    .expect("static template")
                    .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✓"),
                );
                pb.set_prefix(format!("{phase:<8}"));
                pb.set_message(what.clone());
                pb.enable_steady_tick(Duration::from_millis(100));
                Some(pb)
            }
            Display::Lines => None,
        };
        let id = self
            .inner
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.set_running(id, Some(format!("{phase} {what}")));
        Step {
            id,
            progress: self.clone(),
            phase: phase.to_string(),
            what,
            bar,
            started: Instant::now(),
            part: Mutex::new(None),
            finished: false,
        }
    }

    /// A line of its own (e.g. a summary) that does not disturb running spinners.
    pub fn println(&self, line: impl AsRef<str>) {
        match self.inner.display {
            Display::Spinners => {
                let _ = self.inner.multi.println(line.as_ref());
            }
            Display::Lines => errln!("{}", line.as_ref()),
        }
    }

    fn line(&self, phase: &str, text: &str) {
        let t = self.inner.started.elapsed().as_secs_f64();
        errln!("[{t:>6.1}s] {phase:<8} {text}");
    }
}

/// One running step. Finishing is explicit (`done`/`fail`); a step dropped unfinished
/// (an early `?` return) is shown as interrupted.
pub struct Step {
    id: u64,
    progress: Progress,
    phase: String,
    what: String,
    bar: Option<ProgressBar>,
    started: Instant,
    /// The part in progress (what the last `set_message` said) and since when.
    part: Mutex<Option<(String, Duration)>>,
    finished: bool,
}

impl Step {
    /// Update what the step is doing now (spinners only; lines stay quiet until the end).
    /// It also starts a new part of the step for `--timings`.
    pub fn set_message(&self, msg: impl AsRef<str>) {
        self.show(msg.as_ref());
        tracing::debug!(phase = %self.phase, what = %self.what, "{}", msg.as_ref());
        let now = self.progress.elapsed();
        let previous = self
            .part
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace((msg.as_ref().to_string(), now));
        self.close_part(previous, now);
    }

    /// Shows how far the step is (spinners only), without starting a part of it: for
    /// counts that change often ("12/48 passed"), which `--timings` has no use for.
    pub fn show(&self, msg: impl AsRef<str>) {
        if let Some(pb) = &self.bar {
            pb.set_message(format!("{} — {}", self.what, msg.as_ref()));
        }
        self.progress.set_running(
            self.id,
            Some(format!("{} {} ({})", self.phase, self.what, msg.as_ref())),
        );
    }

    fn close_part(&self, part: Option<(String, Duration)>, now: Duration) {
        if let Some((name, start)) = part {
            self.progress.record(Span {
                phase: self.phase.clone(),
                what: self.what.clone(),
                part: Some(name),
                start,
                end: now,
            });
        }
    }

    pub fn done(mut self, result: impl AsRef<str>) {
        self.finish(Outcome::Done, result.as_ref());
    }

    /// The step failed and the command goes on (or the failure is only this line): `why`
    /// is shown on the step's line.
    pub fn fail(mut self, why: impl AsRef<str>) {
        self.finish(Outcome::Failed, why.as_ref());
    }

    /// The step failed with the error the command ends with: the line marks where, the
    /// error is printed once, at the end.
    pub fn failed(mut self) {
        self.finish(Outcome::Failed, "failed");
    }

    fn finish(&mut self, outcome: Outcome, text: &str) {
        self.finished = true;
        self.progress.set_running(self.id, None);
        let secs = self.started.elapsed().as_secs_f64();
        let now = self.progress.elapsed();
        let part = self
            .part
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.close_part(part, now);
        self.progress.record(Span {
            phase: self.phase.clone(),
            what: self.what.clone(),
            part: None,
            start: now.saturating_sub(self.started.elapsed()),
            end: now,
        });
        let mark = match outcome {
            Outcome::Done => "✔",
            Outcome::Failed => "✘",
            Outcome::Unfinished => "–",
        };
        let line = if text.is_empty() {
            format!("{mark} {} ({secs:.1}s)", self.what)
        } else {
            format!("{mark} {}: {text} ({secs:.1}s)", self.what)
        };
        // The step's own line (or spinner) shows the result; the log only records it, so
        // a failure is not printed a second time as a warning.
        match outcome {
            Outcome::Done => tracing::info!(phase = %self.phase, "{line}"),
            _ => tracing::info!(phase = %self.phase, failed = true, "{line}"),
        }
        match &self.bar {
            Some(pb) => {
                pb.set_style(
                    ProgressStyle::with_template("{prefix:.bold} {msg}").expect("static template"),
                );
                pb.finish_with_message(line);
            }
            None => self.progress.line(&self.phase, &line),
        }
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Done,
    Failed,
    /// Dropped before it finished: another step failed, or the run was interrupted.
    Unfinished,
}

impl Drop for Step {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(Outcome::Unfinished, "not finished");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_shown_on_a_step_are_no_parts_of_its_timings() {
        let progress = Progress::new(ProgressMode::Never);
        let step = progress.step("check", "48 check(s) on lab x");
        step.show("12/48 passed");
        assert_eq!(
            progress.running(),
            ["check 48 check(s) on lab x (12/48 passed)"]
        );
        step.done("all passed");
        let spans = progress.spans();
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].part, None);
    }

    #[test]
    fn running_steps_say_what_they_do_until_they_finish() {
        let progress = Progress::new(ProgressMode::Never);
        let first = progress.step("metallb", "v0.14.8 (native)");
        let second = progress.step("router", "frr1 (frr)");
        second.set_message("waiting for the daemon");
        assert_eq!(
            progress.running(),
            [
                "metallb v0.14.8 (native)",
                "router frr1 (frr) (waiting for the daemon)"
            ]
        );
        first.done("ok");
        drop(second);
        assert!(progress.running().is_empty());
    }

    #[test]
    fn spinners_only_on_a_real_terminal_outside_ci() {
        use ProgressMode::*;
        let cases = [
            (Auto, true, false, Display::Spinners),
            (Auto, true, true, Display::Lines),
            (Auto, false, false, Display::Lines),
            (Auto, false, true, Display::Lines),
            (Always, false, true, Display::Spinners),
            (Never, true, false, Display::Lines),
        ];
        for (mode, term, ci, want) in cases {
            assert_eq!(
                resolve(mode, term, ci),
                want,
                "{mode:?} term={term} ci={ci}"
            );
        }
    }
}
