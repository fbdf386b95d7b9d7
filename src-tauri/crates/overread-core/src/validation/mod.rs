//! Local validation: a model run on this site's own studies against a
//! truth file (`UID,label,0|1`, the UID a study's or an instance's), and
//! per label the ROC curve and AUC with a bootstrap interval, sensitivity
//! and specificity with Wilson intervals at the manifest's threshold and at
//! the threshold that reaches a target sensitivity, and calibration. The
//! report is JSON (the record a site accepts, by its SHA-256) and one
//! self-contained HTML page.
//!
//! A study's score is the highest of its inferred images' scores; a truth
//! row with no inferred image is listed, never silently dropped.

mod html;
pub mod stats;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use overread_dicom::Limits;
use overread_infer::{Manifest, Model};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use html::render as html;
use stats::{Bootstrap, Calibration, Case, Confusion, Proportion, RocPoint};

use crate::infer::{Outcome, infer_file};

/// The report's format, in its `format` field.
pub const FORMAT: &str = "overread-validation/1";

/// The most rows a truth file may have.
pub const MAX_TRUTH_ROWS: usize = 1_000_000;

/// One row of the truth file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthRow {
    pub uid: String,
    pub label: String,
    pub positive: bool,
}

/// Parses a truth file: `UID,label,0|1` per line, an optional header line,
/// blank lines and `#` comments skipped. The error names the line.
pub fn parse_truth(text: &str) -> Result<Vec<TruthRow>, String> {
    let mut rows = Vec::new();
    let mut seen: HashMap<(String, String), bool> = HashMap::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split(',')
            .map(|f| f.trim().trim_matches('"').trim())
            .collect();
        let at = i + 1;
        let [uid, label, value] = fields[..] else {
            return Err(format!(
                "truth line {at}: expected 3 fields (UID,label,0 or 1), found {}",
                fields.len()
            ));
        };
        let is_uid = !uid.is_empty()
            && uid.len() <= 64
            && uid.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        let positive = match value {
            "1" => true,
            "0" => false,
            // A header line: the first, naming its columns.
            _ if rows.is_empty() && !header_seen && !is_uid => {
                header_seen = true;
                continue;
            }
            _ => {
                return Err(format!(
                    "truth line {at}: the value is {value:?}, not 0 or 1"
                ));
            }
        };
        if !is_uid {
            return Err(format!("truth line {at}: {uid:?} is not a DICOM UID"));
        }
        if label.is_empty() {
            return Err(format!("truth line {at}: the label is empty"));
        }
        if rows.len() == MAX_TRUTH_ROWS {
            return Err(format!(
                "the truth file has more than {MAX_TRUTH_ROWS} rows"
            ));
        }
        match seen.insert((uid.to_owned(), label.to_owned()), positive) {
            Some(before) if before != positive => {
                return Err(format!("truth line {at}: {uid} {label} is both 0 and 1"));
            }
            Some(_) => continue,
            None => {}
        }
        rows.push(TruthRow {
            uid: uid.into(),
            label: label.into(),
            positive,
        });
    }
    if rows.is_empty() {
        return Err("the truth file has no rows".into());
    }
    Ok(rows)
}

/// One inferred image's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub path: PathBuf,
    pub study_uid: Option<String>,
    pub sop_uid: Option<String>,
    pub scores: BTreeMap<String, f64>,
}

/// A file that gave no scores, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub path: String,
    pub why: String,
}

/// What the model said of a set of files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub scored: Vec<Scored>,
    /// Images refused (outside the intended use) or failed.
    pub problems: Vec<Problem>,
    /// Files that are not DICOM at all (notes, truth files): not images.
    pub not_dicom: usize,
}

/// Runs the model on every file; `progress` is called after each.
pub fn score_files(
    model: &mut Model,
    files: &[PathBuf],
    limits: &Limits,
    progress: &dyn Fn(),
) -> Scores {
    let mut out = Scores::default();
    for path in files {
        let problem = |why: String| Problem {
            path: path.display().to_string(),
            why,
        };
        match infer_file(model, path, None, limits, crate::deadline::DECODE_DEADLINE) {
            Ok(Outcome::Inferred {
                study_uid,
                sop_uid,
                inference,
                ..
            }) => out.scored.push(Scored {
                path: path.clone(),
                study_uid,
                sop_uid,
                scores: inference
                    .findings
                    .iter()
                    .map(|f| (f.label.clone(), f64::from(f.score)))
                    .collect(),
            }),
            Ok(Outcome::Refused { reason }) => {
                out.problems.push(problem(format!("refused: {reason}")));
            }
            Err(e) if e.code() == "not_dicom" => out.not_dicom += 1,
            Err(e) => out.problems.push(problem(e.to_string())),
        }
        progress();
    }
    out
}

/// What a validation is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// The sensitivity the site's operating point must reach (0–1).
    pub target_sensitivity: f64,
    pub bootstrap: Bootstrap,
    /// Bins of the reliability diagram.
    pub bins: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            target_sensitivity: 0.9,
            bootstrap: Bootstrap::default(),
            bins: 10,
        }
    }
}

/// The model a report is about; `sha256` is the weights' checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelId {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub clinical: bool,
}

impl ModelId {
    pub fn of(m: &Manifest) -> ModelId {
        ModelId {
            name: m.name.clone(),
            version: m.version.clone(),
            sha256: m.sha256.to_ascii_lowercase(),
            clinical: m.clinical,
        }
    }
}

/// The truth file a report rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthSource {
    pub file: String,
    pub sha256: String,
    pub rows: usize,
}

impl TruthSource {
    pub fn of(file: &Path, bytes: &[u8], rows: usize) -> TruthSource {
        TruthSource {
            file: file.display().to_string(),
            sha256: hex_sha256(bytes),
            rows,
        }
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The rates at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Operating {
    pub threshold: f64,
    pub confusion: Confusion,
    pub sensitivity: Option<Proportion>,
    pub specificity: Option<Proportion>,
    pub ppv: Option<Proportion>,
    pub npv: Option<Proportion>,
}

impl Operating {
    pub fn at(cases: &[Case], threshold: f64) -> Operating {
        let c = Confusion::at(cases, threshold);
        Operating {
            threshold,
            confusion: c,
            sensitivity: c.sensitivity(),
            specificity: c.specificity(),
            ppv: c.ppv(),
            npv: c.npv(),
        }
    }
}

/// Everything measured for one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelReport {
    pub label: String,
    pub cases: usize,
    pub positives: usize,
    pub negatives: usize,
    pub auc: Option<f64>,
    /// The AUC's bootstrap 95 % interval.
    pub auc_interval: Option<(f64, f64)>,
    pub roc: Vec<RocPoint>,
    /// At the manifest's threshold.
    pub manifest: Operating,
    /// At the highest threshold reaching the target sensitivity.
    pub target: Option<Operating>,
    pub calibration: Option<Calibration>,
    /// Why there is no calibration, when there is none.
    pub calibration_note: Option<String>,
}

/// One (image or study, label) pair with its truth and score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRow {
    pub uid: String,
    pub label: String,
    pub truth: bool,
    pub score: f64,
}

/// A truth row no inferred image answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unmatched {
    pub uid: String,
    pub label: String,
}

/// The whole validation: the JSON a site accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    pub generated_at: String,
    pub generated_by: String,
    pub workstation: String,
    pub model: ModelId,
    pub truth: TruthSource,
    pub options: Options,
    /// Images given; inferred; refused or failed (in `problems`).
    pub images: usize,
    /// Files given that are not DICOM (not counted as images).
    pub not_dicom: usize,
    pub inferred: usize,
    pub labels: Vec<LabelReport>,
    pub cases: Vec<CaseRow>,
    pub unmatched: Vec<Unmatched>,
    pub problems: Vec<Problem>,
}

/// Joins the truth to the scores and measures each label.
pub fn report(
    manifest: &Manifest,
    truth: (&[TruthRow], TruthSource),
    scores: Scores,
    options: Options,
) -> Result<Report, String> {
    let Scores {
        scored,
        problems,
        not_dicom,
    } = scores;
    let (rows, source) = truth;
    let labels = &manifest.output.scores.labels;
    if let Some(r) = rows.iter().find(|r| !labels.contains(&r.label)) {
        return Err(format!(
            "truth label {:?} is not one of the model's labels ({})",
            r.label,
            labels.join(", ")
        ));
    }
    if !(options.target_sensitivity > 0.0 && options.target_sensitivity <= 1.0) {
        return Err("the target sensitivity must be above 0 and at most 1".into());
    }
    // A study's score is its highest image's; an instance's its own.
    let mut by_uid: HashMap<&str, &BTreeMap<String, f64>> = HashMap::new();
    let mut by_study: HashMap<&str, BTreeMap<String, f64>> = HashMap::new();
    for s in &scored {
        if let Some(sop) = &s.sop_uid {
            by_uid.insert(sop, &s.scores);
        }
        if let Some(study) = &s.study_uid {
            let best = by_study.entry(study).or_default();
            for (label, &score) in &s.scores {
                let e = best.entry(label.clone()).or_insert(score);
                *e = e.max(score);
            }
        }
    }
    let (mut cases, mut unmatched) = (Vec::new(), Vec::new());
    for r in rows {
        let score = by_uid
            .get(r.uid.as_str())
            .copied()
            .or_else(|| by_study.get(r.uid.as_str()))
            .and_then(|s| s.get(&r.label));
        match score {
            Some(&score) => cases.push(CaseRow {
                uid: r.uid.clone(),
                label: r.label.clone(),
                truth: r.positive,
                score,
            }),
            None => unmatched.push(Unmatched {
                uid: r.uid.clone(),
                label: r.label.clone(),
            }),
        }
    }
    let per_label = labels
        .iter()
        .filter(|l| rows.iter().any(|r| &r.label == *l))
        .map(|label| {
            let of: Vec<Case> = cases
                .iter()
                .filter(|c| &c.label == label)
                .map(|c| Case {
                    score: c.score,
                    positive: c.truth,
                })
                .collect();
            let threshold = manifest.thresholds.get(label).copied().unwrap_or(0.5);
            measure(label, &of, f64::from(threshold), options)
        })
        .collect();
    Ok(Report {
        format: FORMAT.into(),
        generated_at: overread_audit::now_rfc3339(),
        generated_by: format!("Overread {}", crate::APP_VERSION),
        workstation: crate::audit::workstation_id(),
        model: ModelId::of(manifest),
        truth: source,
        options,
        images: scored.len() + problems.len(),
        not_dicom,
        inferred: scored.len(),
        labels: per_label,
        cases,
        unmatched,
        problems,
    })
}

/// One label's statistics.
pub fn measure(label: &str, cases: &[Case], threshold: f64, o: Options) -> LabelReport {
    let roc = stats::roc(cases);
    let positives = cases.iter().filter(|c| c.positive).count();
    let (calibration, calibration_note) = match stats::calibration(cases, o.bins) {
        Ok(c) => (Some(c), None),
        Err(why) => (None, Some(why)),
    };
    LabelReport {
        label: label.into(),
        cases: cases.len(),
        positives,
        negatives: cases.len() - positives,
        auc: (!roc.is_empty()).then(|| stats::area(&roc)),
        auc_interval: stats::auc_interval(cases, o.bootstrap),
        manifest: Operating::at(cases, threshold),
        target: stats::threshold_for_sensitivity(&roc, o.target_sensitivity)
            .map(|t| Operating::at(cases, t)),
        roc,
        calibration,
        calibration_note,
    }
}
