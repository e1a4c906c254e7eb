//! The Docker edge against the real engine: networks, multi-network containers with static
//! addresses, exec, uploads, logs, image builds.
//!
//! Every resource carries a lab label unique to the test and the process
//! (`io.metallab.lab=scratch-runtime-<pid>-<test>`), and a guard removes everything with
//! that label when the test ends, failed assertions included. Networks are internal and
//! live in 10.213.0.0/16.
//!
//! Without a Docker engine these tests print why and pass, except when `CI` or
//! `METALLAB_REQUIRE_DOCKER` is set: then a missing engine fails them.

use metallab::plan::model::labels;
use metallab::runtime::docker::{BuildSpec, ContainerSpec, DockerRuntime, NetworkSpec};
use metallab::runtime::error::ResourceKind;
use metallab::runtime::{RuntimeError, images};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Duration;

const EXEC_TIMEOUT: Duration = Duration::from_secs(30);

fn docker_required() -> bool {
    ["CI", "METALLAB_REQUIRE_DOCKER"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"))
}

/// The engine, or `None` (with the reason printed) when there is none and none is required.
async fn engine(test: &str) -> Option<DockerRuntime> {
    match DockerRuntime::connect().await {
        Ok(rt) => Some(rt),
        Err(err) if docker_required() => panic!(
            "{test}: a Docker engine is required here (CI / METALLAB_REQUIRE_DOCKER) but: {err}\nhint: {}",
            err.hint().unwrap_or_default()
        ),
        Err(err) => {
            eprintln!("SKIPPED {test}: no Docker engine ({err})");
            None
        }
    }
}

/// Removes everything carrying this test's lab label when dropped, even after a panic.
struct Scratch {
    lab: String,
}

impl Scratch {
    fn new(test: &str) -> Self {
        Scratch {
            lab: format!("scratch-runtime-{}-{test}", std::process::id()),
        }
    }

    fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(labels::LAB.to_string(), self.lab.clone())])
    }

    /// A Docker object name unique to this test run.
    fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.lab)
    }

    fn filter(&self) -> [(&'static str, Option<&str>); 1] {
        [(labels::LAB, Some(self.lab.as_str()))]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let lab = self.lab.clone();
        // The test's own runtime may be gone or mid-panic: clean up on a fresh one.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(remove_labelled(&lab));
        });
        let _ = cleanup.join();
    }
}

async fn remove_labelled(lab: &str) {
    let Ok(rt) = DockerRuntime::connect().await else {
        return;
    };
    let filter = [(labels::LAB, Some(lab))];
    for c in rt.list_containers(&filter, true).await.unwrap_or_default() {
        if let Err(e) = rt.remove_container(&c.id, true, true).await {
            eprintln!("cleanup: container {}: {e}", c.name);
        }
    }
    for n in rt.list_networks(&filter).await.unwrap_or_default() {
        if let Err(e) = rt.remove_network(&n.id).await {
            eprintln!("cleanup: network {}: {e}", n.name);
        }
    }
    for i in rt.list_images(&filter).await.unwrap_or_default() {
        if let Err(e) = rt.remove_image(&i.id, true).await {
            eprintln!("cleanup: image {}: {e}", i.id);
        }
    }
}

/// Creates an internal /24 in 10.213.0.0/16 that overlaps nothing, skipping taken ones
/// (other tests of this run, other runs).
async fn create_scratch_network(
    rt: &DockerRuntime,
    scratch: &Scratch,
    suffix: &str,
) -> NetworkSpec {
    let start = (std::process::id() as usize * 7 + suffix.len() * 31) % 250;
    for offset in 0..250 {
        let third = ((start + offset) % 250 + 1) as u8;
        let spec = NetworkSpec {
            name: scratch.name(suffix),
            subnet: format!("10.213.{third}.0/24").parse().unwrap(),
            gateway: Ipv4Addr::new(10, 213, third, 1),
            internal: true,
            labels: scratch.labels(),
            ip_range: None,
        };
        match rt.create_network(&spec).await {
            Ok(_) => return spec,
            Err(RuntimeError::SubnetOverlap { .. }) => continue,
            Err(e) => panic!("creating {}: {e}", spec.name),
        }
    }
    panic!("no free /24 left in 10.213.0.0/16")
}

/// An address on a scratch network: `10.213.x.<host>`.
fn host(spec: &NetworkSpec, host: u8) -> Ipv4Addr {
    let [a, b, c, _] = spec.subnet.network().octets();
    Ipv4Addr::new(a, b, c, host)
}

/// An image with iproute2: metallab's current linux image, the dev one, else build it.
async fn image_with_iproute(rt: &DockerRuntime) -> String {
    let current =
        images::image_tag(metallab::kinds::linux::KIND, images::DEFAULT_BASE_IMAGE).unwrap();
    for candidate in [current.as_str(), "metallab-dev/linux"] {
        if rt.image_exists(candidate).await.unwrap() {
            return candidate.to_string();
        }
    }
    images::ensure_image(
        rt,
        metallab::kinds::linux::KIND,
        images::DEFAULT_BASE_IMAGE,
        false,
        |line| eprintln!("build: {line}"),
    )
    .await
    .expect("building the linux router image")
}

async fn sh(rt: &DockerRuntime, container: &str, script: &str) -> String {
    let out = rt
        .exec(container, &["sh", "-c", script], EXEC_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(out.exit_code, 0, "`{script}` failed: {out:?}");
    out.stdout
}

#[tokio::test]
async fn networks_containers_exec_files_and_logs_on_the_real_engine() {
    let Some(rt) = engine("networks_containers_exec_files_and_logs_on_the_real_engine").await
    else {
        return;
    };
    let scratch = Scratch::new("e2e");
    let image = image_with_iproute(&rt).await;

    // Networks: internal, with subnets; duplicates and overlaps are refused distinctly.
    let net_a = create_scratch_network(&rt, &scratch, "a").await;
    let net_b = create_scratch_network(&rt, &scratch, "b").await;
    let again = rt.create_network(&net_a).await.unwrap_err();
    assert!(
        matches!(&again, RuntimeError::AlreadyExists { kind: ResourceKind::Network, name, .. } if *name == net_a.name),
        "{again}"
    );
    let overlapping = NetworkSpec {
        name: scratch.name("overlap"),
        ..net_a.clone()
    };
    match rt.create_network(&overlapping).await.unwrap_err() {
        RuntimeError::SubnetOverlap { conflicts, .. } => {
            assert!(
                conflicts.iter().any(|c| c.network == net_a.name),
                "the overlap should name {}: {conflicts:?}",
                net_a.name
            )
        }
        other => panic!("expected SubnetOverlap, got {other}"),
    }
    let inspected = rt
        .inspect_network(&net_a.name)
        .await
        .unwrap()
        .expect("network a exists");
    assert_eq!(inspected.subnets, vec![ipnet::IpNet::V4(net_a.subnet)]);
    assert!(inspected.internal);
    assert_eq!(inspected.labels.get(labels::LAB), Some(&scratch.lab));

    // A container on both networks with static addresses, created but not started.
    let (ip_a, ip_b) = (host(&net_a, 10), host(&net_b, 20));
    let container = scratch.name("box");
    let spec = ContainerSpec {
        name: container.clone(),
        image: image.clone(),
        hostname: Some("box".into()),
        labels: scratch.labels(),
        cmd: Some(
            [
                "sh",
                "-c",
                "echo to-stderr >&2; sleep 1; echo one; echo two; exec sleep infinity",
            ]
            .map(String::from)
            .to_vec(),
        ),
        cap_add: vec!["NET_ADMIN".into(), "NET_RAW".into()],
        sysctls: BTreeMap::from([("net.ipv4.ip_forward".to_string(), "1".to_string())]),
        init: true,
        networks: vec![
            (net_a.name.clone(), Some(IpAddr::V4(ip_a))),
            (net_b.name.clone(), Some(IpAddr::V4(ip_b))),
        ],
        env: vec!["METALLAB_TEST=yes".into()],
    };
    rt.create_container(&spec).await.unwrap();
    let created = rt
        .inspect_container(&container)
        .await
        .unwrap()
        .expect("created");
    assert_eq!(created.state, "created");
    assert!(!created.running);
    assert_eq!(created.image, image);
    let expected_networks = BTreeMap::from([
        (net_a.name.clone(), Some(ip_a)),
        (net_b.name.clone(), Some(ip_b)),
    ]);
    assert_eq!(
        created.networks, expected_networks,
        "static addresses before start"
    );

    // Files can go in before the start, as rendered configs do.
    let config = (
        "/etc/metallab/early.conf".to_string(),
        b"early\n".to_vec(),
        0o644,
    );
    rt.upload_files(&container, &[config]).await.unwrap();

    rt.start_container(&container).await.unwrap();
    assert_eq!(
        sh(&rt, &container, "cat /etc/metallab/early.conf").await,
        "early\n"
    );
    let running = rt.inspect_container(&container).await.unwrap().unwrap();
    assert!(running.running);
    assert_eq!(running.networks, expected_networks);

    // Both addresses are really on the container's interfaces.
    let addrs = sh(&rt, &container, "ip -4 -o addr show").await;
    assert!(addrs.contains(&format!("inet {ip_a}/24")), "{addrs}");
    assert!(addrs.contains(&format!("inet {ip_b}/24")), "{addrs}");
    assert_eq!(
        sh(&rt, &container, "cat /proc/sys/net/ipv4/ip_forward").await,
        "1\n"
    );
    assert_eq!(
        sh(&rt, &container, "hostname; echo $METALLAB_TEST").await,
        "box\nyes\n"
    );

    // exec: stdout and stderr apart, the exit code, missing containers, timeouts.
    let out = rt
        .exec(
            &container,
            &["sh", "-c", "echo out; echo err >&2; exit 3"],
            EXEC_TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(
        (out.exit_code, out.stdout.as_str(), out.stderr.as_str()),
        (3, "out\n", "err\n")
    );
    assert!(!out.success());
    let missing = rt
        .exec(&scratch.name("nope"), &["true"], EXEC_TIMEOUT)
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    match rt
        .exec(
            &container,
            &["sh", "-c", "echo started; exec sleep 30"],
            Duration::from_secs(2),
        )
        .await
        .unwrap_err()
    {
        RuntimeError::ExecTimeout {
            partial, command, ..
        } => {
            assert_eq!(partial.stdout, "started\n");
            assert_eq!(command, "sh -c 'echo started; exec sleep 30'");
        }
        other => panic!("expected ExecTimeout, got {other}"),
    }

    // Uploads: nested missing directories are created, modes kept, /tmp left alone.
    let files = vec![
        (
            "/opt/metallab/a/b/c/hello.txt".to_string(),
            b"hello\nworld\n".to_vec(),
            0o640,
        ),
        ("/tmp/upload.conf".to_string(), b"x=1\n".to_vec(), 0o600),
    ];
    rt.upload_files(&container, &files).await.unwrap();
    assert_eq!(
        sh(&rt, &container, "cat /opt/metallab/a/b/c/hello.txt").await,
        "hello\nworld\n"
    );
    assert_eq!(
        sh(&rt, &container, "stat -c '%a %U' /opt/metallab/a/b/c/hello.txt /tmp/upload.conf /opt/metallab/a/b/c /tmp").await,
        "640 root\n600 root\n755 root\n1777 root\n"
    );

    // Listing by label: the container with its addresses, both networks with it attached.
    let listed = rt.list_containers(&scratch.filter(), false).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].name, container);
    assert_eq!(listed[0].networks, expected_networks);
    assert_eq!(listed[0].labels.get(labels::LAB), Some(&scratch.lab));
    let networks = rt.list_networks(&scratch.filter()).await.unwrap();
    assert_eq!(
        networks.iter().map(|n| n.name.clone()).collect::<Vec<_>>(),
        vec![net_a.name.clone(), net_b.name.clone()]
    );
    assert_eq!(networks[0].containers.get(&container), Some(&Some(ip_a)));
    assert_eq!(networks[1].containers.get(&container), Some(&Some(ip_b)));
    // A label that nothing carries lists nothing.
    let other_lab = [(labels::LAB, Some("scratch-runtime-nobody"))];
    assert!(
        rt.list_containers(&other_lab, true)
            .await
            .unwrap()
            .is_empty()
    );

    // Breaking and restoring a link.
    rt.disconnect_network(&container, &net_b.name)
        .await
        .unwrap();
    let cut = rt.inspect_container(&container).await.unwrap().unwrap();
    assert_eq!(cut.networks.keys().collect::<Vec<_>>(), vec![&net_a.name]);
    assert!(
        !sh(&rt, &container, "ip -4 -o addr show")
            .await
            .contains(&ip_b.to_string())
    );
    rt.connect_network(&container, &net_b.name, Some(IpAddr::V4(ip_b)))
        .await
        .unwrap();
    let restored = rt.inspect_container(&container).await.unwrap().unwrap();
    assert_eq!(restored.networks, expected_networks);
    assert!(
        sh(&rt, &container, "ip -4 -o addr show")
            .await
            .contains(&format!("inet {ip_b}/24"))
    );

    // Detached exec: returns at once, runs on, its state is queryable.
    let exec_id = rt
        .exec_detached(
            &container,
            &["sh", "-c", "echo detached > /tmp/detached; exit 4"],
        )
        .await
        .unwrap();
    let mut state = rt.exec_state(&exec_id).await.unwrap();
    for _ in 0..200 {
        if !state.running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        state = rt.exec_state(&exec_id).await.unwrap();
    }
    assert_eq!(state.exit_code, Some(4), "{state:?}");
    assert_eq!(sh(&rt, &container, "cat /tmp/detached").await, "detached\n");

    // Logs: stdout and stderr of the main process; tail limits the lines. Docker orders
    // lines of the two streams only as its copiers deliver them, hence the second between
    // the stderr line and the stdout lines in the container's command.
    let mut logs = rt.logs(&container, None).await.unwrap();
    for _ in 0..100 {
        if logs.contains("two") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        logs = rt.logs(&container, None).await.unwrap();
    }
    assert_eq!(
        logs.lines().collect::<Vec<_>>(),
        vec!["to-stderr", "one", "two"],
        "{logs}"
    );
    assert_eq!(rt.logs(&container, Some(1)).await.unwrap(), "two\n");

    // Stop keeps the configured addresses visible; remove makes everything go.
    rt.stop_container(&container, Duration::from_secs(5))
        .await
        .unwrap();
    let stopped = rt.inspect_container(&container).await.unwrap().unwrap();
    assert!(!stopped.running);
    assert_eq!(stopped.state, "exited");
    assert_eq!(stopped.networks, expected_networks);
    let not_running = rt
        .exec(&container, &["true"], EXEC_TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        matches!(not_running, RuntimeError::Conflict { .. }),
        "{not_running}"
    );
    rt.stop_container(&container, Duration::from_secs(5))
        .await
        .unwrap();

    rt.remove_container(&container, true, true).await.unwrap();
    assert_eq!(rt.inspect_container(&container).await.unwrap(), None);
    let gone = rt
        .remove_container(&container, true, true)
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    for net in [&net_a, &net_b] {
        rt.remove_network(&net.name).await.unwrap();
        assert_eq!(rt.inspect_network(&net.name).await.unwrap(), None);
    }
    let gone = rt.remove_network(&net_a.name).await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn a_container_whose_second_network_fails_is_not_left_behind() {
    let Some(rt) = engine("a_container_whose_second_network_fails_is_not_left_behind").await else {
        return;
    };
    let scratch = Scratch::new("rollback");
    let image = image_with_iproute(&rt).await;
    let net_a = create_scratch_network(&rt, &scratch, "ra").await;
    let net_b = create_scratch_network(&rt, &scratch, "rb").await;
    let container = scratch.name("half");
    let missing_network = scratch.name("missing");
    let spec = ContainerSpec {
        name: container.clone(),
        image: image.clone(),
        labels: scratch.labels(),
        networks: vec![
            (net_a.name.clone(), Some(IpAddr::V4(host(&net_a, 10)))),
            (missing_network.clone(), None),
        ],
        ..Default::default()
    };
    match rt.create_container(&spec).await.unwrap_err() {
        RuntimeError::NotFound {
            kind: ResourceKind::Network,
            name,
            ..
        } => {
            assert_eq!(name, missing_network)
        }
        other => panic!("expected the missing network, got {other}"),
    }
    assert_eq!(rt.inspect_container(&container).await.unwrap(), None);

    // An address outside its network's subnet is refused before anything is created
    // (old engines would accept it and fail only at start).
    let misplaced = ContainerSpec {
        name: scratch.name("misplaced"),
        networks: vec![
            (net_a.name.clone(), Some(IpAddr::V4(host(&net_a, 10)))),
            (net_b.name.clone(), Some(IpAddr::V4(host(&net_a, 11)))),
        ],
        ..spec.clone()
    };
    match rt.create_container(&misplaced).await.unwrap_err() {
        RuntimeError::AddressOutsideNetwork {
            network,
            ip,
            subnets,
            ..
        } => {
            assert_eq!(network, net_b.name);
            assert_eq!(ip, IpAddr::V4(host(&net_a, 11)));
            assert_eq!(subnets, vec![ipnet::IpNet::V4(net_b.subnet)]);
        }
        other => panic!("expected AddressOutsideNetwork, got {other}"),
    }
    assert_eq!(rt.inspect_container(&misplaced.name).await.unwrap(), None);

    // Two containers asking for the same address: the second fails when it starts.
    let first = ContainerSpec {
        name: scratch.name("first"),
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        networks: vec![(net_b.name.clone(), Some(IpAddr::V4(host(&net_b, 30))))],
        ..spec.clone()
    };
    let second = ContainerSpec {
        name: scratch.name("second"),
        ..first.clone()
    };
    rt.create_container(&first).await.unwrap();
    rt.start_container(&first.name).await.unwrap();
    rt.create_container(&second).await.unwrap();
    let taken = rt.start_container(&second.name).await.unwrap_err();
    assert!(taken.to_string().contains(&second.name), "{taken}");
    assert!(
        taken
            .to_string()
            .to_lowercase()
            .contains("address already in use"),
        "{taken}"
    );
    assert_eq!(
        taken.hint().as_deref(),
        Some("another container already has this IP on that network")
    );

    // A missing image is reported as the image, not the container.
    let no_image = ContainerSpec {
        name: scratch.name("noimage"),
        image: "metallab-scratch/does-not-exist:never".into(),
        labels: scratch.labels(),
        networks: vec![(net_a.name.clone(), None)],
        ..Default::default()
    };
    match rt.create_container(&no_image).await.unwrap_err() {
        RuntimeError::NotFound {
            kind: ResourceKind::Image,
            name,
            ..
        } => {
            assert_eq!(name, "metallab-scratch/does-not-exist:never")
        }
        other => panic!("expected a missing image, got {other}"),
    }
}

#[tokio::test]
async fn images_build_from_an_in_memory_context() {
    let Some(rt) = engine("images_build_from_an_in_memory_context").await else {
        return;
    };
    if !rt.image_exists(images::DEFAULT_BASE_IMAGE).await.unwrap() {
        assert!(
            !docker_required(),
            "the base image {} is missing (scripts/test makes it)",
            images::DEFAULT_BASE_IMAGE
        );
        eprintln!(
            "SKIPPED images_build_from_an_in_memory_context: no {} image",
            images::DEFAULT_BASE_IMAGE
        );
        return;
    }
    let scratch = Scratch::new("build");
    let tag = format!("metallab-scratch/runtime-{}:test", std::process::id());
    let dockerfile =
        b"ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY greeting.txt /greeting.txt\nRUN echo hi > /x\n";
    let context: [(&str, &[u8]); 2] = [("Dockerfile", dockerfile), ("greeting.txt", b"hello\n")];
    let mut labels = scratch.labels();
    labels.insert("io.metallab.test".into(), "runtime-build".into());
    let spec = BuildSpec {
        tag: &tag,
        context: &context,
        build_args: BTreeMap::from([(
            "BASE_IMAGE".to_string(),
            images::DEFAULT_BASE_IMAGE.to_string(),
        )]),
        labels,
        no_cache: true,
    };
    let lines = Mutex::new(Vec::new());
    let built = rt
        .build_image(&spec, |line| lines.lock().unwrap().push(line.to_string()))
        .await
        .unwrap();
    assert_eq!(built, tag);
    let lines = lines.into_inner().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("RUN echo hi > /x")),
        "{lines:#?}"
    );
    assert!(rt.image_exists(&tag).await.unwrap());

    let listed = rt.list_images(&scratch.filter()).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].tags, vec![tag.clone()]);
    assert_eq!(
        listed[0].labels.get("io.metallab.test").map(String::as_str),
        Some("runtime-build")
    );

    // The image holds what the context and the RUN step put there.
    let container = scratch.name("built");
    rt.create_container(&ContainerSpec {
        name: container.clone(),
        image: tag.clone(),
        labels: scratch.labels(),
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        init: true,
        ..Default::default()
    })
    .await
    .unwrap();
    rt.start_container(&container).await.unwrap();
    assert_eq!(
        sh(&rt, &container, "cat /x /greeting.txt").await,
        "hi\nhello\n"
    );
    rt.remove_container(&container, true, true).await.unwrap();

    // A failing step is an error carrying Docker's message and the last output lines.
    let failing_tag = format!("metallab-scratch/runtime-{}:failing", std::process::id());
    let failing: [(&str, &[u8]); 1] = [(
        "Dockerfile",
        b"ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo about-to-fail && false\n",
    )];
    let err = rt
        .build_image(
            &BuildSpec {
                tag: &failing_tag,
                context: &failing,
                labels: scratch.labels(),
                build_args: spec.build_args.clone(),
                no_cache: true,
            },
            |_| {},
        )
        .await
        .unwrap_err();
    match &err {
        RuntimeError::BuildFailed {
            message,
            last_lines,
            hint,
            ..
        } => {
            assert!(message.contains("returned a non-zero code: 1"), "{message}");
            assert!(
                last_lines.iter().any(|l| l.contains("about-to-fail")),
                "{last_lines:?}"
            );
            assert!(
                hint.as_deref().unwrap_or_default().contains("RUN step"),
                "{hint:?}"
            );
        }
        other => panic!("expected BuildFailed, got {other}"),
    }
    assert!(!rt.image_exists(&failing_tag).await.unwrap());

    rt.remove_image(&tag, false).await.unwrap();
    assert!(!rt.image_exists(&tag).await.unwrap());
}

#[tokio::test]
async fn engine_version_is_negotiated_down_to_the_engine() {
    let Some(rt) = engine("engine_version_is_negotiated_down_to_the_engine").await else {
        return;
    };
    let version = rt.version().await.unwrap();
    assert!(!version.server_version.is_empty());
    // The client never speaks a newer API than the engine.
    let parse = |v: &str| -> (u32, u32) {
        let (major, minor) = v.split_once('.').unwrap();
        (major.parse().unwrap(), minor.parse().unwrap())
    };
    assert!(
        parse(&version.client_api_version) <= parse(&version.api_version),
        "{version:?}"
    );
    assert!(version.to_string().contains(&version.server_version));
}

/// metallab's own linux image: built from the embedded context when missing (CI builds
/// it beforehand), then found by tag without a rebuild, and listed as current.
/// The image is kept: it is the one `metallab up` uses.
#[tokio::test]
async fn the_linux_router_image_is_built_once_and_listed_as_current() {
    let Some(rt) = engine("the_linux_router_image_is_built_once_and_listed_as_current").await
    else {
        return;
    };
    let expected =
        images::image_tag(metallab::kinds::linux::KIND, images::DEFAULT_BASE_IMAGE).unwrap();
    let tag = images::ensure_image(
        &rt,
        metallab::kinds::linux::KIND,
        images::DEFAULT_BASE_IMAGE,
        false,
        |line| eprintln!("build: {line}"),
    )
    .await
    .unwrap();
    assert_eq!(tag, expected);

    let rebuilt_lines = Mutex::new(0usize);
    let again = images::ensure_image(
        &rt,
        metallab::kinds::linux::KIND,
        images::DEFAULT_BASE_IMAGE,
        false,
        |_| *rebuilt_lines.lock().unwrap() += 1,
    )
    .await
    .unwrap();
    assert_eq!(again, tag);
    assert_eq!(
        rebuilt_lines.into_inner().unwrap(),
        0,
        "an existing tag must not be rebuilt"
    );

    let listed = images::list_images(&rt).await.unwrap();
    let ours = listed
        .iter()
        .find(|i| i.tags.contains(&tag))
        .unwrap_or_else(|| panic!("{tag} not listed: {listed:?}"));
    assert_eq!(ours.kind, "linux");
    assert_eq!(ours.base_image, images::DEFAULT_BASE_IMAGE);
    assert!(ours.current);
}
