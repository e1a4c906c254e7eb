//! Names and durations as MetalLB and Kubernetes spell them (pure, and free of the plan,
//! so topology validation can use them without depending on what is built from it).

use std::time::Duration;

/// A BGP hold or keepalive time as written in a topology (`9s`, `1m30s`, `90`).
pub fn parse_bgp_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

/// A duration as Go's `time.ParseDuration` (and so MetalLB) reads it, exactly: `9s`,
/// `500ms`, `1500us`, `10ns`. MetalLB itself cuts hold and keepalive times down to whole
/// seconds (FRR's `timers` line, the native speaker's OPEN message, the ConfigMap
/// parser); the value is passed on as written so each release does what it does with it
/// (validation judges the whole seconds per release).
pub fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos.is_multiple_of(1_000_000_000) {
        format!("{}s", duration.as_secs())
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}ms", duration.as_millis())
    } else if nanos.is_multiple_of(1_000) {
        format!("{}us", duration.as_micros())
    } else {
        format!("{nanos}ns")
    }
}

/// BGPPeer object names of `metallb.peers`, in order: the router's name, then `-2`, `-3`…
/// for a router peered again (each through [`dns_name`], so two entries can end up with
/// one name; validation refuses that).
pub fn bgp_peer_names<'a>(routers: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    routers
        .into_iter()
        .map(|router| {
            let taken = seen.iter().filter(|r| **r == router).count();
            seen.push(router);
            match taken {
                0 => dns_name(router),
                n => dns_name(&format!("{router}-{}", n + 1)),
            }
        })
        .collect()
}

/// A Kubernetes object name (DNS-1123 label): lowercase alphanumerics and `-`, at most
/// 63 characters, alphanumeric at both ends.
pub fn dns_name(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    name.truncate(63);
    let name = name.trim_matches('-');
    if name.is_empty() {
        "metallab".to_string()
    } else {
        name.to_string()
    }
}
