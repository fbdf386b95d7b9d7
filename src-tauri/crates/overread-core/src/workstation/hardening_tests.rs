//! The hardening tests (#12): audit writes the log refuses, settings
//! changes recorded, the per-file decode deadline, the model store.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::tests::{decision, fresh, workstation};
use super::*;
use crate::api::{AiStatus, ReaderIdentity};
use crate::triage::tests::fake_model;

/// Runs SQL on the audit file through another connection (Python's sqlite3:
/// the core does not know SQLite), as someone else on the machine could.
fn sql_from_outside(db: &Path, script: &str) {
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()")
        .arg(db)
        .arg(script)
        .status()
        .expect("python3");
    assert!(status.success());
}

/// A background audit write the log refuses (#12) is not dropped: it is
/// kept in memory with the time it happened, counted in the worklist's
/// audit health (status bar, Settings), and the study's result is not
/// shown (no flag, score or order) until it is written; a retry writes it
/// in order once the log takes writes again.
#[test]
fn refused_background_audit_writes_are_kept_and_retried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ws, _) = fresh(dir.path(), 3);
    let db = dir.path().join("audit.sqlite3");
    let changes = Arc::new(Mutex::new(Vec::new()));
    let seen = changes.clone();
    ws.set_listener(Arc::new(move |c: WorklistChange| {
        seen.lock().expect("lock").push(c);
    }));
    let (rows_before, _) = (ws.audit_recent(1000).expect("rows").len(), ());
    // The disk fills up (as SQLite reports it) after the log was opened.
    sql_from_outside(
        &db,
        "CREATE TRIGGER refuse BEFORE INSERT ON audit_events \
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
    );
    ws.run_triage_with(vec![fake_model()]);
    let w = ws.worklist();
    assert!(
        w.rows
            .iter()
            .all(|r| r.ai == AiStatus::Unrecorded && r.top_finding.is_none()),
        "{:?}",
        w.rows
    );
    assert_eq!(w.audit.unrecorded, 3.0);
    assert!(
        w.audit.error.as_deref().is_some_and(|e| e.contains("full")),
        "{:?}",
        w.audit
    );
    assert!(
        changes
            .lock()
            .expect("lock")
            .iter()
            .any(|c| c.audit.as_ref().is_some_and(|a| a.unrecorded > 0.0)),
        "the status bar was told"
    );
    let id = w.rows[0].id;
    assert!(
        ws.decide(id, &decision("confirm")).is_err(),
        "nothing to decide on yet"
    );
    ws.retry_audit();
    assert_eq!(ws.audit_health().unrecorded, 3.0, "still refused");

    // The disk has room again.
    sql_from_outside(&db, "DROP TRIGGER refuse;");
    ws.retry_audit();
    let w = ws.worklist();
    assert!(
        w.rows.iter().all(|r| r.ai == AiStatus::Flagged),
        "{:?}",
        w.rows
    );
    assert_eq!(w.audit, crate::api::AuditHealth::default());
    let rows = ws.audit_recent(1000).expect("rows");
    let inferred: Vec<_> = rows.iter().filter(|r| r.kind == "inference_run").collect();
    assert_eq!(inferred.len(), 3);
    assert_eq!(rows.len(), rows_before + 3);
    assert!(ws.verify().expect("verify").ok);
    assert!(
        changes
            .lock()
            .expect("lock")
            .last()
            .and_then(|c| c.audit.clone())
            .is_some_and(|a| a.unrecorded == 0.0),
        "the status bar was told it cleared"
    );
}

/// Every settings change that affects what a reader sees is recorded,
/// old → new, by whom, before it takes effect (#12); saving unchanged
/// settings records nothing; the start records the settings it runs with.
#[test]
fn settings_changes_are_audited_old_to_new() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workstation(dir.path(), false, 1);
    let changes = |ws: &Workstation| {
        ws.audit_recent(1000)
            .expect("rows")
            .iter()
            .filter(|r| r.kind == "settings_changed")
            .count()
    };
    ws.update_settings(ws.settings()).expect("unchanged");
    assert_eq!(changes(&ws), 0);
    let mut new = ws.settings();
    new.read_first = true;
    new.max_wait_minutes = 30;
    new.execution_provider = "cpu".into();
    ws.update_settings(new).expect("saved");
    assert_eq!(changes(&ws), 1);

    let log = crate::audit::open(&dir.path().join("audit.sqlite3")).expect("log");
    let (rows, _) = log.head().expect("head");
    let all = log.records(1, rows).expect("records");
    let start = all
        .iter()
        .find(|r| r.kind == EventKind::ApplicationStart)
        .and_then(|r| r.detail.clone())
        .expect("start");
    assert_eq!(start["settings"]["read_first"], false);
    let change = all
        .iter()
        .rev()
        .find(|r| r.kind == EventKind::SettingsChanged)
        .expect("change");
    assert_eq!(
        change.reader.as_ref().map(|r| r.id.clone()),
        Some(ReaderIdentity::operating_system_user().id)
    );
    let changed = &change.detail.as_ref().expect("detail")["changed"];
    assert_eq!(
        changed["read_first"],
        serde_json::json!({"old": false, "new": true})
    );
    assert_eq!(
        changed["max_wait_minutes"],
        serde_json::json!({"old": 120, "new": 30})
    );
    assert_eq!(
        changed["execution_provider"],
        serde_json::json!({"old": "auto", "new": "cpu"})
    );
    assert!(
        changed.get("sources").is_none(),
        "only what changed: {changed}"
    );
}

/// A study whose file stalls (here a FIFO put where the file was, as a hung
/// share behaves) is shown as an error once the per-file deadline passes,
/// in triage and in the viewer, and the rest of the worklist goes on (#12).
#[test]
fn a_study_past_the_decode_deadline_is_an_error_and_the_rest_go_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let studies = dir.path().join("studies");
    let files = crate::demo::generate(&studies, 3, 64, 2).expect("phantoms");
    let settings = Settings::demo(&studies, Path::new("unused-model"));
    let ws = Workstation::open_with(
        settings,
        &dir.path().join("audit.sqlite3"),
        None,
        Duration::from_millis(500),
    )
    .expect("open");
    let stalled = crate::deadline::tests::stalled_file(
        files[1].parent().expect("dir"),
        &files[1].file_name().expect("name").to_string_lossy(),
    );
    ws.run_triage_with(vec![fake_model()]);
    let rows = ws.worklist().rows;
    let failed: Vec<_> = rows.iter().filter(|r| r.ai == AiStatus::Error).collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert!(
        failed[0]
            .ai_message
            .as_deref()
            .is_some_and(|m| m.contains("took longer than")),
        "{failed:?}"
    );
    assert_eq!(rows.iter().filter(|r| r.ai == AiStatus::Flagged).count(), 2);
    let t0 = Instant::now();
    let err = ws.open_study(failed[0].id).expect_err("stalled");
    assert!(err.message.contains("took longer than"), "{err:?}");
    assert!(t0.elapsed() < Duration::from_secs(10));
    let fine = rows
        .iter()
        .find(|r| r.ai == AiStatus::Flagged)
        .expect("row")
        .id;
    ws.open_study(fine).expect("the viewer goes on");
    crate::deadline::tests::release(&stalled);
}

/// Settings pick among installed models only (#12): a folder the window
/// names is refused; `install` checks the checksum, copies the model into
/// the store and records who installed it; an installed version is never
/// replaced by different bytes.
#[test]
fn only_installed_models_can_be_chosen_and_installs_are_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workstation(dir.path(), false, 1);
    let mut any_folder = ws.settings();
    any_folder.model_dir = dir.path().join("somewhere").display().to_string();
    let err = ws.update_settings(any_folder).expect_err("not installed");
    assert!(err.message.contains("installed model"), "{err:?}");

    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo");
    let store = crate::models::store_for(&dir.path().join("audit.sqlite3"));
    let admin = Reader {
        id: "it1".into(),
        display_name: "IT".into(),
        role: "administrator".into(),
    };
    let mut log = crate::audit::open(&dir.path().join("audit.sqlite3")).expect("log");
    let m = crate::models::install(&demo, &store, &mut log, admin.clone(), "ws").expect("installs");
    assert_eq!(ws.installed_models(), vec![m.clone()]);
    let again = crate::models::install(&demo, &store, &mut log, admin.clone(), "ws");
    assert!(again.expect_err("twice").contains("already installed"));

    // A tampered copy (model.onnx changed, manifest not) is refused.
    let bad = dir.path().join("tampered");
    std::fs::create_dir_all(&bad).expect("mkdir");
    std::fs::copy(demo.join("manifest.toml"), bad.join("manifest.toml")).expect("copy");
    std::fs::write(bad.join("model.onnx"), b"not the model").expect("write");
    let refused = crate::models::install(&bad, &store, &mut log, admin, "ws");
    let refused = refused.expect_err("checksum");
    assert!(
        refused.contains("sha256") || refused.contains("SHA-256"),
        "{refused}"
    );
    drop(log);

    let mut chosen = ws.settings();
    chosen.model_dir = m.dir.clone();
    ws.update_settings(chosen).expect("an installed model");
    let rows = ws.audit_recent(1000).expect("rows");
    assert_eq!(
        rows.iter().filter(|r| r.kind == "model_installed").count(),
        1
    );
    assert!(rows.iter().any(|r| r.kind == "settings_changed"));
}

/// A clinical model not validated here scores but flags nothing, and the
/// worklist says so; the same weights as a demonstration model flag.
#[test]
fn a_clinical_model_not_validated_here_flags_nothing() {
    use crate::site::GoLive;
    for (clinical, flags, go_live) in [
        (true, false, GoLive::NotValidatedHere),
        (false, true, GoLive::Demonstration),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ws, _) = fresh(dir.path(), 3);
        let mut model = fake_model();
        model.manifest.clinical = clinical;
        ws.run_triage_with(vec![model]);
        let w = ws.worklist();
        let m = w.model.as_ref().expect("model");
        assert_eq!(m.go_live, go_live);
        let flagged = w.rows.iter().filter(|r| r.ai == AiStatus::Flagged).count();
        assert_eq!(flagged > 0, flags, "{:?}", w.rows);
        assert!(
            w.rows
                .iter()
                .all(|r| matches!(r.ai, AiStatus::Flagged | AiStatus::NoFlags)),
            "{:?}",
            w.rows
        );
    }
}
