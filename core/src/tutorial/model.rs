//! A tutorial as read from its Markdown: front matter, steps, their commands and checks.

use crate::topology::model::CheckSpec;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::time::Duration;

/// A parsed tutorial. Byte ranges point into `text`.
#[derive(Debug, Clone)]
pub struct Tutorial {
    /// The file's stem: `bgp-basics` for `tutorials/bgp-basics.md`.
    pub name: String,
    /// The file as errors and reports name it.
    pub file: String,
    pub text: String,
    pub front: FrontMatter,
    /// The Markdown between the front matter (and the `#` title) and the first step.
    pub intro: Range<usize>,
    pub steps: Vec<Step>,
}

/// The front matter: what a list of tutorials shows, and what the tutorial runs on.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FrontMatter {
    pub title: String,
    /// A topology file beside the tutorial (relative to its folder) or a built-in name.
    pub topology: String,
    /// What the machine needs.
    pub needs: Vec<Need>,
    /// Roughly how long it takes a reader (`20m`).
    pub duration: String,
}

/// Something a tutorial needs on the machine.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    Docker,
    Kind,
    Minikube,
}

impl Need {
    pub fn name(self) -> &'static str {
        match self {
            Need::Docker => "docker",
            Need::Kind => "kind",
            Need::Minikube => "minikube",
        }
    }
}

/// One `##` section: what the reader does, and what must be true once it is done.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based, as the reader counts.
    pub number: usize,
    pub title: String,
    /// The heading line.
    pub heading: Range<usize>,
    /// The Markdown after the heading, to the next step.
    pub body: Range<usize>,
    pub blocks: Vec<CommandBlock>,
    /// The `checks` block's entries (empty without one).
    pub checks: Vec<CheckSpec>,
    /// Where the `checks` block is.
    pub checks_at: Option<Range<usize>>,
    /// The text of a `> Hint: …` quote, shown when the step does not pass.
    pub hint: Option<String>,
}

impl Step {
    /// The commands `tutorial run` (and `r` in `tutorial start`) runs, in order.
    pub fn runnable(&self) -> impl Iterator<Item = (&CommandBlock, &Command)> {
        self.blocks
            .iter()
            .filter(|b| b.run)
            .flat_map(|b| b.commands.iter().map(move |c| (b, c)))
    }
}

/// A fenced `sh` block: ` ```sh ` followed by optional words: `no-run`, `fails`,
/// `may-fail`, `timeout=DUR`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandBlock {
    /// False for `no-run`: the reader runs it (interactive or endless commands).
    pub run: bool,
    /// What each command's exit code must be.
    pub exit: ExpectedExit,
    /// `timeout=DUR`: how long each command may take when metallab runs it.
    pub timeout: Option<Duration>,
    pub commands: Vec<Command>,
    /// The whole block, fences included.
    pub span: Range<usize>,
}

/// What a command's exit code must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpectedExit {
    /// 0 (the default).
    #[default]
    Success,
    /// Not 0 (`fails`): a refusal the tutorial shows.
    Failure,
    /// Any (`may-fail`): a command whose exit code says something about a lab in flux,
    /// such as `metallab status`, which exits 1 while it reports a problem.
    Any,
}

impl ExpectedExit {
    pub fn word(self) -> &'static str {
        match self {
            ExpectedExit::Success => "success",
            ExpectedExit::Failure => "failure",
            ExpectedExit::Any => "any",
        }
    }
}

/// How long a command may run when no `timeout=` is written.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

impl CommandBlock {
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT)
    }
}

/// One command of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// As written; run with `sh -c`.
    pub text: String,
    /// Its words, quotes removed.
    pub words: Vec<String>,
    pub span: Range<usize>,
}
