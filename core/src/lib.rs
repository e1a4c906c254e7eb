//! metallab's pure core: everything decided and read without touching the world. A
//! topology file's text becomes a validated `topology`, then a `plan` (the whole lab,
//! decided), then each router's config files (`render`, through its kind in `kinds`);
//! routers' CLI output becomes `state` (`parse`, the kinds' parsers), which `check`
//! evaluates and `view` shows. MetalLB's per-release knowledge is in `metallb`; every error
//! is printed in one style by `error_report`.
//!
//! No async runtime, no Docker, Kubernetes or HTTP client: the `metallab` crate holds the
//! I/O and the app, and this crate's dependency tree keeps them out (a test reads
//! Cargo.lock). The one read here is `topology::load`, which reads a topology file.

pub mod capture;
pub mod change;
pub mod check;
pub mod drivers;
pub mod error_report;
pub mod faults;
pub mod kinds;
pub mod metallb;
pub mod parse;
pub mod plan;
pub mod render;
pub mod state;
pub mod topology;
pub mod tutorial;
pub mod view;

#[cfg(any(test, feature = "test-fixtures"))]
pub mod test_support;
