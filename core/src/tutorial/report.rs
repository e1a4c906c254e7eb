//! What `metallab tutorial run` found, step by step: for people, for scripts (`-o json`)
//! and for CI (`--junit FILE`). Pure: results in, text out.

use super::model::ExpectedExit;
use crate::check::report as checks_report;
use crate::check::result::CheckResult;
use crate::check::text::{elapsed, indent};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};
use std::time::Duration;

/// A run of a whole tutorial.
#[derive(Debug, Clone, PartialEq)]
pub struct TutorialRun {
    pub tutorial: String,
    pub lab: String,
    pub steps: Vec<StepRun>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepRun {
    pub number: usize,
    pub title: String,
    pub status: StepStatus,
    pub took: Duration,
    pub commands: Vec<CommandRun>,
    pub checks: Vec<CheckResult>,
    /// Why it failed, in one line.
    pub failure: Option<String>,
    /// The step's `> Hint:`, given with a failure.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Passed,
    Failed,
    /// An earlier step failed.
    NotRun,
}

impl StepStatus {
    pub fn word(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::NotRun => "not-run",
        }
    }
}

/// One command of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRun {
    pub command: String,
    /// False for a `no-run` block's command, which the reader runs by hand.
    pub ran: bool,
    /// What its exit code must be (its block's `fails`, `may-fail`).
    pub expected: ExpectedExit,
    /// None when it did not end by itself (a timeout, or killed by a signal).
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub took: Duration,
    /// Its stdout and stderr as they came (the last part of a long output).
    pub output: String,
}

impl CommandRun {
    /// Whether it did what the tutorial says it does.
    pub fn ok(&self) -> bool {
        if !self.ran {
            return true;
        }
        match (self.exit_code, self.expected) {
            (None, _) => false,
            (Some(_), ExpectedExit::Any) => true,
            (Some(0), expected) => expected == ExpectedExit::Success,
            (Some(_), expected) => expected == ExpectedExit::Failure,
        }
    }

    /// Why it is not ok, in one line.
    pub fn problem(&self) -> Option<String> {
        if self.ok() {
            return None;
        }
        Some(match (self.timed_out, self.exit_code) {
            (true, _) => format!(
                "`{}` did not finish within {}",
                one_line(&self.command),
                elapsed(self.took)
            ),
            (false, Some(0)) => format!(
                "`{}` succeeded, but the tutorial says it fails",
                one_line(&self.command)
            ),
            (false, Some(code)) => format!("`{}` exited {code}", one_line(&self.command)),
            (false, None) => format!("`{}` was killed by a signal", one_line(&self.command)),
        })
    }
}

/// A command written over several lines, as one.
fn one_line(command: &str) -> String {
    command
        .replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl TutorialRun {
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.status == StepStatus::Passed)
    }

    fn counts(&self) -> (usize, usize) {
        let passed = self
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Passed)
            .count();
        (passed, self.steps.len())
    }
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// One line per step (`✔ step 2/5  Announce a prefix  14.2s`); for the step that failed,
/// its command's failure or its checks' report (reason and evidence) and its hint; then
/// a summary.
pub fn human(run: &TutorialRun, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let total = run.steps.len();
    let mut out = String::new();
    for step in &run.steps {
        let (mark, timing) = match step.status {
            StepStatus::Passed => (paint(GREEN, "✔"), elapsed(step.took)),
            StepStatus::Failed => (
                paint(RED, "✘"),
                format!("failed after {}", elapsed(step.took)),
            ),
            StepStatus::NotRun => ("–".to_string(), "not run".to_string()),
        };
        out.push_str(&format!(
            "{mark} step {}/{total}  {}  {timing}\n",
            step.number,
            paint(BOLD, &step.title)
        ));
        if step.status != StepStatus::Failed {
            continue;
        }
        if let Some(failure) = &step.failure {
            out.push_str(&format!("  {failure}\n"));
        }
        if let Some(command) = step.commands.iter().find(|c| !c.ok())
            && !command.output.trim().is_empty()
        {
            out.push_str(&indent(command.output.trim_end(), "    "));
            out.push('\n');
        }
        if !step.checks.is_empty() && step.commands.iter().all(CommandRun::ok) {
            out.push_str(&indent(
                checks_report::human(&step.checks, color).trim_end(),
                "  ",
            ));
            out.push('\n');
        }
        if let Some(hint) = &step.hint {
            out.push_str(&format!("  hint: {hint}\n"));
        }
    }
    let (passed, total) = run.counts();
    let summary = match run.steps.iter().find(|s| s.status == StepStatus::Failed) {
        None => paint(
            GREEN,
            &format!("tutorial {}: all {total} steps passed", run.tutorial),
        ),
        Some(failed) => paint(
            RED,
            &format!(
                "tutorial {}: {passed} of {total} steps passed; step {} ({}) did not",
                run.tutorial, failed.number, failed.title
            ),
        ),
    };
    out.push_str(&format!("\n{summary}\n"));
    out
}

/// The run as JSON (`metallab tutorial run -o json`):
///
/// ```json
/// {
///   "tutorial": "bgp-basics", "lab": "bgp-basics",
///   "passed": false,                  // every step passed
///   "steps": [{
///     "number": 1, "title": "Start the lab",
///     "status": "passed",             // passed, failed, not-run
///     "seconds": 12.5,
///     "failure": null,                // failed only: why, in one line
///     "hint": null,                   // failed only: the step's hint
///     "commands": [{ "command": "metallab status bgp-basics", "ran": true,
///                    "expect": "success",   // or "failure" (fails), "any" (may-fail)
///                    "exit_code": 0, "timed_out": false,
///                    "seconds": 0.8, "output": "…" }],
///     "checks": { "passed": 2, "failed": 0, "checks": [ … ] }   // as `metallab check -o json`
///   }]
/// }
/// ```
pub fn json(run: &TutorialRun) -> Value {
    let steps: Vec<Value> = run
        .steps
        .iter()
        .map(|step| {
            let failed = step.status == StepStatus::Failed;
            json!({
                "number": step.number,
                "title": step.title,
                "status": step.status.word(),
                "seconds": seconds(step.took),
                "failure": step.failure,
                "hint": if failed { step.hint.clone() } else { None },
                "commands": step.commands.iter().map(|c| json!({
                    "command": c.command,
                    "ran": c.ran,
                    "expect": c.expected.word(),
                    "exit_code": c.exit_code,
                    "timed_out": c.timed_out,
                    "seconds": seconds(c.took),
                    "output": c.output,
                })).collect::<Vec<_>>(),
                "checks": checks_report::json(&step.checks),
            })
        })
        .collect();
    json!({
        "tutorial": run.tutorial,
        "lab": run.lab,
        "passed": run.passed(),
        "steps": steps,
    })
}

/// A JUnit XML report: one suite named after the tutorial, one test case per step (a step
/// not run is skipped). A failure's message is its one-line reason; the commands with
/// their output and the checks' report go to system-out.
pub fn junit(run: &TutorialRun) -> String {
    let mut suite = TestSuite::new(format!("tutorial {}", run.tutorial));
    let mut total = Duration::ZERO;
    for step in &run.steps {
        total += step.took;
        let status = match step.status {
            StepStatus::Passed => TestCaseStatus::success(),
            StepStatus::NotRun => TestCaseStatus::skipped(),
            StepStatus::Failed => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(step.failure.clone().unwrap_or_default());
                status
            }
        };
        let mut case = TestCase::new(format!("step {}: {}", step.number, step.title), status);
        case.set_classname(format!("{}.{}", run.tutorial, run.lab))
            .set_time(step.took);
        let mut output = String::new();
        for command in &step.commands {
            let outcome = match (command.ran, command.exit_code) {
                (false, _) => "not run: the reader runs it".to_string(),
                (true, Some(code)) => format!("exit {code}"),
                (true, None) if command.timed_out => "timed out".to_string(),
                (true, None) => "killed".to_string(),
            };
            output.push_str(&format!(
                "$ {}   # {outcome}\n{}",
                command.command, command.output
            ));
            if !command.output.is_empty() && !command.output.ends_with('\n') {
                output.push('\n');
            }
        }
        if !step.checks.is_empty() {
            output.push_str(&checks_report::human(&step.checks, false));
        }
        if step.status == StepStatus::Failed
            && let Some(hint) = &step.hint
        {
            output.push_str(&format!("hint: {hint}\n"));
        }
        if !output.is_empty() {
            case.set_system_out(output);
        }
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut report = Report::new("metallab");
    report.set_time(total).add_test_suite(suite);
    report
        .to_string()
        .expect("a JUnit report built in memory from UTF-8 strings serializes")
}

fn seconds(d: Duration) -> f64 {
    d.as_millis() as f64 / 1000.0
}
