use super::*;
use crate::k8s::mock::{self, Recorded, get, patch, resource_list, status};
use serde_json::json;
use std::sync::Mutex;

// ---------------------------------------------------------------------------------------
// Objects, in the shape the Kubernetes API reference gives them (written by hand).
// ---------------------------------------------------------------------------------------

const MANIFEST: &str = r#"
# MetalLB, trimmed: a namespaced object, a CRD and the namespace out of order on purpose.
apiVersion: v1
kind: ServiceAccount
metadata:
  name: controller
  namespace: metallb-system
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ipaddresspools.metallb.io
spec:
  group: metallb.io
  names:
    kind: IPAddressPool
    listKind: IPAddressPoolList
    plural: ipaddresspools
    singular: ipaddresspool
  scope: Namespaced
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: v1
kind: Namespace
metadata:
  name: metallb-system
  labels:
    pod-security.kubernetes.io/enforce: privileged
---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller
  namespace: metallb-system
spec:
  selector:
    matchLabels:
      app: metallb
      component: controller
  template:
    metadata:
      labels:
        app: metallb
        component: controller
    spec:
      containers:
      - name: controller
        image: quay.io/metallb/controller:v0.14.8
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: speaker
  namespace: metallb-system
spec:
  selector:
    matchLabels:
      app: metallb
      component: speaker
  template:
    metadata:
      labels:
        app: metallb
        component: speaker
    spec:
      hostNetwork: true
      containers:
      - name: speaker
        image: quay.io/metallb/speaker:v0.14.8
"#;

fn objects(yaml: &str) -> Vec<DynamicObject> {
    parse_manifests(yaml, "metallb-native.yaml").unwrap()
}

fn core_v1() -> Value {
    resource_list(
        "v1",
        &[
            ("namespaces", "Namespace", false),
            ("serviceaccounts", "ServiceAccount", true),
            ("configmaps", "ConfigMap", true),
            ("pods", "Pod", true),
        ],
    )
}

fn apps_v1() -> Value {
    resource_list(
        "apps/v1",
        &[
            ("deployments", "Deployment", true),
            ("daemonsets", "DaemonSet", true),
        ],
    )
}

fn apiextensions_v1() -> Value {
    resource_list(
        "apiextensions.k8s.io/v1",
        &[(
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
        )],
    )
}

fn metallb_v1beta1() -> Value {
    resource_list(
        "metallb.io/v1beta1",
        &[
            ("ipaddresspools", "IPAddressPool", true),
            ("bgpadvertisements", "BGPAdvertisement", true),
            ("bfdprofiles", "BFDProfile", true),
            ("communities", "Community", true),
            ("l2advertisements", "L2Advertisement", true),
            ("bgppeers", "BGPPeer", true),
        ],
    )
}

fn metallb_v1beta2() -> Value {
    resource_list("metallb.io/v1beta2", &[("bgppeers", "BGPPeer", true)])
}

/// The object as the API server returns it after an apply.
fn applied(object: &DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap();
    let metadata = value["metadata"].as_object_mut().unwrap();
    metadata.insert("uid".into(), json!("6f1d3c9e-2b7a-4d55-9a43-0c1e7b2f8d10"));
    metadata.insert("resourceVersion".into(), json!("1042"));
    metadata.insert("generation".into(), json!(1));
    value
}

fn crd(established: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": "ipaddresspools.metallb.io", "generation": 1, "resourceVersion": "1043" },
        "spec": {
            "group": "metallb.io",
            "names": { "kind": "IPAddressPool", "listKind": "IPAddressPoolList", "plural": "ipaddresspools", "singular": "ipaddresspool" },
            "scope": "Namespaced",
            "versions": [{ "name": "v1beta1", "served": true, "storage": true }]
        },
        "status": {
            "acceptedNames": { "kind": "IPAddressPool", "plural": "ipaddresspools" },
            "storedVersions": ["v1beta1"],
            "conditions": [
                { "type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": "2025-03-04T10:15:02Z" },
                { "type": "Established", "status": established, "reason": if established == "True" { "InitialNamesAccepted" } else { "Installing" }, "message": if established == "True" { "the initial names have been accepted" } else { "the initial names are being installed" }, "lastTransitionTime": "2025-03-04T10:15:02Z" }
            ]
        }
    })
}

fn deployment(ready: i32) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "controller", "namespace": "metallb-system", "generation": 1, "resourceVersion": "1100" },
        "spec": {
            "replicas": 1,
            "selector": { "matchLabels": { "app": "metallb", "component": "controller" } },
            "template": {
                "metadata": { "labels": { "app": "metallb", "component": "controller" } },
                "spec": { "containers": [{ "name": "controller", "image": "quay.io/metallb/controller:v0.14.8" }] }
            }
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "updatedReplicas": 1,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": 1 - ready,
        }
    })
}

fn daemonset(ready: i32) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": { "name": "speaker", "namespace": "metallb-system", "generation": 1, "resourceVersion": "1101" },
        "spec": {
            "selector": { "matchLabels": { "app": "metallb", "component": "speaker" } },
            "template": {
                "metadata": { "labels": { "app": "metallb", "component": "speaker" } },
                "spec": { "containers": [{ "name": "speaker", "image": "quay.io/metallb/speaker:v0.14.8" }] }
            }
        },
        "status": {
            "observedGeneration": 1,
            "currentNumberScheduled": 3,
            "desiredNumberScheduled": 3,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "updatedNumberScheduled": 3,
            "numberAvailable": ready,
        }
    })
}

/// Collects progress lines.
#[derive(Default)]
struct ProgressLog(Mutex<Vec<String>>);

impl ProgressLog {
    fn push(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_string());
    }

    fn text(self) -> String {
        self.0.into_inner().unwrap().join("\n")
    }
}

fn requests(recorded: &[Recorded]) -> Vec<String> {
    recorded
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Pure parts
// ---------------------------------------------------------------------------------------

#[test]
fn manifests_parse_into_objects_skipping_empty_documents() {
    let parsed = objects(MANIFEST);
    let names: Vec<String> = parsed.iter().map(|o| object_ref(o).to_string()).collect();
    assert_eq!(
        names,
        vec![
            "ServiceAccount metallb-system/controller",
            "CustomResourceDefinition ipaddresspools.metallb.io",
            "Namespace metallb-system",
            "Deployment metallb-system/controller",
            "DaemonSet metallb-system/speaker",
        ]
    );
    // YAML 1.2: the label value stays a string, the schema flag a boolean.
    assert_eq!(
        parsed[2].metadata.labels.as_ref().unwrap()["pod-security.kubernetes.io/enforce"],
        "privileged"
    );
    assert_eq!(
        parsed[1].data.pointer(
            "/spec/versions/0/schema/openAPIV3Schema/x-kubernetes-preserve-unknown-fields"
        ),
        Some(&json!(true))
    );
}

#[test]
fn list_documents_contribute_their_items() {
    let parsed = objects(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n",
    );
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[1].metadata.name.as_deref(), Some("b"));
}

#[test]
fn documents_that_are_not_objects_are_errors_naming_the_manifest() {
    let no_kind = parse_manifests("apiVersion: v1\nmetadata: {name: x}\n", "apps/web.yaml")
        .unwrap_err()
        .to_string();
    assert_eq!(no_kind, "apps/web.yaml: object 1: no `kind`");
    let no_name = parse_manifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {generateName: web-}\n",
        "apps/web.yaml",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(no_name, "apps/web.yaml: object 2: no `metadata.name`");
    let bad_yaml = parse_manifests("kind: [unclosed\n", "apps/web.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        bad_yaml.starts_with("apps/web.yaml: not valid YAML: "),
        "{bad_yaml}"
    );
}

#[test]
fn namespaces_and_crds_go_first_in_file_order() {
    let parsed = objects(MANIFEST);
    let (first, rest) = apply_order(&parsed);
    let kinds = |objects: &[&DynamicObject]| -> Vec<String> {
        objects.iter().map(|o| object_ref(o).kind).collect()
    };
    assert_eq!(kinds(&first), vec!["Namespace", "CustomResourceDefinition"]);
    assert_eq!(
        kinds(&rest),
        vec!["ServiceAccount", "Deployment", "DaemonSet"]
    );
}

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

#[test]
fn rollout_readiness_compares_every_count_with_the_desired_one() {
    assert_eq!(deployment_rollout(&typed(deployment(1))), Ok(()));
    assert_eq!(
        deployment_rollout(&typed(deployment(0))),
        Err("0 of 1 replicas ready (1 updated, 0 available)".into())
    );
    let mut stale = deployment(1);
    stale["metadata"]["generation"] = json!(2);
    assert_eq!(
        deployment_rollout(&typed(stale)),
        Err("the Deployment controller has not seen generation 2 yet".into())
    );
    let mut surge = deployment(1);
    surge["status"]["replicas"] = json!(2);
    assert_eq!(
        deployment_rollout(&typed(surge)),
        Err("1 old replicas still terminating".into())
    );
    let mut fresh = deployment(0);
    fresh.as_object_mut().unwrap().remove("status");
    assert_eq!(
        deployment_rollout(&typed(fresh)),
        Err("the Deployment controller has not seen generation 1 yet".into())
    );

    assert_eq!(daemonset_rollout(&typed(daemonset(3))), Ok(()));
    assert_eq!(
        daemonset_rollout(&typed(daemonset(2))),
        Err("2 of 3 pods ready (3 updated, 2 available)".into())
    );
}

#[test]
fn a_crd_is_ready_once_established() {
    assert_eq!(crd_established(&typed(crd("True"))), Ok(()));
    assert_eq!(
        crd_established(&typed(crd("False"))),
        Err("Established is False: the initial names are being installed".into())
    );
    let mut conflict = crd("False");
    conflict["status"]["conditions"][0] = json!({
        "type": "NamesAccepted", "status": "False", "reason": "PluralConflict",
        "message": "\"ipaddresspools\" is already in use"
    });
    assert_eq!(
        crd_established(&typed(conflict)),
        Err("names not accepted: \"ipaddresspools\" is already in use".into())
    );
}

fn waiting_pod(name: &str, reason: &str, message: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "namespace": "metallb-system", "labels": { "app": "metallb", "component": "controller" } },
        "spec": { "nodeName": "bgp-worker", "containers": [{ "name": "controller", "image": "quay.io/metallb/controller:v0.14.8" }] },
        "status": {
            "phase": "Pending",
            "conditions": [{ "type": "PodScheduled", "status": "True" }, { "type": "Ready", "status": "False", "reason": "ContainersNotReady" }],
            "containerStatuses": [{
                "name": "controller",
                "image": "quay.io/metallb/controller:v0.14.8",
                "imageID": "",
                "ready": false,
                "restartCount": 0,
                "started": false,
                "state": { "waiting": { "reason": reason, "message": message } }
            }]
        }
    })
}

#[test]
fn pod_problems_name_the_kubelets_reasons() {
    let unschedulable = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": "speaker-x2b9k", "namespace": "metallb-system" },
        "spec": { "containers": [{ "name": "speaker" }] },
        "status": {
            "phase": "Pending",
            "conditions": [{ "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports." }]
        }
    });
    let pods = vec![
        typed(waiting_pod(
            "controller-5f98465b6b-9xk2q",
            "ImagePullBackOff",
            "Back-off pulling image \"quay.io/metallb/controller:v0.14.8\"",
        )),
        typed(unschedulable),
    ];
    assert_eq!(
        pod_problems(&pods),
        vec![
            "pod controller-5f98465b6b-9xk2q: container controller waiting: ImagePullBackOff (Back-off pulling image \"quay.io/metallb/controller:v0.14.8\")",
            "pod speaker-x2b9k: not scheduled: Unschedulable (0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports.)",
        ]
    );
}

#[test]
fn only_failures_to_call_the_webhook_count_as_unavailable() {
    let refused = "Internal error occurred: failed calling webhook \"ipaddresspoolvalidationwebhook.metallb.io\": failed to call webhook: Post \"https://metallb-webhook-service.metallb-system.svc:443/validate-metallb-io-v1beta1-ipaddresspool?timeout=10s\": dial tcp 10.96.120.34:443: connect: connection refused";
    let no_endpoints = "Internal error occurred: failed calling webhook \"bgppeervalidationwebhook.metallb.io\": failed to call webhook: Post \"https://metallb-webhook-service.metallb-system.svc:443/validate-metallb-io-v1beta2-bgppeer?timeout=10s\": no endpoints available for service \"metallb-webhook-service\"";
    let conversion = "conversion webhook for metallb.io/v1beta1, Kind=BGPPeer failed: Post \"https://metallb-webhook-service.metallb-system.svc:443/convert?timeout=30s\": dial tcp 10.96.120.34:443: connect: connection refused";
    let denied = "admission webhook \"ipaddresspoolvalidationwebhook.metallb.io\" denied the request: CIDR \"203.0.113.0/30\" in pool \"b\" overlaps with already defined CIDR \"203.0.113.0/28\"";
    let cases = [
        (500, "InternalError", refused, true),
        (500, "InternalError", no_endpoints, true),
        (500, "", conversion, true),
        (400, "BadRequest", denied, false),
        (403, "Forbidden", denied, false),
        (422, "Invalid", denied, false),
        // Server errors that are not about a webhook are not waited out.
        (500, "InternalError", "etcdserver: request timed out", false),
        (
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
            false,
        ),
        // Not the API server failing to call: a client-side problem.
        (
            404,
            "NotFound",
            "the server could not find the requested resource",
            false,
        ),
    ];
    for (code, reason, message, expected) in cases {
        assert_eq!(
            is_webhook_unavailable(code, reason, message),
            expected,
            "{code} {reason}: {message}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Against the mock API server
// ---------------------------------------------------------------------------------------

const CRD_PATH: &str =
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/ipaddresspools.metallb.io";
const DEPLOYMENT_PATH: &str = "/apis/apps/v1/namespaces/metallb-system/deployments/controller";
const DAEMONSET_PATH: &str = "/apis/apps/v1/namespaces/metallb-system/daemonsets/speaker";

fn wait_options() -> WaitOptions {
    WaitOptions {
        crd_timeout: Duration::from_secs(10),
        rollout_timeout: Duration::from_secs(3),
        rollouts: true,
        poll_interval: Duration::from_secs(1),
        ..WaitOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn manifests_apply_namespace_and_crds_first_then_wait_for_rollouts() {
    let parsed = objects(MANIFEST);
    let (client, server) = mock::serve(vec![
        // Namespace first: discovery of v1, then the apply.
        get("/api/v1", core_v1()),
        patch(
            "/api/v1/namespaces/metallb-system",
            200,
            applied(&parsed[2]),
        ),
        get("/apis/apiextensions.k8s.io/v1", apiextensions_v1()),
        patch(CRD_PATH, 200, applied(&parsed[1])),
        // Polled until Established.
        get(CRD_PATH, crd("False")),
        get(CRD_PATH, crd("True")),
        // The rest, in file order; v1 discovery is cached.
        patch(
            "/api/v1/namespaces/metallb-system/serviceaccounts/controller",
            200,
            applied(&parsed[0]),
        ),
        get("/apis/apps/v1", apps_v1()),
        patch(DEPLOYMENT_PATH, 200, applied(&parsed[3])),
        patch(DAEMONSET_PATH, 200, applied(&parsed[4])),
        // Rollouts polled until every count matches.
        get(DEPLOYMENT_PATH, deployment(0)),
        get(DAEMONSET_PATH, daemonset(1)),
        get(DEPLOYMENT_PATH, deployment(1)),
        get(DAEMONSET_PATH, daemonset(3)),
    ]);
    let log = ProgressLog::default();
    let report = apply_manifests(&client, &parsed, &wait_options(), &|l| log.push(l)).await;
    let recorded = server.finish(client).await;
    let report = report.unwrap();

    assert_eq!(
        report
            .applied
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec![
            "Namespace metallb-system",
            "CustomResourceDefinition ipaddresspools.metallb.io",
            "ServiceAccount metallb-system/controller",
            "Deployment metallb-system/controller",
            "DaemonSet metallb-system/speaker",
        ]
    );
    assert_eq!(report.established_crds, vec!["ipaddresspools.metallb.io"]);
    assert_eq!(report.rolled_out.len(), 2);

    // Every apply is a server-side apply by metallab that leaves other managers' fields
    // alone (no force).
    for r in recorded.iter().filter(|r| r.method == http::Method::PATCH) {
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/apply-patch+yaml"),
            "{}",
            r.path
        );
        let query = r.query.as_deref().unwrap_or("");
        assert!(query.contains("fieldManager=metallab"), "{query}");
        assert!(!query.contains("force"), "{query}");
    }
    // The body is the object from the manifest.
    assert_eq!(recorded[3].body, serde_json::to_value(&parsed[1]).unwrap());
    assert_eq!(recorded.len(), 14, "{:#?}", requests(&recorded));

    insta::assert_snapshot!(log.text(), @r"
    applied Namespace metallb-system
    applied CustomResourceDefinition ipaddresspools.metallb.io
    waiting for 1 of 1 CRDs to be established
    1 CRD established
    applied 5 objects
    waiting for Deployment metallb-system/controller: 0 of 1 replicas ready (1 updated, 0 available) (and 1 more)
    2 workloads rolled out
    ");
}

#[tokio::test(start_paused = true)]
async fn without_rollout_waits_a_deployment_is_applied_and_not_polled() {
    let parsed = objects(MANIFEST);
    let deployment_only: Vec<DynamicObject> = vec![parsed[3].clone()];
    // Only discovery and the apply: a poll of the Deployment would find no exchange left.
    let (client, server) = mock::serve(vec![
        get("/apis/apps/v1", apps_v1()),
        patch(DEPLOYMENT_PATH, 200, applied(&parsed[3])),
    ]);
    let wait = WaitOptions {
        rollouts: false,
        ..wait_options()
    };
    let report = apply_manifests(&client, &deployment_only, &wait, &|_| {}).await;
    let recorded = server.finish(client).await;
    let report = report.unwrap();
    assert_eq!(report.applied.len(), 1);
    assert!(report.rolled_out.is_empty());
    assert_eq!(recorded.len(), 2, "{:#?}", requests(&recorded));
}

#[tokio::test(start_paused = true)]
async fn a_rollout_that_never_finishes_names_the_pods_and_why() {
    let parsed = objects(MANIFEST);
    let deployment_only: Vec<DynamicObject> = vec![parsed[3].clone()];
    let mut exchanges = vec![
        get("/apis/apps/v1", apps_v1()),
        patch(DEPLOYMENT_PATH, 200, applied(&parsed[3])),
    ];
    // Polled at 0, 1, 2 and 3 s: the last poll lands on the 3 s deadline.
    exchanges.extend((0..4).map(|_| get(DEPLOYMENT_PATH, deployment(0))));
    exchanges.push(get(
        "/api/v1/namespaces/metallb-system/pods",
        json!({
            "apiVersion": "v1",
            "kind": "PodList",
            "metadata": { "resourceVersion": "1200" },
            "items": [waiting_pod(
                "controller-5f98465b6b-9xk2q",
                "ImagePullBackOff",
                "Back-off pulling image \"quay.io/metallb/controller:v0.14.8\"",
            )]
        }),
    ));
    let (client, server) = mock::serve(exchanges);
    let result = apply_manifests(&client, &deployment_only, &wait_options(), &|_| {}).await;
    let recorded = server.finish(client).await;

    // The pods are found by the Deployment's selector.
    let pods = recorded.last().unwrap();
    assert_eq!(
        pods.query.as_deref(),
        Some("&labelSelector=app%3Dmetallb%2Ccomponent%3Dcontroller")
    );
    let err = result.unwrap_err();
    let K8sError::Timeout { hint, .. } = &err else {
        panic!("{err:?}")
    };
    insta::assert_snapshot!(format!("{err}\nhint: {}", hint.as_deref().unwrap()), @r#"
    timed out after 3s waiting for rollouts:
      Deployment metallb-system/controller: 0 of 1 replicas ready (1 updated, 0 available)
        pod controller-5f98465b6b-9xk2q: container controller waiting: ImagePullBackOff (Back-off pulling image "quay.io/metallb/controller:v0.14.8")
    hint: kubectl -n metallb-system describe pod controller-5f98465b6b-9xk2q; the nodes could not pull an image: without registry access, load it into the cluster first (kind: `kind load docker-image IMAGE`)
    "#);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_kind_is_reported_with_the_object_needing_it() {
    let pool = objects(
        "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: lab, namespace: metallb-system}\nspec: {addresses: [203.0.113.200/30]}\n",
    );
    let (client, server) = mock::serve(vec![mock::expect(
        http::Method::GET,
        "/apis/metallb.io/v1beta1",
        404,
        status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
    )]);
    let result = apply_manifests(&client, &pool, &wait_options(), &|_| {}).await;
    server.finish(client).await;
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the cluster does not serve IPAddressPool (metallb.io/v1beta1), needed for IPAddressPool metallb-system/lab"
    );
}

const CONFIG: &str = r#"
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: doc-example
  namespace: metallb-system
spec:
  addresses: [203.0.113.200/30]
  avoidBuggyIPs: true
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: frr1
  namespace: metallb-system
spec:
  myASN: 64500
  peerASN: 64500
  peerAddress: 10.0.2.3
  ebgpMultiHop: true
"#;

const POOL_PATH: &str =
    "/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/doc-example";
const PEER_PATH: &str = "/apis/metallb.io/v1beta2/namespaces/metallb-system/bgppeers/frr1";

fn webhook_refused() -> Value {
    status(
        500,
        "InternalError",
        "Internal error occurred: failed calling webhook \"ipaddresspoolvalidationwebhook.metallb.io\": failed to call webhook: Post \"https://metallb-webhook-service.metallb-system.svc:443/validate-metallb-io-v1beta1-ipaddresspool?timeout=10s\": dial tcp 10.96.120.34:443: connect: connection refused",
    )
}

fn webhook_no_endpoints() -> Value {
    status(
        500,
        "InternalError",
        "Internal error occurred: failed calling webhook \"ipaddresspoolvalidationwebhook.metallb.io\": failed to call webhook: Post \"https://metallb-webhook-service.metallb-system.svc:443/validate-metallb-io-v1beta1-ipaddresspool?timeout=10s\": no endpoints available for service \"metallb-webhook-service\"",
    )
}

#[tokio::test(start_paused = true)]
async fn the_config_is_retried_while_the_webhook_is_unreachable_and_counts_attempts() {
    let config = objects(CONFIG);
    let (client, server) = mock::serve(vec![
        get("/apis/metallb.io/v1beta1", metallb_v1beta1()),
        patch(POOL_PATH, 500, webhook_no_endpoints()),
        patch(POOL_PATH, 500, webhook_refused()),
        patch(POOL_PATH, 200, applied(&config[0])),
        get("/apis/metallb.io/v1beta2", metallb_v1beta2()),
        patch(PEER_PATH, 200, applied(&config[1])),
    ]);
    let log = ProgressLog::default();
    let result =
        apply_metallb_config(&client, &config, &WebhookRetry::default(), &|l| log.push(l)).await;
    let recorded = server.finish(client).await;
    let done = result.unwrap();
    // MetalLB's configuration is the topology's: metallab takes every field it sets.
    for r in recorded.iter().filter(|r| r.method == http::Method::PATCH) {
        assert!(r.query.as_deref().unwrap_or("").contains("force=true"));
    }

    assert_eq!(done.attempts, 3);
    assert_eq!(
        done.applied
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec![
            "IPAddressPool metallb-system/doc-example",
            "BGPPeer metallb-system/frr1"
        ]
    );
    // Backoff 1 s, then 2 s (virtual time).
    assert_eq!(done.elapsed, Duration::from_secs(3));
    insta::assert_snapshot!(log.text(), @r"
    MetalLB's webhook is not reachable yet (attempt 1, applying IPAddressPool metallb-system/doc-example); retrying in 1s
    MetalLB's webhook is not reachable yet (attempt 2, applying IPAddressPool metallb-system/doc-example); retrying in 2s
    MetalLB configuration applied (2 objects) after 3 attempts
    ");
}

#[tokio::test(start_paused = true)]
async fn a_config_the_webhook_denies_fails_at_once_with_its_message() {
    let config = objects(CONFIG);
    let denial = "admission webhook \"ipaddresspoolvalidationwebhook.metallb.io\" denied the request: CIDR \"203.0.113.200/30\" in pool \"doc-example\" overlaps with already defined CIDR \"203.0.113.192/28\"";
    let (client, server) = mock::serve(vec![
        get("/apis/metallb.io/v1beta1", metallb_v1beta1()),
        patch(POOL_PATH, 400, status(400, "BadRequest", denial)),
    ]);
    let result = apply_metallb_config(&client, &config, &WebhookRetry::default(), &|_| {}).await;
    let recorded = server.finish(client).await;
    assert_eq!(recorded.len(), 2);
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("the API server rejected IPAddressPool metallb-system/doc-example: {denial}")
    );
}

#[tokio::test(start_paused = true)]
async fn other_server_errors_are_not_retried() {
    let config = objects(CONFIG);
    let (client, server) = mock::serve(vec![
        get("/apis/metallb.io/v1beta1", metallb_v1beta1()),
        patch(
            POOL_PATH,
            500,
            status(500, "InternalError", "etcdserver: request timed out"),
        ),
    ]);
    let result = apply_metallb_config(&client, &config, &WebhookRetry::default(), &|_| {}).await;
    server.finish(client).await;
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        "apply IPAddressPool metallb-system/doc-example: etcdserver: request timed out"
    );
}

#[tokio::test(start_paused = true)]
async fn a_webhook_that_never_comes_up_fails_at_the_deadline_with_the_attempts() {
    let config = objects(CONFIG);
    let retry = WebhookRetry {
        first_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(10),
        deadline: Duration::from_secs(5),
        until: None,
    };
    // Attempts at 0, 1, 3 and 5 s (the last pause is cut to the deadline).
    let mut exchanges = vec![get("/apis/metallb.io/v1beta1", metallb_v1beta1())];
    exchanges.extend((0..4).map(|_| patch(POOL_PATH, 500, webhook_refused())));
    let (client, server) = mock::serve(exchanges);
    let result = apply_metallb_config(&client, &config, &retry, &|_| {}).await;
    server.finish(client).await;
    let err = result.unwrap_err();
    let K8sError::WebhookUnavailable {
        attempts, waited, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*attempts, *waited), (4, Duration::from_secs(5)));
    assert!(
        err.to_string()
            .starts_with("MetalLB's validating webhook was still unreachable after 4 attempts over 5s: Internal error occurred: failed calling webhook"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn pod_security_policies_are_skipped_where_the_cluster_no_longer_serves_them() {
    // MetalLB v0.12's manifest carries one per component; Kubernetes 1.25 removed them.
    let parsed = objects(
        "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: controller\nspec:\n  privileged: false\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: controller\n  namespace: metallb-system\n",
    );
    let (client, server) = mock::serve(vec![
        mock::expect(
            http::Method::GET,
            "/apis/policy/v1beta1",
            404,
            status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        ),
        get("/api/v1", core_v1()),
        patch(
            "/api/v1/namespaces/metallb-system/serviceaccounts/controller",
            200,
            applied(&parsed[1]),
        ),
    ]);
    let log = ProgressLog::default();
    let report = apply_manifests(&client, &parsed, &wait_options(), &|l| log.push(l)).await;
    server.finish(client).await;
    let report = report.unwrap();
    assert_eq!(
        report.skipped[0].to_string(),
        "PodSecurityPolicy controller"
    );
    assert_eq!(report.applied.len(), 1);
    insta::assert_snapshot!(log.text(), @r"
    skipped PodSecurityPolicy controller: the cluster no longer serves policy/v1beta1 PodSecurityPolicy
    applied 1 object
    ");
}

const COMMUNITY: &str = r#"
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: doc-example, namespace: metallb-system}
spec: {addresses: [203.0.113.200/30]}
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: communities, namespace: metallb-system}
spec:
  communities:
  - {name: no-advertise, value: "65535:65282"}
"#;

#[tokio::test(start_paused = true)]
async fn a_kind_missing_from_a_cached_group_is_looked_up_afresh() {
    let config = objects(COMMUNITY);
    let pools_only = resource_list(
        "metallb.io/v1beta1",
        &[("ipaddresspools", "IPAddressPool", true)],
    );
    let (client, server) = mock::serve(vec![
        get("/apis/metallb.io/v1beta1", pools_only),
        patch(POOL_PATH, 200, applied(&config[0])),
        // The Community CRD became served after the first discovery.
        get("/apis/metallb.io/v1beta1", metallb_v1beta1()),
        patch(
            "/apis/metallb.io/v1beta1/namespaces/metallb-system/communities/communities",
            200,
            applied(&config[1]),
        ),
    ]);
    let report = apply_manifests(&client, &config, &wait_options(), &|_| {}).await;
    server.finish(client).await;
    assert_eq!(report.unwrap().applied.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_kind_the_cluster_does_not_serve_is_looked_up_once() {
    let config = objects(COMMUNITY);
    let pools_only = resource_list(
        "metallb.io/v1beta1",
        &[("ipaddresspools", "IPAddressPool", true)],
    );
    let (client, server) = mock::serve(vec![get("/apis/metallb.io/v1beta1", pools_only)]);
    let community = vec![config[1].clone()];
    let result = apply_manifests(&client, &community, &wait_options(), &|_| {}).await;
    server.finish(client).await;
    let err = result.unwrap_err();
    let K8sError::UnknownKind { hint, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        err.to_string(),
        "the cluster does not serve Community (metallb.io/v1beta1), needed for Community metallb-system/communities"
    );
    assert_eq!(
        hint,
        "is the CRD that defines it installed? `kubectl api-resources --api-group=metallb.io` lists what the cluster serves"
    );
}

// ---------------------------------------------------------------------------------------
// Fields other managers set, DaemonSets that run on too few nodes
// ---------------------------------------------------------------------------------------

/// MetalLB's BGPPeer CRD as its manifests ship it: a conversion webhook whose CA bundle is
/// a placeholder that MetalLB's controller replaces on the cluster.
const CONVERTED_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: bgppeers.metallb.io
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        caBundle: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
        service:
          name: metallb-webhook-service
          namespace: metallb-system
          path: /convert
      conversionReviewVersions: ["v1", "v1beta1"]
  group: metallb.io
  names: {kind: BGPPeer, listKind: BGPPeerList, plural: bgppeers, singular: bgppeer}
  scope: Namespaced
  versions:
  - name: v1beta2
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

const BGPPEER_CRD_PATH: &str =
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io";

/// The API server's answer to an apply without force that would change a field another
/// manager owns (its `NewApplyConflict` shape: one cause per field).
fn apply_conflict(manager: &str, fields: &[&str]) -> Value {
    let causes: Vec<Value> = fields
        .iter()
        .map(|field| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with \"{manager}\" using apiextensions.k8s.io/v1"),
                "field": field
            })
        })
        .collect();
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("Apply failed with 1 conflict: conflict with \"{manager}\" using apiextensions.k8s.io/v1: {}", fields[0]),
        "reason": "Conflict",
        "details": { "causes": causes },
        "code": 409
    })
}

fn established_bgppeer_crd() -> Value {
    let mut crd = crd("True");
    crd["metadata"]["name"] = json!("bgppeers.metallb.io");
    crd
}

#[tokio::test(start_paused = true)]
async fn a_field_another_manager_changed_survives_a_second_apply() {
    let parsed = objects(CONVERTED_CRD);
    let ca_bundle = ".spec.conversion.webhook.clientConfig.caBundle";
    let (client, server) = mock::serve(vec![
        get("/apis/apiextensions.k8s.io/v1", apiextensions_v1()),
        // MetalLB's controller put the real CA bundle there since the first `up`.
        patch(
            BGPPEER_CRD_PATH,
            409,
            apply_conflict("controller", &[ca_bundle]),
        ),
        patch(BGPPEER_CRD_PATH, 200, applied(&parsed[0])),
        get(BGPPEER_CRD_PATH, established_bgppeer_crd()),
    ]);
    let report = apply_manifests(&client, &parsed, &wait_options(), &|_| {}).await;
    let recorded = server.finish(client).await;
    let report = report.unwrap();

    let patches: Vec<_> = recorded
        .iter()
        .filter(|r| r.method == http::Method::PATCH)
        .collect();
    // First as the manifest has it, then without the field the controller owns, so
    // the server keeps the controller's value and ownership. Never forced.
    assert_eq!(
        patches[0].body["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"],
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
    );
    assert_eq!(
        patches[1].body["spec"]["conversion"]["webhook"]["clientConfig"],
        json!({ "service": { "name": "metallb-webhook-service", "namespace": "metallb-system", "path": "/convert" } })
    );
    for patch in &patches {
        assert!(!patch.query.as_deref().unwrap_or("").contains("force"));
    }
    assert_eq!(
        report
            .kept
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "CustomResourceDefinition bgppeers.metallb.io .spec.conversion.webhook.clientConfig.caBundle (set by controller)"
        ]
    );
    assert_eq!(
        report.summary(),
        "1 object applied, kept 1 field set by other managers"
    );
}

#[tokio::test(start_paused = true)]
async fn a_field_the_manifests_set_otherwise_is_taken_over() {
    // MetalLB was installed with `kubectl apply` from another release: its fields are
    // the manifests' to set, the controller's CA bundle is not.
    let parsed = objects(CONVERTED_CRD);
    let ca_bundle = ".spec.conversion.webhook.clientConfig.caBundle";
    let versions = ".spec.versions";
    let (client, server) = mock::serve(vec![
        get("/apis/apiextensions.k8s.io/v1", apiextensions_v1()),
        patch(
            BGPPEER_CRD_PATH,
            409,
            apply_conflict("kubectl-client-side-apply", &[ca_bundle, versions]),
        ),
        patch(BGPPEER_CRD_PATH, 200, applied(&parsed[0])),
        get(BGPPEER_CRD_PATH, established_bgppeer_crd()),
    ]);
    let report = apply_manifests(&client, &parsed, &wait_options(), &|_| {}).await;
    let recorded = server.finish(client).await;
    let report = report.unwrap();
    let second = &recorded[2];
    assert!(second.query.as_deref().unwrap().contains("force=true"));
    assert!(
        second.body["spec"]["conversion"]["webhook"]["clientConfig"]
            .get("caBundle")
            .is_none()
    );
    assert_eq!(second.body["spec"]["versions"][0]["name"], "v1beta2");
    assert_eq!(
        report.summary(),
        "1 object applied, kept 1 field set by other managers, took over 1 field from other managers"
    );
}

#[tokio::test(start_paused = true)]
async fn a_conflict_naming_no_field_is_an_error() {
    let parsed = objects(CONVERTED_CRD);
    let mut conflict = apply_conflict("controller", &[".spec.group"]);
    conflict["details"]["causes"] = json!([]);
    let (client, server) = mock::serve(vec![
        get("/apis/apiextensions.k8s.io/v1", apiextensions_v1()),
        patch(BGPPEER_CRD_PATH, 409, conflict),
    ]);
    let result = apply_manifests(&client, &parsed, &wait_options(), &|_| {}).await;
    server.finish(client).await;
    let err = result.unwrap_err().to_string();
    assert!(
        err.starts_with(
            "apply CustomResourceDefinition bgppeers.metallb.io: Apply failed with 1 conflict"
        ),
        "{err}"
    );
}

/// The speaker DaemonSet as the real API server showed it with every node tainted
/// `node.kubernetes.io/unreachable:NoSchedule`: no pod anywhere, two left over.
fn unscheduled_daemonset() -> Value {
    let mut ds = daemonset(0);
    ds["spec"]["template"]["spec"]["tolerations"] = json!([
        { "key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule" },
        { "key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule" }
    ]);
    ds["status"] = json!({
        "observedGeneration": 1,
        "currentNumberScheduled": 0,
        "desiredNumberScheduled": 0,
        "numberMisscheduled": 2,
        "numberReady": 0,
        "updatedNumberScheduled": 0
    });
    ds
}

fn tainted_nodes() -> Value {
    let node = |name: &str, taints: Value| {
        json!({
            "metadata": { "name": name, "labels": { "kubernetes.io/os": "linux" } },
            "spec": { "taints": taints }
        })
    };
    json!({ "apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": [
        node("kapi-control-plane", json!([
            { "key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule" },
            { "key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": "2026-12-04T20:01:00Z" },
            { "key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": "2026-12-04T20:01:05Z" }
        ])),
        node("kapi-worker", json!([
            { "key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": "2026-12-04T20:01:00Z" },
            { "key": "example.com/dedicated", "value": "db", "effect": "PreferNoSchedule" }
        ])),
    ]})
}

#[test]
fn a_daemonset_that_schedules_no_pod_is_not_rolled_out() {
    assert_eq!(
        daemonset_rollout(&typed(unscheduled_daemonset())),
        Err("schedules no pod on any node (desiredNumberScheduled 0, 2 running where they should not): taints or a node selector keep it off every node".into())
    );
}

#[test]
fn nodes_left_out_name_the_taints_and_labels_in_the_way() {
    let nodes: Vec<k8s_openapi::api::core::v1::Node> = tainted_nodes()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| typed(n.clone()))
        .collect();
    let mut ds = unscheduled_daemonset();
    ds["spec"]["template"]["spec"]["nodeSelector"] =
        json!({ "kubernetes.io/os": "linux", "metallb": "yes" });
    insta::assert_snapshot!(nodes_left_out(&typed(ds), &nodes).join("\n"), @r"
    node kapi-control-plane: taint node.kubernetes.io/unreachable:NoSchedule not tolerated, no label metallb=yes (the node selector)
    node kapi-worker: taint node.kubernetes.io/unreachable:NoSchedule not tolerated, no label metallb=yes (the node selector)
    ");
    // A toleration without a key and with Exists tolerates everything.
    let mut tolerant = unscheduled_daemonset();
    tolerant["spec"]["template"]["spec"]["tolerations"] = json!([{ "operator": "Exists" }]);
    assert!(nodes_left_out(&typed(tolerant), &nodes).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_daemonset_kept_off_every_node_times_out_naming_the_nodes_and_why() {
    let parsed = objects(MANIFEST);
    let speaker_only: Vec<DynamicObject> = vec![parsed[4].clone()];
    let mut exchanges = vec![
        get("/apis/apps/v1", apps_v1()),
        patch(DAEMONSET_PATH, 200, applied(&parsed[4])),
    ];
    exchanges.extend((0..4).map(|_| get(DAEMONSET_PATH, unscheduled_daemonset())));
    // The nodes, to say which ones the DaemonSet (as last read) leaves out and why.
    exchanges.push(get("/api/v1/nodes", tainted_nodes()));
    let (client, server) = mock::serve(exchanges);
    let result = apply_manifests(&client, &speaker_only, &wait_options(), &|_| {}).await;
    server.finish(client).await;
    let err = result.unwrap_err();
    let K8sError::Timeout { hint, .. } = &err else {
        panic!("{err:?}")
    };
    insta::assert_snapshot!(format!("{err}\nhint: {}", hint.as_deref().unwrap()), @r"
    timed out after 3s waiting for rollouts:
      DaemonSet metallb-system/speaker: schedules no pod on any node (desiredNumberScheduled 0, 2 running where they should not): taints or a node selector keep it off every node
        node kapi-control-plane: taint node.kubernetes.io/unreachable:NoSchedule not tolerated
        node kapi-worker: taint node.kubernetes.io/unreachable:NoSchedule not tolerated
    hint: kubectl describe nodes (Taints:); remove a taint with `kubectl taint nodes NODE KEY:EFFECT-`
    ");
}

#[tokio::test(start_paused = true)]
async fn a_daemonset_on_fewer_nodes_than_the_lab_has_is_a_warning_naming_the_rest() {
    let parsed = objects(MANIFEST);
    let speaker_only: Vec<DynamicObject> = vec![parsed[4].clone()];
    // MetalLB v0.12's speaker tolerates `master` only: on a current control plane it
    // runs on the worker alone.
    let mut on_one = daemonset(1);
    on_one["spec"]["template"]["spec"]["tolerations"] = json!([{ "key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule" }]);
    for count in [
        "currentNumberScheduled",
        "desiredNumberScheduled",
        "updatedNumberScheduled",
    ] {
        on_one["status"][count] = json!(1);
    }
    let nodes = json!({ "apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": [
        { "metadata": { "name": "lab-control-plane" }, "spec": { "taints": [{ "key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule" }] } },
        { "metadata": { "name": "lab-worker" }, "spec": {} }
    ]});
    let (client, server) = mock::serve(vec![
        get("/apis/apps/v1", apps_v1()),
        patch(DAEMONSET_PATH, 200, applied(&parsed[4])),
        get(DAEMONSET_PATH, on_one),
        get("/api/v1/nodes", nodes),
    ]);
    let wait = WaitOptions {
        nodes: Some(2),
        ..wait_options()
    };
    let report = apply_manifests(&client, &speaker_only, &wait, &|_| {}).await;
    server.finish(client).await;
    insta::assert_snapshot!(report.unwrap().warnings.join("\n"), @r"
    DaemonSet metallb-system/speaker runs on 1 of the lab's 2 nodes: sessions from the others will not come up
      node lab-control-plane: taint node-role.kubernetes.io/control-plane:NoSchedule not tolerated
    ");
}

#[test]
fn the_summary_names_what_was_skipped_and_why() {
    let report = ApplyReport {
        applied: vec![
            ObjectRef {
                api_version: "v1".into(),
                kind: "Namespace".into(),
                namespace: None,
                name: "metallb-system".into(),
            };
            15
        ],
        skipped: ["controller", "speaker"]
            .iter()
            .map(|name| ObjectRef {
                api_version: "policy/v1beta1".into(),
                kind: "PodSecurityPolicy".into(),
                namespace: None,
                name: name.to_string(),
            })
            .collect(),
        ..ApplyReport::default()
    };
    assert_eq!(
        report.summary(),
        "15 objects applied, 2 skipped (PodSecurityPolicy controller, PodSecurityPolicy speaker: the cluster no longer serves policy/v1beta1)"
    );
}

#[tokio::test(start_paused = true)]
async fn no_wait_goes_past_the_deadline_of_up() {
    let parsed = objects(MANIFEST);
    let deployment_only: Vec<DynamicObject> = vec![parsed[3].clone()];
    let mut exchanges = vec![
        get("/apis/apps/v1", apps_v1()),
        patch(DEPLOYMENT_PATH, 200, applied(&parsed[3])),
    ];
    // Polled at 0, 1 and 2 s: `up --timeout` ends the 300 s wait at 2 s.
    exchanges.extend((0..3).map(|_| get(DEPLOYMENT_PATH, deployment(0))));
    exchanges.push(get(
        "/api/v1/namespaces/metallb-system/pods",
        json!({ "apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [] }),
    ));
    let (client, server) = mock::serve(exchanges);
    let wait = WaitOptions {
        rollout_timeout: Duration::from_secs(300),
        until: Some(Instant::now() + Duration::from_secs(2)),
        ..wait_options()
    };
    let result = apply_manifests(&client, &deployment_only, &wait, &|_| {}).await;
    server.finish(client).await;
    let err = result.unwrap_err().to_string();
    assert!(
        err.starts_with("timed out after 2s waiting for rollouts:"),
        "{err}"
    );
}
