use std::path::PathBuf;

use snafu::Snafu;

/// Errors of the audit log. Messages are one line.
#[derive(Debug, Snafu)]
#[snafu(visibility(pub(crate)))]
#[non_exhaustive]
pub enum Error {
    #[snafu(display("audit log {}: {message}", path.display()))]
    Database { path: PathBuf, message: String },

    #[snafu(display("audit log {}: {pragma} is {actual}, {expected} required", path.display()))]
    Pragma {
        path: PathBuf,
        pragma: &'static str,
        actual: String,
        expected: &'static str,
    },

    #[snafu(display("audit log {} failed its integrity check: {detail}", path.display()))]
    Corrupt { path: PathBuf, detail: String },

    #[snafu(display("invalid {field}: {reason}"))]
    Invalid { field: &'static str, reason: String },

    #[snafu(display("cannot write {}: {message}", path.display()))]
    Output { path: PathBuf, message: String },

    /// The log does not extend the head last written outside it.
    #[snafu(display("audit log head {}: {message}", path.display()))]
    Anchor { path: PathBuf, message: String },
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::Database { .. } | Error::Pragma { .. } => "database",
            Error::Corrupt { .. } => "corrupt",
            Error::Invalid { .. } => "invalid",
            Error::Output { .. } => "output",
            Error::Anchor { .. } => "anchor",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::Invalid {
        field,
        reason: reason.into(),
    }
}
