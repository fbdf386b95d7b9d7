//! The command layer through Tauri's IPC (mock runtime, the app's real
//! configuration and capability), over a real workstation: phantoms on disk,
//! a real SQLite audit log, and the demo model on the real ONNX Runtime when
//! `ORT_DYLIB_PATH` is set (scripts/test.sh sets it).

use std::path::Path;
use std::sync::Arc;

use overread_app::config::{ExportTo, SettingsPath};
use overread_core::api::{
    AuditEntry, ChainStatus, DecisionView, EarlierAssessment, ExportResult, GovernanceView,
    ResultsView, Settings, StudyView, Worklist,
};
use overread_core::workstation::Workstation;
use serde_json::{Value, json};
use tauri::test::{MockRuntime, mock_builder};
use tauri::{WebviewWindow, WebviewWindowBuilder};

mod common;

struct Fixture {
    _dir: tempfile::TempDir,
    window: WebviewWindow<MockRuntime>,
    ws: Arc<Workstation>,
    export_to: std::path::PathBuf,
}

fn fixture(with_model: bool) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let studies = dir.path().join("studies");
    overread_core::demo::generate(&studies, 3, 256, 11).expect("phantoms");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo");
    let settings = Settings::demo(&studies, &model);
    let ws = Arc::new(
        Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("workstation"),
    );
    if with_model {
        ws.run_triage(1);
    }
    // Whoever starts the app fixes the export file (the dialog's answer).
    let export_to = dir.path().join("export.csv");
    let app = overread_app::configure(mock_builder(), ws.clone())
        .manage(SettingsPath(dir.path().join("settings.json")))
        .manage(ExportTo::File(export_to.clone()))
        .build(tauri::generate_context!())
        .expect("app");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    Fixture {
        _dir: dir,
        window,
        ws,
        export_to,
    }
}

fn invoke(f: &Fixture, cmd: &str, args: Value) -> Result<Value, Value> {
    common::invoke(&f.window, cmd, args)
}

fn ok<T: serde::de::DeserializeOwned>(r: Result<Value, Value>) -> T {
    serde_json::from_value(r.expect("command succeeds")).expect("typed result")
}

/// The error code of a failed command (every failure is an ApiError).
fn code(r: Result<Value, Value>) -> String {
    r.expect_err("command fails")["code"]
        .as_str()
        .expect("an ApiError with a code")
        .to_string()
}

fn have_runtime() -> bool {
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        eprintln!(
            "ORT_DYLIB_PATH unset: the model half of this test is skipped (scripts/test.sh sets it)"
        );
        return false;
    }
    true
}

#[test]
fn arguments_are_validated_before_the_core_is_called() {
    let f = fixture(false);
    assert_eq!(
        code(invoke(&f, "open_study", json!({"id": "../x"}))),
        "invalid_argument"
    );
    assert_eq!(
        code(invoke(&f, "open_study", json!({"id": "s999"}))),
        "unknown_study"
    );
    // The webview names no path: one it sends anyway is not an argument,
    // and the export goes where the app's dialog (here, its starter) says.
    let page_path = f.export_to.with_file_name("chosen-by-the-page.csv");
    let e: Option<ExportResult> = ok(invoke(
        &f,
        "export_audit",
        json!({"path": page_path, "deidentify": false}),
    ));
    assert_eq!(e.map(|e| e.path), Some(f.export_to.display().to_string()));
    assert!(!page_path.exists());
    let bad_settings = json!({"settings": {
        "sources": ["relative/folder"], "model_dir": "m", "execution_provider": "auto",
        "reader": {"id": "r", "display_name": "R", "role": "radiologist"},
        "read_first": false, "max_wait_minutes": 60}});
    assert_eq!(
        code(invoke(&f, "save_settings", bad_settings)),
        "invalid_argument"
    );
    let bad_pacs = json!({"settings": {
        "sources": [], "model_dir": "m", "execution_provider": "auto",
        "reader": {"id": "r", "display_name": "R", "role": "radiologist"},
        "read_first": false, "max_wait_minutes": 60, "pacs_config": "pacs.toml"}});
    assert_eq!(
        code(invoke(&f, "save_settings", bad_pacs)),
        "invalid_argument"
    );
    let w: Worklist = ok(invoke(&f, "worklist", json!({})));
    assert_eq!(w.rows.len(), 3);
    assert!(w.sources.is_empty());
    // The demonstration model: labelled as one, no report to accept.
    let site: Value = ok(invoke(&f, "model_site", json!({})));
    assert_eq!(site["go_live"], "demonstration");
    assert_eq!(site["state"]["accepted"], Value::Null);
    assert_eq!(site["accepting_roles"][0], "radiologist");
}

/// A PACS named in the settings that does not answer (a closed loopback
/// port): the source is shown offline with the reason, and the local
/// studies stay on the worklist.
#[test]
fn a_pacs_that_does_not_answer_is_shown_offline() {
    let f = fixture(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let config = dir.path().join("pacs.toml");
    std::fs::write(
        &config,
        format!(
            "[cache]\ndir = {:?}\n[[source]]\nname = \"pacs\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:{closed}/dicom-web\"\nmax_retries = 0\n[source.timeouts]\nconnect_s = 2\n",
            dir.path().join("cache")
        ),
    )
    .expect("config");
    let mut settings = serde_json::to_value(f.ws.settings()).expect("settings");
    settings["pacs_config"] = json!(config.display().to_string());
    let saved: Settings = ok(invoke(&f, "save_settings", json!({ "settings": settings })));
    assert_eq!(saved.pacs_config, Some(config.display().to_string()));
    ok::<Value>(invoke(&f, "refresh_sources", json!({})));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let w = loop {
        let w: Worklist = ok(invoke(&f, "worklist", json!({})));
        if w.sources
            .first()
            .is_some_and(|s| s.state == overread_core::api::SourceState::Offline)
        {
            break w;
        }
        assert!(std::time::Instant::now() < deadline, "{:?}", w.sources);
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let msg = w.sources[0].message.clone().unwrap_or_default();
    assert!(msg.contains("pacs: cannot connect"), "{msg}");
    assert_eq!(w.rows.len(), 3);
}

#[test]
fn open_decide_verify_export_through_ipc() {
    if !have_runtime() {
        return;
    }
    let f = fixture(true);
    let w: Worklist = ok(invoke(&f, "worklist", json!({})));
    assert!(w.model_error.is_none(), "{:?}", w.model_error);
    let model = w.model.as_ref().expect("model loaded");
    assert!(!model.clinical, "the demo model says it is not clinical");
    let top = &w.rows[0];
    let study: StudyView = ok(invoke(&f, "open_study", json!({"id": top.id})));
    assert_eq!(study.image.width, 256);
    let finding = study.findings.first().expect("a finding").label.clone();

    // A finding the AI never reported is refused; a real one is recorded.
    let bad = json!({"id": top.id, "request": {"finding": "fracture", "decision": "confirm",
        "region": null, "reason": null, "display_ms": 1200.0}});
    assert_eq!(code(invoke(&f, "decide", bad)), "unknown_finding");
    // Not signed off while a flagged finding is undecided (a typed error).
    if study.findings.iter().any(|f| f.flagged) {
        assert_eq!(
            code(invoke(&f, "sign_off", json!({"id": top.id}))),
            "results"
        );
    }
    let req = json!({"id": top.id, "request": {"finding": finding, "decision": "dismiss",
        "region": null, "reason": "artefact", "display_ms": 1500.0}});
    let d: DecisionView = ok(invoke(&f, "decide", req));
    let signed: ResultsView = ok(invoke(&f, "sign_off", json!({"id": top.id})));
    assert_eq!(signed.signed_off, 1);
    // The command starts the outbox's sender; the local results folder takes them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let w: Worklist = ok(invoke(&f, "worklist", json!({})));
        let row = w.rows.iter().find(|r| r.id == top.id).expect("row");
        if row.results.state == overread_core::api::ResultsState::Sent {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "results not sent: {row:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let earlier: Vec<EarlierAssessment> =
        ok(invoke(&f, "earlier_assessments", json!({"id": top.id})));
    assert_eq!(earlier.len(), 1);
    assert_eq!(earlier[0].findings[0].assessment, "rejected");
    assert_eq!(d.decision, "dismiss");
    assert_eq!(d.row_hash.len(), 64);

    let recent: Vec<AuditEntry> = ok(invoke(&f, "audit_recent", json!({"limit": 50})));
    assert!(recent[0].seq > d.seq, "newest first");
    assert_eq!(recent[0].kind, "results_stored");
    assert!(
        recent
            .iter()
            .any(|r| r.seq == d.seq && r.kind == "decision")
    );
    let chain: ChainStatus = ok(invoke(&f, "verify_chain", json!({})));
    assert!(chain.ok, "{chain:?}");

    let out = f.export_to.clone();
    let e: Option<ExportResult> = ok(invoke(&f, "export_audit", json!({"deidentify": true})));
    let e = e.expect("exported");
    assert!(e.deidentified && e.rows >= chain.rows);
    let csv = std::fs::read_to_string(&out).expect("export written");
    assert!(csv.contains(",dismiss,"));
    assert!(
        !csv.contains(&top.patient_id),
        "de-identified export has no patient id"
    );

    // Governance over this workstation's log: the decision just made, under
    // the model that flagged it; the department needs a store; dates are
    // checked; the report is saved where the app's dialog (here the
    // kiosk path) says.
    let today = overread_core::audit_log::now_rfc3339()[..10].to_string();
    let request = json!({"request": {"scope": "workstation", "from": today, "to": today}});
    let g: GovernanceView = ok(invoke(&f, "governance", request.clone()));
    assert_eq!(g.models.len(), 1, "{g:?}");
    assert_eq!(g.models[0].decisions, 1.0, "{g:?}");
    assert_eq!(
        code(invoke(
            &f,
            "governance",
            json!({"request": {"scope": "department", "from": today, "to": today}})
        )),
        "invalid_argument"
    );
    assert_eq!(
        code(invoke(
            &f,
            "governance",
            json!({"request": {"scope": "workstation", "from": "2026-12-31", "to": "2026-01-01"}})
        )),
        "invalid_argument"
    );
    let saved: Option<String> = ok(invoke(&f, "save_governance_report", request));
    let html = std::fs::read_to_string(saved.expect("saved")).expect("report written");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("section class=\"model\""));

    // Heatmap bytes come through the scheme, not JSON: the core serves them
    // registered to the image grid.
    let heat = f.ws.heatmap(top.id, &finding).expect("heatmap");
    assert_eq!(heat.len(), 256 * 256);
}

/// The drop handler's entry point: a folder added joins the worklist, its
/// second image is served, the settings file keeps it; removed, it leaves.
#[test]
fn a_dropped_folder_joins_the_worklist_and_leaves_when_removed() {
    let f = fixture(false);
    let dropped = f._dir.path().join("dropped");
    overread_core::demo::generate_priors(&dropped, 1, 128, 5).expect("priors");
    let added: Vec<overread_core::api::SourceAdded> = ok(invoke(
        &f,
        "add_sources",
        json!({"paths": [dropped.display().to_string()]}),
    ));
    assert_eq!(added[0].studies, 3);
    let w: Worklist = ok(invoke(&f, "worklist", json!({})));
    assert_eq!(w.rows.len(), 6);
    let saved = std::fs::read_to_string(f._dir.path().join("settings.json")).expect("saved");
    assert!(saved.contains("dropped"), "{saved}");
    let latest = w
        .rows
        .iter()
        .find(|r| r.accession == "OVRPRI1013")
        .expect("the latest study");
    // The priors of a local study: found on the worklist, no PACS asked.
    let priors: overread_core::api::StudyPriors = ok(invoke(
        &f,
        "find_priors",
        json!({"id": latest.id, "prior": null}),
    ));
    assert_eq!(priors.priors.len(), 2, "{priors:?}");
    assert!(priors.problems.is_empty());
    let again: overread_core::api::StudyPriors =
        ok(invoke(&f, "study_priors", json!({"id": latest.id})));
    assert_eq!(again.priors, priors.priors);
    assert_eq!(
        code(invoke(
            &f,
            "find_priors",
            json!({"id": priors.priors[0].id, "prior": latest.id}),
        )),
        "invalid_argument",
        "a later study is no prior"
    );
    let lateral: overread_core::api::ImageGeometry = ok(invoke(
        &f,
        "open_image",
        json!({"id": latest.id, "image": 1}),
    ));
    assert_eq!((lateral.width, lateral.height), (128, 128));
    assert_eq!(
        code(invoke(&f, "add_sources", json!({"paths": []}))),
        "invalid_argument"
    );
    ok::<Value>(invoke(
        &f,
        "remove_source",
        json!({"path": dropped.display().to_string()}),
    ));
    let w: Worklist = ok(invoke(&f, "worklist", json!({})));
    assert_eq!(w.rows.len(), 3);
    assert_eq!(f.ws.settings().sources.len(), 1);
}
