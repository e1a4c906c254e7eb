//! The container engine as the lab lifecycle uses it: a trait, so `up`, `down` and
//! reconcile run against Docker in use and against a recording stand-in in unit tests
//! (order of creation, labels, rollback, what `down` removes).

use super::ExecOutput;
use super::RuntimeError;
use super::archive::UploadFile;
pub use super::docker::OutputStream;
use super::docker::{
    BuildSpec, ContainerInfo, ContainerSpec, DockerRuntime, ImageInfo, NetworkInfo, NetworkSpec,
};
use bollard::models::ContainerInspectResponse;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

/// What an engine call returns, boxed so the trait can be used as `&dyn ContainerEngine`.
pub type EngineFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RuntimeError>> + Send + 'a>>;

/// Label filters: `(key, Some(value))` for `key=value`, `(key, None)` for "has `key`".
pub type LabelFilters<'a> = &'a [(&'a str, Option<&'a str>)];

/// The container engine calls of a lab's lifecycle.
pub trait ContainerEngine: Send + Sync {
    fn create_network<'a>(&'a self, spec: &'a NetworkSpec) -> EngineFuture<'a, String>;
    fn remove_network<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()>;
    fn list_networks<'a>(&'a self, labels: LabelFilters<'a>) -> EngineFuture<'a, Vec<NetworkInfo>>;
    fn connect_network<'a>(
        &'a self,
        container: &'a str,
        network: &'a str,
        ip: Option<IpAddr>,
    ) -> EngineFuture<'a, ()>;
    fn disconnect_network<'a>(
        &'a self,
        container: &'a str,
        network: &'a str,
    ) -> EngineFuture<'a, ()>;
    fn create_container<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, String>;
    fn start_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()>;
    /// Starts a container and returns its output from this start on.
    fn start_attached<'a>(&'a self, name: &'a str) -> EngineFuture<'a, OutputStream>;
    fn stop_container<'a>(&'a self, name: &'a str, timeout: Duration) -> EngineFuture<'a, ()>;
    fn remove_container<'a>(
        &'a self,
        name: &'a str,
        force: bool,
        volumes: bool,
    ) -> EngineFuture<'a, ()>;
    fn list_containers<'a>(
        &'a self,
        labels: LabelFilters<'a>,
        all: bool,
    ) -> EngineFuture<'a, Vec<ContainerInfo>>;
    fn inspect_container_raw<'a>(
        &'a self,
        name: &'a str,
    ) -> EngineFuture<'a, Option<ContainerInspectResponse>>;
    fn exec<'a>(
        &'a self,
        container: &'a str,
        argv: &'a [String],
        timeout: Duration,
    ) -> EngineFuture<'a, ExecOutput>;
    fn upload_files<'a>(
        &'a self,
        container: &'a str,
        files: &'a [UploadFile],
    ) -> EngineFuture<'a, ()>;
    fn image_exists<'a>(&'a self, tag: &'a str) -> EngineFuture<'a, bool>;
    fn list_images<'a>(&'a self, labels: LabelFilters<'a>) -> EngineFuture<'a, Vec<ImageInfo>>;
    fn remove_image<'a>(&'a self, tag: &'a str, force: bool) -> EngineFuture<'a, ()>;
    fn build_image<'a>(
        &'a self,
        spec: &'a BuildSpec<'a>,
        progress: &'a (dyn Fn(&str) + Send + Sync),
    ) -> EngineFuture<'a, String>;

    /// Lets traffic be routed inside each of the lab's bridges past Docker's isolation
    /// rules (the host's `DOCKER-USER` chain, see `firewall`); returns how many rules
    /// were added. An error carries the command to run by hand.
    fn allow_routing_within<'a>(
        &'a self,
        lab: &'a str,
        bridges: &'a [String],
    ) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send + 'a>> {
        Box::pin(super::firewall::allow_routing_within(lab, bridges))
    }

    /// Removes the lab's rules from the host's `DOCKER-USER` chain; returns how many.
    fn remove_routing_rules<'a>(
        &'a self,
        lab: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send + 'a>> {
        Box::pin(super::firewall::remove_rules(lab))
    }
}

impl ContainerEngine for DockerRuntime {
    fn create_network<'a>(&'a self, spec: &'a NetworkSpec) -> EngineFuture<'a, String> {
        Box::pin(DockerRuntime::create_network(self, spec))
    }
    fn remove_network<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        Box::pin(DockerRuntime::remove_network(self, name))
    }
    fn list_networks<'a>(&'a self, labels: LabelFilters<'a>) -> EngineFuture<'a, Vec<NetworkInfo>> {
        Box::pin(DockerRuntime::list_networks(self, labels))
    }
    fn connect_network<'a>(
        &'a self,
        container: &'a str,
        network: &'a str,
        ip: Option<IpAddr>,
    ) -> EngineFuture<'a, ()> {
        Box::pin(DockerRuntime::connect_network(self, container, network, ip))
    }
    fn disconnect_network<'a>(
        &'a self,
        container: &'a str,
        network: &'a str,
    ) -> EngineFuture<'a, ()> {
        Box::pin(DockerRuntime::disconnect_network(self, container, network))
    }
    fn create_container<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, String> {
        Box::pin(DockerRuntime::create_container(self, spec))
    }
    fn start_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        Box::pin(DockerRuntime::start_container(self, name))
    }
    fn start_attached<'a>(&'a self, name: &'a str) -> EngineFuture<'a, OutputStream> {
        Box::pin(DockerRuntime::start_attached(self, name))
    }
    fn stop_container<'a>(&'a self, name: &'a str, timeout: Duration) -> EngineFuture<'a, ()> {
        Box::pin(DockerRuntime::stop_container(self, name, timeout))
    }
    fn remove_container<'a>(
        &'a self,
        name: &'a str,
        force: bool,
        volumes: bool,
    ) -> EngineFuture<'a, ()> {
        Box::pin(DockerRuntime::remove_container(self, name, force, volumes))
    }
    fn list_containers<'a>(
        &'a self,
        labels: LabelFilters<'a>,
        all: bool,
    ) -> EngineFuture<'a, Vec<ContainerInfo>> {
        Box::pin(DockerRuntime::list_containers(self, labels, all))
    }
    fn inspect_container_raw<'a>(
        &'a self,
        name: &'a str,
    ) -> EngineFuture<'a, Option<ContainerInspectResponse>> {
        Box::pin(DockerRuntime::inspect_container_raw(self, name))
    }
    fn exec<'a>(
        &'a self,
        container: &'a str,
        argv: &'a [String],
        timeout: Duration,
    ) -> EngineFuture<'a, ExecOutput> {
        Box::pin(DockerRuntime::exec(self, container, argv, timeout))
    }
    fn upload_files<'a>(
        &'a self,
        container: &'a str,
        files: &'a [UploadFile],
    ) -> EngineFuture<'a, ()> {
        Box::pin(DockerRuntime::upload_files(self, container, files))
    }
    fn image_exists<'a>(&'a self, tag: &'a str) -> EngineFuture<'a, bool> {
        Box::pin(DockerRuntime::image_exists(self, tag))
    }
    fn list_images<'a>(&'a self, labels: LabelFilters<'a>) -> EngineFuture<'a, Vec<ImageInfo>> {
        Box::pin(DockerRuntime::list_images(self, labels))
    }
    fn remove_image<'a>(&'a self, tag: &'a str, force: bool) -> EngineFuture<'a, ()> {
        Box::pin(DockerRuntime::remove_image(self, tag, force))
    }
    fn build_image<'a>(
        &'a self,
        spec: &'a BuildSpec<'a>,
        progress: &'a (dyn Fn(&str) + Send + Sync),
    ) -> EngineFuture<'a, String> {
        Box::pin(DockerRuntime::build_image(self, spec, progress))
    }
}
