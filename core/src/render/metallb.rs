//! MetalLB's configuration rendered from the plan: pure, one JSON object per Kubernetes
//! object, in the order to apply them.
//!
//! v0.13 and later get CRDs (BFDProfile, Community, IPAddressPool, BGPPeer,
//! BGPAdvertisement, L2Advertisement); older releases get the `metallb-system/config`
//! ConfigMap whose `config` key holds MetalLB's own YAML. Both say the same thing:
//! - a BGP pool that no advertisement names is announced with default settings (the
//!   ConfigMap's behaviour; with CRDs a `default` BGPAdvertisement says so, as
//!   MetalLB's `configmaptocrs` converter does);
//! - layer2 pools are announced by one L2Advertisement;
//! - an advertisement without `pools` covers every BGP pool (never the layer2 ones), and
//!   is rendered with those pools listed: MetalLB's CRDs read an empty `ipAddressPools`
//!   as every pool, layer2 ones included.
//!
//! The input is a plan built from a *validated* topology; what validation guarantees is
//! still checked here and reported as [`ConfigError`] rather than assumed.

use crate::metallb::NAMESPACE;
pub use crate::metallb::names::{bgp_peer_names, dns_name, go_duration, parse_bgp_duration};
use crate::metallb::version::{MetallbSetup, MetallbVersion, VersionError};
use crate::plan::{DEFAULT_HOLD_TIME, Plan, labels};
use crate::topology::model::{
    AdvertisementSpec, BfdProfileSpec, MetallbSpec, PoolProtocol, PoolSpec,
};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error(transparent)]
    Version(#[from] VersionError),
    #[error("MetalLB peer `{0}` is not a router of this lab")]
    UnknownRouter(String),
    #[error("MetalLB peer `{0}` has no ASN (set `asn:` on the peer or the router)")]
    NoAsn(String),
    #[error("MetalLB peer `{0}` has no address")]
    NoAddress(String),
    #[error("MetalLB peer `{router}`: {field} `{value}` is not a duration such as 9s or 1m30s")]
    Duration {
        router: String,
        field: &'static str,
        value: String,
    },
}

/// One `metallb.peers` entry with its router resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetallbPeer {
    /// BGPPeer object name: the router's name (`-2`, `-3`… when a router is peered twice).
    pub name: String,
    pub router: String,
    pub my_asn: u32,
    pub peer_asn: u32,
    /// The peer's `address:`, else the router's address on the nodes' network, else its
    /// first address.
    pub address: IpAddr,
    pub port: Option<u16>,
    pub hold_time: Option<Duration>,
    pub keepalive_time: Option<Duration>,
    pub router_id: Option<Ipv4Addr>,
    pub source_address: Option<IpAddr>,
    pub password: Option<String>,
    /// The router is several hops away (`multihop: true`); MetalLB calls it ebgpMultiHop
    /// and only accepts it on eBGP sessions.
    pub multihop: bool,
    pub bfd_profile: Option<String>,
    pub node_selector: IndexMap<String, String>,
}

impl MetallbPeer {
    pub fn is_ibgp(&self) -> bool {
        self.my_asn == self.peer_asn
    }
}

/// The MetalLB peers of the plan, routers resolved, in file order.
pub fn resolve_peers(plan: &Plan) -> Result<Vec<MetallbPeer>, ConfigError> {
    let Some(spec) = &plan.metallb else {
        return Ok(Vec::new());
    };
    let node_network = plan.cluster.as_ref().and_then(|c| c.network.as_deref());
    let names = bgp_peer_names(spec.peers.iter().map(|p| p.router.as_str()));
    let mut peers: Vec<MetallbPeer> = Vec::new();
    for (peer, name) in spec.peers.iter().zip(names) {
        let router = plan
            .router(&peer.router)
            .ok_or_else(|| ConfigError::UnknownRouter(peer.router.clone()))?;
        let address = peer
            .address
            .or_else(|| node_network.and_then(|n| router.ip_on(n)))
            .or_else(|| router.interfaces.first().map(|i| i.ip))
            .ok_or_else(|| ConfigError::NoAddress(peer.router.clone()))?;
        let duration = |field: &'static str, text: &Option<String>| {
            text.as_deref()
                .map(|t| {
                    parse_bgp_duration(t).map_err(|_| ConfigError::Duration {
                        router: peer.router.clone(),
                        field,
                        value: t.to_string(),
                    })
                })
                .transpose()
        };
        let mut hold_time = duration("hold-time", &peer.hold_time)?;
        let keepalive_time = duration("keepalive-time", &peer.keepalive_time)?;
        // Our routers hold sessions for DEFAULT_HOLD_TIME (9 s) so a stopped speaker shows
        // within seconds; MetalLB's default (90 s) would win the negotiation on every
        // session it opens and leave dead nodes "established" for a minute and a half.
        // When the user set only a keepalive, the release decides the hold time: 3× the
        // keepalive from v0.14.9, its 90 s default before (validation checks both).
        if hold_time.is_none() && keepalive_time.is_none() {
            hold_time = Some(Duration::from_secs(DEFAULT_HOLD_TIME.into()));
        }
        peers.push(MetallbPeer {
            name,
            router: peer.router.clone(),
            my_asn: spec.asn,
            peer_asn: peer
                .asn
                .or(router.asn)
                .ok_or_else(|| ConfigError::NoAsn(peer.router.clone()))?,
            address,
            port: peer.port,
            hold_time,
            keepalive_time,
            router_id: peer.router_id,
            source_address: peer.source_address,
            password: peer.password.clone(),
            multihop: peer.multihop,
            bfd_profile: peer.bfd.clone(),
            node_selector: peer.node_selector.clone(),
        });
    }
    Ok(peers)
}

/// MetalLB's configuration objects for the plan, in apply order; empty without a
/// `metallb:` section.
pub fn render(plan: &Plan) -> Result<Vec<Value>, ConfigError> {
    let Some(spec) = &plan.metallb else {
        return Ok(Vec::new());
    };
    let setup = spec.setup()?;
    let peers = resolve_peers(plan)?;
    let config = Resolved::new(&plan.lab, spec, setup, peers);
    Ok(if setup.version.uses_crds() {
        config.crds()
    } else {
        vec![config.config_map()]
    })
}

/// Objects as one multi-document YAML text (for `metallab validate --configs`, the lab
/// state directory and snapshots).
pub fn to_yaml(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| serde_saphyr::to_string(o).expect("JSON values serialize to YAML"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// One advertisement as rendered: its name, the pools it covers, and the spec (None
/// for the implicit default one).
struct Advertisement<'s> {
    name: String,
    pools: Vec<&'s str>,
    spec: Option<&'s AdvertisementSpec>,
}

/// Everything the renderers need, decided once.
struct Resolved<'s> {
    lab: &'s str,
    spec: &'s MetallbSpec,
    version: MetallbVersion,
    setup: MetallbSetup,
    peers: Vec<MetallbPeer>,
    advertisements: Vec<Advertisement<'s>>,
}

fn is_bgp(pool: &PoolSpec) -> bool {
    pool.protocol.unwrap_or_default() == PoolProtocol::Bgp
}

impl<'s> Resolved<'s> {
    fn new(
        lab: &'s str,
        spec: &'s MetallbSpec,
        setup: MetallbSetup,
        peers: Vec<MetallbPeer>,
    ) -> Resolved<'s> {
        let bgp_pools: Vec<&str> = spec
            .pools
            .iter()
            .filter(|(_, p)| is_bgp(p))
            .map(|(n, _)| n.as_str())
            .collect();
        // An empty `ipAddressPools` means *every* pool to MetalLB's CRDs, layer2 ones
        // included, so an advertisement that covers nothing (no `pools:` and no BGP pool,
        // which validation refuses) is left out rather than rendered with an empty list.
        let mut advertisements: Vec<Advertisement> = spec
            .advertisements
            .iter()
            .enumerate()
            .map(|(i, a)| Advertisement {
                name: format!("advertisement-{}", i + 1),
                pools: if a.pools.is_empty() {
                    bgp_pools.clone()
                } else {
                    a.pools.iter().map(String::as_str).collect()
                },
                spec: Some(a),
            })
            .filter(|a| !a.pools.is_empty())
            .collect();
        let uncovered: Vec<&str> = bgp_pools
            .iter()
            .copied()
            .filter(|p| !advertisements.iter().any(|a| a.pools.contains(p)))
            .collect();
        if !uncovered.is_empty() {
            advertisements.push(Advertisement {
                name: "default".to_string(),
                pools: uncovered,
                spec: None,
            });
        }
        Resolved {
            lab,
            spec,
            version: setup.version,
            setup,
            peers,
            advertisements,
        }
    }

    /// BFD profiles MetalLB uses: those its peers name, and only where the mode has BFD
    /// (the native speaker refuses any BFDProfile, and profiles that only lab routers
    /// use do not belong in MetalLB).
    fn bfd_profiles(&self) -> Vec<(&'s str, &'s BfdProfileSpec)> {
        if !self.setup.has_bfd() {
            return Vec::new();
        }
        self.spec
            .bfd_profiles
            .iter()
            .filter(|(name, _)| {
                self.peers
                    .iter()
                    .any(|p| p.bfd_profile.as_deref() == Some(name.as_str()))
            })
            .map(|(name, profile)| (name.as_str(), profile))
            .collect()
    }

    /// BGPPeer names of the routers an advertisement is limited to.
    fn peer_names(&self, routers: &[String]) -> Vec<String> {
        self.peers
            .iter()
            .filter(|p| routers.contains(&p.router))
            .map(|p| p.name.clone())
            .collect()
    }

    /// Whether MetalLB's parser of this version knows `ebgp-multihop` and the session
    /// needs it (MetalLB refuses it on iBGP).
    fn ebgp_multihop(&self, peer: &MetallbPeer) -> bool {
        peer.multihop && !peer.is_ibgp() && self.version.supports_frr_era_fields()
    }

    fn metadata(&self, name: &str) -> Value {
        json!({
            "name": name,
            "namespace": NAMESPACE,
            "labels": { labels::LAB: self.lab },
        })
    }

    fn object(&self, api_version: &str, kind: &str, name: &str, spec: Map<String, Value>) -> Value {
        json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": self.metadata(name),
            "spec": spec,
        })
    }

    // ---- CRDs (v0.13 and later) ----

    fn crds(&self) -> Vec<Value> {
        let mut objects = Vec::new();
        for (name, profile) in self.bfd_profiles() {
            objects.push(self.object(
                "metallb.io/v1beta1",
                "BFDProfile",
                &dns_name(name),
                bfd_profile_spec(profile),
            ));
        }
        if !self.spec.communities.is_empty() {
            let aliases: Vec<Value> = self
                .spec
                .communities
                .iter()
                .map(|(name, value)| json!({ "name": name, "value": value }))
                .collect();
            let mut spec = Map::new();
            spec.insert("communities".into(), aliases.into());
            objects.push(self.object("metallb.io/v1beta1", "Community", "communities", spec));
        }
        for (name, pool) in &self.spec.pools {
            let mut spec = Map::new();
            spec.insert("addresses".into(), json!(pool.addresses));
            if let Some(auto_assign) = pool.auto_assign {
                spec.insert("autoAssign".into(), auto_assign.into());
            }
            if pool.avoid_buggy_ips {
                spec.insert("avoidBuggyIPs".into(), true.into());
            }
            objects.push(self.object("metallb.io/v1beta1", "IPAddressPool", &dns_name(name), spec));
        }
        let peer_api = self
            .version
            .bgp_peer_api_version()
            .unwrap_or("metallb.io/v1beta2");
        for peer in &self.peers {
            objects.push(self.object(peer_api, "BGPPeer", &peer.name, self.bgp_peer_spec(peer)));
        }
        for advertisement in &self.advertisements {
            objects.push(self.object(
                "metallb.io/v1beta1",
                "BGPAdvertisement",
                &advertisement.name,
                self.bgp_advertisement_spec(advertisement),
            ));
        }
        let layer2: Vec<&str> = self
            .spec
            .pools
            .iter()
            .filter(|(_, p)| !is_bgp(p))
            .map(|(n, _)| n.as_str())
            .collect();
        if !layer2.is_empty() {
            let mut spec = Map::new();
            spec.insert("ipAddressPools".into(), json!(layer2));
            objects.push(self.object("metallb.io/v1beta1", "L2Advertisement", "layer2", spec));
        }
        objects
    }

    fn bgp_peer_spec(&self, peer: &MetallbPeer) -> Map<String, Value> {
        let mut spec = Map::new();
        spec.insert("myASN".into(), peer.my_asn.into());
        spec.insert("peerASN".into(), peer.peer_asn.into());
        spec.insert("peerAddress".into(), peer.address.to_string().into());
        if let Some(port) = peer.port {
            spec.insert("peerPort".into(), port.into());
        }
        if let Some(hold) = peer.hold_time {
            spec.insert("holdTime".into(), go_duration(hold).into());
        }
        if let Some(keepalive) = peer.keepalive_time {
            spec.insert("keepaliveTime".into(), go_duration(keepalive).into());
        }
        if let Some(router_id) = peer.router_id {
            spec.insert("routerID".into(), router_id.to_string().into());
        }
        if let Some(source) = peer.source_address {
            spec.insert("sourceAddress".into(), source.to_string().into());
        }
        // Inline rather than `passwordSecret`: both exist in every CRD release, but the
        // inline field needs no Secret applied first (the webhook would refuse a peer
        // whose Secret is not there yet) and a lab password protects nothing.
        if let Some(password) = &peer.password {
            spec.insert("password".into(), password.clone().into());
        }
        if self.ebgp_multihop(peer) {
            spec.insert("ebgpMultiHop".into(), true.into());
        }
        if let Some(profile) = &peer.bfd_profile
            && self.setup.has_bfd()
        {
            spec.insert("bfdProfile".into(), dns_name(profile).into());
        }
        if !peer.node_selector.is_empty() {
            spec.insert(
                "nodeSelectors".into(),
                json!([{ "matchLabels": peer.node_selector }]),
            );
        }
        spec
    }

    fn bgp_advertisement_spec(&self, advertisement: &Advertisement) -> Map<String, Value> {
        let mut spec = Map::new();
        let pools: Vec<String> = advertisement.pools.iter().map(|p| dns_name(p)).collect();
        spec.insert("ipAddressPools".into(), json!(pools));
        let Some(a) = advertisement.spec else {
            return spec;
        };
        if let Some(length) = a.aggregation_length {
            spec.insert("aggregationLength".into(), length.into());
        }
        if let Some(length) = a.aggregation_length_v6 {
            spec.insert("aggregationLengthV6".into(), length.into());
        }
        if let Some(localpref) = a.localpref {
            spec.insert("localPref".into(), localpref.into());
        }
        if !a.communities.is_empty() {
            spec.insert("communities".into(), json!(a.communities));
        }
        if !a.peers.is_empty() {
            spec.insert("peers".into(), json!(self.peer_names(&a.peers)));
        }
        spec
    }

    // ---- The legacy ConfigMap (before v0.13) ----

    fn config_map(&self) -> Value {
        let config = LegacyConfig {
            peers: self.peers.iter().map(|p| self.legacy_peer(p)).collect(),
            bgp_communities: self.spec.communities.clone(),
            bfd_profiles: self
                .bfd_profiles()
                .into_iter()
                .map(|(name, p)| LegacyBfdProfile {
                    name: name.to_string(),
                    receive_interval: p.receive_interval,
                    transmit_interval: p.transmit_interval,
                    detect_multiplier: p.detect_multiplier,
                    echo_interval: p.echo_interval,
                    echo_mode: p.echo_mode,
                    passive_mode: p.passive_mode,
                    minimum_ttl: p.minimum_ttl,
                })
                .collect(),
            address_pools: self
                .spec
                .pools
                .iter()
                .map(|(name, pool)| self.legacy_pool(name, pool))
                .collect(),
        };
        let text = serde_saphyr::to_string(&config).expect("the legacy config serializes");
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "config",
                "namespace": NAMESPACE,
                "labels": { labels::LAB: self.lab },
            },
            "data": { "config": text },
        })
    }

    fn legacy_peer(&self, peer: &MetallbPeer) -> LegacyPeer {
        let frr_era = self.version.supports_frr_era_fields();
        LegacyPeer {
            peer_address: peer.address,
            peer_asn: peer.peer_asn,
            my_asn: peer.my_asn,
            peer_port: peer.port,
            hold_time: peer.hold_time.map(go_duration),
            keepalive_time: peer.keepalive_time.filter(|_| frr_era).map(go_duration),
            router_id: peer.router_id,
            source_address: peer
                .source_address
                .filter(|_| self.version.supports_source_address()),
            password: peer.password.clone(),
            bfd_profile: peer
                .bfd_profile
                .clone()
                .filter(|_| frr_era && self.setup.has_bfd()),
            ebgp_multihop: self.ebgp_multihop(peer).then_some(true),
            node_selectors: if peer.node_selector.is_empty() {
                Vec::new()
            } else {
                vec![LegacyNodeSelector {
                    match_labels: peer.node_selector.clone(),
                }]
            },
        }
    }

    fn legacy_pool(&self, name: &str, pool: &PoolSpec) -> LegacyPool {
        let bgp = is_bgp(pool);
        let advertisements = if bgp {
            self.advertisements
                .iter()
                .filter(|a| a.pools.contains(&name))
                .filter_map(|a| a.spec)
                .map(|a| LegacyAdvertisement {
                    aggregation_length: a.aggregation_length,
                    aggregation_length_v6: a
                        .aggregation_length_v6
                        .filter(|_| self.version.supports_frr_era_fields()),
                    localpref: a.localpref,
                    communities: a.communities.clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        LegacyPool {
            name: name.to_string(),
            protocol: if bgp { "bgp" } else { "layer2" },
            addresses: pool.addresses.clone(),
            avoid_buggy_ips: pool.avoid_buggy_ips.then_some(true),
            auto_assign: pool.auto_assign,
            bgp_advertisements: advertisements,
        }
    }
}

fn bfd_profile_spec(profile: &BfdProfileSpec) -> Map<String, Value> {
    let mut spec = Map::new();
    let numbers = [
        ("receiveInterval", profile.receive_interval),
        ("transmitInterval", profile.transmit_interval),
        ("detectMultiplier", profile.detect_multiplier),
        ("echoInterval", profile.echo_interval),
        ("minimumTtl", profile.minimum_ttl),
    ];
    for (key, value) in numbers {
        if let Some(value) = value {
            spec.insert(key.into(), value.into());
        }
    }
    if let Some(echo) = profile.echo_mode {
        spec.insert("echoMode".into(), echo.into());
    }
    if let Some(passive) = profile.passive_mode {
        spec.insert("passiveMode".into(), passive.into());
    }
    spec
}

/// The YAML inside the legacy ConfigMap (`internal/config/config.go@v0.12.1`).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct LegacyConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    peers: Vec<LegacyPeer>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    bgp_communities: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bfd_profiles: Vec<LegacyBfdProfile>,
    address_pools: Vec<LegacyPool>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct LegacyPeer {
    peer_address: IpAddr,
    peer_asn: u32,
    my_asn: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hold_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keepalive_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    router_id: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_address: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bfd_profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ebgp_multihop: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    node_selectors: Vec<LegacyNodeSelector>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct LegacyNodeSelector {
    match_labels: IndexMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct LegacyBfdProfile {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    receive_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transmit_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detect_multiplier: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    echo_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    echo_mode: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    passive_mode: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum_ttl: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct LegacyPool {
    name: String,
    protocol: &'static str,
    addresses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    avoid_buggy_ips: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_assign: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bgp_advertisements: Vec<LegacyAdvertisement>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct LegacyAdvertisement {
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregation_length: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregation_length_v6: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    localpref: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    communities: Vec<String>,
}

#[cfg(test)]
pub mod tests;
