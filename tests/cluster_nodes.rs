//! Cluster node discovery and lab-cluster lookup against the real Docker engine.
//!
//! kind and minikube cannot run here (their nodes need `--privileged`), so this creates
//! plain containers carrying the Docker labels kind and minikube put on their nodes, on two
//! internal networks, and checks that discovery, static routes in nodes (through the real
//! exec) and `find_lab_clusters` work through the engine as they would on real nodes. It is
//! a test of discovery, not a fake cluster.
//!
//! Everything carries `io.metallab.lab=h-cluster` plus a per-run marker label, lives in
//! 10.231.0.0/16, and is removed by a guard when the test ends, failed assertions included.
//! Without a Docker engine the test prints why and passes, unless `CI` or
//! `METALLAB_REQUIRE_DOCKER` is set. The node image is metallab's own Linux router image,
//! built by the test when it is not there yet.

use metallab::cluster::nodes::{self, NodeSelector, labels as node_labels};
use metallab::cluster::{
    ClusterPlan, FoundCluster, NodeRole, Provider, apply_node_routes, find_lab_clusters,
};
mod support;

use metallab::plan::model::StaticRoute;
use metallab::runtime::docker::{ContainerSpec, DockerRuntime, NetworkSpec};
use metallab::runtime::images::{DEFAULT_BASE_IMAGE, ensure_image};
use std::net::IpAddr;
use std::time::Duration;
use support::{Scratch, engine};

/// The lab name every scratch resource is labelled with; also the name of the "lab's"
/// kind cluster and minikube profile below.
const LAB: &str = "h-cluster";

/// A running container named `name` with `extra` labels, on `networks` in order, with
/// Docker-assigned addresses (as kind nodes get them).
async fn node(
    rt: &DockerRuntime,
    image: &str,
    scratch: &Scratch,
    name: &str,
    extra: &[(&str, &str)],
    networks: &[&NetworkSpec],
) {
    let spec = ContainerSpec {
        name: name.to_string(),
        image: image.to_string(),
        hostname: Some(name.to_string()),
        labels: scratch.labels(extra),
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        // Real nodes are privileged; routes need at least this.
        cap_add: vec!["NET_ADMIN".into()],
        networks: networks.iter().map(|n| (n.name.clone(), None)).collect(),
        ..Default::default()
    };
    rt.create_container(&spec).await.unwrap();
    rt.start_container(name).await.unwrap();
}

fn address_in(ip: IpAddr, net: &NetworkSpec) -> bool {
    matches!(ip, IpAddr::V4(v4) if net.subnet.contains(&v4) && v4 != net.gateway)
}

#[tokio::test]
async fn discovery_and_lab_lookup_read_labelled_nodes_on_the_real_engine() {
    let Some(rt) = engine("discovery_and_lab_lookup_read_labelled_nodes_on_the_real_engine").await
    else {
        return;
    };
    // metallab's own Linux image: built here when `scripts/test` has not built it yet.
    let image = ensure_image(
        &rt,
        metallab::kinds::linux::KIND,
        DEFAULT_BASE_IMAGE,
        false,
        |_| {},
    )
    .await
    .expect("metallab's linux image builds");
    let scratch = Scratch::new(LAB);
    let lab_net = scratch.network(&rt, 231, "kind").await;
    let up_net = scratch.network(&rt, 231, "up").await;

    // A kind cluster (for discovery) whose worker is also on the second network.
    let cluster = scratch.name("test");
    for (role, nets) in [
        ("control-plane", vec![&lab_net]),
        ("worker", vec![&lab_net, &up_net]),
        ("external-load-balancer", vec![&lab_net]),
    ] {
        let labels = [
            (node_labels::KIND_CLUSTER, cluster.as_str()),
            (node_labels::KIND_ROLE, role),
        ];
        node(
            &rt,
            &image,
            &scratch,
            &format!("{cluster}-{role}"),
            &labels,
            &nets,
        )
        .await;
    }

    let selector = NodeSelector::Kind {
        cluster: cluster.clone(),
    };
    let found = nodes::discover(&rt, &selector, &lab_net.name)
        .await
        .unwrap();
    let names: Vec<(&str, NodeRole)> = found.iter().map(|n| (n.name.as_str(), n.role)).collect();
    assert_eq!(
        names,
        [
            (
                format!("{cluster}-control-plane").as_str(),
                NodeRole::ControlPlane
            ),
            (format!("{cluster}-worker").as_str(), NodeRole::Worker),
        ],
        "the load balancer is not a node"
    );
    for n in &found {
        assert!(
            address_in(n.ip, &lab_net),
            "{n:?} not on {}",
            lab_net.subnet
        );
        let doc = rt.inspect_container_raw(&n.name).await.unwrap().unwrap();
        let engine_ip = &doc.network_settings.unwrap().networks.unwrap()[&lab_net.name].ip_address;
        assert_eq!(engine_ip.as_deref(), Some(n.ip.to_string().as_str()));
    }
    // The worker, read on the second network, has its address there; the control plane
    // has none, which is an error rather than a wrong address.
    let worker = rt
        .inspect_container_raw(&format!("{cluster}-worker"))
        .await
        .unwrap()
        .unwrap();
    let upstream = nodes::discover_nodes(&selector, &up_net.name, &[worker]).unwrap();
    assert!(address_in(upstream[0].ip, &up_net), "{upstream:?}");
    let err = nodes::discover(&rt, &selector, &up_net.name)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("control-plane has no address"),
        "{err}"
    );

    // Static routes inside the nodes, through the real exec: via the load balancer's
    // address (a container of this test), idempotent on a second run.
    let lb = rt
        .inspect_container(&format!("{cluster}-external-load-balancer"))
        .await
        .unwrap()
        .unwrap();
    let via = lb.networks[&lab_net.name].unwrap();
    let mut plan = ClusterPlan {
        provider: Provider::Kind,
        name: cluster.clone(),
        control_planes: 1,
        workers: 1,
        image: None,
        kubernetes_version: None,
        network: None,
        reserved: vec![],
        lab_networks: vec![],
        node_routes: vec![StaticRoute {
            to: "192.0.2.0/24".parse().unwrap(),
            via: IpAddr::V4(via),
        }],
        existing: None,
    };
    for _ in 0..2 {
        assert_eq!(apply_node_routes(&rt, &plan, &found).await.unwrap(), 2);
    }
    for n in &found {
        let out = rt
            .exec(
                &n.name,
                &["ip", "route", "show", "192.0.2.0/24"],
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        assert_eq!(
            out.stdout.split_whitespace().take(3).collect::<Vec<_>>(),
            ["192.0.2.0/24", "via", via.to_string().as_str()],
            "{}: {out:?}",
            n.name
        );
    }
    // A gateway no node can reach fails with the node and the command.
    plan.node_routes[0].via = "198.51.100.1".parse().unwrap();
    let err = apply_node_routes(&rt, &plan, &found).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("`ip route replace 192.0.2.0/24 via 198.51.100.1` failed"),
        "{err}"
    );

    // The lab's own clusters: a kind cluster and a minikube profile named like the lab, on
    // the lab-labelled network; the minikube second node sits on the second network only.
    node(
        &rt,
        &image,
        &scratch,
        &scratch.name("lab-cp"),
        &[
            (node_labels::KIND_CLUSTER, LAB),
            (node_labels::KIND_ROLE, "control-plane"),
        ],
        &[&lab_net],
    )
    .await;
    let minikube_primary = scratch.name("mk");
    node(
        &rt,
        &image,
        &scratch,
        &minikube_primary,
        &[
            (node_labels::MINIKUBE_CREATED_BY, "true"),
            (node_labels::MINIKUBE_NAME, LAB),
        ],
        &[&lab_net],
    )
    .await;
    let clusters = find_lab_clusters(&rt, LAB).await.unwrap();
    let mine: Vec<&FoundCluster> = clusters
        .iter()
        .filter(|c| {
            c.containers
                .iter()
                .any(|n| n.starts_with(&scratch.name("")))
        })
        .collect();
    let kinds: Vec<Provider> = mine.iter().map(|c| c.provider).collect();
    assert_eq!(kinds, [Provider::Kind, Provider::Minikube]);
    assert!(mine.iter().all(|c| c.name == LAB));

    // A stopped node keeps its network attachment: still found.
    rt.stop_container(&minikube_primary, Duration::from_secs(1))
        .await
        .unwrap();
    let clusters = find_lab_clusters(&rt, LAB).await.unwrap();
    assert!(
        clusters
            .iter()
            .any(|c| c.provider == Provider::Minikube && c.containers.contains(&minikube_primary)),
        "{clusters:?}"
    );

    // A cluster named like another lab that has no labelled network is not that lab's:
    // the discovery cluster sits on h-cluster networks, not on networks of `cluster`.
    assert!(find_lab_clusters(&rt, &cluster).await.unwrap().is_empty());
}
