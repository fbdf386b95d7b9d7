//! # overread-dicom
//!
//! Overread's DICOM layer, and the only crate that knows dicom-rs. It opens
//! Part-10 files and DICOMDIRs, indexes folders into
//! Patient → Study → Series → Instance from headers alone, and decodes pixel
//! data of every transfer syntax radiographs use to display-ready values.
//!
//! Reading is defensive: a structural pass ([`layout`](crate::layout)) checks
//! every declared length against the bytes present and the [`Limits`] before
//! anything is allocated, and every failure is a typed [`Error`] with a
//! one-line message.
//!
//! ```no_run
//! use overread_dicom::{Limits, open};
//! let instance = open(std::path::Path::new("chest.dcm"), &Limits::default())?;
//! let image = instance.display(0, None)?; // 16-bit, MONOCHROME1 already inverted
//! assert_eq!(image.data.len(), (image.width * image.height) as usize);
//! # Ok::<(), overread_dicom::Error>(())
//! ```
//!
//! Transfer syntaxes and their decoders are listed in [`syntax`].

mod attrs;
#[cfg(feature = "counters")]
pub mod counters;
pub mod display;
mod error;
pub mod image;
mod layout;
mod limits;
pub mod lut;
pub mod net;
mod open;
pub mod pixels;
pub mod results;
pub mod scan;
pub mod syntax;
pub mod write;

pub use display::DisplayImage;
pub use error::{Error, Result};
pub use image::{ImagePixel, Photometric};
pub use limits::Limits;
pub use lut::{ModalityLut, Voi, VoiFunction, Window};
pub use open::{
    Header, Instance, MEDIA_STORAGE_DIRECTORY, PixelSpacing, from_bytes, open, read_header,
};
pub use pixels::{Frame, Samples};
pub use syntax::TransferSyntax;
