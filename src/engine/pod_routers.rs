//! The part of `up` for routers placed in the cluster (`placement: cluster`), once the
//! cluster runs and the node sessions are expanded: their images copied into the nodes
//! (no registry has metallab's local tags), their objects applied (`in_cluster::manifests`),
//! then per router: wait for the pod, run the network setup and the driver's start
//! commands through Kubernetes exec, wait until the daemon answers. It runs alongside the
//! Docker routers and the MetalLB install: BGP retries until both ends are up.

use super::EngineError;
use super::cluster_side::{LabCluster, Prepared, k8s_error, to_objects};
use crate::in_cluster::{self, KubeExec, start};
use crate::k8s::apply::{self, WaitOptions};
use crate::plan::{Plan, PlannedRouter};
use crate::progress::{Progress, Step};
use crate::topology::model::{Placement, RouterKind};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How long a router's pod may take to run: scheduling and a local image, no pull.
const POD_TIMEOUT: Duration = Duration::from_secs(180);
/// How long a daemon may take to answer its CLI after start (as for Docker routers).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `up` on a running lab looks for a router's pod before calling it missing.
const RECONCILE_POD_TIMEOUT: Duration = Duration::from_secs(10);

/// The routers of the plan placed in the cluster.
pub fn in_cluster_routers(plan: &Plan) -> Vec<&PlannedRouter> {
    plan.routers
        .iter()
        .filter(|r| r.placement == Placement::Cluster)
        .collect()
}

/// The image a router runs: the engine's tag for built-in images, else the topology's.
pub fn router_image(r: &PlannedRouter, tags: &BTreeMap<RouterKind, String>) -> String {
    if r.builtin_image {
        tags[&r.kind].clone()
    } else {
        r.image.clone()
    }
}

fn start_error(e: start::StartError) -> EngineError {
    EngineError::setup(e.to_string(), e.hint())
}

/// A start command as a progress message: its first line, shortened.
fn command_message(argv: &[String]) -> String {
    let line = argv.join(" ");
    let first = line.lines().next().unwrap_or_default();
    let short: String = first.chars().take(60).collect();
    if short.len() < line.len() {
        format!("running {short}…")
    } else {
        format!("running {short}")
    }
}

/// Loads the images, applies the objects and starts every in-cluster router. Does
/// nothing when no router is placed in the cluster.
pub async fn start_in_cluster_routers(
    progress: &Progress,
    prepared: &Prepared,
    cluster: &LabCluster,
    plan: &Plan,
    tags: &BTreeMap<RouterKind, String>,
    opts: &super::up::UpOptions,
) -> Result<(), EngineError> {
    let routers = in_cluster_routers(plan);
    if routers.is_empty() {
        return Ok(());
    }
    let images: BTreeSet<String> = routers.iter().map(|r| router_image(r, tags)).collect();
    for image in &images {
        load_image(progress, prepared, cluster, image).await?;
    }

    let manifests = in_cluster::lab_manifests(plan, |r| router_image(r, tags))
        .map_err(|e| EngineError::setup(e.to_string(), e.hint()))?;
    let objects = to_objects(manifests, "an in-cluster router's manifest")?;
    let namespace = in_cluster::namespace(&plan.lab);
    let step = progress.step("in-cluster", format!("namespace {namespace}"));
    let on_progress = |line: &str| step.set_message(line);
    // The Deployments turn ready only once their daemons are started below.
    let wait = WaitOptions {
        rollouts: false,
        ..super::cluster_side::wait_options(opts.deadline)
    };
    match apply::apply_manifests(&cluster.client, &objects, &wait, &on_progress).await {
        Ok(report) => step.done(format!(
            "{} object(s) applied for {} router(s)",
            report.applied.len(),
            routers.len()
        )),
        Err(e) => {
            step.failed();
            return Err(service_range_hint(k8s_error(e)));
        }
    }

    let exec = KubeExec::new(cluster.client.clone(), &plan.lab);
    let jobs = routers.iter().map(|r| {
        let exec = &exec;
        async move {
            let step = progress.step("router", format!("{} ({}, in cluster)", r.name, r.kind));
            match start_router(exec, &step, r, opts.deadline).await {
                Ok(pod) => {
                    step.done(describe(r, &pod));
                    Ok(())
                }
                Err(e) => {
                    step.failed();
                    Err(e)
                }
            }
        }
    });
    let failures: Vec<String> = futures::future::join_all(jobs)
        .await
        .into_iter()
        .filter_map(|r| r.err())
        .map(|e| e.with_hint_inline())
        .collect();
    if failures.is_empty() {
        return Ok(());
    }
    Err(EngineError::setup(
        format!(
            "{} in-cluster router(s) failed to start:\n  - {}",
            failures.len(),
            failures.join("\n  - ")
        ),
        super::up::look_closer(
            opts.retain,
            &format!(
                "kubectl -n {namespace} describe pods; kubectl -n {namespace} logs deploy/<router>"
            ),
        ),
    ))
}

/// A cluster whose Service range does not hold the in-cluster routers' fixed ClusterIPs
/// refuses their Services ("the provided IP … is not in the valid range. The range of
/// valid IPs is 10.0.0.0/24"): say why metallab asked for that address and what to do.
fn service_range_hint(error: EngineError) -> EngineError {
    if !error.to_string().contains("is not in the valid range") {
        return error;
    }
    EngineError::setup(
        error.to_string(),
        "in-cluster routers take a fixed ClusterIP from 10.96.0.100–199, inside the Service \
         range of kind, Minikube and kubeadm (10.96.0.0/12); this cluster's range (in the \
         message) does not hold it. Run the router in Docker instead, with a route the \
         nodes reach it by",
    )
}

async fn load_image(
    progress: &Progress,
    prepared: &Prepared,
    cluster: &LabCluster,
    image: &str,
) -> Result<(), EngineError> {
    let step = progress.step("image load", format!("{image} into {}", cluster.name));
    let on_line = |line: &str| step.set_message(line);
    match prepared
        .provider()
        .load_image(&cluster.name, image, &on_line)
        .await
    {
        Ok(true) => {
            step.done("in every node");
            Ok(())
        }
        Ok(false) => {
            step.done("not loaded: the nodes pull it");
            progress.println(format!(
                "warning: metallab cannot copy images into an existing cluster's nodes: they pull {image} themselves (for metallab's own images, push one to a registry they reach and set the router's `image:`, or load it yourself, e.g. `kind load docker-image {image} --name <cluster>`)"
            ));
            Ok(())
        }
        Err(e) => {
            step.failed();
            Err(EngineError::Setup {
                hint: e.hint(),
                message: e.to_string(),
            })
        }
    }
}

/// One router: its pod runs, the setup and daemons start, the daemon answers. Returns the
/// pod's name.
async fn start_router(
    exec: &KubeExec,
    step: &Step,
    r: &PlannedRouter,
    deadline: super::Deadline,
) -> Result<String, EngineError> {
    step.set_message("waiting for the pod");
    let pod = start::wait_for_pod(exec, r, deadline.budget(POD_TIMEOUT))
        .await
        .map_err(start_error)?;
    start::configure_running(exec, r, deadline.budget(READY_TIMEOUT), |argv| {
        step.set_message(command_message(argv))
    })
    .await
    .map_err(start_error)?;
    Ok(pod)
}

fn describe(r: &PlannedRouter, pod: &str) -> String {
    let address = in_cluster::service_ip(r)
        .map(|ip| format!("ClusterIP {ip}"))
        .unwrap_or_default();
    let asn = r
        .asn
        .map(|asn| format!(" AS{asn}, {} session(s)", r.sessions.len()))
        .unwrap_or_default();
    format!("{address}{asn}, pod {pod}")
}

/// On an existing cluster (kind and Minikube clusters are deleted whole), deletes what the
/// lab put there, found by its label: its MetalLB configuration objects and the namespace
/// of its in-cluster routers. Returns what went (`namespace metallab-lab`,
/// `IPAddressPool metallb-system/demo`…) and, apart, what is left with the commands that
/// remove it.
pub async fn remove_from_existing_cluster(
    rt: &dyn crate::runtime::ContainerEngine,
    state: &super::state_dir::StateDir,
    plan: &Plan,
) -> (Vec<String>, Option<String>) {
    let existing = plan
        .cluster
        .as_ref()
        .is_some_and(|c| c.provider == crate::topology::model::ClusterProvider::Existing);
    if !existing {
        return (vec![], None);
    }
    let lab = &plan.lab;
    let by_hand = format!(
        "the lab's objects on the cluster (kubectl delete namespace -l {0}={lab}; kubectl -n metallb-system delete ipaddresspools,bgppeers,bgpadvertisements,bfdprofiles,communities,l2advertisements,configmaps -l {0}={lab})",
        crate::plan::labels::LAB
    );
    let cluster = match super::cluster_side::connect_lab(rt, state, plan).await {
        Ok(Some(cluster)) => cluster,
        Ok(None) => return (vec![], None),
        Err(e) => return (vec![], Some(format!("{by_hand}: {e}"))),
    };
    let (removed, left) = remove_lab_objects(&cluster.client, lab).await;
    let left = (!left.is_empty()).then(|| format!("{by_hand}: {}", left.join("; ")));
    (removed, left)
}

/// Deletes `lab`'s namespaces and MetalLB configuration objects (by label). Returns what
/// went and, apart, what could not be removed and why (each part is tried).
pub async fn remove_lab_objects(client: &kube::Client, lab: &str) -> (Vec<String>, Vec<String>) {
    let (mut removed, mut left) = (vec![], vec![]);
    match crate::k8s::lab_objects::delete_lab_namespaces(client, lab).await {
        Ok(namespaces) => removed.extend(
            namespaces
                .into_iter()
                .map(|namespace| format!("namespace {namespace}")),
        ),
        Err(e) => left.push(e.to_string()),
    }
    match crate::k8s::lab_objects::delete_lab_config(client, lab).await {
        Ok(deleted) => {
            removed.extend(deleted.objects.iter().map(ToString::to_string));
            left.extend(
                deleted
                    .unreadable
                    .into_iter()
                    .map(|(kind, why)| format!("{kind}s could not be listed: {why}")),
            );
        }
        Err(e) => left.push(e.to_string()),
    }
    (removed, left)
}

/// `up` on a running lab: each in-cluster router's pod must exist; a pod that restarted
/// (its daemons are gone) is set up and started again. Returns the restarted routers and
/// the missing ones.
pub async fn reconcile_in_cluster(
    cluster: &LabCluster,
    plan: &Plan,
    step: &Step,
) -> Result<(Vec<String>, Vec<String>), EngineError> {
    let exec = KubeExec::new(cluster.client.clone(), &plan.lab);
    let (mut restarted, mut missing) = (vec![], vec![]);
    for r in in_cluster_routers(plan) {
        if start::wait_for_pod(&exec, r, RECONCILE_POD_TIMEOUT)
            .await
            .is_err()
        {
            missing.push(r.name.clone());
            continue;
        }
        if !start::is_ready(&exec, r).await.map_err(start_error)? {
            start::configure_running(&exec, r, READY_TIMEOUT, |argv| {
                step.set_message(command_message(argv))
            })
            .await
            .map_err(start_error)?;
            restarted.push(r.name.clone());
        }
    }
    Ok((restarted, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_range_without_the_fixed_addresses_gets_a_hint() {
        let refused = EngineError::setup(
            "apply Service metallab-kapi3/bird1: Service \"bird1\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.167\"}: failed to allocate IP 10.96.0.167: the provided IP (10.96.0.167) is not in the valid range. The range of valid IPs is 10.0.0.0/24",
            "old",
        );
        let hinted = service_range_hint(refused);
        assert!(
            hinted
                .hint()
                .unwrap()
                .starts_with("in-cluster routers take a fixed ClusterIP")
        );
        let other = service_range_hint(EngineError::setup("apply Service x: forbidden", "old"));
        assert_eq!(other.hint().as_deref(), Some("old"));
    }
    use crate::cli::ProgressMode;
    use crate::cluster::ClusterPlan;
    use crate::cluster::command::recording::RecordingRunner;
    use crate::k8s::mock::{self, expect, resource_list, status};
    use http::Method;
    use serde_json::json;
    use std::sync::Arc;

    const NS: &str = "/api/v1/namespaces/metallab-in-cluster";
    const APPS_NS: &str = "/apis/apps/v1/namespaces/metallab-in-cluster";

    fn patched(kind: &str, name: &str) -> serde_json::Value {
        json!({ "apiVersion": "v1", "kind": kind, "metadata": { "name": name, "namespace": "metallab-in-cluster" } })
    }

    /// The `in-cluster` built-in with kind's nodes, as `up` has it once the cluster runs.
    fn lab() -> Plan {
        let builtin = crate::topology::builtin::get("in-cluster").unwrap();
        let plan = crate::plan::build(
            &builtin.topology(),
            "builtin:in-cluster",
            std::path::Path::new(""),
        );
        let nodes = [
            ("in-cluster-control-plane", "10.249.0.130"),
            ("in-cluster-worker", "10.249.0.131"),
        ]
        .map(|(name, ip)| crate::plan::nodes::ClusterNode {
            name: name.into(),
            ip: ip.parse().unwrap(),
        });
        crate::plan::nodes::with_node_sessions(&plan, &nodes)
    }

    #[tokio::test]
    async fn images_load_before_the_objects_apply_then_each_pod_is_started_by_exec() {
        let plan = lab();
        let dir = tempfile::tempdir().unwrap();
        let runner = Arc::new(RecordingRunner::new().reply(0, "", ""));
        let provider = Box::new(crate::cluster::kind::Kind::new(
            runner.clone(),
            dir.path().join("kind.lock"),
        ));
        let prepared = Prepared::for_tests(ClusterPlan::from_plan(&plan).unwrap(), provider);
        let running_pod = json!({
            "apiVersion": "v1",
            "kind": "PodList",
            "metadata": { "resourceVersion": "7" },
            "items": [{
                "metadata": { "name": "bird1-5d8f9c7b6d-x2x9q", "namespace": "metallab-in-cluster" },
                "spec": { "containers": [ { "name": "router" } ] },
                "status": {
                    "phase": "Running",
                    "containerStatuses": [ {
                        "name": "router", "image": "metallab/bird:abc", "imageID": "",
                        "ready": false, "restartCount": 0,
                        "state": { "running": { "startedAt": "2026-11-21T08:00:00Z" } }
                    } ]
                }
            }]
        });
        let (client, server) = mock::serve(vec![
            expect(
                Method::GET,
                "/api/v1",
                200,
                resource_list(
                    "v1",
                    &[
                        ("namespaces", "Namespace", false),
                        ("configmaps", "ConfigMap", true),
                        ("services", "Service", true),
                        ("pods", "Pod", true),
                    ],
                ),
            ),
            expect(
                Method::PATCH,
                NS,
                200,
                patched("Namespace", "metallab-in-cluster"),
            ),
            expect(
                Method::PATCH,
                &format!("{NS}/configmaps/bird1-config"),
                200,
                patched("ConfigMap", "bird1-config"),
            ),
            expect(
                Method::PATCH,
                &format!("{NS}/services/bird1"),
                200,
                patched("Service", "bird1"),
            ),
            expect(
                Method::GET,
                "/apis/apps/v1",
                200,
                resource_list("apps/v1", &[("deployments", "Deployment", true)]),
            ),
            expect(
                Method::PATCH,
                &format!("{APPS_NS}/deployments/bird1"),
                200,
                json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": { "name": "bird1", "namespace": "metallab-in-cluster" }
                }),
            ),
            // The pod runs (not ready: its daemon is not started yet)...
            expect(Method::GET, &format!("{NS}/pods"), 200, running_pod.clone()),
            // ...and the first start command goes to it, which this API server refuses.
            expect(Method::GET, &format!("{NS}/pods"), 200, running_pod),
            expect(
                Method::GET,
                &format!("{NS}/pods/bird1-5d8f9c7b6d-x2x9q/exec"),
                403,
                status(
                    403,
                    "Forbidden",
                    "pods \"bird1-5d8f9c7b6d-x2x9q\" is forbidden: cannot create resource \"pods/exec\"",
                ),
            ),
        ]);
        let cluster =
            LabCluster::for_tests(client.clone(), "in-cluster", plan.cluster_nodes.clone());
        let tags = BTreeMap::from([(crate::kinds::bird::KIND, "metallab/bird:abc".to_string())]);
        let progress = Progress::new(ProgressMode::Never);
        let result = start_in_cluster_routers(
            &progress,
            &prepared,
            &cluster,
            &plan,
            &tags,
            &crate::engine::up::UpOptions::for_tests(),
        )
        .await;
        drop(cluster);
        let recorded = server.finish(client).await;

        assert_eq!(
            runner.call_lines(),
            ["kind load docker-image metallab/bird:abc --name in-cluster"]
        );
        // Server-side applies of the router's objects, the Deployment running the loaded image.
        let deployment = &recorded[5].body;
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["image"],
            "metallab/bird:abc"
        );
        // The pods are found by the router's labels.
        let selector = recorded[6].query.as_deref().unwrap_or_default();
        assert!(selector.contains("labelSelector="), "{selector}");
        let err = result.unwrap_err();
        let message = err.to_string();
        assert_eq!(
            message,
            "1 in-cluster router(s) failed to start:\n  - bird1: Kubernetes API: pods \"bird1-5d8f9c7b6d-x2x9q\" is forbidden: cannot create resource \"pods/exec\" (Forbidden) (the kubeconfig's user may not exec into pods: it needs `create` on `pods/exec` in the lab's namespace)"
        );
        assert!(
            err.hint()
                .unwrap()
                .contains("kubectl -n metallab-in-cluster describe pods"),
            "{:?}",
            err.hint()
        );
    }

    #[test]
    fn a_start_command_shows_as_its_first_line_shortened() {
        let setup = vec![
            "sh".to_string(),
            "-c".to_string(),
            "set -e\nip address replace 10.96.0.1/32 dev lo".to_string(),
        ];
        assert_eq!(command_message(&setup), "running sh -c set -e…");
        let short = vec![
            "bird".to_string(),
            "-c".to_string(),
            "/etc/bird.conf".into(),
        ];
        assert_eq!(command_message(&short), "running bird -c /etc/bird.conf");
        let long = vec!["x".repeat(70)];
        assert_eq!(
            command_message(&long),
            format!("running {}…", "x".repeat(60))
        );
    }
}
