//! Display-ready pixels: the grayscale pipeline of PS3.3 C.11 ending in the
//! Presentation LUT (C.11.6: MONOCHROME1 and INVERSE shapes are shown with
//! the lowest values white), or RGB for colour. 16 bits per channel, 0 = black.

use crate::image::Photometric;
use crate::lut::{ModalityLut, Voi};
use crate::pixels::color::Palette;
use crate::pixels::{Frame, Samples};

/// An image ready for a screen or a model: row-major, `channels` interleaved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayImage {
    pub width: u32,
    pub height: u32,
    /// 1 (grayscale) or 3 (RGB).
    pub channels: u8,
    pub data: Vec<u16>,
}

impl DisplayImage {
    /// 8-bit copy, rounding to nearest.
    pub fn to_u8(&self) -> Vec<u8> {
        self.data
            .iter()
            .map(|&v| ((u32::from(v) + 128) / 257) as u8)
            .collect()
    }
}

/// How a grayscale frame becomes display values.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayPipeline {
    pub modality: ModalityLut,
    pub voi: Voi,
    /// Lowest values white (MONOCHROME1, or Presentation LUT Shape INVERSE).
    pub invert: bool,
}

impl GrayPipeline {
    fn value(&self, stored: f64) -> u16 {
        let y = self.voi.apply(self.modality.apply(stored));
        let y = if self.invert { 1.0 - y } else { y };
        (y * 65535.0).round() as u16
    }

    /// Applies the pipeline. Integer data of up to 16 bits goes through one
    /// table built for every possible stored value, so each pixel costs a
    /// single lookup.
    pub fn apply(&self, frame: &Frame) -> DisplayImage {
        let data = match &frame.samples {
            Samples::U8(v) => {
                let table: Vec<u16> = (0..=255u32).map(|s| self.value(f64::from(s))).collect();
                v.iter().map(|&s| table[usize::from(s)]).collect()
            }
            Samples::U16(v) => {
                let table = self.table_u16(v.iter().copied().max().unwrap_or(0), |i| {
                    f64::from(i as u16)
                });
                v.iter().map(|&s| table[usize::from(s)]).collect()
            }
            Samples::I16(v) => {
                let table: Vec<u16> = (0..=65535u32)
                    .map(|i| self.value(f64::from(i as u16 as i16)))
                    .collect();
                v.iter().map(|&s| table[usize::from(s as u16)]).collect()
            }
            Samples::U32(v) => v.iter().map(|&s| self.value(f64::from(s))).collect(),
            Samples::I32(v) => v.iter().map(|&s| self.value(f64::from(s))).collect(),
        };
        DisplayImage {
            width: frame.cols,
            height: frame.rows,
            channels: 1,
            data,
        }
    }

    fn table_u16(&self, max: u16, input: impl Fn(u32) -> f64) -> Vec<u16> {
        (0..=u32::from(max)).map(|i| self.value(input(i))).collect()
    }
}

/// The modality range of a frame, for a default VOI when the file has none.
pub fn modality_range(frame: &Frame, modality: &ModalityLut) -> (f64, f64) {
    match frame.samples.min_max() {
        Some((lo, hi)) => {
            let (a, b) = (modality.apply(lo as f64), modality.apply(hi as f64));
            (a.min(b), a.max(b))
        }
        None => (0.0, 0.0),
    }
}

/// Colour frames: RGB samples scaled to 16 bits, or palette indices looked up.
pub fn colour(frame: &Frame, bits_stored: u16, palette: Option<&Palette>) -> DisplayImage {
    let (width, height) = (frame.cols, frame.rows);
    if frame.photometric == Photometric::PaletteColor
        && let Some(p) = palette
    {
        let data = frame.samples.iter_i64().flat_map(|i| p.rgb(i)).collect();
        return DisplayImage {
            width,
            height,
            channels: 3,
            data,
        };
    }
    let max = ((1u64 << bits_stored.clamp(1, 32)) - 1) as f64;
    let data = frame
        .samples
        .iter_i64()
        .map(|v| ((v.max(0) as f64 / max).min(1.0) * 65535.0).round() as u16)
        .collect();
    DisplayImage {
        width,
        height,
        channels: 3,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lut::Window;

    fn frame(samples: Samples) -> Frame {
        Frame {
            rows: 1,
            cols: samples.len() as u32,
            samples_per_pixel: 1,
            photometric: Photometric::Monochrome2,
            samples,
        }
    }

    #[test]
    fn monochrome1_shows_low_values_white() {
        let p = GrayPipeline {
            modality: ModalityLut::IDENTITY,
            voi: Voi::Range {
                min: 0.0,
                max: 100.0,
            },
            invert: true,
        };
        let img = p.apply(&frame(Samples::U16(vec![0, 100])));
        assert_eq!(img.data, vec![65535, 0]);
    }

    #[test]
    fn table_path_matches_direct_path() {
        let p = GrayPipeline {
            modality: ModalityLut::Rescale {
                slope: 2.0,
                intercept: -1024.0,
            },
            voi: Voi::Window(Window::new(40.0, 400.0)),
            invert: false,
        };
        let values: Vec<i16> = (-2000..2000).step_by(7).collect();
        let via_table = p.apply(&frame(Samples::I16(values.clone())));
        let direct = p.apply(&frame(Samples::I32(
            values.iter().map(|&v| i32::from(v)).collect(),
        )));
        assert_eq!(via_table, direct);
    }
}
