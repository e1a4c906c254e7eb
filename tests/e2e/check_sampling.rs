//! `check` reads routers in containers through samplers inside them (one `sh` loop per
//! part of a router's state, a reading every tenth of a second) instead of one `docker
//! exec` per reading. The loops end with the `check` that started them, even a killed
//! one (their stdin closes), and a router that cannot be read still fails its checks with
//! Docker's reason.

use crate::harness::{Lab, docker, docker_available};
use std::time::{Duration, Instant};

/// The pair lab on 10.202.9.0/24, under `name`.
fn pair(name: &str) -> Lab {
    let lab = Lab::from_topology("tests/e2e/topologies/pair.yaml", name);
    let text = std::fs::read_to_string(&lab.topology)
        .unwrap()
        .replace("10.202.4.", "10.202.9.");
    std::fs::write(&lab.topology, text).unwrap();
    lab
}

/// The sampler loops running in the router's container, one line each (their command
/// line carries the marker they print; the subshell each forks to watch its stdin has the
/// same one).
pub(crate) fn samplers_in(lab: &Lab, router: &str) -> Vec<String> {
    let ps = docker(&["exec", &lab.container(router), "ps", "-eo", "args"]);
    assert!(ps.status.success(), "{ps:?}");
    let mut loops: Vec<String> = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.starts_with("sh -c") && l.contains("@@metallab-sample"))
        .map(str::to_string)
        .collect();
    loops.sort();
    loops.dedup();
    loops
}

/// A `metallab` running in the background, killed when the test ends however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to `within` for the lab's routers frr1 and bird1 to run no sampler; what still
/// runs.
pub(crate) fn samplers_left_after(lab: &Lab, within: Duration) -> Vec<String> {
    let until = Instant::now() + within;
    loop {
        let left: Vec<String> = ["frr1", "bird1"]
            .iter()
            .flat_map(|r| samplers_in(lab, r))
            .collect();
        if left.is_empty() || Instant::now() > until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn checks_are_read_by_samplers_that_end_with_the_check() {
    if !docker_available() {
        return;
    }
    let lab = pair("e2e-sampling");
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed: {up:?}");
    let (code, failed, all) = lab.check("60s");
    assert_eq!((code, failed.as_slice(), all.len()), (0, &[][..], 2));
    // `check` has returned: the loops it started are gone with it.
    assert_eq!(samplers_left_after(&lab, Duration::from_secs(5)), [""; 0]);

    // A check that cannot pass keeps its sampler reading; a `check` killed outright
    // (no chance to clean up) still takes its loops with it.
    let edited = std::fs::read_to_string(&lab.topology)
        .unwrap()
        .replace("route: 192.0.2.64/26,", "route: 198.51.100.0/24,");
    let never = lab.state_dir.path().join("never.yaml");
    std::fs::write(&never, edited).unwrap();
    let mut checking =
        Running(lab.spawn_metallab(&["check", never.to_str().unwrap(), "--timeout", "60s"]));
    // The session check passes at once and its sampler, read no more, ends; the route
    // check's reads on.
    let until = Instant::now() + Duration::from_secs(20);
    let reading = loop {
        let reading = samplers_in(&lab, "frr1");
        if reading.len() == 1 && reading[0].contains("-routes.err") {
            break reading;
        }
        assert!(Instant::now() < until, "frr1's samplers: {reading:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(samplers_in(&lab, "frr1"), reading);
    checking.0.kill().unwrap();
    checking.0.wait().unwrap();
    assert_eq!(samplers_left_after(&lab, Duration::from_secs(5)), [""; 0]);

    // A paused router answers no reading: its checks fail with what Docker says.
    let paused = docker(&["pause", &lab.container("frr1")]);
    assert!(paused.status.success(), "{paused:?}");
    let (code, results) = lab.check_results("8s");
    let unpaused = docker(&["unpause", &lab.container("frr1")]);
    assert!(unpaused.status.success(), "{unpaused:?}");
    assert_eq!(code, 1);
    for r in &results {
        assert_eq!(r["status"], "failed", "{r}");
        let reason = r["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("could not read router frr1:") && reason.contains("paused"),
            "{reason}"
        );
    }
    let (code, failed, _) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    lab.down_leaves_nothing(&lab.name);
}
