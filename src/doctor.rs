//! `metallab doctor`: what this machine has and lacks for metallab, each with a fix.

use crate::cli::{GlobalOpts, OutputFormat};
use crate::commands::Failure;
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
}

fn engine_failure(e: &crate::runtime::RuntimeError) -> Finding {
    Finding {
        item: "docker engine".into(),
        ok: false,
        required: true,
        detail: e.to_string(),
        hint: e.hint(),
    }
}

pub async fn run(g: &GlobalOpts) -> Result<(), Failure> {
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
            });
            for &kind in images::kinds_with_images() {
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
                });
            }
        }
        Err(e) => findings.push(engine_failure(&e)),
    }
    for (tool, args, why) in [
        (
            "kind",
            ["version"].as_slice(),
            "needed for `cluster: {provider: kind}`",
        ),
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
        let out = tokio::process::Command::new(tool).args(args).output().await;
        let (ok, detail) = match out {
            Ok(o) if o.status.success() => (
                true,
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            ),
            Ok(o) => (false, String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(_) => (false, "not found on PATH".to_string()),
        };
        findings.push(Finding {
            item: tool.into(),
            ok,
            required: false,
            detail,
            hint: (!ok).then(|| why.to_string()),
        });
    }
    match g.output {
        OutputFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&findings).expect("serializable")
        ),
        OutputFormat::Table => {
            for f in &findings {
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
    if findings.iter().any(|f| f.required && !f.ok) {
        return Err(Failure::Error {
            message: "a required prerequisite is missing".into(),
            hint: Some("see the ✘ lines above".into()),
        });
    }
    Ok(())
}
