//! MetalLB releases, what each one can do, and the release boundaries of the rules MetalLB
//! enforces on its configuration.
//!
//! Facts come from MetalLB's release notes and sources:
//! - v0.9.x needs a `memberlist` Secret created by hand (v0.10.0 made the controller create it);
//! - v0.11.0 added `source-address`;
//! - v0.12.0 added the FRR mode (`manifests/metallb-frr.yaml`) and with it BFD, IPv6 BGP,
//!   `keepalive-time`, `ebgp-multihop` and `aggregation-length-v6`;
//! - v0.13.x replaced the `config` ConfigMap with CRDs (BGPPeer at `metallb.io/v1beta2`
//!   from the first CRD release; v0.13.2 is the first one published); `avoidBuggyIPs` was
//!   missing until v0.13.4; v0.13.10 added large communities and the local-preference
//!   consistency rule;
//! - v0.14.x added the frr-k8s mode (`metallb-frr-k8s.yaml`) and stopped refusing configs
//!   that orphan assigned IPs (#462: services are un-assigned instead of `InvalidConfig`).
//!
//! Every boundary below is the first release with the new behaviour, and every boundary is
//! a release in [`RELEASES`]; so a version metallab does not know (allowed with
//! `metallb.manifests`) falls on the same side of every boundary as the nearest known
//! release below it, and gets that release's rules.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Which speaker a MetalLB deployment runs (`metallb.mode`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MetallbMode {
    Native,
    #[default]
    Frr,
    FrrK8s,
}

/// A MetalLB release, `v0.14.8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetallbVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

const fn v(minor: u32, patch: u32) -> MetallbVersion {
    MetallbVersion::new(0, minor, patch)
}

/// The newest release metallab knows (the default when a topology names none).
pub const LATEST: MetallbVersion = v(16, 1);

/// The oldest release metallab installs: the first whose manifests are split into
/// `namespace.yaml` + `metallb.yaml` (v0.9.0 and v0.9.1 were never published).
pub const OLDEST_SUPPORTED: MetallbVersion = v(9, 3);

/// Every MetalLB release metallab knows, oldest first: the `v0.*` tags of MetalLB's
/// repository from [`OLDEST_SUPPORTED`] to [`LATEST`]. Without `metallb.manifests`, a
/// topology must name one of these.
///
/// v0.13.0, v0.13.1, v0.13.8, v0.14.0 and v0.14.1 are tagged and their manifests exist at
/// the tag, but they were probably never published (MetalLB's release notes skip them for
/// the next patch, tagged hours or a day later); they stay accepted since their manifests
/// install, but
/// [`VersionError::Unknown`]'s hint never suggests them (see [`INFERRED_UNPUBLISHED`]).
pub const RELEASES: &[MetallbVersion] = &[
    v(9, 3),
    v(9, 4),
    v(9, 5),
    v(9, 6),
    v(9, 7),
    v(9, 8),
    v(10, 0),
    v(10, 1),
    v(10, 2),
    v(10, 3),
    v(11, 0),
    v(12, 0),
    v(12, 1),
    v(13, 0),
    v(13, 1),
    v(13, 2),
    v(13, 3),
    v(13, 4),
    v(13, 5),
    v(13, 6),
    v(13, 7),
    v(13, 8),
    v(13, 9),
    v(13, 10),
    v(13, 11),
    v(13, 12),
    v(14, 0),
    v(14, 1),
    v(14, 2),
    v(14, 3),
    v(14, 4),
    v(14, 5),
    v(14, 6),
    v(14, 7),
    v(14, 8),
    v(14, 9),
    v(15, 0),
    v(15, 1),
    v(15, 2),
    v(15, 3),
    v(16, 0),
    v(16, 1),
];

/// Tags in [`RELEASES`] whose publication is only inferred (see there).
pub const INFERRED_UNPUBLISHED: &[MetallbVersion] =
    &[v(13, 0), v(13, 1), v(13, 8), v(14, 0), v(14, 1)];

/// First release configured through CRDs instead of the `config` ConfigMap. The CRD
/// rules (`internal/config/validation.go`) are the same from this tag to v0.13.7. With the
/// CRDs come the schema bounds (`api/v1beta2/bgppeer_types.go`: `peerPort` at most 16384;
/// `api/v1beta1/bgpadvertisement_types.go`: `aggregationLength` at least 1), the refusal of
/// a pool or peer listed twice in one BGPAdvertisement (`internal/config/config.go`
/// `duplicate definition of ipAddressPools`/`peers`), and BGPAdvertisement `peers`.
pub const FIRST_WITH_CRDS: MetallbVersion = v(13, 0);

/// `internal/config/config.go`: the ConfigMap's peers know `source-address` (its strict
/// YAML parser refuses the key before).
const FIRST_WITH_SOURCE_ADDRESS: MetallbVersion = v(11, 0);
/// The FRR mode, and with it the ConfigMap keys `keepalive-time`, `ebgp-multihop`,
/// `bfd-profile(s)` and `aggregation-length-v6`; `internal/config/config.go` `parsePeer`
/// refuses `ebgp-multihop` on iBGP from here on.
const FIRST_WITH_FRR: MetallbVersion = v(12, 0);
/// `config/manifests/metallb-frr-k8s.yaml` (first published in v0.14.2).
const FIRST_WITH_FRR_K8S: MetallbVersion = v(14, 0);
/// The controller creates the `memberlist` Secret itself.
const FIRST_WITH_CONTROLLER_MADE_MEMBERLIST: MetallbVersion = v(10, 0);
/// A config that orphans assigned IPs un-assigns the services instead of being refused.
const FIRST_UNASSIGNING_ON_POOL_REMOVAL: MetallbVersion = v(14, 0);
/// `avoidBuggyIPs` is back in `IPAddressPoolSpec` (`api/v1beta1/ipaddresspool_types.go`).
const AVOID_BUGGY_IPS_BACK: MetallbVersion = v(13, 4);
/// `internal/bgp/community/community.go`: `large:a:b:c` communities; native mode refuses
/// them (`internal/config/validation.go` `findNonLegacyCommunity`).
const FIRST_WITH_LARGE_COMMUNITIES: MetallbVersion = v(13, 10);
/// `internal/config/config.go` `validateBGPAdvPerPool`: advertisements of one pool that
/// make the same BGP update must agree on localPref.
const FIRST_CHECKING_LOCAL_PREF: MetallbVersion = v(13, 10);
/// `internal/config/config.go` `isAggrLengthDifferent`: the localPref rule only compares
/// the aggregation lengths of the address families the pool has (before: both lengths
/// must differ).
const FIRST_WITH_FAMILY_AWARE_LOCAL_PREF: MetallbVersion = v(15, 0);
/// `internal/config/validation.go` `validateConfig`/`hasBFDEcho`: an advertisement of a
/// pool with an IPv6 CIDR must not reach a peer whose BFD profile has echo mode.
const FIRST_REFUSING_BFD_ECHO_WITH_IPV6: MetallbVersion = v(13, 10);
/// `internal/config/config.go` `Parse` (ConfigMap): two identical peers are refused
/// (`peer #N already exists`). CRD releases compare whole BGPPeer objects, names included,
/// so the rule never fires there.
const FIRST_REFUSING_IDENTICAL_PEERS: MetallbVersion = v(10, 0);
/// `internal/config/config.go` `ParseCIDR`: a range whose start is after its end is
/// refused (earlier releases silently take no address from it).
const FIRST_REFUSING_REVERSED_RANGES: MetallbVersion = v(11, 0);
/// `ParseCIDR` again: v0.11.0 compared with `>=`, refusing a single-address range `A-A`;
/// v0.12.0 went back to `>` ("allow CIDR range to be a single IP").
const FIRST_ALLOWING_SINGLE_ADDRESS_RANGES: MetallbVersion = v(12, 0);
/// `internal/config/config.go` `parseBGPAdvertisements`: the aggregation length is checked
/// per `addresses` entry against its widest CIDR (`lowestMask`), per address family.
/// Before, every CIDR of the pool (ranges split into CIDRs) had to fit the IPv4 length, so
/// the most specific one decided.
const FIRST_WITH_PER_ENTRY_AGGREGATION: MetallbVersion = v(12, 0);
/// `internal/config/config.go` `validateDuplicateAdvertisements` and
/// `validateDuplicateCommunities` (ConfigMap): two equal `bgp-advertisements` entries of
/// one pool, and a community listed twice in one, are refused. v0.9–v0.11 keep both
/// (communities go into a set). CRD releases keep refusing duplicate communities
/// (`duplicate definition of community`) but compare BGPAdvertisements as whole objects,
/// names included, so identical specs under two names pass.
const FIRST_REFUSING_DUPLICATE_ADVERTISEMENTS: MetallbVersion = v(12, 0);
/// `internal/config/config.go` `parseTimers`: timers are pointers. Keepalive alone derives
/// hold = 3 × keepalive (before: hold 90 s), and an explicit zero is kept (before: a zero
/// hold or keepalive read as unset, i.e. 90 s and hold/3).
const FIRST_WITH_OPTIONAL_TIMERS: MetallbVersion = v(14, 9);
/// `internal/config/validation.go` `findIPv6BGPAdvertisement` (native mode): only pools
/// some BGPAdvertisement selects are scanned for IPv6. From the CRDs until then, every
/// pool was scanned, layer2 ones too, as soon as any BGPAdvertisement existed.
const FIRST_SCANNING_ONLY_BGP_POOLS_FOR_IPV6: MetallbVersion = v(14, 9);
/// `api/v1beta2/bgppeer_types.go`: `peerPort` has `Minimum=1` (before: 0).
const FIRST_REFUSING_PEER_PORT_ZERO: MetallbVersion = v(15, 0);
/// `internal/config/validation.go` `checkFRRPeersCompatible`: the FRR-mode rules on peers
/// (one router ID, one peer per address) only bind peers whose node selectors share a
/// node. From v0.12.0 to v0.15.3 they bound every peer.
const FIRST_WITH_NODE_SCOPED_FRR_PEER_RULES: MetallbVersion = v(16, 0);

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

    /// `avoidBuggyIPs` on IPAddressPool: in every ConfigMap release, missing from the
    /// first CRD releases and restored in v0.13.4.
    pub fn supports_avoid_buggy_ips(&self) -> bool {
        !(FIRST_WITH_CRDS..AVOID_BUGGY_IPS_BACK).contains(self)
    }

    /// The releases without `avoidBuggyIPs` ("MetalLB v0.13.0–v0.13.3").
    pub fn releases_without_avoid_buggy_ips() -> String {
        releases(FIRST_WITH_CRDS, Some(AVOID_BUGGY_IPS_BACK))
    }

    /// `large:a:b:c` communities (v0.13.10, FRR modes only).
    pub fn supports_large_communities(&self) -> bool {
        *self >= FIRST_WITH_LARGE_COMMUNITIES
    }

    /// The releases with large communities.
    pub fn releases_with_large_communities() -> String {
        releases(FIRST_WITH_LARGE_COMMUNITIES, None)
    }

    /// The rule that advertisements of one pool to the same peers agree on LOCAL_PREF.
    pub fn checks_local_pref_conflicts(&self) -> bool {
        *self >= FIRST_CHECKING_LOCAL_PREF
    }

    /// Whether the LOCAL_PREF rule compares only the aggregation lengths of the families
    /// the pool has (else two advertisements differ only when both lengths differ); and
    /// the releases of this version's variant of the rule.
    pub fn local_pref_rule(&self) -> (bool, String) {
        if *self >= FIRST_WITH_FAMILY_AWARE_LOCAL_PREF {
            (true, releases(FIRST_WITH_FAMILY_AWARE_LOCAL_PREF, None))
        } else {
            (
                false,
                releases(
                    FIRST_CHECKING_LOCAL_PREF,
                    Some(FIRST_WITH_FAMILY_AWARE_LOCAL_PREF),
                ),
            )
        }
    }

    /// An advertisement of an IPv6 pool must not reach a peer with BFD echo mode.
    pub fn refuses_bfd_echo_with_ipv6(&self) -> bool {
        *self >= FIRST_REFUSING_BFD_ECHO_WITH_IPV6
    }

    pub fn releases_refusing_bfd_echo_with_ipv6() -> String {
        releases(FIRST_REFUSING_BFD_ECHO_WITH_IPV6, None)
    }

    /// `ebgp-multihop`/`ebgpMultiHop` on an iBGP peer is refused (the field exists).
    pub fn refuses_ibgp_multihop(&self) -> bool {
        *self >= FIRST_WITH_FRR
    }

    pub fn releases_refusing_ibgp_multihop() -> String {
        releases(FIRST_WITH_FRR, None)
    }

    /// The ConfigMap refuses two identical peers (`peer #N already exists`).
    pub fn refuses_identical_peers(&self) -> bool {
        (FIRST_REFUSING_IDENTICAL_PEERS..FIRST_WITH_CRDS).contains(self)
    }

    pub fn releases_refusing_identical_peers() -> String {
        releases(FIRST_REFUSING_IDENTICAL_PEERS, Some(FIRST_WITH_CRDS))
    }

    /// A range whose end comes before its start is refused (earlier: silently empty).
    pub fn refuses_reversed_ranges(&self) -> bool {
        *self >= FIRST_REFUSING_REVERSED_RANGES
    }

    pub fn releases_refusing_reversed_ranges() -> String {
        releases(FIRST_REFUSING_REVERSED_RANGES, None)
    }

    /// The releases that silently take no address from a reversed range.
    pub fn releases_ignoring_reversed_ranges() -> String {
        releases(OLDEST_SUPPORTED, Some(FIRST_REFUSING_REVERSED_RANGES))
    }

    /// A single-address range `A-A` is refused (v0.11.0 only).
    pub fn refuses_single_address_ranges(&self) -> bool {
        (FIRST_REFUSING_REVERSED_RANGES..FIRST_ALLOWING_SINGLE_ADDRESS_RANGES).contains(self)
    }

    pub fn releases_refusing_single_address_ranges() -> String {
        releases(
            FIRST_REFUSING_REVERSED_RANGES,
            Some(FIRST_ALLOWING_SINGLE_ADDRESS_RANGES),
        )
    }

    /// Whether the aggregation length is checked per `addresses` entry against its widest
    /// CIDR and per family (true), or against the most specific CIDR of the whole pool with
    /// the IPv4 length (false); and the releases of this version's variant.
    pub fn aggregation_rule(&self) -> (bool, String) {
        if *self >= FIRST_WITH_PER_ENTRY_AGGREGATION {
            (true, releases(FIRST_WITH_PER_ENTRY_AGGREGATION, None))
        } else {
            (
                false,
                releases(OLDEST_SUPPORTED, Some(FIRST_WITH_PER_ENTRY_AGGREGATION)),
            )
        }
    }

    /// Two equal `bgp-advertisements` entries of one pool are refused (ConfigMap).
    pub fn refuses_duplicate_legacy_advertisements(&self) -> bool {
        (FIRST_REFUSING_DUPLICATE_ADVERTISEMENTS..FIRST_WITH_CRDS).contains(self)
    }

    pub fn releases_refusing_duplicate_legacy_advertisements() -> String {
        releases(
            FIRST_REFUSING_DUPLICATE_ADVERTISEMENTS,
            Some(FIRST_WITH_CRDS),
        )
    }

    /// A community listed twice in one advertisement is refused.
    pub fn refuses_duplicate_communities(&self) -> bool {
        *self >= FIRST_REFUSING_DUPLICATE_ADVERTISEMENTS
    }

    pub fn releases_refusing_duplicate_communities() -> String {
        releases(FIRST_REFUSING_DUPLICATE_ADVERTISEMENTS, None)
    }

    /// Timers are optional: keepalive alone gives hold = 3 × keepalive, and zero is kept.
    /// Before, keepalive alone ran against the 90 s default hold, and (with CRDs) a zero
    /// hold or keepalive meant "unset".
    pub fn has_optional_timers(&self) -> bool {
        *self >= FIRST_WITH_OPTIONAL_TIMERS
    }

    /// The releases sharing this version's timer defaults.
    pub fn timer_releases(&self) -> String {
        if self.has_optional_timers() {
            releases(FIRST_WITH_OPTIONAL_TIMERS, None)
        } else if self.uses_crds() {
            releases(FIRST_WITH_CRDS, Some(FIRST_WITH_OPTIONAL_TIMERS))
        } else {
            releases(FIRST_WITH_FRR, Some(FIRST_WITH_CRDS))
        }
    }

    /// The CRD releases that read a zero holdTime or keepaliveTime as unset.
    pub fn reads_zero_timers_as_unset(&self) -> bool {
        (FIRST_WITH_CRDS..FIRST_WITH_OPTIONAL_TIMERS).contains(self)
    }

    /// Native mode: whether every pool, layer2 ones included, is scanned for IPv6 once
    /// any BGPAdvertisement exists (rather than only the pools advertisements select).
    pub fn native_ipv6_scans_every_pool(&self) -> bool {
        (FIRST_WITH_CRDS..FIRST_SCANNING_ONLY_BGP_POOLS_FOR_IPV6).contains(self)
    }

    pub fn releases_scanning_every_pool_for_ipv6() -> String {
        releases(
            FIRST_WITH_CRDS,
            Some(FIRST_SCANNING_ONLY_BGP_POOLS_FOR_IPV6),
        )
    }

    /// The releases refusing IPv6 BGP in native mode the way this one does.
    pub fn native_ipv6_releases(&self) -> String {
        if *self >= FIRST_SCANNING_ONLY_BGP_POOLS_FOR_IPV6 {
            releases(FIRST_SCANNING_ONLY_BGP_POOLS_FOR_IPV6, None)
        } else if self.uses_crds() {
            Self::releases_scanning_every_pool_for_ipv6()
        } else {
            releases(FIRST_WITH_FRR, Some(FIRST_WITH_CRDS))
        }
    }

    /// `peerPort: 0` is refused by the BGPPeer CRD's schema.
    pub fn refuses_peer_port_zero(&self) -> bool {
        *self >= FIRST_REFUSING_PEER_PORT_ZERO
    }

    pub fn releases_refusing_peer_port_zero() -> String {
        releases(FIRST_REFUSING_PEER_PORT_ZERO, None)
    }

    /// The CRD releases that store `peerPort: 0` (the schema's minimum is 0).
    pub fn releases_taking_peer_port_zero() -> String {
        releases(FIRST_WITH_CRDS, Some(FIRST_REFUSING_PEER_PORT_ZERO))
    }

    /// FRR modes: whether the one-router-ID and one-peer-per-address rules bind only
    /// peers whose node selectors share a node; and the releases of this variant.
    pub fn frr_peer_rules(&self) -> (bool, String) {
        if *self >= FIRST_WITH_NODE_SCOPED_FRR_PEER_RULES {
            (true, releases(FIRST_WITH_NODE_SCOPED_FRR_PEER_RULES, None))
        } else {
            (
                false,
                releases(FIRST_WITH_FRR, Some(FIRST_WITH_NODE_SCOPED_FRR_PEER_RULES)),
            )
        }
    }

    /// The releases of the ConfigMap (before the CRDs).
    pub fn config_map_releases() -> String {
        releases(OLDEST_SUPPORTED, Some(FIRST_WITH_CRDS))
    }

    /// The ConfigMap releases before the FRR mode (native only, IPv4 only).
    pub fn config_map_releases_before_frr() -> String {
        releases(OLDEST_SUPPORTED, Some(FIRST_WITH_FRR))
    }

    /// The CRD releases.
    pub fn crd_releases() -> String {
        releases(FIRST_WITH_CRDS, None)
    }

    /// The releases with the FRR mode (and BFD, `keepalive-time`, …).
    pub fn frr_releases() -> String {
        releases(FIRST_WITH_FRR, None)
    }

    /// Whether metallab knows this release (it is in [`RELEASES`]).
    pub fn is_known(&self) -> bool {
        RELEASES.binary_search(self).is_ok()
    }

    /// The nearest releases metallab knows around this version, for a hint: up to two
    /// below and one above, published ones only.
    pub fn known_nearby(&self) -> Vec<MetallbVersion> {
        let published: Vec<MetallbVersion> = RELEASES
            .iter()
            .copied()
            .filter(|r| !INFERRED_UNPUBLISHED.contains(r))
            .collect();
        let split = published.partition_point(|r| r < self);
        let mut nearby = published[split.saturating_sub(2)..split].to_vec();
        nearby.extend(published[split..].iter().find(|r| *r != self));
        nearby
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

/// The known releases from `from` up to, not including, `until` (None: to the newest and
/// beyond), for messages: "MetalLB v0.13.10 and later", "MetalLB v0.12.0–v0.12.1",
/// "MetalLB v0.11.0". Phrase messages so the verb does not depend on the count ("refused
/// by …").
pub fn releases(from: MetallbVersion, until: Option<MetallbVersion>) -> String {
    let Some(until) = until else {
        return format!("MetalLB {from} and later");
    };
    let last = RELEASES
        .iter()
        .rev()
        .find(|r| **r < until)
        .copied()
        .unwrap_or(from);
    if last <= from {
        format!("MetalLB {from}")
    } else {
        format!("MetalLB {from}–{last}")
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
    #[error("MetalLB {0} is not a release metallab knows")]
    Unknown(MetallbVersion),
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
            VersionError::Unknown(version) => {
                let nearby: Vec<String> = version
                    .known_nearby()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let nearby = match nearby.as_slice() {
                    [] => String::new(),
                    [one] => format!("metallab knows {one} nearby; "),
                    [init @ .., last] => {
                        format!("metallab knows {} and {last} nearby; ", init.join(", "))
                    }
                };
                format!(
                    "{nearby}the newest is {LATEST}; or set `metallb.manifests` to bring this release's manifests"
                )
            }
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
    /// Any well-formed version from [`OLDEST_SUPPORTED`] on is taken; [`of`](Self::of)
    /// also wants one of [`RELEASES`] unless the topology brings the manifests.
    pub fn resolve(
        version: Option<&str>,
        mode: Option<MetallbMode>,
    ) -> Result<MetallbSetup, VersionError> {
        Self::resolve_with(version, mode, true)
    }

    /// `any_release` takes a well-formed version metallab does not know (the user brings
    /// its manifests); it gets the rules of the nearest known release below it (see the
    /// module documentation).
    pub fn resolve_with(
        version: Option<&str>,
        mode: Option<MetallbMode>,
        any_release: bool,
    ) -> Result<MetallbSetup, VersionError> {
        let version = match version {
            Some(text) => text.parse()?,
            None => LATEST,
        };
        if version < OLDEST_SUPPORTED {
            return Err(VersionError::TooOld(version));
        }
        if !any_release && !version.is_known() {
            return Err(VersionError::Unknown(version));
        }
        let mode = mode.unwrap_or_else(|| version.default_mode());
        if !version.supports_mode(mode) {
            return Err(VersionError::ModeUnavailable { version, mode });
        }
        Ok(MetallbSetup { version, mode })
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

    /// Every release-dependent answer of a version, to compare versions rule by rule.
    fn gates(v: MetallbVersion) -> Vec<bool> {
        use MetallbMode::*;
        vec![
            v.uses_crds(),
            v.supports_mode(Frr),
            v.supports_mode(FrrK8s),
            v.rejects_config_orphaning_assigned_ips(),
            v.needs_memberlist_secret(),
            v.supports_source_address(),
            v.supports_frr_era_fields(),
            v.supports_avoid_buggy_ips(),
            v.supports_large_communities(),
            v.checks_local_pref_conflicts(),
            v.local_pref_rule().0,
            v.refuses_bfd_echo_with_ipv6(),
            v.refuses_ibgp_multihop(),
            v.refuses_identical_peers(),
            v.refuses_reversed_ranges(),
            v.refuses_single_address_ranges(),
            v.aggregation_rule().0,
            v.refuses_duplicate_legacy_advertisements(),
            v.refuses_duplicate_communities(),
            v.has_optional_timers(),
            v.reads_zero_timers_as_unset(),
            v.native_ipv6_scans_every_pool(),
            v.refuses_peer_port_zero(),
            v.frr_peer_rules().0,
        ]
    }

    #[test]
    fn releases_are_the_tags_from_the_oldest_supported_to_the_latest() {
        assert_eq!(RELEASES.first(), Some(&OLDEST_SUPPORTED));
        assert_eq!(RELEASES.last(), Some(&LATEST));
        assert!(
            RELEASES.windows(2).all(|w| w[0] < w[1]),
            "sorted, no repeats"
        );
        assert_eq!(RELEASES.len(), 42);
        assert!(INFERRED_UNPUBLISHED.iter().all(MetallbVersion::is_known));
        for never in [
            "v0.9.0", "v0.9.1", "v0.12.2", "v0.13.13", "v0.17.0", "v0.99.0",
        ] {
            assert!(!v(never).is_known(), "{never}");
        }
    }

    #[test]
    fn release_ranges_read_as_text() {
        assert_eq!(releases(v("v0.13.10"), None), "MetalLB v0.13.10 and later");
        assert_eq!(
            releases(v("v0.12.0"), Some(v("v0.13.0"))),
            "MetalLB v0.12.0–v0.12.1"
        );
        assert_eq!(
            releases(v("v0.11.0"), Some(v("v0.12.0"))),
            "MetalLB v0.11.0"
        );
        assert_eq!(
            MetallbVersion::releases_refusing_single_address_ranges(),
            "MetalLB v0.11.0"
        );
        assert_eq!(
            MetallbVersion::releases_scanning_every_pool_for_ipv6(),
            "MetalLB v0.13.0–v0.14.8"
        );
        assert_eq!(
            MetallbVersion::config_map_releases(),
            "MetalLB v0.9.3–v0.12.1"
        );
        assert_eq!(v("v0.14.9").local_pref_rule().1, "MetalLB v0.13.10–v0.14.9");
        assert_eq!(
            v("v0.15.0").local_pref_rule().1,
            "MetalLB v0.15.0 and later"
        );
        assert_eq!(v("v0.15.3").frr_peer_rules().1, "MetalLB v0.12.0–v0.15.3");
        assert_eq!(v("v0.12.1").timer_releases(), "MetalLB v0.12.0–v0.12.1");
        assert_eq!(v("v0.14.8").timer_releases(), "MetalLB v0.13.0–v0.14.8");
        assert_eq!(v("v0.11.0").aggregation_rule().1, "MetalLB v0.9.3–v0.11.0");
    }

    #[test]
    fn rule_boundaries() {
        let below_and_at = |below: &str, at: &str, rule: fn(&MetallbVersion) -> bool| {
            assert!(!rule(&v(below)), "{below}");
            assert!(rule(&v(at)), "{at}");
        };
        below_and_at(
            "v0.13.9",
            "v0.13.10",
            MetallbVersion::refuses_bfd_echo_with_ipv6,
        );
        below_and_at("v0.11.0", "v0.12.0", MetallbVersion::refuses_ibgp_multihop);
        below_and_at("v0.9.8", "v0.10.0", MetallbVersion::refuses_identical_peers);
        assert!(v("v0.12.1").refuses_identical_peers());
        assert!(!v("v0.13.2").refuses_identical_peers());
        below_and_at(
            "v0.10.3",
            "v0.11.0",
            MetallbVersion::refuses_reversed_ranges,
        );
        below_and_at(
            "v0.10.3",
            "v0.11.0",
            MetallbVersion::refuses_single_address_ranges,
        );
        assert!(!v("v0.12.0").refuses_single_address_ranges());
        assert!(!v("v0.11.0").aggregation_rule().0);
        assert!(v("v0.12.0").aggregation_rule().0);
        below_and_at(
            "v0.11.0",
            "v0.12.0",
            MetallbVersion::refuses_duplicate_legacy_advertisements,
        );
        assert!(v("v0.12.1").refuses_duplicate_legacy_advertisements());
        assert!(!v("v0.13.2").refuses_duplicate_legacy_advertisements());
        below_and_at(
            "v0.11.0",
            "v0.12.0",
            MetallbVersion::refuses_duplicate_communities,
        );
        assert!(v("v0.16.1").refuses_duplicate_communities());
        below_and_at("v0.14.8", "v0.14.9", MetallbVersion::has_optional_timers);
        assert!(!v("v0.12.1").reads_zero_timers_as_unset());
        assert!(v("v0.13.2").reads_zero_timers_as_unset());
        assert!(v("v0.14.8").reads_zero_timers_as_unset());
        assert!(!v("v0.14.9").reads_zero_timers_as_unset());
        assert!(!v("v0.12.1").native_ipv6_scans_every_pool());
        assert!(v("v0.13.2").native_ipv6_scans_every_pool());
        assert!(v("v0.14.8").native_ipv6_scans_every_pool());
        assert!(!v("v0.14.9").native_ipv6_scans_every_pool());
        below_and_at("v0.14.9", "v0.15.0", MetallbVersion::refuses_peer_port_zero);
        below_and_at(
            "v0.13.9",
            "v0.13.10",
            MetallbVersion::checks_local_pref_conflicts,
        );
        assert!(!v("v0.14.9").local_pref_rule().0);
        assert!(v("v0.15.0").local_pref_rule().0);
        assert!(!v("v0.15.3").frr_peer_rules().0);
        assert!(v("v0.16.0").frr_peer_rules().0);
    }

    #[test]
    fn an_unknown_version_has_the_rules_of_the_nearest_known_release_below_it() {
        for (unknown, known) in [
            ("v0.9.9", "v0.9.8"),
            ("v0.11.5", "v0.11.0"),
            ("v0.12.2", "v0.12.1"),
            ("v0.13.13", "v0.13.12"),
            ("v0.14.10", "v0.14.9"),
            ("v0.15.9", "v0.15.3"),
            ("v0.17.0", "v0.16.1"),
            ("v1.0.0", "v0.16.1"),
        ] {
            assert_eq!(gates(v(unknown)), gates(v(known)), "{unknown} vs {known}");
        }
    }

    #[test]
    fn unknown_versions_are_refused_unless_the_topology_brings_the_manifests() {
        let spec = |version: &str, manifests: Option<&str>| {
            let mut spec: crate::topology::model::MetallbSpec =
                serde_json::from_value(serde_json::json!({ "asn": 64500 })).unwrap();
            spec.version = Some(version.to_string());
            spec.manifests = manifests.map(str::to_string);
            spec
        };
        let error = spec("v0.12.2", None).setup().unwrap_err();
        assert_eq!(error, VersionError::Unknown(v("v0.12.2")));
        assert_eq!(
            error.to_string(),
            "MetalLB v0.12.2 is not a release metallab knows"
        );
        assert_eq!(
            error.hint(),
            "metallab knows v0.12.0, v0.12.1 and v0.13.2 nearby; the newest is v0.16.1; or set `metallb.manifests` to bring this release's manifests"
        );
        assert_eq!(
            VersionError::Unknown(v("v0.99.0")).hint(),
            "metallab knows v0.16.0 and v0.16.1 nearby; the newest is v0.16.1; or set `metallb.manifests` to bring this release's manifests"
        );
        assert_eq!(
            v("v0.14.0").known_nearby(),
            [v("v0.13.11"), v("v0.13.12"), v("v0.14.2")],
            "tags probably never published are not suggested"
        );
        // Old enough is checked first.
        assert_eq!(
            spec("v0.9.1", None).setup().unwrap_err(),
            VersionError::TooOld(v("v0.9.1"))
        );
        // Tags whose publication is only inferred install from their manifests.
        assert!(spec("v0.13.0", None).setup().is_ok());
        assert!(spec("v0.16.1", None).setup().is_ok());
        // Without a spec (manifest URLs for a version), any well-formed one resolves.
        assert!(MetallbSetup::resolve(Some("v0.14.99"), None).is_ok());
        assert_eq!(
            spec("v0.17.0", None).setup().unwrap_err(),
            VersionError::Unknown(v("v0.17.0"))
        );
        let setup = spec("v0.17.0", Some("./metallb.yaml")).setup().unwrap();
        assert_eq!(setup.version, v("v0.17.0"));
        assert_eq!(setup.mode, MetallbMode::Frr);
        assert!(matches!(
            spec("v0.17", Some("./metallb.yaml")).setup(),
            Err(VersionError::Malformed(_))
        ));
    }
}
