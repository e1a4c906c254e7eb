//! `metallab converge LAB [--heal] [--timeout DUR] [--settle DUR] -- FAULT…`: every check
//! read once (the baseline), the fault put in as `metallab fault LAB FAULT…` puts it, the
//! checks polled about every tenth of a second, and each one's first change timed; with
//! `--heal`, once nothing has changed for `--settle`, the fault cleared and the way back
//! timed too. The timing is `check::converge` (pure); this file runs the lab.

use super::fault::{self, FaultLab, Put};
use super::{Failure, Result, running_plan};
use crate::check::converge::{Seen, Timeline};
use crate::cli::{ConvergeArgs, FaultCommand, GlobalOpts, OutputFormat};
use crate::engine::check_runner::{Polled, evaluate_round, poll_checks};
use crate::engine::cluster_side::ClusterLink;
use crate::engine::probe::DockerProbe;
use crate::engine::sampler::{Sampling, sample_routers, sampled_checks};
use crate::engine::state_dir::StateDir;
use crate::faults::Fault;
use crate::progress::Progress;
use crate::runtime::docker::DockerRuntime;
use clap::Parser;
use futures::future::BoxFuture;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// How often the checks that are not sampled inside their router (HTTP, ping, Services,
/// routers in the cluster) are evaluated after the fault (start to start; longer when one
/// evaluation takes longer).
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How often a router's sampler reads each part of its state (start to start; a reading
/// that takes longer, as FRR's vtysh can on a busy machine, is followed at once by the next).
const SAMPLE_INTERVAL: Duration = Duration::from_millis(100);

/// How long the readers may take to read every check once before the fault goes in.
const WARM_UP: Duration = Duration::from_secs(5);

/// How long the baseline's reading of one check may take.
const BASELINE_TIMEOUT: Duration = Duration::from_secs(15);

pub async fn cmd_converge(
    g: &GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    a: ConvergeArgs,
) -> Result<()> {
    // Read as `metallab fault LAB` reads its words, with clap's own errors (exit 2).
    let usage = format!("metallab converge {} --", a.lab);
    let words = std::iter::once(usage.as_str()).chain(a.fault.iter().map(String::as_str));
    let action = FaultCommand::try_parse_from(words)
        .unwrap_or_else(|e| e.exit())
        .action;
    let rt = DockerRuntime::connect().await?;
    let plan = running_plan(state, Some(&a.lab), &rt).await?;
    let fault = fault::fault_to_put(&plan, action)?;
    // Putting it in would first clear one at the same place, after the baseline was read.
    let active = fault::active_faults(state, &plan.lab);
    if let Some(there) = active.iter().find(|f| f.fault.same_place(&fault)) {
        return Err(Failure::msg(
            format!(
                "lab {} has fault {} ({}) there already: the baseline would be read with it",
                plan.lab,
                there.id,
                there.fault.describe()
            ),
            format!(
                "clear it first: metallab fault {} clear {}",
                plan.lab, there.id
            ),
        ));
    }
    for other in &active {
        progress.println(format!(
            "warning: fault {} ({}) is active: it is part of the baseline",
            other.id,
            other.fault.describe()
        ));
    }
    if plan.checks.is_empty() {
        return Err(Failure::msg(
            format!("lab {} has no checks: converge times them", plan.lab),
            "add `checks:` to its topology and `metallab up` it again",
        ));
    }
    let names: Vec<(String, &'static str)> = plan
        .checks
        .iter()
        .map(|c| (c.name.clone(), crate::check::kind_label(&c.kind)))
        .collect();
    let probe = DockerProbe::new(&rt, &plan, ClusterLink::connect(&rt, state, &plan).await);
    // One listener for the whole run: a Ctrl-C while the fault goes in waits for it.
    let interrupted = crate::engine::interrupted();
    tokio::pin!(interrupted);

    let baseline = tokio::select! {
        verdicts = evaluate_round(&probe, &plan.checks, BASELINE_TIMEOUT) => verdicts,
        _ = &mut interrupted => return Err(stopped("interrupted before the fault was put in")),
    };
    let timeline = Timeline::new(names, baseline.iter().map(Seen::from).collect());
    let failing = timeline.failing_before();
    if failing.is_empty() {
        progress.println(format!("baseline: all {} checks pass", plan.checks.len()));
    } else {
        progress.println(format!(
            "warning: {} of {} checks fail before the fault (measured all the same): {}",
            failing.len(),
            plan.checks.len(),
            failing.join(", ")
        ));
    }

    let lab = FaultLab {
        rt: &rt,
        state,
        progress,
        plan: &plan,
    };
    // The readers start before the fault, so that the first readings after it do not wait
    // for a sampler to start.
    let sampled = sampled_checks(&plan, &plan.checks);
    let polled_checks: Vec<usize> = (0..plan.checks.len())
        .filter(|i| !sampled.contains(i))
        .collect();
    // Bounded in case their stdin never closes: the longest converge could watch, and a minute.
    let sampling = Sampling::new(SAMPLE_INTERVAL, 2 * a.timeout + Duration::from_secs(60));
    let (sink, polled) = tokio::sync::mpsc::unbounded_channel();
    let readers = futures::future::join(
        poll_checks(
            &probe,
            &plan.checks,
            &polled_checks,
            POLL_INTERVAL,
            sink.clone(),
        ),
        sample_routers(&rt, &plan, &plan.checks, &sampled, &sampling, sink),
    );
    // The samplers end with `readers`, which `watch` drops: their stdin closes.
    let watched = watch(&lab, &a, fault, timeline, readers, polled, interrupted).await?;

    let report = watched.timeline.report(&watched.describe);
    match g.output {
        OutputFormat::Json => super::print_json(&Report {
            lab: &plan.lab,
            fault_id: watched.recorded,
            convergence: &report,
        }),
        OutputFormat::Table => {
            outln!("{}", report.table());
            outln!();
            outln!("{}", report.summary(watched.waited));
        }
    }
    if let (Some(id), false) = (watched.recorded, a.heal) {
        progress.println(format!(
            "fault {id} stays: `metallab fault {} clear {id}` undoes it",
            plan.lab
        ));
    }
    if report.converged {
        Ok(())
    } else {
        Err(Failure::ChecksFailed)
    }
}

/// What [`watch`] saw.
struct Watched {
    timeline: Timeline,
    describe: String,
    /// The fault's id while it was recorded (None: over by itself).
    recorded: Option<u32>,
    /// How long it watched after the clear (after the fault, without one).
    waited: Duration,
}

/// Lets the readers start, puts the fault in, and feeds `timeline` every reading until the
/// lab has settled; with `--heal` then clears the fault and feeds it until every check is
/// back where it was, or `--timeout`. Ctrl-C clears the fault.
async fn watch(
    lab: &FaultLab<'_>,
    a: &ConvergeArgs,
    fault: Fault,
    mut timeline: Timeline,
    readers: impl Future<Output = ((), ())>,
    mut polled: UnboundedReceiver<Polled>,
    interrupted: Pin<&mut impl Future<Output = ()>>,
) -> Result<Watched> {
    let progress = lab.progress;
    let mut interrupted = interrupted;
    tokio::pin!(readers);
    // Every check read once by its reader, or a few seconds (a reader may be stuck).
    let mut warm = vec![false; timeline.names().len()];
    let warmed = tokio::time::sleep(WARM_UP);
    tokio::pin!(warmed);
    while warm.iter().any(|w| !w) {
        tokio::select! {
            _ = &mut readers => unreachable!("reading ends only when nobody listens"),
            Some(p) = polled.recv() => warm[p.check] = true,
            _ = &mut warmed => break,
            _ = &mut interrupted => return Err(stopped("interrupted before the fault was put in")),
        }
    }
    let applied = {
        let _held = super::hold_lab(lab.state, progress, &lab.plan.lab)?;
        tokio::select! {
            applied = fault::put(lab, fault) => applied?,
            _ = &mut readers => unreachable!("reading ends only when nobody listens"),
        }
    };
    // Times are measured on the wall clock the routers stamp their readings with (the
    // host's); the waits below run on the monotonic one.
    let fault_at = applied.at;
    let since_fault = |at: SystemTime| at.duration_since(fault_at).ok();
    let fault_instant = Instant::now() - since_fault(SystemTime::now()).unwrap_or_default();
    let describe = applied.put.fault().describe();
    let recorded = match &applied.put {
        Put::Recorded(f) => {
            progress.println(format!("fault {}  {describe}", f.id));
            Some(f.id)
        }
        Put::Done(_) => {
            progress.println(format!("{describe} (done: nothing to clear)"));
            None
        }
    };

    // With --heal: when the clear started, the clear under way, whether it is done.
    let mut healed_at: Option<Instant> = None;
    let mut clearing: Option<BoxFuture<'_, Result<()>>> = None;
    let mut cleared = recorded.is_none();
    loop {
        let wake = match healed_at {
            None => {
                (fault_instant + timeline.last_change() + a.settle).min(fault_instant + a.timeout)
            }
            Some(at) => at + a.timeout,
        };
        tokio::select! {
            _ = &mut readers => unreachable!("reading ends only when nobody listens"),
            Some(p) = polled.recv() => {
                // A reading done before the fault shows the lab before it.
                let Some(at) = since_fault(p.at) else { continue };
                if let Some(change) = timeline.observe(p.check, at, Seen::from(&p.verdict)) {
                    let name = &timeline.names()[change.check];
                    progress.println(match &change.seen.reason {
                        Some(reason) => format!("+{:.2}s  ✘ {name}: {reason}", at.as_secs_f64()),
                        None => format!("+{:.2}s  ✔ {name}", at.as_secs_f64()),
                    });
                }
                if healed_at.is_some() && cleared && timeline.back_to_baseline() {
                    break;
                }
            }
            done = async { clearing.as_mut().expect("guarded").await }, if clearing.is_some() => {
                clearing = None;
                done?;
                cleared = true;
                if timeline.back_to_baseline() {
                    break;
                }
            }
            _ = tokio::time::sleep_until(wake) => {
                if healed_at.is_some() || !a.heal {
                    break;
                }
                // Settled (or out of time): clear it, and time the way back from here.
                healed_at = Some(Instant::now());
                timeline.heal(since_fault(SystemTime::now()).unwrap_or_default());
                if let Some(id) = recorded {
                    clearing = Some(Box::pin(async move {
                        let _held = super::hold_lab(lab.state, progress, &lab.plan.lab)?;
                        fault::clear_recorded(lab, id).await
                    }));
                }
            }
            _ = &mut interrupted => {
                return Err(interrupted_after(lab, recorded, cleared, clearing).await);
            }
        }
    }
    let waited = healed_at.unwrap_or(fault_instant).elapsed();
    Ok(Watched {
        timeline,
        describe,
        recorded,
        waited,
    })
}

/// `converge -o json`: the lab, the fault's id while it is recorded (null for one over by
/// itself), and what it did (`check::converge::Convergence`).
#[derive(serde::Serialize)]
struct Report<'a> {
    lab: &'a str,
    fault_id: Option<u32>,
    #[serde(flatten)]
    convergence: &'a crate::check::converge::Convergence,
}

/// Ctrl-C after the fault went in: it is cleared (a clear under way is let finish), and
/// the error says so.
async fn interrupted_after(
    lab: &FaultLab<'_>,
    recorded: Option<u32>,
    cleared: bool,
    clearing: Option<BoxFuture<'_, Result<()>>>,
) -> Failure {
    let undone = match (recorded, clearing) {
        (None, _) => return stopped("interrupted; the fault was over by itself"),
        (Some(id), _) if cleared => {
            return stopped(format!("interrupted; fault {id} was cleared already"));
        }
        (Some(_), Some(clearing)) => clearing.await,
        (Some(id), None) => match super::hold_lab(lab.state, lab.progress, &lab.plan.lab) {
            Ok(_held) => fault::clear_recorded(lab, id).await,
            Err(e) => Err(e),
        },
    };
    let id = recorded.unwrap_or_default();
    match undone {
        Ok(()) => stopped(format!("interrupted; fault {id} cleared")),
        Err(Failure::Error { message, .. }) => Failure::Interrupted {
            message: format!("interrupted; fault {id} could not be cleared: {message}"),
            hint: Some(format!(
                "`metallab fault {} clear {id}` tries again",
                lab.plan.lab
            )),
        },
        Err(other) => other,
    }
}

fn stopped(message: impl Into<String>) -> Failure {
    Failure::Interrupted {
        message: message.into(),
        hint: None,
    }
}
