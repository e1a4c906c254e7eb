//! Reading the cluster side of a lab: [`ClusterState`] for `status`, Service checks and
//! the dashboard, and [`dump_objects`] for bug-report snapshots.

use super::nodes::list_nodes;
use super::{FRR_K8S_NAMESPACE, K8sError, LEGACY_CONFIGMAP, METALLB_NAMESPACE};
use crate::state::ClusterState;
use crate::state::cluster::{EventInfo, PodInfo, ServiceInfo};
use crate::topology::model::MetallbMode;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams};
use serde::Serialize;
use serde_json::Value;
use std::net::IpAddr;

/// The annotation MetalLB (v0.13 and later) sets on a Service it gave an address to.
pub const POOL_ANNOTATION: &str = "metallb.io/ip-allocated-from-pool";

/// The namespaces whose pods are MetalLB's: `metallb-system`, plus `frr-k8s-system` in
/// frr-k8s mode (listing a namespace that does not exist just yields no pods).
pub fn pod_namespaces(mode: Option<MetallbMode>) -> Vec<&'static str> {
    match mode {
        Some(MetallbMode::FrrK8s) => vec![METALLB_NAMESPACE, FRR_K8S_NAMESPACE],
        _ => vec![METALLB_NAMESPACE],
    }
}

/// The cluster's state now. `provider` and `name` are carried into the result as they
/// are (`kind`/`minikube`/`existing`; the cluster, profile or context name).
pub async fn read_cluster_state(
    client: &Client,
    provider: &str,
    name: &str,
    pod_namespaces: &[&str],
) -> Result<ClusterState, K8sError> {
    let nodes = list_nodes(client).await?;

    let mut metallb_pods = Vec::new();
    for namespace in pod_namespaces {
        let pods = Api::<Pod>::namespaced(client.clone(), namespace)
            .list(&ListParams::default())
            .await
            .map_err(|e| K8sError::request(format!("list pods in {namespace}"), e))?;
        metallb_pods.extend(pods.items.iter().map(pod_info));
    }

    let services = Api::<Service>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| K8sError::request("list services", e))?;
    let services = services.items.iter().filter_map(service_info).collect();

    let events = relevant_events(client).await?;
    let events = events.iter().map(event_info).collect();

    Ok(ClusterState {
        provider: provider.to_string(),
        name: name.to_string(),
        nodes,
        metallb_pods,
        services,
        events,
    })
}

/// Events on Services (every namespace) and on MetalLB's configuration objects (the
/// legacy ConfigMap and the metallb.io CRs), oldest first. Two list requests: field
/// selectors cannot express "Service or MetalLB object".
async fn relevant_events(client: &Client) -> Result<Vec<Event>, K8sError> {
    let on_services = Api::<Event>::all(client.clone())
        .list(&ListParams::default().fields("involvedObject.kind=Service"))
        .await
        .map_err(|e| K8sError::request("list events on services", e))?;
    let in_metallb = Api::<Event>::namespaced(client.clone(), METALLB_NAMESPACE)
        .list(&ListParams::default())
        .await
        .map_err(|e| K8sError::request(format!("list events in {METALLB_NAMESPACE}"), e))?;
    let mut events: Vec<Event> = on_services.items;
    events.extend(
        in_metallb
            .items
            .into_iter()
            .filter(|e| is_metallb_config_object(&e.involved_object)),
    );
    // Stable: events without a time keep the API server's order, first.
    events.sort_by_key(event_time);
    Ok(events)
}

/// Whether an event is about MetalLB's configuration (and not already a Service event).
fn is_metallb_config_object(object: &k8s_openapi::api::core::v1::ObjectReference) -> bool {
    let kind = object.kind.as_deref().unwrap_or("");
    let name = object.name.as_deref().unwrap_or("");
    let group = object
        .api_version
        .as_deref()
        .and_then(|v| v.split_once('/'))
        .map(|(group, _)| group);
    (kind == "ConfigMap" && name == LEGACY_CONFIGMAP) || group == Some(crate::metallb::GROUP)
}

/// When the event last happened: `lastTimestamp` (core events), `eventTime` (events
/// written through events.k8s.io), else when it was first seen or created.
fn event_time(event: &Event) -> Option<Timestamp> {
    event
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| event.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

pub fn event_info(event: &Event) -> EventInfo {
    let object = &event.involved_object;
    EventInfo {
        namespace: event
            .metadata
            .namespace
            .clone()
            .or_else(|| object.namespace.clone())
            .unwrap_or_default(),
        object_kind: object.kind.clone().unwrap_or_default(),
        object_name: object.name.clone().unwrap_or_default(),
        reason: event.reason.clone().unwrap_or_default(),
        message: event.message.clone().unwrap_or_default(),
        event_type: event.type_.clone().unwrap_or_default(),
        count: event
            .count
            .or_else(|| event.series.as_ref().and_then(|s| s.count))
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(1),
        last_seen: event_time(event).map(|t| t.to_string()),
    }
}

pub fn pod_info(pod: &Pod) -> PodInfo {
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    PodInfo {
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        phase: pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into()),
        ready: !statuses.is_empty() && statuses.iter().all(|c| c.ready),
        restarts: statuses
            .iter()
            .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
            .sum(),
    }
}

/// A Service of type LoadBalancer as checks see it; None for other types.
pub fn service_info(service: &Service) -> Option<ServiceInfo> {
    let spec = service.spec.as_ref()?;
    if spec.type_.as_deref() != Some("LoadBalancer") {
        return None;
    }
    let ips: Vec<IpAddr> = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|ingress| ingress.ip.as_deref()?.parse().ok())
        .collect();
    let ports = spec
        .ports
        .iter()
        .flatten()
        .filter_map(|p| u16::try_from(p.port).ok())
        .collect();
    Some(ServiceInfo {
        namespace: service.metadata.namespace.clone().unwrap_or_default(),
        name: service.metadata.name.clone().unwrap_or_default(),
        ips,
        ports,
        pool: service
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(POOL_ANNOTATION).cloned()),
    })
}

/// MetalLB's objects, LoadBalancer Services and the relevant events as YAML, for a bug
/// report: what MetalLB was told, what it did, what it complained about.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectDump {
    /// metallb.io CRs (when the CRDs exist) and the legacy `config` ConfigMap (when
    /// present), as multi-document YAML.
    pub metallb: String,
    pub services: String,
    pub events: String,
}

impl ObjectDump {
    /// File names and contents, for writing into a snapshot directory.
    pub fn files(&self) -> [(&'static str, &str); 3] {
        [
            ("metallb-objects.yaml", &self.metallb),
            ("services.yaml", &self.services),
            ("events.yaml", &self.events),
        ]
    }
}

/// Reads MetalLB's configuration objects, LoadBalancer Services and events (see
/// [`ObjectDump`]). `managedFields` are left out: noise in a bug report. Configuration
/// objects another lab labelled are left out too: they are that lab's.
pub async fn dump_objects(client: &Client, lab: &str) -> Result<ObjectDump, K8sError> {
    let listing = super::lab_objects::config_objects(client, None).await?;
    let metallb: Vec<Value> = listing
        .objects
        .iter()
        .filter(|o| o.lab.as_deref().is_none_or(|owner| owner == lab))
        .map(|o| to_value(&o.value))
        .collect();
    // Kinds that could not be listed say so where a reader looks for them.
    let unreadable: String = listing
        .unreadable
        .iter()
        .map(|(kind, why)| format!("# {kind}s could not be listed: {why}\n"))
        .collect();

    let services = Api::<Service>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| K8sError::request("list services", e))?;
    let services: Vec<Value> = services
        .items
        .iter()
        .filter(|s| service_info(s).is_some())
        .map(to_value)
        .collect();

    let events: Vec<Value> = relevant_events(client)
        .await?
        .iter()
        .map(to_value)
        .collect();

    Ok(ObjectDump {
        metallb: format!("{unreadable}{}", to_yaml(&metallb)),
        services: to_yaml(&services),
        events: to_yaml(&events),
    })
}

fn to_value(object: &impl Serialize) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    value
}

/// Multi-document YAML; an empty string when there is nothing.
fn to_yaml(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| {
            serde_saphyr::to_string(o).unwrap_or_else(|e| format!("# not serializable: {e}\n"))
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

#[cfg(test)]
mod tests;
