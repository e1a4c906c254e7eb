//! Which `kind` binary to run, and fetching a pinned kind release when there is none, so
//! a fresh machine needs only Docker.
//!
//! The order: `kind` on PATH (the user's choice wins), else the pinned release in the
//! cache (`<cache>/tools/kind-<tag>-<os>-<arch>`, re-verified before use), else a download
//! of it (refused when offline). The table and the choice are pure; [`download`] and
//! [`KindFetch`] are the I/O edge.

/// Where kind's installation is explained.
pub const INSTALL_URL: &str = "https://kind.sigs.k8s.io/docs/user/quick-start/#installation";
use crate::error_chain::error_chain;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use thiserror::Error;

/// The kind release metallab downloads (its default node image is Kubernetes v1.33.1).
pub const KIND_RELEASE: &str = "v0.29.0";

/// Where kind's release assets are published: `<base>/<tag>/kind-<os>-<arch>`.
pub const RELEASES_BASE: &str = "https://github.com/kubernetes-sigs/kind/releases/download";

/// Forbids downloads when set to anything but empty, `0`, `false`, `no` or `off`.
pub const OFFLINE_ENV: &str = "METALLAB_OFFLINE";

/// Another host serving `<tag>/kind-<os>-<arch>` (a mirror inside a closed network).
pub const MIRROR_ENV: &str = "METALLAB_KIND_MIRROR";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The binary is about 10 MB; five minutes covers slow links.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// One release asset and its published sha256 (the `.sha256sum` file next to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedAsset {
    /// kind's names: `linux`, `darwin`; `amd64`, `arm64`.
    pub os: &'static str,
    pub arch: &'static str,
    pub sha256: &'static str,
}

impl PinnedAsset {
    pub fn file_name(&self) -> String {
        format!("kind-{}-{}", self.os, self.arch)
    }

    /// The asset's URL under `base` ([`RELEASES_BASE`] or a mirror).
    pub fn url(&self, base: &str) -> String {
        format!(
            "{}/{KIND_RELEASE}/{}",
            base.trim_end_matches('/'),
            self.file_name()
        )
    }

    /// Where the verified binary is kept: the release is in the name, so a new pin never
    /// runs an old binary.
    pub fn cache_path(&self, cache_dir: &Path) -> PathBuf {
        cache_dir
            .join("tools")
            .join(format!("kind-{KIND_RELEASE}-{}-{}", self.os, self.arch))
    }
}

/// kind v0.29.0's assets, sha256 as published with the release.
pub const PINNED: &[PinnedAsset] = &[
    PinnedAsset {
        os: "linux",
        arch: "amd64",
        sha256: "c72eda46430f065fb45c5f70e7c957cc9209402ef309294821978677c8fb3284",
    },
    PinnedAsset {
        os: "linux",
        arch: "arm64",
        sha256: "03d45095dbd9cc1689f179a3e5e5da24b77c2d1b257d7645abf1b4174bebcf2a",
    },
    PinnedAsset {
        os: "darwin",
        arch: "amd64",
        sha256: "3eb0d4de25b854f34ea8ce8a3cbe15054fc03bc962b03e96fd10664b829fb6ed",
    },
    PinnedAsset {
        os: "darwin",
        arch: "arm64",
        sha256: "314d8f1428842fd1ba2110fd0052a0f0b3ab5773ab1bdcdad1ff036e913310c9",
    },
];

/// kind's name for Rust's `std::env::consts::{OS, ARCH}`.
pub fn kind_platform(os: &str, arch: &str) -> (String, String) {
    let os = match os {
        "macos" => "darwin",
        other => other,
    };
    let arch = match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    (os.to_string(), arch.to_string())
}

/// The pinned asset for a platform named as Rust names it, if metallab has one.
pub fn pinned_asset(os: &str, arch: &str) -> Option<PinnedAsset> {
    let (os, arch) = kind_platform(os, arch);
    PINNED
        .iter()
        .find(|a| a.os == os && a.arch == arch)
        .copied()
}

/// Whether downloads are forbidden: the `--offline` flag or [`OFFLINE_ENV`].
pub fn offline_requested(flag: bool, env: Option<&str>) -> bool {
    flag || env.is_some_and(|v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no" | "off"
        )
    })
}

/// Why there is no kind to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    Offline,
    NoPinnedAsset { os: String, arch: String },
    NoCacheDir,
}

/// Which kind will run, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindSource {
    Path(PathBuf),
    Cache(PathBuf),
    /// Not here yet: `up` downloads `url` to `dest`.
    Download {
        url: String,
        sha256: &'static str,
        dest: PathBuf,
    },
    Unavailable(Unavailable),
}

/// What was found on this machine, the input of [`choose`].
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// kind's names for this machine, `linux`/`amd64`.
    pub os: String,
    pub arch: String,
    pub on_path: Option<PathBuf>,
    /// The pinned asset's cache path (None without a cache directory or asset).
    pub cache_file: Option<PathBuf>,
    /// The cached file exists and its sha256 is the pinned one.
    pub cache_valid: bool,
}

/// PATH, then a verified cache, then a download unless forbidden or impossible.
pub fn choose(
    found: Found,
    asset: Option<PinnedAsset>,
    offline: bool,
    base_url: &str,
) -> KindSource {
    if let Some(path) = found.on_path {
        return KindSource::Path(path);
    }
    if let (Some(file), true) = (&found.cache_file, found.cache_valid) {
        return KindSource::Cache(file.clone());
    }
    if offline {
        return KindSource::Unavailable(Unavailable::Offline);
    }
    let Some(asset) = asset else {
        return KindSource::Unavailable(Unavailable::NoPinnedAsset {
            os: found.os,
            arch: found.arch,
        });
    };
    match found.cache_file {
        Some(dest) => KindSource::Download {
            url: asset.url(base_url),
            sha256: asset.sha256,
            dest,
        },
        None => KindSource::Unavailable(Unavailable::NoCacheDir),
    }
}

#[derive(Debug, Error)]
pub enum FetchError {
    #[error(
        "kind is not on PATH nor in metallab's cache, and downloads are forbidden (--offline or ${OFFLINE_ENV})"
    )]
    Offline,
    #[error(
        "kind is not on PATH, and metallab pins no kind {KIND_RELEASE} download for {os}/{arch}"
    )]
    NoPinnedAsset { os: String, arch: String },
    #[error(
        "kind is not on PATH, and there is no cache directory to download it into (the user cache directory is unknown and METALLAB_CACHE_DIR is unset)"
    )]
    NoCacheDir,
    #[error("cannot download kind {KIND_RELEASE} from {url}: {cause}")]
    Download { url: String, cause: String },
    #[error("cannot download kind {KIND_RELEASE}: {url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("kind downloaded from {url} has sha256 {actual}, expected {expected}; it was not kept")]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("cannot write kind to {}: {cause}", path.display())]
    Cache { path: PathBuf, cause: String },
}

impl FetchError {
    /// Always says how to get kind by hand; and what else may help.
    pub fn hint(&self) -> String {
        let install = format!("install kind yourself and put it on PATH: {INSTALL_URL}");
        match self {
            FetchError::Offline => {
                format!("{install}; or allow the download (drop --offline, unset {OFFLINE_ENV})")
            }
            FetchError::NoPinnedAsset { .. } | FetchError::NoCacheDir => install,
            FetchError::Download { .. } | FetchError::Status { .. } => format!(
                "{install}; or set {MIRROR_ENV} to a mirror serving {KIND_RELEASE}/kind-<os>-<arch>"
            ),
            FetchError::Checksum { .. } => {
                format!("{install}; a proxy or mirror may have altered the file")
            }
            FetchError::Cache { .. } => {
                format!("set METALLAB_CACHE_DIR to a writable directory, or {install}")
            }
        }
    }
}

impl From<Unavailable> for FetchError {
    fn from(u: Unavailable) -> Self {
        match u {
            Unavailable::Offline => FetchError::Offline,
            Unavailable::NoPinnedAsset { os, arch } => FetchError::NoPinnedAsset { os, arch },
            Unavailable::NoCacheDir => FetchError::NoCacheDir,
        }
    }
}

/// An executable file named `name` in one of `path_var`'s directories.
pub fn find_on_path(name: &str, path_var: Option<&OsString>) -> Option<PathBuf> {
    std::env::split_paths(path_var?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The file's sha256 in hex, or None when it cannot be read.
async fn file_sha256(path: &Path) -> Option<String> {
    let bytes = tokio::fs::read(path).await.ok()?;
    Some(hex::encode(Sha256::digest(&bytes)))
}

/// Downloads `url` into a temporary file beside `dest`, checks its sha256, makes it
/// executable and renames it over `dest`: `dest` is the verified binary or nothing.
pub async fn download(
    client: &reqwest::Client,
    url: &str,
    expected_sha256: &str,
    dest: &Path,
) -> Result<(), FetchError> {
    use tokio::io::AsyncWriteExt;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let download_error = |e: reqwest::Error| FetchError::Download {
        url: url.to_string(),
        cause: error_chain(&e),
    };
    let cache_error = |e: std::io::Error| FetchError::Cache {
        path: dest.to_path_buf(),
        cause: e.to_string(),
    };
    let mut response = client.get(url).send().await.map_err(download_error)?;
    if !response.status().is_success() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: response.status().as_u16(),
        });
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await.map_err(cache_error)?;
    let temp = dir.join(format!(
        ".{}.{}-{}.tmp",
        dest.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = async {
        let mut file = tokio::fs::File::create(&temp).await.map_err(cache_error)?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = response.chunk().await.map_err(download_error)? {
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(cache_error)?;
        }
        file.sync_all().await.map_err(cache_error)?;
        drop(file);
        let actual = hex::encode(hasher.finalize());
        if !actual.eq_ignore_ascii_case(expected_sha256) {
            return Err(FetchError::Checksum {
                url: url.to_string(),
                expected: expected_sha256.to_string(),
                actual,
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tokio::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o755))
                .await
                .map_err(cache_error)?;
        }
        tokio::fs::rename(&temp, dest).await.map_err(cache_error)
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    result
}

/// Where this process looks for kind and whether it may download it.
#[derive(Debug, Clone)]
pub struct KindFetch {
    pub path_var: Option<OsString>,
    /// kind's names for this machine (`linux`, `amd64`).
    pub os: String,
    pub arch: String,
    pub cache_dir: Option<PathBuf>,
    pub asset: Option<PinnedAsset>,
    pub offline: bool,
    pub base_url: String,
}

impl KindFetch {
    /// From this process: PATH, the cache directory, the platform, [`OFFLINE_ENV`] (or
    /// `offline_flag`) and [`MIRROR_ENV`].
    pub fn from_env(offline_flag: bool) -> KindFetch {
        let (os, arch) = kind_platform(std::env::consts::OS, std::env::consts::ARCH);
        KindFetch {
            path_var: std::env::var_os("PATH"),
            os,
            arch,
            cache_dir: crate::fetch::metallb_manifests::default_cache_dir().ok(),
            asset: pinned_asset(std::env::consts::OS, std::env::consts::ARCH),
            offline: offline_requested(offline_flag, std::env::var(OFFLINE_ENV).ok().as_deref()),
            base_url: std::env::var(MIRROR_ENV)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| RELEASES_BASE.to_string()),
        }
    }

    /// Which kind would run now, without downloading (a cached file is verified).
    pub async fn locate(&self) -> KindSource {
        let cache_file = match (&self.cache_dir, &self.asset) {
            (Some(dir), Some(asset)) => Some(asset.cache_path(dir)),
            _ => None,
        };
        let on_path = find_on_path("kind", self.path_var.as_ref());
        let cache_valid = match (&on_path, &cache_file, &self.asset) {
            (None, Some(file), Some(asset)) => file_sha256(file)
                .await
                .is_some_and(|sum| sum.eq_ignore_ascii_case(asset.sha256)),
            _ => false,
        };
        choose(
            Found {
                os: self.os.clone(),
                arch: self.arch.clone(),
                on_path,
                cache_file,
                cache_valid,
            },
            self.asset,
            self.offline,
            &self.base_url,
        )
    }

    /// The kind to run: found, or downloaded into the cache now. A corrupted cached file
    /// is downloaded again over.
    pub async fn ensure(&self) -> Result<KindSource, FetchError> {
        match self.locate().await {
            KindSource::Download { url, sha256, dest } => {
                let client = reqwest::Client::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .timeout(DOWNLOAD_TIMEOUT)
                    .user_agent(concat!("metallab/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| FetchError::Download {
                        url: url.clone(),
                        cause: error_chain(&e),
                    })?;
                download(&client, &url, sha256, &dest).await?;
                Ok(KindSource::Cache(dest))
            }
            KindSource::Unavailable(reason) => Err(reason.into()),
            found => Ok(found),
        }
    }
}

#[cfg(test)]
mod tests;
