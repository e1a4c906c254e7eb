//! Semantic validation of a topology (DESIGN.md §3): pure, and it reports *every* problem
//! at once, each naming the offending field and saying how to fix it.
//!
//! Rules are grouped by family, one function each, run in order by [`validate`]. To add
//! a rule, add a function taking `&mut Validator` and list it in [`RULES`].

use super::diagnostics::{FieldError, unknown_name_help};
use super::model::*;
use super::target::Target;
use crate::plan::Plan;
use crate::plan::build::SUBNET_POOL;
use crate::state::{BfdState, SessionState};
use indexmap::IndexMap;
use ipnet::{IpNet, Ipv4Net};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

/// Longest DNS label, and so the longest container or Kubernetes object name part.
pub const MAX_NAME_LEN: usize = 63;

/// The rule families, in the order their errors are collected.
const RULES: &[fn(&mut Validator)] = &[
    names,
    networks,
    routers,
    neighbors,
    bfd_profiles,
    cluster,
    nodes,
    metallb,
    checks,
];

/// Every problem of the topology; empty when it is valid.
pub fn validate(topology: &Topology) -> Vec<FieldError> {
    let mut validator = Validator {
        topology,
        errors: Vec::new(),
    };
    for rule in RULES {
        rule(&mut validator);
    }
    validator.errors
}

/// The topology under validation and the errors found so far.
pub struct Validator<'t> {
    topology: &'t Topology,
    errors: Vec<FieldError>,
}

impl<'t> Validator<'t> {
    fn report(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// A network's subnet when it is written and a usable IPv4 network (bad ones are
    /// reported by [`networks`] and ignored by the other rules).
    fn subnet(&self, network: &str) -> Option<Ipv4Net> {
        match self.topology.networks.get(network)?.subnet? {
            IpNet::V4(net) if net.prefix_len() <= MAX_LAB_PREFIX => Some(net.trunc()),
            _ => None,
        }
    }

    /// The gateway (host bridge address) of a network with a known subnet.
    fn gateway(&self, network: &str) -> Option<Ipv4Addr> {
        let subnet = self.subnet(network)?;
        match self.topology.networks.get(network)?.gateway {
            Some(IpAddr::V4(gw)) => Some(gw),
            Some(IpAddr::V6(_)) => None,
            None => subnet.hosts().next(),
        }
    }

    fn has_cluster(&self) -> bool {
        self.topology
            .cluster
            .as_ref()
            .is_some_and(|c| c.provider != ClusterProvider::None)
    }

    fn router_names(&self) -> impl Iterator<Item = &'t str> + use<'t> {
        self.topology.routers.keys().map(String::as_str)
    }

    fn bfd_profiles(&self) -> Option<&'t IndexMap<String, BfdProfileSpec>> {
        self.topology.metallb.as_ref().map(|m| &m.bfd_profiles)
    }

    /// Reports a router name that does not exist; returns the router when it does.
    fn known_router(&mut self, path: String, name: &str) -> Option<&'t RouterSpec> {
        let router = self.topology.routers.get(name);
        if router.is_none() {
            let help = unknown_name_help("routers", name, self.router_names());
            self.report(FieldError::new(path, format!("unknown router `{name}`")).help(help));
        }
        router
    }
}

/// The smallest lab network: room for the gateway and a few routers.
const MAX_LAB_PREFIX: u8 = 29;

const DNS_HELP: &str = "use lowercase letters, digits and `-` (at most 63 characters), \
                        starting and ending with a letter or digit";

const ASN_HELP: &str = "an ASN is 1–4294967295; private ones are 64512–65534 and \
                        4200000000–4294967294";

fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Lab, network, router, pool and BFD profile names become Docker and Kubernetes names.
fn names(v: &mut Validator) {
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
        if name == super::target::NODES {
            v.report(
                FieldError::new(path, "`nodes` is reserved: it means every cluster node")
                    .help("give the router another name"),
            );
            continue;
        }
        let container = Plan::container_name(&t.name, name);
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
fn networks(v: &mut Validator) {
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
        if subnet.trunc() != subnet {
            v.report(
                FieldError::new(&subnet_path, format!("{subnet} is not a network address"))
                    .help(format!("write {}", subnet.trunc())),
            );
        }
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

fn first_host(subnet: Ipv4Net) -> Ipv4Addr {
    subnet.hosts().next().unwrap_or(subnet.network())
}

/// Per-router rules: kind and ASN, router-id, interfaces and their addresses, static
/// routes, announced prefixes.
fn routers(v: &mut Validator) {
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

        if router.interfaces.is_empty() {
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
                    FieldError::new(iface_path, format!("unknown network `{network}`")).help(help),
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
            if prefix.trunc() != *prefix {
                v.report(
                    FieldError::new(prefix_path, format!("{prefix} is not a network address"))
                        .help(format!("write {}", prefix.trunc())),
                );
            } else if matches!(prefix, IpNet::V6(_)) {
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
fn router_kind(v: &mut Validator, name: &str, router: &RouterSpec) {
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
fn interface_address(v: &mut Validator, path: &str, network: &str, spec: &NetworkSpec, ip: IpAddr) {
    let IpAddr::V4(address) = ip else {
        v.report(
            FieldError::new(path, "IPv6 addresses are not supported yet")
                .help("use an IPv4 address"),
        );
        return;
    };
    let Some(subnet) = v.subnet(network) else {
        if spec.subnet.is_none() {
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
fn static_routes(v: &mut Validator, name: &str, router: &RouterSpec) {
    let own: Vec<IpAddr> = router.interfaces.values().filter_map(|i| i.ip).collect();
    for (i, route) in router.routes.iter().enumerate() {
        let path = format!("routers.{name}.routes[{i}]");
        if route.to.trunc() != route.to {
            v.report(
                FieldError::new(
                    format!("{path}.to"),
                    format!("{} is not a network address", route.to),
                )
                .help(format!("write {}", route.to.trunc())),
            );
        }
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
            .any(|n| v.subnet(n).is_some_and(|s| s.contains(&via)))
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

fn connected_networks_help(v: &Validator, router: &RouterSpec) -> String {
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
fn network_capacity(v: &mut Validator) {
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
                    subnet
                        .hosts()
                        .skip(1)
                        .filter(|h| Some(*h) != gateway)
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

/// The BFD setting of a neighbor, normalized: None when off.
fn bfd_key(setting: &Option<BfdSetting>) -> Option<&str> {
    match setting {
        None | Some(BfdSetting::Enabled(false)) => None,
        Some(BfdSetting::Enabled(true)) => Some("true"),
        Some(BfdSetting::Profile(p)) => Some(p),
    }
}

fn shared_network(a: &RouterSpec, b: &RouterSpec) -> bool {
    a.interfaces.keys().any(|n| b.interfaces.contains_key(n))
}

/// Neighbors: targets exist and speak BGP, ASNs are known, BFD is possible, and a
/// session declared on both sides agrees with itself.
fn neighbors(v: &mut Validator) {
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
fn neighbor_settings(
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

fn unknown_bfd_profile(v: &mut Validator, path: String, profile: &str) {
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
    v.report(FieldError::new(path, format!("unknown BFD profile `{profile}`")).help(help));
}

/// A router-to-router session declared on one or both sides: reachable (a shared network
/// or multihop) and, when declared twice, consistent.
fn session_pairs(v: &mut Validator, declared: &IndexMap<(&str, &str), (String, &NeighborSpec)>) {
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

/// MetalLB's BFDProfile ranges.
fn bfd_profiles(v: &mut Validator) {
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
                    .help(format!("MetalLB accepts {min}–{max}{unit}")),
                );
            }
        }
    }
}

/// Cluster fields belong to specific providers; the node network must exist.
fn cluster(v: &mut Validator) {
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
}

/// Static routes inside the cluster nodes.
fn nodes(v: &mut Validator) {
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
        if route.to.trunc() != route.to {
            v.report(
                FieldError::new(
                    format!("{path}.to"),
                    format!("{} is not a network address", route.to),
                )
                .help(format!("write {}", route.to.trunc())),
            );
        }
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

fn ip_number(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a).into(),
        IpAddr::V6(a) => a.into(),
    }
}

fn ranges_overlap(a: (IpAddr, IpAddr), b: (IpAddr, IpAddr)) -> bool {
    a.0.is_ipv4() == b.0.is_ipv4()
        && ip_number(a.0) <= ip_number(b.1)
        && ip_number(b.0) <= ip_number(a.1)
}

/// MetalLB: a cluster to run in, peers that are BGP routers, pools that parse and stay
/// clear of each other and of the lab networks, advertisements naming real pools.
fn metallb(v: &mut Validator) {
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

/// Which kind of check a `checks:` entry is, from the one kind key it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKindKey {
    Session,
    Route,
    KernelRoute,
    Bfd,
    Http,
    Ping,
    Service,
}

impl CheckKindKey {
    pub const ALL: [CheckKindKey; 7] = [
        CheckKindKey::Session,
        CheckKindKey::Route,
        CheckKindKey::KernelRoute,
        CheckKindKey::Bfd,
        CheckKindKey::Http,
        CheckKindKey::Ping,
        CheckKindKey::Service,
    ];

    pub fn key(self) -> &'static str {
        match self {
            CheckKindKey::Session => "session",
            CheckKindKey::Route => "route",
            CheckKindKey::KernelRoute => "kernel-route",
            CheckKindKey::Bfd => "bfd",
            CheckKindKey::Http => "http",
            CheckKindKey::Ping => "ping",
            CheckKindKey::Service => "service",
        }
    }

    /// Keys besides `name`, `timeout` and the kind key itself that this kind accepts.
    fn other_keys(self) -> &'static [&'static str] {
        match self {
            CheckKindKey::Session => &["router", "state"],
            CheckKindKey::Route => &[
                "router",
                "absent",
                "nexthops",
                "local-pref",
                "communities",
                "as-path",
            ],
            CheckKindKey::KernelRoute => &["router", "absent", "nexthops"],
            CheckKindKey::Bfd => &["router", "state"],
            CheckKindKey::Http => &["from", "status"],
            CheckKindKey::Ping => &["from"],
            CheckKindKey::Service => &["ip", "pool", "event"],
        }
    }

    /// The kinds whose key is present in a check.
    pub fn present_in(check: &CheckSpec) -> Vec<CheckKindKey> {
        let keys = written_check_keys(check);
        CheckKindKey::ALL
            .into_iter()
            .filter(|k| keys.contains(&k.key()))
            .collect()
    }
}

/// The keys a check entry sets (booleans count when true).
fn written_check_keys(c: &CheckSpec) -> Vec<&'static str> {
    [
        ("name", c.name.is_some()),
        ("timeout", c.timeout.is_some()),
        ("router", c.router.is_some()),
        ("from", c.from.is_some()),
        ("session", c.session.is_some()),
        ("state", c.state.is_some()),
        ("route", c.route.is_some()),
        ("kernel-route", c.kernel_route.is_some()),
        ("absent", c.absent),
        ("nexthops", c.nexthops.is_some()),
        ("local-pref", c.local_pref.is_some()),
        ("communities", c.communities.is_some()),
        ("as-path", c.as_path.is_some()),
        ("bfd", c.bfd.is_some()),
        ("http", c.http.is_some()),
        ("status", c.status.is_some()),
        ("ping", c.ping.is_some()),
        ("service", c.service.is_some()),
        ("ip", c.ip.is_some()),
        ("pool", c.pool.is_some()),
        ("event", c.event.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, set)| set.then_some(key))
    .collect()
}

/// Checks: one kind each, keys of that kind only, and everything they name exists.
fn checks(v: &mut Validator) {
    let t = v.topology;
    let mut names: HashMap<&str, String> = HashMap::new();
    for (i, check) in t.checks.iter().enumerate() {
        let path = format!("checks[{i}]");
        if let Some(name) = &check.name {
            match names.get(name.as_str()) {
                Some(first) => v.report(
                    FieldError::new(
                        format!("{path}.name"),
                        format!("check name `{name}` is used twice"),
                    )
                    .also(format!("{first}.name"), "first used here")
                    .help("check names identify results in reports; make them unique"),
                ),
                None => {
                    names.insert(name, path.clone());
                }
            }
        }
        if let Some(timeout) = &check.timeout {
            match humantime::parse_duration(timeout) {
                Ok(d) if d.is_zero() => v.report(
                    FieldError::new(format!("{path}.timeout"), "a timeout of 0 never passes")
                        .help("write e.g. `30s` or `2m`"),
                ),
                Ok(_) => {}
                Err(e) => v.report(
                    FieldError::new(
                        format!("{path}.timeout"),
                        format!("`{timeout}` is not a duration: {e}"),
                    )
                    .help("write e.g. `30s`, `2m` or `1m 30s`"),
                ),
            }
        }
        let kinds = CheckKindKey::present_in(check);
        let kind = match kinds.as_slice() {
            [kind] => *kind,
            [] => {
                let all: Vec<&str> = CheckKindKey::ALL.iter().map(|k| k.key()).collect();
                v.report(
                    FieldError::new(&path, "this check does not say what to check")
                        .help(format!("add exactly one of: {}", all.join(", "))),
                );
                continue;
            }
            [first, rest @ ..] => {
                let others: Vec<String> = rest.iter().map(|k| format!("`{}`", k.key())).collect();
                v.report(
                    FieldError::new(
                        format!("{path}.{}", rest[0].key()),
                        format!(
                            "a check has one kind, but this one has `{}` and {}",
                            first.key(),
                            others.join(", ")
                        ),
                    )
                    .help("split it into one check per kind"),
                );
                continue;
            }
        };
        for key in written_check_keys(check) {
            if key != "name"
                && key != "timeout"
                && key != kind.key()
                && !kind.other_keys().contains(&key)
            {
                v.report(
                    FieldError::new(
                        format!("{path}.{key}"),
                        format!("`{key}` does not apply to a {} check", kind.key()),
                    )
                    .help(format!(
                        "a {} check takes: {}",
                        kind.key(),
                        kind.other_keys().join(", ")
                    )),
                );
            }
        }
        match kind {
            CheckKindKey::Session
            | CheckKindKey::Route
            | CheckKindKey::KernelRoute
            | CheckKindKey::Bfd => router_check(v, &path, kind, check),
            CheckKindKey::Http | CheckKindKey::Ping => traffic_check(v, &path, kind, check),
            CheckKindKey::Service => service_check(v, &path, check),
        }
    }
}

/// Whether `router` has a session towards `target` (declared on either side).
fn has_session(t: &Topology, router: &str, target: Target) -> bool {
    let declares = |from: &str, to: &str| {
        t.routers
            .get(from)
            .is_some_and(|r| r.neighbors.iter().any(|n| n.to == to))
    };
    match target {
        Target::Router(peer) => declares(router, peer) || declares(peer, router),
        Target::Nodes => declares(router, super::target::NODES),
        Target::Address(ip) => declares(router, &ip.to_string()),
    }
}

/// Whether BFD runs on the session between `router` and `target`, or on any session of
/// `router` when `target` is None.
fn has_bfd_session(t: &Topology, router: &str, target: Option<Target>) -> bool {
    let bfd_towards = |from: &str, to: &dyn Fn(&str) -> bool| {
        t.routers.get(from).is_some_and(|r| {
            r.neighbors
                .iter()
                .any(|n| to(&n.to) && bfd_key(&n.bfd).is_some())
        })
    };
    match target {
        None => {
            bfd_towards(router, &|_| true)
                || t.routers
                    .keys()
                    .any(|other| bfd_towards(other, &|to| to == router))
        }
        Some(Target::Router(peer)) => {
            bfd_towards(router, &|to| to == peer) || bfd_towards(peer, &|to| to == router)
        }
        Some(Target::Nodes) => bfd_towards(router, &|to| to == super::target::NODES),
        Some(Target::Address(ip)) => bfd_towards(router, &|to| to.parse() == Ok(ip)),
    }
}

/// Session, route, kernel-route and BFD checks read one router's state.
fn router_check(v: &mut Validator, path: &str, kind: CheckKindKey, check: &CheckSpec) {
    let t = v.topology;
    let Some(name) = check.router.as_deref() else {
        v.report(
            FieldError::new(path, format!("a {} check needs `router:`", kind.key()))
                .help("name the router whose state is read"),
        );
        return;
    };
    let Some(router) = v.known_router(format!("{path}.router"), name) else {
        return;
    };
    let router_path = format!("{path}.router");
    match kind {
        CheckKindKey::KernelRoute if !router.kind.installs_kernel_routes() => v.report(
            FieldError::new(
                &router_path,
                format!(
                    "`{name}` is {}, which does not install learned routes into the kernel here",
                    router.kind
                ),
            )
            .help("check `route:` (the BGP table) on this router instead"),
        ),
        CheckKindKey::Session | CheckKindKey::Route | CheckKindKey::Bfd
            if !router.kind.speaks_bgp() =>
        {
            v.report(
                FieldError::new(
                    &router_path,
                    format!(
                        "`{name}` is a linux router: it has no BGP {}",
                        if kind == CheckKindKey::Route {
                            "table"
                        } else {
                            "sessions"
                        }
                    ),
                )
                .help(if kind == CheckKindKey::Route {
                    "use `kernel-route:` to check a linux router's routing table"
                } else {
                    "check a BGP router"
                }),
            )
        }
        CheckKindKey::Bfd if !router.kind.has_bfd() => v.report(
            FieldError::new(
                &router_path,
                format!("`{name}` is {}, which has no BFD", router.kind),
            )
            .help("check BFD on an frr or bird router"),
        ),
        CheckKindKey::Bfd if !has_bfd_session(t, name, None) => v.report(
            FieldError::new(&router_path, format!("`{name}` runs no BFD session"))
                .help("enable `bfd:` on one of its neighbors"),
        ),
        _ => {}
    }

    let (target_key, target) = match kind {
        CheckKindKey::Session => ("session", check.session.as_deref()),
        CheckKindKey::Bfd => ("bfd", check.bfd.as_deref()),
        _ => ("", None),
    };
    if let Some(target) = target {
        let target_path = format!("{path}.{target_key}");
        if check_target(v, &target_path, target) {
            let parsed = Target::parse(target);
            if Target::Router(name) == parsed {
                v.report(
                    FieldError::new(
                        &target_path,
                        format!("`{name}` cannot have a session with itself"),
                    )
                    .help("name its peer"),
                );
            } else if !has_session(t, name, parsed) {
                v.report(
                    FieldError::new(
                        &target_path,
                        format!("`{name}` has no session with `{target}`"),
                    )
                    .help(format!(
                        "add `{{ to: {target} }}` to `{name}`'s neighbors, or check another peer"
                    )),
                );
            } else if kind == CheckKindKey::Bfd
                && router.kind.has_bfd()
                && has_bfd_session(t, name, None)
                && !has_bfd_session(t, name, Some(parsed))
            {
                v.report(
                    FieldError::new(
                        &target_path,
                        format!("the session between `{name}` and `{target}` does not run BFD"),
                    )
                    .help("add `bfd: true` to that neighbor"),
                );
            }
        }
    }

    if let Some(state) = &check.state {
        let state_path = format!("{path}.state");
        match kind {
            CheckKindKey::Session if SessionState::parse(state).is_none() => v.report(
                FieldError::new(state_path, format!("`{state}` is not a BGP session state")).help(
                    "use established, idle, connect, active, opensent, openconfirm or admin-down",
                ),
            ),
            CheckKindKey::Bfd if BfdState::parse(state).is_none() => v.report(
                FieldError::new(state_path, format!("`{state}` is not a BFD state"))
                    .help("use up, down, init or admin-down"),
            ),
            _ => {}
        }
    }

    if let Some(nexthops) = &check.nexthops {
        let many = matches!(nexthops, OneOrMany::Many(_));
        for (j, item) in nexthops.items().into_iter().enumerate() {
            let item_path = if many {
                format!("{path}.nexthops[{j}]")
            } else {
                format!("{path}.nexthops")
            };
            check_target(v, &item_path, item);
        }
    }
    for (key, prefix) in [("route", check.route), ("kernel-route", check.kernel_route)] {
        if let Some(prefix) = prefix
            && prefix.trunc() != prefix
        {
            v.report(
                FieldError::new(
                    format!("{path}.{key}"),
                    format!("{prefix} is not a network address"),
                )
                .help(format!("write {}", prefix.trunc())),
            );
        }
    }
}

/// A router name, `nodes` (with a cluster) or an address. Returns whether it is usable.
fn check_target(v: &mut Validator, path: &str, text: &str) -> bool {
    match Target::parse(text) {
        Target::Address(_) => true,
        Target::Nodes if v.has_cluster() => true,
        Target::Nodes => {
            v.report(
                FieldError::new(path, "`nodes` needs a cluster")
                    .help("add `cluster:`, or name a router or an address"),
            );
            false
        }
        Target::Router(name) => {
            if v.topology.routers.contains_key(name) {
                return true;
            }
            let help = unknown_name_help("routers", name, v.router_names());
            v.report(
                FieldError::new(
                    path,
                    format!("`{name}` is neither a router, an IP address nor `nodes`"),
                )
                .help(help),
            );
            false
        }
    }
}

/// HTTP and ping checks send traffic from a router.
fn traffic_check(v: &mut Validator, path: &str, kind: CheckKindKey, check: &CheckSpec) {
    match check.from.as_deref() {
        None => v.report(
            FieldError::new(path, format!("a {} check needs `from:`", kind.key()))
                .help("name the router the traffic is sent from"),
        ),
        Some(from) => {
            v.known_router(format!("{path}.from"), from);
        }
    }
    if let Some(url) = &check.http
        && let Err(problem) = parse_http_url(url)
    {
        v.report(
            FieldError::new(
                format!("{path}.http"),
                format!("`{url}` is not a usable URL: {problem}"),
            )
            .help("write http://<address or router>[:port]/path"),
        );
    }
    if let Some(status) = check.status
        && !(100..=599).contains(&status)
    {
        v.report(
            FieldError::new(
                format!("{path}.status"),
                format!("{status} is not an HTTP status"),
            )
            .help("use 100–599, usually 200"),
        );
    }
    if let Some(target) = &check.ping {
        check_target_address(v, &format!("{path}.ping"), target);
    }
}

fn check_target_address(v: &mut Validator, path: &str, text: &str) {
    match Target::parse(text) {
        Target::Nodes => v.report(
            FieldError::new(path, "ping one address, not `nodes`")
                .help("name a router or an IP address"),
        ),
        Target::Router(_) | Target::Address(_) => {
            check_target(v, path, text);
        }
    }
}

/// `http://host[:port]/path` split into host, port and path.
pub fn parse_http_url(url: &str) -> Result<(&str, u16, &str), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| format!("`{port}` is not a port"))?,
        ),
        None => (authority, 80),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !host_ok {
        return Err(format!("`{host}` is not a host"));
    }
    if port == 0 {
        return Err("port 0 is not usable".to_string());
    }
    Ok((host, port, path))
}

/// Service checks: `namespace/name`, in a cluster, pools that exist.
fn service_check(v: &mut Validator, path: &str, check: &CheckSpec) {
    if !v.has_cluster() {
        v.report(
            FieldError::new(format!("{path}.service"), "a service check needs a cluster")
                .help("add `cluster:`, or remove this check"),
        );
    }
    if let Some(service) = &check.service {
        let valid = service
            .split_once('/')
            .is_some_and(|(ns, name)| is_dns_label(ns) && is_dns_label(name));
        if !valid {
            v.report(
                FieldError::new(
                    format!("{path}.service"),
                    format!("`{service}` is not `namespace/name`"),
                )
                .help("write e.g. `default/test-agnhost`"),
            );
        }
    }
    if let Some(pool) = &check.pool {
        let pools = v.topology.metallb.as_ref().map(|m| &m.pools);
        if !pools.is_some_and(|p| p.contains_key(pool)) {
            let help = unknown_name_help(
                "pools",
                pool,
                pools.into_iter().flat_map(|p| p.keys().map(String::as_str)),
            );
            v.report(
                FieldError::new(format!("{path}.pool"), format!("unknown pool `{pool}`"))
                    .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::topology::load::{parse, parse_and_validate};

    /// The rendered diagnostics of a file, as a user sees them (without colours).
    fn report(text: &str) -> String {
        match parse_and_validate("lab.yaml", text) {
            Ok(_) => panic!("expected errors"),
            Err(errors) => errors.render_plain(),
        }
    }

    /// (field path, message) of every validation error, in file order.
    fn errors(text: &str) -> Vec<(String, String)> {
        let topology = parse("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
        super::validate(&topology)
            .into_iter()
            .map(|e| (e.path, e.message))
            .collect()
    }

    fn paths(text: &str) -> Vec<String> {
        errors(text).into_iter().map(|(path, _)| path).collect()
    }

    const MANY_ERRORS: &str = "\
name: Bad_Lab
networks:
  lan: { subnet: 10.210.1.0/24 }
  wan: { subnet: 10.210.0.0/16 }
  tiny: { subnet: 10.211.0.1/30 }
routers:
  frr1:
    kind: frr
    interfaces: { lan: { ip: 10.210.2.5 } }
    routes: [{ to: 10.212.0.0/24, via: 10.99.0.1 }]
    neighbors:
      - { to: bird9 }
      - { to: host, bfd: fast }
  gobgp1:
    kind: gobgp
    asn: 64503
    interfaces: { lan: { ip: 10.210.1.1 } }
    neighbors: [{ to: frr1, bfd: true, hold-time: 2 }]
  host:
    kind: linux
    asn: 64999
    interfaces: {}
checks:
  - { router: frr1, session: bird9, state: up }
  - { router: gobgp1, kernel-route: 192.0.2.0/24 }
  - { router: frr1, route: 192.0.2.0/24, status: 200 }
  - { from: host, http: \"ftp://x/\", timeout: soon }
";

    #[test]
    fn a_file_with_many_errors_reports_all_of_them_with_line_and_column() {
        let rendered = report(MANY_ERRORS);
        insta::assert_snapshot!(rendered);
        let count = errors(MANY_ERRORS).len();
        assert!(count >= 15, "{count} errors");
        assert_eq!(rendered.matches("╭─[lab.yaml:").count(), count);
    }

    #[test]
    fn a_typo_in_a_key() {
        insta::assert_snapshot!(report(
            "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\nrouters:\n  frr1:\n    kind: frr\n    asn: 64500\n    interface: { lan: {} }\n"
        ));
    }

    #[test]
    fn a_wrong_type() {
        insta::assert_snapshot!(report(
            "name: lab\nrouters:\n  frr1:\n    kind: frr\n    asn: sixty-four\n"
        ));
    }

    #[test]
    fn a_duplicate_key() {
        insta::assert_snapshot!(report(
            "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\n  lan: { subnet: 10.210.2.0/24 }\n"
        ));
    }

    #[test]
    fn overlapping_subnets() {
        insta::assert_snapshot!(report(
            "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\n  big: { subnet: 10.210.0.0/16 }\n"
        ));
    }

    #[test]
    fn an_ip_outside_its_network() {
        insta::assert_snapshot!(report(
            "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\nrouters:\n  h1:\n    kind: linux\n    interfaces:\n      lan: { ip: 10.210.2.7 }\n"
        ));
    }

    #[test]
    fn unknown_routers_in_neighbors_and_checks() {
        insta::assert_snapshot!(report(
            "name: lab\nnetworks:\n  lan: {}\nrouters:\n  frr1:\n    kind: frr\n    asn: 64500\n    interfaces: { lan: {} }\n    neighbors: [{ to: brid1 }]\nchecks:\n  - { router: frr2, session: frr1 }\n"
        ));
    }

    #[test]
    fn an_unreachable_static_route_gateway() {
        insta::assert_snapshot!(report(
            "name: lab\nnetworks:\n  left: { subnet: 10.210.1.0/24 }\n  right: { subnet: 10.210.2.0/24 }\nrouters:\n  h1:\n    kind: linux\n    interfaces: { left: {} }\n    routes:\n      - { to: 10.210.2.0/24, via: 10.210.2.1 }\n"
        ));
    }

    const BASE: &str = "\
name: lab
networks:
  lan: { subnet: 10.210.1.0/24 }
  far: { subnet: 10.210.2.0/24 }
routers:
  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} } }
  bird1: { kind: bird, asn: 64502, interfaces: { lan: {} } }
  gobgp1: { kind: gobgp, asn: 64503, interfaces: { lan: {} } }
  remote: { kind: frr, asn: 64504, interfaces: { far: {} } }
  host: { kind: linux, interfaces: { lan: {} } }
";

    /// BASE plus extra YAML under `routers.<router>` keys merged by text: the extra text
    /// is appended at top level, so it can add `cluster:`, `metallb:`, `checks:`.
    fn with(extra: &str) -> String {
        format!("{BASE}{extra}")
    }

    fn with_router_neighbors(router_line: &str, extra: &str) -> String {
        let base: String = BASE
            .lines()
            .filter(|l| !l.starts_with(&router_line[..router_line.find(':').unwrap() + 1]))
            .map(|l| format!("{l}\n"))
            .collect();
        let base = base.replace("routers:\n", &format!("routers:\n{router_line}\n"));
        format!("{base}{extra}")
    }

    #[test]
    fn the_base_lab_is_valid() {
        assert_eq!(errors(BASE), vec![]);
    }

    #[test]
    fn names_must_be_dns_safe_and_fit_container_names() {
        let text = "name: lab\nnetworks:\n  LAN: {}\nrouters:\n  nodes: { kind: linux, interfaces: { LAN: {} } }\n";
        assert_eq!(paths(text), ["networks.LAN", "routers.nodes"]);
        let long = "a".repeat(50);
        let text = format!(
            "name: {long}\nnetworks:\n  lan: {{}}\nrouters:\n  router-name: {{ kind: linux, interfaces: {{ lan: {{}} }} }}\n"
        );
        let errors = errors(&text);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].1.contains("is 71 characters"), "{errors:?}");
    }

    #[test]
    fn subnets_must_be_network_addresses_of_usable_size() {
        let text = "name: lab\nnetworks:\n  a: { subnet: 10.210.1.5/24 }\n  b: { subnet: 10.210.2.0/30 }\n  c: { subnet: 10.210.3.0/24, gateway: 10.210.4.1 }\n  d: { gateway: 10.210.5.1 }\n  e: { subnet: 10.210.6.0/24, gateway: 10.210.6.255 }\n";
        assert_eq!(
            paths(text),
            [
                "networks.a.subnet",
                "networks.b.subnet",
                "networks.c.gateway",
                "networks.d.gateway",
                "networks.e.gateway"
            ]
        );
    }

    #[test]
    fn interface_addresses_must_be_hosts_of_their_network_and_unique() {
        let text = "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\n  auto: {}\nrouters:\n  a: { kind: linux, interfaces: { lan: { ip: 10.210.1.0 } } }\n  b: { kind: linux, interfaces: { lan: { ip: 10.210.1.1 } } }\n  c: { kind: linux, interfaces: { lan: { ip: 10.210.1.9 } } }\n  d: { kind: linux, interfaces: { lan: { ip: 10.210.1.9 } } }\n  e: { kind: linux, interfaces: { auto: { ip: 10.201.0.5 } } }\n  f: { kind: linux, interfaces: { nowhere: {} } }\n";
        let errors = errors(text);
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|(p, m)| (p.as_str(), m.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "routers.a.interfaces.lan.ip",
                    "10.210.1.0 is the network address of `lan`"
                ),
                (
                    "routers.b.interfaces.lan.ip",
                    "10.210.1.1 is the gateway of `lan` (the host's bridge owns it)"
                ),
                (
                    "routers.d.interfaces.lan.ip",
                    "10.210.1.9 is already used by another interface"
                ),
                (
                    "routers.e.interfaces.auto.ip",
                    "network `auto` has no subnet, so a fixed address cannot be placed in it"
                ),
                ("routers.f.interfaces.nowhere", "unknown network `nowhere`"),
            ]
        );
    }

    #[test]
    fn a_full_network_is_reported() {
        let routers: String = (0..6)
            .map(|i| format!("  h{i}: {{ kind: linux, interfaces: {{ lan: {{}} }} }}\n"))
            .collect();
        let text = format!(
            "name: lab\nnetworks:\n  lan: {{ subnet: 10.210.1.0/29 }}\nrouters:\n{routers}"
        );
        assert_eq!(
            errors(&text),
            [(
                "networks.lan".to_string(),
                "6 routers are connected to `lan` but it has room for 5".to_string()
            )]
        );
    }

    #[test]
    fn kinds_constrain_asn_and_bgp_settings() {
        let text = "name: lab\nnetworks:\n  lan: {}\nrouters:\n  frr1: { kind: frr, interfaces: { lan: {} } }\n  bird1: { kind: bird, asn: 0, interfaces: { lan: {} } }\n  host: { kind: linux, asn: 1, router-id: 1.1.1.1, announce: [192.0.2.0/24], neighbors: [{ to: frr1 }], interfaces: { lan: {} } }\n";
        assert_eq!(
            paths(text),
            [
                "routers.frr1.asn",
                "routers.bird1.asn",
                "routers.host.asn",
                "routers.host.router-id",
                "routers.host.neighbors",
                "routers.host.announce"
            ]
        );
    }

    #[test]
    fn router_ids_and_announced_prefixes_are_checked() {
        let text = with_router_neighbors(
            "  frr1: { kind: frr, asn: 64501, router-id: 0.0.0.0, announce: [192.0.2.1/24], interfaces: { lan: {} } }",
            "",
        );
        assert_eq!(
            paths(&text),
            ["routers.frr1.router-id", "routers.frr1.announce[0]"]
        );
    }

    #[test]
    fn neighbors_must_name_bgp_routers_other_than_themselves() {
        let text = with_router_neighbors(
            "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: frr1 }, { to: host }, { to: bird1 }, { to: bird1 }, { to: bird1x }] }",
            "",
        );
        assert_eq!(
            paths(&text),
            [
                "routers.frr1.neighbors[0].to",
                "routers.frr1.neighbors[1].to",
                "routers.frr1.neighbors[3].to",
                "routers.frr1.neighbors[4].to"
            ]
        );
    }

    #[test]
    fn sessions_need_a_shared_network_or_multihop() {
        let text = with_router_neighbors(
            "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: remote }] }",
            "",
        );
        assert_eq!(
            errors(&text),
            [(
                "routers.frr1.neighbors[0].to".to_string(),
                "`frr1` and `remote` share no network".to_string()
            )]
        );
        let text = with_router_neighbors(
            "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: remote, multihop: 2 }] }",
            "",
        );
        assert_eq!(errors(&text), vec![]);
    }

    #[test]
    fn nodes_and_address_neighbors_need_what_they_cannot_infer() {
        let text = with_router_neighbors(
            "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: nodes }, { to: 10.210.1.77 }] }",
            "",
        );
        assert_eq!(
            paths(&text),
            [
                "routers.frr1.neighbors[0].to",
                "routers.frr1.neighbors[0].asn",
                "routers.frr1.neighbors[1].asn"
            ]
        );
    }

    #[test]
    fn bfd_needs_daemons_that_have_it_and_known_profiles() {
        let text = with_router_neighbors(
            "  gobgp1: { kind: gobgp, asn: 64503, interfaces: { lan: {} }, neighbors: [{ to: bird1, bfd: true }] }",
            "",
        );
        let errors = errors(&text);
        assert_eq!(
            errors[0],
            (
                "routers.gobgp1.neighbors[0].bfd".to_string(),
                "gobgp has no BFD implementation".to_string()
            )
        );
        let text = with_router_neighbors(
            "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: gobgp1, bfd: true }, { to: bird1, bfd: slow }] }",
            "",
        );
        assert_eq!(
            paths(&text),
            [
                "routers.frr1.neighbors[0].bfd",
                "routers.frr1.neighbors[1].bfd"
            ]
        );
    }

    #[test]
    fn bfd_profiles_stay_in_metallb_ranges() {
        let text = with(
            "cluster: { provider: kind }\nmetallb:\n  asn: 64500\n  bfd-profiles:\n    fast: { receive-interval: 5, transmit-interval: 60001, detect-multiplier: 1, echo-interval: 10, minimum-ttl: 255 }\n",
        );
        assert_eq!(
            paths(&text),
            [
                "metallb.bfd-profiles.fast.receive-interval",
                "metallb.bfd-profiles.fast.transmit-interval",
                "metallb.bfd-profiles.fast.detect-multiplier",
                "metallb.bfd-profiles.fast.minimum-ttl"
            ]
        );
    }

    #[test]
    fn a_session_declared_on_both_sides_must_agree() {
        let text = "name: lab\nnetworks:\n  lan: {}\nrouters:\n  a: { kind: frr, asn: 1, interfaces: { lan: {} }, neighbors: [{ to: b, password: x, passive: true, hold-time: 9, multihop: true }] }\n  b: { kind: bird, asn: 2, interfaces: { lan: {} }, neighbors: [{ to: a, password: y, passive: true, hold-time: 10, multihop: 3, bfd: true }] }\n";
        assert_eq!(
            paths(text),
            [
                "routers.b.neighbors[0].multihop",
                "routers.b.neighbors[0].password",
                "routers.b.neighbors[0].hold-time",
                "routers.b.neighbors[0].passive"
            ]
        );
    }

    #[test]
    fn neighbor_values_are_range_checked() {
        let text = with_router_neighbors(
            "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: bird1, hold-time: 2, multihop: 0, asn: 64599, source: 10.9.9.9 }] }",
            "",
        );
        assert_eq!(
            paths(&text),
            [
                "routers.frr1.neighbors[0].multihop",
                "routers.frr1.neighbors[0].hold-time",
                "routers.frr1.neighbors[0].source",
                "routers.frr1.neighbors[0].asn"
            ]
        );
    }

    #[test]
    fn checks_have_exactly_one_kind_and_only_its_keys() {
        let text = with(
            "checks:\n  - { router: frr1 }\n  - { router: frr1, session: bird1, route: 192.0.2.0/24 }\n  - { router: frr1, session: bird1, absent: true, from: host }\n",
        );
        // checks[2] also names a session frr1 does not have.
        assert_eq!(
            paths(&text),
            [
                "checks[0]",
                "checks[1].route",
                "checks[2].from",
                "checks[2].absent",
                "checks[2].session"
            ]
        );
    }

    #[test]
    fn checks_match_what_the_routers_can_report() {
        let text = with(
            "checks:\n  - { router: gobgp1, kernel-route: 192.0.2.0/24 }\n  - { router: bird1, bfd: frr1 }\n  - { router: host, route: 192.0.2.0/24 }\n  - { router: frr1, session: remote }\n  - { router: frr1, session: bird1, state: up }\n",
        );
        let text = text.replace(
            "bird1: { kind: bird, asn: 64502, interfaces: { lan: {} } }",
            "bird1: { kind: bird, asn: 64502, interfaces: { lan: {} }, neighbors: [{ to: frr1 }] }",
        );
        assert_eq!(
            paths(&text),
            [
                "checks[0].router",
                "checks[1].router",
                "checks[2].router",
                "checks[3].session",
                "checks[4].state"
            ]
        );
    }

    #[test]
    fn check_values_parse() {
        let text = with(
            "checks:\n  - { router: frr1, route: 192.0.2.0/24, nexthops: [bird1, nodes, frr9], timeout: 5 parsecs }\n  - { from: host, http: \"http://server:99999/\" }\n  - { from: hostx, ping: 10.210.1.2 }\n  - { service: default }\n",
        );
        assert_eq!(
            paths(&text),
            [
                "checks[0].timeout",
                "checks[0].nexthops[1]",
                "checks[0].nexthops[2]",
                "checks[1].http",
                "checks[2].from",
                "checks[3].service",
                "checks[3].service"
            ]
        );
    }

    #[test]
    fn cluster_fields_belong_to_their_provider() {
        let text = with(
            "cluster: { provider: kind, kubeconfig: ~/.kube/config, network: nowhere, control-planes: 0 }\n",
        );
        assert_eq!(
            paths(&text),
            [
                "cluster.kubeconfig",
                "cluster.control-planes",
                "cluster.network"
            ]
        );
        let text = with("cluster: { provider: existing, kubeconfig: k, context: c, workers: 2 }\n");
        assert_eq!(paths(&text), ["cluster.workers"]);
    }

    #[test]
    fn node_routes_need_a_cluster_and_a_reachable_gateway() {
        assert_eq!(
            paths(&with(
                "nodes: { routes: [{ to: 10.0.0.0/8, via: 10.210.1.2 }] }\n"
            )),
            ["nodes"]
        );
        let text = with(
            "cluster: { network: lan }\nnodes: { routes: [{ to: 10.210.2.0/24, via: 10.210.2.2 }] }\n",
        );
        assert_eq!(paths(&text), ["nodes.routes[0].via"]);
    }

    #[test]
    fn metallb_peers_pools_and_advertisements() {
        let text = with(
            "cluster: { network: lan }\nmetallb:\n  asn: 64500\n  peers: [{ router: host }, { router: gobgp1, bfd: fast }, { router: nobody }]\n  pools:\n    a: { addresses: [203.0.113.0/28] }\n    b: { addresses: [203.0.113.10-203.0.113.20, 10.210.1.100/32, 203.0.113.9-203.0.113.1, bogus] }\n  advertisements: [{ pools: [a, c] }]\n",
        );
        assert_eq!(
            paths(&text),
            [
                "metallb.peers[0].router",
                "metallb.peers[1].bfd",
                "metallb.peers[1].bfd",
                "metallb.peers[2].router",
                "metallb.pools.b.addresses[0]",
                "metallb.pools.b.addresses[1]",
                "metallb.pools.b.addresses[2]",
                "metallb.pools.b.addresses[3]",
                "metallb.advertisements[0].pools[1]"
            ]
        );
    }

    #[test]
    fn metallb_needs_a_cluster() {
        assert_eq!(paths(&with("metallb: { asn: 64500 }\n")), ["metallb"]);
    }

    #[test]
    fn pool_ranges_parse() {
        use super::parse_pool_range;
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
    fn http_urls_parse() {
        use super::parse_http_url;
        assert_eq!(
            parse_http_url("http://10.0.0.1/").unwrap(),
            ("10.0.0.1", 80, "/")
        );
        assert_eq!(
            parse_http_url("http://server:8080").unwrap(),
            ("server", 8080, "/")
        );
        assert!(parse_http_url("https://x/").is_err());
        assert!(parse_http_url("http://:80/").is_err());
    }
}
