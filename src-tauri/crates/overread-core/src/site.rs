//! How this site uses a model, beside its signed manifest (never edited):
//! whether a validation report for it has been accepted here, the
//! per-label thresholds set here, and whether it is retired. The audit log
//! is the record: each change is an event (who, old → new, the report it
//! rests on), and the state is read back from those events, so nothing
//! changes what a model flags without a row in the log. `site.toml` beside
//! the manifest is the same state written out for people to read; Overread
//! never reads it back.
//!
//! Go-live: a clinical model flags nothing here until a report for the same
//! weights (SHA-256) is accepted by a named reader whose role may accept
//! one; until then its results say "not validated here". A demonstration
//! model stays labelled as one and flags as before.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use overread_audit::{AuditLog, EventKind, ModelRef, OtherEvent, Reader, Record};
use overread_infer::{Manifest, SiteUse};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::validation::{self, Report};

/// The roles that may accept a validation or set a threshold (the error
/// in `may_accept` names them).
pub const ACCEPTING_ROLES: [&str; 3] = ["radiologist", "clinical lead", "clinical safety officer"];

/// The largest report read.
const MAX_REPORT_BYTES: u64 = 256 << 20;

/// The file beside the manifest with the state written out.
pub const OVERLAY_FILE: &str = "site.toml";

/// Whether the model may flag studies here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GoLive {
    /// A demonstration model: labelled as one, flags as its manifest says.
    Demonstration,
    /// A clinical model with no accepted validation here: flags nothing.
    NotValidatedHere,
    /// A clinical model validated here.
    Validated,
    /// Withdrawn here: flags nothing.
    Retired,
}

impl GoLive {
    pub fn may_flag(self) -> bool {
        matches!(self, GoLive::Demonstration | GoLive::Validated)
    }

    /// What the app and the CLI say beside the model's results.
    pub fn label(self) -> &'static str {
        match self {
            GoLive::Demonstration => "demonstration model, not for clinical use",
            GoLive::NotValidatedHere => "not validated here: nothing is flagged",
            GoLive::Validated => "validated here",
            GoLive::Retired => "retired here: nothing is flagged",
        }
    }
}

/// A change's who, when and which audit row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Change {
    pub reader_id: String,
    pub reader_name: String,
    pub role: String,
    pub at: String,
    #[ts(type = "number")]
    pub seq: i64,
}

impl Change {
    fn of(r: &Record) -> Change {
        let reader = r.reader.clone().unwrap_or(Reader {
            id: String::new(),
            display_name: String::new(),
            role: String::new(),
        });
        Change {
            reader_id: reader.id,
            reader_name: reader.display_name,
            role: reader.role,
            at: r.recorded_at.clone(),
            seq: r.seq,
        }
    }
}

/// An accepted validation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Acceptance {
    pub report_sha256: String,
    pub by: Change,
}

/// A threshold set here for one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SiteThreshold {
    pub label: String,
    pub value: f32,
    pub previous: f32,
    pub report_sha256: String,
    pub by: Change,
}

/// This site's use of one model (by its weights' SHA-256).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct SiteState {
    pub model_sha256: String,
    /// The latest accepted validation.
    pub accepted: Option<Acceptance>,
    pub thresholds: Vec<SiteThreshold>,
    pub retired: Option<Change>,
}

const KINDS: [EventKind; 3] = [
    EventKind::ModelValidationAccepted,
    EventKind::ModelThresholdChanged,
    EventKind::ModelRetired,
];

impl SiteState {
    /// The state the log's events give, for the model with these weights.
    pub fn from_log(log: &AuditLog, model_sha256: &str) -> Result<SiteState, String> {
        let sha = model_sha256.to_ascii_lowercase();
        let mut state = SiteState {
            model_sha256: sha.clone(),
            ..SiteState::default()
        };
        let mut thresholds: BTreeMap<String, SiteThreshold> = BTreeMap::new();
        log.for_each_record(&KINDS, |r| {
            if r.model
                .as_ref()
                .is_none_or(|m| !m.sha256.eq_ignore_ascii_case(&sha))
            {
                return Ok(());
            }
            let detail = r.detail.clone().unwrap_or_default();
            let text = |k: &str| detail[k].as_str().unwrap_or_default().to_string();
            match r.kind {
                EventKind::ModelValidationAccepted => {
                    state.accepted = Some(Acceptance {
                        report_sha256: text("report_sha256"),
                        by: Change::of(&r),
                    });
                }
                EventKind::ModelThresholdChanged => {
                    let label = text("label");
                    let num = |k: &str| detail[k].as_f64().unwrap_or(f64::NAN) as f32;
                    thresholds.insert(
                        label.clone(),
                        SiteThreshold {
                            label,
                            value: num("new"),
                            previous: num("old"),
                            report_sha256: text("report_sha256"),
                            by: Change::of(&r),
                        },
                    );
                }
                EventKind::ModelRetired => state.retired = Some(Change::of(&r)),
                _ => {}
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        state.thresholds = thresholds.into_values().collect();
        Ok(state)
    }

    pub fn go_live(&self, clinical: bool) -> GoLive {
        match (clinical, &self.retired, &self.accepted) {
            (_, Some(_), _) => GoLive::Retired,
            (false, None, _) => GoLive::Demonstration,
            (true, None, None) => GoLive::NotValidatedHere,
            (true, None, Some(_)) => GoLive::Validated,
        }
    }

    /// What the inference layer applies.
    pub fn site_use(&self, clinical: bool) -> SiteUse {
        SiteUse {
            thresholds: self
                .thresholds
                .iter()
                .filter(|t| t.value.is_finite())
                .map(|t| (t.label.clone(), t.value))
                .collect(),
            may_flag: self.go_live(clinical).may_flag(),
        }
    }
}

/// The state in the log at `db` (none when there is no log there yet),
/// for tools that run a model outside the app (`overread infer`).
pub fn state_at(db: &Path, model_sha256: &str) -> Result<SiteState, String> {
    if !db.exists() {
        return Ok(SiteState {
            model_sha256: model_sha256.to_ascii_lowercase(),
            ..SiteState::default()
        });
    }
    let log = crate::audit::open(db).map_err(|e| e.to_string())?;
    SiteState::from_log(&log, model_sha256)
}

/// Reads a validation report and its SHA-256, and checks it is about the
/// model with `manifest`.
pub fn read_report(path: &Path, manifest: &Manifest) -> Result<(Report, String), String> {
    let at = |e: String| format!("{}: {e}", path.display());
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_REPORT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| at(e.to_string()))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(at(format!("larger than {} MB", MAX_REPORT_BYTES >> 20)));
    }
    let report: Report =
        serde_json::from_slice(&bytes).map_err(|e| at(format!("not a validation report ({e})")))?;
    if report.format != validation::FORMAT {
        return Err(at(format!(
            "format {:?} is not {}",
            report.format,
            validation::FORMAT
        )));
    }
    let sha = manifest.sha256.to_ascii_lowercase();
    if report.model.sha256 != sha {
        return Err(at(format!(
            "the report validates {} {} (weights {}), not {} {} (weights {sha})",
            report.model.name,
            report.model.version,
            report.model.sha256,
            manifest.name,
            manifest.version
        )));
    }
    Ok((report, validation::hex_sha256(&bytes)))
}

fn model_ref(m: &Manifest) -> ModelRef {
    ModelRef {
        name: m.name.clone(),
        version: m.version.clone(),
        sha256: m.sha256.to_ascii_lowercase(),
    }
}

fn may_accept(by: &Reader) -> Result<(), String> {
    if ACCEPTING_ROLES
        .iter()
        .any(|r| r.eq_ignore_ascii_case(by.role.trim()))
    {
        Ok(())
    } else {
        Err(format!(
            "{} is a {}; a validation is accepted, and thresholds set, by a radiologist, \
             a clinical lead or a clinical safety officer",
            by.display_name, by.role
        ))
    }
}

/// Who makes a change, where, in which log.
#[allow(missing_debug_implementations)] // the log has no Debug
pub struct By<'a> {
    pub log: &'a mut AuditLog,
    pub reader: Reader,
    pub workstation_id: &'a str,
}

impl By<'_> {
    fn record(
        &mut self,
        kind: EventKind,
        m: &Manifest,
        detail: serde_json::Value,
    ) -> Result<(), String> {
        self.log
            .record_event(&OtherEvent {
                kind,
                reader: Some(self.reader.clone()),
                workstation_id: self.workstation_id.to_string(),
                study: None,
                model: Some(model_ref(m)),
                execution_provider: None,
                detail,
            })
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// An acceptance checked and ready to record: the model, and the event's
/// detail (the report's SHA-256, its truth file's, each label's AUC).
#[derive(Debug)]
pub struct Pending {
    pub manifest: Manifest,
    pub model: ModelRef,
    pub detail: serde_json::Value,
}

/// Checks that `reader` may accept the report at `report` for the model in
/// `dir` (read and checksummed), without recording anything.
pub fn acceptance(dir: &Path, report: &Path, reader: &Reader) -> Result<Pending, String> {
    let (manifest, _) = overread_infer::read_model(dir).map_err(|e| e.to_string())?;
    may_accept(reader)?;
    let (r, sha) = read_report(report, &manifest)?;
    let labels: Vec<serde_json::Value> = r
        .labels
        .iter()
        .map(|l| serde_json::json!({"label": l.label, "cases": l.cases, "auc": l.auc, "auc_interval": l.auc_interval}))
        .collect();
    Ok(Pending {
        model: model_ref(&manifest),
        manifest,
        detail: serde_json::json!({
            "report_sha256": sha,
            "report_file": report.display().to_string(),
            "truth_sha256": r.truth.sha256,
            "generated_at": r.generated_at,
            "images": r.images,
            "labels": labels,
        }),
    })
}

/// The refusal of an acceptance when the model is retired here.
pub fn refuse_if_retired(state: &SiteState, m: &Manifest) -> Result<(), String> {
    match state.retired {
        Some(_) => Err(format!("{} {} is retired here", m.name, m.version)),
        None => Ok(()),
    }
}

/// Accepts the report at `path` for the model in `dir`: recorded, then the
/// overlay written.
pub fn accept(dir: &Path, report: &Path, mut by: By) -> Result<Applied, String> {
    let p = acceptance(dir, report, &by.reader)?;
    refuse_if_retired(&SiteState::from_log(by.log, &p.model.sha256)?, &p.manifest)?;
    by.record(EventKind::ModelValidationAccepted, &p.manifest, p.detail)?;
    finish(dir, &p.manifest, by.log)
}

/// Checks that `reader` may set this site's threshold for `label` to
/// `value`, resting on the report at `report`, without recording anything;
/// `state` gives the threshold it replaces.
pub fn threshold_change(
    dir: &Path,
    (label, value): (&str, f32),
    report: &Path,
    reader: &Reader,
    state: impl FnOnce(&str) -> Result<SiteState, String>,
) -> Result<Pending, String> {
    let (manifest, _) = overread_infer::read_model(dir).map_err(|e| e.to_string())?;
    may_accept(reader)?;
    if !manifest.output.scores.labels.iter().any(|l| l == label) {
        return Err(format!(
            "{label:?} is not one of the model's labels ({})",
            manifest.output.scores.labels.join(", ")
        ));
    }
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("threshold {value} is outside 0–1"));
    }
    let (_, sha) = read_report(report, &manifest)?;
    let old = state(&manifest.sha256)?
        .thresholds
        .iter()
        .find(|t| t.label == label)
        .map(|t| t.value)
        .or_else(|| manifest.thresholds.get(label).copied())
        .unwrap_or(0.5);
    Ok(Pending {
        model: model_ref(&manifest),
        manifest,
        detail: serde_json::json!({"label": label, "old": old, "new": value, "report_sha256": sha, "report_file": report.display().to_string()}),
    })
}

/// Sets this site's threshold for `label`, resting on the report at `path`.
pub fn set_threshold(
    dir: &Path,
    label: &str,
    value: f32,
    report: &Path,
    mut by: By,
) -> Result<Applied, String> {
    let log: &AuditLog = by.log;
    let p = threshold_change(dir, (label, value), report, &by.reader, |sha| {
        SiteState::from_log(log, sha)
    })?;
    by.record(EventKind::ModelThresholdChanged, &p.manifest, p.detail)?;
    finish(dir, &p.manifest, by.log)
}

/// Withdraws the model from use here.
pub fn retire(dir: &Path, reason: &str, mut by: By) -> Result<Applied, String> {
    let (manifest, _) = overread_infer::read_model(dir).map_err(|e| e.to_string())?;
    may_accept(&by.reader)?;
    if reason.trim().is_empty() {
        return Err("say why the model is retired (--reason)".into());
    }
    by.record(
        EventKind::ModelRetired,
        &manifest,
        serde_json::json!({"reason": reason}),
    )?;
    finish(dir, &manifest, by.log)
}

/// A recorded change: the state after it, and whether `site.toml` could
/// be written (a bundled model's folder may be read-only; the log holds
/// the change either way).
#[derive(Debug)]
pub struct Applied {
    pub state: SiteState,
    pub overlay: Result<std::path::PathBuf, String>,
}

pub(crate) fn finish(dir: &Path, manifest: &Manifest, log: &AuditLog) -> Result<Applied, String> {
    let state = SiteState::from_log(log, &manifest.sha256)?;
    let overlay = write_overlay(dir, manifest, &state).map(|()| dir.join(OVERLAY_FILE));
    Ok(Applied { state, overlay })
}

/// Writes `site.toml` beside the manifest (atomically): the state for
/// people to read.
pub fn write_overlay(dir: &Path, manifest: &Manifest, s: &SiteState) -> Result<(), String> {
    let mut t = format!(
        "# This site's use of {} {}, written by Overread from the audit log.\n\
         # The log is the record: editing this file changes nothing.\n\
         model_sha256 = \"{}\"\ngo_live = \"{}\"\n",
        manifest.name,
        manifest.version,
        s.model_sha256,
        serde_json::to_value(s.go_live(manifest.clinical))
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    );
    if let Some(a) = &s.accepted {
        t.push_str(&format!(
            "\n[accepted]\nreport_sha256 = \"{}\"\nby = {:?}\nrole = {:?}\nat = \"{}\"\naudit_seq = {}\n",
            a.report_sha256, a.by.reader_name, a.by.role, a.by.at, a.by.seq
        ));
    }
    for th in &s.thresholds {
        t.push_str(&format!(
            "\n[thresholds.{:?}]\nvalue = {}\nprevious = {}\nreport_sha256 = \"{}\"\nby = {:?}\nat = \"{}\"\naudit_seq = {}\n",
            th.label, th.value, th.previous, th.report_sha256, th.by.reader_name, th.by.at, th.by.seq
        ));
    }
    if let Some(r) = &s.retired {
        t.push_str(&format!(
            "\n[retired]\nby = {:?}\nat = \"{}\"\naudit_seq = {}\n",
            r.reader_name, r.at, r.seq
        ));
    }
    let io = |e: std::io::Error| format!("cannot write {}: {e}", dir.join(OVERLAY_FILE).display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, t.as_bytes()).map_err(io)?;
    tmp.persist(dir.join(OVERLAY_FILE))
        .map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests;
