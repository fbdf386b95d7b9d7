//! PACS sources on the worklist.
//!
//! Each source named in the PACS configuration (settings `pacs_config`) is
//! asked for its worklist studies (by default today's CR and DX); each new
//! study appears at once as retrieving, is retrieved into the local cache in
//! the background, and is queued for triage only when every instance the
//! PACS listed arrived and decodes. A study that did not arrive whole is
//! partial and never inferred. A source that fails is shown offline with the
//! reason, and the studies already in the cache stay fully usable: they are
//! put on the worklist at start without any network.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use overread_dicom::Header;
use overread_pacs::{self as pacs, Cache, CancellationToken, Client, PacsConfig, StudyRecord};

use super::owned::Owned;
use super::study::{Arrival, Here, Reading};
use super::{Change, Workstation};
use crate::api::{Availability, SourceState, SourceStatus, StudyId};

/// This module's state: the sources as the worklist shows them, and the
/// PACS cache once opened.
#[derive(Debug)]
pub(crate) struct Pacs {
    sources: Owned<Vec<SourceStatus>>,
    cache: Owned<Option<Cache>>,
    /// The cache folder when the configuration names none.
    default_dir: PathBuf,
    /// The audit log's folder, whose disk keeps the free-space reserve.
    audit_dir: PathBuf,
    syncing: AtomicBool,
    /// Priors asked for and being retrieved.
    pub(super) priors: super::pacs_priors::PriorRequests,
}

/// A one-line reason for a partial study.
pub(super) fn partial_message(rec: &StudyRecord) -> String {
    let mut m = if rec.expected.is_empty() {
        format!(
            "{} instances retrieved; the PACS's list of the study did not arrive",
            rec.instances.len()
        )
    } else {
        format!(
            "{} of {} instances retrieved",
            rec.instances.len(),
            rec.expected.len()
        )
    };
    if let Some(why) = rec.problems.values().next() {
        m.push_str(": ");
        m.push_str(why);
    }
    m
}

fn source_status(name: &str, kind: &str, state: SourceState) -> SourceStatus {
    SourceStatus {
        name: name.into(),
        kind: kind.into(),
        state,
        message: None,
        studies: 0,
        complete: 0,
        instances_done: 0,
        instances_total: 0,
        last_answer: None,
    }
}

impl Pacs {
    /// `audit_dir`: the audit log's folder (the cache's default home).
    pub(crate) fn new(audit_dir: PathBuf) -> Pacs {
        Pacs {
            sources: Owned::new("sources", Vec::new()),
            cache: Owned::new("pacs-cache", None),
            default_dir: audit_dir.join("pacs-cache"),
            audit_dir,
            syncing: AtomicBool::new(false),
            priors: super::pacs_priors::PriorRequests::new(),
        }
    }

    /// The cache for `config`: opened once (opening clears tmp/, where a
    /// retrieve may be writing), again only if its folder or size changed.
    fn cache_for(&self, config: &PacsConfig) -> Result<Cache, String> {
        let dir = config
            .cache
            .dir
            .clone()
            .unwrap_or_else(|| self.default_dir.clone());
        let max = config.cache.max_bytes;
        let held = self.cache.read(|c| {
            c.as_ref()
                .filter(|c| {
                    c.dir() == dir
                        && c.max_bytes() == max
                        && c.limits().max_study_bytes == config.cache.max_study_bytes
                        && c.limits().max_study_instances == config.cache.max_study_instances
                        && c.limits().min_free_bytes == config.cache.min_free_bytes
                })
                .cloned()
        });
        if let Some(c) = held {
            return Ok(c);
        }
        // The audit log's disk keeps the reserve too: a decision must
        // always be able to commit.
        let limits =
            overread_pacs::StudyLimits::from_config(&config.cache, vec![self.audit_dir.clone()]);
        let c = Cache::open(&dir, max)
            .map_err(|e| e.to_string())?
            .with_limits(limits);
        self.cache.write(|held| *held = Some(c.clone()));
        Ok(c)
    }

    /// The configuration cannot be used: one offline entry that says why.
    pub(super) fn config_failed(&self, message: String) {
        let mut status = source_status("PACS configuration", "", SourceState::Offline);
        status.message = Some(message);
        self.sources.write(|s| *s = vec![status]);
    }

    /// The configured sources, keeping the state of those already known.
    pub(super) fn init_sources(&self, config: &PacsConfig) {
        self.sources.write(|statuses| {
            let old = std::mem::take(statuses);
            for src in config.sources.iter().filter(|s| s.worklist.enabled) {
                let kind = match &src.kind {
                    pacs::SourceKind::Dicomweb(_) => "dicomweb",
                    pacs::SourceKind::Dimse(_) => "dimse",
                };
                statuses.push(
                    old.iter()
                        .find(|o| o.name == src.name && o.kind == kind)
                        .cloned()
                        .unwrap_or_else(|| source_status(&src.name, kind, SourceState::NotChecked)),
                );
            }
        });
    }

    fn set_source(&self, name: &str, f: impl FnOnce(&mut SourceStatus)) {
        self.sources
            .write(|s| s.iter_mut().find(|s| s.name == name).map(f));
    }

    fn offline(&self, name: &str, e: &pacs::Error) {
        self.set_source(name, |s| {
            s.state = SourceState::Offline;
            s.message = Some(e.to_string());
            s.instances_done = 0;
            s.instances_total = 0;
        });
    }

    /// Marks a PACS study used now, for the cache's least-recently-used
    /// eviction (the cache it came from is open already).
    pub(crate) fn touch(&self, study_uid: &str) {
        if let Some(cache) = self.cache.read(Option::clone)
            && let Err(e) = cache.touch(study_uid)
        {
            eprintln!("overread: PACS cache: {e}");
        }
    }
}

impl Workstation {
    /// The PACS configuration and its cache, when the settings name one.
    pub(super) fn pacs_setup(&self) -> Option<Result<(PacsConfig, Cache), String>> {
        let path = self.settings.read(|s| s.pacs_config.clone())?;
        Some(
            PacsConfig::load(Path::new(&path))
                .map_err(|e| e.to_string())
                .inspect(|config| {
                    for warning in config.warnings() {
                        eprintln!("overread: warning: {warning}");
                    }
                })
                .and_then(|config| Ok((self.pacs.cache_for(&config)?, config)))
                .map(|(cache, config)| (config, cache)),
        )
    }

    /// The sources with their study counts, for the worklist.
    pub(crate) fn source_statuses(&self) -> Vec<SourceStatus> {
        let mut statuses = self.pacs.sources.read(Vec::clone);
        if statuses.is_empty() {
            return statuses;
        }
        let counts: Vec<(String, bool)> = self.studies.map(|s| {
            (
                s.source.clone(),
                s.here.availability() == Availability::Available,
            )
        });
        for st in &mut statuses {
            let mine = counts.iter().filter(|(source, _)| *source == st.name);
            st.studies = mine.clone().count() as u32;
            st.complete = mine.filter(|(_, complete)| *complete).count() as u32;
        }
        statuses
    }

    /// Whether the study is on the worklist and complete.
    pub(super) fn has_complete(&self, study_uid: &str) -> bool {
        self.studies.by_uid(study_uid).is_some_and(|id| {
            self.studies
                .get(id, |s| s.here.availability() == Availability::Available)
                .unwrap_or(false)
        })
    }

    /// Shows a study the PACS listed as retrieving, from its query match
    /// (`prior_only`: listed as a prior, not for the worklist).
    pub(super) fn put_retrieving(
        &self,
        source: &str,
        m: &pacs::StudyMatch,
        prior_only: bool,
    ) -> Option<StudyId> {
        // A radiograph study may hold reports and presentation states too.
        let modality = m
            .modalities
            .iter()
            .find(|m| matches!(m.as_str(), "CR" | "DX"))
            .or(m.modalities.first());
        let header = Header {
            study_instance_uid: Some(m.study_uid.clone()),
            patient_id: m.patient_id.clone(),
            patient_name: m.patient_name.clone(),
            study_date: m.study_date.clone(),
            accession_number: m.accession_number.clone(),
            study_description: m.description.clone(),
            modality: modality.cloned(),
            ..Header::default()
        };
        self.studies.put(Arrival {
            source: source.into(),
            study_uid: m.study_uid.clone(),
            here: Here::Retrieving { waiting: None },
            header,
            images: m.instances.unwrap_or(0),
            files: Vec::new(),
            reading: Reading::default(),
            prior_only,
        })
    }

    /// Marks a study that did not arrive whole.
    pub(super) fn put_partial(&self, study_uid: &str, reason: String) -> Option<StudyId> {
        let id = self.studies.by_uid(study_uid)?;
        self.studies.update(id, |s| {
            let path = s.here.path().cloned();
            s.here = Here::Partial { path, reason };
            s.ai = super::study::Ai::Waiting;
        });
        Some(id)
    }

    /// Asks every PACS source for its worklist studies, retrieves the new
    /// ones into the cache and queues for triage those that arrived
    /// complete; then evicts least recently used studies beyond the cache's
    /// size, never one still to be read. Blocks (the app runs it on its own
    /// thread); changes go to the listener as they happen. Returns how many
    /// studies it queued for triage.
    pub fn sync_pacs(&self) -> usize {
        if self.pacs.syncing.swap(true, Ordering::SeqCst) {
            return 0;
        }
        struct Lower<'a>(&'a AtomicBool);
        impl Drop for Lower<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        let _lower = Lower(&self.pacs.syncing);
        self.sync_pacs_once()
    }

    fn sync_pacs_once(&self) -> usize {
        let (config, cache) = match self.pacs_setup() {
            None => {
                self.pacs.sources.write(Vec::clear);
                return 0;
            }
            Some(Err(message)) => {
                self.pacs.config_failed(message);
                self.emit(Change::sources(Vec::new()));
                return 0;
            }
            Some(Ok(v)) => v,
        };
        self.pacs.init_sources(&config);
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                self.pacs
                    .config_failed(format!("cannot start the network runtime: {e}"));
                self.emit(Change::sources(Vec::new()));
                return 0;
            }
        };
        let cancel = CancellationToken::new();
        // Readings already recorded, read from the log only when a study is
        // added (the log may hold millions of rows).
        let mut readings = None;
        let mut queued = 0;
        for source in config.sources.iter().filter(|s| s.worklist.enabled) {
            let name = source.name.as_str();
            self.pacs
                .set_source(name, |s| s.state = SourceState::Checking);
            self.emit(Change::sources(Vec::new()));
            let matches = Client::new(source).and_then(|client| {
                let found =
                    runtime.block_on(client.search_studies(&source.worklist.query(), &cancel))?;
                Ok((client, found))
            });
            let (client, matches) = match matches {
                Ok(v) => v,
                Err(e) => {
                    self.pacs.offline(name, &e);
                    self.emit(Change::sources(Vec::new()));
                    continue;
                }
            };
            self.pacs.set_source(name, |s| {
                s.state = SourceState::Online;
                s.message = None;
                s.last_answer = Some(overread_audit::now_rfc3339());
            });
            // Studies here as priors until now join the worklist.
            let mut shown = self.claim_priors(&cache, &matches);
            let todo: Vec<_> = matches
                .iter()
                .filter(|m| !self.has_complete(&m.study_uid))
                .collect();
            shown.extend(
                todo.iter()
                    .filter_map(|m| self.put_retrieving(name, m, false)),
            );
            self.emit(Change::sources(shown));
            for m in todo {
                let mut progress = |p: &pacs::Progress| {
                    self.pacs.set_source(name, |s| {
                        s.instances_done = p.done as u32;
                        s.instances_total = p.total as u32;
                    });
                    self.emit(Change::sources(Vec::new()));
                };
                let result = runtime.block_on(pacs::retrieve_study(
                    &client,
                    name,
                    &m.study_uid,
                    &cache,
                    &cancel,
                    &mut progress,
                ));
                self.pacs.set_source(name, |s| {
                    s.instances_done = 0;
                    s.instances_total = 0;
                });
                let record = match &result {
                    Ok(rec) => Some(rec.clone()),
                    Err(_) => cache.study(&m.study_uid).ok().flatten(),
                };
                let added = record.as_ref().and_then(|rec| {
                    let readings =
                        readings.get_or_insert_with(|| self.journal.readings().unwrap_or_default());
                    self.add_cached(&cache, rec, readings)
                });
                let changed = match (&result, &record) {
                    (Ok(rec), _) if rec.is_complete() && added.is_some() => {
                        queued += 1;
                        self.record_transfer(rec, true);
                        added
                    }
                    (Ok(rec), _) => {
                        self.record_transfer(rec, false);
                        self.put_partial(&m.study_uid, partial_message(rec))
                    }
                    (Err(e), rec) => {
                        let message = match rec {
                            Some(rec) if !rec.problems.is_empty() => partial_message(rec),
                            Some(rec) => format!("{}: {e}", partial_message(rec)),
                            None => format!("nothing retrieved: {e}"),
                        };
                        self.put_partial(&m.study_uid, message)
                    }
                };
                self.emit(Change::sources(changed.into_iter().collect()));
                // The PACS went away: the rest waits for the next sync.
                if let Err(e) = &result
                    && (e.is_transient() || matches!(e, pacs::Error::Protocol { .. }))
                {
                    self.pacs.offline(name, e);
                    let waiting = format!(
                        "waiting for {name}, which is offline; retried at the next refresh"
                    );
                    let ids = self.studies.update_retrieving(name, |s| {
                        s.here = Here::Retrieving {
                            waiting: Some(waiting.clone()),
                        };
                    });
                    self.emit(Change::sources(ids));
                    break;
                }
            }
        }
        self.evict(&cache);
        self.emit(Change::sources(Vec::new()));
        queued
    }
}

#[cfg(test)]
#[path = "pacs_tests.rs"]
mod tests;
