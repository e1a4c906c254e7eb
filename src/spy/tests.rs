//! The dashboard server over real HTTP on loopback, reading a scripted lab.

use super::server::Published;
use super::*;
use crate::state::{RawOutput, RouterState, Session, SessionState};
use crate::test_support::ip;
use crate::topology::load::parse_and_validate;
use crate::view::{LabReading, lab_view};
use std::collections::HashMap;
use std::sync::Mutex;

const PAIR: &str = "\
name: pair
networks:
  lan: { subnet: 10.232.5.0/24 }
routers:
  a: { kind: frr, asn: 64501, interfaces: { lan: { ip: 10.232.5.11 } }, neighbors: [{ to: b }] }
  b: { kind: bird, asn: 64502, interfaces: { lan: { ip: 10.232.5.12 } } }
";

fn plan() -> Plan {
    let topology = parse_and_validate("pair.yaml", PAIR).unwrap();
    crate::plan::build(&topology, "/labs/pair.yaml", std::path::Path::new("/labs"))
}

fn sees(peer: &str, state: SessionState, since_secs: u64) -> RouterReading {
    Ok((
        RouterState {
            sessions: vec![Session {
                peer: ip(peer),
                remote_as: None,
                local_as: None,
                state,
                since_secs: Some(since_secs),
                prefixes_received: None,
                name: None,
                last_error: None,
            }],
            ..RouterState::default()
        },
        vec![RawOutput {
            command: "show".into(),
            output: format!("up for {since_secs}s"),
        }],
    ))
}

/// A lab whose routers answer whatever the test last set; `hung` ones never answer.
#[derive(Clone, Default)]
struct ScriptedLab {
    routers: Arc<Mutex<HashMap<String, RouterReading>>>,
    hung: Vec<String>,
}

impl ScriptedLab {
    fn set(&self, router: &str, reading: RouterReading) {
        self.routers
            .lock()
            .unwrap()
            .insert(router.to_string(), reading);
    }

    fn steady() -> ScriptedLab {
        let lab = ScriptedLab::default();
        lab.set("a", sees("10.232.5.12", SessionState::Established, 5));
        lab.set("b", sees("10.232.5.11", SessionState::Established, 5));
        lab
    }
}

impl LabSource for ScriptedLab {
    async fn read_router(&self, router: &str) -> RouterReading {
        if self.hung.iter().any(|h| h == router) {
            std::future::pending::<()>().await;
        }
        self.routers
            .lock()
            .unwrap()
            .get(router)
            .cloned()
            .unwrap_or_else(|| Err(format!("{router} is not scripted")))
    }
}

fn fast() -> SpyOptions {
    SpyOptions {
        poll_interval: Duration::from_millis(20),
        read_timeout: Duration::from_secs(5),
        keep_alive: Duration::from_secs(1),
        idle_after: Duration::from_secs(10),
    }
}

/// A dashboard serving `lab` on a free loopback port until the returned sender is used.
struct Running {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<Result<(), SpyError>>,
}

async fn start(lab: ScriptedLab) -> Running {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = url_of(listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, plan(), lab, fast(), async {
        let _ = stopped.await;
    }));
    Running {
        url,
        stop: Some(stop),
        server,
    }
}

fn client() -> reqwest::Client {
    // No proxy: the environment's HTTP_PROXY must not catch loopback requests.
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Server-sent events read off a streaming response.
struct EventReader {
    response: reqwest::Response,
    buffer: String,
}

#[derive(Debug)]
struct SseEvent {
    event: String,
    id: String,
    data: String,
}

impl EventReader {
    /// The next event (keep-alive comments skipped); None when the stream ended.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    event: String::new(),
                    id: String::new(),
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event.event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        event.id = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        event.data.push_str(v);
                    }
                }
                if !event.event.is_empty() {
                    return Some(event);
                }
                continue;
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next `state` event whose view satisfies `wanted`.
    async fn until(&mut self, wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        loop {
            let event = self.next().await.expect("the stream stays open");
            assert_eq!(event.event, "state");
            let view: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            if wanted(&view) {
                return view;
            }
        }
    }
}

async fn events(url: &str) -> EventReader {
    let response = client()
        .get(format!("{url}api/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    EventReader {
        response,
        buffer: String::new(),
    }
}

fn health(view: &serde_json::Value, router: &str) -> String {
    view["routers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == router)
        .map(|r| r["health"].as_str().unwrap().to_string())
        .unwrap()
}

/// Bounds a test step so a broken server fails the test instead of hanging it.
async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within 30s"))
}

#[tokio::test]
async fn serves_the_page_its_assets_the_state_and_health() {
    let running = start(ScriptedLab::steady()).await;
    let http = client();
    let get = |path: &str| http.get(format!("{}{path}", running.url)).send();

    let state = within("GET /api/state", get("api/state")).await.unwrap();
    assert_eq!(state.status(), 200);
    assert_eq!(state.headers()["content-type"], "application/json");
    let view: serde_json::Value = serde_json::from_str(&state.text().await.unwrap()).unwrap();
    assert_eq!(view["lab"], "pair");
    assert_eq!(view["summary"], "2 routers: 1 of 1 session established");
    assert_eq!(view["routers"][0]["sessions"][0]["peer"], "b");
    assert_eq!(view["routers"][0]["sessions"][0]["state"], "established");

    let page = get("").await.unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/assets/spy.js"></script>"#));
    for (path, kind) in [
        ("assets/spy.js", "text/javascript; charset=utf-8"),
        ("assets/spy.css", "text/css; charset=utf-8"),
    ] {
        let r = get(path).await.unwrap();
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["content-type"].to_str().unwrap()
            ),
            (200, kind)
        );
    }
    assert_eq!(get("healthz").await.unwrap().text().await.unwrap(), "ok\n");
    assert_eq!(get("nope").await.unwrap().status(), 404);
}

#[tokio::test]
async fn the_event_stream_sends_the_state_then_each_change() {
    let lab = ScriptedLab::steady();
    let running = start(lab.clone()).await;
    let mut stream = events(&running.url).await;

    let first = within("the first state event", stream.next())
        .await
        .unwrap();
    let view: serde_json::Value = serde_json::from_str(&first.data).unwrap();
    assert_eq!(health(&view, "a"), "ok");
    assert_eq!(view["sessions"][0]["status"], "established");

    // b stops answering; a's session to it goes active.
    lab.set("b", Err("b: container is not running".into()));
    lab.set("a", sees("10.232.5.12", SessionState::Active, 0));
    let changed = within(
        "an event showing b unreadable",
        stream.until(|v| health(v, "b") == "unreadable" && health(v, "a") == "degraded"),
    )
    .await;
    let b = &changed["routers"][1];
    assert_eq!(
        b["summary"],
        "cannot read state: b: container is not running"
    );
    assert_eq!(changed["sessions"][0]["status"], "connecting");
}

#[tokio::test]
async fn shutdown_ends_open_event_streams_and_the_server() {
    let mut running = start(ScriptedLab::steady()).await;
    let mut stream = events(&running.url).await;
    within("the first state event", stream.next())
        .await
        .unwrap();

    running.stop.take().unwrap().send(()).unwrap();
    let result = within("the server to stop", &mut running.server).await;
    assert!(result.unwrap().is_ok());
    // After the state event only keep-alives could come; the stream must end.
    assert!(within("the stream to end", stream.next()).await.is_none());
}

#[tokio::test]
async fn a_taken_port_is_a_clear_error_with_a_hint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let error = bind(addr).await.unwrap_err();
    assert!(matches!(error, SpyError::AddressInUse { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("cannot listen on {addr}: the address is already in use")
    );
    let hint = error.hint().unwrap();
    assert!(
        hint.contains("--listen 127.0.0.1:0 for a free one"),
        "{hint}"
    );
}

fn pair_reading(a_since: u64, a_state: SessionState) -> LabReading {
    LabReading {
        routers: HashMap::from([
            ("a".to_string(), sees("10.232.5.12", a_state, a_since)),
            (
                "b".to_string(),
                sees("10.232.5.11", SessionState::Established, 5),
            ),
        ]),
        read_at_ms: 1000 + a_since,
        ..LabReading::default()
    }
}

#[tokio::test]
async fn every_reading_is_kept_but_only_changes_count() {
    let plan = plan();
    let published = Published::new();
    let rx = published.subscribe();
    let latest = || rx.borrow().clone().unwrap();
    assert!(published.publish(lab_view(&plan, &pair_reading(5, SessionState::Established))));
    assert_eq!(latest().seq, 1);

    // Only the clocks moved: stored (fresh for /api/state), same change number.
    assert!(!published.publish(lab_view(&plan, &pair_reading(6, SessionState::Established))));
    assert_eq!(latest().seq, 1);
    assert!(latest().json.contains(r#""since_secs":6"#));

    assert!(published.publish(lab_view(&plan, &pair_reading(0, SessionState::Active))));
    assert_eq!(latest().seq, 2);
}

#[test]
fn an_event_stream_sends_the_first_recent_view_then_one_per_change() {
    let max_age = Duration::from_secs(6);
    let mut filter = server::EventFilter::new(max_age);
    let stale = Duration::from_secs(600);
    let recent = Duration::from_millis(300);
    assert!(
        !filter.admit(4, stale),
        "an idle poller's old view waits for a new reading"
    );
    assert!(filter.admit(4, recent));
    assert!(
        !filter.admit(4, recent),
        "a new reading, same view: nothing to send"
    );
    assert!(
        filter.admit(5, stale),
        "after the first, every change counts"
    );
    assert!(!filter.admit(5, recent));
}

/// Counts reads, to see when the poller reads the routers.
#[derive(Clone, Default)]
struct CountingLab {
    lab: ScriptedLab,
    reads: Arc<std::sync::atomic::AtomicUsize>,
}

impl CountingLab {
    fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl LabSource for CountingLab {
    async fn read_router(&self, router: &str) -> RouterReading {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.lab.read_router(router).await
    }
}

#[tokio::test(start_paused = true)]
async fn polls_only_while_someone_watches() {
    let lab = CountingLab {
        lab: ScriptedLab::steady(),
        ..CountingLab::default()
    };
    let published = Published::new();
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let options = SpyOptions {
        poll_interval: Duration::from_secs(1),
        idle_after: Duration::from_secs(5),
        ..SpyOptions::default()
    };
    tokio::spawn(poll::poll_loop(
        Arc::new(lab.clone()),
        Arc::new(plan()),
        published.clone(),
        options,
        stop,
    ));
    // Virtual time: a minute passes at once, deterministically.
    let a_minute = Duration::from_secs(60);
    tokio::time::sleep(a_minute).await;
    let after_start = lab.reads();
    assert!(after_start > 0, "starting the dashboard reads the lab");
    tokio::time::sleep(a_minute).await;
    assert_eq!(lab.reads(), after_start, "nobody watches: no reads");

    // A request for the state wakes the poller and gets a new reading, not the old one.
    let seen_by_request = published.fresh(Duration::from_secs(6)).await.unwrap();
    assert!(seen_by_request.json.contains(r#""lab":"pair""#));
    assert_eq!(
        lab.reads(),
        after_start + 2,
        "one new round for the request"
    );
    tokio::time::sleep(a_minute).await;
    let after_start = lab.reads();

    // A page opens its event stream: polling resumes and goes on while it is open.
    let page = published.subscribe();
    published.interest();
    tokio::time::sleep(a_minute).await;
    let while_open = lab.reads() - after_start;
    assert!(
        while_open >= 2 * 50,
        "about one round a second: {while_open}"
    );

    drop(page);
    tokio::time::sleep(a_minute).await;
    let after_close = lab.reads();
    tokio::time::sleep(a_minute).await;
    assert_eq!(
        lab.reads(),
        after_close,
        "the page closed: reads stop again"
    );
}

#[tokio::test(start_paused = true)]
async fn a_router_that_does_not_answer_is_unreadable_for_the_round() {
    let lab = ScriptedLab {
        hung: vec!["b".into()],
        ..ScriptedLab::steady()
    };
    let reading = read_lab(&lab, &plan(), Duration::from_secs(5)).await;
    assert!(reading.routers["a"].is_ok());
    assert_eq!(
        reading.routers["b"].as_ref().unwrap_err(),
        "b did not answer within 5s"
    );
}

#[test]
fn the_page_needs_nothing_from_the_internet() {
    for (name, text) in [
        ("index.html", include_str!("assets/index.html")),
        ("spy.js", include_str!("assets/spy.js")),
        ("spy.css", include_str!("assets/spy.css")),
    ] {
        let external: Vec<&str> = text
            .match_indices("http")
            .map(|(i, _)| &text[i..(i + 40).min(text.len())])
            .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
            // The SVG namespace is a name, not a download.
            .filter(|s| !s.starts_with("http://www.w3.org/2000/svg"))
            .collect();
        assert!(external.is_empty(), "{name} refers to {external:?}");
        assert!(
            !text.contains("@import") && !text.contains("//cdn"),
            "{name}"
        );
    }
}
