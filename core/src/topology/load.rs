//! Finding, reading and parsing a topology: a file path, a built-in name, or the default.
//!
//! Parsing is strict (unknown keys, duplicate keys, wrong types and YAML 1.1 booleans
//! like `yes` are errors) and goes on past each error, so that every error of the file,
//! from reading and from validation, comes back at once as a [`TopologyErrors`]
//! diagnostic pointing into the file.

use super::builtin::{self, Builtin, DEFAULT_TOPOLOGY};
use super::diagnostics::{FieldError, TopologyErrors, did_you_mean};
use super::model::Topology;
use super::validate::validate_read;
use super::yaml;
use miette::Diagnostic;
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

#[derive(Debug, Error, Diagnostic)]
pub enum LoadError {
    #[error("cannot read topology file {}", path.display())]
    #[diagnostic()]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{name}` is neither a topology file nor a built-in topology")]
    #[diagnostic(help("{help}"))]
    NotFound { name: String, help: String },
    #[error("`{name}` is a directory, not a topology file")]
    #[diagnostic(help("{help}"))]
    Directory { name: String, help: String },
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
    if path.is_dir() {
        let inside = path.join(DEFAULT_FILE);
        let help = if inside.is_file() {
            format!(
                "did you mean {}?",
                Path::new(argument).join(DEFAULT_FILE).display()
            )
        } else {
            "name a topology file (YAML) in it".to_string()
        };
        return Err(LoadError::Directory {
            name: argument.to_string(),
            help,
        });
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

/// Reads, parses and validates a resolved topology; returns it with its text. App
/// manifests of a file are looked for beside it (a built-in's are embedded).
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
    let apps_dir = match origin {
        Origin::File { path, shown } => Some(AppsDir {
            path: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            shown: Path::new(shown)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        }),
        Origin::Builtin(_) => None,
    };
    let topology =
        checked(&origin.display_name(), &text, apps_dir.as_ref()).map_err(LoadError::Invalid)?;
    Ok((topology, text))
}

/// Parses and validates: every error of the file at once, or the topology.
///
/// A value that cannot be read is reported and read as a stand-in, so the rest of the
/// file is still read and validated; rules do not report what a stand-in caused.
pub fn parse_and_validate(file: &str, text: &str) -> Result<Topology, Box<TopologyErrors>> {
    checked(file, text, None)
}

/// The folder `apps:` paths are relative to: where it is, and as the user named it.
struct AppsDir {
    path: PathBuf,
    shown: PathBuf,
}

/// [`parse_and_validate`], and when `apps_dir` is given, every `apps:` file must be there.
fn checked(
    file: &str,
    text: &str,
    apps_dir: Option<&AppsDir>,
) -> Result<Topology, Box<TopologyErrors>> {
    let mut read = yaml::read_topology(text);
    let mut errors = std::mem::take(&mut read.errors);
    if let Some(topology) = &read.value {
        errors.extend(
            validate_read(topology, &read.replaced)
                .into_iter()
                .filter(|error| !read.explains(error)),
        );
        if let Some(dir) = apps_dir {
            errors.extend(missing_apps(topology, dir));
        }
    }
    match read.value {
        Some(topology) if errors.is_empty() => Ok(topology),
        _ => Err(Box::new(TopologyErrors::new(file, text, errors))),
    }
}

/// `apps:` entries that name no readable file (relative to the topology's directory).
fn missing_apps(topology: &Topology, dir: &AppsDir) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, app) in topology.apps.iter().enumerate() {
        let path = dir.path.join(app);
        let problem = match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => format!("app manifest `{app}` is a directory"),
            Ok(_) => match std::fs::File::open(&path) {
                Ok(_) => continue,
                Err(e) => format!("app manifest `{app}` cannot be read: {e}"),
            },
            Err(_) => format!("app manifest `{app}` does not exist"),
        };
        errors.push(FieldError::new(format!("apps[{i}]"), problem).help(format!(
            "looked for {}; `apps:` paths are relative to the topology file",
            dir.shown.join(app).display()
        )));
    }
    errors
}

/// The lab name a topology text gives (its top-level `name:`), whether or not the rest of
/// the file is valid: `down FILE` removes that lab even after the file was broken.
pub fn lab_name_in(text: &str) -> Option<String> {
    let root = yaml::tree::parse(text).ok()?.root?;
    let yaml::tree::Value::Mapping(entries) = root.value else {
        return None;
    };
    entries
        .into_iter()
        .find_map(|entry| match entry.value.value {
            yaml::tree::Value::Scalar { text, .. } if entry.key == "name" && !text.is_empty() => {
                Some(text)
            }
            _ => None,
        })
}

pub use super::yaml::parse_topology as parse;

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
    fn a_directory_is_named_as_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("labs")).unwrap();
        let error = resolve_in(Some("labs"), dir.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`labs` is a directory, not a topology file"
        );
        std::fs::write(dir.path().join("labs").join(DEFAULT_FILE), "name: x\n").unwrap();
        let LoadError::Directory { help, .. } = resolve_in(Some("labs"), dir.path()).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(help, "did you mean labs/metallab.yaml?");
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
        std::fs::write(dir.path().join("app.yaml"), "kind: List\n").unwrap();
        let loaded = load(Some("lab.yaml"), dir.path()).unwrap();
        assert_eq!(loaded.base_dir, dir.path());
        assert_eq!(
            crate::plan::from_loaded(&loaded).apps,
            [dir.path().join("app.yaml")]
        );
        assert_eq!(
            crate::plan::from_loaded(&loaded).source,
            dir.path().join("lab.yaml").display().to_string()
        );
    }

    #[test]
    fn a_missing_app_file_is_an_error_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let text = "name: lab\nnetworks: { lan: {} }\nrouters:\n  h1: { kind: linux, interfaces: { lan: {} } }\napps:\n  - there.yaml\n  - missing.yaml\n  - sub\n";
        std::fs::write(dir.path().join("lab.yaml"), text).unwrap();
        std::fs::write(dir.path().join("there.yaml"), "kind: List\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let Err(LoadError::Invalid(errors)) = load(Some("lab.yaml"), dir.path()) else {
            panic!()
        };
        let found: Vec<(&str, &str)> = errors
            .located()
            .iter()
            .map(|e| (e.location.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("lab.yaml:7:5", "app manifest `missing.yaml` does not exist"),
                ("lab.yaml:8:5", "app manifest `sub` is a directory"),
            ]
        );
    }

    #[test]
    fn the_lab_name_is_read_from_a_file_that_no_longer_validates() {
        assert_eq!(
            lab_name_in("name: lab\nrouters: { r: { kind: nope } }\napps: [gone.yaml]\n"),
            Some("lab".to_string())
        );
        assert_eq!(lab_name_in("routers: {}\n"), None);
        assert_eq!(lab_name_in("name: [\n"), None);
    }

    #[test]
    fn builtins_load_and_plan() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load(Some("next-hop"), dir.path()).unwrap();
        assert_eq!(crate::plan::from_loaded(&loaded).source, "builtin:next-hop");
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
        let rendered = crate::error_report::render_plain(report.as_ref());
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

/// One bad value in a valid file is one error, at that value: reading goes on past it and
/// no rule reports what the stand-in caused. Tried on every scalar of every built-in.
#[cfg(test)]
mod one_bad_value {
    use super::*;
    use crate::topology::source::{child_path, item_path};
    use crate::topology::yaml::tree::{self, Node, Value};

    /// (path, byte range) of every scalar value.
    fn scalars(node: &Node, path: String, out: &mut Vec<(String, std::ops::Range<usize>)>) {
        match &node.value {
            Value::Scalar { .. } => {
                let start = node.span.offset();
                out.push((path, start..start + node.span.len()));
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    scalars(item, item_path(&path, i), out);
                }
            }
            Value::Mapping(entries) => {
                for entry in entries {
                    scalars(&entry.value, child_path(&path, &entry.key), out);
                }
            }
        }
    }

    #[test]
    fn one_bad_value_in_a_builtin_is_one_error_at_its_place() {
        let mut failures = Vec::new();
        let mut tried = 0;
        for builtin in builtin::list() {
            let root = tree::parse(builtin.yaml).unwrap().root.unwrap();
            let mut found = Vec::new();
            scalars(&root, String::new(), &mut found);
            for (path, range) in found {
                // A mapping fits no scalar field: a wrong type wherever it goes.
                let text = format!(
                    "{}{{ wrong: 1 }}{}",
                    &builtin.yaml[..range.start],
                    &builtin.yaml[range.end..]
                );
                tried += 1;
                let errors = match parse_and_validate("t.yaml", &text) {
                    Ok(_) => {
                        failures.push(format!("{} {path}: accepted", builtin.name));
                        continue;
                    }
                    Err(errors) => errors,
                };
                let located = errors.located();
                let right = located.len() == 1 && located[0].path == path;
                if !right {
                    let got: Vec<String> = located
                        .iter()
                        .map(|e| format!("{} {}", e.path, e.message))
                        .collect();
                    failures.push(format!("{} {path}: {got:?}", builtin.name));
                }
            }
        }
        assert!(tried > 100, "{tried} values tried");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

/// No text makes reading and validating panic: every built-in cut at every line and at
/// many places inside lines, with lines dropped, and with characters YAML treats
/// specially spliced in.
#[cfg(test)]
mod malformed_text {
    use super::*;

    fn try_all(text: &str) {
        let _ = parse_and_validate("t.yaml", text);
    }

    #[test]
    fn mangled_builtins_never_panic() {
        let splices = [
            "\t", "\"", "'", "{", "[", ": ", "- ", "&a ", "*a", "<<: ", "!!str ", "é", "#", "\n  ",
        ];
        let mut tried = 0;
        for builtin in builtin::list() {
            let text = builtin.yaml;
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(7).collect();
            for &at in &boundaries {
                try_all(&text[..at]);
                let splice = splices[at % splices.len()];
                try_all(&format!("{}{splice}{}", &text[..at], &text[at..]));
                tried += 2;
            }
            let lines: Vec<&str> = text.lines().collect();
            for skip in 0..lines.len() {
                let without: Vec<&str> = lines
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, l)| *l)
                    .collect();
                try_all(&without.join("\n"));
                tried += 1;
            }
        }
        assert!(tried > 1000, "{tried}");
    }
}
