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

/// Who is reading a study: a lease in the department store, renewed while
/// the study is open at that workstation. None when nobody is, or when no
/// store is configured or it cannot be reached (claims are unknown then,
/// and reading goes on locally).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ClaimView {
    /// The reader's name.
    pub reader: String,
    pub workstation: String,
    /// This workstation holds it; otherwise the study is read-only here
    /// until it is taken over.
    pub mine: bool,
    /// When it was claimed (RFC 3339, UTC).
    pub since: String,
    /// The reader finished it and moved on: it is read.
    pub done: bool,
}
