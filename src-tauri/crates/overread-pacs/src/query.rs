//! Study queries, shared by QIDO-RS and C-FIND, and what they return.

use serde::{Deserialize, Serialize};

/// Standard study-level matching keys (PS3.4 C.6.2.1, PS3.18 §8.3.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyQuery {
    pub patient_id: Option<String>,
    /// Wildcards `*` and `?` allowed.
    pub patient_name: Option<String>,
    /// `YYYYMMDD`, `YYYYMMDD-YYYYMMDD`, `-YYYYMMDD` or `YYYYMMDD-`.
    pub study_date: Option<String>,
    pub accession_number: Option<String>,
    pub study_uid: Option<String>,
    /// e.g. CR, DX.
    pub modalities: Vec<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Extra attributes to return (keywords or tags), QIDO includefield.
    pub include_fields: Vec<String>,
}

/// One study a PACS returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StudyMatch {
    pub study_uid: String,
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    pub study_date: Option<String>,
    pub accession_number: Option<String>,
    pub description: Option<String>,
    pub modalities: Vec<String>,
    pub series: Option<u32>,
    pub instances: Option<u32>,
}

/// One series of a study, as listed by the PACS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeriesMatch {
    pub series_uid: String,
    pub modality: Option<String>,
    pub series_number: Option<String>,
    pub description: Option<String>,
    pub instances: Option<u32>,
}

/// What a STOW-RS store did (PS3.18 §10.5.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoreOutcome {
    pub http_status: u16,
    /// SOP Instance UIDs the server stored.
    pub stored: Vec<String>,
    /// SOP Instance UIDs the server refused.
    pub failed: Vec<String>,
}

/// One instance of a study, as listed by the PACS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceRef {
    pub study_uid: String,
    pub series_uid: String,
    pub sop_uid: String,
    pub sop_class_uid: Option<String>,
}

/// Objects in a study that are not images to read: structured reports,
/// presentation states, parametric maps, segmentations. A study's retrieve
/// for triage (and its completeness) leaves them out; results are read back
/// on their own ([`crate::Client::list_results`]).
pub fn is_non_image(sop_class: &str) -> bool {
    sop_class.starts_with("1.2.840.10008.5.1.4.1.1.88.")
        || sop_class.starts_with("1.2.840.10008.5.1.4.1.1.11.")
        || sop_class == "1.2.840.10008.5.1.4.1.1.30"
        || sop_class == "1.2.840.10008.5.1.4.1.1.66.4"
}

/// Structured reports (the results objects read back).
pub fn is_structured_report(sop_class: &str) -> bool {
    sop_class.starts_with("1.2.840.10008.5.1.4.1.1.88.")
}

pub(crate) const STUDY_UID: u32 = 0x0020_000D;
pub(crate) const SERIES_UID: u32 = 0x0020_000E;
pub(crate) const SOP_UID: u32 = 0x0008_0018;
pub(crate) const SOP_CLASS_UID: u32 = 0x0008_0016;
pub(crate) const PATIENT_ID: u32 = 0x0010_0020;
pub(crate) const PATIENT_NAME: u32 = 0x0010_0010;
pub(crate) const STUDY_DATE: u32 = 0x0008_0020;
pub(crate) const ACCESSION: u32 = 0x0008_0050;
pub(crate) const DESCRIPTION: u32 = 0x0008_1030;
pub(crate) const MODALITIES: u32 = 0x0008_0061;
pub(crate) const MODALITY: u32 = 0x0008_0060;
pub(crate) const SERIES_NUMBER: u32 = 0x0020_0011;
pub(crate) const SERIES_DESCRIPTION: u32 = 0x0008_103E;
pub(crate) const N_SERIES_INSTANCES: u32 = 0x0020_1209;
pub(crate) const REFERENCED_SOP_SEQUENCE: u32 = 0x0008_1199;
pub(crate) const FAILED_SOP_SEQUENCE: u32 = 0x0008_1198;
pub(crate) const REFERENCED_SOP_INSTANCE: u32 = 0x0008_1155;
pub(crate) const N_SERIES: u32 = 0x0020_1206;
pub(crate) const N_INSTANCES: u32 = 0x0020_1208;

/// Today as `YYYYMMDD` (UTC), for "today's studies".
pub fn today() -> String {
    date_days_ago(0)
}

/// The UTC date `ago` days before today, as a DICOM DA (YYYYMMDD).
pub fn date_days_ago(ago: u32) -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64
        - i64::from(ago);
    // Civil from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}")
}

/// Checks a DICOM date or date range.
pub fn valid_date_range(v: &str) -> bool {
    let date = |s: &str| s.is_empty() || (s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()));
    match v.split_once('-') {
        Some((a, b)) => date(a) && date(b) && !(a.is_empty() && b.is_empty()),
        None => !v.is_empty() && date(v),
    }
}
