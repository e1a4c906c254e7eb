//! A scripted API server for tests: tower-test's mock service behind a real
//! `kube::Client`, answering the expected requests in order (kube's own `mock_tests.rs`
//! pattern). A request that is not the next expected one fails the scenario with both
//! shown; requests the code never made are reported when the scenario is finished.
//!
//! Response bodies in the tests are written by hand in the shape the Kubernetes API
//! reference gives for each object; none of them was recorded from a cluster.

use http::{Method, Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::task::JoinHandle;

/// One expected request and the answer to it.
pub struct Exchange {
    method: Method,
    path: String,
    status: StatusCode,
    body: Value,
}

pub fn expect(method: Method, path: &str, status: u16, body: Value) -> Exchange {
    Exchange {
        method,
        path: path.to_string(),
        status: StatusCode::from_u16(status).unwrap(),
        body,
    }
}

pub fn get(path: &str, body: Value) -> Exchange {
    expect(Method::GET, path, 200, body)
}

pub fn patch(path: &str, status: u16, body: Value) -> Exchange {
    expect(Method::PATCH, path, status, body)
}

/// A request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
}

pub struct MockApiServer {
    task: JoinHandle<Vec<Recorded>>,
}

/// A client whose requests go to a scenario answering `exchanges` in order.
pub fn serve(exchanges: Vec<Exchange>) -> (Client, MockApiServer) {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let task = tokio::spawn(async move {
        let mut recorded = Vec::new();
        let total = exchanges.len();
        for (n, exchange) in exchanges.into_iter().enumerate() {
            let Some((request, send)) = handle.next_request().await else {
                panic!(
                    "the code made {n} requests, the scenario expected {total}; \
                     the next expected was {} {}",
                    exchange.method, exchange.path
                );
            };
            let (parts, body) = request.into_parts();
            let bytes = body.collect_bytes().await.unwrap();
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            };
            let got = Recorded {
                method: parts.method.clone(),
                path: parts.uri.path().to_string(),
                query: parts.uri.query().map(str::to_string),
                content_type: parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .map(|v| v.to_str().unwrap().to_string()),
                body,
            };
            assert!(
                got.method == exchange.method && got.path == exchange.path,
                "request {} of {total}: expected {} {}, got {} {}?{}",
                n + 1,
                exchange.method,
                exchange.path,
                got.method,
                got.path,
                got.query.as_deref().unwrap_or("")
            );
            recorded.push(got);
            let response = Response::builder()
                .status(exchange.status)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&exchange.body).unwrap()))
                .unwrap();
            send.send_response(response);
        }
        if let Some((request, _)) = handle.next_request().await {
            panic!(
                "unexpected request after the scenario ended: {} {}",
                request.method(),
                request.uri()
            );
        }
        recorded
    });
    (Client::new(service, "default"), MockApiServer { task })
}

impl MockApiServer {
    /// Waits for the scenario to end (the client is dropped first, so a scenario still
    /// waiting for requests the code never made fails instead of hanging) and returns
    /// the requests it received.
    pub async fn finish(self, client: Client) -> Vec<Recorded> {
        drop(client);
        tokio::time::timeout(Duration::from_secs(1), self.task)
            .await
            .expect("the mock API server did not finish")
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    }
}

/// A `Status` failure body as the API server sends it.
pub fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

/// An `APIResourceList` for discovery of one group version; `resources` are
/// (plural, kind, namespaced).
pub fn resource_list(group_version: &str, resources: &[(&str, &str, bool)]) -> Value {
    let resources: Vec<Value> = resources
        .iter()
        .map(|(plural, kind, namespaced)| {
            json!({
                "name": plural,
                "singularName": kind.to_lowercase(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            })
        })
        .collect();
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    })
}
