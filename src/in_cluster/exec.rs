//! Running a command in an in-cluster router through the Kubernetes API: `kubectl exec`
//! done with kube-rs (`pods/exec`, a websocket). The result has the shape Docker exec gives
//! (`ExecOutput`), so drivers, checks and `metallab exec` treat both placements alike.
//!
//! The pod is found by its labels (`io.metallab.lab`, `io.metallab.role=router`,
//! `io.metallab.name`) in the lab's namespace at every call: a Deployment may have
//! replaced it since the last one.
//!
//! The exit status comes from the exec's status channel: `Success`, or `Failure` with the
//! exit code as the `ExitCode` cause of the details (`NonZeroExitCode`). A failure without
//! an exit code means the command never ran (e.g. the executable does not exist).

use super::CONTAINER;
use super::manifests::{label_selector, namespace};
use crate::runtime::ExecOutput;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::Client;
use kube::api::{Api, AttachParams, ListParams};
use std::time::Duration;
use tokio::io::AsyncReadExt;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("Kubernetes API: {}", api_message(.0))]
    Kube(#[from] kube::Error),
    #[error("router {router} has no pod in namespace {namespace}")]
    NoPod { router: String, namespace: String },
    #[error("router {router} has no running pod ({observed})")]
    NotRunning {
        router: String,
        namespace: String,
        observed: String,
    },
    #[error("`{command}` in {router} did not finish within {seconds}s")]
    Timeout {
        router: String,
        command: String,
        seconds: u64,
    },
    #[error("the exec stream closed without an exit status")]
    NoStatus,
    #[error("the command could not run: {message}")]
    Rejected { message: String },
    #[error("reading the command's output: {0}")]
    Output(#[from] std::io::Error),
}

/// The API server's own message for an API error (kube's Display adds the whole Status).
fn api_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => match (status.message.is_empty(), status.reason.is_empty()) {
            (false, false) => format!("{} ({})", status.message, status.reason),
            (false, true) => status.message.clone(),
            (true, _) => status.reason.clone(),
        },
        other => other.to_string(),
    }
}

impl ExecError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ExecError::Kube(kube::Error::Api(status)) if status.code == 403 => Some(
                "the kubeconfig's user may not exec into pods: it needs `create` on `pods/exec` in the lab's namespace"
                    .to_string(),
            ),
            ExecError::NoPod { namespace, .. } | ExecError::NotRunning { namespace, .. } => Some(
                format!("look at the lab's pods: kubectl -n {namespace} describe pods"),
            ),
            _ => None,
        }
    }
}

/// The exit code an exec status stands for: 0 for `Success`, the `ExitCode` cause for a
/// `Failure` that ran the command; an error when the command did not run or the stream
/// ended without a status.
pub fn exit_code(status: Option<&Status>) -> Result<i64, ExecError> {
    let status = status.ok_or(ExecError::NoStatus)?;
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    let code = status
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))
        .and_then(|c| c.message.as_deref())
        .and_then(|m| m.trim().parse::<i64>().ok());
    match code {
        Some(code) => Ok(code),
        None => Err(ExecError::Rejected {
            message: status
                .message
                .clone()
                .or_else(|| status.reason.clone())
                .unwrap_or_else(|| "no reason given".to_string()),
        }),
    }
}

fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn container_running(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.name == CONTAINER && c.state.as_ref().is_some_and(|s| s.running.is_some()))
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// What is wrong with a pod that is not running its router, in a few words:
/// `Pending, container router waiting: ImagePullBackOff (Back-off pulling image …)`.
pub fn pod_problem(pod: &Pod) -> String {
    let name = pod.metadata.name.as_deref().unwrap_or("(unnamed)");
    if is_terminating(pod) {
        return format!("{name}: terminating");
    }
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown");
    let container = status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.name == CONTAINER);
    let detail = container.and_then(|c| c.state.as_ref()).and_then(|state| {
        if let Some(w) = &state.waiting {
            Some(format!(
                "container {CONTAINER} waiting: {}{}",
                w.reason.as_deref().unwrap_or("unknown reason"),
                w.message
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ))
        } else {
            state.terminated.as_ref().map(|t| {
                format!(
                    "container {CONTAINER} terminated: exit code {}{}",
                    t.exit_code,
                    t.reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            })
        }
    });
    // An unscheduled pod says why in its PodScheduled condition.
    let unscheduled = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(|c| {
            format!(
                "not scheduled: {}",
                c.message
                    .as_deref()
                    .or(c.reason.as_deref())
                    .unwrap_or("no reason given")
            )
        });
    match detail.or(unscheduled) {
        Some(detail) => format!("{name}: {phase}, {detail}"),
        None => format!("{name}: {phase}"),
    }
}

/// The pod to exec into among a router's pods: one whose router container runs and that
/// is not being deleted; a ready one before one that is not (yet); then the newest.
pub fn select_pod<'p>(
    router: &str,
    namespace: &str,
    pods: &'p [Pod],
) -> Result<&'p Pod, ExecError> {
    if pods.is_empty() {
        return Err(ExecError::NoPod {
            router: router.to_string(),
            namespace: namespace.to_string(),
        });
    }
    let candidate = pods
        .iter()
        .filter(|p| !is_terminating(p) && container_running(p))
        .max_by(|a, b| {
            let key = |p: &Pod| {
                (
                    is_ready(p),
                    p.metadata.creation_timestamp.clone(),
                    p.metadata.name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
    candidate.ok_or_else(|| ExecError::NotRunning {
        router: router.to_string(),
        namespace: namespace.to_string(),
        observed: pods.iter().map(pod_problem).collect::<Vec<_>>().join("; "),
    })
}

/// Runs commands in a lab's in-cluster routers.
#[derive(Clone)]
pub struct KubeExec {
    client: Client,
    lab: String,
    namespace: String,
}

impl KubeExec {
    pub fn new(client: Client, lab: &str) -> KubeExec {
        KubeExec {
            client,
            lab: lab.to_string(),
            namespace: namespace(lab),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The router's pods, whatever their state.
    pub async fn router_pods(&self, router: &str) -> Result<Vec<Pod>, ExecError> {
        let params = ListParams::default().labels(&label_selector(&self.lab, router));
        Ok(self.pods().list(&params).await?.items)
    }

    /// The name of the pod commands for `router` run in (see [`select_pod`]).
    pub async fn pod_of(&self, router: &str) -> Result<String, ExecError> {
        let pods = self.router_pods(router).await?;
        let pod = select_pod(router, &self.namespace, &pods)?;
        Ok(pod.metadata.name.clone().unwrap_or_default())
    }

    /// Runs `argv` in the router's container (no shell, no stdin, no tty) and collects its
    /// output and exit code. On timeout the command may still run in the pod, as with
    /// Docker exec.
    pub async fn exec(
        &self,
        router: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, ExecError> {
        let run = async {
            let pod = self.pod_of(router).await?;
            let params = AttachParams::default()
                .container(CONTAINER)
                .stdin(false)
                .stdout(true)
                .stderr(true)
                .tty(false);
            let mut attached = self.pods().exec(&pod, argv.to_vec(), &params).await?;
            let mut stdout = attached.stdout().expect("stdout was requested");
            let mut stderr = attached.stderr().expect("stderr was requested");
            let status = attached.take_status().expect("the status is taken once");
            // Both pipes at once: each holds only a small buffer, and a command filling
            // one while we wait on the other would never finish.
            let mut out = Vec::new();
            let mut err = Vec::new();
            let (read_out, read_err) =
                tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
            read_out?;
            read_err?;
            let status = status.await;
            // The stream has ended; a transport error after the status changes nothing.
            let _ = attached.join().await;
            let exit_code = exit_code(status.as_ref())?;
            Ok(ExecOutput {
                exit_code,
                stdout: String::from_utf8_lossy(&out).into_owned(),
                stderr: String::from_utf8_lossy(&err).into_owned(),
            })
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(result) => result,
            Err(_) => Err(ExecError::Timeout {
                router: router.to_string(),
                command: argv.join(" "),
                seconds: timeout.as_secs(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Request, Response};
    use kube::client::Body;
    use serde_json::json;

    fn status(value: serde_json::Value) -> Status {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn success_is_exit_code_zero() {
        let s = status(json!({ "metadata": {}, "status": "Success" }));
        assert_eq!(exit_code(Some(&s)).unwrap(), 0);
    }

    #[test]
    fn a_non_zero_exit_carries_its_code_in_the_causes() {
        // What the kubelet sends for `sh -c 'exit 3'`.
        let s = status(json!({
            "metadata": {},
            "status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
            "reason": "NonZeroExitCode",
            "details": { "causes": [ { "reason": "ExitCode", "message": "3" } ] }
        }));
        assert_eq!(exit_code(Some(&s)).unwrap(), 3);
    }

    #[test]
    fn a_failure_without_exit_code_means_the_command_did_not_run() {
        let s = status(json!({
            "metadata": {},
            "status": "Failure",
            "message": "Internal error occurred: error executing command in container: failed to exec in container: executable file not found in $PATH",
            "reason": "InternalError",
            "code": 500
        }));
        let err = exit_code(Some(&s)).unwrap_err();
        assert!(
            matches!(&err, ExecError::Rejected { message } if message.contains("executable file not found")),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_exit_code_is_not_guessed() {
        let s = status(json!({
            "metadata": {},
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "details": { "causes": [ { "reason": "ExitCode", "message": "three" } ] }
        }));
        let err = exit_code(Some(&s)).unwrap_err();
        assert!(matches!(err, ExecError::Rejected { .. }), "{err}");
    }

    #[test]
    fn no_status_is_an_error() {
        assert!(matches!(exit_code(None), Err(ExecError::NoStatus)));
    }

    /// A router pod as the API returns it: `phase`, the router container's state, `Ready`.
    fn pod(
        name: &str,
        created: &str,
        phase: &str,
        container: serde_json::Value,
        ready: bool,
    ) -> Pod {
        serde_json::from_value(json!({
            "metadata": { "name": name, "namespace": "metallab-lab", "creationTimestamp": created },
            "spec": { "containers": [ { "name": "router" } ] },
            "status": {
                "phase": phase,
                "conditions": [ { "type": "Ready", "status": if ready { "True" } else { "False" } } ],
                "containerStatuses": [ {
                    "name": "router", "image": "metallab/bird:abc", "imageID": "",
                    "ready": ready, "restartCount": 0, "state": container
                } ]
            }
        }))
        .unwrap()
    }

    fn running() -> serde_json::Value {
        json!({ "running": { "startedAt": "2026-01-01T00:00:00Z" } })
    }

    fn pull_backoff() -> serde_json::Value {
        json!({ "waiting": { "reason": "ImagePullBackOff", "message": "Back-off pulling image \"metallab/bird:abc\"" } })
    }

    fn names(pods: &[Pod]) -> Vec<&str> {
        pods.iter()
            .map(|p| p.metadata.name.as_deref().unwrap())
            .collect()
    }

    #[test]
    fn a_ready_pod_wins_over_a_newer_one_still_starting() {
        let pods = vec![
            pod(
                "bird-old",
                "2026-01-01T00:00:00Z",
                "Running",
                running(),
                true,
            ),
            pod(
                "bird-new",
                "2026-01-01T00:05:00Z",
                "Running",
                running(),
                false,
            ),
        ];
        let chosen = select_pod("bird", "metallab-lab", &pods).unwrap();
        assert_eq!(
            chosen.metadata.name.as_deref(),
            Some("bird-old"),
            "among {:?}",
            names(&pods)
        );
    }

    #[test]
    fn the_newest_running_pod_wins_and_terminating_ones_are_skipped() {
        let mut leaving = pod("bird-c", "2026-01-01T00:09:00Z", "Running", running(), true);
        leaving.metadata.deletion_timestamp = leaving.metadata.creation_timestamp.clone();
        let pods = vec![
            pod("bird-a", "2026-01-01T00:00:00Z", "Running", running(), true),
            pod("bird-b", "2026-01-01T00:05:00Z", "Running", running(), true),
            leaving,
        ];
        let chosen = select_pod("bird", "metallab-lab", &pods).unwrap();
        assert_eq!(chosen.metadata.name.as_deref(), Some("bird-b"));
    }

    #[test]
    fn no_running_pod_says_what_the_pods_are_doing() {
        let pods = vec![pod(
            "bird-a",
            "2026-01-01T00:00:00Z",
            "Pending",
            pull_backoff(),
            false,
        )];
        let err = select_pod("bird", "metallab-lab", &pods).unwrap_err();
        assert_eq!(
            err.to_string(),
            "router bird has no running pod (bird-a: Pending, container router waiting: ImagePullBackOff (Back-off pulling image \"metallab/bird:abc\"))"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("look at the lab's pods: kubectl -n metallab-lab describe pods")
        );
    }

    #[test]
    fn no_pod_at_all() {
        let err = select_pod("bird", "metallab-lab", &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "router bird has no pod in namespace metallab-lab"
        );
    }

    #[test]
    fn an_unscheduled_pod_says_why() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": { "name": "bird-a" },
            "status": {
                "phase": "Pending",
                "conditions": [ {
                    "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 Insufficient cpu."
                } ]
            }
        }))
        .unwrap();
        assert_eq!(
            pod_problem(&pod),
            "bird-a: Pending, not scheduled: 0/1 nodes are available: 1 Insufficient cpu."
        );
    }

    /// The pod lookup against a mock API server: the request lists the lab namespace's
    /// pods by the router's labels, and the running pod of the answer is chosen.
    #[tokio::test]
    async fn the_pod_is_found_by_label_selector_in_the_lab_namespace() {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let client = Client::new(service, "default");
        let answer = json!({
            "apiVersion": "v1", "kind": "PodList", "metadata": {},
            "items": [
                pod("bird-7d9c-aaaaa", "2026-01-01T00:00:00Z", "Pending", pull_backoff(), false),
                pod("bird-7d9c-bbbbb", "2026-01-01T00:01:00Z", "Running", running(), true),
            ]
        });
        let server = tokio::spawn(async move {
            let (request, respond) = handle.next_request().await.expect("one request");
            respond.send_response(
                Response::builder()
                    .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                    .unwrap(),
            );
            request
        });
        let exec = KubeExec::new(client, "lab");
        let pod = exec.pod_of("bird").await.unwrap();
        assert_eq!(pod, "bird-7d9c-bbbbb");
        let request = server.await.unwrap();
        assert_eq!(request.method(), "GET");
        assert_eq!(request.uri().path(), "/api/v1/namespaces/metallab-lab/pods");
        let selector = request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("labelSelector="))
            .map(|value| value.replace("%3D", "=").replace("%2C", ","));
        assert_eq!(
            selector.as_deref(),
            Some("io.metallab.lab=lab,io.metallab.name=bird,io.metallab.role=router")
        );
    }
}

/// `KubeExec::exec` against a stand-in API server on loopback that speaks the exec
/// websocket as the API server does (binary subprotocol v4: one byte of channel, then the
/// data; stdout 1, stderr 2, the final `Status` on 3). kube-rs's mock service cannot
/// upgrade connections, so this is where the stream handling is tested.
#[cfg(test)]
mod websocket_tests {
    use super::*;
    use futures::SinkExt;
    use serde_json::json;
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    const POD: &str = "bird1-5d8f9c7b6d-x2x9q";

    /// The request head of a connection, without consuming it.
    async fn peek_head(stream: &TcpStream) -> String {
        let mut buf = vec![0u8; 8192];
        loop {
            let n = stream.peek(&mut buf).await.unwrap();
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if text.contains("\r\n\r\n") {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn pod_list() -> String {
        json!({
            "apiVersion": "v1",
            "kind": "PodList",
            "metadata": { "resourceVersion": "7" },
            "items": [{
                "metadata": { "name": POD, "namespace": "metallab-lab" },
                "spec": { "containers": [ { "name": "router" } ] },
                "status": {
                    "phase": "Running",
                    "containerStatuses": [ {
                        "name": "router", "image": "metallab/bird:abc", "imageID": "",
                        "ready": true, "restartCount": 0,
                        "state": { "running": { "startedAt": "2026-11-21T08:00:00Z" } }
                    } ]
                }
            }]
        })
        .to_string()
    }

    /// Serves the pod list over plain HTTP and the exec as a websocket sending `frames`;
    /// returns the exec request's path and query.
    async fn serve(listener: TcpListener, frames: Vec<Vec<u8>>) -> String {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let head = peek_head(&stream).await;
            if !head.contains("/exec?") {
                let mut discard = vec![0u8; head.len()];
                tokio::io::AsyncReadExt::read_exact(&mut stream, &mut discard)
                    .await
                    .unwrap();
                let body = pod_list();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(response.as_bytes()).await.unwrap();
                continue;
            }
            let mut uri = String::new();
            // The callback's signature is tungstenite's, large error type included.
            #[allow(clippy::result_large_err)]
            let callback = |request: &Request, mut response: Response| {
                uri = request.uri().to_string();
                response.headers_mut().insert(
                    "Sec-WebSocket-Protocol",
                    http::HeaderValue::from_static("v4.channel.k8s.io"),
                );
                Ok(response)
            };
            let mut ws = tokio_tungstenite::accept_hdr_async(stream, callback)
                .await
                .unwrap();
            for frame in frames {
                ws.send(Message::binary(frame)).await.unwrap();
            }
            ws.close(None).await.unwrap();
            return uri;
        }
    }

    fn frame(channel: u8, data: &[u8]) -> Vec<u8> {
        let mut f = vec![channel];
        f.extend_from_slice(data);
        f
    }

    async fn client(listener: &TcpListener) -> Client {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let config = kube::Config::new(url.parse().unwrap());
        Client::try_from(config).unwrap()
    }

    #[tokio::test]
    async fn output_and_exit_code_come_back_from_the_exec_stream() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = client(&listener).await;
        let failure = json!({
            "metadata": {},
            "status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command [birdc show status], exit code 3",
            "reason": "NonZeroExitCode",
            "details": { "causes": [ { "reason": "ExitCode", "message": "3" } ] }
        });
        let frames = vec![
            frame(1, b"BIRD 2.0.12 ready.\n"),
            frame(2, b"bird: warning\n"),
            frame(1, b"Daemon is up and running\n"),
            frame(3, failure.to_string().as_bytes()),
        ];
        let server = tokio::spawn(serve(listener, frames));
        let exec = KubeExec::new(client, "lab");
        let argv = ["birdc", "show", "status"].map(String::from);
        let out = exec
            .exec("bird1", &argv, Duration::from_secs(20))
            .await
            .unwrap();
        let uri = server.await.unwrap();

        assert_eq!(out.exit_code, 3);
        assert_eq!(out.stdout, "BIRD 2.0.12 ready.\nDaemon is up and running\n");
        assert_eq!(out.stderr, "bird: warning\n");
        // The command's words in order, in the router's container, without stdin or a TTY.
        assert!(
            uri.starts_with(&format!("/api/v1/namespaces/metallab-lab/pods/{POD}/exec?")),
            "{uri}"
        );
        for part in [
            "command=birdc&command=show&command=status",
            "container=router",
            "stdout=true",
            "stderr=true",
        ] {
            assert!(uri.contains(part), "{part} in {uri}");
        }
        assert!(
            !uri.contains("stdin=true") && !uri.contains("tty=true"),
            "{uri}"
        );
    }
}

#[cfg(test)]
mod api_message_tests {
    use super::api_message;

    #[test]
    fn an_empty_reason_adds_no_empty_parentheses() {
        let status = |message: &str, reason: &str| {
            kube::Error::Api(Box::new(kube::core::Status {
                message: message.into(),
                reason: reason.into(),
                code: 500,
                ..kube::core::Status::default()
            }))
        };
        let dialing =
            "error dialing backend: dial tcp 127.0.0.3:10250: connect: connection refused";
        assert_eq!(api_message(&status(dialing, "")), dialing);
        assert_eq!(
            api_message(&status("pods \"x\" not found", "NotFound")),
            "pods \"x\" not found (NotFound)"
        );
        assert_eq!(api_message(&status("", "InternalError")), "InternalError");
    }
}
