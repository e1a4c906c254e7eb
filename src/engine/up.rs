//! `metallab up`: plan → images → networks → routers (created with their files, started,
//! followed while they boot), each phase as parallel as its dependencies allow.

use super::EngineError;
use super::state_dir::StateDir;
use crate::drivers;
use crate::plan::{Plan, PlannedNetwork, PlannedRouter, labels};
use crate::progress::Progress;
use crate::render::{self, ConfigFile};
use crate::runtime::RuntimeError;
use crate::runtime::docker::{ContainerSpec, NetworkSpec};
use crate::runtime::images;
use crate::runtime::router_start::{self as lifecycle, StartFailure};
use crate::topology::model::{Placement, RouterKind};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// How many routers' containers are created and started at once by default: past the
/// engine's knee more at once only queue inside dockerd (see the README's Benchmark
/// section). Booting (daemons, readiness) happens inside the containers and is not
/// limited. `METALLAB_ROUTER_PARALLELISM` overrides it.
const ROUTER_PARALLELISM: usize = 8;

pub(super) fn router_parallelism() -> usize {
    std::env::var("METALLAB_ROUTER_PARALLELISM")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(ROUTER_PARALLELISM)
}

/// The engine calls that create and start routers' containers, limited to
/// [`router_parallelism`] at once.
pub(super) fn container_slots() -> tokio::sync::Semaphore {
    tokio::sync::Semaphore::new(router_parallelism())
}
/// How long a daemon may take to answer its CLI after start.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause between two readiness queries of a daemon started again by exec (each is itself
/// an exec of some 30 ms).
const READY_POLL: Duration = Duration::from_millis(50);
/// After a rollback, how often and for how long at most to look for resources whose
/// creation was still in flight.
const ROLLBACK_SETTLE_POLL: Duration = Duration::from_millis(500);
const ROLLBACK_SETTLE_LIMIT: Duration = Duration::from_secs(10);

pub struct UpOptions {
    pub reconfigure: bool,
    pub retain: bool,
    pub base_image: String,
    /// Forbids downloading the pinned kind when kind is not on PATH.
    pub offline: bool,
    /// `up --timeout`: one deadline over every wait of `up`.
    pub deadline: super::Deadline,
}

#[cfg(test)]
impl UpOptions {
    /// Defaults: no --retain, no deadline.
    pub(crate) fn for_tests() -> UpOptions {
        UpOptions {
            reconfigure: false,
            retain: false,
            base_image: "debian:bookworm".into(),
            offline: true,
            deadline: super::Deadline::none(),
        }
    }
}

/// How long past `--timeout` the whole of `up` may run before it is cut off, naming the
/// steps under way: each wait inside ends at the deadline itself with its own, more
/// precise error; this catches what has no wait of its own (an image build).
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

/// What a failed router start suggests for a closer look: with --retain the lab stays
/// for it; without, the rollback removes it, so say how to keep it.
pub(super) fn look_closer(retain: bool, how: &str) -> String {
    if retain {
        format!("the lab is kept (--retain): {how}")
    } else {
        format!("rerun with --retain to keep the lab, then {how}")
    }
}

pub enum UpOutcome {
    /// The lab was created; `plan` is the plan as it ended up (node sessions expanded
    /// once the cluster's nodes were known), what its checks run against.
    Created { seconds: f64, plan: Box<Plan> },
    /// The lab was up already (and repaired where needed); `plan` is its plan.
    AlreadyUp { plan: Box<Plan> },
    /// The lab was up and the file's changes were applied in place.
    Changed { seconds: f64, plan: Box<Plan> },
}

pub async fn up(
    rt: &dyn crate::runtime::ContainerEngine,
    state: &StateDir,
    progress: &Progress,
    plan: &Plan,
    topology_source: &str,
    opts: &UpOptions,
) -> Result<UpOutcome, EngineError> {
    let started = Instant::now();
    // Render every config first: a template error must stop us before anything exists.
    let rendered = render_all(plan)?;

    let existing = super::down::lab_resources(rt, &plan.lab).await?;
    if !existing.is_empty() {
        if opts.reconfigure {
            let step = progress.step("down", format!("lab {} (--reconfigure)", plan.lab));
            let removed = super::down::remove_lab(rt, state, &plan.lab, None).await?;
            step.done(removed.summary());
        } else {
            return change_in_place(rt, state, progress, plan, topology_source, opts).await;
        }
    }

    preflight(rt, plan).await?;
    // The cluster's tool, MetalLB's manifests and config, the apps: all before creating.
    // Downloads happen here, so the deadline covers this too (nothing to roll back yet).
    let prepared = tokio::select! {
        prepared = super::cluster_side::prepare(state, progress, plan, !opts.offline) => {
            prepared.map_err(|e| ran_out(e, opts.deadline))?
        }
        running = cut_off(progress, opts.deadline) => return Err(out_of_time(&running, opts.deadline)),
    };

    // The plan is saved before anything is created: a process killed half-way leaves a
    // lab that `check`, `status`, `up` (which then says what is missing) and `down` know.
    // `up` saves it again once complete, with the nodes' sessions.
    save_state(state, plan, topology_source, &rendered)?;

    // Ctrl-C (or SIGTERM) while creating is a failed `up`: what this run created is
    // rolled back, unless --retain.
    let result = tokio::select! {
        result = create(rt, progress, plan, prepared.as_ref(), opts) => {
            result.map_err(|e| ran_out(e, opts.deadline))
        }
        () = super::interrupted() => Err(EngineError::Interrupted {
            message: format!("interrupted: lab {} was not finished", plan.lab),
            hint: None,
        }),
        running = cut_off(progress, opts.deadline) => Err(out_of_time(&running, opts.deadline)),
    };
    let (plan, configs) = match result {
        Ok(done) => done,
        Err(e) => return Err(roll_back(rt, state, progress, plan, opts, e).await),
    };
    save_state(state, &plan, topology_source, &configs)?;
    Ok(UpOutcome::Created {
        seconds: started.elapsed().as_secs_f64(),
        plan: Box::new(plan),
    })
}

/// After a failed or interrupted `up`: removes what this run created (or keeps it with
/// --retain) and returns the error to report, saying what was done. A second Ctrl-C
/// during the rollback stops at once and says how to finish the cleanup.
async fn roll_back(
    rt: &dyn crate::runtime::ContainerEngine,
    state: &StateDir,
    progress: &Progress,
    plan: &Plan,
    opts: &UpOptions,
    error: EngineError,
) -> EngineError {
    let cleanup = format!("metallab down {}", plan.lab);
    if opts.retain {
        progress.println(format!(
            "up failed; keeping what was created (--retain). Remove it with: {cleanup}"
        ));
        return with_hint(error, format!("remove what was created with: {cleanup}"));
    }
    let step = progress.step("rollback", format!("lab {}", plan.lab));
    let removal = async {
        let mut removed = super::down::remove_lab(rt, state, &plan.lab, Some(plan)).await?;
        // Docker finishes a request whose client went away (a container being created
        // when `up` stopped), so such a resource can appear after the first pass: watch
        // until the lab has stayed empty for a while, removing what shows up.
        let deadline = Instant::now() + ROLLBACK_SETTLE_LIMIT;
        let mut quiet = 0;
        while quiet < 2 && Instant::now() < deadline {
            tokio::time::sleep(ROLLBACK_SETTLE_POLL).await;
            if super::down::lab_resources(rt, &plan.lab).await?.is_empty() {
                quiet += 1;
            } else {
                quiet = 0;
                removed.absorb(super::down::remove_lab(rt, state, &plan.lab, Some(plan)).await?);
            }
        }
        Ok::<_, EngineError>(removed)
    };
    tokio::select! {
        removed = removal => match removed {
            Ok(first) => {
                step.done(first.summary());
                with_hint(error, "nothing of this run is left behind".to_string())
            }
            Err(re) => {
                step.fail(re.to_string());
                with_hint(error, format!("the rollback failed; remove what is left with: {cleanup}"))
            }
        },
        () = super::interrupted() => {
            step.fail("interrupted again");
            EngineError::Interrupted {
                message: format!("interrupted during the rollback of lab {}", plan.lab),
                hint: Some(format!("remove what is left with: {cleanup}")),
            }
        }
    }
}

/// Resolves a moment after the deadline, if there is one (never without), with the
/// steps under way then (taken before the work is dropped and its steps end).
async fn cut_off(progress: &Progress, deadline: super::Deadline) -> Vec<String> {
    match deadline.instant() {
        Some(at) => tokio::time::sleep_until(at + DEADLINE_GRACE).await,
        None => std::future::pending().await,
    }
    progress.running()
}

/// A wait cut short by `up --timeout` failed with its own words ("timed out after 19s
/// waiting for rollouts: …", "daemon not ready after 0s"): say that the deadline is why.
fn ran_out(error: EngineError, deadline: super::Deadline) -> EngineError {
    let passed = deadline
        .instant()
        .is_some_and(|at| tokio::time::Instant::now() >= at);
    if !passed || matches!(error, EngineError::Interrupted { .. }) {
        return error;
    }
    let timeout = crate::duration_text::rounded(deadline.timeout().unwrap_or_default());
    EngineError::Setup {
        message: format!("up did not finish within --timeout {timeout}: {error}"),
        hint: error.hint(),
    }
}

/// `up --timeout` ran out while steps were under way: which ones, doing what.
fn out_of_time(running: &[String], deadline: super::Deadline) -> EngineError {
    let timeout = deadline.timeout().unwrap_or_default();
    EngineError::setup(
        format!(
            "up did not finish within --timeout {}{}",
            crate::duration_text::rounded(timeout),
            if running.is_empty() {
                String::new()
            } else {
                format!("; still under way:\n  - {}", running.join("\n  - "))
            }
        ),
        "give it more time (--timeout), or leave --timeout out to use each wait's own default",
    )
}

/// The error with `hint` added (kept when it has its own).
fn with_hint(error: EngineError, hint: String) -> EngineError {
    match error {
        EngineError::Interrupted {
            message,
            hint: None,
        } => EngineError::Interrupted {
            message,
            hint: Some(hint),
        },
        other => other,
    }
}

pub(super) fn save_state(
    state: &StateDir,
    plan: &Plan,
    topology_source: &str,
    configs: &[(String, Vec<ConfigFile>)],
) -> Result<(), EngineError> {
    write_state(state, plan, topology_source, configs, StateDir::save)
}

/// [`save_state`] for a lab changed in place: what belongs to the running lab (its
/// faults, a tutorial's progress) stays.
pub(super) fn update_state(
    state: &StateDir,
    plan: &Plan,
    topology_source: &str,
    configs: &[(String, Vec<ConfigFile>)],
) -> Result<(), EngineError> {
    write_state(state, plan, topology_source, configs, StateDir::update)
}

type StateWriter =
    fn(&StateDir, &Plan, &str, &[(String, Vec<ConfigFile>)]) -> std::io::Result<std::path::PathBuf>;

fn write_state(
    state: &StateDir,
    plan: &Plan,
    topology_source: &str,
    configs: &[(String, Vec<ConfigFile>)],
    write: StateWriter,
) -> Result<(), EngineError> {
    // The apps were read (and so are readable) before anything was created.
    let apps = super::cluster_side::app_texts(plan).unwrap_or_default();
    write(state, plan, topology_source, configs)
        .and_then(|_| state.save_apps(&plan.lab, &apps))
        .map_err(|e| {
            EngineError::setup(
                format!("cannot write the lab state directory: {e}"),
                "check --state-dir / METALLAB_STATE_DIR",
            )
        })
}

pub(super) fn render_all(plan: &Plan) -> Result<Vec<(String, Vec<ConfigFile>)>, EngineError> {
    plan.routers
        .iter()
        .map(|r| {
            render::render_router(r)
                .map(|files| (r.name.clone(), files))
                .map_err(|e| {
                    EngineError::setup(
                        format!("cannot render the config of {}: {e}", r.name),
                        "this is a metallab bug: please report it with the topology file",
                    )
                })
        })
        .collect()
}

/// Refuse before creating anything when Docker already holds something in the way:
/// a subnet another network uses, or a container name taken by something not ours.
async fn preflight(
    rt: &dyn crate::runtime::ContainerEngine,
    plan: &Plan,
) -> Result<(), EngineError> {
    let networks = rt.list_networks(&[]).await?;
    let mut problems = vec![];
    for planned in &plan.networks {
        for other in &networks {
            if other.name == planned.docker_name {
                problems.push(format!(
                    "a Docker network named {} already exists and is not part of lab {}",
                    other.name, plan.lab
                ));
                continue;
            }
            for subnet in &other.subnets {
                let mine = ipnet::IpNet::V4(planned.subnet);
                if subnet.contains(&mine.network()) || mine.contains(&subnet.network()) {
                    problems.push(format!(
                        "network {} ({}) overlaps Docker network {} ({subnet})",
                        planned.name, planned.subnet, other.name
                    ));
                }
            }
        }
    }
    let mut missing_images = vec![];
    for image in own_images(plan) {
        if !rt.image_exists(image).await? {
            missing_images.push(image);
        }
    }
    if !missing_images.is_empty() {
        let list = missing_images.join(", ");
        let pull: Vec<String> = missing_images
            .iter()
            .map(|i| format!("docker pull {i}"))
            .collect();
        return Err(EngineError::setup(
            if missing_images.len() == 1 {
                format!("image {list} is not present on this Docker engine")
            } else {
                format!("images {list} are not present on this Docker engine")
            },
            format!(
                "pull or build it first ({}), or leave `image:` out to use metallab's own",
                pull.join("; ")
            ),
        ));
    }
    let containers = rt.list_containers(&[], true).await?;
    for r in plan
        .routers
        .iter()
        .filter(|r| r.placement == Placement::Docker)
    {
        if containers.iter().any(|c| c.name == r.container) {
            problems.push(format!(
                "a container named {} already exists and is not part of lab {}",
                r.container, plan.lab
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(EngineError::setup(
            format!(
                "cannot create lab {}:\n  - {}",
                plan.lab,
                problems.join("\n  - ")
            ),
            "pick other subnets in the topology (or leave `subnet:` out to let metallab choose), or remove the conflicting resources",
        ))
    }
}

/// The images routers name with `image:` that this engine must hold. An existing
/// cluster's nodes pull an in-cluster router's image themselves: it need not be here.
fn own_images(plan: &Plan) -> BTreeSet<&str> {
    let existing_cluster = plan
        .cluster
        .as_ref()
        .is_some_and(|c| c.provider == crate::topology::model::ClusterProvider::Existing);
    plan.routers
        .iter()
        .filter(|r| !r.builtin_image)
        .filter(|r| !(existing_cluster && r.placement == Placement::Cluster))
        .map(|r| r.image.as_str())
        .collect()
}

/// Creates the lab; returns the plan as it ended up (node sessions expanded once the
/// cluster's nodes are known) and the configs rendered from it.
async fn create(
    rt: &dyn crate::runtime::ContainerEngine,
    progress: &Progress,
    plan: &Plan,
    prepared: Option<&super::cluster_side::Prepared>,
    opts: &UpOptions,
) -> Result<(Plan, Vec<(String, Vec<ConfigFile>)>), EngineError> {
    // Images build while the networks and the cluster come up: neither needs the other.
    let cluster_side = async {
        create_networks(rt, progress, plan).await?;
        match prepared {
            Some(p) => super::cluster_side::bring_up(rt, progress, plan, p, opts.deadline)
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let (tags, cluster) = tokio::try_join!(
        ensure_images(rt, progress, plan, &opts.base_image),
        cluster_side
    )?;
    let plan = match &cluster {
        Some(c) => crate::plan::nodes::with_node_sessions(plan, &c.nodes),
        None => plan.clone(),
    };
    let configs = render_all(&plan)?;
    // Routers and MetalLB do not wait for each other: BGP retries until both sides are up.
    let metallb = async {
        match (prepared, &cluster) {
            (Some(p), Some(c)) => {
                super::cluster_side::install_metallb_and_apps(progress, p, c, opts.deadline).await
            }
            _ => Ok(()),
        }
    };
    let in_cluster = async {
        match (prepared, &cluster) {
            (Some(p), Some(c)) => {
                super::pod_routers::start_in_cluster_routers(progress, p, c, &plan, &tags, opts)
                    .await
            }
            _ => Ok(()),
        }
    };
    tokio::try_join!(
        start_routers(rt, progress, &plan, &configs, &tags, opts),
        metallb,
        in_cluster
    )?;
    Ok((plan, configs))
}

async fn start_routers(
    rt: &dyn crate::runtime::ContainerEngine,
    progress: &Progress,
    plan: &Plan,
    configs: &[(String, Vec<ConfigFile>)],
    tags: &BTreeMap<RouterKind, String>,
    opts: &UpOptions,
) -> Result<(), EngineError> {
    let configs: BTreeMap<&str, &Vec<ConfigFile>> =
        configs.iter().map(|(n, f)| (n.as_str(), f)).collect();
    let slots = container_slots();
    // In-cluster routers start in `in_cluster`, once their pods run.
    let jobs = plan
        .routers
        .iter()
        .filter(|r| r.placement == Placement::Docker)
        .map(|r| {
            let image = super::pod_routers::router_image(r, tags);
            let files = configs.get(r.name.as_str()).copied();
            let slots = &slots;
            async move {
                let files = files.map(|v| v.as_slice()).unwrap_or(&[]);
                start_router(rt, slots, progress, plan, r, &image, files, opts.deadline).await
            }
        })
        .collect::<Vec<_>>();
    let results = futures::future::join_all(jobs).await;
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.err())
        .map(|e| e.with_hint_inline())
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(EngineError::setup(
            format!(
                "{} router(s) failed to start:\n  - {}",
                failures.len(),
                failures.join("\n  - ")
            ),
            look_closer(
                opts.retain,
                &format!(
                    "`metallab exec <router> -- <cmd>` or `docker logs {}`",
                    Plan::container_name(&plan.lab, "<router>")
                ),
            ),
        ))
    }
}

pub(super) fn describe_router(r: &PlannedRouter) -> String {
    let ips: Vec<String> = r
        .interfaces
        .iter()
        .map(|i| format!("{}={}", i.network, i.ip))
        .collect();
    let mut s = ips.join(" ");
    if let Some(asn) = r.asn {
        s.push_str(&format!(" AS{asn}, {} session(s)", r.sessions.len()));
    }
    s
}

pub(super) async fn ensure_images(
    rt: &dyn crate::runtime::ContainerEngine,
    progress: &Progress,
    plan: &Plan,
    base_image: &str,
) -> Result<BTreeMap<RouterKind, String>, EngineError> {
    let kinds: BTreeSet<RouterKind> = plan
        .routers
        .iter()
        .filter(|r| r.builtin_image)
        .map(|r| r.kind)
        .collect();
    let jobs = kinds.into_iter().map(|kind| async move {
        let step = progress.step("image", format!("{kind}"));
        let tag = images::image_tag(kind, base_image)?;
        if rt.image_exists(&tag).await? {
            step.done(format!("{tag} present"));
            return Ok((kind, tag));
        }
        let built = images::ensure_image(rt, kind, base_image, false, |line: &str| {
            step.set_message(line)
        })
        .await;
        match built {
            Ok(tag) => {
                step.done(format!("built {tag}"));
                Ok((kind, tag))
            }
            Err(e) => {
                step.failed();
                Err(EngineError::from(e))
            }
        }
    });
    let results = futures::future::join_all(jobs).await;
    results.into_iter().collect()
}

pub(super) async fn create_networks(
    rt: &dyn crate::runtime::ContainerEngine,
    progress: &Progress,
    plan: &Plan,
) -> Result<(), EngineError> {
    let jobs = plan.networks.iter().map(|n| async move {
        let step = progress.step("network", n.docker_name.clone());
        match rt.create_network(&network_spec(plan, n)).await {
            Ok(id) => {
                step.done(format!(
                    "{}{}",
                    n.subnet,
                    if n.internal { " internal" } else { "" }
                ));
                Ok(crate::runtime::firewall::bridge_name(&id))
            }
            Err(e) => {
                step.failed();
                Err(EngineError::from(e))
            }
        }
    });
    let bridges: Vec<String> = futures::future::join_all(jobs)
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    // Routed traffic inside a lab network (via a next hop or a BGP router) must survive
    // Docker's isolation rules; see `firewall`. Without the rule, single-hop labs still work,
    // so a failure is a warning with the command to run.
    if let Err(e) = rt.allow_routing_within(&plan.lab, &bridges).await {
        progress.println(format!(
            "warning: cannot add the DOCKER-USER rule that lets traffic be routed inside the lab's networks: {e}"
        ));
    }
    Ok(())
}

pub fn network_spec(plan: &Plan, n: &PlannedNetwork) -> NetworkSpec {
    NetworkSpec {
        name: n.docker_name.clone(),
        subnet: n.subnet,
        gateway: n.gateway,
        internal: n.internal,
        ip_range: n.node_range,
        labels: [
            (labels::LAB.to_string(), plan.lab.clone()),
            (labels::ROLE.to_string(), "network".to_string()),
            (labels::NAME.to_string(), n.name.clone()),
        ]
        .into_iter()
        .collect(),
    }
}

pub fn container_spec(
    plan: &Plan,
    r: &PlannedRouter,
    image: &str,
    command: Vec<String>,
) -> ContainerSpec {
    ContainerSpec {
        name: r.container.clone(),
        image: image.to_string(),
        hostname: Some(r.name.clone()),
        labels: [
            (labels::LAB.to_string(), plan.lab.clone()),
            (labels::ROLE.to_string(), "router".to_string()),
            (labels::NAME.to_string(), r.name.clone()),
            (labels::KIND.to_string(), r.kind.to_string()),
            (labels::TOPOLOGY.to_string(), plan.source.clone()),
        ]
        .into_iter()
        .collect(),
        cmd: Some(command),
        cap_add: drivers::capabilities(r.kind)
            .iter()
            .map(|c| c.to_string())
            .collect(),
        sysctls: drivers::sysctls(r),
        init: true,
        networks: r
            .interfaces
            .iter()
            .map(|i| (i.docker_network.clone(), Some(i.ip)))
            .collect(),
        env: vec![],
    }
}

/// Creates a router's container, which writes its files and boot script itself when they
/// fit in its command (else they are uploaded), starts it (these under one of `slots`),
/// then waits until it has booted; its progress step says how it went.
#[allow(clippy::too_many_arguments)]
pub(super) async fn start_router(
    rt: &dyn crate::runtime::ContainerEngine,
    slots: &tokio::sync::Semaphore,
    progress: &Progress,
    plan: &Plan,
    r: &PlannedRouter,
    image: &str,
    files: &[ConfigFile],
    deadline: super::Deadline,
) -> Result<(), EngineError> {
    let slot = slots.acquire().await;
    let step = progress.step("router", format!("{} ({})", r.name, r.kind));
    let started = async {
        step.set_message("creating container");
        let boot = drivers::boot::container_boot(r, files);
        rt.create_container(&container_spec(plan, r, image, boot.command))
            .await?;
        if boot.upload {
            step.set_message("uploading configs");
            upload(rt, r, files).await?;
        }
        step.set_message("starting container");
        let output = rt.start_attached(&r.container).await?;
        drop(slot);
        wait_booted(&step, r, output, deadline).await
    };
    match started.await {
        Ok(()) => {
            step.done(describe_router(r));
            Ok(())
        }
        Err(e) => {
            step.failed();
            Err(e)
        }
    }
}

/// Uploads the router's files and its boot script (always: the boot script follows the
/// router's start commands, which an edit may change).
pub(super) async fn upload(
    rt: &dyn crate::runtime::ContainerEngine,
    r: &PlannedRouter,
    files: &[ConfigFile],
) -> Result<(), EngineError> {
    let mut payload: Vec<(String, Vec<u8>, u32)> = files
        .iter()
        .map(|f| (f.path.clone(), f.contents.clone().into_bytes(), f.mode))
        .collect();
    payload.push((
        drivers::boot::SCRIPT_PATH.to_string(),
        drivers::boot::script(r).into_bytes(),
        0o755,
    ));
    rt.upload_files(&r.container, &payload).await?;
    Ok(())
}

/// Starts the router's created or stopped container, which boots by itself, and waits
/// until it has.
pub(super) async fn boot(
    rt: &dyn crate::runtime::ContainerEngine,
    step: &crate::progress::Step,
    r: &PlannedRouter,
    deadline: super::Deadline,
) -> Result<(), EngineError> {
    step.set_message("starting container");
    let output = rt.start_attached(&r.container).await?;
    wait_booted(step, r, output, deadline).await
}

/// Follows the boot script on the container's output until the daemons answer.
async fn wait_booted(
    step: &crate::progress::Step,
    r: &PlannedRouter,
    output: crate::runtime::engine::OutputStream,
    deadline: super::Deadline,
) -> Result<(), EngineError> {
    lifecycle::follow_boot(
        r,
        output,
        deadline.budget(READY_TIMEOUT),
        |argv| step.set_message(format!("running {}", argv.join(" "))),
        || step.set_message("waiting for the daemon"),
    )
    .await
    .map_err(|e| start_failure(r, e))
}

/// Starts a stopped router's container, which configures it again as it boots (its
/// static routes and daemons), as `up` does for a router it finds stopped.
pub async fn start_stopped_router(
    rt: &dyn crate::runtime::ContainerEngine,
    progress: &Progress,
    r: &PlannedRouter,
) -> Result<(), EngineError> {
    let step = progress.step("router", format!("starting {}", r.name));
    boot(rt, &step, r, super::Deadline::none()).await?;
    step.done("started and configured");
    Ok(())
}

/// Starts a killed daemon again inside its running router (`fault … kill` cleared): the
/// kind's restart commands, then a wait until the daemon answers. Daemons that answer
/// already (the router was restarted since, by `up` or `fault start`) are left alone.
pub async fn restart_daemon(
    rt: &dyn crate::runtime::ContainerEngine,
    progress: &Progress,
    r: &PlannedRouter,
    daemon: &str,
) -> Result<(), EngineError> {
    if daemon_answers(rt, r).await {
        return Ok(());
    }
    let step = progress.step("router", format!("starting {daemon} in {}", r.name));
    let exec = |argv: Vec<String>, timeout: Duration| async move {
        rt.exec(&r.container, &argv, timeout).await
    };
    let commands = r.kind.behaviour().restart_commands(daemon, &r.announce);
    let started = async {
        lifecycle::run_commands(commands, exec, |argv| {
            step.set_message(format!("running {}", argv.join(" ")))
        })
        .await?;
        step.set_message("waiting for the daemon");
        lifecycle::wait_ready(r, exec, READY_TIMEOUT, READY_POLL).await
    };
    match started.await {
        Ok(()) => {
            step.done("started");
            Ok(())
        }
        Err(e) => {
            step.failed();
            Err(start_failure(r, e))
        }
    }
}

pub(super) fn start_failure(r: &PlannedRouter, failure: StartFailure<RuntimeError>) -> EngineError {
    match failure {
        StartFailure::Exec(e) => e.into(),
        StartFailure::CommandFailed {
            command,
            code,
            output,
        } => EngineError::setup(
            format!("{}: `{command}` exited {code}: {output}", r.name),
            format!("inspect with: metallab exec {} -- sh", r.name),
        ),
        StartFailure::NotReady {
            seconds,
            command,
            output,
        } => EngineError::setup(
            format!(
                "{}: daemon not ready after {seconds}s (`{command}` said: {output})",
                r.name
            ),
            format!("look at the daemon's log: metallab exec {} -- sh", r.name),
        ),
        StartFailure::TimedOut { command, seconds } => EngineError::setup(
            format!("{}: `{command}` did not finish within {seconds}s", r.name),
            format!(
                "a start command must end (a daemon must detach and leave its output); look with: metallab exec {} -- sh",
                r.name
            ),
        ),
        StartFailure::Stopped { output } => EngineError::setup(
            format!(
                "{}: the container stopped while it booted{}",
                r.name,
                if output.is_empty() {
                    String::new()
                } else {
                    format!(": {}", output.replace('\n', "\n  "))
                }
            ),
            format!("see its output with: docker logs {}", r.container),
        ),
    }
}

/// `up` on a lab that exists: what the file changes is applied in place (what cannot
/// change in place is refused, naming it); then everything is made sure to run.
async fn change_in_place(
    rt: &dyn crate::runtime::ContainerEngine,
    state: &StateDir,
    progress: &Progress,
    plan: &Plan,
    topology_source: &str,
    opts: &UpOptions,
) -> Result<UpOutcome, EngineError> {
    let Some(update) = super::change::lab_update(state, plan)? else {
        return reconcile(rt, state, progress, plan, opts.deadline).await;
    };
    let change = &update.change;
    if !change.not_in_place.is_empty() {
        return Err(EngineError::setup(
            format!(
                "lab {} is up, and the file changes what cannot change in place:\n  - {}",
                plan.lab,
                change.not_in_place.join("\n  - ")
            ),
            format!(
                "rebuild it with: metallab up --reconfigure {} (see what would change with `metallab diff`)",
                topology_argument(&plan.source)
            ),
        ));
    }
    if change.is_empty() {
        return reconcile(rt, state, progress, plan, opts.deadline).await;
    }
    let started = Instant::now();
    for line in super::change::render(&update).lines() {
        progress.println(line);
    }
    super::change::apply(rt, state, progress, &update, topology_source, opts).await?;
    // The lab now is the file's: repair what else is off, as for an unchanged file.
    let outcome = reconcile(rt, state, progress, &update.plan, opts.deadline).await?;
    let UpOutcome::AlreadyUp { plan } = outcome else {
        return Ok(outcome);
    };
    Ok(UpOutcome::Changed {
        seconds: started.elapsed().as_secs_f64(),
        plan,
    })
}

/// `up` on a lab that exists with the same plan (or none saved): make sure everything
/// runs, and say what differs when the saved plan is another.
async fn reconcile(
    rt: &dyn crate::runtime::ContainerEngine,
    state: &StateDir,
    progress: &Progress,
    plan: &Plan,
    deadline: super::Deadline,
) -> Result<UpOutcome, EngineError> {
    let saved = state.load_plan(&plan.lab);
    // The saved plan has its node sessions expanded; compare like with like.
    let plan = &match &saved {
        Some(saved) if !saved.cluster_nodes.is_empty() => {
            crate::plan::nodes::with_node_sessions(plan, &saved.cluster_nodes)
        }
        _ => plan.clone(),
    };
    if let Some(saved) = saved.as_ref() {
        let diff = plan_differences(saved, plan);
        if !diff.is_empty() {
            return Err(EngineError::setup(
                format!(
                    "lab {} is already up with a different topology:\n  - {}",
                    plan.lab,
                    diff.join("\n  - ")
                ),
                format!(
                    "rebuild it with: metallab up --reconfigure {}",
                    topology_argument(&plan.source)
                ),
            ));
        }
    }
    let step = progress.step("reconcile", format!("lab {}", plan.lab));
    let containers = rt
        .list_containers(&[(labels::LAB, Some(plan.lab.as_str()))], true)
        .await?;
    let mut restarted = vec![];
    let mut reconnected = vec![];
    let mut missing = vec![];
    for r in plan
        .routers
        .iter()
        .filter(|r| r.placement == Placement::Docker)
    {
        match containers.iter().find(|c| c.name == r.container) {
            Some(c) if c.running => {
                // An interface the plan gives it that was cut (`docker network
                // disconnect`): attach it again with its planned address. Static routes
                // through it went with it, so they are set again.
                let cut: Vec<&crate::plan::model::PlannedInterface> = r
                    .interfaces
                    .iter()
                    .filter(|i| !c.networks.contains_key(&i.docker_network))
                    .collect();
                for interface in &cut {
                    step.set_message(format!("reconnecting {} to {}", r.name, interface.network));
                    rt.connect_network(&r.container, &interface.docker_network, Some(interface.ip))
                        .await?;
                }
                if !cut.is_empty() {
                    let exec = |argv: Vec<String>, timeout: Duration| async move {
                        rt.exec(&r.container, &argv, timeout).await
                    };
                    lifecycle::run_commands(drivers::route_commands(r), exec, |_| {})
                        .await
                        .map_err(|e| start_failure(r, e))?;
                    let networks: Vec<&str> = cut.iter().map(|i| i.network.as_str()).collect();
                    reconnected.push(format!("{} to {}", r.name, networks.join(", ")));
                }
                // A daemon that died in a running container (killed, crashed): restart
                // the router, which starts every daemon with its config again.
                if !daemon_answers(rt, r).await {
                    step.set_message(format!("restarting {}: its daemon does not answer", r.name));
                    restart_router(rt, &step, r, deadline).await?;
                    restarted.push(r.name.clone());
                }
            }
            Some(_) => {
                boot(rt, &step, r, deadline).await?;
                restarted.push(r.name.clone());
            }
            None => missing.push(r.name.clone()),
        }
    }
    if !super::pod_routers::in_cluster_routers(plan).is_empty() {
        let Some(cluster) = super::cluster_side::connect_lab(rt, state, plan).await? else {
            return Err(EngineError::setup(
                format!("lab {} has routers in the cluster but no cluster", plan.lab),
                format!(
                    "rebuild it with: metallab up --reconfigure {}",
                    topology_argument(&plan.source)
                ),
            ));
        };
        let (again, gone) = super::pod_routers::reconcile_in_cluster(&cluster, plan, &step).await?;
        restarted.extend(again);
        missing.extend(gone);
    }
    if !missing.is_empty() {
        step.fail(format!("router(s) missing: {}", missing.join(", ")));
        return Err(EngineError::setup(
            format!(
                "lab {} is partly gone (missing: {})",
                plan.lab,
                missing.join(", ")
            ),
            format!(
                "rebuild it with: metallab up --reconfigure {}",
                topology_argument(&plan.source)
            ),
        ));
    }
    let mut repaired = vec![];
    if !restarted.is_empty() {
        repaired.push(format!("restarted {}", restarted.join(", ")));
    }
    if !reconnected.is_empty() {
        repaired.push(format!("reconnected {}", reconnected.join("; ")));
    }
    if repaired.is_empty() {
        step.done("already up, nothing to do");
    } else {
        step.done(repaired.join("; "));
    }
    Ok(UpOutcome::AlreadyUp {
        plan: Box::new(plan.clone()),
    })
}

/// Restarts a router's container and configures it again: its static routes, daemons
/// (with the configs uploaded), HTTP server and commands, as at creation.
pub(super) async fn restart_router(
    rt: &dyn crate::runtime::ContainerEngine,
    step: &crate::progress::Step,
    r: &PlannedRouter,
    deadline: super::Deadline,
) -> Result<(), EngineError> {
    rt.stop_container(&r.container, Duration::from_secs(1))
        .await?;
    boot(rt, step, r, deadline).await
}

/// Whether the router's daemon answers its own CLI now (kinds without a daemon always do).
async fn daemon_answers(rt: &dyn crate::runtime::ContainerEngine, r: &PlannedRouter) -> bool {
    let Some(argv) = drivers::ready_command(r.kind) else {
        return true;
    };
    match rt
        .exec(&r.container, &argv, lifecycle::READY_QUERY_TIMEOUT)
        .await
    {
        Ok(out) => drivers::is_ready(r.kind, &out),
        // Docker could not run the query at all: not the daemon's fault; leave it.
        Err(_) => true,
    }
}

/// Human-readable differences between the running plan and a new one.
pub fn plan_differences(old: &Plan, new: &Plan) -> Vec<String> {
    let mut out = vec![];
    let names = |p: &Plan| {
        p.routers
            .iter()
            .map(|r| r.name.clone())
            .collect::<BTreeSet<_>>()
    };
    let (o, n) = (names(old), names(new));
    for added in n.difference(&o) {
        out.push(format!("router {added} added"));
    }
    for removed in o.difference(&n) {
        out.push(format!("router {removed} removed"));
    }
    for r in &new.routers {
        if let Some(before) = old.router(&r.name)
            && before != r
        {
            out.push(format!("router {} changed", r.name));
        }
    }
    let nets = |p: &Plan| {
        p.networks
            .iter()
            .map(|n| (n.name.clone(), n.subnet))
            .collect::<BTreeSet<_>>()
    };
    if nets(old) != nets(new) {
        out.push("networks changed".to_string());
    }
    out
}

/// The argument that names a plan's topology on the command line: the file's path, or a
/// built-in's name (`builtin:interop` → `interop`).
pub(super) fn topology_argument(source: &str) -> &str {
    source.strip_prefix("builtin:").unwrap_or(source)
}

#[cfg(test)]
mod tests {
    use super::{look_closer, out_of_time, topology_argument};
    use crate::cli::ProgressMode;
    use crate::engine::Deadline;
    use crate::progress::Progress;
    use std::time::Duration;

    #[tokio::test]
    async fn running_out_of_time_names_the_steps_under_way() {
        let progress = Progress::new(ProgressMode::Never);
        let metallb = progress.step("metallb", "v0.14.8 (native)");
        metallb.set_message("waiting for DaemonSet metallb-system/speaker: 0 of 2 pods ready");
        let done = progress.step("router", "frr1 (frr)");
        done.done("AS64512");
        let err = out_of_time(
            &progress.running(),
            Deadline::after(Duration::from_millis(20_400)),
        );
        assert_eq!(
            err.to_string(),
            "up did not finish within --timeout 20s; still under way:\n  - metallb v0.14.8 (native) (waiting for DaemonSet metallb-system/speaker: 0 of 2 pods ready)"
        );
        drop(metallb);
    }

    #[test]
    fn with_retain_the_hint_does_not_ask_for_retain() {
        assert_eq!(
            look_closer(true, "kubectl -n metallab-lab describe pods"),
            "the lab is kept (--retain): kubectl -n metallab-lab describe pods"
        );
        assert_eq!(
            look_closer(false, "kubectl -n metallab-lab describe pods"),
            "rerun with --retain to keep the lab, then kubectl -n metallab-lab describe pods"
        );
    }

    #[test]
    fn hints_name_a_builtin_as_the_command_line_does() {
        assert_eq!(topology_argument("builtin:interop"), "interop");
        assert_eq!(topology_argument("/labs/lab.yaml"), "/labs/lab.yaml");
    }
}
