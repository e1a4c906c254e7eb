//! Routers placed in the cluster (`placement: cluster`): what such a router can be. It
//! runs as a pod reached through its Service's ClusterIP and peers only with the nodes,
//! whose speakers open every session (see `crate::in_cluster` for why).

use super::*;
use crate::topology::model::IN_CLUSTER_ROUTER_LIMIT as SERVICE_SLOTS;

fn in_cluster(router: &RouterSpec) -> bool {
    router.placement == Some(Placement::Cluster)
}

/// In-cluster routers: a cluster exists; no lab interfaces, forwarding or static routes;
/// a BGP kind with a Service-safe name; sessions with the nodes only, passive and
/// multihop, without BFD; nobody else peers with them; MetalLB's peerings can reach them.
pub(super) fn placement(v: &mut Validator) {
    let t = v.topology;
    let mut count = 0;
    for (name, router) in &t.routers {
        if in_cluster(router) {
            count += 1;
            in_cluster_router(v, name, router);
        }
        for (i, neighbor) in router.neighbors.iter().enumerate() {
            if let Target::Router(peer) = Target::parse(&neighbor.to)
                && t.routers.get(peer).is_some_and(in_cluster)
                && !in_cluster(router)
            {
                v.report(
                    FieldError::new(
                        format!("routers.{name}.neighbors[{i}].to"),
                        format!("`{peer}` runs in the cluster: `{name}` cannot reach it"),
                    )
                    .also(format!("routers.{peer}.placement"), "placed in the cluster")
                    .help("an in-cluster router peers with the cluster nodes only; peer with a router in Docker instead"),
                );
            }
        }
    }
    if count > SERVICE_SLOTS {
        v.report(
            FieldError::new(
                "routers",
                format!("{count} routers are placed in the cluster"),
            )
            .help(format!(
                "at most {SERVICE_SLOTS} routers fit the block their Service addresses come from"
            )),
        );
    }
    metallb_peers(v);
}

fn in_cluster_router(v: &mut Validator, name: &str, router: &RouterSpec) {
    let path = format!("routers.{name}");
    let placed = format!("{path}.placement");
    if !v.has_cluster() {
        v.report(
            FieldError::new(&placed, "`placement: cluster` needs a cluster")
                .help("add `cluster:` with provider kind, minikube or existing, or remove `placement: cluster`"),
        );
    }
    if !router.kind.speaks_bgp() {
        v.report(
            FieldError::new(
                &placed,
                format!("a {} router cannot run in the cluster", router.kind),
            )
            .help("only BGP routers (frr, bird, gobgp, quagga) run in the cluster; place it in Docker"),
        );
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        v.report(
            FieldError::new(
                &path,
                format!("`{name}` cannot name a Kubernetes Service: it starts with a digit"),
            )
            .help("start the name of an in-cluster router with a letter"),
        );
    }
    if !router.interfaces.is_empty() {
        v.report(
            FieldError::new(
                format!("{path}.interfaces"),
                "an in-cluster router has no lab interfaces",
            )
            .also(&placed, "placed in the cluster")
            .help("remove `interfaces:`: the router runs on the pod network and is reached at its Service's ClusterIP (shown by `metallab status`)"),
        );
    }
    if router.forward {
        v.report(
            FieldError::new(format!("{path}.forward"), "an in-cluster router cannot forward")
                .also(&placed, "placed in the cluster")
                .help("remove `forward: true` (net.ipv4.ip_forward is an unsafe sysctl kubelets refuse), or place the router in Docker"),
        );
    }
    if !router.routes.is_empty() {
        v.report(
            FieldError::new(
                format!("{path}.routes"),
                "an in-cluster router takes no static routes",
            )
            .also(&placed, "placed in the cluster")
            .help("remove `routes:`: lab-network gateways do not exist on the pod network"),
        );
    }
    for (i, neighbor) in router.neighbors.iter().enumerate() {
        let neighbor_path = format!("{path}.neighbors[{i}]");
        if !matches!(Target::parse(&neighbor.to), Target::Nodes) {
            v.report(
                FieldError::new(
                    format!("{neighbor_path}.to"),
                    format!(
                        "an in-cluster router peers with the nodes only, not with `{}`",
                        neighbor.to
                    ),
                )
                .also(&placed, "placed in the cluster")
                .help("write `to: nodes`; peer with other routers from routers in Docker"),
            );
            continue;
        }
        if !neighbor.passive {
            v.report(
                FieldError::new(
                    &neighbor_path,
                    "the nodes' session with an in-cluster router must be passive",
                )
                .also(&placed, "placed in the cluster")
                .help("add `passive: true`: the speakers connect to the router's Service, while a connection from the pod would reach them from an address they do not peer with"),
            );
        }
        let crosses_a_node = match neighbor.multihop {
            Some(Multihop::Enabled(on)) => on,
            Some(Multihop::Ttl(ttl)) => ttl >= 2,
            None => false,
        };
        if !crosses_a_node {
            v.report(
                FieldError::new(
                    format!("{neighbor_path}.multihop"),
                    "the nodes' session with an in-cluster router needs `multihop`",
                )
                .also(&placed, "placed in the cluster")
                .help("add `multihop: true` (or a TTL of 2 or more): sessions from other nodes are routed through the pod's node"),
            );
        }
        if bfd_key(&neighbor.bfd).is_some() {
            v.report(
                FieldError::new(
                    format!("{neighbor_path}.bfd"),
                    "BFD does not work with an in-cluster router",
                )
                .also(&placed, "placed in the cluster")
                .help("remove `bfd:`: BFD packets do not survive the Service's address translation; place the router in Docker to test BFD"),
            );
        }
    }
}

/// MetalLB's side of a session with an in-cluster router.
fn metallb_peers(v: &mut Validator) {
    let t = v.topology;
    let Some(metallb) = &t.metallb else { return };
    for (i, peer) in metallb.peers.iter().enumerate() {
        let Some(router) = t.routers.get(&peer.router).filter(|r| in_cluster(r)) else {
            continue;
        };
        let path = format!("metallb.peers[{i}]");
        let placed = format!("routers.{}.placement", peer.router);
        if peer.bfd.is_some() {
            v.report(
                FieldError::new(
                    format!("{path}.bfd"),
                    format!(
                        "BFD does not work with `{}`, an in-cluster router",
                        peer.router
                    ),
                )
                .also(&placed, "placed in the cluster")
                .help(
                    "remove `bfd:`: BFD packets do not survive the Service's address translation",
                ),
            );
        }
        let router_asn = peer.asn.or(router.asn);
        if router_asn.is_some_and(|asn| asn != metallb.asn) && !peer.multihop {
            v.report(
                FieldError::new(
                    format!("{path}.multihop"),
                    format!("eBGP with `{}`, an in-cluster router, needs `multihop: true`", peer.router),
                )
                .also(&placed, "placed in the cluster")
                .help("add `multihop: true`: speakers on other nodes reach the router's pod through its node"),
            );
        }
        if peer
            .port
            .is_some_and(|port| port != crate::topology::model::BGP_PORT)
        {
            v.report(
                FieldError::new(
                    format!("{path}.port"),
                    format!(
                        "`{}` is reached through its Service on port 179",
                        peer.router
                    ),
                )
                .also(&placed, "placed in the cluster")
                .help("remove `port:`"),
            );
        }
    }
}
