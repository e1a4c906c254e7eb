//! What rendering a router's configs yields, and how it fails.

use super::RouterKind;
use serde::{Deserialize, Serialize};

/// One file to place in a router's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// Absolute path inside the container.
    pub path: String,
    pub contents: String,
    /// Unix permission bits.
    pub mode: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("router {router}: a {kind} router with BGP sessions or announcements needs an ASN")]
    MissingAsn { router: String, kind: RouterKind },
    #[error("router {router}: the password of session {session} {reason}")]
    UnsupportedPassword {
        router: String,
        session: String,
        reason: &'static str,
    },
    #[error("router {router}: {what}")]
    Unsupported { router: String, what: String },
    #[error("router {router}: IPv6 is not supported yet ({what})")]
    Ipv6NotSupported { router: String, what: String },
    #[error("template {template}: {source:#}")]
    Template {
        template: &'static str,
        #[source]
        source: minijinja::Error,
    },
}

/// Regular config files: readable by the daemons, which may run as their own user
/// (FRR drops to `frr`), and by `metallab exec` users inspecting a lab.
const CONFIG_MODE: u32 = 0o644;

/// A config file at `path` (absolute, inside the container).
pub fn config_file(path: &str, contents: String) -> ConfigFile {
    ConfigFile {
        path: path.to_string(),
        contents,
        mode: CONFIG_MODE,
    }
}
