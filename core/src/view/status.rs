//! `metallab status` as text: the lab view's networks, routers, sessions, the cluster when
//! there is one, then one line per problem (pure).

use super::problems::{ContainerCondition, Problem, Reported, human_secs};
use super::table::{Painter, Tone, indent, table};
use super::{ClusterView, LabView, LinkStatus, NodeView, PeerState, Role};

/// Every problem of the lab, with where it is (`frr1`, `lab`, `cluster`).
pub fn all_problems(view: &LabView) -> Vec<(&str, &Reported)> {
    let mut all: Vec<(&str, &Reported)> = view
        .routers
        .iter()
        .flat_map(|r| r.problems.iter().map(move |p| (r.name.as_str(), p)))
        .collect();
    all.extend(view.problems.iter().map(|p| (problem_scope(&p.problem), p)));
    all
}

fn problem_scope(p: &Problem) -> &'static str {
    match p {
        Problem::NetworkMissing { .. } => "lab",
        _ => "cluster",
    }
}

fn dash(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// `metallab status` as text (pure): networks, routers, sessions, the cluster when there
/// is one, then one line per problem.
pub fn render_status(s: &LabView, p: Painter) -> String {
    let mut out = format!(
        "{} {}  {}\n\n",
        p.paint(Tone::Bold, "lab"),
        p.paint(Tone::Bold, &s.lab),
        p.paint(Tone::Dim, &s.source)
    );
    let rows: Vec<Vec<String>> = s
        .networks
        .iter()
        .map(|n| {
            vec![
                n.name.clone(),
                n.docker_name.clone(),
                n.subnet.clone(),
                if n.internal { "internal" } else { "external" }.into(),
                match n.present {
                    Some(present) => p.paint(
                        Tone::ok(present),
                        if present { "present" } else { "missing" },
                    ),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    out.push_str(&table(
        &["NETWORK", "DOCKER NAME", "SUBNET", "ACCESS", "STATE"],
        &rows,
    ));
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .routers
        .iter()
        .map(|r| {
            let established = r
                .sessions
                .iter()
                .filter(|x| x.planned && x.state.is_established())
                .count();
            let expected = r.sessions.iter().filter(|x| x.planned).count();
            let running = r
                .container
                .as_ref()
                .is_none_or(ContainerCondition::is_running);
            let sessions = if r.asn.is_none() {
                "-".to_string()
            } else if !running || r.error.is_some() || (expected == 0 && !r.problems.is_empty()) {
                "?".to_string()
            } else {
                let text = format!("{established}/{expected} established");
                p.paint(Tone::ok(established == expected), text)
            };
            let health = if r.problems.is_empty() {
                p.paint(Tone::Good, "ok")
            } else {
                p.paint(Tone::Bad, plural(r.problems.len(), "problem"))
            };
            vec![
                r.name.clone(),
                r.kind.clone(),
                match &r.container {
                    Some(c) => p.paint(Tone::ok(c.is_running()), c.as_str()),
                    None => "-".into(),
                },
                dash(r.asn),
                r.addresses
                    .iter()
                    .map(|a| format!("{}/{}", a.ip, a.prefix_len))
                    .collect::<Vec<_>>()
                    .join(","),
                sessions,
                health,
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "ROUTER",
            "KIND",
            "CONTAINER",
            "ASN",
            "ADDRESSES",
            "SESSIONS",
            "HEALTH",
        ],
        &rows,
    ));
    let rows: Vec<Vec<String>> = s
        .routers
        .iter()
        // Sessions as the daemon reported them: none for a router that was not read.
        .flat_map(|r| {
            r.sessions
                .iter()
                .filter(|x| x.state != PeerState::Unknown)
                .map(move |x| (r, x))
        })
        .map(|(r, x)| {
            let state_tone = match x.state.status() {
                LinkStatus::Established => Tone::Good,
                LinkStatus::Down | LinkStatus::Unknown => Tone::Bad,
                LinkStatus::Connecting => Tone::Warn,
            };
            let named = match x.peer_role {
                Role::Node if x.peer != x.peer_address.to_string() => format!("node {}", x.peer),
                _ => x.peer.clone(),
            };
            let peer = if x.planned {
                named
            } else {
                format!("{named} {}", p.paint(Tone::Dim, "(unplanned)"))
            };
            vec![
                r.name.clone(),
                peer,
                x.peer_address.to_string(),
                dash(x.remote_as),
                p.paint(state_tone, x.state.as_str()),
                dash(x.since_secs.map(human_secs)),
                dash(x.prefixes_received),
                r.bfd_peers
                    .iter()
                    .find(|b| b.peer_address == x.peer_address)
                    .map_or_else(
                        || "-".to_string(),
                        |b| p.paint(Tone::ok(b.state == "up"), &b.state),
                    ),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&table(
            &[
                "ROUTER",
                "PEER",
                "ADDRESS",
                "REMOTE AS",
                "STATE",
                "FOR",
                "PFX RCVD",
                "BFD",
            ],
            &rows,
        ));
    }
    if let Some(c) = &s.cluster {
        out.push('\n');
        out.push_str(&render_cluster(c, &s.nodes, p));
    }
    out.push('\n');
    for f in &s.faults {
        out.push_str(&format!(
            "{} {}: {}\n",
            p.paint(Tone::Warn, "⚡"),
            p.paint(Tone::Bold, format!("fault {}", f.id)),
            f.fault.describe()
        ));
    }
    let all = all_problems(s);
    if all.is_empty() {
        out.push_str(&format!("{} no problems found\n", p.paint(Tone::Good, "✔")));
    } else {
        for (scope, problem) in all {
            out.push_str(&format!(
                "{} {}: {}\n",
                p.paint(Tone::Bad, "✘"),
                p.paint(Tone::Bold, scope),
                problem.message
            ));
        }
    }
    out
}

/// The cluster's nodes, MetalLB pods and LoadBalancer Services (pure).
pub fn render_cluster(c: &ClusterView, nodes: &[NodeView], p: Painter) -> String {
    let mut out = format!(
        "{} {} ({})\n",
        p.paint(Tone::Bold, "cluster"),
        p.paint(Tone::Bold, &c.name),
        c.provider
    );
    let rows: Vec<Vec<String>> = nodes
        .iter()
        // Nodes known by their address alone are not the cluster's to list.
        .filter(|n| n.ready.is_some())
        .map(|n| {
            vec![
                n.name.clone(),
                if n.roles.is_empty() {
                    "-".into()
                } else {
                    n.roles.join(",")
                },
                match n.ip {
                    Some(ip) => ip.to_string(),
                    None if n.outside_lab => "-".to_string(),
                    None => p.paint(Tone::Bad, "none"),
                },
                p.paint(
                    Tone::ok(n.ready == Some(true)),
                    if n.ready == Some(true) {
                        "Ready"
                    } else {
                        "NotReady"
                    },
                ),
            ]
        })
        .collect();
    out.push_str(&indent(
        &table(&["NODE", "ROLES", "ADDRESS", "STATUS"], &rows),
        2,
    ));
    let rows: Vec<Vec<String>> = c
        .metallb_pods
        .iter()
        .map(|pod| {
            let ready = pod.ready && pod.phase == "Running";
            vec![
                pod.name.clone(),
                dash(pod.node.as_deref()),
                p.paint(Tone::ok(ready), &pod.phase),
                p.paint(Tone::ok(pod.ready), if pod.ready { "yes" } else { "no" }),
                if pod.restarts > 0 {
                    p.paint(Tone::Warn, pod.restarts.to_string())
                } else {
                    "0".into()
                },
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&indent(
        &table(
            &["METALLB POD", "NODE", "PHASE", "READY", "RESTARTS"],
            &rows,
        ),
        2,
    ));
    let rows: Vec<Vec<String>> = c
        .services
        .iter()
        .map(|svc| {
            let ips = if svc.ips.is_empty() {
                p.paint(Tone::Bad, "<pending>")
            } else {
                svc.ips
                    .iter()
                    .map(|ip| ip.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            vec![
                format!("{}/{}", svc.namespace, svc.name),
                ips,
                if svc.ports.is_empty() {
                    "-".into()
                } else {
                    svc.ports
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                },
                dash(svc.pool.as_deref()),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&indent(
        &table(&["SERVICE", "LOADBALANCER IP", "PORTS", "POOL"], &rows),
        2,
    ));
    out
}
