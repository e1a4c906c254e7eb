//! Topology files: the model the user writes, where each field sits in the file, and
//! validation with pointed diagnostics.

pub mod model;
