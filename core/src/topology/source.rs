//! Where each field of a topology file sits in the text.
//!
//! serde gives us a typed `Topology` but forgets positions; validation works on the typed
//! model and names the offending field by path (`routers.frr1.interfaces.lan.ip`,
//! `checks[2].route`). This map turns such a path back into byte spans of the key and
//! the value, so every diagnostic can point at the exact place in the file.

use miette::SourceSpan;
use saphyr_parser::{Event, Parser, Span};
use std::collections::HashMap;

/// Byte spans of one field: its key (absent for sequence items and the root) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpans {
    pub key: Option<SourceSpan>,
    pub value: SourceSpan,
    /// Scalars (and aliases) are labelled on the value; mappings and sequences on the key,
    /// because underlining a whole multi-line block helps nobody.
    pub value_is_scalar: bool,
}

/// Field path → spans, for every key and sequence item of a YAML document.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    /// In document order; duplicate keys keep every occurrence here.
    entries: Vec<(String, FieldSpans)>,
    /// Path → index of its first occurrence in `entries`.
    by_path: HashMap<String, usize>,
    /// Byte offset of every line start, to cut labels of containers to their first line.
    line_starts: Vec<usize>,
    text_len: usize,
}

impl SourceMap {
    /// Builds the map from the parser's events. A syntax error stops the walk: what was
    /// seen before it is kept (the deserializer reports the error itself).
    pub fn parse(text: &str) -> SourceMap {
        let mut walker = Walker {
            events: Parser::new_from_str(text).peekable(),
            offsets: CharOffsets::new(text),
            entries: Vec::new(),
        };
        // Skip StreamStart/DocumentStart; the first node is the document root.
        while let Some(Ok((event, _))) = walker.events.peek() {
            if matches!(event, Event::StreamStart | Event::DocumentStart(_)) {
                walker.events.next();
            } else {
                break;
            }
        }
        let _ = walker.node(String::new(), None);

        let mut by_path = HashMap::new();
        for (index, (path, _)) in walker.entries.iter().enumerate() {
            by_path.entry(path.clone()).or_insert(index);
        }
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceMap {
            entries: walker.entries,
            by_path,
            line_starts,
            text_len: text.len(),
        }
    }

    /// The spans of exactly this path, if it is written in the file.
    pub fn get(&self, path: &str) -> Option<&FieldSpans> {
        self.by_path.get(path).map(|&i| &self.entries[i].1)
    }

    /// The path itself or, when it is not in the file (a missing field, a defaulted
    /// value), its nearest written ancestor. Returns the path that was found.
    pub fn nearest<'p>(&self, path: &'p str) -> Option<(&'p str, &FieldSpans)> {
        let mut current = path;
        loop {
            if let Some(spans) = self.get(current) {
                return Some((current, spans));
            }
            if current.is_empty() {
                return None;
            }
            current = parent_path(current);
        }
    }

    /// The span a diagnostic about `path` should underline: the value of a scalar, the
    /// key of a container, or the first line of a keyless container (a sequence item).
    pub fn label_span(&self, path: &str) -> SourceSpan {
        let Some((found, spans)) = self.nearest(path) else {
            return SourceSpan::from(0..0);
        };
        let exact = found.len() == path.len();
        if exact && spans.value_is_scalar && !spans.value.is_empty() {
            return spans.value;
        }
        match spans.key {
            Some(key) => key,
            None => self.first_line_of(spans.value),
        }
    }

    /// The innermost field whose key or value contains this byte offset.
    pub fn path_at(&self, offset: usize) -> Option<&str> {
        let contains = |span: &SourceSpan| {
            let start = span.offset();
            offset >= start && offset < start + span.len().max(1)
        };
        // Keys never nest, so a key containing the offset is the answer; otherwise the
        // smallest value containing it is the innermost field.
        let on_key = self
            .entries
            .iter()
            .find(|(_, s)| s.key.as_ref().is_some_and(contains));
        on_key
            .or_else(|| {
                self.entries
                    .iter()
                    .filter(|(_, s)| contains(&s.value))
                    .min_by_key(|(_, s)| s.value.len())
            })
            .map(|(path, _)| path.as_str())
    }

    /// Byte offset of a 1-based line and 1-based column (columns counted in characters).
    pub fn offset_of(&self, text: &str, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text_len;
        };
        text[start..]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(self.text_len, |(i, _)| start + i)
    }

    fn first_line_of(&self, span: SourceSpan) -> SourceSpan {
        let start = span.offset();
        let line = self.line_starts.partition_point(|&s| s <= start);
        let line_end = self
            .line_starts
            .get(line)
            .map_or(self.text_len, |&next| next - 1);
        let end = (start + span.len()).min(line_end).max(start);
        SourceSpan::from(start..end)
    }
}

/// Byte offsets of character positions: the YAML parser counts characters, miette wants
/// bytes.
#[derive(Debug, Clone)]
pub struct CharOffsets(Vec<usize>);

impl CharOffsets {
    pub fn new(text: &str) -> CharOffsets {
        CharOffsets(
            text.char_indices()
                .map(|(byte, _)| byte)
                .chain(std::iter::once(text.len()))
                .collect(),
        )
    }

    /// The byte offset of a character position (the end of the text past it).
    pub fn byte(&self, char_index: usize) -> usize {
        self.0[char_index.min(self.0.len() - 1)]
    }

    /// The bytes of a character range; never reversed.
    pub fn span(&self, start_char: usize, end_char: usize) -> SourceSpan {
        let start = self.byte(start_char);
        let end = self.byte(end_char).max(start);
        SourceSpan::from(start..end)
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → `` (the root).
pub fn parent_path(path: &str) -> &str {
    match path.rfind(['.', '[']) {
        Some(i) => &path[..i],
        None => "",
    }
}

/// Whether `path` is `outer` or lies inside it (the root `` holds every path).
pub fn is_within(path: &str, outer: &str) -> bool {
    path == outer
        || outer.is_empty()
        || (path.starts_with(outer)
            && matches!(path.as_bytes().get(outer.len()), Some(b'.' | b'[')))
}

/// Joins a mapping key onto a path.
pub fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Joins a sequence index onto a path.
pub fn item_path(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

struct Walker<'a> {
    events: std::iter::Peekable<Parser<'a, saphyr_parser::StrInput<'a>>>,
    offsets: CharOffsets,
    entries: Vec<(String, FieldSpans)>,
}

/// The walk stops at the first scanner error.
struct Stop;

impl Walker<'_> {
    fn next(&mut self) -> Result<(Event<'_>, Span), Stop> {
        match self.events.next() {
            Some(Ok((event, span))) => Ok((event, span)),
            _ => Err(Stop),
        }
    }

    fn span(&self, start_char: usize, end_char: usize) -> SourceSpan {
        self.offsets.span(start_char, end_char)
    }

    /// Reads one node (scalar, alias, sequence or mapping) and records it under `path`.
    fn node(&mut self, path: String, key: Option<SourceSpan>) -> Result<(), Stop> {
        let (event, span) = self.next()?;
        let start = span.start.index();
        let (end, value_is_scalar) = match event {
            Event::Scalar(..) | Event::Alias(_) => (span.end.index(), true),
            Event::SequenceStart(..) => {
                let mut index = 0;
                loop {
                    if self.peek_is(|e| matches!(e, Event::SequenceEnd)) {
                        let (_, end) = self.next()?;
                        break (end.end.index(), false);
                    }
                    self.node(item_path(&path, index), None)?;
                    index += 1;
                }
            }
            Event::MappingStart(..) => loop {
                let (key_event, key_span) = self.next()?;
                match key_event {
                    Event::MappingEnd => break (key_span.end.index(), false),
                    Event::Scalar(name, ..) => {
                        let child = child_path(&path, &name);
                        let key = self.span(key_span.start.index(), key_span.end.index());
                        self.node(child, Some(key))?;
                    }
                    // A complex key (a mapping or sequence used as key) has no path of
                    // its own: consume it, then its value, under the parent's path.
                    Event::SequenceStart(..) | Event::MappingStart(..) => {
                        self.skip_rest_of_container()?;
                        self.node(path.clone(), None)?;
                    }
                    _ => self.node(path.clone(), None)?,
                }
            },
            _ => return Err(Stop),
        };
        let value = self.span(start, end);
        self.entries.push((
            path,
            FieldSpans {
                key,
                value,
                value_is_scalar,
            },
        ));
        Ok(())
    }

    fn peek_is(&mut self, predicate: impl Fn(&Event<'_>) -> bool) -> bool {
        matches!(self.events.peek(), Some(Ok((event, _))) if predicate(event))
    }

    /// Consumes events up to the end of a container whose start was already read.
    fn skip_rest_of_container(&mut self) -> Result<(), Stop> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()?.0 {
                Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
                Event::SequenceEnd | Event::MappingEnd => depth -= 1,
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
name: démo
networks:
  lan: { subnet: 10.0.0.0/24 }
routers:
  frr1:
    kind: frr
    interfaces:
      lan:
        ip: 10.0.0.5
checks:
  - router: frr1
    session: bird1
  - { router: frr1, route: 192.0.2.0/24 }
";

    fn text_of(span: SourceSpan) -> &'static str {
        &TEXT[span.offset()..span.offset() + span.len()]
    }

    #[test]
    fn maps_nested_keys_and_values_to_byte_spans() {
        let map = SourceMap::parse(TEXT);
        let ip = map.get("routers.frr1.interfaces.lan.ip").unwrap();
        assert_eq!(text_of(ip.key.unwrap()), "ip");
        assert_eq!(text_of(ip.value), "10.0.0.5");
        // `é` is two bytes: spans after it must still be exact.
        assert_eq!(text_of(map.get("name").unwrap().value), "démo");
        assert_eq!(
            text_of(map.get("networks.lan.subnet").unwrap().value),
            "10.0.0.0/24"
        );
    }

    #[test]
    fn sequence_items_are_indexed() {
        let map = SourceMap::parse(TEXT);
        assert_eq!(
            text_of(map.get("checks[1].route").unwrap().value),
            "192.0.2.0/24"
        );
        assert_eq!(
            text_of(map.get("checks[0].session").unwrap().value),
            "bird1"
        );
        assert!(map.get("checks[0]").unwrap().key.is_none());
    }

    #[test]
    fn lookup_falls_back_to_the_nearest_written_ancestor() {
        let map = SourceMap::parse(TEXT);
        let (found, _) = map.nearest("routers.frr1.asn").unwrap();
        assert_eq!(found, "routers.frr1");
        assert_eq!(text_of(map.label_span("routers.frr1.asn")), "frr1");
        assert_eq!(map.nearest("checks[0].state").unwrap().0, "checks[0]");
    }

    #[test]
    fn labels_scalars_on_the_value_and_containers_on_the_key_or_first_line() {
        let map = SourceMap::parse(TEXT);
        assert_eq!(text_of(map.label_span("routers.frr1.kind")), "frr");
        assert_eq!(
            text_of(map.label_span("routers.frr1.interfaces")),
            "interfaces"
        );
        assert_eq!(
            text_of(map.label_span("checks[1]")),
            "{ router: frr1, route: 192.0.2.0/24 }"
        );
        assert_eq!(text_of(map.label_span("checks[0]")), "router: frr1");
    }

    #[test]
    fn finds_the_innermost_path_at_an_offset() {
        let map = SourceMap::parse(TEXT);
        let offset = TEXT.find("10.0.0.5").unwrap() + 3;
        assert_eq!(map.path_at(offset), Some("routers.frr1.interfaces.lan.ip"));
        let offset = TEXT.find("kind").unwrap();
        assert_eq!(map.path_at(offset), Some("routers.frr1.kind"));
    }

    #[test]
    fn converts_line_and_column_to_byte_offsets() {
        let map = SourceMap::parse(TEXT);
        assert_eq!(map.offset_of(TEXT, 1, 7), TEXT.find("démo").unwrap());
        assert_eq!(map.offset_of(TEXT, 3, 3), TEXT.find("lan:").unwrap());
    }

    #[test]
    fn keeps_what_it_saw_before_a_syntax_error() {
        let map = SourceMap::parse("name: x\nnetworks:\n  a: [\n");
        assert!(map.get("name").is_some());
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent_path("a.b[2].c"), "a.b[2]");
        assert_eq!(parent_path("a.b[2]"), "a.b");
        assert_eq!(parent_path("a"), "");
    }
}
