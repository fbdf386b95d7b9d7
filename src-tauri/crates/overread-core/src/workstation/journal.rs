//! The workstation's audit journal: the open log, what is recorded in it,
//! and the audit screen's views of it. Owns the `AuditLog`; each method
//! holds its lock for one call into the audit crate and nothing else.

use std::collections::HashMap;
use std::path::Path;

use overread_audit::{
    AuditLog, DecisionEvent, EventKind, ExportOptions, ModelRef, OtherEvent, Reader, Record,
    StudyRef, Verification,
};

use super::owned::Exclusive;
use super::reading::decision_view;
use super::study::Reading;
use super::view::audit_entry;
use crate::api::{
    AgreementView, ApiError, AuditEntry, ChainStatus, DailyAgreement, ExportResult, StatsView,
};

/// One event to record, less what the journal fills in.
pub(crate) struct Event {
    pub kind: EventKind,
    pub reader: Option<Reader>,
    pub study: Option<StudyRef>,
    pub model: Option<ModelRef>,
    pub execution_provider: Option<String>,
    pub detail: serde_json::Value,
}

impl Event {
    pub(crate) fn new(kind: EventKind, reader: Option<Reader>) -> Event {
        Event {
            kind,
            reader,
            study: None,
            model: None,
            execution_provider: None,
            detail: serde_json::json!({}),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Journal {
    log: Exclusive<AuditLog>,
    /// This workstation's id, read once.
    workstation_id: String,
}

impl Journal {
    pub(crate) fn new(log: AuditLog) -> Journal {
        Journal {
            log: Exclusive::new("audit", log),
            workstation_id: crate::audit::workstation_id(),
        }
    }

    pub(crate) fn workstation_id(&self) -> String {
        self.workstation_id.clone()
    }

    /// Records a PS3.15 event; returns it as stored (after COMMIT).
    pub(crate) fn record(&self, e: Event) -> Result<Record, ApiError> {
        let event = OtherEvent {
            kind: e.kind,
            reader: e.reader,
            workstation_id: self.workstation_id.clone(),
            study: e.study,
            model: e.model,
            execution_provider: e.execution_provider,
            detail: e.detail,
        };
        Ok(self.log.with(|log| log.record_event(&event))?)
    }

    /// Records a decision; returns it as stored (after COMMIT).
    pub(crate) fn decide(&self, event: &DecisionEvent) -> Result<Record, ApiError> {
        Ok(self.log.with(|log| log.record_decision(event))?)
    }

    /// Decisions and unaided impressions already in the log, by SOP
    /// Instance UID, so a study's reading survives a restart.
    pub(crate) fn readings(&self) -> Result<HashMap<String, Reading>, ApiError> {
        let mut out: HashMap<String, Reading> = HashMap::new();
        self.log.with(|log| {
            log.for_each_record(
                &[EventKind::Decision, EventKind::UnaidedImpression],
                |record| {
                    let Some(sop) = record.study.as_ref().map(|s| s.sop_uid.clone()) else {
                        return Ok(());
                    };
                    let entry = out.entry(sop).or_default();
                    match decision_view(&record) {
                        Some(view) => entry.decisions.push(view),
                        None => entry.impression_recorded = true,
                    }
                    Ok(())
                },
            )
        })?;
        Ok(out)
    }

    /// The newest rows, newest first.
    pub(crate) fn recent(&self, limit: u32) -> Result<Vec<AuditEntry>, ApiError> {
        let limit = i64::from(limit.clamp(1, 1000));
        let records = self.log.with(|log| {
            let (head, _) = log.head()?;
            log.records((head - limit + 1).max(1), limit)
        })?;
        Ok(records.iter().rev().map(audit_entry).collect())
    }

    /// Walks the hash chain and records that the log was used.
    pub(crate) fn verify(&self, reader: Reader) -> Result<ChainStatus, ApiError> {
        let verification = self.log.with(|log| {
            let v = log.verify()?;
            crate::audit::record_use(log, Some(reader), "verify")?;
            Ok::<_, overread_audit::Error>(v)
        })?;
        Ok(match verification {
            Verification::Ok { rows, head_hash } => ChainStatus {
                ok: true,
                rows: rows as f64,
                head_hash,
                message: None,
            },
            Verification::Broken {
                seq,
                position,
                reason,
            } => ChainStatus {
                ok: false,
                rows: position as f64,
                head_hash: String::new(),
                message: Some(format!("row {seq} (position {position}): {reason}")),
            },
        })
    }

    /// Exports the whole log as CSV (plain or de-identified) to `path`.
    pub(crate) fn export(
        &self,
        path: &Path,
        deidentify: bool,
        reader: Reader,
    ) -> Result<ExportResult, ApiError> {
        let options = ExportOptions {
            deidentify,
            exported_by: Some(reader),
            workstation_id: self.workstation_id.clone(),
            ..ExportOptions::default()
        };
        let summary = self.log.with(|log| log.export_csv(path, &options))?;
        Ok(ExportResult {
            path: path.display().to_string(),
            rows: summary.rows as f64,
            deidentified: deidentify,
        })
    }

    /// Agreement per finding and reader, with daily counts for the plots.
    pub(crate) fn stats(&self) -> Result<StatsView, ApiError> {
        let stats = self.log.with(|log| log.stats(None, None))?;
        let view = |(name, a): (&String, &overread_audit::Agreement)| AgreementView {
            name: name.clone(),
            flags_shown: a.flags_shown as f64,
            confirmed: a.confirmed as f64,
            dismissed: a.dismissed as f64,
            missed_added: a.missed_added as f64,
            ppv: a.ppv,
            median_ms_to_decision: a.median_ms_to_decision,
        };
        Ok(StatsView {
            decisions: stats.decisions as f64,
            per_finding: stats.per_finding.iter().map(view).collect(),
            per_reader: stats.per_reader.iter().map(view).collect(),
            daily: stats
                .daily
                .iter()
                .map(|d| DailyAgreement {
                    day: d.day.clone(),
                    finding: d.finding.clone(),
                    confirmed: d.confirmed as f64,
                    dismissed: d.dismissed as f64,
                })
                .collect(),
        })
    }
}
