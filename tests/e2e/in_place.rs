//! `metallab diff` and `up FILE` on a running interop lab: a router and a prefix added,
//! a BIRD router's AS changed, a router removed — each applied in place with exactly the
//! sessions `diff` names resetting (the others keep their uptime), the new checks passing;
//! a change only a rebuild can make is refused and changes nothing.

use crate::harness::{Lab, docker_available};
use std::collections::BTreeMap;
use std::time::Duration;

/// The interop lab on its own addresses (the interop test uses 10.202.1.0/24).
fn interop(name: &str) -> Lab {
    let lab = Lab::from_topology("interop.yaml", name);
    let text = std::fs::read_to_string(&lab.topology).unwrap();
    std::fs::write(&lab.topology, text.replace("10.202.1.", "10.217.1.")).unwrap();
    lab
}

/// Every session's seconds in its state, by (router, peer).
fn uptimes(lab: &Lab) -> BTreeMap<(String, String), (String, u64)> {
    let out = lab.metallab(&["status", &lab.name, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    let mut found = BTreeMap::new();
    for r in v[0]["routers"].as_array().expect("routers") {
        for s in r["sessions"].as_array().cloned().unwrap_or_default() {
            found.insert(
                (
                    r["name"].as_str().unwrap().to_string(),
                    s["peer"].as_str().unwrap().to_string(),
                ),
                (
                    s["status"].as_str().unwrap_or("").to_string(),
                    s["since_secs"].as_u64().unwrap_or(0),
                ),
            );
        }
    }
    found
}

fn edit(text: &str, old: &str, new: &str) -> String {
    assert!(text.contains(old), "{old:?} in the topology");
    text.replacen(old, new, 1)
}

/// Writes `text` beside the lab's topology as `name` and returns its path.
fn variant(lab: &Lab, name: &str, text: &str) -> String {
    let path = lab.state_dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The sessions of `before` that are in `after` with less time in their state: reset.
fn reset_between(
    before: &BTreeMap<(String, String), (String, u64)>,
    after: &BTreeMap<(String, String), (String, u64)>,
) -> Vec<String> {
    let mut reset: Vec<String> = before
        .iter()
        .filter_map(|(key, (_, was))| {
            let (status, now) = after.get(key)?;
            (status != "established" || now < was).then(|| format!("{} ↔ {}", key.0, key.1))
        })
        .collect();
    reset.sort();
    reset
}

#[test]
fn a_running_lab_changes_in_place_and_untouched_sessions_stay_up() {
    if !docker_available() {
        return;
    }
    let lab = interop("e2e-in-place");
    let up = lab.metallab(&["up", lab.topology_arg()]);
    assert_eq!(up.status.code(), Some(0), "metallab up failed");
    let original = std::fs::read_to_string(&lab.topology).unwrap();

    // 1. A router (frr3, peering with frr1 and bird1) and a prefix on frr2 added.
    let added = edit(
        &original,
        "    announce: [203.0.113.0/24]\n",
        "    announce: [203.0.113.0/24, 198.51.100.128/25]\n  frr3:\n    kind: frr\n    asn: 64504\n    interfaces: { lan: { ip: 10.217.1.16 } }\n    announce: [192.0.2.192/26]\n    neighbors: [{ to: frr1 }, { to: bird1 }]\n",
    );
    let added = edit(
        &added,
        "checks:\n",
        "checks:\n  - { router: frr3, session: bird1 }\n  - { router: frr3, session: frr1 }\n  - { router: bird1, route: 192.0.2.192/26, nexthops: frr3 }\n  - { router: frr1, route: 192.0.2.192/26, nexthops: frr3 }\n  - { router: frr1, route: 198.51.100.128/25, nexthops: frr2 }\n",
    );
    let added_file = variant(&lab, "added.yaml", &added);
    // Sessions old enough that a reset shows as less time up.
    std::thread::sleep(Duration::from_secs(3));
    let before = uptimes(&lab);
    assert_eq!(before.len(), 20, "interop's 10 sessions from both ends");

    let diff = lab.metallab(&["diff", &added_file]);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "diff exits 1 when the file changes the lab"
    );
    let said = String::from_utf8_lossy(&diff.stdout);
    for line in [
        "+ router frr3 (frr) lan=10.217.1.16 AS64504, 2 session(s)",
        "~ router frr2 (frr): config reloaded (frr-reload.py)",
        "    + announce 198.51.100.128/25",
        "~ router bird1 (bird): config reloaded (birdc configure)",
        "no BGP session resets",
        "BGP sessions that stay up: 10",
    ] {
        assert!(said.lines().any(|l| l == line), "{line:?} in:\n{said}");
    }
    assert!(
        lab.leftovers().0.iter().all(|c| !c.ends_with("-frr3")),
        "diff applies nothing"
    );

    let up = lab.metallab(&["up", &added_file]);
    assert_eq!(up.status.code(), Some(0), "the change applies in place");
    assert!(String::from_utf8_lossy(&up.stderr).contains("changed in place"));
    let (code, failed, passed) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    assert_eq!(passed.len(), 53, "48 + the 5 new checks");
    let after = uptimes(&lab);
    assert_eq!(reset_between(&before, &after), Vec::<String>::new());
    assert_eq!(after.len(), 24, "frr3's two sessions from both ends");
    // `check LAB` runs the new file's checks.
    let (_, _, passed) = lab.check("10s");
    assert!(passed.iter().any(|c| c.contains("frr3")), "{passed:?}");

    // 2. bird1's AS changed: its sessions re-form with the new AS, and GoBGP (which cannot
    // reload) restarts; the other sessions stay up.
    let bird1 = added.find("  bird1:").unwrap();
    let asn = bird1 + added[bird1..].find("asn: 64502").unwrap();
    let renumbered = format!("{}asn: 64510{}", &added[..asn], &added[asn + 10..]);
    let renumbered_file = variant(&lab, "renumbered.yaml", &renumbered);
    std::thread::sleep(Duration::from_secs(2));
    let before = uptimes(&lab);
    let diff = lab.metallab(&["diff", &renumbered_file]);
    let said = String::from_utf8_lossy(&diff.stdout).to_string();
    let up = lab.metallab(&["up", &renumbered_file]);
    assert_eq!(up.status.code(), Some(0), "the new AS applies in place");
    let (code, failed, _) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    let after = uptimes(&lab);
    let reset = reset_between(&before, &after);
    // Exactly the sessions diff named, seen from both ends.
    for pair in &reset {
        let (a, b) = pair.split_once(" ↔ ").unwrap();
        assert!(
            said.contains(&format!("  {a} ↔ {b}:")) || said.contains(&format!("  {b} ↔ {a}:")),
            "{pair} reset but diff did not say so:\n{said}"
        );
    }
    for kept in ["frr1 ↔ bird2", "frr1 ↔ frr2", "bird2 ↔ frr2", "frr3 ↔ frr1"] {
        assert!(
            !reset.contains(&kept.to_string()),
            "{kept} stays up: {reset:?}"
        );
    }
    assert!(reset.contains(&"frr1 ↔ bird1".to_string()), "{reset:?}");
    let status = lab.metallab(&["status", &lab.name, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let frr1 = v[0]["routers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "frr1")
        .unwrap();
    let to_bird1 = frr1["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["peer"] == "bird1")
        .unwrap();
    assert_eq!(to_bird1["remote_as"], 64510);

    // 3. gobgp1 removed, with its sessions and checks: its container goes.
    let cut = renumbered.find("  gobgp1:").unwrap();
    let end = renumbered.find("  bird2:").unwrap();
    let removed: String = format!("{}{}", &renumbered[..cut], &renumbered[end..])
        .replace(", { to: gobgp1 }", "")
        .replace("[{ to: gobgp1 }, ", "[")
        .lines()
        .filter(|l| !l.contains("gobgp1") && !l.contains("192.0.2.128/26"))
        .map(|l| format!("{l}\n"))
        .collect();
    let removed_file = variant(&lab, "removed.yaml", &removed);
    let up = lab.metallab(&["up", &removed_file]);
    assert_eq!(up.status.code(), Some(0), "the removal applies in place");
    assert!(
        lab.leftovers().0.iter().all(|c| !c.ends_with("-gobgp1")),
        "gobgp1's container is gone"
    );
    let (code, failed, passed) = lab.check("60s");
    assert_eq!((code, failed.as_slice()), (0, &[][..]));
    assert!(passed.iter().all(|c| !c.contains("gobgp1")));

    // 4. A new subnet needs a rebuild: refused, naming it; nothing changes.
    let resubnetted = variant(
        &lab,
        "resubnetted.yaml",
        &removed.replace("10.217.1.0/24", "10.217.0.0/23"),
    );
    let up = lab.metallab(&["up", &resubnetted]);
    assert_eq!(up.status.code(), Some(2));
    let said = String::from_utf8_lossy(&up.stderr);
    assert!(
        said.contains("network lan (subnet 10.217.1.0/24 → 10.217.0.0/23")
            && said.contains("--reconfigure"),
        "{said}"
    );
    let diff = lab.metallab(&["diff", &removed_file]);
    assert_eq!(
        diff.status.code(),
        Some(0),
        "the refused change changed nothing"
    );

    lab.down_leaves_nothing(&lab.name);
}
