//! Quagga: its rendered configs (snapshots), start commands and readiness, from the
//! planned routers of `render::fixtures`.

use crate::drivers::{is_ready, start_commands};
use crate::plan::model::BfdTimers;
use crate::render::fixtures::{self, exec_output as output, joined, rendered};

#[test]
fn quagga_configs() {
    let mut multihop = fixtures::quagga_ebgp();
    multihop.sessions[0].multihop = Some(2);
    multihop.sessions[0].bfd = Some(BfdTimers::default());
    insta::assert_snapshot!("quagga_ebgp", rendered(&fixtures::quagga_ebgp()));
    insta::assert_snapshot!("quagga_ibgp", rendered(&fixtures::quagga_ibgp()));
    insta::assert_snapshot!("quagga_multihop_bfd_unsupported", rendered(&multihop));
    insta::assert_snapshot!(
        "quagga_password_passive",
        rendered(&fixtures::quagga_password())
    );
    insta::assert_snapshot!(
        "quagga_transit",
        rendered(&fixtures::transit(fixtures::quagga_ebgp()))
    );
    insta::assert_snapshot!(
        "quagga_no_sessions",
        rendered(&fixtures::lonely(fixtures::quagga_ebgp()))
    );
}

#[test]
fn quagga_maximum_paths_only_where_ecmp_can_happen() {
    // One peer: no `maximum-paths` at all, so a Quagga built without multipath accepts it.
    let one = fixtures::quagga_ibgp();
    assert_eq!(one.sessions.len(), 1);
    assert!(!rendered(&one).contains("maximum-paths"));
    // Two iBGP peers: as many paths as peers, never the build's whole range.
    let mut two = fixtures::quagga_ibgp();
    let mut second = two.sessions[0].clone();
    second.peer_address = "10.99.0.77".parse().unwrap();
    two.sessions.push(second);
    let conf = rendered(&two);
    assert!(conf.contains(" maximum-paths ibgp 2\n"), "{conf}");
    assert!(!conf.contains(" maximum-paths 2\n"), "{conf}");
}

#[test]
fn quagga_starts_zebra_before_bgpd() {
    let commands = joined(&start_commands(&fixtures::quagga_ebgp()));
    let zebra = commands
        .iter()
        .position(|c| c.starts_with("zebra -d"))
        .unwrap();
    let bgpd = commands
        .iter()
        .position(|c| c.starts_with("bgpd -d"))
        .unwrap();
    assert!(zebra < bgpd);
}

#[test]
fn quagga_is_ready_when_both_daemons_answer() {
    // `show version` output of Quagga 1.2.4, as recorded in src/kinds/quagga/fixtures/.
    let running = output(
        0,
        "Quagga 1.2.4 ().\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\n",
        "",
    );
    assert!(is_ready(crate::kinds::quagga::KIND, &running));
    let not_started = output(1, "", "Exiting: failed to connect to any daemons.\n");
    assert!(!is_ready(crate::kinds::quagga::KIND, &not_started));
}

#[test]
fn quagga_restarts_only_the_daemon_that_was_killed() {
    let quagga = crate::kinds::quagga::KIND.behaviour();
    assert_eq!(quagga.daemons(), ["bgpd", "zebra"]);
    let restart = joined(&quagga.restart_commands("bgpd", &[]));
    assert_eq!(restart.len(), 2, "{restart:?}");
    assert!(restart[0].starts_with("mkdir -p "), "{restart:?}");
    assert!(restart[1].starts_with("bgpd -d "), "{restart:?}");
}
