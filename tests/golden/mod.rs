//! The comparison every golden error test makes: each case, run as a user runs it, must
//! exit 2 and print exactly its `<case>.txt` on standard error. `METALLAB_BLESS=1`
//! rewrites the `.txt` files instead (review their diff before committing).

use std::path::Path;

/// Runs every case (`run` gives its standard error and exit code) and returns one
/// message per case that differs from its `.txt` in `dir`, or does not exit 2.
pub fn mismatches(
    cases: &[String],
    dir: &Path,
    run: impl Fn(&str) -> (String, Option<i32>),
) -> Vec<String> {
    let bless = std::env::var_os("METALLAB_BLESS").is_some();
    let mut failures = Vec::new();
    for case in cases {
        let (stderr, code) = run(case);
        if code != Some(2) {
            failures.push(format!("{case}: exit code {code:?}, expected 2\n{stderr}"));
        }
        let expected_path = dir.join(format!("{case}.txt"));
        if bless {
            std::fs::write(&expected_path, &stderr).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!("{case}.txt is missing: run with METALLAB_BLESS=1 to create it")
        });
        if stderr != expected {
            failures.push(format!(
                "{case}: stderr differs from {case}.txt\n--- expected\n{expected}\n--- got\n{stderr}"
            ));
        }
    }
    failures
}
