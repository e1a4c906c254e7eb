//! metallab's Quagga image, built from the upstream source tarball.
//!
//! The build downloads Quagga's source and Debian's compilers, which the project's CI
//! machine cannot, so the test is gated: `METALLAB_E2E_QUAGGA_IMAGE=1` on a machine with
//! Docker and internet access.

use crate::harness::{BIN, docker, docker_available};
use std::process::Command;

#[test]
fn quagga_image_builds_and_runs_zebra_and_bgpd() {
    if std::env::var("METALLAB_E2E_QUAGGA_IMAGE").as_deref() != Ok("1") {
        eprintln!(
            "SKIP: building the Quagga image downloads its source; set METALLAB_E2E_QUAGGA_IMAGE=1 on a machine with Docker and internet access to run this test"
        );
        return;
    }
    if !docker_available() {
        return;
    }
    let build = Command::new(BIN)
        .args(["--progress", "never", "images", "build", "quagga"])
        .output()
        .expect("run metallab");
    assert!(
        build.status.success(),
        "metallab images build quagga: {}",
        String::from_utf8_lossy(&build.stderr)
    );

    let list = Command::new(BIN)
        .args(["images", "list", "-o", "json"])
        .output()
        .expect("run metallab");
    let images: serde_json::Value = serde_json::from_slice(&list.stdout).expect("images JSON");
    let tag = images
        .as_array()
        .expect("a list of images")
        .iter()
        .filter(|i| i["kind"] == "quagga" && i["current"] == true)
        .find_map(|i| i["tags"][0].as_str())
        .expect("a current quagga image")
        .to_string();

    for daemon in ["zebra", "bgpd"] {
        let out = docker(&["run", "--rm", &tag, daemon, "--version"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("1.2.4"), "{daemon} --version: {text}");
    }
    // vtysh is what the driver reads the daemons through.
    let out = docker(&["run", "--rm", &tag, "sh", "-c", "command -v vtysh"]);
    assert!(!out.stdout.is_empty());
}
