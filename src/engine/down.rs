//! `metallab down`: everything is found by the `io.metallab.lab` label, so it works after a
//! crash and without the topology file. The lab's cluster goes first (its nodes hold
//! endpoints on the lab's network but carry kind's or Minikube's labels, not ours), then
//! containers, then networks, then the state directory. On an existing cluster, which
//! is not metallab's to delete, the namespace of the lab's in-cluster routers goes instead.

use super::EngineError;
use super::state_dir::StateDir;
use crate::plan::{Plan, labels};
use crate::runtime::RuntimeError;
use std::collections::BTreeSet;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LabResources {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    /// kind clusters / Minikube profiles deleted with the lab.
    pub clusters: Vec<String>,
    /// What was deleted from an existing cluster: the namespace of the in-cluster routers
    /// (`namespace metallab-lab`) and MetalLB's configuration objects.
    pub cluster_objects: Vec<String>,
    /// What could not be removed, and how to remove it by hand.
    pub left_behind: Vec<String>,
}

/// How many containers `down` removes at once.
const CONTAINER_REMOVALS: usize = 8;

fn already_gone(error: RuntimeError) -> Result<(), RuntimeError> {
    if error.is_not_found() {
        Ok(())
    } else {
        Err(error)
    }
}

impl LabResources {
    /// Adds what a later pass removed.
    pub fn absorb(&mut self, later: LabResources) {
        self.containers.extend(later.containers);
        self.networks.extend(later.networks);
        self.clusters.extend(later.clusters);
        self.cluster_objects.extend(later.cluster_objects);
        self.left_behind = later.left_behind;
    }

    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
            && self.networks.is_empty()
            && self.clusters.is_empty()
            && self.cluster_objects.is_empty()
            && self.left_behind.is_empty()
    }

    pub fn summary(&self) -> String {
        let clusters = if self.clusters.is_empty() {
            String::new()
        } else {
            format!("cluster {}, ", self.clusters.join(", "))
        };
        let (namespaces, config): (Vec<&String>, Vec<&String>) = self
            .cluster_objects
            .iter()
            .partition(|o| o.starts_with("namespace "));
        let mut namespaces: String = namespaces.iter().map(|n| format!("{n}, ")).collect();
        if !config.is_empty() {
            namespaces.push_str(&format!("{} MetalLB object(s), ", config.len()));
        }
        let mut summary = format!(
            "removed {clusters}{namespaces}{} container(s), {} network(s)",
            self.containers.len(),
            self.networks.len()
        );
        for left in &self.left_behind {
            summary.push_str(&format!("; left behind: {left}"));
        }
        summary
    }
}

pub async fn lab_resources(
    rt: &dyn crate::runtime::ContainerEngine,
    lab: &str,
) -> Result<LabResources, EngineError> {
    let filter = [(labels::LAB, Some(lab))];
    let containers = rt.list_containers(&filter, true).await?;
    let networks = rt.list_networks(&filter).await?;
    Ok(LabResources {
        containers: containers.into_iter().map(|c| c.name).collect(),
        networks: networks.into_iter().map(|n| n.name).collect(),
        ..LabResources::default()
    })
}

/// Every lab that has at least one labelled container or network.
pub async fn running_labs(
    rt: &dyn crate::runtime::ContainerEngine,
) -> Result<Vec<String>, EngineError> {
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

/// Removes everything of `lab`. `plan` is the lab's plan when the caller has it (a failed
/// `up` has not saved it yet); else the saved one is used, if any.
pub async fn remove_lab(
    rt: &dyn crate::runtime::ContainerEngine,
    state: &StateDir,
    lab: &str,
    plan: Option<&Plan>,
) -> Result<LabResources, EngineError> {
    let saved = match plan {
        Some(_) => None,
        None => state.load_plan(lab),
    };
    let plan = plan.or(saved.as_ref());
    let clusters = super::cluster_side::delete_lab_clusters(rt, state, lab).await?;
    let mut found = lab_resources(rt, lab).await?;
    found.clusters = clusters;
    if let Some(plan) = plan {
        let (removed, left) =
            super::pod_routers::remove_from_existing_cluster(rt, state, plan).await;
        found.cluster_objects.extend(removed);
        found.left_behind.extend(left);
    }
    let removals = found
        .containers
        .iter()
        .map(|c| rt.remove_container(c, true, true))
        .collect();
    // Gone already is removed: another `down`, or a container whose creation failed
    // while it was being listed. A bounded number at once: dockerd 20.10 removing a
    // hundred containers of one network at once left the network with an endpoint no
    // container holds ("has active endpoints" until dockerd restarts), and more at once
    // is no faster on a 2-core machine.
    for r in super::bounded(CONTAINER_REMOVALS, removals).await {
        r.or_else(already_gone)?;
    }
    let removals = found.networks.iter().map(|n| rt.remove_network(n));
    for r in futures::future::join_all(removals).await {
        r.or_else(already_gone)?;
    }
    if let Err(e) = rt.remove_routing_rules(lab).await {
        found.left_behind.push(format!(
            "the DOCKER-USER rules commented metallab:lab={lab} ({e}; list them with `iptables -S DOCKER-USER` and remove each with `iptables -D DOCKER-USER …`)"
        ));
    }
    state.remove(lab).map_err(|e| {
        EngineError::setup(
            format!("cannot remove the state directory of {lab}: {e}"),
            "remove it by hand",
        )
    })?;
    Ok(found)
}
