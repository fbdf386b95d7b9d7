//! # overread-infer
//!
//! On-device inference, and the only crate that knows `ort`. A model is a
//! folder with `model.onnx` and `manifest.toml`; the manifest says what the
//! model expects and produces (input size, range, letterbox or stretch,
//! labels, activations, heatmap, thresholds, intended use), so any model
//! drops in without code. The weights' SHA-256 is checked at load.
//!
//! ONNX Runtime is loaded at run time (`load-dynamic`) from a configured
//! path, `ORT_DYLIB_PATH`, or beside the executable; a missing or too old
//! library is an error that says how to fix it, never a panic.
//!
//! Heatmaps stay at model resolution with the [`Placement`] that maps them
//! back, so overlays register exactly on the image's pixels.

mod backend;
pub mod detect;
mod error;
pub mod init;
pub mod manifest;
mod model;
pub mod process;
pub mod runtime;

pub use backend::{EpChoice, FakeBackend, InferenceBackend, OrtBackend, Outputs, ServedBy};
pub use error::{Error, Result};
pub use manifest::Manifest;
pub use model::{Finding, Inference, Model, ModelHeatmap, SiteUse, StudyInfo, Timings, read_model};
pub use process::{BoxPx, GrayImage, Placement, RegisteredHeatmap};
