//! `status` and `routes`: read the lab (I/O) into [`RouterReading`]s and turn them into
//! the one lab view (`view::LabView`, pure), which `view::status` and `view::routes`
//! render as aligned tables or JSON.
//!
//! `snapshot` reuses the readings: they keep every command's raw text even when parsing
//! failed, which is when a bug report needs it most.

use super::probe::RouterExec;
pub use super::probe::container_condition;
use crate::drivers::query;
use crate::plan::{Plan, PlannedRouter};
use crate::runtime::docker::{ContainerInfo, DockerRuntime};
use crate::state::RouterState;
use crate::state::cluster::ClusterState;
use crate::view::problems::ContainerCondition;
use crate::view::{LabReading, LabView, lab_view};
use serde::Serialize;
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
    lab_view(
        plan,
        &lab_reading(readings, Some(docker_networks.to_vec()), cluster),
    )
}

/// The engine's readings as the view reads them.
fn lab_reading(
    readings: &[RouterReading],
    docker_networks: Option<Vec<String>>,
    cluster: Result<Option<ClusterState>, String>,
) -> LabReading {
    let (cluster, cluster_error) = match cluster {
        Ok(state) => (state, None),
        Err(error) => (None, Some(error)),
    };
    let mut lab = LabReading {
        cluster,
        cluster_error,
        networks_present: docker_networks,
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
    lab
}

// ------------------------------------------------------------------------ routes

pub use crate::view::routes::{RouterRoutes, render_routes, router_routes};

/// The lab view with the BGP tables of the lab's routers (or of `only`) read; next hops
/// are named from the plan (routers and the cluster's nodes).
pub async fn gather_routes(
    exec: &RouterExec<'_>,
    plan: &Plan,
    only: Option<&str>,
) -> Result<LabView, super::EngineError> {
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
    Ok(lab_view(plan, &lab_reading(&readings, None, Ok(None))))
}

#[cfg(test)]
mod tests;
