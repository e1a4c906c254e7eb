//! `snapshot` and `status` on a small real lab: FRR and BIRD peering with a TCP-MD5
//! password. The archive must hold every promised file with real content and the password
//! nowhere; after a router stops, `status` must say so in plain words.

use crate::harness::{Lab, docker, docker_available, wait_session_down};
use std::collections::BTreeMap;
use std::io::Read;

const PASSWORD: &str = "Md5Snap7f3a9c";

fn topology(name: &str) -> String {
    format!(
        r#"name: {name}
networks:
  lan: {{ subnet: 10.233.1.0/24 }}
routers:
  frr1:
    kind: frr
    asn: 64601
    interfaces: {{ lan: {{ ip: 10.233.1.11 }} }}
    announce: [192.0.2.0/24]
    neighbors: [{{ to: bird1, password: {PASSWORD}, bfd: true }}]
  bird1:
    kind: bird
    asn: 64602
    interfaces: {{ lan: {{ ip: 10.233.1.12 }} }}
    announce: [198.51.100.0/24]
checks:
  - {{ router: frr1, session: bird1 }}
  - {{ router: bird1, session: frr1 }}
  - {{ router: bird1, route: 192.0.2.0/24, nexthops: frr1 }}
  - {{ router: frr1, bfd: bird1 }}
"#
    )
}

/// Every file of a .tar.gz, by path without the archive's top folder.
fn unpack(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = BTreeMap::new();
    for entry in archive.entries().expect("a tar archive") {
        let mut entry = entry.expect("tar entry");
        let path = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .into_owned();
        let (_, rel) = path
            .split_once('/')
            .expect("files sit under one top folder");
        let mut text = String::new();
        entry.read_to_string(&mut text).expect("text file");
        files.insert(rel.to_string(), text);
    }
    files
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON ({e}): {text}"))
}

fn established(state: &serde_json::Value, peer: &str) -> bool {
    state["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .any(|s| s["peer"] == peer && s["state"] == "established")
}

#[test]
fn snapshot_holds_everything_but_the_password_and_status_names_a_stopped_router() {
    if !docker_available() {
        return;
    }
    // Overridable so the lab can carry a label of the caller's choosing.
    let name = std::env::var("METALLAB_E2E_SNAPSHOT_LAB").unwrap_or("e2e-snapshot".into());
    // The harness copies a built-in topology; this test's own topology replaces the copy.
    let lab = Lab::from_topology("next-hop.yaml", &name);
    std::fs::write(&lab.topology, topology(&name)).expect("write topology");

    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "up with its checks failed");

    // --- snapshot
    let file = lab.topology.with_file_name("report.tar.gz");
    let out = lab.metallab(&["snapshot", &name, "--file", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        file.to_str().unwrap()
    );
    let files = unpack(&std::fs::read(&file).expect("archive written"));
    let frr1 = lab.container("frr1");
    let bird1 = lab.container("bird1");
    let lan = lab.network("lan");
    let promised = [
        "README.txt".to_string(),
        "metallab.json".into(),
        "environment.json".into(),
        "status.txt".into(),
        "status.json".into(),
        "plan.json".into(),
        "topology.yaml".into(),
        "configs/frr1/etc/frr/frr.conf".into(),
        "configs/bird1/etc/bird/bird.conf".into(),
        "routers/frr1/state.json".into(),
        "routers/bird1/state.json".into(),
        "routers/frr1/raw-outputs.txt".into(),
        "routers/bird1/raw-outputs.txt".into(),
        "routers/frr1/frr.log".into(),
        "routers/bird1/bird.log".into(),
        format!("logs/{frr1}.log"),
        format!("logs/{bird1}.log"),
        format!("docker/containers/{frr1}.json"),
        format!("docker/containers/{bird1}.json"),
        format!("docker/networks/{lan}.json"),
    ];
    for path in &promised {
        assert!(
            files.contains_key(path),
            "{path} missing; archive has {:?}",
            files.keys()
        );
        assert!(
            files["README.txt"].contains(path.as_str()),
            "README.txt does not list {path}"
        );
    }

    // The password is nowhere, in no form: not in any file, not in any name.
    for (path, text) in &files {
        assert!(!path.contains(PASSWORD), "{path}");
        assert!(
            !text.contains(PASSWORD),
            "{path} leaks the password:\n{text}"
        );
    }
    // …and it was there to redact: in the topology, the plan and both configs.
    let redacted_in = |path: &str, needle: &str| {
        assert!(files[path].contains(needle), "{path}:\n{}", files[path]);
    };
    redacted_in("topology.yaml", "password: <redacted>");
    redacted_in("plan.json", r#""password": "<redacted>""#);
    redacted_in(
        "configs/frr1/etc/frr/frr.conf",
        "neighbor 10.233.1.12 password <redacted>",
    );
    redacted_in(
        "configs/bird1/etc/bird/bird.conf",
        r#"password "<redacted>";"#,
    );

    // Real content: the plan, the established session in both normalized states, the
    // raw CLI text, the daemons' logs, Docker's inspect output, the environment.
    assert_eq!(json(&files["plan.json"])["lab"], name.as_str());
    let frr_state = json(&files["routers/frr1/state.json"]);
    assert!(established(&frr_state, "10.233.1.12"), "{frr_state}");
    let bird_state = json(&files["routers/bird1/state.json"]);
    assert!(established(&bird_state, "10.233.1.11"), "{bird_state}");
    assert!(
        bird_state["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["prefix"] == "192.0.2.0/24"),
        "{bird_state}"
    );
    let frr_raw = &files["routers/frr1/raw-outputs.txt"];
    assert!(
        frr_raw.contains("$ vtysh -c")
            && frr_raw.contains("[exit 0]")
            && frr_raw.contains("10.233.1.12"),
        "{frr_raw}"
    );
    let bird_raw = &files["routers/bird1/raw-outputs.txt"];
    assert!(
        bird_raw.contains("birdc show protocols all") && bird_raw.contains("Established"),
        "{bird_raw}"
    );
    assert!(files["routers/frr1/frr.log"].contains("BGP"), "frr.log");
    assert!(
        !files["routers/bird1/bird.log"].trim().is_empty(),
        "bird.log is empty"
    );
    let inspect = json(&files[&format!("docker/containers/{frr1}.json")]);
    assert_eq!(inspect["Name"], format!("/{frr1}"));
    assert_eq!(
        inspect["Config"]["Labels"]["io.metallab.lab"],
        name.as_str()
    );
    let network = json(&files[&format!("docker/networks/{lan}.json")]);
    assert_eq!(network["Internal"], true);
    let env = json(&files["environment.json"]);
    assert!(env["docker"]["server_version"].is_string(), "{env}");
    assert!(
        files["status.txt"].contains("no problems found"),
        "{}",
        files["status.txt"]
    );

    // --- status of the healthy lab exits 0.
    let status = lab.metallab(&["status", &name]);
    assert_eq!(status.status.code(), Some(0), "{status:?}");

    // --- status after stopping a router: one plain line per problem, and exit 1.
    docker(&["stop", "-t", "1", &bird1]);
    wait_session_down(&lab, "frr1", "10.233.1.12");
    let status = lab.metallab(&["status", &name]);
    assert_eq!(status.status.code(), Some(1), "problems found");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(!text.contains('\x1b'), "no colours in a pipe: {text:?}");
    assert!(
        text.contains(&format!(
            "✘ bird1: container {bird1} is stopped (exited); `metallab up` starts it again"
        )),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("✘ frr1: session to bird1 (10.233.1.12) ")),
        "{text}"
    );
    let colored = lab.metallab(&["--color", "always", "status", &name]);
    assert!(String::from_utf8_lossy(&colored.stdout).contains("\x1b[31m"));
    let out = lab.metallab(&["status", &name, "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "problems found, also with -o json"
    );
    let v = json(&String::from_utf8_lossy(&out.stdout));
    let kinds: Vec<&str> = v[0]["routers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["problems"].as_array().unwrap())
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"container-stopped"), "{kinds:?}");
    assert!(kinds.contains(&"session-down"), "{kinds:?}");

    // A snapshot of the broken lab still works and says what it could not collect.
    let broken = lab.topology.with_file_name("broken.tar.gz");
    let out = lab.metallab(&["snapshot", &name, "-f", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let files = unpack(&std::fs::read(&broken).unwrap());
    assert!(
        files["README.txt"].contains("Not collected:"),
        "{}",
        files["README.txt"]
    );
    assert!(
        files["status.txt"].contains("✘ bird1: container"),
        "{}",
        files["status.txt"]
    );
    assert!(files.values().all(|t| !t.contains(PASSWORD)));

    lab.down_leaves_nothing(&name);
}
