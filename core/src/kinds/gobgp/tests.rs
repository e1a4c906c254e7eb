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
    assert!(
        script.contains("until listening && started; do"),
        "{script}"
    );
    assert!(script.contains("--api-hosts 127.0.0.1:50051"), "{script}");
}

/// Runs the GoBGP start command for `announce` against stand-ins: a `gobgpd` that does
/// nothing, a /proc/net/tcp whose API row is there, and a `gobgp` that answers each call
/// with the next of `answers` (exit code, output) and logs its arguments. Returns the
/// command's exit code, its standard error and the calls made.
fn run_gobgp_start(
    announce: &[ipnet::IpNet],
    answers: &[(i32, &str)],
) -> (i32, String, Vec<String>) {
    let mut gobgp = String::from(
        "#!/bin/sh\necho \"$*\" >> {root}/calls\nn=$(wc -l < {root}/calls)\ncase $n in\n",
    );
    for (i, (code, text)) in answers.iter().enumerate() {
        gobgp.push_str(&format!("{}) echo \"{text}\"; exit {code};;\n", i + 1));
    }
    gobgp.push_str("esac\necho 'no more answers'; exit 99\n");
    let commands = crate::kinds::gobgp::KIND
        .behaviour()
        .daemon_commands(announce);
    let script = format!(
        "printf '  sl  local_address rem_address   st\\n   0: 0100007F:C383 00000000:0000 0A 0\\n' > {{root}}/tcp; {}",
        commands[0][2]
            .replace("/proc/net/tcp", "{root}/tcp")
            .replace("/var/log/gobgpd.log", "{root}/log")
    );
    let run = fixtures::run_with_stand_ins(
        &[("gobgpd", "#!/bin/sh\nexit 0\n"), ("gobgp", &gobgp)],
        &script,
    );
    (
        run.output.status.code().unwrap(),
        String::from_utf8_lossy(&run.output.stderr).into_owned(),
        run.file("calls").lines().map(str::to_string).collect(),
    )
}

#[test]
fn the_gobgp_start_ends_with_its_first_announcement_retried_until_the_server_started() {
    let prefixes: Vec<ipnet::IpNet> = vec![
        "198.51.100.0/24".parse().unwrap(),
        "203.0.113.0/24".parse().unwrap(),
    ];
    let add = "global rib add -a ipv4 198.51.100.0/24 origin igp";
    let (code, stderr, calls) =
        run_gobgp_start(&prefixes, &[(1, "bgp server hasn't started yet"), (0, "")]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(calls, [add, add]);
    // The other announcements are commands of their own.
    let commands = crate::kinds::gobgp::KIND
        .behaviour()
        .daemon_commands(&prefixes);
    assert_eq!(commands.len(), 2);
    assert_eq!(
        commands[1].join(" "),
        "gobgp global rib add -a ipv4 203.0.113.0/24 origin igp"
    );

    // Any other refusal fails the start at once, in GoBGP's words.
    let (code, stderr, calls) = run_gobgp_start(&prefixes, &[(1, "invalid prefix: boom")]);
    assert_eq!(code, 1);
    assert_eq!(stderr.trim(), "invalid prefix: boom");
    assert_eq!(calls, [add]);
}

#[test]
fn the_gobgp_start_without_announcements_ends_once_gobgp_global_shows_the_as() {
    let (code, stderr, calls) =
        run_gobgp_start(&[], &[(0, "Router-ID: 0.0.0.0"), (0, "AS:        64503")]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(calls, ["global", "global"]);
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
