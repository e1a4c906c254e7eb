//! Lint: a tutorial against the topology it runs on, with every error at once.
//!
//! Each step is checked against the topology *in effect once its commands ran*: the
//! front matter's, until a step's `metallab up FILE` brings in another (the lab changed
//! in place); from that step on, its checks and commands are checked against FILE. So a
//! step that adds a router may check that router right away, and a step before it may not.

use super::errors::TutorialErrors;
use super::model::{Need, Step, Tutorial};
use super::parse::{self, Parsed, YamlSource, placed, span};
use super::shell::simple_commands;
use crate::plan::PlannedCheck;
use crate::topology::builtin;
use crate::topology::diagnostics::{FieldError, TopologyErrors, did_you_mean, unknown_name_help};
use crate::topology::model::{ClusterProvider, Topology};
use crate::topology::source::SourceMap;
use crate::topology::validate::validate_read;
use std::collections::BTreeMap;
use std::path::Path;

/// What lint needs from outside: the files beside the tutorial, and metallab's own
/// command line (the app's, so `metallab …` in a step is judged as metallab would).
pub trait Environment {
    /// A file by its path relative to the tutorial's folder; None when there is none.
    fn read_file(&self, relative: &str) -> Option<String>;
    /// How errors name that file (`tutorials/bgp-basics/lab.yaml`).
    fn shown(&self, relative: &str) -> String;
    /// What the words after `metallab` name, or why metallab would refuse them.
    fn metallab_command(&self, args: &[String]) -> Result<Vec<Reference>, String>;
}

/// Something a `metallab` command names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A lab name.
    Lab(String),
    /// A router of the lab.
    Router(String),
    /// A network of the lab.
    Network(String),
    /// A topology file or built-in that must make the tutorial's lab.
    Topology(String),
    /// `metallab up TOPOLOGY`: the lab becomes this topology (see the module's doc).
    Up(String),
}

/// A topology a tutorial uses, read and valid.
#[derive(Debug, Clone)]
pub struct UsedTopology {
    /// As the tutorial writes it: a path relative to its folder, or a built-in name.
    pub written: String,
    pub builtin: bool,
    pub text: String,
    pub topology: Topology,
}

/// A valid tutorial with the topology each step runs on.
#[derive(Debug, Clone)]
pub struct Linted {
    pub tutorial: Tutorial,
    /// The lab every topology of the tutorial makes.
    pub lab: String,
    /// The front matter's topology.
    pub topology: UsedTopology,
    /// Per step: the topology in effect once its commands ran.
    pub step_topologies: Vec<UsedTopology>,
}

impl Linted {
    /// The step's checks, planned as `metallab check` plans a topology's (names,
    /// addresses, deadlines), against the topology in effect at that step.
    pub fn step_checks(&self, step: &Step) -> Vec<PlannedCheck> {
        let used = &self.step_topologies[step.number - 1];
        let topology = Topology {
            checks: step.checks.clone(),
            ..used.topology.clone()
        };
        crate::plan::build(&topology, &used.written, Path::new("")).checks
    }

    /// Tutorial needs that the machine must have.
    pub fn needs(&self) -> &[Need] {
        &self.tutorial.front.needs
    }
}

/// Reads and checks a tutorial: every error of it and of the topology files it uses.
pub fn lint(
    name: &str,
    file: &str,
    text: &str,
    env: &dyn Environment,
) -> Result<Linted, Box<TutorialErrors>> {
    let parsed = parse::parse(name, file, text);
    let mut linter = Linter {
        env,
        errors: Vec::new(),
        topology_errors: BTreeMap::new(),
        loaded: BTreeMap::new(),
    };
    let result = linter.lint(parsed);
    let Linter {
        errors,
        topology_errors,
        ..
    } = linter;
    match result {
        Some(linted) if errors.is_empty() && topology_errors.is_empty() => Ok(linted),
        _ => {
            let mut files = vec![TopologyErrors::located_by(
                file,
                text,
                &SourceMap::default(),
                errors,
            )];
            files.extend(topology_errors.into_values());
            Err(Box::new(TutorialErrors::new(file, files)))
        }
    }
}

struct Linter<'e> {
    env: &'e dyn Environment,
    /// The tutorial's own errors, each with its span.
    errors: Vec<FieldError>,
    /// The errors of each topology file it uses, by what it writes.
    topology_errors: BTreeMap<String, TopologyErrors>,
    /// Each topology looked at, by what it writes: None when it could not be used.
    loaded: BTreeMap<String, Option<UsedTopology>>,
}

impl Linter<'_> {
    fn lint(&mut self, parsed: Parsed) -> Option<Linted> {
        let Parsed {
            tutorial,
            errors,
            front_source,
            checks_sources,
        } = parsed;
        self.errors.extend(errors);
        let front = front_source?;
        let at_topology = field_span(&front, "topology");
        let initial = self.topology(&tutorial.front.topology.clone(), at_topology);
        let lab = initial.as_ref().map(|t| t.topology.name.clone());
        let mut current = initial.clone();
        let mut step_topologies = Vec::new();
        let mut used = Vec::new();
        used.extend(initial.clone());
        for (step, source) in tutorial.steps.iter().zip(&checks_sources) {
            for block in &step.blocks {
                for command in &block.commands {
                    let at = span(command.span.clone());
                    let text = &command.text;
                    for words in simple_commands(&command.words) {
                        if block.run
                            && let Some(why) = endless(words)
                        {
                            // The program and, for metallab and kubectl, its subcommand.
                            let named = if matches!(words[0].as_str(), "metallab" | "kubectl") {
                                &words[..words.len().min(2)]
                            } else {
                                &words[..1]
                            };
                            self.errors.push(
                                FieldError::new("", format!("`{}` {why}", named.join(" ")))
                                    .help("`tutorial run` and `r` would wait for it until its timeout: mark its block ```sh no-run (the reader runs it), or make it end")
                                    .at(at),
                            );
                        }
                        if words[0] != "metallab" {
                            continue;
                        }
                        let references = match self.env.metallab_command(&words[1..]) {
                            Ok(references) => references,
                            Err(reason) => {
                                self.errors.push(
                                    FieldError::new(
                                        "",
                                        format!("metallab would refuse this command: {reason}"),
                                    )
                                    .help("`metallab help COMMAND` shows what it takes")
                                    .at(at),
                                );
                                continue;
                            }
                        };
                        for reference in references {
                            let at = word_span(text, command.span.start, &reference).unwrap_or(at);
                            if let Some(next) =
                                self.reference(&reference, at, lab.as_deref(), current.as_ref())
                            {
                                used.push(next.clone());
                                current = Some(next);
                            }
                        }
                    }
                }
            }
            if let (Some(topology), Some(source)) = (&current, source) {
                self.step_checks(step, topology, source);
            }
            step_topologies.extend(current.clone());
        }
        self.needs(&tutorial, &front, &used);
        let topology = initial?;
        if step_topologies.len() != tutorial.steps.len() {
            return None;
        }
        Some(Linted {
            lab: topology.topology.name.clone(),
            tutorial,
            topology,
            step_topologies,
        })
    }

    /// A topology the tutorial names (its front matter's, or a command's), read and
    /// validated once; its errors are reported in its own file.
    fn topology(&mut self, written: &str, at: miette::SourceSpan) -> Option<UsedTopology> {
        if let Some(known) = self.loaded.get(written) {
            if known.is_none() {
                self.errors.push(
                    FieldError::new(
                        "",
                        format!("topology `{written}` cannot be used (see its errors)"),
                    )
                    .help("its errors are listed once, where it is first named")
                    .at(at),
                );
            }
            return known.clone();
        }
        let found = match self.env.read_file(written) {
            Some(text) => self.topology_file(written, text),
            None => match builtin::get(written) {
                Ok(builtin) => Some(UsedTopology {
                    written: written.to_string(),
                    builtin: true,
                    text: builtin.yaml.to_string(),
                    topology: builtin.topology(),
                }),
                Err(_) => {
                    let names: Vec<&str> = builtin::list().iter().map(|b| b.name).collect();
                    let help = match did_you_mean(written, names.iter().copied()) {
                        Some(best) => format!("did you mean the built-in `{best}`?"),
                        None => format!(
                            "a path relative to the tutorial's folder ({}), or a built-in topology: {}",
                            self.env.shown("."),
                            names.join(", ")
                        ),
                    };
                    self.errors.push(
                        FieldError::new(
                            "",
                            format!("`{written}` is neither a file beside the tutorial nor a built-in topology"),
                        )
                        .help(help)
                        .at(at),
                    );
                    self.loaded.insert(written.to_string(), None);
                    return None;
                }
            },
        };
        if found.is_none() {
            self.errors.push(
                FieldError::new(
                    "",
                    format!("topology `{written}` is not valid (see its errors)"),
                )
                .help(format!(
                    "its errors follow, in {}; `metallab validate` checks it alone",
                    self.env.shown(written)
                ))
                .at(at),
            );
        }
        self.loaded.insert(written.to_string(), found.clone());
        found
    }

    /// A topology file beside the tutorial, validated like `metallab validate` does it:
    /// its `apps:` must be beside it too.
    fn topology_file(&mut self, written: &str, text: String) -> Option<UsedTopology> {
        let shown = self.env.shown(written);
        match crate::topology::load::parse_and_validate(&shown, &text) {
            Ok(topology) => {
                let dir = Path::new(written).parent().unwrap_or(Path::new(""));
                let missing: Vec<FieldError> = topology
                    .apps
                    .iter()
                    .enumerate()
                    .filter(|(_, app)| {
                        self.env
                            .read_file(&dir.join(app).to_string_lossy())
                            .is_none()
                    })
                    .map(|(i, app)| {
                        FieldError::new(
                            format!("apps[{i}]"),
                            format!("app manifest `{app}` does not exist"),
                        )
                        .help(format!(
                            "looked for {}; `apps:` paths are relative to the topology file",
                            self.env.shown(&dir.join(app).to_string_lossy())
                        ))
                    })
                    .collect();
                if missing.is_empty() {
                    Some(UsedTopology {
                        written: written.to_string(),
                        builtin: false,
                        text,
                        topology,
                    })
                } else {
                    self.topology_errors.insert(
                        written.to_string(),
                        TopologyErrors::new(&shown, &text, missing),
                    );
                    None
                }
            }
            Err(errors) => {
                self.topology_errors.insert(written.to_string(), *errors);
                None
            }
        }
    }

    /// Checks what a command names; returns the topology an `up` brings in.
    fn reference(
        &mut self,
        reference: &Reference,
        at: miette::SourceSpan,
        lab: Option<&str>,
        current: Option<&UsedTopology>,
    ) -> Option<UsedTopology> {
        let (Some(lab), Some(current)) = (lab, current) else {
            return None;
        };
        let topology = &current.topology;
        match reference {
            Reference::Lab(name) if name != lab => self.errors.push(
                FieldError::new("", format!("`{name}` is not this tutorial's lab"))
                    .help(format!("the tutorial's topology makes lab `{lab}`"))
                    .at(at),
            ),
            Reference::Router(name) if !topology.routers.contains_key(name) => self.errors.push(
                FieldError::new(
                    "",
                    format!(
                        "unknown router `{name}` (the lab's topology at this step is {})",
                        current.written
                    ),
                )
                .help(unknown_name_help(
                    "routers",
                    name,
                    topology.routers.keys().map(String::as_str),
                ))
                .at(at),
            ),
            Reference::Network(name) if !topology.networks.contains_key(name) => self.errors.push(
                FieldError::new(
                    "",
                    format!(
                        "unknown network `{name}` (the lab's topology at this step is {})",
                        current.written
                    ),
                )
                .help(unknown_name_help(
                    "networks",
                    name,
                    topology.networks.keys().map(String::as_str),
                ))
                .at(at),
            ),
            Reference::Topology(written) | Reference::Up(written) => {
                let used = self.topology(written, at)?;
                if used.topology.name != lab {
                    self.errors.push(
                        FieldError::new(
                            "",
                            format!(
                                "`{written}` makes lab `{}`, not the tutorial's lab `{lab}`",
                                used.topology.name
                            ),
                        )
                        .help(format!(
                            "every topology of a tutorial makes one lab: give it `name: {lab}`"
                        ))
                        .at(at),
                    );
                    return None;
                }
                if matches!(reference, Reference::Up(_)) {
                    return Some(used);
                }
            }
            _ => {}
        }
        None
    }

    /// The step's checks, validated by the topology's own rules against the topology in
    /// effect (as if they were its `checks:`), each error at its place in the block.
    fn step_checks(&mut self, step: &Step, used: &UsedTopology, source: &YamlSource) {
        let topology = Topology {
            checks: step.checks.clone(),
            ..used.topology.clone()
        };
        let read = crate::topology::yaml::Read::<()> {
            value: None,
            errors: Vec::new(),
            replaced: source.replaced.clone(),
        };
        for error in validate_read(&topology, &source.replaced) {
            // The topology itself is valid: only the step's checks can be wrong.
            if !error.path.starts_with("checks") || read.explains(&error) {
                continue;
            }
            let mut error = error;
            error.related.retain(|r| r.path.starts_with("checks"));
            self.errors
                .push(placed(error, &source.map, &source.content));
        }
    }

    /// `needs:` lists what the topologies use: Docker always, kind or Minikube for their
    /// clusters, and nothing they do not use.
    fn needs(&mut self, tutorial: &Tutorial, front: &YamlSource, used: &[UsedTopology]) {
        let mut wanted = vec![Need::Docker];
        for topology in used {
            let need = match topology.topology.cluster.as_ref().map(|c| c.provider) {
                Some(ClusterProvider::Kind) => Need::Kind,
                Some(ClusterProvider::Minikube) => Need::Minikube,
                _ => continue,
            };
            if !wanted.contains(&need) {
                wanted.push(need);
            }
        }
        let listed = &tutorial.front.needs;
        // A value that could not be read is reported already, and stood in for.
        if front.replaced.iter().any(|p| p == "needs") {
            return;
        }
        let read = |i: usize| !front.replaced.contains(&format!("needs[{i}]"));
        let at = field_span(front, "needs");
        for need in &wanted {
            if !listed.iter().enumerate().any(|(i, n)| n == need && read(i)) {
                let why = match need {
                    Need::Docker => "every lab runs on Docker".to_string(),
                    _ => format!("a topology of the tutorial has a {} cluster", need.name()),
                };
                self.errors.push(
                    FieldError::new("needs", format!("`needs` does not list `{}`", need.name()))
                        .help(format!("add it: {why}"))
                        .at(at),
                );
            }
        }
        for (i, need) in listed.iter().enumerate().filter(|(i, _)| read(*i)) {
            if !wanted.contains(need) {
                self.errors.push(
                    FieldError::new(
                        format!("needs[{i}]"),
                        format!("no topology of the tutorial has a {} cluster", need.name()),
                    )
                    .help("list only what the tutorial uses: `metallab tutorial list` tells readers what their machine lacks")
                    .at(field_span(front, &format!("needs[{i}]"))),
                );
            } else if listed[..i]
                .iter()
                .enumerate()
                .any(|(j, n)| n == need && read(j))
            {
                self.errors.push(
                    FieldError::new(
                        format!("needs[{i}]"),
                        format!("`{}` is listed twice", need.name()),
                    )
                    .help("list each once")
                    .at(field_span(front, &format!("needs[{i}]"))),
                );
            }
        }
    }
}

/// Why a command never ends by itself, if it does not (a dashboard, a watch, a capture
/// without a count or a duration).
fn endless(words: &[String]) -> Option<&'static str> {
    let has = |flag: &str| {
        words
            .iter()
            .any(|w| w == flag || w.starts_with(&format!("{flag}=")))
    };
    let program = words.first()?.as_str();
    let subcommand = words.get(1).map(String::as_str);
    match (program, subcommand) {
        ("wireshark" | "watch" | "top" | "htop", _) => Some("runs until it is closed"),
        ("metallab", Some("spy")) => Some("serves the dashboard until Ctrl-C"),
        ("metallab", Some("check")) if has("--watch") => Some("watches until Ctrl-C"),
        ("metallab", Some("capture"))
            if !(has("-c")
                || has("--count")
                || has("--duration")
                || words.iter().any(|w| w.starts_with("-c") && w.len() > 2)) =>
        {
            Some("captures until Ctrl-C: give it `-c COUNT` or `--duration DUR`")
        }
        ("kubectl", _) if has("-w") || has("--watch") || has("--follow") => {
            Some("watches until Ctrl-C")
        }
        ("kubectl", Some("logs")) if has("-f") => Some("follows the log until Ctrl-C"),
        ("tail", _) if has("-f") || has("-F") => Some("follows the file until Ctrl-C"),
        _ => None,
    }
}

/// Where a command writes the name a reference is about (the first whole word that is
/// it, after `metallab`), so an error underlines the name rather than the command.
fn word_span(text: &str, start: usize, reference: &Reference) -> Option<miette::SourceSpan> {
    let name = match reference {
        Reference::Lab(n)
        | Reference::Router(n)
        | Reference::Network(n)
        | Reference::Topology(n)
        | Reference::Up(n) => n.as_str(),
    };
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let after = text.find("metallab").map_or(0, |i| i + "metallab".len());
    let mut from = after;
    while let Some(found) = text[from..].find(name) {
        let at = from + found;
        let end = at + name.len();
        let before_ok = !text[..at].chars().next_back().is_some_and(is_name_char);
        let after_ok = !text[end..].chars().next().is_some_and(is_name_char);
        if before_ok && after_ok {
            return Some(span(start + at..start + end));
        }
        from = end;
    }
    None
}

/// Where a field of a YAML part is in the tutorial.
fn field_span(source: &YamlSource, path: &str) -> miette::SourceSpan {
    let located = source.map.label_span(path);
    if located.offset() == 0 && located.is_empty() {
        span(source.content.start..source.content.start)
    } else {
        located
    }
}
