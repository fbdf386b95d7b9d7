//! Local sources: folders, DICOM files and DICOMDIRs (removable media
//! included) added by Open folder…, by dropping them on the window, or in
//! Settings; each scanned with progress, its studies joining the worklist;
//! removed again, which takes its studies off the worklist (the audit log
//! keeps everything recorded on them).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::events::Change;
use super::study::{Arrival, Here, LOCAL};
use super::{Workstation, WsResult};
use crate::api::{ApiError, ErrorCode, ScanProgress, SourceAdded, StudyId};
use crate::library::FoundStudy;

/// Problems listed per source added (the rest are counted in the scan).
const PROBLEMS_SHOWN: usize = 20;

impl Workstation {
    /// Reads the sources again; studies already known keep their state.
    pub fn rescan(&self) -> WsResult<()> {
        let sources = self.settings.read(|s| s.sources.clone());
        let mut found = Vec::new();
        for source in &sources {
            let (files, _problems) = crate::library::plan(Path::new(source), &self.limits)
                .map_err(|e| ApiError::new(ErrorCode::Source, e.to_string()))?;
            found.extend(crate::library::scan(&files, Vec::new(), &self.limits, &|| {}).studies());
        }
        self.put_local(found)?;
        Ok(())
    }

    /// The sources in the settings changed: studies of a removed source
    /// leave the worklist, the others are read again.
    pub(super) fn sources_changed(&self) -> WsResult<()> {
        let sources = self.settings.read(|s| s.sources.clone());
        // A file source (a DICOMDIR, or one image) covers its folder: a
        // DICOMDIR's images lie beside it, not under it.
        let roots: Vec<PathBuf> = sources
            .iter()
            .map(|s| {
                let p = PathBuf::from(s);
                match p.parent() {
                    Some(folder) if p.is_file() => folder.to_path_buf(),
                    _ => p,
                }
            })
            .collect();
        let gone = self.studies.remove_local_outside(&roots);
        self.rescan()?;
        if !gone.is_empty() {
            self.emit(Change::rows(gone));
        }
        Ok(())
    }

    /// Adds local sources (folders, DICOM files, DICOMDIRs), each scanned
    /// with progress sent as the `worklist-change` event's `scan`; their
    /// studies join the worklist at once and the settings keep them (an
    /// audited change; the caller saves the settings file). A source
    /// already there is scanned again.
    pub fn add_sources(&self, paths: &[PathBuf]) -> WsResult<Vec<SourceAdded>> {
        if paths.is_empty() || paths.len() > 32 {
            return Err(ApiError::invalid("add 1 to 32 folders or files at a time"));
        }
        let mut added = Vec::new();
        for path in paths {
            let path = std::path::absolute(path).map_err(|e| {
                ApiError::new(ErrorCode::Source, format!("{}: {e}", path.display()))
            })?;
            added.push(self.scan_source(&path)?);
        }
        let mut settings = self.settings.get();
        for a in &added {
            if !settings.sources.contains(&a.path) {
                settings.sources.push(a.path.clone());
            }
        }
        if settings.sources != self.settings.read(|s| s.sources.clone()) {
            // The studies are on the worklist already: this records the
            // change and keeps the sources, without reading them again.
            self.apply_settings(settings, false)?;
        }
        Ok(added)
    }

    /// Removes a local source; its studies leave the worklist.
    pub fn remove_source(&self, path: &str) -> WsResult<()> {
        let mut settings = self.settings.get();
        let before = settings.sources.len();
        settings.sources.retain(|s| s != path);
        if settings.sources.len() == before {
            return Err(ApiError::invalid(format!("{path} is not a source")));
        }
        self.update_settings(settings)?;
        Ok(())
    }

    /// Scans one source with progress; puts its studies on the worklist.
    fn scan_source(&self, path: &Path) -> WsResult<SourceAdded> {
        let shown = path.display().to_string();
        let (files, problems) = crate::library::plan(path, &self.limits)
            .map_err(|e| ApiError::new(ErrorCode::Source, e.to_string()))?;
        let total = files.len() as u32;
        let progress = |done: u32, finished: bool| {
            self.emit(Change {
                scan: Some(ScanProgress {
                    path: shown.clone(),
                    done,
                    total,
                    finished,
                }),
                ..Change::default()
            })
        };
        progress(0, false);
        let done = AtomicU32::new(0);
        let last = std::sync::Mutex::new(Instant::now());
        let report = crate::library::scan(&files, problems, &self.limits, &|| {
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            // At most ten progress events a second, whatever the file count.
            let due = last.try_lock().ok().is_some_and(|mut t| {
                let due = t.elapsed() >= Duration::from_millis(100);
                if due {
                    *t = Instant::now();
                }
                due
            });
            if due {
                progress(n, false);
            }
        });
        let problems: Vec<String> = report
            .entries
            .iter()
            .filter_map(|e| {
                e.result
                    .as_ref()
                    .err()
                    .map(|why| format!("{}: {why}", e.path.display()))
            })
            .take(PROBLEMS_SHOWN)
            .collect();
        let found = report.studies();
        let studies = found.len() as u32;
        let ids = self.put_local(found)?;
        progress(total, true);
        self.emit(Change::rows(ids));
        Ok(SourceAdded {
            path: shown,
            studies,
            files: total,
            problems,
        })
    }

    /// Puts local studies on the worklist with what the audit log has
    /// recorded on them; returns their ids.
    fn put_local(&self, found: Vec<FoundStudy>) -> WsResult<Vec<StudyId>> {
        let readings = self.journal.readings()?;
        let mut ids = Vec::new();
        for study in found {
            let reading = study
                .header
                .sop_instance_uid
                .as_ref()
                .and_then(|sop| readings.get(sop).cloned())
                .unwrap_or_default();
            ids.extend(self.studies.put(Arrival {
                source: LOCAL.into(),
                study_uid: study.study_uid,
                here: Here::Available { path: study.path },
                header: study.header,
                images: study.instances,
                files: study.images,
                reading,
                prior_only: false,
            }));
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::super::tests::fresh;
    use super::*;

    #[test]
    fn a_folder_added_is_scanned_with_progress_and_removed_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ws, _) = fresh(dir.path(), 2);
        let seen: Arc<Mutex<Vec<ScanProgress>>> = Arc::default();
        let sink = seen.clone();
        ws.set_listener(Arc::new(move |c: crate::api::WorklistChange| {
            if let Some(p) = c.scan {
                sink.lock().expect("progress").push(p);
            }
        }));
        assert_eq!(ws.worklist().rows.len(), 2);
        let more = dir.path().join("usb");
        crate::demo::generate_priors(&more, 1, 64, 3).expect("priors");
        std::fs::write(more.join("notes.txt"), "not DICOM").expect("a stray file");

        let added = ws.add_sources(std::slice::from_ref(&more)).expect("added");
        assert_eq!(added[0].studies, 3);
        // Four images (the latest study has a lateral), the truth file and the note.
        assert_eq!(added[0].files, 6);
        assert!(
            added[0].problems.iter().any(|p| p.contains("notes.txt")),
            "{:?}",
            added[0].problems
        );
        assert_eq!(ws.worklist().rows.len(), 5);
        assert!(ws.settings().sources.contains(&more.display().to_string()));
        let progress = seen.lock().expect("progress").clone();
        assert_eq!(
            progress.first().map(|p| (p.done, p.finished)),
            Some((0, false))
        );
        assert_eq!(
            progress.last().map(|p| (p.done, p.total, p.finished)),
            Some((6, 6, true))
        );

        // Removing it takes its studies off the worklist; adding it again brings them back.
        ws.remove_source(&more.display().to_string())
            .expect("removed");
        assert_eq!(ws.worklist().rows.len(), 2);
        assert!(!ws.settings().sources.contains(&more.display().to_string()));
        ws.add_sources(std::slice::from_ref(&more))
            .expect("added again");
        assert_eq!(ws.worklist().rows.len(), 5);

        // A file source (here one image; a DICOMDIR alike) keeps its study
        // when another source is removed.
        let single = dir.path().join("single");
        let file = crate::demo::generate(&single, 1, 64, 9).expect("one study");
        ws.add_sources(&file).expect("a file added");
        assert_eq!(ws.worklist().rows.len(), 6);
        ws.remove_source(&more.display().to_string())
            .expect("removed");
        assert_eq!(ws.worklist().rows.len(), 3, "the file's study stays");
        ws.add_sources(std::slice::from_ref(&more))
            .expect("added again");

        let err = ws.remove_source("/not/a/source").expect_err("unknown");
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        let err = ws
            .add_sources(&[dir.path().join("missing")])
            .expect_err("no such folder");
        assert_eq!(err.code, ErrorCode::Source);
        assert_eq!(ws.worklist().rows.len(), 6, "nothing lost");
    }

    /// A DICOMDIR on removable media is a source like a folder: its studies
    /// join the worklist and stay through a change of the other sources
    /// (the public DICOMDIR of the test corpus).
    #[test]
    fn a_dicomdir_source_keeps_its_studies_when_another_is_removed() {
        let Some(corpus) = std::env::var_os("OVERREAD_CORPUS") else {
            eprintln!("skipped: OVERREAD_CORPUS is not set");
            return;
        };
        let dicomdir = Path::new(&corpus).join("pydicom/dicomdirtests/DICOMDIR");
        let dir = tempfile::tempdir().expect("tempdir");
        let (ws, _) = fresh(dir.path(), 1);
        let added = ws
            .add_sources(std::slice::from_ref(&dicomdir))
            .expect("the DICOMDIR added");
        assert!(added[0].studies > 0, "{added:?}");
        let with_dicomdir = ws.worklist().rows.len();
        let other = dir.path().join("other");
        crate::demo::generate(&other, 1, 64, 8).expect("one study");
        ws.add_sources(std::slice::from_ref(&other)).expect("added");
        ws.remove_source(&other.display().to_string())
            .expect("removed");
        assert_eq!(ws.worklist().rows.len(), with_dicomdir);
    }
}
