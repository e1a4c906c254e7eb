//! Per-router rules: kind and ASN, router-id, interfaces and addresses, static routes,
//! announced prefixes, network capacity.

use super::*;

/// Per-router rules: kind and ASN, router-id, interfaces and their addresses, static
/// routes, announced prefixes.
pub(super) fn routers(v: &mut Validator) {
    let t = v.topology;
    let mut address_owner: HashMap<IpAddr, String> = HashMap::new();
    let mut router_id_owner: HashMap<Ipv4Addr, String> = HashMap::new();
    for (name, router) in &t.routers {
        let path = format!("routers.{name}");
        router_kind(v, name, router);

        if let Some(id) = router.router_id {
            let id_path = format!("{path}.router-id");
            if id.is_unspecified() || id.is_broadcast() || id.is_multicast() {
                v.report(
                    FieldError::new(&id_path, format!("router-id {id} is not usable"))
                        .help("use a unicast IPv4 address, usually one of the router's own"),
                );
            } else if let Some(first) = router_id_owner.get(&id) {
                v.report(
                    FieldError::new(&id_path, format!("router-id {id} is already used"))
                        .also(first.clone(), "first used here")
                        .help("BGP speakers need distinct router-ids"),
                );
            } else {
                router_id_owner.insert(id, id_path);
            }
        }

        // An in-cluster router's address is its Service's (rules in `placement`).
        if router.interfaces.is_empty() && router.placement != Some(Placement::Cluster) {
            let known: Vec<&str> = t.networks.keys().map(String::as_str).collect();
            v.report(
                FieldError::new(format!("{path}.interfaces"), format!("router `{name}` has no interface"))
                    .help(if known.is_empty() {
                        "define a network under `networks:` and connect the router: `interfaces: { <network>: {} }`".to_string()
                    } else {
                        format!("connect it to a network: `interfaces: {{ {}: {{}} }}` (networks: {})", known[0], known.join(", "))
                    }),
            );
        }
        for (network, interface) in &router.interfaces {
            let iface_path = format!("{path}.interfaces.{network}");
            let Some(spec) = t.networks.get(network) else {
                let help =
                    unknown_name_help("networks", network, t.networks.keys().map(String::as_str));
                v.report(
                    FieldError::new(iface_path, format!("unknown network `{network}`"))
                        .help(help)
                        .independent(),
                );
                continue;
            };
            let Some(ip) = interface.ip else { continue };
            let ip_path = format!("{iface_path}.ip");
            interface_address(v, &ip_path, network, spec, ip);
            match address_owner.get(&ip) {
                Some(first) => v.report(
                    FieldError::new(
                        &ip_path,
                        format!("{ip} is already used by another interface"),
                    )
                    .also(first.clone(), "first used here")
                    .help("every interface needs its own address; drop `ip:` to get a free one"),
                ),
                None => {
                    address_owner.insert(ip, ip_path);
                }
            }
        }
        static_routes(v, name, router);
        for (i, prefix) in router.announce.iter().enumerate() {
            let prefix_path = format!("{path}.announce[{i}]");
            if v.network_address(&prefix_path, *prefix) && matches!(prefix, IpNet::V6(_)) {
                v.report(
                    FieldError::new(prefix_path, "IPv6 prefixes are not supported yet")
                        .help("announce IPv4 prefixes, e.g. from 192.0.2.0/24"),
                );
            }
        }
        if router.http_server == Some(0) {
            v.report(
                FieldError::new(format!("{path}.http-server"), "port 0 cannot be served")
                    .help("use a port such as 80 or 8080"),
            );
        }
    }
    network_capacity(v);
}

/// What a router kind allows: BGP kinds need an ASN; linux hosts run no BGP daemon.
pub(super) fn router_kind(v: &mut Validator, name: &str, router: &RouterSpec) {
    let path = format!("routers.{name}");
    if router.kind.speaks_bgp() {
        match router.asn {
            None => v.report(
                FieldError::new(
                    format!("{path}.asn"),
                    format!("{} router `{name}` needs an `asn`", router.kind),
                )
                .help(format!("add e.g. `asn: 64512`; {ASN_HELP}")),
            ),
            Some(0) => {
                v.report(FieldError::new(format!("{path}.asn"), "ASN 0 is reserved").help(ASN_HELP))
            }
            Some(_) => {}
        }
        return;
    }
    let not_for_linux = [
        ("asn", router.asn.is_some()),
        ("router-id", router.router_id.is_some()),
        ("neighbors", !router.neighbors.is_empty()),
        ("announce", !router.announce.is_empty()),
        ("transit", router.transit),
    ];
    for (key, present) in not_for_linux {
        if present {
            v.report(
                FieldError::new(
                    format!("{path}.{key}"),
                    format!("`{key}` needs a BGP daemon, and linux routers run none"),
                )
                .help("remove it, or change `kind:` to frr, bird, gobgp or quagga"),
            );
        }
    }
}

/// A fixed interface address must be an IPv4 host address of its network, and not the
/// network's gateway (the host bridge owns it).
pub(super) fn interface_address(
    v: &mut Validator,
    path: &str,
    network: &str,
    spec: &NetworkSpec,
    ip: IpAddr,
) {
    let IpAddr::V4(address) = ip else {
        v.report(
            FieldError::new(path, "IPv6 addresses are not supported yet")
                .help("use an IPv4 address"),
        );
        return;
    };
    let Some(subnet) = v.subnet(network) else {
        if spec.subnet.is_none() && !v.subnet_unreadable(network) {
            v.report(
                FieldError::new(path, format!("network `{network}` has no subnet, so a fixed address cannot be placed in it"))
                    .help(format!("give network `{network}` a `subnet:`, or drop `ip:` to get an address allocated")),
            );
        }
        return;
    };
    let problem = if !subnet.contains(&address) {
        Some(format!(
            "{address} is outside network `{network}` ({subnet})"
        ))
    } else if address == subnet.network() {
        Some(format!("{address} is the network address of `{network}`"))
    } else if address == subnet.broadcast() {
        Some(format!("{address} is the broadcast address of `{network}`"))
    } else if Some(address) == v.gateway(network) {
        Some(format!(
            "{address} is the gateway of `{network}` (the host's bridge owns it)"
        ))
    } else {
        None
    };
    if let Some(message) = problem {
        let gateway = v
            .gateway(network)
            .map(|g| format!(", except the gateway {g}"))
            .unwrap_or_default();
        v.report(FieldError::new(path, message).help(format!(
            "pick a host address of {subnet}{gateway}; or drop `ip:` to get one allocated"
        )));
    }
}

/// Static routes: `to` is a network address; `via` sits on a directly connected network.
pub(super) fn static_routes(v: &mut Validator, name: &str, router: &RouterSpec) {
    let own: Vec<IpAddr> = router.interfaces.values().filter_map(|i| i.ip).collect();
    for (i, route) in router.routes.iter().enumerate() {
        let path = format!("routers.{name}.routes[{i}]");
        v.network_address(format!("{path}.to"), route.to);
        let IpAddr::V4(via) = route.via else {
            v.report(
                FieldError::new(format!("{path}.via"), "IPv6 gateways are not supported yet")
                    .help("use an IPv4 next hop"),
            );
            continue;
        };
        if own.contains(&route.via) {
            v.report(
                FieldError::new(
                    format!("{path}.via"),
                    format!("{via} is `{name}`'s own address"),
                )
                .help("the next hop is the neighbouring router's address"),
            );
            continue;
        }
        if !router
            .interfaces
            .keys()
            .any(|n| v.subnet(n).is_some_and(|s| s.contains(&via)) || v.subnet_unreadable(n))
        {
            v.report(
                FieldError::new(
                    format!("{path}.via"),
                    format!(
                        "unreachable gateway {via}: it is not on a network `{name}` is connected to"
                    ),
                )
                .help(connected_networks_help(v, router)),
            );
        }
    }
}

pub(super) fn connected_networks_help(v: &Validator, router: &RouterSpec) -> String {
    let networks: Vec<String> = router
        .interfaces
        .keys()
        .map(|n| match v.subnet(n) {
            Some(s) => format!("{n} ({s})"),
            None => format!("{n} (subnet not written)"),
        })
        .collect();
    if networks.is_empty() {
        "the router has no interface".to_string()
    } else {
        format!("the next hop must be on one of: {}", networks.join(", "))
    }
}

/// A network must have room for its gateway and every router connected to it.
pub(super) fn network_capacity(v: &mut Validator) {
    let t = v.topology;
    for (network, spec) in &t.networks {
        let connected = t
            .routers
            .values()
            .filter(|r| r.interfaces.contains_key(network))
            .count();
        let capacity = match spec.subnet {
            None => 253, // an allocated /24 minus the gateway
            Some(_) => match v.subnet(network) {
                // As plan::build allocates: from the second host up, skipping the gateway.
                Some(subnet) => {
                    let gateway = v.gateway(network);
                    let nodes = t
                        .cluster
                        .as_ref()
                        .filter(|c| c.creates_nodes() && t.node_network() == Some(network))
                        .map(|_| node_address_range(subnet));
                    subnet
                        .hosts()
                        .skip(1)
                        .filter(|h| Some(*h) != gateway)
                        .filter(|h| !nodes.is_some_and(|n| n.contains(h)))
                        .count()
                }
                None => continue,
            },
        };
        if connected > capacity {
            v.report(
                FieldError::new(
                    format!("networks.{network}"),
                    format!("{connected} routers are connected to `{network}` but it has room for {capacity}"),
                )
                .help("use a larger subnet"),
            );
        }
    }
}
