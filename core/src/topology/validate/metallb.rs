//! MetalLB: the rules MetalLB itself enforces on its configuration, so a bad lab fails
//! here with file:line instead of as a webhook rejection or an `InvalidConfig` event
//! half-way through `up`, plus what a MetalLB lab needs to work at all (peers that are
//! reachable BGP routers peering back with the nodes, pools clear of container
//! addresses).
//!
//! MetalLB's own rules come from `internal/config/{config,validation,validate}.go` and
//! the CRD schemas of every release, and are gated by release through
//! [`crate::metallb::version`]; each message or hint names the releases that have the
//! rule. Rules that are metallab's own say so, and why.

use super::neighbors::unknown_bfd_profile;
use super::*;
use crate::metallb::names::{bgp_peer_names, dns_name, parse_bgp_duration};
use crate::metallb::version::{MetallbSetup, MetallbVersion, VersionError};
use crate::topology::model::DEFAULT_HOLD_TIME;
use std::fmt;
use std::time::Duration;

/// Each pool's parsed address ranges: (index in `addresses`, first and last address).
type PoolRanges<'t> = IndexMap<&'t str, Vec<(usize, (IpAddr, IpAddr))>>;

/// Which pools the advertisements cover, as metallab renders them.
struct Coverage<'t> {
    /// Pools announced over BGP (not `protocol: layer2`).
    bgp_pools: Vec<&'t str>,
    /// Per advertisement: its `pools`, or every BGP pool when it names none.
    covered: Vec<Vec<&'t str>>,
    /// BGP pools no advertisement covers: metallab's `default` advertisement announces
    /// them to every peer.
    uncovered: Vec<&'t str>,
}

impl<'t> Coverage<'t> {
    fn of(metallb: &'t MetallbSpec) -> Coverage<'t> {
        let bgp_pools: Vec<&str> = metallb
            .pools
            .iter()
            .filter(|(_, p)| p.protocol != Some(PoolProtocol::Layer2))
            .map(|(n, _)| n.as_str())
            .collect();
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
        let uncovered = bgp_pools
            .iter()
            .copied()
            .filter(|p| !covered.iter().any(|c| c.contains(p)))
            .collect();
        Coverage {
            bgp_pools,
            covered,
            uncovered,
        }
    }

    /// Whether MetalLB gets at least one BGPAdvertisement.
    fn any_bgp_advertisement(&self) -> bool {
        !self.bgp_pools.is_empty() || self.covered.iter().any(|c| !c.is_empty())
    }
}

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
        v.report(FieldError::new("metallb.asn", "ASN 0 is reserved").help(asn_zero_help()));
    }
    let setup = setup(v, metallb);
    let coverage = Coverage::of(metallb);
    peers(v, metallb, setup);
    let pools = pools(v, metallb, setup, &coverage);
    advertisements(v, metallb, setup, &pools, &coverage);
    bfd_echo_with_ipv6(v, metallb, setup, &pools, &coverage);
    community_aliases(v, metallb, setup);
    object_names(v, metallb, setup);
}

fn asn_zero_help() -> String {
    format!("every MetalLB release refuses it (missing ASN); {ASN_HELP}")
}

/// The release and mode; None when the version cannot be read or is not a release
/// metallab knows (rules that depend on the release are then skipped).
fn setup(v: &mut Validator, metallb: &MetallbSpec) -> Option<MetallbSetup> {
    match metallb.setup() {
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
            v.report(
                FieldError::new(format!("{path}.asn"), "ASN 0 is reserved").help(asn_zero_help()),
            );
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
        // Before v0.12 the field does not exist and metallab does not render it.
        if peer.multihop && ibgp && setup.is_some_and(|s| s.version.refuses_ibgp_multihop()) {
            v.report(
                FieldError::new(
                    format!("{path}.multihop"),
                    format!(
                        "`multihop` is MetalLB's ebgpMultiHop, refused on an iBGP peer by {} (both ends are AS {})",
                        MetallbVersion::releases_refusing_ibgp_multihop(),
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
        peer_port(v, &path, peer, setup);
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
                .help("write it on one line (metallab's own rule, MetalLB has none: its FRR modes write the password into frr.conf as is, as the lab's routers do into their configs, and a line break there ends the line)"),
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
    peer_identity(v, metallb, setup);
}

/// `port: 0`: the ConfigMap reads it as 179, FRR leaves it out of `frr.conf` (so 179),
/// the BGPPeer CRD takes it until v0.15.0; `peerPort` above 16384 is out of the CRD's
/// range.
fn peer_port(v: &mut Validator, path: &str, peer: &MetallbPeerSpec, setup: Option<MetallbSetup>) {
    let (Some(port), Some(setup)) = (peer.port, setup) else {
        return;
    };
    let port_path = format!("{path}.port");
    if port == 0 && setup.version.refuses_peer_port_zero() {
        v.report(
            FieldError::new(
                port_path,
                format!(
                    "port 0 is refused by {} (the BGPPeer CRD's minimum is 1)",
                    MetallbVersion::releases_refusing_peer_port_zero()
                ),
            )
            .help("omit `port:` for 179"),
        );
    } else if port == 0 && setup.version.uses_crds() && setup.mode == MetallbMode::Native {
        v.report(
            FieldError::new(port_path, "port 0: MetalLB's native speaker would dial port 0")
                .help(format!(
                    "omit `port:` for 179 (metallab's own rule: {} store `peerPort: 0`, which only the FRR modes read as 179)",
                    MetallbVersion::releases_taking_peer_port_zero()
                )),
        );
    } else if port > 16384 && setup.version.uses_crds() {
        v.report(
            FieldError::new(port_path, format!("port {port} is out of range")).help(format!(
                "the BGPPeer CRD of {} takes peerPort up to 16384",
                MetallbVersion::crd_releases()
            )),
        );
    }
}

/// The router end: it must declare the nodes as neighbors (else it refuses MetalLB's
/// sessions) in MetalLB's AS. metallab's own rules: MetalLB accepts such peers, but the
/// sessions would never come up.
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
                "add `{{ to: nodes }}` to `routers.{}.neighbors` (metallab's own rule: MetalLB accepts the peer, but the session would never come up)",
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
                        "set the same `{key}:` on `metallb.peers` and on `{}`'s `to: nodes` neighbor (metallab's own rule: the session or BFD would not come up)",
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

/// Hold and keepalive times as each release reads them. MetalLB works in whole seconds
/// (it drops the fraction): a `500ms` hold is 0 (no hold timer) and accepted, `2.9s` is
/// 2s and refused.
fn peer_timers(v: &mut Validator, path: &str, peer: &MetallbPeerSpec, setup: Option<MetallbSetup>) {
    let mut unreadable = false;
    let mut duration = |key: &str, text: &Option<String>| -> Option<Duration> {
        let text = text.as_deref()?;
        match parse_bgp_duration(text) {
            Ok(d) => Some(d),
            Err(_) => {
                unreadable = true;
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
    let hold_path = format!("{path}.hold-time");
    let keepalive_path = format!("{path}.keepalive-time");
    let hold_text = peer.hold_time.as_deref().unwrap_or_default();
    let keepalive_text = peer.keepalive_time.as_deref().unwrap_or_default();
    if let Some(hold) = hold
        && !hold_allowed(hold)
    {
        v.report(
            FieldError::new(&hold_path, format!("hold time {hold_text} is not allowed"))
                .help("every MetalLB release takes whole seconds (it drops the fraction) and accepts 0 (no hold timer) or at least 3s"),
        );
    }
    let Some(setup) = setup else { return };
    let version = setup.version;
    if setup.mode == MetallbMode::Native
        && let Some(keepalive) = keepalive
        // The ConfigMap refuses the key; CRD releases only a non-zero value.
        && (!version.uses_crds() || !keepalive.is_zero())
    {
        v.report(
            FieldError::new(&keepalive_path, no_frr_feature(setup, "`keepalive-time`"))
                .help(frr_mode_help(version, "remove `keepalive-time:` (the speaker sends keepalives every third of the hold time)")),
        );
        return;
    }
    if unreadable || !version.supports_frr_era_fields() {
        return;
    }
    if version.reads_zero_timers_as_unset() {
        let unset = [
            (hold, &hold_path, "hold time", "use 90s"),
            (
                keepalive.filter(|_| setup.mode != MetallbMode::Native),
                &keepalive_path,
                "keepalive time",
                "send keepalives every third of the hold time",
            ),
        ];
        for (value, field, what, instead) in unset {
            if value.is_some_and(|d| d.is_zero()) {
                v.report(
                    FieldError::new(
                        field.as_str(),
                        format!(
                            "a {what} of 0 reads as unset in {}, which then {instead}",
                            version.timer_releases()
                        ),
                    )
                    .help(format!("set a non-zero {what}, or use MetalLB v0.14.9 or later, which keep a zero (metallab's own rule: the lab would not run what the topology says)")),
                );
            }
        }
    }
    // What metallab renders: its lab hold time when neither is set.
    let rendered_hold = match (hold, keepalive) {
        (None, None) => Some(Duration::from_secs(DEFAULT_HOLD_TIME.into())),
        (hold, _) => hold,
    };
    let default_hold = Duration::from_secs(90);
    let whole = |d: Duration| Duration::from_secs(d.as_secs());
    // The hold and keepalive times the release runs with, and a hold derived from the
    // keepalive alone.
    let (effective_hold, effective_keepalive, derived_hold) = if !version.uses_crds() {
        // ConfigMap: whole seconds; no hold → 90 s; no keepalive → hold / 3.
        let h = rendered_hold.map(whole).unwrap_or(default_hold);
        (h, keepalive.map(whole).unwrap_or(h / 3), None)
    } else if !version.has_optional_timers() {
        // Zero or absent: hold 90 s, keepalive hold / 3; compared as written.
        let h = rendered_hold
            .filter(|d| !d.is_zero())
            .unwrap_or(default_hold);
        (h, keepalive.filter(|d| !d.is_zero()).unwrap_or(h / 3), None)
    } else {
        match (rendered_hold, keepalive) {
            (Some(h), Some(k)) => (h, k, None),
            (Some(h), None) => (h, h / 3, None),
            (None, Some(k)) => (k * 3, k, Some(k * 3)),
            (None, None) => return,
        }
    };
    if let Some(derived) = derived_hold
        && !hold_allowed(derived)
    {
        v.report(
            FieldError::new(
                &keepalive_path,
                format!(
                    "a keepalive time of {keepalive_text} alone makes the hold time {} (3 × keepalive), which is neither 0 nor at least 3s in whole seconds",
                    humantime::format_duration(derived)
                ),
            )
            .help(format!(
                "{} derive the hold time from a lone keepalive and refuse that one; set `hold-time:` too, or a keepalive of at least 1s",
                version.timer_releases()
            )),
        );
    } else if effective_keepalive > effective_hold && peer.hold_time.is_some() {
        v.report(
            FieldError::new(&keepalive_path, "the keepalive time is longer than the hold time")
                .also(&hold_path, "hold time")
                .help(format!(
                    "keepalives must come more often than the hold time expires; a third of it is usual ({} refuse a longer keepalive)",
                    MetallbVersion::frr_releases()
                )),
        );
    } else if effective_keepalive > effective_hold {
        v.report(
            FieldError::new(
                &keepalive_path,
                format!(
                    "keepalive time {keepalive_text} is longer than 90s, the hold time MetalLB uses without `hold-time`"
                ),
            )
            .help(format!(
                "{} do not derive the hold time from the keepalive, and refuse a longer one; set `hold-time:` too, or a keepalive of at most 90s",
                version.timer_releases()
            )),
        );
    } else if setup.mode != MetallbMode::Native
        && keepalive.is_some_and(|k| !(k.is_zero() && version.reads_zero_timers_as_unset()))
        && effective_keepalive.as_secs() == 0
        && effective_hold.as_secs() != 0
    {
        v.report(
            FieldError::new(
                &keepalive_path,
                format!(
                    "a keepalive time of {keepalive_text} is 0 in whole seconds: no keepalives would be sent, and the session would expire after the {}s hold time",
                    effective_hold.as_secs()
                ),
            )
            .help("use at least 1s, or a zero hold time too (metallab's own rule: MetalLB and FRR drop the fraction of a second)"),
        );
    }
}

/// A hold time MetalLB accepts: 0 or at least 3 s, in whole seconds.
fn hold_allowed(hold: Duration) -> bool {
    let seconds = hold.as_secs();
    seconds == 0 || seconds >= 3
}

/// "the native speaker has no BFD" (and which releases refuse it), or for releases
/// before the FRR mode, which release brought it.
fn no_frr_feature(setup: MetallbSetup, feature: &str) -> String {
    if setup.version.supports_mode(MetallbMode::Frr) {
        format!(
            "MetalLB's native speaker (mode native) has no {feature}: refused in native mode by {}",
            MetallbVersion::frr_releases()
        )
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

/// Whether two node selectors provably select no common node: they give one label
/// different values. Otherwise metallab cannot tell (it does not know the nodes' labels).
fn selectors_disjoint(a: &IndexMap<String, String>, b: &IndexMap<String, String>) -> bool {
    a.iter()
        .any(|(key, value)| b.get(key).is_some_and(|other| other != value))
}

/// Peers MetalLB refuses side by side. FRR-based speakers run one BGP instance per node:
/// peers on one node share the router ID, and one address takes one peer (v0.12.0–v0.15.3:
/// all peers; from v0.16.0 only peers whose node selectors share a node). The ConfigMap
/// of v0.10.0–v0.12.1 refuses two identical peers in any mode.
fn peer_identity(v: &mut Validator, metallb: &MetallbSpec, setup: Option<MetallbSetup>) {
    let Some(setup) = setup else { return };
    let t = v.topology;
    let node_network = t.node_network();
    // Where a peer entry points: an explicit address, or the router's.
    let target = |peer: &MetallbPeerSpec| -> String {
        let address = peer.address.or_else(|| {
            let router = t.routers.get(&peer.router)?;
            node_network
                .and_then(|n| router.interfaces.get(n))
                .and_then(|i| i.ip)
        });
        match address {
            Some(ip) => ip.to_string(),
            None => peer.router.clone(),
        }
    };
    let known: Vec<bool> = metallb
        .peers
        .iter()
        .map(|p| t.routers.contains_key(&p.router))
        .collect();
    if setup.mode == MetallbMode::Native {
        if !setup.version.refuses_identical_peers() {
            return;
        }
        let parsed: Vec<_> = metallb
            .peers
            .iter()
            .map(|p| legacy_parsed_peer(v, metallb, setup.version, p, target(p)))
            .collect();
        for i in 0..parsed.len() {
            if !known[i] {
                continue;
            }
            if let Some(first) = (0..i).find(|&j| known[j] && parsed[j] == parsed[i]) {
                v.report(
                    FieldError::new(
                        format!("metallb.peers[{i}]"),
                        format!("this peer repeats metallb.peers[{first}]"),
                    )
                    .also(format!("metallb.peers[{first}]"), "the same peer")
                    .help(format!(
                        "identical peers are refused by {}; remove one",
                        MetallbVersion::releases_refusing_identical_peers()
                    )),
                );
            }
        }
        return;
    }
    let (per_node, releases) = setup.version.frr_peer_rules();
    let peers = &metallb.peers;
    for (i, peer) in peers.iter().enumerate() {
        if !known[i] {
            continue;
        }
        let shares_node = |other: &MetallbPeerSpec| {
            !per_node || !selectors_disjoint(&peer.node_selector, &other.node_selector)
        };
        if let Some(first) = (0..i)
            .find(|&j| known[j] && target(&peers[j]) == target(peer) && shares_node(&peers[j]))
        {
            let help = if per_node {
                format!(
                    "merge the two entries, or give them node selectors with different values for one label (`rack: a`, `rack: b`): {releases} refuse two peers at one address in FRR modes when their node selectors share a node, and metallab, which does not know the nodes' labels, can only tell such selectors apart"
                )
            } else {
                format!(
                    "merge the two entries: FRR modes take one peer per address (refused by {releases}, whatever the node selectors)"
                )
            };
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
                .help(help),
            );
        }
        let other = if per_node {
            (0..i).find(|&j| shares_node(&peers[j]) && peers[j].router_id != peer.router_id)
        } else {
            Some(0).filter(|_| i > 0 && peers[0].router_id != peer.router_id)
        };
        if let Some(other) = other {
            let help = if per_node {
                format!(
                    "set the same `router-id:` on both, or on neither, or give them node selectors with different values for one label ({releases} refuse different router IDs on peers whose node selectors share a node)"
                )
            } else {
                format!(
                    "set the same `router-id:` on every peer, or on none (refused by {releases})"
                )
            };
            v.report(
                FieldError::new(
                    format!("metallb.peers[{i}].router-id"),
                    "FRR modes need the same router ID on every peer",
                )
                .also(format!("metallb.peers[{other}]"), "another peer")
                .help(help),
            );
        }
    }
}

/// What the ConfigMap parser makes of a peer entry (before v0.13), to compare two of
/// them: every field metallab renders, defaults applied, times in whole seconds.
#[derive(PartialEq)]
struct LegacyParsedPeer<'s> {
    target: String,
    port: u16,
    asn: Option<u32>,
    hold: Option<Duration>,
    keepalive: Option<Duration>,
    router_id: Option<Ipv4Addr>,
    source_address: Option<IpAddr>,
    password: Option<&'s str>,
    ebgp_multihop: bool,
    node_selector: &'s IndexMap<String, String>,
}

fn legacy_parsed_peer<'s>(
    v: &Validator,
    metallb: &MetallbSpec,
    version: MetallbVersion,
    peer: &'s MetallbPeerSpec,
    target: String,
) -> LegacyParsedPeer<'s> {
    let parse = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| parse_bgp_duration(t).ok())
            .map(|d| Duration::from_secs(d.as_secs()))
    };
    let keepalive = parse(&peer.keepalive_time);
    let hold = match (parse(&peer.hold_time), &peer.keepalive_time) {
        (Some(hold), _) => Some(hold),
        (None, None) => Some(Duration::from_secs(DEFAULT_HOLD_TIME.into())),
        (None, Some(_)) => Some(Duration::from_secs(90)),
    };
    let asn = peer_asn(v, peer);
    LegacyParsedPeer {
        target,
        port: peer.port.filter(|p| *p != 0).unwrap_or(179),
        asn,
        hold,
        keepalive: keepalive.or(hold.map(|h| h / 3)),
        router_id: peer.router_id,
        source_address: peer
            .source_address
            .filter(|_| version.supports_source_address()),
        password: peer.password.as_deref(),
        ebgp_multihop: peer.multihop
            && asn != Some(metallb.asn)
            && version.supports_frr_era_fields(),
        node_selector: &peer.node_selector,
    }
}

/// A pool entry that does not read as addresses.
enum RangeError {
    /// Neither a CIDR nor a range of two addresses.
    Malformed(String),
    MixedFamilies,
    Reversed(IpAddr, IpAddr),
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeError::Malformed(problem) => f.write_str(problem),
            RangeError::MixedFamilies => f.write_str("the range mixes IPv4 and IPv6"),
            RangeError::Reversed(first, last) => {
                write!(f, "the range ends ({last}) before it starts ({first})")
            }
        }
    }
}

/// Pools: parse, stay clear of each other and of container addresses; layer2 pools sit
/// on the nodes' network. Returns each pool's parsed address ranges (index, range).
fn pools<'t>(
    v: &mut Validator<'t>,
    metallb: &'t MetallbSpec,
    setup: Option<MetallbSetup>,
    coverage: &Coverage<'_>,
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
                .help("add a CIDR such as 203.0.113.200/30 (every MetalLB release refuses an empty pool)"),
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
                        "MetalLB {} has no avoidBuggyIPs (missing from {}, back in v0.13.4)",
                        setup.version,
                        MetallbVersion::releases_without_avoid_buggy_ips()
                    ),
                )
                .help("use v0.13.4 or later, or write a range that skips .0 and .255"),
            );
        }
        let ranges = parsed.entry(name.as_str()).or_default();
        for (i, text) in pool.addresses.iter().enumerate() {
            let address_path = format!("{path}.addresses[{i}]");
            let range = match parse_range(text) {
                Ok(range) => range,
                Err(problem) => {
                    let help = range_help(&problem, setup);
                    v.report(FieldError::new(address_path, problem.to_string()).help(help));
                    continue;
                }
            };
            ranges.push((i, range));
            if text.contains('-')
                && range.0 == range.1
                && setup.is_some_and(|s| s.version.refuses_single_address_ranges())
            {
                let bits = if range.0.is_ipv4() { 32 } else { 128 };
                v.report(
                    FieldError::new(
                        &address_path,
                        format!(
                            "a single-address range is refused by {}",
                            MetallbVersion::releases_refusing_single_address_ranges()
                        ),
                    )
                    .help(format!("write {}/{bits}", range.0)),
                );
            }
            if let Some((other_path, other_text, _)) =
                seen.iter().find(|(_, _, r)| ranges_overlap(*r, range))
            {
                v.report(
                    FieldError::new(&address_path, format!("{text} overlaps {other_text}"))
                        .also(other_path.clone(), "overlapping addresses")
                        .help("every MetalLB release refuses pools that share addresses"),
                );
            }
            if range.0.is_ipv6()
                && let Some(setup) = setup
                && !setup.has_ipv6_bgp()
            {
                native_ipv6(v, &address_path, name, layer2, setup, coverage);
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
                            .help("use e.g. 203.0.113.200/30 (metallab's own rule: service IPs must not collide with container addresses)"),
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

fn range_help(problem: &RangeError, setup: Option<MetallbSetup>) -> String {
    match problem {
        RangeError::Malformed(_) => "write a CIDR (203.0.113.0/28) or a range (203.0.113.10-203.0.113.20); every MetalLB release refuses anything else".to_string(),
        RangeError::MixedFamilies => "write one range per address family (metallab's own rule: MetalLB takes no address from a range it cannot split into CIDRs)".to_string(),
        RangeError::Reversed(first, last) => match setup {
            Some(setup) if !setup.version.refuses_reversed_ranges() => format!(
                "write {last}-{first} (metallab's own rule: {} silently take no address from it)",
                MetallbVersion::releases_ignoring_reversed_ranges()
            ),
            _ => format!(
                "write {last}-{first} (refused by {})",
                MetallbVersion::releases_refusing_reversed_ranges()
            ),
        },
    }
}

/// An IPv6 CIDR in native mode, which announces IPv4 only.
fn native_ipv6(
    v: &mut Validator,
    path: &str,
    pool: &str,
    layer2: bool,
    setup: MetallbSetup,
    coverage: &Coverage<'_>,
) {
    let version = setup.version;
    let help = frr_mode_help(version, "use IPv4 addresses");
    if !version.supports_frr_era_fields() {
        if !layer2 {
            v.report(
                FieldError::new(path, no_frr_feature(setup, "IPv6 BGP")).help(format!(
                    "{help} (metallab's own rule: {} take the pool, but their speaker announces IPv4 only)",
                    MetallbVersion::config_map_releases_before_frr()
                )),
            );
        }
        return;
    }
    let releases = version.native_ipv6_releases();
    if !layer2 {
        let which = if version.uses_crds() {
            "in pools an advertisement selects"
        } else {
            "in `protocol: bgp` pools"
        };
        v.report(
            FieldError::new(
                path,
                format!("MetalLB's native speaker (mode native) has no IPv6 BGP: refused {which} by {releases}"),
            )
            .help(help),
        );
    } else if version.native_ipv6_scans_every_pool() && coverage.any_bgp_advertisement() {
        v.report(
            FieldError::new(
                path,
                format!("an IPv6 CIDR in any pool, layer2 ones too, is refused in native mode by {releases} once MetalLB has a BGPAdvertisement (here for the BGP pools)"),
            )
            .help(format!("use MetalLB v0.14.9 or later, `mode: frr` or `mode: frr-k8s`, or IPv4 addresses in pool `{pool}`")),
        );
    }
}

/// A layer2 pool is answered by ARP on the nodes' network, so it must lie in that
/// subnet, and clear of the addresses containers there use (metallab's own rules).
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
            .help(format!("a layer2 pool takes free addresses of {subnet}, e.g. from its top end (metallab's own rule)")),
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
                FieldError::new(path, format!("{text} includes {ip}, {what}")).help(
                    "leave out addresses the network already uses (metallab's own rule: MetalLB would answer ARP for them)",
                ),
            );
        }
    }
}

fn advertisements(
    v: &mut Validator,
    metallb: &MetallbSpec,
    setup: Option<MetallbSetup>,
    pools: &PoolRanges<'_>,
    coverage: &Coverage<'_>,
) {
    let peer_routers: Vec<&str> = metallb.peers.iter().map(|p| p.router.as_str()).collect();
    let crds = setup.map(|s| s.version.uses_crds());
    for (i, advertisement) in metallb.advertisements.iter().enumerate() {
        let path = format!("metallb.advertisements[{i}]");
        let pools_help = match crds {
            Some(true) => format!(
                "list it once (refused by {}: duplicate ipAddressPools)",
                MetallbVersion::crd_releases()
            ),
            Some(false) => "list it once (metallab's own rule: the ConfigMap holds an advertisement once per pool, so a second listing is a slip)".to_string(),
            None => "list it once".to_string(),
        };
        duplicates(v, &path, "pools", &advertisement.pools, &pools_help);
        if setup.is_none_or(|s| s.version.refuses_duplicate_communities()) {
            let help = format!(
                "list it once (refused by {})",
                MetallbVersion::releases_refusing_duplicate_communities()
            );
            duplicates(v, &path, "communities", &advertisement.communities, &help);
        }
        if crds != Some(false) {
            let help = format!(
                "list it once (refused by {})",
                MetallbVersion::crd_releases()
            );
            duplicates(v, &path, "peers", &advertisement.peers, &help);
        }
        if advertisement.pools.is_empty() && coverage.bgp_pools.is_empty() {
            v.report(
                FieldError::new(
                    &path,
                    "this advertisement names no pools, and there is no BGP pool for it to cover",
                )
                .help("add `pools:`, or a pool without `protocol: layer2` (metallab's own rule: an advertisement without `pools:` covers every BGP pool and never a layer2 one, while MetalLB's CRDs would read it as every pool, layer2 ones included)"),
            );
        }
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
                        .help(format!("{help} (metallab's own rule: the name would be silently ignored)"))
                        .independent(),
                    );
                }
                Some(spec) if spec.protocol == Some(PoolProtocol::Layer2) => v.report(
                    FieldError::new(
                        format!("{path}.pools[{j}]"),
                        format!("pool `{pool}` is layer2: BGP advertisements do not apply to it"),
                    )
                    .also(format!("metallb.pools.{pool}.protocol"), "layer2")
                    .help(if crds == Some(true) {
                        "set `protocol: bgp` on the pool, or drop it from this advertisement (metallab's own rule: CRD pools have no protocol, and MetalLB would announce it over BGP too)".to_string()
                    } else {
                        format!("set `protocol: bgp` on the pool, or drop it from this advertisement ({} refuse bgp-advertisements in a layer2 pool)", MetallbVersion::config_map_releases())
                    }),
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
                        "{help} (`peers` names routers from `metallb.peers`; metallab's own rule: MetalLB would silently ignore the name)"
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
        aggregation(v, &path, advertisement, setup, &coverage.covered[i], pools);
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
    legacy_duplicate_advertisements(v, metallb, setup, coverage);
    local_pref_conflicts(v, metallb, setup, &coverage.covered, pools);
}

fn duplicates(v: &mut Validator, path: &str, key: &str, items: &[String], help: &str) {
    for (j, item) in items.iter().enumerate() {
        if let Some(first) = items[..j].iter().position(|x| x == item) {
            v.report(
                FieldError::new(
                    format!("{path}.{key}[{j}]"),
                    format!("`{item}` is listed twice"),
                )
                .also(format!("{path}.{key}[{first}]"), "first listed here")
                .help(help),
            );
        }
    }
}

/// The ConfigMap of v0.12.x refuses two equal `bgp-advertisements` entries in one pool.
/// metallab writes each advertisement into every pool it covers, so two advertisements
/// with the same settings sharing a pool make two equal entries there.
fn legacy_duplicate_advertisements(
    v: &mut Validator,
    metallb: &MetallbSpec,
    setup: Option<MetallbSetup>,
    coverage: &Coverage<'_>,
) {
    if !setup.is_some_and(|s| s.version.refuses_duplicate_legacy_advertisements()) {
        return;
    }
    // The entry as rendered: everything but the pools.
    let entry = |a: &AdvertisementSpec| {
        (
            a.aggregation_length,
            a.aggregation_length_v6,
            a.localpref,
            a.communities.clone(),
        )
    };
    let advertisements = &metallb.advertisements;
    for j in 0..advertisements.len() {
        let shared = (0..j).find_map(|i| {
            if entry(&advertisements[i]) != entry(&advertisements[j]) {
                return None;
            }
            coverage.covered[j]
                .iter()
                .find(|p| coverage.bgp_pools.contains(p) && coverage.covered[i].contains(p))
                .map(|pool| (i, pool))
        });
        if let Some((i, pool)) = shared {
            v.report(
                FieldError::new(
                    format!("metallb.advertisements[{j}]"),
                    format!("advertisements[{j}] gives pool `{pool}` the same bgp-advertisements entry as advertisements[{i}]"),
                )
                .also(format!("metallb.advertisements[{i}]"), "the same entry")
                .help(format!(
                    "merge them, or make them differ (refused by {}: duplicate definition of bgpadvertisements)",
                    MetallbVersion::releases_refusing_duplicate_legacy_advertisements()
                )),
            );
        }
    }
}

/// Aggregation lengths: at most 32 (128), and not shorter than a covered pool's own
/// prefixes, which each release measures its own way.
fn aggregation(
    v: &mut Validator,
    path: &str,
    advertisement: &AdvertisementSpec,
    setup: Option<MetallbSetup>,
    covered: &[&str],
    pools: &PoolRanges<'_>,
) {
    if let (Some(_), Some(setup)) = (advertisement.aggregation_length_v6, setup)
        && !setup.version.supports_frr_era_fields()
    {
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
    }
    let rule = setup.map(|s| s.version.aggregation_rule());
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
                .help(format!(
                    "use at most {max} (every MetalLB release with `{key}` refuses more)"
                )),
            );
            continue;
        }
        if !v6 && length == 0 && setup.is_some_and(|s| s.version.uses_crds()) {
            v.report(
                FieldError::new(
                    format!("{path}.{key}"),
                    format!(
                        "aggregation length 0 is refused by {} (the BGPAdvertisement CRD's minimum is 1)",
                        MetallbVersion::crd_releases()
                    ),
                )
                .help("use 1–32"),
            );
            continue;
        }
        match &rule {
            Some((true, releases)) => {
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
                                .help(format!("use {key} {} ({releases} refuse a length shorter than every CIDR of an `addresses` entry)", length_range(shortest, max))),
                            );
                        }
                    }
                }
            }
            // Before v0.12 the IPv4 length is compared with every CIDR of the pool (IPv6
            // ones too, which native mode there refuses anyway: see `native_ipv6`).
            Some((false, releases)) if !v6 => {
                for pool in covered {
                    let longest = pools
                        .get(pool)
                        .into_iter()
                        .flatten()
                        .filter(|(_, r)| r.0.is_ipv4())
                        .map(|(k, r)| (longest_prefix(*r), *k))
                        .max_by_key(|(bits, k)| (*bits, std::cmp::Reverse(*k)));
                    if let Some((longest, k)) = longest
                        && length < longest
                    {
                        v.report(
                            FieldError::new(
                                format!("{path}.{key}"),
                                format!("aggregation length {length} is shorter than /{longest}, the most specific CIDR of pool `{pool}`"),
                            )
                            .also(format!("metallb.pools.{pool}.addresses[{k}]"), format!("splits into CIDRs down to /{longest}"))
                            .help(format!("use {key} {} ({releases} compare it with every CIDR a pool's ranges split into)", length_range(longest, 32))),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// LOCAL_PREF only travels over iBGP (MetalLB drops it towards eBGP peers), so a
/// localpref whose peers are all eBGP would silently never be seen (metallab's own rule).
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
            .help("remove `localpref:`, or peer over iBGP (a router whose asn equals `metallb.asn`) (metallab's own rule: MetalLB accepts it and drops it)"),
        );
    }
}

/// Two advertisements of one pool to the same peers that make the same BGP update must
/// agree on LOCAL_PREF (v0.13.10 and later). Until v0.14.9 they make different updates
/// only when both aggregation lengths differ; from v0.15.0, when the lengths of the
/// families the pool has differ.
fn local_pref_conflicts(
    v: &mut Validator,
    metallb: &MetallbSpec,
    setup: Option<MetallbSetup>,
    covered: &[Vec<&str>],
    pools: &PoolRanges<'_>,
) {
    let Some(setup) = setup.filter(|s| s.version.checks_local_pref_conflicts()) else {
        return;
    };
    let (family_aware, releases) = setup.version.local_pref_rule();
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
            let v4_differs =
                a.aggregation_length.unwrap_or(32) != b.aggregation_length.unwrap_or(32);
            let v6_differs =
                a.aggregation_length_v6.unwrap_or(128) != b.aggregation_length_v6.unwrap_or(128);
            let collides = |pool: &&str| {
                let ranges = pools.get(pool).map(Vec::as_slice).unwrap_or_default();
                let has_v4 = ranges.iter().any(|(_, r)| r.0.is_ipv4());
                let has_v6 = ranges.iter().any(|(_, r)| r.0.is_ipv6());
                let differs = if family_aware {
                    match (has_v4, has_v6) {
                        (false, false) => true, // nothing announced, nothing to collide
                        (true, false) => v4_differs,
                        (false, true) => v6_differs,
                        (true, true) => v4_differs && v6_differs,
                    }
                } else {
                    v4_differs && v6_differs
                };
                covered[i].contains(pool) && !differs
            };
            let shared_pool = covered[j].iter().find(|p| collides(p));
            if let (true, Some(pool)) = (shared_peers, shared_pool) {
                let lengths = if family_aware {
                    "the aggregation lengths of the pool's address families"
                } else {
                    "both aggregation lengths, IPv4 and IPv6, whatever the pool holds"
                };
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
                    .help(format!("advertisements of one pool to the same peers must agree on localpref unless {lengths} differ (refused by {releases}); give them different `peers:` or aggregation lengths")),
                );
            }
        }
    }
}

/// From v0.13.10, an advertisement of a pool with an IPv6 CIDR must not reach a peer
/// whose BFD profile has echo mode (an advertisement without `peers` reaches every peer,
/// and so does metallab's `default` one for the BGP pools no advertisement names).
fn bfd_echo_with_ipv6(
    v: &mut Validator,
    metallb: &MetallbSpec,
    setup: Option<MetallbSetup>,
    pools: &PoolRanges<'_>,
    coverage: &Coverage<'_>,
) {
    // Native mode refuses BFD altogether.
    if !setup.is_some_and(|s| s.has_bfd() && s.version.refuses_bfd_echo_with_ipv6()) {
        return;
    }
    let releases = MetallbVersion::releases_refusing_bfd_echo_with_ipv6();
    let echo_profile = |peer: &MetallbPeerSpec| -> Option<String> {
        let name = peer.bfd.as_deref()?;
        let profile = metallb.bfd_profiles.get(name)?;
        (profile.echo_mode == Some(true)).then(|| name.to_string())
    };
    // The pool's first IPv6 entry.
    let ipv6_entry = |pool: &str| -> Option<usize> {
        pools
            .get(pool)?
            .iter()
            .find(|(_, r)| r.0.is_ipv6())
            .map(|(k, _)| *k)
    };
    let ipv6_pool = |candidates: &[&str]| -> Option<(String, usize)> {
        candidates
            .iter()
            .filter(|p| coverage.bgp_pools.contains(p))
            .find_map(|p| ipv6_entry(p).map(|k| (p.to_string(), k)))
    };
    for (i, advertisement) in metallb.advertisements.iter().enumerate() {
        let Some((pool, entry)) = ipv6_pool(&coverage.covered[i]) else {
            continue;
        };
        for (k, peer) in metallb.peers.iter().enumerate() {
            if !advertisement.peers.is_empty() && !advertisement.peers.contains(&peer.router) {
                continue;
            }
            let Some(profile) = echo_profile(peer) else {
                continue;
            };
            v.report(
                FieldError::new(
                    format!("metallb.advertisements[{i}]"),
                    format!(
                        "advertisements[{i}] sends pool `{pool}`, which has IPv6 addresses, to `{}`, whose BFD profile `{profile}` has echo mode",
                        peer.router
                    ),
                )
                .also(format!("metallb.peers[{k}].bfd"), "BFD with echo mode")
                .also(format!("metallb.pools.{pool}.addresses[{entry}]"), "IPv6")
                .help(format!(
                    "turn `echo-mode` off in `{profile}`, or keep the pool from `{}` with `peers:` (refused by {releases})",
                    peer.router
                )),
            );
        }
    }
    let Some((pool, entry)) = ipv6_pool(&coverage.uncovered) else {
        return;
    };
    for (k, peer) in metallb.peers.iter().enumerate() {
        let Some(profile) = echo_profile(peer) else {
            continue;
        };
        v.report(
            FieldError::new(
                format!("metallb.peers[{k}].bfd"),
                format!(
                    "pool `{pool}` has IPv6 addresses and no advertisement, so it is announced to every peer, `{}` too, whose BFD profile `{profile}` has echo mode",
                    peer.router
                ),
            )
            .also(format!("metallb.pools.{pool}.addresses[{entry}]"), "IPv6")
            .help(format!(
                "turn `echo-mode` off in `{profile}`, or add an advertisement for `{pool}` whose `peers:` leave `{}` out (refused by {releases})",
                peer.router
            )),
        );
    }
}

/// Kubernetes object names come from topology names through [`dns_name`], which can map
/// two names to one; the second object would then replace the first (metallab's own
/// rule, CRD releases only: the ConfigMap keeps the names as written).
fn object_names(v: &mut Validator, metallb: &MetallbSpec, setup: Option<MetallbSetup>) {
    let Some(setup) = setup.filter(|s| s.version.uses_crds()) else {
        return;
    };
    let help = "rename one (metallab's own rule: Kubernetes names are lowercase DNS labels, so metallab lowercases names, turns other characters into `-` and cuts them at 63 characters, and the second object would replace the first)";
    let mut collide = |kind: &str, what: &str, names: Vec<(String, String)>| {
        for (j, (name, object)) in names.iter().enumerate() {
            if let Some((first, _)) = names[..j].iter().find(|(_, o)| o == object) {
                v.report(
                    FieldError::new(
                        format!("{what}.{name}"),
                        format!("`{first}` and `{name}` would both be the {kind} `{object}`"),
                    )
                    .also(format!("{what}.{first}"), "the other one")
                    .help(help),
                );
            }
        }
    };
    let pools = metallb
        .pools
        .keys()
        .map(|n| (n.clone(), dns_name(n)))
        .collect();
    collide("IPAddressPool", "metallb.pools", pools);
    if setup.has_bfd() {
        // Only the profiles MetalLB's peers name are rendered.
        let profiles = metallb
            .bfd_profiles
            .keys()
            .filter(|n| metallb.peers.iter().any(|p| p.bfd.as_ref() == Some(*n)))
            .map(|n| (n.clone(), dns_name(n)))
            .collect();
        collide("BFDProfile", "metallb.bfd-profiles", profiles);
    }
    let peers = bgp_peer_names(metallb.peers.iter().map(|p| p.router.as_str()));
    for (i, name) in peers.iter().enumerate() {
        if let Some(first) = peers[..i].iter().position(|n| n == name) {
            v.report(
                FieldError::new(
                    format!("metallb.peers[{i}].router"),
                    format!(
                        "this peer and metallb.peers[{first}] would both be the BGPPeer `{name}`"
                    ),
                )
                .also(format!("metallb.peers[{first}].router"), "the other peer")
                .help(help),
            );
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
                    .help(format!("write `65000:100` (two 16-bit numbers) or `large:65000:1:2` (three 32-bit numbers){alias}; every MetalLB release refuses anything else")),
            );
        }
        Ok(Community::Large) => {
            let Some(setup) = setup else { return };
            let problem = if !setup.version.supports_large_communities() {
                Some(format!(
                    "MetalLB {} has no large communities (they arrived in v0.13.10)",
                    setup.version
                ))
            } else if setup.mode == MetallbMode::Native {
                Some(format!(
                    "MetalLB's native speaker (mode native) has no large communities: refused in native mode by {}",
                    MetallbVersion::releases_with_large_communities()
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
    parse_range(text).map_err(|e| e.to_string())
}

fn parse_range(text: &str) -> Result<(IpAddr, IpAddr), RangeError> {
    let text = text.trim();
    let address = |part: &str| -> Result<IpAddr, RangeError> {
        let part = part.trim();
        part.parse()
            .map_err(|_| RangeError::Malformed(format!("`{part}` is not an IP address")))
    };
    if let Some((first, last)) = text.split_once('-') {
        let (first, last) = (address(first)?, address(last)?);
        if first.is_ipv4() != last.is_ipv4() {
            return Err(RangeError::MixedFamilies);
        }
        if ip_number(first) > ip_number(last) {
            return Err(RangeError::Reversed(first, last));
        }
        return Ok((first, last));
    }
    let net: IpNet = text
        .parse()
        .map_err(|_| RangeError::Malformed(format!("`{text}` is neither a CIDR nor a range")))?;
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

/// The prefix lengths of the CIDRs that exactly cover a range, in order (a CIDR is its
/// own; `.10-.20` is /31, /30, /30, /31, /32), as MetalLB splits ranges.
fn cidr_lengths(range: (IpAddr, IpAddr)) -> Vec<u8> {
    let width: u32 = if range.0.is_ipv4() { 32 } else { 128 };
    let (mut start, end) = (ip_number(range.0), ip_number(range.1));
    let mut lengths = Vec::new();
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
        lengths.push((width - bits) as u8);
        let size_minus_one = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        match start.checked_add(size_minus_one) {
            Some(last) if last < end => start = last + 1,
            _ => return lengths,
        }
    }
}

/// The shortest (widest) prefix among the CIDRs of a range, which MetalLB v0.12.0 and
/// later compare the aggregation length with.
pub(super) fn shortest_prefix(range: (IpAddr, IpAddr)) -> u8 {
    cidr_lengths(range).into_iter().min().unwrap_or(0)
}

/// The longest (most specific) prefix among the CIDRs of a range, which MetalLB before
/// v0.12.0 compare the aggregation length with.
pub(super) fn longest_prefix(range: (IpAddr, IpAddr)) -> u8 {
    cidr_lengths(range).into_iter().max().unwrap_or(0)
}

/// `24–32`, or `32` when there is one choice.
fn length_range(shortest: u8, max: u8) -> String {
    if shortest >= max {
        max.to_string()
    } else {
        format!("{shortest}–{max}")
    }
}

#[cfg(test)]
mod tests;
