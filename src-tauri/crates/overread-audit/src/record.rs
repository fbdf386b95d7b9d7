//! Rows read back as typed records: what the rest of Overread sees of the
//! log. Column names and text encodings stay inside this crate.

use serde::Serialize;

use crate::error::{Result, invalid};
use crate::event::{Decision, EventKind, ModelRef, Reader, Region, StudyRef};
use crate::row::{Row, Value};

/// A decision's own columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionFields {
    pub finding: String,
    pub decision: Decision,
    pub ai_score: Option<f64>,
    pub threshold: Option<f64>,
    pub ai_flagged: bool,
    pub region: Option<Region>,
    pub reason: Option<String>,
    pub display_to_decision_ms: Option<u64>,
    /// The decision row this one corrects.
    pub supersedes: Option<i64>,
}

/// One row of the log, typed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub seq: i64,
    /// RFC 3339 UTC with milliseconds.
    pub recorded_at: String,
    pub kind: EventKind,
    /// Who the row names as the reader (decisions always name one).
    pub reader: Option<Reader>,
    pub workstation_id: String,
    /// The study, when the row names one (its patient id and UIDs).
    pub study: Option<StudyRef>,
    pub model: Option<ModelRef>,
    pub execution_provider: Option<String>,
    /// Present exactly when `kind` is [`EventKind::Decision`].
    pub decision: Option<DecisionFields>,
    pub app_version: String,
    /// The event's details as stored (a JSON object), or None.
    pub detail: Option<serde_json::Value>,
    pub prev_hash: String,
    pub row_hash: String,
}

impl Record {
    /// The day it was recorded on, YYYY-MM-DD (UTC).
    pub fn day(&self) -> &str {
        self.recorded_at.get(..10).unwrap_or(&self.recorded_at)
    }
}

impl Row {
    /// This row as a typed record. Rows this crate wrote always convert;
    /// a row that does not (an edited file) is an `invalid` error.
    pub fn record(&self) -> Result<Record> {
        let text = |c: &str| match self.get(c) {
            Value::Text(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let int = |c: &str| match self.get(c) {
            Value::Int(i) => Some(*i),
            _ => None,
        };
        let real = |c: &str| match self.get(c) {
            Value::Real(r) => Some(*r),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        };
        let kind = EventKind::parse(&text("kind").unwrap_or_default())?;
        let reader = text("reader_id").map(|id| Reader {
            id,
            display_name: text("reader_name").unwrap_or_default(),
            role: text("reader_role").unwrap_or_default(),
        });
        let study = text("study_uid").map(|study_uid| StudyRef {
            patient_id: text("patient_id").unwrap_or_default(),
            accession_number: text("accession_number").unwrap_or_default(),
            study_uid,
            series_uid: text("series_uid").unwrap_or_default(),
            sop_uid: text("sop_uid").unwrap_or_default(),
        });
        let model = text("model_name").map(|name| ModelRef {
            name,
            version: text("model_version").unwrap_or_default(),
            sha256: text("model_sha256").unwrap_or_default(),
        });
        let decision = if kind == EventKind::Decision {
            let region = text("region").map(|r| Region::parse(&r)).transpose()?;
            Some(DecisionFields {
                finding: text("finding").unwrap_or_default(),
                decision: Decision::parse(&text("decision").unwrap_or_default())?,
                ai_score: real("ai_score"),
                threshold: real("threshold"),
                ai_flagged: int("ai_flagged") == Some(1),
                region,
                reason: text("reason"),
                display_to_decision_ms: int("display_to_decision_ms")
                    .and_then(|v| u64::try_from(v).ok()),
                supersedes: int("supersedes"),
            })
        } else {
            None
        };
        let detail = match text("detail") {
            Some(d) => Some(
                serde_json::from_str(&d)
                    .map_err(|e| invalid("detail", format!("row {}: {e}", self.seq)))?,
            ),
            None => None,
        };
        Ok(Record {
            seq: self.seq,
            recorded_at: text("recorded_at").unwrap_or_default(),
            kind,
            reader,
            workstation_id: text("workstation_id").unwrap_or_default(),
            study,
            model,
            execution_provider: text("execution_provider"),
            decision,
            app_version: text("app_version").unwrap_or_default(),
            detail,
            prev_hash: self.prev_hash.clone(),
            row_hash: self.row_hash.clone(),
        })
    }
}
