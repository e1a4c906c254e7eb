//! `metallab doctor`: what this machine has and lacks for metallab, each with a fix.

use super::Failure;
use crate::cli::{GlobalOpts, OutputFormat};
use crate::cluster::kind::INSTALL_URL as KIND_INSTALL_URL;
use crate::cluster::kind_fetch::{KIND_RELEASE, KindFetch, KindSource, OFFLINE_ENV, Unavailable};
use crate::runtime::docker::DockerRuntime;
use crate::runtime::images;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Finding {
    pub item: String,
    pub ok: bool,
    /// Required for router labs (Docker); optional ones only matter for clusters.
    pub required: bool,
    pub detail: String,
    pub hint: Option<String>,
    /// Missing, but `up` fetches it when it needs it (kind, downloaded on first use).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fetched_on_use: bool,
}

fn engine_failure(e: &crate::runtime::RuntimeError) -> Finding {
    Finding {
        item: "docker engine".into(),
        ok: false,
        required: true,
        detail: e.to_string(),
        hint: e.hint(),
        fetched_on_use: false,
    }
}

pub async fn run(g: &GlobalOpts) -> Result<(), Failure> {
    let findings = findings(g.offline).await;
    print(g, &findings);
    if findings.iter().any(|f| f.required && !f.ok) {
        return Err(Failure::Error {
            message: "a required prerequisite is missing".into(),
            hint: Some("see the ✘ lines above".into()),
        });
    }
    Ok(())
}

/// What this machine has and lacks: the Docker engine, the base and router images,
/// kind (and where `up` gets it), minikube and the Docker CLI.
pub async fn findings(offline: bool) -> Vec<Finding> {
    let mut findings = vec![];
    match DockerRuntime::connect().await {
        Ok(rt) => {
            match rt.version().await {
                Ok(v) => findings.push(Finding {
                    item: "docker engine".into(),
                    ok: true,
                    required: true,
                    detail: v.to_string(),
                    hint: None,
                    fetched_on_use: false,
                }),
                Err(e) => findings.push(engine_failure(&e)),
            }
            let base =
                std::env::var("METALLAB_BASE_IMAGE").unwrap_or_else(|_| "debian:bookworm".into());
            let has_base = rt.image_exists(&base).await.unwrap_or(false);
            findings.push(Finding {
                item: format!("base image {base}"),
                ok: has_base,
                required: false,
                detail: if has_base { "present".into() } else { "missing (pulled on first image build)".into() },
                hint: (!has_base).then(|| format!("docker pull {base} (offline: debootstrap bookworm DIR && tar -C DIR -c . | docker import - {base})")),
                fetched_on_use: false,
            });
            for kind in images::kinds_with_images() {
                let Ok(tag) = images::image_tag(kind, &base) else {
                    continue;
                };
                let present = rt.image_exists(&tag).await.unwrap_or(false);
                findings.push(Finding {
                    item: format!("image {kind}"),
                    ok: present,
                    required: false,
                    detail: if present {
                        format!("{tag} present")
                    } else {
                        format!("{tag} not built yet (metallab up builds it)")
                    },
                    hint: (!present).then(|| format!("metallab images build {kind}")),
                    fetched_on_use: false,
                });
            }
        }
        Err(e) => findings.push(engine_failure(&e)),
    }
    let kind = KindFetch::from_env(offline).locate().await;
    let kind_version = match &kind {
        KindSource::Path(path) | KindSource::Cache(path) => {
            Some(tool_version(&path.display().to_string(), &["version"]).await)
        }
        _ => None,
    };
    findings.push(kind_finding(&kind, kind_version));
    for (tool, args, why) in [
        (
            "minikube",
            ["version", "--short"].as_slice(),
            "needed for `cluster: {provider: minikube}`",
        ),
        (
            "docker",
            ["--version"].as_slice(),
            "the Docker CLI gives `metallab exec` an interactive TTY",
        ),
    ] {
        let (ok, detail) = match tool_version(tool, args).await {
            Ok(line) => (true, line),
            Err(e) => (false, e),
        };
        findings.push(Finding {
            item: tool.into(),
            ok,
            required: false,
            detail,
            hint: (!ok).then(|| why.to_string()),
            fetched_on_use: false,
        });
    }
    findings
}

fn print(g: &GlobalOpts, findings: &[Finding]) {
    match g.output {
        OutputFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(findings).expect("serializable")
        ),
        OutputFormat::Table => {
            for f in findings {
                let mark = if f.ok {
                    "✔"
                } else if f.required {
                    "✘"
                } else {
                    "!"
                };
                outln!("{mark} {:<18} {}", f.item, f.detail);
                if let Some(h) = &f.hint {
                    outln!("  {:<18} → {h}", "");
                }
            }
        }
    }
}

/// The first line a tool prints for its version, or why it did not.
async fn tool_version(program: &str, args: &[&str]) -> Result<String, String> {
    match tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
    {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(_) => Err("not found on PATH".to_string()),
    }
}

/// Which kind `up` will run and from where. `version` is what running it printed (for
/// a kind on PATH or in the cache).
pub fn kind_finding(source: &KindSource, version: Option<Result<String, String>>) -> Finding {
    let install = format!("install kind: {KIND_INSTALL_URL}");
    let (ok, detail, hint) = match source {
        KindSource::Path(path) | KindSource::Cache(path) => {
            let place = match source {
                KindSource::Path(_) => "PATH",
                _ => "metallab's cache",
            };
            match version {
                Some(Ok(line)) => (
                    true,
                    format!("{line} (from {place}: {})", path.display()),
                    None,
                ),
                Some(Err(e)) => (
                    false,
                    format!("{} from {place} does not run: {e}", path.display()),
                    Some(install),
                ),
                None => (true, format!("from {place}: {}", path.display()), None),
            }
        }
        KindSource::Download { dest, .. } => (
            false,
            format!(
                "not on PATH; kind {KIND_RELEASE} will be downloaded on first `up` (sha256-checked, to {})",
                dest.display()
            ),
            Some(format!(
                "nothing to do with internet access; else {install} (--offline or {OFFLINE_ENV}=1 forbid the download)"
            )),
        ),
        KindSource::Unavailable(reason) => (
            false,
            match reason {
                Unavailable::Offline => {
                    format!("missing, downloads forbidden (--offline or {OFFLINE_ENV})")
                }
                Unavailable::NoPinnedAsset { os, arch } => {
                    format!("missing, and no pinned kind download for {os}/{arch}")
                }
                Unavailable::NoCacheDir => {
                    "missing, and no cache directory to download it into".to_string()
                }
            },
            Some(format!(
                "{install} (needed for `cluster: {{provider: kind}}`)"
            )),
        ),
    };
    Finding {
        item: "kind".into(),
        ok,
        required: false,
        detail,
        hint,
        fetched_on_use: matches!(source, KindSource::Download { .. }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn kind_line_says_where_kind_comes_from() {
        let on_path = kind_finding(
            &KindSource::Path("/usr/local/bin/kind".into()),
            Some(Ok("kind v0.27.0 go1.23.6 linux/amd64".into())),
        );
        assert!(on_path.ok);
        assert_eq!(
            on_path.detail,
            "kind v0.27.0 go1.23.6 linux/amd64 (from PATH: /usr/local/bin/kind)"
        );

        let cached = kind_finding(
            &KindSource::Cache("/c/tools/kind-v0.29.0-linux-amd64".into()),
            Some(Ok("kind v0.29.0 go1.24.2 linux/amd64".into())),
        );
        assert!(cached.ok);
        assert!(
            cached
                .detail
                .contains("metallab's cache: /c/tools/kind-v0.29.0-linux-amd64")
        );

        let later = kind_finding(
            &KindSource::Download {
                url: "https://example/kind-linux-amd64".into(),
                sha256: "00",
                dest: PathBuf::from("/c/tools/kind-v0.29.0-linux-amd64"),
            },
            None,
        );
        assert!(!later.ok && !later.required);
        assert!(
            later.detail.contains("will be downloaded on first `up`"),
            "{}",
            later.detail
        );
        assert!(later.detail.contains("v0.29.0"));

        let refused = kind_finding(&KindSource::Unavailable(Unavailable::Offline), None);
        assert!(!refused.ok);
        assert!(
            refused.detail.starts_with("missing, downloads forbidden"),
            "{}",
            refused.detail
        );
        assert!(refused.hint.unwrap().contains(KIND_INSTALL_URL));

        let broken = kind_finding(
            &KindSource::Path("/usr/bin/kind".into()),
            Some(Err("exec format error".into())),
        );
        assert!(!broken.ok);
        assert!(broken.hint.unwrap().contains(KIND_INSTALL_URL));
    }
}
