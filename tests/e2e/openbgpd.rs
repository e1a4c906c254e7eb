//! OpenBGPD, the kind added last, against FRR (with MD5), BIRD, GoBGP and itself: every
//! session forms, routes carry their originators as next hops, a stub sends only its own
//! prefix, and the MD5 key is really in use (a wrong key on FRR's side keeps the session
//! down).

use crate::harness::{
    Lab, docker, docker_available, frr_bgp_configure, mentioning, wait_session_down,
};

const FRR1: &str = "10.202.3.11";
const OBGPD1: &str = "10.202.3.10";

fn frr1_password(lab: &Lab, password: &str) {
    frr_bgp_configure(
        lab,
        "frr1",
        64501,
        &[&format!("neighbor {OBGPD1} password {password}")],
    );
}

#[test]
fn openbgpd_peers_with_every_kind_and_its_md5_key_is_checked() {
    if !docker_available() {
        return;
    }
    let lab = Lab::from_topology("tests/e2e/topologies/openbgpd.yaml", "e2e-openbgpd");
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed: {up:?}");
    let (code, failed, all_passed) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    assert_eq!(all_passed.len(), 20, "{all_passed:?}");

    // Its own CLI agrees: bgpctl lists the four sessions Established.
    let out = lab.metallab(&["exec", "obgpd1", "--lab", &lab.name, "--", "bgpctl", "show"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let sessions: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(sessions.len(), 4, "{text}");
    // An Established session shows its prefix count where others show their state.
    assert!(
        sessions.iter().all(|l| l
            .split_whitespace()
            .last()
            .is_some_and(|w| w.parse::<u32>().is_ok())),
        "{text}"
    );

    // A wrong key on FRR's side: the session goes down and stays down; only the checks of
    // that session and of what it carried fail (traffic on the LAN still flows).
    frr1_password(&lab, "not-the-lab-secret");
    docker(&[
        "exec",
        &lab.container("frr1"),
        "vtysh",
        "-c",
        &format!("clear bgp {OBGPD1}"),
    ]);
    wait_session_down(&lab, "obgpd1", FRR1);
    let (code, failed, _) = lab.check("5s");
    assert_eq!(code, 1);
    let expected = [
        "frr1 kernel route 203.0.113.0/24 via obgpd1",
        "frr1 route 203.0.113.0/24 via obgpd1",
        "frr1 session to obgpd1 established",
        "obgpd1 route 192.0.2.0/26 via frr1",
        "obgpd1 session to frr1 established",
    ];
    assert_eq!(failed, expected);

    // The right key again: everything passes.
    frr1_password(&lab, "lab-secret");
    let (code, failed, _) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    // Stopping OpenBGPD fails exactly the checks that name it.
    docker(&["stop", "-t", "1", &lab.container("obgpd1")]);
    let (code, failed, _) = lab.check("15s");
    assert_eq!(code, 1);
    assert_eq!(
        failed,
        mentioning(&all_passed, &["obgpd1", "203.0.113.0/24"])
    );
}
