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
}
