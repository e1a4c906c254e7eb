//! The lab lifecycle: executes a plan against Docker (up), finds labs by label (down,
//! status), reads router state through the drivers' CLI commands (routes, check).

pub mod cluster;
pub mod down;
pub mod firewall;
pub mod in_cluster;
pub mod inspect;
pub mod probe;
pub mod snapshot;
pub mod state_dir;
pub mod up;

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

/// Run futures with at most `limit` in flight, keeping their order in the result.
pub async fn bounded<T, F>(limit: usize, futures: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    use futures::StreamExt;
    futures::stream::iter(futures)
        .buffered(limit.max(1))
        .collect()
        .await
}
