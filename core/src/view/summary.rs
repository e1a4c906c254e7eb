//! Plain-language lines: what a person wants to know about a router, the cluster or the
//! whole lab at a glance (pure).

use super::*;
use crate::state::ClusterState;

/// "1 route", "3 routes".
fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// Host routes read as the address a person would type.
fn prefix_text(prefix: &IpNet) -> String {
    if prefix.prefix_len() == prefix.max_prefix_len() {
        prefix.addr().to_string()
    } else {
        prefix.to_string()
    }
}

/// At most this many "knows X via …" items, then "and N more".
const MAX_ROUTES_NAMED: usize = 4;

pub(super) fn router_summary(
    r: &RouterView,
    forward: bool,
    has_node_sessions: bool,
    node_ips: &[IpAddr],
) -> String {
    if let Some(error) = &r.error {
        let first = error.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return format!("cannot read state: {}", first.trim());
    }
    if r.health == Health::Unknown {
        return "not read yet".to_string();
    }
    if r.role == Role::Host {
        return host_summary(r, forward);
    }
    let mut parts = vec![];
    if has_node_sessions {
        parts.extend(node_parts(r, node_ips));
    }
    let others: Vec<&SessionView> = r
        .sessions
        .iter()
        .filter(|s| s.peer_role != Role::Node)
        .collect();
    if !others.is_empty() || !has_node_sessions {
        if others.is_empty() {
            parts.push("no BGP sessions configured".to_string());
        } else {
            let up = others
                .iter()
                .filter(|s| s.status == LinkStatus::Established)
                .count();
            let noun = match (has_node_sessions, others.len()) {
                (true, 1) => "other session",
                (true, _) => "other sessions",
                (false, 1) => "session",
                (false, _) => "sessions",
            };
            parts.push(format!("{up} of {} {noun} established", others.len()));
        }
        let learned = r
            .routes
            .iter()
            .filter(|route| !route.local && !route.paths.iter().any(|p| p.next_hop_is_node))
            .count();
        parts.push(format!("{} learned", count(learned, "route", "routes")));
    }
    parts.join(", ")
}

/// "connected to 2 of 3 nodes", "knows 198.51.100.1 via all 3".
fn node_parts(r: &RouterView, node_ips: &[IpAddr]) -> Vec<String> {
    let n = node_ips.len();
    if n == 0 {
        return vec!["no cluster nodes known yet".to_string()];
    }
    let connected = r
        .sessions
        .iter()
        .filter(|s| s.peer_role == Role::Node && s.status == LinkStatus::Established)
        .count();
    let mut parts = vec![format!(
        "connected to {connected} of {}",
        count(n, "node", "nodes")
    )];
    let via_nodes: Vec<String> = r
        .routes
        .iter()
        .filter(|route| !route.local)
        .filter_map(|route| {
            let mut hops: Vec<IpAddr> = route
                .paths
                .iter()
                .filter(|p| p.next_hop_is_node)
                .filter_map(|p| p.next_hop)
                .collect();
            hops.sort();
            hops.dedup();
            let k = hops.len();
            let prefix = prefix_text(&route.prefix);
            match (k, n) {
                (0, _) => None,
                (_, 1) => Some(format!("{prefix} via the node")),
                (k, n) if k == n => Some(format!("{prefix} via all {n}")),
                (k, n) => Some(format!("{prefix} via {k} of {n}")),
            }
        })
        .collect();
    if via_nodes.is_empty() {
        parts.push("learned nothing from the nodes yet".to_string());
    } else {
        let mut named = via_nodes[..via_nodes.len().min(MAX_ROUTES_NAMED)].join(", ");
        if via_nodes.len() > MAX_ROUTES_NAMED {
            named.push_str(&format!(" and {} more", via_nodes.len() - MAX_ROUTES_NAMED));
        }
        parts.push(format!("knows {named}"));
    }
    parts
}

/// "host forwarding between left and right, 6 kernel routes".
fn host_summary(r: &RouterView, forward: bool) -> String {
    let networks: Vec<&str> = r.addresses.iter().map(|a| a.network.as_str()).collect();
    let role = match (forward, networks.as_slice()) {
        (true, [first @ .., last]) if !first.is_empty() => {
            format!("host forwarding between {} and {last}", first.join(", "))
        }
        (true, _) => "host (forwarding)".to_string(),
        (false, _) => "host".to_string(),
    };
    format!(
        "{role}, {}",
        count(r.kernel_routes.len(), "kernel route", "kernel routes")
    )
}

/// "3 of 3 nodes ready; MetalLB: 4 of 4 pods ready; 1 LoadBalancer service, all with an IP".
pub(super) fn cluster_summary(c: &ClusterState) -> String {
    let ready = c.nodes.iter().filter(|n| n.ready).count();
    let pods_ready = c.metallb_pods.iter().filter(|p| p.ready).count();
    let pods = if c.metallb_pods.is_empty() {
        "no MetalLB pods".to_string()
    } else {
        format!(
            "MetalLB: {pods_ready} of {} ready",
            count(c.metallb_pods.len(), "pod", "pods")
        )
    };
    let pending = c.services.iter().filter(|s| s.ips.is_empty()).count();
    let services = match (c.services.len(), pending) {
        (0, _) => "no LoadBalancer services".to_string(),
        (n, 0) => format!(
            "{}, all with an IP",
            count(n, "LoadBalancer service", "LoadBalancer services")
        ),
        (n, p) => format!(
            "{}, {p} waiting for an IP",
            count(n, "LoadBalancer service", "LoadBalancer services")
        ),
    };
    format!(
        "{ready} of {} ready; {pods}; {services}",
        count(c.nodes.len(), "node", "nodes")
    )
}

/// "4 routers, 1 host: 5 of 6 sessions established; cannot read gobgp1".
pub(super) fn lab_summary(
    routers: &[RouterView],
    nodes: &[NodeView],
    sessions: &[SessionEdge],
) -> String {
    let with_role = |role| routers.iter().filter(|r| r.role == role).count();
    let mut what = vec![count(with_role(Role::Router), "router", "routers")];
    let hosts = with_role(Role::Host);
    if hosts > 0 {
        what.push(count(hosts, "host", "hosts"));
    }
    if !nodes.is_empty() {
        what.push(count(nodes.len(), "node", "nodes"));
    }
    let up = sessions
        .iter()
        .filter(|s| s.status == LinkStatus::Established)
        .count();
    let mut line = if sessions.is_empty() {
        format!("{}: no BGP sessions", what.join(", "))
    } else {
        format!(
            "{}: {up} of {} established",
            what.join(", "),
            count(sessions.len(), "session", "sessions")
        )
    };
    let named = |health| -> Vec<&str> {
        routers
            .iter()
            .filter(|r| r.health == health)
            .map(|r| r.name.as_str())
            .collect()
    };
    let unreadable = named(Health::Unreadable);
    if !unreadable.is_empty() {
        line.push_str(&format!("; cannot read {}", unreadable.join(", ")));
    }
    let unread = named(Health::Unknown);
    if !unread.is_empty() {
        line.push_str(&format!("; not read yet: {}", unread.join(", ")));
    }
    line
}
