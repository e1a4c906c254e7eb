//! Checks: pure evaluation against router state, the polling runner, and reports.
//!
//! - [`evaluate`]: one check against one router's state or one probe's output (pure);
//! - [`result`]: what a run found, check by check (the polling runner that produces it is
//!   `engine::check_runner`);
//! - [`report`]: human, JSON and JUnit renderings of the results (pure);
//! - [`watch`] and [`converge`]: changes between readings (`check --watch`), and what a
//!   fault did to each check (`converge`).

pub mod converge;
pub mod evaluate;
pub mod report;
pub mod result;
pub mod service;
pub mod text;
pub mod watch;

pub use evaluate::{Verdict, evaluate_probe, evaluate_state, kind_label, probe_command, subject};
pub use result::{CheckResult, Outcome};
