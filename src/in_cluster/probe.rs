//! Reading a lab whose routers sit in Docker and in the cluster: in-cluster routers are
//! read through Kubernetes exec with the same driver queries and assembly as Docker
//! routers (`engine::probe::read_router_state`); everything else (Docker routers, node
//! addresses, cluster state) is the inner probe's.

use super::exec::KubeExec;
use crate::check::runner::LabProbe;
use crate::engine::probe::{DockerProbe, read_router_state};
use crate::plan::{Plan, PlannedRouter};
use crate::runtime::ExecOutput;
use crate::state::{ClusterState, RawOutput, RouterState};
use crate::topology::model::Placement;
use std::net::IpAddr;
use std::time::Duration;

/// Per command, as for Docker routers.
const QUERY_TIMEOUT: Duration = Duration::from_secs(15);

pub struct InClusterProbe<'a, P> {
    /// Reads everything that is not an in-cluster router.
    pub inner: P,
    pub plan: &'a Plan,
    pub exec: KubeExec,
}

impl<'a, P> InClusterProbe<'a, P> {
    pub fn new(inner: P, plan: &'a Plan, exec: KubeExec) -> Self {
        InClusterProbe { inner, plan, exec }
    }

    /// The router when it runs in the cluster; None for Docker routers and unknown names
    /// (the inner probe reports those).
    fn in_cluster(&self, router: &str) -> Option<&'a PlannedRouter> {
        self.plan
            .router(router)
            .filter(|r| r.placement == Placement::Cluster)
    }

    async fn read_in_cluster(
        &self,
        router: &PlannedRouter,
    ) -> Result<(RouterState, Vec<RawOutput>), String> {
        read_router_state(router, |argv| async move {
            self.exec.exec(&router.name, &argv, QUERY_TIMEOUT).await
        })
        .await
    }
}

impl InClusterProbe<'_, DockerProbe<'_>> {
    /// The state plus the raw CLI text it came from, for either placement.
    pub async fn read_with_raw(
        &self,
        router: &str,
    ) -> Result<(RouterState, Vec<RawOutput>), String> {
        match self.in_cluster(router) {
            Some(r) => self.read_in_cluster(r).await,
            None => self.inner.read_with_raw(router).await,
        }
    }
}

impl<P: LabProbe> LabProbe for InClusterProbe<'_, P> {
    async fn read_state(&self, router: &str) -> Result<RouterState, String> {
        match self.in_cluster(router) {
            Some(r) => self.read_in_cluster(r).await.map(|(state, _)| state),
            None => self.inner.read_state(router).await,
        }
    }

    async fn exec(&self, router: &str, argv: &[String]) -> Result<ExecOutput, String> {
        match self.in_cluster(router) {
            Some(r) => self
                .exec
                .exec(&r.name, argv, QUERY_TIMEOUT)
                .await
                .map_err(|e| format!("{}: {e}", r.name)),
            None => self.inner.exec(router, argv).await,
        }
    }

    async fn node_ips(&self) -> Result<Vec<IpAddr>, String> {
        self.inner.node_ips().await
    }

    async fn cluster_state(&self) -> Result<Option<ClusterState>, String> {
        self.inner.cluster_state().await
    }
}
