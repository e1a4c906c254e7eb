//! Pure parsers of router CLI output into the normalized `state` model.
//!
//! What every parser shares (errors, JSON streaming, BGP attribute spellings) and the
//! kernel table, which every router reads alike; each daemon's parsers live in its kind's
//! folder (`kinds/<kind>/parse.rs`), tested on output recorded from the real daemon. Every parser takes the command's stdout exactly as printed
//! and either returns the normalized records or a [`ParseError`] naming the daemon, the
//! command and what was wrong. Daemon error texts (vtysh `% …`, birdc's socket errors,
//! gobgp's `{"error": …}`, Quagga's silent empty output) are errors, never "no peers".

pub mod iproute;
pub mod json;

use std::borrow::Cow;
use std::net::IpAddr;

use crate::state::{Origin, SessionState};

/// The program whose output was being read, as named in errors ("FRR", "iproute2").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool(pub &'static str);

impl Tool {
    /// `ip` of iproute2, which reads every router's kernel table.
    pub const IPROUTE: Tool = Tool("iproute2");

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a router's CLI output could not be turned into state.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The daemon answered with an error instead of data (not running, unknown command…).
    #[error("{tool} `{command}`: the daemon reported an error: {message}")]
    Daemon {
        tool: Tool,
        command: Cow<'static, str>,
        message: String,
    },
    /// The command exited non-zero without a recognised error text.
    #[error("{tool} `{command}` failed with exit code {exit_code}: {message}")]
    CommandFailed {
        tool: Tool,
        command: Cow<'static, str>,
        exit_code: i64,
        message: String,
    },
    /// The command printed nothing where data (or at least a header) was due: the daemon is
    /// not reachable or not configured. Never read as "no peers".
    #[error("{tool} `{command}` printed nothing: {hint}")]
    Empty {
        tool: Tool,
        command: Cow<'static, str>,
        hint: &'static str,
    },
    #[error("{tool} `{command}`: invalid JSON: {source}")]
    Json {
        tool: Tool,
        command: Cow<'static, str>,
        #[source]
        source: serde_json::Error,
    },
    /// The output had a shape this parser does not know.
    #[error("{tool} `{command}`: unexpected output{}: {what}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Unexpected {
        tool: Tool,
        command: Cow<'static, str>,
        /// 1-based line of the output, when the problem is on one line.
        line: Option<usize>,
        what: String,
    },
    /// The caller asked a router kind for a state part it does not have.
    #[error("{kind} routers have no {part} state to read")]
    Unsupported {
        kind: &'static str,
        part: &'static str,
    },
}

impl ParseError {
    /// The same error naming `command`, the command line that actually ran: a parser only
    /// knows the command it was written for (Quagga's sessions parser reads `summary` and
    /// `neighbors` alike, BIRD's and GoBGP's reads run inside `sh -c`).
    pub fn ran(mut self, ran: String) -> ParseError {
        match &mut self {
            ParseError::Daemon { command, .. }
            | ParseError::CommandFailed { command, .. }
            | ParseError::Empty { command, .. }
            | ParseError::Json { command, .. }
            | ParseError::Unexpected { command, .. } => *command = Cow::Owned(ran),
            ParseError::Unsupported { .. } => {}
        }
        self
    }

    /// Whether the daemon itself said it is unavailable or failing (as opposed to output this
    /// parser did not understand): checks treat it as "router not ready yet" and keep polling.
    pub fn is_daemon_error(&self) -> bool {
        matches!(
            self,
            ParseError::Daemon { .. } | ParseError::CommandFailed { .. } | ParseError::Empty { .. }
        )
    }
}

/// Where a parser is: which tool and command, to build errors tersely.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub tool: Tool,
    pub command: &'static str,
}

impl Ctx {
    pub const fn new(tool: Tool, command: &'static str) -> Ctx {
        Ctx { tool, command }
    }

    pub fn unexpected(self, line: Option<usize>, what: impl Into<String>) -> ParseError {
        ParseError::Unexpected {
            tool: self.tool,
            command: self.command.into(),
            line,
            what: what.into(),
        }
    }

    pub fn daemon(self, message: impl Into<String>) -> ParseError {
        ParseError::Daemon {
            tool: self.tool,
            command: self.command.into(),
            message: message.into(),
        }
    }

    pub fn empty(self, hint: &'static str) -> ParseError {
        ParseError::Empty {
            tool: self.tool,
            command: self.command.into(),
            hint,
        }
    }

    pub fn json<T: serde::de::DeserializeOwned>(self, text: &str) -> Result<T, ParseError> {
        serde_json::from_str(text).map_err(|source| ParseError::Json {
            tool: self.tool,
            command: self.command.into(),
            source,
        })
    }

    /// `text` read with `seed` as one JSON document (`json` for streaming readers).
    pub fn json_seed<'de, S: serde::de::DeserializeSeed<'de>>(
        self,
        text: &'de str,
        seed: S,
    ) -> Result<S::Value, ParseError> {
        json::from_str_seed(text, seed).map_err(|source| ParseError::Json {
            tool: self.tool,
            command: self.command.into(),
            source,
        })
    }

    pub fn ip(self, text: &str, line: Option<usize>) -> Result<IpAddr, ParseError> {
        text.trim()
            .parse()
            .map_err(|_| self.unexpected(line, format!("`{text}` is not an IP address")))
    }
}

/// Well-known communities (RFC 1997, 7999, 8326, 8642…) by the names daemons print,
/// normalized to `a:b` so a check written as `65535:65281` matches every daemon.
pub fn well_known_community(name: &str) -> Option<&'static str> {
    let key: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match key.as_str() {
        "noexport" => "65535:65281",
        "noadvertise" => "65535:65282",
        "noexportsubconfed" | "localas" => "65535:65283",
        "nopeer" => "65535:65284",
        "blackhole" => "65535:666",
        "gshut" | "gracefulshutdown" => "65535:0",
        "acceptown" => "65535:1",
        "llgrstale" => "65535:6",
        "nollgr" => "65535:7",
        "internet" => "0:0",
        _ => return None,
    })
}

/// A standard community from its 32-bit value.
pub fn community_from_u32(value: u32) -> String {
    format!("{}:{}", value >> 16, value & 0xffff)
}

/// A large community in the model's notation.
pub fn large_community(global: u32, local1: u32, local2: u32) -> String {
    format!("large:{global}:{local1}:{local2}")
}

/// A daemon's session-state name, including the transitional ones `SessionState::parse`
/// does not know: FRR/Quagga `Clearing`/`Deleted` and BIRD `Close`/`Down` (the session is
/// being torn down: idle), BIRD `Passive` (waiting for the peer to connect: active).
pub fn session_state(name: &str) -> Option<SessionState> {
    SessionState::parse(name).or_else(|| match name.trim().to_ascii_lowercase().as_str() {
        "clearing" | "deleted" | "close" | "down" => Some(SessionState::Idle),
        "passive" => Some(SessionState::Active),
        _ => None,
    })
}

/// Origin names as daemons print them (`IGP`, `igp`, `i`, `incomplete`, `?`…).
pub fn origin_from_name(name: &str) -> Option<Origin> {
    match name.trim().to_ascii_lowercase().as_str() {
        "igp" | "i" => Some(Origin::Igp),
        "egp" | "e" => Some(Origin::Egp),
        "incomplete" | "?" => Some(Origin::Incomplete),
        _ => None,
    }
}

/// Every AS number in an AS-path text, in order, whatever the set/confed punctuation
/// (`64500 {64501,64502}`, `(65001) 64500`).
pub fn as_numbers(text: &str) -> Result<Vec<u32>, String> {
    text.split(|c: char| c.is_whitespace() || "{}(),[]".contains(c))
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<u32>()
                .map_err(|_| format!("`{t}` is not an AS number"))
        })
        .collect()
}

/// A next hop that means "none" (locally originated): 0.0.0.0 or ::.
pub fn real_next_hop(ip: IpAddr) -> Option<IpAddr> {
    (!ip.is_unspecified()).then_some(ip)
}

/// The first line of `text` that says something, for error messages.
pub fn first_meaningful_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}

/// Test helper: the raw command output of a recorded fixture, i.e. everything after its
/// three `# daemon/command/lab` header lines. Parsers never see the header.
#[cfg(test)]
pub fn fixture_body(recorded: &str) -> &str {
    let mut rest = recorded;
    for expected in ["# daemon: ", "# command: ", "# lab: "] {
        assert!(
            rest.starts_with(expected),
            "fixture header line should start with {expected:?}"
        );
        rest = match rest.find('\n') {
            Some(i) => &rest[i + 1..],
            None => "",
        };
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_body_strips_exactly_three_header_lines() {
        let recorded = "# daemon: X 1\n# command: x\n# lab: y\n\nline\n";
        assert_eq!(fixture_body(recorded), "\nline\n");
    }

    #[test]
    fn well_known_communities_normalize_across_spellings() {
        assert_eq!(well_known_community("noExport"), Some("65535:65281"));
        assert_eq!(well_known_community("no-export"), Some("65535:65281"));
        assert_eq!(well_known_community("NO_ADVERTISE"), Some("65535:65282"));
        assert_eq!(well_known_community("64500:1"), None);
    }

    #[test]
    fn communities_from_numbers() {
        assert_eq!(community_from_u32(4227072100), "64500:100");
        assert_eq!(community_from_u32(4294967041), "65535:65281");
        assert_eq!(large_community(64500, 1, 2), "large:64500:1:2");
    }

    #[test]
    fn as_path_numbers_ignore_set_and_confed_punctuation() {
        assert_eq!(
            as_numbers("(65001) 64500 {64501,64502}").unwrap(),
            vec![65001, 64500, 64501, 64502]
        );
        assert_eq!(as_numbers("").unwrap(), Vec::<u32>::new());
        assert!(as_numbers("64500 x").is_err());
    }

    #[test]
    fn transitional_session_states() {
        assert_eq!(session_state("Clearing"), Some(SessionState::Idle));
        assert_eq!(session_state("Passive"), Some(SessionState::Active));
        assert_eq!(session_state("Idle (Admin)"), Some(SessionState::AdminDown));
        assert_eq!(session_state("Bogus"), None);
    }

    #[test]
    fn origins_by_every_name() {
        assert_eq!(origin_from_name("IGP"), Some(Origin::Igp));
        assert_eq!(origin_from_name("?"), Some(Origin::Incomplete));
        assert_eq!(origin_from_name("e"), Some(Origin::Egp));
        assert_eq!(origin_from_name("x"), None);
    }
}
