//! FRR: its rendered configs (snapshots), start commands and readiness, from the
//! planned routers of `render::fixtures`.

use crate::drivers::is_ready;
use crate::plan::model::PlannedRouter;
use crate::render::fixtures::{self, exec_output as output, file_of, rendered};
use crate::render::render_router;

#[test]
fn frr_configs() {
    // All three files once; daemons and vtysh.conf are the same for every FRR router.
    insta::assert_snapshot!("frr_ebgp", rendered(&fixtures::frr_ebgp()));
    let frr_conf = |r: PlannedRouter| file_of(&r, crate::kinds::frr::paths::CONF);
    insta::assert_snapshot!(
        "frr_ibgp_with_single_hop_bfd",
        frr_conf(fixtures::frr_ibgp())
    );
    insta::assert_snapshot!("frr_multihop_bfd", frr_conf(fixtures::frr_multihop_bfd()));
    insta::assert_snapshot!("frr_password_hold_time", frr_conf(fixtures::frr_password()));
    insta::assert_snapshot!(
        "frr_transit",
        frr_conf(fixtures::transit(fixtures::frr_ebgp()))
    );
    insta::assert_snapshot!(
        "frr_no_sessions",
        frr_conf(fixtures::lonely(fixtures::frr_ebgp()))
    );
}

#[test]
fn frr_daemons_and_vtysh_conf_do_not_depend_on_the_router() {
    let a = render_router(&fixtures::frr_ebgp()).unwrap();
    let b = render_router(&fixtures::frr_multihop_bfd()).unwrap();
    assert_eq!(a[1..], b[1..]);
}

#[test]
fn frr_is_ready_when_zebra_bgpd_and_bfdd_answer() {
    let running = output(0, " zebra bgpd watchfrr staticd bfdd\n", "");
    assert!(is_ready(crate::kinds::frr::KIND, &running));
    // Before frrinit.sh ran.
    let not_started = output(1, "", "Exiting: failed to connect to any daemons.\n");
    assert!(!is_ready(crate::kinds::frr::KIND, &not_started));
    // zebra without SYS_ADMIN exits at start; watchfrr keeps the others waiting.
    let without_zebra = output(0, " watchfrr staticd\n", "");
    assert!(!is_ready(crate::kinds::frr::KIND, &without_zebra));
    let without_bfdd = output(0, " zebra bgpd watchfrr staticd\n", "");
    assert!(!is_ready(crate::kinds::frr::KIND, &without_bfdd));
}

#[test]
fn frr_starts_each_daemon_itself_then_watchfrr_then_loads_frr_conf_once() {
    use crate::kinds::frr::{DAEMONS, paths};
    let router = fixtures::frr_ebgp();
    let frr = router.kind.behaviour();
    let commands: Vec<String> = frr
        .daemon_commands(&[])
        .iter()
        .map(|c| c.join(" "))
        .collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].starts_with("sh -c "), "{}", commands[0]);
    assert!(
        commands[0].contains("for d in zebra mgmtd staticd bgpd bfdd;"),
        "zebra first, mgmtd where the version has it: {}",
        commands[0]
    );
    assert!(commands[0].contains("mgmtd) [ -x mgmtd ] || continue;"));
    assert!(commands[0].ends_with("./watchfrr -d -F traditional $started"));
    assert_eq!(commands[1], "vtysh -b");
    // `DAEMON -d` returns once the daemon answers, so the boot does not ask again.
    assert!(frr.start_waits_for_answers());

    // frrinit.sh, which starts killed daemons again, gives them the same options.
    let files = render_router(&router).unwrap();
    let daemons = files.iter().find(|f| f.path == paths::DAEMONS).unwrap();
    for crate::kinds::frr::Daemon {
        name: daemon,
        options,
        ..
    } in DAEMONS
    {
        assert!(
            commands[0].contains(&format!("{daemon}) "))
                && commands[0].contains(&format!("options='{options}';;")),
            "{daemon}: {}",
            commands[0]
        );
        let line = daemons
            .contents
            .lines()
            .find(|l| l.starts_with(&format!("{daemon}_options=")))
            .unwrap_or_else(|| panic!("no {daemon}_options in the daemons file"));
        assert_eq!(
            line.split_once('=').unwrap().1.trim_matches('"').trim(),
            *options,
            "{daemon}"
        );
    }
}

#[test]
fn frr_kills_watchfrr_first_and_its_init_script_starts_what_is_missing() {
    let frr = crate::kinds::frr::KIND.behaviour();
    assert_eq!(frr.daemons()[0], "bgpd");
    let kill: Vec<String> = frr
        .kill_commands("bgpd")
        .iter()
        .map(|c| c.join(" "))
        .collect();
    // Otherwise watchfrr starts bgpd again within about 5 s.
    assert_eq!(
        kill,
        [
            "sh -c pkill -KILL -x watchfrr || true",
            "sh -c pkill -KILL -x bgpd || { echo 'no bgpd process runs' >&2; exit 1; }"
        ]
    );
    assert_eq!(
        frr.restart_commands("bgpd", &[]),
        [["/usr/lib/frr/frrinit.sh", "start"]]
    );
}
