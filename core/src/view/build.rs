//! Plan + one reading of the lab → [`LabView`] (pure).

use super::problems::{self, ContainerCondition, DaemonReading, Problem, Reported};
use super::summary::{cluster_summary, lab_summary, router_summary};
use super::*;
use crate::plan::{PeerRef, Plan, PlannedRouter};
use crate::state::cluster::NodeInfo;
use crate::state::{ClusterState, Path, RouterState};
use std::collections::{BTreeMap, HashMap};

/// One router read through its own CLI: the normalized state and the raw text it came
/// from, or why it could not be read (what `DockerProbe::read_with_raw` returns).
pub type RouterReading = Result<(RouterState, Vec<RawOutput>), String>;

/// Everything read from a running lab at one moment.
#[derive(Debug, Clone, Default)]
pub struct LabReading {
    /// By router name. A router missing here was not read (shown as not read yet).
    pub routers: HashMap<String, RouterReading>,
    /// None when the lab has no cluster (or it is not wired in).
    pub cluster: Option<ClusterState>,
    /// Why the cluster could not be read.
    pub cluster_error: Option<String>,
    /// The addresses `nodes` stands for; the cluster's own node list is used first.
    pub node_ips: Vec<IpAddr>,
    /// When the reading was taken (Unix time, milliseconds).
    pub read_at_ms: u64,
    /// Each router's container (or pod) as found, by router name; a router missing here
    /// was not looked at.
    pub containers: HashMap<String, ContainerCondition>,
    /// Lab networks the plan attaches a running container to but Docker no longer does
    /// (`docker network disconnect`), by router, by topology name.
    pub detached: HashMap<String, Vec<String>>,
    /// The Docker names of the lab's networks that exist; None when not looked at.
    pub networks_present: Option<Vec<String>>,
}

/// Who owns an address in this lab.
struct Names<'a> {
    plan: &'a Plan,
    nodes: &'a [NodeView],
}

impl Names<'_> {
    fn router_at(&self, ip: IpAddr) -> Option<&PlannedRouter> {
        self.plan
            .routers
            .iter()
            .find(|r| r.addresses().contains(&ip))
    }

    fn node_at(&self, ip: IpAddr) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.ip == Some(ip))
    }

    fn is_node(&self, ip: IpAddr) -> bool {
        self.node_at(ip).is_some()
    }

    /// Display name and role of whoever is at `ip`.
    fn name(&self, ip: IpAddr) -> (String, Role) {
        if let Some(r) = self.router_at(ip) {
            return (r.name.clone(), role_of(r));
        }
        if let Some(n) = self.node_at(ip) {
            return (n.name.clone(), Role::Node);
        }
        (ip.to_string(), Role::External)
    }

    /// The diagram's id of whoever is at `ip`.
    fn device_id(&self, ip: IpAddr) -> String {
        match self.name(ip) {
            (name, Role::Router | Role::Host) => router_id(&name),
            (name, Role::Node) => node_id(&name),
            (_, Role::External) => external_id(ip),
        }
    }
}

pub(super) fn router_id(name: &str) -> String {
    format!("router:{name}")
}

pub(super) fn node_id(name: &str) -> String {
    format!("node:{name}")
}

pub(super) fn external_id(ip: IpAddr) -> String {
    format!("external:{ip}")
}

fn role_of(r: &PlannedRouter) -> Role {
    if r.kind.speaks_bgp() {
        Role::Router
    } else {
        Role::Host
    }
}

/// The lab view of one reading.
pub fn lab_view(plan: &Plan, reading: &LabReading) -> LabView {
    let networks: Vec<NetworkView> = plan
        .networks
        .iter()
        .map(|n| NetworkView {
            name: n.name.clone(),
            docker_name: n.docker_name.clone(),
            subnet: n.subnet.to_string(),
            internal: n.internal,
            present: reading
                .networks_present
                .as_ref()
                .map(|present| present.contains(&n.docker_name)),
        })
        .collect();
    let nodes = node_views(plan, reading);
    let names = Names {
        plan,
        nodes: &nodes,
    };
    let cluster_nodes: &[NodeInfo] = reading.cluster.as_ref().map_or(&[], |c| &c.nodes);
    let routers: Vec<RouterView> = plan
        .routers
        .iter()
        .map(|r| {
            let mut view = router_view(r, reading.routers.get(&r.name), &names);
            view.container = reading.containers.get(&r.name).cloned();
            view.problems = router_problems(plan, r, reading, cluster_nodes);
            view
        })
        .collect();
    let lab_problems = lab_problems(&networks, reading);
    let sessions = session_edges(&routers, &names);
    let cluster = reading.cluster.as_ref().map(|c| ClusterView {
        provider: c.provider.clone(),
        name: c.name.clone(),
        summary: cluster_summary(c),
        services: c.services.clone(),
        metallb_pods: c.metallb_pods.clone(),
        events: c.events[c.events.len().saturating_sub(MAX_EVENTS)..].to_vec(),
    });
    let externals = external_peers(&routers);
    let diagram = diagram::layout(plan, &routers, &nodes, &externals, &sessions);
    let healthy = routers.iter().all(|r| r.health == Health::Ok)
        && sessions.iter().all(|s| s.status == LinkStatus::Established)
        && nodes.iter().all(|n| n.health != Health::Degraded)
        && reading
            .cluster
            .iter()
            .all(|c| c.metallb_pods.iter().all(|p| p.ready))
        && reading.cluster_error.is_none();
    LabView {
        lab: plan.lab.clone(),
        source: plan.source.clone(),
        read_at_ms: reading.read_at_ms,
        summary: lab_summary(&routers, &nodes, &sessions),
        healthy,
        networks,
        routers,
        nodes,
        sessions,
        cluster,
        cluster_error: reading.cluster_error.clone(),
        problems: lab_problems,
        faults: vec![],
        diagram,
    }
}

/// What is wrong with one router (pure): its container, its daemon, its sessions and BFD
/// peers against the plan, and the networks it lost.
fn router_problems(
    plan: &Plan,
    r: &PlannedRouter,
    reading: &LabReading,
    cluster_nodes: &[NodeInfo],
) -> Vec<Reported> {
    // Not looked at: judged by what its daemon said.
    let container = reading
        .containers
        .get(&r.name)
        .cloned()
        .unwrap_or(ContainerCondition::Running);
    let daemon = match reading.routers.get(&r.name) {
        _ if !r.kind.speaks_bgp() => DaemonReading::NotRead,
        None => DaemonReading::NotRead,
        Some(Ok((state, _))) => DaemonReading::Answered(state),
        Some(Err(e)) => DaemonReading::Failed(e),
    };
    let expected = problems::expected_sessions(plan, r, cluster_nodes);
    let workload = problems::Workload::of(&plan.lab, r);
    let mut found = problems::router_problems(&workload, &container, daemon, &expected);
    let detached = reading.detached.get(&r.name).map(Vec::as_slice);
    for network in detached.unwrap_or_default() {
        if let Some(interface) = r.interfaces.iter().find(|i| &i.network == network) {
            found.insert(
                0,
                Problem::InterfaceMissing {
                    network: network.clone(),
                    docker_name: interface.docker_network.clone(),
                    ip: interface.ip,
                },
            );
        }
    }
    found.into_iter().map(Reported::from).collect()
}

/// What is wrong with the lab's networks and its cluster (pure).
fn lab_problems(networks: &[NetworkView], reading: &LabReading) -> Vec<Reported> {
    let mut found: Vec<Reported> = networks
        .iter()
        .filter(|n| n.present == Some(false))
        .map(|n| {
            Problem::NetworkMissing {
                name: n.name.clone(),
                docker_name: n.docker_name.clone(),
            }
            .into()
        })
        .collect();
    if let Some(c) = &reading.cluster {
        found.extend(
            problems::cluster_problems(c)
                .into_iter()
                .map(Reported::from),
        );
    }
    if let Some(error) = &reading.cluster_error {
        found.push(
            Problem::ClusterUnreachable {
                error: error.clone(),
            }
            .into(),
        );
    }
    found
}

/// Nodes from the cluster first (names, roles, readiness), then bare node addresses.
fn node_views(plan: &Plan, reading: &LabReading) -> Vec<NodeView> {
    let network_of = |ip: Option<IpAddr>| {
        let ip = ip?;
        plan.networks
            .iter()
            .find(|n| IpNet::from(n.subnet).contains(&ip))
            .map(|n| n.name.clone())
    };
    let mut nodes: Vec<NodeView> = reading
        .cluster
        .iter()
        .flat_map(|c| &c.nodes)
        .map(|n| NodeView {
            name: n.name.clone(),
            ip: n.ip,
            network: network_of(n.ip),
            roles: n.roles.clone(),
            ready: Some(n.ready),
            health: if n.ready {
                Health::Ok
            } else {
                Health::Degraded
            },
            outside_lab: n.ip.is_none() && !n.api_addresses.is_empty(),
        })
        .collect();
    // The nodes the plan saved when the lab came up: their names, readiness unknown.
    for n in &plan.cluster_nodes {
        if !nodes.iter().any(|v| v.ip == Some(n.ip) || v.name == n.name) {
            nodes.push(NodeView {
                name: n.name.clone(),
                ip: Some(n.ip),
                network: network_of(Some(n.ip)),
                roles: vec![],
                ready: None,
                health: Health::Unknown,
                outside_lab: false,
            });
        }
    }
    for &ip in &reading.node_ips {
        if !nodes.iter().any(|n| n.ip == Some(ip)) {
            nodes.push(NodeView {
                name: ip.to_string(),
                ip: Some(ip),
                network: network_of(Some(ip)),
                roles: vec![],
                ready: None,
                health: Health::Unknown,
                outside_lab: false,
            });
        }
    }
    nodes
}

/// A session the plan asks for: to a router or external address, or to a cluster node.
struct Expected {
    address: IpAddr,
    peer: Option<String>,
}

fn expected_sessions(r: &PlannedRouter, names: &Names<'_>) -> Vec<Expected> {
    let mut expected: Vec<Expected> = r
        .sessions
        .iter()
        .map(|s| Expected {
            address: s.peer_address,
            peer: match &s.peer {
                PeerRef::Router(name) | PeerRef::Node(name) => Some(name.clone()),
                PeerRef::External => None,
            },
        })
        .collect();
    if !r.node_sessions.is_empty() {
        for n in names.nodes {
            if let Some(ip) = n.ip
                && !expected.iter().any(|e| e.address == ip)
            {
                expected.push(Expected {
                    address: ip,
                    peer: Some(n.name.clone()),
                });
            }
        }
    }
    expected
}

fn router_view(
    r: &PlannedRouter,
    reading: Option<&RouterReading>,
    names: &Names<'_>,
) -> RouterView {
    let expected = expected_sessions(r, names);
    let peer_name = |e: &Expected| {
        let (name, role) = names.name(e.address);
        match (&e.peer, role) {
            (Some(planned), Role::External) => (planned.clone(), Role::External),
            _ => (name, role),
        }
    };
    // Without a reading only the plan is known: the sessions it asks for, state unknown.
    let unknown_sessions = || -> Vec<SessionView> {
        expected
            .iter()
            .map(|e| {
                let (peer, peer_role) = peer_name(e);
                SessionView {
                    peer,
                    peer_address: e.address,
                    peer_role,
                    remote_as: None,
                    state: PeerState::Unknown,
                    status: LinkStatus::Unknown,
                    since_secs: None,
                    prefixes_received: None,
                    planned: true,
                    last_error: None,
                }
            })
            .collect()
    };
    let mut view = RouterView {
        name: r.name.clone(),
        kind: r.kind.to_string(),
        role: role_of(r),
        asn: r.asn,
        addresses: r
            .interfaces
            .iter()
            .map(|i| AddressView {
                network: i.network.clone(),
                ip: i.ip,
                prefix_len: i.prefix_len,
            })
            .collect(),
        health: Health::Unknown,
        summary: String::new(),
        error: None,
        container: None,
        problems: vec![],
        sessions: vec![],
        routes: vec![],
        bfd_peers: vec![],
        kernel_routes: vec![],
        raw: vec![],
    };
    match reading {
        None => {
            view.sessions = unknown_sessions();
        }
        Some(Err(error)) => {
            view.health = Health::Unreadable;
            view.error = Some(error.clone());
            view.sessions = unknown_sessions();
        }
        Some(Ok((state, raw))) => {
            view.raw = raw.clone();
            let mut sessions: Vec<SessionView> = expected
                .iter()
                .map(|e| {
                    let (peer, peer_role) = peer_name(e);
                    match state.session(e.address) {
                        Some(found) => SessionView {
                            peer,
                            peer_address: e.address,
                            peer_role,
                            remote_as: found.remote_as,
                            state: PeerState::Bgp(found.state),
                            status: LinkStatus::of(found.state),
                            since_secs: found.since_secs,
                            prefixes_received: found.prefixes_received,
                            planned: true,
                            last_error: found.last_error.clone(),
                        },
                        None => SessionView {
                            peer,
                            peer_address: e.address,
                            peer_role,
                            remote_as: None,
                            state: PeerState::NotConfigured,
                            status: LinkStatus::Down,
                            since_secs: None,
                            prefixes_received: None,
                            planned: true,
                            last_error: None,
                        },
                    }
                })
                .collect();
            // Sessions the daemon has that the plan does not (configured by hand).
            for found in &state.sessions {
                if !expected.iter().any(|e| e.address == found.peer) {
                    let (peer, peer_role) = names.name(found.peer);
                    sessions.push(SessionView {
                        peer,
                        peer_address: found.peer,
                        peer_role,
                        remote_as: found.remote_as,
                        state: PeerState::Bgp(found.state),
                        status: LinkStatus::of(found.state),
                        since_secs: found.since_secs,
                        prefixes_received: found.prefixes_received,
                        planned: false,
                        last_error: found.last_error.clone(),
                    });
                }
            }
            view.health = if sessions.iter().all(|s| s.status == LinkStatus::Established) {
                Health::Ok
            } else {
                Health::Degraded
            };
            view.sessions = sessions;
            view.routes = state
                .routes
                .iter()
                .map(|route| RouteView {
                    prefix: route.prefix,
                    local: route.paths.iter().any(|p| p.local),
                    paths: route.paths.iter().map(|p| path_view(p, names)).collect(),
                })
                .collect();
            view.bfd_peers = state
                .bfd_peers
                .iter()
                .map(|b| BfdView {
                    peer: names.name(b.peer).0,
                    peer_address: b.peer,
                    state: b.state.to_string(),
                    since_secs: b.since_secs,
                })
                .collect();
            view.kernel_routes = state.kernel_routes.clone();
        }
    }
    let has_node_sessions = !r.node_sessions.is_empty();
    let node_ips: Vec<IpAddr> = names.nodes.iter().filter_map(|n| n.ip).collect();
    view.summary = router_summary(&view, r.forward, has_node_sessions, &node_ips);
    view
}

fn path_view(p: &Path, names: &Names<'_>) -> PathView {
    PathView {
        next_hop: p.next_hop,
        next_hop_name: p.next_hop.and_then(|ip| match names.name(ip) {
            (_, Role::External) => None,
            (name, _) => Some(name),
        }),
        next_hop_is_node: p.next_hop.is_some_and(|ip| names.is_node(ip)),
        best: p.best,
        local: p.local,
        from_peer: p.from_peer.map(|ip| names.name(ip).0),
        as_path: p.as_path.clone(),
        local_pref: p.local_pref,
        med: p.med,
        communities: p.communities.clone(),
        origin: p.origin,
    }
}

/// Every session once, keyed by its two ends; an end that could not be read does not
/// make a session look down, and one end that is down does.
fn session_edges(routers: &[RouterView], names: &Names<'_>) -> Vec<SessionEdge> {
    let mut edges: BTreeMap<(String, String), Vec<EdgeEnd>> = BTreeMap::new();
    for r in routers {
        for s in &r.sessions {
            let me = router_id(&r.name);
            let other = names.device_id(s.peer_address);
            let key = if me <= other {
                (me, other)
            } else {
                (other, me)
            };
            edges.entry(key).or_default().push(EdgeEnd {
                router: r.name.clone(),
                state: s.state,
                status: s.status,
            });
        }
    }
    edges
        .into_iter()
        .map(|((a, b), ends)| {
            // The worst end that could be read; unknown only when none could.
            let status = ends
                .iter()
                .map(|e| e.status)
                .filter(|s| *s != LinkStatus::Unknown)
                .max_by_key(|s| match s {
                    LinkStatus::Established => 0,
                    LinkStatus::Connecting => 1,
                    LinkStatus::Down | LinkStatus::Unknown => 2,
                })
                .unwrap_or(LinkStatus::Unknown);
            SessionEdge {
                id: format!("{a}~{b}"),
                a,
                b,
                status,
                ends,
            }
        })
        .collect()
}

/// Addresses routers peer with that belong to no router and no node.
fn external_peers(routers: &[RouterView]) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = routers
        .iter()
        .flat_map(|r| &r.sessions)
        .filter(|s| s.peer_role == Role::External)
        .map(|s| s.peer_address)
        .collect();
    v.sort();
    v.dedup();
    v
}
