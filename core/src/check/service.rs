//! Service checks (pure): does a LoadBalancer Service have the address, the pool and the
//! events the check expects, judged on one reading of the cluster ([`ClusterState`]).
//!
//! `event:` looks at the Service's own events and then at MetalLB's configuration
//! objects: MetalLB reports configuration trouble (`InvalidConfig`, e.g. the pre-v0.14
//! refusal of a config that would take an assigned IP away from a Service) on the
//! `metallb-system/config` ConfigMap or its CRs, not on the Service.

use super::evaluate::Verdict;
use super::text::{indent, list, or_dash, table};
use crate::metallb::CONFIG_KINDS as METALLB_CONFIG_KINDS;
use crate::metallb::{LEGACY_CONFIGMAP, NAMESPACE as METALLB_NAMESPACE};
use crate::plan::CheckKind;
use crate::state::ClusterState;
use crate::state::cluster::{EventInfo, ServiceInfo};
use crate::topology::model::MetallbSpec;
use crate::topology::validate::parse_pool_range;
use std::net::IpAddr;

/// How many of the most recent events evidence shows per object group.
const EVIDENCE_EVENTS: usize = 10;

/// The address ranges (inclusive first and last address) of the lab's pool `pool`; None
/// when the plan has no such pool.
pub fn pool_ranges(metallb: &MetallbSpec, pool: &str) -> Option<Vec<(IpAddr, IpAddr)>> {
    let spec = metallb.pools.get(pool)?;
    spec.addresses
        .iter()
        .map(|a| parse_pool_range(a).ok())
        .collect()
}

/// Evaluates a Service check against the cluster's state. `pool_ranges` are the ranges of
/// the check's `pool:` as the lab configured it (see [`pool_ranges`]); without them the
/// pool is judged by MetalLB's `metallb.io/ip-allocated-from-pool` annotation alone.
pub fn evaluate_service(
    kind: &CheckKind,
    state: &ClusterState,
    pool_ranges: Option<&[(IpAddr, IpAddr)]>,
) -> Verdict {
    let CheckKind::Service {
        namespace,
        name,
        ip,
        pool,
        event,
    } = kind
    else {
        return fail(
            format!("{} is not a service check", super::kind_label(kind)),
            String::new(),
        );
    };
    let id = format!("{namespace}/{name}");
    let Some(service) = state.service(namespace, name) else {
        return fail(
            format!("{id} is not a LoadBalancer Service in the cluster"),
            services_evidence(state),
        );
    };
    let evidence = || evidence(state, service);

    // An address is what the check is about unless it only asks for an event.
    let wants_address = event.is_none() || ip.is_some() || pool.is_some();
    if wants_address && service.ips.is_empty() {
        return fail(format!("{id} has no external IP yet"), evidence());
    }
    if let Some(wanted) = ip
        && !service.ips.contains(wanted)
    {
        return fail(
            format!("{id} has {}, expected {wanted}", list(&service.ips)),
            evidence(),
        );
    }
    if let Some(pool) = pool
        && let Err(reason) = check_pool(&id, service, pool, pool_ranges)
    {
        return fail(reason, evidence());
    }

    let mut detail = if service.ips.is_empty() {
        format!("{id} has no external IP")
    } else {
        format!("{id} has {}", list(&service.ips))
    };
    if let Some(pool) = service.pool.as_deref().or(pool.as_deref()) {
        detail.push_str(&format!(" (pool {pool})"));
    }
    if let Some(reason) = event {
        match find_event(state, service, reason) {
            Some(found) => detail.push_str(&format!(
                "; {} event on {} {}: {}",
                found.reason,
                found.object_kind,
                object_id(found),
                found.message
            )),
            None => {
                return fail(
                    format!("no {reason} event on {id} nor on MetalLB's configuration"),
                    evidence(),
                );
            }
        }
    }
    Verdict::Pass { detail }
}

/// The Service's addresses come from `pool`: MetalLB's annotation (when it set one) names
/// it, and every address lies in the pool's ranges (when known).
fn check_pool(
    id: &str,
    service: &ServiceInfo,
    pool: &str,
    ranges: Option<&[(IpAddr, IpAddr)]>,
) -> Result<(), String> {
    if let Some(annotated) = &service.pool
        && annotated != pool
    {
        return Err(format!(
            "{id} got its address from pool {annotated}, expected {pool}"
        ));
    }
    match ranges {
        Some(ranges) => {
            let outside: Vec<&IpAddr> = service
                .ips
                .iter()
                .filter(|ip| !ranges.iter().any(|range| in_range(**ip, *range)))
                .collect();
            if outside.is_empty() {
                Ok(())
            } else {
                let ranges: Vec<String> = ranges
                    .iter()
                    .map(|(first, last)| format!("{first}-{last}"))
                    .collect();
                Err(format!(
                    "{id} has {}, outside pool {pool} ({})",
                    list(outside),
                    ranges.join(", ")
                ))
            }
        }
        None if service.pool.is_some() => Ok(()),
        None => Err(format!(
            "cannot tell whether {id}'s address is from pool {pool}: MetalLB did not annotate \
             the Service (versions before v0.13 do not) and the lab defines no such pool"
        )),
    }
}

fn in_range(ip: IpAddr, (first, last): (IpAddr, IpAddr)) -> bool {
    match (ip, first, last) {
        (IpAddr::V4(ip), IpAddr::V4(first), IpAddr::V4(last)) => first <= ip && ip <= last,
        (IpAddr::V6(ip), IpAddr::V6(first), IpAddr::V6(last)) => first <= ip && ip <= last,
        _ => false,
    }
}

fn on_service<'a>(state: &'a ClusterState, service: &ServiceInfo) -> Vec<&'a EventInfo> {
    state
        .events
        .iter()
        .filter(|e| {
            e.object_kind == "Service"
                && e.namespace == service.namespace
                && e.object_name == service.name
        })
        .collect()
}

fn on_metallb_config(state: &ClusterState) -> Vec<&EventInfo> {
    state
        .events
        .iter()
        .filter(|e| {
            (e.object_kind == "ConfigMap"
                && e.object_name == LEGACY_CONFIGMAP
                && e.namespace == METALLB_NAMESPACE)
                || METALLB_CONFIG_KINDS.contains(&e.object_kind.as_str())
        })
        .collect()
}

/// The most recent event with `reason` (case-insensitive: users write `invalidconfig`
/// too), on the Service first, then on MetalLB's configuration.
fn find_event<'a>(
    state: &'a ClusterState,
    service: &ServiceInfo,
    reason: &str,
) -> Option<&'a EventInfo> {
    let matching = |events: Vec<&'a EventInfo>| {
        events
            .into_iter()
            .rev()
            .find(|e| e.reason.eq_ignore_ascii_case(reason))
    };
    matching(on_service(state, service)).or_else(|| matching(on_metallb_config(state)))
}

fn object_id(event: &EventInfo) -> String {
    if event.namespace.is_empty() {
        event.object_name.clone()
    } else {
        format!("{}/{}", event.namespace, event.object_name)
    }
}

fn fail(reason: String, evidence: String) -> Verdict {
    Verdict::Fail { reason, evidence }
}

/// What the Service has now, and the recent events on it and on MetalLB's configuration.
fn evidence(state: &ClusterState, service: &ServiceInfo) -> String {
    let ports = if service.ports.is_empty() {
        "none".to_string()
    } else {
        list(&service.ports)
    };
    let mut text = format!(
        "service {}/{}: external IPs {}, ports {ports}, pool annotation {}",
        service.namespace,
        service.name,
        if service.ips.is_empty() {
            "none".to_string()
        } else {
            list(&service.ips)
        },
        or_dash(service.pool.as_deref()),
    );
    for (title, events) in [
        ("events on the Service", on_service(state, service)),
        (
            "events on MetalLB's configuration",
            on_metallb_config(state),
        ),
    ] {
        text.push_str(&format!("\n{title}:\n"));
        if events.is_empty() {
            text.push_str("  none");
        } else {
            text.push_str(&indent(&events_table(&events), "  "));
        }
    }
    text
}

fn events_table(events: &[&EventInfo]) -> String {
    let recent = &events[events.len().saturating_sub(EVIDENCE_EVENTS)..];
    let rows: Vec<Vec<String>> = recent
        .iter()
        .map(|e| {
            vec![
                or_dash(e.last_seen.as_deref()),
                e.event_type.clone(),
                e.reason.clone(),
                format!("{} {}", e.object_kind, object_id(e)),
                e.count.to_string(),
                e.message.clone(),
            ]
        })
        .collect();
    table(
        &["LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"],
        &rows,
    )
}

/// The LoadBalancer Services there are, for a check naming one that is not.
fn services_evidence(state: &ClusterState) -> String {
    if state.services.is_empty() {
        return "the cluster has no LoadBalancer Services".into();
    }
    let rows: Vec<Vec<String>> = state
        .services
        .iter()
        .map(|s| {
            vec![
                format!("{}/{}", s.namespace, s.name),
                if s.ips.is_empty() {
                    "<pending>".into()
                } else {
                    list(&s.ips)
                },
                or_dash(s.pool.as_deref()),
            ]
        })
        .collect();
    format!(
        "LoadBalancer Services in the cluster:\n{}",
        indent(&table(&["SERVICE", "EXTERNAL IP", "POOL"], &rows), "  ")
    )
}

#[cfg(test)]
mod tests;
