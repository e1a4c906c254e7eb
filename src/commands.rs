//! Runs the parsed command line: resolves topologies and labs, calls the engine, prints
//! results, and maps every outcome to the documented exit codes.

use crate::cli::{
    CheckArgs, Cli, Command, DownArgs, ExecArgs, GlobalOpts, ImagesCommand, OutputFormat,
    RoutesArgs, SnapshotArgs, SpyArgs, StatusArgs, TopologiesArgs, TopologiesCommand, UpArgs,
    ValidateArgs,
};
use crate::engine::check_runner::{CheckEvent, RunOptions, run_checks_with_progress};
use crate::engine::cluster_side::ClusterLink;
use crate::engine::probe::{DockerProbe, RouterExec};
use crate::engine::state_dir::StateDir;
use crate::engine::up::{UpOptions, UpOutcome};
use crate::engine::{EngineError, down, inspect, up};
use crate::plan::{Plan, PlannedCheck};
use crate::progress::Progress;
use crate::runtime::docker::DockerRuntime;
use crate::runtime::images;
use crate::topology;
use crate::topology::model::{Placement, RouterKind};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Documented exit codes.
pub mod capture;
pub mod check_sinks;
pub mod converge;
pub mod doctor;
pub mod fault;
pub mod tutorial;

pub use crate::exit_code::ExitCode;

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// Checks ran and at least one failed (exit 1).
    ChecksFailed,
    /// `status` ran and reported at least one problem (exit 1); the report is printed.
    ProblemsFound,
    /// `diff` found that the file changes the running lab (exit 1, as `kubectl diff`);
    /// the change is printed.
    ChangesFound,
    /// Bad input: already rendered as a diagnostic with file:line (exit 2).
    Input(miette::Report),
    /// Setup or runtime error, with a hint (exit 2).
    Error {
        message: String,
        hint: Option<String>,
    },
    /// Stopped by Ctrl-C or SIGTERM, having said what it cleaned up (exit 130).
    Interrupted {
        message: String,
        hint: Option<String>,
    },
    /// The command `metallab exec` ran for the user exited non-zero (1–255): metallab
    /// exits with its code and adds nothing to what it printed.
    Passthrough(u8),
    /// The reader of stdout went away (`… | head`): stop quietly, as a pipe expects.
    ReaderGone,
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::ChecksFailed | Failure::ProblemsFound | Failure::ChangesFound => {
                ExitCode::NotAsPlanned
            }
            Failure::Input(_) | Failure::Error { .. } => ExitCode::Error,
            Failure::Interrupted { .. } => ExitCode::Interrupted,
            Failure::Passthrough(code) => ExitCode::Passthrough(*code),
            Failure::ReaderGone => ExitCode::BrokenPipe,
        }
    }

    fn msg(message: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure::Error {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Failure {
        match e {
            EngineError::Interrupted { message, hint } => Failure::Interrupted { message, hint },
            e => Failure::Error {
                hint: e.hint(),
                message: e.to_string(),
            },
        }
    }
}

impl From<crate::runtime::docker::RuntimeError> for Failure {
    fn from(e: crate::runtime::docker::RuntimeError) -> Failure {
        Failure::from(EngineError::from(e))
    }
}

type Result<T, E = Failure> = std::result::Result<T, E>;

pub async fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    let state = StateDir::resolve(g.state_dir.as_deref());
    let progress = Progress::new(g.progress);
    match cli.command {
        Command::Up(a) => cmd_up(g, &state, &progress, a).await,
        Command::Diff(a) => cmd_diff(g, &state, a).await,
        Command::Down(a) => cmd_down(&state, &progress, a).await,
        Command::Status(a) => cmd_status(g, &state, a).await,
        Command::Routes(a) => cmd_routes(g, &state, a).await,
        Command::Exec(a) => cmd_exec(&state, a).await,
        Command::Capture(a) => capture::cmd_capture(&state, a).await,
        Command::Fault(a) => fault::cmd_fault(g, &state, &progress, a).await,
        Command::Converge(a) => converge::cmd_converge(g, &state, &progress, a).await,
        Command::Check(a) => cmd_check(g, &state, &progress, a).await,
        Command::Snapshot(a) => cmd_snapshot(g, &state, &progress, a).await,
        Command::Validate(a) => cmd_validate(g, a),
        Command::Images(c) => cmd_images(g, &progress, c).await,
        Command::Topologies(a) => cmd_topologies(g, a),
        Command::Spy(a) => cmd_spy(&state, a).await,
        Command::Tutorial(c) => tutorial::cmd_tutorial(g, &state, &progress, c).await,
        Command::Doctor => doctor::run(g).await,
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "metallab",
                &mut buf,
            );
            // Write ourselves: clap_complete panics on a closed pipe (`| head`).
            let _ = std::io::stdout().write_all(&buf);
            Ok(())
        }
    }
}

/// A topology file or built-in, loaded, validated and planned.
pub struct Loaded {
    pub plan: Plan,
    pub source_text: String,
}

pub fn load(arg: Option<&str>) -> Result<Loaded> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let loaded =
        topology::load::load(arg, &cwd).map_err(|e| Failure::Input(miette::Report::new(e)))?;
    Ok(Loaded {
        plan: crate::plan::from_loaded(&loaded),
        source_text: loaded.text,
    })
}

async fn connect() -> Result<DockerRuntime> {
    Ok(DockerRuntime::connect().await?)
}

fn print_json(v: &impl serde::Serialize) {
    outln!("{}", serde_json::to_string_pretty(v).expect("serializable"));
}

/// Colours for stdout from `--color` and the environment (NO_COLOR, CI, a terminal).
fn color_stdout(g: &GlobalOpts) -> bool {
    crate::view::table::use_color(g.color, &crate::view::table::ColorEnv::from_process())
}

/// Takes the lab's lock for this process, saying whom it waits for when another metallab
/// holds it.
fn hold_lab(
    state: &StateDir,
    progress: &Progress,
    lab: &str,
) -> Result<crate::engine::state_dir::LabLock> {
    state
        .lock_lab(lab, |holder| {
            progress.println(format!(
                "lab {lab} is being changed by another metallab (process {holder}); waiting for it to finish"
            ))
        })
        .map_err(|e| {
            Failure::msg(
                format!("cannot lock lab {lab} in {}: {e}", state.root().display()),
                "check --state-dir / METALLAB_STATE_DIR",
            )
        })
}

fn painter(g: &GlobalOpts) -> crate::view::table::Painter {
    crate::view::table::Painter::new(color_stdout(g))
}

/// `metallab diff FILE`: what `up FILE` would change on the running lab (everything to
/// create when the lab is not up), nothing applied.
async fn cmd_diff(g: &GlobalOpts, state: &StateDir, a: crate::cli::DiffArgs) -> Result<()> {
    let loaded = load(a.topology.as_deref())?;
    let plan = &loaded.plan;
    let rt = connect().await?;
    let running = !crate::engine::down::lab_resources(&rt, &plan.lab)
        .await?
        .is_empty();
    // A lab not up: everything it would create. A running one: its change, from its
    // saved plan.
    let found = if running {
        crate::engine::change::lab_update(state, plan)?
    } else {
        Some(crate::engine::change::creation(plan)?)
    };
    let update = match found {
        Some(update) => update,
        None => {
            return Err(Failure::msg(
                format!(
                    "lab {} runs, but its saved plan is not in {}",
                    plan.lab,
                    state.root().display()
                ),
                "`metallab up --reconfigure FILE` rebuilds it (or pass the --state-dir it was made with)",
            ));
        }
    };
    match g.output {
        OutputFormat::Json => print_json(&serde_json::json!({
            "lab": plan.lab,
            "running": running,
            "change": update.change,
        })),
        _ => out!("{}", crate::engine::change::render(&update)),
    }
    if update.change.is_empty() {
        Ok(())
    } else {
        Err(Failure::ChangesFound)
    }
}

async fn cmd_up(g: &GlobalOpts, state: &StateDir, progress: &Progress, a: UpArgs) -> Result<()> {
    // One deadline over the whole of `up`, checks included.
    let deadline = a.timeout.map_or_else(
        crate::engine::Deadline::none,
        crate::engine::Deadline::after,
    );
    let loaded = load(a.topology.as_deref())?;
    let plan = &loaded.plan;
    let rt = connect().await?;
    // One `up` (or `down`) of a lab at a time: a second one waits for the first.
    let _held = hold_lab(state, progress, &plan.lab)?;
    let opts = UpOptions {
        reconfigure: a.reconfigure,
        retain: a.retain,
        base_image: a.base_image.clone(),
        offline: g.offline,
        deadline,
    };
    // Checks run against the plan `up` made: node sessions expanded, nodes known.
    let made = match up::up(&rt, state, progress, plan, &loaded.source_text, &opts).await? {
        UpOutcome::Created { seconds, plan } => {
            progress.println(format!(
                "lab {} is up ({} router(s), {} network(s)) in {seconds:.1}s",
                plan.lab,
                plan.routers.len(),
                plan.networks.len()
            ));
            plan
        }
        UpOutcome::AlreadyUp { plan } => {
            progress.println(format!("lab {} was already up", plan.lab));
            plan
        }
        UpOutcome::Changed { seconds, plan } => {
            progress.println(format!(
                "lab {} changed in place in {seconds:.1}s",
                plan.lab
            ));
            plan
        }
    };
    if a.no_check || plan.checks.is_empty() {
        progress.println(format!(
            "next: metallab status {0}   metallab down {0}",
            plan.lab
        ));
        if a.timings {
            print_timings(progress, &[]);
        }
        return Ok(());
    }
    let plan = &*made;
    // `up` listens for Ctrl-C while it creates (to roll back), which replaces the default
    // of dying at once: keep Ctrl-C working here. The lab is complete and stays up.
    tokio::select! {
        result = run_and_report(
            g,
            state,
            &rt,
            progress,
            plan,
            CheckRun {
                // What is left of `--timeout` for every check.
                timeout: a.timeout.map(|t| deadline.budget(t)),
                junit: a.junit.as_deref(),
                filter: None,
                timings: a.timings,
            },
        ) => result,
        () = crate::engine::interrupted() => Err(Failure::Interrupted {
            message: format!("interrupted while checking; lab {} is up", plan.lab),
            hint: Some(format!(
                "run its checks with `metallab check {0}`, remove it with `metallab down {0}`",
                plan.lab
            )),
        }),
    }
}

/// How `up` and `check` run a lab's checks.
struct CheckRun<'a> {
    timeout: Option<std::time::Duration>,
    junit: Option<&'a Path>,
    filter: Option<&'a str>,
    /// Print `up --timings` once the checks are done.
    timings: bool,
}

/// `up --timings`: the steps so far and when each check passed.
fn print_timings(progress: &Progress, checks: &[crate::view::timings::PassedCheck]) {
    progress.println(crate::view::timings::render(&progress.spans(), checks).trim_end());
}

/// The plan's checks whose name contains `filter` (all without one); none is an error.
fn selected_checks(plan: &Plan, filter: Option<&str>) -> Result<Vec<PlannedCheck>> {
    let checks: Vec<PlannedCheck> = plan
        .checks
        .iter()
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .cloned()
        .collect();
    if checks.is_empty() {
        return Err(Failure::msg(
            format!(
                "lab {} has no checks{}",
                plan.lab,
                filter
                    .map(|f| format!(" matching `{f}`"))
                    .unwrap_or_default()
            ),
            "add a `checks:` section to the topology",
        ));
    }
    Ok(checks)
}

async fn run_and_report(
    g: &GlobalOpts,
    state: &StateDir,
    rt: &DockerRuntime,
    progress: &Progress,
    plan: &Plan,
    run: CheckRun<'_>,
) -> Result<()> {
    let CheckRun {
        timeout,
        junit,
        filter,
        timings,
    } = run;
    let checks = selected_checks(plan, filter)?;
    let opts = RunOptions {
        timeout_override: timeout,
        ..RunOptions::default()
    }
    .sampled();
    // Routers in containers are read by samplers inside them, a reading every poll
    // interval: one exec per part of a router's state, not one per reading.
    let probe = DockerProbe::new(rt, plan, ClusterLink::connect(rt, state, plan).await)
        .sampling_checks(&checks, &opts);
    let step = progress.step(
        "check",
        format!("{} check(s) on lab {}", checks.len(), plan.lab),
    );
    let sinks = check_sinks::choose(check_sinks::SinkChoice {
        global: g,
        progress,
        step,
        total: checks.len(),
        lab: &plan.lab,
        junit,
        timings_from: timings.then(|| progress.elapsed()),
    });
    let sinks = std::sync::Mutex::new(sinks);
    let results = run_checks_with_progress(&probe, &checks, opts, |event| {
        if let CheckEvent::Finished(result) = event {
            let mut sinks = sinks.lock().unwrap_or_else(|e| e.into_inner());
            for sink in sinks.iter_mut() {
                sink.finished(result);
            }
        }
    })
    .await;
    probe.stop_sampling().await;
    let sinks = sinks.into_inner().unwrap_or_else(|e| e.into_inner());
    for sink in sinks {
        sink.end(&results)?;
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::ChecksFailed)
    }
}

async fn cmd_down(state: &StateDir, progress: &Progress, a: DownArgs) -> Result<()> {
    let rt = connect().await?;
    let labs = if a.all {
        let mut labs = down::running_labs(&rt).await?;
        for l in state.labs() {
            if !labs.contains(&l) {
                labs.push(l);
            }
        }
        labs
    } else if let Some(name) = a.name {
        vec![name]
    } else {
        // A topology file names its lab (read from its `name:` alone, so a file broken
        // since `up` still tears its lab down); anything else is taken as a lab name, so
        // `down` of a lab that is already gone is a harmless no-op.
        match a.lab.as_deref() {
            Some(arg) if Path::new(arg).is_file() => {
                let named = std::fs::read_to_string(arg)
                    .ok()
                    .and_then(|text| topology::load::lab_name_in(&text));
                match named {
                    Some(name) => vec![name],
                    None => vec![load(Some(arg))?.plan.lab],
                }
            }
            Some(arg) => vec![arg.to_string()],
            None => vec![lab_name_from_arg(state, None, &rt).await?],
        }
    };
    if labs.is_empty() {
        progress.println("no metallab labs found");
        return Ok(());
    }
    for lab in labs {
        tear_down(state, progress, &rt, &lab).await?;
    }
    Ok(())
}

/// Removes one lab under its lock, saying what went (`metallab down LAB`).
async fn tear_down(
    state: &StateDir,
    progress: &Progress,
    rt: &DockerRuntime,
    lab: &str,
) -> Result<()> {
    let _held = hold_lab(state, progress, lab)?;
    let step = progress.step("down", format!("lab {lab}"));
    match down::remove_lab(rt, state, lab, None).await {
        Ok(r) if r.is_empty() => step.done("nothing left to remove"),
        Ok(r) => step.done(r.summary()),
        Err(e) => {
            step.failed();
            return Err(e.into());
        }
    }
    Ok(())
}

/// A lab argument may be a lab name, a topology file or a built-in name; with none, the
/// only running lab.
async fn lab_name_from_arg(
    state: &StateDir,
    arg: Option<&str>,
    rt: &DockerRuntime,
) -> Result<String> {
    if let Some(arg) = arg {
        if is_lab_name(state, arg, rt).await? {
            return Ok(arg.to_string());
        }
        // A topology file or a built-in names its lab; anything else was meant as a lab.
        let is_topology = Path::new(arg).is_file() || topology::builtin::get(arg).is_ok();
        if !is_topology {
            let running = down::running_labs(rt).await?;
            let hint = if running.is_empty() {
                "no lab is running; start one with `metallab up <topology>`".to_string()
            } else {
                let best =
                    topology::diagnostics::did_you_mean(arg, running.iter().map(String::as_str));
                match best {
                    Some(best) => format!(
                        "did you mean `{best}`? running labs: {}",
                        running.join(", ")
                    ),
                    None => format!("running labs: {}", running.join(", ")),
                }
            };
            return Err(Failure::msg(
                format!("no lab named `{arg}` is running"),
                hint,
            ));
        }
        return Ok(load(Some(arg))?.plan.lab);
    }
    let labs = down::running_labs(rt).await?;
    match labs.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Failure::msg(
            "no metallab lab is running",
            "start one with: metallab up <topology>",
        )),
        many => Err(Failure::msg(
            format!("several labs are running: {}", many.join(", ")),
            "name the lab you mean",
        )),
    }
}

async fn is_lab_name(state: &StateDir, arg: &str, rt: &DockerRuntime) -> Result<bool> {
    if Path::new(arg).is_file() {
        return Ok(false);
    }
    Ok(state.load_plan(arg).is_some() || down::running_labs(rt).await?.iter().any(|l| l == arg))
}

/// The plan of a running lab: saved by `up` in the state directory.
async fn running_plan(state: &StateDir, arg: Option<&str>, rt: &DockerRuntime) -> Result<Plan> {
    let lab = lab_name_from_arg(state, arg, rt).await?;
    state.load_plan(&lab).ok_or_else(|| {
        Failure::msg(
            format!("no saved plan for lab {lab} in {}", state.lab_dir(&lab).display()),
            format!("the lab was created elsewhere or its state was removed; `metallab down {lab}` then `metallab up` rebuilds it"),
        )
    })
}

async fn cmd_status(g: &GlobalOpts, state: &StateDir, a: StatusArgs) -> Result<()> {
    let rt = connect().await?;
    let labs = match a.lab {
        Some(l) => vec![lab_name_from_arg(state, Some(&l), &rt).await?],
        None => down::running_labs(&rt).await?,
    };
    if labs.is_empty() {
        if g.output == OutputFormat::Json {
            print_json(&Vec::<crate::view::LabView>::new());
        } else {
            outln!("no metallab labs are running (start one with: metallab up <topology>)");
        }
        return Ok(());
    }
    let mut json = vec![];
    let mut text = vec![];
    let mut problems = 0;
    for lab in &labs {
        match state.load_plan(lab) {
            Some(plan) => {
                let link = ClusterLink::connect(&rt, state, &plan).await;
                // An unreadable cluster is one of the lab's problems, not "no cluster".
                let cluster = link.state().await;
                let exec = RouterExec::for_link(&rt, &plan.lab, &link);
                let mut status = inspect::gather_status(&exec, &plan, cluster).await?;
                status.faults = fault::active_faults(state, &plan.lab);
                problems += inspect::all_problems(&status).len();
                text.push(inspect::render_status(&status, painter(g)));
                json.push(serde_json::to_value(&status).expect("serializable"));
            }
            // Labelled resources without a saved plan: another state directory made them,
            // or its state was removed. Still worth showing: `down` can remove them.
            None => {
                let found = down::lab_resources(&rt, lab).await?;
                text.push(format!(
                    "lab {lab}: {} container(s), {} network(s), no saved plan in {} (created with another --state-dir?); `metallab down {lab}` removes it\n",
                    found.containers.len(),
                    found.networks.len(),
                    state.lab_dir(lab).display()
                ));
                json.push(serde_json::json!({"lab": lab, "plan": null, "containers": found.containers, "networks": found.networks}));
            }
        }
    }
    match g.output {
        OutputFormat::Json => print_json(&json),
        OutputFormat::Table => out!("{}", text.join("\n")),
    }
    // Non-zero so a CI step can gate on a healthy lab.
    if problems > 0 {
        return Err(Failure::ProblemsFound);
    }
    Ok(())
}

/// `lab/router` or `router` (+ `--lab`).
fn split_router(router: &str, lab: Option<String>) -> (Option<String>, String) {
    match router.split_once('/') {
        Some((l, r)) => (Some(l.to_string()), r.to_string()),
        None => (lab, router.to_string()),
    }
}

async fn cmd_routes(g: &GlobalOpts, state: &StateDir, a: RoutesArgs) -> Result<()> {
    let rt = connect().await?;
    let (lab, router) = match a.router {
        Some(r) => {
            let (lab, r) = split_router(&r, a.lab);
            (lab, Some(r))
        }
        None => (a.lab, None),
    };
    let plan = running_plan(state, lab.as_deref(), &rt).await?;
    if let Some(r) = &router
        && plan.router(r).is_none()
    {
        return Err(unknown_router(&plan, r));
    }
    // In-cluster routers are read through the cluster; others need no connection to it.
    let link = if plan
        .routers
        .iter()
        .any(|r| r.placement == Placement::Cluster)
    {
        ClusterLink::connect(&rt, state, &plan).await
    } else {
        ClusterLink::NoCluster
    };
    let exec = RouterExec::for_link(&rt, &plan.lab, &link);
    // Next hops are named from the lab view: lab routers, and the cluster's nodes by the
    // names the plan saved.
    let view = inspect::gather_routes(&exec, &plan, router.as_deref()).await?;
    let routes = inspect::router_routes(&view, router.as_deref());
    match g.output {
        OutputFormat::Json => print_json(&routes),
        OutputFormat::Table => out!("{}", inspect::render_routes(&routes, painter(g))),
    }
    Ok(())
}

async fn cmd_spy(state: &StateDir, a: SpyArgs) -> Result<()> {
    let rt = connect().await?;
    let plan = running_plan(state, a.lab.as_deref(), &rt).await?;
    let cluster = ClusterLink::connect(&rt, state, &plan).await;
    crate::spy::run(rt, plan, cluster, state.clone(), a.listen)
        .await
        .map_err(|e| Failure::Error {
            hint: e.hint(),
            message: e.to_string(),
        })
}

fn unknown_router(plan: &Plan, r: &str) -> Failure {
    let names: Vec<&str> = plan.routers.iter().map(|r| r.name.as_str()).collect();
    Failure::msg(
        format!("lab {} has no router `{r}`", plan.lab),
        format!("routers: {}", names.join(", ")),
    )
}

async fn cmd_exec(state: &StateDir, a: ExecArgs) -> Result<()> {
    let rt = connect().await?;
    let (lab, router) = split_router(&a.router, a.lab);
    let plan = running_plan(state, lab.as_deref(), &rt).await?;
    let r = plan
        .router(&router)
        .ok_or_else(|| unknown_router(&plan, &router))?;
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if r.placement == Placement::Cluster {
        return exec_in_cluster(state, &rt, &plan, r, &a.command, interactive).await;
    }
    // Interactive use (a shell, vtysh without -c) needs a TTY, which the Docker CLI gives.
    if interactive && which("docker") {
        let mut docker = std::process::Command::new("docker");
        docker.args(["exec", "-it", &r.container]).args(&a.command);
        return run_tool(docker, "docker");
    }
    let out = rt.exec(&r.container, &a.command, EXEC_TIMEOUT).await?;
    print_exec_output(&out)
}

/// How long a non-interactive `metallab exec` may run.
const EXEC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs an interactive tool with this terminal; metallab then exits with its code.
fn run_tool(mut command: std::process::Command, tool: &str) -> Result<()> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => match status.code().and_then(|c| u8::try_from(c).ok()) {
            Some(code) if code != 0 => Err(Failure::Passthrough(code)),
            // Ended by a signal: no code to pass on.
            _ => Err(Failure::msg(
                format!("{tool} ended with {status}"),
                "run it again",
            )),
        },
        Err(e) => Err(Failure::msg(
            format!("cannot run {tool}: {e}"),
            format!("is the {tool} CLI installed?"),
        )),
    }
}

fn print_exec_output(out: &crate::runtime::ExecOutput) -> Result<()> {
    out!("{}", out.stdout);
    err!("{}", out.stderr);
    let _ = std::io::stdout().flush();
    if out.exit_code != 0 {
        return Err(Failure::Passthrough(out.exit_code.clamp(1, 255) as u8));
    }
    Ok(())
}

/// `exec` into an in-cluster router's pod: through `kubectl exec -it` on a terminal (a
/// TTY for shells and vtysh), else through the Kubernetes API.
async fn exec_in_cluster(
    state: &StateDir,
    rt: &DockerRuntime,
    plan: &Plan,
    r: &crate::plan::PlannedRouter,
    command: &[String],
    interactive: bool,
) -> Result<()> {
    let namespace = crate::in_cluster::namespace(&plan.lab);
    if interactive && which("kubectl") {
        let (context, kubeconfig) =
            crate::engine::cluster_side::kubectl_access(state, plan).await?;
        let mut kubectl = std::process::Command::new("kubectl");
        if let Some(kubeconfig) = kubeconfig {
            kubectl.env("KUBECONFIG", kubeconfig);
        }
        kubectl
            .args(["--context", &context, "-n", &namespace, "exec", "-it"])
            .arg(format!("deploy/{}", r.name))
            .args(["-c", crate::in_cluster::CONTAINER, "--"])
            .args(command);
        return run_tool(kubectl, "kubectl");
    }
    let Some(cluster) = crate::engine::cluster_side::connect_lab(rt, state, plan).await? else {
        return Err(Failure::msg(
            format!(
                "router {} runs in the cluster, but lab {} has none",
                r.name, plan.lab
            ),
            "rebuild the lab with `metallab up --reconfigure`",
        ));
    };
    let exec = crate::in_cluster::KubeExec::new(cluster.client.clone(), &plan.lab);
    let out = exec
        .exec(&r.name, command, EXEC_TIMEOUT)
        .await
        .map_err(|e| {
            let hint = e
                .hint()
                .unwrap_or_else(|| format!("kubectl -n {namespace} describe pods"));
            Failure::msg(format!("{}: {e}", r.name), hint)
        })?;
    print_exec_output(&out)
}

fn which(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

async fn cmd_check(
    g: &GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    a: CheckArgs,
) -> Result<()> {
    let rt = connect().await?;
    // A topology file's checks (possibly edited since `up`) run against its running lab.
    let plan = match a.topology.as_deref() {
        Some(arg) if !is_lab_name(state, arg, &rt).await? => {
            let loaded = load(Some(arg))?;
            if down::lab_resources(&rt, &loaded.plan.lab).await?.is_empty() {
                return Err(Failure::msg(
                    format!("lab {} is not running", loaded.plan.lab),
                    format!("start it with: metallab up {arg}"),
                ));
            }
            loaded.plan
        }
        other => running_plan(state, other, &rt).await?,
    };
    if a.watch {
        return watch_checks(g, state, &rt, &plan, a.filter.as_deref()).await;
    }
    run_and_report(
        g,
        state,
        &rt,
        progress,
        &plan,
        CheckRun {
            timeout: a.timeout,
            junit: a.junit.as_deref(),
            filter: a.filter.as_deref(),
            timings: false,
        },
    )
    .await
}

/// How often `check --watch` evaluates every check.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// How long one sampler of `check --watch` runs before another takes over: the bound on a
/// sampler in case its end-of-file never comes.
const WATCH_SAMPLER_SPAN: std::time::Duration = std::time::Duration::from_secs(600);

/// `check --watch`: every check evaluated each round; each change printed with its time.
async fn watch_checks(
    g: &GlobalOpts,
    state: &StateDir,
    rt: &DockerRuntime,
    plan: &Plan,
    filter: Option<&str>,
) -> Result<()> {
    let checks = selected_checks(plan, filter)?;
    let names: Vec<String> = checks.iter().map(|c| c.name.clone()).collect();
    // Routers in containers are read by samplers inside them, a reading every round: one
    // exec per part of a router's state for the whole watch, not one per reading.
    let probe = DockerProbe::new(rt, plan, ClusterLink::connect(rt, state, plan).await)
        .sampling(WATCH_INTERVAL, WATCH_SAMPLER_SPAN);
    let watched = watch_rounds(g, &probe, &checks, &names).await;
    probe.stop_sampling().await;
    watched
}

/// The rounds of `check --watch`, until Ctrl-C.
async fn watch_rounds(
    g: &GlobalOpts,
    probe: &DockerProbe<'_>,
    checks: &[crate::plan::model::PlannedCheck],
    names: &[String],
) -> Result<()> {
    use crate::check::watch::transitions;
    let mut previous = Vec::new();
    // One listener for the whole watch: a Ctrl-C that comes while transitions are being
    // printed is kept for the next wait, where a listener made per wait would miss it.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let started = tokio::time::Instant::now();
        let round = crate::engine::check_runner::evaluate_round(
            probe,
            checks,
            std::time::Duration::from_secs(15),
        );
        let verdicts = tokio::select! {
            verdicts = round => verdicts,
            _ = &mut interrupted => return Ok(()),
        };
        let at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        for t in transitions(&mut previous, names, &verdicts, &at) {
            match g.output {
                OutputFormat::Json => {
                    outln!("{}", serde_json::to_string(&t).expect("serializable"))
                }
                OutputFormat::Table => outln!("{}", t.line()),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep_until(started + WATCH_INTERVAL) => {}
            _ = &mut interrupted => return Ok(()),
        }
    }
}

async fn cmd_snapshot(
    g: &GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    a: SnapshotArgs,
) -> Result<()> {
    use crate::engine::snapshot::{self, NoCluster, SnapshotOptions};
    let rt = connect().await?;
    let lab = lab_name_from_arg(state, a.lab.as_deref(), &rt).await?;
    let now = std::time::SystemTime::now();
    let opts = SnapshotOptions {
        log_lines: a.log_lines,
        now,
    };
    let step = progress.step("snapshot", format!("lab {lab}"));
    // With a cluster: MetalLB's objects, Services and events, and the cluster's state.
    let cluster = match state.load_plan(&lab) {
        Some(plan) => match ClusterLink::connect(&rt, state, &plan).await {
            ClusterLink::Connected(c) => Some(c),
            ClusterLink::Unreachable(reason) => {
                progress.println(format!(
                    "warning: {reason}; the snapshot has no cluster objects"
                ));
                None
            }
            ClusterLink::NoCluster => None,
        },
        None => None,
    };
    let snap = match cluster {
        Some(c) => snapshot::collect(&rt, state, &lab, Some(c.as_ref()), &opts).await,
        None => snapshot::collect(&rt, state, &lab, None::<&NoCluster>, &opts).await,
    };
    let snap = match snap {
        Ok(s) => s,
        Err(e) => {
            step.failed();
            return Err(e.into());
        }
    };
    let bytes = snapshot::pack(&snap, now)
        .map_err(|e| Failure::msg(format!("cannot pack the snapshot: {e}"), "report this bug"))?;
    let to_stdout = a.file.as_deref() == Some(Path::new("-"));
    let dest = a
        .file
        .unwrap_or_else(|| format!("{}.tar.gz", snap.root).into());
    let written = if to_stdout {
        std::io::stdout()
            .write_all(&bytes)
            .and_then(|_| std::io::stdout().flush())
    } else {
        std::fs::write(&dest, &bytes)
    };
    if let Err(e) = written {
        step.failed();
        return Err(Failure::msg(
            format!("cannot write {}: {e}", dest.display()),
            "choose another place with --file FILE",
        ));
    }
    step.done(format!(
        "{} ({} files, {} KiB)",
        if to_stdout {
            "stdout".into()
        } else {
            dest.display().to_string()
        },
        snap.files.len(),
        bytes.len().div_ceil(1024)
    ));
    if !snap.not_collected.is_empty() {
        progress.println(format!(
            "{} item(s) could not be collected; README.txt in the archive lists them",
            snap.not_collected.len()
        ));
    }
    if to_stdout {
        return Ok(());
    }
    match g.output {
        OutputFormat::Json => print_json(&serde_json::json!({
            "lab": snap.lab,
            "file": dest,
            "bytes": bytes.len(),
            "files": snap.files,
            "not_collected": snap.not_collected,
        })),
        OutputFormat::Table => outln!("{}", dest.display()),
    }
    Ok(())
}

fn cmd_validate(g: &GlobalOpts, a: ValidateArgs) -> Result<()> {
    let loaded = load(a.topology.as_deref())?;
    let plan = &loaded.plan;
    if a.plan {
        match g.output {
            OutputFormat::Json => print_json(plan),
            OutputFormat::Table => out!(
                "{}",
                serde_saphyr::to_string(plan)
                    .map_err(|e| Failure::msg(e.to_string(), "report this bug"))?
            ),
        }
    }
    if a.configs {
        let node_peers: Vec<&str> = plan
            .routers
            .iter()
            .filter(|r| !r.node_sessions.is_empty())
            .map(|r| r.name.as_str())
            .collect();
        if !node_peers.is_empty() {
            // Said on stderr so the configs on stdout stay as the routers get them.
            errln!(
                "note: the sessions of {} to the cluster's nodes are added by `up`, once it knows the nodes' addresses; they are not in the configs below",
                node_peers.join(", ")
            );
        }
        for r in &plan.routers {
            let files = crate::render::render_router(r).map_err(|e| {
                Failure::msg(format!("cannot render {}: {e}", r.name), "report this bug")
            })?;
            for f in files {
                outln!("### {} {}\n{}", r.name, f.path, f.contents);
            }
        }
        // MetalLB's configuration as it will be applied (CRs, or the legacy ConfigMap).
        if plan.metallb.is_some() {
            let objects = crate::render::metallb::render(plan)
                .map_err(|e| Failure::msg(e.to_string(), "check the `metallb:` section"))?;
            outln!("### metallb\n{}", crate::render::metallb::to_yaml(&objects));
        }
        // Routers placed in the cluster: their Namespace, ConfigMap, Service, Deployment.
        if plan
            .routers
            .iter()
            .any(|r| r.placement == crate::topology::model::Placement::Cluster)
        {
            let objects = crate::in_cluster::lab_manifests(plan, |r| r.image.clone())
                .map_err(|e| Failure::msg(e.to_string(), e.hint()))?;
            outln!(
                "### in-cluster routers\n{}",
                crate::render::metallb::to_yaml(&objects)
            );
        }
    }
    errln!(
        "✔ {} is valid: lab {}, {} network(s), {} router(s), {} check(s)",
        plan.source,
        plan.lab,
        plan.networks.len(),
        plan.routers.len(),
        plan.checks.len()
    );
    Ok(())
}

fn parse_kinds(kinds: &[String]) -> Result<Vec<RouterKind>> {
    if kinds.is_empty() {
        return Ok(images::kinds_built_by_default());
    }
    kinds
        .iter()
        .map(|k| {
            let kind: RouterKind = k
                .parse()
                .map_err(|e: String| Failure::msg(e, "metallab images build frr bird"))?;
            if !images::kinds_with_images().contains(&kind) {
                return Err(Failure::msg(
                    format!("metallab has no built-in image for {kind}"),
                    format!(
                        "give the router an `image:` of your own (buildable here: {})",
                        kind_list(&images::kinds_with_images())
                    ),
                ));
            }
            Ok(kind)
        })
        .collect()
}

fn kind_list(kinds: &[RouterKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn cmd_images(g: &GlobalOpts, progress: &Progress, c: ImagesCommand) -> Result<()> {
    let rt = connect().await?;
    match c {
        ImagesCommand::Build {
            kinds,
            force,
            base_image,
        } => {
            let kinds = parse_kinds(&kinds)?;
            let jobs = kinds.iter().map(|&kind| {
                let rt = &rt;
                let base_image = base_image.as_str();
                async move {
                    let step = progress.step("image", kind.to_string());
                    match images::ensure_image(rt, kind, base_image, force, |l: &str| {
                        step.set_message(l)
                    })
                    .await
                    {
                        Ok(tag) => {
                            step.done(tag);
                            Ok(())
                        }
                        Err(e) => {
                            step.failed();
                            Err(Failure::from(e))
                        }
                    }
                }
            });
            // Builds share the apt cache of the base image layer; two at a time suits 2 cores.
            for r in crate::engine::bounded(2, jobs.collect()).await {
                r?;
            }
            Ok(())
        }
        ImagesCommand::List => {
            let list = images::list_images(&rt).await?;
            match g.output {
                OutputFormat::Json => print_json(&list),
                OutputFormat::Table => {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|i| {
                            vec![
                                i.kind.clone(),
                                i.tags.join(","),
                                if i.current {
                                    "current".into()
                                } else {
                                    "stale".into()
                                },
                            ]
                        })
                        .collect();
                    out!("{}", inspect::table(&["KIND", "TAG", "STATE"], &rows));
                }
            }
            Ok(())
        }
        ImagesCommand::Prune => {
            let report = images::prune(&rt).await?;
            let removed = &report.removed;
            progress.println(format!(
                "removed {} stale image(s){}",
                removed.len(),
                if removed.is_empty() {
                    String::new()
                } else {
                    format!(": {}", removed.join(", "))
                }
            ));
            for (tag, why) in &report.kept {
                progress.println(format!("kept {tag}: {why}"));
            }
            Ok(())
        }
    }
}

fn cmd_topologies(g: &GlobalOpts, a: TopologiesArgs) -> Result<()> {
    match a.command.unwrap_or(TopologiesCommand::List) {
        TopologiesCommand::List => {
            let list = topology::builtin::list();
            match g.output {
                OutputFormat::Json => print_json(
                    &list
                        .iter()
                        .map(|b| serde_json::json!({"name": b.name, "description": b.description}))
                        .collect::<Vec<_>>(),
                ),
                OutputFormat::Table => {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|b| vec![b.name.to_string(), b.description.to_string()])
                        .collect();
                    out!("{}", inspect::table(&["NAME", "DESCRIPTION"], &rows));
                }
            }
            Ok(())
        }
        TopologiesCommand::Show { name } => {
            let b = topology::builtin::get(&name)
                .map_err(|e| Failure::Input(miette::Report::new(e)))?;
            out!("{}", b.yaml);
            Ok(())
        }
        TopologiesCommand::Generate { routers, name } => {
            let yaml = topology::generate::scale_yaml(&name, routers)
                .map_err(|e| Failure::msg(e.to_string(), "pick a smaller --routers"))?;
            out!("{yaml}");
            Ok(())
        }
    }
}
