//! Pixels for the diagnostic viewer. The viewer windows on the GPU, so it
//! gets modality values (PS3.3 C.11.1), not display values: each sample is
//! sent as a little-endian u16 with `modality = offset + stored × scale`.
//! For the integer data of radiographs the scale is 1 and nothing is lost.
//! A reduced image (longest side ≤ [`PREVIEW_SIDE`]) goes first so that
//! something is on screen while the full image travels; for JPEG 2000 it
//! is decoded at reduced resolution before the full image is
//! ([`viewer_first`]), its codes fixed by the header so that both agree.

use std::path::Path;
use std::sync::Arc;

use overread_dicom::{Frame, Instance, Limits, ModalityLut, PixelSpacing, Samples, Voi};

use crate::error::{Error, Result};
use crate::frames::Decoded;

/// Longest side of the preview image.
pub const PREVIEW_SIDE: u32 = 512;

/// A grayscale image ready for GPU windowing.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewerImage {
    pub width: u32,
    pub height: u32,
    pub offset: f64,
    pub scale: f64,
    pub invert: bool,
    /// (name, centre, width) in modality units; the first is the default.
    pub windows: Vec<(String, f64, f64)>,
    pub spacing: Option<PixelSpacing>,
    /// The full-resolution codes; empty in a first stage made before them.
    pub data: Codes,
    pub preview_width: u32,
    pub preview_height: u32,
    pub preview: Vec<u16>,
}

/// Full-resolution codes: the decoded frame's own samples when they are
/// the codes (unsigned 16-bit data whose coding the header fixes: no copy,
/// the frame shared with triage's cache), else computed.
#[derive(Clone)]
pub enum Codes {
    Computed(Vec<u16>),
    Frame(Arc<Decoded>),
}

impl Codes {
    pub fn as_slice(&self) -> &[u16] {
        match self {
            Codes::Computed(v) => v,
            Codes::Frame(d) => match &d.frame.samples {
                Samples::U16(v) => v,
                _ => &[],
            },
        }
    }
}

impl std::fmt::Debug for Codes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self {
            Codes::Computed(_) => "computed",
            Codes::Frame(_) => "the frame's samples",
        };
        write!(f, "{} codes ({how})", self.as_slice().len())
    }
}

impl PartialEq for Codes {
    fn eq(&self, other: &Codes) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl ViewerImage {
    pub fn bytes(&self) -> Vec<u8> {
        le_bytes(self.data.as_slice())
    }

    pub fn preview_bytes(&self) -> Vec<u8> {
        le_bytes(&self.preview)
    }

    /// Whether the full-resolution codes are here (not only the preview
    /// made first from a JPEG 2000 file's lower wavelet levels).
    pub fn is_full(&self) -> bool {
        !self.data.as_slice().is_empty()
    }

    /// The modality value at a pixel.
    pub fn value(&self, x: u32, y: u32) -> Option<f64> {
        let i = (y as usize).checked_mul(self.width as usize)? + x as usize;
        (x < self.width)
            .then(|| self.data.as_slice().get(i))
            .flatten()
            .map(|&v| self.offset + f64::from(v) * self.scale)
    }
}

fn le_bytes(v: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 2);
    for s in v {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Decodes the first frame of `path` for the viewer.
pub fn viewer_image(path: &Path, limits: &Limits) -> Result<ViewerImage> {
    let dicom = |source| Error::Dicom {
        path: path.to_path_buf(),
        source,
    };
    let instance = overread_dicom::open(path, limits).map_err(dicom)?;
    let frame = instance.frame(0).map_err(dicom)?;
    let decoded = Decoded {
        instance,
        frame,
        reduced: None,
    };
    viewer_image_from(path, &Arc::new(decoded))
}

/// How modality values become the u16 codes the viewer gets:
/// `modality = offset + code × scale`.
#[derive(Debug, Clone, Copy)]
struct Coding {
    offset: f64,
    scale: f64,
    /// Each code is the stored value itself (unsigned data, unit slope).
    stored: bool,
}

impl Coding {
    /// From the header alone, so that a reduced image sent first and the
    /// full image after share their codes: integer data under a unit slope
    /// and an integral intercept, at most 16 bits stored. `None` otherwise.
    fn from_header(instance: &Instance) -> Option<Coding> {
        let ModalityLut::Rescale { slope, intercept } = instance.modality_lut(0) else {
            return None;
        };
        let px = instance.image().ok()?;
        if slope != 1.0 || intercept.fract() != 0.0 || !(1..=16).contains(&px.bits_stored) {
            return None;
        }
        let least = if px.signed {
            -(1i64 << (px.bits_stored - 1))
        } else {
            0
        };
        Some(Coding {
            offset: intercept + least as f64,
            scale: 1.0,
            stored: !px.signed,
        })
    }

    /// From the data's range: integers spanning at most 65536 values keep
    /// every value exactly.
    fn from_range(lo: f64, hi: f64, integral: bool) -> Coding {
        let scale = if integral && hi - lo <= 65535.0 {
            1.0
        } else {
            ((hi - lo) / 65535.0).max(f64::MIN_POSITIVE)
        };
        Coding {
            offset: lo,
            scale,
            stored: false,
        }
    }

    /// The full image's codes: the frame's own samples where they are the
    /// codes, else computed.
    fn full_codes(self, lut: &ModalityLut, decoded: &Arc<Decoded>) -> Codes {
        if self.stored && matches!(decoded.frame.samples, Samples::U16(_)) {
            Codes::Frame(decoded.clone())
        } else {
            Codes::Computed(self.codes(lut, &decoded.frame))
        }
    }

    fn codes(self, lut: &ModalityLut, frame: &Frame) -> Vec<u16> {
        frame
            .samples
            .iter_i64()
            .map(|v| {
                ((lut.apply(v as f64) - self.offset) / self.scale)
                    .round()
                    .clamp(0.0, 65535.0) as u16
            })
            .collect()
    }
}

/// The range of a frame's modality values, and whether all are integers.
fn modality_range(lut: &ModalityLut, frame: &Frame) -> (f64, f64, bool) {
    let (mut lo, mut hi, mut integral) = (f64::INFINITY, f64::NEG_INFINITY, true);
    for v in frame.samples.iter_i64() {
        let m = lut.apply(v as f64);
        lo = lo.min(m);
        hi = hi.max(m);
        integral &= m.fract() == 0.0;
    }
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 0.0);
    }
    (lo, hi, integral)
}

fn grayscale_only(path: &Path, frame: &Frame) -> Result<()> {
    if frame.photometric.is_monochrome() {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        message: format!(
            "{}: {} images are not shown in the diagnostic viewer (grayscale only)",
            path.display(),
            frame.photometric.as_str()
        ),
    })
}

/// The viewer's image of a frame already decoded (`path` names it in
/// errors). Codes are fixed by the header where it can (integer data, unit
/// slope), else by the data's range. With a reduced frame (JPEG 2000), the
/// preview and the data-derived windows come from it, exactly as
/// [`viewer_first`] made them before the full frame was there.
pub fn viewer_image_from(path: &Path, decoded: &Arc<Decoded>) -> Result<ViewerImage> {
    let (instance, frame) = (&decoded.instance, &decoded.frame);
    grayscale_only(path, frame)?;
    let lut = instance.modality_lut(0);
    let header = Coding::from_header(instance);
    if let (Some(reduced), Some(coding)) = (decoded.reduced.as_ref(), header) {
        let mut image = viewer_first_with(path, instance, frame.cols, frame.rows, reduced, coding)?;
        image.data = coding.full_codes(&lut, decoded);
        return Ok(image);
    }
    // The range (and whether it is integral), then the codes: two passes
    // over the stored values, no per-pixel float copy.
    let (lo, hi, integral) = modality_range(&lut, frame);
    let coding = header.unwrap_or_else(|| Coding::from_range(lo, hi, integral));
    let data = coding.full_codes(&lut, decoded);
    let (width, height) = (frame.cols, frame.rows);
    let (preview, preview_width, preview_height) =
        reduce(data.as_slice(), width, height, PREVIEW_SIDE);
    Ok(ViewerImage {
        width,
        height,
        offset: coding.offset,
        scale: coding.scale,
        invert: instance.inverted(frame.photometric),
        windows: windows(instance, frame, lo, hi),
        spacing: instance.pixel_spacing(),
        data,
        preview_width,
        preview_height,
        preview,
    })
}

/// The viewer's first image of a JPEG 2000 file before its full decode:
/// geometry, windows and the reduced preview, no full-resolution data
/// ([`ViewerImage::is_full`] is false). `None` when the codes cannot be
/// fixed from the header (then the full image must come first).
pub fn viewer_first(
    path: &Path,
    instance: &Instance,
    reduced: &Frame,
) -> Result<Option<ViewerImage>> {
    let Some(coding) = Coding::from_header(instance) else {
        return Ok(None);
    };
    let px = instance.image().map_err(|source| Error::Dicom {
        path: path.to_path_buf(),
        source,
    })?;
    viewer_first_with(path, instance, px.cols, px.rows, reduced, coding).map(Some)
}

fn viewer_first_with(
    path: &Path,
    instance: &Instance,
    width: u32,
    height: u32,
    reduced: &Frame,
    coding: Coding,
) -> Result<ViewerImage> {
    grayscale_only(path, reduced)?;
    let lut = instance.modality_lut(0);
    let (lo, hi, _) = modality_range(&lut, reduced);
    Ok(ViewerImage {
        width,
        height,
        offset: coding.offset,
        scale: coding.scale,
        invert: instance.inverted(reduced.photometric),
        windows: windows(instance, reduced, lo, hi),
        spacing: instance.pixel_spacing(),
        data: Codes::Computed(Vec::new()),
        preview_width: reduced.cols,
        preview_height: reduced.rows,
        preview: coding.codes(&lut, reduced),
    })
}

/// The file's windows, else its default (approximated by the range it maps,
/// else the full modality range `lo..=hi`), then the full range.
fn windows(instance: &Instance, frame: &Frame, lo: f64, hi: f64) -> Vec<(String, f64, f64)> {
    let mut windows: Vec<(String, f64, f64)> = instance
        .voi_choices(0)
        .windows
        .into_iter()
        .enumerate()
        .filter(|(_, w)| w.width >= 1.0 && w.center.is_finite())
        .map(|(i, w)| {
            let name = w
                .explanation
                .clone()
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_else(|| format!("File window {}", i + 1));
            (name, w.center, w.width)
        })
        .collect();
    if windows.is_empty() {
        let (c, w) = match instance.default_voi(0, frame) {
            Voi::Window(w) => (w.center, w.width),
            _ => ((lo + hi) / 2.0 + 0.5, (hi - lo + 1.0).max(1.0)),
        };
        windows.push(("Default".into(), c, w));
    }
    windows.push((
        "Full range".into(),
        (lo + hi) / 2.0 + 0.5,
        (hi - lo + 1.0).max(1.0),
    ));
    windows
}

/// Box-averages by the smallest integer factor that brings the longest
/// side to `side` or below.
fn reduce(data: &[u16], width: u32, height: u32, side: u32) -> (Vec<u16>, u32, u32) {
    let factor = width.max(height).div_ceil(side).max(1);
    if factor == 1 {
        return (data.to_vec(), width, height);
    }
    let (w, h) = (width / factor, height / factor);
    let (f, stride) = (factor as usize, width as usize);
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for y in 0..h as usize {
        for x in 0..w as usize {
            let mut sum = 0u64;
            for dy in 0..f {
                let row = (y * f + dy) * stride + x * f;
                sum += data[row..row + f]
                    .iter()
                    .map(|&v| u64::from(v))
                    .sum::<u64>();
            }
            out.push((sum / (f * f) as u64) as u16);
        }
    }
    (out, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phantom_round_trips_exactly_with_a_preview() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = crate::demo::generate(dir.path(), 1, 1024, 3).expect("phantom");
        let img = viewer_image(&paths[0], &Limits::default()).expect("decodes");
        assert_eq!((img.width, img.height), (1024, 1024));
        assert_eq!(img.scale, 1.0, "integer data is kept exactly");
        assert_eq!(img.data.as_slice().len(), 1024 * 1024);
        assert_eq!((img.preview_width, img.preview_height), (512, 512));
        assert_eq!(img.preview.len(), 512 * 512);
        assert!(!img.windows.is_empty());
        let instance = overread_dicom::open(&paths[0], &Limits::default()).expect("open");
        let frame = instance.frame(0).expect("frame");
        let modality = instance.modality_values(0, &frame);
        assert_eq!(img.value(10, 20), Some(f64::from(modality[20 * 1024 + 10])));
        assert_eq!(img.bytes().len(), 2 * 1024 * 1024);
    }

    /// Every grayscale file of the corpus (signed, rescaled, 8 to 16 bits,
    /// every codec): the codes give back each pixel's modality value, to
    /// within half a code where the data's range sets the scale.
    #[test]
    fn codes_give_back_modality_values_across_the_corpus() {
        let Some(corpus) = std::env::var_os("OVERREAD_CORPUS") else {
            eprintln!("skipped: OVERREAD_CORPUS is not set");
            return;
        };
        let mut files = vec![std::path::PathBuf::from(corpus)];
        let (mut checked, mut shared) = (0, 0);
        while let Some(path) = files.pop() {
            if path.is_dir() {
                if !path.ends_with("reference") && !path.ends_with("damaged") {
                    files.extend(
                        std::fs::read_dir(&path)
                            .expect("dir")
                            .flatten()
                            .map(|e| e.path()),
                    );
                }
                continue;
            }
            let Ok(img) = viewer_image(&path, &Limits::default()) else {
                continue;
            };
            let instance = overread_dicom::open(&path, &Limits::default()).expect("open");
            let frame = instance.frame(0).expect("frame");
            let modality = instance.modality_values(0, &frame);
            for i in [
                0,
                modality.len() / 3,
                modality.len() / 2,
                modality.len() - 1,
            ] {
                let (x, y) = (i as u32 % img.width, i as u32 / img.width);
                let got = img.value(x, y).expect("a value");
                let want = f64::from(modality[i]);
                assert!(
                    (got - want).abs() <= img.scale / 2.0 + 1e-3 * want.abs().max(1.0),
                    "{}: ({x}, {y}) is {got}, the modality value {want}",
                    path.display()
                );
            }
            checked += 1;
            shared += usize::from(matches!(img.data, Codes::Frame(_)));
        }
        eprintln!("codes: {checked} files, {shared} sharing the decoded frame");
        assert!(
            checked > 100 && shared > 20,
            "{checked} checked, {shared} shared"
        );
    }

    #[test]
    fn reduce_averages_blocks() {
        let data = vec![0, 2, 4, 6, 0, 2, 4, 6];
        let (out, w, h) = reduce(&data, 4, 2, 2);
        assert_eq!((w, h), (2, 1));
        assert_eq!(out, vec![1, 5]);
    }
}
