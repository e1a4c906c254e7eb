//! Checks: pure evaluation against router state, the polling runner, and reports.
//!
//! - [`evaluate`]: one check against one router's state or one probe's output (pure);
//! - [`runner`]: polls every check in parallel until it passes or its deadline;
//! - [`report`]: human, JSON and JUnit renderings of the results (pure).

pub mod evaluate;
pub mod report;
pub mod runner;
pub mod service;
mod text;

pub use evaluate::{Verdict, evaluate_probe, evaluate_state, kind_label, probe_command, subject};
pub use runner::{
    CheckEvent, CheckResult, LabProbe, Outcome, RunOptions, run_checks, run_checks_with_progress,
};
