//! Background triage of the worklist: the model, progress, cancellation and
//! the results cache are this module's state; the run itself
//! ([`Workstation::run_triage`]) only calls other modules' methods, never
//! under a lock.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use overread_audit::{EventKind, ModelRef};
use overread_infer::manifest::IntendedUse;
use overread_infer::{EpChoice, Model, SiteUse};

use super::journal::Event;
use super::owned::Owned;
use super::reading::study_ref;
use super::study::Ai;
use super::view::model_view;
use super::{Change, Workstation};
use crate::api::{ModelStatus, ModelView, StudyId, TriageProgress};
use crate::infer::Outcome;
use crate::site::GoLive;
use crate::triage::{self, ResultCache, TriageEvent, TriageResult};

#[derive(Debug, Default)]
struct State {
    progress: TriageProgress,
    model: ModelStatus,
    /// The loaded model's intended use (why it did not read an image).
    intended: Option<IntendedUse>,
}

#[derive(Debug, Default)]
pub(crate) struct Runner {
    state: Owned<State>,
    pub(crate) results: ResultCache,
    cancel: AtomicBool,
    running: AtomicBool,
}

impl Default for Owned<State> {
    fn default() -> Self {
        Owned::new("triage", State::default())
    }
}

/// Set while a run is in progress; lowered when dropped, however the run ends.
struct Running<'a>(&'a AtomicBool);

impl<'a> Running<'a> {
    fn raise(flag: &'a AtomicBool) -> Option<Running<'a>> {
        (!flag.swap(true, Ordering::SeqCst)).then_some(Running(flag))
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Runner {
    pub(crate) fn progress(&self) -> TriageProgress {
        self.state.read(|s| s.progress.clone())
    }

    pub(crate) fn model(&self) -> ModelStatus {
        self.state.read(|s| s.model.clone())
    }

    pub(crate) fn model_view(&self) -> Option<ModelView> {
        self.state.read(|s| s.model.model.clone())
    }

    /// The loaded model's intended use, once it is loaded.
    pub(crate) fn intended_use(&self) -> Option<IntendedUse> {
        self.state.read(|s| s.intended.clone())
    }

    fn set_model(&self, model: ModelStatus, intended: Option<IntendedUse>) {
        self.state.write(|s| {
            s.model = model;
            s.intended = intended;
        });
    }

    fn set_progress(&self, done: u32, total: u32, running: bool) -> TriageProgress {
        let p = TriageProgress {
            done,
            total,
            running,
        };
        self.state.write(|s| s.progress = p.clone());
        p
    }
}

impl Workstation {
    /// Loads the model (`jobs` sessions) and runs it over every queued
    /// study until none is left. Blocks: the app runs it on its own thread.
    /// One run at a time; a running one picks up studies queued meanwhile.
    pub fn run_triage(&self, jobs: usize) {
        let Some(_running) = Running::raise(&self.runner.running) else {
            return;
        };
        let models = self.load_models(jobs);
        self.triage_queued(models);
    }

    /// As [`Workstation::run_triage`], with models already loaded (one per job).
    pub fn run_triage_with(&self, models: Vec<Model>) {
        let Some(_running) = Running::raise(&self.runner.running) else {
            return;
        };
        self.triage_queued(models);
    }

    /// Stops triage after the studies already running.
    pub fn cancel_triage(&self) {
        self.runner.cancel.store(true, Ordering::SeqCst);
    }

    /// Loads the configured model once per job. On failure the reason is
    /// shown on the worklist and queued studies stay without AI.
    fn load_models(&self, jobs: usize) -> Vec<Model> {
        // The model and provider of the settings the workstation opened
        // with: a change in Settings applies at the next start.
        let (dir, ep) = (
            PathBuf::from(&self.model_at_start.0),
            EpChoice::parse(&self.model_at_start.1),
        );
        let server = self
            .model_at_start
            .2
            .clone()
            .map(|url| crate::remote::Server {
                url,
                model: None,
                version: None,
            });
        let runtime = self.runtime.as_deref();
        let loaded = ep.map_err(|e| e.to_string()).and_then(|ep| {
            (0..jobs.max(1))
                .map(|_| match &server {
                    // The department's server, the device as its fallback.
                    Some(s) => crate::remote::load(&dir, s, runtime, ep, 1),
                    None => Model::load(&dir, runtime, ep, 1).map_err(|e| e.to_string()),
                })
                .collect::<Result<Vec<_>, _>>()
        });
        match loaded {
            Ok(models) => models,
            Err(message) => {
                let status = ModelStatus {
                    model: None,
                    error: Some(message.clone()),
                };
                self.runner.set_model(status.clone(), None);
                let failed = self.studies.fail_queued(&message);
                self.emit(Change {
                    ids: failed,
                    model: Some(status),
                    ..Change::default()
                });
                Vec::new()
            }
        }
    }

    /// Applies this site's use of the model (thresholds set here, go-live)
    /// from the audit log; a log that cannot be read flags nothing.
    fn apply_site(&self, models: &mut [Model]) -> GoLive {
        let Some(first) = models.first() else {
            return GoLive::NotValidatedHere;
        };
        let clinical = first.manifest.clinical;
        let (site_use, go_live) = match self.journal.site_state(&first.manifest.sha256) {
            Ok(state) => (state.site_use(clinical), state.go_live(clinical)),
            Err(_) => (
                SiteUse {
                    may_flag: !clinical,
                    ..SiteUse::default()
                },
                if clinical {
                    GoLive::NotValidatedHere
                } else {
                    GoLive::Demonstration
                },
            ),
        };
        for m in models.iter_mut() {
            m.set_site_use(site_use.clone());
        }
        go_live
    }

    fn triage_queued(&self, mut models: Vec<Model>) {
        let go_live = self.apply_site(&mut models);
        let Some(first) = models.first() else {
            let p = self.runner.set_progress(0, 0, false);
            self.emit(Change::progress(p));
            return;
        };
        let status = ModelStatus {
            model: Some(model_view(first, go_live)),
            error: None,
        };
        // Each result files the model that produced it.
        let model = status.model.as_ref().map(|m| ModelRef {
            name: m.name.clone(),
            version: m.version.clone(),
            sha256: m.sha256.clone(),
        });
        let intended = first.manifest.intended_use.clone();
        self.runner.set_model(status.clone(), Some(intended));
        self.emit(Change {
            model: Some(status),
            ..Change::default()
        });
        self.runner.cancel.store(false, Ordering::SeqCst);
        let (mut done_before, mut total) = (0u32, 0u32);
        while !self.runner.cancel.load(Ordering::SeqCst) {
            let queued = self.studies.queued();
            if queued.is_empty() {
                break;
            }
            total += queued.len() as u32;
            let p = self.runner.set_progress(done_before, total, true);
            self.emit(Change::progress(p));
            let ids: HashMap<PathBuf, StudyId> =
                queued.iter().map(|(id, j)| (j.path.clone(), *id)).collect();
            let jobs: Vec<triage::Job> = queued.into_iter().map(|(_, j)| j).collect();
            let on_event = |event: TriageEvent| match event {
                TriageEvent::Started { path } => {
                    if let Some(&id) = ids.get(&path) {
                        self.studies.update(id, |s| s.ai = Ai::Running);
                        self.emit(Change::rows(vec![id]));
                    }
                }
                TriageEvent::Finished {
                    path, result, done, ..
                } => {
                    let id = ids.get(&path).copied();
                    if let Some(id) = id {
                        self.finish(id, result, &model);
                    }
                    let p = self
                        .runner
                        .set_progress(done_before + done as u32, total, true);
                    self.emit(Change {
                        ids: id.into_iter().collect(),
                        triage: Some(p),
                        ..Change::default()
                    });
                }
            };
            triage::triage(
                &jobs,
                &mut models,
                &self.runner.results,
                &self.runner.cancel,
                None,
                &triage::Reading {
                    limits: self.limits,
                    deadline: self.deadline,
                    frames: self.frames.clone(),
                },
                &on_event,
            );
            done_before += jobs.len() as u32;
        }
        let p = self.runner.set_progress(done_before, total, false);
        self.emit(Change::progress(p));
    }

    /// Files a triage result with the model that produced it, and records
    /// it in the audit log; the result is shown once its event is recorded.
    fn finish(&self, id: StudyId, result: TriageResult, model: &Option<ModelRef>) {
        let recorded = self.studies.update(id, |s| match result {
            TriageResult::Done(o) | TriageResult::Cached(o) => {
                let event = match o.as_ref() {
                    Outcome::Inferred {
                        inference, image, ..
                    } => (
                        EventKind::InferenceRun,
                        Some(inference.execution_provider.clone()),
                        serde_json::json!({
                            "findings": inference.findings.iter().map(|f| {
                                serde_json::json!({"label": f.label, "score": f.score, "flagged": f.flagged})
                            }).collect::<Vec<_>>(),
                            // What governance watches for drift.
                            "acquisition": {
                                "manufacturer": s.header.manufacturer,
                                "modality": s.header.modality,
                                "view": s.header.view_position,
                                "kvp": s.header.kvp,
                                "exposure_mas": s.header.exposure_mas,
                            },
                            "image": image,
                            // The inference server's model name and version, when one ran it.
                            "served_by": inference.served_by,
                        }),
                    ),
                    Outcome::Refused { reason } => (
                        EventKind::StudyRefused,
                        None,
                        serde_json::json!({ "reason": reason }),
                    ),
                };
                match study_ref(&s.header) {
                    Some(study) => {
                        s.ai = Ai::Unrecorded(o, model.clone());
                        Some((event, study))
                    }
                    None => {
                        s.ai = Ai::Done(o, model.clone());
                        None
                    }
                }
            }
            TriageResult::Failed(message) => {
                // The message names the file; keep the reason only.
                let reason = message
                    .rsplit_once(": ")
                    .map(|(_, m)| m.to_string())
                    .unwrap_or(message);
                s.ai = Ai::Failed(reason);
                None
            }
            TriageResult::Cancelled => {
                s.ai = Ai::Queued;
                None
            }
        });
        if let Some(Some(((kind, ep, detail), study))) = recorded {
            let event = Event {
                study: Some(study),
                model: model.clone(),
                execution_provider: ep,
                detail,
                ..Event::new(kind, Some(self.reader()))
            };
            self.record_background(event, Some(id));
        }
    }
}
