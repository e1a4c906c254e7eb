//! The lab's Kubernetes cluster (DESIGN.md §4, §6): kind and minikube driven through their
//! CLIs, or an existing cluster reached by kubeconfig. Provider `none` has no cluster
//! plan at all ([`ClusterPlan::from_plan`] returns `None`) and the engine skips the phase.
//!
//! - [`spec`]: `ClusterPlan`, decided from the lab plan (pure);
//! - [`command`]: the `CommandRunner` edge every CLI call goes through;
//! - [`kind`], [`minikube`], [`existing`]: the providers (command lines are pure functions);
//! - [`kind_fetch`]: which kind binary runs, and the pinned download when there is none;
//! - [`nodes`]: node discovery from Docker, static routes in nodes, finding a lab's cluster
//!   after a crash;
//! - [`version`], [`error`].

pub mod command;
pub mod error;
pub mod existing;
pub mod kind;
pub mod kind_fetch;
pub mod minikube;
pub mod nodes;
pub mod spec;
pub mod version;

pub use command::{CommandRunner, LineSink, TokioCommandRunner, ignore_lines};
pub use error::ClusterError;
pub use nodes::{
    DiscoveredNode, FoundCluster, NodeRole, apply_node_routes, find_lab_clusters,
    node_route_commands,
};
pub use spec::ClusterPlan;

use command::{CommandError, CommandOutput, CommandSpec};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A provider that creates or reaches a cluster (`none` is not one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    Kind,
    Minikube,
    Existing,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Kind => "kind",
            Provider::Minikube => "minikube",
            Provider::Existing => "existing",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub type ClusterFuture<'a, T> = BoxFuture<'a, Result<T, ClusterError>>;

/// What preflight found: the tool and its version for reports, and things worth saying.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preflight {
    /// e.g. `kind v0.20.0`; `None` for existing clusters.
    pub tool: Option<String>,
    pub warnings: Vec<String>,
}

/// How to reach a running cluster's API: a kubeconfig and the context to use in it.
///
/// Build a client with
/// `kube::Config::from_custom_kubeconfig(access.kubeconfig, &KubeConfigOptions { context: Some(access.context), ..Default::default() })`.
#[derive(Debug, Clone)]
pub struct ClusterAccess {
    pub kubeconfig: kube::config::Kubeconfig,
    pub context: String,
    /// Where the kubeconfig came from (a command or a path), for messages.
    pub origin: String,
}

impl ClusterAccess {
    /// Parses kubeconfig YAML and checks that it has `context`.
    pub fn from_yaml(yaml: &str, context: &str, origin: &str) -> Result<Self, ClusterError> {
        let kubeconfig =
            kube::config::Kubeconfig::from_yaml(yaml).map_err(|e| ClusterError::Kubeconfig {
                path: PathBuf::from(origin),
                message: e.to_string(),
            })?;
        Self::with_context(kubeconfig, Some(context), origin)
    }

    /// `context`, or the kubeconfig's current context when `None`; it must exist.
    pub fn with_context(
        kubeconfig: kube::config::Kubeconfig,
        context: Option<&str>,
        origin: &str,
    ) -> Result<Self, ClusterError> {
        let context = match context {
            Some(c) => c.to_string(),
            None => kubeconfig
                .current_context
                .clone()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| ClusterError::NoCurrentContext {
                    source_name: origin.to_string(),
                })?,
        };
        if !kubeconfig.contexts.iter().any(|c| c.name == context) {
            return Err(ClusterError::ContextMissing {
                context,
                source_name: origin.to_string(),
                available: kubeconfig.contexts.iter().map(|c| c.name.clone()).collect(),
            });
        }
        Ok(ClusterAccess {
            kubeconfig,
            context,
            origin: origin.to_string(),
        })
    }
}

/// The operations of a cluster provider. Boxed futures keep the trait object-safe, so the
/// engine holds a `Box<dyn ClusterProvider>` chosen at run time by [`provider_for`].
pub trait ClusterProvider: Send + Sync {
    fn provider(&self) -> Provider;

    /// Checks the plan and the tool (present, recent enough) before anything is created.
    fn preflight<'a>(&'a self, plan: &'a ClusterPlan) -> ClusterFuture<'a, Preflight>;

    /// Creates the cluster and waits for its control plane. `on_line` receives the tool's
    /// progress lines. A no-op for existing clusters.
    fn create<'a>(&'a self, plan: &'a ClusterPlan, on_line: LineSink<'a>) -> ClusterFuture<'a, ()>;

    /// Kubeconfig and context of the running cluster.
    fn access<'a>(&'a self, plan: &'a ClusterPlan) -> ClusterFuture<'a, ClusterAccess>;

    /// The nodes and their addresses on the node network. Empty for an existing cluster
    /// without `node-addresses`: read the nodes' InternalIPs through the API then.
    fn nodes<'a>(
        &'a self,
        rt: &'a dyn crate::runtime::ContainerEngine,
        plan: &'a ClusterPlan,
    ) -> ClusterFuture<'a, Vec<DiscoveredNode>>;

    /// Deletes the cluster named `name`; succeeds when there is none. Never touches an
    /// existing (user-owned) cluster.
    fn delete<'a>(&'a self, name: &'a str, on_line: LineSink<'a>) -> ClusterFuture<'a, ()>;

    /// Whether the cluster exists (for existing clusters: whether the context is there).
    fn exists<'a>(&'a self, name: &'a str) -> ClusterFuture<'a, bool>;

    /// Copies a local Docker image into every node of cluster `name`, so pods run it
    /// without a registry (metallab's router images exist only locally). `Ok(false)` when
    /// the provider cannot (an existing cluster): its nodes must be able to pull it.
    fn load_image<'a>(
        &'a self,
        name: &'a str,
        image: &'a str,
        on_line: LineSink<'a>,
    ) -> ClusterFuture<'a, bool>;
}

/// The provider for `provider`. `state_root` is metallab's state directory, where kind's
/// cross-process delete lock lives. kind runs from PATH or metallab's cache; only with
/// `allow_download` (for `up`, unless offline) does preflight fetch the pinned release.
pub fn provider_for(
    provider: Provider,
    runner: Arc<dyn CommandRunner>,
    state_root: &Path,
    allow_download: bool,
) -> Box<dyn ClusterProvider> {
    match provider {
        Provider::Kind => Box::new(
            kind::Kind::new(runner, state_root.join("locks").join("kind-delete.lock"))
                .with_fetch(kind_fetch::KindFetch::from_env(!allow_download)),
        ),
        Provider::Minikube => Box::new(minikube::Minikube::new(runner)),
        Provider::Existing => Box::new(existing::Existing::from_env()),
    }
}

/// Runs a tool's command, turning "not on PATH", timeouts and I/O failures into
/// [`ClusterError`]s. A non-zero exit is returned as output for the provider to read.
async fn run_tool(
    runner: &dyn CommandRunner,
    tool: &'static str,
    install_url: &'static str,
    spec: &CommandSpec,
    on_line: LineSink<'_>,
) -> Result<CommandOutput, ClusterError> {
    runner.run(spec, on_line).await.map_err(|e| match e {
        CommandError::NotFound { .. } => ClusterError::ToolMissing { tool, install_url },
        CommandError::Io { source } => ClusterError::CommandIo {
            command: spec.to_string(),
            source,
        },
        CommandError::Timeout { timeout, partial } => ClusterError::CommandTimeout {
            tool,
            command: spec.to_string(),
            timeout,
            last_output: partial
                .stderr
                .lines()
                .chain(partial.stdout.lines())
                .rfind(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string()),
        },
    })
}

/// Takes an exclusive advisory lock on `path` (created if missing), waiting for other
/// holders; released when the returned file is dropped.
async fn lock_exclusive(path: &Path) -> Result<std::fs::File, ClusterError> {
    let path = path.to_path_buf();
    let lock_error = |path: &Path, source| ClusterError::Lock {
        path: path.to_path_buf(),
        source,
    };
    tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| lock_error(&path, e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| lock_error(&path, e))?;
        file.lock().map_err(|e| lock_error(&path, e))?;
        Ok(file)
    })
    .await
    .expect("the lock task does not panic")
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::plan::model::Plan;
    use std::path::Path;

    /// A validated topology's plan, as the engine builds it.
    pub fn plan_from_yaml(yaml: &str) -> Plan {
        let topology = crate::topology::load::parse_and_validate("lab.yaml", yaml)
            .unwrap_or_else(|e| panic!("invalid test topology: {e:?}"));
        crate::plan::build::build(&topology, "/labs/lab.yaml", Path::new("/labs"))
    }
}
