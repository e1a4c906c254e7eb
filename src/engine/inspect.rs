//! `status` and `routes`: gather (I/O) into plain view structs, then render them (pure)
//! as aligned tables or JSON.

use super::probe::DockerProbe;
use crate::plan::{PeerRef, Plan, PlannedRouter};
use crate::runtime::docker::DockerRuntime;
use crate::state::{RouterState, SessionState};
use serde::Serialize;
use std::net::IpAddr;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabStatus {
    pub lab: String,
    pub source: String,
    pub networks: Vec<NetworkRow>,
    pub routers: Vec<RouterRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NetworkRow {
    pub name: String,
    pub docker_name: String,
    pub subnet: String,
    pub internal: bool,
    pub present: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouterRow {
    pub name: String,
    pub kind: String,
    /// `running`, `exited`, `missing`…
    pub container: String,
    pub addresses: Vec<String>,
    pub asn: Option<u32>,
    pub sessions: Vec<SessionRow>,
    /// One line per thing that is wrong; empty when healthy.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionRow {
    pub peer: String,
    pub address: IpAddr,
    pub remote_as: Option<u32>,
    pub state: String,
    pub since_secs: Option<u64>,
    pub prefixes_received: Option<u64>,
}

pub async fn gather_status(
    rt: &DockerRuntime,
    plan: &Plan,
) -> Result<LabStatus, super::EngineError> {
    let filter = [(crate::plan::labels::LAB, Some(plan.lab.as_str()))];
    let containers = rt.list_containers(&filter, true).await?;
    let networks = rt.list_networks(&filter).await?;
    let probe = DockerProbe {
        rt,
        plan,
        node_ips: vec![],
    };
    let reads = plan.routers.iter().map(|r| {
        let probe = &probe;
        let containers = &containers;
        async move {
            let container = containers.iter().find(|c| c.name == r.container);
            let status = match container {
                None => "missing".to_string(),
                Some(c) if c.running => "running".to_string(),
                Some(c) => c.state.clone(),
            };
            let state = if container.is_some_and(|c| c.running) && r.kind.speaks_bgp() {
                Some(probe.read_with_raw(&r.name).await.map(|(s, _)| s))
            } else {
                None
            };
            router_row(plan, r, &status, state)
        }
    });
    let routers = futures::future::join_all(reads).await;
    Ok(LabStatus {
        lab: plan.lab.clone(),
        source: plan.source.clone(),
        networks: plan
            .networks
            .iter()
            .map(|n| NetworkRow {
                name: n.name.clone(),
                docker_name: n.docker_name.clone(),
                subnet: n.subnet.to_string(),
                internal: n.internal,
                present: networks.iter().any(|d| d.name == n.docker_name),
            })
            .collect(),
        routers,
    })
}

/// One router's row, with a plain-language line for each problem (pure).
pub fn router_row(
    plan: &Plan,
    r: &PlannedRouter,
    container: &str,
    state: Option<Result<RouterState, String>>,
) -> RouterRow {
    let mut problems = vec![];
    let mut sessions = vec![];
    if container != "running" {
        problems.push(format!("container is {container}"));
    }
    match state {
        Some(Ok(state)) => {
            for s in &r.sessions {
                let peer = peer_name(plan, &s.peer, s.peer_address);
                match state.session(s.peer_address) {
                    Some(found) => {
                        if found.state != SessionState::Established {
                            let since = found
                                .since_secs
                                .map(|t| format!(" for {}", human_secs(t)))
                                .unwrap_or_default();
                            problems.push(format!(
                                "session to {peer} ({}) is {}{since}",
                                s.peer_address, found.state
                            ));
                        }
                        sessions.push(SessionRow {
                            peer,
                            address: s.peer_address,
                            remote_as: found.remote_as,
                            state: found.state.to_string(),
                            since_secs: found.since_secs,
                            prefixes_received: found.prefixes_received,
                        });
                    }
                    None => {
                        problems.push(format!(
                            "expected peer {peer} ({}) is not configured in the daemon",
                            s.peer_address
                        ));
                    }
                }
            }
            // Sessions the daemon has that the plan does not (e.g. node sessions).
            for found in &state.sessions {
                if !r.sessions.iter().any(|s| s.peer_address == found.peer) {
                    sessions.push(SessionRow {
                        peer: found.name.clone().unwrap_or_else(|| found.peer.to_string()),
                        address: found.peer,
                        remote_as: found.remote_as,
                        state: found.state.to_string(),
                        since_secs: found.since_secs,
                        prefixes_received: found.prefixes_received,
                    });
                }
            }
        }
        Some(Err(e)) => problems.push(format!("cannot read the daemon: {e}")),
        None => {}
    }
    RouterRow {
        name: r.name.clone(),
        kind: r.kind.to_string(),
        container: container.to_string(),
        addresses: r
            .interfaces
            .iter()
            .map(|i| format!("{}/{}", i.ip, i.prefix_len))
            .collect(),
        asn: r.asn,
        sessions,
        problems,
    }
}

fn peer_name(plan: &Plan, peer: &PeerRef, addr: IpAddr) -> String {
    match peer {
        PeerRef::Router(n) => n.clone(),
        PeerRef::Node(n) => format!("node {n}"),
        PeerRef::External => plan
            .routers
            .iter()
            .find(|r| r.addresses().contains(&addr))
            .map(|r| r.name.clone())
            .unwrap_or_else(|| addr.to_string()),
    }
}

pub fn human_secs(t: u64) -> String {
    match t {
        0..=59 => format!("{t}s"),
        60..=3599 => format!("{}m{:02}s", t / 60, t % 60),
        3600..=86399 => format!("{}h{:02}m", t / 3600, (t % 3600) / 60),
        _ => format!("{}d{:02}h", t / 86400, (t % 86400) / 3600),
    }
}

/// Aligned columns; `color` paints words (green for healthy states, red otherwise).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let width = |s: &str| strip_ansi(s).chars().count();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(width(cell));
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i] - width(c) + 2));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(headers.iter().map(|h| h.to_string()).collect(), &mut out);
    for row in rows {
        line(row.clone(), &mut out);
    }
    out
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut in_escape = false;
    for ch in s.chars() {
        match (in_escape, ch) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

pub fn paint(text: &str, good: bool, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = if good { "32" } else { "31" };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// `metallab status` as text (pure).
pub fn render_status(s: &LabStatus, color: bool) -> String {
    let mut out = format!("lab {} ({})\n\n", s.lab, s.source);
    let rows: Vec<Vec<String>> = s
        .networks
        .iter()
        .map(|n| {
            vec![
                n.name.clone(),
                n.docker_name.clone(),
                n.subnet.clone(),
                if n.internal {
                    "internal".into()
                } else {
                    "external".into()
                },
                paint(
                    if n.present { "present" } else { "missing" },
                    n.present,
                    color,
                ),
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
                .filter(|x| x.state == "established")
                .count();
            let sessions = if r.asn.is_some() {
                format!("{established}/{} established", r.sessions.len())
            } else {
                "-".to_string()
            };
            let health = if r.problems.is_empty() {
                "ok".to_string()
            } else {
                r.problems.join("; ")
            };
            vec![
                r.name.clone(),
                r.kind.clone(),
                paint(&r.container, r.container == "running", color),
                r.asn.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                r.addresses.join(","),
                sessions,
                paint(&health, r.problems.is_empty(), color),
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
    let with_sessions: Vec<&RouterRow> = s
        .routers
        .iter()
        .filter(|r| !r.sessions.is_empty())
        .collect();
    if !with_sessions.is_empty() {
        out.push('\n');
        let mut rows = vec![];
        for r in with_sessions {
            for x in &r.sessions {
                rows.push(vec![
                    r.name.clone(),
                    x.peer.clone(),
                    x.address.to_string(),
                    x.remote_as
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "-".into()),
                    paint(&x.state, x.state == "established", color),
                    x.since_secs.map(human_secs).unwrap_or_else(|| "-".into()),
                    x.prefixes_received
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "-".into()),
                ]);
            }
        }
        out.push_str(&table(
            &[
                "ROUTER",
                "PEER",
                "ADDRESS",
                "REMOTE AS",
                "STATE",
                "SINCE",
                "PFX RCVD",
            ],
            &rows,
        ));
    }
    out
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouterRoutes {
    pub router: String,
    pub kind: String,
    pub routes: Vec<crate::state::Route>,
    pub error: Option<String>,
}

pub async fn gather_routes(
    rt: &DockerRuntime,
    plan: &Plan,
    only: Option<&str>,
) -> Vec<RouterRoutes> {
    let probe = DockerProbe {
        rt,
        plan,
        node_ips: vec![],
    };
    let routers: Vec<&PlannedRouter> = plan
        .routers
        .iter()
        .filter(|r| r.kind.speaks_bgp() && only.is_none_or(|o| o == r.name))
        .collect();
    let reads = routers.iter().map(|r| {
        let probe = &probe;
        async move {
            match probe.read_with_raw(&r.name).await {
                Ok((s, _)) => RouterRoutes {
                    router: r.name.clone(),
                    kind: r.kind.to_string(),
                    routes: s.routes,
                    error: None,
                },
                Err(e) => RouterRoutes {
                    router: r.name.clone(),
                    kind: r.kind.to_string(),
                    routes: vec![],
                    error: Some(e),
                },
            }
        }
    });
    futures::future::join_all(reads).await
}

/// `metallab routes` as text (pure): one block per router, one line per path.
pub fn render_routes(plan: &Plan, all: &[RouterRoutes], color: bool) -> String {
    let mut out = String::new();
    for rr in all {
        out.push_str(&format!("{} ({})\n", rr.router, rr.kind));
        if let Some(e) = &rr.error {
            out.push_str(&format!(
                "  {}\n\n",
                paint(&format!("cannot read: {e}"), false, color)
            ));
            continue;
        }
        let mut rows = vec![];
        for route in &rr.routes {
            for (i, p) in route.paths.iter().enumerate() {
                let via = match p.next_hop {
                    Some(ip) => match plan.routers.iter().find(|r| r.addresses().contains(&ip)) {
                        Some(r) => format!("{ip} ({})", r.name),
                        None => ip.to_string(),
                    },
                    None => "local".to_string(),
                };
                rows.push(vec![
                    if i == 0 {
                        route.prefix.to_string()
                    } else {
                        String::new()
                    },
                    if p.best {
                        paint("*", true, color)
                    } else {
                        String::new()
                    },
                    via,
                    p.as_path
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    p.local_pref.map(|l| l.to_string()).unwrap_or_default(),
                    p.med.map(|l| l.to_string()).unwrap_or_default(),
                    p.communities.join(" "),
                ]);
            }
        }
        if rows.is_empty() {
            out.push_str("  (no routes)\n\n");
            continue;
        }
        for line in table(
            &[
                "PREFIX",
                "BEST",
                "NEXT HOP",
                "AS PATH",
                "LOCPRF",
                "MED",
                "COMMUNITIES",
            ],
            &rows,
        )
        .lines()
        {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}
