//! Bad input: a pointed error, exit code 2, and nothing created.

use crate::harness::{Lab, docker_available};

#[test]
fn malformed_topology_reports_every_error_and_creates_nothing() {
    if !docker_available() {
        return;
    }
    let lab = Lab::from_topology("interop.yaml", "e2e-bad");
    let broken = std::fs::read_to_string(&lab.topology)
        .unwrap()
        .replace(
            "subnet: 10.202.1.0/24",
            "subnet: 10.202.1.0/24, colour: blue",
        )
        .replace("ip: 10.202.1.12", "ip: 10.99.1.12")
        .replace(
            "{ to: gobgp1 }, { to: bird2 }, { to: frr2 }]\n  gobgp1",
            "{ to: gobgp9 }, { to: bird2 }, { to: frr2 }]\n  gobgp1",
        );
    std::fs::write(&lab.topology, broken).unwrap();
    let out = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Every error of the file in one run: the unknown key (at its line), the address
    // outside its network and the unknown neighbor.
    assert!(stderr.contains("unknown key `colour`"), "{stderr}");
    assert!(
        stderr.contains("interop.yaml:8:"),
        "points at the line: {stderr}"
    );
    assert!(
        stderr.contains("10.99.1.12"),
        "IP outside its network: {stderr}"
    );
    assert!(stderr.contains("gobgp9"), "unknown neighbor: {stderr}");
    // … and the two checks of the session the neighbor no longer declares.
    assert!(stderr.contains("5 errors"), "{stderr}");
    assert_eq!(
        lab.leftovers(),
        (vec![], vec![]),
        "a bad file creates nothing"
    );
}

#[test]
fn down_of_an_unknown_lab_is_a_no_op_and_status_json_is_valid() {
    if !docker_available() {
        return;
    }
    let lab = Lab::from_topology("interop.yaml", "e2e-nothing");
    let out = lab.metallab(&["down", "--name", &lab.name]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing left to remove"));
    // Every running lab on this engine: another one may have problems (exit 1).
    let out = lab.metallab(&["status", "-o", "json"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(v.is_array());
}
