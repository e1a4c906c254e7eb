//! Topology files: the model the user writes, where each field sits in the file, and
//! validation with pointed diagnostics.

pub mod builtin;
pub mod diagnostics;
pub mod generate;
pub mod load;
pub mod model;
pub mod source;
pub mod target;
pub mod validate;
