//! Topologies shipped inside the binary (from `topologies/*.yaml`), so `metallab up
//! interop` works after `cargo install` without any file around.

use super::diagnostics::did_you_mean;
use super::model::Topology;
use miette::Diagnostic;
use thiserror::Error;

/// The built-in topology `metallab up` uses when no file is given and there is no
/// `./metallab.yaml`.
pub const DEFAULT_TOPOLOGY: &str = "bgp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    pub name: &'static str,
    /// One line, the same as the file's `description:` (a test keeps them equal).
    pub description: &'static str,
    pub yaml: &'static str,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "bfd-next-hop",
        description: "kind behind a Linux next hop; two FRR routers with multihop eBGP and BFD to every node",
        yaml: include_str!("../../../topologies/bfd-next-hop.yaml"),
    },
    Builtin {
        name: "bgp",
        description: "kind (1 control plane, 2 workers) with MetalLB announcing an nginx LoadBalancer IP to FRR and BIRD",
        yaml: include_str!("../../../topologies/bgp.yaml"),
    },
    Builtin {
        name: "in-cluster",
        description: "kind with MetalLB peering with BIRD running as a pod in the cluster and with FRR in Docker",
        yaml: include_str!("../../../topologies/in-cluster.yaml"),
    },
    Builtin {
        name: "interop",
        description: "FRR, BIRD and GoBGP in a full mesh of eBGP and iBGP sessions on one network",
        yaml: include_str!("../../../topologies/interop.yaml"),
    },
    Builtin {
        name: "minikube-legacy",
        description: "Minikube with MetalLB v0.12 (legacy ConfigMap) peering with a BIRD router, pool 198.51.100.0/24",
        yaml: include_str!("../../../topologies/minikube-legacy.yaml"),
    },
    Builtin {
        name: "multinode-traffic",
        description: "kind with 3 workers behind an FRR edge router; a client reaches the LoadBalancer IP through it",
        yaml: include_str!("../../../topologies/multinode-traffic.yaml"),
    },
    Builtin {
        name: "next-hop",
        description: "Multihop eBGP with BFD between FRR and BIRD across a Linux next-hop router",
        yaml: include_str!("../../../topologies/next-hop.yaml"),
    },
    Builtin {
        name: "scale-20",
        description: "20 BGP routers (FRR, BIRD, GoBGP) peering with one FRR hub: scale test",
        yaml: include_str!("../../../topologies/scale-20.yaml"),
    },
];

/// Files the built-in topologies refer to (their `apps:`), by the path written there:
/// built-ins have no directory, so their manifests travel inside the binary too.
const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "manifests/nginx-lb.yaml",
        include_str!("../../../topologies/manifests/nginx-lb.yaml"),
    ),
    (
        "manifests/nginx-lb-legacy.yaml",
        include_str!("../../../topologies/manifests/nginx-lb-legacy.yaml"),
    ),
];

/// A file a built-in topology refers to, by its relative path.
pub fn builtin_file(path: &str) -> Option<&'static str> {
    BUILTIN_FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

impl Builtin {
    /// The name shown in diagnostics and recorded as the plan's source.
    pub fn source_label(&self) -> String {
        format!("builtin:{}", self.name)
    }

    /// The topology; built-ins are tested to parse and validate.
    pub fn topology(&self) -> Topology {
        super::yaml::parse_topology(&self.source_label(), self.yaml)
            .unwrap_or_else(|e| panic!("built-in topology {} is broken: {e}", self.name))
    }
}

/// Every built-in topology, sorted by name.
pub fn list() -> &'static [Builtin] {
    BUILTINS
}

/// A built-in topology by name.
pub fn get(name: &str) -> Result<&'static Builtin, UnknownBuiltin> {
    BUILTINS
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| UnknownBuiltin::new(name))
}

#[derive(Debug, Error, Diagnostic)]
#[error("no built-in topology named `{name}`")]
#[diagnostic(help("{help}"))]
pub struct UnknownBuiltin {
    pub name: String,
    help: String,
}

impl UnknownBuiltin {
    fn new(name: &str) -> UnknownBuiltin {
        let names: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
        let known = format!("built-in topologies: {}", names.join(", "));
        let help = if let Some(best) = did_you_mean(name, names.iter().copied()) {
            format!("did you mean `{best}`? ({known})")
        } else {
            known
        };
        UnknownBuiltin {
            name: name.to_string(),
            help,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::validate::validate;

    #[test]
    fn every_builtin_parses_and_validates_without_errors() {
        for builtin in list() {
            let topology = builtin.topology();
            assert_eq!(validate(&topology), vec![], "built-in {}", builtin.name);
            assert_eq!(
                topology.name, builtin.name,
                "a built-in's lab name is its name"
            );
            assert_eq!(topology.description.as_deref(), Some(builtin.description));
            assert!(!builtin.description.contains('\n'), "{}", builtin.name);
        }
    }

    #[test]
    fn builtins_use_distinct_subnets_so_their_labs_coexist() {
        let mut seen: Vec<(ipnet::IpNet, &str)> = Vec::new();
        for builtin in list() {
            for network in builtin.topology().networks.values() {
                let subnet = network.subnet.expect("built-ins write their subnets");
                if let Some((_, other)) = seen
                    .iter()
                    .find(|(s, _)| s.contains(&subnet) || subnet.contains(s))
                {
                    panic!("{} and {other} share {subnet}", builtin.name);
                }
                seen.push((subnet, builtin.name));
            }
        }
    }

    #[test]
    fn the_default_exists_and_every_app_of_a_builtin_is_embedded() {
        assert!(get(DEFAULT_TOPOLOGY).is_ok());
        for builtin in list() {
            for app in &builtin.topology().apps {
                let text = builtin_file(app)
                    .unwrap_or_else(|| panic!("{}: app {app} is not embedded", builtin.name));
                assert!(text.contains("kind: Service"), "{app}");
            }
        }
    }

    #[test]
    fn list_is_sorted_and_get_finds_each() {
        let names: Vec<&str> = list().iter().map(|b| b.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        for name in names {
            assert_eq!(get(name).unwrap().name, name);
        }
    }

    #[test]
    fn unknown_names_get_a_suggestion_or_the_list() {
        let e = get("interopp").unwrap_err();
        assert!(e.help.starts_with("did you mean `interop`?"), "{}", e.help);
        let e = get("zzz").unwrap_err();
        assert!(
            e.help
                .starts_with("built-in topologies: bfd-next-hop, bgp, in-cluster, interop"),
            "{}",
            e.help
        );
    }
}
