//! `metallab converge`: what a fault did to the lab's checks, from what was seen (pure).
//! Each check's verdict before the fault (its baseline), its first change after the fault
//! (time to detect) and, once the fault is cleared, when it was back to its baseline for
//! good (time to recover); the table and the JSON that report them.
//!
//! Times count from the moment the fault was in place and from the start of its clear, to
//! the reading that showed the change: they include the reading itself.

use super::evaluate::Verdict;
use super::text::{elapsed, table};
use serde::Serialize;
use std::time::Duration;

/// A check's verdict, as converge keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub passed: bool,
    /// Why it fails (failures only).
    pub reason: Option<String>,
}

impl From<&Verdict> for Seen {
    fn from(verdict: &Verdict) -> Seen {
        match verdict {
            Verdict::Pass { .. } => Seen {
                passed: true,
                reason: None,
            },
            Verdict::Fail { reason, .. } => Seen {
                passed: false,
                reason: Some(reason.clone()),
            },
        }
    }
}

/// A check turning from passing to failing or back, `at` after the fault was in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub check: usize,
    pub at: Duration,
    pub seen: Seen,
}

/// Everything converge saw, fed reading by reading.
#[derive(Debug, Clone)]
pub struct Timeline {
    names: Vec<String>,
    /// `session`, `bfd`, `route`… (`check::kind_label`).
    kinds: Vec<&'static str>,
    baseline: Vec<Seen>,
    current: Vec<Seen>,
    changes: Vec<Change>,
    healed_at: Option<Duration>,
}

impl Timeline {
    /// The checks (name and kind) and their verdicts before the fault.
    pub fn new(checks: Vec<(String, &'static str)>, baseline: Vec<Seen>) -> Timeline {
        assert_eq!(
            checks.len(),
            baseline.len(),
            "one baseline verdict per check"
        );
        let (names, kinds) = checks.into_iter().unzip();
        Timeline {
            names,
            kinds,
            current: baseline.clone(),
            baseline,
            changes: Vec::new(),
            healed_at: None,
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The checks failing before the fault.
    pub fn failing_before(&self) -> Vec<&str> {
        self.names
            .iter()
            .zip(&self.baseline)
            .filter(|(_, seen)| !seen.passed)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Records one reading of check `check`; the change, when it turned.
    pub fn observe(&mut self, check: usize, at: Duration, seen: Seen) -> Option<Change> {
        let turned = self.current[check].passed != seen.passed;
        self.current[check] = seen.clone();
        if !turned {
            return None;
        }
        let change = Change { check, at, seen };
        self.changes.push(change.clone());
        Some(change)
    }

    /// The fault was cleared, `at` after it was put in.
    pub fn heal(&mut self, at: Duration) {
        self.healed_at = Some(at);
    }

    /// When the last change was seen (zero when none was): the lab has settled once
    /// nothing changed for a while after it.
    pub fn last_change(&self) -> Duration {
        self.changes.last().map_or(Duration::ZERO, |c| c.at)
    }

    /// Every check has its verdict from before the fault again.
    pub fn back_to_baseline(&self) -> bool {
        self.current
            .iter()
            .zip(&self.baseline)
            .all(|(now, before)| now.passed == before.passed)
    }

    /// What the fault did: per check, and for the lab.
    pub fn report(&self, fault: &str) -> Convergence {
        let checks: Vec<CheckConvergence> = (0..self.names.len())
            .map(|i| self.check_report(i))
            .collect();
        let detections: Vec<Duration> = (0..self.names.len())
            .filter_map(|i| self.first_change(i))
            .collect();
        let back = self.back_to_baseline();
        let recovered = self.healed_at.filter(|_| back).map(|healed| {
            self.changes
                .iter()
                .filter(|c| c.at >= healed)
                .map(|c| c.at - healed)
                .max()
                .unwrap_or(Duration::ZERO)
        });
        Convergence {
            fault: fault.to_string(),
            healed: self.healed_at.is_some(),
            detected: detections.len(),
            first_detected_seconds: detections.iter().min().map(|d| seconds(*d)),
            last_detected_seconds: detections.iter().max().map(|d| seconds(*d)),
            recovered_seconds: recovered.map(seconds),
            converged: self.healed_at.is_none() || back,
            checks,
        }
    }

    fn first_change(&self, check: usize) -> Option<Duration> {
        self.changes
            .iter()
            .find(|c| c.check == check && self.healed_at.is_none_or(|h| c.at < h))
            .map(|c| c.at)
    }

    fn check_report(&self, i: usize) -> CheckConvergence {
        let now = &self.current[i];
        let back = now.passed == self.baseline[i].passed;
        // The last turn after the clear, when it ended where it began.
        let recovered = match self.healed_at {
            Some(healed) if back => self
                .changes
                .iter()
                .rfind(|c| c.check == i && c.at >= healed)
                .map(|c| seconds(c.at - healed)),
            _ => None,
        };
        CheckConvergence {
            check: self.names[i].clone(),
            kind: self.kinds[i],
            baseline: verdict_word(self.baseline[i].passed),
            detected_seconds: self.first_change(i).map(seconds),
            recovered_seconds: recovered,
            state: verdict_word(now.passed),
            reason: now.reason.clone(),
        }
    }
}

fn verdict_word(passed: bool) -> &'static str {
    if passed { "passed" } else { "failed" }
}

/// Milliseconds, as seconds.
fn seconds(d: Duration) -> f64 {
    d.as_millis() as f64 / 1000.0
}

/// What a fault did to the lab's checks (`converge -o json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Convergence {
    /// As `metallab fault list` names it: `link gw right down`.
    pub fault: String,
    /// The fault was cleared (`--heal`).
    pub healed: bool,
    /// How many checks changed after the fault (before its clear).
    pub detected: usize,
    pub first_detected_seconds: Option<f64>,
    pub last_detected_seconds: Option<f64>,
    /// From the start of the clear until every check had its verdict from before the
    /// fault again (and kept it); null without --heal or when some never got it back.
    pub recovered_seconds: Option<f64>,
    /// With --heal: every check got its verdict from before the fault back in time.
    /// Without: the fault was put in and its detection measured.
    pub converged: bool,
    pub checks: Vec<CheckConvergence>,
}

/// What a fault did to one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckConvergence {
    pub check: String,
    /// `session`, `bfd`, `route`, `kernel-route`, `http`, `ping`, `service`.
    pub kind: &'static str,
    /// `passed` or `failed`, before the fault.
    pub baseline: &'static str,
    /// From the fault to the check's first change; null when it never changed.
    pub detected_seconds: Option<f64>,
    /// From the start of the clear until the check was back to its baseline for good;
    /// null when it did not change after the clear (`state` then says whether it was
    /// back already).
    pub recovered_seconds: Option<f64>,
    /// `passed` or `failed`, at the end.
    pub state: &'static str,
    /// Why it fails at the end (failures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A measured time: hundredths under ten seconds (the reading interval is a tenth).
fn time_text(secs: f64) -> String {
    if secs < 10.0 {
        format!("{secs:.2}s")
    } else {
        elapsed(Duration::from_secs_f64(secs))
    }
}

impl Convergence {
    /// One row per check: its baseline, when it changed, when it was back (with --heal).
    pub fn table(&self) -> String {
        let mark = |verdict: &str| if verdict == "passed" { "✔" } else { "✘" };
        let mut headers = vec!["CHECK", "BASELINE", "DETECTED AFTER"];
        if self.healed {
            headers.push("RECOVERED AFTER");
        }
        let rows: Vec<Vec<String>> = self
            .checks
            .iter()
            .map(|c| {
                let mut row = vec![
                    c.check.clone(),
                    format!("{} {}", mark(c.baseline), c.baseline),
                    c.detected_seconds.map_or("-".into(), time_text),
                ];
                if self.healed {
                    row.push(match (c.recovered_seconds, c.state == c.baseline) {
                        (Some(secs), _) => time_text(secs),
                        (None, true) => "-".into(),
                        (None, false) if c.state == "failed" => "✘ still failing".into(),
                        (None, false) => "✔ passing now".into(),
                    });
                }
                row
            })
            .collect();
        table(&headers, &rows)
    }

    /// One line: how many checks noticed and when; with --heal, when all were back or
    /// which were not. `waited` is how long converge watched after the clear (or after the
    /// fault, without one).
    pub fn summary(&self, waited: Duration) -> String {
        let total = self.checks.len();
        let detected = match (self.first_detected_seconds, self.last_detected_seconds) {
            (Some(first), Some(last)) if self.detected > 1 => format!(
                "{} of {total} checks changed, the first after {}, the last after {}",
                self.detected,
                time_text(first),
                time_text(last)
            ),
            (Some(first), _) => format!("1 of {total} checks changed, after {}", time_text(first)),
            _ => format!("no check changed within {}", elapsed(waited)),
        };
        if !self.healed {
            return format!("{}: {detected}", self.fault);
        }
        match self.recovered_seconds {
            Some(secs) => format!(
                "{}: {detected}; every check was back {} after the clear",
                self.fault,
                time_text(secs)
            ),
            None => {
                let not_back: Vec<&str> = self
                    .checks
                    .iter()
                    .filter(|c| c.state != c.baseline)
                    .map(|c| c.check.as_str())
                    .collect();
                format!(
                    "{}: {detected}; not back {} after the clear: {}",
                    self.fault,
                    elapsed(waited),
                    not_back.join(", ")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass() -> Seen {
        Seen {
            passed: true,
            reason: None,
        }
    }

    fn fail(reason: &str) -> Seen {
        Seen {
            passed: false,
            reason: Some(reason.into()),
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn names() -> Vec<(String, &'static str)> {
        [
            ("frr1 bfd", "bfd"),
            ("frr1 session", "session"),
            ("client http", "http"),
        ]
        .iter()
        .map(|(name, kind)| (name.to_string(), *kind))
        .collect()
    }

    /// A link cut: BFD goes first, the session with it, HTTP after its timeout; the clear
    /// brings BFD, then the session, then HTTP back.
    fn link_cut() -> Timeline {
        let mut t = Timeline::new(names(), vec![pass(), pass(), pass()]);
        assert!(t.observe(0, ms(105), pass()).is_none());
        let change = t.observe(0, ms(812), fail("BFD down")).unwrap();
        assert_eq!(change.at, ms(812));
        assert!(t.observe(0, ms(913), fail("BFD down still")).is_none());
        t.observe(1, ms(830), fail("session idle"));
        t.observe(2, ms(2_210), fail("curl: timed out"));
        assert_eq!(t.last_change(), ms(2_210));
        t.heal(ms(7_300));
        t.observe(0, ms(8_450), pass());
        t.observe(1, ms(9_100), pass());
        t.observe(2, ms(9_000), pass());
        t
    }

    #[test]
    fn each_check_is_timed_from_the_fault_and_from_the_clear() {
        let t = link_cut();
        assert!(t.back_to_baseline());
        let report = t.report("link gw right down");
        assert_eq!(report.detected, 3);
        assert_eq!(report.first_detected_seconds, Some(0.812));
        assert_eq!(report.last_detected_seconds, Some(2.21));
        assert_eq!(report.recovered_seconds, Some(1.8));
        assert!(report.converged);
        assert_eq!(report.checks[0].detected_seconds, Some(0.812));
        assert_eq!(report.checks[0].recovered_seconds, Some(1.15));
        insta::assert_snapshot!(report.table(), @r"
        CHECK         BASELINE  DETECTED AFTER  RECOVERED AFTER
        frr1 bfd      ✔ passed  0.81s           1.15s
        frr1 session  ✔ passed  0.83s           1.80s
        client http   ✔ passed  2.21s           1.70s
        ");
        insta::assert_snapshot!(
            report.summary(ms(1_800)),
            @"link gw right down: 3 of 3 checks changed, the first after 0.81s, the last after 2.21s; every check was back 1.80s after the clear"
        );
        insta::assert_json_snapshot!(report.checks[0], @r#"
        {
          "check": "frr1 bfd",
          "kind": "bfd",
          "baseline": "passed",
          "detected_seconds": 0.812,
          "recovered_seconds": 1.15,
          "state": "passed"
        }
        "#);
    }

    #[test]
    fn a_check_still_failing_at_the_end_is_named() {
        let mut t = Timeline::new(names(), vec![pass(), pass(), pass()]);
        t.observe(1, ms(400), fail("session idle"));
        t.heal(ms(5_400));
        // Flaps after the clear: recovered counts to the last turn back.
        t.observe(1, ms(5_600), pass());
        t.observe(1, ms(5_700), fail("session idle again"));
        assert!(!t.back_to_baseline());
        let report = t.report("kill frr1 bgpd");
        assert!(!report.converged);
        assert_eq!(report.recovered_seconds, None);
        insta::assert_snapshot!(report.table(), @r"
        CHECK         BASELINE  DETECTED AFTER  RECOVERED AFTER
        frr1 bfd      ✔ passed  -               -
        frr1 session  ✔ passed  0.40s           ✘ still failing
        client http   ✔ passed  -               -
        ");
        insta::assert_snapshot!(
            report.summary(Duration::from_secs(60)),
            @"kill frr1 bgpd: 1 of 3 checks changed, after 0.40s; not back 60s after the clear: frr1 session"
        );
        assert_eq!(
            report.checks[1].reason.as_deref(),
            Some("session idle again")
        );
        t.observe(1, ms(6_000), pass());
        let report = t.report("kill frr1 bgpd");
        assert!(report.converged);
        assert_eq!(report.checks[1].recovered_seconds, Some(0.6));
    }

    #[test]
    fn a_check_failing_before_the_fault_is_measured_and_not_asked_to_pass() {
        let mut t = Timeline::new(names(), vec![pass(), pass(), fail("no route")]);
        assert_eq!(t.failing_before(), ["client http"]);
        t.observe(2, ms(300), fail("still no route"));
        assert!(t.back_to_baseline());
        // Without --heal: the fault stays, detection is what was measured.
        let report = t.report("stop bird1");
        assert!(report.converged && !report.healed);
        insta::assert_snapshot!(report.table(), @r"
        CHECK         BASELINE  DETECTED AFTER
        frr1 bfd      ✔ passed  -
        frr1 session  ✔ passed  -
        client http   ✘ failed  -
        ");
        insta::assert_snapshot!(
            report.summary(Duration::from_secs(5)),
            @"stop bird1: no check changed within 5.0s"
        );
        insta::assert_json_snapshot!(report, @r#"
        {
          "fault": "stop bird1",
          "healed": false,
          "detected": 0,
          "first_detected_seconds": null,
          "last_detected_seconds": null,
          "recovered_seconds": null,
          "converged": true,
          "checks": [
            {
              "check": "frr1 bfd",
              "kind": "bfd",
              "baseline": "passed",
              "detected_seconds": null,
              "recovered_seconds": null,
              "state": "passed"
            },
            {
              "check": "frr1 session",
              "kind": "session",
              "baseline": "passed",
              "detected_seconds": null,
              "recovered_seconds": null,
              "state": "passed"
            },
            {
              "check": "client http",
              "kind": "http",
              "baseline": "failed",
              "detected_seconds": null,
              "recovered_seconds": null,
              "state": "failed",
              "reason": "still no route"
            }
          ]
        }
        "#);
    }

    #[test]
    fn seen_comes_from_a_verdict() {
        let failed = Verdict::Fail {
            reason: "down".into(),
            evidence: "…".into(),
        };
        assert_eq!(Seen::from(&failed), fail("down"));
        assert_eq!(
            Seen::from(&Verdict::Pass {
                detail: "up".into()
            }),
            pass()
        );
    }
}
