//! Cluster nodes as Docker sees them: discovery with addresses on the lab network, static
//! routes inside them, and finding a lab's cluster from labels alone (for `down` after a
//! crash).

use super::error::ClusterError;
use super::spec::ClusterPlan;
use super::{Provider, minikube};
use crate::plan::labels as metallab_labels;
use crate::plan::model::StaticRoute;
use crate::runtime::docker::ContainerInfo;
use bollard::models::ContainerInspectResponse;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Docker labels kind and minikube put on their node containers.
pub mod labels {
    /// kind: the cluster name (`pkg/cluster/internal/providers/common/constants.go`).
    pub const KIND_CLUSTER: &str = "io.x-k8s.kind.cluster";
    /// kind: `control-plane`, `worker` or `external-load-balancer`.
    pub const KIND_ROLE: &str = "io.x-k8s.kind.role";
    /// minikube: `true` on everything it creates (`pkg/drivers/kic/oci/types.go`).
    pub const MINIKUBE_CREATED_BY: &str = "created_by.minikube.sigs.k8s.io";
    /// minikube: the *machine* name — the profile for the first node, `<profile>-m02`…
    /// for the others (`kic.go` labels each node with its own machine name).
    pub const MINIKUBE_NAME: &str = "name.minikube.sigs.k8s.io";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeRole {
    ControlPlane,
    Worker,
    /// Nodes listed by address (existing clusters).
    Unknown,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::ControlPlane => "control-plane",
            NodeRole::Worker => "worker",
            NodeRole::Unknown => "unknown",
        }
    }
}

/// A Kubernetes node and its address on the lab network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveredNode {
    /// The Kubernetes node name (kind and minikube name nodes after their containers).
    pub name: String,
    /// The node's Docker container; `None` for existing clusters.
    pub container: Option<String>,
    pub role: NodeRole,
    pub ip: IpAddr,
}

/// Which containers are a cluster's nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeSelector {
    Kind { cluster: String },
    Minikube { profile: String },
}

enum Membership {
    NotMember,
    /// Part of the cluster but not a Kubernetes node (kind's external load balancer).
    Skip,
    Node(NodeRole),
}

impl NodeSelector {
    fn provider(&self) -> Provider {
        match self {
            NodeSelector::Kind { .. } => Provider::Kind,
            NodeSelector::Minikube { .. } => Provider::Minikube,
        }
    }

    fn name(&self) -> &str {
        match self {
            NodeSelector::Kind { cluster } => cluster,
            NodeSelector::Minikube { profile } => profile,
        }
    }

    /// The Docker label filter that finds the candidates.
    fn label_filter(&self) -> (&'static str, &str) {
        match self {
            NodeSelector::Kind { cluster } => (labels::KIND_CLUSTER, cluster),
            NodeSelector::Minikube { .. } => (labels::MINIKUBE_CREATED_BY, "true"),
        }
    }

    fn membership(&self, labels: &HashMap<String, String>) -> Membership {
        let label = |k: &str| labels.get(k).map(String::as_str);
        match self {
            NodeSelector::Kind { cluster } => {
                if label(labels::KIND_CLUSTER) != Some(cluster.as_str()) {
                    return Membership::NotMember;
                }
                match label(labels::KIND_ROLE) {
                    Some("control-plane") => Membership::Node(NodeRole::ControlPlane),
                    Some("worker") => Membership::Node(NodeRole::Worker),
                    _ => Membership::Skip,
                }
            }
            NodeSelector::Minikube { profile } => {
                if label(labels::MINIKUBE_CREATED_BY) != Some("true") {
                    return Membership::NotMember;
                }
                match label(labels::MINIKUBE_NAME) {
                    Some(name) if name == profile => Membership::Node(NodeRole::ControlPlane),
                    Some(name) if is_minikube_secondary(profile, name) => {
                        Membership::Node(NodeRole::Worker)
                    }
                    _ => Membership::NotMember,
                }
            }
        }
    }
}

/// `<profile>-m02`, `<profile>-m03`… (`minikube::machine_name` for index ≥ 2).
fn is_minikube_secondary(profile: &str, machine: &str) -> bool {
    machine
        .strip_prefix(profile)
        .and_then(|rest| rest.strip_prefix("-m"))
        .is_some_and(|n| n.len() >= 2 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The selector's nodes among `containers` (raw `docker inspect` documents), with their
/// address on Docker network `network`.
///
/// The address is read from `NetworkSettings.Networks[<network>].IPAddress`, so a node on
/// several networks (MetalLB's labs connect kind nodes to a second network) yields the
/// right one; kind's own `{{range .NetworkSettings.Networks}}` template would concatenate
/// them. kind's external load balancer is not a node and is skipped.
pub fn discover_nodes(
    selector: &NodeSelector,
    network: &str,
    containers: &[ContainerInspectResponse],
) -> Result<Vec<DiscoveredNode>, ClusterError> {
    let mut nodes = vec![];
    for container in containers {
        let no_labels = HashMap::new();
        let labels = container
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .unwrap_or(&no_labels);
        let role = match selector.membership(labels) {
            Membership::Node(role) => role,
            Membership::Skip | Membership::NotMember => continue,
        };
        let name = container
            .name
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string();
        let endpoints = container
            .network_settings
            .as_ref()
            .and_then(|s| s.networks.as_ref());
        let address = |endpoint: &bollard::models::EndpointSettings| {
            endpoint
                .ip_address
                .as_deref()
                .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
        };
        match endpoints.and_then(|e| e.get(network)).and_then(address) {
            Some(ip) => nodes.push(DiscoveredNode {
                name: name.clone(),
                container: Some(name),
                role,
                ip: IpAddr::V4(ip),
            }),
            None => {
                let mut attached: Vec<String> = endpoints
                    .into_iter()
                    .flatten()
                    .map(|(n, _)| n.clone())
                    .collect();
                attached.sort();
                return Err(ClusterError::NodeNotOnNetwork {
                    node: name,
                    network: network.to_string(),
                    attached,
                    running: container
                        .state
                        .as_ref()
                        .and_then(|s| s.running)
                        .unwrap_or(false),
                });
            }
        }
    }
    if nodes.is_empty() {
        return Err(ClusterError::NoNodes {
            provider: selector.provider(),
            name: selector.name().to_string(),
        });
    }
    nodes.sort_by(|a, b| (a.role, &a.name).cmp(&(b.role, &b.name)));
    Ok(nodes)
}

/// Lists the candidate containers through Docker and discovers the nodes among them.
pub async fn discover(
    rt: &dyn crate::runtime::ContainerEngine,
    selector: &NodeSelector,
    network: &str,
) -> Result<Vec<DiscoveredNode>, ClusterError> {
    let (key, value) = selector.label_filter();
    let candidates = rt.list_containers(&[(key, Some(value))], true).await?;
    let mut inspected = Vec::with_capacity(candidates.len());
    for c in candidates {
        // Removed between list and inspect: not a node any more.
        if let Some(doc) = rt.inspect_container_raw(&c.id).await? {
            inspected.push(doc);
        }
    }
    discover_nodes(selector, network, &inspected)
}

/// `ip route replace <to> via <via>` per route: idempotent, so re-running `up` is safe.
pub fn node_route_commands(routes: &[StaticRoute]) -> Vec<Vec<String>> {
    routes
        .iter()
        .map(|r| {
            vec![
                "ip".to_string(),
                "route".to_string(),
                "replace".to_string(),
                r.to.to_string(),
                "via".to_string(),
                r.via.to_string(),
            ]
        })
        .collect()
}

const ROUTE_TIMEOUT: Duration = Duration::from_secs(30);

/// Adds the plan's `nodes.routes` inside every node container (kind and minikube's docker
/// driver run nodes as containers with `ip`). Returns how many routes were set. Existing
/// clusters have no containers metallab may touch: that is an error naming the commands
/// to run by hand (the engine may report it as a warning).
pub async fn apply_node_routes(
    rt: &dyn crate::runtime::ContainerEngine,
    plan: &ClusterPlan,
    nodes: &[DiscoveredNode],
) -> Result<usize, ClusterError> {
    let commands = node_route_commands(&plan.node_routes);
    if commands.is_empty() {
        return Ok(0);
    }
    if plan.provider == Provider::Existing {
        return Err(ClusterError::NodeRoutesUnsupported {
            commands: commands.iter().map(|c| c.join(" ")).collect(),
        });
    }
    let per_node = nodes
        .iter()
        .filter_map(|n| n.container.as_deref())
        .map(|container| {
            let commands = &commands;
            async move {
                for argv in commands {
                    let out = rt.exec(container, argv, ROUTE_TIMEOUT).await?;
                    if !out.success() {
                        let message = [out.stderr.trim(), out.stdout.trim()]
                            .into_iter()
                            .find(|s| !s.is_empty())
                            .unwrap_or("no output")
                            .to_string();
                        return Err(ClusterError::NodeRoute {
                            node: container.to_string(),
                            command: argv.join(" "),
                            message: format!("exit code {}: {message}", out.exit_code),
                        });
                    }
                }
                Ok(commands.len())
            }
        });
    let mut applied = 0;
    for result in futures::future::join_all(per_node).await {
        applied += result?;
    }
    Ok(applied)
}

/// A cluster that belongs to a lab, found from Docker alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundCluster {
    pub provider: Provider,
    /// kind cluster name or minikube profile.
    pub name: String,
    /// Its node containers (kind's load balancer included).
    pub containers: Vec<String>,
}

/// The clusters of lab `lab` among `candidates` (containers carrying kind or minikube
/// labels), given the names of the Docker networks labelled `io.metallab.lab=<lab>`.
///
/// The rule, chosen so `down` never deletes a user's cluster that merely shares the lab's
/// name: a cluster is the lab's when its name equals the lab name **and** at least one of
/// its node containers is attached to one of the lab's labelled networks. Only metallab
/// puts kind or minikube nodes on such a network (through `KIND_EXPERIMENTAL_DOCKER_NETWORK`
/// or `--network`); a cluster the user created themselves sits on kind's `kind` network or
/// minikube's per-profile network. Network membership is read from the containers
/// (`docker ps -a` keeps it for stopped ones), not from the networks (which list running
/// endpoints only). The saved plan in the state directory is not evidence on its own: a
/// failed `up` can record a lab whose name a user's cluster already had.
pub fn lab_clusters(
    lab: &str,
    lab_networks: &BTreeSet<String>,
    candidates: &[ContainerInfo],
) -> Vec<FoundCluster> {
    let mut found: BTreeMap<(Provider, String), (bool, Vec<String>)> = BTreeMap::new();
    for c in candidates {
        let label = |k: &str| c.labels.get(k).map(String::as_str);
        let provider = if label(labels::KIND_CLUSTER) == Some(lab) {
            Provider::Kind
        } else if label(labels::MINIKUBE_CREATED_BY) == Some("true")
            && label(labels::MINIKUBE_NAME)
                .is_some_and(|m| m == lab || is_minikube_secondary(lab, m))
        {
            Provider::Minikube
        } else {
            continue;
        };
        let on_lab_network = c.networks.keys().any(|n| lab_networks.contains(n));
        let entry = found.entry((provider, lab.to_string())).or_default();
        entry.0 |= on_lab_network;
        entry.1.push(c.name.clone());
    }
    found
        .into_iter()
        .filter(|(_, (on_lab_network, _))| *on_lab_network)
        .map(|((provider, name), (_, mut containers))| {
            containers.sort();
            FoundCluster {
                provider,
                name,
                containers,
            }
        })
        .collect()
}

/// The lab's clusters, from Docker labels (see [`lab_clusters`] for the rule).
pub async fn find_lab_clusters(
    rt: &dyn crate::runtime::ContainerEngine,
    lab: &str,
) -> Result<Vec<FoundCluster>, ClusterError> {
    let lab_networks: BTreeSet<String> = rt
        .list_networks(&[(metallab_labels::LAB, Some(lab))])
        .await?
        .into_iter()
        .map(|n| n.name)
        .collect();
    if lab_networks.is_empty() {
        return Ok(vec![]);
    }
    let mut candidates = rt
        .list_containers(&[(labels::KIND_CLUSTER, Some(lab))], true)
        .await?;
    candidates.extend(
        rt.list_containers(&[(labels::MINIKUBE_CREATED_BY, Some("true"))], true)
            .await?,
    );
    Ok(lab_clusters(lab, &lab_networks, &candidates))
}

/// The minikube machine names of a profile's first `n` nodes (for messages and tests).
pub fn minikube_machines(profile: &str, n: u32) -> Vec<String> {
    (1..=n)
        .map(|i| minikube::machine_name(profile, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real `docker inspect` output (see tests/fixtures/docker/README.md).
    fn fixture(name: &str) -> Vec<ContainerInspectResponse> {
        let path = format!(
            "{}/tests/fixtures/docker/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn kind(cluster: &str) -> NodeSelector {
        NodeSelector::Kind {
            cluster: cluster.to_string(),
        }
    }

    #[test]
    fn kind_nodes_from_recorded_inspect_output() {
        let docs = fixture("kind-nodes-inspect.json");
        let nodes = discover_nodes(&kind("h-cluster-fx"), "h-cluster-fx-kind", &docs).unwrap();
        insta::assert_yaml_snapshot!(nodes);
        // The worker sits on two networks: each network gives its own address.
        let worker: Vec<_> = docs
            .iter()
            .filter(|d| d.name.as_deref() == Some("/h-cluster-fx-worker"))
            .cloned()
            .collect();
        let on = |network: &str| {
            discover_nodes(&kind("h-cluster-fx"), network, &worker).unwrap()[0]
                .ip
                .to_string()
        };
        assert_eq!(on("h-cluster-fx-kind"), "10.231.1.3");
        assert_eq!(on("h-cluster-fx-up"), "10.231.2.2");
        let upstream = discover_nodes(&kind("h-cluster-fx"), "h-cluster-fx-up", &docs);
        match upstream {
            Err(ClusterError::NodeNotOnNetwork { node, attached, .. }) => {
                assert_eq!(node, "h-cluster-fx-control-plane");
                assert_eq!(attached, ["h-cluster-fx-kind"]);
            }
            other => panic!("expected the control plane to be off the upstream net: {other:?}"),
        }
    }

    #[test]
    fn minikube_nodes_from_recorded_inspect_output() {
        let docs = fixture("minikube-nodes-inspect.json");
        let selector = NodeSelector::Minikube {
            profile: "h-cluster-mk".to_string(),
        };
        let nodes = discover_nodes(&selector, "h-cluster-fx-kind", &docs).unwrap();
        insta::assert_yaml_snapshot!(nodes);
    }

    #[test]
    fn other_clusters_and_stopped_nodes() {
        let docs = fixture("kind-nodes-inspect.json");
        let err = discover_nodes(&kind("someone-else"), "h-cluster-fx-kind", &docs).unwrap_err();
        assert!(matches!(err, ClusterError::NoNodes { .. }), "{err}");
        let stopped = fixture("stopped-node-inspect.json");
        let err = discover_nodes(&kind("h-cluster-fx"), "h-cluster-fx-kind", &stopped).unwrap_err();
        match &err {
            ClusterError::NodeNotOnNetwork { running, .. } => assert!(!running),
            other => panic!("{other:?}"),
        }
        assert!(err.hint().unwrap().contains("stopped"));
    }

    #[test]
    fn minikube_machine_names() {
        assert_eq!(minikube_machines("lab", 3), ["lab", "lab-m02", "lab-m03"]);
        assert!(is_minikube_secondary("lab", "lab-m02"));
        assert!(is_minikube_secondary("lab", "lab-m10"));
        assert!(!is_minikube_secondary("lab", "lab"));
        assert!(!is_minikube_secondary("lab", "lab-m2"));
        assert!(!is_minikube_secondary("lab", "lab2-m02"));
        assert!(!is_minikube_secondary("lab", "lab-mx2"));
    }

    #[test]
    fn route_commands() {
        let routes = vec![
            StaticRoute {
                to: "10.231.2.0/24".parse().unwrap(),
                via: "10.231.1.2".parse().unwrap(),
            },
            StaticRoute {
                to: "fd00:231::/64".parse().unwrap(),
                via: "fd00:230::2".parse().unwrap(),
            },
        ];
        assert_eq!(
            node_route_commands(&routes),
            [
                [
                    "ip",
                    "route",
                    "replace",
                    "10.231.2.0/24",
                    "via",
                    "10.231.1.2"
                ],
                [
                    "ip",
                    "route",
                    "replace",
                    "fd00:231::/64",
                    "via",
                    "fd00:230::2"
                ],
            ]
        );
        assert!(node_route_commands(&[]).is_empty());
    }

    fn container(name: &str, labels: &[(&str, &str)], networks: &[&str]) -> ContainerInfo {
        ContainerInfo {
            name: name.to_string(),
            id: format!("id-{name}"),
            image: "kindest/node:v1.33.1".to_string(),
            state: "running".to_string(),
            running: true,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            networks: networks.iter().map(|n| (n.to_string(), None)).collect(),
        }
    }

    #[test]
    fn a_cluster_is_the_labs_only_on_a_lab_network() {
        let lab_networks: BTreeSet<String> = ["metallab-lab1-kind".to_string()].into();
        let kind_node = |name: &str, cluster: &str, role: &str, net: &str| {
            container(
                name,
                &[(labels::KIND_CLUSTER, cluster), (labels::KIND_ROLE, role)],
                &[net],
            )
        };
        let minikube_node = |name: &str, net: &str| {
            container(
                name,
                &[
                    (labels::MINIKUBE_CREATED_BY, "true"),
                    (labels::MINIKUBE_NAME, name),
                ],
                &[net],
            )
        };
        let candidates = vec![
            // The lab's kind cluster: the control plane on the lab network, the worker
            // also on a second (unlabelled) network.
            kind_node(
                "lab1-control-plane",
                "lab1",
                "control-plane",
                "metallab-lab1-kind",
            ),
            container(
                "lab1-worker",
                &[
                    (labels::KIND_CLUSTER, "lab1"),
                    (labels::KIND_ROLE, "worker"),
                ],
                &["metallab-lab1-kind", "other"],
            ),
            // The lab's minikube cluster, both machines.
            minikube_node("lab1", "metallab-lab1-kind"),
            minikube_node("lab1-m02", "metallab-lab1-kind"),
            // A user's minikube profile with a similar name, on its own network.
            minikube_node("lab10", "lab10"),
        ];
        let found = lab_clusters("lab1", &lab_networks, &candidates);
        assert_eq!(
            found,
            [
                FoundCluster {
                    provider: Provider::Kind,
                    name: "lab1".into(),
                    containers: vec!["lab1-control-plane".into(), "lab1-worker".into()],
                },
                FoundCluster {
                    provider: Provider::Minikube,
                    name: "lab1".into(),
                    containers: vec!["lab1".into(), "lab1-m02".into()],
                },
            ]
        );

        // The user's own kind cluster named like the lab, on kind's network: not ours.
        let users = vec![
            kind_node("lab1-control-plane", "lab1", "control-plane", "kind"),
            minikube_node("lab1", "lab1"),
        ];
        assert!(lab_clusters("lab1", &lab_networks, &users).is_empty());
        // No lab network at all: nothing is the lab's.
        assert!(lab_clusters("lab1", &BTreeSet::new(), &candidates).is_empty());
    }
}
