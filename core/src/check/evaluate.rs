//! Pure evaluation: one check against one router's state, or against one probe's output.
//!
//! A failure says in one line what is wrong (`reason`) and shows the router state that
//! contradicts the check (`evidence`), so a user can act without running the router CLI.
//!
//! Route attributes (local-pref, communities, AS path) are checked on **every path** of the
//! route, not only on the best one, as MetalLB's e2e tests do: each speaker announces its
//! own path, and a speaker that fails to set an attribute must fail the check even when
//! another speaker's path wins best-path selection.

use super::text::{age, indent, list, or_dash, set, table};
use crate::kinds::StatePart;
use crate::plan::{CheckKind, Expected};
use crate::state::ExecOutput;
use crate::state::{BfdState, Path, Route, RouterState, SessionState};
use ipnet::IpNet;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The outcome of evaluating a check once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `detail` says what was seen, e.g. `192.0.2.0/24 via {10.0.0.3, 10.0.0.4}`.
    Pass { detail: String },
    /// `reason` is one line; `evidence` is the (multi-line) state that contradicts the check.
    Fail { reason: String, evidence: String },
}

impl Verdict {
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass { .. })
    }

    fn pass(detail: impl Into<String>) -> Verdict {
        Verdict::Pass {
            detail: detail.into(),
        }
    }

    fn fail(reason: impl Into<String>, evidence: impl Into<String>) -> Verdict {
        Verdict::Fail {
            reason: reason.into(),
            evidence: evidence.into(),
        }
    }
}

/// The check kind as users write it in the topology (`session`, `route`, `kernel-route`…).
pub fn kind_label(kind: &CheckKind) -> &'static str {
    match kind {
        CheckKind::Session { .. } => "session",
        CheckKind::Route { .. } => "route",
        CheckKind::KernelRoute { .. } => "kernel-route",
        CheckKind::Bfd { .. } => "bfd",
        CheckKind::Http { .. } => "http",
        CheckKind::Ping { .. } => "ping",
        CheckKind::Service { .. } => "service",
    }
}

/// The router whose state (or shell, for probes) the check needs; None for cluster checks.
pub fn subject(kind: &CheckKind) -> Option<&str> {
    match kind {
        CheckKind::Session { router, .. }
        | CheckKind::Route { router, .. }
        | CheckKind::KernelRoute { router, .. }
        | CheckKind::Bfd { router, .. } => Some(router),
        CheckKind::Http { from, .. } | CheckKind::Ping { from, .. } => Some(from),
        CheckKind::Service { .. } => None,
    }
}

/// Whether the check is evaluated with [`evaluate_state`] (as opposed to a probe or the
/// cluster).
pub fn reads_state(kind: &CheckKind) -> bool {
    matches!(
        kind,
        CheckKind::Session { .. }
            | CheckKind::Route { .. }
            | CheckKind::KernelRoute { .. }
            | CheckKind::Bfd { .. }
    )
}

/// Whether the check mentions `nodes`, so the cluster node addresses must be known.
pub fn needs_node_ips(kind: &CheckKind) -> bool {
    let mentions_nodes = |expected: &[Expected]| expected.contains(&Expected::Nodes);
    match kind {
        CheckKind::Session { peers, .. } | CheckKind::Bfd { peers, .. } => mentions_nodes(peers),
        CheckKind::Route { nexthops, .. } | CheckKind::KernelRoute { nexthops, .. } => {
            nexthops.as_deref().is_some_and(mentions_nodes)
        }
        _ => false,
    }
}

/// The one part of its router's state a check reads; None for probes (HTTP, ping) and
/// Service checks, which read no router state.
pub fn state_part(kind: &CheckKind) -> Option<StatePart> {
    match kind {
        CheckKind::Session { .. } => Some(StatePart::Sessions),
        CheckKind::Route { .. } => Some(StatePart::Routes),
        CheckKind::KernelRoute { .. } => Some(StatePart::Kernel),
        CheckKind::Bfd { .. } => Some(StatePart::Bfd),
        _ => None,
    }
}

/// Evaluates a router-state check (session, route, kernel route, BFD) against `state`, the
/// state of the check's [`subject`]. `node_ips` is what `nodes` stands for.
pub fn evaluate_state(kind: &CheckKind, state: &RouterState, node_ips: &[IpAddr]) -> Verdict {
    match kind {
        CheckKind::Session {
            router,
            peers,
            state: wanted,
        } => evaluate_sessions(router, peers, *wanted, state, node_ips),
        CheckKind::Route {
            router,
            prefix,
            present,
            nexthops,
            local_pref,
            communities,
            as_path,
        } => {
            let wanted = WantedAttributes {
                nexthops: nexthops.as_deref(),
                local_pref: *local_pref,
                communities: communities.as_deref(),
                as_path: as_path.as_deref(),
            };
            evaluate_route(router, prefix, *present, &wanted, state, node_ips)
        }
        CheckKind::KernelRoute {
            router,
            prefix,
            present,
            nexthops,
        } => evaluate_kernel_route(
            router,
            prefix,
            *present,
            nexthops.as_deref(),
            state,
            node_ips,
        ),
        CheckKind::Bfd {
            router,
            peers,
            state: wanted,
        } => evaluate_bfd(router, peers, *wanted, state, node_ips),
        CheckKind::Http { .. } | CheckKind::Ping { .. } | CheckKind::Service { .. } => {
            Verdict::fail(
                format!(
                    "{} checks are not evaluated against router state",
                    kind_label(kind)
                ),
                "",
            )
        }
    }
}

/// The addresses a check names, with `nodes` expanded. Fails when `nodes` stands for nothing:
/// an empty expectation would make the check pass vacuously.
fn expand(expected: &[Expected], node_ips: &[IpAddr]) -> Result<BTreeSet<IpAddr>, String> {
    let mut addresses = BTreeSet::new();
    for e in expected {
        match e {
            Expected::Address(ip) => {
                addresses.insert(*ip);
            }
            Expected::Nodes if node_ips.is_empty() => {
                return Err(
                    "the check expects the cluster nodes, but no node addresses are known"
                        .to_string(),
                );
            }
            Expected::Nodes => addresses.extend(node_ips),
        }
    }
    Ok(addresses)
}

fn evaluate_sessions(
    router: &str,
    expected: &[Expected],
    wanted: SessionState,
    state: &RouterState,
    node_ips: &[IpAddr],
) -> Verdict {
    let peers = match expand(expected, node_ips) {
        Ok(peers) => peers,
        Err(reason) => return Verdict::fail(reason, sessions_table(router, state)),
    };
    let problems: Vec<String> = peers
        .iter()
        .filter_map(|peer| match state.session(*peer) {
            None => Some(format!(
                "{router} has no session with {peer}: the peer is not configured"
            )),
            Some(s) if s.state != wanted => Some(format!(
                "session with {peer} is {}, expected {wanted}",
                s.state
            )),
            Some(_) => None,
        })
        .collect();
    if problems.is_empty() {
        Verdict::pass(format!("{wanted} with {}", list(&peers)))
    } else {
        Verdict::fail(problems.join("; "), sessions_table(router, state))
    }
}

fn sessions_table(router: &str, state: &RouterState) -> String {
    if state.sessions.is_empty() {
        return format!("{router} has no BGP sessions at all");
    }
    let rows: Vec<Vec<String>> = state
        .sessions
        .iter()
        .map(|s| {
            vec![
                s.peer.to_string(),
                or_dash(s.name.as_deref()),
                or_dash(s.remote_as),
                s.state.to_string(),
                or_dash(s.since_secs.map(age)),
                or_dash(s.prefixes_received),
                s.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "peer",
            "name",
            "remote AS",
            "state",
            "up/down",
            "prefixes",
            "last error",
        ],
        &rows,
    )
}

/// What a route check asks of a present route, beyond its presence.
struct WantedAttributes<'a> {
    nexthops: Option<&'a [Expected]>,
    local_pref: Option<u32>,
    communities: Option<&'a [String]>,
    as_path: Option<&'a [u32]>,
}

fn evaluate_route(
    router: &str,
    prefix: &IpNet,
    present: bool,
    wanted: &WantedAttributes,
    state: &RouterState,
    node_ips: &[IpAddr],
) -> Verdict {
    let route = state.route(prefix).filter(|r| !r.paths.is_empty());
    match (route, present) {
        (None, false) => Verdict::pass(format!("{prefix} is absent")),
        (Some(route), false) => Verdict::fail(
            format!("route {prefix} is in {router}'s BGP table but should be absent"),
            paths_table(route),
        ),
        (None, true) => Verdict::fail(
            format!("route {prefix} is not in {router}'s BGP table"),
            known_prefixes(router, "BGP routes", state.routes.iter().map(|r| r.prefix)),
        ),
        (Some(route), true) => evaluate_route_attributes(route, wanted, node_ips),
    }
}

fn evaluate_route_attributes(
    route: &Route,
    wanted: &WantedAttributes,
    node_ips: &[IpAddr],
) -> Verdict {
    let prefix = route.prefix;
    let actual_hops: BTreeSet<IpAddr> = route.next_hops().into_iter().collect();
    let mut problems = Vec::new();

    if let Some(expected) = wanted.nexthops {
        match expand(expected, node_ips) {
            Err(reason) => problems.push(reason),
            Ok(expected) if expected != actual_hops => {
                problems.push(format!(
                    "route {prefix} has next hops {} but {} were expected{}",
                    set(&actual_hops),
                    set(&expected),
                    set_difference_note(&actual_hops, &expected)
                ));
            }
            Ok(_) => {}
        }
    }
    if let Some(lp) = wanted.local_pref {
        let offenders = paths_where(
            route,
            |p| p.local_pref != Some(lp),
            |p| or_dash(p.local_pref),
        );
        if !offenders.is_empty() {
            problems.push(format!(
                "route {prefix} has local-pref {offenders} but {lp} was expected"
            ));
        }
    }
    if let Some(communities) = wanted.communities {
        let expected: BTreeSet<&str> = communities.iter().map(|c| c.trim()).collect();
        let offenders = paths_where(
            route,
            |p| {
                p.communities
                    .iter()
                    .map(|c| c.trim())
                    .collect::<BTreeSet<_>>()
                    != expected
            },
            |p| set(&p.communities.iter().collect()),
        );
        if !offenders.is_empty() {
            problems.push(format!(
                "route {prefix} has communities {offenders} but {} were expected",
                set(&expected)
            ));
        }
    }
    if let Some(as_path) = wanted.as_path {
        let offenders = paths_where(
            route,
            |p| p.as_path != as_path,
            |p| show_as_path(&p.as_path),
        );
        if !offenders.is_empty() {
            problems.push(format!(
                "route {prefix} has AS path {offenders} but {} was expected",
                show_as_path(as_path)
            ));
        }
    }

    if problems.is_empty() {
        Verdict::pass(format!("{prefix} via {}", set(&actual_hops)))
    } else {
        Verdict::fail(problems.join("; "), paths_table(route))
    }
}

/// ` (missing a, unexpected b)`, or nothing when the sets are equal.
fn set_difference_note(actual: &BTreeSet<IpAddr>, expected: &BTreeSet<IpAddr>) -> String {
    let missing: Vec<_> = expected.difference(actual).collect();
    let unexpected: Vec<_> = actual.difference(expected).collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing {}", list(missing)));
    }
    if !unexpected.is_empty() {
        parts.push(format!("unexpected {}", list(unexpected)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// `200 via 10.0.0.4, - via 10.0.0.5` for the paths matching `wrong`.
fn paths_where(
    route: &Route,
    wrong: impl Fn(&Path) -> bool,
    show: impl Fn(&Path) -> String,
) -> String {
    route
        .paths
        .iter()
        .filter(|p| wrong(p))
        .map(|p| format!("{} {}", show(p), path_label(p)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn path_label(path: &Path) -> String {
    match path.next_hop {
        Some(hop) => format!("via {hop}"),
        None => "on the local path".to_string(),
    }
}

fn show_as_path(as_path: &[u32]) -> String {
    if as_path.is_empty() {
        "(empty)".to_string()
    } else {
        as_path
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn paths_table(route: &Route) -> String {
    let rows: Vec<Vec<String>> = route
        .paths
        .iter()
        .map(|p| {
            vec![
                if p.best { "*" } else { "" }.to_string(),
                or_dash(p.next_hop),
                if p.local {
                    "local".to_string()
                } else {
                    or_dash(p.from_peer)
                },
                show_as_path(&p.as_path),
                or_dash(p.local_pref),
                or_dash(p.med),
                if p.communities.is_empty() {
                    "-".to_string()
                } else {
                    p.communities.join(" ")
                },
                or_dash(p.origin.map(|o| format!("{o:?}").to_lowercase())),
            ]
        })
        .collect();
    let count = route.paths.len();
    let header = format!(
        "{} ({count} {}):",
        route.prefix,
        if count == 1 { "path" } else { "paths" }
    );
    let body = table(
        &[
            "best",
            "next hop",
            "from",
            "AS path",
            "local-pref",
            "MED",
            "communities",
            "origin",
        ],
        &rows,
    );
    format!("{header}\n{}", indent(&body, "  "))
}

/// What the router does have, when the prefix a check wants is missing.
fn known_prefixes(router: &str, what: &str, prefixes: impl Iterator<Item = IpNet>) -> String {
    const SHOWN: usize = 20;
    let prefixes: BTreeSet<IpNet> = prefixes.collect();
    if prefixes.is_empty() {
        return format!("{router} has no {what} at all");
    }
    let mut text = format!(
        "{router} has {what} for: {}",
        list(prefixes.iter().take(SHOWN))
    );
    if prefixes.len() > SHOWN {
        text.push_str(&format!(" … and {} more", prefixes.len() - SHOWN));
    }
    text
}

fn evaluate_kernel_route(
    router: &str,
    prefix: &IpNet,
    present: bool,
    nexthops: Option<&[Expected]>,
    state: &RouterState,
    node_ips: &[IpAddr],
) -> Verdict {
    // IPv6 ECMP routes can come as one entry per gateway, so gather every entry.
    let entries: Vec<_> = state
        .kernel_routes
        .iter()
        .filter(|r| r.prefix == *prefix)
        .collect();
    let gateways: BTreeSet<IpAddr> = entries
        .iter()
        .flat_map(|r| r.nexthops.iter().copied())
        .collect();
    match (entries.is_empty(), present) {
        (true, false) => Verdict::pass(format!("{prefix} is not in the kernel")),
        (false, false) => Verdict::fail(
            format!("kernel route {prefix} is installed in {router} but should be absent"),
            kernel_table(router, state),
        ),
        (true, true) => Verdict::fail(
            format!("{router} has no kernel route for {prefix}"),
            kernel_table(router, state),
        ),
        (false, true) => {
            let installed = if gateways.is_empty() {
                format!("{prefix} is in the kernel (no gateway)")
            } else {
                format!("{prefix} via {}", set(&gateways))
            };
            let Some(expected) = nexthops else {
                return Verdict::pass(installed);
            };
            match expand(expected, node_ips) {
                Err(reason) => Verdict::fail(reason, kernel_table(router, state)),
                Ok(expected) if expected != gateways => Verdict::fail(
                    format!(
                        "kernel route {prefix} has gateways {} but {} were expected{}",
                        set(&gateways),
                        set(&expected),
                        set_difference_note(&gateways, &expected)
                    ),
                    kernel_table(router, state),
                ),
                Ok(_) => Verdict::pass(installed),
            }
        }
    }
}

fn kernel_table(router: &str, state: &RouterState) -> String {
    if state.kernel_routes.is_empty() {
        return format!("{router}'s kernel routing table is empty");
    }
    let rows: Vec<Vec<String>> = state
        .kernel_routes
        .iter()
        .map(|r| {
            vec![
                r.prefix.to_string(),
                if r.nexthops.is_empty() {
                    "-".to_string()
                } else {
                    list(&r.nexthops)
                },
                or_dash(r.device.as_deref()),
                or_dash(r.protocol.as_deref()),
                or_dash(r.route_type.as_deref()),
            ]
        })
        .collect();
    table(&["prefix", "via", "dev", "proto", "type"], &rows)
}

fn evaluate_bfd(
    router: &str,
    expected: &[Expected],
    wanted: BfdState,
    state: &RouterState,
    node_ips: &[IpAddr],
) -> Verdict {
    let peers = match expand(expected, node_ips) {
        Ok(peers) => peers,
        Err(reason) => return Verdict::fail(reason, bfd_table(router, state)),
    };
    let problems: Vec<String> = peers
        .iter()
        .filter_map(|peer| match state.bfd_peer(*peer) {
            None => Some(format!("{router} has no BFD peer {peer}")),
            Some(b) if b.state != wanted => {
                Some(format!("BFD peer {peer} is {}, expected {wanted}", b.state))
            }
            Some(_) => None,
        })
        .collect();
    if problems.is_empty() {
        Verdict::pass(format!("BFD {wanted} with {}", list(&peers)))
    } else {
        Verdict::fail(problems.join("; "), bfd_table(router, state))
    }
}

fn bfd_table(router: &str, state: &RouterState) -> String {
    if state.bfd_peers.is_empty() {
        return format!("{router} has no BFD peers at all");
    }
    let rows: Vec<Vec<String>> = state
        .bfd_peers
        .iter()
        .map(|b| {
            vec![
                b.peer.to_string(),
                or_dash(b.local),
                or_dash(b.interface.as_deref()),
                b.state.to_string(),
                or_dash(b.since_secs.map(age)),
            ]
        })
        .collect();
    table(&["peer", "local", "interface", "state", "since"], &rows)
}

/// Connect and total time limits of the HTTP probe, in seconds. Short, because the check
/// polls: a slow answer is retried rather than waited for.
const HTTP_CONNECT_TIMEOUT_SECS: u32 = 2;
const HTTP_MAX_TIME_SECS: u32 = 5;

/// The command a probe check runs inside its `from` router; None for other checks.
pub fn probe_command(kind: &CheckKind) -> Option<Vec<String>> {
    let argv = |args: &[&str]| Some(args.iter().map(|a| a.to_string()).collect());
    match kind {
        // -sS: no progress bar but still an error message; -g: IPv6 literals like
        // http://[2001:db8::1]/ are not URL globs; -w prints only the status code.
        CheckKind::Http { url, .. } => argv(&[
            "curl",
            "-sS",
            "-g",
            "--connect-timeout",
            &HTTP_CONNECT_TIMEOUT_SECS.to_string(),
            "--max-time",
            &HTTP_MAX_TIME_SECS.to_string(),
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            url,
        ]),
        CheckKind::Ping { target, .. } => {
            argv(&["ping", "-c", "1", "-W", "2", &target.to_string()])
        }
        _ => None,
    }
}

/// Exit codes of `docker exec` when the program is missing or not executable.
const EXEC_NOT_FOUND: [i64; 2] = [126, 127];

/// Evaluates what [`probe_command`] printed.
pub fn evaluate_probe(kind: &CheckKind, out: &ExecOutput) -> Verdict {
    let evidence = probe_evidence(kind, out);
    let stderr_line = first_line(&out.stderr);
    match kind {
        CheckKind::Http { from, url, status } => {
            let reason = match out.exit_code {
                0 => match out.stdout.trim().parse::<u16>() {
                    Ok(code) if code == *status => {
                        return Verdict::pass(format!("HTTP {code} from {url}"));
                    }
                    Ok(code) => format!("{url} answered HTTP {code} but {status} was expected"),
                    Err(_) => format!("curl printed no HTTP status code for {url}"),
                },
                // curl's own message says which: refused, unreachable, DNS, connect or
                // transfer timeout.
                7 => format!(
                    "{from} could not connect to {url}: {}",
                    curl_message(stderr_line)
                ),
                28 => format!(
                    "{from} timed out reaching {url}: {}",
                    curl_message(stderr_line)
                ),
                6 => format!("{from} could not resolve the host of {url}"),
                code if EXEC_NOT_FOUND.contains(&code) => {
                    format!("curl is not available in {from}")
                }
                code => format!(
                    "curl from {from} to {url} failed (exit code {code}): {}",
                    curl_message(stderr_line)
                ),
            };
            Verdict::fail(reason, evidence)
        }
        CheckKind::Ping { from, target } => {
            let reason = match out.exit_code {
                0 => return Verdict::pass(format!("{target} answered {from}'s ping")),
                // iputils ping: 1 = sent but no reply, 2 = could not send at all.
                1 => format!("{target} did not answer {from}'s ping"),
                code if EXEC_NOT_FOUND.contains(&code) => {
                    format!("ping is not available in {from}")
                }
                code => {
                    format!("ping from {from} to {target} failed (exit code {code}): {stderr_line}")
                }
            };
            Verdict::fail(reason, evidence)
        }
        _ => Verdict::fail(
            format!("{} checks are not probes", kind_label(kind)),
            evidence,
        ),
    }
}

/// `Failed to connect …` out of `curl: (7) Failed to connect …`.
fn curl_message(line: &str) -> &str {
    match line.strip_prefix("curl: (") {
        Some(rest) => rest.split_once(") ").map_or(line, |(_, message)| message),
        None => line,
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

fn probe_evidence(kind: &CheckKind, out: &ExecOutput) -> String {
    let mut lines = Vec::new();
    if let Some(argv) = probe_command(kind) {
        lines.push(format!("command: {}", argv.join(" ")));
    }
    lines.push(format!("exit code: {}", out.exit_code));
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = text.trim_end();
        if text.contains('\n') {
            lines.push(format!("{name}:\n{}", indent(text, "  ")));
        } else if !text.is_empty() {
            lines.push(format!("{name}: {text}"));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{BfdPeer, KernelRoute, Origin, Session};
    use crate::test_support::{ip, net};

    fn addrs(list: &[&str]) -> Vec<Expected> {
        list.iter().map(|a| Expected::Address(ip(a))).collect()
    }

    fn session(peer: &str, state: SessionState) -> Session {
        Session {
            peer: ip(peer),
            remote_as: Some(64512),
            local_as: Some(64500),
            state,
            since_secs: Some(125),
            prefixes_received: (state == SessionState::Established).then_some(2),
            name: None,
            last_error: None,
        }
    }

    fn path(next_hop: &str, best: bool) -> Path {
        Path {
            next_hop: Some(ip(next_hop)),
            best,
            local_pref: Some(100),
            as_path: vec![64512],
            communities: vec!["65000:100".into()],
            origin: Some(Origin::Igp),
            from_peer: Some(ip(next_hop)),
            ..Path::default()
        }
    }

    fn with_route(prefix: &str, paths: Vec<Path>) -> RouterState {
        RouterState {
            routes: vec![Route {
                prefix: net(prefix),
                paths,
            }],
            ..RouterState::default()
        }
    }

    fn sessions_check(peers: Vec<Expected>) -> CheckKind {
        CheckKind::Session {
            router: "frr1".into(),
            peers,
            state: SessionState::Established,
        }
    }

    fn route_check(present: bool) -> CheckKind {
        CheckKind::Route {
            router: "frr1".into(),
            prefix: net("192.0.2.0/24"),
            present,
            nexthops: None,
            local_pref: None,
            communities: None,
            as_path: None,
        }
    }

    fn route_check_with(edit: impl FnOnce(&mut CheckKind)) -> CheckKind {
        let mut kind = route_check(true);
        edit(&mut kind);
        kind
    }

    fn reason(v: &Verdict) -> &str {
        match v {
            Verdict::Fail { reason, .. } => reason,
            Verdict::Pass { detail } => panic!("passed: {detail}"),
        }
    }

    fn evidence(v: &Verdict) -> &str {
        match v {
            Verdict::Fail { evidence, .. } => evidence,
            Verdict::Pass { detail } => panic!("passed: {detail}"),
        }
    }

    /// Reason and evidence together, as a snapshot shows them.
    fn failure(v: &Verdict) -> String {
        format!("{}\n---\n{}", reason(v), evidence(v))
    }

    #[test]
    fn sessions_pass_when_every_expected_peer_is_in_the_state() {
        let state = RouterState {
            sessions: vec![
                session("10.0.0.3", SessionState::Established),
                session("10.0.0.4", SessionState::Established),
            ],
            ..RouterState::default()
        };
        let verdict = evaluate_state(
            &sessions_check(vec![Expected::Nodes]),
            &state,
            &[ip("10.0.0.4"), ip("10.0.0.3")],
        );
        assert_eq!(
            verdict,
            Verdict::Pass {
                detail: "established with 10.0.0.3, 10.0.0.4".into()
            }
        );
    }

    #[test]
    fn sessions_fail_on_a_wrong_state_and_on_a_peer_that_is_not_configured() {
        let mut active = session("10.0.0.3", SessionState::Active);
        active.last_error = Some("Connection refused".into());
        active.name = Some("node_10_0_0_3".into());
        let state = RouterState {
            sessions: vec![active, session("10.0.0.9", SessionState::Established)],
            ..RouterState::default()
        };
        let verdict = evaluate_state(
            &sessions_check(addrs(&["10.0.0.3", "10.0.0.4", "10.0.0.9"])),
            &state,
            &[],
        );
        insta::assert_snapshot!(failure(&verdict), @r"
        session with 10.0.0.3 is active, expected established; frr1 has no session with 10.0.0.4: the peer is not configured
        ---
        peer      name           remote AS  state        up/down  prefixes  last error
        10.0.0.3  node_10_0_0_3  64512      active       2m05s    -         Connection refused
        10.0.0.9  -              64512      established  2m05s    2
        ");
    }

    #[test]
    fn a_router_without_sessions_says_so() {
        let verdict = evaluate_state(
            &sessions_check(addrs(&["10.0.0.3"])),
            &RouterState::default(),
            &[],
        );
        assert_eq!(evidence(&verdict), "frr1 has no BGP sessions at all");
    }

    #[test]
    fn nodes_without_node_addresses_never_pass_vacuously() {
        let verdict = evaluate_state(
            &sessions_check(vec![Expected::Nodes]),
            &RouterState::default(),
            &[],
        );
        assert_eq!(
            reason(&verdict),
            "the check expects the cluster nodes, but no node addresses are known"
        );
    }

    #[test]
    fn route_presence_and_absence() {
        let state = with_route("192.0.2.0/24", vec![path("10.0.0.3", true)]);
        assert_eq!(
            evaluate_state(&route_check(true), &state, &[]),
            Verdict::Pass {
                detail: "192.0.2.0/24 via {10.0.0.3}".into()
            }
        );
        let absent = evaluate_state(&route_check(false), &state, &[]);
        insta::assert_snapshot!(failure(&absent), @r"
        route 192.0.2.0/24 is in frr1's BGP table but should be absent
        ---
        192.0.2.0/24 (1 path):
          best  next hop  from      AS path  local-pref  MED  communities  origin
          *     10.0.0.3  10.0.0.3  64512    100         -    65000:100    igp
        ");
        assert!(evaluate_state(&route_check(false), &RouterState::default(), &[]).is_pass());
    }

    #[test]
    fn a_missing_route_shows_the_prefixes_the_router_has() {
        let state = RouterState {
            routes: vec![
                Route {
                    prefix: net("198.51.100.0/24"),
                    paths: vec![path("10.0.0.3", true)],
                },
                Route {
                    prefix: net("10.0.0.0/24"),
                    paths: vec![path("10.0.0.3", true)],
                },
                // A prefix without paths is no route.
                Route {
                    prefix: net("192.0.2.0/24"),
                    paths: vec![],
                },
            ],
            ..RouterState::default()
        };
        let verdict = evaluate_state(&route_check(true), &state, &[]);
        assert_eq!(
            reason(&verdict),
            "route 192.0.2.0/24 is not in frr1's BGP table"
        );
        assert_eq!(
            evidence(&verdict),
            "frr1 has BGP routes for: 10.0.0.0/24, 192.0.2.0/24, 198.51.100.0/24"
        );
        let verdict = evaluate_state(&route_check(true), &RouterState::default(), &[]);
        assert_eq!(evidence(&verdict), "frr1 has no BGP routes at all");
    }

    #[test]
    fn next_hops_are_compared_as_a_set_over_all_paths() {
        let state = with_route(
            "192.0.2.0/24",
            vec![
                path("10.0.0.4", false),
                path("10.0.0.3", true),
                path("10.0.0.3", false),
            ],
        );
        let check = |hops: Vec<Expected>| {
            route_check_with(|k| {
                if let CheckKind::Route { nexthops, .. } = k {
                    *nexthops = Some(hops);
                }
            })
        };
        let nodes = [ip("10.0.0.3"), ip("10.0.0.4")];
        assert!(evaluate_state(&check(vec![Expected::Nodes]), &state, &nodes).is_pass());
        assert!(evaluate_state(&check(addrs(&["10.0.0.4", "10.0.0.3"])), &state, &[]).is_pass());

        let one_node_short = with_route("192.0.2.0/24", vec![path("10.0.0.3", true)]);
        let verdict = evaluate_state(&check(vec![Expected::Nodes]), &one_node_short, &nodes);
        assert_eq!(
            reason(&verdict),
            "route 192.0.2.0/24 has next hops {10.0.0.3} but {10.0.0.3, 10.0.0.4} were expected (missing 10.0.0.4)"
        );
        let verdict = evaluate_state(&check(addrs(&["10.0.0.3"])), &state, &[]);
        assert_eq!(
            reason(&verdict),
            "route 192.0.2.0/24 has next hops {10.0.0.3, 10.0.0.4} but {10.0.0.3} were expected (unexpected 10.0.0.4)"
        );
    }

    #[test]
    fn attributes_are_checked_on_every_path_not_only_the_best() {
        let mut stray = path("10.0.0.4", false);
        stray.local_pref = Some(200);
        stray.communities = vec!["65000:200".into(), "65000:100".into()];
        stray.as_path = vec![64513, 64512];
        let state = with_route("192.0.2.0/24", vec![path("10.0.0.3", true), stray]);
        let check = route_check_with(|k| {
            if let CheckKind::Route {
                local_pref,
                communities,
                as_path,
                ..
            } = k
            {
                *local_pref = Some(100);
                *communities = Some(vec!["65000:100".into()]);
                *as_path = Some(vec![64512]);
            }
        });
        let verdict = evaluate_state(&check, &state, &[]);
        insta::assert_snapshot!(failure(&verdict), @r"
        route 192.0.2.0/24 has local-pref 200 via 10.0.0.4 but 100 was expected; route 192.0.2.0/24 has communities {65000:100, 65000:200} via 10.0.0.4 but {65000:100} were expected; route 192.0.2.0/24 has AS path 64513 64512 via 10.0.0.4 but 64512 was expected
        ---
        192.0.2.0/24 (2 paths):
          best  next hop  from      AS path      local-pref  MED  communities          origin
          *     10.0.0.3  10.0.0.3  64512        100         -    65000:100            igp
                10.0.0.4  10.0.0.4  64513 64512  200         -    65000:200 65000:100  igp
        ");
    }

    #[test]
    fn communities_are_compared_regardless_of_order() {
        let mut p = path("10.0.0.3", true);
        p.communities = vec!["65000:2".into(), "large:65000:1:1".into(), "65000:1".into()];
        let state = with_route("192.0.2.0/24", vec![p]);
        let check = route_check_with(|k| {
            if let CheckKind::Route { communities, .. } = k {
                *communities = Some(vec![
                    "large:65000:1:1".into(),
                    "65000:1".into(),
                    "65000:2".into(),
                ]);
            }
        });
        assert!(evaluate_state(&check, &state, &[]).is_pass());
    }

    #[test]
    fn a_missing_local_pref_is_reported_as_a_dash() {
        let mut p = path("10.0.0.3", true);
        p.local_pref = None;
        let state = with_route("192.0.2.0/24", vec![p]);
        let check = route_check_with(|k| {
            if let CheckKind::Route { local_pref, .. } = k {
                *local_pref = Some(100);
            }
        });
        assert_eq!(
            reason(&evaluate_state(&check, &state, &[])),
            "route 192.0.2.0/24 has local-pref - via 10.0.0.3 but 100 was expected"
        );
    }

    fn kernel_check(present: bool, nexthops: Option<Vec<Expected>>) -> CheckKind {
        CheckKind::KernelRoute {
            router: "frr1".into(),
            prefix: net("192.0.2.0/24"),
            present,
            nexthops,
        }
    }

    fn kernel(prefix: &str, gateways: &[&str]) -> KernelRoute {
        KernelRoute {
            prefix: net(prefix),
            nexthops: gateways.iter().map(|g| ip(g)).collect(),
            device: Some("eth0".into()),
            protocol: Some(if gateways.is_empty() { "kernel" } else { "bgp" }.into()),
            route_type: None,
        }
    }

    #[test]
    fn kernel_routes_compare_every_ecmp_gateway() {
        let ecmp = RouterState {
            kernel_routes: vec![
                kernel("10.0.0.0/24", &[]),
                kernel("192.0.2.0/24", &["10.0.0.3", "10.0.0.4"]),
            ],
            ..RouterState::default()
        };
        let nodes = [ip("10.0.0.3"), ip("10.0.0.4")];
        assert_eq!(
            evaluate_state(
                &kernel_check(true, Some(vec![Expected::Nodes])),
                &ecmp,
                &nodes
            ),
            Verdict::Pass {
                detail: "192.0.2.0/24 via {10.0.0.3, 10.0.0.4}".into()
            }
        );
        let verdict = evaluate_state(&kernel_check(true, Some(addrs(&["10.0.0.3"]))), &ecmp, &[]);
        insta::assert_snapshot!(failure(&verdict), @r"
        kernel route 192.0.2.0/24 has gateways {10.0.0.3, 10.0.0.4} but {10.0.0.3} were expected (unexpected 10.0.0.4)
        ---
        prefix        via                 dev   proto   type
        10.0.0.0/24   -                   eth0  kernel  -
        192.0.2.0/24  10.0.0.3, 10.0.0.4  eth0  bgp     -
        ");
    }

    #[test]
    fn kernel_ecmp_split_over_several_entries_counts_as_one_route() {
        let split = RouterState {
            kernel_routes: vec![
                kernel("192.0.2.0/24", &["10.0.0.3"]),
                kernel("192.0.2.0/24", &["10.0.0.4"]),
            ],
            ..RouterState::default()
        };
        let check = kernel_check(true, Some(addrs(&["10.0.0.3", "10.0.0.4"])));
        assert!(evaluate_state(&check, &split, &[]).is_pass());
    }

    #[test]
    fn kernel_route_presence_and_absence() {
        let empty = RouterState::default();
        let verdict = evaluate_state(&kernel_check(true, None), &empty, &[]);
        assert_eq!(
            reason(&verdict),
            "frr1 has no kernel route for 192.0.2.0/24"
        );
        assert_eq!(evidence(&verdict), "frr1's kernel routing table is empty");
        assert!(evaluate_state(&kernel_check(false, None), &empty, &[]).is_pass());
        let connected = RouterState {
            kernel_routes: vec![kernel("192.0.2.0/24", &[])],
            ..RouterState::default()
        };
        assert_eq!(
            evaluate_state(&kernel_check(true, None), &connected, &[]),
            Verdict::Pass {
                detail: "192.0.2.0/24 is in the kernel (no gateway)".into()
            }
        );
        let installed = RouterState {
            kernel_routes: vec![kernel("192.0.2.0/24", &["10.0.0.3"])],
            ..RouterState::default()
        };
        assert_eq!(
            reason(&evaluate_state(&kernel_check(false, None), &installed, &[])),
            "kernel route 192.0.2.0/24 is installed in frr1 but should be absent"
        );
    }

    #[test]
    fn bfd_peers_must_all_have_the_expected_state() {
        let peer = |addr: &str, state| BfdPeer {
            peer: ip(addr),
            local: Some(ip("10.0.0.1")),
            interface: None,
            state,
            since_secs: Some(42),
        };
        let state = RouterState {
            bfd_peers: vec![
                peer("10.0.0.3", BfdState::Up),
                peer("10.0.0.4", BfdState::Down),
            ],
            ..RouterState::default()
        };
        let check = |peers| CheckKind::Bfd {
            router: "frr1".into(),
            peers,
            state: BfdState::Up,
        };
        assert_eq!(state_part(&check(vec![])), Some(StatePart::Bfd));
        assert!(evaluate_state(&check(addrs(&["10.0.0.3"])), &state, &[]).is_pass());
        let verdict = evaluate_state(
            &check(vec![Expected::Nodes]),
            &state,
            &[ip("10.0.0.3"), ip("10.0.0.4"), ip("10.0.0.5")],
        );
        insta::assert_snapshot!(failure(&verdict), @r"
        BFD peer 10.0.0.4 is down, expected up; frr1 has no BFD peer 10.0.0.5
        ---
        peer      local     interface  state  since
        10.0.0.3  10.0.0.1  -          up     42s
        10.0.0.4  10.0.0.1  -          down   42s
        ");
    }

    #[test]
    fn subjects_labels_and_node_needs() {
        let ping = CheckKind::Ping {
            from: "client".into(),
            target: ip("192.0.2.10"),
        };
        assert_eq!(subject(&ping), Some("client"));
        assert_eq!(kind_label(&ping), "ping");
        assert!(!reads_state(&ping));
        assert_eq!(state_part(&ping), None);
        let kernel = kernel_check(true, Some(vec![Expected::Nodes]));
        // Each state check reads one part (the tests above give it only that part).
        assert_eq!(state_part(&kernel), Some(StatePart::Kernel));
        assert_eq!(state_part(&route_check(true)), Some(StatePart::Routes));
        assert_eq!(
            state_part(&sessions_check(addrs(&["10.0.0.2"]))),
            Some(StatePart::Sessions)
        );
        assert_eq!(subject(&kernel), Some("frr1"));
        assert_eq!(kind_label(&kernel), "kernel-route");
        assert!(reads_state(&kernel));
        assert!(needs_node_ips(&kernel));
        assert!(!needs_node_ips(&route_check(true)));
        let service = CheckKind::Service {
            namespace: "default".into(),
            name: "web".into(),
            ip: None,
            pool: None,
            event: None,
        };
        assert_eq!(subject(&service), None);
        assert_eq!(state_part(&service), None);
        assert!(!evaluate_state(&service, &RouterState::default(), &[]).is_pass());
        assert_eq!(probe_command(&service), None);
    }

    fn http(url: &str) -> CheckKind {
        CheckKind::Http {
            from: "client".into(),
            url: url.into(),
            status: 200,
        }
    }

    fn exec(exit_code: i64, stdout: &str, stderr: &str) -> ExecOutput {
        ExecOutput {
            exit_code,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn probe_commands() {
        assert_eq!(
            probe_command(&http("http://[2001:db8::10]:8080/"))
                .unwrap()
                .join(" "),
            "curl -sS -g --connect-timeout 2 --max-time 5 -o /dev/null -w %{http_code} http://[2001:db8::10]:8080/"
        );
        let ping = CheckKind::Ping {
            from: "client".into(),
            target: ip("192.0.2.10"),
        };
        assert_eq!(
            probe_command(&ping).unwrap(),
            ["ping", "-c", "1", "-W", "2", "192.0.2.10"]
        );
    }

    // The outputs below were recorded by running `probe_command`'s argv with `docker exec`
    // in the metallab-dev/linux image (curl 7.88.1, iputils 20221126).

    #[test]
    fn http_status_codes() {
        let url = "http://10.237.0.10/";
        assert_eq!(
            evaluate_probe(&http(url), &exec(0, "200", "")),
            Verdict::Pass {
                detail: "HTTP 200 from http://10.237.0.10/".into()
            }
        );
        let verdict = evaluate_probe(&http("http://10.237.0.10/missing"), &exec(0, "404", ""));
        insta::assert_snapshot!(failure(&verdict), @r"
        http://10.237.0.10/missing answered HTTP 404 but 200 was expected
        ---
        command: curl -sS -g --connect-timeout 2 --max-time 5 -o /dev/null -w %{http_code} http://10.237.0.10/missing
        exit code: 0
        stdout: 404
        ");
    }

    #[test]
    fn http_connection_failures_are_not_wrong_statuses() {
        let refused = evaluate_probe(
            &http("http://10.237.0.10:82/"),
            &exec(
                7,
                "000",
                "curl: (7) Failed to connect to 10.237.0.10 port 82 after 0 ms: Couldn't connect to server\n",
            ),
        );
        insta::assert_snapshot!(failure(&refused), @r"
        client could not connect to http://10.237.0.10:82/: Failed to connect to 10.237.0.10 port 82 after 0 ms: Couldn't connect to server
        ---
        command: curl -sS -g --connect-timeout 2 --max-time 5 -o /dev/null -w %{http_code} http://10.237.0.10:82/
        exit code: 7
        stdout: 000
        stderr: curl: (7) Failed to connect to 10.237.0.10 port 82 after 0 ms: Couldn't connect to server
        ");
        let timed_out = evaluate_probe(
            &http("http://10.237.0.10:81/"),
            &exec(
                28,
                "000",
                "curl: (28) Failed to connect to 10.237.0.10 port 81 after 2001 ms: Timeout was reached\n",
            ),
        );
        assert_eq!(
            reason(&timed_out),
            "client timed out reaching http://10.237.0.10:81/: Failed to connect to 10.237.0.10 port 81 after 2001 ms: Timeout was reached"
        );
        let no_curl = evaluate_probe(
            &http("http://10.237.0.10/"),
            &exec(
                126,
                "OCI runtime exec failed: exec failed: unable to start container process: exec: \"curl\": executable file not found in $PATH: unknown",
                "",
            ),
        );
        assert_eq!(reason(&no_curl), "curl is not available in client");
    }

    #[test]
    fn ping_replies_silence_and_errors() {
        let ping = |target: &str| CheckKind::Ping {
            from: "client".into(),
            target: ip(target),
        };
        let answered = evaluate_probe(
            &ping("10.237.0.10"),
            &exec(
                0,
                "PING 10.237.0.10 (10.237.0.10) 56(84) bytes of data.\n64 bytes from 10.237.0.10: icmp_seq=1 ttl=64 time=0.599 ms\n\n--- 10.237.0.10 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\nrtt min/avg/max/mdev = 0.599/0.599/0.599/0.000 ms\n",
                "",
            ),
        );
        assert_eq!(
            answered,
            Verdict::Pass {
                detail: "10.237.0.10 answered client's ping".into()
            }
        );
        let silent = evaluate_probe(
            &ping("10.237.0.99"),
            &exec(
                1,
                "PING 10.237.0.99 (10.237.0.99) 56(84) bytes of data.\n\n--- 10.237.0.99 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n",
                "",
            ),
        );
        insta::assert_snapshot!(failure(&silent), @r"
        10.237.0.99 did not answer client's ping
        ---
        command: ping -c 1 -W 2 10.237.0.99
        exit code: 1
        stdout:
          PING 10.237.0.99 (10.237.0.99) 56(84) bytes of data.

          --- 10.237.0.99 ping statistics ---
          1 packets transmitted, 0 received, 100% packet loss, time 0ms
        ");
        let unreachable = evaluate_probe(
            &ping("10.99.0.1"),
            &exec(2, "", "ping: connect: Network is unreachable\n"),
        );
        assert_eq!(
            reason(&unreachable),
            "ping from client to 10.99.0.1 failed (exit code 2): ping: connect: Network is unreachable"
        );
    }
}
