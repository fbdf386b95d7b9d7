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
