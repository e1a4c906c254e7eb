//! The template context: a router flattened into exactly what the templates print.
//!
//! Every decision that is not pure syntax (profile names, keepalive from hold time, which
//! sessions need BFD, config-safe protocol names) is made here in Rust, so the templates
//! stay declarative and the decisions are unit-tested once for every daemon.

use super::RenderError;
use crate::plan::model::{BfdTimers, PeerRef, PlannedRouter, PlannedSession};
use serde::Serialize;
use std::net::IpAddr;

#[derive(Debug, Serialize)]
pub(crate) struct RouterView {
    pub name: String,
    pub kind: &'static str,
    pub asn: Option<u32>,
    pub router_id: String,
    /// The router's own IPv4 addresses, in interface order.
    pub addresses: Vec<String>,
    /// Prefixes this router originates.
    pub announce: Vec<String>,
    pub transit: bool,
    pub sessions: Vec<SessionView>,
    /// Distinct BFD timer sets, one FRR profile each.
    pub bfd_profiles: Vec<BfdProfileView>,
    pub http_port: Option<u16>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SessionView {
    pub id: String,
    /// A BIRD protocol name: `bgp_<id>` with only identifier characters. The prefix keeps
    /// ids such as `gw` or `direct` from colliding with BIRD keywords, which even quoting
    /// does not escape.
    pub bird_protocol: String,
    /// What the peer is, for `description` lines.
    pub description: String,
    pub local_address: String,
    pub peer_address: String,
    pub local_asn: u32,
    pub peer_asn: u32,
    pub ibgp: bool,
    pub multihop: Option<u8>,
    pub bfd: Option<BfdView>,
    pub password: Option<String>,
    pub passive: bool,
    pub hold_time: Option<u16>,
    /// A third of the hold time, as RFC 4271 suggests; 0 when the hold time is 0.
    pub keepalive_time: Option<u16>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BfdView {
    pub profile: String,
    pub receive_interval_ms: u32,
    pub transmit_interval_ms: u32,
    pub detect_multiplier: u32,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct BfdProfileView {
    pub name: String,
    pub receive_interval_ms: u32,
    pub transmit_interval_ms: u32,
    pub detect_multiplier: u32,
    /// Multihop sessions only: the lowest TTL accepted on incoming BFD packets.
    pub minimum_ttl: Option<u8>,
}

/// The lowest TTL a multihop BFD packet may arrive with. FRR expects 254 by default (the
/// sender starting at 255 and one router between), but BIRD 2 sends multihop BFD with
/// TTL 64, so FRR never sees BIRD's packets and the session stays down. Accept packets
/// that started at 64 and crossed at most `multihop - 1` routers.
pub(crate) fn multihop_bfd_minimum_ttl(multihop: u8) -> u8 {
    65u8.saturating_sub(multihop).max(1)
}

/// A stable, readable profile name for a timer set: `rx300-tx300-x3`, with `-mh<TTL>`
/// for multihop sessions, whose profile also carries the minimum TTL.
pub(crate) fn bfd_profile_name(t: &BfdTimers, multihop: Option<u8>) -> String {
    let base = format!(
        "rx{}-tx{}-x{}",
        t.receive_interval_ms, t.transmit_interval_ms, t.detect_multiplier
    );
    match multihop {
        Some(ttl) => format!("{base}-mh{ttl}"),
        None => base,
    }
}

/// Keep letters, digits and `_`; anything else becomes `_`.
fn identifier(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn describe(session: &PlannedSession) -> String {
    match &session.peer {
        PeerRef::Router(name) => name.clone(),
        PeerRef::Node(name) if !name.is_empty() => format!("node {name}"),
        PeerRef::Node(_) => format!("node {}", session.peer_address),
        PeerRef::External => format!("external {}", session.peer_address),
    }
}

fn ipv4_only(router: &str, what: String, addr: IpAddr) -> Result<String, RenderError> {
    match addr {
        IpAddr::V4(v4) => Ok(v4.to_string()),
        IpAddr::V6(_) => Err(RenderError::Ipv6NotSupported {
            router: router.to_string(),
            what,
        }),
    }
}

impl SessionView {
    fn new(router: &str, s: &PlannedSession) -> Result<SessionView, RenderError> {
        Ok(SessionView {
            id: s.id.clone(),
            bird_protocol: format!("bgp_{}", identifier(&s.id)),
            description: describe(s),
            local_address: ipv4_only(
                router,
                format!("session {} local address", s.id),
                s.local_address,
            )?,
            peer_address: ipv4_only(
                router,
                format!("session {} peer address", s.id),
                s.peer_address,
            )?,
            local_asn: s.local_asn,
            peer_asn: s.peer_asn,
            ibgp: s.is_ibgp(),
            multihop: s.multihop,
            bfd: s.bfd.map(|t| BfdView {
                profile: bfd_profile_name(&t, s.multihop),
                receive_interval_ms: t.receive_interval_ms,
                transmit_interval_ms: t.transmit_interval_ms,
                detect_multiplier: t.detect_multiplier,
            }),
            password: s.password.clone(),
            passive: s.passive,
            hold_time: s.hold_time,
            keepalive_time: s.hold_time.map(|h| h / 3),
        })
    }
}

impl RouterView {
    pub(crate) fn new(router: &PlannedRouter) -> Result<RouterView, RenderError> {
        let name = router.name.as_str();
        let addresses = router
            .interfaces
            .iter()
            .map(|i| ipv4_only(name, format!("interface on {}", i.network), i.ip))
            .collect::<Result<Vec<_>, _>>()?;
        let announce = router
            .announce
            .iter()
            .map(|net| match net {
                ipnet::IpNet::V4(v4) => Ok(v4.to_string()),
                ipnet::IpNet::V6(_) => Err(RenderError::Ipv6NotSupported {
                    router: name.to_string(),
                    what: format!("announced prefix {net}"),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sessions = router
            .sessions
            .iter()
            .map(|s| SessionView::new(name, s))
            .collect::<Result<Vec<_>, _>>()?;
        let mut bfd_profiles: Vec<BfdProfileView> = vec![];
        for s in &router.sessions {
            let Some(timers) = s.bfd else { continue };
            let profile = BfdProfileView {
                name: bfd_profile_name(&timers, s.multihop),
                receive_interval_ms: timers.receive_interval_ms,
                transmit_interval_ms: timers.transmit_interval_ms,
                detect_multiplier: timers.detect_multiplier,
                minimum_ttl: s.multihop.map(multihop_bfd_minimum_ttl),
            };
            if !bfd_profiles.contains(&profile) {
                bfd_profiles.push(profile);
            }
        }
        Ok(RouterView {
            name: router.name.clone(),
            kind: router.kind.as_str(),
            asn: router.asn,
            router_id: router.router_id.to_string(),
            addresses,
            announce,
            transit: router.transit,
            sessions,
            bfd_profiles,
            http_port: router.http_server,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn profile_names_are_derived_from_timers() {
        let t = BfdTimers {
            receive_interval_ms: 300,
            transmit_interval_ms: 200,
            detect_multiplier: 5,
        };
        assert_eq!(bfd_profile_name(&t, None), "rx300-tx200-x5");
        assert_eq!(bfd_profile_name(&t, Some(2)), "rx300-tx200-x5-mh2");
    }

    #[test]
    fn multihop_bfd_accepts_ttl_64_senders_within_the_hop_budget() {
        assert_eq!(multihop_bfd_minimum_ttl(2), 63);
        assert_eq!(multihop_bfd_minimum_ttl(1), 64);
        assert_eq!(multihop_bfd_minimum_ttl(255), 1);
    }

    #[test]
    fn protocol_names_are_bird_identifiers() {
        assert_eq!(identifier("next-hop.1"), "next_hop_1");
        assert_eq!(identifier("node_10_0_1_3"), "node_10_0_1_3");
    }

    #[test]
    fn identical_timers_share_one_profile() {
        let mut r = fixtures::frr_multihop_bfd();
        let extra = r.sessions[0].clone();
        r.sessions.push(PlannedSession {
            id: "second".into(),
            ..extra
        });
        let view = RouterView::new(&r).unwrap();
        assert_eq!(view.bfd_profiles.len(), 1);
    }

    #[test]
    fn keepalive_is_a_third_of_hold_time() {
        let r = fixtures::frr_password();
        let view = RouterView::new(&r).unwrap();
        assert_eq!(view.sessions[0].hold_time, Some(9));
        assert_eq!(view.sessions[0].keepalive_time, Some(3));
    }

    #[test]
    fn ipv6_announcements_are_refused() {
        let mut r = fixtures::frr_ebgp();
        r.announce.push("2001:db8::/48".parse().unwrap());
        let err = RouterView::new(&r).unwrap_err();
        assert!(matches!(err, RenderError::Ipv6NotSupported { .. }), "{err}");
    }
}
