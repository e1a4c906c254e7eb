//! List bodies below are written by hand in the shape the Kubernetes API reference gives
//! (core/v1 Node, Pod, Service, Event; metallb.io CRs as MetalLB's CRDs define them).
//! None of them was recorded from a cluster.

use super::*;
use crate::k8s::mock::{self, get, resource_list};
use serde_json::json;

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({ "kind": kind, "apiVersion": "v1", "metadata": { "resourceVersion": "2400" }, "items": items })
}

fn nodes() -> Value {
    let node = |name: &str, ip: &str, role: Option<&str>| {
        let mut labels = json!({ "kubernetes.io/hostname": name, "kubernetes.io/os": "linux" });
        if let Some(role) = role {
            labels[format!("node-role.kubernetes.io/{role}")] = json!("");
        }
        json!({
            "metadata": { "name": name, "labels": labels },
            "status": {
                "addresses": [{ "type": "InternalIP", "address": ip }, { "type": "Hostname", "address": name }],
                "conditions": [{ "type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status" }]
            }
        })
    };
    list(
        "NodeList",
        vec![
            node("bgp-control-plane", "10.0.1.3", Some("control-plane")),
            node("bgp-worker", "10.0.1.4", None),
        ],
    )
}

fn pod(name: &str, node: &str, containers: &[(&str, bool, i32, Value)]) -> Value {
    let statuses: Vec<Value> = containers
        .iter()
        .map(|(container, ready, restarts, state)| {
            json!({
                "name": container,
                "image": format!("quay.io/metallb/{container}:v0.14.8"),
                "imageID": "",
                "ready": ready,
                "restartCount": restarts,
                "started": ready,
                "state": state,
            })
        })
        .collect();
    let all_ready = containers.iter().all(|c| c.1);
    json!({
        "metadata": {
            "name": name,
            "namespace": "metallb-system",
            "labels": { "app": "metallb" },
            "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "speaker", "uid": "u", "controller": true }]
        },
        "spec": {
            "nodeName": node,
            "containers": containers.iter().map(|c| json!({ "name": c.0 })).collect::<Vec<_>>()
        },
        "status": {
            "phase": "Running",
            "hostIP": "10.0.1.3",
            "conditions": [{ "type": "Ready", "status": if all_ready { "True" } else { "False" } }],
            "containerStatuses": statuses
        }
    })
}

fn running() -> Value {
    json!({ "running": { "startedAt": "2025-03-04T10:16:00Z" } })
}

fn metallb_pods() -> Value {
    list(
        "PodList",
        vec![
            pod(
                "controller-5f98465b6b-9xk2q",
                "bgp-worker",
                &[("controller", true, 0, running())],
            ),
            pod(
                "speaker-4kq8m",
                "bgp-control-plane",
                &[("speaker", true, 1, running()), ("frr", true, 1, running())],
            ),
            pod(
                "speaker-x2b9k",
                "bgp-worker",
                &[
                    (
                        "speaker",
                        false,
                        4,
                        json!({ "waiting": { "reason": "CrashLoopBackOff", "message": "back-off 1m20s restarting failed container=speaker" } }),
                    ),
                    ("frr", true, 0, running()),
                ],
            ),
        ],
    )
}

fn services() -> Value {
    list(
        "ServiceList",
        vec![
            json!({
                "metadata": { "name": "kubernetes", "namespace": "default" },
                "spec": { "type": "ClusterIP", "clusterIP": "10.96.0.1", "ports": [{ "name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443 }] },
                "status": { "loadBalancer": {} }
            }),
            json!({
                "metadata": {
                    "name": "test-agnhost",
                    "namespace": "default",
                    "annotations": { "metallb.io/ip-allocated-from-pool": "doc-example" }
                },
                "spec": {
                    "type": "LoadBalancer",
                    "clusterIP": "10.96.45.12",
                    "externalTrafficPolicy": "Cluster",
                    "selector": { "app": "agnhost" },
                    "ports": [{ "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 31380 }]
                },
                "status": { "loadBalancer": { "ingress": [{ "ip": "203.0.113.200", "ipMode": "VIP" }] } }
            }),
            json!({
                "metadata": { "name": "pending", "namespace": "demo" },
                "spec": {
                    "type": "LoadBalancer",
                    "clusterIP": "10.96.77.3",
                    "ports": [{ "port": 80, "protocol": "TCP", "targetPort": 80 }, { "port": 443, "protocol": "TCP", "targetPort": 443 }]
                },
                "status": { "loadBalancer": {} }
            }),
        ],
    )
}

/// An event on `object` (namespace, kind, apiVersion, name), first and last seen at `last`.
fn event(
    object: (&str, &str, &str, &str),
    reason: &str,
    message: &str,
    type_: &str,
    component: &str,
    last: &str,
    count: i32,
) -> Value {
    let (namespace, kind, api_version, name) = object;
    json!({
        "metadata": {
            "name": format!("{name}.182a4c1f9e{count:06}"),
            "namespace": namespace,
            "creationTimestamp": last
        },
        "involvedObject": { "kind": kind, "namespace": namespace, "name": name, "apiVersion": api_version, "uid": format!("uid-{name}") },
        "reason": reason,
        "message": message,
        "source": { "component": component },
        "firstTimestamp": last,
        "lastTimestamp": last,
        "count": count,
        "type": type_,
        "eventTime": null,
        "reportingComponent": component,
        "reportingInstance": ""
    })
}

fn service_events() -> Value {
    list(
        "EventList",
        vec![
            event(
                ("default", "Service", "v1", "test-agnhost"),
                "nodeAssigned",
                "announcing from node \"bgp-worker\" with protocol \"bgp\"",
                "Normal",
                "metallb-speaker",
                "2025-03-04T10:17:05Z",
                1,
            ),
            event(
                ("default", "Service", "v1", "test-agnhost"),
                "IPAllocated",
                "Assigned IP [\"203.0.113.200\"]",
                "Normal",
                "metallb-controller",
                "2025-03-04T10:17:01Z",
                1,
            ),
            event(
                ("demo", "Service", "v1", "pending"),
                "AllocationFailed",
                "Failed to allocate IP for \"demo/pending\": no available IPs",
                "Warning",
                "metallb-controller",
                "2025-03-04T10:17:30Z",
                3,
            ),
        ],
    )
}

fn metallb_events() -> Value {
    list(
        "EventList",
        vec![
            // A pod event: not about MetalLB's configuration, left out.
            event(
                ("metallb-system", "Pod", "v1", "speaker-x2b9k"),
                "BackOff",
                "Back-off restarting failed container speaker in pod speaker-x2b9k_metallb-system",
                "Warning",
                "kubelet",
                "2025-03-04T10:17:20Z",
                4,
            ),
            event(
                ("metallb-system", "ConfigMap", "v1", "config"),
                "InvalidConfig",
                "new config not compatible with assigned IPs: service \"default/test-agnhost\" cannot own \"203.0.113.200\" under new config",
                "Warning",
                "metallb-controller",
                "2025-03-04T10:18:00Z",
                2,
            ),
            // An event on a metallb.io object (the reason is made up: what counts here
            // is which objects' events are kept).
            event(
                (
                    "metallb-system",
                    "IPAddressPool",
                    "metallb.io/v1beta1",
                    "doc-example",
                ),
                "Synced",
                "pool synced",
                "Normal",
                "metallb-controller",
                "2025-03-04T10:16:59Z",
                1,
            ),
        ],
    )
}

const SERVICE_EVENTS: &str = "/api/v1/events";
const METALLB_EVENTS: &str = "/api/v1/namespaces/metallb-system/events";

#[tokio::test(start_paused = true)]
async fn the_cluster_state_reads_nodes_pods_services_and_events() {
    let (client, server) = mock::serve(vec![
        get("/api/v1/nodes", nodes()),
        get("/api/v1/namespaces/metallb-system/pods", metallb_pods()),
        get(
            "/api/v1/namespaces/frr-k8s-system/pods",
            list("PodList", vec![]),
        ),
        get("/api/v1/services", services()),
        get(SERVICE_EVENTS, service_events()),
        get(METALLB_EVENTS, metallb_events()),
    ]);
    let namespaces = pod_namespaces(Some(MetallbMode::FrrK8s));
    let state = read_cluster_state(&client, "kind", "bgp", &namespaces).await;
    let recorded = server.finish(client).await;
    assert_eq!(
        recorded[4].query.as_deref(),
        Some("&fieldSelector=involvedObject.kind%3DService")
    );
    insta::assert_yaml_snapshot!(state.unwrap());
}

#[test]
fn frr_k8s_pods_are_read_only_in_frr_k8s_mode() {
    assert_eq!(pod_namespaces(None), vec!["metallb-system"]);
    assert_eq!(
        pod_namespaces(Some(MetallbMode::Frr)),
        vec!["metallb-system"]
    );
    assert_eq!(
        pod_namespaces(Some(MetallbMode::FrrK8s)),
        vec!["metallb-system", "frr-k8s-system"]
    );
}

fn api_groups(with_metallb: bool) -> Value {
    let mut groups = vec![json!({
        "name": "apps",
        "versions": [{ "groupVersion": "apps/v1", "version": "v1" }],
        "preferredVersion": { "groupVersion": "apps/v1", "version": "v1" }
    })];
    if with_metallb {
        groups.push(json!({
            "name": "metallb.io",
            "versions": [
                { "groupVersion": "metallb.io/v1beta2", "version": "v1beta2" },
                { "groupVersion": "metallb.io/v1beta1", "version": "v1beta1" }
            ],
            "preferredVersion": { "groupVersion": "metallb.io/v1beta2", "version": "v1beta2" }
        }));
    }
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

fn cr_list(api_version: &str, kind: &str, items: Vec<Value>) -> Value {
    json!({ "apiVersion": api_version, "kind": format!("{kind}List"), "metadata": { "resourceVersion": "2500" }, "items": items })
}

fn cr(api_version: &str, kind: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": "metallb-system",
            "generation": 1,
            "resourceVersion": "2210",
            "managedFields": [{ "manager": "metallab", "operation": "Apply", "apiVersion": api_version, "fieldsType": "FieldsV1", "fieldsV1": { "f:spec": {} } }]
        },
        "spec": spec
    })
}

const V1BETA1: &str = "metallb.io/v1beta1";
const V1BETA2: &str = "metallb.io/v1beta2";

#[tokio::test(start_paused = true)]
async fn the_dump_lists_metallbs_objects_services_and_events_as_yaml() {
    let ns = "namespaces/metallb-system";
    let (client, server) = mock::serve(vec![
        get("/apis", api_groups(true)),
        get(
            "/apis/metallb.io/v1beta2",
            resource_list(V1BETA2, &[("bgppeers", "BGPPeer", true)]),
        ),
        get(
            "/apis/metallb.io/v1beta1",
            resource_list(
                V1BETA1,
                &[
                    ("bfdprofiles", "BFDProfile", true),
                    ("bgpadvertisements", "BGPAdvertisement", true),
                    ("bgppeers", "BGPPeer", true),
                    ("communities", "Community", true),
                    ("ipaddresspools", "IPAddressPool", true),
                    ("l2advertisements", "L2Advertisement", true),
                ],
            ),
        ),
        get(
            &format!("/apis/metallb.io/v1beta1/{ns}/ipaddresspools"),
            cr_list(
                V1BETA1,
                "IPAddressPool",
                vec![
                    cr(
                        V1BETA1,
                        "IPAddressPool",
                        "doc-example",
                        json!({ "addresses": ["203.0.113.200/30"], "autoAssign": true, "avoidBuggyIPs": true }),
                    ),
                    // Another lab's pool on the same cluster: not this lab's to report.
                    {
                        let mut other = cr(
                            V1BETA1,
                            "IPAddressPool",
                            "other-pool",
                            json!({ "addresses": ["198.51.100.0/28"] }),
                        );
                        other["metadata"]["labels"] = json!({ "io.metallab.lab": "other" });
                        other
                    },
                ],
            ),
        ),
        get(
            &format!("/apis/metallb.io/v1beta2/{ns}/bgppeers"),
            cr_list(
                V1BETA2,
                "BGPPeer",
                vec![cr(
                    V1BETA2,
                    "BGPPeer",
                    "frr1",
                    json!({ "myASN": 64500, "peerASN": 64500, "peerAddress": "10.0.2.3", "ebgpMultiHop": true, "bfdProfile": "fast" }),
                )],
            ),
        ),
        get(
            &format!("/apis/metallb.io/v1beta1/{ns}/bgpadvertisements"),
            cr_list(
                V1BETA1,
                "BGPAdvertisement",
                vec![cr(
                    V1BETA1,
                    "BGPAdvertisement",
                    "doc-example",
                    json!({ "ipAddressPools": ["doc-example"], "localPref": 100, "communities": ["64500:100"] }),
                )],
            ),
        ),
        get(
            &format!("/apis/metallb.io/v1beta1/{ns}/bfdprofiles"),
            cr_list(
                V1BETA1,
                "BFDProfile",
                vec![cr(
                    V1BETA1,
                    "BFDProfile",
                    "fast",
                    json!({ "receiveInterval": 300, "transmitInterval": 300, "detectMultiplier": 3 }),
                )],
            ),
        ),
        get(
            &format!("/apis/metallb.io/v1beta1/{ns}/communities"),
            cr_list(V1BETA1, "Community", vec![]),
        ),
        get(
            &format!("/apis/metallb.io/v1beta1/{ns}/l2advertisements"),
            cr_list(V1BETA1, "L2Advertisement", vec![]),
        ),
        get(
            "/api/v1/namespaces/metallb-system/configmaps",
            list("ConfigMapList", vec![]),
        ),
        get("/api/v1/services", services()),
        get(SERVICE_EVENTS, service_events()),
        get(METALLB_EVENTS, metallb_events()),
    ]);
    let dump = dump_objects(&client, "lab").await;
    let recorded = server.finish(client).await;
    let dump = dump.unwrap();
    assert!(!dump.metallb.contains("managedFields"));
    assert!(!dump.metallb.contains("other-pool"), "{}", dump.metallb);
    let configmaps = recorded
        .iter()
        .find(|r| r.path.ends_with("/configmaps"))
        .unwrap();
    assert_eq!(
        configmaps.query.as_deref(),
        Some("&fieldSelector=metadata.name%3Dconfig")
    );
    for (name, yaml) in dump.files() {
        insta::assert_snapshot!(format!("dump-crds-{name}"), yaml);
    }
}

#[tokio::test(start_paused = true)]
async fn the_dump_of_a_legacy_metallb_is_its_configmap() {
    let configmap = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": "config", "namespace": "metallb-system", "resourceVersion": "900" },
        "data": {
            "config": "peers:\n- peer-address: 10.0.2.3\n  peer-asn: 64500\n  my-asn: 64500\naddress-pools:\n- name: default\n  protocol: bgp\n  addresses:\n  - 203.0.113.200/30\n"
        }
    });
    let (client, server) = mock::serve(vec![
        get("/apis", api_groups(false)),
        get(
            "/api/v1/namespaces/metallb-system/configmaps",
            list("ConfigMapList", vec![configmap]),
        ),
        get("/api/v1/services", list("ServiceList", vec![])),
        get(SERVICE_EVENTS, list("EventList", vec![])),
        get(METALLB_EVENTS, list("EventList", vec![])),
    ]);
    let dump = dump_objects(&client, "lab").await;
    server.finish(client).await;
    let dump = dump.unwrap();
    assert_eq!((dump.services.as_str(), dump.events.as_str()), ("", ""));
    insta::assert_snapshot!(dump.metallb);
}
