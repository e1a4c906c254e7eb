use super::*;
use crate::k8s::mock::{self, expect, get, resource_list};
use http::Method;
use serde_json::{Value, json};

const V1BETA1: &str = "metallb.io/v1beta1";

fn metallb_groups() -> Value {
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": [{
        "name": "metallb.io",
        "versions": [{ "groupVersion": V1BETA1, "version": "v1beta1" }],
        "preferredVersion": { "groupVersion": V1BETA1, "version": "v1beta1" }
    }]})
}

fn metallb_resources() -> Value {
    resource_list(
        V1BETA1,
        &[
            ("ipaddresspools", "IPAddressPool", true),
            ("bgppeers", "BGPPeer", true),
        ],
    )
}

fn object(kind: &str, name: &str, lab: Option<&str>) -> Value {
    let mut metadata =
        json!({ "name": name, "namespace": "metallb-system", "resourceVersion": "3100" });
    if let Some(lab) = lab {
        metadata["labels"] = json!({ "io.metallab.lab": lab });
    }
    json!({ "apiVersion": V1BETA1, "kind": kind, "metadata": metadata, "spec": {} })
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({ "apiVersion": V1BETA1, "kind": format!("{kind}List"), "metadata": { "resourceVersion": "3200" }, "items": items })
}

fn found(kind: &str, name: &str, lab: Option<&str>) -> ConfigObject {
    config_object(
        serde_json::from_value(object(kind, name, lab)).unwrap(),
        ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(
            "metallb.io",
            "v1beta1",
            kind,
        )),
    )
}

fn rendered(kind: &str, name: &str) -> DynamicObject {
    serde_json::from_value(object(kind, name, Some("kapi"))).unwrap()
}

const NS: &str = "/apis/metallb.io/v1beta1/namespaces/metallb-system";

/// The API server's answers to listing MetalLB's configuration after `up` of lab kapi:
/// discovery, its pool, `bgppeers` (the answer given), no legacy ConfigMap.
fn kapi_configuration(bgppeers: mock::Exchange) -> Vec<mock::Exchange> {
    vec![
        get("/apis", metallb_groups()),
        get(&format!("/apis/{V1BETA1}"), metallb_resources()),
        get(
            &format!("{NS}/ipaddresspools"),
            list(
                "IPAddressPool",
                vec![object("IPAddressPool", "demo", Some("kapi"))],
            ),
        ),
        bgppeers,
        get(
            "/api/v1/namespaces/metallb-system/configmaps",
            json!({ "apiVersion": "v1", "kind": "ConfigMapList", "metadata": {}, "items": [] }),
        ),
    ]
}

fn kapi_peers() -> mock::Exchange {
    get(
        &format!("{NS}/bgppeers"),
        list("BGPPeer", vec![object("BGPPeer", "frr1", Some("kapi"))]),
    )
}

#[test]
fn another_labs_configuration_and_same_named_foreign_objects_are_in_the_way() {
    let existing = [
        found("IPAddressPool", "demo", Some("kapi2")),
        found("BGPPeer", "frr1", Some("kapi2")),
        found("IPAddressPool", "production", None),
        found("BGPPeer", "bird1", None),
        found("BGPPeer", "frr2", Some("kapi")),
    ];
    let ours = [
        rendered("IPAddressPool", "demo"),
        rendered("BGPPeer", "bird1"),
        rendered("BGPPeer", "frr2"),
    ];
    insta::assert_snapshot!(configuration_conflicts(&existing, "kapi", &ours).join("\n"), @r"
    lab kapi2 configures MetalLB on this cluster (IPAddressPool metallb-system/demo, BGPPeer metallb-system/frr1)
    BGPPeer metallb-system/bird1 exists and was not made by metallab
    ");
    // The lab's own objects (a second `up`) and unrelated ones are no conflict.
    assert!(configuration_conflicts(&existing[2..], "kapi", &ours[2..]).is_empty());
}

#[tokio::test]
async fn down_deletes_the_labs_configuration_and_namespaces_by_label() {
    let selector = "labelSelector=io.metallab.lab%3Dkapi";
    let mut exchanges = vec![
        // Namespaces by label (the in-cluster routers').
        get(
            "/api/v1/namespaces",
            json!({ "apiVersion": "v1", "kind": "NamespaceList", "metadata": {}, "items": [
                { "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "metallab-kapi", "labels": { "io.metallab.lab": "kapi" } } }
            ]}),
        ),
        expect(
            Method::DELETE,
            "/api/v1/namespaces/metallab-kapi",
            200,
            json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "metallab-kapi" }, "status": { "phase": "Terminating" } }),
        ),
    ];
    // MetalLB's configuration by label.
    exchanges.extend(kapi_configuration(kapi_peers()));
    exchanges.extend([
        expect(
            Method::DELETE,
            &format!("{NS}/ipaddresspools/demo"),
            200,
            object("IPAddressPool", "demo", Some("kapi")),
        ),
        // Gone already (another `down`): no error.
        expect(
            Method::DELETE,
            &format!("{NS}/bgppeers/frr1"),
            404,
            mock::status(404, "NotFound", "bgppeers.metallb.io \"frr1\" not found"),
        ),
    ]);
    let (client, server) = mock::serve(exchanges);
    let (removed, left) = crate::engine::pod_routers::remove_lab_objects(&client, "kapi").await;
    let recorded = server.finish(client).await;
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        removed,
        [
            "namespace metallab-kapi",
            "IPAddressPool metallb-system/demo"
        ]
    );
    for listing in recorded
        .iter()
        .filter(|r| r.method == Method::GET && r.path != "/apis" && !r.path.ends_with("v1beta1"))
    {
        let query = listing.query.as_deref().unwrap_or("");
        assert!(query.contains(selector), "{} {query}", listing.path);
    }
}

#[tokio::test]
async fn a_kind_that_cannot_be_listed_is_left_and_named_the_rest_goes() {
    // Listing BGPPeers goes through MetalLB's conversion webhook: with its controller
    // down the API server fails the list (seen on a real v1.24 API server).
    let conversion_failed = mock::status(
        500,
        "InternalError",
        "conversion webhook for metallb.io/v1beta2, Kind=BGPPeer failed: Post \"https://metallb-webhook-service.metallb-system.svc:443/convert?timeout=30s\": dial tcp 10.0.0.2:443: connect: connection refused",
    );
    let mut exchanges = vec![get(
        "/api/v1/namespaces",
        json!({ "apiVersion": "v1", "kind": "NamespaceList", "metadata": {}, "items": [] }),
    )];
    exchanges.extend(kapi_configuration(expect(
        Method::GET,
        &format!("{NS}/bgppeers"),
        500,
        conversion_failed,
    )));
    exchanges.push(expect(
        Method::DELETE,
        &format!("{NS}/ipaddresspools/demo"),
        200,
        object("IPAddressPool", "demo", Some("kapi")),
    ));
    let (client, server) = mock::serve(exchanges);
    let (removed, left) = crate::engine::pod_routers::remove_lab_objects(&client, "kapi").await;
    server.finish(client).await;
    assert_eq!(removed, ["IPAddressPool metallb-system/demo"]);
    assert_eq!(left.len(), 1);
    assert!(
        left[0].starts_with("BGPPeers could not be listed: conversion webhook for metallb.io/v1beta2, Kind=BGPPeer failed"),
        "{left:?}"
    );
}

#[tokio::test]
async fn a_second_lab_finds_the_first_labs_configuration_on_the_cluster() {
    // What the API server holds after `up` of lab kapi: its objects, labelled.
    let (client, server) = mock::serve(kapi_configuration(kapi_peers()));
    let listing = config_objects(&client, None).await;
    server.finish(client).await;
    let listing = listing.unwrap();
    assert!(listing.unreadable.is_empty());
    // Lab kapi2 renders objects of the same names: refused, naming kapi.
    let ours = [
        rendered("IPAddressPool", "demo"),
        rendered("BGPPeer", "frr1"),
    ];
    assert_eq!(
        configuration_conflicts(&listing.objects, "kapi2", &ours),
        [
            "lab kapi configures MetalLB on this cluster (IPAddressPool metallb-system/demo, BGPPeer metallb-system/frr1)"
        ]
    );
    // Lab kapi itself (a second `up`) is not in its own way.
    assert!(configuration_conflicts(&listing.objects, "kapi", &ours).is_empty());
}

/// `up FILE` with a changed MetalLB configuration: the pool that changed and the peer
/// that is new are applied (server-side, forced), the unchanged peer is not sent, and the
/// lab's peer the file no longer has is deleted — found by the lab's label.
#[tokio::test]
async fn a_changed_configuration_applies_what_changed_and_deletes_what_is_gone() {
    use crate::change::{ObjectAction, ObjectChange};
    let config = vec![
        rendered("IPAddressPool", "demo"),
        rendered("BGPPeer", "frr1"),
        rendered("BGPPeer", "bird1"),
    ];
    let change = |kind: &str, name: &str, action| ObjectChange {
        kind: kind.to_string(),
        namespace: Some("metallb-system".to_string()),
        name: name.to_string(),
        action,
    };
    let changes = [
        change("IPAddressPool", "demo", ObjectAction::Changed),
        change("BGPPeer", "bird1", ObjectAction::Created),
        change("BGPPeer", "frr2", ObjectAction::Deleted),
    ];
    let mut exchanges = vec![
        get(&format!("/apis/{V1BETA1}"), metallb_resources()),
        mock::patch(
            &format!("{NS}/ipaddresspools/demo"),
            200,
            object("IPAddressPool", "demo", Some("kapi")),
        ),
        mock::patch(
            &format!("{NS}/bgppeers/bird1"),
            200,
            object("BGPPeer", "bird1", Some("kapi")),
        ),
    ];
    // The lab's objects on the cluster: the pool, frr1, bird1 and the old frr2.
    exchanges.extend(kapi_configuration(get(
        &format!("{NS}/bgppeers"),
        list(
            "BGPPeer",
            vec![
                object("BGPPeer", "frr1", Some("kapi")),
                object("BGPPeer", "bird1", Some("kapi")),
                object("BGPPeer", "frr2", Some("kapi")),
            ],
        ),
    )));
    exchanges.push(expect(
        Method::DELETE,
        &format!("{NS}/bgppeers/frr2"),
        200,
        object("BGPPeer", "frr2", Some("kapi")),
    ));
    let (client, server) = mock::serve(exchanges);
    let result = crate::engine::cluster_side::apply_config_change(
        &client,
        "kapi",
        &config,
        &changes,
        &crate::k8s::apply::WebhookRetry::default(),
        &|_| {},
    )
    .await;
    let recorded = server.finish(client).await;
    assert_eq!(result.unwrap(), (2, 1));
    let patched: Vec<&str> = recorded
        .iter()
        .filter(|r| r.method == Method::PATCH)
        .map(|r| r.path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(patched, ["demo", "bird1"]);
    for r in recorded.iter().filter(|r| r.method == Method::PATCH) {
        assert!(r.query.as_deref().unwrap_or("").contains("force=true"));
    }
}
