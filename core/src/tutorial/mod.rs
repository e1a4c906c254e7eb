//! Tutorials: Markdown files a reader follows step by step, and metallab checks.
//!
//! A tutorial is `tutorials/<name>.md` (its files in `tutorials/<name>/`), readable as an
//! ordinary page on GitHub:
//!
//! - a front matter (`---` YAML: `title`, `topology`, `needs`, `duration`);
//! - one step per `##` heading: prose, the commands the reader types in ```` ```sh ````
//!   blocks (info-string options `no-run`, `fails`, `may-fail`, `timeout=DUR`), what must be true
//!   once the step is done in one ```` ```checks ```` block (a YAML list in exactly the
//!   topology's `checks:` syntax), and optionally a `> Hint: …` quote.
//!
//! - `model`: the parsed tutorial;
//! - `parse`: Markdown → model, every reading error with its place in the file;
//! - `shell`: an `sh` block → commands and their words;
//! - `lint`: the tutorial against its topologies (checks, commands, needs);
//! - `errors`: every error of a tutorial and its topology files, in one report;
//! - `builtin`: the tutorials shipped in the binary;
//! - `render`: a step as text for the terminal;
//! - `report`: what `metallab tutorial run` found, for people, scripts and CI.

pub mod builtin;
pub mod errors;
pub mod lint;
pub mod model;
pub mod parse;
pub mod render;
pub mod report;
pub mod shell;

pub use errors::TutorialErrors;
pub use lint::{Environment, Linted, Reference, UsedTopology, lint};
pub use model::{Command, CommandBlock, ExpectedExit, FrontMatter, Need, Step, Tutorial};

#[cfg(test)]
mod tests;
