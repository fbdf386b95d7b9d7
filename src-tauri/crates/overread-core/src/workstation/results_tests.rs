//! Sign-off, the outbox and reading results back (#14), on local studies.
//! The PACS path is tested against a real Orthanc in overread-cli/tests.

use super::tests::{decision, workstation};
use super::*;
use crate::api::ResultsState;

fn kinds(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn audit_kinds(ws: &Workstation) -> Vec<String> {
    ws.audit_recent(50)
        .expect("audit")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[test]
fn a_signed_off_study_reaches_the_results_folder_and_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workstation(dir.path(), false, 1);
    let mut settings = ws.settings();
    settings.reader.display_name = "Demo Reader".into();
    ws.update_settings(settings).expect("the reader's name");
    let id = ws.worklist().rows[0].id;
    let refused = ws.sign_off(id).expect_err("a flagged finding is undecided");
    assert_eq!(refused.code, ErrorCode::Results);
    assert!(
        refused.message.contains("decide every flagged finding"),
        "{refused}"
    );
    assert!(!ws.open_study(id).expect("open").can_sign_off);

    ws.decide(id, &decision("confirm")).expect("decided");
    assert!(ws.open_study(id).expect("open").can_sign_off);
    let view = ws.sign_off(id).expect("signed off");
    assert_eq!((view.state, view.signed_off), (ResultsState::Queued, 1));
    let outbox = dir.path().join("outbox");
    let entries = kinds(&outbox);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        kinds(&outbox.join(&entries[0])),
        ["entry.json", "gsps.dcm", "pm_opacity.dcm", "sr.dcm"]
    );
    assert_eq!(audit_kinds(&ws)[0], "results_signed_off");

    assert_eq!(ws.send_results(), 1);
    assert!(kinds(&outbox).is_empty(), "the entry leaves once stored");
    assert_eq!(audit_kinds(&ws)[0], "results_stored");
    let row = ws.worklist().rows[0].clone();
    assert_eq!(row.results.state, ResultsState::Sent);
    let results = dir.path().join("results");
    let study_dirs = kinds(&results);
    assert_eq!(study_dirs.len(), 1);
    assert_eq!(kinds(&results.join(&study_dirs[0])).len(), 3);

    let earlier = ws.earlier_assessments(id).expect("read back");
    assert_eq!(earlier.len(), 1);
    assert_eq!(earlier[0].reader, "READER, Demo");
    assert_eq!(earlier[0].findings.len(), 1);
    assert_eq!(earlier[0].findings[0].label, "opacity");
    assert_eq!(earlier[0].findings[0].assessment, "accepted");
    assert_eq!(earlier[0].findings[0].flagged, Some(true));

    // A correction: dismissed now; a second report names the first.
    ws.decide(
        id,
        &DecisionRequest {
            reason: Some("artefact".into()),
            ..decision("dismiss")
        },
    )
    .expect("decided");
    ws.sign_off(id).expect("signed off again");
    assert_eq!(ws.send_results(), 1);
    let earlier = ws.earlier_assessments(id).expect("read back");
    assert_eq!(earlier.len(), 2, "{earlier:?}");
    let correction = earlier
        .iter()
        .find(|e| !e.corrects.is_empty())
        .expect("the correction names its predecessor");
    assert!(
        earlier
            .iter()
            .any(|e| correction.corrects == [e.sop_instance_uid.clone()])
    );
    assert_eq!(correction.findings[0].assessment, "rejected");
    assert_eq!(correction.findings[0].reason.as_deref(), Some("artefact"));

    // The state is the audit log's: it survives a restart.
    drop(ws);
    let again = workstation(dir.path(), false, 1);
    let row = again.worklist().rows[0].clone();
    assert_eq!(
        (row.results.state, row.results.signed_off),
        (ResultsState::Sent, 2)
    );
}

#[test]
fn results_wait_in_the_outbox_while_they_cannot_be_written_and_go_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workstation(dir.path(), false, 1);
    // A file where the results folder should be: every write fails.
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, b"not a folder").expect("file");
    let mut settings = ws.settings();
    settings.results_folder = Some(blocked.join("results").display().to_string());
    ws.update_settings(settings).expect("settings");
    let id = ws.worklist().rows[0].id;
    ws.decide(id, &decision("confirm")).expect("decided");
    ws.sign_off(id).expect("signed off");
    assert_eq!(ws.send_results(), 0);
    let row = ws.worklist().rows[0].clone();
    assert_eq!(row.results.state, ResultsState::Failed);
    assert!(
        row.results
            .message
            .as_deref()
            .is_some_and(|m| m.contains("cannot write")),
        "{row:?}"
    );
    // Backoff: not tried again at once.
    assert_eq!(ws.send_results(), 0);
    drop(ws);

    // After a restart the entry is still waiting; with a folder it goes, once.
    let ws = workstation(dir.path(), false, 1);
    assert_eq!(ws.worklist().rows[0].results.state, ResultsState::Queued);
    let mut settings = ws.settings();
    settings.results_folder = Some(dir.path().join("out").display().to_string());
    ws.update_settings(settings).expect("settings");
    assert_eq!(ws.send_results(), 1);
    assert_eq!(ws.send_results(), 0);
    assert_eq!(ws.worklist().rows[0].results.state, ResultsState::Sent);
    let stored = audit_kinds(&ws)
        .iter()
        .filter(|k| *k == "results_stored")
        .count();
    assert_eq!(stored, 1);
}
