//! MetalLB's side of a lab, as pure code plus one I/O edge (DESIGN.md §6):
//! - [`version`]: releases and what each can do (CRDs or ConfigMap, modes, fields);
//! - [`manifests`]: the upstream install manifests per version and mode, fetched through
//!   a cache or taken from the topology's override;
//! - [`config`]: MetalLB's configuration rendered from the plan, as CRDs (v0.13 and
//!   later) or the legacy `metallb-system/config` ConfigMap.
//!
//! Topology validation of the `metallb:` section lives in `topology::validate::metallb`
//! and uses [`version`] for what each release accepts.

pub mod config;
pub mod manifests;
pub mod version;

pub use config::{ConfigError, MetallbPeer, render, resolve_peers, to_yaml};
pub use manifests::{
    ManifestError, ManifestFetcher, ManifestOrigin, ManifestRequest, Manifests, install_extras,
};
pub use version::{LATEST, MetallbSetup, MetallbVersion, VersionError, mode_name};

/// The namespace MetalLB's manifests install into and its configuration lives in.
pub const NAMESPACE: &str = "metallb-system";

/// The API group of MetalLB's custom resources (v0.13 and later).
pub const GROUP: &str = "metallb.io";

/// MetalLB's configuration kinds (group [`GROUP`]), in the order a reader wants them.
pub const CONFIG_KINDS: [&str; 6] = [
    "IPAddressPool",
    "BGPPeer",
    "BGPAdvertisement",
    "BFDProfile",
    "Community",
    "L2Advertisement",
];
