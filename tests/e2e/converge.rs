//! `metallab converge` on the built-in next-hop lab (FRR and BIRD across a Linux next hop,
//! multihop eBGP with BFD at 300 ms × 3): the next hop's right leg goes down, BFD notices
//! within a second, the sessions and routes follow, and once the fault is cleared every
//! check passes again; Ctrl-C during a converge clears the fault it put in.

use crate::harness::{BIN, Lab, docker_available};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn next_hop(name: &str) -> Lab {
    let lab = Lab::from_topology("next-hop.yaml", name);
    // Its own subnets: the next-hop test runs the same topology at the same time.
    let text = std::fs::read_to_string(&lab.topology)
        .unwrap()
        .replace("10.203.", "10.218.");
    std::fs::write(&lab.topology, text).unwrap();
    lab
}

fn seconds(check: &serde_json::Value, field: &str) -> Option<f64> {
    check[field].as_f64()
}

#[test]
fn converge_times_bfd_and_routes_after_a_link_cut_and_every_check_back_after_the_clear() {
    if !docker_available() {
        return;
    }
    let lab = next_hop("e2e-converge");
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed: {up:?}");
    let (code, failed, all) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    let out = lab.metallab(&[
        "converge", &lab.name, "--heal", "-o", "json", "--", "link", "gw", "right", "down",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "converge did not converge: {out:?}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["lab"], lab.name.as_str());
    assert_eq!(report["fault"], "link gw right down");
    assert_eq!(report["fault_id"], 1);
    assert_eq!(report["healed"], true);
    assert_eq!(report["converged"], true);
    let checks = report["checks"].as_array().expect("checks");
    let names: Vec<&str> = checks
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), all.len());
    // Every check depends on the routed path: each passed before, noticed the cut, and
    // passes again.
    for check in checks {
        assert_eq!(check["baseline"], "passed", "{check}");
        assert!(
            seconds(check, "detected_seconds").is_some(),
            "never changed: {check}"
        );
        assert_eq!(check["state"], "passed", "{check}");
        assert!(seconds(check, "recovered_seconds").is_some(), "{check}");
    }
    assert_eq!(report["detected"], all.len());
    let recovered = report["recovered_seconds"].as_f64().expect("recovered");
    let of_kind = |kind: &str| -> Vec<&serde_json::Value> {
        checks.iter().filter(|c| c["kind"] == kind).collect()
    };
    // BFD at 300 ms × 3: down within 0.9 s of the last packet, on both sides.
    let bfd = of_kind("bfd");
    assert_eq!(bfd.len(), 2);
    for check in bfd {
        let detected = seconds(check, "detected_seconds").unwrap();
        assert!(detected <= 1.0, "BFD noticed after {detected}s: {check}");
    }
    // The routes go with the sessions BFD takes down (every check changed, above). Their
    // times add the daemon's own chain (session reset, table walk) and a reading of a BGP
    // table, which FRR's vtysh can take 0.1–0.2 s for on a busy machine: no bound of their
    // own is asserted.
    assert_eq!(of_kind("route").len(), 2);
    // Back when the last check was.
    let last_back = checks
        .iter()
        .filter_map(|c| seconds(c, "recovered_seconds"))
        .fold(0.0, f64::max);
    assert_eq!(recovered, last_back);
    let list = lab.metallab(&["fault", &lab.name, "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("no faults"));
    let (code, failed, _) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    // Ctrl-C while converge waits for the lab to settle: the fault it put in is cleared.
    let mut converge = Command::new(BIN)
        .args([
            "--progress",
            "never",
            "converge",
            &lab.name,
            "--settle",
            "60s",
        ])
        .args(["--", "link", "gw", "right", "down"])
        .env("METALLAB_STATE_DIR", lab.state_dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run metallab converge");
    let mut stderr = BufReader::new(converge.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("fault 1  link gw right down") {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let _ = converge.kill();
            panic!("converge ended before putting the fault in:\n{said}");
        }
        said.push_str(&line);
    }
    Command::new("kill")
        .args(["-INT", &converge.id().to_string()])
        .status()
        .unwrap();
    // Bounded: a converge that ignores Ctrl-C must fail this test, not hang the suite.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = converge.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = converge.kill();
            panic!("converge did not end within 30 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{said}{rest}");
    assert!(
        rest.contains("interrupted; fault 1 cleared"),
        "{said}{rest}"
    );
    let list = lab.metallab(&["fault", &lab.name, "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("no faults"));
    // Nothing of converge's is left running in the routers.
    for router in ["frr1", "bird1"] {
        let ps = lab.metallab(&[
            "exec", router, "--lab", &lab.name, "--", "ps", "-eo", "args",
        ]);
        assert!(
            !String::from_utf8_lossy(&ps.stdout).contains("metallab-sample"),
            "{router}: {ps:?}"
        );
    }
    let (code, failed, _) = lab.check("90s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
}
