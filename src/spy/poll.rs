//! Reading the whole lab once, and doing so every poll interval.

use super::server::Published;
use super::{LabSource, SpyOptions};
use crate::plan::Plan;
use crate::view::{LabReading, lab_view};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// Every router (in parallel, each bounded by `timeout`), the node addresses and the
/// cluster, read once.
pub async fn read_lab<S: LabSource>(source: &S, plan: &Plan, timeout: Duration) -> LabReading {
    let routers = plan.routers.iter().map(|r| async move {
        let reading = tokio::time::timeout(timeout, source.read_router(&r.name))
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "{} did not answer within {}",
                    r.name,
                    humantime::format_duration(timeout)
                ))
            });
        (r.name.clone(), reading)
    });
    let (routers, node_ips, cluster, resources) = futures::join!(
        futures::future::join_all(routers),
        tokio::time::timeout(timeout, source.node_ips()),
        tokio::time::timeout(timeout, source.cluster_state()),
        tokio::time::timeout(timeout, source.resources()),
    );
    let resources = resources.ok().flatten();
    let too_slow = |what: &str| {
        format!(
            "{what} did not answer within {}",
            humantime::format_duration(timeout)
        )
    };
    let node_ips = node_ips.unwrap_or_else(|_| Err(too_slow("the node list")));
    let cluster = cluster.unwrap_or_else(|_| Err(too_slow("the cluster")));
    let mut errors = vec![];
    let node_ips = node_ips.unwrap_or_else(|e| {
        errors.push(format!("cannot list the nodes: {e}"));
        vec![]
    });
    let cluster = cluster.unwrap_or_else(|e| {
        errors.push(format!("cannot read the cluster: {e}"));
        None
    });
    LabReading {
        containers: resources
            .as_ref()
            .map(|r| r.containers.clone())
            .unwrap_or_default(),
        detached: resources
            .as_ref()
            .map(|r| r.detached.clone())
            .unwrap_or_default(),
        networks_present: resources.map(|r| r.networks),
        routers: routers.into_iter().collect(),
        cluster,
        cluster_error: (!errors.is_empty()).then(|| errors.join("; ")),
        node_ips,
        read_at_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    }
}

/// Reads the lab every `poll_interval` while anyone watches, and publishes each view, until
/// `stop` turns true.
pub(super) async fn poll_loop<S: LabSource>(
    source: Arc<S>,
    plan: Arc<Plan>,
    published: Published,
    options: SpyOptions,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(options.poll_interval);
    // A slow round delays the next one rather than firing a burst to catch up.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if !published.watched(options.idle_after) {
            // Nobody looks: leave the routers alone until a page or request comes.
            tokio::select! {
                () = published.wanted() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            ticks.reset();
        }
        let reading = read_lab(source.as_ref(), &plan, options.read_timeout).await;
        let mut view = lab_view(&plan, &reading);
        view.faults = source.faults();
        published.publish(view);
    }
}
