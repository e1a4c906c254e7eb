//! The resolved plan: every name, address, peer and check decided, before any I/O.
//!
//! `plan::build` produces it from a validated topology; the engine executes it, the
//! renderer turns routers into daemon configs, and checks are evaluated against it.
//! It is serialized into the lab state directory so `status`, `check` and `down` work
//! without the topology file.

use crate::topology::model::{ClusterSpec, MetallbSpec, NodesSpec, Placement, RouterKind};
use ipnet::{IpNet, Ipv4Net};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

/// Docker label keys. Everything metallab creates carries `LAB`; `down` works from labels only.
pub mod labels {
    pub const LAB: &str = "io.metallab.lab";
    /// `router`, `network`, `cluster-network`.
    pub const ROLE: &str = "io.metallab.role";
    /// The name in the topology (router or network name).
    pub const NAME: &str = "io.metallab.name";
    /// Router kind (`frr`, `bird`, …).
    pub const KIND: &str = "io.metallab.kind";
    /// Absolute path of the topology file the lab came from.
    pub const TOPOLOGY: &str = "io.metallab.topology";
    /// Router image kind label, set on images built by metallab.
    pub const IMAGE: &str = "io.metallab.image";
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    pub lab: String,
    /// Where the topology came from (a path, or `builtin:<name>`).
    pub source: String,
    pub networks: Vec<PlannedNetwork>,
    pub routers: Vec<PlannedRouter>,
    pub checks: Vec<PlannedCheck>,
    /// Acted on by the cluster phase (issue 3); carried through unchanged for now.
    pub cluster: Option<ClusterSpec>,
    pub nodes: Option<NodesSpec>,
    pub metallb: Option<MetallbSpec>,
    /// Absolute paths of app manifests.
    pub apps: Vec<PathBuf>,
    /// The cluster's nodes once it is up (what `nodes` stands for in sessions and checks);
    /// empty before, and for labs without a cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_nodes: Vec<ClusterNode>,
}

impl Plan {
    pub fn router(&self, name: &str) -> Option<&PlannedRouter> {
        self.routers.iter().find(|r| r.name == name)
    }

    pub fn network(&self, name: &str) -> Option<&PlannedNetwork> {
        self.networks.iter().find(|n| n.name == name)
    }

    /// Docker container name of a router: `metallab-<lab>-<router>`.
    pub fn container_name(lab: &str, router: &str) -> String {
        crate::topology::model::container_name(lab, router)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedNetwork {
    /// Name in the topology.
    pub name: String,
    /// Docker network name (`metallab-<lab>-<name>`, or the name itself for a cluster
    /// network the user named explicitly).
    pub docker_name: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub internal: bool,
    /// Whether the subnet was picked by metallab (not written in the file).
    pub subnet_allocated: bool,
    /// On the cluster's node network: where Docker gives kind/Minikube nodes their
    /// addresses (`--ip-range`); routers are planned outside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_range: Option<Ipv4Net>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedRouter {
    pub name: String,
    /// Docker container name.
    pub container: String,
    pub kind: RouterKind,
    /// The image to run: the user's `image:` or the built-in image tag for the kind.
    pub image: String,
    /// True when `image` is metallab's own (built from router-images/ when missing).
    pub builtin_image: bool,
    pub asn: Option<u32>,
    pub router_id: Ipv4Addr,
    /// In attach order: the first is the network the container is created on.
    pub interfaces: Vec<PlannedInterface>,
    pub routes: Vec<StaticRoute>,
    pub forward: bool,
    pub sessions: Vec<PlannedSession>,
    /// `neighbors: [{to: nodes}]` entries, expanded into sessions once node IPs are known.
    pub node_sessions: Vec<SessionTemplate>,
    pub announce: Vec<IpNet>,
    pub transit: bool,
    pub http_server: Option<u16>,
    pub exec: Vec<String>,
    /// Docker container (default) or Deployment in the cluster. An in-cluster router's
    /// only interface is its Service's ClusterIP on the pseudo network
    /// `service_address::SERVICE_NETWORK` (see `plan::service_address`).
    #[serde(default, skip_serializing_if = "is_docker")]
    pub placement: Placement,
}

fn is_docker(placement: &Placement) -> bool {
    *placement == Placement::Docker
}

impl PlannedRouter {
    /// The router's address on a network, if it has one there.
    pub fn ip_on(&self, network: &str) -> Option<IpAddr> {
        self.interfaces
            .iter()
            .find(|i| i.network == network)
            .map(|i| i.ip)
    }

    pub fn addresses(&self) -> Vec<IpAddr> {
        self.interfaces.iter().map(|i| i.ip).collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedInterface {
    /// Network name in the topology.
    pub network: String,
    pub docker_network: String,
    pub ip: IpAddr,
    pub prefix_len: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StaticRoute {
    pub to: IpNet,
    pub via: IpAddr,
}

/// Who is at the other end of a session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", tag = "type", content = "name")]
pub enum PeerRef {
    Router(String),
    /// A cluster node (MetalLB speaker), by node name when known.
    Node(String),
    /// A bare address outside the lab's routers.
    External,
}

/// BFD timers in milliseconds (MetalLB's BFDProfile units).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct BfdTimers {
    pub receive_interval_ms: u32,
    pub transmit_interval_ms: u32,
    pub detect_multiplier: u32,
}

impl Default for BfdTimers {
    /// MetalLB's BFDProfile defaults.
    fn default() -> Self {
        BfdTimers {
            receive_interval_ms: 300,
            transmit_interval_ms: 300,
            detect_multiplier: 3,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedSession {
    pub peer: PeerRef,
    /// A config-safe identifier for the session (`bird1`, `node_10_0_1_3`).
    pub id: String,
    pub local_address: IpAddr,
    pub peer_address: IpAddr,
    pub local_asn: u32,
    pub peer_asn: u32,
    /// TTL for multihop sessions; None when directly connected.
    pub multihop: Option<u8>,
    pub bfd: Option<BfdTimers>,
    pub password: Option<String>,
    pub passive: bool,
    pub hold_time: Option<u16>,
}

impl PlannedSession {
    pub fn is_ibgp(&self) -> bool {
        self.local_asn == self.peer_asn
    }
}

/// A session towards every cluster node, before node addresses are known.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionTemplate {
    pub local_address: IpAddr,
    pub local_asn: u32,
    pub peer_asn: u32,
    pub multihop: Option<u8>,
    pub bfd: Option<BfdTimers>,
    pub password: Option<String>,
    pub passive: bool,
    pub hold_time: Option<u16>,
}

pub use crate::topology::model::DEFAULT_HOLD_TIME;

/// Default per-check deadline (DESIGN.md §7).
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedCheck {
    /// Unique, human-readable (the user's `name:` or a generated one like
    /// `frr1: route 192.0.2.0/24 via bird1`).
    pub name: String,
    #[serde(with = "humantime_serde_secs")]
    pub timeout: Duration,
    pub kind: CheckKind,
}

/// An address a check expects, written as a router name, an IP or `nodes`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", tag = "type", content = "value")]
pub enum Expected {
    Address(IpAddr),
    /// Every cluster node's address (resolved at check time).
    Nodes,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", tag = "check")]
pub enum CheckKind {
    Session {
        router: String,
        peers: Vec<Expected>,
        state: crate::state::SessionState,
    },
    Route {
        router: String,
        prefix: IpNet,
        present: bool,
        nexthops: Option<Vec<Expected>>,
        local_pref: Option<u32>,
        communities: Option<Vec<String>>,
        as_path: Option<Vec<u32>>,
    },
    KernelRoute {
        router: String,
        prefix: IpNet,
        present: bool,
        nexthops: Option<Vec<Expected>>,
    },
    Bfd {
        router: String,
        peers: Vec<Expected>,
        state: crate::state::BfdState,
    },
    Http {
        from: String,
        url: String,
        status: u16,
    },
    Ping {
        from: String,
        target: IpAddr,
    },
    Service {
        namespace: String,
        name: String,
        ip: Option<IpAddr>,
        pool: Option<String>,
        event: Option<String>,
    },
}

/// Durations serialize as whole seconds in the plan file, which stays readable.
mod humantime_serde_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Ok(Duration::from_secs_f64(secs))
    }
}

/// A cluster node as the routers see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClusterNode {
    pub name: String,
    /// The node's address on the network the routers peer over.
    pub ip: IpAddr,
}

/// A config-safe identifier: letters, digits and `_`.
pub fn session_id(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The longest Kubernetes namespace name (a DNS label).
const MAX_LAB_NAMESPACE_LEN: usize = 63;

/// The lab's namespace: `metallab-<lab>`; a lab name too long for a DNS label is cut and
/// suffixed with a hash of the whole name, so the result stays unique and valid.
pub fn lab_namespace(lab: &str) -> String {
    let full = format!("metallab-{lab}");
    if full.len() <= MAX_LAB_NAMESPACE_LEN {
        return full;
    }
    let hash = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(lab.as_bytes())[..4]);
    let room = MAX_LAB_NAMESPACE_LEN - "metallab-".len() - 1 - hash.len();
    let cut = lab[..room].trim_end_matches('-');
    format!("metallab-{cut}-{hash}")
}
