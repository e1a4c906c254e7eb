//! Command-line surface (clap derive). Only definitions live here; `commands` runs them.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "metallab",
    version,
    about = "Stand up MetalLB test labs from one topology file, and prove they work",
    long_about = "metallab builds Docker networks and BGP routers (FRR, BIRD, GoBGP, Quagga, \
                  Linux hosts) from a topology file, checks the lab through the routers' own \
                  CLIs, and tears everything down by label.\n\n\
                  Exit codes: 0 ok, 1 checks failed, 2 bad input or setup error.",
    after_help = "Examples:\n  metallab up topologies/interop.yaml\n  metallab check interop\n  \
                  metallab exec frr1 -- vtysh -c 'show bgp summary'\n  metallab down interop"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalOpts {
    /// Progress display: spinners on a terminal, plain lines otherwise.
    #[arg(long, global = true, value_enum, default_value_t = ProgressMode::Auto, env = "METALLAB_PROGRESS")]
    pub progress: ProgressMode,
    /// Colours in tables and reports: on a terminal unless NO_COLOR is set or CI=true.
    #[arg(long, global = true, value_enum, default_value_t = ColorMode::Auto, env = "METALLAB_COLOR")]
    pub color: ColorMode,
    /// Output format for commands that print data.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// More logging (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Where lab state (resolved plan, rendered configs) is kept.
    #[arg(long, global = true, env = "METALLAB_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Never download anything metallab fetches itself (kind when it is not on PATH);
    /// METALLAB_OFFLINE=1 does the same.
    #[arg(long, global = true)]
    pub offline: bool,
}

pub use crate::progress::ProgressMode;
pub use crate::view::table::ColorMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the lab: networks, routers, configs, daemons; then run its checks.
    Up(UpArgs),
    /// What `up FILE` would change on the running lab (routers, interfaces, routes,
    /// configs reloaded or restarted, the BGP sessions that reset, MetalLB objects),
    /// applying nothing: exit 0 without changes, 1 with.
    Diff(DiffArgs),
    /// Remove a lab (everything labelled with its name), also after a crash.
    Down(DownArgs),
    /// Labs, networks, routers and BGP sessions at a glance.
    Status(StatusArgs),
    /// Normalized BGP table of one router or every router of a lab.
    Routes(RoutesArgs),
    /// Run a command inside a router: `metallab exec frr1 -- vtysh -c 'show bgp summary'`.
    Exec(ExecArgs),
    /// Capture packets with tcpdump inside a router (`gw:right`: on its interface on that
    /// lab network) or on a lab network's bridge from the host (`--network`, as root): a
    /// pcap (`-w FILE`, `-w -` for `| wireshark -k -i -`) or tcpdump's decoded lines.
    Capture(CaptureArgs),
    /// Put a fault into a running lab (stop, link down, netem, isolate, kill a daemon, stop
    /// a cluster node, restart a speaker), list the active ones, clear them; each is
    /// recorded in the lab's state and undone exactly.
    Fault(FaultArgs),
    /// Measure how the lab's checks react to a fault: `converge LAB --heal -- link gw right
    /// down` applies it, times each check's change, clears it and times the recovery.
    Converge(ConvergeArgs),
    /// Run the topology's checks against the running lab.
    Check(CheckArgs),
    /// One archive for a bug report: plan, configs, router state, raw outputs, logs,
    /// Docker inspect, environment; passwords redacted.
    Snapshot(SnapshotArgs),
    /// Validate a topology (every error of the file at once, each at file:line:column
    /// with a hint; exit 2) or say it is valid and what it holds; creates nothing.
    /// `--plan` and `--configs` print what `up` would create.
    Validate(ValidateArgs),
    /// Router images, built from each kind's image/ folder.
    #[command(subcommand)]
    Images(ImagesCommand),
    /// Built-in topologies: list, show, generate.
    Topologies(TopologiesArgs),
    /// Live web dashboard of a running lab: diagram, sessions, routes, raw router output.
    Spy(SpyArgs),
    /// Interactive tutorials: list them, lint them, follow one step by step (`start`),
    /// or run one end to end for CI (`run`).
    #[command(subcommand)]
    Tutorial(TutorialCommand),
    /// Check prerequisites: Docker engine and API, kind (and where it comes from),
    /// minikube, images.
    Doctor,
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Topology file or built-in name [default: ./metallab.yaml, else the built-in default].
    pub topology: Option<String>,
    /// Tear the lab down first and build it again.
    #[arg(long)]
    pub reconfigure: bool,
    /// Do not run the topology's checks after the lab is up.
    #[arg(long)]
    pub no_check: bool,
    /// Keep what was created when `up` fails (for debugging) instead of rolling back.
    #[arg(long)]
    pub retain: bool,
    /// One deadline for the whole of `up` (e.g. 90s, 5m): the cluster, MetalLB's rollouts
    /// and webhook, pods, routers and every check are done by then, or `up` fails naming
    /// what it was waiting for. Without it each wait has its own default (see the README).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Write the checks' results as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The Debian image router images build FROM, when `up` builds a missing one.
    #[arg(long, env = "METALLAB_BASE_IMAGE", default_value = "debian:bookworm")]
    pub base_image: String,
    /// Print where the time went at the end (stderr): every step with its start and
    /// duration, each router's parts (create, upload, start, commands, ready), when the
    /// checks saw each router's sessions Established, and when the last check passed.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Lab name, topology file or built-in name.
    pub lab: Option<String>,
    /// Lab name (same as the positional argument).
    #[arg(long = "name", conflicts_with = "lab")]
    pub name: Option<String>,
    /// Remove every metallab lab on this Docker engine.
    #[arg(long, conflicts_with_all = ["lab", "name"])]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Lab name [default: every lab].
    pub lab: Option<String>,
}

#[derive(Debug, Args)]
pub struct RoutesArgs {
    /// Router name (`frr1` or `lab/frr1`) [default: every router of the lab].
    pub router: Option<String>,
    /// Lab name when several labs run.
    #[arg(long)]
    pub lab: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Router name (`frr1` or `lab/frr1`).
    pub router: String,
    /// Lab name when several labs run.
    #[arg(long)]
    pub lab: Option<String>,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The running lab.
    pub lab: String,
    /// `ROUTER`, `ROUTER:NETWORK` (its interface on that lab network) or `ROUTER:IFACE`
    /// (`eth0`, `any`); a router on several networks captures on `any` by default.
    #[arg(required_unless_present = "network")]
    pub target: Option<String>,
    /// Capture on this lab network's Linux bridge from the host instead (needs root and
    /// tcpdump on the host).
    #[arg(long, value_name = "NET", conflicts_with = "target")]
    pub network: Option<String>,
    /// A tcpdump filter expression (pcap-filter(7)), e.g. 'tcp port 179'.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Stop after this many packets.
    #[arg(short = 'c', long, value_name = "COUNT")]
    pub count: Option<u64>,
    /// Stop after this long (e.g. 10s); Ctrl-C stops it too.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Write a pcap to FILE (`-` for stdout) instead of decoded lines.
    #[arg(
        short = 'w',
        long = "write",
        value_name = "FILE",
        conflicts_with = "text"
    )]
    pub write: Option<String>,
    /// tcpdump's decoded lines (the default without -w).
    #[arg(long)]
    pub text: bool,
}

#[derive(Debug, Args)]
pub struct FaultArgs {
    /// The running lab.
    pub lab: String,
    #[command(subcommand)]
    pub action: FaultAction,
}

#[derive(Debug, Subcommand)]
pub enum FaultAction {
    /// Stop the router's container (`start` undoes it).
    Stop { router: String },
    /// Start a stopped router again and configure it, as `up` would.
    Start { router: String },
    /// Take the router's interface on a lab network down (its address stays), or up.
    Link {
        router: String,
        network: String,
        #[arg(value_enum)]
        state: LinkState,
    },
    /// Delay, jitter and loss on the router's interface on NETWORK (every interface
    /// without one), with tc netem.
    Netem {
        /// `ROUTER` or `ROUTER:NETWORK`.
        #[arg(value_name = "ROUTER[:NETWORK]")]
        target: String,
        #[arg(long, value_parser = parse_duration)]
        delay: Option<std::time::Duration>,
        #[arg(long, value_parser = parse_duration)]
        jitter: Option<std::time::Duration>,
        /// Percent of packets dropped, e.g. 5 or 5%.
        #[arg(long, value_parser = parse_percent)]
        loss: Option<f64>,
    },
    /// Take every interface of the router down.
    Isolate { router: String },
    /// Kill one of the router's daemons (SIGKILL; its container runs on): DAEMON, or its
    /// BGP daemon. `clear` starts it again.
    Kill {
        router: String,
        daemon: Option<String>,
    },
    /// Stop a cluster node's container, or start it again (kind, Minikube).
    Node {
        node: String,
        #[arg(value_enum)]
        state: NodeState,
    },
    /// Delete MetalLB's speaker pod on a node; its DaemonSet starts another (done at once,
    /// not recorded).
    Speaker {
        node: String,
        #[arg(value_enum)]
        action: SpeakerAction,
    },
    /// The active faults (`-o json` for data).
    List,
    /// Undo one fault, or every one.
    Clear { id: Option<u32> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LinkState {
    Down,
    Up,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NodeState {
    Stop,
    Start,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SpeakerAction {
    Restart,
}

/// The words after `metallab fault LAB`, read alone: how `converge` reads its fault, so
/// both take the same forms.
#[derive(Debug, Parser)]
#[command(
    name = "metallab fault LAB",
    about = "The fault, in the words `metallab fault LAB` takes",
    long_about = None,
    disable_help_subcommand = true
)]
pub struct FaultCommand {
    #[command(subcommand)]
    pub action: FaultAction,
}

#[derive(Debug, Args)]
pub struct ConvergeArgs {
    /// The running lab.
    pub lab: String,
    /// Once the lab has settled, clear the fault and time each check's recovery.
    #[arg(long)]
    pub heal: bool,
    /// How long to wait for the lab to settle after the fault, and (with --heal) for every
    /// check to pass again after clearing it.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub timeout: std::time::Duration,
    /// The lab has settled when no check has changed for this long (longer than the
    /// slowest detection you expect: a BGP hold time without BFD).
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub settle: std::time::Duration,
    /// The fault, as `metallab fault LAB` takes it: `link gw right down`, `kill frr1`,
    /// `stop bird1`, `node NODE stop`…
    #[arg(last = true, required = true, value_name = "FAULT")]
    pub fault: Vec<String>,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    s.trim_end_matches('%')
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=100.0).contains(p))
        .ok_or_else(|| format!("`{s}` is not a percentage from 0 to 100"))
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Topology file or built-in name [default: ./metallab.yaml, else the built-in default].
    pub topology: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Lab name, topology file or built-in name [default: the only running lab].
    pub topology: Option<String>,
    /// Override every check's deadline (e.g. 90s, 2m).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Write results as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run only checks whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Keep evaluating and print every check's transitions with their time, until
    /// Ctrl-C (`-o json`: one JSON object per line).
    #[arg(long, conflicts_with_all = ["junit", "timeout"])]
    pub watch: bool,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Lab name, topology file or built-in name [default: the only running lab].
    pub lab: Option<String>,
    /// Archive to write (`-` for stdout) [default: ./metallab-<lab>-<timestamp>.tar.gz].
    /// (`-o` is the global output format: `-o json` prints what was written as JSON.)
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Lines of each container and daemon log to keep (the most recent ones).
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pub log_lines: usize,
}

#[derive(Debug, Args)]
pub struct SpyArgs {
    /// Lab name, topology file or built-in name [default: the only running lab].
    pub lab: Option<String>,
    /// Address and port to serve on; port 0 picks a free one (the URL is printed).
    #[arg(long, value_name = "ADDR:PORT", default_value = DEFAULT_LISTEN, value_parser = parse_listen)]
    pub listen: std::net::SocketAddr,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Topology file or built-in name.
    pub topology: Option<String>,
    /// Print the resolved plan: names, addresses, sessions, checks (YAML, or JSON with
    /// -o json).
    #[arg(long)]
    pub plan: bool,
    /// Print the rendered router configs and MetalLB's configuration. Sessions to the
    /// cluster's nodes are added by `up` once it knows the nodes' addresses, so they are
    /// not in these configs yet.
    #[arg(long)]
    pub configs: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Build router images (every kind but quagga, or the ones named; quagga is compiled
    /// from source and needs internet access: `metallab images build quagga`).
    Build {
        /// Router kinds to build (frr, bird, gobgp, linux, quagga) [default: all but quagga].
        #[arg(value_name = "KIND")]
        kinds: Vec<String>,
        /// Rebuild even when the content-hashed tag exists.
        #[arg(long)]
        force: bool,
        /// The Debian image the router images build FROM (made with debootstrap + docker
        /// import where no registry answers).
        #[arg(long, env = "METALLAB_BASE_IMAGE", default_value = "debian:bookworm")]
        base_image: String,
    },
    /// List router images and whether they are current.
    List,
    /// Remove router images whose tag is no longer current.
    Prune,
}

#[derive(Debug, Args)]
pub struct TopologiesArgs {
    #[command(subcommand)]
    pub command: Option<TopologiesCommand>,
}

#[derive(Debug, Subcommand)]
pub enum TopologiesCommand {
    /// List built-in topologies (the default).
    List,
    /// Print a built-in topology's YAML (to copy and edit).
    Show {
        /// The built-in's name (`metallab topologies` lists them).
        name: String,
    },
    /// Generate a scale lab (YAML on stdout): N BGP routers (FRR, BIRD and GoBGP in turn)
    /// around one FRR hub, so N + 1 routers in all.
    Generate {
        /// How many routers peer with the hub (1–508); the hub comes on top.
        #[arg(long, default_value_t = 20)]
        routers: usize,
        /// The lab's name (its `name:`).
        #[arg(long, default_value = "scale")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TutorialCommand {
    /// Every tutorial, what it needs, and whether this machine has it.
    List,
    /// Validate tutorials: front matter, topology, commands, and checks against the
    /// topology in effect at each step; every error at file:line:column (exit 2).
    Lint {
        /// Tutorial names or Markdown files [default: every built-in tutorial].
        #[arg(value_name = "TUTORIAL")]
        tutorials: Vec<String>,
    },
    /// Follow a tutorial step by step: brings its lab up, shows each step, waits while
    /// you run its commands (or runs them on `r`), marks it done when its checks pass,
    /// and resumes where you left (`q`) the next time.
    Start {
        /// A tutorial name (`metallab tutorial list`) or a Markdown file.
        tutorial: String,
    },
    /// Run a tutorial end to end (for CI): brings its lab up, runs every step's commands,
    /// waits for its checks, reports per step; exit 1 at the first step that does not
    /// pass, 2 for a bad tutorial.
    Run {
        /// A tutorial name (`metallab tutorial list`) or a Markdown file.
        tutorial: String,
        /// Leave the lab up at the end (it is removed by default).
        #[arg(long)]
        keep: bool,
        /// Write the result as JUnit XML: one test case per step.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 30s, 2m, 1m30s)"))
}

/// The default `--listen`: loopback only, the dashboard has no authentication.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7472";

/// `--listen`: `ADDR:PORT` (`127.0.0.1:7472`, `[::1]:7472`, `0.0.0.0:7472`) or
/// `localhost:PORT`.
pub fn parse_listen(text: &str) -> Result<std::net::SocketAddr, String> {
    if let Some(port) = text.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("`{port}` is not a port number (0-65535)"))?;
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| {
        format!(
            "expected ADDRESS:PORT such as {DEFAULT_LISTEN} or [::1]:7472 (port 0 picks a free one)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn offline_is_a_global_flag() {
        for args in [
            ["metallab", "--offline", "doctor"].as_slice(),
            ["metallab", "doctor", "--offline"].as_slice(),
            ["metallab", "up", "lab.yaml", "--offline"].as_slice(),
        ] {
            assert!(
                Cli::try_parse_from(args).unwrap().global.offline,
                "{args:?}"
            );
        }
        assert!(
            !Cli::try_parse_from(["metallab", "doctor"])
                .unwrap()
                .global
                .offline
        );
    }

    #[test]
    fn exec_takes_the_command_after_double_dash() {
        let cli = Cli::try_parse_from([
            "metallab",
            "exec",
            "frr1",
            "--",
            "vtysh",
            "-c",
            "show bgp summary",
        ])
        .unwrap();
        match cli.command {
            Command::Exec(a) => {
                assert_eq!(a.router, "frr1");
                assert_eq!(a.command, ["vtysh", "-c", "show bgp summary"]);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn down_all_conflicts_with_a_name() {
        assert!(Cli::try_parse_from(["metallab", "down", "x", "--all"]).is_err());
    }

    #[test]
    fn durations_accept_humantime() {
        let cli = Cli::try_parse_from(["metallab", "check", "--timeout", "1m30s"]).unwrap();
        match cli.command {
            Command::Check(a) => assert_eq!(a.timeout, Some(std::time::Duration::from_secs(90))),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn converge_takes_a_fault_after_double_dash_read_as_fault_reads_it() {
        let cli = Cli::try_parse_from([
            "metallab", "converge", "next-hop", "--heal", "--", "link", "gw", "right", "down",
        ])
        .unwrap();
        let Command::Converge(a) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert!(a.heal);
        assert_eq!(a.timeout, std::time::Duration::from_secs(60));
        let words = std::iter::once("fault").chain(a.fault.iter().map(String::as_str));
        match FaultCommand::try_parse_from(words).unwrap().action {
            FaultAction::Link {
                router,
                network,
                state: LinkState::Down,
            } => assert_eq!((router.as_str(), network.as_str()), ("gw", "right")),
            other => panic!("parsed as {other:?}"),
        }
        // A fault is required; everything after `--` is the fault's (`-o json` goes before).
        assert!(Cli::try_parse_from(["metallab", "converge", "lab"]).is_err());
        let words = ["fault", "kill", "frr1", "-o", "json"];
        assert!(FaultCommand::try_parse_from(words).is_err());
        let bad = FaultCommand::try_parse_from(["fault", "link", "gw", "right", "sideways"]);
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("invalid value 'sideways'")
        );
    }

    #[test]
    fn fault_kill_node_and_speaker_forms() {
        let action = |words: &[&str]| {
            let words = ["metallab", "fault", "lab"]
                .into_iter()
                .chain(words.iter().copied());
            Cli::try_parse_from(words).map(|cli| match cli.command {
                Command::Fault(a) => a.action,
                other => panic!("parsed as {other:?}"),
            })
        };
        assert!(matches!(
            action(&["kill", "frr1"]).unwrap(),
            FaultAction::Kill { daemon: None, .. }
        ));
        assert!(matches!(
            action(&["kill", "frr1", "zebra"]).unwrap(),
            FaultAction::Kill { daemon: Some(d), .. } if d == "zebra"
        ));
        assert!(matches!(
            action(&["node", "bgp-worker", "stop"]).unwrap(),
            FaultAction::Node {
                state: NodeState::Stop,
                ..
            }
        ));
        assert!(matches!(
            action(&["speaker", "bgp-worker", "restart"]).unwrap(),
            FaultAction::Speaker { .. }
        ));
        assert!(action(&["speaker", "bgp-worker", "stop"]).is_err());
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(
            parse_listen("127.0.0.1:0"),
            Ok("127.0.0.1:0".parse().unwrap())
        );
        assert_eq!(
            parse_listen("[::1]:7472"),
            Ok("[::1]:7472".parse().unwrap())
        );
        assert_eq!(
            parse_listen("localhost:8080"),
            Ok("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            parse_listen("7472").unwrap_err(),
            "expected ADDRESS:PORT such as 127.0.0.1:7472 or [::1]:7472 (port 0 picks a free one)"
        );
        assert!(parse_listen("localhost:http").is_err());
    }
}
