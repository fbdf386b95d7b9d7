//! Signing a study off and getting its results to the PACS: the sign-off
//! makes the SR, Parametric Maps and GSPS, records them in the audit log and
//! puts them in the outbox; [`Workstation::send_results`] stores waiting
//! entries on the study's PACS (STOW-RS or C-STORE) or writes a local
//! study's to the results folder, with backoff while that fails, and audits
//! each stored entry before removing it. Opening a study reads back the
//! assessments already on the PACS.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use overread_audit::EventKind;
use overread_dicom::results::{Heatmap, read::read_report, write_all};
use overread_pacs::{CancellationToken, Client};

use super::journal::Event;
use super::owned::Owned;
use super::study::{Here, LOCAL};
use super::{Change, Workstation, WsResult, reading, unknown};
use crate::api::{ApiError, EarlierAssessment, EarlierFinding, ErrorCode, ResultsView, StudyId};
use crate::infer::Outcome;
use crate::results::{self, Entry, Pending, SignOff};

/// Backoff between attempts to send one entry: 30 s doubling to 10 min.
fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(30u64.saturating_mul(1 << attempts.min(5)).min(600))
}

/// The outbox's folder and what sending has learned (in memory).
#[derive(Debug)]
pub(crate) struct Outbox {
    pub dir: PathBuf,
    /// `<audit dir>/results`: local studies' results when Settings name none.
    pub default_results: PathBuf,
    sending: AtomicBool,
    /// Per entry folder: failed attempts and when to try again.
    retry: Owned<HashMap<PathBuf, (u32, Instant)>>,
}

impl Outbox {
    pub(crate) fn new(audit_dir: &Path) -> Outbox {
        Outbox {
            dir: audit_dir.join("outbox"),
            default_results: audit_dir.join("results"),
            sending: AtomicBool::new(false),
            retry: Owned::new("outbox", HashMap::new()),
        }
    }
}

fn results_error(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Results, message)
}

impl Workstation {
    /// Signs the study's assessment off: every flagged finding must have a
    /// decision. Makes the results objects from the AI result and the
    /// decisions, records the sign-off (with the objects' UIDs) and queues
    /// the objects for the study's source. A second sign-off corrects the
    /// first: new objects that name the earlier report.
    pub fn sign_off(&self, id: StudyId) -> WsResult<ResultsView> {
        let (signer, read_first) = self.settings.read(|s| (s.audit_reader(), s.read_first));
        let workstation_id = self.journal.workstation_id();
        let gathered = self
            .studies
            .get(id, |s| {
                if reading::ai_hidden(read_first, s) {
                    return Err(ApiError::new(
                        ErrorCode::ImpressionRequired,
                        "record your unaided impression before signing off",
                    ));
                }
                if let Some(why) = reading::sign_off_refusal(s) {
                    return Err(results_error(why));
                }
                let study = reading::study_ref(&s.header).ok_or_else(reading::invalid_study)?;
                let Some(outcome) = s.ai.outcome().cloned() else {
                    return Err(results_error("this study has no AI result yet"));
                };
                Ok((
                    study,
                    s.header.clone(),
                    s.source.clone(),
                    outcome,
                    s.ai.model().cloned(),
                    s.reading.decisions.clone(),
                    s.reading.signoffs.clone(),
                ))
            })
            .ok_or_else(|| unknown(id))??;
        let (study, header, source, outcome, model, decisions, earlier) = gathered;
        let Outcome::Inferred { inference, .. } = outcome.as_ref() else {
            return Err(results_error("the model refused this study"));
        };
        let image = self.image(id)?;
        let now = overread_audit::now_rfc3339();
        let (signed_date, signed_time) = results::dicom_date_time(&now);
        let findings = results::assessments(inference, &decisions);
        // The heatmaps the viewer shows: those of flagged findings.
        let heatmaps: Vec<Heatmap> = inference
            .findings
            .iter()
            .filter(|f| f.flagged)
            .filter_map(|f| {
                let reg = inference.registered(&f.label)?;
                (reg.width == image.width as usize && reg.height == image.height as usize).then(
                    || Heatmap {
                        label: f.label.clone(),
                        values: reg.values,
                    },
                )
            })
            .collect();
        let mut signoff = SignOff {
            signoff_key: format!("{workstation_id}/{}", earlier.len() + 1),
            predecessor_key: earlier.last().cloned(),
            signed_date,
            signed_time,
            signer: overread_dicom::results::Signer {
                id: signer.id.clone(),
                name: signer.display_name.clone(),
                role: signer.role.clone(),
            },
            algorithm: model.as_ref().map(|m| overread_dicom::results::Algorithm {
                name: m.name.clone(),
                version: m.version.clone(),
                sha256: m.sha256.clone(),
            }),
            findings,
            heatmaps: heatmaps.iter().map(|h| h.label.clone()).collect(),
            pixel_spacing: image.spacing.map(|s| (s.row, s.col)),
            software_version: crate::APP_VERSION.to_string(),
            workstation_id,
            destination: source,
            objects: Vec::new(),
        };
        let objects = write_all(&signoff.study_results(header, heatmaps))
            .map_err(|e| results_error(e.to_string()))?;
        signoff.objects = objects.iter().map(results::object_ref).collect();
        let entry = Entry {
            study_uid: study.study_uid.clone(),
            signoff_key: signoff.signoff_key.clone(),
            destination: signoff.destination.clone(),
            objects: signoff.objects.clone(),
        };
        let dir = results::enqueue(&self.outbox.dir, &entry, &objects)
            .map_err(|e| results_error(format!("cannot put the results in the outbox: {e}")))?;
        let detail = serde_json::to_value(&signoff)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        let recorded = self.journal.record(Event {
            study: Some(study),
            model,
            detail,
            ..Event::new(EventKind::ResultsSignedOff, Some(signer))
        });
        if let Err(e) = recorded {
            // Not signed off: nothing may leave.
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        let view = self
            .studies
            .update(id, |s| {
                s.reading.signoffs.push(signoff.signoff_key.clone());
                s.reading.results_problem = None;
                super::view::results_view(s)
            })
            .ok_or_else(|| unknown(id))?;
        self.emit(Change::rows(vec![id]));
        Ok(view)
    }

    /// Sends what waits in the outbox (entries whose backoff has passed);
    /// returns how many were stored. One pass; the app calls it after each
    /// sign-off and every half minute.
    pub fn send_results(&self) -> usize {
        if self.outbox.sending.swap(true, Ordering::SeqCst) {
            return 0;
        }
        struct Lower<'a>(&'a AtomicBool);
        impl Drop for Lower<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        let _lower = Lower(&self.outbox.sending);
        let now = Instant::now();
        let mut stored = 0;
        for pending in results::pending(&self.outbox.dir) {
            let Ok(p) = pending else { continue };
            let due = self
                .outbox
                .retry
                .read(|r| r.get(&p.dir).is_none_or(|(_, at)| *at <= now));
            if !due {
                continue;
            }
            let outcome = self.send_entry(&p);
            let study = self.studies.by_uid(&p.entry.study_uid);
            match outcome {
                Ok(()) => {
                    stored += 1;
                    self.outbox.retry.write(|r| r.remove(&p.dir));
                }
                Err(why) => {
                    self.outbox.retry.write(|r| {
                        let (attempts, at) = r.entry(p.dir.clone()).or_insert((0, now));
                        *attempts += 1;
                        *at = now + backoff(*attempts);
                    });
                    if let Some(id) = study {
                        self.studies
                            .update(id, |s| s.reading.results_problem = Some(why));
                    }
                }
            }
            if let Some(id) = study {
                self.emit(Change::rows(vec![id]));
            }
        }
        stored
    }

    /// Stores one entry where it goes, audits it, and removes it.
    fn send_entry(&self, p: &Pending) -> Result<(), String> {
        let destination = if p.entry.destination == LOCAL {
            let folder = self
                .settings
                .read(|s| s.results_folder.clone())
                .map(PathBuf::from)
                .unwrap_or_else(|| self.outbox.default_results.clone());
            let files: Vec<(String, PathBuf)> = p
                .entry
                .objects
                .iter()
                .zip(&p.files)
                .map(|(o, f)| (format!("{}_{}", o.kind, o.sop_instance_uid), f.clone()))
                .collect();
            results::write_to_folder(&folder, &p.entry.study_uid, &files)
                .map_err(|e| format!("cannot write to {}: {e}", folder.display()))?;
            folder.display().to_string()
        } else {
            let (config, _cache) = self
                .pacs_setup()
                .ok_or_else(|| "no PACS configuration is set".to_string())??;
            let source = config
                .source(&p.entry.destination)
                .map_err(|e| e.to_string())?;
            let client = Client::new(source).map_err(|e| e.to_string())?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(client.store(&p.files, &CancellationToken::new()))
                .map_err(|e| e.to_string())?;
            p.entry.destination.clone()
        };
        // Stored: audited before the entry goes (sending it again stores it once).
        let study = self
            .studies
            .by_uid(&p.entry.study_uid)
            .and_then(|id| self.studies.get(id, |s| reading::study_ref(&s.header)))
            .flatten();
        self.journal
            .record(Event {
                study,
                detail: serde_json::json!({
                    "signoff_key": p.entry.signoff_key,
                    "destination": destination,
                    "objects": p.entry.objects,
                }),
                ..Event::new(EventKind::ResultsStored, None)
            })
            .map_err(|e| format!("stored, but the audit log refused the record: {e}"))?;
        if let Some(id) = self.studies.by_uid(&p.entry.study_uid) {
            self.studies.update(id, |s| {
                s.reading.stored.push(p.entry.signoff_key.clone());
                s.reading.results_problem = None;
            });
        }
        let _ = std::fs::remove_dir_all(&p.dir);
        Ok(())
    }

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
