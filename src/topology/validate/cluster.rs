//! The cluster, static routes in its nodes, and MetalLB.

use super::neighbors::unknown_bfd_profile;
use super::*;

/// Cluster fields belong to specific providers; the node network must exist.
pub(super) fn cluster(v: &mut Validator) {
    let t = v.topology;
    let Some(cluster) = &t.cluster else { return };
    use ClusterProvider::*;
    let provider = cluster.provider;
    let fields = [
        (
            "control-planes",
            cluster.control_planes.is_some(),
            &[Kind][..],
        ),
        ("workers", cluster.workers.is_some(), &[Kind, Minikube]),
        (
            "network",
            cluster.network.is_some(),
            &[Kind, Minikube, Existing],
        ),
        ("image", cluster.image.is_some(), &[Kind, Minikube]),
        (
            "kubernetes-version",
            cluster.kubernetes_version.is_some(),
            &[Kind, Minikube],
        ),
        ("kubeconfig", cluster.kubeconfig.is_some(), &[Existing]),
        ("context", cluster.context.is_some(), &[Existing]),
        (
            "node-addresses",
            !cluster.node_addresses.is_empty(),
            &[Existing],
        ),
    ];
    let provider_name = |p: ClusterProvider| match p {
        Kind => "kind",
        Minikube => "minikube",
        Existing => "existing",
        None => "none",
    };
    for (key, present, providers) in fields {
        if present && !providers.contains(&provider) {
            let names: Vec<&str> = providers.iter().map(|p| provider_name(*p)).collect();
            v.report(
                FieldError::new(
                    format!("cluster.{key}"),
                    format!(
                        "`{key}` does not apply to provider {}",
                        provider_name(provider)
                    ),
                )
                .help(format!("`{key}` is for provider {}", names.join(" or "))),
            );
        }
    }
    if cluster.control_planes == Some(0) {
        v.report(
            FieldError::new(
                "cluster.control-planes",
                "a cluster needs at least one control-plane node",
            )
            .help("use 1 or more"),
        );
    }
    if let Some(network) = &cluster.network
        && provider != None
        && !t.networks.contains_key(network)
    {
        let help = unknown_name_help("networks", network, t.networks.keys().map(String::as_str));
        v.report(
            FieldError::new("cluster.network", format!("unknown network `{network}`")).help(help),
        );
    }
    if cluster.creates_nodes() {
        node_network(v, cluster);
    }
}

/// The network kind or Minikube nodes sit on: reachable from the host (the API server's
/// port is published there), big enough for nodes in its upper half, and routers written
/// into the lower half.
fn node_network(v: &mut Validator, cluster: &ClusterSpec) {
    let t = v.topology;
    let Some(name) = cluster.node_network() else {
        return;
    };
    let Some(spec) = t.networks.get(name) else {
        return;
    };
    let path = format!("networks.{name}");
    if spec.internal == Some(true) {
        v.report(
            FieldError::new(
                format!("{path}.internal"),
                format!("the cluster's nodes sit on `{name}`, which cannot be internal"),
            )
            .help("kind and Minikube publish the API server's port and pull images through this network: remove `internal: true` (other lab networks stay internal)"),
        );
    }
    let Some(subnet) = v.subnet(name) else {
        return;
    };
    if subnet.prefix_len() > MAX_NODE_NETWORK_PREFIX {
        v.report(
            FieldError::new(
                format!("{path}.subnet"),
                format!("subnet {subnet} is too small for the cluster's network"),
            )
            .help(format!(
                "use a /{MAX_NODE_NETWORK_PREFIX} or larger: nodes get addresses from its upper half, routers from the lower half"
            )),
        );
        return;
    }
    let nodes = node_address_range(subnet);
    for (router, spec) in &t.routers {
        if let Some(InterfaceSpec {
            ip: Some(IpAddr::V4(ip)),
        }) = spec.interfaces.get(name)
            && nodes.contains(ip)
        {
            v.report(
                FieldError::new(
                    format!("routers.{router}.interfaces.{name}.ip"),
                    format!("{ip} is in {nodes}, where the cluster's nodes get their addresses"),
                )
                .help(format!(
                    "pick an address in the lower half of {subnet}, or leave `ip:` out to let metallab choose"
                )),
            );
        }
    }
}

/// The smallest node network: its upper half (/29) holds up to six nodes.
const MAX_NODE_NETWORK_PREFIX: u8 = 28;

/// Static routes inside the cluster nodes.
pub(super) fn nodes(v: &mut Validator) {
    let t = v.topology;
    let Some(nodes) = &t.nodes else { return };
    if nodes.routes.is_empty() {
        return;
    }
    if !v.has_cluster() {
        v.report(
            FieldError::new("nodes", "`nodes:` needs a cluster")
                .help("add `cluster:`, or remove `nodes:`"),
        );
        return;
    }
    let node_subnet = t
        .cluster
        .as_ref()
        .and_then(|c| c.network.as_deref())
        .and_then(|n| v.subnet(n));
    for (i, route) in nodes.routes.iter().enumerate() {
        let path = format!("nodes.routes[{i}]");
        v.network_address(format!("{path}.to"), route.to);
        if let (Some(subnet), IpAddr::V4(via)) = (node_subnet, route.via)
            && !subnet.contains(&via)
        {
            v.report(
                FieldError::new(
                    format!("{path}.via"),
                    format!("unreachable gateway {via}: the nodes sit on {subnet}"),
                )
                .help("the next hop must be a router address on `cluster.network`"),
            );
        }
    }
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

/// MetalLB: a cluster to run in, peers that are BGP routers, pools that parse and stay
/// clear of each other and of the lab networks, advertisements naming real pools.
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
        }
        if let Some(profile) = &peer.bfd {
            unknown_bfd_profile(v, format!("{path}.bfd"), profile);
            if router.kind.speaks_bgp() && !router.kind.has_bfd() {
                v.report(
                    FieldError::new(
                        format!("{path}.bfd"),
                        format!("`{}` is {}, which has no BFD", peer.router, router.kind),
                    )
                    .help("remove `bfd:`, or peer with an frr or bird router"),
                );
            }
        }
        if peer.asn == Some(0) {
            v.report(FieldError::new(format!("{path}.asn"), "ASN 0 is reserved").help(ASN_HELP));
        }
    }

    let mut seen: Vec<(String, String, (IpAddr, IpAddr))> = Vec::new();
    for (name, pool) in &metallb.pools {
        let path = format!("metallb.pools.{name}");
        if pool.addresses.is_empty() {
            v.report(
                FieldError::new(
                    format!("{path}.addresses"),
                    format!("pool `{name}` has no addresses"),
                )
                .help("add a CIDR such as 203.0.113.200/30"),
            );
        }
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
            if let Some((other_path, other_text, _)) =
                seen.iter().find(|(_, _, r)| ranges_overlap(*r, range))
            {
                v.report(
                    FieldError::new(&address_path, format!("{text} overlaps {other_text}"))
                        .also(other_path.clone(), "overlapping addresses")
                        .help("MetalLB refuses pools that share addresses"),
                );
            }
            for network in t.networks.keys() {
                if let Some(subnet) = v.subnet(network)
                    && ranges_overlap(range, (subnet.network().into(), subnet.broadcast().into()))
                {
                    v.report(
                        FieldError::new(&address_path, format!("{text} overlaps lab network `{network}` ({subnet})"))
                            .also(format!("networks.{network}.subnet"), format!("`{network}`"))
                            .help("service IPs must not collide with container addresses; use e.g. 203.0.113.200/30"),
                    );
                }
            }
            seen.push((address_path, text.clone(), range));
        }
    }

    for (i, advertisement) in metallb.advertisements.iter().enumerate() {
        for (j, pool) in advertisement.pools.iter().enumerate() {
            if !metallb.pools.contains_key(pool) {
                let help =
                    unknown_name_help("pools", pool, metallb.pools.keys().map(String::as_str));
                v.report(
                    FieldError::new(
                        format!("metallb.advertisements[{i}].pools[{j}]"),
                        format!("unknown pool `{pool}`"),
                    )
                    .help(help),
                );
            }
        }
        for (j, peer) in advertisement.peers.iter().enumerate() {
            v.known_router(format!("metallb.advertisements[{i}].peers[{j}]"), peer);
        }
    }
}
