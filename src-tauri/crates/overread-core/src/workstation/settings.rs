//! The reader's settings: held for the session, checked before they are
//! taken (the same rules for the app and the CLI), and kept in a file.

use std::path::Path;

use overread_audit::Reader;
use overread_infer::EpChoice;

use super::owned::Owned;
use crate::api::{ApiError, ErrorCode, ReaderIdentity, Settings, Viewing};

impl Settings {
    /// The settings for the bundled demo worklist.
    pub fn demo(studies: &Path, model_dir: &Path) -> Settings {
        Settings {
            sources: vec![studies.display().to_string()],
            model_dir: model_dir.display().to_string(),
            execution_provider: "auto".into(),
            inference_server: None,
            reader: ReaderIdentity::operating_system_user(),
            read_first: false,
            max_wait_minutes: 120,
            pacs_config: None,
            results_folder: None,
            viewing: Viewing::default(),
            department_store: None,
            audit_log: None,
        }
    }

    /// What the audit log keeps of the settings that change what a reader
    /// sees (the reader's identity has its own event).
    pub(crate) fn audited(&self) -> serde_json::Value {
        serde_json::json!({
            "sources": self.sources,
            "model_dir": self.model_dir,
            "execution_provider": self.execution_provider,
            "inference_server": self.inference_server,
            "read_first": self.read_first,
            "max_wait_minutes": self.max_wait_minutes,
            "pacs_config": self.pacs_config,
            "results_folder": self.results_folder,
            "department_store": self.department_store,
            "audit_log": self.audit_log,
        })
    }

    /// The audited settings that differ from `old`, each as `{old, new}`;
    /// `None` when none does.
    pub(crate) fn changed_from(&self, old: &Settings) -> Option<serde_json::Value> {
        let (before, after) = (old.audited(), self.audited());
        let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
            return None;
        };
        let changed: serde_json::Map<String, serde_json::Value> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::json!({ "old": before.get(k), "new": v }),
                )
            })
            .collect();
        (!changed.is_empty()).then_some(serde_json::Value::Object(changed))
    }

    /// The reader as audit rows name them.
    pub fn audit_reader(&self) -> Reader {
        Reader {
            id: self.reader.id.trim().to_string(),
            display_name: self.reader.display_name.trim().to_string(),
            role: self.reader.role.trim().to_string(),
        }
    }

    /// Every rule a new set of settings must meet.
    pub fn validate(&self) -> Result<(), ApiError> {
        self.audit_reader()
            .validate()
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        if self.max_wait_minutes == 0 || self.max_wait_minutes > 7 * 24 * 60 {
            return Err(ApiError::invalid("maximum wait must be 1 minute to 7 days"));
        }
        EpChoice::parse(&self.execution_provider).map_err(|e| ApiError::invalid(e.to_string()))?;
        if self.sources.len() > 32
            || self
                .sources
                .iter()
                .any(|s| s.len() > 4096 || !Path::new(s).is_absolute())
        {
            return Err(ApiError::invalid(
                "study sources must be at most 32 absolute paths",
            ));
        }
        if let Some(url) = &self.inference_server {
            crate::remote::check_url(url).map_err(ApiError::invalid)?;
        }
        if let Some(p) = &self.pacs_config
            && (p.len() > 4096 || !Path::new(p).is_absolute())
        {
            return Err(ApiError::invalid(
                "the PACS configuration must be an absolute path",
            ));
        }
        if let Some(c) = &self.department_store {
            if c.len() > 4096 {
                return Err(ApiError::invalid(
                    "the department store's connection string is too long",
                ));
            }
            crate::department::check_conninfo(c).map_err(|e| ApiError::invalid(e.to_string()))?;
        }
        if let Some(p) = &self.results_folder
            && (p.len() > 4096 || !Path::new(p).is_absolute())
        {
            return Err(ApiError::invalid(
                "the results folder must be an absolute path",
            ));
        }
        if let Some(p) = &self.audit_log
            && (p.len() > 4096 || !Path::new(p).is_absolute() || p.ends_with('/'))
        {
            return Err(ApiError::invalid(
                "the audit log must be an absolute path to a file",
            ));
        }
        Ok(())
    }
}

impl ReaderIdentity {
    /// The operating-system user, the reader until Settings says otherwise:
    /// the login as id, the account's full name (the passwd GECOS field)
    /// as the name; the role is set once in Settings.
    pub fn operating_system_user() -> ReaderIdentity {
        let login = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .map(|v| v.trim().to_string())
            .find(|v| !v.is_empty() && v.len() <= 64)
            .unwrap_or_else(|| "reader".into());
        let passwd = std::fs::read("/etc/passwd").unwrap_or_default();
        let name = (passwd.len() <= 4 << 20)
            .then(|| full_name(&String::from_utf8_lossy(&passwd), &login))
            .flatten()
            .unwrap_or_else(|| login.clone());
        ReaderIdentity {
            id: login,
            display_name: name,
            role: "radiologist".into(),
        }
    }
}

/// The full name of `login` in passwd(5) text: the GECOS field up to its
/// first comma.
fn full_name(passwd: &str, login: &str) -> Option<String> {
    let line = passwd
        .lines()
        .find(|l| l.split(':').next() == Some(login))?;
    let name = line.split(':').nth(4)?.split(',').next()?.trim();
    (!name.is_empty() && name.chars().count() <= 128 && !name.chars().any(char::is_control))
        .then(|| name.to_string())
}

impl super::Workstation {
    /// The machine-wide settings' locks, which every change of settings
    /// must keep (the locked values already hold in `open`'s settings).
    pub fn with_policy(mut self, policy: crate::setup::Policy) -> Self {
        self.policy = policy;
        self
    }

    /// What Settings shows of the machine's policy.
    pub fn settings_policy(&self) -> crate::api::SettingsPolicy {
        self.policy.view()
    }

    /// Records the first run's choices, each as a change from nothing,
    /// with the reader who made them.
    pub(crate) fn record_first_run(&self) -> super::WsResult<()> {
        let settings = self.settings.get();
        let changed: serde_json::Map<String, serde_json::Value> = settings
            .audited()
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), serde_json::json!({ "old": null, "new": v })))
            .collect();
        self.journal.record(super::journal::Event {
            detail: serde_json::json!({
                "first_run": true,
                "changed": changed,
                "locked": self.policy.view().locked,
                "machine_settings": self.policy.view().file,
            }),
            ..super::journal::Event::new(
                overread_audit::EventKind::SettingsChanged,
                Some(settings.audit_reader()),
            )
        })?;
        Ok(())
    }
}

/// The session's settings.
#[derive(Debug)]
pub(crate) struct SettingsStore {
    current: Owned<Settings>,
}

impl SettingsStore {
    pub(crate) fn new(settings: Settings) -> SettingsStore {
        SettingsStore {
            current: Owned::new("settings", settings),
        }
    }

    pub(crate) fn get(&self) -> Settings {
        self.current.read(Settings::clone)
    }

    pub(crate) fn read<R>(&self, f: impl FnOnce(&Settings) -> R) -> R {
        self.current.read(f)
    }

    /// Replaces the settings; returns the old ones.
    pub(crate) fn replace(&self, new: Settings) -> Settings {
        self.current.write(|s| std::mem::replace(s, new))
    }
}

fn settings_error(path: &Path, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Settings, format!("{}: {e}", path.display()))
}

/// Reads saved settings; `None` when there are none yet (first launch).
pub fn load_settings(path: &Path) -> Result<Option<Settings>, ApiError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| settings_error(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(settings_error(path, e)),
    }
}

/// Writes settings atomically (temporary file, fsync, rename).
pub fn save_settings(path: &Path, settings: &Settings) -> Result<(), ApiError> {
    let fail = |e: std::io::Error| settings_error(path, e);
    let dir = path
        .parent()
        .ok_or_else(|| settings_error(path, "the settings path has no folder"))?;
    std::fs::create_dir_all(dir).map_err(fail)?;
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(settings).map_err(|e| settings_error(path, e))?;
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

    #[test]
    fn the_full_name_is_the_gecos_field_up_to_its_first_comma() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      ann:x:1000:1000:Ann Example,Room 4,,:/home/ann:/bin/bash\n\
                      bob:x:1001:1001::/home/bob:/bin/sh\n";
        assert_eq!(full_name(passwd, "ann").as_deref(), Some("Ann Example"));
        assert_eq!(full_name(passwd, "root").as_deref(), Some("root"));
        assert_eq!(full_name(passwd, "bob"), None, "no name: the login is used");
        assert_eq!(full_name(passwd, "an"), None);
        let me = ReaderIdentity::operating_system_user();
        assert!(!me.id.is_empty() && !me.display_name.is_empty());
        assert!(
            Settings::demo(Path::new("/s"), Path::new("/m"))
                .validate()
                .is_ok()
        );
    }
}
