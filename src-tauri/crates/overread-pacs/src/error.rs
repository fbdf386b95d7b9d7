//! Errors of the PACS client. Every message is one line, names the source
//! (the configured name, never a patient) and says what failed.

use snafu::Snafu;
use std::path::PathBuf;

#[derive(Debug, Snafu)]
#[snafu(visibility(pub(crate)))]
#[non_exhaustive]
pub enum Error {
    #[snafu(display("cannot read PACS configuration {}: {source}", path.display()))]
    ReadConfig {
        path: PathBuf,
        source: std::io::Error,
    },

    #[snafu(display("invalid PACS configuration: {reason}"))]
    Config { reason: String },

    #[snafu(display("no PACS source named {name:?} in the configuration"))]
    UnknownSource { name: String },

    #[snafu(display("{source_name}: cannot connect: {message}"))]
    Unreachable {
        source_name: String,
        message: String,
    },

    #[snafu(display("{source_name}: the connection was lost mid-transfer: {message}"))]
    ConnectionLost {
        source_name: String,
        message: String,
    },

    #[snafu(display("{source_name}: timed out {phase}"))]
    Timeout {
        source_name: String,
        phase: &'static str,
    },

    #[snafu(display("{source_name}: the server answered HTTP {status}{}", retry_hint(*retry_after_s)))]
    Http {
        source_name: String,
        status: u16,
        retry_after_s: Option<u64>,
    },

    #[snafu(display("{source_name}: the PACS refused the association: {reason}"))]
    Rejected { source_name: String, reason: String },

    #[snafu(display("{source_name}: {operation} failed with status 0x{status:04X}: {meaning}"))]
    Dimse {
        source_name: String,
        operation: &'static str,
        status: u16,
        meaning: String,
    },

    #[snafu(display("{source_name}: protocol error: {message}"))]
    Protocol {
        source_name: String,
        message: String,
    },

    #[snafu(display("{source_name}: {what} exceeds the limit of {limit} bytes"))]
    TooLarge {
        source_name: String,
        what: &'static str,
        limit: u64,
    },

    #[snafu(display("cache {}: {message}", path.display()))]
    Cache { path: PathBuf, message: String },

    /// A study past the cache's per-study limits (parts or bytes).
    #[snafu(display("{source_name}: study {study_uid}: {message}"))]
    StudyLimit {
        source_name: String,
        study_uid: String,
        message: String,
    },

    /// The disk would fall below the free-space reserve.
    #[snafu(display(
        "retrieval stopped: {} MB free on the disk holding {}, below the {} MB kept free so that decisions can always be recorded",
        available / 1_000_000, path.display(), reserve / 1_000_000
    ))]
    DiskFull {
        path: PathBuf,
        available: u64,
        reserve: u64,
    },

    #[snafu(display("cancelled"))]
    Cancelled,
}

fn retry_hint(retry_after: Option<u64>) -> String {
    match retry_after {
        Some(s) => format!(" (retry after {s} s)"),
        None => String::new(),
    }
}

impl Error {
    /// A stable code a UI or script can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ReadConfig { .. } | Error::Config { .. } | Error::UnknownSource { .. } => {
                "config"
            }
            Error::Unreachable { .. } => "unreachable",
            Error::ConnectionLost { .. } => "connection_lost",
            Error::Timeout { .. } => "timeout",
            Error::Http { .. } => "http_status",
            Error::Rejected { .. } => "rejected",
            Error::Dimse { .. } => "dimse_status",
            Error::Protocol { .. } => "protocol",
            Error::TooLarge { .. } => "too_large",
            Error::Cache { .. } => "cache",
            Error::StudyLimit { .. } => "study_limit",
            Error::DiskFull { .. } => "disk_full",
            Error::Cancelled => "cancelled",
        }
    }

    /// Whether repeating an idempotent request may succeed: connection
    /// failures, time-outs and 408/429/502/503/504.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unreachable { .. } | Error::ConnectionLost { .. } | Error::Timeout { .. } => {
                true
            }
            Error::Http { status, .. } => crate::retry::retryable_status(*status),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn cache_err(path: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::Cache {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
