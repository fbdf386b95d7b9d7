//! The command layer: validate, call the core, return a typed result.
//! Work that touches files or the model runs off the main thread.

use std::path::PathBuf;
use std::sync::Arc;

use overread_core::api::{
    ApiError, AuditEntry, ChainStatus, DecisionRequest, DecisionView, ExportResult,
    ImpressionRequest, Settings, StatsView, StudyView, Worklist,
};
use overread_core::workstation::{Workstation, WsError};
use tauri::State;

use crate::config::SettingsPath;

type Ws<'a> = State<'a, Arc<Workstation>>;
pub type CmdResult<T> = Result<T, ApiError>;

fn api(e: WsError) -> ApiError {
    ApiError {
        kind: e.kind.to_string(),
        message: e.message,
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError {
        kind: "invalid_argument".into(),
        message: message.into(),
    }
}

/// Study ids are `s` and up to six digits; anything else never reaches the core.
pub fn valid_id(id: &str) -> Result<(), ApiError> {
    let digits = id.strip_prefix('s').unwrap_or("");
    if (1..=6).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid(format!("{id:?} is not a study id")))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WsError> + Send + 'static,
) -> CmdResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| ApiError {
            kind: "internal".into(),
            message: e.to_string(),
        })?
        .map_err(api)
}

/// The worklist in reading order, with triage progress.
#[tauri::command]
pub async fn worklist(ws: Ws<'_>) -> CmdResult<Worklist> {
    Ok(ws.worklist())
}

/// Opens a study: decodes it and returns what the viewer shows.
#[tauri::command]
pub async fn open_study(ws: Ws<'_>, id: String) -> CmdResult<StudyView> {
    valid_id(&id)?;
    let ws = ws.inner().clone();
    blocking(move || ws.open_study(&id)).await
}

/// Records a confirm, dismiss or added missed finding; returns the committed row.
#[tauri::command]
pub async fn decide(ws: Ws<'_>, request: DecisionRequest) -> CmdResult<DecisionView> {
    valid_id(&request.id)?;
    if request.finding.trim().is_empty() || request.finding.chars().count() > 64 {
        return Err(invalid("finding must be 1 to 64 characters"));
    }
    let ws = ws.inner().clone();
    blocking(move || ws.decide(&request)).await
}

/// Read-first mode: records the unaided impression and reveals the AI.
#[tauri::command]
pub async fn record_impression(ws: Ws<'_>, request: ImpressionRequest) -> CmdResult<StudyView> {
    valid_id(&request.id)?;
    let ws = ws.inner().clone();
    blocking(move || ws.record_impression(&request)).await
}

/// The newest audit rows, newest first.
#[tauri::command]
pub async fn audit_recent(ws: Ws<'_>, limit: u32) -> CmdResult<Vec<AuditEntry>> {
    let ws = ws.inner().clone();
    blocking(move || ws.audit_recent(limit)).await
}

/// Walks the hash chain.
#[tauri::command]
pub async fn verify_chain(ws: Ws<'_>) -> CmdResult<ChainStatus> {
    let ws = ws.inner().clone();
    blocking(move || ws.verify()).await
}

/// Exports the log as CSV to an absolute path chosen in the save dialog.
#[tauri::command]
pub async fn export_audit(ws: Ws<'_>, path: String, deidentify: bool) -> CmdResult<ExportResult> {
    let path = PathBuf::from(path);
    if !path.is_absolute() {
        return Err(invalid("the export path must be absolute"));
    }
    if !path.parent().is_some_and(|p| p.is_dir()) {
        return Err(invalid("the export folder does not exist"));
    }
    let ws = ws.inner().clone();
    blocking(move || ws.export(&path, deidentify)).await
}

/// Agreement statistics for the audit screen.
#[tauri::command]
pub async fn agreement_stats(ws: Ws<'_>) -> CmdResult<StatsView> {
    let ws = ws.inner().clone();
    blocking(move || ws.stats()).await
}

#[tauri::command]
pub async fn get_settings(ws: Ws<'_>) -> CmdResult<Settings> {
    Ok(ws.settings())
}

/// Saves settings; a changed reader is recorded in the audit log, and new
/// studies from changed sources are triaged in the background.
#[tauri::command]
pub async fn save_settings<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    ws: Ws<'_>,
    path: State<'_, SettingsPath>,
    settings: Settings,
) -> CmdResult<Settings> {
    if settings.sources.len() > 32
        || settings
            .sources
            .iter()
            .any(|s| !PathBuf::from(s).is_absolute())
    {
        return Err(invalid("study sources must be at most 32 absolute paths"));
    }
    if let Some(p) = &settings.pacs_config
        && (p.len() > 4096 || !PathBuf::from(p).is_absolute())
    {
        return Err(invalid("the PACS configuration must be an absolute path"));
    }
    let ws = ws.inner().clone();
    let file = path.0.clone();
    let before = ws.settings();
    let saved = blocking(move || {
        let saved = ws.update_settings(settings)?;
        overread_core::workstation::save_settings(&file, &saved)?;
        Ok(saved)
    })
    .await?;
    if saved.pacs_config != before.pacs_config {
        crate::start_sync(&app);
    } else if saved.sources != before.sources {
        crate::start_triage(&app);
    }
    Ok(saved)
}

/// Asks the PACS sources for new studies now; retrieval and triage follow
/// in the background.
#[tauri::command]
pub async fn refresh_sources<R: tauri::Runtime>(app: tauri::AppHandle<R>) -> CmdResult<()> {
    crate::start_sync(&app);
    Ok(())
}

/// Stops background triage after the studies already running.
#[tauri::command]
pub async fn cancel_triage(ws: Ws<'_>) -> CmdResult<()> {
    ws.cancel_triage();
    Ok(())
}

/// Every command, for the handler, the capability and the bindings.
pub use crate::command_names::NAMES;

pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![
        worklist,
        open_study,
        decide,
        record_impression,
        audit_recent,
        verify_chain,
        export_audit,
        agreement_stats,
        get_settings,
        save_settings,
        cancel_triage,
        refresh_sources,
    ]
}
