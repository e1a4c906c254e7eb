//! MetalLB rules, each shown failing (and the rich lab passing), plus the rendered
//! diagnostics of a typical bad `metallb:` section.

use super::*;
use crate::topology::load::{parse, parse_and_validate};

/// (field path, message) of every validation error, in validation order.
fn errors(text: &str) -> Vec<(String, String)> {
    let topology = parse("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    super::super::validate(&topology)
        .into_iter()
        .map(|e| (e.path, e.message))
        .collect()
}

fn paths(text: &str) -> Vec<String> {
    errors(text).into_iter().map(|(path, _)| path).collect()
}

/// The message of the only error at `path`.
fn message(text: &str, path: &str) -> String {
    let found: Vec<String> = errors(text)
        .into_iter()
        .filter(|(p, _)| p == path)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "errors at {path}: {found:?}\nall: {:?}",
        errors(text)
    );
    found.into_iter().next().unwrap()
}

/// `text` with BFD on frr1's side of its sessions with the nodes.
fn with_frr1_bfd(text: String) -> String {
    text.replace(
        "interfaces: { kind: { ip: 10.210.1.5 } }, neighbors: [{ to: nodes }]",
        "interfaces: { kind: { ip: 10.210.1.5 } }, neighbors: [{ to: nodes, bfd: fast }]",
    )
}

/// A lab where MetalLB (AS 64500) can peer with frr1 (eBGP, on the nodes' network),
/// bird1 (iBGP) and far (eBGP, behind `gw`); `{metallb}` is the `metallb:` body.
fn lab(metallb: &str) -> String {
    format!(
        "\
name: lab
cluster: {{ provider: kind, network: kind }}
networks:
  kind: {{ subnet: 10.210.1.0/24 }}
  up: {{ subnet: 10.210.2.0/24 }}
routers:
  frr1: {{ kind: frr, asn: 64501, interfaces: {{ kind: {{ ip: 10.210.1.5 }} }}, neighbors: [{{ to: nodes }}] }}
  bird1: {{ kind: bird, asn: 64500, interfaces: {{ kind: {{}} }}, neighbors: [{{ to: nodes }}] }}
  gobgp1: {{ kind: gobgp, asn: 64503, interfaces: {{ kind: {{}} }}, neighbors: [{{ to: nodes }}] }}
  far: {{ kind: frr, asn: 64504, interfaces: {{ up: {{}} }}, neighbors: [{{ to: nodes, multihop: 3 }}] }}
  gw: {{ kind: linux, forward: true, interfaces: {{ kind: {{}}, up: {{}} }} }}
metallb:
  asn: 64500
{metallb}"
    )
}

#[test]
fn the_rich_lab_of_the_renderer_is_valid() {
    assert_eq!(errors(crate::metallb::config::tests::RICH), vec![]);
    assert_eq!(
        errors(&with_frr1_bfd(lab(
            "  peers: [{ router: frr1, bfd: fast }, { router: bird1 }, { router: far, multihop: true }]\n  pools: { a: { addresses: [203.0.113.0/28] } }\n  bfd-profiles: { fast: {} }\n"
        ))),
        vec![]
    );
}

#[test]
fn metallb_needs_a_cluster() {
    let text = "name: lab\nmetallb: { asn: 64500 }\n";
    assert_eq!(paths(text), ["metallb"]);
}

#[test]
fn the_version_must_be_a_release_with_the_mode() {
    assert_eq!(
        message(&lab("  version: v0.14\n"), "metallb.version"),
        "`v0.14` is not a MetalLB release version"
    );
    assert_eq!(
        message(&lab("  version: v0.8.3\n"), "metallb.version"),
        "MetalLB v0.8.3 is older than v0.9.3, the oldest release metallab installs"
    );
    assert_eq!(
        message(
            &lab("  version: v0.13.12\n  mode: frr-k8s\n"),
            "metallb.mode"
        ),
        "MetalLB v0.13.12 has no frr-k8s mode (it arrived in v0.14.0)"
    );
    assert_eq!(
        message(&lab("  version: v0.11.0\n  mode: frr\n"), "metallb.mode"),
        "MetalLB v0.11.0 has no frr mode (it arrived in v0.12.0)"
    );
    // Without a mode, old releases get the native speaker instead of an error.
    assert_eq!(errors(&lab("  version: v0.9.6\n")), vec![]);
}

#[test]
fn peers_must_be_bgp_routers_that_peer_back() {
    let text = lab("  peers: [{ router: gw }, { router: nobody }, { router: frr1, asn: 65000 }]\n");
    let text = text.replace(
        "ip: 10.210.1.5 } }, neighbors: [{ to: nodes }]",
        "ip: 10.210.1.5 } }, neighbors: [{ to: nodes, asn: 64999 }]",
    );
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.peers[0].router".to_string(),
                "`gw` is a linux router: it runs no BGP daemon".to_string()
            ),
            (
                "metallb.peers[1].router".to_string(),
                "unknown router `nobody`".to_string()
            ),
            (
                "metallb.peers[2].asn".to_string(),
                "asn 65000 does not match `frr1`'s asn 64501".to_string()
            ),
            (
                "routers.frr1.neighbors[0].asn".to_string(),
                "`frr1` expects the nodes in AS 64999, but `metallb.asn` is 64500".to_string()
            ),
        ]
    );
    let text = lab("  peers: [{ router: bird1 }]\n").replace(
        "bird1: { kind: bird, asn: 64500, interfaces: { kind: {} }, neighbors: [{ to: nodes }] }",
        "bird1: { kind: bird, asn: 64500, interfaces: { kind: {} } }",
    );
    assert_eq!(
        message(&text, "metallb.peers[0].router"),
        "`bird1` does not peer with the nodes, so it would refuse MetalLB's sessions"
    );
}

#[test]
fn both_ends_agree_on_bfd_and_password() {
    let text = lab(
        "  peers: [{ router: frr1, bfd: fast }, { router: bird1 }]\n  bfd-profiles: { fast: {} }\n",
    )
    .replace(
        "neighbors: [{ to: nodes }] }\n  gobgp1",
        "neighbors: [{ to: nodes, password: x }] }\n  gobgp1",
    );
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.peers[0].bfd".to_string(),
                "MetalLB and `frr1` disagree on BFD".to_string()
            ),
            (
                "routers.bird1.neighbors[0].password".to_string(),
                "MetalLB and `bird1` disagree on the password".to_string()
            ),
        ]
    );
}

#[test]
fn ebgp_multihop_is_refused_on_ibgp_and_needed_off_the_nodes_network() {
    let text = lab("  peers: [{ router: bird1, multihop: true }, { router: far }]\n");
    assert_eq!(
        paths(&text),
        ["metallb.peers[0].multihop", "metallb.peers[1].router"]
    );
    assert!(
        message(&text, "metallb.peers[1].router")
            .starts_with("`far` has no interface on `kind`, the nodes' network")
    );
}

#[test]
fn bfd_needs_an_frr_mode_and_a_bfd_router() {
    let text = with_frr1_bfd(lab(
        "  mode: native\n  peers: [{ router: frr1, bfd: fast }, { router: gobgp1, bfd: fast }]\n  bfd-profiles: { fast: {} }\n",
    ));
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.peers[0].bfd".to_string(),
                "MetalLB's native speaker (mode native) has no BFD".to_string()
            ),
            (
                "metallb.peers[1].bfd".to_string(),
                "`gobgp1` is gobgp, which has no BFD".to_string()
            ),
            (
                "metallb.peers[1].bfd".to_string(),
                "MetalLB's native speaker (mode native) has no BFD".to_string()
            ),
        ]
    );
    let text = with_frr1_bfd(lab(
        "  version: v0.11.0\n  peers: [{ router: frr1, bfd: fast }]\n  bfd-profiles: { fast: {} }\n",
    ));
    assert_eq!(
        message(&text, "metallb.peers[0].bfd"),
        "MetalLB v0.11.0 has no BFD: it came with the FRR mode in v0.12.0"
    );
    // Profiles only lab routers use are fine in native mode: MetalLB never sees them.
    let text = lab("  mode: native\n  peers: [{ router: frr1 }]\n  bfd-profiles: { fast: {} }\n");
    assert_eq!(errors(&text), vec![]);
}

#[test]
fn peer_timers_and_fields_metallb_checks() {
    let text = lab(
        "  peers:\n    - { router: frr1, hold-time: 2s, keepalive-time: soon }\n    - { router: gobgp1, hold-time: 9s, keepalive-time: 10s, port: 20000, password: \"a\\nb\" }\n",
    );
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.peers[0].keepalive-time".to_string(),
                "`soon` is not a duration".to_string()
            ),
            (
                "metallb.peers[0].hold-time".to_string(),
                "hold time 2s is not allowed".to_string()
            ),
            (
                "metallb.peers[1].keepalive-time".to_string(),
                "the keepalive time is longer than the hold time".to_string()
            ),
            (
                "metallb.peers[1].port".to_string(),
                "port 20000 is out of range".to_string()
            ),
            (
                "metallb.peers[1].password".to_string(),
                "the password contains a line break".to_string()
            ),
            (
                "metallb.peers[1].password".to_string(),
                "MetalLB and `gobgp1` disagree on the password".to_string()
            ),
        ]
    );
    let text = lab(
        "  version: v0.12.1\n  mode: native\n  peers: [{ router: frr1, keepalive-time: 3s }]\n",
    );
    assert_eq!(
        message(&text, "metallb.peers[0].keepalive-time"),
        "MetalLB's native speaker (mode native) has no `keepalive-time`"
    );
    let text = lab(
        "  version: v0.10.3\n  peers: [{ router: frr1, source-address: 10.210.1.9, port: 20000 }]\n",
    );
    assert_eq!(
        paths(&text),
        ["metallb.peers[0].source-address"],
        "ConfigMap releases take any port"
    );
}

#[test]
fn frr_modes_need_one_router_id_and_one_peer_per_address() {
    let text = lab(
        "  peers:\n    - { router: frr1, router-id: 10.0.0.1 }\n    - { router: frr1, port: 1179 }\n    - { router: gobgp1, address: 10.210.1.5 }\n    - { router: bird1, router-id: 10.0.0.1 }\n",
    );
    assert_eq!(
        paths(&text),
        [
            "metallb.peers[1].router",
            "metallb.peers[1].router-id",
            "metallb.peers[2].router",
            "metallb.peers[2].router-id"
        ]
    );
    // The native speaker runs one session per peer: ports may differ, router IDs too.
    let text = text.replace("asn: 64500\n", "asn: 64500\n  mode: native\n");
    assert_eq!(paths(&text), ["metallb.peers[2].router"]);
}

#[test]
fn pools_parse_and_stay_clear_of_each_other_and_the_lab() {
    let text = lab(
        "  pools:\n    a: { addresses: [203.0.113.0/28] }\n    b: { addresses: [203.0.113.10-203.0.113.20, 10.210.2.100/32, 203.0.113.9-203.0.113.1, bogus] }\n    c: { addresses: [] }\n",
    );
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.pools.b.addresses[0]".to_string(),
                "203.0.113.10-203.0.113.20 overlaps 203.0.113.0/28".to_string()
            ),
            (
                "metallb.pools.b.addresses[1]".to_string(),
                "10.210.2.100/32 overlaps lab network `up` (10.210.2.0/24)".to_string()
            ),
            (
                "metallb.pools.b.addresses[2]".to_string(),
                "the range ends (203.0.113.1) before it starts (203.0.113.9)".to_string()
            ),
            (
                "metallb.pools.b.addresses[3]".to_string(),
                "`bogus` is neither a CIDR nor a range".to_string()
            ),
            (
                "metallb.pools.c.addresses".to_string(),
                "pool `c` has no addresses".to_string()
            ),
        ]
    );
}

#[test]
fn pool_fields_depend_on_the_release_and_mode() {
    let text = lab(
        "  version: v0.13.3\n  pools: { a: { addresses: [203.0.113.0/28], avoid-buggy-ips: true } }\n",
    );
    assert_eq!(
        message(&text, "metallb.pools.a.avoid-buggy-ips"),
        "MetalLB v0.13.3 has no avoidBuggyIPs (dropped in v0.13.2, back in v0.13.4)"
    );
    let text = lab(
        "  mode: native\n  pools: { a: { addresses: [2001:db8::/120] }, l2: { addresses: [2001:db8:1::/120], protocol: layer2 } }\n",
    );
    assert_eq!(
        message(&text, "metallb.pools.a.addresses[0]"),
        "MetalLB's native speaker (mode native) has no IPv6 BGP"
    );
}

#[test]
fn layer2_pools_take_free_addresses_of_the_nodes_network() {
    let text = lab(
        "  pools:\n    ok: { addresses: [10.210.1.240-10.210.1.250], protocol: layer2 }\n    off: { addresses: [203.0.113.0/28], protocol: layer2 }\n    clash: { addresses: [10.210.1.0/29], protocol: layer2 }\n    other-net: { addresses: [10.210.2.240/29], protocol: layer2 }\n",
    );
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.pools.off.addresses[0]".to_string(),
                "203.0.113.0/28 is outside `kind` (10.210.1.0/24), the nodes' network: nobody there would ARP for it".to_string()
            ),
            (
                "metallb.pools.clash.addresses[0]".to_string(),
                "10.210.1.0/29 includes 10.210.1.0, the network address".to_string()
            ),
            (
                "metallb.pools.clash.addresses[0]".to_string(),
                "10.210.1.0/29 includes 10.210.1.1, the gateway".to_string()
            ),
            (
                "metallb.pools.clash.addresses[0]".to_string(),
                "10.210.1.0/29 includes 10.210.1.5, router `frr1`'s address".to_string()
            ),
            (
                "metallb.pools.other-net.addresses[0]".to_string(),
                "10.210.2.240/29 overlaps lab network `up` (10.210.2.0/24)".to_string()
            ),
            (
                "metallb.pools.other-net.addresses[0]".to_string(),
                "10.210.2.240/29 is outside `kind` (10.210.1.0/24), the nodes' network: nobody there would ARP for it".to_string()
            ),
        ]
    );
}

#[test]
fn advertisements_name_bgp_pools_and_metallb_peers() {
    let text = lab(
        "  peers: [{ router: frr1 }]\n  pools:\n    a: { addresses: [203.0.113.0/28] }\n    l2: { addresses: [10.210.1.240/29], protocol: layer2 }\n  advertisements:\n    - { pools: [a, c, l2, a], peers: [bird1, frr1] }\n",
    );
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.advertisements[0].pools[3]".to_string(),
                "`a` is listed twice".to_string()
            ),
            (
                "metallb.advertisements[0].pools[1]".to_string(),
                "unknown pool `c`".to_string()
            ),
            (
                "metallb.advertisements[0].pools[2]".to_string(),
                "pool `l2` is layer2: BGP advertisements do not apply to it".to_string()
            ),
            (
                "metallb.advertisements[0].peers[0]".to_string(),
                "`bird1` is not a MetalLB peer".to_string()
            ),
        ]
    );
    let text = lab(
        "  version: v0.12.1\n  peers: [{ router: frr1 }]\n  pools: { a: { addresses: [203.0.113.0/28] } }\n  advertisements: [{ peers: [frr1] }, { peers: [frr1] }]\n",
    );
    assert_eq!(
        paths(&text),
        [
            "metallb.advertisements[0].peers",
            "metallb.advertisements[1]",
            "metallb.advertisements[1].peers"
        ]
    );
}

#[test]
fn aggregation_lengths_stay_within_the_family_and_the_pool() {
    let text = lab(
        "  pools:\n    a: { addresses: [203.0.113.200/30] }\n    r: { addresses: [203.0.113.10-203.0.113.20] }\n    v6: { addresses: [2001:db8::/120] }\n  advertisements:\n    - { pools: [a], aggregation-length: 33 }\n    - { pools: [a, r], aggregation-length: 29 }\n    - { pools: [a, r], aggregation-length: 30, aggregation-length-v6: 112 }\n",
    );
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.advertisements[0].aggregation-length".to_string(),
                "invalid aggregation length 33 for IPv4".to_string()
            ),
            (
                "metallb.advertisements[1].aggregation-length".to_string(),
                "aggregation length 29 is shorter than the /30 prefix of pool `a`: MetalLB does not aggregate beyond a pool's own prefix".to_string()
            ),
            (
                "metallb.advertisements[1].aggregation-length".to_string(),
                "aggregation length 29 is shorter than the /30 prefix of pool `r`: MetalLB does not aggregate beyond a pool's own prefix".to_string()
            ),
        ]
    );
    let text = lab(
        "  version: v0.11.0\n  pools: { a: { addresses: [203.0.113.0/28] } }\n  advertisements: [{ aggregation-length-v6: 128 }]\n",
    );
    assert_eq!(
        paths(&text),
        ["metallb.advertisements[0].aggregation-length-v6"]
    );
    let text = lab(
        "  version: v0.12.1\n  mode: native\n  pools: { a: { addresses: [203.0.113.0/28] } }\n  advertisements: [{ aggregation-length-v6: 128 }]\n",
    );
    assert_eq!(
        paths(&text),
        ["metallb.advertisements[0].aggregation-length-v6"]
    );
}

#[test]
fn localpref_must_reach_an_ibgp_peer_and_agree_per_pool() {
    let text = lab(
        "  peers: [{ router: frr1 }, { router: bird1 }]\n  pools: { a: { addresses: [203.0.113.0/28] } }\n  advertisements:\n    - { localpref: 100, peers: [frr1] }\n    - { localpref: 200, communities: [64500:1] }\n    - { localpref: 300, aggregation-length: 30 }\n",
    );
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.advertisements[0].localpref".to_string(),
                "localpref 100 would never be sent: MetalLB sends LOCAL_PREF to iBGP peers only, and every peer of this advertisement is eBGP".to_string()
            ),
            (
                "metallb.advertisements[1].localpref".to_string(),
                "localpref 200 conflicts with advertisements[0] (100) for pool `a`".to_string()
            ),
        ]
    );
    // Before v0.13.10 MetalLB did not compare advertisements.
    let text = text.replace("asn: 64500\n", "asn: 64500\n  version: v0.13.9\n");
    assert_eq!(paths(&text), ["metallb.advertisements[0].localpref"]);
}

#[test]
fn communities_are_values_or_aliases_the_release_knows() {
    let text = lab(
        "  pools: { a: { addresses: [203.0.113.0/28] } }\n  advertisements: [{ communities: [64500:100, tag, 65536:1, no-export, large:1:2:3, 1:2:3] }]\n  communities: { tag: 64500:7, big: large:64500:1:2, broken: \"1:x\" }\n",
    );
    assert_eq!(
        errors(&text),
        [
            (
                "metallb.advertisements[0].communities[2]".to_string(),
                "`65536:1` is not a BGP community".to_string()
            ),
            (
                "metallb.advertisements[0].communities[3]".to_string(),
                "`no-export` is not a BGP community".to_string()
            ),
            (
                "metallb.advertisements[0].communities[5]".to_string(),
                "`1:2:3` is not a BGP community".to_string()
            ),
            (
                "metallb.communities.broken".to_string(),
                "`1:x` is not a BGP community".to_string()
            ),
        ]
    );
    let text = lab("  mode: native\n  communities: { big: large:64500:1:2 }\n");
    assert_eq!(
        message(&text, "metallb.communities.big"),
        "MetalLB's native speaker (mode native) has no large communities"
    );
    let text = lab("  version: v0.13.9\n  communities: { big: large:64500:1:2 }\n");
    assert_eq!(
        message(&text, "metallb.communities.big"),
        "MetalLB v0.13.9 has no large communities (they arrived in v0.13.10)"
    );
}

#[test]
fn shortest_prefixes_of_ranges() {
    let range = |text: &str| parse_pool_range(text).unwrap();
    assert_eq!(shortest_prefix(range("203.0.113.200/30")), 30);
    assert_eq!(shortest_prefix(range("203.0.113.10-203.0.113.20")), 30);
    assert_eq!(shortest_prefix(range("203.0.113.0-203.0.113.255")), 24);
    assert_eq!(shortest_prefix(range("203.0.113.7-203.0.113.7")), 32);
    assert_eq!(shortest_prefix(range("0.0.0.0/0")), 0);
    assert_eq!(shortest_prefix(range("::/0")), 0);
    assert_eq!(shortest_prefix(range("2001:db8::1-2001:db8::ff")), 121);
}

#[test]
fn pool_ranges_parse() {
    assert_eq!(
        parse_pool_range("203.0.113.0/30").unwrap(),
        (
            "203.0.113.0".parse().unwrap(),
            "203.0.113.3".parse().unwrap()
        )
    );
    assert_eq!(
        parse_pool_range("203.0.113.10 - 203.0.113.20").unwrap(),
        (
            "203.0.113.10".parse().unwrap(),
            "203.0.113.20".parse().unwrap()
        )
    );
    assert!(parse_pool_range("203.0.113.20-203.0.113.10").is_err());
    assert!(parse_pool_range("203.0.113.1-2001:db8::1").is_err());
}

#[test]
fn a_bad_metallb_section_renders_every_error_with_its_place() {
    let text = lab(
        "  version: v0.14.8\n  mode: native\n  peers:\n    - { router: bird1, multihop: true, bfd: fast }\n    - { router: frr1, hold-time: 1s }\n  pools:\n    doc-example: { addresses: [203.0.113.200/30, 203.0.113.202/32] }\n  advertisements:\n    - { pools: [doc-exmple], aggregation-length: 24, communities: [large:1:2:3] }\n  bfd-profiles:\n    fast: { receive-interval: 5, detect-multiplier: 300 }\n",
    );
    let rendered = match parse_and_validate("lab.yaml", &text) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors.render_plain(),
    };
    insta::assert_snapshot!(rendered);
}
