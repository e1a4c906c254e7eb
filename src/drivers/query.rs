//! Which CLI commands read a router's state, and how their outputs become a `RouterState`.
//!
//! Pure: `state_queries` says what to run inside the router's container, the engine runs it,
//! and `assemble` turns the outputs into the normalized state (or says which daemon failed).
//! Every command below was run against the daemons of this project's images and its output
//! recorded in `tests/fixtures/` (FRR 8.4.4, BIRD 2.0.12, GoBGP 3.10.0, iproute2 6.1.0; Quagga
//! 1.2.4 recorded separately).

use crate::parse::{self, ParseError, Tool};
use crate::state::ExecOutput;
use crate::state::RouterState;
use crate::topology::model::RouterKind;
use ipnet::IpNet;

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

fn query(part: StatePart, argv: &[&str]) -> StateQuery {
    StateQuery {
        part,
        argv: argv.iter().map(|a| a.to_string()).collect(),
    }
}

/// `sh -c SCRIPT`: for the two-command reads that need the daemon's clock (BIRD, GoBGP).
fn shell(part: StatePart, script: &str) -> StateQuery {
    query(part, &["sh", "-c", script])
}

fn vtysh(part: StatePart, command: &str) -> StateQuery {
    query(part, &["vtysh", "-c", command])
}

/// The kernel routing table of any container: `ip -j route show` (main table, IPv4),
/// JSON since iproute2 4.13; ECMP routes list their gateways under `nexthops`.
fn kernel() -> StateQuery {
    query(StatePart::Kernel, &["ip", "-j", "route", "show"])
}

/// The commands that read a router of `kind`, one per state part it has.
pub fn state_queries(kind: RouterKind) -> Vec<StateQuery> {
    match kind {
        RouterKind::Frr => vec![
            // Per neighbor: remote and local AS, description, state (admin shutdown
            // flagged separately), time up or since the last reset and why, accepted prefixes.
            vtysh(StatePart::Sessions, parse::frr::SESSIONS_COMMAND),
            // `json detail` (FRR 8.3+): every path with communities, large communities,
            // local-pref, MED, AS path, origin, best flag, next hop and peer. Plain `json`
            // leaves communities out.
            vtysh(StatePart::Routes, parse::frr::ROUTES_COMMAND),
            // bfdd's sessions: peer, local address and interface when known, status,
            // seconds up or down.
            vtysh(StatePart::Bfd, parse::frr::BFD_COMMAND),
            kernel(),
        ],
        RouterKind::Bird => vec![
            // `show status` first: its "Current server time" turns the wall-clock "Since"
            // column into seconds ago. `&&` keeps birdc's exit code when BIRD is down.
            shell(
                StatePart::Sessions,
                "birdc show status && birdc show protocols all",
            ),
            // Every route of every table with all paths and their BGP attributes.
            query(StatePart::Routes, &["birdc", "show", "route", "all"]),
            shell(
                StatePart::Bfd,
                "birdc show status && birdc show bfd sessions",
            ),
            kernel(),
        ],
        RouterKind::Gobgp => vec![
            // GoBGP reports up/down times as Unix timestamps: read the clock in the same exec.
            shell(StatePart::Sessions, "date +%s && gobgp neighbor -j"),
            query(
                StatePart::Routes,
                &["gobgp", "global", "rib", "-a", "ipv4", "-j"],
            ),
            // GoBGP has no BFD; it installs no routes, but the table still shows static ones.
            kernel(),
        ],
        RouterKind::Quagga => vec![
            // Quagga 1.2.4 has no JSON: the neighbors text has everything the summary has
            // plus descriptions and reset reasons.
            vtysh(StatePart::Sessions, parse::quagga::SESSIONS_COMMAND),
            // The table (no communities, no source peer in it).
            vtysh(StatePart::Routes, parse::quagga::ROUTES_COMMAND),
            kernel(),
        ],
        RouterKind::Linux => vec![kernel()],
    }
}

/// Commands that show the daemon's own view of one prefix, for a kernel-route check that
/// failed: why the route it learned is (not) in the kernel. FRR: zebra's route entry
/// (selected? installed? its next hop resolved through what?), next-hop tracking, the BGP
/// paths, and the last log lines; BIRD: its route with all attributes and the kernel
/// protocol that exports to the kernel; Quagga: zebra's and bgpd's entries. Routers that
/// install no routes (GoBGP, Linux) have none.
pub fn prefix_view_queries(kind: RouterKind, prefix: IpNet) -> Vec<Vec<String>> {
    let family = if prefix.addr().is_ipv4() {
        "ip"
    } else {
        "ipv6"
    };
    let afi = if prefix.addr().is_ipv4() {
        "ipv4"
    } else {
        "ipv6"
    };
    let argv = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    match kind {
        RouterKind::Frr => vec![
            argv(&[
                "vtysh",
                "-c",
                &format!("show {family} route {prefix}"),
                "-c",
                &format!("show {family} nht"),
                "-c",
                &format!("show bgp {afi} unicast {prefix}"),
            ]),
            argv(&["tail", "-n", "20", "/var/log/frr/frr.log"]),
        ],
        RouterKind::Bird => vec![
            argv(&["birdc", "show", "route", "for", &prefix.to_string(), "all"]),
            // The template's one kernel protocol, unnamed, so BIRD calls it kernel1.
            argv(&["birdc", "show", "protocols", "all", "kernel1"]),
        ],
        RouterKind::Quagga => vec![
            argv(&[
                "vtysh",
                "-c",
                &format!("show {family} route {prefix}"),
                "-c",
                &format!("show {family} bgp {prefix}"),
            ]),
            argv(&["tail", "-n", "20", "/var/log/quagga/zebra.log"]),
        ],
        RouterKind::Gobgp | RouterKind::Linux => Vec::new(),
    }
}

fn tool_of(kind: RouterKind, part: StatePart) -> Tool {
    match (kind, part) {
        (_, StatePart::Kernel) | (RouterKind::Linux, _) => Tool::Iproute,
        (RouterKind::Frr, _) => Tool::Frr,
        (RouterKind::Bird, _) => Tool::Bird,
        (RouterKind::Gobgp, _) => Tool::Gobgp,
        (RouterKind::Quagga, _) => Tool::Quagga,
    }
}

/// The error for a command that exited non-zero. The daemons' own error texts are
/// recognised by the parsers, so they are tried first on whichever stream carries text
/// (vtysh and birdc write "cannot connect" to stderr, gobgp its JSON error to stdout).
fn failure(
    kind: RouterKind,
    query: &StateQuery,
    output: &ExecOutput,
    parse_part: impl Fn(&str) -> Result<(), ParseError>,
) -> ParseError {
    for text in [&output.stdout, &output.stderr] {
        if let Err(err @ ParseError::Daemon { .. }) = parse_part(text) {
            return err;
        }
    }
    let message = parse::first_meaningful_line(&output.stderr)
        .or_else(|| parse::first_meaningful_line(&output.stdout))
        .unwrap_or("no output")
        .to_string();
    ParseError::CommandFailed {
        tool: tool_of(kind, query.part),
        command: query.command_line().into(),
        exit_code: output.exit_code,
        message,
    }
}

/// Parses one part into `state`.
fn parse_into(
    kind: RouterKind,
    part: StatePart,
    text: &str,
    state: &mut RouterState,
) -> Result<(), ParseError> {
    use RouterKind as K;
    use StatePart as P;
    match (kind, part) {
        (_, P::Kernel) => state.kernel_routes = parse::iproute::kernel_routes(text)?,
        (K::Frr, P::Sessions) => state.sessions = parse::frr::sessions(text)?,
        (K::Frr, P::Routes) => state.routes = parse::frr::routes(text)?,
        (K::Frr, P::Bfd) => state.bfd_peers = parse::frr::bfd_peers(text)?,
        (K::Bird, P::Sessions) => state.sessions = parse::bird::sessions(text)?,
        (K::Bird, P::Routes) => state.routes = parse::bird::routes(text)?,
        (K::Bird, P::Bfd) => state.bfd_peers = parse::bird::bfd_peers(text)?,
        (K::Gobgp, P::Sessions) => state.sessions = parse::gobgp::sessions(text)?,
        (K::Gobgp, P::Routes) => state.routes = parse::gobgp::routes(text)?,
        (K::Quagga, P::Sessions) => state.sessions = parse::quagga::sessions(text)?,
        (K::Quagga, P::Routes) => state.routes = parse::quagga::routes(text)?,
        (kind, part) => {
            return Err(ParseError::Unsupported {
                kind: kind.as_str(),
                part: part.as_str(),
            });
        }
    }
    Ok(())
}

fn bird_has_no_bfd(output: &ExecOutput) -> bool {
    output
        .stdout
        .lines()
        .any(|l| l.trim() == "There is no BFD protocol running")
}

/// Builds a router's state from the outputs of (some of) its `state_queries`. Parts not
/// given stay empty. The first part that failed — a non-zero exit, a daemon error text, or
/// output of an unexpected shape — is the error, naming the command line that ran.
pub fn assemble(
    kind: RouterKind,
    outputs: &[(StateQuery, ExecOutput)],
) -> Result<RouterState, ParseError> {
    let mut state = RouterState::default();
    for (query, output) in outputs {
        let part = query.part;
        if kind == RouterKind::Bird && part == StatePart::Bfd && bird_has_no_bfd(output) {
            // A BIRD whose config has no `protocol bfd` (no session asked for BFD) has no
            // BFD peers; birdc reports that with exit code 1, which is not a failure.
            continue;
        }
        if output.exit_code != 0 {
            let err = failure(kind, query, output, |text| {
                parse_into(kind, part, text, &mut RouterState::default())
            });
            return Err(err.ran(query.command_line()));
        }
        match parse_into(kind, part, &output.stdout, &mut state) {
            // Exit 0 with nothing on stdout but something on stderr: say what stderr said.
            Err(ParseError::Empty { tool, command, .. }) if !output.stderr.trim().is_empty() => {
                let err = ParseError::Daemon {
                    tool,
                    command,
                    message: parse::first_meaningful_line(&output.stderr)
                        .unwrap_or_default()
                        .to_string(),
                };
                return Err(err.ran(query.command_line()));
            }
            result => result.map_err(|e| e.ran(query.command_line()))?,
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::fixture_body;
    use crate::state::{BfdState, SessionState};

    fn ok(recorded: &str) -> ExecOutput {
        ExecOutput {
            exit_code: 0,
            stdout: fixture_body(recorded).to_string(),
            stderr: String::new(),
        }
    }

    /// `birdc show protocols all` with BIRD stopped, as recorded (exit code 1).
    fn bird_not_running() -> ExecOutput {
        failed(
            1,
            include_str!("../../tests/fixtures/bird/error-not-running-show-protocols-all.txt"),
            Some(include_str!(
                "../../tests/fixtures/bird/error-not-running-show-protocols-all.stderr.txt"
            )),
        )
    }

    /// A recorded failure: stdout and stderr fixtures and the exit code from exit-codes.tsv.
    fn failed(exit_code: i64, stdout: &str, stderr: Option<&str>) -> ExecOutput {
        ExecOutput {
            exit_code,
            stdout: fixture_body(stdout).to_string(),
            stderr: stderr
                .map(|s| fixture_body(s).to_string())
                .unwrap_or_default(),
        }
    }

    /// `assemble` with each part's output paired with the kind's query for that part.
    fn assemble_parts(
        kind: RouterKind,
        parts: &[(StatePart, ExecOutput)],
    ) -> Result<RouterState, ParseError> {
        let queries = state_queries(kind);
        let outputs: Vec<(StateQuery, ExecOutput)> = parts
            .iter()
            .map(|(part, out)| {
                // A part the kind has no query for (to test `Unsupported`) runs nothing.
                let q = queries.iter().find(|q| q.part == *part).cloned();
                let q = q.unwrap_or(StateQuery {
                    part: *part,
                    argv: Vec::new(),
                });
                (q, out.clone())
            })
            .collect();
        assemble(kind, &outputs)
    }

    fn parts(kind: RouterKind) -> Vec<StatePart> {
        state_queries(kind).iter().map(|q| q.part).collect()
    }

    #[test]
    fn the_prefix_view_asks_each_daemon_in_its_own_terms() {
        let lines = |kind, prefix: &str| -> Vec<String> {
            prefix_view_queries(kind, prefix.parse().unwrap())
                .iter()
                .map(|argv| command_line(argv))
                .collect()
        };
        assert_eq!(
            lines(RouterKind::Frr, "198.51.100.0/24"),
            [
                "vtysh -c 'show ip route 198.51.100.0/24' -c 'show ip nht' -c 'show bgp ipv4 unicast 198.51.100.0/24'",
                "tail -n 20 /var/log/frr/frr.log",
            ]
        );
        assert_eq!(
            lines(RouterKind::Frr, "2001:db8::/64")[0],
            "vtysh -c 'show ipv6 route 2001:db8::/64' -c 'show ipv6 nht' -c 'show bgp ipv6 unicast 2001:db8::/64'"
        );
        assert_eq!(
            lines(RouterKind::Bird, "192.0.2.0/24"),
            [
                "birdc show route for 192.0.2.0/24 all",
                "birdc show protocols all kernel1"
            ]
        );
        assert_eq!(
            lines(RouterKind::Quagga, "192.0.2.0/24"),
            [
                "vtysh -c 'show ip route 192.0.2.0/24' -c 'show ip bgp 192.0.2.0/24'",
                "tail -n 20 /var/log/quagga/zebra.log",
            ]
        );
        assert!(lines(RouterKind::Gobgp, "192.0.2.0/24").is_empty());
        assert!(lines(RouterKind::Linux, "192.0.2.0/24").is_empty());
    }

    #[test]
    fn every_kind_reads_the_parts_it_has() {
        use StatePart::*;
        assert_eq!(parts(RouterKind::Frr), vec![Sessions, Routes, Bfd, Kernel]);
        assert_eq!(parts(RouterKind::Bird), vec![Sessions, Routes, Bfd, Kernel]);
        assert_eq!(parts(RouterKind::Gobgp), vec![Sessions, Routes, Kernel]);
        assert_eq!(parts(RouterKind::Quagga), vec![Sessions, Routes, Kernel]);
        assert_eq!(parts(RouterKind::Linux), vec![Kernel]);
        for kind in RouterKind::ALL {
            assert_eq!(
                parts(kind).contains(&Bfd),
                kind.has_bfd(),
                "{kind:?} BFD query vs RouterKind::has_bfd"
            );
        }
    }

    #[test]
    fn queries_are_the_recorded_commands() {
        let argv: Vec<Vec<String>> = state_queries(RouterKind::Frr)
            .into_iter()
            .map(|q| q.argv)
            .collect();
        insta::assert_yaml_snapshot!("frr_queries", argv);
        let argv: Vec<Vec<String>> = state_queries(RouterKind::Bird)
            .into_iter()
            .map(|q| q.argv)
            .collect();
        insta::assert_yaml_snapshot!("bird_queries", argv);
        let argv: Vec<Vec<String>> = state_queries(RouterKind::Gobgp)
            .into_iter()
            .map(|q| q.argv)
            .collect();
        insta::assert_yaml_snapshot!("gobgp_queries", argv);
        // The fixtures' `# command:` lines are these commands.
        let recorded = include_str!("../../tests/fixtures/bird/show-protocols-all.txt");
        assert!(recorded.contains("# command: birdc show status && birdc show protocols all\n"));
        let recorded = include_str!("../../tests/fixtures/gobgp/neighbor.txt");
        assert!(recorded.contains("# command: date +%s && gobgp neighbor -j\n"));
    }

    #[test]
    fn command_lines_quote_like_the_fixture_headers() {
        let lines: Vec<String> = state_queries(RouterKind::Frr)
            .iter()
            .map(StateQuery::command_line)
            .collect();
        assert_eq!(lines[0], "vtysh -c 'show bgp neighbors json'");
        assert_eq!(lines[3], "ip -j route show");
        let bird = state_queries(RouterKind::Bird);
        assert_eq!(
            bird[0].command_line(),
            "sh -c 'birdc show status && birdc show protocols all'"
        );
        let recorded = include_str!("../../tests/fixtures/frr/show-bgp-neighbors-json.txt");
        assert!(recorded.contains(&format!("# command: {}\n", lines[0])));
    }

    #[test]
    fn assembles_frr_state() {
        let state = assemble_parts(
            RouterKind::Frr,
            &[
                (
                    StatePart::Sessions,
                    ok(include_str!(
                        "../../tests/fixtures/frr/show-bgp-neighbors-json.txt"
                    )),
                ),
                (
                    StatePart::Routes,
                    ok(include_str!(
                        "../../tests/fixtures/frr/show-bgp-ipv4-unicast-json-detail.txt"
                    )),
                ),
                (
                    StatePart::Bfd,
                    ok(include_str!(
                        "../../tests/fixtures/frr/show-bfd-peers-json.txt"
                    )),
                ),
                (
                    StatePart::Kernel,
                    ok(include_str!(
                        "../../tests/fixtures/kernel/frr1-ip-route.txt"
                    )),
                ),
            ],
        )
        .unwrap();
        let bird = "10.211.1.21".parse().unwrap();
        assert_eq!(
            state.session(bird).unwrap().state,
            SessionState::Established
        );
        assert_eq!(state.bfd_peer(bird).unwrap().state, BfdState::Up);
        let prefix = "198.51.100.0/24".parse().unwrap();
        assert_eq!(state.route(&prefix).unwrap().paths.len(), 3);
        assert_eq!(state.kernel_route(&prefix).unwrap().nexthops.len(), 2);
    }

    #[test]
    fn assembles_bird_and_gobgp_state() {
        let bird = assemble_parts(
            RouterKind::Bird,
            &[
                (
                    StatePart::Sessions,
                    ok(include_str!(
                        "../../tests/fixtures/bird/show-protocols-all.txt"
                    )),
                ),
                (
                    StatePart::Routes,
                    ok(include_str!("../../tests/fixtures/bird/show-route-all.txt")),
                ),
                (
                    StatePart::Bfd,
                    ok(include_str!(
                        "../../tests/fixtures/bird/show-bfd-sessions.txt"
                    )),
                ),
            ],
        )
        .unwrap();
        assert_eq!(bird.sessions.len(), 4);
        assert_eq!(bird.bfd_peers.len(), 2);
        assert!(bird.kernel_routes.is_empty());

        let gobgp = assemble_parts(
            RouterKind::Gobgp,
            &[
                (
                    StatePart::Sessions,
                    ok(include_str!("../../tests/fixtures/gobgp/neighbor.txt")),
                ),
                (
                    StatePart::Routes,
                    ok(include_str!(
                        "../../tests/fixtures/gobgp/global-rib-ipv4.txt"
                    )),
                ),
            ],
        )
        .unwrap();
        assert_eq!(gobgp.sessions.len(), 3);
        assert!(!gobgp.routes.is_empty());
    }

    #[test]
    fn daemon_not_running_is_reported_per_kind() {
        // FRR: vtysh exits 1 with its complaint on stderr.
        let err = assemble_parts(
            RouterKind::Frr,
            &[(
                StatePart::Sessions,
                failed(
                    1,
                    include_str!(
                        "../../tests/fixtures/frr/error-no-daemons-show-bgp-neighbors-json.txt"
                    ),
                    Some(include_str!(
                        "../../tests/fixtures/frr/error-no-daemons-show-bgp-neighbors-json.stderr.txt"
                    )),
                ),
            )],
        )
        .unwrap_err();
        assert!(err.is_daemon_error());
        assert!(
            err.to_string().contains("failed to connect to any daemons"),
            "{err}"
        );

        let err = assemble_parts(
            RouterKind::Frr,
            &[(
                StatePart::Bfd,
                failed(
                    1,
                    include_str!(
                        "../../tests/fixtures/frr/error-zebra-only-show-bfd-peers-json.txt"
                    ),
                    Some(include_str!(
                        "../../tests/fixtures/frr/error-zebra-only-show-bfd-peers-json.stderr.txt"
                    )),
                ),
            )],
        )
        .unwrap_err();
        assert!(err.to_string().contains("bfdd is not running"), "{err}");

        // BIRD: birdc exits 1, socket error on stderr.
        let err = assemble_parts(
            RouterKind::Bird,
            &[(StatePart::Sessions, bird_not_running())],
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Daemon {
                    tool: Tool::Bird,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("Unable to connect"), "{err}");

        // GoBGP: exit 1, JSON error on stdout after the clock line.
        let err = assemble_parts(
            RouterKind::Gobgp,
            &[(
                StatePart::Sessions,
                failed(
                    1,
                    include_str!("../../tests/fixtures/gobgp/error-not-running-neighbor.txt"),
                    None,
                ),
            )],
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Daemon {
                    tool: Tool::Gobgp,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("context deadline exceeded"),
            "{err}"
        );

        // Quagga: zebra only, bgpd down: vtysh prints nothing and exits 0.
        let err = assemble_parts(
            RouterKind::Quagga,
            &[(
                StatePart::Sessions,
                ok(include_str!(
                    "../../tests/fixtures/quagga/edge/zebra-only-show-ip-bgp-summary.txt"
                )),
            )],
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Empty {
                    tool: Tool::Quagga,
                    ..
                }
            ),
            "{err}"
        );

        // Quagga: `No BGP process is configured` with exit code 0.
        let err = assemble_parts(
            RouterKind::Quagga,
            &[(
                StatePart::Routes,
                ok(include_str!(
                    "../../tests/fixtures/quagga/edge/no-router-bgp-show-ip-bgp.txt"
                )),
            )],
        )
        .unwrap_err();
        assert!(err.to_string().contains("No BGP process"), "{err}");
    }

    #[test]
    fn errors_name_the_command_line_that_ran() {
        // bgpd down: `show ip bgp neighbors` printed nothing. The Quagga parser also reads
        // `show ip bgp summary`, but that is not what ran.
        let err = assemble_parts(
            RouterKind::Quagga,
            &[(
                StatePart::Sessions,
                ok(include_str!(
                    "../../tests/fixtures/quagga/edge/zebra-only-show-ip-bgp-summary.txt"
                )),
            )],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`vtysh -c 'show ip bgp neighbors'`") && !text.contains("summary"),
            "{text}"
        );

        // BIRD down: the sessions read is the `sh -c` pair, exit code 1.
        let err = assemble_parts(
            RouterKind::Bird,
            &[(StatePart::Sessions, bird_not_running())],
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`sh -c 'birdc show status && birdc show protocols all'`"),
            "{err}"
        );

        // A non-zero exit: the routes command, argv as run.
        let err = assemble_parts(
            RouterKind::Gobgp,
            &[(
                StatePart::Routes,
                ExecOutput {
                    exit_code: 127,
                    stdout: String::new(),
                    stderr: "sh: 1: gobgp: not found\n".into(),
                },
            )],
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("GoBGP `gobgp global rib -a ipv4 -j`: the daemon reported an error"),
            "{err}"
        );
    }

    #[test]
    fn unknown_failures_keep_exit_code_and_message() {
        let err = assemble_parts(
            RouterKind::Linux,
            &[(
                StatePart::Kernel,
                ExecOutput {
                    exit_code: 127,
                    stdout: String::new(),
                    stderr: "sh: 1: ip: not found\n".into(),
                },
            )],
        )
        .unwrap_err();
        match err {
            ParseError::Daemon { message, .. } | ParseError::CommandFailed { message, .. } => {
                assert_eq!(message, "sh: 1: ip: not found")
            }
            other => panic!("unexpected {other}"),
        }
        let err = assemble_parts(
            RouterKind::Gobgp,
            &[(
                StatePart::Bfd,
                ok("# daemon: x\n# command: y\n# lab: z\n[]"),
            )],
        )
        .unwrap_err();
        assert!(matches!(err, ParseError::Unsupported { .. }), "{err}");
    }

    #[test]
    fn bird_without_a_bfd_protocol_has_no_bfd_peers() {
        let recorded = crate::parse::fixture_body(include_str!(
            "../../tests/fixtures/bird/no-bfd-protocol-show-bfd-sessions.txt"
        ));
        let state = assemble_parts(
            RouterKind::Bird,
            &[(
                StatePart::Bfd,
                ExecOutput {
                    exit_code: 1,
                    stdout: recorded.to_string(),
                    stderr: String::new(),
                },
            )],
        )
        .expect("no BFD protocol is an empty BFD table, not an error");
        assert!(state.bfd_peers.is_empty());
    }
}
