//! `metallab capture` on a running lab: a pcap of the BGP session from inside a router,
//! read back and holding KEEPALIVEs; tcpdump's lines; a bad filter refused with
//! tcpdump's own words; and the same session seen on the network's bridge from the host.

use crate::harness::{Lab, docker_available};
use pcap_file::pcap::PcapReader;

/// BGP messages of type `kind` (4: KEEPALIVE) in the TCP payloads of a pcap's packets:
/// each message starts with 16 bytes of 0xff, then its length and type.
fn bgp_messages(pcap: &[u8], kind: u8) -> usize {
    let mut reader = PcapReader::new(pcap).expect("a pcap");
    let mut found = 0;
    while let Some(packet) = reader.next_packet() {
        let data = packet.expect("a packet").data;
        found += data
            .windows(19)
            .filter(|w| w[..16].iter().all(|b| *b == 0xff) && w[18] == kind)
            .count();
    }
    found
}

#[test]
fn capture_writes_a_pcap_of_the_bgp_session_and_lines_and_refuses_a_bad_filter() {
    if !docker_available() {
        return;
    }
    let lab = Lab::from_topology("tests/e2e/topologies/pair.yaml", "e2e-capture");
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed: {up:?}");

    // A file: keepalives come every 3 s (hold time 9), so 7 s hold at least two.
    let file = lab.topology.with_file_name("bgp.pcap");
    let out = lab.metallab(&[
        "capture",
        &lab.name,
        "frr1:lan",
        "--filter",
        "tcp port 179",
        "--duration",
        "7s",
        "-w",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let pcap = std::fs::read(&file).unwrap();
    assert!(bgp_messages(&pcap, 4) >= 2, "no KEEPALIVE in the capture");

    // Stdout, stopped by a count: as `| wireshark -k -i -` reads it.
    let out = lab.metallab(&[
        "capture",
        &lab.name,
        "bird1",
        "--filter",
        "tcp port 179",
        "-c",
        "2",
        "-w",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut reader = PcapReader::new(out.stdout.as_slice()).expect("a pcap on stdout");
    let mut packets = 0;
    while let Some(packet) = reader.next_packet() {
        packet.expect("a whole packet");
        packets += 1;
    }
    assert_eq!(packets, 2);

    // tcpdump's own lines.
    let out = lab.metallab(&[
        "capture",
        &lab.name,
        "frr1",
        "--filter",
        "tcp port 179",
        "-c",
        "1",
        "--text",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(".179") && text.contains("10.202.4."),
        "{text}"
    );

    // A bad filter: tcpdump's message, exit 2, nothing captured.
    let out = lab.metallab(&["capture", &lab.name, "frr1", "--filter", "tcp prot 179"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("syntax error"),
        "{out:?}"
    );

    // The network's bridge, from the host (root and tcpdump: the test script installs it).
    let out = lab.metallab(&[
        "capture",
        &lab.name,
        "--network",
        "lan",
        "--filter",
        "tcp port 179",
        "--duration",
        "7s",
        "-w",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        bgp_messages(&out.stdout, 4) >= 2,
        "no KEEPALIVE on the bridge"
    );
}
