//! Starting a router's daemons against the real engine and the real FRR: the router's boot
//! script, run as `up` runs it (the container's command, followed on its output), accepts
//! metallab's rendered config and reports a config the daemon refuses, naming every
//! refused line.
//!
//! FRR's own start script exits 0 when a line of frr.conf is refused (the line is dropped
//! and only logged), so a router built from an image whose FRR lacks a command metallab
//! renders would come up silently without it. The refused line here (`maximum-pathz`)
//! stands for such a command.
//!
//! Everything carries `io.metallab.lab=h-start` plus a per-run marker, lives in
//! 10.232.0.0/16 on an internal network, and is removed by a guard when the test ends.

mod support;

use metallab::drivers;
use metallab::plan::build;
use metallab::runtime::docker::DockerRuntime;
use metallab::runtime::images::{DEFAULT_BASE_IMAGE, ensure_image};
use metallab::runtime::router_start as lifecycle;
use metallab::topology::load::parse_and_validate;
use std::path::Path;
use std::time::Duration;
use support::{Scratch, engine};

const LAB: &str = "h-start";

const TOPOLOGY: &str = "\
name: h-start
networks: { lan: { subnet: 10.232.0.0/24 } }
routers:
  frr1:
    kind: frr
    asn: 64501
    interfaces: { lan: { ip: 10.232.0.2 } }
    announce: [192.0.2.0/24]
    neighbors: [{ to: 10.232.0.3, asn: 64502 }]
";

/// Creates the router's container as `up` does (on a scratch network), its command
/// writing `frr_conf` with the rest of its rendered files, starts it and follows its boot.
async fn start_with(
    rt: &DockerRuntime,
    scratch: &Scratch,
    image: &str,
    suffix: &str,
    edit_frr_conf: impl Fn(&str) -> String,
) -> Result<(), lifecycle::StartFailure<metallab::runtime::RuntimeError>> {
    start_with_capabilities(rt, scratch, image, suffix, edit_frr_conf, |caps| caps).await
}

/// [`start_with`], the container given the capabilities `capabilities` makes of the
/// router's.
async fn start_with_capabilities(
    rt: &DockerRuntime,
    scratch: &Scratch,
    image: &str,
    suffix: &str,
    edit_frr_conf: impl Fn(&str) -> String,
    capabilities: impl Fn(Vec<String>) -> Vec<String>,
) -> Result<(), lifecycle::StartFailure<metallab::runtime::RuntimeError>> {
    let topology = parse_and_validate("lab.yaml", TOPOLOGY).expect("the topology is valid");
    let plan = build::build(&topology, "lab.yaml", Path::new("."));
    let router = &plan.routers[0];
    let network = scratch.network(rt, 232, suffix).await;
    let files: Vec<metallab::kinds::ConfigFile> = metallab::render::render_router(router)
        .unwrap()
        .into_iter()
        .map(|mut f| {
            if f.path == metallab::kinds::frr::paths::CONF {
                f.contents = edit_frr_conf(&f.contents);
            }
            f
        })
        .collect();
    let boot = drivers::boot::container_boot(router, &files);
    assert!(!boot.upload, "the files fit in the command");
    let mut spec = metallab::engine::up::container_spec(&plan, router, image, boot.command);
    spec.name = scratch.name(suffix);
    spec.labels = scratch.labels(&[]);
    spec.networks = vec![(network.name.clone(), None)];
    spec.cap_add = capabilities(spec.cap_add);
    rt.create_container(&spec).await.unwrap();
    let output = rt.start_attached(&spec.name).await.unwrap();
    lifecycle::follow_boot(router, output, Duration::from_secs(60), |_| {}, || {}).await
}

/// What `vtysh -c COMMAND` prints in `container`.
async fn vtysh(rt: &DockerRuntime, container: &str, command: &str) -> String {
    rt.exec(
        container,
        &["vtysh", "-c", command],
        Duration::from_secs(10),
    )
    .await
    .unwrap()
    .stdout
}

#[tokio::test]
async fn frr_starts_with_its_rendered_config_and_a_refused_line_fails_the_start_by_name() {
    let Some(rt) = engine("frr_refused_config").await else {
        return;
    };
    let image = ensure_image(
        &rt,
        metallab::kinds::frr::KIND,
        DEFAULT_BASE_IMAGE,
        false,
        |_| {},
    )
    .await
    .expect("metallab's FRR image builds");
    let scratch = Scratch::new(LAB);

    // The config as rendered loads and the daemons answer, watched by watchfrr.
    if let Err(e) = start_with(&rt, &scratch, &image, "good", str::to_string).await {
        panic!("the rendered config should start: {e:?}");
    }
    let daemons = vtysh(&rt, &scratch.name("good"), "show daemons").await;
    let answering: Vec<&str> = daemons.split_whitespace().collect();
    for daemon in ["zebra", "staticd", "bgpd", "bfdd", "watchfrr"] {
        assert!(answering.contains(&daemon), "{daemons}");
    }
    let config = vtysh(&rt, &scratch.name("good"), "show running-config bgpd").await;
    assert!(
        config.contains("network 192.0.2.0/24"),
        "frr.conf was loaded: {config}"
    );

    // A daemon that cannot start (zebra without SYS_ADMIN, which FRR's privileges need)
    // fails the first start command at once, in its own words, rather than leaving the
    // boot to wait for an answer that does not come.
    let without_sys_admin =
        start_with_capabilities(&rt, &scratch, &image, "nocap", str::to_string, |caps| {
            caps.into_iter().filter(|c| c != "SYS_ADMIN").collect()
        })
        .await;
    match without_sys_admin {
        Err(lifecycle::StartFailure::CommandFailed {
            command, output, ..
        }) => {
            assert!(command.contains("for d in zebra"), "{command}");
            assert!(output.contains("FRR's zebra did not start"), "{output}");
            assert!(
                output.contains("cap_sys_admin"),
                "FRR's own words: {output}"
            );
        }
        other => panic!("expected zebra's start to fail, got {other:?}"),
    }

    // Two lines FRR refuses, after `router bgp`: the start fails on loading the config and
    // the failure names both, with their line numbers.
    let refused = start_with(&rt, &scratch, &image, "bad", |conf| {
        conf.replacen(
            "router bgp 64501\n",
            "router bgp 64501\n maximum-pathz 64\n neighbor 10.232.0.3 bogus-option\n",
            1,
        )
    })
    .await;
    match refused {
        Err(lifecycle::StartFailure::CommandFailed {
            command, output, ..
        }) => {
            assert_eq!(command, "vtysh -b");
            let lines: Vec<&str> = output.lines().map(str::trim).collect();
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with("line ") && l.ends_with("maximum-pathz 64")),
                "{output}"
            );
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with("line ") && l.ends_with("bogus-option")),
                "{output}"
            );
        }
        other => panic!("expected `vtysh -b` to refuse the config, got {other:?}"),
    }
}
