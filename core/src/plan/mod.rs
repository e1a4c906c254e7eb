//! Topology → plan: a pure function deciding every name, address, peer and check.

pub mod build;
pub mod model;
pub mod nodes;
pub mod service_address;
pub use build::{build, from_loaded};
pub use model::*;
