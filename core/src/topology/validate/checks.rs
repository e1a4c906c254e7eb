//! The `checks:` entries: one kind each, only its keys, and everything they name exists.

use super::*;

/// Which kind of check a `checks:` entry is, from the one kind key it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKindKey {
    Session,
    Route,
    KernelRoute,
    Bfd,
    Http,
    Ping,
    Service,
}

impl CheckKindKey {
    pub const ALL: [CheckKindKey; 7] = [
        CheckKindKey::Session,
        CheckKindKey::Route,
        CheckKindKey::KernelRoute,
        CheckKindKey::Bfd,
        CheckKindKey::Http,
        CheckKindKey::Ping,
        CheckKindKey::Service,
    ];

    pub fn key(self) -> &'static str {
        match self {
            CheckKindKey::Session => "session",
            CheckKindKey::Route => "route",
            CheckKindKey::KernelRoute => "kernel-route",
            CheckKindKey::Bfd => "bfd",
            CheckKindKey::Http => "http",
            CheckKindKey::Ping => "ping",
            CheckKindKey::Service => "service",
        }
    }

    /// Keys besides `name`, `timeout` and the kind key itself that this kind accepts.
    fn other_keys(self) -> &'static [&'static str] {
        match self {
            CheckKindKey::Session => &["router", "state"],
            CheckKindKey::Route => &[
                "router",
                "absent",
                "nexthops",
                "local-pref",
                "communities",
                "as-path",
            ],
            CheckKindKey::KernelRoute => &["router", "absent", "nexthops"],
            CheckKindKey::Bfd => &["router", "state"],
            CheckKindKey::Http => &["from", "status"],
            CheckKindKey::Ping => &["from"],
            CheckKindKey::Service => &["ip", "pool", "event"],
        }
    }

    /// The kinds whose key is present in a check.
    pub fn present_in(check: &CheckSpec) -> Vec<CheckKindKey> {
        let keys = written_check_keys(check);
        CheckKindKey::ALL
            .into_iter()
            .filter(|k| keys.contains(&k.key()))
            .collect()
    }
}

/// The keys a check entry sets (booleans count when true).
pub(super) fn written_check_keys(c: &CheckSpec) -> Vec<&'static str> {
    [
        ("name", c.name.is_some()),
        ("timeout", c.timeout.is_some()),
        ("router", c.router.is_some()),
        ("from", c.from.is_some()),
        ("session", c.session.is_some()),
        ("state", c.state.is_some()),
        ("route", c.route.is_some()),
        ("kernel-route", c.kernel_route.is_some()),
        ("absent", c.absent),
        ("nexthops", c.nexthops.is_some()),
        ("local-pref", c.local_pref.is_some()),
        ("communities", c.communities.is_some()),
        ("as-path", c.as_path.is_some()),
        ("bfd", c.bfd.is_some()),
        ("http", c.http.is_some()),
        ("status", c.status.is_some()),
        ("ping", c.ping.is_some()),
        ("service", c.service.is_some()),
        ("ip", c.ip.is_some()),
        ("pool", c.pool.is_some()),
        ("event", c.event.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, set)| set.then_some(key))
    .collect()
}

/// Checks: one kind each, keys of that kind only, and everything they name exists.
pub(super) fn checks(v: &mut Validator) {
    let t = v.topology;
    let mut names: HashMap<&str, String> = HashMap::new();
    for (i, check) in t.checks.iter().enumerate() {
        let path = format!("checks[{i}]");
        if let Some(name) = &check.name {
            match names.get(name.as_str()) {
                Some(first) => v.report(
                    FieldError::new(
                        format!("{path}.name"),
                        format!("check name `{name}` is used twice"),
                    )
                    .also(format!("{first}.name"), "first used here")
                    .help("check names identify results in reports; make them unique"),
                ),
                None => {
                    names.insert(name, path.clone());
                }
            }
        }
        if let Some(timeout) = &check.timeout {
            match humantime::parse_duration(timeout) {
                Ok(d) if d.is_zero() => v.report(
                    FieldError::new(format!("{path}.timeout"), "a timeout of 0 never passes")
                        .help("write e.g. `30s` or `2m`"),
                ),
                Ok(_) => {}
                Err(e) => v.report(
                    FieldError::new(
                        format!("{path}.timeout"),
                        format!("`{timeout}` is not a duration: {e}"),
                    )
                    .help("write e.g. `30s`, `2m` or `1m 30s`"),
                ),
            }
        }
        let kinds = CheckKindKey::present_in(check);
        let kind = match kinds.as_slice() {
            [kind] => *kind,
            [] => {
                let all: Vec<&str> = CheckKindKey::ALL.iter().map(|k| k.key()).collect();
                v.report(
                    FieldError::new(&path, "this check does not say what to check")
                        .help(format!("add exactly one of: {}", all.join(", "))),
                );
                continue;
            }
            [first, rest @ ..] => {
                let others: Vec<String> = rest.iter().map(|k| format!("`{}`", k.key())).collect();
                v.report(
                    FieldError::new(
                        format!("{path}.{}", rest[0].key()),
                        format!(
                            "a check has one kind, but this one has `{}` and {}",
                            first.key(),
                            others.join(", ")
                        ),
                    )
                    .help("split it into one check per kind"),
                );
                continue;
            }
        };
        for key in written_check_keys(check) {
            if key != "name"
                && key != "timeout"
                && key != kind.key()
                && !kind.other_keys().contains(&key)
            {
                v.report(
                    FieldError::new(
                        format!("{path}.{key}"),
                        format!("`{key}` does not apply to a {} check", kind.key()),
                    )
                    .help(format!(
                        "a {} check takes: {}",
                        kind.key(),
                        kind.other_keys().join(", ")
                    )),
                );
            }
        }
        match kind {
            CheckKindKey::Session
            | CheckKindKey::Route
            | CheckKindKey::KernelRoute
            | CheckKindKey::Bfd => router_check(v, &path, kind, check),
            CheckKindKey::Http | CheckKindKey::Ping => traffic_check(v, &path, kind, check),
            CheckKindKey::Service => service_check(v, &path, check),
        }
    }
}

/// Whether `router` has a session towards `target` (declared on either side).
pub(super) fn has_session(t: &Topology, router: &str, target: Target) -> bool {
    let declares = |from: &str, to: &str| {
        t.routers
            .get(from)
            .is_some_and(|r| r.neighbors.iter().any(|n| n.to == to))
    };
    match target {
        Target::Router(peer) => declares(router, peer) || declares(peer, router),
        Target::Nodes => declares(router, NODES),
        Target::Address(ip) => declares(router, &ip.to_string()),
    }
}

/// Whether BFD runs on the session between `router` and `target`, or on any session of
/// `router` when `target` is None.
pub(super) fn has_bfd_session(t: &Topology, router: &str, target: Option<Target>) -> bool {
    let bfd_towards = |from: &str, to: &dyn Fn(&str) -> bool| {
        t.routers.get(from).is_some_and(|r| {
            r.neighbors
                .iter()
                .any(|n| to(&n.to) && bfd_key(&n.bfd).is_some())
        })
    };
    match target {
        None => {
            bfd_towards(router, &|_| true)
                || t.routers
                    .keys()
                    .any(|other| bfd_towards(other, &|to| to == router))
        }
        Some(Target::Router(peer)) => {
            bfd_towards(router, &|to| to == peer) || bfd_towards(peer, &|to| to == router)
        }
        Some(Target::Nodes) => bfd_towards(router, &|to| to == NODES),
        Some(Target::Address(ip)) => bfd_towards(router, &|to| to.parse() == Ok(ip)),
    }
}

/// Session, route, kernel-route and BFD checks read one router's state.
pub(super) fn router_check(v: &mut Validator, path: &str, kind: CheckKindKey, check: &CheckSpec) {
    let t = v.topology;
    let Some(name) = check.router.as_deref() else {
        v.report(
            FieldError::new(path, format!("a {} check needs `router:`", kind.key()))
                .help("name the router whose state is read"),
        );
        return;
    };
    let Some(router) = v.known_router(format!("{path}.router"), name) else {
        return;
    };
    let router_path = format!("{path}.router");
    match kind {
        CheckKindKey::KernelRoute if !router.kind.installs_kernel_routes() => v.report(
            FieldError::new(
                &router_path,
                format!(
                    "`{name}` is {}, which does not install learned routes into the kernel here",
                    router.kind
                ),
            )
            .help("check `route:` (the BGP table) on this router instead"),
        ),
        CheckKindKey::Session | CheckKindKey::Route | CheckKindKey::Bfd
            if !router.kind.speaks_bgp() =>
        {
            v.report(
                FieldError::new(
                    &router_path,
                    format!(
                        "`{name}` is a linux router: it has no BGP {}",
                        if kind == CheckKindKey::Route {
                            "table"
                        } else {
                            "sessions"
                        }
                    ),
                )
                .help(if kind == CheckKindKey::Route {
                    "use `kernel-route:` to check a linux router's routing table"
                } else {
                    "check a BGP router"
                }),
            )
        }
        CheckKindKey::Route if check.communities.is_some() && !router.kind.reads_communities() => {
            v.report(
                FieldError::new(
                    format!("{path}.communities"),
                    format!(
                        "`{name}` is {}, whose BGP table metallab reads has no communities: \
                         this check could never pass",
                        router.kind
                    ),
                )
                .help("check the communities where the route is received by an frr, bird or gobgp router, or drop `communities:`"),
            )
        }
        CheckKindKey::Bfd if !router.kind.has_bfd() => v.report(
            FieldError::new(
                &router_path,
                format!("`{name}` is {}, which has no BFD", router.kind),
            )
            .help("check BFD on an frr or bird router"),
        ),
        CheckKindKey::Bfd if !has_bfd_session(t, name, None) && !v.any_neighbor_unreadable() => v
            .report(
                FieldError::new(&router_path, format!("`{name}` runs no BFD session"))
                    .help("enable `bfd:` on one of its neighbors"),
            ),
        _ => {}
    }

    let (target_key, target) = match kind {
        CheckKindKey::Session => ("session", check.session.as_deref()),
        CheckKindKey::Bfd => ("bfd", check.bfd.as_deref()),
        _ => ("", None),
    };
    if let Some(target) = target {
        let target_path = format!("{path}.{target_key}");
        if check_target(v, &target_path, target) {
            let parsed = Target::parse(target);
            if Target::Router(name) == parsed {
                v.report(
                    FieldError::new(
                        &target_path,
                        format!("`{name}` cannot have a session with itself"),
                    )
                    .help("name its peer"),
                );
            } else if !has_session(t, name, parsed) && !sessions_unreadable(v, name, parsed) {
                v.report(
                    FieldError::new(
                        &target_path,
                        format!("`{name}` has no session with `{target}`"),
                    )
                    .help(format!(
                        "add `{{ to: {target} }}` to `{name}`'s neighbors, or check another peer"
                    )),
                );
            } else if kind == CheckKindKey::Bfd
                && !sessions_unreadable(v, name, parsed)
                && router.kind.has_bfd()
                && has_bfd_session(t, name, None)
                && !has_bfd_session(t, name, Some(parsed))
            {
                v.report(
                    FieldError::new(
                        &target_path,
                        format!("the session between `{name}` and `{target}` does not run BFD"),
                    )
                    .help("add `bfd: true` to that neighbor"),
                );
            }
        }
    }

    if let Some(state) = &check.state {
        let state_path = format!("{path}.state");
        match kind {
            CheckKindKey::Session if SessionState::parse(state).is_none() => v.report(
                FieldError::new(state_path, format!("`{state}` is not a BGP session state")).help(
                    "use established, idle, connect, active, opensent, openconfirm or admin-down",
                ),
            ),
            CheckKindKey::Bfd if BfdState::parse(state).is_none() => v.report(
                FieldError::new(state_path, format!("`{state}` is not a BFD state"))
                    .help("use up, down, init or admin-down"),
            ),
            _ => {}
        }
    }

    if let Some(nexthops) = &check.nexthops {
        let many = matches!(nexthops, OneOrMany::Many(_));
        for (j, item) in nexthops.items().into_iter().enumerate() {
            let item_path = if many {
                format!("{path}.nexthops[{j}]")
            } else {
                format!("{path}.nexthops")
            };
            check_target(v, &item_path, item);
        }
    }
    for (key, prefix) in [("route", check.route), ("kernel-route", check.kernel_route)] {
        if let Some(prefix) = prefix {
            v.network_address(format!("{path}.{key}"), prefix);
        }
    }
}

/// A router name, `nodes` (with a cluster) or an address. Returns whether it is usable.
pub(super) fn check_target(v: &mut Validator, path: &str, text: &str) -> bool {
    match Target::parse(text) {
        Target::Address(_) => true,
        Target::Nodes if v.has_cluster() => true,
        Target::Nodes => {
            v.report(
                FieldError::new(path, "`nodes` needs a cluster")
                    .help("add `cluster:`, or name a router or an address"),
            );
            false
        }
        Target::Router(name) => {
            if v.topology.routers.contains_key(name) {
                return true;
            }
            let help = unknown_name_help("routers", name, v.router_names());
            v.report(
                FieldError::new(
                    path,
                    format!("`{name}` is neither a router, an IP address nor `nodes`"),
                )
                .help(help)
                .independent(),
            );
            false
        }
    }
}

/// HTTP and ping checks send traffic from a router.
pub(super) fn traffic_check(v: &mut Validator, path: &str, kind: CheckKindKey, check: &CheckSpec) {
    match check.from.as_deref() {
        None => v.report(
            FieldError::new(path, format!("a {} check needs `from:`", kind.key()))
                .help("name the router the traffic is sent from"),
        ),
        Some(from) => {
            v.known_router(format!("{path}.from"), from);
        }
    }
    if let Some(url) = &check.http
        && let Err(problem) = parse_http_url(url)
    {
        v.report(
            FieldError::new(
                format!("{path}.http"),
                format!("`{url}` is not a usable URL: {problem}"),
            )
            .help("write http://<address or router>[:port]/path"),
        );
    }
    if let Some(status) = check.status
        && !(100..=599).contains(&status)
    {
        v.report(
            FieldError::new(
                format!("{path}.status"),
                format!("{status} is not an HTTP status"),
            )
            .help("use 100–599, usually 200"),
        );
    }
    if let Some(target) = &check.ping {
        check_target_address(v, &format!("{path}.ping"), target);
    }
}

pub(super) fn check_target_address(v: &mut Validator, path: &str, text: &str) {
    match Target::parse(text) {
        Target::Nodes => v.report(
            FieldError::new(path, "ping one address, not `nodes`")
                .help("name a router or an IP address"),
        ),
        Target::Router(_) | Target::Address(_) => {
            check_target(v, path, text);
        }
    }
}

/// `http://host[:port]/path` split into host, port and path.
pub fn parse_http_url(url: &str) -> Result<(&str, u16, &str), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| format!("`{port}` is not a port"))?,
        ),
        None => (authority, 80),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !host_ok {
        return Err(format!("`{host}` is not a host"));
    }
    if port == 0 {
        return Err("port 0 is not usable".to_string());
    }
    Ok((host, port, path))
}

/// Service checks: `namespace/name`, in a cluster, pools that exist.
pub(super) fn service_check(v: &mut Validator, path: &str, check: &CheckSpec) {
    if !v.has_cluster() {
        v.report(
            FieldError::new(format!("{path}.service"), "a service check needs a cluster")
                .help("add `cluster:`, or remove this check"),
        );
    }
    if let Some(service) = &check.service {
        let valid = service
            .split_once('/')
            .is_some_and(|(ns, name)| is_dns_label(ns) && is_dns_label(name));
        if !valid {
            v.report(
                FieldError::new(
                    format!("{path}.service"),
                    format!("`{service}` is not `namespace/name`"),
                )
                .help("write e.g. `default/test-agnhost`"),
            );
        }
    }
    if let Some(pool) = &check.pool {
        let pools = v.topology.metallb.as_ref().map(|m| &m.pools);
        if !pools.is_some_and(|p| p.contains_key(pool)) {
            let help = unknown_name_help(
                "pools",
                pool,
                pools.into_iter().flat_map(|p| p.keys().map(String::as_str)),
            );
            v.report(
                FieldError::new(format!("{path}.pool"), format!("unknown pool `{pool}`"))
                    .help(help)
                    .independent(),
            );
        }
    }
}

/// Whether a session between the router and the target could be declared by a neighbor
/// that could not be read (on either side).
fn sessions_unreadable(v: &Validator, router: &str, target: Target<'_>) -> bool {
    v.neighbors_unreadable(router)
        || matches!(target, Target::Router(other) if v.neighbors_unreadable(other))
}
