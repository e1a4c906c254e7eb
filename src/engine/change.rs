//! `up FILE` on a running lab whose file changed, and `diff FILE`: the change between the
//! saved plan and the file (`plan::change`), applied in place — networks created,
//! routers removed, edited (interfaces, routes, configs reloaded or daemons restarted)
//! and created, networks removed, MetalLB's configuration and the apps applied — and the
//! new plan saved, so `check`, `status` and `down` follow it.

use super::EngineError;
use super::state_dir::StateDir;
use super::up::{self, UpOptions, topology_argument};
use crate::change::{
    self, DaemonAction, LabChange, LabSide, NetworkChange, RenderedConfigs, RouterAction,
    RouterEdit,
};
use crate::drivers;
use crate::plan::{Plan, PlannedRouter};
use crate::progress::{Progress, Step};
use crate::render::ConfigFile;
use crate::runtime::router_start as lifecycle;
use crate::runtime::{ContainerEngine, RuntimeError};
use std::collections::BTreeMap;
use std::time::Duration;

/// The change `up FILE` would make to a running lab, with what applying it needs.
pub struct LabUpdate {
    pub change: LabChange,
    /// The file's plan, its node sessions expanded with the running cluster's nodes.
    pub plan: Plan,
    /// The file's router configs.
    pub configs: Vec<(String, Vec<ConfigFile>)>,
}

/// How long a route removal may take (it runs in a running router).
const ROUTE_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The change from the lab as saved (its plan and the configs its routers were given) to
/// `plan`. None when the lab has no saved plan to compare with.
pub fn lab_update(state: &StateDir, plan: &Plan) -> Result<Option<LabUpdate>, EngineError> {
    let Some(saved) = state.load_plan(&plan.lab) else {
        return Ok(None);
    };
    let plan = if saved.cluster_nodes.is_empty() {
        plan.clone()
    } else {
        crate::plan::nodes::with_node_sessions(plan, &saved.cluster_nodes)
    };
    let configs = up::render_all(&plan)?;
    let saved_configs = match state.load_configs(&saved) {
        Some(configs) => configs,
        None => up::render_all(&saved)?.into_iter().collect(),
    };
    let new_configs: RenderedConfigs = configs.iter().cloned().collect();
    let (old_metallb, new_metallb) = (metallb_objects(&saved)?, metallb_objects(&plan)?);
    let (old_apps, new_apps) = (
        state.load_apps(&plan.lab),
        super::cluster_side::app_texts(&plan)?,
    );
    let change = change::lab_change(
        &LabSide {
            plan: &saved,
            configs: &saved_configs,
            metallb: &old_metallb,
            apps: &old_apps,
        },
        &LabSide {
            plan: &plan,
            configs: &new_configs,
            metallb: &new_metallb,
            apps: &new_apps,
        },
    );
    Ok(Some(LabUpdate {
        change,
        plan,
        configs,
    }))
}

/// MetalLB's configuration objects as the plan renders them.
fn metallb_objects(plan: &Plan) -> Result<Vec<serde_json::Value>, EngineError> {
    crate::render::metallb::render(plan)
        .map_err(|e| EngineError::setup(e.to_string(), "check the `metallb:` section"))
}

/// The change that creates the lab of `plan` from nothing (`diff` of a lab not up).
pub fn creation(plan: &Plan) -> Result<LabUpdate, EngineError> {
    let empty = Plan {
        networks: vec![],
        routers: vec![],
        checks: vec![],
        apps: vec![],
        ..plan.clone()
    };
    let configs = up::render_all(plan)?;
    let new_configs: RenderedConfigs = configs.iter().cloned().collect();
    let metallb = metallb_objects(plan)?;
    let change = change::lab_change(
        &LabSide {
            plan: &empty,
            configs: &RenderedConfigs::new(),
            metallb: &[],
            apps: &BTreeMap::new(),
        },
        &LabSide {
            plan,
            configs: &new_configs,
            metallb: &metallb,
            apps: &super::cluster_side::app_texts(plan)?,
        },
    );
    Ok(LabUpdate {
        change,
        plan: plan.clone(),
        configs,
    })
}

/// Applies `update` to the running lab and saves its plan. A failure or Ctrl-C half-way
/// leaves the lab partly changed and says how to finish: each step looks at what exists,
/// so `up FILE` again picks up where this one stopped.
pub async fn apply(
    rt: &dyn ContainerEngine,
    state: &StateDir,
    progress: &Progress,
    update: &LabUpdate,
    topology_source: &str,
    opts: &UpOptions,
) -> Result<(), EngineError> {
    let plan = &update.plan;
    let finish = |e: EngineError| {
        let how = format!(
            "lab {} is partly changed: run `metallab up {1}` again to finish, or `metallab up --reconfigure {1}` to rebuild it",
            plan.lab,
            topology_argument(&plan.source)
        );
        match e {
            EngineError::Interrupted { message, .. } => EngineError::Interrupted {
                message,
                hint: Some(how),
            },
            e => EngineError::setup(e.to_string(), how),
        }
    };
    let applied = tokio::select! {
        result = apply_steps(rt, state, progress, update, opts) => result,
        () = super::interrupted() => Err(EngineError::Interrupted {
            message: format!("interrupted: lab {} was being changed", plan.lab),
            hint: None,
        }),
    };
    applied.map_err(finish)?;
    up::update_state(state, plan, topology_source, &update.configs)
}

async fn apply_steps(
    rt: &dyn ContainerEngine,
    state: &StateDir,
    progress: &Progress,
    update: &LabUpdate,
    opts: &UpOptions,
) -> Result<(), EngineError> {
    let (change, plan) = (&update.change, &update.plan);
    let files: BTreeMap<&str, &[ConfigFile]> = update
        .configs
        .iter()
        .map(|(r, f)| (r.as_str(), f.as_slice()))
        .collect();
    let routers_to = |wanted: fn(&RouterAction) -> bool| -> Vec<&PlannedRouter> {
        change
            .routers
            .iter()
            .filter(|c| wanted(&c.action))
            .filter_map(|c| plan.router(&c.router))
            .collect()
    };
    let created = routers_to(|a| matches!(a, RouterAction::Added | RouterAction::Replaced { .. }));

    // Images first: a build that fails, or an `image:` this engine lacks, leaves the lab
    // as it was.
    for r in created.iter().filter(|r| !r.builtin_image) {
        if !rt.image_exists(&r.image).await? {
            return Err(EngineError::setup(
                format!(
                    "{}: image {} is not present on this Docker engine",
                    r.name, r.image
                ),
                format!(
                    "pull or build it first (docker pull {}), or leave `image:` out to use metallab's own",
                    r.image
                ),
            ));
        }
    }
    let tags = if created.is_empty() {
        BTreeMap::new()
    } else {
        let mut only_new = plan.clone();
        only_new
            .routers
            .retain(|r| created.iter().any(|c| c.name == r.name));
        up::ensure_images(rt, progress, &only_new, &opts.base_image).await?
    };

    create_networks(rt, progress, plan, change).await?;
    let containers = rt
        .list_containers(&[(crate::plan::labels::LAB, Some(plan.lab.as_str()))], true)
        .await?;
    for c in &change.routers {
        if matches!(
            c.action,
            RouterAction::Removed | RouterAction::Replaced { .. }
        ) {
            let step = progress.step("router", format!("removing {}", c.router));
            let container = Plan::container_name(&plan.lab, &c.router);
            match rt.remove_container(&container, true, true).await {
                Ok(()) => step.done("removed"),
                Err(e) if e.is_not_found() => step.done("already gone"),
                Err(e) => {
                    step.failed();
                    return Err(e.into());
                }
            }
        }
    }

    let edits = change.routers.iter().filter_map(|c| match &c.action {
        RouterAction::Changed(edit) => plan.router(&c.router).map(|r| (r, edit)),
        _ => None,
    });
    let jobs: Vec<_> = edits
        .map(|(r, edit)| {
            let attached: Vec<String> = containers
                .iter()
                .find(|c| c.name == r.container)
                .map(|c| c.networks.keys().cloned().collect())
                .unwrap_or_default();
            let files = files.get(r.name.as_str()).copied().unwrap_or(&[]);
            async move {
                let step = progress.step("router", format!("{} ({})", r.name, r.kind));
                match edit_router(rt, &step, r, edit, files, &attached, opts.deadline).await {
                    Ok(done) => {
                        step.done(done);
                        Ok(())
                    }
                    Err(e) => {
                        step.failed();
                        Err(e)
                    }
                }
            }
        })
        .collect();
    let failures: Vec<String> = super::bounded(up::router_parallelism(), jobs)
        .await
        .into_iter()
        .filter_map(Result::err)
        .map(|e| e.with_hint_inline())
        .collect();
    if !failures.is_empty() {
        return Err(EngineError::setup(
            format!(
                "{} router(s) could not be changed:\n  - {}",
                failures.len(),
                failures.join("\n  - ")
            ),
            "look at the router with `metallab exec <router> -- sh`",
        ));
    }

    let slots = up::container_slots();
    let jobs: Vec<_> = created
        .iter()
        .map(|r| {
            let image = super::pod_routers::router_image(r, &tags);
            let files = files.get(r.name.as_str()).copied().unwrap_or(&[]);
            let slots = &slots;
            async move {
                // A container left by an interrupted change is made again from scratch.
                let _ = rt.remove_container(&r.container, true, true).await;
                up::start_router(rt, slots, progress, plan, r, &image, files, opts.deadline)
                    .await
                    .map_err(|e| e.with_hint_inline())
            }
        })
        .collect();
    let failures: Vec<String> = futures::future::join_all(jobs)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    if !failures.is_empty() {
        return Err(EngineError::setup(
            format!(
                "{} router(s) failed to start:\n  - {}",
                failures.len(),
                failures.join("\n  - ")
            ),
            "look at the router with `metallab exec <router> -- sh`",
        ));
    }

    for n in &change.networks {
        if let NetworkChange::Removed { network } = n {
            let step = progress.step("network", format!("removing {}", network.docker_name));
            match rt.remove_network(&network.docker_name).await {
                Ok(()) => step.done("removed"),
                Err(e) if e.is_not_found() => step.done("already gone"),
                Err(e) => {
                    step.failed();
                    return Err(e.into());
                }
            }
        }
    }
    super::cluster_side::reconfigure(rt, state, progress, plan, change, opts.deadline).await
}

/// Creates the networks the change adds (those that exist already are left: an earlier
/// change stopped half-way) and lets traffic be routed inside them.
async fn create_networks(
    rt: &dyn ContainerEngine,
    progress: &Progress,
    plan: &Plan,
    change: &LabChange,
) -> Result<(), EngineError> {
    let added: Vec<_> = change
        .networks
        .iter()
        .filter_map(|n| match n {
            NetworkChange::Added { network } => Some(network),
            NetworkChange::Removed { .. } => None,
        })
        .collect();
    if added.is_empty() {
        return Ok(());
    }
    let existing = rt
        .list_networks(&[(crate::plan::labels::LAB, Some(plan.lab.as_str()))])
        .await?;
    let mut bridges = vec![];
    for n in added {
        let step = progress.step("network", n.docker_name.clone());
        if let Some(found) = existing.iter().find(|e| e.name == n.docker_name) {
            bridges.push(crate::runtime::firewall::bridge_name(&found.id));
            step.done("exists already");
            continue;
        }
        match rt.create_network(&up::network_spec(plan, n)).await {
            Ok(id) => {
                bridges.push(crate::runtime::firewall::bridge_name(&id));
                step.done(format!(
                    "{}{}",
                    n.subnet,
                    if n.internal { " internal" } else { "" }
                ));
            }
            Err(e) => {
                step.failed();
                return Err(e.into());
            }
        }
    }
    if let Err(e) = rt.allow_routing_within(&plan.lab, &bridges).await {
        progress.println(format!(
            "warning: cannot add the DOCKER-USER rule that lets traffic be routed inside the lab's new networks: {e}"
        ));
    }
    Ok(())
}

/// One router's edit in place; returns what was done, for its progress line.
async fn edit_router(
    rt: &dyn ContainerEngine,
    step: &Step,
    r: &PlannedRouter,
    edit: &RouterEdit,
    files: &[ConfigFile],
    attached: &[String],
    deadline: super::Deadline,
) -> Result<String, EngineError> {
    let mut done = vec![];
    for i in &edit.interfaces_removed {
        if attached.contains(&i.docker_network) {
            step.set_message(format!("disconnecting {}", i.network));
            rt.disconnect_network(&r.container, &i.docker_network)
                .await?;
        }
        done.push(format!("-{}", i.network));
    }
    for i in &edit.interfaces_added {
        // Re-addressed on the same network: disconnected above, connected again here.
        let readdressed = edit
            .interfaces_removed
            .iter()
            .any(|o| o.docker_network == i.docker_network);
        if readdressed || !attached.contains(&i.docker_network) {
            step.set_message(format!("connecting {} {}", i.network, i.ip));
            rt.connect_network(&r.container, &i.docker_network, Some(i.ip))
                .await?;
        }
        done.push(format!("+{} {}", i.network, i.ip));
    }
    // The boot script goes up whatever changed: it follows routes, announcements and
    // commands, so that a later start of the container boots the router as it is now.
    let changed_files = if edit.files_changed.is_empty() {
        &[][..]
    } else {
        step.set_message("uploading configs");
        files
    };
    up::upload(rt, r, changed_files).await?;
    let exec = |argv: Vec<String>, timeout: Duration| async move {
        rt.exec(&r.container, &argv, timeout).await
    };
    if let DaemonAction::Restart { .. } = &edit.daemons {
        step.set_message("restarting");
        up::restart_router(rt, step, r, deadline).await?;
        done.push("restarted".to_string());
        return Ok(done.join(", "));
    }
    for route in &edit.routes_removed {
        // Gone already when its interface went: nothing to undo then.
        let _: Result<_, RuntimeError> =
            exec(drivers::route_removal(route), ROUTE_COMMAND_TIMEOUT).await;
        done.push(format!("-route {}", route.to));
    }
    let interfaces_changed =
        !edit.interfaces_added.is_empty() || !edit.interfaces_removed.is_empty();
    if interfaces_changed || !edit.routes_added.is_empty() {
        // Every route again: an interface connected anew took none with it.
        lifecycle::run_commands(drivers::route_commands(r), exec, |_| {})
            .await
            .map_err(|e| up::start_failure(r, e))?;
        done.extend(edit.routes_added.iter().map(|r| format!("+route {}", r.to)));
    }
    if let DaemonAction::Reload(reload) = &edit.daemons {
        step.set_message(format!("reloading ({})", reload.how));
        lifecycle::run_commands(reload.commands.clone(), exec, |argv| {
            step.set_message(format!("running {}", argv.join(" ")))
        })
        .await
        .map_err(|e| up::start_failure(r, e))?;
        done.push(format!("reloaded ({})", reload.how));
    }
    if done.is_empty() {
        done.push("configs uploaded".to_string());
    }
    Ok(done.join(", "))
}

/// The change as `diff` prints it.
pub fn render(update: &LabUpdate) -> String {
    change::render_change(&update.change, topology_argument(&update.plan.source))
}
