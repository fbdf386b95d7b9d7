use std::path::PathBuf;

use snafu::Snafu;

/// Inference errors; one line each.
#[derive(Debug, Snafu)]
#[snafu(visibility(pub(crate)))]
#[non_exhaustive]
pub enum Error {
    #[snafu(display(
        "ONNX Runtime not found: {detail}. Run scripts/setup.sh (it installs the onnxruntime wheel) or set ORT_DYLIB_PATH to libonnxruntime.so (1.31 or newer)"
    ))]
    RuntimeMissing { detail: String },

    #[snafu(display("ONNX Runtime at {} cannot be used: {message}", path.display()))]
    RuntimeUnusable { path: PathBuf, message: String },

    #[snafu(display("model {}: {message}", path.display()))]
    Manifest { path: PathBuf, message: String },

    #[snafu(display("model {}: sha256 is {actual}, the manifest says {expected}; refusing the model", path.display()))]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    #[snafu(display("execution provider {requested} is not available: {message}"))]
    ExecutionProvider { requested: String, message: String },

    #[snafu(display("inference failed: {message}"))]
    Run { message: String },

    #[snafu(display("invalid input: {message}"))]
    Input { message: String },
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::RuntimeMissing { .. } | Error::RuntimeUnusable { .. } => "runtime",
            Error::Manifest { .. } | Error::Checksum { .. } => "model",
            Error::ExecutionProvider { .. } => "execution_provider",
            Error::Run { .. } => "run",
            Error::Input { .. } => "input",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
