//! Contract test: every MetalLB object metallab renders is valid against the schema that
//! MetalLB's released CRDs declare for its kind, at the apiVersion the object names.
//!
//! - Schemas: `tests/fixtures/metallb-crds/<tag>/`, unedited copies of MetalLB's
//!   `config/crd/bases/` (read its README). Each tag stands for its minor series: output
//!   for v0.13.x is checked against v0.13.12's CRDs, v0.14.x against v0.14.8's, v0.16.x
//!   against v0.16.1's ([`crd_tag_for`]); a series without a folder fails the test. A
//!   field added or removed within a series is not seen (v0.13.2 and v0.13.3 have no
//!   `avoidBuggyIPs`; `validate` knows that one).
//! - Corpus: every built-in topology whose MetalLB release is configured with CRDs
//!   (older releases render the legacy ConfigMap, which is only checked to be one), and
//!   `tests/fixtures/crd-corpus/every-field.yaml` rendered at each CRD release above.
//! - An object whose kind has no schema at its apiVersion in the release's CRDs (say a
//!   BGPPeer at `metallb.io/v1beta2` where only `v1beta1` is served) fails.
//!
//! Kubernetes' structural schemas are OpenAPI v3 with extensions, not JSON Schema:
//! [`to_json_schema`] turns them into draft 7 schemas for the `jsonschema` crate,
//! keeping what the API server enforces, and closing every object to unknown fields (the
//! API server prunes those from custom resources without a word, so a field MetalLB
//! does not know is a metallab bug that would otherwise go unnoticed). CEL rules
//! (`x-kubernetes-validations`) are not evaluated.
//!
//! Pure: no Docker, no network.

use jsonschema::{Draft, Validator};
use metallab::metallb::MetallbVersion;
use metallab::render::metallb::render;
use metallab::topology::builtin;
use metallab::topology::load::parse_and_validate;
use metallab::topology::model::MetallbMode;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The CRD releases in `tests/fixtures/metallb-crds/`, one per minor series.
const CRD_TAGS: [&str; 3] = ["v0.13.12", "v0.14.8", "v0.16.1"];

/// Known mismatches between what metallab renders and MetalLB's schemas: renderer bugs
/// not fixed yet, each as (topology, MetalLB version, `Kind/name`, JSON pointer of the
/// failing value). Only these exact failures are tolerated; the test fails when one of
/// them no longer happens, so the entry is removed with the fix.
const KNOWN_MISMATCHES: &[(&str, &str, &str, &str)] = &[];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

// ---- Kubernetes structural schema → JSON Schema ----

/// Formats whose Kubernetes meaning JSON Schema has under the same name: validated.
const KEPT_FORMATS: &[&str] = &["date-time", "ipv4", "ipv6", "uuid", "email", "hostname"];

/// Formats dropped. `int32`, `int64`, `float` and `double` only name the Go type: the API
/// server does not range-check them (MetalLB's myASN is `format: int32` with maximum
/// 4294967295, and 4-byte ASNs are accepted). The others are string formats Kubernetes
/// checks but JSON Schema lacks or defines differently (Kubernetes' `duration` is Go's
/// `1m30s`, JSON Schema's is ISO 8601's `PT1M30S`; `datetime` is the same as
/// `date-time`, handled apart); none of them occurs in MetalLB's CRDs. A format in
/// neither list stops the test, so a new one gets a decision rather than a silent pass.
const DROPPED_FORMATS: &[&str] = &[
    "int32",
    "int64",
    "float",
    "double",
    "byte",
    "password",
    "duration",
    "cidr",
    "mac",
    "uri",
    "bsonobjectid",
];

/// A Kubernetes structural schema (a CRD version's `openAPIV3Schema`) as a draft 7
/// JSON Schema:
/// - `x-kubernetes-int-or-string: true` → type integer or string;
/// - `nullable: true` → null allowed (in `type` and `enum`);
/// - formats: see [`KEPT_FORMATS`] and [`DROPPED_FORMATS`];
/// - OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` → draft 7's numbers;
/// - `x-kubernetes-validations` (CEL) dropped: not evaluated here, so rules such as
///   v0.16's "serviceSelectors and aggregationLength are mutually exclusive" are not
///   checked; other `x-kubernetes-*` markers and annotations (`description`, `default`)
///   dropped too;
/// - every object schema gets `additionalProperties: false` unless it has
///   `additionalProperties` or `x-kubernetes-preserve-unknown-fields`: the API server
///   prunes unknown fields of custom resources, also under an object without
///   `properties` (all of its content is unknown). The one exception is the root's
///   `metadata`: the API server handles it as ObjectMeta, outside the CRD's schema, and
///   the schema says no more than `type: object`, so no more is checked.
fn to_json_schema(schema: &Value) -> Value {
    convert(schema, true)
}

fn convert(schema: &Value, at_root: bool) -> Value {
    let Value::Object(source) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in source {
        let converted = match key.as_str() {
            "properties" | "patternProperties" | "definitions" => {
                let Value::Object(children) = value else {
                    panic!("`{key}` is not a map: {value}");
                };
                let children = children
                    .iter()
                    .map(|(name, child)| {
                        let child = if at_root && key == "properties" && name == "metadata" {
                            child.clone()
                        } else {
                            convert(child, false)
                        };
                        (name.clone(), child)
                    })
                    .collect();
                Value::Object(children)
            }
            "items" => match value {
                Value::Array(items) => items.iter().map(|i| convert(i, false)).collect(),
                item => convert(item, false),
            },
            "additionalProperties" | "not" => convert(value, false),
            "allOf" | "anyOf" | "oneOf" => {
                let Value::Array(branches) = value else {
                    panic!("`{key}` is not a list: {value}");
                };
                branches.iter().map(|b| convert(b, false)).collect()
            }
            "format" => {
                let format = value.as_str().unwrap_or_default();
                match format {
                    "datetime" => json!("date-time"),
                    f if KEPT_FORMATS.contains(&f) => value.clone(),
                    f if DROPPED_FORMATS.contains(&f) => continue,
                    f => panic!("format `{f}`: add it to KEPT_FORMATS or DROPPED_FORMATS"),
                }
            }
            // Handled below, from `source`.
            "nullable" | "exclusiveMinimum" | "exclusiveMaximum" => continue,
            "description" | "default" | "example" | "externalDocs" | "title" => continue,
            k if k.starts_with("x-kubernetes-") => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    let flag = |key: &str| source.get(key) == Some(&Value::Bool(true));

    if flag("x-kubernetes-int-or-string") {
        out.insert("type".into(), json!(["integer", "string"]));
    }
    if flag("nullable") {
        match out.get_mut("type") {
            Some(Value::String(t)) => {
                let t = std::mem::take(t);
                out.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(types)) => types.push(json!("null")),
            _ => {}
        }
        if let Some(Value::Array(values)) = out.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match source.get(exclusive) {
            Some(Value::Bool(true)) => {
                let limit = out
                    .remove(bound)
                    .unwrap_or_else(|| panic!("`{exclusive}: true` without `{bound}`"));
                out.insert(exclusive.into(), limit);
            }
            Some(Value::Number(n)) => {
                out.insert(exclusive.into(), n.clone().into());
            }
            _ => {}
        }
    }

    let is_object = out.get("type") == Some(&json!("object")) || out.contains_key("properties");
    if is_object
        && !out.contains_key("additionalProperties")
        && !flag("x-kubernetes-preserve-unknown-fields")
        // An embedded resource keeps apiVersion, kind and metadata the schema may not
        // list; none of MetalLB's CRDs has one.
        && !flag("x-kubernetes-embedded-resource")
    {
        out.insert("additionalProperties".into(), false.into());
    }
    Value::Object(out)
}

fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(schema)
        .map_err(|e| e.to_string())
}

// ---- MetalLB's CRDs ----

/// One CRD release: a validator for each served (apiVersion, kind).
struct CrdSet {
    tag: &'static str,
    schemas: BTreeMap<(String, String), Validator>,
}

impl CrdSet {
    fn load(tag: &'static str) -> CrdSet {
        let dir = fixtures().join("metallb-crds").join(tag);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no CRDs in {}", dir.display());
        let mut schemas = BTreeMap::new();
        for file in files {
            let shown = format!("{tag}/{}", file.file_name().unwrap().to_string_lossy());
            let text = std::fs::read_to_string(&file).unwrap();
            let documents: Vec<Value> = serde_saphyr::from_multiple(&text)
                .unwrap_or_else(|e| panic!("{shown} is not YAML: {e}"));
            for crd in documents.iter().filter(|d| !d.is_null()) {
                assert_eq!(crd["kind"], "CustomResourceDefinition", "{shown}");
                let group = crd["spec"]["group"].as_str().expect("spec.group");
                let kind = crd["spec"]["names"]["kind"].as_str().expect("names.kind");
                let versions = crd["spec"]["versions"].as_array().expect("spec.versions");
                for version in versions {
                    if version["served"] != true {
                        continue;
                    }
                    let name = version["name"].as_str().expect("versions[].name");
                    let schema = &version["schema"]["openAPIV3Schema"];
                    assert!(schema.is_object(), "{shown}: {kind} {name} has no schema");
                    let validator = compile(&to_json_schema(schema))
                        .unwrap_or_else(|e| panic!("{shown}: {kind} {name}: {e}"));
                    let key = (format!("{group}/{name}"), kind.to_string());
                    assert!(
                        schemas.insert(key, validator).is_none(),
                        "{shown}: {kind} {name} is defined twice"
                    );
                }
            }
        }
        CrdSet { tag, schemas }
    }

    fn served(&self, kind: &str) -> Vec<&str> {
        self.schemas
            .keys()
            .filter(|(_, k)| k == kind)
            .map(|(api, _)| api.as_str())
            .collect()
    }

    /// Every way `objects` disagree with this release's schemas.
    fn check(&self, topology: &str, version: &str, objects: &[Value]) -> Vec<Failure> {
        let mut failures = Vec::new();
        for object in objects {
            let api_version = object["apiVersion"].as_str().unwrap_or("(none)");
            let kind = object["kind"].as_str().unwrap_or("(none)");
            let name = object["metadata"]["name"].as_str().unwrap_or("(none)");
            let failure = |pointer: &str, message: String| Failure {
                topology: topology.to_string(),
                version: version.to_string(),
                object: format!("{kind}/{name}"),
                pointer: pointer.to_string(),
                message,
            };
            let Some(validator) = self
                .schemas
                .get(&(api_version.to_string(), kind.to_string()))
            else {
                let served = self.served(kind);
                let message = if served.is_empty() {
                    format!("MetalLB {} has no CRD of kind {kind}", self.tag)
                } else {
                    format!(
                        "MetalLB {} serves {kind} at {}, not at {api_version}",
                        self.tag,
                        served.join(", ")
                    )
                };
                failures.push(failure("/apiVersion", message));
                continue;
            };
            for error in validator.iter_errors(object) {
                failures.push(failure(error.instance_path().as_str(), error.to_string()));
            }
        }
        failures
    }
}

/// The CRD releases, loaded once for all tests.
fn crd_sets() -> &'static BTreeMap<&'static str, CrdSet> {
    static SETS: OnceLock<BTreeMap<&'static str, CrdSet>> = OnceLock::new();
    SETS.get_or_init(|| CRD_TAGS.iter().map(|t| (*t, CrdSet::load(t))).collect())
}

/// The CRD release whose schemas apply to `version`: the one of its minor series.
fn crd_tag_for(version: MetallbVersion) -> Option<&'static str> {
    CRD_TAGS.iter().copied().find(|tag| {
        let tag: MetallbVersion = tag.parse().unwrap();
        (tag.major, tag.minor) == (version.major, version.minor)
    })
}

/// One schema violation.
#[derive(Debug, Clone, PartialEq)]
struct Failure {
    topology: String,
    version: String,
    /// `Kind/name`.
    object: String,
    /// JSON pointer of the failing value in the object (`""` is the object itself).
    pointer: String,
    message: String,
}

impl Failure {
    fn is(&self, (topology, version, object, pointer): (&str, &str, &str, &str)) -> bool {
        (
            self.topology.as_str(),
            self.version.as_str(),
            self.object.as_str(),
            self.pointer.as_str(),
        ) == (topology, version, object, pointer)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at MetalLB {}: {} at {:?}: {}",
            self.topology, self.version, self.object, self.pointer, self.message
        )
    }
}

// ---- The corpus ----

/// One topology rendered at one MetalLB release.
struct Case {
    topology: String,
    version: MetallbVersion,
    objects: Vec<Value>,
}

/// Parses, validates, plans and renders; None when the topology has no `metallb:`.
fn render_topology(label: &str, text: &str) -> Option<(MetallbVersion, Vec<Value>)> {
    let topology =
        parse_and_validate(label, text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    let plan = metallab::plan::build(&topology, label, Path::new("/labs"));
    let spec = plan.metallb.as_ref()?;
    let version = spec.setup().unwrap().version;
    let objects = render(&plan).unwrap_or_else(|e| panic!("{label}: {e}"));
    Some((version, objects))
}

const EVERY_FIELD: &str = "crd-corpus/every-field.yaml";

/// `every-field.yaml` as written for `tag` (which must be a MetalLB release tag).
fn every_field_at(tag: &str) -> String {
    let text = std::fs::read_to_string(fixtures().join(EVERY_FIELD)).unwrap();
    let version: MetallbVersion = tag.parse().unwrap();
    for line in ["  version: v0.16.1\n", "  mode: frr-k8s\n"] {
        assert!(text.contains(line), "{EVERY_FIELD} lost `{}`", line.trim());
    }
    let mut text = text.replace("  version: v0.16.1\n", &format!("  version: {tag}\n"));
    if !version.supports_mode(MetallbMode::FrrK8s) {
        // frr-k8s arrived in v0.14.0; the FRR mode renders the same objects.
        text = text.replace("  mode: frr-k8s\n", "  mode: frr\n");
    }
    text
}

/// Every built-in configured with CRDs, and `every-field.yaml` at each CRD release.
fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    for builtin in builtin::list() {
        let label = builtin.source_label();
        let Some((version, objects)) = render_topology(&label, builtin.yaml) else {
            continue;
        };
        if !version.uses_crds() {
            assert!(
                !objects.is_empty()
                    && objects
                        .iter()
                        .all(|o| o["apiVersion"] == "v1" && o["kind"] == "ConfigMap"),
                "{label}: MetalLB {version} is configured by ConfigMap, not CRDs"
            );
            continue;
        }
        cases.push(Case {
            topology: label,
            version,
            objects,
        });
    }
    for tag in CRD_TAGS {
        let label = format!("{EVERY_FIELD} ({tag})");
        let (version, objects) =
            render_topology(&label, &every_field_at(tag)).expect("every-field has metallb:");
        assert_eq!(version.to_string(), tag, "{label}");
        cases.push(Case {
            topology: EVERY_FIELD.to_string(),
            version,
            objects,
        });
    }
    cases
}

// ---- The contract ----

#[test]
fn every_rendered_object_matches_metallbs_crd_schemas() {
    let sets = crd_sets();
    let mut failures: Vec<Failure> = Vec::new();
    // CRD release → rendered version → objects validated.
    let mut validated: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for case in corpus() {
        let tag = crd_tag_for(case.version).unwrap_or_else(|| {
            panic!(
                "{}: no MetalLB CRDs for the v{}.{} series (rendering {}): copy that series' \
                 last release's config/crd/bases/ into tests/fixtures/metallb-crds/",
                case.topology, case.version.major, case.version.minor, case.version
            )
        });
        let set = &sets[tag];
        let version = case.version.to_string();
        failures.extend(set.check(&case.topology, &version, &case.objects));
        *validated
            .entry(set.tag)
            .or_default()
            .entry(version)
            .or_default() += case.objects.len();
    }
    for (tag, versions) in &validated {
        for (version, count) in versions {
            println!("MetalLB {version} (CRDs of {tag}): {count} objects validated");
        }
    }
    for tag in CRD_TAGS {
        assert!(
            validated
                .get(tag)
                .is_some_and(|v| v.values().sum::<usize>() > 0),
            "nothing was validated against MetalLB {tag}'s CRDs"
        );
    }

    let unexpected: Vec<&Failure> = failures
        .iter()
        .filter(|f| !KNOWN_MISMATCHES.iter().any(|known| f.is(*known)))
        .collect();
    let fixed: Vec<_> = KNOWN_MISMATCHES
        .iter()
        .filter(|known| !failures.iter().any(|f| f.is(**known)))
        .collect();
    for failure in &failures {
        if !unexpected.contains(&failure) {
            println!("known mismatch (KNOWN_MISMATCHES): {failure}");
        }
    }
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{} rendered value(s) do not match MetalLB's CRD schemas:\n{}{}",
        unexpected.len(),
        unexpected
            .iter()
            .map(|f| format!("  {f}\n"))
            .collect::<String>(),
        if fixed.is_empty() {
            String::new()
        } else {
            format!("KNOWN_MISMATCHES entries that no longer fail (remove them): {fixed:?}\n")
        }
    );
}

/// The corpus really uses every field metallab writes: each kind with each spec key, at
/// each CRD release. A field dropped from `every-field.yaml`, or one the renderer stops
/// writing, shows here.
#[test]
fn the_every_field_corpus_renders_every_field() {
    let expected: BTreeMap<&str, BTreeSet<&str>> = [
        (
            "BFDProfile",
            &[
                "detectMultiplier",
                "echoInterval",
                "echoMode",
                "minimumTtl",
                "passiveMode",
                "receiveInterval",
                "transmitInterval",
            ][..],
        ),
        ("Community", &["communities"][..]),
        (
            "IPAddressPool",
            &["addresses", "autoAssign", "avoidBuggyIPs"][..],
        ),
        (
            "BGPPeer",
            &[
                "bfdProfile",
                "ebgpMultiHop",
                "holdTime",
                "keepaliveTime",
                "myASN",
                "nodeSelectors",
                "password",
                "peerASN",
                "peerAddress",
                "peerPort",
                "routerID",
                "sourceAddress",
            ][..],
        ),
        (
            "BGPAdvertisement",
            &[
                "aggregationLength",
                "aggregationLengthV6",
                "communities",
                "ipAddressPools",
                "localPref",
                "peers",
            ][..],
        ),
        ("L2Advertisement", &["ipAddressPools"][..]),
    ]
    .into_iter()
    .map(|(kind, keys)| (kind, keys.iter().copied().collect()))
    .collect();
    for tag in CRD_TAGS {
        let (_, objects) = render_topology(EVERY_FIELD, &every_field_at(tag)).unwrap();
        let mut rendered: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for object in &objects {
            let keys = rendered
                .entry(object["kind"].as_str().unwrap())
                .or_default();
            keys.extend(
                object["spec"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str),
            );
        }
        assert_eq!(rendered, expected, "{EVERY_FIELD} at {tag}");
        // Both community forms, both address forms, both families, the implicit
        // default advertisement.
        let text = serde_json::to_string(&objects).unwrap();
        for needle in [
            "\"large:64500:1:2\"",
            "\"large:64500:7:8\"",
            "\"64500:100\"",
            "\"lab-tag\"",
            "\"203.0.113.210-203.0.113.215\"",
            "\"2001:db8:1::/124\"",
            "\"1500ms\"",
            "\"name\":\"default\"",
        ] {
            assert!(text.contains(needle), "{EVERY_FIELD} at {tag}: no {needle}");
        }
    }
}

// ---- The test can fail ----

/// The BGPPeer `every-field.yaml` renders at `tag`.
fn rendered_bgp_peer(tag: &str) -> Value {
    let (_, objects) = render_topology(EVERY_FIELD, &every_field_at(tag)).unwrap();
    objects
        .into_iter()
        .find(|o| o["kind"] == "BGPPeer" && o["metadata"]["name"] == "bird1")
        .expect("a BGPPeer bird1")
}

#[test]
fn an_unknown_field_and_a_wrong_type_are_both_reported() {
    let set = &crd_sets()["v0.16.1"];
    let mut peer = rendered_bgp_peer("v0.16.1");
    assert_eq!(
        set.check("t", "v0.16.1", std::slice::from_ref(&peer)),
        Vec::<Failure>::new()
    );
    peer["spec"]["colour"] = json!("blue");
    peer["spec"]["holdTime"] = json!(90);
    let mut failures = set.check("t", "v0.16.1", &[peer]);
    failures.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    let found: Vec<(&str, &str)> = failures
        .iter()
        .map(|f| (f.object.as_str(), f.pointer.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("BGPPeer/bird1", "/spec"),
            ("BGPPeer/bird1", "/spec/holdTime")
        ],
        "{failures:#?}"
    );
    assert!(failures[0].message.contains("colour"), "{}", failures[0]);
    assert!(failures[1].message.contains("string"), "{}", failures[1]);
    assert!(
        failures[1]
            .to_string()
            .starts_with("t at MetalLB v0.16.1: BGPPeer/bird1 at \"/spec/holdTime\": "),
        "{}",
        failures[1]
    );
}

#[test]
fn a_kind_or_api_version_without_a_schema_is_reported() {
    let set = &crd_sets()["v0.13.12"];
    let mut peer = rendered_bgp_peer("v0.13.12");
    peer["apiVersion"] = json!("metallb.io/v1beta3");
    let mut other = json!({ "apiVersion": "metallb.io/v1beta1", "kind": "ServiceBGPStatus",
        "metadata": { "name": "x" }, "spec": {} });
    let failures = set.check("t", "v0.13.12", &[peer, other.clone()]);
    let messages: Vec<&str> = failures.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "MetalLB v0.13.12 serves BGPPeer at metallb.io/v1beta1, metallb.io/v1beta2, not at metallb.io/v1beta3",
            "MetalLB v0.13.12 has no CRD of kind ServiceBGPStatus",
        ]
    );
    // Numbers out of range, in another kind.
    other["kind"] = json!("BFDProfile");
    other["spec"] = json!({ "detectMultiplier": 1, "minimumTtl": 255 });
    let mut pointers: Vec<String> = set
        .check("t", "v0.13.12", &[other])
        .into_iter()
        .map(|f| f.pointer)
        .collect();
    pointers.sort();
    assert_eq!(pointers, ["/spec/detectMultiplier", "/spec/minimumTtl"]);
}

#[test]
fn each_release_serves_the_kinds_metallab_renders() {
    let expected: BTreeSet<&str> = [
        "BFDProfile metallb.io/v1beta1",
        "BGPAdvertisement metallb.io/v1beta1",
        "BGPPeer metallb.io/v1beta1",
        "BGPPeer metallb.io/v1beta2",
        "Community metallb.io/v1beta1",
        "IPAddressPool metallb.io/v1beta1",
        "L2Advertisement metallb.io/v1beta1",
    ]
    .into();
    for (tag, set) in crd_sets() {
        let served: BTreeSet<String> = set
            .schemas
            .keys()
            .map(|(api, kind)| format!("{kind} {api}"))
            .collect();
        let served: BTreeSet<&str> = served.iter().map(String::as_str).collect();
        assert_eq!(served, expected, "MetalLB {tag}");
    }
}

#[test]
fn the_version_maps_to_its_series_crds() {
    let v = |t: &str| crd_tag_for(t.parse().unwrap());
    assert_eq!(v("v0.13.2"), Some("v0.13.12"));
    assert_eq!(v("v0.13.12"), Some("v0.13.12"));
    assert_eq!(v("v0.14.0"), Some("v0.14.8"));
    assert_eq!(v("v0.16.1"), Some("v0.16.1"));
    assert_eq!(
        v("v0.15.3"),
        None,
        "no v0.15 CRDs here: the test fails for it"
    );
}

// ---- The conversion ----

#[test]
fn structural_schemas_become_json_schema() {
    let schema = json!({
        "type": "object",
        "properties": {
            "metadata": { "type": "object" },
            "spec": {
                "type": "object",
                "description": "dropped",
                "x-kubernetes-validations": [{ "rule": "self.port > 0", "message": "CEL" }],
                "required": ["port"],
                "properties": {
                    "port": { "x-kubernetes-int-or-string": true, "anyOf": [{ "type": "integer" }, { "type": "string" }] },
                    "asn": { "type": "integer", "format": "int32", "maximum": 4294967295_u64 },
                    "mode": { "type": "string", "enum": ["a", "b"], "nullable": true },
                    "weight": { "type": "integer", "minimum": 0, "exclusiveMinimum": true },
                    "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                    "free": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                    "closed": { "type": "object" },
                    "list": { "type": "array", "items": { "type": "object", "properties": { "x": { "type": "string" } } } },
                },
            },
        },
    });
    let converted = to_json_schema(&schema);
    let spec = &converted["properties"]["spec"];
    assert_eq!(converted["additionalProperties"], false);
    assert_eq!(
        converted["properties"]["metadata"],
        json!({ "type": "object" })
    );
    assert_eq!(spec["additionalProperties"], false);
    assert!(spec.get("x-kubernetes-validations").is_none());
    assert!(spec.get("description").is_none());
    assert_eq!(
        spec["properties"]["port"]["type"],
        json!(["integer", "string"])
    );
    assert!(spec["properties"]["asn"].get("format").is_none());
    assert_eq!(
        spec["properties"]["mode"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(spec["properties"]["mode"]["enum"], json!(["a", "b", null]));
    assert_eq!(spec["properties"]["weight"]["exclusiveMinimum"], 0);
    assert!(spec["properties"]["labels"]["additionalProperties"].is_object());
    assert!(
        spec["properties"]["free"]
            .get("additionalProperties")
            .is_none()
    );
    assert_eq!(spec["properties"]["closed"]["additionalProperties"], false);
    assert_eq!(
        spec["properties"]["list"]["items"]["additionalProperties"],
        false
    );

    let validator = compile(&converted).unwrap();
    let errors = |instance: Value| -> Vec<String> {
        let mut pointers: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| e.instance_path().as_str().to_string())
            .collect();
        pointers.sort();
        pointers
    };
    let good = json!({
        "metadata": { "name": "n", "anything": { "goes": 1 } },
        "spec": { "port": "http", "asn": 4200000000_u64, "mode": null, "weight": 1,
                  "labels": { "a": "b" }, "free": { "x": 1 }, "closed": {}, "list": [{ "x": "y" }] },
    });
    assert_eq!(errors(good), Vec::<String>::new());
    assert_eq!(
        errors(json!({ "spec": { "port": 80 } })),
        Vec::<String>::new()
    );
    let bad = json!({
        "extra": 1,
        "spec": { "port": true, "mode": "c", "weight": 0, "labels": { "a": 1 },
                  "closed": { "x": 1 }, "list": [{ "x": "y", "z": 1 }] },
    });
    assert_eq!(
        errors(bad),
        [
            "",
            "/spec/closed",
            "/spec/labels/a",
            "/spec/list/0",
            "/spec/mode",
            "/spec/port", // its type and the structural anyOf
            "/spec/port",
            "/spec/weight"
        ]
    );
    assert_eq!(errors(json!({ "spec": {} })), ["/spec"], "port is required");
}
