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
    let (code, results) = lab.check_results("6s");
    assert_eq!(code, 1);
    let mut failed: Vec<String> = results
        .iter()
        .filter(|r| r["status"] != "passed")
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    failed.sort();
    assert_eq!(failed, all, "nothing can pass without the routed path");
    // A failed kernel-route check carries the daemon's own view of the prefix, from
    // the daemon itself: FRR's zebra and BGP entries and its log, BIRD's kernel protocol.
    let evidence = |router: &str| -> String {
        let check = results
            .iter()
            .find(|r| r["kind"] == "kernel-route" && r["subject"] == router)
            .unwrap_or_else(|| panic!("no kernel-route check on {router}: {results:?}"));
        check["evidence"].as_str().unwrap_or_default().to_string()
    };
    let frr = evidence("frr1");
    assert!(
        frr.contains("frr1's own view of 198.51.100.0/24:\n$ vtysh -c 'show ip route 198.51.100.0/24' -c 'show ip nht'"),
        "{frr}"
    );
    // bgpd lost the path with the session, and says so in its own words.
    assert!(frr.contains("% Network not in table"), "{frr}");
    assert!(frr.contains("$ tail -n 20 /var/log/frr/frr.log"), "{frr}");
    let bird = evidence("bird1");
    assert!(
        bird.contains("$ birdc show protocols all kernel1\n"),
        "{bird}"
    );
    assert!(bird.contains("kernel1    Kernel"), "{bird}");

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

    // Down by topology file, even one broken since `up` (a typo, an app file that is
    // gone): its `name:` names the lab, and nothing of the lab remains.
    let broken = std::fs::read_to_string(&lab.topology)
        .unwrap()
        .replace("kind: frr", "kind: fr")
        + "apps: [gone.yaml]\n";
    std::fs::write(&lab.topology, broken).unwrap();
    lab.down_leaves_nothing(lab.topology_arg());
}
