// Generated from Rust by src-tauri/src/bindings.rs (ts-rs). Do not edit:
// OVERREAD_UPDATE_BINDINGS=1 cargo test -p overread-app bindings

import { invoke } from "@tauri-apps/api/core";

/**
 * A study's handle for this session: `s` and a number (`s12`). The only
 * handle the UI has on a study; parsed once where it enters (commands and
 * the `overread://` scheme), so the core never sees a malformed one.
 */
export type StudyId = string;

/**
 * Whether a study's images are here to show and infer.
 */
export type Availability = "available" | "retrieving" | "partial" | "evicted";

/**
 * Where a study's AI result stands.
 */
export type AiStatus = "waiting" | "queued" | "running" | "flagged" | "no_flags" | "refused" | "error" | "unrecorded" | "withheld";

/**
 * Background audit events the log has not recorded yet (it refused the
 * write: disk full, file made read-only…). They are kept in memory and
 * written as soon as the log takes them; the studies they belong to are
 * not shown as triaged until then.
 */
export type AuditHealth = { 
/**
 * Events kept in memory, waiting to be written.
 */
unrecorded: number, 
/**
 * Events beyond the in-memory limit, not kept (0 unless the log has
 * refused writes for a very long time).
 */
lost: number, 
/**
 * Why the last write failed.
 */
error: string | null, };

/**
 * Why the app could not start, and what to do, for the small window the
 * app shows instead of the worklist (a reader who double-clicked the app
 * sees no terminal).
 */
export type StartupProblem = { message: string, 
/**
 * How to fix it, in plain words.
 */
fix: string, };

/**
 * A setting a machine-wide file (`/etc/overread/settings.json`) may set,
 * and lock so that Settings shows it and cannot change it. The reader's
 * identity is the reader's own and never locked.
 */
export type SettingKey = "sources" | "model_dir" | "execution_provider" | "inference_server" | "read_first" | "max_wait_minutes" | "pacs_config" | "results_folder" | "department_store" | "audit_log" | "viewing";

/**
 * What this machine's administrator decided: the machine-wide settings
 * file, if there is one, and the settings it locks.
 */
export type SettingsPolicy = { 
/**
 * The machine-wide file read, or null when there is none.
 */
file: string | null, locked: Array<SettingKey>, };

/**
 * What the first-run screen asks, filled in with the defaults (the
 * operating-system user, the machine-wide settings) when it opens.
 */
export type SetupRequest = { reader: ReaderIdentity, read_first: boolean, 
/**
 * Study folders or DICOMDIRs on this machine.
 */
sources: Array<string>, 
/**
 * A PACS configuration file (TOML), or null.
 */
pacs_config: string | null, 
/**
 * One of the models offered.
 */
model_dir: string, 
/**
 * Where the audit log is kept.
 */
audit_log: string, };

/**
 * A model the first-run screen offers.
 */
export type ModelChoice = { dir: string, name: string, version: string, clinical: boolean, intended_use: string, };

/**
 * The first-run screen: shown when the reader has no settings yet.
 */
export type SetupView = { defaults: SetupRequest, models: Array<ModelChoice>, policy: SettingsPolicy, 
/**
 * Whether "Try it with demo data" can run (the demonstration model is installed).
 */
demo: boolean, };

/**
 * One PACS source's answer to the connection test.
 */
export type PacsCheck = { source: string, ok: boolean, 
/**
 * "answered in 12 ms", or what failed.
 */
message: string, };

/**
 * A model in the model store, as Settings offers it.
 */
export type InstalledModel = { name: string, version: string, sha256: string, clinical: boolean, 
/**
 * Its folder in the store (what the settings keep).
 */
dir: string, };

/**
 * Where the reader stands with a study.
 */
export type ReadingStatus = "unread" | "in_progress" | "read";

/**
 * One row of the worklist.
 */
export type WorklistRow = { id: StudyId, patient_name: string, patient_id: string, accession: string, 
/**
 * YYYY-MM-DD, or empty.
 */
study_date: string, modality: string, body_part: string, view: string, images: number, availability: Availability, 
/**
 * Why a study is partial, or what its retrieval waits for.
 */
availability_message: string | null, ai: AiStatus, 
/**
 * Why the AI is refused or failed.
 */
ai_message: string | null, 
/**
 * Read-first mode: the AI result is withheld until the reader's
 * unaided impression is recorded (decided in the core, once).
 */
ai_hidden: boolean, top_finding: string | null, top_score: number | null, reading: ReadingStatus, 
/**
 * Where the study comes from: "local" (a folder) or a PACS source's name.
 */
source: string, 
/**
 * Where the signed-off results stand.
 */
results: ResultsView, 
/**
 * Every flagged finding has a decision: the study may be signed off.
 */
can_sign_off: boolean, 
/**
 * Minutes since the study arrived on the worklist.
 */
waited_minutes: number, 
/**
 * Waited longer than the cap: moved to the top whatever the AI says.
 */
overdue: boolean, 
/**
 * Who is reading it, when a department store says (see [`ClaimView`]).
 */
claim: ClaimView | null, };

/**
 * The worklist in reading order, with the triage progress.
 */
export type Worklist = { rows: Array<WorklistRow>, triage: TriageProgress, model: ModelView | null, 
/**
 * Why the model could not be loaded (runtime missing, checksum mismatch…).
 */
model_error: string | null, 
/**
 * The configured PACS sources and their state.
 */
sources: Array<SourceStatus>, 
/**
 * Background audit events not recorded yet.
 */
audit: AuditHealth, 
/**
 * The department store, when one is configured.
 */
store: StoreStatus | null, };

/**
 * Background triage progress.
 */
export type TriageProgress = { done: number, total: number, running: boolean, };

/**
 * What changed on the worklist, sent as the `worklist-change` event by
 * triage and PACS sync: only the rows that changed, so the UI updates
 * those rows instead of fetching the whole worklist.
 */
export type WorklistChange = { 
/**
 * The changed rows (new ones included), as `worklist` would show them.
 */
rows: Array<WorklistRow>, 
/**
 * Set when triage progress changed.
 */
triage: TriageProgress | null, 
/**
 * Set when a PACS source's state changed.
 */
sources: Array<SourceStatus> | null, 
/**
 * Set when the model was loaded or failed to load.
 */
model: ModelStatus | null, 
/**
 * Set when events the audit log has not recorded were kept or written.
 */
audit: AuditHealth | null, 
/**
 * Set while a local source is scanned, and when it has been.
 */
scan: ScanProgress | null, 
/**
 * Set when a study here only as a prior changed (found, retrieved or
 * triaged): an open study's comparison may have changed.
 */
priors: boolean, 
/**
 * Set when the department store's state changed.
 */
store: StoreStatus | null, };

/**
 * The loaded model, or why there is none.
 */
export type ModelStatus = { model: ModelView | null, 
/**
 * Why the model could not be loaded (runtime missing, checksum mismatch…).
 */
error: string | null, };

/**
 * The model as the UI shows it.
 */
export type ModelView = { name: string, version: string, sha256: string, licence: string, 
/**
 * false: demonstration model, not for clinical use.
 */
clinical: boolean, 
/**
 * Whether it may flag here: a clinical model flags nothing until a
 * validation report for it is accepted here.
 */
go_live: GoLive, description: string, execution_provider: string, 
/**
 * Why the requested GPU provider was not used.
 */
fallback: string | null, labels: Array<string>, thresholds: Array<Threshold>, intended_use: string, };

/**
 * Whether the model may flag studies here.
 */
export type GoLive = "demonstration" | "not_validated_here" | "validated" | "retired";

/**
 * A change's who, when and which audit row.
 */
export type Change = { reader_id: string, reader_name: string, role: string, at: string, seq: number, };

/**
 * An accepted validation report.
 */
export type Acceptance = { report_sha256: string, by: Change, };

/**
 * A threshold set here for one label.
 */
export type SiteThreshold = { label: string, value: number, previous: number, report_sha256: string, by: Change, };

/**
 * This site's use of one model (by its weights' SHA-256).
 */
export type SiteState = { model_sha256: string, 
/**
 * The latest accepted validation.
 */
accepted: Acceptance | null, thresholds: Array<SiteThreshold>, retired: Change | null, };

/**
 * This site's use of the configured model, as Settings shows it: what
 * the log records now and what the running triage applies (a change
 * applies at the next start, like a model change).
 */
export type ModelSite = { name: string, version: string, sha256: string, clinical: boolean, 
/**
 * As the audit log records it now.
 */
go_live: GoLive, 
/**
 * As the running triage applies it (null before the model is loaded).
 */
in_force: GoLive | null, state: SiteState, 
/**
 * Each label's threshold as the log records it (this site's, else the
 * manifest's).
 */
thresholds: Array<Threshold>, 
/**
 * The roles that may accept a validation report.
 */
accepting_roles: Array<string>, };

export type Threshold = { label: string, 
/**
 * The threshold in force: this site's if one is set, else the manifest's.
 */
threshold: number, 
/**
 * Set at this site (beside the manifest, in the audit log).
 */
set_here: boolean, };

/**
 * A window (PS3.3 C.11.2.1.2) offered by the file or computed from its range.
 */
export type WindowPreset = { name: string, center: number, width: number, };

/**
 * A rectangle in image pixels.
 */
export type Rect = { x: number, y: number, width: number, height: number, };

/**
 * One AI finding on a study.
 */
export type FindingView = { label: string, score: number, threshold: number, flagged: boolean, region: Rect | null, has_heatmap: boolean, 
/**
 * The same finding on the newest prior: "nodule 0.82 now; 0.79 on
 * 2025-03-01, dismissed as stable".
 */
prior: string | null, };

/**
 * A decision recorded in the audit log.
 */
export type DecisionView = { seq: number, finding: string, 
/**
 * confirm, dismiss or add_missed.
 */
decision: string, region: Rect | null, reason: string | null, recorded_at: string, row_hash: string, };

/**
 * Everything the viewer needs about a study, except its pixels (those go
 * through the `overread://` scheme).
 */
export type StudyView = { id: StudyId, patient_name: string, patient_id: string, patient_sex: string, patient_age: string, accession: string, study_date: string, study_description: string, modality: string, body_part: string, view: string, manufacturer: string, transfer_syntax: string, image: ImageGeometry, availability: Availability, availability_message: string | null, ai: AiStatus, ai_message: string | null, 
/**
 * Read-first mode: the model, findings and heatmaps are withheld (and
 * the reader is asked for an unaided impression) while this is true.
 */
ai_hidden: boolean, model: ModelView | null, findings: Array<FindingView>, decisions: Array<DecisionView>, impression_recorded: boolean, 
/**
 * Every flagged finding has a decision: the study may be signed off.
 */
can_sign_off: boolean, results: ResultsView, 
/**
 * The patient's earlier chest radiographs on the worklist, newest first.
 */
priors: Array<PriorView>, 
/**
 * Every image of the study, in hanging order.
 */
images: Array<ImageRef>, hanging: Hanging, };

/**
 * One prior of the open study, newest first.
 */
export type PriorView = { id: StudyId, 
/**
 * YYYY-MM-DD.
 */
study_date: string, accession: string, availability: Availability, ai: AiStatus, };

/**
 * One finding's comparison with the newest prior.
 */
export type PriorLine = { finding: string, 
/**
 * "nodule 0.82 now; 0.79 on 2025-03-01, dismissed as stable".
 */
line: string, };

/**
 * The open study's priors as they stand (the PACS's among them once
 * asked), and each finding's comparison with the newest prior.
 */
export type StudyPriors = { priors: Array<PriorView>, 
/**
 * The findings panel's comparison line of each finding shown.
 */
lines: Array<PriorLine>, 
/**
 * Sources that could not be asked or retrieved from, one line each.
 */
problems: Array<string>, };

/**
 * One image of the open study, in hanging order (index 0 is shown first).
 */
export type ImageRef = { index: number, sop_uid: string, 
/**
 * PA, AP, LAT, else the recorded view or the series description.
 */
view: string, series_description: string, 
/**
 * The study's AI findings, heatmaps and decisions belong to this image.
 */
ai: boolean, 
/**
 * Why the AI did not read this image (shown on it), when it did not.
 */
no_ai: string | null, };

/**
 * How the open study hangs.
 */
export type Hanging = { 
/**
 * The image hung beside the first (a lateral beside the frontal).
 */
beside: number | null, 
/**
 * In comparison, the prior hangs to the left of the current study.
 */
prior_left: boolean, };

/**
 * Where a study's signed-off results stand.
 */
export type ResultsState = "none" | "queued" | "sent" | "failed";

/**
 * A study's results, as the worklist and the viewer show them.
 */
export type ResultsView = { state: ResultsState, message: string | null, 
/**
 * Times this study was signed off here (a later one corrects the earlier).
 */
signed_off: number, };

/**
 * One finding of an assessment read back from the PACS.
 */
export type EarlierFinding = { label: string, 
/**
 * accepted, rejected, modified, added or not_assessed.
 */
assessment: string, score: number | null, flagged: boolean | null, reason: string | null, };

/**
 * An assessment of this study already on the PACS (or in the results
 * folder): what a second reader sees.
 */
export type EarlierAssessment = { sop_instance_uid: string, 
/**
 * The reader, as "FAMILY, Given".
 */
reader: string, 
/**
 * YYYY-MM-DD HH:MM (UTC), or empty.
 */
verified_at: string, workstation: string, 
/**
 * Where it was read from: a PACS source's name, or "local".
 */
source: string, 
/**
 * Reports it corrects (SOP Instance UIDs).
 */
corrects: Array<string>, findings: Array<EarlierFinding>, };

/**
 * How the pixels fetched from `overread://localhost/pixels/{id}` map to
 * modality values, and how to show them (PS3.3 C.11).
 */
export type ImageGeometry = { width: number, height: number, 
/**
 * modality value = offset + stored × scale (stored: little-endian u16).
 */
offset: number, scale: number, 
/**
 * Lowest values white (MONOCHROME1 or Presentation LUT Shape INVERSE).
 */
invert: boolean, windows: Array<WindowPreset>, 
/**
 * mm between pixel centres (row, column), if the file says.
 */
pixel_spacing: [number, number] | null, 
/**
 * Spacing measured at the detector (Imager Pixel Spacing): lengths are
 * not corrected for magnification.
 */
spacing_at_detector: boolean, 
/**
 * Width and height of the reduced first image (`?level=preview`).
 */
preview_width: number, preview_height: number, };

/**
 * The reader's call on a study, as the UI sends it.
 */
export type DecisionRequest = { finding: string, 
/**
 * confirm, dismiss or add_missed.
 */
decision: string, region: Rect | null, reason: string | null, 
/**
 * Milliseconds from the image being shown to this decision.
 */
display_ms: number | null, };

/**
 * Read-first mode: the reader's impression before seeing the AI.
 */
export type ImpressionRequest = { 
/**
 * "normal" or "abnormal".
 */
impression: string, 
/**
 * Findings the reader suspects, by label.
 */
findings: Array<string>, note: string | null, };

/**
 * A row of the audit screen.
 */
export type AuditEntry = { seq: number, recorded_at: string, kind: string, reader: string, patient_id: string, accession: string, finding: string, decision: string, ai_score: number | null, model: string, execution_provider: string, row_hash: string, };

/**
 * The chain's state.
 */
export type ChainStatus = { ok: boolean, rows: number, head_hash: string, 
/**
 * Where and why it is broken.
 */
message: string | null, };

/**
 * The result of an export.
 */
export type ExportResult = { path: string, rows: number, deidentified: boolean, };

/**
 * Agreement for one finding (or reader).
 */
export type AgreementView = { name: string, flags_shown: number, confirmed: number, dismissed: number, missed_added: number, ppv: number | null, median_ms_to_decision: number | null, };

/**
 * Confirmed and dismissed per day and finding, for the plots.
 */
export type DailyAgreement = { 
/**
 * YYYY-MM-DD
 */
day: string, finding: string, confirmed: number, dismissed: number, };

export type StatsView = { decisions: number, per_finding: Array<AgreementView>, per_reader: Array<AgreementView>, daily: Array<DailyAgreement>, };

/**
 * How a PACS source stands, as the worklist shows it.
 */
export type SourceState = "not_checked" | "checking" | "online" | "offline";

/**
 * One PACS source on the worklist.
 */
export type SourceStatus = { name: string, 
/**
 * dicomweb or dimse.
 */
kind: string, state: SourceState, 
/**
 * Why it is offline, in one line.
 */
message: string | null, 
/**
 * Studies from this source on the worklist.
 */
studies: number, 
/**
 * Studies retrieved completely (the rest are being retrieved or partial).
 */
complete: number, 
/**
 * Instances received and expected for the study being retrieved now.
 */
instances_done: number, instances_total: number, 
/**
 * When it last answered, RFC 3339 UTC.
 */
last_answer: string | null, };

/**
 * The reader using this workstation.
 */
export type ReaderIdentity = { id: string, display_name: string, role: string, };

/**
 * The settings screen.
 */
export type Settings = { 
/**
 * Study folders (or DICOMDIRs) on this machine.
 */
sources: Array<string>, 
/**
 * Model folder (model.onnx + manifest.toml).
 */
model_dir: string, 
/**
 * auto, cpu or cuda.
 */
execution_provider: string, 
/**
 * The department's inference server (Open Inference Protocol v2, e.g.
 * `http://inference.example.nhs.uk:8000`) that runs the model, serving
 * it under the manifest's name; the device runs it when the server does
 * not answer. Null: on the device only. A change applies at the next start.
 */
inference_server: string | null, reader: ReaderIdentity, 
/**
 * Hide the AI until the reader has recorded an unaided impression.
 */
read_first: boolean, 
/**
 * No study waits longer than this before it goes to the top.
 */
max_wait_minutes: number, 
/**
 * PACS sources: the path of a PACS configuration file (TOML), or null.
 */
pacs_config: string | null, 
/**
 * Where local studies' results objects are written; null: the
 * `results` folder beside the audit log.
 */
results_folder: string | null, viewing: Viewing, 
/**
 * The department store: a PostgreSQL connection string (libpq
 * `host=… dbname=…` or a `postgresql://` URL) without a password (it
 * comes from `OVERREAD_STORE_PASSWORD` or `OVERREAD_STORE_PASSWORD_FILE`),
 * or null.
 */
department_store: string | null, 
/**
 * Where the audit log is kept; null: `~/.local/share/overread/audit.sqlite3`
 * (`OVERREAD_AUDIT_DB` overrides both). A change applies at the next start.
 */
audit_log: string | null, };

/**
 * The hanging protocol's settings.
 */
export type Viewing = { 
/**
 * A study with a frontal and a lateral view opens with both side by side.
 */
two_views: boolean, prior_side: PriorSide, };

/**
 * Which side the prior hangs on in comparison.
 */
export type PriorSide = "left" | "right";

/**
 * A local source being scanned (sent with `worklist-change`).
 */
export type ScanProgress = { path: string, 
/**
 * Files read, of `total`.
 */
done: number, total: number, 
/**
 * The scan has finished.
 */
finished: boolean, };

/**
 * A local source added, and what its scan found.
 */
export type SourceAdded = { path: string, 
/**
 * Studies found (already on the worklist or new).
 */
studies: number, 
/**
 * Files read.
 */
files: number, 
/**
 * Files that are not readable DICOM images, with why, at most 20.
 */
problems: Array<string>, };

/**
 * Where this workstation's log stands in the department store.
 */
export type StoreState = "checking" | "in_sync" | "behind" | "offline" | "alert";

/**
 * A row the store refused: a workstation's log that no longer extends
 * what the store holds.
 */
export type StoreAlert = { workstation: string, seq: number, reason: string, received_at: string, };

/**
 * The department store's state for this workstation.
 */
export type StoreStatus = { state: StoreState, 
/**
 * Why it is offline, or what was refused.
 */
message: string | null, 
/**
 * Rows of the local log the store does not hold yet.
 */
behind: number, 
/**
 * When the store last answered (RFC 3339).
 */
last_answer: string | null, 
/**
 * The newest refusals the store holds, every workstation's.
 */
alerts: Array<StoreAlert>, };

/**
 * Who is reading a study: a lease in the department store, renewed while
 * the study is open at that workstation. None when nobody is, or when no
 * store is configured or it cannot be reached (claims are unknown then,
 * and reading goes on locally).
 */
export type ClaimView = { 
/**
 * The reader's name.
 */
reader: string, workstation: string, 
/**
 * This workstation holds it; otherwise the study is read-only here
 * until it is taken over.
 */
mine: boolean, 
/**
 * When it was claimed (RFC 3339, UTC).
 */
since: string, 
/**
 * The reader finished it and moved on: it is read.
 */
done: boolean, };

/**
 * Whose rows the view reads.
 */
export type GovernanceScope = "workstation" | "department";

/**
 * A governance view of a period; the baseline is the window of the same
 * length just before it.
 */
export type GovernanceRequest = { scope: GovernanceScope, 
/**
 * First day, YYYY-MM-DD (UTC).
 */
from: string, 
/**
 * Last day, YYYY-MM-DD (UTC).
 */
to: string, };

/**
 * Reader agreement for one reader.
 */
export type GovernanceGroup = { key: string, accepted: number, rejected: number, added: number, ppv: number | null, };

/**
 * One finding of one model version: flags, agreement and drift.
 */
export type GovernanceFinding = { finding: string, images: number, flagged: number, flag_rate: number | null, accepted: number, rejected: number, added: number, ppv: number | null, median_ms: number | null, psi: number | null, ks_p: number | null, drift_alert: boolean, 
/**
 * Why drift was not judged (too few scores), when it was not.
 */
drift_note: string | null, 
/**
 * Shares of ten equal score bins, period and baseline.
 */
period_shares: Array<number>, baseline_shares: Array<number>, };

/**
 * One model version (never pooled with another).
 */
export type GovernanceModel = { name: string, version: string, sha256: string, images: number, decisions: number, ppv: number | null, findings: Array<GovernanceFinding>, readers: Array<GovernanceGroup>, 
/**
 * Acquisition attributes whose mix shifted against the baseline.
 */
mix_alerts: Array<string>, };

export type GovernanceView = { 
/**
 * What was read: this workstation's log or the department store.
 */
scope: string, from: string, to: string, baseline_from: string, baseline_to: string, 
/**
 * Drift alerts and rows the store refused, one line each.
 */
alerts: Array<string>, models: Array<GovernanceModel>, };

/**
 * What went wrong, as a stable code the UI branches on.
 */
export type ErrorCode = "invalid_argument" | "unknown_study" | "not_available" | "invalid_study" | "unknown_finding" | "no_result" | "no_heatmap" | "impression_required" | "image" | "audit" | "settings" | "source" | "results" | "store" | "claimed" | "model" | "internal";

/**
 * An error with its code and a one-line message for the reader.
 */
export type ApiError = { code: ErrorCode, message: string, };

/** Event name of WorklistChange. */
export const WORKLIST_EVENT = "worklist-change";

/** The app's commands. Rejections carry an ApiError. */
export const commands = {
  /** Why the app could not start, when it could not (the window then shows only that); null otherwise. */
  startupProblem: (): Promise<StartupProblem | null> => invoke("startup_problem"),
  /** The first-run screen, when this reader has no settings yet (the window then shows only that); null once the workstation is set up. */
  setupView: (): Promise<SetupView | null> => invoke("setup_view"),
  /** Asks each source of a PACS configuration file whether it answers (C-ECHO, or a one-study QIDO-RS search); a file that does not load is an error. */
  checkPacs: (path: string): Promise<Array<PacsCheck>> => invoke("check_pacs", { path }),
  /** Runs a native folder dialog (the app's own) and returns the folder picked, adding nothing; null when the reader cancels. */
  chooseFolder: (): Promise<string | null> => invoke("choose_folder"),
  /** Finishes the first run: every choice checked and recorded in the audit log, the settings saved, the worklist opened. */
  finishSetup: (request: SetupRequest): Promise<null> => invoke("finish_setup", { request }),
  /** Opens the demo worklist instead of setting up (synthetic phantoms, the demonstration model, a log of its own; nothing saved). */
  tryDemo: (): Promise<null> => invoke("try_demo"),
  /** The machine-wide settings file and the settings it locks. */
  settingsPolicy: (): Promise<SettingsPolicy> => invoke("settings_policy"),
  /** The worklist in reading order, with triage progress. */
  worklist: (): Promise<Worklist> => invoke("worklist"),
  /** Opens a study: decodes it and returns what the viewer shows. */
  openStudy: (id: string): Promise<StudyView> => invoke("open_study", { id }),
  /** How to draw image `image` (in hanging order) of a study: a lateral beside the frontal, or a prior in comparison. */
  openImage: (id: string, image: number): Promise<ImageGeometry> => invoke("open_image", { id, image }),
  /** Asks the PACS sources for the study's priors (once in five minutes) and retrieves `prior` (by default the newest) when it is not here; it is triaged in the background. Called when a study is selected. */
  findPriors: (id: string, prior: string | null): Promise<StudyPriors> => invoke("find_priors", { id, prior }),
  /** The study's priors as they stand, without the network (asked again when a `worklist-change` event says a prior changed). */
  studyPriors: (id: string): Promise<StudyPriors> => invoke("study_priors", { id }),
  /** Takes over a study another reader is reading (a department store's claim): recorded in the audit log, then claimed for this reader. */
  takeOver: (id: string): Promise<StudyView> => invoke("take_over", { id }),
  /** Records a decision; resolves only after the audit row is committed. */
  decide: (id: string, request: DecisionRequest): Promise<DecisionView> => invoke("decide", { id, request }),
  /** Read-first mode: records the unaided impression and reveals the AI. */
  recordImpression: (id: string, request: ImpressionRequest): Promise<StudyView> => invoke("record_impression", { id, request }),
  /** Signs the study's assessment off (every flagged finding decided): makes the SR, Parametric Maps and GSPS and queues them for the PACS. */
  signOff: (id: string): Promise<ResultsView> => invoke("sign_off", { id }),
  /** Assessments of the study already on its PACS (or in the results folder). */
  earlierAssessments: (id: string): Promise<Array<EarlierAssessment>> => invoke("earlier_assessments", { id }),
  /** The newest audit rows, newest first. */
  auditRecent: (limit: number): Promise<Array<AuditEntry>> => invoke("audit_recent", { limit }),
  /** Walks the audit log's hash chain. */
  verifyChain: (): Promise<ChainStatus> => invoke("verify_chain"),
  /** Exports the audit log as CSV to the file the reader picks in a save dialog that the app runs (the webview passes no path); null when the reader cancels. */
  exportAudit: (deidentify: boolean): Promise<ExportResult | null> => invoke("export_audit", { deidentify }),
  /** Agreement statistics per finding and reader. */
  agreementStats: (): Promise<StatsView> => invoke("agreement_stats"),
  /** The governance view of a period, over this workstation's log or the department store: per model version, flags, agreement and drift. */
  governance: (request: GovernanceRequest): Promise<GovernanceView> => invoke("governance", { request }),
  /** Saves the whole governance report as one self-contained HTML file where the reader picks in a save dialog the app runs; the path, or null when the reader cancels. */
  saveGovernanceReport: (request: GovernanceRequest): Promise<string | null> => invoke("save_governance_report", { request }),
  /** The models in the model store, which Settings picks among. */
  installedModels: (): Promise<Array<InstalledModel>> => invoke("installed_models"),
  /** This site's use of the configured model: go-live, the thresholds set here, who accepted which validation report (from the audit log). */
  modelSite: (): Promise<ModelSite> => invoke("model_site"),
  /** Accepts a validation report (`overread model validate`) for the configured model as this session's reader, picked in an open dialog the app runs: recorded in the audit log; null when the reader cancels. It applies at the next start. */
  acceptValidation: (): Promise<ModelSite | null> => invoke("accept_validation"),
  /** Sets this site's threshold for one of the configured model's labels as this session's reader, resting on a validation report picked in an open dialog the app runs: recorded in the audit log; null when the reader cancels. It applies at the next start. */
  setSiteThreshold: (label: string, value: number): Promise<ModelSite | null> => invoke("set_site_threshold", { label, value }),
  /** The current settings. */
  getSettings: (): Promise<Settings> => invoke("get_settings"),
  /** Saves settings; a changed reader is recorded. */
  saveSettings: (settings: Settings): Promise<Settings> => invoke("save_settings", { settings }),
  /** Adds local sources (folders, DICOM files, DICOMDIRs): the drop handler's entry point. Each is scanned with progress; its studies join the worklist and the settings keep it. */
  addSources: (paths: Array<string>): Promise<Array<SourceAdded>> => invoke("add_sources", { paths }),
  /** Runs a native folder dialog (the app's own) and adds the folder picked; empty when the reader cancels. */
  openFolder: (): Promise<Array<SourceAdded>> => invoke("open_folder"),
  /** Removes a local source; its studies leave the worklist. */
  removeSource: (path: string): Promise<null> => invoke("remove_source", { path }),
  /** Stops background triage after the studies already running. */
  cancelTriage: (): Promise<null> => invoke("cancel_triage"),
  /** Asks the PACS sources for new studies now; retrieval and triage follow in the background. */
  refreshSources: (): Promise<null> => invoke("refresh_sources"),
};
