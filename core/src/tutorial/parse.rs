//! Markdown → [`Tutorial`], with every reading error of the file at once.
//!
//! The front matter and each `checks` block are YAML inside Markdown. Each is read by the
//! topology's own strict reader from a copy of the whole file in which everything else is
//! blanked out (newlines kept), so byte offsets, lines and columns are the Markdown
//! file's own: an error in a `checks` block points at its line in the tutorial. The line
//! of a `checks` block's opening fence becomes `checks:` in that copy, which makes the
//! block's entries read, and be named, exactly as a topology's `checks[N]`.

use super::model::{Command, CommandBlock, ExpectedExit, FrontMatter, Step, Tutorial};
use super::shell;
use crate::topology::diagnostics::FieldError;
use crate::topology::model::CheckSpec;
use crate::topology::source::SourceMap;
use crate::topology::yaml;
use miette::SourceSpan;
use pulldown_cmark::{
    CodeBlockKind, Event, HeadingLevel, MetadataBlockKind, Options, Parser, Tag, TagEnd,
};
use serde::Deserialize;
use std::ops::Range;

/// What reading a tutorial gave: the tutorial (with stand-ins where parts could not be
/// read) and every error, each with its span in the Markdown.
#[derive(Debug)]
pub struct Parsed {
    pub tutorial: Tutorial,
    pub errors: Vec<FieldError>,
    /// The front matter, when it could be read: without it nothing can be checked against
    /// the tutorial's topology.
    pub front_source: Option<YamlSource>,
    /// Per step (same order): how its `checks` block was read, for validation.
    pub checks_sources: Vec<Option<YamlSource>>,
}

/// A YAML part of the tutorial (the front matter, a `checks` block): where its fields
/// are, which values were stood in for, and where it is in the file.
#[derive(Debug, Clone)]
pub struct YamlSource {
    pub map: SourceMap,
    pub replaced: Vec<String>,
    pub content: Range<usize>,
}

/// A `checks` block read as the topology's `checks:` list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksBlock {
    checks: Vec<CheckSpec>,
}

/// Languages that look like commands but are not run: metallab runs `sh` blocks only.
const SHELL_LOOKALIKES: &[&str] = &["bash", "shell", "zsh", "console", "shell-session"];

/// Reads a tutorial. `name` is its stem, `file` what errors call it.
pub fn parse(name: &str, file: &str, text: &str) -> Parsed {
    let mut reader = Reader {
        text,
        errors: Vec::new(),
        steps: Vec::new(),
        sources: Vec::new(),
        front: None,
        front_source: None,
        front_end: 0,
        title_end: None,
    };
    reader.read();
    let Reader {
        errors,
        steps,
        sources,
        front,
        front_source,
        front_end,
        title_end,
        ..
    } = reader;
    let intro_start = title_end.unwrap_or(front_end);
    let intro_end = steps.first().map_or(text.len(), |s| s.heading.start);
    let mut errors = errors;
    if steps.is_empty() {
        errors.push(
            FieldError::new("", "this tutorial has no steps")
                .help("each step is a `## heading` followed by what to do (```sh) and what must then be true (```checks)")
                .at(span(text.len()..text.len())),
        );
    }
    Parsed {
        front_source: front_source.filter(|_| front.is_some()),
        tutorial: Tutorial {
            name: name.to_string(),
            file: file.to_string(),
            text: text.to_string(),
            front: front.unwrap_or_default(),
            intro: intro_start.min(intro_end)..intro_end,
            steps,
        },
        errors,
        checks_sources: sources,
    }
}

struct Reader<'t> {
    text: &'t str,
    errors: Vec<FieldError>,
    steps: Vec<Step>,
    sources: Vec<Option<YamlSource>>,
    front: Option<FrontMatter>,
    front_source: Option<YamlSource>,
    /// Where the front matter ends (0 without one).
    front_end: usize,
    /// Where the `#` title ends, when there is one before the first step.
    title_end: Option<usize>,
}

/// An element being read, with the text of its content so far.
enum Open {
    Front {
        content: Option<Range<usize>>,
    },
    Heading {
        level: HeadingLevel,
        start: usize,
        title: String,
    },
    Code {
        info: String,
        block: Range<usize>,
        content: Option<Range<usize>>,
    },
    Quote {
        start: usize,
        depth: usize,
        text: String,
    },
}

impl Reader<'_> {
    fn read(&mut self) {
        let options = Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
            | Options::ENABLE_TABLES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS;
        let mut open: Option<Open> = None;
        let mut first_block = true;
        for (event, range) in Parser::new_ext(self.text, options).into_offset_iter() {
            if let Event::Start(Tag::MetadataBlock(MetadataBlockKind::YamlStyle)) = &event {
                if !first_block {
                    self.errors.push(
                        FieldError::new("", "the front matter must come first in the file")
                            .help("move the `---` block to the top")
                            .at(span(range.clone())),
                    );
                }
                open = Some(Open::Front { content: None });
                first_block = false;
                continue;
            }
            if matches!(event, Event::Start(_)) && first_block && open.is_none() {
                first_block = false;
                self.errors.push(missing_front_matter(range.start));
            }
            match (&mut open, event) {
                (Some(Open::Front { content }), Event::Text(_)) => extend(content, &range),
                (Some(Open::Front { content }), Event::End(TagEnd::MetadataBlock(_))) => {
                    let content = content.clone();
                    self.front_end = range.end;
                    open = None;
                    self.front_matter(content, range);
                }
                (None, Event::Start(Tag::Heading { level, .. })) => {
                    open = Some(Open::Heading {
                        level,
                        start: range.start,
                        title: String::new(),
                    });
                }
                (Some(Open::Heading { title, .. }), Event::Text(t) | Event::Code(t)) => {
                    title.push_str(&t)
                }
                (
                    Some(Open::Heading {
                        level,
                        start,
                        title,
                    }),
                    Event::End(TagEnd::Heading(_)),
                ) => {
                    let (level, start, title) = (*level, *start, title.trim().to_string());
                    open = None;
                    self.heading(level, start..range.end, title);
                }
                (None, Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))) => {
                    open = Some(Open::Code {
                        info: info.to_string(),
                        block: range,
                        content: None,
                    });
                }
                (Some(Open::Code { content, .. }), Event::Text(_)) => extend(content, &range),
                (
                    Some(Open::Code {
                        info,
                        block,
                        content,
                    }),
                    Event::End(TagEnd::CodeBlock),
                ) => {
                    let (info, block, content) = (info.clone(), block.clone(), content.clone());
                    open = None;
                    self.code_block(&info, block, content);
                }
                (None, Event::Start(Tag::BlockQuote(_))) => {
                    open = Some(Open::Quote {
                        start: range.start,
                        depth: 1,
                        text: String::new(),
                    });
                }
                (Some(Open::Quote { depth, .. }), Event::Start(Tag::BlockQuote(_))) => *depth += 1,
                (Some(Open::Quote { text, .. }), Event::Text(t)) => text.push_str(&t),
                (Some(Open::Quote { text, .. }), Event::Code(t)) => {
                    text.push('`');
                    text.push_str(&t);
                    text.push('`');
                }
                (
                    Some(Open::Quote { text, .. }),
                    Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph),
                ) => text.push(' '),
                (Some(Open::Quote { start, depth, text }), Event::End(TagEnd::BlockQuote(_))) => {
                    *depth -= 1;
                    if *depth == 0 {
                        let (start, text) = (*start, std::mem::take(text));
                        open = None;
                        self.quote(start..range.end, &text);
                    }
                }
                _ => {}
            }
        }
        if first_block {
            self.errors.push(missing_front_matter(0));
        }
    }

    fn front_matter(&mut self, content: Option<Range<usize>>, block: Range<usize>) {
        let Some(content) = content.filter(|c| !self.text[c.clone()].trim().is_empty()) else {
            self.errors.push(
                FieldError::new("", "the front matter is empty")
                    .help(FRONT_MATTER_HELP)
                    .at(span(block)),
            );
            return;
        };
        let yaml = blanked(self.text, &content, None);
        let read = yaml::read::<FrontMatter>(&yaml, || FieldError::new("", "empty"));
        let map = SourceMap::parse(&yaml);
        let mut errors: Vec<FieldError> = read
            .errors
            .into_iter()
            .map(|e| placed(e, &map, &content))
            .collect();
        if let Some(front) = &read.value
            && !read.replaced.iter().any(|p| p == "duration")
            && let Err(e) = humantime::parse_duration(&front.duration)
        {
            errors.push(placed(
                FieldError::new(
                    "duration",
                    format!("`{}` is not a duration: {e}", front.duration),
                )
                .help("write roughly how long the tutorial takes, e.g. `20m` or `1h`"),
                &map,
                &content,
            ));
        }
        let read_whole = errors.is_empty();
        self.errors.extend(errors);
        // Parts that could not be read are stood in for; the topology is only looked at
        // when it was read as written.
        if let Some(front) = read.value
            && (read_whole || !read.replaced.iter().any(|p| p == "topology"))
        {
            self.front = Some(front);
            self.front_source = Some(YamlSource {
                map,
                replaced: read.replaced,
                content,
            });
        }
    }

    fn heading(&mut self, level: HeadingLevel, heading: Range<usize>, title: String) {
        match level {
            HeadingLevel::H1 if self.steps.is_empty() && self.title_end.is_none() => {
                self.title_end = Some(heading.end);
            }
            HeadingLevel::H2 => {
                if let Some(last) = self.steps.last_mut() {
                    last.body.end = heading.start;
                }
                if title.is_empty() {
                    self.errors.push(
                        FieldError::new("", "this step has no title")
                            .help(
                                "write what the reader does in this step, e.g. `## Start the lab`",
                            )
                            .at(span(heading.clone())),
                    );
                }
                self.steps.push(Step {
                    number: self.steps.len() + 1,
                    title,
                    heading: heading.clone(),
                    body: heading.end..self.text.len(),
                    blocks: Vec::new(),
                    checks: Vec::new(),
                    checks_at: None,
                    hint: None,
                });
                self.sources.push(None);
            }
            // Deeper headings are a step's own sections.
            _ => {}
        }
    }

    fn code_block(&mut self, info: &str, block: Range<usize>, content: Option<Range<usize>>) {
        let mut words = info.split_whitespace();
        let language = words.next().unwrap_or("");
        let options: Vec<&str> = words.collect();
        match language {
            "sh" => self.commands(&options, block, content),
            "checks" => self.checks(&options, block, content),
            lookalike if SHELL_LOOKALIKES.contains(&lookalike) => self.errors.push(
                FieldError::new("", format!("a `{lookalike}` block is neither run nor shown as commands"))
                    .help("write ```sh for commands the reader types (metallab runs them), ```text for output")
                    .at(span(fence_line(self.text, &block))),
            ),
            _ => {}
        }
    }

    fn commands(&mut self, options: &[&str], block: Range<usize>, content: Option<Range<usize>>) {
        let at_fence = span(fence_line(self.text, &block));
        let mut parsed = CommandBlock {
            run: true,
            exit: ExpectedExit::Success,
            timeout: None,
            commands: Vec::new(),
            span: block.clone(),
        };
        for option in options {
            match *option {
                "no-run" => parsed.run = false,
                "fails" | "may-fail" => {
                    let exit = if *option == "fails" {
                        ExpectedExit::Failure
                    } else {
                        ExpectedExit::Any
                    };
                    if parsed.exit != ExpectedExit::Success && parsed.exit != exit {
                        self.errors.push(
                            FieldError::new("", "a block cannot both fail and may fail")
                                .help("`fails`: every command must fail; `may-fail`: any exit code is fine; write one")
                                .at(at_fence),
                        );
                    }
                    parsed.exit = exit;
                }
                other => match other.strip_prefix("timeout=") {
                    Some(duration) => match humantime::parse_duration(duration) {
                        Ok(d) if !d.is_zero() => parsed.timeout = Some(d),
                        _ => self.errors.push(
                            FieldError::new("", format!("`{duration}` is not a duration"))
                                .help("write e.g. `timeout=10m` (how long each command of the block may take)")
                                .at(at_fence),
                        ),
                    },
                    None => self.errors.push(
                        FieldError::new("", format!("unknown option `{other}` of an sh block"))
                            .help(format!(
                                "{}`no-run` (the reader runs it by hand: interactive or endless commands), `fails` (each command must fail), `may-fail` (any exit code), `timeout=DUR`",
                                crate::topology::diagnostics::did_you_mean(other, ["no-run", "fails", "may-fail"])
                                    .map(|m| format!("did you mean `{m}`? the options are "))
                                    .unwrap_or_else(|| "the options are ".to_string())
                            ))
                            .at(at_fence),
                    ),
                },
            }
        }
        let Some(step) = self.steps.last_mut() else {
            self.errors.push(
                FieldError::new("", "commands before the first step are never run")
                    .help("put them under a `## heading`: each step starts with one")
                    .at(at_fence),
            );
            return;
        };
        let content = content.unwrap_or(block.end..block.end);
        match shell::split(&self.text[content.clone()]) {
            Ok(commands) => {
                for command in commands {
                    let at = content.start + command.span.start..content.start + command.span.end;
                    if let Some(problem) = command_problem(&command.words) {
                        self.errors.push(
                            FieldError::new("", problem.0)
                                .help(problem.1)
                                .at(span(at.clone())),
                        );
                    }
                    parsed.commands.push(Command {
                        text: command.text,
                        words: command.words,
                        span: at,
                    });
                }
            }
            Err(error) => {
                self.errors
                    .push(FieldError::new("", error.message).help(error.help).at(span(
                        content.start + error.span.start..content.start + error.span.end,
                    )));
                step.blocks.push(parsed);
                return;
            }
        }
        if parsed.commands.is_empty() {
            self.errors.push(
                FieldError::new("", "this sh block has no command")
                    .help("write the commands the reader types, one per line, or remove the block")
                    .at(at_fence),
            );
        }
        step.blocks.push(parsed);
    }

    fn checks(&mut self, options: &[&str], block: Range<usize>, content: Option<Range<usize>>) {
        let fence = fence_line(self.text, &block);
        if let Some(option) = options.first() {
            self.errors.push(
                FieldError::new("", format!("a checks block takes no option (`{option}`)"))
                    .help("write ```checks on its own; each check can have its own `timeout:`")
                    .at(span(fence.clone())),
            );
        }
        let Some(step) = self.steps.last_mut() else {
            self.errors.push(
                FieldError::new("", "checks before the first step are never run")
                    .help("put them under a `## heading`: each step starts with one")
                    .at(span(fence)),
            );
            return;
        };
        if let Some(first) = &step.checks_at {
            self.errors.push(
                FieldError::new("", "this step already has a checks block")
                    .help("put every check of the step into one block")
                    .at(span(fence))
                    .also_at(span(fence_line(self.text, first)), "the first one"),
            );
            return;
        }
        step.checks_at = Some(block.clone());
        let Some(content) = content.filter(|c| !self.text[c.clone()].trim().is_empty()) else {
            self.errors.push(
                FieldError::new("", "this checks block is empty")
                    .help("list what must be true once the step is done, e.g. `- { router: frr1, session: bird1 }`, or remove the block")
                    .at(span(fence)),
            );
            return;
        };
        let yaml = blanked(self.text, &content, Some(fence.start));
        let read = yaml::read::<ChecksBlock>(&yaml, || FieldError::new("checks", "empty"));
        let map = SourceMap::parse(&yaml);
        self.errors
            .extend(read.errors.into_iter().map(|e| placed(e, &map, &content)));
        let index = step.number - 1;
        if let Some(value) = read.value {
            step.checks = value.checks;
            self.sources[index] = Some(YamlSource {
                map,
                replaced: read.replaced,
                content,
            });
        }
    }

    fn quote(&mut self, range: Range<usize>, text: &str) {
        let text = text.trim();
        let hint = text
            .strip_prefix("Hint:")
            .or_else(|| text.strip_prefix("Hint :"))
            .map(|rest| rest.trim().to_string());
        let (Some(hint), Some(step)) = (hint, self.steps.last_mut()) else {
            return;
        };
        if step.hint.is_some() {
            self.errors.push(
                FieldError::new("", "this step already has a hint")
                    .help("put the step's hint into one `> Hint: …` quote")
                    .at(span(range)),
            );
            return;
        }
        step.hint = Some(hint.split_whitespace().collect::<Vec<_>>().join(" "));
    }
}

const FRONT_MATTER_HELP: &str = "start the file with\n---\ntitle: BGP basics\ntopology: bgp-basics/lab.yaml   # a file beside the tutorial, or a built-in topology\nneeds: [docker]                 # docker, kind, minikube\nduration: 20m\n---";

fn missing_front_matter(at: usize) -> FieldError {
    FieldError::new("", "a tutorial starts with its front matter")
        .help(FRONT_MATTER_HELP)
        .at(span(at..at))
}

/// Why a command cannot be run as a step's command, if it cannot: (message, help).
fn command_problem(words: &[String]) -> Option<(String, String)> {
    let first = words.first()?;
    if first == "$"
        || first == "#"
        || (first.starts_with('$') && first.len() > 1 && words.len() == 1)
    {
        return Some((
            "a command starts with a prompt".to_string(),
            "write the command alone (`metallab status lab`), without `$ `".to_string(),
        ));
    }
    if words.iter().any(|w| w.starts_with("<<")) {
        return Some((
            "here-documents are not supported".to_string(),
            "put the text in a file beside the tutorial and name the file".to_string(),
        ));
    }
    if matches!(first.as_str(), "cd" | "export" | "source" | ".") {
        return Some((
            format!("`{first}` has no effect on the next command"),
            "each command runs on its own (`sh -c`) in the tutorial's folder; give paths relative to it, and variables on the command itself".to_string(),
        ));
    }
    None
}

/// The opening fence's line of a code block.
fn fence_line(text: &str, block: &Range<usize>) -> Range<usize> {
    let start = text[..block.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[block.start..]
        .find('\n')
        .map_or(text.len(), |i| block.start + i);
    start..end
}

/// `text` with everything outside `content` turned into spaces (newlines kept), so a
/// YAML reader sees only `content`, at its own offsets. With `key_at`, the line starting
/// there (a fence, at least `checks:` long) becomes `checks:`.
fn blanked(text: &str, content: &Range<usize>, key_at: Option<usize>) -> String {
    let mut bytes: Vec<u8> = text
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            if content.contains(&i) || b == b'\n' || b == b'\r' {
                b
            } else {
                b' '
            }
        })
        .collect();
    if let Some(at) = key_at {
        bytes[at..at + "checks:".len()].copy_from_slice(b"checks:");
    }
    // Only whole characters were kept or turned into spaces, so it is still UTF-8.
    String::from_utf8(bytes).expect("whole characters kept")
}

/// An error read from a blanked copy, placed in the tutorial: its own span, or where its
/// path is in the copy (its nearest written part), else at the start of the YAML.
pub(super) fn placed(error: FieldError, map: &SourceMap, content: &Range<usize>) -> FieldError {
    let located = error.span.unwrap_or_else(|| map.label_span(&error.path));
    let at = if located.offset() == 0 && located.is_empty() {
        span(content.start..content.start)
    } else {
        located
    };
    let mut error = error.at(at);
    for related in &mut error.related {
        related
            .span
            .get_or_insert_with(|| map.label_span(&related.path));
    }
    error
}

fn extend(content: &mut Option<Range<usize>>, range: &Range<usize>) {
    match content {
        Some(c) => c.end = c.end.max(range.end),
        None => *content = Some(range.clone()),
    }
}

pub(super) fn span(range: Range<usize>) -> SourceSpan {
    SourceSpan::from(range)
}
