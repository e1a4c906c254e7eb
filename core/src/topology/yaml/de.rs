//! serde over the node tree, in a way that can be resumed past a bad value.
//!
//! A derived `Deserialize` stops at the first error, and its visitors cannot be asked
//! twice. So reading is repeated: each pass stops at one error, which is recorded with
//! its place; the next pass reads that place as a stand-in of the right type (or, for an
//! unknown key, as if it were not written) and goes further. See [`super::read`].

use super::tree::{Node, Value};
use crate::topology::diagnostics::did_you_mean;
use crate::topology::source::{child_path, item_path};
use miette::SourceSpan;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::collections::HashMap;
use std::fmt;

/// How a place in the file is read on the next passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Override {
    /// An unknown key: read as if it were not written.
    Skip,
    /// A bad or missing value: read as a stand-in value of whatever type is asked for.
    /// `attempt` picks the next stand-in when one does not fit; `written` is what the
    /// user wrote, so that an enum stands in as the variant closest to it.
    StandIn {
        attempt: u8,
        written: Option<String>,
    },
}

/// The places read differently from what is written, by field path.
#[derive(Debug, Default)]
pub(super) struct Overrides {
    pub by_path: HashMap<String, Override>,
    /// Mapping path → required fields missing there, read as stand-ins.
    pub missing: HashMap<String, Vec<&'static str>>,
    /// Paths not read differently whose rules should still stay quiet (the key a
    /// misspelled key meant).
    pub also_covered: Vec<String>,
}

impl Overrides {
    /// Every path whose later errors may come from a stand-in or a skipped key.
    pub fn replaced(self) -> Vec<String> {
        let mut paths: Vec<String> = self.by_path.into_keys().collect();
        paths.extend(self.also_covered);
        paths
    }

    fn get(&self, path: &str) -> Option<&Override> {
        self.by_path.get(path)
    }
}

/// Where an error happened.
#[derive(Debug, Clone)]
pub(super) struct Place {
    pub path: String,
    /// The node's span; the key's span for an unknown key.
    pub span: SourceSpan,
    /// The scalar as written (None for lists, mappings and stand-ins).
    pub written: Option<String>,
    pub quoted: bool,
    /// What the node looked like, for messages ("a list", "`abc`", "nothing").
    pub found: String,
    /// What the reader wanted, in serde's words ("IP address", "IPv4 address").
    pub expecting: Option<String>,
    /// The node was a stand-in: its error is not the user's.
    pub stand_in: bool,
    /// The error is about the key, not the value.
    pub on_key: bool,
}

/// What went wrong.
#[derive(Debug, Clone)]
pub(super) enum Problem {
    UnknownKey {
        key: String,
        expected: &'static [&'static str],
    },
    Missing(&'static str),
    UnknownValue {
        value: String,
        expected: &'static [&'static str],
    },
    /// The node is not of the shape asked for.
    Shape(Shape),
    /// A visitor refused the value (serde's message).
    Refused(String),
    /// No stand-in fits this place.
    NoStandIn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shape {
    Integer {
        min: i128,
        max: i128,
    },
    Float,
    Bool,
    List,
    Mapping,
    /// A scalar value (text, an address…) was expected.
    Scalar,
}

#[derive(Debug, Clone)]
pub(super) struct DeError {
    pub problem: Problem,
    /// Boxed: errors travel through every reader on the way up.
    pub place: Option<Box<Place>>,
}

impl DeError {
    fn new(problem: Problem) -> DeError {
        DeError {
            problem,
            place: None,
        }
    }

    /// Sets the place unless an inner reader already did.
    fn at(mut self, place: impl FnOnce() -> Place) -> DeError {
        if self.place.is_none() {
            self.place = Some(Box::new(place()));
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.problem)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> DeError {
        DeError::new(Problem::Refused(message.to_string()))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> DeError {
        DeError::new(Problem::UnknownValue {
            value: variant.to_string(),
            expected,
        })
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> DeError {
        DeError::new(Problem::UnknownKey {
            key: field.to_string(),
            expected,
        })
    }

    fn missing_field(field: &'static str) -> DeError {
        DeError::new(Problem::Missing(field))
    }
}

/// Reads one node (or a stand-in for it).
pub(super) struct NodeReader<'a> {
    node: Option<&'a Node>,
    /// Set when the place is read as a stand-in.
    stand_in: Option<(u8, Option<&'a str>)>,
    path: String,
    span: SourceSpan,
    overrides: &'a Overrides,
}

impl<'a> NodeReader<'a> {
    pub fn root(node: &'a Node, overrides: &'a Overrides) -> NodeReader<'a> {
        NodeReader::at(Some(node), String::new(), node.span, overrides)
    }

    fn at(
        node: Option<&'a Node>,
        path: String,
        span: SourceSpan,
        overrides: &'a Overrides,
    ) -> NodeReader<'a> {
        let stand_in = match overrides.get(&path) {
            Some(Override::StandIn { attempt, written }) => Some((*attempt, written.as_deref())),
            _ if node.is_none() => Some((0, None)),
            _ => None,
        };
        NodeReader {
            node,
            stand_in,
            path,
            span,
            overrides,
        }
    }

    fn place(&self) -> Place {
        let (written, quoted) = match self.node.map(|n| &n.value) {
            Some(Value::Scalar { text, quoted }) => (Some(text.clone()), *quoted),
            _ => (None, false),
        };
        Place {
            path: self.path.clone(),
            span: self.span,
            written,
            quoted,
            found: self.node.map(Node::describe).unwrap_or_default(),
            expecting: None,
            stand_in: self.stand_in.is_some(),
            on_key: false,
        }
    }

    fn place_expecting(&self, expecting: String) -> impl FnOnce() -> Place + '_ {
        move || Place {
            expecting: Some(expecting),
            ..self.place()
        }
    }

    fn fail<T>(&self, problem: Problem) -> Result<T, DeError> {
        Err(DeError::new(problem).at(|| self.place()))
    }

    /// The scalar's text, and whether it was quoted; None for anything else.
    fn scalar(&self) -> Option<(&'a str, bool)> {
        match self.node.map(|n| &n.value) {
            Some(Value::Scalar { text, quoted }) => Some((text.as_str(), *quoted)),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        self.node.is_some_and(Node::is_null)
    }

    fn integer<'de, V: Visitor<'de>>(
        self,
        visitor: V,
        min: i128,
        max: i128,
    ) -> Result<V::Value, DeError> {
        if self.stand_in.is_some() {
            return visit_integer(visitor, min.max(0)).map_err(|e: DeError| e.at(|| self.place()));
        }
        match self.scalar() {
            Some((text, false)) => match parse_integer(text) {
                Some(n) if (min..=max).contains(&n) => {
                    visit_integer(visitor, n).map_err(|e: DeError| e.at(|| self.place()))
                }
                _ => self.fail(Problem::Shape(Shape::Integer { min, max })),
            },
            _ => self.fail(Problem::Shape(Shape::Integer { min, max })),
        }
    }

    fn float<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.stand_in.is_some() {
            return visitor.visit_f64(0.0);
        }
        match self
            .scalar()
            .and_then(|(t, quoted)| (!quoted).then(|| t.parse::<f64>().ok()).flatten())
        {
            Some(value) => visitor
                .visit_f64(value)
                .map_err(|e: DeError| e.at(|| self.place())),
            None => self.fail(Problem::Shape(Shape::Float)),
        }
    }

    fn mapping<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let entries = match self.node.map(|n| &n.value) {
            _ if self.stand_in.is_some() || self.is_null() => &[][..],
            Some(Value::Mapping(entries)) => entries.as_slice(),
            _ => return self.fail(Problem::Shape(Shape::Mapping)),
        };
        let reader = MapReader {
            entries,
            index: 0,
            missing: self
                .overrides
                .missing
                .get(&self.path)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            missing_index: 0,
            path: &self.path,
            span: self.span,
            overrides: self.overrides,
            pending: None,
        };
        visitor
            .visit_map(reader)
            .map_err(|e: DeError| e.at(|| self.place()))
    }
}

/// The value of a plain integer: decimal, `0x` hex or `0o` octal, with an optional sign.
pub(super) fn parse_integer(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(octal) = digits.strip_prefix("0o") {
        i128::from_str_radix(octal, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn visit_integer<'de, V: Visitor<'de>>(visitor: V, n: i128) -> Result<V::Value, DeError> {
    if n >= 0 {
        visitor.visit_u64(n as u64)
    } else {
        visitor.visit_i64(n as i64)
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// What a visitor expects, in its own words.
fn expecting_of<'de, V: Visitor<'de>>(visitor: &V) -> String {
    struct Expecting<'v, V>(&'v V);
    impl<'de, V: Visitor<'de>> fmt::Display for Expecting<'_, V> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.expecting(f)
        }
    }
    Expecting(visitor).to_string()
}

/// Stand-in texts, tried in turn until one is accepted: empty text suits names, the
/// others suit addresses and subnets.
const TEXT_STAND_INS: &[&str] = &["", "0.0.0.0", "0.0.0.0/0", "0"];

macro_rules! integers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.integer(visitor, <$ty>::MIN as i128, <$ty>::MAX as i128)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeReader<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Some((attempt, _)) = self.stand_in {
            return match attempt {
                0 => visitor.visit_str(""),
                1 => visitor.visit_bool(false),
                2 => visitor.visit_u64(0),
                3 => visitor.visit_unit(),
                _ => Err(DeError::new(Problem::NoStandIn)),
            }
            .map_err(|e: DeError| e.at(|| self.place()));
        }
        let expecting = expecting_of(&visitor);
        let result = match self.node.map(|n| &n.value) {
            Some(Value::Sequence(_)) => return self.deserialize_seq(visitor),
            Some(Value::Mapping(_)) => return self.mapping(visitor),
            _ if self.is_null() => visitor.visit_unit(),
            Some(Value::Scalar { text, quoted: true }) => visitor.visit_str(text),
            Some(Value::Scalar {
                text,
                quoted: false,
            }) => {
                if let Some(b) = parse_bool(text) {
                    visitor.visit_bool(b)
                } else if let Some(n) = parse_integer(text)
                    .filter(|n| i64::try_from(*n).is_ok() || u64::try_from(*n).is_ok())
                {
                    visit_integer(visitor, n)
                } else if let Some(f) = text.parse::<f64>().ok().filter(|_| {
                    text.contains('.')
                        && !text.contains(['/', ':'])
                        && text.matches('.').count() == 1
                }) {
                    visitor.visit_f64(f)
                } else {
                    visitor.visit_str(text)
                }
            }
            None => visitor.visit_unit(),
        };
        result.map_err(|e: DeError| e.at(self.place_expecting(expecting)))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.stand_in.is_some() {
            return visitor.visit_bool(false);
        }
        match self.scalar() {
            Some((text, false)) => match parse_bool(text) {
                Some(b) => visitor
                    .visit_bool(b)
                    .map_err(|e: DeError| e.at(|| self.place())),
                None => self.fail(Problem::Shape(Shape::Bool)),
            },
            _ => self.fail(Problem::Shape(Shape::Bool)),
        }
    }

    integers!(
        deserialize_i8: i8, deserialize_i16: i16, deserialize_i32: i32, deserialize_i64: i64,
        deserialize_u8: u8, deserialize_u16: u16, deserialize_u32: u32, deserialize_u64: u64
    );

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.integer(visitor, i64::MIN as i128, u64::MAX as i128)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.integer(visitor, 0, u64::MAX as i128)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.float(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.float(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Some((attempt, _)) = self.stand_in {
            return match TEXT_STAND_INS.get(usize::from(attempt)) {
                Some(text) => visitor.visit_str(text),
                None => Err(DeError::new(Problem::NoStandIn)),
            }
            .map_err(|e: DeError| e.at(|| self.place()));
        }
        let expecting = expecting_of(&visitor);
        match self.scalar() {
            Some(_) if self.is_null() => {
                Err(DeError::new(Problem::Shape(Shape::Scalar)).at(self.place_expecting(expecting)))
            }
            Some((text, _)) => visitor
                .visit_str(text)
                .map_err(|e: DeError| e.at(self.place_expecting(expecting))),
            None => {
                Err(DeError::new(Problem::Shape(Shape::Scalar)).at(self.place_expecting(expecting)))
            }
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.stand_in.is_some() || self.is_null() {
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.stand_in.is_some() || self.is_null() {
            return visitor.visit_unit();
        }
        self.fail(Problem::Shape(Shape::Scalar))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items = match self.node.map(|n| &n.value) {
            _ if self.stand_in.is_some() || self.is_null() => &[][..],
            Some(Value::Sequence(items)) => items.as_slice(),
            _ => return self.fail(Problem::Shape(Shape::List)),
        };
        let reader = SeqReader {
            items,
            index: 0,
            path: &self.path,
            overrides: self.overrides,
        };
        visitor
            .visit_seq(reader)
            .map_err(|e: DeError| e.at(|| self.place()))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.mapping(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.mapping(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if let Some((attempt, written)) = self.stand_in {
            let closest = written.and_then(|w| did_you_mean(w, variants.iter().copied()));
            let choice = match (attempt, closest) {
                (0, Some(closest)) => Some(closest),
                (n, _) => variants.get(usize::from(n)).copied(),
            };
            return match choice {
                Some(variant) => visitor.visit_enum(variant.into_deserializer()),
                None => Err(DeError::new(Problem::NoStandIn)),
            }
            .map_err(|e: DeError| e.at(|| self.place()));
        }
        match self.scalar() {
            Some((text, _)) if !self.is_null() => visitor
                .visit_enum(text.into_deserializer())
                .map_err(|e: DeError| e.at(|| self.place())),
            _ => self.fail(Problem::UnknownValue {
                value: self.node.map(Node::describe).unwrap_or_default(),
                expected: variants,
            }),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct SeqReader<'a> {
    items: &'a [Node],
    index: usize,
    path: &'a str,
    overrides: &'a Overrides,
}

impl<'de> de::SeqAccess<'de> for SeqReader<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.get(self.index) else {
            return Ok(None);
        };
        let path = item_path(self.path, self.index);
        self.index += 1;
        let reader = NodeReader::at(Some(item), path, item.span, self.overrides);
        let place = reader.place();
        seed.deserialize(reader)
            .map(Some)
            .map_err(|e: DeError| e.at(|| place))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.index)
    }
}

struct MapReader<'a> {
    entries: &'a [super::tree::Entry],
    index: usize,
    /// Required fields the mapping lacks, read as stand-ins after its entries.
    missing: &'a [&'static str],
    missing_index: usize,
    path: &'a str,
    span: SourceSpan,
    overrides: &'a Overrides,
    /// The value whose key was just read: the node (None for a stand-in) and its path.
    pending: Option<(Option<&'a Node>, String)>,
}

impl<'de> de::MapAccess<'de> for MapReader<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        while let Some(entry) = self.entries.get(self.index) {
            self.index += 1;
            let path = child_path(self.path, &entry.key);
            if self.overrides.get(&path) == Some(&Override::Skip) {
                continue;
            }
            let key = seed
                .deserialize(entry.key.as_str().into_deserializer())
                .map_err(|e: DeError| {
                    e.at(|| Place {
                        path: path.clone(),
                        span: entry.key_span,
                        written: Some(entry.key.clone()),
                        quoted: false,
                        found: format!("`{}`", entry.key),
                        expecting: None,
                        stand_in: false,
                        on_key: true,
                    })
                })?;
            self.pending = Some((Some(&entry.value), path));
            return Ok(Some(key));
        }
        while let Some(field) = self.missing.get(self.missing_index) {
            self.missing_index += 1;
            if self.entries.iter().any(|e| e.key == *field) {
                continue;
            }
            let key = seed.deserialize((*field).into_deserializer())?;
            self.pending = Some((None, child_path(self.path, field)));
            return Ok(Some(key));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (node, path) = self
            .pending
            .take()
            .expect("serde asks for a value only after its key");
        let span = node.map_or(self.span, |n| n.span);
        let reader = NodeReader::at(node, path, span, self.overrides);
        let place = reader.place();
        seed.deserialize(reader)
            .map_err(|e: DeError| e.at(|| place))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_yaml_core() {
        assert_eq!(parse_integer("64500"), Some(64500));
        assert_eq!(parse_integer("-3"), Some(-3));
        assert_eq!(parse_integer("0x10"), Some(16));
        assert_eq!(parse_integer("0o17"), Some(15));
        assert_eq!(parse_integer("sixty"), None);
        assert_eq!(parse_integer("1_000"), None);
        assert_eq!(parse_integer(""), None);
    }
}
