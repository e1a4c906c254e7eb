//! Which CLI commands read a router's state, and how their outputs become a `RouterState`.
//!
//! Pure: `state_queries` says what to run inside the router's container, the engine runs it,
//! and `assemble` turns the outputs into the normalized state (or says which daemon failed).
//! Each kind's commands and parsers are in its folder (`kinds/<kind>/`), with their outputs
//! recorded from the real daemons.

use crate::parse::{self, ParseError, Tool};
use crate::state::ExecOutput;
use crate::state::RouterState;
use crate::topology::model::RouterKind;
use ipnet::IpNet;

pub use crate::kinds::{StatePart, StateQuery, command_line};

/// The commands that read a router of `kind`, one per state part it has.
pub fn state_queries(kind: RouterKind) -> Vec<StateQuery> {
    kind.behaviour().state_queries()
}

/// Commands that show the daemon's own view of one prefix, for a kernel-route check that
/// failed: why the route it learned is (not) in the kernel. Routers that install no routes
/// have none.
pub fn prefix_view_queries(kind: RouterKind, prefix: IpNet) -> Vec<Vec<String>> {
    kind.behaviour().prefix_view_queries(prefix)
}

fn tool_of(kind: RouterKind, part: StatePart) -> Tool {
    match part {
        StatePart::Kernel => Tool::IPROUTE,
        _ => kind.behaviour().tool(),
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
        if kind.behaviour().part_is_absent(part, output) {
            continue;
        }
        if output.exit_code != 0 {
            let err = failure(kind, query, output, |text| {
                kind.behaviour()
                    .parse_part(part, text, &mut RouterState::default())
            });
            return Err(err.ran(query.command_line()));
        }
        match kind
            .behaviour()
            .parse_part(part, &output.stdout, &mut state)
        {
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
            include_str!("../kinds/bird/fixtures/error-not-running-show-protocols-all.txt"),
            Some(include_str!(
                "../kinds/bird/fixtures/error-not-running-show-protocols-all.stderr.txt"
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
            lines(crate::kinds::frr::KIND, "198.51.100.0/24"),
            [
                "vtysh -c 'show ip route 198.51.100.0/24' -c 'show ip nht' -c 'show bgp ipv4 unicast 198.51.100.0/24'",
                "tail -n 20 /var/log/frr/frr.log",
            ]
        );
        assert_eq!(
            lines(crate::kinds::frr::KIND, "2001:db8::/64")[0],
            "vtysh -c 'show ipv6 route 2001:db8::/64' -c 'show ipv6 nht' -c 'show bgp ipv6 unicast 2001:db8::/64'"
        );
        assert_eq!(
            lines(crate::kinds::bird::KIND, "192.0.2.0/24"),
            [
                "birdc show route for 192.0.2.0/24 all",
                "birdc show protocols all kernel1"
            ]
        );
        assert_eq!(
            lines(crate::kinds::quagga::KIND, "192.0.2.0/24"),
            [
                "vtysh -c 'show ip route 192.0.2.0/24' -c 'show ip bgp 192.0.2.0/24'",
                "tail -n 20 /var/log/quagga/zebra.log",
            ]
        );
        assert!(lines(crate::kinds::gobgp::KIND, "192.0.2.0/24").is_empty());
        assert!(lines(crate::kinds::linux::KIND, "192.0.2.0/24").is_empty());
    }

    #[test]
    fn every_kind_reads_the_parts_it_has() {
        use StatePart::*;
        assert_eq!(
            parts(crate::kinds::frr::KIND),
            vec![Sessions, Routes, Bfd, Kernel]
        );
        assert_eq!(
            parts(crate::kinds::bird::KIND),
            vec![Sessions, Routes, Bfd, Kernel]
        );
        assert_eq!(
            parts(crate::kinds::gobgp::KIND),
            vec![Sessions, Routes, Kernel]
        );
        assert_eq!(
            parts(crate::kinds::quagga::KIND),
            vec![Sessions, Routes, Kernel]
        );
        assert_eq!(parts(crate::kinds::linux::KIND), vec![Kernel]);
        for kind in RouterKind::all() {
            assert_eq!(
                parts(kind).contains(&Bfd),
                kind.has_bfd(),
                "{kind:?} BFD query vs RouterKind::has_bfd"
            );
        }
    }

    #[test]
    fn queries_are_the_recorded_commands() {
        let argv: Vec<Vec<String>> = state_queries(crate::kinds::frr::KIND)
            .into_iter()
            .map(|q| q.argv)
            .collect();
        insta::assert_yaml_snapshot!("frr_queries", argv);
        let argv: Vec<Vec<String>> = state_queries(crate::kinds::bird::KIND)
            .into_iter()
            .map(|q| q.argv)
            .collect();
        insta::assert_yaml_snapshot!("bird_queries", argv);
        let argv: Vec<Vec<String>> = state_queries(crate::kinds::gobgp::KIND)
            .into_iter()
            .map(|q| q.argv)
            .collect();
        insta::assert_yaml_snapshot!("gobgp_queries", argv);
        // The fixtures' `# command:` lines are these commands.
        let recorded = include_str!("../kinds/bird/fixtures/show-protocols-all.txt");
        assert!(recorded.contains("# command: birdc show status && birdc show protocols all\n"));
        let recorded = include_str!("../kinds/gobgp/fixtures/neighbor.txt");
        assert!(recorded.contains("# command: date +%s && gobgp neighbor -j\n"));
    }

    #[test]
    fn command_lines_quote_like_the_fixture_headers() {
        let lines: Vec<String> = state_queries(crate::kinds::frr::KIND)
            .iter()
            .map(StateQuery::command_line)
            .collect();
        assert_eq!(lines[0], "vtysh -c 'show bgp neighbors json'");
        assert_eq!(lines[3], "ip -j route show");
        let bird = state_queries(crate::kinds::bird::KIND);
        assert_eq!(
            bird[0].command_line(),
            "sh -c 'birdc show status && birdc show protocols all'"
        );
        let recorded = include_str!("../kinds/frr/fixtures/show-bgp-neighbors-json.txt");
        assert!(recorded.contains(&format!("# command: {}\n", lines[0])));
    }

    #[test]
    fn assembles_frr_state() {
        let state = assemble_parts(
            crate::kinds::frr::KIND,
            &[
                (
                    StatePart::Sessions,
                    ok(include_str!(
                        "../kinds/frr/fixtures/show-bgp-neighbors-json.txt"
                    )),
                ),
                (
                    StatePart::Routes,
                    ok(include_str!(
                        "../kinds/frr/fixtures/show-bgp-ipv4-unicast-json-detail.txt"
                    )),
                ),
                (
                    StatePart::Bfd,
                    ok(include_str!(
                        "../kinds/frr/fixtures/show-bfd-peers-json.txt"
                    )),
                ),
                (
                    StatePart::Kernel,
                    ok(include_str!("../parse/fixtures/frr1-ip-route.txt")),
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
            crate::kinds::bird::KIND,
            &[
                (
                    StatePart::Sessions,
                    ok(include_str!(
                        "../kinds/bird/fixtures/show-protocols-all.txt"
                    )),
                ),
                (
                    StatePart::Routes,
                    ok(include_str!("../kinds/bird/fixtures/show-route-all.txt")),
                ),
                (
                    StatePart::Bfd,
                    ok(include_str!("../kinds/bird/fixtures/show-bfd-sessions.txt")),
                ),
            ],
        )
        .unwrap();
        assert_eq!(bird.sessions.len(), 4);
        assert_eq!(bird.bfd_peers.len(), 2);
        assert!(bird.kernel_routes.is_empty());

        let gobgp = assemble_parts(
            crate::kinds::gobgp::KIND,
            &[
                (
                    StatePart::Sessions,
                    ok(include_str!("../kinds/gobgp/fixtures/neighbor.txt")),
                ),
                (
                    StatePart::Routes,
                    ok(include_str!("../kinds/gobgp/fixtures/global-rib-ipv4.txt")),
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
            crate::kinds::frr::KIND,
            &[(
                StatePart::Sessions,
                failed(
                    1,
                    include_str!(
                        "../kinds/frr/fixtures/error-no-daemons-show-bgp-neighbors-json.txt"
                    ),
                    Some(include_str!(
                        "../kinds/frr/fixtures/error-no-daemons-show-bgp-neighbors-json.stderr.txt"
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
            crate::kinds::frr::KIND,
            &[(
                StatePart::Bfd,
                failed(
                    1,
                    include_str!("../kinds/frr/fixtures/error-zebra-only-show-bfd-peers-json.txt"),
                    Some(include_str!(
                        "../kinds/frr/fixtures/error-zebra-only-show-bfd-peers-json.stderr.txt"
                    )),
                ),
            )],
        )
        .unwrap_err();
        assert!(err.to_string().contains("bfdd is not running"), "{err}");

        // BIRD: birdc exits 1, socket error on stderr.
        let err = assemble_parts(
            crate::kinds::bird::KIND,
            &[(StatePart::Sessions, bird_not_running())],
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Daemon {
                    tool: crate::kinds::bird::TOOL,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("Unable to connect"), "{err}");

        // GoBGP: exit 1, JSON error on stdout after the clock line.
        let err = assemble_parts(
            crate::kinds::gobgp::KIND,
            &[(
                StatePart::Sessions,
                failed(
                    1,
                    include_str!("../kinds/gobgp/fixtures/error-not-running-neighbor.txt"),
                    None,
                ),
            )],
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Daemon {
                    tool: crate::kinds::gobgp::TOOL,
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
            crate::kinds::quagga::KIND,
            &[(
                StatePart::Sessions,
                ok(include_str!(
                    "../kinds/quagga/fixtures/edge/zebra-only-show-ip-bgp-summary.txt"
                )),
            )],
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Empty {
                    tool: crate::kinds::quagga::TOOL,
                    ..
                }
            ),
            "{err}"
        );

        // Quagga: `No BGP process is configured` with exit code 0.
        let err = assemble_parts(
            crate::kinds::quagga::KIND,
            &[(
                StatePart::Routes,
                ok(include_str!(
                    "../kinds/quagga/fixtures/edge/no-router-bgp-show-ip-bgp.txt"
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
            crate::kinds::quagga::KIND,
            &[(
                StatePart::Sessions,
                ok(include_str!(
                    "../kinds/quagga/fixtures/edge/zebra-only-show-ip-bgp-summary.txt"
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
            crate::kinds::bird::KIND,
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
            crate::kinds::gobgp::KIND,
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
            crate::kinds::linux::KIND,
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
            crate::kinds::gobgp::KIND,
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
            "../kinds/bird/fixtures/no-bfd-protocol-show-bfd-sessions.txt"
        ));
        let state = assemble_parts(
            crate::kinds::bird::KIND,
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
