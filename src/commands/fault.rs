//! `metallab fault LAB …`: faults put into a running lab and undone exactly, recorded in
//! the lab's state (`faults.json`) so `list` shows them, `status` names them and `clear`
//! undoes them; `down` removes the lab whatever is active. `converge` puts its fault in
//! and clears it through the same functions ([`put`], [`clear_recorded`]).

use super::{Failure, Result, print_json, running_plan};
use crate::cli::{FaultAction, FaultArgs, LinkState, NodeState, OutputFormat, SpeakerAction};
use crate::drivers;
use crate::engine::state_dir::StateDir;
use crate::faults::{ActiveFault, Fault, apply_commands, check, clear_commands, next_id};
use crate::plan::{Plan, PlannedRouter};
use crate::progress::Progress;
use crate::runtime::docker::DockerRuntime;
use crate::topology::model::Placement;
use crate::view::problems::ContainerCondition;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const EXEC_TIMEOUT: Duration = Duration::from_secs(30);

fn faults_path(state: &StateDir, lab: &str) -> PathBuf {
    state.faults_path(lab)
}

/// The lab's active faults (none when the file is absent).
pub fn active_faults(state: &StateDir, lab: &str) -> Vec<ActiveFault> {
    state.load_faults(lab)
}

fn save(state: &StateDir, lab: &str, faults: &[ActiveFault]) -> Result<()> {
    let path = faults_path(state, lab);
    let text = serde_json::to_string_pretty(faults).expect("faults serialize");
    std::fs::write(&path, text).map_err(|e| {
        Failure::msg(
            format!("cannot record the lab's faults in {}: {e}", path.display()),
            "check the state directory",
        )
    })
}

/// A running lab faults are put into: its plan, where its state is, the Docker engine.
pub struct FaultLab<'a> {
    pub rt: &'a DockerRuntime,
    pub state: &'a StateDir,
    pub progress: &'a Progress,
    pub plan: &'a Plan,
}

/// What putting a fault in did.
#[derive(Debug)]
pub enum Put {
    /// Recorded: `clear` undoes it.
    Recorded(ActiveFault),
    /// Done and over by itself (a speaker restarted): nothing to clear.
    Done(Fault),
}

/// A fault put in, and when it took effect: the router's clock right after the command
/// that applied it inside the router; for a stopped container the moment Docker was asked
/// (its processes die at once, and Docker answers only once it has taken the container's
/// network down); for a speaker pod the moment the API server said it was deleted.
#[derive(Debug)]
pub struct Applied {
    pub put: Put,
    pub at: SystemTime,
}

impl Put {
    pub fn fault(&self) -> &Fault {
        match self {
            Put::Recorded(active) => &active.fault,
            Put::Done(fault) => fault,
        }
    }
}

/// The fault a `fault` action puts in, checked against the lab. The actions that show or
/// undo faults (`list`, `clear`, `start`, `link … up`, `node … start`) put none: an error.
pub fn fault_to_put(plan: &Plan, action: FaultAction) -> Result<Fault> {
    let fault = match action {
        FaultAction::Stop { router } => Fault::Stop { router },
        FaultAction::Link {
            router,
            network,
            state: LinkState::Down,
        } => Fault::LinkDown { router, network },
        FaultAction::Netem {
            target,
            delay,
            jitter,
            loss,
        } => {
            let (router, network) = match target.split_once(':') {
                Some((r, n)) => (r.to_string(), Some(n.to_string())),
                None => (target, None),
            };
            Fault::Netem {
                router,
                network,
                delay,
                jitter,
                loss_percent: loss,
            }
        }
        FaultAction::Isolate { router } => Fault::Isolate { router },
        FaultAction::Kill { router, daemon } => {
            crate::faults::kill(plan, &router, daemon.as_deref())
                .map_err(|e| Failure::msg(e, "see `metallab status` for the lab"))?
        }
        FaultAction::Node {
            node,
            state: NodeState::Stop,
        } => Fault::NodeStop { node },
        FaultAction::Speaker {
            node,
            action: SpeakerAction::Restart,
        } => Fault::SpeakerRestart { node },
        FaultAction::Start { .. } => return Err(puts_none("start")),
        FaultAction::Link {
            state: LinkState::Up,
            ..
        } => return Err(puts_none("link … up")),
        FaultAction::Node {
            state: NodeState::Start,
            ..
        } => return Err(puts_none("node … start")),
        FaultAction::List => return Err(puts_none("list")),
        FaultAction::Clear { .. } => return Err(puts_none("clear")),
    };
    check(plan, &fault).map_err(|e| Failure::msg(e, "see `metallab status` for the lab"))?;
    Ok(fault)
}

fn puts_none(form: &str) -> Failure {
    Failure::msg(
        format!("`{form}` undoes or lists faults: it puts none in"),
        "faults: stop, link … down, netem, isolate, kill, node … stop, speaker … restart",
    )
}

pub async fn cmd_fault(
    g: &super::GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    a: FaultArgs,
) -> Result<()> {
    let rt = DockerRuntime::connect().await?;
    let plan = running_plan(state, Some(&a.lab), &rt).await?;
    let _held = super::hold_lab(state, progress, &plan.lab)?;
    let lab = FaultLab {
        rt: &rt,
        state,
        progress,
        plan: &plan,
    };
    let mut active = active_faults(state, &plan.lab);
    match a.action {
        FaultAction::List => {
            match g.output {
                OutputFormat::Json => print_json(&active),
                OutputFormat::Table if active.is_empty() => {
                    outln!("no faults in lab {}", plan.lab)
                }
                OutputFormat::Table => {
                    for f in &active {
                        outln!("{}  {}", f.id, f.fault.describe());
                    }
                }
            }
            Ok(())
        }
        FaultAction::Clear { id } => {
            if let Some(id) = id
                && !active.iter().any(|f| f.id == id)
            {
                let ids: Vec<String> = active.iter().map(|f| f.id.to_string()).collect();
                return Err(Failure::msg(
                    format!("lab {} has no fault {id}", plan.lab),
                    if ids.is_empty() {
                        "it has none".to_string()
                    } else {
                        format!("active: {}", ids.join(", "))
                    },
                ));
            }
            let ids: Vec<u32> = active
                .iter()
                .map(|f| f.id)
                .filter(|f| id.is_none_or(|id| *f == id))
                .collect();
            for id in ids {
                clear_recorded(&lab, id).await?;
            }
            Ok(())
        }
        FaultAction::Start { router } => {
            let r = router_of(&plan, &router)?;
            let stop = Fault::Stop {
                router: router.clone(),
            };
            start(&rt, progress, &plan, r).await?;
            active.retain(|f| !f.fault.same_place(&stop));
            save(state, &plan.lab, &active)
        }
        FaultAction::Link {
            router,
            network,
            state: LinkState::Up,
        } => {
            let link = Fault::LinkDown { router, network };
            undo_at(&lab, link).await
        }
        FaultAction::Node {
            node,
            state: NodeState::Start,
        } => {
            let stop = Fault::NodeStop { node };
            undo_at(&lab, stop).await
        }
        action => {
            let fault = fault_to_put(&plan, action)?;
            match put(&lab, fault).await?.put {
                Put::Recorded(f) => {
                    progress.println(format!("fault {}  {}", f.id, f.fault.describe()))
                }
                Put::Done(fault) => {
                    progress.println(format!("{} (done: nothing to clear)", fault.describe()))
                }
            }
            Ok(())
        }
    }
}

/// `link … up`, `node … start`: undoes the recorded fault at that place; one that is not
/// recorded is undone all the same when the lab has the place (it may have been put in by
/// hand), else refused.
async fn undo_at(lab: &FaultLab<'_>, fault: Fault) -> Result<()> {
    let found = active_faults(lab.state, &lab.plan.lab)
        .into_iter()
        .find(|f| f.fault.same_place(&fault));
    match found {
        Some(found) => clear_recorded(lab, found.id).await,
        None => {
            check(lab.plan, &fault)
                .map_err(|e| Failure::msg(e, "see `metallab fault LAB list`"))?;
            match &fault {
                Fault::NodeStop { node } => {
                    crate::engine::node_faults::start_node(lab.rt, lab.plan, node).await?;
                    lab.progress.println(format!("node {node} started"));
                }
                _ => outln!("{} is not down", fault.describe().trim_end_matches(" down")),
            }
            Ok(())
        }
    }
}

/// Puts a checked fault into the lab and records it, unless it is over by itself. A fault
/// already on the same place is undone first: the new one replaces it.
pub async fn put(lab: &FaultLab<'_>, fault: Fault) -> Result<Applied> {
    let mut active = active_faults(lab.state, &lab.plan.lab);
    if let Some(old) = active.iter().find(|f| f.fault.same_place(&fault)).cloned() {
        clear(lab, &old).await?;
        active.retain(|f| f.id != old.id);
        save(lab.state, &lab.plan.lab, &active)?;
    }
    let saved_routes = match &fault {
        Fault::LinkDown { router, .. } | Fault::Isolate { router } => {
            kept_routes(lab.rt, router_of(lab.plan, router)?).await?
        }
        _ => vec![],
    };
    let at = apply(lab, &fault).await?;
    let applied = |put| Applied { put, at };
    if fault.is_one_shot() {
        return Ok(applied(Put::Done(fault)));
    }
    let recorded = ActiveFault {
        id: next_id(&active),
        fault,
        since: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        saved_routes,
    };
    active.push(recorded.clone());
    active.sort_by_key(|f| f.id);
    save(lab.state, &lab.plan.lab, &active)?;
    Ok(applied(Put::Recorded(recorded)))
}

/// Undoes recorded fault `id` and forgets it; one that could not be undone stays recorded.
pub async fn clear_recorded(lab: &FaultLab<'_>, id: u32) -> Result<()> {
    let mut active = active_faults(lab.state, &lab.plan.lab);
    let Some(f) = active.iter().find(|f| f.id == id).cloned() else {
        return Ok(());
    };
    clear(lab, &f).await?;
    active.retain(|f| f.id != id);
    save(lab.state, &lab.plan.lab, &active)?;
    lab.progress
        .println(format!("cleared {}  {}", f.id, f.fault.describe()));
    Ok(())
}

fn router_of<'a>(plan: &'a Plan, name: &str) -> Result<&'a PlannedRouter> {
    let r = plan
        .router(name)
        .ok_or_else(|| super::unknown_router(plan, name))?;
    if r.placement == Placement::Cluster {
        return Err(Failure::msg(
            format!("{name} runs in the cluster: faults there are not supported yet"),
            "fault the routers that run as containers",
        ));
    }
    Ok(r)
}

/// Runs `sh -c script` in the router, and then reads its clock (`date +%s%N`); the time
/// the script was done (when the clock was unreadable, when Docker said it was).
async fn exec_timed(
    rt: &DockerRuntime,
    r: &PlannedRouter,
    script: &str,
) -> Result<(crate::runtime::ExecOutput, SystemTime)> {
    let timed = format!("{script} && date +%s%N");
    let out = rt
        .exec(&r.container, &["sh", "-c", &timed], EXEC_TIMEOUT)
        .await?;
    let done = out
        .stdout
        .lines()
        .last()
        .and_then(|l| l.trim().parse::<u64>().ok())
        .map_or_else(SystemTime::now, |nanos| {
            UNIX_EPOCH + Duration::from_nanos(nanos)
        });
    Ok((out, done))
}

/// Runs `sh -c script` in the router; its stderr is the error. Returns when it was done.
async fn run(rt: &DockerRuntime, r: &PlannedRouter, script: &str) -> Result<SystemTime> {
    let (out, done) = exec_timed(rt, r, script).await?;
    if out.exit_code != 0 {
        // tc's words when the kernel lacks the netem qdisc (a module many VMs leave out).
        if out.stderr.contains("Specified qdisc kind is unknown") {
            return Err(Failure::msg(
                "this host's kernel has no netem qdisc: delay, jitter and loss cannot be added here",
                "load it on the host (`modprobe sch_netem`), or use `fault link … down` and `isolate`",
            ));
        }
        return Err(Failure::msg(
            format!(
                "{}: `{script}` failed: {}",
                r.name,
                out.stderr.trim().lines().next().unwrap_or("no output")
            ),
            "is the router running? `metallab status` says",
        ));
    }
    Ok(done)
}

/// The router's routes through a gateway that neither BGP nor the kernel will put back
/// when its links come up again: Docker's default route and the static routes.
async fn kept_routes(rt: &DockerRuntime, r: &PlannedRouter) -> Result<Vec<String>> {
    let out = rt
        .exec(&r.container, &["ip", "-4", "route", "show"], EXEC_TIMEOUT)
        .await?;
    Ok(crate::faults::routes_to_restore(&out.stdout))
}

/// Applies the fault; returns when it took effect (see [`Applied`]).
async fn apply(lab: &FaultLab<'_>, fault: &Fault) -> Result<SystemTime> {
    match fault {
        Fault::NodeStop { node } => {
            let asked = SystemTime::now();
            crate::engine::node_faults::stop_node(lab.rt, node).await?;
            return Ok(asked);
        }
        Fault::SpeakerRestart { node } => {
            restart_speaker(lab, node).await?;
            return Ok(SystemTime::now());
        }
        _ => {}
    }
    let r = router_of(lab.plan, fault.router().unwrap_or_default())?;
    let mut done = SystemTime::now();
    match fault {
        Fault::Stop { .. } => {
            done = SystemTime::now();
            lab.rt
                .stop_container(&r.container, Duration::from_secs(1))
                .await?;
        }
        Fault::Kill { daemon, .. } => {
            for script in apply_commands(r, fault) {
                let (out, at) = exec_timed(lab.rt, r, &script).await?;
                done = at;
                if out.exit_code != 0 {
                    return Err(Failure::msg(
                        format!(
                            "{}: {}",
                            r.name,
                            out.stderr.trim().lines().next().unwrap_or("no output")
                        ),
                        format!(
                            "is {daemon} dead already? `metallab status {}` says",
                            lab.plan.lab
                        ),
                    ));
                }
            }
        }
        _ => {
            for script in apply_commands(r, fault) {
                done = run(lab.rt, r, &script).await?;
            }
        }
    }
    Ok(done)
}

/// Deletes the speaker pod on `node` through the lab's cluster.
async fn restart_speaker(lab: &FaultLab<'_>, node: &str) -> Result<()> {
    let cluster = crate::engine::cluster_side::connect_lab(lab.rt, lab.state, lab.plan)
        .await?
        .ok_or_else(|| {
            Failure::msg(
                format!("lab {} has no cluster", lab.plan.lab),
                "speaker faults need one",
            )
        })?;
    let deleted = crate::k8s::speaker::restart_speaker(&cluster.client, node)
        .await
        .map_err(|e| {
            let hint = miette::Diagnostic::help(&e).map_or_else(
                || "`metallab status` shows MetalLB's pods".into(),
                |h| h.to_string(),
            );
            Failure::msg(e.to_string(), hint)
        })?;
    lab.progress.println(format!(
        "deleted speaker pod {} on {node}; its DaemonSet starts another",
        deleted.join(", ")
    ));
    Ok(())
}

async fn clear(lab: &FaultLab<'_>, f: &ActiveFault) -> Result<()> {
    match &f.fault {
        Fault::NodeStop { node } => {
            return Ok(crate::engine::node_faults::start_node(lab.rt, lab.plan, node).await?);
        }
        Fault::SpeakerRestart { .. } => return Ok(()),
        _ => {}
    }
    let r = router_of(lab.plan, f.fault.router().unwrap_or_default())?;
    match &f.fault {
        Fault::Stop { .. } => return start(lab.rt, lab.progress, lab.plan, r).await,
        Fault::Kill { daemon, .. } => {
            return Ok(crate::engine::up::restart_daemon(lab.rt, lab.progress, r, daemon).await?);
        }
        _ => {}
    }
    for script in clear_commands(r, &f.fault) {
        run(lab.rt, r, &script).await?;
    }
    if crate::faults::restores_links(&f.fault) {
        for route in &f.saved_routes {
            run(lab.rt, r, &format!("ip route replace {route}")).await?;
        }
        for argv in drivers::route_commands(r) {
            run(lab.rt, r, &crate::kinds::command_line(&argv)).await?;
        }
    }
    Ok(())
}

/// Starts a stopped router and configures it again; a running one is left alone.
async fn start(
    rt: &DockerRuntime,
    progress: &Progress,
    plan: &Plan,
    r: &PlannedRouter,
) -> Result<()> {
    let (containers, _) = crate::engine::inspect::lab_resources(rt, &plan.lab).await?;
    match crate::engine::inspect::container_condition(&containers, &r.container) {
        ContainerCondition::Running => {
            progress.println(format!("{} is running", r.name));
            Ok(())
        }
        ContainerCondition::Missing => Err(Failure::msg(
            format!("{} has no container", r.name),
            "`metallab up` creates it again".to_string(),
        )),
        ContainerCondition::Stopped(_) => {
            Ok(crate::engine::up::start_stopped_router(rt, progress, r).await?)
        }
    }
}
