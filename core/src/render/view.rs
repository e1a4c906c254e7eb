//! The template context: a router flattened into exactly what the templates print.
//!
//! Every decision that is not pure syntax (profile names, keepalive from hold time, which
//! sessions need BFD, config-safe protocol names) is made here in Rust, so the templates
//! stay declarative and the decisions are unit-tested once for every daemon.

use super::RenderError;
pub use crate::kinds::{BfdProfileView, BfdView, RouterView, SessionView};
use crate::plan::model::{BfdTimers, PeerRef, PlannedRouter, PlannedSession};
use std::net::IpAddr;

/// The lowest TTL a multihop BFD packet may arrive with. FRR expects 254 by default (the
/// sender starting at 255 and one router between), but BIRD 2 sends multihop BFD with
/// TTL 64, so FRR never sees BIRD's packets and the session stays down. Accept packets
/// that started at 64 and crossed at most `multihop - 1` routers.
pub fn multihop_bfd_minimum_ttl(multihop: u8) -> u8 {
    65u8.saturating_sub(multihop).max(1)
}

/// A stable, readable profile name for a timer set: `rx300-tx300-x3`, with `-mh<TTL>`
/// for multihop sessions, whose profile also carries the minimum TTL.
pub fn bfd_profile_name(t: &BfdTimers, multihop: Option<u8>) -> String {
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

fn session_view(router: &str, s: &PlannedSession) -> Result<SessionView, RenderError> {
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

/// The template context of a router.
pub fn router_view(router: &PlannedRouter) -> Result<RouterView, RenderError> {
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
        .map(|s| session_view(name, s))
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
        let view = router_view(&r).unwrap();
        assert_eq!(view.bfd_profiles.len(), 1);
    }

    #[test]
    fn keepalive_is_a_third_of_hold_time() {
        let r = fixtures::frr_password();
        let view = router_view(&r).unwrap();
        assert_eq!(view.sessions[0].hold_time, Some(9));
        assert_eq!(view.sessions[0].keepalive_time, Some(3));
    }

    #[test]
    fn ipv6_announcements_are_refused() {
        let mut r = fixtures::frr_ebgp();
        r.announce.push("2001:db8::/48".parse().unwrap());
        let err = router_view(&r).unwrap_err();
        assert!(matches!(err, RenderError::Ipv6NotSupported { .. }), "{err}");
    }
}
