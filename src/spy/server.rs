//! The HTTP side: the page, `/api/state`, `/api/events` (server-sent events), `/healthz`.

use super::SpyOptions;
use crate::view::LabView;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_stream::wrappers::WatchStream;

/// One published view, serialized once for every client.
#[derive(Debug)]
pub struct Snapshot {
    /// Counts changes: the event id of the stream.
    pub seq: u64,
    /// The view as `/api/state` and the event stream send it.
    pub json: String,
    fingerprint: String,
    taken: Instant,
}

/// The latest view, and who wants one. Every reading replaces the view (so `/api/state`
/// is always fresh); its `seq` moves only when the view changed, which is when event
/// streams send it.
#[derive(Clone)]
pub(super) struct Published {
    inner: Arc<Inner>,
}

struct Inner {
    latest: watch::Sender<Option<Arc<Snapshot>>>,
    /// Wakes an idle poller.
    wanted: Notify,
    last_interest: Mutex<Instant>,
}

impl Published {
    pub(super) fn new() -> Published {
        Published {
            inner: Arc::new(Inner {
                latest: watch::Sender::new(None),
                wanted: Notify::new(),
                // Starting the dashboard counts as interest: the first page loads at once.
                last_interest: Mutex::new(Instant::now()),
            }),
        }
    }

    /// Stores a reading's view; returns whether it differs from the previous one.
    pub(super) fn publish(&self, view: LabView) -> bool {
        let fingerprint = view.fingerprint();
        let json = serde_json::to_string(&view).expect("the view serializes");
        let mut changed = false;
        self.inner.latest.send_modify(|current| {
            let previous = current.as_ref().map(|s| (s.seq, s.fingerprint.as_str()));
            changed = previous.is_none_or(|(_, f)| f != fingerprint);
            let seq = previous.map_or(1, |(seq, _)| seq + u64::from(changed));
            *current = Some(Arc::new(Snapshot {
                seq,
                json,
                fingerprint,
                taken: Instant::now(),
            }));
        });
        changed
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.inner.latest.subscribe()
    }

    /// Someone looked at the lab: keep polling (or start again).
    pub(super) fn interest(&self) {
        *self
            .inner
            .last_interest
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        self.inner.wanted.notify_one();
    }

    /// Whether anyone watches: an open event stream or a waiting request, or a request
    /// within `idle_after`. Nobody watching, nobody's routers are read.
    pub(super) fn watched(&self, idle_after: Duration) -> bool {
        let last = *self
            .inner
            .last_interest
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.latest.receiver_count() > 0 || last.elapsed() < idle_after
    }

    /// Resolves when someone shows [`interest`](Self::interest).
    pub(super) async fn wanted(&self) {
        self.inner.wanted.notified().await;
    }

    /// A view read at most `max_age` ago, waiting for the poller when the latest is older
    /// (it idled) or there is none yet.
    pub(super) async fn fresh(&self, max_age: Duration) -> Option<Arc<Snapshot>> {
        self.interest();
        let mut rx = self.subscribe();
        let ready = rx
            .wait_for(|s| s.as_ref().is_some_and(|s| s.taken.elapsed() <= max_age))
            .await
            .ok()?;
        ready.clone()
    }
}

/// Which published snapshots one event stream sends: the first one read recently enough
/// (an idle poller's last view has stale clocks), then one per change.
pub(super) struct EventFilter {
    max_age: Duration,
    sent: Option<u64>,
}

impl EventFilter {
    pub(super) fn new(max_age: Duration) -> EventFilter {
        EventFilter {
            max_age,
            sent: None,
        }
    }

    pub(super) fn admit(&mut self, seq: u64, age: Duration) -> bool {
        match self.sent {
            None if age > self.max_age => false,
            Some(sent) if sent == seq => false,
            _ => {
                self.sent = Some(seq);
                true
            }
        }
    }
}

#[derive(Clone)]
struct App {
    published: Published,
    keep_alive: Duration,
    /// How old a view may be to count as current (a poll interval plus a read).
    max_age: Duration,
    stop: watch::Receiver<bool>,
}

/// The dashboard's routes over a published view. `stop` turning true ends event streams.
pub(super) fn router(
    published: Published,
    options: &SpyOptions,
    stop: watch::Receiver<bool>,
) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/assets/spy.js", get(script))
        .route("/assets/spy.css", get(style))
        .route("/api/state", get(state))
        .route("/api/events", get(events))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .with_state(App {
            published,
            keep_alive: options.keep_alive,
            max_age: options.poll_interval + options.read_timeout,
            stop,
        })
}

const PAGE: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/spy.js");
const STYLE: &str = include_str!("assets/spy.css");

/// How soon a browser reconnects after the stream broke (server restarted, laptop woke).
const RECONNECT: Duration = Duration::from_secs(1);

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // The binary is the page: a new metallab must not meet a cached old script.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn state(State(app): State<App>) -> Response {
    let mut stop = app.stop.clone();
    // A request waiting for a reading must not hold up shutdown.
    let snapshot = tokio::select! {
        snapshot = app.published.fresh(app.max_age) => snapshot,
        _ = stop.wait_for(|s| *s) => None,
    };
    match snapshot {
        Some(snapshot) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            snapshot.json.clone(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the dashboard is stopping\n",
        )
            .into_response(),
    }
}

/// The current view at once, then every change, as `state` events.
async fn events(State(app): State<App>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut stop = app.stop.clone();
    let mut filter = EventFilter::new(app.max_age);
    app.published.interest();
    let stream = WatchStream::new(app.published.subscribe())
        .filter_map(move |snapshot| {
            let admitted = snapshot.filter(|s| filter.admit(s.seq, s.taken.elapsed()));
            async move { admitted }
        })
        .map(|snapshot| {
            Ok(Event::default()
                .event("state")
                .id(snapshot.seq.to_string())
                .retry(RECONNECT)
                .data(snapshot.json.as_str()))
        })
        .take_until(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(app.keep_alive))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn not_found() -> (StatusCode, &'static str) {
    (
        StatusCode::NOT_FOUND,
        "not found: the dashboard is at /, its data at /api/state and /api/events\n",
    )
}
