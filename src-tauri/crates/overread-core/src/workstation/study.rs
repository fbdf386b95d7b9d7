//! The studies on the worklist and their state: where each comes from,
//! whether its images are here, where its AI result stands, and what the
//! reader has recorded on it. Owns the worklist's table; every method takes
//! the table's lock once and calls nothing else.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use overread_audit::ModelRef;
use overread_dicom::Header;

use super::owned::Owned;
use crate::api::{AiStatus, Availability, DecisionView, StudyId};
use crate::hanging::StudyImage;
use crate::infer::Outcome;

/// Where the studies of local folders say they come from.
pub(crate) const LOCAL: &str = "local";

/// Whether a study's images are here, and where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Here {
    /// Every image is here; `path` is the instance shown and inferred (the
    /// first frontal view).
    Available { path: PathBuf },
    /// Being retrieved; `waiting` says why it has not arrived yet.
    Retrieving { waiting: Option<String> },
    /// Not every instance arrived: the ones that did can be viewed, never inferred.
    Partial {
        path: Option<PathBuf>,
        reason: String,
    },
    /// Removed from the PACS cache to make room.
    Evicted,
}

impl Here {
    pub(crate) fn availability(&self) -> Availability {
        match self {
            Here::Available { .. } => Availability::Available,
            Here::Retrieving { .. } => Availability::Retrieving,
            Here::Partial { .. } => Availability::Partial,
            Here::Evicted => Availability::Evicted,
        }
    }

    pub(crate) fn message(&self) -> Option<String> {
        match self {
            Here::Retrieving { waiting } => waiting.clone(),
            Here::Partial { reason, .. } => Some(reason.clone()),
            Here::Evicted => {
                Some("removed from the PACS cache; retrieved again at the next refresh".into())
            }
            Here::Available { .. } => None,
        }
    }

    /// The file the viewer shows, when there is one.
    pub(crate) fn path(&self) -> Option<&PathBuf> {
        match self {
            Here::Available { path }
            | Here::Partial {
                path: Some(path), ..
            } => Some(path),
            _ => None,
        }
    }

    fn complete(&self) -> bool {
        matches!(self, Here::Available { .. })
    }
}

/// Where a study's AI result stands.
#[derive(Debug, Clone)]
pub(crate) enum Ai {
    /// Waits for the study to be complete.
    Waiting,
    Queued,
    Running,
    /// The result, and the model that produced it (what a decision on it
    /// records, whatever model is loaded by then).
    Done(Arc<Outcome>, Option<ModelRef>),
    /// A result whose audit event the log has not recorded yet: nothing of
    /// it is shown (no flag, score or order) until it has.
    Unrecorded(Arc<Outcome>, Option<ModelRef>),
    Failed(String),
}

impl Ai {
    pub(crate) fn status(&self) -> AiStatus {
        match self {
            Ai::Waiting => AiStatus::Waiting,
            Ai::Queued => AiStatus::Queued,
            Ai::Running => AiStatus::Running,
            Ai::Done(o, _) => match o.as_ref() {
                Outcome::Inferred { inference, .. } => {
                    if inference.findings.iter().any(|f| f.flagged) {
                        AiStatus::Flagged
                    } else {
                        AiStatus::NoFlags
                    }
                }
                Outcome::Refused { .. } => AiStatus::Refused,
            },
            Ai::Unrecorded(..) => AiStatus::Unrecorded,
            Ai::Failed(_) => AiStatus::Error,
        }
    }

    pub(crate) fn message(&self) -> Option<String> {
        match self {
            Ai::Done(o, _) => match o.as_ref() {
                Outcome::Refused { reason } => Some(reason.clone()),
                Outcome::Inferred { .. } => None,
            },
            Ai::Unrecorded(..) => Some(
                "triaged; shown once the audit log has recorded it (see the status bar)".into(),
            ),
            Ai::Failed(m) => Some(m.clone()),
            _ => None,
        }
    }

    /// The result, now that its audit event is recorded.
    pub(crate) fn recorded(&mut self) {
        if let Ai::Unrecorded(o, m) = self {
            *self = Ai::Done(o.clone(), m.take());
        }
    }

    pub(crate) fn outcome(&self) -> Option<&Arc<Outcome>> {
        match self {
            Ai::Done(o, _) => Some(o),
            _ => None,
        }
    }

    /// The model behind the result, as audit rows name it.
    pub(crate) fn model(&self) -> Option<&ModelRef> {
        match self {
            Ai::Done(_, m) => m.as_ref(),
            _ => None,
        }
    }
}

/// What the reader has recorded on a study (from the audit log).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Reading {
    pub decisions: Vec<DecisionView>,
    pub impression_recorded: bool,
    /// Sign-off keys, oldest first (a later one corrects the earlier).
    pub signoffs: Vec<String>,
    /// Sign-off keys whose objects the audit log records as stored.
    pub stored: Vec<String>,
    /// Why the last attempt to send the results failed (not from the log).
    pub results_problem: Option<String>,
}

/// One study on the worklist.
#[derive(Debug, Clone)]
pub(crate) struct Study {
    pub id: StudyId,
    /// [`LOCAL`], or the PACS source it was retrieved from.
    pub source: String,
    pub here: Here,
    pub header: Header,
    pub images: u32,
    /// Every image here, in hanging order (empty until they arrive).
    pub files: Vec<StudyImage>,
    pub arrived: SystemTime,
    pub ai: Ai,
    pub reading: Reading,
    /// Its local source was removed: off the worklist until added again.
    pub removed: bool,
    /// Here only as a prior of a study on the worklist (found on a PACS for
    /// comparison): triaged like any study, never a worklist row.
    pub prior_only: bool,
    /// Earlier readers' decisions read back from where the study came from
    /// (the PACS's structured reports), oldest first; the audit log's own
    /// decisions are in `reading`.
    pub earlier: Vec<EarlierDecision>,
}

/// A study's image file as the decoders need it: where it is, and what
/// the header read at scan time says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageFile {
    pub path: PathBuf,
    pub sop_uid: Option<String>,
    /// JPEG 2000: first pixels come from a reduced-resolution decode.
    pub reducible: bool,
}

impl Study {
    /// Image `index`'s file in hanging order (0: the one shown and
    /// triaged), described by the header kept at scan time.
    pub(crate) fn image_file(&self, index: usize) -> Option<ImageFile> {
        let (path, header) = if index == 0 {
            let path = self.here.path()?;
            let header = self
                .files
                .iter()
                .find(|f| &f.path == path)
                .map_or(&self.header, |f| &f.header);
            (path, header)
        } else {
            let file = self.files.get(index)?;
            (&file.path, &file.header)
        };
        Some(ImageFile {
            path: path.clone(),
            sop_uid: header.sop_instance_uid.clone(),
            reducible: overread_dicom::TransferSyntax::from_uid(&header.transfer_syntax)
                .is_some_and(|ts| ts.is_reducible()),
        })
    }
}

/// One finding's assessment by an earlier reader, from a stored report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EarlierDecision {
    pub finding: String,
    /// confirm, dismiss or add_missed, as the audit log names them.
    pub decision: String,
    pub reason: Option<String>,
}

/// A study to put on the worklist, or to fill in when it is there but not
/// yet complete.
#[derive(Debug)]
pub(crate) struct Arrival {
    pub source: String,
    pub study_uid: String,
    pub here: Here,
    pub header: Header,
    pub images: u32,
    pub files: Vec<StudyImage>,
    pub reading: Reading,
    /// Retrieved only to compare with: see [`Study::prior_only`].
    pub prior_only: bool,
}

#[derive(Debug, Default)]
struct Table {
    studies: Vec<Study>,
    by_uid: HashMap<String, StudyId>,
}

/// The worklist's studies.
#[derive(Debug)]
pub(crate) struct Studies {
    table: Owned<Table>,
}

impl Studies {
    pub(crate) fn new() -> Studies {
        Studies {
            table: Owned::new("studies", Table::default()),
        }
    }

    /// Adds a study, or fills in one that is there but not complete (a PACS
    /// study being retrieved, partial or evicted). A complete study keeps
    /// its state. A study put for the worklist is on it from then on, even
    /// if it came as a prior. None when the table is full.
    pub(crate) fn put(&self, a: Arrival) -> Option<StudyId> {
        self.table.write(|t| {
            if let Some(&id) = t.by_uid.get(&a.study_uid) {
                let s = &mut t.studies[id.index()];
                s.removed = false;
                s.prior_only &= a.prior_only;
                if !s.here.complete() {
                    s.ai = if a.here.complete() {
                        Ai::Queued
                    } else {
                        Ai::Waiting
                    };
                    s.here = a.here;
                    // A listing from a query keeps what the files said.
                    if a.header.sop_instance_uid.is_some() || s.header.sop_instance_uid.is_none() {
                        s.header = a.header;
                        s.images = a.images;
                        s.files = a.files;
                        s.reading = a.reading;
                    }
                }
                return Some(id);
            }
            let id = StudyId::from_index(t.studies.len())?;
            t.by_uid.insert(a.study_uid, id);
            t.studies.push(Study {
                id,
                source: a.source,
                ai: if a.here.complete() {
                    Ai::Queued
                } else {
                    Ai::Waiting
                },
                here: a.here,
                header: a.header,
                images: a.images,
                files: a.files,
                arrived: SystemTime::now(),
                reading: a.reading,
                removed: false,
                prior_only: a.prior_only,
                earlier: Vec::new(),
            });
            Some(id)
        })
    }

    /// Reads one study.
    pub(crate) fn get<R>(&self, id: StudyId, f: impl FnOnce(&Study) -> R) -> Option<R> {
        self.table.read(|t| t.studies.get(id.index()).map(f))
    }

    /// Changes one study.
    pub(crate) fn update<R>(&self, id: StudyId, f: impl FnOnce(&mut Study) -> R) -> Option<R> {
        self.table.write(|t| t.studies.get_mut(id.index()).map(f))
    }

    /// The id of the study with this Study Instance UID.
    pub(crate) fn by_uid(&self, study_uid: &str) -> Option<StudyId> {
        self.table.read(|t| t.by_uid.get(study_uid).copied())
    }

    /// Maps every study on the worklist (a snapshot for the worklist and
    /// its counts); studies of a removed source, and those here only as
    /// priors, are left out.
    pub(crate) fn map<R>(&self, f: impl FnMut(&Study) -> R) -> Vec<R> {
        self.table.read(|t| {
            t.studies
                .iter()
                .filter(|s| !s.removed && !s.prior_only)
                .map(f)
                .collect()
        })
    }

    /// As [`Studies::map`], with the studies here only as priors.
    pub(crate) fn map_with_priors<R>(&self, f: impl FnMut(&Study) -> R) -> Vec<R> {
        self.table
            .read(|t| t.studies.iter().filter(|s| !s.removed).map(f).collect())
    }

    /// Puts a study that came as a prior on the worklist (a worklist query
    /// listed it); returns its id when it was a prior until now.
    pub(crate) fn claim(&self, study_uid: &str) -> Option<StudyId> {
        self.table.write(|t| {
            let id = *t.by_uid.get(study_uid)?;
            let s = &mut t.studies[id.index()];
            std::mem::replace(&mut s.prior_only, false).then_some(id)
        })
    }

    /// Takes local studies whose files are under none of `roots` off the
    /// worklist (their source was removed); returns their ids.
    pub(crate) fn remove_local_outside(&self, roots: &[PathBuf]) -> Vec<StudyId> {
        self.table.write(|t| {
            t.studies
                .iter_mut()
                .filter(|s| s.source == LOCAL && !s.removed)
                .filter(|s| {
                    let path = s.here.path();
                    !roots.iter().any(|r| path.is_some_and(|p| p.starts_with(r)))
                })
                .map(|s| {
                    s.removed = true;
                    s.id
                })
                .collect()
        })
    }

    /// Maps the studies with these ids (the rows of a change event).
    pub(crate) fn map_ids<R>(&self, ids: &[StudyId], mut f: impl FnMut(&Study) -> R) -> Vec<R> {
        self.table.read(|t| {
            ids.iter()
                .filter_map(|id| t.studies.get(id.index()).map(&mut f))
                .collect()
        })
    }

    /// Takes every queued study for triage, marking none yet.
    pub(crate) fn queued(&self) -> Vec<(StudyId, crate::triage::Job)> {
        self.table.read(|t| {
            t.studies
                .iter()
                .filter(|s| matches!(s.ai, Ai::Queued) && !s.removed)
                .filter_map(|s| {
                    let file = s.image_file(0)?;
                    let job = crate::triage::Job {
                        path: file.path,
                        sop_uid: file.sop_uid,
                    };
                    Some((s.id, job))
                })
                .collect()
        })
    }

    /// Fails every queued study with `message` (the model could not load);
    /// returns their ids.
    pub(crate) fn fail_queued(&self, message: &str) -> Vec<StudyId> {
        self.table.write(|t| {
            t.studies
                .iter_mut()
                .filter(|s| matches!(s.ai, Ai::Queued))
                .map(|s| {
                    s.ai = Ai::Failed(message.to_string());
                    s.id
                })
                .collect()
        })
    }

    /// Applies `f` to every study of `source` whose retrieval has not
    /// finished; returns their ids.
    pub(crate) fn update_retrieving(&self, source: &str, f: impl Fn(&mut Study)) -> Vec<StudyId> {
        self.table.write(|t| {
            t.studies
                .iter_mut()
                .filter(|s| s.source == source && matches!(s.here, Here::Retrieving { .. }))
                .map(|s| {
                    f(s);
                    s.id
                })
                .collect()
        })
    }

    /// Marks PACS studies whose files were evicted; returns their ids.
    pub(crate) fn evicted(&self, study_uids: &[String]) -> Vec<StudyId> {
        self.table.write(|t| {
            let ids: Vec<StudyId> = study_uids
                .iter()
                .filter_map(|u| t.by_uid.get(u).copied())
                .collect();
            for id in &ids {
                let s = &mut t.studies[id.index()];
                if s.source != LOCAL {
                    s.here = Here::Evicted;
                    if !matches!(s.ai, Ai::Done(..) | Ai::Unrecorded(..)) {
                        s.ai = Ai::Waiting;
                    }
                }
            }
            ids
        })
    }
}
