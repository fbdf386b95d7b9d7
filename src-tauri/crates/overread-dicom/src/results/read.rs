//! Reading an assessment back from a TID 1500 SR: who verified it and when,
//! and each finding with the AI's score, threshold and flag, its region and
//! the reader's assessment. What a second reader is shown as "earlier
//! assessments". Bytes from a PACS go through the same checked parse as any
//! file.

use dicom_dictionary_std::tags;
use serde::Serialize;

use super::{AiResult, Algorithm, Assessment, OwnedCode, Rect, codes};
use crate::attrs::{self, Object};
use crate::error::{Error, Result};
use crate::{Limits, from_bytes};

/// An SR's assessment as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadReport {
    pub sop_instance_uid: String,
    pub study_instance_uid: String,
    /// The person observer (the reader), as a DICOM person name.
    pub reader: Option<String>,
    pub verified: bool,
    /// Verification Date Time (DT) of the last verifying observer.
    pub verified_at: Option<String>,
    /// The workstation that wrote it (Device Serial Number).
    pub workstation: Option<String>,
    pub algorithm: Option<Algorithm>,
    /// SOP Instance UIDs of the reports this one corrects.
    pub predecessors: Vec<String>,
    pub findings: Vec<ReadFinding>,
}

/// One measurement group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadFinding {
    pub label: String,
    pub finding: Option<OwnedCode>,
    pub ai: Option<AiResult>,
    pub region: Option<Rect>,
    pub assessment: Option<Assessment>,
    pub reason: Option<String>,
    /// The image the region or score refers to.
    pub image: Option<String>,
}

/// Reads a Part-10 SR's assessment.
pub fn read_report(bytes: Vec<u8>, limits: &Limits) -> Result<ReadReport> {
    let instance = from_bytes(bytes, limits)?;
    let obj = instance.object();
    let class = attrs::string(obj, tags::SOP_CLASS_UID).unwrap_or_default();
    if !class.starts_with("1.2.840.10008.5.1.4.1.1.88.") {
        return Err(Error::InvalidAttribute {
            attribute: "SOP Class UID",
            reason: format!("{class} is not a structured report"),
        });
    }
    let title = concept(obj);
    if !title.is_some_and(|c| c.is(codes::IMAGING_MEASUREMENT_REPORT)) {
        return Err(Error::InvalidAttribute {
            attribute: "document title",
            reason: "not a TID 1500 Imaging Measurement Report".into(),
        });
    }
    let mut report = ReadReport {
        sop_instance_uid: attrs::string(obj, tags::SOP_INSTANCE_UID).unwrap_or_default(),
        study_instance_uid: attrs::string(obj, tags::STUDY_INSTANCE_UID).unwrap_or_default(),
        reader: None,
        verified: attrs::string(obj, tags::VERIFICATION_FLAG).as_deref() == Some("VERIFIED"),
        verified_at: attrs::items(obj, tags::VERIFYING_OBSERVER_SEQUENCE)
            .last()
            .and_then(|v| attrs::string(v, tags::VERIFICATION_DATE_TIME)),
        workstation: attrs::string(obj, tags::DEVICE_SERIAL_NUMBER),
        algorithm: None,
        predecessors: attrs::items(obj, tags::PREDECESSOR_DOCUMENTS_SEQUENCE)
            .iter()
            .flat_map(|study| attrs::items(study, tags::REFERENCED_SERIES_SEQUENCE))
            .flat_map(|series| attrs::items(series, tags::REFERENCED_SOP_SEQUENCE))
            .filter_map(|sop| attrs::string(sop, tags::REFERENCED_SOP_INSTANCE_UID))
            .collect(),
        findings: Vec::new(),
    };
    for item in children(obj) {
        let name = concept(item);
        let is = |c| name.as_ref().is_some_and(|n| n.is(c));
        if is(codes::PERSON_OBSERVER_NAME) {
            report.reader = attrs::string(item, tags::PERSON_NAME);
        } else if is(codes::IMAGING_MEASUREMENTS) {
            for group in children(item) {
                if concept(group).is_some_and(|c| c.is(codes::MEASUREMENT_GROUP)) {
                    let (finding, algorithm) = read_group(group);
                    if report.algorithm.is_none() {
                        report.algorithm = algorithm;
                    }
                    report.findings.push(finding);
                }
            }
        }
    }
    Ok(report)
}

fn children(item: &Object) -> &[Object] {
    attrs::items(item, tags::CONTENT_SEQUENCE)
}

fn code_in(item: &Object, tag: dicom_core::Tag) -> Option<OwnedCode> {
    let c = attrs::items(item, tag).first()?;
    Some(OwnedCode {
        value: attrs::string(c, tags::CODE_VALUE)
            .or_else(|| attrs::string(c, tags::LONG_CODE_VALUE))
            .or_else(|| attrs::string(c, tags::URN_CODE_VALUE))?,
        scheme: attrs::string(c, tags::CODING_SCHEME_DESIGNATOR).unwrap_or_default(),
        meaning: attrs::string(c, tags::CODE_MEANING).unwrap_or_default(),
    })
}

fn concept(item: &Object) -> Option<OwnedCode> {
    code_in(item, tags::CONCEPT_NAME_CODE_SEQUENCE)
}

fn number(item: &Object) -> Option<f64> {
    let m = attrs::items(item, tags::MEASURED_VALUE_SEQUENCE).first()?;
    attrs::float(m, tags::FLOATING_POINT_VALUE).or_else(|| attrs::float(m, tags::NUMERIC_VALUE))
}

fn image_of(item: &Object) -> Option<String> {
    children(item)
        .iter()
        .filter(|c| attrs::string(c, tags::VALUE_TYPE).as_deref() == Some("IMAGE"))
        .flat_map(|c| attrs::items(c, tags::REFERENCED_SOP_SEQUENCE))
        .find_map(|s| attrs::string(s, tags::REFERENCED_SOP_INSTANCE_UID))
}

fn read_group(group: &Object) -> (ReadFinding, Option<Algorithm>) {
    let mut f = ReadFinding {
        label: String::new(),
        finding: None,
        ai: None,
        region: None,
        assessment: None,
        reason: None,
        image: None,
    };
    let (mut score, mut threshold, mut flagged) = (None, None, None);
    let (mut name, mut version, mut sha256) = (None, None, None);
    for item in children(group) {
        let Some(c) = concept(item) else { continue };
        let text = || attrs::string(item, tags::TEXT_VALUE);
        if c.is(codes::TRACKING_IDENTIFIER) {
            let t = text().unwrap_or_default();
            f.label = t.trim_end_matches(" (added by reader)").to_string();
        } else if c.is(codes::FINDING) {
            f.finding = code_in(item, tags::CONCEPT_CODE_SEQUENCE);
        } else if c.is(codes::IMAGE_REGION) {
            let points: Vec<f32> = attrs::floats(item, tags::GRAPHIC_DATA)
                .into_iter()
                .map(|v| v as f32)
                .collect();
            f.region = Rect::bounding(&points);
            f.image = f.image.take().or_else(|| image_of(item));
        } else if c.is(codes::AI_SCORE) {
            score = number(item);
            f.image = f.image.take().or_else(|| image_of(item));
        } else if c.is(codes::OPERATING_THRESHOLD) {
            threshold = number(item);
        } else if c.is(codes::FLAGGED_BY_AI) {
            flagged = code_in(item, tags::CONCEPT_CODE_SEQUENCE).map(|v| v.is(codes::YES));
        } else if c.is(codes::READER_ASSESSMENT) {
            f.assessment =
                code_in(item, tags::CONCEPT_CODE_SEQUENCE).and_then(|v| Assessment::from_code(&v));
        } else if c.is(codes::ASSESSMENT_REASON) {
            f.reason = text();
        } else if c.is(codes::ALGORITHM_NAME) {
            name = text();
        } else if c.is(codes::ALGORITHM_VERSION) {
            version = text();
        } else if c.is(codes::ALGORITHM_PARAMETERS) {
            sha256 = text().and_then(|t| t.strip_prefix("sha256=").map(str::to_string));
        }
    }
    if let (Some(score), Some(threshold), Some(flagged)) = (score, threshold, flagged) {
        f.ai = Some(AiResult {
            score,
            threshold,
            flagged,
        });
    }
    if f.label.is_empty() {
        f.label = f
            .finding
            .as_ref()
            .map(|c| c.meaning.clone())
            .unwrap_or_default();
    }
    let algorithm = match (name, version) {
        (Some(name), Some(version)) => Some(Algorithm {
            name,
            version,
            sha256: sha256.unwrap_or_default(),
        }),
        _ => None,
    };
    (f, algorithm)
}
