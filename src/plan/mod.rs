//! Topology → plan: a pure function deciding every name, address, peer and check.

pub mod build;
pub mod model;
pub mod nodes;
pub use build::build;
pub use model::*;
