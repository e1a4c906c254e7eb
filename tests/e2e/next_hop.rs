//! `next-hop`: two networks joined by a forwarding Linux host, multihop eBGP with BFD
//! between FRR and BIRD, HTTP from a client to a server through the routed path.

use crate::harness::{Lab, docker, docker_available, wait_session_down};

#[test]
fn next_hop_lab_routes_traffic_and_bfd_follows_the_link() {
    if !docker_available() {
        return;
    }
    let lab = Lab::from_topology("next-hop.yaml", "e2e-next-hop");
    let up = lab.metallab(&[
        "up",
        lab.topology_arg(),
        "--junit",
        lab.topology.with_extension("xml").to_str().unwrap(),
    ]);
    assert_eq!(
        up.status.code(),
        Some(0),
        "metallab up (with its checks) failed"
    );
    let (code, failed, all) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    assert_eq!(all.len(), 10);

    // Cut the next hop's right leg: BFD notices within a second, the session and its
    // routes go, and traffic stops. Every check depends on that path.
    docker(&[
        "network",
        "disconnect",
        &lab.network("right"),
        &lab.container("gw"),
    ]);
    wait_session_down(&lab, "frr1", "10.203.2.11");
    wait_session_down(&lab, "bird1", "10.203.1.11");
    let (code, failed, passed) = lab.check("6s");
    assert_eq!(code, 1);
    assert_eq!(
        passed,
        Vec::<String>::new(),
        "nothing can pass without the routed path"
    );
    assert_eq!(failed, all);

    // Reconnect with the same address: BFD, BGP, routes and traffic come back.
    docker(&[
        "network",
        "connect",
        "--ip",
        "10.203.2.2",
        &lab.network("right"),
        &lab.container("gw"),
    ]);
    let (code, failed, _) = lab.check("90s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));

    // Stop the server: only the traffic checks fail; BGP and BFD are untouched.
    docker(&["stop", "-t", "1", &lab.container("server")]);
    let (code, failed, _) = lab.check("5s");
    assert_eq!(code, 1);
    let mut traffic: Vec<String> = all
        .iter()
        .filter(|n| n.starts_with("client"))
        .cloned()
        .collect();
    traffic.sort();
    assert_eq!(failed, traffic);
    assert_eq!(traffic.len(), 2);

    // Down by topology file: nothing of the lab remains.
    lab.down_leaves_nothing(lab.topology_arg());
}
