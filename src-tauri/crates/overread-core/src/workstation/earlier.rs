//! Reading results back: the assessments of a study already stored where it
//! came from (the PACS's structured reports, or a local study's results
//! folder), which a second reader is shown.

use std::path::PathBuf;

use overread_dicom::results::read::read_report;
use overread_pacs::{CancellationToken, Client};

use super::results::results_error;
use super::study::{Here, LOCAL};
use super::{Workstation, WsResult, unknown};
use crate::api::{ApiError, EarlierAssessment, EarlierFinding, StudyId};

impl Workstation {
    /// Assessments of the study already stored where it came from: the
    /// PACS's structured reports (QIDO-RS or C-FIND, then WADO-RS or
    /// C-GET), or a local study's results folder. Oldest first.
    pub fn earlier_assessments(&self, id: StudyId) -> WsResult<Vec<EarlierAssessment>> {
        let (study_uid, source, here) = self
            .studies
            .get(id, |s| {
                (
                    s.header.study_instance_uid.clone(),
                    s.source.clone(),
                    s.here.clone(),
                )
            })
            .ok_or_else(|| unknown(id))?;
        let Some(study_uid) = study_uid else {
            return Ok(Vec::new());
        };
        let limits = overread_dicom::Limits::default();
        let mut files: Vec<PathBuf> = Vec::new();
        if source == LOCAL || matches!(here, Here::Evicted) {
            let folder = self
                .settings
                .read(|s| s.results_folder.clone())
                .map(PathBuf::from)
                .unwrap_or_else(|| self.outbox.default_results.clone());
            let dir = folder.join(study_uid.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
            if let Ok(entries) = std::fs::read_dir(dir) {
                files.extend(entries.flatten().map(|e| e.path()).filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("sr_"))
                }));
            }
        } else {
            let (config, cache) = self
                .pacs_setup()
                .ok_or_else(|| results_error("no PACS configuration is set"))?
                .map_err(results_error)?;
            let client = config
                .source(&source)
                .and_then(Client::new)
                .map_err(|e| results_error(e.to_string()))?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| results_error(e.to_string()))?;
            let cancel = CancellationToken::new();
            runtime.block_on(async {
                let listed = client
                    .list_results(&study_uid, &cancel)
                    .await
                    .map_err(|e| results_error(e.to_string()))?;
                for inst in listed {
                    let path = client
                        .fetch(&inst, &cache, &cancel)
                        .await
                        .map_err(|e| results_error(e.to_string()))?;
                    files.push(path);
                }
                Ok::<(), ApiError>(())
            })?;
        }
        let mut out: Vec<EarlierAssessment> = files
            .into_iter()
            .filter_map(|path| {
                let bytes = std::fs::read(&path).ok()?;
                // Reports that are not TID 1500 assessments are not ours to show.
                let r = read_report(bytes, &limits).ok()?;
                Some(EarlierAssessment {
                    sop_instance_uid: r.sop_instance_uid,
                    reader: super::view::person_name(r.reader.as_deref()),
                    verified_at: r.verified_at.as_deref().map(dicom_dt).unwrap_or_default(),
                    workstation: r.workstation.unwrap_or_default(),
                    source: source.clone(),
                    corrects: r.predecessors,
                    findings: r
                        .findings
                        .into_iter()
                        .map(|f| EarlierFinding {
                            label: f.label,
                            assessment: f
                                .assessment
                                .map(|a| a.as_str().to_string())
                                .unwrap_or_default(),
                            score: f.ai.map(|a| a.score),
                            flagged: f.ai.map(|a| a.flagged),
                            reason: f.reason,
                        })
                        .collect(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.verified_at.cmp(&b.verified_at));
        Ok(out)
    }
}

/// DICOM DT → "YYYY-MM-DD HH:MM".
fn dicom_dt(dt: &str) -> String {
    let d: String = dt.chars().take_while(|c| c.is_ascii_digit()).collect();
    match (d.get(..8), d.get(8..12)) {
        (Some(date), Some(time)) => format!(
            "{}-{}-{} {}:{}",
            &date[..4],
            &date[4..6],
            &date[6..],
            &time[..2],
            &time[2..]
        ),
        _ => dt.to_string(),
    }
}
