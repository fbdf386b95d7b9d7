//! The workstation's audit journal: the open log, what is recorded in it,
//! and the audit screen's views of it. Owns the `AuditLog`; each method
//! holds its lock for one call into the audit crate and nothing else.

use std::collections::{HashMap, VecDeque};
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
    AgreementView, ApiError, AuditEntry, AuditHealth, ChainStatus, DailyAgreement, ErrorCode,
    ExportResult, StatsView, StudyId,
};

/// Background events kept in memory while the log refuses writes. At 150
/// studies a day this is months of events; past it, further events are
/// counted as lost and the count is shown.
const KEPT_LIMIT: usize = 50_000;

/// A background event the log has not recorded yet, and the study whose
/// result waits for it.
#[derive(Debug)]
struct Kept {
    event: OtherEvent,
    study: Option<StudyId>,
}

/// The open log and what it still owes.
#[derive(Debug)]
struct State {
    log: AuditLog,
    kept: VecDeque<Kept>,
    /// Why the last write failed, while any event is kept.
    error: Option<String>,
    lost: u64,
}

impl State {
    /// Writes the kept events in order, stopping at the first failure;
    /// returns the studies whose events were written.
    fn flush(&mut self) -> Vec<StudyId> {
        let mut written = Vec::new();
        while let Some(next) = self.kept.front() {
            match self.log.record_event(&next.event) {
                Ok(_) => {
                    written.extend(self.kept.pop_front().and_then(|k| k.study));
                }
                Err(e) => {
                    self.error = Some(e.to_string());
                    return written;
                }
            }
        }
        self.error = None;
        written
    }

    fn health(&self) -> AuditHealth {
        AuditHealth {
            unrecorded: self.kept.len() as f64,
            lost: self.lost as f64,
            error: self.error.clone(),
        }
    }
}

/// What a background write did.
#[derive(Debug)]
pub(crate) struct Written {
    /// Studies whose results are now recorded (this event's, and kept ones').
    pub recorded: Vec<StudyId>,
    /// This event is kept in memory, not yet recorded.
    pub kept: bool,
    /// The health after the write, when it changed.
    pub health: Option<AuditHealth>,
}

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
    log: Exclusive<State>,
    /// This workstation's id, read once.
    workstation_id: String,
}

impl Journal {
    pub(crate) fn new(log: AuditLog) -> Journal {
        Journal {
            log: Exclusive::new(
                "audit",
                State {
                    log,
                    kept: VecDeque::new(),
                    error: None,
                    lost: 0,
                },
            ),
            workstation_id: crate::audit::workstation_id(),
        }
    }

    pub(crate) fn workstation_id(&self) -> String {
        self.workstation_id.clone()
    }

    fn other(&self, e: Event) -> OtherEvent {
        OtherEvent {
            kind: e.kind,
            reader: e.reader,
            workstation_id: self.workstation_id.clone(),
            study: e.study,
            model: e.model,
            execution_provider: e.execution_provider,
            detail: e.detail,
        }
    }

    /// Records a PS3.15 event the reader waits for; returns it as stored
    /// (after COMMIT), or the error, which the reader sees.
    pub(crate) fn record(&self, e: Event) -> Result<Record, ApiError> {
        let event = self.other(e);
        Ok(self.log.with(|st| st.log.record_event(&event))?)
    }

    /// Records an event of background work (triage, transfer, stop) after
    /// any kept ones, in order. When the log refuses, the event is kept in
    /// memory with the time it happened and written by a later call or
    /// [`Journal::retry`]; nothing is dropped silently.
    pub(crate) fn record_or_keep(&self, e: Event, study: Option<StudyId>) -> Written {
        let mut event = self.other(e);
        self.log.with(|st| {
            let before = st.health();
            let mut recorded = st.flush();
            let mut kept = false;
            if st.kept.is_empty() {
                match st.log.record_event(&event) {
                    Ok(_) => recorded.extend(study),
                    Err(e) => {
                        st.error = Some(e.to_string());
                        kept = true;
                    }
                }
            } else {
                kept = true;
            }
            if kept {
                if st.kept.len() < KEPT_LIMIT {
                    if let Some(detail) = event.detail.as_object_mut() {
                        detail.insert("occurred_at".into(), overread_audit::now_rfc3339().into());
                    }
                    st.kept.push_back(Kept { event, study });
                } else {
                    st.lost += 1;
                }
            }
            let after = st.health();
            Written {
                recorded,
                kept,
                health: (after != before).then_some(after),
            }
        })
    }

    /// Tries the kept events again; returns the studies now recorded and
    /// the health when it changed.
    pub(crate) fn retry(&self) -> (Vec<StudyId>, Option<AuditHealth>) {
        self.log.with(|st| {
            if st.kept.is_empty() {
                return (Vec::new(), None);
            }
            let before = st.health();
            let recorded = st.flush();
            let after = st.health();
            (recorded, (after != before).then_some(after))
        })
    }

    /// Events the log has not recorded yet, and why.
    pub(crate) fn health(&self) -> AuditHealth {
        self.log.with(|st| st.health())
    }

    /// Records a decision; returns it as stored (after COMMIT).
    pub(crate) fn decide(&self, event: &DecisionEvent) -> Result<Record, ApiError> {
        Ok(self.log.with(|st| st.log.record_decision(event))?)
    }

    /// Decisions, unaided impressions and sign-offs already in the log, by
    /// SOP Instance UID, so a study's reading survives a restart.
    pub(crate) fn readings(&self) -> Result<HashMap<String, Reading>, ApiError> {
        let mut out: HashMap<String, Reading> = HashMap::new();
        self.log.with(|st| {
            st.log.for_each_record(
                &[
                    EventKind::Decision,
                    EventKind::UnaidedImpression,
                    EventKind::ResultsSignedOff,
                    EventKind::ResultsStored,
                ],
                |record| {
                    let Some(sop) = record.study.as_ref().map(|s| s.sop_uid.clone()) else {
                        return Ok(());
                    };
                    let entry = out.entry(sop).or_default();
                    let key = || {
                        record
                            .detail
                            .as_ref()
                            .and_then(|d| d.get("signoff_key"))
                            .and_then(|k| k.as_str())
                            .map(str::to_string)
                    };
                    match record.kind {
                        EventKind::Decision => entry.decisions.extend(decision_view(&record)),
                        EventKind::UnaidedImpression => entry.impression_recorded = true,
                        EventKind::ResultsSignedOff => entry.signoffs.extend(key()),
                        _ => entry.stored.extend(key()),
                    }
                    Ok(())
                },
            )
        })?;
        Ok(out)
    }

    /// The latest sign-off of a study recorded here.
    pub(crate) fn latest_signoff(
        &self,
        study_uid: &str,
    ) -> Result<Option<crate::results::SignOff>, ApiError> {
        let mut latest = None;
        self.log.with(|st| {
            st.log
                .for_each_record(&[EventKind::ResultsSignedOff], |record| {
                    if record
                        .study
                        .as_ref()
                        .is_some_and(|s| s.study_uid == study_uid)
                    {
                        latest = record.detail.clone();
                    }
                    Ok(())
                })
        })?;
        latest.map(serde_json::from_value).transpose().map_err(|e| {
            ApiError::new(
                crate::api::ErrorCode::Audit,
                format!("a sign-off row cannot be read: {e}"),
            )
        })
    }

    /// The log's last row.
    pub(crate) fn head(&self) -> Result<i64, ApiError> {
        Ok(self.log.with(|st| st.log.head())?.0)
    }

    /// Rows with `from <= seq`, in order, at most `n` (for the department
    /// store; the lock is held for this read only).
    pub(crate) fn rows(
        &self,
        from: i64,
        n: usize,
    ) -> Result<Vec<overread_audit::row::Row>, ApiError> {
        Ok(self.log.with(|st| st.log.rows(from, n as i64))?)
    }

    /// The newest rows, newest first.
    pub(crate) fn recent(&self, limit: u32) -> Result<Vec<AuditEntry>, ApiError> {
        let limit = i64::from(limit.clamp(1, 1000));
        let records = self.log.with(|st| {
            let (head, _) = st.log.head()?;
            st.log.records((head - limit + 1).max(1), limit)
        })?;
        Ok(records.iter().rev().map(audit_entry).collect())
    }

    /// Walks the hash chain and records that the log was used.
    pub(crate) fn verify(&self, reader: Reader) -> Result<ChainStatus, ApiError> {
        let verification = self.log.with(|st| {
            let v = st.log.verify()?;
            crate::audit::record_use(&mut st.log, Some(reader), "verify")?;
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
        let summary = self.log.with(|st| st.log.export_csv(path, &options))?;
        Ok(ExportResult {
            path: path.display().to_string(),
            rows: summary.rows as f64,
            deidentified: deidentify,
        })
    }

    /// Agreement per finding and reader, with daily counts for the plots.
    pub(crate) fn stats(&self) -> Result<StatsView, ApiError> {
        let stats = self.log.with(|st| st.log.stats(None, None))?;
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

    /// This log's rows for a governance report (read under the log's lock,
    /// like the agreement statistics: a workstation's log is small).
    pub(crate) fn governance(
        &self,
        options: crate::governance::Options,
    ) -> Result<crate::governance::Collected, ApiError> {
        self.log
            .with(|st| crate::governance::from_log(&st.log, options))
            .map_err(|e| ApiError::new(ErrorCode::Audit, e.to_string()))
    }

    /// This site's use of the model with these weights, from the log's
    /// events (read under the log's lock; model events are few).
    pub(crate) fn site_state(&self, model_sha256: &str) -> Result<crate::site::SiteState, String> {
        self.log
            .with(|st| crate::site::SiteState::from_log(&st.log, model_sha256))
    }
}
