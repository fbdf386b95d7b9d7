//! Grayscale transforms, in the order of PS3.3 C.11 (Figure C.11-1):
//! stored value → Modality LUT → VOI LUT → Presentation LUT → display.

use dicom_dictionary_std::tags;
use serde::Serialize;

use crate::attrs::{self, Object};

/// A lookup table as described by a LUT Descriptor (PS3.3 C.11.1.1.1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lut {
    /// First stored (input) value mapped.
    pub first_mapped: i64,
    /// Bits per entry (8 or 16).
    pub bits: u8,
    /// Output value per input step; inputs outside clamp to the ends.
    pub entries: Vec<u16>,
    pub explanation: Option<String>,
}

impl Lut {
    /// Reads LUT Descriptor (0028,3002), LUT Data (0028,3006) and
    /// LUT Explanation (0028,3003) from a Modality or VOI LUT Sequence item.
    fn from_item(item: &Object, signed_input: bool) -> Option<Lut> {
        let descriptor = attrs::ints(item, tags::LUT_DESCRIPTOR);
        let [count, first, bits] = descriptor.get(..3)?.try_into().ok()?;
        // PS3.3 C.11.1.1.1: a count of 0 means 2^16 entries; the first mapped
        // value is US or SS depending on the Pixel Representation.
        let count = if count == 0 { 65_536 } else { count as usize };
        let first = if signed_input {
            i64::from(first as u16 as i16)
        } else {
            i64::from(first as u16)
        };
        let bits = match bits {
            8 => 8u8,
            16 => 16,
            // Some writers put 10, 12 etc.: the entries are still 16-bit words.
            b @ 9..=15 => b as u8,
            _ => return None,
        };
        let raw = attrs::bytes(item, tags::LUT_DATA)?;
        let words: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let entries = if bits == 8 && words.len() * 2 >= count && words.len() < count {
            // 8-bit entries packed two per word (seen in the wild; PS3.3 allows OW).
            raw.iter().take(count).map(|&b| u16::from(b)).collect()
        } else if words.len() >= count {
            words[..count].to_vec()
        } else {
            return None;
        };
        Some(Lut {
            first_mapped: first,
            bits,
            entries,
            explanation: attrs::string(item, tags::LUT_EXPLANATION),
        })
    }

    /// Largest output value.
    pub fn max_output(&self) -> f64 {
        // Trust the data over a descriptor that undersells it.
        let declared = ((1u32 << self.bits) - 1) as f64;
        let seen = self.entries.iter().copied().max().unwrap_or(0) as f64;
        declared.max(seen)
    }

    pub fn apply(&self, x: f64) -> f64 {
        let i = (x.floor() as i64).saturating_sub(self.first_mapped);
        let i = i.clamp(0, self.entries.len() as i64 - 1) as usize;
        f64::from(self.entries[i])
    }
}

/// Modality LUT (PS3.3 C.11.1): stored values → modality units.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModalityLut {
    /// Rescale Slope/Intercept (0028,1053)/(0028,1052); identity when absent.
    Rescale { slope: f64, intercept: f64 },
    /// Modality LUT Sequence (0028,3000).
    Table(Lut),
}

impl ModalityLut {
    pub const IDENTITY: ModalityLut = ModalityLut::Rescale {
        slope: 1.0,
        intercept: 0.0,
    };

    pub(crate) fn from_object(obj: &Object, frame: u32, signed: bool) -> ModalityLut {
        if let Some(lut) = attrs::items(obj, tags::MODALITY_LUT_SEQUENCE)
            .first()
            .and_then(|item| Lut::from_item(item, signed))
        {
            return ModalityLut::Table(lut);
        }
        // Enhanced objects carry it in the Pixel Value Transformation
        // functional group (PS3.3 C.7.6.16.2.9).
        let source = if obj.get(tags::RESCALE_SLOPE).is_some()
            || obj.get(tags::RESCALE_INTERCEPT).is_some()
        {
            Some(obj)
        } else {
            attrs::functional_group(obj, frame, tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE)
        };
        match source {
            Some(src) => {
                let slope =
                    attrs::float(src, tags::RESCALE_SLOPE).filter(|s| s.is_finite() && *s != 0.0);
                let intercept =
                    attrs::float(src, tags::RESCALE_INTERCEPT).filter(|i| i.is_finite());
                ModalityLut::Rescale {
                    slope: slope.unwrap_or(1.0),
                    intercept: intercept.unwrap_or(0.0),
                }
            }
            None => ModalityLut::IDENTITY,
        }
    }

    pub fn apply(&self, x: f64) -> f64 {
        match self {
            ModalityLut::Rescale { slope, intercept } => x * slope + intercept,
            ModalityLut::Table(lut) => lut.apply(x),
        }
    }

    pub fn is_identity(&self) -> bool {
        *self == ModalityLut::IDENTITY
    }
}

/// VOI LUT Function (0028,1056), PS3.3 C.11.2.1.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VoiFunction {
    Linear,
    LinearExact,
    Sigmoid,
}

/// A window (Window Center/Width pair, PS3.3 C.11.2.1.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    pub center: f64,
    pub width: f64,
    pub function: VoiFunction,
    pub explanation: Option<String>,
}

impl Window {
    pub fn new(center: f64, width: f64) -> Window {
        Window {
            center,
            width,
            function: VoiFunction::Linear,
            explanation: None,
        }
    }

    /// Maps a modality value to [0, 1].
    pub fn apply(&self, x: f64) -> f64 {
        let (c, w) = (self.center, self.width);
        match self.function {
            // C.11.2.1.2.1: LINEAR, with the half-unit offsets of the standard.
            VoiFunction::Linear => {
                let w = w.max(1.0);
                if x <= c - 0.5 - (w - 1.0) / 2.0 {
                    0.0
                } else if x > c - 0.5 + (w - 1.0) / 2.0 || w <= 1.0 {
                    1.0
                } else {
                    (x - (c - 0.5)) / (w - 1.0) + 0.5
                }
            }
            // C.11.2.1.3.2: LINEAR_EXACT.
            VoiFunction::LinearExact => {
                let w = if w > 0.0 { w } else { f64::MIN_POSITIVE };
                if x <= c - w / 2.0 {
                    0.0
                } else if x > c + w / 2.0 {
                    1.0
                } else {
                    (x - c) / w + 0.5
                }
            }
            // C.11.2.1.3.1: SIGMOID.
            VoiFunction::Sigmoid => {
                let w = if w > 0.0 { w } else { f64::MIN_POSITIVE };
                1.0 / (1.0 + (-4.0 * (x - c) / w).exp())
            }
        }
        .clamp(0.0, 1.0)
    }
}

/// The VOI choices a file offers (PS3.3 C.11.2).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct VoiChoices {
    pub windows: Vec<Window>,
    pub luts: Vec<Lut>,
}

impl VoiChoices {
    pub(crate) fn from_object(obj: &Object, frame: u32, signed_modality: bool) -> VoiChoices {
        // Enhanced objects: Frame VOI LUT functional group (C.7.6.16.2.10).
        let source =
            if obj.get(tags::WINDOW_CENTER).is_some() || obj.get(tags::VOILUT_SEQUENCE).is_some() {
                obj
            } else {
                attrs::functional_group(obj, frame, tags::FRAME_VOILUT_SEQUENCE).unwrap_or(obj)
            };
        let centers = attrs::floats(source, tags::WINDOW_CENTER);
        let widths = attrs::floats(source, tags::WINDOW_WIDTH);
        let explanations = attrs::strings(source, tags::WINDOW_CENTER_WIDTH_EXPLANATION);
        let function = match attrs::string(source, tags::VOILUT_FUNCTION).as_deref() {
            Some("LINEAR_EXACT") => VoiFunction::LinearExact,
            Some("SIGMOID") => VoiFunction::Sigmoid,
            _ => VoiFunction::Linear,
        };
        let windows = centers
            .iter()
            .zip(&widths)
            .enumerate()
            .filter(|(_, (c, w))| c.is_finite() && w.is_finite() && **w > 0.0)
            .map(|(i, (&center, &width))| Window {
                center,
                width,
                function,
                explanation: explanations.get(i).filter(|s| !s.is_empty()).cloned(),
            })
            .collect();
        let luts = attrs::items(source, tags::VOILUT_SEQUENCE)
            .iter()
            .filter_map(|item| Lut::from_item(item, signed_modality))
            .collect();
        VoiChoices { windows, luts }
    }
}

/// The VOI transform chosen for display.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Voi {
    Window(Window),
    Table(Lut),
    /// No VOI: map the given modality range linearly (used when the file
    /// offers none; the range is the frame's minimum and maximum).
    Range {
        min: f64,
        max: f64,
    },
}

impl Voi {
    /// Maps a modality value to [0, 1].
    pub fn apply(&self, x: f64) -> f64 {
        match self {
            Voi::Window(w) => w.apply(x),
            Voi::Table(lut) => lut.apply(x) / lut.max_output(),
            Voi::Range { min, max } => {
                if max > min {
                    ((x - min) / (max - min)).clamp(0.0, 1.0)
                } else {
                    0.5
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_window_follows_ps3_3() {
        // C.11.2.1.2.1 example: center 2048, width 4096 maps 0 → 0 and 4095 → 1.
        let w = Window::new(2048.0, 4096.0);
        assert_eq!(w.apply(0.0), 0.0);
        assert_eq!(w.apply(4095.0), 1.0);
        assert!((w.apply(2047.5) - 0.5).abs() < 1e-9);
        // Width 1 is a threshold at center - 0.5.
        let t = Window::new(100.0, 1.0);
        assert_eq!(t.apply(99.0), 0.0);
        assert_eq!(t.apply(100.0), 1.0);
    }

    #[test]
    fn linear_exact_and_sigmoid() {
        let w = Window {
            center: 0.0,
            width: 100.0,
            function: VoiFunction::LinearExact,
            explanation: None,
        };
        assert_eq!(w.apply(-50.0), 0.0);
        assert!((w.apply(0.0) - 0.5).abs() < 1e-12);
        assert!((w.apply(25.0) - 0.75).abs() < 1e-12);
        let s = Window {
            function: VoiFunction::Sigmoid,
            ..w
        };
        assert!((s.apply(0.0) - 0.5).abs() < 1e-12);
        assert!(s.apply(100.0) > 0.98);
    }

    #[test]
    fn lut_clamps_outside_its_range() {
        let lut = Lut {
            first_mapped: 10,
            bits: 8,
            entries: vec![1, 2, 3],
            explanation: None,
        };
        assert_eq!(lut.apply(0.0), 1.0);
        assert_eq!(lut.apply(11.0), 2.0);
        assert_eq!(lut.apply(1000.0), 3.0);
        let m = ModalityLut::Table(lut);
        assert_eq!(m.apply(12.0), 3.0);
    }
}
