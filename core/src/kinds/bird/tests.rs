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

/// The watcher, run against a stand-in `birdc` whose sessions come up one after the
/// other: each Established BGP protocol has its routes asked for again exactly once
/// (others never), and the watcher ends once every BGP protocol of the config was.
#[test]
fn the_first_update_nudge_reloads_each_session_once_as_it_comes_up_then_ends() {
    use crate::kinds::bird::paths;
    // Round 1: nothing up; round 2: `a`; round 3 on: both. `static1` is Established-like
    // text on a protocol that is not BGP.
    let birdc = "#!/bin/sh\n\
         if [ \"$1\" = reload ]; then echo \"$3\" >> {root}/reloads; exit 0; fi\n\
         n=$(cat {root}/rounds 2>/dev/null || echo 0); n=$((n+1)); echo $n > {root}/rounds\n\
         echo 'BIRD 2.0.12 ready.'\n\
         echo 'Name       Proto      Table      State  Since         Info'\n\
         echo 'static1    Static     master4    up     12:00:00.000  Established'\n\
         if [ $n -ge 2 ]; then echo 'a          BGP        ---        up     12:00:01.000  Established'; \
         else echo 'a          BGP        ---        start  12:00:01.000  Active'; fi\n\
         if [ $n -ge 3 ]; then echo 'b          BGP        ---        up     12:00:02.000  Established'; \
         else echo 'b          BGP        ---        start  12:00:02.000  Connect'; fi\n";
    let nudge = crate::kinds::bird::first_update_nudge()
        .replace(paths::CONF, "{root}/bird.conf")
        .replace(paths::RUN_DIR, "{root}/run")
        // In the foreground, so the test sees it end.
        .trim_end()
        .trim_end_matches('&')
        .replace("</dev/null >/dev/null 2>&1", "");
    let script = format!(
        "mkdir {{root}}/run && printf 'protocol device {{}}\\nprotocol bgp a {{}}\\nprotocol bgp b {{}}\\n' > {{root}}/bird.conf && {nudge}"
    );
    let run = fixtures::run_with_stand_ins(&[("birdc", birdc)], &script);
    assert!(run.output.status.success(), "{:?}", run.output);
    assert_eq!(run.file("reloads"), "a\nb\n");
    // It ended once both were handled, not after its 30 s.
    assert_eq!(run.file("rounds"), "3\n");
}
