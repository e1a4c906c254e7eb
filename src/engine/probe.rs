//! Reading a running router: the driver's state commands executed with `docker exec`,
//! assembled into the normalized `RouterState`. The check runner, `status`, `routes` and
//! (later) the dashboard all read routers through here.

use super::cluster::ClusterLink;
use crate::check::runner::LabProbe;
use crate::drivers::query;
use crate::plan::{Plan, PlannedRouter};
use crate::runtime::ExecOutput;
use crate::runtime::docker::DockerRuntime;
use crate::state::{RawOutput, RouterState};
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

const QUERY_TIMEOUT: Duration = Duration::from_secs(15);

pub struct DockerProbe<'a> {
    pub rt: &'a DockerRuntime,
    pub plan: &'a Plan,
    /// The lab's cluster, for Service checks and cluster views.
    pub cluster: ClusterLink,
}

impl<'a> DockerProbe<'a> {
    pub fn new(rt: &'a DockerRuntime, plan: &'a Plan, cluster: ClusterLink) -> DockerProbe<'a> {
        DockerProbe { rt, plan, cluster }
    }

    fn container(&self, router: &str) -> Result<&str, String> {
        self.plan
            .router(router)
            .map(|r| r.container.as_str())
            .ok_or_else(|| format!("lab {} has no router {router}", self.plan.lab))
    }

    /// The state plus the raw CLI text it came from.
    pub async fn read_with_raw(
        &self,
        router: &str,
    ) -> Result<(RouterState, Vec<RawOutput>), String> {
        let r = self
            .plan
            .router(router)
            .ok_or_else(|| format!("lab {} has no router {router}", self.plan.lab))?;
        read_router_state(r, |argv| async move {
            self.rt.exec(&r.container, &argv, QUERY_TIMEOUT).await
        })
        .await
    }
}

/// A router's state read through `exec`, whichever way it runs a command in the router
/// (Docker exec, Kubernetes exec): the driver's state queries run in parallel, their
/// outputs are assembled into the normalized state and kept as raw text.
pub async fn read_router_state<F, Fut, E>(
    router: &PlannedRouter,
    exec: F,
) -> Result<(RouterState, Vec<RawOutput>), String>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<ExecOutput, E>>,
    E: std::fmt::Display,
{
    let queries = query::state_queries(router.kind);
    let outputs = futures::future::join_all(queries.iter().map(|q| exec(q.argv.clone()))).await;
    let mut parts = vec![];
    let mut raw = vec![];
    for (q, out) in queries.iter().zip(outputs) {
        let out = out.map_err(|e| format!("{}: {e}", router.name))?;
        raw.push(RawOutput {
            command: q.command_line(),
            output: format!("{}{}", out.stdout, out.stderr),
        });
        parts.push((q.part, out));
    }
    let state = query::assemble(router.kind, &parts).map_err(|e| e.to_string())?;
    Ok((state, raw))
}

impl LabProbe for DockerProbe<'_> {
    async fn read_state(&self, router: &str) -> Result<RouterState, String> {
        self.read_with_raw(router).await.map(|(s, _)| s)
    }

    async fn exec(&self, router: &str, argv: &[String]) -> Result<ExecOutput, String> {
        let container = self.container(router)?;
        self.rt
            .exec(container, argv, QUERY_TIMEOUT)
            .await
            .map_err(|e| e.to_string())
    }

    async fn node_ips(&self) -> Result<Vec<IpAddr>, String> {
        // The nodes `up` discovered, saved in the plan (none for router-only labs).
        Ok(self.plan.cluster_nodes.iter().map(|n| n.ip).collect())
    }

    async fn cluster_state(&self) -> Result<Option<crate::state::ClusterState>, String> {
        self.cluster.state().await
    }

    fn pool_ranges(&self, pool: &str) -> Option<Vec<(IpAddr, IpAddr)>> {
        self.plan
            .metallb
            .as_ref()
            .and_then(|m| crate::check::service::pool_ranges(m, pool))
    }
}
