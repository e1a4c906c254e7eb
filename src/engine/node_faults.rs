//! Cluster nodes stopped and started on purpose (`metallab fault LAB node NODE stop|start`):
//! the node's container, as kind and Minikube's docker driver run it. `faults::check` has
//! already refused labs without such nodes.

use super::EngineError;
use crate::cluster::{ClusterPlan, DiscoveredNode, NodeRole, apply_node_routes};
use crate::faults::node_container;
use crate::plan::Plan;
use crate::runtime::ContainerEngine;
use std::time::Duration;

/// As `fault stop` gives a router: a node that fails, not one shut down with care.
const STOP_TIMEOUT: Duration = Duration::from_secs(1);

/// Stops the node's container.
pub async fn stop_node(rt: &dyn ContainerEngine, node: &str) -> Result<(), EngineError> {
    rt.stop_container(node_container(node), STOP_TIMEOUT)
        .await?;
    Ok(())
}

/// Starts the node's container again and sets the lab's `nodes.routes` in it again: they
/// lived in its network namespace, which went with the stop. Its kubelet rejoins by itself.
pub async fn start_node(
    rt: &dyn ContainerEngine,
    plan: &Plan,
    node: &str,
) -> Result<(), EngineError> {
    let container = node_container(node);
    rt.start_container(container).await?;
    let (Some(cplan), Some(planned)) = (
        ClusterPlan::from_plan(plan),
        plan.cluster_nodes.iter().find(|n| n.name == node),
    ) else {
        return Ok(());
    };
    let discovered = DiscoveredNode {
        name: node.to_string(),
        container: Some(container.to_string()),
        role: NodeRole::Unknown,
        ip: planned.ip,
    };
    apply_node_routes(rt, &cplan, &[discovered])
        .await
        .map_err(|e| EngineError::Setup {
            hint: e.hint(),
            message: e.to_string(),
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::recording::RecordingEngine;
    use crate::plan::ClusterNode;

    /// The built-in `bfd-next-hop` lab (kind, with `nodes.routes`) once its nodes are known.
    fn plan() -> Plan {
        let topology = crate::topology::builtin::get("bfd-next-hop")
            .unwrap()
            .topology();
        let plan = crate::plan::build(&topology, "builtin:bfd-next-hop", std::path::Path::new(""));
        let nodes = [
            ClusterNode {
                name: "bfd-next-hop-control-plane".into(),
                ip: "10.252.0.10".parse().unwrap(),
            },
            ClusterNode {
                name: "bfd-next-hop-worker".into(),
                ip: "10.252.0.11".parse().unwrap(),
            },
        ];
        crate::plan::nodes::with_node_sessions(&plan, &nodes)
    }

    #[tokio::test]
    async fn a_node_stops_and_starts_as_its_container_and_gets_its_routes_back() {
        let plan = plan();
        let routes = ClusterPlan::from_plan(&plan).unwrap().node_routes;
        assert!(!routes.is_empty(), "bfd-next-hop routes through its nodes");
        let engine = RecordingEngine::default();
        engine.add_foreign_container(
            "bfd-next-hop-worker",
            &[("io.x-k8s.kind.cluster", "bfd-next-hop")],
        );
        stop_node(&engine, "bfd-next-hop-worker").await.unwrap();
        assert!(!engine.is_running("bfd-next-hop-worker"));
        start_node(&engine, &plan, "bfd-next-hop-worker")
            .await
            .unwrap();
        assert!(engine.is_running("bfd-next-hop-worker"));
        let mut expected = vec![
            "stop_container bfd-next-hop-worker".to_string(),
            "start_container bfd-next-hop-worker".to_string(),
        ];
        expected.extend(routes.iter().map(|r| {
            format!(
                "exec bfd-next-hop-worker ip route replace {} via {}",
                r.to, r.via
            )
        }));
        // Only that node: the other one never stopped.
        assert_eq!(engine.calls(), expected);
    }
}
