//! Topology → plan: every name, address, session and check decided, purely.
//!
//! Input is a *validated* topology (`topology::validate` returned no errors); the builder
//! relies on that (every referenced network and router exists, ASNs are set, subnets are
//! IPv4 and have room) and does not re-check it.

use super::model::*;
use crate::state::{BfdState, SessionState};
use crate::topology::model::{
    BfdSetting, CheckSpec, Multihop, NeighborSpec, RouterSpec, Topology, node_address_range,
};
use crate::topology::target::Target;
use crate::topology::validate::{CheckKindKey, parse_http_url};
use ipnet::{IpNet, Ipv4Net};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

pub use crate::topology::model::SUBNET_POOL;

/// The plan of a loaded topology file (or built-in).
pub fn from_loaded(loaded: &crate::topology::load::LoadedTopology) -> Plan {
    build(
        &loaded.topology,
        &loaded.origin.source_label(),
        &loaded.base_dir,
    )
}
const ALLOCATED_PREFIX: u8 = 24;

/// The image tag of metallab's own router image for a kind; the engine swaps the
/// `latest` placeholder for the content-hashed tag it builds.
pub fn builtin_image(kind: crate::topology::model::RouterKind) -> String {
    format!("metallab/{kind}:latest")
}

/// Builds the plan of a validated topology. `source` is where it came from (a path or
/// `builtin:<name>`); app manifests are resolved against `base_dir`.
pub fn build(topology: &Topology, source: &str, base_dir: &Path) -> Plan {
    let networks = plan_networks(topology);
    let mut routers: Vec<PlannedRouter> = topology
        .routers
        .iter()
        .map(|(name, spec)| plan_router(topology, &networks, name, spec))
        .collect();
    super::service_address::add_service_interfaces(&topology.name, &mut routers);
    allocate_addresses(topology, &networks, &mut routers);
    for router in &mut routers {
        if router.router_id.is_unspecified() {
            router.router_id = first_ipv4(router).unwrap_or(Ipv4Addr::UNSPECIFIED);
        }
    }
    let sessions: Vec<_> = routers
        .iter()
        .map(|r| plan_sessions(topology, &routers, &r.name))
        .collect();
    for (router, (sessions, templates)) in routers.iter_mut().zip(sessions) {
        router.sessions = sessions;
        router.node_sessions = templates;
    }
    let checks = plan_checks(topology, &routers);
    Plan {
        lab: topology.name.clone(),
        source: source.to_string(),
        networks,
        routers,
        checks,
        cluster: topology.cluster.clone(),
        nodes: topology.nodes.clone(),
        metallb: topology.metallb.clone(),
        apps: topology.apps.iter().map(|a| base_dir.join(a)).collect(),
        cluster_nodes: Vec::new(),
    }
}

fn docker_network_name(lab: &str, network: &str) -> String {
    format!("metallab-{lab}-{network}")
}

/// Subnets as written, or free /24s from [`SUBNET_POOL`] avoiding every written subnet;
/// gateway as written or the first host.
fn plan_networks(t: &Topology) -> Vec<PlannedNetwork> {
    let node_network = t
        .cluster
        .as_ref()
        .filter(|c| c.creates_nodes())
        .and_then(|_| t.node_network());
    // kind and Minikube nodes need a network even when the file names none.
    let mut specs = t.networks.clone();
    if let Some(name) = node_network {
        specs.entry(name.to_string()).or_default();
    }
    let written: Vec<Ipv4Net> = specs
        .values()
        .filter_map(|n| match n.subnet {
            Some(IpNet::V4(s)) => Some(s.trunc()),
            _ => None,
        })
        .collect();
    let mut free = SUBNET_POOL
        .subnets(ALLOCATED_PREFIX)
        .expect("the allocation prefix fits in the pool")
        .filter(move |candidate| {
            !written
                .iter()
                .any(|s| s.contains(&candidate.network()) || candidate.contains(&s.network()))
        });
    specs
        .iter()
        .map(|(name, spec)| {
            let (subnet, allocated) = match spec.subnet {
                Some(IpNet::V4(s)) => (s.trunc(), false),
                _ => (
                    free.next()
                        .expect("validation ensures a free subnet is left"),
                    true,
                ),
            };
            let gateway = match spec.gateway {
                Some(IpAddr::V4(g)) => g,
                _ => subnet.hosts().next().expect("lab subnets have hosts"),
            };
            let holds_nodes = node_network == Some(name.as_str());
            PlannedNetwork {
                name: name.clone(),
                docker_name: docker_network_name(&t.name, name),
                subnet,
                gateway,
                // kind publishes the API server's port and the nodes pull MetalLB's images:
                // neither works on an internal network (validation rejects `internal: true`).
                internal: spec.internal.unwrap_or(!holds_nodes),
                subnet_allocated: allocated,
                node_range: holds_nodes.then(|| node_address_range(subnet)),
            }
        })
        .collect()
}

/// A router with its written addresses; missing ones are filled by [`allocate_addresses`]
/// and its sessions by [`plan_sessions`].
fn plan_router(
    t: &Topology,
    networks: &[PlannedNetwork],
    name: &str,
    spec: &RouterSpec,
) -> PlannedRouter {
    let interfaces = spec
        .interfaces
        .iter()
        .map(|(network, iface)| {
            let planned = networks
                .iter()
                .find(|n| &n.name == network)
                .expect("validated: interfaces name existing networks");
            PlannedInterface {
                network: network.clone(),
                docker_network: planned.docker_name.clone(),
                ip: iface.ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                prefix_len: planned.subnet.prefix_len(),
            }
        })
        .collect();
    PlannedRouter {
        name: name.to_string(),
        container: Plan::container_name(&t.name, name),
        kind: spec.kind,
        image: spec
            .image
            .clone()
            .unwrap_or_else(|| builtin_image(spec.kind)),
        builtin_image: spec.image.is_none(),
        asn: spec.asn,
        router_id: spec.router_id.unwrap_or(Ipv4Addr::UNSPECIFIED),
        interfaces,
        routes: spec
            .routes
            .iter()
            .map(|r| StaticRoute {
                to: r.to,
                via: r.via,
            })
            .collect(),
        forward: spec.forward,
        sessions: Vec::new(),
        node_sessions: Vec::new(),
        announce: spec.announce.clone(),
        transit: spec.transit,
        http_server: spec.http_server,
        exec: spec.exec.clone(),
        placement: spec.placement.unwrap_or_default(),
    }
}

/// The addresses a multi-node Minikube cluster gives its nodes on `network`: the gateway's
/// next ones, one per node, whatever Docker's IP range says (minikube#18567). Empty for
/// anything else (single-node Minikube takes `--static-ip` from the node range).
fn minikube_node_addresses(t: &Topology, network: &PlannedNetwork) -> Vec<Ipv4Addr> {
    match t.cluster.as_ref().and_then(|c| c.minikube_multi_node()) {
        Some(count) if t.node_network() == Some(network.name.as_str()) => {
            crate::topology::model::addresses_after_gateway(network.gateway, count)
        }
        _ => vec![],
    }
}

/// Interfaces without an address get the lowest free host address of their network,
/// from .2 upward, skipping the gateway, every address written in the file and the
/// addresses cluster nodes take.
fn allocate_addresses(t: &Topology, networks: &[PlannedNetwork], routers: &mut [PlannedRouter]) {
    let written: HashSet<IpAddr> = t
        .routers
        .values()
        .flat_map(|r| r.interfaces.values().filter_map(|i| i.ip))
        .collect();
    for network in networks {
        let nodes = minikube_node_addresses(t, network);
        let mut free = network
            .subnet
            .hosts()
            .skip(1) // .1 is the usual gateway and stays free even when another one is set
            .filter(|ip| *ip != network.gateway && !written.contains(&IpAddr::V4(*ip)))
            .filter(|ip| !network.node_range.is_some_and(|r| r.contains(ip)))
            .filter(|ip| !nodes.contains(ip));
        for router in routers.iter_mut() {
            for iface in &mut router.interfaces {
                if iface.network == network.name && iface.ip.is_unspecified() {
                    let ip = free.next().expect("validated: the network has room");
                    iface.ip = IpAddr::V4(ip);
                }
            }
        }
    }
}

fn first_ipv4(router: &PlannedRouter) -> Option<Ipv4Addr> {
    router.interfaces.iter().find_map(|i| match i.ip {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    })
}

/// The neighbor entry `from` declares towards `to`, if any.
fn declaration<'t>(t: &'t Topology, from: &str, to: &str) -> Option<&'t NeighborSpec> {
    t.routers.get(from)?.neighbors.iter().find(|n| n.to == to)
}

fn bfd_timers(t: &Topology, setting: &Option<BfdSetting>) -> Option<BfdTimers> {
    let defaults = BfdTimers::default();
    match setting {
        None | Some(BfdSetting::Enabled(false)) => None,
        Some(BfdSetting::Enabled(true)) => Some(defaults),
        Some(BfdSetting::Profile(name)) => {
            let profile = t.metallb.as_ref()?.bfd_profiles.get(name)?;
            Some(BfdTimers {
                receive_interval_ms: profile
                    .receive_interval
                    .unwrap_or(defaults.receive_interval_ms),
                transmit_interval_ms: profile
                    .transmit_interval
                    .unwrap_or(defaults.transmit_interval_ms),
                detect_multiplier: profile
                    .detect_multiplier
                    .unwrap_or(defaults.detect_multiplier),
            })
        }
    }
}

pub use super::model::session_id;

fn planned<'p>(routers: &'p [PlannedRouter], name: &str) -> &'p PlannedRouter {
    routers
        .iter()
        .find(|r| r.name == name)
        .expect("validated: routers exist")
}

/// The sessions of one router: its own neighbors in order, then sessions other routers
/// declared towards it (mirrored), in file order; plus templates for `to: nodes`.
fn plan_sessions(
    t: &Topology,
    routers: &[PlannedRouter],
    name: &str,
) -> (Vec<PlannedSession>, Vec<SessionTemplate>) {
    let spec = &t.routers[name];
    let me = planned(routers, name);
    let mut sessions = Vec::new();
    let mut templates = Vec::new();
    for neighbor in &spec.neighbors {
        match Target::parse(&neighbor.to) {
            Target::Router(peer) => sessions.push(router_session(t, routers, name, peer)),
            Target::Address(ip) => sessions.push(external_session(t, me, neighbor, ip)),
            Target::Nodes => templates.push(node_template(t, me, neighbor)),
        }
    }
    for (other, other_spec) in &t.routers {
        if other != name
            && other_spec.neighbors.iter().any(|n| n.to == name)
            && declaration(t, name, other).is_none()
        {
            sessions.push(router_session(t, routers, name, other));
        }
    }
    (sessions, templates)
}

/// One side of a router-to-router session, merged from both sides' declarations.
fn router_session(t: &Topology, routers: &[PlannedRouter], me: &str, peer: &str) -> PlannedSession {
    let mine = declaration(t, me, peer);
    let theirs = declaration(t, peer, me);
    let (local_address, peer_address) = session_addresses(t, routers, me, peer);
    PlannedSession {
        peer: PeerRef::Router(peer.to_string()),
        id: session_id(peer),
        local_address,
        peer_address,
        local_asn: t.routers[me]
            .asn
            .expect("validated: BGP routers have an ASN"),
        peer_asn: mine
            .and_then(|n| n.asn)
            .or(t.routers[peer].asn)
            .expect("validated: BGP routers have an ASN"),
        multihop: either(mine, theirs, |n| n.multihop.and_then(Multihop::ttl)),
        bfd: mine
            .filter(|n| n.bfd.is_some())
            .or(theirs)
            .and_then(|n| bfd_timers(t, &n.bfd)),
        password: either(mine, theirs, |n| n.password.clone()),
        // Passive is one-sided: the mirrored side keeps connecting.
        passive: mine.is_some_and(|n| n.passive),
        hold_time: either(mine, theirs, |n| n.hold_time).or(Some(DEFAULT_HOLD_TIME)),
    }
}

/// A setting from my declaration, else from the peer's (validation rejects conflicts).
fn either<T>(
    mine: Option<&NeighborSpec>,
    theirs: Option<&NeighborSpec>,
    setting: impl Fn(&NeighborSpec) -> Option<T>,
) -> Option<T> {
    mine.and_then(&setting)
        .or_else(|| theirs.and_then(&setting))
}

/// Both ends' addresses of a router-to-router session, decided once per pair so both
/// sides agree: the declaring router's interface order picks the shared network (the
/// first in the file when both declare); `source` overrides; without a shared network
/// (multihop) each side uses its first interface.
fn session_addresses(
    t: &Topology,
    routers: &[PlannedRouter],
    me: &str,
    peer: &str,
) -> (IpAddr, IpAddr) {
    let position = |name: &str| t.routers.get_index_of(name);
    let i_declare = declaration(t, me, peer).is_some();
    let they_declare = declaration(t, peer, me).is_some();
    let i_lead = i_declare && (!they_declare || position(me) < position(peer));
    if i_lead {
        addresses_led_by(t, routers, me, peer)
    } else {
        let (theirs, mine) = addresses_led_by(t, routers, peer, me);
        (mine, theirs)
    }
}

fn addresses_led_by(
    t: &Topology,
    routers: &[PlannedRouter],
    lead: &str,
    other: &str,
) -> (IpAddr, IpAddr) {
    let (a, b) = (planned(routers, lead), planned(routers, other));
    let source_a = declaration(t, lead, other).and_then(|n| n.source);
    let source_b = declaration(t, other, lead).and_then(|n| n.source);
    let network_of = |r: &PlannedRouter, ip: IpAddr| {
        r.interfaces
            .iter()
            .find(|i| i.ip == ip)
            .map(|i| i.network.clone())
    };
    let network = source_a
        .and_then(|ip| network_of(a, ip))
        .filter(|n| b.ip_on(n).is_some())
        .or_else(|| {
            source_b
                .and_then(|ip| network_of(b, ip))
                .filter(|n| a.ip_on(n).is_some())
        })
        .or_else(|| {
            a.interfaces
                .iter()
                .map(|i| i.network.clone())
                .find(|n| b.ip_on(n).is_some())
        });
    let address = |r: &PlannedRouter, source: Option<IpAddr>| {
        source
            .or_else(|| network.as_deref().and_then(|n| r.ip_on(n)))
            .unwrap_or(r.interfaces[0].ip)
    };
    (address(a, source_a), address(b, source_b))
}

fn external_session(
    t: &Topology,
    me: &PlannedRouter,
    neighbor: &NeighborSpec,
    ip: IpAddr,
) -> PlannedSession {
    let on_same_network = me
        .interfaces
        .iter()
        .find(|i| IpNet::new(i.ip, i.prefix_len).is_ok_and(|net| net.contains(&ip)))
        .map(|i| i.ip);
    PlannedSession {
        peer: PeerRef::External,
        id: format!("peer_{}", session_id(&ip.to_string())),
        local_address: neighbor
            .source
            .or(on_same_network)
            .unwrap_or(me.interfaces[0].ip),
        peer_address: ip,
        local_asn: me.asn.expect("validated: BGP routers have an ASN"),
        peer_asn: neighbor
            .asn
            .expect("validated: address neighbors have an ASN"),
        multihop: neighbor.multihop.and_then(Multihop::ttl),
        bfd: bfd_timers(t, &neighbor.bfd),
        password: neighbor.password.clone(),
        passive: neighbor.passive,
        hold_time: neighbor.hold_time.or(Some(DEFAULT_HOLD_TIME)),
    }
}

fn node_template(t: &Topology, me: &PlannedRouter, neighbor: &NeighborSpec) -> SessionTemplate {
    let node_network = t.node_network();
    SessionTemplate {
        local_address: neighbor
            .source
            .or_else(|| node_network.and_then(|n| me.ip_on(n)))
            .unwrap_or(me.interfaces[0].ip),
        local_asn: me.asn.expect("validated: BGP routers have an ASN"),
        peer_asn: neighbor
            .asn
            .or(t.metallb.as_ref().map(|m| m.asn))
            .expect("validated: the nodes' ASN is known"),
        multihop: neighbor.multihop.and_then(Multihop::ttl),
        bfd: bfd_timers(t, &neighbor.bfd),
        password: neighbor.password.clone(),
        passive: neighbor.passive,
        hold_time: neighbor.hold_time.or(Some(DEFAULT_HOLD_TIME)),
    }
}

/// The address `from` uses to reach router `target`: its session peer address if they
/// have a session, else the target's address on a network they share (in `from`'s
/// interface order), else the target's first address.
pub fn address_seen_from(routers: &[PlannedRouter], from: &str, target: &str) -> IpAddr {
    let target_router = planned(routers, target);
    let Some(from_router) = routers.iter().find(|r| r.name == from) else {
        return target_router.interfaces[0].ip;
    };
    if let Some(session) = from_router
        .sessions
        .iter()
        .find(|s| s.peer == PeerRef::Router(target.to_string()))
    {
        return session.peer_address;
    }
    from_router
        .interfaces
        .iter()
        .find_map(|i| target_router.ip_on(&i.network))
        .unwrap_or(target_router.interfaces[0].ip)
}

fn expected(routers: &[PlannedRouter], from: &str, text: &str) -> Expected {
    match Target::parse(text) {
        Target::Nodes => Expected::Nodes,
        Target::Address(ip) => Expected::Address(ip),
        Target::Router(name) => Expected::Address(address_seen_from(routers, from, name)),
    }
}

fn plan_checks(t: &Topology, routers: &[PlannedRouter]) -> Vec<PlannedCheck> {
    let mut used: HashSet<String> = t.checks.iter().filter_map(|c| c.name.clone()).collect();
    t.checks
        .iter()
        .map(|check| {
            let (kind, generated) = plan_check(routers, check);
            let name = check
                .name
                .clone()
                .unwrap_or_else(|| unique(&mut used, generated));
            let timeout = check
                .timeout
                .as_deref()
                .and_then(|d| humantime::parse_duration(d).ok())
                .unwrap_or(DEFAULT_CHECK_TIMEOUT);
            PlannedCheck {
                name,
                timeout,
                kind,
            }
        })
        .collect()
}

/// `name`, or `name #2`, `name #3`… when it is taken.
fn unique(used: &mut HashSet<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{name} #{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

/// The check and a readable generated name for it.
fn plan_check(routers: &[PlannedRouter], check: &CheckSpec) -> (CheckKind, String) {
    let kind = CheckKindKey::present_in(check)
        .first()
        .copied()
        .expect("validated: a check has one kind");
    let router = check.router.clone().unwrap_or_default();
    let from = check.from.clone().unwrap_or_default();
    let via = |nexthops: &Option<crate::topology::model::OneOrMany>| {
        nexthops
            .as_ref()
            .map(|n| format!(" via {}", n.items().join(", ")))
            .unwrap_or_default()
    };
    let nexthops = check.nexthops.as_ref().map(|n| {
        n.items()
            .into_iter()
            .map(|item| expected(routers, &router, item))
            .collect()
    });
    match kind {
        CheckKindKey::Session => {
            let target = check.session.clone().unwrap_or_default();
            let state = check
                .state
                .as_deref()
                .and_then(SessionState::parse)
                .unwrap_or(SessionState::Established);
            let name = format!("{router} session to {target} {state}");
            let peers = vec![expected(routers, &router, &target)];
            (
                CheckKind::Session {
                    router,
                    peers,
                    state,
                },
                name,
            )
        }
        CheckKindKey::Bfd => {
            let target = check.bfd.clone().unwrap_or_default();
            let state = check
                .state
                .as_deref()
                .and_then(BfdState::parse)
                .unwrap_or(BfdState::Up);
            let name = format!("{router} bfd to {target} {state}");
            let peers = vec![expected(routers, &router, &target)];
            (
                CheckKind::Bfd {
                    router,
                    peers,
                    state,
                },
                name,
            )
        }
        CheckKindKey::Route | CheckKindKey::KernelRoute => {
            let (prefix, label) = match kind {
                CheckKindKey::Route => (check.route, "route"),
                _ => (check.kernel_route, "kernel route"),
            };
            let prefix = prefix.expect("the kind key is present");
            let name = if check.absent {
                format!("{router} {label} {prefix} absent")
            } else {
                format!("{router} {label} {prefix}{}", via(&check.nexthops))
            };
            let present = !check.absent;
            let kind = if kind == CheckKindKey::Route {
                CheckKind::Route {
                    router,
                    prefix,
                    present,
                    nexthops,
                    local_pref: check.local_pref,
                    communities: check.communities.clone(),
                    as_path: check.as_path.clone(),
                }
            } else {
                CheckKind::KernelRoute {
                    router,
                    prefix,
                    present,
                    nexthops,
                }
            };
            (kind, name)
        }
        CheckKindKey::Http => {
            let written = check.http.clone().unwrap_or_default();
            let url = url_with_router_resolved(routers, &from, &written);
            let status = check.status.unwrap_or(200);
            let name = format!("{from} http {written} status {status}");
            (CheckKind::Http { from, url, status }, name)
        }
        CheckKindKey::Ping => {
            let written = check.ping.clone().unwrap_or_default();
            let target = match expected(routers, &from, &written) {
                Expected::Address(ip) => ip,
                Expected::Nodes => unreachable!("validated: ping targets one address"),
            };
            let name = format!("{from} ping {written}");
            (CheckKind::Ping { from, target }, name)
        }
        CheckKindKey::Service => {
            let service = check.service.clone().unwrap_or_default();
            let (namespace, name) = service
                .split_once('/')
                .map(|(ns, n)| (ns.to_string(), n.to_string()))
                .unwrap_or_default();
            let mut title = format!("service {service}");
            if let Some(ip) = check.ip {
                title.push_str(&format!(" ip {ip}"));
            }
            if let Some(pool) = &check.pool {
                title.push_str(&format!(" in pool {pool}"));
            }
            let kind = CheckKind::Service {
                namespace,
                name,
                ip: check.ip,
                pool: check.pool.clone(),
                event: check.event.clone(),
            };
            (kind, title)
        }
    }
}

/// `http://server/` from `client` → `http://<server's address seen from client>/`.
fn url_with_router_resolved(routers: &[PlannedRouter], from: &str, url: &str) -> String {
    let Ok((host, _, _)) = parse_http_url(url) else {
        return url.to_string();
    };
    match Target::parse(host) {
        Target::Router(name) if routers.iter().any(|r| r.name == name) => {
            let ip = address_seen_from(routers, from, name);
            let rest = &url["http://".len() + host.len()..];
            format!("http://{ip}{rest}")
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::builtin;
    use crate::topology::load::parse_and_validate;
    use std::path::PathBuf;

    fn plan(text: &str) -> Plan {
        let topology =
            parse_and_validate("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
        build(&topology, "/labs/lab.yaml", Path::new("/labs"))
    }

    fn builtin_plan(name: &str) -> Plan {
        let builtin = builtin::get(name).unwrap();
        build(
            &builtin.topology(),
            &builtin.source_label(),
            Path::new("/labs"),
        )
    }

    #[test]
    fn plan_of_builtin_interop() {
        insta::assert_yaml_snapshot!(builtin_plan("interop"));
    }

    #[test]
    fn plan_of_builtin_next_hop() {
        insta::assert_yaml_snapshot!(builtin_plan("next-hop"));
    }

    #[test]
    fn plan_of_builtin_in_cluster() {
        insta::assert_yaml_snapshot!(builtin_plan("in-cluster"));
    }

    #[test]
    fn plan_of_builtin_bgp() {
        insta::assert_yaml_snapshot!(builtin_plan("bgp"));
    }

    #[test]
    fn plan_of_builtin_bfd_next_hop() {
        insta::assert_yaml_snapshot!(builtin_plan("bfd-next-hop"));
    }

    #[test]
    fn plan_of_builtin_minikube_legacy() {
        insta::assert_yaml_snapshot!(builtin_plan("minikube-legacy"));
    }

    #[test]
    fn plan_of_builtin_multinode_traffic() {
        insta::assert_yaml_snapshot!(builtin_plan("multinode-traffic"));
    }

    #[test]
    fn plan_of_builtin_scale_20() {
        insta::assert_yaml_snapshot!(builtin_plan("scale-20"));
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn allocates_free_subnets_around_written_ones() {
        let plan = plan(
            "name: lab\nnetworks:\n  a: {}\n  b: { subnet: 10.201.1.0/24, gateway: 10.201.1.254, internal: false }\n  c: {}\n",
        );
        let got: Vec<(String, String, Ipv4Addr, bool, bool)> = plan
            .networks
            .iter()
            .map(|n| {
                (
                    n.docker_name.clone(),
                    n.subnet.to_string(),
                    n.gateway,
                    n.internal,
                    n.subnet_allocated,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "metallab-lab-a".to_string(),
                    "10.201.0.0/24".to_string(),
                    Ipv4Addr::new(10, 201, 0, 1),
                    true,
                    true
                ),
                (
                    "metallab-lab-b".to_string(),
                    "10.201.1.0/24".to_string(),
                    Ipv4Addr::new(10, 201, 1, 254),
                    false,
                    false
                ),
                (
                    "metallab-lab-c".to_string(),
                    "10.201.2.0/24".to_string(),
                    Ipv4Addr::new(10, 201, 2, 1),
                    true,
                    true
                ),
            ]
        );
    }

    #[test]
    fn multi_node_minikube_keeps_the_addresses_after_the_gateway_for_its_nodes() {
        let text = "name: mk
cluster: { provider: minikube, workers: 2, network: mk }
networks: { mk: { subnet: 10.233.0.0/24 } }
routers:
  frr1: { kind: frr, asn: 64512, interfaces: { mk: {} }, neighbors: [{ to: nodes }] }
  bird1: { kind: bird, asn: 64513, interfaces: { mk: {} }, neighbors: [{ to: nodes }] }
metallb: { asn: 64500, peers: [{ router: frr1 }, { router: bird1 }] }
";
        let topology = crate::topology::load::parse_and_validate("mk.yaml", text).unwrap();
        let plan = build(&topology, "mk.yaml", Path::new(""));
        // Nodes take .2, .3 and .4 (gateway .1 plus the node index): routers start at .5.
        let ips: Vec<String> = ["frr1", "bird1"]
            .iter()
            .map(|r| plan.router(r).unwrap().interfaces[0].ip.to_string())
            .collect();
        assert_eq!(ips, ["10.233.0.5", "10.233.0.6"]);
    }

    #[test]
    fn allocates_interface_addresses_from_two_up_skipping_taken_ones() {
        let plan = plan(
            "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24, gateway: 10.210.1.3 }\nrouters:\n  a: { kind: linux, interfaces: { lan: {} } }\n  b: { kind: linux, interfaces: { lan: { ip: 10.210.1.4 } } }\n  c: { kind: linux, interfaces: { lan: {} } }\n  d: { kind: linux, interfaces: { lan: {} } }\n",
        );
        let addresses: Vec<IpAddr> = plan.routers.iter().map(|r| r.interfaces[0].ip).collect();
        assert_eq!(
            addresses,
            [
                ip("10.210.1.2"),
                ip("10.210.1.4"),
                ip("10.210.1.5"),
                ip("10.210.1.6")
            ]
        );
        assert_eq!(plan.routers[0].interfaces[0].prefix_len, 24);
        assert_eq!(
            plan.routers[0].interfaces[0].docker_network,
            "metallab-lab-lan"
        );
    }

    #[test]
    fn router_identity_image_and_interface_order() {
        let plan = plan(
            "name: lab\nnetworks:\n  a: { subnet: 10.210.1.0/24 }\n  b: { subnet: 10.210.2.0/24 }\nrouters:\n  r1: { kind: frr, asn: 1, interfaces: { b: {}, a: {} } }\n  r2: { kind: bird, asn: 2, router-id: 1.2.3.4, image: my/bird:2, interfaces: { a: {} } }\n",
        );
        let r1 = plan.router("r1").unwrap();
        assert_eq!(r1.container, "metallab-lab-r1");
        assert_eq!(
            (r1.image.as_str(), r1.builtin_image),
            ("metallab/frr:latest", true)
        );
        let networks: Vec<&str> = r1.interfaces.iter().map(|i| i.network.as_str()).collect();
        assert_eq!(networks, ["b", "a"]);
        assert_eq!(
            r1.router_id,
            Ipv4Addr::new(10, 210, 2, 2),
            "the first interface's address"
        );
        let r2 = plan.router("r2").unwrap();
        assert_eq!((r2.image.as_str(), r2.builtin_image), ("my/bird:2", false));
        assert_eq!(r2.router_id, Ipv4Addr::new(1, 2, 3, 4));
    }

    const PAIR: &str = "\
name: lab
networks:
  a: { subnet: 10.210.1.0/24 }
  b: { subnet: 10.210.2.0/24 }
  c: { subnet: 10.210.3.0/24 }
routers:
  r1:
    kind: frr
    asn: 64501
    interfaces: { a: { ip: 10.210.1.11 }, b: { ip: 10.210.2.11 } }
    neighbors: [{ to: r2, bfd: true, password: s3cret, passive: true, hold-time: 9 }]
  r2:
    kind: bird
    asn: 64502
    interfaces: { c: { ip: 10.210.3.12 }, b: { ip: 10.210.2.12 }, a: { ip: 10.210.1.12 } }
";

    #[test]
    fn a_neighbor_declared_once_is_mirrored_on_the_peer() {
        let plan = plan(PAIR);
        let s1 = &plan.router("r1").unwrap().sessions[0];
        let s2 = &plan.router("r2").unwrap().sessions[0];
        assert_eq!(s1.peer, PeerRef::Router("r2".into()));
        assert_eq!(s2.peer, PeerRef::Router("r1".into()));
        // The declaring router's interface order picks the shared network: `a`.
        assert_eq!(
            (s1.local_address, s1.peer_address),
            (ip("10.210.1.11"), ip("10.210.1.12"))
        );
        assert_eq!(
            (s2.local_address, s2.peer_address),
            (ip("10.210.1.12"), ip("10.210.1.11"))
        );
        assert_eq!((s1.local_asn, s1.peer_asn), (64501, 64502));
        assert_eq!((s2.local_asn, s2.peer_asn), (64502, 64501));
        for s in [s1, s2] {
            assert_eq!(s.bfd, Some(BfdTimers::default()));
            assert_eq!(s.password.as_deref(), Some("s3cret"));
            assert_eq!(s.hold_time, Some(9));
            assert_eq!(s.multihop, None);
        }
        assert!(
            s1.passive && !s2.passive,
            "passive stays on the declaring side"
        );
        assert_eq!((s1.id.as_str(), s2.id.as_str()), ("r2", "r1"));
    }

    #[test]
    fn a_neighbor_declared_on_both_sides_is_merged() {
        let text = PAIR.replace(
            "    interfaces: { c: { ip: 10.210.3.12 }",
            "    neighbors: [{ to: r1, multihop: 3 }]\n    interfaces: { c: { ip: 10.210.3.12 }",
        );
        let plan = plan(&text);
        let s1 = &plan.router("r1").unwrap().sessions;
        let s2 = &plan.router("r2").unwrap().sessions;
        assert_eq!(
            (s1.len(), s2.len()),
            (1, 1),
            "one session per side, not two"
        );
        assert_eq!((s1[0].multihop, s2[0].multihop), (Some(3), Some(3)));
        assert_eq!(
            (s1[0].bfd, s2[0].bfd),
            (Some(BfdTimers::default()), Some(BfdTimers::default()))
        );
        // r1 comes first in the file, so its interface order decides for both.
        assert_eq!(s2[0].local_address, ip("10.210.1.12"));
        assert!(s1[0].passive && !s2[0].passive);
    }

    #[test]
    fn source_picks_the_session_network() {
        let text = PAIR.replace(
            "{ to: r2, bfd: true",
            "{ to: r2, source: 10.210.2.11, bfd: true",
        );
        let plan = plan(&text);
        let s2 = &plan.router("r2").unwrap().sessions[0];
        assert_eq!(
            (s2.local_address, s2.peer_address),
            (ip("10.210.2.12"), ip("10.210.2.11"))
        );
    }

    #[test]
    fn multihop_sessions_without_a_shared_network_use_first_interfaces() {
        let plan = plan(
            "name: lab\nnetworks:\n  a: { subnet: 10.210.1.0/24 }\n  b: { subnet: 10.210.2.0/24 }\nrouters:\n  r1: { kind: frr, asn: 1, interfaces: { a: {} }, neighbors: [{ to: r2, multihop: true }] }\n  r2: { kind: frr, asn: 2, interfaces: { b: {} } }\n",
        );
        let s2 = &plan.router("r2").unwrap().sessions[0];
        assert_eq!(
            (s2.local_address, s2.peer_address),
            (ip("10.210.2.2"), ip("10.210.1.2"))
        );
        assert_eq!(s2.multihop, Some(255));
    }

    #[test]
    fn external_and_node_neighbors() {
        let plan = plan(
            "name: lab\ncluster: { network: kind }\nnetworks:\n  up: { subnet: 10.210.2.0/24 }\n  kind: { subnet: 10.210.1.0/24 }\nrouters:\n  r1:\n    kind: frr\n    asn: 64501\n    interfaces: { up: {}, kind: {} }\n    neighbors:\n      - { to: 10.210.2.77, asn: 65000, multihop: 2 }\n      - { to: nodes, bfd: fast }\nmetallb:\n  asn: 64500\n  bfd-profiles: { fast: { receive-interval: 100, detect-multiplier: 5 } }\n",
        );
        let r1 = plan.router("r1").unwrap();
        let external = &r1.sessions[0];
        assert_eq!(external.peer, PeerRef::External);
        assert_eq!(external.id, "peer_10_210_2_77");
        assert_eq!(
            external.local_address,
            ip("10.210.2.2"),
            "the address on the peer's network"
        );
        assert_eq!((external.peer_asn, external.multihop), (65000, Some(2)));
        let template = &r1.node_sessions[0];
        assert_eq!(
            template.local_address,
            ip("10.210.1.2"),
            "the address on cluster.network"
        );
        assert_eq!((template.local_asn, template.peer_asn), (64501, 64500));
        assert_eq!(
            template.bfd,
            Some(BfdTimers {
                receive_interval_ms: 100,
                transmit_interval_ms: 300,
                detect_multiplier: 5
            })
        );
    }

    #[test]
    fn check_targets_resolve_to_the_address_seen_from_the_checked_router() {
        let text = format!(
            "{PAIR}  r3: {{ kind: linux, interfaces: {{ c: {{ ip: 10.210.3.30 }}, b: {{ ip: 10.210.2.30 }} }} }}\n  r4: {{ kind: linux, interfaces: {{ c: {{ ip: 10.210.3.40 }} }} }}\nchecks:\n  - {{ router: r2, session: r1 }}\n  - {{ router: r1, route: 192.0.2.0/24, nexthops: [r3, 10.0.0.1] }}\n  - {{ router: r1, kernel-route: 192.0.2.0/24, nexthops: r4 }}\n  - {{ from: r3, http: \"http://r2:8080/x\" }}\n  - {{ from: r4, ping: r2, name: custom, timeout: 5s }}\n"
        );
        let plan = plan(&text);
        let kinds: Vec<&CheckKind> = plan.checks.iter().map(|c| &c.kind).collect();
        // A session peer: the session's peer address.
        assert!(
            matches!(kinds[0], CheckKind::Session { peers, .. } if peers == &[Expected::Address(ip("10.210.1.11"))])
        );
        // No session: the address on the first shared network in r1's order (b), then the IP as written.
        assert!(
            matches!(kinds[1], CheckKind::Route { nexthops: Some(n), .. }
            if n == &[Expected::Address(ip("10.210.2.30")), Expected::Address(ip("10.0.0.1"))])
        );
        // Nothing shared: the target's first address.
        assert!(
            matches!(kinds[2], CheckKind::KernelRoute { nexthops: Some(n), .. } if n == &[Expected::Address(ip("10.210.3.40"))])
        );
        assert!(
            matches!(kinds[3], CheckKind::Http { url, status: 200, .. } if url == "http://10.210.3.12:8080/x")
        );
        assert!(matches!(kinds[4], CheckKind::Ping { target, .. } if *target == ip("10.210.3.12")));
        let names: Vec<&str> = plan.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "r2 session to r1 established",
                "r1 route 192.0.2.0/24 via r3, 10.0.0.1",
                "r1 kernel route 192.0.2.0/24 via r4",
                "r3 http http://r2:8080/x status 200",
                "custom"
            ]
        );
        assert_eq!(plan.checks[0].timeout, DEFAULT_CHECK_TIMEOUT);
        assert_eq!(plan.checks[4].timeout, std::time::Duration::from_secs(5));
    }

    #[test]
    fn generated_check_names_are_unique() {
        let text = format!(
            "{PAIR}checks:\n  - {{ router: r1, session: r2 }}\n  - {{ router: r1, session: r2 }}\n  - {{ router: r1, session: r2, name: \"r1 session to r2 established #2\" }}\n"
        );
        let names: Vec<String> = plan(&text).checks.into_iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "r1 session to r2 established",
                "r1 session to r2 established #3",
                "r1 session to r2 established #2"
            ]
        );
    }

    #[test]
    fn apps_are_resolved_against_the_base_dir() {
        let plan = plan("name: lab\napps: [manifests/app.yaml, /abs/other.yaml]\n");
        assert_eq!(
            plan.apps,
            [
                PathBuf::from("/labs/manifests/app.yaml"),
                PathBuf::from("/abs/other.yaml")
            ]
        );
        assert_eq!(plan.source, "/labs/lab.yaml");
    }
}
