//! `metallab tutorial list | lint | start | run`: tutorials found by name (built into the
//! binary from `tutorials/`) or by path to a Markdown file, linted against their
//! topologies, followed interactively (`interactive`) or run end to end for CI.

mod interactive;
mod shell_run;

use super::{Failure, GlobalOpts, OutputFormat, Result, connect, hold_lab, print_json};
use crate::check::text::table;
use crate::cli::{Cli, Command, FaultAction, TutorialCommand};
use crate::engine::check_runner::{RunOptions, run_checks};
use crate::engine::cluster_side::ClusterLink;
use crate::engine::probe::DockerProbe;
use crate::engine::state_dir::StateDir;
use crate::engine::up::UpOptions;
use crate::engine::{down, up};
use crate::progress::Progress;
use crate::runtime::docker::DockerRuntime;
use crate::tutorial::builtin::{self, BuiltinTutorial};
use crate::tutorial::report::{self, CommandRun, StepRun, StepStatus, TutorialRun};
use crate::tutorial::{Environment, Linted, Need, Reference, Step, TutorialErrors};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

pub async fn cmd_tutorial(
    g: &GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    command: TutorialCommand,
) -> Result<()> {
    match command {
        TutorialCommand::List => list(g).await,
        TutorialCommand::Lint { tutorials } => lint(&tutorials),
        TutorialCommand::Start { tutorial } => {
            interactive::start(g, state, progress, &TutorialSource::resolve(&tutorial)?).await
        }
        TutorialCommand::Run {
            tutorial,
            keep,
            junit,
        } => {
            let source = TutorialSource::resolve(&tutorial)?;
            run(g, state, progress, &source, keep, junit.as_deref()).await
        }
    }
}

/// Where a tutorial is.
pub struct TutorialSource {
    pub name: String,
    /// What to type to name it again (`metallab tutorial start ARGUMENT`).
    pub argument: String,
    /// How errors and reports name its file.
    pub shown: String,
    pub markdown: String,
    place: Place,
}

enum Place {
    /// A Markdown file: its folder, and that folder as the user named it.
    File {
        dir: PathBuf,
        shown_dir: PathBuf,
    },
    Builtin(&'static BuiltinTutorial),
}

impl TutorialSource {
    /// A path to a Markdown file (`./my.md`, anything ending in `.md`), else a built-in
    /// tutorial's name.
    pub fn resolve(argument: &str) -> Result<TutorialSource> {
        let path = Path::new(argument);
        if argument.ends_with(".md") || argument.contains('/') {
            let markdown = std::fs::read_to_string(path).map_err(|e| {
                Failure::msg(
                    format!("cannot read tutorial {argument}: {e}"),
                    "name a tutorial Markdown file, or a built-in tutorial (`metallab tutorial list`)",
                )
            })?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
            return Ok(TutorialSource {
                name,
                argument: argument.to_string(),
                shown: argument.to_string(),
                markdown,
                place: Place::File {
                    dir,
                    shown_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
                },
            });
        }
        let builtin = builtin::get(argument).map_err(|e| Failure::Error {
            message: e.to_string(),
            hint: Some(e.help.clone()),
        })?;
        Ok(TutorialSource::builtin(builtin))
    }

    fn builtin(builtin: &'static BuiltinTutorial) -> TutorialSource {
        TutorialSource {
            name: builtin.name.to_string(),
            argument: builtin.name.to_string(),
            shown: builtin.shown(),
            markdown: builtin.markdown.to_string(),
            place: Place::Builtin(builtin),
        }
    }

    /// Parses and lints the tutorial; every error of it (and of its topologies) at once.
    pub fn lint(&self) -> Result<Linted> {
        crate::tutorial::lint(&self.name, &self.shown, &self.markdown, self)
            .map_err(|errors| Failure::Input(miette::Report::new(*errors)))
    }

    /// The folder its commands run in: a file's own folder; for a built-in, its files
    /// written out under the state directory (`<state-dir>/tutorials/`), as in the
    /// repository's `tutorials/`.
    pub fn workdir(&self, state: &StateDir) -> Result<PathBuf> {
        match &self.place {
            Place::File { dir, .. } => Ok(dir.clone()),
            Place::Builtin(builtin) => {
                let dir = state.root().join("tutorials");
                let write = || -> std::io::Result<()> {
                    std::fs::create_dir_all(&dir)?;
                    std::fs::write(dir.join(format!("{}.md", builtin.name)), builtin.markdown)?;
                    for (path, text) in builtin.files {
                        let dest = dir.join(path);
                        if let Some(parent) = dest.parent() {
                            std::fs::create_dir_all(parent)?;
                        }
                        std::fs::write(dest, text)?;
                    }
                    Ok(())
                };
                write().map_err(|e| {
                    Failure::msg(
                        format!(
                            "cannot write the tutorial's files to {}: {e}",
                            dir.display()
                        ),
                        "check --state-dir / METALLAB_STATE_DIR",
                    )
                })?;
                Ok(dir)
            }
        }
    }
}

impl Environment for TutorialSource {
    fn read_file(&self, relative: &str) -> Option<String> {
        match &self.place {
            Place::File { dir, .. } => {
                let path = dir.join(relative);
                path.is_file()
                    .then(|| std::fs::read_to_string(path).ok())
                    .flatten()
            }
            Place::Builtin(builtin) => builtin.file(relative).map(str::to_string),
        }
    }

    fn shown(&self, relative: &str) -> String {
        match &self.place {
            Place::File { shown_dir, .. } => shown_dir.join(relative).display().to_string(),
            Place::Builtin(_) => Path::new("tutorials").join(relative).display().to_string(),
        }
    }

    fn metallab_command(&self, args: &[String]) -> std::result::Result<Vec<Reference>, String> {
        references(args)
    }
}

/// What a metallab command line names, as metallab's own parser reads it; or why that
/// parser refuses it.
pub fn references(args: &[String]) -> std::result::Result<Vec<Reference>, String> {
    use clap::Parser;
    let cli = match Cli::try_parse_from(
        std::iter::once("metallab".to_string()).chain(args.iter().cloned()),
    ) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                return Ok(Vec::new());
            }
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("").trim();
            return Err(first.strip_prefix("error: ").unwrap_or(first).to_string());
        }
    };
    let mut refs = Vec::new();
    // `LAB/ROUTER` names both.
    let router = |refs: &mut Vec<Reference>, router: &str| match router.split_once('/') {
        Some((lab, router)) => {
            refs.push(Reference::Lab(lab.to_string()));
            refs.push(Reference::Router(router.to_string()));
        }
        None => refs.push(Reference::Router(router.to_string())),
    };
    // A lab name, or a topology file that names it.
    let lab = |refs: &mut Vec<Reference>, arg: &str| {
        if arg.ends_with(".yaml") || arg.ends_with(".yml") || arg.contains('/') {
            refs.push(Reference::Topology(arg.to_string()));
        } else {
            refs.push(Reference::Lab(arg.to_string()));
        }
    };
    match cli.command {
        Command::Up(a) => refs.extend(a.topology.map(Reference::Up)),
        Command::Diff(a) => refs.extend(a.topology.map(Reference::Topology)),
        Command::Down(a) => {
            if let Some(arg) = a.lab.or(a.name) {
                lab(&mut refs, &arg)
            }
        }
        Command::Status(a) => refs.extend(a.lab.map(Reference::Lab)),
        Command::Check(a) => {
            if let Some(arg) = a.topology {
                lab(&mut refs, &arg)
            }
        }
        Command::Snapshot(a) => refs.extend(a.lab.map(Reference::Lab)),
        Command::Spy(a) => {
            if let Some(arg) = a.lab {
                lab(&mut refs, &arg)
            }
        }
        Command::Routes(a) => {
            refs.extend(a.lab.map(Reference::Lab));
            if let Some(r) = a.router {
                router(&mut refs, &r)
            }
        }
        Command::Exec(a) => {
            refs.extend(a.lab.map(Reference::Lab));
            router(&mut refs, &a.router);
        }
        Command::Capture(a) => {
            refs.push(Reference::Lab(a.lab));
            if let Some(target) = a.target {
                let name = target.split_once(':').map_or(target.as_str(), |(r, _)| r);
                refs.push(Reference::Router(name.to_string()));
            }
            refs.extend(a.network.map(Reference::Network));
        }
        Command::Fault(a) => {
            refs.push(Reference::Lab(a.lab));
            match a.action {
                FaultAction::Stop { router: r }
                | FaultAction::Start { router: r }
                | FaultAction::Isolate { router: r }
                | FaultAction::Kill { router: r, .. } => refs.push(Reference::Router(r)),
                FaultAction::Link {
                    router: r, network, ..
                } => {
                    refs.push(Reference::Router(r));
                    refs.push(Reference::Network(network));
                }
                FaultAction::Netem { target, .. } => match target.split_once(':') {
                    Some((r, network)) => {
                        refs.push(Reference::Router(r.to_string()));
                        refs.push(Reference::Network(network.to_string()));
                    }
                    None => refs.push(Reference::Router(target)),
                },
                // Cluster nodes are named only once the cluster exists.
                FaultAction::Node { .. }
                | FaultAction::Speaker { .. }
                | FaultAction::List
                | FaultAction::Clear { .. } => {}
            }
        }
        // The fault after `--` is read as `metallab fault LAB …` reads it.
        Command::Converge(a) => {
            let fault: Vec<String> = ["fault".to_string(), a.lab]
                .into_iter()
                .chain(a.fault)
                .collect();
            refs.extend(references(&fault).map_err(|why| format!("the fault after `--`: {why}"))?);
        }
        _ => {}
    }
    Ok(refs)
}

/// Every built-in tutorial.
fn builtins() -> Vec<TutorialSource> {
    builtin::list()
        .iter()
        .map(TutorialSource::builtin)
        .collect()
}

async fn list(g: &GlobalOpts) -> Result<()> {
    let findings = super::doctor::findings(g.offline).await;
    let has = |need: Need| -> bool {
        let item = match need {
            Need::Docker => "docker engine",
            Need::Kind => "kind",
            Need::Minikube => "minikube",
        };
        findings
            .iter()
            .any(|f| f.item == item && (f.ok || f.fetched_on_use))
    };
    let mut rows = Vec::new();
    let mut entries = Vec::new();
    for source in builtins() {
        let parsed = crate::tutorial::parse::parse(&source.name, &source.shown, &source.markdown);
        let front = &parsed.tutorial.front;
        let missing: Vec<&str> = front
            .needs
            .iter()
            .filter(|n| !has(**n))
            .map(|n| n.name())
            .collect();
        let needs: Vec<&str> = front.needs.iter().map(|n| n.name()).collect();
        rows.push(vec![
            source.name.clone(),
            front.title.clone(),
            needs.join(", "),
            front.duration.clone(),
            if missing.is_empty() {
                "yes".to_string()
            } else {
                format!("no: {} missing", missing.join(", "))
            },
        ]);
        entries.push(serde_json::json!({
            "name": source.name,
            "title": front.title,
            "needs": needs,
            "duration": front.duration,
            "steps": parsed.tutorial.steps.len(),
            "can_run": missing.is_empty(),
            "missing": missing,
        }));
    }
    match g.output {
        OutputFormat::Json => print_json(&entries),
        OutputFormat::Table => {
            outln!(
                "{}",
                table(&["NAME", "TITLE", "NEEDS", "TIME", "RUNS HERE"], &rows)
            );
            outln!(
                "\nstart one: metallab tutorial start NAME   (what is missing: metallab doctor)"
            );
        }
    }
    Ok(())
}

fn lint(arguments: &[String]) -> Result<()> {
    let sources = if arguments.is_empty() {
        builtins()
    } else {
        arguments
            .iter()
            .map(|a| TutorialSource::resolve(a))
            .collect::<Result<Vec<_>>>()?
    };
    let mut invalid = Vec::new();
    for source in &sources {
        match crate::tutorial::lint(&source.name, &source.shown, &source.markdown, source) {
            Ok(linted) => errln!(
                "✔ {} is valid: {} steps on lab {} ({})",
                source.shown,
                linted.tutorial.steps.len(),
                linted.lab,
                linted.topology.written
            ),
            Err(errors) => invalid.push(*errors),
        }
    }
    match TutorialErrors::combine(invalid) {
        None => Ok(()),
        Some(errors) => Err(Failure::Input(miette::Report::new(errors))),
    }
}

/// What `tutorial run` and `tutorial start` begin with.
struct Prepared {
    linted: Linted,
    /// The folder the tutorial's commands run in.
    workdir: PathBuf,
    rt: DockerRuntime,
    /// Whether any container or network of the tutorial's lab exists already.
    lab_exists: bool,
}

/// Lints the tutorial, makes sure the machine has what it needs, writes out its files and
/// connects to Docker.
async fn prepare(g: &GlobalOpts, state: &StateDir, source: &TutorialSource) -> Result<Prepared> {
    let linted = source.lint()?;
    require_needs(g, &linted).await?;
    let workdir = source.workdir(state)?;
    let rt = connect().await?;
    let lab_exists = !down::lab_resources(&rt, &linted.lab).await?.is_empty();
    Ok(Prepared {
        linted,
        workdir,
        rt,
        lab_exists,
    })
}

/// Stops with exit 2 when the machine lacks what the tutorial needs.
async fn require_needs(g: &GlobalOpts, linted: &Linted) -> Result<()> {
    let findings = super::doctor::findings(g.offline).await;
    for need in linted.needs() {
        let item = match need {
            Need::Docker => "docker engine",
            Need::Kind => "kind",
            Need::Minikube => "minikube",
        };
        if let Some(f) = findings
            .iter()
            .find(|f| f.item == item && !f.ok && !f.fetched_on_use)
        {
            return Err(Failure::Error {
                message: format!(
                    "tutorial {} needs {}: {}",
                    linted.tutorial.name,
                    need.name(),
                    f.detail
                ),
                hint: f.hint.clone(),
            });
        }
    }
    Ok(())
}

/// Brings the tutorial's lab up from its front matter's topology (built from the
/// tutorial's folder, as `metallab up TOPOLOGY` run there would).
async fn bring_up(
    g: &GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    rt: &DockerRuntime,
    linted: &Linted,
    workdir: &Path,
) -> Result<()> {
    let loaded = crate::topology::load::load(Some(&linted.topology.written), workdir)
        .map_err(|e| Failure::Input(miette::Report::new(e)))?;
    let plan = crate::plan::from_loaded(&loaded);
    let _held = hold_lab(state, progress, &plan.lab)?;
    let opts = UpOptions {
        reconfigure: false,
        retain: false,
        base_image: std::env::var("METALLAB_BASE_IMAGE")
            .unwrap_or_else(|_| "debian:bookworm".to_string()),
        offline: g.offline,
        deadline: crate::engine::Deadline::none(),
    };
    up::up(rt, state, progress, &plan, &loaded.text, &opts).await?;
    Ok(())
}

/// The step's checks against the running lab (its plan as saved by the last `up`, which
/// a step's `metallab up FILE` may have changed), each polled until its deadline.
async fn run_step_checks(
    state: &StateDir,
    rt: &DockerRuntime,
    linted: &Linted,
    step: &Step,
) -> std::result::Result<Vec<crate::check::result::CheckResult>, String> {
    let plan = state.load_plan(&linted.lab).ok_or_else(|| {
        format!(
            "lab {} is not running (no saved plan in {})",
            linted.lab,
            state.lab_dir(&linted.lab).display()
        )
    })?;
    let opts = RunOptions::default().sampled();
    let checks = linted.step_checks(step);
    let probe = DockerProbe::new(rt, &plan, ClusterLink::connect(rt, state, &plan).await)
        .sampling_checks(&checks, &opts);
    let results = run_checks(&probe, &checks, opts).await;
    probe.stop_sampling().await;
    Ok(results)
}

/// Why checks did not pass, in one line.
fn checks_failure(results: &[crate::check::result::CheckResult]) -> Option<String> {
    use crate::check::result::Outcome;
    let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
    let first = failed.first()?;
    let reason = match &first.outcome {
        Outcome::Failed { reason, .. } => reason.as_str(),
        Outcome::Passed { .. } => "",
    };
    Some(format!(
        "{} of {} checks did not pass; {}: {reason}",
        failed.len(),
        results.len(),
        first.name
    ))
}

async fn run(
    g: &GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    source: &TutorialSource,
    keep: bool,
    junit: Option<&Path>,
) -> Result<()> {
    let Prepared {
        linted,
        workdir,
        rt,
        lab_exists,
    } = prepare(g, state, source).await?;
    let lab = linted.lab.clone();
    if lab_exists {
        return Err(Failure::msg(
            format!("lab {lab} is already up; `tutorial run` starts from a fresh lab"),
            format!(
                "remove it with `metallab down {lab}`, or go on with it step by step: metallab tutorial start {}",
                source.argument
            ),
        ));
    }
    let outcome = tokio::select! {
        outcome = run_steps(g, state, progress, &rt, &linted, &workdir) => outcome,
        () = crate::engine::interrupted() => Err(Failure::Interrupted {
            message: format!("tutorial {} interrupted", source.name),
            hint: None,
        }),
    };
    if !keep {
        super::tear_down(state, progress, &rt, &lab).await?;
    } else {
        progress.println(format!(
            "lab {lab} is kept; remove it with: metallab down {lab}"
        ));
    }
    let run = outcome?;
    if let Some(path) = junit {
        std::fs::write(path, report::junit(&run)).map_err(|e| {
            Failure::msg(
                format!("cannot write {}: {e}", path.display()),
                "check the path",
            )
        })?;
    }
    match g.output {
        OutputFormat::Json => print_json(&report::json(&run)),
        OutputFormat::Table => out!("{}", report::human(&run, super::color_stdout(g))),
    }
    if run.passed() {
        Ok(())
    } else {
        Err(Failure::ChecksFailed)
    }
}

/// Brings the lab up and runs every step until one does not pass.
async fn run_steps(
    g: &GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    rt: &DockerRuntime,
    linted: &Linted,
    workdir: &Path,
) -> Result<TutorialRun> {
    bring_up(g, state, progress, rt, linted, workdir).await?;
    let env = shell_run::CommandEnv::new(workdir, state.root(), g.offline);
    let total = linted.tutorial.steps.len();
    let mut steps = Vec::new();
    let mut failed = false;
    for step in &linted.tutorial.steps {
        if failed {
            steps.push(StepRun {
                number: step.number,
                title: step.title.clone(),
                status: StepStatus::NotRun,
                took: Duration::ZERO,
                commands: Vec::new(),
                checks: Vec::new(),
                failure: None,
                hint: step.hint.clone(),
            });
            continue;
        }
        let shown = progress.step("step", format!("{}/{total} {}", step.number, step.title));
        let started = Instant::now();
        let mut commands = Vec::new();
        let mut failure = None;
        for block in &step.blocks {
            for command in &block.commands {
                if !block.run || failure.is_some() {
                    commands.push(not_run(block, command));
                    continue;
                }
                progress.println(format!("$ {}", command.text));
                let ran = shell_run::run(&env, block, command, |line| {
                    progress.println(format!("  {line}"))
                })
                .await;
                failure = ran.problem();
                commands.push(ran);
            }
        }
        let mut checks = Vec::new();
        if failure.is_none() && !step.checks.is_empty() {
            match run_step_checks(state, rt, linted, step).await {
                Ok(results) => {
                    failure = checks_failure(&results);
                    checks = results;
                }
                Err(reason) => failure = Some(reason),
            }
        }
        let status = match &failure {
            None => {
                shown.done(format!(
                    "passed in {}",
                    crate::check::text::elapsed(started.elapsed())
                ));
                StepStatus::Passed
            }
            Some(why) => {
                shown.fail(why);
                failed = true;
                StepStatus::Failed
            }
        };
        steps.push(StepRun {
            number: step.number,
            title: step.title.clone(),
            status,
            took: started.elapsed(),
            commands,
            checks,
            failure,
            hint: step.hint.clone(),
        });
    }
    Ok(TutorialRun {
        tutorial: linted.tutorial.name.clone(),
        lab: linted.lab.clone(),
        steps,
    })
}

/// A command that was not run: a `no-run` one, or one after a command that failed.
fn not_run(
    block: &crate::tutorial::CommandBlock,
    command: &crate::tutorial::Command,
) -> CommandRun {
    CommandRun {
        command: command.text.clone(),
        ran: false,
        expected: block.exit,
        exit_code: None,
        timed_out: false,
        took: Duration::ZERO,
        output: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(line: &str) -> std::result::Result<Vec<Reference>, String> {
        references(
            &line
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn metallab_commands_name_labs_routers_networks_and_topologies() {
        assert_eq!(
            refs("exec lab/frr1 -- vtysh -c x").unwrap(),
            [
                Reference::Lab("lab".into()),
                Reference::Router("frr1".into())
            ]
        );
        assert_eq!(
            refs("fault lab link frr1 lan down").unwrap(),
            [
                Reference::Lab("lab".into()),
                Reference::Router("frr1".into()),
                Reference::Network("lan".into())
            ]
        );
        assert_eq!(
            refs("up lab/announce.yaml").unwrap(),
            [Reference::Up("lab/announce.yaml".into())]
        );
        assert_eq!(
            refs("check lab/lab.yaml").unwrap(),
            [Reference::Topology("lab/lab.yaml".into())]
        );
        assert_eq!(
            refs("capture lab frr1:lan -c 4").unwrap(),
            [
                Reference::Lab("lab".into()),
                Reference::Router("frr1".into())
            ]
        );
        assert_eq!(refs("status").unwrap(), []);
        assert_eq!(
            refs("converge lab --heal -- link gw right down").unwrap(),
            [
                Reference::Lab("lab".into()),
                Reference::Router("gw".into()),
                Reference::Network("right".into())
            ]
        );
        assert_eq!(
            refs("fault lab kill frr1 zebra").unwrap(),
            [
                Reference::Lab("lab".into()),
                Reference::Router("frr1".into())
            ]
        );
    }

    #[test]
    fn a_command_metallab_refuses_says_why_in_one_line() {
        let why = refs("fault lab link frr1 lan sideways").unwrap_err();
        assert!(why.contains("invalid value 'sideways'"), "{why}");
        assert!(!why.contains('\n'));
        assert!(
            refs("stauts lab")
                .unwrap_err()
                .contains("unrecognized subcommand 'stauts'")
        );
        let why = refs("converge lab -- link gw right sideways").unwrap_err();
        assert!(
            why.starts_with("the fault after `--`: invalid value 'sideways'"),
            "{why}"
        );
    }
}
