//! A tutorial's Markdown as text for a terminal: paragraphs wrapped to its width, lists
//! indented, commands as `$ command` lines, code kept as written. Colours only when asked
//! (a terminal that wants them); otherwise plain text, `code` in backticks.
//!
//! `checks` blocks and `> Hint:` quotes are left out: `metallab tutorial start` shows the
//! checks as it polls them, and the hint only when a step does not pass.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use std::ops::Range;

/// How to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Wrap paragraphs at this many columns.
    pub width: usize,
    pub color: bool,
}

const BOLD: &str = "\x1b[1m";
const CYAN: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The Markdown in `range` of `text`, rendered.
pub fn markdown(text: &str, range: Range<usize>, style: Style) -> String {
    let mut r = Renderer {
        style,
        out: String::new(),
        line: Vec::new(),
        lists: Vec::new(),
        quote: 0,
        quote_start: 0,
        code: None,
        link: None,
        hang: 0,
    };
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(&text[range], options) {
        r.event(event);
    }
    r.flush();
    let trimmed = r.out.trim_matches('\n');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

/// A code block being read: its language and text.
struct Code {
    language: String,
    options: Vec<String>,
    text: String,
}

struct Renderer {
    style: Style,
    out: String,
    /// Words of the paragraph being read, each as (visible width, text with colour codes).
    line: Vec<(usize, String)>,
    /// Open lists: the next item number (None: bullets).
    lists: Vec<Option<u64>>,
    quote: usize,
    /// Where the outermost open quote starts in `out` (a hint quote is taken back out).
    quote_start: usize,
    code: Option<Code>,
    /// An open link: its target, and its text so far.
    link: Option<(String, String)>,
    /// Extra indent of a list item's wrapped lines, so they hang under its text.
    hang: usize,
}

impl Renderer {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.style.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn indent(&self) -> String {
        format!(
            "{}{}",
            "  ".repeat(self.lists.len()),
            "│ ".repeat(self.quote)
        )
    }

    /// Adds text to the paragraph, split into words (a word keeps glued punctuation).
    fn words(&mut self, text: &str, code: Option<&str>) {
        let mut first = true;
        for piece in text.split(' ') {
            if !first {
                self.line.push((0, String::new()));
            }
            first = false;
            if piece.is_empty() {
                continue;
            }
            let shown = match code {
                Some(color) => self.paint(color, piece),
                None => piece.to_string(),
            };
            self.line.push((piece.chars().count(), shown));
        }
    }

    /// Writes the paragraph, wrapped.
    fn flush(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let prefix = self.indent();
        let width = self
            .style
            .width
            .saturating_sub(prefix.chars().count())
            .max(20);
        // Glue pieces into words at the separators (empty entries).
        let mut words: Vec<(usize, String)> = Vec::new();
        let mut glued = true;
        for (w, text) in std::mem::take(&mut self.line) {
            if w == 0 && text.is_empty() {
                glued = false;
                continue;
            }
            match words.last_mut() {
                Some(last) if glued => {
                    last.0 += w;
                    last.1.push_str(&text);
                }
                _ => words.push((w, text)),
            }
            glued = true;
        }
        let mut current = String::new();
        let mut used = 0;
        let mut lines = Vec::new();
        for (w, text) in words {
            if used > 0 && used + 1 + w > width {
                lines.push(std::mem::take(&mut current));
                used = 0;
            }
            if used > 0 {
                current.push(' ');
                used += 1;
            }
            current.push_str(&text);
            used += w;
        }
        if !current.is_empty() {
            lines.push(current);
        }
        let hang = " ".repeat(std::mem::take(&mut self.hang));
        for (i, line) in lines.into_iter().enumerate() {
            self.out.push_str(&prefix);
            if i > 0 {
                self.out.push_str(&hang);
            }
            self.out.push_str(&line);
            self.out.push('\n');
        }
    }

    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn event(&mut self, event: Event<'_>) {
        if let Some(code) = &mut self.code {
            match event {
                Event::Text(text) => code.text.push_str(&text),
                Event::End(TagEnd::CodeBlock) => {
                    let code = self.code.take().expect("open");
                    self.code_block(code);
                }
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(Tag::Paragraph) => {}
            Event::End(TagEnd::Paragraph) => {
                self.flush();
                if self.lists.is_empty() {
                    self.blank_line();
                }
            }
            Event::Start(Tag::Heading { .. }) => {
                self.flush();
                self.blank_line();
            }
            Event::End(TagEnd::Heading(_)) => {
                let words = std::mem::take(&mut self.line);
                let title: Vec<String> = words.into_iter().map(|(_, t)| t).collect();
                let title = title
                    .join("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                let title = self.paint(BOLD, &title);
                self.out.push_str(&title);
                self.out.push_str("\n\n");
            }
            Event::Start(Tag::List(start)) => {
                self.flush();
                self.lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                self.flush();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.blank_line();
                }
            }
            Event::Start(Tag::Item) => {
                self.flush();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}.");
                        *n += 1;
                        marker
                    }
                    _ => "-".to_string(),
                };
                // The marker is the item's first word, so wrapping counts it.
                self.hang = marker.chars().count() + 1;
                self.line.push((marker.chars().count(), marker));
                self.line.push((0, String::new()));
            }
            Event::End(TagEnd::Item) => self.flush(),
            Event::Start(Tag::BlockQuote(_)) => {
                self.flush();
                if self.quote == 0 {
                    self.quote_start = self.out.len();
                }
                self.quote += 1;
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                self.flush();
                self.quote -= 1;
                if self.quote == 0 {
                    let quoted = strip_colors(&self.out[self.quote_start..]).replace("│ ", "");
                    if is_hint(&quoted) {
                        self.out.truncate(self.quote_start);
                    }
                }
                self.blank_line();
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                self.flush();
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                let mut words = info.split_whitespace();
                self.code = Some(Code {
                    language: words.next().unwrap_or("").to_string(),
                    options: words.map(str::to_string).collect(),
                    text: String::new(),
                });
            }
            Event::Text(text) => {
                if let Some((_, shown)) = &mut self.link {
                    shown.push_str(&text);
                }
                self.words(&text, None)
            }
            Event::Code(text) => {
                if let Some((_, shown)) = &mut self.link {
                    shown.push_str(&text);
                }
                let shown = if self.style.color {
                    text.to_string()
                } else {
                    format!("`{text}`")
                };
                self.words(&shown, Some(CYAN));
            }
            Event::SoftBreak => self.words(" ", None),
            Event::HardBreak => self.flush(),
            Event::Start(Tag::Strong | Tag::Emphasis) if self.style.color => {
                self.line.push((0, BOLD.to_string()))
            }
            Event::End(TagEnd::Strong | TagEnd::Emphasis) if self.style.color => {
                self.line.push((0, RESET.to_string()))
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                self.link = Some((dest_url.to_string(), String::new()))
            }
            Event::End(TagEnd::Link) => {
                // The target, unless it is an anchor or what the text already says.
                if let Some((url, shown)) = self.link.take()
                    && !url.starts_with('#')
                    && url != shown
                {
                    let shown = self.paint(DIM, &format!("({url})"));
                    self.line.push((0, String::new()));
                    self.line.push((url.chars().count() + 2, shown));
                }
            }
            Event::End(TagEnd::TableCell) => self.words(" | ", None),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => self.flush(),
            Event::End(TagEnd::Table) => {
                self.flush();
                self.blank_line();
            }
            Event::Rule => {
                self.flush();
                self.out.push_str("────\n\n");
            }
            // Comments are notes for authors; other HTML is shown as text.
            Event::Html(html) | Event::InlineHtml(html)
                if !html.trim_start().starts_with("<!--") =>
            {
                self.words(&html, None)
            }
            _ => {}
        }
    }

    fn code_block(&mut self, code: Code) {
        let prefix = self.indent();
        match code.language.as_str() {
            "checks" => return,
            "sh" => {
                let by_hand = code.options.iter().any(|o| o == "no-run");
                for command in super::shell::split(&code.text).unwrap_or_default() {
                    let mut lines = command.text.lines();
                    if let Some(first) = lines.next() {
                        let line = format!("$ {first}");
                        self.out
                            .push_str(&format!("{prefix}  {}\n", self.paint(BOLD, &line)));
                    }
                    for rest in lines {
                        let line = format!("  {}", rest.trim_start());
                        self.out
                            .push_str(&format!("{prefix}  {}\n", self.paint(BOLD, &line)));
                    }
                }
                if by_hand {
                    let commands = super::shell::split(&code.text).map_or(0, |c| c.len());
                    let note = if commands > 1 {
                        "(run these yourself: r does not run them)"
                    } else {
                        "(run this one yourself: r does not run it)"
                    };
                    let note = self.paint(DIM, note);
                    self.out.push_str(&format!("{prefix}  {note}\n"));
                }
            }
            _ => {
                for line in code.text.trim_end_matches('\n').lines() {
                    self.out.push_str(&format!("{prefix}    {line}\n"));
                }
            }
        }
        self.blank_line();
    }
}

/// Whether a quote's text is a step's hint (see `parse`): shown only when the step fails.
pub fn is_hint(quote_text: &str) -> bool {
    let text = quote_text.trim_start();
    text.starts_with("Hint:") || text.starts_with("Hint :")
}

/// Text without its ANSI colour codes.
fn strip_colors(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // `ESC [ … m`
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
