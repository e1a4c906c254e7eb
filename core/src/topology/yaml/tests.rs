//! The reader on a small model of its own: every error of a file in one read.

use super::*;
use serde::Deserialize;
use std::net::IpAddr;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Lab {
    name: String,
    #[serde(default)]
    hosts: Vec<Host>,
    #[serde(default)]
    internal: Option<bool>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Host {
    kind: Kind,
    #[serde(default)]
    asn: Option<u32>,
    #[serde(default)]
    ip: Option<IpAddr>,
    #[serde(default)]
    announce: Vec<ipnet::IpNet>,
}

#[derive(Debug, Deserialize, PartialEq, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Frr,
    Bird,
}

fn read_lab(text: &str) -> Read<Lab> {
    read(text, || FieldError::new("", "empty"))
}

fn messages(read: &Read<Lab>) -> Vec<(String, String)> {
    read.errors
        .iter()
        .map(|e| (e.path.clone(), e.message.clone()))
        .collect()
}

#[test]
fn a_valid_file_reads_without_errors() {
    let read = read_lab(
        "name: x\nhosts:\n  - { kind: frr, asn: 1, ip: 10.0.0.1, announce: [192.0.2.0/24] }\n",
    );
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert!(read.replaced.is_empty());
    let lab = read.value.unwrap();
    assert_eq!(lab.hosts[0].kind, Kind::Frr);
    assert_eq!(lab.hosts[0].asn, Some(1));
}

#[test]
fn every_bad_value_is_reported_in_one_read() {
    let text = "\
name: x
internal: maybe
hosts:
  - kind: fr
    asn: sixty
    colour: blue
  - { kind: bird, ip: 300.1.1.1, announce: [192.0.2.0/24, 10.0.0.0/33] }
";
    let read = read_lab(text);
    assert_eq!(
        messages(&read),
        [
            ("internal".into(), "`maybe` is not `true` or `false`".into()),
            ("hosts[0].kind".into(), "`fr` is not a valid kind".into()),
            (
                "hosts[0].asn".into(),
                "`sixty` is not a whole number in 0–4294967295".into()
            ),
            ("hosts[0].colour".into(), "unknown key `colour`".into()),
            (
                "hosts[1].ip".into(),
                "`300.1.1.1` is not an address: 300 is not an octet (0–255)".into()
            ),
            (
                "hosts[1].announce[1]".into(),
                "`10.0.0.0/33` is not a subnet: the prefix length 33 is over 32".into()
            ),
        ]
    );
    // The model is still there, with stand-ins, and the list keeps its indices.
    let lab = read.value.as_ref().unwrap();
    assert_eq!(lab.hosts.len(), 2);
    assert_eq!(lab.hosts[0].kind, Kind::Frr, "the closest kind stands in");
    assert_eq!(lab.hosts[1].announce.len(), 2);
    assert!(read.covers("hosts[1].announce[1]"));
    assert!(read.covers("hosts[0]"), "an object with a stand-in field");
    assert!(
        read.covers("hosts[1].kind"),
        "a sibling: the object's rules saw a stand-in"
    );
    assert!(!read.covers("name"));
}

#[test]
fn errors_point_at_the_value_as_written() {
    let text = "name: x\nhosts:\n  - kind: frr\n    asn: sixty\n";
    let read = read_lab(text);
    let span = read.errors[0].span.unwrap();
    assert_eq!(&text[span.offset()..span.offset() + span.len()], "sixty");
}

#[test]
fn a_missing_required_field_is_reported_once_and_reading_goes_on() {
    let read = read_lab("name: x\nhosts:\n  - { asn: 1 }\n  - { kind: frr, asn: -1 }\n");
    assert_eq!(
        messages(&read),
        [
            ("hosts[0].kind".into(), "`kind` is missing".into()),
            (
                "hosts[1].asn".into(),
                "`-1` is too small: `asn` is at least 0".into()
            ),
        ]
    );
    assert!(read.value.is_some());
}

#[test]
fn a_bad_required_value_is_not_also_reported_missing() {
    let read = read_lab("name: [a]\nhosts: [{ kind: 7 }]\n");
    assert_eq!(read.errors.len(), 2, "{:?}", read.errors);
    assert_eq!(read.errors[0].path, "name");
    assert_eq!(read.errors[1].path, "hosts[0].kind");
}

#[test]
fn wrong_shapes_are_named() {
    let read = read_lab("name: x\nhosts: { a: 1 }\n");
    assert_eq!(
        messages(&read),
        [("hosts".into(), "`hosts` is a list; found a mapping".into())]
    );
    let read = read_lab("name: x\nhosts: [7]\n");
    assert_eq!(
        messages(&read),
        [("hosts[0]".into(), "`hosts` is a mapping; found `7`".into())]
    );
}

#[test]
fn quoted_numbers_are_text() {
    let read = read_lab("name: x\nhosts: [{ kind: frr, asn: \"64500\" }]\n");
    assert_eq!(read.errors.len(), 1);
    assert_eq!(
        read.errors[0].help.as_deref(),
        Some("write the number without quotes: 64500")
    );
}

#[test]
fn a_root_that_is_not_a_mapping_is_one_error() {
    let read = read_lab("- a\n- b\n");
    assert!(read.value.is_none());
    assert_eq!(read.errors.len(), 1);
    let read = read_lab("");
    assert_eq!(messages(&read), [("".into(), "empty".into())]);
}

#[test]
fn yaml_1_1_booleans_are_refused() {
    let read = read_lab("name: x\ninternal: yes\n");
    assert_eq!(read.errors[0].path, "internal");
}

#[test]
fn null_reads_as_absent() {
    let read = read_lab("name: x\nhosts:\ninternal: ~\n");
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.value.unwrap().hosts, []);
}

#[test]
fn reading_stops_after_a_hundred_errors() {
    let mut text = String::from("name: x\nhosts:\n");
    for _ in 0..150 {
        text.push_str("  - { kind: nope }\n");
    }
    let read = read_lab(&text);
    assert_eq!(read.errors.len(), MAX_ERRORS + 1);
    assert_eq!(
        read.errors[MAX_ERRORS].message,
        "reading stopped after 100 errors"
    );
    assert!(
        read.value.is_none(),
        "not validated: the model is incomplete"
    );
}
