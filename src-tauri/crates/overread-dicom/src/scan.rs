//! Folder and DICOMDIR scanning, and the Patient → Study → Series → Instance
//! index built from headers alone.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::open::{Header, open, read_header};

/// One file looked at by a scan.
#[derive(Debug)]
pub struct ScanEntry {
    pub path: PathBuf,
    pub result: Result<Header>,
}

/// The files a scan of `root` covers: a folder recursively (symbolic links to
/// folders are not followed, so loops cannot happen), a DICOMDIR's referenced
/// files, or one file. Folders that cannot be read below the root become
/// entries with their error. Fails only when `root` itself cannot be read.
pub fn files_under(root: &Path, limits: &Limits) -> Result<(Vec<PathBuf>, Vec<ScanEntry>)> {
    let meta = std::fs::metadata(root).map_err(|source| Error::Io {
        path: root.into(),
        source,
    })?;
    if meta.is_file() {
        if let Ok(header) = read_header(root, limits)
            && header.is_dicomdir()
        {
            return dicomdir_files(root, limits);
        }
        return Ok((vec![root.to_path_buf()], Vec::new()));
    }
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    let mut first = true;
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(source) if first => return Err(Error::Io { path: dir, source }),
            Err(source) => {
                problems.push(ScanEntry {
                    path: dir.clone(),
                    result: Err(Error::Io { path: dir, source }),
                });
                continue;
            }
        };
        first = false;
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() || (kind.is_symlink() && entry.path().is_file()) {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok((files, problems))
}

fn dicomdir_files(dicomdir: &Path, limits: &Limits) -> Result<(Vec<PathBuf>, Vec<ScanEntry>)> {
    let instance = open(dicomdir, limits)?;
    let base = dicomdir.parent().unwrap_or(Path::new("."));
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for parts in instance.dicomdir_files() {
        match resolve_file_id(base, &parts) {
            Some(p) => files.push(p),
            None => problems.push(ScanEntry {
                path: base.join(parts.join("/")),
                result: Err(Error::NotDicom {
                    reason: "DICOMDIR references a file that is missing or outside its folder"
                        .into(),
                }),
            }),
        }
    }
    files.sort();
    files.dedup();
    Ok((files, problems))
}

/// Resolves a Referenced File ID under `base`: components must be plain
/// names (no "..", separators or roots); matched case-insensitively when the
/// exact name is absent, since media are written in upper case.
pub fn resolve_file_id(base: &Path, parts: &[String]) -> Option<PathBuf> {
    let mut path = base.to_path_buf();
    for part in parts {
        let mut components = Path::new(part).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) if !part.contains(['\\', '\0']) => {}
            _ => return None,
        }
        let exact = path.join(part);
        if exact.exists() {
            path = exact;
            continue;
        }
        let found = std::fs::read_dir(&path)
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(part))?;
        path = found.path();
    }
    path.is_file().then_some(path)
}

/// Reads the headers of `files` in parallel; `progress` is called once per file.
pub fn scan_files(
    files: &[PathBuf],
    limits: &Limits,
    progress: &(dyn Fn() + Sync),
) -> Vec<ScanEntry> {
    files
        .par_iter()
        .map(|path| {
            let result = read_header(path, limits);
            progress();
            ScanEntry {
                path: path.clone(),
                result,
            }
        })
        .collect()
}

/// An instance in the index.
#[derive(Debug, Clone, Serialize)]
pub struct IndexedInstance {
    pub sop_instance_uid: String,
    pub path: PathBuf,
    pub instance_number: Option<i64>,
    pub rows: Option<u32>,
    pub cols: Option<u32>,
    pub frames: Option<u32>,
    pub transfer_syntax: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub series_instance_uid: String,
    pub modality: Option<String>,
    pub series_number: Option<i64>,
    pub body_part: Option<String>,
    pub view_position: Option<String>,
    pub instances: Vec<IndexedInstance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Study {
    pub study_instance_uid: String,
    pub study_date: Option<String>,
    pub study_time: Option<String>,
    pub accession_number: Option<String>,
    pub description: Option<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Patient {
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    pub studies: Vec<Study>,
}

/// Patient → Study → Series → Instance, in a stable order.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StudyIndex {
    pub patients: Vec<Patient>,
    /// Instances skipped because their SOP Instance UID was already indexed.
    pub duplicates: Vec<PathBuf>,
}

impl StudyIndex {
    /// Builds the index from headers of image instances (DICOMDIRs and
    /// objects without the UIDs are left out).
    pub fn build<'a>(headers: impl IntoIterator<Item = (&'a Path, &'a Header)>) -> StudyIndex {
        type SeriesMap = BTreeMap<String, (Series, BTreeMap<String, IndexedInstance>)>;
        type StudyMap = BTreeMap<String, (Study, SeriesMap)>;
        let mut patients: BTreeMap<Option<String>, (Patient, StudyMap)> = BTreeMap::new();
        let mut duplicates = Vec::new();
        for (path, h) in headers {
            let (Some(study_uid), Some(series_uid), Some(sop_uid)) = (
                &h.study_instance_uid,
                &h.series_instance_uid,
                &h.sop_instance_uid,
            ) else {
                continue;
            };
            if h.is_dicomdir() {
                continue;
            }
            let (_, studies) = patients.entry(h.patient_id.clone()).or_insert_with(|| {
                (
                    Patient {
                        patient_id: h.patient_id.clone(),
                        patient_name: h.patient_name.clone(),
                        studies: Vec::new(),
                    },
                    BTreeMap::new(),
                )
            });
            let (_, series) = studies.entry(study_uid.clone()).or_insert_with(|| {
                (
                    Study {
                        study_instance_uid: study_uid.clone(),
                        study_date: h.study_date.clone(),
                        study_time: h.study_time.clone(),
                        accession_number: h.accession_number.clone(),
                        description: h.study_description.clone(),
                        series: Vec::new(),
                    },
                    BTreeMap::new(),
                )
            });
            let (_, instances) = series.entry(series_uid.clone()).or_insert_with(|| {
                (
                    Series {
                        series_instance_uid: series_uid.clone(),
                        modality: h.modality.clone(),
                        series_number: h.series_number,
                        body_part: h.body_part.clone(),
                        view_position: h.view_position.clone(),
                        instances: Vec::new(),
                    },
                    BTreeMap::new(),
                )
            });
            if instances.contains_key(sop_uid) {
                duplicates.push(path.to_path_buf());
                continue;
            }
            instances.insert(
                sop_uid.clone(),
                IndexedInstance {
                    sop_instance_uid: sop_uid.clone(),
                    path: path.to_path_buf(),
                    instance_number: h.instance_number,
                    rows: h.rows,
                    cols: h.cols,
                    frames: h.frames,
                    transfer_syntax: h.transfer_syntax.clone(),
                },
            );
        }
        let patients = patients
            .into_values()
            .map(|(mut p, studies)| {
                p.studies = studies
                    .into_values()
                    .map(|(mut st, series)| {
                        st.series = series
                            .into_values()
                            .map(|(mut se, inst)| {
                                se.instances = inst.into_values().collect();
                                se.instances.sort_by_key(|i| {
                                    (i.instance_number, i.sop_instance_uid.clone())
                                });
                                se
                            })
                            .collect();
                        st.series
                            .sort_by_key(|s| (s.series_number, s.series_instance_uid.clone()));
                        st
                    })
                    .collect();
                p
            })
            .collect();
        StudyIndex {
            patients,
            duplicates,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_cannot_escape() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("A")).expect("mkdir");
        std::fs::write(dir.path().join("A/img1"), b"x").expect("write");
        let ok = resolve_file_id(dir.path(), &["a".into(), "IMG1".into()]);
        assert_eq!(ok, Some(dir.path().join("A/img1")));
        assert_eq!(
            resolve_file_id(dir.path(), &["..".into(), "etc".into()]),
            None
        );
        assert_eq!(resolve_file_id(dir.path(), &["/etc/passwd".into()]), None);
        assert_eq!(resolve_file_id(dir.path(), &["A/img1".into()]), None);
    }
}
