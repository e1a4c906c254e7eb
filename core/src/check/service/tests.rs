use super::*;
use crate::state::cluster::NodeInfo;
use crate::test_support::ip;

/// An event on `object` (kind, namespace, name).
fn event(
    object: (&str, &str, &str),
    reason: &str,
    event_type: &str,
    message: &str,
    at: &str,
    count: u32,
) -> EventInfo {
    let (kind, namespace, name) = object;
    EventInfo {
        namespace: namespace.into(),
        object_kind: kind.into(),
        object_name: name.into(),
        reason: reason.into(),
        message: message.into(),
        event_type: event_type.into(),
        count,
        last_seen: Some(at.into()),
    }
}

/// A lab after MetalLB assigned test-agnhost's address, with a second Service still
/// pending and (older MetalLB) a rejected configuration change.
fn state() -> ClusterState {
    ClusterState {
        provider: "kind".into(),
        name: "bgp".into(),
        nodes: vec![NodeInfo {
            api_addresses: vec![],
            name: "bgp-control-plane".into(),
            ip: Some(ip("10.0.1.3")),
            roles: vec!["control-plane".into()],
            ready: true,
        }],
        metallb_pods: vec![],
        services: vec![
            ServiceInfo {
                namespace: "default".into(),
                name: "test-agnhost".into(),
                ips: vec![ip("203.0.113.200")],
                ports: vec![80],
                pool: Some("doc-example".into()),
            },
            ServiceInfo {
                namespace: "demo".into(),
                name: "pending".into(),
                ips: vec![],
                ports: vec![80, 443],
                pool: None,
            },
        ],
        events: vec![
            event(
                ("Service", "default", "test-agnhost"),
                "IPAllocated",
                "Normal",
                "Assigned IP [\"203.0.113.200\"]",
                "2025-03-04T10:17:01Z",
                1,
            ),
            event(
                ("Service", "default", "test-agnhost"),
                "nodeAssigned",
                "Normal",
                "announcing from node \"bgp-worker\" with protocol \"bgp\"",
                "2025-03-04T10:17:05Z",
                1,
            ),
            event(
                ("Service", "demo", "pending"),
                "AllocationFailed",
                "Warning",
                "Failed to allocate IP for \"demo/pending\": no available IPs",
                "2025-03-04T10:17:30Z",
                3,
            ),
            event(
                ("ConfigMap", "metallb-system", "config"),
                "InvalidConfig",
                "Warning",
                "new config not compatible with assigned IPs: service \"default/test-agnhost\" cannot own \"203.0.113.200\" under new config",
                "2025-03-04T10:18:00Z",
                2,
            ),
        ],
    }
}

fn check(name: &str, ip: Option<&str>, pool: Option<&str>, event: Option<&str>) -> CheckKind {
    let (namespace, name) = name.split_once('/').unwrap();
    CheckKind::Service {
        namespace: namespace.into(),
        name: name.into(),
        ip: ip.map(crate::test_support::ip),
        pool: pool.map(str::to_string),
        event: event.map(str::to_string),
    }
}

const DOC_EXAMPLE: &[(IpAddr, IpAddr)] = &[(
    IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 200)),
    IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 203)),
)];

fn detail(verdict: Verdict) -> String {
    match verdict {
        Verdict::Pass { detail } => detail,
        Verdict::Fail { reason, evidence } => panic!("failed: {reason}\n{evidence}"),
    }
}

fn failure(verdict: Verdict) -> String {
    match verdict {
        Verdict::Fail { reason, evidence } => format!("{reason}\n---\n{evidence}"),
        Verdict::Pass { detail } => panic!("passed: {detail}"),
    }
}

fn reason(verdict: Verdict) -> String {
    failure(verdict)
        .split("\n---\n")
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn an_exact_address_passes_when_the_service_has_it() {
    let s = state();
    assert_eq!(
        detail(evaluate_service(
            &check("default/test-agnhost", Some("203.0.113.200"), None, None),
            &s,
            None
        )),
        "default/test-agnhost has 203.0.113.200 (pool doc-example)"
    );
    // No criterion at all: the Service gets some address.
    assert!(evaluate_service(&check("default/test-agnhost", None, None, None), &s, None).is_pass());
}

#[test]
fn another_address_fails_with_what_the_service_has() {
    let verdict = evaluate_service(
        &check("default/test-agnhost", Some("203.0.113.201"), None, None),
        &state(),
        None,
    );
    insta::assert_snapshot!(failure(verdict));
}

#[test]
fn a_service_without_an_address_fails_showing_its_events() {
    let verdict = evaluate_service(
        &check("demo/pending", None, Some("doc-example"), None),
        &state(),
        Some(DOC_EXAMPLE),
    );
    insta::assert_snapshot!(failure(verdict));
}

#[test]
fn a_missing_service_lists_the_ones_there_are() {
    let verdict = evaluate_service(&check("default/web", None, None, None), &state(), None);
    insta::assert_snapshot!(failure(verdict));
    let empty = ClusterState::default();
    assert_eq!(
        failure(evaluate_service(
            &check("default/web", None, None, None),
            &empty,
            None
        )),
        "default/web is not a LoadBalancer Service in the cluster\n---\nthe cluster has no LoadBalancer Services"
    );
}

#[test]
fn a_pool_is_judged_by_the_annotation_and_the_ranges() {
    let s = state();
    let in_pool = check("default/test-agnhost", None, Some("doc-example"), None);
    assert!(evaluate_service(&in_pool, &s, Some(DOC_EXAMPLE)).is_pass());
    // MetalLB's annotation alone is enough when the ranges are unknown.
    assert!(evaluate_service(&in_pool, &s, None).is_pass());

    let other = check("default/test-agnhost", None, Some("other"), None);
    assert_eq!(
        reason(evaluate_service(&other, &s, None)),
        "default/test-agnhost got its address from pool doc-example, expected other"
    );

    // Older MetalLB: no annotation, so the ranges decide.
    let mut legacy = state();
    legacy.services[0].pool = None;
    assert_eq!(
        detail(evaluate_service(&in_pool, &legacy, Some(DOC_EXAMPLE))),
        "default/test-agnhost has 203.0.113.200 (pool doc-example)"
    );
    let elsewhere = [(ip("198.51.100.0"), ip("198.51.100.255"))];
    assert_eq!(
        reason(evaluate_service(&in_pool, &legacy, Some(&elsewhere))),
        "default/test-agnhost has 203.0.113.200, outside pool doc-example (198.51.100.0-198.51.100.255)"
    );
    assert_eq!(
        reason(evaluate_service(&in_pool, &legacy, None)),
        "cannot tell whether default/test-agnhost's address is from pool doc-example: MetalLB did not annotate the Service (versions before v0.13 do not) and the lab defines no such pool"
    );
}

#[test]
fn events_are_found_on_the_service_or_on_metallbs_configuration() {
    let s = state();
    assert_eq!(
        detail(evaluate_service(
            &check("default/test-agnhost", None, None, Some("IPAllocated")),
            &s,
            None
        )),
        "default/test-agnhost has 203.0.113.200 (pool doc-example); IPAllocated event on Service default/test-agnhost: Assigned IP [\"203.0.113.200\"]"
    );
    // The old MetalLB refusal: the Service keeps its address, the ConfigMap gets the event.
    assert_eq!(
        detail(evaluate_service(
            &check(
                "default/test-agnhost",
                Some("203.0.113.200"),
                None,
                Some("invalidconfig")
            ),
            &s,
            None
        )),
        "default/test-agnhost has 203.0.113.200 (pool doc-example); InvalidConfig event on ConfigMap metallb-system/config: new config not compatible with assigned IPs: service \"default/test-agnhost\" cannot own \"203.0.113.200\" under new config"
    );
    // An event-only check does not need an address.
    assert_eq!(
        detail(evaluate_service(
            &check("demo/pending", None, None, Some("AllocationFailed")),
            &s,
            None
        )),
        "demo/pending has no external IP; AllocationFailed event on Service demo/pending: Failed to allocate IP for \"demo/pending\": no available IPs"
    );
}

#[test]
fn a_missing_event_fails_showing_the_events_there_are() {
    let verdict = evaluate_service(
        &check("default/test-agnhost", None, None, Some("ConfigStale")),
        &state(),
        None,
    );
    insta::assert_snapshot!(failure(verdict));
}

#[test]
fn other_checks_are_not_service_checks() {
    let ping = CheckKind::Ping {
        from: "client".into(),
        target: ip("192.0.2.10"),
    };
    assert_eq!(
        reason(evaluate_service(&ping, &state(), None)),
        "ping is not a service check"
    );
}

#[test]
fn pool_ranges_come_from_the_lab_s_metallb_section() {
    let metallb: MetallbSpec = serde_saphyr::from_str(
        "asn: 64500\npools:\n  doc-example: { addresses: [203.0.113.200/30, 198.51.100.10-198.51.100.20] }\n",
    )
    .unwrap();
    assert_eq!(
        pool_ranges(&metallb, "doc-example"),
        Some(vec![
            (ip("203.0.113.200"), ip("203.0.113.203")),
            (ip("198.51.100.10"), ip("198.51.100.20")),
        ])
    );
    assert_eq!(pool_ranges(&metallb, "nope"), None);
}
