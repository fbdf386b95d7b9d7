//! What background work records in the audit log: triage results, PACS
//! transfers, the application stop. A write the log refuses is kept by the
//! journal and retried; the results it belongs to are shown once it is
//! written ([`Workstation::retry_audit`]).

use overread_audit::EventKind;
use overread_pacs::StudyRecord;

use super::journal::Event;
use super::reading::study_ref;
use super::{Change, Workstation};
use crate::api::{AuditHealth, StudyId};

impl Workstation {
    /// Records an event from background work (triage, PACS sync, stop),
    /// after any the log refused before. A refused event is kept in memory
    /// and retried (by later writes and [`Workstation::retry_audit`]); the
    /// status bar and Settings show how many wait. `study`'s result is
    /// shown once its event is recorded.
    pub(super) fn record_background(&self, event: Event, study: Option<StudyId>) {
        let kind = event.kind;
        let written = self.journal.record_or_keep(event, study);
        if written.kept {
            eprintln!("overread: the audit log did not record {kind:?} yet; kept to retry");
        }
        // The caller reports its own study's row.
        self.recorded(written.recorded, written.health, study);
    }

    /// Shows the results whose audit events are now recorded; reports the
    /// changed rows (but `reported`'s, which the caller reports itself).
    fn recorded(&self, ids: Vec<StudyId>, health: Option<AuditHealth>, reported: Option<StudyId>) {
        for &id in &ids {
            self.studies.update(id, |s| s.ai.recorded());
        }
        let ids: Vec<StudyId> = ids.into_iter().filter(|&id| Some(id) != reported).collect();
        if !ids.is_empty() || health.is_some() {
            self.emit(Change {
                ids,
                audit: health,
                ..Change::default()
            });
        }
    }

    /// Writes background audit events the log refused before, if it takes
    /// them now (the app calls this every few seconds while any wait).
    pub fn retry_audit(&self) {
        let (ids, health) = self.journal.retry();
        self.recorded(ids, health, None);
    }

    /// Background audit events not recorded yet, and why.
    pub fn audit_health(&self) -> AuditHealth {
        self.journal.health()
    }

    /// Records a study's arrival from a PACS (PS3.15 A.5.3.4 DICOM
    /// Instances Transferred).
    pub(super) fn record_transfer(&self, rec: &StudyRecord, complete: bool) {
        let study = self
            .studies
            .by_uid(&rec.study_uid)
            .and_then(|id| self.studies.get(id, |s| study_ref(&s.header)))
            .flatten();
        self.record_background(
            Event {
                study,
                detail: serde_json::json!({
                    "source": rec.source,
                    "instances": rec.instances.len(),
                    "expected": rec.expected.len(),
                    "complete": complete,
                }),
                ..Event::new(EventKind::InstancesTransferred, Some(self.reader()))
            },
            None,
        );
    }

    /// Records the application stop.
    pub fn close(&self) {
        self.record_background(
            Event::new(EventKind::ApplicationStop, Some(self.reader())),
            None,
        );
    }
}
