//! Quagga 1.2.4 (bgpd, zebra): no BFD; its route table (`show ip bgp`) shows no
//! communities (only the per-prefix view does, one command per prefix on every poll).
//! Its image is compiled from the upstream tarball, so it needs the internet to build.

use super::{ImageProfile, KindProfile, NET_AND_SYS_ADMIN};

pub(super) const PROFILE: KindProfile = KindProfile {
    name: "quagga",
    speaks_bgp: true,
    bfd: false,
    reads_communities: false,
    kernel_routes: true,
    capabilities: NET_AND_SYS_ADMIN,
    daemon_logs: &["/var/log/quagga/zebra.log", "/var/log/quagga/bgpd.log"],
    image: Some(ImageProfile {
        built_by_default: false,
    }),
};
