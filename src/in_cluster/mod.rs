//! Routers placed inside the cluster (`routers.<name>.placement: cluster`), the way the old
//! MetalLB test-bgp-router pod ran: for clusters whose nodes external containers cannot
//! reach (Minikube with a VM driver, a remote cluster).
//!
//! An in-cluster router is a one-replica Deployment of the router image in the lab's
//! namespace, its rendered config files in a ConfigMap, and a Service with a fixed
//! ClusterIP ([`address`]) that MetalLB's speakers peer with. Everything else is what a
//! Docker router does: the same rendered configs, the same driver commands started with
//! exec after the pod runs, the same state queries read with exec.
//!
//! How the BGP sessions get through the Service (all of it set up by
//! [`start::network_setup_command`] inside the pod, which is why the image needs
//! `iptables`):
//! 1. a speaker (host network) connects to `ClusterIP:179`; kube-proxy DNATs that to the
//!    pod and, because the source is outside the pod CIDR, masquerades it. From another
//!    node the source stays that node's address; from the pod's own node it becomes the
//!    node's address on the pod's veth (e.g. kindnet's 10.244.x.1), which is no peer.
//!    The pod SNATs connections to port 179 from anything but a known node address back
//!    to its node's address (`status.hostIP`, in `METALLAB_NODE_IP`). The old test
//!    router did the same for single-node Minikube.
//! 2. the connection arrives for the pod's own IP, but the rendered config says the
//!    router's address is the ClusterIP (BIRD and GoBGP refuse a session whose local
//!    address differs from the configured one). The pod holds the ClusterIP on `lo` and
//!    DNATs port 179 to it, so the daemon sees exactly the addresses the speaker used
//!    (which also keeps TCP MD5 signatures valid).
//! 3. only the speakers open sessions: a connection from the pod would reach a speaker
//!    from an address it does not peer with, so validation requires `passive: true`, and
//!    `multihop` because sessions from other nodes cross a node's forwarding. BFD's
//!    independent UDP flows do not survive the translations: validation refuses it.
//!
//! Assumes kube-proxy in iptables or nftables mode (kind's and Minikube's default).

pub mod exec;
pub mod manifests;
pub mod start;

pub use crate::plan::service_address::{SERVICE_NETWORK, service_ip};
pub use exec::KubeExec;
pub use manifests::{ManifestError, lab_manifests, namespace, router_manifests};

/// The BGP port the Service forwards and the daemons listen on.
pub use crate::topology::model::BGP_PORT;

/// The container of the router pod (one per pod).
pub const CONTAINER: &str = "router";

/// Environment variable holding the address of the node the pod runs on.
pub const NODE_IP_ENV: &str = "METALLAB_NODE_IP";

#[cfg(test)]
mod tests;
