//! `metallab tutorial lint` and `list`, run as a user runs them.
//!
//! Each `tests/fixtures/tutorial-errors/<case>.md` is linted by the real binary (run in
//! that folder, as in a pipe without colours): its standard error must equal
//! `<case>.txt` byte for byte, and the exit code must be 2. After an intended change of
//! wording, `METALLAB_BLESS=1 cargo test --test tutorial_lint` rewrites the `.txt` files;
//! review their diff before committing. Every built-in tutorial must lint clean.

mod golden;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_metallab");

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tutorial-errors")
}

fn metallab(args: &[&str], dir: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("RUST_LOG")
        .output()
        .expect("metallab runs")
}

#[test]
fn every_bad_tutorial_gets_its_expected_errors() {
    let mut cases: Vec<String> = std::fs::read_dir(cases_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".md").map(str::to_string)
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "found only {cases:?}");
    let failures = golden::mismatches(&cases, &cases_dir(), |case| {
        let out = metallab(&["tutorial", "lint", &format!("{case}.md")], &cases_dir());
        (
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_builtin_tutorial_lints_clean() {
    let out = metallab(&["tutorial", "lint"], &std::env::temp_dir());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let list = metallab(&["tutorial", "list", "-o", "json"], &std::env::temp_dir());
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for name in &names {
        assert!(
            stderr.contains(&format!("✔ tutorials/{name}.md is valid")),
            "{name} was linted: {stderr}"
        );
    }
}

#[test]
fn list_says_what_each_tutorial_needs_and_whether_it_runs_here() {
    let out = metallab(&["tutorial", "list", "-o", "json"], &std::env::temp_dir());
    assert_eq!(out.status.code(), Some(0));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let by_name = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed: {listed:#}"))
            .clone()
    };
    let basics = by_name("bgp-basics");
    assert_eq!(basics["needs"], serde_json::json!(["docker"]));
    assert!(basics["steps"].as_u64().unwrap() >= 6);
    // Whatever this machine has, a tutorial runs here exactly when nothing is missing.
    for tutorial in listed.as_array().unwrap() {
        assert_eq!(
            tutorial["can_run"].as_bool().unwrap(),
            tutorial["missing"].as_array().unwrap().is_empty(),
            "{tutorial:#}"
        );
    }
}

#[test]
fn an_unknown_tutorial_gets_a_suggestion_and_exit_2() {
    let out = metallab(&["tutorial", "run", "bgp-basic"], &std::env::temp_dir());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: no tutorial named `bgp-basic`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `bgp-basics`?"), "{stderr}");
}
