//! The reader's assessment of the AI's findings as standard DICOM objects
//! (IHE Radiology AI Results):
//!
//! | object | SOP class | what it holds |
//! |---|---|---|
//! | [`sr`] | Comprehensive 3D SR, TID 1500 | per finding: code, AI score, threshold, flag, region, the reader's assessment; findings the reader added; algorithm, observers, verification |
//! | [`pm`] | Parametric Map | each heatmap on the source image's grid, float values with a Real World Value Mapping |
//! | [`gsps`] | Grayscale Softcopy Presentation State | accepted, modified and added findings as boxes with short text, for any viewer |
//!
//! UIDs are derived (2.25 form, [`derived_uid`]) from the study, the sign-off
//! and the object, so sending the same sign-off twice stores one set of
//! objects, and a correction (a later sign-off) gets new ones that name the
//! earlier report in its Predecessor Documents Sequence. [`read`] reads an
//! SR back (ours, or any TID 1500 report shaped like it). The codes are in
//! [`codes`].

pub mod codes;
mod dataset;
pub mod gsps;
pub mod pm;
pub mod read;
pub mod sr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Header;
use crate::error::{Error, Result};

/// A coded concept as written (static table entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub value: &'static str,
    pub scheme: &'static str,
    pub meaning: &'static str,
}

impl Code {
    pub fn owned(self) -> OwnedCode {
        OwnedCode {
            value: self.value.into(),
            scheme: self.scheme.into(),
            meaning: self.meaning.into(),
        }
    }
}

/// A coded concept as read back or derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedCode {
    pub value: String,
    pub scheme: String,
    pub meaning: String,
}

impl OwnedCode {
    pub fn is(&self, code: Code) -> bool {
        self.value == code.value && self.scheme == code.scheme
    }
}

/// The reader's call on one finding, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assessment {
    /// The AI's finding, agreed with.
    Accepted,
    /// The AI's finding, disagreed with (stays in the report, marked so).
    Rejected,
    /// The AI's finding, agreed with in a region the reader changed.
    Modified,
    /// A finding the AI did not report, added by the reader.
    Added,
    /// An AI finding the reader made no call on (below the threshold).
    NotAssessed,
}

impl Assessment {
    pub fn code(self) -> Code {
        match self {
            Assessment::Accepted => codes::ACCEPTED,
            Assessment::Rejected => codes::REJECTED,
            Assessment::Modified => codes::MODIFIED,
            Assessment::Added => codes::ADDED,
            Assessment::NotAssessed => codes::NOT_ASSESSED,
        }
    }

    pub fn from_code(code: &OwnedCode) -> Option<Assessment> {
        [
            Assessment::Accepted,
            Assessment::Rejected,
            Assessment::Modified,
            Assessment::Added,
            Assessment::NotAssessed,
        ]
        .into_iter()
        .find(|a| code.is(a.code()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Assessment::Accepted => "accepted",
            Assessment::Rejected => "rejected",
            Assessment::Modified => "modified",
            Assessment::Added => "added",
            Assessment::NotAssessed => "not_assessed",
        }
    }
}

/// A rectangle in image pixel coordinates (PS3.3 C.18.6.1.2: the top left
/// corner of the top left pixel is 0,0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    /// The closed polyline of the box's corners, as (column, row) pairs.
    pub(crate) fn polyline(&self) -> Vec<f32> {
        let (x0, y0) = (self.x as f32, self.y as f32);
        let (x1, y1) = ((self.x + self.width) as f32, (self.y + self.height) as f32);
        vec![x0, y0, x1, y0, x1, y1, x0, y1, x0, y0]
    }

    /// The bounding box of a polyline of (column, row) pairs.
    pub(crate) fn bounding(points: &[f32]) -> Option<Rect> {
        if points.len() < 4
            || !points.len().is_multiple_of(2)
            || points.iter().any(|v| !v.is_finite())
        {
            return None;
        }
        let xs = points.iter().step_by(2).map(|&v| f64::from(v));
        let ys = points.iter().skip(1).step_by(2).map(|&v| f64::from(v));
        let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let (y0, y1) = ys.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        Some(Rect {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        })
    }
}

/// What the AI said about one finding.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AiResult {
    pub score: f64,
    pub threshold: f64,
    pub flagged: bool,
}

/// One finding in the report: the AI's (with `ai`) or the reader's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingResult {
    /// The model's label (or the reader's name for an added finding).
    pub label: String,
    pub ai: Option<AiResult>,
    /// The AI's box, or the reader's region when modified or added.
    pub region: Option<Rect>,
    pub assessment: Assessment,
    pub reason: Option<String>,
}

/// The model behind the AI findings (TID 4019).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Algorithm {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

/// The reader who signed the assessment off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    pub id: String,
    pub name: String,
    /// e.g. "radiologist", "reporting radiographer".
    pub role: String,
}

/// One heatmap on the source image's pixel grid (rows × columns values in 0–1).
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub label: String,
    pub values: Vec<f32>,
}

/// Everything the three objects are made from.
#[derive(Debug, Clone)]
pub struct StudyResults {
    /// The image the AI ran on and the reader assessed.
    pub source: Header,
    /// The workstation: the objects' Device Serial Number and their series.
    pub workstation_id: String,
    /// What makes this sign-off unique (e.g. its audit row): with the study
    /// it determines every UID.
    pub signoff_key: String,
    /// The earlier sign-off of the same study this one corrects.
    pub predecessor_key: Option<String>,
    pub algorithm: Option<Algorithm>,
    pub signer: Signer,
    /// DICOM DA and TM of the sign-off (`YYYYMMDD`, `HHMMSS`).
    pub signed_date: String,
    pub signed_time: String,
    pub institution: Option<String>,
    /// The source image's pixel spacing in mm (row, column), for the maps.
    pub pixel_spacing: Option<(f64, f64)>,
    pub findings: Vec<FindingResult>,
    pub heatmaps: Vec<Heatmap>,
    /// Overread's version, for Software Versions.
    pub software_version: String,
}

/// Which of the three objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObjectKind {
    Sr,
    ParametricMap { label: String },
    Gsps,
}

impl ObjectKind {
    /// A short name for file names and the UID derivation.
    pub fn name(&self) -> String {
        match self {
            ObjectKind::Sr => "sr".into(),
            ObjectKind::ParametricMap { label } => format!("pm-{label}"),
            ObjectKind::Gsps => "gsps".into(),
        }
    }
}

/// One written object: a Part-10 file's bytes and its identity.
#[derive(Debug, Clone)]
pub struct ResultObject {
    pub kind: ObjectKind,
    pub sop_class_uid: &'static str,
    pub sop_instance_uid: String,
    pub series_instance_uid: String,
    pub bytes: Vec<u8>,
}

/// The SR, one Parametric Map per heatmap, and the GSPS.
pub fn write_all(r: &StudyResults) -> Result<Vec<ResultObject>> {
    let src = Source::check(&r.source)?;
    let mut out = vec![sr::write(r, &src)?];
    for h in &r.heatmaps {
        out.push(pm::write(r, &src, h)?);
    }
    out.push(gsps::write(r, &src)?);
    Ok(out)
}

/// A UID derived from its parts: `2.25.` and the decimal of a name-based
/// UUID (version 8, RFC 9562) over SHA-256 of the parts.
pub fn derived_uid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80; // version 8
    b[8] = (b[8] & 0x3f) | 0x80; // RFC variant
    format!("2.25.{}", u128::from_be_bytes(b))
}

/// The source image's identity, checked once for all three objects.
pub(crate) struct Source<'a> {
    pub header: &'a Header,
    pub study_uid: &'a str,
    pub series_uid: &'a str,
    pub sop_uid: &'a str,
    pub sop_class_uid: &'a str,
    pub rows: u16,
    pub cols: u16,
}

impl<'a> Source<'a> {
    fn check(h: &'a Header) -> Result<Source<'a>> {
        let need = |v: &'a Option<String>, what: &str| {
            v.as_deref()
                .filter(|u| crate::net::is_valid_uid(u))
                .ok_or_else(|| Error::Results {
                    reason: format!("the source image has no valid {what}"),
                })
        };
        let size = |v: Option<u32>, what: &str| {
            v.and_then(|v| u16::try_from(v).ok())
                .filter(|v| *v > 0)
                .ok_or_else(|| Error::Results {
                    reason: format!("the source image has no {what}"),
                })
        };
        Ok(Source {
            header: h,
            study_uid: need(&h.study_instance_uid, "Study Instance UID")?,
            series_uid: need(&h.series_instance_uid, "Series Instance UID")?,
            sop_uid: need(&h.sop_instance_uid, "SOP Instance UID")?,
            sop_class_uid: need(&h.sop_class_uid, "SOP Class UID")?,
            rows: size(h.rows, "rows")?,
            cols: size(h.cols, "columns")?,
        })
    }
}

impl StudyResults {
    /// The UID of one of this sign-off's objects (or of anything else it names).
    pub fn uid(&self, what: &str) -> String {
        let study = self.source.study_instance_uid.as_deref().unwrap_or("");
        derived_uid(&["overread-results", study, &self.signoff_key, what])
    }

    /// The SR UID of the sign-off this one corrects.
    pub fn predecessor_sr_uid(&self) -> Option<String> {
        let study = self.source.study_instance_uid.as_deref().unwrap_or("");
        let key = self.predecessor_key.as_deref()?;
        Some(derived_uid(&["overread-results", study, key, "sr"]))
    }

    /// This workstation's series for one kind of object in this study.
    pub fn series_uid(&self, kind: &str) -> String {
        let study = self.source.study_instance_uid.as_deref().unwrap_or("");
        derived_uid(&["overread-series", study, &self.workstation_id, kind])
    }
}

#[cfg(test)]
mod tests;
