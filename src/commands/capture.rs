//! `metallab capture`: tcpdump inside a router (through `docker exec`), or on a lab
//! network's bridge from the host; a pcap to a file or stdout, or tcpdump's lines.

use super::{Failure, Result, running_plan, unknown_router};
use crate::capture::{Capture, Interface, Target, bridge_name, ended_well, interface_of};
use crate::cli::CaptureArgs;
use crate::engine::state_dir::StateDir;
use crate::runtime::docker::DockerRuntime;
use crate::topology::model::Placement;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// Where the packets go.
enum Sink {
    Stdout,
    File(std::fs::File, String),
}

impl Sink {
    /// Writes a chunk; false when the reader of stdout went away.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<bool> {
        match self {
            Sink::Stdout => Ok(crate::output::stdout_bytes(bytes)),
            Sink::File(file, _) => file.write_all(bytes).map(|()| true),
        }
    }
}

/// What stops a running capture early: Ctrl-C, or the reader of the pipe going away.
struct Stop {
    reader_gone: AtomicBool,
    notify: Notify,
}

impl Stop {
    fn reader_gone(&self) {
        self.reader_gone.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    async fn requested(&self) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.notify.notified() => {}
        }
    }
}

pub async fn cmd_capture(state: &StateDir, a: CaptureArgs) -> Result<()> {
    let rt = DockerRuntime::connect().await?;
    let plan = running_plan(state, Some(&a.lab), &rt).await?;
    let capture = Capture {
        filter: a.filter.clone(),
        count: a.count,
        duration: a.duration,
        text: a.text || a.write.is_none(),
    };
    let mut sink = match a.write.as_deref() {
        None | Some("-") => Sink::Stdout,
        Some(path) => Sink::File(
            std::fs::File::create(path)
                .map_err(|e| Failure::msg(format!("cannot write {path}: {e}"), "check the path"))?,
            path.to_string(),
        ),
    };
    if let Some(network) = &a.network {
        let n = plan.network(network).ok_or_else(|| {
            let names: Vec<&str> = plan.networks.iter().map(|n| n.name.as_str()).collect();
            Failure::msg(
                format!("lab {} has no network `{network}`", plan.lab),
                format!("networks: {}", names.join(", ")),
            )
        })?;
        let inspect = rt
            .inspect_network_json(&n.docker_name)
            .await?
            .ok_or_else(|| {
                Failure::msg(
                    format!("network {} does not exist", n.docker_name),
                    "`metallab up` creates it again",
                )
            })?;
        let bridge = bridge_name(
            inspect["Id"].as_str().unwrap_or_default(),
            inspect["Options"]["com.docker.network.bridge.name"].as_str(),
        );
        return capture_on_host(&bridge, &capture, &mut sink).await;
    }
    let target = Target::parse(a.target.as_deref().ok_or_else(|| {
        Failure::msg(
            "say where to capture: a router (`frr1`, `gw:right`) or `--network NET`",
            format!("metallab capture {} ROUTER[:IFACE]", plan.lab),
        )
    })?);
    let r = plan
        .router(&target.router)
        .ok_or_else(|| unknown_router(&plan, &target.router))?;
    if r.placement == Placement::Cluster {
        return Err(Failure::msg(
            format!(
                "{} runs in the cluster: capture there is not supported",
                r.name
            ),
            "capture on the lab network instead (`--network NET`), or with kubectl debug",
        ));
    }
    let interfaces: Vec<(String, std::net::IpAddr)> = r
        .interfaces
        .iter()
        .map(|i| (i.network.clone(), i.ip))
        .collect();
    let interface = match interface_of(target.interface.as_deref(), &interfaces) {
        Interface::Named(name) => name,
        Interface::WithAddress { network, ip } => {
            let shown = rt
                .exec(
                    &r.container,
                    &["ip", "-o", "-4", "addr", "show"],
                    Duration::from_secs(15),
                )
                .await?;
            crate::capture::interface_with_address(&shown.stdout, ip).ok_or_else(|| {
                Failure::msg(
                    format!(
                        "{} has no interface with {ip} (its address on {network})",
                        r.name
                    ),
                    format!("is it still attached? `metallab status {}` says", plan.lab),
                )
            })?
        }
    };
    if let Some(check) = capture.filter_check(&interface) {
        let out = rt
            .exec(&r.container, &check, Duration::from_secs(15))
            .await?;
        if out.exit_code != 0 {
            return Err(tcpdump_refused(&out.stderr, out.exit_code));
        }
    }
    // tcpdump's pid, to stop it from another exec (Docker cannot signal an exec).
    let pid_file = format!("/tmp/metallab-capture-{}.pid", std::process::id());
    let mut argv: Vec<String> = vec![
        "sh".into(),
        "-c".into(),
        format!("echo $$ > {pid_file}; exec \"$@\""),
        "sh".into(),
    ];
    argv.extend(capture.tcpdump(&interface));
    let stop = Stop {
        reader_gone: AtomicBool::new(false),
        notify: Notify::new(),
    };
    let mut write_error = None;
    let mut stderr_text = Vec::new();
    // The stream borrows the sink and the buffers until it is dropped.
    let code = {
        let run = rt.exec_stream(&r.container, &argv, |is_stderr, bytes| {
            if is_stderr {
                stderr_text.extend_from_slice(bytes);
                let _ = std::io::stderr().write_all(bytes);
                return;
            }
            match sink.write(bytes) {
                Ok(true) => {}
                Ok(false) => stop.reader_gone(),
                Err(e) => {
                    write_error.get_or_insert(e);
                    stop.reader_gone();
                }
            }
        });
        tokio::pin!(run);
        tokio::select! {
            code = &mut run => code?,
            _ = stop.requested() => {
                let kill = format!("kill -INT $(cat {pid_file}) 2>/dev/null; rm -f {pid_file}");
                let _ = rt.exec(&r.container, &["sh", "-c", &kill], Duration::from_secs(15)).await;
                run.await?
            }
        }
    };
    let _ = rt
        .exec(
            &r.container,
            &["rm", "-f", &pid_file],
            Duration::from_secs(15),
        )
        .await;
    finish(code, &stderr_text, write_error, &stop, &sink)
}

/// How the capture ended, as metallab's result.
fn finish(
    code: i64,
    stderr: &[u8],
    write_error: Option<std::io::Error>,
    stop: &Stop,
    sink: &Sink,
) -> Result<()> {
    if let Some(e) = write_error {
        let path = match sink {
            Sink::File(_, path) => path.as_str(),
            Sink::Stdout => "stdout",
        };
        return Err(Failure::msg(
            format!("cannot write {path}: {e}"),
            "check the path",
        ));
    }
    if stop.reader_gone.load(Ordering::SeqCst) {
        return Err(Failure::ReaderGone);
    }
    if ended_well(code) {
        return Ok(());
    }
    let said = String::from_utf8_lossy(stderr);
    if code == 127 || said.contains("tcpdump: not found") {
        return Err(Failure::msg(
            "the router's image has no tcpdump",
            "metallab's router images have it; install it in your image",
        ));
    }
    Err(tcpdump_refused(&said, code))
}

/// tcpdump's own words for why it did not capture (a bad filter, an unknown interface).
fn tcpdump_refused(stderr: &str, code: i64) -> Failure {
    let message = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Failure::msg(
        if message.is_empty() {
            format!("tcpdump failed with exit code {code}")
        } else {
            message
        },
        "filters are pcap-filter(7) expressions, e.g. `tcp port 179`; interfaces are lab network names or the router's own (`eth0`, `any`)",
    )
}

/// tcpdump on the host, on the bridge of a lab network (root, and tcpdump on the host).
async fn capture_on_host(bridge: &str, capture: &Capture, sink: &mut Sink) -> Result<()> {
    let missing = |e: std::io::Error| {
        Failure::msg(
            format!("cannot run tcpdump on this host: {e}"),
            "install it (Debian: apt-get install tcpdump); capturing on a bridge needs root",
        )
    };
    if let Some(check) = capture.filter_check(bridge) {
        let out = tokio::process::Command::new(&check[0])
            .args(&check[1..])
            .output()
            .await
            .map_err(missing)?;
        if !out.status.success() {
            return Err(tcpdump_refused(
                &String::from_utf8_lossy(&out.stderr),
                i64::from(out.status.code().unwrap_or(-1)),
            ));
        }
    }
    let argv = capture.tcpdump(bridge);
    let mut child = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(missing)?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let pid = child.id();
    let mut reader_gone = false;
    let mut write_error = None;
    let copy = async {
        use tokio::io::AsyncReadExt;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = stdout.read(&mut buffer).await?;
            if n == 0 {
                return Ok::<(), std::io::Error>(());
            }
            match sink.write(&buffer[..n]) {
                Ok(true) => {}
                Ok(false) => {
                    reader_gone = true;
                    return Ok(());
                }
                Err(e) => {
                    write_error = Some(e);
                    return Ok(());
                }
            }
        }
    };
    let interrupted = tokio::select! {
        read = copy => { read.map_err(|e| Failure::msg(format!("reading tcpdump's output: {e}"), "run it again"))?; false }
        _ = tokio::signal::ctrl_c() => true,
    };
    if (interrupted || reader_gone || write_error.is_some())
        && let Some(pid) = pid
    {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status();
    }
    let status = child
        .wait()
        .await
        .map_err(|e| Failure::msg(format!("waiting for tcpdump: {e}"), "run it again"))?;
    if let Some(e) = write_error {
        return Err(Failure::msg(
            format!("cannot write the capture: {e}"),
            "check the path",
        ));
    }
    if reader_gone {
        return Err(Failure::ReaderGone);
    }
    let code = status.code().map_or(130, i64::from);
    if ended_well(code) {
        Ok(())
    } else {
        Err(Failure::msg(
            format!("tcpdump on {bridge} failed with exit code {code} (its message is above)"),
            "capturing on a bridge needs root",
        ))
    }
}
