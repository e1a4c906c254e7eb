//! Names (DNS-safe, short enough for container names) and networks (subnets, gateways).

use super::*;

/// Lab, network, router, pool and BFD profile names become Docker and Kubernetes names.
pub(super) fn names(v: &mut Validator) {
    let t = v.topology;
    if !is_dns_label(&t.name) {
        v.report(
            FieldError::new("name", format!("lab name `{}` is not DNS-safe", t.name))
                .help(DNS_HELP),
        );
    }
    let mut check = |path: String, what: &str, name: &str| {
        if !is_dns_label(name) {
            v.report(
                FieldError::new(path, format!("{what} name `{name}` is not DNS-safe"))
                    .help(DNS_HELP),
            );
        }
    };
    for name in t.networks.keys() {
        check(format!("networks.{name}"), "network", name);
    }
    for name in t.routers.keys() {
        check(format!("routers.{name}"), "router", name);
    }
    if let Some(metallb) = &t.metallb {
        for name in metallb.pools.keys() {
            check(format!("metallb.pools.{name}"), "pool", name);
        }
        for name in metallb.bfd_profiles.keys() {
            check(format!("metallb.bfd-profiles.{name}"), "BFD profile", name);
        }
    }
    for name in t.routers.keys() {
        let path = format!("routers.{name}");
        if name == NODES {
            v.report(
                FieldError::new(path, "`nodes` is reserved: it means every cluster node")
                    .help("give the router another name"),
            );
            continue;
        }
        let container = crate::topology::model::container_name(&t.name, name);
        if container.len() > MAX_NAME_LEN && is_dns_label(&t.name) {
            v.report(
                FieldError::new(
                    path,
                    format!(
                        "container name `{container}` is {} characters; the limit is {MAX_NAME_LEN}",
                        container.len()
                    ),
                )
                .help("shorten the lab name (`name:`) or the router name"),
            );
        }
    }
}

/// Subnets: IPv4 network addresses, big enough, disjoint; gateways inside them.
pub(super) fn networks(v: &mut Validator) {
    let t = v.topology;
    let mut seen: Vec<(&str, Ipv4Net)> = Vec::new();
    for (name, network) in &t.networks {
        let path = format!("networks.{name}");
        let subnet = match network.subnet {
            None => {
                if network.gateway.is_some() {
                    v.report(
                        FieldError::new(
                            format!("{path}.gateway"),
                            "a gateway needs an explicit subnet",
                        )
                        .help("add `subnet:` to this network, or drop `gateway:`"),
                    );
                }
                continue;
            }
            Some(IpNet::V6(_)) => {
                v.report(
                    FieldError::new(
                        format!("{path}.subnet"),
                        "IPv6 networks are not supported yet",
                    )
                    .help("use an IPv4 subnet such as 10.201.1.0/24"),
                );
                continue;
            }
            Some(IpNet::V4(subnet)) => subnet,
        };
        let subnet_path = format!("{path}.subnet");
        if subnet.prefix_len() > MAX_LAB_PREFIX {
            v.report(
                FieldError::new(
                    &subnet_path,
                    format!("subnet {subnet} is too small for a lab network"),
                )
                .help("use a /29 or larger: the gateway and every router need an address"),
            );
            continue;
        }
        v.network_address(&subnet_path, IpNet::V4(subnet));
        let subnet = subnet.trunc();
        if let Some((other, other_subnet)) = seen.iter().find(|(_, s)| overlaps(*s, subnet)) {
            v.report(
                FieldError::new(
                    &subnet_path,
                    format!("subnet {subnet} overlaps network `{other}` ({other_subnet})"),
                )
                .also(
                    format!("networks.{other}.subnet"),
                    format!("`{other}` is here"),
                )
                .help("give each network its own, non-overlapping subnet"),
            );
        }
        seen.push((name, subnet));
        match network.gateway {
            None => {}
            Some(IpAddr::V6(gw)) => v.report(
                FieldError::new(
                    format!("{path}.gateway"),
                    format!("gateway {gw} is IPv6 but the subnet is IPv4"),
                )
                .help(format!("pick an address in {subnet}")),
            ),
            Some(IpAddr::V4(gw)) if !subnet.contains(&gw) => v.report(
                FieldError::new(
                    format!("{path}.gateway"),
                    format!("gateway {gw} is outside subnet {subnet}"),
                )
                .help(format!(
                    "pick an address in {subnet}, usually the first: {}",
                    first_host(subnet)
                )),
            ),
            Some(IpAddr::V4(gw)) if gw == subnet.network() || gw == subnet.broadcast() => v.report(
                FieldError::new(
                    format!("{path}.gateway"),
                    format!("gateway {gw} is the network or broadcast address of {subnet}"),
                )
                .help(format!(
                    "usually the gateway is the first host address: {}",
                    first_host(subnet)
                )),
            ),
            Some(IpAddr::V4(_)) => {}
        }
    }

    // Networks without a subnet get a free /24 from the allocation pool.
    let wanted = t.networks.values().filter(|n| n.subnet.is_none()).count();
    let free = SUBNET_POOL
        .subnets(24)
        .expect("/24 fits in the pool")
        .filter(|candidate| !seen.iter().any(|(_, s)| overlaps(*s, *candidate)))
        .count();
    if wanted > free {
        v.report(
            FieldError::new("networks", format!("{wanted} networks need a subnet but only {free} free /24s are left in {SUBNET_POOL}"))
                .help("write `subnet:` for these networks"),
        );
    }
}
