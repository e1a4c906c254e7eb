//! What is wrong with a lab, in plain words (pure).
//!
//! The plan says what should be: containers, sessions, BFD on the sessions that ask for
//! it, cluster nodes. The readings say what is. Every difference a user would want to know
//! about becomes one [`Problem`], rendered as one sentence ("session to bird1 (10.0.0.3)
//! idle for 42s: last error Hold Timer Expired") by `status`, and kept as structured data
//! for `-o json`, the dashboard and snapshots.

use crate::plan::{PeerRef, Plan, PlannedRouter};
use crate::state::cluster::{ClusterState, NodeInfo};
use crate::state::{BfdState, RouterState, SessionState};
use crate::topology::model::Placement;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// One thing that is wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Problem {
    /// The router's container does not exist.
    ContainerMissing { container: String },
    /// The container exists but is not running (`exited`, `created`, `paused`…).
    ContainerStopped { container: String, state: String },
    /// An in-cluster router's Deployment has no pod.
    PodMissing { namespace: String, router: String },
    /// An in-cluster router's pod exists but does not run (e.g. `ImagePullBackOff`).
    PodNotRunning {
        namespace: String,
        router: String,
        state: String,
    },
    /// The container runs but the BGP daemon did not answer its CLI.
    DaemonNotAnswering { error: String },
    /// A planned session exists in the daemon but is not established.
    SessionDown {
        peer: String,
        address: IpAddr,
        state: SessionState,
        since_secs: Option<u64>,
        last_error: Option<String>,
    },
    /// A planned session is absent from the daemon's state.
    PeerMissing { peer: String, address: IpAddr },
    /// A session that asks for BFD has a BFD peer that is not up.
    BfdDown {
        peer: String,
        address: IpAddr,
        state: BfdState,
        since_secs: Option<u64>,
    },
    /// An established session that asks for BFD has no BFD peer at all.
    BfdMissing { peer: String, address: IpAddr },
    /// A lab network is gone from Docker.
    NetworkMissing { name: String, docker_name: String },
    /// The router's container runs but is no longer attached to a network the plan
    /// gives it (`docker network disconnect`).
    InterfaceMissing {
        network: String,
        docker_name: String,
        ip: IpAddr,
    },
    /// The lab's cluster could not be read (API server stopped, kubeconfig gone).
    ClusterUnreachable { error: String },
    /// A cluster node is not Ready.
    NodeNotReady { node: String },
    /// A cluster node has no address on the lab network, so no router can peer with it.
    NodeWithoutAddress { node: String },
    /// A MetalLB pod is not running with all containers ready.
    MetallbPodNotReady {
        pod: String,
        phase: String,
        restarts: u32,
    },
    /// A LoadBalancer Service has no address; the last warning event says why, if any.
    ServiceWithoutAddress {
        service: String,
        last_warning: Option<String>,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::ContainerMissing { container } => write!(
                f,
                "container {container} does not exist (`metallab up` creates it again)"
            ),
            Problem::ContainerStopped { container, state } => write!(
                f,
                "container {container} is stopped ({state}); `metallab up` starts it again"
            ),
            Problem::PodMissing { namespace, router } => write!(
                f,
                "deploy/{router} in namespace {namespace} has no pod (`kubectl -n {namespace} describe deploy/{router}` says why)"
            ),
            Problem::PodNotRunning {
                namespace,
                router,
                state,
            } => write!(
                f,
                "the pod of deploy/{router} in namespace {namespace} is not running ({state})"
            ),
            Problem::DaemonNotAnswering { error } => {
                write!(f, "daemon not answering: {}", one_line(error))
            }
            Problem::SessionDown {
                peer,
                address,
                state,
                since_secs,
                last_error,
            } => {
                write!(f, "session to {} {state}", who(peer, address))?;
                if let Some(t) = since_secs {
                    write!(f, " for {}", human_secs(*t))?;
                }
                if let Some(e) = last_error.as_deref().filter(|e| !e.trim().is_empty()) {
                    write!(f, ": last error {}", one_line(e))?;
                }
                Ok(())
            }
            Problem::PeerMissing { peer, address } => write!(
                f,
                "expected peer {} missing: the daemon has no session with it",
                who(peer, address)
            ),
            Problem::BfdDown {
                peer,
                address,
                state,
                since_secs,
            } => {
                write!(f, "BFD to {} {state}", who(peer, address))?;
                if let Some(t) = since_secs {
                    write!(f, " for {}", human_secs(*t))?;
                }
                Ok(())
            }
            Problem::BfdMissing { peer, address } => write!(
                f,
                "BFD to {} missing: the session asks for BFD but the daemon has no BFD peer",
                who(peer, address)
            ),
            Problem::NetworkMissing { name, docker_name } => {
                write!(f, "network {name} ({docker_name}) does not exist in Docker")
            }
            Problem::InterfaceMissing {
                network,
                docker_name,
                ip,
            } => write!(
                f,
                "not attached to network {network} ({docker_name}), where it should have {ip}; `metallab up` reconnects it"
            ),
            Problem::NodeNotReady { node } => write!(f, "node {node} is not Ready"),
            Problem::ClusterUnreachable { error } => write!(f, "{error}"),
            Problem::NodeWithoutAddress { node } => {
                write!(f, "node {node} has no address on the lab network")
            }
            Problem::MetallbPodNotReady {
                pod,
                phase,
                restarts,
            } => {
                write!(f, "MetalLB pod {pod} is {phase}, not ready")?;
                if *restarts > 0 {
                    write!(f, " ({restarts} restart(s))")?;
                }
                Ok(())
            }
            Problem::ServiceWithoutAddress {
                service,
                last_warning,
            } => {
                write!(f, "Service {service} has no LoadBalancer address")?;
                if let Some(w) = last_warning {
                    write!(f, ": {}", one_line(w))?;
                }
                Ok(())
            }
        }
    }
}

/// A problem with its sentence, as `-o json` shows it: `{"kind": "session-down", "peer":
/// …, "message": "session to …"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reported {
    #[serde(flatten)]
    pub problem: Problem,
    pub message: String,
}

impl From<Problem> for Reported {
    fn from(problem: Problem) -> Reported {
        Reported {
            message: problem.to_string(),
            problem,
        }
    }
}

/// The router container as Docker reports it; written as Docker's state word
/// (`running`, `exited`…) or `missing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerCondition {
    Running,
    /// Docker's state word: `exited`, `created`, `paused`, `restarting`, `dead`.
    Stopped(String),
    Missing,
}

impl serde::Serialize for ContainerCondition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl ContainerCondition {
    pub fn as_str(&self) -> &str {
        match self {
            ContainerCondition::Running => "running",
            ContainerCondition::Stopped(state) => state,
            ContainerCondition::Missing => "missing",
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self, ContainerCondition::Running)
    }
}

/// What reading the router's daemon gave.
#[derive(Debug, Clone, Copy)]
pub enum DaemonReading<'a> {
    /// Not read: no BGP daemon (Linux hosts) or the container is not running.
    NotRead,
    Answered(&'a RouterState),
    Failed(&'a str),
}

/// A session the plan expects on a router, with a human name for its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedSession {
    pub peer: String,
    pub address: IpAddr,
    /// The session asks for BFD and the router kind implements it.
    pub bfd: bool,
}

/// Every session `router` should have: the planned ones, plus one per cluster node that
/// has an address when the router peers with `nodes`.
pub fn expected_sessions(
    plan: &Plan,
    router: &PlannedRouter,
    nodes: &[NodeInfo],
) -> Vec<ExpectedSession> {
    let has_bfd = router.kind.has_bfd();
    let mut expected: Vec<ExpectedSession> = router
        .sessions
        .iter()
        .map(|s| ExpectedSession {
            peer: peer_name(plan, &s.peer, s.peer_address, nodes),
            address: s.peer_address,
            bfd: has_bfd && s.bfd.is_some(),
        })
        .collect();
    for template in &router.node_sessions {
        for node in nodes {
            let Some(ip) = node.ip else { continue };
            if expected.iter().any(|e| e.address == ip) {
                continue;
            }
            expected.push(ExpectedSession {
                peer: format!("node {}", node.name),
                address: ip,
                bfd: has_bfd && template.bfd.is_some(),
            });
        }
    }
    expected
}

/// A session peer as a person calls it: the router's name, `node <name>`, or the address.
pub fn peer_name(plan: &Plan, peer: &PeerRef, address: IpAddr, nodes: &[NodeInfo]) -> String {
    match peer {
        PeerRef::Router(name) => name.clone(),
        PeerRef::Node(name) => format!("node {name}"),
        PeerRef::External => address_name(plan, address, nodes).unwrap_or(address.to_string()),
    }
}

/// The lab router or cluster node that owns `address`, if any.
pub fn address_name(plan: &Plan, address: IpAddr, nodes: &[NodeInfo]) -> Option<String> {
    if let Some(r) = plan
        .routers
        .iter()
        .find(|r| r.addresses().contains(&address))
    {
        return Some(r.name.clone());
    }
    nodes
        .iter()
        .find(|n| n.ip == Some(address))
        .map(|n| format!("node {}", n.name))
}

/// Where a router runs, as its problems name it.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    Container(String),
    /// An in-cluster router: a Deployment named after it in the lab's namespace.
    Pod {
        namespace: String,
        router: String,
    },
}

impl Workload {
    pub fn of(lab: &str, r: &PlannedRouter) -> Workload {
        match r.placement {
            Placement::Docker => Workload::Container(r.container.clone()),
            Placement::Cluster => Workload::Pod {
                namespace: crate::plan::model::lab_namespace(lab),
                router: r.name.clone(),
            },
        }
    }

    fn missing(&self) -> Problem {
        match self.clone() {
            Workload::Container(container) => Problem::ContainerMissing { container },
            Workload::Pod { namespace, router } => Problem::PodMissing { namespace, router },
        }
    }

    fn stopped(&self, state: &str) -> Problem {
        let state = state.to_string();
        match self.clone() {
            Workload::Container(container) => Problem::ContainerStopped { container, state },
            Workload::Pod { namespace, router } => Problem::PodNotRunning {
                namespace,
                router,
                state,
            },
        }
    }
}

/// What is wrong with one router, most fundamental first: a missing or stopped container
/// (or pod) explains everything else, so nothing else is said then.
pub fn router_problems(
    workload: &Workload,
    container: &ContainerCondition,
    daemon: DaemonReading<'_>,
    expected: &[ExpectedSession],
) -> Vec<Problem> {
    match container {
        ContainerCondition::Missing => return vec![workload.missing()],
        ContainerCondition::Stopped(state) => return vec![workload.stopped(state)],
        ContainerCondition::Running => {}
    }
    let state = match daemon {
        DaemonReading::NotRead => return vec![],
        DaemonReading::Failed(error) => {
            return vec![Problem::DaemonNotAnswering {
                error: error.to_string(),
            }];
        }
        DaemonReading::Answered(state) => state,
    };
    let mut problems = vec![];
    for e in expected {
        let Some(session) = state.session(e.address) else {
            problems.push(Problem::PeerMissing {
                peer: e.peer.clone(),
                address: e.address,
            });
            continue;
        };
        if session.state != SessionState::Established {
            problems.push(Problem::SessionDown {
                peer: e.peer.clone(),
                address: e.address,
                state: session.state,
                since_secs: session.since_secs,
                last_error: session.last_error.clone(),
            });
        }
        if !e.bfd {
            continue;
        }
        match state.bfd_peer(e.address) {
            Some(b) if b.state != BfdState::Up => problems.push(Problem::BfdDown {
                peer: e.peer.clone(),
                address: e.address,
                state: b.state,
                since_secs: b.since_secs,
            }),
            Some(_) => {}
            // Daemons create the BFD peer only for a configured, running session: its
            // absence is news only when the session itself is up.
            None if session.state == SessionState::Established => {
                problems.push(Problem::BfdMissing {
                    peer: e.peer.clone(),
                    address: e.address,
                })
            }
            None => {}
        }
    }
    problems
}

/// What is wrong on the cluster side: nodes, MetalLB's pods, LoadBalancer Services.
pub fn cluster_problems(cluster: &ClusterState) -> Vec<Problem> {
    let mut problems = vec![];
    for node in &cluster.nodes {
        if !node.ready {
            problems.push(Problem::NodeNotReady {
                node: node.name.clone(),
            });
        }
        // A node the API gives addresses, none of them the lab's, is simply not one the
        // routers peer with (`cluster.node-addresses` lists others).
        if node.ip.is_none() && node.api_addresses.is_empty() {
            problems.push(Problem::NodeWithoutAddress {
                node: node.name.clone(),
            });
        }
    }
    for pod in &cluster.metallb_pods {
        // Finished pods (a completed job) are not MetalLB's running parts.
        if pod.phase == "Succeeded" {
            continue;
        }
        if !(pod.ready && pod.phase == "Running") {
            problems.push(Problem::MetallbPodNotReady {
                pod: pod.name.clone(),
                phase: pod.phase.clone(),
                restarts: pod.restarts,
            });
        }
    }
    for svc in &cluster.services {
        if !svc.ips.is_empty() {
            continue;
        }
        let last_warning = cluster
            .events
            .iter()
            .rfind(|e| {
                e.event_type == "Warning"
                    && e.object_kind == "Service"
                    && e.namespace == svc.namespace
                    && e.object_name == svc.name
            })
            .map(|e| format!("{}: {}", e.reason, e.message));
        problems.push(Problem::ServiceWithoutAddress {
            service: format!("{}/{}", svc.namespace, svc.name),
            last_warning,
        });
    }
    problems
}

/// `42s`, `2m05s`, `3h07m`, `2d04h`: short enough for a table cell.
pub fn human_secs(t: u64) -> String {
    match t {
        0..=59 => format!("{t}s"),
        60..=3599 => format!("{}m{:02}s", t / 60, t % 60),
        3600..=86399 => format!("{}h{:02}m", t / 3600, (t % 3600) / 60),
        _ => format!("{}d{:02}h", t / 86400, (t % 86400) / 3600),
    }
}

/// `bird1 (10.0.0.3)`, or just the address when the peer has no other name.
fn who(peer: &str, address: &IpAddr) -> String {
    if peer == address.to_string() {
        peer.to_string()
    } else {
        format!("{peer} ({address})")
    }
}

/// Daemon errors can span lines; a problem is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{BfdTimers, PlannedInterface, PlannedSession, SessionTemplate};
    use crate::state::cluster::{EventInfo, PodInfo, ServiceInfo};
    use crate::state::{BfdPeer, Session};
    use crate::test_support::ip;
    use crate::topology::model::RouterKind;

    fn router(name: &str, kind: RouterKind, address: &str) -> PlannedRouter {
        PlannedRouter {
            name: name.into(),
            container: format!("metallab-demo-{name}"),
            kind,
            image: format!("metallab/{kind}:test"),
            builtin_image: true,
            asn: Some(64500),
            router_id: "10.0.0.1".parse().unwrap(),
            interfaces: vec![PlannedInterface {
                network: "lan".into(),
                docker_network: "metallab-demo-lan".into(),
                ip: ip(address),
                prefix_len: 24,
            }],
            routes: vec![],
            forward: false,
            sessions: vec![],
            node_sessions: vec![],
            placement: Default::default(),
            announce: vec![],
            transit: false,
            http_server: None,
            exec: vec![],
        }
    }

    fn session(peer: PeerRef, address: &str, bfd: bool) -> PlannedSession {
        PlannedSession {
            peer,
            id: "s".into(),
            local_address: ip("10.0.0.2"),
            peer_address: ip(address),
            local_asn: 64500,
            peer_asn: 64501,
            multihop: None,
            bfd: bfd.then(BfdTimers::default),
            password: None,
            passive: false,
            hold_time: None,
        }
    }

    /// frr1 peers with bird1 (BFD) and with an external address; bird1 exists in the plan.
    fn plan() -> Plan {
        let mut frr1 = router("frr1", crate::kinds::frr::KIND, "10.0.0.2");
        frr1.sessions = vec![
            session(PeerRef::Router("bird1".into()), "10.0.0.3", true),
            session(PeerRef::External, "10.0.0.9", false),
        ];
        Plan {
            lab: "demo".into(),
            source: "demo.yaml".into(),
            networks: vec![],
            routers: vec![frr1, router("bird1", crate::kinds::bird::KIND, "10.0.0.3")],
            checks: vec![],
            cluster: None,
            nodes: None,
            metallb: None,
            apps: vec![],
            cluster_nodes: vec![],
        }
    }

    fn state_of(s: &[(&str, SessionState)]) -> RouterState {
        RouterState {
            sessions: s
                .iter()
                .map(|(peer, state)| Session {
                    peer: ip(peer),
                    remote_as: Some(64501),
                    local_as: Some(64500),
                    state: *state,
                    since_secs: Some(42),
                    prefixes_received: None,
                    name: None,
                    last_error: None,
                })
                .collect(),
            ..RouterState::default()
        }
    }

    fn bfd(peer: &str, state: BfdState) -> BfdPeer {
        BfdPeer {
            peer: ip(peer),
            local: None,
            interface: None,
            state,
            since_secs: Some(7),
        }
    }

    fn lines(problems: &[Problem]) -> Vec<String> {
        problems.iter().map(|p| p.to_string()).collect()
    }

    fn frr1_problems(state: &RouterState) -> Vec<String> {
        let plan = plan();
        let frr1 = plan.router("frr1").unwrap();
        let expected = expected_sessions(&plan, frr1, &[]);
        lines(&router_problems(
            &Workload::of(&plan.lab, frr1),
            &ContainerCondition::Running,
            DaemonReading::Answered(state),
            &expected,
        ))
    }

    #[test]
    fn a_healthy_router_has_no_problems() {
        let mut state = state_of(&[
            ("10.0.0.3", SessionState::Established),
            ("10.0.0.9", SessionState::Established),
        ]);
        state.bfd_peers = vec![bfd("10.0.0.3", BfdState::Up)];
        assert_eq!(frr1_problems(&state), Vec::<String>::new());
    }

    #[test]
    fn a_session_down_says_its_state_how_long_and_the_last_error() {
        let mut state = state_of(&[
            ("10.0.0.3", SessionState::Idle),
            ("10.0.0.9", SessionState::Established),
        ]);
        state.sessions[0].last_error = Some("Hold Timer Expired".into());
        assert_eq!(
            frr1_problems(&state),
            [
                "session to bird1 (10.0.0.3) idle for 42s: last error Hold Timer Expired",
                // The BFD peer vanished with the session: not news on its own.
            ]
        );
        // Without age or error the sentence stays short; a peer that is no lab router is
        // named by its address alone.
        let mut state = state_of(&[
            ("10.0.0.3", SessionState::Established),
            ("10.0.0.9", SessionState::Active),
        ]);
        state.sessions[1].since_secs = None;
        state.bfd_peers = vec![bfd("10.0.0.3", BfdState::Up)];
        assert_eq!(frr1_problems(&state), ["session to 10.0.0.9 active"]);
    }

    #[test]
    fn an_expected_peer_missing_from_the_daemon_is_named() {
        let state = state_of(&[("10.0.0.9", SessionState::Established)]);
        assert_eq!(
            frr1_problems(&state),
            ["expected peer bird1 (10.0.0.3) missing: the daemon has no session with it"]
        );
    }

    #[test]
    fn bfd_down_or_missing_on_a_session_that_asks_for_it() {
        let mut state = state_of(&[
            ("10.0.0.3", SessionState::Established),
            ("10.0.0.9", SessionState::Established),
        ]);
        state.bfd_peers = vec![bfd("10.0.0.3", BfdState::Down)];
        assert_eq!(
            frr1_problems(&state),
            ["BFD to bird1 (10.0.0.3) down for 7s"]
        );
        state.bfd_peers.clear();
        assert_eq!(
            frr1_problems(&state),
            [
                "BFD to bird1 (10.0.0.3) missing: the session asks for BFD but the daemon has no BFD peer"
            ]
        );
        // A session down with BFD down: both lines, each explaining the other.
        let mut state = state_of(&[
            ("10.0.0.3", SessionState::Active),
            ("10.0.0.9", SessionState::Established),
        ]);
        state.bfd_peers = vec![bfd("10.0.0.3", BfdState::Down)];
        assert_eq!(
            frr1_problems(&state),
            [
                "session to bird1 (10.0.0.3) active for 42s",
                "BFD to bird1 (10.0.0.3) down for 7s"
            ]
        );
    }

    #[test]
    fn a_stopped_or_missing_container_says_only_that() {
        let plan = plan();
        let frr1 = plan.router("frr1").unwrap();
        let expected = expected_sessions(&plan, frr1, &[]);
        let stopped = router_problems(
            &Workload::of(&plan.lab, frr1),
            &ContainerCondition::Stopped("exited".into()),
            DaemonReading::NotRead,
            &expected,
        );
        assert_eq!(
            lines(&stopped),
            ["container metallab-demo-frr1 is stopped (exited); `metallab up` starts it again"]
        );
        let missing = router_problems(
            &Workload::of(&plan.lab, frr1),
            &ContainerCondition::Missing,
            DaemonReading::NotRead,
            &expected,
        );
        assert_eq!(
            lines(&missing),
            ["container metallab-demo-frr1 does not exist (`metallab up` creates it again)"]
        );
    }

    #[test]
    fn an_in_cluster_router_without_a_running_pod_says_so() {
        let pod = Workload::Pod {
            namespace: "metallab-demo".into(),
            router: "bird1".into(),
        };
        let none = router_problems(
            &pod,
            &ContainerCondition::Missing,
            DaemonReading::NotRead,
            &[],
        );
        let pulling = router_problems(
            &pod,
            &ContainerCondition::Stopped("waiting: ImagePullBackOff".into()),
            DaemonReading::NotRead,
            &[],
        );
        assert_eq!(
            [lines(&none), lines(&pulling)].concat(),
            [
                "deploy/bird1 in namespace metallab-demo has no pod (`kubectl -n metallab-demo describe deploy/bird1` says why)",
                "the pod of deploy/bird1 in namespace metallab-demo is not running (waiting: ImagePullBackOff)"
            ]
        );
    }

    #[test]
    fn a_daemon_that_does_not_answer_is_one_line() {
        let plan = plan();
        let frr1 = plan.router("frr1").unwrap();
        let problems = router_problems(
            &Workload::of(&plan.lab, frr1),
            &ContainerCondition::Running,
            DaemonReading::Failed("frr1: vtysh: failed to connect to any daemons.\nExiting"),
            &expected_sessions(&plan, frr1, &[]),
        );
        assert_eq!(
            lines(&problems),
            ["daemon not answering: frr1: vtysh: failed to connect to any daemons. Exiting"]
        );
    }

    #[test]
    fn node_sessions_are_expected_once_nodes_have_addresses() {
        let mut plan = plan();
        plan.routers[0].node_sessions = vec![SessionTemplate {
            local_address: ip("10.0.0.2"),
            local_asn: 64500,
            peer_asn: 64512,
            multihop: None,
            bfd: Some(BfdTimers::default()),
            password: None,
            passive: false,
            hold_time: None,
        }];
        let nodes = [
            node("kind-control-plane", Some("10.0.0.20"), true),
            node("kind-worker", None, true),
        ];
        let frr1 = plan.router("frr1").unwrap();
        let expected = expected_sessions(&plan, frr1, &nodes);
        assert_eq!(
            expected.last(),
            Some(&ExpectedSession {
                peer: "node kind-control-plane".into(),
                address: ip("10.0.0.20"),
                bfd: true
            })
        );
        assert_eq!(
            expected.len(),
            3,
            "the node without an address is not expected"
        );
    }

    fn node(name: &str, address: Option<&str>, ready: bool) -> NodeInfo {
        NodeInfo {
            api_addresses: vec![],
            name: name.into(),
            ip: address.map(ip),
            roles: vec![],
            ready,
        }
    }

    #[test]
    fn cluster_problems_name_nodes_pods_and_services() {
        let cluster = ClusterState {
            provider: "kind".into(),
            name: "demo".into(),
            nodes: vec![
                node("kind-control-plane", Some("10.0.0.20"), true),
                node("kind-worker", Some("10.0.0.21"), false),
                node("kind-worker2", None, true),
            ],
            metallb_pods: vec![
                pod("controller-5f98465b6b-2xkqz", "Running", true, 0),
                pod("speaker-8xq2d", "Pending", false, 0),
                pod("speaker-zz9s1", "Running", false, 3),
            ],
            services: vec![
                service("default", "web", &["203.0.113.200"]),
                service("default", "pending", &[]),
                service("other", "quiet", &[]),
            ],
            events: vec![
                event("default", "pending", "Warning", "AllocationFailed", "old"),
                event(
                    "default",
                    "pending",
                    "Warning",
                    "AllocationFailed",
                    "Failed to allocate IP for \"default/pending\": no available IPs",
                ),
                event("default", "pending", "Normal", "Updated", "not a warning"),
            ],
        };
        insta::assert_snapshot!(lines(&cluster_problems(&cluster)).join("\n"), @r#"
        node kind-worker is not Ready
        node kind-worker2 has no address on the lab network
        MetalLB pod speaker-8xq2d is Pending, not ready
        MetalLB pod speaker-zz9s1 is Running, not ready (3 restart(s))
        Service default/pending has no LoadBalancer address: AllocationFailed: Failed to allocate IP for "default/pending": no available IPs
        Service other/quiet has no LoadBalancer address
        "#);
    }

    fn pod(name: &str, phase: &str, ready: bool, restarts: u32) -> PodInfo {
        PodInfo {
            namespace: "metallb-system".into(),
            name: name.into(),
            node: None,
            phase: phase.into(),
            ready,
            restarts,
        }
    }

    fn service(ns: &str, name: &str, ips: &[&str]) -> ServiceInfo {
        ServiceInfo {
            namespace: ns.into(),
            name: name.into(),
            ips: ips.iter().map(|a| ip(a)).collect(),
            ports: vec![80],
            pool: None,
        }
    }

    fn event(ns: &str, name: &str, kind: &str, reason: &str, message: &str) -> EventInfo {
        EventInfo {
            namespace: ns.into(),
            object_kind: "Service".into(),
            object_name: name.into(),
            reason: reason.into(),
            message: message.into(),
            event_type: kind.into(),
            count: 1,
            last_seen: None,
        }
    }

    #[test]
    fn json_carries_the_kind_the_details_and_the_sentence() {
        let reported = Reported::from(Problem::SessionDown {
            peer: "bird1".into(),
            address: ip("10.0.0.3"),
            state: SessionState::Idle,
            since_secs: Some(42),
            last_error: Some("Hold Timer Expired".into()),
        });
        insta::assert_json_snapshot!(reported, @r#"
        {
          "kind": "session-down",
          "peer": "bird1",
          "address": "10.0.0.3",
          "state": "idle",
          "since_secs": 42,
          "last_error": "Hold Timer Expired",
          "message": "session to bird1 (10.0.0.3) idle for 42s: last error Hold Timer Expired"
        }
        "#);
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(human_secs(42), "42s");
        assert_eq!(human_secs(125), "2m05s");
        assert_eq!(human_secs(3 * 3600 + 7 * 60), "3h07m");
        assert_eq!(human_secs(2 * 86400 + 4 * 3600), "2d04h");
    }
}
