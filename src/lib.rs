//! metallab: MetalLB test labs from one topology file.
//!
//! The pure core (topology, plan, router kinds, parsers, checks, views) is the
//! `metallab-core` crate, re-exported here under the same names. This crate is the I/O
//! and the app:
//! - edges: `runtime` (Docker through bollard), `cluster` (kind, Minikube, existing
//!   clusters through their CLIs), `k8s` (kube-rs: apply, waits, cluster state),
//!   `in_cluster` (routers as pods), `fetch` (downloads: MetalLB's manifests);
//! - the app: `engine` (lab lifecycle), `commands`, `cli`, `spy` (the dashboard).
//!
//! Imports point one way between modules (`tests/module_layers.rs` checks it): no module
//! imports one that imports it back. ARCHITECTURE.md is the map.

// First: its printing macros are used by the modules below.
#[macro_use]
pub mod output;

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod duration_text;
pub mod engine;
pub mod error_chain;
pub mod exit_code;
pub mod fetch;
pub mod in_cluster;
pub mod k8s;
pub mod progress;
pub mod redact;
pub mod runtime;
pub mod spy;

// The pure core, re-exported under the same names so `crate::topology::…` reads alike in
// both crates.
pub use metallab_core::{
    capture, change, check, drivers, error_report, faults, kinds, metallb, parse, plan, render,
    state, topology, tutorial, view,
};

#[cfg(test)]
use metallab_core::test_support;
