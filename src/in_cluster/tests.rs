//! In-cluster routers from topology to manifests: the plan gives them their ClusterIP,
//! the manifests and the pod's network setup are rendered from the plan, and validation
//! keeps them to what works through a Service.

use super::*;
use crate::plan::{PeerRef, Plan, PlannedRouter, PlannedSession};
use crate::test_support::ip;
use crate::topology::load::{parse, parse_and_validate};
use serde_json::Value;
use std::net::IpAddr;
use std::path::Path;

/// The old MetalLB tutorial lab: a BIRD and a second router in the cluster, peering with
/// every node; here the second one is FRR, in another AS, with a password and HTTP.
const TUTORIAL: &str = r#"
name: tutorial
cluster: { provider: minikube, workers: 1 }
routers:
  bird:
    kind: bird
    asn: 64512
    placement: cluster
    neighbors: [ { to: nodes, passive: true, multihop: true } ]
  frr:
    kind: frr
    asn: 64513
    placement: cluster
    neighbors: [ { to: nodes, asn: 64512, passive: true, multihop: 2, password: s3cret } ]
    announce: [ 192.0.2.0/24 ]
    http-server: 8080
metallb:
  asn: 64512
  peers: [ { router: bird }, { router: frr, multihop: true, password: s3cret } ]
  pools: { tutorial: { addresses: [ 198.51.100.0/24 ] } }
"#;

const NODES: [(&str, &str); 2] = [
    ("tutorial", "192.168.49.2"),
    ("tutorial-m02", "192.168.49.3"),
];

fn plan(text: &str) -> Plan {
    let topology =
        parse_and_validate("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    crate::plan::build(&topology, "/labs/tutorial.yaml", Path::new("/labs"))
}

/// The router with `to: nodes` expanded into one session per node, as the engine does
/// once the cluster is up.
fn with_nodes(router: &PlannedRouter) -> PlannedRouter {
    let mut router = router.clone();
    for template in &router.node_sessions {
        for (name, address) in NODES {
            router.sessions.push(PlannedSession {
                peer: PeerRef::Node(name.to_string()),
                id: format!("node_{}", address.replace('.', "_")),
                local_address: template.local_address,
                peer_address: ip(address),
                local_asn: template.local_asn,
                peer_asn: template.peer_asn,
                multihop: template.multihop,
                bfd: template.bfd,
                password: template.password.clone(),
                passive: template.passive,
                hold_time: template.hold_time,
            });
        }
    }
    router
}

fn tutorial_router(name: &str) -> PlannedRouter {
    with_nodes(plan(TUTORIAL).router(name).unwrap())
}

#[test]
fn the_plan_gives_an_in_cluster_router_its_cluster_ip_as_its_address() {
    let plan = plan(TUTORIAL);
    let bird = plan.router("bird").unwrap();
    let cluster_ip = service_ip(bird).unwrap();
    assert_eq!(bird.interfaces.len(), 1);
    assert_eq!(bird.interfaces[0].network, SERVICE_NETWORK);
    assert_eq!(bird.interfaces[0].prefix_len, 32);
    assert_eq!(IpAddr::V4(bird.router_id), cluster_ip);
    assert_eq!(bird.node_sessions[0].local_address, cluster_ip);
    assert!(bird.node_sessions[0].passive);
    assert_eq!(bird.node_sessions[0].multihop, Some(255));
    let frr = plan.router("frr").unwrap();
    assert_ne!(service_ip(frr), Some(cluster_ip));
    assert_eq!(
        service_ip(bird),
        Some(IpAddr::V4(
            crate::plan::service_address::service_addresses("tutorial", &["bird", "frr"]).unwrap()
                [0]
        ))
    );
}

#[test]
fn docker_routers_keep_their_plan_unchanged() {
    let plan = plan(
        "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\nrouters:\n  r1: { kind: frr, asn: 64500, interfaces: { lan: {} } }\n",
    );
    let r1 = plan.router("r1").unwrap();
    assert_eq!(r1.placement, crate::topology::model::Placement::Docker);
    assert_eq!(r1.interfaces[0].network, "lan");
    assert_eq!(service_ip(r1), None);
    // The field stays out of plan files of Docker-only labs.
    let yaml = serde_saphyr::to_string(r1).unwrap();
    assert!(!yaml.contains("placement"), "{yaml}");
}

#[test]
fn manifests_of_a_bird_router() {
    let bird = tutorial_router("bird");
    let manifests = router_manifests(
        "tutorial",
        "/labs/tutorial.yaml",
        &bird,
        "metallab/bird:0123abcd",
    )
    .unwrap();
    insta::assert_yaml_snapshot!(manifests);
}

#[test]
fn manifests_of_an_frr_router() {
    let frr = tutorial_router("frr");
    let manifests = router_manifests(
        "tutorial",
        "/labs/tutorial.yaml",
        &frr,
        "metallab/frr:4567cdef",
    )
    .unwrap();
    insta::assert_yaml_snapshot!(manifests);
}

fn kinds(manifests: &[Value]) -> Vec<String> {
    manifests
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["kind"].as_str().unwrap(),
                m["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_lab_applies_its_namespace_once_then_each_router() {
    let mut plan = plan(TUTORIAL);
    plan.routers = plan.routers.iter().map(with_nodes).collect();
    let manifests = lab_manifests(&plan, |r| format!("metallab/{}:hash", r.kind)).unwrap();
    assert_eq!(
        kinds(&manifests),
        [
            "Namespace/metallab-tutorial",
            "ConfigMap/bird-config",
            "Service/bird",
            "Deployment/bird",
            "ConfigMap/frr-config",
            "Service/frr",
            "Deployment/frr",
        ]
    );
    assert_eq!(
        manifests[6]["spec"]["template"]["spec"]["containers"][0]["image"],
        "metallab/frr:hash"
    );
}

#[test]
fn a_lab_without_in_cluster_routers_has_no_manifests() {
    let plan = plan(
        "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\nrouters:\n  r1: { kind: frr, asn: 64500, interfaces: { lan: {} } }\n",
    );
    assert!(lab_manifests(&plan, |_| unreachable!()).unwrap().is_empty());
    let err = router_manifests("lab", "x", plan.router("r1").unwrap(), "img").unwrap_err();
    assert!(matches!(err, ManifestError::NotInCluster { .. }), "{err}");
}

#[test]
fn a_config_change_changes_the_pod_template() {
    let bird = tutorial_router("bird");
    let mut other = bird.clone();
    other.announce.push("203.0.113.0/24".parse().unwrap());
    let hash = |r: &PlannedRouter| {
        let m = router_manifests("tutorial", "x", r, "img").unwrap();
        m[3]["spec"]["template"]["metadata"]["annotations"][manifests::CONFIG_HASH_ANNOTATION]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(hash(&bird), hash(&other));
    assert_eq!(hash(&bird), hash(&bird.clone()));
}

#[test]
fn config_paths_become_config_map_keys() {
    use manifests::config_key;
    assert_eq!(
        config_key("/etc/frr/frr.conf").as_deref(),
        Some("etc_frr_frr.conf")
    );
    assert_eq!(
        config_key("/var/www/metallab/index.html").as_deref(),
        Some("var_www_metallab_index.html")
    );
    assert_eq!(
        config_key("/etc/odd name+1").as_deref(),
        Some("etc_odd_name_1")
    );
    assert_eq!(config_key("/"), None);
    assert_eq!(config_key("/.."), None);
}

#[test]
fn namespaces_stay_valid_dns_labels() {
    assert_eq!(namespace("tutorial"), "metallab-tutorial");
    let long = "a-lab-name-that-is-long-enough-to-push-the-namespace-past-63";
    let ns = namespace(long);
    assert!(ns.len() <= 63, "{ns} has {} characters", ns.len());
    assert!(ns.starts_with("metallab-a-lab-name"), "{ns}");
    assert_ne!(
        ns,
        namespace(&format!("{long}x")),
        "the hash keeps cut names apart"
    );
}

#[test]
fn network_setup_of_the_bird_router() {
    let bird = tutorial_router("bird");
    let command = start::network_setup_command(&bird).unwrap();
    assert_eq!(command[..2], ["sh", "-c"]);
    insta::assert_snapshot!(command[2]);
}

#[test]
fn start_commands_are_the_setup_then_the_drivers() {
    let frr = tutorial_router("frr");
    let commands = start::start_commands(&frr).unwrap();
    assert_eq!(commands[0], start::network_setup_command(&frr).unwrap());
    assert_eq!(commands[1..], crate::drivers::start_commands(&frr)[..]);
}

// --- validation ---------------------------------------------------------------------

fn validation_errors(text: &str) -> Vec<(String, String)> {
    let topology = parse("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    crate::topology::validate::validate(&topology)
        .into_iter()
        .map(|e| (e.path, e.message))
        .collect()
}

fn error_paths(text: &str) -> Vec<String> {
    validation_errors(text)
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn the_tutorial_lab_is_valid() {
    assert_eq!(validation_errors(TUTORIAL), []);
}

#[test]
fn an_in_cluster_router_needs_a_cluster_and_a_bgp_kind() {
    let text = "name: lab\nrouters:\n  bird: { kind: bird, asn: 64512, placement: cluster }\n  host: { kind: linux, placement: cluster }\n";
    assert_eq!(
        validation_errors(text),
        [
            (
                "routers.bird.placement".to_string(),
                "`placement: cluster` needs a cluster".to_string()
            ),
            (
                "routers.host.placement".to_string(),
                "`placement: cluster` needs a cluster".to_string()
            ),
            (
                "routers.host.placement".to_string(),
                "a linux router cannot run in the cluster".to_string()
            ),
        ]
    );
}

#[test]
fn an_in_cluster_router_has_no_interfaces_forwarding_or_routes() {
    let text = "\
name: lab
cluster: { provider: kind, network: kind }
networks:
  kind: { subnet: 10.210.1.0/24 }
routers:
  2bird:
    kind: bird
    asn: 64512
    placement: cluster
    interfaces: { kind: {} }
    forward: true
    routes: [ { to: 10.210.2.0/24, via: 10.210.1.1 } ]
";
    assert_eq!(
        error_paths(text),
        [
            "routers.2bird",
            "routers.2bird.interfaces",
            "routers.2bird.forward",
            "routers.2bird.routes",
        ]
    );
}

#[test]
fn node_sessions_of_an_in_cluster_router_are_passive_multihop_and_without_bfd() {
    let text = "\
name: lab
cluster: { provider: minikube }
routers:
  frr:
    kind: frr
    asn: 64512
    placement: cluster
    neighbors: [ { to: nodes, multihop: 1, bfd: true } ]
metallb: { asn: 64512 }
";
    assert_eq!(
        validation_errors(text),
        [
            (
                "routers.frr.neighbors[0]".to_string(),
                "the nodes' session with an in-cluster router must be passive".to_string()
            ),
            (
                "routers.frr.neighbors[0].multihop".to_string(),
                "the nodes' session with an in-cluster router needs `multihop`".to_string()
            ),
            (
                "routers.frr.neighbors[0].bfd".to_string(),
                "BFD does not work with an in-cluster router".to_string()
            ),
        ]
    );
}

#[test]
fn in_cluster_routers_peer_with_the_nodes_only() {
    let text = "\
name: lab
cluster: { provider: kind, network: kind }
networks:
  kind: { subnet: 10.210.1.0/24 }
routers:
  inside:
    kind: bird
    asn: 64512
    placement: cluster
    neighbors: [ { to: outside, multihop: true, passive: true } ]
  outside:
    kind: frr
    asn: 64513
    interfaces: { kind: {} }
    neighbors: [ { to: inside, multihop: true } ]
";
    let errors = validation_errors(text);
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert!(
        paths.contains(&"routers.inside.neighbors[0].to"),
        "{errors:?}"
    );
    assert!(
        paths.contains(&"routers.outside.neighbors[0].to"),
        "{errors:?}"
    );
    let (_, message) = errors
        .iter()
        .find(|(p, _)| p == "routers.outside.neighbors[0].to")
        .unwrap();
    assert_eq!(
        message,
        "`inside` runs in the cluster: `outside` cannot reach it"
    );
}

#[test]
fn metallb_peers_of_an_in_cluster_router_use_multihop_for_ebgp_and_no_bfd() {
    let text = "\
name: lab
cluster: { provider: minikube }
routers:
  frr:
    kind: frr
    asn: 64513
    placement: cluster
    neighbors: [ { to: nodes, asn: 64512, multihop: true, passive: true } ]
metallb:
  asn: 64512
  peers: [ { router: frr, bfd: fast, port: 1179 } ]
  bfd-profiles: { fast: {} }
";
    assert_eq!(
        error_paths(text),
        [
            // In-cluster routers have no BFD; MetalLB's side also disagrees with the router.
            "metallb.peers[0].bfd",
            "metallb.peers[0].bfd",
            "metallb.peers[0].multihop",
            "metallb.peers[0].port",
        ]
    );
}
