//! Scratch Docker resources for integration tests that drive the library against the real
//! engine: everything a test creates carries its lab label plus a per-run marker, lives on
//! internal networks, and is removed by a guard when the test ends, failed assertions
//! included. Without a Docker engine a test prints why and passes, unless `CI` or
//! `METALLAB_REQUIRE_DOCKER` is set.

use metallab::plan::model::labels;
use metallab::runtime::RuntimeError;
use metallab::runtime::docker::{DockerRuntime, NetworkSpec};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

pub const RUN_LABEL: &str = "io.metallab.test-run";

pub fn docker_required() -> bool {
    ["CI", "METALLAB_REQUIRE_DOCKER"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"))
}

pub async fn engine(test: &str) -> Option<DockerRuntime> {
    match DockerRuntime::connect().await {
        Ok(rt) => Some(rt),
        Err(err) if docker_required() => panic!("{test}: a Docker engine is required: {err}"),
        Err(err) => {
            eprintln!("SKIPPED {test}: no Docker engine ({err})");
            None
        }
    }
}

/// Removes every container and network of this run when dropped, even after a panic.
pub struct Scratch {
    pub lab: &'static str,
    pub run: String,
}

impl Scratch {
    pub fn new(lab: &'static str) -> Self {
        Scratch {
            lab,
            run: format!("{}", std::process::id()),
        }
    }

    pub fn labels(&self, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut l = BTreeMap::from([
            (labels::LAB.to_string(), self.lab.to_string()),
            (RUN_LABEL.to_string(), self.run.clone()),
        ]);
        l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        l
    }

    pub fn name(&self, suffix: &str) -> String {
        format!("{}-{}-{suffix}", self.lab, self.run)
    }

    /// An internal /24 in 10.`second`.0.0/16 that overlaps nothing.
    pub async fn network(&self, rt: &DockerRuntime, second: u8, suffix: &str) -> NetworkSpec {
        let start = (std::process::id() as usize * 13 + suffix.len() * 29) % 250;
        for offset in 0..250 {
            let third = ((start + offset) % 250 + 1) as u8;
            let spec = NetworkSpec {
                name: self.name(suffix),
                subnet: format!("10.{second}.{third}.0/24").parse().unwrap(),
                gateway: Ipv4Addr::new(10, second, third, 1),
                internal: true,
                labels: self.labels(&[]),
                ip_range: None,
            };
            match rt.create_network(&spec).await {
                Ok(_) => return spec,
                Err(RuntimeError::SubnetOverlap { .. }) => continue,
                Err(e) => panic!("creating {}: {e}", spec.name),
            }
        }
        panic!("no free /24 left in 10.{second}.0.0/16")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let (lab, run) = (self.lab, self.run.clone());
        let cleanup = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime")
                .block_on(async {
                    let Ok(rt) = DockerRuntime::connect().await else {
                        return;
                    };
                    let filter = [(labels::LAB, Some(lab)), (RUN_LABEL, Some(run.as_str()))];
                    for c in rt.list_containers(&filter, true).await.unwrap_or_default() {
                        if let Err(e) = rt.remove_container(&c.id, true, true).await {
                            eprintln!("cleanup: container {}: {e}", c.name);
                        }
                    }
                    for n in rt.list_networks(&filter).await.unwrap_or_default() {
                        if let Err(e) = rt.remove_network(&n.id).await {
                            eprintln!("cleanup: network {}: {e}", n.name);
                        }
                    }
                });
        });
        let _ = cleanup.join();
    }
}
