//! Where the app's settings, audit log, demo studies and model come from.
//!
//! First launch with nothing configured opens the bundled demo worklist:
//! synthetic phantoms (generated on first use) plus whatever else the demo
//! folder holds (the README's run command adds RG1 from pydicom-data), with
//! the demonstration model.

use std::path::{Path, PathBuf};

use overread_core::api::Settings;

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

/// `models/demo` found by walking up from the executable (a source tree or
/// an install with `models/` beside the binary).
fn bundled_model() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .map(|d| d.join("models/demo"))
        .find(|d| d.join("manifest.toml").is_file())
}

impl Config {
    /// Environment: `OVERREAD_SETTINGS` (settings file), `OVERREAD_AUDIT_DB`,
    /// `OVERREAD_DEMO_DIR`, `OVERREAD_MODEL_DIR`, `OVERREAD_RUNTIME`.
    pub fn resolve() -> Result<Config, String> {
        let settings_path = std::env::var_os("OVERREAD_SETTINGS")
            .map(PathBuf::from)
            .unwrap_or_else(|| overread_core::paths::config_dir().join("settings.json"));
        let settings = match overread_core::workstation::load_settings(&settings_path) {
            Ok(Some(s)) => s,
            Ok(None) => demo_settings()?,
            Err(e) => return Err(e.to_string()),
        };
        Ok(Config {
            settings,
            settings_path,
            audit_db: overread_core::audit::default_path(),
            runtime: std::env::var_os("OVERREAD_RUNTIME").map(PathBuf::from),
        })
    }
}

/// The demo worklist, generated on first use.
fn demo_settings() -> Result<Settings, String> {
    let studies = std::env::var_os("OVERREAD_DEMO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| overread_core::paths::data_dir().join("demo"));
    ensure_demo(&studies)?;
    let model = std::env::var_os("OVERREAD_MODEL_DIR")
        .map(PathBuf::from)
        .or_else(bundled_model)
        .ok_or("the demo model (models/demo) was not found; set OVERREAD_MODEL_DIR")?;
    Ok(Settings::demo(&studies, &model))
}

fn ensure_demo(dir: &Path) -> Result<(), String> {
    if dir.join(overread_core::demo::TRUTH_FILE).is_file() {
        return Ok(());
    }
    // One patient with two priors, so comparison is in the demo too.
    overread_core::demo::generate_priors(dir, 1, 1024, 2026).map_err(|e| e.to_string())?;
    overread_core::demo::generate(dir, 12, 1024, 2026)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
