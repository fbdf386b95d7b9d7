//! Recording, integrity, tampering, export and statistics on real SQLite files.

use overread_audit::{
    AuditLog, Decision, EventKind, ExportOptions, OtherEvent, Reader, Verification, export_header,
};
use rusqlite::Connection;

use crate::{decision, open};

fn tmp() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.sqlite3");
    (dir, path)
}

fn filled(n: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = tmp();
    let mut log = open(&path);
    for i in 0..n {
        let d = if i % 3 == 0 {
            Decision::Dismiss
        } else {
            Decision::Confirm
        };
        log.record_decision(&decision(i, d)).expect("records");
    }
    (dir, path)
}

#[test]
fn records_every_field_and_chains_them() {
    let (_d, path) = tmp();
    let mut log = open(&path);
    let mut event = decision(7, Decision::Dismiss);
    event.reason = Some("rib crossing, not a nodule".into());
    let r1 = log.record_decision(&event).expect("records");
    let r2 = log
        .record_decision(&decision(8, Decision::AddMissed))
        .expect("records");
    assert_eq!((r1.seq, r2.seq), (1, 2));
    let rows = log.rows(1, 10).expect("rows");
    assert_eq!(rows.len(), 2);
    let row = &rows[0];
    let text = |c: &str| row.get(c).to_cell();
    assert_eq!(text("kind"), "decision");
    assert_eq!(text("reader_id"), "reader1");
    assert_eq!(text("reader_name"), "Dr Phantom 1");
    assert_eq!(text("reader_role"), "radiologist");
    assert_eq!(text("workstation_id"), "ws-test-01");
    assert_eq!(text("patient_id"), "OVR-PH-0007");
    assert_eq!(text("accession_number"), "ACC00007");
    assert_eq!(text("study_uid"), "2.25.81");
    assert_eq!(text("sop_uid"), "2.25.83");
    assert_eq!(text("model_name"), "demo-opacity");
    assert_eq!(text("model_sha256"), "ab".repeat(32));
    assert_eq!(text("execution_provider"), "cpu");
    assert_eq!(text("finding"), "consolidation");
    assert_eq!(
        row.get("ai_score").to_cell().parse::<f64>().ok(),
        Some(0.5 + 7.0 / 100.0)
    );
    assert_eq!(text("threshold"), "0.6");
    assert_eq!(text("ai_flagged"), "1");
    assert_eq!(text("decision"), "dismiss");
    assert_eq!(text("reason"), "rib crossing, not a nodule");
    assert_eq!(text("display_to_decision_ms"), "1070");
    assert_eq!(text("app_version"), "0.1.0-test");
    assert!(text("recorded_at").ends_with('Z'));
    assert_eq!(rows[1].get("region").to_cell(), "10,20,30,40");
    assert_eq!(rows[1].prev_hash, rows[0].row_hash);
    assert!(matches!(
        log.verify().expect("verifies"),
        Verification::Ok { rows: 2, .. }
    ));
}

#[test]
fn durability_settings_and_permissions() {
    let (_d, path) = tmp();
    let log = open(&path);
    drop(log);
    let conn = Connection::open(&path).expect("raw");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(mode, "wal");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the log holds PHI: owner-only");
    }
}

#[test]
fn updates_and_deletes_are_refused_by_the_database() {
    let (_d, path) = filled(3);
    let conn = Connection::open(&path).expect("raw");
    let err = conn
        .execute(
            "UPDATE audit_events SET decision = 'confirm' WHERE seq = 1",
            [],
        )
        .expect_err("refused");
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn
        .execute("DELETE FROM audit_events WHERE seq = 3", [])
        .expect_err("refused");
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn
        .execute("INSERT INTO audit_events (seq, recorded_at, kind, app_version, prev_hash, row_hash) VALUES (9, 'x', 'decision', 'v', 'p', 'h')", [])
        .expect_err("refused");
    assert!(err.to_string().contains("gap-free"), "{err}");
}

/// Tampering that bypasses the triggers (someone with the file and sqlite3).
fn tamper(path: &std::path::Path, sql: &str) {
    let conn = Connection::open(path).expect("raw");
    conn.execute_batch(&format!(
        "DROP TRIGGER audit_events_append_only_update; DROP TRIGGER audit_events_append_only_delete; DROP TRIGGER audit_events_gap_free; {sql}"
    ))
    .expect("tampers");
}

fn broken_at(path: &std::path::Path) -> (i64, String) {
    match open(path).verify().expect("walks") {
        Verification::Broken { seq, reason, .. } => (seq, reason),
        ok => panic!("tampering not detected: {ok:?}"),
    }
}

#[test]
fn verify_names_an_edited_row() {
    let (_d, path) = filled(10);
    tamper(
        &path,
        "UPDATE audit_events SET decision = 'confirm' WHERE seq = 4",
    );
    let (seq, reason) = broken_at(&path);
    assert_eq!(seq, 4);
    assert!(reason.contains("edited"), "{reason}");
}

#[test]
fn verify_names_a_deleted_row() {
    let (_d, path) = filled(10);
    tamper(&path, "DELETE FROM audit_events WHERE seq = 6");
    let (seq, reason) = broken_at(&path);
    assert_eq!(seq, 7);
    assert!(reason.contains("missing"), "{reason}");
    // Deleting the last rows leaves a valid but shorter chain: the exported
    // head hash, anchored elsewhere, is what catches that.
    let (_d2, path2) = filled(10);
    let head_before = open(&path2).head().expect("head").1;
    tamper(&path2, "DELETE FROM audit_events WHERE seq = 10");
    assert_ne!(open(&path2).head().expect("head").1, head_before);
}

#[test]
fn verify_names_reordered_rows() {
    let (_d, path) = filled(10);
    // Swap the contents of rows 3 and 5 (keeping their sequence numbers).
    tamper(
        &path,
        "CREATE TEMP TABLE t AS SELECT * FROM audit_events WHERE seq IN (3, 5);
         DELETE FROM audit_events WHERE seq IN (3, 5);
         INSERT INTO audit_events SELECT CASE seq WHEN 3 THEN 5 ELSE 3 END, recorded_at, kind, reader_id, reader_name, reader_role,
           workstation_id, patient_id, accession_number, study_uid, series_uid, sop_uid, model_name, model_version, model_sha256,
           execution_provider, finding, ai_score, threshold, ai_flagged, decision, region, reason, display_to_decision_ms, supersedes,
           app_version, detail, prev_hash, row_hash FROM t;",
    );
    let (seq, _) = broken_at(&path);
    assert_eq!(seq, 3);
}

#[test]
fn verify_catches_a_recomputed_hash_that_breaks_the_link() {
    let (_d, path) = filled(5);
    // Edit row 4 (a dismissal) and fix its own hash: row 5 no longer links to it.
    let mut log_rows = open(&path).rows(4, 1).expect("rows");
    let mut row = log_rows.remove(0);
    let i = overread_audit::row::COLUMNS
        .iter()
        .position(|c| *c == "decision")
        .expect("col");
    row.values[i] = overread_audit::row::Value::Text("confirm".into());
    let new_hash = overread_audit::row::row_hash(&row.prev_hash, 4, &row.values);
    assert_ne!(new_hash, row.row_hash);
    tamper(
        &path,
        &format!(
            "UPDATE audit_events SET decision = 'confirm', row_hash = '{new_hash}' WHERE seq = 4"
        ),
    );
    let (seq, reason) = broken_at(&path);
    assert_eq!(seq, 5);
    assert!(reason.contains("link"), "{reason}");
}

#[test]
fn validation_is_the_same_for_every_caller() {
    let (_d, path) = tmp();
    let mut log = open(&path);
    let mut bad = decision(1, Decision::Confirm);
    bad.ai_score = Some(1.5);
    assert!(
        log.record_decision(&bad)
            .expect_err("refused")
            .to_string()
            .contains("AI score")
    );
    let mut bad = decision(1, Decision::AddMissed);
    bad.region = None;
    assert!(
        log.record_decision(&bad)
            .expect_err("refused")
            .to_string()
            .contains("region")
    );
    let mut bad = decision(1, Decision::Confirm);
    bad.study.sop_uid = "1.2.x".into();
    assert!(
        log.record_decision(&bad)
            .expect_err("refused")
            .to_string()
            .contains("UID")
    );
    let mut correction = decision(1, Decision::Dismiss);
    correction.supersedes = Some(99);
    assert!(
        log.record_decision(&correction)
            .expect_err("refused")
            .to_string()
            .contains("supersedes")
    );
    assert_eq!(
        log.head().expect("head").0,
        0,
        "nothing recorded by refused calls"
    );
}

#[test]
fn export_is_rfc4180_neutralised_and_audited() {
    let (dir, path) = filled(6);
    let mut log = open(&path);
    let mut nasty = decision(100, Decision::Dismiss);
    nasty.reason =
        Some("=HYPERLINK(\"http://x\",\"click\"), with \"quotes\"\nand a newline".into());
    log.record_decision(&nasty).expect("records");
    let out = dir.path().join("export.csv");
    let options = ExportOptions {
        excel: true,
        workstation_id: "ws-test-01".into(),
        ..Default::default()
    };
    let summary = log.export_csv(&out, &options).expect("exports");
    assert_eq!(summary.rows, 7);
    let bytes = std::fs::read(&out).expect("read");
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "--excel writes a BOM"
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, export_header());
    let records: Vec<csv::StringRecord> =
        reader.records().collect::<Result<_, _>>().expect("parses");
    assert_eq!(records.len(), 7);
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let last = &records[6];
    assert!(
        last[col("reason")].starts_with("'=HYPERLINK"),
        "{}",
        &last[col("reason")]
    );
    assert!(last[col("reason")].contains("\"quotes\"\nand a newline"));
    assert!(
        records
            .iter()
            .all(|r| r[col("chain_head")] == summary.head_hash)
    );
    // The export is an audit event, after the head it embeds.
    let rows = log.rows(summary.export_event_seq, 1).expect("rows");
    assert_eq!(rows[0].get("kind").to_cell(), EventKind::Export.as_str());
    assert!(rows[0].get("detail").to_cell().contains(&summary.head_hash));
    assert!(matches!(
        log.verify().expect("verifies"),
        Verification::Ok { .. }
    ));
}

#[test]
fn deidentified_export_removes_identifiers() {
    let (dir, path) = filled(6);
    let mut log = open(&path);
    let out = dir.path().join("deid.csv");
    log.export_csv(
        &out,
        &ExportOptions {
            deidentify: true,
            workstation_id: "ws".into(),
            ..Default::default()
        },
    )
    .expect("exports");
    let text = std::fs::read_to_string(&out).expect("read");
    for secret in ["OVR-PH-", "ACC000", "Dr Phantom", "reader1", "ws-test-01"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let records: Vec<csv::StringRecord> =
        reader.records().collect::<Result<_, _>>().expect("parses");
    // The same reader keeps the same pseudonym within the export.
    let readers: std::collections::BTreeSet<&str> = records
        .iter()
        .map(|r| r.get(col("reader_id")).expect("cell"))
        .collect();
    assert_eq!(readers.len(), 3);
    assert!(readers.iter().all(|r| r.starts_with("R-")));
    // Sequence numbers and the chain's hashes are re-keyed per export: the
    // links hold inside it, and nothing joins it to the log or another
    // export.
    let rows_in_log = log.rows(1, 1000).expect("rows");
    for r in &records {
        assert!(r[col("seq")].starts_with("S-"), "{r:?}");
        assert!(rows_in_log.iter().all(|l| l.row_hash != r[col("row_hash")]
            && l.row_hash != r[col("chain_head")]
            && l.prev_hash != r[col("prev_hash")]));
    }
    for pair in records.windows(2) {
        assert_eq!(
            pair[1][col("prev_hash")],
            pair[0][col("row_hash")],
            "links within the export"
        );
    }
    let again = dir.path().join("deid-2.csv");
    log.export_csv(
        &again,
        &ExportOptions {
            deidentify: true,
            workstation_id: "ws".into(),
            ..Default::default()
        },
    )
    .expect("exports");
    let other = std::fs::read_to_string(&again).expect("read");
    for r in &records {
        for c in ["seq", "row_hash", "chain_head"] {
            assert!(!other.contains(&r[col(c)]), "{c} joins two exports");
        }
    }
    let originals: Vec<String> = (0..6).map(|n| format!("2.25.{}1", n + 1)).collect();
    for r in records.iter().filter(|r| &r[col("kind")] == "decision") {
        assert!(
            r[col("study_uid")].starts_with("2.25.")
                && !originals.contains(&r[col("study_uid")].to_string())
        );
        assert!(
            r[col("patient_id")].is_empty()
                && r[col("accession_number")].is_empty()
                && r[col("reader_name")].is_empty()
        );
    }
}

/// Exports are created owner-only and never through a link left at the
/// temporary file's name.
#[test]
fn export_files_are_private_and_links_are_not_followed() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = filled(2);
    let mut log = open(&path);
    let out = dir.path().join("private.csv");
    let options = ExportOptions {
        workstation_id: "ws".into(),
        ..Default::default()
    };
    log.export_csv(&out, &options).expect("exports");
    let mode = std::fs::metadata(&out).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    // Someone plants a link where the next export's temporary file goes.
    let target = dir.path().join("elsewhere.txt");
    std::fs::write(&target, "precious").expect("write");
    let tmp = dir
        .path()
        .join(format!(".linked.csv.{}.partial", std::process::id()));
    std::os::unix::fs::symlink(&target, &tmp).expect("symlink");
    // Stale partials are removed first; whatever happens, the link's target
    // is never written.
    let _ = log.export_csv(&dir.path().join("linked.csv"), &options);
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "precious");
}

#[test]
fn export_by_date_range() {
    let (dir, path) = filled(3);
    let mut log = open(&path);
    let out = dir.path().join("none.csv");
    let options = ExportOptions {
        from: Some(overread_audit::parse_date("2000-01-01").expect("date")),
        to: Some(overread_audit::parse_date("2000-12-31").expect("date")),
        workstation_id: "ws".into(),
        ..Default::default()
    };
    assert_eq!(log.export_csv(&out, &options).expect("exports").rows, 0);
    assert!(overread_audit::parse_date("2026-13-01").is_err());
}

#[test]
fn stats_follow_corrections() {
    let (_d, path) = tmp();
    let mut log = open(&path);
    let first = log
        .record_decision(&decision(2, Decision::Confirm))
        .expect("records");
    log.record_decision(&decision(4, Decision::Dismiss))
        .expect("records");
    log.record_decision(&decision(6, Decision::AddMissed))
        .expect("records");
    // Correct the first decision: it becomes a dismissal.
    let mut correction = decision(2, Decision::Dismiss);
    correction.supersedes = Some(first.seq as u64);
    log.record_decision(&correction).expect("records");
    let stats = log.stats(None, None).expect("stats");
    let nodule = &stats.per_finding["nodule"];
    assert_eq!(
        (
            nodule.flags_shown,
            nodule.confirmed,
            nodule.dismissed,
            nodule.missed_added
        ),
        (2, 0, 2, 1)
    );
    assert_eq!(nodule.ppv, Some(0.0));
    assert_eq!(stats.decisions, 3);
    assert!(nodule.median_ms_to_decision.is_some());
}

#[test]
fn other_events_and_backup() {
    let (dir, path) = filled(2);
    let mut log = open(&path);
    let event = OtherEvent {
        kind: EventKind::ApplicationStart,
        reader: None,
        workstation_id: "ws-test-01".into(),
        study: None,
        model: None,
        execution_provider: None,
        detail: serde_json::json!({"pid": 1}),
    };
    log.record_event(&event).expect("records");
    let copy = dir.path().join("copy.sqlite3");
    log.backup_to(&copy).expect("backs up");
    assert_eq!(
        open(&copy).verify().expect("verifies"),
        log.verify().expect("verifies")
    );
}

/// With SQLCipher the file on disk is not readable as plain SQLite, and the
/// wrong key is refused.
#[cfg(feature = "sqlcipher")]
#[test]
fn sqlcipher_encrypts_the_file() {
    let (_d, path) = tmp();
    let keyed = overread_audit::OpenOptions {
        key: Some("correct horse battery staple".into()),
        app_version: "t".into(),
        anchor: None,
    };
    let mut log = overread_audit::AuditLog::open(&path, &keyed).expect("opens");
    log.record_decision(&decision(1, Decision::Confirm))
        .expect("records");
    drop(log);
    let head = std::fs::read(&path).expect("read");
    assert!(
        !head.starts_with(b"SQLite format 3"),
        "plaintext header on disk"
    );
    let wrong = overread_audit::OpenOptions {
        key: Some("wrong".into()),
        app_version: "t".into(),
        anchor: None,
    };
    assert!(overread_audit::AuditLog::open(&path, &wrong).is_err());
    let log = overread_audit::AuditLog::open(&path, &keyed).expect("reopens");
    assert!(matches!(
        log.verify().expect("verifies"),
        Verification::Ok { rows: 1, .. }
    ));
}

/// The head kept outside the database (#12): a log cut short (an older copy
/// put back) or replaced by a fresh one is refused at open, naming both
/// heads, until an administrator acknowledges it; the acknowledgement is
/// itself a row, with the expected and found heads and the reason.
#[test]
fn a_log_cut_short_or_replaced_is_refused_until_acknowledged() {
    let (dir, path) = tmp();
    let anchored = || overread_audit::OpenOptions {
        anchor: Some(overread_audit::anchor_path(&path)),
        ..crate::options()
    };
    let mut log = AuditLog::open(&path, &anchored()).expect("opens");
    for n in 0..3 {
        log.record_decision(&decision(n, Decision::Confirm))
            .expect("records");
    }
    let older = dir.path().join("older.sqlite3");
    log.backup_to(&older).expect("backup");
    for n in 3..5 {
        log.record_decision(&decision(n, Decision::Dismiss))
            .expect("records");
    }
    let (rows, head) = log.head().expect("head");
    assert_eq!(rows, 5);
    drop(log);
    let anchor: overread_audit::Head =
        serde_json::from_slice(&std::fs::read(overread_audit::anchor_path(&path)).expect("anchor"))
            .expect("json");
    assert_eq!((anchor.rows, anchor.hash.as_str()), (5, head.as_str()));

    // The older copy put back: two rows fewer.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::copy(&older, &path).expect("restore");
    let err = AuditLog::open(&path, &anchored()).expect_err("a shorter log is refused");
    assert_eq!(err.code(), "anchor");
    assert!(err.to_string().contains("has 3 rows but had 5"), "{err}");

    // The file deleted: a fresh chain does not start silently.
    std::fs::remove_file(&path).expect("rm");
    let err = AuditLog::open(&path, &anchored()).expect_err("a fresh log is refused");
    assert!(err.to_string().contains("has 0 rows but had 5"), "{err}");

    // A log of the same length that is not the same chain.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut other = AuditLog::open(&path, &crate::options()).expect("opens unanchored");
    for n in 10..15 {
        other
            .record_decision(&decision(n, Decision::Confirm))
            .expect("records");
    }
    drop(other);
    let err = AuditLog::open(&path, &anchored()).expect_err("another chain is refused");
    assert!(
        err.to_string()
            .contains("does not have the last known head hash"),
        "{err}"
    );

    // An administrator acknowledges it, with a reason; that is recorded.
    let admin = Reader {
        id: "it-admin".into(),
        display_name: "IT administrator".into(),
        role: "administrator".into(),
    };
    assert!(
        AuditLog::open_acknowledging(&path, &anchored(), admin.clone(), " ", "ws").is_err(),
        "a reason is required"
    );
    let log = AuditLog::open_acknowledging(
        &path,
        &anchored(),
        admin,
        "restored after disk failure",
        "ws",
    )
    .expect("acknowledged");
    let last = log.records(6, 1).expect("records").remove(0);
    assert_eq!(last.kind, EventKind::AuditLogUsed);
    let detail = last.detail.expect("detail");
    assert_eq!(detail["action"], "head_acknowledged");
    assert_eq!(detail["expected"]["rows"], 5);
    assert_eq!(detail["found"]["rows"], 5);
    assert_eq!(detail["reason"], "restored after disk failure");
    drop(log);
    AuditLog::open(&path, &anchored()).expect("opens once acknowledged");
}
