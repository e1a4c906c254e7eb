//! `converge`'s readings of routers that run as containers: one long-running command in
//! each router reads the parts of its state the checks need, about every tenth of a second
//! (`drivers::sampler`), and every check is evaluated on each reading as `check_runner`
//! evaluates one. A `docker exec` per reading would cost more than the reading itself and
//! take longer the more readings run at once; the time a reading was taken is then known
//! to within the query itself.

use super::check_runner::{Polled, state_verdict};
use crate::check::evaluate::{state_part, subject};
use crate::drivers::query;
use crate::drivers::sampler::{SampleReader, script};
use crate::kinds::StatePart;
use crate::plan::{Plan, PlannedCheck, PlannedRouter};
use crate::runtime::docker::DockerRuntime;
use crate::topology::model::Placement;
use std::net::IpAddr;
use std::time::Duration;
use std::time::SystemTime;
use tokio::sync::mpsc::UnboundedSender;

/// The checks (indices into `checks`) a sampler reads: router-state checks on routers
/// that run as containers.
pub fn sampled_checks(plan: &Plan, checks: &[PlannedCheck]) -> Vec<usize> {
    (0..checks.len())
        .filter(|i| {
            let kind = &checks[*i].kind;
            state_part(kind).is_some()
                && subject(kind)
                    .and_then(|r| plan.router(r))
                    .is_some_and(|r| r.placement == Placement::Docker)
        })
        .collect()
}

/// How the samplers run: a reading every `interval` (start to start), how long they may
/// run at most (in case nobody stops them), and where inside the routers their files are.
pub struct Sampling {
    pub interval: Duration,
    pub at_most: Duration,
    /// `<prefix>-<part>.pid`, `.out`, `.err`: each sampler's files, all of this run's
    /// found by the prefix.
    prefix: String,
}

impl Sampling {
    pub fn new(interval: Duration, at_most: Duration) -> Sampling {
        Sampling {
            interval,
            at_most,
            prefix: format!("/tmp/metallab-sampler-{}", std::process::id()),
        }
    }
}

/// Samples the routers of the checks `selected` (from [`sampled_checks`]) and sends each
/// check's verdict on every reading into `sink`, until its receiver is gone. Each part of a
/// router's state has a sampler of its own, so that a slow query (vtysh takes some tens of
/// milliseconds) does not space out the readings of the others. A router that cannot be
/// read (its container stopped) fails its checks, and is tried again after a pause.
pub async fn sample_routers(
    rt: &DockerRuntime,
    plan: &Plan,
    checks: &[PlannedCheck],
    selected: &[usize],
    sampling: &Sampling,
    sink: UnboundedSender<Polled>,
) {
    let node_ips: Vec<IpAddr> = plan.cluster_nodes.iter().map(|n| n.ip).collect();
    let mut samplers: Vec<(&PlannedRouter, StatePart)> = Vec::new();
    for i in selected {
        let kind = &checks[*i].kind;
        if let (Some(r), Some(part)) =
            (subject(kind).and_then(|r| plan.router(r)), state_part(kind))
            && !samplers
                .iter()
                .any(|(known, p)| known.name == r.name && *p == part)
        {
            samplers.push((r, part));
        }
    }
    let run = SamplerRun {
        rt,
        checks,
        node_ips,
        sampling,
        sink,
    };
    let run = &run;
    let samplers = samplers.into_iter().map(|(r, part)| {
        let mine: Vec<usize> = selected
            .iter()
            .copied()
            .filter(|i| {
                let kind = &checks[*i].kind;
                subject(kind) == Some(r.name.as_str()) && state_part(kind) == Some(part)
            })
            .collect();
        run.sample_part(r, part, mine)
    });
    futures::future::join_all(samplers).await;
}

/// What every sampler of one run shares.
struct SamplerRun<'a> {
    rt: &'a DockerRuntime,
    checks: &'a [PlannedCheck],
    /// What `nodes` stands for in the checks.
    node_ips: Vec<IpAddr>,
    sampling: &'a Sampling,
    sink: UnboundedSender<Polled>,
}

impl SamplerRun<'_> {
    /// Samples one part of one router's state for the checks `mine`, which read it.
    async fn sample_part(&self, r: &PlannedRouter, part: StatePart, mine: Vec<usize>) {
        let SamplerRun {
            rt,
            checks,
            node_ips,
            sampling,
            sink,
        } = self;
        let queries: Vec<_> = query::state_queries(r.kind)
            .into_iter()
            .filter(|q| q.part == part)
            .collect();
        let rounds =
            (sampling.at_most.as_secs_f64() / sampling.interval.as_secs_f64()).ceil() as u32;
        let files = format!("{}-{part}", sampling.prefix);
        let script = script(&queries, sampling.interval, rounds.max(1), &files);
        let send = |check: usize, reading: Result<&crate::state::RouterState, &String>, at| {
            let kind = &checks[check].kind;
            let verdict = state_verdict(kind, &r.name, reading, node_ips);
            let _ = sink.send(Polled { check, verdict, at });
        };
        loop {
            let mut reader = SampleReader::default();
            let ran = rt
                .exec_stream(&r.container, &["sh", "-c", &script], |is_stderr, bytes| {
                    if is_stderr {
                        return;
                    }
                    for sample in reader.feed(bytes, SystemTime::now()) {
                        let query = &queries[sample.query];
                        let state = query::assemble(r.kind, &[(query.clone(), sample.output)])
                            .map_err(|e| e.to_string());
                        // What the query printed was so when it ended.
                        for check in mine.iter().copied() {
                            send(check, state.as_ref(), sample.at);
                        }
                    }
                })
                .await;
            if sink.is_closed() {
                return;
            }
            // It ended (the container stopped, or was never running): the checks fail until
            // it can be read again.
            let error = match ran {
                Ok(code) => format!(
                    "{}: the command reading it ended (exit code {code})",
                    r.container
                ),
                Err(e) => e.to_string(),
            };
            for check in mine.iter().copied() {
                send(check, Err(&error), SystemTime::now());
            }
            tokio::time::sleep(sampling.interval).await;
        }
    }
}

/// Stops the samplers inside the routers of the checks `selected` (best effort: each
/// also stops by itself when its output goes nowhere, or after `Sampling::at_most`).
pub async fn stop_samplers(
    rt: &DockerRuntime,
    plan: &Plan,
    checks: &[PlannedCheck],
    selected: &[usize],
    sampling: &Sampling,
) {
    let mut containers: Vec<&str> = selected
        .iter()
        .filter_map(|i| subject(&checks[*i].kind).and_then(|r| plan.router(r)))
        .map(|r| r.container.as_str())
        .collect();
    containers.sort();
    containers.dedup();
    let kill = format!(
        "for f in {prefix}-*.pid; do [ -e \"$f\" ] && kill $(cat \"$f\") 2>/dev/null; done; rm -f {prefix}-*",
        prefix = sampling.prefix
    );
    let argv = ["sh", "-c", kill.as_str()];
    let argv = &argv;
    let stops = containers
        .into_iter()
        .map(|c| rt.exec(c, argv, Duration::from_secs(10)));
    futures::future::join_all(stops).await;
}
