//! Shared harness for end-to-end tests: runs the real `metallab` binary against the real
//! Docker engine, each lab under its own name and state directory, and removes everything
//! the test created when it ends — also when an assertion fails (Drop).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_metallab");

/// End-to-end tests need a Docker engine. Under CI (or METALLAB_REQUIRE_DOCKER) a missing
/// engine is a failure, never a skip.
pub fn docker_available() -> bool {
    let ok = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    let required = std::env::var_os("CI").is_some_and(|v| v != "false" && !v.is_empty())
        || std::env::var_os("METALLAB_REQUIRE_DOCKER").is_some();
    if !ok && required {
        panic!(
            "Docker engine unreachable, and CI/METALLAB_REQUIRE_DOCKER forbids skipping end-to-end tests"
        );
    }
    if !ok {
        eprintln!("SKIP: no Docker engine (set CI=true to make this a failure)");
    }
    ok
}

pub struct Lab {
    pub name: String,
    pub topology: PathBuf,
    pub state_dir: tempfile::TempDir,
}

impl Lab {
    /// A copy of a built-in topology file under a test-specific lab name, so a user's own
    /// lab of the same topology is never touched.
    /// A copy of `file` (a built-in topology in `topologies/`, or a path relative to the
    /// crate such as `tests/e2e/topologies/x.yaml`) named `name`.
    pub fn from_topology(file: &str, name: &str) -> Lab {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let src = if file.contains('/') {
            root.join(file)
        } else {
            root.join("topologies").join(file)
        };
        let file = src
            .file_name()
            .and_then(|f| f.to_str())
            .expect("a file name");
        let text =
            std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        let original = text
            .lines()
            .find_map(|l| l.strip_prefix("name:"))
            .expect("topology has a name")
            .trim()
            .to_string();
        let text = text.replacen(&format!("name: {original}"), &format!("name: {name}"), 1);
        let text = override_metallb(&text, &metallb_override());
        let state_dir = tempfile::tempdir().expect("temp dir");
        let topology = state_dir.path().join(file);
        std::fs::write(&topology, text).expect("write topology copy");
        // The app manifests the topology names, relative to it as beside the original.
        let manifests = src.parent().unwrap().join("manifests");
        if manifests.is_dir() {
            let copy = state_dir.path().join("manifests");
            std::fs::create_dir_all(&copy).expect("manifests folder");
            for entry in std::fs::read_dir(&manifests).expect("topologies/manifests") {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), copy.join(entry.file_name())).expect("copy manifest");
            }
        }
        Lab {
            name: name.to_string(),
            topology,
            state_dir,
        }
    }

    pub fn metallab(&self, args: &[&str]) -> Output {
        self.metallab_with_env(args, &[])
    }

    /// `metallab` with extra environment variables (e.g. a PATH without kind).
    pub fn metallab_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = Command::new(BIN)
            .args(["--progress", "never"])
            .args(args)
            .env("METALLAB_STATE_DIR", self.state_dir.path())
            .env_remove("NO_COLOR")
            .envs(env.iter().copied())
            .output()
            .expect("run metallab");
        eprintln!(
            "$ metallab {}\n[exit {:?}]\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `metallab ARGS` running in the background, its stdout piped (for `--watch`).
    pub fn spawn_metallab(&self, args: &[&str]) -> std::process::Child {
        Command::new(BIN)
            .args(["--progress", "never"])
            .args(args)
            .env("METALLAB_STATE_DIR", self.state_dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("run metallab")
    }

    pub fn topology_arg(&self) -> &str {
        self.topology.to_str().expect("utf-8 path")
    }

    pub fn container(&self, router: &str) -> String {
        format!("metallab-{}-{router}", self.name)
    }

    pub fn network(&self, net: &str) -> String {
        format!("metallab-{}-{net}", self.name)
    }

    /// Runs `metallab check -o json` and returns (exit code, names of failed checks,
    /// names of passed checks).
    pub fn check(&self, timeout: &str) -> (i32, Vec<String>, Vec<String>) {
        let (code, results) = self.check_results(timeout);
        let mut failed = vec![];
        let mut passed = vec![];
        for r in results {
            let name = r["name"].as_str().expect("check name").to_string();
            match r["status"].as_str() {
                Some("passed") => passed.push(name),
                _ => failed.push(name),
            }
        }
        failed.sort();
        passed.sort();
        (code, failed, passed)
    }

    /// `metallab check LAB -o json --timeout T`: the exit code and every check's result
    /// object (name, status, reason, evidence…).
    pub fn check_results(&self, timeout: &str) -> (i32, Vec<serde_json::Value>) {
        let out = self.metallab(&["check", &self.name, "-o", "json", "--timeout", timeout]);
        let code = out.status.code().expect("exit code");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("check -o json printed invalid JSON ({e})"));
        let results = v
            .get("checks")
            .and_then(|c| c.as_array())
            .or_else(|| v.as_array())
            .expect("a list of check results")
            .clone();
        (code, results)
    }

    /// `metallab down ARG` succeeds and leaves no labelled container or network, no
    /// DOCKER-USER rule and no state directory of the lab.
    pub fn down_leaves_nothing(&self, arg: &str) {
        let down = self.metallab(&["down", arg]);
        assert_eq!(down.status.code(), Some(0));
        assert_eq!(self.leftovers(), (vec![], vec![]));
        assert_eq!(
            self.firewall_rules(),
            Vec::<String>::new(),
            "down removes the lab's DOCKER-USER rules"
        );
        let lab_state = self.state_dir.path().join("labs").join(&self.name);
        assert!(!lab_state.exists(), "down removes {}", lab_state.display());
    }

    /// DOCKER-USER rules metallab added for this lab (see src/engine/firewall.rs).
    pub fn firewall_rules(&self) -> Vec<String> {
        let Ok(out) = Command::new("iptables")
            .args(["-S", "DOCKER-USER"])
            .output()
        else {
            return vec![];
        };
        let marker = format!("\"metallab:lab={}\"", self.name);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(&marker))
            .map(str::to_string)
            .collect()
    }

    /// Docker resources carrying this lab's label.
    pub fn leftovers(&self) -> (Vec<String>, Vec<String>) {
        let filter = format!("label=io.metallab.lab={}", self.name);
        let list = |args: &[&str]| -> Vec<String> {
            let out = Command::new("docker").args(args).output().expect("docker");
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect()
        };
        (
            list(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"]),
            list(&[
                "network",
                "ls",
                "--filter",
                &filter,
                "--format",
                "{{.Name}}",
            ]),
        )
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // A failed test's lab is about to go: keep a snapshot of it first, while its state
        // directory still exists (CI uploads the folder).
        if std::thread::panicking()
            && let Some(dir) = std::env::var_os("METALLAB_E2E_SNAPSHOT_DIR")
        {
            let dir = PathBuf::from(dir);
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{}.tar.gz", self.name));
            let _ = Command::new(BIN)
                .args(["--progress", "never", "snapshot", &self.name, "-f"])
                .arg(&file)
                .env("METALLAB_STATE_DIR", self.state_dir.path())
                .output();
        }
        // metallab's own down first; then a label sweep with the Docker CLI in case the
        // binary itself is what broke.
        let _ = Command::new(BIN)
            .args(["--progress", "never", "down", "--name", &self.name])
            .env("METALLAB_STATE_DIR", self.state_dir.path())
            .output();
        // A kind cluster the binary failed to delete (kind labels its node containers).
        let kind_nodes = Command::new("docker")
            .args(["ps", "-aq", "--filter"])
            .arg(format!("label=io.x-k8s.kind.cluster={}", self.name))
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(false);
        if kind_nodes {
            let _ = Command::new("kind")
                .args(["delete", "cluster", "--name", &self.name])
                .output();
        }
        let (containers, networks) = self.leftovers();
        for c in containers {
            let _ = Command::new("docker").args(["rm", "-f", &c]).output();
        }
        for n in networks {
            let _ = Command::new("docker").args(["network", "rm", &n]).output();
        }
        for rule in self.firewall_rules() {
            let args: Vec<String> = rule
                .replacen("-A ", "-D ", 1)
                .split_whitespace()
                .map(|a| a.trim_matches('"').to_string())
                .collect();
            let _ = Command::new("iptables").args(&args).output();
        }
    }
}

pub fn docker(args: &[&str]) -> Output {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Check names from a list that mention any of the given words.
pub fn mentioning(names: &[String], words: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names
        .iter()
        .filter(|n| words.iter().any(|w| n.contains(w)))
        .cloned()
        .collect();
    v.sort();
    v
}

/// Waits (bounded) until the router's view of a session leaves `established`, so that a
/// following check run judges the broken state rather than the last seconds of the old one.
pub fn wait_session_down(lab: &Lab, router: &str, peer_ip: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = lab.metallab(&["status", &lab.name, "-o", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
        let down = v[0]["routers"]
            .as_array()
            .expect("routers")
            .iter()
            .filter(|r| r["name"] == router)
            .flat_map(|r| r["sessions"].as_array().cloned().unwrap_or_default())
            .any(|s| s["peer_address"] == peer_ip && s["state"] != "established");
        if down {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{router} still sees {peer_ip} established after 60s"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

pub fn wait_route_gone(lab: &Lab, router: &str, prefix: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = lab.metallab(&["routes", router, "--lab", &lab.name, "-o", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("routes JSON");
        let present = v[0]["routes"]
            .as_array()
            .expect("routes")
            .iter()
            .any(|r| r["prefix"] == prefix);
        if !present {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{router} still has {prefix} after 30s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// MetalLB release and mode the gated cluster tests run instead of the topology's own:
/// `METALLAB_E2E_METALLB_VERSION` (`v0.13.2`) and `METALLAB_E2E_METALLB_MODE` (`frr`,
/// `native`), so CI can run the same labs against several MetalLB releases.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MetallbOverride {
    pub version: Option<String>,
    pub mode: Option<String>,
}

pub fn metallb_override() -> MetallbOverride {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    MetallbOverride {
        version: var("METALLAB_E2E_METALLB_VERSION"),
        mode: var("METALLAB_E2E_METALLB_MODE"),
    }
}

/// The topology text with `metallb.version` / `metallb.mode` set as asked: an existing key
/// is replaced, a missing one added at the top of the `metallb:` block. Text without a
/// top-level `metallb:` block is returned unchanged.
pub fn override_metallb(text: &str, o: &MetallbOverride) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == "metallb:") else {
        return text.to_string();
    };
    // The block: the indented (or blank) lines after `metallb:`.
    let end = lines[start + 1..]
        .iter()
        .position(|l| !l.is_empty() && !l.starts_with(' '))
        .map_or(lines.len(), |i| start + 1 + i);
    let mut out: Vec<String> = lines[..=start].iter().map(|l| l.to_string()).collect();
    let mut block: Vec<String> = lines[start + 1..end]
        .iter()
        .map(|l| l.to_string())
        .collect();
    for (key, value) in [("mode", &o.mode), ("version", &o.version)] {
        let Some(value) = value else { continue };
        let line = format!("  {key}: {value}");
        match block
            .iter()
            .position(|l| l.starts_with(&format!("  {key}:")))
        {
            Some(i) => block[i] = line,
            None => block.insert(0, line),
        }
    }
    out.extend(block);
    out.extend(lines[end..].iter().map(|l| l.to_string()));
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

#[test]
fn metallb_override_replaces_or_adds_version_and_mode_in_the_metallb_block() {
    let text = "name: x\nmetallb:\n  # newest\n  mode: frr\n  asn: 64500\nchecks: []\n";
    let both = MetallbOverride {
        version: Some("v0.13.2".into()),
        mode: Some("native".into()),
    };
    assert_eq!(
        override_metallb(text, &both),
        "name: x\nmetallb:\n  version: v0.13.2\n  # newest\n  mode: native\n  asn: 64500\nchecks: []\n"
    );
    let legacy = "metallb:\n  version: v0.12.1\n  mode: native\n";
    let newest = MetallbOverride {
        version: Some("v0.16.1".into()),
        mode: None,
    };
    assert_eq!(
        override_metallb(legacy, &newest),
        "metallb:\n  version: v0.16.1\n  mode: native\n"
    );
    // Nothing asked, or nothing to override: the text as it was.
    assert_eq!(override_metallb(text, &MetallbOverride::default()), text);
    assert_eq!(override_metallb("name: y\n", &both), "name: y\n");
    // Keys of nested maps are not the block's own keys.
    let nested = "metallb:\n  peers:\n    - { router: a }\n  pools:\n    p:\n      mode: x\n";
    assert_eq!(
        override_metallb(nested, &newest),
        "metallb:\n  version: v0.16.1\n  peers:\n    - { router: a }\n  pools:\n    p:\n      mode: x\n"
    );
}

#[test]
fn the_builtin_cluster_topologies_take_the_override() {
    let both = MetallbOverride {
        version: Some("v0.13.2".into()),
        mode: Some("native".into()),
    };
    for file in [
        "bgp.yaml",
        "bfd-next-hop.yaml",
        "in-cluster.yaml",
        "minikube-legacy.yaml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("topologies")
            .join(file);
        let text = override_metallb(&std::fs::read_to_string(&path).unwrap(), &both);
        let block: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "metallb:")
            .take_while(|l| *l == "metallb:" || l.starts_with(' ') || l.is_empty())
            .collect();
        assert_eq!(
            block
                .iter()
                .filter(|l| l.starts_with("  version:"))
                .collect::<Vec<_>>(),
            vec![&"  version: v0.13.2"],
            "{file}"
        );
        assert_eq!(
            block
                .iter()
                .filter(|l| l.starts_with("  mode:"))
                .collect::<Vec<_>>(),
            vec![&"  mode: native"],
            "{file}"
        );
    }
}

/// Configures an FRR router of the lab through its own CLI, as a user would: `configure
/// terminal`, `router bgp ASN`, then each statement.
pub fn frr_bgp_configure(lab: &Lab, router: &str, asn: u32, statements: &[&str]) {
    let router_bgp = format!("router bgp {asn}");
    let mut args = vec![
        "exec",
        router,
        "--lab",
        &lab.name,
        "--",
        "vtysh",
        "-c",
        "configure terminal",
        "-c",
        &router_bgp,
    ];
    for statement in statements {
        args.extend(["-c", statement]);
    }
    let out = lab.metallab(&args);
    assert_eq!(out.status.code(), Some(0), "vtysh {statements:?}: {out:?}");
}
