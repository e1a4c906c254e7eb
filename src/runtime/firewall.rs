//! Host firewall rules that let a lab route between its own internal networks.
//!
//! Docker isolates an internal network with `DOCKER-ISOLATION-STAGE-1` rules that drop any
//! packet on its bridge whose destination lies outside the network's subnet. When the host
//! passes bridged traffic through iptables (`net.bridge.bridge-nf-call-iptables=1`, the
//! usual state on Docker hosts), that also drops traffic between two containers *on the
//! same bridge* once it is routed — a client sending to a far subnet via a next-hop
//! container, or to an announced prefix via a BGP router. metallab inserts one rule per lab
//! network in `DOCKER-USER` (evaluated first) accepting traffic that enters and leaves the
//! same lab bridge. Nothing gains a route out of the host: the rule matches only traffic
//! that never leaves that bridge. Each rule carries the comment `metallab:lab=<lab>`, so
//! `down` finds and removes them by lab, also after a crash. containerlab does the same.

use tokio::process::Command;

const CHAIN: &str = "DOCKER-USER";

/// The bridge device Docker creates for a user-defined bridge network.
pub fn bridge_name(network_id: &str) -> String {
    format!("br-{}", &network_id[..network_id.len().min(12)])
}

fn comment(lab: &str) -> String {
    format!("metallab:lab={lab}")
}

/// iptables arguments (after `-C`/`-I`) of the rule for one lab bridge.
pub fn rule(lab: &str, bridge: &str) -> Vec<String> {
    [
        CHAIN,
        "-i",
        bridge,
        "-o",
        bridge,
        "-m",
        "comment",
        "--comment",
        &comment(lab),
        "-j",
        "ACCEPT",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// From `iptables -S DOCKER-USER`, the `-D` argument lists that remove a lab's rules (pure).
pub fn deletions(listing: &str, lab: &str) -> Vec<Vec<String>> {
    let marker = comment(lab);
    listing
        .lines()
        .filter_map(|line| {
            let args = split_rule(line.strip_prefix("-A ")?);
            let idx = args.iter().position(|a| a == "--comment")?;
            (args.get(idx + 1)? == &marker).then_some(args)
        })
        .collect()
}

/// `iptables -S` quotes comments containing spaces; ours have none, but stay correct.
fn split_rule(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

async fn iptables(args: &[String]) -> Result<String, String> {
    let out = Command::new("iptables")
        .args(["-w", "5"])
        .args(args)
        .output()
        .await
        .map_err(|e| format!("cannot run iptables: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Whether the host has Docker's user chain at all (rootless Docker, other runtimes: no).
async fn chain_exists() -> bool {
    iptables(&["-S".into(), CHAIN.into()]).await.is_ok()
}

/// Inserts the accept rule for each bridge (idempotent). An error carries the commands to
/// run by hand.
pub async fn allow_routing_within(lab: &str, bridges: &[String]) -> Result<usize, String> {
    if bridges.is_empty() || !chain_exists().await {
        return Ok(0);
    }
    let mut added = 0;
    for bridge in bridges {
        let r = rule(lab, bridge);
        let mut check = vec!["-C".to_string()];
        check.extend(r.iter().cloned());
        if iptables(&check).await.is_ok() {
            continue;
        }
        let mut insert = vec!["-I".to_string()];
        insert.extend(r.iter().cloned());
        iptables(&insert)
            .await
            .map_err(|e| format!("{e}; as root run: iptables -I {}", r.join(" ")))?;
        added += 1;
    }
    Ok(added)
}

/// Removes every rule of the lab; returns how many.
pub async fn remove_rules(lab: &str) -> Result<usize, String> {
    if !chain_exists().await {
        return Ok(0);
    }
    let listing = iptables(&["-S".into(), CHAIN.into()]).await?;
    let mut removed = 0;
    for args in deletions(&listing, lab) {
        let mut delete = vec!["-D".to_string()];
        delete.extend(args);
        iptables(&delete).await?;
        removed += 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_names_follow_dockers_convention() {
        assert_eq!(bridge_name("26ec2ac1c2d5f00dbabe"), "br-26ec2ac1c2d5");
    }

    #[test]
    fn deletions_pick_only_this_labs_rules() {
        // Shape of `iptables -S DOCKER-USER` (iptables 1.8.9, nf_tables) with two labs.
        let listing = "-N DOCKER-USER\n\
            -A DOCKER-USER -i br-aaa -o br-aaa -m comment --comment \"metallab:lab=one\" -j ACCEPT\n\
            -A DOCKER-USER -i br-bbb -o br-bbb -m comment --comment \"metallab:lab=one-two\" -j ACCEPT\n\
            -A DOCKER-USER -s 10.0.0.0/8 -m comment --comment \"someone else\" -j DROP\n\
            -A DOCKER-USER -j RETURN\n";
        assert_eq!(
            deletions(listing, "one"),
            vec![rule("one", "br-aaa")],
            "exact lab match: `one` must not remove `one-two`'s rules"
        );
        assert_eq!(
            deletions(listing, "one-two"),
            vec![rule("one-two", "br-bbb")]
        );
        assert!(deletions(listing, "three").is_empty());
    }
}
