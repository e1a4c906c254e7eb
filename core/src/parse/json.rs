//! A JSON value borrowed from the text it was read from, for the route-table parsers.
//!
//! A 100k-route table is 40-70 MB of JSON: read whole into `serde_json::Value` (a
//! `BTreeMap` and an owned `String` per object and key) it took 750-900 MB and about a
//! second. The route parsers instead read one route at a time into a [`Json`] (objects are
//! one `Vec` of members, strings borrowed unless escaped), turn it into a `Route` and drop
//! it; what they do not look at is checked and skipped with [`Skip`], without allocating.
//!
//! Both read exactly what `Value` reads (every value through `deserialize_any`, keys through
//! `deserialize_str`), so the same texts are accepted and the same syntax errors reported,
//! and [`Json::get`] answers like `Value::get`: the last of repeated keys wins.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Members in document order, repeated keys included.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// The member `key` of an object (the last one when repeated), as `Value::get(key)`.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Element `index` of an array, as `Value::get(index)`.
    pub fn get_index(&self, index: usize) -> Option<&Json<'a>> {
        match self {
            Json::Array(items) => items.get(index),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The same value as a `serde_json::Value` (for messages: its `Display` is Value's).
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.to_string()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_value().fmt(f)
    }
}

/// An object key, borrowed from the text unless it has escapes.
pub struct Key<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor<'a>(PhantomData<Key<'a>>);
        impl<'de: 'a, 'a> Visitor<'de> for KeyVisitor<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor(PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor(PhantomData))
    }
}

struct JsonVisitor<'a>(PhantomData<Json<'a>>);

impl<'de: 'a, 'a> Visitor<'de> for JsonVisitor<'a> {
    type Value = Json<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'a>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'a>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'a>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json<'a>, E> {
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'a>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'a>, E> {
        Ok(Json::String(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'a>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }

    fn visit_none<E>(self) -> Result<Json<'a>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'a>, D::Error> {
        Json::deserialize(d)
    }

    fn visit_unit<E>(self) -> Result<Json<'a>, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'a>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'a>, A::Error> {
        let mut members = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

/// Any JSON value, checked as `Value` would read it and thrown away.
pub struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SkipVisitor)
    }
}

/// A key, checked as `Value` would read it and thrown away.
struct SkipKey;

impl<'de> Deserialize<'de> for SkipKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_str(SkipVisitor)
            .map(|Skip| SkipKey)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_none<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Skip, D::Error> {
        Skip::deserialize(d)
    }

    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<SkipKey, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// Reads the rest of an array, checked as `Value` would read it, and throws it away.
pub fn skip_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<(), A::Error> {
    SkipVisitor.visit_seq(seq).map(|_| ())
}

/// Reads an object member by member: each value is read as `T` and handed with its key to
/// the closure before the next is read, so only what the closure keeps stays in memory.
/// The answer is whether the value was an object.
pub struct EachMember<T, F> {
    /// Anything else is read and skipped (`false`) instead of being an error.
    lenient: bool,
    member: F,
    value: PhantomData<fn() -> T>,
}

impl<T, F> EachMember<T, F> {
    /// An object is required: anything else is the error a `BTreeMap` would give
    /// (`invalid type: …, expected a map`).
    pub fn of_object(member: F) -> Self {
        EachMember {
            lenient: false,
            member,
            value: PhantomData,
        }
    }

    /// Any value; only an object's members reach the closure.
    pub fn of_any(member: F) -> Self {
        EachMember {
            lenient: true,
            member,
            value: PhantomData,
        }
    }
}

impl<'de, T, F> DeserializeSeed<'de> for EachMember<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(Cow<'de, str>, T),
{
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        if self.lenient {
            deserializer.deserialize_any(self)
        } else {
            deserializer.deserialize_map(self)
        }
    }
}

impl<'de, T, F> Visitor<'de> for EachMember<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(Cow<'de, str>, T),
{
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<bool, A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            let value: T = map.next_value()?;
            (self.member)(key, value);
        }
        Ok(true)
    }

    // Reached only when lenient (`deserialize_map` rejects the rest itself).
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        skip_seq(seq).map(|_| false)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_none<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        Skip::deserialize(d).map(|_| false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// The last member `key` of the object `text`, as `serde_json::from_str::<Value>(text)` and
/// `.get(key)` would find it; None when `text` is not a JSON object (or not JSON) or has no
/// such member. Nothing else of the text is kept.
pub fn top_level_member<'a>(text: &'a str, key: &str) -> Option<Json<'a>> {
    struct Probe<'k, 'a>(&'k str, PhantomData<Json<'a>>);
    impl<'de: 'a, 'a> DeserializeSeed<'de> for Probe<'_, 'a> {
        type Value = Option<Json<'a>>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de: 'a, 'a> Visitor<'de> for Probe<'_, 'a> {
        type Value = Option<Json<'a>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any valid JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(Key(k)) = map.next_key()? {
                if k == self.0 {
                    found = Some(map.next_value()?);
                } else {
                    map.next_value::<Skip>()?;
                }
            }
            Ok(found)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            skip_seq(seq).map(|_| None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    from_str_seed(text, Probe(key, PhantomData)).ok().flatten()
}

/// Reads `text` as one JSON document with `seed`, as `serde_json::from_str` does (trailing
/// characters other than whitespace are an error).
pub fn from_str_seed<'de, S: DeserializeSeed<'de>>(
    text: &'de str,
    seed: S,
) -> Result<S::Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = seed.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts `Value` accepts and rejects, including the corners where skipping could differ
    /// from reading (numbers out of range, bad escapes, depth, trailing text).
    const TEXTS: &[&str] = &[
        r#"{"a": [1, -2, 3.5, "x\n", "\u00e9", true, null, {}], "a": {"b": []}, "c\/d": 0}"#,
        r#"[{"x": 18446744073709551615}, -9223372036854775808, 1e300, 0.1]"#,
        r#""just a string""#,
        "  7  ",
        r#"{"a": 1e999}"#,
        r#"{"a": "\ud800"}"#,
        r#"{"\ud800": 1}"#,
        "{\"a\": \"\u{1}\"}",
        r#"{"a": 1} x"#,
        r#"{"a": [}"#,
        r#"{"a" 1}"#,
        "",
    ];

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn reads_and_skips_exactly_what_value_reads() {
        let deep: Vec<String> = [127, 128, 129, 300].into_iter().map(nested).collect();
        for text in TEXTS.iter().copied().chain(deep.iter().map(String::as_str)) {
            let value = serde_json::from_str::<Value>(text);
            let json = serde_json::from_str::<Json>(text);
            let skip = serde_json::from_str::<Skip>(text);
            match &value {
                Ok(v) => {
                    assert_eq!(&json.unwrap().to_value(), v, "{text}");
                    assert!(skip.is_ok(), "{text}");
                }
                Err(e) => {
                    assert_eq!(json.unwrap_err().to_string(), e.to_string(), "{text}");
                    assert_eq!(skip.err().unwrap().to_string(), e.to_string(), "{text}");
                }
            }
        }
    }

    #[test]
    fn get_answers_like_value_get() {
        let text = r#"{"a": 1, "b": [true, "s"], "a": {"c": null}}"#;
        let json: Json = serde_json::from_str(text).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(json.get("a").map(Json::to_value), value.get("a").cloned());
        assert_eq!(json.get("z"), None);
        let b = json.get("b").unwrap();
        assert_eq!(b.get_index(1).and_then(Json::as_str), Some("s"));
        assert_eq!(b.get("0"), None);
        assert_eq!(json.get("b").unwrap().to_string(), value["b"].to_string());
        // Keys without escapes are borrowed from the text.
        let Json::Object(members) = &json else {
            panic!("{json:?}")
        };
        assert!(matches!(members[0].0, Cow::Borrowed("a")));
    }

    #[test]
    fn each_member_hands_over_members_in_document_order() {
        let mut seen = Vec::new();
        let is_object = from_str_seed(
            r#"{"b": 1, "a": [2], "b": 3}"#,
            EachMember::of_object(|k: Cow<str>, v: Json| seen.push((k.to_string(), v.to_value()))),
        )
        .unwrap();
        assert!(is_object);
        assert_eq!(
            seen,
            vec![
                ("b".to_string(), Value::from(1)),
                ("a".to_string(), Value::from(vec![2])),
                ("b".to_string(), Value::from(3)),
            ]
        );
        let lenient = from_str_seed("[1, {}]", EachMember::of_any(|_: Cow<str>, _: Skip| {}));
        assert!(!lenient.unwrap());
        // Strict: the error of a map read from a list.
        let strict = from_str_seed("[]", EachMember::of_object(|_: Cow<str>, _: Skip| {}));
        let map = serde_json::from_str::<std::collections::BTreeMap<String, Value>>("[]");
        assert_eq!(
            strict.unwrap_err().to_string(),
            map.unwrap_err().to_string()
        );
    }

    #[test]
    fn top_level_member_is_the_last_of_an_object() {
        let text = r#"{"error": 1, "rest": [1, 2], "error": "boom"}"#;
        assert_eq!(
            top_level_member(text, "error")
                .as_ref()
                .and_then(Json::as_str),
            Some("boom")
        );
        assert_eq!(top_level_member(r#"[{"error": "x"}]"#, "error"), None);
        assert_eq!(
            top_level_member(r#"{"error": "x"} trailing"#, "error"),
            None
        );
        assert_eq!(top_level_member(r#"{"other": 1}"#, "error"), None);
    }
}
