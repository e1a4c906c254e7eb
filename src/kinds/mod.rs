//! The router kinds and what each one is, as data: one file per kind holds its profile
//! (what its daemon can do, what its container needs, where its image is built from and
//! its logs go), and [`RouterKind::profile`] is the one place that lists them. Generic
//! code asks the profile instead of matching on the kind.
//!
//! Still outside these files: each kind's start, ready and state commands (`drivers`),
//! its parsers (`parse`) and config rendering (`render`, with `templates/<kind>/`).

pub mod bird;
pub mod frr;
pub mod gobgp;
pub mod linux;
pub mod quagga;

use serde::{Deserialize, Serialize};

/// A router kind, as written in a topology's `kind:`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum RouterKind {
    Frr,
    Bird,
    Gobgp,
    Quagga,
    Linux,
}

/// What a kind is and needs.
#[derive(Debug)]
pub struct KindProfile {
    /// As written in a topology (`kind: frr`).
    pub name: &'static str,
    /// It runs a BGP daemon.
    pub speaks_bgp: bool,
    /// Its daemon implements BFD.
    pub bfd: bool,
    /// The routes metallab reads from it carry communities.
    pub reads_communities: bool,
    /// Learned routes go into the container's kernel table.
    pub kernel_routes: bool,
    /// Linux capabilities its container gets (never `--privileged`).
    pub capabilities: &'static [&'static str],
    /// Its daemons' log files inside the container (for snapshots).
    pub daemon_logs: &'static [&'static str],
    /// `router-images/<name>/` builds its image with `metallab images build`.
    pub image: Option<ImageProfile>,
}

/// How metallab's own image of a kind is built.
#[derive(Debug)]
pub struct ImageProfile {
    /// Built by `metallab images build` without arguments: its packages come from the
    /// base image's repository (not a download that needs the internet).
    pub built_by_default: bool,
}

/// Capabilities every router needs: `ip route` and TCP MD5 keys (NET_ADMIN), `ping`
/// checks (NET_RAW).
const NET: &[&str] = &["NET_ADMIN", "NET_RAW"];
/// FRR's and Quagga's privilege code also keeps SYS_ADMIN in its capability set and
/// refuses to start when the bounding set lacks it.
const NET_AND_SYS_ADMIN: &[&str] = &["NET_ADMIN", "NET_RAW", "SYS_ADMIN"];

impl RouterKind {
    /// Every kind, in the order they are listed to users.
    pub const ALL: [RouterKind; 5] = [
        RouterKind::Frr,
        RouterKind::Bird,
        RouterKind::Gobgp,
        RouterKind::Quagga,
        RouterKind::Linux,
    ];

    /// The registry: each kind's profile.
    pub fn profile(self) -> &'static KindProfile {
        match self {
            RouterKind::Frr => &frr::PROFILE,
            RouterKind::Bird => &bird::PROFILE,
            RouterKind::Gobgp => &gobgp::PROFILE,
            RouterKind::Quagga => &quagga::PROFILE,
            RouterKind::Linux => &linux::PROFILE,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.profile().name
    }

    /// Whether this kind runs a BGP daemon at all.
    pub fn speaks_bgp(self) -> bool {
        self.profile().speaks_bgp
    }

    /// Whether the daemon implements BFD.
    pub fn has_bfd(self) -> bool {
        self.profile().bfd
    }

    /// Whether the routes metallab reads carry communities.
    pub fn reads_communities(self) -> bool {
        self.profile().reads_communities
    }

    /// Whether learned routes are installed into the container's kernel table.
    pub fn installs_kernel_routes(self) -> bool {
        self.profile().kernel_routes
    }
}

impl std::fmt::Display for RouterKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RouterKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RouterKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = RouterKind::ALL.iter().map(|k| k.as_str()).collect();
                let (last, rest) = names.split_last().expect("kinds exist");
                format!(
                    "unknown router kind `{s}` (expected {} or {last})",
                    rest.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serde_agrees_with_them() {
        for kind in RouterKind::ALL {
            assert_eq!(kind.as_str().parse::<RouterKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().to_string())
            );
        }
        assert_eq!(
            "junos".parse::<RouterKind>().unwrap_err(),
            "unknown router kind `junos` (expected frr, bird, gobgp, quagga or linux)"
        );
    }

    #[test]
    fn every_router_image_folder_belongs_to_a_kind_with_an_image() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("router-images");
        let mut on_disk: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut with_image: Vec<String> = RouterKind::ALL
            .iter()
            .filter(|k| k.profile().image.is_some())
            .map(|k| k.as_str().to_string())
            .collect();
        with_image.sort();
        assert_eq!(on_disk, with_image);
    }
}
