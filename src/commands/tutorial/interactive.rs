//! `metallab tutorial start`: a tutorial step by step in the terminal.
//!
//! Brings the lab up if it is not, shows the step (rendered Markdown, its commands), then
//! polls the step's checks about once a second while the reader runs the commands in
//! another terminal (or presses `r`). A step is done once its checks pass after having
//! failed; a step whose checks already pass when it is shown waits for `n`, so the reader
//! still reads it. A step without checks is done on `n`. When a step has not passed
//! within its longest check timeout, what is off is shown once (the failing checks'
//! reasons and evidence) with the step's hint; `h` shows it at any time. `q` (or Ctrl-C)
//! leaves; progress is kept in the lab's state (`<state-dir>/labs/<lab>/tutorial.json`),
//! so the next `start` resumes at the step left. Keys are single presses on a terminal
//! (raw mode); elsewhere they are read as lines.

use super::{Failure, GlobalOpts, Prepared, Result, TutorialSource, bring_up, prepare, shell_run};
use crate::check::evaluate::Verdict;
use crate::check::text::{elapsed, indent};
use crate::engine::check_runner::evaluate_round;
use crate::engine::cluster_side::ClusterLink;
use crate::engine::probe::DockerProbe;
use crate::engine::state_dir::StateDir;
use crate::plan::{Plan, PlannedCheck};
use crate::progress::Progress;
use crate::runtime::docker::DockerRuntime;
use crate::tutorial::render::{self, Style};
use crate::tutorial::{Linted, Step};
use serde::{Deserialize, Serialize};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How often a step's checks are evaluated.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How long one evaluation of a step's checks may take.
const ROUND_TIMEOUT: Duration = Duration::from_secs(15);

/// Ctrl-C as a key in raw mode.
const CTRL_C: u8 = 3;

/// Where the reader is in a tutorial, kept in the lab's state directory.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Place {
    tutorial: String,
    /// The step to show next (1-based); past the last one when the tutorial is done.
    step: usize,
}

fn place_file(state: &StateDir, lab: &str) -> PathBuf {
    state.lab_dir(lab).join("tutorial.json")
}

fn load_place(state: &StateDir, lab: &str, tutorial: &str) -> Option<usize> {
    let text = std::fs::read(place_file(state, lab)).ok()?;
    let place: Place = serde_json::from_slice(&text).ok()?;
    (place.tutorial == tutorial).then_some(place.step)
}

fn save_place(state: &StateDir, lab: &str, tutorial: &str, step: usize) -> Result<()> {
    let path = place_file(state, lab);
    let place = Place {
        tutorial: tutorial.to_string(),
        step,
    };
    let written = std::fs::create_dir_all(state.lab_dir(lab)).and_then(|()| {
        std::fs::write(
            &path,
            serde_json::to_vec_pretty(&place).expect("serializes"),
        )
    });
    written.map_err(|e| {
        Failure::msg(
            format!(
                "cannot keep the tutorial's progress in {}: {e}",
                path.display()
            ),
            "check --state-dir / METALLAB_STATE_DIR",
        )
    })
}

/// The terminal: raw keys and `\r\n` line ends on a terminal, plain lines elsewhere.
struct Screen {
    raw: bool,
    style: Style,
}

impl Screen {
    fn open(color: bool) -> Screen {
        let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        let raw = terminal && crossterm::terminal::enable_raw_mode().is_ok();
        let width = terminal_size::terminal_size_of(std::io::stdout())
            .map_or(100, |(w, _)| usize::from(w.0))
            .min(100);
        Screen {
            raw,
            style: Style {
                width,
                color: color && std::io::stdout().is_terminal(),
            },
        }
    }

    fn print(&self, text: &str) {
        let text = if self.raw {
            text.replace('\n', "\r\n")
        } else {
            text.to_string()
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    }

    fn line(&self, text: &str) {
        self.print(&format!("{text}\n"));
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.style.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if self.raw {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// Keys, one byte each, from a thread reading stdin; closed at its end.
fn keys() -> mpsc::UnboundedReceiver<u8> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut byte = [0u8; 1];
        while let Ok(1) = stdin.read(&mut byte) {
            if tx.send(byte[0]).is_err() {
                break;
            }
        }
    });
    rx
}

/// How a step ended.
enum StepEnd {
    Done,
    Quit,
}

pub async fn start(
    g: &GlobalOpts,
    state: &StateDir,
    progress: &Progress,
    source: &TutorialSource,
) -> Result<()> {
    let Prepared {
        linted,
        workdir,
        rt,
        lab_exists,
    } = prepare(g, state, source).await?;
    let lab = linted.lab.clone();
    let running = lab_exists && state.load_plan(&lab).is_some();
    if !running {
        progress.println(format!(
            "bringing up lab {lab} for tutorial {}",
            source.argument
        ));
        bring_up(g, state, progress, &rt, &linted, &workdir).await?;
    }
    let total = linted.tutorial.steps.len();
    let saved = load_place(state, &lab, &source.name);
    let first = match saved {
        Some(step) if (1..=total).contains(&step) => step,
        _ => 1,
    };
    let screen = Screen::open(super::super::color_stdout(g));
    let mut keys = keys();
    header(&screen, &linted, &workdir, saved, first);
    let env = shell_run::CommandEnv::new(&workdir, state.root(), g.offline);
    let session = Session {
        screen: &screen,
        state,
        rt: &rt,
        linted: &linted,
        env: &env,
    };
    for step in &linted.tutorial.steps[first - 1..] {
        save_place(state, &lab, &source.name, step.number)?;
        match session.step(step, &mut keys).await? {
            StepEnd::Done => {}
            StepEnd::Quit => {
                screen.line(&format!(
                    "\nLeft at step {}/{total}. Resume with: metallab tutorial start {}\nThe lab stays up; remove it with: metallab down {lab}",
                    step.number, source.argument
                ));
                return Ok(());
            }
        }
    }
    save_place(state, &lab, &source.name, total + 1)?;
    screen.line(&format!(
        "\n{} You finished {}.\nRemove the lab with: metallab down {lab}",
        screen.paint("32", "✔"),
        linted.tutorial.front.title
    ));
    Ok(())
}

fn header(screen: &Screen, linted: &Linted, workdir: &Path, saved: Option<usize>, first: usize) {
    let tutorial = &linted.tutorial;
    let lab = &linted.lab;
    screen.line(&screen.paint("1", &tutorial.front.title));
    screen.line(&format!(
        "lab {lab} · {} steps · about {}\nRun the commands from {}\nWatch the lab live in another terminal: metallab spy {lab}\nKeys: r run the step's commands here · h what is off · n next (steps without checks) · q quit\n",
        tutorial.steps.len(),
        tutorial.front.duration,
        workdir.display()
    ));
    match saved {
        Some(step) if step == first && first > 1 => screen.line(&format!(
            "Resuming at step {first} (progress kept in lab {lab}'s state)."
        )),
        Some(step) if step > tutorial.steps.len() => {
            screen.line("You finished this tutorial on this lab before; starting over.\n")
        }
        _ => screen.print(&render::markdown(
            &tutorial.text,
            tutorial.intro.clone(),
            screen.style,
        )),
    }
}

/// One tutorial session's shared parts.
struct Session<'a> {
    screen: &'a Screen,
    state: &'a StateDir,
    rt: &'a DockerRuntime,
    linted: &'a Linted,
    env: &'a shell_run::CommandEnv,
}

impl Session<'_> {
    async fn step(&self, step: &Step, keys: &mut mpsc::UnboundedReceiver<u8>) -> Result<StepEnd> {
        let screen = self.screen;
        let total = self.linted.tutorial.steps.len();
        screen.line(&format!(
            "\n{}\n",
            screen.paint(
                "1;36",
                &format!("Step {}/{total} · {}", step.number, step.title)
            )
        ));
        screen.print(&render::markdown(
            &self.linted.tutorial.text,
            step.body.clone(),
            screen.style,
        ));
        let checks = self.linted.step_checks(step);
        if checks.is_empty() {
            screen.line("\nNothing to check in this step: press n to go on (r runs its commands).");
        } else {
            screen.line("\nWhat must be true (checked every second):");
        }
        let stall = checks
            .iter()
            .map(|c| c.timeout)
            .max()
            .unwrap_or(crate::plan::DEFAULT_CHECK_TIMEOUT);
        let mut waiting_since = Instant::now();
        let mut told_what_is_off = false;
        let mut last: Vec<Option<Verdict>> = vec![None; checks.len()];
        // Done once the checks pass after the reader did something: they were seen
        // failing, or the reader ran the commands here.
        let mut acted = false;
        let mut probe_plan: Option<Plan> = None;
        let mut cluster: Option<ClusterLink> = None;
        let mut tick = tokio::time::interval(POLL_INTERVAL);
        loop {
            tokio::select! {
                key = keys.recv() => match key {
                    None | Some(b'q' | b'Q' | CTRL_C) => return Ok(StepEnd::Quit),
                    Some(b'r' | b'R') => {
                        self.run_commands(step).await;
                        acted = true;
                        waiting_since = Instant::now();
                        told_what_is_off = false;
                    }
                    Some(b'h' | b'H') => self.what_is_off("What is off:", step, &checks, &last),
                    Some(b'n' | b'N') if checks.is_empty() || last.iter().all(passed) && last.iter().all(Option::is_some) => {
                        return Ok(StepEnd::Done);
                    }
                    Some(b'n' | b'N') => screen.line("Not yet: this step's checks do not pass (h shows what is off)."),
                    _ => {}
                },
                _ = tick.tick(), if !checks.is_empty() => {
                    // The plan as the last `up` saved it: a step's `metallab up FILE` may
                    // have changed the lab.
                    let Some(plan) = self.state.load_plan(&self.linted.lab) else {
                        screen.line(&format!("lab {} is not running any more; start the tutorial again to bring it up", self.linted.lab));
                        return Ok(StepEnd::Quit);
                    };
                    if probe_plan.as_ref() != Some(&plan) {
                        cluster = Some(ClusterLink::connect(self.rt, self.state, &plan).await);
                        probe_plan = Some(plan);
                    }
                    let plan = probe_plan.as_ref().expect("set above");
                    let link = cluster.clone().expect("set with the plan");
                    let probe = DockerProbe::new(self.rt, plan, link);
                    let verdicts = evaluate_round(&probe, &checks, ROUND_TIMEOUT).await;
                    let first_round = last.iter().all(Option::is_none);
                    for ((check, verdict), before) in checks.iter().zip(&verdicts).zip(&mut last) {
                        let changed = before.as_ref().is_none_or(|b| passed_now(b) != passed_now(verdict));
                        if changed {
                            screen.line(&self.verdict_line(check, verdict));
                        }
                        *before = Some(verdict.clone());
                    }
                    let all = verdicts.iter().all(passed_now);
                    if !all {
                        acted = true;
                    } else if acted {
                        screen.line(&format!(
                            "{} Step {} done: {}",
                            screen.paint("32", "✔"),
                            step.number,
                            step.title
                        ));
                        return Ok(StepEnd::Done);
                    } else if first_round {
                        screen.line("These already hold: press n to go on (r runs the step's commands anyway).");
                    }
                    if !all && !told_what_is_off && waiting_since.elapsed() >= stall {
                        let heading = format!("This step has not passed after {}. What is off:", elapsed(stall));
                        self.what_is_off(&heading, step, &checks, &last);
                        told_what_is_off = true;
                    }
                }
            }
        }
    }

    fn verdict_line(&self, check: &PlannedCheck, verdict: &Verdict) -> String {
        match verdict {
            Verdict::Pass { .. } => format!("  {} {}", self.screen.paint("32", "✔"), check.name),
            Verdict::Fail { reason, .. } => {
                format!(
                    "  {} {}: {reason}",
                    self.screen.paint("31", "✘"),
                    check.name
                )
            }
        }
    }

    /// Under `heading`, the failing checks with their evidence, and the step's hint.
    fn what_is_off(
        &self,
        heading: &str,
        step: &Step,
        checks: &[PlannedCheck],
        last: &[Option<Verdict>],
    ) {
        let screen = self.screen;
        screen.line(&format!("\n{heading}"));
        let mut any = false;
        for (check, verdict) in checks.iter().zip(last) {
            if let Some(Verdict::Fail { reason, evidence }) = verdict {
                any = true;
                screen.line(&format!(
                    "{} {}\n  {reason}",
                    screen.paint("31", "✘"),
                    check.name
                ));
                if !evidence.trim().is_empty() {
                    screen.line(&indent(evidence.trim_end(), "    "));
                }
            }
        }
        if !any {
            screen.line("Nothing is off that the checks can see.");
        }
        let hint = step.hint.clone().unwrap_or_else(|| {
            format!(
                "run the step's commands (r runs them here), then look: metallab status {}",
                self.linted.lab
            )
        });
        screen.line(&format!("{} {hint}", screen.paint("36", "hint:")));
    }

    /// Runs the step's commands (not the `no-run` ones), showing their output.
    async fn run_commands(&self, step: &Step) {
        let screen = self.screen;
        let mut any = false;
        for (block, command) in step.runnable() {
            any = true;
            screen.line(&screen.paint("1", &format!("$ {}", command.text)));
            let ran = shell_run::run(self.env, block, command, |line| {
                screen.line(&format!("  {line}"))
            })
            .await;
            if let Some(problem) = ran.problem() {
                screen.line(&format!("{} {problem}", screen.paint("31", "✘")));
                return;
            }
        }
        if !any {
            screen.line("This step has no command metallab runs: run them yourself.");
        }
    }
}

fn passed_now(verdict: &Verdict) -> bool {
    matches!(verdict, Verdict::Pass { .. })
}

fn passed(verdict: &Option<Verdict>) -> bool {
    verdict.as_ref().is_some_and(passed_now)
}
