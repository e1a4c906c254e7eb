//! The second half of planning, once the cluster exists: `neighbors: [{to: nodes}]`
//! becomes one session per node, with the addresses Docker (or the user) gave the nodes.
//! Pure, like the rest of the plan; the engine calls it after node discovery and renders
//! router configs from the result.

use super::model::{PeerRef, Plan, PlannedSession, session_id};

pub use super::model::ClusterNode;

/// The plan with every node session template expanded into one session per node, in the
/// nodes' order. Templates stay in place, so expanding again (after nodes change) starts
/// from the same ground instead of accumulating sessions.
pub fn with_node_sessions(plan: &Plan, nodes: &[ClusterNode]) -> Plan {
    let mut plan = plan.clone();
    plan.cluster_nodes = nodes.to_vec();
    for router in &mut plan.routers {
        router
            .sessions
            .retain(|s| !matches!(s.peer, PeerRef::Node(_)));
        for template in &router.node_sessions {
            for node in nodes {
                router.sessions.push(PlannedSession {
                    peer: PeerRef::Node(node.name.clone()),
                    id: session_id(&format!("node_{}", node.ip)),
                    local_address: template.local_address,
                    peer_address: node.ip,
                    local_asn: template.local_asn,
                    peer_asn: template.peer_asn,
                    multihop: template.multihop,
                    bfd: template.bfd,
                    password: template.password.clone(),
                    passive: template.passive,
                    hold_time: template.hold_time,
                });
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::load::parse;
    use crate::topology::validate::validate;
    use std::net::IpAddr;
    use std::path::Path;

    const LAB: &str = r#"
name: nodes
cluster: { provider: kind, workers: 2, network: kind }
networks:
  kind: { subnet: 10.0.1.0/24 }
routers:
  frr1:
    kind: frr
    asn: 64500
    interfaces: { kind: {} }
    neighbors: [ { to: nodes } ]
metallb:
  asn: 64501
  peers: [ { router: frr1 } ]
  pools: { demo: { addresses: [203.0.113.0/28] } }
"#;

    fn plan() -> Plan {
        let t = parse("nodes.yaml", LAB).unwrap();
        assert_eq!(validate(&t), vec![]);
        crate::plan::build(&t, "nodes.yaml", Path::new("/"))
    }

    fn nodes() -> Vec<ClusterNode> {
        [
            ("nodes-control-plane", "10.0.1.130"),
            ("nodes-worker", "10.0.1.129"),
            ("nodes-worker2", "10.0.1.131"),
        ]
        .into_iter()
        .map(|(n, ip)| ClusterNode {
            name: n.to_string(),
            ip: ip.parse().unwrap(),
        })
        .collect()
    }

    #[test]
    fn the_node_network_is_reachable_and_splits_nodes_from_routers() {
        let plan = plan();
        let kind = plan.network("kind").unwrap();
        assert!(!kind.internal);
        assert_eq!(kind.node_range, Some("10.0.1.128/25".parse().unwrap()));
        assert_eq!(
            plan.router("frr1").unwrap().interfaces[0].ip,
            "10.0.1.2".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn one_session_per_node_from_the_template() {
        let expanded = with_node_sessions(&plan(), &nodes());
        let frr1 = expanded.router("frr1").unwrap();
        let peers: Vec<(String, String, String)> = frr1
            .sessions
            .iter()
            .map(|s| {
                (
                    format!("{:?}", s.peer),
                    s.id.clone(),
                    s.peer_address.to_string(),
                )
            })
            .collect();
        insta::assert_debug_snapshot!(peers);
        assert!(frr1.sessions.iter().all(|s| s.local_asn == 64500
            && s.peer_asn == 64501
            && s.bfd.is_none()
            && s.local_address == "10.0.1.2".parse::<IpAddr>().unwrap()));
    }

    #[test]
    fn expanding_again_replaces_node_sessions() {
        let once = with_node_sessions(&plan(), &nodes());
        let twice = with_node_sessions(&once, &nodes()[..1]);
        assert_eq!(twice.router("frr1").unwrap().sessions.len(), 1);
    }

    #[test]
    fn kind_without_a_network_gets_one_named_after_the_provider() {
        let t = parse(
            "bare.yaml",
            "name: bare\ncluster: { provider: kind }\nmetallb: { asn: 64500 }\n",
        )
        .unwrap();
        assert_eq!(validate(&t), vec![]);
        let plan = crate::plan::build(&t, "bare.yaml", Path::new("/"));
        let kind = plan.network("kind").expect("implicit node network");
        assert_eq!(kind.docker_name, "metallab-bare-kind");
        assert!(!kind.internal && kind.subnet_allocated && kind.node_range.is_some());
    }
}
