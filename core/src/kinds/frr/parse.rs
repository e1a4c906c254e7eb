//! FRR (`vtysh`) JSON output → state. Recorded against FRR 8.4.4 (Debian bookworm).
//!
//! Commands (see `drivers::query`):
//! - sessions: `show bgp neighbors json` — the only view with remote *and* local AS, the
//!   description, admin shutdown, time since the last reset and why it happened
//!   (`sessions` also reads `show bgp [vrf default] summary json`, which lacks the reasons);
//! - routes: `show bgp ipv4 unicast json detail` — unlike plain `… json` it carries
//!   communities, large communities and the peer of every path (8.4 has no
//!   `show bgp … detail json`: that spelling is "% Unknown command");
//! - BFD: `show bfd peers json`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::parse::json::{EachMember, Json, Key, Skip, skip_seq};
use crate::parse::{
    Ctx, ParseError, as_numbers, first_meaningful_line, origin_from_name, real_next_hop,
    well_known_community,
};
use crate::state::{BfdPeer, BfdState, Path, Route, Session, SessionState};

pub const SESSIONS_COMMAND: &str = "show bgp neighbors json";
pub const ROUTES_COMMAND: &str = "show bgp ipv4 unicast json detail";
pub const BFD_COMMAND: &str = "show bfd peers json";

/// vtysh prints its own errors (`% Unknown command: …`, `% BGP instance not found`) as text
/// on stdout.
fn vtysh_error(ctx: Ctx, text: &str) -> Result<(), ParseError> {
    let Some(first) = first_meaningful_line(text) else {
        return Err(ctx.empty("vtysh reached no daemon that answers this command"));
    };
    if first.starts_with('%') || !(first.starts_with('{') || first.starts_with('[')) {
        return Err(ctx.daemon(first.trim_start_matches('%').trim()));
    }
    Ok(())
}

/// The JSON of `text`, or vtysh's error text, or bgpd's `{"warning": "…"}` for a missing
/// instance.
fn json_or_daemon_error(ctx: Ctx, text: &str) -> Result<Value, ParseError> {
    vtysh_error(ctx, text)?;
    let value: Value = ctx.json(text)?;
    if let Some(obj) = value.as_object() {
        for key in ["warning", "error"] {
            if let Some(msg) = obj.get(key).and_then(Value::as_str) {
                return Err(ctx.daemon(msg));
            }
        }
    }
    Ok(value)
}

fn u64_field(obj: &Map<String, Value>, key: &str) -> Option<u64> {
    obj.get(key).and_then(Value::as_u64)
}

fn u32_field(obj: &Map<String, Value>, key: &str) -> Option<u32> {
    u64_field(obj, key).and_then(|v| u32::try_from(v).ok())
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// Sessions from `show bgp neighbors json`.
pub fn sessions(text: &str) -> Result<Vec<Session>, ParseError> {
    let ctx = Ctx::new(super::TOOL, SESSIONS_COMMAND);
    let value = json_or_daemon_error(ctx, text)?;
    let top = value
        .as_object()
        .ok_or_else(|| ctx.unexpected(None, "top level is not an object keyed by neighbor"))?;
    if let Some(peers) = summary_peers(top) {
        return summary_sessions(ctx, peers);
    }
    let neighbors = top;
    let mut sessions = Vec::with_capacity(neighbors.len());
    for (key, neighbor) in neighbors {
        let n = neighbor
            .as_object()
            .ok_or_else(|| ctx.unexpected(None, format!("neighbor `{key}` is not an object")))?;
        // Unnumbered (interface) peers are keyed by interface name; their address is only
        // known once connected.
        let peer = match key.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => match str_field(n, "hostForeign").and_then(|h| h.parse().ok()) {
                Some(ip) => ip,
                None => continue,
            },
        };
        let state_text = str_field(n, "bgpState")
            .ok_or_else(|| ctx.unexpected(None, format!("neighbor {peer} has no bgpState")))?;
        let mut state = crate::parse::session_state(state_text).ok_or_else(|| {
            ctx.unexpected(
                None,
                format!("neighbor {peer}: unknown state `{state_text}`"),
            )
        })?;
        if n.get("adminShutDown").and_then(Value::as_bool) == Some(true) {
            state = SessionState::AdminDown;
        }
        let was_up = u64_field(n, "connectionsEstablished").unwrap_or(0) > 0;
        let dropped = u64_field(n, "connectionsDropped").unwrap_or(0) > 0;
        let since_secs = if state == SessionState::Established {
            u64_field(n, "bgpTimerUpMsec").map(|ms| ms / 1000)
        } else if was_up {
            // FRR's reset timer only means "since it went down" once it has been up.
            u64_field(n, "lastResetTimerMsecs").map(|ms| ms / 1000)
        } else {
            None
        };
        let last_error = if dropped {
            str_field(n, "lastResetDueTo").map(|reason| {
                match str_field(n, "lastNotificationReason") {
                    Some(notification) => format!("{reason}: {notification}"),
                    None => reason.to_string(),
                }
            })
        } else {
            None
        };
        let prefixes_received = n
            .get("addressFamilyInfo")
            .filter(|_| state == SessionState::Established)
            .and_then(|af| af.get("ipv4Unicast"))
            .and_then(|af| af.get("acceptedPrefixCounter"))
            .and_then(Value::as_u64);
        sessions.push(Session {
            peer,
            remote_as: u32_field(n, "remoteAs"),
            local_as: u32_field(n, "localAs"),
            state,
            since_secs,
            prefixes_received,
            name: str_field(n, "nbrDesc").map(str::to_string),
            last_error,
        });
    }
    sessions.sort_by_key(|s| s.peer);
    Ok(sessions)
}

/// The peers of a summary (`show bgp [vrf default|ipv4 unicast] summary json`), which
/// `sessions` also accepts: `{"ipv4Unicast": {"peers": …}}` or `{"peers": …}`.
fn summary_peers(top: &Map<String, Value>) -> Option<&Map<String, Value>> {
    top.get("ipv4Unicast")
        .and_then(|af| af.get("peers"))
        .or_else(|| top.get("peers"))
        .and_then(Value::as_object)
}

/// Sessions from summary JSON: no last error, and the time since the last change comes
/// from `peerUptimeMsec` (reset by FRR on every up and down transition; 0 when never up).
fn summary_sessions(ctx: Ctx, peers: &Map<String, Value>) -> Result<Vec<Session>, ParseError> {
    let mut sessions = Vec::with_capacity(peers.len());
    for (key, peer) in peers {
        let p = peer
            .as_object()
            .ok_or_else(|| ctx.unexpected(None, format!("peer `{key}` is not an object")))?;
        let Ok(ip) = key.parse::<IpAddr>() else {
            continue;
        };
        let state_text = str_field(p, "state").unwrap_or_default();
        let state = crate::parse::session_state(state_text).ok_or_else(|| {
            ctx.unexpected(None, format!("peer {ip}: unknown state `{state_text}`"))
        })?;
        sessions.push(Session {
            peer: ip,
            remote_as: u32_field(p, "remoteAs"),
            local_as: u32_field(p, "localAs"),
            state,
            since_secs: u64_field(p, "peerUptimeMsec")
                .filter(|&ms| ms > 0)
                .map(|ms| ms / 1000),
            prefixes_received: u64_field(p, "pfxRcd")
                .filter(|_| state == SessionState::Established),
            name: str_field(p, "desc").map(str::to_string),
            last_error: None,
        });
    }
    sessions.sort_by_key(|s| s.peer);
    Ok(sessions)
}

/// What `routes` needs of the top level, read in one pass: `warning` and `error` (the last of
/// each, as `Value::get` gives them) and the routes of the last `routes` member, each turned
/// into a `Route` (or its error) as soon as it is read, by prefix text in `Value`'s order.
#[derive(Default)]
struct Table<'a> {
    warning: Option<Json<'a>>,
    error: Option<Json<'a>>,
    /// `Some(None)`: `routes` is there but not an object.
    routes: Option<Option<RouteResults<'a>>>,
}

type RouteResults<'a> = BTreeMap<Cow<'a, str>, Result<Route, ParseError>>;

struct TableSeed(Ctx);

impl<'de> DeserializeSeed<'de> for TableSeed {
    type Value = Table<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Table<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TableSeed {
    type Value = Table<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Table<'de>, A::Error> {
        let ctx = self.0;
        let mut table = Table::default();
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "warning" => table.warning = Some(map.next_value()?),
                "error" => table.error = Some(map.next_value()?),
                "routes" => {
                    let mut results = RouteResults::new();
                    let is_object = map.next_value_seed(EachMember::of_any(
                        |key: Cow<'de, str>, entries: Json<'de>| {
                            let result = route(ctx, &key, &entries);
                            results.insert(key, result);
                        },
                    ))?;
                    table.routes = Some(is_object.then_some(results));
                }
                _ => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(table)
    }

    // Not an object: no routes (and no warning).
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Table<'de>, A::Error> {
        skip_seq(seq).map(|_| Table::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Table<'de>, E> {
        Ok(Table::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Table<'de>, E> {
        Ok(Table::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Table<'de>, E> {
        Ok(Table::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Table<'de>, E> {
        Ok(Table::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<Table<'de>, E> {
        Ok(Table::default())
    }

    fn visit_unit<E>(self) -> Result<Table<'de>, E> {
        Ok(Table::default())
    }
}

/// Routes from `show bgp ipv4 unicast json detail` (also accepts plain
/// `show bgp ipv4 unicast json`, which lacks communities and most peers).
///
/// Read one route at a time (see `parse::json`): a 100k-route table is about 70 MB of JSON.
pub fn routes(text: &str) -> Result<Vec<Route>, ParseError> {
    let ctx = Ctx::new(super::TOOL, ROUTES_COMMAND);
    vtysh_error(ctx, text)?;
    let table = ctx.json_seed(text, TableSeed(ctx))?;
    for message in [&table.warning, &table.error] {
        if let Some(msg) = message.as_ref().and_then(Json::as_str) {
            return Err(ctx.daemon(msg));
        }
    }
    let Some(results) = table.routes else {
        return Err(ctx.unexpected(None, "no `routes` object"));
    };
    let results = results.ok_or_else(|| ctx.unexpected(None, "`routes` is not an object"))?;
    let mut routes = Vec::with_capacity(results.len());
    for (_, route) in results {
        routes.push(route?);
    }
    routes.sort_by_key(|r| r.prefix);
    Ok(routes)
}

/// One member of `routes`: the prefix and its paths.
fn route(ctx: Ctx, key: &str, entries: &Json) -> Result<Route, ParseError> {
    let prefix: IpNet = key
        .parse()
        .map_err(|_| ctx.unexpected(None, format!("`{key}` is not a prefix")))?;
    // 8.4 `json detail`: [prefix header, path, path…]; later FRR versions:
    // {"prefix": …, "paths": [path…]}; plain `json`: [path, path…].
    let elements: &[Json] = match entries {
        Json::Array(items) => items,
        Json::Object(_) => entries.get("paths").and_then(Json::as_array).unwrap_or(&[]),
        _ => return Err(ctx.unexpected(None, format!("{prefix}: paths are not a list"))),
    };
    let paths = elements
        .iter()
        .filter(|p| p.is_object())
        .filter(|p| p.get("nexthops").is_some() || p.get("aspath").is_some())
        .map(|p| path(ctx, &prefix, p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Route { prefix, paths })
}

fn path(ctx: Ctx, prefix: &IpNet, p: &Json) -> Result<Path, ParseError> {
    let bad = |what: String| ctx.unexpected(None, format!("{prefix}: {what}"));
    let str_field = |key: &str| p.get(key).and_then(Json::as_str);
    let u32_field = |key: &str| {
        p.get(key)
            .and_then(Json::as_u64)
            .and_then(|v| u32::try_from(v).ok())
    };
    // The BGP next hop of the path: the first one FRR uses.
    let nexthops = p.get("nexthops").and_then(Json::as_array);
    let next_hop_text = nexthops.and_then(|hops| {
        hops.iter()
            .find(|h| h.get("used").and_then(Json::as_bool) == Some(true))
            .or_else(|| hops.first())
            .and_then(|h| h.get("ip"))
            .and_then(Json::as_str)
    });
    let next_hop = match next_hop_text {
        Some(ip) => real_next_hop(
            ip.parse()
                .map_err(|_| bad(format!("next hop `{ip}` is not an IP")))?,
        ),
        None => None,
    };
    let best = match p.get("bestpath") {
        Some(Json::Bool(b)) => *b,
        Some(o @ Json::Object(_)) => o.get("overall").and_then(Json::as_bool) == Some(true),
        _ => false,
    };
    let as_path = match p.get("aspath") {
        // detail: {"string": "64501 64502", "segments": [{"type", "list": [..]}]}
        Some(obj @ Json::Object(_)) => match obj.get("segments").and_then(Json::as_array) {
            Some(segments) => segments
                .iter()
                .filter_map(|s| s.get("list").and_then(Json::as_array))
                .flatten()
                .map(|asn| {
                    asn.as_u64()
                        .and_then(|a| u32::try_from(a).ok())
                        .ok_or_else(|| bad(format!("AS `{asn}` is not a number")))
                })
                .collect::<Result<Vec<u32>, _>>()?,
            None => Vec::new(),
        },
        _ => match str_field("path") {
            Some(text) => as_numbers(text).map_err(bad)?,
            None => Vec::new(),
        },
    };
    let mut communities = Vec::new();
    if let Some(list) = p
        .get("community")
        .and_then(|c| c.get("list"))
        .and_then(Json::as_array)
    {
        for c in list.iter().filter_map(Json::as_str) {
            communities.push(match well_known_community(c) {
                Some(numeric) => numeric.to_string(),
                None => c.to_string(),
            });
        }
    }
    if let Some(list) = p
        .get("largeCommunity")
        .and_then(|c| c.get("list"))
        .and_then(Json::as_array)
    {
        communities.extend(
            list.iter()
                .filter_map(Json::as_str)
                .map(|c| format!("large:{c}")),
        );
    }
    let origin = match str_field("origin") {
        Some(o) => Some(origin_from_name(o).ok_or_else(|| bad(format!("unknown origin `{o}`")))?),
        None => None,
    };
    // detail: "peer": {"peerId": "0.0.0.0" for local}; plain json: "peerId": "(unspec)".
    let peer_id = p
        .get("peer")
        .and_then(|peer| peer.get("peerId"))
        .and_then(Json::as_str)
        .or_else(|| str_field("peerId"));
    let from_peer = peer_id
        .and_then(|id| id.parse::<IpAddr>().ok())
        .and_then(real_next_hop);
    let local = p.get("sourced").and_then(Json::as_bool) == Some(true)
        || p.get("local").and_then(Json::as_bool) == Some(true)
        || from_peer.is_none();
    Ok(Path {
        next_hop,
        best,
        local_pref: u32_field("locPrf"),
        med: u32_field("metric"),
        as_path,
        communities,
        origin,
        from_peer,
        local,
    })
}

/// BFD peers from `show bfd peers json`.
pub fn bfd_peers(text: &str) -> Result<Vec<BfdPeer>, ParseError> {
    let ctx = Ctx::new(super::TOOL, BFD_COMMAND);
    let value = json_or_daemon_error(ctx, text)?;
    let peers = value
        .as_array()
        .ok_or_else(|| ctx.unexpected(None, "top level is not a list of peers"))?;
    let mut out = Vec::with_capacity(peers.len());
    for peer in peers {
        let p = peer
            .as_object()
            .ok_or_else(|| ctx.unexpected(None, "a peer is not an object"))?;
        let addr =
            str_field(p, "peer").ok_or_else(|| ctx.unexpected(None, "a peer has no address"))?;
        let peer_ip = ctx.ip(addr, None)?;
        let status = str_field(p, "status").unwrap_or_default();
        let state = BfdState::parse(status).ok_or_else(|| {
            ctx.unexpected(None, format!("peer {peer_ip}: unknown status `{status}`"))
        })?;
        let local = match str_field(p, "local") {
            Some(l) => Some(ctx.ip(l, None)?),
            None => None,
        };
        // bfdd reports "uptime" while up and "downtime" otherwise, both in seconds.
        let since_secs = u64_field(p, "uptime").or_else(|| u64_field(p, "downtime"));
        out.push(BfdPeer {
            peer: peer_ip,
            local,
            interface: str_field(p, "interface").map(str::to_string),
            state,
            since_secs,
        });
    }
    out.sort_by_key(|b| b.peer);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::fixture_body;
    use crate::state::Origin;
    use crate::test_support::{ip, net};

    const NEIGHBORS: &str = include_str!("fixtures/show-bgp-neighbors-json.txt");
    const ROUTES: &str = include_str!("fixtures/show-bgp-ipv4-unicast-json-detail.txt");
    const BFD: &str = include_str!("fixtures/show-bfd-peers-json.txt");

    #[test]
    fn sessions_steady_state() {
        let sessions = sessions(fixture_body(NEIGHBORS)).unwrap();
        insta::assert_yaml_snapshot!(sessions);
        assert_eq!(sessions.len(), 5);
        let ibgp = &sessions[0];
        assert_eq!(ibgp.peer, ip("10.211.1.12"));
        assert_eq!((ibgp.remote_as, ibgp.local_as), (Some(64500), Some(64500)));
        assert_eq!(ibgp.state, SessionState::Established);
        assert_eq!(ibgp.prefixes_received, Some(3));
        assert_eq!(ibgp.name.as_deref(), Some("frr2-ibgp"));
        assert_eq!(ibgp.last_error, None);
        let bird = &sessions[1];
        assert_eq!(bird.state, SessionState::Established);
        // Came up after one BFD flap at startup: the reason is kept.
        assert_eq!(bird.last_error.as_deref(), Some("BFD down received"));
        let admin = &sessions[3];
        assert_eq!(admin.peer, ip("10.211.1.98"));
        assert_eq!(admin.remote_as, Some(4_200_000_098));
        assert_eq!(admin.state, SessionState::AdminDown);
        assert_eq!(admin.since_secs, None);
        let never = &sessions[4];
        assert_eq!(never.state, SessionState::Active);
        assert_eq!(never.since_secs, None);
        assert_eq!(never.last_error, None);
    }

    #[test]
    fn summary_json_gives_the_same_sessions_without_errors() {
        let text = include_str!("fixtures/show-bgp-vrf-default-summary-json.txt");
        let summary = sessions(fixture_body(text)).unwrap();
        let full = sessions(fixture_body(NEIGHBORS)).unwrap();
        assert_eq!(summary.len(), full.len());
        for (a, b) in summary.iter().zip(&full) {
            assert_eq!(
                (a.peer, a.remote_as, a.local_as),
                (b.peer, b.remote_as, b.local_as)
            );
            assert_eq!((a.state, &a.name), (b.state, &b.name));
            assert_eq!(a.prefixes_received, b.prefixes_received);
        }
        assert_eq!(summary[0].since_secs, Some(85));
        assert_eq!(summary[4].since_secs, None);
    }

    #[test]
    fn sessions_degraded() {
        let text = include_str!("fixtures/degraded-show-bgp-neighbors-json.txt");
        let sessions = sessions(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(sessions);
        let by_peer = |p: &str| sessions.iter().find(|s| s.peer == ip(p)).unwrap();
        let bird = by_peer("10.211.1.21");
        assert_eq!(bird.state, SessionState::Active);
        assert_eq!(bird.since_secs, Some(8));
        assert_eq!(bird.last_error.as_deref(), Some("BFD down received"));
        let gobgp = by_peer("10.211.1.31");
        assert_eq!(
            gobgp.last_error.as_deref(),
            Some("BGP Notification received: Cease/Administrative Shutdown")
        );
        assert_eq!(
            by_peer("10.211.1.12").last_error.as_deref(),
            Some("Peer closed the session")
        );
        assert!(
            sessions
                .iter()
                .all(|s| s.state != SessionState::Established)
        );
    }

    #[test]
    fn routes_steady_state() {
        let routes = routes(fixture_body(ROUTES)).unwrap();
        insta::assert_yaml_snapshot!(routes);
        let prefixes: Vec<String> = routes.iter().map(|r| r.prefix.to_string()).collect();
        assert_eq!(
            prefixes,
            [
                "192.0.2.0/24",
                "192.0.2.64/26",
                "192.0.2.128/25",
                "198.51.100.0/24",
                "203.0.113.0/24",
                "203.0.113.0/25",
                "203.0.113.64/26",
                "203.0.113.128/25"
            ]
        );

        // Originated here: no next hop, local.
        let own = routes
            .iter()
            .find(|r| r.prefix == net("192.0.2.0/24"))
            .unwrap();
        assert_eq!(own.paths.len(), 1);
        assert!(own.paths[0].local && own.paths[0].best);
        assert_eq!(own.paths[0].next_hop, None);
        assert_eq!(own.paths[0].from_peer, None);
        assert!(own.paths[0].as_path.is_empty());

        // Learned over three paths, two of them eBGP multipath (BIRD and GoBGP).
        let ecmp = routes
            .iter()
            .find(|r| r.prefix == net("198.51.100.0/24"))
            .unwrap();
        assert_eq!(
            ecmp.next_hops(),
            vec![ip("10.211.1.12"), ip("10.211.1.21"), ip("10.211.1.31")]
        );
        let best = ecmp.best().unwrap();
        assert_eq!(best.from_peer, Some(ip("10.211.1.21")));
        assert_eq!(best.as_path, vec![64501]);
        assert_eq!(best.med, Some(50));
        assert_eq!(best.communities, vec!["64501:10", "64501:20"]);
        assert_eq!(best.origin, Some(Origin::Igp));
        let ibgp = ecmp
            .paths
            .iter()
            .find(|p| p.from_peer == Some(ip("10.211.1.12")))
            .unwrap();
        assert_eq!(ibgp.local_pref, Some(100));
        assert!(!ibgp.best && !ibgp.local);

        // iBGP route with local-pref and community set by frr2's route-map.
        let lp = routes
            .iter()
            .find(|r| r.prefix == net("203.0.113.0/25"))
            .unwrap();
        let p = lp.best().unwrap();
        assert_eq!((p.local_pref, p.med), (Some(250), Some(7)));
        assert_eq!(p.communities, vec!["64500:300"]);
        assert!(p.as_path.is_empty());

        // Standard, well-known and large communities from GoBGP.
        let gobgp = routes
            .iter()
            .find(|r| r.prefix == net("203.0.113.0/24"))
            .unwrap();
        assert_eq!(
            gobgp.paths[0].communities,
            vec!["64502:30", "65535:65281", "large:64502:1:1"]
        );
        assert_eq!(gobgp.paths[0].origin, Some(Origin::Incomplete));
    }

    #[test]
    fn routes_read_route_by_route_as_from_one_value() {
        // Read one route at a time, the table still reads as a whole `Value` did: the last
        // of repeated prefixes, errors in prefix order, bgpd's warning anywhere, bad JSON
        // after the routes.
        let text = r#"{"routes": {"10.0.0.2/32": [{"aspath": {}, "metric": 1}],
            "10.0.0.1/32": [{"aspath": {}}], "10.0.0.2/32": [{"aspath": {}, "metric": 2}]}}"#;
        let table = routes(text).unwrap();
        assert_eq!(
            table.iter().map(|r| r.prefix).collect::<Vec<_>>(),
            vec![net("10.0.0.1/32"), net("10.0.0.2/32")]
        );
        assert_eq!(table[1].paths[0].med, Some(2));

        let text = r#"{"routes": {"10.0.0.2/32": [{"aspath": {}, "origin": "x"}],
            "10.0.0.1/32": [{"aspath": {}, "origin": "y"}]}}"#;
        let err = routes(text).unwrap_err();
        assert!(
            err.to_string().ends_with("10.0.0.1/32: unknown origin `y`"),
            "{err}"
        );

        let err = routes(r#"{"routes": {}, "warning": "Default BGP instance not found"}"#);
        assert!(matches!(err, Err(ParseError::Daemon { .. })), "{err:?}");
        let err = routes(r#"{"routes": null}"#).unwrap_err();
        assert!(
            err.to_string().ends_with("`routes` is not an object"),
            "{err}"
        );
        let err = routes(r#"{"routes": {"10.0.0.1/32": [{"aspath": 1, "path": "x"}]}, "#);
        assert!(matches!(err, Err(ParseError::Json { .. })), "{err:?}");
    }

    #[test]
    fn routes_degraded_keep_only_local_prefixes() {
        let text = include_str!("fixtures/degraded-show-bgp-ipv4-unicast-json-detail.txt");
        let routes = routes(fixture_body(text)).unwrap();
        assert!(routes.iter().all(|r| r.paths.iter().all(|p| p.local)));
        assert_eq!(
            routes.iter().map(|r| r.prefix).collect::<Vec<_>>(),
            vec![net("192.0.2.0/24"), net("192.0.2.128/25")]
        );
    }

    #[test]
    fn plain_json_routes_parse_without_communities() {
        // The reason the driver uses `json detail`: the plain form drops communities.
        let text = include_str!("fixtures/show-bgp-ipv4-unicast-json.txt");
        let routes = routes(fixture_body(text)).unwrap();
        let ecmp = routes
            .iter()
            .find(|r| r.prefix == net("198.51.100.0/24"))
            .unwrap();
        assert_eq!(ecmp.paths.len(), 3);
        assert!(ecmp.paths.iter().all(|p| p.communities.is_empty()));
        assert_eq!(ecmp.best().unwrap().next_hop, Some(ip("10.211.1.21")));
    }

    #[test]
    fn frr2_view_has_ibgp_route_with_local_next_hop() {
        let text = include_str!("fixtures/frr2-show-bgp-ipv4-unicast-json-detail.txt");
        let routes = routes(fixture_body(text)).unwrap();
        let own = routes
            .iter()
            .find(|r| r.prefix == net("203.0.113.0/25"))
            .unwrap();
        assert!(own.best().unwrap().local);
        let learned = routes
            .iter()
            .find(|r| r.prefix == net("192.0.2.0/24"))
            .unwrap();
        assert!(
            learned
                .paths
                .iter()
                .any(|p| p.from_peer == Some(ip("10.211.1.11")))
        );
    }

    #[test]
    fn bfd_steady_and_degraded() {
        let up = bfd_peers(fixture_body(BFD)).unwrap();
        insta::assert_yaml_snapshot!(up);
        assert_eq!(up.len(), 1);
        assert_eq!(up[0].peer, ip("10.211.1.21"));
        assert_eq!(up[0].state, BfdState::Up);
        // A `bfd peer` configured without local address: bfdd reports neither.
        assert_eq!((up[0].local, up[0].interface.as_deref()), (None, None));

        let text = include_str!("fixtures/frr2-show-bfd-peers-json.txt");
        let frr2 = bfd_peers(fixture_body(text)).unwrap();
        assert_eq!(frr2[0].local, Some(ip("10.211.1.12")));
        assert_eq!(frr2[0].interface.as_deref(), Some("eth0"));

        let text = include_str!("fixtures/degraded-show-bfd-peers-json.txt");
        let down = bfd_peers(fixture_body(text)).unwrap();
        assert_eq!(down[0].state, BfdState::Down);
        assert_eq!(down[0].since_secs, Some(7));

        let text = include_str!("fixtures/empty-show-bfd-peers-json.txt");
        assert!(bfd_peers(fixture_body(text)).unwrap().is_empty());
    }

    #[test]
    fn daemon_errors_are_errors() {
        let unknown = include_str!("fixtures/error-unknown-command.txt");
        let err = routes(fixture_body(unknown)).unwrap_err();
        assert!(matches!(err, ParseError::Daemon { .. }), "{err}");
        assert!(err.to_string().contains("Unknown command"), "{err}");

        let no_instance =
            include_str!("fixtures/error-no-router-bgp-show-bgp-ipv4-unicast-json-detail.txt");
        let err = routes(fixture_body(no_instance)).unwrap_err();
        assert!(
            err.to_string().contains("Default BGP instance not found"),
            "{err}"
        );

        // vtysh printed nothing on stdout (its complaint went to stderr).
        let no_daemons = include_str!("fixtures/error-no-daemons-show-bgp-neighbors-json.txt");
        let err = sessions(fixture_body(no_daemons)).unwrap_err();
        assert!(matches!(err, ParseError::Empty { .. }), "{err}");
        assert!(err.is_daemon_error());

        assert!(matches!(
            sessions("{\"10.0.0.1\": 3}").unwrap_err(),
            ParseError::Unexpected { .. }
        ));
        assert!(matches!(
            sessions("{").unwrap_err(),
            ParseError::Json { .. }
        ));
    }

    #[test]
    fn bgpd_without_router_bgp_has_no_neighbors() {
        // `{}`: bgpd answers but has no instance; indistinguishable from "no neighbors".
        let text = include_str!("fixtures/error-no-router-bgp-show-bgp-neighbors-json.txt");
        assert!(sessions(fixture_body(text)).unwrap().is_empty());
    }
}
