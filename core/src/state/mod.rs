//! The one normalized router-state model (DESIGN.md §5).
//!
//! Every driver's parsers fill it (FRR JSON, BIRD text, GoBGP JSON, Quagga text, iproute2
//! JSON); every check, table and web page reads it. Field meanings are those of BGP, not of
//! any one daemon, so a check written once works against all router kinds.

pub mod cluster;

pub use cluster::ClusterState;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What one router knows, read through its own CLI at one moment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RouterState {
    pub sessions: Vec<Session>,
    pub routes: Vec<Route>,
    pub bfd_peers: Vec<BfdPeer>,
    /// The container's kernel routing table (`ip -j route`), when read.
    pub kernel_routes: Vec<KernelRoute>,
}

impl RouterState {
    pub fn session(&self, peer: IpAddr) -> Option<&Session> {
        self.sessions.iter().find(|s| s.peer == peer)
    }

    pub fn route(&self, prefix: &IpNet) -> Option<&Route> {
        self.routes.iter().find(|r| &r.prefix == prefix)
    }

    pub fn bfd_peer(&self, peer: IpAddr) -> Option<&BfdPeer> {
        self.bfd_peers.iter().find(|b| b.peer == peer)
    }

    pub fn kernel_route(&self, prefix: &IpNet) -> Option<&KernelRoute> {
        self.kernel_routes.iter().find(|r| &r.prefix == prefix)
    }
}

/// BGP finite-state-machine states (RFC 4271 §8.2.2), plus admin-down.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum SessionState {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
    /// Administratively disabled/shut down.
    AdminDown,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Idle => "idle",
            SessionState::Connect => "connect",
            SessionState::Active => "active",
            SessionState::OpenSent => "opensent",
            SessionState::OpenConfirm => "openconfirm",
            SessionState::Established => "established",
            SessionState::AdminDown => "admin-down",
        }
    }

    /// Lenient parse of the state names the daemons print (`Established`, `OpenSent`,
    /// `ESTABLISHED`, `Idle (Admin)`, `BGP_FSM_ESTABLISHED`…).
    pub fn parse(s: &str) -> Option<SessionState> {
        let t: String = s
            .trim()
            .to_ascii_lowercase()
            .replace("bgp_fsm_", "")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '(')
            .collect();
        if t.contains("admin") {
            return Some(SessionState::AdminDown);
        }
        let t = t.split('(').next().unwrap_or("");
        Some(match t {
            "idle" => SessionState::Idle,
            "connect" => SessionState::Connect,
            "active" => SessionState::Active,
            "opensent" => SessionState::OpenSent,
            "openconfirm" => SessionState::OpenConfirm,
            "established" => SessionState::Established,
            "admindown" | "disabled" => SessionState::AdminDown,
            _ => return None,
        })
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    pub peer: IpAddr,
    pub remote_as: Option<u32>,
    pub local_as: Option<u32>,
    pub state: SessionState,
    /// Seconds since the last state change (up or down), when the daemon says.
    pub since_secs: Option<u64>,
    /// Prefixes accepted from this peer (only meaningful when established).
    pub prefixes_received: Option<u64>,
    /// The daemon's name for the session (BIRD protocol name, FRR description).
    pub name: Option<String>,
    /// Why the session last went down, when the daemon says.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Igp,
    Egp,
    Incomplete,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Route {
    pub prefix: IpNet,
    pub paths: Vec<Path>,
}

impl Route {
    /// Next hops of every path (what MetalLB's e2e compares against the node IPs).
    pub fn next_hops(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self.paths.iter().filter_map(|p| p.next_hop).collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn best(&self) -> Option<&Path> {
        self.paths.iter().find(|p| p.best)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Path {
    /// None for locally originated paths with no next hop (0.0.0.0 / blackhole).
    pub next_hop: Option<IpAddr>,
    pub best: bool,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    pub as_path: Vec<u32>,
    /// Standard communities as `a:b`, large ones as `large:a:b:c`.
    pub communities: Vec<String>,
    pub origin: Option<Origin>,
    /// The peer this path was learned from; None when originated here.
    pub from_peer: Option<IpAddr>,
    /// Originated by this router.
    pub local: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum BfdState {
    Up,
    Down,
    Init,
    AdminDown,
}

impl BfdState {
    pub fn as_str(self) -> &'static str {
        match self {
            BfdState::Up => "up",
            BfdState::Down => "down",
            BfdState::Init => "init",
            BfdState::AdminDown => "admin-down",
        }
    }

    pub fn parse(s: &str) -> Option<BfdState> {
        let t: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        Some(match t.as_str() {
            "up" => BfdState::Up,
            "down" => BfdState::Down,
            "init" => BfdState::Init,
            "admindown" | "shutdown" => BfdState::AdminDown,
            _ => return None,
        })
    }
}

impl std::fmt::Display for BfdState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BfdPeer {
    pub peer: IpAddr,
    pub local: Option<IpAddr>,
    pub interface: Option<String>,
    pub state: BfdState,
    pub since_secs: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KernelRoute {
    pub prefix: IpNet,
    /// Gateways (several for ECMP); empty for connected or blackhole routes.
    pub nexthops: Vec<IpAddr>,
    pub device: Option<String>,
    /// `kernel`, `bgp`, `bird`, `static`, `boot`… as iproute2 names it.
    pub protocol: Option<String>,
    /// `unicast`, `blackhole`, `unreachable`…
    pub route_type: Option<String>,
}

/// The raw CLI text behind a state reading: shown in failure reports, snapshots and `spy`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RawOutput {
    pub command: String,
    pub output: String,
}

/// What a command run inside a router (a container or a pod) returned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}
