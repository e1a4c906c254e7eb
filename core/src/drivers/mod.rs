//! Per-router-kind knowledge: how to start the daemons, tell they are ready, and which
//! CLI commands read their state. Pure: the engine executes what these functions return.
//!
//! A router container runs `container_command()`: its boot script ([`boot`]), uploaded
//! with the rendered files before the container starts (so the image's own entrypoint
//! never starts daemons without them). The script runs `start_commands()` in order, then
//! polls `ready_command()` until `is_ready()` (unless the kind's start already waited for
//! its daemons: `Kind::start_waits_for_answers`), and says how far it got on the
//! container's output. Routers placed in a cluster run the same commands through the pod's exec.

pub mod boot;
pub mod query;
pub mod sampler;

use crate::kinds::{argv, shell};
use crate::plan::model::PlannedRouter;
use crate::state::ExecOutput;
use crate::topology::model::RouterKind;
use std::collections::BTreeMap;

/// Where the files of every kind live inside its container (each kind's own are in its
/// folder under `kinds/`).
pub mod paths {
    /// Document root of the optional HTTP server (any kind).
    pub const HTTP_ROOT: &str = "/var/www/metallab";
    pub const HTTP_INDEX: &str = "/var/www/metallab/index.html";
}

/// The command of a router placed in a cluster: a sleeper (its pod's configs are mounted,
/// and its start commands run through the pod's exec).
pub fn pod_command() -> Vec<String> {
    argv(&["sleep", "infinity"])
}

/// Linux capabilities the container needs (never `--privileged`): the kind's profile.
pub fn capabilities(kind: RouterKind) -> &'static [&'static str] {
    kind.profile().capabilities
}

/// Namespaced sysctls set when the container is created (/proc/sys is read-only inside).
///
/// Forwarding follows `forward`. Reverse-path filtering is switched off where replies can
/// legitimately arrive on another interface than the route back (forwarding hosts,
/// routers with several interfaces, static routes, multihop sessions): a strict rp_filter
/// silently drops multihop BGP/BFD packets and asymmetric traffic. Interfaces take their
/// own value from the namespace's `default` when created, which Docker may do before these
/// sysctls apply; the kernel uses the larger of `all` and the interface value, so a host
/// with a strict default can still leave interfaces at strict.
pub fn sysctls(router: &PlannedRouter) -> BTreeMap<String, String> {
    let mut sysctls = BTreeMap::new();
    let flag = |on: bool| if on { "1" } else { "0" }.to_string();
    sysctls.insert("net.ipv4.ip_forward".to_string(), flag(router.forward));
    let asymmetric = router.forward
        || router.interfaces.len() > 1
        || !router.routes.is_empty()
        || router.sessions.iter().any(|s| s.multihop.is_some())
        || router.node_sessions.iter().any(|s| s.multihop.is_some());
    if asymmetric {
        for scope in ["all", "default"] {
            sysctls.insert(format!("net.ipv4.conf.{scope}.rp_filter"), "0".to_string());
        }
    }
    // No ICMP redirects, either way: while a next hop is cut off, it bounces traffic back
    // towards its default route (the host bridge) and redirects the sender there; the
    // sender caches that for minutes and keeps sending into Docker's isolation drop after
    // the link is back. A lab's paths must follow its static routes and BGP only.
    // The kernel combines `all` with each interface's own value, and Docker creates the
    // interfaces before it applies sysctls, so each interface is set too.
    let interfaces = (0..router.interfaces.len()).map(interface_name);
    for scope in ["all".to_string(), "default".to_string()]
        .into_iter()
        .chain(interfaces)
    {
        sysctls.insert(
            format!("net.ipv4.conf.{scope}.accept_redirects"),
            "0".to_string(),
        );
        if router.forward {
            sysctls.insert(
                format!("net.ipv4.conf.{scope}.send_redirects"),
                "0".to_string(),
            );
        }
    }
    sysctls
}

/// Everything to run, in order, once the container runs and its configs are uploaded:
/// static routes, the daemons (and what their kind starts through them), the HTTP server, the user's commands.
/// Each must exit 0; a daemon started here must detach and keep no stdio open, or the
/// `docker exec` running it would not return.
pub fn start_commands(router: &PlannedRouter) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = address_announcement(router).into_iter().collect();
    commands.extend(route_commands(router));
    commands.extend(router.kind.behaviour().daemon_commands(&router.announce));
    if let Some(port) = router.http_server {
        // busybox httpd detaches by itself (no -f).
        commands.push(argv(&[
            "busybox",
            "httpd",
            "-p",
            &port.to_string(),
            "-h",
            paths::HTTP_ROOT,
        ]));
    }
    commands.extend(router.exec.iter().map(|c| shell(c.as_str())));
    commands
}

/// The name inside the container of the router's interface number `n` (an index into
/// `PlannedRouter::interfaces`): Docker connects every network before the start, in attach
/// order, as eth0, eth1…
fn interface_name(n: usize) -> String {
    format!("eth{n}")
}

/// One gratuitous ARP per IPv4 address of a router in containers, sent before its daemons
/// start, as routers do when an interface comes up. A peer that was already trying to
/// connect has its SYN queued behind an ARP probe nobody answered; probes come every
/// second, in step with a 1 s connect timer, so without this the address is learnt just as
/// that timer gives up: the connection completes and is dropped at once, and GoBGP then
/// refuses its peer for 5 s. Announced, the address is learnt at once, the queued SYN meets
/// a port nothing listens on yet (refused), and the peer's next try connects cleanly.
/// An image without busybox skips it; it never fails a boot.
pub fn address_announcement(router: &PlannedRouter) -> Option<Vec<String>> {
    if router.placement != crate::topology::model::Placement::Docker {
        return None;
    }
    let arps: Vec<String> = router
        .interfaces
        .iter()
        .enumerate()
        .filter(|(_, i)| i.ip.is_ipv4())
        .map(|(n, i)| {
            format!(
                "busybox arping -q -U -c 1 -I {dev} -s {ip} {ip}",
                dev = interface_name(n),
                ip = i.ip
            )
        })
        .collect();
    if arps.is_empty() {
        return None;
    }
    Some(shell(format!(
        "command -v busybox >/dev/null || exit 0; {}; exit 0",
        arps.join("; ")
    )))
}

/// The router's static routes, as idempotent commands (`ip route replace`): run at start,
/// and again when a reconnected interface took its routes with it.
pub fn route_commands(router: &PlannedRouter) -> Vec<Vec<String>> {
    router
        .routes
        .iter()
        .map(|r| {
            argv(&[
                "ip",
                "route",
                "replace",
                &r.to.to_string(),
                "via",
                &r.via.to_string(),
            ])
        })
        .collect()
}

/// Removes one static route (a route the router's plan no longer has).
pub fn route_removal(route: &crate::plan::model::StaticRoute) -> Vec<String> {
    argv(&[
        "ip",
        "route",
        "del",
        &route.to.to_string(),
        "via",
        &route.via.to_string(),
    ])
}

/// The command whose output tells whether the router's daemons are up; `None` when there
/// is nothing to wait for.
pub fn ready_command(kind: RouterKind) -> Option<Vec<String>> {
    kind.behaviour().ready_command()
}

/// Whether `ready_command(kind)` printed what a router with running daemons prints.
pub fn is_ready(kind: RouterKind, output: &ExecOutput) -> bool {
    output.success()
        && kind
            .behaviour()
            .ready_words()
            .iter()
            .all(|word| output.stdout.contains(word))
}

#[cfg(test)]
mod tests;
