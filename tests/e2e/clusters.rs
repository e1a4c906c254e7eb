//! Labs with a Kubernetes cluster.
//!
//! kind and Minikube need privileged node containers, which the project's CI machine cannot
//! run, so the tests that create a real cluster are gated: `METALLAB_E2E_KIND=1` and
//! `METALLAB_E2E_MINIKUBE=1` (on a machine with Docker and the tool). What runs everywhere:
//! without kind (and without its download), `up` stops before creating anything and says
//! what to install.
//!
//! `METALLAB_E2E_METALLB_VERSION` and `METALLAB_E2E_METALLB_MODE` run the labs against
//! another MetalLB release or mode than their topology names (see the harness).

use crate::harness::{Lab, docker, docker_available, metallb_override};
use std::process::Command;

/// Whether a gated cluster test should run; says why when it does not.
pub fn gate(variable: &str) -> bool {
    let on = std::env::var(variable).is_ok_and(|v| v == "1");
    if !on {
        eprintln!("SKIP: set {variable}=1 on a machine with Docker and the tool to run this test");
    }
    on
}

/// `up` of the bgp lab with nothing on PATH, an empty cache, and `extra` in the
/// environment: it must stop before creating anything and say where to get kind.
fn up_without_kind(name: &str, extra: &[(&str, &str)]) -> String {
    let lab = Lab::from_topology("bgp.yaml", name);
    // A PATH with nothing on it: metallab talks to Docker through its socket, and kind is
    // looked up on PATH (then in the cache) before anything is created.
    let empty = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut env = vec![
        ("PATH", empty.path().to_str().unwrap()),
        ("METALLAB_CACHE_DIR", cache.path().to_str().unwrap()),
    ];
    env.extend_from_slice(extra);
    let out = lab.metallab_with_env(&["up", lab.topology_arg()], &env);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("kind"), "{stderr}");
    assert!(
        stderr.contains("https://kind.sigs.k8s.io"),
        "says where to get kind: {stderr}"
    );
    assert_eq!(lab.leftovers(), (vec![], vec![]), "nothing was created");
    assert!(
        std::fs::read_dir(cache.path().join("tools"))
            .map(|mut d| d.next().is_none())
            .unwrap_or(true),
        "no kind left in the cache"
    );
    stderr
}

#[test]
fn without_kind_up_fails_fast_and_creates_nothing() {
    if !docker_available() {
        return;
    }
    // The download fails the same way with or without internet: nobody listens there.
    let stderr = up_without_kind(
        "e2e-nokind",
        &[("METALLAB_KIND_MIRROR", "http://127.0.0.1:9")],
    );
    assert!(stderr.contains("cannot download kind"), "{stderr}");
}

#[test]
fn offline_without_kind_up_refuses_to_download() {
    if !docker_available() {
        return;
    }
    let stderr = up_without_kind("e2e-nokind-off", &[("METALLAB_OFFLINE", "1")]);
    assert!(stderr.contains("downloads are forbidden"), "{stderr}");
}

#[test]
fn default_lab_on_kind_passes_its_checks_and_leaves_nothing() {
    if !docker_available() || !gate("METALLAB_E2E_KIND") {
        return;
    }
    let lab = Lab::from_topology("bgp.yaml", "e2e-kind-bgp");
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "up succeeds");
    let log = String::from_utf8_lossy(&up.stderr);
    for phase in ["network", "cluster", "router", "metallb", "apps"] {
        assert!(
            log.contains(phase),
            "progress shows the {phase} phase: {log}"
        );
    }

    let (code, failed, passed) = lab.check("5m");
    assert_eq!((code, failed), (0, vec![]));
    assert_eq!(passed.len(), 7, "{passed:?}");

    let status = lab.metallab(&["status", &lab.name, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let cluster = &v[0]["cluster"];
    assert_eq!(v[0]["nodes"].as_array().map(Vec::len), Some(3), "{v}");
    let nginx = cluster["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["name"] == "nginx")
        .expect("the nginx Service");
    assert_eq!(nginx["ips"][0], "203.0.113.200");

    // Stopping a worker takes it out of every router's next-hop set.
    docker(&["stop", &format!("{}-worker", lab.name)]);
    let (code, failed, _) = lab.check("60s");
    assert_eq!(code, 1);
    assert!(
        failed.iter().any(|n| n.contains("203.0.113.200/32")),
        "{failed:?}"
    );

    lab.down_leaves_nothing(&lab.name);
    let clusters = Command::new("kind")
        .args(["get", "clusters"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&clusters.stdout)
            .lines()
            .any(|l| l == lab.name),
        "down deletes the kind cluster"
    );
}

#[test]
fn bfd_next_hop_lab_on_kind() {
    if !docker_available() || !gate("METALLAB_E2E_KIND") {
        return;
    }
    // MetalLB's native speaker has no BFD: the lab is invalid in that mode.
    if metallb_override().mode.as_deref() == Some("native") {
        eprintln!("SKIP: bfd-next-hop needs BFD, which MetalLB's native mode does not have");
        return;
    }
    let lab = Lab::from_topology("bfd-next-hop.yaml", "e2e-kind-bfd");
    assert_eq!(
        lab.metallab(&["up", lab.topology_arg()]).status.code(),
        Some(0)
    );
    let (code, failed, passed) = lab.check("5m");
    assert_eq!((code, failed), (0, vec![]));
    assert_eq!(passed.len(), 8, "{passed:?}");
    lab.down_leaves_nothing(&lab.name);
}

#[test]
fn in_cluster_router_on_kind() {
    if !docker_available() || !gate("METALLAB_E2E_KIND") {
        return;
    }
    let lab = Lab::from_topology("in-cluster.yaml", "e2e-kind-incluster");
    assert_eq!(
        lab.metallab(&["up", lab.topology_arg()]).status.code(),
        Some(0)
    );
    let (code, failed, passed) = lab.check("5m");
    assert_eq!((code, failed), (0, vec![]));
    assert_eq!(passed.len(), 6, "{passed:?}");

    // The pod is read through the Kubernetes API like a container through Docker.
    let exec = lab.metallab(&[
        "exec",
        &format!("{}/bird1", lab.name),
        "--",
        "birdc",
        "show",
        "protocols",
    ]);
    assert_eq!(exec.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&exec.stdout).contains("Established"));
    let status = lab.metallab(&["status", &lab.name, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let bird1 = v[0]["routers"]
        .as_array()
        .expect("routers")
        .iter()
        .find(|r| r["name"] == "bird1")
        .expect("bird1 in status");
    assert_eq!(bird1["problems"], serde_json::json!([]), "{bird1}");

    // `up` again finds the pod's daemon running and changes nothing.
    assert_eq!(
        lab.metallab(&["up", lab.topology_arg()]).status.code(),
        Some(0)
    );
    lab.down_leaves_nothing(&lab.name);
}

#[test]
fn legacy_metallb_on_minikube() {
    if !docker_available() || !gate("METALLAB_E2E_MINIKUBE") {
        return;
    }
    let lab = Lab::from_topology("minikube-legacy.yaml", "e2e-mk-legacy");
    assert_eq!(
        lab.metallab(&["up", lab.topology_arg()]).status.code(),
        Some(0)
    );
    let (code, failed, _) = lab.check("5m");
    assert_eq!((code, failed), (0, vec![]));
    lab.down_leaves_nothing(&lab.name);
}

/// MetalLB's old tutorial as a change in place, on MetalLB v0.12 with its ConfigMap: nginx
/// gets 198.51.100.0; `avoid-buggy-ips: true` applied by `up FILE` is refused by MetalLB
/// with an `InvalidConfig` event (a Service holds `.0`); the Service asks for `.1`, and the
/// router learns `.1`.
#[test]
fn legacy_config_changes_in_place_on_minikube() {
    if !docker_available() || !gate("METALLAB_E2E_MINIKUBE") {
        return;
    }
    let lab = Lab::from_topology("minikube-legacy.yaml", "e2e-mk-change");
    let manifest = lab.state_dir.path().join("manifests/nginx-lb-legacy.yaml");
    let service = std::fs::read_to_string(&manifest).unwrap();
    let without_ip = service.replace("  loadBalancerIP: 198.51.100.1\n", "");
    assert_ne!(without_ip, service);
    std::fs::write(&manifest, &without_ip).unwrap();
    let topology = std::fs::read_to_string(&lab.topology).unwrap();
    let checks_at = topology.find("checks:").unwrap();
    let with_checks = |pool: &str, checks: &str| {
        let text = topology[..checks_at].replace(
            "default: { addresses: [198.51.100.0/24], avoid-buggy-ips: true }",
            pool,
        );
        std::fs::write(&lab.topology, format!("{text}checks:\n{checks}")).unwrap();
    };
    with_checks(
        "default: { addresses: [198.51.100.0/24] }",
        "  - { service: default/nginx, ip: 198.51.100.0 }\n  - { router: bird1, route: 198.51.100.0/32, nexthops: nodes }\n",
    );
    assert_eq!(
        lab.metallab(&["up", lab.topology_arg()]).status.code(),
        Some(0)
    );

    with_checks(
        "default: { addresses: [198.51.100.0/24], avoid-buggy-ips: true }",
        "  - { service: default/nginx, ip: 198.51.100.0, event: InvalidConfig }\n",
    );
    let diff = lab.metallab(&["diff", lab.topology_arg()]);
    assert_eq!(diff.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&diff.stdout).contains("~ MetalLB ConfigMap metallb-system/config")
    );
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(
        up.status.code(),
        Some(0),
        "the config is applied; MetalLB refuses it"
    );

    std::fs::write(&manifest, &service).unwrap();
    with_checks(
        "default: { addresses: [198.51.100.0/24], avoid-buggy-ips: true }",
        "  - { service: default/nginx, ip: 198.51.100.1 }\n  - { router: bird1, route: 198.51.100.1/32, nexthops: nodes }\n",
    );
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(
        up.status.code(),
        Some(0),
        "the Service's new address reaches the router"
    );
    lab.down_leaves_nothing(&lab.name);
}
