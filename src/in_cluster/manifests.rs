//! The Kubernetes objects of in-cluster routers. Pure: a planned router (with its node
//! sessions expanded) and its image in, JSON manifests out, in apply order.
//!
//! Per lab: one Namespace, `metallab-<lab>` (a namespace per lab keeps labs on one
//! existing cluster apart and lets `down` remove everything with one delete). Per router:
//! - a ConfigMap `<router>-config` with the rendered config files (`render_router`),
//!   one key per file, each mounted with `subPath` at the file's real path;
//! - a Service `<router>` of type ClusterIP with the plan's fixed ClusterIP, forwarding
//!   BGP (and the router's HTTP port); applied before the Deployment so a taken address
//!   fails the lab before any pod starts;
//! - a Deployment `<router>`: one replica, `Recreate` (two routers behind one ClusterIP
//!   during a rolling update would split the speakers' sessions), the router image with
//!   `imagePullPolicy: IfNotPresent` — built-in images are local `metallab/<kind>:<hash>`
//!   tags no registry has, so the engine loads them into the nodes first (`kind load
//!   docker-image`, `minikube image load`) — the driver's container command (a sleeper:
//!   the daemons are started afterwards with exec, as in Docker), the driver's capabilities
//!   (never privileged), and the driver's ready command as readiness probe, so the Service
//!   sends the speakers to the pod only once its daemon answers.
//!
//! Sysctls: the driver's (`ip_forward`, `rp_filter`, `accept_redirects`) are all "unsafe"
//! for the kubelet, which refuses such a pod unless started with `--allowed-unsafe-sysctls`,
//! and `/proc/sys` is read-only in an unprivileged container. None is needed in a pod:
//! forwarding and static routes are refused by validation for in-cluster routers, and a
//! pod has a single interface, so reverse-path filtering and redirects have nothing to
//! choose between. The pod spec therefore sets no sysctls.

use super::{BGP_PORT, CONTAINER, NODE_IP_ENV};
use crate::drivers;
use crate::plan::service_address::service_ip;
use crate::plan::{Plan, PlannedRouter, labels};
use crate::render::{self, ConfigFile, RenderError};
use crate::topology::model::Placement;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EnvVar, EnvVarSource,
    ExecAction, KeyToPath, Namespace, ObjectFieldSelector, PodSpec, PodTemplateSpec, Probe,
    SecurityContext, Service, ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Pod-template annotation carrying a hash of the router's config: subPath mounts never
/// see ConfigMap updates, so a changed config must replace the pod, and a changed template
/// does exactly that.
pub const CONFIG_HASH_ANNOTATION: &str = "io.metallab.config-hash";

/// Namespace label that lets the pods' capabilities past Pod Security Admission on
/// clusters enforcing `baseline` (NET_ADMIN and SYS_ADMIN are outside it). The pods are
/// still not privileged.
const POD_SECURITY_ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// The most a ConfigMap holds (etcd's object limit).
const CONFIG_MAP_MAX_BYTES: usize = 1024 * 1024;

/// Longest ConfigMap key.
const MAX_KEY_LEN: usize = 253;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("router {router} is not placed in the cluster")]
    NotInCluster { router: String },
    #[error("router {router} has no Service address in the plan")]
    NoServiceAddress { router: String },
    #[error("cannot render the config of {router}: {source}")]
    Render {
        router: String,
        #[source]
        source: RenderError,
    },
    #[error("router {router}: config file {path} has no valid ConfigMap key")]
    BadConfigPath { router: String, path: String },
    #[error("router {router}: config files {first} and {second} both map to ConfigMap key {key}")]
    KeyCollision {
        router: String,
        first: String,
        second: String,
        key: String,
    },
    #[error(
        "router {router}: its config files take {bytes} bytes, more than a ConfigMap holds (1 MiB)"
    )]
    TooLarge { router: String, bytes: usize },
}

impl ManifestError {
    pub fn hint(&self) -> String {
        match self {
            ManifestError::NotInCluster { router } => format!(
                "only routers with `placement: cluster` get Kubernetes objects; {router} runs in Docker"
            ),
            ManifestError::NoServiceAddress { .. } => {
                "the plan was made by an older metallab: rebuild the lab with `metallab up --reconfigure`"
                    .to_string()
            }
            ManifestError::Render { .. }
            | ManifestError::BadConfigPath { .. }
            | ManifestError::KeyCollision { .. } => {
                "this is a metallab bug: please report it with the topology file".to_string()
            }
            ManifestError::TooLarge { .. } => {
                "announce fewer prefixes from this router, or place it in Docker".to_string()
            }
        }
    }
}

pub use crate::plan::model::lab_namespace as namespace;

/// The ConfigMap of a router: `<router>-config`.
pub fn config_map_name(router: &str) -> String {
    format!("{router}-config")
}

/// A file's ConfigMap key: its path without the leading `/`, with `/` (and anything a key
/// cannot hold) as `_`: `/etc/frr/frr.conf` → `etc_frr_frr.conf`.
pub fn config_key(path: &str) -> Option<String> {
    let key: String = path
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let valid = !key.is_empty() && key != "." && key != ".." && key.len() <= MAX_KEY_LEN;
    valid.then_some(key)
}

/// The labels every object of a router carries (`io.metallab.*`, as on Docker routers).
pub fn router_labels(lab: &str, router: &PlannedRouter) -> BTreeMap<String, String> {
    let mut labels = selector_labels(lab, &router.name);
    labels.insert(labels::KIND.to_string(), router.kind.to_string());
    labels
}

/// The labels that pick a router's pod (a Deployment's selector cannot change later, so
/// it holds only what identifies the router).
pub fn selector_labels(lab: &str, router: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (labels::LAB.to_string(), lab.to_string()),
        (labels::ROLE.to_string(), "router".to_string()),
        (labels::NAME.to_string(), router.to_string()),
    ])
}

/// The same selector as a `labelSelector` query string.
pub fn label_selector(lab: &str, router: &str) -> String {
    selector_labels(lab, router)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every in-cluster router of the plan, in apply order: the Namespace once, then each
/// router's ConfigMap, Service and Deployment. `image` gives the image to run (the
/// engine's content-hashed tag for built-in images). Empty when no router is in-cluster.
pub fn lab_manifests(
    plan: &Plan,
    image: impl Fn(&PlannedRouter) -> String,
) -> Result<Vec<Value>, ManifestError> {
    let in_cluster: Vec<&PlannedRouter> = plan
        .routers
        .iter()
        .filter(|r| r.placement == Placement::Cluster)
        .collect();
    if in_cluster.is_empty() {
        return Ok(vec![]);
    }
    let mut manifests = vec![to_value(&namespace_object(&plan.lab))];
    for router in in_cluster {
        manifests.extend(router_objects(
            &plan.lab,
            &plan.source,
            router,
            &image(router),
        )?);
    }
    Ok(manifests)
}

/// One router's manifests in apply order: Namespace, ConfigMap, Service, Deployment.
pub fn router_manifests(
    lab: &str,
    source: &str,
    router: &PlannedRouter,
    image: &str,
) -> Result<Vec<Value>, ManifestError> {
    let mut manifests = vec![to_value(&namespace_object(lab))];
    manifests.extend(router_objects(lab, source, router, image)?);
    Ok(manifests)
}

fn to_value<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).expect("Kubernetes objects always serialize")
}

fn namespace_object(lab: &str) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(namespace(lab)),
            labels: Some(BTreeMap::from([
                (labels::LAB.to_string(), lab.to_string()),
                (labels::ROLE.to_string(), "namespace".to_string()),
                (POD_SECURITY_ENFORCE.to_string(), "privileged".to_string()),
            ])),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A rendered file with the key it has in the ConfigMap.
struct KeyedFile {
    key: String,
    file: ConfigFile,
}

fn keyed_files(router: &PlannedRouter) -> Result<Vec<KeyedFile>, ManifestError> {
    let files = render::render_router(router).map_err(|source| ManifestError::Render {
        router: router.name.clone(),
        source,
    })?;
    let mut keyed: Vec<KeyedFile> = Vec::with_capacity(files.len());
    for file in files {
        let key = config_key(&file.path).ok_or_else(|| ManifestError::BadConfigPath {
            router: router.name.clone(),
            path: file.path.clone(),
        })?;
        if let Some(other) = keyed.iter().find(|k| k.key == key) {
            return Err(ManifestError::KeyCollision {
                router: router.name.clone(),
                first: other.file.path.clone(),
                second: file.path,
                key,
            });
        }
        keyed.push(KeyedFile { key, file });
    }
    let bytes: usize = keyed
        .iter()
        .map(|k| k.key.len() + k.file.contents.len())
        .sum();
    if bytes > CONFIG_MAP_MAX_BYTES {
        return Err(ManifestError::TooLarge {
            router: router.name.clone(),
            bytes,
        });
    }
    Ok(keyed)
}

/// ConfigMap, Service, Deployment of one router.
fn router_objects(
    lab: &str,
    source: &str,
    router: &PlannedRouter,
    image: &str,
) -> Result<Vec<Value>, ManifestError> {
    if router.placement != Placement::Cluster {
        return Err(ManifestError::NotInCluster {
            router: router.name.clone(),
        });
    }
    let cluster_ip = service_ip(router).ok_or_else(|| ManifestError::NoServiceAddress {
        router: router.name.clone(),
    })?;
    let files = keyed_files(router)?;
    let namespace = namespace(lab);
    let meta = |name: String| ObjectMeta {
        name: Some(name),
        namespace: Some(namespace.clone()),
        labels: Some(router_labels(lab, router)),
        ..Default::default()
    };

    let data: BTreeMap<String, String> = files
        .iter()
        .map(|k| (k.key.clone(), k.file.contents.clone()))
        .collect();
    let config_hash = {
        let mut hasher = Sha256::new();
        for (key, contents) in &data {
            // Length-prefixed, so moving text between files changes the hash too.
            hasher.update(format!("{}:{}:", key.len(), contents.len()).as_bytes());
            hasher.update(key.as_bytes());
            hasher.update(contents.as_bytes());
        }
        hex::encode(&hasher.finalize()[..8])
    };
    let config_map = ConfigMap {
        metadata: meta(config_map_name(&router.name)),
        data: Some(data),
        ..Default::default()
    };

    let mut ports = vec![(BGP_PORT, "bgp")];
    if let Some(http) = router.http_server {
        ports.push((http, "http"));
    }
    let service = Service {
        metadata: meta(router.name.clone()),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            cluster_ip: Some(cluster_ip.to_string()),
            selector: Some(selector_labels(lab, &router.name)),
            ports: Some(
                ports
                    .iter()
                    .map(|(port, name)| ServicePort {
                        name: Some(name.to_string()),
                        port: i32::from(*port),
                        target_port: Some(IntOrString::Int(i32::from(*port))),
                        protocol: Some("TCP".to_string()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    };

    let container = Container {
        name: CONTAINER.to_string(),
        image: Some(image.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        command: Some(drivers::pod_command()),
        env: Some(vec![EnvVar {
            name: NODE_IP_ENV.to_string(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "status.hostIP".to_string(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ports: Some(
            ports
                .iter()
                .map(|(port, name)| ContainerPort {
                    name: Some(name.to_string()),
                    container_port: i32::from(*port),
                    protocol: Some("TCP".to_string()),
                    ..Default::default()
                })
                .collect(),
        ),
        security_context: Some(SecurityContext {
            privileged: Some(false),
            capabilities: Some(Capabilities {
                add: Some(
                    drivers::capabilities(router.kind)
                        .iter()
                        .map(|c| c.to_string())
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        }),
        readiness_probe: drivers::ready_command(router.kind).map(|command| Probe {
            exec: Some(ExecAction {
                command: Some(command),
            }),
            period_seconds: Some(5),
            // vtysh and birdc answer in milliseconds, but a busy 2-core node is slow.
            timeout_seconds: Some(5),
            failure_threshold: Some(3),
            ..Default::default()
        }),
        volume_mounts: Some(
            files
                .iter()
                .map(|k| VolumeMount {
                    name: "config".to_string(),
                    mount_path: k.file.path.clone(),
                    sub_path: Some(k.key.clone()),
                    read_only: Some(true),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    };
    let mut deployment_meta = meta(router.name.clone());
    deployment_meta.annotations = Some(BTreeMap::from([(
        labels::TOPOLOGY.to_string(),
        source.to_string(),
    )]));
    let deployment = Deployment {
        metadata: deployment_meta,
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            strategy: Some(DeploymentStrategy {
                type_: Some("Recreate".to_string()),
                ..Default::default()
            }),
            selector: LabelSelector {
                match_labels: Some(selector_labels(lab, &router.name)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(router_labels(lab, router)),
                    annotations: Some(BTreeMap::from([(
                        CONFIG_HASH_ANNOTATION.to_string(),
                        config_hash,
                    )])),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    hostname: Some(router.name.clone()),
                    // The pause container becomes PID 1: it reaps the daemons that exec
                    // starts and detaches (Docker's `--init`), and the sleeper gets SIGTERM.
                    share_process_namespace: Some(true),
                    termination_grace_period_seconds: Some(5),
                    // A router needs no API access and no Service environment variables.
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    containers: vec![container],
                    volumes: Some(vec![Volume {
                        name: "config".to_string(),
                        config_map: Some(ConfigMapVolumeSource {
                            name: config_map_name(&router.name),
                            items: Some(
                                files
                                    .iter()
                                    .map(|k| KeyToPath {
                                        key: k.key.clone(),
                                        path: k.key.clone(),
                                        mode: Some(i32::try_from(k.file.mode).unwrap_or(0o644)),
                                    })
                                    .collect(),
                            ),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };

    Ok(vec![
        to_value(&config_map),
        to_value(&service),
        to_value(&deployment),
    ])
}
