//! Tutorials shipped inside the binary (from `tutorials/`), so `metallab tutorial list`
//! and `tutorial start NAME` work after `cargo install`, with no checkout around. Each
//! carries the files its folder holds (topologies, manifests), which `tutorial start`
//! and `run` write out beside it before running its commands.

use crate::topology::diagnostics::did_you_mean;
use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinTutorial {
    pub name: &'static str,
    pub markdown: &'static str,
    /// The files of `tutorials/<name>/`, by their path relative to `tutorials/`
    /// (`bgp-basics/lab.yaml`), as the tutorial names them.
    pub files: &'static [(&'static str, &'static str)],
}

impl BuiltinTutorial {
    /// The file as the repository has it, for errors and reports.
    pub fn shown(&self) -> String {
        format!("tutorials/{}.md", self.name)
    }

    /// One of its files, by its path relative to `tutorials/`.
    pub fn file(&self, relative: &str) -> Option<&'static str> {
        let relative = relative.strip_prefix("./").unwrap_or(relative);
        self.files
            .iter()
            .find(|(path, _)| *path == relative)
            .map(|(_, text)| *text)
    }
}

macro_rules! tutorial {
    ($name:literal, [$($file:literal),* $(,)?]) => {
        BuiltinTutorial {
            name: $name,
            markdown: include_str!(concat!("../../../tutorials/", $name, ".md")),
            files: &[$(($file, include_str!(concat!("../../../tutorials/", $file)))),*],
        }
    };
}

const TUTORIALS: &[BuiltinTutorial] = &[
    tutorial!(
        "bgp-basics",
        ["bgp-basics/lab.yaml", "bgp-basics/announce.yaml"]
    ),
    tutorial!("next-hop-bfd", ["next-hop-bfd/lab.yaml"]),
    tutorial!(
        "metallb-minikube",
        [
            "metallb-minikube/lab.yaml",
            "metallb-minikube/avoid-buggy-ips.yaml",
            "metallb-minikube/nginx.yaml",
            "metallb-minikube/nginx-198.51.100.1.yaml",
        ]
    ),
    tutorial!(
        "metallb-crds",
        [
            "metallb-crds/lab.yaml",
            "metallb-crds/avoid-buggy-ips.yaml",
            "metallb-crds/nginx.yaml",
            "metallb-crds/nginx-198.51.100.1.yaml",
            "metallb-crds/overlapping-pool.yaml",
        ]
    ),
    tutorial!(
        "metallb-kind-bfd",
        ["metallb-kind-bfd/lab.yaml", "metallb-kind-bfd/agnhost.yaml"]
    ),
    tutorial!(
        "metallb-multinode-traffic",
        [
            "metallb-multinode-traffic/lab.yaml",
            "metallb-multinode-traffic/metallb-peer.yaml",
            "metallb-multinode-traffic/nginx.yaml",
        ]
    ),
];

/// Every built-in tutorial, in the order a reader takes them.
pub fn list() -> &'static [BuiltinTutorial] {
    TUTORIALS
}

/// A built-in tutorial by name.
pub fn get(name: &str) -> Result<&'static BuiltinTutorial, UnknownTutorial> {
    TUTORIALS
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| UnknownTutorial::new(name))
}

#[derive(Debug, Error, Diagnostic)]
#[error("no tutorial named `{name}`")]
#[diagnostic(help("{help}"))]
pub struct UnknownTutorial {
    pub name: String,
    pub help: String,
}

impl UnknownTutorial {
    fn new(name: &str) -> UnknownTutorial {
        let names: Vec<&str> = TUTORIALS.iter().map(|t| t.name).collect();
        let known = format!(
            "tutorials: {} (`metallab tutorial list`); a tutorial file is named by its path (`./my.md`)",
            names.join(", ")
        );
        let help = match did_you_mean(name, names.iter().copied()) {
            Some(best) => format!("did you mean `{best}`? {known}"),
            None => known,
        };
        UnknownTutorial {
            name: name.to_string(),
            help,
        }
    }
}
