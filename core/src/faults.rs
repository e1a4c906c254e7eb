//! Faults put into a running lab on purpose (`metallab fault`), each undone exactly: what
//! a fault is, what it names in the plan, and the commands that apply and clear it inside
//! a router (pure; the app runs them and records the active faults in the lab's state).

use crate::plan::{Plan, PlannedRouter};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// One fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "kebab-case")]
pub enum Fault {
    /// The router's container is stopped (`docker stop`).
    Stop { router: String },
    /// The router's interface on a lab network is down; its address stays.
    LinkDown { router: String, network: String },
    /// Delay, jitter and loss on the router's interface on a network (tc netem), or on
    /// every interface of it.
    Netem {
        router: String,
        network: Option<String>,
        #[serde(default, with = "humantime_serde_opt")]
        delay: Option<Duration>,
        #[serde(default, with = "humantime_serde_opt")]
        jitter: Option<Duration>,
        loss_percent: Option<f64>,
    },
    /// Every interface of the router is down.
    Isolate { router: String },
}

/// Durations written as `50ms` in the lab's state.
mod humantime_serde_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| humantime::parse_duration(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

impl Fault {
    pub fn router(&self) -> &str {
        match self {
            Fault::Stop { router }
            | Fault::LinkDown { router, .. }
            | Fault::Netem { router, .. }
            | Fault::Isolate { router } => router,
        }
    }

    /// As a person would say it: `link gw right down`, `netem frr1:lan delay 50ms`.
    pub fn describe(&self) -> String {
        match self {
            Fault::Stop { router } => format!("stop {router}"),
            Fault::LinkDown { router, network } => format!("link {router} {network} down"),
            Fault::Isolate { router } => format!("isolate {router}"),
            Fault::Netem {
                router,
                network,
                delay,
                jitter,
                loss_percent,
            } => {
                let mut text = format!("netem {router}");
                if let Some(n) = network {
                    text.push_str(&format!(":{n}"));
                }
                if let Some(d) = delay {
                    text.push_str(&format!(" delay {}", humantime::format_duration(*d)));
                }
                if let Some(j) = jitter {
                    text.push_str(&format!(" jitter {}", humantime::format_duration(*j)));
                }
                if let Some(l) = loss_percent {
                    text.push_str(&format!(" loss {l}%"));
                }
                text
            }
        }
    }

    /// Whether two faults act on the same thing (a second one replaces the first).
    pub fn same_place(&self, other: &Fault) -> bool {
        match (self, other) {
            (Fault::Stop { router: a }, Fault::Stop { router: b })
            | (Fault::Isolate { router: a }, Fault::Isolate { router: b }) => a == b,
            (
                Fault::LinkDown {
                    router: a,
                    network: n,
                },
                Fault::LinkDown {
                    router: b,
                    network: m,
                },
            ) => a == b && n == m,
            (
                Fault::Netem {
                    router: a,
                    network: n,
                    ..
                },
                Fault::Netem {
                    router: b,
                    network: m,
                    ..
                },
            ) => a == b && n == m,
            _ => false,
        }
    }
}

/// A fault in effect, as the lab's state records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveFault {
    /// Small and stable: the lowest number not in use.
    pub id: u32,
    #[serde(flatten)]
    pub fault: Fault,
    /// When it was applied (Unix seconds).
    pub since: u64,
    /// Routes the router had through a gateway when its links went down (`ip route`
    /// arguments), set again when they come up: the kernel drops them with the link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saved_routes: Vec<String>,
}

/// The routes of `ip -4 route show` a link's return will not bring back by itself:
/// those through a gateway that no routing daemon installed (Docker's default route,
/// static routes), as `ip route replace` arguments.
pub fn routes_to_restore(ip_route_show: &str) -> Vec<String> {
    ip_route_show
        .lines()
        .map(str::trim)
        .filter(|l| l.contains(" via ") || l.starts_with("default via"))
        .filter(|l| {
            !["proto bgp", "proto bird", "proto zebra", "proto kernel"]
                .iter()
                .any(|p| l.contains(p))
        })
        .map(str::to_string)
        .collect()
}

/// The next free id among `active`.
pub fn next_id(active: &[ActiveFault]) -> u32 {
    (1..)
        .find(|id| active.iter().all(|f| f.id != *id))
        .unwrap_or(1)
}

/// Why a fault cannot be applied to this lab: the router or network it names is not
/// there (the message names what is).
pub fn check(plan: &Plan, fault: &Fault) -> Result<(), String> {
    let router = plan.router(fault.router()).ok_or_else(|| {
        let names: Vec<&str> = plan.routers.iter().map(|r| r.name.as_str()).collect();
        format!(
            "lab {} has no router `{}` (routers: {})",
            plan.lab,
            fault.router(),
            names.join(", ")
        )
    })?;
    let network = match fault {
        Fault::LinkDown { network, .. } => Some(network),
        Fault::Netem { network, .. } => network.as_ref(),
        _ => None,
    };
    if let Some(network) = network
        && !router.interfaces.iter().any(|i| &i.network == network)
    {
        let names: Vec<&str> = router
            .interfaces
            .iter()
            .map(|i| i.network.as_str())
            .collect();
        return Err(format!(
            "{} has no interface on `{network}` (its networks: {})",
            router.name,
            names.join(", ")
        ));
    }
    if let Fault::Netem {
        delay,
        jitter,
        loss_percent,
        ..
    } = fault
    {
        if delay.is_none() && jitter.is_none() && loss_percent.is_none() {
            return Err("netem needs --delay, --jitter or --loss".into());
        }
        if jitter.is_some() && delay.is_none() {
            return Err("netem --jitter varies a --delay: give one".into());
        }
        if loss_percent.is_some_and(|l| !(0.0..=100.0).contains(&l)) {
            return Err("netem --loss is a percentage from 0 to 100".into());
        }
    }
    Ok(())
}

/// The addresses whose interfaces a fault acts on inside the router: one network's, or
/// all of them.
pub fn addresses(router: &PlannedRouter, network: Option<&str>) -> Vec<IpAddr> {
    router
        .interfaces
        .iter()
        .filter(|i| network.is_none_or(|n| i.network == n))
        .map(|i| i.ip)
        .collect()
}

/// A shell snippet that sets `$dev` to the interface holding `ip` (Docker names the
/// interfaces in the order it attached them), failing when there is none.
fn find_interface(ip: IpAddr) -> String {
    format!(
        "dev=$(ip -o -4 addr show | awk '{{split($4, a, \"/\"); if (a[1] == \"{ip}\") print $2}}'); \
         [ -n \"$dev\" ] || {{ echo 'no interface holds {ip}' >&2; exit 1; }}"
    )
}

/// The commands (each `sh -c`) that apply a fault inside the router; none for `stop`,
/// which is the container's.
pub fn apply_commands(router: &PlannedRouter, fault: &Fault) -> Vec<String> {
    let down = |ip: IpAddr| format!("{} && ip link set dev \"$dev\" down", find_interface(ip));
    match fault {
        Fault::Stop { .. } => vec![],
        Fault::LinkDown { network, .. } => addresses(router, Some(network))
            .into_iter()
            .map(down)
            .collect(),
        Fault::Isolate { .. } => addresses(router, None).into_iter().map(down).collect(),
        Fault::Netem {
            network,
            delay,
            jitter,
            loss_percent,
            ..
        } => {
            let mut netem = String::from("netem");
            let ms = |d: &Duration| format!("{}ms", d.as_secs_f64() * 1000.0);
            if let Some(d) = delay {
                netem.push_str(&format!(" delay {}", ms(d)));
                if let Some(j) = jitter {
                    netem.push_str(&format!(" {}", ms(j)));
                }
            }
            if let Some(l) = loss_percent {
                netem.push_str(&format!(" loss {l}%"));
            }
            addresses(router, network.as_deref())
                .into_iter()
                .map(|ip| {
                    format!(
                        "{} && tc qdisc replace dev \"$dev\" root {netem}",
                        find_interface(ip)
                    )
                })
                .collect()
        }
    }
}

/// The commands that undo a fault inside the router. An interface brought back up has
/// lost its routes with it: the router's static routes are set again after (the caller
/// adds them).
pub fn clear_commands(router: &PlannedRouter, fault: &Fault) -> Vec<String> {
    let up = |ip: IpAddr| format!("{} && ip link set dev \"$dev\" up", find_interface(ip));
    match fault {
        Fault::Stop { .. } => vec![],
        Fault::LinkDown { network, .. } => addresses(router, Some(network))
            .into_iter()
            .map(up)
            .collect(),
        Fault::Isolate { .. } => addresses(router, None).into_iter().map(up).collect(),
        Fault::Netem { network, .. } => addresses(router, network.as_deref())
            .into_iter()
            .map(|ip| {
                format!(
                    "{} && tc qdisc del dev \"$dev\" root 2>/dev/null || true",
                    find_interface(ip)
                )
            })
            .collect(),
    }
}

/// Whether clearing the fault takes the router's interfaces down and up (its static
/// routes must be set again).
pub fn restores_links(fault: &Fault) -> bool {
    matches!(fault, Fault::LinkDown { .. } | Fault::Isolate { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let topology = crate::topology::builtin::get("next-hop")
            .unwrap()
            .topology();
        crate::plan::build(&topology, "builtin:next-hop", std::path::Path::new(""))
    }

    #[test]
    fn a_fault_on_something_the_lab_lacks_names_what_it_has() {
        let plan = plan();
        let err = check(
            &plan,
            &Fault::Stop {
                router: "nope".into(),
            },
        )
        .unwrap_err();
        assert!(
            err.starts_with("lab next-hop has no router `nope` (routers: "),
            "{err}"
        );
        let err = check(
            &plan,
            &Fault::LinkDown {
                router: "gw".into(),
                network: "middle".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            "gw has no interface on `middle` (its networks: left, right)"
        );
        let netem = |delay, jitter, loss| Fault::Netem {
            router: "gw".into(),
            network: None,
            delay,
            jitter,
            loss_percent: loss,
        };
        assert!(check(&plan, &netem(None, None, None)).is_err());
        assert!(check(&plan, &netem(None, Some(Duration::from_millis(5)), None)).is_err());
        assert!(check(&plan, &netem(None, None, Some(120.0))).is_err());
        assert!(
            check(
                &plan,
                &netem(Some(Duration::from_millis(50)), None, Some(5.0))
            )
            .is_ok()
        );
    }

    #[test]
    fn links_go_down_by_the_address_on_their_network_and_come_back_up() {
        let plan = plan();
        let gw = plan.router("gw").unwrap();
        let right = gw
            .interfaces
            .iter()
            .find(|i| i.network == "right")
            .unwrap()
            .ip;
        let fault = Fault::LinkDown {
            router: "gw".into(),
            network: "right".into(),
        };
        let apply = apply_commands(gw, &fault);
        assert_eq!(apply.len(), 1);
        assert!(
            apply[0].contains(&format!("a[1] == \"{right}\"")),
            "{}",
            apply[0]
        );
        assert!(apply[0].ends_with("ip link set dev \"$dev\" down"));
        assert!(clear_commands(gw, &fault)[0].ends_with("ip link set dev \"$dev\" up"));
        assert!(restores_links(&fault));
        let isolate = Fault::Isolate {
            router: "gw".into(),
        };
        assert_eq!(apply_commands(gw, &isolate).len(), 2);
    }

    #[test]
    fn netem_replaces_the_root_qdisc_and_clearing_deletes_it() {
        let plan = plan();
        let frr1 = plan.router("frr1").unwrap();
        let fault = Fault::Netem {
            router: "frr1".into(),
            network: None,
            delay: Some(Duration::from_millis(50)),
            jitter: Some(Duration::from_millis(10)),
            loss_percent: Some(5.0),
        };
        let apply = apply_commands(frr1, &fault);
        assert!(
            apply[0].ends_with("tc qdisc replace dev \"$dev\" root netem delay 50ms 10ms loss 5%"),
            "{}",
            apply[0]
        );
        assert!(clear_commands(frr1, &fault)[0].contains("tc qdisc del dev \"$dev\" root"));
        assert_eq!(
            fault.describe(),
            "netem frr1 delay 50ms jitter 10ms loss 5%"
        );
    }

    #[test]
    fn active_faults_round_trip_through_the_state_and_take_free_ids() {
        let active = vec![ActiveFault {
            id: 1,
            fault: Fault::Netem {
                router: "gw".into(),
                network: Some("right".into()),
                delay: Some(Duration::from_millis(50)),
                jitter: None,
                loss_percent: None,
            },
            since: 1_800_000_000,
            saved_routes: vec![],
        }];
        let json = serde_json::to_string(&active).unwrap();
        assert!(json.contains("\"fault\":\"netem\""), "{json}");
        assert!(json.contains("\"delay\":\"50ms\""), "{json}");
        let back: Vec<ActiveFault> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, active);
        assert_eq!(next_id(&active), 2);
        assert_eq!(next_id(&[]), 1);
        let stop = Fault::Stop {
            router: "gw".into(),
        };
        assert!(stop.same_place(&Fault::Stop {
            router: "gw".into()
        }));
        assert!(!stop.same_place(&Fault::Isolate {
            router: "gw".into()
        }));
    }

    #[test]
    fn only_gateway_routes_no_daemon_owns_are_put_back() {
        // `ip -4 route show` in a next hop's neighbour with BGP routes (iproute2 6.1).
        let shown = "default via 10.203.1.1 dev eth0\n\
                     10.203.1.0/24 dev eth0 proto kernel scope link src 10.203.1.11\n\
                     10.203.2.0/24 via 10.203.1.2 dev eth0\n\
                     198.51.100.0/24 nhid 12 via 10.203.1.2 dev eth0 proto bgp metric 20\n";
        assert_eq!(
            routes_to_restore(shown),
            [
                "default via 10.203.1.1 dev eth0",
                "10.203.2.0/24 via 10.203.1.2 dev eth0"
            ]
        );
    }
}
