//! `metallab fault` on a running interop lab (FRR, BIRD and GoBGP in a full mesh): a link
//! down, an isolated router and a stopped one each fail exactly the checks that name the
//! router or its prefix, and `clear` brings every check back.

use crate::harness::{Lab, docker_available, mentioning, wait_session_down};

/// The interop lab on its own addresses (other tests run it at the same time).
fn interop(name: &str) -> Lab {
    let lab = Lab::from_topology("interop.yaml", name);
    let text = std::fs::read_to_string(&lab.topology).unwrap();
    std::fs::write(&lab.topology, text.replace("10.202.1.", "10.219.1.")).unwrap();
    lab
}

fn fault(lab: &Lab, args: &[&str]) {
    let mut all = vec!["fault", lab.name.as_str()];
    all.extend(args);
    let out = lab.metallab(&all);
    assert_eq!(out.status.code(), Some(0), "metallab fault {args:?}");
}

#[test]
fn each_fault_fails_exactly_the_checks_of_its_router_and_clear_restores_them() {
    if !docker_available() {
        return;
    }
    let lab = interop("e2e-interop-faults");
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed");
    let (code, failed, all) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    // (fault, the router it hits, that router's address and prefix)
    let cases: [(&[&str], &str, &str, &str); 3] = [
        (
            &["link", "frr2", "lan", "down"],
            "frr2",
            "10.219.1.15",
            "203.0.113.0/24",
        ),
        (
            &["isolate", "bird1"],
            "bird1",
            "10.219.1.12",
            "192.0.2.64/26",
        ),
        (
            &["stop", "gobgp1"],
            "gobgp1",
            "10.219.1.13",
            "192.0.2.128/26",
        ),
    ];
    for (args, router, address, prefix) in cases {
        fault(&lab, args);
        // No BFD in interop: each peer notices at its session's hold time (9 s) at most.
        let routers = ["frr1", "bird1", "gobgp1", "bird2", "frr2"];
        for peer in routers.iter().filter(|r| **r != router) {
            wait_session_down(&lab, peer, address);
        }
        let (code, failed, passed) = lab.check("10s");
        assert_eq!(code, 1, "{args:?}");
        assert_eq!(failed, mentioning(&all, &[router, prefix]), "{args:?}");
        assert_eq!(passed.len(), all.len() - failed.len());
        fault(&lab, &["clear"]);
        let (code, failed, _) = lab.check("60s");
        assert_eq!(
            (code, failed.as_slice()),
            (0, &[][..]),
            "after clearing {args:?}"
        );
    }
    lab.down_leaves_nothing(&lab.name);
}
