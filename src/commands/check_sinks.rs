//! Where a check run's results go: the progress step, `--timings`, a JUnit file and the
//! report on stdout (a table or JSON). The sinks are chosen once from the options, each
//! is fed every result as its check finishes, and each writes what it writes once the
//! run is over.

use super::{Failure, GlobalOpts, color_stdout, print_json, print_timings};
use crate::check::report;
use crate::check::result::CheckResult;
use crate::cli::OutputFormat;
use crate::progress::{Progress, Step};
use std::path::Path;
use std::time::Duration;

/// One destination of a check run.
pub trait CheckSink: Send {
    /// A check finished (passed, or failed for good).
    fn finished(&mut self, _result: &CheckResult) {}
    /// Every check finished; `results` are in the plan's order.
    fn end(self: Box<Self>, results: &[CheckResult]) -> Result<(), Failure>;
}

/// What the sinks of one run are chosen from.
pub struct SinkChoice<'a> {
    pub global: &'a GlobalOpts,
    pub progress: &'a Progress,
    /// The run's step, which counts the results as they come.
    pub step: Step,
    pub total: usize,
    pub lab: &'a str,
    pub junit: Option<&'a Path>,
    /// `up --timings`: when the checks started, on the progress clock.
    pub timings_from: Option<Duration>,
}

/// The sinks of a run, in the order they end: the step, the timings, the JUnit file,
/// then the report on stdout.
pub fn choose(choice: SinkChoice<'_>) -> Vec<Box<dyn CheckSink + '_>> {
    let mut sinks: Vec<Box<dyn CheckSink + '_>> = vec![Box::new(StepCounts {
        step: choice.step,
        total: choice.total,
        passed: 0,
        failed: 0,
    })];
    if let Some(started) = choice.timings_from {
        sinks.push(Box::new(Timings {
            progress: choice.progress,
            started,
        }));
    }
    if let Some(path) = choice.junit {
        sinks.push(Box::new(Junit {
            lab: choice.lab,
            path,
        }));
    }
    sinks.push(match choice.global.output {
        OutputFormat::Json => Box::new(JsonReport {
            started: std::time::SystemTime::now(),
        }),
        OutputFormat::Table => Box::new(TableReport {
            color: color_stdout(choice.global),
        }),
    });
    sinks
}

/// The step says how far the run is as each check finishes (spinners; lines stay quiet),
/// and how it ended.
struct StepCounts {
    step: Step,
    total: usize,
    passed: usize,
    failed: usize,
}

impl CheckSink for StepCounts {
    fn finished(&mut self, result: &CheckResult) {
        if result.passed() {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        let failed = match self.failed {
            0 => String::new(),
            n => format!(", {n} failed"),
        };
        self.step
            .show(format!("{}/{} passed{failed}", self.passed, self.total));
    }

    fn end(self: Box<Self>, results: &[CheckResult]) -> Result<(), Failure> {
        match results.iter().filter(|r| !r.passed()).count() {
            0 => self.step.done("all passed"),
            failed => self.step.fail(format!("{failed} failed")),
        }
        Ok(())
    }
}

/// `up --timings`: the steps so far and when each check passed.
struct Timings<'a> {
    progress: &'a Progress,
    started: Duration,
}

impl CheckSink for Timings<'_> {
    fn end(self: Box<Self>, results: &[CheckResult]) -> Result<(), Failure> {
        let passed: Vec<_> = results
            .iter()
            .filter(|r| r.passed())
            .map(|r| crate::view::timings::PassedCheck {
                router: r.subject.clone(),
                session: r.kind == "session",
                at: self.started + r.after(),
            })
            .collect();
        print_timings(self.progress, &passed);
        Ok(())
    }
}

struct Junit<'a> {
    lab: &'a str,
    path: &'a Path,
}

impl CheckSink for Junit<'_> {
    fn end(self: Box<Self>, results: &[CheckResult]) -> Result<(), Failure> {
        std::fs::write(self.path, report::junit(self.lab, results)).map_err(|e| {
            Failure::msg(
                format!("cannot write {}: {e}", self.path.display()),
                "check the path",
            )
        })
    }
}

/// The report, with when the checks started (RFC 3339, UTC): a check's `seconds` count
/// from then.
struct JsonReport {
    started: std::time::SystemTime,
}

impl CheckSink for JsonReport {
    fn end(self: Box<Self>, results: &[CheckResult]) -> Result<(), Failure> {
        let mut report = report::json(results);
        report["started"] = humantime::format_rfc3339_millis(self.started)
            .to_string()
            .into();
        print_json(&report);
        Ok(())
    }
}

struct TableReport {
    color: bool,
}

impl CheckSink for TableReport {
    fn end(self: Box<Self>, results: &[CheckResult]) -> Result<(), Failure> {
        out!("{}", report::human(results, self.color));
        Ok(())
    }
}
