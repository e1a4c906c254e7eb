//! A cluster the user already runs, reached by kubeconfig and context. metallab never
//! creates, changes the nodes of, or deletes it.

use super::command::LineSink;
use super::error::ClusterError;
use super::nodes::{DiscoveredNode, NodeRole};
use super::spec::{ClusterPlan, ExistingCluster, KubeconfigLocation};
use super::{ClusterAccess, ClusterFuture, ClusterProvider, Preflight, Provider};
use kube::config::Kubeconfig;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The kubeconfig files to read, merged in order: `cluster.kubeconfig` (with `~/`
/// expanded), else every non-empty entry of `KUBECONFIG`, else `~/.kube/config` — the
/// kubectl rules.
pub fn kubeconfig_paths(
    location: &KubeconfigLocation,
    kubeconfig_env: Option<&OsStr>,
    home: Option<&Path>,
) -> Result<Vec<PathBuf>, ClusterError> {
    match location {
        KubeconfigLocation::Path(path) => match path.strip_prefix("~") {
            Ok(rest) => home
                .map(|h| vec![h.join(rest)])
                .ok_or(ClusterError::NoKubeconfig),
            Err(_) => Ok(vec![path.clone()]),
        },
        KubeconfigLocation::Default => {
            let from_env: Vec<PathBuf> = kubeconfig_env
                .map(|v| {
                    std::env::split_paths(v)
                        .filter(|p| !p.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default();
            if !from_env.is_empty() {
                return Ok(from_env);
            }
            home.map(|h| vec![h.join(".kube").join("config")])
                .ok_or(ClusterError::NoKubeconfig)
        }
    }
}

/// Reads and merges kubeconfig files (relative certificate paths become absolute).
pub fn read_kubeconfig(paths: &[PathBuf]) -> Result<Kubeconfig, ClusterError> {
    let mut merged = Kubeconfig::default();
    for path in paths {
        let next = Kubeconfig::read_from(path).map_err(|e| ClusterError::Kubeconfig {
            path: path.clone(),
            message: e.to_string(),
        })?;
        merged = merged.merge(next).map_err(|e| ClusterError::Kubeconfig {
            path: path.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(merged)
}

/// `node-addresses` as nodes; empty when the user gave none.
pub fn listed_nodes(existing: &ExistingCluster) -> Vec<DiscoveredNode> {
    existing
        .node_addresses
        .iter()
        .map(|ip| DiscoveredNode {
            name: ip.to_string(),
            container: None,
            role: NodeRole::Unknown,
            ip: *ip,
        })
        .collect()
}

pub struct Existing {
    kubeconfig_env: Option<OsString>,
    home: Option<PathBuf>,
}

impl Existing {
    /// Reads `KUBECONFIG` and the home directory of this process.
    pub fn from_env() -> Existing {
        Existing::new(std::env::var_os("KUBECONFIG"), dirs::home_dir())
    }

    pub fn new(kubeconfig_env: Option<OsString>, home: Option<PathBuf>) -> Existing {
        Existing {
            kubeconfig_env,
            home,
        }
    }

    fn read_access(&self, plan: &ClusterPlan) -> Result<ClusterAccess, ClusterError> {
        let existing = spec(plan);
        let paths = kubeconfig_paths(
            &existing.kubeconfig,
            self.kubeconfig_env.as_deref(),
            self.home.as_deref(),
        )?;
        let kubeconfig = read_kubeconfig(&paths)?;
        let origin = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        ClusterAccess::with_context(kubeconfig, existing.context.as_deref(), &origin)
    }
}

fn spec(plan: &ClusterPlan) -> std::borrow::Cow<'_, ExistingCluster> {
    match &plan.existing {
        Some(e) => std::borrow::Cow::Borrowed(e),
        None => std::borrow::Cow::Owned(ExistingCluster {
            kubeconfig: KubeconfigLocation::Default,
            context: None,
            node_addresses: vec![],
        }),
    }
}

impl ClusterProvider for Existing {
    fn provider(&self) -> Provider {
        Provider::Existing
    }

    /// The kubeconfig must be readable and hold the context; nothing is contacted yet.
    fn preflight<'a>(&'a self, plan: &'a ClusterPlan) -> ClusterFuture<'a, Preflight> {
        Box::pin(async move {
            let access = self.read_access(plan)?;
            let mut warnings = vec![];
            if !plan.node_routes.is_empty() {
                warnings.push(format!(
                    "`nodes.routes` are not set in an existing cluster's nodes: add them \
                     yourself ({})",
                    super::nodes::node_route_commands(&plan.node_routes)
                        .iter()
                        .map(|c| c.join(" "))
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            Ok(Preflight {
                tool: Some(format!("context {}", access.context)),
                warnings,
            })
        })
    }

    fn create<'a>(&'a self, _plan: &'a ClusterPlan, _on: LineSink<'a>) -> ClusterFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn access<'a>(&'a self, plan: &'a ClusterPlan) -> ClusterFuture<'a, ClusterAccess> {
        Box::pin(async move { self.read_access(plan) })
    }

    fn nodes<'a>(
        &'a self,
        _rt: &'a dyn crate::runtime::ContainerEngine,
        plan: &'a ClusterPlan,
    ) -> ClusterFuture<'a, Vec<DiscoveredNode>> {
        Box::pin(async move { Ok(listed_nodes(&spec(plan))) })
    }

    /// The cluster belongs to the user: `down` leaves it alone.
    fn delete<'a>(&'a self, _name: &'a str, _on: LineSink<'a>) -> ClusterFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    /// An existing cluster is there by definition; preflight checks it is reachable.
    fn exists<'a>(&'a self, _name: &'a str) -> ClusterFuture<'a, bool> {
        Box::pin(async { Ok(true) })
    }

    /// There is no general way into someone else's nodes: they pull the image themselves.
    fn load_image<'a>(
        &'a self,
        _name: &'a str,
        _image: &'a str,
        _on: LineSink<'a>,
    ) -> ClusterFuture<'a, bool> {
        Box::pin(async { Ok(false) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::command::ignore_lines;
    use crate::cluster::tests::plan_from_yaml;

    const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: { server: 'https://10.231.10.5:6443', certificate-authority: ca.crt }
contexts:
- name: lab-admin
  context: { cluster: prod, user: admin }
current-context: lab-admin
users:
- name: admin
  user: { token: abc }
";

    fn plan(cluster: &str) -> ClusterPlan {
        let yaml = format!("name: ex\ncluster: {cluster}\n");
        let mut plan = plan_from_yaml(&yaml);
        plan.source = "/nowhere/lab.yaml".into();
        ClusterPlan::from_plan(&plan).unwrap()
    }

    #[test]
    fn kubeconfig_paths_follow_kubectl() {
        let home = Path::new("/home/u");
        let default = KubeconfigLocation::Default;
        assert_eq!(
            kubeconfig_paths(&default, Some(OsStr::new("/a:/b")), Some(home)).unwrap(),
            [PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(
            kubeconfig_paths(&default, None, Some(home)).unwrap(),
            [PathBuf::from("/home/u/.kube/config")]
        );
        let tilde = KubeconfigLocation::Path("~/k/conf".into());
        assert_eq!(
            kubeconfig_paths(&tilde, None, Some(home)).unwrap(),
            [PathBuf::from("/home/u/k/conf")]
        );
        assert!(matches!(
            kubeconfig_paths(&default, None, None),
            Err(ClusterError::NoKubeconfig)
        ));
    }

    #[tokio::test]
    async fn preflight_and_access_read_the_kubeconfig_and_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let existing = Existing::new(Some(path.clone().into_os_string()), None);
        let p = plan(&format!(
            "{{ provider: existing, kubeconfig: {} }}",
            path.display()
        ));
        let pre = existing.preflight(&p).await.unwrap();
        assert_eq!(pre.tool.as_deref(), Some("context lab-admin"));
        let access = existing.access(&p).await.unwrap();
        assert_eq!(access.context, "lab-admin");
        // Relative certificate paths are made absolute against the kubeconfig's directory.
        let ca = access.kubeconfig.clusters[0]
            .cluster
            .as_ref()
            .unwrap()
            .certificate_authority
            .clone()
            .unwrap();
        assert_eq!(PathBuf::from(ca), dir.path().join("ca.crt"));
        // Nothing to create, delete or load images into.
        existing.create(&p, &ignore_lines).await.unwrap();
        existing.delete("ex", &ignore_lines).await.unwrap();
        assert!(
            !existing
                .load_image("ex", "metallab/frr:0123abcd", &ignore_lines)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_missing_context_or_file_fails_preflight() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let existing = Existing::new(None, None);
        let p = plan(&format!(
            "{{ provider: existing, kubeconfig: {}, context: staging }}",
            path.display()
        ));
        let err = existing.preflight(&p).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("context `staging` is not in kubeconfig {}", path.display())
        );
        assert_eq!(err.hint().unwrap(), "available contexts: lab-admin");

        let p = plan("{ provider: existing, kubeconfig: /nowhere/kubeconfig }");
        let err = existing.preflight(&p).await.unwrap_err();
        assert!(matches!(err, ClusterError::Kubeconfig { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("cannot read kubeconfig /nowhere/kubeconfig")
        );
    }

    #[tokio::test]
    async fn nodes_come_from_node_addresses_and_routes_are_the_users_job() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let yaml = format!(
            "name: ex
cluster: {{ provider: existing, kubeconfig: {}, node-addresses: [10.231.10.11, 10.231.10.12], network: n }}
networks: {{ n: {{ subnet: 10.231.10.0/24 }} }}
routers:
  nh: {{ kind: linux, forward: true, interfaces: {{ n: {{}} }} }}
nodes:
  routes: [ {{ to: 10.231.11.0/24, via: 10.231.10.2 }} ]
",
            path.display()
        );
        let p = ClusterPlan::from_plan(&plan_from_yaml(&yaml)).unwrap();
        let nodes = listed_nodes(p.existing.as_ref().unwrap());
        let ips: Vec<String> = nodes.iter().map(|n| n.ip.to_string()).collect();
        assert_eq!(ips, ["10.231.10.11", "10.231.10.12"]);
        assert!(nodes.iter().all(|n| n.container.is_none()));
        let pre = Existing::new(None, None).preflight(&p).await.unwrap();
        assert_eq!(
            pre.warnings,
            [
                "`nodes.routes` are not set in an existing cluster's nodes: add them yourself (ip route replace 10.231.11.0/24 via 10.231.10.2)"
            ]
        );
    }
}
