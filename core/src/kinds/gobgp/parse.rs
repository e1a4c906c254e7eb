//! GoBGP (`gobgp … -j`) JSON output → state. Recorded against GoBGP 3.10.0 (Debian bookworm).
//!
//! Commands (see `drivers::query`):
//! - sessions: `date +%s && gobgp neighbor -j` — GoBGP reports up/down times as Unix
//!   timestamps, so the container's clock is read in the same exec to turn them into
//!   seconds ago (a bare `gobgp neighbor -j` also parses, with `since_secs` None);
//! - routes: `gobgp global rib -a ipv4 -j`.
//!
//! GoBGP has no BFD. When gobgpd is not running the CLI prints
//! `{"error":"context deadline exceeded"}` on stdout and exits 1.

use std::net::IpAddr;

use std::borrow::Cow;
use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Deserialize;

use crate::parse::json::{self, EachMember, Json};
use crate::parse::{Ctx, ParseError, community_from_u32, large_community, real_next_hop};
use crate::state::{Origin, Path, Route, Session, SessionState};

pub const SESSIONS_COMMAND: &str = "gobgp neighbor -j";
pub const ROUTES_COMMAND: &str = "gobgp global rib -a ipv4 -j";

/// Splits off the optional leading `date +%s` line and rejects gobgp's error texts.
fn json_body(ctx: Ctx, text: &str) -> Result<(Option<u64>, &str), ParseError> {
    let trimmed = text.trim_start();
    let (clock, body) = match trimmed.split_once('\n') {
        Some((first, rest)) if first.trim().parse::<u64>().is_ok() => {
            (first.trim().parse::<u64>().ok(), rest)
        }
        _ => (None, trimmed),
    };
    let body = body.trim();
    if body.is_empty() {
        return Err(ctx.empty("gobgp always prints JSON (at least `[]` or `{}`)"));
    }
    if !(body.starts_with('[') || body.starts_with('{')) {
        // e.g. `rpc error: code = Unavailable desc = connection error…` without -j
        return Err(ctx.daemon(body.lines().next().unwrap_or(body)));
    }
    // `{"error": "…"}`; read without keeping the rest (the body may be a 100k-route table).
    if let Some(msg) = json::top_level_member(body, "error")
        && let Some(msg) = msg.as_str()
    {
        return Err(ctx.daemon(msg));
    }
    Ok((clock, body))
}

#[derive(Deserialize)]
struct Neighbor {
    #[serde(default)]
    conf: NeighborConf,
    #[serde(default)]
    state: NeighborState,
    #[serde(default)]
    timers: Timers,
    #[serde(default)]
    afi_safis: Vec<AfiSafi>,
}

#[derive(Deserialize, Default)]
struct NeighborConf {
    description: Option<String>,
    local_asn: Option<u32>,
    neighbor_address: Option<String>,
    peer_asn: Option<u32>,
}

#[derive(Deserialize, Default)]
struct NeighborState {
    neighbor_address: Option<String>,
    peer_asn: Option<u32>,
    /// apipb.PeerState.SessionState: 1 idle … 6 established.
    #[serde(default)]
    session_state: i64,
    /// apipb.PeerState.AdminState: 0 up, 1 down, 2 max-prefix reached.
    #[serde(default)]
    admin_state: i64,
}

#[derive(Deserialize, Default)]
struct Timers {
    #[serde(default)]
    state: TimersState,
}

#[derive(Deserialize, Default)]
struct TimersState {
    uptime: Option<Timestamp>,
    downtime: Option<Timestamp>,
}

#[derive(Deserialize)]
struct Timestamp {
    seconds: Option<u64>,
}

#[derive(Deserialize)]
struct AfiSafi {
    #[serde(default)]
    state: AfiSafiState,
}

#[derive(Deserialize, Default)]
struct AfiSafiState {
    accepted: Option<u64>,
}

fn session_state(code: i64) -> Option<SessionState> {
    Some(match code {
        // 0 is UNKNOWN: seen only transiently, nothing is up.
        0 | 1 => SessionState::Idle,
        2 => SessionState::Connect,
        3 => SessionState::Active,
        4 => SessionState::OpenSent,
        5 => SessionState::OpenConfirm,
        6 => SessionState::Established,
        _ => return None,
    })
}

/// Sessions from `gobgp neighbor -j`, optionally preceded by a `date +%s` line.
pub fn sessions(text: &str) -> Result<Vec<Session>, ParseError> {
    let ctx = Ctx::new(super::TOOL, SESSIONS_COMMAND);
    let (now, body) = json_body(ctx, text)?;
    let neighbors: Vec<Neighbor> = ctx.json(body)?;
    let mut sessions = Vec::with_capacity(neighbors.len());
    for n in neighbors {
        let addr = n
            .state
            .neighbor_address
            .as_deref()
            .or(n.conf.neighbor_address.as_deref())
            .ok_or_else(|| ctx.unexpected(None, "a neighbor without address"))?;
        let peer = ctx.ip(addr, None)?;
        let state = if n.state.admin_state == 1 {
            SessionState::AdminDown
        } else {
            session_state(n.state.session_state).ok_or_else(|| {
                ctx.unexpected(
                    None,
                    format!(
                        "neighbor {peer}: unknown session_state {}",
                        n.state.session_state
                    ),
                )
            })?
        };
        // The last transition: up when established, else the last time it went down.
        let changed_at = if state == SessionState::Established {
            n.timers.state.uptime.and_then(|t| t.seconds)
        } else {
            n.timers.state.downtime.and_then(|t| t.seconds)
        };
        let since_secs = match (now, changed_at) {
            (Some(now), Some(at)) => Some(now.saturating_sub(at)),
            _ => None,
        };
        let prefixes_received = n
            .afi_safis
            .iter()
            .filter_map(|a| a.state.accepted)
            .reduce(|a, b| a + b)
            .filter(|_| state == SessionState::Established);
        sessions.push(Session {
            peer,
            remote_as: n.state.peer_asn.or(n.conf.peer_asn),
            local_as: n.conf.local_asn,
            state,
            since_secs,
            prefixes_received,
            name: n.conf.description.filter(|d| !d.is_empty()),
            last_error: None,
        });
    }
    sessions.sort_by_key(|s| s.peer);
    Ok(sessions)
}

#[derive(Deserialize)]
struct RibPath<'a> {
    #[serde(default)]
    best: bool,
    #[serde(default, borrow)]
    attrs: Vec<Json<'a>>,
    #[serde(rename = "neighbor-ip")]
    neighbor_ip: Option<String>,
}

/// Routes from `gobgp global rib -a ipv4 -j`: `{prefix: [path…]}`.
///
/// Read one route at a time (see `parse::json`): a 100k-route table is about 40 MB of JSON.
/// Each route is turned into a `Route` (or its error) as soon as it is read; the results
/// are then taken in prefix-text order, the last of repeated prefixes winning, as from a
/// `BTreeMap<String, Vec<RibPath>>` of the whole table.
pub fn routes(text: &str) -> Result<Vec<Route>, ParseError> {
    let ctx = Ctx::new(super::TOOL, ROUTES_COMMAND);
    let (_, body) = json_body(ctx, text)?;
    let results = route_results(ctx, body)?;
    let mut routes = Vec::with_capacity(results.len());
    for (_, route) in results {
        routes.push(route?);
    }
    routes.sort_by_key(|r| r.prefix);
    Ok(routes)
}

type RouteResults<'a> = BTreeMap<Cow<'a, str>, Result<Route, ParseError>>;

fn route_results<'a>(ctx: Ctx, body: &'a str) -> Result<RouteResults<'a>, ParseError> {
    let mut results = RouteResults::new();
    ctx.json_seed(
        body,
        EachMember::of_object(|key: Cow<'a, str>, paths: Vec<RibPath<'a>>| {
            let route = route(ctx, &key, &paths);
            results.insert(key, route);
        }),
    )?;
    Ok(results)
}

fn route(ctx: Ctx, key: &str, paths: &[RibPath]) -> Result<Route, ParseError> {
    let prefix: IpNet = key
        .parse()
        .map_err(|_| ctx.unexpected(None, format!("`{key}` is not a prefix")))?;
    let paths = paths
        .iter()
        .map(|p| path(ctx, &prefix, p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Route { prefix, paths })
}

fn path(ctx: Ctx, prefix: &IpNet, p: &RibPath) -> Result<Path, ParseError> {
    let bad = |what: String| ctx.unexpected(None, format!("{prefix}: {what}"));
    let u32_of = |v: Option<&Json>, what: &str| -> Result<u32, ParseError> {
        v.and_then(Json::as_u64)
            .and_then(|x| u32::try_from(x).ok())
            .ok_or_else(|| bad(format!("{what} is not a number")))
    };
    let ip_of = |v: Option<&Json>| -> Result<Option<IpAddr>, ParseError> {
        match v.and_then(Json::as_str) {
            Some(s) => {
                Ok(real_next_hop(s.parse().map_err(|_| {
                    bad(format!("next hop `{s}` is not an IP"))
                })?))
            }
            None => Ok(None),
        }
    };
    // The neighbor-ip of locally added paths is absent (or `<nil>` in some versions).
    let from_peer = p
        .neighbor_ip
        .as_deref()
        .and_then(|s| s.parse::<IpAddr>().ok())
        .and_then(real_next_hop);
    let mut out = Path {
        best: p.best,
        from_peer,
        local: from_peer.is_none(),
        ..Path::default()
    };
    // Attributes by BGP path-attribute type code (RFC 4271 and successors).
    for attr in &p.attrs {
        match attr.get("type").and_then(Json::as_u64) {
            Some(1) => {
                out.origin = Some(match attr.get("value").and_then(Json::as_u64) {
                    Some(0) => Origin::Igp,
                    Some(1) => Origin::Egp,
                    Some(2) => Origin::Incomplete,
                    other => return Err(bad(format!("unknown origin {other:?}"))),
                })
            }
            Some(2) => {
                for segment in attr
                    .get("as_paths")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                {
                    for asn in segment
                        .get("asns")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                    {
                        out.as_path.push(u32_of(Some(asn), "an AS number")?);
                    }
                }
            }
            Some(3) => out.next_hop = ip_of(attr.get("nexthop"))?,
            Some(4) => out.med = Some(u32_of(attr.get("metric"), "MED")?),
            Some(5) => out.local_pref = Some(u32_of(attr.get("value"), "local-pref")?),
            Some(8) => {
                for c in attr
                    .get("communities")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                {
                    out.communities
                        .push(community_from_u32(u32_of(Some(c), "a community")?));
                }
            }
            // MP_REACH_NLRI: where IPv6 (and RFC 8950) next hops live.
            Some(14) if out.next_hop.is_none() => {
                let first = attr
                    .get("nexthop")
                    .or_else(|| attr.get("nexthops").and_then(|n| n.get_index(0)));
                out.next_hop = ip_of(first)?;
            }
            Some(32) => {
                for c in attr
                    .get("value")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                {
                    out.communities.push(large_community(
                        u32_of(c.get("ASN"), "large community ASN")?,
                        u32_of(c.get("LocalData1"), "large community data")?,
                        u32_of(c.get("LocalData2"), "large community data")?,
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::fixture_body;
    use crate::test_support::{ip, net};

    #[test]
    fn sessions_steady_state() {
        let text = include_str!("fixtures/neighbor.txt");
        let sessions = sessions(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(sessions);
        assert_eq!(sessions.len(), 3);
        let frr1 = &sessions[0];
        assert_eq!(frr1.peer, ip("10.211.1.11"));
        assert_eq!((frr1.remote_as, frr1.local_as), (Some(64500), Some(64502)));
        assert_eq!(frr1.state, SessionState::Established);
        assert_eq!(frr1.name.as_deref(), Some("frr1-ebgp"));
        assert_eq!(frr1.prefixes_received, Some(5));
        assert!(frr1.since_secs.is_some());
        let never = &sessions[2];
        assert_eq!(never.peer, ip("10.211.1.99"));
        assert_eq!(never.state, SessionState::Active);
    }

    #[test]
    fn sessions_without_clock_line_have_no_since() {
        let text = fixture_body(include_str!("fixtures/neighbor.txt"));
        let json_only = text.split_once('\n').unwrap().1;
        let sessions = sessions(json_only).unwrap();
        assert_eq!(sessions.len(), 3);
        assert!(sessions.iter().all(|s| s.since_secs.is_none()));
    }

    #[test]
    fn sessions_degraded() {
        let text = include_str!("fixtures/degraded-neighbor.txt");
        let sessions = sessions(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(sessions);
        let frr1 = sessions
            .iter()
            .find(|s| s.peer == ip("10.211.1.11"))
            .unwrap();
        assert_eq!(frr1.state, SessionState::AdminDown);
        let bird = sessions
            .iter()
            .find(|s| s.peer == ip("10.211.1.21"))
            .unwrap();
        assert_eq!(bird.state, SessionState::Active);
        // Went down at 1795240576, clock read 1795240590.
        assert_eq!(bird.since_secs, Some(14));
    }

    #[test]
    fn routes_steady_state() {
        let text = include_str!("fixtures/global-rib-ipv4.txt");
        let routes = routes(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(routes);

        let own = routes
            .iter()
            .find(|r| r.prefix == net("203.0.113.64/26"))
            .unwrap();
        let p = own.best().unwrap();
        assert!(p.local && p.next_hop.is_none() && p.from_peer.is_none());
        assert_eq!(p.local_pref, Some(300));
        assert_eq!(p.communities, vec!["64502:40", "large:64502:2:3"]);

        let multi = routes
            .iter()
            .find(|r| r.prefix == net("198.51.100.0/24"))
            .unwrap();
        assert_eq!(multi.paths.len(), 3);
        assert_eq!(multi.next_hops(), vec![ip("10.211.1.21")]);
        let from_bird = multi
            .paths
            .iter()
            .find(|p| p.from_peer == Some(ip("10.211.1.21")))
            .unwrap();
        assert_eq!(from_bird.as_path, vec![64501]);
        assert_eq!(from_bird.med, Some(50));
        assert_eq!(from_bird.communities, vec!["64501:10", "64501:20"]);
        assert!(!from_bird.best);

        let learned = routes
            .iter()
            .find(|r| r.prefix == net("192.0.2.0/24"))
            .unwrap();
        let best = learned.best().unwrap();
        assert_eq!(best.from_peer, Some(ip("10.211.1.11")));
        assert_eq!(best.med, Some(30));
        assert_eq!(
            best.communities,
            vec!["64500:100", "64500:200", "large:64500:1:2"]
        );
        assert_eq!(best.origin, Some(Origin::Igp));

        let egp = routes
            .iter()
            .find(|r| r.prefix == net("192.0.2.64/26"))
            .unwrap();
        assert_eq!(egp.paths[0].origin, Some(Origin::Egp));
    }

    #[test]
    fn routes_read_route_by_route_as_from_one_map() {
        // The last of repeated prefixes wins, `{"error": …}` anywhere in the object is the
        // daemon's error, and a list is not a table.
        let text = r#"{"10.0.0.0/8": [{"attrs": [{"type": 4, "metric": 1}]}],
            "10.0.0.0/8": [{"attrs": [{"type": 4, "metric": 2}]}]}"#;
        let table = routes(text).unwrap();
        assert_eq!(table.len(), 1);
        assert_eq!(table[0].paths[0].med, Some(2));
        let err = routes(r#"{"10.0.0.0/8": [], "error": "boom"}"#).unwrap_err();
        assert!(matches!(err, ParseError::Daemon { .. }), "{err}");
        assert!(matches!(routes("[]"), Err(ParseError::Json { .. })));
    }

    #[test]
    fn routes_degraded() {
        let text = include_str!("fixtures/degraded-global-rib-ipv4.txt");
        let routes = routes(fixture_body(text)).unwrap();
        assert!(routes.iter().all(|r| r.paths.iter().all(|p| p.local)));
        let no_export = routes
            .iter()
            .find(|r| r.prefix == net("203.0.113.0/24"))
            .unwrap();
        assert_eq!(
            no_export.paths[0].communities,
            vec!["64502:30", "65535:65281", "large:64502:1:1"]
        );
    }

    #[test]
    fn daemon_errors_are_errors() {
        let text = include_str!("fixtures/error-not-running-neighbor.txt");
        let err = sessions(fixture_body(text)).unwrap_err();
        assert!(matches!(err, ParseError::Daemon { .. }), "{err}");
        assert!(
            err.to_string().contains("context deadline exceeded"),
            "{err}"
        );
        let text = include_str!("fixtures/error-not-running-global-rib-ipv4.txt");
        assert!(matches!(
            routes(fixture_body(text)).unwrap_err(),
            ParseError::Daemon { .. }
        ));
        assert!(matches!(
            sessions("").unwrap_err(),
            ParseError::Empty { .. }
        ));
        assert!(matches!(
            sessions("[{\"state\": {}}]").unwrap_err(),
            ParseError::Unexpected { .. }
        ));
        // No neighbors configured: a real empty list, not an error.
        assert!(sessions("[]\n").unwrap().is_empty());
    }
}
