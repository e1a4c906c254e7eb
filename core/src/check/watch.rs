//! `metallab check --watch`: the changes between two rounds of verdicts (pure).

use super::evaluate::Verdict;
use serde::Serialize;

/// One check changing state, as `check --watch` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// When it was seen (RFC 3339, milliseconds, UTC).
    pub at: String,
    pub check: String,
    /// `passed` or `failed`.
    pub state: &'static str,
    /// Why it fails (failures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Transition {
    /// `01:23:45.678  ✔ frr1 session to bird1 established` (the time of day in UTC), the
    /// reason after a failure.
    pub fn line(&self) -> String {
        let time = self
            .at
            .split('T')
            .nth(1)
            .unwrap_or(&self.at)
            .trim_end_matches('Z');
        match &self.reason {
            Some(reason) => format!("{time}  ✘ {}: {reason}", self.check),
            None => format!("{time}  ✔ {}", self.check),
        }
    }
}

/// The checks whose verdict differs from the previous round (all of them in the first
/// round, `previous` empty); `previous` becomes this round.
pub fn transitions(
    previous: &mut Vec<Option<bool>>,
    names: &[String],
    verdicts: &[Verdict],
    at: &str,
) -> Vec<Transition> {
    previous.resize(names.len(), None);
    let mut found = Vec::new();
    for ((name, verdict), before) in names.iter().zip(verdicts).zip(previous.iter_mut()) {
        let passed = verdict.is_pass();
        if *before == Some(passed) {
            continue;
        }
        *before = Some(passed);
        found.push(Transition {
            at: at.to_string(),
            check: name.clone(),
            state: if passed { "passed" } else { "failed" },
            reason: match verdict {
                Verdict::Fail { reason, .. } => Some(reason.clone()),
                Verdict::Pass { .. } => None,
            },
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass() -> Verdict {
        Verdict::Pass {
            detail: String::new(),
        }
    }

    fn fail(reason: &str) -> Verdict {
        Verdict::Fail {
            reason: reason.into(),
            evidence: String::new(),
        }
    }

    #[test]
    fn every_check_once_then_only_changes() {
        let names = vec!["a".to_string(), "b".to_string()];
        let mut previous = vec![];
        let first = transitions(&mut previous, &names, &[pass(), fail("down")], "T1");
        assert_eq!(first.len(), 2);
        assert!(transitions(&mut previous, &names, &[pass(), fail("still")], "T2").is_empty());
        let changed = transitions(
            &mut previous,
            &names,
            &[fail("gone"), pass()],
            "2026-12-05T01:23:45.678Z",
        );
        assert_eq!(
            changed.iter().map(Transition::line).collect::<Vec<_>>(),
            ["01:23:45.678  ✘ a: gone", "01:23:45.678  ✔ b"]
        );
        assert_eq!(
            serde_json::to_string(&changed[1]).unwrap(),
            r#"{"at":"2026-12-05T01:23:45.678Z","check":"b","state":"passed"}"#
        );
    }
}
