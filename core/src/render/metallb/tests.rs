//! MetalLB configuration rendered from whole topologies: CRDs for a rich lab, and the
//! legacy ConfigMap for the releases of MetalLB's old tutorials.

use super::*;
use crate::topology::load::parse_and_validate;
use std::path::Path;

fn plan(text: &str) -> Plan {
    let topology =
        parse_and_validate("lab.yaml", text).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    crate::plan::build(&topology, "/labs/lab.yaml", Path::new("/labs"))
}

/// Two peers (a multihop eBGP router with BFD and a password behind a next-hop router,
/// and an iBGP BIRD router on the nodes' network), two BGP pools and a layer2 one, two
/// advertisements with communities/localpref/aggregation, a BFD profile and a
/// community alias.
pub const RICH: &str = "\
name: rich
cluster: { provider: kind, workers: 2, network: kind }
networks:
  kind: { subnet: 10.210.1.0/24 }
  upstream: { subnet: 10.210.2.0/24 }
routers:
  next-hop:
    kind: linux
    forward: true
    interfaces: { kind: { ip: 10.210.1.2 }, upstream: { ip: 10.210.2.2 } }
  frr1:
    kind: frr
    asn: 64512
    interfaces: { upstream: { ip: 10.210.2.3 } }
    routes: [{ to: 10.210.1.0/24, via: 10.210.2.2 }]
    neighbors: [{ to: nodes, multihop: 2, bfd: fast, password: s3cret }]
  bird1:
    kind: bird
    asn: 64500
    interfaces: { kind: { ip: 10.210.1.10 } }
    neighbors: [{ to: nodes, hold-time: 30 }]
nodes:
  routes: [{ to: 10.210.2.0/24, via: 10.210.1.2 }]
metallb:
  version: v0.14.8
  mode: frr
  asn: 64500
  peers:
    - { router: frr1, multihop: true, bfd: fast, password: s3cret }
    - { router: bird1, hold-time: 30s, node-selector: { kubernetes.io/os: linux } }
  pools:
    doc-example: { addresses: [203.0.113.200/30], avoid-buggy-ips: true }
    big: { addresses: [198.51.100.0/24], auto-assign: false }
    local: { addresses: [10.210.1.240-10.210.1.250], protocol: layer2 }
  advertisements:
    - { pools: [doc-example], localpref: 100, communities: [64500:100], peers: [bird1] }
    - { pools: [big], aggregation-length: 24, communities: [lab-tag, large:64500:1:2], peers: [frr1] }
  bfd-profiles:
    fast: { receive-interval: 300, transmit-interval: 300, detect-multiplier: 3, echo-mode: false }
    routers-only: { receive-interval: 1000 }
  communities:
    lab-tag: 64500:200
";

#[test]
fn crds_for_a_rich_lab() {
    let objects = render(&plan(RICH)).unwrap();
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "BFDProfile",
            "Community",
            "IPAddressPool",
            "IPAddressPool",
            "IPAddressPool",
            "BGPPeer",
            "BGPPeer",
            "BGPAdvertisement",
            "BGPAdvertisement",
            "L2Advertisement"
        ],
        "dependencies first: profiles and aliases before the objects naming them"
    );
    insta::assert_snapshot!(to_yaml(&objects));
}

#[test]
fn peers_resolve_to_the_router_address_on_the_nodes_network_or_its_first() {
    let peers = resolve_peers(&plan(RICH)).unwrap();
    let got: Vec<(&str, String, u32, bool)> = peers
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.address.to_string(),
                p.peer_asn,
                p.is_ibgp(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("frr1", "10.210.2.3".to_string(), 64512, false),
            ("bird1", "10.210.1.10".to_string(), 64500, true),
        ]
    );
    // frr1 sets no hold time: it gets the routers' 9 s; bird1 keeps its own.
    assert_eq!(peers[0].hold_time, Some(Duration::from_secs(9)));
    assert_eq!(peers[1].hold_time, Some(Duration::from_secs(30)));
}

#[test]
fn an_address_override_wins_and_a_router_peered_twice_gets_distinct_names() {
    let text = RICH.replace(
        "    - { router: bird1, hold-time: 30s, node-selector: { kubernetes.io/os: linux } }\n",
        "    - { router: bird1 }\n    - { router: bird1, address: 10.210.1.11, keepalive-time: 5s }\n",
    );
    let text = text.replace(
        "interfaces: { kind: { ip: 10.210.1.10 } }",
        "interfaces: { kind: { ip: 10.210.1.10 }, upstream: {} }",
    );
    let peers = resolve_peers(&plan(&text)).unwrap();
    let names: Vec<(&str, String)> = peers
        .iter()
        .map(|p| (p.name.as_str(), p.address.to_string()))
        .collect();
    assert_eq!(
        names,
        [
            ("frr1", "10.210.2.3".to_string()),
            ("bird1", "10.210.1.10".to_string()),
            ("bird1-2", "10.210.1.11".to_string())
        ]
    );
    // Only a keepalive: MetalLB derives the hold time (3×), so none is forced.
    assert_eq!(peers[2].hold_time, None);
    assert_eq!(peers[2].keepalive_time, Some(Duration::from_secs(5)));
    // The advertisement limited to bird1 names both of its BGPPeers.
    let objects = render(&plan(&text)).unwrap();
    let advertisement = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "advertisement-1")
        .unwrap();
    assert_eq!(advertisement["spec"]["peers"], json!(["bird1", "bird1-2"]));
}

#[test]
fn bgp_pools_no_advertisement_names_get_a_default_one() {
    let text = "\
name: lab
cluster: { network: kind }
networks:
  kind: { subnet: 10.210.1.0/24 }
routers:
  frr1: { kind: frr, asn: 64512, interfaces: { kind: {} }, neighbors: [{ to: nodes }] }
metallb:
  asn: 64500
  peers: [{ router: frr1 }]
  pools:
    a: { addresses: [203.0.113.0/28] }
    b: { addresses: [203.0.113.16/28] }
    c: { addresses: [203.0.113.32/28] }
  advertisements: [{ pools: [b], communities: [64500:1] }]
";
    let objects = render(&plan(text)).unwrap();
    let advertisements: Vec<(String, Value)> = objects
        .iter()
        .filter(|o| o["kind"] == "BGPAdvertisement")
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap().to_string(),
                o["spec"]["ipAddressPools"].clone(),
            )
        })
        .collect();
    assert_eq!(
        advertisements,
        [
            ("advertisement-1".to_string(), json!(["b"])),
            ("default".to_string(), json!(["a", "c"]))
        ]
    );
    // Without peers the BGPPeer list is empty but the pools still render; the defaults
    // are the latest release in FRR mode.
    assert!(
        objects
            .iter()
            .all(|o| o["metadata"]["namespace"] == NAMESPACE)
    );
    assert!(
        objects
            .iter()
            .all(|o| o["metadata"]["labels"][labels::LAB] == "lab")
    );
}

#[test]
fn an_advertisement_without_pools_covers_the_bgp_pools_only() {
    let text = RICH.replace(
        "    - { pools: [big], aggregation-length: 24, communities: [lab-tag, large:64500:1:2], peers: [frr1] }\n",
        "",
    );
    let text = text.replace(
        "- { pools: [doc-example], localpref: 100,",
        "- { localpref: 100,",
    );
    let objects = render(&plan(&text)).unwrap();
    let advertisement = objects
        .iter()
        .find(|o| o["kind"] == "BGPAdvertisement")
        .unwrap();
    assert_eq!(
        advertisement["spec"]["ipAddressPools"],
        json!(["doc-example", "big"])
    );
    assert_eq!(
        objects
            .iter()
            .filter(|o| o["kind"] == "BGPAdvertisement")
            .count(),
        1,
        "every BGP pool is covered, so no default advertisement"
    );
    // The layer2 pool stays with the L2Advertisement only.
    let layer2 = objects
        .iter()
        .find(|o| o["kind"] == "L2Advertisement")
        .unwrap();
    assert_eq!(layer2["spec"]["ipAddressPools"], json!(["local"]));
    // The ConfigMap: the advertisement sits in both BGP pools, not in the layer2 one.
    let legacy = text
        .replace("version: v0.14.8", "version: v0.12.1")
        .replace(", peers: [bird1]", "");
    let objects = render(&plan(&legacy)).unwrap();
    let config: Value =
        serde_saphyr::from_str(objects[0]["data"]["config"].as_str().unwrap()).unwrap();
    let advertisements: Vec<(&str, &Value)> = config["address-pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), &p["bgp-advertisements"]))
        .collect();
    assert_eq!(
        advertisements,
        [
            (
                "doc-example",
                &json!([{ "localpref": 100, "communities": ["64500:100"] }])
            ),
            (
                "big",
                &json!([{ "localpref": 100, "communities": ["64500:100"] }])
            ),
            ("local", &Value::Null),
        ]
    );
}

/// An advertisement without `pools:` and no BGP pool to cover: validation refuses it,
/// and the renderer never writes it with an empty `ipAddressPools`, which MetalLB's CRDs
/// read as every pool, layer2 ones included.
#[test]
fn an_advertisement_covering_no_pool_is_not_rendered() {
    let text = "\
name: lab
cluster: { network: kind }
networks:
  kind: { subnet: 10.210.1.0/24 }
routers:
  frr1: { kind: frr, asn: 64512, interfaces: { kind: {} }, neighbors: [{ to: nodes }] }
metallb:
  asn: 64500
  peers: [{ router: frr1 }]
  pools:
    local: { addresses: [10.210.1.240/29], protocol: layer2 }
  advertisements: [{ communities: [64500:1] }]
";
    assert!(parse_and_validate("lab.yaml", text).is_err());
    let topology = crate::topology::load::parse("lab.yaml", text).unwrap();
    let plan = crate::plan::build(&topology, "/labs/lab.yaml", Path::new("/labs"));
    let objects = render(&plan).unwrap();
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["IPAddressPool", "BGPPeer", "L2Advertisement"]);
}

#[test]
fn sub_second_timers_are_passed_on_as_written() {
    let text = RICH.replace(
        "router: bird1, hold-time: 30s,",
        "router: bird1, hold-time: 500ms,",
    );
    let objects = render(&plan(&text)).unwrap();
    let bird1 = objects
        .iter()
        .find(|o| o["kind"] == "BGPPeer" && o["metadata"]["name"] == "bird1")
        .unwrap();
    assert_eq!(bird1["spec"]["holdTime"], "500ms");
}

#[test]
fn native_mode_leaves_bfd_out() {
    let text = RICH
        .replace("mode: frr", "mode: native")
        .replace(
            "router: frr1, multihop: true, bfd: fast,",
            "router: frr1, multihop: true,",
        )
        .replace(", large:64500:1:2", "")
        .replace("multihop: 2, bfd: fast, password", "multihop: 2, password");
    let objects = render(&plan(&text)).unwrap();
    assert!(objects.iter().all(|o| o["kind"] != "BFDProfile"));
    assert!(
        objects
            .iter()
            .all(|o| o["spec"].get("bfdProfile").is_none())
    );
}

/// MetalLB v0.12.1 in FRR mode, configured by ConfigMap: BFD profiles, ebgp-multihop
/// and keepalive-time exist; BGP pools carry their advertisements.
#[test]
fn legacy_config_map_for_v0_12_1() {
    let text = "\
name: tutorial
cluster: { provider: minikube, network: minikube }
networks:
  minikube: { subnet: 10.210.5.0/24 }
  far: { subnet: 10.210.6.0/24 }
routers:
  gw: { kind: linux, forward: true, interfaces: { minikube: { ip: 10.210.5.2 }, far: { ip: 10.210.6.2 } } }
  bird1:
    kind: bird
    asn: 64512
    interfaces: { minikube: { ip: 10.210.5.100 } }
    neighbors: [{ to: nodes, bfd: fast }]
  frr1:
    kind: frr
    asn: 64513
    interfaces: { far: { ip: 10.210.6.3 } }
    routes: [{ to: 10.210.5.0/24, via: 10.210.6.2 }]
    neighbors: [{ to: nodes, multihop: 2 }]
nodes:
  routes: [{ to: 10.210.6.0/24, via: 10.210.5.2 }]
metallb:
  version: v0.12.1
  mode: frr
  asn: 64512
  peers:
    - { router: bird1, bfd: fast }
    - { router: frr1, multihop: true, keepalive-time: 3s, hold-time: 9s }
  pools:
    default: { addresses: [198.51.100.0/24] }
    lan: { addresses: [10.210.5.240-10.210.5.250], protocol: layer2 }
  advertisements:
    - { pools: [default], aggregation-length: 32, localpref: 200, communities: [tutorial] }
  bfd-profiles:
    fast: { receive-interval: 300, transmit-interval: 300, detect-multiplier: 3, echo-interval: 50, echo-mode: true, minimum-ttl: 254 }
  communities:
    tutorial: 64512:100
";
    let objects = render(&plan(text)).unwrap();
    assert_eq!(objects.len(), 1);
    insta::assert_snapshot!(to_yaml(&objects));
}

/// MetalLB v0.9.6 (Minikube's addon release) peering with a BIRD router as the old
/// Minikube tutorial did: iBGP AS 64512, pool 198.51.100.0/24.
#[test]
fn legacy_config_map_for_v0_9_6() {
    let text = "\
name: minikube-tutorial
cluster: { provider: minikube, network: minikube }
networks:
  minikube: { subnet: 10.210.7.0/24 }
routers:
  bird1:
    kind: bird
    asn: 64512
    interfaces: { minikube: { ip: 10.210.7.100 } }
    neighbors: [{ to: nodes, passive: true }]
metallb:
  version: v0.9.6
  asn: 64512
  peers: [{ router: bird1 }]
  pools:
    my-ip-space: { addresses: [198.51.100.0/24], avoid-buggy-ips: true }
  advertisements: [{ localpref: 100, communities: [64512:1] }]
";
    let plan = plan(text);
    let objects = render(&plan).unwrap();
    insta::assert_snapshot!(to_yaml(&objects));
    let setup = plan.metallb.as_ref().unwrap().setup().unwrap();
    assert_eq!(setup.mode, crate::topology::model::MetallbMode::Native);
    assert!(setup.version.needs_memberlist_secret());
}

#[test]
fn the_legacy_text_is_yaml_metallb_can_read() {
    // The ConfigMap's `config` value parses back with the keys MetalLB expects.
    let objects = render(&plan(
        "name: l\ncluster: { network: n }\nnetworks: { n: { subnet: 10.210.8.0/24 } }\nrouters:\n  b: { kind: bird, asn: 64512, interfaces: { n: {} }, neighbors: [{ to: nodes }] }\nmetallb:\n  version: v0.10.3\n  asn: 64512\n  peers: [{ router: b, port: 1179 }]\n  pools: { p: { addresses: [198.51.100.0/24] } }\n",
    ))
    .unwrap();
    let text = objects[0]["data"]["config"].as_str().unwrap();
    let parsed: serde_json::Value = serde_saphyr::from_str(text).unwrap();
    assert_eq!(
        parsed,
        json!({
            "peers": [{ "peer-address": "10.210.8.2", "peer-asn": 64512, "my-asn": 64512, "peer-port": 1179, "hold-time": "9s" }],
            "address-pools": [{ "name": "p", "protocol": "bgp", "addresses": ["198.51.100.0/24"] }]
        })
    );
}

#[test]
fn no_metallb_section_renders_nothing() {
    let text =
        "name: l\nnetworks: { n: {} }\nrouters:\n  h: { kind: linux, interfaces: { n: {} } }\n";
    assert!(render(&plan(text)).unwrap().is_empty());
}

#[test]
fn durations_and_names() {
    assert_eq!(parse_bgp_duration("9s").unwrap(), Duration::from_secs(9));
    assert_eq!(
        parse_bgp_duration("1m30s").unwrap(),
        Duration::from_secs(90)
    );
    assert_eq!(parse_bgp_duration("90").unwrap(), Duration::from_secs(90));
    assert!(parse_bgp_duration("soon").is_err());
    assert_eq!(go_duration(Duration::from_secs(90)), "90s");
    assert_eq!(go_duration(Duration::from_millis(1500)), "1500ms");
    assert_eq!(go_duration(Duration::from_micros(1500)), "1500us");
    assert_eq!(go_duration(Duration::from_nanos(7)), "7ns");
    assert_eq!(go_duration(Duration::ZERO), "0s");
    assert_eq!(go_duration(parse_bgp_duration("2.9s").unwrap()), "2900ms");
    assert_eq!(
        bgp_peer_names(["frr1", "bird1", "frr1", "frr1-2", "Big_One"]),
        ["frr1", "bird1", "frr1-2", "frr1-2", "big-one"]
    );
    assert_eq!(dns_name("Pool_A.1"), "pool-a-1");
    assert_eq!(dns_name("--x--"), "x");
    assert_eq!(dns_name(&"a".repeat(70)).len(), 63);
    assert_eq!(dns_name("_"), "metallab");
}
