//! Colour spaces (PS3.3 C.7.6.3.1.2) and Palette Color LUTs (C.7.6.3.1.5).

use dicom_core::Tag;
use dicom_dictionary_std::tags;

use super::Samples;
use crate::attrs::{self, Object};
use crate::error::{Error, Result};

/// YBR_FULL to RGB (ITU-R BT.601 full range, the same coefficients and
/// rounding as pydicom's `convert_color_space`).
pub(crate) fn ybr_full_to_rgb(samples: Samples, bits_stored: u16) -> Samples {
    let max = ((1u32 << bits_stored) - 1) as f32;
    let half = (1u32 << (bits_stored - 1)) as f32;
    let convert = |y: f32, cb: f32, cr: f32| {
        let (cb, cr) = (cb - half, cr - half);
        let r = y + 1.402 * cr;
        let g = y - (0.114 * 1.772 / 0.587) * cb - (0.299 * 1.402 / 0.587) * cr;
        let b = y + 1.772 * cb;
        [r, g, b].map(|v| (v + 0.5).clamp(0.0, max))
    };
    match samples {
        Samples::U8(v) => Samples::U8(
            v.chunks_exact(3)
                .flat_map(|p| convert(f32::from(p[0]), f32::from(p[1]), f32::from(p[2])).map(|x| x as u8))
                .collect(),
        ),
        Samples::U16(v) => Samples::U16(
            v.chunks_exact(3)
                .flat_map(|p| convert(f32::from(p[0]), f32::from(p[1]), f32::from(p[2])).map(|x| x as u16))
                .collect(),
        ),
        other => other,
    }
}

/// The three Palette Color LUTs, as 16-bit outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    first_mapped: i64,
    red: Vec<u16>,
    green: Vec<u16>,
    blue: Vec<u16>,
}

impl Palette {
    pub(crate) fn from_object(obj: &Object) -> Result<Palette> {
        if obj.get(tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA).is_some()
            && obj.get(tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA).is_none()
        {
            return Err(Error::UnsupportedImage { reason: "segmented palette colour LUTs".into() });
        }
        let channel = |desc: Tag, data: Tag, name: &'static str| -> Result<(i64, Vec<u16>)> {
            let d = attrs::ints(obj, desc);
            let [count, first, bits] = d
                .get(..3)
                .and_then(|s| <[i64; 3]>::try_from(s).ok())
                .ok_or(Error::MissingAttribute { attribute: name })?;
            let count = if count == 0 { 65_536 } else { count as usize };
            let raw = attrs::bytes(obj, data).ok_or(Error::MissingAttribute { attribute: name })?;
            let words: Vec<u16> = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            let values: Vec<u16> = if bits == 8 && words.len() < count && raw.len() >= count {
                raw.iter().take(count).map(|&b| u16::from(b) * 257).collect()
            } else if words.len() >= count {
                let scale = if bits == 8 { 257 } else { 1 };
                words[..count].iter().map(|&w| if scale == 1 { w } else { (w & 0xFF) * scale }).collect()
            } else {
                return Err(Error::InvalidAttribute {
                    attribute: name,
                    reason: format!("{} entries, {count} declared", words.len()),
                });
            };
            Ok((first, values))
        };
        let (first_mapped, red) = channel(
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            "Red Palette Color LUT (0028,1201)",
        )?;
        let (_, green) = channel(
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            "Green Palette Color LUT (0028,1202)",
        )?;
        let (_, blue) = channel(
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            "Blue Palette Color LUT (0028,1203)",
        )?;
        Ok(Palette { first_mapped, red, green, blue })
    }

    /// RGB (16-bit per channel) of one stored index.
    pub fn rgb(&self, index: i64) -> [u16; 3] {
        let pick = |lut: &[u16]| {
            let i = (index - self.first_mapped).clamp(0, lut.len() as i64 - 1) as usize;
            lut[i]
        };
        [pick(&self.red), pick(&self.green), pick(&self.blue)]
    }
}
