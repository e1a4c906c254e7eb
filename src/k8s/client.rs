//! A `kube::Client` from a kubeconfig: the text `kind get kubeconfig` / `minikube` print,
//! or a file and a context for an existing cluster.

use super::K8sError;
use crate::error_chain::error_chain;
use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use std::path::PathBuf;
use std::time::Duration;

/// How long [`verify_reachable`] waits for the API server's `/version`.
const REACHABILITY_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the kubeconfig comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum KubeconfigSource {
    /// Kubeconfig YAML text, e.g. the output of `kind get kubeconfig --name <lab>`;
    /// `origin` names it in messages ("`kind get kubeconfig --name bgp`").
    Text { yaml: String, origin: String },
    /// A kubeconfig file (an existing cluster).
    File(PathBuf),
    /// What kubectl would use: `$KUBECONFIG` (its files merged), else `~/.kube/config`.
    Default,
}

impl KubeconfigSource {
    fn origin(&self) -> String {
        match self {
            KubeconfigSource::Text { origin, .. } => origin.clone(),
            KubeconfigSource::File(path) => path.display().to_string(),
            KubeconfigSource::Default => "$KUBECONFIG or ~/.kube/config".to_string(),
        }
    }
}

/// A client for the cluster, checked to answer: builds it from the kubeconfig
/// ([`build_client`]) and asks the API server for its version ([`verify_reachable`]).
pub async fn connect(source: &KubeconfigSource, context: Option<&str>) -> Result<Client, K8sError> {
    let (client, server) = build_client(source, context).await?;
    verify_reachable(&client, &server).await?;
    Ok(client)
}

/// [`connect`] for a kubeconfig already parsed (what the cluster providers hand over);
/// `origin` names it in messages.
pub async fn connect_kubeconfig(
    kubeconfig: Kubeconfig,
    context: Option<&str>,
    origin: &str,
) -> Result<Client, K8sError> {
    let (client, server) = client_for(kubeconfig, context, origin).await?;
    verify_reachable(&client, &server).await?;
    Ok(client)
}

/// A client for the kubeconfig's `context` (its current context when None), and the API
/// server URL it talks to. Does not contact the server.
pub async fn build_client(
    source: &KubeconfigSource,
    context: Option<&str>,
) -> Result<(Client, String), K8sError> {
    let kubeconfig = load_kubeconfig(source)?;
    client_for(kubeconfig, context, &source.origin()).await
}

/// A client for the kubeconfig's `context` and the API server URL; no request is made.
async fn client_for(
    kubeconfig: Kubeconfig,
    context: Option<&str>,
    origin: &str,
) -> Result<(Client, String), K8sError> {
    let origin = origin.to_string();
    let context = select_context(&kubeconfig, context, &origin)?;
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| K8sError::Kubeconfig {
            origin: origin.clone(),
            message: format!("context `{context}`: {e}"),
            hint: Some(
                "check the context's cluster and user entries (server URL, certificates)"
                    .to_string(),
            ),
        })?;
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| K8sError::Kubeconfig {
        origin,
        message: format!("cannot build a client for {server}: {e}"),
        hint: None,
    })?;
    Ok((client, server))
}

/// Parses the kubeconfig, from text or file.
pub fn load_kubeconfig(source: &KubeconfigSource) -> Result<Kubeconfig, K8sError> {
    let loaded = match source {
        KubeconfigSource::Text { yaml, .. } => Kubeconfig::from_yaml(yaml),
        KubeconfigSource::File(path) => Kubeconfig::read_from(path),
        KubeconfigSource::Default => Kubeconfig::read(),
    };
    loaded.map_err(|e| K8sError::Kubeconfig {
        origin: source.origin(),
        message: e.to_string(),
        hint: Some(match source {
            KubeconfigSource::File(_) => {
                "check the path (cluster.kubeconfig in the topology) and that the file is a kubeconfig"
                    .to_string()
            }
            KubeconfigSource::Default => {
                "set cluster.kubeconfig in the topology, or KUBECONFIG, to the cluster's kubeconfig"
                    .to_string()
            }
            KubeconfigSource::Text { .. } => {
                "the cluster tool printed something that is not a kubeconfig".to_string()
            }
        }),
    })
}

/// The context to use: `wanted` when the kubeconfig has it, else its current context.
/// Fails naming the contexts there are.
pub fn select_context(
    kubeconfig: &Kubeconfig,
    wanted: Option<&str>,
    origin: &str,
) -> Result<String, K8sError> {
    let available: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let listing = if available.is_empty() {
        "it has no contexts at all".to_string()
    } else {
        format!("available contexts: {}", available.join(", "))
    };
    match wanted.or(kubeconfig.current_context.as_deref()) {
        Some(name) if available.contains(&name) => Ok(name.to_string()),
        Some(name) => Err(K8sError::UnknownContext {
            origin: origin.to_string(),
            context: name.to_string(),
            hint: if wanted.is_some() {
                format!("{listing}; set cluster.context in the topology to one of them")
            } else {
                format!("its current-context names a missing context; {listing}")
            },
        }),
        None => Err(K8sError::Kubeconfig {
            origin: origin.to_string(),
            message: "no context given and no current-context set".to_string(),
            hint: Some(format!("{listing}; set cluster.context in the topology")),
        }),
    }
}

/// Asks the API server for its version; fails with a hint when it does not answer.
/// Returns the server's version (`v1.33.1`).
pub async fn verify_reachable(client: &Client, server: &str) -> Result<String, K8sError> {
    let hint = "is the cluster running? For kind, `kind get clusters` and `docker ps` show \
                its control-plane container; for an existing cluster, try \
                `kubectl cluster-info` with the same kubeconfig and context"
        .to_string();
    match tokio::time::timeout(REACHABILITY_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(info)) => Ok(info.git_version),
        Ok(Err(kube::Error::Api(status))) if status.code == 401 || status.code == 403 => {
            Err(K8sError::request(
                format!("ask {server} for its version"),
                kube::Error::Api(status),
            ))
        }
        Ok(Err(e)) => Err(K8sError::Unreachable {
            server: server.to_string(),
            message: error_chain(&e),
            hint,
        }),
        Err(_) => Err(K8sError::Unreachable {
            server: server.to_string(),
            message: format!(
                "no answer within {}",
                humantime::format_duration(REACHABILITY_TIMEOUT)
            ),
            hint,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape `kind get kubeconfig` prints, with a token user instead of certificates
    /// (the test needs no real key material) and the server on a loopback port where
    /// nothing listens.
    fn kubeconfig(server: &str) -> String {
        format!(
            "apiVersion: v1
kind: Config
preferences: {{}}
current-context: kind-bgp
clusters:
- cluster:
    server: {server}
    insecure-skip-tls-verify: true
  name: kind-bgp
contexts:
- context:
    cluster: kind-bgp
    user: kind-bgp
  name: kind-bgp
- context:
    cluster: kind-bgp
    user: kind-bgp
    namespace: demo
  name: kind-bgp-demo
users:
- name: kind-bgp
  user:
    token: not-a-real-token
"
        )
    }

    fn text(yaml: String) -> KubeconfigSource {
        KubeconfigSource::Text {
            yaml,
            origin: "`kind get kubeconfig --name bgp`".into(),
        }
    }

    #[tokio::test]
    async fn a_context_that_is_not_there_names_the_ones_that_are() {
        let source = text(kubeconfig("https://127.0.0.1:6443"));
        let Err(err) = build_client(&source, Some("kind-other")).await else {
            panic!("built a client for a missing context")
        };
        assert_eq!(
            err.to_string(),
            "the kubeconfig from `kind get kubeconfig --name bgp` has no context `kind-other`"
        );
        let K8sError::UnknownContext { hint, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            hint,
            "available contexts: kind-bgp, kind-bgp-demo; set cluster.context in the topology to one of them"
        );
    }

    #[tokio::test]
    async fn the_current_context_is_used_when_none_is_named() {
        let source = text(kubeconfig("https://127.0.0.1:6443"));
        let (client, server) = build_client(&source, None).await.unwrap();
        assert_eq!(server, "https://127.0.0.1:6443/");
        assert_eq!(client.default_namespace(), "default");
        let (client, _) = build_client(&source, Some("kind-bgp-demo")).await.unwrap();
        assert_eq!(client.default_namespace(), "demo");
    }

    #[test]
    fn text_that_is_not_a_kubeconfig_says_where_it_came_from() {
        let err = load_kubeconfig(&text("clusters: [oops".into())).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot use the kubeconfig from `kind get kubeconfig --name bgp`: "),
            "{err}"
        );
        let missing = KubeconfigSource::File("/nonexistent/kubeconfig".into());
        let err = load_kubeconfig(&missing).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot use the kubeconfig from /nonexistent/kubeconfig: "),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_api_server_that_does_not_answer_is_reported_with_a_hint() {
        // Find a loopback port with no listener: bind, note the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let source = text(kubeconfig(&format!("https://127.0.0.1:{port}")));
        let Err(err) = connect(&source, None).await else {
            panic!("connected to a closed port")
        };
        let K8sError::Unreachable {
            server,
            message,
            hint,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(server, &format!("https://127.0.0.1:{port}/"));
        assert!(
            message.to_lowercase().contains("connection refused"),
            "{message}"
        );
        assert!(hint.contains("kind get clusters"), "{hint}");
    }
}
