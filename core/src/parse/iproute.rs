//! iproute2 JSON (`ip -j route show`) → kernel routes. Recorded against iproute2 6.1.0.
//!
//! One entry per route: `dst` is `default`, a prefix, or a bare address (a host route);
//! a single gateway is `gateway` (or `via` for a next hop of the other family, RFC 8950),
//! ECMP routes list theirs in `nexthops`. `type` is absent for unicast routes.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use super::{Ctx, ParseError, Tool};
use crate::state::KernelRoute;

pub const COMMAND: &str = "ip -j route show";

#[derive(Deserialize)]
struct RawRoute {
    dst: String,
    #[serde(rename = "type")]
    route_type: Option<String>,
    gateway: Option<String>,
    via: Option<Via>,
    dev: Option<String>,
    protocol: Option<String>,
    #[serde(default)]
    nexthops: Vec<RawNexthop>,
}

#[derive(Deserialize)]
struct RawNexthop {
    gateway: Option<String>,
    via: Option<Via>,
    dev: Option<String>,
}

#[derive(Deserialize)]
struct Via {
    host: String,
}

/// Kernel routes from `ip -j route show` (any table or family the command selected).
pub fn kernel_routes(text: &str) -> Result<Vec<KernelRoute>, ParseError> {
    let ctx = Ctx::new(Tool::IPROUTE, COMMAND);
    let body = text.trim();
    if body.is_empty() {
        return Err(ctx.empty("`ip -j` prints `[]` for an empty table"));
    }
    if !body.starts_with('[') {
        // e.g. `Error: …` or `Cannot open netlink socket: …`
        return Err(ctx.daemon(body.lines().next().unwrap_or(body)));
    }
    let raw: Vec<RawRoute> = ctx.json(body)?;
    raw.into_iter().map(|r| kernel_route(ctx, r)).collect()
}

fn kernel_route(ctx: Ctx, r: RawRoute) -> Result<KernelRoute, ParseError> {
    let gateway = |gw: Option<&str>, via: Option<&Via>| -> Result<Option<IpAddr>, ParseError> {
        match gw.or(via.map(|v| v.host.as_str())) {
            Some(text) => Ok(Some(ctx.ip(text, None)?)),
            None => Ok(None),
        }
    };
    let mut nexthops = Vec::new();
    if let Some(gw) = gateway(r.gateway.as_deref(), r.via.as_ref())? {
        nexthops.push(gw);
    }
    for hop in &r.nexthops {
        if let Some(gw) = gateway(hop.gateway.as_deref(), hop.via.as_ref())? {
            nexthops.push(gw);
        }
    }
    let prefix = if r.dst == "default" {
        // The family of a default route follows its gateway; `ip route` without -6 is IPv4.
        match nexthops.first() {
            Some(IpAddr::V6(_)) => "::/0".parse().expect("valid prefix"),
            _ => "0.0.0.0/0".parse().expect("valid prefix"),
        }
    } else if r.dst.contains('/') {
        r.dst
            .parse::<IpNet>()
            .map_err(|_| ctx.unexpected(None, format!("`{}` is not a prefix", r.dst)))?
    } else {
        IpNet::from(ctx.ip(&r.dst, None)?)
    };
    let device = r
        .dev
        .or_else(|| r.nexthops.iter().find_map(|h| h.dev.clone()));
    Ok(KernelRoute {
        prefix,
        nexthops,
        device,
        protocol: r.protocol,
        route_type: Some(r.route_type.unwrap_or_else(|| "unicast".to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::fixture_body;
    use crate::test_support::{ip, net};

    #[test]
    fn frr_kernel_table_with_ecmp() {
        let text = include_str!("fixtures/frr1-ip-route.txt");
        let routes = kernel_routes(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(routes);
        let find = |p: &str| routes.iter().find(|r| r.prefix == net(p)).unwrap();

        let default = find("0.0.0.0/0");
        assert_eq!(default.nexthops, vec![ip("10.211.1.1")]);
        assert_eq!(default.protocol, None);

        let connected = find("10.211.1.0/24");
        assert!(connected.nexthops.is_empty());
        assert_eq!(connected.protocol.as_deref(), Some("kernel"));

        let blackhole = find("192.0.2.0/24");
        assert_eq!(blackhole.route_type.as_deref(), Some("blackhole"));
        assert!(blackhole.nexthops.is_empty());

        // FRR installed both eBGP paths (BIRD and GoBGP): one multipath route.
        let ecmp = find("198.51.100.0/24");
        assert_eq!(ecmp.nexthops, vec![ip("10.211.1.31"), ip("10.211.1.21")]);
        assert_eq!(ecmp.protocol.as_deref(), Some("bgp"));
        assert_eq!(ecmp.device.as_deref(), Some("eth0"));
        assert_eq!(ecmp.route_type.as_deref(), Some("unicast"));
    }

    #[test]
    fn bird_and_degraded_tables() {
        let text = include_str!("fixtures/bird1-ip-route.txt");
        let routes = kernel_routes(fixture_body(text)).unwrap();
        let learned: Vec<_> = routes
            .iter()
            .filter(|r| r.protocol.as_deref() == Some("bird"))
            .collect();
        assert!(!learned.is_empty());
        assert!(learned.iter().all(|r| r.nexthops.len() == 1));

        let text = include_str!("fixtures/degraded-frr1-ip-route.txt");
        let routes = kernel_routes(fixture_body(text)).unwrap();
        assert!(routes.iter().all(|r| r.protocol.as_deref() != Some("bgp")));
    }

    #[test]
    fn hand_made_host_ecmp_and_unreachable_routes() {
        let text = include_str!("fixtures/linux-handmade-ip-route.txt");
        let routes = kernel_routes(fixture_body(text)).unwrap();
        insta::assert_yaml_snapshot!(routes);
        let find = |p: &str| routes.iter().find(|r| r.prefix == net(p)).unwrap();
        // A bare address is a host route.
        assert_eq!(find("10.0.0.1/32").nexthops, vec![ip("10.211.1.11")]);
        let ecmp = find("192.0.2.0/24");
        assert_eq!(ecmp.nexthops, vec![ip("10.211.1.11"), ip("10.211.1.12")]);
        assert_eq!(ecmp.protocol, None);
        let unreachable = find("203.0.113.0/24");
        assert_eq!(unreachable.route_type.as_deref(), Some("unreachable"));
        assert!(unreachable.nexthops.is_empty() && unreachable.device.is_none());
    }

    #[test]
    fn errors_are_errors() {
        // ip printed its error on stderr and nothing on stdout.
        let text = include_str!("fixtures/error-bad-argument.txt");
        assert!(matches!(
            kernel_routes(fixture_body(text)).unwrap_err(),
            ParseError::Empty { .. }
        ));
        let stderr = include_str!("fixtures/error-bad-argument.stderr.txt");
        let err = kernel_routes(fixture_body(stderr)).unwrap_err();
        assert!(matches!(err, ParseError::Daemon { .. }), "{err}");
        assert!(err.to_string().contains("any valid prefix"), "{err}");
        assert!(kernel_routes("[]").unwrap().is_empty());
    }
}
