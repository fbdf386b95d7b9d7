//! The first run through Tauri's IPC (mock runtime, the app's real
//! configuration and capability): no workstation until the set-up screen
//! is finished; a bad choice refused with the core's reason; then the
//! worklist, and the machine's locks held by the core.

use std::path::Path;

use common::invoke;
use overread_app::config::{ExportTo, SettingsPath};
use overread_core::api::{AiStatus, SetupView, Worklist};
use overread_core::setup::{Policy, SetupContext};
use serde_json::{Value, json};
use tauri::WebviewWindowBuilder;
use tauri::test::mock_builder;

mod common;

#[test]
fn the_first_run_opens_the_worklist_and_the_locks_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let studies = dir.path().join("studies");
    overread_core::demo::generate(&studies, 2, 256, 5).expect("phantoms");
    let models = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .canonicalize()
        .expect("models");
    let machine = dir.path().join("machine.json");
    std::fs::write(
        &machine,
        r#"{"read_first": true, "max_wait_minutes": 60, "locked": ["read_first"]}"#,
    )
    .expect("machine file");
    let context = SetupContext {
        policy: Policy::load(&machine).expect("policy"),
        settings_path: dir.path().join("config/settings.json"),
        audit_default: dir.path().join("data/audit.sqlite3"),
        audit_forced: None,
        bundled: Some(models),
        runtime: None,
    };
    let app = overread_app::configure_setup(mock_builder(), context)
        .manage(SettingsPath(dir.path().join("config/settings.json")))
        .manage(ExportTo::File(dir.path().join("export.csv")))
        .build(tauri::generate_context!())
        .expect("app");
    let w = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");

    let refused = invoke(&w, "worklist", json!({})).expect_err("no workstation yet");
    assert!(
        refused["message"]
            .as_str()
            .expect("message")
            .contains("not set up yet")
    );
    let view: SetupView =
        serde_json::from_value(invoke(&w, "setup_view", json!({})).expect("view")).expect("typed");
    assert!(view.defaults.read_first, "the machine's value");
    assert_eq!(view.policy.locked.len(), 1);

    let mut request = serde_json::to_value(&view.defaults).expect("json");
    request["sources"] = json!(["relative/folder"]);
    let e = invoke(&w, "finish_setup", json!({ "request": request.clone() })).expect_err("bad");
    assert_eq!(e["code"], "invalid_argument", "{e}");
    assert!(!dir.path().join("config/settings.json").exists());

    request["sources"] = json!([studies.display().to_string()]);
    request["read_first"] = json!(false);
    invoke(&w, "finish_setup", json!({ "request": request })).expect("set up");
    assert!(invoke(&w, "setup_view", json!({})).expect("none") == Value::Null);
    let again = invoke(&w, "try_demo", json!({})).expect_err("once only");
    assert!(
        again["message"]
            .as_str()
            .expect("m")
            .contains("already set up")
    );
    // Finishing started triage in the background; it ends before the test
    // does (ONNX Runtime must not be unloaded under a running session).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let list = loop {
        let list: Worklist =
            serde_json::from_value(invoke(&w, "worklist", json!({})).expect("worklist"))
                .expect("typed");
        let settled = !list.triage.running
            && list.rows.iter().all(|r| {
                !matches!(
                    r.ai,
                    AiStatus::Waiting | AiStatus::Queued | AiStatus::Running
                )
            });
        if settled || std::time::Instant::now() > deadline {
            break list;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(list.rows.len(), 2);
    assert!(!list.triage.running, "triage ends");

    let mut settings = invoke(&w, "get_settings", json!({})).expect("settings");
    assert_eq!(
        settings["read_first"], true,
        "the lock won over the request"
    );
    assert_eq!(
        settings["max_wait_minutes"], 60,
        "an unlocked machine default"
    );
    settings["read_first"] = json!(false);
    let e =
        invoke(&w, "save_settings", json!({ "settings": settings.clone() })).expect_err("locked");
    assert_eq!(e["code"], "settings");
    assert!(
        e["message"]
            .as_str()
            .expect("m")
            .contains("read_first is set by this machine's administrator")
    );
    settings["read_first"] = json!(true);
    settings["max_wait_minutes"] = json!(30);
    invoke(&w, "save_settings", json!({ "settings": settings })).expect("an unlocked change saves");
    let policy = invoke(&w, "settings_policy", json!({})).expect("policy");
    assert_eq!(policy["locked"], json!(["read_first"]));
}
