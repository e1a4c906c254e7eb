//! Errors of the Docker edge: one type, carrying Docker's own message plus a hint where
//! we know what the user can do about it.

use crate::error_chain::error_chain;
use crate::runtime::ExecOutput;
use crate::topology::model::RouterKind;
use ipnet::IpNet;
use std::fmt;
use std::time::Duration;

/// What kind of Docker object an error is about (for messages and matching).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Engine,
    Network,
    Container,
    Image,
    Exec,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::Engine => "engine",
            ResourceKind::Network => "network",
            ResourceKind::Container => "container",
            ResourceKind::Image => "image",
            ResourceKind::Exec => "exec",
        })
    }
}

/// An existing Docker network whose subnet overlaps a requested one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetConflict {
    pub network: String,
    pub subnet: IpNet,
}

impl fmt::Display for SubnetConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "network `{}` ({})", self.network, self.subnet)
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RuntimeError {
    /// The engine could not be reached at all (not running, no permission, wrong host).
    #[error("cannot reach the Docker engine at {endpoint}: {message}")]
    Unreachable {
        endpoint: String,
        message: String,
        #[help]
        hint: Option<String>,
    },

    #[error("{kind} `{name}` not found: {message}")]
    NotFound {
        kind: ResourceKind,
        name: String,
        message: String,
    },

    /// Returned by the create calls when an object of that name exists already; the caller
    /// decides whether that is fine (idempotent `up`) or a conflict.
    #[error("{kind} `{name}` already exists")]
    AlreadyExists {
        kind: ResourceKind,
        name: String,
        message: String,
    },

    /// The object exists but Docker refused the operation on it (in use, removal in
    /// progress, …).
    #[error("{kind} `{name}`: {message}")]
    Conflict {
        kind: ResourceKind,
        name: String,
        message: String,
        #[help]
        hint: Option<String>,
    },

    #[error("subnet {subnet} of network `{network}` overlaps {}: {message}", describe_conflicts(.conflicts))]
    SubnetOverlap {
        network: String,
        subnet: IpNet,
        /// The existing networks that own an overlapping subnet (empty when Docker's
        /// overlap is with something we could not find, e.g. a network being removed).
        conflicts: Vec<SubnetConflict>,
        message: String,
        #[help]
        hint: Option<String>,
    },

    /// A static address that lies outside every subnet of its network.
    #[error("address {ip} for container `{container}` is outside network `{network}` ({})", describe_subnets(.subnets))]
    #[diagnostic(help("pick an address inside the network's subnet"))]
    AddressOutsideNetwork {
        container: String,
        network: String,
        ip: std::net::IpAddr,
        subnets: Vec<IpNet>,
    },

    /// The command did not finish in time. Nothing was killed: the process may still run.
    #[error("`{command}` in container `{container}` did not finish within {}", humantime::format_duration(*.timeout))]
    ExecTimeout {
        container: String,
        command: String,
        timeout: Duration,
        /// What the command had written before the deadline.
        partial: ExecOutput,
    },

    #[error("building image `{tag}` failed: {message}{}", format_last_lines(.last_lines))]
    BuildFailed {
        tag: String,
        message: String,
        /// The last lines of build output before the failure.
        last_lines: Vec<String>,
        #[help]
        hint: Option<String>,
    },

    #[error("metallab has no built-in image for router kind `{kind}`")]
    #[diagnostic(help("give the router an `image:` of your own"))]
    NoImageForKind { kind: RouterKind },

    #[error("preparing a tar archive: {0}")]
    Archive(String),

    /// Any other answer from Docker: the operation, the status code when there was one,
    /// and Docker's message verbatim.
    #[error("Docker {operation} failed{}: {message}", .status.map(|s| format!(" ({s})")).unwrap_or_default())]
    Docker {
        operation: String,
        status: Option<u16>,
        message: String,
        #[help]
        hint: Option<String>,
    },
}

impl RuntimeError {
    /// The advice attached to this error, if any (also shown as miette's `help`).
    pub fn hint(&self) -> Option<String> {
        match self {
            RuntimeError::Unreachable { hint, .. }
            | RuntimeError::Conflict { hint, .. }
            | RuntimeError::SubnetOverlap { hint, .. }
            | RuntimeError::BuildFailed { hint, .. }
            | RuntimeError::Docker { hint, .. } => hint.clone(),
            RuntimeError::NoImageForKind { .. } => {
                Some("give the router an `image:` of your own".into())
            }
            RuntimeError::AddressOutsideNetwork { .. } => {
                Some("pick an address inside the network's subnet".into())
            }
            RuntimeError::NotFound { .. }
            | RuntimeError::AlreadyExists { .. }
            | RuntimeError::ExecTimeout { .. }
            | RuntimeError::Archive(_) => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, RuntimeError::NotFound { .. })
    }

    pub fn is_already_exists(&self) -> bool {
        matches!(self, RuntimeError::AlreadyExists { .. })
    }
}

fn describe_conflicts(conflicts: &[SubnetConflict]) -> String {
    if conflicts.is_empty() {
        return "an existing Docker address pool".into();
    }
    conflicts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_subnets(subnets: &[IpNet]) -> String {
    subnets
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn format_last_lines(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nlast lines of build output:");
    for line in lines {
        out.push_str("\n  ");
        out.push_str(line);
    }
    out
}

/// What we were doing when Docker answered with an error; turns bollard's error into ours.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Op<'a> {
    /// Human phrase: "create network", "exec", …
    pub action: &'static str,
    pub kind: ResourceKind,
    pub name: &'a str,
}

impl<'a> Op<'a> {
    pub(crate) fn new(action: &'static str, kind: ResourceKind, name: &'a str) -> Self {
        Op { action, kind, name }
    }

    /// Maps a bollard error: 404 → NotFound, 409 → AlreadyExists for creations and
    /// Conflict otherwise, transport failures → Unreachable, anything else → Docker.
    pub(crate) fn error(self, err: bollard::errors::Error) -> RuntimeError {
        use bollard::errors::Error as B;
        match err {
            B::DockerResponseServerError {
                status_code,
                message,
            } => self.server_error(status_code, message),
            B::DockerStreamError { error } => RuntimeError::Docker {
                operation: format!("{} `{}`", self.action, self.name),
                status: None,
                message: error,
                hint: None,
            },
            other if is_transport_error(&other) => unreachable_error(&other),
            other => RuntimeError::Docker {
                operation: format!("{} `{}`", self.action, self.name),
                status: None,
                message: error_chain(&other),
                hint: None,
            },
        }
    }

    fn server_error(self, status: u16, message: String) -> RuntimeError {
        let message = message.trim().to_string();
        match status {
            404 => RuntimeError::NotFound {
                kind: self.kind,
                name: self.name.to_string(),
                message,
            },
            409 if self.action.starts_with("create") => RuntimeError::AlreadyExists {
                kind: self.kind,
                name: self.name.to_string(),
                message,
            },
            409 => RuntimeError::Conflict {
                kind: self.kind,
                name: self.name.to_string(),
                hint: conflict_hint(self.kind, &message),
                message,
            },
            _ => RuntimeError::Docker {
                operation: format!("{} `{}`", self.action, self.name),
                status: Some(status),
                hint: server_hint(&message),
                message,
            },
        }
    }
}

fn conflict_hint(kind: ResourceKind, message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    if kind == ResourceKind::Image && lower.contains("being used") {
        return Some("remove the containers using it first (`metallab down`)".into());
    }
    if kind == ResourceKind::Container && lower.contains("is not running") {
        return Some("start the lab first (`metallab up`)".into());
    }
    None
}

fn server_hint(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    if lower.contains("operation not permitted") || lower.contains("privileged") {
        return Some(
            "this engine may refuse some capabilities or sysctls; metallab never uses --privileged"
                .into(),
        );
    }
    if lower.contains("address already in use") {
        return Some("another container already has this IP on that network".into());
    }
    if lower.contains("no available ipv4 addresses") {
        return Some("the network's address range is full".into());
    }
    if lower.contains("has active endpoints") {
        return Some(
            "`docker network inspect NETWORK` lists the containers still on it; when it \
             lists none, dockerd kept an endpoint of a removed container: restarting dockerd \
             clears it, then run `metallab down` again"
                .into(),
        );
    }
    None
}

/// Whether the error means "we never got an HTTP answer" rather than "Docker said no".
fn is_transport_error(err: &bollard::errors::Error) -> bool {
    use bollard::errors::Error as B;
    matches!(
        err,
        B::SocketNotFoundError(_)
            | B::HyperLegacyError { .. }
            | B::HyperResponseError { .. }
            | B::IOError { .. }
            | B::UnsupportedURISchemeError { .. }
            | B::RequestTimeoutError
    )
}

/// The Docker endpoint we talk to, for messages: `DOCKER_HOST` or the default socket.
pub(crate) fn docker_endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into())
}

pub(crate) fn unreachable_error(err: &bollard::errors::Error) -> RuntimeError {
    let message = error_chain(err);
    let docker_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    RuntimeError::Unreachable {
        endpoint: docker_endpoint(),
        hint: Some(connect_hint(&message, docker_host.as_deref())),
        message,
    }
}

/// The engine accepted the connection but did not answer within `waited`.
pub(crate) fn stuck_engine_error(waited: Duration) -> RuntimeError {
    let docker_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    RuntimeError::Unreachable {
        endpoint: docker_endpoint(),
        message: format!("no answer within {}", crate::duration_text::rounded(waited)),
        hint: Some(connect_hint("timed out", docker_host.as_deref())),
    }
}

/// Advice for a failed connection, from the error text and `DOCKER_HOST`.
pub fn connect_hint(message: &str, docker_host: Option<&str>) -> String {
    let lower = message.to_ascii_lowercase();
    let mut hint = if lower.contains("permission denied") {
        "no permission on the Docker socket: add your user to the `docker` group and log in \
         again (or run as root); check `ls -l /var/run/docker.sock`"
            .to_string()
    } else if lower.contains("scheme is not supported") {
        "metallab talks to Docker over a unix socket or plain tcp://; TLS and ssh:// \
         endpoints are not supported"
            .to_string()
    } else if lower.contains("timeout") || lower.contains("timed out") {
        "the Docker engine did not answer in time: is it overloaded or hung?".to_string()
    } else {
        "is dockerd running? Start it (e.g. `sudo systemctl start docker`) and check with \
         `docker info`"
            .to_string()
    };
    match docker_host {
        Some(host) => hint.push_str(&format!(
            "; DOCKER_HOST is set to `{host}`: unset it to use the local socket"
        )),
        None => hint.push_str("; set DOCKER_HOST if your engine listens elsewhere"),
    }
    hint
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status: u16, message: &str) -> bollard::errors::Error {
        bollard::errors::Error::DockerResponseServerError {
            status_code: status,
            message: message.into(),
        }
    }

    #[test]
    fn not_found_maps_to_not_found() {
        let err = Op::new("inspect container", ResourceKind::Container, "frr1")
            .error(server(404, "No such container: frr1"));
        assert!(err.is_not_found());
        assert_eq!(
            err.to_string(),
            "container `frr1` not found: No such container: frr1"
        );
    }

    #[test]
    fn conflict_on_create_is_already_exists_but_not_elsewhere() {
        let create = Op::new("create container", ResourceKind::Container, "frr1").error(server(
            409,
            "Conflict. The container name \"/frr1\" is already in use",
        ));
        assert!(create.is_already_exists());

        let remove = Op::new("remove image", ResourceKind::Image, "metallab/frr:abc").error(
            server(409, "conflict: unable to remove repository reference (must force) - container 1234 is using its referenced image"),
        );
        assert!(matches!(remove, RuntimeError::Conflict { .. }));

        let in_use = Op::new("remove image", ResourceKind::Image, "x")
            .error(server(409, "image is being used by running container abc"));
        assert_eq!(
            in_use.hint().as_deref(),
            Some("remove the containers using it first (`metallab down`)")
        );
    }

    #[test]
    fn a_network_dockerd_still_holds_an_endpoint_on_says_how_to_clear_it() {
        // dockerd 20.10's words after a burst of container removals.
        let err = Op::new("remove network", ResourceKind::Network, "metallab-b100-lan").error(
            server(
                403,
                "error while removing network: network metallab-b100-lan id a37cd2e1 has active endpoints",
            ),
        );
        let hint = err.hint().unwrap();
        assert!(hint.contains("restarting dockerd"), "{hint}");
    }

    #[test]
    fn other_status_keeps_the_docker_message_and_status() {
        let err = Op::new("connect network", ResourceKind::Network, "lab-net")
            .error(server(403, "Address already in use"));
        assert_eq!(
            err.to_string(),
            "Docker connect network `lab-net` failed (403): Address already in use"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("another container already has this IP on that network")
        );
    }

    #[test]
    fn transport_errors_are_unreachable_with_a_hint() {
        let err = Op::new("list containers", ResourceKind::Container, "*").error(
            bollard::errors::Error::SocketNotFoundError("/var/run/docker.sock".into()),
        );
        assert!(matches!(err, RuntimeError::Unreachable { .. }));
        assert!(err.hint().unwrap().contains("dockerd running"));
    }

    #[test]
    fn connect_hints_name_the_likely_cause() {
        let perm = connect_hint(
            "error trying to connect: Permission denied (os error 13)",
            None,
        );
        assert!(perm.contains("`docker` group"), "{perm}");
        assert!(perm.contains("DOCKER_HOST"), "{perm}");

        let refused = connect_hint(
            "error trying to connect: Connection refused (os error 111)",
            Some("tcp://10.1.2.3:2375"),
        );
        assert!(refused.contains("is dockerd running"), "{refused}");
        assert!(refused.contains("`tcp://10.1.2.3:2375`"), "{refused}");

        let scheme = connect_hint(
            "URI scheme is not supported: ssh://host",
            Some("ssh://host"),
        );
        assert!(
            scheme.contains("ssh:// endpoints are not supported"),
            "{scheme}"
        );
    }

    #[test]
    fn overlap_and_build_errors_render_their_details() {
        let overlap = RuntimeError::SubnetOverlap {
            network: "metallab-demo-kind".into(),
            subnet: "10.213.1.0/24".parse().unwrap(),
            conflicts: vec![SubnetConflict {
                network: "other-lab".into(),
                subnet: "10.213.0.0/16".parse().unwrap(),
            }],
            message: "Pool overlaps with other one on this address space".into(),
            hint: None,
        };
        assert_eq!(
            overlap.to_string(),
            "subnet 10.213.1.0/24 of network `metallab-demo-kind` overlaps network `other-lab` \
             (10.213.0.0/16): Pool overlaps with other one on this address space"
        );

        let build = RuntimeError::BuildFailed {
            tag: "metallab/frr:0123456789ab".into(),
            message: "The command '/bin/sh -c false' returned a non-zero code: 1".into(),
            last_lines: vec!["Step 2/2 : RUN false".into(), " ---> Running in 42".into()],
            hint: None,
        };
        assert_eq!(
            build.to_string(),
            "building image `metallab/frr:0123456789ab` failed: The command '/bin/sh -c false' \
             returned a non-zero code: 1\nlast lines of build output:\n  Step 2/2 : RUN false\n   ---> Running in 42"
        );
    }
}
