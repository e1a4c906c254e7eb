//! Validation rules, each shown failing; the rendered diagnostics of typical bad files.

use crate::topology::load::{parse, parse_and_validate};

/// The rendered diagnostics of a file, as a user sees them (without colours).
fn report(text: &str) -> String {
    match parse_and_validate("lab.yaml", text) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors.render_plain(),
    }
}

/// (field path, message) of every validation error, in file order.
fn errors(text: &str) -> Vec<(String, String)> {
    let topology = parse("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    super::validate(&topology)
        .into_iter()
        .map(|e| (e.path, e.message))
        .collect()
}

fn paths(text: &str) -> Vec<String> {
    errors(text).into_iter().map(|(path, _)| path).collect()
}

const MANY_ERRORS: &str = "\
name: Bad_Lab
networks:
  lan: { subnet: 10.210.1.0/24 }
  wan: { subnet: 10.210.0.0/16 }
  tiny: { subnet: 10.211.0.1/30 }
routers:
  frr1:
    kind: frr
    interfaces: { lan: { ip: 10.210.2.5 } }
    routes: [{ to: 10.212.0.0/24, via: 10.99.0.1 }]
    neighbors:
      - { to: bird9 }
      - { to: host, bfd: fast }
  gobgp1:
    kind: gobgp
    asn: 64503
    interfaces: { lan: { ip: 10.210.1.1 } }
    neighbors: [{ to: frr1, bfd: true, hold-time: 2 }]
  host:
    kind: linux
    asn: 64999
    interfaces: {}
checks:
  - { router: frr1, session: bird9, state: up }
  - { router: gobgp1, kernel-route: 192.0.2.0/24 }
  - { router: frr1, route: 192.0.2.0/24, status: 200 }
  - { from: host, http: \"ftp://x/\", timeout: soon }
";

#[test]
fn a_file_with_many_errors_reports_all_of_them_with_line_and_column() {
    let rendered = report(MANY_ERRORS);
    insta::assert_snapshot!(rendered);
    let count = errors(MANY_ERRORS).len();
    assert!(count >= 15, "{count} errors");
    assert_eq!(rendered.matches("╭─[lab.yaml:").count(), count);
}

#[test]
fn a_typo_in_a_key() {
    insta::assert_snapshot!(report(
        "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\nrouters:\n  frr1:\n    kind: frr\n    asn: 64500\n    interface: { lan: {} }\n"
    ));
}

#[test]
fn a_wrong_type() {
    insta::assert_snapshot!(report(
        "name: lab\nnetworks: { lan: {} }\nrouters:\n  frr1:\n    kind: frr\n    asn: sixty-four\n    interfaces: { lan: {} }\n"
    ));
}

#[test]
fn a_duplicate_key() {
    insta::assert_snapshot!(report(
        "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\n  lan: { subnet: 10.210.2.0/24 }\n"
    ));
}

#[test]
fn overlapping_subnets() {
    insta::assert_snapshot!(report(
        "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\n  big: { subnet: 10.210.0.0/16 }\n"
    ));
}

#[test]
fn an_ip_outside_its_network() {
    insta::assert_snapshot!(report(
        "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\nrouters:\n  h1:\n    kind: linux\n    interfaces:\n      lan: { ip: 10.210.2.7 }\n"
    ));
}

#[test]
fn unknown_routers_in_neighbors_and_checks() {
    insta::assert_snapshot!(report(
        "name: lab\nnetworks:\n  lan: {}\nrouters:\n  frr1:\n    kind: frr\n    asn: 64500\n    interfaces: { lan: {} }\n    neighbors: [{ to: brid1 }]\nchecks:\n  - { router: frr2, session: frr1 }\n"
    ));
}

#[test]
fn an_unreachable_static_route_gateway() {
    insta::assert_snapshot!(report(
        "name: lab\nnetworks:\n  left: { subnet: 10.210.1.0/24 }\n  right: { subnet: 10.210.2.0/24 }\nrouters:\n  h1:\n    kind: linux\n    interfaces: { left: {} }\n    routes:\n      - { to: 10.210.2.0/24, via: 10.210.2.1 }\n"
    ));
}

const BASE: &str = "\
name: lab
networks:
  lan: { subnet: 10.210.1.0/24 }
  far: { subnet: 10.210.2.0/24 }
routers:
  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} } }
  bird1: { kind: bird, asn: 64502, interfaces: { lan: {} } }
  gobgp1: { kind: gobgp, asn: 64503, interfaces: { lan: {} } }
  remote: { kind: frr, asn: 64504, interfaces: { far: {} } }
  host: { kind: linux, interfaces: { lan: {} } }
";

/// BASE plus extra YAML under `routers.<router>` keys merged by text: the extra text
/// is appended at top level, so it can add `cluster:`, `metallb:`, `checks:`.
fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

fn with_router_neighbors(router_line: &str, extra: &str) -> String {
    let base: String = BASE
        .lines()
        .filter(|l| !l.starts_with(&router_line[..router_line.find(':').unwrap() + 1]))
        .map(|l| format!("{l}\n"))
        .collect();
    let base = base.replace("routers:\n", &format!("routers:\n{router_line}\n"));
    format!("{base}{extra}")
}

#[test]
fn the_base_lab_is_valid() {
    assert_eq!(errors(BASE), vec![]);
}

#[test]
fn names_must_be_dns_safe_and_fit_container_names() {
    let text = "name: lab\nnetworks:\n  LAN: {}\nrouters:\n  nodes: { kind: linux, interfaces: { LAN: {} } }\n";
    assert_eq!(paths(text), ["networks.LAN", "routers.nodes"]);
    let long = "a".repeat(50);
    let text = format!(
        "name: {long}\nnetworks:\n  lan: {{}}\nrouters:\n  router-name: {{ kind: linux, interfaces: {{ lan: {{}} }} }}\n"
    );
    let errors = errors(&text);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].1.contains("is 71 characters"), "{errors:?}");
}

#[test]
fn subnets_must_be_network_addresses_of_usable_size() {
    let text = "name: lab\nnetworks:\n  a: { subnet: 10.210.1.5/24 }\n  b: { subnet: 10.210.2.0/30 }\n  c: { subnet: 10.210.3.0/24, gateway: 10.210.4.1 }\n  d: { gateway: 10.210.5.1 }\n  e: { subnet: 10.210.6.0/24, gateway: 10.210.6.255 }\n";
    assert_eq!(
        paths(text),
        [
            "networks.a.subnet",
            "networks.b.subnet",
            "networks.c.gateway",
            "networks.d.gateway",
            "networks.e.gateway"
        ]
    );
}

#[test]
fn interface_addresses_must_be_hosts_of_their_network_and_unique() {
    let text = "name: lab\nnetworks:\n  lan: { subnet: 10.210.1.0/24 }\n  auto: {}\nrouters:\n  a: { kind: linux, interfaces: { lan: { ip: 10.210.1.0 } } }\n  b: { kind: linux, interfaces: { lan: { ip: 10.210.1.1 } } }\n  c: { kind: linux, interfaces: { lan: { ip: 10.210.1.9 } } }\n  d: { kind: linux, interfaces: { lan: { ip: 10.210.1.9 } } }\n  e: { kind: linux, interfaces: { auto: { ip: 10.201.0.5 } } }\n  f: { kind: linux, interfaces: { nowhere: {} } }\n";
    let errors = errors(text);
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|(p, m)| (p.as_str(), m.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "routers.a.interfaces.lan.ip",
                "10.210.1.0 is the network address of `lan`"
            ),
            (
                "routers.b.interfaces.lan.ip",
                "10.210.1.1 is the gateway of `lan` (the host's bridge owns it)"
            ),
            (
                "routers.d.interfaces.lan.ip",
                "10.210.1.9 is already used by another interface"
            ),
            (
                "routers.e.interfaces.auto.ip",
                "network `auto` has no subnet, so a fixed address cannot be placed in it"
            ),
            ("routers.f.interfaces.nowhere", "unknown network `nowhere`"),
        ]
    );
}

#[test]
fn a_full_network_is_reported() {
    let routers: String = (0..6)
        .map(|i| format!("  h{i}: {{ kind: linux, interfaces: {{ lan: {{}} }} }}\n"))
        .collect();
    let text =
        format!("name: lab\nnetworks:\n  lan: {{ subnet: 10.210.1.0/29 }}\nrouters:\n{routers}");
    assert_eq!(
        errors(&text),
        [(
            "networks.lan".to_string(),
            "6 routers are connected to `lan` but it has room for 5".to_string()
        )]
    );
}

#[test]
fn kinds_constrain_asn_and_bgp_settings() {
    let text = "name: lab\nnetworks:\n  lan: {}\nrouters:\n  frr1: { kind: frr, interfaces: { lan: {} } }\n  bird1: { kind: bird, asn: 0, interfaces: { lan: {} } }\n  host: { kind: linux, asn: 1, router-id: 1.1.1.1, announce: [192.0.2.0/24], neighbors: [{ to: frr1 }], interfaces: { lan: {} } }\n";
    assert_eq!(
        paths(text),
        [
            "routers.frr1.asn",
            "routers.bird1.asn",
            "routers.host.asn",
            "routers.host.router-id",
            "routers.host.neighbors",
            "routers.host.announce"
        ]
    );
}

#[test]
fn router_ids_and_announced_prefixes_are_checked() {
    let text = with_router_neighbors(
        "  frr1: { kind: frr, asn: 64501, router-id: 0.0.0.0, announce: [192.0.2.1/24], interfaces: { lan: {} } }",
        "",
    );
    assert_eq!(
        paths(&text),
        ["routers.frr1.router-id", "routers.frr1.announce[0]"]
    );
}

#[test]
fn neighbors_must_name_bgp_routers_other_than_themselves() {
    let text = with_router_neighbors(
        "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: frr1 }, { to: host }, { to: bird1 }, { to: bird1 }, { to: bird1x }] }",
        "",
    );
    assert_eq!(
        paths(&text),
        [
            "routers.frr1.neighbors[0].to",
            "routers.frr1.neighbors[1].to",
            "routers.frr1.neighbors[3].to",
            "routers.frr1.neighbors[4].to"
        ]
    );
}

#[test]
fn sessions_need_a_shared_network_or_multihop() {
    let text = with_router_neighbors(
        "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: remote }] }",
        "",
    );
    assert_eq!(
        errors(&text),
        [(
            "routers.frr1.neighbors[0].to".to_string(),
            "`frr1` and `remote` share no network".to_string()
        )]
    );
    let text = with_router_neighbors(
        "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: remote, multihop: 2 }] }",
        "",
    );
    assert_eq!(errors(&text), vec![]);
}

#[test]
fn nodes_and_address_neighbors_need_what_they_cannot_infer() {
    let text = with_router_neighbors(
        "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: nodes }, { to: 10.210.1.77 }] }",
        "",
    );
    assert_eq!(
        paths(&text),
        [
            "routers.frr1.neighbors[0].to",
            "routers.frr1.neighbors[0].asn",
            "routers.frr1.neighbors[1].asn"
        ]
    );
}

#[test]
fn bfd_needs_daemons_that_have_it_and_known_profiles() {
    let text = with_router_neighbors(
        "  gobgp1: { kind: gobgp, asn: 64503, interfaces: { lan: {} }, neighbors: [{ to: bird1, bfd: true }] }",
        "",
    );
    let errors = errors(&text);
    assert_eq!(
        errors[0],
        (
            "routers.gobgp1.neighbors[0].bfd".to_string(),
            "gobgp has no BFD implementation".to_string()
        )
    );
    let text = with_router_neighbors(
        "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: gobgp1, bfd: true }, { to: bird1, bfd: slow }] }",
        "",
    );
    assert_eq!(
        paths(&text),
        [
            "routers.frr1.neighbors[0].bfd",
            "routers.frr1.neighbors[1].bfd"
        ]
    );
}

#[test]
fn communities_are_not_checked_on_quagga() {
    let text = with_router_neighbors(
        "  quagga1: { kind: quagga, asn: 64505, interfaces: { lan: {} }, neighbors: [{ to: frr1 }] }",
        "checks:\n  - { router: quagga1, route: 192.0.2.0/24, communities: [\"64500:100\"] }\n  - { router: quagga1, route: 192.0.2.0/24 }\n",
    );
    let errors = errors(&text);
    let on_quagga: Vec<_> = errors
        .iter()
        .filter(|(path, _)| path.starts_with("checks[") && path.ends_with(".communities"))
        .collect();
    assert_eq!(on_quagga.len(), 1, "{errors:?}");
    assert!(on_quagga[0].1.contains("quagga1"), "{errors:?}");
}

#[test]
fn bfd_profiles_stay_in_metallb_ranges() {
    let text = with(
        "cluster: { provider: kind }\nmetallb:\n  asn: 64500\n  bfd-profiles:\n    fast: { receive-interval: 5, transmit-interval: 60001, detect-multiplier: 1, echo-interval: 10, minimum-ttl: 255 }\n",
    );
    assert_eq!(
        paths(&text),
        [
            "metallb.bfd-profiles.fast.receive-interval",
            "metallb.bfd-profiles.fast.transmit-interval",
            "metallb.bfd-profiles.fast.detect-multiplier",
            "metallb.bfd-profiles.fast.minimum-ttl"
        ]
    );
}

#[test]
fn a_session_declared_on_both_sides_must_agree() {
    let text = "name: lab\nnetworks:\n  lan: {}\nrouters:\n  a: { kind: frr, asn: 1, interfaces: { lan: {} }, neighbors: [{ to: b, password: x, passive: true, hold-time: 9, multihop: true }] }\n  b: { kind: bird, asn: 2, interfaces: { lan: {} }, neighbors: [{ to: a, password: y, passive: true, hold-time: 10, multihop: 3, bfd: true }] }\n";
    assert_eq!(
        paths(text),
        [
            "routers.b.neighbors[0].multihop",
            "routers.b.neighbors[0].password",
            "routers.b.neighbors[0].hold-time",
            "routers.b.neighbors[0].passive"
        ]
    );
}

#[test]
fn neighbor_values_are_range_checked() {
    let text = with_router_neighbors(
        "  frr1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: bird1, hold-time: 2, multihop: 0, asn: 64599, source: 10.9.9.9 }] }",
        "",
    );
    assert_eq!(
        paths(&text),
        [
            "routers.frr1.neighbors[0].multihop",
            "routers.frr1.neighbors[0].hold-time",
            "routers.frr1.neighbors[0].source",
            "routers.frr1.neighbors[0].asn"
        ]
    );
}

#[test]
fn checks_have_exactly_one_kind_and_only_its_keys() {
    let text = with(
        "checks:\n  - { router: frr1 }\n  - { router: frr1, session: bird1, route: 192.0.2.0/24 }\n  - { router: frr1, session: bird1, absent: true, from: host }\n",
    );
    // checks[2] also names a session frr1 does not have.
    assert_eq!(
        paths(&text),
        [
            "checks[0]",
            "checks[1].route",
            "checks[2].from",
            "checks[2].absent",
            "checks[2].session"
        ]
    );
}

#[test]
fn checks_match_what_the_routers_can_report() {
    let text = with(
        "checks:\n  - { router: gobgp1, kernel-route: 192.0.2.0/24 }\n  - { router: bird1, bfd: frr1 }\n  - { router: host, route: 192.0.2.0/24 }\n  - { router: frr1, session: remote }\n  - { router: frr1, session: bird1, state: up }\n",
    );
    let text = text.replace(
        "bird1: { kind: bird, asn: 64502, interfaces: { lan: {} } }",
        "bird1: { kind: bird, asn: 64502, interfaces: { lan: {} }, neighbors: [{ to: frr1 }] }",
    );
    assert_eq!(
        paths(&text),
        [
            "checks[0].router",
            "checks[1].router",
            "checks[2].router",
            "checks[3].session",
            "checks[4].state"
        ]
    );
}

#[test]
fn check_values_parse() {
    let text = with(
        "checks:\n  - { router: frr1, route: 192.0.2.0/24, nexthops: [bird1, nodes, frr9], timeout: 5 parsecs }\n  - { from: host, http: \"http://server:99999/\" }\n  - { from: hostx, ping: 10.210.1.2 }\n  - { service: default }\n",
    );
    assert_eq!(
        paths(&text),
        [
            "checks[0].timeout",
            "checks[0].nexthops[1]",
            "checks[0].nexthops[2]",
            "checks[1].http",
            "checks[2].from",
            "checks[3].service",
            "checks[3].service"
        ]
    );
}

#[test]
fn cluster_fields_belong_to_their_provider() {
    let text = with(
        "cluster: { provider: kind, kubeconfig: ~/.kube/config, network: nowhere, control-planes: 0 }\n",
    );
    assert_eq!(
        paths(&text),
        [
            "cluster.kubeconfig",
            "cluster.control-planes",
            "cluster.network"
        ]
    );
    let text = with("cluster: { provider: existing, kubeconfig: k, context: c, workers: 2 }\n");
    assert_eq!(paths(&text), ["cluster.workers"]);
}

#[test]
fn the_node_network_is_reachable_roomy_and_keeps_routers_out_of_the_node_range() {
    let text = "\
name: lab
cluster: { provider: kind, network: kind }
networks:
  kind: { subnet: 10.210.1.0/24, internal: true }
routers:
  frr1: { kind: frr, asn: 64500, interfaces: { kind: { ip: 10.210.1.200 } } }
  frr2: { kind: frr, asn: 64501, interfaces: { kind: { ip: 10.210.1.127 } } }
";
    assert_eq!(
        errors(text),
        [
            (
                "networks.kind.internal".to_string(),
                "the cluster's nodes sit on `kind`, which cannot be internal".to_string()
            ),
            (
                "routers.frr1.interfaces.kind.ip".to_string(),
                "10.210.1.200 is in 10.210.1.128/25, where the cluster's nodes get their addresses"
                    .to_string()
            ),
        ]
    );
    let tiny = "name: lab\ncluster: { provider: minikube, network: m }\nnetworks: { m: { subnet: 10.210.1.0/29 } }\n";
    assert_eq!(paths(tiny), ["networks.m.subnet"]);
}

#[test]
fn routers_keep_off_the_addresses_multi_node_minikube_gives_its_nodes() {
    let text = "\
name: lab
cluster: { provider: minikube, workers: 1, network: mk }
networks:
  mk: { subnet: 10.210.1.0/24, gateway: 10.210.1.10 }
routers:
  frr1: { kind: frr, asn: 64500, interfaces: { mk: { ip: 10.210.1.12 } } }
  frr2: { kind: frr, asn: 64501, interfaces: { mk: { ip: 10.210.1.13 } } }
";
    assert_eq!(
        errors(text),
        [(
            "routers.frr1.interfaces.mk.ip".to_string(),
            "10.210.1.12 is where minikube puts node 2 of the cluster (it gives a multi-node cluster the addresses after the gateway, minikube#18567)"
                .to_string()
        )]
    );
    // One node: minikube takes `--static-ip` from the node range instead.
    assert_eq!(errors(&text.replace("workers: 1, ", "")), []);
}

#[test]
fn node_routes_need_a_cluster_and_a_reachable_gateway() {
    assert_eq!(
        paths(&with(
            "nodes: { routes: [{ to: 10.0.0.0/8, via: 10.210.1.2 }] }\n"
        )),
        ["nodes"]
    );
    let text = with(
        "cluster: { network: lan }\nnodes: { routes: [{ to: 10.210.2.0/24, via: 10.210.2.2 }] }\n",
    );
    assert_eq!(paths(&text), ["nodes.routes[0].via"]);
}

#[test]
fn http_urls_parse() {
    use super::parse_http_url;
    assert_eq!(
        parse_http_url("http://10.0.0.1/").unwrap(),
        ("10.0.0.1", 80, "/")
    );
    assert_eq!(
        parse_http_url("http://server:8080").unwrap(),
        ("server", 8080, "/")
    );
    assert!(parse_http_url("https://x/").is_err());
    assert!(parse_http_url("http://:80/").is_err());
}
