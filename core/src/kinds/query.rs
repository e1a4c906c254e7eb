//! The commands that read a router's state, by part.

/// One part of a router's state, read by one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatePart {
    Sessions,
    Routes,
    Bfd,
    Kernel,
}

impl StatePart {
    pub fn as_str(self) -> &'static str {
        match self {
            StatePart::Sessions => "sessions",
            StatePart::Routes => "routes",
            StatePart::Bfd => "bfd",
            StatePart::Kernel => "kernel",
        }
    }
}

impl std::fmt::Display for StatePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A command to run in the router's container (argv, no shell unless it says `sh -c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateQuery {
    pub part: StatePart,
    pub argv: Vec<String>,
}

impl StateQuery {
    pub fn new(part: StatePart, argv: &[&str]) -> StateQuery {
        StateQuery {
            part,
            argv: argv.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// `sh -c SCRIPT`, for reads of two commands in one exec.
    pub fn shell(part: StatePart, script: &str) -> StateQuery {
        StateQuery::new(part, &["sh", "-c", script])
    }

    /// The command as a person would type it (for reports and `RawOutput::command`).
    pub fn command_line(&self) -> String {
        command_line(&self.argv)
    }
}

/// A command as a person would type it: arguments quoted for a POSIX shell where needed.
pub fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|arg| {
            if !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=+%@".contains(c))
            {
                arg.clone()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The kernel routing table of any container: `ip -j route show` (main table, IPv4),
/// JSON since iproute2 4.13; ECMP routes list their gateways under `nexthops`.
pub fn kernel_query() -> StateQuery {
    StateQuery::new(StatePart::Kernel, &["ip", "-j", "route", "show"])
}

/// Words to an argv.
pub fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// `sh -c SCRIPT` as an argv.
pub fn shell(script: impl Into<String>) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}
