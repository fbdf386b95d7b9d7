//! # overread-core
//!
//! The operations Overread offers, over the layer crates: study library
//! scanning, rendering, and the demo worklist. The CLI and the desktop app
//! both call these; neither talks to a layer crate for something this crate
//! offers.

pub mod demo;
mod error;
pub mod library;
pub mod render;

pub use error::{Error, Result};
pub use overread_dicom as dicom;
