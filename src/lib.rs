//! metallab: MetalLB test labs from one topology file.
//!
//! The layout is a pure core with I/O at the edges:
//! - pure: `metallb` (what each MetalLB release accepts, its names), `topology` (model,
//!   parsing, validation), `plan` (topology → decided lab), `render` (router configs and
//!   MetalLB's configuration), `drivers` (per-kind commands), `parse` (router CLI output →
//!   `state`), `check` (evaluation and reports), `view` (what tables and the dashboard
//!   show);
//! - edges: `runtime` (Docker through bollard), `cluster` (kind, Minikube, existing
//!   clusters through their CLIs), `k8s` (kube-rs: apply, waits, cluster state),
//!   `in_cluster` (routers as pods), `fetch` (downloads: MetalLB's manifests);
//! - the app: `engine` (lab lifecycle), `commands`, `cli`, `spy` (the dashboard).
//!
//! Imports point one way between modules (`tests/module_layers.rs` checks it): no module
//! imports one that imports it back.

// First: its printing macros are used by the modules below.
#[macro_use]
pub mod output;

pub mod check;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod drivers;
pub mod duration_text;
pub mod engine;
pub mod error_chain;
pub mod error_report;
pub mod fetch;
pub mod in_cluster;
pub mod k8s;
pub mod kinds;
pub mod metallb;
pub mod parse;
pub mod plan;
pub mod progress;
pub mod redact;
pub mod render;
pub mod runtime;
pub mod spy;
pub mod state;
pub mod topology;
pub mod view;

#[cfg(test)]
mod test_support;
