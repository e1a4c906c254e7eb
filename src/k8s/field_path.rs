//! Field paths as the API server names them in server-side apply conflicts, and taking
//! such a field out of an object before applying it again (pure).
//!
//! A conflict names each field the way Kubernetes' structured-merge-diff prints a path:
//! `.spec.conversion.webhook.clientConfig.caBundle`, `.webhooks[name="x"].clientConfig`,
//! `.spec.ports[port=80,protocol="TCP"]`, `.finalizers[="x"]`, `.args[2]`. Field names
//! may themselves hold dots (`.metadata.labels.app.kubernetes.io/name`), so a name is
//! matched against the object: the longest key present wins.

use serde_json::{Map, Value};

/// Removes the field `path` names from `object`. False when the object has no such
/// field (nothing changed).
pub fn drop_field(object: &mut Value, path: &str) -> bool {
    let Some(rest) = path.strip_prefix('.') else {
        return false;
    };
    remove_in_map(object, rest)
}

fn remove_in_map(value: &mut Value, path: &str) -> bool {
    let Some(map) = value.as_object_mut() else {
        return false;
    };
    // Candidate names: up to each `.` or `[` where the path could go on, longest first.
    let mut ends: Vec<usize> = path
        .char_indices()
        .filter(|(_, c)| *c == '.' || *c == '[')
        .map(|(i, _)| i)
        .collect();
    ends.push(path.len());
    for &end in ends.iter().rev() {
        let (name, rest) = path.split_at(end);
        if name.is_empty() || !map.contains_key(name) {
            continue;
        }
        return descend(map, name, rest);
    }
    false
}

fn descend(map: &mut Map<String, Value>, name: &str, rest: &str) -> bool {
    if rest.is_empty() {
        return map.remove(name).is_some();
    }
    let child = map.get_mut(name).expect("present");
    if let Some(after_dot) = rest.strip_prefix('.') {
        return remove_in_map(child, after_dot);
    }
    remove_in_list(child, rest)
}

/// `rest` starts with `[`: a list element by key fields, value or index.
fn remove_in_list(value: &mut Value, rest: &str) -> bool {
    let Some(list) = value.as_array_mut() else {
        return false;
    };
    let Some(close) = closing_bracket(rest) else {
        return false;
    };
    let selector = &rest[1..close];
    let after = &rest[close + 1..];
    let index = if selector.bytes().all(|b| b.is_ascii_digit()) && !selector.is_empty() {
        // An index into an atomic list.
        selector.parse::<usize>().ok().filter(|&i| i < list.len())
    } else {
        list.iter().position(|item| selects(selector, item))
    };
    let Some(index) = index else {
        return false;
    };
    if after.is_empty() {
        list.remove(index);
        return true;
    }
    match after.strip_prefix('.') {
        Some(after_dot) => remove_in_map(&mut list[index], after_dot),
        None => remove_in_list(&mut list[index], after),
    }
}

/// The positions of `wanted` in `text` outside double-quoted values (where `\"` does not
/// end the quotes).
fn unquoted(text: &str, wanted: char) -> impl Iterator<Item = usize> + '_ {
    let mut quoted = false;
    let mut escaped = false;
    text.char_indices().filter_map(move |(i, c)| {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == wanted && !quoted => return Some(i),
            _ => {}
        }
        None
    })
}

/// The index of the `]` closing the selector that opens `rest`.
fn closing_bracket(rest: &str) -> Option<usize> {
    unquoted(rest, ']').next()
}

/// Whether a list element is the one `selector` names: `=VALUE`, `N` or `k=v,k2=v2`.
fn selects(selector: &str, item: &Value) -> bool {
    if let Some(value) = selector.strip_prefix('=') {
        return parse_value(value).is_some_and(|v| &v == item);
    }
    let Some(fields) = split_keys(selector) else {
        return false;
    };
    fields
        .iter()
        .all(|(key, value)| item.get(key) == Some(value))
}

fn split_keys(selector: &str) -> Option<Vec<(String, Value)>> {
    let mut fields = Vec::new();
    let mut start = 0;
    for comma in unquoted(selector, ',') {
        fields.push(key_value(&selector[start..comma])?);
        start = comma + 1;
    }
    fields.push(key_value(&selector[start..])?);
    Some(fields)
}

fn key_value(text: &str) -> Option<(String, Value)> {
    let (key, value) = text.split_once('=')?;
    Some((key.to_string(), parse_value(value)?))
}

/// A value as structured-merge-diff prints it: JSON, with strings quoted.
fn parse_value(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_nested_field_is_removed_and_its_siblings_stay() {
        let mut crd = json!({"spec": {"conversion": {"strategy": "Webhook", "webhook": {
            "clientConfig": {"caBundle": "Cg==", "service": {"name": "webhook-service"}},
            "conversionReviewVersions": ["v1"]}}}});
        assert!(drop_field(
            &mut crd,
            ".spec.conversion.webhook.clientConfig.caBundle"
        ));
        assert_eq!(
            crd,
            json!({"spec": {"conversion": {"strategy": "Webhook", "webhook": {
                "clientConfig": {"service": {"name": "webhook-service"}},
                "conversionReviewVersions": ["v1"]}}}})
        );
        assert!(!drop_field(
            &mut crd,
            ".spec.conversion.webhook.clientConfig.caBundle"
        ));
    }

    #[test]
    fn list_elements_are_found_by_their_keys() {
        let mut hooks = json!({"webhooks": [
            {"name": "bgppeersvalidationwebhook.metallb.io", "clientConfig": {"caBundle": "x", "service": {"name": "s"}}},
            {"name": "ipaddresspoolvalidationwebhook.metallb.io", "clientConfig": {"caBundle": "y"}}
        ]});
        assert!(drop_field(
            &mut hooks,
            r#".webhooks[name="ipaddresspoolvalidationwebhook.metallb.io"].clientConfig.caBundle"#
        ));
        assert_eq!(hooks["webhooks"][0]["clientConfig"]["caBundle"], "x");
        assert_eq!(hooks["webhooks"][1]["clientConfig"], json!({}));

        let mut service = json!({"spec": {"ports": [
            {"port": 80, "protocol": "TCP", "targetPort": 8080},
            {"port": 80, "protocol": "UDP"}
        ]}});
        assert!(drop_field(
            &mut service,
            r#".spec.ports[port=80,protocol="UDP"]"#
        ));
        assert_eq!(
            service["spec"]["ports"],
            json!([{"port": 80, "protocol": "TCP", "targetPort": 8080}])
        );
    }

    #[test]
    fn brackets_and_commas_inside_quoted_keys_are_part_of_the_key() {
        let mut hooks = json!({"webhooks": [{"name": "a,]b", "x": 1}, {"name": "a", "x": 2}]});
        assert!(drop_field(&mut hooks, r#".webhooks[name="a,]b"].x"#));
        assert_eq!(
            hooks["webhooks"],
            json!([{"name": "a,]b"}, {"name": "a", "x": 2}])
        );
    }

    #[test]
    fn set_members_and_indexes_are_removed() {
        let mut object =
            json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"args": ["x", "y", "z"]}});
        assert!(drop_field(&mut object, r#".metadata.finalizers[="b"]"#));
        assert!(drop_field(&mut object, ".spec.args[1]"));
        assert_eq!(
            object,
            json!({"metadata": {"finalizers": ["a"]}, "spec": {"args": ["x", "z"]}})
        );
    }

    #[test]
    fn names_with_dots_match_the_longest_key_present() {
        let mut object =
            json!({"metadata": {"labels": {"app.kubernetes.io/name": "metallb", "app": "x"}}});
        assert!(drop_field(
            &mut object,
            ".metadata.labels.app.kubernetes.io/name"
        ));
        assert_eq!(object, json!({"metadata": {"labels": {"app": "x"}}}));
    }

    #[test]
    fn paths_naming_nothing_change_nothing() {
        let original = json!({"spec": {"replicas": 1, "list": [{"name": "a"}]}});
        for path in [
            "",
            "spec.replicas",
            ".spec.missing",
            r#".spec.list[name="b"]"#,
            ".spec.list[7]",
            ".spec.replicas.deeper",
            r#".spec.list[name="a"#,
        ] {
            let mut object = original.clone();
            assert!(!drop_field(&mut object, path), "{path}");
            assert_eq!(object, original, "{path}");
        }
    }
}
