//! `metallab spy`: the live dashboard of a real lab (FRR, BIRD, GoBGP and a Linux host on
//! one network), seen through its HTTP API, its event stream and a real headless Chromium.
//! A router is stopped while the page is open; the page must show it without a reload, and
//! find its way back by itself after the server restarts.
//!
//! Artifacts: `target/test-artifacts/spy-steady.png` (every session established) and
//! `target/test-artifacts/spy.png` (after gobgp1 was stopped).

use crate::harness::{BIN, Lab, docker_available};
use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use futures::StreamExt;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The lab's name is also the label every container and network carries.
const LAB: &str = "h-spy";

const TOPOLOGY: &str = "\
name: h-spy
description: metallab spy end-to-end lab
networks:
  lan: { subnet: 10.232.1.0/24 }
routers:
  frr1:
    kind: frr
    asn: 64501
    interfaces: { lan: { ip: 10.232.1.11 } }
    announce: [192.0.2.0/26]
    neighbors: [{ to: bird1 }, { to: gobgp1 }]
  bird1:
    kind: bird
    asn: 64502
    interfaces: { lan: { ip: 10.232.1.12 } }
    announce: [192.0.2.64/26]
    neighbors: [{ to: gobgp1 }]
  gobgp1:
    kind: gobgp
    asn: 64503
    interfaces: { lan: { ip: 10.232.1.13 } }
    announce: [192.0.2.128/26]
  client:
    kind: linux
    interfaces: { lan: { ip: 10.232.1.20 } }
";

/// Every (router, peer) session the plan has.
const SESSIONS: [(&str, &str); 6] = [
    ("bird1", "frr1"),
    ("bird1", "gobgp1"),
    ("frr1", "bird1"),
    ("frr1", "gobgp1"),
    ("gobgp1", "bird1"),
    ("gobgp1", "frr1"),
];

/// Converging BGP sessions and noticing a stopped peer take seconds; this only bounds a
/// broken dashboard so the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(60);

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium_available() -> bool {
    let ok = Path::new(CHROMIUM).exists();
    let required = std::env::var_os("CI").is_some_and(|v| v != "false" && !v.is_empty());
    assert!(
        ok || !required,
        "{CHROMIUM} is missing and CI forbids skipping the browser test (scripts/test installs it)"
    );
    if !ok {
        eprintln!("SKIP: no {CHROMIUM} (set CI=true to make this a failure)");
    }
    ok
}

/// A running `metallab spy` child process; killed when dropped.
struct Spy {
    child: Child,
    url: String,
}

impl Spy {
    /// Starts `metallab spy LAB --listen 127.0.0.1:PORT` (0: any free port).
    fn start(state_dir: &Path, port: u16) -> Spy {
        let listen = format!("127.0.0.1:{port}");
        let mut child = Command::new(BIN)
            .args(["--progress", "never", "spy", LAB, "--listen", &listen])
            .env("METALLAB_STATE_DIR", state_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start metallab spy");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut spy = Spy {
            child,
            url: String::new(),
        };
        let line = rx
            .recv_timeout(DEADLINE)
            .expect("metallab spy prints its URL");
        eprintln!("spy: {line}");
        let prefix = format!("metallab spy: lab {LAB} at http://127.0.0.1:");
        assert!(line.starts_with(&prefix), "unexpected first line: {line}");
        assert!(line.ends_with("/ (Ctrl-C to stop)"), "{line}");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_string();
        let port: u16 = url
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches('/')
            .parse()
            .expect("the actual port, not 0");
        assert_ne!(port, 0);
        spy.url = url;
        spy
    }

    /// Ctrl-C: the process ends by itself, successfully, even with pages connected.
    fn interrupt(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success());
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "metallab spy ignored Ctrl-C for {DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(status.code(), Some(0), "Ctrl-C is a clean exit");
    }

    fn port(&self) -> u16 {
        self.url
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches('/')
            .parse()
            .unwrap()
    }
}

impl Drop for Spy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium driven over CDP, with its own profile directory.
struct Chromium {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Chromium {
    async fn launch() -> Chromium {
        let profile = tempfile::tempdir().expect("profile dir");
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .no_sandbox()
            .user_data_dir(profile.path())
            .window_size(1400, 1100)
            .viewport(Viewport {
                width: 1400,
                height: 1100,
                ..Viewport::default()
            })
            .arg("--disable-gpu")
            .arg("--disable-dev-shm-usage")
            // Loopback only: no proxy from the environment may sit between page and server.
            .arg("--no-proxy-server")
            .launch_timeout(Duration::from_secs(60))
            .build()
            .expect("browser config");
        let (browser, mut events) = Browser::launch(config).await.expect("launch chromium");
        let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
        Chromium {
            browser,
            handler,
            _profile: profile,
        }
    }

    async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}

/// What the page shows, read from its DOM (the same attributes a person sees as text and
/// colours).
const READ_PAGE: &str = r#"(() => {
  const cards = [...document.querySelectorAll("section.card[data-router]")].map((c) => ({
    router: c.dataset.router,
    health: c.dataset.health,
    summary: c.querySelector(".summary")?.textContent ?? "",
    sessions: [...c.querySelectorAll("tr.session")].map((t) => ({
      peer: t.dataset.peer, state: t.dataset.state, status: t.dataset.status,
      text: t.textContent,
    })),
  }));
  return {
    connection: document.getElementById("connection").dataset.state,
    connectionText: document.getElementById("connection-text").textContent,
    summary: document.getElementById("lab-summary").textContent,
    faults: document.getElementById("faults").hidden ? null : document.getElementById("faults").textContent,
    cards,
    edges: [...document.querySelectorAll("path.edge")].map((p) => ({ id: p.dataset.edge, status: p.dataset.status })),
    devices: [...document.querySelectorAll("g.device")].map((g) => ({ id: g.dataset.device, health: g.dataset.health })),
    marker: window.spyTestMarker ?? null,
    renders: window.metallabSpy ? window.metallabSpy.renders : 0,
  };
})()"#;

async fn read_page(page: &Page) -> Value {
    page.evaluate_expression(READ_PAGE)
        .await
        .expect("evaluate in the page")
        .into_value()
        .expect("a JSON value")
}

/// Polls the page until `ready` holds; panics with the last reading at the deadline.
async fn wait_for_page(page: &Page, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let started = tokio::time::Instant::now();
    loop {
        let seen = read_page(page).await;
        if ready(&seen) {
            return seen;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the page did not show {what} within {DEADLINE:?}; it shows:\n{seen:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn card<'a>(seen: &'a Value, router: &str) -> &'a Value {
    seen["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["router"] == router)
        .unwrap_or_else(|| panic!("no card for {router}: {seen:#}"))
}

/// (router, peer) of every session row whose state is `state`.
fn sessions_in(seen: &Value, state: &str) -> BTreeSet<(String, String)> {
    seen["cards"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            let router = c["router"].as_str().unwrap().to_string();
            c["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["state"] == state)
                .map(move |s| (router.clone(), s["peer"].as_str().unwrap().to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn expected_sessions() -> BTreeSet<(String, String)> {
    SESSIONS
        .iter()
        .map(|(r, p)| (r.to_string(), p.to_string()))
        .collect()
}

fn all_established(seen: &Value) -> bool {
    sessions_in(seen, "established") == expected_sessions()
}

/// gobgp1 cannot be read and neither of its peers still calls its session established.
fn gobgp1_gone(seen: &Value) -> bool {
    let gobgp1 = card(seen, "gobgp1");
    let peers_let_go = ["frr1", "bird1"].iter().all(|r| {
        card(seen, r)["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["peer"] == "gobgp1" && s["status"] != "established")
    });
    gobgp1["health"] == "unreadable" && peers_let_go
}

fn artifact(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir.join(name)
}

async fn screenshot(page: &Page, name: &str) {
    let path = artifact(name);
    page.save_screenshot(
        ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .full_page(true)
            .build(),
        &path,
    )
    .await
    .expect("screenshot");
    eprintln!("screenshot: {}", path.display());
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(DEADLINE)
        .build()
        .unwrap()
}

async fn api_state(spy: &Spy) -> Value {
    let response = http()
        .get(format!("{}api/state", spy.url))
        .send()
        .await
        .expect("GET /api/state");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    serde_json::from_str(&response.text().await.unwrap()).expect("/api/state is JSON")
}

/// `state` events read off `/api/events`.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(spy: &Spy) -> Events {
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("{}api/events", spy.url))
            .send()
            .await
            .expect("GET /api/events");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events {
            response,
            buffer: String::new(),
        }
    }

    /// The data of the next `state` event (keep-alive comments skipped).
    async fn next_state(&mut self) -> Value {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if block.lines().any(|l| l == "event: state") {
                    let data: String = block
                        .lines()
                        .filter_map(|l| l.strip_prefix("data: "))
                        .collect();
                    return serde_json::from_str(&data).expect("event data is the view");
                }
                continue;
            }
            let chunk = tokio::time::timeout(DEADLINE, self.response.chunk())
                .await
                .expect("an event or keep-alive within the deadline")
                .expect("the stream reads")
                .expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

fn router_health(view: &Value, router: &str) -> String {
    view["routers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == router)
        .map(|r| r["health"].as_str().unwrap().to_string())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spy_shows_the_lab_live_and_follows_a_stopped_router() {
    if !docker_available() || !chromium_available() {
        return;
    }
    // The harness's Lab gives the state directory and the cleanup (also on panic); the
    // topology is this test's own, on its own subnet.
    let lab = Lab::from_topology("interop.yaml", LAB);
    std::fs::write(&lab.topology, TOPOLOGY).expect("write the spy topology");
    let state_dir = lab.topology.parent().expect("state dir").to_path_buf();
    let up = lab.metallab(&["up", lab.topology_arg(), "--no-check"]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed");

    let spy = Spy::start(&state_dir, 0);

    // A second spy on the same port: a clear error, exit code 2.
    let taken = lab.metallab(&["spy", LAB, "--listen", &format!("127.0.0.1:{}", spy.port())]);
    assert_eq!(taken.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&taken.stderr);
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains("--listen 127.0.0.1:0"), "{stderr}");

    // HTTP: health, and the state names every router.
    let healthz = http()
        .get(format!("{}healthz", spy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(healthz.text().await.unwrap(), "ok\n");
    let state = api_state(&spy).await;
    assert_eq!(state["lab"], LAB);
    let routers: Vec<&str> = state["routers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(routers, ["frr1", "bird1", "gobgp1", "client"]);
    let mut stream = Events::open(&spy).await;
    let first = stream.next_state().await;
    assert_eq!(first["lab"], LAB, "the stream starts with the current view");

    // The browser: every router and each of its sessions, established.
    let chromium = Chromium::launch().await;
    let page = chromium
        .browser
        .new_page(spy.url.as_str())
        .await
        .expect("open the dashboard");
    // Converged: sessions come up first, each peer's prefix follows.
    let converged = |seen: &Value| {
        all_established(seen)
            && ["frr1", "bird1", "gobgp1"].iter().all(|r| {
                card(seen, r)["summary"] == "2 of 2 sessions established, 2 routes learned"
            })
    };
    let steady = wait_for_page(&page, "every session established", converged).await;
    for router in ["frr1", "bird1", "gobgp1", "client"] {
        assert_eq!(card(&steady, router)["health"], "ok", "{steady:#}");
    }
    assert_eq!(card(&steady, "client")["summary"], "host, 2 kernel routes");
    assert_eq!(steady["connection"], "live");
    assert!(
        steady["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "established"),
        "{steady:#}"
    );
    assert_eq!(steady["edges"].as_array().unwrap().len(), 3);
    screenshot(&page, "spy-steady.png").await;

    // The raw CLI output is one click away: the exact commands and what they printed.
    page.evaluate_expression(
        r#"document.querySelector('details.raw[data-router="bird1"] summary').click()"#,
    )
    .await
    .unwrap();
    let raw_text: String = page
        .evaluate_expression(
            r#"(() => { const d = document.querySelector('details.raw[data-router="bird1"]'); return d.open ? d.innerText : ''; })()"#,
        )
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(
        raw_text.contains("sh -c 'birdc show status && birdc show protocols all'")
            && raw_text.contains("BIRD 2.0"),
        "bird1's raw output shows the commands and their text: {raw_text}"
    );

    // A marker in the page's JavaScript state: a reload would lose it.
    page.evaluate_expression("window.spyTestMarker = 'same page'")
        .await
        .unwrap();
    let renders_before = read_page(&page).await["renders"].as_u64().unwrap();

    assert_eq!(
        read_page(&page).await["faults"],
        Value::Null,
        "no fault yet"
    );
    // Stop gobgp1 as a fault: the open page follows by itself and names the fault.
    let stop = lab.metallab(&["fault", LAB, "stop", "gobgp1"]);
    assert_eq!(stop.status.code(), Some(0));
    let after = wait_for_page(&page, "gobgp1 unreadable and its peers down", gobgp1_gone).await;
    let after = if after["faults"].is_null() {
        wait_for_page(&page, "the active fault", |seen| !seen["faults"].is_null()).await
    } else {
        after
    };
    assert_eq!(after["faults"], "⚡ fault 1: stop gobgp1");
    assert_eq!(after["marker"], "same page", "the page was not reloaded");
    assert!(after["renders"].as_u64().unwrap() > renders_before);
    let gobgp1 = card(&after, "gobgp1");
    assert!(
        gobgp1["summary"]
            .as_str()
            .unwrap()
            .starts_with("cannot read state: "),
        "{gobgp1:#}"
    );
    assert!(
        after["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == "router:gobgp1" && d["health"] == "unreadable")
    );
    assert!(
        after["summary"]
            .as_str()
            .unwrap()
            .contains("cannot read gobgp1"),
        "{after:#}"
    );
    let frr1_bird1: Vec<&Value> = after["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["id"] == "router:bird1~router:frr1")
        .collect();
    assert_eq!(
        frr1_bird1[0]["status"], "established",
        "untouched session stays up"
    );
    screenshot(&page, "spy.png").await;

    // The event stream pushed the change, and /api/state says the same.
    let update = tokio::time::timeout(DEADLINE, async {
        loop {
            let view = stream.next_state().await;
            if router_health(&view, "gobgp1") == "unreadable" {
                return view;
            }
        }
    })
    .await
    .expect("the event stream reports gobgp1 unreadable");
    assert!(
        update["routers"][2]["summary"]
            .as_str()
            .unwrap()
            .starts_with("cannot read state: ")
    );
    let state = api_state(&spy).await;
    assert_eq!(router_health(&state, "gobgp1"), "unreadable");

    // Ctrl-C: a clean exit; the page says it is disconnected, and it reconnects by itself
    // to a new server on the same port.
    drop(stream);
    let port = spy.port();
    spy.interrupt();
    let gone = wait_for_page(&page, "disconnected", |seen| {
        seen["connection"] == "disconnected"
    })
    .await;
    assert!(
        gone["connectionText"]
            .as_str()
            .unwrap()
            .starts_with("disconnected")
    );
    let renders_before = gone["renders"].as_u64().unwrap();
    let spy = Spy::start(&state_dir, port);
    let back = wait_for_page(&page, "live again with a new view", |seen| {
        seen["connection"] == "live" && seen["renders"].as_u64().unwrap() > renders_before
    })
    .await;
    assert_eq!(back["marker"], "same page", "reconnected without a reload");
    assert_eq!(card(&back, "gobgp1")["health"], "unreadable");

    chromium.close().await;
    drop(spy);
    lab.down_leaves_nothing(LAB);
}
