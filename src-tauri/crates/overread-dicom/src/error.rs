//! Errors of the DICOM layer. Every message is one line and names the problem;
//! callers add the file name.

use snafu::Snafu;
use std::path::PathBuf;

/// Anything that can go wrong while opening, indexing or decoding an instance.
#[derive(Debug, Snafu)]
#[snafu(visibility(pub(crate)))]
#[non_exhaustive]
pub enum Error {
    #[snafu(display("cannot read {}: {source}", path.display()))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[snafu(display("not a DICOM file: {reason}"))]
    NotDicom { reason: String },

    #[snafu(display("file is {size} bytes, over the limit of {limit}"))]
    FileTooLarge { size: u64, limit: u64 },

    #[snafu(display("malformed data at byte {offset}: {reason}"))]
    Malformed { offset: u64, reason: String },

    #[snafu(display("file meta information has no transfer syntax (0002,0010)"))]
    MissingTransferSyntax,

    #[snafu(display("unsupported transfer syntax {uid}"))]
    UnsupportedTransferSyntax { uid: String },

    #[snafu(display("deflated data set is corrupt: {source}"))]
    Inflate { source: std::io::Error },

    #[snafu(display("deflated data set inflates past {limit} bytes (deflate bomb?)"))]
    InflateLimit { limit: u64 },

    #[snafu(display("cannot parse data set: {message}"))]
    Parse { message: String },

    #[snafu(display("no pixel data (7FE0,0010)"))]
    NoPixelData,

    #[snafu(display("missing {attribute}"))]
    MissingAttribute { attribute: &'static str },

    #[snafu(display("invalid {attribute}: {reason}"))]
    InvalidAttribute {
        attribute: &'static str,
        reason: String,
    },

    #[snafu(display("unsupported image: {reason}"))]
    UnsupportedImage { reason: String },

    #[snafu(display("image needs {needed} bytes decoded, over the limit of {limit}"))]
    ImageTooLarge { needed: u64, limit: u64 },

    #[snafu(display("pixel data is {actual} bytes, {expected} expected"))]
    PixelDataLength { actual: u64, expected: u64 },

    #[snafu(display("frame {frame} does not exist (the image has {frames})"))]
    FrameOutOfRange { frame: u32, frames: u32 },

    #[snafu(display("cannot decode frame {frame}: {reason}"))]
    Codec { frame: u32, reason: String },

    #[snafu(display("frame {frame} did not arrive whole: {reason}"))]
    Incomplete { frame: u32, reason: String },

    #[snafu(display("cannot write {}: {message}", path.display()))]
    Write { path: PathBuf, message: String },

    #[snafu(display("cannot make the results objects: {reason}"))]
    Results { reason: String },
}

impl Error {
    /// A stable code a UI or script can branch on, instead of matching messages.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::NotDicom { .. } => "not_dicom",
            Error::FileTooLarge { .. }
            | Error::ImageTooLarge { .. }
            | Error::InflateLimit { .. } => "too_large",
            Error::Malformed { .. }
            | Error::Inflate { .. }
            | Error::Parse { .. }
            | Error::PixelDataLength { .. } => "malformed",
            Error::MissingTransferSyntax | Error::UnsupportedTransferSyntax { .. } => {
                "transfer_syntax"
            }
            Error::NoPixelData
            | Error::MissingAttribute { .. }
            | Error::InvalidAttribute { .. }
            | Error::UnsupportedImage { .. } => "image_attributes",
            Error::FrameOutOfRange { .. } => "frame",
            Error::Codec { .. } => "codec",
            Error::Incomplete { .. } => "incomplete",
            Error::Write { .. } => "write",
            Error::Results { .. } => "results",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn malformed(offset: u64, reason: impl Into<String>) -> Error {
    Error::Malformed {
        offset,
        reason: reason.into(),
    }
}
