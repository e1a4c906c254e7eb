//! MetalLB releases and what each one can do.
//!
//! Facts come from MetalLB's release notes and sources (see reference/metallb.md):
//! - v0.9.x needs a `memberlist` Secret created by hand (v0.10.0 made the controller create it);
//! - v0.11.0 added `source-address`;
//! - v0.12.0 added the FRR mode (`manifests/metallb-frr.yaml`) and with it BFD, IPv6 BGP,
//!   `keepalive-time`, `ebgp-multihop` and `aggregation-length-v6`;
//! - v0.13.x replaced the `config` ConfigMap with CRDs (BGPPeer at `metallb.io/v1beta2`
//!   from the first CRD release; v0.13.0/v0.13.1 were never published, v0.13.2 is the
//!   first); `avoidBuggyIPs` was missing from v0.13.2 and v0.13.3 and came back in v0.13.4;
//!   v0.13.10 added large communities and the local-preference consistency rule;
//! - v0.14.x added the frr-k8s mode (`metallb-frr-k8s.yaml`) and stopped refusing configs
//!   that orphan assigned IPs (#462: services are un-assigned instead of `InvalidConfig`).

use crate::topology::model::MetallbMode;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A MetalLB release, `v0.14.8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetallbVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// The newest release metallab knows (the default when a topology names none).
pub const LATEST: MetallbVersion = MetallbVersion::new(0, 16, 1);

/// The oldest release metallab installs: the first whose manifests are split into
/// `namespace.yaml` + `metallb.yaml` (v0.9.0 and v0.9.1 were never published).
pub const OLDEST_SUPPORTED: MetallbVersion = MetallbVersion::new(0, 9, 3);

/// First release configured through CRDs instead of the `config` ConfigMap.
pub const FIRST_WITH_CRDS: MetallbVersion = MetallbVersion::new(0, 13, 0);

const FIRST_WITH_SOURCE_ADDRESS: MetallbVersion = MetallbVersion::new(0, 11, 0);
const FIRST_WITH_FRR: MetallbVersion = MetallbVersion::new(0, 12, 0);
const FIRST_WITH_FRR_K8S: MetallbVersion = MetallbVersion::new(0, 14, 0);
const FIRST_WITH_LARGE_COMMUNITIES: MetallbVersion = MetallbVersion::new(0, 13, 10);
const FIRST_WITH_CONTROLLER_MADE_MEMBERLIST: MetallbVersion = MetallbVersion::new(0, 10, 0);
const FIRST_UNASSIGNING_ON_POOL_REMOVAL: MetallbVersion = MetallbVersion::new(0, 14, 0);

impl MetallbVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> MetallbVersion {
        MetallbVersion {
            major,
            minor,
            patch,
        }
    }

    /// The git tag, `v0.14.8`, as used in manifest URLs.
    pub fn tag(&self) -> String {
        self.to_string()
    }

    /// Configured through CRDs (v0.13 and later) rather than the legacy ConfigMap.
    pub fn uses_crds(&self) -> bool {
        *self >= FIRST_WITH_CRDS
    }

    /// The first release that has `mode`.
    pub fn first_with_mode(mode: MetallbMode) -> MetallbVersion {
        match mode {
            MetallbMode::Native => MetallbVersion::new(0, 0, 0),
            MetallbMode::Frr => FIRST_WITH_FRR,
            MetallbMode::FrrK8s => FIRST_WITH_FRR_K8S,
        }
    }

    pub fn supports_mode(&self, mode: MetallbMode) -> bool {
        *self >= Self::first_with_mode(mode)
    }

    /// The mode used when the topology names none: FRR where it exists (the model's
    /// default), native before v0.12 where it is the only one.
    pub fn default_mode(&self) -> MetallbMode {
        if self.supports_mode(MetallbMode::Frr) {
            MetallbMode::default()
        } else {
            MetallbMode::Native
        }
    }

    /// `apiVersion` of BGPPeer objects: v1beta2 exists in every CRD release (v1beta1 is
    /// converted by a webhook and deprecated); None for ConfigMap releases.
    pub fn bgp_peer_api_version(&self) -> Option<&'static str> {
        self.uses_crds().then_some("metallb.io/v1beta2")
    }

    /// Whether removing a pool that still holds assigned IPs makes MetalLB refuse the
    /// whole config (`InvalidConfig` event, stale config) instead of un-assigning the
    /// services: true before v0.14.0.
    pub fn rejects_config_orphaning_assigned_ips(&self) -> bool {
        *self < FIRST_UNASSIGNING_ON_POOL_REMOVAL
    }

    /// v0.9.x speakers need `metallb-system/memberlist` (key `secretkey`) created before
    /// they start; later controllers create it themselves.
    pub fn needs_memberlist_secret(&self) -> bool {
        *self < FIRST_WITH_CONTROLLER_MADE_MEMBERLIST
    }

    /// `source-address` on peers (v0.11.0).
    pub fn supports_source_address(&self) -> bool {
        *self >= FIRST_WITH_SOURCE_ADDRESS
    }

    /// The peer/advertisement fields that came with the FRR mode in v0.12.0 and that
    /// older ConfigMap parsers do not know: `keepalive-time`, `ebgp-multihop`,
    /// `bfd-profile`, `bfd-profiles`, `aggregation-length-v6`.
    pub fn supports_frr_era_fields(&self) -> bool {
        *self >= FIRST_WITH_FRR
    }

    /// `avoidBuggyIPs` on IPAddressPool: in every ConfigMap release, dropped in v0.13.2
    /// and v0.13.3 and restored in v0.13.4.
    pub fn supports_avoid_buggy_ips(&self) -> bool {
        !(FIRST_WITH_CRDS..MetallbVersion::new(0, 13, 4)).contains(self)
    }

    /// `large:a:b:c` communities (v0.13.10, FRR modes only).
    pub fn supports_large_communities(&self) -> bool {
        *self >= FIRST_WITH_LARGE_COMMUNITIES
    }

    /// The rule that advertisements of one pool to the same peers agree on LOCAL_PREF
    /// (v0.13.10).
    pub fn checks_local_pref_conflicts(&self) -> bool {
        *self >= FIRST_WITH_LARGE_COMMUNITIES
    }

    /// BGPAdvertisement `peers` (selecting BGPPeers) exists since the CRDs.
    pub fn supports_advertisement_peers(&self) -> bool {
        self.uses_crds()
    }
}

impl fmt::Display for MetallbVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for MetallbVersion {
    type Err = VersionError;

    /// `v0.14.8` or `0.14.8`.
    fn from_str(text: &str) -> Result<MetallbVersion, VersionError> {
        let malformed = || VersionError::Malformed(text.to_string());
        let digits = text.trim().strip_prefix('v').unwrap_or(text.trim());
        let parts: Vec<&str> = digits.split('.').collect();
        let [major, minor, patch] = parts[..] else {
            return Err(malformed());
        };
        let number = |part: &str| -> Result<u32, VersionError> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            part.parse().map_err(|_| malformed())
        };
        Ok(MetallbVersion::new(
            number(major)?,
            number(minor)?,
            number(patch)?,
        ))
    }
}

/// The MetalLB mode's name as written in topologies and manifest file names.
pub fn mode_name(mode: MetallbMode) -> &'static str {
    match mode {
        MetallbMode::Native => "native",
        MetallbMode::Frr => "frr",
        MetallbMode::FrrK8s => "frr-k8s",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VersionError {
    #[error("`{0}` is not a MetalLB release version")]
    Malformed(String),
    #[error("MetalLB {0} is older than {OLDEST_SUPPORTED}, the oldest release metallab installs")]
    TooOld(MetallbVersion),
    #[error("MetalLB {version} has no {} mode (it arrived in {})", mode_name(*mode), MetallbVersion::first_with_mode(*mode))]
    ModeUnavailable {
        version: MetallbVersion,
        mode: MetallbMode,
    },
}

impl VersionError {
    /// How to fix it.
    pub fn hint(&self) -> String {
        match self {
            VersionError::Malformed(_) => {
                format!("write a release tag such as {LATEST} (major.minor.patch)")
            }
            VersionError::TooOld(_) => format!(
                "use {OLDEST_SUPPORTED} or later (v0.9.6 is what Minikube's addon ships; {LATEST} is the newest)"
            ),
            VersionError::ModeUnavailable { mode, .. } => format!(
                "use version {} or later for mode {}, or `mode: native`",
                MetallbVersion::first_with_mode(*mode),
                mode_name(*mode)
            ),
        }
    }
}

/// The MetalLB release and mode a topology asks for, defaults applied and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetallbSetup {
    pub version: MetallbVersion,
    pub mode: MetallbMode,
}

impl MetallbSetup {
    /// `version` defaults to [`LATEST`], `mode` to the version's [default](MetallbVersion::default_mode).
    pub fn resolve(
        version: Option<&str>,
        mode: Option<MetallbMode>,
    ) -> Result<MetallbSetup, VersionError> {
        let version = match version {
            Some(text) => text.parse()?,
            None => LATEST,
        };
        if version < OLDEST_SUPPORTED {
            return Err(VersionError::TooOld(version));
        }
        let mode = mode.unwrap_or_else(|| version.default_mode());
        if !version.supports_mode(mode) {
            return Err(VersionError::ModeUnavailable { version, mode });
        }
        Ok(MetallbSetup { version, mode })
    }

    pub fn of(spec: &crate::topology::model::MetallbSpec) -> Result<MetallbSetup, VersionError> {
        Self::resolve(spec.version.as_deref(), spec.mode)
    }

    /// BFD needs an FRR-based speaker.
    pub fn has_bfd(&self) -> bool {
        self.mode != MetallbMode::Native
    }

    /// The native speaker announces IPv4 only.
    pub fn has_ipv6_bgp(&self) -> bool {
        self.mode != MetallbMode::Native
    }

    pub fn has_large_communities(&self) -> bool {
        self.mode != MetallbMode::Native && self.version.supports_large_communities()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> MetallbVersion {
        text.parse().unwrap()
    }

    #[test]
    fn parses_tags_with_or_without_v() {
        assert_eq!(v("v0.14.8"), MetallbVersion::new(0, 14, 8));
        assert_eq!(v("0.9.6"), MetallbVersion::new(0, 9, 6));
        assert_eq!(v("v0.14.8").to_string(), "v0.14.8");
        for bad in [
            "v0.14",
            "latest",
            "v0.14.8-rc1",
            "v0..1",
            "v0.14.8.1",
            "",
            "v+1.2.3",
        ] {
            assert_eq!(
                bad.parse::<MetallbVersion>(),
                Err(VersionError::Malformed(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn versions_order_numerically() {
        assert!(v("v0.9.6") < v("v0.10.0"));
        assert!(v("v0.13.12") < v("v0.14.0"));
        assert!(LATEST > v("v0.15.3"));
    }

    #[test]
    fn feature_boundaries() {
        assert!(!v("v0.12.1").uses_crds());
        assert!(v("v0.13.2").uses_crds());
        assert_eq!(v("v0.12.1").bgp_peer_api_version(), None);
        assert_eq!(
            v("v0.13.2").bgp_peer_api_version(),
            Some("metallb.io/v1beta2")
        );
        assert!(v("v0.13.12").rejects_config_orphaning_assigned_ips());
        assert!(!v("v0.14.0").rejects_config_orphaning_assigned_ips());
        assert!(v("v0.9.6").needs_memberlist_secret());
        assert!(!v("v0.10.0").needs_memberlist_secret());
        assert!(!v("v0.10.3").supports_source_address());
        assert!(v("v0.11.0").supports_source_address());
        assert!(!v("v0.11.0").supports_frr_era_fields());
        assert!(v("v0.12.0").supports_frr_era_fields());
        assert!(v("v0.12.1").supports_avoid_buggy_ips());
        assert!(!v("v0.13.3").supports_avoid_buggy_ips());
        assert!(v("v0.13.4").supports_avoid_buggy_ips());
        assert!(!v("v0.13.9").supports_large_communities());
        assert!(v("v0.13.10").supports_large_communities());
    }

    #[test]
    fn modes_by_version() {
        use MetallbMode::*;
        assert!(v("v0.11.0").supports_mode(Native));
        assert!(!v("v0.11.0").supports_mode(Frr));
        assert!(v("v0.12.0").supports_mode(Frr));
        assert!(!v("v0.13.12").supports_mode(FrrK8s));
        assert!(v("v0.14.8").supports_mode(FrrK8s));
        assert_eq!(v("v0.9.6").default_mode(), Native);
        assert_eq!(v("v0.12.1").default_mode(), Frr);
    }

    #[test]
    fn setup_applies_defaults_and_rejects_impossible_combinations() {
        assert_eq!(
            MetallbSetup::resolve(None, None).unwrap(),
            MetallbSetup {
                version: LATEST,
                mode: MetallbMode::Frr
            }
        );
        assert_eq!(
            MetallbSetup::resolve(Some("v0.9.6"), None).unwrap().mode,
            MetallbMode::Native
        );
        let error = MetallbSetup::resolve(Some("v0.13.12"), Some(MetallbMode::FrrK8s)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "MetalLB v0.13.12 has no frr-k8s mode (it arrived in v0.14.0)"
        );
        assert_eq!(
            error.hint(),
            "use version v0.14.0 or later for mode frr-k8s, or `mode: native`"
        );
        let error = MetallbSetup::resolve(Some("v0.8.3"), None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "MetalLB v0.8.3 is older than v0.9.3, the oldest release metallab installs"
        );
    }
}
