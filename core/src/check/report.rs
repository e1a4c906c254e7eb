//! Check reports: for people (`metallab check`), for scripts (`-o json`) and for CI
//! (`--junit FILE`). Pure: results in, text or JSON out.

use super::result::{CheckResult, Outcome};
use super::text::{elapsed, indent, pad};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};
use std::time::Duration;

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// One aligned line per check (`✔ name  3.2s` / `✘ name  failed after 60s`), then each
/// failure's reason and indented evidence, then a summary line (`5 passed, 1 failed`).
pub fn human(results: &[CheckResult], color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let mark = |r: &CheckResult| {
        if r.passed() {
            paint(GREEN, "✔")
        } else {
            paint(RED, "✘")
        }
    };
    let name_width = results
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);

    let mut out = String::new();
    for r in results {
        let timing = match r.outcome {
            Outcome::Passed { after, .. } => elapsed(after),
            // Never attempted (e.g. a cluster check without a cluster): no time to show.
            Outcome::Failed { attempts: 0, .. } => "failed".to_string(),
            Outcome::Failed { after, .. } => format!("failed after {}", elapsed(after)),
        };
        let line = format!("{} {}  {timing}", mark(r), pad(&r.name, name_width));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for r in results {
        if let Outcome::Failed {
            reason, evidence, ..
        } = &r.outcome
        {
            out.push_str(&format!("\n{} {}\n", mark(r), paint(BOLD, &r.name)));
            out.push_str(&format!("  {reason}\n"));
            if !evidence.trim().is_empty() {
                out.push_str(&paint(DIM, &indent(evidence.trim_end(), "    ")));
                out.push('\n');
            }
        }
    }
    let (passed, failed) = counts(results);
    let summary = format!(
        "{}, {}",
        paint(GREEN, &format!("{passed} passed")),
        if failed > 0 {
            paint(RED, &format!("{failed} failed"))
        } else {
            format!("{failed} failed")
        }
    );
    out.push_str(&format!("\n{summary}\n"));
    out
}

/// The results as JSON (`metallab check -o json`):
///
/// ```json
/// {
///   "passed": 5,                 // number of checks that passed
///   "failed": 1,                 // number that did not pass before their deadline
///   "checks": [{
///     "name": "frr1: route 192.0.2.0/24 via nodes",
///     "kind": "route",           // session, route, kernel-route, bfd, http, ping, service
///     "subject": "frr1",         // router read or run in; null for cluster checks
///     "status": "passed",        // or "failed"
///     "seconds": 3.25,           // time to pass, or until giving up (millisecond precision)
///     "attempts": 4,             // evaluations made (0: never attempted)
///     "detail": "192.0.2.0/24 via {10.0.0.3, 10.0.0.4}", // passed only, else null
///     "reason": null,            // failed only: one line
///     "evidence": null           // failed only: the router state contradicting the check
///                                // (may be empty)
///   }]
/// }
/// ```
pub fn json(results: &[CheckResult]) -> Value {
    let (passed, failed) = counts(results);
    let checks: Vec<Value> = results
        .iter()
        .map(|r| {
            let (status, detail, reason, evidence) = match &r.outcome {
                Outcome::Passed { detail, .. } => ("passed", Some(detail), None, None),
                Outcome::Failed {
                    reason, evidence, ..
                } => ("failed", None, Some(reason), Some(evidence)),
            };
            json!({
                "name": r.name,
                "kind": r.kind,
                "subject": r.subject,
                "status": status,
                "seconds": seconds(r.after()),
                "attempts": r.attempts(),
                "detail": detail,
                "reason": reason,
                "evidence": evidence,
            })
        })
        .collect();
    json!({ "passed": passed, "failed": failed, "checks": checks })
}

/// A JUnit XML report: one suite named after the lab, one test case per check. A failure's
/// message is its reason; the evidence (or a pass's detail) goes to system-out. Checks run
/// in parallel, so the suite's time is the longest check's, not the sum.
pub fn junit(lab: &str, results: &[CheckResult]) -> String {
    let mut suite = TestSuite::new(lab);
    for r in results {
        let (status, output) = match &r.outcome {
            Outcome::Passed { detail, .. } => (TestCaseStatus::success(), detail),
            Outcome::Failed {
                reason, evidence, ..
            } => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(reason.as_str())
                    .set_type(r.kind.as_str());
                (status, evidence)
            }
        };
        let mut case = TestCase::new(r.name.as_str(), status);
        // Viewers group test cases by class: group checks by the router they look at.
        case.set_classname(format!(
            "{lab}.{}",
            r.subject.as_deref().unwrap_or("cluster")
        ))
        .set_time(r.after());
        if !output.is_empty() {
            case.set_system_out(output.as_str());
        }
        suite.add_test_case(case);
    }
    let longest = results.iter().map(CheckResult::after).max();
    let longest = longest.unwrap_or(Duration::ZERO);
    suite.set_time(longest);
    let mut report = Report::new("metallab");
    report.set_time(longest).add_test_suite(suite);
    report
        .to_string()
        .expect("a JUnit report built in memory from UTF-8 strings serializes")
}

fn counts(results: &[CheckResult]) -> (usize, usize) {
    let passed = results.iter().filter(|r| r.passed()).count();
    (passed, results.len() - passed)
}

fn seconds(d: Duration) -> f64 {
    d.as_millis() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::evaluate::{Verdict, evaluate_probe, evaluate_state};
    use crate::plan::{CheckKind, Expected};
    use crate::state::ExecOutput;
    use crate::state::{Path, Route, RouterState, Session, SessionState};
    use crate::test_support::ip;

    /// A failed result whose reason and evidence come from the real evaluation.
    fn failed(
        name: &str,
        kind: &CheckKind,
        verdict: Verdict,
        secs: u64,
        attempts: u32,
    ) -> CheckResult {
        let Verdict::Fail { reason, evidence } = verdict else {
            panic!("{name} passed");
        };
        CheckResult {
            name: name.into(),
            kind: crate::check::kind_label(kind).into(),
            subject: crate::check::subject(kind).map(str::to_string),
            outcome: Outcome::Failed {
                after: Duration::from_secs(secs),
                attempts,
                reason,
                evidence,
            },
        }
    }

    fn passed(name: &str, kind: &str, router: &str, millis: u64, detail: &str) -> CheckResult {
        CheckResult {
            name: name.into(),
            kind: kind.into(),
            subject: Some(router.into()),
            outcome: Outcome::Passed {
                after: Duration::from_millis(millis),
                attempts: (millis / 1000 + 1) as u32,
                detail: detail.into(),
            },
        }
    }

    /// A realistic run: two passes, a route missing a node's next hop, a refused HTTP
    /// connection and a service check without a cluster.
    fn sample() -> Vec<CheckResult> {
        let state = RouterState {
            sessions: vec![Session {
                peer: ip("10.0.0.3"),
                remote_as: Some(64512),
                local_as: Some(64500),
                state: SessionState::Established,
                since_secs: Some(95),
                prefixes_received: Some(1),
                name: Some("node_10_0_0_3".into()),
                last_error: None,
            }],
            routes: vec![Route {
                prefix: "192.0.2.0/24".parse().unwrap(),
                paths: vec![Path {
                    next_hop: Some(ip("10.0.0.3")),
                    best: true,
                    as_path: vec![64512],
                    from_peer: Some(ip("10.0.0.3")),
                    ..Path::default()
                }],
            }],
            ..RouterState::default()
        };
        let route = CheckKind::Route {
            router: "frr1".into(),
            prefix: "192.0.2.0/24".parse().unwrap(),
            present: true,
            nexthops: Some(vec![Expected::Nodes]),
            local_pref: None,
            communities: None,
            as_path: None,
        };
        let nodes = [ip("10.0.0.3"), ip("10.0.0.4")];
        let http = CheckKind::Http {
            from: "client".into(),
            url: "http://10.237.0.10:82/".into(),
            status: 200,
        };
        // Recorded: curl 7.88.1 in the metallab-dev/linux image, nothing listening on :82.
        let refused = ExecOutput {
            exit_code: 7,
            stdout: "000".into(),
            stderr: "curl: (7) Failed to connect to 10.237.0.10 port 82 after 0 ms: Couldn't connect to server\n".into(),
        };
        let service = CheckKind::Service {
            namespace: "default".into(),
            name: "web".into(),
            ip: None,
            pool: None,
            event: None,
        };
        vec![
            passed(
                "frr1: session with nodes established",
                "session",
                "frr1",
                3_240,
                "established with 10.0.0.3, 10.0.0.4",
            ),
            passed(
                "bird1: route 192.0.2.0/24",
                "route",
                "bird1",
                12_000,
                "192.0.2.0/24 via {10.0.0.1}",
            ),
            failed(
                "frr1: route 192.0.2.0/24 via nodes",
                &route,
                evaluate_state(&route, &state, &nodes),
                60,
                61,
            ),
            failed(
                "client: http://10.237.0.10:82/ answers 200",
                &http,
                evaluate_probe(&http, &refused),
                60,
                13,
            ),
            CheckResult {
                name: "default/web gets an IP".into(),
                kind: crate::check::kind_label(&service).into(),
                subject: None,
                outcome: Outcome::Failed {
                    after: Duration::ZERO,
                    attempts: 0,
                    reason: "service check needs a cluster: metallab cannot query Kubernetes yet"
                        .into(),
                    evidence: String::new(),
                },
            },
        ]
    }

    #[test]
    fn human_report() {
        insta::assert_snapshot!(human(&sample(), false));
    }

    #[test]
    fn human_report_in_color_marks_passes_green_and_failures_red() {
        let text = human(&sample()[..1], true);
        assert!(
            text.starts_with("\x1b[32m✔\x1b[0m frr1: session"),
            "{text:?}"
        );
        let text = human(&sample()[2..3], true);
        assert!(text.contains("\x1b[31m1 failed\x1b[0m"), "{text:?}");
        assert!(!human(&sample(), false).contains('\x1b'));
    }

    #[test]
    fn human_report_of_no_checks() {
        assert_eq!(human(&[], false), "\n0 passed, 0 failed\n");
    }

    #[test]
    fn json_report() {
        insta::assert_json_snapshot!(json(&sample()));
    }

    #[test]
    fn junit_report() {
        insta::assert_snapshot!(junit("bgp-simple", &sample()));
    }
}
