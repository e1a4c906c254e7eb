//! BIRD 2: BFD, communities, routes into the kernel through its kernel protocol.

use super::{ImageProfile, KindProfile, NET};

pub(super) const PROFILE: KindProfile = KindProfile {
    name: "bird",
    speaks_bgp: true,
    bfd: true,
    reads_communities: true,
    kernel_routes: true,
    capabilities: NET,
    daemon_logs: &["/var/log/bird.log"],
    image: Some(ImageProfile {
        built_by_default: true,
    }),
};
