//! `status` and `routes` views from hand-built readings: tables plain and coloured, the
//! problem lines, cluster rows and the JSON shape.

use super::*;
use crate::state::Route;
use crate::state::cluster::{EventInfo, NodeInfo, PodInfo, ServiceInfo};
use crate::state::{BfdPeer, BfdState, Path, Session, SessionState};
use crate::test_support::{ip, net};
use crate::view::table::Painter;
use crate::view::table::strip_ansi;

const TOPOLOGY: &str = r#"
name: demo
networks:
  lan: { subnet: 10.233.1.0/24 }
cluster: { provider: kind, network: lan }
metallb: { asn: 64512 }
routers:
  frr1:
    kind: frr
    asn: 64500
    interfaces: { lan: { ip: 10.233.1.11 } }
    neighbors: [{ to: bird1, bfd: true }, { to: gobgp1 }, { to: nodes }]
  bird1:
    kind: bird
    asn: 64501
    interfaces: { lan: { ip: 10.233.1.12 } }
  gobgp1:
    kind: gobgp
    asn: 64502
    interfaces: { lan: { ip: 10.233.1.13 } }
  client:
    kind: linux
    interfaces: { lan: { ip: 10.233.1.20 } }
"#;

fn plan() -> Plan {
    let topology = crate::topology::load::parse_and_validate("demo.yaml", TOPOLOGY)
        .unwrap_or_else(|e| panic!("{}", e.render_plain()));
    crate::plan::build(&topology, "/labs/demo.yaml", std::path::Path::new("/labs"))
}

/// A session as the router at `local_as` sees it; the peer's AS follows from its address.
fn session(local_as: u32, peer: &str, state: SessionState, since: u64) -> Session {
    let remote_as = match peer {
        "10.233.1.11" => 64500,
        "10.233.1.12" => 64501,
        "10.233.1.13" => 64502,
        _ => 64512,
    };
    Session {
        peer: ip(peer),
        remote_as: Some(remote_as),
        local_as: Some(local_as),
        state,
        since_secs: Some(since),
        prefixes_received: (state == SessionState::Established).then_some(2),
        name: None,
        last_error: None,
    }
}

fn bfd(peer: &str, state: BfdState) -> BfdPeer {
    BfdPeer {
        peer: ip(peer),
        local: None,
        interface: None,
        state,
        since_secs: Some(30),
    }
}

fn answered(router: &str, state: RouterState) -> RouterReading {
    RouterReading {
        router: router.into(),
        container: ContainerCondition::Running,
        detached: vec![],
        state: Some(Ok(state)),
        raw: vec![],
    }
}

fn not_read(router: &str, container: ContainerCondition) -> RouterReading {
    RouterReading {
        router: router.into(),
        container,
        detached: vec![],
        state: None,
        raw: vec![],
    }
}

fn nodes() -> Vec<NodeInfo> {
    vec![
        NodeInfo {
            api_addresses: vec![],
            name: "demo-control-plane".into(),
            ip: Some(ip("10.233.1.2")),
            roles: vec!["control-plane".into()],
            ready: true,
        },
        NodeInfo {
            api_addresses: vec![],
            name: "demo-worker".into(),
            ip: Some(ip("10.233.1.3")),
            roles: vec![],
            ready: false,
        },
    ]
}

fn cluster() -> ClusterState {
    ClusterState {
        provider: "kind".into(),
        name: "demo".into(),
        nodes: nodes(),
        metallb_pods: vec![
            PodInfo {
                namespace: "metallb-system".into(),
                name: "controller-7d4c8764f4-x2x9k".into(),
                node: Some("demo-control-plane".into()),
                phase: "Running".into(),
                ready: true,
                restarts: 0,
            },
            PodInfo {
                namespace: "metallb-system".into(),
                name: "speaker-4hq7w".into(),
                node: Some("demo-worker".into()),
                phase: "Running".into(),
                ready: false,
                restarts: 2,
            },
        ],
        services: vec![
            ServiceInfo {
                namespace: "default".into(),
                name: "web".into(),
                ips: vec![ip("203.0.113.200")],
                ports: vec![80],
                pool: Some("doc-example".into()),
            },
            ServiceInfo {
                namespace: "default".into(),
                name: "second".into(),
                ips: vec![],
                ports: vec![8080, 8443],
                pool: None,
            },
        ],
        events: vec![EventInfo {
            namespace: "default".into(),
            object_kind: "Service".into(),
            object_name: "second".into(),
            reason: "AllocationFailed".into(),
            message: "no available IPs".into(),
            event_type: "Warning".into(),
            count: 3,
            last_seen: None,
        }],
    }
}

/// Everything up: frr1 established with bird1 (BFD up) and gobgp1.
fn healthy_readings() -> Vec<RouterReading> {
    let frr1 = RouterState {
        sessions: vec![
            session(64500, "10.233.1.12", SessionState::Established, 754),
            session(64500, "10.233.1.13", SessionState::Established, 3_800),
        ],
        bfd_peers: vec![bfd("10.233.1.12", BfdState::Up)],
        ..RouterState::default()
    };
    let bird1 = RouterState {
        sessions: vec![session(
            64501,
            "10.233.1.11",
            SessionState::Established,
            751,
        )],
        bfd_peers: vec![bfd("10.233.1.11", BfdState::Up)],
        ..RouterState::default()
    };
    let gobgp1 = RouterState {
        sessions: vec![session(
            64502,
            "10.233.1.11",
            SessionState::Established,
            3_790,
        )],
        ..RouterState::default()
    };
    vec![
        answered("frr1", frr1),
        answered("bird1", bird1),
        answered("gobgp1", gobgp1),
        not_read("client", ContainerCondition::Running),
    ]
}

/// bird1 stopped; frr1 sees it idle with a last error, BFD down, misses a node session and
/// has one the plan does not name; gobgp1's daemon does not answer; the client is gone.
fn broken_readings() -> Vec<RouterReading> {
    let mut idle = session(64500, "10.233.1.12", SessionState::Idle, 42);
    idle.last_error = Some("Hold Timer Expired".into());
    let frr1 = RouterState {
        sessions: vec![
            idle,
            session(64500, "10.233.1.13", SessionState::Established, 3_800),
            session(64500, "10.233.1.2", SessionState::Established, 600),
            session(64500, "10.233.1.99", SessionState::Active, 5),
        ],
        bfd_peers: vec![bfd("10.233.1.12", BfdState::Down)],
        ..RouterState::default()
    };
    vec![
        answered("frr1", frr1),
        not_read("bird1", ContainerCondition::Stopped("exited".into())),
        RouterReading {
            router: "gobgp1".into(),
            container: ContainerCondition::Running,
            detached: vec![],
            state: Some(Err(
                "gobgp `gobgp neighbor -j` failed with exit code 1: connection refused".into(),
            )),
            raw: vec![],
        },
        not_read("client", ContainerCondition::Missing),
    ]
}

fn all_networks() -> Vec<String> {
    vec!["metallab-demo-lan".into()]
}

/// Escape codes made visible, so a coloured snapshot can be read.
fn visible_escapes(text: &str) -> String {
    text.replace('\x1b', "\\e")
}

#[test]
fn status_of_a_healthy_lab() {
    let plan = plan();
    let status = build_status(&plan, &healthy_readings(), &all_networks(), Ok(None));
    assert!(all_problems(&status).is_empty());
    insta::assert_snapshot!(render_status(&status, Painter::PLAIN));
}

#[test]
fn status_names_a_router_cut_from_its_network() {
    let plan = plan();
    let mut readings = healthy_readings();
    let frr1 = readings.iter_mut().find(|r| r.router == "frr1").unwrap();
    frr1.detached = vec!["lan".into()];
    let status = build_status(&plan, &readings, &all_networks(), Ok(None));
    let problems: Vec<(&str, &str)> = all_problems(&status)
        .into_iter()
        .map(|(scope, p)| (scope, p.message.as_str()))
        .collect();
    assert_eq!(
        problems,
        [(
            "frr1",
            "not attached to network lan (metallab-demo-lan), where it should have 10.233.1.11; `metallab up` reconnects it"
        )]
    );
}

#[test]
fn status_names_every_problem_in_plain_words() {
    let plan = plan();
    let status = build_status(&plan, &broken_readings(), &[], Ok(Some(cluster())));
    let plain = render_status(&status, Painter::PLAIN);
    insta::assert_snapshot!("status_with_problems_plain", plain);
    let colored = render_status(&status, Painter::COLOR);
    assert_eq!(strip_ansi(&colored), plain, "colour changes no alignment");
    insta::assert_snapshot!("status_with_problems_colored", visible_escapes(&colored));
}

#[test]
fn status_json_has_sessions_problems_and_cluster() {
    let plan = plan();
    let status = build_status(&plan, &broken_readings(), &[], Ok(Some(cluster())));
    insta::assert_json_snapshot!(status);
}

#[test]
fn node_sessions_are_expected_only_when_the_cluster_is_known() {
    let plan = plan();
    let without = build_status(&plan, &healthy_readings(), &all_networks(), Ok(None));
    let frr1 = |s: &crate::view::LabView| s.routers[0].problems.clone();
    assert_eq!(frr1(&without), vec![]);
    let with = build_status(
        &plan,
        &healthy_readings(),
        &all_networks(),
        Ok(Some(cluster())),
    );
    let messages: Vec<String> = frr1(&with).into_iter().map(|p| p.message).collect();
    assert_eq!(
        messages,
        [
            "expected peer node demo-control-plane (10.233.1.2) missing: the daemon has no session with it",
            "expected peer node demo-worker (10.233.1.3) missing: the daemon has no session with it"
        ]
    );
}

#[test]
fn container_conditions_come_from_the_container_list() {
    let info = |name: &str, state: &str| ContainerInfo {
        name: name.into(),
        id: "id".into(),
        image: "img".into(),
        state: state.into(),
        running: state == "running",
        labels: Default::default(),
        networks: Default::default(),
    };
    let list = [info("a", "running"), info("b", "exited"), info("c", "")];
    assert_eq!(container_condition(&list, "a"), ContainerCondition::Running);
    assert_eq!(
        container_condition(&list, "b"),
        ContainerCondition::Stopped("exited".into())
    );
    assert_eq!(
        container_condition(&list, "c"),
        ContainerCondition::Stopped("stopped".into())
    );
    assert_eq!(container_condition(&list, "d"), ContainerCondition::Missing);
}

fn path(next_hop: Option<&str>, best: bool, as_path: &[u32]) -> Path {
    Path {
        next_hop: next_hop.map(ip),
        best,
        local_pref: Some(100),
        med: None,
        as_path: as_path.to_vec(),
        communities: if best {
            vec!["64500:100".into()]
        } else {
            vec![]
        },
        origin: None,
        from_peer: next_hop.map(ip),
        local: next_hop.is_none(),
    }
}

fn frr1_routes() -> RouterState {
    RouterState {
        routes: vec![
            Route {
                prefix: net("192.0.2.0/24"),
                paths: vec![path(None, true, &[])],
            },
            Route {
                prefix: net("198.51.100.0/24"),
                paths: vec![
                    path(Some("10.233.1.12"), true, &[64501]),
                    path(Some("10.233.1.13"), false, &[64502, 64501]),
                ],
            },
            Route {
                prefix: net("203.0.113.200/32"),
                paths: vec![
                    path(Some("10.233.1.2"), true, &[64512]),
                    path(Some("10.233.1.3"), false, &[64512]),
                    path(Some("10.233.1.250"), false, &[64999]),
                ],
            },
        ],
        ..RouterState::default()
    }
}

/// The lab view `routes` reads: frr1's table, bird1 empty, gobgp1 stopped; the cluster's
/// nodes known from the plan alone.
fn routes_view() -> crate::view::LabView {
    let mut plan = plan();
    plan.cluster_nodes = nodes()
        .into_iter()
        .map(|n| crate::plan::model::ClusterNode {
            name: n.name,
            ip: n.ip.unwrap(),
        })
        .collect();
    let readings = [
        answered("frr1", frr1_routes()),
        answered("bird1", RouterState::default()),
        not_read("gobgp1", ContainerCondition::Stopped("exited".into())),
    ];
    build_status(&plan, &readings, &all_networks(), Ok(None))
}

#[test]
fn routes_name_router_and_node_next_hops() {
    let view = routes_view();
    let views: Vec<RouterRoutes> = router_routes(&view, None)
        .into_iter()
        .filter(|r| ["frr1", "bird1", "gobgp1"].contains(&r.router))
        .collect();
    assert_eq!(views.len(), 3);
    let plain = render_routes(&views, Painter::PLAIN);
    insta::assert_snapshot!("routes_plain", plain);
    let colored = render_routes(&views, Painter::COLOR);
    assert_eq!(strip_ansi(&colored), plain);
    insta::assert_snapshot!("routes_colored", visible_escapes(&colored));
}

#[test]
fn routes_json_names_each_next_hop_in_its_path() {
    let view = routes_view();
    let routes = router_routes(&view, Some("frr1"));
    let json = serde_json::to_value(&routes[0]).unwrap();
    let path = |prefix: &str, i: usize| {
        let route = json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["prefix"] == prefix)
            .unwrap();
        route["paths"][i].clone()
    };
    assert_eq!(path("198.51.100.0/24", 0)["next_hop_name"], "bird1");
    assert_eq!(path("198.51.100.0/24", 1)["next_hop_name"], "gobgp1");
    let node = path("203.0.113.200/32", 0);
    assert_eq!(
        (
            node["next_hop_name"].clone(),
            node["next_hop_is_node"].clone()
        ),
        (
            serde_json::json!("demo-control-plane"),
            serde_json::json!(true)
        )
    );
    let gobgp = router_routes(&view, Some("gobgp1"));
    assert_eq!(
        serde_json::to_value(&gobgp[0]).unwrap()["error"],
        "container metallab-demo-gobgp1 is stopped (exited); `metallab up` starts it again"
    );
}

#[test]
fn an_unreachable_cluster_is_a_problem_and_an_error_in_json_not_no_cluster() {
    let plan = plan();
    let error = "cannot reach the cluster: cannot reach the Kubernetes API server at https://127.0.0.1:6443: connection refused";
    let status = build_status(
        &plan,
        &healthy_readings(),
        &all_networks(),
        Err(error.to_string()),
    );
    let json = serde_json::to_value(&status).unwrap();
    // Not "no cluster": the error says why it could not be read.
    assert_eq!(json["cluster"], serde_json::Value::Null);
    assert_eq!(json["cluster_error"], serde_json::json!(error));
    let problems: Vec<(&str, &str)> = all_problems(&status)
        .into_iter()
        .map(|(scope, p)| (scope, p.message.as_str()))
        .collect();
    assert_eq!(problems, [("cluster", error)]);
    // Without a cluster: null, and nothing wrong.
    let none = build_status(&plan, &healthy_readings(), &all_networks(), Ok(None));
    assert_eq!(
        serde_json::to_value(&none).unwrap()["cluster"],
        serde_json::Value::Null
    );
}
