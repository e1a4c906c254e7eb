//! MetalLB's install manifests for a version and mode: where upstream keeps them, and
//! fetching them through a per-version cache (or from the topology's override, for
//! air-gapped use).
//!
//! Upstream layout (raw files of the release tag):
//! - v0.13 and later: `config/manifests/metallb-{native,frr,frr-k8s}.yaml`, one file with
//!   the namespace, CRDs, RBAC, webhooks, controller and speaker;
//! - v0.9.3–v0.12.x: `manifests/namespace.yaml` then `manifests/metallb.yaml`, or
//!   `manifests/metallb-frr.yaml` for the FRR mode of v0.12;
//! - older releases are refused (v0.9.2 and before ship a different layout).
//!
//! Released tags never change, so a cached file is used forever; files are written to a
//! temporary name and renamed, so a crash never leaves half a manifest in the cache.

use crate::error_chain::error_chain;
use crate::metallb::version::{MetallbSetup, MetallbVersion, OLDEST_SUPPORTED, VersionError};
use crate::topology::model::{MetallbMode, MetallbSpec};
use regex::Regex;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use thiserror::Error;

/// Where release files are downloaded from.
pub const UPSTREAM: &str = "https://raw.githubusercontent.com";

/// Overrides the cache root (default: the user cache directory + `metallab`).
pub const CACHE_DIR_ENV: &str = "METALLAB_CACHE_DIR";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The frr-k8s manifest is a few hundred kilobytes; a minute covers slow links.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// One upstream file of a release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ManifestFile {
    /// Path inside the MetalLB repository, `config/manifests/metallb-frr.yaml`.
    pub path: String,
    pub url: String,
}

impl ManifestFile {
    /// The file name used in the cache (unique within one version).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// The upstream files to apply, in order, for `version` and `mode`; `upstream` is the
/// host serving raw repository files ([`UPSTREAM`], or a mirror or test server).
pub fn upstream_files(
    upstream: &str,
    version: MetallbVersion,
    mode: MetallbMode,
) -> Result<Vec<ManifestFile>, ManifestError> {
    if version < OLDEST_SUPPORTED {
        return Err(VersionError::TooOld(version).into());
    }
    if !version.supports_mode(mode) {
        return Err(VersionError::ModeUnavailable { version, mode }.into());
    }
    let paths: Vec<&str> = if version.uses_crds() {
        vec![match mode {
            MetallbMode::Native => "config/manifests/metallb-native.yaml",
            MetallbMode::Frr => "config/manifests/metallb-frr.yaml",
            MetallbMode::FrrK8s => "config/manifests/metallb-frr-k8s.yaml",
        }]
    } else {
        vec![
            "manifests/namespace.yaml",
            match mode {
                MetallbMode::Frr => "manifests/metallb-frr.yaml",
                _ => "manifests/metallb.yaml",
            },
        ]
    };
    let upstream = upstream.trim_end_matches('/');
    Ok(paths
        .into_iter()
        .map(|path| ManifestFile {
            path: path.to_string(),
            url: format!("{upstream}/metallb/metallb/{version}/{path}"),
        })
        .collect())
}

/// Where the manifests came from, for the progress line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestOrigin {
    /// Every file was already in the cache directory.
    Cache { dir: PathBuf },
    /// At least one file was downloaded (and is now cached).
    Download { urls: Vec<String> },
    /// The topology's `metallb.manifests` (a resolved path, or a URL).
    Override { location: String },
}

impl fmt::Display for ManifestOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestOrigin::Cache { dir } => write!(f, "cached in {}", dir.display()),
            ManifestOrigin::Download { urls } => write!(f, "downloaded {}", urls.join(", ")),
            ManifestOrigin::Override { location } => write!(f, "from {location}"),
        }
    }
}

/// The manifests' YAML (several documents) and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifests {
    pub yaml: String,
    pub origin: ManifestOrigin,
}

#[derive(Debug, Error)]
pub enum ManifestError {
    #[error(transparent)]
    Version(#[from] VersionError),
    #[error("cannot download {url}: {cause}; for air-gapped use set `metallb.manifests: PATH|URL`")]
    Download { url: String, cause: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{location} is not a Kubernetes manifest (no `kind:` in it)")]
    NotAManifest { location: String },
    #[error("cannot read the manifests {}: {cause}", path.display())]
    ReadOverride { path: PathBuf, cause: String },
    #[error(
        "no cache directory: the user cache directory is unknown and ${CACHE_DIR_ENV} is unset"
    )]
    NoCacheDir,
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

impl ManifestError {
    /// How to fix it.
    pub fn hint(&self) -> String {
        match self {
            ManifestError::Version(e) => e.hint(),
            ManifestError::Download { .. } => {
                "check the connection, or point `metallb.manifests` at a local copy".to_string()
            }
            ManifestError::Status { status: 404, .. } => {
                "check that the version is a published MetalLB release (https://github.com/metallb/metallb/releases), \
                 or set `metallb.manifests: PATH|URL`"
                    .to_string()
            }
            ManifestError::Status { .. } | ManifestError::NotAManifest { .. } => {
                "retry later, or set `metallb.manifests: PATH|URL` to a local copy".to_string()
            }
            ManifestError::ReadOverride { .. } => {
                "`metallb.manifests` paths are relative to the topology file's directory".to_string()
            }
            ManifestError::NoCacheDir => format!("set {CACHE_DIR_ENV} to a writable directory"),
            ManifestError::Client(_) => "this is a bug in metallab; please report it".to_string(),
        }
    }
}

/// What to fetch: a checked version and mode, the topology's override if any, and the
/// directory relative override paths are resolved against (the topology's directory).
#[derive(Debug, Clone, Copy)]
pub struct ManifestRequest<'a> {
    pub setup: MetallbSetup,
    pub override_location: Option<&'a str>,
    pub base_dir: &'a Path,
}

impl<'a> ManifestRequest<'a> {
    pub fn for_spec(
        spec: &'a MetallbSpec,
        base_dir: &'a Path,
    ) -> Result<ManifestRequest<'a>, ManifestError> {
        Ok(ManifestRequest {
            setup: spec.setup()?,
            override_location: spec.manifests.as_deref(),
            base_dir,
        })
    }
}

/// The cache root: `$METALLAB_CACHE_DIR`, else the user cache directory + `metallab`.
pub fn default_cache_dir() -> Result<PathBuf, ManifestError> {
    match std::env::var_os(CACHE_DIR_ENV) {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => dirs::cache_dir()
            .map(|d| d.join("metallab"))
            .ok_or(ManifestError::NoCacheDir),
    }
}

/// Downloads release manifests through a cache.
#[derive(Debug, Clone)]
pub struct ManifestFetcher {
    client: reqwest::Client,
    cache_dir: PathBuf,
    upstream: String,
}

impl ManifestFetcher {
    /// A fetcher using [`default_cache_dir`] and [`UPSTREAM`].
    pub fn new() -> Result<ManifestFetcher, ManifestError> {
        Self::with_cache_dir(default_cache_dir()?)
    }

    /// A fetcher caching under `cache_dir` (manifests go to `<cache_dir>/manifests/<version>/`).
    pub fn with_cache_dir(cache_dir: impl Into<PathBuf>) -> Result<ManifestFetcher, ManifestError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(DOWNLOAD_TIMEOUT)
            .user_agent(concat!("metallab/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ManifestError::Client(error_chain(&e)))?;
        Ok(ManifestFetcher {
            client,
            cache_dir: cache_dir.into(),
            upstream: UPSTREAM.to_string(),
        })
    }

    /// Downloads from another host serving `/metallb/metallb/<tag>/<path>` (a mirror).
    pub fn upstream(mut self, base: impl Into<String>) -> ManifestFetcher {
        self.upstream = base.into();
        self
    }

    /// The directory holding one version's cached files.
    pub fn version_dir(&self, version: MetallbVersion) -> PathBuf {
        self.cache_dir.join("manifests").join(version.tag())
    }

    /// The manifests for the request: the override when set, else the upstream files
    /// from the cache or downloaded into it.
    pub async fn fetch(&self, request: ManifestRequest<'_>) -> Result<Manifests, ManifestError> {
        if let Some(location) = request.override_location {
            return self.fetch_override(location, request.base_dir).await;
        }
        let version = request.setup.version;
        let files = upstream_files(&self.upstream, version, request.setup.mode)?;
        let dir = self.version_dir(version);
        let mut documents = Vec::new();
        let mut downloaded = Vec::new();
        for file in &files {
            let cached = dir.join(file.file_name());
            let text = match tokio::fs::read_to_string(&cached).await {
                Ok(text) if looks_like_manifest(&text) => text,
                // Missing or unreadable: download (and replace a bad cached copy).
                _ => {
                    let text = self.download(&file.url).await?;
                    // A cache that cannot be written costs a download next time, nothing
                    // more: recorded in the log (-v), not shown as a problem.
                    if let Err(e) = write_atomically(&cached, &text).await {
                        tracing::info!("cannot cache {}: {e}", cached.display());
                    }
                    downloaded.push(file.url.clone());
                    text
                }
            };
            documents.push(pin_release_images(&text, version));
        }
        let origin = if downloaded.is_empty() {
            ManifestOrigin::Cache { dir }
        } else {
            ManifestOrigin::Download { urls: downloaded }
        };
        Ok(Manifests {
            yaml: join_documents(&documents),
            origin,
        })
    }

    async fn fetch_override(
        &self,
        location: &str,
        base_dir: &Path,
    ) -> Result<Manifests, ManifestError> {
        if location.starts_with("http://") || location.starts_with("https://") {
            let yaml = self.download(location).await?;
            return Ok(Manifests {
                yaml,
                origin: ManifestOrigin::Override {
                    location: location.to_string(),
                },
            });
        }
        let path = base_dir.join(location);
        let yaml =
            tokio::fs::read_to_string(&path)
                .await
                .map_err(|e| ManifestError::ReadOverride {
                    path: path.clone(),
                    cause: e.to_string(),
                })?;
        if !looks_like_manifest(&yaml) {
            return Err(ManifestError::NotAManifest {
                location: path.display().to_string(),
            });
        }
        Ok(Manifests {
            yaml,
            origin: ManifestOrigin::Override {
                location: path.display().to_string(),
            },
        })
    }

    async fn download(&self, url: &str) -> Result<String, ManifestError> {
        let download_error = |e: reqwest::Error| ManifestError::Download {
            url: url.to_string(),
            cause: error_chain(&e),
        };
        let response = self.client.get(url).send().await.map_err(download_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(ManifestError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let text = response.text().await.map_err(download_error)?;
        if !looks_like_manifest(&text) {
            // A captive portal or proxy error page answering 200.
            return Err(ManifestError::NotAManifest {
                location: url.to_string(),
            });
        }
        Ok(text)
    }
}

fn looks_like_manifest(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with("kind:"))
}

/// Several YAML files as one multi-document text.
fn join_documents(documents: &[String]) -> String {
    let mut yaml = String::new();
    for document in documents {
        if !yaml.is_empty() {
            yaml.push_str("---\n");
        }
        yaml.push_str(document);
        if !yaml.ends_with('\n') {
            yaml.push('\n');
        }
    }
    yaml
}

/// Some releases' manifests point at the moving `main` images (v0.9.2, v0.10.0, the
/// FRR manifest of v0.12.1: metallb#1265); pin them to the release itself.
pub fn pin_release_images(yaml: &str, version: MetallbVersion) -> String {
    static MAIN_IMAGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(metallb/(?:speaker|controller)):main\b").expect("valid regex")
    });
    MAIN_IMAGE
        .replace_all(yaml, format!("${{1}}:{version}").as_str())
        .into_owned()
}

/// Writes `text` to a temporary file next to `path`, flushes it, then renames it over
/// `path`: readers see the old file or the whole new one, never a prefix.
async fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = async {
        let mut file = tokio::fs::File::create(&temp).await?;
        file.write_all(text.as_bytes()).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temp, path).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    result
}

/// Objects to apply together with the manifests, before waiting for MetalLB to be
/// ready: for v0.9.x the `memberlist` Secret its speakers cannot start without. The key
/// is derived from the lab name, so applying it again changes nothing; it only keys the
/// gossip between the lab's own nodes.
pub fn install_extras(version: MetallbVersion, lab: &str) -> Vec<serde_json::Value> {
    use sha2::{Digest, Sha256};
    if !version.needs_memberlist_secret() {
        return Vec::new();
    }
    let key = hex::encode(Sha256::digest(format!("metallab memberlist {lab}")));
    vec![memberlist_secret(&key)]
}

/// The `metallb-system/memberlist` Secret v0.9.x speakers need (see
/// [`MetallbVersion::needs_memberlist_secret`]). The speaker hashes the key, so any
/// string works; the caller picks it (random, or derived from the lab name).
pub fn memberlist_secret(secret_key: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": "memberlist", "namespace": crate::metallb::NAMESPACE },
        "stringData": { "secretkey": secret_key },
    })
}

#[cfg(test)]
mod tests;
