//! Reading a running router: the driver's state commands executed with `docker exec` (or,
//! for routers placed in the cluster, Kubernetes exec into their pod), assembled into the
//! normalized `RouterState`. The check runner, `status`, `routes`, `snapshot` and the
//! dashboard all read routers through here.

use super::cluster_side::ClusterLink;
use super::sampler::LiveSamplers;
use crate::drivers::query;
use crate::engine::check_runner::{LabProbe, RunOptions};
use crate::in_cluster::KubeExec;
use crate::in_cluster::exec::ExecError;
use crate::kinds::StatePart;
use crate::plan::{Plan, PlannedCheck, PlannedRouter};
use crate::runtime::ExecOutput;
use crate::runtime::docker::{ContainerInfo, DockerRuntime};
use crate::state::{RawOutput, RouterState};
use crate::topology::model::Placement;
use crate::view::problems::ContainerCondition;
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

/// The container's condition from the lab's container list.
pub fn container_condition(containers: &[ContainerInfo], name: &str) -> ContainerCondition {
    match containers.iter().find(|c| c.name == name) {
        None => ContainerCondition::Missing,
        Some(c) if c.running => ContainerCondition::Running,
        Some(c) if c.state.is_empty() => ContainerCondition::Stopped("stopped".into()),
        Some(c) => ContainerCondition::Stopped(c.state.clone()),
    }
}

const QUERY_TIMEOUT: Duration = Duration::from_secs(15);

/// Where a router's commands run: `docker exec` in its container, or Kubernetes exec in
/// its pod for routers placed in the cluster.
pub struct RouterExec<'a> {
    pub rt: &'a DockerRuntime,
    /// Exec into in-cluster routers' pods, or why that is impossible.
    pods: Result<KubeExec, String>,
}

impl<'a> RouterExec<'a> {
    /// `pods` is None for a lab without a reachable cluster; `why_not` then says why.
    pub fn new(rt: &'a DockerRuntime, pods: Option<KubeExec>, why_not: impl Into<String>) -> Self {
        RouterExec {
            rt,
            pods: pods.ok_or_else(|| why_not.into()),
        }
    }

    /// For the lab's cluster link: pods reachable when the cluster is connected.
    pub fn for_link(rt: &'a DockerRuntime, lab: &str, link: &ClusterLink) -> Self {
        match link {
            ClusterLink::Connected(c) => {
                RouterExec::new(rt, Some(KubeExec::new(c.client.clone(), lab)), "")
            }
            ClusterLink::Unreachable(reason) => RouterExec::new(rt, None, reason.clone()),
            ClusterLink::NoCluster => RouterExec::new(
                rt,
                None,
                format!("it runs in the cluster, but lab {lab} has none"),
            ),
        }
    }

    /// Runs a command where the router runs. Errors of in-cluster routers do not name the
    /// router (callers add it, as Docker's errors name the container).
    pub async fn run(
        &self,
        r: &PlannedRouter,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, String> {
        match r.placement {
            Placement::Docker => self
                .rt
                .exec(&r.container, argv, timeout)
                .await
                .map_err(|e| e.to_string()),
            Placement::Cluster => match &self.pods {
                Ok(pods) => pods
                    .exec(&r.name, argv, timeout)
                    .await
                    .map_err(|e| e.to_string()),
                Err(why) => Err(why.clone()),
            },
        }
    }

    /// Whether the router's container (or pod) runs. `containers` is the lab's container
    /// list; pods are looked up. An unreachable cluster counts as running: the read that
    /// follows fails and says why.
    pub async fn condition(
        &self,
        r: &PlannedRouter,
        containers: &[ContainerInfo],
    ) -> ContainerCondition {
        match (r.placement, &self.pods) {
            (Placement::Docker, _) => container_condition(containers, &r.container),
            (Placement::Cluster, Err(_)) => ContainerCondition::Running,
            (Placement::Cluster, Ok(pods)) => match pods.pod_of(&r.name).await {
                Ok(_) => ContainerCondition::Running,
                Err(ExecError::NoPod { .. }) => ContainerCondition::Missing,
                Err(ExecError::NotRunning { observed, .. }) => {
                    ContainerCondition::Stopped(observed)
                }
                Err(_) => ContainerCondition::Running,
            },
        }
    }
}

/// An error of [`RouterExec::run`], naming the router: Docker's errors name the container
/// already, Kubernetes exec's do not.
pub fn naming_router(r: &PlannedRouter, error: String) -> String {
    match r.placement {
        Placement::Cluster => format!("{}: {error}", r.name),
        Placement::Docker => error,
    }
}

pub struct DockerProbe<'a> {
    pub plan: &'a Plan,
    /// The lab's cluster, for Service checks and cluster views.
    pub cluster: ClusterLink,
    /// Where the routers' commands run.
    pub exec: RouterExec<'a>,
    /// Reads parts of Docker routers' state through samplers ([`Self::sampling`]).
    samplers: Option<LiveSamplers>,
}

impl<'a> DockerProbe<'a> {
    pub fn new(rt: &'a DockerRuntime, plan: &'a Plan, cluster: ClusterLink) -> DockerProbe<'a> {
        let exec = RouterExec::for_link(rt, &plan.lab, &cluster);
        DockerProbe {
            plan,
            cluster,
            exec,
            samplers: None,
        }
    }

    /// Reads of parts of the state of routers that run as containers ([`LabProbe::read_parts`],
    /// what the check runner asks for) come from samplers inside them, a reading every
    /// `interval` for at most `at_most`, rather than a `docker exec` each: for checks that
    /// wait for a change. [`Self::stop_sampling`] ends them.
    pub fn sampling(mut self, interval: Duration, at_most: Duration) -> Self {
        self.samplers = Some(LiveSamplers::new(self.exec.rt, interval, at_most));
        self
    }

    /// [`Self::sampling`] for a run of `checks` with `opts`: a reading every poll interval,
    /// bounded, in case a sampler is never let go, by the longest of the checks and a
    /// minute.
    pub fn sampling_checks(self, checks: &[PlannedCheck], opts: &RunOptions) -> Self {
        self.sampling(
            opts.poll_interval,
            opts.longest(checks) + Duration::from_secs(60),
        )
    }

    /// Ends the samplers, once Docker has started each (see [`LiveSamplers::stop`]).
    pub async fn stop_sampling(&self) {
        if let Some(samplers) = &self.samplers {
            samplers.stop().await;
        }
    }

    fn router(&self, router: &str) -> Result<&'a PlannedRouter, String> {
        self.plan
            .router(router)
            .ok_or_else(|| format!("lab {} has no router {router}", self.plan.lab))
    }

    /// The state plus the raw CLI text it came from.
    pub async fn read_with_raw(
        &self,
        router: &str,
    ) -> Result<(RouterState, Vec<RawOutput>), String> {
        self.read_parts_with_raw(router, None).await
    }

    /// [`Self::read_with_raw`] of only `parts` (every part when None).
    async fn read_parts_with_raw(
        &self,
        router: &str,
        parts: Option<&[StatePart]>,
    ) -> Result<(RouterState, Vec<RawOutput>), String> {
        let r = self.router(router)?;
        read_router_parts(r, parts, |argv| async move {
            self.exec.run(r, &argv, QUERY_TIMEOUT).await
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
    read_router_parts(router, None, exec).await
}

/// [`read_router_state`] of only `parts` (all when None); the parts not read stay empty.
pub async fn read_router_parts<F, Fut, E>(
    router: &PlannedRouter,
    parts: Option<&[StatePart]>,
    exec: F,
) -> Result<(RouterState, Vec<RawOutput>), String>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<ExecOutput, E>>,
    E: std::fmt::Display,
{
    let mut queries = query::state_queries(router.kind);
    if let Some(parts) = parts {
        queries.retain(|q| parts.contains(&q.part));
    }
    let outputs = futures::future::join_all(queries.iter().map(|q| exec(q.argv.clone()))).await;
    let mut parts = vec![];
    let mut raw = vec![];
    for (q, out) in queries.iter().zip(outputs) {
        let out = out.map_err(|e| format!("{}: {e}", router.name))?;
        raw.push(RawOutput {
            command: q.command_line(),
            output: format!("{}{}", out.stdout, out.stderr),
        });
        parts.push((q.clone(), out));
    }
    let state = query::assemble(router.kind, &parts).map_err(|e| e.to_string())?;
    Ok((state, raw))
}

impl LabProbe for DockerProbe<'_> {
    async fn read_state(&self, router: &str) -> Result<RouterState, String> {
        self.read_with_raw(router).await.map(|(s, _)| s)
    }

    async fn read_parts(&self, router: &str, parts: &[StatePart]) -> Result<RouterState, String> {
        if let Some(samplers) = &self.samplers {
            let r = self.router(router)?;
            if r.placement == Placement::Docker {
                return samplers.read(r, parts).await;
            }
        }
        self.read_parts_with_raw(router, Some(parts))
            .await
            .map(|(s, _)| s)
    }

    async fn exec(&self, router: &str, argv: &[String]) -> Result<ExecOutput, String> {
        let r = self.router(router)?;
        self.exec
            .run(r, argv, QUERY_TIMEOUT)
            .await
            .map_err(|e| naming_router(r, e))
    }

    async fn prefix_view(&self, router: &str, prefix: ipnet::IpNet) -> String {
        let Ok(r) = self.router(router) else {
            return String::new();
        };
        let mut view = String::new();
        for argv in query::prefix_view_queries(r.kind, prefix) {
            let output = match self.exec.run(r, &argv, QUERY_TIMEOUT).await {
                Ok(out) => format!("{}{}", out.stdout, out.stderr),
                Err(error) => format!("(could not run it: {error})\n"),
            };
            view.push_str(&format!("$ {}\n{output}", query::command_line(&argv)));
            if !view.ends_with('\n') {
                view.push('\n');
            }
        }
        view
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cluster_side::LabCluster;
    use crate::topology::load::parse_and_validate;
    use std::path::Path;
    use std::sync::Arc;

    /// One router in the cluster, one in Docker.
    const MIXED: &str = "\
name: lab
cluster: { provider: kind, network: kind }
networks:
  kind: { subnet: 10.210.1.0/24 }
routers:
  inside:
    kind: bird
    asn: 64512
    placement: cluster
    neighbors: [ { to: nodes, multihop: true, passive: true } ]
  outside:
    kind: frr
    asn: 64513
    interfaces: { kind: {} }
    neighbors: [ { to: nodes, asn: 64512 } ]
metallb: { asn: 64512 }
";

    fn plan() -> Plan {
        let topology = parse_and_validate("lab.yaml", MIXED).expect("valid");
        crate::plan::build(&topology, "lab.yaml", Path::new(""))
    }

    /// A client whose API server is gone: any call through it fails at once.
    fn gone_api_server() -> kube::Client {
        let (service, handle) = tower_test::mock::pair::<
            http::Request<kube::client::Body>,
            http::Response<kube::client::Body>,
        >();
        drop(handle);
        kube::Client::new(service, "default")
    }

    /// Docker that is never reached: every call fails with the engine unreachable.
    fn no_docker(dir: &tempfile::TempDir) -> DockerRuntime {
        let path = dir.path().join("not-a-socket");
        std::fs::write(&path, "").unwrap();
        DockerRuntime::unreachable(&path)
    }

    #[tokio::test]
    async fn in_cluster_routers_are_read_through_the_kubernetes_api_and_the_rest_through_docker() {
        let dir = tempfile::tempdir().unwrap();
        let rt = no_docker(&dir);
        let plan = plan();
        let cluster = LabCluster::for_tests(gone_api_server(), "lab", vec![]);
        let probe = DockerProbe::new(&rt, &plan, ClusterLink::Connected(Arc::new(cluster)));

        // The API server is gone, so reading `inside` fails there, and says so.
        let err = probe.read_state("inside").await.unwrap_err();
        assert!(err.starts_with("inside: Kubernetes API:"), "{err}");
        let err = probe
            .exec("inside", &["true".to_string()])
            .await
            .unwrap_err();
        assert!(err.starts_with("inside: Kubernetes API:"), "{err}");
        // `outside` goes to Docker, which is not there either.
        let err = probe.read_state("outside").await.unwrap_err();
        assert!(!err.contains("Kubernetes"), "{err}");
        let err = probe.exec("nobody", &[]).await.unwrap_err();
        assert_eq!(err, "lab lab has no router nobody");
    }

    #[tokio::test]
    async fn an_unreachable_cluster_is_the_reason_an_in_cluster_router_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let rt = no_docker(&dir);
        let plan = plan();
        let link = ClusterLink::Unreachable("cannot reach the cluster: kind not found".into());
        let probe = DockerProbe::new(&rt, &plan, link);
        assert_eq!(
            probe.read_state("inside").await.unwrap_err(),
            "inside: cannot reach the cluster: kind not found"
        );
        let probe = DockerProbe::new(&rt, &plan, ClusterLink::NoCluster);
        assert_eq!(
            probe.exec("inside", &[]).await.unwrap_err(),
            "inside: it runs in the cluster, but lab lab has none"
        );
    }
}
