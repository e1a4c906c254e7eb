//! What metallab knows of MetalLB itself (pure, and below the topology, whose validation
//! asks it what each release accepts):
//! - [`version`]: releases and what each can do (CRDs or ConfigMap, modes, fields);
//! - [`names`]: object names and durations as MetalLB spells them.
//!
//! MetalLB's configuration rendered from a plan is `render::metallb`; its install
//! manifests are fetched by `fetch::metallb_manifests`.

pub mod names;
pub mod version;

pub use version::{LATEST, MetallbMode, MetallbSetup, MetallbVersion, VersionError, mode_name};

/// The namespace MetalLB's manifests install into and its configuration lives in.
pub const NAMESPACE: &str = "metallb-system";

/// The legacy configuration ConfigMap (MetalLB up to v0.12): `metallb-system/config`.
pub const LEGACY_CONFIGMAP: &str = "config";

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
