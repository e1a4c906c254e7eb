//! BGP neighbors and the sessions they make, and BFD profiles.

use super::*;
use crate::metallb::version::MetallbVersion;

pub(super) fn shared_network(a: &RouterSpec, b: &RouterSpec) -> bool {
    a.interfaces.keys().any(|n| b.interfaces.contains_key(n))
}

/// Neighbors: targets exist and speak BGP, ASNs are known, BFD is possible, and a
/// session declared on both sides agrees with itself.
pub(super) fn neighbors(v: &mut Validator) {
    let t = v.topology;
    // (router, peer) → (path, neighbor), in file order.
    let mut declared: IndexMap<(&str, &str), (String, &NeighborSpec)> = IndexMap::new();
    let explicit_addresses: HashMap<IpAddr, &str> = t
        .routers
        .iter()
        .flat_map(|(name, r)| {
            r.interfaces
                .values()
                .filter_map(|i| i.ip)
                .map(move |ip| (ip, name.as_str()))
        })
        .collect();
    for (name, router) in &t.routers {
        if !router.kind.speaks_bgp() {
            continue; // reported by router_kind
        }
        let mut first_seen: HashMap<&str, String> = HashMap::new();
        for (i, neighbor) in router.neighbors.iter().enumerate() {
            let path = format!("routers.{name}.neighbors[{i}]");
            if let Some(first) = first_seen.get(neighbor.to.as_str()) {
                v.report(
                    FieldError::new(
                        format!("{path}.to"),
                        format!("`{}` is already a neighbor of `{name}`", neighbor.to),
                    )
                    .also(format!("{first}.to"), "first declared here")
                    .help("declare each neighbor once"),
                );
                continue;
            }
            first_seen.insert(&neighbor.to, path.clone());
            neighbor_settings(v, &path, name, router, neighbor);
            match Target::parse(&neighbor.to) {
                Target::Nodes => {
                    if !v.has_cluster() {
                        v.report(
                            FieldError::new(format!("{path}.to"), "`to: nodes` needs a cluster")
                                .help("add `cluster:` with provider kind, minikube or existing"),
                        );
                    }
                    let metallb_asn = t.metallb.as_ref().map(|m| m.asn);
                    if neighbor.asn.is_none() && metallb_asn.is_none() {
                        v.report(
                            FieldError::new(
                                format!("{path}.asn"),
                                "the ASN of the nodes is unknown",
                            )
                            .help("add `asn:` to this neighbor, or set `metallb.asn`"),
                        );
                    }
                }
                Target::Address(ip) => {
                    if neighbor.asn.is_none() {
                        v.report(
                            FieldError::new(
                                format!("{path}.asn"),
                                format!("neighbor {ip} needs an `asn`"),
                            )
                            .help("a bare address tells nothing about the peer; add `asn:`"),
                        );
                    }
                    if let Some(owner) = explicit_addresses.get(&ip) {
                        let message = if *owner == name.as_str() {
                            format!("{ip} is `{name}`'s own address")
                        } else {
                            format!("{ip} is router `{owner}`'s address")
                        };
                        v.report(
                            FieldError::new(format!("{path}.to"), message)
                                .help(format!("name lab routers (`to: {owner}`) so both ends of the session are configured")),
                        );
                    }
                }
                Target::Router(peer_name) => {
                    if peer_name == name {
                        v.report(
                            FieldError::new(
                                format!("{path}.to"),
                                "a router cannot peer with itself",
                            )
                            .help("name another router"),
                        );
                        continue;
                    }
                    let Some(peer) = v.known_router(format!("{path}.to"), peer_name) else {
                        continue;
                    };
                    if !peer.kind.speaks_bgp() {
                        v.report(
                            FieldError::new(
                                format!("{path}.to"),
                                format!("`{peer_name}` is a linux router: it runs no BGP daemon"),
                            )
                            .help("peer with an frr, bird, gobgp or quagga router"),
                        );
                        continue;
                    }
                    if let (Some(asn), Some(peer_asn)) = (neighbor.asn, peer.asn)
                        && asn != peer_asn
                    {
                        v.report(
                            FieldError::new(format!("{path}.asn"), format!("asn {asn} does not match `{peer_name}`'s asn {peer_asn}"))
                                .also(format!("routers.{peer_name}.asn"), format!("`{peer_name}`'s asn"))
                                .help("drop `asn:` here: a router neighbor's ASN is taken from the router"),
                        );
                    }
                    if bfd_key(&neighbor.bfd).is_some() && !peer.kind.has_bfd() {
                        v.report(
                            FieldError::new(format!("{path}.bfd"), format!("`{peer_name}` is {}, which has no BFD: the session cannot run BFD on both ends", peer.kind))
                                .help("remove `bfd:`, or peer with an frr or bird router"),
                        );
                    }
                    declared.insert((name.as_str(), peer_name), (path, neighbor));
                }
            }
        }
    }
    session_pairs(v, &declared);
}

/// Settings of one neighbor entry that do not depend on the peer.
pub(super) fn neighbor_settings(
    v: &mut Validator,
    path: &str,
    name: &str,
    router: &RouterSpec,
    neighbor: &NeighborSpec,
) {
    if neighbor.asn == Some(0) {
        v.report(FieldError::new(format!("{path}.asn"), "ASN 0 is reserved").help(ASN_HELP));
    }
    if neighbor.multihop == Some(Multihop::Ttl(0)) {
        v.report(
            FieldError::new(
                format!("{path}.multihop"),
                "a TTL of 0 never reaches the peer",
            )
            .help("use a hop count (1–255) or `true` for 255"),
        );
    }
    if let Some(hold) = neighbor.hold_time
        && (1..3).contains(&hold)
    {
        v.report(
            FieldError::new(
                format!("{path}.hold-time"),
                format!("hold time {hold} is not allowed"),
            )
            .help("BGP allows 0 (no keepalives) or 3–65535 seconds"),
        );
    }
    if bfd_key(&neighbor.bfd).is_some() {
        if !router.kind.has_bfd() {
            v.report(
                FieldError::new(
                    format!("{path}.bfd"),
                    format!("{} has no BFD implementation", router.kind),
                )
                .help("remove `bfd:`, or use an frr or bird router"),
            );
        }
        if let Some(BfdSetting::Profile(profile)) = &neighbor.bfd {
            unknown_bfd_profile(v, format!("{path}.bfd"), profile);
        }
    }
    if let Some(source) = neighbor.source
        && !router.interfaces.values().any(|i| i.ip == Some(source))
    {
        v.report(
            FieldError::new(
                format!("{path}.source"),
                format!("{source} is not an address of `{name}`"),
            )
            .help("use the fixed `ip:` of one of the router's interfaces"),
        );
    }
}

pub(super) fn unknown_bfd_profile(v: &mut Validator, path: String, profile: &str) {
    let profiles = v.bfd_profiles();
    if profiles.is_some_and(|p| p.contains_key(profile)) {
        return;
    }
    let names = profiles
        .into_iter()
        .flat_map(|p| p.keys().map(String::as_str));
    let help = if profiles.is_none_or(|p| p.is_empty()) {
        "define it under `metallb.bfd-profiles`, or write `bfd: true` for the default timers"
            .to_string()
    } else {
        unknown_name_help("BFD profiles", profile, names)
    };
    v.report(
        FieldError::new(path, format!("unknown BFD profile `{profile}`"))
            .help(help)
            .independent(),
    );
}

/// A router-to-router session declared on one or both sides: reachable (a shared network
/// or multihop) and, when declared twice, consistent.
pub(super) fn session_pairs(
    v: &mut Validator,
    declared: &IndexMap<(&str, &str), (String, &NeighborSpec)>,
) {
    let t = v.topology;
    for (index, (&(a, b), (path_ab, ab))) in declared.iter().enumerate() {
        let reverse = declared.get_full(&(b, a));
        if let Some((reverse_index, _, _)) = reverse
            && reverse_index < index
        {
            continue; // the pair was handled at its first declaration
        }
        let reverse = reverse.map(|(_, _, decl)| decl);
        let multihop = ab
            .multihop
            .and_then(Multihop::ttl)
            .or_else(|| reverse.and_then(|(_, ba)| ba.multihop.and_then(Multihop::ttl)));
        if multihop.is_none() && !shared_network(&t.routers[a], &t.routers[b]) {
            v.report(
                FieldError::new(format!("{path_ab}.to"), format!("`{a}` and `{b}` share no network"))
                    .help("connect both to a common network, or add `multihop: 2` (and static routes between them)"),
            );
        }
        let Some((path_ba, ba)) = reverse else {
            continue;
        };
        let mut conflict = |key: &str, what: String| {
            v.report(
                FieldError::new(format!("{path_ba}.{key}"), format!("`{b}` and `{a}` disagree on {what}"))
                    .also(format!("{path_ab}.{key}"), format!("`{a}`'s side"))
                    .help("a session declared on both routers must have the same settings; declare it once and it is mirrored"),
            );
        };
        let (ttl_ab, ttl_ba) = (
            ab.multihop.and_then(Multihop::ttl),
            ba.multihop.and_then(Multihop::ttl),
        );
        if ab.multihop.is_some() && ba.multihop.is_some() && ttl_ab != ttl_ba {
            conflict("multihop", "multihop".to_string());
        }
        if ab.bfd.is_some() && ba.bfd.is_some() && bfd_key(&ab.bfd) != bfd_key(&ba.bfd) {
            conflict("bfd", "BFD".to_string());
        }
        if let (Some(p1), Some(p2)) = (&ab.password, &ba.password)
            && p1 != p2
        {
            conflict("password", "the password".to_string());
        }
        if let (Some(h1), Some(h2)) = (ab.hold_time, ba.hold_time)
            && h1 != h2
        {
            conflict("hold-time", "the hold time".to_string());
        }
        if ab.passive && ba.passive {
            v.report(
                FieldError::new(
                    format!("{path_ba}.passive"),
                    format!("`{a}` and `{b}` are both passive: neither opens the session"),
                )
                .also(
                    format!("{path_ab}.passive"),
                    format!("`{a}` is passive too"),
                )
                .help("make at most one side passive"),
            );
        }
    }
}

/// MetalLB's BFDProfile ranges (BFD profiles exist from v0.12.0, the FRR mode).
pub(super) fn bfd_profiles(v: &mut Validator) {
    let Some(profiles) = v.bfd_profiles() else {
        return;
    };
    for (name, profile) in profiles {
        let path = format!("metallb.bfd-profiles.{name}");
        let ranges = [
            (
                "receive-interval",
                profile.receive_interval,
                10,
                60000,
                " ms",
            ),
            (
                "transmit-interval",
                profile.transmit_interval,
                10,
                60000,
                " ms",
            ),
            ("echo-interval", profile.echo_interval, 10, 60000, " ms"),
            ("detect-multiplier", profile.detect_multiplier, 2, 255, ""),
            ("minimum-ttl", profile.minimum_ttl, 1, 254, ""),
        ];
        for (key, value, min, max, unit) in ranges {
            if let Some(value) = value
                && !(min..=max).contains(&value)
            {
                v.report(
                    FieldError::new(
                        format!("{path}.{key}"),
                        format!("{key} {value} is out of range"),
                    )
                    .help(format!(
                        "{} accept {min}–{max}{unit}",
                        MetallbVersion::frr_releases()
                    )),
                );
            }
        }
    }
}
