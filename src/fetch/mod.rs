//! Downloads, each through a cache: MetalLB's install manifests per version and mode (or
//! the topology's own file or URL instead).

pub mod metallb_manifests;

pub use metallb_manifests::{
    ManifestError, ManifestFetcher, ManifestOrigin, ManifestRequest, Manifests, install_extras,
};
