//! The container runtime edge: Docker through bollard.

/// What a command run inside a container returned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

pub mod archive;
pub mod docker;
pub mod engine;
pub mod error;
pub mod firewall;
pub mod images;

pub use docker::{ContainerInfo, ContainerSpec, DockerRuntime, NetworkInfo, NetworkSpec};
pub use engine::ContainerEngine;
pub use error::RuntimeError;
