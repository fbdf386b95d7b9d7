use std::path::PathBuf;

use snafu::Snafu;

/// Errors of core operations; each names the file it concerns.
#[derive(Debug, Snafu)]
#[snafu(visibility(pub(crate)))]
pub enum Error {
    #[snafu(display("{}: {source}", path.display()))]
    Dicom {
        path: PathBuf,
        source: overread_dicom::Error,
    },

    #[snafu(display("{}: {message}", path.display()))]
    Output { path: PathBuf, message: String },

    #[snafu(display("{message}"))]
    InvalidArgument { message: String },

    /// One failure told to every caller that waited for it (a decode
    /// shared between triage and the viewer: [`crate::frames`]).
    #[snafu(display("{source}"))]
    Shared { source: std::sync::Arc<Error> },
}

impl Error {
    /// A stable code a UI or script can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Dicom { source, .. } => source.code(),
            Error::Output { .. } => "output",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::Shared { source } => source.code(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
