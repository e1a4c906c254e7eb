//! kind, driven through its CLI (kind has no API outside Go).
//!
//! The engine pre-creates the node network (the topology's subnet, metallab labels, an
//! `ip_range` from [`ClusterPlan::node_ip_range`]); `KIND_EXPERIMENTAL_DOCKER_NETWORK`
//! points kind at it, and kind uses an existing network unchanged.

use super::command::{CommandOutput, CommandRunner, CommandSpec, LineSink, ProgressStream};
use super::error::ClusterError;
use super::kind_fetch::{KindFetch, KindSource};
use super::nodes::{self, DiscoveredNode, NodeSelector};
use super::spec::ClusterPlan;
use super::version::{KIND_MINIMUM, Version, parse_kind_version};
use super::{ClusterAccess, ClusterFuture, ClusterProvider, Preflight, Provider, run_tool};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use super::kind_fetch::INSTALL_URL;
/// Environment variable that makes kind put its nodes on another Docker network.
pub const NETWORK_ENV: &str = "KIND_EXPERIMENTAL_DOCKER_NETWORK";
/// How long `kind create cluster` waits for the control plane to be Ready. kind only warns
/// when this runs out; the engine waits for Ready nodes itself afterwards.
pub const WAIT_FOR_READY: &str = "3m";

const TOOL: &str = "kind";
const QUICK: Duration = Duration::from_secs(60);
/// Image pulls of `kindest/node` (about 1 GB) dominate a first create.
const CREATE_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// A router image is a few hundred MB, copied once per node.
const LOAD_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The kind config: nodes with their roles and image, nothing else. kind's defaults
/// (API server on 127.0.0.1 with a random port, kindnet, iptables kube-proxy) suit
/// MetalLB; the cluster name comes from `--name`.
pub fn kind_config(plan: &ClusterPlan) -> String {
    let image = node_image(plan);
    let mut yaml = String::from("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n");
    let roles = std::iter::repeat_n("control-plane", plan.control_planes.max(1) as usize)
        .chain(std::iter::repeat_n("worker", plan.workers as usize));
    for role in roles {
        yaml.push_str(&format!("- role: {role}\n"));
        if let Some(image) = &image {
            // A JSON string is a valid double-quoted YAML scalar: safe for `@sha256:` pins.
            yaml.push_str(&format!(
                "  image: {}\n",
                serde_json::to_string(image).expect("strings serialize")
            ));
        }
    }
    yaml
}

/// `cluster.image` as written, else `kindest/node:v<kubernetes-version>`, else kind's own
/// default image (pinned by digest in each kind release).
pub fn node_image(plan: &ClusterPlan) -> Option<String> {
    plan.image.clone().or_else(|| {
        plan.kubernetes_version.as_ref().map(|v| {
            let v = v.trim();
            let v = v.strip_prefix('v').unwrap_or(v);
            format!("kindest/node:v{v}")
        })
    })
}

pub fn create_command(plan: &ClusterPlan) -> Result<CommandSpec, ClusterError> {
    let network = plan.node_network()?;
    Ok(CommandSpec::new(
        TOOL,
        [
            "create",
            "cluster",
            "--name",
            &plan.name,
            "--config",
            "-",
            "--wait",
            WAIT_FOR_READY,
        ],
        CREATE_TIMEOUT,
    )
    .env(NETWORK_ENV, &network.docker_name)
    .stdin(kind_config(plan))
    .progress(ProgressStream::Stderr))
}

pub fn kubeconfig_command(name: &str) -> CommandSpec {
    CommandSpec::new(TOOL, ["get", "kubeconfig", "--name", name], QUICK)
}

pub fn delete_command(name: &str) -> CommandSpec {
    CommandSpec::new(TOOL, ["delete", "cluster", "--name", name], DELETE_TIMEOUT)
        .progress(ProgressStream::Stderr)
}

pub fn version_command() -> CommandSpec {
    CommandSpec::new(TOOL, ["version"], QUICK)
}

/// `kind load docker-image`: saves the image from Docker and imports it into each node's
/// containerd (nodes that already have the image ID are skipped).
pub fn load_image_command(name: &str, image: &str) -> CommandSpec {
    CommandSpec::new(
        TOOL,
        ["load", "docker-image", image, "--name", name],
        LOAD_TIMEOUT,
    )
    .progress(ProgressStream::Stderr)
}

pub fn clusters_command() -> CommandSpec {
    CommandSpec::new(TOOL, ["get", "clusters"], QUICK)
}

/// The context `kind create cluster` and `kind get kubeconfig` name.
pub fn context_name(cluster: &str) -> String {
    format!("kind-{cluster}")
}

/// kind exits 1 on every failure and logs `ERROR: <message>` to stderr, followed by
/// `Command Output: …` when a command it ran failed (`cmd/kind/app/main.go`). The
/// message is the `ERROR:` line; the detail is the command output or, without an
/// `ERROR:` line, the last lines of stderr.
pub fn failure_message(output: &CommandOutput) -> (String, Option<String>) {
    let lines: Vec<&str> = output
        .stderr
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let error_at = lines.iter().position(|l| l.starts_with("ERROR:"));
    match error_at {
        Some(i) => {
            let message = lines[i].trim_start_matches("ERROR:").trim().to_string();
            let detail: Vec<&str> = lines[i + 1..]
                .iter()
                .skip_while(|l| !l.starts_with("Command Output:"))
                .take(12)
                .copied()
                .collect();
            (message, (!detail.is_empty()).then(|| detail.join("\n")))
        }
        None => {
            let message = lines
                .last()
                .map(|l| l.to_string())
                .unwrap_or_else(|| "no error output".to_string());
            let tail = &lines[lines.len().saturating_sub(6)..lines.len().saturating_sub(1)];
            (message, (!tail.is_empty()).then(|| tail.join("\n")))
        }
    }
}

/// Cluster names in `kind get clusters` output (one per line; "No kind clusters found."
/// goes to stderr).
pub fn parse_clusters(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

pub struct Kind {
    runner: Arc<dyn CommandRunner>,
    /// Serializes `kind delete cluster` across metallab processes: kind edits the shared
    /// kubeconfig under a lock file it retries for only half a second
    /// (`pkg/cluster/internal/kubeconfig/internal/kubeconfig/lock.go`), so parallel deletes
    /// (`metallab down --all`, parallel CI labs) fail with "failed to lock config file".
    delete_lock: PathBuf,
    /// Where to look for kind (and fetch it from); without it, `kind` is run from PATH.
    fetch: Option<KindFetch>,
    /// The binary once found: `kind` (PATH) or a cached file's path.
    program: Mutex<Option<String>>,
}

impl Kind {
    pub fn new(runner: Arc<dyn CommandRunner>, delete_lock: PathBuf) -> Kind {
        Kind {
            runner,
            delete_lock,
            fetch: None,
            program: Mutex::new(None),
        }
    }

    /// Looks for kind in metallab's cache when it is not on PATH; preflight downloads the
    /// pinned release unless `fetch` is offline.
    pub fn with_fetch(mut self, fetch: KindFetch) -> Kind {
        self.fetch = Some(fetch);
        self
    }

    fn remember(&self, source: &KindSource) -> Option<String> {
        let program = match source {
            // Run by name, as the user would: messages then show `kind ...`.
            KindSource::Path(_) => TOOL.to_string(),
            KindSource::Cache(path) => path.display().to_string(),
            _ => return None,
        };
        *self.program.lock().expect("not poisoned") = Some(program.clone());
        Some(program)
    }

    /// The binary to run: found once, from PATH or the cache (never downloaded here).
    async fn program(&self) -> String {
        if let Some(program) = self.program.lock().expect("not poisoned").clone() {
            return program;
        }
        match &self.fetch {
            Some(fetch) => self
                .remember(&fetch.locate().await)
                .unwrap_or_else(|| TOOL.to_string()),
            None => TOOL.to_string(),
        }
    }

    async fn run(
        &self,
        spec: &CommandSpec,
        on_line: LineSink<'_>,
    ) -> Result<CommandOutput, ClusterError> {
        let program = self.program().await;
        let resolved;
        let spec = if program == spec.program {
            spec
        } else {
            resolved = CommandSpec {
                program,
                ..spec.clone()
            };
            &resolved
        };
        let output = run_tool(self.runner.as_ref(), TOOL, INSTALL_URL, spec, on_line).await?;
        if output.success() {
            return Ok(output);
        }
        let (message, detail) = failure_message(&output);
        Err(ClusterError::CommandFailed {
            tool: TOOL,
            command: spec.to_string(),
            exit_code: output.exit_code,
            message,
            detail,
        })
    }

    pub async fn version(&self) -> Result<Version, ClusterError> {
        let spec = version_command();
        let out = self.run(&spec, &super::command::ignore_lines).await?;
        parse_kind_version(&out.stdout).ok_or_else(|| ClusterError::UnrecognizedVersion {
            tool: TOOL,
            command: spec.to_string(),
            output: out.stdout.trim().to_string(),
        })
    }
}

impl ClusterProvider for Kind {
    fn provider(&self) -> Provider {
        Provider::Kind
    }

    fn preflight<'a>(&'a self, plan: &'a ClusterPlan) -> ClusterFuture<'a, Preflight> {
        Box::pin(async move {
            plan.check()?;
            // Before anything is created: a failed download must leave nothing behind.
            let origin = match &self.fetch {
                Some(fetch) => {
                    let source = fetch.ensure().await?;
                    self.remember(&source);
                    match source {
                        KindSource::Cache(path) => format!(" from {}", path.display()),
                        _ => String::new(),
                    }
                }
                None => String::new(),
            };
            let version = self.version().await?;
            if version < KIND_MINIMUM {
                return Err(ClusterError::ToolTooOld {
                    tool: TOOL,
                    found: version,
                    minimum: &KIND_MINIMUM,
                    install_url: INSTALL_URL,
                });
            }
            Ok(Preflight {
                tool: Some(format!("kind {version}{origin}")),
                warnings: vec![],
            })
        })
    }

    fn create<'a>(&'a self, plan: &'a ClusterPlan, on_line: LineSink<'a>) -> ClusterFuture<'a, ()> {
        Box::pin(async move {
            let spec = create_command(plan)?;
            self.run(&spec, on_line).await.map(drop)
        })
    }

    fn access<'a>(&'a self, plan: &'a ClusterPlan) -> ClusterFuture<'a, ClusterAccess> {
        Box::pin(async move {
            let spec = kubeconfig_command(&plan.name);
            let out = self.run(&spec, &super::command::ignore_lines).await?;
            ClusterAccess::from_yaml(&out.stdout, &context_name(&plan.name), &spec.to_string())
        })
    }

    fn nodes<'a>(
        &'a self,
        rt: &'a dyn crate::runtime::ContainerEngine,
        plan: &'a ClusterPlan,
    ) -> ClusterFuture<'a, Vec<DiscoveredNode>> {
        Box::pin(async move {
            let network = plan.node_network()?;
            let selector = NodeSelector::Kind {
                cluster: plan.name.clone(),
            };
            nodes::discover(rt, &selector, &network.docker_name).await
        })
    }

    fn delete<'a>(&'a self, name: &'a str, on_line: LineSink<'a>) -> ClusterFuture<'a, ()> {
        Box::pin(async move {
            let _lock = super::lock_exclusive(&self.delete_lock).await?;
            self.run(&delete_command(name), on_line).await.map(drop)
        })
    }

    fn exists<'a>(&'a self, name: &'a str) -> ClusterFuture<'a, bool> {
        Box::pin(async move {
            let out = self
                .run(&clusters_command(), &super::command::ignore_lines)
                .await?;
            Ok(parse_clusters(&out.stdout).iter().any(|c| c == name))
        })
    }

    fn load_image<'a>(
        &'a self,
        name: &'a str,
        image: &'a str,
        on_line: LineSink<'a>,
    ) -> ClusterFuture<'a, bool> {
        Box::pin(async move {
            self.run(&load_image_command(name, image), on_line)
                .await
                .map(|_| true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::command::recording::{RecordingRunner, Reply};
    use crate::cluster::command::{CommandError, ignore_lines};
    use crate::cluster::tests::plan_from_yaml;
    use std::sync::Mutex;

    fn plan(cluster: &str) -> ClusterPlan {
        let yaml = format!(
            "name: lab1\ncluster: {cluster}\nnetworks:\n  kind: {{ subnet: 10.231.1.0/24, internal: false }}\n"
        );
        ClusterPlan::from_plan(&plan_from_yaml(&yaml)).unwrap()
    }

    fn kind(runner: Arc<RecordingRunner>, dir: &tempfile::TempDir) -> Kind {
        Kind::new(runner, dir.path().join("locks/kind-delete.lock"))
    }

    /// kind v0.20.0's first line of `kind version` (the format of kind's DisplayVersion).
    const VERSION_OUT: &str = "kind v0.20.0 go1.20.4 linux/amd64\n";

    const KUBECONFIG: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Y2E=
    server: https://127.0.0.1:40123
  name: kind-lab1
contexts:
- context:
    cluster: kind-lab1
    user: kind-lab1
  name: kind-lab1
current-context: kind-lab1
kind: Config
preferences: {}
users:
- name: kind-lab1
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
";

    #[test]
    fn config_one_control_plane_two_workers() {
        insta::assert_snapshot!(kind_config(&plan(
            "{ provider: kind, workers: 2, network: kind }"
        )));
    }

    #[test]
    fn config_custom_image_on_every_node() {
        insta::assert_snapshot!(kind_config(&plan(
            "{ provider: kind, workers: 1, network: kind, image: \"kindest/node:v1.31.2@sha256:18fbefc20a7113353c7b75b5c869d7145a6abd6269154825872dc59c1329912e\" }"
        )));
    }

    #[test]
    fn config_three_control_planes_from_a_kubernetes_version() {
        insta::assert_snapshot!(kind_config(&plan(
            "{ provider: kind, control-planes: 3, network: kind, kubernetes-version: 1.30.4 }"
        )));
    }

    #[tokio::test]
    async fn preflight_create_access_delete_run_these_commands() {
        let dir = tempfile::tempdir().unwrap();
        let runner = Arc::new(
            RecordingRunner::new()
                .reply(0, VERSION_OUT, "")
                .reply(
                    0,
                    "",
                    "Creating cluster \"lab1\" ...\n ✓ Ensuring node image (kindest/node:v1.27.3) 🖼\n ✓ Preparing nodes 📦 📦 📦\n",
                )
                .reply(0, KUBECONFIG, "")
                .reply(0, "lab1\nother\n", "")
                .reply(0, "", "Deleting cluster \"lab1\" ...\n"),
        );
        let kind = kind(runner.clone(), &dir);
        let plan = plan("{ provider: kind, workers: 2, network: kind }");
        let shown = Mutex::new(Vec::<String>::new());
        let on_line = |l: &str| shown.lock().unwrap().push(l.to_string());

        let pre = kind.preflight(&plan).await.unwrap();
        assert_eq!(pre.tool.as_deref(), Some("kind v0.20.0"));
        kind.create(&plan, &on_line).await.unwrap();
        let access = kind.access(&plan).await.unwrap();
        assert_eq!(access.context, "kind-lab1");
        assert_eq!(access.kubeconfig.contexts.len(), 1);
        assert!(kind.exists("lab1").await.unwrap());
        kind.delete("lab1", &on_line).await.unwrap();

        insta::assert_snapshot!(runner.call_lines().join("\n"));
        let calls = runner.calls();
        assert_eq!(calls[1].stdin.as_deref(), Some(kind_config(&plan).as_str()));
        assert_eq!(
            calls[1].env,
            [(NETWORK_ENV.to_string(), "metallab-lab1-kind".to_string())]
        );
        assert_eq!(
            *shown.lock().unwrap(),
            [
                "Creating cluster \"lab1\" ...",
                " ✓ Ensuring node image (kindest/node:v1.27.3) 🖼",
                " ✓ Preparing nodes 📦 📦 📦",
                "Deleting cluster \"lab1\" ...",
            ]
        );
        assert!(dir.path().join("locks/kind-delete.lock").exists());
    }

    #[tokio::test]
    async fn images_are_loaded_into_every_node_from_docker() {
        let dir = tempfile::tempdir().unwrap();
        let runner = Arc::new(RecordingRunner::new().reply(
            0,
            "",
            "Image: \"metallab/frr:0123abcd\" with ID \"sha256:5e1f\" not yet present on node \"lab1-worker\", loading...\n",
        ));
        let shown = Mutex::new(Vec::<String>::new());
        let on_line = |l: &str| shown.lock().unwrap().push(l.to_string());
        let loaded = kind(runner.clone(), &dir)
            .load_image("lab1", "metallab/frr:0123abcd", &on_line)
            .await
            .unwrap();
        assert!(loaded);
        assert_eq!(
            runner.call_lines(),
            ["kind load docker-image metallab/frr:0123abcd --name lab1"]
        );
        assert_eq!(shown.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn missing_kind_is_an_actionable_error_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let runner = Arc::new(RecordingRunner::new().push(Reply::NotFound));
        let err = kind(runner.clone(), &dir)
            .preflight(&plan("{ provider: kind, network: kind }"))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "kind not found on PATH");
        let hint = err.hint().unwrap();
        assert!(hint.contains(INSTALL_URL), "{hint}");
        assert!(hint.contains("cluster.provider: existing"), "{hint}");
        assert_eq!(runner.call_lines(), ["kind version"]);
    }

    /// A fetch with no kind on PATH, a cache holding `content` as the pinned kind, and
    /// downloads forbidden.
    fn offline_fetch(dir: &tempfile::TempDir, content: Option<&[u8]>) -> (KindFetch, PathBuf) {
        use crate::cluster::kind_fetch::PinnedAsset;
        use sha2::{Digest, Sha256};
        let sum = hex::encode(Sha256::digest(content.unwrap_or_default()));
        let asset = PinnedAsset {
            os: "linux",
            arch: "amd64",
            sha256: Box::leak(sum.into_boxed_str()),
        };
        let cache_dir = dir.path().join("cache");
        let file = asset.cache_path(&cache_dir);
        if let Some(content) = content {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, content).unwrap();
        }
        let fetch = KindFetch {
            path_var: Some(dir.path().join("empty-bin").into_os_string()),
            os: "linux".into(),
            arch: "amd64".into(),
            cache_dir: Some(cache_dir),
            asset: Some(asset),
            offline: true,
            base_url: "http://127.0.0.1:9".into(),
        };
        (fetch, file)
    }

    #[tokio::test]
    async fn without_kind_on_path_the_cached_kind_runs() {
        let dir = tempfile::tempdir().unwrap();
        let (fetch, file) = offline_fetch(&dir, Some(b"cached kind"));
        let runner = Arc::new(
            RecordingRunner::new()
                .reply(0, VERSION_OUT, "")
                .reply(0, "", ""),
        );
        let kind = kind(runner.clone(), &dir).with_fetch(fetch);
        let pre = kind
            .preflight(&plan("{ provider: kind, network: kind }"))
            .await
            .unwrap();
        assert_eq!(
            pre.tool,
            Some(format!("kind v0.20.0 from {}", file.display()))
        );
        kind.delete("lab1", &ignore_lines).await.unwrap();
        assert_eq!(
            runner.call_lines(),
            [
                format!("{} version", file.display()),
                format!("{} delete cluster --name lab1", file.display())
            ]
        );
    }

    #[tokio::test]
    async fn offline_without_kind_fails_preflight_before_running_anything() {
        let dir = tempfile::tempdir().unwrap();
        let (fetch, _) = offline_fetch(&dir, None);
        let runner = Arc::new(RecordingRunner::new());
        let err = kind(runner.clone(), &dir)
            .with_fetch(fetch)
            .preflight(&plan("{ provider: kind, network: kind }"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("downloads are forbidden"), "{err}");
        assert!(err.hint().unwrap().contains(INSTALL_URL));
        assert_eq!(runner.call_lines(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn old_kind_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let runner =
            Arc::new(RecordingRunner::new().reply(0, "kind v0.17.0 go1.19.2 linux/amd64\n", ""));
        let err = kind(runner, &dir)
            .preflight(&plan("{ provider: kind, network: kind }"))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "kind v0.17.0 is too old: metallab needs v0.20.0 or later"
        );
    }

    #[tokio::test]
    async fn a_bad_plan_fails_preflight_without_running_kind() {
        let dir = tempfile::tempdir().unwrap();
        let runner = Arc::new(RecordingRunner::new());
        let yaml =
            "name: lab1\ncluster: { provider: kind, network: kind }\nnetworks: { kind: {} }\n";
        // Validation already refuses an internal node network; preflight re-checks.
        let mut lab = plan_from_yaml(yaml);
        lab.networks[0].internal = true;
        let plan = ClusterPlan::from_plan(&lab).unwrap();
        let err = kind(runner.clone(), &dir)
            .preflight(&plan)
            .await
            .unwrap_err();
        assert!(matches!(err, ClusterError::InternalNodeNetwork { .. }));
        assert!(runner.calls().is_empty());
    }

    #[tokio::test]
    async fn create_failure_surfaces_the_error_line() {
        // kind's stderr when the nodes exist: an `ERROR:` line after the progress lines.
        let stderr = "Creating cluster \"lab1\" ...\nERROR: failed to create cluster: node(s) already exist for a cluster with the name \"lab1\"\n";
        let dir = tempfile::tempdir().unwrap();
        let runner = Arc::new(RecordingRunner::new().reply(1, "", stderr));
        let err = kind(runner, &dir)
            .create(&plan("{ provider: kind, network: kind }"), &ignore_lines)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`KIND_EXPERIMENTAL_DOCKER_NETWORK=metallab-lab1-kind kind create cluster --name lab1 --config - --wait 3m` failed (exit code 1): failed to create cluster: node(s) already exist for a cluster with the name \"lab1\""
        );
        assert!(err.hint().unwrap().contains("metallab down"));
    }

    #[test]
    fn failure_detail_is_the_command_output() {
        let out = CommandOutput {
            exit_code: Some(1),
            stdout: String::new(),
            stderr: " ✗ Starting control-plane 🕹️\nERROR: failed to create cluster: failed to init node with kubeadm: command \"docker exec --privileged lab1-control-plane kubeadm init\" failed with error: exit status 1\nCommand Output: I0101 preflight\n[ERROR Swap]: running with swap on is not supported\n".into(),
        };
        let (message, detail) = failure_message(&out);
        assert!(message.starts_with("failed to create cluster: failed to init node"));
        assert_eq!(
            detail.as_deref(),
            Some(
                "Command Output: I0101 preflight\n[ERROR Swap]: running with swap on is not supported"
            )
        );
        let (message, detail) = failure_message(&CommandOutput {
            exit_code: Some(2),
            stdout: String::new(),
            stderr: "a\nb\nlast words\n".into(),
        });
        assert_eq!(message, "last words");
        assert_eq!(detail.as_deref(), Some("a\nb"));
    }

    #[tokio::test]
    async fn create_timeout_says_what_kind_was_doing() {
        let dir = tempfile::tempdir().unwrap();
        let runner = Arc::new(RecordingRunner::new().push(Reply::Timeout));
        let err = kind(runner, &dir)
            .create(&plan("{ provider: kind, network: kind }"), &ignore_lines)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("did not finish within 20m"),
            "{err}"
        );
        assert!(err.hint().unwrap().contains("Ensuring node image"));
    }

    #[tokio::test]
    async fn exists_reads_kind_get_clusters() {
        let dir = tempfile::tempdir().unwrap();
        let runner = Arc::new(
            RecordingRunner::new()
                .reply(0, "", "No kind clusters found.\n")
                .reply(0, "lab10\n", ""),
        );
        let kind = kind(runner, &dir);
        assert!(!kind.exists("lab1").await.unwrap());
        assert!(!kind.exists("lab1").await.unwrap());
    }

    /// A runner that reports whether the delete lock is held while kind runs.
    struct LockProbe {
        lock: PathBuf,
        held: Mutex<Vec<bool>>,
    }

    impl CommandRunner for LockProbe {
        fn run<'a>(
            &'a self,
            _spec: &'a CommandSpec,
            _on_line: LineSink<'a>,
        ) -> futures::future::BoxFuture<'a, Result<CommandOutput, CommandError>> {
            let other = std::fs::File::open(&self.lock).unwrap();
            let held = matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock));
            self.held.lock().unwrap().push(held);
            Box::pin(async {
                Ok(CommandOutput {
                    exit_code: Some(0),
                    ..Default::default()
                })
            })
        }
    }

    #[tokio::test]
    async fn delete_holds_the_lock_while_kind_runs_and_releases_it() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("kind-delete.lock");
        let probe = Arc::new(LockProbe {
            lock: lock.clone(),
            held: Mutex::new(vec![]),
        });
        let kind = Kind::new(probe.clone(), lock.clone());
        kind.delete("lab1", &ignore_lines).await.unwrap();
        kind.delete("lab2", &ignore_lines).await.unwrap();
        assert_eq!(*probe.held.lock().unwrap(), [true, true]);
        // Released: another holder gets it at once.
        std::fs::File::open(&lock).unwrap().try_lock().unwrap();
    }
}
