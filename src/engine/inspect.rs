//! `status` and `routes`: read the lab (I/O) into [`RouterReading`]s, build plain view
//! structs from them (pure), and render those as aligned tables (pure) or JSON.
//!
//! `snapshot` reuses the readings: they keep every command's raw text even when parsing
//! failed, which is when a bug report needs it most.

use super::probe::RouterExec;
pub use super::probe::container_condition;
use crate::drivers::query;
use crate::plan::{Plan, PlannedRouter};
use crate::runtime::docker::{ContainerInfo, DockerRuntime};
use crate::state::cluster::{ClusterState, NodeInfo};
use crate::state::{Route, RouterState};
use crate::view::problems::{
    self, ContainerCondition, DaemonReading, Problem, Reported, human_secs,
};
use crate::view::table::{Painter, Tone, indent};
use crate::view::{LinkStatus, PeerState};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// Kept here too: other commands' tables (`images list`, `topologies`) use it.
pub use crate::view::table::table;

const QUERY_TIMEOUT: Duration = Duration::from_secs(15);

// ------------------------------------------------------------------------ reading

/// One command run inside a router to read its state, as it happened.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RawRun {
    pub command: String,
    /// None when the command could not be run at all (`error` says why).
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub error: Option<String>,
}

/// What one router looked like when read.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterReading {
    pub router: String,
    pub container: ContainerCondition,
    /// Lab networks the plan attaches the running container to but Docker no longer
    /// does (`docker network disconnect`), by topology name.
    pub detached: Vec<String>,
    /// None when not read (the container is not running, or a host was not asked).
    pub state: Option<Result<RouterState, String>>,
    /// Every state command with its output, also when the state could not be built.
    pub raw: Vec<RawRun>,
}

/// Runs the driver's state commands in a running router and builds its state.
pub async fn read_router(
    exec: &RouterExec<'_>,
    r: &PlannedRouter,
    container: ContainerCondition,
) -> RouterReading {
    if !container.is_running() {
        return RouterReading {
            router: r.name.clone(),
            container,
            detached: vec![],
            state: None,
            raw: vec![],
        };
    }
    let queries = query::state_queries(r.kind);
    let runs = queries.iter().map(|q| exec.run(r, &q.argv, QUERY_TIMEOUT));
    let outputs = futures::future::join_all(runs).await;
    let mut raw = vec![];
    let mut parts = vec![];
    let mut exec_error = None;
    for (q, out) in queries.iter().zip(outputs) {
        match out {
            Ok(out) => {
                raw.push(RawRun {
                    command: q.command_line(),
                    exit_code: Some(out.exit_code),
                    stdout: out.stdout.clone(),
                    stderr: out.stderr.clone(),
                    error: None,
                });
                parts.push((q.clone(), out));
            }
            Err(e) => {
                raw.push(RawRun {
                    command: q.command_line(),
                    exit_code: None,
                    stdout: String::new(),
                    stderr: String::new(),
                    error: Some(e.clone()),
                });
                exec_error.get_or_insert_with(|| super::probe::naming_router(r, e.clone()));
            }
        }
    }
    let state = match exec_error {
        Some(e) => Err(e),
        None => query::assemble(r.kind, &parts).map_err(|e| e.to_string()),
    };
    RouterReading {
        router: r.name.clone(),
        container,
        detached: vec![],
        state: Some(state),
        raw,
    }
}

/// The planned networks a running Docker router is no longer attached to.
fn detached_networks(r: &PlannedRouter, containers: &[ContainerInfo]) -> Vec<String> {
    let Some(c) = containers
        .iter()
        .find(|c| c.name == r.container && c.running)
    else {
        return vec![];
    };
    if r.placement != crate::topology::model::Placement::Docker {
        return vec![];
    }
    r.interfaces
        .iter()
        .filter(|i| !c.networks.contains_key(&i.docker_network))
        .map(|i| i.network.clone())
        .collect()
}

/// Reads every router of the lab in parallel; Linux hosts only when `include_hosts`
/// (`status` has nothing to say about their kernel tables, `snapshot` keeps them).
pub async fn read_routers(
    exec: &RouterExec<'_>,
    plan: &Plan,
    containers: &[ContainerInfo],
    include_hosts: bool,
) -> Vec<RouterReading> {
    let reads = plan.routers.iter().map(|r| async move {
        let condition = exec.condition(r, containers).await;
        let detached = detached_networks(r, containers);
        let mut reading = if r.kind.speaks_bgp() || include_hosts {
            read_router(exec, r, condition).await
        } else {
            RouterReading {
                router: r.name.clone(),
                container: condition,
                detached: vec![],
                state: None,
                raw: vec![],
            }
        };
        reading.detached = detached;
        reading
    });
    // Bounded: a scale lab has dozens of routers and each read is several execs.
    crate::engine::bounded(8, reads.collect()).await
}

/// Containers and networks of the lab, found by label.
pub async fn lab_resources(
    rt: &DockerRuntime,
    lab: &str,
) -> Result<(Vec<ContainerInfo>, Vec<String>), super::EngineError> {
    let filter = [(crate::plan::labels::LAB, Some(lab))];
    let containers = rt.list_containers(&filter, true).await?;
    let networks = rt.list_networks(&filter).await?;
    Ok((containers, networks.into_iter().map(|n| n.name).collect()))
}

// ------------------------------------------------------------------------ status

/// The cluster as `status` found it. In JSON: the cluster's state, or `{"error": …}`
/// when it could not be read (never `null`, which means "no cluster").
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum ClusterSide {
    Read(ClusterState),
    Unreadable { error: String },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabStatus {
    pub lab: String,
    pub source: String,
    pub networks: Vec<NetworkRow>,
    pub routers: Vec<RouterRow>,
    /// The cluster side, when the lab has one: what was read, or why it could not be.
    pub cluster: Option<ClusterSide>,
    /// Problems not tied to one router: networks and the cluster.
    pub problems: Vec<Reported>,
}

impl LabStatus {
    /// Every problem of the lab, with where it is (`frr1`, `lab`, `cluster`).
    pub fn all_problems(&self) -> Vec<(&str, &Reported)> {
        let mut all: Vec<(&str, &Reported)> = self
            .routers
            .iter()
            .flat_map(|r| r.problems.iter().map(move |p| (r.name.as_str(), p)))
            .collect();
        all.extend(self.problems.iter().map(|p| (problem_scope(&p.problem), p)));
        all
    }
}

fn problem_scope(p: &Problem) -> &'static str {
    match p {
        Problem::NetworkMissing { .. } => "lab",
        _ => "cluster",
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NetworkRow {
    pub name: String,
    pub docker_name: String,
    pub subnet: String,
    pub internal: bool,
    pub present: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouterRow {
    pub name: String,
    pub kind: String,
    /// `running`, `exited`, `created`, `missing`…
    pub container: ContainerCondition,
    pub addresses: Vec<String>,
    pub asn: Option<u32>,
    pub sessions: Vec<SessionRow>,
    /// One entry per thing that is wrong; empty when healthy.
    pub problems: Vec<Reported>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionRow {
    pub peer: String,
    pub address: IpAddr,
    pub remote_as: Option<u32>,
    /// BGP state (`established`, `active`…), or `not-configured` for a planned session the
    /// daemon does not have.
    pub state: PeerState,
    pub since_secs: Option<u64>,
    pub prefixes_received: Option<u64>,
    pub last_error: Option<String>,
    /// State of the BFD peer at this address, when the daemon has one.
    pub bfd: Option<String>,
    /// Whether the plan asks for this session (others come from the daemon alone).
    pub expected: bool,
}

/// Reads the lab and builds its status. `cluster` is the cluster side when the lab has
/// one, or why it could not be read.
pub async fn gather_status(
    exec: &RouterExec<'_>,
    plan: &Plan,
    cluster: Result<Option<ClusterState>, String>,
) -> Result<LabStatus, super::EngineError> {
    let (containers, networks) = lab_resources(exec.rt, &plan.lab).await?;
    let readings = read_routers(exec, plan, &containers, false).await;
    Ok(build_status(plan, &readings, &networks, cluster))
}

/// The status of a lab from its readings (pure).
pub fn build_status(
    plan: &Plan,
    readings: &[RouterReading],
    docker_networks: &[String],
    cluster: Result<Option<ClusterState>, String>,
) -> LabStatus {
    let (cluster, unreadable) = match cluster {
        Ok(state) => (state, None),
        Err(error) => (None, Some(error)),
    };
    let nodes: &[NodeInfo] = cluster.as_ref().map_or(&[], |c| c.nodes.as_slice());
    let networks: Vec<NetworkRow> = plan
        .networks
        .iter()
        .map(|n| NetworkRow {
            name: n.name.clone(),
            docker_name: n.docker_name.clone(),
            subnet: n.subnet.to_string(),
            internal: n.internal,
            present: docker_networks.contains(&n.docker_name),
        })
        .collect();
    let mut lab_problems: Vec<Reported> = networks
        .iter()
        .filter(|n| !n.present)
        .map(|n| {
            Problem::NetworkMissing {
                name: n.name.clone(),
                docker_name: n.docker_name.clone(),
            }
            .into()
        })
        .collect();
    if let Some(c) = &cluster {
        lab_problems.extend(
            problems::cluster_problems(c)
                .into_iter()
                .map(Reported::from),
        );
    }
    if let Some(error) = &unreadable {
        lab_problems.push(
            Problem::ClusterUnreachable {
                error: error.clone(),
            }
            .into(),
        );
    }
    let routers = plan
        .routers
        .iter()
        .map(|r| {
            let reading = readings.iter().find(|x| x.router == r.name);
            router_row(plan, r, reading, nodes)
        })
        .collect();
    LabStatus {
        lab: plan.lab.clone(),
        source: plan.source.clone(),
        networks,
        routers,
        cluster: match (cluster, unreadable) {
            (Some(state), _) => Some(ClusterSide::Read(state)),
            (None, Some(error)) => Some(ClusterSide::Unreadable { error }),
            (None, None) => None,
        },
        problems: lab_problems,
    }
}

/// One router's row: its sessions as planned and as found, and its problems (pure).
pub fn router_row(
    plan: &Plan,
    r: &PlannedRouter,
    reading: Option<&RouterReading>,
    nodes: &[NodeInfo],
) -> RouterRow {
    let container = reading.map_or(ContainerCondition::Missing, |x| x.container.clone());
    let daemon = match reading.and_then(|x| x.state.as_ref()) {
        _ if !r.kind.speaks_bgp() => DaemonReading::NotRead,
        None => DaemonReading::NotRead,
        Some(Ok(state)) => DaemonReading::Answered(state),
        Some(Err(e)) => DaemonReading::Failed(e),
    };
    let expected = problems::expected_sessions(plan, r, nodes);
    let workload = problems::Workload::of(&plan.lab, r);
    let mut found = problems::router_problems(&workload, &container, daemon, &expected);
    for network in reading.map(|x| x.detached.as_slice()).unwrap_or_default() {
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
    let mut sessions = vec![];
    if let DaemonReading::Answered(state) = daemon {
        let bfd = |a: IpAddr| state.bfd_peer(a).map(|b| b.state.to_string());
        for e in &expected {
            sessions.push(match state.session(e.address) {
                Some(s) => SessionRow {
                    peer: e.peer.clone(),
                    address: e.address,
                    remote_as: s.remote_as,
                    state: PeerState::Bgp(s.state),
                    since_secs: s.since_secs,
                    prefixes_received: s.prefixes_received,
                    last_error: s.last_error.clone(),
                    bfd: bfd(e.address),
                    expected: true,
                },
                None => SessionRow {
                    peer: e.peer.clone(),
                    address: e.address,
                    remote_as: None,
                    state: PeerState::NotConfigured,
                    since_secs: None,
                    prefixes_received: None,
                    last_error: None,
                    bfd: bfd(e.address),
                    expected: true,
                },
            });
        }
        // Sessions the daemon has that the plan does not name (e.g. configured by hand).
        for s in &state.sessions {
            if expected.iter().any(|e| e.address == s.peer) {
                continue;
            }
            let peer = problems::address_name(plan, s.peer, nodes)
                .or_else(|| s.name.clone())
                .unwrap_or_else(|| s.peer.to_string());
            sessions.push(SessionRow {
                peer,
                address: s.peer,
                remote_as: s.remote_as,
                state: PeerState::Bgp(s.state),
                since_secs: s.since_secs,
                prefixes_received: s.prefixes_received,
                last_error: s.last_error.clone(),
                bfd: bfd(s.peer),
                expected: false,
            });
        }
    }
    RouterRow {
        name: r.name.clone(),
        kind: r.kind.to_string(),
        container,
        addresses: r
            .interfaces
            .iter()
            .map(|i| format!("{}/{}", i.ip, i.prefix_len))
            .collect(),
        asn: r.asn,
        sessions,
        problems: found.into_iter().map(Reported::from).collect(),
    }
}

fn dash(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// `metallab status` as text (pure): networks, routers, sessions, the cluster when there
/// is one, then one line per problem.
pub fn render_status(s: &LabStatus, p: Painter) -> String {
    let mut out = format!(
        "{} {}  {}\n\n",
        p.paint(Tone::Bold, "lab"),
        p.paint(Tone::Bold, &s.lab),
        p.paint(Tone::Dim, &s.source)
    );
    let rows: Vec<Vec<String>> = s
        .networks
        .iter()
        .map(|n| {
            vec![
                n.name.clone(),
                n.docker_name.clone(),
                n.subnet.clone(),
                if n.internal { "internal" } else { "external" }.into(),
                p.paint(
                    Tone::ok(n.present),
                    if n.present { "present" } else { "missing" },
                ),
            ]
        })
        .collect();
    out.push_str(&table(
        &["NETWORK", "DOCKER NAME", "SUBNET", "ACCESS", "STATE"],
        &rows,
    ));
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .routers
        .iter()
        .map(|r| {
            let established = r
                .sessions
                .iter()
                .filter(|x| x.expected && x.state.is_established())
                .count();
            let expected = r.sessions.iter().filter(|x| x.expected).count();
            let sessions = if r.asn.is_none() {
                "-".to_string()
            } else if !r.container.is_running() || (expected == 0 && !r.problems.is_empty()) {
                "?".to_string()
            } else {
                let text = format!("{established}/{expected} established");
                p.paint(Tone::ok(established == expected), text)
            };
            let health = if r.problems.is_empty() {
                p.paint(Tone::Good, "ok")
            } else {
                p.paint(Tone::Bad, plural(r.problems.len(), "problem"))
            };
            vec![
                r.name.clone(),
                r.kind.clone(),
                p.paint(Tone::ok(r.container.is_running()), r.container.as_str()),
                dash(r.asn),
                r.addresses.join(","),
                sessions,
                health,
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "ROUTER",
            "KIND",
            "CONTAINER",
            "ASN",
            "ADDRESSES",
            "SESSIONS",
            "HEALTH",
        ],
        &rows,
    ));
    let rows: Vec<Vec<String>> = s
        .routers
        .iter()
        .flat_map(|r| r.sessions.iter().map(move |x| (r, x)))
        .map(|(r, x)| {
            let state_tone = match x.state.status() {
                LinkStatus::Established => Tone::Good,
                LinkStatus::Down | LinkStatus::Unknown => Tone::Bad,
                LinkStatus::Connecting => Tone::Warn,
            };
            let peer = if x.expected {
                x.peer.clone()
            } else {
                format!("{} {}", x.peer, p.paint(Tone::Dim, "(unplanned)"))
            };
            vec![
                r.name.clone(),
                peer,
                x.address.to_string(),
                dash(x.remote_as),
                p.paint(state_tone, x.state.as_str()),
                dash(x.since_secs.map(human_secs)),
                dash(x.prefixes_received),
                x.bfd
                    .as_deref()
                    .map_or_else(|| "-".to_string(), |b| p.paint(Tone::ok(b == "up"), b)),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&table(
            &[
                "ROUTER",
                "PEER",
                "ADDRESS",
                "REMOTE AS",
                "STATE",
                "FOR",
                "PFX RCVD",
                "BFD",
            ],
            &rows,
        ));
    }
    if let Some(ClusterSide::Read(c)) = &s.cluster {
        out.push('\n');
        out.push_str(&render_cluster(c, p));
    }
    out.push('\n');
    let all = s.all_problems();
    if all.is_empty() {
        out.push_str(&format!("{} no problems found\n", p.paint(Tone::Good, "✔")));
    } else {
        for (scope, problem) in all {
            out.push_str(&format!(
                "{} {}: {}\n",
                p.paint(Tone::Bad, "✘"),
                p.paint(Tone::Bold, scope),
                problem.message
            ));
        }
    }
    out
}

/// The cluster's nodes, MetalLB pods and LoadBalancer Services (pure).
pub fn render_cluster(c: &ClusterState, p: Painter) -> String {
    let mut out = format!(
        "{} {} ({})\n",
        p.paint(Tone::Bold, "cluster"),
        p.paint(Tone::Bold, &c.name),
        c.provider
    );
    let rows: Vec<Vec<String>> = c
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.name.clone(),
                if n.roles.is_empty() {
                    "-".into()
                } else {
                    n.roles.join(",")
                },
                match n.ip {
                    Some(ip) => ip.to_string(),
                    // Not one of the lab's nodes (`cluster.node-addresses` lists others).
                    None if !n.api_addresses.is_empty() => "-".to_string(),
                    None => p.paint(Tone::Bad, "none"),
                },
                p.paint(
                    Tone::ok(n.ready),
                    if n.ready { "Ready" } else { "NotReady" },
                ),
            ]
        })
        .collect();
    out.push_str(&indent(
        &table(&["NODE", "ROLES", "ADDRESS", "STATUS"], &rows),
        2,
    ));
    let rows: Vec<Vec<String>> = c
        .metallb_pods
        .iter()
        .map(|pod| {
            let ready = pod.ready && pod.phase == "Running";
            vec![
                pod.name.clone(),
                dash(pod.node.as_deref()),
                p.paint(Tone::ok(ready), &pod.phase),
                p.paint(Tone::ok(pod.ready), if pod.ready { "yes" } else { "no" }),
                if pod.restarts > 0 {
                    p.paint(Tone::Warn, pod.restarts.to_string())
                } else {
                    "0".into()
                },
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&indent(
        &table(
            &["METALLB POD", "NODE", "PHASE", "READY", "RESTARTS"],
            &rows,
        ),
        2,
    ));
    let rows: Vec<Vec<String>> = c
        .services
        .iter()
        .map(|svc| {
            let ips = if svc.ips.is_empty() {
                p.paint(Tone::Bad, "<pending>")
            } else {
                svc.ips
                    .iter()
                    .map(|ip| ip.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            vec![
                format!("{}/{}", svc.namespace, svc.name),
                ips,
                if svc.ports.is_empty() {
                    "-".into()
                } else {
                    svc.ports
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                },
                dash(svc.pool.as_deref()),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&indent(
        &table(&["SERVICE", "LOADBALANCER IP", "PORTS", "POOL"], &rows),
        2,
    ));
    out
}

// ------------------------------------------------------------------------ routes

/// Who a next hop is, when it is someone the lab knows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NextHopOwner {
    Router(String),
    /// A cluster node (a MetalLB speaker announcing a Service address).
    Node(String),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouterRoutes {
    pub router: String,
    pub kind: String,
    pub routes: Vec<Route>,
    /// Next hops that are lab routers or cluster nodes, by address.
    pub next_hops: BTreeMap<IpAddr, NextHopOwner>,
    pub error: Option<String>,
}

/// The lab router or cluster node behind each next hop of `routes` (pure).
pub fn next_hop_owners(
    plan: &Plan,
    routes: &[Route],
    nodes: &[NodeInfo],
) -> BTreeMap<IpAddr, NextHopOwner> {
    routes
        .iter()
        .flat_map(|r| r.paths.iter().filter_map(|p| p.next_hop))
        .filter_map(|ip| {
            let owner = if let Some(r) = plan.routers.iter().find(|r| r.addresses().contains(&ip)) {
                NextHopOwner::Router(r.name.clone())
            } else {
                let n = nodes.iter().find(|n| n.ip == Some(ip))?;
                NextHopOwner::Node(n.name.clone())
            };
            Some((ip, owner))
        })
        .collect()
}

/// The BGP tables of the lab's routers (or of `only`), with next hops named. `nodes` are
/// the cluster's nodes when the lab has a cluster.
pub async fn gather_routes(
    exec: &RouterExec<'_>,
    plan: &Plan,
    only: Option<&str>,
    nodes: &[NodeInfo],
) -> Result<Vec<RouterRoutes>, super::EngineError> {
    let (containers, _) = lab_resources(exec.rt, &plan.lab).await?;
    let routers: Vec<&PlannedRouter> = plan
        .routers
        .iter()
        .filter(|r| r.kind.speaks_bgp() && only.is_none_or(|o| o == r.name))
        .collect();
    let containers = &containers;
    let reads = routers.iter().map(|r| async move {
        let condition = exec.condition(r, containers).await;
        read_router(exec, r, condition).await
    });
    let readings = crate::engine::bounded(8, reads.collect()).await;
    Ok(routers
        .iter()
        .zip(readings)
        .map(|(r, reading)| routes_of(plan, r, reading, nodes))
        .collect())
}

/// One router's routes from its reading (pure).
pub fn routes_of(
    plan: &Plan,
    r: &PlannedRouter,
    reading: RouterReading,
    nodes: &[NodeInfo],
) -> RouterRoutes {
    let (routes, error) = match reading.state {
        Some(Ok(state)) => (state.routes, None),
        Some(Err(e)) => (vec![], Some(e)),
        None => (
            vec![],
            Some(format!(
                "container {} is {}",
                r.container,
                reading.container.as_str()
            )),
        ),
    };
    RouterRoutes {
        router: r.name.clone(),
        kind: r.kind.to_string(),
        next_hops: next_hop_owners(plan, &routes, nodes),
        routes,
        error,
    }
}

/// `metallab routes` as text (pure): one block per router, one line per path; next hops
/// that are lab routers or cluster nodes carry their names.
pub fn render_routes(all: &[RouterRoutes], p: Painter) -> String {
    let mut out = String::new();
    for rr in all {
        out.push_str(&format!(
            "{} {}\n",
            p.paint(Tone::Bold, &rr.router),
            p.paint(Tone::Dim, format!("({})", rr.kind))
        ));
        if let Some(e) = &rr.error {
            out.push_str(&format!(
                "  {}\n\n",
                p.paint(Tone::Bad, format!("cannot read: {e}"))
            ));
            continue;
        }
        let mut rows = vec![];
        for route in &rr.routes {
            for (i, path) in route.paths.iter().enumerate() {
                let via = match path.next_hop {
                    Some(ip) => match rr.next_hops.get(&ip) {
                        Some(NextHopOwner::Router(name)) => format!("{ip} ({name})"),
                        Some(NextHopOwner::Node(name)) => {
                            p.paint(Tone::Node, format!("{ip} (node {name})"))
                        }
                        None => ip.to_string(),
                    },
                    None => p.paint(Tone::Dim, "local"),
                };
                rows.push(vec![
                    if i == 0 {
                        route.prefix.to_string()
                    } else {
                        String::new()
                    },
                    if path.best {
                        p.paint(Tone::Good, "*")
                    } else {
                        String::new()
                    },
                    via,
                    path.as_path
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    path.local_pref.map(|l| l.to_string()).unwrap_or_default(),
                    path.med.map(|l| l.to_string()).unwrap_or_default(),
                    path.communities.join(" "),
                ]);
            }
        }
        if rows.is_empty() {
            out.push_str(&format!("  {}\n\n", p.paint(Tone::Dim, "(no routes)")));
            continue;
        }
        out.push_str(&indent(
            &table(
                &[
                    "PREFIX",
                    "BEST",
                    "NEXT HOP",
                    "AS PATH",
                    "LOCPRF",
                    "MED",
                    "COMMUNITIES",
                ],
                &rows,
            ),
            2,
        ));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
