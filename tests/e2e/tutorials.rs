//! Tutorials end to end, against real daemons: the Docker-only tutorials run whole by
//! `metallab tutorial run`, a failing step stops a run with exit 1, and `tutorial start`
//! is followed through a pseudo-terminal (see step 1, do it from outside, see it done,
//! quit, start again and land on step 2). The cluster tutorials need kind or Minikube and
//! are gated like `clusters.rs`.

use crate::clusters::gate;
use crate::harness::{Lab, docker_available};
use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A copy of `tutorials/<name>.md` and its folder, with every `<name>` in them (the lab
/// name, the folder) turned into `e2e-tut-<name>`, so a run never touches a reader's own
/// lab. Returns the lab (removed on drop) and the copy's Markdown file.
fn tutorial_copy(name: &str) -> (Lab, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tutorials");
    let renamed = format!("e2e-tut-{name}");
    let state_dir = tempfile::tempdir().expect("temp dir");
    let copy = |text: String| text.replace(name, &renamed);
    let markdown = state_dir.path().join(format!("{renamed}.md"));
    std::fs::write(
        &markdown,
        copy(std::fs::read_to_string(root.join(format!("{name}.md"))).unwrap()),
    )
    .unwrap();
    let folder = state_dir.path().join(&renamed);
    std::fs::create_dir_all(&folder).unwrap();
    for entry in std::fs::read_dir(root.join(name)).unwrap() {
        let entry = entry.unwrap();
        let text = std::fs::read_to_string(entry.path()).unwrap();
        std::fs::write(folder.join(entry.file_name()), copy(text)).unwrap();
    }
    let lab = Lab {
        name: renamed,
        topology: folder.join("lab.yaml"),
        state_dir,
    };
    (lab, markdown)
}

/// A tutorial of `tests/e2e/tutorials/`, whose lab is named `e2e-tut-…` already.
fn fixture(file: &str, lab: &str) -> (Lab, PathBuf) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/tutorials");
    let lab = Lab {
        name: lab.to_string(),
        topology: dir.join(file),
        state_dir: tempfile::tempdir().expect("temp dir"),
    };
    (lab, dir.join(file))
}

/// `metallab tutorial run FILE -o json --junit …`: exit code, the JSON report, the JUnit.
fn run(lab: &Lab, markdown: &Path) -> (Option<i32>, serde_json::Value, String) {
    let junit = lab.state_dir.path().join("junit.xml");
    let out = lab.metallab(&[
        "tutorial",
        "run",
        markdown.to_str().unwrap(),
        "-o",
        "json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "tutorial run exited {:?} without a JSON report ({e}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let junit = std::fs::read_to_string(&junit).expect("the JUnit file is written");
    (out.status.code(), report, junit)
}

/// Each step's number, title and status.
fn statuses(report: &serde_json::Value) -> Vec<(u64, String, String)> {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["number"].as_u64().unwrap(),
                s["title"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The whole tutorial passes, step by step, and the lab is gone at the end.
fn runs_whole(name: &str) {
    let (lab, markdown) = tutorial_copy(name);
    let (code, report, junit) = run(&lab, &markdown);
    let steps = statuses(&report);
    let failed: Vec<_> = steps.iter().filter(|s| s.2 != "passed").collect();
    assert!(
        failed.is_empty(),
        "steps that did not pass: {failed:?}\n{report:#}"
    );
    assert_eq!(code, Some(0));
    assert!(steps.len() >= 6, "{steps:?}");
    assert_eq!(
        junit.matches("<testcase ").count(),
        steps.len(),
        "one JUnit test case per step: {junit}"
    );
    assert_eq!(lab.leftovers(), (vec![], vec![]), "run removes the lab");
}

#[test]
fn bgp_basics_runs_whole() {
    if docker_available() {
        runs_whole("bgp-basics");
    }
}

#[test]
fn next_hop_bfd_runs_whole() {
    if docker_available() {
        runs_whole("next-hop-bfd");
    }
}

// The cluster tutorials, gated as `clusters.rs` is (`METALLAB_E2E_KIND=1`,
// `METALLAB_E2E_MINIKUBE=1`); the `clusters` workflow runs them.

#[test]
fn on_kind_metallb_kind_bfd_runs_whole() {
    if docker_available() && gate("METALLAB_E2E_KIND") {
        runs_whole("metallb-kind-bfd");
    }
}

#[test]
fn on_kind_metallb_multinode_traffic_runs_whole() {
    if docker_available() && gate("METALLAB_E2E_KIND") {
        runs_whole("metallb-multinode-traffic");
    }
}

#[test]
fn on_minikube_metallb_minikube_runs_whole() {
    if docker_available() && gate("METALLAB_E2E_MINIKUBE") {
        runs_whole("metallb-minikube");
    }
}

#[test]
fn on_minikube_metallb_crds_runs_whole() {
    if docker_available() && gate("METALLAB_E2E_MINIKUBE") {
        runs_whole("metallb-crds");
    }
}

#[test]
fn a_step_that_does_not_pass_stops_the_run_with_exit_1() {
    if !docker_available() {
        return;
    }
    let (lab, markdown) = fixture("failing.md", "e2e-tut-fail");
    let (code, report, junit) = run(&lab, &markdown);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        statuses(&report),
        [
            (1, "Reach h2".to_string(), "passed".to_string()),
            (
                2,
                "Reach an address nobody has".to_string(),
                "failed".to_string()
            ),
            (3, "Never reached".to_string(), "not-run".to_string()),
        ]
    );
    let failed = &report["steps"][1];
    assert!(
        failed["failure"]
            .as_str()
            .unwrap()
            .contains("10.225.10.99 did not answer h1's ping"),
        "{failed:#}"
    );
    assert_eq!(
        failed["hint"],
        "nobody has 10.225.10.99: this step fails on purpose"
    );
    assert_eq!(failed["checks"]["failed"], 1);
    assert!(junit.contains("<skipped"), "{junit}");
    assert!(junit.contains("<failure"), "{junit}");
    assert_eq!(lab.leftovers(), (vec![], vec![]), "run removes the lab");
}

#[test]
fn start_shows_a_step_marks_it_done_and_resumes_at_the_next() {
    if !docker_available() {
        return;
    }
    let (lab, markdown) = fixture("interactive.md", "e2e-tut-start");
    let start = || {
        let mut command = std::process::Command::new(crate::harness::BIN);
        command
            .args(["--progress", "never", "tutorial", "start"])
            .arg(&markdown)
            .env("METALLAB_STATE_DIR", lab.state_dir.path())
            .env("NO_COLOR", "1");
        let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
        // Bringing the lab up takes a few seconds; a check polls once a second.
        session.set_expect_timeout(Some(Duration::from_secs(120)));
        session
    };

    let mut tutorial = start();
    tutorial
        .expect("Step 1/2 · Give h2 a second address")
        .unwrap();
    tutorial
        .expect("✘ h1 ping 10.225.9.50: 10.225.9.50 did not answer h1's ping")
        .unwrap();
    // The reader runs the step's command in another terminal.
    let out = lab.metallab(&[
        "exec",
        "e2e-tut-start/h2",
        "--",
        "ip",
        "address",
        "add",
        "10.225.9.50/24",
        "dev",
        "eth0",
    ]);
    assert_eq!(out.status.code(), Some(0));
    tutorial.expect("✔ h1 ping 10.225.9.50").unwrap();
    tutorial
        .expect("✔ Step 1 done: Give h2 a second address")
        .unwrap();
    tutorial
        .expect("Step 2/2 · Give h2 a third address")
        .unwrap();
    tutorial.send("q").unwrap();
    tutorial.expect("Left at step 2/2").unwrap();
    tutorial.expect(Eof).unwrap();
    assert!(matches!(
        tutorial.get_process().wait().unwrap(),
        WaitStatus::Exited(_, 0)
    ));

    let mut again = start();
    again
        .expect("Resuming at step 2 (progress kept in lab e2e-tut-start's state)")
        .unwrap();
    again.expect("Step 2/2 · Give h2 a third address").unwrap();
    again
        .expect("✘ h1 ping 10.225.9.51: 10.225.9.51 did not answer h1's ping")
        .unwrap();
    // `r` runs the step's command here, and the step is done.
    again.send("r").unwrap();
    again
        .expect("$ metallab exec e2e-tut-start/h2 -- ip address add 10.225.9.51/24 dev eth0")
        .unwrap();
    again
        .expect("✔ Step 2 done: Give h2 a third address")
        .unwrap();
    again.expect("You finished").unwrap();
    again.expect(Eof).unwrap();
    assert!(matches!(
        again.get_process().wait().unwrap(),
        WaitStatus::Exited(_, 0)
    ));

    // Not on a terminal (stdin closed, output piped): plain text, and the end of input
    // leaves like `q`. A finished tutorial starts over.
    let piped = lab.metallab(&["tutorial", "start", markdown.to_str().unwrap()]);
    assert_eq!(piped.status.code(), Some(0));
    let text = String::from_utf8_lossy(&piped.stdout);
    assert!(
        text.contains("You finished this tutorial on this lab before; starting over."),
        "{text}"
    );
    assert!(text.contains("Left at step 1/2"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colour codes in a pipe: {text:?}"
    );
}
