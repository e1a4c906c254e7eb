//! The network setup of an in-cluster router's pod, against real daemons on the real
//! engine. kind cannot run here, so the test rebuilds, with plain containers on one
//! internal network, exactly the packet path a pod sees behind its Service (see
//! `metallab::in_cluster`), and runs metallab's own commands in the "pod":
//!
//! - the pod: metallab's BIRD image with the capabilities the Deployment gives it,
//!   `METALLAB_NODE_IP` set as the pod spec sets it, the config rendered for the
//!   in-cluster router, then `in_cluster::start::start_commands` (network setup, daemon);
//! - node A: an FRR "speaker" whose connections to the ClusterIP are DNATed to the pod's
//!   address in its own OUTPUT chain, as kube-proxy does on a node hosting no endpoint;
//! - node B: the pod's own node. kube-proxy also masquerades its connections (they leave
//!   through the pod's veth), so its source becomes a non-node address (here C, which the
//!   speaker answers on). The pod must turn C back into B (`METALLAB_NODE_IP`).
//!
//! Both speakers peer with the ClusterIP with a TCP MD5 password: the sessions come up
//! only if the daemon sees exactly the addresses the speakers signed with. The test then
//! reads BIRD through metallab's own parser and asserts both sessions established and both
//! speakers' prefixes learned from the node addresses.

mod support;

use metallab::drivers;
use metallab::engine::probe::read_router_state;
use metallab::in_cluster::{self, service_ip};
use metallab::plan::nodes::{ClusterNode, with_node_sessions};
use metallab::plan::{Plan, PlannedRouter};
use metallab::render::render_router;
use metallab::runtime::docker::{ContainerSpec, DockerRuntime, NetworkSpec};
use metallab::runtime::images::{DEFAULT_BASE_IMAGE, ensure_image};
use metallab::state::SessionState;
use metallab::topology::load::parse_and_validate;
use metallab::topology::model::RouterKind;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Scratch, engine};

const LAB: &str = "h-icpod";
const PASSWORD: &str = "Pod-s3cret";

/// How long the sessions may take: both speakers connect within seconds of their start.
const CONVERGE: Duration = Duration::from_secs(90);

fn host(net: &NetworkSpec, last: u8) -> Ipv4Addr {
    let [a, b, c, _] = net.subnet.network().octets();
    Ipv4Addr::new(a, b, c, last)
}

fn plan(yaml: &str) -> Plan {
    let topology = parse_and_validate("lab.yaml", yaml).unwrap_or_else(|e| panic!("{e:?}"));
    metallab::plan::build(&topology, "lab.yaml", Path::new(""))
}

/// The in-cluster router, its node sessions expanded for nodes A and B.
fn pod_plan(net: &NetworkSpec, a: Ipv4Addr, b: Ipv4Addr) -> Plan {
    let yaml = format!(
        "name: {LAB}
cluster: {{ provider: kind, network: kind }}
networks:
  kind: {{ subnet: {subnet} }}
routers:
  inside:
    kind: bird
    asn: 64512
    placement: cluster
    neighbors: [ {{ to: nodes, multihop: true, passive: true, password: {PASSWORD} }} ]
metallb:
  asn: 64513
  peers: [ {{ router: inside, multihop: true, password: {PASSWORD} }} ]
",
        subnet = net.subnet
    );
    let nodes = [("node-a", a), ("node-b", b)].map(|(name, ip)| ClusterNode {
        name: name.to_string(),
        ip: IpAddr::V4(ip),
    });
    with_node_sessions(&plan(&yaml), &nodes)
}

/// Two FRR speakers (the nodes' MetalLB) peering with the ClusterIP, each announcing a
/// LoadBalancer /32.
fn speakers_plan(net: &NetworkSpec, cluster_ip: IpAddr, a: Ipv4Addr, b: Ipv4Addr) -> Plan {
    let speaker = |ip: Ipv4Addr, prefix: &str| {
        format!(
            "    kind: frr
    asn: 64513
    interfaces: {{ n: {{ ip: {ip} }} }}
    neighbors: [ {{ to: {cluster_ip}, asn: 64512, multihop: true, password: {PASSWORD} }} ]
    announce: [ {prefix} ]
"
        )
    };
    plan(&format!(
        "name: {LAB}-speakers
networks:
  n: {{ subnet: {subnet} }}
routers:
  node-a:
{a_spec}  node-b:
{b_spec}",
        subnet = net.subnet,
        a_spec = speaker(a, "203.0.113.201/32"),
        b_spec = speaker(b, "203.0.113.202/32"),
    ))
}

async fn run(rt: &DockerRuntime, container: &str, argv: &[String]) {
    let out = rt
        .exec(container, argv, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("{container}: {}: {e}", argv.join(" ")));
    assert!(
        out.success(),
        "{container}: `{}` exited {}: {}{}",
        argv.join(" "),
        out.exit_code,
        out.stdout,
        out.stderr
    );
}

fn sh(script: String) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script]
}

/// Creates, fills and starts a router container (not its daemons).
async fn container(
    rt: &DockerRuntime,
    scratch: &Scratch,
    r: &PlannedRouter,
    image: &str,
    net: &NetworkSpec,
    ip: Ipv4Addr,
    env: Vec<String>,
) -> String {
    let name = scratch.name(&r.name);
    let spec = ContainerSpec {
        name: name.clone(),
        image: image.to_string(),
        hostname: Some(r.name.clone()),
        labels: scratch.labels(&[]),
        cmd: Some(drivers::pod_command()),
        cap_add: drivers::capabilities(r.kind)
            .iter()
            .map(|c| c.to_string())
            .collect(),
        init: true,
        networks: vec![(net.name.clone(), Some(IpAddr::V4(ip)))],
        env,
        ..Default::default()
    };
    rt.create_container(&spec).await.unwrap();
    let files: Vec<(String, Vec<u8>, u32)> = render_router(r)
        .unwrap()
        .into_iter()
        .map(|f| (f.path, f.contents.into_bytes(), f.mode))
        .collect();
    rt.upload_files(&name, &files).await.unwrap();
    rt.start_container(&name).await.unwrap();
    name
}

async fn wait_ready(rt: &DockerRuntime, container: &str, kind: RouterKind) {
    let argv = drivers::ready_command(kind).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = rt
            .exec(container, &argv, Duration::from_secs(10))
            .await
            .unwrap();
        if drivers::is_ready(kind, &out) {
            return;
        }
        assert!(Instant::now() < deadline, "{container} not ready: {out:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn speakers_reach_the_pod_through_its_service_address_with_md5() {
    let Some(rt) = engine("speakers_reach_the_pod_through_its_service_address_with_md5").await
    else {
        return;
    };
    let bird = ensure_image(
        &rt,
        metallab::kinds::bird::KIND,
        DEFAULT_BASE_IMAGE,
        false,
        |_| {},
    )
    .await
    .unwrap();
    let frr = ensure_image(
        &rt,
        metallab::kinds::frr::KIND,
        DEFAULT_BASE_IMAGE,
        false,
        |_| {},
    )
    .await
    .unwrap();
    let scratch = Scratch::new(LAB);
    let net = scratch.network(&rt, 232, "nodes").await;
    let (pod_ip, a, b, c) = (
        host(&net, 10),
        host(&net, 21),
        host(&net, 22),
        host(&net, 23),
    );

    let pods = pod_plan(&net, a, b);
    let inside = pods.router("inside").unwrap();
    let cluster_ip = service_ip(inside).unwrap();
    let speakers = speakers_plan(&net, cluster_ip, a, b);

    // The pod: the Deployment's capabilities and environment, then metallab's commands.
    let pod = container(
        &rt,
        &scratch,
        inside,
        &bird,
        &net,
        pod_ip,
        vec![format!("{}={b}", in_cluster::NODE_IP_ENV)],
    )
    .await;
    for argv in in_cluster::start::start_commands(inside).unwrap() {
        run(&rt, &pod, &argv).await;
    }
    wait_ready(&rt, &pod, metallab::kinds::bird::KIND).await;

    // The speakers: kube-proxy's translations first, then their daemons.
    let proxy = |extra: &str| {
        sh(format!(
            "set -e
ip route replace {cluster_ip}/32 via {pod_ip}
iptables -w -t nat -A OUTPUT -p tcp -d {cluster_ip} --dport 179 -j DNAT --to-destination {pod_ip}:179
{extra}"
        ))
    };
    let mut nodes = vec![];
    for (name, ip, extra) in [
        ("node-a", a, String::new()),
        (
            "node-b",
            b,
            // The masquerade of the pod's own node: answers come back to C.
            format!(
                "ip address add {c}/{len} dev eth0\n\
                 iptables -w -t nat -A POSTROUTING -p tcp -d {pod_ip} --dport 179 -j SNAT --to-source {c}",
                len = net.subnet.prefix_len()
            ),
        ),
    ] {
        let r = speakers.router(name).unwrap();
        let id = container(&rt, &scratch, r, &frr, &net, ip, vec![]).await;
        run(&rt, &id, &proxy(&extra)).await;
        for argv in drivers::start_commands(r) {
            run(&rt, &id, &argv).await;
        }
        nodes.push(id);
    }

    // BIRD in the pod, read the way `metallab status` reads it.
    let deadline = Instant::now() + CONVERGE;
    let state = loop {
        let (state, raw) = read_router_state(inside, |argv| {
            let rt = &rt;
            let pod = pod.clone();
            async move { rt.exec(&pod, &argv, Duration::from_secs(15)).await }
        })
        .await
        .unwrap();
        let up = |ip: Ipv4Addr| {
            state
                .session(IpAddr::V4(ip))
                .is_some_and(|s| s.state == SessionState::Established)
        };
        let learned = ["203.0.113.201/32", "203.0.113.202/32"]
            .iter()
            .all(|p| state.routes.iter().any(|r| r.prefix.to_string() == *p));
        if up(a) && up(b) && learned {
            break state;
        }
        assert!(
            Instant::now() < deadline,
            "sessions not established within {}s:\n{raw:#?}",
            CONVERGE.as_secs()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };

    // Each speaker's prefix arrived from that speaker's node address, never from C.
    for (prefix, from) in [("203.0.113.201/32", a), ("203.0.113.202/32", b)] {
        let route = state
            .routes
            .iter()
            .find(|r| r.prefix.to_string() == prefix)
            .unwrap_or_else(|| panic!("{prefix} not learned: {:#?}", state.routes));
        assert!(
            route
                .paths
                .iter()
                .any(|p| p.from_peer == Some(IpAddr::V4(from))),
            "{prefix}: {route:#?}"
        );
        assert_eq!(route.next_hops(), [IpAddr::V4(from)], "{prefix}");
    }
    assert!(state.session(IpAddr::V4(c)).is_none());

    // The speakers' side: their session with the ClusterIP is established.
    for (id, name) in nodes.iter().zip(["node-a", "node-b"]) {
        let r = speakers.router(name).unwrap();
        let (state, _) = read_router_state(r, |argv| {
            let rt = &rt;
            async move { rt.exec(id, &argv, Duration::from_secs(15)).await }
        })
        .await
        .unwrap();
        let session = state
            .session(cluster_ip)
            .expect("session with the ClusterIP");
        assert_eq!(session.state, SessionState::Established, "{name}");
    }
}
