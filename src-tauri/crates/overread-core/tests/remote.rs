//! The workstation with the department's inference server: triage runs the
//! model on a real Triton Inference Server (started by this test), each
//! result and its audit row name the server's model and version, and a
//! server that does not answer leaves the device to triage, saying so.

use std::path::Path;

use overread_core::api::{AiStatus, Settings};
use overread_core::workstation::Workstation;
use overread_remote::testing::{Triton, free_port};

fn demo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo")
}

/// The inference_run rows' execution providers and `served_by` details.
fn runs(db: &Path) -> Vec<(String, serde_json::Value)> {
    let log = overread_core::audit::open(db).expect("log");
    log.records(1, 1000)
        .expect("records")
        .into_iter()
        .filter(|r| r.kind.as_str() == "inference_run")
        .map(|r| {
            let detail = r.detail.unwrap_or_default();
            (
                r.execution_provider.unwrap_or_default(),
                detail["served_by"].clone(),
            )
        })
        .collect()
}

fn triage(dir: &Path, server: &str) -> (Vec<AiStatus>, Option<String>) {
    let studies = dir.join("studies");
    if !studies.exists() {
        overread_core::demo::generate(&studies, 3, 256, 5).expect("phantoms");
    }
    let mut settings = Settings::demo(&studies, &demo());
    settings.execution_provider = "cpu".into();
    settings.inference_server = Some(server.into());
    let ws = Workstation::open(settings, &dir.join("audit.sqlite3"), None).expect("open");
    ws.run_triage(1);
    let w = ws.worklist();
    let fallback = w.model.as_ref().and_then(|m| m.fallback.clone());
    (w.rows.iter().map(|r| r.ai).collect(), fallback)
}

#[test]
fn triage_on_the_server_is_recorded_with_its_model_and_version() {
    if Triton::python().is_none() || std::env::var_os("ORT_DYLIB_PATH").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Triton and ORT_DYLIB_PATH"
        );
        eprintln!("skipped: no .cache/venv-triton or ORT_DYLIB_PATH");
        return;
    }
    let triton = Triton::start(&demo(), "overread-demo-opacity");
    let dir = tempfile::tempdir().expect("tempdir");
    let (ai, fallback) = triage(dir.path(), &triton.url);
    assert!(
        ai.iter()
            .all(|a| matches!(a, AiStatus::Flagged | AiStatus::NoFlags)),
        "{ai:?}"
    );
    assert_eq!(fallback, None);
    let rows = runs(&dir.path().join("audit.sqlite3"));
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (ep, served) in &rows {
        assert_eq!(ep, "remote");
        assert_eq!(served["model"], "overread-demo-opacity");
        assert_eq!(served["version"], "1");
        assert_eq!(served["server"], triton.url.as_str());
    }

    // No server: the device triages, and the worklist says why.
    let other = tempfile::tempdir().expect("tempdir");
    let (ai, fallback) = triage(other.path(), &format!("http://127.0.0.1:{}", free_port()));
    assert!(
        ai.iter()
            .all(|a| matches!(a, AiStatus::Flagged | AiStatus::NoFlags)),
        "{ai:?}"
    );
    assert!(fallback.is_some_and(|f| f.contains("running on the device")));
    for (ep, served) in runs(&other.path().join("audit.sqlite3")) {
        assert_eq!(ep, "cpu (server down)");
        assert!(served.is_null());
    }
}
