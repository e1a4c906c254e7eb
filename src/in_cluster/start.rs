//! Starting an in-cluster router once its pod runs: the network setup that lets the
//! speakers' sessions through the Service (see the module docs of `in_cluster`), then the
//! driver's start commands, exactly as the Docker engine runs them, then waiting until the
//! daemon answers. The command lists are pure; the functions running them are thin.

use super::exec::{ExecError, KubeExec};
use super::{BGP_PORT, NODE_IP_ENV};
use crate::drivers;
use crate::plan::service_address::service_ip;
use crate::plan::{PeerRef, PlannedRouter};
use crate::runtime::ExecOutput;
use crate::runtime::router_start::{self as lifecycle, READY_QUERY_TIMEOUT, StartFailure};
use futures::future::BoxFuture;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::Instant;

/// The iptables chain deciding which incoming BGP connections come from the pod's own node.
const NODES_CHAIN: &str = "METALLAB-NODES";

/// Pause between two looks at the pod or the daemon.
const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{router}: {source}")]
    Exec {
        router: String,
        #[source]
        source: ExecError,
    },
    #[error("{router}: no Service address in the plan")]
    NoServiceAddress { router: String },
    #[error("{router}: `{command}` exited {code}: {output}")]
    CommandFailed {
        router: String,
        command: String,
        code: i64,
        output: String,
    },
    #[error("{router}: no running pod after {seconds}s ({observed})")]
    PodNotRunning {
        router: String,
        seconds: u64,
        observed: String,
    },
    #[error("{router}: daemon not ready after {seconds}s (`{command}` said: {output})")]
    NotReady {
        router: String,
        seconds: u64,
        command: String,
        output: String,
    },
}

impl StartError {
    pub fn hint(&self) -> String {
        match self {
            StartError::Exec { source, .. } => source
                .hint()
                .unwrap_or_else(|| "check that the cluster is reachable: kubectl get nodes".into()),
            StartError::NoServiceAddress { .. } => {
                "the plan was made by an older metallab: rebuild with `metallab up --reconfigure`"
                    .into()
            }
            StartError::CommandFailed { router, .. } | StartError::NotReady { router, .. } => {
                format!("inspect the router with: metallab exec {router} -- sh")
            }
            StartError::PodNotRunning { observed, .. }
                if observed.contains("ErrImagePull") || observed.contains("ImagePullBackOff") =>
            {
                "the nodes cannot pull the router image: metallab's images exist only locally, \
                 load them first (kind load docker-image IMAGE --name CLUSTER, or \
                 minikube image load IMAGE -p PROFILE)"
                    .into()
            }
            StartError::PodNotRunning { .. } => {
                "look at the pod's events: kubectl -n <namespace> describe pods".into()
            }
        }
    }
}

/// The node addresses the router has sessions with (once `nodes` is expanded).
fn node_addresses(router: &PlannedRouter) -> BTreeSet<IpAddr> {
    router
        .sessions
        .iter()
        .filter(|s| matches!(s.peer, PeerRef::Node(_)))
        .map(|s| s.peer_address)
        .collect()
}

/// The first command run in the pod: takes the router's ClusterIP as its own address and
/// translates the speakers' connections so the daemon sees the addresses they used.
///
/// - `ip address replace <ClusterIP>/32 dev lo`: the rendered config's local address;
/// - `PREROUTING`: DNAT port 179 (arriving for the pod IP) to the ClusterIP;
/// - `INPUT` → `METALLAB-NODES`: connections from a known node pass unchanged; any other
///   source (the pod's own node, masqueraded by kube-proxy to its veth address) becomes
///   this node's address, `$METALLAB_NODE_IP` (`status.hostIP`).
///
/// Safe to run again (the chain is rebuilt, the jumps are added once). Fails with a clear
/// message on images without `iptables`.
pub fn network_setup_command(router: &PlannedRouter) -> Result<Vec<String>, StartError> {
    let cluster_ip = service_ip(router).ok_or_else(|| StartError::NoServiceAddress {
        router: router.name.clone(),
    })?;
    let port = BGP_PORT;
    let nat = "iptables -w -t nat";
    let once = |rule: String| format!("{nat} -C {rule} 2>/dev/null || {nat} -A {rule}");
    let mut lines = vec![
        "set -e".to_string(),
        "command -v iptables >/dev/null || { echo 'this image has no iptables: an in-cluster router needs it to translate the connections of the speakers' >&2; exit 127; }".to_string(),
        format!(
            "[ -n \"${NODE_IP_ENV}\" ] || {{ echo '{NODE_IP_ENV} is not set (the pod spec gives it from status.hostIP)' >&2; exit 1; }}"
        ),
        format!("ip address replace {cluster_ip}/32 dev lo"),
        once(format!(
            "PREROUTING -p tcp --dport {port} -j DNAT --to-destination {cluster_ip}"
        )),
        format!("{nat} -N {NODES_CHAIN} 2>/dev/null || {nat} -F {NODES_CHAIN}"),
        once(format!("INPUT -p tcp --dport {port} -j {NODES_CHAIN}")),
    ];
    for node in node_addresses(router) {
        lines.push(format!("{nat} -A {NODES_CHAIN} -s {node} -j RETURN"));
    }
    lines.push(format!(
        "{nat} -A {NODES_CHAIN} -j SNAT --to-source \"${NODE_IP_ENV}\""
    ));
    Ok(vec!["sh".into(), "-c".into(), lines.join("\n")])
}

/// Everything to run in a freshly started router pod, in order: the network setup, then
/// the driver's start commands (daemons, announcements, HTTP server, user commands).
pub fn start_commands(router: &PlannedRouter) -> Result<Vec<Vec<String>>, StartError> {
    let mut commands = vec![network_setup_command(router)?];
    commands.extend(drivers::start_commands(router));
    Ok(commands)
}

fn exec_error(router: &PlannedRouter) -> impl Fn(ExecError) -> StartError + '_ {
    |source| StartError::Exec {
        router: router.name.clone(),
        source,
    }
}

/// Waits until the router's pod runs its container; returns the pod's name. The error
/// says what the pods were doing (e.g. `ImagePullBackOff`).
pub async fn wait_for_pod(
    exec: &KubeExec,
    router: &PlannedRouter,
    timeout: Duration,
) -> Result<String, StartError> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match exec.pod_of(&router.name).await {
            Ok(pod) => return Ok(pod),
            Err(e @ (ExecError::NoPod { .. } | ExecError::NotRunning { .. })) => e,
            Err(e) => return Err(exec_error(router)(e)),
        };
        if Instant::now() >= deadline {
            let observed = match last {
                ExecError::NotRunning { observed, .. } => observed,
                other => other.to_string(),
            };
            return Err(StartError::PodNotRunning {
                router: router.name.clone(),
                seconds: timeout.as_secs(),
                observed,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Runs [`start_commands`] in order (each must exit 0), then waits until the driver's
/// ready command says the daemon runs. `on_command` hears each command before it runs
/// (for a progress line).
pub async fn configure_running(
    exec: &KubeExec,
    router: &PlannedRouter,
    ready_timeout: Duration,
    on_command: impl Fn(&[String]),
) -> Result<(), StartError> {
    lifecycle::run_commands(start_commands(router)?, in_pod(exec, router), on_command)
        .await
        .map_err(|e| start_failure(router, e))?;
    wait_ready(exec, router, ready_timeout).await
}

/// Commands run in the router's pod, as the lifecycle helpers take them.
fn in_pod<'a>(
    exec: &'a KubeExec,
    router: &'a PlannedRouter,
) -> impl Fn(Vec<String>, Duration) -> BoxFuture<'a, Result<ExecOutput, ExecError>> + Copy + 'a {
    move |argv, timeout| Box::pin(async move { exec.exec(&router.name, &argv, timeout).await })
}

fn start_failure(router: &PlannedRouter, failure: StartFailure<ExecError>) -> StartError {
    let name = router.name.clone();
    match failure {
        StartFailure::Exec(source) => StartError::Exec {
            router: name,
            source,
        },
        StartFailure::CommandFailed {
            command,
            code,
            output,
        } => StartError::CommandFailed {
            router: name,
            command,
            code,
            output,
        },
        StartFailure::NotReady {
            seconds,
            command,
            output,
        } => StartError::NotReady {
            router: name,
            seconds,
            command,
            output,
        },
        // A pod's commands run through exec, whose own timeout reports them.
        StartFailure::TimedOut { command, seconds } => StartError::CommandFailed {
            router: name,
            command,
            code: -1,
            output: format!("did not finish within {seconds}s"),
        },
        StartFailure::Stopped { output } => StartError::PodNotRunning {
            router: name,
            seconds: 0,
            observed: output,
        },
    }
}

/// Whether the router's daemon answers now (one query; true for kinds without a ready
/// command). `up` on a running lab uses it to find pods that restarted without daemons.
pub async fn is_ready(exec: &KubeExec, router: &PlannedRouter) -> Result<bool, StartError> {
    let Some(argv) = drivers::ready_command(router.kind) else {
        return Ok(true);
    };
    let out = exec
        .exec(&router.name, &argv, READY_QUERY_TIMEOUT)
        .await
        .map_err(exec_error(router))?;
    Ok(drivers::is_ready(router.kind, &out))
}

/// Polls the driver's ready command until `drivers::is_ready` (as the Docker engine does).
async fn wait_ready(
    exec: &KubeExec,
    router: &PlannedRouter,
    timeout: Duration,
) -> Result<(), StartError> {
    lifecycle::wait_ready(router, in_pod(exec, router), timeout, POLL)
        .await
        .map_err(|e| start_failure(router, e))
}
