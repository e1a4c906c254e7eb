//! A plain Linux host: no BGP daemon; static routes, forwarding, ping and HTTP only. The
//! kind every default of [`Kind`] describes.

use super::{ImageProfile, Kind, KindProfile, NET, RouterKind};

pub const KIND: RouterKind = RouterKind::of(&Linux);

static PROFILE: KindProfile = KindProfile {
    name: "linux",
    speaks_bgp: false,
    asn_always: false,
    bfd: false,
    reads_communities: false,
    kernel_routes: false,
    capabilities: NET,
    daemon_logs: &[],
    image: Some(ImageProfile {
        context: &[super::image_file!("linux", "Dockerfile")],
        built_by_default: true,
        download: None,
    }),
};

pub struct Linux;

impl Kind for Linux {
    fn profile(&self) -> &'static KindProfile {
        &PROFILE
    }
}

#[cfg(test)]
mod tests;
