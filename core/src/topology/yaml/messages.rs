//! What a reading error means, said in the terms of the topology file: the key, the
//! value as written, what belongs there, and how to fix it.

use super::de::{Place, Problem, Shape, parse_integer};
use super::tree::shorten;
use crate::topology::diagnostics::{FieldError, did_you_mean};
use crate::topology::source::child_path;
use std::net::IpAddr;

/// The field a path ends in: `routers.frr1.asn` → `asn`, `announce[2]` → `announce`.
fn field_of(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

pub(super) const ASN_HELP: &str =
    "an ASN is 1–4294967295; private ones are 64512–65534 and 4200000000–4294967294";

pub(super) fn unknown_key(place: &Place, key: &str, expected: &[&str]) -> FieldError {
    let help = match did_you_mean(key, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if expected.is_empty() => "remove it: this mapping takes no keys".to_string(),
        None => format!("the keys here are: {}", expected.join(", ")),
    };
    FieldError::new(&place.path, format!("unknown key `{}`", shorten(key)))
        .help(help)
        .at(place.span)
}

pub(super) fn missing(mapping: &Place, field: &str) -> FieldError {
    let help = match field {
        "name" => "every topology starts with its lab name, e.g. `name: my-lab`".to_string(),
        "kind" => "a router's kind is one of frr, bird, gobgp, quagga, linux".to_string(),
        "asn" => format!("add `asn:` with MetalLB's own ASN, e.g. `asn: 64500` ({ASN_HELP})"),
        "addresses" => "add the pool's addresses, e.g. `addresses: [203.0.113.0/28]`".to_string(),
        "router" => "add `router:` with the name of the router MetalLB peers with".to_string(),
        "to" if mapping.path.contains(".routes[") => {
            "add the destination, e.g. `to: 198.51.100.0/24`".to_string()
        }
        "to" => "add `to:` with a router name, `nodes` or an address".to_string(),
        "via" => "add the gateway address, e.g. `via: 10.0.0.1`".to_string(),
        _ => format!("add `{field}:`"),
    };
    FieldError::new(
        child_path(&mapping.path, field),
        format!("`{field}` is missing"),
    )
    .help(help)
}

/// A value that could not be read.
pub(super) fn bad_value(place: &Place, problem: &Problem) -> FieldError {
    let field = field_of(&place.path);
    let written = place.written.as_deref().map(shorten);
    let shown = match &written {
        Some(w) if place.quoted => format!("`\"{w}\"`"),
        Some(w) if !w.is_empty() => format!("`{w}`"),
        _ => place.found.clone(),
    };
    let (message, help) = match problem {
        Problem::Shape(Shape::Integer { min, max }) => {
            let range = format!("{min}–{max}");
            let number = written.as_deref().and_then(parse_integer);
            let help = if place.quoted && number.is_some() {
                format!(
                    "write the number without quotes: {}",
                    written.clone().unwrap_or_default()
                )
            } else if field == "asn" {
                ASN_HELP.to_string()
            } else {
                format!("{field} is a whole number in {range}")
            };
            let message = match number {
                Some(_) if place.quoted => format!("{shown} is text in quotes, not a number"),
                Some(n) if n > *max => {
                    format!("{shown} is too large: `{field}` is at most {max}")
                }
                Some(n) if n < *min => {
                    format!("{shown} is too small: `{field}` is at least {min}")
                }
                _ => format!("{shown} is not a whole number in {range}"),
            };
            (message, help)
        }
        Problem::Shape(Shape::Float) => (
            format!("{shown} is not a number"),
            format!("{field} is a number, e.g. 1.5"),
        ),
        Problem::Shape(Shape::Bool) => (
            format!("{shown} is not `true` or `false`"),
            "write `true` or `false` (YAML 1.2 reads yes, no, on and off as text)".to_string(),
        ),
        Problem::Shape(Shape::List) => (
            format!("`{field}` is a list; found {}", place.found),
            "write `[a, b]`, or one `- item` per line under the key".to_string(),
        ),
        Problem::Shape(Shape::Mapping) if place.path.is_empty() => (
            format!(
                "a topology is a mapping of keys such as `name:` and `routers:`; found {}",
                place.found
            ),
            "start the file with `name: my-lab`; `metallab topologies show default` prints a complete one".to_string(),
        ),
        Problem::Shape(Shape::Mapping) => (
            format!("`{field}` is a mapping; found {}", place.found),
            "write `key: value` lines indented under the key, or `{ key: value }`".to_string(),
        ),
        Problem::Shape(Shape::Scalar) => match place.expecting.as_deref() {
            Some(expecting) if is_ip(expecting) => explain_ip(place, expecting),
            _ => (
                format!("`{field}` needs a value; found {}", place.found),
                value_hint(field),
            ),
        },
        Problem::UnknownValue { value, expected } => {
            let help = match did_you_mean(value, expected.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("write one of: {}", expected.join(", ")),
            };
            let value = if value.starts_with('`') || value.starts_with("a ") {
                value.clone()
            } else {
                format!("`{}`", shorten(value))
            };
            // An item of a list (`needs[1]`) is one of the field's entries.
            let message = if place.path.ends_with(']') {
                format!("{value} is not a valid entry of `{field}`")
            } else {
                format!("{value} is not a valid {field}")
            };
            (message, help)
        }
        Problem::Refused(message) => match place.expecting.as_deref() {
            Some(expecting) if is_ip(expecting) => explain_ip(place, expecting),
            _ => refused(field, &shown, message),
        },
        // Never the user's: stand-ins are not reported. Kept total for safety.
        Problem::UnknownKey { .. } | Problem::Missing(_) | Problem::NoStandIn => {
            (format!("{shown} cannot be read here"), value_hint(field))
        }
    };
    let error = FieldError::new(&place.path, message).help(help);
    // Scalars are underlined where they are; containers on their key (from the path).
    if place.written.is_some() && !place.on_key {
        error.at(place.span)
    } else {
        error
    }
}

fn is_ip(expecting: &str) -> bool {
    expecting.starts_with("IP") || expecting.contains(" IP") || expecting.contains("IPv")
}

/// Hints for values refused by a type's own reader (untagged enums and the like).
fn refused(field: &str, shown: &str, message: &str) -> (String, String) {
    let known: &[(&str, &str, &str)] = &[
        (
            "Multihop",
            "a multihop setting",
            "multihop is `true`, `false` or a TTL (1–255)",
        ),
        (
            "BfdSetting",
            "a BFD setting",
            "bfd is `true`, `false` or the name of a BFD profile",
        ),
        (
            "OneOrMany",
            "a name or a list of names",
            "write one name or a list, e.g. `[frr1, nodes]`",
        ),
    ];
    for (type_name, what, help) in known {
        if message.contains(type_name) {
            return (format!("{shown} is not {what}"), help.to_string());
        }
    }
    (format!("{shown} is not a valid {field}"), value_hint(field))
}

fn value_hint(field: &str) -> String {
    match field {
        "name" => "a lab name such as `my-lab`".to_string(),
        _ => format!("write a value for `{field}`"),
    }
}

/// What is wrong with text that should be an address or a subnet.
fn explain_ip(place: &Place, expecting: &str) -> (String, String) {
    let subnet = expecting.contains("network");
    let v4_only = expecting.contains("IPv4") && !expecting.contains("IPv6");
    let v6_only = expecting.contains("IPv6") && !expecting.contains("IPv4");
    let example = match (subnet, v6_only) {
        (true, true) => "2001:db8::/64",
        (true, false) => "10.0.0.0/24",
        (false, true) => "2001:db8::1",
        (false, false) => "10.0.0.5",
    };
    let what = match (subnet, v4_only, v6_only) {
        (true, _, _) => "a subnet",
        (false, true, _) => "an IPv4 address",
        (false, _, true) => "an IPv6 address",
        _ => "an address",
    };
    let Some(written) = place.written.as_deref().filter(|w| !w.trim().is_empty()) else {
        return (
            format!("expected {what} such as {example}; found {}", place.found),
            format!("write {what}, e.g. {example}"),
        );
    };
    let shown = format!("`{}`", shorten(written));
    let not = |reason: String| {
        (
            format!("{shown} is not {what}: {reason}"),
            format!("write {what} such as {example}"),
        )
    };
    let (address, prefix) = match written.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (written, None),
    };
    if !subnet && prefix.is_some() && address.parse::<IpAddr>().is_ok() {
        return (
            format!("{shown} is a subnet; {what} goes here"),
            format!("write the address alone: {address}"),
        );
    }
    if subnet && prefix.is_none() {
        if let Ok(ip) = written.parse::<IpAddr>() {
            let len = if ip.is_ipv4() { 24 } else { 64 };
            return (
                format!("{shown} is an address; a subnet goes here"),
                format!("add the prefix length, e.g. {written}/{len}"),
            );
        }
        if !written.contains(['.', ':']) {
            return (
                format!("expected a subnet such as {example}; found {shown}"),
                format!("write a subnet such as {example}"),
            );
        }
    }
    if let Some(reason) = address_problem(address) {
        return not(reason);
    }
    if let Some(prefix) = prefix {
        let max = if address.contains(':') { 128 } else { 32 };
        return match prefix.parse::<u32>() {
            Ok(len) if len > max => not(format!("the prefix length {len} is over {max}")),
            Ok(_) => not("this prefix length does not fit".to_string()),
            Err(_) => not(format!(
                "the prefix length `{}` is not a number",
                shorten(prefix)
            )),
        };
    }
    let parsed = address.parse::<IpAddr>();
    match parsed {
        Ok(IpAddr::V6(_)) if v4_only => not("this is an IPv6 address".to_string()),
        Ok(IpAddr::V4(_)) if v6_only => not("this is an IPv4 address".to_string()),
        _ => (
            format!("expected {what} such as {example}; found {shown}"),
            format!("write {what} such as {example}"),
        ),
    }
}

/// Why the text is not an IP address, if it is not.
fn address_problem(address: &str) -> Option<String> {
    if address.parse::<IpAddr>().is_ok() {
        return None;
    }
    if address.contains(':') {
        return Some(format!("`{}` is not an IPv6 address", shorten(address)));
    }
    let parts: Vec<&str> = address.split('.').collect();
    if parts.len() == 1 {
        return Some("an address is written as four numbers separated by dots".to_string());
    }
    for part in &parts {
        match part.parse::<u64>() {
            Err(_) if part.is_empty() => {
                return Some("two dots follow each other, or one ends the address".to_string());
            }
            Err(_) => return Some(format!("`{}` is not a number", shorten(part))),
            Ok(n) if n > 255 => return Some(format!("{n} is not an octet (0–255)")),
            Ok(_) if part.len() > 1 && part.starts_with('0') => {
                return Some(format!("`{part}` has a leading zero"));
            }
            Ok(_) => {}
        }
    }
    if parts.len() != 4 {
        return Some(format!(
            "an IPv4 address has four numbers separated by dots; this has {}",
            parts.len()
        ));
    }
    Some("this is not an address".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::SourceSpan;

    fn place(written: &str, expecting: &str) -> Place {
        Place {
            path: "networks.lan.subnet".to_string(),
            span: SourceSpan::from(0..0),
            written: Some(written.to_string()),
            quoted: false,
            found: format!("`{written}`"),
            expecting: Some(expecting.to_string()),
            stand_in: false,
            on_key: false,
        }
    }

    /// What ipnet's reader says it expects.
    const IPNET: &str = "IPv4 or IPv6 network address";

    fn subnet(written: &str) -> String {
        explain_ip(&place(written, IPNET), IPNET).0
    }

    fn address(written: &str) -> String {
        explain_ip(&place(written, "IP address"), "IP address").0
    }

    #[test]
    fn says_what_is_wrong_with_a_subnet() {
        assert_eq!(
            subnet("10.0.0.0/33"),
            "`10.0.0.0/33` is not a subnet: the prefix length 33 is over 32"
        );
        assert_eq!(
            subnet("300.1.1.0/24"),
            "`300.1.1.0/24` is not a subnet: 300 is not an octet (0–255)"
        );
        assert_eq!(
            subnet("10"),
            "expected a subnet such as 10.0.0.0/24; found `10`"
        );
        assert_eq!(
            subnet("10.0.0.0"),
            "`10.0.0.0` is an address; a subnet goes here"
        );
        assert_eq!(
            subnet("10.0.0/24"),
            "`10.0.0/24` is not a subnet: an IPv4 address has four numbers separated by dots; this has 3"
        );
        assert_eq!(
            subnet("10.0.0.0/x"),
            "`10.0.0.0/x` is not a subnet: the prefix length `x` is not a number"
        );
        assert_eq!(
            subnet("2001:db8::/129"),
            "`2001:db8::/129` is not a subnet: the prefix length 129 is over 128"
        );
    }

    #[test]
    fn says_what_is_wrong_with_an_address() {
        assert_eq!(
            address("10.0.0.5/24"),
            "`10.0.0.5/24` is a subnet; an address goes here"
        );
        assert_eq!(
            address("10.0.0.256"),
            "`10.0.0.256` is not an address: 256 is not an octet (0–255)"
        );
        assert_eq!(
            address("ten"),
            "`ten` is not an address: an address is written as four numbers separated by dots"
        );
        assert_eq!(
            explain_ip(&place("2001:db8::1", "IPv4 address"), "IPv4 address").0,
            "`2001:db8::1` is not an IPv4 address: this is an IPv6 address"
        );
    }
}
