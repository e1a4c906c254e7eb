//! Keeping secrets out of bug reports (pure).
//!
//! Two lines of defence. First, every secret value metallab knows of (the BGP passwords of
//! the plan, and any password found in the lab's own config texts) is replaced wherever it
//! appears, in every file, in the forms it can take there (raw, JSON-escaped, base64 as in
//! a Kubernetes Secret). Second, the syntaxes that carry passwords are recognised and their
//! value replaced whatever it is: FRR/Quagga `neighbor X password Y`, BIRD `password "Y";`,
//! GoBGP `auth-password = "Y"`, YAML `password: Y`, JSON `"password": "Y"` and
//! `*PASSWORD*=Y` environment entries. A password that is a common word therefore costs
//! readability (every occurrence of the word goes), never secrecy.

use crate::plan::Plan;
use regex::Regex;
use std::sync::LazyLock;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Secrets found by pattern shorter than this are ignored as secrets to replace
/// everywhere (they stay redacted where the pattern matched): replacing every `x` of a
/// file would make it unreadable for what is most likely not a password.
const MIN_LEARNED_LEN: usize = 3;

/// The BGP passwords the plan carries: sessions, node session templates, MetalLB peers.
pub fn plan_secrets(plan: &Plan) -> Vec<String> {
    let mut secrets = vec![];
    for r in &plan.routers {
        secrets.extend(r.sessions.iter().filter_map(|s| s.password.clone()));
        secrets.extend(r.node_sessions.iter().filter_map(|s| s.password.clone()));
    }
    if let Some(m) = &plan.metallb {
        secrets.extend(m.peers.iter().filter_map(|p| p.password.clone()));
    }
    secrets
}

/// A quoted value `"..."` (with escapes) or `'...'`.
const QUOTED: &str = r#""(?:[^"\\\n]|\\.)*"|'[^'\n]*'"#;

/// Password-carrying syntaxes. Each has a `key` group (kept) and a `value` group (replaced).
static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // FRR and Quagga: `neighbor 10.0.0.3 password s3cret` (config and running-config).
        r"(?m)(?P<key>\bneighbor\s+\S+\s+password\s+)(?P<value>\S+)".to_string(),
        // BIRD: `password "s3cret";`.
        r#"(?P<key>\bpassword\s+)(?P<value>"(?:[^"\\\n]|\\.)*")"#.to_string(),
        // Quagga/FRR vty and enable passwords: `password zebra` on a line of its own.
        r#"(?m)(?P<key>^\s*(?:enable\s+)?password\s+)(?P<value>[^"\s<]\S*)"#.to_string(),
        // TOML (GoBGP `auth-password = "s3cret"`) and similar `key = value` files.
        format!(r"(?i)(?P<key>\b[a-z0-9_-]*password[a-z0-9_-]*\s*=\s*)(?P<value>{QUOTED})"),
        // JSON: `"password": "s3cret"`, `"auth_password":"s3cret"`.
        r#"(?i)(?P<key>"[a-z0-9_-]*password[a-z0-9_-]*"\s*:\s*)(?P<value>"(?:[^"\\]|\\.)*")"#
            .to_string(),
        // YAML, block and flow style: `password: s3cret`, `{ password: "s3cret" }`. Not a
        // mapping or list value (`passwordSecret: {name: x}` names a Secret, no secret).
        format!(
            r#"(?im)(?P<key>(?:^|[\s{{,-])[a-z0-9_-]*password[a-z0-9_-]*\s*:[ \t]+)(?P<value>{QUOTED}|[^\s,}}#'"{{\[<][^\s,}}]*)"#
        ),
        // Environment entries: `BGP_PASSWORD=s3cret` (docker inspect's Env, logs).
        r"(?i)(?P<key>\b[a-z0-9_]*(?:password|passwd|secret|token)[a-z0-9_]*=)(?P<value>[^\s\x22',;]+)"
            .to_string(),
    ]
    .iter()
    .map(|p| Regex::new(p).expect("static redaction pattern"))
    .collect()
});

/// Replaces known secrets and password syntaxes in text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Every form of every secret, longest first (so a secret containing another goes whole).
    forms: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut r = Redactor::default();
        for s in secrets {
            r.add(&s);
        }
        r
    }

    /// Adds one secret (ignored when empty or already known).
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() || secret == REDACTED {
            return;
        }
        let json = serde_json::to_string(secret).expect("strings serialize");
        let json_inner = json[1..json.len() - 1].to_string();
        for form in [secret.to_string(), json_inner, base64(secret.as_bytes())] {
            if !form.is_empty() && !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        self.forms
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// Learns the secrets a config text carries in the known syntaxes (FRR, BIRD, GoBGP,
    /// YAML, JSON…), so they are also replaced where no syntax marks them (logs, outputs).
    pub fn learn_from(&mut self, text: &str) {
        for secret in secrets_in_text(text) {
            if secret.chars().count() >= MIN_LEARNED_LEN {
                self.add(&secret);
            }
        }
    }

    /// The text with every known secret and every password syntax's value replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        for pattern in PATTERNS.iter() {
            out = pattern
                .replace_all(&out, |caps: &regex::Captures<'_>| {
                    let value = &caps["value"];
                    let replacement = match value.chars().next() {
                        Some('"') => format!("\"{REDACTED}\""),
                        Some('\'') => format!("'{REDACTED}'"),
                        _ => REDACTED.to_string(),
                    };
                    format!("{}{replacement}", &caps["key"])
                })
                .into_owned();
        }
        out
    }

    /// Whether any known secret (in any of its forms) is still in `text`.
    pub fn leaks(&self, text: &str) -> bool {
        self.forms.iter().any(|f| text.contains(f.as_str()))
    }
}

/// The values of password syntaxes in `text`, unquoted.
pub fn secrets_in_text(text: &str) -> Vec<String> {
    let mut found = vec![];
    for pattern in PATTERNS.iter() {
        for caps in pattern.captures_iter(text) {
            let value = unquote(&caps["value"]);
            if !value.is_empty() && value != REDACTED && !found.contains(&value) {
                found.push(value);
            }
        }
    }
    found
}

fn unquote(value: &str) -> String {
    let inner = |open: char| {
        value
            .strip_prefix(open)
            .and_then(|v| v.strip_suffix(open))
            .map(str::to_string)
    };
    match value.chars().next() {
        // JSON/TOML/BIRD escapes: `\"` and `\\` are all those syntaxes allow in a password.
        Some('"') => inner('"')
            .map(|v| v.replace("\\\"", "\"").replace("\\\\", "\\"))
            .unwrap_or_else(|| value.to_string()),
        Some('\'') => inner('\'').unwrap_or_else(|| value.to_string()),
        _ => value.to_string(),
    }
}

/// Standard base64 with padding (how Kubernetes Secrets carry data).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_patterns(text: &str) -> String {
        Redactor::default().redact(text)
    }

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"s3cret!"), "czNjcmV0IQ==");
    }

    #[test]
    fn frr_and_quagga_neighbor_passwords() {
        let conf = "router bgp 64500\n neighbor 10.0.0.3 remote-as 64501\n neighbor 10.0.0.3 password s3cret\n neighbor peers password other-one\n!\n";
        assert_eq!(
            only_patterns(conf),
            "router bgp 64500\n neighbor 10.0.0.3 remote-as 64501\n neighbor 10.0.0.3 password <redacted>\n neighbor peers password <redacted>\n!\n"
        );
        // Quagga's vty passwords.
        assert_eq!(
            only_patterns("hostname r1\npassword zebra\nenable password zebra2\n"),
            "hostname r1\npassword <redacted>\nenable password <redacted>\n"
        );
    }

    #[test]
    fn bird_quoted_passwords_keep_their_quotes() {
        let conf = "protocol bgp bgp_frr1 {\n  neighbor 10.0.0.2 as 64500;\n  password \"s3 cret\";\n  passive on;\n}\n";
        assert_eq!(
            only_patterns(conf),
            "protocol bgp bgp_frr1 {\n  neighbor 10.0.0.2 as 64500;\n  password \"<redacted>\";\n  passive on;\n}\n"
        );
    }

    #[test]
    fn gobgp_toml_passwords_with_escapes() {
        let conf = "[neighbors.config]\n  neighbor-address = \"10.0.0.2\"\n  auth-password = \"a\\\"b\\\\c\"\n";
        assert_eq!(
            only_patterns(conf),
            "[neighbors.config]\n  neighbor-address = \"10.0.0.2\"\n  auth-password = \"<redacted>\"\n"
        );
        assert_eq!(secrets_in_text(conf), ["a\"b\\c"]);
    }

    #[test]
    fn yaml_block_and_flow_passwords() {
        let yaml = "routers:\n  frr1:\n    neighbors:\n      - { to: bird1, password: s3cret, bfd: true }\n      - to: gobgp1\n        password: \"quoted one\"  # why\nmetallb:\n  peers:\n    - router: frr1\n      password: 'single'\n      passwordSecret: { name: bgp-secret }\n";
        insta::assert_snapshot!(only_patterns(yaml), @r#"
        routers:
          frr1:
            neighbors:
              - { to: bird1, password: <redacted>, bfd: true }
              - to: gobgp1
                password: "<redacted>"  # why
        metallb:
          peers:
            - router: frr1
              password: '<redacted>'
              passwordSecret: { name: bgp-secret }
        "#);
        assert_eq!(secrets_in_text(yaml), ["s3cret", "quoted one", "single"]);
    }

    #[test]
    fn json_passwords_in_plans_and_daemon_output() {
        let plan = r#"{"sessions": [{"peer_address": "10.0.0.3", "password": "s3cret", "passive": false}], "other": {"password": null}}"#;
        assert_eq!(
            only_patterns(plan),
            r#"{"sessions": [{"peer_address": "10.0.0.3", "password": "<redacted>", "passive": false}], "other": {"password": null}}"#
        );
        // gobgp neighbor -j
        let gobgp = r#"{"conf":{"auth_password":"s3cret","neighbor_address":"10.0.0.2"}}"#;
        assert_eq!(
            only_patterns(gobgp),
            r#"{"conf":{"auth_password":"<redacted>","neighbor_address":"10.0.0.2"}}"#
        );
    }

    #[test]
    fn environment_entries() {
        let inspect = r#""Env": ["PATH=/usr/bin", "BGP_PASSWORD=s3cret", "GITHUB_TOKEN=ghp_abc"]"#;
        assert_eq!(
            only_patterns(inspect),
            r#""Env": ["PATH=/usr/bin", "BGP_PASSWORD=<redacted>", "GITHUB_TOKEN=<redacted>"]"#
        );
    }

    #[test]
    fn known_secrets_go_everywhere_in_every_form() {
        let r = Redactor::new(["s3cret".to_string(), "with\"quote".to_string()]);
        let log = "bgpd: 10.0.0.3 MD5 key s3cret rejected\n{\"p\": \"with\\\"quote\"}\nsecret data czNjcmV0\n";
        let out = r.redact(log);
        assert_eq!(
            out,
            "bgpd: 10.0.0.3 MD5 key <redacted> rejected\n{\"p\": \"<redacted>\"}\nsecret data <redacted>\n"
        );
        assert!(!r.leaks(&out));
        assert!(r.leaks(log));
    }

    #[test]
    fn a_longer_secret_containing_a_shorter_one_goes_whole() {
        let r = Redactor::new(["abc".to_string(), "abcdef".to_string()]);
        assert_eq!(r.redact("x abcdef y abc"), "x <redacted> y <redacted>");
    }

    #[test]
    fn secrets_learned_from_configs_are_redacted_in_other_files() {
        let mut r = Redactor::default();
        r.learn_from(" neighbor 10.0.0.3 password Learned9\n");
        r.learn_from("password: x\n"); // too short to replace everywhere
        assert_eq!(
            r.redact("TCP MD5 signature with key Learned9 failed; x marks"),
            "TCP MD5 signature with key <redacted> failed; x marks"
        );
    }

    #[test]
    fn plan_passwords_are_collected() {
        let text = "name: lab\nnetworks:\n  lan: {}\nrouters:\n  a: { kind: frr, asn: 1, interfaces: { lan: {} }, neighbors: [{ to: b, password: pw-one }] }\n  b: { kind: bird, asn: 2, interfaces: { lan: {} } }\n";
        let topology = crate::topology::load::parse_and_validate("lab.yaml", text).unwrap();
        let plan = crate::plan::build(&topology, "lab.yaml", std::path::Path::new("/"));
        // Both ends of the session carry it.
        assert_eq!(plan_secrets(&plan), ["pw-one", "pw-one"]);
        let r = Redactor::new(plan_secrets(&plan));
        let json = serde_json::to_string_pretty(&plan).unwrap();
        assert!(r.leaks(&json));
        assert!(!r.redact(&json).contains("pw-one"));
    }

    #[test]
    fn redaction_is_idempotent() {
        let r = Redactor::new(["s3cret".to_string()]);
        let once = r.redact("neighbor 1.2.3.4 password s3cret\npassword \"s3cret\";\n");
        assert_eq!(r.redact(&once), once);
    }
}
