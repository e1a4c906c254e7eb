//! GoBGP: no BFD, and its routes stay in its own table (no zebra in metallab's image).

use super::{ImageProfile, KindProfile, NET};

/// gobgpd's output, redirected by its start command (it logs to stdout).
pub const LOG: &str = "/var/log/gobgpd.log";

pub(super) const PROFILE: KindProfile = KindProfile {
    name: "gobgp",
    speaks_bgp: true,
    bfd: false,
    reads_communities: true,
    kernel_routes: false,
    capabilities: NET,
    daemon_logs: &[LOG],
    image: Some(ImageProfile {
        built_by_default: true,
    }),
};
