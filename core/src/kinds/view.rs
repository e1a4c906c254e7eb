//! The template context: a router flattened into exactly what the templates print, and
//! what the kinds' commands are made from. Built from the plan by `render::view`.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct RouterView {
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
pub struct SessionView {
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
pub struct BfdView {
    pub profile: String,
    pub receive_interval_ms: u32,
    pub transmit_interval_ms: u32,
    pub detect_multiplier: u32,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct BfdProfileView {
    pub name: String,
    pub receive_interval_ms: u32,
    pub transmit_interval_ms: u32,
    pub detect_multiplier: u32,
    /// Multihop sessions only: the lowest TTL accepted on incoming BFD packets.
    pub minimum_ttl: Option<u8>,
}
