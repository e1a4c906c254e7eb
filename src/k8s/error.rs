//! Errors of the Kubernetes edge: what went wrong, the API server's own words where it
//! said something, and a hint where we know what the user can do about it.

use std::fmt;
use std::time::Duration;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum K8sError {
    /// The kubeconfig could not be read or does not describe a usable cluster.
    #[error("cannot use the kubeconfig from {origin}: {message}")]
    Kubeconfig {
        origin: String,
        message: String,
        #[help]
        hint: Option<String>,
    },

    /// The context asked for is not in the kubeconfig.
    #[error("the kubeconfig from {origin} has no context `{context}`")]
    UnknownContext {
        origin: String,
        context: String,
        #[help]
        hint: String,
    },

    /// The API server did not answer at all (stopped cluster, wrong port, firewall).
    #[error("cannot reach the Kubernetes API server at {server}: {message}")]
    Unreachable {
        server: String,
        message: String,
        #[help]
        hint: String,
    },

    /// A manifest that is not valid YAML or not a Kubernetes object.
    #[error("{origin}: {message}")]
    Manifest {
        origin: String,
        message: String,
        #[help]
        hint: Option<String>,
    },

    /// Discovery found no resource for an object's apiVersion and kind.
    #[error("the cluster does not serve {kind} ({api_version}), needed for {object}")]
    UnknownKind {
        api_version: String,
        kind: String,
        object: String,
        #[help]
        hint: String,
    },

    /// A request failed: the API server's status code and message, or the transport error.
    #[error("{action}: {message}")]
    Api {
        action: String,
        /// HTTP status code when the API server answered.
        code: Option<u16>,
        message: String,
        #[help]
        hint: Option<String>,
    },

    /// A validating webhook (MetalLB's) looked at the object and refused it.
    #[error("the API server rejected {object}: {message}")]
    Rejected {
        object: String,
        message: String,
        #[help]
        hint: String,
    },

    /// Objects did not become ready in time; `details` says, per object, what it is
    /// waiting for.
    #[error("timed out after {} waiting for {what}:{}", crate::duration_text::rounded(*.waited), Indented(.details))]
    Timeout {
        what: String,
        waited: Duration,
        details: Vec<String>,
        #[help]
        hint: Option<String>,
    },

    /// MetalLB's validating webhook could still not be called when the deadline passed.
    #[error(
        "MetalLB's validating webhook was still unreachable after {attempts} attempts over {}: {last_message}",
        crate::duration_text::rounded(*.waited)
    )]
    WebhookUnavailable {
        attempts: u32,
        waited: Duration,
        last_message: String,
        #[help]
        hint: String,
    },
}

/// Lines on their own, indented under the message.
pub(crate) struct Indented<'a>(pub(crate) &'a [String]);

impl fmt::Display for Indented<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.0 {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

impl K8sError {
    /// A failed request `action` ("apply Deployment metallb-system/controller"), with a
    /// hint chosen from what the API server answered.
    pub(crate) fn request(action: impl Into<String>, error: kube::Error) -> K8sError {
        let action = action.into();
        match error {
            kube::Error::Api(status) => {
                let code = status.code;
                let hint = match code {
                    401 => Some(
                        "the API server did not accept the kubeconfig's credentials; \
                         regenerate the kubeconfig (kind: `kind get kubeconfig`)"
                            .to_string(),
                    ),
                    403 => Some(
                        "the kubeconfig's user lacks permission; metallab needs cluster-admin \
                         rights to install MetalLB"
                            .to_string(),
                    ),
                    _ => None,
                };
                let message = if status.message.is_empty() {
                    status.reason.clone()
                } else {
                    status.message.clone()
                };
                K8sError::Api {
                    action,
                    code: (code != 0).then_some(code),
                    message,
                    hint,
                }
            }
            other => K8sError::Api {
                action,
                code: None,
                message: other.to_string(),
                hint: Some(
                    "the API server did not answer; is the cluster running? \
                     (`kubectl cluster-info`)"
                        .to_string(),
                ),
            },
        }
    }
}
