//! # overread-core
//!
//! The operations Overread offers, over the layer crates: study library
//! scanning, rendering, and the demo worklist. The CLI and the desktop app
//! both call these; neither talks to a layer crate for something this crate
//! offers.

pub mod api;
pub mod audit;
pub mod deadline;
pub mod demo;
pub mod department;
mod error;
pub mod frames;
pub mod governance;
pub mod hanging;
pub mod infer;
pub mod library;
pub mod models;
pub mod paths;
pub mod pixels;
pub mod priors;
pub mod remote;
pub mod render;
pub mod results;
pub mod setup;
pub mod site;
pub mod triage;
pub mod validation;
pub mod workstation;

pub use error::{Error, Result};
pub use overread_dicom as dicom;

/// The PACS client (DICOMweb and DIMSE; the network layer).
pub use overread_pacs as pacs;
/// Synthetic phantoms with ground truth (tests, demo, benchmarks).
pub use overread_phantom as phantom;

/// The inference layer's types (models, manifests, findings).
pub use overread_infer as inference;

/// The audit log's types (decisions, events, export and statistics).
pub use overread_audit as audit_log;

/// This build's version, written into every audit row.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");
