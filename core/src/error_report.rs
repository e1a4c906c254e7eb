//! How a failure reads: one style for every error metallab prints, whether it points into
//! a topology file or not.
//!
//! ```text
//! error: `99999999999` is too large: `asn` is at most 4294967295
//!    ╭─[lab.yaml:3:24]
//!  3 │   r1: {kind: frr, asn: 99999999999}
//!    ·                        ─────┬─────
//!    ·                             ╰── routers.r1.asn
//!    ╰────
//!   help: an ASN is 1–4294967295
//! ```
//!
//! miette draws the source snippets; this module decides the rest: an `error:` first line
//! (what CI logs and `grep` look for), `help:` for advice, the errors of a file each as a
//! report of its own followed by the file's summary, no wrapping outside a terminal.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, SourceCode};
use std::fmt;

/// Where the report goes, decided once by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportStyle {
    /// ANSI colours (only for a terminal that wants them).
    pub color: bool,
    /// Wrap to this width: `Some` on a terminal; in pipes a line stays one line.
    pub wrap_width: Option<usize>,
}

impl ReportStyle {
    /// No colour, no wrapping: pipes, CI logs, tests.
    pub const PLAIN: ReportStyle = ReportStyle {
        color: false,
        wrap_width: None,
    };
}

/// A diagnostic as text. One with related diagnostics (the errors of one file) is shown
/// as each of those, in order, then its own message as the summary.
pub fn render_diagnostic(diagnostic: &dyn Diagnostic, style: ReportStyle) -> String {
    let related: Vec<&dyn Diagnostic> = diagnostic
        .related()
        .map(|items| items.collect())
        .unwrap_or_default();
    let mut out = String::new();
    for item in &related {
        let source = item.source_code().or(diagnostic.source_code());
        out.push_str(&render_one(
            &WithSource {
                inner: *item,
                source,
            },
            style,
        ));
        out.push('\n');
    }
    out.push_str(&render_one(&WithoutRelated(diagnostic), style));
    out
}

/// A failure that points at no file: its message and, if any, the advice. A message of
/// several lines (a list of what failed) keeps its own indentation; the terminal wraps.
pub fn render_error(message: &str, help: Option<&str>, style: ReportStyle) -> String {
    let paint = |code: &str, text: &str| {
        if style.color {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = format!("{} {message}\n", paint("1;31", "error:"));
    if let Some(help) = help {
        out.push_str(&format!("  {} {help}\n", paint("36", "help:")));
    }
    out
}

fn render_one(diagnostic: &dyn Diagnostic, style: ReportStyle) -> String {
    let mut theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    theme.characters.error = "error:".into();
    theme.characters.warning = "warning:".into();
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_wrap_lines(style.wrap_width.is_some())
        .with_width(style.wrap_width.unwrap_or(usize::MAX / 2));
    let mut text = String::new();
    handler
        .render_report(&mut text, diagnostic)
        .expect("rendering into a String cannot fail");
    // miette indents the first line by two columns; a report starts at the margin, as
    // compilers' do.
    match text.strip_prefix("  ") {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// A related diagnostic given the source code its parent holds.
struct WithSource<'a> {
    inner: &'a dyn Diagnostic,
    source: Option<&'a dyn SourceCode>,
}

impl fmt::Debug for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for WithSource<'_> {}

impl Diagnostic for WithSource<'_> {
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.help()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.inner.labels()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
}

/// A diagnostic shown without its related ones (they were shown before it).
struct WithoutRelated<'a>(&'a dyn Diagnostic);

impl fmt::Debug for WithoutRelated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for WithoutRelated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)
    }
}

impl std::error::Error for WithoutRelated<'_> {}

impl Diagnostic for WithoutRelated<'_> {
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.0.help()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.0.labels()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.0.source_code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.0.severity()
    }
}

impl crate::topology::diagnostics::TopologyErrors {
    /// The graphical report without colours, as tests and logs want it.
    pub fn render_plain(&self) -> String {
        render_plain(self)
    }
}

/// Renders any diagnostic as metallab prints it, without colours or wrapping.
pub fn render_plain(diagnostic: &dyn miette::Diagnostic) -> String {
    render_diagnostic(diagnostic, ReportStyle::PLAIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_without_a_file_has_the_same_shape_as_one_with() {
        let text = render_error(
            "image x:1 is not present on this Docker engine",
            Some("pull or build it first (docker pull x:1)"),
            ReportStyle::PLAIN,
        );
        insta::assert_snapshot!(text, @r"
        error: image x:1 is not present on this Docker engine
          help: pull or build it first (docker pull x:1)
        ");
    }

    #[test]
    fn a_message_of_several_lines_stays_together_and_unwrapped() {
        let long = "x".repeat(400);
        let text = render_error(
            &format!("2 router(s) failed to start:\n  - r1: {long}\n  - r2: no"),
            None,
            ReportStyle::PLAIN,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], "error: 2 router(s) failed to start:");
        assert!(lines[1].ends_with(&long), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }

    #[test]
    fn colour_only_when_asked() {
        let style = ReportStyle {
            color: true,
            wrap_width: Some(40),
        };
        let text = render_error("no", Some("a hint"), style);
        assert!(text.contains("\u{1b}[1;31merror:\u{1b}[0m no"), "{text:?}");
        assert!(!render_error("no", None, ReportStyle::PLAIN).contains('\u{1b}'));
    }
}
