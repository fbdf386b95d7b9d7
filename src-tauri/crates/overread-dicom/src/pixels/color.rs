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
                .flat_map(|p| {
                    convert(f32::from(p[0]), f32::from(p[1]), f32::from(p[2])).map(|x| x as u8)
                })
                .collect(),
        ),
        Samples::U16(v) => Samples::U16(
            v.chunks_exact(3)
                .flat_map(|p| {
                    convert(f32::from(p[0]), f32::from(p[1]), f32::from(p[2])).map(|x| x as u16)
                })
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
        let channel =
            |desc: Tag, data: Tag, segmented: Tag, name: &'static str| -> Result<(i64, Vec<u16>)> {
                let d = attrs::ints(obj, desc);
                let [count, first, bits] = d
                    .get(..3)
                    .and_then(|s| <[i64; 3]>::try_from(s).ok())
                    .ok_or(Error::MissingAttribute { attribute: name })?;
                let invalid = |reason: String| Error::InvalidAttribute {
                    attribute: name,
                    reason,
                };
                // PS3.3 C.7.6.3.1.5: 0 means 65536 entries; anything else
                // outside 1–65535 is refused before anything is allocated.
                let count = match count {
                    0 => 65_536,
                    1..=65_535 => count as usize,
                    other => return Err(invalid(format!("descriptor declares {other} entries"))),
                };
                if !matches!(bits, 8 | 16) {
                    return Err(invalid(format!(
                        "descriptor declares {bits} bits per entry"
                    )));
                }
                let scale = |v: u16| if bits == 8 { (v & 0xFF) * 257 } else { v };
                if let Some(raw) = attrs::bytes(obj, data) {
                    let words: Vec<u16> = raw
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect();
                    let values: Vec<u16> = if bits == 8 && words.len() < count && raw.len() >= count
                    {
                        raw.iter()
                            .take(count)
                            .map(|&b| u16::from(b) * 257)
                            .collect()
                    } else if words.len() >= count {
                        words[..count].iter().map(|&w| scale(w)).collect()
                    } else {
                        return Err(invalid(format!(
                            "{} entries, {count} declared",
                            words.len()
                        )));
                    };
                    return Ok((first, values));
                }
                let raw = attrs::bytes(obj, segmented)
                    .ok_or(Error::MissingAttribute { attribute: name })?;
                let words: Vec<u16> = if bits == 8 {
                    raw.iter().map(|&b| u16::from(b)).collect()
                } else {
                    raw.chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect()
                };
                let mut values = Vec::with_capacity(count);
                let mut budget = segment_budget(words.len(), count);
                expand_segments(&words, 0, None, None, count, 0, &mut budget, &mut values)
                    .map_err(invalid)?;
                if values.len() != count {
                    return Err(invalid(format!(
                        "segments expand to {} entries, {count} declared",
                        values.len()
                    )));
                }
                Ok((first, values.into_iter().map(scale).collect()))
            };
        let (first_mapped, red) = channel(
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            "Red Palette Color LUT (0028,1201)",
        )?;
        let (_, green) = channel(
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            "Green Palette Color LUT (0028,1202)",
        )?;
        let (_, blue) = channel(
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            "Blue Palette Color LUT (0028,1203)",
        )?;
        Ok(Palette {
            first_mapped,
            red,
            green,
            blue,
        })
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

/// How many segments an expansion may visit: every segment of the data
/// once, plus one visit for each entry it may write (a segment an indirect
/// one copies writes at least one entry, or is an empty one that no
/// encoder writes). Zero-length segments repeated through nested indirect
/// ones cannot multiply the work past this.
fn segment_budget(words: usize, limit: usize) -> usize {
    words / 2 + 2 * limit + 16
}

/// Expands Segmented Palette Color LUT Data (PS3.3 C.7.9.2): discrete (0),
/// linear (1) and indirect (2) segments, from word `start`, never past
/// `limit` entries, and never visiting more than `budget` segments in all
/// (nested ones included). An indirect segment's offset counts from the
/// start of the data.
#[allow(clippy::too_many_arguments)]
fn expand_segments(
    data: &[u16],
    start: usize,
    segments: Option<usize>,
    last: Option<u16>,
    limit: usize,
    depth: u32,
    budget: &mut usize,
    out: &mut Vec<u16>,
) -> Result<(), String> {
    if depth > 4 {
        return Err("indirect segments nest too deeply".into());
    }
    let mut i = start;
    let mut read = 0;
    while i + 1 < data.len() && segments.is_none_or(|n| read < n) {
        *budget = budget.checked_sub(1).ok_or(
            "segments take too much work to expand (zero-length or repeated indirect segments)",
        )?;
        let (opcode, length) = (data[i], usize::from(data[i + 1]));
        i += 2;
        if out.len() + if opcode == 2 { 0 } else { length } > limit {
            return Err(format!("segments expand past {limit} entries"));
        }
        match opcode {
            0 => {
                let values = data
                    .get(i..i + length)
                    .ok_or("discrete segment past the end")?;
                out.extend_from_slice(values);
                i += length;
            }
            1 => {
                let y0 = out
                    .last()
                    .copied()
                    .or(last)
                    .ok_or("linear segment with no start value")?;
                let y1 = *data.get(i).ok_or("linear segment past the end")?;
                i += 1;
                let step = (f64::from(y1) - f64::from(y0)) / length.max(1) as f64;
                out.extend((1..=length).map(|k| (f64::from(y0) + step * k as f64).round() as u16));
            }
            2 => {
                let lo = u32::from(*data.get(i).ok_or("indirect segment past the end")?);
                let hi = u32::from(*data.get(i + 1).ok_or("indirect segment past the end")?);
                i += 2;
                let offset = (lo | hi << 16) as usize;
                if offset >= data.len() {
                    return Err("indirect segment offset past the end".into());
                }
                let previous = out.last().copied();
                expand_segments(
                    data,
                    offset,
                    Some(length),
                    previous,
                    limit,
                    depth + 1,
                    budget,
                    out,
                )?;
            }
            other => return Err(format!("unknown segment type {other}")),
        }
        read += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_expand_like_ps3_3_c_7_9_2() {
        // Discrete 0, 10; linear to 20 in 2 steps; indirect copy of the first segment.
        let data = [0, 2, 0, 10, 1, 2, 20, 2, 1, 0, 0];
        let mut out = Vec::new();
        let mut budget = segment_budget(data.len(), 100);
        expand_segments(&data, 0, None, None, 100, 0, &mut budget, &mut out).expect("expands");
        assert_eq!(out, vec![0, 10, 15, 20, 0, 10]);
        let mut out = Vec::new();
        assert!(expand_segments(&[0, 200], 0, None, None, 100, 0, &mut budget, &mut out).is_err());
    }
}
