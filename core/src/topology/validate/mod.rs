//! Semantic validation of a topology (DESIGN.md §3): pure, and it reports *every* problem
//! at once, each naming the offending field and saying how to fix it.
//!
//! Rules are grouped by family, one function each, run in order by [`validate`]. To add
//! a rule, add a function taking `&mut Validator` (in the file of its family) and list it
//! in [`RULES`].

use super::diagnostics::{FieldError, unknown_name_help};
use super::model::SUBNET_POOL;
use super::model::*;
use super::source::is_within;
use super::target::{NODES, Target};
use crate::state::{BfdState, SessionState};
use indexmap::IndexMap;
use ipnet::{IpNet, Ipv4Net};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

mod checks;
mod cluster;
mod metallb;
mod neighbors;
mod networks;
mod placement;
mod routers;
#[cfg(test)]
mod tests;

pub use checks::{CheckKindKey, parse_http_url};
pub use metallb::parse_pool_range;

/// Longest DNS label, and so the longest container or Kubernetes object name part.
pub const MAX_NAME_LEN: usize = 63;

/// The rule families, in the order their errors are collected.
const RULES: &[fn(&mut Validator)] = &[
    networks::names,
    networks::networks,
    routers::routers,
    neighbors::neighbors,
    neighbors::bfd_profiles,
    cluster::cluster,
    cluster::nodes,
    metallb::metallb,
    placement::placement,
    checks::checks,
];

/// Every problem of the topology; empty when it is valid.
pub fn validate(topology: &Topology) -> Vec<FieldError> {
    validate_read(topology, &[])
}

/// [`validate`] a topology read from a file where the values at `unreadable` paths could
/// not be read (the model holds stand-ins there): rules that would judge another field
/// by one of them stay quiet.
pub fn validate_read(topology: &Topology, unreadable: &[String]) -> Vec<FieldError> {
    let mut validator = Validator {
        topology,
        errors: Vec::new(),
        unreadable,
    };
    for rule in RULES {
        rule(&mut validator);
    }
    validator.errors
}

/// The topology under validation and the errors found so far.
pub struct Validator<'t> {
    pub(super) topology: &'t Topology,
    pub(super) errors: Vec<FieldError>,
    unreadable: &'t [String],
}

impl<'t> Validator<'t> {
    /// Whether the value at `path` (or around it) could not be read from the file.
    pub(super) fn unreadable(&self, path: &str) -> bool {
        self.unreadable
            .iter()
            .any(|u| is_within(path, u) || is_within(u, path))
    }

    /// Whether a network's subnet is written but could not be read.
    pub(super) fn subnet_unreadable(&self, network: &str) -> bool {
        self.unreadable(&format!("networks.{network}.subnet"))
    }

    /// Whether any router's neighbor could not be read (a session's BFD may be declared
    /// on either side).
    pub(super) fn any_neighbor_unreadable(&self) -> bool {
        self.unreadable.iter().any(|u| {
            u.starts_with("routers.") && (u.contains(".neighbors[") || u.ends_with(".neighbors"))
        })
    }

    /// Whether some neighbor of the router could not be read, so its sessions are not
    /// known exactly.
    pub(super) fn neighbors_unreadable(&self, router: &str) -> bool {
        self.unreadable(&format!("routers.{router}.neighbors"))
    }

    pub(super) fn report(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// Reports `prefix` (at `path`) unless it is a network address (`10.0.0.0/24`, not
    /// `10.0.0.5/24`); returns whether it is.
    pub(super) fn network_address(&mut self, path: impl Into<String>, prefix: IpNet) -> bool {
        if prefix.trunc() == prefix {
            return true;
        }
        self.report(
            FieldError::new(path.into(), format!("{prefix} is not a network address"))
                .help(format!("write {}", prefix.trunc())),
        );
        false
    }

    /// A network's subnet when it is written and a usable IPv4 network (bad ones are
    /// reported by [`networks`] and ignored by the other rules).
    pub(super) fn subnet(&self, network: &str) -> Option<Ipv4Net> {
        match self.topology.networks.get(network)?.subnet? {
            IpNet::V4(net) if net.prefix_len() <= MAX_LAB_PREFIX => Some(net.trunc()),
            _ => None,
        }
    }

    /// The gateway (host bridge address) of a network with a known subnet.
    pub(super) fn gateway(&self, network: &str) -> Option<Ipv4Addr> {
        let subnet = self.subnet(network)?;
        match self.topology.networks.get(network)?.gateway {
            Some(IpAddr::V4(gw)) => Some(gw),
            Some(IpAddr::V6(_)) => None,
            None => subnet.hosts().next(),
        }
    }

    pub(super) fn has_cluster(&self) -> bool {
        self.topology
            .cluster
            .as_ref()
            .is_some_and(|c| c.provider != ClusterProvider::None)
    }

    pub(super) fn router_names(&self) -> impl Iterator<Item = &'t str> + use<'t> {
        self.topology.routers.keys().map(String::as_str)
    }

    pub(super) fn bfd_profiles(&self) -> Option<&'t IndexMap<String, BfdProfileSpec>> {
        self.topology.metallb.as_ref().map(|m| &m.bfd_profiles)
    }

    /// Reports a router name that does not exist; returns the router when it does.
    pub(super) fn known_router(&mut self, path: String, name: &str) -> Option<&'t RouterSpec> {
        let router = self.topology.routers.get(name);
        if router.is_none() {
            let help = unknown_name_help("routers", name, self.router_names());
            self.report(
                FieldError::new(path, format!("unknown router `{name}`"))
                    .help(help)
                    .independent(),
            );
        }
        router
    }
}

/// The smallest lab network: room for the gateway and a few routers.
pub(super) const MAX_LAB_PREFIX: u8 = 29;

pub(super) const DNS_HELP: &str = "use lowercase letters, digits and `-` (at most 63 characters), \
                        starting and ending with a letter or digit";

pub(super) const ASN_HELP: &str = "an ASN is 1–4294967295; private ones are 64512–65534 and \
                        4200000000–4294967294";

pub(super) fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

pub(super) fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

pub(super) fn first_host(subnet: Ipv4Net) -> Ipv4Addr {
    subnet.hosts().next().unwrap_or(subnet.network())
}

/// The BFD setting of a neighbor, normalized: None when off.
pub(super) fn bfd_key(setting: &Option<BfdSetting>) -> Option<&str> {
    match setting {
        None | Some(BfdSetting::Enabled(false)) => None,
        Some(BfdSetting::Enabled(true)) => Some("true"),
        Some(BfdSetting::Profile(p)) => Some(p),
    }
}
