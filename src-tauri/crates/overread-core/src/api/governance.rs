//! The IPC types of the audit screen's governance view: the governance
//! report over this workstation's log or the department store, reduced to
//! what the screen shows (the full report is the saved HTML file).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Whose rows the view reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GovernanceScope {
    /// This workstation's own log.
    Workstation,
    /// Every workstation's, from the department store.
    Department,
}

/// A governance view of a period; the baseline is the window of the same
/// length just before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GovernanceRequest {
    pub scope: GovernanceScope,
    /// First day, YYYY-MM-DD (UTC).
    pub from: String,
    /// Last day, YYYY-MM-DD (UTC).
    pub to: String,
}

/// Reader agreement for one reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GovernanceGroup {
    pub key: String,
    pub accepted: f64,
    pub rejected: f64,
    pub added: f64,
    pub ppv: Option<f64>,
}

/// One finding of one model version: flags, agreement and drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GovernanceFinding {
    pub finding: String,
    pub images: f64,
    pub flagged: f64,
    pub flag_rate: Option<f64>,
    pub accepted: f64,
    pub rejected: f64,
    pub added: f64,
    pub ppv: Option<f64>,
    pub median_ms: Option<f64>,
    pub psi: Option<f64>,
    pub ks_p: Option<f64>,
    pub drift_alert: bool,
    /// Why drift was not judged (too few scores), when it was not.
    pub drift_note: Option<String>,
    /// Shares of ten equal score bins, period and baseline.
    pub period_shares: Vec<f64>,
    pub baseline_shares: Vec<f64>,
}

/// One model version (never pooled with another).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GovernanceModel {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub images: f64,
    pub decisions: f64,
    pub ppv: Option<f64>,
    pub findings: Vec<GovernanceFinding>,
    pub readers: Vec<GovernanceGroup>,
    /// Acquisition attributes whose mix shifted against the baseline.
    pub mix_alerts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GovernanceView {
    /// What was read: this workstation's log or the department store.
    pub scope: String,
    pub from: String,
    pub to: String,
    pub baseline_from: String,
    pub baseline_to: String,
    /// Drift alerts and rows the store refused, one line each.
    pub alerts: Vec<String>,
    pub models: Vec<GovernanceModel>,
}
