//! MetalLB's speaker restarted on one node (`metallab fault LAB speaker NODE restart`):
//! its pod deleted, so that the speaker DaemonSet starts a fresh one there.

use super::{K8sError, METALLB_NAMESPACE};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams};

/// The label MetalLB's manifests give the speaker's pods.
const SPEAKER_SELECTOR: &str = "component=speaker";

/// Deletes the speaker pod(s) on `node`; returns their names. None there is an error.
pub async fn restart_speaker(client: &Client, node: &str) -> Result<Vec<String>, K8sError> {
    let pods = Api::<Pod>::namespaced(client.clone(), METALLB_NAMESPACE);
    let on_node = ListParams::default()
        .labels(SPEAKER_SELECTOR)
        .fields(&format!("spec.nodeName={node}"));
    let found = pods
        .list(&on_node)
        .await
        .map_err(|e| K8sError::request(format!("list the speaker pods on {node}"), e))?;
    let names: Vec<String> = found
        .items
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    if names.is_empty() {
        return Err(K8sError::Api {
            action: format!("restart the speaker on {node}"),
            code: None,
            message: format!(
                "no pod labelled {SPEAKER_SELECTOR} in {METALLB_NAMESPACE} runs there"
            ),
            hint: Some(format!(
                "kubectl -n {METALLB_NAMESPACE} get pods -l {SPEAKER_SELECTOR} -o wide"
            )),
        });
    }
    for name in &names {
        pods.delete(name, &DeleteParams::default())
            .await
            .map_err(|e| K8sError::request(format!("delete pod {METALLB_NAMESPACE}/{name}"), e))?;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::mock::{self, expect, get};
    use http::Method;
    use serde_json::{Value, json};

    /// A speaker pod as the API lists it (written by hand after the API reference, trimmed).
    fn speaker_pod(name: &str, node: &str) -> Value {
        json!({
            "metadata": {
                "name": name,
                "namespace": "metallb-system",
                "uid": format!("5d1c-{name}"),
                "labels": { "app": "metallb", "component": "speaker" },
                "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "speaker", "uid": "d5", "controller": true }]
            },
            "spec": { "nodeName": node, "containers": [{ "name": "speaker", "image": "quay.io/metallb/speaker:v0.14.9" }] },
            "status": { "phase": "Running" }
        })
    }

    fn pod_list(items: Vec<Value>) -> Value {
        json!({ "kind": "PodList", "apiVersion": "v1", "metadata": { "resourceVersion": "900" }, "items": items })
    }

    #[tokio::test]
    async fn the_speaker_pod_on_the_node_is_found_by_label_and_node_and_deleted() {
        let (client, server) = mock::serve(vec![
            get(
                "/api/v1/namespaces/metallb-system/pods",
                pod_list(vec![speaker_pod("speaker-x2b9k", "bgp-worker")]),
            ),
            expect(
                Method::DELETE,
                "/api/v1/namespaces/metallb-system/pods/speaker-x2b9k",
                200,
                speaker_pod("speaker-x2b9k", "bgp-worker"),
            ),
        ]);
        let deleted = restart_speaker(&client, "bgp-worker").await;
        let requests = server.finish(client).await;
        assert_eq!(deleted.unwrap(), ["speaker-x2b9k"]);
        assert_eq!(
            requests[0].query.as_deref(),
            Some("&fieldSelector=spec.nodeName%3Dbgp-worker&labelSelector=component%3Dspeaker")
        );
        // Deleted as the DaemonSet's pods are deleted by hand: no grace period forced, no
        // dry run.
        assert_eq!(requests[1].query.as_deref().unwrap_or_default(), "");
    }

    #[tokio::test]
    async fn a_node_without_a_speaker_is_an_error_that_says_where_to_look() {
        let (client, server) = mock::serve(vec![get(
            "/api/v1/namespaces/metallb-system/pods",
            pod_list(vec![]),
        )]);
        let error = restart_speaker(&client, "bgp-worker2").await.unwrap_err();
        server.finish(client).await;
        assert_eq!(
            error.to_string(),
            "restart the speaker on bgp-worker2: no pod labelled component=speaker in metallb-system runs there"
        );
        assert_eq!(
            miette::Diagnostic::help(&error).unwrap().to_string(),
            "kubectl -n metallb-system get pods -l component=speaker -o wide"
        );
    }
}
