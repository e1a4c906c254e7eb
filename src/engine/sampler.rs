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
use crate::kinds::{StatePart, StateQuery};
use crate::plan::{Plan, PlannedCheck, PlannedRouter};
use crate::runtime::docker::DockerRuntime;
use crate::state::{ExecOutput, RouterState};
use crate::topology::model::Placement;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use std::time::SystemTime;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;
use tokio::time::Instant;

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
/// run at most (in case their stdin never closes), and where inside the routers their
/// files are.
pub struct Sampling {
    pub interval: Duration,
    pub at_most: Duration,
    /// `<prefix>-<part>.err`: each sampler's file.
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
                .exec_stream_bound(&r.container, &["sh", "-c", &script], |is_stderr, bytes| {
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

/// Readings of routers' state for checks that wait for it to change (`check`, `up`): a
/// sampler per part of a router's state, started when a check first reads that part and
/// ended once no check has read it for a while, so that routers whose checks are decided
/// are not read on. A reading is the first that arrives after it was asked for.
pub struct LiveSamplers {
    shared: Arc<LiveShared>,
}

struct LiveShared {
    rt: DockerRuntime,
    interval: Duration,
    /// A sampler nobody has waited on for this long ends.
    idle: Duration,
    /// Where a sampler's file is inside its router (`<prefix>-<part>.err`).
    prefix: String,
    running: Mutex<HashMap<(String, StatePart), Live>>,
}

struct Live {
    readings: Arc<watch::Sender<Option<Sample>>>,
    task: tokio::task::JoinHandle<()>,
}

/// One query's output (or why the sampler could not run), and when it arrived.
#[derive(Clone)]
struct Sample {
    arrived: Instant,
    output: Result<(StateQuery, ExecOutput), String>,
}

/// How long a reader waits for its sampler before asking the router itself: a sampler
/// stalls when its container is paused, and a `docker exec` then says so.
const STALLED: Duration = Duration::from_secs(5);

impl LiveSamplers {
    pub fn new(rt: &DockerRuntime, interval: Duration) -> LiveSamplers {
        LiveSamplers {
            shared: Arc::new(LiveShared {
                rt: rt.clone(),
                interval,
                idle: (10 * interval).max(Duration::from_secs(1)),
                prefix: format!("/tmp/metallab-sampler-{}", std::process::id()),
                running: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// `parts` of the router's state from readings that arrive after this call; an error
    /// names the router's container. A sampler that stalls is passed by for a `docker
    /// exec` of the same queries.
    pub async fn read(
        &self,
        r: &PlannedRouter,
        parts: &[StatePart],
    ) -> Result<RouterState, String> {
        let since = Instant::now();
        let queries: Vec<StateQuery> = query::state_queries(r.kind)
            .into_iter()
            .filter(|q| parts.contains(&q.part))
            .collect();
        let readings = queries.iter().map(|q| async move {
            let mut readings = self.subscribe(r, q.part);
            let next = async {
                loop {
                    if let Some(sample) = readings.borrow_and_update().as_ref()
                        && sample.arrived >= since
                    {
                        return sample.output.clone();
                    }
                    if readings.changed().await.is_err() {
                        return Err(format!("{}: the reading of it stopped", r.container));
                    }
                }
            };
            match tokio::time::timeout(STALLED, next).await {
                Ok(sample) => sample,
                Err(_) => {
                    let out = self
                        .shared
                        .rt
                        .exec(&r.container, &q.argv, STALLED)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok((q.clone(), out))
                }
            }
        });
        let outputs: Result<Vec<_>, String> = futures::future::join_all(readings)
            .await
            .into_iter()
            .collect();
        query::assemble(r.kind, &outputs?).map_err(|e| e.to_string())
    }

    /// A receiver of the sampler of `part` of the router, started if it does not run.
    fn subscribe(&self, r: &PlannedRouter, part: StatePart) -> watch::Receiver<Option<Sample>> {
        let shared = &self.shared;
        let mut running = shared
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = (r.container.clone(), part);
        if let Some(live) = running.get(&key)
            && !live.task.is_finished()
        {
            return live.readings.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        let readings = Arc::new(sender);
        let task = tokio::spawn(sample_live(
            Arc::clone(shared),
            r.container.clone(),
            r.kind,
            part,
            Arc::clone(&readings),
        ));
        running.insert(key, Live { readings, task });
        receiver
    }
}

impl Drop for LiveSamplers {
    /// Each sampler's exec is dropped with its task: its stdin closes and it ends.
    fn drop(&mut self) {
        let running = self
            .shared
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for live in running.values() {
            live.task.abort();
        }
    }
}

/// Runs the sampler of one part of one router's state, publishing each reading, until
/// nobody has waited on it for `idle` (it then takes itself off the running ones). A
/// sampler that cannot run (the container stopped) publishes why and starts again after a
/// pause.
async fn sample_live(
    shared: Arc<LiveShared>,
    container: String,
    kind: crate::kinds::RouterKind,
    part: StatePart,
    readings: Arc<watch::Sender<Option<Sample>>>,
) {
    let queries: Vec<StateQuery> = query::state_queries(kind)
        .into_iter()
        .filter(|q| q.part == part)
        .collect();
    // Bounded in case its stdin never closes: about an hour of readings.
    let rounds = (3600.0 / shared.interval.as_secs_f64()).ceil() as u32;
    let script = script(
        &queries,
        shared.interval,
        rounds,
        &format!("{}-{part}", shared.prefix),
    );
    let publish = |output| {
        readings.send_replace(Some(Sample {
            arrived: Instant::now(),
            output,
        }));
    };
    // Ends (true) once nobody has waited for `idle`, taking the sampler off the running
    // ones under the same lock readers subscribe under: a reader is never left waiting.
    let idle = async {
        let mut unread_since = Instant::now();
        loop {
            tokio::time::sleep(shared.interval).await;
            if readings.receiver_count() > 0 {
                unread_since = Instant::now();
                continue;
            }
            if unread_since.elapsed() < shared.idle {
                continue;
            }
            let mut running = shared
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if readings.receiver_count() == 0 {
                running.remove(&(container.clone(), part));
                return;
            }
        }
    };
    tokio::pin!(idle);
    let argv = ["sh", "-c", script.as_str()];
    loop {
        let mut reader = SampleReader::default();
        let ran = shared
            .rt
            .exec_stream_bound(&container, &argv, |is_stderr, bytes| {
                if is_stderr {
                    return;
                }
                for sample in reader.feed(bytes, SystemTime::now()) {
                    publish(Ok((queries[sample.query].clone(), sample.output)));
                }
            });
        let error = tokio::select! {
            ran = ran => match ran {
                Ok(code) => format!("{container}: the command reading it ended (exit code {code})"),
                Err(e) => e.to_string(),
            },
            () = &mut idle => return,
        };
        publish(Err(error));
        tokio::select! {
            () = tokio::time::sleep(shared.interval) => {}
            () = &mut idle => return,
        }
    }
}
