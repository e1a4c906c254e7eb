//! Topology files: the model the user writes, where each field sits in the file, and
//! validation with pointed diagnostics.
//!
//! - `model`: the YAML model (serde, strict);
//! - `load`: find a topology (file, built-in, default), parse it, validate it;
//! - `yaml`: YAML → model, going on past bad values so every error is found;
//! - `source` + `diagnostics`: field paths → spans → `file:line:col` reports (miette);
//! - `validate`: every semantic rule, all errors at once;
//! - `builtin` + `generate`: topologies shipped in the binary and generated ones.

pub mod builtin;
pub mod diagnostics;
pub mod generate;
pub mod load;
pub mod model;
pub mod source;
pub mod target;
pub mod validate;
pub mod yaml;
