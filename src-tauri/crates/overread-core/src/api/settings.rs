//! The IPC types of the settings screen: the sources, the model, the
//! reader, and how studies hang.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Viewing;

/// The reader using this workstation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReaderIdentity {
    pub id: String,
    pub display_name: String,
    pub role: String,
}

/// The settings screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Settings {
    /// Study folders (or DICOMDIRs) on this machine.
    pub sources: Vec<String>,
    /// Model folder (model.onnx + manifest.toml).
    pub model_dir: String,
    /// auto, cpu or cuda.
    pub execution_provider: String,
    /// The department's inference server (Open Inference Protocol v2, e.g.
    /// `http://inference.example.nhs.uk:8000`) that runs the model, serving
    /// it under the manifest's name; the device runs it when the server does
    /// not answer. Null: on the device only. A change applies at the next start.
    #[serde(default)]
    pub inference_server: Option<String>,
    pub reader: ReaderIdentity,
    /// Hide the AI until the reader has recorded an unaided impression.
    pub read_first: bool,
    /// No study waits longer than this before it goes to the top.
    pub max_wait_minutes: u32,
    /// PACS sources: the path of a PACS configuration file (TOML), or null.
    #[serde(default)]
    pub pacs_config: Option<String>,
    /// Where local studies' results objects are written; null: the
    /// `results` folder beside the audit log.
    #[serde(default)]
    pub results_folder: Option<String>,
    #[serde(default)]
    pub viewing: Viewing,
    /// The department store: a PostgreSQL connection string (libpq
    /// `host=… dbname=…` or a `postgresql://` URL) without a password (it
    /// comes from `OVERREAD_STORE_PASSWORD` or `OVERREAD_STORE_PASSWORD_FILE`),
    /// or null.
    #[serde(default)]
    pub department_store: Option<String>,
    /// Where the audit log is kept; null: `~/.local/share/overread/audit.sqlite3`
    /// (`OVERREAD_AUDIT_DB` overrides both). A change applies at the next start.
    #[serde(default)]
    pub audit_log: Option<String>,
}

/// A setting a machine-wide file (`/etc/overread/settings.json`) may set,
/// and lock so that Settings shows it and cannot change it. The reader's
/// identity is the reader's own and never locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SettingKey {
    Sources,
    ModelDir,
    ExecutionProvider,
    InferenceServer,
    ReadFirst,
    MaxWaitMinutes,
    PacsConfig,
    ResultsFolder,
    DepartmentStore,
    AuditLog,
    Viewing,
}

impl SettingKey {
    pub const ALL: [SettingKey; 11] = [
        SettingKey::Sources,
        SettingKey::ModelDir,
        SettingKey::ExecutionProvider,
        SettingKey::InferenceServer,
        SettingKey::ReadFirst,
        SettingKey::MaxWaitMinutes,
        SettingKey::PacsConfig,
        SettingKey::ResultsFolder,
        SettingKey::DepartmentStore,
        SettingKey::AuditLog,
        SettingKey::Viewing,
    ];

    /// The key as the settings files spell it.
    pub fn name(self) -> &'static str {
        match self {
            SettingKey::Sources => "sources",
            SettingKey::ModelDir => "model_dir",
            SettingKey::ExecutionProvider => "execution_provider",
            SettingKey::InferenceServer => "inference_server",
            SettingKey::ReadFirst => "read_first",
            SettingKey::MaxWaitMinutes => "max_wait_minutes",
            SettingKey::PacsConfig => "pacs_config",
            SettingKey::ResultsFolder => "results_folder",
            SettingKey::DepartmentStore => "department_store",
            SettingKey::AuditLog => "audit_log",
            SettingKey::Viewing => "viewing",
        }
    }

    pub fn parse(name: &str) -> Option<SettingKey> {
        SettingKey::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// What this machine's administrator decided: the machine-wide settings
/// file, if there is one, and the settings it locks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingsPolicy {
    /// The machine-wide file read, or null when there is none.
    pub file: Option<String>,
    pub locked: Vec<SettingKey>,
}

/// What the first-run screen asks, filled in with the defaults (the
/// operating-system user, the machine-wide settings) when it opens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SetupRequest {
    pub reader: ReaderIdentity,
    pub read_first: bool,
    /// Study folders or DICOMDIRs on this machine.
    pub sources: Vec<String>,
    /// A PACS configuration file (TOML), or null.
    pub pacs_config: Option<String>,
    /// One of the models offered.
    pub model_dir: String,
    /// Where the audit log is kept.
    pub audit_log: String,
}

/// A model in the model store, as Settings offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct InstalledModel {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub clinical: bool,
    /// Its folder in the store (what the settings keep).
    pub dir: String,
}

/// A model the first-run screen offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelChoice {
    pub dir: String,
    pub name: String,
    pub version: String,
    pub clinical: bool,
    pub intended_use: String,
}

/// The first-run screen: shown when the reader has no settings yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SetupView {
    pub defaults: SetupRequest,
    pub models: Vec<ModelChoice>,
    pub policy: SettingsPolicy,
    /// Whether "Try it with demo data" can run (the demonstration model is installed).
    pub demo: bool,
}

/// One PACS source's answer to the connection test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PacsCheck {
    pub source: String,
    pub ok: bool,
    /// "answered in 12 ms", or what failed.
    pub message: String,
}

/// This site's use of the configured model, as Settings shows it: what
/// the log records now and what the running triage applies (a change
/// applies at the next start, like a model change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelSite {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub clinical: bool,
    /// As the audit log records it now.
    pub go_live: crate::site::GoLive,
    /// As the running triage applies it (null before the model is loaded).
    pub in_force: Option<crate::site::GoLive>,
    pub state: crate::site::SiteState,
    /// Each label's threshold as the log records it (this site's, else the
    /// manifest's).
    pub thresholds: Vec<super::Threshold>,
    /// The roles that may accept a validation report.
    pub accepting_roles: Vec<String>,
}
