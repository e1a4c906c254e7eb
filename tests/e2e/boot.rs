//! Routers boot by themselves: the container's own command writes the router's files and
//! runs its boot script, so a router that Docker alone starts again (`docker restart`,
//! with metallab not involved) comes back with its routes, daemons and announcements,
//! and every boot's progress is in `docker logs`. A start command that fails stops `up`
//! with the command, its exit code and what it said, and nothing is left behind.

use crate::harness::{Lab, docker, docker_available};

/// The pair lab with a GoBGP router added (it announces through its API at boot), at
/// `prefix` (`10.202.7.`, `10.202.8.`: the tests run at once), under `name`; `bird1_exec`
/// added as bird1's `exec:`.
fn lab(name: &str, prefix: &str, bird1_exec: Option<&str>) -> Lab {
    let lab = Lab::from_topology("tests/e2e/topologies/pair.yaml", name);
    let mut text = std::fs::read_to_string(&lab.topology)
        .unwrap()
        .replace(
            "    neighbors: [{ to: bird1 }]\n",
            "    neighbors: [{ to: bird1 }, { to: gobgp1 }]\n",
        )
        .replace(
            "checks:\n",
            "  gobgp1:\n    kind: gobgp\n    asn: 64503\n    interfaces: { lan: { ip: 10.202.4.13 } }\n    announce: [192.0.2.128/26]\nchecks:\n  - { router: frr1, route: 192.0.2.128/26, nexthops: gobgp1 }\n",
        );
    text = text.replace("10.202.4.", prefix);
    if let Some(exec) = bird1_exec {
        text = text.replace(
            "    announce: [192.0.2.64/26]\n",
            &format!("    announce: [192.0.2.64/26]\n    exec: [\"{exec}\"]\n"),
        );
    }
    std::fs::write(&lab.topology, text).unwrap();
    lab
}

#[test]
fn a_router_restarted_by_docker_alone_comes_back_configured() {
    if !docker_available() {
        return;
    }
    let lab = lab("e2e-boot", "10.202.7.", None);
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed: {up:?}");
    let (code, failed, all) = lab.check("60s");
    assert_eq!((code, failed.as_slice(), all.len()), (0, &[][..], 3));

    for router in ["frr1", "bird1", "gobgp1"] {
        let restarted = docker(&["restart", "-t", "1", &lab.container(router)]);
        assert!(restarted.status.success(), "{restarted:?}");
    }
    // No `metallab up`: the routers configured themselves again.
    let (code, failed, _) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    let logs = docker(&["logs", &lab.container("gobgp1")]);
    let said = String::from_utf8_lossy(&logs.stdout).to_string();
    assert_eq!(
        said.lines()
            .filter(|l| *l == "@@metallab-boot ready")
            .count(),
        2,
        "two boots, each to the end: {said}"
    );
    assert!(said.contains("@@metallab-boot run 1"), "{said}");
    lab.down_leaves_nothing(&lab.name);
}

#[test]
fn a_failing_start_command_stops_up_with_its_words_and_leaves_nothing() {
    if !docker_available() {
        return;
    }
    let lab = lab(
        "e2e-boot-fail",
        "10.202.8.",
        Some("echo no such service >&2; exit 3"),
    );
    let up = lab.metallab(&["up", lab.topology_arg()]);
    // A daemon that did not start is a setup error.
    assert_eq!(up.status.code(), Some(2), "{up:?}");
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert!(
        stderr
            .contains("bird1: `sh -c echo no such service >&2; exit 3` exited 3: no such service"),
        "{stderr}"
    );
    // Rolled back: no container, network or state of the lab.
    let (containers, networks) = lab.leftovers();
    assert_eq!(
        (containers.len(), networks.len()),
        (0, 0),
        "{containers:?} {networks:?}"
    );
}
