//! `metallab fault LAB …`: faults put into a running lab and undone exactly, recorded in
//! the lab's state (`faults.json`) so `list` shows them, `status` names them and `clear`
//! undoes them; `down` removes the lab whatever is active.

use super::{Failure, Result, print_json, running_plan};
use crate::cli::{FaultAction, FaultArgs, LinkState, OutputFormat};
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

pub async fn cmd_fault(
    g: &super::GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    a: FaultArgs,
) -> Result<()> {
    let rt = DockerRuntime::connect().await?;
    let plan = running_plan(state, Some(&a.lab), &rt).await?;
    let _held = super::hold_lab(state, progress, &plan.lab)?;
    let mut active = active_faults(state, &plan.lab);
    let fault = match a.action {
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
            return Ok(());
        }
        FaultAction::Clear { id } => {
            let (undo, keep): (Vec<ActiveFault>, Vec<ActiveFault>) = active
                .into_iter()
                .partition(|f| id.is_none_or(|id| f.id == id));
            if let Some(id) = id
                && undo.is_empty()
            {
                let ids: Vec<String> = keep.iter().map(|f| f.id.to_string()).collect();
                return Err(Failure::msg(
                    format!("lab {} has no fault {id}", plan.lab),
                    if ids.is_empty() {
                        "it has none".to_string()
                    } else {
                        format!("active: {}", ids.join(", "))
                    },
                ));
            }
            let mut keep = keep;
            for f in undo {
                if let Err(e) = clear(&rt, progress, &plan, &f).await {
                    // What could not be undone stays recorded.
                    keep.push(f);
                    keep.sort_by_key(|f| f.id);
                    save(state, &plan.lab, &keep)?;
                    return Err(e);
                }
                progress.println(format!("cleared {}  {}", f.id, f.fault.describe()));
            }
            return save(state, &plan.lab, &keep);
        }
        FaultAction::Start { router } => {
            let r = router_of(&plan, &router)?;
            let stop = Fault::Stop {
                router: router.clone(),
            };
            start(&rt, progress, &plan, r).await?;
            active.retain(|f| !f.fault.same_place(&stop));
            return save(state, &plan.lab, &active);
        }
        FaultAction::Stop { router } => Fault::Stop { router },
        FaultAction::Link {
            router,
            network,
            state: LinkState::Down,
        } => Fault::LinkDown { router, network },
        FaultAction::Link {
            router,
            network,
            state: LinkState::Up,
        } => {
            let link = Fault::LinkDown { router, network };
            let Some(found) = active.iter().find(|f| f.fault.same_place(&link)).cloned() else {
                check(&plan, &link)
                    .map_err(|e| Failure::msg(e, "see `metallab fault LAB list`"))?;
                outln!("{} is not down", link.describe().trim_end_matches(" down"));
                return Ok(());
            };
            clear(&rt, progress, &plan, &found).await?;
            active.retain(|f| f.id != found.id);
            return save(state, &plan.lab, &active);
        }
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
    };
    check(&plan, &fault).map_err(|e| Failure::msg(e, "see `metallab status` for the lab"))?;
    let r = router_of(&plan, fault.router())?;
    // A second fault on the same place replaces the first (undone first).
    if let Some(old) = active.iter().find(|f| f.fault.same_place(&fault)).cloned() {
        clear(&rt, progress, &plan, &old).await?;
        active.retain(|f| f.id != old.id);
    }
    let saved_routes = match &fault {
        Fault::LinkDown { .. } | Fault::Isolate { .. } => kept_routes(&rt, r).await?,
        _ => vec![],
    };
    apply(&rt, r, &fault).await?;
    let id = next_id(&active);
    active.push(ActiveFault {
        id,
        fault: fault.clone(),
        since: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        saved_routes,
    });
    active.sort_by_key(|f| f.id);
    save(state, &plan.lab, &active)?;
    progress.println(format!("fault {id}  {}", fault.describe()));
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

/// Runs `sh -c script` in the router; its stderr is the error.
async fn run(rt: &DockerRuntime, r: &PlannedRouter, script: &str) -> Result<()> {
    let out = rt
        .exec(&r.container, &["sh", "-c", script], EXEC_TIMEOUT)
        .await?;
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
    Ok(())
}

/// The router's routes through a gateway that neither BGP nor the kernel will put back
/// when its links come up again: Docker's default route and the static routes.
async fn kept_routes(rt: &DockerRuntime, r: &PlannedRouter) -> Result<Vec<String>> {
    let out = rt
        .exec(&r.container, &["ip", "-4", "route", "show"], EXEC_TIMEOUT)
        .await?;
    Ok(crate::faults::routes_to_restore(&out.stdout))
}

async fn apply(rt: &DockerRuntime, r: &PlannedRouter, fault: &Fault) -> Result<()> {
    if let Fault::Stop { .. } = fault {
        rt.stop_container(&r.container, Duration::from_secs(1))
            .await?;
        return Ok(());
    }
    for script in apply_commands(r, fault) {
        run(rt, r, &script).await?;
    }
    Ok(())
}

async fn clear(
    rt: &DockerRuntime,
    progress: &Progress,
    plan: &Plan,
    f: &ActiveFault,
) -> Result<()> {
    let r = router_of(plan, f.fault.router())?;
    if let Fault::Stop { .. } = f.fault {
        return start(rt, progress, plan, r).await;
    }
    for script in clear_commands(r, &f.fault) {
        run(rt, r, &script).await?;
    }
    if crate::faults::restores_links(&f.fault) {
        for route in &f.saved_routes {
            run(rt, r, &format!("ip route replace {route}")).await?;
        }
        for argv in drivers::route_commands(r) {
            run(rt, r, &crate::kinds::command_line(&argv)).await?;
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
