//! Golden tests of what a user sees for a bad topology file.
//!
//! Each `tests/fixtures/errors/<case>.yaml` is validated by the real binary
//! (`metallab validate <case>.yaml`, run in that folder, as in a pipe without colours);
//! its standard error must equal `<case>.txt` byte for byte and the exit code must be 2.
//! After an intended change of wording, `METALLAB_BLESS=1 cargo test --test golden_errors`
//! rewrites the `.txt` files; review their diff before committing.

mod golden;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_metallab");

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/errors")
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cases_dir())
        .expect("tests/fixtures/errors exists")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".yaml").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// `metallab validate <case>.yaml`: (stderr, exit code).
fn validate(case: &str) -> (String, Option<i32>) {
    let output = Command::new(BIN)
        .args(["validate", &format!("{case}.yaml")])
        .current_dir(cases_dir())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("RUST_LOG")
        .output()
        .expect("metallab runs");
    (
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code(),
    )
}

#[test]
fn every_bad_file_gets_its_expected_errors() {
    let cases = cases();
    assert!(cases.len() >= 10, "found only {cases:?}");
    let failures = golden::mismatches(&cases, &cases_dir(), validate);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_expected_file_has_its_case() {
    let cases = cases();
    for entry in std::fs::read_dir(cases_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(case) = name.strip_suffix(".txt") {
            assert!(cases.iter().any(|c| c == case), "{name} has no {case}.yaml");
        }
    }
}
