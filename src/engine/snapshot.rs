//! `metallab snapshot`: everything a bug report about a lab needs, in one `.tar.gz`.
//!
//! Collected (I/O): the lab's state directory (resolved plan, topology source, rendered
//! configs), every router's normalized state and the raw CLI text it came from, daemon
//! log files and container logs, Docker's inspect output of the lab's containers and
//! networks, the environment (metallab, host, Docker engine, tools), and the cluster side
//! through [`ClusterArtifacts`]. Then (pure) every file is redacted, indexed in a
//! README.txt and packed.
//!
//! A snapshot is best effort: what cannot be collected is listed in README.txt under
//! "Not collected" instead of failing the whole report.

use super::EngineError;
use super::inspect::{self, RawRun, RouterReading};
use super::probe::RouterExec;
use super::state_dir::StateDir;
use crate::plan::PlannedRouter;
use crate::redact::{self, Redactor};
use crate::runtime::docker::{ContainerInfo, DockerRuntime};
use crate::state::ClusterState;
use crate::topology::model::RouterKind;
use crate::view::table::Painter;
use serde::Serialize;
use std::future::Future;
use std::time::{Duration, SystemTime};

const EXEC_TIMEOUT: Duration = Duration::from_secs(20);

/// One text file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotFile {
    /// Relative to the archive's top folder, `/`-separated.
    pub path: String,
    /// One line for README.txt.
    pub about: String,
    #[serde(skip)]
    pub contents: String,
}

impl SnapshotFile {
    pub fn new(
        path: impl Into<String>,
        about: impl Into<String>,
        contents: impl Into<String>,
    ) -> Self {
        SnapshotFile {
            path: path.into(),
            about: about.into(),
            contents: contents.into(),
        }
    }
}

/// The cluster side of a snapshot (MetalLB objects, Services, events…), provided by the
/// Kubernetes edge. Without a cluster nothing is written under `cluster/`.
pub trait ClusterArtifacts: Sync {
    /// Named text files, paths relative to the archive's `cluster/` folder
    /// (e.g. `metallb/ipaddresspools.yaml`). They are redacted like every other file, but
    /// Secrets' data should not be included in the first place.
    fn files(&self) -> impl Future<Output = Result<Vec<SnapshotFile>, String>> + Send;

    /// The cluster's state, so `status.*` in the snapshot shows nodes, pods and Services
    /// and expects the node sessions.
    fn state(&self) -> impl Future<Output = Result<Option<ClusterState>, String>> + Send {
        async { Ok(None) }
    }

    /// Exec into the lab's in-cluster routers, when the cluster can.
    fn pods(&self, _lab: &str) -> Option<crate::in_cluster::KubeExec> {
        None
    }
}

/// For labs without a cluster.
pub struct NoCluster;

impl ClusterArtifacts for NoCluster {
    async fn files(&self) -> Result<Vec<SnapshotFile>, String> {
        Ok(vec![])
    }
}

#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    /// Most recent lines kept of each container log and daemon log file.
    pub log_lines: usize,
    pub now: SystemTime,
}

/// A collected, redacted snapshot, ready to pack.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub lab: String,
    /// The archive's top folder (also the default file name without `.tar.gz`).
    pub root: String,
    pub files: Vec<SnapshotFile>,
    /// What could not be collected, and why.
    pub not_collected: Vec<String>,
}

/// `metallab-<lab>-<UTC time>`, e.g. `metallab-demo-20250102T030405Z` (pure).
pub fn snapshot_name(lab: &str, now: SystemTime) -> String {
    let stamp: String = humantime::format_rfc3339_seconds(now)
        .to_string()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("metallab-{lab}-{stamp}")
}

/// Daemon log files inside a router container (where the rendered configs send them).
pub fn daemon_logs(kind: RouterKind) -> &'static [&'static str] {
    kind.profile().daemon_logs
}

/// Extra commands worth having in a bug report besides the state commands.
fn diagnostic_commands() -> Vec<Vec<String>> {
    [
        ["ip", "-d", "address", "show"].as_slice(),
        &["ip", "rule", "show"],
    ]
    .iter()
    .map(|c| c.iter().map(|w| w.to_string()).collect())
    .collect()
}

/// Collects a snapshot of `lab`. Fails only when there is nothing at all to report.
pub async fn collect<C: ClusterArtifacts>(
    rt: &DockerRuntime,
    state: &StateDir,
    lab: &str,
    cluster: Option<&C>,
    opts: &SnapshotOptions,
) -> Result<Snapshot, EngineError> {
    let mut files = vec![];
    let mut missing = vec![];
    let lab_dir = state.lab_dir(lab);

    // The state directory: what `up` decided and rendered.
    let plan = state.load_plan(lab);
    let mut learned = vec![];
    match std::fs::read_to_string(state.plan_path(lab)) {
        Ok(text) => {
            learned.push(text.clone());
            files.push(SnapshotFile::new(
                "plan.json",
                "the resolved plan: every network, router, address, session and check",
                text,
            ));
        }
        Err(e) => missing.push(format!(
            "plan.json: {e} in {} (lab created with another --state-dir?)",
            lab_dir.display()
        )),
    }
    match std::fs::read_to_string(lab_dir.join("topology.yaml")) {
        Ok(text) => {
            learned.push(text.clone());
            files.push(SnapshotFile::new(
                "topology.yaml",
                "the topology file the lab was built from, as written",
                text,
            ));
        }
        Err(e) => missing.push(format!("topology.yaml: {e}")),
    }
    for (rel, text) in super::state_dir::read_tree(&lab_dir.join("configs")) {
        learned.push(text.clone());
        let router = rel.split('/').next().unwrap_or_default().to_string();
        files.push(SnapshotFile::new(
            format!("configs/{rel}"),
            format!("config rendered for {router}, as uploaded into its container"),
            text,
        ));
    }

    // Docker: what exists now.
    let filter = [(crate::plan::labels::LAB, Some(lab))];
    let containers = match rt.list_containers(&filter, true).await {
        Ok(c) => c,
        Err(e) => {
            missing.push(format!("containers: {e}"));
            vec![]
        }
    };
    let networks: Vec<String> = match rt.list_networks(&filter).await {
        Ok(n) => n.into_iter().map(|n| n.name).collect(),
        Err(e) => {
            missing.push(format!("networks: {e}"));
            vec![]
        }
    };
    if plan.is_none() && containers.is_empty() && networks.is_empty() {
        return Err(EngineError::setup(
            format!(
                "lab {lab} has no saved plan in {} and no container or network",
                lab_dir.display()
            ),
            "check the name with `metallab status`, or pass --state-dir of the lab",
        ));
    }

    // The cluster side.
    let mut cluster_state = None;
    let mut cluster_error = None;
    if let Some(c) = cluster {
        match c.state().await {
            Ok(s) => cluster_state = s,
            Err(e) => {
                missing.push(format!("cluster state: {e}"));
                cluster_error = Some(e);
            }
        }
        match c.files().await {
            Ok(list) => files.extend(list.into_iter().map(|f| SnapshotFile {
                path: format!("cluster/{}", f.path.trim_start_matches('/')),
                ..f
            })),
            Err(e) => missing.push(format!("cluster objects: {e}")),
        }
    }

    // Routers: state, raw outputs, daemon logs.
    if let Some(plan) = &plan {
        let exec = RouterExec::new(
            rt,
            cluster.and_then(|c| c.pods(lab)),
            "the cluster was not reached",
        );
        let readings = inspect::read_routers(&exec, plan, &containers, true).await;
        let cluster_side = match &cluster_error {
            Some(error) => Err(error.clone()),
            None => Ok(cluster_state.clone()),
        };
        let status = inspect::build_status(plan, &readings, &networks, cluster_side);
        files.push(SnapshotFile::new(
            "status.txt",
            "`metallab status` at snapshot time, with one line per problem",
            inspect::render_status(&status, Painter::PLAIN),
        ));
        files.push(SnapshotFile::new(
            "status.json",
            "`metallab status -o json` at snapshot time",
            to_json(&status),
        ));
        let reads = plan
            .routers
            .iter()
            .zip(&readings)
            .map(|(r, reading)| router_files(&exec, r, reading, opts.log_lines));
        for (router_files, router_missing) in crate::engine::bounded(4, reads.collect()).await {
            files.extend(router_files);
            missing.extend(router_missing);
        }
    } else if let Some(c) = cluster_state {
        files.push(SnapshotFile::new(
            "cluster/state.json",
            "the cluster's nodes, MetalLB pods, LoadBalancer Services and events",
            to_json(&c),
        ));
    }

    // Docker inspect and container logs.
    for c in &containers {
        match rt.inspect_container_json(&c.name).await {
            Ok(Some(v)) => files.push(SnapshotFile::new(
                format!("docker/containers/{}.json", c.name),
                format!("`docker inspect {}`", c.name),
                to_json(&v),
            )),
            Ok(None) => missing.push(format!("inspect of {}: removed meanwhile", c.name)),
            Err(e) => missing.push(format!("inspect of {}: {e}", c.name)),
        }
        match rt.logs(&c.name, Some(opts.log_lines)).await {
            Ok(text) => files.push(SnapshotFile::new(
                format!("logs/{}.log", c.name),
                format!(
                    "`docker logs --tail {} {}` (stdout and stderr; router daemons log to \
                     files, see routers/*/)",
                    opts.log_lines, c.name
                ),
                text,
            )),
            Err(e) => missing.push(format!("logs of {}: {e}", c.name)),
        }
    }
    for n in &networks {
        match rt.inspect_network_json(n).await {
            Ok(Some(v)) => files.push(SnapshotFile::new(
                format!("docker/networks/{n}.json"),
                format!("`docker network inspect {n}`"),
                to_json(&v),
            )),
            Ok(None) => missing.push(format!("inspect of network {n}: removed meanwhile")),
            Err(e) => missing.push(format!("inspect of network {n}: {e}")),
        }
    }

    files.push(SnapshotFile::new(
        "environment.json",
        "metallab version, host, Docker engine, docker/kind/minikube/kubectl CLIs, images in use",
        to_json(&environment(rt, &containers).await),
    ));
    files.push(SnapshotFile::new(
        "metallab.json",
        "what took this snapshot, when, and with which limits",
        to_json(&serde_json::json!({
            "metallab_version": env!("CARGO_PKG_VERSION"),
            "lab": lab,
            "taken_at": humantime::format_rfc3339_seconds(opts.now).to_string(),
            "log_lines": opts.log_lines,
            "state_dir": lab_dir,
        })),
    ));

    let mut redactor = Redactor::new(plan.as_ref().map(redact::plan_secrets).unwrap_or_default());
    for text in &learned {
        redactor.learn_from(text);
    }
    finish(lab, opts.now, files, missing, &redactor)
}

/// Redacts every file, adds README.txt, and refuses to go on if a secret survived (pure).
pub fn finish(
    lab: &str,
    now: SystemTime,
    files: Vec<SnapshotFile>,
    not_collected: Vec<String>,
    redactor: &Redactor,
) -> Result<Snapshot, EngineError> {
    let mut files: Vec<SnapshotFile> = files
        .into_iter()
        .map(|f| SnapshotFile {
            contents: redactor.redact(&f.contents),
            ..f
        })
        .collect();
    let not_collected: Vec<String> = not_collected.iter().map(|m| redactor.redact(m)).collect();
    files.sort_by(|a, b| order_key(&a.path).cmp(&order_key(&b.path)));
    let root = snapshot_name(lab, now);
    let readme = readme(lab, now, &files, &not_collected);
    files.insert(0, SnapshotFile::new("README.txt", "this index", readme));
    if let Some(f) = files.iter().find(|f| redactor.leaks(&f.contents)) {
        return Err(EngineError::setup(
            format!(
                "snapshot file {} still contains a secret after redaction",
                f.path
            ),
            "this is a metallab bug: please report it without the snapshot",
        ));
    }
    Ok(Snapshot {
        lab: lab.to_string(),
        root,
        files,
        not_collected,
    })
}

/// Files in README order: overview first, then by folder.
fn order_key(path: &str) -> (usize, &str) {
    const TOP: [&str; 6] = [
        "metallab.json",
        "status.txt",
        "status.json",
        "plan.json",
        "topology.yaml",
        "environment.json",
    ];
    match TOP.iter().position(|t| *t == path) {
        Some(i) => (i, path),
        None => (TOP.len(), path),
    }
}

/// README.txt: what the archive is, and one line per file (pure).
pub fn readme(
    lab: &str,
    now: SystemTime,
    files: &[SnapshotFile],
    not_collected: &[String],
) -> String {
    let mut out = format!(
        "metallab snapshot of lab {lab}, taken {} by metallab {}.\n\n\
         Secrets are redacted: every BGP password of the lab and every value of a password\n\
         setting (FRR/Quagga, BIRD, GoBGP, YAML, JSON, environment) reads {}.\n\n\
         Start with status.txt (what is wrong, in plain words), then routers/<router>/ (the\n\
         router's normalized state, the raw output of its own CLI, its daemon log).\n\nFiles:\n",
        humantime::format_rfc3339_seconds(now),
        env!("CARGO_PKG_VERSION"),
        redact::REDACTED,
    );
    let width = files
        .iter()
        .map(|f| f.path.len())
        .max()
        .unwrap_or(0)
        .max("README.txt".len());
    out.push_str(&format!("  {:<width$}  {}\n", "README.txt", "this index"));
    for f in files {
        out.push_str(&format!("  {:<width$}  {}\n", f.path, f.about));
    }
    if !not_collected.is_empty() {
        out.push_str("\nNot collected:\n");
        for m in not_collected {
            out.push_str(&format!("  - {m}\n"));
        }
    }
    out
}

/// One router's files: normalized state, raw outputs, daemon logs.
async fn router_files(
    exec: &RouterExec<'_>,
    r: &PlannedRouter,
    reading: &RouterReading,
    log_lines: usize,
) -> (Vec<SnapshotFile>, Vec<String>) {
    let dir = format!("routers/{}", r.name);
    let mut files = vec![];
    let mut missing = vec![];
    let state_json = match &reading.state {
        Some(Ok(state)) => to_json(state),
        Some(Err(e)) => to_json(&serde_json::json!({ "error": e })),
        None => to_json(&serde_json::json!({
            "error": format!("not read: container {} is {}", r.container, reading.container.as_str())
        })),
    };
    files.push(SnapshotFile::new(
        format!("{dir}/state.json"),
        format!(
            "{}'s state in metallab's normalized model (sessions, routes, BFD, kernel routes)",
            r.name
        ),
        state_json,
    ));
    if !reading.container.is_running() {
        missing.push(format!(
            "{}: raw outputs and daemon logs (container {} is {})",
            r.name,
            r.container,
            reading.container.as_str()
        ));
        return (files, missing);
    }
    let mut runs = reading.raw.clone();
    for argv in diagnostic_commands() {
        runs.push(run(exec, r, &argv).await);
    }
    files.push(SnapshotFile::new(
        format!("{dir}/raw-outputs.txt"),
        format!(
            "every command metallab runs to read {}, with exit code and output as printed",
            r.name
        ),
        raw_text(&runs),
    ));
    for log in daemon_logs(r.kind) {
        let argv: Vec<String> = ["tail", "-n", &log_lines.to_string(), log]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let out = run(exec, r, &argv).await;
        let name = log.rsplit('/').next().unwrap_or(log);
        match out.exit_code {
            Some(0) => files.push(SnapshotFile::new(
                format!("{dir}/{name}"),
                format!("last {log_lines} lines of {log} in {}", r.name),
                out.stdout,
            )),
            _ => missing.push(format!(
                "{}: {log}: {}",
                r.name,
                out.error.unwrap_or_else(|| out.stderr.trim().to_string())
            )),
        }
    }
    (files, missing)
}

async fn run(exec: &RouterExec<'_>, r: &PlannedRouter, argv: &[String]) -> RawRun {
    let command = argv.join(" ");
    match exec.run(r, argv, EXEC_TIMEOUT).await {
        Ok(out) => RawRun {
            command,
            exit_code: Some(out.exit_code),
            stdout: out.stdout,
            stderr: out.stderr,
            error: None,
        },
        Err(e) => RawRun {
            command,
            exit_code: None,
            stdout: String::new(),
            stderr: String::new(),
            error: Some(e.to_string()),
        },
    }
}

/// `$ command`, `[exit N]`, then stdout and stderr, for each run (pure).
pub fn raw_text(runs: &[RawRun]) -> String {
    let mut out = String::new();
    for r in runs {
        out.push_str(&format!("$ {}\n", r.command));
        match (&r.error, r.exit_code) {
            (Some(e), _) => out.push_str(&format!("[not run: {e}]\n")),
            (None, Some(code)) => out.push_str(&format!("[exit {code}]\n")),
            (None, None) => out.push_str("[exit unknown]\n"),
        }
        out.push_str(&r.stdout);
        if !r.stdout.is_empty() && !r.stdout.ends_with('\n') {
            out.push('\n');
        }
        if !r.stderr.is_empty() {
            out.push_str("--- stderr\n");
            out.push_str(&r.stderr);
            if !r.stderr.ends_with('\n') {
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

fn to_json(v: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("serializable");
    s.push('\n');
    s
}

#[derive(Debug, Serialize)]
struct Tool {
    name: &'static str,
    found: bool,
    version: String,
}

#[derive(Debug, Serialize)]
struct Image {
    image: String,
    containers: Vec<String>,
}

/// `doctor`-style facts about where the lab runs.
async fn environment(rt: &DockerRuntime, containers: &[ContainerInfo]) -> serde_json::Value {
    let docker = match rt.version().await {
        Ok(v) => serde_json::to_value(v).expect("serializable"),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    let mut tools = vec![];
    for (name, args) in [
        ("docker", ["--version"].as_slice()),
        ("kind", ["version"].as_slice()),
        ("minikube", ["version", "--short"].as_slice()),
        ("kubectl", ["version", "--client"].as_slice()),
    ] {
        let out = tokio::process::Command::new(name).args(args).output().await;
        tools.push(match out {
            Ok(o) => Tool {
                name,
                found: true,
                version: String::from_utf8_lossy(if o.status.success() {
                    &o.stdout
                } else {
                    &o.stderr
                })
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
            },
            Err(_) => Tool {
                name,
                found: false,
                version: "not found on PATH".into(),
            },
        });
    }
    // The images the lab's containers run (built-in ones carry a content hash tag).
    let mut images: Vec<Image> = vec![];
    for c in containers {
        match images.iter_mut().find(|i| i.image == c.image) {
            Some(i) => i.containers.push(c.name.clone()),
            None => images.push(Image {
                image: c.image.clone(),
                containers: vec![c.name.clone()],
            }),
        }
    }
    let env: std::collections::BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("METALLAB_") || k == "DOCKER_HOST" || k == "CI")
        .collect();
    serde_json::json!({
        "metallab": { "version": env!("CARGO_PKG_VERSION") },
        "host": {
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .ok(),
        },
        "docker": docker,
        "tools": tools,
        "images": images,
        "environment_variables": env,
    })
}

/// The archive: a gzip'd tar with every file under `<root>/` (pure).
pub fn pack(snapshot: &Snapshot, now: SystemTime) -> std::io::Result<Vec<u8>> {
    let mtime = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for f in &snapshot.files {
        let mut header = tar::Header::new_gnu();
        header.set_size(f.contents.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(
            &mut header,
            format!("{}/{}", snapshot.root, f.path),
            f.contents.as_bytes(),
        )?;
    }
    tar.into_inner()?.finish()
}

/// Every file of a packed archive, by path under the root (for tests and `--verify`).
pub fn unpack(archive: &[u8]) -> std::io::Result<Vec<(String, String)>> {
    use std::io::Read;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut files = vec![];
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut text = String::new();
        entry.read_to_string(&mut text)?;
        files.push((path, text));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn names_carry_the_lab_and_a_compact_utc_time() {
        assert_eq!(
            snapshot_name("demo", at(1_735_786_245)),
            "metallab-demo-20250102T025045Z"
        );
    }

    #[test]
    fn raw_outputs_show_command_exit_code_and_both_streams() {
        let runs = [
            RawRun {
                command: "vtysh -c 'show bgp summary json'".into(),
                exit_code: Some(0),
                stdout: "{}".into(),
                stderr: String::new(),
                error: None,
            },
            RawRun {
                command: "birdc show protocols all".into(),
                exit_code: Some(1),
                stdout: String::new(),
                stderr: "Unable to connect to server control socket\n".into(),
                error: None,
            },
            RawRun {
                command: "ip -j route show".into(),
                exit_code: None,
                stdout: String::new(),
                stderr: String::new(),
                error: Some("container is not running".into()),
            },
        ];
        insta::assert_snapshot!(raw_text(&runs), @r"
        $ vtysh -c 'show bgp summary json'
        [exit 0]
        {}

        $ birdc show protocols all
        [exit 1]
        --- stderr
        Unable to connect to server control socket

        $ ip -j route show
        [not run: container is not running]
        ");
    }

    fn files() -> Vec<SnapshotFile> {
        vec![
            SnapshotFile::new(
                "configs/frr1/etc/frr/frr.conf",
                "config rendered for frr1",
                "router bgp 64500\n neighbor 10.0.0.3 password Pw-123456\n",
            ),
            SnapshotFile::new(
                "logs/metallab-demo-frr1.log",
                "docker logs",
                "key Pw-123456 in a log line\n",
            ),
            SnapshotFile::new("plan.json", "the plan", "{\"password\": \"Pw-123456\"}\n"),
            SnapshotFile::new("metallab.json", "what took it", "{}\n"),
        ]
    }

    #[test]
    fn finishing_redacts_every_file_orders_them_and_indexes_them() {
        let redactor = Redactor::new(["Pw-123456".to_string()]);
        let snap = finish(
            "demo",
            at(1_735_786_245),
            files(),
            vec!["routers/bird1: container is exited (password Pw-123456)".into()],
            &redactor,
        )
        .unwrap();
        assert_eq!(snap.root, "metallab-demo-20250102T025045Z");
        let paths: Vec<&str> = snap.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "README.txt",
                "metallab.json",
                "plan.json",
                "configs/frr1/etc/frr/frr.conf",
                "logs/metallab-demo-frr1.log"
            ]
        );
        for f in &snap.files {
            assert!(
                !f.contents.contains("Pw-123456"),
                "{}: {}",
                f.path,
                f.contents
            );
        }
        insta::assert_snapshot!(snap.files[0].contents.replace(env!("CARGO_PKG_VERSION"), "VERSION"), @r"
        metallab snapshot of lab demo, taken 2025-01-02T02:50:45Z by metallab VERSION.

        Secrets are redacted: every BGP password of the lab and every value of a password
        setting (FRR/Quagga, BIRD, GoBGP, YAML, JSON, environment) reads <redacted>.

        Start with status.txt (what is wrong, in plain words), then routers/<router>/ (the
        router's normalized state, the raw output of its own CLI, its daemon log).

        Files:
          README.txt                     this index
          metallab.json                  what took it
          plan.json                      the plan
          configs/frr1/etc/frr/frr.conf  config rendered for frr1
          logs/metallab-demo-frr1.log    docker logs

        Not collected:
          - routers/bird1: container is exited (password <redacted>)
        ");
    }

    #[test]
    fn packed_archives_unpack_to_the_same_files_under_the_root() {
        let snap = finish("demo", at(0), files(), vec![], &Redactor::default()).unwrap();
        let bytes = pack(&snap, at(0)).unwrap();
        assert_eq!(&bytes[..2], [0x1f, 0x8b], "gzip magic");
        let unpacked = unpack(&bytes).unwrap();
        assert_eq!(unpacked.len(), snap.files.len());
        for ((path, text), f) in unpacked.iter().zip(&snap.files) {
            assert_eq!(path, &format!("metallab-demo-19700101T000000Z/{}", f.path));
            assert_eq!(text, &f.contents);
        }
    }
}
