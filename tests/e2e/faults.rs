//! `metallab fault` on a running FRR–BIRD lab: each fault fails exactly the checks that
//! depend on it, is listed while active, shows in `status`, and `clear` (or `start`)
//! brings every check back; a fault on something the lab lacks is refused. A killed
//! daemon leaves its container running, and `clear` starts it again.

use crate::harness::{Lab, docker_available, wait_session_down};

const FRR1: &str = "10.202.5.11";
const BIRD1: &str = "10.202.5.12";
/// frr1 in the kill test's lab.
const FRR1_KILL: &str = "10.202.6.11";

/// The pair lab under `name`, its `10.202.4.` addresses moved to `prefix` (other tests run
/// the same topology at the same time), with `more_checks` added to its checks.
fn pair(name: &str, prefix: &str, more_checks: &[&str]) -> Lab {
    let lab = Lab::from_topology("tests/e2e/topologies/pair.yaml", name);
    let mut text = std::fs::read_to_string(&lab.topology)
        .unwrap()
        .replace("10.202.4.", prefix);
    for check in more_checks {
        text.push_str(&format!("  - {check}\n"));
    }
    std::fs::write(&lab.topology, text).unwrap();
    lab
}

fn fault(lab: &Lab, args: &[&str]) -> std::process::Output {
    let mut all = vec!["fault", lab.name.as_str()];
    all.extend(args);
    lab.metallab(&all)
}

#[test]
fn faults_fail_exactly_their_checks_and_clear_restores_them() {
    if !docker_available() {
        return;
    }
    let lab = pair("e2e-faults", "10.202.5.", &[]);
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed: {up:?}");
    let (code, _, all) = lab.check("60s");
    assert_eq!(code, 0);

    // `check --watch` reports every check once, then each change as it happens.
    let mut watch = lab.spawn_metallab(&["check", &lab.name, "--watch", "-o", "json"]);
    let (lines, seen) = std::sync::mpsc::channel::<serde_json::Value>();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
            if lines.send(value).is_err() {
                return;
            }
        }
    });
    let next = || {
        seen.recv_timeout(std::time::Duration::from_secs(30))
            .expect("a transition from check --watch")
    };
    for _ in &all {
        assert_eq!(next()["state"], "passed");
    }
    // It reads the routers through samplers inside them, not an exec per round.
    assert!(!crate::check_sampling::samplers_in(&lab, "frr1").is_empty());

    // Link down inside frr1: its session and the route it carried go; the address stays.
    let out = fault(&lab, &["link", "frr1", "lan", "down"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let change = next();
    assert_eq!(change["state"], "failed", "{change}");
    assert!(change["at"].as_str().unwrap().ends_with('Z'), "{change}");
    std::process::Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status()
        .unwrap();
    // Bounded: a watch that ignores Ctrl-C must fail this test, not hang the suite.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = watch.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = watch.kill();
            panic!("check --watch did not end within 10 s of Ctrl-C");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0), "Ctrl-C ends a watch");
    // The watch read the routers through samplers; none outlives it.
    assert_eq!(
        crate::check_sampling::samplers_left_after(&lab, std::time::Duration::from_secs(5)),
        Vec::<String>::new()
    );
    let list = fault(&lab, &["list", "-o", "json"]);
    let active: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(active[0]["id"], 1);
    assert_eq!(active[0]["fault"], "link-down");
    let addr = lab.metallab(&["exec", "frr1", "--lab", &lab.name, "--", "ip", "-4", "addr"]);
    assert!(String::from_utf8_lossy(&addr.stdout).contains(FRR1));
    wait_session_down(&lab, "frr1", BIRD1);
    let (code, failed, _) = lab.check("5s");
    assert_eq!((code, &failed), (1, &all));
    let status = lab.metallab(&["status", &lab.name]);
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("fault 1: link frr1 lan down"),
        "{status:?}"
    );

    // Cleared: the link, Docker's default route with it, and every check come back.
    let out = fault(&lab, &["clear"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (code, failed, _) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    let routes = lab.metallab(&["exec", "frr1", "--lab", &lab.name, "--", "ip", "route"]);
    assert!(String::from_utf8_lossy(&routes.stdout).contains("default via"));
    let list = fault(&lab, &["list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("no faults"));

    // Delay: pings from bird1 to frr1 take at least the added 100 ms. A kernel without
    // the netem qdisc (this project's CI VM has none) gets a clear refusal, and no fault
    // is recorded.
    let out = fault(&lab, &["netem", "frr1:lan", "--delay", "100ms"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    if said.contains("this host's kernel has no netem qdisc") {
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let list = fault(&lab, &["list"]);
        assert!(String::from_utf8_lossy(&list.stdout).contains("no faults"));
    } else {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let ping = lab.metallab(&[
            "exec", "bird1", "--lab", &lab.name, "--", "ping", "-c", "2", "-q", FRR1,
        ]);
        let text = String::from_utf8_lossy(&ping.stdout).to_string();
        let min_ms: f64 = text
            .split("= ")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("ping summary: {text}"));
        assert!(min_ms >= 100.0, "{text}");
        assert_eq!(fault(&lab, &["clear", "1"]).status.code(), Some(0));
    }

    // Stop and start: the stopped router's checks fail, `start` configures it again.
    assert_eq!(fault(&lab, &["stop", "bird1"]).status.code(), Some(0));
    let (code, failed, _) = lab.check("3s");
    assert_eq!((code, &failed), (1, &all));
    assert_eq!(fault(&lab, &["start", "bird1"]).status.code(), Some(0));
    let (code, failed, _) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    // Nothing that does not exist: the error names what does.
    let out = fault(&lab, &["link", "frr1", "wan", "down"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("frr1 has no interface on `wan` (its networks: lan)"),
        "{out:?}"
    );
    let out = fault(&lab, &["isolate", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no router `nope`"));
}

#[test]
fn kill_fails_the_checks_on_the_dead_daemon_only_and_clear_starts_it_again() {
    if !docker_available() {
        return;
    }
    // frr1's bgpd carries the sessions and the route; a ping over the LAN needs no daemon.
    let lab = pair(
        "e2e-kill",
        "10.202.6.",
        &[
            "{ router: bird1, session: frr1 }",
            "{ from: bird1, ping: frr1 }",
        ],
    );
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed: {up:?}");
    let (code, failed, all) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    assert_eq!(all.len(), 4);

    let out = fault(&lab, &["kill", "frr1"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let list = fault(&lab, &["list", "-o", "json"]);
    let active: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(active[0]["fault"], "kill");
    assert_eq!(active[0]["daemon"], "bgpd", "FRR's BGP daemon by default");
    // The container runs on, and so do FRR's other daemons; bgpd stays dead (watchfrr,
    // which would start it again, died first).
    let running = crate::harness::docker(&[
        "inspect",
        "-f",
        "{{.State.Running}}",
        &lab.container("frr1"),
    ]);
    assert_eq!(String::from_utf8_lossy(&running.stdout).trim(), "true");
    let status = lab.metallab(&["status", &lab.name]);
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("fault 1: kill frr1 bgpd"),
        "{status:?}"
    );
    wait_session_down(&lab, "bird1", FRR1_KILL);
    // Longer than watchfrr takes to start a dead daemon again (about 5 s).
    std::thread::sleep(std::time::Duration::from_secs(6));
    let ps = lab.metallab(&[
        "exec", "frr1", "--lab", &lab.name, "--", "ps", "-eo", "comm",
    ]);
    let processes = String::from_utf8_lossy(&ps.stdout).to_string();
    assert!(!processes.lines().any(|p| p == "bgpd"), "{processes}");
    assert!(processes.lines().any(|p| p == "zebra"), "{processes}");
    let (code, failed, _) = lab.check("5s");
    assert_eq!(code, 1);
    assert_eq!(
        failed,
        [
            "bird1 session to frr1 established",
            "frr1 route 192.0.2.64/26 via bird1",
            "frr1 session to bird1 established"
        ]
    );

    // A daemon the router does not run, or a router without daemons: refused, naming them.
    let out = fault(&lab, &["kill", "frr1", "ospfd"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "frr1 (frr) runs no daemon `ospfd` (its daemons: bgpd, zebra, bfdd, staticd)"
        ),
        "{out:?}"
    );

    // Cleared: bgpd runs again with its config, and every check passes.
    let out = fault(&lab, &["clear"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (code, failed, _) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    let list = fault(&lab, &["list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("no faults"));
}
