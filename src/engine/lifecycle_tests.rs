//! `up` and `down` against the recording engine: what is created in which order, with
//! which labels, what a failed step rolls back, and what `down` removes.

use super::EngineError;
use super::down::remove_lab;
use super::recording::RecordingEngine;
use super::state_dir::StateDir;
use super::up::{UpOptions, UpOutcome, up};
use crate::cli::ProgressMode;
use crate::plan::{Plan, labels};
use crate::progress::Progress;

const LAB: &str = "\
name: unit
networks:
  lan: { subnet: 10.240.1.0/24 }
routers:
  h1: { kind: linux, interfaces: { lan: {} } }
  h2: { kind: linux, interfaces: { lan: {} } }
";

fn plan() -> Plan {
    let topology = crate::topology::load::parse_and_validate("unit.yaml", LAB).unwrap();
    crate::plan::build(&topology, "unit.yaml", std::path::Path::new(""))
}

/// `up` of the unit lab against `engine`.
async fn up_unit(engine: &RecordingEngine, state: &StateDir) -> Result<UpOutcome, EngineError> {
    up(
        engine,
        state,
        &Progress::new(ProgressMode::Never),
        &plan(),
        LAB,
        &UpOptions::for_tests(),
    )
    .await
}

fn position(calls: &[String], call: &str) -> usize {
    calls
        .iter()
        .position(|c| c == call)
        .unwrap_or_else(|| panic!("no `{call}` in {calls:#?}"))
}

#[tokio::test(start_paused = true)]
async fn up_creates_the_network_first_labels_everything_and_saves_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::resolve(Some(dir.path()));
    let engine = RecordingEngine::default();
    let outcome = up_unit(&engine, &state).await.unwrap();
    assert!(matches!(outcome, UpOutcome::Created { .. }));

    let calls = engine.calls();
    let network = position(&calls, "create_network metallab-unit-lan");
    // Routing inside the lab's bridge is allowed once the network exists.
    let routing = calls
        .iter()
        .position(|c| c.starts_with("allow_routing_within unit br-"))
        .expect("the lab's bridge is opened to routed traffic");
    assert!(network < routing);
    for router in ["metallab-unit-h1", "metallab-unit-h2"] {
        let create = position(&calls, &format!("create_container {router}"));
        let start = position(&calls, &format!("start_container {router}"));
        assert!(network < create && create < start, "{calls:#?}");
        assert_eq!(engine.labels_of(router)[labels::LAB], "unit");
    }
    assert_eq!(engine.network_names(), ["metallab-unit-lan"]);
    assert!(state.load_plan("unit").is_some(), "the plan is saved");
}

#[tokio::test(start_paused = true)]
async fn a_failed_step_rolls_back_everything_this_run_created() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::resolve(Some(dir.path()));
    let engine = RecordingEngine::failing_to_create("metallab-unit-h2");
    let result = up_unit(&engine, &state).await;
    let error = result.err().expect("up fails");
    assert!(
        error.to_string().contains("metallab-unit-h2"),
        "the error names what failed: {error}"
    );
    // The router that was created, the network and the saved plan are gone again.
    assert!(engine.container_names().is_empty(), "{:?}", engine.calls());
    assert!(engine.network_names().is_empty(), "{:?}", engine.calls());
    assert!(state.load_plan("unit").is_none());
    let calls = engine.calls();
    assert!(
        position(&calls, "remove_container metallab-unit-h1")
            < position(&calls, "remove_network metallab-unit-lan")
    );
}

#[tokio::test(start_paused = true)]
async fn down_removes_what_the_lab_labelled_containers_before_networks() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::resolve(Some(dir.path()));
    let engine = RecordingEngine::default();
    up_unit(&engine, &state).await.unwrap();
    engine.add_foreign_container("metallab-other-r1", &[(labels::LAB, "other")]);
    engine.add_foreign_container("someones-db", &[]);

    let removed = remove_lab(&engine, &state, "unit", None).await.unwrap();
    assert_eq!(removed.summary(), "removed 2 container(s), 1 network(s)");
    assert_eq!(
        engine.container_names(),
        ["metallab-other-r1", "someones-db"]
    );
    assert!(engine.network_names().is_empty());
    assert!(state.load_plan("unit").is_none());
    let calls = engine.calls();
    assert!(
        position(&calls, "remove_container metallab-unit-h2")
            < position(&calls, "remove_network metallab-unit-lan")
    );
    position(&calls, "remove_routing_rules unit");
}

/// The unit lab edited: h2 removed, h3 added on a new network wan, h1 attached to wan.
const EDITED: &str = "\
name: unit
networks:
  lan: { subnet: 10.240.1.0/24 }
  wan: { subnet: 10.240.2.0/24 }
routers:
  h1: { kind: linux, interfaces: { lan: {}, wan: {} } }
  h3: { kind: linux, interfaces: { wan: {} } }
";

#[tokio::test(start_paused = true)]
async fn up_of_an_edited_file_changes_the_running_lab_in_place_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::resolve(Some(dir.path()));
    let engine = RecordingEngine::default();
    up_unit(&engine, &state).await.unwrap();
    let before = engine.calls().len();

    let topology = crate::topology::load::parse_and_validate("unit.yaml", EDITED).unwrap();
    let edited = crate::plan::build(&topology, "unit.yaml", std::path::Path::new(""));
    let outcome = up(
        &engine,
        &state,
        &Progress::new(ProgressMode::Never),
        &edited,
        EDITED,
        &UpOptions::for_tests(),
    )
    .await
    .unwrap();
    assert!(matches!(outcome, UpOutcome::Changed { .. }));

    let calls = engine.calls()[before..].to_vec();
    let wan = position(&calls, "create_network metallab-unit-wan");
    let h1_on_wan = position(&calls, "connect_network metallab-unit-h1 metallab-unit-wan");
    let h2_gone = position(&calls, "remove_container metallab-unit-h2");
    let h3 = position(&calls, "create_container metallab-unit-h3");
    // The network exists before anything attaches to it; what goes goes before what comes.
    assert!(wan < h1_on_wan && wan < h3, "{calls:#?}");
    assert!(h2_gone < h3, "{calls:#?}");
    assert!(
        !calls
            .iter()
            .any(|c| c.starts_with("create_container metallab-unit-h1")
                || c.starts_with("remove_container metallab-unit-h1")),
        "h1 stays: {calls:#?}"
    );
    assert_eq!(
        engine.container_names(),
        ["metallab-unit-h1", "metallab-unit-h3"]
    );
    let saved = state.load_plan("unit").unwrap();
    assert!(saved.router("h3").is_some() && saved.router("h2").is_none());
}
