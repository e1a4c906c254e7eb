//! Quagga 1.2.4 (bgpd, zebra): no BFD; its route table (`show ip bgp`) shows no
//! communities (only the per-prefix view does, one command per prefix on every poll).
//! Its image is compiled from the upstream tarball, so it needs the internet to build.

pub mod parse;

use super::{
    ConfigFile, ImageDownload, ImageProfile, Kind, KindProfile, Parsers, RenderError, RouterKind,
    RouterView, StatePart, StateQuery, argv, config_file, kernel_query, render_template, shell,
};
use crate::parse::Tool;
use ipnet::IpNet;

pub const KIND: RouterKind = RouterKind::of(&Quagga);

pub const TOOL: Tool = Tool("Quagga");

/// Where its files live inside the container.
pub mod paths {
    pub const ZEBRA_CONF: &str = "/etc/quagga/zebra.conf";
    pub const BGPD_CONF: &str = "/etc/quagga/bgpd.conf";
    pub const RUN_DIR: &str = "/run/quagga";
    pub const LOG_DIR: &str = "/var/log/quagga";
    pub const ZEBRA_LOG: &str = "/var/log/quagga/zebra.log";
    pub const BGPD_LOG: &str = "/var/log/quagga/bgpd.log";
}

/// Where the image's build downloads Quagga's source (its Dockerfile pins it by sha256;
/// a unit test keeps the two in step).
pub const SOURCE_URL: &str =
    "https://download.savannah.gnu.org/releases/quagga/quagga-1.2.4.tar.gz";

static PROFILE: KindProfile = KindProfile {
    name: "quagga",
    speaks_bgp: true,
    asn_always: false,
    bfd: false,
    reads_communities: false,
    kernel_routes: true,
    // Like FRR's, its privilege code keeps SYS_ADMIN and refuses to start without it.
    capabilities: super::frr::NET_AND_SYS_ADMIN,
    daemon_logs: &[paths::ZEBRA_LOG, paths::BGPD_LOG],
    image: Some(ImageProfile {
        context: &[super::image_file!("quagga", "Dockerfile")],
        // Compiled from a source tarball downloaded at build time: built only when asked
        // for (or by `up` for a lab that has a Quagga router), never on an offline
        // machine by default.
        built_by_default: false,
        download: Some(ImageDownload {
            what: "the Quagga source tarball",
            url: SOURCE_URL,
            failed_marker: "Quagga source tarball could not be fetched",
        }),
    }),
};

pub struct Quagga;

fn vtysh(part: StatePart, command: &str) -> StateQuery {
    StateQuery::new(part, &["vtysh", "-c", command])
}

impl Kind for Quagga {
    fn profile(&self) -> &'static KindProfile {
        &PROFILE
    }

    fn tool(&self) -> Tool {
        TOOL
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "quagga/zebra.conf.j2",
                include_str!("templates/zebra.conf.j2"),
            ),
            (
                "quagga/bgpd.conf.j2",
                include_str!("templates/bgpd.conf.j2"),
            ),
        ]
    }

    fn config_files(&self, view: &RouterView) -> Result<Vec<ConfigFile>, RenderError> {
        Ok(vec![
            config_file(
                paths::ZEBRA_CONF,
                render_template("quagga/zebra.conf.j2", view)?,
            ),
            config_file(
                paths::BGPD_CONF,
                render_template("quagga/bgpd.conf.j2", view)?,
            ),
        ])
    }

    // zebra first: bgpd learns interfaces and installs routes through it. Both bind their
    // telnet vty to loopback only.
    fn daemon_commands(&self, _announce: &[IpNet]) -> Vec<Vec<String>> {
        vec![
            argv(&["mkdir", "-p", paths::RUN_DIR, paths::LOG_DIR]),
            argv(&[
                "zebra",
                "-d",
                "-A",
                "127.0.0.1",
                "-f",
                paths::ZEBRA_CONF,
                "-i",
                "/run/quagga/zebra.pid",
            ]),
            argv(&[
                "bgpd",
                "-d",
                "-A",
                "127.0.0.1",
                "-f",
                paths::BGPD_CONF,
                "-i",
                "/run/quagga/bgpd.pid",
            ]),
        ]
    }

    fn daemons(&self) -> &'static [&'static str] {
        &["bgpd", "zebra"]
    }

    // Only the killed daemon's own start command (and its directories): the other one
    // runs on, and bgpd reconnects to a restarted zebra by itself.
    fn restart_commands(&self, daemon: &str, announce: &[IpNet]) -> Vec<Vec<String>> {
        self.daemon_commands(announce)
            .into_iter()
            .filter(|argv| argv[0] == "mkdir" || argv[0] == daemon)
            .collect()
    }

    // `-d` makes vtysh fail when that daemon is unreachable (without it, vtysh skips
    // unreachable daemons silently and exits 0).
    fn ready_command(&self) -> Option<Vec<String>> {
        Some(shell(
            "vtysh -d zebra -c 'show version' && vtysh -d bgpd -c 'show ip bgp summary'",
        ))
    }

    fn ready_words(&self) -> &'static [&'static str] {
        &["Quagga"]
    }

    fn state_queries(&self) -> Vec<StateQuery> {
        vec![
            // Quagga 1.2.4 has no JSON: the neighbors text has everything the summary has
            // plus descriptions and reset reasons.
            vtysh(StatePart::Sessions, parse::SESSIONS_COMMAND),
            // The table (no communities, no source peer in it).
            vtysh(StatePart::Routes, parse::ROUTES_COMMAND),
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

    // zebra's and bgpd's entries.
    fn prefix_view_queries(&self, prefix: IpNet) -> Vec<Vec<String>> {
        let family = if prefix.addr().is_ipv4() {
            "ip"
        } else {
            "ipv6"
        };
        vec![
            argv(&[
                "vtysh",
                "-c",
                &format!("show {family} route {prefix}"),
                "-c",
                &format!("show {family} bgp {prefix}"),
            ]),
            argv(&["tail", "-n", "20", paths::ZEBRA_LOG]),
        ]
    }
}

#[cfg(test)]
mod tests;
