//! Pointed diagnostics for topology files: every error of a file at once, each with
//! `file:line:col`, the field path and a hint.
//!
//! Validation produces plain [`FieldError`]s (a path, a message, a hint) without knowing
//! the text; [`TopologyErrors::new`] locates them in the source through the
//! [`SourceMap`] and renders them with miette.

use super::source::SourceMap;
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use thiserror::Error;

/// One problem in a topology, named by field path (`routers.frr1.interfaces.lan.ip`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
    pub help: Option<String>,
    /// Other fields involved (the network a subnet overlaps, the first router with a
    /// duplicated IP), labelled alongside the primary one.
    pub related: Vec<RelatedField>,
    /// An exact span, when the error already knows one (YAML syntax and type errors);
    /// otherwise the span comes from the path.
    pub span: Option<SourceSpan>,
    /// The error holds whatever the other fields say (a name that does not exist), so
    /// a stand-in for an unreadable neighbour value cannot have caused it.
    pub independent: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedField {
    pub path: String,
    pub label: String,
    /// An exact span, when the field is not found by path in the file's YAML (a tutorial's
    /// `checks` block sits inside Markdown).
    pub span: Option<SourceSpan>,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.into(),
            message: message.into(),
            help: None,
            related: Vec::new(),
            span: None,
            independent: false,
        }
    }

    /// Marks the error as [independent](FieldError::independent) of other fields.
    pub fn independent(mut self) -> FieldError {
        self.independent = true;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> FieldError {
        self.help = Some(help.into());
        self
    }

    pub fn also(mut self, path: impl Into<String>, label: impl Into<String>) -> FieldError {
        self.related.push(RelatedField {
            path: path.into(),
            label: label.into(),
            span: None,
        });
        self
    }

    /// Another place involved, by its span (in a file that is not YAML as a whole).
    pub fn also_at(mut self, span: SourceSpan, label: impl Into<String>) -> FieldError {
        self.related.push(RelatedField {
            path: String::new(),
            label: label.into(),
            span: Some(span),
        });
        self
    }

    pub fn at(mut self, span: SourceSpan) -> FieldError {
        self.span = Some(span);
        self
    }
}

/// All errors of one topology file, ready to render.
#[derive(Debug, Error)]
#[error("invalid topology {file}: {}", count_errors(located.len()))]
pub struct TopologyErrors {
    /// The name shown in `file:line:col`.
    pub file: String,
    /// The errors as validation produced them.
    pub errors: Vec<FieldError>,
    source_code: NamedSource<String>,
    located: Vec<LocatedError>,
}

impl Diagnostic for TopologyErrors {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source_code)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.located.iter().map(|e| e as &dyn Diagnostic)))
    }
}

/// One error placed in the file. Rendered as a related diagnostic of [`TopologyErrors`],
/// so it shares the file's source and gets its own `[file:line:col]` snippet.
#[derive(Debug, Error, Clone)]
#[error("{message}")]
pub struct LocatedError {
    pub message: String,
    pub path: String,
    /// `file:line:col` (1-based line and column).
    pub location: String,
    pub line: usize,
    pub column: usize,
    pub help: Option<String>,
    labels: Vec<LabeledSpan>,
}

impl Diagnostic for LocatedError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

impl TopologyErrors {
    /// Locates each error in `text` (the file as read) and keeps the file's order.
    pub fn new(file: &str, text: &str, errors: Vec<FieldError>) -> TopologyErrors {
        TopologyErrors::located_by(file, text, &SourceMap::parse(text), errors)
    }

    /// [`TopologyErrors::new`] with the errors' paths looked up in `map`: errors (and
    /// related fields) without a span of their own are placed where `map` has their path.
    /// A document that is not YAML as a whole (a tutorial) gives every error its span and
    /// an empty map.
    pub fn located_by(
        file: &str,
        text: &str,
        map: &SourceMap,
        errors: Vec<FieldError>,
    ) -> TopologyErrors {
        let mut located: Vec<LocatedError> = errors
            .iter()
            .map(|error| locate(file, text, map, error))
            .collect();
        // Stable: errors on the same line keep validation order.
        located.sort_by_key(|e| (e.line, e.column));
        TopologyErrors {
            file: file.to_string(),
            errors,
            source_code: NamedSource::new(file, text.to_string()).with_language("yaml"),
            located,
        }
    }

    /// The errors with their positions, in file order.
    pub fn located(&self) -> &[LocatedError] {
        &self.located
    }

    /// The file's name and text, as the errors quote it.
    pub fn source(&self) -> &NamedSource<String> {
        &self.source_code
    }
}

/// A source line longer than this is not quoted in a report: echoing a minified or
/// generated 200 KB line helps nobody. The error then names its place in words.
const MAX_QUOTED_LINE: usize = 300;

fn locate(file: &str, text: &str, map: &SourceMap, error: &FieldError) -> LocatedError {
    let span = error.span.unwrap_or_else(|| map.label_span(&error.path));
    let (line, column) = line_and_column(text, span.offset());
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(error.path.clone()).filter(|p| !p.is_empty()),
        span,
    )];
    labels.extend(error.related.iter().map(|related| {
        LabeledSpan::new_with_span(
            Some(related.label.clone()),
            related
                .span
                .unwrap_or_else(|| map.label_span(&related.path)),
        )
    }));
    let mut message = error.message.clone();
    if labels.iter().any(|l| near_a_long_line(text, l.offset())) {
        labels.clear();
        let field = if error.path.is_empty() {
            String::new()
        } else {
            format!(" ({})", error.path)
        };
        message = format!("{file}:{line}:{column}{field}: {message}");
    }
    LocatedError {
        message,
        path: error.path.clone(),
        location: format!("{file}:{line}:{column}"),
        line,
        column,
        help: error.help.clone(),
        labels,
    }
}

/// Whether the line at `offset`, or a line next to it (quoted as context), is too long to
/// quote.
fn near_a_long_line(text: &str, offset: usize) -> bool {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = text[..start.saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    text[before..]
        .split('\n')
        .take(if start == 0 { 2 } else { 3 })
        .any(|line| line.len() > MAX_QUOTED_LINE)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The candidate closest to a misspelled name, if any is close enough to be a typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// A hint for a name that does not exist: the likely typo, else what does exist.
pub fn unknown_name_help<'a>(
    what: &str,
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    if let Some(best) = did_you_mean(name, candidates.iter().copied()) {
        return format!("did you mean `{best}`?");
    }
    if candidates.is_empty() {
        format!("no {what} are defined")
    } else {
        format!("known {what}: {}", candidates.join(", "))
    }
}

/// Edit distance in characters, counting a swap of two neighbours as one edit (the
/// usual typo: `brid1` for `bird1`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    rows[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

fn count_errors(n: usize) -> String {
    match n {
        1 => "1 error".to_string(),
        n => format!("{n} errors"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
name: lab
networks:
  lan: { subnet: 10.0.0.0/24 }
  wan: { subnet: 10.0.0.0/16 }
routers:
  r1:
    kind: frr
";

    fn sample() -> TopologyErrors {
        TopologyErrors::new(
            "lab.yaml",
            TEXT,
            vec![
                FieldError::new("routers.r1.asn", "an frr router needs an ASN")
                    .help("add `asn: 64500` (1–4294967295)"),
                FieldError::new(
                    "networks.wan.subnet",
                    "subnet 10.0.0.0/16 overlaps network `lan`",
                )
                .also("networks.lan.subnet", "lan is here")
                .help("pick disjoint subnets"),
            ],
        )
    }

    #[test]
    fn locates_errors_and_sorts_them_in_file_order() {
        let errors = sample();
        let places: Vec<_> = errors
            .located()
            .iter()
            .map(|e| (e.location.as_str(), e.path.as_str()))
            .collect();
        assert_eq!(
            places,
            [
                ("lab.yaml:4:18", "networks.wan.subnet"),
                ("lab.yaml:6:3", "routers.r1.asn")
            ]
        );
    }

    #[test]
    fn renders_every_error_with_its_place_field_and_hint() {
        insta::assert_snapshot!(sample().render_plain());
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("subnett", ["subnet", "gateway"]),
            Some("subnet")
        );
        assert_eq!(did_you_mean("bird2", ["frr1", "bird1"]), Some("bird1"));
        assert_eq!(did_you_mean("brid1", ["frr1", "bird1"]), Some("bird1"));
        assert_eq!(did_you_mean("xyz", ["frr1", "bird1"]), None);
        assert_eq!(
            unknown_name_help("routers", "zzz", ["frr1", "bird1"]),
            "known routers: frr1, bird1"
        );
    }

    #[test]
    fn a_very_long_line_is_not_quoted() {
        let long = "x".repeat(200_000);
        let text =
            format!("name: lab\ndescription: {long}\nnetworks: {{ lan: {{ subnet: 10 }} }}\n");
        let errors = TopologyErrors::new(
            "lab.yaml",
            &text,
            vec![FieldError::new("networks.lan.subnet", "bad subnet")],
        );
        let rendered = errors.render_plain();
        assert!(rendered.len() < 1000, "{} bytes", rendered.len());
        assert!(
            rendered.contains("lab.yaml:3:"),
            "the place is named in words: {rendered}"
        );
    }

    #[test]
    fn counts_columns_in_characters() {
        assert_eq!(line_and_column("a: é\nbé: x", 11), (2, 5));
    }
}
