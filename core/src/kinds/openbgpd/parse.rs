//! Parsers of `bgpctl -j` (OpenBGPD 7.7 and 8.8): neighbors and the RIB with details.
//!
//! `bgpctl` says it cannot reach bgpd on stderr (`bgpctl: connect: …/bgpd.sock.0:
//! Connection refused`, exit 1) and reports a refused request as JSON
//! (`{"status":"FAILED","error":"…"}`, exit 0); both are daemon errors. An answer with
//! nothing to list is `{}`, without the list's key.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use crate::parse::{Ctx, ParseError, as_numbers, origin_from_name, real_next_hop};
use crate::state::{Path, Route, Session, SessionState};

pub const SESSIONS_COMMAND: &str = "bgpctl -j show neighbor";
pub const ROUTES_COMMAND: &str = "bgpctl -j show rib detail";

/// What every `bgpctl -j` answer may be: the data, or a refusal.
#[derive(Deserialize)]
struct Answer<T> {
    status: Option<String>,
    error: Option<String>,
    #[serde(flatten)]
    data: T,
}

/// The answer's data, or the daemon's error (JSON refusal or `bgpctl: …` text).
fn read<T: serde::de::DeserializeOwned>(ctx: Ctx, text: &str) -> Result<T, ParseError> {
    let body = text.trim();
    if body.is_empty() {
        return Err(ctx.empty("bgpctl printed nothing: is bgpd running?"));
    }
    if let Some(message) = body.strip_prefix("bgpctl: ") {
        return Err(ctx.daemon(message.lines().next().unwrap_or(message)));
    }
    let answer: Answer<T> = ctx.json(body)?;
    if answer.status.as_deref() == Some("FAILED") {
        return Err(ctx.daemon(answer.error.unwrap_or_else(|| "request failed".into())));
    }
    Ok(answer.data)
}

#[derive(Deserialize)]
struct Neighbors {
    #[serde(default)]
    neighbors: Vec<Neighbor>,
}

#[derive(Deserialize)]
struct Neighbor {
    remote_addr: String,
    /// A string (`"64500"`).
    remote_as: String,
    description: Option<String>,
    state: String,
    /// -1 before the first change.
    last_updown_sec: Option<i64>,
    #[serde(default)]
    config: NeighborConfig,
    stats: Option<Stats>,
    last_error_received: Option<String>,
    last_error_sent: Option<String>,
    my_shutdown_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct NeighborConfig {
    /// Shut down here (`bgpctl neighbor X down`, or `down` in the config).
    #[serde(default)]
    down: bool,
}

#[derive(Deserialize)]
struct Stats {
    prefixes: Prefixes,
}

#[derive(Deserialize)]
struct Prefixes {
    received: u64,
}

/// Sessions from `bgpctl -j show neighbor`.
pub fn sessions(text: &str) -> Result<Vec<Session>, ParseError> {
    let ctx = Ctx::new(super::TOOL, SESSIONS_COMMAND);
    let answer: Neighbors = read(ctx, text)?;
    let mut sessions = Vec::with_capacity(answer.neighbors.len());
    for n in answer.neighbors {
        let peer = ctx.ip(&n.remote_addr, None)?;
        let state = if n.config.down {
            SessionState::AdminDown
        } else {
            crate::parse::session_state(&n.state).ok_or_else(|| {
                ctx.unexpected(
                    None,
                    format!("neighbor {peer}: unknown state `{}`", n.state),
                )
            })?
        };
        let remote_as = n.remote_as.parse::<u32>().map_err(|_| {
            ctx.unexpected(
                None,
                format!("neighbor {peer}: `{}` is not an AS number", n.remote_as),
            )
        })?;
        let last_error = n
            .last_error_received
            .map(|e| format!("received {e}"))
            .or(n.last_error_sent.map(|e| format!("sent {e}")));
        let last_error = match (last_error, n.my_shutdown_reason) {
            (Some(e), Some(reason)) => Some(format!("{e} ({reason})")),
            (e, reason) => e.or(reason),
        };
        sessions.push(Session {
            peer,
            remote_as: Some(remote_as),
            local_as: None,
            state,
            since_secs: n.last_updown_sec.and_then(|s| u64::try_from(s).ok()),
            prefixes_received: n
                .stats
                .map(|s| s.prefixes.received)
                .filter(|_| state == SessionState::Established),
            name: n.description.filter(|d| !d.is_empty()),
            last_error,
        });
    }
    sessions.sort_by_key(|s| s.peer);
    Ok(sessions)
}

#[derive(Deserialize)]
struct Rib {
    #[serde(default)]
    rib: Vec<RibEntry>,
}

#[derive(Deserialize)]
struct RibEntry {
    prefix: String,
    /// Space-separated; empty for its own routes.
    #[serde(default)]
    aspath: String,
    exit_nexthop: String,
    neighbor: RibNeighbor,
    /// Present (true) only on the selected path.
    #[serde(default)]
    best: bool,
    origin: Option<String>,
    /// The MED; 0 when the path has none (bgpctl does not tell the two apart).
    metric: Option<u32>,
    localpref: Option<u32>,
    #[serde(default)]
    communities: Vec<String>,
    #[serde(default)]
    large_communities: Vec<String>,
}

#[derive(Deserialize)]
struct RibNeighbor {
    /// `???` for routes it originates.
    remote_addr: String,
}

/// Routes from `bgpctl -j show rib detail`: one entry per path, grouped by prefix.
pub fn routes(text: &str) -> Result<Vec<Route>, ParseError> {
    let ctx = Ctx::new(super::TOOL, ROUTES_COMMAND);
    let answer: Rib = read(ctx, text)?;
    let mut routes: Vec<Route> = Vec::new();
    let mut index: HashMap<IpNet, usize> = HashMap::new();
    for entry in answer.rib {
        let prefix: IpNet = entry
            .prefix
            .parse()
            .map_err(|_| ctx.unexpected(None, format!("`{}` is not a prefix", entry.prefix)))?;
        let from_peer: Option<IpAddr> = entry.neighbor.remote_addr.parse().ok();
        let local = from_peer.is_none();
        let next_hop = real_next_hop(ctx.ip(&entry.exit_nexthop, None)?);
        let as_path = as_numbers(&entry.aspath)
            .map_err(|e| ctx.unexpected(None, format!("{prefix}: {e}")))?;
        let mut communities = entry.communities;
        for large in entry.large_communities {
            communities.push(format!("large:{large}"));
        }
        let path = Path {
            next_hop: if local { None } else { next_hop },
            best: entry.best,
            local_pref: entry.localpref,
            med: entry.metric.filter(|m| *m != 0),
            as_path,
            communities,
            origin: entry.origin.as_deref().and_then(origin_from_name),
            from_peer,
            local,
        };
        // Looked up by prefix: a full table has as many entries as paths.
        match index.entry(prefix) {
            Entry::Occupied(at) => routes[*at.get()].paths.push(path),
            Entry::Vacant(slot) => {
                slot.insert(routes.len());
                routes.push(Route {
                    prefix,
                    paths: vec![path],
                });
            }
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
    fn sessions_steady_state() {
        let sessions = sessions(fixture_body(include_str!("fixtures/neighbor.json"))).unwrap();
        let summary: Vec<(IpAddr, SessionState, Option<u64>, Option<u32>)> = sessions
            .iter()
            .map(|s| (s.peer, s.state, s.prefixes_received, s.remote_as))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    ip("10.230.1.11"),
                    SessionState::Established,
                    Some(2),
                    Some(64500)
                ),
                (
                    ip("10.230.1.12"),
                    SessionState::Established,
                    Some(1),
                    Some(64504)
                ),
                (
                    ip("10.230.1.21"),
                    SessionState::Established,
                    Some(2),
                    Some(64501)
                ),
                (
                    ip("10.230.1.31"),
                    SessionState::Established,
                    Some(2),
                    Some(64502)
                ),
                (ip("10.230.1.99"), SessionState::Active, None, Some(64599)),
            ]
        );
        assert_eq!(sessions[0].name.as_deref(), Some("frr1-ebgp"));
        assert!(sessions[0].since_secs.is_some());
        // Never up: no time since a change.
        assert_eq!(sessions[4].since_secs, None);
        insta::assert_yaml_snapshot!("sessions_steady_state", sessions);
    }

    #[test]
    fn sessions_degraded_name_the_shutdown_and_its_reason() {
        let text = fixture_body(include_str!("fixtures/degraded-neighbor.json"));
        let sessions = sessions(text).unwrap();
        let gobgp = sessions
            .iter()
            .find(|s| s.peer == ip("10.230.1.31"))
            .unwrap();
        assert_eq!(gobgp.state, SessionState::AdminDown);
        assert_eq!(
            gobgp.last_error.as_deref(),
            Some("sent Cease, administratively down (maintenance)")
        );
        let bird = sessions
            .iter()
            .find(|s| s.peer == ip("10.230.1.21"))
            .unwrap();
        assert_eq!(bird.state, SessionState::Active);
        assert_eq!(bird.prefixes_received, None);
        insta::assert_yaml_snapshot!("sessions_degraded", sessions);
    }

    #[test]
    fn sessions_of_8_8_read_alike() {
        let text = fixture_body(include_str!("fixtures/trixie-8.8/neighbor.json"));
        let sessions = sessions(text).unwrap();
        assert!(!sessions.is_empty());
        assert!(
            sessions
                .iter()
                .any(|s| s.state == SessionState::Established && s.prefixes_received.is_some())
        );
    }

    #[test]
    fn routes_steady_state_with_every_path_and_attribute() {
        let routes = routes(fixture_body(include_str!("fixtures/rib-detail.json"))).unwrap();
        let three = routes
            .iter()
            .find(|r| r.prefix == net("198.51.100.0/24"))
            .unwrap();
        assert_eq!(three.paths.len(), 3);
        let best = three.best().unwrap();
        assert_eq!(best.next_hop, Some(ip("10.230.1.11")));
        assert_eq!(best.from_peer, Some(ip("10.230.1.11")));
        assert_eq!(best.med, Some(30));
        assert_eq!(best.as_path, [64500]);
        assert_eq!(
            best.communities,
            ["64500:100", "64500:200", "large:64500:1:2"]
        );
        assert_eq!(best.origin, Some(Origin::Igp));
        // Its own: no next hop, no peer, originated here.
        let own = routes
            .iter()
            .find(|r| r.prefix == net("203.0.113.64/26"))
            .unwrap();
        let path = &own.paths[0];
        assert!(path.local && path.best);
        assert_eq!((path.next_hop, path.from_peer), (None, None));
        assert_eq!(path.communities, ["64503:2", "large:64503:2:3"]);
        assert_eq!(path.med, Some(300));
        insta::assert_yaml_snapshot!("routes_steady_state", routes);
    }

    #[test]
    fn routes_of_8_8_read_alike() {
        let text = fixture_body(include_str!("fixtures/trixie-8.8/rib-detail.json"));
        let routes = routes(text).unwrap();
        assert!(routes.iter().any(|r| r.paths.iter().any(|p| p.local)));
        assert!(
            routes
                .iter()
                .any(|r| r.paths.iter().any(|p| p.from_peer.is_some()))
        );
    }

    #[test]
    fn nothing_to_list_is_an_empty_list() {
        let empty = fixture_body(include_str!("fixtures/error-unknown-neighbor.json"));
        assert_eq!(sessions(empty).unwrap(), []);
        let absent = fixture_body(include_str!("fixtures/rib-prefix-absent.json"));
        assert_eq!(routes(absent).unwrap(), []);
    }

    #[test]
    fn a_daemon_that_is_not_running_is_a_daemon_error() {
        let stderr = fixture_body(include_str!(
            "fixtures/error-not-running-neighbor.json.stderr.txt"
        ));
        let err = sessions(stderr).unwrap_err();
        assert!(matches!(err, ParseError::Daemon { .. }), "{err}");
        assert!(err.to_string().contains("Connection refused"), "{err}");
        let stdout = fixture_body(include_str!("fixtures/error-not-running-neighbor.json"));
        assert!(matches!(
            sessions(stdout).unwrap_err(),
            ParseError::Empty { .. }
        ));
        let refused = r#"{"status":"FAILED","error":"permission denied"}"#;
        let err = routes(refused).unwrap_err();
        assert!(err.to_string().contains("permission denied"), "{err}");
    }
}
