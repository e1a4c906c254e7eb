//! `interop`: FRR, BIRD and GoBGP over eBGP and iBGP. Bring it up, prove every check
//! passes, then break one thing at a time and see exactly the checks that depend on it fail.

use crate::harness::{
    Lab, docker, docker_available, frr_bgp_configure, mentioning, wait_route_gone,
    wait_session_down,
};

/// Changes frr2's announcements through its own CLI, as a user would.
fn frr2_network_statement(lab: &Lab, statement: &str) {
    frr_bgp_configure(
        lab,
        "frr2",
        64502,
        &["address-family ipv4 unicast", statement],
    );
}

#[test]
fn interop_lab_passes_then_fails_exactly_where_broken() {
    if !docker_available() {
        return;
    }
    let lab = Lab::from_topology("interop.yaml", "e2e-interop");

    // Up: every check passes.
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed");
    let (code, failed, all_passed) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    assert_eq!(all_passed.len(), 48, "interop has 48 checks");

    // `up` again on the running lab is safe and changes nothing.
    let again = lab.metallab(&["up", lab.topology_arg(), "--no-check"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already up"));

    // 1. Stop GoBGP: every check naming gobgp1 fails, all others still pass.
    docker(&["stop", "-t", "1", &lab.container("gobgp1")]);
    for peer in ["frr1", "bird1", "bird2", "frr2"] {
        wait_session_down(&lab, peer, "10.202.1.13");
    }
    let (code, failed, passed) = lab.check("8s");
    assert_eq!(code, 1);
    assert_eq!(failed, mentioning(&all_passed, &["gobgp1"]));
    assert_eq!(passed.len(), 48 - failed.len());

    // `up` reconciles: the stopped router is started and configured again.
    let up = lab.metallab(&["up", lab.topology_arg(), "--no-check"]);
    assert_eq!(up.status.code(), Some(0));
    let (code, failed, _) = lab.check("90s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    // 2. Withdraw frr2's prefix: exactly the checks of 203.0.113.0/24 elsewhere fail.
    frr2_network_statement(&lab, "no network 203.0.113.0/24");
    wait_route_gone(&lab, "frr1", "203.0.113.0/24");
    let (code, failed, _) = lab.check("5s");
    assert_eq!(code, 1);
    assert_eq!(failed, mentioning(&all_passed, &["203.0.113.0/24"]));
    assert_eq!(failed.len(), 5, "4 BGP tables + bird1's kernel: {failed:?}");
    frr2_network_statement(&lab, "network 203.0.113.0/24");
    let (code, failed, _) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    // 3. Kill frr2's BGP daemon (and watchfrr first, which would restart it): with no
    // graceful restart anywhere, every check of frr2 or its prefix fails at once, also
    // on the routers that learned 203.0.113.0/24 from it (no stale routes kept).
    for daemon in ["watchfrr", "bgpd"] {
        docker(&["exec", &lab.container("frr2"), "pkill", "-9", "-x", daemon]);
    }
    let (code, failed, passed) = lab.check("15s");
    assert_eq!(code, 1);
    assert_eq!(failed, mentioning(&all_passed, &["frr2", "203.0.113.0/24"]));
    assert_eq!(passed.len(), 48 - failed.len());
    // `up` sees that frr2's container runs but its daemon does not answer, and restarts
    // it with its config.
    let up = lab.metallab(&["up", lab.topology_arg(), "--no-check"]);
    assert_eq!(up.status.code(), Some(0));
    let said = String::from_utf8_lossy(&up.stderr);
    assert!(said.contains("restarted frr2"), "{said}");
    let (code, failed, _) = lab.check("90s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    // 4. Disconnect bird1's link: everything involving bird1 fails, nothing else.
    docker(&[
        "network",
        "disconnect",
        &lab.network("lan"),
        &lab.container("bird1"),
    ]);
    for peer in ["frr1", "gobgp1", "bird2", "frr2"] {
        wait_session_down(&lab, peer, "10.202.1.12");
    }
    let (code, failed, _) = lab.check("8s");
    assert_eq!(code, 1);
    assert_eq!(failed, mentioning(&all_passed, &["bird1", "192.0.2.64/26"]));
    // `status` names the cut link itself, not only the sessions it took down.
    let status = lab.metallab(&["status", &lab.name]);
    assert_eq!(status.status.code(), Some(1));
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(said.contains("not attached to network lan"), "{said}");

    // JUnit output for CI.
    let junit = lab.topology.with_extension("xml");
    let out = lab.metallab(&[
        "check",
        &lab.name,
        "--timeout",
        "2s",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(
        xml.contains("<testsuite") && xml.contains("<failure"),
        "{xml}"
    );

    // `up` reconnects bird1's cut link with its planned address, and every check passes
    // again.
    let up = lab.metallab(&["up", lab.topology_arg(), "--no-check"]);
    assert_eq!(up.status.code(), Some(0));
    let said = String::from_utf8_lossy(&up.stderr);
    assert!(said.contains("reconnected bird1 to lan"), "{said}");
    let (code, failed, _) = lab.check("90s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    // Down by lab name: nothing of the lab remains.
    lab.down_leaves_nothing(&lab.name);
}
