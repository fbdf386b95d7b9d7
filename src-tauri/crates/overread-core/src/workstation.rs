//! The reading workstation: the worklist, background triage, the viewer's
//! pixels and heatmaps, the reader's decisions and the audit screen. The
//! desktop app holds one [`Workstation`] and turns each of its methods into a
//! command; nothing here knows Tauri.

mod pacs;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime};

use overread_audit::{
    AuditLog, Decision, DecisionEvent, EventKind, ExportOptions, ModelRef, OtherEvent, Reader,
    Region, StudyRef, Verification,
};
use overread_dicom::{Header, Limits};
use overread_infer::{EpChoice, Model};

use crate::api::{
    AgreementView, AiStatus, AuditEntry, ChainStatus, DailyAgreement, DecisionRequest,
    DecisionView, ExportResult, FindingView, ImageGeometry, ImpressionRequest, ModelView,
    ReaderIdentity, ReadingStatus, Rect, Settings, SourceStatus, StatsView, StudyView, Threshold,
    TriageProgress, WindowPreset, Worklist, WorklistRow,
};
use crate::infer::Outcome;
use crate::pixels::{self, ViewerImage};
use crate::triage::{self, ResultCache, TriageEvent, TriageResult};

/// Errors the app shows; `kind` is what the UI branches on.
#[derive(Debug, Clone, PartialEq)]
pub struct WsError {
    pub kind: &'static str,
    pub message: String,
}

impl std::fmt::Display for WsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WsError {}

fn err(kind: &'static str, message: impl Into<String>) -> WsError {
    WsError {
        kind,
        message: message.into(),
    }
}

impl From<overread_audit::Error> for WsError {
    fn from(e: overread_audit::Error) -> WsError {
        err(e.code(), e.to_string())
    }
}

pub type WsResult<T> = std::result::Result<T, WsError>;

/// Decoded images kept for the viewer (about 8 MB each for a chest X-ray):
/// the one on screen and its neighbours.
const IMAGE_CACHE: usize = 3;

impl Settings {
    /// The settings for the bundled demo worklist.
    pub fn demo(studies: &Path, model_dir: &Path) -> Settings {
        Settings {
            sources: vec![studies.display().to_string()],
            model_dir: model_dir.display().to_string(),
            execution_provider: "auto".into(),
            reader: ReaderIdentity {
                id: "reader1".into(),
                display_name: "Demo Reader".into(),
                role: "radiologist".into(),
            },
            read_first: false,
            max_wait_minutes: 120,
            pacs_config: None,
        }
    }
}

/// Where the studies of local folders say they come from.
const LOCAL: &str = "local";

/// One study on the worklist.
#[derive(Debug)]
struct Study {
    id: String,
    /// "local", or the PACS source it was retrieved from.
    source: String,
    /// The instance shown and inferred: the first frontal view. Empty while
    /// a PACS study is not complete in the cache.
    path: PathBuf,
    header: Header,
    images: u32,
    arrived: SystemTime,
    ai: AiStatus,
    ai_message: Option<String>,
    outcome: Option<Arc<Outcome>>,
    decisions: Vec<DecisionView>,
    impression_recorded: bool,
}

/// The loaded model, or why there is none.
#[derive(Debug, Default)]
struct ModelSlot {
    view: Option<ModelView>,
    error: Option<String>,
}

/// The workstation state the app holds.
#[derive(Debug)]
pub struct Workstation {
    settings: RwLock<Settings>,
    audit: Mutex<AuditLog>,
    studies: RwLock<Vec<Study>>,
    model: RwLock<ModelSlot>,
    results: ResultCache,
    progress: Mutex<TriageProgress>,
    cancel: AtomicBool,
    triaging: AtomicBool,
    images: Mutex<Vec<(String, Arc<ViewerImage>)>>,
    decoding: Mutex<()>,
    limits: Limits,
    runtime: Option<PathBuf>,
    /// PACS sources as the worklist shows them.
    sources: Mutex<Vec<SourceStatus>>,
    /// The PACS cache when the PACS configuration names none.
    pacs_cache_dir: PathBuf,
    /// The PACS cache, once opened.
    pacs_cache: Mutex<Option<overread_pacs::Cache>>,
    syncing: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Workstation {
    /// Opens the audit log, records the application start, and scans the
    /// sources into the worklist (headers only; fast).
    pub fn open(settings: Settings, audit_db: &Path, runtime: Option<PathBuf>) -> WsResult<Self> {
        if let Some(dir) = audit_db.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| err("audit_open", format!("{}: {e}", dir.display())))?;
        }
        let mut log = crate::audit::open(audit_db)?;
        log.record_event(&OtherEvent {
            kind: EventKind::ApplicationStart,
            reader: Some(reader_of(&settings)),
            workstation_id: crate::audit::workstation_id(),
            study: None,
            model: None,
            execution_provider: None,
            detail: serde_json::json!({ "app": "overread-app", "version": crate::APP_VERSION }),
        })?;
        let ws = Workstation {
            settings: RwLock::new(settings),
            audit: Mutex::new(log),
            studies: RwLock::new(Vec::new()),
            model: RwLock::new(ModelSlot::default()),
            results: ResultCache::default(),
            progress: Mutex::new(TriageProgress {
                done: 0,
                total: 0,
                running: false,
                id: None,
            }),
            cancel: AtomicBool::new(false),
            triaging: AtomicBool::new(false),
            images: Mutex::new(Vec::new()),
            decoding: Mutex::new(()),
            limits: Limits::default(),
            runtime,
            sources: Mutex::new(Vec::new()),
            pacs_cache_dir: audit_db
                .parent()
                .unwrap_or(Path::new("."))
                .join("pacs-cache"),
            pacs_cache: Mutex::new(None),
            syncing: AtomicBool::new(false),
        };
        ws.rescan()?;
        ws.load_cached_pacs();
        Ok(ws)
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the sources again; studies already known keep their state.
    pub fn rescan(&self) -> WsResult<()> {
        let settings = self.settings();
        let mut found = BTreeMap::new();
        for source in &settings.sources {
            let root = PathBuf::from(source);
            let (files, _problems) = crate::library::plan(&root, &self.limits)
                .map_err(|e| err("source", e.to_string()))?;
            let report = crate::library::scan(&files, Vec::new(), &self.limits, &|| {});
            group_studies(&mut found, report.headers());
        }
        let decided = self.decisions_by_sop()?;
        for (uid, (path, header, images)) in found {
            self.put_study(
                LOCAL,
                &uid,
                path,
                header,
                images,
                AiStatus::Queued,
                &decided,
            );
        }
        Ok(())
    }

    /// Adds a study to the worklist, or, when it is there but not yet
    /// complete (a PACS study being retrieved), fills it in. Studies
    /// already complete keep their state.
    #[allow(clippy::too_many_arguments)]
    fn put_study(
        &self,
        source: &str,
        study_uid: &str,
        path: PathBuf,
        header: Header,
        images: u32,
        ai: AiStatus,
        decided: &HashMap<String, (Vec<DecisionView>, bool)>,
    ) -> String {
        let sop = header.sop_instance_uid.clone().unwrap_or_default();
        let (decisions, impression) = decided.get(&sop).cloned().unwrap_or_default();
        let mut studies = self.studies.write().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = studies
            .iter_mut()
            .find(|s| s.header.study_instance_uid.as_deref() == Some(study_uid))
        {
            if s.path.as_os_str().is_empty()
                || matches!(s.ai, AiStatus::Retrieving | AiStatus::Partial)
            {
                s.path = path;
                s.header = header;
                s.images = images;
                s.ai = ai;
                s.ai_message = None;
                s.decisions = decisions;
                s.impression_recorded = impression;
            }
            return s.id.clone();
        }
        let id = format!("s{}", studies.len() + 1);
        studies.push(Study {
            id: id.clone(),
            source: source.to_string(),
            path,
            header,
            images,
            arrived: SystemTime::now(),
            ai,
            ai_message: None,
            outcome: None,
            decisions,
            impression_recorded: impression,
        });
        id
    }

    /// Decisions (and unaided impressions) already in the log, by SOP UID,
    /// so the reading status survives a restart.
    fn decisions_by_sop(&self) -> WsResult<HashMap<String, (Vec<DecisionView>, bool)>> {
        let log = lock(&self.audit);
        let mut out: HashMap<String, (Vec<DecisionView>, bool)> = HashMap::new();
        let mut from = 1;
        loop {
            let rows = log.rows(from, 2000)?;
            let Some(last) = rows.last() else { break };
            from = last.seq + 1;
            for row in &rows {
                let kind = row.get("kind").to_cell();
                let sop = row.get("sop_uid").to_cell();
                if sop.is_empty() {
                    continue;
                }
                if kind == EventKind::UnaidedImpression.as_str() {
                    out.entry(sop).or_default().1 = true;
                } else if kind == EventKind::Decision.as_str() {
                    out.entry(sop).or_default().0.push(decision_view(row));
                }
            }
        }
        Ok(out)
    }

    /// Loads the model (checksum, runtime, execution provider). Failure is
    /// shown on the worklist; studies then stay without AI.
    pub fn load_model(&self, jobs: usize) -> Vec<Model> {
        let settings = self.settings();
        let dir = PathBuf::from(&settings.model_dir);
        let ep = match EpChoice::parse(&settings.execution_provider) {
            Ok(ep) => ep,
            Err(e) => {
                self.set_model_error(e.to_string());
                return Vec::new();
            }
        };
        let mut models = Vec::new();
        for _ in 0..jobs.max(1) {
            match Model::load(&dir, self.runtime.as_deref(), ep, 1) {
                Ok(m) => models.push(m),
                Err(e) => {
                    self.set_model_error(e.to_string());
                    return Vec::new();
                }
            }
        }
        if let Some(m) = models.first() {
            let view = model_view(m);
            let mut slot = self.model.write().unwrap_or_else(|p| p.into_inner());
            *slot = ModelSlot {
                view: Some(view),
                error: None,
            };
        }
        models
    }

    fn set_model_error(&self, message: String) {
        let mut slot = self.model.write().unwrap_or_else(|p| p.into_inner());
        *slot = ModelSlot {
            view: None,
            error: Some(message.clone()),
        };
        drop(slot);
        let mut studies = self.studies.write().unwrap_or_else(|p| p.into_inner());
        for s in studies.iter_mut().filter(|s| s.ai == AiStatus::Queued) {
            s.ai = AiStatus::Error;
            s.ai_message = Some(message.clone());
        }
    }

    /// Runs the model over every queued study, `jobs` at a time, calling
    /// `on_progress` after each. Blocks: the app runs it on its own thread.
    pub fn run_triage(&self, jobs: usize, on_progress: &(dyn Fn(TriageProgress) + Sync)) {
        // One runner at a time; a running one picks up studies queued meanwhile.
        if self.triaging.swap(true, Ordering::SeqCst) {
            return;
        }
        let models = self.load_model(jobs);
        self.run_triage_with(models, on_progress);
        self.triaging.store(false, Ordering::SeqCst);
    }

    /// As [`Workstation::run_triage`], with models already loaded (one per
    /// job). Runs until no study is queued or triage is cancelled.
    pub fn run_triage_with(
        &self,
        mut models: Vec<Model>,
        on_progress: &(dyn Fn(TriageProgress) + Sync),
    ) {
        if let Some(m) = models.first() {
            let view = model_view(m);
            *self.model.write().unwrap_or_else(|p| p.into_inner()) = ModelSlot {
                view: Some(view),
                error: None,
            };
        }
        if models.is_empty() {
            self.set_progress(0, 0, false, None, on_progress);
            return;
        }
        self.cancel.store(false, Ordering::SeqCst);
        let (mut done_before, mut total) = (0u32, 0u32);
        while !self.cancel.load(Ordering::SeqCst) {
            let queued: Vec<(String, PathBuf)> = self
                .studies
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .filter(|s| s.ai == AiStatus::Queued)
                .map(|s| (s.id.clone(), s.path.clone()))
                .collect();
            if queued.is_empty() {
                break;
            }
            total += queued.len() as u32;
            self.set_progress(done_before, total, true, None, on_progress);
            let ids: HashMap<PathBuf, String> = queued
                .iter()
                .map(|(id, p)| (p.clone(), id.clone()))
                .collect();
            let paths: Vec<PathBuf> = queued.into_iter().map(|(_, p)| p).collect();
            let on_event = |event: TriageEvent| match event {
                TriageEvent::Started { path } => {
                    if let Some(id) = ids.get(&path) {
                        self.update(id, |s| s.ai = AiStatus::Running);
                    }
                }
                TriageEvent::Finished {
                    path, result, done, ..
                } => {
                    let id = ids.get(&path).cloned();
                    if let Some(id) = &id {
                        self.finish(id, result);
                    }
                    self.set_progress(done_before + done as u32, total, true, id, on_progress);
                }
            };
            triage::triage(
                &paths,
                &mut models,
                &self.results,
                &self.cancel,
                None,
                &self.limits,
                &on_event,
            );
            done_before += paths.len() as u32;
        }
        self.set_progress(done_before, total, false, None, on_progress);
    }

    /// Stops triage after the studies already running.
    pub fn cancel_triage(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    fn set_progress(
        &self,
        done: u32,
        total: u32,
        running: bool,
        id: Option<String>,
        on_progress: &(dyn Fn(TriageProgress) + Sync),
    ) {
        let p = TriageProgress {
            done,
            total,
            running,
            id,
        };
        *lock(&self.progress) = p.clone();
        on_progress(p);
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut Study)) {
        let mut studies = self.studies.write().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = studies.iter_mut().find(|s| s.id == id) {
            f(s);
        }
    }

    /// Files a triage result and records it in the audit log.
    fn finish(&self, id: &str, result: TriageResult) {
        let mut event = None;
        self.update(id, |s| match result {
            TriageResult::Done(o) | TriageResult::Cached(o) => {
                match o.as_ref() {
                    Outcome::Inferred { inference, .. } => {
                        let flagged = inference.findings.iter().any(|f| f.flagged);
                        s.ai = if flagged {
                            AiStatus::Flagged
                        } else {
                            AiStatus::NoFlags
                        };
                        s.ai_message = None;
                        event = Some((
                            EventKind::InferenceRun,
                            Some(inference.execution_provider.clone()),
                            serde_json::json!({
                                "findings": inference.findings.iter().map(|f| {
                                    serde_json::json!({"label": f.label, "score": f.score, "flagged": f.flagged})
                                }).collect::<Vec<_>>(),
                            }),
                            study_ref(&s.header),
                        ));
                    }
                    Outcome::Refused { reason } => {
                        s.ai = AiStatus::Refused;
                        s.ai_message = Some(reason.clone());
                        event = Some((
                            EventKind::StudyRefused,
                            None,
                            serde_json::json!({ "reason": reason }),
                            study_ref(&s.header),
                        ));
                    }
                }
                s.outcome = Some(o);
            }
            TriageResult::Failed(message) => {
                s.ai = AiStatus::Error;
                // The message names the file; keep the reason only.
                s.ai_message = Some(
                    message
                        .rsplit_once(": ")
                        .map(|(_, m)| m.to_string())
                        .unwrap_or(message),
                );
            }
            TriageResult::Cancelled => s.ai = AiStatus::Queued,
        });
        if let Some((kind, ep, detail, Some(study))) = event {
            // A failed write shows on the audit screen's chain check; triage goes on.
            let _ = self.record(kind, Some(study), self.model_ref(), ep, detail);
        }
    }

    /// Records a PS3.15 event by the current reader at this workstation.
    fn record(
        &self,
        kind: EventKind,
        study: Option<StudyRef>,
        model: Option<ModelRef>,
        execution_provider: Option<String>,
        detail: serde_json::Value,
    ) -> WsResult<()> {
        let reader = Some(reader_of(&self.settings()));
        lock(&self.audit).record_event(&OtherEvent {
            kind,
            reader,
            workstation_id: crate::audit::workstation_id(),
            study,
            model,
            execution_provider,
            detail,
        })?;
        Ok(())
    }

    fn model_ref(&self) -> Option<ModelRef> {
        let slot = self.model.read().unwrap_or_else(|p| p.into_inner());
        slot.view.as_ref().map(|m| ModelRef {
            name: m.name.clone(),
            version: m.version.clone(),
            sha256: m.sha256.clone(),
        })
    }

    /// The worklist in reading order.
    pub fn worklist(&self) -> Worklist {
        let settings = self.settings();
        let cap = Duration::from_secs(u64::from(settings.max_wait_minutes) * 60);
        let now = SystemTime::now();
        let studies = self.studies.read().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<WorklistRow> = studies
            .iter()
            .map(|s| worklist_row(s, now, cap, settings.read_first))
            .collect();
        order(&mut rows);
        let slot = self.model.read().unwrap_or_else(|p| p.into_inner());
        Worklist {
            rows,
            triage: lock(&self.progress).clone(),
            model: slot.view.clone(),
            model_error: slot.error.clone(),
            sources: self.source_statuses(),
        }
    }

    fn study<T>(&self, id: &str, f: impl FnOnce(&Study) -> T) -> WsResult<T> {
        let studies = self.studies.read().unwrap_or_else(|p| p.into_inner());
        studies
            .iter()
            .find(|s| s.id == id)
            .map(f)
            .ok_or_else(|| err("unknown_study", format!("no study {id:?} on the worklist")))
    }

    /// Opens a study for viewing: decodes it (cached), records that it was
    /// opened (PS3.15 A.5.3.8), and returns what the viewer shows.
    pub fn open_study(&self, id: &str) -> WsResult<StudyView> {
        let image = self.image(id)?;
        let settings = self.settings();
        let (view, study, from_pacs) = self.study(id, |s| {
            let hide_ai = settings.read_first && !s.impression_recorded;
            (
                study_view(s, &image, self.model_view(), hide_ai),
                study_ref(&s.header),
                s.source != LOCAL,
            )
        })?;
        if let Some(study) = &study
            && from_pacs
        {
            self.touch_pacs(&study.study_uid);
        }
        if let Some(study) = study {
            self.record(
                EventKind::StudyOpened,
                Some(study),
                None,
                None,
                serde_json::json!({}),
            )?;
        }
        Ok(view)
    }

    fn model_view(&self) -> Option<ModelView> {
        self.model
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .view
            .clone()
    }

    /// The decoded image for the viewer, from the cache or the file.
    pub fn image(&self, id: &str) -> WsResult<Arc<ViewerImage>> {
        let cached = || {
            lock(&self.images)
                .iter()
                .find(|(k, _)| k == id)
                .map(|(_, img)| img.clone())
        };
        if let Some(img) = cached() {
            return Ok(img);
        }
        // One decode at a time: a prefetch and an open of the same study
        // decode it once, and memory stays bounded.
        let _decoding = lock(&self.decoding);
        if let Some(img) = cached() {
            return Ok(img);
        }
        let path = self.study(id, |s| s.path.clone())?;
        if path.as_os_str().is_empty() {
            return Err(err(
                "not_retrieved",
                "this study has not arrived from the PACS yet",
            ));
        }
        let image = Arc::new(
            pixels::viewer_image(&path, &self.limits).map_err(|e| err(e.code(), e.to_string()))?,
        );
        let mut cache = lock(&self.images);
        cache.retain(|(k, _)| k != id);
        cache.insert(0, (id.to_string(), image.clone()));
        cache.truncate(IMAGE_CACHE);
        Ok(image)
    }

    /// Little-endian u16 pixels for `overread://localhost/pixels/{id}`.
    pub fn pixels(&self, id: &str, preview: bool) -> WsResult<Vec<u8>> {
        let image = self.image(id)?;
        Ok(if preview {
            image.preview_bytes()
        } else {
            image.bytes()
        })
    }

    /// One finding's heatmap registered to the image's pixel grid, as one
    /// byte per pixel (0–255), for `overread://localhost/heatmap/{id}/{label}`.
    pub fn heatmap(&self, id: &str, label: &str) -> WsResult<Vec<u8>> {
        let settings = self.settings();
        let outcome = self.study(id, |s| {
            if settings.read_first && !s.impression_recorded {
                None
            } else {
                s.outcome.clone()
            }
        })?;
        let Some(outcome) = outcome else {
            return Err(err("no_result", "this study has no AI result to show"));
        };
        let Outcome::Inferred { inference, .. } = outcome.as_ref() else {
            return Err(err("no_result", "this study was refused by the model"));
        };
        let reg = inference.registered(label).ok_or_else(|| {
            err(
                "no_heatmap",
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
    pub fn decide(&self, request: &DecisionRequest) -> WsResult<DecisionView> {
        let decision = Decision::parse(&request.decision)
            .map_err(|e| err("invalid_argument", e.to_string()))?;
        let settings = self.settings();
        let (event, dims) = self.study(&request.id, |s| {
            let study = study_ref(&s.header).ok_or_else(|| {
                err(
                    "invalid_study",
                    "the study lacks the UIDs an audit row needs",
                )
            })?;
            if settings.read_first && !s.impression_recorded && decision != Decision::AddMissed {
                return Err(err(
                    "impression_required",
                    "record your unaided impression before deciding on AI findings",
                ));
            }
            let inference = match s.outcome.as_deref() {
                Some(Outcome::Inferred { inference, .. }) => Some(inference),
                _ => None,
            };
            let finding =
                inference.and_then(|i| i.findings.iter().find(|f| f.label == request.finding));
            if decision != Decision::AddMissed && finding.is_none() {
                return Err(err(
                    "unknown_finding",
                    format!(
                        "the AI reported no finding {:?} on this study",
                        request.finding
                    ),
                ));
            }
            let event = DecisionEvent {
                reader: reader_of(&settings),
                workstation_id: crate::audit::workstation_id(),
                study,
                model: if decision == Decision::AddMissed && finding.is_none() {
                    None
                } else {
                    self.model_ref()
                },
                execution_provider: inference.map(|i| i.execution_provider.clone()),
                finding: request.finding.trim().to_string(),
                ai_score: finding.map(|f| f64::from(f.score)),
                threshold: finding.map(|f| f64::from(f.threshold)),
                ai_flagged: decision != Decision::AddMissed && finding.is_some_and(|f| f.flagged),
                decision,
                region: request.region.map(|r| Region {
                    x: r.x,
                    y: r.y,
                    width: r.width,
                    height: r.height,
                }),
                reason: request
                    .reason
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string),
                display_to_decision_ms: request
                    .display_ms
                    .filter(|ms| ms.is_finite() && *ms >= 0.0)
                    .map(|ms| ms.round() as u64),
                supersedes: s
                    .decisions
                    .iter()
                    .rev()
                    .find(|d| {
                        d.finding == request.finding.trim() && decision != Decision::AddMissed
                    })
                    .map(|d| d.seq as u64),
            };
            Ok((
                event,
                (s.header.cols.unwrap_or(0), s.header.rows.unwrap_or(0)),
            ))
        })??;
        if let Some(r) = &event.region {
            let (w, h) = (f64::from(dims.0), f64::from(dims.1));
            if r.x + r.width > w || r.y + r.height > h {
                return Err(err("invalid_argument", "the region lies outside the image"));
            }
        }
        let recorded = lock(&self.audit).record_decision(&event)?;
        let row = lock(&self.audit)
            .rows(recorded.seq, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| err("audit", "the recorded row could not be read back"))?;
        let view = decision_view(&row);
        self.update(&request.id, |s| s.decisions.push(view.clone()));
        Ok(view)
    }

    /// Read-first mode: records the unaided impression; the AI is shown after.
    pub fn record_impression(&self, request: &ImpressionRequest) -> WsResult<StudyView> {
        if !matches!(request.impression.as_str(), "normal" | "abnormal") {
            return Err(err(
                "invalid_argument",
                "impression must be normal or abnormal",
            ));
        }
        if request.findings.len() > 64 || request.findings.iter().any(|f| f.chars().count() > 64) {
            return Err(err(
                "invalid_argument",
                "too many or too long finding names",
            ));
        }
        let study = self
            .study(&request.id, |s| study_ref(&s.header))?
            .ok_or_else(|| {
                err(
                    "invalid_study",
                    "the study lacks the UIDs an audit row needs",
                )
            })?;
        self.record(
            EventKind::UnaidedImpression,
            Some(study),
            None,
            None,
            serde_json::json!({
                "impression": request.impression,
                "findings": request.findings,
                "note": request.note,
            }),
        )?;
        self.update(&request.id, |s| s.impression_recorded = true);
        let image = self.image(&request.id)?;
        self.study(&request.id, |s| {
            study_view(s, &image, self.model_view(), false)
        })
    }

    /// The most recent audit rows, newest first.
    pub fn audit_recent(&self, limit: u32) -> WsResult<Vec<AuditEntry>> {
        let log = lock(&self.audit);
        let (head, _) = log.head()?;
        let limit = i64::from(limit.clamp(1, 1000));
        let rows = log.rows((head - limit + 1).max(1), limit)?;
        Ok(rows.iter().rev().map(audit_entry).collect())
    }

    /// Walks the hash chain, and records that the log was used.
    pub fn verify(&self) -> WsResult<ChainStatus> {
        let mut log = lock(&self.audit);
        let status = match log.verify()? {
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
        };
        let reader = Some(reader_of(&self.settings()));
        crate::audit::record_use(&mut log, reader, "verify")?;
        Ok(status)
    }

    /// Exports the whole log as CSV (plain or de-identified) to `path`.
    pub fn export(&self, path: &Path, deidentify: bool) -> WsResult<ExportResult> {
        if path.extension().and_then(|e| e.to_str()) != Some("csv") {
            return Err(err(
                "invalid_argument",
                "the export file name must end in .csv",
            ));
        }
        let mut log = lock(&self.audit);
        let options = ExportOptions {
            deidentify,
            exported_by: Some(reader_of(&self.settings())),
            workstation_id: crate::audit::workstation_id(),
            ..ExportOptions::default()
        };
        let summary = log.export_csv(path, &options)?;
        Ok(ExportResult {
            path: path.display().to_string(),
            rows: summary.rows as f64,
            deidentified: deidentify,
        })
    }

    /// Agreement statistics over effective decisions, with daily counts.
    pub fn stats(&self) -> WsResult<StatsView> {
        let log = lock(&self.audit);
        let stats = log.stats(None, None)?;
        let view = |(name, a): (&String, &overread_audit::Agreement)| AgreementView {
            name: name.clone(),
            flags_shown: a.flags_shown as f64,
            confirmed: a.confirmed as f64,
            dismissed: a.dismissed as f64,
            missed_added: a.missed_added as f64,
            ppv: a.ppv,
            median_ms_to_decision: a.median_ms_to_decision,
        };
        let mut daily: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
        let mut from = 1;
        loop {
            let rows = log.rows(from, 2000)?;
            let Some(last) = rows.last() else { break };
            from = last.seq + 1;
            for row in rows
                .iter()
                .filter(|r| r.get("kind").to_cell() == EventKind::Decision.as_str())
            {
                let day = row.get("recorded_at").to_cell().chars().take(10).collect();
                let e = daily
                    .entry((day, row.get("finding").to_cell()))
                    .or_default();
                match row.get("decision").to_cell().as_str() {
                    "confirm" => e.0 += 1.0,
                    "dismiss" => e.1 += 1.0,
                    _ => {}
                }
            }
        }
        Ok(StatsView {
            decisions: stats.decisions as f64,
            per_finding: stats.per_finding.iter().map(view).collect(),
            per_reader: stats.per_reader.iter().map(view).collect(),
            daily: daily
                .into_iter()
                .map(|((day, finding), (confirmed, dismissed))| DailyAgreement {
                    day,
                    finding,
                    confirmed,
                    dismissed,
                })
                .collect(),
        })
    }

    /// Changes the reader identity (recorded, PS3.15 A.5.3.17) and the other
    /// settings. A new model or provider takes effect at the next start.
    pub fn update_settings(&self, new: Settings) -> WsResult<Settings> {
        let reader = reader_of(&new);
        reader
            .validate()
            .map_err(|e| err("invalid_argument", e.to_string()))?;
        if new.max_wait_minutes == 0 || new.max_wait_minutes > 7 * 24 * 60 {
            return Err(err(
                "invalid_argument",
                "maximum wait must be 1 minute to 7 days",
            ));
        }
        EpChoice::parse(&new.execution_provider)
            .map_err(|e| err("invalid_argument", e.to_string()))?;
        let old = self.settings();
        if old.reader != new.reader {
            lock(&self.audit).record_event(&OtherEvent {
                kind: EventKind::UserIdentityChanged,
                reader: Some(reader),
                workstation_id: crate::audit::workstation_id(),
                study: None,
                model: None,
                execution_provider: None,
                detail: serde_json::json!({ "previous_reader_id": old.reader.id }),
            })?;
        }
        let sources_changed = old.sources != new.sources;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = new.clone();
        if sources_changed {
            self.rescan()?;
        }
        Ok(new)
    }

    /// Records the application stop.
    pub fn close(&self) {
        let _ = self.record(
            EventKind::ApplicationStop,
            None,
            None,
            None,
            serde_json::json!({}),
        );
    }
}

/// Groups instances by study: per Study Instance UID the instance to show
/// and infer (the first frontal view when there is one) and the count.
fn group_studies<'a>(
    found: &mut BTreeMap<String, (PathBuf, Header, u32)>,
    headers: impl Iterator<Item = (&'a Path, &'a Header)>,
) {
    for (path, h) in headers {
        let Some(study_uid) = h.study_instance_uid.clone() else {
            continue;
        };
        if h.is_dicomdir() || !h.has_pixel_data {
            continue;
        }
        let entry = found
            .entry(study_uid)
            .or_insert_with(|| (path.to_path_buf(), h.clone(), 0));
        entry.2 += 1;
        let lateral = |h: &Header| matches!(h.view_position.as_deref(), Some("LL" | "RL"));
        if lateral(&entry.1) && !lateral(h) {
            entry.0 = path.to_path_buf();
            entry.1 = h.clone();
        }
    }
}

fn reader_of(settings: &Settings) -> Reader {
    Reader {
        id: settings.reader.id.trim().to_string(),
        display_name: settings.reader.display_name.trim().to_string(),
        role: settings.reader.role.trim().to_string(),
    }
}

fn study_ref(h: &Header) -> Option<StudyRef> {
    Some(StudyRef {
        patient_id: h
            .patient_id
            .clone()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "UNKNOWN".into()),
        accession_number: h.accession_number.clone().unwrap_or_default(),
        study_uid: h.study_instance_uid.clone()?,
        series_uid: h.series_instance_uid.clone()?,
        sop_uid: h.sop_instance_uid.clone()?,
    })
}

fn model_view(m: &Model) -> ModelView {
    let man = &m.manifest;
    let iu = &man.intended_use;
    let mut intended = format!(
        "{} {} of the {}",
        iu.modalities.join("/"),
        iu.views.join("/"),
        iu.body_parts.join("/").to_lowercase()
    );
    if let Some(age) = iu.min_age_years {
        intended.push_str(&format!(", patients aged {age} or over"));
    }
    ModelView {
        name: man.name.clone(),
        version: man.version.clone(),
        sha256: man.sha256.to_ascii_lowercase(),
        licence: man.licence.clone(),
        clinical: man.clinical,
        description: man.description.clone(),
        execution_provider: m.execution_provider().to_string(),
        fallback: m.fallback.clone(),
        labels: man.output.scores.labels.clone(),
        thresholds: man
            .thresholds
            .iter()
            .map(|(label, t)| Threshold {
                label: label.clone(),
                threshold: *t,
            })
            .collect(),
        intended_use: intended,
    }
}

/// PS3.5 DA → YYYY-MM-DD.
fn date(d: Option<&str>) -> String {
    match d.map(str::trim) {
        Some(d) if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
        }
        Some(d) => d.to_string(),
        None => String::new(),
    }
}

/// PS3.5 PN: family^given^middle^prefix^suffix → "FAMILY, Given".
fn person_name(pn: Option<&str>) -> String {
    let Some(pn) = pn else { return String::new() };
    let alphabetic = pn.split('=').next().unwrap_or("");
    let mut parts = alphabetic.split('^').map(str::trim);
    let family = parts.next().unwrap_or("");
    let given = parts.next().unwrap_or("");
    match (family.is_empty(), given.is_empty()) {
        (false, false) => format!("{}, {given}", family.to_uppercase()),
        (false, true) => family.to_uppercase(),
        (true, _) => given.to_string(),
    }
}

fn reading_status(s: &Study) -> ReadingStatus {
    let flagged: Vec<&str> = match s.outcome.as_deref() {
        Some(Outcome::Inferred { inference, .. }) => inference
            .findings
            .iter()
            .filter(|f| f.flagged)
            .map(|f| f.label.as_str())
            .collect(),
        _ => Vec::new(),
    };
    if s.decisions.is_empty() {
        return ReadingStatus::Unread;
    }
    if flagged
        .iter()
        .all(|l| s.decisions.iter().any(|d| d.finding == *l))
    {
        ReadingStatus::Read
    } else {
        ReadingStatus::InProgress
    }
}

fn findings(s: &Study) -> Vec<FindingView> {
    match s.outcome.as_deref() {
        Some(Outcome::Inferred { inference, .. }) => inference
            .findings
            .iter()
            .map(|f| FindingView {
                label: f.label.clone(),
                score: f.score,
                threshold: f.threshold,
                flagged: f.flagged,
                region: f.bbox.map(|b| Rect {
                    x: b.x,
                    y: b.y,
                    width: b.width,
                    height: b.height,
                }),
                has_heatmap: inference.heatmaps.iter().any(|h| h.label == f.label),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn worklist_row(s: &Study, now: SystemTime, cap: Duration, read_first: bool) -> WorklistRow {
    let h = &s.header;
    let waited = now.duration_since(s.arrived).unwrap_or_default();
    let hide = read_first && !s.impression_recorded;
    let top = findings(s)
        .into_iter()
        .filter(|f| f.flagged)
        .max_by(|a, b| a.score.total_cmp(&b.score));
    WorklistRow {
        id: s.id.clone(),
        patient_name: person_name(h.patient_name.as_deref()),
        patient_id: h.patient_id.clone().unwrap_or_default(),
        accession: h.accession_number.clone().unwrap_or_default(),
        study_date: date(h.study_date.as_deref()),
        modality: h.modality.clone().unwrap_or_default(),
        body_part: h.body_part.clone().unwrap_or_default(),
        view: h.view_position.clone().unwrap_or_default(),
        images: s.images,
        ai: s.ai,
        ai_message: s.ai_message.clone(),
        top_finding: if hide {
            None
        } else {
            top.as_ref().map(|f| f.label.clone())
        },
        top_score: if hide { None } else { top.map(|f| f.score) },
        reading: reading_status(s),
        source: s.source.clone(),
        waited_minutes: waited.as_secs_f64() / 60.0,
        overdue: waited >= cap,
    }
}

/// Reading order: unread before read; among unread, studies past the
/// maximum wait first (oldest first), then AI-flagged by score, then the
/// rest in arrival order. Priority never hides a study for ever.
pub fn order(rows: &mut [WorklistRow]) {
    fn rank(r: &WorklistRow) -> (u8, u8) {
        let done = u8::from(r.reading == ReadingStatus::Read);
        let bucket = if r.overdue {
            0
        } else if r.ai == AiStatus::Flagged {
            1
        } else if matches!(
            r.ai,
            AiStatus::Error | AiStatus::Refused | AiStatus::Partial
        ) {
            // A human must look at what the AI could not.
            2
        } else {
            3
        };
        (done, bucket)
    }
    rows.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| {
                if a.overdue && b.overdue {
                    b.waited_minutes.total_cmp(&a.waited_minutes)
                } else {
                    b.top_score
                        .unwrap_or(0.0)
                        .total_cmp(&a.top_score.unwrap_or(0.0))
                }
            })
            .then_with(|| b.waited_minutes.total_cmp(&a.waited_minutes))
            .then_with(|| natural(&a.id).cmp(&natural(&b.id)))
    });
}

fn natural(id: &str) -> u64 {
    id.trim_start_matches('s').parse().unwrap_or(u64::MAX)
}

fn study_view(
    s: &Study,
    image: &ViewerImage,
    model: Option<ModelView>,
    hide_ai: bool,
) -> StudyView {
    let h = &s.header;
    StudyView {
        id: s.id.clone(),
        patient_name: person_name(h.patient_name.as_deref()),
        patient_id: h.patient_id.clone().unwrap_or_default(),
        patient_sex: h.patient_sex.clone().unwrap_or_default(),
        patient_age: h.patient_age.clone().unwrap_or_default(),
        accession: h.accession_number.clone().unwrap_or_default(),
        study_date: date(h.study_date.as_deref()),
        study_description: h.study_description.clone().unwrap_or_default(),
        modality: h.modality.clone().unwrap_or_default(),
        body_part: h.body_part.clone().unwrap_or_default(),
        view: h.view_position.clone().unwrap_or_default(),
        manufacturer: h.manufacturer.clone().unwrap_or_default(),
        transfer_syntax: h.transfer_syntax_name.to_string(),
        image: geometry(image),
        ai: s.ai,
        ai_message: if hide_ai { None } else { s.ai_message.clone() },
        model: if hide_ai { None } else { model },
        findings: if hide_ai { Vec::new() } else { findings(s) },
        decisions: s.decisions.clone(),
        impression_recorded: s.impression_recorded,
    }
}

fn geometry(image: &ViewerImage) -> ImageGeometry {
    ImageGeometry {
        width: image.width,
        height: image.height,
        offset: image.offset,
        scale: image.scale,
        invert: image.invert,
        windows: image
            .windows
            .iter()
            .map(|(name, c, w)| WindowPreset {
                name: name.clone(),
                center: *c,
                width: *w,
            })
            .collect(),
        pixel_spacing: image.spacing.map(|s| [s.row, s.col]),
        spacing_at_detector: image.spacing.is_some_and(|s| s.at_detector),
        preview_width: image.preview_width,
        preview_height: image.preview_height,
    }
}

fn decision_view(row: &overread_audit::row::Row) -> DecisionView {
    let text = |c: &str| {
        let v = row.get(c).to_cell();
        (!v.is_empty()).then_some(v)
    };
    DecisionView {
        seq: row.seq as f64,
        finding: row.get("finding").to_cell(),
        decision: row.get("decision").to_cell(),
        region: text("region")
            .and_then(|r: String| Region::parse(&r).ok())
            .map(|r| Rect {
                x: r.x,
                y: r.y,
                width: r.width,
                height: r.height,
            }),
        reason: text("reason"),
        recorded_at: row.get("recorded_at").to_cell(),
        row_hash: row.row_hash.clone(),
    }
}

fn audit_entry(row: &overread_audit::row::Row) -> AuditEntry {
    let c = |name: &str| row.get(name).to_cell();
    AuditEntry {
        seq: row.seq as f64,
        recorded_at: c("recorded_at"),
        kind: c("kind"),
        reader: c("reader_id"),
        patient_id: c("patient_id"),
        accession: c("accession_number"),
        finding: c("finding"),
        decision: c("decision"),
        ai_score: c("ai_score").parse().ok(),
        model: [c("model_name"), c("model_version")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        execution_provider: c("execution_provider"),
        row_hash: row.row_hash.clone(),
    }
}

/// Reads saved settings; `None` when there are none yet (first launch).
pub fn load_settings(path: &Path) -> WsResult<Option<Settings>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| err("settings", format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(err("settings", format!("{}: {e}", path.display()))),
    }
}

/// Writes settings atomically (temporary file, fsync, rename).
pub fn save_settings(path: &Path, settings: &Settings) -> WsResult<()> {
    let fail = |e: std::io::Error| err("settings", format!("{}: {e}", path.display()));
    let dir = path
        .parent()
        .ok_or_else(|| err("settings", "the settings path has no folder"))?;
    std::fs::create_dir_all(dir).map_err(fail)?;
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(settings).map_err(|e| err("settings", e.to_string()))?;
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(fail)?;
        f.write_all(&bytes).map_err(fail)?;
        f.sync_all().map_err(fail)?;
    }
    std::fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::tests::fake_model;

    fn row(id: &str, ai: AiStatus, score: Option<f32>, waited: f64, cap: f64) -> WorklistRow {
        WorklistRow {
            id: id.into(),
            patient_name: String::new(),
            patient_id: String::new(),
            accession: String::new(),
            study_date: String::new(),
            modality: String::new(),
            body_part: String::new(),
            view: String::new(),
            images: 1,
            ai,
            ai_message: None,
            top_finding: None,
            top_score: score,
            reading: ReadingStatus::Unread,
            source: LOCAL.into(),
            waited_minutes: waited,
            overdue: waited >= cap,
        }
    }

    #[test]
    fn reading_order_is_ai_priority_with_a_maximum_wait() {
        let mut rows = vec![
            row("s1", AiStatus::NoFlags, None, 200.0, 120.0),
            row("s2", AiStatus::Flagged, Some(0.7), 5.0, 120.0),
            row("s3", AiStatus::Flagged, Some(0.9), 1.0, 120.0),
            row("s4", AiStatus::NoFlags, None, 10.0, 120.0),
            row("s5", AiStatus::Refused, None, 3.0, 120.0),
            row("s6", AiStatus::NoFlags, None, 300.0, 120.0),
        ];
        rows[3].reading = ReadingStatus::Read;
        order(&mut rows);
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        // Overdue (oldest first), flagged by score, refused, the rest, read last.
        assert_eq!(ids, ["s6", "s1", "s3", "s2", "s5", "s4"]);
    }

    #[test]
    fn names_and_dates_for_display() {
        assert_eq!(person_name(Some("DOE^JANE^^DR")), "DOE, JANE");
        assert_eq!(person_name(Some("Doe^Jane=ドウ^ジェーン")), "DOE, Jane");
        assert_eq!(person_name(None), "");
        assert_eq!(date(Some("20261129")), "2026-11-29");
    }

    fn workstation(dir: &Path, read_first: bool) -> Workstation {
        let studies = dir.join("studies");
        if !studies.exists() {
            crate::demo::generate(&studies, 2, 128, 4).expect("phantoms");
        }
        let mut settings = Settings::demo(&studies, Path::new("unused-model"));
        settings.read_first = read_first;
        let ws = Workstation::open(settings, &dir.join("audit.sqlite3"), None).expect("open");
        ws.run_triage_with(vec![fake_model()], &|_| {});
        ws
    }

    fn decision(id: &str, d: &str) -> DecisionRequest {
        DecisionRequest {
            id: id.into(),
            finding: "opacity".into(),
            decision: d.into(),
            region: None,
            reason: None,
            display_ms: Some(900.0),
        }
    }

    #[test]
    fn decisions_are_recorded_and_survive_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = workstation(dir.path(), false);
        let w = ws.worklist();
        assert_eq!(w.rows.len(), 2);
        assert!(w.rows.iter().all(|r| r.ai == AiStatus::Flagged), "{w:?}");
        let id = w.rows[0].id.clone();
        let first = ws.decide(&decision(&id, "dismiss")).expect("recorded");
        // A change of mind is a new row that supersedes the first.
        let second = ws.decide(&decision(&id, "confirm")).expect("recorded");
        assert!(second.seq > first.seq);
        assert_eq!(
            ws.worklist().rows.last().map(|r| r.reading),
            Some(ReadingStatus::Read)
        );
        let err = ws
            .decide(&DecisionRequest {
                region: Some(Rect {
                    x: 100.0,
                    y: 100.0,
                    width: 50.0,
                    height: 50.0,
                }),
                ..decision(&id, "add_missed")
            })
            .expect_err("outside the 128-pixel image");
        assert_eq!(err.kind, "invalid_argument");
        let sop = ws
            .study(&id, |s| s.header.sop_instance_uid.clone())
            .expect("study");
        drop(ws);

        let again = workstation(dir.path(), false);
        let restored = again
            .study(&again.worklist().rows[1].id, |s| {
                (s.header.sop_instance_uid.clone(), s.decisions.len())
            })
            .expect("study");
        assert_eq!(restored, (sop, 2));
        assert!(again.verify().expect("verify").ok);
    }

    #[test]
    fn read_first_hides_the_ai_until_the_impression_is_recorded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = workstation(dir.path(), true);
        let row = ws.worklist().rows[0].clone();
        assert_eq!(row.top_finding, None, "no AI hint on the worklist");
        let view = ws.open_study(&row.id).expect("open");
        assert!(view.findings.is_empty() && view.model.is_none());
        assert_eq!(
            ws.heatmap(&row.id, "opacity").expect_err("hidden").kind,
            "no_result"
        );
        let err = ws
            .decide(&decision(&row.id, "confirm"))
            .expect_err("needs impression");
        assert_eq!(err.kind, "impression_required");
        let shown = ws
            .record_impression(&ImpressionRequest {
                id: row.id.clone(),
                impression: "abnormal".into(),
                findings: vec!["opacity".into()],
                note: None,
            })
            .expect("recorded");
        assert_eq!(shown.findings.len(), 1);
        ws.decide(&decision(&row.id, "confirm"))
            .expect("now allowed");
        let kinds: Vec<String> = ws
            .audit_recent(10)
            .expect("rows")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert!(
            kinds.contains(&"unaided_impression".to_string()),
            "{kinds:?}"
        );
    }
}
