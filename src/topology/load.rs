//! Finding, reading and parsing a topology: a file path, a built-in name, or the default.
//!
//! Parsing is strict (unknown keys, duplicate keys, wrong types and YAML 1.1 booleans
//! like `yes` are errors) and every error comes back as a [`TopologyErrors`] diagnostic
//! pointing into the file, as validation errors do.

use super::builtin::{self, Builtin, DEFAULT_TOPOLOGY};
use super::diagnostics::{FieldError, TopologyErrors, did_you_mean};
use super::model::Topology;
use super::source::SourceMap;
use super::validate::validate;
use crate::plan::Plan;
use miette::{Diagnostic, SourceSpan};
use serde_saphyr::MessageFormatter;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The topology file `metallab up` picks up from the current directory.
pub const DEFAULT_FILE: &str = "metallab.yaml";

/// Where a topology comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file: its absolute path and the name to show (as the user wrote it).
    File {
        path: PathBuf,
        shown: String,
    },
    Builtin(&'static Builtin),
}

impl Origin {
    /// The plan's `source`: an absolute path, or `builtin:<name>`.
    pub fn source_label(&self) -> String {
        match self {
            Origin::File { path, .. } => path.display().to_string(),
            Origin::Builtin(builtin) => builtin.source_label(),
        }
    }

    /// The directory app manifests are relative to: the file's directory, or the working
    /// directory for a built-in.
    pub fn base_dir(&self) -> PathBuf {
        match self {
            Origin::File { path, .. } => path.parent().map(Path::to_path_buf).unwrap_or_default(),
            Origin::Builtin(_) => std::env::current_dir().unwrap_or_default(),
        }
    }

    /// The name diagnostics show in `file:line:col`.
    pub fn display_name(&self) -> String {
        match self {
            Origin::File { shown, .. } => shown.clone(),
            Origin::Builtin(builtin) => builtin.source_label(),
        }
    }
}

/// A parsed and validated topology with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedTopology {
    pub topology: Topology,
    pub origin: Origin,
    pub text: String,
    /// App manifests are relative to this (the file's directory; the working directory
    /// for built-ins).
    pub base_dir: PathBuf,
}

impl LoadedTopology {
    pub fn plan(&self) -> Plan {
        crate::plan::build(&self.topology, &self.origin.source_label(), &self.base_dir)
    }
}

#[derive(Debug, Error, Diagnostic)]
pub enum LoadError {
    #[error("cannot read topology file {}", path.display())]
    #[diagnostic(code(metallab::topology::read))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{name}` is neither a topology file nor a built-in topology")]
    #[diagnostic(code(metallab::topology::not_found), help("{help}"))]
    NotFound { name: String, help: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    UnknownBuiltin(#[from] builtin::UnknownBuiltin),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<TopologyErrors>),
}

/// [`resolve_in`] the current directory.
pub fn resolve(argument: Option<&str>) -> Result<Origin, LoadError> {
    resolve_in(argument, &std::env::current_dir().unwrap_or_default())
}

/// Finds the topology `metallab up [ARG]` means, relative to `cwd`: an existing file,
/// else a built-in name; without an argument `./metallab.yaml`, else the default built-in.
pub fn resolve_in(argument: Option<&str>, cwd: &Path) -> Result<Origin, LoadError> {
    let Some(argument) = argument else {
        let path = cwd.join(DEFAULT_FILE);
        if path.is_file() {
            return Ok(Origin::File {
                path,
                shown: DEFAULT_FILE.to_string(),
            });
        }
        return Ok(Origin::Builtin(builtin::get(DEFAULT_TOPOLOGY)?));
    };
    let path = cwd.join(argument);
    if path.is_file() {
        return Ok(Origin::File {
            path,
            shown: argument.to_string(),
        });
    }
    if let Ok(builtin) = builtin::get(argument) {
        return Ok(Origin::Builtin(builtin));
    }
    let names: Vec<&str> = builtin::list().iter().map(|b| b.name).collect();
    let looks_like_a_path =
        argument.contains(['/', '\\']) || argument.ends_with(".yaml") || argument.ends_with(".yml");
    let mut help = if looks_like_a_path {
        format!("there is no file {}", path.display())
    } else if let Some(best) = did_you_mean(argument, names.iter().copied()) {
        format!("did you mean the built-in `{best}`?")
    } else {
        String::from("no such file, and no built-in topology by that name")
    };
    help.push_str(&format!(
        "; built-in topologies: {} (`metallab topologies`)",
        names.join(", ")
    ));
    Err(LoadError::NotFound {
        name: argument.to_string(),
        help,
    })
}

/// Resolves (relative to `cwd`), reads, parses and validates the topology `argument` names.
pub fn load(argument: Option<&str>, cwd: &Path) -> Result<LoadedTopology, LoadError> {
    let origin = resolve_in(argument, cwd)?;
    let (topology, text) = load_validated(&origin)?;
    let base_dir = match &origin {
        Origin::File { .. } => origin.base_dir(),
        // Built-ins have no directory: their `apps:` stay relative and are read from the
        // files embedded with them (`builtin::builtin_file`).
        Origin::Builtin(_) => PathBuf::new(),
    };
    Ok(LoadedTopology {
        topology,
        origin,
        text,
        base_dir,
    })
}

/// Reads, parses and validates a resolved topology; returns it with its text.
pub fn load_validated(origin: &Origin) -> Result<(Topology, String), LoadError> {
    let text = match origin {
        Origin::File { path, .. } => {
            std::fs::read_to_string(path).map_err(|source| LoadError::Read {
                path: path.clone(),
                source,
            })?
        }
        Origin::Builtin(builtin) => builtin.yaml.to_string(),
    };
    let topology = parse_and_validate(&origin.display_name(), &text).map_err(LoadError::Invalid)?;
    Ok((topology, text))
}

/// Parses and validates: every error of the file at once, or the topology.
pub fn parse_and_validate(file: &str, text: &str) -> Result<Topology, Box<TopologyErrors>> {
    let topology = parse(file, text)?;
    let errors = validate(&topology);
    if errors.is_empty() {
        Ok(topology)
    } else {
        Err(Box::new(TopologyErrors::new(file, text, errors)))
    }
}

/// Strict YAML → model. serde stops at the first structural error, so this reports one.
pub fn parse(file: &str, text: &str) -> Result<Topology, Box<TopologyErrors>> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        strict_booleans: true,
    };
    serde_saphyr::from_str_with_options::<Topology>(text, options).map_err(|error| {
        Box::new(TopologyErrors::new(
            file,
            text,
            vec![yaml_error(text, &error)],
        ))
    })
}

/// A serde-saphyr error as a located [`FieldError`] with the field path and a hint.
fn yaml_error(text: &str, error: &serde_saphyr::Error) -> FieldError {
    let map = SourceMap::parse(text);
    let error = error.without_snippet();
    let message = serde_saphyr::UserMessageFormatter
        .format_message(error)
        .into_owned();
    let span = error.location().map(|location| {
        let span = location.span();
        match (span.byte_offset(), span.byte_len()) {
            (Some(offset), Some(len)) => SourceSpan::from(offset as usize..(offset + len) as usize),
            _ => {
                let offset =
                    map.offset_of(text, location.line() as usize, location.column() as usize);
                SourceSpan::from(offset..offset)
            }
        }
    });
    let mut path = span
        .and_then(|s| map.path_at(s.offset()))
        .unwrap_or_default()
        .to_string();
    // serde points a missing field at its mapping (for a block mapping: its first key);
    // name the field itself.
    if let (Some(field), Some(span)) = (quoted(&message, "missing field `"), span) {
        let at = map.path_at(span.offset()).unwrap_or_default();
        let on_key = map
            .get(at)
            .and_then(|f| f.key)
            .is_some_and(|k| k.offset() == span.offset());
        let mapping = if on_key {
            super::source::parent_path(at)
        } else {
            at
        };
        path = super::source::child_path(mapping, field);
    }
    let written = span
        .map(|s| &text[s.offset()..s.offset() + s.len()])
        .unwrap_or_default();
    let hint = if path.ends_with("asn") && message.starts_with("invalid u") {
        Some(ASN_RANGE_HINT.to_string())
    } else {
        yaml_hint(&message)
    };
    let mut field_error = FieldError::new(path, clearer_message(&message, written));
    if let Some(help) = hint {
        field_error = field_error.help(help);
    }
    match span {
        Some(span) => field_error.at(span),
        None => field_error,
    }
}

const ASN_RANGE_HINT: &str =
    "an ASN is 1–4294967295; private ones are 64512–65534 and 4200000000–4294967294";

/// serde's terse messages for scalars that do not parse, with the value spelled out.
fn clearer_message(message: &str, written: &str) -> String {
    let range = match message {
        "invalid u8" => "0–255",
        "invalid u16" => "0–65535",
        "invalid u32" => "0–4294967295",
        _ => return message.to_string(),
    };
    format!("`{written}` is not a whole number in {range}")
}

/// The text between `prefix` and the next backtick.
fn quoted<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let start = message.find(prefix)? + prefix.len();
    let rest = &message[start..];
    Some(&rest[..rest.find('`')?])
}

/// A hint for the common YAML mistakes, from serde's message.
fn yaml_hint(message: &str) -> Option<String> {
    let unknown =
        quoted(message, "unknown field `").or_else(|| quoted(message, "unknown variant `"));
    if let Some(name) = unknown {
        let expected = message.split_once("expected ")?.1;
        let candidates: Vec<&str> = expected
            .trim_start_matches("one of ")
            .split([',', ' '])
            .map(|c| c.trim_matches('`'))
            .filter(|c| !c.is_empty() && *c != "or")
            .collect();
        return Some(match did_you_mean(name, candidates.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("expected one of: {}", candidates.join(", ")),
        });
    }
    let hints: &[(&str, &str)] = &[
        (
            "duplicate mapping key",
            "each key may appear once in a mapping; remove or merge the repeated one",
        ),
        (
            "invalid IP address",
            "write an address like 10.201.1.5 or a subnet like 10.201.1.0/24",
        ),
        ("invalid IP network", "write a subnet like 10.201.1.0/24"),
        (
            "untagged enum Multihop",
            "multihop is `true`, `false` or a TTL (1–255)",
        ),
        (
            "untagged enum BfdSetting",
            "bfd is `true`, `false` or the name of a BFD profile",
        ),
        (
            "untagged enum OneOrMany",
            "write one name or a list, e.g. `[frr1, nodes]`",
        ),
        ("missing field", "add this field"),
        ("invalid boolean", "write `true` or `false`"),
        ("invalid type", "check the type this field expects"),
    ];
    hints
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map(|(_, hint)| hint.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_files_then_builtins_then_reports_both_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lab.yaml"), "name: x\n").unwrap();
        assert!(matches!(
            resolve_in(Some("lab.yaml"), dir.path()).unwrap(),
            Origin::File { shown, .. } if shown == "lab.yaml"
        ));
        assert!(matches!(
            resolve_in(Some("interop"), dir.path()).unwrap(),
            Origin::Builtin(b) if b.name == "interop"
        ));
        let error = resolve_in(Some("interopp"), dir.path()).unwrap_err();
        let LoadError::NotFound { help, .. } = &error else {
            panic!("{error:?}")
        };
        assert!(
            help.starts_with("did you mean the built-in `interop`?"),
            "{help}"
        );
        let error = resolve_in(Some("missing.yaml"), dir.path()).unwrap_err();
        let LoadError::NotFound { help, .. } = &error else {
            panic!("{error:?}")
        };
        assert!(help.starts_with("there is no file"), "{help}");
    }

    #[test]
    fn a_file_shadows_a_builtin_of_the_same_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("interop"), "name: mine\n").unwrap();
        assert!(matches!(
            resolve_in(Some("interop"), dir.path()).unwrap(),
            Origin::File { .. }
        ));
    }

    #[test]
    fn without_argument_prefers_metallab_yaml_then_the_default_builtin() {
        let dir = tempfile::tempdir().unwrap();
        match resolve_in(None, dir.path()) {
            Ok(Origin::Builtin(b)) => assert_eq!(b.name, DEFAULT_TOPOLOGY),
            Err(LoadError::UnknownBuiltin(e)) => assert_eq!(e.name, DEFAULT_TOPOLOGY),
            other => panic!("{other:?}"),
        }
        std::fs::write(dir.path().join(DEFAULT_FILE), "name: x\n").unwrap();
        assert!(matches!(
            resolve_in(None, dir.path()).unwrap(),
            Origin::File { shown, .. } if shown == DEFAULT_FILE
        ));
    }

    #[test]
    fn loads_a_file_with_its_directory_as_base() {
        let dir = tempfile::tempdir().unwrap();
        let text = "name: lab\nnetworks: { lan: {} }\nrouters:\n  h1: { kind: linux, interfaces: { lan: {} } }\napps: [app.yaml]\n";
        std::fs::write(dir.path().join("lab.yaml"), text).unwrap();
        let loaded = load(Some("lab.yaml"), dir.path()).unwrap();
        assert_eq!(loaded.base_dir, dir.path());
        assert_eq!(loaded.plan().apps, [dir.path().join("app.yaml")]);
        assert_eq!(
            loaded.plan().source,
            dir.path().join("lab.yaml").display().to_string()
        );
    }

    #[test]
    fn builtins_load_and_plan() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load(Some("next-hop"), dir.path()).unwrap();
        assert_eq!(loaded.plan().source, "builtin:next-hop");
    }

    #[test]
    fn invalid_files_fail_with_located_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.yaml"), "name: Bad_Name\n").unwrap();
        let Err(LoadError::Invalid(errors)) = load(Some("bad.yaml"), dir.path()) else {
            panic!()
        };
        assert_eq!(errors.located()[0].location, "bad.yaml:1:7");
    }

    #[test]
    fn load_errors_become_reports_that_keep_every_location() {
        let dir = tempfile::tempdir().unwrap();
        let text = "name: lab\nnetworks:\n  a: { subnet: 10.210.0.0/16 }\n  b: { subnet: 10.210.1.0/24 }\nrouters:\n  r1: { kind: frr, interfaces: { a: {} } }\n";
        std::fs::write(dir.path().join("lab.yaml"), text).unwrap();
        let error = load(Some("lab.yaml"), dir.path()).unwrap_err();
        // The CLI turns load errors into miette reports (Send + Sync + 'static).
        let report = miette::Report::from(error);
        let rendered = super::super::diagnostics::render_plain(report.as_ref());
        assert!(
            rendered.contains("invalid topology lab.yaml: 2 errors"),
            "{rendered}"
        );
        assert!(rendered.contains("[lab.yaml:4:16]"), "{rendered}");
        assert!(rendered.contains("[lab.yaml:6:3]"), "{rendered}");
    }

    #[test]
    fn syntax_errors_are_located_too() {
        for (text, location) in [
            ("name: x\n  bad: : indent\n", "t.yaml:2:6"),
            ("name: x\nnetworks: { a: [\n", "t.yaml:2:16"),
        ] {
            let errors = parse("t.yaml", text).unwrap_err();
            assert_eq!(
                errors.located()[0].location,
                location,
                "{}",
                errors.render_plain()
            );
            assert!(errors.render_plain().contains(&format!("[{location}]")));
        }
    }

    #[test]
    fn yaml_errors_name_the_field_and_suggest_the_fix() {
        let error = |text: &str| {
            let errors = parse("t.yaml", text).unwrap_err();
            let e = &errors.located()[0];
            (
                e.location.clone(),
                e.path.clone(),
                e.help.clone().unwrap_or_default(),
            )
        };
        assert_eq!(
            error("name: x\nnetworks:\n  a: { subnett: 10.0.0.0/24 }\n"),
            (
                "t.yaml:3:8".into(),
                "networks.a.subnett".into(),
                "did you mean `subnet`?".into()
            )
        );
        assert_eq!(
            error("name: x\nrouters:\n  r1: { kind: fr }\n").2,
            "did you mean `frr`?"
        );
        assert_eq!(error("networks: {}\n").1, "name");
        assert_eq!(
            error("name: x\nrouters:\n  r1: { interfaces: {} }\n").1,
            "routers.r1.kind"
        );
        assert_eq!(
            error("name: x\nrouters:\n  r1: { kind: linux, forward: yes }\n").1,
            "routers.r1.forward"
        );
    }
}
