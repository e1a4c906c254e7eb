//! Topology → plan: every name, address, session and check decided, purely.
//!
//! Input is a *validated* topology (`topology::validate` returned no errors); the builder
//! relies on that (every referenced network and router exists, ASNs are set, subnets are
//! IPv4 and have room) and does not re-check it.

use super::model::*;
use crate::state::{BfdState, SessionState};
use crate::topology::model::{BfdSetting, CheckSpec, Multihop, NeighborSpec, RouterSpec, Topology};
use crate::topology::target::Target;
use crate::topology::validate::{CheckKindKey, parse_http_url};
use ipnet::{IpNet, Ipv4Net};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// Networks written without a subnet get a free /24 from here.
pub const SUBNET_POOL: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(10, 201, 0, 0), 16);
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
    }
}

fn docker_network_name(lab: &str, network: &str) -> String {
    format!("metallab-{lab}-{network}")
}

/// Subnets as written, or free /24s from [`SUBNET_POOL`] avoiding every written subnet;
/// gateway as written or the first host.
fn plan_networks(t: &Topology) -> Vec<PlannedNetwork> {
    let written: Vec<Ipv4Net> = t
        .networks
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
    t.networks
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
            PlannedNetwork {
                name: name.clone(),
                docker_name: docker_network_name(&t.name, name),
                subnet,
                gateway,
                internal: spec.internal.unwrap_or(true),
                subnet_allocated: allocated,
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
    }
}

/// Interfaces without an address get the lowest free host address of their network,
/// from .2 upward, skipping the gateway and every address written in the file.
fn allocate_addresses(t: &Topology, networks: &[PlannedNetwork], routers: &mut [PlannedRouter]) {
    let written: HashSet<IpAddr> = t
        .routers
        .values()
        .flat_map(|r| r.interfaces.values().filter_map(|i| i.ip))
        .collect();
    for network in networks {
        let mut free = network
            .subnet
            .hosts()
            .filter(|ip| *ip != network.gateway && !written.contains(&IpAddr::V4(*ip)));
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

/// A config-safe identifier: letters, digits and `_`.
fn session_id(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

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
        hold_time: either(mine, theirs, |n| n.hold_time),
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
        hold_time: neighbor.hold_time,
    }
}

fn node_template(t: &Topology, me: &PlannedRouter, neighbor: &NeighborSpec) -> SessionTemplate {
    let node_network = t.cluster.as_ref().and_then(|c| c.network.as_deref());
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
        hold_time: neighbor.hold_time,
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
