//! Hand-built planned routers for the render and driver tests.
//!
//! They describe the scratch labs the templates were verified with against the real
//! daemons (subnets under 10.212.0.0/16, documentation prefixes announced):
//! - `lan` 10.212.1.0/24: eBGP full mesh frr1 (AS 64501) / bird1 (64502) / gobgp1 (64503);
//!   iBGP in AS 64510 between frr2 and bird2, and frr2 and gobgp2; password-protected
//!   eBGP frr4 (64530) / bird4 (64531, passive) / gobgp4 (64532) with a 9 s hold time;
//! - `left` 10.212.2.0/24 and `right` 10.212.3.0/24: multihop eBGP with BFD between frr3
//!   (64520) and bird3 (64521) through the forwarding Linux host `hop`, which serves HTTP.

use crate::plan::model::{
    BfdTimers, PeerRef, PlannedInterface, PlannedRouter, PlannedSession, StaticRoute,
};
use crate::topology::model::RouterKind;
use std::net::{IpAddr, Ipv4Addr};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn router(
    name: &str,
    kind: RouterKind,
    asn: Option<u32>,
    interfaces: &[(&str, &str)],
) -> PlannedRouter {
    let interfaces: Vec<PlannedInterface> = interfaces
        .iter()
        .map(|(network, addr)| PlannedInterface {
            network: network.to_string(),
            docker_network: format!("metallab-scratch-{network}"),
            ip: ip(addr),
            prefix_len: 24,
        })
        .collect();
    let router_id = match interfaces.first().map(|i| i.ip) {
        Some(IpAddr::V4(v4)) => v4,
        _ => Ipv4Addr::new(10, 212, 0, 1),
    };
    PlannedRouter {
        name: name.to_string(),
        container: format!("metallab-scratch-{name}"),
        kind,
        image: format!("metallab-dev/{kind}"),
        builtin_image: true,
        asn,
        router_id,
        interfaces,
        routes: vec![],
        forward: false,
        sessions: vec![],
        node_sessions: vec![],
        announce: vec![],
        transit: false,
        http_server: None,
        exec: vec![],
        placement: Default::default(),
    }
}

/// A plain session from `local` towards the router `peer`.
pub fn session(peer: &str, local: (&str, u32), remote: (&str, u32)) -> PlannedSession {
    PlannedSession {
        peer: PeerRef::Router(peer.to_string()),
        id: peer.replace('-', "_"),
        local_address: ip(local.0),
        peer_address: ip(remote.0),
        local_asn: local.1,
        peer_asn: remote.1,
        multihop: None,
        bfd: None,
        password: None,
        passive: false,
        hold_time: None,
    }
}

fn announcing(mut r: PlannedRouter, prefix: &str) -> PlannedRouter {
    r.announce = vec![prefix.parse().unwrap()];
    r
}

// --- eBGP full mesh on `lan` ---------------------------------------------------------

const FRR1: (&str, u32) = ("10.212.1.11", 64501);
const BIRD1: (&str, u32) = ("10.212.1.12", 64502);
const GOBGP1: (&str, u32) = ("10.212.1.13", 64503);

pub fn frr_ebgp() -> PlannedRouter {
    let mut r = announcing(
        router(
            "frr1",
            crate::kinds::frr::KIND,
            Some(FRR1.1),
            &[("lan", FRR1.0)],
        ),
        "192.0.2.16/28",
    );
    r.sessions = vec![
        session("bird1", FRR1, BIRD1),
        session("gobgp1", FRR1, GOBGP1),
    ];
    r
}

pub fn bird_ebgp() -> PlannedRouter {
    let mut r = announcing(
        router(
            "bird1",
            crate::kinds::bird::KIND,
            Some(BIRD1.1),
            &[("lan", BIRD1.0)],
        ),
        "198.51.100.16/28",
    );
    r.sessions = vec![
        session("frr1", BIRD1, FRR1),
        session("gobgp1", BIRD1, GOBGP1),
    ];
    r
}

pub fn gobgp_ebgp() -> PlannedRouter {
    let mut r = announcing(
        router(
            "gobgp1",
            crate::kinds::gobgp::KIND,
            Some(GOBGP1.1),
            &[("lan", GOBGP1.0)],
        ),
        "203.0.113.16/28",
    );
    r.sessions = vec![
        session("frr1", GOBGP1, FRR1),
        session("bird1", GOBGP1, BIRD1),
    ];
    r
}

/// Quagga in the same mesh position as frr1 (Quagga cannot run here; rendered only).
pub fn quagga_ebgp() -> PlannedRouter {
    let quagga = ("10.212.1.14", 64504);
    let mut r = announcing(
        router(
            "quagga1",
            crate::kinds::quagga::KIND,
            Some(quagga.1),
            &[("lan", quagga.0)],
        ),
        "192.0.2.64/28",
    );
    r.sessions = vec![
        session("frr1", quagga, FRR1),
        session("bird1", quagga, BIRD1),
    ];
    r
}

// --- iBGP in AS 64510 on `lan` ---------------------------------------------------------

const FRR2: (&str, u32) = ("10.212.1.21", 64510);
const BIRD2: (&str, u32) = ("10.212.1.22", 64510);
const GOBGP2: (&str, u32) = ("10.212.1.23", 64510);

/// Single-hop BFD with non-default timers, on the directly connected iBGP session.
fn single_hop_bfd(mut s: PlannedSession) -> PlannedSession {
    s.bfd = Some(BfdTimers {
        receive_interval_ms: 200,
        transmit_interval_ms: 250,
        detect_multiplier: 4,
    });
    s
}

pub fn frr_ibgp() -> PlannedRouter {
    let mut r = announcing(
        router(
            "frr2",
            crate::kinds::frr::KIND,
            Some(FRR2.1),
            &[("lan", FRR2.0)],
        ),
        "192.0.2.32/28",
    );
    r.sessions = vec![
        single_hop_bfd(session("bird2", FRR2, BIRD2)),
        session("gobgp2", FRR2, GOBGP2),
    ];
    r
}

pub fn bird_ibgp() -> PlannedRouter {
    let mut r = announcing(
        router(
            "bird2",
            crate::kinds::bird::KIND,
            Some(BIRD2.1),
            &[("lan", BIRD2.0)],
        ),
        "198.51.100.32/28",
    );
    r.sessions = vec![single_hop_bfd(session("frr2", BIRD2, FRR2))];
    r
}

pub fn gobgp_ibgp() -> PlannedRouter {
    let mut r = announcing(
        router(
            "gobgp2",
            crate::kinds::gobgp::KIND,
            Some(GOBGP2.1),
            &[("lan", GOBGP2.0)],
        ),
        "203.0.113.32/28",
    );
    r.sessions = vec![session("frr2", GOBGP2, FRR2)];
    r
}

pub fn quagga_ibgp() -> PlannedRouter {
    let quagga = ("10.212.1.24", 64510);
    let mut r = announcing(
        router(
            "quagga2",
            crate::kinds::quagga::KIND,
            Some(quagga.1),
            &[("lan", quagga.0)],
        ),
        "192.0.2.80/28",
    );
    r.sessions = vec![session("frr2", quagga, FRR2)];
    r
}

// --- multihop eBGP + BFD across `hop` ---------------------------------------------------

const FRR3: (&str, u32) = ("10.212.2.10", 64520);
const BIRD3: (&str, u32) = ("10.212.3.10", 64521);

fn multihop_bfd(mut s: PlannedSession) -> PlannedSession {
    s.multihop = Some(2);
    s.bfd = Some(BfdTimers::default());
    s
}

pub fn linux_hop() -> PlannedRouter {
    let mut r = router(
        "hop",
        crate::kinds::linux::KIND,
        None,
        &[("left", "10.212.2.2"), ("right", "10.212.3.2")],
    );
    r.forward = true;
    r.http_server = Some(8080);
    r
}

pub fn frr_multihop_bfd() -> PlannedRouter {
    let mut r = announcing(
        router(
            "frr3",
            crate::kinds::frr::KIND,
            Some(FRR3.1),
            &[("left", FRR3.0)],
        ),
        "192.0.2.48/28",
    );
    r.routes = vec![StaticRoute {
        to: "10.212.3.0/24".parse().unwrap(),
        via: ip("10.212.2.2"),
    }];
    r.sessions = vec![multihop_bfd(session("bird3", FRR3, BIRD3))];
    r
}

pub fn bird_multihop_bfd() -> PlannedRouter {
    let mut r = announcing(
        router(
            "bird3",
            crate::kinds::bird::KIND,
            Some(BIRD3.1),
            &[("right", BIRD3.0)],
        ),
        "198.51.100.48/28",
    );
    r.routes = vec![StaticRoute {
        to: "10.212.2.0/24".parse().unwrap(),
        via: ip("10.212.3.2"),
    }];
    r.sessions = vec![multihop_bfd(session("frr3", BIRD3, FRR3))];
    r
}

// --- passwords, passive, hold time on `lan` ----------------------------------------------

const FRR4: (&str, u32) = ("10.212.1.41", 64530);
const BIRD4: (&str, u32) = ("10.212.1.42", 64531);
const GOBGP4: (&str, u32) = ("10.212.1.43", 64532);
const PASSWORD: &str = "s3cret-Pass";

fn protected(mut s: PlannedSession) -> PlannedSession {
    s.password = Some(PASSWORD.to_string());
    s.hold_time = Some(9);
    s
}

pub fn frr_password() -> PlannedRouter {
    let mut r = announcing(
        router(
            "frr4",
            crate::kinds::frr::KIND,
            Some(FRR4.1),
            &[("lan", FRR4.0)],
        ),
        "192.0.2.96/28",
    );
    r.sessions = vec![
        protected(session("bird4", FRR4, BIRD4)),
        protected(session("gobgp4", FRR4, GOBGP4)),
    ];
    r
}

pub fn bird_password() -> PlannedRouter {
    let mut r = announcing(
        router(
            "bird4",
            crate::kinds::bird::KIND,
            Some(BIRD4.1),
            &[("lan", BIRD4.0)],
        ),
        "198.51.100.96/28",
    );
    let mut s = protected(session("frr4", BIRD4, FRR4));
    s.passive = true;
    r.sessions = vec![s];
    r
}

pub fn gobgp_password() -> PlannedRouter {
    let mut r = announcing(
        router(
            "gobgp4",
            crate::kinds::gobgp::KIND,
            Some(GOBGP4.1),
            &[("lan", GOBGP4.0)],
        ),
        "203.0.113.96/28",
    );
    let mut s = protected(session("frr4", GOBGP4, FRR4));
    s.passive = true;
    r.sessions = vec![s];
    r
}

pub fn quagga_password() -> PlannedRouter {
    let quagga = ("10.212.1.44", 64533);
    let mut r = announcing(
        router(
            "quagga4",
            crate::kinds::quagga::KIND,
            Some(quagga.1),
            &[("lan", quagga.0)],
        ),
        "192.0.2.112/28",
    );
    let mut s = protected(session("frr4", quagga, FRR4));
    s.passive = true;
    r.sessions = vec![s];
    r
}

// --- ECMP and transit on `lan` --------------------------------------------------------

const GOBGP6: (&str, u32) = ("10.212.1.61", 64560);
const GOBGP7: (&str, u32) = ("10.212.1.62", 64560);
const FRR6: (&str, u32) = ("10.212.1.63", 64550);
const BIRD6: (&str, u32) = ("10.212.1.64", 64551);

/// gobgp6 and gobgp7 (one AS, like MetalLB speakers) both announce 203.0.113.200/32 to
/// frr6 and bird6, which must install both next hops. bird6 is a transit router: it passes
/// what it learns on (frr6's 192.0.2.200/32 to the GoBGPs, theirs to frr6); frr6 is a stub.
pub fn ecmp_transit_lab() -> Vec<PlannedRouter> {
    let speaker = |name: &str, me: (&str, u32)| {
        let mut r = announcing(
            router(
                name,
                crate::kinds::gobgp::KIND,
                Some(me.1),
                &[("lan", me.0)],
            ),
            "203.0.113.200/32",
        );
        r.sessions = vec![session("frr6", me, FRR6), session("bird6", me, BIRD6)];
        r
    };
    let mut frr = announcing(
        router(
            "frr6",
            crate::kinds::frr::KIND,
            Some(FRR6.1),
            &[("lan", FRR6.0)],
        ),
        "192.0.2.200/32",
    );
    frr.sessions = vec![
        session("gobgp6", FRR6, GOBGP6),
        session("gobgp7", FRR6, GOBGP7),
        session("bird6", FRR6, BIRD6),
    ];
    let mut bird = router(
        "bird6",
        crate::kinds::bird::KIND,
        Some(BIRD6.1),
        &[("lan", BIRD6.0)],
    );
    bird.transit = true;
    bird.sessions = vec![
        session("gobgp6", BIRD6, GOBGP6),
        session("gobgp7", BIRD6, GOBGP7),
        session("frr6", BIRD6, FRR6),
    ];
    vec![
        speaker("gobgp6", GOBGP6),
        speaker("gobgp7", GOBGP7),
        frr,
        bird,
    ]
}

/// The same router, made a transit router that re-advertises what it learns.
pub fn transit(mut r: PlannedRouter) -> PlannedRouter {
    r.transit = true;
    r
}

/// The same router with no sessions (and nothing announced).
pub fn lonely(mut r: PlannedRouter) -> PlannedRouter {
    r.sessions.clear();
    r.announce.clear();
    r
}

/// Every router of the scratch labs, for dumping configs to verify by hand.
pub fn scratch_lab() -> Vec<PlannedRouter> {
    vec![
        frr_ebgp(),
        bird_ebgp(),
        gobgp_ebgp(),
        frr_ibgp(),
        bird_ibgp(),
        gobgp_ibgp(),
        linux_hop(),
        frr_multihop_bfd(),
        bird_multihop_bfd(),
        frr_password(),
        bird_password(),
        gobgp_password(),
    ]
}

/// Multihop eBGP with BFD through a forwarding host on one /22 Docker network
/// (`routed`, 10.212.4.0/22): frr5 (10.212.4.10) and bird5 (10.212.5.10) reach each other
/// only through `hop5` (10.212.4.2) by /32 static routes. Docker's isolation rules for
/// internal networks drop bridged packets whose destination lies outside the network's
/// subnet (with br_netfilter on), so routing between two internal networks through a
/// container cannot be tried on such a host; on one wide subnet it can.
pub fn routed_segment_lab() -> Vec<PlannedRouter> {
    let frr = ("10.212.4.10", 64540);
    let bird = ("10.212.5.10", 64541);
    let mut hop = router(
        "hop5",
        crate::kinds::linux::KIND,
        None,
        &[("routed", "10.212.4.2")],
    );
    hop.forward = true;
    let mut f = announcing(
        router(
            "frr5",
            crate::kinds::frr::KIND,
            Some(frr.1),
            &[("routed", frr.0)],
        ),
        "192.0.2.144/28",
    );
    f.routes = vec![StaticRoute {
        to: "10.212.5.10/32".parse().unwrap(),
        via: ip("10.212.4.2"),
    }];
    f.sessions = vec![multihop_bfd(session("bird5", frr, bird))];
    let mut b = announcing(
        router(
            "bird5",
            crate::kinds::bird::KIND,
            Some(bird.1),
            &[("routed", bird.0)],
        ),
        "198.51.100.144/28",
    );
    b.routes = vec![StaticRoute {
        to: "10.212.4.10/32".parse().unwrap(),
        via: ip("10.212.4.2"),
    }];
    b.sessions = vec![multihop_bfd(session("frr5", bird, frr))];
    for r in [&mut hop, &mut f, &mut b] {
        for i in &mut r.interfaces {
            i.prefix_len = 22;
        }
    }
    vec![hop, f, b]
}

/// All files of a router as one text, each under a header with its path and mode.
pub fn rendered(router: &PlannedRouter) -> String {
    crate::render::render_router(router)
        .unwrap()
        .iter()
        .map(|f| format!("### {} ({:o})\n{}", f.path, f.mode, f.contents))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One rendered file of a router.
pub fn file_of(router: &PlannedRouter, path: &str) -> String {
    crate::render::render_router(router)
        .unwrap()
        .into_iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{} has no {path}", router.name))
        .contents
}

/// What a command run in a router returned.
pub fn exec_output(exit_code: i64, stdout: &str, stderr: &str) -> crate::state::ExecOutput {
    crate::state::ExecOutput {
        exit_code,
        stdout: stdout.to_string(),
        stderr: stderr.to_string(),
    }
}

/// Commands as single lines (arguments joined by spaces).
pub fn joined(commands: &[Vec<String>]) -> Vec<String> {
    commands.iter().map(|argv| argv.join(" ")).collect()
}

/// Runs `script` with `sh -c` in a scratch directory, with stand-in programs first on its
/// PATH: each `(name, text)` of `programs` becomes an executable shell script `name`. For
/// start commands tested without their daemons. `script` and the programs may name the
/// directory as `{root}`, replaced before they run.
#[cfg(test)]
pub fn run_with_stand_ins(programs: &[(&str, &str)], script: &str) -> StandInRun {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a scratch directory");
    let root = dir.path().display().to_string();
    let bin = format!("{root}/bin");
    std::fs::create_dir_all(&bin).expect("its bin directory");
    for (name, text) in programs {
        let path = format!("{bin}/{name}");
        std::fs::write(&path, text.replace("{root}", &root)).expect("a stand-in program");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("an executable stand-in");
    }
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(script.replace("{root}", &root))
        .env("PATH", format!("{bin}:/usr/bin:/bin"))
        .output()
        .expect("sh runs");
    StandInRun { dir, output }
}

/// What [`run_with_stand_ins`] ran: its exit and output, and the scratch directory (kept
/// until this is dropped) with what the stand-ins wrote there.
#[cfg(test)]
pub struct StandInRun {
    pub dir: tempfile::TempDir,
    pub output: std::process::Output,
}

#[cfg(test)]
impl StandInRun {
    /// The file `name` of the scratch directory, or "" when nothing wrote it.
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }
}
