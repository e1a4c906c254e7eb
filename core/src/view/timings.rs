//! `up --timings`: where the time of an `up` went, per step and per router, and when the
//! checks saw the sessions come up.

use std::fmt::Write;
use std::time::Duration;

/// A step, or one part of a step (`part` set: what `set_message` said it was doing), as
/// offsets from the start of the command.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub phase: String,
    pub what: String,
    pub part: Option<String>,
    pub start: Duration,
    pub end: Duration,
}

impl Span {
    pub fn seconds(&self) -> f64 {
        (self.end - self.start).as_secs_f64()
    }
}

/// A check that passed, placed on the command's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct PassedCheck {
    /// The router the check reads (None for cluster checks).
    pub router: Option<String>,
    /// A session check (its pass is the session being Established).
    pub session: bool,
    /// When it passed, from the start of the command.
    pub at: Duration,
}

/// The parts a router's step goes through, in order, named as `set_message` says them;
/// `running …` parts (one per start command) add up to `commands`.
const ROUTER_PARTS: [(&str, &str); 5] = [
    ("creating", "create"),
    ("uploading", "upload"),
    ("starting", "start"),
    ("running", "commands"),
    ("waiting", "ready"),
];

/// The breakdown as text: every step with its start and duration (a router's with its
/// parts), then, per router with session checks, when its first and last session was
/// seen Established, and when the last check passed.
pub fn render(spans: &[Span], checks: &[PassedCheck]) -> String {
    let mut steps: Vec<&Span> = spans.iter().filter(|s| s.part.is_none()).collect();
    steps.sort_by_key(|s| s.start);
    let width = steps
        .iter()
        .map(|s| s.what.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let mut out = String::from("timings (seconds from the start)\n");
    let _ = writeln!(
        out,
        "{:<9} {:<width$} {:>7} {:>7}",
        "phase", "what", "start", "took"
    );
    for step in steps {
        let _ = write!(
            out,
            "{:<9} {:<width$} {:>7.2} {:>7.2}",
            step.phase,
            step.what,
            step.start.as_secs_f64(),
            step.seconds()
        );
        let parts = parts_of(spans, step);
        if !parts.is_empty() {
            let _ = write!(out, "   {parts}");
        }
        out.push('\n');
    }
    let mut routers: Vec<&str> = checks
        .iter()
        .filter(|c| c.session)
        .filter_map(|c| c.router.as_deref())
        .collect();
    routers.sort_unstable();
    routers.dedup();
    for router in routers {
        let times: Vec<Duration> = checks
            .iter()
            .filter(|c| c.session && c.router.as_deref() == Some(router))
            .map(|c| c.at)
            .collect();
        let first = times.iter().min().copied().unwrap_or_default();
        let last = times.iter().max().copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "sessions of {router} Established: first at {:.2}, all {} at {:.2}",
            first.as_secs_f64(),
            times.len(),
            last.as_secs_f64()
        );
    }
    if let Some(last) = checks.iter().map(|c| c.at).max() {
        let _ = writeln!(
            out,
            "all {} checks passed at {:.2}",
            checks.len(),
            last.as_secs_f64()
        );
    }
    out
}

/// `create 0.21 · upload 0.03 · …` for a step that reported parts.
fn parts_of(spans: &[Span], step: &Span) -> String {
    let parts: Vec<&Span> = spans
        .iter()
        .filter(|s| s.part.is_some() && s.phase == step.phase && s.what == step.what)
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    let mut named: Vec<(String, f64)> = Vec::new();
    for part in parts {
        let text = part.part.as_deref().unwrap_or_default();
        let name = ROUTER_PARTS
            .iter()
            .find(|(prefix, _)| text.starts_with(prefix))
            .map_or(text, |(_, name)| name);
        match named.iter_mut().find(|(n, _)| n == name) {
            Some((_, secs)) => *secs += part.seconds(),
            None => named.push((name.to_string(), part.seconds())),
        }
    }
    named
        .iter()
        .map(|(name, secs)| format!("{name} {secs:.2}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(phase: &str, what: &str, part: Option<&str>, start_ms: u64, end_ms: u64) -> Span {
        Span {
            phase: phase.into(),
            what: what.into(),
            part: part.map(str::to_string),
            start: Duration::from_millis(start_ms),
            end: Duration::from_millis(end_ms),
        }
    }

    #[test]
    fn steps_in_start_order_with_router_parts_and_session_times() {
        let spans = vec![
            span("network", "metallab-b3-lan", None, 20, 60),
            span("router", "hub (frr)", Some("creating container"), 100, 300),
            span("router", "hub (frr)", Some("uploading configs"), 300, 330),
            span("router", "hub (frr)", Some("starting container"), 330, 480),
            span(
                "router",
                "hub (frr)",
                Some("running vtysh --dryrun"),
                480,
                520,
            ),
            span(
                "router",
                "hub (frr)",
                Some("running frrinit.sh start"),
                520,
                880,
            ),
            span(
                "router",
                "hub (frr)",
                Some("waiting for the daemon"),
                880,
                1100,
            ),
            span("router", "hub (frr)", None, 100, 1100),
            span("image", "frr", None, 0, 10),
        ];
        let checks = vec![
            PassedCheck {
                router: Some("hub".into()),
                session: true,
                at: Duration::from_millis(2300),
            },
            PassedCheck {
                router: Some("hub".into()),
                session: true,
                at: Duration::from_millis(2500),
            },
            PassedCheck {
                router: Some("hub".into()),
                session: false,
                at: Duration::from_millis(3100),
            },
        ];
        insta::assert_snapshot!(render(&spans, &checks), @r"
        timings (seconds from the start)
        phase     what              start    took
        image     frr                0.00    0.01
        network   metallab-b3-lan    0.02    0.04
        router    hub (frr)          0.10    1.00   create 0.20 · upload 0.03 · start 0.15 · commands 0.40 · ready 0.22
        sessions of hub Established: first at 2.30, all 2 at 2.50
        all 3 checks passed at 3.10
        ");
    }
}
