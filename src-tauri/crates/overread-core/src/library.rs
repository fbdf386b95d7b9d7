//! The study library: what a folder, a DICOMDIR or a file holds.

use std::path::{Path, PathBuf};

use overread_dicom::scan::{self, ScanEntry, StudyIndex};
use overread_dicom::{Header, Limits};
use snafu::ResultExt;

use crate::error::{DicomSnafu, Result};

/// The outcome of scanning a location.
#[derive(Debug)]
pub struct ScanReport {
    /// One entry per file looked at, in path order.
    pub entries: Vec<ScanEntry>,
}

impl ScanReport {
    pub fn headers(&self) -> impl Iterator<Item = (&Path, &Header)> {
        self.entries
            .iter()
            .filter_map(|e| e.result.as_ref().ok().map(|h| (e.path.as_path(), h)))
    }

    pub fn index(&self) -> StudyIndex {
        StudyIndex::build(self.headers())
    }
}

/// Lists what a scan of `root` will read; fails only when `root` itself
/// cannot be read.
pub fn plan(root: &Path, limits: &Limits) -> Result<(Vec<PathBuf>, Vec<ScanEntry>)> {
    scan::files_under(root, limits).context(DicomSnafu { path: root })
}

/// Reads every planned file's header in parallel.
pub fn scan(
    files: &[PathBuf],
    problems: Vec<ScanEntry>,
    limits: &Limits,
    progress: &(dyn Fn() + Sync),
) -> ScanReport {
    let mut entries = scan::scan_files(files, limits, progress);
    entries.extend(problems);
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    ScanReport { entries }
}
