//! The first run's commands: the set-up screen, the PACS connection test,
//! the folder dialog, finishing (or the demo instead), and the machine's
//! locks for Settings. Every rule is the core's (`overread_core::setup`);
//! this only opens the workstation it returns and starts its threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use overread_core::api::{ApiError, ErrorCode, PacsCheck, SettingsPolicy, SetupRequest, SetupView};
use overread_core::setup::SetupContext;
use overread_core::workstation::{Workstation, WsResult};
use tauri::{AppHandle, Manager, Runtime};

use crate::commands::CmdResult;

/// The first run's state: what it needs, and whether a workstation is
/// being opened (one at a time: a second click waits its turn or is told).
#[derive(Debug)]
pub struct Setup {
    context: SetupContext,
    opening: AtomicBool,
}

impl Setup {
    pub fn new(context: SetupContext) -> Setup {
        Setup {
            context,
            opening: AtomicBool::new(false),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Internal, e.to_string())
}

fn is_set_up<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.try_state::<Arc<Workstation>>().is_some()
}

fn context<R: Runtime>(app: &AppHandle<R>) -> CmdResult<SetupContext> {
    if is_set_up(app) {
        return Err(ApiError::invalid("this workstation is already set up"));
    }
    app.try_state::<Setup>()
        .map(|s| s.context.clone())
        .ok_or_else(|| ApiError::invalid("there is no first run to finish"))
}

#[tauri::command]
pub async fn setup_view<R: Runtime>(app: AppHandle<R>) -> CmdResult<Option<SetupView>> {
    if is_set_up(&app) {
        return Ok(None);
    }
    let Some(setup) = app.try_state::<Setup>() else {
        return Ok(None);
    };
    let context = setup.context.clone();
    tauri::async_runtime::spawn_blocking(move || Some(context.view()))
        .await
        .map_err(internal)
}

#[tauri::command]
pub async fn check_pacs<R: Runtime>(_app: AppHandle<R>, path: String) -> CmdResult<Vec<PacsCheck>> {
    if path.len() > 4096 || !std::path::Path::new(&path).is_absolute() {
        return Err(ApiError::invalid(
            "the PACS configuration must be an absolute path",
        ));
    }
    tauri::async_runtime::spawn_blocking(move || {
        overread_core::setup::check_pacs(std::path::Path::new(&path))
    })
    .await
    .map_err(internal)?
}

#[tauri::command]
pub async fn choose_folder<R: Runtime>(app: AppHandle<R>) -> CmdResult<Option<String>> {
    Ok(
        crate::commands::pick_folder(&app, "Choose a folder of studies")
            .await?
            .map(|p| p.display().to_string()),
    )
}

/// Opens a workstation with `open` (one at a time), then hands it to the
/// window and starts its threads.
async fn open_with<R: Runtime>(
    app: &AppHandle<R>,
    open: impl FnOnce(&SetupContext) -> WsResult<Workstation> + Send + 'static,
) -> CmdResult<()> {
    let context = context(app)?;
    let setup = app.state::<Setup>();
    if setup.opening.swap(true, Ordering::SeqCst) {
        return Err(ApiError::invalid("the set-up is already being finished"));
    }
    let opened = tauri::async_runtime::spawn_blocking(move || open(&context))
        .await
        .map_err(internal)
        .and_then(|r| r);
    match opened {
        Ok(ws) => {
            crate::begin(app, Arc::new(ws));
            Ok(())
        }
        Err(e) => {
            setup.opening.store(false, Ordering::SeqCst);
            Err(e)
        }
    }
}

#[tauri::command]
pub async fn finish_setup<R: Runtime>(app: AppHandle<R>, request: SetupRequest) -> CmdResult<()> {
    open_with(&app, move |c| c.finish(&request)).await
}

#[tauri::command]
pub async fn try_demo<R: Runtime>(app: AppHandle<R>) -> CmdResult<()> {
    let studies = crate::config::demo_dir();
    open_with(&app, move |c| c.demo(&studies)).await
}

#[tauri::command]
pub async fn settings_policy<R: Runtime>(app: AppHandle<R>) -> CmdResult<SettingsPolicy> {
    if let Some(ws) = app.try_state::<Arc<Workstation>>() {
        return Ok(ws.settings_policy());
    }
    Ok(app
        .try_state::<Setup>()
        .map(|s| s.context.policy.view())
        .unwrap_or_default())
}
