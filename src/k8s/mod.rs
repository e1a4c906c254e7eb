//! The Kubernetes edge (kube-rs): connecting from a kubeconfig, server-side apply of
//! manifests with the waits that make "applied" mean "running", the node tweaks MetalLB
//! needs, and reading the cluster back as [`crate::state::ClusterState`].
//!
//! Everything here does I/O against the API server; the decisions that can be pure
//! (manifest parsing and ordering, readiness of a rollout, which errors mean "the webhook
//! is not up yet", turning API objects into the normalized state) are plain functions,
//! tested on their own. The I/O is tested against tower-test's mock service answering
//! the requests a real API server would get, in order.
//!
//! The engine's calls, in order:
//! - `up`: [`client::connect`] → [`apply::apply_manifests`] (MetalLB's manifests; waits
//!   for CRDs and rollouts) → [`nodes::remove_exclusion_label`] →
//!   [`apply::apply_metallb_config`] (retried only while the webhook is unreachable) →
//!   [`apply::apply_manifests`] again for the apps (read and parsed before anything is
//!   created, by the engine);
//!   in-cluster routers' objects go through [`apply::apply_manifests`] too, without
//!   rollout waits (their pods turn ready once their daemons are started by exec);
//! - `status`/`check`: [`state::read_cluster_state`];
//! - `snapshot`: [`state::dump_objects`];
//! - `down` on an existing cluster: [`namespace::delete_namespace`] (the in-cluster routers).
//! - `fault LAB speaker NODE restart`: [`speaker::restart_speaker`].

pub mod apply;
pub mod client;
mod error;
pub mod field_path;
pub mod lab_objects;
pub mod namespace;
pub mod nodes;
pub mod speaker;
pub mod state;

#[cfg(test)]
pub(crate) mod mock;

pub use error::K8sError;

/// Where MetalLB's manifests put the controller, speakers and configuration.
pub const METALLB_NAMESPACE: &str = "metallb-system";

/// Where frr-k8s runs when MetalLB is deployed in frr-k8s mode with its own namespace.
pub const FRR_K8S_NAMESPACE: &str = "frr-k8s-system";

/// Field manager of every server-side apply, so `kubectl` shows who owns which field.
pub const FIELD_MANAGER: &str = "metallab";

/// The legacy configuration ConfigMap (MetalLB up to v0.12): `metallb-system/config`.
pub use crate::metallb::LEGACY_CONFIGMAP;

/// "namespace/name", or the bare name of a cluster-scoped object.
pub(crate) fn qualified(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}
