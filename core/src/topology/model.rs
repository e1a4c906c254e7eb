//! The topology file as the user writes it (DESIGN.md §3).
//!
//! These types mirror the YAML one to one and are deliberately plain: strict serde
//! (`deny_unknown_fields`) catches typos and wrong types, `validate` catches everything
//! semantic, and `plan` turns a valid topology into decided names, addresses and peers.

use indexmap::IndexMap;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// Hold time of sessions that do not set one. Daemon defaults (90–240 s) would leave a
/// stopped router "established" at its peers for minutes; a lab wants to see failures
/// within seconds (MetalLB's own e2e uses 3 s). Keepalives go out every third of it.
pub const DEFAULT_HOLD_TIME: u16 = 9;

/// Docker container name of a router: `metallab-<lab>-<router>`.
pub fn container_name(lab: &str, router: &str) -> String {
    format!("metallab-{lab}-{router}")
}

/// Networks written without a subnet get a free /24 from here.
pub const SUBNET_POOL: ipnet::Ipv4Net =
    ipnet::Ipv4Net::new_assert(std::net::Ipv4Addr::new(10, 201, 0, 0), 16);

/// BGP's TCP port.
pub const BGP_PORT: u16 = 179;

/// How many routers of a lab may run in the cluster: each takes one of this many fixed
/// Service addresses (see `plan::service_address`).
pub const IN_CLUSTER_ROUTER_LIMIT: u32 = 100;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Topology {
    /// Lab name; prefixes every Docker resource (`metallab-<name>-…`).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterSpec>,
    #[serde(default)]
    pub networks: IndexMap<String, NetworkSpec>,
    #[serde(default)]
    pub routers: IndexMap<String, RouterSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<NodesSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metallb: Option<MetallbSpec>,
    /// Manifests applied after MetalLB is ready; paths relative to the topology file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckSpec>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterProvider {
    #[default]
    Kind,
    Minikube,
    Existing,
    None,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClusterSpec {
    #[serde(default)]
    pub provider: ClusterProvider,
    /// Control-plane nodes (kind only; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_planes: Option<u32>,
    /// Worker nodes (default 0 for kind, 0 for minikube: only the primary node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<u32>,
    /// The lab network the nodes sit on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Node image (kind) or Kubernetes version (minikube).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// `existing` provider: kubeconfig path and context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// `existing` provider: node addresses when they cannot be discovered from Docker.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_addresses: Vec<IpAddr>,
}

impl ClusterSpec {
    /// The node count of a multi-node Minikube cluster, whose nodes minikube places right
    /// after the network's gateway whatever Docker's IP range says (minikube#18567); None
    /// for anything else.
    pub fn minikube_multi_node(&self) -> Option<u32> {
        let nodes = 1 + self.workers.unwrap_or(0);
        (self.provider == ClusterProvider::Minikube && nodes > 1).then_some(nodes)
    }

    /// Whether metallab creates the nodes as Docker containers on a lab network (kind,
    /// Minikube's docker driver).
    pub fn creates_nodes(&self) -> bool {
        matches!(
            self.provider,
            ClusterProvider::Kind | ClusterProvider::Minikube
        )
    }
}

impl Topology {
    /// The lab network the cluster's nodes sit on: `cluster.network` as written; else, for
    /// kind and Minikube, the lab's only network when it has exactly one (the only reading
    /// that lets its routers reach the nodes), or a network named after the provider that
    /// metallab creates. None without a cluster, or for `existing` without `network:`.
    pub fn node_network(&self) -> Option<&str> {
        let cluster = self.cluster.as_ref()?;
        match (&cluster.network, cluster.provider) {
            (_, ClusterProvider::None) => None,
            (Some(n), _) => Some(n.as_str()),
            (None, ClusterProvider::Existing) => None,
            (None, provider) => {
                if self.networks.len() == 1 {
                    self.networks.keys().next().map(String::as_str)
                } else if provider == ClusterProvider::Kind {
                    Some("kind")
                } else {
                    Some("minikube")
                }
            }
        }
    }
}

/// The addresses minikube gives the nodes of a multi-node cluster: gateway + 1, + 2, …
pub fn addresses_after_gateway(gateway: std::net::Ipv4Addr, count: u32) -> Vec<std::net::Ipv4Addr> {
    (1..=count)
        .map(|i| std::net::Ipv4Addr::from(u32::from(gateway).saturating_add(i)))
        .collect()
}

/// Where Docker hands out addresses to cluster nodes on their network: the upper half of
/// the subnet (Docker's `--ip-range`). kind and Minikube nodes take dynamic addresses from
/// it, while routers get fixed ones from the lower half, so the two can never collide.
pub fn node_address_range(subnet: ipnet::Ipv4Net) -> ipnet::Ipv4Net {
    let half = subnet.prefix_len() + 1;
    subnet
        .subnets(half)
        .ok()
        .and_then(|mut s| s.nth(1))
        .unwrap_or(subnet)
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NetworkSpec {
    /// IPv4 subnet; picked free from 10.201.0.0/16 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<IpNet>,
    /// Gateway (the host bridge's address); defaults to the first host address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// Internal networks have no route out of the host. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<bool>,
}

pub use crate::kinds::RouterKind;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// A container on the lab's Docker networks (default).
    #[default]
    Docker,
    /// A Deployment inside the cluster, for clusters external containers cannot reach.
    Cluster,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RouterSpec {
    pub kind: RouterKind,
    /// Image override, e.g. an upstream FRR image; the driver still works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_id: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// Network name → interface settings.
    #[serde(default)]
    pub interfaces: IndexMap<String, InterfaceSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteSpec>,
    /// IP forwarding (a next-hop router between networks).
    #[serde(default)]
    pub forward: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbors: Vec<NeighborSpec>,
    /// Prefixes this router originates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub announce: Vec<IpNet>,
    /// Re-advertise routes learned from one peer to the others. Default false: a lab
    /// router is a stub that announces only its own prefixes, so next-hop sets stay exact.
    #[serde(default)]
    pub transit: bool,
    /// Serve HTTP on this port (busybox httpd) answering with the router's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_server: Option<u16>,
    /// Shell commands run inside the container after it is configured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InterfaceSpec {
    /// Static address; allocated from the network when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RouteSpec {
    pub to: IpNet,
    pub via: IpAddr,
}

/// `multihop: true` (TTL 255) or `multihop: 2` (explicit TTL).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Multihop {
    Enabled(bool),
    Ttl(u8),
}

impl Multihop {
    /// The TTL to configure, or None for a directly connected session.
    pub fn ttl(self) -> Option<u8> {
        match self {
            Multihop::Enabled(true) => Some(255),
            Multihop::Enabled(false) => None,
            Multihop::Ttl(t) => Some(t),
        }
    }
}

/// `bfd: true` (daemon defaults) or `bfd: fast` (a profile from `metallb.bfd-profiles`
/// or the top-level `bfd-profiles`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum BfdSetting {
    Enabled(bool),
    Profile(String),
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NeighborSpec {
    /// A router name, `nodes` (every cluster node), or an IP address (needs `asn`).
    pub to: String,
    /// Peer ASN; defaults to the peer router's `asn` (or `metallb.asn` for nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multihop: Option<Multihop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bfd: Option<BfdSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Our address for this session when the router has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<IpAddr>,
    #[serde(default)]
    pub passive: bool,
    /// Hold time in seconds (0 or 3–65535).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_time: Option<u16>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NodesSpec {
    /// Static routes added inside every cluster node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteSpec>,
}

pub use crate::metallb::version::MetallbMode;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MetallbSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MetallbMode>,
    pub asn: u32,
    /// Local path or URL of the manifests, for air-gapped use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifests: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<MetallbPeerSpec>,
    #[serde(default)]
    pub pools: IndexMap<String, PoolSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advertisements: Vec<AdvertisementSpec>,
    #[serde(default)]
    pub bfd_profiles: IndexMap<String, BfdProfileSpec>,
    /// Community aliases: name → `65000:100` or `large:1:2:3`.
    #[serde(default)]
    pub communities: IndexMap<String, String>,
}

impl MetallbSpec {
    /// The release and mode this section asks for: with `manifests:`, any well-formed
    /// version.
    pub fn setup(&self) -> Result<crate::metallb::MetallbSetup, crate::metallb::VersionError> {
        crate::metallb::MetallbSetup::resolve_with(
            self.version.as_deref(),
            self.mode,
            self.manifests.is_some(),
        )
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MetallbPeerSpec {
    /// The router MetalLB peers with; its address on the nodes' side is resolved.
    pub router: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub multihop: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bfd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_id: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_address: Option<IpAddr>,
    /// Only nodes with these labels peer.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub node_selector: IndexMap<String, String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PoolProtocol {
    #[default]
    Bgp,
    Layer2,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PoolSpec {
    /// CIDRs (`203.0.113.0/28`) or ranges (`203.0.113.10-203.0.113.20`).
    pub addresses: Vec<String>,
    #[serde(default)]
    pub avoid_buggy_ips: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_assign: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<PoolProtocol>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AdvertisementSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localpref: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_length: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_length_v6: Option<u8>,
    /// Router names; empty means every peer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BfdProfileSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_interval: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transmit_interval: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect_multiplier: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_interval: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_mode: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive_mode: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_ttl: Option<u32>,
}

/// `nexthops: nodes` or `nexthops: [frr1, 10.0.0.5, nodes]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// One check, written flat: which kind it is follows from which key is present
/// (`session`, `route`, `kernel-route`, `bfd`, `http`, `ping`, `service`). Validation
/// rejects checks with none or several and keys that do not belong to their kind.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CheckSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Deadline for this check (`30s`, `2m`); default 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// The router whose state is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router: Option<String>,
    /// The router or host traffic is sent from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,

    /// Session check: a router name, `nodes`, or an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Expected state: `established`, `idle`, `active`… for sessions; `up`/`down` for BFD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<IpNet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_route: Option<IpNet>,
    /// The route must not be there.
    #[serde(default)]
    pub absent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nexthops: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_pref: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_path: Option<Vec<u32>>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bfd: Option<String>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping: Option<String>,

    /// `namespace/name` of a LoadBalancer Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// An event reason expected on the Service (or the MetalLB ConfigMap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}
