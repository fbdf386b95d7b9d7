//! Errors as the UI receives them.

use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What went wrong, as a stable code the UI branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// An argument failed validation (the message says which and why).
    InvalidArgument,
    /// No study with that id on the worklist.
    UnknownStudy,
    /// The study's images are not here (still retrieving, or evicted).
    NotAvailable,
    /// The study lacks the UIDs an audit row needs.
    InvalidStudy,
    /// The AI reported no such finding on the study.
    UnknownFinding,
    /// The study has no AI result to show (not inferred, refused, or hidden).
    NoResult,
    /// The model produces no heatmap for that finding.
    NoHeatmap,
    /// Read-first mode: record the unaided impression first.
    ImpressionRequired,
    /// The image could not be read or decoded.
    Image,
    /// The audit log could not be written or read: nothing was recorded.
    Audit,
    /// The settings file could not be read or written.
    Settings,
    /// A study source could not be read.
    Source,
    /// The study's results could not be signed off, queued or read back.
    Results,
    /// The department store could not be reached or read.
    Store,
    /// Another reader is reading the study (a department store's claim):
    /// it is read-only here until taken over.
    Claimed,
    /// The configured model could not be read (missing, or its weights'
    /// checksum does not match its manifest).
    Model,
    /// A fault inside Overread (a bug).
    Internal,
}

/// An error with its code and a one-line message for the reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidArgument, message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<overread_audit::Error> for ApiError {
    fn from(e: overread_audit::Error) -> ApiError {
        let code = match e {
            overread_audit::Error::Invalid { .. } => ErrorCode::InvalidArgument,
            _ => ErrorCode::Audit,
        };
        ApiError::new(code, e.to_string())
    }
}
