//! The URL table per version and mode, and fetching through the cache against a local
//! HTTP server on 127.0.0.1 (the only traffic these tests send).

use super::*;
use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

fn version(text: &str) -> MetallbVersion {
    text.parse().unwrap()
}

#[test]
fn upstream_files_per_version_and_mode() {
    use MetallbMode::*;
    let cases = [
        ("v0.9.6", Native),
        ("v0.10.3", Native),
        ("v0.12.1", Native),
        ("v0.12.1", Frr),
        ("v0.13.12", Native),
        ("v0.13.12", Frr),
        ("v0.14.8", Native),
        ("v0.14.8", Frr),
        ("v0.14.8", FrrK8s),
        ("v0.16.1", FrrK8s),
        ("v0.9.2", Native),
        ("v0.11.0", Frr),
        ("v0.13.12", FrrK8s),
    ];
    let table: String = cases
        .iter()
        .map(|(v, mode)| {
            let files = match upstream_files(UPSTREAM, version(v), *mode) {
                Ok(files) => files
                    .iter()
                    .map(|f| format!("  {}\n", f.url))
                    .collect::<String>(),
                Err(e) => format!("  error: {e}\n  hint: {}\n", e.hint()),
            };
            format!("{v} {}:\n{files}", crate::metallb::mode_name(*mode))
        })
        .collect();
    insta::assert_snapshot!(table);
}

#[test]
fn main_images_are_pinned_to_the_release() {
    let yaml = "image: quay.io/metallb/speaker:main\nimage: metallb/controller:main\nimage: quay.io/frrouting/frr:main\nimage: quay.io/metallb/speaker:mainline\n";
    assert_eq!(
        pin_release_images(yaml, version("v0.12.1")),
        "image: quay.io/metallb/speaker:v0.12.1\nimage: metallb/controller:v0.12.1\nimage: quay.io/frrouting/frr:main\nimage: quay.io/metallb/speaker:mainline\n"
    );
}

#[test]
fn memberlist_secret_for_v0_9() {
    assert_eq!(
        memberlist_secret("k3y"),
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": { "name": "memberlist", "namespace": "metallb-system" },
            "stringData": { "secretkey": "k3y" },
        })
    );
}

#[test]
fn only_v0_9_needs_extra_objects_and_they_are_stable() {
    assert!(install_extras(version("v0.10.0"), "lab").is_empty());
    let extras = install_extras(version("v0.9.6"), "lab");
    assert_eq!(extras.len(), 1);
    assert_eq!(extras[0]["metadata"]["name"], "memberlist");
    let key = extras[0]["stringData"]["secretkey"].as_str().unwrap();
    assert_eq!(key.len(), 64);
    assert_eq!(
        install_extras(version("v0.9.6"), "lab"),
        extras,
        "idempotent"
    );
    assert_ne!(install_extras(version("v0.9.6"), "other"), extras);
}

/// A raw-file server on 127.0.0.1 answering `/<path>` from `files` (404 otherwise) and
/// counting requests; stopped when dropped.
struct Upstream {
    base: String,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn upstream(files: &[(&str, &str)]) -> Upstream {
    let files: Arc<HashMap<String, String>> = Arc::new(
        files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect(),
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().route(
        "/{*path}",
        get(move |UrlPath(path): UrlPath<String>| {
            let files = files.clone();
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                match files.get(&path) {
                    Some(text) => (StatusCode::OK, text.clone()),
                    None => (StatusCode::NOT_FOUND, "404: Not Found".to_string()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Upstream { base, hits, task }
}

const FRR_MANIFEST: &str =
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: metallb-system\n---\nkind: DaemonSet\n";

fn request<'a>(v: &str, mode: MetallbMode, base_dir: &'a Path) -> ManifestRequest<'a> {
    ManifestRequest {
        setup: MetallbSetup::resolve(Some(v), Some(mode)).unwrap(),
        override_location: None,
        base_dir,
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn downloads_once_then_serves_from_the_cache() {
    let server = upstream(&[(
        "metallb/metallb/v0.14.8/config/manifests/metallb-frr.yaml",
        FRR_MANIFEST,
    )])
    .await;
    let cache = tempfile::tempdir().unwrap();
    let fetcher = ManifestFetcher::with_cache_dir(cache.path())
        .unwrap()
        .upstream(&server.base);
    let base = Path::new("/nowhere");

    let first = fetcher
        .fetch(request("v0.14.8", MetallbMode::Frr, base))
        .await
        .unwrap();
    assert_eq!(first.yaml, FRR_MANIFEST);
    assert_eq!(
        first.origin,
        ManifestOrigin::Download {
            urls: vec![format!(
                "{}/metallb/metallb/v0.14.8/config/manifests/metallb-frr.yaml",
                server.base
            )]
        }
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
    let dir = cache.path().join("manifests").join("v0.14.8");
    assert_eq!(
        files_in(&dir),
        ["metallb-frr.yaml"],
        "no temporary file is left"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("metallb-frr.yaml")).unwrap(),
        FRR_MANIFEST
    );

    let second = fetcher
        .fetch(request("v0.14.8", MetallbMode::Frr, base))
        .await
        .unwrap();
    assert_eq!(second.yaml, FRR_MANIFEST);
    assert_eq!(second.origin, ManifestOrigin::Cache { dir: dir.clone() });
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        1,
        "the cache hit made no request"
    );
    assert_eq!(
        second.origin.to_string(),
        format!("cached in {}", dir.display())
    );
}

#[tokio::test]
async fn legacy_releases_join_the_namespace_and_pin_main_images() {
    let server = upstream(&[
        (
            "metallb/metallb/v0.12.1/manifests/namespace.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: metallb-system",
        ),
        (
            "metallb/metallb/v0.12.1/manifests/metallb-frr.yaml",
            "kind: DaemonSet\nimage: quay.io/metallb/speaker:main\n",
        ),
    ])
    .await;
    let cache = tempfile::tempdir().unwrap();
    let fetcher = ManifestFetcher::with_cache_dir(cache.path())
        .unwrap()
        .upstream(&server.base);
    let manifests = fetcher
        .fetch(request("v0.12.1", MetallbMode::Frr, Path::new("/")))
        .await
        .unwrap();
    assert_eq!(
        manifests.yaml,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: metallb-system\n---\nkind: DaemonSet\nimage: quay.io/metallb/speaker:v0.12.1\n"
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);
    // The cache keeps upstream's bytes; pinning happens on every read.
    let cached = cache.path().join("manifests/v0.12.1/metallb-frr.yaml");
    assert!(
        std::fs::read_to_string(cached)
            .unwrap()
            .contains("speaker:main")
    );
}

#[tokio::test]
async fn a_missing_release_is_a_404_with_a_hint() {
    let server = upstream(&[]).await;
    let cache = tempfile::tempdir().unwrap();
    let fetcher = ManifestFetcher::with_cache_dir(cache.path())
        .unwrap()
        .upstream(&server.base);
    let error = fetcher
        .fetch(request("v0.14.99", MetallbMode::Native, Path::new("/")))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}/metallb/metallb/v0.14.99/config/manifests/metallb-native.yaml answered HTTP 404",
            server.base
        )
    );
    assert!(
        error.hint().contains("published MetalLB release"),
        "{}",
        error.hint()
    );
    assert!(
        !cache
            .path()
            .join("manifests/v0.14.99/metallb-native.yaml")
            .exists(),
        "nothing is cached from a failed download"
    );
}

#[tokio::test]
async fn offline_says_how_to_work_air_gapped() {
    // A port nobody listens on: connection refused, as when offline.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let cache = tempfile::tempdir().unwrap();
    let fetcher = ManifestFetcher::with_cache_dir(cache.path())
        .unwrap()
        .upstream(&base);
    let error = fetcher
        .fetch(request("v0.14.8", MetallbMode::FrrK8s, Path::new("/")))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot download {base}/metallb/metallb/v0.14.8/config/manifests/metallb-frr-k8s.yaml: "
        )),
        "{text}"
    );
    assert!(
        text.ends_with("; for air-gapped use set `metallb.manifests: PATH|URL`"),
        "{text}"
    );
}

#[tokio::test]
async fn a_bad_cached_copy_is_downloaded_again() {
    let server = upstream(&[(
        "metallb/metallb/v0.14.8/config/manifests/metallb-frr.yaml",
        FRR_MANIFEST,
    )])
    .await;
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("manifests/v0.14.8");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("metallb-frr.yaml"), "").unwrap();
    let fetcher = ManifestFetcher::with_cache_dir(cache.path())
        .unwrap()
        .upstream(&server.base);
    let manifests = fetcher
        .fetch(request("v0.14.8", MetallbMode::Frr, Path::new("/")))
        .await
        .unwrap();
    assert_eq!(manifests.yaml, FRR_MANIFEST);
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        std::fs::read_to_string(dir.join("metallb-frr.yaml")).unwrap(),
        FRR_MANIFEST
    );
}

#[tokio::test]
async fn a_non_manifest_answer_is_refused() {
    let server = upstream(&[(
        "metallb/metallb/v0.14.8/config/manifests/metallb-frr.yaml",
        "<html>please log in</html>",
    )])
    .await;
    let cache = tempfile::tempdir().unwrap();
    let fetcher = ManifestFetcher::with_cache_dir(cache.path())
        .unwrap()
        .upstream(&server.base);
    let error = fetcher
        .fetch(request("v0.14.8", MetallbMode::Frr, Path::new("/")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ManifestError::NotAManifest { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn overrides_are_paths_relative_to_the_topology_or_urls() {
    let topology_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(topology_dir.path().join("vendor")).unwrap();
    std::fs::write(
        topology_dir.path().join("vendor/metallb.yaml"),
        FRR_MANIFEST,
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let server = upstream(&[("mirror/metallb.yaml", FRR_MANIFEST)]).await;
    let fetcher = ManifestFetcher::with_cache_dir(cache.path())
        .unwrap()
        .upstream("http://127.0.0.1:9"); // never used: overrides bypass upstream

    let spec: MetallbSpec =
        serde_saphyr::from_str("asn: 64500\nversion: v0.14.8\nmanifests: vendor/metallb.yaml\n")
            .unwrap();
    let local = fetcher
        .fetch(ManifestRequest::for_spec(&spec, topology_dir.path()).unwrap())
        .await
        .unwrap();
    assert_eq!(local.yaml, FRR_MANIFEST);
    let path = topology_dir.path().join("vendor/metallb.yaml");
    assert_eq!(
        local.origin,
        ManifestOrigin::Override {
            location: path.display().to_string()
        }
    );

    let url = format!("{}/mirror/metallb.yaml", server.base);
    let remote = fetcher
        .fetch(ManifestRequest {
            override_location: Some(&url),
            ..request("v0.14.8", MetallbMode::Frr, topology_dir.path())
        })
        .await
        .unwrap();
    assert_eq!(remote.yaml, FRR_MANIFEST);
    assert_eq!(remote.origin.to_string(), format!("from {url}"));
    assert!(
        !cache.path().join("manifests").exists(),
        "overrides are not cached"
    );

    let missing = fetcher
        .fetch(ManifestRequest {
            override_location: Some("vendor/missing.yaml"),
            ..request("v0.14.8", MetallbMode::Frr, topology_dir.path())
        })
        .await
        .unwrap_err();
    assert!(
        matches!(missing, ManifestError::ReadOverride { .. }),
        "{missing}"
    );
    assert!(
        missing
            .to_string()
            .starts_with("cannot read the manifests ")
    );
}
