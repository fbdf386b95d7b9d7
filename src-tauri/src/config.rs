//! Where the app's settings, audit log, demo studies and model come from.
//!
//! The machine-wide settings (IT's `/etc/overread/settings.json`) are read
//! before the reader's own, and what they lock wins. A reader with no
//! settings gets the first-run screen; `OVERREAD_DEMO_DIR` (the README's
//! run command) goes straight to the demo worklist instead: synthetic
//! phantoms (generated on first use) plus whatever else the demo folder
//! holds, with the demonstration model.

use std::path::PathBuf;

use overread_core::api::Settings;
use overread_core::setup::{self, Policy, SetupContext};

/// Settings file path, managed as app state for `save_settings`.
#[derive(Debug, Clone)]
pub struct SettingsPath(pub PathBuf);

#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub settings_path: PathBuf,
    pub audit_db: PathBuf,
    /// libonnxruntime, when configured (else ORT_DYLIB_PATH, else beside the executable).
    pub runtime: Option<PathBuf>,
    pub policy: Policy,
}

/// How the app starts.
#[derive(Debug)]
pub enum Start {
    /// With settings: the worklist (boxed: the settings are large).
    Ready(Box<Config>),
    /// Without: the first-run screen.
    Setup(SetupContext),
}

/// Where audit exports go: the file the reader picks in a save dialog the
/// app runs, or a file fixed by whoever starts the app
/// (`OVERREAD_EXPORT_TO`: a kiosk set-up, the end-to-end test). Never a
/// path from the webview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportTo {
    Ask,
    File(PathBuf),
}

impl ExportTo {
    pub fn from_env() -> ExportTo {
        std::env::var_os("OVERREAD_EXPORT_TO")
            .map(|p| ExportTo::File(PathBuf::from(p)))
            .unwrap_or(ExportTo::Ask)
    }
}

impl Config {
    /// Environment: `OVERREAD_SETTINGS` (settings file), `OVERREAD_AUDIT_DB`,
    /// `OVERREAD_DEMO_DIR`, `OVERREAD_MODEL_DIR`, `OVERREAD_RUNTIME`,
    /// `OVERREAD_MACHINE_SETTINGS` (else `/etc/overread/settings.json`).
    ///
    /// The reader's settings, with what the machine locks put over them;
    /// with none, the first run (or, when `OVERREAD_DEMO_DIR` says so, as
    /// `scripts/demo.sh` and the tests do, straight to the demo).
    pub fn resolve() -> Result<Start, String> {
        let policy = Policy::load(&setup::machine_path()).map_err(|e| e.to_string())?;
        let settings_path = std::env::var_os("OVERREAD_SETTINGS")
            .map(PathBuf::from)
            .unwrap_or_else(|| overread_core::paths::config_dir().join("settings.json"));
        let audit_forced = std::env::var_os("OVERREAD_AUDIT_DB").map(PathBuf::from);
        let runtime = std::env::var_os("OVERREAD_RUNTIME").map(PathBuf::from);
        let settings = match overread_core::workstation::load_settings(&settings_path) {
            Ok(Some(s)) => policy.enforce(&s).map_err(|e| e.to_string())?,
            Ok(None) if std::env::var_os("OVERREAD_DEMO_DIR").is_some() => demo_settings()?,
            Ok(None) => {
                return Ok(Start::Setup(SetupContext {
                    policy,
                    settings_path,
                    audit_default: overread_core::audit::default_path(),
                    audit_forced,
                    bundled: overread_core::models::bundled(),
                    runtime,
                }));
            }
            Err(e) => return Err(e.to_string()),
        };
        Ok(Start::Ready(Box::new(Config {
            audit_db: setup::audit_path(audit_forced.as_deref(), &settings),
            settings,
            settings_path,
            runtime,
            policy,
        })))
    }
}

/// The demo worklist, generated on first use.
fn demo_settings() -> Result<Settings, String> {
    let studies = std::env::var_os("OVERREAD_DEMO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(demo_dir);
    overread_core::demo::ensure(&studies)?;
    let model = std::env::var_os("OVERREAD_MODEL_DIR")
        .map(PathBuf::from)
        .or_else(|| overread_core::models::bundled().map(|m| m.join("demo")))
        .ok_or("the demo model (models/demo) was not found; set OVERREAD_MODEL_DIR")?;
    Ok(Settings::demo(&studies, &model))
}

/// Where "Try it with demo data" keeps its studies (its log beside them).
pub fn demo_dir() -> PathBuf {
    overread_core::paths::data_dir().join("demo/studies")
}
