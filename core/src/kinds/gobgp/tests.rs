//! GoBGP: its rendered configs (snapshots), start commands and readiness, from the
//! planned routers of `render::fixtures`.

use crate::drivers::is_ready;
use crate::plan::model::BfdTimers;
use crate::render::fixtures::{self, exec_output as output, rendered};

#[test]
fn gobgp_configs() {
    let mut multihop = fixtures::gobgp_ebgp();
    multihop.sessions[0].multihop = Some(3);
    multihop.sessions[0].bfd = Some(BfdTimers::default());
    insta::assert_snapshot!("gobgp_ebgp", rendered(&fixtures::gobgp_ebgp()));
    insta::assert_snapshot!("gobgp_ibgp", rendered(&fixtures::gobgp_ibgp()));
    insta::assert_snapshot!("gobgp_multihop_bfd_unsupported", rendered(&multihop));
    insta::assert_snapshot!(
        "gobgp_password_passive",
        rendered(&fixtures::gobgp_password())
    );
    insta::assert_snapshot!(
        "gobgp_transit",
        rendered(&fixtures::transit(fixtures::gobgp_ebgp()))
    );
    insta::assert_snapshot!(
        "gobgp_no_sessions",
        rendered(&fixtures::lonely(fixtures::gobgp_ebgp()))
    );
}

#[test]
fn the_gobgp_daemon_command_detaches_and_waits_for_the_api() {
    let router = fixtures::gobgp_ebgp();
    let commands = router.kind.behaviour().daemon_commands(&router.announce);
    let script = &commands[0][2];
    assert!(
        script.contains("</dev/null >/var/log/gobgpd.log 2>&1 &"),
        "{script}"
    );
    assert!(
        script.contains(
            "case $row in *'0100007F:C383 00000000:0000 0A'*) return 0;; esac; done </proc/net/tcp"
        ),
        "{script}"
    );
    assert!(script.contains("until answers; do"), "{script}");
    assert!(script.contains("--api-hosts 127.0.0.1:50051"), "{script}");
}

#[test]
fn gobgp_is_ready_when_its_api_answers() {
    let running = output(
        0,
        "AS:        64503\nRouter-ID: 10.212.1.13\nListening Port: 179, Addresses: 10.212.1.13\n",
        "",
    );
    assert!(is_ready(crate::kinds::gobgp::KIND, &running));
    let not_started = output(1, "", "context deadline exceeded\n");
    assert!(!is_ready(crate::kinds::gobgp::KIND, &not_started));
}

#[test]
fn the_gobgp_api_row_the_start_command_waits_for_is_the_api_address() {
    // /proc/net/tcp writes an IPv4 address as its 4 bytes in host (little-endian) order
    // and the port big-endian, both in upper-case hex.
    let addr: std::net::SocketAddrV4 = super::API.parse().unwrap();
    let ip = u32::from_le_bytes(addr.ip().octets());
    let row = format!("{ip:08X}:{:04X} 00000000:0000 0A", addr.port());
    assert_eq!(row, super::API_LISTENING);
}
