//! The HTTP side: the page, `/api/state`, `/api/events` (server-sent events), `/healthz`.

use crate::view::LabView;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;

/// One published view, serialized once for every client.
#[derive(Debug)]
pub struct Snapshot {
    /// Counts changes: the event id of the stream.
    pub seq: u64,
    /// The view as `/api/state` and the event stream send it.
    pub json: String,
    fingerprint: String,
}

/// The latest view. Every reading replaces it (so `/api/state` is always fresh), but
/// subscribers are woken only when the view changed.
#[derive(Clone)]
pub(super) struct Published {
    latest: Arc<watch::Sender<Option<Arc<Snapshot>>>>,
}

impl Published {
    pub(super) fn new() -> Published {
        Published {
            latest: Arc::new(watch::Sender::new(None)),
        }
    }

    /// Stores a reading's view; returns whether it differs from the previous one.
    pub(super) fn publish(&self, view: LabView) -> bool {
        let fingerprint = view.fingerprint();
        let json = serde_json::to_string(&view).expect("the view serializes");
        self.latest.send_if_modified(|current| {
            let previous = current.as_ref().map(|s| (s.seq, s.fingerprint.as_str()));
            let changed = previous.is_none_or(|(_, f)| f != fingerprint);
            let seq = previous.map_or(1, |(seq, _)| seq + u64::from(changed));
            *current = Some(Arc::new(Snapshot {
                seq,
                json,
                fingerprint,
            }));
            changed
        })
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.latest.subscribe()
    }

    /// The latest view, waiting for the first reading if there is none yet.
    async fn current(&self) -> Option<Arc<Snapshot>> {
        let mut rx = self.subscribe();
        let ready = rx.wait_for(Option::is_some).await.ok()?;
        ready.clone()
    }
}

#[derive(Clone)]
struct App {
    published: Published,
    keep_alive: Duration,
    stop: watch::Receiver<bool>,
}

/// The dashboard's routes over a published view. `stop` turning true ends event streams.
pub(super) fn router(
    published: Published,
    keep_alive: Duration,
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
            keep_alive,
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
    match app.published.current().await {
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
    let stream = WatchStream::new(app.published.subscribe())
        .filter_map(|snapshot| async move { snapshot })
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
