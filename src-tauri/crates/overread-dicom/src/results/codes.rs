//! Every coded concept the results objects use, in one place. The same table
//! is written out for other tools in `docs/results-codes.md`; the test
//! `the_code_table_in_docs_matches_the_code` keeps the two equal.
//!
//! Standard codes (DICOM "DCM", SNOMED CT "SCT", UCUM, RFC 5646) are used
//! wherever one exists; the rest are Overread's local codes, coding scheme
//! designator `99OVRD` (a private designator, PS3.16 §8.2, identified in
//! each object's Coding Scheme Identification Sequence).

use super::Code;

/// Overread's local coding scheme designator.
pub const LOCAL: &str = "99OVRD";
pub const LOCAL_NAME: &str = "Overread local codes";

const fn c(value: &'static str, scheme: &'static str, meaning: &'static str) -> Code {
    Code {
        value,
        scheme,
        meaning,
    }
}

// Document structure (TID 1500, TID 1410, TID 1501, TID 1002, TID 4019).
pub const IMAGING_MEASUREMENT_REPORT: Code = c("126000", "DCM", "Imaging Measurement Report");
pub const LANGUAGE: Code = c("121049", "DCM", "Language of Content Item and Descendants");
pub const ENGLISH_UK: Code = c("en-GB", "RFC5646", "English (United Kingdom)");
pub const OBSERVER_TYPE: Code = c("121005", "DCM", "Observer Type");
pub const PERSON: Code = c("121006", "DCM", "Person");
pub const DEVICE: Code = c("121007", "DCM", "Device");
pub const PERSON_OBSERVER_NAME: Code = c("121008", "DCM", "Person Observer Name");
pub const PERSON_ROLE_IN_ORGANIZATION: Code = c(
    "121010",
    "DCM",
    "Person Observer's Role in the Organization",
);
pub const PERSON_ROLE_IN_PROCEDURE: Code =
    c("121011", "DCM", "Person Observer's Role in this Procedure");
pub const PHYSICIAN: Code = c("121081", "DCM", "Physician");
pub const RADIOGRAPHER: Code = c("121084", "DCM", "Radiographer");
pub const VERIFYING: Code = c("121098", "DCM", "Verifying");
pub const DEVICE_OBSERVER_UID: Code = c("121012", "DCM", "Device Observer UID");
pub const DEVICE_OBSERVER_NAME: Code = c("121013", "DCM", "Device Observer Name");
pub const DEVICE_OBSERVER_MANUFACTURER: Code = c("121014", "DCM", "Device Observer Manufacturer");
pub const DEVICE_OBSERVER_MODEL_NAME: Code = c("121015", "DCM", "Device Observer Model Name");
pub const PROCEDURE_REPORTED: Code = c("121058", "DCM", "Procedure reported");
pub const IMAGING_PROCEDURE: Code = c("363679005", "SCT", "Imaging procedure");
pub const IMAGE_LIBRARY: Code = c("111028", "DCM", "Image Library");
pub const IMAGE_LIBRARY_GROUP: Code = c("126200", "DCM", "Image Library Group");
pub const IMAGING_MEASUREMENTS: Code = c("126010", "DCM", "Imaging Measurements");
pub const MEASUREMENT_GROUP: Code = c("125007", "DCM", "Measurement Group");
pub const TRACKING_IDENTIFIER: Code = c("112039", "DCM", "Tracking Identifier");
pub const TRACKING_UID: Code = c("112040", "DCM", "Tracking Unique Identifier");
pub const FINDING: Code = c("121071", "DCM", "Finding");
pub const IMAGE_REGION: Code = c("111030", "DCM", "Image Region");
pub const ALGORITHM_NAME: Code = c("111001", "DCM", "Algorithm Name");
pub const ALGORITHM_VERSION: Code = c("111003", "DCM", "Algorithm Version");
pub const ALGORITHM_PARAMETERS: Code = c("111002", "DCM", "Algorithm Parameters");
pub const SOURCE_OF_MEASUREMENT: Code = c("121112", "DCM", "Source of Measurement");
pub const NO_UNITS: Code = c("1", "UCUM", "no units");
pub const YES: Code = c("373066001", "SCT", "Yes");
pub const NO: Code = c("373067005", "SCT", "No");

// What the AI said and what the reader decided (local: no standard code).
pub const AI_SCORE: Code = c("AI-SCORE", LOCAL, "AI score (probability)");
pub const OPERATING_THRESHOLD: Code = c("AI-THRESHOLD", LOCAL, "AI operating threshold");
pub const FLAGGED_BY_AI: Code = c("AI-FLAGGED", LOCAL, "Flagged by AI");
pub const READER_ASSESSMENT: Code = c("READER-ASSESS", LOCAL, "Reader assessment");
pub const ACCEPTED: Code = c("ACCEPTED", LOCAL, "Accepted by reader");
pub const REJECTED: Code = c("REJECTED", LOCAL, "Rejected by reader");
pub const MODIFIED: Code = c("MODIFIED", LOCAL, "Modified by reader");
pub const ADDED: Code = c("ADDED", LOCAL, "Added by reader");
pub const NOT_ASSESSED: Code = c("NOT-ASSESSED", LOCAL, "Not assessed by reader");
pub const ASSESSMENT_REASON: Code = c("READER-REASON", LOCAL, "Reason for reader assessment");
pub const AI_HEATMAP: Code = c("AI-HEATMAP", LOCAL, "AI heatmap value");
pub const AI_HEATMAP_DERIVATION: Code = c("AI-HEATMAP-MAP", LOCAL, "Heatmap of an AI model");

// Parametric Map and presentation state structure.
pub const QUANTITY: Code = c("246205007", "SCT", "Quantity");
pub const SOURCE_IMAGE_FOR_PROCESSING: Code = c(
    "121322",
    "DCM",
    "Source image for image processing operation",
);

/// Chest radiograph findings: model labels (normalised: lower case, letters
/// and digits only) → SNOMED CT. A label not listed is coded in the local
/// scheme as `FINDING-<LABEL>`.
pub const FINDINGS: &[(&[&str], Code)] = &[
    (&["nodule"], c("27925004", "SCT", "Nodule")),
    (&["mass"], c("4147007", "SCT", "Mass")),
    (
        &["consolidation", "lungconsolidation"],
        c("95436008", "SCT", "Lung consolidation"),
    ),
    (&["pneumothorax"], c("36118008", "SCT", "Pneumothorax")),
    (
        &["effusion", "pleuraleffusion"],
        c("60046008", "SCT", "Pleural effusion"),
    ),
    (&["cardiomegaly"], c("8186001", "SCT", "Cardiomegaly")),
    (&["atelectasis"], c("46621007", "SCT", "Atelectasis")),
    (
        &["edema", "oedema", "pulmonaryedema", "pulmonaryoedema"],
        c("19242006", "SCT", "Pulmonary edema"),
    ),
    (
        &["emphysema", "pulmonaryemphysema"],
        c("87433001", "SCT", "Pulmonary emphysema"),
    ),
    (&["pneumonia"], c("233604007", "SCT", "Pneumonia")),
    (&["fracture"], c("125605004", "SCT", "Fracture of bone")),
];

/// The concept a model label stands for.
pub fn finding(label: &str) -> super::OwnedCode {
    let key: String = label
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if let Some((_, code)) = FINDINGS
        .iter()
        .find(|(names, _)| names.contains(&key.as_str()))
    {
        return code.owned();
    }
    let value: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '-'
            }
        })
        .collect();
    super::OwnedCode {
        // SH: at most 16 characters.
        value: format!("F-{value}").chars().take(16).collect(),
        scheme: LOCAL.into(),
        meaning: label.to_string(),
    }
}

/// Every code in the table above, for the documentation check.
pub fn all() -> Vec<Code> {
    let mut v = vec![
        IMAGING_MEASUREMENT_REPORT,
        LANGUAGE,
        ENGLISH_UK,
        OBSERVER_TYPE,
        PERSON,
        DEVICE,
        PERSON_OBSERVER_NAME,
        PERSON_ROLE_IN_ORGANIZATION,
        PERSON_ROLE_IN_PROCEDURE,
        PHYSICIAN,
        RADIOGRAPHER,
        VERIFYING,
        DEVICE_OBSERVER_UID,
        DEVICE_OBSERVER_NAME,
        DEVICE_OBSERVER_MANUFACTURER,
        DEVICE_OBSERVER_MODEL_NAME,
        PROCEDURE_REPORTED,
        IMAGING_PROCEDURE,
        IMAGE_LIBRARY,
        IMAGE_LIBRARY_GROUP,
        IMAGING_MEASUREMENTS,
        MEASUREMENT_GROUP,
        TRACKING_IDENTIFIER,
        TRACKING_UID,
        FINDING,
        IMAGE_REGION,
        ALGORITHM_NAME,
        ALGORITHM_VERSION,
        ALGORITHM_PARAMETERS,
        SOURCE_OF_MEASUREMENT,
        NO_UNITS,
        YES,
        NO,
        AI_SCORE,
        OPERATING_THRESHOLD,
        FLAGGED_BY_AI,
        READER_ASSESSMENT,
        ACCEPTED,
        REJECTED,
        MODIFIED,
        ADDED,
        NOT_ASSESSED,
        ASSESSMENT_REASON,
        AI_HEATMAP,
        AI_HEATMAP_DERIVATION,
        QUANTITY,
        SOURCE_IMAGE_FOR_PROCESSING,
    ];
    v.extend(FINDINGS.iter().map(|(_, c)| *c));
    v
}
