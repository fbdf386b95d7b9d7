//! A study's results after sign-off: the reader's decisions turned into
//! per-finding assessments, the sign-off record the audit log keeps (enough
//! to make the objects again), and the outbox where the objects wait until
//! the PACS (or the results folder) has them.
//!
//! The outbox is a folder, `<audit dir>/outbox/<entry>/`, one entry per
//! sign-off: the objects as Part-10 files and `entry.json` (where they go,
//! which study and sign-off). An entry is written to a temporary folder and
//! renamed into place, so it is whole or absent; it is removed only after
//! the audit log has recorded that its objects were stored. It survives a
//! restart; sending it twice stores it once (the UIDs are derived).

use std::path::{Path, PathBuf};

use overread_dicom::Header;
use overread_dicom::results::{
    AiResult, Algorithm, Assessment, FindingResult, Heatmap, Rect, ResultObject, Signer,
    StudyResults,
};
use overread_infer::Inference;
use serde::{Deserialize, Serialize};

use crate::api::DecisionView;

/// What the audit log keeps of a sign-off (`results_signed_off` detail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignOff {
    pub signoff_key: String,
    pub predecessor_key: Option<String>,
    pub signed_date: String,
    pub signed_time: String,
    pub signer: Signer,
    pub algorithm: Option<Algorithm>,
    pub findings: Vec<FindingResult>,
    /// Labels of the heatmaps written as Parametric Maps.
    pub heatmaps: Vec<String>,
    pub pixel_spacing: Option<(f64, f64)>,
    pub software_version: String,
    pub workstation_id: String,
    /// "local" or the PACS source the objects go to.
    pub destination: String,
    pub objects: Vec<ObjectRef>,
}

/// One object made at sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: String,
    pub sop_class_uid: String,
    pub sop_instance_uid: String,
    pub series_instance_uid: String,
}

impl SignOff {
    /// The objects' ingredients, with the source image and its heatmaps.
    pub fn study_results(&self, source: Header, heatmaps: Vec<Heatmap>) -> StudyResults {
        StudyResults {
            source,
            workstation_id: self.workstation_id.clone(),
            signoff_key: self.signoff_key.clone(),
            predecessor_key: self.predecessor_key.clone(),
            algorithm: self.algorithm.clone(),
            signer: self.signer.clone(),
            signed_date: self.signed_date.clone(),
            signed_time: self.signed_time.clone(),
            institution: None,
            pixel_spacing: self.pixel_spacing,
            findings: self.findings.clone(),
            heatmaps,
            software_version: self.software_version.clone(),
        }
    }
}

/// The latest decision on each label, in the order they were made.
fn latest(decisions: &[DecisionView]) -> Vec<&DecisionView> {
    let mut out: Vec<&DecisionView> = Vec::new();
    for d in decisions {
        out.retain(|e| e.finding != d.finding);
        out.push(d);
    }
    out
}

fn rect(r: &crate::api::Rect) -> Rect {
    Rect {
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
    }
}

/// Each AI finding with the reader's latest call on it, then the findings
/// the reader added. Confirming with a region other than the AI's box is a
/// modification; an AI finding with no call is "not assessed".
pub fn assessments(inference: &Inference, decisions: &[DecisionView]) -> Vec<FindingResult> {
    let latest = latest(decisions);
    let mut out: Vec<FindingResult> = inference
        .findings
        .iter()
        .map(|f| {
            let ai_box = f.bbox.map(|b| Rect {
                x: b.x,
                y: b.y,
                width: b.width,
                height: b.height,
            });
            let decision = latest.iter().find(|d| d.finding == f.label);
            let reader_region = decision.and_then(|d| d.region.as_ref()).map(rect);
            let (assessment, region) = match decision.map(|d| d.decision.as_str()) {
                Some("confirm") => match reader_region {
                    Some(r) if Some(r) != ai_box => (Assessment::Modified, Some(r)),
                    _ => (Assessment::Accepted, ai_box),
                },
                Some("dismiss") => (Assessment::Rejected, ai_box),
                Some(_) => (Assessment::Added, reader_region.or(ai_box)),
                None => (Assessment::NotAssessed, ai_box),
            };
            FindingResult {
                label: f.label.clone(),
                ai: Some(AiResult {
                    score: f64::from(f.score),
                    threshold: f64::from(f.threshold),
                    flagged: f.flagged,
                }),
                region,
                assessment,
                reason: decision.and_then(|d| d.reason.clone()),
            }
        })
        .collect();
    for d in latest {
        if d.decision == "add_missed" && !inference.findings.iter().any(|f| f.label == d.finding) {
            out.push(FindingResult {
                label: d.finding.clone(),
                ai: None,
                region: d.region.as_ref().map(rect),
                assessment: Assessment::Added,
                reason: d.reason.clone(),
            });
        }
    }
    out
}

/// DICOM DA and TM (UTC) of an RFC 3339 time as the audit log writes it.
pub fn dicom_date_time(rfc3339: &str) -> (String, String) {
    let digits: String = rfc3339.chars().filter(char::is_ascii_digit).collect();
    let date = digits.get(..8).unwrap_or("19700101").to_string();
    let time = digits.get(8..14).unwrap_or("000000").to_string();
    (date, time)
}

/// An outbox entry's description (`entry.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub study_uid: String,
    pub signoff_key: String,
    /// "local" or a PACS source's name.
    pub destination: String,
    pub objects: Vec<ObjectRef>,
}

/// An entry waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub dir: PathBuf,
    pub entry: Entry,
    pub files: Vec<PathBuf>,
}

pub(crate) fn object_ref(o: &ResultObject) -> ObjectRef {
    ObjectRef {
        kind: o.kind.name(),
        sop_class_uid: o.sop_class_uid.to_string(),
        sop_instance_uid: o.sop_instance_uid.clone(),
        series_instance_uid: o.series_instance_uid.clone(),
    }
}

/// A name made of a key's safe characters (an entry's folder).
fn folder_name(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Puts a sign-off's objects in the outbox, whole or not at all.
pub fn enqueue(outbox: &Path, entry: &Entry, objects: &[ResultObject]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(outbox)?;
    let name = folder_name(&format!(
        "{}_{}_{}",
        entry.study_uid, entry.signoff_key, entry.destination
    ));
    let dir = outbox.join(&name);
    if dir.is_dir() {
        return Ok(dir);
    }
    let tmp = outbox.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let write = || -> std::io::Result<()> {
        for o in objects {
            let path = tmp.join(format!("{}.dcm", folder_name(&o.kind.name())));
            std::fs::write(&path, &o.bytes)?;
            std::fs::File::open(&path)?.sync_all()?;
        }
        let json = serde_json::to_vec_pretty(entry).map_err(std::io::Error::other)?;
        std::fs::write(tmp.join("entry.json"), json)?;
        std::fs::File::open(tmp.join("entry.json"))?.sync_all()?;
        std::fs::rename(&tmp, &dir)?;
        std::fs::File::open(outbox)?.sync_all()
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&tmp);
    })?;
    Ok(dir)
}

/// The entries waiting, oldest sign-off first; an entry that cannot be
/// read is returned as an error with its folder (it stays for a person).
pub fn pending(outbox: &Path) -> Vec<Result<Pending, (PathBuf, String)>> {
    let Ok(dir) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    let mut out: Vec<Result<Pending, (PathBuf, String)>> = dir
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .map(|dir| read_entry(&dir).map_err(|e| (dir, e)))
        .collect();
    // Oldest sign-off first.
    out.sort_by_key(|p| {
        let dir = match p {
            Ok(p) => &p.dir,
            Err((dir, _)) => dir,
        };
        std::fs::metadata(dir).and_then(|m| m.modified()).ok()
    });
    out
}

/// One outbox entry: its description and its files, in the entry's order.
pub fn read_entry(dir: &Path) -> Result<Pending, String> {
    let bytes = std::fs::read(dir.join("entry.json")).map_err(|e| e.to_string())?;
    let entry: Entry = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let files: Vec<PathBuf> = entry
        .objects
        .iter()
        .map(|o| dir.join(format!("{}.dcm", folder_name(&o.kind))))
        .collect();
    if let Some(missing) = files.iter().find(|f| !f.is_file()) {
        return Err(format!("{} is missing", missing.display()));
    }
    Ok(Pending {
        dir: dir.to_path_buf(),
        entry,
        files,
    })
}

/// Writes an entry's objects to a folder (a local study's results folder,
/// or `overread results write`): `<dir>/<study UID>/<kind>_<SOP UID>.dcm`.
pub fn write_to_folder(
    dir: &Path,
    study_uid: &str,
    files: &[(String, PathBuf)],
) -> std::io::Result<Vec<PathBuf>> {
    let study_dir = dir.join(folder_name(study_uid));
    std::fs::create_dir_all(&study_dir)?;
    let mut out = Vec::new();
    for (name, src) in files {
        let dest = study_dir.join(format!("{}.dcm", folder_name(name)));
        let tmp = study_dir.join(format!(".{}.tmp", folder_name(name)));
        std::fs::copy(src, &tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &dest)?;
        out.push(dest);
    }
    Ok(out)
}
