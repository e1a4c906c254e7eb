//! GoBGP: no BFD, and its routes stay in its own table (no zebra in metallab's image).

pub mod parse;

use super::{
    ConfigFile, ImageProfile, Kind, KindProfile, NET, Parsers, RenderError, RouterKind, RouterView,
    StatePart, StateQuery, argv, command_line, config_file, kernel_query, render_template, shell,
};
use crate::parse::Tool;
use ipnet::IpNet;

pub const KIND: RouterKind = RouterKind::of(&Gobgp);

pub const TOOL: Tool = Tool("GoBGP");

/// Where its files live inside the container.
pub mod paths {
    pub const CONF: &str = "/etc/gobgp/gobgpd.toml";
    /// gobgpd's output, redirected by its start command (it logs to stdout).
    pub const LOG: &str = "/var/log/gobgpd.log";
}

static PROFILE: KindProfile = KindProfile {
    name: "gobgp",
    speaks_bgp: true,
    // gobgpd's `[global.config]` needs `as`, sessions or not.
    asn_always: true,
    bfd: false,
    reads_communities: true,
    kernel_routes: false,
    capabilities: NET,
    daemon_logs: &[paths::LOG],
    image: Some(ImageProfile {
        context: &[super::image_file!("gobgp", "Dockerfile")],
        built_by_default: true,
        download: None,
    }),
};

pub struct Gobgp;

/// The gRPC endpoint gobgpd serves its API on: loopback only, where the `gobgp` CLI
/// looks by default, so the API is not reachable from the lab networks.
const API: &str = "127.0.0.1:50051";
/// That endpoint in a listening row of /proc/net/tcp (address and port in hex, then the
/// remote side and state 0A, LISTEN).
const API_LISTENING: &str = "0100007F:C383 00000000:0000 0A";

/// How long the start command waits for gobgpd's API before giving up, in hundredths of
/// a second (announcements are added through that API right after).
const API_WAIT_HUNDREDTHS: u32 = 1000;

/// The command that announces `prefix`, with origin IGP like FRR's `network` and BIRD's
/// static routes (GoBGP's default is incomplete), so paths compare alike across kinds.
fn rib_add(prefix: IpNet) -> Vec<String> {
    argv(&[
        "gobgp",
        "global",
        "rib",
        "add",
        "-a",
        "ipv4",
        &prefix.to_string(),
        "origin",
        "igp",
    ])
}

impl Kind for Gobgp {
    fn profile(&self) -> &'static KindProfile {
        &PROFILE
    }

    fn tool(&self) -> Tool {
        TOOL
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "gobgp/gobgpd.toml.j2",
            include_str!("templates/gobgpd.toml.j2"),
        )]
    }

    fn config_files(&self, view: &RouterView) -> Result<Vec<ConfigFile>, RenderError> {
        Ok(vec![config_file(
            paths::CONF,
            render_template("gobgp/gobgpd.toml.j2", view)?,
        )])
    }

    // gobgpd stays in the foreground: background it with its output in a log file and
    // stdin from /dev/null (so `docker exec` returns), then wait until its API listens,
    // so the `gobgp global rib add` announcements that follow cannot race its start. The
    // socket is watched in /proc rather than with the CLI: a CLI call made before the API
    // listens waits about a second in gRPC's reconnect backoff, most of a GoBGP router's
    // start; and with the shell's own `read` and `case`, as the wait polls every 10 ms (a
    // `grep` each time was some thirty processes per router). The API listens before
    // gobgpd has started its BGP server from the file: until then `rib add` fails with
    // "bgp server hasn't started yet" (seen on a loaded machine), and `gobgp global`
    // shows no AS. So the wait ends with the first announcement added (retried on that
    // error only), or, without announcements, once `gobgp global` shows the AS: one CLI
    // call (some 15 ms of CPU: a Go program) less than asking, then adding.
    fn daemon_commands(&self, announce: &[IpNet]) -> Vec<Vec<String>> {
        let started = match announce.split_first() {
            Some((first, _)) => format!(
                "out=$({add} 2>&1) && return 0; case $out in *\"hasn't started yet\"*) return 1;; esac; \
                 echo \"$out\" >&2; exit 1",
                add = command_line(&rib_add(*first)),
            ),
            None => {
                "case $(gobgp global 2>/dev/null) in *AS:*) return 0;; esac; return 1".to_string()
            }
        };
        let mut commands = vec![shell(format!(
            "gobgpd -f {conf} -t toml --api-hosts {API} </dev/null >{log} 2>&1 & \
             listening() {{ while read -r row; do case $row in *'{API_LISTENING}'*) return 0;; esac; done </proc/net/tcp; return 1; }}; \
             started() {{ {started}; }}; \
             i=0; until listening && started; do \
             i=$((i+1)); if [ $i -ge {API_WAIT_HUNDREDTHS} ]; then echo 'gobgpd did not answer, see {log}:' >&2; tail -n 20 {log} >&2; exit 1; fi; \
             sleep 0.01; done",
            conf = paths::CONF,
            log = paths::LOG,
        ))];
        commands.extend(announce.iter().skip(1).map(|prefix| rib_add(*prefix)));
        commands
    }

    fn daemons(&self) -> &'static [&'static str] {
        &["gobgpd"]
    }

    // The first daemon command waits for gobgpd to answer on its API.
    fn start_waits_for_answers(&self) -> bool {
        true
    }

    fn ready_command(&self) -> Option<Vec<String>> {
        Some(argv(&["gobgp", "global"]))
    }

    fn ready_words(&self) -> &'static [&'static str] {
        &["AS:"]
    }

    fn state_queries(&self) -> Vec<StateQuery> {
        vec![
            // GoBGP reports up/down times as Unix timestamps: read the clock in the same exec.
            StateQuery::shell(StatePart::Sessions, "date +%s && gobgp neighbor -j"),
            StateQuery::new(
                StatePart::Routes,
                &["gobgp", "global", "rib", "-a", "ipv4", "-j"],
            ),
            // GoBGP has no BFD; it installs no routes, but the table still shows static ones.
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
mod tests;
