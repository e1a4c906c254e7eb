//! Removing a lab's namespace: what `down` does on a cluster it did not create (an
//! existing cluster), where deleting the cluster is not its call.

use super::K8sError;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams};

/// Starts deleting namespace `name` and everything in it (Kubernetes finishes in the
/// background). `Ok(false)` when there was no such namespace.
pub async fn delete_namespace(client: &Client, name: &str) -> Result<bool, K8sError> {
    let api: Api<Namespace> = Api::all(client.clone());
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(e) => Err(K8sError::request(format!("delete Namespace {name}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::mock::{self, expect, status};
    use http::Method;
    use serde_json::json;

    const PATH: &str = "/api/v1/namespaces/metallab-lab";

    #[tokio::test]
    async fn a_namespace_is_deleted_in_the_background_and_a_missing_one_is_no_error() {
        let terminating = json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": "metallab-lab" },
            "status": { "phase": "Terminating" }
        });
        let (client, server) = mock::serve(vec![
            expect(Method::DELETE, PATH, 200, terminating),
            expect(
                Method::DELETE,
                PATH,
                404,
                status(404, "NotFound", "namespaces \"metallab-lab\" not found"),
            ),
            expect(
                Method::DELETE,
                PATH,
                403,
                status(403, "Forbidden", "namespaces \"metallab-lab\" is forbidden"),
            ),
        ]);
        assert!(delete_namespace(&client, "metallab-lab").await.unwrap());
        assert!(!delete_namespace(&client, "metallab-lab").await.unwrap());
        let err = delete_namespace(&client, "metallab-lab").await.unwrap_err();
        assert!(
            err.to_string().contains("delete Namespace metallab-lab"),
            "{err}"
        );
        let recorded = server.finish(client).await;
        assert_eq!(
            recorded[0].body,
            json!({ "propagationPolicy": "Background" })
        );
    }
}
