//! What is recorded: reader decisions on AI findings, and the other audit
//! events of DICOM PS3.15 A.5 (application activity, instances accessed,
//! export, audit log used, user identity changes), plus inference runs and
//! refusals.

use serde::{Deserialize, Serialize};

use crate::error::{Result, invalid};

/// Who made a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reader {
    pub id: String,
    pub display_name: String,
    /// e.g. "radiologist", "reporting radiographer".
    pub role: String,
}

/// The model behind a flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRef {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

/// A rectangle in image pixel coordinates (a missed finding's region).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Region {
    pub fn encode(&self) -> String {
        format!("{},{},{},{}", self.x, self.y, self.width, self.height)
    }

    pub fn parse(s: &str) -> Result<Region> {
        let v: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| invalid("region", format!("{s:?} is not x,y,width,height")))?;
        match v[..] {
            [x, y, width, height] => Ok(Region {
                x,
                y,
                width,
                height,
            }),
            _ => Err(invalid("region", format!("{s:?} is not x,y,width,height"))),
        }
    }
}

/// The reader's call on one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Agrees with the AI flag (or with a finding below threshold).
    Confirm,
    /// Disagrees with the AI flag.
    Dismiss,
    /// A finding the AI did not flag, added by the reader with its region.
    AddMissed,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confirm => "confirm",
            Decision::Dismiss => "dismiss",
            Decision::AddMissed => "add_missed",
        }
    }

    pub fn parse(s: &str) -> Result<Decision> {
        match s {
            "confirm" => Ok(Decision::Confirm),
            "dismiss" => Ok(Decision::Dismiss),
            "add_missed" | "add-missed" => Ok(Decision::AddMissed),
            other => Err(invalid(
                "decision",
                format!("{other:?} (confirm, dismiss or add_missed)"),
            )),
        }
    }
}

/// Where and on what a decision was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyRef {
    pub patient_id: String,
    pub accession_number: String,
    pub study_uid: String,
    pub series_uid: String,
    pub sop_uid: String,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionEvent {
    pub reader: Reader,
    pub workstation_id: String,
    pub study: StudyRef,
    pub model: Option<ModelRef>,
    pub execution_provider: Option<String>,
    pub finding: String,
    pub ai_score: Option<f64>,
    pub threshold: Option<f64>,
    pub ai_flagged: bool,
    pub decision: Decision,
    pub region: Option<Region>,
    pub reason: Option<String>,
    pub display_to_decision_ms: Option<u64>,
    /// The decision row this one corrects.
    pub supersedes: Option<u64>,
}

/// Audit event kinds (the names follow DICOM PS3.15 A.5.1 where one exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Decision,
    /// PS3.15 A.5.3.1 Application Activity (start).
    ApplicationStart,
    /// PS3.15 A.5.3.1 Application Activity (stop).
    ApplicationStop,
    /// PS3.15 A.5.3.3 Begin Transferring / A.5.3.8 DICOM Instances Accessed.
    StudyOpened,
    InferenceRun,
    /// A study outside the model's intended use.
    StudyRefused,
    /// PS3.15 A.5.3.6 Export.
    Export,
    /// PS3.15 A.5.3.2 Audit Log Used (read or verified).
    AuditLogUsed,
    /// PS3.15 A.5.3.17 User Authentication / identity change.
    UserIdentityChanged,
    /// Read-first mode: the reader's impression before the AI was shown.
    UnaidedImpression,
    /// PS3.15 A.5.3.4 DICOM Instances Transferred: a study retrieved from a PACS.
    InstancesTransferred,
    /// PS3.15 A.5.3.11 Security Alert (Software Configuration): a setting
    /// that changes what a reader sees, old and new value.
    SettingsChanged,
    /// PS3.15 A.5.3.11 Security Alert (Software Configuration): a model
    /// installed into the model store, with its checksum.
    ModelInstalled,
    /// PS3.15 A.5.3.11: a site's validation report for a model accepted
    /// (its SHA-256): a clinical model may flag here from then on.
    ModelValidationAccepted,
    /// PS3.15 A.5.3.11: a site threshold set for one label, old → new, and
    /// the validation report it rests on.
    ModelThresholdChanged,
    /// PS3.15 A.5.3.11: the model withdrawn from use at this site.
    ModelRetired,
    /// The reader signed a study's assessment off: each AI finding's
    /// assessment, the findings added, and the results objects made (their
    /// UIDs), enough to make them again.
    ResultsSignedOff,
    /// PS3.15 A.5.3.4 DICOM Instances Transferred: results objects stored
    /// on the PACS (or written to the results folder).
    ResultsStored,
    /// The reader took a study over from another reader who held it in the
    /// department store (whom, since when).
    StudyTakenOver,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Decision => "decision",
            EventKind::ApplicationStart => "application_start",
            EventKind::ApplicationStop => "application_stop",
            EventKind::StudyOpened => "study_opened",
            EventKind::InferenceRun => "inference_run",
            EventKind::StudyRefused => "study_refused",
            EventKind::Export => "export",
            EventKind::AuditLogUsed => "audit_log_used",
            EventKind::UserIdentityChanged => "user_identity_changed",
            EventKind::UnaidedImpression => "unaided_impression",
            EventKind::InstancesTransferred => "instances_transferred",
            EventKind::SettingsChanged => "settings_changed",
            EventKind::ModelInstalled => "model_installed",
            EventKind::ModelValidationAccepted => "model_validation_accepted",
            EventKind::ModelThresholdChanged => "model_threshold_changed",
            EventKind::ModelRetired => "model_retired",
            EventKind::ResultsSignedOff => "results_signed_off",
            EventKind::ResultsStored => "results_stored",
            EventKind::StudyTakenOver => "study_taken_over",
        }
    }

    pub fn parse(s: &str) -> Result<EventKind> {
        const ALL: [EventKind; 19] = [
            EventKind::Decision,
            EventKind::ApplicationStart,
            EventKind::ApplicationStop,
            EventKind::StudyOpened,
            EventKind::InferenceRun,
            EventKind::StudyRefused,
            EventKind::Export,
            EventKind::AuditLogUsed,
            EventKind::UserIdentityChanged,
            EventKind::UnaidedImpression,
            EventKind::InstancesTransferred,
            EventKind::SettingsChanged,
            EventKind::ModelInstalled,
            EventKind::ModelValidationAccepted,
            EventKind::ModelThresholdChanged,
            EventKind::ModelRetired,
            EventKind::ResultsSignedOff,
            EventKind::ResultsStored,
            EventKind::StudyTakenOver,
        ];
        ALL.into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| invalid("kind", format!("unknown event kind {s:?}")))
    }
}

/// Any other event: who, where, on which study (if any), and details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherEvent {
    pub kind: EventKind,
    pub reader: Option<Reader>,
    pub workstation_id: String,
    pub study: Option<StudyRef>,
    pub model: Option<ModelRef>,
    pub execution_provider: Option<String>,
    /// Event-specific details (a JSON object): e.g. the export's range and row count.
    pub detail: serde_json::Value,
}

fn text(field: &'static str, v: &str, max: usize) -> Result<()> {
    if v.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(invalid(field, format!("longer than {max} characters")));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

fn uid(field: &'static str, v: &str) -> Result<()> {
    // PS3.5 §9.1: digits and dots, at most 64 characters.
    if v.is_empty()
        || v.len() > 64
        || !v.chars().all(|c| c.is_ascii_digit() || c == '.')
        || v.starts_with('.')
        || v.ends_with('.')
        || v.contains("..")
    {
        return Err(invalid(field, format!("{v:?} is not a DICOM UID")));
    }
    Ok(())
}

impl Reader {
    pub fn validate(&self) -> Result<()> {
        text("reader id", &self.id, 64)?;
        text("reader display name", &self.display_name, 128)?;
        text("reader role", &self.role, 64)
    }
}

impl StudyRef {
    pub(crate) fn validate(&self) -> Result<()> {
        text("patient id", &self.patient_id, 64)?;
        if !self.accession_number.is_empty() {
            text("accession number", &self.accession_number, 16)?;
        }
        uid("study UID", &self.study_uid)?;
        uid("series UID", &self.series_uid)?;
        uid("SOP instance UID", &self.sop_uid)
    }
}

impl ModelRef {
    pub(crate) fn validate(&self) -> Result<()> {
        text("model name", &self.name, 128)?;
        text("model version", &self.version, 64)?;
        if self.sha256.len() != 64 || !self.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid("model sha256", "must be 64 hexadecimal digits"));
        }
        Ok(())
    }
}

impl DecisionEvent {
    /// The same checks for every path that records a decision (UI, CLI, integrations).
    pub fn validate(&self) -> Result<()> {
        self.reader.validate()?;
        text("workstation id", &self.workstation_id, 64)?;
        self.study.validate()?;
        if let Some(m) = &self.model {
            m.validate()?;
        }
        if let Some(ep) = &self.execution_provider {
            text("execution provider", ep, 32)?;
        }
        text("finding", &self.finding, 64)?;
        for (field, v) in [("AI score", self.ai_score), ("threshold", self.threshold)] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(&v)
            {
                return Err(invalid(field, format!("{v} is outside 0–1")));
            }
        }
        match (self.decision, &self.region) {
            (Decision::AddMissed, None) => {
                return Err(invalid("region", "a missed finding needs its region"));
            }
            (Decision::AddMissed, Some(r)) => {
                let finite = [r.x, r.y, r.width, r.height].iter().all(|v| v.is_finite());
                if !(finite && r.width > 0.0 && r.height > 0.0 && r.x >= 0.0 && r.y >= 0.0) {
                    return Err(invalid(
                        "region",
                        "needs x, y ≥ 0 and a positive width and height",
                    ));
                }
                if self.ai_flagged {
                    return Err(invalid(
                        "AI flagged",
                        "a missed finding was not flagged by the AI",
                    ));
                }
            }
            _ => {}
        }
        if (self.decision != Decision::AddMissed) && self.model.is_none() {
            return Err(invalid(
                "model",
                "confirming or dismissing needs the model that flagged",
            ));
        }
        if let Some(r) = &self.reason
            && r.chars().count() > 2000
        {
            return Err(invalid("reason", "longer than 2000 characters"));
        }
        if self
            .display_to_decision_ms
            .is_some_and(|ms| ms > 24 * 3600 * 1000)
        {
            return Err(invalid("time to decision", "longer than a day"));
        }
        Ok(())
    }
}

impl OtherEvent {
    pub fn validate(&self) -> Result<()> {
        if self.kind == EventKind::Decision {
            return Err(invalid("kind", "decisions are recorded with DecisionEvent"));
        }
        if let Some(r) = &self.reader {
            r.validate()?;
        }
        text("workstation id", &self.workstation_id, 64)?;
        if let Some(s) = &self.study {
            s.validate()?;
        }
        if let Some(m) = &self.model {
            m.validate()?;
        }
        if !self.detail.is_object() && !self.detail.is_null() {
            return Err(invalid("detail", "must be a JSON object"));
        }
        Ok(())
    }
}
