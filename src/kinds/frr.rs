//! FRR (bgpd, zebra, bfdd): BFD, communities, routes into the kernel through zebra.

use super::{ImageProfile, KindProfile, NET_AND_SYS_ADMIN};

pub(super) const PROFILE: KindProfile = KindProfile {
    name: "frr",
    speaks_bgp: true,
    bfd: true,
    reads_communities: true,
    kernel_routes: true,
    capabilities: NET_AND_SYS_ADMIN,
    daemon_logs: &["/var/log/frr/frr.log"],
    image: Some(ImageProfile {
        built_by_default: true,
    }),
};
