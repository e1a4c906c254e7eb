//! OpenBGPD (bgpd, `bgpctl`): no BFD; communities in its RIB; the portable 7.7 cannot
//! write the Linux kernel table, so its routes stay in its own RIB. Everything denied
//! until allowed (the config allows what a lab router needs).

pub mod parse;

use super::{
    ConfigFile, ImageProfile, Kind, KindProfile, Parsers, Reload, RenderError, RouterKind,
    RouterView, StatePart, StateQuery, argv, config_file, kernel_query, render_template, shell,
};
use crate::parse::Tool;
use ipnet::IpNet;

pub const KIND: RouterKind = RouterKind::of(&Openbgpd);

pub const TOOL: Tool = Tool("OpenBGPD");

/// Where its files live inside the container.
pub mod paths {
    pub const CONF: &str = "/etc/bgpd.conf";
    /// Its chroot and control socket's directory, which images other than ours may lack.
    pub const RUN_DIR: &str = "/run/openbgpd";
    /// bgpd logs only to syslog; busybox's syslogd writes it here.
    pub const LOG: &str = "/var/log/bgpd.log";
    pub const SYSLOGD_PID: &str = "/var/run/syslogd.pid";
}

/// The daemon chroots (SYS_CHROOT) and drops to its own user (SETUID, SETGID) and binds
/// port 179 (NET_BIND_SERVICE where unprivileged ports start above it): all in Docker's
/// default set, listed so other runtimes give them too.
const CAPABILITIES: &[&str] = &[
    "NET_ADMIN",
    "NET_RAW",
    "SYS_CHROOT",
    "SETUID",
    "SETGID",
    "NET_BIND_SERVICE",
];

static PROFILE: KindProfile = KindProfile {
    name: "openbgpd",
    speaks_bgp: true,
    // `AS` is a mandatory global setting.
    asn_always: true,
    bfd: false,
    reads_communities: true,
    kernel_routes: false,
    capabilities: CAPABILITIES,
    daemon_logs: &[paths::LOG],
    image: Some(ImageProfile {
        context: &[super::image_file!("openbgpd", "Dockerfile")],
        built_by_default: true,
        download: None,
    }),
};

pub struct Openbgpd;

impl Kind for Openbgpd {
    fn profile(&self) -> &'static KindProfile {
        &PROFILE
    }

    fn tool(&self) -> Tool {
        TOOL
    }

    // Its config strings have backslash escapes; a quote or backslash would need them.
    fn password_problem(&self, password: &str) -> Option<&'static str> {
        (password.contains('"') || password.contains('\\'))
            .then_some("contains `\"` or `\\`, which metallab does not escape for OpenBGPD")
    }

    fn view_problem(&self, view: &RouterView) -> Option<String> {
        view.sessions
            .iter()
            .find(|s| s.hold_time.is_some_and(|h| h < 3))
            .map(|s| {
                format!(
                    "session {}: OpenBGPD takes hold times from 3 to 65535 seconds",
                    s.id
                )
            })
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "openbgpd/bgpd.conf.j2",
            include_str!("templates/bgpd.conf.j2"),
        )]
    }

    fn config_files(&self, view: &RouterView) -> Result<Vec<ConfigFile>, RenderError> {
        Ok(vec![config_file(
            paths::CONF,
            render_template("openbgpd/bgpd.conf.j2", view)?,
        )])
    }

    // `bgpd -n` checks the file first: it names every refused line (`/etc/bgpd.conf:8:
    // syntax error`) and exits 1, where a start would only say the file has errors. bgpd
    // daemonizes by itself; syslogd is started once (a repair runs these again).
    fn daemon_commands(&self, _announce: &[IpNet]) -> Vec<Vec<String>> {
        vec![
            argv(&["mkdir", "-p", paths::RUN_DIR]),
            shell(format!(
                "[ -e {pid} ] || busybox syslogd -O {log}",
                pid = paths::SYSLOGD_PID,
                log = paths::LOG
            )),
            argv(&["bgpd", "-n", "-f", paths::CONF]),
            argv(&["bgpd", "-f", paths::CONF]),
        ]
    }

    // `bgpctl reload` makes bgpd read its file again; neighbors whose settings did not
    // change keep their sessions. It only sends the request: `bgpd -n` checks the file
    // first, so a refused line is named here rather than only in the log.
    fn reload(&self, changed: &[&str]) -> Option<Reload> {
        Reload::of_only(
            paths::CONF,
            changed,
            "bgpctl reload",
            vec![
                argv(&["bgpd", "-n", "-f", paths::CONF]),
                argv(&["bgpctl", "reload"]),
            ],
        )
    }

    // Its parent, session engine and route decision engine are all named bgpd.
    fn daemons(&self) -> &'static [&'static str] {
        &["bgpd"]
    }

    // Its control socket answers once the daemon runs (about 10 ms after `bgpd` returns).
    fn ready_command(&self) -> Option<Vec<String>> {
        Some(argv(&["bgpctl", "show", "summary"]))
    }

    // The summary's header.
    fn ready_words(&self) -> &'static [&'static str] {
        &["Neighbor"]
    }

    fn state_queries(&self) -> Vec<StateQuery> {
        vec![
            // Per neighbor: AS, description, state (and whether it is shut down here),
            // seconds since the last change, prefixes received, the last error.
            StateQuery::new(StatePart::Sessions, &["bgpctl", "-j", "show", "neighbor"]),
            // Every path with its attributes; without `detail` communities are left out.
            StateQuery::new(
                StatePart::Routes,
                &["bgpctl", "-j", "show", "rib", "detail"],
            ),
            kernel_query(),
        ]
    }

    fn parsers(&self) -> Option<Parsers> {
        Some(Parsers {
            sessions: parse::sessions,
            routes: parse::routes,
            bfd: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{router, session};
    use crate::render::{RenderError, render_router};

    const ME: (&str, u32) = ("10.210.1.40", 64510);

    fn obgpd() -> crate::plan::model::PlannedRouter {
        let mut r = router("obgpd1", KIND, Some(ME.1), &[("lan", ME.0)]);
        r.announce = vec!["203.0.113.0/24".parse().unwrap()];
        let mut frr = session("frr1", ME, ("10.210.1.11", 64501));
        frr.password = Some("lab-secret".into());
        frr.hold_time = Some(9);
        let mut far = session("far", ME, ("10.210.9.12", 64502));
        far.multihop = Some(2);
        far.passive = true;
        let ibgp = session("obgpd2", ME, ("10.210.1.41", 64510));
        r.sessions = vec![frr, far, ibgp];
        r
    }

    fn conf(r: &crate::plan::model::PlannedRouter) -> String {
        let files = render_router(r).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, paths::CONF);
        files[0].contents.clone()
    }

    #[test]
    fn a_stub_sends_only_its_own_prefixes() {
        insta::assert_snapshot!("openbgpd_stub", conf(&obgpd()));
    }

    #[test]
    fn a_transit_router_sends_everything_with_itself_as_ibgp_next_hop() {
        let mut r = obgpd();
        r.transit = true;
        let text = conf(&r);
        assert!(text.contains("\nallow to any\n"), "{text}");
        let ibgp = &text[text.find("neighbor 10.210.1.41").unwrap()..];
        assert!(ibgp.contains("set nexthop self"), "{ibgp}");
    }

    #[test]
    fn a_router_announcing_nothing_sends_nothing() {
        let mut r = obgpd();
        r.announce.clear();
        let text = conf(&r);
        assert!(!text.contains("allow to"), "{text}");
        assert!(text.contains("allow from any"), "{text}");
    }

    #[test]
    fn hold_times_below_three_seconds_and_quoted_passwords_are_refused() {
        let mut r = obgpd();
        r.sessions[0].hold_time = Some(0);
        let err = render_router(&r).unwrap_err();
        assert!(matches!(err, RenderError::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains("from 3 to 65535"), "{err}");
        let mut r = obgpd();
        r.sessions[0].password = Some("a\"b".into());
        let err = render_router(&r).unwrap_err();
        assert!(
            matches!(err, RenderError::UnsupportedPassword { .. }),
            "{err}"
        );
    }

    #[test]
    fn it_starts_checked_and_reads_without_bfd() {
        let commands: Vec<String> = Openbgpd
            .daemon_commands(&[])
            .iter()
            .map(|argv| crate::kinds::command_line(argv))
            .collect();
        assert_eq!(
            commands,
            [
                "mkdir -p /run/openbgpd",
                "sh -c '[ -e /var/run/syslogd.pid ] || busybox syslogd -O /var/log/bgpd.log'",
                "bgpd -n -f /etc/bgpd.conf",
                "bgpd -f /etc/bgpd.conf",
            ]
        );
        let parts: Vec<StatePart> = Openbgpd.state_queries().iter().map(|q| q.part).collect();
        assert_eq!(
            parts,
            [StatePart::Sessions, StatePart::Routes, StatePart::Kernel]
        );
        // The fixtures' `# command:` lines are these commands.
        for (query, fixture) in Openbgpd.state_queries().iter().zip([
            include_str!("fixtures/neighbor.json"),
            include_str!("fixtures/rib-detail.json"),
        ]) {
            assert!(
                fixture.contains(&format!("# command: {}\n", query.command_line())),
                "{}",
                query.command_line()
            );
        }
        let ready = include_str!("fixtures/summary.txt");
        let answered = crate::state::ExecOutput {
            exit_code: 0,
            stdout: crate::parse::fixture_body(ready).to_string(),
            stderr: String::new(),
        };
        assert!(crate::drivers::is_ready(KIND, &answered));
    }
}
