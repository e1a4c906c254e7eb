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
use crate::view::problems::ContainerCondition;
use crate::view::table::{Painter, Tone, indent};
use crate::view::{LabReading, LabView, lab_view};
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
pub fn detached_networks(r: &PlannedRouter, containers: &[ContainerInfo]) -> Vec<String> {
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

pub use crate::view::status::{all_problems, render_cluster, render_status};

/// Reads the lab and builds its view, as `status` shows it. `cluster` is the cluster side
/// when the lab has one, or why it could not be read.
pub async fn gather_status(
    exec: &RouterExec<'_>,
    plan: &Plan,
    cluster: Result<Option<ClusterState>, String>,
) -> Result<LabView, super::EngineError> {
    let (containers, networks) = lab_resources(exec.rt, &plan.lab).await?;
    let readings = read_routers(exec, plan, &containers, false).await;
    let mut view = build_status(plan, &readings, &networks, cluster);
    view.read_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Ok(view)
}

/// The lab's view from its readings (pure): what `status` and its snapshot show. Raw CLI
/// text stays out of it (a snapshot keeps it in files of its own).
pub fn build_status(
    plan: &Plan,
    readings: &[RouterReading],
    docker_networks: &[String],
    cluster: Result<Option<ClusterState>, String>,
) -> LabView {
    let (cluster, cluster_error) = match cluster {
        Ok(state) => (state, None),
        Err(error) => (None, Some(error)),
    };
    let mut lab = LabReading {
        cluster,
        cluster_error,
        networks_present: Some(docker_networks.to_vec()),
        ..LabReading::default()
    };
    for reading in readings {
        let name = reading.router.clone();
        lab.containers
            .insert(name.clone(), reading.container.clone());
        lab.detached.insert(name.clone(), reading.detached.clone());
        if let Some(state) = &reading.state {
            lab.routers
                .insert(name, state.clone().map(|state| (state, Vec::new())));
        }
    }
    lab_view(plan, &lab)
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
