//! The lab lifecycle: executes a plan against Docker (up), finds labs by label (down,
//! status), reads router state through the drivers' CLI commands (routes, check).

pub mod change;
pub mod check_runner;
pub mod cluster_side;
pub mod down;
pub mod inspect;
pub mod node_faults;
pub mod pod_routers;
pub mod probe;
pub mod sampler;
pub mod snapshot;
pub mod state_dir;
pub mod up;

#[cfg(test)]
mod lifecycle_tests;
#[cfg(test)]
pub(crate) mod recording;

use crate::runtime::docker::RuntimeError;

/// A failure of the lab machinery (not of a check). Maps to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Runtime(Box<RuntimeError>),
    #[error("{message}")]
    Setup {
        message: String,
        hint: Option<String>,
    },
    /// Stopped by Ctrl-C or SIGTERM (exit 130).
    #[error("{message}")]
    Interrupted {
        message: String,
        hint: Option<String>,
    },
}

impl From<RuntimeError> for EngineError {
    fn from(e: RuntimeError) -> EngineError {
        EngineError::Runtime(Box::new(e))
    }
}

impl EngineError {
    pub fn setup(message: impl Into<String>, hint: impl Into<String>) -> EngineError {
        EngineError::Setup {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            EngineError::Setup { hint, .. } | EngineError::Interrupted { hint, .. } => hint.clone(),
            EngineError::Runtime(e) => e.hint(),
        }
    }

    /// The error and its hint as one item of a list of failures.
    pub fn with_hint_inline(&self) -> String {
        match self.hint() {
            Some(hint) => format!("{self} ({hint})"),
            None => self.to_string(),
        }
    }
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or, on Unix, SIGTERM (what
/// CI runners and `kill` send).
pub async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Run futures with at most `limit` in flight, keeping their order in the result. The
/// next one starts as soon as any one ends (not only the oldest: one slow future does not
/// hold the others back).
pub async fn bounded<T, F>(limit: usize, futures: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    let slots = tokio::sync::Semaphore::new(limit.max(1));
    let slots = &slots;
    futures::future::join_all(futures.into_iter().map(|f| async move {
        let _slot = slots.acquire().await;
        f.await
    }))
    .await
}

/// The one deadline `up --timeout` puts on everything `up` waits for: the cluster, MetalLB's
/// rollouts and webhook, pods, routers, checks. Without one, each wait has its own default
/// (listed in the README under Timeouts).
#[derive(Debug, Clone, Copy, Default)]
pub struct Deadline {
    /// When it runs out, and the `--timeout` it came from (for messages).
    at: Option<(tokio::time::Instant, std::time::Duration)>,
}

impl Deadline {
    /// No deadline: every wait keeps its default.
    pub fn none() -> Deadline {
        Deadline::default()
    }

    /// `timeout` from now.
    pub fn after(timeout: std::time::Duration) -> Deadline {
        Deadline {
            at: Some((tokio::time::Instant::now() + timeout, timeout)),
        }
    }

    /// How long a wait whose own default is `default` may take: that default, or with a
    /// deadline whatever is left of it.
    pub fn budget(&self, default: std::time::Duration) -> std::time::Duration {
        match self.at {
            None => default,
            Some((at, _)) => at.saturating_duration_since(tokio::time::Instant::now()),
        }
    }

    /// The `--timeout` this deadline came from.
    pub fn timeout(&self) -> Option<std::time::Duration> {
        self.at.map(|(_, timeout)| timeout)
    }

    /// When it runs out.
    pub fn instant(&self) -> Option<tokio::time::Instant> {
        self.at.map(|(at, _)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::{Deadline, bounded};
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_deadline_replaces_every_default_with_what_is_left() {
        let none = Deadline::none();
        assert_eq!(
            none.budget(Duration::from_secs(300)),
            Duration::from_secs(300)
        );
        let deadline = Deadline::after(Duration::from_secs(20));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(
            deadline.budget(Duration::from_secs(300)),
            Duration::from_secs(15)
        );
        assert_eq!(
            deadline.budget(Duration::from_secs(1)),
            Duration::from_secs(15)
        );
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(deadline.budget(Duration::from_secs(300)), Duration::ZERO);
        assert_eq!(deadline.timeout(), Some(Duration::from_secs(20)));
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_keeps_the_order_and_a_slow_future_does_not_hold_the_others_back() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let started = tokio::time::Instant::now();
        let jobs: Vec<_> = [10u64, 1, 1, 1, 1]
            .into_iter()
            .enumerate()
            .map(|(i, seconds)| {
                let (in_flight, most) = (&in_flight, &most);
                async move {
                    most.fetch_max(
                        in_flight.fetch_add(1, Ordering::SeqCst) + 1,
                        Ordering::SeqCst,
                    );
                    tokio::time::sleep(Duration::from_secs(seconds)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    (i, started.elapsed().as_secs())
                }
            })
            .collect();
        let done = bounded(2, jobs).await;
        assert_eq!(most.load(Ordering::SeqCst), 2);
        // The four short ones ran one after another beside the long one.
        assert_eq!(done, [(0, 10), (1, 1), (2, 2), (3, 3), (4, 4)]);
    }
}
