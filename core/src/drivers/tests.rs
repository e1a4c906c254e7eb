use super::*;
use crate::plan::model::StaticRoute;
use crate::render::fixtures::{self, joined};

// --- container ---------------------------------------------------------------------------

#[test]
fn containers_run_their_boot_script_and_pods_sleep() {
    let router = crate::render::fixtures::frr_ebgp();
    let command = boot::container_boot(&router, &[]).command;
    assert_eq!(command[..2], ["sh", "-c"]);
    assert!(command[2].ends_with("&& exec sh /etc/metallab/boot.sh"));
    assert_eq!(pod_command(), ["sleep", "infinity"]);
}

#[test]
fn only_frr_and_quagga_get_sys_admin() {
    assert_eq!(
        capabilities(crate::kinds::frr::KIND),
        ["NET_ADMIN", "NET_RAW", "SYS_ADMIN"]
    );
    assert_eq!(
        capabilities(crate::kinds::quagga::KIND),
        ["NET_ADMIN", "NET_RAW", "SYS_ADMIN"]
    );
    for kind in [
        crate::kinds::bird::KIND,
        crate::kinds::gobgp::KIND,
        crate::kinds::linux::KIND,
    ] {
        assert_eq!(capabilities(kind), ["NET_ADMIN", "NET_RAW"], "{kind}");
    }
}

#[test]
fn a_forwarding_host_forwards_without_reverse_path_filtering() {
    let s = sysctls(&fixtures::linux_hop());
    assert_eq!(s["net.ipv4.ip_forward"], "1");
    assert_eq!(s["net.ipv4.conf.all.rp_filter"], "0");
    assert_eq!(s["net.ipv4.conf.default.rp_filter"], "0");
}

#[test]
fn a_single_homed_stub_keeps_the_kernel_defaults_except_forwarding_and_redirects() {
    let s = sysctls(&fixtures::frr_ebgp());
    assert_eq!(s["net.ipv4.ip_forward"], "0");
    for scope in ["all", "default", "eth0"] {
        assert_eq!(s[&format!("net.ipv4.conf.{scope}.accept_redirects")], "0");
    }
    assert_eq!(s.len(), 4, "{s:?}");
}

#[test]
fn a_forwarding_host_sends_no_redirects_on_any_interface() {
    let s = sysctls(&fixtures::linux_hop());
    for scope in ["all", "default", "eth0", "eth1"] {
        assert_eq!(
            s[&format!("net.ipv4.conf.{scope}.send_redirects")],
            "0",
            "{scope}"
        );
    }
}

#[test]
fn static_routes_or_multihop_sessions_relax_rp_filter() {
    // frr3 has a static route and a multihop session.
    assert_eq!(
        sysctls(&fixtures::frr_multihop_bfd())["net.ipv4.conf.all.rp_filter"],
        "0"
    );
    let mut multihop_only = fixtures::frr_multihop_bfd();
    multihop_only.routes.clear();
    assert_eq!(sysctls(&multihop_only)["net.ipv4.conf.all.rp_filter"], "0");
    let mut routes_only = fixtures::frr_ebgp();
    routes_only.routes = vec![StaticRoute {
        to: "10.212.9.0/24".parse().unwrap(),
        via: "10.212.1.1".parse().unwrap(),
    }];
    assert_eq!(sysctls(&routes_only)["net.ipv4.conf.all.rp_filter"], "0");
}

// --- start commands ----------------------------------------------------------------------

#[test]
fn start_commands_per_kind() {
    insta::assert_yaml_snapshot!(
        "start_frr_multihop",
        start_commands(&fixtures::frr_multihop_bfd())
    );
    insta::assert_yaml_snapshot!(
        "start_bird_multihop",
        start_commands(&fixtures::bird_multihop_bfd())
    );
    insta::assert_yaml_snapshot!("start_gobgp", start_commands(&fixtures::gobgp_ebgp()));
    insta::assert_yaml_snapshot!("start_quagga", start_commands(&fixtures::quagga_ebgp()));
    insta::assert_yaml_snapshot!("start_linux_http", start_commands(&fixtures::linux_hop()));
}

#[test]
fn start_commands_run_arp_then_routes_then_daemon_then_announcements_then_http_then_exec() {
    let mut r = fixtures::gobgp_ebgp();
    r.routes = vec![StaticRoute {
        to: "10.212.9.0/24".parse().unwrap(),
        via: "10.212.1.1".parse().unwrap(),
    }];
    r.http_server = Some(80);
    r.exec = vec!["echo one".into(), "touch /tmp/two".into()];
    // GoBGP's daemon command ends with the first announcement; the others follow it.
    r.announce.push("203.0.113.32/28".parse().unwrap());
    let commands = joined(&start_commands(&r));
    assert_eq!(commands.len(), 7, "{commands:#?}");
    assert!(
        commands[0].contains("busybox arping -q -U"),
        "{}",
        commands[0]
    );
    assert_eq!(commands[1], "ip route replace 10.212.9.0/24 via 10.212.1.1");
    assert!(commands[2].starts_with("sh -c gobgpd -f /etc/gobgp/gobgpd.toml"));
    assert!(commands[2].contains("gobgp global rib add -a ipv4 203.0.113.16/28 origin igp"));
    assert_eq!(
        commands[3],
        "gobgp global rib add -a ipv4 203.0.113.32/28 origin igp"
    );
    assert_eq!(commands[4], "busybox httpd -p 80 -h /var/www/metallab");
    assert_eq!(commands[5], "sh -c echo one");
    assert_eq!(commands[6], "sh -c touch /tmp/two");
}

#[test]
fn only_gobgp_announces_by_command() {
    for r in [
        fixtures::frr_ebgp(),
        fixtures::bird_ebgp(),
        fixtures::quagga_ebgp(),
    ] {
        assert!(
            !joined(&start_commands(&r))
                .iter()
                .any(|c| c.contains("rib add")),
            "{}",
            r.name
        );
    }
}

#[test]
fn a_linux_host_without_extras_only_announces_its_addresses() {
    let mut r = fixtures::linux_hop();
    r.http_server = None;
    let commands = start_commands(&r);
    assert_eq!(commands.len(), 1);
    assert_eq!(Some(commands[0].clone()), address_announcement(&r));
    assert_eq!(ready_command(crate::kinds::linux::KIND), None);
}

#[test]
fn each_ipv4_address_is_announced_on_its_interface_and_never_fails_the_boot() {
    let mut r = fixtures::linux_hop();
    let v6 = crate::plan::model::PlannedInterface {
        network: "v6".into(),
        docker_network: "lab-v6".into(),
        ip: "2001:db8::5".parse().unwrap(),
        prefix_len: 64,
    };
    r.interfaces.insert(0, v6);
    let command = address_announcement(&r).unwrap();
    assert_eq!(command[..2], ["sh", "-c"]);
    let script = &command[2];
    assert!(script.starts_with("command -v busybox >/dev/null || exit 0; "));
    assert!(script.ends_with("; exit 0"));
    // eth0 is the IPv6-only network: not announced; the others keep their eth numbers.
    for (n, i) in r.interfaces.iter().enumerate().skip(1) {
        let arp = format!(
            "busybox arping -q -U -c 1 -I eth{n} -s {ip} {ip}",
            ip = i.ip
        );
        assert!(script.contains(&arp), "{script}");
    }
    assert!(!script.contains("eth0"), "{script}");
    // Nothing to announce: no command at all.
    r.interfaces.truncate(1);
    assert_eq!(address_announcement(&r), None);
    // In the cluster a router has a Service address, not an interface of its own.
    let mut pod = fixtures::linux_hop();
    pod.placement = crate::topology::model::Placement::Cluster;
    assert_eq!(address_announcement(&pod), None);
}

// --- readiness (outputs recorded from the real daemons in the metallab-dev images) --------

#[test]
fn ready_commands_per_kind() {
    assert_eq!(
        ready_command(crate::kinds::frr::KIND).unwrap().join(" "),
        "vtysh -c show daemons"
    );
    assert_eq!(
        ready_command(crate::kinds::bird::KIND).unwrap().join(" "),
        "birdc show status"
    );
    assert_eq!(
        ready_command(crate::kinds::gobgp::KIND).unwrap().join(" "),
        "gobgp global"
    );
    assert!(ready_command(crate::kinds::quagga::KIND).unwrap()[2].contains("vtysh -d bgpd"));
}
