use super::*;
use crate::k8s::mock::{self, get, patch};
use serde_json::{Value, json};

/// A kind node as `GET /api/v1/nodes` lists it (written by hand after the API reference;
/// trimmed to the fields metallab reads plus a few neighbours).
fn node(name: &str, ip: &str, control_plane: bool, ready: bool) -> Value {
    let mut labels = json!({
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    });
    if control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        labels[EXCLUDE_FROM_LB_LABEL] = json!("");
    }
    json!({
        "metadata": {
            "name": name,
            "uid": format!("0b7c5a8e-{name}"),
            "resourceVersion": "612",
            "creationTimestamp": "2025-03-04T10:14:41Z",
            "labels": labels,
            "annotations": { "node.alpha.kubernetes.io/ttl": "0" }
        },
        "spec": { "podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"], "providerID": format!("kind://docker/bgp/{name}") },
        "status": {
            "addresses": [
                { "type": "InternalIP", "address": ip },
                { "type": "Hostname", "address": name }
            ],
            "conditions": [
                { "type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": "2025-03-04T10:20:00Z", "lastTransitionTime": "2025-03-04T10:14:39Z" },
                { "type": "Ready", "status": if ready { "True" } else { "False" }, "reason": if ready { "KubeletReady" } else { "KubeletNotReady" }, "message": if ready { "kubelet is posting ready status" } else { "container runtime network not ready: NetworkReady=false" }, "lastHeartbeatTime": "2025-03-04T10:20:00Z", "lastTransitionTime": "2025-03-04T10:15:05Z" }
            ],
            "nodeInfo": { "kubeletVersion": "v1.33.1", "containerRuntimeVersion": "containerd://2.1.1", "osImage": "Debian GNU/Linux 12 (bookworm)", "architecture": "amd64", "operatingSystem": "linux", "kernelVersion": "6.1.0-31-amd64", "kubeProxyVersion": "", "machineID": "m", "systemUUID": "s", "bootID": "b" }
        }
    })
}

fn node_list(items: Vec<Value>) -> Value {
    json!({ "kind": "NodeList", "apiVersion": "v1", "metadata": { "resourceVersion": "700" }, "items": items })
}

fn kind_nodes() -> Value {
    node_list(vec![
        node("bgp-control-plane", "10.0.1.3", true, true),
        node("bgp-worker", "10.0.1.4", false, true),
        node("bgp-worker2", "10.0.1.5", false, false),
    ])
}

#[tokio::test(start_paused = true)]
async fn nodes_are_listed_with_address_roles_and_readiness() {
    let (client, server) = mock::serve(vec![get("/api/v1/nodes", kind_nodes())]);
    let nodes = list_nodes(&client).await;
    server.finish(client).await;
    insta::assert_yaml_snapshot!(nodes.unwrap(), @r"
    - name: bgp-control-plane
      ip: 10.0.1.3
      api_addresses:
        - 10.0.1.3
      roles:
        - control-plane
      ready: true
    - name: bgp-worker
      ip: 10.0.1.4
      api_addresses:
        - 10.0.1.4
      roles: []
      ready: true
    - name: bgp-worker2
      ip: 10.0.1.5
      api_addresses:
        - 10.0.1.5
      roles: []
      ready: false
    ");
}

#[tokio::test(start_paused = true)]
async fn the_exclusion_label_is_removed_with_a_merge_patch_where_present() {
    let mut unlabelled = node("bgp-control-plane", "10.0.1.3", true, true);
    unlabelled["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove(EXCLUDE_FROM_LB_LABEL);
    let (client, server) = mock::serve(vec![
        get("/api/v1/nodes", kind_nodes()),
        patch("/api/v1/nodes/bgp-control-plane", 200, unlabelled),
    ]);
    let changed = remove_exclusion_label(&client).await;
    let recorded = server.finish(client).await;
    assert_eq!(changed.unwrap(), vec!["bgp-control-plane"]);
    let patch = &recorded[1];
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(
        patch.body,
        json!({ "metadata": { "labels": { "node.kubernetes.io/exclude-from-external-load-balancers": null } } })
    );
}

#[tokio::test(start_paused = true)]
async fn nodes_without_the_label_are_left_alone() {
    let (client, server) = mock::serve(vec![get(
        "/api/v1/nodes",
        node_list(vec![node("bgp-worker", "10.0.1.4", false, true)]),
    )]);
    let changed = remove_exclusion_label(&client).await;
    server.finish(client).await;
    assert!(changed.unwrap().is_empty());
}

#[test]
fn the_ipv4_internal_ip_is_the_node_address() {
    let mut dual = node("bgp-worker", "fc00:f853:ccd:e793::3", false, true);
    dual["status"]["addresses"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "type": "InternalIP", "address": "10.0.1.4" }));
    let info = node_info(&serde_json::from_value(dual).unwrap());
    assert_eq!(info.ip, Some("10.0.1.4".parse().unwrap()));
    let v6_only = node("bgp-worker", "fc00:f853:ccd:e793::3", false, true);
    let info = node_info(&serde_json::from_value(v6_only).unwrap());
    assert_eq!(info.ip, Some("fc00:f853:ccd:e793::3".parse().unwrap()));
    let mut no_status = node("bgp-worker", "10.0.1.4", false, true);
    no_status.as_object_mut().unwrap().remove("status");
    let info = node_info(&serde_json::from_value(no_status).unwrap());
    assert_eq!((info.ip, info.ready), (None, false));
}
