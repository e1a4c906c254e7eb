//! FRR (bgpd, zebra, bfdd): BFD, communities, routes into the kernel through zebra.

pub mod parse;

use super::{
    ConfigFile, ImageProfile, Kind, KindProfile, Parsers, Reload, RenderError, RouterKind,
    RouterView, StatePart, StateQuery, argv, config_file, kernel_query, kill_process,
    render_template, shell,
};
use crate::parse::Tool;
use ipnet::IpNet;

pub const KIND: RouterKind = RouterKind::of(&Frr);

pub const TOOL: Tool = Tool("FRR");

/// Where its files live inside the container.
pub mod paths {
    pub const CONF: &str = "/etc/frr/frr.conf";
    pub const DAEMONS: &str = "/etc/frr/daemons";
    pub const VTYSH_CONF: &str = "/etc/frr/vtysh.conf";
    pub const INIT: &str = "/usr/lib/frr/frrinit.sh";
    pub const RELOAD: &str = "/usr/lib/frr/frr-reload.py";
    pub const LOG: &str = "/var/log/frr/frr.log";
    /// The daemons' binaries, watchfrr's among them.
    pub const DAEMON_DIR: &str = "/usr/lib/frr";
    /// Where the daemons put their pid files and vty sockets.
    pub const RUN_DIR: &str = "/var/run/frr";
}

/// One daemon an FRR router runs.
pub struct Daemon {
    pub name: &'static str,
    /// Its options, the same as `/etc/frr/daemons` gives frrinit.sh.
    pub options: &'static str,
    /// Whether every FRR version has it; the boot skips one the image lacks.
    pub in_every_version: bool,
}

const fn daemon(name: &'static str, options: &'static str) -> Daemon {
    Daemon {
        name,
        options,
        in_every_version: true,
    }
}

/// The daemons a router runs, in the order they start. zebra first: the others connect
/// to it. mgmtd exists from FRR 9 on, where staticd and vtysh need it.
pub const DAEMONS: &[Daemon] = &[
    daemon("zebra", "-A 127.0.0.1 -s 90000000"),
    Daemon {
        in_every_version: false,
        ..daemon("mgmtd", "-A 127.0.0.1")
    },
    daemon("staticd", "-A 127.0.0.1"),
    daemon("bgpd", "-A 127.0.0.1"),
    daemon("bfdd", "-A 127.0.0.1"),
];

/// FRR's privilege code keeps SYS_ADMIN in its capability set and refuses to start when
/// the bounding set lacks it.
pub const NET_AND_SYS_ADMIN: &[&str] = &["NET_ADMIN", "NET_RAW", "SYS_ADMIN"];

static PROFILE: KindProfile = KindProfile {
    name: "frr",
    speaks_bgp: true,
    asn_always: false,
    bfd: true,
    reads_communities: true,
    kernel_routes: true,
    capabilities: NET_AND_SYS_ADMIN,
    daemon_logs: &[paths::LOG],
    image: Some(ImageProfile {
        context: &[super::image_file!("frr", "Dockerfile")],
        built_by_default: true,
        download: None,
    }),
};

pub struct Frr;

fn vtysh(part: StatePart, command: &str) -> StateQuery {
    StateQuery::new(part, &["vtysh", "-c", command])
}

impl Kind for Frr {
    fn profile(&self) -> &'static KindProfile {
        &PROFILE
    }

    fn tool(&self) -> Tool {
        TOOL
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("frr/frr.conf.j2", include_str!("templates/frr.conf.j2")),
            ("frr/daemons.j2", include_str!("templates/daemons.j2")),
            ("frr/vtysh.conf", include_str!("templates/vtysh.conf")),
        ]
    }

    fn config_files(&self, view: &RouterView) -> Result<Vec<ConfigFile>, RenderError> {
        Ok(vec![
            config_file(paths::CONF, render_template("frr/frr.conf.j2", view)?),
            config_file(paths::DAEMONS, render_template("frr/daemons.j2", view)?),
            config_file(paths::VTYSH_CONF, render_template("frr/vtysh.conf", view)?),
        ])
    }

    // The daemons start one by one, as frrinit.sh would start them but without its shell
    // scripts (some 40 ms of CPU per router, a seventh of its boot): `DAEMON -d` returns
    // once the daemon listens on its vty socket, and exits 1 with "DAEMON failed to
    // start" otherwise, so once the first command is done every daemon answers vtysh and
    // the boot need not ask (see `start_waits_for_answers`). watchfrr then watches them
    // (it restarts one that dies, as in a real deployment). `vtysh -b` loads frr.conf once
    // for all daemons, and exits non-zero naming every refused line (`line 6: % Unknown
    // command[25]: …`), where frrinit.sh's per-daemon loads only log it.
    fn daemon_commands(&self, _announce: &[IpNet]) -> Vec<Vec<String>> {
        let mut start = format!(
            "install -d -o frr -g frr -m 0755 {run} && cd {dir} && started= && for d in",
            run = paths::RUN_DIR,
            dir = paths::DAEMON_DIR,
        );
        for daemon in DAEMONS {
            start.push(' ');
            start.push_str(daemon.name);
        }
        start.push_str("; do case $d in");
        for Daemon {
            name,
            options,
            in_every_version,
        } in DAEMONS
        {
            let skip = if *in_every_version {
                String::new()
            } else {
                format!("[ -x {name} ] || continue; ")
            };
            start.push_str(&format!(" {name}) {skip}options='{options}';;"));
        }
        start.push_str(
            " esac; ./$d -d -F traditional $options || { echo \"FRR's $d did not start\" >&2; exit 1; }; \
             started=\"$started $d\"; done && ./watchfrr -d -F traditional $started",
        );
        vec![shell(start), argv(&["vtysh", "-b"])]
    }

    fn start_waits_for_answers(&self) -> bool {
        true
    }

    // frr-reload.py (frr-pythontools) compares the running config with the file and sends
    // vtysh only the difference: neighbors whose lines did not change keep their sessions.
    // The dry run names refused lines first, as at start. The daemons file lists the
    // daemons watchfrr starts: a change there needs a restart. A soft outbound refresh
    // (no session resets) then sends what the new policy allows at once: a `network`
    // applied before the prefix-list that lets it out is otherwise sent only when bgpd
    // processes the policy change, which a loaded machine was seen to miss.
    fn reload(&self, changed: &[&str]) -> Option<Reload> {
        Reload::of_only(
            paths::CONF,
            changed,
            "frr-reload.py",
            vec![
                argv(&["vtysh", "--dryrun", "-f", paths::CONF]),
                argv(&[paths::RELOAD, "--reload", paths::CONF]),
                argv(&["vtysh", "-c", "clear bgp * soft out"]),
            ],
        )
    }

    fn daemons(&self) -> &'static [&'static str] {
        &["bgpd", "zebra", "bfdd", "staticd"]
    }

    // watchfrr (started by frrinit.sh) restarts a dead daemon within about 5 s: it dies
    // first, so the daemon stays dead until cleared.
    fn kill_commands(&self, daemon: &str) -> Vec<Vec<String>> {
        vec![
            shell("pkill -KILL -x watchfrr || true"),
            kill_process(daemon),
        ]
    }

    // frrinit.sh starts watchfrr, which starts the daemons that do not run (those that do
    // are left alone) with the options of the daemons file and loads their part of
    // frr.conf.
    fn restart_commands(&self, _daemon: &str, _announce: &[IpNet]) -> Vec<Vec<String>> {
        vec![argv(&[paths::INIT, "start"])]
    }

    // `show daemons` is answered by vtysh from the daemons it reached.
    fn ready_command(&self) -> Option<Vec<String>> {
        Some(argv(&["vtysh", "-c", "show daemons"]))
    }

    // `show daemons` lists the daemons that answer vtysh.
    fn ready_words(&self) -> &'static [&'static str] {
        &["zebra", "bgpd", "bfdd"]
    }

    fn state_queries(&self) -> Vec<StateQuery> {
        vec![
            // Per neighbor: remote and local AS, description, state (admin shutdown
            // flagged separately), time up or since the last reset and why, accepted prefixes.
            vtysh(StatePart::Sessions, parse::SESSIONS_COMMAND),
            // `json detail` (FRR 8.3+): every path with communities, large communities,
            // local-pref, MED, AS path, origin, best flag, next hop and peer. Plain `json`
            // leaves communities out.
            vtysh(StatePart::Routes, parse::ROUTES_COMMAND),
            // bfdd's sessions: peer, local address and interface when known, status,
            // seconds up or down.
            vtysh(StatePart::Bfd, parse::BFD_COMMAND),
            kernel_query(),
        ]
    }

    fn parsers(&self) -> Option<Parsers> {
        Some(Parsers {
            sessions: parse::sessions,
            routes: parse::routes,
            bfd: Some(parse::bfd_peers),
        })
    }

    // zebra's route entry (selected? installed? its next hop resolved through what?),
    // next-hop tracking, the BGP paths, and the last log lines.
    fn prefix_view_queries(&self, prefix: IpNet) -> Vec<Vec<String>> {
        let (family, afi) = if prefix.addr().is_ipv4() {
            ("ip", "ipv4")
        } else {
            ("ipv6", "ipv6")
        };
        vec![
            argv(&[
                "vtysh",
                "-c",
                &format!("show {family} route {prefix}"),
                "-c",
                &format!("show {family} nht"),
                "-c",
                &format!("show bgp {afi} unicast {prefix}"),
            ]),
            argv(&["tail", "-n", "20", paths::LOG]),
        ]
    }
}

#[cfg(test)]
mod tests;
