use super::*;
use crate::render::fixtures;
use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn each_kind_boots_with_its_start_commands_then_waits_for_its_daemons() {
    insta::assert_snapshot!("frr", script(&fixtures::frr_ebgp()));
    insta::assert_snapshot!("bird", script(&fixtures::bird_ebgp()));
    insta::assert_snapshot!("gobgp", script(&fixtures::gobgp_ebgp()));
    insta::assert_snapshot!("quagga", script(&fixtures::quagga_ebgp()));
    // Routes and forwarding only: nothing to wait for.
    insta::assert_snapshot!("linux", script(&fixtures::linux_hop()));
}

/// Runs a script with `sh` on this machine, its files in a directory of its own, until it
/// reports or is ready (it then only sleeps: it is killed); returns what [`BootReader`]
/// made of its output, chunk by chunk as it came.
fn run(script: &str) -> (Vec<BootEvent>, String) {
    let dir = tempfile::tempdir().unwrap();
    // Standard error too, as Docker's attach gives it.
    let script = format!("exec 2>&1\n{script}").replace(
        "/tmp/metallab-boot",
        &format!("{}/boot", dir.path().display()),
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut reader = BootReader::new();
    let mut events = vec![];
    let mut buf = [0u8; 7];
    loop {
        // Small reads: markers and output arrive cut anywhere.
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        events.extend(reader.feed(&buf[..n]));
        if matches!(
            events.last(),
            Some(BootEvent::Ready | BootEvent::Failed { .. } | BootEvent::NotReady { .. })
        ) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (events, reader.stray_output())
}

fn sh(script: &str) -> Vec<String> {
    crate::kinds::shell(script)
}

#[test]
fn commands_run_in_order_then_the_daemons_are_asked_until_they_answer() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    // The "daemon" answers on the third query; the first two say something else.
    let query = sh(&format!(
        "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; \
         if [ $n -ge 3 ]; then echo ' zebra bgpd staticd bfdd'; else echo ' zebra'; fi",
        c = count.display()
    ));
    let text = render(
        "test",
        &[sh("echo first"), sh("echo noise >&2; true")],
        Some(Ready {
            query: &query,
            words: &["zebra", "bgpd", "bfdd"],
        }),
        Duration::from_secs(5),
    );
    let (events, stray) = run(&text);
    assert_eq!(
        events,
        [
            BootEvent::Running(0),
            BootEvent::Running(1),
            BootEvent::Waiting,
            BootEvent::Ready
        ]
    );
    assert_eq!(std::fs::read_to_string(&count).unwrap().trim(), "3");
    // Commands' output stays in the files: the container's output is the markers'.
    assert_eq!(stray, "");
}

#[test]
fn the_first_failing_command_is_reported_with_its_code_and_output_and_the_rest_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let never = dir.path().join("never");
    let text = render(
        "test",
        &[
            sh("true"),
            // Output without a final newline still ends before the next marker.
            sh("printf 'line 7: %% Unknown command\\nline 9: bad'; echo 'to stderr' >&2; exit 3"),
            sh(&format!("touch {}", never.display())),
        ],
        Some(Ready {
            query: &sh("echo up"),
            words: &["up"],
        }),
        Duration::from_secs(5),
    );
    let (events, _) = run(&text);
    assert_eq!(
        events,
        [
            BootEvent::Running(0),
            BootEvent::Running(1),
            BootEvent::Failed {
                step: 1,
                code: 3,
                stdout: "line 7: % Unknown command\nline 9: bad\n".into(),
                stderr: "to stderr\n".into(),
            }
        ]
    );
    assert!(!never.exists());
}

#[test]
fn daemons_that_never_answer_are_reported_with_what_the_last_query_said() {
    let text = render(
        "test",
        &[],
        Some(Ready {
            query: &sh("echo 'Unable to connect to server control socket' >&2; exit 1"),
            words: &["Daemon is up and running"],
        }),
        Duration::from_millis(200),
    );
    let (events, _) = run(&text);
    let [BootEvent::Waiting, BootEvent::NotReady { stdout, stderr }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(stdout.trim(), "");
    assert_eq!(stderr.trim(), "Unable to connect to server control socket");
}

#[test]
fn words_with_spaces_and_quotes_are_matched_literally() {
    let text = render(
        "test",
        &[],
        Some(Ready {
            query: &sh("echo \"BIRD 2.0.12 ready.\nDaemon is up and running\""),
            words: &["Daemon is up and running", "it's"],
        }),
        Duration::from_millis(300),
    );
    // "it's" is never printed: not ready.
    let (events, _) = run(&text);
    assert!(
        matches!(events.last(), Some(BootEvent::NotReady { .. })),
        "{events:?}"
    );
    let text = render(
        "test",
        &[],
        Some(Ready {
            query: &sh("echo 'a * b'"),
            words: &["*", "a * b"],
        }),
        Duration::from_millis(300),
    );
    assert_eq!(run(&text).0.last(), Some(&BootEvent::Ready));
}

#[test]
fn output_outside_the_markers_is_kept_as_what_the_container_said() {
    let mut reader = BootReader::new();
    assert_eq!(
        reader.feed(b"sh: 0: cannot open /etc/metallab/boot.sh: No such file\n"),
        []
    );
    assert_eq!(
        reader.stray_output(),
        "sh: 0: cannot open /etc/metallab/boot.sh: No such file"
    );
    // A marker cut in two is read once whole; unknown markers are ignored.
    assert_eq!(reader.feed(b"\n@@metallab-boot ru"), []);
    assert_eq!(
        reader.feed(b"n 4\n@@metallab-boot later 1\n"),
        [BootEvent::Running(4)]
    );
}

fn file(path: &str, contents: &str, mode: u32) -> ConfigFile {
    ConfigFile {
        path: path.to_string(),
        contents: contents.to_string(),
        mode,
    }
}

#[test]
fn the_first_start_writes_the_files_then_boots_and_later_starts_only_boot() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    // Nothing to start (a host without routes or services): nothing runs on this machine.
    let mut router = fixtures::linux_hop();
    router.http_server = None;
    router.routes.clear();
    router.exec.clear();
    // Nor announcements of its addresses on this machine's networks.
    router.interfaces.clear();
    assert!(start_commands(&router).is_empty());
    let tricky = "a 'quoted' line\n$HOME `not run` \\ back\n\nlast line without newline";
    // The image's own file at that path, with another mode: replaced by a new one.
    let from_image = format!("{root}/etc/kind/daemons");
    std::fs::create_dir_all(format!("{root}/etc/kind")).unwrap();
    std::fs::write(&from_image, "the image's").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&from_image, std::fs::Permissions::from_mode(0o600)).unwrap();
    let files = [
        file(&format!("{root}/etc/kind/kind.conf"), tricky, 0o640),
        file(&format!("{root}/empty"), "", 0o600),
        file(&from_image, "metallab's", 0o644),
    ];
    let boot = container_boot(&router, &files);
    assert!(!boot.upload);
    assert_eq!(boot.command[..2], ["sh", "-c"]);
    let command = boot.command[2].replace("/etc/metallab", &format!("{root}/etc/metallab"));
    let (events, stray) = run(&command);
    assert_eq!(events.last(), Some(&BootEvent::Ready), "{stray} {command}");
    let written = std::fs::read_to_string(format!("{root}/etc/kind/kind.conf")).unwrap();
    assert_eq!(written, tricky);
    let mode = |p: &str| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(std::fs::read_to_string(&from_image).unwrap(), "metallab's");
    assert_eq!(mode(&from_image), 0o644);
    assert_eq!(mode(&format!("{root}/etc/kind/kind.conf")), 0o640);
    assert_eq!(mode(&format!("{root}/empty")), 0o600);
    assert_eq!(mode(&format!("{root}/etc/metallab/boot.sh")), 0o755);
    // Started again (stopped, then started): what a change uploaded since stays.
    std::fs::write(format!("{root}/etc/kind/kind.conf"), "changed in place").unwrap();
    let (events, _) = run(&command);
    assert_eq!(events.last(), Some(&BootEvent::Ready));
    let kept = std::fs::read_to_string(format!("{root}/etc/kind/kind.conf")).unwrap();
    assert_eq!(kept, "changed in place");
}

#[test]
fn files_too_large_for_one_command_are_uploaded() {
    let router = fixtures::frr_ebgp();
    let small = container_boot(&router, &crate::render::render_router(&router).unwrap());
    assert!(!small.upload);
    let large = [file("/etc/frr/frr.conf", &"x".repeat(200 * 1024), 0o644)];
    let boot = container_boot(&router, &large);
    assert!(boot.upload);
    assert_eq!(boot.command, ["sh", SCRIPT_PATH]);
}

#[test]
fn the_boot_asks_the_daemons_only_when_their_start_did_not_wait_for_them() {
    let asks = |router: &crate::plan::model::PlannedRouter| script(router).contains("mark waiting");
    // `DAEMON -d` (FRR) and the wait for `gobgp global` (GoBGP) return once they answer.
    assert!(!asks(&fixtures::frr_ebgp()));
    assert!(!asks(&fixtures::gobgp_ebgp()));
    // `bird -c` returns as BIRD detaches: whether it is up and running is asked.
    assert!(asks(&fixtures::bird_ebgp()));
}
