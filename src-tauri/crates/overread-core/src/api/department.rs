//! The IPC types of the department store as the worklist's sources strip
//! and the audit screen show it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where this workstation's log stands in the department store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StoreState {
    /// Not reached yet in this session.
    Checking,
    /// The store holds every row of the local log.
    InSync,
    /// Rows are still to be sent (`behind`).
    Behind,
    /// Unreachable; the sync resumes by itself. Reading goes on locally.
    Offline,
    /// The store refused a row of this log, or holds refusals of another
    /// workstation's: see `alerts`.
    Alert,
}

/// A row the store refused: a workstation's log that no longer extends
/// what the store holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StoreAlert {
    pub workstation: String,
    pub seq: f64,
    pub reason: String,
    pub received_at: String,
}

/// The department store's state for this workstation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StoreStatus {
    pub state: StoreState,
    /// Why it is offline, or what was refused.
    pub message: Option<String>,
    /// Rows of the local log the store does not hold yet.
    pub behind: f64,
    /// When the store last answered (RFC 3339).
    pub last_answer: Option<String>,
    /// The newest refusals the store holds, every workstation's.
    pub alerts: Vec<StoreAlert>,
}
