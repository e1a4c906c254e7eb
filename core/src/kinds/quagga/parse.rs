//! Quagga 1.2.4 (`vtysh`) text output → state. Quagga has no JSON at all.
//!
//! Fixtures: `tests/fixtures/quagga/` (recorded by a colleague, see its README.md).
//! Commands (see `drivers::query`):
//! - sessions: `show ip bgp neighbors` — one block per peer with AS numbers, description,
//!   state, time since up or since the last reset and its reason, accepted prefixes
//!   (`show ip bgp summary` also parses, with less);
//! - routes: `show ip bgp` — the table, whose network column omits classful prefix
//!   lengths (`192.0.2.0` means /24). It shows neither communities nor the peer a path
//!   came from: those stay empty/None.
//!
//! Quagga prints its errors on stdout, mostly with exit code 0, and prints *nothing* when
//! bgpd is unreachable (or has no `router bgp`): empty output is an error here.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};

use crate::parse::{Ctx, ParseError, as_numbers, origin_from_name};
use crate::state::{Path, Route, Session, SessionState};

pub const SESSIONS_COMMAND: &str = "show ip bgp neighbors";
pub const SUMMARY_COMMAND: &str = "show ip bgp summary";
pub const ROUTES_COMMAND: &str = "show ip bgp";

const EMPTY_HINT: &str =
    "bgpd is not reachable or has no `router bgp` (Quagga prints nothing then)";

/// Quagga's error texts, all on stdout.
fn check_errors(ctx: Ctx, text: &str) -> Result<(), ParseError> {
    let Some(first) = crate::parse::first_meaningful_line(text) else {
        return Err(ctx.empty(EMPTY_HINT));
    };
    if first.starts_with('%')
        || first.starts_with("No BGP process is configured")
        || first.starts_with("Exiting: failed to connect")
    {
        return Err(ctx.daemon(first.trim_start_matches('%').trim()));
    }
    Ok(())
}

/// Quagga's `Up/Down` and `up for`/`Last reset` durations: `hh:mm:ss`, `XdHHhMMm`,
/// `WWwDdHHh`, `YYyWWwDd`; `never` is None.
fn duration_secs(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.contains(':') {
        let parts: Vec<u64> = text
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        return match parts[..] {
            [h, m, s] => Some(h * 3600 + m * 60 + s),
            _ => None,
        };
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        total += n * match c {
            'y' => 365 * 86_400,
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            _ => return None,
        };
    }
    number.is_empty().then_some(total)
}

/// Splits on runs of whitespace into at most `max` fields, the last one holding the rest.
fn split_fields(line: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::with_capacity(max);
    let mut rest = line.trim();
    while out.len() + 1 < max {
        let Some((field, tail)) = rest.split_once(char::is_whitespace) else {
            break;
        };
        out.push(field);
        rest = tail.trim_start();
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Sessions from `show ip bgp neighbors`, or from `show ip bgp summary`.
pub fn sessions(text: &str) -> Result<Vec<Session>, ParseError> {
    if text.lines().any(|l| l.starts_with("BGP neighbor is ")) {
        sessions_from_neighbors(text)
    } else {
        sessions_from_summary(text)
    }
}

fn sessions_from_neighbors(text: &str) -> Result<Vec<Session>, ParseError> {
    let ctx = Ctx::new(super::TOOL, SESSIONS_COMMAND);
    check_errors(ctx, text)?;
    let mut sessions: Vec<Session> = Vec::new();
    let mut admin_shut = false;
    for (i, line) in text.lines().enumerate() {
        let n = Some(i + 1);
        let l = line.trim();
        if let Some(rest) = line.strip_prefix("BGP neighbor is ") {
            // `BGP neighbor is 10.198.0.20, remote AS 64500, local AS 64512, external link`
            let fields: Vec<&str> = rest.split(',').map(str::trim).collect();
            let peer = ctx.ip(fields[0], n)?;
            let as_after = |label: &str| {
                fields
                    .iter()
                    .find_map(|f| f.strip_prefix(label))
                    .and_then(|v| v.trim().parse::<u32>().ok())
            };
            sessions.push(Session {
                peer,
                remote_as: as_after("remote AS "),
                local_as: as_after("local AS "),
                state: SessionState::Idle,
                since_secs: None,
                prefixes_received: None,
                name: None,
                last_error: None,
            });
            admin_shut = false;
            continue;
        }
        let Some(s) = sessions.last_mut() else {
            return Err(ctx.unexpected(n, "text before the first `BGP neighbor is`"));
        };
        if let Some(desc) = l.strip_prefix("Description: ") {
            s.name = Some(desc.to_string());
        } else if l == "Administratively shut down" {
            admin_shut = true;
            s.state = SessionState::AdminDown;
        } else if let Some(rest) = l.strip_prefix("BGP state = ") {
            // `Established, up for 00:01:15` or `Active`
            let (state_text, up_for) = match rest.split_once(',') {
                Some((st, tail)) => (st, tail.trim().strip_prefix("up for ")),
                None => (rest, None),
            };
            let state = crate::parse::session_state(state_text)
                .ok_or_else(|| ctx.unexpected(n, format!("unknown BGP state `{state_text}`")))?;
            if !admin_shut {
                s.state = state;
            }
            if let Some(d) = up_for {
                s.since_secs = duration_secs(d);
            }
        } else if let Some(count) = l.strip_suffix(" accepted prefixes") {
            s.prefixes_received = count.trim().parse().ok();
        } else if let Some(rest) = l.strip_prefix("Last reset ") {
            // `Last reset never` or `Last reset 00:00:10, due to BGP Notification received`
            if let Some((ago, reason)) = rest.split_once(", due to ") {
                if s.state != SessionState::Established {
                    s.since_secs = duration_secs(ago);
                }
                s.last_error = Some(reason.trim().to_string());
            }
        }
    }
    for s in &mut sessions {
        // The counter is only meaningful while established.
        if s.state != SessionState::Established {
            s.prefixes_received = None;
        }
    }
    sessions.sort_by_key(|s| s.peer);
    Ok(sessions)
}

fn sessions_from_summary(text: &str) -> Result<Vec<Session>, ParseError> {
    let ctx = Ctx::new(super::TOOL, SUMMARY_COMMAND);
    check_errors(ctx, text)?;
    let local_as = text.lines().find_map(|l| {
        l.split_once("local AS number ")
            .and_then(|(_, v)| v.trim().parse::<u32>().ok())
    });
    let mut lines = text.lines().enumerate();
    if !lines.any(|(_, l)| l.starts_with("Neighbor ") && l.contains("State/PfxRcd")) {
        return Err(ctx.unexpected(None, "no `Neighbor … State/PfxRcd` header"));
    }
    let mut sessions = Vec::new();
    for (i, line) in lines {
        let n = Some(i + 1);
        if line.trim().is_empty() {
            break;
        }
        // Columns are not fixed (a 4-byte ASN pushes the rest right) and `Idle (Admin)`
        // has a space: split on whitespace into at most 10 fields.
        let fields = split_fields(line, 10);
        if fields.len() < 10 {
            return Err(ctx.unexpected(n, format!("short neighbor row `{line}`")));
        }
        let peer = ctx.ip(fields[0], n)?;
        let last = fields[9];
        let (state, prefixes) = match last.parse::<u64>() {
            Ok(count) => (SessionState::Established, Some(count)),
            Err(_) => (
                crate::parse::session_state(last)
                    .ok_or_else(|| ctx.unexpected(n, format!("unknown state `{last}`")))?,
                None,
            ),
        };
        sessions.push(Session {
            peer,
            remote_as: fields[2].parse().ok(),
            local_as,
            state,
            since_secs: duration_secs(fields[8]),
            prefixes_received: prefixes,
            name: None,
            last_error: None,
        });
    }
    sessions.sort_by_key(|s| s.peer);
    Ok(sessions)
}

/// The prefix length Quagga left out: it prints none when the length equals the classful
/// mask (class A /8, B /16, C /24) and for 0.0.0.0 (the default route).
fn classful_prefix(addr: Ipv4Addr) -> Option<Ipv4Net> {
    let first = addr.octets()[0];
    let len = if addr.is_unspecified() {
        0
    } else if first < 128 {
        8
    } else if first < 192 {
        16
    } else if first < 224 {
        24
    } else {
        return None;
    };
    Ipv4Net::new(addr, len).ok()
}

fn network(ctx: Ctx, n: Option<usize>, text: &str) -> Result<IpNet, ParseError> {
    if text.contains('/') {
        return text
            .parse()
            .map_err(|_| ctx.unexpected(n, format!("`{text}` is not a prefix")));
    }
    let addr: Ipv4Addr = text
        .parse()
        .map_err(|_| ctx.unexpected(n, format!("`{text}` is not an IPv4 network")))?;
    classful_prefix(addr)
        .map(IpNet::V4)
        .ok_or_else(|| ctx.unexpected(n, format!("`{text}` has no prefix length and no class")))
}

/// Routes from the `show ip bgp` table.
pub fn routes(text: &str) -> Result<Vec<Route>, ParseError> {
    let ctx = Ctx::new(super::TOOL, ROUTES_COMMAND);
    check_errors(ctx, text)?;
    if text.trim_start().starts_with("No BGP prefixes displayed") {
        return Ok(Vec::new());
    }
    let mut lines = text.lines().enumerate();
    if !lines.any(|(_, l)| l.trim_start().starts_with("Network") && l.contains("Next Hop")) {
        return Err(ctx.unexpected(None, "no `Network  Next Hop …` header"));
    }
    let mut routes: Vec<Route> = Vec::new();
    // A network longer than its column is printed alone; its path follows on the next line.
    let mut wrapped: Option<(String, IpNet)> = None;
    for (i, line) in lines {
        let n = Some(i + 1);
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with("Displayed ") || line.starts_with("Total number") {
            break;
        }
        if line.len() < 3 {
            return Err(ctx.unexpected(n, format!("short route line `{line}`")));
        }
        let (status, rest) = line.split_at(3);
        let (status, prefix, rest) = if let Some((status, prefix)) = wrapped.take() {
            (status, Some(prefix), line)
        } else if rest.starts_with(' ') {
            (status.to_string(), None, rest)
        } else {
            let (net_text, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            let prefix = network(ctx, n, net_text)?;
            if tail.trim().is_empty() {
                wrapped = Some((status.to_string(), prefix));
                continue;
            }
            (status.to_string(), Some(prefix), tail)
        };
        // After the network the columns are fixed: next hop `%-16s`, metric `%10s`,
        // local-pref `%7s`, weight `%7s`, a space, then the AS path and origin code.
        let offset = line.len() - rest.len();
        let hop_start = offset + (rest.len() - rest.trim_start().len());
        let column = |from: usize, to: usize| -> &str {
            line.get(hop_start + from..(hop_start + to).min(line.len()))
                .unwrap_or("")
                .trim()
        };
        let hop_text = line[hop_start..].split_whitespace().next().unwrap_or("");
        let next_hop: IpAddr = ctx.ip(hop_text, n)?;
        let number = |text: &str, what: &str| -> Result<Option<u32>, ParseError> {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse()
                .map(Some)
                .map_err(|_| ctx.unexpected(n, format!("{what} `{text}` is not a number")))
        };
        let med = number(column(16, 26), "metric")?;
        let local_pref = number(column(26, 33), "local-pref")?;
        // Weight (local to this router) is checked for shape only.
        number(column(33, 40), "weight")?;
        let mut path_tokens: Vec<&str> = column(40, usize::MAX / 2).split_whitespace().collect();
        let origin = match path_tokens.pop() {
            Some(code) => Some(
                origin_from_name(code)
                    .ok_or_else(|| ctx.unexpected(n, format!("unknown origin code `{code}`")))?,
            ),
            None => None,
        };
        let as_path = as_numbers(&path_tokens.join(" ")).map_err(|e| ctx.unexpected(n, e))?;
        let path = Path {
            next_hop: crate::parse::real_next_hop(next_hop),
            best: status.contains('>'),
            local_pref,
            med,
            as_path,
            communities: Vec::new(),
            origin,
            from_peer: None,
            // Originated here: Quagga prints next hop 0.0.0.0 (and weight 32768).
            local: next_hop.is_unspecified(),
        };
        match prefix {
            Some(prefix) => routes.push(Route {
                prefix,
                paths: vec![path],
            }),
            None => match routes.last_mut() {
                Some(route) => route.paths.push(path),
                None => return Err(ctx.unexpected(n, "second path before any prefix")),
            },
        }
    }
    routes.sort_by_key(|r| r.prefix);
    Ok(routes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::fixture_body;
    use crate::state::Origin;
    use crate::test_support::{ip, net};

    #[test]
    fn sessions_from_neighbors_steady_state() {
        let text = include_str!("fixtures/show-ip-bgp-neighbors.txt");
        let sessions = sessions(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(sessions);
        assert_eq!(sessions.len(), 5);
        let frr = &sessions[0];
        assert_eq!(frr.peer, ip("10.198.0.20"));
        assert_eq!((frr.remote_as, frr.local_as), (Some(64500), Some(64512)));
        assert_eq!(frr.state, SessionState::Established);
        assert_eq!(frr.since_secs, Some(75));
        assert_eq!(frr.prefixes_received, Some(2));
        assert_eq!(frr.name.as_deref(), Some("frr-ebgp"));
        let admin = &sessions[3];
        assert_eq!(admin.remote_as, Some(4_200_000_098));
        assert_eq!(admin.state, SessionState::AdminDown);
        assert_eq!(admin.name.as_deref(), Some("admin-down"));
        let never = &sessions[4];
        assert_eq!(never.state, SessionState::Connect);
        assert_eq!(
            (never.since_secs, never.last_error.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn sessions_from_summary_match_neighbors() {
        let summary = include_str!("fixtures/show-ip-bgp-summary.txt");
        let from_summary = sessions(fixture_body(summary)).unwrap();
        insta::assert_yaml_snapshot!(from_summary);
        let neighbors = include_str!("fixtures/show-ip-bgp-neighbors.txt");
        let from_neighbors = sessions(fixture_body(neighbors)).unwrap();
        for (a, b) in from_summary.iter().zip(&from_neighbors) {
            assert_eq!(
                (a.peer, a.remote_as, a.local_as),
                (b.peer, b.remote_as, b.local_as)
            );
            assert_eq!(a.state, b.state);
            assert_eq!(a.prefixes_received, b.prefixes_received);
        }
        assert_eq!(from_summary[3].state, SessionState::AdminDown);
    }

    #[test]
    fn sessions_after_a_peer_dropped() {
        let text = include_str!("fixtures/edge/peer-dropped-show-ip-bgp-neighbors-10.198.0.30.txt");
        let dropped = sessions(fixture_body(text)).unwrap();
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].state, SessionState::Active);
        assert_eq!(dropped[0].since_secs, Some(10));
        assert_eq!(
            dropped[0].last_error.as_deref(),
            Some("BGP Notification received")
        );
        assert_eq!(dropped[0].prefixes_received, None);

        let text = include_str!("fixtures/edge/peer-dropped-show-ip-bgp-summary.txt");
        let summary = sessions(fixture_body(text)).unwrap();
        let bird = summary
            .iter()
            .find(|s| s.peer == ip("10.198.0.30"))
            .unwrap();
        assert_eq!(
            (bird.state, bird.since_secs),
            (SessionState::Active, Some(10))
        );
    }

    #[test]
    fn routes_recover_classful_lengths() {
        let text = include_str!("fixtures/show-ip-bgp.txt");
        let routes = routes(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(routes);
        assert_eq!(
            routes.iter().map(|r| r.prefix).collect::<Vec<_>>(),
            vec![
                net("192.0.2.0/24"),
                net("198.51.100.0/32"),
                net("198.51.100.1/32"),
                net("203.0.113.5/32")
            ]
        );
        let ibgp = &routes[0];
        let p = &ibgp.paths[0];
        assert_eq!(p.next_hop, Some(ip("10.198.0.40")));
        assert_eq!((p.med, p.local_pref), (Some(0), Some(100)));
        assert!(p.as_path.is_empty());
        assert_eq!(p.origin, Some(Origin::Incomplete));

        // Two paths; the iBGP one is best (shorter AS path), see the README.
        let two = &routes[2];
        assert_eq!(two.paths.len(), 2);
        assert_eq!(two.next_hops(), vec![ip("10.198.0.20"), ip("10.198.0.40")]);
        assert_eq!(two.best().unwrap().next_hop, Some(ip("10.198.0.40")));
        let ebgp = &two.paths[1];
        assert_eq!((ebgp.local_pref, ebgp.as_path.clone()), (None, vec![64500]));
        assert!(!ebgp.best && !ebgp.local);

        let bird = &routes[3];
        assert_eq!(bird.paths[0].med, None);
        assert_eq!(bird.paths[0].as_path, vec![64501]);
    }

    #[test]
    fn routes_edge_cases() {
        let text = include_str!("fixtures/edge/empty-table-show-ip-bgp.txt");
        assert!(routes(fixture_body(text)).unwrap().is_empty());
        let text = include_str!("fixtures/edge/peer-dropped-show-ip-bgp.txt");
        assert_eq!(routes(fixture_body(text)).unwrap().len(), 3);
        let text = include_str!("fixtures/edge/no-router-bgp-show-ip-bgp.txt");
        let err = routes(fixture_body(text)).unwrap_err();
        assert!(
            err.to_string().contains("No BGP process is configured"),
            "{err}"
        );
        let text = include_str!("fixtures/edge/zebra-only-show-ip-bgp.txt");
        assert!(matches!(
            routes(fixture_body(text)).unwrap_err(),
            ParseError::Empty { .. }
        ));
        let text = include_str!("fixtures/show-ip-bgp-json.txt");
        assert!(matches!(
            routes(fixture_body(text)).unwrap_err(),
            ParseError::Daemon { .. }
        ));
    }

    #[test]
    fn silent_and_error_outputs_are_errors() {
        for text in [
            include_str!("fixtures/edge/zebra-only-show-ip-bgp-summary.txt"),
            include_str!("fixtures/edge/no-router-bgp-show-ip-bgp-summary.txt"),
            include_str!("fixtures/edge/no-router-bgp-show-ip-bgp-neighbors.txt"),
        ] {
            let err = sessions(fixture_body(text)).unwrap_err();
            assert!(matches!(err, ParseError::Empty { .. }), "{err}");
        }
        for text in [
            include_str!("fixtures/edge/typo-show-ip-bgp-summmary.txt"),
            include_str!("fixtures/edge/unknown-neighbor-show-ip-bgp-neighbors-192.0.2.9.txt"),
            include_str!("fixtures/edge/no-daemons-show-ip-bgp-summary.txt"),
        ] {
            let err = sessions(fixture_body(text)).unwrap_err();
            assert!(matches!(err, ParseError::Daemon { .. }), "{err}");
        }
        let text = include_str!("fixtures/edge/empty-table-show-ip-bgp-summary.txt");
        let sessions = sessions(fixture_body(text)).unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].state, SessionState::Active);
        assert_eq!(sessions[0].local_as, Some(65000));
    }

    #[test]
    fn durations_in_every_quagga_format() {
        assert_eq!(duration_secs("00:01:15"), Some(75));
        assert_eq!(duration_secs("1d02h03m"), Some(86_400 + 7_200 + 180));
        assert_eq!(
            duration_secs("02w3d04h"),
            Some(2 * 604_800 + 3 * 86_400 + 4 * 3_600)
        );
        assert_eq!(
            duration_secs("01y02w3d"),
            Some(31_536_000 + 2 * 604_800 + 3 * 86_400)
        );
        assert_eq!(duration_secs("never"), None);
    }

    #[test]
    fn classful_lengths() {
        assert_eq!(
            classful_prefix("10.0.0.0".parse().unwrap()),
            Some("10.0.0.0/8".parse().unwrap())
        );
        assert_eq!(
            classful_prefix("172.16.0.0".parse().unwrap()),
            Some("172.16.0.0/16".parse().unwrap())
        );
        assert_eq!(
            classful_prefix("0.0.0.0".parse().unwrap()),
            Some("0.0.0.0/0".parse().unwrap())
        );
        assert_eq!(classful_prefix("224.0.0.0".parse().unwrap()), None);
    }
}
