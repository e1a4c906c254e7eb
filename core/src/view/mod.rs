//! The lab as one page shows it: the pure view model behind `metallab spy`'s dashboard and
//! its `/api/state` JSON.
//!
//! [`lab_view`] joins what the plan says the lab should be (networks, routers, planned
//! sessions) with what was read from it at one moment (each router's normalized state or
//! the reason it could not be read, the cluster, the node addresses): peers get names,
//! sessions get a colour-able status, next hops that are cluster nodes are marked, every
//! router gets a plain-language summary line, and the diagram is laid out. No I/O here:
//! the same inputs always give the same view, so it is snapshot-tested.
//!
//! It is the one read model: `metallab status` (text and JSON), its snapshot and the
//! dashboard all show a `LabView`. Field names are part of the `/api/state` and `status
//! -o json` contract (README "Dashboard").

mod build;
pub mod diagram;
pub mod problems;
pub mod routes;
pub mod status;
mod summary;
pub mod table;
#[cfg(test)]
mod tests;
pub mod timings;

pub use build::{LabReading, RouterReading, lab_view};
pub use diagram::Diagram;

use crate::state::cluster::{EventInfo, PodInfo, ServiceInfo};
use crate::state::{RawOutput, SessionState};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabView {
    pub lab: String,
    /// Where the topology came from (a path, or `builtin:<name>`).
    pub source: String,
    /// When the routers were read (Unix time, milliseconds).
    pub read_at_ms: u64,
    /// One line for the whole lab, e.g. "4 routers, 1 host: 6 of 6 sessions established".
    pub summary: String,
    /// Every router readable, every session established, every node ready.
    pub healthy: bool,
    pub networks: Vec<NetworkView>,
    pub routers: Vec<RouterView>,
    /// Cluster nodes (from the cluster, else from the node addresses alone).
    pub nodes: Vec<NodeView>,
    /// Every BGP session once, both ends merged: the diagram's edges.
    pub sessions: Vec<SessionEdge>,
    pub cluster: Option<ClusterView>,
    /// Why the cluster could not be read, when it could not.
    pub cluster_error: Option<String>,
    /// What is wrong that is no one router's: networks and the cluster (each router's are
    /// in its `problems`).
    pub problems: Vec<problems::Reported>,
    /// Faults put into the lab on purpose (`metallab fault`) and still in effect.
    pub faults: Vec<crate::faults::ActiveFault>,
    pub diagram: Diagram,
}

impl LabView {
    /// The view without what changes on every reading even when nothing happened (session
    /// and BFD clocks, the reading time, the raw CLI text with its own clocks). Two
    /// readings with equal fingerprints show the same lab; the dashboard pushes an update
    /// only when the fingerprint changes.
    pub fn fingerprint(&self) -> String {
        let mut quiet = self.clone();
        quiet.read_at_ms = 0;
        for r in &mut quiet.routers {
            r.raw.clear();
            for s in &mut r.sessions {
                s.since_secs = None;
            }
            for b in &mut r.bfd_peers {
                b.since_secs = None;
            }
        }
        serde_json::to_string(&quiet).expect("the view serializes")
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NetworkView {
    pub name: String,
    pub docker_name: String,
    pub subnet: String,
    pub internal: bool,
    /// Whether Docker has it; None when not looked at.
    pub present: Option<bool>,
}

/// What a box in the lab is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A BGP speaker (FRR, BIRD, GoBGP, Quagga).
    Router,
    /// A plain Linux container: next-hop router, client, server.
    Host,
    /// A Kubernetes node (MetalLB speaker).
    Node,
    /// An address a router peers with that is no part of the lab.
    External,
}

/// How well a router (or node) is doing, for colours and badges.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    Ok,
    /// Readable, but a session is not established (or a node not ready).
    Degraded,
    /// Its state could not be read.
    Unreadable,
    /// Not read (yet), or nothing to read.
    Unknown,
}

/// A session's state as a colour: established green, on its way amber, down red, not
/// known grey.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum LinkStatus {
    Established,
    /// Connect, Active, OpenSent, OpenConfirm: trying.
    Connecting,
    /// Idle, admin-down, or planned but not configured in the daemon.
    Down,
    /// Nobody at either end could be read.
    Unknown,
}

impl LinkStatus {
    pub fn of(state: SessionState) -> LinkStatus {
        match state {
            SessionState::Established => LinkStatus::Established,
            SessionState::Connect
            | SessionState::Active
            | SessionState::OpenSent
            | SessionState::OpenConfirm => LinkStatus::Connecting,
            SessionState::Idle | SessionState::AdminDown => LinkStatus::Down,
        }
    }
}

/// A session's state as metallab shows it: what the daemon says, or why there is
/// nothing to say. Written as the daemon's state (`established`, `active`…),
/// `not-configured` or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerState {
    Bgp(SessionState),
    /// The plan has the session and the daemon does not.
    NotConfigured,
    /// The router could not be read.
    Unknown,
}

impl PeerState {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerState::Bgp(state) => state.as_str(),
            PeerState::NotConfigured => "not-configured",
            PeerState::Unknown => "unknown",
        }
    }

    pub fn is_established(self) -> bool {
        self == PeerState::Bgp(SessionState::Established)
    }

    /// Its colour.
    pub fn status(self) -> LinkStatus {
        match self {
            PeerState::Bgp(state) => LinkStatus::of(state),
            PeerState::NotConfigured => LinkStatus::Down,
            PeerState::Unknown => LinkStatus::Unknown,
        }
    }
}

impl std::fmt::Display for PeerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PeerState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PeerState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "not-configured" => Ok(PeerState::NotConfigured),
            "unknown" => Ok(PeerState::Unknown),
            other => SessionState::parse(other)
                .map(PeerState::Bgp)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown session state `{other}`"))
                }),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouterView {
    pub name: String,
    /// `frr`, `bird`, `gobgp`, `quagga`, `linux`.
    pub kind: String,
    pub role: Role,
    pub asn: Option<u32>,
    pub addresses: Vec<AddressView>,
    pub health: Health,
    /// Plain language: "2 of 2 sessions established, 3 routes learned",
    /// "connected to 2 of 3 nodes, knows 198.51.100.1 via all 3",
    /// "cannot read state: …".
    pub summary: String,
    /// Why the state could not be read.
    pub error: Option<String>,
    /// Its container (or pod) as found; None when not looked at.
    pub container: Option<problems::ContainerCondition>,
    /// One entry per thing that is wrong, most fundamental first; empty when healthy.
    pub problems: Vec<problems::Reported>,
    pub sessions: Vec<SessionView>,
    pub routes: Vec<RouteView>,
    pub bfd_peers: Vec<BfdView>,
    /// As the router's state has them (the same fields the view would copy).
    pub kernel_routes: Vec<crate::state::KernelRoute>,
    /// The exact CLI commands run and what they printed.
    pub raw: Vec<RawOutput>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AddressView {
    pub network: String,
    pub ip: IpAddr,
    pub prefix_len: u8,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionView {
    /// Router name, node name, or the address itself.
    pub peer: String,
    pub peer_address: IpAddr,
    pub peer_role: Role,
    pub remote_as: Option<u32>,
    pub state: PeerState,
    pub status: LinkStatus,
    /// Seconds in this state, when the daemon says.
    pub since_secs: Option<u64>,
    pub prefixes_received: Option<u64>,
    /// Whether the plan asked for this session (false: configured by hand).
    pub planned: bool,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouteView {
    pub prefix: IpNet,
    /// Originated by this router (a path with no peer).
    pub local: bool,
    pub paths: Vec<PathView>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PathView {
    pub next_hop: Option<IpAddr>,
    /// The router or node the next hop belongs to.
    pub next_hop_name: Option<String>,
    /// The next hop is a cluster node.
    pub next_hop_is_node: bool,
    pub best: bool,
    pub local: bool,
    /// Who sent it: router or node name, or the address.
    pub from_peer: Option<String>,
    pub as_path: Vec<u32>,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    pub communities: Vec<String>,
    pub origin: Option<crate::state::Origin>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BfdView {
    pub peer: String,
    pub peer_address: IpAddr,
    /// `up`, `down`, `init`, `admin-down`.
    pub state: String,
    pub since_secs: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodeView {
    pub name: String,
    pub ip: Option<IpAddr>,
    /// The lab network its address is on.
    pub network: Option<String>,
    pub roles: Vec<String>,
    /// None when only the address is known.
    pub ready: Option<bool>,
    pub health: Health,
    /// A cluster node that is none of the lab's (`cluster.node-addresses` lists others):
    /// it has no address on the lab's networks, and needs none.
    pub outside_lab: bool,
}

/// One BGP session seen from both ends.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionEdge {
    /// `<device>~<device>` with the two device ids sorted.
    pub id: String,
    /// Device ids (`router:frr1`, `node:kind-worker`, `external:192.0.2.9`), sorted.
    pub a: String,
    pub b: String,
    /// Established only when every end that could be read says so.
    pub status: LinkStatus,
    /// What each readable end says, e.g. `frr1: established`.
    pub ends: Vec<EdgeEnd>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EdgeEnd {
    pub router: String,
    pub state: PeerState,
    pub status: LinkStatus,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClusterView {
    pub provider: String,
    pub name: String,
    /// e.g. "3 nodes ready; MetalLB: 4 of 4 pods ready; 1 LoadBalancer service, 1 IP".
    pub summary: String,
    pub services: Vec<ServiceInfo>,
    pub metallb_pods: Vec<PodInfo>,
    /// The most recent events (at most [`MAX_EVENTS`]), oldest first.
    pub events: Vec<EventInfo>,
}

/// Events kept in the view: the page shows what just happened, not the history.
pub const MAX_EVENTS: usize = 20;
