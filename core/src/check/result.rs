//! What a run of checks found, check by check (pure): what `check::report` renders and the
//! runner (`engine::check_runner`) produces.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub name: String,
    /// `session`, `route`, … (see [`kind_label`]).
    pub kind: String,
    /// The router the check reads or runs in; None for cluster checks.
    pub subject: Option<String>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Passed {
        /// Time from the start of the run to the passing attempt.
        after: Duration,
        attempts: u32,
        detail: String,
    },
    Failed {
        after: Duration,
        attempts: u32,
        /// From the last completed attempt.
        reason: String,
        evidence: String,
    },
}

impl CheckResult {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed { .. })
    }

    pub fn after(&self) -> Duration {
        match self.outcome {
            Outcome::Passed { after, .. } | Outcome::Failed { after, .. } => after,
        }
    }

    pub fn attempts(&self) -> u32 {
        match self.outcome {
            Outcome::Passed { attempts, .. } | Outcome::Failed { attempts, .. } => attempts,
        }
    }
}
