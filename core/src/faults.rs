//! Faults put into a running lab on purpose (`metallab fault`), each undone exactly: what
//! a fault is, what it names in the plan, and the commands that apply and clear it inside
//! a router (pure; the app runs them, stops cluster nodes and deletes speaker pods, and
//! records the active faults in the lab's state).

use crate::kinds::command_line;
use crate::plan::{Plan, PlannedRouter};
use crate::topology::model::ClusterProvider;
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
    /// One of the router's daemons was killed (SIGKILL); its container runs on.
    Kill { router: String, daemon: String },
    /// A cluster node's container is stopped.
    NodeStop { node: String },
    /// MetalLB's speaker pod on a node was deleted and its DaemonSet starts another: done
    /// at once, so it is never recorded and there is nothing to clear.
    SpeakerRestart { node: String },
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
    /// The router it acts on; None for cluster faults.
    pub fn router(&self) -> Option<&str> {
        match self {
            Fault::Stop { router }
            | Fault::LinkDown { router, .. }
            | Fault::Netem { router, .. }
            | Fault::Isolate { router }
            | Fault::Kill { router, .. } => Some(router),
            Fault::NodeStop { .. } | Fault::SpeakerRestart { .. } => None,
        }
    }

    /// The cluster node it acts on; None for router faults.
    pub fn node(&self) -> Option<&str> {
        match self {
            Fault::NodeStop { node } | Fault::SpeakerRestart { node } => Some(node),
            _ => None,
        }
    }

    /// Done at once and over by itself (nothing stays to clear): never recorded.
    pub fn is_one_shot(&self) -> bool {
        matches!(self, Fault::SpeakerRestart { .. })
    }

    /// As a person would say it: `link gw right down`, `netem frr1:lan delay 50ms`.
    pub fn describe(&self) -> String {
        match self {
            Fault::Stop { router } => format!("stop {router}"),
            Fault::LinkDown { router, network } => format!("link {router} {network} down"),
            Fault::Isolate { router } => format!("isolate {router}"),
            Fault::Kill { router, daemon } => format!("kill {router} {daemon}"),
            Fault::NodeStop { node } => format!("node {node} stop"),
            Fault::SpeakerRestart { node } => format!("speaker {node} restart"),
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
            | (Fault::Isolate { router: a }, Fault::Isolate { router: b })
            | (Fault::NodeStop { node: a }, Fault::NodeStop { node: b }) => a == b,
            (
                Fault::Kill {
                    router: a,
                    daemon: d,
                },
                Fault::Kill {
                    router: b,
                    daemon: e,
                },
            ) => a == b && d == e,
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

/// `kill ROUTER [DAEMON]`: the daemon named, or the router's BGP daemon; an error naming
/// the daemons it has when it has no such one.
pub fn kill(plan: &Plan, router: &str, daemon: Option<&str>) -> Result<Fault, String> {
    let r = known_router(plan, router)?;
    let daemons = r.kind.behaviour().daemons();
    let Some(main) = daemons.first() else {
        return Err(format!(
            "{router} is a {} router: it runs no daemon to kill",
            r.kind
        ));
    };
    let daemon = daemon.unwrap_or(main);
    if !daemons.contains(&daemon) {
        return Err(format!(
            "{router} ({}) runs no daemon `{daemon}` (its daemons: {})",
            r.kind,
            daemons.join(", ")
        ));
    }
    Ok(Fault::Kill {
        router: router.to_string(),
        daemon: daemon.to_string(),
    })
}

fn known_router<'a>(plan: &'a Plan, name: &str) -> Result<&'a PlannedRouter, String> {
    plan.router(name).ok_or_else(|| {
        let names: Vec<&str> = plan.routers.iter().map(|r| r.name.as_str()).collect();
        format!(
            "lab {} has no router `{name}` (routers: {})",
            plan.lab,
            names.join(", ")
        )
    })
}

/// Why a fault on cluster node `node` cannot be applied: the lab has no cluster, no such
/// node, no MetalLB (speakers), or nodes that are not metallab's containers (stop).
fn check_node(plan: &Plan, fault: &Fault, node: &str) -> Result<(), String> {
    let provider = plan
        .cluster
        .as_ref()
        .map(|c| c.provider)
        .filter(|p| *p != ClusterProvider::None);
    let Some(provider) = provider else {
        let names: Vec<&str> = plan.routers.iter().map(|r| r.name.as_str()).collect();
        return Err(format!(
            "lab {} has no cluster: node and speaker faults need one (its routers: {})",
            plan.lab,
            names.join(", ")
        ));
    };
    if !plan.cluster_nodes.iter().any(|n| n.name == node) {
        let names: Vec<&str> = plan.cluster_nodes.iter().map(|n| n.name.as_str()).collect();
        return Err(if names.is_empty() {
            format!("lab {} knows no nodes of its cluster yet", plan.lab)
        } else {
            format!(
                "lab {} has no node `{node}` (nodes: {})",
                plan.lab,
                names.join(", ")
            )
        });
    }
    match fault {
        Fault::NodeStop { .. } if provider == ClusterProvider::Existing => Err(format!(
            "{node} is a node of an existing cluster, not a container metallab runs: it cannot be stopped here"
        )),
        Fault::SpeakerRestart { .. } if plan.metallb.is_none() => Err(format!(
            "lab {} does not deploy MetalLB: it has no speakers",
            plan.lab
        )),
        _ => Ok(()),
    }
}

/// The Docker container of cluster node `node`: kind names each node's container after
/// the node, and Minikube's docker driver names its machines (the profile, then
/// `<profile>-m02`…) as it names the nodes, which is where the plan's node names come from.
pub fn node_container(node: &str) -> &str {
    node
}

/// Why a fault cannot be applied to this lab: the router, network, daemon or node it names
/// is not there (the message names what is).
pub fn check(plan: &Plan, fault: &Fault) -> Result<(), String> {
    if let Some(node) = fault.node() {
        return check_node(plan, fault, node);
    }
    let router = known_router(plan, fault.router().unwrap_or_default())?;
    if let Fault::Kill { daemon, .. } = fault {
        return kill(plan, &router.name, Some(daemon)).map(|_| ());
    }
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
/// which is the container's, and for cluster faults.
pub fn apply_commands(router: &PlannedRouter, fault: &Fault) -> Vec<String> {
    let down = |ip: IpAddr| format!("{} && ip link set dev \"$dev\" down", find_interface(ip));
    match fault {
        Fault::Stop { .. } | Fault::NodeStop { .. } | Fault::SpeakerRestart { .. } => vec![],
        Fault::Kill { daemon, .. } => router
            .kind
            .behaviour()
            .kill_commands(daemon)
            .iter()
            .map(|argv| command_line(argv))
            .collect(),
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

/// The commands that undo a fault inside the router; none for the container's faults and
/// the cluster's. An interface brought back up has lost its routes with it: the router's
/// static routes are set again after (the caller adds them).
pub fn clear_commands(router: &PlannedRouter, fault: &Fault) -> Vec<String> {
    let up = |ip: IpAddr| format!("{} && ip link set dev \"$dev\" up", find_interface(ip));
    match fault {
        // A killed daemon is started as a router's daemons are (its kind's restart
        // commands, then a wait until it answers): the app's.
        Fault::Stop { .. }
        | Fault::Kill { .. }
        | Fault::NodeStop { .. }
        | Fault::SpeakerRestart { .. } => vec![],
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
    fn kill_takes_the_kinds_bgp_daemon_unless_told_and_names_the_daemons_it_has() {
        let plan = plan();
        assert_eq!(
            kill(&plan, "frr1", None),
            Ok(Fault::Kill {
                router: "frr1".into(),
                daemon: "bgpd".into()
            })
        );
        assert_eq!(
            kill(&plan, "bird1", None).unwrap().describe(),
            "kill bird1 bird"
        );
        assert_eq!(
            kill(&plan, "frr1", Some("ospfd")).unwrap_err(),
            "frr1 (frr) runs no daemon `ospfd` (its daemons: bgpd, zebra, bfdd, staticd)"
        );
        assert_eq!(
            kill(&plan, "gw", None).unwrap_err(),
            "gw is a linux router: it runs no daemon to kill"
        );
        assert!(
            kill(&plan, "nope", None)
                .unwrap_err()
                .contains("no router `nope`")
        );
        let zebra = kill(&plan, "frr1", Some("zebra")).unwrap();
        assert_eq!(check(&plan, &zebra), Ok(()));
        assert!(!zebra.same_place(&kill(&plan, "frr1", None).unwrap()));
        let frr1 = plan.router("frr1").unwrap();
        // Killed by name inside the router; cleared by the kind's own start.
        assert_eq!(
            apply_commands(frr1, &zebra),
            [
                "sh -c 'pkill -KILL -x watchfrr || true'",
                "sh -c 'pkill -KILL -x zebra || { echo '\\''no zebra process runs'\\'' >&2; exit 1; }'"
            ]
        );
        assert!(clear_commands(frr1, &zebra).is_empty());
        assert!(!restores_links(&zebra));
        let json = serde_json::to_string(&zebra).unwrap();
        assert_eq!(json, r#"{"fault":"kill","router":"frr1","daemon":"zebra"}"#);
    }

    fn cluster_plan(provider: ClusterProvider) -> Plan {
        let topology = crate::topology::builtin::get("bgp").unwrap().topology();
        let mut plan = crate::plan::build(&topology, "builtin:bgp", std::path::Path::new(""));
        plan.cluster.as_mut().unwrap().provider = provider;
        let nodes: Vec<crate::plan::ClusterNode> = ["bgp-control-plane", "bgp-worker"]
            .iter()
            .zip(["10.201.0.2", "10.201.0.3"])
            .map(|(name, ip)| crate::plan::ClusterNode {
                name: name.to_string(),
                ip: ip.parse().unwrap(),
            })
            .collect();
        crate::plan::nodes::with_node_sessions(&plan, &nodes)
    }

    #[test]
    fn cluster_faults_need_a_cluster_and_one_of_its_nodes() {
        let stop = |node: &str| Fault::NodeStop { node: node.into() };
        let speaker = |node: &str| Fault::SpeakerRestart { node: node.into() };
        let err = check(&plan(), &stop("bgp-worker")).unwrap_err();
        assert_eq!(
            err,
            "lab next-hop has no cluster: node and speaker faults need one (its routers: gw, frr1, bird1, client, server)"
        );
        let kind = cluster_plan(ClusterProvider::Kind);
        assert_eq!(check(&kind, &stop("bgp-worker")), Ok(()));
        assert_eq!(check(&kind, &speaker("bgp-control-plane")), Ok(()));
        assert_eq!(
            check(&kind, &speaker("bgp-worker2")).unwrap_err(),
            "lab bgp has no node `bgp-worker2` (nodes: bgp-control-plane, bgp-worker)"
        );
        let existing = cluster_plan(ClusterProvider::Existing);
        assert_eq!(
            check(&existing, &stop("bgp-worker")).unwrap_err(),
            "bgp-worker is a node of an existing cluster, not a container metallab runs: it cannot be stopped here"
        );
        assert_eq!(check(&existing, &speaker("bgp-worker")), Ok(()));
        let mut no_metallb = kind.clone();
        no_metallb.metallb = None;
        assert_eq!(
            check(&no_metallb, &speaker("bgp-worker")).unwrap_err(),
            "lab bgp does not deploy MetalLB: it has no speakers"
        );
        // The node's container is the node (kind, Minikube).
        assert_eq!(node_container("bgp-worker"), "bgp-worker");
        assert_eq!(stop("bgp-worker").describe(), "node bgp-worker stop");
        assert_eq!(
            speaker("bgp-worker").describe(),
            "speaker bgp-worker restart"
        );
        assert!(speaker("bgp-worker").is_one_shot() && !stop("bgp-worker").is_one_shot());
        assert!(stop("bgp-worker").same_place(&stop("bgp-worker")));
        assert_eq!(stop("bgp-worker").router(), None);
        assert!(apply_commands(kind.router("frr1").unwrap(), &stop("bgp-worker")).is_empty());
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
