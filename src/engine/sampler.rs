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
                .exec_stream_bound(
                    &r.container,
                    &["sh", "-c", &script],
                    std::future::pending(),
                    |is_stderr, bytes| {
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
                    },
                )
                .await;
            if sink.is_closed() {
                return;
            }
            // It ended (the container stopped, or was never running): the checks fail until
            // it can be read again.
            let error = match ran {
                // Never let go (its stop never comes): it ends with `sink`'s reader.
                Ok(None) => return,
                Ok(Some(code)) => ended(&r.container, code),
                Err(e) => e.to_string(),
            };
            for check in mine.iter().copied() {
                send(check, Err(&error), SystemTime::now());
            }
            tokio::time::sleep(sampling.interval).await;
        }
    }
}

/// Why a sampler's command ended: it ends only when told to, or when its container stops.
fn ended(container: &str, code: i64) -> String {
    format!("{container}: the command reading it ended (exit code {code})")
}

/// Readings of routers' state for checks that wait for it to change (`check`, `up`): a
/// sampler per part of a router's state, started when a check first reads that part and
/// ended once no check has read it for a while, so that routers whose checks are decided
/// are not read on. A reading is the first that arrives after it was asked for. Call
/// [`LiveSamplers::stop`] when done: it lets each sampler's command go once Docker has
/// started it, so that none misses the end-of-file that ends it.
pub struct LiveSamplers {
    shared: Arc<LiveShared>,
}

struct LiveShared {
    rt: DockerRuntime,
    interval: Duration,
    /// A sampler nobody has asked for a reading for this long ends.
    idle: Duration,
    /// The most readings a sampler takes: a bound in case its end-of-file never comes.
    rounds: u32,
    /// Where a sampler's file is inside its router (`<prefix>-<part>.err`).
    prefix: String,
    running: Mutex<HashMap<(String, StatePart), Live>>,
    /// Set by [`LiveSamplers::stop`].
    stopping: watch::Sender<bool>,
}

struct Live {
    readings: Arc<watch::Sender<Option<Sample>>>,
    /// When a reader last asked for a reading.
    asked: Arc<Mutex<Instant>>,
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

/// How long [`LiveSamplers::stop`] waits for the samplers' commands to be let go.
const STOPPING: Duration = Duration::from_secs(5);

impl LiveSamplers {
    /// Samplers taking a reading every `interval`, each for at most `at_most`.
    pub fn new(rt: &DockerRuntime, interval: Duration, at_most: Duration) -> LiveSamplers {
        LiveSamplers {
            shared: Arc::new(LiveShared {
                rt: rt.clone(),
                interval,
                idle: (10 * interval).max(Duration::from_secs(1)),
                rounds: (at_most.as_secs_f64() / interval.as_secs_f64()).ceil() as u32,
                prefix: format!("/tmp/metallab-sampler-{}", std::process::id()),
                running: Mutex::new(HashMap::new()),
                stopping: watch::channel(false).0,
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
            *live.asked.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
            return live.readings.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        let readings = Arc::new(sender);
        let asked = Arc::new(Mutex::new(Instant::now()));
        let task = tokio::spawn(sample_live(
            Arc::clone(shared),
            (r.container.clone(), part),
            r.kind,
            Arc::clone(&readings),
            Arc::clone(&asked),
        ));
        running.insert(
            key,
            Live {
                readings,
                asked,
                task,
            },
        );
        receiver
    }

    /// Ends every sampler: each lets its command go once Docker has started it (at most a
    /// few seconds; the ones still starting then are dropped).
    pub async fn stop(&self) {
        self.shared.stopping.send_replace(true);
        let tasks: Vec<_> = self
            .shared
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, live)| live.task)
            .collect();
        let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
        if tokio::time::timeout(STOPPING, futures::future::join_all(tasks))
            .await
            .is_err()
        {
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
        }
    }
}

impl Drop for LiveSamplers {
    /// Samplers not stopped (an error, Ctrl-C) are dropped with their tasks: their
    /// commands' stdin closes and they end.
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

/// Runs the sampler of one part (`key`: container and part) of a router's state,
/// publishing each reading, until it is stopped or nobody has asked for a reading for
/// `idle` (it then takes itself off the running ones). A sampler that cannot run (the
/// container stopped) publishes why and starts again after a pause.
async fn sample_live(
    shared: Arc<LiveShared>,
    key: (String, StatePart),
    kind: crate::kinds::RouterKind,
    readings: Arc<watch::Sender<Option<Sample>>>,
    asked: Arc<Mutex<Instant>>,
) {
    let (container, part) = (&key.0, key.1);
    let queries: Vec<StateQuery> = query::state_queries(kind)
        .into_iter()
        .filter(|q| q.part == part)
        .collect();
    let script = script(
        &queries,
        shared.interval,
        shared.rounds.max(1),
        &format!("{}-{part}", shared.prefix),
    );
    let publish = |output| {
        readings.send_replace(Some(Sample {
            arrived: Instant::now(),
            output,
        }));
    };
    // Over once stopped, or once nobody has asked for `idle`: that is decided under the
    // lock readers subscribe under, taking the sampler off the running ones, so that no
    // reader is left waiting on it.
    let over = || async {
        let mut stopping = shared.stopping.subscribe();
        loop {
            tokio::select! {
                _ = stopping.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(shared.interval) => {}
            }
            let mut running = shared
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let asked = *asked.lock().unwrap_or_else(PoisonError::into_inner);
            if readings.receiver_count() == 0 && asked.elapsed() >= shared.idle {
                running.remove(&key);
                return;
            }
        }
    };
    let argv = ["sh", "-c", script.as_str()];
    loop {
        let mut reader = SampleReader::default();
        let ran = shared
            .rt
            .exec_stream_bound(container, &argv, over(), |is_stderr, bytes| {
                if is_stderr {
                    return;
                }
                for sample in reader.feed(bytes, SystemTime::now()) {
                    publish(Ok((queries[sample.query].clone(), sample.output)));
                }
            })
            .await;
        let error = match ran {
            Ok(None) => return,
            // It took all its rounds (the bound on a sampler whose end-of-file never
            // came; `check --watch` meets it): another one takes over, unseen by readers.
            Ok(Some(0)) => continue,
            Ok(Some(code)) => ended(container, code),
            Err(e) => e.to_string(),
        };
        publish(Err(error));
        tokio::select! {
            () = tokio::time::sleep(shared.interval) => {}
            () = over() => return,
        }
    }
}
