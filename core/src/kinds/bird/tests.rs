//! BIRD: its rendered configs (snapshots), start commands and readiness, from the
//! planned routers of `render::fixtures`.

use crate::drivers::is_ready;
use crate::render::fixtures::{self, exec_output as output, rendered};

#[test]
fn bird_configs() {
    insta::assert_snapshot!("bird_ebgp", rendered(&fixtures::bird_ebgp()));
    insta::assert_snapshot!(
        "bird_ibgp_with_single_hop_bfd",
        rendered(&fixtures::bird_ibgp())
    );
    insta::assert_snapshot!(
        "bird_multihop_bfd",
        rendered(&fixtures::bird_multihop_bfd())
    );
    insta::assert_snapshot!(
        "bird_password_passive",
        rendered(&fixtures::bird_password())
    );
    insta::assert_snapshot!(
        "bird_transit",
        rendered(&fixtures::transit(fixtures::bird_ebgp()))
    );
    insta::assert_snapshot!(
        "bird_no_sessions",
        rendered(&fixtures::lonely(fixtures::bird_ebgp()))
    );
}

#[test]
fn bird_is_ready_when_the_daemon_says_so() {
    let running = output(
        0,
        "BIRD 2.0.12 ready.\nBIRD 2.0.12\nRouter ID is 10.212.1.12\nHostname is bird1\n\
         Current server time is 2026-11-21 05:55:12.741\nLast reboot on 2026-11-21 05:51:58.957\n\
         Last reconfiguration on 2026-11-21 05:51:58.957\nDaemon is up and running\n",
        "",
    );
    assert!(is_ready(crate::kinds::bird::KIND, &running));
    let not_started = output(
        1,
        "",
        "Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory\n",
    );
    assert!(!is_ready(crate::kinds::bird::KIND, &not_started));
}
