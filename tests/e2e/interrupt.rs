//! Ctrl-C during `up` is a failed `up`: it stops, rolls back what this run created
//! (containers, networks, the DOCKER-USER rule) and says so, exiting 130. A `up` killed
//! outright leaves a lab the next commands know.

use crate::harness::{BIN, Lab, docker_available};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `metallab up` of an interop lab, killed if the test fails before it ended, so it
/// cannot go on creating.
struct Running(Option<Child>);

impl Running {
    /// Starts `up` of `lab` (its `10.202.1.` addresses moved to `prefix`: the interop test
    /// runs the same topology at the same time) and returns once `up` has created
    /// something.
    fn up_until_something_exists(lab: &Lab, prefix: &str) -> Running {
        let text = std::fs::read_to_string(&lab.topology)
            .unwrap()
            .replace("10.202.1.", prefix);
        std::fs::write(&lab.topology, text).unwrap();
        let mut running = Running(Some(
            Command::new(BIN)
                .args([
                    "--progress",
                    "never",
                    "up",
                    lab.topology_arg(),
                    "--no-check",
                ])
                .env("METALLAB_STATE_DIR", lab.state_dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("metallab up runs"),
        ));
        let started = Instant::now();
        while lab.leftovers() == (vec![], vec![]) {
            if let Some(status) = running.child().try_wait().unwrap() {
                let out = running.finish();
                panic!(
                    "up ended ({status}) before creating anything:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "up created nothing in 2 minutes"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        running
    }

    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("up still runs")
    }

    /// Waits for `up` to end and returns what it printed.
    fn finish(&mut self) -> Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn ctrl_c_during_up_rolls_back_what_it_created() {
    if !docker_available() {
        return;
    }
    let lab = Lab::from_topology("interop.yaml", "e2e-interrupt");
    let mut running = Running::up_until_something_exists(&lab, "10.214.1.");
    let sent = Command::new("kill")
        .args(["-INT", &running.child().id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = running.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: lab e2e-interrupt was not finished"),
        "{stderr}"
    );
    assert!(stderr.contains("rollback"), "says it rolled back: {stderr}");
    assert!(stderr.contains("rollback"), "says it rolled back: {stderr}");
    assert_eq!(lab.leftovers(), (vec![], vec![]), "nothing is left behind");
}

#[test]
fn a_killed_up_leaves_a_lab_that_the_next_commands_know() {
    if !docker_available() {
        return;
    }
    let lab = Lab::from_topology("interop.yaml", "e2e-killed");
    let mut running = Running::up_until_something_exists(&lab, "10.215.1.");
    // Killed outright: no rollback runs.
    running.child().kill().unwrap();
    running.finish();
    // The plan was saved before anything was created: checks run (and fail), rather
    // than "no saved plan".
    let out = lab.metallab(&["check", &lab.name, "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("no saved plan"), "{said}");
    // `down` removes what the killed `up` left, found by label.
    lab.down_leaves_nothing(&lab.name);
}

#[test]
fn up_timeout_bounds_the_whole_up_and_rolls_back() {
    if !docker_available() {
        return;
    }
    let lab = Lab::from_topology("interop.yaml", "e2e-deadline");
    let text = std::fs::read_to_string(&lab.topology)
        .unwrap()
        .replace("10.202.1.", "10.216.1.");
    std::fs::write(&lab.topology, text).unwrap();
    // No lab comes up, let alone passes its checks, in 300 ms.
    let out = lab.metallab(&["up", lab.topology_arg(), "--timeout", "300ms"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("up did not finish within --timeout 300ms"),
        "{stderr}"
    );
    // It names what it was waiting for: a router still starting, or the wait that ran out.
    assert!(
        stderr.contains("router") || stderr.contains(": "),
        "{stderr}"
    );
    assert!(stderr.contains("rollback"), "says it rolled back: {stderr}");
    assert_eq!(lab.leftovers(), (vec![], vec![]), "nothing is left behind");
}
