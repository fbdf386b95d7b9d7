//! The command layer: parse the study id, call the core, return its typed
//! result. Every rule about arguments lives in the core, so the app and the
//! CLI apply the same ones. Work that touches files or the model runs off
//! the main thread. The commands' names, arguments and results are written
//! once, in `command_table.rs`.

use std::path::PathBuf;
use std::sync::Arc;

use overread_core::api::{
    ApiError, AuditEntry, ChainStatus, DecisionRequest, DecisionView, EarlierAssessment, ErrorCode,
    ExportResult, GovernanceRequest, GovernanceView, ImageGeometry, ImpressionRequest,
    InstalledModel, ModelSite, ResultsView, Settings, SourceAdded, StartupProblem, StatsView,
    StudyId, StudyPriors, StudyView, Worklist,
};
#[allow(unused_imports)] // the command table names them
use overread_core::api::{PacsCheck, SettingsPolicy, SetupRequest, SetupView};
use overread_core::workstation::{Workstation, WsResult};
use tauri::{AppHandle, Manager, Runtime};

use crate::config::{ExportTo, SettingsPath};
pub use crate::setup::*;

pub type CmdResult<T> = Result<T, ApiError>;

/// The workstation; until the first run has finished there is none, and
/// every command that needs one says so.
pub(crate) fn ws<R: Runtime>(app: &AppHandle<R>) -> CmdResult<Arc<Workstation>> {
    app.try_state::<Arc<Workstation>>()
        .map(|w| w.inner().clone())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Settings,
                "Overread is not set up yet: finish the set-up screen first",
            )
        })
}

/// Runs core work on a blocking thread.
async fn blocking<T: Send + 'static>(
    app: &AppHandle<impl Runtime>,
    f: impl FnOnce(&Workstation) -> WsResult<T> + Send + 'static,
) -> CmdResult<T> {
    let ws = ws(app)?;
    tauri::async_runtime::spawn_blocking(move || f(&ws))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
}

#[tauri::command]
pub async fn startup_problem<R: Runtime>(app: AppHandle<R>) -> CmdResult<Option<StartupProblem>> {
    Ok(app.try_state::<StartupProblem>().map(|p| p.inner().clone()))
}

#[tauri::command]
pub async fn installed_models<R: Runtime>(app: AppHandle<R>) -> CmdResult<Vec<InstalledModel>> {
    blocking(&app, |ws| Ok(ws.installed_models())).await
}

#[tauri::command]
pub async fn worklist<R: Runtime>(app: AppHandle<R>) -> CmdResult<Worklist> {
    Ok(ws(&app)?.worklist())
}

#[tauri::command]
pub async fn open_study<R: Runtime>(app: AppHandle<R>, id: String) -> CmdResult<StudyView> {
    let id: StudyId = id.parse()?;
    blocking(&app, move |ws| ws.open_study(id)).await
}

#[tauri::command]
pub async fn open_image<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    image: u32,
) -> CmdResult<ImageGeometry> {
    let id: StudyId = id.parse()?;
    blocking(&app, move |ws| ws.open_image(id, image)).await
}

#[tauri::command]
pub async fn decide<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    request: DecisionRequest,
) -> CmdResult<DecisionView> {
    let id: StudyId = id.parse()?;
    blocking(&app, move |ws| ws.decide(id, &request)).await
}

#[tauri::command]
pub async fn record_impression<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    request: ImpressionRequest,
) -> CmdResult<StudyView> {
    let id: StudyId = id.parse()?;
    blocking(&app, move |ws| ws.record_impression(id, &request)).await
}

#[tauri::command]
pub async fn take_over<R: Runtime>(app: AppHandle<R>, id: String) -> CmdResult<StudyView> {
    let id: StudyId = id.parse()?;
    blocking(&app, move |ws| ws.take_over(id)).await
}

#[tauri::command]
pub async fn sign_off<R: Runtime>(app: AppHandle<R>, id: String) -> CmdResult<ResultsView> {
    let id: StudyId = id.parse()?;
    let view = blocking(&app, move |ws| ws.sign_off(id)).await?;
    crate::start_sending(&app);
    Ok(view)
}

#[tauri::command]
pub async fn earlier_assessments<R: Runtime>(
    app: AppHandle<R>,
    id: String,
) -> CmdResult<Vec<EarlierAssessment>> {
    let id: StudyId = id.parse()?;
    blocking(&app, move |ws| ws.earlier_assessments(id)).await
}

#[tauri::command]
pub async fn audit_recent<R: Runtime>(app: AppHandle<R>, limit: u32) -> CmdResult<Vec<AuditEntry>> {
    blocking(&app, move |ws| ws.audit_recent(limit)).await
}

#[tauri::command]
pub async fn verify_chain<R: Runtime>(app: AppHandle<R>) -> CmdResult<ChainStatus> {
    blocking(&app, |ws| ws.verify()).await
}

#[tauri::command]
pub async fn export_audit<R: Runtime>(
    app: AppHandle<R>,
    deidentify: bool,
) -> CmdResult<Option<ExportResult>> {
    let Some(path) = export_destination(&app, deidentify).await? else {
        return Ok(None);
    };
    blocking(&app, move |ws| ws.export(&path, deidentify))
        .await
        .map(Some)
}

/// Where an export goes ([`ExportTo`]): the file the reader picks in the
/// save dialog, which the app runs itself, so nothing the webview says
/// names a path.
async fn export_destination<R: Runtime>(
    app: &AppHandle<R>,
    deidentify: bool,
) -> CmdResult<Option<PathBuf>> {
    let (title, name) = if deidentify {
        (
            "Export de-identified audit log",
            "overread-audit-deidentified.csv",
        )
    } else {
        ("Export audit log", "overread-audit.csv")
    };
    save_destination(app, title, name, ("CSV", "csv")).await
}

/// Runs a native dialog the app owns on a blocking thread: the path the
/// reader picks, or `None` when they cancel.
async fn run_dialog(
    pick: impl FnOnce() -> Option<tauri_plugin_dialog::FilePath> + Send + 'static,
) -> CmdResult<Option<PathBuf>> {
    let chosen = tauri::async_runtime::spawn_blocking(pick)
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    chosen
        .map(|p| {
            p.into_path()
                .map_err(|e| ApiError::new(ErrorCode::InvalidArgument, e.to_string()))
        })
        .transpose()
}

/// A file the reader picks in a save dialog the app runs; with
/// `OVERREAD_EXPORT_TO` set ([`ExportTo`]), that path with this file's
/// extension instead.
async fn save_destination<R: Runtime>(
    app: &AppHandle<R>,
    title: &str,
    name: &str,
    (kind, extension): (&str, &str),
) -> CmdResult<Option<PathBuf>> {
    let to = app
        .try_state::<ExportTo>()
        .map(|s| s.inner().clone())
        .unwrap_or(ExportTo::Ask);
    if let ExportTo::File(path) = to {
        return Ok(Some(path.with_extension(extension)));
    }
    use tauri_plugin_dialog::DialogExt;
    let dialog = app
        .dialog()
        .file()
        .set_title(title)
        .set_file_name(name)
        .add_filter(kind, &[extension]);
    run_dialog(move || dialog.blocking_save_file()).await
}

#[tauri::command]
pub async fn governance<R: Runtime>(
    app: AppHandle<R>,
    request: GovernanceRequest,
) -> CmdResult<GovernanceView> {
    blocking(&app, move |ws| ws.governance(&request)).await
}

#[tauri::command]
pub async fn save_governance_report<R: Runtime>(
    app: AppHandle<R>,
    request: GovernanceRequest,
) -> CmdResult<Option<String>> {
    let name = format!(
        "overread-governance-{}-to-{}.html",
        request.from, request.to
    );
    let Some(path) =
        save_destination(&app, "Save governance report", &name, ("HTML", "html")).await?
    else {
        return Ok(None);
    };
    blocking(&app, move |ws| ws.save_governance(&request, &path))
        .await
        .map(Some)
}

#[tauri::command]
pub async fn model_site<R: Runtime>(app: AppHandle<R>) -> CmdResult<ModelSite> {
    blocking(&app, |ws| ws.model_site()).await
}

#[tauri::command]
pub async fn accept_validation<R: Runtime>(app: AppHandle<R>) -> CmdResult<Option<ModelSite>> {
    let Some(report) = pick_file(&app, "Accept a validation report", ("JSON", "json")).await?
    else {
        return Ok(None);
    };
    blocking(&app, move |ws| ws.accept_validation(&report))
        .await
        .map(Some)
}

#[tauri::command]
pub async fn set_site_threshold<R: Runtime>(
    app: AppHandle<R>,
    label: String,
    value: f32,
) -> CmdResult<Option<ModelSite>> {
    let title = format!("The validation report the {label} threshold rests on");
    let Some(report) = pick_file(&app, &title, ("JSON", "json")).await? else {
        return Ok(None);
    };
    blocking(&app, move |ws| {
        ws.set_site_threshold(&label, value, &report)
    })
    .await
    .map(Some)
}

#[tauri::command]
pub async fn agreement_stats<R: Runtime>(app: AppHandle<R>) -> CmdResult<StatsView> {
    blocking(&app, |ws| ws.stats()).await
}

#[tauri::command]
pub async fn get_settings<R: Runtime>(app: AppHandle<R>) -> CmdResult<Settings> {
    Ok(ws(&app)?.settings())
}

/// A changed reader is recorded in the audit log; new studies from changed
/// sources are triaged, and a changed PACS configuration synced, in the
/// background.
#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> CmdResult<Settings> {
    let file = app.state::<SettingsPath>().0.clone();
    let before = ws(&app)?.settings();
    let saved = blocking(&app, move |ws| {
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

#[tauri::command]
pub async fn add_sources<R: Runtime>(
    app: AppHandle<R>,
    paths: Vec<String>,
) -> CmdResult<Vec<SourceAdded>> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    sources_changed(&app, move |ws| ws.add_sources(&paths)).await
}

/// Runs the native folder dialog (the app's own; the webview passes no
/// path); `None` when the reader cancels.
pub(crate) async fn pick_folder<R: Runtime>(
    app: &AppHandle<R>,
    title: &str,
) -> CmdResult<Option<PathBuf>> {
    use tauri_plugin_dialog::DialogExt;
    let dialog = app.dialog().file().set_title(title);
    run_dialog(move || dialog.blocking_pick_folder()).await
}

/// A file the reader picks in an open dialog the app runs (never a path
/// from the webview).
async fn pick_file<R: Runtime>(
    app: &AppHandle<R>,
    title: &str,
    (kind, extension): (&str, &str),
) -> CmdResult<Option<PathBuf>> {
    use tauri_plugin_dialog::DialogExt;
    let dialog = app
        .dialog()
        .file()
        .set_title(title)
        .add_filter(kind, &[extension]);
    run_dialog(move || dialog.blocking_pick_file()).await
}

#[tauri::command]
pub async fn open_folder<R: Runtime>(app: AppHandle<R>) -> CmdResult<Vec<SourceAdded>> {
    let Some(folder) = pick_folder(&app, "Open a folder of studies").await? else {
        return Ok(Vec::new());
    };
    sources_changed(&app, move |ws| ws.add_sources(&[folder])).await
}

#[tauri::command]
pub async fn find_priors<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    prior: Option<String>,
) -> CmdResult<StudyPriors> {
    let id: StudyId = id.parse()?;
    let prior = prior.map(|p| p.parse::<StudyId>()).transpose()?;
    let found = blocking(&app, move |ws| ws.find_priors(id, prior)).await?;
    // A prior retrieved now waits for triage.
    if found
        .priors
        .iter()
        .any(|p| p.ai == overread_core::api::AiStatus::Queued)
    {
        crate::start_triage(&app);
    }
    Ok(found)
}

#[tauri::command]
pub async fn study_priors<R: Runtime>(app: AppHandle<R>, id: String) -> CmdResult<StudyPriors> {
    let id: StudyId = id.parse()?;
    blocking(&app, move |ws| ws.study_priors(id)).await
}

#[tauri::command]
pub async fn remove_source<R: Runtime>(app: AppHandle<R>, path: String) -> CmdResult<()> {
    sources_changed(&app, move |ws| ws.remove_source(&path)).await
}

/// Runs a change of the local sources, saves the settings it made, and
/// starts triage for the studies that joined.
async fn sources_changed<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    change: impl FnOnce(&Workstation) -> WsResult<T> + Send + 'static,
) -> CmdResult<T> {
    let file = app.state::<SettingsPath>().0.clone();
    let out = blocking(app, move |ws| {
        let out = change(ws)?;
        overread_core::workstation::save_settings(&file, &ws.settings())?;
        Ok(out)
    })
    .await?;
    crate::start_triage(app);
    Ok(out)
}

#[tauri::command]
pub async fn cancel_triage<R: Runtime>(app: AppHandle<R>) -> CmdResult<()> {
    ws(&app)?.cancel_triage();
    Ok(())
}

#[tauri::command]
pub async fn refresh_sources<R: Runtime>(app: AppHandle<R>) -> CmdResult<()> {
    crate::start_sync(&app);
    Ok(())
}

/// Checks, at compile time, that a command's future yields `T`.
#[allow(dead_code)]
fn yields<T>(_: &impl std::future::Future<Output = CmdResult<T>>) {}

/// Derives everything else from the command table.
macro_rules! commands {
    ($( $(#[doc = $doc:literal])* $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty ; )*) => {
        /// Every command's name, in table order.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// The invoke handler for exactly the table's commands.
        pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// Each command as the TypeScript bindings declare it.
        pub fn table() -> Vec<crate::bindings::Command> {
            vec![$(crate::bindings::Command {
                name: stringify!($name),
                doc: concat!($($doc),*).trim(),
                args: vec![$((stringify!($arg), <$ty as ts_rs::TS>::name())),*],
                ret: <$ret as ts_rs::TS>::name(),
            }),*]
        }

        /// Never called: fails to compile when a command function's
        /// arguments or result differ from the table.
        #[allow(dead_code, unused_variables, clippy::too_many_arguments)]
        fn signatures_match_the_table<R: Runtime>() {
            $( {
                let check = |app: AppHandle<R>, $($arg: $ty),*| {
                    let call = $name::<R>(app, $($arg),*);
                    yields::<$ret>(&call);
                };
                let _ = check;
            } )*
        }
    };
}
include!("command_table.rs");
