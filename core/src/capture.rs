//! `metallab capture`: what tcpdump is asked to do, inside a router or on a lab network's
//! bridge from the host (pure; the app runs it and streams its output).

use std::net::IpAddr;
use std::time::Duration;

/// Where to capture inside a router: `ROUTER`, `ROUTER:NETWORK` (one of its lab
/// networks) or `ROUTER:IFACE` (an interface name such as `eth1` or `any`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub router: String,
    pub interface: Option<String>,
}

impl Target {
    pub fn parse(text: &str) -> Target {
        match text.split_once(':') {
            Some((router, interface)) if !interface.is_empty() => Target {
                router: router.to_string(),
                interface: Some(interface.to_string()),
            },
            _ => Target {
                router: text.trim_end_matches(':').to_string(),
                interface: None,
            },
        }
    }
}

/// How to find the interface inside the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interface {
    /// The interface that holds this address (a lab network's address: Docker names the
    /// interfaces in the order it attached them, which is not the topology's order).
    WithAddress { network: String, ip: IpAddr },
    /// An interface name given as is (`eth0`, `lo`, `any`).
    Named(String),
}

/// The interface `target` means on a router with these lab interfaces (network, address):
/// its only one by default, `any` when it has several.
pub fn interface_of(target: Option<&str>, interfaces: &[(String, IpAddr)]) -> Interface {
    match target {
        Some(name) => match interfaces.iter().find(|(network, _)| network == name) {
            Some((network, ip)) => Interface::WithAddress {
                network: network.clone(),
                ip: *ip,
            },
            None => Interface::Named(name.to_string()),
        },
        None => match interfaces {
            [(network, ip)] => Interface::WithAddress {
                network: network.clone(),
                ip: *ip,
            },
            _ => Interface::Named("any".into()),
        },
    }
}

/// The interface holding `ip` in `ip -o -4 addr show` output
/// (`3: eth1    inet 10.203.2.2/24 brd 10.203.2.255 scope global eth1\ …`).
pub fn interface_with_address(ip_addr_show: &str, ip: IpAddr) -> Option<String> {
    ip_addr_show.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let _index = words.next()?;
        let name = words.next()?;
        let _family = words.next()?;
        let address = words.next()?.split('/').next()?;
        (address.parse::<IpAddr>().ok()? == ip).then(|| name.trim_end_matches(':').to_string())
    })
}

/// What is captured and how it is written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capture {
    /// A tcpdump (pcap-filter) expression.
    pub filter: Option<String>,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Decoded lines instead of a pcap.
    pub text: bool,
}

impl Capture {
    /// tcpdump capturing on `interface`: a pcap on stdout (`-w -`, each packet flushed as
    /// it comes, `-U`), or decoded lines (`-l`: line-buffered). With a duration it runs
    /// under `timeout -s INT`, which tcpdump answers like Ctrl-C: it writes what it has
    /// and prints its counts.
    pub fn tcpdump(&self, interface: &str) -> Vec<String> {
        let mut argv: Vec<String> = Vec::new();
        if let Some(d) = self.duration {
            argv.extend([
                "timeout".into(),
                "-s".into(),
                "INT".into(),
                format!("{}", d.as_secs_f64()),
            ]);
        }
        argv.extend(["tcpdump".into(), "-i".into(), interface.into(), "-n".into()]);
        if self.text {
            argv.push("-l".into());
        } else {
            argv.extend(["-U".into(), "-w".into(), "-".into()]);
        }
        if let Some(count) = self.count {
            argv.extend(["-c".into(), count.to_string()]);
        }
        if let Some(filter) = &self.filter {
            argv.push(filter.clone());
        }
        argv
    }

    /// tcpdump compiling the filter without capturing (`-d`): its own message and a
    /// non-zero exit for a bad expression.
    pub fn filter_check(&self, interface: &str) -> Option<Vec<String>> {
        let filter = self.filter.as_ref()?;
        Some(
            ["tcpdump", "-i", interface, "-d", filter.as_str()]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        )
    }
}

/// Whether a tcpdump run ended as a capture should: by itself (a count reached) or by
/// the interrupt of the duration's `timeout` (124) or of the user (130, or killed by
/// SIGINT).
pub fn ended_well(exit_code: i64) -> bool {
    matches!(exit_code, 0 | 124 | 130)
}

/// The Linux bridge Docker made for a network: its `com.docker.network.bridge.name`
/// option, else `br-` and the first 12 characters of the network's id.
pub fn bridge_name(network_id: &str, bridge_option: Option<&str>) -> String {
    match bridge_option {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => format!("br-{}", &network_id[..network_id.len().min(12)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::ip;

    #[test]
    fn targets_name_a_router_and_maybe_an_interface() {
        assert_eq!(
            Target::parse("gw:right"),
            Target {
                router: "gw".into(),
                interface: Some("right".into())
            }
        );
        assert_eq!(Target::parse("frr1").interface, None);
        assert_eq!(Target::parse("frr1:").interface, None);
    }

    #[test]
    fn a_network_name_means_the_interface_holding_its_address() {
        let interfaces = vec![
            ("left".to_string(), ip("10.203.1.2")),
            ("right".to_string(), ip("10.203.2.2")),
        ];
        assert_eq!(
            interface_of(Some("right"), &interfaces),
            Interface::WithAddress {
                network: "right".into(),
                ip: ip("10.203.2.2")
            }
        );
        assert_eq!(
            interface_of(Some("eth0"), &interfaces),
            Interface::Named("eth0".into())
        );
        assert_eq!(
            interface_of(None, &interfaces),
            Interface::Named("any".into())
        );
        assert_eq!(
            interface_of(None, &interfaces[..1]),
            Interface::WithAddress {
                network: "left".into(),
                ip: ip("10.203.1.2")
            }
        );
        // As `ip -o -4 addr show` prints it in a two-legged container (iproute2 6.1).
        let shown = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n\
                     28: eth0    inet 10.203.2.2/24 brd 10.203.2.255 scope global eth0\\       valid_lft forever preferred_lft forever\n\
                     30: eth1    inet 10.203.1.2/24 brd 10.203.1.255 scope global eth1\\       valid_lft forever preferred_lft forever\n";
        assert_eq!(
            interface_with_address(shown, ip("10.203.1.2")).as_deref(),
            Some("eth1")
        );
        assert_eq!(interface_with_address(shown, ip("10.9.9.9")), None);
    }

    #[test]
    fn tcpdump_writes_a_flushed_pcap_or_lines_and_stops_by_count_or_time() {
        let pcap = Capture {
            filter: Some("tcp port 179".into()),
            count: Some(5),
            duration: Some(Duration::from_secs(8)),
            text: false,
        };
        assert_eq!(
            pcap.tcpdump("eth0").join(" "),
            "timeout -s INT 8 tcpdump -i eth0 -n -U -w - -c 5 tcp port 179"
        );
        let text = Capture {
            text: true,
            ..Capture::default()
        };
        assert_eq!(text.tcpdump("any").join(" "), "tcpdump -i any -n -l");
        assert_eq!(
            pcap.filter_check("eth0").unwrap(),
            ["tcpdump", "-i", "eth0", "-d", "tcp port 179"]
        );
        assert_eq!(text.filter_check("any"), None);
        assert!(ended_well(124) && ended_well(0) && !ended_well(1));
    }

    #[test]
    fn bridges_are_named_as_docker_names_them() {
        assert_eq!(bridge_name("0123456789abcdef", None), "br-0123456789ab");
        assert_eq!(bridge_name("0123456789abcdef", Some("lab0")), "lab0");
    }
}
