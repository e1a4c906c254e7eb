//! MetalLB: the rules MetalLB itself enforces on its configuration, so a bad lab fails
//! here with file:line instead of as a webhook rejection or an `InvalidConfig` event
//! half-way through `up`, plus what a MetalLB lab needs to work at all (peers that are
//! reachable BGP routers peering back with the nodes, pools clear of container
//! addresses).
//!
//! MetalLB's own rules come from `internal/config/{config,validation}.go` (current and
//! v0.12.1) and are gated by release through [`crate::metallb::version`].

use super::neighbors::unknown_bfd_profile;
use super::*;
use crate::metallb::config::parse_bgp_duration;
use crate::metallb::version::{MetallbSetup, MetallbVersion, VersionError};
use std::time::Duration;

/// Each pool's parsed address ranges: (index in `addresses`, first and last address).
type PoolRanges<'t> = IndexMap<&'t str, Vec<(usize, (IpAddr, IpAddr))>>;

/// MetalLB: a cluster to run in, a release and mode that exist, peers, pools,
/// advertisements and communities MetalLB accepts.
pub(super) fn metallb(v: &mut Validator) {
    let t = v.topology;
    let Some(metallb) = &t.metallb else { return };
    if !v.has_cluster() {
        v.report(
            FieldError::new("metallb", "MetalLB needs a cluster")
                .help("add `cluster:` (provider kind, minikube or existing)"),
        );
    }
    if metallb.asn == 0 {
        v.report(FieldError::new("metallb.asn", "ASN 0 is reserved").help(ASN_HELP));
    }
    let setup = setup(v, metallb);
    peers(v, metallb, setup);
    let pools = pools(v, metallb, setup);
    advertisements(v, metallb, setup, &pools);
    community_aliases(v, metallb, setup);
}

/// The release and mode; None when the version cannot be read (rules that depend on
/// the release are then skipped).
fn setup(v: &mut Validator, metallb: &MetallbSpec) -> Option<MetallbSetup> {
    match MetallbSetup::of(metallb) {
        Ok(setup) => Some(setup),
        Err(error) => {
            let path = match error {
                VersionError::ModeUnavailable { .. } => "metallb.mode",
                _ => "metallb.version",
            };
            let help = error.hint();
            v.report(FieldError::new(path, error.to_string()).help(help));
            None
        }
    }
}

/// The peer's ASN: its own `asn:` or its router's.
fn peer_asn(v: &Validator, peer: &MetallbPeerSpec) -> Option<u32> {
    peer.asn
        .or_else(|| v.topology.routers.get(&peer.router).and_then(|r| r.asn))
}

fn peers(v: &mut Validator, metallb: &MetallbSpec, setup: Option<MetallbSetup>) {
    let t = v.topology;
    let node_network = t.node_network();
    for (i, peer) in metallb.peers.iter().enumerate() {
        let path = format!("metallb.peers[{i}]");
        let Some(router) = v.known_router(format!("{path}.router"), &peer.router) else {
            continue;
        };
        if !router.kind.speaks_bgp() {
            v.report(
                FieldError::new(
                    format!("{path}.router"),
                    format!("`{}` is a linux router: it runs no BGP daemon", peer.router),
                )
                .help("peer MetalLB with an frr, bird, gobgp or quagga router"),
            );
            continue;
        }
        if peer.asn == Some(0) {
            v.report(FieldError::new(format!("{path}.asn"), "ASN 0 is reserved").help(ASN_HELP));
        }
        if let (Some(asn), Some(router_asn)) = (peer.asn, router.asn)
            && asn != router_asn
        {
            v.report(
                FieldError::new(
                    format!("{path}.asn"),
                    format!(
                        "asn {asn} does not match `{}`'s asn {router_asn}",
                        peer.router
                    ),
                )
                .also(
                    format!("routers.{}.asn", peer.router),
                    format!("`{}`'s asn", peer.router),
                )
                .help("drop `asn:` here: a peer router's ASN is taken from the router"),
            );
        }
        let asn = peer_asn(v, peer);
        let ibgp = asn == Some(metallb.asn);
        if peer.multihop && ibgp {
            v.report(
                FieldError::new(
                    format!("{path}.multihop"),
                    format!(
                        "`multihop` is MetalLB's ebgpMultiHop, which it refuses on an iBGP peer (both ends are AS {})",
                        metallb.asn
                    ),
                )
                .help("remove `multihop:`: iBGP sessions may cross several hops without it (the router's `to: nodes` neighbor still needs `multihop:`)"),
            );
        }
        if let Some(profile) = &peer.bfd {
            unknown_bfd_profile(v, format!("{path}.bfd"), profile);
            if !router.kind.has_bfd() {
                v.report(
                    FieldError::new(
                        format!("{path}.bfd"),
                        format!("`{}` is {}, which has no BFD", peer.router, router.kind),
                    )
                    .help("remove `bfd:`, or peer with an frr or bird router"),
                );
            }
            if let Some(setup) = setup
                && !setup.has_bfd()
            {
                v.report(
                    FieldError::new(format!("{path}.bfd"), no_frr_feature(setup, "BFD"))
                        .help(frr_mode_help(setup.version, "remove `bfd:`")),
                );
            }
        }
        peer_timers(v, &path, peer, setup);
        if let (Some(setup), Some(_)) = (setup, peer.source_address)
            && !setup.version.supports_source_address()
        {
            v.report(
                FieldError::new(
                    format!("{path}.source-address"),
                    format!(
                        "MetalLB {} has no `source-address` (it arrived in v0.11.0)",
                        setup.version
                    ),
                )
                .help("use MetalLB v0.11.0 or later, or remove `source-address:`"),
            );
        }
        if peer.port == Some(0) {
            v.report(
                FieldError::new(format!("{path}.port"), "port 0 is not a BGP port")
                    .help("omit `port:` for 179"),
            );
        } else if let (Some(port), Some(setup)) = (peer.port, setup)
            && port > 16384
            && setup.version.uses_crds()
        {
            v.report(
                FieldError::new(
                    format!("{path}.port"),
                    format!("port {port} is out of range"),
                )
                .help("the BGPPeer CRD accepts peerPort 1–16384"),
            );
        }
        if peer
            .password
            .as_deref()
            .is_some_and(|p| p.contains(['\n', '\r']))
        {
            v.report(
                FieldError::new(
                    format!("{path}.password"),
                    "the password contains a line break",
                )
                .help("MetalLB refuses passwords with line breaks; write it on one line"),
            );
        }
        if let Some(network) = node_network
            && !ibgp
            && !peer.multihop
            && peer.address.is_none()
            && !router.interfaces.contains_key(network)
            // In-cluster routers have their own rule (validate/placement.rs).
            && router.placement != Some(Placement::Cluster)
        {
            v.report(
                FieldError::new(
                    format!("{path}.router"),
                    format!("`{}` has no interface on `{network}`, the nodes' network: an eBGP session cannot reach it in one hop", peer.router),
                )
                .help(format!("connect `{}` to `{network}`, or set `multihop: true` here (and add `nodes.routes` towards it)", peer.router)),
            );
        }
        peers_back(v, &path, metallb, peer);
    }
    frr_peer_consistency(v, metallb, setup);
}

/// The router end: it must declare the nodes as neighbors (else it refuses MetalLB's
/// sessions) in MetalLB's AS.
fn peers_back(v: &mut Validator, path: &str, metallb: &MetallbSpec, peer: &MetallbPeerSpec) {
    let Some(router) = v.topology.routers.get(&peer.router) else {
        return;
    };
    if v.neighbors_unreadable(&peer.router) {
        return;
    }
    let node_neighbor = router
        .neighbors
        .iter()
        .enumerate()
        .find(|(_, n)| n.to == NODES);
    match node_neighbor {
        None => v.report(
            FieldError::new(
                format!("{path}.router"),
                format!(
                    "`{}` does not peer with the nodes, so it would refuse MetalLB's sessions",
                    peer.router
                ),
            )
            .help(format!(
                "add `{{ to: nodes }}` to `routers.{}.neighbors`",
                peer.router
            )),
        ),
        Some((j, neighbor)) => {
            let neighbor_path = format!("routers.{}.neighbors[{j}]", peer.router);
            // Both ends of a session must agree, or it never comes up (MD5) or BFD
            // stays down on one side.
            let unreadable = |key: &str| {
                v.unreadable(&format!("{path}.{key}"))
                    || v.unreadable(&format!("{neighbor_path}.{key}"))
            };
            let (bfd_unreadable, password_unreadable) = (unreadable("bfd"), unreadable("password"));
            let mut disagree = |key: &str, metallb_has: bool, what: &str| {
                let (here, there) = (format!("{path}.{key}"), format!("{neighbor_path}.{key}"));
                let (primary, other) = if metallb_has {
                    (here, there)
                } else {
                    (there, here)
                };
                v.report(
                    FieldError::new(
                        primary,
                        format!("MetalLB and `{}` disagree on {what}", peer.router),
                    )
                    .also(other, "the other end")
                    .help(format!(
                        "set the same `{key}:` on `metallb.peers` and on `{}`'s `to: nodes` neighbor",
                        peer.router
                    )),
                );
            };
            if router.kind.has_bfd()
                && !bfd_unreadable
                && bfd_key(&neighbor.bfd).is_some() != peer.bfd.is_some()
            {
                disagree("bfd", peer.bfd.is_some(), "BFD");
            }
            if !password_unreadable && neighbor.password != peer.password {
                disagree("password", peer.password.is_some(), "the password");
            }
            if let Some(asn) = neighbor.asn
                && asn != metallb.asn
            {
                v.report(
                    FieldError::new(
                        format!("routers.{}.neighbors[{j}].asn", peer.router),
                        format!(
                            "`{}` expects the nodes in AS {asn}, but `metallb.asn` is {}",
                            peer.router, metallb.asn
                        ),
                    )
                    .also("metallb.asn", "MetalLB's ASN")
                    .help(
                        "drop `asn:` from the `to: nodes` neighbor: it defaults to `metallb.asn`",
                    ),
                );
            }
        }
    }
}

fn peer_timers(v: &mut Validator, path: &str, peer: &MetallbPeerSpec, setup: Option<MetallbSetup>) {
    let mut duration = |key: &str, text: &Option<String>| -> Option<Duration> {
        let text = text.as_deref()?;
        match parse_bgp_duration(text) {
            Ok(d) => Some(d),
            Err(_) => {
                v.report(
                    FieldError::new(
                        format!("{path}.{key}"),
                        format!("`{text}` is not a duration"),
                    )
                    .help("write seconds with a unit, e.g. `9s` or `1m30s`"),
                );
                None
            }
        }
    };
    let hold = duration("hold-time", &peer.hold_time);
    let keepalive = duration("keepalive-time", &peer.keepalive_time);
    if let Some(hold) = hold
        && hold.as_secs() < 3
        && !hold.is_zero()
    {
        v.report(
            FieldError::new(
                format!("{path}.hold-time"),
                format!(
                    "hold time {} is not allowed",
                    humantime::format_duration(hold)
                ),
            )
            .help("MetalLB accepts 0 (no keepalives) or at least 3s"),
        );
    }
    if let (Some(hold), Some(keepalive)) = (hold, keepalive)
        && keepalive > hold
    {
        v.report(
            FieldError::new(
                format!("{path}.keepalive-time"),
                "the keepalive time is longer than the hold time",
            )
            .also(format!("{path}.hold-time"), "hold time")
            .help("keepalives must come more often than the hold time expires; a third of it is usual"),
        );
    }
    if peer.keepalive_time.is_some()
        && let Some(setup) = setup
        && setup.mode == MetallbMode::Native
    {
        v.report(
            FieldError::new(format!("{path}.keepalive-time"), no_frr_feature(setup, "`keepalive-time`"))
                .help(frr_mode_help(setup.version, "remove `keepalive-time:` (the speaker sends keepalives every third of the hold time)")),
        );
    }
}

/// "the native speaker has no BFD", or for releases before the FRR mode, which release
/// brought it.
fn no_frr_feature(setup: MetallbSetup, feature: &str) -> String {
    if setup.version.supports_mode(MetallbMode::Frr) {
        format!("MetalLB's native speaker (mode native) has no {feature}")
    } else {
        format!(
            "MetalLB {} has no {feature}: it came with the FRR mode in v0.12.0",
            setup.version
        )
    }
}

fn frr_mode_help(version: MetallbVersion, otherwise: &str) -> String {
    if version.supports_mode(MetallbMode::Frr) {
        format!("use `mode: frr` or `mode: frr-k8s`, or {otherwise}")
    } else {
        format!("use MetalLB v0.12.0 or later with `mode: frr`, or {otherwise}")
    }
}

/// FRR-based speakers run one BGP instance per node: every peer shares the router ID,
/// and one address takes one peer (native sessions are separate, but an identical
/// duplicate is still refused).
fn frr_peer_consistency(v: &mut Validator, metallb: &MetallbSpec, setup: Option<MetallbSetup>) {
    let frr = setup.is_some_and(|s| s.mode != MetallbMode::Native);
    let t = v.topology;
    let node_network = t.node_network();
    // Where a peer entry points: an explicit address, or the router (and port).
    let target = |peer: &MetallbPeerSpec| -> String {
        let address = peer.address.or_else(|| {
            let router = t.routers.get(&peer.router)?;
            node_network
                .and_then(|n| router.interfaces.get(n))
                .and_then(|i| i.ip)
        });
        let port = if frr { None } else { peer.port };
        match address {
            Some(ip) => format!("{ip}:{port:?}"),
            None => format!("{}:{port:?}", peer.router),
        }
    };
    for (i, peer) in metallb.peers.iter().enumerate() {
        if !t.routers.contains_key(&peer.router) {
            continue;
        }
        if let Some(first) = metallb.peers[..i]
            .iter()
            .position(|p| target(p) == target(peer))
        {
            v.report(
                FieldError::new(
                    format!("metallb.peers[{i}].router"),
                    format!(
                        "MetalLB already peers with `{}` at this address",
                        peer.router
                    ),
                )
                .also(
                    format!("metallb.peers[{first}].router"),
                    "first declared here",
                )
                .help(if frr {
                    "FRR modes allow one peer per address; merge the two entries"
                } else {
                    "declare each peer once"
                }),
            );
        }
        if frr && i > 0 && peer.router_id != metallb.peers[0].router_id {
            v.report(
                FieldError::new(
                    format!("metallb.peers[{i}].router-id"),
                    "FRR modes need the same router ID on every peer",
                )
                .also("metallb.peers[0]", "the first peer")
                .help("set the same `router-id:` on every peer, or on none"),
            );
        }
    }
}

/// Pools: parse, stay clear of each other and of container addresses; layer2 pools sit
/// on the nodes' network. Returns each pool's parsed address ranges (index, range).
fn pools<'t>(
    v: &mut Validator<'t>,
    metallb: &'t MetallbSpec,
    setup: Option<MetallbSetup>,
) -> PoolRanges<'t> {
    let t = v.topology;
    let node_network = t.node_network();
    let mut parsed: PoolRanges = IndexMap::new();
    let mut seen: Vec<(String, String, (IpAddr, IpAddr))> = Vec::new();
    for (name, pool) in &metallb.pools {
        let path = format!("metallb.pools.{name}");
        let layer2 = pool.protocol == Some(PoolProtocol::Layer2);
        if pool.addresses.is_empty() {
            v.report(
                FieldError::new(
                    format!("{path}.addresses"),
                    format!("pool `{name}` has no addresses"),
                )
                .help("add a CIDR such as 203.0.113.200/30"),
            );
        }
        if pool.avoid_buggy_ips
            && let Some(setup) = setup
            && !setup.version.supports_avoid_buggy_ips()
        {
            v.report(
                FieldError::new(
                    format!("{path}.avoid-buggy-ips"),
                    format!(
                        "MetalLB {} has no avoidBuggyIPs (dropped in v0.13.2, back in v0.13.4)",
                        setup.version
                    ),
                )
                .help("use v0.13.4 or later, or write a range that skips .0 and .255"),
            );
        }
        let ranges = parsed.entry(name.as_str()).or_default();
        for (i, text) in pool.addresses.iter().enumerate() {
            let address_path = format!("{path}.addresses[{i}]");
            let range = match parse_pool_range(text) {
                Ok(range) => range,
                Err(problem) => {
                    v.report(FieldError::new(address_path, problem).help(
                        "write a CIDR (203.0.113.0/28) or a range (203.0.113.10-203.0.113.20)",
                    ));
                    continue;
                }
            };
            ranges.push((i, range));
            if let Some((other_path, other_text, _)) =
                seen.iter().find(|(_, _, r)| ranges_overlap(*r, range))
            {
                v.report(
                    FieldError::new(&address_path, format!("{text} overlaps {other_text}"))
                        .also(other_path.clone(), "overlapping addresses")
                        .help("MetalLB refuses pools that share addresses"),
                );
            }
            if range.0.is_ipv6()
                && !layer2
                && let Some(setup) = setup
                && !setup.has_ipv6_bgp()
            {
                v.report(
                    FieldError::new(&address_path, no_frr_feature(setup, "IPv6 BGP"))
                        .help(frr_mode_help(setup.version, "use IPv4 addresses")),
                );
            }
            for network in t.networks.keys() {
                let Some(subnet) = v.subnet(network) else {
                    continue;
                };
                let subnet_range = (subnet.network().into(), subnet.broadcast().into());
                if layer2 && Some(network.as_str()) == node_network {
                    continue; // checked below: layer2 pools belong there
                }
                if ranges_overlap(range, subnet_range) {
                    v.report(
                        FieldError::new(&address_path, format!("{text} overlaps lab network `{network}` ({subnet})"))
                            .also(format!("networks.{network}.subnet"), format!("`{network}`"))
                            .help("service IPs must not collide with container addresses; use e.g. 203.0.113.200/30"),
                    );
                }
            }
            if layer2 {
                layer2_range(v, &address_path, text, range, node_network);
            }
            seen.push((address_path, text.clone(), range));
        }
    }
    parsed
}

/// A layer2 pool is answered by ARP on the nodes' network, so it must lie in that
/// subnet, and clear of the addresses containers there use.
fn layer2_range(
    v: &mut Validator,
    path: &str,
    text: &str,
    range: (IpAddr, IpAddr),
    node_network: Option<&str>,
) {
    let Some(network) = node_network else { return };
    let Some(subnet) = v.subnet(network) else {
        return;
    };
    let inside = |ip: IpAddr| matches!(ip, IpAddr::V4(a) if subnet.contains(&a));
    if !inside(range.0) || !inside(range.1) {
        v.report(
            FieldError::new(
                path,
                format!("{text} is outside `{network}` ({subnet}), the nodes' network: nobody there would ARP for it"),
            )
            .help(format!("a layer2 pool takes free addresses of {subnet}, e.g. from its top end")),
        );
        return;
    }
    let mut taken: Vec<(IpAddr, String)> = vec![
        (subnet.network().into(), "the network address".to_string()),
        (
            subnet.broadcast().into(),
            "the broadcast address".to_string(),
        ),
    ];
    if let Some(gateway) = v.gateway(network) {
        taken.push((gateway.into(), "the gateway".to_string()));
    }
    for (router, spec) in &v.topology.routers {
        if let Some(ip) = spec.interfaces.get(network).and_then(|i| i.ip) {
            taken.push((ip, format!("router `{router}`'s address")));
        }
    }
    for (ip, what) in taken {
        if ip_number(range.0) <= ip_number(ip) && ip_number(ip) <= ip_number(range.1) {
            v.report(
                FieldError::new(path, format!("{text} includes {ip}, {what}"))
                    .help("leave out addresses the network already uses"),
            );
        }
    }
}

fn advertisements(
    v: &mut Validator,
    metallb: &MetallbSpec,
    setup: Option<MetallbSetup>,
    pools: &PoolRanges<'_>,
) {
    let peer_routers: Vec<&str> = metallb.peers.iter().map(|p| p.router.as_str()).collect();
    let bgp_pools: Vec<&str> = metallb
        .pools
        .iter()
        .filter(|(_, p)| p.protocol != Some(PoolProtocol::Layer2))
        .map(|(n, _)| n.as_str())
        .collect();
    // The pools each advertisement covers (every BGP pool when it names none).
    let covered: Vec<Vec<&str>> = metallb
        .advertisements
        .iter()
        .map(|a| {
            if a.pools.is_empty() {
                bgp_pools.clone()
            } else {
                a.pools.iter().map(String::as_str).collect()
            }
        })
        .collect();
    for (i, advertisement) in metallb.advertisements.iter().enumerate() {
        let path = format!("metallb.advertisements[{i}]");
        if let Some(first) = metallb.advertisements[..i]
            .iter()
            .position(|a| a == advertisement)
        {
            v.report(
                FieldError::new(
                    &path,
                    format!("advertisements[{i}] repeats advertisements[{first}]"),
                )
                .also(
                    format!("metallb.advertisements[{first}]"),
                    "the same advertisement",
                )
                .help("MetalLB refuses duplicate advertisements; remove one"),
            );
        }
        duplicates(v, &path, "pools", &advertisement.pools);
        duplicates(v, &path, "communities", &advertisement.communities);
        duplicates(v, &path, "peers", &advertisement.peers);
        for (j, pool) in advertisement.pools.iter().enumerate() {
            match metallb.pools.get(pool) {
                None => {
                    let help =
                        unknown_name_help("pools", pool, metallb.pools.keys().map(String::as_str));
                    v.report(
                        FieldError::new(
                            format!("{path}.pools[{j}]"),
                            format!("unknown pool `{pool}`"),
                        )
                        .help(help)
                        .independent(),
                    );
                }
                Some(spec) if spec.protocol == Some(PoolProtocol::Layer2) => v.report(
                    FieldError::new(
                        format!("{path}.pools[{j}]"),
                        format!("pool `{pool}` is layer2: BGP advertisements do not apply to it"),
                    )
                    .also(format!("metallb.pools.{pool}.protocol"), "layer2")
                    .help("set `protocol: bgp` on the pool, or drop it from this advertisement"),
                ),
                Some(_) => {}
            }
        }
        for (j, peer) in advertisement.peers.iter().enumerate() {
            if !peer_routers.contains(&peer.as_str()) {
                let help = unknown_name_help("MetalLB peers", peer, peer_routers.iter().copied());
                v.report(
                    FieldError::new(
                        format!("{path}.peers[{j}]"),
                        format!("`{peer}` is not a MetalLB peer"),
                    )
                    .help(format!(
                        "{help} (`peers` names routers from `metallb.peers`)"
                    ))
                    .independent(),
                );
            }
        }
        if let Some(setup) = setup
            && !advertisement.peers.is_empty()
            && !setup.version.supports_advertisement_peers()
        {
            v.report(
                FieldError::new(
                    format!("{path}.peers"),
                    format!("MetalLB {} cannot limit an advertisement to some peers (BGPAdvertisement peers came with the CRDs in v0.13)", setup.version),
                )
                .help("remove `peers:`, or use MetalLB v0.13.2 or later"),
            );
        }
        aggregation(v, &path, advertisement, setup, &covered[i], pools);
        local_pref_reaches_ibgp(v, &path, metallb, advertisement);
        for (j, community) in advertisement.communities.iter().enumerate() {
            if metallb.communities.contains_key(community) {
                continue;
            }
            community_value(
                v,
                format!("{path}.communities[{j}]"),
                community,
                setup,
                "or name an alias from `metallb.communities`",
            );
        }
    }
    local_pref_conflicts(v, metallb, setup, &covered, pools);
}

fn duplicates(v: &mut Validator, path: &str, key: &str, items: &[String]) {
    for (j, item) in items.iter().enumerate() {
        if let Some(first) = items[..j].iter().position(|x| x == item) {
            v.report(
                FieldError::new(
                    format!("{path}.{key}[{j}]"),
                    format!("`{item}` is listed twice"),
                )
                .also(format!("{path}.{key}[{first}]"), "first listed here")
                .help("MetalLB refuses duplicates; list it once"),
            );
        }
    }
}

/// Aggregation lengths: at most 32 (128), and never shorter than a covered pool's own
/// prefix (MetalLB: "prefix N in this pool is more specific than the aggregation
/// length").
fn aggregation(
    v: &mut Validator,
    path: &str,
    advertisement: &AdvertisementSpec,
    setup: Option<MetallbSetup>,
    covered: &[&str],
    pools: &PoolRanges<'_>,
) {
    if let (Some(_), Some(setup)) = (advertisement.aggregation_length_v6, setup) {
        if !setup.version.supports_frr_era_fields() {
            v.report(
                FieldError::new(
                    format!("{path}.aggregation-length-v6"),
                    format!(
                        "MetalLB {} has no aggregation-length-v6 (it arrived in v0.12.0)",
                        setup.version
                    ),
                )
                .help("remove `aggregation-length-v6:`, or use MetalLB v0.12.0 or later"),
            );
        } else if !setup.version.uses_crds() && setup.mode == MetallbMode::Native {
            v.report(
                FieldError::new(
                    format!("{path}.aggregation-length-v6"),
                    no_frr_feature(setup, "aggregation-length-v6"),
                )
                .help(frr_mode_help(
                    setup.version,
                    "remove `aggregation-length-v6:`",
                )),
            );
        }
    }
    for (key, length, v6, max) in [
        (
            "aggregation-length",
            advertisement.aggregation_length,
            false,
            32u8,
        ),
        (
            "aggregation-length-v6",
            advertisement.aggregation_length_v6,
            true,
            128u8,
        ),
    ] {
        let Some(length) = length else { continue };
        let family = if v6 { "IPv6" } else { "IPv4" };
        if length > max {
            v.report(
                FieldError::new(
                    format!("{path}.{key}"),
                    format!("invalid aggregation length {length} for {family}"),
                )
                .help(format!("use at most {max}")),
            );
            continue;
        }
        for pool in covered {
            for (k, range) in pools.get(pool).into_iter().flatten() {
                if range.0.is_ipv6() != v6 {
                    continue;
                }
                let shortest = shortest_prefix(*range);
                if length < shortest {
                    v.report(
                        FieldError::new(
                            format!("{path}.{key}"),
                            format!("aggregation length {length} is shorter than the /{shortest} prefix of pool `{pool}`: MetalLB does not aggregate beyond a pool's own prefix"),
                        )
                        .also(format!("metallb.pools.{pool}.addresses[{k}]"), format!("a /{shortest} prefix"))
                        .help(format!("use {key} {shortest}–{max}")),
                    );
                }
            }
        }
    }
}

/// LOCAL_PREF only travels over iBGP (MetalLB drops it towards eBGP peers), so a
/// localpref whose peers are all eBGP would silently never be seen.
fn local_pref_reaches_ibgp(
    v: &mut Validator,
    path: &str,
    metallb: &MetallbSpec,
    advertisement: &AdvertisementSpec,
) {
    let Some(localpref) = advertisement.localpref else {
        return;
    };
    let asns: Vec<Option<u32>> = metallb
        .peers
        .iter()
        .filter(|p| advertisement.peers.is_empty() || advertisement.peers.contains(&p.router))
        .map(|p| peer_asn(v, p))
        .collect();
    if !asns.is_empty() && asns.iter().all(|asn| asn.is_some_and(|a| a != metallb.asn)) {
        v.report(
            FieldError::new(
                format!("{path}.localpref"),
                format!("localpref {localpref} would never be sent: MetalLB sends LOCAL_PREF to iBGP peers only, and every peer of this advertisement is eBGP"),
            )
            .help("remove `localpref:`, or peer over iBGP (a router whose asn equals `metallb.asn`)"),
        );
    }
}

/// Two advertisements of one pool to the same peers with the same aggregation must
/// agree on LOCAL_PREF (MetalLB v0.13.10).
fn local_pref_conflicts(
    v: &mut Validator,
    metallb: &MetallbSpec,
    setup: Option<MetallbSetup>,
    covered: &[Vec<&str>],
    pools: &PoolRanges<'_>,
) {
    if !setup.is_some_and(|s| s.version.checks_local_pref_conflicts()) {
        return;
    }
    let advertisements = &metallb.advertisements;
    for j in 0..advertisements.len() {
        for i in 0..j {
            let (a, b) = (&advertisements[i], &advertisements[j]);
            if a == b || a.localpref.unwrap_or(0) == b.localpref.unwrap_or(0) {
                continue;
            }
            let shared_peers = a.peers.is_empty()
                || b.peers.is_empty()
                || a.peers.iter().any(|p| b.peers.contains(p));
            // Different aggregation lengths make different updates, per address family
            // present in the pool (MetalLB's isAggrLengthDifferent).
            let v4_differs =
                a.aggregation_length.unwrap_or(32) != b.aggregation_length.unwrap_or(32);
            let v6_differs =
                a.aggregation_length_v6.unwrap_or(128) != b.aggregation_length_v6.unwrap_or(128);
            let collides = |pool: &&str| {
                let ranges = pools.get(pool).map(Vec::as_slice).unwrap_or_default();
                let has_v4 = ranges.iter().any(|(_, r)| r.0.is_ipv4());
                let has_v6 = ranges.iter().any(|(_, r)| r.0.is_ipv6());
                let differs = match (has_v4, has_v6) {
                    (false, false) => true, // nothing announced, nothing to collide
                    (true, false) => v4_differs,
                    (false, true) => v6_differs,
                    (true, true) => v4_differs && v6_differs,
                };
                covered[i].contains(pool) && !differs
            };
            let shared_pool = covered[j].iter().find(|p| collides(p));
            if let (true, Some(pool)) = (shared_peers, shared_pool) {
                v.report(
                    FieldError::new(
                        format!("metallb.advertisements[{j}].localpref"),
                        format!(
                            "localpref {} conflicts with advertisements[{i}] ({}) for pool `{pool}`",
                            b.localpref.unwrap_or(0),
                            a.localpref.unwrap_or(0)
                        ),
                    )
                    .also(format!("metallb.advertisements[{i}]"), "the other advertisement")
                    .help("advertisements of one pool to the same peers must agree on localpref; give them different `peers:` or aggregation lengths"),
                );
            }
        }
    }
}

fn community_aliases(v: &mut Validator, metallb: &MetallbSpec, setup: Option<MetallbSetup>) {
    for (name, value) in &metallb.communities {
        community_value(v, format!("metallb.communities.{name}"), value, setup, "");
    }
}

/// A community value MetalLB (this release and mode) accepts: `65000:100`, or
/// `large:1:2:3` where large communities exist.
fn community_value(
    v: &mut Validator,
    path: String,
    text: &str,
    setup: Option<MetallbSetup>,
    or_alias: &str,
) {
    match parse_community(text) {
        Err(problem) => {
            let alias = if or_alias.is_empty() {
                String::new()
            } else {
                format!(", {or_alias}")
            };
            v.report(
                FieldError::new(path, problem)
                    .help(format!("write `65000:100` (two 16-bit numbers) or `large:65000:1:2` (three 32-bit numbers){alias}")),
            );
        }
        Ok(Community::Large) => {
            let Some(setup) = setup else { return };
            let problem = if setup.mode == MetallbMode::Native {
                Some("MetalLB's native speaker (mode native) has no large communities".to_string())
            } else if !setup.version.supports_large_communities() {
                Some(format!(
                    "MetalLB {} has no large communities (they arrived in v0.13.10)",
                    setup.version
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                v.report(FieldError::new(path, problem).help(format!(
                    "use a standard community (65000:100), or {} with mode frr or frr-k8s",
                    if setup.version.supports_large_communities() {
                        "keep this"
                    } else {
                        "MetalLB v0.13.10 or later"
                    }
                )));
            }
        }
        Ok(Community::Standard) => {}
    }
}

enum Community {
    Standard,
    Large,
}

/// MetalLB's community syntax (`internal/bgp/community`).
fn parse_community(text: &str) -> Result<Community, String> {
    let numbers = |parts: &[&str], bits: u32| {
        parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u64>().is_ok_and(|n| n < 1u64 << bits)
        })
    };
    if let Some(rest) = text.strip_prefix("large:") {
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() == 3 && numbers(&parts, 32) {
            return Ok(Community::Large);
        }
        return Err(format!("`{text}` is not a large community"));
    }
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() == 2 && numbers(&parts, 16) {
        return Ok(Community::Standard);
    }
    Err(format!("`{text}` is not a BGP community"))
}

/// An address pool entry: a CIDR (`203.0.113.0/28`) or a range (`203.0.113.10-203.0.113.20`),
/// as the inclusive first and last address.
pub fn parse_pool_range(text: &str) -> Result<(IpAddr, IpAddr), String> {
    let text = text.trim();
    if let Some((first, last)) = text.split_once('-') {
        let first: IpAddr = first
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is not an IP address", first.trim()))?;
        let last: IpAddr = last
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is not an IP address", last.trim()))?;
        if first.is_ipv4() != last.is_ipv4() {
            return Err("the range mixes IPv4 and IPv6".to_string());
        }
        if ip_number(first) > ip_number(last) {
            return Err(format!(
                "the range ends ({last}) before it starts ({first})"
            ));
        }
        return Ok((first, last));
    }
    let net: IpNet = text
        .parse()
        .map_err(|_| format!("`{text}` is neither a CIDR nor a range"))?;
    Ok((net.network(), net.broadcast()))
}

pub(super) fn ip_number(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a).into(),
        IpAddr::V6(a) => a.into(),
    }
}

pub(super) fn ranges_overlap(a: (IpAddr, IpAddr), b: (IpAddr, IpAddr)) -> bool {
    a.0.is_ipv4() == b.0.is_ipv4()
        && ip_number(a.0) <= ip_number(b.1)
        && ip_number(b.0) <= ip_number(a.1)
}

/// The shortest prefix length among the CIDRs that exactly cover a range (a CIDR's own
/// length; for `.10-.20`, the /30s in the middle), as MetalLB computes it for
/// aggregation.
pub(super) fn shortest_prefix(range: (IpAddr, IpAddr)) -> u8 {
    let width: u32 = if range.0.is_ipv4() { 32 } else { 128 };
    let (mut start, end) = (ip_number(range.0), ip_number(range.1));
    let mut shortest = width as u8;
    loop {
        // The largest block aligned at `start` that ends within the range.
        let alignment = if start == 0 {
            width
        } else {
            start.trailing_zeros().min(width)
        };
        let remaining = end - start; // block sizes are counted as size - 1
        let fits = if remaining == u128::MAX {
            128
        } else {
            127 - (remaining + 1).leading_zeros()
        };
        let bits = alignment.min(fits);
        shortest = shortest.min((width - bits) as u8);
        let size_minus_one = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        match start.checked_add(size_minus_one) {
            Some(last) if last < end => start = last + 1,
            _ => return shortest,
        }
    }
}

#[cfg(test)]
mod tests;
