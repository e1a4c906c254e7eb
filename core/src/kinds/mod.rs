//! The router kinds. Each kind is one folder holding everything that differs by kind: its
//! profile (what its daemon can do and its container needs, as data), its config
//! templates, its start, ready and state commands, the parsers of those commands' output
//! with the outputs recorded from the real daemon, and its image's Dockerfile. A kind
//! implements [`Kind`], overriding only what differs from a router without daemons, and
//! [`REGISTRY`] lists the kinds: adding a kind is adding its folder and one line there.
//!
//! Generic code (rendering, starting, reading state, images) asks a [`RouterKind`] and
//! never names a particular kind.

pub mod bird;
pub mod frr;
pub mod gobgp;
pub mod linux;
pub mod openbgpd;
pub mod quagga;

mod config;
mod query;
pub mod templates;
mod view;

pub use config::{ConfigFile, RenderError, config_file};
pub use query::{StatePart, StateQuery, argv, command_line, kernel_query, shell};
pub use templates::render_template;
pub use view::{BfdProfileView, BfdView, RouterView, SessionView};

use crate::parse::{self, ParseError, Tool};
use crate::state::{BfdPeer, ExecOutput, Route, RouterState, Session};
use ipnet::IpNet;
use std::sync::OnceLock;

/// Every kind, in the order they are listed to users.
static REGISTRY: &[&dyn Kind] = &[
    &frr::Frr,
    &bird::Bird,
    &gobgp::Gobgp,
    &quagga::Quagga,
    &openbgpd::Openbgpd,
    &linux::Linux,
];

/// What a kind is and needs, as data.
#[derive(Debug)]
pub struct KindProfile {
    /// As written in a topology (`kind: frr`).
    pub name: &'static str,
    /// It runs a BGP daemon.
    pub speaks_bgp: bool,
    /// Its BGP daemon needs an ASN even with no sessions and nothing announced (it will
    /// not start without its global AS).
    pub asn_always: bool,
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
    /// How metallab builds its image (`metallab images build`).
    pub image: Option<ImageProfile>,
}

/// A build context: file paths relative to the kind's `image/` folder, with their contents.
pub type BuildContext = &'static [(&'static str, &'static [u8])];

/// How metallab's own image of a kind is built.
#[derive(Debug)]
pub struct ImageProfile {
    /// The kind's `image/` folder, embedded: every file listed by hand, so adding a file
    /// to a build context is a decision (a unit test compares it with the folder).
    pub context: BuildContext,
    /// Built by `metallab images build` without arguments: its packages come from the
    /// base image's repository (not a download that needs the internet).
    pub built_by_default: bool,
    /// What its build downloads from the internet, if anything.
    pub download: Option<ImageDownload>,
}

/// A download an image build needs, to explain a build that failed for want of it.
#[derive(Debug)]
pub struct ImageDownload {
    /// What is fetched, for messages ("the Quagga source tarball").
    pub what: &'static str,
    pub url: &'static str,
    /// A line the build prints when the download failed.
    pub failed_marker: &'static str,
}

/// Capabilities every router needs: `ip route` and TCP MD5 keys (NET_ADMIN), `ping`
/// checks (NET_RAW).
pub const NET: &[&str] = &["NET_ADMIN", "NET_RAW"];

/// Embeds a file of a kind's `image/` folder: `image_file!("frr", "Dockerfile")`.
macro_rules! image_file {
    ($kind:literal, $file:literal) => {
        (
            $file,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/src/kinds/",
                $kind,
                "/image/",
                $file
            ))
            .as_slice(),
        )
    };
}
pub(crate) use image_file;

/// What a router kind does, each method defaulting to a router without daemons.
pub trait Kind: Sync {
    fn profile(&self) -> &'static KindProfile;

    /// The program whose output its parsers read, for errors ("FRR `show …` failed").
    fn tool(&self) -> Tool {
        Tool::IPROUTE
    }

    /// Why its config syntax cannot carry this session password, if it cannot (the
    /// generic limits of TCP MD5 keys are checked before).
    fn password_problem(&self, _password: &str) -> Option<&'static str> {
        None
    }

    /// What its config cannot express in this router's view, if anything (a value out of
    /// the daemon's range), beyond what validation already refuses.
    fn view_problem(&self, _view: &RouterView) -> Option<String> {
        None
    }

    /// Its config templates: (name, source), names prefixed with the kind's folder.
    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The config files its daemons read, rendered from the router's view.
    fn config_files(&self, _view: &RouterView) -> Result<Vec<ConfigFile>, RenderError> {
        Ok(Vec::new())
    }

    /// The commands that start its daemons, once the configs are uploaded (and the
    /// router's static routes set). `announce` is what the router originates, for
    /// daemons that take it through their API rather than their config. Each must exit 0
    /// and a daemon must detach without keeping stdio open, or `docker exec` would not
    /// return.
    fn daemon_commands(&self, _announce: &[IpNet]) -> Vec<Vec<String>> {
        Vec::new()
    }

    /// The commands that make its running daemons read changed config files (`changed`:
    /// their paths), leaving the sessions whose config did not change up; `None` when
    /// they must be restarted instead (the default).
    fn reload(&self, _changed: &[&str]) -> Option<Reload> {
        None
    }

    /// Its daemons' process names, its BGP daemon first (what `metallab fault kill` kills
    /// when no daemon is named); none for a router without daemons.
    fn daemons(&self) -> &'static [&'static str] {
        &[]
    }

    /// The commands that kill `daemon` (one of [`Kind::daemons`]) with SIGKILL, leaving the
    /// container running, so that it stays dead until [`Kind::restart_commands`]. Each
    /// fails, saying so, when no such process runs.
    fn kill_commands(&self, daemon: &str) -> Vec<Vec<String>> {
        vec![kill_process(daemon)]
    }

    /// The commands that start a killed `daemon` again with its config, everything else
    /// in the container left as it is. By default the kind's daemon commands: right for a
    /// kind whose one daemon they start.
    fn restart_commands(&self, _daemon: &str, announce: &[IpNet]) -> Vec<Vec<String>> {
        self.daemon_commands(announce)
    }

    /// The command whose output tells whether its daemons are up; `None`: nothing to wait for.
    fn ready_command(&self) -> Option<Vec<String>> {
        None
    }

    /// What the ready command's standard output (it exited 0) holds, every one of them,
    /// once the daemons are up. Plain text, so the router's boot script can test it too.
    fn ready_words(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether its daemon commands return only once the daemons answer their CLI (and
    /// fail when one does not): the boot script then does not ask again with the ready
    /// command, which is still what tells it elsewhere (restarts, a pod's probe).
    fn start_waits_for_answers(&self) -> bool {
        false
    }

    /// The commands that read its state, one per part it has.
    fn state_queries(&self) -> Vec<StateQuery> {
        vec![kernel_query()]
    }

    /// The parsers of its state commands' output; none for a router without daemons.
    fn parsers(&self) -> Option<Parsers> {
        None
    }

    /// Parses one part's output into `state`. The kernel part is read alike everywhere.
    fn parse_part(
        &self,
        part: StatePart,
        text: &str,
        state: &mut RouterState,
    ) -> Result<(), ParseError> {
        let parsers = self.parsers();
        match (part, parsers.as_ref()) {
            (StatePart::Kernel, _) => state.kernel_routes = parse::iproute::kernel_routes(text)?,
            (StatePart::Sessions, Some(p)) => state.sessions = (p.sessions)(text)?,
            (StatePart::Routes, Some(p)) => state.routes = (p.routes)(text)?,
            (StatePart::Bfd, Some(Parsers { bfd: Some(bfd), .. })) => state.bfd_peers = bfd(text)?,
            (part, _) => {
                return Err(ParseError::Unsupported {
                    kind: self.profile().name,
                    part: part.as_str(),
                });
            }
        }
        Ok(())
    }

    /// Whether a failed read of `part` means "nothing there" for this daemon (BIRD
    /// without a BFD protocol answers with an error) rather than a failure.
    fn part_is_absent(&self, _part: StatePart, _output: &ExecOutput) -> bool {
        false
    }

    /// Commands that show the daemon's own view of one prefix, for a kernel-route check
    /// that failed: why the route it learned is (not) in the kernel.
    fn prefix_view_queries(&self, _prefix: IpNet) -> Vec<Vec<String>> {
        Vec::new()
    }
}

/// How running daemons take changed config files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reload {
    /// As a person would say it: `birdc configure`.
    pub how: &'static str,
    /// Run in order; each must exit 0.
    pub commands: Vec<Vec<String>>,
}

impl Reload {
    /// The reload when `changed` holds only `file` (the one file the daemon reads again);
    /// None (restart) when another file changed.
    pub fn of_only(
        file: &str,
        changed: &[&str],
        how: &'static str,
        commands: Vec<Vec<String>>,
    ) -> Option<Reload> {
        changed
            .iter()
            .all(|p| *p == file)
            .then_some(Reload { how, commands })
    }
}

/// `pkill -KILL -x NAME`, failing with a message when no process of that name runs
/// (pkill alone exits 1 in silence).
pub fn kill_process(name: &str) -> Vec<String> {
    shell(format!(
        "pkill -KILL -x {name} || {{ echo 'no {name} process runs' >&2; exit 1; }}"
    ))
}

/// A parser of one command's output.
pub type Parser<T> = fn(&str) -> Result<Vec<T>, ParseError>;

/// A BGP daemon's parsers, by state part.
pub struct Parsers {
    pub sessions: Parser<Session>,
    pub routes: Parser<Route>,
    /// None: the daemon has no BFD.
    pub bfd: Option<Parser<BfdPeer>>,
}

/// A router kind, as written in a topology's `kind:`: one entry of [`REGISTRY`].
#[derive(Clone, Copy)]
pub struct RouterKind(&'static dyn Kind);

impl RouterKind {
    /// The kind implemented by `kind` (each kind's folder names its own: `frr::KIND`).
    pub const fn of(kind: &'static dyn Kind) -> RouterKind {
        RouterKind(kind)
    }

    /// Every kind, in the order they are listed to users.
    pub fn all() -> impl Iterator<Item = RouterKind> {
        REGISTRY.iter().map(|k| RouterKind(*k))
    }

    /// Every kind's name, in registry order.
    pub fn names() -> &'static [&'static str] {
        static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
        NAMES.get_or_init(|| RouterKind::all().map(|k| k.as_str()).collect())
    }

    /// What the kind does.
    pub fn behaviour(self) -> &'static dyn Kind {
        self.0
    }

    pub fn profile(self) -> &'static KindProfile {
        self.0.profile()
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

    /// Position in the registry: kinds sort in the order they are listed to users.
    fn position(self) -> usize {
        RouterKind::names()
            .iter()
            .position(|n| *n == self.as_str())
            .unwrap_or(usize::MAX)
    }
}

impl PartialEq for RouterKind {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouterKind {}

impl std::hash::Hash for RouterKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for RouterKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RouterKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.position().cmp(&other.position())
    }
}

impl std::fmt::Debug for RouterKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
        RouterKind::all().find(|k| k.as_str() == s).ok_or_else(|| {
            let names = RouterKind::names();
            let (last, rest) = names.split_last().expect("kinds exist");
            format!(
                "unknown router kind `{s}` (expected {} or {last})",
                rest.join(", ")
            )
        })
    }
}

impl serde::Serialize for RouterKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read as an enum whose variants are the registered names, so readers that know enums
/// (the topology reader suggests the closest name) treat it like one.
impl<'de> serde::Deserialize<'de> for RouterKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        fn named<E: serde::de::Error>(name: &str) -> Result<RouterKind, E> {
            RouterKind::all()
                .find(|k| k.as_str() == name)
                .ok_or_else(|| E::unknown_variant(name, RouterKind::names()))
        }
        struct Name;
        impl<'de> serde::de::Visitor<'de> for Name {
            type Value = RouterKind;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a router kind")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<RouterKind, E> {
                named(name)
            }
            fn visit_enum<A: serde::de::EnumAccess<'de>>(
                self,
                data: A,
            ) -> Result<RouterKind, A::Error> {
                use serde::de::VariantAccess;
                let (name, variant): (String, A::Variant) = data.variant()?;
                variant.unit_variant()?;
                named(&name)
            }
        }
        deserializer.deserialize_enum("RouterKind", RouterKind::names(), Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serde_agrees_with_them() {
        for kind in RouterKind::all() {
            assert_eq!(kind.as_str().parse::<RouterKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().to_string())
            );
            assert_eq!(
                serde_json::from_value::<RouterKind>(serde_json::to_value(kind).unwrap()).unwrap(),
                kind
            );
        }
        assert_eq!(
            "junos".parse::<RouterKind>().unwrap_err(),
            "unknown router kind `junos` (expected frr, bird, gobgp, quagga, openbgpd or linux)"
        );
        let err = serde_json::from_str::<RouterKind>("\"junos\"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown variant `junos`, expected one of `frr`, `bird`, `gobgp`, `quagga`, `openbgpd`, `linux`"
        );
    }

    #[test]
    fn kinds_sort_in_registry_order_and_names_are_unique() {
        let mut sorted: Vec<RouterKind> = RouterKind::all().collect();
        sorted.reverse();
        sorted.sort();
        assert_eq!(sorted, RouterKind::all().collect::<Vec<_>>());
        let mut names = RouterKind::names().to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RouterKind::names().len());
    }

    #[test]
    fn every_kind_folder_is_registered_and_its_image_context_is_its_image_folder() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/kinds");
        let mut folders: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        let mut registered = RouterKind::names().to_vec();
        registered.sort();
        assert_eq!(folders, registered);
        for kind in RouterKind::all() {
            let folder = root.join(kind.as_str()).join("image");
            let Some(image) = &kind.profile().image else {
                assert!(!folder.exists(), "{kind}: image/ without an image profile");
                continue;
            };
            let mut on_disk: Vec<String> = std::fs::read_dir(&folder)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            on_disk.sort();
            let mut listed: Vec<String> =
                image.context.iter().map(|(n, _)| n.to_string()).collect();
            listed.sort();
            assert_eq!(
                on_disk, listed,
                "{kind}: image/ and its build context differ"
            );
        }
    }

    #[test]
    fn kinds_with_bgp_name_their_daemons_and_kill_each_by_its_name() {
        for kind in RouterKind::all() {
            let behaviour = kind.behaviour();
            let daemons = behaviour.daemons();
            assert_eq!(
                !daemons.is_empty(),
                kind.speaks_bgp(),
                "{kind}: {daemons:?}"
            );
            for daemon in daemons {
                let kill = behaviour.kill_commands(daemon);
                assert_eq!(
                    kill.last(),
                    Some(&kill_process(daemon)),
                    "{kind}: the last kill command kills {daemon}"
                );
                assert!(
                    !behaviour.restart_commands(daemon, &[]).is_empty(),
                    "{kind}"
                );
            }
        }
        assert_eq!(
            kill_process("bird"),
            [
                "sh",
                "-c",
                "pkill -KILL -x bird || { echo 'no bird process runs' >&2; exit 1; }"
            ]
        );
        // A daemon dies on its own: the container and its other daemons stay.
        assert_eq!(
            bird::KIND.behaviour().restart_commands("bird", &[]),
            bird::KIND.behaviour().daemon_commands(&[])
        );
    }

    #[test]
    fn every_daemon_log_is_named_by_the_kinds_configs_or_start() {
        // Snapshots collect these files: the configs or start commands that make the
        // daemons write there must name them, so changing one without the other fails.
        for kind in RouterKind::all() {
            let behaviour = kind.behaviour();
            let mut written: Vec<String> = behaviour
                .templates()
                .iter()
                .map(|(_, source)| source.to_string())
                .collect();
            written.extend(behaviour.daemon_commands(&[]).concat());
            for log in kind.profile().daemon_logs {
                assert!(
                    written.iter().any(|text| text.contains(log)),
                    "{kind}: {log} is written by none of its configs or start commands"
                );
            }
        }
    }
}
