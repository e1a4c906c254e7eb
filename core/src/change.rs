//! What `up FILE` changes on a running lab: the running plan against the new one, each
//! difference classified by how it is applied in place (pure: `diff` prints it, `up`
//! applies it). Whatever cannot change in place is named, and then nothing is applied.

use crate::kinds::ConfigFile;
use crate::plan::model::{
    PeerRef, Plan, PlannedInterface, PlannedNetwork, PlannedRouter, PlannedSession, StaticRoute,
};
use crate::topology::model::{Placement, RouterKind};
use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// A router's rendered config files, by router name.
pub type RenderedConfigs = BTreeMap<String, Vec<ConfigFile>>;

/// One side of a comparison: a plan with its rendered router configs and MetalLB objects.
pub struct LabSide<'a> {
    pub plan: &'a Plan,
    pub configs: &'a RenderedConfigs,
    pub metallb: &'a [Value],
    /// The app manifests' texts, by path as the plan names them.
    pub apps: &'a BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabChange {
    pub lab: String,
    /// What only a rebuild can change (`up --reconfigure`); when any, nothing is applied.
    pub not_in_place: Vec<String>,
    pub networks: Vec<NetworkChange>,
    pub routers: Vec<RouterChange>,
    /// BGP sessions that go down or reset, each with why.
    pub sessions_reset: Vec<SessionReset>,
    /// BGP sessions in both plans that the change leaves alone (their uptime continues).
    pub sessions_kept: usize,
    pub metallb: Vec<ObjectChange>,
    /// App manifests applied again, when one is new or changed (server-side apply leaves
    /// unchanged objects as they are; objects an app no longer has stay).
    pub apps: Vec<String>,
    pub checks: ChecksChange,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum NetworkChange {
    Added { network: PlannedNetwork },
    Removed { network: PlannedNetwork },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouterChange {
    pub router: String,
    pub kind: RouterKind,
    /// Its addresses, AS and sessions (as planned; as running for a removed router).
    pub summary: String,
    pub action: RouterAction,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum RouterAction {
    Added,
    Removed,
    /// Removed and created again: what changed is set when its container is created.
    Replaced {
        reasons: Vec<String>,
    },
    Changed(Box<RouterEdit>),
}

/// The in-place edits of a router whose container stays.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct RouterEdit {
    pub interfaces_removed: Vec<PlannedInterface>,
    pub interfaces_added: Vec<PlannedInterface>,
    pub routes_removed: Vec<StaticRoute>,
    pub routes_added: Vec<StaticRoute>,
    pub announce_removed: Vec<IpNet>,
    pub announce_added: Vec<IpNet>,
    /// Peers (as `session_label` writes them) of sessions added, removed or changed.
    pub sessions_added: Vec<String>,
    pub sessions_removed: Vec<String>,
    pub sessions_changed: Vec<String>,
    /// Paths of config files that differ (added, removed or changed).
    pub files_changed: Vec<String>,
    pub daemons: DaemonAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum DaemonAction {
    /// Its daemons keep running as they are.
    #[default]
    Untouched,
    /// The running daemons read the new files (sessions whose config did not change
    /// stay up): these commands, in order.
    Reload(crate::kinds::Reload),
    /// Its daemons start again (every session of the router resets).
    Restart { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SessionReset {
    /// `frr1 ↔ bird1`, `frr1 ↔ node kind-worker`.
    pub session: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectChange {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub action: ObjectAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectAction {
    Created,
    Changed,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ChecksChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl ChecksChange {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

impl LabChange {
    /// Nothing differs between the running lab and the file.
    pub fn is_empty(&self) -> bool {
        self.not_in_place.is_empty()
            && self.networks.is_empty()
            && self.routers.is_empty()
            && self.metallb.is_empty()
            && self.apps.is_empty()
            && self.checks.is_empty()
    }

    /// Whether something has to be done to the running lab (checks alone change only
    /// the saved plan).
    pub fn touches_the_lab(&self) -> bool {
        !self.networks.is_empty()
            || !self.routers.is_empty()
            || !self.metallb.is_empty()
            || !self.apps.is_empty()
    }

    pub fn router(&self, name: &str) -> Option<&RouterChange> {
        self.routers.iter().find(|r| r.router == name)
    }
}

/// The change that turns `old` (running) into `new`. `new.plan` must have its node
/// sessions expanded with the running cluster's nodes, like `old.plan`.
pub fn lab_change(old: &LabSide, new: &LabSide) -> LabChange {
    let mut not_in_place = vec![];
    if old.plan.cluster != new.plan.cluster {
        not_in_place
            .push("the cluster (provider, name, node count or other cluster settings)".to_string());
    }
    if old.plan.nodes != new.plan.nodes {
        not_in_place.push("the cluster nodes' settings (`nodes:`)".to_string());
    }
    match (&old.plan.metallb, &new.plan.metallb) {
        (Some(_), None) => not_in_place.push("MetalLB removed (`metallb:`)".to_string()),
        (None, Some(_)) => not_in_place.push("MetalLB added (`metallb:`)".to_string()),
        (Some(o), Some(n)) => {
            for (what, differs) in [
                ("version", o.version != n.version),
                ("mode", o.mode != n.mode),
                ("manifests", o.manifests != n.manifests),
            ] {
                if differs {
                    not_in_place.push(format!("MetalLB's {what} (`metallb.{what}`)"));
                }
            }
        }
        (None, None) => {}
    }
    let networks = network_changes(old.plan, new.plan, &mut not_in_place);
    let routers = router_changes(old, new, &mut not_in_place);
    let (sessions_reset, sessions_kept) = session_effects(old.plan, new.plan, &routers);
    // Any app that is new or whose text changed: all are applied again (in their order,
    // as at creation), and server-side apply leaves unchanged objects alone.
    let apps = if new
        .apps
        .iter()
        .any(|(path, text)| old.apps.get(path) != Some(text))
    {
        new.apps.keys().cloned().collect()
    } else {
        vec![]
    };
    LabChange {
        lab: new.plan.lab.clone(),
        not_in_place,
        networks,
        routers,
        sessions_reset,
        sessions_kept,
        metallb: object_changes(old.metallb, new.metallb),
        apps,
        checks: checks_change(old.plan, new.plan),
    }
}

fn network_changes(old: &Plan, new: &Plan, not_in_place: &mut Vec<String>) -> Vec<NetworkChange> {
    let mut out = vec![];
    for n in &new.networks {
        match old.network(&n.name) {
            None => out.push(NetworkChange::Added { network: n.clone() }),
            Some(before) if before != n => {
                let mut what = vec![];
                if before.subnet != n.subnet {
                    what.push(format!("subnet {} → {}", before.subnet, n.subnet));
                }
                if before.gateway != n.gateway {
                    what.push(format!("gateway {} → {}", before.gateway, n.gateway));
                }
                if before.internal != n.internal {
                    what.push(format!("internal {} → {}", before.internal, n.internal));
                }
                if before.docker_name != n.docker_name {
                    what.push(format!("name {} → {}", before.docker_name, n.docker_name));
                }
                if what.is_empty() {
                    what.push("its node address range".to_string());
                }
                not_in_place.push(format!("network {} ({})", n.name, what.join(", ")));
            }
            Some(_) => {}
        }
    }
    for n in &old.networks {
        if new.network(&n.name).is_none() {
            out.push(NetworkChange::Removed { network: n.clone() });
        }
    }
    out
}

fn router_changes(
    old: &LabSide,
    new: &LabSide,
    not_in_place: &mut Vec<String>,
) -> Vec<RouterChange> {
    let mut out = vec![];
    let in_cluster = |r: &PlannedRouter| r.placement == Placement::Cluster;
    for r in &new.plan.routers {
        let change = |action| RouterChange {
            router: r.name.clone(),
            kind: r.kind,
            summary: router_summary(r),
            action,
        };
        let Some(before) = old.plan.router(&r.name) else {
            if in_cluster(r) {
                not_in_place.push(format!("router {} added in the cluster", r.name));
            } else {
                out.push(change(RouterAction::Added));
            }
            continue;
        };
        if before == r && old.configs.get(&r.name) == new.configs.get(&r.name) {
            continue;
        }
        if in_cluster(r) || in_cluster(before) {
            not_in_place.push(format!("router {} (it runs in the cluster)", r.name));
            continue;
        }
        let reasons = replace_reasons(before, r);
        if !reasons.is_empty() {
            out.push(change(RouterAction::Replaced { reasons }));
            continue;
        }
        let edit = router_edit(
            before,
            r,
            old.configs.get(&r.name).map(Vec::as_slice).unwrap_or(&[]),
            new.configs.get(&r.name).map(Vec::as_slice).unwrap_or(&[]),
        );
        if edit != RouterEdit::default() {
            out.push(change(RouterAction::Changed(Box::new(edit))));
        }
    }
    for r in &old.plan.routers {
        if new.plan.router(&r.name).is_none() {
            if in_cluster(r) {
                not_in_place.push(format!("router {} removed from the cluster", r.name));
            } else {
                out.push(RouterChange {
                    router: r.name.clone(),
                    kind: r.kind,
                    summary: router_summary(r),
                    action: RouterAction::Removed,
                });
            }
        }
    }
    out
}

/// `lan=10.202.1.16 AS64504, 2 session(s)`.
pub fn router_summary(r: &PlannedRouter) -> String {
    let mut text = r
        .interfaces
        .iter()
        .map(|i| format!("{}={}", i.network, i.ip))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(asn) = r.asn {
        text.push_str(&format!(" AS{asn}, {} session(s)", r.sessions.len()));
    }
    text
}

/// What only a new container can change: its image, and forwarding (a sysctl set when
/// the container is created; /proc/sys is read-only inside).
fn replace_reasons(old: &PlannedRouter, new: &PlannedRouter) -> Vec<String> {
    let mut reasons = vec![];
    if old.kind != new.kind {
        reasons.push(format!("kind {} → {}", old.kind, new.kind));
    } else if old.image != new.image {
        reasons.push(format!("image {} → {}", old.image, new.image));
    }
    if old.forward != new.forward {
        reasons.push(format!(
            "forwarding {}",
            if new.forward { "on" } else { "off" }
        ));
    }
    reasons
}

fn router_edit(
    old: &PlannedRouter,
    new: &PlannedRouter,
    old_files: &[ConfigFile],
    new_files: &[ConfigFile],
) -> RouterEdit {
    // By network and address: a prefix length follows its network's subnet, which
    // cannot change in place anyway.
    let at = |i: &PlannedInterface| (i.network.clone(), i.ip);
    let old_at: Vec<_> = old.interfaces.iter().map(at).collect();
    let new_at: Vec<_> = new.interfaces.iter().map(at).collect();
    let interfaces_removed = old
        .interfaces
        .iter()
        .filter(|i| !new_at.contains(&at(i)))
        .cloned()
        .collect();
    let interfaces_added = new
        .interfaces
        .iter()
        .filter(|i| !old_at.contains(&at(i)))
        .cloned()
        .collect();
    let (routes_removed, routes_added) = added_removed(&old.routes, &new.routes);
    let (announce_removed, announce_added) = added_removed(&old.announce, &new.announce);
    let old_sessions = sessions_by_peer(old);
    let new_sessions = sessions_by_peer(new);
    let mut edit = RouterEdit {
        interfaces_removed,
        interfaces_added,
        routes_removed,
        routes_added,
        announce_removed,
        announce_added,
        files_changed: files_changed(old_files, new_files),
        ..RouterEdit::default()
    };
    for (key, s) in &new_sessions {
        match old_sessions.get(key) {
            None => edit.sessions_added.push(session_label(new, s)),
            Some(before) if before != s => edit.sessions_changed.push(session_label(new, s)),
            Some(_) => {}
        }
    }
    for (key, s) in &old_sessions {
        if !new_sessions.contains_key(key) {
            edit.sessions_removed.push(session_label(old, s));
        }
    }
    edit.daemons = daemon_action(old, new, &edit.files_changed);
    edit
}

/// How the daemons follow: the same start commands and only files the kind reloads →
/// reload; another way of starting them (announcements through the API, the HTTP server,
/// the user's commands) or files it cannot reload → restart.
fn daemon_action(old: &PlannedRouter, new: &PlannedRouter, files: &[String]) -> DaemonAction {
    let started = |r: &PlannedRouter| {
        let routes = crate::drivers::route_commands(r).len();
        crate::drivers::start_commands(r).split_off(routes)
    };
    if started(old) != started(new) {
        return DaemonAction::Restart {
            reason: "its start commands change (announcements made through its API, the \
                     HTTP server or `exec:`)"
                .to_string(),
        };
    }
    // The HTTP server serves its files from disk: uploading them is enough.
    let changed: Vec<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|p| !p.starts_with(crate::drivers::paths::HTTP_ROOT))
        .collect();
    if changed.is_empty() {
        return DaemonAction::Untouched;
    }
    match new.kind.behaviour().reload(&changed) {
        Some(reload) => DaemonAction::Reload(reload),
        None => DaemonAction::Restart {
            reason: format!("{} cannot reload {}", new.kind, changed.join(", ")),
        },
    }
}

fn files_changed(old: &[ConfigFile], new: &[ConfigFile]) -> Vec<String> {
    let by_path = |files: &[ConfigFile]| {
        files
            .iter()
            .map(|f| (f.path.clone(), f.contents.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (o, n) = (by_path(old), by_path(new));
    o.keys()
        .chain(n.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|p| o.get(*p) != n.get(*p))
        .cloned()
        .collect()
}

fn added_removed<T: Clone + PartialEq>(old: &[T], new: &[T]) -> (Vec<T>, Vec<T>) {
    let removed = old.iter().filter(|x| !new.contains(x)).cloned().collect();
    let added = new.iter().filter(|x| !old.contains(x)).cloned().collect();
    (removed, added)
}

/// A session's identity on one router: its peer and both addresses.
type SessionKey = (String, IpAddr, IpAddr);

fn peer_name(s: &PlannedSession) -> String {
    match &s.peer {
        PeerRef::Router(name) => name.clone(),
        PeerRef::Node(name) => format!("node {name}"),
        PeerRef::External => s.peer_address.to_string(),
    }
}

fn sessions_by_peer(r: &PlannedRouter) -> BTreeMap<SessionKey, &PlannedSession> {
    r.sessions
        .iter()
        .map(|s| ((peer_name(s), s.local_address, s.peer_address), s))
        .collect()
}

/// `frr1 ↔ bird1`; with the addresses when the two routers have several sessions.
fn session_label(r: &PlannedRouter, s: &PlannedSession) -> String {
    let peer = peer_name(s);
    let same_peer = r.sessions.iter().filter(|o| peer_name(o) == peer).count();
    if same_peer > 1 {
        format!(
            "{} ↔ {peer} ({} → {})",
            r.name, s.local_address, s.peer_address
        )
    } else {
        format!("{} ↔ {peer}", r.name)
    }
}

/// A session seen from either end: its two (name, address) ends, in order.
type Link = [(String, IpAddr); 2];

fn links(plan: &Plan) -> BTreeMap<Link, String> {
    let mut out = BTreeMap::new();
    for r in &plan.routers {
        for s in &r.sessions {
            let mut ends = [
                (r.name.clone(), s.local_address),
                (peer_name(s), s.peer_address),
            ];
            ends.sort();
            out.entry(ends).or_insert_with(|| session_label(r, s));
        }
    }
    out
}

/// The sessions that reset (and why) and how many stay up.
fn session_effects(old: &Plan, new: &Plan, routers: &[RouterChange]) -> (Vec<SessionReset>, usize) {
    let new_links = links(new);
    let mut reset = BTreeSet::new();
    let mut kept = 0;
    for (link, label) in links(old) {
        let why = if !new_links.contains_key(&link) {
            Some("the session is removed".to_string())
        } else if let Some(why) = link
            .iter()
            .find_map(|(name, _)| router_reset(old, new, routers, name))
        {
            Some(why)
        } else if (0..2).any(|end| end_session(old, &link, end) != end_session(new, &link, end)) {
            Some("its settings change".to_string())
        } else {
            None
        };
        match why {
            Some(why) => {
                reset.insert(SessionReset {
                    session: label,
                    why,
                });
            }
            None => kept += 1,
        }
    }
    (reset.into_iter().collect(), kept)
}

/// Why every session of router `name` resets, if they all do.
fn router_reset(old: &Plan, new: &Plan, routers: &[RouterChange], name: &str) -> Option<String> {
    let change = routers.iter().find(|c| c.router == name)?;
    match &change.action {
        RouterAction::Removed => Some(format!("{name} is removed")),
        RouterAction::Replaced { .. } => Some(format!("{name} is replaced")),
        RouterAction::Changed(edit) => match &edit.daemons {
            DaemonAction::Restart { .. } => Some(format!("{name}'s daemons restart")),
            DaemonAction::Reload(_)
                if old.router(name).map(|r| r.router_id)
                    != new.router(name).map(|r| r.router_id) =>
            {
                Some(format!("{name}'s router ID changes"))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The session of a link as configured on its `end` (0 or 1), when that end is a router.
fn end_session<'p>(plan: &'p Plan, link: &Link, end: usize) -> Option<&'p PlannedSession> {
    let (name, address) = &link[end];
    let (peer, peer_address) = &link[1 - end];
    plan.router(name)?.sessions.iter().find(|s| {
        s.local_address == *address && s.peer_address == *peer_address && peer_name(s) == *peer
    })
}

/// MetalLB objects created, changed or deleted, by kind, namespace and name.
fn object_changes(old: &[Value], new: &[Value]) -> Vec<ObjectChange> {
    let key = |v: &Value| {
        let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
        (
            text("/kind").unwrap_or_default(),
            text("/metadata/namespace"),
            text("/metadata/name").unwrap_or_default(),
        )
    };
    let olds: BTreeMap<_, _> = old.iter().map(|v| (key(v), v)).collect();
    let mut out = vec![];
    let mut seen = BTreeSet::new();
    for v in new {
        let k = key(v);
        let action = match olds.get(&k) {
            None => Some(ObjectAction::Created),
            Some(before) if *before != v => Some(ObjectAction::Changed),
            Some(_) => None,
        };
        seen.insert(k.clone());
        if let Some(action) = action {
            out.push(ObjectChange {
                kind: k.0,
                namespace: k.1,
                name: k.2,
                action,
            });
        }
    }
    for (k, _) in olds {
        if !seen.contains(&k) {
            out.push(ObjectChange {
                kind: k.0,
                namespace: k.1,
                name: k.2,
                action: ObjectAction::Deleted,
            });
        }
    }
    out
}

fn checks_change(old: &Plan, new: &Plan) -> ChecksChange {
    let olds: BTreeMap<&str, _> = old.checks.iter().map(|c| (c.name.as_str(), c)).collect();
    let news: BTreeMap<&str, _> = new.checks.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut change = ChecksChange::default();
    for (name, c) in &news {
        match olds.get(name) {
            None => change.added.push(name.to_string()),
            Some(before) if before != c => change.changed.push(name.to_string()),
            Some(_) => {}
        }
    }
    for name in olds.keys() {
        if !news.contains_key(name) {
            change.removed.push(name.to_string());
        }
    }
    change
}

/// The change as `metallab diff` prints it: one line per router, network and object
/// (`+` added, `-` removed, `~` changed in place, `-/+` replaced), the sessions that
/// reset, then what cannot change in place.
pub fn render_change(change: &LabChange, topology_argument: &str) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    if change.is_empty() {
        line(format!("lab {}: no changes", change.lab));
        return out;
    }
    line(format!("lab {}: {}", change.lab, counts(change)));
    for n in &change.networks {
        match n {
            NetworkChange::Added { network } => line(format!(
                "+ network {} ({}{})",
                network.name,
                network.subnet,
                if network.internal { ", internal" } else { "" }
            )),
            NetworkChange::Removed { network } => {
                line(format!("- network {} ({})", network.name, network.subnet))
            }
        }
    }
    for r in &change.routers {
        let head = format!("router {} ({})", r.router, r.kind);
        match &r.action {
            RouterAction::Added => line(format!("+ {head} {}", r.summary)),
            RouterAction::Removed => line(format!("- {head} {}", r.summary)),
            RouterAction::Replaced { reasons } => {
                line(format!("-/+ {head}: replaced ({})", reasons.join(", ")))
            }
            RouterAction::Changed(edit) => {
                line(format!("~ {head}: {}", daemons_text(&edit.daemons)));
                for detail in edit_lines(edit) {
                    line(format!("    {detail}"));
                }
            }
        }
    }
    for o in &change.metallb {
        let sign = match o.action {
            ObjectAction::Created => "+",
            ObjectAction::Changed => "~",
            ObjectAction::Deleted => "-",
        };
        let name = match &o.namespace {
            Some(ns) => format!("{ns}/{}", o.name),
            None => o.name.clone(),
        };
        line(format!("{sign} MetalLB {} {name}", o.kind));
    }
    if !change.apps.is_empty() {
        line(format!(
            "~ apps applied again (server-side apply): {}",
            change.apps.join(", ")
        ));
    }
    let checks = &change.checks;
    if !checks.is_empty() {
        line(format!(
            "~ checks: {} added, {} changed, {} removed",
            checks.added.len(),
            checks.changed.len(),
            checks.removed.len()
        ));
    }
    if change.touches_the_lab() {
        if change.sessions_reset.is_empty() {
            line("no BGP session resets".to_string());
        } else {
            line(format!(
                "BGP sessions that go down or reset ({}):",
                change.sessions_reset.len()
            ));
            for s in &change.sessions_reset {
                line(format!("  {}: {}", s.session, s.why));
            }
        }
        line(format!(
            "BGP sessions that stay up: {}",
            change.sessions_kept
        ));
    }
    if !change.not_in_place.is_empty() {
        line(format!(
            "cannot change in place (rebuild with: metallab up --reconfigure {topology_argument}):"
        ));
        for what in &change.not_in_place {
            line(format!("  - {what}"));
        }
    }
    out
}

fn counts(change: &LabChange) -> String {
    let count =
        |pred: fn(&RouterAction) -> bool| change.routers.iter().filter(|r| pred(&r.action)).count();
    let mut parts = vec![];
    for (n, what) in [
        (count(|a| matches!(a, RouterAction::Added)), "to add"),
        (
            count(|a| matches!(a, RouterAction::Changed(_))),
            "to change",
        ),
        (
            count(|a| matches!(a, RouterAction::Replaced { .. })),
            "to replace",
        ),
        (count(|a| matches!(a, RouterAction::Removed)), "to remove"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let mut text = if parts.is_empty() {
        String::new()
    } else {
        format!("router(s): {}", parts.join(", "))
    };
    let added = change
        .networks
        .iter()
        .filter(|n| matches!(n, NetworkChange::Added { .. }))
        .count();
    let removed = change.networks.len() - added;
    let mut nets = vec![];
    if added > 0 {
        nets.push(format!("{added} to add"));
    }
    if removed > 0 {
        nets.push(format!("{removed} to remove"));
    }
    if !nets.is_empty() {
        if !text.is_empty() {
            text.push_str("; ");
        }
        text.push_str(&format!("network(s): {}", nets.join(", ")));
    }
    if !change.metallb.is_empty() {
        if !text.is_empty() {
            text.push_str("; ");
        }
        text.push_str(&format!("{} MetalLB object(s)", change.metallb.len()));
    }
    if text.is_empty() {
        text.push_str(if change.not_in_place.is_empty() {
            "checks only"
        } else {
            "nothing that can change in place"
        });
    }
    text
}

fn daemons_text(d: &DaemonAction) -> String {
    match d {
        DaemonAction::Untouched => "daemons keep running".to_string(),
        DaemonAction::Reload(r) => format!("config reloaded ({})", r.how),
        DaemonAction::Restart { reason } => format!("daemons restart: {reason}"),
    }
}

fn edit_lines(edit: &RouterEdit) -> Vec<String> {
    let mut out = vec![];
    out.extend(
        edit.interfaces_removed
            .iter()
            .map(|i| format!("- interface {} {}", i.network, i.ip)),
    );
    out.extend(
        edit.interfaces_added
            .iter()
            .map(|i| format!("+ interface {} {}", i.network, i.ip)),
    );
    out.extend(
        edit.routes_removed
            .iter()
            .map(|r| format!("- route {} via {}", r.to, r.via)),
    );
    out.extend(
        edit.routes_added
            .iter()
            .map(|r| format!("+ route {} via {}", r.to, r.via)),
    );
    out.extend(
        edit.announce_removed
            .iter()
            .map(|p| format!("- announce {p}")),
    );
    out.extend(
        edit.announce_added
            .iter()
            .map(|p| format!("+ announce {p}")),
    );
    out.extend(
        edit.sessions_removed
            .iter()
            .map(|s| format!("- session {s}")),
    );
    out.extend(edit.sessions_added.iter().map(|s| format!("+ session {s}")));
    out.extend(
        edit.sessions_changed
            .iter()
            .map(|s| format!("~ session {s}")),
    );
    out.extend(edit.files_changed.iter().map(|f| format!("~ file {f}")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::builtin;
    use crate::topology::load::parse_and_validate;
    use std::path::Path;

    fn plan_of(text: &str) -> Plan {
        let topology =
            parse_and_validate("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
        crate::plan::build(&topology, "/labs/lab.yaml", Path::new("/labs"))
    }

    fn interop_text() -> String {
        let builtin = builtin::get("interop").unwrap();
        builtin.yaml.to_string()
    }

    fn configs(plan: &Plan) -> RenderedConfigs {
        plan.routers
            .iter()
            .map(|r| (r.name.clone(), crate::render::render_router(r).unwrap()))
            .collect()
    }

    /// The change from the interop lab to `edited` (its text after `edit`).
    fn change(edit: impl Fn(String) -> String) -> LabChange {
        let old = plan_of(&interop_text());
        let new = plan_of(&edit(interop_text()));
        let (oc, nc) = (configs(&old), configs(&new));
        lab_change(
            &LabSide {
                plan: &old,
                configs: &oc,
                metallb: &[],
                apps: &BTreeMap::new(),
            },
            &LabSide {
                plan: &new,
                configs: &nc,
                metallb: &[],
                apps: &BTreeMap::new(),
            },
        )
    }

    fn replaced(text: String, old: &str, new: &str) -> String {
        assert!(text.contains(old), "{old:?} is in the topology");
        text.replacen(old, new, 1)
    }

    #[test]
    fn the_same_file_changes_nothing() {
        let c = change(|t| t);
        assert!(c.is_empty());
        assert_eq!(render_change(&c, "interop"), "lab interop: no changes\n");
    }

    #[test]
    fn a_router_and_a_prefix_added_reload_their_peers_and_reset_no_session() {
        let c = change(|t| {
            let t = replaced(
                t,
                "    announce: [203.0.113.0/24]\n",
                "    announce: [203.0.113.0/24, 198.51.100.128/25]\n  frr3:\n    kind: frr\n    asn: 64504\n    interfaces: { lan: { ip: 10.202.1.16 } }\n    announce: [192.0.2.192/26]\n    neighbors: [{ to: frr1 }, { to: bird1 }]\n",
            );
            replaced(
                t,
                "checks:\n",
                "checks:\n  - { router: frr3, session: bird1 }\n  - { router: bird1, route: 192.0.2.192/26, nexthops: frr3 }\n",
            )
        });
        assert!(c.not_in_place.is_empty());
        assert_eq!(c.sessions_reset, vec![]);
        assert_eq!(c.sessions_kept, 10, "every session of interop stays up");
        let actions: Vec<(&str, &str)> = c
            .routers
            .iter()
            .map(|r| {
                let action = match &r.action {
                    RouterAction::Added => "added",
                    RouterAction::Changed(edit) => match &edit.daemons {
                        DaemonAction::Reload(reload) => reload.how,
                        other => panic!("{}: {other:?}", r.router),
                    },
                    other => panic!("{}: {other:?}", r.router),
                };
                (r.router.as_str(), action)
            })
            .collect();
        assert_eq!(
            actions,
            vec![
                ("frr1", "frr-reload.py"),
                ("bird1", "birdc configure"),
                ("frr2", "frr-reload.py"),
                ("frr3", "added"),
            ]
        );
        insta::assert_snapshot!(render_change(&c, "interop.yaml"));
    }

    #[test]
    fn a_bird_asn_changed_resets_exactly_its_sessions() {
        let c = change(|t| replaced(t, "asn: 64502\n", "asn: 64510\n"));
        let reset: Vec<&str> = c
            .sessions_reset
            .iter()
            .map(|s| s.session.as_str())
            .collect();
        // bird1's own sessions; and GoBGP, which cannot reload its peer's new AS, restarts
        // with all of its sessions. The three others stay up.
        assert_eq!(
            reset,
            vec![
                "bird1 ↔ bird2",
                "bird1 ↔ frr2",
                "bird1 ↔ gobgp1",
                "frr1 ↔ bird1",
                "frr1 ↔ gobgp1",
                "gobgp1 ↔ bird2",
                "gobgp1 ↔ frr2"
            ]
        );
        assert_eq!(c.sessions_kept, 3);
        insta::assert_snapshot!(render_change(&c, "interop.yaml"));
    }

    #[test]
    fn what_only_a_new_container_or_a_rebuild_can_change_is_named() {
        let c = change(|t| {
            let t = replaced(
                t,
                "lan: { subnet: 10.202.1.0/24 }",
                "lan: { subnet: 10.202.0.0/23 }",
            );
            replaced(t, "  bird2:\n    kind: bird\n", "  bird2:\n    kind: frr\n")
        });
        assert_eq!(
            c.not_in_place,
            vec![
                "network lan (subnet 10.202.1.0/24 → 10.202.0.0/23, gateway 10.202.1.1 → 10.202.0.1)"
            ]
        );
        assert!(matches!(
            &c.router("bird2").unwrap().action,
            RouterAction::Replaced { reasons } if reasons == &["kind bird → frr"]
        ));
        insta::assert_snapshot!(render_change(&c, "interop.yaml"));
    }

    #[test]
    fn a_removed_router_takes_its_sessions_and_gobgp_restarts_for_an_announcement() {
        let c = change(|t| {
            let t = replaced(
                t,
                "    announce: [192.0.2.128/26]\n",
                "    announce: [192.0.2.128/26, 192.0.2.192/26]\n",
            );
            // frr2 goes, with the sessions and checks that name it.
            let cut = t.find("  frr2:\n").unwrap();
            let end = t.find("checks:").unwrap();
            let t = format!("{}{}", &t[..cut], &t[end..]);
            let t = t
                .replace(", { to: frr2 }", "")
                .replace("[{ to: frr2 }]", "[]");
            t.lines()
                .filter(|l| !l.contains("frr2") && !l.contains("203.0.113.0/24"))
                .map(|l| format!("{l}\n"))
                .collect()
        });
        assert!(c.not_in_place.is_empty(), "{:?}", c.not_in_place);
        assert_eq!(c.router("frr2").unwrap().action, RouterAction::Removed,);
        assert!(matches!(
            &c.router("gobgp1").unwrap().action,
            RouterAction::Changed(edit) if matches!(edit.daemons, DaemonAction::Restart { .. })
        ));
        insta::assert_snapshot!(render_change(&c, "interop.yaml"));
    }

    #[test]
    fn kinds_reload_their_one_config_file_or_restart() {
        use crate::kinds::{bird, frr, gobgp, openbgpd};
        let how =
            |kind: RouterKind, changed: &[&str]| kind.behaviour().reload(changed).map(|r| r.how);
        assert_eq!(how(frr::KIND, &[frr::paths::CONF]), Some("frr-reload.py"));
        assert_eq!(
            how(frr::KIND, &[frr::paths::CONF, frr::paths::DAEMONS]),
            None
        );
        assert_eq!(
            how(bird::KIND, &[bird::paths::CONF]),
            Some("birdc configure")
        );
        assert_eq!(
            how(openbgpd::KIND, &[openbgpd::paths::CONF]),
            Some("bgpctl reload")
        );
        assert_eq!(how(gobgp::KIND, &[gobgp::paths::CONF]), None);
    }

    #[test]
    fn an_edited_app_manifest_applies_the_apps_again() {
        let plan = plan_of(&interop_text());
        let configs = configs(&plan);
        let app = |text: &str| BTreeMap::from([("/labs/nginx.yaml".to_string(), text.to_string())]);
        let side = |apps| LabSide {
            plan: &plan,
            configs: &configs,
            metallb: &[],
            apps,
        };
        let before = app("kind: Service\n");
        let same = lab_change(&side(&before), &side(&before));
        assert!(same.is_empty());
        let edited = app("kind: Service\nspec: {loadBalancerIP: 198.51.100.1}\n");
        let c = lab_change(&side(&before), &side(&edited));
        assert_eq!(c.apps, ["/labs/nginx.yaml"]);
        assert!(
            render_change(&c, "lab.yaml")
                .contains("~ apps applied again (server-side apply): /labs/nginx.yaml")
        );
    }

    #[test]
    fn metallb_objects_are_created_changed_and_deleted_by_kind_and_name() {
        let obj = |kind: &str, name: &str, spec: serde_json::Value| serde_json::json!({"kind": kind, "metadata": {"name": name, "namespace": "metallb-system"}, "spec": spec});
        let old = vec![
            obj(
                "IPAddressPool",
                "pool",
                serde_json::json!({"addresses": ["198.51.100.0/24"]}),
            ),
            obj("BGPPeer", "frr1", serde_json::json!({"myASN": 64500})),
            obj("BGPAdvertisement", "all", serde_json::json!({})),
        ];
        let new = vec![
            obj(
                "IPAddressPool",
                "pool",
                serde_json::json!({"addresses": ["198.51.100.0/24"], "avoidBuggyIPs": true}),
            ),
            obj("BGPPeer", "frr1", serde_json::json!({"myASN": 64500})),
            obj("BGPPeer", "bird1", serde_json::json!({"myASN": 64500})),
        ];
        let changes: Vec<(String, ObjectAction)> = object_changes(&old, &new)
            .into_iter()
            .map(|c| (format!("{} {}", c.kind, c.name), c.action))
            .collect();
        assert_eq!(
            changes,
            vec![
                ("IPAddressPool pool".to_string(), ObjectAction::Changed),
                ("BGPPeer bird1".to_string(), ObjectAction::Created),
                ("BGPAdvertisement all".to_string(), ObjectAction::Deleted),
            ]
        );
    }
}
