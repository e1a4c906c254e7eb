//! Router images built by metallab from each kind's `image/` folder (`src/kinds/<kind>/image/`), embedded in the binary so
//! `cargo install` works without the source tree.
//!
//! Tags are content-addressed: `metallab/<kind>:<12 hex of sha256 over the build context
//! and the base image>`, so editing a Dockerfile (or choosing another base) yields a new
//! tag and the next `up` builds it, while an unchanged context is never rebuilt.

use crate::plan::model::labels;
use crate::runtime::docker::{BuildSpec, ImageInfo};
use crate::runtime::error::RuntimeError;
use crate::topology::model::RouterKind;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The base image the Dockerfiles are built `FROM` unless told otherwise.
pub const DEFAULT_BASE_IMAGE: &str = "debian:bookworm";

/// Image label recording the base image an image was built from (its tag's other input).
pub const BASE_IMAGE_LABEL: &str = "io.metallab.base-image";

pub use crate::kinds::BuildContext;

/// The router kinds metallab can build an image for.
pub fn kinds_with_images() -> Vec<RouterKind> {
    RouterKind::all()
        .filter(|k| k.profile().image.is_some())
        .collect()
}

/// What `metallab images build` without arguments builds: every kind whose image comes
/// from the base image's package repository. Quagga is compiled from a source tarball
/// downloaded at build time, so it is built only when asked for (or by `up` for a lab
/// that has a Quagga router), never on an offline machine by default.
pub fn kinds_built_by_default() -> Vec<RouterKind> {
    RouterKind::all()
        .filter(|k| {
            k.profile()
                .image
                .as_ref()
                .is_some_and(|i| i.built_by_default)
        })
        .collect()
}

/// The embedded build context of a kind, if metallab ships one.
pub fn build_context(kind: RouterKind) -> Option<BuildContext> {
    kind.profile().image.as_ref().map(|image| image.context)
}

/// A failed build explained when the kind's image needs a download from the internet,
/// which Docker's own message hides.
fn explain_build_failure(kind: RouterKind, err: RuntimeError) -> RuntimeError {
    let download = kind
        .profile()
        .image
        .as_ref()
        .and_then(|i| i.download.as_ref());
    let (
        Some(download),
        RuntimeError::BuildFailed {
            tag,
            message,
            last_lines,
            ..
        },
    ) = (download, &err)
    else {
        return err;
    };
    let message = if last_lines
        .iter()
        .any(|l| l.contains(download.failed_marker))
    {
        format!(
            "{what} could not be fetched from {url}: the {kind} image needs internet access \
             to build ({message})",
            what = download.what,
            url = download.url,
        )
    } else {
        format!(
            "{message} (the {kind} image's build downloads {what} from {url} and Debian's \
             build tools, and needs internet access)",
            what = download.what,
            url = download.url,
        )
    };
    RuntimeError::BuildFailed {
        tag: tag.clone(),
        message,
        last_lines: last_lines.clone(),
        hint: Some(format!(
            "build it where there is internet access (`metallab images build {kind}`) and \
             copy it here with `docker save`/`docker load`, or give the router an `image:` \
             of your own"
        )),
    }
}

/// sha256 (hex) over the context's file names and contents, in name order, and the base
/// image. Each field is length-delimited so no two different inputs hash alike.
pub fn context_hash(files: &[(&str, &[u8])], base_image: &str) -> String {
    let mut sorted: Vec<&(&str, &[u8])> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut hasher = Sha256::new();
    for (name, contents) in sorted {
        hasher.update(b"file\0");
        hasher.update(name.as_bytes());
        hasher.update(b"\0");
        hasher.update(contents.len().to_string().as_bytes());
        hasher.update(b"\0");
        hasher.update(contents);
    }
    hasher.update(b"base-image\0");
    hasher.update(base_image.as_bytes());
    hex::encode(hasher.finalize())
}

/// `metallab/<kind>:<first 12 hex of the context hash>`.
pub fn tag_for_context(kind_name: &str, files: &[(&str, &[u8])], base_image: &str) -> String {
    format!(
        "metallab/{kind_name}:{}",
        &context_hash(files, base_image)[..12]
    )
}

/// The tag of metallab's image for `kind` built from `base_image`.
pub fn image_tag(kind: RouterKind, base_image: &str) -> Result<String, RuntimeError> {
    let files = build_context(kind).ok_or(RuntimeError::NoImageForKind { kind })?;
    Ok(tag_for_context(kind.as_str(), files, base_image))
}

/// Makes sure metallab's image for `kind` exists, building it when missing. `force`
/// rebuilds it without the build cache (fresh packages). Build output lines go to
/// `progress`. Returns the tag.
pub async fn ensure_image(
    rt: &dyn crate::runtime::ContainerEngine,
    kind: RouterKind,
    base_image: &str,
    force: bool,
    progress: impl Fn(&str) + Send + Sync,
) -> Result<String, RuntimeError> {
    let files = build_context(kind).ok_or(RuntimeError::NoImageForKind { kind })?;
    let tag = image_tag(kind, base_image)?;
    if !force && rt.image_exists(&tag).await? {
        return Ok(tag);
    }
    let spec = BuildSpec {
        tag: &tag,
        context: files,
        build_args: BTreeMap::from([("BASE_IMAGE".to_string(), base_image.to_string())]),
        labels: BTreeMap::from([
            (labels::IMAGE.to_string(), kind.as_str().to_string()),
            (BASE_IMAGE_LABEL.to_string(), base_image.to_string()),
        ]),
        no_cache: force,
    };
    rt.build_image(&spec, &progress)
        .await
        .map_err(|e| explain_build_failure(kind, e))
}

/// An image built by metallab (labelled `io.metallab.image`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MetallabImage {
    /// The router kind from the label (as written, even if this binary does not know it).
    pub kind: String,
    pub tags: Vec<String>,
    pub id: String,
    pub base_image: String,
    /// Whether one of its tags is what this binary would build for its kind and base.
    pub current: bool,
    /// Unix seconds.
    pub created: i64,
    pub size: i64,
}

/// Classifies a labelled image: current when it carries the tag this binary computes for
/// its kind and recorded base image.
pub fn describe_image(image: &ImageInfo) -> Option<MetallabImage> {
    let kind = image.labels.get(labels::IMAGE)?.clone();
    let base_image = image
        .labels
        .get(BASE_IMAGE_LABEL)
        .cloned()
        .unwrap_or_else(|| DEFAULT_BASE_IMAGE.to_string());
    let expected = kind
        .parse::<RouterKind>()
        .ok()
        .and_then(|k| image_tag(k, &base_image).ok());
    let current = expected.is_some_and(|tag| image.tags.contains(&tag));
    Some(MetallabImage {
        kind,
        tags: image.tags.clone(),
        id: image.id.clone(),
        base_image,
        current,
        created: image.created,
        size: image.size,
    })
}

/// What `images prune` removes: every tag of a stale image, or its id when it has none.
pub fn stale_references(images: &[MetallabImage]) -> Vec<String> {
    images
        .iter()
        .filter(|image| !image.current)
        .flat_map(|image| {
            if image.tags.is_empty() {
                vec![image.id.clone()]
            } else {
                image.tags.clone()
            }
        })
        .collect()
}

/// metallab's images present in the engine (for `metallab images list`), newest first.
pub async fn list_images(
    rt: &dyn crate::runtime::ContainerEngine,
) -> Result<Vec<MetallabImage>, RuntimeError> {
    let images = rt.list_images(&[(labels::IMAGE, None)]).await?;
    Ok(images.iter().filter_map(describe_image).collect())
}

/// What `images prune` did.
#[derive(Debug, Default)]
pub struct PruneReport {
    /// Tags (or ids of untagged images) removed.
    pub removed: Vec<String>,
    /// Stale images Docker refused to remove (typically still used by a lab's container).
    pub kept: Vec<(String, RuntimeError)>,
}

/// Removes metallab's images whose tag is no longer current (for `metallab images prune`).
/// An image Docker refuses to remove (in use) is reported and the others still go.
pub async fn prune(rt: &dyn crate::runtime::ContainerEngine) -> Result<PruneReport, RuntimeError> {
    let images = list_images(rt).await?;
    let mut report = PruneReport::default();
    for reference in stale_references(&images) {
        match rt.remove_image(&reference, false).await {
            Ok(()) => report.removed.push(reference),
            // Already gone (e.g. removed with a sibling tag): nothing to report.
            Err(RuntimeError::NotFound { .. }) => {}
            Err(err @ RuntimeError::Unreachable { .. }) => return Err(err),
            Err(err) => report.kept.push((reference, err)),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_hash_matches_an_independent_computation() {
        // Same bytes hashed with coreutils:
        // { printf '%s\0' file Dockerfile 7; printf 'FROM x\n'; printf '%s\0' file run.sh 2;
        //   printf hi; printf '%s\0' base-image; printf debian:bookworm; } | sha256sum
        let files: [(&str, &[u8]); 2] = [("run.sh", b"hi"), ("Dockerfile", b"FROM x\n")];
        assert_eq!(
            context_hash(&files, "debian:bookworm"),
            "61122064dcc7630a495c41445bd089e9e3aa55032ac415da5eed683d7382e0f2"
        );
    }

    #[test]
    fn the_tag_changes_with_any_input_and_only_then() {
        let base: [(&str, &[u8]); 1] = [("Dockerfile", b"FROM x\n")];
        let tag = tag_for_context("frr", &base, "debian:bookworm");
        assert_eq!(tag, tag_for_context("frr", &base, "debian:bookworm"));
        assert!(
            regex::Regex::new(r"^metallab/frr:[0-9a-f]{12}$")
                .unwrap()
                .is_match(&tag)
        );

        let edited: [(&str, &[u8]); 1] = [("Dockerfile", b"FROM y\n")];
        let renamed: [(&str, &[u8]); 1] = [("Containerfile", b"FROM x\n")];
        let extra: [(&str, &[u8]); 2] = [("Dockerfile", b"FROM x\n"), ("a", b"")];
        for other in [
            tag_for_context("frr", &edited, "debian:bookworm"),
            tag_for_context("frr", &renamed, "debian:bookworm"),
            tag_for_context("frr", &extra, "debian:bookworm"),
            tag_for_context("frr", &base, "debian:trixie"),
        ] {
            assert_ne!(tag, other);
        }
        // Moving bytes between a name and its contents must not collide.
        let a: [(&str, &[u8]); 1] = [("ab", b"c")];
        let b: [(&str, &[u8]); 1] = [("a", b"bc")];
        assert_ne!(context_hash(&a, ""), context_hash(&b, ""));
    }

    #[test]
    fn builtin_tags_exist_for_kinds_with_images() {
        for kind in kinds_with_images() {
            let tag = image_tag(kind, DEFAULT_BASE_IMAGE).unwrap();
            assert!(tag.starts_with(&format!("metallab/{kind}:")), "{tag}");
            assert_ne!(tag, image_tag(kind, "debian:trixie").unwrap());
        }
    }

    #[test]
    fn quagga_is_buildable_but_not_built_by_default() {
        // `images build` without arguments runs on machines without internet access.
        assert!(kinds_with_images().contains(&crate::kinds::quagga::KIND));
        assert!(!kinds_built_by_default().contains(&crate::kinds::quagga::KIND));
        for kind in kinds_built_by_default() {
            assert!(kinds_with_images().contains(&kind), "{kind}");
        }
    }

    #[test]
    fn the_quagga_dockerfile_pins_the_source_it_is_documented_with() {
        let image = crate::kinds::quagga::KIND.profile().image.as_ref().unwrap();
        let dockerfile = std::str::from_utf8(image.context[0].1).unwrap();
        let download = image.download.as_ref().unwrap();
        assert!(dockerfile.contains(download.url));
        assert!(dockerfile.contains(download.failed_marker));
        assert!(dockerfile.contains("sha256sum -c"));
        let sha = regex::Regex::new(r"(?m)^ARG QUAGGA_SHA256=([0-9a-f]{64})$").unwrap();
        assert!(sha.is_match(dockerfile), "a full sha256 is pinned");
        // The paths the driver starts the daemons with and vtysh reads from.
        for path in ["--sysconfdir=/etc/quagga", "--localstatedir=/run/quagga"] {
            assert!(dockerfile.contains(path), "{path}");
        }
    }

    fn build_failed(last_lines: &[&str]) -> RuntimeError {
        RuntimeError::BuildFailed {
            tag: "metallab/quagga:0123456789ab".into(),
            message: "The command '/bin/sh -c …' returned a non-zero code: 1".into(),
            last_lines: last_lines.iter().map(|l| l.to_string()).collect(),
            hint: Some("a RUN step failed: its output is above".into()),
        }
    }

    #[test]
    fn a_failed_quagga_download_says_so_and_that_it_needs_internet() {
        let err = explain_build_failure(
            crate::kinds::quagga::KIND,
            build_failed(&[
                "ERROR: the Quagga source tarball could not be fetched (https://…): building Quagga needs internet access",
            ]),
        );
        let text = err.to_string();
        assert!(
            text.contains("Quagga source tarball could not be fetched"),
            "{text}"
        );
        assert!(text.contains(crate::kinds::quagga::SOURCE_URL), "{text}");
        assert!(text.contains("needs internet access"), "{text}");
        assert!(err.hint().unwrap().contains("metallab images build quagga"));

        // Failing earlier (no package mirror) still points at the network.
        let err = explain_build_failure(
            crate::kinds::quagga::KIND,
            build_failed(&["E: Unable to locate package build-essential"]),
        );
        assert!(err.to_string().contains("needs internet access"), "{err}");

        // Other kinds keep Docker's own explanation.
        let err = explain_build_failure(crate::kinds::frr::KIND, build_failed(&[]));
        assert_eq!(err.to_string(), build_failed(&[]).to_string());
        assert_eq!(err.hint(), build_failed(&[]).hint());
    }

    fn labelled(kind: &str, base: Option<&str>, tags: &[&str]) -> ImageInfo {
        let mut labels = BTreeMap::from([(labels::IMAGE.to_string(), kind.to_string())]);
        if let Some(base) = base {
            labels.insert(BASE_IMAGE_LABEL.to_string(), base.to_string());
        }
        ImageInfo {
            id: format!("sha256:{kind}{}", tags.len()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            labels,
            created: 0,
            size: 0,
        }
    }

    #[test]
    fn stale_images_are_old_tags_dangling_builds_and_unknown_kinds() {
        let current_frr = image_tag(crate::kinds::frr::KIND, DEFAULT_BASE_IMAGE).unwrap();
        let current_bird_trixie = image_tag(crate::kinds::bird::KIND, "debian:trixie").unwrap();
        let images: Vec<MetallabImage> = [
            labelled("frr", Some(DEFAULT_BASE_IMAGE), &[&current_frr]),
            labelled(
                "frr",
                Some(DEFAULT_BASE_IMAGE),
                &["metallab/frr:000000000000"],
            ),
            labelled("frr", None, &[]),
            labelled("bird", Some("debian:trixie"), &[&current_bird_trixie]),
            labelled("zebra", None, &["metallab/zebra:111111111111"]),
        ]
        .iter()
        .filter_map(describe_image)
        .collect();
        assert_eq!(
            images.iter().map(|i| i.current).collect::<Vec<_>>(),
            vec![true, false, false, true, false]
        );
        assert_eq!(
            stale_references(&images),
            vec![
                "metallab/frr:000000000000".to_string(),
                "sha256:frr0".to_string(),
                "metallab/zebra:111111111111".to_string(),
            ]
        );
        // Images without metallab's label are not ours.
        let foreign = ImageInfo {
            id: "sha256:x".into(),
            tags: vec!["debian:bookworm".into()],
            labels: BTreeMap::new(),
            created: 0,
            size: 0,
        };
        assert_eq!(describe_image(&foreign), None);
    }
}
