//! minikube with the docker driver, driven through its CLI; the profile is the lab name.
//!
//! Networking. metallab pre-creates the node network with an explicit subnet and gateway
//! (minikube reuses a `--network` only when it has both, else it silently falls back to
//! the default bridge: minikube#14767, #19284). `--static-ip` then places the single node
//! inside the node range, clear of the routers. For more than one node minikube gives
//! *every* node the `--static-ip` address and fails on the second ("can't create with that
//! IP, address already in use": minikube#18567, #19284), so metallab leaves the flag out
//! and minikube numbers the nodes from the gateway (`gateway + 1`, `+ 2`, … in
//! `pkg/drivers/kic/kic.go`); preflight checks no router sits there.
//!
//! Deletion. `minikube delete -p <lab>` removes the node containers and volumes, then the
//! Docker networks minikube itself created: those labelled `created_by.minikube.sigs.k8s.io`
//! and the one named after the profile (`kic.go` `Remove`, `delete.go`). The lab network is
//! named `metallab-<lab>-<network>` and carries only metallab labels, so minikube leaves it
//! to `metallab down`; the engine must never put minikube labels on it nor name it after
//! the profile, and `down` must treat an already-removed network as removed.

use super::command::{
    CommandOutput, CommandRunner, CommandSpec, LineSink, ProgressStream, ignore_lines,
};
use super::error::ClusterError;
use super::nodes::{self, DiscoveredNode, NodeSelector};
use super::spec::ClusterPlan;
use super::version::{MINIKUBE_MINIMUM, Version, parse_minikube_version};
use super::{ClusterAccess, ClusterFuture, ClusterProvider, Preflight, Provider, run_tool};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const INSTALL_URL: &str = "https://minikube.sigs.k8s.io/docs/start/";
const TOOL: &str = "minikube";
const QUICK: Duration = Duration::from_secs(60);
/// The kicbase image and preload tarball (about 1.3 GB together) dominate a first start.
const START_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// A router image is a few hundred MB, copied once per node.
const LOAD_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// `minikube status` exits 85 (ExGuestNotFound, `pkg/minikube/reason/exitcodes.go`) when
/// the profile does not exist.
const EXIT_PROFILE_NOT_FOUND: i32 = 85;

pub use super::spec::{machine_name, multi_node_addresses, node_count, static_ip};

/// `minikube start` for the plan. `--wait=all` makes start return only once the nodes are
/// Ready and the system pods run, like kind's `--wait`.
pub fn start_command(plan: &ClusterPlan) -> Result<CommandSpec, ClusterError> {
    let network = plan.node_network()?;
    let mut args: Vec<String> = vec![
        "start".into(),
        "-p".into(),
        plan.name.clone(),
        "--driver=docker".into(),
        "--network".into(),
        network.docker_name.clone(),
    ];
    if let Some(ip) = static_ip(plan)? {
        args.extend(["--static-ip".into(), ip.to_string()]);
    }
    if node_count(plan) > 1 {
        args.extend(["--nodes".into(), node_count(plan).to_string()]);
    }
    if let Some(v) = &plan.kubernetes_version {
        args.extend(["--kubernetes-version".into(), v.clone()]);
    }
    if let Some(image) = &plan.image {
        args.extend(["--base-image".into(), image.clone()]);
    }
    args.push("--wait=all".into());
    Ok(CommandSpec::new(TOOL, args, START_TIMEOUT).progress(ProgressStream::Both))
}

pub fn delete_command(profile: &str) -> CommandSpec {
    CommandSpec::new(TOOL, ["delete", "-p", profile], DELETE_TIMEOUT).progress(ProgressStream::Both)
}

/// `minikube image load`: copies the image from the local Docker engine into every node
/// of the profile.
pub fn load_image_command(profile: &str, image: &str) -> CommandSpec {
    CommandSpec::new(TOOL, ["image", "load", image, "-p", profile], LOAD_TIMEOUT)
        .progress(ProgressStream::Both)
}

pub fn version_command() -> CommandSpec {
    CommandSpec::new(TOOL, ["version", "--output=json"], QUICK)
}

pub fn status_command(profile: &str) -> CommandSpec {
    CommandSpec::new(TOOL, ["status", "-p", profile, "--output=json"], QUICK)
}

/// The kubeconfig file minikube writes contexts into: the first non-empty entry of
/// `KUBECONFIG`, else `~/.kube/config` (minikube's `kubeconfig.PathFromEnv`).
pub fn kubeconfig_path(kubeconfig_env: Option<&OsStr>, home: Option<&Path>) -> Option<PathBuf> {
    kubeconfig_env
        .and_then(|v| std::env::split_paths(v).find(|p| !p.as_os_str().is_empty()))
        .or_else(|| home.map(|h| h.join(".kube").join("config")))
}

/// The line that explains a failure: minikube ends with `X Exiting due to <REASON>: …`
/// (with an emoji instead of `X` on capable terminals), else the last stderr line.
pub fn failure_message(output: &CommandOutput) -> (String, Option<String>) {
    let all: Vec<&str> = output
        .stderr
        .lines()
        .chain(output.stdout.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(line) = all.iter().find(|l| l.contains("Exiting due to")) {
        let message = line[line.find("Exiting due to").unwrap_or(0)..].to_string();
        return (message, None);
    }
    let stderr: Vec<&str> = output
        .stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let message = stderr
        .last()
        .or(all.last())
        .map(|l| l.to_string())
        .unwrap_or_else(|| "no error output".to_string());
    (message, None)
}

pub struct Minikube {
    runner: Arc<dyn CommandRunner>,
    /// The kubeconfig minikube writes to (resolved like minikube does).
    kubeconfig: Option<PathBuf>,
}

impl Minikube {
    /// Resolves the kubeconfig path from this process's environment.
    pub fn new(runner: Arc<dyn CommandRunner>) -> Minikube {
        let env = std::env::var_os("KUBECONFIG");
        let kubeconfig = kubeconfig_path(env.as_deref(), dirs::home_dir().as_deref());
        Minikube::with_kubeconfig(runner, kubeconfig)
    }

    pub fn with_kubeconfig(runner: Arc<dyn CommandRunner>, kubeconfig: Option<PathBuf>) -> Self {
        Minikube { runner, kubeconfig }
    }

    async fn run_raw(
        &self,
        spec: &CommandSpec,
        on_line: LineSink<'_>,
    ) -> Result<CommandOutput, ClusterError> {
        run_tool(self.runner.as_ref(), TOOL, INSTALL_URL, spec, on_line).await
    }

    async fn run(
        &self,
        spec: &CommandSpec,
        on_line: LineSink<'_>,
    ) -> Result<CommandOutput, ClusterError> {
        let output = self.run_raw(spec, on_line).await?;
        if output.success() {
            return Ok(output);
        }
        Err(failed(spec, &output))
    }

    pub async fn version(&self) -> Result<Version, ClusterError> {
        let spec = version_command();
        let out = self.run(&spec, &ignore_lines).await?;
        parse_minikube_version(&out.stdout).ok_or_else(|| ClusterError::UnrecognizedVersion {
            tool: TOOL,
            command: spec.to_string(),
            output: out.stdout.trim().to_string(),
        })
    }
}

fn failed(spec: &CommandSpec, output: &CommandOutput) -> ClusterError {
    let (message, detail) = failure_message(output);
    ClusterError::CommandFailed {
        tool: TOOL,
        command: spec.to_string(),
        exit_code: output.exit_code,
        message,
        detail,
    }
}

impl ClusterProvider for Minikube {
    fn provider(&self) -> Provider {
        Provider::Minikube
    }

    fn preflight<'a>(&'a self, plan: &'a ClusterPlan) -> ClusterFuture<'a, Preflight> {
        Box::pin(async move {
            plan.check()?;
            let version = self.version().await?;
            if version < MINIKUBE_MINIMUM {
                return Err(ClusterError::ToolTooOld {
                    tool: TOOL,
                    found: version,
                    minimum: &MINIKUBE_MINIMUM,
                    install_url: INSTALL_URL,
                });
            }
            let mut warnings = vec![];
            if node_count(plan) > 1 {
                let network = plan.node_network()?;
                let addresses: Vec<String> = multi_node_addresses(plan, network)
                    .into_iter()
                    .map(|(node, ip)| format!("{node} {ip}"))
                    .collect();
                warnings.push(format!(
                    "minikube cannot give several nodes static addresses (minikube#18567): \
                     they take the addresses after the gateway: {}",
                    addresses.join(", ")
                ));
            }
            if plan.control_planes > 1 {
                warnings.push(
                    "minikube runs one control plane: `control-planes` is for kind".to_string(),
                );
            }
            Ok(Preflight {
                tool: Some(format!("minikube {version}")),
                warnings,
            })
        })
    }

    fn create<'a>(&'a self, plan: &'a ClusterPlan, on_line: LineSink<'a>) -> ClusterFuture<'a, ()> {
        Box::pin(async move {
            let spec = start_command(plan)?;
            self.run(&spec, on_line).await.map(drop)
        })
    }

    fn access<'a>(&'a self, plan: &'a ClusterPlan) -> ClusterFuture<'a, ClusterAccess> {
        Box::pin(async move {
            // The context minikube wrote at start, read from its kubeconfig file: no
            // kubectl (which `minikube kubectl` would download), no dependence on the
            // current context (which the user or another lab may switch), and the
            // certificate paths kube-rs resolves as written.
            let path = self.kubeconfig.clone().ok_or(ClusterError::NoKubeconfig)?;
            super::existing::read_kubeconfig(std::slice::from_ref(&path)).and_then(|kubeconfig| {
                ClusterAccess::with_context(
                    kubeconfig,
                    Some(&plan.name),
                    &path.display().to_string(),
                )
            })
        })
    }

    fn nodes<'a>(
        &'a self,
        rt: &'a dyn crate::runtime::ContainerEngine,
        plan: &'a ClusterPlan,
    ) -> ClusterFuture<'a, Vec<DiscoveredNode>> {
        Box::pin(async move {
            let network = plan.node_network()?;
            let selector = NodeSelector::Minikube {
                profile: plan.name.clone(),
            };
            nodes::discover(rt, &selector, &network.docker_name).await
        })
    }

    fn delete<'a>(&'a self, name: &'a str, on_line: LineSink<'a>) -> ClusterFuture<'a, ()> {
        Box::pin(async move { self.run(&delete_command(name), on_line).await.map(drop) })
    }

    fn exists<'a>(&'a self, name: &'a str) -> ClusterFuture<'a, bool> {
        Box::pin(async move {
            let spec = status_command(name);
            let out = self.run_raw(&spec, &ignore_lines).await?;
            match out.exit_code {
                Some(EXIT_PROFILE_NOT_FOUND) => Ok(false),
                // 0 = running; 1, 2, 4 (or-ed) = host, cluster, Kubernetes not running.
                Some(0..=7) => Ok(true),
                _ => Err(failed(&spec, &out)),
            }
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
    use crate::cluster::command::recording::RecordingRunner;
    use crate::cluster::tests::plan_from_yaml;
    use std::net::Ipv4Addr;
    use std::sync::Mutex;

    fn plan(cluster: &str, routers: &str) -> ClusterPlan {
        let yaml = format!(
            "name: mk1\ncluster: {cluster}\nnetworks:\n  mk: {{ subnet: 10.231.8.0/24, internal: false }}\n{routers}"
        );
        ClusterPlan::from_plan(&plan_from_yaml(&yaml)).unwrap()
    }

    const ROUTER: &str = "routers:\n  r1: { kind: frr, asn: 64500, interfaces: { mk: {} } }\n";

    fn argv(plan: &ClusterPlan) -> String {
        start_command(plan).unwrap().to_string()
    }

    #[test]
    fn start_arguments() {
        let single = plan("{ provider: minikube, network: mk }", ROUTER);
        let single_versioned = plan(
            "{ provider: minikube, network: mk, kubernetes-version: v1.30.4 }",
            ROUTER,
        );
        let multi = plan(
            "{ provider: minikube, network: mk, workers: 2 }",
            "routers:\n  r1: { kind: frr, asn: 64500, interfaces: { mk: { ip: 10.231.8.100 } } }\n",
        );
        let multi_versioned = plan(
            "{ provider: minikube, network: mk, workers: 1, kubernetes-version: v1.29.9, image: \"gcr.io/k8s-minikube/kicbase:v0.0.45\" }",
            "",
        );
        insta::assert_snapshot!(
            [
                format!("single:           {}", argv(&single)),
                format!("single + version: {}", argv(&single_versioned)),
                format!("multi:            {}", argv(&multi)),
                format!("multi + version:  {}", argv(&multi_versioned)),
            ]
            .join("\n")
        );
        for p in [&single, &single_versioned, &multi, &multi_versioned] {
            p.check().unwrap();
        }
    }

    #[test]
    fn single_node_static_ip_is_clear_of_routers_and_in_range() {
        let p = plan("{ provider: minikube, network: mk }", ROUTER);
        // r1 took 10.231.8.2; the node range is the upper half.
        assert_eq!(static_ip(&p).unwrap(), Some(Ipv4Addr::new(10, 231, 8, 128)));
    }

    #[test]
    fn multi_node_addresses_follow_the_gateway_and_must_be_free() {
        let mut p = plan("{ provider: minikube, network: mk, workers: 1 }", ROUTER);
        // The planner keeps routers off the nodes' addresses: r1 got .4.
        assert_eq!(
            p.reserved,
            [("r1".to_string(), Ipv4Addr::new(10, 231, 8, 4))]
        );
        p.check().unwrap();
        // A plan where a router sits there anyway (validation refuses writing one) fails.
        p.reserved[0].1 = Ipv4Addr::new(10, 231, 8, 2);
        let err = p.check().unwrap_err();
        assert_eq!(
            err.to_string(),
            "minikube would place node mk1 at 10.231.8.2, which router `r1` already uses"
        );
        assert!(err.hint().unwrap().contains("minikube#18567"));
        let network = p.network.as_ref().unwrap();
        let addresses = multi_node_addresses(&p, network);
        assert_eq!(
            addresses,
            [
                ("mk1".to_string(), Ipv4Addr::new(10, 231, 8, 2)),
                ("mk1-m02".to_string(), Ipv4Addr::new(10, 231, 8, 3)),
            ]
        );
    }

    #[test]
    fn multi_node_addresses_must_fit_after_the_gateway() {
        let yaml = "name: mk1
cluster: { provider: minikube, network: mk, workers: 2 }
networks:
  mk: { subnet: 10.231.9.0/24, gateway: 10.231.9.252, internal: false }
";
        let p = ClusterPlan::from_plan(&plan_from_yaml(yaml)).unwrap();
        let err = p.check().unwrap_err();
        assert!(
            matches!(err, ClusterError::MinikubeAddressOverflow { nodes: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn static_ip_must_be_private() {
        let yaml = "name: mk1
cluster: { provider: minikube, network: mk }
networks:
  mk: { subnet: 198.51.100.0/24, internal: false }
";
        let p = ClusterPlan::from_plan(&plan_from_yaml(yaml)).unwrap();
        let err = p.check().unwrap_err();
        assert_eq!(
            err.to_string(),
            "minikube --static-ip accepts only private IPv4 addresses, and 198.51.100.128 is not one"
        );
    }

    #[test]
    fn kubeconfig_path_is_the_first_kubeconfig_entry_or_home() {
        let home = Path::new("/home/u");
        assert_eq!(
            kubeconfig_path(Some(OsStr::new(":/a/one:/b/two")), Some(home)),
            Some(PathBuf::from("/a/one"))
        );
        assert_eq!(
            kubeconfig_path(Some(OsStr::new("")), Some(home)),
            Some(PathBuf::from("/home/u/.kube/config"))
        );
        assert_eq!(kubeconfig_path(None, None), None);
    }

    const KUBECONFIG: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority: /home/u/.minikube/ca.crt
    server: https://10.231.8.128:8443
  name: mk1
- cluster:
    server: https://127.0.0.1:6443
  name: other
contexts:
- context:
    cluster: mk1
    namespace: default
    user: mk1
  name: mk1
- context:
    cluster: other
    user: other
  name: other
current-context: other
kind: Config
users:
- name: mk1
  user:
    client-certificate: /home/u/.minikube/profiles/mk1/client.crt
    client-key: /home/u/.minikube/profiles/mk1/client.key
- name: other
  user:
    token: abc
";

    #[tokio::test]
    async fn preflight_start_access_exists_delete_run_these_commands() {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("config");
        std::fs::write(&kubeconfig, KUBECONFIG).unwrap();
        let runner = Arc::new(
            RecordingRunner::new()
                .reply(
                    0,
                    "{\"commit\":\"fd7ecd9c4599bef9f04c0986c4a0187f98a4396e\",\"minikubeVersion\":\"v1.33.1\"}\n",
                    "",
                )
                .reply(
                    0,
                    "* [mk1] minikube v1.33.1 on Debian 12.5\n* Using the docker driver based on user configuration\n* Done! kubectl is now configured to use \"mk1\" cluster and \"default\" namespace by default\n",
                    "",
                )
                .reply(0, "{\"Name\":\"mk1\",\"Host\":\"Running\",\"Kubelet\":\"Running\",\"APIServer\":\"Running\",\"Kubeconfig\":\"Configured\",\"Worker\":false}\n", "")
                .reply(
                    EXIT_PROFILE_NOT_FOUND,
                    "",
                    "* Profile \"mk2\" not found. Run \"minikube profile list\" to view all profiles.\n",
                )
                .reply(0, "* Deleting \"mk1\" in docker ...\n* Removed all traces of the \"mk1\" cluster.\n", ""),
        );
        let mk = Minikube::with_kubeconfig(runner.clone(), Some(kubeconfig));
        let p = plan("{ provider: minikube, network: mk }", ROUTER);
        let shown = Mutex::new(Vec::<String>::new());
        let on_line = |l: &str| shown.lock().unwrap().push(l.to_string());

        let pre = mk.preflight(&p).await.unwrap();
        assert_eq!(pre.tool.as_deref(), Some("minikube v1.33.1"));
        assert!(pre.warnings.is_empty());
        mk.create(&p, &on_line).await.unwrap();
        let access = mk.access(&p).await.unwrap();
        // The profile's context, not the current one.
        assert_eq!(access.context, "mk1");
        assert!(mk.exists("mk1").await.unwrap());
        assert!(!mk.exists("mk2").await.unwrap());
        mk.delete("mk1", &on_line).await.unwrap();

        insta::assert_snapshot!(runner.call_lines().join("\n"));
        assert!(
            runner
                .calls()
                .iter()
                .all(|c| c.env.is_empty() && c.stdin.is_none())
        );
        let shown = shown.lock().unwrap();
        assert_eq!(shown.len(), 5, "{shown:?}");
        assert!(shown[2].contains("Done!"));
    }

    #[tokio::test]
    async fn images_are_loaded_into_the_profile_from_docker() {
        let runner = Arc::new(RecordingRunner::new().reply(0, "", "").reply(
            1,
            "",
            "X Exiting due to GUEST_IMAGE_LOAD: Failed to load image\n",
        ));
        let mk = Minikube::with_kubeconfig(runner.clone(), None);
        assert!(
            mk.load_image("mk1", "metallab/bird:0123abcd", &ignore_lines)
                .await
                .unwrap()
        );
        let err = mk
            .load_image("mk1", "metallab/bird:0123abcd", &ignore_lines)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .ends_with("Exiting due to GUEST_IMAGE_LOAD: Failed to load image"),
            "{err}"
        );
        assert_eq!(
            runner.call_lines(),
            [
                "minikube image load metallab/bird:0123abcd -p mk1",
                "minikube image load metallab/bird:0123abcd -p mk1"
            ]
        );
    }

    #[tokio::test]
    async fn start_failure_surfaces_the_exit_reason() {
        let runner = Arc::new(RecordingRunner::new().reply(
            80,
            "* [mk1] minikube v1.33.1 on Debian 12.5\n",
            "X Exiting due to GUEST_START: failed to start node: adding node: Failed to start host: can't create with that IP, address already in use\n",
        ));
        let mk = Minikube::with_kubeconfig(runner, None);
        let err = mk
            .create(
                &plan("{ provider: minikube, network: mk }", ROUTER),
                &ignore_lines,
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string().ends_with("failed (exit code 80): Exiting due to GUEST_START: failed to start node: adding node: Failed to start host: can't create with that IP, address already in use"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn multi_node_preflight_warns_where_the_nodes_go() {
        let runner = Arc::new(RecordingRunner::new().reply(
            0,
            "minikube version: v1.29.0\ncommit: ddac20b4b34a9c8c857fc602203b6ba2679794d3\n",
            "",
        ));
        let mk = Minikube::with_kubeconfig(runner, None);
        let p = plan(
            "{ provider: minikube, network: mk, workers: 1 }",
            "routers:\n  r1: { kind: frr, asn: 64500, interfaces: { mk: { ip: 10.231.8.100 } } }\n",
        );
        let pre = mk.preflight(&p).await.unwrap();
        assert_eq!(
            pre.warnings,
            [
                "minikube cannot give several nodes static addresses (minikube#18567): they take the addresses after the gateway: mk1 10.231.8.2, mk1-m02 10.231.8.3"
            ]
        );
    }

    #[test]
    fn multi_node_addresses_are_the_ones_the_plan_keeps_free_after_the_gateway() {
        let text = "name: mk
cluster: { provider: minikube, workers: 2, network: mk }
networks: { mk: { subnet: 10.233.0.0/24 } }
routers:
  frr1: { kind: frr, asn: 64512, interfaces: { mk: {} }, neighbors: [{ to: nodes }] }
metallb: { asn: 64500, peers: [{ router: frr1 }] }
";
        let topology = crate::topology::load::parse_and_validate("mk.yaml", text).unwrap();
        let plan = crate::plan::build(&topology, "mk.yaml", std::path::Path::new(""));
        // The plan starts routers at .5 (see plan::build's test): the nodes take .2 to .4.
        assert_eq!(
            plan.router("frr1").unwrap().interfaces[0].ip.to_string(),
            "10.233.0.5"
        );
        let cplan = crate::cluster::ClusterPlan::from_plan(&plan).unwrap();
        let network = cplan.node_network().unwrap();
        assert_eq!(
            multi_node_addresses(&cplan, network)
                .into_iter()
                .map(|(_, ip)| ip.to_string())
                .collect::<Vec<_>>(),
            ["10.233.0.2", "10.233.0.3", "10.233.0.4"]
        );
    }
}
