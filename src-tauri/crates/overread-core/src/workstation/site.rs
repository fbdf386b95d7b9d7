//! This site's use of the configured model from the app: its state, and a
//! validation report accepted by the reader whose settings are open
//! (checked outside the log's lock, recorded under it).

use std::path::{Path, PathBuf};

use overread_audit::EventKind;

use super::Workstation;
use super::journal::Event;
use crate::api::{ApiError, ErrorCode, ModelSite};
use crate::site::{self, ACCEPTING_ROLES, SiteState};

impl Workstation {
    fn model_dir(&self) -> PathBuf {
        PathBuf::from(&self.model_at_start.0)
    }

    fn site_view(&self, manifest: &overread_infer::Manifest, state: SiteState) -> ModelSite {
        ModelSite {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            sha256: manifest.sha256.to_ascii_lowercase(),
            clinical: manifest.clinical,
            go_live: state.go_live(manifest.clinical),
            in_force: self.runner.model_view().map(|m| m.go_live),
            thresholds: manifest
                .output
                .scores
                .labels
                .iter()
                .map(|label| {
                    let here = state.thresholds.iter().find(|t| &t.label == label);
                    crate::api::Threshold {
                        label: label.clone(),
                        threshold: here
                            .map(|t| t.value)
                            .or_else(|| manifest.thresholds.get(label).copied())
                            .unwrap_or(0.5),
                        set_here: here.is_some(),
                    }
                })
                .collect(),
            state,
            accepting_roles: ACCEPTING_ROLES.iter().map(|r| r.to_string()).collect(),
        }
    }

    /// The configured model's use here, as the log records it.
    pub fn model_site(&self) -> Result<ModelSite, ApiError> {
        let (manifest, _) = overread_infer::read_model(&self.model_dir())
            .map_err(|e| ApiError::new(ErrorCode::Model, e.to_string()))?;
        let state = self
            .journal
            .site_state(&manifest.sha256)
            .map_err(|e| ApiError::new(ErrorCode::Audit, e))?;
        Ok(self.site_view(&manifest, state))
    }

    /// Accepts the validation report at `report` for the configured model
    /// as this session's reader: refused unless the reader's role may
    /// accept, the report is for the same weights and the model is not
    /// retired; recorded in the audit log, then `site.toml` written.
    pub fn accept_validation(&self, report: &Path) -> Result<ModelSite, ApiError> {
        let dir = self.model_dir();
        let reader = self.reader();
        let pending = site::acceptance(&dir, report, &reader).map_err(ApiError::invalid)?;
        let sha = pending.model.sha256.clone();
        let audit = |e: String| ApiError::new(ErrorCode::Audit, e);
        let before = self.journal.site_state(&sha).map_err(audit)?;
        site::refuse_if_retired(&before, &pending.manifest).map_err(ApiError::invalid)?;
        self.journal.record(Event {
            model: Some(pending.model),
            detail: pending.detail,
            ..Event::new(EventKind::ModelValidationAccepted, Some(reader))
        })?;
        let state = self.journal.site_state(&sha).map_err(audit)?;
        // The log holds the acceptance; a read-only model folder only
        // means no `site.toml` for people to read.
        let _ = site::write_overlay(&dir, &pending.manifest, &state);
        Ok(self.site_view(&pending.manifest, state))
    }

    /// Sets this site's threshold for `label` of the configured model as
    /// this session's reader, resting on the validation report at
    /// `report`: the same checks as accepting one; recorded, then
    /// `site.toml` written.
    pub fn set_site_threshold(
        &self,
        label: &str,
        value: f32,
        report: &Path,
    ) -> Result<ModelSite, ApiError> {
        let dir = self.model_dir();
        let reader = self.reader();
        let pending = site::threshold_change(&dir, (label, value), report, &reader, |sha| {
            self.journal.site_state(sha)
        })
        .map_err(ApiError::invalid)?;
        let sha = pending.model.sha256.clone();
        self.journal.record(Event {
            model: Some(pending.model),
            detail: pending.detail,
            ..Event::new(EventKind::ModelThresholdChanged, Some(reader))
        })?;
        let state = self
            .journal
            .site_state(&sha)
            .map_err(|e| ApiError::new(ErrorCode::Audit, e))?;
        let _ = site::write_overlay(&dir, &pending.manifest, &state);
        Ok(self.site_view(&pending.manifest, state))
    }
}
