//! The reading workstation: the worklist, background triage, the viewer's
//! pixels and heatmaps, the reader's decisions and the audit screen. The
//! desktop app holds one [`Workstation`] and turns each of its methods into a
//! command; nothing here knows Tauri.
//!
//! The workstation is split by the state each part owns:
//!
//! | module | owns |
//! |---|---|
//! | [`study`] | the worklist's studies: availability, AI state, reading |
//! | [`settings`] | the session's settings (and their file) |
//! | [`journal`] | the open audit log and the audit screen's views |
//! | [`runner`] | the model, triage progress, cancellation, results cache |
//! | [`images`] | decoded images (one decoder thread) |
//! | [`pacs`] | PACS sources' states and the PACS cache; the sync |
//! | [`events`] | the listener told about worklist changes |
//!
//! [`recording`] holds what background work records in the audit log.
//!
//! [`reading`], [`view`] and [`order`] are pure rules and mappings. The
//! methods on `Workstation` (here, in `runner.rs` and `pacs.rs`) hold no
//! lock: they call one module at a time. Each module holds its own lock
//! only inside its methods and calls nothing from there ([`owned`]).

mod claims;
mod department;
mod earlier;
mod events;
mod governance;
mod hanging;
#[cfg(test)]
mod hardening_tests;
mod images;
mod journal;
mod order;
mod outbox;
mod owned;
mod pacs;
mod pacs_cache;
mod pacs_priors;
mod priors;
mod reading;
mod recording;
mod results;
#[cfg(test)]
mod results_tests;
mod runner;
mod settings;
mod site;
mod sources;
mod study;
#[cfg(test)]
mod tests;
mod view;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use overread_audit::{EventKind, Reader};
use overread_dicom::Limits;

pub(crate) use events::Change;
pub use events::Listener;
pub use order::order;
pub use settings::{load_settings, save_settings};

use crate::api::{
    ApiError, AuditEntry, ChainStatus, DecisionRequest, DecisionView, ErrorCode, ExportResult,
    ImpressionRequest, Settings, StatsView, StudyId, StudyView, Worklist, WorklistChange,
    WorklistRow,
};
use crate::infer::Outcome;
use crate::pixels::ViewerImage;
use journal::{Event, Journal};
use study::{LOCAL, Studies};

pub type WsResult<T> = Result<T, ApiError>;

/// The workstation state the app holds.
pub struct Workstation {
    settings: settings::SettingsStore,
    journal: Journal,
    studies: Studies,
    runner: runner::Runner,
    images: images::Images,
    /// Decoded frames shared by triage and the viewer (each image decoded once).
    frames: std::sync::Arc<crate::frames::Frames>,
    pacs: pacs::Pacs,
    department: department::Department,
    claims: claims::Claims,
    events: events::Events,
    limits: Limits,
    /// How long reading and decoding one file may take.
    deadline: Duration,
    runtime: Option<PathBuf>,
    /// The model store (`<data>/models`): what Settings may pick.
    model_store: PathBuf,
    /// The model folder, execution provider and inference server at open:
    /// what triage loads.
    model_at_start: (String, String, Option<String>),
    /// Signed-off results on their way to the PACS or the results folder.
    outbox: outbox::Outbox,
    /// The machine-wide settings' locks (fixed for the session).
    policy: crate::setup::Policy,
    #[cfg(test)]
    between_reads: owned::Owned<Option<std::sync::Arc<dyn Fn() + Send + Sync>>>,
}

impl std::fmt::Debug for Workstation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workstation")
            .field("audit", &self.journal)
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

fn unknown(id: StudyId) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownStudy,
        format!("no study {id} on the worklist"),
    )
}

impl Workstation {
    /// Checks the settings, opens the audit log, records the application
    /// start, and scans the sources into the worklist (headers only; fast).
    pub fn open(settings: Settings, audit_db: &Path, runtime: Option<PathBuf>) -> WsResult<Self> {
        Self::open_with(
            settings,
            audit_db,
            runtime,
            crate::deadline::DECODE_DEADLINE,
        )
    }

    /// As [`Workstation::open`], with another per-file decode deadline.
    pub(crate) fn open_with(
        settings: Settings,
        audit_db: &Path,
        runtime: Option<PathBuf>,
        deadline: Duration,
    ) -> WsResult<Self> {
        settings.validate()?;
        if let Some(dir) = audit_db.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| ApiError::new(ErrorCode::Audit, format!("{}: {e}", dir.display())))?;
        }
        let journal = Journal::new(crate::audit::open(audit_db)?);
        let mut start = Event::new(EventKind::ApplicationStart, Some(settings.audit_reader()));
        // The settings this session runs with (the model triage loads among
        // them), so every later change has a known starting point.
        start.detail = serde_json::json!({
            "app": "overread-app",
            "version": crate::APP_VERSION,
            "settings": settings.audited(),
        });
        journal.record(start)?;
        let limits = Limits::default();
        let model_at_start = (
            settings.model_dir.clone(),
            settings.execution_provider.clone(),
            settings.inference_server.clone(),
        );
        let frames = std::sync::Arc::new(crate::frames::Frames::default());
        let ws = Workstation {
            settings: settings::SettingsStore::new(settings),
            journal,
            studies: Studies::new(),
            runner: runner::Runner::default(),
            images: images::Images::new(limits, deadline, frames.clone()),
            frames,
            pacs: pacs::Pacs::new(audit_db.parent().unwrap_or(Path::new(".")).to_path_buf()),
            department: department::Department::new(),
            claims: claims::Claims::new(),
            events: events::Events::new(),
            limits,
            deadline,
            runtime,
            model_at_start,
            model_store: crate::models::store_for(audit_db),
            outbox: outbox::Outbox::new(audit_db.parent().unwrap_or(Path::new("."))),
            policy: crate::setup::Policy::default(),
            #[cfg(test)]
            between_reads: owned::Owned::new("test-hook", None),
        };
        ws.rescan()?;
        ws.load_cached_pacs();
        Ok(ws)
    }

    /// Who hears about worklist changes from triage and PACS sync.
    pub fn set_listener(&self, listener: Listener) {
        self.events.set(listener);
    }

    pub fn settings(&self) -> Settings {
        self.settings.get()
    }

    fn reader(&self) -> Reader {
        self.settings.read(Settings::audit_reader)
    }

    /// The rows of `ids` as the worklist shows them now (studies here only
    /// as priors have none), and whether any of them is here as a prior.
    fn rows(&self, ids: &[StudyId]) -> (Vec<WorklistRow>, bool) {
        if ids.is_empty() {
            return (Vec::new(), false);
        }
        let (cap, read_first) = self.row_settings();
        let now = SystemTime::now();
        let rows = self.studies.map_ids(ids, |s| {
            (!s.prior_only).then(|| view::worklist_row(s, now, cap, read_first))
        });
        let priors = rows.iter().any(Option::is_none);
        let mut rows: Vec<WorklistRow> = rows.into_iter().flatten().collect();
        self.with_claims(&mut rows);
        (rows, priors)
    }

    /// What a worklist row depends on in the settings: the maximum wait
    /// and read-first mode.
    fn row_settings(&self) -> (Duration, bool) {
        self.settings.read(|s| {
            (
                Duration::from_secs(u64::from(s.max_wait_minutes) * 60),
                s.read_first,
            )
        })
    }

    fn emit(&self, change: Change) {
        let (rows, priors) = self.rows(&change.ids);
        let sources = change.sources.then(|| self.source_statuses());
        self.events.emit(WorklistChange {
            rows,
            triage: change.triage,
            sources,
            model: change.model,
            audit: change.audit,
            scan: change.scan,
            priors: priors || change.priors,
            store: change.store,
        });
    }

    /// The worklist in reading order.
    pub fn worklist(&self) -> Worklist {
        let (cap, read_first) = self.row_settings();
        let now = SystemTime::now();
        let mut rows = self
            .studies
            .map(|s| view::worklist_row(s, now, cap, read_first));
        #[cfg(test)]
        if let Some(hook) = self.between_reads.read(Option::clone) {
            hook();
        }
        self.with_claims(&mut rows);
        order(&mut rows);
        let model = self.runner.model();
        Worklist {
            rows,
            triage: self.runner.progress(),
            model: model.model,
            model_error: model.error,
            sources: self.source_statuses(),
            audit: self.journal.health(),
            store: self.store_status(),
        }
    }

    /// The file shown for a study, or why there is none.
    pub(super) fn shown_file(&self, id: StudyId) -> WsResult<PathBuf> {
        let here = self
            .studies
            .get(id, |s| s.here.clone())
            .ok_or_else(|| unknown(id))?;
        here.path().cloned().ok_or_else(|| {
            let why = here
                .message()
                .unwrap_or_else(|| "it is being retrieved".into());
            ApiError::new(
                ErrorCode::NotAvailable,
                format!("this study's images are not here: {why}"),
            )
        })
    }

    /// Opens a study for viewing: decodes it (cached), records that it was
    /// opened (PS3.15 A.5.3.8), and returns what the viewer shows.
    pub fn open_study(&self, id: StudyId) -> WsResult<StudyView> {
        let image = self.first_image(id, 0)?;
        let view = self.study_view(id, &image)?;
        let (study, from_pacs) = self
            .studies
            .get(id, |s| (reading::study_ref(&s.header), s.source != LOCAL))
            .ok_or_else(|| unknown(id))?;
        if let Some(study) = study {
            if from_pacs {
                self.pacs.touch(&study.study_uid);
            }
            self.opened(study.study_uid.clone());
            self.journal.record(Event {
                study: Some(study),
                ..Event::new(EventKind::StudyOpened, Some(self.reader()))
            })?;
        }
        Ok(view)
    }

    fn study_view(&self, id: StudyId, image: &ViewerImage) -> WsResult<StudyView> {
        let (read_first, viewing) = self.settings.read(|s| (s.read_first, s.viewing.clone()));
        let ctx = view::ViewContext {
            model: self.runner.model_view(),
            intended: self.runner.intended_use(),
            read_first,
            viewing,
        };
        let view = self
            .studies
            .get(id, |s| view::study_view(s, image, ctx))
            .ok_or_else(|| unknown(id))?;
        Ok(self.with_priors(id, view))
    }

    /// One finding's heatmap registered to the image's pixel grid, as one
    /// byte per pixel (0–255), for `overread://localhost/heatmap/{id}/{label}`.
    pub fn heatmap(&self, id: StudyId, label: &str) -> WsResult<Vec<u8>> {
        let read_first = self.settings.read(|s| s.read_first);
        let outcome = self
            .studies
            .get(id, |s| {
                (!reading::ai_hidden(read_first, s))
                    .then(|| s.ai.outcome().cloned())
                    .flatten()
            })
            .ok_or_else(|| unknown(id))?;
        let no_result = |m: &str| ApiError::new(ErrorCode::NoResult, m);
        let outcome = outcome.ok_or_else(|| no_result("this study has no AI result to show"))?;
        let Outcome::Inferred { inference, .. } = outcome.as_ref() else {
            return Err(no_result("this study was refused by the model"));
        };
        let reg = inference.registered(label).ok_or_else(|| {
            ApiError::new(
                ErrorCode::NoHeatmap,
                format!("the model has no heatmap for {label:?}"),
            )
        })?;
        Ok(reg
            .values
            .iter()
            .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect())
    }

    /// Records the reader's decision; returns it as recorded (after COMMIT).
    pub fn decide(&self, id: StudyId, request: &DecisionRequest) -> WsResult<DecisionView> {
        self.check_claim(id)?;
        let (reader, read_first) = self.settings.read(|s| (s.audit_reader(), s.read_first));
        let workstation_id = self.journal.workstation_id();
        let event = self
            .studies
            .get(id, |s| {
                reading::decision_event(s, request, reader, workstation_id, read_first)
            })
            .ok_or_else(|| unknown(id))??;
        let record = self.journal.decide(&event)?;
        let view = reading::decision_view(&record).ok_or_else(|| {
            ApiError::new(ErrorCode::Internal, "the recorded row is not a decision")
        })?;
        self.studies
            .update(id, |s| s.reading.decisions.push(view.clone()));
        self.emit(Change::rows(vec![id]));
        Ok(view)
    }

    /// Read-first mode: records the unaided impression; the AI is shown after.
    pub fn record_impression(
        &self,
        id: StudyId,
        request: &ImpressionRequest,
    ) -> WsResult<StudyView> {
        reading::check_impression(&request.impression, &request.findings)?;
        self.check_claim(id)?;
        let study = self
            .studies
            .get(id, |s| reading::study_ref(&s.header))
            .ok_or_else(|| unknown(id))?
            .ok_or_else(reading::invalid_study)?;
        self.journal.record(Event {
            study: Some(study),
            detail: serde_json::json!({
                "impression": request.impression,
                "findings": request.findings,
                "note": request.note,
            }),
            ..Event::new(EventKind::UnaidedImpression, Some(self.reader()))
        })?;
        self.studies
            .update(id, |s| s.reading.impression_recorded = true);
        self.emit(Change::rows(vec![id]));
        let image = self.first_image(id, 0)?;
        self.study_view(id, &image)
    }

    /// The most recent audit rows, newest first.
    pub fn audit_recent(&self, limit: u32) -> WsResult<Vec<AuditEntry>> {
        self.journal.recent(limit)
    }

    /// Walks the hash chain, and records that the log was used.
    pub fn verify(&self) -> WsResult<ChainStatus> {
        self.journal.verify(self.reader())
    }

    /// Exports the whole log as CSV (plain or de-identified) to `path`, an
    /// absolute path ending in `.csv` in a folder that exists.
    pub fn export(&self, path: &Path, deidentify: bool) -> WsResult<ExportResult> {
        if !path.is_absolute() {
            return Err(ApiError::invalid("the export path must be absolute"));
        }
        if path.extension().and_then(|e| e.to_str()) != Some("csv") {
            return Err(ApiError::invalid("the export file name must end in .csv"));
        }
        if !path.parent().is_some_and(Path::is_dir) {
            return Err(ApiError::invalid("the export folder does not exist"));
        }
        self.journal.export(path, deidentify, self.reader())
    }

    /// Agreement statistics over effective decisions, with daily counts.
    pub fn stats(&self) -> WsResult<StatsView> {
        self.journal.stats()
    }

    /// Checks and takes new settings; a changed reader is recorded (PS3.15
    /// A.5.3.17). A new model or provider takes effect at the next start.
    pub fn update_settings(&self, new: Settings) -> WsResult<Settings> {
        self.apply_settings(new, true)
    }

    /// `update_settings`; `rescan`: false when the caller has just read
    /// the changed sources itself.
    pub(super) fn apply_settings(&self, new: Settings, rescan: bool) -> WsResult<Settings> {
        new.validate()?;
        self.policy.check(&new)?;
        let old = self.settings.get();
        // From the reader's window, only an installed model (checked and
        // recorded when it was installed) can be chosen.
        if new.model_dir != old.model_dir
            && !crate::models::is_installed(&self.model_store, &new.model_dir)
        {
            return Err(ApiError::invalid(
                "pick an installed model (an administrator installs one with `overread model install DIR`)",
            ));
        }
        if old.reader != new.reader {
            self.journal.record(Event {
                detail: serde_json::json!({ "previous_reader_id": old.reader.id }),
                ..Event::new(EventKind::UserIdentityChanged, Some(new.audit_reader()))
            })?;
        }
        // Recorded before they take effect: a change the log refuses is
        // not made.
        if let Some(changed) = new.changed_from(&old) {
            self.journal.record(Event {
                detail: serde_json::json!({
                    "changed": changed,
                    "applies": "model and execution provider at the next start; the rest now",
                }),
                ..Event::new(EventKind::SettingsChanged, Some(new.audit_reader()))
            })?;
        }
        self.settings.replace(new.clone());
        if rescan && old.sources != new.sources {
            self.sources_changed()?;
        }
        Ok(new)
    }

    /// The models Settings may pick.
    pub fn installed_models(&self) -> Vec<crate::api::InstalledModel> {
        crate::models::installed(&self.model_store)
    }
}
