//! The container runtime edge: Docker through bollard.

pub use crate::state::ExecOutput;

pub mod archive;
pub mod docker;
pub mod engine;
pub mod error;
pub mod firewall;
pub mod images;
pub mod router_start;

pub use docker::{ContainerInfo, ContainerSpec, DockerRuntime, NetworkInfo, NetworkSpec};
pub use engine::ContainerEngine;
pub use error::RuntimeError;
