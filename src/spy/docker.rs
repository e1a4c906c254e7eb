//! The dashboard's view of a lab running on Docker: routers read with `docker exec`
//! through the same probe the checks, `status` and `routes` use.

use super::{LabResources, LabSource};
use crate::engine::check_runner::LabProbe;
use crate::engine::cluster_side::ClusterLink;
use crate::engine::inspect;
use crate::engine::probe::DockerProbe;
use crate::engine::probe::container_condition;
use crate::engine::state_dir::StateDir;
use crate::plan::Plan;
use crate::runtime::docker::DockerRuntime;
use crate::state::ClusterState;
use crate::topology::model::Placement;
use crate::view::RouterReading;
use std::net::IpAddr;

pub struct DockerLabSource {
    rt: DockerRuntime,
    plan: Plan,
    cluster: ClusterLink,
    /// Where `metallab fault` records the active faults.
    state: StateDir,
}

impl DockerLabSource {
    pub fn new(
        rt: DockerRuntime,
        plan: Plan,
        cluster: ClusterLink,
        state: StateDir,
    ) -> DockerLabSource {
        DockerLabSource {
            rt,
            plan,
            cluster,
            state,
        }
    }

    fn probe(&self) -> DockerProbe<'_> {
        DockerProbe::new(&self.rt, &self.plan, self.cluster.clone())
    }
}

impl LabSource for DockerLabSource {
    fn faults(&self) -> Vec<crate::faults::ActiveFault> {
        self.state.load_faults(&self.plan.lab)
    }

    async fn read_router(&self, router: &str) -> RouterReading {
        self.probe().read_with_raw(router).await
    }

    // Nodes and the cluster come from the probe, so the dashboard shows them as soon as
    // the engine's probe knows them.
    async fn node_ips(&self) -> Result<Vec<IpAddr>, String> {
        LabProbe::node_ips(&self.probe()).await
    }

    async fn resources(&self) -> Option<LabResources> {
        let (containers, networks) = inspect::lab_resources(&self.rt, &self.plan.lab)
            .await
            .ok()?;
        let mut found = LabResources {
            networks,
            ..LabResources::default()
        };
        for r in &self.plan.routers {
            if r.placement != Placement::Docker {
                continue;
            }
            found.containers.insert(
                r.name.clone(),
                container_condition(&containers, &r.container),
            );
            found
                .detached
                .insert(r.name.clone(), inspect::detached_networks(r, &containers));
        }
        Some(found)
    }

    async fn cluster_state(&self) -> Result<Option<ClusterState>, String> {
        LabProbe::cluster_state(&self.probe()).await
    }
}
