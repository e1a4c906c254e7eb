//! `metallab down`: everything is found by the `io.metallab.lab` label, so it works after a
//! crash and without the topology file. The lab's cluster goes first (its nodes hold
//! endpoints on the lab's network but carry kind's or Minikube's labels, not ours), then
//! containers, then networks, then the state directory.

use super::EngineError;
use super::state_dir::StateDir;
use crate::plan::labels;
use crate::runtime::docker::DockerRuntime;
use std::collections::BTreeSet;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LabResources {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    /// kind clusters / Minikube profiles deleted with the lab.
    pub clusters: Vec<String>,
}

impl LabResources {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.clusters.is_empty()
    }

    pub fn summary(&self) -> String {
        let clusters = if self.clusters.is_empty() {
            String::new()
        } else {
            format!("cluster {}, ", self.clusters.join(", "))
        };
        format!(
            "removed {clusters}{} container(s), {} network(s)",
            self.containers.len(),
            self.networks.len()
        )
    }
}

pub async fn lab_resources(rt: &DockerRuntime, lab: &str) -> Result<LabResources, EngineError> {
    let filter = [(labels::LAB, Some(lab))];
    let containers = rt.list_containers(&filter, true).await?;
    let networks = rt.list_networks(&filter).await?;
    Ok(LabResources {
        containers: containers.into_iter().map(|c| c.name).collect(),
        networks: networks.into_iter().map(|n| n.name).collect(),
        clusters: vec![],
    })
}

/// Every lab that has at least one labelled container or network.
pub async fn running_labs(rt: &DockerRuntime) -> Result<Vec<String>, EngineError> {
    let filter = [(labels::LAB, None)];
    let mut labs = BTreeSet::new();
    for c in rt.list_containers(&filter, true).await? {
        if let Some(l) = c.labels.get(labels::LAB) {
            labs.insert(l.clone());
        }
    }
    for n in rt.list_networks(&filter).await? {
        if let Some(l) = n.labels.get(labels::LAB) {
            labs.insert(l.clone());
        }
    }
    Ok(labs.into_iter().collect())
}

pub async fn remove_lab(
    rt: &DockerRuntime,
    state: &StateDir,
    lab: &str,
) -> Result<LabResources, EngineError> {
    let clusters = super::cluster::delete_lab_clusters(rt, state, lab).await?;
    let mut found = lab_resources(rt, lab).await?;
    found.clusters = clusters;
    let removals = found
        .containers
        .iter()
        .map(|c| rt.remove_container(c, true, true));
    for r in futures::future::join_all(removals).await {
        r?;
    }
    let removals = found.networks.iter().map(|n| rt.remove_network(n));
    for r in futures::future::join_all(removals).await {
        r?;
    }
    if let Err(e) = super::firewall::remove_rules(lab).await {
        tracing::warn!("cannot remove the DOCKER-USER rules of lab {lab}: {e}");
    }
    state.remove(lab).map_err(|e| {
        EngineError::setup(
            format!("cannot remove the state directory of {lab}: {e}"),
            "remove it by hand",
        )
    })?;
    Ok(found)
}
