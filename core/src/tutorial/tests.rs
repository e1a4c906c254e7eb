//! Reading and linting tutorials, rendering steps and run reports.

use super::lint::{Environment, Reference, lint};
use super::model::ExpectedExit;
use super::parse::parse;
use super::render::{self, Style};
use super::report::{self, CommandRun, StepRun, StepStatus, TutorialRun};
use crate::check::result::{CheckResult, Outcome};
use std::collections::HashMap;
use std::time::Duration;

/// Files beside the tutorial, and a stand-in for metallab's command line that knows the
/// few commands these tests write.
struct Files(HashMap<&'static str, &'static str>);

impl Environment for Files {
    fn read_file(&self, relative: &str) -> Option<String> {
        self.0.get(relative).map(|t| t.to_string())
    }

    fn shown(&self, relative: &str) -> String {
        format!("t/{relative}")
    }

    fn metallab_command(&self, args: &[String]) -> Result<Vec<Reference>, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(match args.as_slice() {
            ["up", file] => vec![Reference::Up(file.to_string())],
            ["status", lab] => vec![Reference::Lab(lab.to_string())],
            ["exec", target, ..] => {
                let (lab, router) = target.split_once('/').expect("LAB/ROUTER");
                vec![
                    Reference::Lab(lab.to_string()),
                    Reference::Router(router.to_string()),
                ]
            }
            ["fault", lab, "link", router, network, _] => vec![
                Reference::Lab(lab.to_string()),
                Reference::Router(router.to_string()),
                Reference::Network(network.to_string()),
            ],
            [other, ..] if *other == "stauts" => {
                return Err(format!("unrecognized subcommand '{other}'"));
            }
            _ => vec![],
        })
    }
}

const LAB: &str = "\
name: demo
networks:
  lan: { subnet: 10.220.9.0/24 }
routers:
  r1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: r2 }] }
  r2: { kind: bird, asn: 64502, interfaces: { lan: {} }, announce: [192.0.2.0/24] }
";

/// `lab.yaml` with a third router.
const GROWN: &str = "\
name: demo
networks:
  lan: { subnet: 10.220.9.0/24 }
routers:
  r1: { kind: frr, asn: 64501, interfaces: { lan: {} }, neighbors: [{ to: r2 }, { to: r3 }] }
  r2: { kind: bird, asn: 64502, interfaces: { lan: {} }, announce: [192.0.2.0/24] }
  r3: { kind: gobgp, asn: 64503, interfaces: { lan: {} } }
";

fn files() -> Files {
    Files(HashMap::from([
        ("demo/lab.yaml", LAB),
        ("demo/grown.yaml", GROWN),
        ("demo/other-lab.yaml", "name: other\n"),
        (
            "demo/broken.yaml",
            "name: demo\nrouters:\n  r9: { kind: frr, asn: 0 }\n",
        ),
    ]))
}

const GOOD: &str = r#"---
title: Demo
topology: demo/lab.yaml
needs: [docker]
duration: 10m
---

# Demo

Intro text with `code` and a [link](https://example.com).

## Look at the session

```sh
metallab status demo   # both ends
metallab exec demo/r1 -- vtysh \
  -c 'show bgp summary'
```

```sh no-run
metallab spy demo
```

```checks
- { router: r1, session: r2 }
- { router: r1, route: 192.0.2.0/24, nexthops: [r2], timeout: 30s }
```

> Hint: `metallab status demo` says which session is down.

## Grow the lab

```sh timeout=10m
metallab up demo/grown.yaml
```

```sh fails
metallab exec demo/r3 -- false
```

```checks
- { router: r1, session: r3 }
```

## Read on

Nothing to check here.
"#;

#[test]
fn reads_front_matter_steps_commands_checks_and_hints() {
    let parsed = parse("demo", "demo.md", GOOD);
    assert_eq!(parsed.errors, vec![]);
    let t = &parsed.tutorial;
    let summary: Vec<String> = std::iter::once(format!("{:?}", t.front))
        .chain(std::iter::once(format!(
            "intro: {:?}",
            &GOOD[t.intro.clone()].trim()
        )))
        .chain(t.steps.iter().map(|s| {
            let blocks: Vec<String> = s
                .blocks
                .iter()
                .map(|b| {
                    format!(
                        "run={} exit={} timeout={:?} {:?}",
                        b.run,
                        b.exit.word(),
                        b.timeout,
                        b.commands
                            .iter()
                            .map(|c| (&c.text, &c.words))
                            .collect::<Vec<_>>()
                    )
                })
                .collect();
            format!(
                "{} {:?}\n  blocks: {blocks:#?}\n  checks: {}\n  hint: {:?}",
                s.number,
                s.title,
                s.checks.len(),
                s.hint
            )
        }))
        .collect();
    insta::assert_snapshot!(summary.join("\n"));
}

#[test]
fn a_valid_tutorial_lints_with_the_topology_in_effect_at_each_step() {
    let linted = lint("demo", "demo.md", GOOD, &files()).unwrap();
    assert_eq!(linted.lab, "demo");
    let written: Vec<&str> = linted
        .step_topologies
        .iter()
        .map(|t| t.written.as_str())
        .collect();
    assert_eq!(
        written,
        ["demo/lab.yaml", "demo/grown.yaml", "demo/grown.yaml"]
    );
    let names = |step: usize| -> Vec<(String, u64)> {
        linted
            .step_checks(&linted.tutorial.steps[step])
            .into_iter()
            .map(|c| (c.name, c.timeout.as_secs()))
            .collect()
    };
    assert_eq!(
        names(0),
        [
            ("r1 session to r2 established".to_string(), 60),
            ("r1 route 192.0.2.0/24 via r2".to_string(), 30)
        ]
    );
    assert_eq!(names(1), [("r1 session to r3 established".to_string(), 60)]);
    assert_eq!(names(2), []);
}

/// (`file:line:column`, message) of every error lint finds.
fn errors(text: &str) -> Vec<(String, String)> {
    match lint("bad", "bad.md", text, &files()) {
        Ok(_) => vec![],
        Err(errors) => errors.locations(),
    }
}

#[test]
fn a_check_may_name_a_router_only_from_the_step_that_brings_it_in() {
    let text = GOOD.replace(
        "- { router: r1, session: r2 }\n",
        "- { router: r1, session: r2 }\n- { router: r3, session: r1 }\n",
    );
    assert_eq!(
        errors(&text),
        [(
            "bad.md:26:13".to_string(),
            "unknown router `r3`".to_string()
        )]
    );
}

#[test]
fn every_error_of_the_file_at_once_each_at_its_place() {
    let text = r#"---
title: Bad
topology: demo/lab.yaml
needs: [docker, kind]
duration: soon
colour: blue
---

## One

```sh
metallab exec demo/r9 -- true
metallab fault demo link r1 wan down
metallab exec other/r1 -- true
metallab stauts
$ metallab status demo
cd demo
```

```sh
echo 'never closed
```

```bash
metallab status demo
```

```checks
- { router: r1, session: r7 }
- { router: r1, route: 10.0.0.0/33 }
- { router: r1, sesion: r2 }
```

```checks
- { router: r1, session: r2 }
```

## Two

```sh wait
metallab up demo/other-lab.yaml
metallab up demo/broken.yaml
```
"#;
    insta::assert_snapshot!(
        errors(text)
            .iter()
            .map(|(at, message)| format!("{at}  {message}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_topology_with_errors_is_shown_in_its_own_file() {
    let text = GOOD.replace("demo/lab.yaml", "demo/broken.yaml");
    let errors = lint("bad", "bad.md", &text, &files()).unwrap_err();
    let rendered = crate::error_report::render_plain(&*errors);
    assert!(rendered.contains("[t/demo/broken.yaml:3:"), "{rendered}");
    assert!(
        rendered.contains("topology `demo/broken.yaml` is not valid (see its errors)"),
        "{rendered}"
    );
    assert!(
        rendered.ends_with("error: invalid tutorial bad.md: 3 errors\n"),
        "{rendered}"
    );
}

#[test]
fn needs_list_what_the_topologies_use() {
    let text = GOOD
        .replace("topology: demo/lab.yaml", "topology: bgp")
        .replace("needs: [docker]", "needs: [docker, minikube]")
        .replace("metallab up demo/grown.yaml", "metallab status bgp");
    let found: Vec<String> = errors(&text).into_iter().map(|(_, m)| m).collect();
    assert!(
        found.contains(&"`needs` does not list `kind`".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"no topology of the tutorial has a minikube cluster".to_string()),
        "{found:?}"
    );
}

#[test]
fn a_missing_front_matter_or_no_steps_is_said_plainly() {
    assert_eq!(
        errors("# Just a page\n\nNo steps.\n"),
        [
            (
                "bad.md:1:1".to_string(),
                "a tutorial starts with its front matter".to_string()
            ),
            (
                "bad.md:4:1".to_string(),
                "this tutorial has no steps".to_string()
            ),
        ]
    );
}

#[test]
fn a_step_renders_for_a_terminal_without_its_checks_and_hint() {
    let parsed = parse("demo", "demo.md", GOOD);
    let style = Style {
        width: 60,
        color: false,
    };
    let step = &parsed.tutorial.steps[0];
    let intro = render::markdown(GOOD, parsed.tutorial.intro.clone(), style);
    insta::assert_snapshot!(format!(
        "{intro}----\n{}",
        render::markdown(GOOD, step.body.clone(), style)
    ));
}

#[test]
fn long_paragraphs_and_lists_wrap_to_the_width() {
    let text = "A paragraph long enough that it has to be wrapped at least once here.\n\n\
                - first item that is long enough to wrap around as well\n- second\n\n\
                1. one\n2. two\n";
    insta::assert_snapshot!(render::markdown(
        text,
        0..text.len(),
        Style {
            width: 30,
            color: false
        }
    ));
}

fn sample_run() -> TutorialRun {
    let passed = CheckResult {
        name: "r1 session to r2 established".into(),
        kind: "session".into(),
        subject: Some("r1".into()),
        outcome: Outcome::Passed {
            after: Duration::from_millis(1200),
            attempts: 3,
            detail: "established".into(),
        },
    };
    let failed = CheckResult {
        name: "r1 session to r3 established".into(),
        kind: "session".into(),
        subject: Some("r1".into()),
        outcome: Outcome::Failed {
            after: Duration::from_secs(60),
            attempts: 600,
            reason: "r1 has no session with 10.220.9.4 (r3)".into(),
            evidence: "PEER  STATE\n10.220.9.3  established".into(),
        },
    };
    let command = |text: &str, code: i32| CommandRun {
        command: text.into(),
        ran: true,
        expected: ExpectedExit::Success,
        exit_code: Some(code),
        timed_out: false,
        took: Duration::from_millis(800),
        output: "some output\n".into(),
    };
    TutorialRun {
        tutorial: "demo".into(),
        lab: "demo".into(),
        steps: vec![
            StepRun {
                number: 1,
                title: "Look at the session".into(),
                status: StepStatus::Passed,
                took: Duration::from_millis(2100),
                commands: vec![command("metallab status demo", 0)],
                checks: vec![passed],
                failure: None,
                hint: Some("look closer".into()),
            },
            StepRun {
                number: 2,
                title: "Grow the lab".into(),
                status: StepStatus::Failed,
                took: Duration::from_secs(61),
                commands: vec![command("metallab up demo/grown.yaml", 0)],
                checks: vec![failed],
                failure: Some(
                    "1 of 1 checks did not pass; r1 session to r3 established: r1 has no session with 10.220.9.4 (r3)"
                        .into(),
                ),
                hint: Some("`metallab status demo` says which session is down".into()),
            },
            StepRun {
                number: 3,
                title: "Read on".into(),
                status: StepStatus::NotRun,
                took: Duration::ZERO,
                commands: vec![],
                checks: vec![],
                failure: None,
                hint: None,
            },
        ],
    }
}

#[test]
fn a_run_reads_step_by_step_for_people_scripts_and_ci() {
    let run = sample_run();
    assert!(!run.passed());
    insta::assert_snapshot!("human", report::human(&run, false));
    insta::assert_json_snapshot!("json", report::json(&run));
    insta::assert_snapshot!("junit", report::junit(&run));
}

#[test]
fn a_failed_command_is_the_step_s_failure_with_its_output() {
    let mut run = sample_run();
    let step = &mut run.steps[1];
    step.commands[0].exit_code = Some(2);
    step.checks.clear();
    step.failure = step.commands[0].problem();
    let text = report::human(&run, false);
    assert!(
        text.contains("  `metallab up demo/grown.yaml` exited 2\n    some output\n"),
        "{text}"
    );
}

#[test]
fn a_command_may_be_expected_to_fail_or_to_exit_anyhow() {
    let run = |expected, exit_code| CommandRun {
        command: "metallab status demo".into(),
        ran: true,
        expected,
        exit_code,
        timed_out: false,
        took: Duration::ZERO,
        output: String::new(),
    };
    assert!(run(ExpectedExit::Success, Some(0)).ok());
    assert!(!run(ExpectedExit::Success, Some(1)).ok());
    assert!(run(ExpectedExit::Failure, Some(1)).ok());
    assert!(!run(ExpectedExit::Failure, Some(0)).ok());
    assert!(run(ExpectedExit::Any, Some(1)).ok());
    assert!(run(ExpectedExit::Any, Some(0)).ok());
    assert!(!run(ExpectedExit::Any, None).ok(), "killed or timed out");
}

#[test]
fn every_tutorial_in_the_repository_is_built_in_with_all_its_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tutorials");
    let mut on_disk = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            on_disk.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    on_disk.sort();
    let mut built_in: Vec<String> = super::builtin::list()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    built_in.sort();
    assert_eq!(built_in, on_disk, "tutorials/*.md and builtin::TUTORIALS");
    for tutorial in super::builtin::list() {
        let folder = root.join(tutorial.name);
        let mut files = Vec::new();
        if folder.is_dir() {
            collect(&folder, &root, &mut files);
        }
        files.sort();
        let mut embedded: Vec<String> = tutorial.files.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, files, "the files of tutorials/{}/", tutorial.name);
    }
}

fn collect(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, root, out);
        } else {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

#[test]
fn unknown_tutorial_names_get_a_suggestion() {
    let error = super::builtin::get("bgp-basic").unwrap_err();
    assert!(
        error.help.starts_with("did you mean `bgp-basics`?"),
        "{}",
        error.help
    );
}
