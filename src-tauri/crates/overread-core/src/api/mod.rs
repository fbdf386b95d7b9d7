//! The types the desktop app's IPC carries. They are plain data, serialised
//! with serde; their TypeScript declarations are generated from these
//! definitions (`ts-rs`) into `ui/src/bindings.ts`, and a test in the app
//! package fails when that file is stale.
//!
//! Numbers that may exceed 2^53 never appear here: counts and sequence
//! numbers are `f64`/`u32` so that JavaScript reads them exactly.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod department;
mod error;
mod governance;
mod id;
mod images;
mod priors;
mod results;
mod settings;
mod sources;

pub use department::{ClaimView, StoreAlert, StoreState, StoreStatus};
pub use error::{ApiError, ErrorCode};
pub use governance::{
    GovernanceFinding, GovernanceGroup, GovernanceModel, GovernanceRequest, GovernanceScope,
    GovernanceView,
};
pub use id::StudyId;
pub use images::{Hanging, ImageRef, PriorSide, Viewing};
pub use priors::{PriorLine, PriorView, StudyPriors};
pub use results::{EarlierAssessment, EarlierFinding, ResultsState, ResultsView};
pub use settings::{
    InstalledModel, ModelChoice, ModelSite, PacsCheck, ReaderIdentity, SettingKey, Settings,
    SettingsPolicy, SetupRequest, SetupView,
};
pub use sources::{ScanProgress, SourceAdded};

/// Whether a study's images are here to show and infer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Every image is here (a local folder, or a PACS study that arrived whole).
    Available,
    /// Being retrieved from a PACS.
    Retrieving,
    /// Not every instance the PACS listed arrived: the AI never runs on half
    /// a study; the images that did arrive can be viewed.
    Partial,
    /// Removed from the PACS cache to make room; retrieved again at the next sync.
    Evicted,
}

/// Where a study's AI result stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AiStatus {
    /// The study is not all here yet: the AI runs once it is.
    Waiting,
    Queued,
    Running,
    Flagged,
    NoFlags,
    /// Outside the model's intended use: never inferred.
    Refused,
    Error,
    /// Triaged, but the audit log has not recorded the result yet (it
    /// refused the write): nothing of the result is shown until it has.
    Unrecorded,
    /// Read-first mode: the AI has a result, withheld (flag, score and
    /// order alike) until the reader's unaided impression is recorded.
    Withheld,
}

/// Where the reader stands with a study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReadingStatus {
    Unread,
    /// Some findings decided, others not yet.
    InProgress,
    /// Every AI finding has a decision.
    Read,
}

/// One row of the worklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WorklistRow {
    pub id: StudyId,
    pub patient_name: String,
    pub patient_id: String,
    pub accession: String,
    /// YYYY-MM-DD, or empty.
    pub study_date: String,
    pub modality: String,
    pub body_part: String,
    pub view: String,
    pub images: u32,
    pub availability: Availability,
    /// Why a study is partial, or what its retrieval waits for.
    pub availability_message: Option<String>,
    pub ai: AiStatus,
    /// Why the AI is refused or failed.
    pub ai_message: Option<String>,
    /// Read-first mode: the AI result is withheld until the reader's
    /// unaided impression is recorded (decided in the core, once).
    pub ai_hidden: bool,
    pub top_finding: Option<String>,
    pub top_score: Option<f32>,
    pub reading: ReadingStatus,
    /// Where the study comes from: "local" (a folder) or a PACS source's name.
    pub source: String,
    /// Where the signed-off results stand.
    pub results: ResultsView,
    /// Every flagged finding has a decision: the study may be signed off.
    pub can_sign_off: bool,
    /// Minutes since the study arrived on the worklist.
    pub waited_minutes: f64,
    /// Waited longer than the cap: moved to the top whatever the AI says.
    pub overdue: bool,
    /// Who is reading it, when a department store says (see [`ClaimView`]).
    pub claim: Option<ClaimView>,
}

/// The worklist in reading order, with the triage progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Worklist {
    pub rows: Vec<WorklistRow>,
    pub triage: TriageProgress,
    pub model: Option<ModelView>,
    /// Why the model could not be loaded (runtime missing, checksum mismatch…).
    pub model_error: Option<String>,
    /// The configured PACS sources and their state.
    pub sources: Vec<SourceStatus>,
    /// Background audit events not recorded yet.
    pub audit: AuditHealth,
    /// The department store, when one is configured.
    #[serde(default)]
    pub store: Option<StoreStatus>,
}

/// How a PACS source stands, as the worklist shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// Not asked yet in this session; cached studies are shown.
    NotChecked,
    Checking,
    Online,
    /// Unreachable or failing; cached studies stay usable.
    Offline,
}

/// One PACS source on the worklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SourceStatus {
    pub name: String,
    /// dicomweb or dimse.
    pub kind: String,
    pub state: SourceState,
    /// Why it is offline, in one line.
    pub message: Option<String>,
    /// Studies from this source on the worklist.
    pub studies: u32,
    /// Studies retrieved completely (the rest are being retrieved or partial).
    pub complete: u32,
    /// Instances received and expected for the study being retrieved now.
    pub instances_done: u32,
    pub instances_total: u32,
    /// When it last answered, RFC 3339 UTC.
    pub last_answer: Option<String>,
}

/// Background triage progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct TriageProgress {
    pub done: u32,
    pub total: u32,
    pub running: bool,
}

/// What changed on the worklist, sent as the `worklist-change` event by
/// triage and PACS sync: only the rows that changed, so the UI updates
/// those rows instead of fetching the whole worklist.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct WorklistChange {
    /// The changed rows (new ones included), as `worklist` would show them.
    pub rows: Vec<WorklistRow>,
    /// Set when triage progress changed.
    pub triage: Option<TriageProgress>,
    /// Set when a PACS source's state changed.
    pub sources: Option<Vec<SourceStatus>>,
    /// Set when the model was loaded or failed to load.
    pub model: Option<ModelStatus>,
    /// Set when events the audit log has not recorded were kept or written.
    pub audit: Option<AuditHealth>,
    /// Set while a local source is scanned, and when it has been.
    pub scan: Option<ScanProgress>,
    /// Set when a study here only as a prior changed (found, retrieved or
    /// triaged): an open study's comparison may have changed.
    #[serde(default)]
    pub priors: bool,
    /// Set when the department store's state changed.
    #[serde(default)]
    pub store: Option<StoreStatus>,
}

/// Background audit events the log has not recorded yet (it refused the
/// write: disk full, file made read-only…). They are kept in memory and
/// written as soon as the log takes them; the studies they belong to are
/// not shown as triaged until then.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct AuditHealth {
    /// Events kept in memory, waiting to be written.
    pub unrecorded: f64,
    /// Events beyond the in-memory limit, not kept (0 unless the log has
    /// refused writes for a very long time).
    pub lost: f64,
    /// Why the last write failed.
    pub error: Option<String>,
}

/// The loaded model, or why there is none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelStatus {
    pub model: Option<ModelView>,
    /// Why the model could not be loaded (runtime missing, checksum mismatch…).
    pub error: Option<String>,
}

/// The model as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelView {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub licence: String,
    /// false: demonstration model, not for clinical use.
    pub clinical: bool,
    /// Whether it may flag here: a clinical model flags nothing until a
    /// validation report for it is accepted here.
    pub go_live: crate::site::GoLive,
    pub description: String,
    pub execution_provider: String,
    /// Why the requested GPU provider was not used.
    pub fallback: Option<String>,
    pub labels: Vec<String>,
    pub thresholds: Vec<Threshold>,
    pub intended_use: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Threshold {
    pub label: String,
    /// The threshold in force: this site's if one is set, else the manifest's.
    pub threshold: f32,
    /// Set at this site (beside the manifest, in the audit log).
    pub set_here: bool,
}

/// A window (PS3.3 C.11.2.1.2) offered by the file or computed from its range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WindowPreset {
    pub name: String,
    pub center: f64,
    pub width: f64,
}

/// A rectangle in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// One AI finding on a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FindingView {
    pub label: String,
    pub score: f32,
    pub threshold: f32,
    pub flagged: bool,
    pub region: Option<Rect>,
    pub has_heatmap: bool,
    /// The same finding on the newest prior: "nodule 0.82 now; 0.79 on
    /// 2025-03-01, dismissed as stable".
    pub prior: Option<String>,
}

/// A decision recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DecisionView {
    pub seq: f64,
    pub finding: String,
    /// confirm, dismiss or add_missed.
    pub decision: String,
    pub region: Option<Rect>,
    pub reason: Option<String>,
    pub recorded_at: String,
    pub row_hash: String,
}

/// Everything the viewer needs about a study, except its pixels (those go
/// through the `overread://` scheme).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StudyView {
    pub id: StudyId,
    pub patient_name: String,
    pub patient_id: String,
    pub patient_sex: String,
    pub patient_age: String,
    pub accession: String,
    pub study_date: String,
    pub study_description: String,
    pub modality: String,
    pub body_part: String,
    pub view: String,
    pub manufacturer: String,
    pub transfer_syntax: String,
    pub image: ImageGeometry,
    pub availability: Availability,
    pub availability_message: Option<String>,
    pub ai: AiStatus,
    pub ai_message: Option<String>,
    /// Read-first mode: the model, findings and heatmaps are withheld (and
    /// the reader is asked for an unaided impression) while this is true.
    pub ai_hidden: bool,
    pub model: Option<ModelView>,
    pub findings: Vec<FindingView>,
    pub decisions: Vec<DecisionView>,
    pub impression_recorded: bool,
    /// Every flagged finding has a decision: the study may be signed off.
    pub can_sign_off: bool,
    pub results: ResultsView,
    /// The patient's earlier chest radiographs on the worklist, newest first.
    pub priors: Vec<PriorView>,
    /// Every image of the study, in hanging order.
    pub images: Vec<ImageRef>,
    pub hanging: Hanging,
}

/// How the pixels fetched from `overread://localhost/pixels/{id}` map to
/// modality values, and how to show them (PS3.3 C.11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImageGeometry {
    pub width: u32,
    pub height: u32,
    /// modality value = offset + stored × scale (stored: little-endian u16).
    pub offset: f64,
    pub scale: f64,
    /// Lowest values white (MONOCHROME1 or Presentation LUT Shape INVERSE).
    pub invert: bool,
    pub windows: Vec<WindowPreset>,
    /// mm between pixel centres (row, column), if the file says.
    pub pixel_spacing: Option<[f64; 2]>,
    /// Spacing measured at the detector (Imager Pixel Spacing): lengths are
    /// not corrected for magnification.
    pub spacing_at_detector: bool,
    /// Width and height of the reduced first image (`?level=preview`).
    pub preview_width: u32,
    pub preview_height: u32,
}

/// The reader's call on a study, as the UI sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DecisionRequest {
    pub finding: String,
    /// confirm, dismiss or add_missed.
    pub decision: String,
    pub region: Option<Rect>,
    pub reason: Option<String>,
    /// Milliseconds from the image being shown to this decision.
    pub display_ms: Option<f64>,
}

/// Read-first mode: the reader's impression before seeing the AI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImpressionRequest {
    /// "normal" or "abnormal".
    pub impression: String,
    /// Findings the reader suspects, by label.
    pub findings: Vec<String>,
    pub note: Option<String>,
}

/// A row of the audit screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AuditEntry {
    pub seq: f64,
    pub recorded_at: String,
    pub kind: String,
    pub reader: String,
    pub patient_id: String,
    pub accession: String,
    pub finding: String,
    pub decision: String,
    pub ai_score: Option<f64>,
    pub model: String,
    pub execution_provider: String,
    pub row_hash: String,
}

/// The chain's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChainStatus {
    pub ok: bool,
    pub rows: f64,
    pub head_hash: String,
    /// Where and why it is broken.
    pub message: Option<String>,
}

/// Why the app could not start, and what to do, for the small window the
/// app shows instead of the worklist (a reader who double-clicked the app
/// sees no terminal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StartupProblem {
    pub message: String,
    /// How to fix it, in plain words.
    pub fix: String,
}

impl StartupProblem {
    /// The problem for a workstation that would not open.
    pub fn from_error(e: &ApiError) -> StartupProblem {
        let fix = match e.code {
            ErrorCode::Audit => {
                "Overread does not start without its audit log. If the log was restored or moved \
                 on purpose, an administrator runs `overread audit acknowledge --reason …`; if it is \
                 damaged, restore it from the backup. Ask your IT team; do not delete the file."
            }
            ErrorCode::Source => {
                "Check that the study folder exists and that you can read it (an unplugged disk or \
                 share?), or change the folder in the settings file."
            }
            ErrorCode::Settings | ErrorCode::InvalidArgument => {
                "Correct the settings file it names (or move it aside to start with the defaults)."
            }
            _ => "Note the message and ask your IT team.",
        };
        StartupProblem {
            message: e.message.clone(),
            fix: fix.into(),
        }
    }

    /// The problem for a configuration that could not be read.
    pub fn configuration(message: String) -> StartupProblem {
        StartupProblem {
            message,
            fix:
                "Correct the settings file it names (or move it aside to start with the defaults), \
                  or the environment variable it names."
                    .into(),
        }
    }
}

/// The result of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ExportResult {
    pub path: String,
    pub rows: f64,
    pub deidentified: bool,
}

/// Agreement for one finding (or reader).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AgreementView {
    pub name: String,
    pub flags_shown: f64,
    pub confirmed: f64,
    pub dismissed: f64,
    pub missed_added: f64,
    pub ppv: Option<f64>,
    pub median_ms_to_decision: Option<f64>,
}

/// Confirmed and dismissed per day and finding, for the plots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DailyAgreement {
    /// YYYY-MM-DD
    pub day: String,
    pub finding: String,
    pub confirmed: f64,
    pub dismissed: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsView {
    pub decisions: f64,
    pub per_finding: Vec<AgreementView>,
    pub per_reader: Vec<AgreementView>,
    pub daily: Vec<DailyAgreement>,
}
