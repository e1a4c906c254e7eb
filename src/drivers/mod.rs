//! Per-router-kind knowledge: how to start the daemons, tell they are ready, and which
//! CLI commands read their state. Pure: the engine executes what these functions return.
//!
//! A router container runs `container_command()` as PID 1 (a sleeper, so the image's own
//! entrypoint never starts daemons before the configs are uploaded); the engine uploads
//! the rendered files, runs `start_commands()` in order with `docker exec`, then polls
//! `ready_command()` until `is_ready()`.

pub mod query;

use crate::plan::model::PlannedRouter;
use crate::state::ExecOutput;
use crate::topology::model::RouterKind;
use std::collections::BTreeMap;

/// Where each kind's files live inside its container.
pub mod paths {
    pub const FRR_CONF: &str = "/etc/frr/frr.conf";
    pub const FRR_DAEMONS: &str = "/etc/frr/daemons";
    pub const FRR_VTYSH_CONF: &str = "/etc/frr/vtysh.conf";
    pub const FRR_INIT: &str = "/usr/lib/frr/frrinit.sh";
    pub const BIRD_CONF: &str = "/etc/bird/bird.conf";
    pub const BIRD_RUN_DIR: &str = "/run/bird";
    pub const GOBGP_CONF: &str = "/etc/gobgp/gobgpd.toml";
    pub const GOBGP_LOG: &str = crate::kinds::gobgp::LOG;
    pub const QUAGGA_ZEBRA_CONF: &str = "/etc/quagga/zebra.conf";
    pub const QUAGGA_BGPD_CONF: &str = "/etc/quagga/bgpd.conf";
    pub const QUAGGA_RUN_DIR: &str = "/run/quagga";
    pub const QUAGGA_LOG_DIR: &str = "/var/log/quagga";
    /// Document root of the optional HTTP server (any kind).
    pub const HTTP_ROOT: &str = "/var/www/metallab";
    pub const HTTP_INDEX: &str = "/var/www/metallab/index.html";
}

/// The gRPC endpoint gobgpd serves its API on: loopback only, where the `gobgp` CLI
/// looks by default, so the API is not reachable from the lab networks.
const GOBGP_API: &str = "127.0.0.1:50051";
/// That endpoint in a listening row of /proc/net/tcp (address and port in hex, then the
/// remote side and state 0A, LISTEN).
const GOBGP_API_LISTENING: &str = "0100007F:C383 00000000:0000 0A";

/// How long the GoBGP start command waits for gobgpd's API before giving up, in
/// hundredths of a second (announcements are added through that API right after).
const GOBGP_API_WAIT_HUNDREDTHS: u32 = 1000;

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn shell(script: impl Into<String>) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

/// PID 1 of every router container: the daemons are started later with `docker exec`,
/// after their configs are in place.
pub fn container_command(_kind: RouterKind) -> Vec<String> {
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
    // interfaces (all networks are connected before start: eth0…) before it applies
    // sysctls, so each interface is set too.
    let interfaces = (0..router.interfaces.len()).map(|i| format!("eth{i}"));
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
/// static routes, the daemons, GoBGP announcements, the HTTP server, the user's commands.
/// Each must exit 0; a daemon started here must detach and keep no stdio open, or the
/// `docker exec` running it would not return.
pub fn start_commands(router: &PlannedRouter) -> Vec<Vec<String>> {
    let mut commands = route_commands(router);
    commands.extend(daemon_commands(router));
    if router.kind == RouterKind::Gobgp {
        commands.extend(
            router
                .announce
                .iter()
                // Origin IGP like FRR's `network` and BIRD's static routes (GoBGP's default
                // is incomplete), so paths compare alike across kinds.
                .map(|prefix| {
                    argv(&[
                        "gobgp",
                        "global",
                        "rib",
                        "add",
                        "-a",
                        "ipv4",
                        &prefix.to_string(),
                        "origin",
                        "igp",
                    ])
                }),
        );
    }
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

fn daemon_commands(router: &PlannedRouter) -> Vec<Vec<String>> {
    match router.kind {
        // frrinit.sh starts watchfrr and the daemons listed in /etc/frr/daemons, then
        // loads frr.conf with `vtysh -b`; the same script exists in upstream FRR images.
        // It exits 0 even when a line of frr.conf is refused (the line is dropped and only
        // logged), so vtysh's dry run checks the file first: it needs no daemons, exits
        // non-zero and names every refused line (`line 6: % Unknown command[25]: …`).
        RouterKind::Frr => vec![
            argv(&["vtysh", "--dryrun", "-f", paths::FRR_CONF]),
            argv(&[paths::FRR_INIT, "start"]),
        ],
        // bird daemonizes by itself; images other than ours may lack its socket directory.
        RouterKind::Bird => vec![
            argv(&["mkdir", "-p", paths::BIRD_RUN_DIR]),
            argv(&["bird", "-c", paths::BIRD_CONF]),
            shell(bird_first_update_nudge()),
        ],
        // gobgpd stays in the foreground: background it with its output in a log file and
        // stdin from /dev/null (so `docker exec` returns), then wait until its API
        // listens, so the `gobgp global rib add` announcements that follow cannot race its
        // start. The socket is watched in /proc rather than with `gobgp global`: a CLI
        // call made before the API listens waits about a second in gRPC's reconnect
        // backoff, most of a GoBGP router's start.
        RouterKind::Gobgp => vec![shell(format!(
            "gobgpd -f {conf} -t toml --api-hosts {api} </dev/null >{log} 2>&1 & \
             i=0; until grep -q '{listening}' /proc/net/tcp; do \
             i=$((i+1)); if [ $i -ge {tries} ]; then echo 'gobgpd did not answer, see {log}:' >&2; tail -n 20 {log} >&2; exit 1; fi; \
             sleep 0.01; done",
            conf = paths::GOBGP_CONF,
            api = GOBGP_API,
            listening = GOBGP_API_LISTENING,
            log = paths::GOBGP_LOG,
            tries = GOBGP_API_WAIT_HUNDREDTHS,
        ))],
        // zebra first: bgpd learns interfaces and installs routes through it. Both bind
        // their telnet vty to loopback only.
        RouterKind::Quagga => vec![
            argv(&["mkdir", "-p", paths::QUAGGA_RUN_DIR, paths::QUAGGA_LOG_DIR]),
            argv(&[
                "zebra",
                "-d",
                "-A",
                "127.0.0.1",
                "-f",
                paths::QUAGGA_ZEBRA_CONF,
                "-i",
                "/run/quagga/zebra.pid",
            ]),
            argv(&[
                "bgpd",
                "-d",
                "-A",
                "127.0.0.1",
                "-f",
                paths::QUAGGA_BGPD_CONF,
                "-i",
                "/run/quagga/bgpd.pid",
            ]),
        ],
        RouterKind::Linux => vec![],
    }
}

/// How long after start the BIRD nudge below watches for sessions, in fifths of a second.
const BIRD_NUDGE_FIFTHS: u32 = 150;

/// A watcher left running in the background while a BIRD router's lab comes up. Without
/// graceful restart (off, so a dead peer's routes go at once), BIRD 2.0 to 2.17 queues a
/// new session's first update while the keepalive that completed the session is still
/// being sent, and sends it only with its next keepalive (up to 3 s later at hold time 9)
/// unless the peer sends an update first. For each BGP protocol that comes up in the
/// first 30 s the watcher asks once for its routes again (`birdc reload out`), which
/// sends them at once; it stops when every BGP protocol of the config was handled.
fn bird_first_update_nudge() -> String {
    format!(
        "( total=$(grep -c '^protocol bgp ' {conf}); done_list={run}/metallab-nudged; : > $done_list; i=0; \
           while [ $i -lt {fifths} ] && [ $(wc -l < $done_list) -lt $total ]; do \
             i=$((i+1)); sleep 0.2; \
             birdc show protocols | while read -r name proto rest; do \
               [ \"$proto\" = BGP ] || continue; \
               case \"$rest\" in *Established*) ;; *) continue ;; esac; \
               grep -qx \"$name\" $done_list && continue; \
               echo \"$name\" >> $done_list; birdc reload out \"$name\" >/dev/null; \
             done; \
           done ) </dev/null >/dev/null 2>&1 &",
        conf = paths::BIRD_CONF,
        run = paths::BIRD_RUN_DIR,
        fifths = BIRD_NUDGE_FIFTHS,
    )
}

/// The command whose output tells whether the router's daemons are up; `None` when there
/// is nothing to wait for.
pub fn ready_command(kind: RouterKind) -> Option<Vec<String>> {
    match kind {
        // `show daemons` is answered by vtysh from the daemons it reached.
        RouterKind::Frr => Some(argv(&["vtysh", "-c", "show daemons"])),
        RouterKind::Bird => Some(argv(&["birdc", "show", "status"])),
        RouterKind::Gobgp => Some(argv(&["gobgp", "global"])),
        // `-d` makes vtysh fail when that daemon is unreachable (without it, vtysh skips
        // unreachable daemons silently and exits 0).
        RouterKind::Quagga => Some(shell(
            "vtysh -d zebra -c 'show version' && vtysh -d bgpd -c 'show ip bgp summary'",
        )),
        RouterKind::Linux => None,
    }
}

/// Whether `ready_command(kind)` printed what a router with running daemons prints.
pub fn is_ready(kind: RouterKind, output: &ExecOutput) -> bool {
    if !output.success() {
        return false;
    }
    match kind {
        RouterKind::Frr => {
            let running: Vec<&str> = output.stdout.split_whitespace().collect();
            ["zebra", "bgpd", "bfdd"]
                .iter()
                .all(|d| running.contains(d))
        }
        RouterKind::Bird => output.stdout.contains("Daemon is up and running"),
        RouterKind::Gobgp => output.stdout.contains("AS:"),
        RouterKind::Quagga => output.stdout.contains("Quagga"),
        RouterKind::Linux => true,
    }
}

#[cfg(test)]
mod tests;
