//! BIRD 2 (`birdc`) text output → state. Recorded against BIRD 2.0.12 (Debian bookworm).
//!
//! Commands (see `drivers::query`):
//! - sessions: `birdc show status && birdc show protocols all` — BIRD prints when each
//!   protocol last changed state as a wall-clock time (`05:48:13.875` with the default
//!   `timeformat protocol`, `2026-11-21 05:48:13` with `iso long`), so the status block's
//!   "Current server time" is read first to turn it into seconds ago;
//! - routes: `birdc show route all`;
//! - BFD: `birdc show status && birdc show bfd sessions`.
//!
//! With BIRD's default time format, state changes older than 20 hours are printed as a
//! bare date: `since_secs` is then `None`. `timeformat protocol iso long;` avoids that.

use std::net::IpAddr;
use std::time::SystemTime;

use ipnet::IpNet;

use crate::parse::{Ctx, ParseError, as_numbers, large_community, origin_from_name};
use crate::state::{BfdPeer, BfdState, Path, Route, Session, SessionState};

pub const SESSIONS_COMMAND: &str = "birdc show protocols all";
pub const ROUTES_COMMAND: &str = "birdc show route all";
pub const BFD_COMMAND: &str = "birdc show bfd sessions";

/// Texts birdc prints instead of an answer (the socket ones on stderr, exit code 1).
const ERROR_STARTS: &[&str] = &[
    "Unable to connect to server control socket",
    "syntax error",
    "Access restricted",
    "Access denied",
    "Unknown command",
    "Shutdown in progress",
    "Connection closed by server",
    "No protocols match",
    "Server read error",
    "Server write error",
    "Internal error",
];

/// Rejects empty output and birdc's error texts; returns the lines, 1-based numbered.
fn checked_lines(ctx: Ctx, text: &str) -> Result<Vec<(usize, &str)>, ParseError> {
    if text.trim().is_empty() {
        return Err(ctx.empty("birdc always greets with `BIRD <version> ready.`"));
    }
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    for (_, line) in &lines {
        let l = line.trim();
        if ERROR_STARTS.iter().any(|e| l.starts_with(e)) {
            return Err(ctx.daemon(l));
        }
    }
    Ok(lines)
}

fn is_greeting(line: &str) -> bool {
    line.starts_with("BIRD ") && line.trim_end().ends_with("ready.")
}

/// A point in time as BIRD prints it, depending on its `timeformat`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BirdTime {
    /// `%T` / `%T.%3f`: seconds since local midnight.
    TimeOfDay(f64),
    /// `%F %T[.%3f]`.
    DateTime(SystemTime),
    /// `%F` (older than the format's limit): too coarse for seconds.
    Date,
}

fn time_of_day(text: &str) -> Option<f64> {
    let mut parts = text.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(h * 3600.0 + m * 60.0 + s)
}

fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10 && b[4] == b'-' && b[7] == b'-' && text.replace('-', "").parse::<u32>().is_ok()
}

/// Reads a BIRD time from the start of `tokens`; returns it and how many tokens it used.
fn bird_time(tokens: &[&str]) -> Option<(BirdTime, usize)> {
    let first = *tokens.first()?;
    if is_date(first) {
        if let Some(second) = tokens.get(1).filter(|t| time_of_day(t).is_some()) {
            let t = humantime::parse_rfc3339_weak(&format!("{first} {second}")).ok()?;
            return Some((BirdTime::DateTime(t), 2));
        }
        return Some((BirdTime::Date, 1));
    }
    time_of_day(first).map(|s| (BirdTime::TimeOfDay(s), 1))
}

/// Seconds from `then` to `now`, both as BIRD printed them (same clock, same zone).
fn seconds_between(then: BirdTime, now: Option<SystemTime>) -> Option<u64> {
    let now = now?;
    match then {
        BirdTime::DateTime(t) => now.duration_since(t).ok().map(|d| d.as_secs()),
        BirdTime::TimeOfDay(then_tod) => {
            let now_tod = (now
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()?
                .as_secs_f64())
            .rem_euclid(86_400.0);
            // Short format is only used for times less than a day ago: wrap past midnight.
            Some((now_tod - then_tod).rem_euclid(86_400.0) as u64)
        }
        BirdTime::Date => None,
    }
}

/// `Current server time is 2026-11-21 05:49:39.852` from a `show status` block, if any.
fn server_time(lines: &[(usize, &str)]) -> Option<SystemTime> {
    lines.iter().find_map(|(_, l)| {
        let rest = l.trim().strip_prefix("Current server time is ")?;
        humantime::parse_rfc3339_weak(rest.trim()).ok()
    })
}

/// One protocol of `show protocols all`: its summary row and indented detail lines.
struct ProtocolBlock<'a> {
    line: usize,
    name: &'a str,
    proto: &'a str,
    state: &'a str,
    since: Option<BirdTime>,
    info: String,
    details: Vec<(usize, &'a str)>,
}

impl ProtocolBlock<'_> {
    fn detail(&self, key: &str) -> Option<(usize, &str)> {
        self.details.iter().find_map(|(n, l)| {
            let rest = l.trim().strip_prefix(key)?.strip_prefix(':')?;
            Some((*n, rest.trim()))
        })
    }
}

fn protocol_blocks<'a>(
    ctx: Ctx,
    lines: &[(usize, &'a str)],
) -> Result<Vec<ProtocolBlock<'a>>, ParseError> {
    let header = lines
        .iter()
        .position(|(_, l)| l.starts_with("Name ") && l.contains("Proto") && l.contains("State"))
        .ok_or_else(|| ctx.unexpected(None, "no `Name Proto Table State Since Info` header"))?;
    let mut blocks: Vec<ProtocolBlock> = Vec::new();
    for &(n, line) in &lines[header + 1..] {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            match blocks.last_mut() {
                Some(block) => block.details.push((n, line)),
                None => return Err(ctx.unexpected(Some(n), "detail line before any protocol")),
            }
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.len() < 4 {
            return Err(ctx.unexpected(Some(n), format!("short protocol row `{line}`")));
        }
        let (since, used) = match bird_time(&tokens[4..]) {
            Some((t, used)) => (Some(t), used),
            None => (None, 0),
        };
        blocks.push(ProtocolBlock {
            line: n,
            name: tokens[0],
            proto: tokens[1],
            state: tokens[3],
            since,
            info: tokens[4 + used..].join(" "),
            details: Vec::new(),
        });
    }
    Ok(blocks)
}

/// BGP sessions from `show protocols all` (optionally preceded by `show status`).
pub fn sessions(text: &str) -> Result<Vec<Session>, ParseError> {
    let ctx = Ctx::new(super::TOOL, SESSIONS_COMMAND);
    let lines = checked_lines(ctx, text)?;
    let now = server_time(&lines);
    let mut sessions = Vec::new();
    for block in protocol_blocks(ctx, &lines)? {
        if block.proto != "BGP" {
            continue;
        }
        // A template or `neighbor range` parent has no single neighbor: nothing to report.
        let Some((line, addr)) = block.detail("Neighbor address") else {
            continue;
        };
        let peer = ctx.ip(addr, Some(line))?;
        let as_number = |key: &str| -> Result<Option<u32>, ParseError> {
            match block.detail(key) {
                Some((n, v)) => v
                    .parse()
                    .map(Some)
                    .map_err(|_| ctx.unexpected(Some(n), format!("{key} `{v}` is not a number"))),
                None => Ok(None),
            }
        };
        let info_state = block.info.split_whitespace().next().unwrap_or("");
        let bgp_state = block
            .detail("BGP state")
            .map(|(_, s)| s)
            .unwrap_or(info_state);
        let state = if block.state == "down" {
            // The protocol is disabled (`disable` or `disabled;`): BGP state `Down`.
            SessionState::AdminDown
        } else {
            crate::parse::session_state(bgp_state).ok_or_else(|| {
                ctx.unexpected(
                    Some(block.line),
                    format!("protocol {}: unknown BGP state `{bgp_state}`", block.name),
                )
            })?
        };
        let last_error = block
            .detail("Last error")
            .map(|(_, e)| e.to_string())
            .or_else(|| {
                // e.g. `Idle          Error: BFD session down`
                let rest = block.info.strip_prefix(info_state)?.trim();
                (!rest.is_empty()).then(|| rest.to_string())
            });
        let prefixes_received = block
            .details
            .iter()
            .filter_map(|(_, l)| {
                let rest = l.trim().strip_prefix("Routes:")?;
                rest.split_whitespace().next()?.parse::<u64>().ok()
            })
            .reduce(|a, b| a + b)
            .filter(|_| state == SessionState::Established);
        sessions.push(Session {
            peer,
            remote_as: as_number("Neighbor AS")?,
            local_as: as_number("Local AS")?,
            state,
            since_secs: block.since.and_then(|t| seconds_between(t, now)),
            prefixes_received,
            name: Some(block.name.to_string()),
            last_error,
        });
    }
    sessions.sort_by_key(|s| s.peer);
    Ok(sessions)
}

/// A path being read from `show route all`, before its attribute lines are complete.
#[derive(Default)]
struct PathBuilder {
    /// The source protocol's class from `Type: BGP univ` (`BGP`, `static`, `inherit` for
    /// kernel, `device` for direct).
    source: Option<String>,
    best: bool,
    from: Option<IpAddr>,
    gateways: Vec<IpAddr>,
    bgp_next_hop: Option<IpAddr>,
    local_pref: Option<u32>,
    med: Option<u32>,
    as_path: Vec<u32>,
    communities: Vec<String>,
    origin: Option<crate::state::Origin>,
}

impl PathBuilder {
    fn is_bgp(&self) -> bool {
        self.source.as_deref() == Some("BGP")
    }

    /// BGP paths and the router's own announcements (metallab's templates announce with
    /// `protocol static`) are BGP's table; kernel (`inherit`) and direct (`device`) routes
    /// are the kernel's business, read from `ip route` instead.
    fn is_bgp_table(&self) -> bool {
        matches!(self.source.as_deref(), None | Some("BGP") | Some("static"))
    }

    fn finish(self) -> Path {
        let first_gateway = self.gateways.first().copied();
        if self.is_bgp() {
            Path {
                next_hop: self.bgp_next_hop.or(first_gateway),
                best: self.best,
                local_pref: self.local_pref,
                med: self.med,
                as_path: self.as_path,
                communities: self.communities,
                origin: self.origin,
                // BIRD shows `from` only when it differs from the gateway.
                from_peer: self.from.or(first_gateway),
                local: false,
            }
        } else {
            Path {
                next_hop: first_gateway,
                best: self.best,
                local: true,
                ..Path::default()
            }
        }
    }
}

/// The `[proto time from X] * (pref)` part of a route line: starts a new path.
fn path_header(ctx: Ctx, n: usize, rest: &str) -> Result<PathBuilder, ParseError> {
    let open = rest
        .find('[')
        .ok_or_else(|| ctx.unexpected(Some(n), "route line without `[protocol …]`"))?;
    let close = rest[open..]
        .find(']')
        .map(|i| open + i)
        .ok_or_else(|| ctx.unexpected(Some(n), "unclosed `[` in route line"))?;
    let inside: Vec<&str> = rest[open + 1..close].split_whitespace().collect();
    let from = match inside.iter().position(|t| *t == "from") {
        Some(i) => Some(ctx.ip(inside.get(i + 1).copied().unwrap_or(""), Some(n))?),
        None => None,
    };
    Ok(PathBuilder {
        best: rest[close + 1..].trim_start().starts_with('*'),
        from,
        ..PathBuilder::default()
    })
}

/// `(64500,100) (64500,200)` or `(64500, 1, 2)` groups as number lists.
fn paren_groups(n: usize, ctx: Ctx, text: &str) -> Result<Vec<Vec<u32>>, ParseError> {
    text.split('(')
        .skip(1)
        .map(|group| {
            let inner = group.split(')').next().unwrap_or("");
            inner
                .split(',')
                .map(|x| {
                    x.trim().parse::<u32>().map_err(|_| {
                        ctx.unexpected(Some(n), format!("community part `{x}` is not a number"))
                    })
                })
                .collect()
        })
        .collect()
}

fn attribute(ctx: Ctx, n: usize, path: &mut PathBuilder, line: &str) -> Result<(), ParseError> {
    let line = line.trim();
    let number = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| ctx.unexpected(Some(n), format!("`{v}` is not a number")))
    };
    if let Some(rest) = line.strip_prefix("via ") {
        let gw = rest.split_whitespace().next().unwrap_or("");
        path.gateways.push(ctx.ip(gw, Some(n))?);
    } else if let Some(kind) = line.strip_prefix("Type:") {
        path.source = kind.split_whitespace().next().map(str::to_string);
    } else if let Some((key, value)) = line.split_once(':') {
        let value = value.trim();
        match key {
            "BGP.origin" => {
                path.origin =
                    Some(origin_from_name(value).ok_or_else(|| {
                        ctx.unexpected(Some(n), format!("unknown origin `{value}`"))
                    })?)
            }
            "BGP.as_path" => {
                path.as_path = as_numbers(value).map_err(|e| ctx.unexpected(Some(n), e))?
            }
            // IPv6 routes may list a global and a link-local next hop: the first is the one.
            "BGP.next_hop" => {
                let first = value.split_whitespace().next().unwrap_or("");
                path.bgp_next_hop = Some(ctx.ip(first, Some(n))?);
            }
            "BGP.med" => path.med = Some(number(value)?),
            "BGP.local_pref" => path.local_pref = Some(number(value)?),
            "BGP.community" => {
                for group in paren_groups(n, ctx, value)? {
                    match group[..] {
                        [a, b] => path.communities.push(format!("{a}:{b}")),
                        _ => return Err(ctx.unexpected(Some(n), "community is not (a,b)")),
                    }
                }
            }
            "BGP.large_community" => {
                for group in paren_groups(n, ctx, value)? {
                    match group[..] {
                        [a, b, c] => path.communities.push(large_community(a, b, c)),
                        _ => return Err(ctx.unexpected(Some(n), "large community is not (a,b,c)")),
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The BGP routes and own announcements of every table in `show route all`, with all their
/// paths; a prefix with only kernel or direct paths is left out.
pub fn routes(text: &str) -> Result<Vec<Route>, ParseError> {
    let ctx = Ctx::new(super::TOOL, ROUTES_COMMAND);
    let lines = checked_lines(ctx, text)?;
    let mut routes: Vec<Route> = Vec::new();
    let mut current: Option<(IpNet, Vec<Path>)> = None;
    let mut path: Option<PathBuilder> = None;
    let finish_path = |path: &mut Option<PathBuilder>, current: &mut Option<(IpNet, Vec<Path>)>| {
        if let (Some(p), Some((_, paths))) = (path.take(), current.as_mut())
            && p.is_bgp_table()
        {
            paths.push(p.finish());
        }
    };
    for &(n, line) in &lines {
        if line.trim().is_empty() || is_greeting(line) {
            continue;
        }
        if line.starts_with('\t') {
            let p = path
                .as_mut()
                .ok_or_else(|| ctx.unexpected(Some(n), "attribute line before any route"))?;
            attribute(ctx, n, p, line)?;
        } else if line.starts_with(' ') {
            // Another path of the same prefix: the network column is blank.
            finish_path(&mut path, &mut current);
            if current.is_none() {
                return Err(ctx.unexpected(Some(n), "continuation path before any prefix"));
            }
            path = Some(path_header(ctx, n, line)?);
        } else if line.starts_with("Table ") && line.trim_end().ends_with(':') {
            continue;
        } else {
            finish_path(&mut path, &mut current);
            if let Some((prefix, paths)) = current.take() {
                routes.push(Route { prefix, paths });
            }
            let network = line.split_whitespace().next().unwrap_or("");
            let prefix: IpNet = network
                .parse()
                .map_err(|_| ctx.unexpected(Some(n), format!("`{network}` is not a prefix")))?;
            current = Some((prefix, Vec::new()));
            path = Some(path_header(ctx, n, &line[network.len()..])?);
        }
    }
    finish_path(&mut path, &mut current);
    if let Some((prefix, paths)) = current.take() {
        routes.push(Route { prefix, paths });
    }
    routes.retain(|r| !r.paths.is_empty());
    routes.sort_by_key(|r| r.prefix);
    Ok(routes)
}

/// BFD sessions from `show bfd sessions` (optionally preceded by `show status`).
pub fn bfd_peers(text: &str) -> Result<Vec<BfdPeer>, ParseError> {
    let ctx = Ctx::new(super::TOOL, BFD_COMMAND);
    let lines = checked_lines(ctx, text)?;
    let now = server_time(&lines);
    let mut peers = Vec::new();
    let mut in_table = false;
    for &(n, line) in &lines {
        let l = line.trim();
        if l.is_empty() || is_greeting(line) {
            continue;
        }
        if l.starts_with("IP address") {
            in_table = true;
            continue;
        }
        // `bfd1:` starts the next protocol's table.
        if l.ends_with(':') && !l.contains(' ') {
            in_table = false;
            continue;
        }
        if !in_table {
            continue;
        }
        let tokens: Vec<&str> = l.split_whitespace().collect();
        let peer = ctx.ip(tokens[0], Some(n))?;
        // Interface is blank for multihop sessions.
        let (interface, state_at) = match tokens.get(1).and_then(|t| BfdState::parse(t)) {
            Some(_) => (None, 1),
            None => (tokens.get(1).map(|s| s.to_string()), 2),
        };
        let state_text = tokens.get(state_at).copied().unwrap_or("");
        let state = BfdState::parse(state_text)
            .ok_or_else(|| ctx.unexpected(Some(n), format!("unknown BFD state `{state_text}`")))?;
        let since = bird_time(&tokens[(state_at + 1).min(tokens.len())..]).map(|(t, _)| t);
        peers.push(BfdPeer {
            peer,
            local: None,
            interface,
            state,
            since_secs: since.and_then(|t| seconds_between(t, now)),
        });
    }
    peers.sort_by_key(|b| b.peer);
    Ok(peers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::fixture_body;
    use crate::state::Origin;
    use crate::test_support::{ip, net};

    fn session<'a>(sessions: &'a [Session], name: &str) -> &'a Session {
        sessions
            .iter()
            .find(|s| s.name.as_deref() == Some(name))
            .unwrap()
    }

    #[test]
    fn sessions_steady_state_short_time_format() {
        let text = include_str!("fixtures/show-protocols-all.txt");
        let sessions = sessions(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(sessions);
        // Only BGP protocols; device, kernel, static and bfd are not sessions.
        assert_eq!(sessions.len(), 4);
        let frr1 = session(&sessions, "frr1");
        assert_eq!(frr1.peer, ip("10.211.1.11"));
        assert_eq!((frr1.remote_as, frr1.local_as), (Some(64500), Some(64501)));
        assert_eq!(frr1.state, SessionState::Established);
        assert_eq!(frr1.prefixes_received, Some(5));
        // Up since 05:48:43.144, server time 05:49:39.852.
        assert_eq!(frr1.since_secs, Some(56));
        let never = session(&sessions, "never_up");
        assert_eq!(never.peer, ip("10.211.1.99"));
        assert!(matches!(
            never.state,
            SessionState::Connect | SessionState::Active
        ));
        assert_eq!(
            never.last_error.as_deref(),
            Some("Socket: No route to host")
        );
    }

    #[test]
    fn sessions_iso_long_time_format() {
        let text = include_str!("fixtures/iso-long-show-protocols-all.txt");
        let sessions = sessions(fixture_body(text)).unwrap();
        let frr2 = session(&sessions, "frr2");
        assert_eq!(frr2.state, SessionState::Established);
        // Up since 2026-11-21 05:48:14; the server time line is read from the same output.
        assert!(
            frr2.since_secs.is_some_and(|s| (90..=120).contains(&s)),
            "{frr2:?}"
        );
    }

    #[test]
    fn sessions_degraded() {
        let text = include_str!("fixtures/degraded-show-protocols-all.txt");
        let sessions = sessions(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(sessions);
        let disabled = session(&sessions, "gobgp1");
        assert_eq!(disabled.state, SessionState::AdminDown);
        assert_eq!(disabled.peer, ip("10.211.1.31"));
        assert_eq!(disabled.prefixes_received, None);
        let dropped = session(&sessions, "frr2");
        assert_eq!(dropped.state, SessionState::Active);
        assert_eq!(
            dropped.last_error.as_deref(),
            Some("Socket: Connection refused")
        );
        // Down since 05:51:54, server time 05:56:08.853.
        assert_eq!(dropped.since_secs, Some(254));
        assert_eq!(session(&sessions, "frr1").state, SessionState::Established);
    }

    #[test]
    fn routes_steady_state() {
        let text = include_str!("fixtures/show-route-all.txt");
        let routes = routes(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(routes);

        // Originated by a static blackhole, also learned from GoBGP.
        let doc = routes
            .iter()
            .find(|r| r.prefix == net("198.51.100.0/24"))
            .unwrap();
        assert_eq!(doc.paths.len(), 2);
        let own = doc.best().unwrap();
        assert!(own.local && own.next_hop.is_none() && own.from_peer.is_none());
        let learned = &doc.paths[1];
        assert_eq!(learned.next_hop, Some(ip("10.211.1.31")));
        assert_eq!(learned.from_peer, Some(ip("10.211.1.31")));
        assert_eq!((learned.med, learned.local_pref), (Some(40), Some(100)));
        assert_eq!(learned.communities, vec!["64502:20"]);

        // Three paths; two from the FRR pair, frr2's with a third-party next hop.
        let three = routes
            .iter()
            .find(|r| r.prefix == net("192.0.2.0/24"))
            .unwrap();
        assert_eq!(three.paths.len(), 3);
        assert_eq!(
            three.next_hops(),
            vec![ip("10.211.1.11"), ip("10.211.1.31")]
        );
        let best = three.best().unwrap();
        assert_eq!(best.from_peer, Some(ip("10.211.1.12")));
        assert_eq!(best.next_hop, Some(ip("10.211.1.11")));
        assert_eq!(best.as_path, vec![64500]);
        let via_frr1 = three.paths.iter().find(|p| p.med == Some(30)).unwrap();
        assert_eq!(
            via_frr1.communities,
            vec!["64500:100", "64500:200", "large:64500:1:2"]
        );
        assert_eq!(via_frr1.origin, Some(Origin::Igp));
        assert_eq!(three.paths.iter().filter(|p| p.best).count(), 1);
    }

    #[test]
    fn routes_iso_long_and_degraded() {
        let text = include_str!("fixtures/iso-long-show-route-all.txt");
        let long = routes(fixture_body(text)).unwrap();
        let text = include_str!("fixtures/show-route-all.txt");
        let short = routes(fixture_body(text)).unwrap();
        // Only the time format differs between the two recordings.
        assert_eq!(long, short);

        let text = include_str!("fixtures/degraded-show-route-all.txt");
        let degraded = routes(fixture_body(text)).unwrap();
        // frr2 and gobgp1 are down: nothing learned from them remains.
        for r in &degraded {
            for p in &r.paths {
                assert!(p.local || p.from_peer == Some(ip("10.211.1.11")), "{r:?}");
            }
        }
        assert!(degraded.iter().any(|r| r.prefix == net("192.0.2.0/24")));
    }

    #[test]
    fn routes_are_bgp_and_own_announcements_only() {
        // Recorded with the template's device, direct and kernel (`learn`) protocols: BIRD's
        // table also holds the default route, a route added with `ip route` and the
        // connected subnet, none of which BGP knows about.
        let text = include_str!("fixtures/kernel-direct-show-route-all.txt");
        let body = fixture_body(text);
        assert!(body.contains("Type: inherit univ") && body.contains("Type: device univ"));
        let routes = routes(body).unwrap();
        let prefixes: Vec<IpNet> = routes.iter().map(|r| r.prefix).collect();
        assert_eq!(
            prefixes,
            vec![net("198.51.100.0/24"), net("203.0.113.0/24")],
            "no kernel, direct or device route: {routes:?}"
        );
        let own = &routes[0].paths;
        assert!(own.len() == 1 && own[0].local && own[0].best);
        let learned = routes[1].best().unwrap();
        assert!(!learned.local);
        assert_eq!(learned.from_peer, Some(ip("10.212.9.22")));
        assert_eq!(learned.as_path, vec![64503]);
    }

    #[test]
    fn static_multipath_route_keeps_first_gateway_and_is_local() {
        let text = include_str!("fixtures/static-ecmp-show-route-all.txt");
        let routes = routes(fixture_body(text)).unwrap();
        let ecmp = routes
            .iter()
            .find(|r| r.prefix == net("192.0.2.200/32"))
            .unwrap();
        // `via 10.211.1.11 … weight 1` and `via 10.211.1.12 … weight 1` under one path.
        assert_eq!(ecmp.paths.len(), 1);
        let p = &ecmp.paths[0];
        assert!(p.local && p.best);
        assert_eq!(p.next_hop, Some(ip("10.211.1.11")));
        assert_eq!(p.from_peer, None);
        let learned = routes
            .iter()
            .find(|r| r.prefix == net("192.0.2.0/24"))
            .unwrap();
        assert_eq!(learned.best().unwrap().from_peer, Some(ip("10.211.1.11")));
    }

    #[test]
    fn bfd_sessions_all_states() {
        let text = include_str!("fixtures/show-bfd-sessions.txt");
        let peers = bfd_peers(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(peers);
        assert_eq!(peers.len(), 2);
        assert!(peers.iter().all(|p| p.state == BfdState::Up));
        assert_eq!(peers[0].peer, ip("10.211.1.11"));
        assert_eq!(peers[0].interface.as_deref(), Some("eth0"));
        // Up since 05:48:43.143, server time 05:49:40.027.
        assert_eq!(peers[0].since_secs, Some(56));

        let text = include_str!("fixtures/degraded-show-bfd-sessions.txt");
        let peers = bfd_peers(fixture_body(text)).unwrap();
        let frr2 = peers.iter().find(|p| p.peer == ip("10.211.1.12")).unwrap();
        assert_eq!(frr2.state, BfdState::Down);
        let frr1 = peers.iter().find(|p| p.peer == ip("10.211.1.11")).unwrap();
        assert_eq!(frr1.state, BfdState::Up);

        let text = include_str!("fixtures/iso-long-show-bfd-sessions.txt");
        let peers = bfd_peers(fixture_body(text)).unwrap();
        assert_eq!(peers.len(), 2);
        assert!(peers.iter().all(|p| p.since_secs.is_some()));
    }

    #[test]
    fn daemon_errors_are_errors() {
        // birdc's complaint goes to stderr; stdout is empty.
        let text = include_str!("fixtures/error-killed-show-route-all.txt");
        let err = routes(fixture_body(text)).unwrap_err();
        assert!(matches!(err, ParseError::Empty { .. }), "{err}");

        let stderr = include_str!("fixtures/error-killed-show-route-all.stderr.txt");
        let err = routes(fixture_body(stderr)).unwrap_err();
        assert!(matches!(err, ParseError::Daemon { .. }), "{err}");
        assert!(err.to_string().contains("Connection refused"), "{err}");

        let stderr = include_str!("fixtures/error-not-running-show-protocols-all.stderr.txt");
        let err = sessions(fixture_body(stderr)).unwrap_err();
        assert!(
            err.to_string().contains("No such file or directory"),
            "{err}"
        );

        let err = sessions("BIRD 2.0.12 ready.\nNonsense\n").unwrap_err();
        assert!(matches!(err, ParseError::Unexpected { .. }), "{err}");
    }

    #[test]
    fn bird_times() {
        assert_eq!(
            bird_time(&["05:48:13.875"]),
            Some((BirdTime::TimeOfDay(20893.875), 1))
        );
        assert_eq!(bird_time(&["2026-11-20", "x"]), Some((BirdTime::Date, 1)));
        assert!(matches!(
            bird_time(&["2026-11-21", "05:48:13", "Established"]),
            Some((BirdTime::DateTime(_), 2))
        ));
        assert_eq!(bird_time(&["Established"]), None);
        // Wraps past midnight.
        let now = humantime::parse_rfc3339_weak("2026-11-21 00:00:10").unwrap();
        assert_eq!(
            seconds_between(BirdTime::TimeOfDay(86_390.0), Some(now)),
            Some(20)
        );
        assert_eq!(seconds_between(BirdTime::Date, Some(now)), None);
    }
}
