//! The Image Pixel Module (PS3.3 C.7.6.3) as validated, typed values.

use dicom_dictionary_std::tags;
use serde::Serialize;

use crate::attrs::{self, Object};
use crate::error::{Error, Result};
use crate::limits::Limits;

/// Photometric Interpretation (PS3.3 C.7.6.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Photometric {
    Monochrome1,
    Monochrome2,
    PaletteColor,
    Rgb,
    YbrFull,
    YbrFull422,
    YbrIct,
    YbrRct,
}

impl Photometric {
    pub fn parse(s: &str) -> Option<Photometric> {
        Some(match s.trim() {
            "MONOCHROME1" => Photometric::Monochrome1,
            "MONOCHROME2" => Photometric::Monochrome2,
            "PALETTE COLOR" => Photometric::PaletteColor,
            "RGB" => Photometric::Rgb,
            "YBR_FULL" => Photometric::YbrFull,
            "YBR_FULL_422" => Photometric::YbrFull422,
            "YBR_ICT" => Photometric::YbrIct,
            "YBR_RCT" => Photometric::YbrRct,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Photometric::Monochrome1 => "MONOCHROME1",
            Photometric::Monochrome2 => "MONOCHROME2",
            Photometric::PaletteColor => "PALETTE COLOR",
            Photometric::Rgb => "RGB",
            Photometric::YbrFull => "YBR_FULL",
            Photometric::YbrFull422 => "YBR_FULL_422",
            Photometric::YbrIct => "YBR_ICT",
            Photometric::YbrRct => "YBR_RCT",
        }
    }

    pub fn is_monochrome(self) -> bool {
        matches!(self, Photometric::Monochrome1 | Photometric::Monochrome2)
    }
}

/// Image Pixel Module attributes, checked for consistency and against limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImagePixel {
    pub rows: u32,
    pub cols: u32,
    pub frames: u32,
    pub samples_per_pixel: u16,
    pub photometric: Photometric,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub high_bit: u16,
    /// Pixel Representation 1: two's complement samples.
    pub signed: bool,
    /// Planar Configuration 1: colour-by-plane.
    pub planar: bool,
}

impl ImagePixel {
    pub(crate) fn from_object(obj: &Object, limits: &Limits) -> Result<ImagePixel> {
        let dim = |tag, attribute: &'static str| -> Result<u32> {
            let v = attrs::int(obj, tag).ok_or(Error::MissingAttribute { attribute })?;
            if v < 1 || v > i64::from(limits.max_dimension) {
                return Err(Error::InvalidAttribute {
                    attribute,
                    reason: format!("{v} is out of range"),
                });
            }
            Ok(v as u32)
        };
        let rows = dim(tags::ROWS, "Rows (0028,0010)")?;
        let cols = dim(tags::COLUMNS, "Columns (0028,0011)")?;
        let samples_per_pixel = match attrs::int(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1) {
            1 => 1,
            3 => 3,
            v => {
                return Err(Error::UnsupportedImage {
                    reason: format!("Samples per Pixel {v}"),
                });
            }
        };
        let photometric = match attrs::string(obj, tags::PHOTOMETRIC_INTERPRETATION) {
            Some(s) => Photometric::parse(&s).ok_or_else(|| Error::UnsupportedImage {
                reason: format!("Photometric Interpretation {s}"),
            })?,
            None if samples_per_pixel == 1 => Photometric::Monochrome2,
            None => {
                return Err(Error::MissingAttribute {
                    attribute: "Photometric Interpretation (0028,0004)",
                });
            }
        };
        let expected_samples =
            if photometric.is_monochrome() || photometric == Photometric::PaletteColor {
                1
            } else {
                3
            };
        if samples_per_pixel != expected_samples {
            return Err(Error::InvalidAttribute {
                attribute: "Samples per Pixel (0028,0002)",
                reason: format!("{samples_per_pixel} with {}", photometric.as_str()),
            });
        }
        let bits_allocated = match attrs::int(obj, tags::BITS_ALLOCATED) {
            Some(v @ (1 | 8 | 16 | 32)) => v as u16,
            Some(v) => {
                return Err(Error::InvalidAttribute {
                    attribute: "Bits Allocated (0028,0100)",
                    reason: format!("{v} (1, 8, 16 or 32 expected)"),
                });
            }
            None => {
                return Err(Error::MissingAttribute {
                    attribute: "Bits Allocated (0028,0100)",
                });
            }
        };
        let bits_stored = attrs::int(obj, tags::BITS_STORED).unwrap_or(i64::from(bits_allocated));
        if bits_stored < 1 || bits_stored > i64::from(bits_allocated) {
            return Err(Error::InvalidAttribute {
                attribute: "Bits Stored (0028,0101)",
                reason: format!("{bits_stored} with Bits Allocated {bits_allocated}"),
            });
        }
        let bits_stored = bits_stored as u16;
        let high_bit = attrs::int(obj, tags::HIGH_BIT).unwrap_or(i64::from(bits_stored) - 1);
        // High Bit is one less than Bits Stored for every current IOD; we
        // accept any value that keeps the stored bits inside the allocation.
        if high_bit + 1 < i64::from(bits_stored) || high_bit >= i64::from(bits_allocated) {
            return Err(Error::InvalidAttribute {
                attribute: "High Bit (0028,0102)",
                reason: format!(
                    "{high_bit} with Bits Stored {bits_stored}, Bits Allocated {bits_allocated}"
                ),
            });
        }
        let signed = attrs::int(obj, tags::PIXEL_REPRESENTATION).unwrap_or(0) == 1;
        let planar =
            samples_per_pixel == 3 && attrs::int(obj, tags::PLANAR_CONFIGURATION).unwrap_or(0) == 1;
        let frames = match attrs::int(obj, tags::NUMBER_OF_FRAMES) {
            None => 1,
            Some(0) => 1,
            Some(v) if v < 0 || v > i64::from(limits.max_frames) => {
                return Err(Error::InvalidAttribute {
                    attribute: "Number of Frames (0028,0008)",
                    reason: format!("{v} is out of range"),
                });
            }
            Some(v) => v as u32,
        };
        let image = ImagePixel {
            rows,
            cols,
            frames,
            samples_per_pixel,
            photometric,
            bits_allocated,
            bits_stored,
            high_bit: high_bit as u16,
            signed,
            planar,
        };
        let needed = image.decoded_bytes();
        if needed > limits.max_decoded_bytes {
            return Err(Error::ImageTooLarge {
                needed,
                limit: limits.max_decoded_bytes,
            });
        }
        Ok(image)
    }

    /// Samples in one frame.
    pub fn frame_samples(&self) -> usize {
        self.rows as usize * self.cols as usize * self.samples_per_pixel as usize
    }

    /// Bytes of all decoded frames, at least one byte per sample.
    pub fn decoded_bytes(&self) -> u64 {
        let per_sample = u64::from(self.bits_allocated.div_ceil(8));
        self.frame_samples() as u64 * u64::from(self.frames) * per_sample
    }

    /// Bytes of one native (uncompressed) frame; for 1-bit data the frame
    /// may not start on a byte boundary, see [`ImagePixel::native_frame_bits`].
    pub fn native_frame_bits(&self) -> u64 {
        self.frame_samples() as u64 * u64::from(self.bits_allocated)
    }
}
