//! Views of labs read from recorded router output (tests/fixtures/) and of a lab with a
//! cluster, rendered as short text digests (easy to review) and, for the node lab, as the
//! full `/api/state` JSON.

use super::*;
use crate::drivers::query::{assemble, state_queries};
use crate::parse::fixture_body;
use crate::plan::Plan;
use crate::state::ExecOutput;
use crate::state::cluster::NodeInfo;
use crate::state::{ClusterState, Path, Route, RouterState, Session};
use crate::test_support::{ip, net};
use crate::topology::load::parse_and_validate;
use crate::topology::model::RouterKind;
use std::collections::HashMap;
use std::fmt::Write;

fn plan(text: &str) -> Plan {
    let topology =
        parse_and_validate("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    crate::plan::build(&topology, "/labs/lab.yaml", std::path::Path::new("/labs"))
}

/// The lab the fixtures were recorded in (tests/fixtures/README.md), as a topology.
const RECORDED_LAB: &str = "\
name: recorded
networks:
  lan: { subnet: 10.211.1.0/24 }
routers:
  frr1:
    kind: frr
    asn: 64500
    interfaces: { lan: { ip: 10.211.1.11 } }
    neighbors:
      - { to: frr2 }
      - { to: bird1, bfd: true }
      - { to: gobgp1 }
      - { to: 10.211.1.99, asn: 64599 }
  frr2:
    kind: frr
    asn: 64500
    interfaces: { lan: { ip: 10.211.1.12 } }
    neighbors: [{ to: bird1, bfd: true }]
  bird1:
    kind: bird
    asn: 64501
    interfaces: { lan: { ip: 10.211.1.21 } }
    neighbors: [{ to: gobgp1 }, { to: 10.211.1.99, asn: 64599 }]
  gobgp1:
    kind: gobgp
    asn: 64502
    interfaces: { lan: { ip: 10.211.1.31 } }
    neighbors: [{ to: 10.211.1.99, asn: 64599 }]
";

/// One recorded command: stdout fixture, stderr fixture, exit code (exit-codes.tsv).
type Recorded = (&'static str, Option<&'static str>, i64);

/// A router read from recorded output, exactly as `DockerProbe::read_with_raw` would
/// assemble it: the kind's queries in order, one recording each.
fn recorded(kind: RouterKind, outputs: &[Recorded]) -> RouterReading {
    let queries = state_queries(kind);
    assert_eq!(queries.len(), outputs.len(), "one recording per query");
    let mut parts = vec![];
    let mut raw = vec![];
    for (q, (stdout, stderr, exit_code)) in queries.iter().zip(outputs) {
        let out = ExecOutput {
            exit_code: *exit_code,
            stdout: fixture_body(stdout).to_string(),
            stderr: stderr
                .map(|s| fixture_body(s).to_string())
                .unwrap_or_default(),
        };
        raw.push(RawOutput {
            command: q.command_line(),
            output: format!("{}{}", out.stdout, out.stderr),
        });
        parts.push((q.clone(), out));
    }
    assemble(kind, &parts)
        .map(|state| (state, raw))
        .map_err(|e| e.to_string())
}

/// A recorded output of a kind (`fixture!("frr", "…")`: `src/kinds/frr/fixtures/…`).
macro_rules! fixture {
    ($kind:literal, $path:literal) => {
        include_str!(concat!("../kinds/", $kind, "/fixtures/", $path))
    };
    // The kernel table, read alike on every kind: `parse/fixtures/…`.
    ($path:literal) => {
        include_str!(concat!("../parse/fixtures/", $path))
    };
}

fn steady_frr1() -> RouterReading {
    recorded(
        crate::kinds::frr::KIND,
        &[
            (fixture!("frr", "show-bgp-neighbors-json.txt"), None, 0),
            (
                fixture!("frr", "show-bgp-ipv4-unicast-json-detail.txt"),
                None,
                0,
            ),
            (fixture!("frr", "show-bfd-peers-json.txt"), None, 0),
            (fixture!("frr1-ip-route.txt"), None, 0),
        ],
    )
}

fn steady_frr2() -> RouterReading {
    recorded(
        crate::kinds::frr::KIND,
        &[
            (fixture!("frr", "frr2-show-bgp-neighbors-json.txt"), None, 0),
            (
                fixture!("frr", "frr2-show-bgp-ipv4-unicast-json-detail.txt"),
                None,
                0,
            ),
            (fixture!("frr", "frr2-show-bfd-peers-json.txt"), None, 0),
            (fixture!("frr1-ip-route.txt"), None, 0),
        ],
    )
}

fn steady_bird1() -> RouterReading {
    recorded(
        crate::kinds::bird::KIND,
        &[
            (fixture!("bird", "show-protocols-all.txt"), None, 0),
            (fixture!("bird", "show-route-all.txt"), None, 0),
            (fixture!("bird", "show-bfd-sessions.txt"), None, 0),
            (fixture!("bird1-ip-route.txt"), None, 0),
        ],
    )
}

fn steady_gobgp1() -> RouterReading {
    recorded(
        crate::kinds::gobgp::KIND,
        &[
            (fixture!("gobgp", "neighbor.txt"), None, 0),
            (fixture!("gobgp", "global-rib-ipv4.txt"), None, 0),
            (fixture!("bird1-ip-route.txt"), None, 0),
        ],
    )
}

fn reading(routers: Vec<(&str, RouterReading)>) -> LabReading {
    LabReading {
        routers: routers
            .into_iter()
            .map(|(n, r)| (n.to_string(), r))
            .collect::<HashMap<_, _>>(),
        read_at_ms: 1_795_240_590_000,
        ..LabReading::default()
    }
}

/// The view as a person reads the page: summaries, sessions, routes, BFD, edges.
fn digest(v: &LabView) -> String {
    let mut out = format!("{}\n", v.summary);
    if let Some(c) = &v.cluster {
        writeln!(out, "cluster {} ({}): {}", c.name, c.provider, c.summary).unwrap();
        for s in &c.services {
            let ips: Vec<String> = s.ips.iter().map(|i| i.to_string()).collect();
            writeln!(
                out,
                "  service {}/{} [{}]",
                s.namespace,
                s.name,
                ips.join(" ")
            )
            .unwrap();
        }
    }
    for n in &v.nodes {
        writeln!(
            out,
            "node {} {:?} on {:?} {:?}",
            n.name, n.ip, n.network, n.health
        )
        .unwrap();
    }
    for r in &v.routers {
        writeln!(out, "{} [{:?}] {}", r.name, r.health, r.summary).unwrap();
        for s in &r.sessions {
            writeln!(
                out,
                "  session {} ({:?}) {} AS{} {} -> {:?}{}{}",
                s.peer,
                s.peer_role,
                s.peer_address,
                s.remote_as.map(|a| a.to_string()).unwrap_or("?".into()),
                s.state,
                s.status,
                s.prefixes_received
                    .map(|p| format!(", {p} received"))
                    .unwrap_or_default(),
                if s.planned { "" } else { " (not planned)" }
            )
            .unwrap();
        }
        for route in &r.routes {
            let paths: Vec<String> = route
                .paths
                .iter()
                .map(|p| {
                    format!(
                        "{}{}{}{}",
                        if p.best { "*" } else { "" },
                        p.next_hop.map(|i| i.to_string()).unwrap_or("local".into()),
                        p.next_hop_name
                            .as_ref()
                            .map(|n| format!(" ({n})"))
                            .unwrap_or_default(),
                        if p.next_hop_is_node { " [node]" } else { "" },
                    )
                })
                .collect();
            writeln!(
                out,
                "  route {}{} via {}",
                route.prefix,
                if route.local { " (local)" } else { "" },
                paths.join(", ")
            )
            .unwrap();
        }
        for b in &r.bfd_peers {
            writeln!(out, "  bfd {} {} {}", b.peer, b.peer_address, b.state).unwrap();
        }
    }
    for e in &v.sessions {
        let ends: Vec<String> = e
            .ends
            .iter()
            .map(|x| format!("{}: {}", x.router, x.state))
            .collect();
        writeln!(out, "edge {} {:?} ({})", e.id, e.status, ends.join(", ")).unwrap();
    }
    out
}

#[test]
fn recorded_lab_in_steady_state() {
    let lab = plan(RECORDED_LAB);
    let view = lab_view(
        &lab,
        &reading(vec![
            ("frr1", steady_frr1()),
            ("frr2", steady_frr2()),
            ("bird1", steady_bird1()),
            ("gobgp1", steady_gobgp1()),
        ]),
    );
    // Every router's one neighbor where nobody is (10.211.1.99) keeps it degraded: the
    // recordings were made that way on purpose.
    assert!(!view.healthy);
    let frr1 = &view.routers[0];
    assert_eq!(frr1.health, Health::Degraded);
    assert_eq!(frr1.raw.len(), 4);
    assert_eq!(frr1.raw[0].command, "vtysh -c 'show bgp neighbors json'");
    let bird = frr1
        .sessions
        .iter()
        .find(|s| s.peer == "bird1")
        .expect("peer named from the plan");
    assert_eq!(
        (bird.status, bird.peer_role),
        (LinkStatus::Established, Role::Router)
    );
    insta::assert_snapshot!(digest(&view));
}

#[test]
fn recorded_lab_degraded_with_two_routers_unreadable() {
    // The recorded degraded moment: bird1 killed, FRR stopped on frr2, gobgp1 disabled
    // its neighbor frr1.
    let lab = plan(RECORDED_LAB);
    let frr1 = recorded(
        crate::kinds::frr::KIND,
        &[
            (
                fixture!("frr", "degraded-show-bgp-neighbors-json.txt"),
                None,
                0,
            ),
            (
                fixture!("frr", "degraded-show-bgp-ipv4-unicast-json-detail.txt"),
                None,
                0,
            ),
            (fixture!("frr", "degraded-show-bfd-peers-json.txt"), None, 0),
            (fixture!("degraded-frr1-ip-route.txt"), None, 0),
        ],
    );
    let frr2 = recorded(
        crate::kinds::frr::KIND,
        &[
            (
                fixture!("frr", "error-no-daemons-show-bgp-neighbors-json.txt"),
                Some(fixture!(
                    "frr",
                    "error-no-daemons-show-bgp-neighbors-json.stderr.txt"
                )),
                1,
            ),
            (
                fixture!(
                    "frr",
                    "error-no-daemons-show-bgp-ipv4-unicast-json-detail.txt"
                ),
                Some(fixture!(
                    "frr",
                    "error-no-daemons-show-bgp-ipv4-unicast-json-detail.stderr.txt"
                )),
                1,
            ),
            (
                fixture!("frr", "error-no-daemons-show-bfd-peers-json.txt"),
                Some(fixture!(
                    "frr",
                    "error-no-daemons-show-bfd-peers-json.stderr.txt"
                )),
                1,
            ),
            (fixture!("frr1-ip-route.txt"), None, 0),
        ],
    );
    let bird1 = recorded(
        crate::kinds::bird::KIND,
        &[
            (
                fixture!("bird", "error-killed-show-protocols-all.txt"),
                Some(fixture!(
                    "bird",
                    "error-killed-show-protocols-all.stderr.txt"
                )),
                1,
            ),
            (
                fixture!("bird", "error-killed-show-route-all.txt"),
                Some(fixture!("bird", "error-killed-show-route-all.stderr.txt")),
                1,
            ),
            (
                fixture!("bird", "error-killed-show-bfd-sessions.txt"),
                Some(fixture!(
                    "bird",
                    "error-killed-show-bfd-sessions.stderr.txt"
                )),
                1,
            ),
            (fixture!("bird1-ip-route.txt"), None, 0),
        ],
    );
    let gobgp1 = recorded(
        crate::kinds::gobgp::KIND,
        &[
            (fixture!("gobgp", "degraded-neighbor.txt"), None, 0),
            (fixture!("gobgp", "degraded-global-rib-ipv4.txt"), None, 0),
            (fixture!("bird1-ip-route.txt"), None, 0),
        ],
    );
    assert!(
        frr2.is_err() && bird1.is_err(),
        "recorded errors stay errors"
    );
    let view = lab_view(
        &lab,
        &reading(vec![
            ("frr1", frr1),
            ("frr2", frr2),
            ("bird1", bird1),
            ("gobgp1", gobgp1),
        ]),
    );
    let bird = view.routers.iter().find(|r| r.name == "bird1").unwrap();
    assert_eq!(bird.health, Health::Unreadable);
    assert!(
        bird.summary.starts_with("cannot read state: "),
        "{}",
        bird.summary
    );
    assert!(
        bird.sessions
            .iter()
            .all(|s| s.status == LinkStatus::Unknown),
        "an unreadable router's own sessions are unknown, not down"
    );
    let frr1_bird1 = view
        .sessions
        .iter()
        .find(|e| e.id == "router:bird1~router:frr1")
        .unwrap();
    assert_ne!(
        frr1_bird1.status,
        LinkStatus::Established,
        "frr1's end decides: it lost bird1"
    );
    insta::assert_snapshot!(digest(&view));
}

#[test]
fn a_router_whose_state_cannot_be_read() {
    let lab = plan(RECORDED_LAB);
    let view = lab_view(
        &lab,
        &reading(vec![
            ("frr1", steady_frr1()),
            ("frr2", steady_frr2()),
            ("bird1", steady_bird1()),
            (
                "gobgp1",
                Err(
                    "gobgp1: container metallab-recorded-gobgp1 is not running\n(exit 137)"
                        .to_string(),
                ),
            ),
        ]),
    );
    let gobgp = &view.routers[3];
    assert_eq!(gobgp.health, Health::Unreadable);
    assert_eq!(
        gobgp.summary,
        "cannot read state: gobgp1: container metallab-recorded-gobgp1 is not running"
    );
    assert_eq!(
        gobgp.error.as_deref(),
        Some("gobgp1: container metallab-recorded-gobgp1 is not running\n(exit 137)"),
        "the whole error stays available"
    );
    assert!(gobgp.raw.is_empty() && gobgp.routes.is_empty());
    // Its planned sessions (its own neighbors, then those declared by peers) are still
    // listed, as unknown.
    let peers: Vec<(&str, &str)> = gobgp
        .sessions
        .iter()
        .map(|s| (s.peer.as_str(), s.state.as_str()))
        .collect();
    assert_eq!(
        peers,
        [
            ("10.211.1.99", "unknown"),
            ("frr1", "unknown"),
            ("bird1", "unknown")
        ]
    );
    // Its peers (recorded while gobgp1 ran) still say established: that is what the edge shows.
    let edge = view
        .sessions
        .iter()
        .find(|e| e.id == "router:frr1~router:gobgp1")
        .unwrap();
    assert_eq!(edge.status, LinkStatus::Established);
    assert!(
        view.summary.ends_with("; cannot read gobgp1"),
        "{}",
        view.summary
    );
    let device = view
        .diagram
        .devices
        .iter()
        .find(|d| d.id == "router:gobgp1")
        .unwrap();
    assert_eq!(device.health, Health::Unreadable);
}

#[test]
fn routers_not_read_yet_are_unknown() {
    let lab = plan(RECORDED_LAB);
    let view = lab_view(&lab, &reading(vec![]));
    assert!(view.routers.iter().all(|r| r.health == Health::Unknown));
    assert!(view.routers.iter().all(|r| r.summary == "not read yet"));
    assert!(
        view.sessions
            .iter()
            .all(|e| e.status == LinkStatus::Unknown)
    );
    assert!(!view.healthy);
}

/// A kind cluster of three nodes with MetalLB, an FRR router peering with every node, and
/// a client host.
const NODE_LAB: &str = "\
name: metallb
cluster: { network: kind }
networks:
  kind: { subnet: 10.232.1.0/24 }
routers:
  frr1:
    kind: frr
    asn: 64512
    interfaces: { kind: { ip: 10.232.1.11 } }
    neighbors: [{ to: nodes }]
  client:
    kind: linux
    interfaces: { kind: { ip: 10.232.1.20 } }
metallb:
  asn: 64500
";

const NODES: [(&str, &str); 3] = [
    ("kind-control-plane", "10.232.1.2"),
    ("kind-worker", "10.232.1.3"),
    ("kind-worker2", "10.232.1.4"),
];

fn cluster() -> ClusterState {
    ClusterState {
        provider: "kind".into(),
        name: "metallb".into(),
        nodes: NODES
            .iter()
            .map(|(name, addr)| NodeInfo {
                api_addresses: vec![],
                name: name.to_string(),
                ip: Some(ip(addr)),
                roles: vec![if name.ends_with("control-plane") {
                    "control-plane".into()
                } else {
                    "worker".into()
                }],
                ready: true,
            })
            .collect(),
        metallb_pods: vec![
            PodInfo {
                namespace: "metallb-system".into(),
                name: "controller-7d4c6d8d9b-x2x4q".into(),
                node: Some("kind-worker".into()),
                phase: "Running".into(),
                ready: true,
                restarts: 0,
            },
            PodInfo {
                namespace: "metallb-system".into(),
                name: "speaker-5wq8l".into(),
                node: Some("kind-worker2".into()),
                phase: "Running".into(),
                ready: true,
                restarts: 3,
            },
        ],
        services: vec![
            ServiceInfo {
                namespace: "default".into(),
                name: "web".into(),
                ips: vec![ip("198.51.100.1")],
                ports: vec![80],
                pool: Some("lab-pool".into()),
            },
            ServiceInfo {
                namespace: "default".into(),
                name: "pending".into(),
                ips: vec![],
                ports: vec![8080],
                pool: None,
            },
        ],
        events: vec![EventInfo {
            namespace: "default".into(),
            object_kind: "Service".into(),
            object_name: "web".into(),
            reason: "IPAllocated".into(),
            message: "Assigned IP [\"198.51.100.1\"]".into(),
            event_type: "Normal".into(),
            count: 1,
            last_seen: Some("2026-11-21T06:00:00Z".into()),
        }],
    }
}

fn node_session(addr: &str, state: SessionState) -> Session {
    Session {
        peer: ip(addr),
        remote_as: Some(64500),
        local_as: Some(64512),
        state,
        since_secs: Some(42),
        prefixes_received: (state == SessionState::Established).then_some(1),
        name: None,
        last_error: None,
    }
}

fn path_via(addr: &str, best: bool) -> Path {
    Path {
        next_hop: Some(ip(addr)),
        best,
        as_path: vec![64500],
        from_peer: Some(ip(addr)),
        ..Path::default()
    }
}

/// frr1 with its node sessions in the given states; the LoadBalancer IP is learned from
/// every established node.
fn frr1_with_nodes(states: [SessionState; 3]) -> RouterReading {
    let sessions: Vec<Session> = NODES
        .iter()
        .zip(states)
        .map(|((_, addr), s)| node_session(addr, s))
        .collect();
    let paths: Vec<Path> = sessions
        .iter()
        .filter(|s| s.state == SessionState::Established)
        .enumerate()
        .map(|(i, s)| path_via(&s.peer.to_string(), i == 0))
        .collect();
    Ok((
        RouterState {
            sessions,
            routes: vec![Route {
                prefix: net("198.51.100.1/32"),
                paths,
            }],
            ..RouterState::default()
        },
        vec![RawOutput {
            command: "vtysh -c 'show bgp neighbors json'".into(),
            output: "{}".into(),
        }],
    ))
}

fn client_host() -> RouterReading {
    Ok((
        RouterState {
            kernel_routes: crate::parse::iproute::kernel_routes(
                r#"[{"dst":"10.232.1.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.232.1.20","flags":[]}]"#,
            )
            .unwrap(),
            ..RouterState::default()
        },
        vec![],
    ))
}

fn node_lab_reading(frr1: RouterReading) -> LabReading {
    LabReading {
        cluster: Some(cluster()),
        ..reading(vec![("frr1", frr1), ("client", client_host())])
    }
}

#[test]
fn a_lab_with_nodes() {
    use SessionState::Established as E;
    let view = lab_view(
        &plan(NODE_LAB),
        &node_lab_reading(frr1_with_nodes([E, E, E])),
    );
    let frr1 = &view.routers[0];
    assert_eq!(
        frr1.summary,
        "connected to 3 of 3 nodes, knows 198.51.100.1 via all 3"
    );
    assert_eq!(frr1.sessions[1].peer, "kind-worker", "node IP → node name");
    assert!(frr1.routes[0].paths.iter().all(|p| p.next_hop_is_node));
    assert_eq!(view.routers[1].summary, "host, 1 kernel route");
    assert_eq!(
        view.cluster.as_ref().unwrap().summary,
        "3 of 3 nodes ready; MetalLB: 2 of 2 pods ready; 2 LoadBalancer services, 1 waiting for an IP"
    );
    assert!(view.healthy);
    insta::assert_json_snapshot!(view);

    let mut speaker_down = node_lab_reading(frr1_with_nodes([E, E, E]));
    speaker_down.cluster.as_mut().unwrap().metallb_pods[1].ready = false;
    assert!(
        !lab_view(&plan(NODE_LAB), &speaker_down).healthy,
        "a MetalLB pod that is not ready makes the lab unhealthy"
    );
}

#[test]
fn a_session_down() {
    use SessionState::{Active, Established as E};
    let view = lab_view(
        &plan(NODE_LAB),
        &node_lab_reading(frr1_with_nodes([E, Active, E])),
    );
    let frr1 = &view.routers[0];
    assert_eq!(frr1.health, Health::Degraded);
    assert_eq!(
        frr1.summary,
        "connected to 2 of 3 nodes, knows 198.51.100.1 via 2 of 3"
    );
    let down: Vec<(&str, LinkStatus)> = view
        .sessions
        .iter()
        .filter(|e| e.status != LinkStatus::Established)
        .map(|e| (e.id.as_str(), e.status))
        .collect();
    assert_eq!(
        down,
        [("node:kind-worker~router:frr1", LinkStatus::Connecting)]
    );
    assert!(!view.healthy);
    insta::assert_snapshot!(digest(&view));
}

#[test]
fn a_planned_session_missing_from_the_daemon_is_down() {
    let lab = plan(RECORDED_LAB);
    let mut frr2 = steady_frr2();
    frr2.as_mut()
        .unwrap()
        .0
        .sessions
        .retain(|s| s.peer != ip("10.211.1.21"));
    let view = lab_view(&lab, &reading(vec![("frr2", frr2)]));
    let s = &view.routers[1].sessions;
    let bird = s.iter().find(|s| s.peer == "bird1").unwrap();
    assert_eq!(
        (bird.state.as_str(), bird.status),
        ("not-configured", LinkStatus::Down)
    );
}

#[test]
fn routers_only_summary_counts_sessions_and_learned_routes() {
    let lab = plan(
        "name: pair\nnetworks:\n  lan: { subnet: 10.232.2.0/24 }\nrouters:\n  a: { kind: frr, asn: 64501, interfaces: { lan: { ip: 10.232.2.11 } }, neighbors: [{ to: b }], announce: [192.0.2.0/24] }\n  b: { kind: bird, asn: 64502, interfaces: { lan: { ip: 10.232.2.12 } }, announce: [198.51.100.0/24] }\n",
    );
    let up = |peer: &str| Session {
        peer: ip(peer),
        remote_as: None,
        local_as: None,
        state: SessionState::Established,
        since_secs: None,
        prefixes_received: Some(1),
        name: None,
        last_error: None,
    };
    let a = RouterState {
        sessions: vec![up("10.232.2.12")],
        routes: vec![
            Route {
                prefix: net("192.0.2.0/24"),
                paths: vec![Path {
                    local: true,
                    best: true,
                    ..Path::default()
                }],
            },
            Route {
                prefix: net("198.51.100.0/24"),
                paths: vec![path_via("10.232.2.12", true)],
            },
        ],
        ..RouterState::default()
    };
    let view = lab_view(&lab, &reading(vec![("a", Ok((a, vec![])))]));
    assert_eq!(
        view.routers[0].summary,
        "1 of 1 session established, 1 route learned"
    );
    assert_eq!(
        view.routers[0].routes[1].paths[0].next_hop_name.as_deref(),
        Some("b")
    );
    assert_eq!(view.routers[1].summary, "not read yet");
    assert_eq!(
        view.summary,
        "2 routers: 1 of 1 session established; not read yet: b"
    );
}

#[test]
fn fingerprint_ignores_clocks_and_raw_text_but_not_states() {
    let lab = plan(RECORDED_LAB);
    let base = reading(vec![("frr1", steady_frr1()), ("bird1", steady_bird1())]);
    let view = lab_view(&lab, &base);

    let mut later = base.clone();
    later.read_at_ms += 1000;
    if let Some(Ok((state, raw))) = later.routers.get_mut("frr1") {
        for s in &mut state.sessions {
            s.since_secs = s.since_secs.map(|t| t + 1);
        }
        raw[0].output.push_str(" 1s later");
    }
    assert_eq!(view.fingerprint(), lab_view(&lab, &later).fingerprint());

    let mut changed = base.clone();
    if let Some(Ok((state, _))) = changed.routers.get_mut("frr1") {
        state.sessions[0].state = SessionState::Active;
    }
    assert_ne!(view.fingerprint(), lab_view(&lab, &changed).fingerprint());
}

#[test]
fn diagram_of_two_networks_puts_the_gateway_between_them() {
    let lab = plan(
        "name: two\nnetworks:\n  left: { subnet: 10.232.3.0/24 }\n  right: { subnet: 10.232.4.0/24 }\nrouters:\n  gw: { kind: linux, forward: true, interfaces: { left: { ip: 10.232.3.2 }, right: { ip: 10.232.4.2 } } }\n  a: { kind: frr, asn: 64501, interfaces: { left: { ip: 10.232.3.11 } }, routes: [{ to: 10.232.4.0/24, via: 10.232.3.2 }], neighbors: [{ to: b, multihop: 2 }] }\n  b: { kind: bird, asn: 64502, interfaces: { right: { ip: 10.232.4.11 } }, routes: [{ to: 10.232.3.0/24, via: 10.232.4.2 }] }\n",
    );
    let view = lab_view(
        &lab,
        &reading(vec![("gw", Ok((RouterState::default(), vec![])))]),
    );
    let d = &view.diagram;
    let y = |id: &str| d.devices.iter().find(|x| x.id == id).unwrap().y;
    let lane = |n: &str| d.lanes.iter().find(|l| l.network == n).unwrap().y;
    assert!(y("router:a") < lane("left"), "a above the left lane");
    assert!(lane("left") < y("router:gw") && y("router:gw") < lane("right"));
    assert!(lane("right") < y("router:b"), "b below the right lane");
    assert_eq!(
        view.routers[0].summary,
        "host forwarding between left and right, 0 kernel routes"
    );
    insta::assert_yaml_snapshot!(d);
}

#[test]
fn an_in_cluster_router_is_drawn_with_its_service_address() {
    let builtin = crate::topology::builtin::get("in-cluster").unwrap();
    let lab = crate::plan::build(
        &builtin.topology(),
        "builtin:in-cluster",
        std::path::Path::new(""),
    );
    let view = lab_view(&lab, &reading(vec![]));
    let bird1 = view.routers.iter().find(|r| r.name == "bird1").unwrap();
    let cluster_ip =
        crate::plan::service_address::service_ip(lab.router("bird1").unwrap()).unwrap();
    assert!(
        bird1.addresses.iter().any(|a| a.ip == cluster_ip),
        "{:?}",
        bird1.addresses
    );
    assert!(
        view.diagram.devices.iter().any(|d| d.id == "router:bird1"),
        "bird1 is drawn"
    );
}
