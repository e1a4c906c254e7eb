//! `ClusterPlan`: everything the cluster phase needs, decided from the lab plan before any
//! command runs.

use super::Provider;
use super::error::ClusterError;
use crate::plan::model::{Plan, StaticRoute};
use crate::topology::model::ClusterProvider;
use ipnet::Ipv4Net;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterPlan {
    pub provider: Provider,
    /// kind cluster name / minikube profile: the lab name. Lab names are DNS labels, which
    /// also satisfy kind's `^[a-z0-9.-]+$`.
    pub name: String,
    /// kind only; minikube has a single control plane.
    pub control_planes: u32,
    pub workers: u32,
    /// kind: the node image; minikube: `--base-image`.
    pub image: Option<String>,
    pub kubernetes_version: Option<String>,
    /// The lab network the nodes sit on. Required for kind and minikube (checked by
    /// [`ClusterPlan::check`]); optional for existing clusters.
    pub network: Option<NodeNetwork>,
    /// Addresses on the node network that routers use (router name, address): nodes must
    /// not take them.
    pub reserved: Vec<(String, Ipv4Addr)>,
    /// Names of the lab's networks, for hints.
    pub lab_networks: Vec<String>,
    /// Static routes to add inside every node (`nodes.routes`).
    pub node_routes: Vec<StaticRoute>,
    /// Provider `existing` only.
    pub existing: Option<ExistingCluster>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeNetwork {
    /// Name in the topology.
    pub name: String,
    /// Docker network name.
    pub docker_name: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub internal: bool,
    /// The plan's node range on this network (its upper half), when it reserved one.
    pub node_range: Option<Ipv4Net>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExistingCluster {
    pub kubeconfig: KubeconfigLocation,
    /// `None`: the kubeconfig's current context.
    pub context: Option<String>,
    /// `cluster.node-addresses`; empty means "read the nodes' InternalIPs through the API".
    pub node_addresses: Vec<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum KubeconfigLocation {
    /// `cluster.kubeconfig`, made absolute against the topology file's directory unless it
    /// starts with `~/` (expanded when read).
    Path(PathBuf),
    /// `$KUBECONFIG` (a path list, merged), else `~/.kube/config`.
    Default,
}

impl ClusterPlan {
    /// The cluster part of a lab plan; `None` without a cluster or with provider `none`.
    pub fn from_plan(plan: &Plan) -> Option<ClusterPlan> {
        let spec = plan.cluster.as_ref()?;
        let provider = match spec.provider {
            ClusterProvider::Kind => Provider::Kind,
            ClusterProvider::Minikube => Provider::Minikube,
            ClusterProvider::Existing => Provider::Existing,
            ClusterProvider::None => return None,
        };
        // kind and Minikube: the network the plan reserved a node range on (see
        // `Topology::node_network`); existing clusters: `cluster.network` when written.
        let planned_network = match &spec.network {
            Some(name) => plan.network(name),
            None => plan.networks.iter().find(|n| n.node_range.is_some()),
        };
        let network = planned_network.map(|n| NodeNetwork {
            name: n.name.clone(),
            docker_name: n.docker_name.clone(),
            subnet: n.subnet,
            gateway: n.gateway,
            internal: n.internal,
            node_range: n.node_range,
        });
        let reserved = match planned_network {
            Some(n) => plan
                .routers
                .iter()
                .filter_map(|r| match r.ip_on(&n.name) {
                    Some(IpAddr::V4(ip)) => Some((r.name.clone(), ip)),
                    _ => None,
                })
                .collect(),
            None => vec![],
        };
        let existing = (provider == Provider::Existing).then(|| ExistingCluster {
            kubeconfig: match &spec.kubeconfig {
                Some(path) => KubeconfigLocation::Path(anchor_path(path, &plan.source)),
                None => KubeconfigLocation::Default,
            },
            context: spec.context.clone(),
            node_addresses: spec.node_addresses.clone(),
        });
        Some(ClusterPlan {
            provider,
            name: plan.lab.clone(),
            control_planes: spec.control_planes.unwrap_or(1).max(1),
            workers: spec.workers.unwrap_or(0),
            image: spec.image.clone(),
            kubernetes_version: spec.kubernetes_version.clone(),
            network,
            reserved,
            lab_networks: plan.networks.iter().map(|n| n.name.clone()).collect(),
            node_routes: plan
                .nodes
                .iter()
                .flat_map(|n| &n.routes)
                .map(|r| StaticRoute {
                    to: r.to,
                    via: r.via,
                })
                .collect(),
            existing,
        })
    }

    /// How many containers the provider puts on the node network.
    pub fn node_containers(&self) -> usize {
        match self.provider {
            Provider::Kind => {
                // More than one control plane adds kind's external load balancer.
                let lb = usize::from(self.control_planes > 1);
                (self.control_planes + self.workers) as usize + lb
            }
            Provider::Minikube => 1 + self.workers as usize,
            Provider::Existing => 0,
        }
    }

    /// The node network, or why there is none (kind and minikube need one).
    pub fn node_network(&self) -> Result<&NodeNetwork, ClusterError> {
        self.network
            .as_ref()
            .ok_or_else(|| ClusterError::NoNodeNetwork {
                provider: self.provider,
                networks: self.lab_networks.clone(),
            })
    }

    /// The part of the node network Docker may hand out dynamically: the largest block at
    /// the top of the subnet clear of the gateway and every router address, with room for
    /// the nodes. Routers take the lowest free addresses (plan) and are created after the
    /// cluster, so without this range Docker would give a kind node an address a router is
    /// about to claim. The engine passes it as the network's `ip_range`.
    pub fn node_ip_range(&self) -> Result<Option<Ipv4Net>, ClusterError> {
        let Some(network) = &self.network else {
            return Ok(None);
        };
        if self.provider == Provider::Existing {
            return Ok(None);
        }
        let needed = self.node_containers().max(1);
        if let Some(range) = network.node_range {
            // The plan keeps routers out of this range (validated), so it is all the nodes'.
            let room = range.hosts().count();
            return if room >= needed {
                Ok(Some(range))
            } else {
                Err(ClusterError::NoRoomForNodes {
                    network: network.name.clone(),
                    subnet: network.subnet.to_string(),
                    needed,
                })
            };
        }
        let taken: Vec<Ipv4Addr> = self
            .reserved
            .iter()
            .map(|(_, ip)| *ip)
            .chain(std::iter::once(network.gateway))
            .collect();
        find_free_block(network.subnet, &taken, needed)
            .map(Some)
            .ok_or_else(|| ClusterError::NoRoomForNodes {
                network: network.name.clone(),
                subnet: network.subnet.to_string(),
                needed,
            })
    }

    /// Everything about the plan that would make the provider fail, found before anything
    /// is created.
    pub fn check(&self) -> Result<(), ClusterError> {
        if self.provider == Provider::Existing {
            return Ok(());
        }
        let network = self.node_network()?;
        if network.internal {
            return Err(ClusterError::InternalNodeNetwork {
                provider: self.provider,
                network: network.name.clone(),
            });
        }
        self.node_ip_range()?;
        if self.provider == Provider::Minikube {
            check_minikube_addresses(self, network)?;
        }
        Ok(())
    }
}

/// Blocks are tried from the largest (half the subnet) down, each level from the top;
/// a few candidates per level keep this cheap on huge subnets.
fn find_free_block(subnet: Ipv4Net, taken: &[Ipv4Addr], needed: usize) -> Option<Ipv4Net> {
    const CANDIDATES_PER_LEVEL: usize = 8;
    let usable = |block: &Ipv4Net| {
        // Docker never hands out the subnet's own network and broadcast addresses.
        let mut n = block.hosts().count() + 2 * usize::from(block.prefix_len() < 31);
        n -= usize::from(block.contains(&subnet.network()));
        n -= usize::from(block.contains(&subnet.broadcast()));
        n
    };
    for prefix in (subnet.prefix_len() + 1)..=31 {
        let blocks = subnet.subnets(prefix).ok()?;
        let candidates: Vec<Ipv4Net> = blocks.collect::<Vec<_>>();
        for block in candidates.iter().rev().take(CANDIDATES_PER_LEVEL) {
            if taken.iter().any(|ip| block.contains(ip)) {
                continue;
            }
            if usable(block) >= needed {
                return Some(*block);
            }
        }
        // Smaller blocks hold fewer addresses: stop once even the largest cannot fit.
        if 1usize << (32 - prefix) < needed {
            return None;
        }
    }
    None
}

/// Makes a relative kubeconfig path relative to the topology file's directory.
fn anchor_path(path: &str, source: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() || path.starts_with("~/") || source.starts_with("builtin:") {
        return p.to_path_buf();
    }
    match Path::new(source).parent() {
        Some(dir) => dir.join(p),
        None => p.to_path_buf(),
    }
}

// ---------------------------------------------------------------------------------------
// Minikube's node addresses (planned here: minikube decides them, metallab must know them)
// ---------------------------------------------------------------------------------------

/// The minikube machine (= container = Kubernetes node) name of node `index` (1-based):
/// the profile, then `<profile>-m02`, `-m03`… (`config.MachineName`).
pub fn machine_name(profile: &str, index: u32) -> String {
    if index <= 1 {
        profile.to_string()
    } else {
        format!("{profile}-m{index:02}")
    }
}

pub fn node_count(plan: &ClusterPlan) -> u32 {
    1 + plan.workers
}

/// The `--static-ip` of a single-node cluster: the first address of the node range whose
/// last octet minikube accepts (2–254). `None` for multi-node clusters (see module docs).
pub fn static_ip(plan: &ClusterPlan) -> Result<Option<Ipv4Addr>, ClusterError> {
    if node_count(plan) > 1 {
        return Ok(None);
    }
    let Some(range) = plan.node_ip_range()? else {
        return Ok(None);
    };
    let network = plan.node_network()?;
    let taken = |ip: &Ipv4Addr| {
        *ip == network.gateway
            || *ip == network.subnet.network()
            || *ip == network.subnet.broadcast()
            || plan.reserved.iter().any(|(_, r)| r == ip)
    };
    // Every address of the block in order: the block's own first and last addresses are
    // ordinary hosts of the larger subnet.
    let ip = (u32::from(range.network())..=u32::from(range.broadcast()))
        .map(Ipv4Addr::from)
        .find(|ip| (2..=254).contains(&ip.octets()[3]) && !taken(ip));
    Ok(ip)
}

/// Where minikube puts each node of a multi-node cluster: gateway + node index.
pub fn multi_node_addresses(plan: &ClusterPlan, network: &NodeNetwork) -> Vec<(String, Ipv4Addr)> {
    crate::topology::model::addresses_after_gateway(network.gateway, node_count(plan))
        .into_iter()
        .zip(1..)
        .map(|(ip, i)| (machine_name(&plan.name, i), ip))
        .collect()
}

/// The node addresses minikube will use must be free and acceptable to it.
pub(super) fn check_minikube_addresses(
    plan: &ClusterPlan,
    network: &NodeNetwork,
) -> Result<(), ClusterError> {
    if let Some(ip) = static_ip(plan)? {
        if !ip.is_private() {
            return Err(ClusterError::MinikubeStaticIpNotPrivate {
                ip,
                network: network.name.clone(),
            });
        }
        return Ok(());
    }
    if node_count(plan) == 1 {
        return Err(ClusterError::NoRoomForNodes {
            network: network.name.clone(),
            subnet: network.subnet.to_string(),
            needed: 1,
        });
    }
    // kic.go refuses a last octet above 253 (it keeps 254 for an HA VIP).
    if u32::from(network.gateway.octets()[3]) + node_count(plan) > 253 {
        return Err(ClusterError::MinikubeAddressOverflow {
            network: network.name.clone(),
            gateway: network.gateway,
            nodes: node_count(plan),
        });
    }
    for (node, ip) in multi_node_addresses(plan, network) {
        if !network.subnet.contains(&ip) || ip == network.subnet.broadcast() {
            return Err(ClusterError::MinikubeAddressOverflow {
                network: network.name.clone(),
                gateway: network.gateway,
                nodes: node_count(plan),
            });
        }
        if let Some((router, _)) = plan.reserved.iter().find(|(_, r)| *r == ip) {
            return Err(ClusterError::MinikubeAddressTaken {
                node,
                ip,
                router: router.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::plan_from_yaml;

    fn cluster_plan(yaml: &str) -> ClusterPlan {
        ClusterPlan::from_plan(&plan_from_yaml(yaml)).expect("a cluster")
    }

    const LAB: &str = "name: lab1
cluster: { provider: kind, workers: 2, network: kind }
networks:
  kind: { subnet: 10.231.1.0/24, internal: false }
  up: { subnet: 10.231.2.0/24 }
routers:
  nh: { kind: linux, forward: true, interfaces: { kind: {}, up: {} } }
  r1: { kind: frr, asn: 64500, interfaces: { up: {} } }
nodes:
  routes: [ { to: 10.231.2.0/24, via: 10.231.1.2 } ]
";

    #[test]
    fn kind_plan_takes_network_routers_and_routes() {
        let p = cluster_plan(LAB);
        assert_eq!(p.provider, Provider::Kind);
        assert_eq!(p.name, "lab1");
        assert_eq!((p.control_planes, p.workers), (1, 2));
        let net = p.network.as_ref().unwrap();
        assert_eq!(net.docker_name, "metallab-lab1-kind");
        assert_eq!(net.subnet.to_string(), "10.231.1.0/24");
        assert_eq!(net.gateway, Ipv4Addr::new(10, 231, 1, 1));
        assert_eq!(
            p.reserved,
            [("nh".to_string(), Ipv4Addr::new(10, 231, 1, 2))]
        );
        assert_eq!(p.node_routes.len(), 1);
        assert_eq!(p.node_routes[0].via.to_string(), "10.231.1.2");
        assert!(p.existing.is_none());
        p.check().unwrap();
        // 3 nodes fit in the upper half, clear of the gateway and nh.
        assert_eq!(
            p.node_ip_range().unwrap().unwrap().to_string(),
            "10.231.1.128/25"
        );
    }

    #[test]
    fn no_cluster_or_provider_none_means_no_cluster_plan() {
        let plan = plan_from_yaml("name: lab\nnetworks: { a: {} }\n");
        assert_eq!(ClusterPlan::from_plan(&plan), None);
        let plan = plan_from_yaml("name: lab\ncluster: { provider: none }\nnetworks: { a: {} }\n");
        assert_eq!(ClusterPlan::from_plan(&plan), None);
    }

    #[test]
    fn the_only_network_is_the_node_network_by_default() {
        let p = cluster_plan(
            "name: lab\ncluster: { provider: minikube }\nnetworks: { n: { subnet: 10.231.3.0/24 } }\n",
        );
        assert_eq!(p.network.unwrap().name, "n");
    }

    #[test]
    fn several_networks_and_no_choice_get_a_node_network_named_after_the_provider() {
        let p =
            cluster_plan("name: lab\ncluster: { provider: kind }\nnetworks: { a: {}, b: {} }\n");
        let network = p.network.as_ref().expect("the implicit node network");
        assert_eq!(network.name, "kind");
        assert!(!network.internal);
        p.check().unwrap();
    }

    #[test]
    fn internal_node_networks_are_refused() {
        // Validation refuses `internal: true` on the node network; the cluster phase
        // checks again in case a plan was built some other way.
        let mut plan = plan_from_yaml(
            "name: lab\ncluster: { provider: kind, network: n }\nnetworks: { n: {} }\n",
        );
        plan.networks[0].internal = true;
        let err = ClusterPlan::from_plan(&plan).unwrap().check().unwrap_err();
        assert!(matches!(err, ClusterError::InternalNodeNetwork { .. }));
        assert!(err.hint().unwrap().contains("networks.n.internal: false"));
    }

    #[test]
    fn the_node_range_is_the_plans_upper_half() {
        let p = cluster_plan(
            "name: lab
cluster: { provider: kind, control-planes: 3, workers: 1, network: n }
networks: { n: { subnet: 10.231.4.0/24 } }
routers:
  lo: { kind: linux, interfaces: { n: { ip: 10.231.4.100 } } }
",
        );
        // 3 control planes + 1 worker + the load balancer.
        assert_eq!(p.node_containers(), 5);
        assert_eq!(
            p.node_ip_range().unwrap().unwrap().to_string(),
            "10.231.4.128/25"
        );
    }

    #[test]
    fn a_full_node_range_has_no_room() {
        let p = cluster_plan(
            "name: lab
cluster: { provider: kind, workers: 9, network: n }
networks: { n: { subnet: 10.231.5.0/28 } }
",
        );
        let err = p.node_ip_range().unwrap_err();
        assert!(
            matches!(err, ClusterError::NoRoomForNodes { needed: 10, .. }),
            "{err}"
        );
    }

    #[test]
    fn existing_cluster_kubeconfig_is_anchored_at_the_topology() {
        let mut plan = plan_from_yaml(
            "name: lab
cluster: { provider: existing, kubeconfig: conf/kubeconfig, context: ctx, node-addresses: [10.231.6.10] }
",
        );
        plan.source = "/labs/bgp/metallab.yaml".into();
        let p = ClusterPlan::from_plan(&plan).unwrap();
        let existing = p.existing.as_ref().unwrap();
        assert_eq!(
            existing.kubeconfig,
            KubeconfigLocation::Path("/labs/bgp/conf/kubeconfig".into())
        );
        assert_eq!(existing.context.as_deref(), Some("ctx"));
        assert_eq!(existing.node_addresses.len(), 1);
        assert!(p.network.is_none());
        p.check().unwrap();
        assert_eq!(anchor_path("~/k", "/x/y.yaml"), PathBuf::from("~/k"));
        assert_eq!(anchor_path("k", "builtin:demo"), PathBuf::from("k"));
    }
}
