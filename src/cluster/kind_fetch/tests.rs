use super::*;
use axum::Router;
use axum::routing::get;

const LINUX_AMD64: PinnedAsset = PinnedAsset {
    os: "linux",
    arch: "amd64",
    sha256: "c72eda46430f065fb45c5f70e7c957cc9209402ef309294821978677c8fb3284",
};

#[test]
fn the_table_pins_four_platforms_by_rust_names() {
    assert_eq!(pinned_asset("linux", "x86_64"), Some(LINUX_AMD64));
    let cases = [
        ("linux", "aarch64", "linux", "arm64"),
        ("macos", "x86_64", "darwin", "amd64"),
        ("macos", "aarch64", "darwin", "arm64"),
    ];
    for (os, arch, kind_os, kind_arch) in cases {
        let asset = pinned_asset(os, arch).unwrap();
        assert_eq!((asset.os, asset.arch), (kind_os, kind_arch));
    }
    assert_eq!(pinned_asset("windows", "x86_64"), None);
    assert_eq!(pinned_asset("linux", "riscv64"), None);
    assert_eq!(PINNED.len(), 4);
    for asset in PINNED {
        assert_eq!(asset.sha256.len(), 64, "{asset:?}");
        assert!(asset.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

#[test]
fn urls_and_cache_paths_name_the_release() {
    assert_eq!(
        LINUX_AMD64.url(RELEASES_BASE),
        "https://github.com/kubernetes-sigs/kind/releases/download/v0.29.0/kind-linux-amd64"
    );
    assert_eq!(
        LINUX_AMD64.url("http://mirror.example/kind/"),
        "http://mirror.example/kind/v0.29.0/kind-linux-amd64"
    );
    assert_eq!(
        LINUX_AMD64.cache_path(Path::new("/home/u/.cache/metallab")),
        Path::new("/home/u/.cache/metallab/tools/kind-v0.29.0-linux-amd64")
    );
}

#[test]
fn the_offline_switch() {
    assert!(offline_requested(true, None));
    assert!(offline_requested(true, Some("0")));
    assert!(!offline_requested(false, None));
    for off in ["", "0", "false", "No", "OFF", " 0 "] {
        assert!(!offline_requested(false, Some(off)), "{off:?}");
    }
    for on in ["1", "true", "yes", "on", "anything"] {
        assert!(offline_requested(false, Some(on)), "{on:?}");
    }
}

fn found(on_path: Option<&str>, cache_file: Option<&str>, cache_valid: bool) -> Found {
    Found {
        os: "linux".into(),
        arch: "amd64".into(),
        on_path: on_path.map(PathBuf::from),
        cache_file: cache_file.map(PathBuf::from),
        cache_valid,
    }
}

#[test]
fn path_then_cache_then_download_unless_forbidden() {
    let cache = "/c/tools/kind-v0.29.0-linux-amd64";
    let asset = Some(LINUX_AMD64);
    // PATH wins, even offline and with a cached copy.
    assert_eq!(
        choose(
            found(Some("/usr/bin/kind"), Some(cache), true),
            asset,
            true,
            RELEASES_BASE
        ),
        KindSource::Path("/usr/bin/kind".into())
    );
    assert_eq!(
        choose(found(None, Some(cache), true), asset, true, RELEASES_BASE),
        KindSource::Cache(cache.into())
    );
    // Missing or corrupted: downloaded over.
    assert_eq!(
        choose(found(None, Some(cache), false), asset, false, RELEASES_BASE),
        KindSource::Download {
            url: LINUX_AMD64.url(RELEASES_BASE),
            sha256: LINUX_AMD64.sha256,
            dest: cache.into(),
        }
    );
    assert_eq!(
        choose(found(None, Some(cache), false), asset, true, RELEASES_BASE),
        KindSource::Unavailable(Unavailable::Offline)
    );
    assert_eq!(
        choose(found(None, None, false), None, false, RELEASES_BASE),
        KindSource::Unavailable(Unavailable::NoPinnedAsset {
            os: "linux".into(),
            arch: "amd64".into()
        })
    );
    assert_eq!(
        choose(found(None, None, false), asset, false, RELEASES_BASE),
        KindSource::Unavailable(Unavailable::NoCacheDir)
    );
}

#[test]
fn every_refusal_says_what_to_install() {
    let errors = [
        FetchError::Offline,
        FetchError::NoPinnedAsset {
            os: "linux".into(),
            arch: "riscv64".into(),
        },
        FetchError::NoCacheDir,
        FetchError::Status {
            url: "u".into(),
            status: 404,
        },
    ];
    for e in errors {
        assert!(e.to_string().contains("kind"), "{e}");
        assert!(e.hint().contains(INSTALL_URL), "{}", e.hint());
    }
    assert!(FetchError::Offline.to_string().contains(OFFLINE_ENV));
}

#[cfg(unix)]
#[test]
fn only_executable_files_on_path_count() {
    use std::os::unix::fs::PermissionsExt;
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    std::fs::write(first.path().join("kind"), "not executable").unwrap();
    std::fs::create_dir(second.path().join("sub")).unwrap();
    let exe = second.path().join("kind");
    std::fs::write(&exe, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths([first.path(), second.path()]).unwrap();
    assert_eq!(find_on_path("kind", Some(&path)), Some(exe));
    assert_eq!(find_on_path("kind", Some(&first.path().into())), None);
    assert_eq!(find_on_path("kind", None), None);
}

const BINARY: &[u8] = b"\x7fELF pretend kind binary";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A loopback release host serving [`BINARY`] as `v0.29.0/kind-linux-amd64`.
async fn release_host() -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new().route("/v0.29.0/kind-linux-amd64", get(|| async { BINARY }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, task)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_verified_download_lands_in_the_cache_executable() {
    let (base, task) = release_host().await;
    let cache = tempfile::tempdir().unwrap();
    let dest = LINUX_AMD64.cache_path(cache.path());
    let url = LINUX_AMD64.url(&base);
    download(&reqwest::Client::new(), &url, &sha(BINARY), &dest)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), BINARY);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }
    assert_eq!(
        files_in(&cache.path().join("tools")),
        ["kind-v0.29.0-linux-amd64"],
        "no temporary file left"
    );
    task.abort();
}

#[tokio::test]
async fn a_wrong_checksum_names_both_and_keeps_nothing() {
    let (base, task) = release_host().await;
    let cache = tempfile::tempdir().unwrap();
    let dest = LINUX_AMD64.cache_path(cache.path());
    let url = LINUX_AMD64.url(&base);
    let err = download(&reqwest::Client::new(), &url, LINUX_AMD64.sha256, &dest)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(LINUX_AMD64.sha256), "{text}");
    assert!(text.contains(&sha(BINARY)), "{text}");
    assert!(text.contains(&url), "{text}");
    assert!(err.hint().contains(INSTALL_URL));
    assert_eq!(files_in(&cache.path().join("tools")), Vec::<String>::new());
    task.abort();
}

#[tokio::test]
async fn a_missing_asset_names_the_url_and_what_to_install() {
    let (base, task) = release_host().await;
    let cache = tempfile::tempdir().unwrap();
    let asset = PinnedAsset {
        arch: "arm64",
        ..LINUX_AMD64
    };
    let url = asset.url(&base);
    let err = download(
        &reqwest::Client::new(),
        &url,
        asset.sha256,
        &asset.cache_path(cache.path()),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 404, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&url), "{err}");
    assert!(err.hint().contains(INSTALL_URL), "{}", err.hint());
    assert!(!asset.cache_path(cache.path()).exists());
    task.abort();
}

fn fetch_for(base: &str, cache: &Path, offline: bool) -> KindFetch {
    let sum: &'static str = Box::leak(sha(BINARY).into_boxed_str());
    KindFetch {
        // A PATH without kind on it.
        path_var: Some(cache.join("empty-bin").into_os_string()),
        os: "linux".into(),
        arch: "amd64".into(),
        cache_dir: Some(cache.to_path_buf()),
        asset: Some(PinnedAsset {
            sha256: sum,
            ..LINUX_AMD64
        }),
        offline,
        base_url: base.to_string(),
    }
}

#[tokio::test]
async fn a_corrupted_cache_is_downloaded_again_unless_offline() {
    let (base, task) = release_host().await;
    let cache = tempfile::tempdir().unwrap();
    let dest = LINUX_AMD64.cache_path(cache.path());
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::write(&dest, b"truncated").unwrap();

    let offline = fetch_for(&base, cache.path(), true);
    assert!(matches!(offline.ensure().await, Err(FetchError::Offline)));

    let online = fetch_for(&base, cache.path(), false);
    assert!(matches!(online.locate().await, KindSource::Download { .. }));
    assert_eq!(
        online.ensure().await.unwrap(),
        KindSource::Cache(dest.clone())
    );
    assert_eq!(std::fs::read(&dest).unwrap(), BINARY);
    // Now verified in the cache: used without a download, also offline.
    assert_eq!(offline.ensure().await.unwrap(), KindSource::Cache(dest));
    task.abort();
}

#[tokio::test]
async fn an_unreachable_host_is_a_download_error_with_the_install_link() {
    // A port nobody listens on: connection refused, as on a machine without internet.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let cache = tempfile::tempdir().unwrap();
    let err = fetch_for(&base, cache.path(), false)
        .ensure()
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Download { .. }), "{err:?}");
    assert!(err.to_string().contains(&base), "{err}");
    assert!(err.hint().contains(INSTALL_URL));
    assert_eq!(files_in(&cache.path().join("tools")), Vec::<String>::new());
}
