//! What can go wrong with a lab's cluster, each with a hint the user can act on.

use super::Provider;
use super::version::Version;
use crate::runtime::RuntimeError;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{tool} not found on PATH")]
    ToolMissing {
        tool: &'static str,
        install_url: &'static str,
    },

    #[error("{tool} {found} is too old: metallab needs {minimum} or later")]
    ToolTooOld {
        tool: &'static str,
        found: Version,
        minimum: &'static Version,
        install_url: &'static str,
    },

    #[error("cannot tell the {tool} version from `{command}`, which printed: {output}")]
    UnrecognizedVersion {
        tool: &'static str,
        command: String,
        output: String,
    },

    #[error("`{command}` failed{}: {message}", exit_code.map(|c| format!(" (exit code {c})")).unwrap_or_default())]
    CommandFailed {
        tool: &'static str,
        command: String,
        exit_code: Option<i32>,
        /// The most useful line of the tool's error output.
        message: String,
        /// More of that output (kind's `Command Output:`, the last stderr lines).
        detail: Option<String>,
    },

    #[error("`{command}` did not finish within {}", humantime::format_duration(*timeout))]
    CommandTimeout {
        tool: &'static str,
        command: String,
        timeout: Duration,
        last_output: Option<String>,
    },

    #[error("cannot run `{command}`: {source}")]
    CommandIo {
        command: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the cluster needs a lab network for its nodes")]
    NoNodeNetwork {
        provider: Provider,
        /// The lab's networks, to choose from.
        networks: Vec<String>,
    },

    #[error(
        "network `{network}` is internal: Docker publishes no ports from internal networks, \
         so {provider} could not reach its nodes' API server from this host"
    )]
    InternalNodeNetwork { provider: Provider, network: String },

    #[error(
        "network `{network}` ({subnet}) has no room for {needed} cluster node address(es) clear of the routers and the gateway"
    )]
    NoRoomForNodes {
        network: String,
        subnet: String,
        needed: usize,
    },

    #[error("minikube would place node {node} at {ip}, which router `{router}` already uses")]
    MinikubeAddressTaken {
        node: String,
        ip: Ipv4Addr,
        router: String,
    },

    #[error("minikube cannot place {nodes} nodes after gateway {gateway} on network `{network}`")]
    MinikubeAddressOverflow {
        network: String,
        gateway: Ipv4Addr,
        nodes: u32,
    },

    #[error("minikube --static-ip accepts only private IPv4 addresses, and {ip} is not one")]
    MinikubeStaticIpNotPrivate { ip: Ipv4Addr, network: String },

    #[error("cannot read kubeconfig {}: {message}", path.display())]
    Kubeconfig { path: PathBuf, message: String },

    #[error("no kubeconfig to read: neither KUBECONFIG nor a home directory is set")]
    NoKubeconfig,

    #[error("context `{context}` is not in kubeconfig {source_name}")]
    ContextMissing {
        context: String,
        source_name: String,
        available: Vec<String>,
    },

    #[error("kubeconfig {source_name} has no current context")]
    NoCurrentContext { source_name: String },

    #[error("found no node containers of {provider} cluster `{name}`")]
    NoNodes { provider: Provider, name: String },

    #[error("node {node} has no address on network `{network}`")]
    NodeNotOnNetwork {
        node: String,
        network: String,
        /// The networks it does have an address on.
        attached: Vec<String>,
        running: bool,
    },

    #[error("static route in node {node}: `{command}` failed: {message}")]
    NodeRoute {
        node: String,
        command: String,
        message: String,
    },

    #[error("metallab does not set static routes inside the nodes of an existing cluster")]
    NodeRoutesUnsupported {
        /// The commands the user should run on every node.
        commands: Vec<String>,
    },

    #[error("cannot take the lock {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// kind was neither on PATH nor cached, and could not be downloaded.
    #[error(transparent)]
    KindFetch(#[from] super::kind_fetch::FetchError),

    /// Boxed: Docker errors are large and rare.
    #[error(transparent)]
    Docker(Box<RuntimeError>),
}

impl From<RuntimeError> for ClusterError {
    fn from(e: RuntimeError) -> Self {
        ClusterError::Docker(Box::new(e))
    }
}

impl ClusterError {
    pub fn hint(&self) -> Option<String> {
        use ClusterError::*;
        Some(match self {
            ToolMissing { tool, install_url } => format!(
                "install {tool}: {install_url}, or set `cluster.provider: existing` (a cluster you \
                 already have) or `none` (routers only)"
            ),
            ToolTooOld {
                tool, install_url, ..
            } => format!("upgrade {tool}: {install_url}"),
            UnrecognizedVersion { tool, .. } => {
                format!("check that `{tool}` on PATH is the real {tool} binary (`which {tool}`)")
            }
            CommandFailed {
                tool,
                detail,
                message,
                ..
            } => {
                let mut hint = match (*tool, message.as_str()) {
                    ("kind", m) if m.contains("already exist") => {
                        "a cluster with the lab's name exists: `metallab down` it, or \
                         `kind delete cluster --name <lab>` if it is not a metallab lab"
                            .to_string()
                    }
                    ("kind", _) => "run the command by hand with `-v 1` for kind's full log; \
                                    `kind export logs` collects the nodes' logs"
                        .to_string(),
                    ("minikube", _) => {
                        "run `minikube logs -p <lab>`; `minikube delete -p <lab>` clears a \
                         half-created profile"
                            .to_string()
                    }
                    _ => "run the command by hand to see its full output".to_string(),
                };
                if let Some(detail) = detail {
                    hint = format!("{detail}\n{hint}");
                }
                hint
            }
            CommandTimeout {
                tool, last_output, ..
            } => {
                let mut hint = format!(
                    "{tool} may be waiting on an image pull or a slow Docker engine; \
                     `docker ps` shows what it created, `metallab down` removes it"
                );
                if let Some(last) = last_output {
                    hint = format!("last output: {last}\n{hint}");
                }
                hint
            }
            CommandIo { .. } => "check the binary's permissions and that it runs by hand".into(),
            NoNodeNetwork { networks, .. } if networks.is_empty() => {
                "add a network for the nodes, e.g. `networks: { kind: { internal: false } }` and \
                 `cluster: { network: kind }`"
                    .into()
            }
            NoNodeNetwork { networks, .. } => format!(
                "set `cluster.network` to the network the nodes sit on: one of {}",
                networks.join(", ")
            ),
            InternalNodeNetwork { network, .. } => format!(
                "set `networks.{network}.internal: false` (nodes also need it to pull images); \
                 see moby/moby#36174"
            ),
            NoRoomForNodes { .. } => {
                "use a larger subnet, or give the routers addresses in its lower half".into()
            }
            MinikubeAddressTaken { router, .. } => format!(
                "minikube ignores --static-ip for multi-node clusters and numbers nodes from the \
                 gateway (minikube#18567): give `{router}` an address above the nodes, or use \
                 provider kind"
            ),
            MinikubeAddressOverflow { .. } => {
                "move the network's gateway to the start of the subnet, or use fewer workers".into()
            }
            MinikubeStaticIpNotPrivate { network, .. } => format!(
                "use a private subnet (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) for `{network}`"
            ),
            Kubeconfig { .. } => {
                "check `cluster.kubeconfig` (or KUBECONFIG) names a readable kubeconfig file".into()
            }
            NoKubeconfig => "set `cluster.kubeconfig` or KUBECONFIG".into(),
            ContextMissing { available, .. } if available.is_empty() => {
                "the kubeconfig has no contexts at all".into()
            }
            ContextMissing { available, .. } => {
                format!("available contexts: {}", available.join(", "))
            }
            NoCurrentContext { .. } => {
                "set `cluster.context`, or select one with `kubectl config use-context`".into()
            }
            NoNodes { provider, name } => format!(
                "is the cluster running? `{}` lists it; `metallab up --reconfigure` recreates it",
                match provider {
                    Provider::Kind => format!("kind get nodes --name {name}"),
                    Provider::Minikube => format!("minikube status -p {name}"),
                    Provider::Existing => "kubectl get nodes".to_string(),
                }
            ),
            NodeNotOnNetwork {
                attached, running, ..
            } if !running => format!(
                "the node container is stopped (networks: {}): start it with `docker start`, \
                 or recreate the lab",
                attached.join(", ")
            ),
            NodeNotOnNetwork { attached, .. } => format!(
                "it sits on {}: a kind older than KIND_EXPERIMENTAL_DOCKER_NETWORK support, or \
                 a cluster created outside metallab? `metallab up --reconfigure` recreates it",
                if attached.is_empty() {
                    "no network".to_string()
                } else {
                    attached.join(", ")
                }
            ),
            NodeRoute { .. } => "the route's gateway must be reachable from the node \
                                 (`docker exec <node> ip route`)"
                .into(),
            NodeRoutesUnsupported { commands } => format!(
                "run these on every node yourself:\n  {}",
                commands.join("\n  ")
            ),
            Lock { .. } => "check that the metallab state directory is writable".into(),
            KindFetch(e) => e.hint(),
            Docker(e) => return e.hint(),
        })
    }
}
