//! Signing a study off: the sign-off makes the SR, Parametric Maps and
//! GSPS from the AI result and the decisions, records them in the audit log
//! (with everything needed to make them again) and puts them in the outbox
//! ([`super::outbox`]). A later sign-off corrects the earlier one.

use overread_audit::EventKind;
use overread_dicom::results::{Heatmap, ResultObject, write_all};

use super::journal::Event;
use super::{Change, Workstation, WsResult, reading, unknown};
use crate::api::{ApiError, ErrorCode, ResultsView, StudyId};
use crate::infer::Outcome;
use crate::results::{self, Entry, SignOff};

pub(crate) fn results_error(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Results, message)
}

impl Workstation {
    /// Signs the study's assessment off: every flagged finding must have a
    /// decision. Makes the results objects from the AI result and the
    /// decisions, records the sign-off (with the objects' UIDs) and queues
    /// the objects for the study's source. A second sign-off corrects the
    /// first: new objects that name the earlier report.
    pub fn sign_off(&self, id: StudyId) -> WsResult<ResultsView> {
        self.check_claim(id)?;
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

    /// A worklist study's Study Instance UID.
    pub fn study_uid(&self, id: StudyId) -> Option<String> {
        self.studies
            .get(id, |s| s.header.study_instance_uid.clone())
            .flatten()
    }

    /// The worklist's study with this Study Instance UID.
    pub fn find_study(&self, study_uid: &str) -> Option<StudyId> {
        self.studies.by_uid(study_uid)
    }

    /// The objects of the study's latest sign-off here, made again from its
    /// audit row, the study's image and its AI result (from the model that
    /// was signed off: its heatmaps become the Parametric Maps). Their UIDs
    /// must be the ones recorded, or nothing is returned.
    pub fn signed_off_objects(&self, id: StudyId) -> WsResult<(SignOff, Vec<ResultObject>)> {
        let (header, outcome, model) = self
            .studies
            .get(id, |s| {
                (
                    s.header.clone(),
                    s.ai.outcome().cloned(),
                    s.ai.model().cloned(),
                )
            })
            .ok_or_else(|| unknown(id))?;
        let study_uid = header
            .study_instance_uid
            .clone()
            .ok_or_else(reading::invalid_study)?;
        let signoff = self
            .journal
            .latest_signoff(&study_uid)?
            .ok_or_else(|| results_error("this study has not been signed off here"))?;
        let mut heatmaps = Vec::new();
        if !signoff.heatmaps.is_empty() {
            let same_model =
                matches!((&signoff.algorithm, &model), (Some(a), Some(m)) if a.sha256 == m.sha256);
            let inference = match outcome.as_deref() {
                Some(Outcome::Inferred { inference, .. }) if same_model => inference,
                _ => {
                    return Err(results_error(
                        "the heatmaps need the AI result of the model that was signed off: triage the study with it first",
                    ));
                }
            };
            for label in &signoff.heatmaps {
                let reg = inference.registered(label).ok_or_else(|| {
                    results_error(format!("the model has no heatmap for {label:?}"))
                })?;
                heatmaps.push(Heatmap {
                    label: label.clone(),
                    values: reg.values,
                });
            }
        }
        let objects = write_all(&signoff.study_results(header, heatmaps))
            .map_err(|e| results_error(e.to_string()))?;
        let made: Vec<&str> = objects
            .iter()
            .map(|o| o.sop_instance_uid.as_str())
            .collect();
        let recorded: Vec<&str> = signoff
            .objects
            .iter()
            .map(|o| o.sop_instance_uid.as_str())
            .collect();
        if made != recorded {
            return Err(results_error(
                "the objects made again are not those recorded at sign-off",
            ));
        }
        Ok((signoff, objects))
    }

    /// Sends the latest sign-off's objects to `destination` (a PACS source
    /// of the configuration, or "local" for the results folder) now,
    /// through the outbox: audited when stored, kept when it fails.
    pub fn send_signed_off(&self, id: StudyId, destination: &str) -> WsResult<()> {
        let (signoff, objects) = self.signed_off_objects(id)?;
        let study_uid = self
            .studies
            .get(id, |s| s.header.study_instance_uid.clone())
            .flatten()
            .ok_or_else(reading::invalid_study)?;
        let entry = Entry {
            study_uid,
            signoff_key: signoff.signoff_key.clone(),
            destination: destination.to_string(),
            objects: signoff.objects.clone(),
        };
        let dir = results::enqueue(&self.outbox.dir, &entry, &objects)
            .map_err(|e| results_error(format!("cannot put the results in the outbox: {e}")))?;
        self.send_dir(&dir).map_err(results_error)?;
        self.emit(Change::rows(vec![id]));
        Ok(())
    }
}
