//! The polling check runner: every check polls in parallel until it passes or its deadline.
//!
//! Routers converge at their own pace (BGP timers, BFD, MetalLB speakers starting), so a
//! check is not asked once but re-evaluated every poll interval. Reads of one router's state
//! are shared between the checks that need it within a short time-to-live, so twenty checks
//! on one router cost one `vtysh` call per round, not twenty. `check --watch` evaluates
//! every check in rounds ([`evaluate_round`]); `converge` polls the checks its samplers do
//! not read (`engine::sampler`) in groups that do not wait for each other ([`poll_checks`]).

use crate::check::evaluate::{
    Verdict, evaluate_probe, evaluate_state, kind_label, needs_node_ips, probe_command, state_part,
    subject,
};
pub use crate::check::result::{CheckResult, Outcome};
use crate::check::service::evaluate_service;
use crate::check::text::elapsed;
use crate::kinds::StatePart;
use crate::plan::{CheckKind, PlannedCheck};
use crate::state::ExecOutput;
use crate::state::{ClusterState, RouterState};
use futures::future::{BoxFuture, FutureExt, Shared, join_all};
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// What the runner needs from a running lab; the Docker-backed engine implements it.
/// Errors are messages for the user (they end up in the check's failure reason).
pub trait LabProbe: Send + Sync {
    /// The router's state, read through its own CLI.
    fn read_state(&self, router: &str) -> impl Future<Output = Result<RouterState, String>> + Send;

    /// Only `parts` of the router's state (fewer commands than a whole reading; the other
    /// parts stay empty). By default the whole state.
    fn read_parts(
        &self,
        router: &str,
        _parts: &[StatePart],
    ) -> impl Future<Output = Result<RouterState, String>> + Send {
        self.read_state(router)
    }

    /// Runs a command inside the router's container.
    fn exec(
        &self,
        router: &str,
        argv: &[String],
    ) -> impl Future<Output = Result<ExecOutput, String>> + Send;

    /// The router daemon's own view of `prefix` (its route entry, next-hop resolution,
    /// recent log lines), as commands with their output; empty when there is nothing to
    /// ask. Added to the evidence of a kernel-route check that failed, so the failure
    /// says why the learned route is not in the kernel.
    fn prefix_view(
        &self,
        _router: &str,
        _prefix: ipnet::IpNet,
    ) -> impl Future<Output = String> + Send {
        async { String::new() }
    }

    /// The addresses `nodes` stands for.
    fn node_ips(&self) -> impl Future<Output = Result<Vec<IpAddr>, String>> + Send;

    /// The cluster's state (nodes, MetalLB pods, Services, events); None when the lab has
    /// no cluster. Service checks read it.
    fn cluster_state(
        &self,
    ) -> impl Future<Output = Result<Option<crate::state::ClusterState>, String>> + Send {
        async { Ok(None) }
    }

    /// The address ranges of the lab's MetalLB pool `pool` (inclusive first and last
    /// address), for Service checks with `pool:`; None when unknown, and the check then
    /// goes by MetalLB's pool annotation alone. `check::service::pool_ranges` computes
    /// them from the plan.
    fn pool_ranges(&self, _pool: &str) -> Option<Vec<(IpAddr, IpAddr)>> {
        None
    }
}

/// The reason of a Service check in a lab without a cluster: final, not worth polling.
const NO_CLUSTER: &str = "lab has no cluster";

#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Replaces every check's own deadline (`metallab check --timeout`).
    pub timeout_override: Option<Duration>,
    /// Pause between two attempts of one check.
    pub poll_interval: Duration,
    /// How long one reading of a router's state is reused by other checks.
    pub state_ttl: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout_override: None,
            // A pass is seen within a tenth of a second of happening; the reads behind
            // it are shared by every check of the round (see `ReadCache`).
            poll_interval: Duration::from_millis(100),
            state_ttl: Duration::from_millis(100),
        }
    }
}

impl RunOptions {
    /// For a probe whose readings come from samplers (`DockerProbe::sampling`): each
    /// reading arrives fresh, so none is kept for later attempts.
    pub fn sampled(self) -> RunOptions {
        RunOptions {
            state_ttl: Duration::ZERO,
            ..self
        }
    }

    /// How long the longest of `checks` may take.
    pub fn longest(&self, checks: &[PlannedCheck]) -> Duration {
        checks
            .iter()
            .map(|c| self.timeout_override.unwrap_or(c.timeout))
            .max()
            .unwrap_or_default()
    }
}

/// Progress reported while checks run, e.g. to print a line as each check finishes.
#[derive(Debug, Clone, Copy)]
pub enum CheckEvent<'a> {
    /// One evaluation of a check; failing attempts say why the check is still waiting.
    Attempt {
        check: &'a str,
        attempt: u32,
        verdict: &'a Verdict,
    },
    Finished(&'a CheckResult),
}

/// Runs every check in parallel; results come back in the order of `checks`.
pub async fn run_checks<P: LabProbe>(
    probe: &P,
    checks: &[PlannedCheck],
    opts: RunOptions,
) -> Vec<CheckResult> {
    run_checks_with_progress(probe, checks, opts, |_| {}).await
}

/// [`run_checks`], calling `on_event` after every attempt and when each check finishes.
pub async fn run_checks_with_progress<P, F>(
    probe: &P,
    checks: &[PlannedCheck],
    opts: RunOptions,
    on_event: F,
) -> Vec<CheckResult>
where
    P: LabProbe,
    F: Fn(CheckEvent<'_>) + Sync,
{
    let reader = LabReader::new(probe, opts.state_ttl);
    let runs = checks.iter().map(|check| async {
        let result = run_check(&reader, check, &opts, &on_event).await;
        on_event(CheckEvent::Finished(&result));
        result
    });
    join_all(runs).await
}

/// One evaluation of every check, the lab read once for all of them (`check --watch`).
/// A check whose reading takes longer than `timeout` fails for that round.
pub async fn evaluate_round<P: LabProbe>(
    probe: &P,
    checks: &[PlannedCheck],
    timeout: Duration,
) -> Vec<Verdict> {
    let reader = &LabReader::new(probe, RunOptions::default().state_ttl);
    join_all(checks.iter().map(|check| async move {
        tokio::time::timeout(timeout, attempt(reader, check))
            .await
            .unwrap_or_else(|_| Verdict::Fail {
                reason: format!(
                    "{} did not answer within {}",
                    subject(&check.kind).unwrap_or("the cluster"),
                    elapsed(timeout)
                ),
                evidence: String::new(),
            })
    }))
    .await
}

/// One reading of a check while `converge` watches: its verdict, and when the reading was
/// complete (the lab was as it says by then).
#[derive(Debug, Clone)]
pub struct Polled {
    /// Its index in the checks.
    pub check: usize,
    pub verdict: Verdict,
    pub at: std::time::SystemTime,
}

/// What a group of checks reads together in [`poll_checks`].
#[derive(Debug, PartialEq)]
enum Reads<'a> {
    /// One part of one router's state (one command in it).
    Router(&'a str, StatePart),
    /// The cluster's state, for Service checks.
    Cluster,
    /// A probe (HTTP, ping) of its own: check `usize`.
    Alone(usize),
}

/// The checks that are read together: those on one part of one router's state share each
/// reading of it, the cluster's Service checks each reading of the cluster; a probe runs
/// alone. In the order groups first appear, with indices into `checks`.
fn reading_groups(checks: &[PlannedCheck]) -> Vec<(Reads<'_>, Vec<usize>)> {
    let mut groups: Vec<(Reads, Vec<usize>)> = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        let reads = match (subject(&check.kind), state_part(&check.kind)) {
            (Some(router), Some(part)) => Reads::Router(router, part),
            (None, _) => Reads::Cluster,
            (Some(_), None) => Reads::Alone(i),
        };
        match groups.iter_mut().find(|(r, _)| *r == reads) {
            Some((_, members)) => members.push(i),
            None => groups.push((reads, vec![i])),
        }
    }
    groups
}

/// Polls the checks `selected` (indices into `checks`) until the receiver of `sink` is gone
/// (`converge`). Each group of [`reading_groups`] is evaluated in rounds of its own, one
/// every `interval` (or right after the previous one when that took longer), so a probe
/// waiting for its timeout or a slow router holds up no other check, and a router-state
/// check waits for one command.
pub async fn poll_checks<P: LabProbe>(
    probe: &P,
    checks: &[PlannedCheck],
    selected: &[usize],
    interval: Duration,
    sink: tokio::sync::mpsc::UnboundedSender<Polled>,
) {
    let sink = &sink;
    let groups = reading_groups(checks)
        .into_iter()
        .map(|(_, group)| -> Vec<usize> {
            group.into_iter().filter(|i| selected.contains(i)).collect()
        })
        .filter(|group| !group.is_empty());
    let loops = groups.map(|group| async move {
        let members: Vec<PlannedCheck> = group.iter().map(|i| checks[*i].clone()).collect();
        loop {
            let started = Instant::now();
            let verdicts = evaluate_round(probe, &members, ROUND_TIMEOUT).await;
            let at = std::time::SystemTime::now();
            for (check, verdict) in group.iter().zip(verdicts) {
                let polled = Polled {
                    check: *check,
                    verdict,
                    at,
                };
                if sink.send(polled).is_err() {
                    return;
                }
            }
            tokio::time::sleep_until(started + interval).await;
        }
    });
    join_all(loops).await;
}

/// How long one reading may take in a round of [`poll_checks`] before the check fails it.
const ROUND_TIMEOUT: Duration = Duration::from_secs(15);

async fn run_check<P: LabProbe>(
    reader: &LabReader<'_, P>,
    check: &PlannedCheck,
    opts: &RunOptions,
    on_event: &(impl Fn(CheckEvent<'_>) + Sync),
) -> CheckResult {
    let result = |outcome| CheckResult {
        name: check.name.clone(),
        kind: kind_label(&check.kind).to_string(),
        subject: subject(&check.kind).map(str::to_string),
        outcome,
    };
    // What answers the check: a router, or the cluster for Service checks.
    let target = subject(&check.kind).unwrap_or("the cluster");

    let deadline = opts.timeout_override.unwrap_or(check.timeout);
    let started = Instant::now();
    let mut attempts = 0;
    let mut last_failure = None;
    loop {
        attempts += 1;
        // Attempts start every poll interval, however long the reading took: a reading
        // through `docker exec` takes a good part of it, and waiting a whole interval
        // after it would see a change that much later.
        let attempt_started = Instant::now();
        let remaining = deadline.saturating_sub(started.elapsed());
        // A hung CLI must not hold the check past its deadline.
        if let Ok(verdict) = tokio::time::timeout(remaining, attempt(reader, check)).await {
            on_event(CheckEvent::Attempt {
                check: &check.name,
                attempt: attempts,
                verdict: &verdict,
            });
            match verdict {
                Verdict::Pass { detail } => {
                    return result(Outcome::Passed {
                        after: started.elapsed(),
                        attempts,
                        detail,
                    });
                }
                Verdict::Fail { ref reason, .. } if reason == NO_CLUSTER => {
                    // A lab without a cluster does not grow one: say so at once.
                    last_failure = Some(verdict);
                    break;
                }
                failure => last_failure = Some(failure),
            }
        }
        let remaining = deadline.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            break;
        }
        // The last attempt lands on the deadline itself.
        let pause = opts
            .poll_interval
            .saturating_sub(attempt_started.elapsed())
            .min(remaining);
        tokio::time::sleep(pause).await;
    }

    let (reason, mut evidence) = match last_failure {
        Some(Verdict::Fail { reason, evidence }) => (reason, evidence),
        _ => (
            format!("{target} did not answer within {}", elapsed(deadline)),
            String::new(),
        ),
    };
    if let CheckKind::KernelRoute { router, prefix, .. } = &check.kind {
        let view = reader.probe.prefix_view(router, *prefix).await;
        if !view.trim().is_empty() {
            if !evidence.is_empty() && !evidence.ends_with('\n') {
                evidence.push('\n');
            }
            evidence.push_str(&format!("{router}'s own view of {prefix}:\n{view}"));
        }
    }
    result(Outcome::Failed {
        after: started.elapsed(),
        attempts,
        reason,
        evidence,
    })
}

/// One evaluation of a check.
async fn attempt<P: LabProbe>(reader: &LabReader<'_, P>, check: &PlannedCheck) -> Verdict {
    let kind = &check.kind;
    let Some(router) = subject(kind) else {
        return attempt_service(reader, kind).await;
    };
    if let Some(argv) = probe_command(kind) {
        return match reader.probe.exec(router, &argv).await {
            Ok(out) => evaluate_probe(kind, &out),
            Err(error) => Verdict::Fail {
                reason: format!(
                    "could not run {} in {router}: {}",
                    argv[0],
                    first_line(&error)
                ),
                evidence: error,
            },
        };
    }
    let node_ips = if needs_node_ips(kind) {
        match reader.node_ips().await {
            Ok(ips) => ips,
            Err(error) => {
                return Verdict::Fail {
                    reason: format!("could not list the cluster nodes: {}", first_line(&error)),
                    evidence: error,
                };
            }
        }
    } else {
        Arc::default()
    };
    state_verdict(
        kind,
        router,
        reader.state(router, state_part(kind)).await.as_deref(),
        &node_ips,
    )
}

/// A router-state check's verdict on one reading of its router's state, or on the error
/// that reading ended with.
pub fn state_verdict(
    kind: &CheckKind,
    router: &str,
    reading: Result<&RouterState, &String>,
    node_ips: &[IpAddr],
) -> Verdict {
    match reading {
        Ok(state) => evaluate_state(kind, state, node_ips),
        Err(error) => Verdict::Fail {
            reason: format!("could not read router {router}: {}", first_line(error)),
            evidence: error.clone(),
        },
    }
}

/// One evaluation of a Service check against the cluster's state.
async fn attempt_service<P: LabProbe>(reader: &LabReader<'_, P>, kind: &CheckKind) -> Verdict {
    match reader.cluster_state().await {
        Ok(state) => match state.as_ref() {
            Some(state) => {
                let ranges = match kind {
                    CheckKind::Service {
                        pool: Some(pool), ..
                    } => reader.probe.pool_ranges(pool),
                    _ => None,
                };
                evaluate_service(kind, state, ranges.as_deref())
            }
            None => Verdict::Fail {
                reason: NO_CLUSTER.into(),
                evidence: String::new(),
            },
        },
        Err(error) => Verdict::Fail {
            reason: format!("could not read the cluster: {}", first_line(&error)),
            evidence: error,
        },
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// Shared, briefly cached reads of the lab for all checks of one run.
struct LabReader<'a, P> {
    probe: &'a P,
    states: ReadCache<'a, RouterState>,
    node_ips: ReadCache<'a, Vec<IpAddr>>,
    cluster: ReadCache<'a, Option<ClusterState>>,
}

impl<'a, P: LabProbe> LabReader<'a, P> {
    fn new(probe: &'a P, ttl: Duration) -> Self {
        LabReader {
            probe,
            states: ReadCache::new(ttl),
            node_ips: ReadCache::new(ttl),
            cluster: ReadCache::new(ttl),
        }
    }

    /// The part of the router's state a check reads (only that part is asked for), or
    /// all of it.
    async fn state(&self, router: &str, part: Option<StatePart>) -> Reading<RouterState> {
        let probe = self.probe;
        let owned = router.to_string();
        let (key, parts) = match part {
            Some(part) => (format!("{router} {part}"), Some(vec![part])),
            None => (router.to_string(), None),
        };
        self.states
            .get(&key, move || async move {
                match parts {
                    Some(parts) => probe.read_parts(&owned, &parts).await,
                    None => probe.read_state(&owned).await,
                }
            })
            .await
    }

    async fn node_ips(&self) -> Reading<Vec<IpAddr>> {
        let probe = self.probe;
        self.node_ips
            .get("nodes", move || async move { probe.node_ips().await })
            .await
    }

    /// One reading of the cluster serves every Service check of a round.
    async fn cluster_state(&self) -> Reading<Option<ClusterState>> {
        let probe = self.probe;
        self.cluster
            .get(
                "cluster",
                move || async move { probe.cluster_state().await },
            )
            .await
    }
}

type Reading<T> = Result<Arc<T>, String>;

/// A read in flight or done, with the instant it completed. `Shared` lets every check that
/// asks while the read is in flight wait for that same read.
type SharedRead<'a, T> = Shared<BoxFuture<'a, (Instant, Reading<T>)>>;

/// Reads keyed by router, reused while in flight and for `ttl` after they complete (errors
/// too: a router that just failed to answer is not asked again by every other check).
struct ReadCache<'a, T> {
    ttl: Duration,
    entries: Mutex<HashMap<String, SharedRead<'a, T>>>,
}

impl<'a, T: Send + Sync + 'a> ReadCache<'a, T> {
    fn new(ttl: Duration) -> Self {
        ReadCache {
            ttl,
            entries: Mutex::default(),
        }
    }

    async fn get<F>(&self, key: &str, read: impl FnOnce() -> F) -> Reading<T>
    where
        F: Future<Output = Result<T, String>> + Send + 'a,
    {
        let shared = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            match entries.get(key) {
                Some(entry) if self.is_fresh(entry) => entry.clone(),
                _ => {
                    let fresh = read();
                    let entry = async move {
                        let reading = fresh.await.map(Arc::new);
                        (Instant::now(), reading)
                    }
                    .boxed()
                    .shared();
                    entries.insert(key.to_string(), entry.clone());
                    entry
                }
            }
        };
        shared.await.1
    }

    fn is_fresh(&self, entry: &SharedRead<'a, T>) -> bool {
        match entry.peek() {
            None => true,
            Some((completed, _)) => completed.elapsed() < self.ttl,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{CheckKind, Expected};
    use crate::render::fixtures::exec_output;
    use crate::state::{BfdPeer, BfdState, Path, Route, Session, SessionState};
    use crate::test_support::ip;
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const POLL: Duration = Duration::from_millis(10);

    fn opts() -> RunOptions {
        RunOptions {
            timeout_override: None,
            poll_interval: POLL,
            state_ttl: Duration::from_millis(5),
        }
    }

    /// A lab whose routers answer with scripted states, one per read; the last one repeats.
    #[derive(Default)]
    struct FakeLab {
        states: HashMap<String, Vec<Result<RouterState, String>>>,
        reads: Mutex<HashMap<String, usize>>,
        /// Routers whose CLI never answers.
        hung: Vec<String>,
        exec_outputs: Mutex<VecDeque<ExecOutput>>,
        execs: Mutex<Vec<(String, Vec<String>)>>,
        nodes: Vec<IpAddr>,
        node_reads: AtomicUsize,
        /// Scripted cluster readings, one per read; the last one repeats. None: no cluster.
        clusters: Vec<Result<Option<ClusterState>, String>>,
        cluster_reads: AtomicUsize,
        pools: HashMap<String, Vec<(IpAddr, IpAddr)>>,
        /// The daemon's view of prefixes, by router.
        prefix_views: HashMap<String, String>,
        prefix_view_asks: Mutex<Vec<(String, ipnet::IpNet)>>,
    }

    impl FakeLab {
        fn with_states(router: &str, states: Vec<Result<RouterState, String>>) -> Self {
            FakeLab {
                states: HashMap::from([(router.to_string(), states)]),
                ..FakeLab::default()
            }
        }

        /// Reads of the router's whole state.
        fn reads_of(&self, router: &str) -> usize {
            self.reads.lock().unwrap().get(router).copied().unwrap_or(0)
        }

        /// Reads of one part of the router's state.
        fn part_reads_of(&self, router: &str, part: StatePart) -> usize {
            self.reads_of(&format!("{router} {part}"))
        }

        /// The router's next scripted state; `key` counts the reads (each key goes
        /// through the script on its own).
        async fn next_state(&self, router: &str, key: String) -> Result<RouterState, String> {
            if self.hung.iter().any(|r| r == router) {
                std::future::pending::<()>().await;
            }
            let n = {
                let mut reads = self.reads.lock().unwrap();
                let n = reads.entry(key).or_default();
                *n += 1;
                *n
            };
            let script = &self.states[router];
            script[(n - 1).min(script.len() - 1)].clone()
        }
    }

    impl LabProbe for FakeLab {
        async fn read_state(&self, router: &str) -> Result<RouterState, String> {
            self.next_state(router, router.to_string()).await
        }

        async fn read_parts(
            &self,
            router: &str,
            parts: &[StatePart],
        ) -> Result<RouterState, String> {
            let [part] = parts else {
                panic!("checks read one part at a time, not {parts:?}")
            };
            self.next_state(router, format!("{router} {part}")).await
        }

        async fn exec(&self, router: &str, argv: &[String]) -> Result<ExecOutput, String> {
            self.execs
                .lock()
                .unwrap()
                .push((router.to_string(), argv.to_vec()));
            let mut outputs = self.exec_outputs.lock().unwrap();
            let out = if outputs.len() > 1 {
                outputs.pop_front()
            } else {
                outputs.front().cloned()
            };
            out.ok_or_else(|| "no scripted output".to_string())
        }

        async fn node_ips(&self) -> Result<Vec<IpAddr>, String> {
            self.node_reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.nodes.clone())
        }

        async fn cluster_state(&self) -> Result<Option<ClusterState>, String> {
            let n = self.cluster_reads.fetch_add(1, Ordering::SeqCst);
            match self.clusters.len() {
                0 => Ok(None),
                len => self.clusters[n.min(len - 1)].clone(),
            }
        }

        fn pool_ranges(&self, pool: &str) -> Option<Vec<(IpAddr, IpAddr)>> {
            self.pools.get(pool).cloned()
        }

        async fn prefix_view(&self, router: &str, prefix: ipnet::IpNet) -> String {
            self.prefix_view_asks
                .lock()
                .unwrap()
                .push((router.to_string(), prefix));
            self.prefix_views.get(router).cloned().unwrap_or_default()
        }
    }

    fn check(name: &str, kind: CheckKind) -> PlannedCheck {
        PlannedCheck {
            name: name.to_string(),
            timeout: Duration::from_millis(100),
            kind,
        }
    }

    fn session_check(peer: &str) -> PlannedCheck {
        check(
            &format!("frr1: session {peer}"),
            CheckKind::Session {
                router: "frr1".into(),
                peers: vec![Expected::Address(ip(peer))],
                state: SessionState::Established,
            },
        )
    }

    fn with_session(state: SessionState) -> RouterState {
        RouterState {
            sessions: vec![Session {
                peer: ip("10.0.0.2"),
                remote_as: Some(64512),
                local_as: Some(64500),
                state,
                since_secs: None,
                prefixes_received: None,
                name: None,
                last_error: None,
            }],
            ..RouterState::default()
        }
    }

    fn converged() -> RouterState {
        RouterState {
            routes: vec![Route {
                prefix: "192.0.2.0/24".parse().unwrap(),
                paths: vec![Path {
                    next_hop: Some(ip("10.0.0.2")),
                    best: true,
                    ..Path::default()
                }],
            }],
            bfd_peers: vec![BfdPeer {
                peer: ip("10.0.0.2"),
                local: None,
                interface: None,
                state: BfdState::Up,
                since_secs: None,
            }],
            ..with_session(SessionState::Established)
        }
    }

    fn outcome_reason(result: &CheckResult) -> &str {
        match &result.outcome {
            Outcome::Failed { reason, .. } => reason,
            Outcome::Passed { .. } => panic!("{} passed", result.name),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_kernel_route_check_shows_the_daemons_own_view_of_the_prefix() {
        let mut lab = FakeLab::with_states("frr1", vec![Ok(converged())]);
        lab.prefix_views.insert(
            "frr1".into(),
            "$ vtysh -c 'show ip route 192.0.2.0/24'\nRouting entry for 192.0.2.0/24\n".into(),
        );
        let kernel = check(
            "frr1: kernel route 192.0.2.0/24",
            CheckKind::KernelRoute {
                router: "frr1".into(),
                prefix: "192.0.2.0/24".parse().unwrap(),
                present: true,
                nexthops: None,
            },
        );
        let results = run_checks(&lab, &[kernel, session_check("10.0.0.2")], opts()).await;
        let Outcome::Failed { evidence, .. } = &results[0].outcome else {
            panic!("{:?}", results[0])
        };
        assert!(
            evidence.starts_with("frr1's kernel routing table is empty\n"),
            "{evidence}"
        );
        assert!(
            evidence.ends_with(
                "frr1's own view of 192.0.2.0/24:\n$ vtysh -c 'show ip route 192.0.2.0/24'\nRouting entry for 192.0.2.0/24\n"
            ),
            "{evidence}"
        );
        // Asked once, when the check had failed; a passing check does not ask.
        assert_eq!(
            *lab.prefix_view_asks.lock().unwrap(),
            [("frr1".to_string(), "192.0.2.0/24".parse().unwrap())]
        );
        assert!(results[1].passed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_polls_until_the_router_converges() {
        let lab = FakeLab::with_states(
            "frr1",
            vec![
                Ok(with_session(SessionState::Idle)),
                Ok(with_session(SessionState::Active)),
                Ok(with_session(SessionState::Established)),
            ],
        );
        let verdicts = Mutex::new(Vec::new());
        let results = run_checks_with_progress(&lab, &[session_check("10.0.0.2")], opts(), |e| {
            if let CheckEvent::Attempt {
                attempt, verdict, ..
            } = e
            {
                verdicts.lock().unwrap().push((attempt, verdict.clone()));
            }
        })
        .await;

        let verdicts = verdicts.into_inner().unwrap();
        let reasons: Vec<(u32, String)> = verdicts
            .iter()
            .map(|(n, v)| match v {
                Verdict::Fail { reason, .. } => (*n, reason.clone()),
                Verdict::Pass { detail } => (*n, format!("pass: {detail}")),
            })
            .collect();
        assert_eq!(
            reasons,
            vec![
                (
                    1,
                    "session with 10.0.0.2 is idle, expected established".into()
                ),
                (
                    2,
                    "session with 10.0.0.2 is active, expected established".into()
                ),
                (3, "pass: established with 10.0.0.2".into()),
            ]
        );
        assert_eq!(results.len(), 1);
        assert_eq!(
            results[0].outcome,
            Outcome::Passed {
                after: 2 * POLL,
                attempts: 3,
                detail: "established with 10.0.0.2".into()
            }
        );
        assert_eq!(results[0].kind, "session");
        assert_eq!(results[0].subject.as_deref(), Some("frr1"));
        assert_eq!(lab.part_reads_of("frr1", StatePart::Sessions), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn checks_on_one_part_of_a_router_share_each_reading() {
        let mut lab = FakeLab::with_states(
            "frr1",
            vec![
                Ok(RouterState::default()),
                Ok(RouterState::default()),
                Ok(converged()),
            ],
        );
        lab.states.insert(
            "bird1".into(),
            vec![Ok(with_session(SessionState::Established))],
        );
        let checks = vec![
            session_check("10.0.0.2"),
            check(
                "frr1: session again",
                CheckKind::Session {
                    router: "frr1".into(),
                    peers: vec![Expected::Address(ip("10.0.0.2"))],
                    state: SessionState::Established,
                },
            ),
            check(
                "frr1: route",
                CheckKind::Route {
                    router: "frr1".into(),
                    prefix: "192.0.2.0/24".parse().unwrap(),
                    present: true,
                    nexthops: Some(vec![Expected::Address(ip("10.0.0.2"))]),
                    local_pref: None,
                    communities: None,
                    as_path: None,
                },
            ),
            check(
                "frr1: bfd",
                CheckKind::Bfd {
                    router: "frr1".into(),
                    peers: vec![Expected::Address(ip("10.0.0.2"))],
                    state: BfdState::Up,
                },
            ),
            check(
                "bird1: session",
                CheckKind::Session {
                    router: "bird1".into(),
                    peers: vec![Expected::Address(ip("10.0.0.2"))],
                    state: SessionState::Established,
                },
            ),
        ];
        let results = run_checks(&lab, &checks, opts()).await;

        let attempts: Vec<(&str, bool, u32)> = results
            .iter()
            .map(|r| (r.name.as_str(), r.passed(), r.attempts()))
            .collect();
        assert_eq!(
            attempts,
            vec![
                ("frr1: session 10.0.0.2", true, 3),
                ("frr1: session again", true, 3),
                ("frr1: route", true, 3),
                ("frr1: bfd", true, 3),
                ("bird1: session", true, 1),
            ]
        );
        // Three rounds: one read of each part of frr1 per round, shared by the checks
        // on that part; nothing else of it is read.
        assert_eq!(lab.part_reads_of("frr1", StatePart::Sessions), 3);
        assert_eq!(lab.part_reads_of("frr1", StatePart::Routes), 3);
        assert_eq!(lab.part_reads_of("frr1", StatePart::Bfd), 3);
        assert_eq!(lab.part_reads_of("frr1", StatePart::Kernel), 0);
        assert_eq!(lab.reads_of("frr1"), 0);
        assert_eq!(lab.part_reads_of("bird1", StatePart::Sessions), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_never_passes_fails_with_the_last_evidence() {
        let mut stuck = with_session(SessionState::Active);
        stuck.sessions[0].last_error = Some("Connection refused".into());
        let lab = FakeLab::with_states(
            "frr1",
            vec![Ok(with_session(SessionState::Idle)), Ok(stuck)],
        );
        let results = run_checks(&lab, &[session_check("10.0.0.2")], opts()).await;

        // Attempts at 0, 10, …, 100 ms: the last one on the 100 ms deadline.
        let Outcome::Failed {
            attempts,
            reason,
            evidence,
            ..
        } = &results[0].outcome
        else {
            panic!("passed: {:?}", results[0]);
        };
        assert_eq!(*attempts, 11);
        assert_eq!(
            reason,
            "session with 10.0.0.2 is active, expected established"
        );
        assert!(evidence.contains("Connection refused"), "{evidence}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_global_timeout_overrides_each_checks_deadline() {
        let lab = FakeLab::with_states("frr1", vec![Ok(RouterState::default())]);
        let opts = RunOptions {
            timeout_override: Some(Duration::from_millis(30)),
            ..opts()
        };
        let results = run_checks(&lab, &[session_check("10.0.0.2")], opts).await;
        assert!(!results[0].passed());
        assert_eq!(results[0].attempts(), 4);
        assert_eq!(
            outcome_reason(&results[0]),
            "frr1 has no session with 10.0.0.2: the peer is not configured"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_error_is_a_failed_attempt_and_polling_goes_on() {
        let lab = FakeLab::with_states(
            "frr1",
            vec![
                Err("vtysh: failed to connect to any daemons".into()),
                Ok(with_session(SessionState::Established)),
            ],
        );
        let failures = Mutex::new(Vec::new());
        let results = run_checks_with_progress(&lab, &[session_check("10.0.0.2")], opts(), |e| {
            if let CheckEvent::Attempt {
                verdict: Verdict::Fail { reason, .. },
                ..
            } = e
            {
                failures.lock().unwrap().push(reason.clone());
            }
        })
        .await;
        assert_eq!(
            failures.into_inner().unwrap(),
            vec!["could not read router frr1: vtysh: failed to connect to any daemons"]
        );
        assert!(results[0].passed());
        assert_eq!(results[0].attempts(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_router_fails_at_the_deadline() {
        let lab = FakeLab {
            hung: vec!["frr1".into()],
            ..FakeLab::default()
        };
        let results = run_checks(&lab, &[session_check("10.0.0.2")], opts()).await;
        assert_eq!(results[0].attempts(), 1);
        assert_eq!(
            outcome_reason(&results[0]),
            "frr1 did not answer within 0.1s"
        );
    }

    fn service_check(name: &str, ip: Option<&str>, pool: Option<&str>) -> PlannedCheck {
        check(
            name,
            CheckKind::Service {
                namespace: "default".into(),
                name: "web".into(),
                ip: ip.map(crate::test_support::ip),
                pool: pool.map(str::to_string),
                event: None,
            },
        )
    }

    fn cluster_with(ips: &[&str], pool: Option<&str>) -> ClusterState {
        ClusterState {
            services: vec![crate::state::cluster::ServiceInfo {
                namespace: "default".into(),
                name: "web".into(),
                ips: ips.iter().map(|a| ip(a)).collect(),
                ports: vec![80],
                pool: pool.map(str::to_string),
            }],
            ..ClusterState::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn service_checks_fail_at_once_without_a_cluster() {
        let lab = FakeLab::default();
        let service = service_check("default/web gets an IP", None, None);
        let finished = AtomicUsize::new(0);
        let results = run_checks_with_progress(&lab, &[service], opts(), |e| {
            if matches!(e, CheckEvent::Finished(_)) {
                finished.fetch_add(1, Ordering::SeqCst);
            }
        })
        .await;
        assert_eq!(
            results[0],
            CheckResult {
                name: "default/web gets an IP".into(),
                kind: "service".into(),
                subject: None,
                outcome: Outcome::Failed {
                    after: Duration::ZERO,
                    attempts: 1,
                    reason: "lab has no cluster".into(),
                    evidence: String::new(),
                },
            }
        );
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        assert_eq!(lab.cluster_reads.load(Ordering::SeqCst), 1);
        assert!(lab.reads.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn service_checks_poll_the_cluster_until_the_service_gets_its_address() {
        let lab = FakeLab {
            clusters: vec![
                Err("list services: HyperError: connection closed before message completed".into()),
                Ok(Some(cluster_with(&[], None))),
                Ok(Some(cluster_with(&["203.0.113.200"], None))),
            ],
            pools: HashMap::from([(
                "doc-example".to_string(),
                vec![(ip("203.0.113.200"), ip("203.0.113.203"))],
            )]),
            ..FakeLab::default()
        };
        let checks = [
            service_check("web: ip", Some("203.0.113.200"), None),
            // Older MetalLB: no pool annotation, so the pool's ranges from the probe decide.
            service_check("web: pool", None, Some("doc-example")),
        ];
        let failures = Mutex::new(Vec::new());
        let results = run_checks_with_progress(&lab, &checks, opts(), |e| {
            if let CheckEvent::Attempt {
                check: "web: ip",
                verdict: Verdict::Fail { reason, .. },
                ..
            } = e
            {
                failures.lock().unwrap().push(reason.clone());
            }
        })
        .await;
        assert_eq!(
            failures.into_inner().unwrap(),
            vec![
                "could not read the cluster: list services: HyperError: connection closed before message completed",
                "default/web has no external IP yet",
            ]
        );
        assert!(results.iter().all(CheckResult::passed), "{results:?}");
        assert_eq!(
            results
                .iter()
                .map(CheckResult::attempts)
                .collect::<Vec<_>>(),
            vec![3, 3]
        );
        // Both checks share each round's reading.
        assert_eq!(lab.cluster_reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_service_that_never_gets_its_address_fails_at_the_deadline() {
        let lab = FakeLab {
            clusters: vec![Ok(Some(cluster_with(
                &["203.0.113.201"],
                Some("doc-example"),
            )))],
            ..FakeLab::default()
        };
        let results = run_checks(
            &lab,
            &[service_check("web: ip", Some("203.0.113.200"), None)],
            opts(),
        )
        .await;
        assert_eq!(results[0].attempts(), 11);
        assert_eq!(
            outcome_reason(&results[0]),
            "default/web has 203.0.113.201, expected 203.0.113.200"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn http_checks_run_curl_in_their_router_until_the_status_matches() {
        let lab = FakeLab {
            exec_outputs: Mutex::new(VecDeque::from([
                exec_output(
                    7,
                    "000",
                    "curl: (7) Failed to connect to 203.0.113.10 port 80: Connection refused\n",
                ),
                exec_output(0, "200", ""),
            ])),
            ..FakeLab::default()
        };
        let http = check(
            "client: http",
            CheckKind::Http {
                from: "client".into(),
                url: "http://203.0.113.10/".into(),
                status: 200,
            },
        );
        let results = run_checks(&lab, std::slice::from_ref(&http), opts()).await;
        assert!(results[0].passed());
        assert_eq!(results[0].attempts(), 2);
        let execs = lab.execs.lock().unwrap();
        assert_eq!(execs.len(), 2);
        assert_eq!(execs[0].0, "client");
        assert_eq!(Some(execs[0].1.clone()), probe_command(&http.kind));
        assert!(lab.reads.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn nodes_expand_to_the_node_addresses() {
        let mut lab = FakeLab::with_states("frr1", vec![Ok(converged())]);
        lab.nodes = vec![ip("10.0.0.2")];
        let route = check(
            "frr1: route via nodes",
            CheckKind::Route {
                router: "frr1".into(),
                prefix: "192.0.2.0/24".parse().unwrap(),
                present: true,
                nexthops: Some(vec![Expected::Nodes]),
                local_pref: None,
                communities: None,
                as_path: None,
            },
        );
        let results = run_checks(&lab, &[route, session_check("10.0.0.2")], opts()).await;
        assert!(results.iter().all(CheckResult::passed), "{results:?}");
        // Only the check that mentions `nodes` asks for them.
        assert_eq!(lab.node_reads.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn checks_on_one_router_are_read_together_and_probes_alone() {
        let http = check(
            "client: http",
            CheckKind::Http {
                from: "client".into(),
                url: "http://203.0.113.10/".into(),
                status: 200,
            },
        );
        let bird_session = check(
            "bird1: session",
            CheckKind::Session {
                router: "bird1".into(),
                peers: vec![Expected::Address(ip("10.0.0.1"))],
                state: SessionState::Established,
            },
        );
        let checks = vec![
            session_check("10.0.0.2"),
            http.clone(),
            bird_session,
            service_check("web: ip", None, None),
            session_check("10.0.0.3"),
            http,
            service_check("web: pool", None, Some("demo")),
        ];
        let groups: Vec<Vec<usize>> = reading_groups(&checks)
            .into_iter()
            .map(|(_, members)| members)
            .collect();
        assert_eq!(groups, [vec![0, 4], vec![1], vec![2], vec![3, 6], vec![5]]);
        assert_eq!(
            reading_groups(&checks)[0].0,
            Reads::Router("frr1", StatePart::Sessions)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_router_holds_up_no_other_check_while_converge_polls() {
        let lab = FakeLab {
            hung: vec!["frr1".into()],
            exec_outputs: Mutex::new(VecDeque::from([exec_output(0, "200", "")])),
            ..FakeLab::default()
        };
        let http = check(
            "client: http",
            CheckKind::Http {
                from: "client".into(),
                url: "http://203.0.113.10/".into(),
                status: 200,
            },
        );
        let checks = [session_check("10.0.0.2"), http];
        let (sink, mut polled) = tokio::sync::mpsc::unbounded_channel();
        let started = Instant::now();
        let poll = poll_checks(&lab, &checks, &[0, 1], POLL, sink);
        let seen = async {
            let mut seen = Vec::new();
            while seen.len() < 4 {
                let p = polled.recv().await.unwrap();
                seen.push((p.check, p.verdict.is_pass(), started.elapsed()));
            }
            seen
        };
        let seen = tokio::select! {
            seen = seen => seen,
            _ = poll => unreachable!("polling ends only when nobody listens"),
        };
        // One reading of the HTTP check per interval; frr1 never answered.
        assert_eq!(
            seen,
            [
                (1, true, Duration::ZERO),
                (1, true, POLL),
                (1, true, 2 * POLL),
                (1, true, 3 * POLL)
            ]
        );
    }

    #[test]
    fn the_run_future_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let lab = FakeLab::default();
        let run = run_checks_with_progress(&lab, &[], RunOptions::default(), |_| {});
        assert_send(&run);
    }
}
