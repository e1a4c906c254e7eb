//! A container engine that records every call and keeps containers and networks in
//! memory: what the lifecycle's unit tests run `up` and `down` against. It never touches
//! Docker or the host's firewall.

use crate::runtime::ExecOutput;
use crate::runtime::RuntimeError;
use crate::runtime::archive::UploadFile;
use crate::runtime::docker::{
    BuildSpec, ContainerInfo, ContainerSpec, ImageInfo, NetworkInfo, NetworkSpec,
};
use crate::runtime::engine::{ContainerEngine, EngineFuture, LabelFilters, OutputStream};
use crate::runtime::error::ResourceKind;
use bollard::models::ContainerInspectResponse;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
pub(crate) struct RecordingEngine {
    state: Mutex<State>,
    /// A container whose creation fails (Docker's answer to a taken name, say).
    pub(crate) fail_creating: Option<String>,
}

#[derive(Default)]
struct State {
    calls: Vec<String>,
    networks: Vec<NetworkInfo>,
    containers: Vec<ContainerInfo>,
}

fn matches(labels: &BTreeMap<String, String>, filters: LabelFilters<'_>) -> bool {
    filters.iter().all(|(key, value)| match value {
        Some(value) => labels.get(*key).map(String::as_str) == Some(*value),
        None => labels.contains_key(*key),
    })
}

fn ready<'a, T: Send + 'a>(value: Result<T, RuntimeError>) -> EngineFuture<'a, T> {
    Box::pin(async move { value })
}

impl RecordingEngine {
    /// Every call so far, as `verb name`.
    pub(crate) fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    pub(crate) fn is_running(&self, container: &str) -> bool {
        let state = self.state.lock().unwrap();
        state
            .containers
            .iter()
            .any(|c| c.name == container && c.running)
    }

    pub(crate) fn container_names(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state.containers.iter().map(|c| c.name.clone()).collect()
    }

    pub(crate) fn network_names(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state.networks.iter().map(|n| n.name.clone()).collect()
    }

    /// The labels a container was created with.
    pub(crate) fn labels_of(&self, container: &str) -> BTreeMap<String, String> {
        let state = self.state.lock().unwrap();
        state
            .containers
            .iter()
            .find(|c| c.name == container)
            .map(|c| c.labels.clone())
            .unwrap_or_default()
    }

    /// A container or network made by someone else, as if it already existed.
    pub(crate) fn add_foreign_container(&self, name: &str, labels: &[(&str, &str)]) {
        self.state.lock().unwrap().containers.push(ContainerInfo {
            name: name.to_string(),
            id: format!("id-{name}"),
            image: "debian:bookworm".into(),
            state: "running".into(),
            running: true,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            networks: BTreeMap::new(),
        });
    }

    /// An engine on which creating `container` fails.
    pub(crate) fn failing_to_create(container: &str) -> RecordingEngine {
        RecordingEngine {
            fail_creating: Some(container.to_string()),
            ..RecordingEngine::default()
        }
    }

    fn record(&self, call: String) {
        self.state.lock().unwrap().calls.push(call);
    }
}

fn not_found(kind: ResourceKind, name: &str) -> RuntimeError {
    RuntimeError::NotFound {
        kind,
        name: name.to_string(),
        message: "no such object".into(),
    }
}

/// Removes the item called `name`; `None` when there was none (Docker's 404).
fn remove_named<T>(items: &mut Vec<T>, name: &str, name_of: impl Fn(&T) -> &String) -> Option<()> {
    let before = items.len();
    items.retain(|item| name_of(item) != name);
    (items.len() < before).then_some(())
}

impl ContainerEngine for RecordingEngine {
    fn create_network<'a>(&'a self, spec: &'a NetworkSpec) -> EngineFuture<'a, String> {
        self.record(format!("create_network {}", spec.name));
        let id = format!("{:0>12}", spec.name.len());
        self.state.lock().unwrap().networks.push(NetworkInfo {
            name: spec.name.clone(),
            id: id.clone(),
            subnets: vec![spec.subnet.into()],
            internal: spec.internal,
            labels: spec.labels.clone(),
            containers: BTreeMap::new(),
        });
        ready(Ok(id))
    }
    fn remove_network<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("remove_network {name}"));
        let removed = remove_named(&mut self.state.lock().unwrap().networks, name, |n| &n.name);
        ready(removed.ok_or_else(|| not_found(ResourceKind::Network, name)))
    }
    fn list_networks<'a>(&'a self, labels: LabelFilters<'a>) -> EngineFuture<'a, Vec<NetworkInfo>> {
        let state = self.state.lock().unwrap();
        let found = state
            .networks
            .iter()
            .filter(|n| matches(&n.labels, labels))
            .cloned()
            .collect();
        ready(Ok(found))
    }
    fn connect_network<'a>(
        &'a self,
        container: &'a str,
        network: &'a str,
        _ip: Option<IpAddr>,
    ) -> EngineFuture<'a, ()> {
        self.record(format!("connect_network {container} {network}"));
        ready(Ok(()))
    }
    fn disconnect_network<'a>(
        &'a self,
        container: &'a str,
        network: &'a str,
    ) -> EngineFuture<'a, ()> {
        self.record(format!("disconnect_network {container} {network}"));
        ready(Ok(()))
    }
    fn create_container<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, String> {
        self.record(format!("create_container {}", spec.name));
        if self.fail_creating.as_deref() == Some(spec.name.as_str()) {
            return ready(Err(RuntimeError::AlreadyExists {
                kind: ResourceKind::Container,
                name: spec.name.clone(),
                message: "Conflict. The container name is already in use".into(),
            }));
        }
        self.state.lock().unwrap().containers.push(ContainerInfo {
            name: spec.name.clone(),
            id: format!("id-{}", spec.name),
            image: spec.image.clone(),
            state: "created".into(),
            running: false,
            labels: spec.labels.clone(),
            networks: spec
                .networks
                .iter()
                .map(|(network, _)| (network.clone(), None))
                .collect(),
        });
        ready(Ok(format!("id-{}", spec.name)))
    }
    fn start_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("start_container {name}"));
        let mut state = self.state.lock().unwrap();
        for c in state.containers.iter_mut().filter(|c| c.name == name) {
            c.running = true;
            c.state = "running".into();
        }
        ready(Ok(()))
    }
    /// Started like `start_container`; its boot script says at once that it is ready.
    fn start_attached<'a>(&'a self, name: &'a str) -> EngineFuture<'a, OutputStream> {
        Box::pin(async move {
            self.start_container(name).await?;
            let said: OutputStream = Box::pin(futures::stream::iter([Ok(
                b"\n@@metallab-boot ready\n".to_vec(),
            )]));
            Ok(said)
        })
    }
    fn stop_container<'a>(&'a self, name: &'a str, _timeout: Duration) -> EngineFuture<'a, ()> {
        self.record(format!("stop_container {name}"));
        let mut state = self.state.lock().unwrap();
        for c in state.containers.iter_mut().filter(|c| c.name == name) {
            c.running = false;
            c.state = "exited".into();
        }
        ready(Ok(()))
    }
    fn remove_container<'a>(
        &'a self,
        name: &'a str,
        _force: bool,
        _volumes: bool,
    ) -> EngineFuture<'a, ()> {
        self.record(format!("remove_container {name}"));
        let removed = remove_named(&mut self.state.lock().unwrap().containers, name, |c| {
            &c.name
        });
        ready(removed.ok_or_else(|| not_found(ResourceKind::Container, name)))
    }
    fn list_containers<'a>(
        &'a self,
        labels: LabelFilters<'a>,
        _all: bool,
    ) -> EngineFuture<'a, Vec<ContainerInfo>> {
        let state = self.state.lock().unwrap();
        let found = state
            .containers
            .iter()
            .filter(|c| matches(&c.labels, labels))
            .cloned()
            .collect();
        ready(Ok(found))
    }
    fn inspect_container_raw<'a>(
        &'a self,
        _name: &'a str,
    ) -> EngineFuture<'a, Option<ContainerInspectResponse>> {
        ready(Ok(None))
    }
    fn exec<'a>(
        &'a self,
        container: &'a str,
        argv: &'a [String],
        _timeout: Duration,
    ) -> EngineFuture<'a, ExecOutput> {
        self.record(format!("exec {container} {}", argv.join(" ")));
        ready(Ok(ExecOutput {
            exit_code: 0,
            stdout: String::new(),
            stderr: String::new(),
        }))
    }
    fn upload_files<'a>(
        &'a self,
        container: &'a str,
        files: &'a [UploadFile],
    ) -> EngineFuture<'a, ()> {
        let paths: Vec<&str> = files.iter().map(|(path, _, _)| path.as_str()).collect();
        self.record(format!("upload_files {container} {}", paths.join(" ")));
        ready(Ok(()))
    }
    fn image_exists<'a>(&'a self, _tag: &'a str) -> EngineFuture<'a, bool> {
        ready(Ok(true))
    }
    fn list_images<'a>(&'a self, _labels: LabelFilters<'a>) -> EngineFuture<'a, Vec<ImageInfo>> {
        ready(Ok(vec![]))
    }
    fn remove_image<'a>(&'a self, tag: &'a str, _force: bool) -> EngineFuture<'a, ()> {
        self.record(format!("remove_image {tag}"));
        ready(Ok(()))
    }
    fn build_image<'a>(
        &'a self,
        spec: &'a BuildSpec<'a>,
        _progress: &'a (dyn Fn(&str) + Send + Sync),
    ) -> EngineFuture<'a, String> {
        self.record(format!("build_image {}", spec.tag));
        ready(Ok(spec.tag.to_string()))
    }
    fn allow_routing_within<'a>(
        &'a self,
        lab: &'a str,
        bridges: &'a [String],
    ) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send + 'a>> {
        self.record(format!("allow_routing_within {lab} {}", bridges.join(" ")));
        Box::pin(async move { Ok(bridges.len()) })
    }
    fn remove_routing_rules<'a>(
        &'a self,
        lab: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send + 'a>> {
        self.record(format!("remove_routing_rules {lab}"));
        Box::pin(async { Ok(0) })
    }
}
