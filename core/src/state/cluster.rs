//! What the cluster side of a lab looks like at one moment: nodes, MetalLB's pods,
//! LoadBalancer Services and recent events. Read through the Kubernetes API (kube-rs) by
//! the engine; read by Service checks, `status`, `spy` and `snapshot`.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClusterState {
    /// `kind`, `minikube` or `existing`.
    pub provider: String,
    /// kind cluster name, Minikube profile, or kubeconfig context.
    pub name: String,
    pub nodes: Vec<NodeInfo>,
    /// Pods in MetalLB's namespace (controller, speakers, frr-k8s).
    pub metallb_pods: Vec<PodInfo>,
    /// Services of type LoadBalancer, every namespace.
    pub services: Vec<ServiceInfo>,
    /// Recent events on Services and on MetalLB's objects (ConfigMap, CRDs), oldest first.
    pub events: Vec<EventInfo>,
}

impl ClusterState {
    pub fn service(&self, namespace: &str, name: &str) -> Option<&ServiceInfo> {
        self.services
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
    }

    /// The addresses `nodes` stands for in checks and views.
    pub fn node_ips(&self) -> Vec<IpAddr> {
        self.nodes.iter().filter_map(|n| n.ip).collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    /// The node's address on the lab network the routers peer over.
    pub ip: Option<IpAddr>,
    /// Every address the API gives the node (InternalIP, ExternalIP): how a node listed
    /// in `cluster.node-addresses` is recognised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_addresses: Vec<IpAddr>,
    /// `control-plane`, `worker`…
    pub roles: Vec<String>,
    pub ready: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub node: Option<String>,
    /// `Pending`, `Running`, `Failed`…
    pub phase: String,
    /// All containers ready.
    pub ready: bool,
    pub restarts: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    /// Addresses from `status.loadBalancer.ingress`.
    pub ips: Vec<IpAddr>,
    pub ports: Vec<u16>,
    /// The pool MetalLB allocated from, when it says (annotation
    /// `metallb.io/ip-allocated-from-pool`, MetalLB v0.13 and later).
    pub pool: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventInfo {
    pub namespace: String,
    /// Kind and name of the object the event is about (`Service`, `ConfigMap`…).
    pub object_kind: String,
    pub object_name: String,
    /// `IPAllocated`, `InvalidConfig`, `nodeAssigned`…
    pub reason: String,
    pub message: String,
    /// `Normal` or `Warning`.
    pub event_type: String,
    pub count: u32,
    /// RFC 3339 time of the last occurrence, when known.
    pub last_seen: Option<String>,
}
