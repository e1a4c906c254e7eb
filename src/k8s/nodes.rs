//! Cluster nodes: what `status` and `nodes` checks need (name, address, roles, Ready),
//! and the one change MetalLB needs on kind: announcing from every node.

use super::K8sError;
use crate::state::cluster::NodeInfo;
use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;
use std::net::IpAddr;

/// kind puts this label on control-plane nodes; MetalLB then does not announce from them.
/// Labs want every node to announce, as MetalLB's own dev-env does.
pub const EXCLUDE_FROM_LB_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

const ROLE_LABEL_PREFIX: &str = "node-role.kubernetes.io/";

/// A node as the rest of metallab sees it.
pub fn node_info(node: &Node) -> NodeInfo {
    let status = node.status.as_ref();
    let addresses = |kind: &str| -> Vec<IpAddr> {
        status
            .and_then(|s| s.addresses.as_ref())
            .into_iter()
            .flatten()
            .filter(|a| a.type_ == kind)
            .filter_map(|a| a.address.parse().ok())
            .collect()
    };
    let internal = addresses("InternalIP");
    let mut api_addresses = internal.clone();
    api_addresses.extend(addresses("ExternalIP"));
    // Lab networks are IPv4: on a dual-stack node that is the address routers peer with.
    let ip = internal
        .iter()
        .find(|ip| ip.is_ipv4())
        .or(internal.first())
        .copied();
    let mut roles: Vec<String> = node
        .metadata
        .labels
        .iter()
        .flatten()
        .filter_map(|(key, _)| key.strip_prefix(ROLE_LABEL_PREFIX))
        .filter(|role| !role.is_empty())
        .map(str::to_string)
        .collect();
    roles.sort();
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    NodeInfo {
        name: node.metadata.name.clone().unwrap_or_default(),
        ip,
        api_addresses,
        roles,
        ready,
    }
}

/// Every node, in the API server's order (by name).
pub async fn list_nodes(client: &Client) -> Result<Vec<NodeInfo>, K8sError> {
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| K8sError::request("list nodes", e))?;
    Ok(nodes.items.iter().map(node_info).collect())
}

/// Removes [`EXCLUDE_FROM_LB_LABEL`] from every node that has it (a JSON merge patch
/// setting it to null); returns the names of the nodes changed.
pub async fn remove_exclusion_label(client: &Client) -> Result<Vec<String>, K8sError> {
    let api = Api::<Node>::all(client.clone());
    let nodes = api
        .list(&ListParams::default())
        .await
        .map_err(|e| K8sError::request("list nodes", e))?;
    let patch = json!({ "metadata": { "labels": { EXCLUDE_FROM_LB_LABEL: null } } });
    let mut changed = Vec::new();
    for node in &nodes.items {
        let labelled = node
            .metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.contains_key(EXCLUDE_FROM_LB_LABEL));
        let Some(name) = node.metadata.name.as_deref() else {
            continue;
        };
        if labelled {
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(|e| {
                    K8sError::request(
                        format!("remove label {EXCLUDE_FROM_LB_LABEL} from node {name}"),
                        e,
                    )
                })?;
            changed.push(name.to_string());
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests;
