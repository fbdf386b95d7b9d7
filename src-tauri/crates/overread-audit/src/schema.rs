//! The schema, as embedded, versioned migrations (rusqlite_migration keeps
//! the version in SQLite's user_version; pending migrations run in one
//! transaction, so a crash mid-migration leaves the previous version).

use rusqlite_migration::{M, Migrations};

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        // 1: the event table, append-only by trigger, gap-free by trigger.
        M::up(
            r#"
CREATE TABLE audit_events (
    seq                    INTEGER PRIMARY KEY,
    recorded_at            TEXT NOT NULL,
    kind                   TEXT NOT NULL,
    reader_id              TEXT,
    reader_name            TEXT,
    reader_role            TEXT,
    workstation_id         TEXT,
    patient_id             TEXT,
    accession_number       TEXT,
    study_uid              TEXT,
    series_uid             TEXT,
    sop_uid                TEXT,
    model_name             TEXT,
    model_version          TEXT,
    model_sha256           TEXT,
    execution_provider     TEXT,
    finding                TEXT,
    ai_score               REAL,
    threshold              REAL,
    ai_flagged             INTEGER,
    decision               TEXT,
    region                 TEXT,
    reason                 TEXT,
    display_to_decision_ms INTEGER,
    supersedes             INTEGER REFERENCES audit_events(seq),
    app_version            TEXT NOT NULL,
    detail                 TEXT,
    prev_hash              TEXT NOT NULL,
    row_hash               TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: UPDATE refused'); END;

CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: DELETE refused'); END;

CREATE TRIGGER audit_events_gap_free BEFORE INSERT ON audit_events
WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM audit_events)
BEGIN SELECT RAISE(ABORT, 'audit sequence numbers must be gap-free'); END;
"#,
        ),
        // 2: exports and statistics select by date. (Each index costs
        // integrity_check time before every export: keep them few.)
        M::up("CREATE INDEX audit_events_recorded_at ON audit_events(recorded_at);"),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }
}
