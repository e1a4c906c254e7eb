//! A YAML document as a tree of nodes that keep their byte spans.
//!
//! The deserializer reads this tree instead of the text so that it can skip or replace a
//! bad value and go on: every error of a file is found in one pass over the user's input.
//! Anchors and aliases are expanded, merge keys (`<<: *defaults`) are applied, duplicate
//! keys are reported (the first one wins) and syntax errors are said in the user's terms.

use super::super::diagnostics::FieldError;
use super::super::source::{CharOffsets, child_path};
use miette::SourceSpan;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use std::collections::HashMap;

/// One node of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Bytes of the whole node in the text.
    pub span: SourceSpan,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar as written. `quoted` scalars (single, double, block, or tagged `!!str`)
    /// are always strings; plain ones may be null, a boolean or a number.
    Scalar {
        text: String,
        quoted: bool,
    },
    Sequence(Vec<Node>),
    Mapping(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: SourceSpan,
    pub value: Node,
}

impl Node {
    /// A plain scalar that YAML reads as null: empty, `~` or `null`.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, quoted: false }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// What the node is, for messages: "a list", "a mapping", "`text`".
    pub fn describe(&self) -> String {
        match &self.value {
            _ if self.is_null() => "nothing".to_string(),
            Value::Scalar { text, .. } => format!("`{}`", shorten(text)),
            Value::Sequence(_) => "a list".to_string(),
            Value::Mapping(_) => "a mapping".to_string(),
        }
    }
}

/// At most this many characters of a value are echoed in a message.
const ECHO_LIMIT: usize = 60;

/// A value cut to a length a message can carry.
pub fn shorten(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or_default();
    if first_line.chars().count() <= ECHO_LIMIT && first_line.len() == text.len() {
        return text.to_string();
    }
    let cut: String = first_line.chars().take(ECHO_LIMIT).collect();
    format!("{cut}…")
}

/// The document's root node (None for an empty file) and the errors that do not stop
/// reading it (duplicate keys, keys that are not names). A syntax error stops it.
pub struct Document {
    pub root: Option<Node>,
    pub errors: Vec<FieldError>,
}

/// Expanding aliases may not make a document larger than this many nodes (a guard
/// against alias bombs).
const MAX_NODES: usize = 1_000_000;

/// Reads the text into a tree.
pub fn parse(text: &str) -> Result<Document, Box<FieldError>> {
    let mut builder = Builder {
        events: Parser::new_from_str(text),
        offsets: CharOffsets::new(text),
        anchors: HashMap::new(),
        errors: Vec::new(),
        nodes: 0,
        text,
    };
    let mut root = None;
    let mut documents = 0;
    loop {
        let (event, span) = builder.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                let node = builder.node(String::new())?;
                if documents == 1 {
                    root = Some(node);
                } else {
                    return Err(Box::new(
                        FieldError::new(
                            "",
                            "a topology file holds one YAML document; this is a second one",
                        )
                        .help("remove the `---` and what follows, or split it into its own file")
                        .at(builder.span(span.start.index(), span.end.index())),
                    ));
                }
            }
            _ => return Err(Box::new(builder.unexpected(span))),
        }
    }
    // An empty document reads as a null scalar; say "empty" rather than "null".
    let root = root.filter(|node| !(node.is_null() && text.trim().is_empty()));
    Ok(Document {
        root,
        errors: builder.errors,
    })
}

struct Builder<'a> {
    events: Parser<'a, saphyr_parser::StrInput<'a>>,
    offsets: CharOffsets,
    anchors: HashMap<usize, Node>,
    errors: Vec<FieldError>,
    nodes: usize,
    text: &'a str,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), Box<FieldError>> {
        match self.events.next() {
            Some(Ok(item)) => Ok(item),
            Some(Err(error)) => Err(Box::new(syntax_error(self.text, &self.offsets, &error))),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn span(&self, start_char: usize, end_char: usize) -> SourceSpan {
        self.offsets.span(start_char, end_char)
    }

    fn unexpected(&self, span: Span) -> FieldError {
        FieldError::new("", "this YAML is not understood here")
            .at(self.span(span.start.index(), span.end.index()))
    }

    fn count(&mut self, added: usize, span: SourceSpan) -> Result<(), Box<FieldError>> {
        self.nodes += added;
        if self.nodes > MAX_NODES {
            return Err(Box::new(
                FieldError::new(
                    "",
                    "the aliases of this file expand to more than a million values",
                )
                .help("a topology needs no alias of an alias of an alias; write the values out")
                .at(span),
            ));
        }
        Ok(())
    }

    /// Reads one node; `path` only names it in messages.
    fn node(&mut self, path: String) -> Result<Node, Box<FieldError>> {
        let (event, span) = self.next()?;
        self.node_from(event, span, path)
    }

    fn node_from(
        &mut self,
        event: Event<'a>,
        span: Span,
        path: String,
    ) -> Result<Node, Box<FieldError>> {
        let start = span.start.index();
        let (node, anchor) = match event {
            Event::Alias(id) => {
                let span = self.span(start, span.end.index());
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(Box::new(
                        FieldError::new(path, "this alias names no anchor defined before it")
                            .help("define the anchor (`&name`) before using it (`*name`)")
                            .at(span),
                    ));
                };
                self.count(size(&node), span)?;
                return Ok(node);
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tagged_string =
                    tag.is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                let quoted = tagged_string || !matches!(style, ScalarStyle::Plain);
                let node = Node {
                    value: Value::Scalar {
                        text: text.into_owned(),
                        quoted,
                    },
                    span: self.span(start, span.end.index()),
                };
                (node, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                let end = loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break span.end.index();
                    }
                    let item_path = format!("{path}[{}]", items.len());
                    items.push(self.node_from(event, span, item_path)?);
                };
                let node = Node {
                    value: Value::Sequence(items),
                    span: self.span(start, end),
                };
                (node, anchor)
            }
            Event::MappingStart(anchor, _) => {
                let (entries, end) = self.mapping(&path)?;
                let node = Node {
                    value: Value::Mapping(entries),
                    span: self.span(start, end),
                };
                (node, anchor)
            }
            _ => return Err(Box::new(self.unexpected(span))),
        };
        self.count(1, node.span)?;
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    /// The entries of a mapping whose start was read, and the end of the mapping (chars).
    fn mapping(&mut self, path: &str) -> Result<(Vec<Entry>, usize), Box<FieldError>> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut merged: Vec<Entry> = Vec::new();
        let end = loop {
            let (event, key_span) = self.next()?;
            let key_bytes = self.span(key_span.start.index(), key_span.end.index());
            let key = match event {
                Event::MappingEnd => break key_span.end.index(),
                Event::Scalar(name, ..) => name.into_owned(),
                other => {
                    // A list or mapping used as a key: read and drop it and its value.
                    let _ = self.node_from(other, key_span, path.to_string())?;
                    let _ = self.node(path.to_string())?;
                    self.errors.push(
                        FieldError::new(path, "a key here must be a name, not a list or mapping")
                            .at(key_bytes),
                    );
                    continue;
                }
            };
            let value = self.node(child_path(path, &key))?;
            if key == "<<" {
                self.merge(path, &value, &mut merged);
                continue;
            }
            if let Some(first) = entries.iter().find(|e| e.key == key) {
                let first_line = line_of(self.text, first.key_span.offset());
                self.errors.push(
                    FieldError::new(
                        child_path(path, &key),
                        format!("`{key}` is written twice in this mapping"),
                    )
                    .help(format!(
                        "the first `{key}` (line {first_line}) is used; remove or merge this one"
                    ))
                    .at(key_bytes),
                );
                continue;
            }
            entries.push(Entry {
                key,
                key_span: key_bytes,
                value,
            });
        };
        // Keys written in the mapping win over merged ones; earlier merges over later ones.
        for entry in merged {
            if !entries.iter().any(|e| e.key == entry.key) {
                entries.push(entry);
            }
        }
        Ok((entries, end))
    }

    /// `<<: *base` or `<<: [*a, *b]`: the entries to merge into the mapping at `path`.
    fn merge(&mut self, path: &str, value: &Node, merged: &mut Vec<Entry>) {
        let sources: Vec<&Node> = match &value.value {
            Value::Sequence(items) => items.iter().collect(),
            _ => vec![value],
        };
        for source in sources {
            match &source.value {
                Value::Mapping(entries) => {
                    for entry in entries {
                        if !merged.iter().any(|e| e.key == entry.key) {
                            merged.push(entry.clone());
                        }
                    }
                }
                _ => self.errors.push(
                    FieldError::new(
                        child_path(path, "<<"),
                        "a merge key (`<<`) takes a mapping or a list of mappings",
                    )
                    .help("write `<<: *anchor` where `&anchor` marks a mapping")
                    .at(source.span),
                ),
            }
        }
    }
}

/// The number of nodes in a tree.
fn size(node: &Node) -> usize {
    1 + match &node.value {
        Value::Scalar { .. } => 0,
        Value::Sequence(items) => items.iter().map(size).sum(),
        Value::Mapping(entries) => entries.iter().map(|e| size(&e.value)).sum(),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A scanner error in the user's terms, pointing where the mistake is.
fn syntax_error(text: &str, offsets: &CharOffsets, error: &ScanError) -> FieldError {
    let at = offsets.byte(error.marker().index());
    let info = error.info();
    let point = |offset: usize| SourceSpan::from(offset..offset);

    // A tab anywhere in the indentation before the error is the usual cause of a
    // confusing message; name it first.
    if let Some(tab) = indenting_tab(text, at) {
        return FieldError::new("", "a tab indents this line; YAML is indented with spaces")
            .help("replace the tab with spaces")
            .at(SourceSpan::from(tab..tab + 1));
    }
    let quote_problem = info.contains("quoted scalar") || info.contains("end of stream");
    if let Some(open) = unclosed_quote(text, at).filter(|_| quote_problem) {
        let quote = &text[open..open + 1];
        return FieldError::new("", format!("this {quote} is never closed"))
            .help(format!(
                "end the value with a matching {quote} on the same line"
            ))
            .at(SourceSpan::from(open..open + 1));
    }
    if (at >= text.trim_end().len() || info.contains("flow"))
        && let Some(open) = unclosed_bracket(&text[..at.min(text.len())])
    {
        let bracket = &text[open..open + 1];
        let (what, close) = if bracket == "[" {
            ("list", "]")
        } else {
            ("mapping", "}")
        };
        return FieldError::new("", format!("this `{bracket}` {what} is never closed"))
            .help(format!("close it with `{close}`"))
            .at(SourceSpan::from(open..open + 1));
    }
    let (message, help) = if info.contains("mapping values are not allowed") {
        (
            "a `key: value` cannot start here".to_string(),
            "check the indentation of this line against the lines above it; a value that \
             contains `: ` must be quoted",
        )
    } else if info.contains("did not find expected key") || info.contains("block mapping") {
        (
            "this line does not continue the mapping above it".to_string(),
            "check its indentation: keys of one mapping start in the same column",
        )
    } else if info.contains("did not find expected '-'") {
        (
            "this line does not continue the list above it".to_string(),
            "items of one list start with `- ` in the same column",
        )
    } else if info.contains("flow mapping") {
        (
            "a `{ … }` mapping is not closed or a comma is missing".to_string(),
            "separate entries with `, ` and close the mapping with `}`",
        )
    } else if info.contains("flow sequence") {
        (
            "a `[ … ]` list is not closed or a comma is missing".to_string(),
            "separate items with `, ` and close the list with `]`",
        )
    } else if info.contains("found unknown anchor") {
        (
            "this alias names no anchor defined before it".to_string(),
            "define the anchor (`&name`) before using it (`*name`)",
        )
    } else if info.contains("duplicated anchor") {
        (
            "this anchor name is already used".to_string(),
            "give each anchor (`&name`) its own name",
        )
    } else {
        (
            format!("this is not valid YAML: {info}"),
            "check the line for a missing `:`, an unquoted special character (`:`, `#`, `{`, `[`) \
             or a stray indentation",
        )
    };
    FieldError::new("", message).help(help).at(point(at))
}

/// The offset of a tab in the indentation of the error's line or of the lines just
/// before it.
fn indenting_tab(text: &str, at: usize) -> Option<usize> {
    let line_start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let mut starts = vec![line_start];
    // The scanner often notices a tab one line late.
    if line_start > 0 {
        starts.push(text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1));
    }
    starts.into_iter().find_map(|start| {
        let indent_len = text[start..]
            .find(|c: char| c != ' ' && c != '\t')
            .unwrap_or(text.len() - start);
        text[start..start + indent_len]
            .find('\t')
            .map(|i| start + i)
    })
}

/// The opening quote of a quoted value that is still open at `at`: the last quote
/// before `at` that starts a value and is not closed on its line.
fn unclosed_quote(text: &str, at: usize) -> Option<usize> {
    let mut open = None;
    let mut offset = 0;
    // The scanner may stop on the quote itself: include the rest of its line.
    let end = text[at.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| at + i);
    for line in text[..end].split_inclusive('\n') {
        if let Some(start) = open_quote_in_line(line) {
            open = Some(offset + start);
        }
        offset += line.len();
    }
    open
}

/// The last `[` or `{` of the text that is never closed (outside quotes and comments).
fn unclosed_bracket(text: &str) -> Option<usize> {
    let mut open: Vec<usize> = Vec::new();
    for (start, line) in text.split_inclusive('\n').scan(0, |offset, line| {
        let start = *offset;
        *offset += line.len();
        Some((start, line))
    }) {
        let mut quote: Option<u8> = None;
        for (i, c) in line.bytes().enumerate() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, b'"' | b'\'') => quote = Some(c),
                (None, b'#') if i == 0 || line.as_bytes()[i - 1] == b' ' => break,
                (None, b'[' | b'{') => open.push(start + i),
                (None, b']' | b'}') => {
                    open.pop();
                }
                _ => {}
            }
        }
    }
    open.pop()
}

/// The position of a quote in `line` that opens a value and is not closed in the line.
fn open_quote_in_line(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'#' && (i == 0 || bytes[i - 1] == b' ') {
            return None;
        }
        let starts_value = i == 0
            || matches!(bytes[i - 1], b' ' | b'[' | b'{' | b',' | b'-' | b':')
                && line[..i]
                    .trim_end()
                    .chars()
                    .last()
                    .is_none_or(|p| matches!(p, ':' | '-' | '[' | '{' | ','));
        if (c == b'"' || c == b'\'') && starts_value {
            let quote = c;
            let mut j = i + 1;
            let mut closed = false;
            while j < bytes.len() {
                if quote == b'"' && bytes[j] == b'\\' {
                    j += 2;
                    continue;
                }
                if bytes[j] == quote {
                    if quote == b'\'' && bytes.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    closed = true;
                    break;
                }
                j += 1;
            }
            if !closed {
                return Some(i);
            }
            i = j + 1;
            continue;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let document = parse(text).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(document.errors.is_empty(), "{:?}", document.errors);
        document.root.unwrap()
    }

    fn entries(node: &Node) -> &[Entry] {
        match &node.value {
            Value::Mapping(entries) => entries,
            other => panic!("{other:?}"),
        }
    }

    fn scalar(node: &Node) -> (&str, bool) {
        match &node.value {
            Value::Scalar { text, quoted } => (text, *quoted),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keeps_byte_spans_and_quoting() {
        let text = "name: démo\nasn: \"64500\"\nlist: [a, 'b']\n";
        let root = root(text);
        let entries = entries(&root);
        assert_eq!(entries[0].key, "name");
        let at = entries[0].value.span;
        assert_eq!(&text[at.offset()..at.offset() + at.len()], "démo");
        assert_eq!(scalar(&entries[1].value), ("64500", true));
        let Value::Sequence(items) = &entries[2].value.value else {
            panic!()
        };
        assert_eq!(scalar(&items[0]), ("a", false));
        assert_eq!(scalar(&items[1]), ("b", true));
    }

    #[test]
    fn expands_aliases_and_merge_keys() {
        let text = "base: &b { kind: frr, asn: 1 }\nr: { <<: *b, asn: 2 }\nc: *b\n";
        let root = root(text);
        let r = entries(&entries(&root)[1].value);
        let pairs: Vec<_> = r
            .iter()
            .map(|e| (e.key.as_str(), scalar(&e.value).0))
            .collect();
        assert_eq!(pairs, [("asn", "2"), ("kind", "frr")]);
        assert_eq!(entries(&entries(&root)[2].value).len(), 2);
    }

    #[test]
    fn reports_duplicate_keys_and_keeps_the_first() {
        let document = parse("a: 1\nb: 2\na: 3\n").unwrap();
        assert_eq!(document.errors.len(), 1);
        assert_eq!(document.errors[0].path, "a");
        assert!(
            document.errors[0]
                .help
                .as_deref()
                .unwrap()
                .contains("line 1")
        );
        let root = document.root.unwrap();
        assert_eq!(scalar(&entries(&root)[0].value).0, "1");
        assert_eq!(entries(&root).len(), 2);
    }

    #[test]
    fn an_empty_file_has_no_root() {
        assert!(parse("").unwrap().root.is_none());
        assert!(parse("# only a comment\n").unwrap().root.is_none());
    }

    #[test]
    fn a_second_document_is_an_error() {
        let error = parse("name: a\n---\nname: b\n").err().unwrap();
        assert!(error.message.contains("second"), "{error:?}");
    }

    #[test]
    fn syntax_errors_point_at_the_cause() {
        let text = "name: lab\nrouters:\n  r1:\n    kind: \"frr\n    asn: 1\n";
        let error = parse(text).err().unwrap();
        assert_eq!(error.message, "this \" is never closed");
        assert_eq!(error.span.unwrap().offset(), text.find('"').unwrap());

        let text = "name: lab\nrouters:\n  r1:\n\tkind: frr\n";
        let error = parse(text).err().unwrap();
        assert!(error.message.contains("tab"), "{error:?}");
        assert_eq!(error.span.unwrap().offset(), text.find('\t').unwrap());

        let error = parse("name: x\nnetworks: { a: [\n").err().unwrap();
        assert!(error.message.contains("never closed"), "{error:?}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..7 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            text.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let error = parse(&text).err().unwrap();
        assert!(error.message.contains("million"), "{error:?}");
    }
}
