//! Tool versions: parsing what `kind version` and `minikube version` print, and the
//! minimum versions metallab relies on.

use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;

/// A `vMAJOR.MINOR.PATCH[-pre][+build]` version. Build metadata is dropped; a pre-release
/// sorts before its release, as in Semantic Versioning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Option<String>,
}

impl Version {
    pub const fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: None,
        }
    }

    /// Parses `v0.20.0`, `0.20.0`, `v0.24.0-alpha.12+0f3a6ed3aa1c2e`, `v1.32.0-beta.0`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let text = text.split_once('+').map_or(text, |(core, _build)| core);
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) if !pre.is_empty() => (core, Some(pre.to_string())),
            Some(_) => return None,
            None => (text, None),
        };
        let mut numbers = core.split('.').map(|n| {
            (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .then(|| n.parse::<u64>().ok())
                .flatten()
        });
        let version = Version {
            major: numbers.next()??,
            minor: numbers.next()??,
            patch: numbers.next()??,
            pre,
        };
        numbers.next().is_none().then_some(version)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

/// kind v0.20.0 is the first release that runs nodes with `--cgroupns=private`
/// (kubernetes-sigs/kind#3241), which every node image built since then expects
/// (kubernetes-sigs/cluster-api#8788: `kindest/node:v1.27.2` and later break under older
/// kind binaries). It also has everything else metallab uses: `--config -`, `--wait`, and
/// `KIND_EXPERIMENTAL_DOCKER_NETWORK`.
pub static KIND_MINIMUM: Version = Version::new(0, 20, 0);

/// minikube v1.29.0 is the first release with `--static-ip` (minikube's "Setting a Static
/// IP for a Cluster" tutorial lists "minikube v1.29.0 or higher"); `--network`,
/// `--wait=all` and `version --output=json` are older.
pub static MINIKUBE_MINIMUM: Version = Version::new(1, 29, 0);

/// `kind version` prints `kind v0.20.0 go1.20.4 linux/amd64` (`DisplayVersion` in kind's
/// `pkg/cmd/kind/version/version.go`: "kind v" + semver + Go version + GOOS/GOARCH);
/// `kind version -q` prints the bare `0.20.0`. Development builds add
/// `-alpha.N+<commit>`.
pub fn parse_kind_version(stdout: &str) -> Option<Version> {
    let line = stdout.lines().find(|l| !l.trim().is_empty())?;
    let mut words = line.split_whitespace();
    let first = words.next()?;
    let version = if first == "kind" {
        words.next()?
    } else {
        first
    };
    Version::parse(version)
}

/// `minikube version --output=json` prints
/// `{"commit":"62e108c3dfdec8029a890ad6d8ef96b6461426dc","minikubeVersion":"v1.26.1"}`;
/// plain `minikube version` prints `minikube version: v1.26.1` and a `commit:` line
/// (`cmd/minikube/cmd/version.go`). Both are accepted.
pub fn parse_minikube_version(stdout: &str) -> Option<Version> {
    #[derive(serde::Deserialize)]
    struct VersionJson {
        #[serde(rename = "minikubeVersion")]
        minikube_version: String,
    }
    // Update notices and warnings may surround the JSON object: find the line that holds it.
    for line in stdout.lines().map(str::trim) {
        if line.starts_with('{')
            && let Ok(v) = serde_json::from_str::<VersionJson>(line)
        {
            return Version::parse(&v.minikube_version);
        }
        if let Some(rest) = line.strip_prefix("minikube version:") {
            return Version::parse(rest);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_version_lines_parse() {
        // Format of kind's DisplayVersion; the numbers are those of real releases
        // (v0.20.0 was built with go1.20.4, v0.26.0 with go1.23.4).
        assert_eq!(
            parse_kind_version("kind v0.20.0 go1.20.4 linux/amd64\n"),
            Some(Version::new(0, 20, 0))
        );
        assert_eq!(
            parse_kind_version("kind v0.26.0 go1.23.4 darwin/arm64\n"),
            Some(Version::new(0, 26, 0))
        );
        // `kind version -q`.
        assert_eq!(parse_kind_version("0.23.0\n"), Some(Version::new(0, 23, 0)));
        // A build from source: pre-release, commit count and commit.
        let dev = parse_kind_version("kind v0.24.0-alpha.12+0f3a6ed3aa1c2e go1.22.5 linux/amd64")
            .unwrap();
        assert_eq!(dev.pre.as_deref(), Some("alpha.12"));
        assert!(dev < Version::new(0, 24, 0));
        assert!(dev > KIND_MINIMUM);
    }

    #[test]
    fn minikube_version_json_and_text_parse() {
        assert_eq!(
            parse_minikube_version(
                r#"{"commit":"62e108c3dfdec8029a890ad6d8ef96b6461426dc","minikubeVersion":"v1.26.1"}"#
            ),
            Some(Version::new(1, 26, 1))
        );
        assert_eq!(
            parse_minikube_version(
                "minikube version: v1.32.0\ncommit: 8220a6eb95f0a4d75f7f2d7b14cef975f050512d\n"
            ),
            Some(Version::new(1, 32, 0))
        );
    }

    #[test]
    fn garbage_is_not_a_version() {
        for text in [
            "",
            "kind",
            "kind version unknown",
            "v1.2",
            "1.2.3.4",
            "v1.2.x",
            "1.2.3-",
        ] {
            assert_eq!(parse_kind_version(text), None, "{text:?}");
        }
        assert_eq!(parse_minikube_version("{\"commit\":\"abc\"}"), None);
        assert_eq!(parse_minikube_version("command not found"), None);
    }

    #[test]
    fn minimums_compare_like_semver() {
        assert!(Version::new(0, 19, 0) < KIND_MINIMUM);
        assert!(Version::new(0, 20, 0) >= KIND_MINIMUM);
        assert!(Version::new(1, 0, 0) > KIND_MINIMUM);
        assert!(Version::parse("v1.29.0-beta.0").unwrap() < MINIKUBE_MINIMUM);
        assert!(Version::new(1, 38, 1) > MINIKUBE_MINIMUM);
        assert_eq!(KIND_MINIMUM.to_string(), "v0.20.0");
    }
}
