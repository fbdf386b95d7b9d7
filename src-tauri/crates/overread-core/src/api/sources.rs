//! The IPC types of local sources: a folder, file or DICOMDIR added by
//! Open folder…, by dropping it on the window, or in Settings.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A local source being scanned (sent with `worklist-change`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ScanProgress {
    pub path: String,
    /// Files read, of `total`.
    pub done: u32,
    pub total: u32,
    /// The scan has finished.
    pub finished: bool,
}

/// A local source added, and what its scan found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SourceAdded {
    pub path: String,
    /// Studies found (already on the worklist or new).
    pub studies: u32,
    /// Files read.
    pub files: u32,
    /// Files that are not readable DICOM images, with why, at most 20.
    pub problems: Vec<String>,
}
