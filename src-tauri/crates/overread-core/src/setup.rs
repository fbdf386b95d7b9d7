//! How a workstation gets its settings: the machine-wide file a hospital's
//! IT team deploys (`/etc/overread/settings.json`), read before the
//! reader's own, with the settings it locks; and the first run, which leads
//! a reader with no settings to a working set-up instead of demo data.
//!
//! The machine-wide file is the reader's settings format, any subset of
//! its keys (never the reader's identity), plus `"locked": [keys]`:
//!
//! ```json
//! { "model_dir": "/opt/vendor/cxr-2.1", "pacs_config": "/etc/overread/pacs.toml",
//!   "audit_log": "/srv/overread/audit.sqlite3", "locked": ["model_dir", "pacs_config"] }
//! ```
//!
//! A locked value always wins over the reader's file and cannot be changed
//! from Settings (the core refuses it, so the CLI and the app alike); an
//! unlocked one is a default the first-run screen starts from.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Map, Value};

use crate::api::{
    ApiError, ErrorCode, ModelChoice, PacsCheck, SettingKey, Settings, SettingsPolicy,
    SetupRequest, SetupView,
};
use crate::workstation::{Workstation, WsResult};

/// Where IT puts the machine-wide settings.
pub const MACHINE_FILE: &str = "/etc/overread/settings.json";

/// The largest machine-wide file read.
const MAX_FILE: u64 = 1 << 20;

/// The machine-wide file's path: `OVERREAD_MACHINE_SETTINGS` (tests, and
/// an install outside `/etc`), else [`MACHINE_FILE`].
pub fn machine_path() -> PathBuf {
    std::env::var_os("OVERREAD_MACHINE_SETTINGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(MACHINE_FILE))
}

fn policy_error(path: &Path, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Settings, format!("{}: {e}", path.display()))
}

/// The machine-wide settings and their locks; empty when the machine has
/// no file.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    file: Option<PathBuf>,
    values: Map<String, Value>,
    locked: Vec<SettingKey>,
}

/// Settings with every key at a neutral value, to check one machine-wide
/// value at a time against the settings' types.
fn neutral() -> Settings {
    Settings {
        sources: Vec::new(),
        ..Settings::demo(Path::new(""), Path::new(""))
    }
}

/// `base` with `values` put over it, as settings.
fn overlay(base: &Settings, values: &Map<String, Value>) -> Result<Settings, serde_json::Error> {
    let mut json = serde_json::to_value(base)?;
    if let Some(obj) = json.as_object_mut() {
        obj.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    serde_json::from_value(json)
}

impl Policy {
    /// Reads the machine-wide file; no file is no policy. An unknown key, a
    /// value of the wrong type, or a lock on a key the file does not set is
    /// an error naming the file and the key.
    pub fn load(path: &Path) -> Result<Policy, ApiError> {
        let bytes = match std::fs::File::open(path) {
            Ok(f) => {
                use std::io::Read;
                let mut bytes = Vec::new();
                f.take(MAX_FILE + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| policy_error(path, e))?;
                if bytes.len() as u64 > MAX_FILE {
                    return Err(policy_error(path, "larger than 1 MiB"));
                }
                bytes
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Policy::default()),
            Err(e) => return Err(policy_error(path, e)),
        };
        let Value::Object(mut values) =
            serde_json::from_slice::<Value>(&bytes).map_err(|e| policy_error(path, e))?
        else {
            return Err(policy_error(path, "not a JSON object"));
        };
        let locked: Vec<SettingKey> = match values.remove("locked") {
            None => Vec::new(),
            Some(v) => serde_json::from_value(v).map_err(|e| {
                policy_error(path, format!("locked: {e} (the keys are setting names)"))
            })?,
        };
        for (key, value) in &values {
            if SettingKey::parse(key).is_none() {
                return Err(policy_error(
                    path,
                    format!(
                        "{key}: not a setting a machine may set (one of: {})",
                        SettingKey::ALL.map(SettingKey::name).join(", ")
                    ),
                ));
            }
            let one = Map::from_iter([(key.clone(), value.clone())]);
            overlay(&neutral(), &one).map_err(|e| policy_error(path, format!("{key}: {e}")))?;
        }
        if let Some(k) = locked.iter().find(|k| !values.contains_key(k.name())) {
            return Err(policy_error(
                path,
                format!("locks {} but does not set it", k.name()),
            ));
        }
        Ok(Policy {
            file: Some(path.to_path_buf()),
            values,
            locked,
        })
    }

    pub fn is_locked(&self, key: SettingKey) -> bool {
        self.locked.contains(&key)
    }

    /// The locked values only.
    fn locked_values(&self) -> Map<String, Value> {
        self.values
            .iter()
            .filter(|(k, _)| SettingKey::parse(k).is_some_and(|k| self.is_locked(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The machine-wide file, as messages name it.
    fn file(&self) -> &Path {
        self.file.as_deref().unwrap_or(Path::new(MACHINE_FILE))
    }

    /// The reader's settings with the locked values put over them.
    pub fn enforce(&self, settings: &Settings) -> Result<Settings, ApiError> {
        overlay(settings, &self.locked_values()).map_err(|e| policy_error(self.file(), e))
    }

    /// `settings` with every machine-wide value put over them (the first
    /// run's starting point).
    fn defaults(&self, settings: &Settings) -> Settings {
        overlay(settings, &self.values).unwrap_or_else(|_| settings.clone())
    }

    /// Refuses settings that change a locked value, naming it and the file.
    pub fn check(&self, new: &Settings) -> Result<(), ApiError> {
        let enforced = self.enforce(new)?;
        let (Ok(a), Ok(b)) = (serde_json::to_value(new), serde_json::to_value(&enforced)) else {
            return Ok(());
        };
        match self
            .locked
            .iter()
            .find(|k| a.get(k.name()) != b.get(k.name()))
        {
            None => Ok(()),
            Some(k) => Err(ApiError::new(
                ErrorCode::Settings,
                format!(
                    "{} is set by this machine's administrator ({}) and cannot be changed here",
                    k.name(),
                    self.file().display()
                ),
            )),
        }
    }

    /// What the settings screen shows of it.
    pub fn view(&self) -> SettingsPolicy {
        SettingsPolicy {
            file: self.file.as_ref().map(|p| p.display().to_string()),
            locked: self.locked.clone(),
        }
    }
}

/// What the first run needs to know besides the request.
#[derive(Debug, Clone)]
pub struct SetupContext {
    pub policy: Policy,
    /// Where the reader's settings are saved.
    pub settings_path: PathBuf,
    /// The audit log's default place (`OVERREAD_AUDIT_DB`, else the XDG data folder).
    pub audit_default: PathBuf,
    /// `OVERREAD_AUDIT_DB`, which wins over any choice.
    pub audit_forced: Option<PathBuf>,
    /// The folder of bundled models (`models/` beside the program).
    pub bundled: Option<PathBuf>,
    /// libonnxruntime, when configured.
    pub runtime: Option<PathBuf>,
}

impl SetupContext {
    /// The models offered: the bundled ones, then those installed in the
    /// model store, then the one the machine locks.
    pub fn models(&self) -> Vec<ModelChoice> {
        let dirs: Vec<PathBuf> = match self.policy.values.get("model_dir") {
            Some(Value::String(locked)) if self.policy.is_locked(SettingKey::ModelDir) => {
                vec![PathBuf::from(locked)]
            }
            _ => {
                let bundled = self.bundled.iter().flat_map(|b| crate::models::folders(b));
                let store = crate::models::store_for(&self.audit_default);
                let installed = crate::models::installed(&store).into_iter();
                bundled
                    .chain(installed.map(|m| PathBuf::from(m.dir)))
                    .collect()
            }
        };
        dirs.iter()
            .filter_map(|d| crate::models::choice(d))
            .collect()
    }

    /// The first-run screen, filled in with the defaults.
    pub fn view(&self) -> SetupView {
        let models = self.models();
        let base = Settings {
            model_dir: models.first().map(|m| m.dir.clone()).unwrap_or_default(),
            ..neutral()
        };
        let d = self.policy.defaults(&base);
        SetupView {
            defaults: SetupRequest {
                reader: d.reader,
                read_first: d.read_first,
                sources: d.sources,
                pacs_config: d.pacs_config,
                model_dir: d.model_dir,
                audit_log: d
                    .audit_log
                    .unwrap_or_else(|| self.audit_default.display().to_string()),
            },
            demo: self.demo_model().is_some(),
            models,
            policy: self.policy.view(),
        }
    }

    /// The demonstration model, when it is bundled.
    pub fn demo_model(&self) -> Option<PathBuf> {
        let d = self.bundled.as_ref()?.join("demo");
        d.join("manifest.toml").is_file().then_some(d)
    }

    /// Checks every choice and makes the settings (locked values win).
    pub fn settings(&self, req: &SetupRequest) -> Result<Settings, ApiError> {
        if req.sources.is_empty() && req.pacs_config.is_none() {
            return Err(ApiError::invalid(
                "choose where studies come from: a folder, or a PACS configuration file",
            ));
        }
        for s in &req.sources {
            let p = Path::new(s);
            if !p.is_absolute() {
                return Err(ApiError::invalid(format!(
                    "{s}: a study folder must be an absolute path"
                )));
            }
            std::fs::metadata(p).map_err(|e| {
                ApiError::new(ErrorCode::Source, format!("the study folder {s}: {e}"))
            })?;
        }
        if let Some(p) = &req.pacs_config {
            crate::pacs::PacsConfig::load(Path::new(p)).map_err(|e| {
                ApiError::new(
                    ErrorCode::Settings,
                    format!("the PACS configuration {p}: {e}"),
                )
            })?;
        }
        if !self.models().iter().any(|m| m.dir == req.model_dir) {
            return Err(ApiError::invalid(
                "choose one of the models offered (an administrator installs others with `overread model install DIR`)",
            ));
        }
        let settings = Settings {
            reader: req.reader.clone(),
            read_first: req.read_first,
            sources: req.sources.clone(),
            pacs_config: req.pacs_config.clone(),
            model_dir: req.model_dir.clone(),
            audit_log: Some(req.audit_log.clone()),
            ..self.policy.defaults(&neutral())
        };
        let settings = self.policy.enforce(&settings)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Where the log of these settings is: `OVERREAD_AUDIT_DB`, else the
    /// settings' own, else the default.
    pub fn audit_path(&self, settings: &Settings) -> PathBuf {
        audit_path(self.audit_forced.as_deref(), settings)
    }

    /// Finishes the first run: checks the choices, opens the workstation
    /// (its audit log records the start and every choice), then saves the
    /// settings, so a set-up that did not finish is asked again.
    pub fn finish(&self, req: &SetupRequest) -> WsResult<Workstation> {
        let settings = self.settings(req)?;
        let ws = Workstation::open(
            settings.clone(),
            &self.audit_path(&settings),
            self.runtime.clone(),
        )?
        .with_policy(self.policy.clone());
        ws.record_first_run()?;
        crate::workstation::save_settings(&self.settings_path, &settings)?;
        Ok(ws)
    }

    /// The demo worklist instead: synthetic phantoms (made on first use) and
    /// the demonstration model, with a log of its own so that demo
    /// decisions never join a real one. Nothing is saved: the next start
    /// asks again.
    pub fn demo(&self, studies: &Path) -> WsResult<Workstation> {
        let model = self.demo_model().ok_or_else(|| {
            ApiError::new(
                ErrorCode::Settings,
                "the demonstration model is not installed here",
            )
        })?;
        crate::demo::ensure(studies).map_err(|e| ApiError::new(ErrorCode::Source, e))?;
        let mut settings = Settings::demo(studies, &model);
        let log = studies.parent().unwrap_or(studies).join("audit.sqlite3");
        settings.audit_log = Some(log.display().to_string());
        Workstation::open(
            settings.clone(),
            &self.audit_path(&settings),
            self.runtime.clone(),
        )
    }
}

/// Where the log of `settings` is: `forced` (`OVERREAD_AUDIT_DB`), else the
/// settings' own, else the default.
pub fn audit_path(forced: Option<&Path>, settings: &Settings) -> PathBuf {
    forced
        .map(Path::to_path_buf)
        .or_else(|| settings.audit_log.as_ref().map(PathBuf::from))
        .unwrap_or_else(crate::audit::xdg_path)
}

/// Asks each source of a PACS configuration whether it answers (C-ECHO, or
/// a one-study QIDO-RS search), each within the configuration's time-outs.
/// A file that does not load is an error; a source that does not answer is
/// a failed check, with what failed.
pub fn check_pacs(path: &Path) -> Result<Vec<PacsCheck>, ApiError> {
    use crate::pacs::{Client, PacsConfig};
    let config = PacsConfig::load(path).map_err(|e| {
        ApiError::new(
            ErrorCode::Settings,
            format!("the PACS configuration {}: {e}", path.display()),
        )
    })?;
    let runtime = crate::department::runtime()
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let cancel = crate::pacs::CancellationToken::new();
    Ok(config
        .sources
        .iter()
        .map(|source| {
            let started = Instant::now();
            let outcome = Client::new(source).and_then(|c| {
                runtime.block_on(async {
                    tokio::time::timeout(source.timeouts.overall(), c.echo(&cancel))
                        .await
                        .unwrap_or(Err(crate::pacs::Error::Timeout {
                            source_name: source.name.clone(),
                            phase: "in the connection test",
                        }))
                })
            });
            PacsCheck {
                source: source.name.clone(),
                ok: outcome.is_ok(),
                message: match outcome {
                    Ok(()) => format!("answered in {} ms", started.elapsed().as_millis()),
                    Err(e) => e.to_string(),
                },
            }
        })
        .collect())
}

#[cfg(test)]
mod tests;
