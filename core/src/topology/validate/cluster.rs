//! The cluster and static routes in its nodes (MetalLB's rules are in `metallb.rs`).

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
            FieldError::new("cluster.network", format!("unknown network `{network}`"))
                .help(help)
                .independent(),
        );
    }
    if cluster.creates_nodes() {
        node_network(v);
    }
}

/// The network kind or Minikube nodes sit on: reachable from the host (the API server's
/// port is published there), big enough for nodes in its upper half, and routers written
/// into the lower half.
fn node_network(v: &mut Validator) {
    let t = v.topology;
    let Some(name) = t.node_network() else {
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
    let minikube_nodes = minikube_node_addresses(t, spec, subnet);
    for (router, router_spec) in &t.routers {
        let Some(InterfaceSpec {
            ip: Some(IpAddr::V4(ip)),
        }) = router_spec.interfaces.get(name)
        else {
            continue;
        };
        if let Some(index) = minikube_nodes.iter().position(|n| n == ip) {
            v.report(
                FieldError::new(
                    format!("routers.{router}.interfaces.{name}.ip"),
                    format!(
                        "{ip} is where minikube puts node {} of the cluster (it gives a multi-node cluster the addresses after the gateway, minikube#18567)",
                        index + 1
                    ),
                )
                .help(format!(
                    "pick an address above {}, or leave `ip:` out to let metallab choose",
                    minikube_nodes.last().expect("not empty")
                )),
            );
        }
        if nodes.contains(ip) {
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

/// Where a multi-node Minikube cluster puts its nodes on its network: the addresses after
/// the gateway, one per node. Empty for anything else.
fn minikube_node_addresses(t: &Topology, network: &NetworkSpec, subnet: Ipv4Net) -> Vec<Ipv4Addr> {
    let Some(count) = t
        .cluster
        .as_ref()
        .and_then(ClusterSpec::minikube_multi_node)
    else {
        return vec![];
    };
    let gateway = match network.gateway {
        Some(IpAddr::V4(g)) => Some(g),
        _ => subnet.hosts().next(),
    };
    gateway.map_or(vec![], |g| addresses_after_gateway(g, count))
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
