//! `metallab spy`: a live web dashboard of a running lab.
//!
//! The successor of the small status page MetalLB's old tutorials ran beside their test
//! router, for any lab and any mix of routers. One poller reads every router (and the
//! cluster, when there is one) about once a second through a [`LabSource`], turns the
//! reading into the pure [`LabView`](crate::view::LabView), and publishes it. Every browser
//! and every `/api/state` request share that one reading — the same sharing the check
//! runner does with its state TTL, taken further: however many pages are open, each router
//! is read once per round. Pages get the view over server-sent events, only when it
//! changed (clocks and raw text aside, see [`LabView::fingerprint`](crate::view::LabView::fingerprint)),
//! and update in place.
//!
//! Nobody watching (no page open, no request for a while), nobody's routers are read: the
//! poller waits for the next page or request.
//!
//! Routes: `/` the page, `/api/state` the view as JSON, `/api/events` the event stream,
//! `/healthz`. The page is three files embedded in the binary (`assets/`): no build step, no
//! CDN, works offline.

mod docker;
mod poll;
mod server;
#[cfg(test)]
mod tests;

pub use docker::DockerLabSource;
pub use poll::read_lab;

use crate::plan::Plan;
use crate::state::ClusterState;
use crate::view::RouterReading;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Where the dashboard reads the lab from. The Docker-backed engine implements it; tests
/// use scripted fakes.
pub trait LabSource: Send + Sync + 'static {
    /// One router's normalized state and the raw CLI text behind it, or why it could not
    /// be read.
    fn read_router(&self, router: &str) -> impl Future<Output = RouterReading> + Send;

    /// The addresses of the cluster's nodes (none for router-only labs).
    fn node_ips(&self) -> impl Future<Output = Result<Vec<IpAddr>, String>> + Send {
        async { Ok(vec![]) }
    }

    /// The lab's containers and networks as Docker has them; None when not looked at.
    fn resources(&self) -> impl Future<Output = Option<LabResources>> + Send {
        async { None }
    }

    /// The faults `metallab fault` put into the lab and that are still active.
    fn faults(&self) -> Vec<crate::faults::ActiveFault> {
        vec![]
    }

    /// The cluster's state; None when the lab has no cluster.
    fn cluster_state(&self) -> impl Future<Output = Result<Option<ClusterState>, String>> + Send {
        async { Ok(None) }
    }
}

/// What Docker has of a lab, for the problems the view reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabResources {
    /// Each Docker-placed router's container, by router name.
    pub containers: std::collections::HashMap<String, crate::view::problems::ContainerCondition>,
    /// The lab networks each running container lost, by router name.
    pub detached: std::collections::HashMap<String, Vec<String>>,
    /// The Docker names of the lab's networks that exist.
    pub networks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpyOptions {
    /// Pause between two readings of the lab.
    pub poll_interval: Duration,
    /// A router that has not answered by then is shown as unreadable for this round.
    pub read_timeout: Duration,
    /// Server-sent-events comment sent on idle streams, so proxies and browsers keep them.
    pub keep_alive: Duration,
    /// With no page open and no request for this long, polling pauses until one comes.
    pub idle_after: Duration,
}

impl Default for SpyOptions {
    fn default() -> Self {
        SpyOptions {
            poll_interval: Duration::from_secs(1),
            read_timeout: Duration::from_secs(5),
            keep_alive: Duration::from_secs(10),
            idle_after: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpyError {
    #[error("cannot listen on {addr}: the address is already in use")]
    AddressInUse { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the dashboard server failed: {0}")]
    Serve(std::io::Error),
}

impl SpyError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SpyError::AddressInUse { addr } => Some(format!(
                "another program (maybe another metallab spy) uses port {}; pick another with --listen {}:{}, or --listen {}:0 for a free one",
                addr.port(),
                addr.ip(),
                addr.port().wrapping_add(1),
                addr.ip()
            )),
            SpyError::Listen { .. } => Some(
                "--listen takes a local address and port, e.g. 127.0.0.1:7472 (port 0 picks a free one)"
                    .to_string(),
            ),
            SpyError::Serve(_) => None,
        }
    }
}

/// Binds the dashboard's socket, saying plainly when the port is taken.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, SpyError> {
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            SpyError::AddressInUse { addr }
        } else {
            SpyError::Listen { addr, source }
        }
    })
}

/// The page's address for a bound socket (`http://127.0.0.1:7472/`, `http://[::1]:7472/`).
pub fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

/// Serves the dashboard on `listener` until `shutdown` completes: polls the lab, publishes
/// views, answers HTTP. Open event streams are ended on shutdown so it completes promptly.
pub async fn serve<S: LabSource>(
    listener: TcpListener,
    plan: Plan,
    source: S,
    options: SpyOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SpyError> {
    let plan = Arc::new(plan);
    let source = Arc::new(source);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let published = server::Published::new();
    let poller = tokio::spawn(poll::poll_loop(
        source,
        plan.clone(),
        published.clone(),
        options.clone(),
        stop_rx.clone(),
    ));
    let app = server::router(published, &options, stop_rx);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Ends the poller and every open event stream; then axum waits for the
            // connections to finish.
            let _ = stop_tx.send(true);
        })
        .await
        .map_err(SpyError::Serve);
    poller.abort();
    result
}

/// Resolves on Ctrl-C (SIGINT), listening from the moment it is called, not from its first
/// poll as `tokio::signal::ctrl_c` does.
fn interrupted() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listener = signal(SignalKind::interrupt());
        async move {
            match listener {
                Ok(mut interrupts) => {
                    interrupts.recv().await;
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// How long Ctrl-C waits for open connections before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// `metallab spy`: serve the dashboard of a running lab until Ctrl-C.
pub async fn run(
    rt: crate::runtime::docker::DockerRuntime,
    plan: Plan,
    cluster: crate::engine::cluster_side::ClusterLink,
    state: crate::engine::state_dir::StateDir,
    listen: SocketAddr,
) -> Result<(), SpyError> {
    // Listening for Ctrl-C before the URL is printed: from then on it stops cleanly.
    let interrupt = interrupted();
    let listener = bind(listen).await?;
    let addr = listener.local_addr().map_err(|source| SpyError::Listen {
        addr: listen,
        source,
    })?;
    println!(
        "metallab spy: lab {} at {} (Ctrl-C to stop)",
        plan.lab,
        url_of(addr)
    );
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: the dashboard has no authentication; anyone who can reach {addr} sees the lab and its routers' output"
        );
    }
    let source = DockerLabSource::new(rt, plan.clone(), cluster, state);
    let (interrupted_tx, interrupted) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        interrupt.await;
        eprintln!("metallab spy: stopping");
        let _ = interrupted_tx.send(true);
        // Keep the sender: a dropped sender would read as a second signal.
        std::future::pending::<()>().await;
    });
    let when = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let grace = {
        let interrupted = when(interrupted.clone());
        async move {
            interrupted.await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        }
    };
    tokio::select! {
        result = serve(listener, plan, source, SpyOptions::default(), when(interrupted)) => result,
        () = grace => Ok(()),
    }
}
