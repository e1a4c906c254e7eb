//! `DockerRuntime`: the few Docker operations metallab needs, over bollard 0.21.
//!
//! Works with engines from API 1.41 (Docker 20.10) on: the version is negotiated at
//! connect time, containers are created on one network and connected to the others
//! before they start (API < 1.44 accepts a single endpoint at creation), and network
//! names are checked for duplicates by us (old engines create a second network with the
//! same name unless the client asks them not to, and bollard's current models cannot).

use crate::runtime::ExecOutput;
use crate::runtime::archive::{self, UploadFile};
pub use crate::runtime::error::RuntimeError;
use crate::runtime::error::{
    Op, ResourceKind, SubnetConflict, stuck_engine_error, unreachable_error,
};
use bollard::Docker;
use bollard::body_full;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerSummary, EndpointIpamConfig,
    EndpointSettings, ExecConfig, HostConfig, Ipam, IpamConfig, NetworkConnectRequest,
    NetworkCreateRequest, NetworkDisconnectRequest, NetworkInspect, NetworkingConfig,
};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, BuildImageOptionsBuilder, CreateContainerOptionsBuilder,
    InspectContainerOptions, InspectNetworkOptions, ListContainersOptionsBuilder,
    ListImagesOptionsBuilder, ListNetworksOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder, StopContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures::StreamExt;
use ipnet::{IpNet, Ipv4Net};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

type Result<T, E = RuntimeError> = std::result::Result<T, E>;

/// How many lines of build output a build failure carries.
const BUILD_ERROR_CONTEXT_LINES: usize = 15;

/// How long the first call (version negotiation) may take. A socket that accepts and
/// never answers must fail fast with its name, not hang the command.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Deadline of every other API call (bollard's per-request timeout, up to the response
/// headers). Calls that legitimately take longer get their own, longer deadline: exec
/// (its `timeout`), container stop (grace period on top), image builds (below).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// An image build fails when the engine sends nothing for this long: compiling steps
/// print output, a hung engine does not.
const BUILD_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// What an exec has attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attach {
    Nothing,
    Output,
    OutputAndStdin,
}

/// A connected, version-negotiated Docker client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    docker: Docker,
}

/// The engine's identity, for `metallab doctor`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EngineVersion {
    /// e.g. `20.10.24+dfsg1`.
    pub server_version: String,
    /// The newest API the engine speaks, e.g. `1.41`.
    pub api_version: String,
    pub min_api_version: Option<String>,
    /// The API version this client uses after negotiation.
    pub client_api_version: String,
    pub os: Option<String>,
    pub arch: Option<String>,
}

impl std::fmt::Display for EngineVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Docker {} (API {}, client uses {})",
            self.server_version, self.api_version, self.client_api_version
        )?;
        if let (Some(os), Some(arch)) = (&self.os, &self.arch) {
            write!(f, " on {os}/{arch}")?;
        }
        Ok(())
    }
}

/// A bridge network to create (IPv4: lab networks are IPv4, like the plan's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    pub name: String,
    pub subnet: Ipv4Net,
    /// The bridge's own address on the subnet.
    pub gateway: Ipv4Addr,
    /// No route out of the host (metallab's default).
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    /// The part of the subnet Docker may hand out dynamically (static IPs may lie outside).
    pub ip_range: Option<Ipv4Net>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NetworkInfo {
    pub name: String,
    pub id: String,
    pub subnets: Vec<IpNet>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    /// Attached containers by name, with their IPv4 address on this network.
    pub containers: BTreeMap<String, Option<Ipv4Addr>>,
}

/// What a container prints, as it comes.
pub type OutputStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<Vec<u8>, RuntimeError>> + Send>>;

/// A container to create (not start).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub hostname: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Overrides the image's CMD when set.
    pub cmd: Option<Vec<String>>,
    /// Linux capabilities such as `NET_ADMIN` (never `--privileged`).
    pub cap_add: Vec<String>,
    /// e.g. `net.ipv4.ip_forward` → `1`.
    pub sysctls: BTreeMap<String, String>,
    /// Run Docker's tiny init as PID 1 so daemons started by exec get reaped.
    pub init: bool,
    /// Docker networks in attach order, each with an optional static address. The first
    /// is the one the container is created on; none means no network at all.
    pub networks: Vec<(String, Option<IpAddr>)>,
    /// `KEY=value` entries.
    pub env: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerInfo {
    /// Without Docker's leading `/`.
    pub name: String,
    pub id: String,
    /// The image as named at creation (tag, not digest).
    pub image: String,
    /// Docker's state: `created`, `running`, `exited`, …
    pub state: String,
    pub running: bool,
    pub labels: BTreeMap<String, String>,
    /// Attached networks by name, with the IPv4 address: the live one when running, the
    /// configured static one otherwise (Docker reports none for stopped containers).
    pub networks: BTreeMap<String, Option<Ipv4Addr>>,
}

/// State of an exec started with [`DockerRuntime::exec_detached`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecState {
    pub running: bool,
    /// Set once the command has finished.
    pub exit_code: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageInfo {
    pub id: String,
    /// `repo:tag` names; empty for a dangling image.
    pub tags: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Unix seconds.
    pub created: i64,
    pub size: i64,
}

/// An image build from an in-memory context.
#[derive(Debug, Clone, Default)]
pub struct BuildSpec<'a> {
    pub tag: &'a str,
    /// Files by path relative to the context root; must include `Dockerfile`.
    pub context: &'a [(&'a str, &'a [u8])],
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Rebuild every step instead of reusing the build cache.
    pub no_cache: bool,
}

/// `[("io.metallab.lab", Some("demo")), ("io.metallab.role", None)]` → Docker's `label`
/// filter values (`key=value` matches the value, `key` matches presence).
pub fn label_filter_values(filters: &[(&str, Option<&str>)]) -> Vec<String> {
    filters
        .iter()
        .map(|(key, value)| match value {
            Some(v) => format!("{key}={v}"),
            None => (*key).to_string(),
        })
        .collect()
}

/// The existing networks whose subnets overlap `requested`.
pub fn overlapping_subnets(
    requested: IpNet,
    existing: &[(String, Vec<IpNet>)],
) -> Vec<SubnetConflict> {
    existing
        .iter()
        .flat_map(|(name, subnets)| {
            subnets
                .iter()
                .filter(move |s| {
                    s.contains(&requested.network()) || requested.contains(&s.network())
                })
                .map(move |s| SubnetConflict {
                    network: name.clone(),
                    subnet: *s,
                })
        })
        .collect()
}

fn label_filter_map(filters: &[(&str, Option<&str>)]) -> HashMap<String, Vec<String>> {
    let mut map = HashMap::new();
    if !filters.is_empty() {
        map.insert("label".to_string(), label_filter_values(filters));
    }
    map
}

fn to_hash_map(map: &BTreeMap<String, String>) -> HashMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn to_btree_map(map: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    map.unwrap_or_default().into_iter().collect()
}

/// Whether a static address lies in one of a network's subnets (vacuously true when
/// Docker reports none, e.g. for networks without IPAM config).
pub fn address_fits(subnets: &[IpNet], ip: IpAddr) -> bool {
    subnets.is_empty() || subnets.iter().any(|s| s.contains(&ip))
}

/// `10.0.1.2/24` or `10.0.1.2` → the address; empty or IPv6 → None.
fn parse_ipv4(text: &str) -> Option<Ipv4Addr> {
    text.split('/').next().and_then(|a| a.parse().ok())
}

fn endpoint_settings(ip: Option<IpAddr>) -> EndpointSettings {
    EndpointSettings {
        ipam_config: ip.map(|ip| match ip {
            IpAddr::V4(v4) => EndpointIpamConfig {
                ipv4_address: Some(v4.to_string()),
                ..Default::default()
            },
            IpAddr::V6(v6) => EndpointIpamConfig {
                ipv6_address: Some(v6.to_string()),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

/// Endpoint → IPv4: the live address, else the configured static one.
/// A container's networks by name with their IPv4 addresses, from either Docker's list or
/// its inspect view.
fn network_addresses(
    endpoints: Option<std::collections::HashMap<String, EndpointSettings>>,
) -> BTreeMap<String, Option<Ipv4Addr>> {
    endpoints
        .unwrap_or_default()
        .into_iter()
        .map(|(net, endpoint)| {
            let ip = endpoint_ipv4(&endpoint);
            (net, ip)
        })
        .collect()
}

fn endpoint_ipv4(endpoint: &EndpointSettings) -> Option<Ipv4Addr> {
    endpoint
        .ip_address
        .as_deref()
        .and_then(parse_ipv4)
        .or_else(|| {
            endpoint
                .ipam_config
                .as_ref()
                .and_then(|c| c.ipv4_address.as_deref())
                .and_then(parse_ipv4)
        })
}

fn network_info(inspect: NetworkInspect) -> NetworkInfo {
    let subnets = inspect
        .ipam
        .and_then(|ipam| ipam.config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.subnet.and_then(|s| s.parse().ok()))
        .collect();
    let containers = inspect
        .containers
        .unwrap_or_default()
        .into_values()
        .filter_map(|endpoint| {
            let name = endpoint.name?;
            Some((name, endpoint.ipv4_address.as_deref().and_then(parse_ipv4)))
        })
        .collect();
    NetworkInfo {
        name: inspect.name.unwrap_or_default(),
        id: inspect.id.unwrap_or_default(),
        subnets,
        internal: inspect.internal.unwrap_or(false),
        labels: to_btree_map(inspect.labels),
        containers,
    }
}

fn container_info_from_summary(summary: ContainerSummary) -> ContainerInfo {
    let state = summary.state.map(|s| s.to_string()).unwrap_or_default();
    let name = summary
        .names
        .unwrap_or_default()
        .into_iter()
        .next()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    let networks = network_addresses(summary.network_settings.and_then(|n| n.networks));
    ContainerInfo {
        name,
        id: summary.id.unwrap_or_default(),
        image: summary.image.unwrap_or_default(),
        running: state == "running",
        state,
        labels: to_btree_map(summary.labels),
        networks,
    }
}

fn container_info_from_inspect(inspect: ContainerInspectResponse) -> ContainerInfo {
    let (state, running) = inspect
        .state
        .map(|s| {
            (
                s.status.map(|st| st.to_string()).unwrap_or_default(),
                s.running.unwrap_or(false),
            )
        })
        .unwrap_or_default();
    let (image, labels) = inspect
        .config
        .map(|c| (c.image.unwrap_or_default(), to_btree_map(c.labels)))
        .unwrap_or_default();
    let networks = network_addresses(inspect.network_settings.and_then(|n| n.networks));
    ContainerInfo {
        name: inspect
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        id: inspect.id.unwrap_or_default(),
        image,
        state,
        running,
        labels,
        networks,
    }
}

/// Shell-like rendering of argv for error messages.
fn display_command(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"\\$`".contains(c)) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Advice for a failed image build, from Docker's error message.
fn build_hint(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let pull_failed = [
        "pull access denied",
        "repository does not exist",
        "manifest unknown",
        "no such host",
        "i/o timeout",
        "failed to resolve",
        "not found: manifest",
    ]
    .iter()
    .any(|needle| lower.contains(needle));
    if pull_failed {
        Some(
            "a FROM image is neither present locally nor pullable: check `docker image ls`, \
             pull or import it, or choose another base image"
                .into(),
        )
    } else if lower.contains("returned a non-zero code") {
        Some("a RUN step failed: its output is above".into())
    } else {
        None
    }
}

/// Splits streamed build text into lines for `progress`, keeping the tail for errors.
struct BuildLog<'p, P: Fn(&str)> {
    partial: String,
    tail: VecDeque<String>,
    progress: &'p P,
}

impl<'p, P: Fn(&str)> BuildLog<'p, P> {
    fn new(progress: &'p P) -> Self {
        BuildLog {
            partial: String::new(),
            tail: VecDeque::new(),
            progress,
        }
    }

    fn push_text(&mut self, text: &str) {
        self.partial.push_str(text);
        while let Some(pos) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=pos).collect();
            self.emit(line.trim_end_matches(['\n', '\r']));
        }
    }

    fn emit(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        (self.progress)(line);
        if self.tail.len() == BUILD_ERROR_CONTEXT_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
    }

    fn finish(&mut self) -> Vec<String> {
        let rest = std::mem::take(&mut self.partial);
        self.emit(rest.trim_end());
        self.tail.iter().cloned().collect()
    }
}

impl DockerRuntime {
    /// Connects like the `docker` CLI does (`DOCKER_HOST`, else the local socket) and
    /// negotiates the API version with the engine.
    pub async fn connect() -> Result<Self> {
        let docker = Docker::connect_with_defaults()
            .map_err(|e| unreachable_error(&e))?
            .with_timeout(CALL_TIMEOUT);
        let negotiated = tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version())
            .await
            .map_err(|_| stuck_engine_error(CONNECT_TIMEOUT))?;
        let docker = negotiated.map_err(|e| match e {
            bollard::errors::Error::DockerResponseServerError { .. } => {
                Op::new("negotiate", ResourceKind::Engine, "API version").error(e)
            }
            other => unreachable_error(&other),
        })?;
        Ok(DockerRuntime { docker })
    }

    /// A runtime whose every call fails without reaching any engine: for tests of code
    /// that must not touch Docker. `not_a_socket` must exist (bollard checks) and not be
    /// a socket.
    #[cfg(test)]
    pub(crate) fn unreachable(not_a_socket: &std::path::Path) -> Self {
        let docker = Docker::connect_with_unix(
            &not_a_socket.to_string_lossy(),
            5,
            bollard::API_DEFAULT_VERSION,
        )
        .expect("the path exists");
        DockerRuntime { docker }
    }

    /// The underlying client, for the rare call this type does not wrap.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    pub async fn version(&self) -> Result<EngineVersion> {
        let v = self
            .docker
            .version()
            .await
            .map_err(|e| Op::new("query", ResourceKind::Engine, "version").error(e))?;
        let client = self.docker.client_version();
        Ok(EngineVersion {
            server_version: v.version.unwrap_or_default(),
            api_version: v.api_version.unwrap_or_default(),
            min_api_version: v.min_api_version,
            client_api_version: format!("{}.{}", client.major_version, client.minor_version),
            os: v.os,
            arch: v.arch,
        })
    }

    // ---------------------------------------------------------------- networks

    /// Creates a bridge network. An existing network of the same name gives
    /// `AlreadyExists`; a subnet clash gives `SubnetOverlap` naming the other network.
    /// Returns the network id.
    pub async fn create_network(&self, spec: &NetworkSpec) -> Result<String> {
        let op = Op::new("create network", ResourceKind::Network, &spec.name);
        // Docker resolves ids and id prefixes too: only a network of this very name counts.
        let existing = self.inspect_network(&spec.name).await?;
        if existing.is_some_and(|n| n.name == spec.name) {
            return Err(RuntimeError::AlreadyExists {
                kind: ResourceKind::Network,
                name: spec.name.clone(),
                message: "a network with this name exists".into(),
            });
        }
        let request = NetworkCreateRequest {
            name: spec.name.clone(),
            driver: Some("bridge".into()),
            internal: Some(spec.internal),
            labels: Some(to_hash_map(&spec.labels)),
            ipam: Some(Ipam {
                config: Some(vec![IpamConfig {
                    subnet: Some(spec.subnet.to_string()),
                    gateway: Some(spec.gateway.to_string()),
                    ip_range: spec.ip_range.map(|r| r.to_string()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = match self.docker.create_network(request).await {
            Ok(created) => created,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code,
                message,
            }) if message.to_ascii_lowercase().contains("overlaps") => {
                return Err(self.subnet_overlap(spec, status_code, message).await);
            }
            Err(e) => return Err(op.error(e)),
        };
        // Lost a race with another creator: old engines then warn instead of refusing.
        if created.warning.contains("already exists") {
            let _ = self.docker.remove_network(&created.id).await;
            return Err(RuntimeError::AlreadyExists {
                kind: ResourceKind::Network,
                name: spec.name.clone(),
                message: created.warning,
            });
        }
        Ok(created.id)
    }

    async fn subnet_overlap(
        &self,
        spec: &NetworkSpec,
        status: u16,
        message: String,
    ) -> RuntimeError {
        let existing = match self.list_networks(&[]).await {
            Ok(networks) => networks
                .into_iter()
                .map(|n| (n.name, n.subnets))
                .collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        };
        let conflicts = overlapping_subnets(IpNet::V4(spec.subnet), &existing);
        let hint = match conflicts.first() {
            Some(c) => format!(
                "choose another subnet, or remove `{}` if it is left over (`docker network rm {}`)",
                c.network, c.network
            ),
            None => format!(
                "choose another subnet (Docker refused {} with status {status})",
                spec.subnet
            ),
        };
        RuntimeError::SubnetOverlap {
            network: spec.name.clone(),
            subnet: IpNet::V4(spec.subnet),
            conflicts,
            message: message.trim().to_string(),
            hint: Some(hint),
        }
    }

    pub async fn remove_network(&self, name: &str) -> Result<()> {
        self.docker
            .remove_network(name)
            .await
            .map_err(|e| Op::new("remove network", ResourceKind::Network, name).error(e))
    }

    /// Networks carrying all the given labels, with their attached containers, by name.
    pub async fn list_networks(
        &self,
        label_filters: &[(&str, Option<&str>)],
    ) -> Result<Vec<NetworkInfo>> {
        let options = ListNetworksOptionsBuilder::default()
            .filters(&label_filter_map(label_filters))
            .build();
        let summaries = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(|e| Op::new("list networks", ResourceKind::Network, "*").error(e))?;
        // The list endpoint leaves `Containers` empty: inspect each network for them.
        let mut networks = Vec::with_capacity(summaries.len());
        for summary in summaries {
            let Some(id) = summary.id else { continue };
            // Removed between list and inspect: simply not there any more.
            if let Some(info) = self.inspect_network(&id).await? {
                networks.push(info);
            }
        }
        networks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(networks)
    }

    /// The network by name or id, or `None` when there is none.
    pub async fn inspect_network(&self, name: &str) -> Result<Option<NetworkInfo>> {
        Ok(self.inspect_network_raw(name).await?.map(network_info))
    }

    /// The network's full inspect document, or `None` when there is none.
    async fn inspect_network_raw(&self, name: &str) -> Result<Option<NetworkInspect>> {
        match self
            .docker
            .inspect_network(name, None::<InspectNetworkOptions>)
            .await
        {
            Ok(inspect) => Ok(Some(inspect)),
            Err(e) => match Op::new("inspect network", ResourceKind::Network, name).error(e) {
                RuntimeError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Attaches a container to a network, with a static address when given.
    pub async fn connect_network(
        &self,
        container: &str,
        network: &str,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        let request = NetworkConnectRequest {
            container: container.to_string(),
            endpoint_config: Some(endpoint_settings(ip)),
        };
        self.docker
            .connect_network(network, request)
            .await
            .map_err(|e| Op::new("connect network", ResourceKind::Network, network).error(e))
    }

    pub async fn disconnect_network(&self, container: &str, network: &str) -> Result<()> {
        let request = NetworkDisconnectRequest {
            container: container.to_string(),
            force: Some(true),
        };
        self.docker
            .disconnect_network(network, request)
            .await
            .map_err(|e| Op::new("disconnect network", ResourceKind::Network, network).error(e))
    }

    // -------------------------------------------------------------- containers

    /// Creates (does not start) a container on its first network and connects it to the
    /// others with their static addresses. On failure nothing is left behind.
    /// Returns the container id.
    ///
    /// Networks and addresses are checked first: engines before API 1.44 accept any
    /// network and address for a created container and only fail at start.
    pub async fn create_container(&self, spec: &ContainerSpec) -> Result<String> {
        for (network, ip) in &spec.networks {
            let Some(info) = self.inspect_network(network).await? else {
                return Err(RuntimeError::NotFound {
                    kind: ResourceKind::Network,
                    name: network.clone(),
                    message: format!("container `{}` is to be attached to it", spec.name),
                });
            };
            if let Some(ip) = ip
                && !address_fits(&info.subnets, *ip)
            {
                return Err(RuntimeError::AddressOutsideNetwork {
                    container: spec.name.clone(),
                    network: network.clone(),
                    ip: *ip,
                    subnets: info.subnets,
                });
            }
        }
        let (first, rest) = match spec.networks.split_first() {
            Some((first, rest)) => (Some(first), rest),
            None => (None, &[][..]),
        };
        let host_config = HostConfig {
            cap_add: (!spec.cap_add.is_empty()).then(|| spec.cap_add.clone()),
            sysctls: (!spec.sysctls.is_empty()).then(|| to_hash_map(&spec.sysctls)),
            init: spec.init.then_some(true),
            network_mode: Some(first.map_or_else(|| "none".to_string(), |(net, _)| net.clone())),
            ..Default::default()
        };
        let networking_config = first.map(|(net, ip)| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(net.clone(), endpoint_settings(*ip))])),
        });
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            hostname: spec.hostname.clone(),
            labels: Some(to_hash_map(&spec.labels)),
            cmd: spec.cmd.clone(),
            env: (!spec.env.is_empty()).then(|| spec.env.clone()),
            host_config: Some(host_config),
            networking_config,
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| {
                match Op::new("create container", ResourceKind::Container, &spec.name).error(e) {
                    // The only thing create can fail to find is the image (or the network).
                    RuntimeError::NotFound { message, .. } if message.contains("image") => {
                        RuntimeError::NotFound {
                            kind: ResourceKind::Image,
                            name: spec.image.clone(),
                            message,
                        }
                    }
                    RuntimeError::NotFound { message, .. } => RuntimeError::NotFound {
                        kind: ResourceKind::Network,
                        name: first.map(|(n, _)| n.clone()).unwrap_or_default(),
                        message,
                    },
                    other => other,
                }
            })?;
        for (network, ip) in rest {
            if let Err(err) = self.connect_network(&created.id, network, *ip).await {
                // Roll back: a half-connected container would start with missing links.
                let _ = self.remove_container(&created.id, true, true).await;
                return Err(err);
            }
        }
        Ok(created.id)
    }

    /// Starts a created or stopped container and returns what it prints from this start
    /// on (standard output and error as one stream of bytes), as it comes: attached
    /// before the start, as `docker start -a` does, so nothing is missed and nothing of
    /// an earlier run is replayed. The stream ends when the container stops.
    pub async fn start_attached(&self, name: &str) -> Result<OutputStream> {
        let options = AttachContainerOptionsBuilder::default()
            .stream(true)
            .stdout(true)
            .stderr(true)
            .build();
        let attached = self
            .docker
            .attach_container(name, Some(options))
            .await
            .map_err(|e| Op::new("attach to container", ResourceKind::Container, name).error(e))?;
        self.start_container(name).await?;
        let name = name.to_string();
        Ok(Box::pin(attached.output.map(move |item| {
            item.map(|o| o.into_bytes().to_vec()).map_err(|e| {
                Op::new(
                    "read the output of container",
                    ResourceKind::Container,
                    &name,
                )
                .error(e)
            })
        })))
    }

    pub async fn start_container(&self, name: &str) -> Result<()> {
        self.docker
            .start_container(name, None)
            .await
            .map_err(|e| Op::new("start container", ResourceKind::Container, name).error(e))
    }

    /// Stops with SIGTERM, then SIGKILL after `timeout`. Stopping a stopped container is fine.
    pub async fn stop_container(&self, name: &str, timeout: Duration) -> Result<()> {
        let seconds = i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::default().t(seconds).build();
        // The engine answers only once the container is down: give the request that long.
        let client_timeout = timeout
            .as_secs()
            .saturating_add(self.docker.timeout().as_secs());
        self.docker
            .clone()
            .with_timeout(Duration::from_secs(client_timeout))
            .stop_container(name, Some(options))
            .await
            .map_err(|e| Op::new("stop container", ResourceKind::Container, name).error(e))
    }

    pub async fn remove_container(&self, name: &str, force: bool, volumes: bool) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(force)
            .v(volumes)
            .build();
        self.docker
            .remove_container(name, Some(options))
            .await
            .map_err(|e| Op::new("remove container", ResourceKind::Container, name).error(e))
    }

    /// Containers carrying all the given labels (running only unless `all`), by name.
    pub async fn list_containers(
        &self,
        label_filters: &[(&str, Option<&str>)],
        all: bool,
    ) -> Result<Vec<ContainerInfo>> {
        let options = ListContainersOptionsBuilder::default()
            .all(all)
            .filters(&label_filter_map(label_filters))
            .build();
        let mut containers: Vec<ContainerInfo> = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| Op::new("list containers", ResourceKind::Container, "*").error(e))?
            .into_iter()
            .map(container_info_from_summary)
            .collect();
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(containers)
    }

    /// The container by name or id, or `None` when there is none.
    pub async fn inspect_container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        Ok(self
            .inspect_container_raw(name)
            .await?
            .map(container_info_from_inspect))
    }

    // ------------------------------------------------------------------- exec

    /// Runs `argv` in a running container and waits for it, up to `timeout`.
    ///
    /// On timeout the command is not killed (Docker cannot kill an exec); the error
    /// carries what it had printed so far.
    pub async fn exec<S: AsRef<str>>(
        &self,
        container: &str,
        argv: &[S],
        timeout: Duration,
    ) -> Result<ExecOutput> {
        let argv: Vec<String> = argv.iter().map(|a| a.as_ref().to_string()).collect();
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        // The stream borrows the buffers until it is dropped (ended or timed out).
        let outcome = {
            let run = self.exec_stream(container, &argv, |is_stderr, bytes| {
                if is_stderr {
                    stderr.extend_from_slice(bytes)
                } else {
                    stdout.extend_from_slice(bytes)
                }
            });
            tokio::time::timeout(timeout, run).await
        };
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        match outcome {
            Ok(Ok(exit_code)) => Ok(ExecOutput {
                exit_code,
                stdout: text(&stdout),
                stderr: text(&stderr),
            }),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(RuntimeError::ExecTimeout {
                container: container.to_string(),
                command: display_command(&argv),
                timeout,
                partial: ExecOutput {
                    exit_code: -1,
                    stdout: text(&stdout),
                    stderr: text(&stderr),
                },
            }),
        }
    }

    /// An exec of `argv` in the container, with what `attach` says attached; its id.
    async fn create_exec<S: AsRef<str>>(
        &self,
        container: &str,
        argv: &[S],
        attach: Attach,
    ) -> Result<String> {
        let output = attach != Attach::Nothing;
        let config = ExecConfig {
            cmd: Some(argv.iter().map(|a| a.as_ref().to_string()).collect()),
            attach_stdout: Some(output),
            attach_stderr: Some(output),
            attach_stdin: Some(attach == Attach::OutputAndStdin),
            ..Default::default()
        };
        Ok(self
            .docker
            .create_exec(container, config)
            .await
            .map_err(|e| Op::new("exec in", ResourceKind::Container, container).error(e))?
            .id)
    }

    /// Runs `argv` in a running container and hands its output to `on_output` chunk by
    /// chunk as it comes (`true` for stderr), until the command ends; returns its exit
    /// code. No deadline: the caller decides when to stop the command (from another exec).
    pub async fn exec_stream<S: AsRef<str>>(
        &self,
        container: &str,
        argv: &[S],
        on_output: impl FnMut(bool, &[u8]),
    ) -> Result<i64> {
        let ran = self
            .exec_streaming(
                container,
                argv,
                Attach::Output,
                std::future::pending(),
                on_output,
            )
            .await?;
        Ok(ran.expect("never asked to stop"))
    }

    /// [`Self::exec_stream`] with the command's stdin attached and left open: it reaches
    /// end-of-file when the command's output is let go, so a command that waits for that
    /// on its stdin ends with its reader, even one that died. `stop` is only heeded once
    /// the output is attached (the exec then returns None): let go while Docker is still
    /// starting it, the command could miss its end-of-file.
    pub async fn exec_stream_bound<S: AsRef<str>>(
        &self,
        container: &str,
        argv: &[S],
        stop: impl Future<Output = ()>,
        on_output: impl FnMut(bool, &[u8]),
    ) -> Result<Option<i64>> {
        self.exec_streaming(container, argv, Attach::OutputAndStdin, stop, on_output)
            .await
    }

    async fn exec_streaming<S: AsRef<str>>(
        &self,
        container: &str,
        argv: &[S],
        attach: Attach,
        stop: impl Future<Output = ()>,
        mut on_output: impl FnMut(bool, &[u8]),
    ) -> Result<Option<i64>> {
        let op = Op::new("exec in", ResourceKind::Container, container);
        let exec_id = self.create_exec(container, argv, attach).await?;
        let started = self
            .docker
            .start_exec(&exec_id, None)
            .await
            .map_err(|e| op.error(e))?;
        // The stdin half is held (not written) until the output ends.
        if let StartExecResults::Attached { mut output, input } = started {
            let _stdin = input;
            tokio::pin!(stop);
            loop {
                let chunk = tokio::select! {
                    chunk = output.next() => chunk,
                    () = &mut stop => return Ok(None),
                };
                let Some(chunk) = chunk else { break };
                match chunk.map_err(|e| op.error(e))? {
                    bollard::container::LogOutput::StdErr { message } => on_output(true, &message),
                    bollard::container::LogOutput::StdOut { message }
                    | bollard::container::LogOutput::Console { message } => {
                        on_output(false, &message)
                    }
                    bollard::container::LogOutput::StdIn { .. } => {}
                }
            }
        }
        // The output stream can close just before the process is reaped. Docker leaves
        // the code unset only if it lost track of the process.
        loop {
            let state = self.exec_state(&exec_id).await?;
            if !state.running {
                return Ok(Some(state.exit_code.unwrap_or(-1)));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts `argv` in the background (daemons); returns the exec id for [`Self::exec_state`].
    pub async fn exec_detached<S: AsRef<str>>(
        &self,
        container: &str,
        argv: &[S],
    ) -> Result<String> {
        let op = Op::new("exec in", ResourceKind::Container, container);
        let exec_id = self.create_exec(container, argv, Attach::Nothing).await?;
        let options = StartExecOptions {
            detach: true,
            ..Default::default()
        };
        self.docker
            .start_exec(&exec_id, Some(options))
            .await
            .map_err(|e| op.error(e))?;
        Ok(exec_id)
    }

    pub async fn exec_state(&self, exec_id: &str) -> Result<ExecState> {
        let inspect = self
            .docker
            .inspect_exec(exec_id)
            .await
            .map_err(|e| Op::new("inspect", ResourceKind::Exec, exec_id).error(e))?;
        Ok(ExecState {
            running: inspect.running.unwrap_or(false),
            exit_code: inspect.exit_code,
        })
    }

    // ------------------------------------------------------------------ files

    /// Writes files (absolute path, contents, mode) into a container, creating missing
    /// parent directories. Files are owned by root. Works on created or running containers.
    pub async fn upload_files(&self, container: &str, files: &[UploadFile]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let mtime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let tar = archive::upload_tar(files, mtime)?;
        let options = UploadToContainerOptionsBuilder::default().path("/").build();
        self.docker
            .upload_to_container(container, Some(options), body_full(tar.into()))
            .await
            .map_err(|e| Op::new("upload files to", ResourceKind::Container, container).error(e))
    }

    /// The container's stdout and stderr as one text; the last `tail` lines when given.
    pub async fn logs(&self, container: &str, tail: Option<usize>) -> Result<String> {
        let tail = tail.map_or_else(|| "all".to_string(), |n| n.to_string());
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&tail)
            .build();
        let op = Op::new("read logs of", ResourceKind::Container, container);
        let mut bytes = Vec::new();
        // The client timeout ends at the response headers; this bounds the whole stream.
        let read = async {
            let mut stream = self.docker.logs(container, Some(options));
            while let Some(chunk) = stream.next().await {
                bytes.extend_from_slice(chunk.map_err(|e| op.error(e))?.as_ref());
            }
            Ok::<_, RuntimeError>(())
        };
        tokio::time::timeout(CALL_TIMEOUT, read)
            .await
            .map_err(|_| stuck_engine_error(CALL_TIMEOUT))??;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    // ----------------------------------------------------------------- images

    pub async fn image_exists(&self, tag: &str) -> Result<bool> {
        match self.docker.inspect_image(tag).await {
            Ok(_) => Ok(true),
            Err(e) => match Op::new("inspect image", ResourceKind::Image, tag).error(e) {
                RuntimeError::NotFound { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Removes an image (by tag: other tags of the same image stay).
    pub async fn remove_image(&self, tag: &str, force: bool) -> Result<()> {
        let options = RemoveImageOptionsBuilder::default().force(force).build();
        self.docker
            .remove_image(tag, Some(options), None)
            .await
            .map(|_| ())
            .map_err(|e| Op::new("remove image", ResourceKind::Image, tag).error(e))
    }

    /// Images carrying all the given labels, dangling ones included, newest first.
    pub async fn list_images(
        &self,
        label_filters: &[(&str, Option<&str>)],
    ) -> Result<Vec<ImageInfo>> {
        let options = ListImagesOptionsBuilder::default()
            .all(false)
            .filters(&label_filter_map(label_filters))
            .build();
        let mut images: Vec<ImageInfo> = self
            .docker
            .list_images(Some(options))
            .await
            .map_err(|e| Op::new("list images", ResourceKind::Image, "*").error(e))?
            .into_iter()
            .map(|summary| ImageInfo {
                id: summary.id,
                tags: summary
                    .repo_tags
                    .into_iter()
                    .filter(|t| t != "<none>:<none>")
                    .collect(),
                labels: summary.labels.into_iter().collect(),
                created: summary.created,
                size: summary.size,
            })
            .collect();
        images.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        Ok(images)
    }

    /// Builds an image from an in-memory context with the classic builder, passing each
    /// output line to `progress`. Returns the tag.
    pub async fn build_image(
        &self,
        spec: &BuildSpec<'_>,
        progress: impl Fn(&str),
    ) -> Result<String> {
        let context = archive::context_tar(spec.context)?;
        let options = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(spec.tag)
            .rm(true)
            .forcerm(true)
            .nocache(spec.no_cache)
            .buildargs(&to_hash_map(&spec.build_args))
            .labels(&to_hash_map(&spec.labels))
            .build();
        let mut log = BuildLog::new(&progress);
        let failure = {
            // Uploading the context and pulling base images can outlast CALL_TIMEOUT.
            let docker = self.docker.clone().with_timeout(BUILD_IDLE_TIMEOUT);
            let mut stream = docker.build_image(options, None, Some(body_full(context.into())));
            let mut failure = None;
            loop {
                let Ok(next) = tokio::time::timeout(BUILD_IDLE_TIMEOUT, stream.next()).await else {
                    failure = Some(format!(
                        "no output from the Docker engine for {}: is it hung?",
                        humantime::format_duration(BUILD_IDLE_TIMEOUT)
                    ));
                    break;
                };
                let Some(item) = next else { break };
                match item {
                    Ok(info) => {
                        if let Some(text) = info.stream.as_deref() {
                            log.push_text(text);
                        }
                        if let Some(status) = info.status.as_deref() {
                            let line = match info.id.as_deref() {
                                Some(id) => format!("{id}: {status}\n"),
                                None => format!("{status}\n"),
                            };
                            log.push_text(&line);
                        }
                    }
                    Err(bollard::errors::Error::DockerStreamError { error }) => {
                        failure = Some(error);
                        break;
                    }
                    Err(bollard::errors::Error::DockerResponseServerError { message, .. }) => {
                        failure = Some(message);
                        break;
                    }
                    Err(other) => {
                        return Err(
                            Op::new("build image", ResourceKind::Image, spec.tag).error(other)
                        );
                    }
                }
            }
            failure
        };
        let last_lines = log.finish();
        let failure = match failure {
            Some(message) => Some(message),
            None if !self.image_exists(spec.tag).await? => {
                Some("the build ended without producing the image".to_string())
            }
            None => None,
        };
        match failure {
            Some(message) => Err(RuntimeError::BuildFailed {
                tag: spec.tag.to_string(),
                hint: build_hint(&message),
                message: message.trim().to_string(),
                last_lines,
            }),
            None => Ok(spec.tag.to_string()),
        }
    }

    /// The container's full inspect document (by name or id), or `None` when there is
    /// none. For readers that need more than [`ContainerInfo`] carries, such as cluster
    /// node discovery, which reads per-network endpoints and kind/minikube labels.
    pub async fn inspect_container_raw(
        &self,
        name: &str,
    ) -> Result<Option<ContainerInspectResponse>> {
        match self
            .docker
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
        {
            Ok(inspect) => Ok(Some(inspect)),
            Err(e) => match Op::new("inspect container", ResourceKind::Container, name).error(e) {
                RuntimeError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// `docker inspect` of a container as Docker's own JSON (snapshots), or `None`.
    pub async fn inspect_container_json(&self, name: &str) -> Result<Option<serde_json::Value>> {
        Ok(self
            .inspect_container_raw(name)
            .await?
            .map(|inspect| serde_json::to_value(inspect).expect("bollard models serialize")))
    }

    /// `docker network inspect` as Docker's own JSON, or `None` when there is none.
    pub async fn inspect_network_json(&self, name: &str) -> Result<Option<serde_json::Value>> {
        Ok(self
            .inspect_network_raw(name)
            .await?
            .map(|inspect| serde_json::to_value(inspect).expect("bollard models serialize")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn label_filters_match_value_or_presence() {
        assert_eq!(
            label_filter_values(&[
                ("io.metallab.lab", Some("demo")),
                ("io.metallab.role", None)
            ]),
            vec![
                "io.metallab.lab=demo".to_string(),
                "io.metallab.role".to_string()
            ]
        );
        assert!(label_filter_map(&[]).is_empty());
    }

    #[test]
    fn overlaps_are_found_in_both_directions() {
        let existing = vec![
            ("kind".to_string(), vec!["10.213.0.0/16".parse().unwrap()]),
            ("lab-a".to_string(), vec!["10.214.1.0/24".parse().unwrap()]),
            ("v6".to_string(), vec!["fd00::/64".parse().unwrap()]),
            ("far".to_string(), vec!["10.215.0.0/24".parse().unwrap()]),
        ];
        // Requested inside an existing one.
        assert_eq!(
            overlapping_subnets("10.213.5.0/24".parse().unwrap(), &existing),
            vec![SubnetConflict {
                network: "kind".into(),
                subnet: "10.213.0.0/16".parse().unwrap()
            }]
        );
        // Requested around an existing one.
        assert_eq!(
            overlapping_subnets("10.214.0.0/16".parse().unwrap(), &existing)
                .iter()
                .map(|c| c.network.as_str())
                .collect::<Vec<_>>(),
            vec!["lab-a"]
        );
        assert!(overlapping_subnets("10.216.0.0/24".parse().unwrap(), &existing).is_empty());
    }

    #[test]
    fn addresses_must_fit_a_subnet_when_there_are_any() {
        let subnets: Vec<IpNet> = vec![
            "10.213.1.0/24".parse().unwrap(),
            "fd00::/64".parse().unwrap(),
        ];
        assert!(address_fits(&subnets, "10.213.1.200".parse().unwrap()));
        assert!(address_fits(&subnets, "fd00::5".parse().unwrap()));
        assert!(!address_fits(&subnets, "10.213.2.1".parse().unwrap()));
        assert!(address_fits(&[], "192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn ipv4_parsing_accepts_cidr_and_rejects_empty() {
        assert_eq!(parse_ipv4("10.0.1.2/24"), Some(Ipv4Addr::new(10, 0, 1, 2)));
        assert_eq!(parse_ipv4("10.0.1.2"), Some(Ipv4Addr::new(10, 0, 1, 2)));
        assert_eq!(parse_ipv4(""), None);
        assert_eq!(parse_ipv4("fd00::2/64"), None);
    }

    #[test]
    fn stopped_containers_report_their_static_address() {
        let stopped = EndpointSettings {
            ip_address: Some(String::new()),
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: Some("10.213.1.10".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(endpoint_ipv4(&stopped), Some(Ipv4Addr::new(10, 213, 1, 10)));
        let dynamic = EndpointSettings {
            ip_address: Some("10.213.1.77".into()),
            ..Default::default()
        };
        assert_eq!(endpoint_ipv4(&dynamic), Some(Ipv4Addr::new(10, 213, 1, 77)));
    }

    #[test]
    fn commands_are_quoted_for_messages() {
        let argv = ["vtysh", "-c", "show bgp summary json", ""].map(String::from);
        assert_eq!(
            display_command(&argv),
            "vtysh -c 'show bgp summary json' ''"
        );
    }

    #[test]
    fn build_log_splits_streamed_text_into_lines_and_keeps_the_tail() {
        let seen = RefCell::new(Vec::new());
        let progress = |line: &str| seen.borrow_mut().push(line.to_string());
        let mut log = BuildLog::new(&progress);
        log.push_text("Step 1/2 : FROM debian\n ---> ec8c");
        log.push_text("c\n\nStep 2/2 : RUN false\r\n");
        for i in 0..20 {
            log.push_text(&format!("line {i}\n"));
        }
        log.push_text("unterminated");
        let tail = log.finish();
        assert_eq!(
            seen.borrow()[..3],
            [
                "Step 1/2 : FROM debian",
                " ---> ec8cc",
                "Step 2/2 : RUN false"
            ]
        );
        assert_eq!(tail.len(), BUILD_ERROR_CONTEXT_LINES);
        assert_eq!(tail.last().map(String::as_str), Some("unterminated"));
        assert_eq!(tail.first().map(String::as_str), Some("line 6"));
    }

    #[test]
    fn build_hints_recognise_pull_and_run_failures() {
        assert!(
            build_hint("pull access denied for debian, repository does not exist")
                .unwrap()
                .contains("FROM image")
        );
        assert!(
            build_hint("The command '/bin/sh -c false' returned a non-zero code: 1")
                .unwrap()
                .contains("RUN step")
        );
        assert_eq!(build_hint("something else"), None);
    }
}
