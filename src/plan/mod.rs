//! Topology → plan: a pure function deciding every name, address, peer and check.

pub mod model;
pub use model::*;
