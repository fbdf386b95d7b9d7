//! The study library: what a folder, a DICOMDIR or a file holds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use overread_dicom::scan::{self, ScanEntry, StudyIndex};
use overread_dicom::{Header, Limits};
use snafu::ResultExt;

use crate::error::{DicomSnafu, Result};
use crate::hanging::{self, StudyImage};

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

    /// Patient → Study → Series → Instance, of the image instances.
    pub fn index(&self) -> StudyIndex {
        StudyIndex::build(self.headers().filter(|(_, h)| h.has_pixel_data))
    }

    /// Each study found, with its images in hanging order
    /// ([`crate::hanging`]): the first is shown on opening and inferred.
    pub fn studies(&self) -> Vec<FoundStudy> {
        let headers: HashMap<&Path, &Header> = self.headers().collect();
        let mut out = Vec::new();
        for study in self.index().patients.into_iter().flat_map(|p| p.studies) {
            let mut images: Vec<StudyImage> = study
                .series
                .iter()
                .flat_map(|s| &s.instances)
                .filter_map(|i| {
                    let header = headers.get(i.path.as_path())?;
                    Some(StudyImage::new(i.path.clone(), (*header).clone()))
                })
                .collect();
            hanging::hang(&mut images);
            let Some(first) = images.first() else {
                continue;
            };
            out.push(FoundStudy {
                study_uid: study.study_instance_uid,
                path: first.path.clone(),
                header: first.header.clone(),
                instances: images.len() as u32,
                images,
            });
        }
        out
    }
}

/// A study found by a scan.
#[derive(Debug, Clone)]
pub struct FoundStudy {
    pub study_uid: String,
    /// The instance shown and inferred (the first of `images`).
    pub path: PathBuf,
    pub header: Header,
    /// Image instances in the study.
    pub instances: u32,
    /// Every image, in hanging order.
    pub images: Vec<StudyImage>,
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
