//! BIRD 2 (one daemon, `birdc`): BFD, communities, routes into the kernel through its
//! kernel protocol.

pub mod parse;

use super::{
    ConfigFile, ImageProfile, Kind, KindProfile, NET, Parsers, Reload, RenderError, RouterKind,
    RouterView, StatePart, StateQuery, argv, config_file, kernel_query, render_template, shell,
};
use crate::parse::Tool;
use crate::state::ExecOutput;
use ipnet::IpNet;

pub const KIND: RouterKind = RouterKind::of(&Bird);

pub const TOOL: Tool = Tool("BIRD");

/// Where its files live inside the container.
pub mod paths {
    pub const CONF: &str = "/etc/bird/bird.conf";
    /// Its control socket's directory, which images other than ours may lack.
    pub const RUN_DIR: &str = "/run/bird";
    /// Where the template makes BIRD log.
    pub const LOG: &str = "/var/log/bird.log";
}

static PROFILE: KindProfile = KindProfile {
    name: "bird",
    speaks_bgp: true,
    asn_always: false,
    bfd: true,
    reads_communities: true,
    kernel_routes: true,
    capabilities: NET,
    daemon_logs: &[paths::LOG],
    image: Some(ImageProfile {
        context: &[super::image_file!("bird", "Dockerfile")],
        built_by_default: true,
        download: None,
    }),
};

pub struct Bird;

/// How long after start the nudge below watches for sessions, in fifths of a second.
const NUDGE_FIFTHS: u32 = 150;

/// A watcher left running in the background while a BIRD router's lab comes up. Without
/// graceful restart (off, so a dead peer's routes go at once), BIRD 2.0 to 2.17 queues a
/// new session's first update while the keepalive that completed the session is still
/// being sent, and sends it only with its next keepalive (up to 3 s later at hold time 9)
/// unless the peer sends an update first. For each BGP protocol that comes up in the
/// first 30 s the watcher asks once for its routes again (`birdc reload out`), which
/// sends them at once; it stops when every BGP protocol of the config was handled.
pub(crate) fn first_update_nudge() -> String {
    // Only `sleep` and `birdc` are processes of their own each round: the rest is the
    // shell's (`while read` from a file, not a pipe, keeps its variables).
    format!(
        "( total=$(grep -c '^protocol bgp ' {conf}); protocols={run}/metallab-protocols; \
           handled=0; names=' '; i=0; \
           while [ $i -lt {fifths} ] && [ $handled -lt $total ]; do \
             i=$((i+1)); sleep 0.2; \
             birdc show protocols >$protocols || continue; \
             while read -r name proto rest; do \
               [ \"$proto\" = BGP ] || continue; \
               case \"$rest\" in *Established*) ;; *) continue ;; esac; \
               case \"$names\" in *\" $name \"*) continue ;; esac; \
               names=\"$names$name \"; handled=$((handled+1)); \
               birdc reload out \"$name\" >/dev/null; \
             done <$protocols; \
           done ) </dev/null >/dev/null 2>&1 &",
        conf = paths::CONF,
        run = paths::RUN_DIR,
        fifths = NUDGE_FIFTHS,
    )
}

impl Kind for Bird {
    fn profile(&self) -> &'static KindProfile {
        &PROFILE
    }

    fn tool(&self) -> Tool {
        TOOL
    }

    // BIRD strings have no escapes.
    fn password_problem(&self, password: &str) -> Option<&'static str> {
        (password.contains('"') || password.contains('\\'))
            .then_some("contains `\"` or `\\`, which BIRD config strings cannot hold")
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[("bird/bird.conf.j2", include_str!("templates/bird.conf.j2"))]
    }

    fn config_files(&self, view: &RouterView) -> Result<Vec<ConfigFile>, RenderError> {
        Ok(vec![config_file(
            paths::CONF,
            render_template("bird/bird.conf.j2", view)?,
        )])
    }

    // bird daemonizes by itself.
    fn daemon_commands(&self, _announce: &[IpNet]) -> Vec<Vec<String>> {
        vec![
            argv(&["mkdir", "-p", paths::RUN_DIR]),
            argv(&["bird", "-c", paths::CONF]),
            shell(first_update_nudge()),
        ]
    }

    // `birdc configure` restarts only the protocols whose config changed; it prints
    // "Reconfigured" (or "Reconfiguration in progress") and exits 0 even when it refused
    // the file, so the parse-only run names the error first and the output is checked.
    // New sessions get the nudge too.
    fn reload(&self, changed: &[&str]) -> Option<Reload> {
        Reload::of_only(
            paths::CONF,
            changed,
            "birdc configure",
            vec![
                argv(&["bird", "-p", "-c", paths::CONF]),
                shell(
                    "out=$(birdc configure 2>&1); echo \"$out\"; \
                     case \"$out\" in *Reconfigur*) ;; *) exit 1 ;; esac",
                ),
                shell(first_update_nudge()),
            ],
        )
    }

    fn daemons(&self) -> &'static [&'static str] {
        &["bird"]
    }

    fn ready_command(&self) -> Option<Vec<String>> {
        Some(argv(&["birdc", "show", "status"]))
    }

    fn ready_words(&self) -> &'static [&'static str] {
        &["Daemon is up and running"]
    }

    fn state_queries(&self) -> Vec<StateQuery> {
        vec![
            // `show status` first: its "Current server time" turns the wall-clock "Since"
            // column into seconds ago. `&&` keeps birdc's exit code when BIRD is down.
            StateQuery::shell(
                StatePart::Sessions,
                "birdc show status && birdc show protocols all",
            ),
            // Every route of every table with all paths and their BGP attributes.
            StateQuery::new(StatePart::Routes, &["birdc", "show", "route", "all"]),
            StateQuery::shell(
                StatePart::Bfd,
                "birdc show status && birdc show bfd sessions",
            ),
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

    // A BIRD whose config has no `protocol bfd` (no session asked for BFD) has no BFD
    // peers; birdc reports that with exit code 1, which is not a failure.
    fn part_is_absent(&self, part: StatePart, output: &ExecOutput) -> bool {
        part == StatePart::Bfd
            && output
                .stdout
                .lines()
                .any(|l| l.trim() == "There is no BFD protocol running")
    }

    // Its route with all attributes and the kernel protocol that exports to the kernel.
    fn prefix_view_queries(&self, prefix: IpNet) -> Vec<Vec<String>> {
        vec![
            argv(&["birdc", "show", "route", "for", &prefix.to_string(), "all"]),
            // The template's one kernel protocol, unnamed, so BIRD calls it kernel1.
            argv(&["birdc", "show", "protocols", "all", "kernel1"]),
        ]
    }
}

#[cfg(test)]
mod tests;
