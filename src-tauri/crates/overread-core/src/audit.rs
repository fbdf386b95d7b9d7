//! Where the audit log lives and how the app and the CLI open it.

use std::path::{Path, PathBuf};

use overread_audit::{AuditLog, EventKind, OpenOptions, OtherEvent, Reader};

use crate::APP_VERSION;

/// The log's path: `OVERREAD_AUDIT_DB`, else [`xdg_path`].
pub fn default_path() -> PathBuf {
    std::env::var_os("OVERREAD_AUDIT_DB")
        .map(PathBuf::from)
        .unwrap_or_else(xdg_path)
}

/// The log in the XDG data folder (`~/.local/share/overread/audit.sqlite3`).
pub fn xdg_path() -> PathBuf {
    crate::paths::data_dir().join("audit.sqlite3")
}

/// This workstation's id: `OVERREAD_WORKSTATION`, else the host name.
pub fn workstation_id() -> String {
    std::env::var("OVERREAD_WORKSTATION")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-workstation".into())
}

fn options(path: &Path) -> OpenOptions {
    OpenOptions {
        key: None,
        app_version: APP_VERSION.to_string(),
        anchor: Some(overread_audit::anchor_path(path)),
    }
}

/// Opens the log with this build's version stamped into new rows. A log
/// that is shorter than, or does not extend, the head last anchored beside
/// it (`<log>.head`) is refused (SECURITY.md).
pub fn open(path: &Path) -> overread_audit::Result<AuditLog> {
    AuditLog::open(path, &options(path))
}

/// Opens a log whose head no longer matches its anchor, recording that
/// `by` acknowledged it and why (`overread audit acknowledge`).
pub fn open_acknowledging(
    path: &Path,
    by: Reader,
    reason: &str,
) -> overread_audit::Result<AuditLog> {
    AuditLog::open_acknowledging(path, &options(path), by, reason, &workstation_id())
}

/// Records that the log was read or verified (PS3.15 A.5.3.2 Audit Log Used).
pub fn record_use(
    log: &mut AuditLog,
    reader: Option<Reader>,
    action: &str,
) -> overread_audit::Result<()> {
    let event = OtherEvent {
        kind: EventKind::AuditLogUsed,
        reader,
        workstation_id: workstation_id(),
        study: None,
        model: None,
        execution_provider: None,
        detail: serde_json::json!({ "action": action }),
    };
    log.record_event(&event).map(|_| ())
}
