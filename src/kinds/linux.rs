//! A plain Linux host: no BGP daemon (a next hop, a client, an HTTP server).

use super::{ImageProfile, KindProfile, NET};

pub(super) const PROFILE: KindProfile = KindProfile {
    name: "linux",
    speaks_bgp: false,
    bfd: false,
    reads_communities: false,
    kernel_routes: false,
    capabilities: NET,
    daemon_logs: &[],
    image: Some(ImageProfile {
        built_by_default: true,
    }),
};
