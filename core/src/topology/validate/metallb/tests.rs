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

/// The messages of the errors at `path`.
fn messages(text: &str, path: &str) -> Vec<String> {
    errors(text)
        .into_iter()
        .filter(|(p, _)| p == path)
        .map(|(_, m)| m)
        .collect()
}

/// The hint of the only error at `path`.
fn hint(text: &str, path: &str) -> String {
    let topology = parse("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    let found: Vec<FieldError> = super::super::validate(&topology)
        .into_iter()
        .filter(|e| e.path == path)
        .collect();
    assert_eq!(found.len(), 1, "errors at {path}: {found:?}");
    found[0].help.clone().unwrap_or_default()
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
    assert_eq!(errors(crate::render::metallb::tests::RICH), vec![]);
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
                "MetalLB's native speaker (mode native) has no BFD: refused in native mode by MetalLB v0.12.0 and later".to_string()
            ),
            (
                "metallb.peers[1].bfd".to_string(),
                "`gobgp1` is gobgp, which has no BFD".to_string()
            ),
            (
                "metallb.peers[1].bfd".to_string(),
                "MetalLB's native speaker (mode native) has no BFD: refused in native mode by MetalLB v0.12.0 and later".to_string()
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
        "MetalLB's native speaker (mode native) has no `keepalive-time`: refused in native mode by MetalLB v0.12.0 and later"
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
    // v0.16.0 and later compare every pair of peers sharing a node: bird1's router ID
    // differs from frr1's second entry too.
    assert_eq!(
        paths(&text),
        [
            "metallb.peers[1].router",
            "metallb.peers[1].router-id",
            "metallb.peers[2].router",
            "metallb.peers[2].router-id",
            "metallb.peers[3].router-id"
        ]
    );
    // Until v0.15.3 every peer is compared with the first one.
    let old = text.replace("asn: 64500\n", "asn: 64500\n  version: v0.15.3\n");
    assert_eq!(
        paths(&old),
        [
            "metallb.peers[1].router",
            "metallb.peers[1].router-id",
            "metallb.peers[2].router",
            "metallb.peers[2].router-id"
        ]
    );
    // The native speaker runs one session per peer: CRD releases take peers at one
    // address, router IDs may differ.
    let text = text.replace("asn: 64500\n", "asn: 64500\n  mode: native\n");
    assert_eq!(errors(&text), vec![]);
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
        "MetalLB v0.13.3 has no avoidBuggyIPs (missing from MetalLB v0.13.0–v0.13.3, back in v0.13.4)"
    );
    let text = lab(
        "  mode: native\n  pools: { a: { addresses: [2001:db8::/120] }, l2: { addresses: [2001:db8:1::/120], protocol: layer2 } }\n",
    );
    assert_eq!(
        message(&text, "metallb.pools.a.addresses[0]"),
        "MetalLB's native speaker (mode native) has no IPv6 BGP: refused in pools an advertisement selects by MetalLB v0.14.9 and later"
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
            "metallb.advertisements[1].peers",
            "metallb.advertisements[1]"
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
    // The v0.12 ConfigMap knows the key in both modes (native just has no IPv6 to use it on).
    let text = lab(
        "  version: v0.12.1\n  mode: native\n  pools: { a: { addresses: [203.0.113.0/28] } }\n  advertisements: [{ aggregation-length-v6: 128 }]\n",
    );
    assert_eq!(errors(&text), vec![]);
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
        "MetalLB's native speaker (mode native) has no large communities: refused in native mode by MetalLB v0.13.10 and later"
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

/// `lab(body)` at MetalLB `version`.
fn at(version: &str, body: &str) -> String {
    lab(&format!("  version: {version}\n{body}"))
}

#[test]
fn an_unknown_version_is_refused_unless_the_topology_brings_the_manifests() {
    let text = lab("  version: v0.12.2\n");
    assert_eq!(
        message(&text, "metallb.version"),
        "MetalLB v0.12.2 is not a release metallab knows"
    );
    assert_eq!(
        hint(&text, "metallb.version"),
        "metallab knows v0.12.0, v0.12.1 and v0.13.2 nearby; the newest is v0.16.1; or set `metallb.manifests` to bring this release's manifests"
    );
    assert_eq!(paths(&lab("  version: v0.17.0\n")), ["metallb.version"]);
    for version in ["v0.12.2", "v0.17.0", "v0.99.0"] {
        let text = lab(&format!(
            "  version: {version}\n  manifests: ./metallb.yaml\n"
        ));
        assert_eq!(errors(&text), vec![], "{version}");
    }
    // The rules of the nearest known release below apply: v0.12.2 is a ConfigMap
    // release without BGPAdvertisement peers.
    let text = lab(
        "  version: v0.12.2\n  manifests: ./metallb.yaml\n  peers: [{ router: frr1 }]\n  pools: { a: { addresses: [203.0.113.0/28] } }\n  advertisements: [{ peers: [frr1] }]\n",
    );
    assert_eq!(paths(&text), ["metallb.advertisements[0].peers"]);
    // Tags whose publication is only inferred are still known.
    assert_eq!(errors(&lab("  version: v0.13.0\n")), vec![]);
    assert_eq!(errors(&lab("  version: v0.14.1\n")), vec![]);
}

/// frr1 (eBGP) with BFD profile `fast` in echo mode, bird1 (iBGP) without BFD, an IPv6
/// pool and an IPv4 one.
fn echo_lab(version: &str, advertisements: &str) -> String {
    with_frr1_bfd(at(
        version,
        &format!(
            "  peers: [{{ router: frr1, bfd: fast }}, {{ router: bird1 }}]\n  pools: {{ v6: {{ addresses: [2001:db8::/120] }}, v4: {{ addresses: [203.0.113.0/28] }} }}\n  bfd-profiles: {{ fast: {{ echo-mode: true }} }}\n{advertisements}"
        ),
    ))
}

#[test]
fn bfd_echo_towards_an_ipv6_pool_is_refused_from_v0_13_10() {
    // No advertisement: the default one takes both pools to every peer.
    assert_eq!(errors(&echo_lab("v0.13.9", "")), vec![]);
    let text = echo_lab("v0.13.10", "");
    assert_eq!(
        message(&text, "metallb.peers[0].bfd"),
        "pool `v6` has IPv6 addresses and no advertisement, so it is announced to every peer, `frr1` too, whose BFD profile `fast` has echo mode"
    );
    assert!(
        hint(&text, "metallb.peers[0].bfd").ends_with("(refused by MetalLB v0.13.10 and later)")
    );
    // An advertisement without `peers` reaches every peer, and one without `pools` every
    // BGP pool.
    for advertisements in [
        "  advertisements: [{ pools: [v6] }]\n",
        "  advertisements: [{ peers: [frr1] }]\n",
    ] {
        assert_eq!(errors(&echo_lab("v0.13.9", advertisements)), vec![]);
        let text = echo_lab("v0.16.1", advertisements);
        assert_eq!(
            message(&text, "metallb.advertisements[0]"),
            "advertisements[0] sends pool `v6`, which has IPv6 addresses, to `frr1`, whose BFD profile `fast` has echo mode"
        );
    }
    // Per advertisement and peer: the IPv6 pool goes to bird1 only, the IPv4 one to both.
    let text = echo_lab(
        "v0.16.1",
        "  advertisements: [{ pools: [v6], peers: [bird1] }, { pools: [v4] }]\n",
    );
    assert_eq!(errors(&text), vec![]);
    // No echo mode, no problem.
    let text = echo_lab("v0.16.1", "").replace("echo-mode: true", "echo-mode: false");
    assert_eq!(errors(&text), vec![]);
}

#[test]
fn an_advertisement_without_pools_needs_a_bgp_pool_to_cover() {
    for version in ["v0.12.1", "v0.16.1"] {
        let text = at(
            version,
            "  peers: [{ router: frr1 }]\n  pools: { l2: { addresses: [10.210.1.240/29], protocol: layer2 } }\n  advertisements: [{ communities: [64500:1] }]\n",
        );
        assert_eq!(
            message(&text, "metallb.advertisements[0]"),
            "this advertisement names no pools, and there is no BGP pool for it to cover"
        );
        assert!(hint(&text, "metallb.advertisements[0]").contains("metallab's own rule"));
        let text = text.replace(
            "protocol: layer2 } }",
            "protocol: layer2 }, b: { addresses: [203.0.113.0/28] } }",
        );
        assert_eq!(errors(&text), vec![], "{version}");
    }
}

#[test]
fn hold_times_count_in_whole_seconds() {
    for version in ["v0.9.6", "v0.12.1", "v0.13.2", "v0.14.8", "v0.16.1"] {
        let peer = |hold: &str| {
            at(
                version,
                &format!("  peers: [{{ router: frr1, hold-time: {hold} }}]\n"),
            )
        };
        // 500ms is 0 (no hold timer), 3.5s is 3s: both accepted.
        assert_eq!(errors(&peer("500ms")), vec![], "{version}");
        assert_eq!(errors(&peer("3.5s")), vec![], "{version}");
        // 2.9s is 2s.
        assert_eq!(
            message(&peer("2.9s"), "metallb.peers[0].hold-time"),
            "hold time 2.9s is not allowed"
        );
    }
}

#[test]
fn a_lone_keepalive_runs_against_90s_until_v0_14_9_and_derives_the_hold_time_after() {
    let keepalive = |version: &str, time: &str| {
        at(
            version,
            &format!("  peers: [{{ router: frr1, keepalive-time: {time} }}]\n"),
        )
    };
    let path = "metallb.peers[0].keepalive-time";
    for version in ["v0.12.1", "v0.13.2", "v0.14.8"] {
        assert_eq!(errors(&keepalive(version, "90s")), vec![], "{version}");
        assert_eq!(
            message(&keepalive(version, "100s"), path),
            "keepalive time 100s is longer than 90s, the hold time MetalLB uses without `hold-time`"
        );
    }
    assert!(
        hint(&keepalive("v0.12.1", "100s"), path)
            .starts_with("MetalLB v0.12.0–v0.12.1 do not derive")
    );
    assert!(
        hint(&keepalive("v0.14.8", "100s"), path)
            .starts_with("MetalLB v0.13.0–v0.14.8 do not derive")
    );
    // From v0.14.9 the hold time is 3 × keepalive: 300s.
    assert_eq!(errors(&keepalive("v0.14.9", "100s")), vec![]);
    assert_eq!(errors(&keepalive("v0.14.9", "1s")), vec![]);
    // 500ms makes a 1.5s hold time, 1s in whole seconds: refused.
    assert_eq!(
        message(&keepalive("v0.14.9", "500ms"), path),
        "a keepalive time of 500ms alone makes the hold time 1s 500ms (3 × keepalive), which is neither 0 nor at least 3s in whole seconds"
    );
    // 300ms makes 900ms, 0 in whole seconds: no hold timer, accepted.
    assert_eq!(errors(&keepalive("v0.16.1", "300ms")), vec![]);
    // Before, 500ms runs against the 90s hold time and FRR writes it as 0: no keepalives.
    assert_eq!(
        message(&keepalive("v0.14.8", "500ms"), path),
        "a keepalive time of 500ms is 0 in whole seconds: no keepalives would be sent, and the session would expire after the 90s hold time"
    );
    assert!(hint(&keepalive("v0.14.8", "500ms"), path).contains("metallab's own rule"));
}

#[test]
fn keepalive_and_hold_compare_in_whole_seconds_in_the_config_map_only() {
    let peer = |version: &str| {
        at(
            version,
            "  peers: [{ router: frr1, hold-time: 3.5s, keepalive-time: 3.9s }]\n",
        )
    };
    // 3s and 3s in the ConfigMap.
    assert_eq!(errors(&peer("v0.12.1")), vec![]);
    for version in ["v0.13.2", "v0.14.9", "v0.16.1"] {
        assert_eq!(
            paths(&peer(version)),
            ["metallb.peers[0].keepalive-time"],
            "{version}"
        );
    }
}

#[test]
fn a_zero_timer_reads_as_unset_in_v0_13_to_v0_14_8() {
    let peer = |version: &str| at(version, "  peers: [{ router: frr1, hold-time: 0s }]\n");
    assert_eq!(errors(&peer("v0.12.1")), vec![]);
    assert_eq!(errors(&peer("v0.14.9")), vec![]);
    for version in ["v0.13.2", "v0.14.8"] {
        assert_eq!(
            message(&peer(version), "metallb.peers[0].hold-time"),
            "a hold time of 0 reads as unset in MetalLB v0.13.0–v0.14.8, which then use 90s"
        );
    }
}

#[test]
fn keepalive_in_native_mode() {
    let peer = |version: &str, time: &str| {
        at(
            version,
            &format!("  mode: native\n  peers: [{{ router: frr1, keepalive-time: {time} }}]\n"),
        )
    };
    let path = "metallb.peers[0].keepalive-time";
    // The ConfigMap refuses the key, CRD releases a non-zero value.
    assert_eq!(paths(&peer("v0.12.1", "0s")), [path]);
    assert_eq!(paths(&peer("v0.14.8", "3s")), [path]);
    assert_eq!(errors(&peer("v0.14.8", "0s")), vec![]);
    assert_eq!(errors(&peer("v0.16.1", "0s")), vec![]);
    assert_eq!(
        message(&peer("v0.11.0", "3s"), path),
        "MetalLB v0.11.0 has no `keepalive-time`: it came with the FRR mode in v0.12.0"
    );
}

#[test]
fn port_0_is_179_in_the_config_map_and_refused_from_v0_15_0() {
    let peer = |version: &str, mode: &str| {
        at(
            version,
            &format!("  mode: {mode}\n  peers: [{{ router: frr1, port: 0 }}]\n"),
        )
    };
    let path = "metallb.peers[0].port";
    assert_eq!(errors(&peer("v0.9.6", "native")), vec![]);
    assert_eq!(errors(&peer("v0.12.1", "frr")), vec![]);
    assert_eq!(errors(&peer("v0.12.1", "native")), vec![]);
    // The CRD stores 0; FRR leaves it out of frr.conf, the native speaker would dial it.
    assert_eq!(errors(&peer("v0.14.9", "frr")), vec![]);
    assert_eq!(
        message(&peer("v0.14.9", "native"), path),
        "port 0: MetalLB's native speaker would dial port 0"
    );
    assert!(hint(&peer("v0.14.9", "native"), path).contains("metallab's own rule"));
    for mode in ["native", "frr"] {
        assert_eq!(
            message(&peer("v0.15.0", mode), path),
            "port 0 is refused by MetalLB v0.15.0 and later (the BGPPeer CRD's minimum is 1)"
        );
    }
}

#[test]
fn ibgp_multihop_is_refused_from_v0_12_0() {
    let text = |version: &str| at(version, "  peers: [{ router: bird1, multihop: true }]\n");
    assert_eq!(errors(&text("v0.11.0")), vec![]);
    assert_eq!(paths(&text("v0.12.0")), ["metallb.peers[0].multihop"]);
}

#[test]
fn identical_native_peers_are_refused_by_the_config_map_of_v0_10_to_v0_12() {
    let text = |version: &str| {
        at(
            version,
            "  mode: native\n  peers: [{ router: frr1 }, { router: frr1 }]\n",
        )
    };
    assert_eq!(errors(&text("v0.9.8")), vec![]);
    for version in ["v0.10.0", "v0.12.1"] {
        assert_eq!(
            message(&text(version), "metallb.peers[1]"),
            "this peer repeats metallb.peers[0]"
        );
    }
    assert!(hint(&text("v0.10.0"), "metallb.peers[1]").contains("MetalLB v0.10.0–v0.12.1"));
    // Two BGPPeer objects never compare equal (their names differ).
    assert_eq!(errors(&text("v0.13.2")), vec![]);
    // Any difference, even the port, makes them two peers.
    let text = text("v0.12.1").replace("{ router: frr1 }]", "{ router: frr1, port: 1179 }]");
    assert_eq!(errors(&text), vec![]);
    // Only metallab's lab hold time and an explicit 9s look the same to MetalLB.
    let text = at(
        "v0.12.1",
        "  mode: native\n  peers: [{ router: frr1 }, { router: frr1, hold-time: 9s }]\n",
    );
    assert_eq!(paths(&text), ["metallb.peers[1]"]);
}

#[test]
fn frr_peers_with_node_selectors_that_share_no_node_from_v0_16_0() {
    let text = |version: &str, other: &str| {
        at(
            version,
            &format!(
                "  peers:\n    - {{ router: frr1, node-selector: {{ rack: a }} }}\n    - {{ router: frr1, router-id: 10.0.0.9, node-selector: {other} }}\n"
            ),
        )
    };
    let disjoint = "{ rack: b }";
    assert_eq!(errors(&text("v0.16.0", disjoint)), vec![]);
    assert_eq!(
        paths(&text("v0.15.3", disjoint)),
        ["metallb.peers[1].router", "metallb.peers[1].router-id"]
    );
    // Other labels might be on one node: metallab cannot tell, and says so.
    let unknown = text("v0.16.0", "{ zone: x }");
    assert_eq!(
        paths(&unknown),
        ["metallb.peers[1].router", "metallb.peers[1].router-id"]
    );
    assert!(hint(&unknown, "metallb.peers[1].router").contains("does not know the nodes' labels"));
    assert!(
        hint(&text("v0.15.3", disjoint), "metallb.peers[1].router")
            .contains("MetalLB v0.12.0–v0.15.3")
    );
}

#[test]
fn config_map_v0_12_refuses_equal_advertisements_in_one_pool() {
    let text = |version: &str, second_pools: &str| {
        at(
            version,
            &format!(
                "  peers: [{{ router: bird1 }}]\n  pools: {{ p: {{ addresses: [203.0.113.0/28] }}, q: {{ addresses: [203.0.113.16/28] }} }}\n  advertisements:\n    - {{ pools: [p, q], localpref: 100 }}\n    - {{ pools: {second_pools}, localpref: 100 }}\n"
            ),
        )
    };
    for version in ["v0.12.0", "v0.12.1"] {
        assert_eq!(
            message(&text(version, "[q]"), "metallb.advertisements[1]"),
            "advertisements[1] gives pool `q` the same bgp-advertisements entry as advertisements[0]"
        );
    }
    assert!(
        hint(&text("v0.12.1", "[q]"), "metallb.advertisements[1]")
            .contains("refused by MetalLB v0.12.0–v0.12.1")
    );
    // No shared pool: two entries in two pools.
    let apart = text("v0.12.1", "[q]").replace("pools: [p, q]", "pools: [p]");
    assert_eq!(errors(&apart), vec![]);
    // v0.9–v0.11 keep both entries; CRD releases compare whole objects, names included.
    for version in ["v0.11.0", "v0.13.2", "v0.16.1"] {
        assert_eq!(errors(&text(version, "[q]")), vec![], "{version}");
        assert_eq!(errors(&text(version, "[p, q]")), vec![], "{version}");
    }
}

#[test]
fn duplicate_communities_are_refused_from_v0_12_0() {
    let text = |version: &str| {
        at(
            version,
            "  pools: { a: { addresses: [203.0.113.0/28] } }\n  advertisements: [{ communities: [64500:1, 64500:1] }]\n",
        )
    };
    assert_eq!(errors(&text("v0.11.0")), vec![]);
    for version in ["v0.12.0", "v0.16.1"] {
        assert_eq!(
            paths(&text(version)),
            ["metallb.advertisements[0].communities[1]"],
            "{version}"
        );
    }
}

#[test]
fn aggregation_before_v0_12_0_measures_the_most_specific_cidr() {
    // 203.0.113.240-250 splits into 240/29, 248/31 and 250/32.
    let text = |version: &str, length: u8| {
        at(
            version,
            &format!(
                "  pools: {{ r: {{ addresses: [203.0.113.240-203.0.113.250] }} }}\n  advertisements: [{{ aggregation-length: {length} }}]\n"
            ),
        )
    };
    let path = "metallb.advertisements[0].aggregation-length";
    for version in ["v0.9.6", "v0.11.0"] {
        assert_eq!(
            message(&text(version, 29), path),
            "aggregation length 29 is shorter than /32, the most specific CIDR of pool `r`"
        );
        assert_eq!(paths(&text(version, 31)), [path]);
        assert_eq!(errors(&text(version, 32)), vec![]);
    }
    assert!(hint(&text("v0.11.0", 29), path).contains("MetalLB v0.9.3–v0.11.0"));
    // From v0.12.0 one CIDR of the entry fitting is enough: /29.
    assert_eq!(errors(&text("v0.12.0", 29)), vec![]);
    assert_eq!(
        message(&text("v0.12.0", 28), path),
        "aggregation length 28 is shorter than the /29 prefix of pool `r`: MetalLB does not aggregate beyond a pool's own prefix"
    );
    // The CRD's minimum is 1.
    assert_eq!(
        message(&text("v0.16.1", 0), path),
        "aggregation length 0 is refused by MetalLB v0.13.0 and later (the BGPAdvertisement CRD's minimum is 1)"
    );
}

#[test]
fn a_single_address_range_is_refused_by_v0_11_0_only() {
    let text = |version: &str| {
        at(
            version,
            "  pools: { a: { addresses: [203.0.113.7-203.0.113.7] } }\n",
        )
    };
    assert_eq!(errors(&text("v0.10.3")), vec![]);
    assert_eq!(
        message(&text("v0.11.0"), "metallb.pools.a.addresses[0]"),
        "a single-address range is refused by MetalLB v0.11.0"
    );
    assert_eq!(errors(&text("v0.12.0")), vec![]);
    // A reversed range: refused from v0.11.0, silently empty before.
    let reversed = |version: &str| {
        at(
            version,
            "  pools: { a: { addresses: [203.0.113.9-203.0.113.1] } }\n",
        )
    };
    let path = "metallb.pools.a.addresses[0]";
    assert!(
        hint(&reversed("v0.10.3"), path).contains(
            "metallab's own rule: MetalLB v0.9.3–v0.10.3 silently take no address from it"
        )
    );
    assert!(hint(&reversed("v0.11.0"), path).contains("refused by MetalLB v0.11.0 and later"));
}

#[test]
fn native_mode_refuses_ipv6_in_any_pool_from_v0_13_to_v0_14_8() {
    let text = |version: &str, bgp_pool: bool| {
        let bgp = if bgp_pool {
            ", b: { addresses: [203.0.113.0/28] }"
        } else {
            ""
        };
        at(
            version,
            &format!(
                "  mode: native\n  pools: {{ l2: {{ addresses: [2001:db8::/120], protocol: layer2 }}{bgp} }}\n"
            ),
        )
    };
    let path = "metallb.pools.l2.addresses[0]";
    let refused = |text: &str| {
        messages(text, path)
            .iter()
            .any(|m| m.starts_with("an IPv6 CIDR in any pool, layer2 ones too, is refused in native mode by MetalLB v0.13.0–v0.14.8"))
    };
    assert!(!refused(&text("v0.12.1", true)));
    assert!(refused(&text("v0.13.2", true)));
    assert!(refused(&text("v0.14.8", true)));
    // Without any BGPAdvertisement there is nothing to scan.
    assert!(!refused(&text("v0.14.8", false)));
    // v0.14.9 and later scan only the pools advertisements select.
    assert!(!refused(&text("v0.14.9", true)));
}

#[test]
fn localpref_conflicts_compare_both_lengths_until_v0_14_9() {
    let text = |version: &str| {
        at(
            version,
            "  peers: [{ router: bird1 }]\n  pools: { a: { addresses: [203.0.113.0/24] } }\n  advertisements:\n    - { localpref: 100 }\n    - { localpref: 200, aggregation-length: 24 }\n",
        )
    };
    let path = "metallb.advertisements[1].localpref";
    assert_eq!(errors(&text("v0.13.9")), vec![]);
    // The IPv6 lengths are both 128, so the two make the same update for MetalLB.
    for version in ["v0.13.10", "v0.14.9"] {
        assert_eq!(paths(&text(version)), [path], "{version}");
    }
    assert!(hint(&text("v0.14.9"), path).contains("both aggregation lengths, IPv4 and IPv6"));
    // From v0.15.0 only the IPv4 length counts for an IPv4 pool.
    assert_eq!(errors(&text("v0.15.0")), vec![]);
    // Both lengths differing is enough everywhere.
    let both = text("v0.14.9").replace(
        "aggregation-length: 24 }",
        "aggregation-length: 24, aggregation-length-v6: 120 }",
    );
    assert_eq!(errors(&both), vec![]);
}

#[test]
fn the_password_line_break_rule_is_metallabs_own() {
    let text = lab("  peers: [{ router: frr1, password: \"a\\nb\" }]\n").replace(
        "neighbors: [{ to: nodes }] }\n  bird1",
        "neighbors: [{ to: nodes, password: \"a\\nb\" }] }\n  bird1",
    );
    assert_eq!(
        message(&text, "metallb.peers[0].password"),
        "the password contains a line break"
    );
    assert!(
        hint(&text, "metallb.peers[0].password").contains("metallab's own rule, MetalLB has none")
    );
}

#[test]
fn names_that_become_one_kubernetes_name_are_refused_on_crd_releases() {
    let pools = |version: &str| {
        at(
            version,
            "  pools: { Pool_A: { addresses: [203.0.113.0/28] }, pool-a: { addresses: [203.0.113.16/28] } }\n",
        )
    };
    // `Pool_A` is not a DNS label to begin with; the collision says what it would cost.
    assert_eq!(
        errors(&pools("v0.16.1")),
        [
            (
                "metallb.pools.Pool_A".to_string(),
                "pool name `Pool_A` is not DNS-safe".to_string()
            ),
            (
                "metallb.pools.pool-a".to_string(),
                "`Pool_A` and `pool-a` would both be the IPAddressPool `pool-a`".to_string()
            )
        ]
    );
    assert!(hint(&pools("v0.16.1"), "metallb.pools.pool-a").contains("metallab's own rule"));
    // The ConfigMap keeps names as written.
    assert_eq!(paths(&pools("v0.12.1")), ["metallb.pools.Pool_A"]);
    // frr1's second entry is the BGPPeer `frr1-2`, like router frr1-2.
    let peers = at(
        "v0.16.1",
        "  mode: native\n  peers: [{ router: frr1 }, { router: frr1 }, { router: frr1-2 }]\n",
    )
    .replace(
        "  gw:",
        "  frr1-2: { kind: frr, asn: 64505, interfaces: { kind: {} }, neighbors: [{ to: nodes }] }\n  gw:",
    );
    assert_eq!(
        errors(&peers),
        [(
            "metallb.peers[2].router".to_string(),
            "this peer and metallb.peers[1] would both be the BGPPeer `frr1-2`".to_string()
        )]
    );
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

#[test]
fn openbgpd_is_a_metallb_peer_like_any_bgp_router_but_without_bfd() {
    let with_openbgpd = |metallb: &str| {
        lab(metallb).replace(
            "  gw: {",
            "  obgpd1: { kind: openbgpd, asn: 64505, interfaces: { kind: {} }, neighbors: [{ to: nodes, password: lab-secret }] }\n  gw: {",
        )
    };
    let text = with_openbgpd(
        "  peers: [{ router: obgpd1, password: lab-secret }]\n  pools: { a: { addresses: [203.0.113.0/28] } }\n",
    );
    assert_eq!(errors(&text), vec![]);
    let topology = parse_and_validate("lab.yaml", &text).unwrap();
    let plan = crate::plan::build(&topology, "lab.yaml", std::path::Path::new(""));
    assert_eq!(plan.router("obgpd1").unwrap().kind.as_str(), "openbgpd");
    let text =
        with_openbgpd("  peers: [{ router: obgpd1, bfd: fast }]\n  bfd-profiles: { fast: {} }\n");
    assert_eq!(
        messages(&text, "metallb.peers[0].bfd"),
        ["`obgpd1` is openbgpd, which has no BFD"]
    );
}
