//! The IPC type of a study's priors: the patient's earlier chest
//! radiographs on the worklist.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{AiStatus, Availability, StudyId};

/// One prior of the open study, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PriorView {
    pub id: StudyId,
    /// YYYY-MM-DD.
    pub study_date: String,
    pub accession: String,
    pub availability: Availability,
    pub ai: AiStatus,
}

/// The open study's priors as they stand (the PACS's among them once
/// asked), and each finding's comparison with the newest prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StudyPriors {
    pub priors: Vec<PriorView>,
    /// The findings panel's comparison line of each finding shown.
    pub lines: Vec<PriorLine>,
    /// Sources that could not be asked or retrieved from, one line each.
    pub problems: Vec<String>,
}

/// One finding's comparison with the newest prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PriorLine {
    pub finding: String,
    /// "nodule 0.82 now; 0.79 on 2025-03-01, dismissed as stable".
    pub line: String,
}
