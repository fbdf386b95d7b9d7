//! A local audit row as the store's `overread.row_in` composite type.

use overread_audit::row::{COLUMNS, Row, Value};
use postgres_types::ToSql;

/// One row as the store receives it (the columns of the local log, typed
/// as its STRICT table types them).
#[derive(Debug, Clone, ToSql)]
#[postgres(name = "row_in")]
pub(crate) struct RowIn {
    seq: i64,
    recorded_at: Option<String>,
    kind: Option<String>,
    reader_id: Option<String>,
    reader_name: Option<String>,
    reader_role: Option<String>,
    workstation_id: Option<String>,
    patient_id: Option<String>,
    accession_number: Option<String>,
    study_uid: Option<String>,
    series_uid: Option<String>,
    sop_uid: Option<String>,
    model_name: Option<String>,
    model_version: Option<String>,
    model_sha256: Option<String>,
    execution_provider: Option<String>,
    finding: Option<String>,
    ai_score: Option<f64>,
    threshold: Option<f64>,
    ai_flagged: Option<i64>,
    decision: Option<String>,
    region: Option<String>,
    reason: Option<String>,
    display_to_decision_ms: Option<i64>,
    supersedes: Option<i64>,
    app_version: Option<String>,
    detail: Option<String>,
    prev_hash: String,
    row_hash: String,
}

fn text(row: &Row, column: &str) -> Option<String> {
    match row.get(column) {
        Value::Text(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Real(r) => Some(r.to_string()),
        Value::Null => None,
    }
}

fn int(row: &Row, column: &str) -> Option<i64> {
    match row.get(column) {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

fn real(row: &Row, column: &str) -> Option<f64> {
    match row.get(column) {
        Value::Real(r) => Some(*r),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    }
}

impl From<&Row> for RowIn {
    fn from(r: &Row) -> RowIn {
        // The store recomputes the hash from exactly these columns.
        debug_assert_eq!(COLUMNS.len(), 26);
        RowIn {
            seq: r.seq,
            recorded_at: text(r, "recorded_at"),
            kind: text(r, "kind"),
            reader_id: text(r, "reader_id"),
            reader_name: text(r, "reader_name"),
            reader_role: text(r, "reader_role"),
            workstation_id: text(r, "workstation_id"),
            patient_id: text(r, "patient_id"),
            accession_number: text(r, "accession_number"),
            study_uid: text(r, "study_uid"),
            series_uid: text(r, "series_uid"),
            sop_uid: text(r, "sop_uid"),
            model_name: text(r, "model_name"),
            model_version: text(r, "model_version"),
            model_sha256: text(r, "model_sha256"),
            execution_provider: text(r, "execution_provider"),
            finding: text(r, "finding"),
            ai_score: real(r, "ai_score"),
            threshold: real(r, "threshold"),
            ai_flagged: int(r, "ai_flagged"),
            decision: text(r, "decision"),
            region: text(r, "region"),
            reason: text(r, "reason"),
            display_to_decision_ms: int(r, "display_to_decision_ms"),
            supersedes: int(r, "supersedes"),
            app_version: text(r, "app_version"),
            detail: text(r, "detail"),
            prev_hash: r.prev_hash.clone(),
            row_hash: r.row_hash.clone(),
        }
    }
}

/// A stored row read back: `workstation, seq, <COLUMNS>, prev_hash,
/// row_hash`, in that order, typed as the local log types them.
pub(crate) fn row_out(r: &tokio_postgres::Row) -> (String, Row) {
    let values = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let at = i + 2;
            match *column {
                "ai_score" | "threshold" => {
                    r.get::<_, Option<f64>>(at).map_or(Value::Null, Value::Real)
                }
                "ai_flagged" | "display_to_decision_ms" | "supersedes" => {
                    r.get::<_, Option<i64>>(at).map_or(Value::Null, Value::Int)
                }
                _ => r
                    .get::<_, Option<String>>(at)
                    .map_or(Value::Null, Value::Text),
            }
        })
        .collect();
    let n = COLUMNS.len() + 2;
    (
        r.get(0),
        Row {
            seq: r.get(1),
            values,
            prev_hash: r.get(n),
            row_hash: r.get(n + 1),
        },
    )
}
