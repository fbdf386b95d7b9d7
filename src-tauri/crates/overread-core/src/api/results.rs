//! The IPC types of a study's results: where its sign-off stands on the way
//! to the PACS, and the assessments already there.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where a study's signed-off results stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ResultsState {
    /// Not signed off.
    None,
    /// Signed off; the objects wait in the outbox.
    Queued,
    /// Stored on the PACS (or written to the results folder), audited.
    Sent,
    /// The last attempt failed (`message` says why); tried again later.
    Failed,
}

/// A study's results, as the worklist and the viewer show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ResultsView {
    pub state: ResultsState,
    pub message: Option<String>,
    /// Times this study was signed off here (a later one corrects the earlier).
    pub signed_off: u32,
}

/// One finding of an assessment read back from the PACS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EarlierFinding {
    pub label: String,
    /// accepted, rejected, modified, added or not_assessed.
    pub assessment: String,
    pub score: Option<f64>,
    pub flagged: Option<bool>,
    pub reason: Option<String>,
}

/// An assessment of this study already on the PACS (or in the results
/// folder): what a second reader sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EarlierAssessment {
    pub sop_instance_uid: String,
    /// The reader, as "FAMILY, Given".
    pub reader: String,
    /// YYYY-MM-DD HH:MM (UTC), or empty.
    pub verified_at: String,
    pub workstation: String,
    /// Where it was read from: a PACS source's name, or "local".
    pub source: String,
    /// Reports it corrects (SOP Instance UIDs).
    pub corrects: Vec<String>,
    pub findings: Vec<EarlierFinding>,
}
