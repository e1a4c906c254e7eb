//! A Docker socket that accepts connections and never answers: metallab gives up within
//! seconds with an error naming the socket, instead of hanging without a word.

use std::os::unix::net::UnixListener;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_metallab");

#[test]
fn status_against_a_stuck_socket_fails_fast_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("stuck.sock");
    let listener = UnixListener::bind(&socket).expect("bind socket");
    // Accept and hold every connection open, reading nothing and writing nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });

    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["--progress", "never", "status"])
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .env("METALLAB_STATE_DIR", dir.path().join("state"))
        .env("NO_COLOR", "1")
        .output()
        .expect("metallab runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);

    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(
        stderr.contains(&socket.display().to_string()),
        "names the socket: {stderr}"
    );
    assert!(stderr.contains("no answer within"), "{stderr}");
}
