//! # overread-audit
//!
//! The decision audit log, and the only crate that knows rusqlite. Every AI
//! flag a reader confirms or dismisses, every missed finding added, and the
//! other audit events of DICOM PS3.15 A.5 become rows of one SQLite table
//! that is:
//!
//! - **append-only**: triggers abort any UPDATE or DELETE, and any insert
//!   whose sequence number is not the next one;
//! - **hash-chained**: `row_hash = SHA-256(prev_hash ‖ canonical row bytes)`,
//!   so [`AuditLog::verify`] names the first edited, deleted or reordered row;
//! - **durable**: WAL with synchronous=FULL (read back at open), a decision
//!   counts as recorded only after its COMMIT returns; quick_check at open,
//!   integrity_check before export; copies only through the backup API;
//! - **owner-only** on disk, with SQLCipher available behind the `sqlcipher`
//!   feature (the key comes from the caller, e.g. the OS keychain).
//!
//! Exports are RFC 4180 CSV, plain or de-identified (PS3.15 Annex E basic
//! profile), and are audit events themselves.

mod anchor;
mod error;
pub mod event;
mod export;
mod log;
mod record;
pub mod row;
mod schema;
mod stats;

pub use anchor::{Head, anchor_path};
pub use error::{Error, Result};
pub use event::{
    Decision, DecisionEvent, EventKind, ModelRef, OtherEvent, Reader, Region, StudyRef,
};
pub use export::{ExportOptions, ExportSummary, header as export_header, parse_date};
pub use log::{AuditLog, OpenOptions, Verification, now as now_rfc3339};
pub use record::{DecisionFields, Record};
pub use stats::{Agreement, DailyAgreement, Stats};
/// Calendar dates of export and statistics ranges.
pub use time::Date;
