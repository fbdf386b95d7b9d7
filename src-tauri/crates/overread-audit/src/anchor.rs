//! The last known head of the chain, kept outside the database.
//!
//! The chain proves that no row was edited, removed or reordered, given a
//! trusted copy of its head. Anyone who can rewrite the whole file can cut
//! rows from the end or start a fresh log, and the chain alone would not
//! notice. So every commit also writes the head (row count and hash) to a
//! small file beside the database, and opening refuses a log that is shorter
//! than that head or does not contain it, until an administrator
//! acknowledges the change (which is itself recorded). This raises the bar
//! from "edit one file" to "edit two files consistently"; the department
//! store is the anchor that a workstation's own user cannot reach
//! (SECURITY.md).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The head a log must extend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Rows in the log (= the last row's `seq`).
    pub rows: i64,
    /// The last row's hash.
    pub hash: String,
}

/// Bounded: an anchor file is one line of JSON.
const MAX_ANCHOR_BYTES: u64 = 4096;

/// The anchor file for the log at `db`: `<db>.head`.
pub fn anchor_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".head");
    db.with_file_name(name)
}

/// Reads the anchor; `None` when there is none yet.
pub(crate) fn read(path: &Path) -> Result<Option<Head>> {
    let bad = |message: String| Error::Anchor {
        path: path.to_path_buf(),
        message,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    if meta.len() > MAX_ANCHOR_BYTES {
        return Err(bad(format!("{} bytes, not an anchor file", meta.len())));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| bad(format!("unreadable ({e})")))
}

/// Replaces the anchor atomically (temporary file, fsync, rename, and the
/// folder fsynced), owner-only.
pub(crate) fn write(path: &Path, head: &Head) -> Result<()> {
    let out = |e: std::io::Error| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let tmp = path.with_extension("head.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(&tmp).map_err(out)?;
    let mut line = serde_json::to_vec(head).map_err(|e| out(std::io::Error::other(e)))?;
    line.push(b'\n');
    file.write_all(&line).map_err(out)?;
    file.sync_all().map_err(out)?;
    std::fs::rename(&tmp, path).map_err(out)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(out)?;
    }
    Ok(())
}
