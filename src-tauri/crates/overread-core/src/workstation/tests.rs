use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::study::Ai;
use super::*;
use crate::api::{AiStatus, ImpressionRequest, ReadingStatus, Rect};
use crate::triage::tests::fake_model;

pub(super) fn workstation(dir: &Path, read_first: bool, count: u32) -> Workstation {
    let studies = dir.join("studies");
    if !studies.exists() {
        crate::demo::generate(&studies, count, 128, 4).expect("phantoms");
    }
    let mut settings = Settings::demo(&studies, Path::new("unused-model"));
    settings.read_first = read_first;
    let ws = Workstation::open(settings, &dir.join("audit.sqlite3"), None).expect("open");
    ws.run_triage_with(vec![fake_model()]);
    ws
}

/// `count` small phantoms and a workstation over them, not yet triaged.
pub(super) fn fresh(dir: &Path, count: u32) -> (Workstation, Vec<std::path::PathBuf>) {
    let studies = dir.join("studies");
    let files = crate::demo::generate(&studies, count, 64, 2).expect("phantoms");
    let settings = Settings::demo(&studies, Path::new("unused-model"));
    let ws = Workstation::open(settings, &dir.join("audit.sqlite3"), None).expect("open");
    (ws, files)
}

pub(super) fn decision(d: &str) -> DecisionRequest {
    DecisionRequest {
        finding: "opacity".into(),
        decision: d.into(),
        region: None,
        reason: None,
        display_ms: Some(900.0),
    }
}

#[test]
fn decisions_are_recorded_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workstation(dir.path(), false, 2);
    let w = ws.worklist();
    assert_eq!(w.rows.len(), 2);
    assert!(w.rows.iter().all(|r| r.ai == AiStatus::Flagged), "{w:?}");
    let id = w.rows[0].id;
    let first = ws.decide(id, &decision("dismiss")).expect("recorded");
    // A change of mind is a new row that supersedes the first.
    let second = ws.decide(id, &decision("confirm")).expect("recorded");
    assert!(second.seq > first.seq);
    assert_eq!(
        ws.worklist().rows.last().map(|r| r.reading),
        Some(ReadingStatus::Read)
    );
    let err = ws
        .decide(
            id,
            &DecisionRequest {
                region: Some(Rect {
                    x: 100.0,
                    y: 100.0,
                    width: 50.0,
                    height: 50.0,
                }),
                ..decision("add_missed")
            },
        )
        .expect_err("outside the 128-pixel image");
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let too_long = DecisionRequest {
        finding: "x".repeat(65),
        ..decision("confirm")
    };
    assert_eq!(
        ws.decide(id, &too_long).expect_err("validated").code,
        ErrorCode::InvalidArgument
    );
    let sop = ws
        .studies
        .get(id, |s| s.header.sop_instance_uid.clone())
        .expect("study");
    drop(ws);

    let again = workstation(dir.path(), false, 2);
    let last = again.worklist().rows[1].id;
    let restored = again
        .studies
        .get(last, |s| {
            (s.header.sop_instance_uid.clone(), s.reading.decisions.len())
        })
        .expect("study");
    assert_eq!(restored, (sop, 2));
    assert!(again.verify().expect("verify").ok);
    let stats = again.stats().expect("stats");
    assert_eq!(stats.decisions, 1.0, "the correction supersedes the first");
    assert_eq!(stats.daily.len(), 1);
    assert_eq!(
        (stats.daily[0].confirmed, stats.daily[0].dismissed),
        (1.0, 0.0)
    );
}

#[test]
fn read_first_hides_the_ai_until_the_impression_is_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workstation(dir.path(), true, 2);
    let rows = ws.worklist().rows;
    assert!(
        rows.iter()
            .all(|r| r.ai == AiStatus::Withheld && r.top_score.is_none() && r.ai_hidden),
        "neither flag, score nor order gives the AI away: {rows:?}"
    );
    let row = rows[0].clone();
    assert_eq!(row.top_finding, None, "no AI hint on the worklist");
    let view = ws.open_study(row.id).expect("open");
    assert!(view.ai_hidden && view.findings.is_empty() && view.model.is_none());
    assert_eq!(
        ws.heatmap(row.id, "opacity").expect_err("hidden").code,
        ErrorCode::NoResult
    );
    let err = ws
        .decide(row.id, &decision("confirm"))
        .expect_err("needs impression");
    assert_eq!(err.code, ErrorCode::ImpressionRequired);
    let shown = ws
        .record_impression(
            row.id,
            &ImpressionRequest {
                impression: "abnormal".into(),
                findings: vec!["opacity".into()],
                note: None,
            },
        )
        .expect("recorded");
    assert!(!shown.ai_hidden);
    assert_eq!(shown.ai, AiStatus::Flagged);
    assert_eq!(shown.findings.len(), 1);
    ws.decide(row.id, &decision("confirm"))
        .expect("now allowed");
    let kinds: Vec<String> = ws
        .audit_recent(10)
        .expect("rows")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.contains(&"unaided_impression".to_string()),
        "{kinds:?}"
    );
}

#[test]
fn settings_are_validated_in_the_core() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workstation(dir.path(), false, 1);
    let mut bad = ws.settings();
    bad.sources = vec!["relative/folder".into()];
    assert_eq!(
        ws.update_settings(bad).expect_err("relative").code,
        ErrorCode::InvalidArgument
    );
    let mut bad = ws.settings();
    bad.pacs_config = Some("pacs.toml".into());
    assert!(ws.update_settings(bad).is_err());
    assert_eq!(
        ws.export(Path::new("relative.csv"), false)
            .expect_err("relative")
            .code,
        ErrorCode::InvalidArgument
    );
}

/// The interleaving that froze the app: the worklist read the studies,
/// a triage update queued for the write lock, and the worklist read the
/// studies again (for the sources' counts) behind it. Here a triage update
/// arrives exactly between the worklist's reads and must complete at once;
/// and the worklist's thread holds no lock at that point (the debug check
/// in `Owned` would panic on the lookup below otherwise).
#[test]
fn a_triage_update_between_the_worklists_reads_completes_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = Arc::new(workstation(dir.path(), false, 3));
    let id = ws.worklist().rows[0].id;
    let writer_done = Arc::new(Mutex::new(None::<bool>));
    let weak = Arc::downgrade(&ws);
    let seen = writer_done.clone();
    ws.between_reads.write(|h| {
        *h = Some(Arc::new(move || {
            let Some(ws) = weak.upgrade() else { return };
            // This thread holds no workstation lock here.
            assert!(ws.studies.get(id, |_| ()).is_some());
            let writer_ws = ws.clone();
            let writer = std::thread::spawn(move || {
                writer_ws.studies.update(id, |s| s.ai = Ai::Running);
            });
            let deadline = Instant::now() + Duration::from_secs(5);
            while !writer.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            *seen.lock().expect("lock") = Some(writer.is_finished());
        }))
    });
    let w = ws.worklist();
    assert_eq!(
        *writer_done.lock().expect("lock"),
        Some(true),
        "the triage update waited behind the worklist"
    );
    assert_eq!(w.rows.len(), 3);
    ws.between_reads.write(|h| *h = None);
    assert_eq!(
        ws.worklist().rows.iter().find(|r| r.id == id).map(|r| r.ai),
        Some(AiStatus::Running)
    );
}

/// Readers call worklist / open / decide / heatmap from several threads
/// while triage runs again and again and a PACS sync (against a source that
/// refuses connections) runs in a loop, and a listener asks for the
/// worklist on every change, as the app's did. Thousands of iterations; a
/// deadlock fails the test at its time-out instead of hanging CI.
#[test]
fn readers_triage_and_sync_together_never_deadlock() {
    const READERS: usize = 4;
    const ITERATIONS: usize = 1000;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("pacs.toml");
    std::fs::write(
        &config,
        "[[source]]\nname = \"pacs\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:9/dicom-web\"\n",
    )
    .expect("config");
    let studies = dir.path().join("studies");
    crate::demo::generate(&studies, 40, 96, 9).expect("phantoms");
    let mut settings = Settings::demo(&studies, Path::new("unused-model"));
    settings.pacs_config = Some(config.display().to_string());
    let ws = Arc::new(
        Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open"),
    );
    let changes = Arc::new(AtomicUsize::new(0));
    let (weak, counter) = (Arc::downgrade(&ws), changes.clone());
    ws.set_listener(Arc::new(move |_change| {
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(ws) = weak.upgrade() {
            ws.worklist();
        }
    }));

    let (done_tx, done_rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let run = {
        let (ws, stop) = (ws.clone(), stop.clone());
        std::thread::spawn(move || {
            std::thread::scope(|scope| {
                // Triage, again and again: studies are queued anew each round.
                scope.spawn(|| {
                    while !stop.load(Ordering::SeqCst) {
                        ws.run_triage_with(vec![fake_model(), fake_model()]);
                        for row in ws.worklist().rows.iter().step_by(3) {
                            ws.studies.update(row.id, |s| s.ai = Ai::Queued);
                        }
                    }
                });
                scope.spawn(|| {
                    while !stop.load(Ordering::SeqCst) {
                        ws.sync_pacs();
                    }
                });
                let readers: Vec<_> = (0..READERS)
                    .map(|r| {
                        let ws = &ws;
                        scope.spawn(move || {
                            for i in 0..ITERATIONS {
                                let rows = ws.worklist().rows;
                                let id = rows[(i * 7 + r) % rows.len()].id;
                                match i % 20 {
                                    0 => {
                                        ws.open_study(id).expect("opens");
                                    }
                                    5 => {
                                        // May race a re-queue: either outcome is fine.
                                        let _ = ws.decide(id, &decision("confirm"));
                                    }
                                    10 | 15 => {
                                        let _ = ws.heatmap(id, "opacity");
                                        ws.pixels(id, 0, true).expect("pixels");
                                    }
                                    _ => {}
                                }
                            }
                        })
                    })
                    .collect();
                for reader in readers {
                    reader.join().expect("reader finished");
                }
                stop.store(true, Ordering::SeqCst);
            });
            done_tx.send(()).ok();
        })
    };
    match done_rx.recv_timeout(Duration::from_secs(120)) {
        Ok(()) => run.join().expect("no panic"),
        Err(_) => panic!("deadlock: readers, triage and sync did not finish in 120 s"),
    }
    assert!(changes.load(Ordering::Relaxed) > 0, "changes were reported");
    assert!(ws.verify().expect("verify").ok);
    let w = ws.worklist();
    assert_eq!(w.rows.len(), 40);
    assert_eq!(w.sources.len(), 1);
}

#[test]
fn triage_reports_each_changed_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let studies = dir.path().join("studies");
    crate::demo::generate(&studies, 3, 64, 2).expect("phantoms");
    let settings = Settings::demo(&studies, Path::new("unused-model"));
    let ws = Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    ws.set_listener(Arc::new(move |c: WorklistChange| {
        log.lock().expect("lock").push(c);
    }));
    ws.run_triage_with(vec![fake_model()]);
    let changes = seen.lock().expect("lock");
    // Each study: one change when it starts running, one when it is done.
    let rows: Vec<&WorklistRow> = changes.iter().flat_map(|c| &c.rows).collect();
    assert_eq!(rows.len(), 6, "{changes:?}");
    assert_eq!(rows.iter().filter(|r| r.ai == AiStatus::Flagged).count(), 3);
    assert!(
        changes.iter().all(|c| c.rows.len() <= 1),
        "one row at a time"
    );
    let last = changes
        .last()
        .and_then(|c| c.triage.clone())
        .expect("progress");
    assert_eq!((last.done, last.total, last.running), (3, 3, false));
}

/// A panic while triaging one study fails that study with its reason and
/// the others are triaged; a panic that escapes a run (here from a
/// listener) does not leave triage marked running: the next run works.
#[test]
fn a_panic_in_triage_is_contained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let studies = dir.path().join("studies");
    crate::demo::generate(&studies, 3, 64, 2).expect("phantoms");
    let settings = Settings::demo(&studies, Path::new("unused-model"));
    let ws = Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open");
    ws.run_triage_with(vec![crate::triage::tests::model_panicking_on(2)]);
    let rows = ws.worklist().rows;
    let failed: Vec<_> = rows.iter().filter(|r| r.ai == AiStatus::Error).collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert!(
        failed[0]
            .ai_message
            .as_deref()
            .is_some_and(|m| m.contains("failed unexpectedly")),
        "{failed:?}"
    );
    assert_eq!(rows.iter().filter(|r| r.ai == AiStatus::Flagged).count(), 2);

    // A fault that escapes the run.
    let failed_id = failed[0].id;
    ws.studies.update(failed_id, |s| s.ai = Ai::Queued);
    ws.set_listener(Arc::new(|_| panic!("listener fault")));
    let escaped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ws.run_triage_with(vec![fake_model()]);
    }));
    assert!(escaped.is_err());
    ws.set_listener(Arc::new(|_| {}));
    ws.studies.update(failed_id, |s| s.ai = Ai::Queued);
    ws.run_triage_with(vec![fake_model()]);
    assert!(
        ws.worklist().rows.iter().all(|r| r.ai == AiStatus::Flagged),
        "the next run triaged the study"
    );
}

/// A study whose file name is not UTF-8 is on the worklist and opens.
#[test]
fn a_file_name_that_is_not_utf8_is_listed_and_opens() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let made = dir.path().join("made");
    let files = crate::demo::generate(&made, 1, 64, 3).expect("phantom");
    let studies = dir.path().join("studies");
    std::fs::create_dir_all(&studies).expect("mkdir");
    std::fs::copy(
        &files[0],
        studies.join(std::ffi::OsStr::from_bytes(b"caf\xe9.dcm")),
    )
    .expect("copy");
    let settings = Settings::demo(&studies, Path::new("unused-model"));
    let ws = Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open");
    let rows = ws.worklist().rows;
    assert_eq!(rows.len(), 1);
    ws.open_study(rows[0].id).expect("opens");
}

/// A decision records the model that produced the result decided on, not
/// whichever model is loaded by then.
#[test]
fn a_decision_names_the_model_that_flagged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workstation(dir.path(), false, 1);
    let id = ws.worklist().rows[0].id;
    // Another model becomes the loaded one (no study left to triage).
    let mut other = fake_model();
    other.manifest.version = "9.9.9".into();
    other.manifest.sha256 = "b".repeat(64);
    ws.run_triage_with(vec![other]);
    assert_eq!(
        ws.worklist().model.map(|m| m.version),
        Some("9.9.9".to_string())
    );
    ws.decide(id, &decision("confirm")).expect("recorded");
    let row = ws.audit_recent(1).expect("rows").remove(0);
    assert_eq!(row.kind, "decision");
    let demo_version = fake_model().manifest.version;
    assert_eq!(row.model, format!("overread-demo-opacity {demo_version}"));
}

#[test]
fn a_two_view_study_opens_with_both_views_and_the_lateral_says_why_it_has_no_ai() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The demo's fourth study has a lateral.
    let ws = workstation(dir.path(), false, 4);
    let row = ws
        .worklist()
        .rows
        .into_iter()
        .find(|r| r.images == 2)
        .expect("a two-view study");
    let view = ws.open_study(row.id).expect("opens");
    let views: Vec<(&str, bool)> = view
        .images
        .iter()
        .map(|i| (i.view.as_str(), i.ai))
        .collect();
    assert!(
        matches!(views[..], [("PA" | "AP", true), ("LAT", false)]),
        "{views:?}"
    );
    let why = view.images[1].no_ai.as_deref().unwrap_or_default();
    assert!(
        why.contains("view position LL is outside the intended use"),
        "{why}"
    );
    assert_eq!(view.hanging.beside, Some(1));
    // Each image is its own: the lateral's pixels are not the frontal's.
    let lateral = ws.open_image(row.id, 1).expect("the lateral");
    assert_eq!((lateral.width, lateral.height), (128, 128));
    let (front, side) = (
        ws.pixels(row.id, 0, false).expect("frontal pixels"),
        ws.pixels(row.id, 1, false).expect("lateral pixels"),
    );
    assert_eq!(side.len(), 128 * 128 * 2);
    assert_ne!(front, side);
    assert_eq!(
        ws.open_image(row.id, 2).expect_err("no third image").code,
        ErrorCode::InvalidArgument
    );
    // The hanging protocol is a setting: one view at a time.
    let mut settings = ws.settings();
    settings.viewing.two_views = false;
    ws.update_settings(settings).expect("saved");
    assert_eq!(ws.open_study(row.id).expect("opens").hanging.beside, None);
}
