//! What a lab puts on a cluster others may share (an existing cluster, a kind cluster
//! named in several topologies): MetalLB's configuration objects and the namespace of its
//! in-cluster routers, each labelled `io.metallab.lab=<lab>`. The label lets `up` refuse
//! to configure MetalLB over another lab's configuration, `down` remove exactly the lab's
//! own objects, and snapshots keep to the lab.

use super::apply::{ObjectRef, object_ref};
use super::{K8sError, LEGACY_CONFIGMAP, METALLB_NAMESPACE};
use crate::plan::labels;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::core::TypeMeta;
use kube::discovery::ApiResource;
use std::collections::BTreeMap;

/// One of MetalLB's configuration objects as the cluster has it.
#[derive(Debug, Clone)]
pub struct ConfigObject {
    pub object: ObjectRef,
    /// The lab its `io.metallab.lab` label names; None when metallab did not make it.
    pub lab: Option<String>,
    /// The object itself, with apiVersion and kind set (list items may lack them).
    pub value: DynamicObject,
    /// How to reach it again (to delete it).
    resource: ApiResource,
}

/// MetalLB's configuration objects as far as they could be read.
#[derive(Debug, Default)]
pub struct ConfigListing {
    pub objects: Vec<ConfigObject>,
    /// Kinds whose list failed, each with the API server's words: listing BGPPeers goes
    /// through MetalLB's conversion webhook, which fails while MetalLB's controller is not
    /// serving (`conversion webhook for metallb.io/v1beta2, Kind=BGPPeer failed`).
    pub unreadable: Vec<(String, String)>,
}

/// Every MetalLB configuration object in `metallb-system`: the CRs of
/// [`crate::metallb::CONFIG_KINDS`] where the cluster serves them (v0.13 and later), and the
/// legacy `config` ConfigMap when present. `selector` narrows them by label. A kind that
/// cannot be listed is reported in [`ConfigListing::unreadable`], not an error: the
/// others still count.
pub async fn config_objects(
    client: &Client,
    selector: Option<&str>,
) -> Result<ConfigListing, K8sError> {
    let params = match selector {
        Some(selector) => ListParams::default().labels(selector),
        None => ListParams::default(),
    };
    let mut resources = Vec::new();
    match kube::discovery::group(client, crate::metallb::GROUP).await {
        Ok(group) => {
            let served = group.resources_by_stability();
            resources.extend(crate::metallb::CONFIG_KINDS.iter().filter_map(|kind| {
                served
                    .iter()
                    .find(|(r, _)| r.kind == *kind)
                    .map(|(r, _)| (r.clone(), params.clone()))
            }));
        }
        // Before v0.13 MetalLB had no CRDs: only the ConfigMap below.
        Err(kube::Error::Discovery(_)) => {}
        Err(e) => return Err(K8sError::request("discover MetalLB's CRDs", e)),
    }
    resources.push((
        ApiResource::erase::<ConfigMap>(&()),
        params.fields(&format!("metadata.name={LEGACY_CONFIGMAP}")),
    ));
    let mut found = ConfigListing::default();
    for (resource, params) in resources {
        let listed =
            Api::<DynamicObject>::namespaced_with(client.clone(), METALLB_NAMESPACE, &resource)
                .list(&params)
                .await;
        let list = match listed {
            Ok(list) => list,
            Err(kube::Error::Api(status)) => {
                found
                    .unreadable
                    .push((resource.kind.clone(), status.message));
                continue;
            }
            Err(e) => {
                return Err(K8sError::request(format!("list {}s", resource.kind), e));
            }
        };
        for mut object in list.items {
            // List items may come without apiVersion and kind; a dump needs them.
            object.types = Some(TypeMeta {
                api_version: resource.api_version.clone(),
                kind: resource.kind.clone(),
            });
            found.objects.push(config_object(object, resource.clone()));
        }
    }
    Ok(found)
}

fn config_object(value: DynamicObject, resource: ApiResource) -> ConfigObject {
    let lab = value
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(labels::LAB))
        .cloned();
    ConfigObject {
        object: object_ref(&value),
        lab,
        value,
        resource,
    }
}

/// Why `lab` may not apply `rendered` (its MetalLB configuration) to a cluster holding
/// `existing`, one line per reason: another lab's configuration is there (MetalLB would
/// serve both and the objects' names collide), or an object metallab did not make has
/// the name of one of ours (applying would take it over). Empty when nothing is in the way.
pub fn configuration_conflicts(
    existing: &[ConfigObject],
    lab: &str,
    rendered: &[DynamicObject],
) -> Vec<String> {
    let mut other_labs: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut not_ours = Vec::new();
    for found in existing {
        match found.lab.as_deref() {
            Some(owner) if owner == lab => {}
            Some(owner) => other_labs
                .entry(owner)
                .or_default()
                .push(found.object.to_string()),
            None => {
                let same_name = rendered.iter().any(|r| {
                    let r = object_ref(r);
                    r.kind == found.object.kind && r.name == found.object.name
                });
                if same_name {
                    not_ours.push(found.object.to_string());
                }
            }
        }
    }
    let mut conflicts: Vec<String> = other_labs
        .into_iter()
        .map(|(owner, objects)| {
            format!(
                "lab {owner} configures MetalLB on this cluster ({})",
                objects.join(", ")
            )
        })
        .collect();
    conflicts.extend(
        not_ours
            .into_iter()
            .map(|object| format!("{object} exists and was not made by metallab")),
    );
    conflicts
}

/// What [`delete_lab_config`] removed, and the kinds it could not list.
#[derive(Debug, Default)]
pub struct Deleted {
    pub objects: Vec<ObjectRef>,
    pub unreadable: Vec<(String, String)>,
}

/// Deletes `lab`'s MetalLB configuration objects (found by label); returns them, and the
/// kinds that could not be listed (left as they are).
pub async fn delete_lab_config(client: &Client, lab: &str) -> Result<Deleted, K8sError> {
    delete_lab_config_except(client, lab, &[]).await
}

/// Deletes `lab`'s MetalLB configuration objects except those in `keep` (what the
/// lab's configuration now holds): the ones a changed topology no longer renders.
pub async fn delete_lab_config_except(
    client: &Client,
    lab: &str,
    keep: &[ObjectRef],
) -> Result<Deleted, K8sError> {
    let selector = format!("{}={lab}", labels::LAB);
    let listing = config_objects(client, Some(&selector)).await?;
    let mut deleted = Deleted {
        unreadable: listing.unreadable,
        ..Deleted::default()
    };
    let kept = |found: &ConfigObject| {
        keep.iter()
            .any(|k| k.kind == found.object.kind && k.name == found.object.name)
    };
    for found in listing.objects.into_iter().filter(|f| !kept(f)) {
        let name = &found.object.name;
        let result = Api::<DynamicObject>::namespaced_with(
            client.clone(),
            METALLB_NAMESPACE,
            &found.resource,
        )
        .delete(name, &DeleteParams::default())
        .await;
        match result {
            Ok(_) => deleted.objects.push(found.object),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(K8sError::request(format!("delete {}", found.object), e)),
        }
    }
    Ok(deleted)
}

/// Deletes every namespace labelled with `lab` (its in-cluster routers'); returns their
/// names. Found by label, so a namespace whose plan was lost still goes.
pub async fn delete_lab_namespaces(client: &Client, lab: &str) -> Result<Vec<String>, K8sError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let selector = format!("{}={lab}", labels::LAB);
    let list = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| K8sError::request(format!("list namespaces of lab {lab}"), e))?;
    let mut deleted = Vec::new();
    for namespace in list.items {
        let Some(name) = namespace.metadata.name else {
            continue;
        };
        if super::namespace::delete_namespace(client, &name).await? {
            deleted.push(name);
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests;
