//! Who hears about worklist changes (the app forwards them to the window as
//! the `worklist-change` event; the CLI prints progress). Listeners are
//! called with no lock held.

use std::sync::Arc;

use super::owned::Owned;
use crate::api::{AuditHealth, ModelStatus, ScanProgress, StudyId, TriageProgress, WorklistChange};

pub type Listener = Arc<dyn Fn(WorklistChange) + Send + Sync>;

pub(crate) struct Events {
    listener: Owned<Option<Listener>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}

impl Events {
    pub(crate) fn new() -> Events {
        Events {
            listener: Owned::new("events", None),
        }
    }

    pub(crate) fn set(&self, listener: Listener) {
        self.listener.write(|l| *l = Some(listener));
    }

    /// Tells the listener, if any; the lock is released before the call.
    pub(crate) fn emit(&self, change: WorklistChange) {
        if let Some(listener) = self.listener.read(Option::clone) {
            listener(change);
        }
    }
}

/// What changed, before it is turned into a [`WorklistChange`].
#[derive(Debug, Default)]
pub(crate) struct Change {
    pub(crate) ids: Vec<StudyId>,
    pub(crate) triage: Option<TriageProgress>,
    pub(crate) sources: bool,
    pub(crate) model: Option<ModelStatus>,
    pub(crate) audit: Option<AuditHealth>,
    pub(crate) scan: Option<ScanProgress>,
    /// A study here only as a prior changed.
    pub(crate) priors: bool,
    /// The department store's state changed.
    pub(crate) store: Option<crate::api::StoreStatus>,
}

impl Change {
    pub(crate) fn rows(ids: Vec<StudyId>) -> Change {
        Change {
            ids,
            ..Change::default()
        }
    }

    pub(crate) fn progress(p: TriageProgress) -> Change {
        Change {
            triage: Some(p),
            ..Change::default()
        }
    }

    pub(crate) fn sources(ids: Vec<StudyId>) -> Change {
        Change {
            ids,
            sources: true,
            ..Change::default()
        }
    }
}
