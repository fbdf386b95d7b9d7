//! Running a model on DICOM files: decode to display pixels, check the
//! intended use, infer, and write registered heatmaps.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use overread_dicom::{Header, Limits};
use overread_infer::{GrayImage, Inference, Model, StudyInfo};
use serde::Serialize;
use snafu::ResultExt;

use crate::error::{DicomSnafu, Error, Result};

/// The outcome for one file.
// Outcomes live behind an `Arc` in the triage cache and the worklist; a
// refusal's smaller size saves nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Outcome {
    Inferred {
        study_uid: Option<String>,
        sop_uid: Option<String>,
        inference: Inference,
        decode_ms: f64,
        heatmap: Option<PathBuf>,
        /// The display image the model saw, summarised (drift monitoring).
        image: ImageStats,
    },
    /// Outside the model's intended use; never inferred.
    Refused { reason: String },
}

/// Mean and standard deviation of a display image's values, scaled to
/// [0, 1]: a shift in them (a new detector, new processing) is one of the
/// things governance watches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImageStats {
    pub mean: f64,
    pub sd: f64,
}

impl ImageStats {
    pub fn of(pixels: &[u16]) -> ImageStats {
        if pixels.is_empty() {
            return ImageStats { mean: 0.0, sd: 0.0 };
        }
        let (mut sum, mut sq) = (0u64, 0u128);
        for &p in pixels {
            sum += u64::from(p);
            sq += u128::from(p) * u128::from(p);
        }
        let n = pixels.len() as f64;
        let mean = sum as f64 / n;
        let var = (sq as f64 / n - mean * mean).max(0.0);
        ImageStats {
            mean: mean / 65535.0,
            sd: var.sqrt() / 65535.0,
        }
    }
}

/// What the intended-use check needs, from the header (age from Patient's
/// Age, else from the birth and study dates).
pub fn study_info(h: &Header) -> StudyInfo {
    StudyInfo {
        modality: h.modality.clone(),
        view_position: h.view_position.clone(),
        body_part: h.body_part.clone(),
        age_years: h
            .patient_age
            .as_deref()
            .and_then(parse_age)
            .or_else(|| age_from_dates(h.patient_birth_date.as_deref()?, h.study_date.as_deref()?)),
    }
}

/// PS3.5 AS: nnnD, nnnW, nnnM or nnnY.
fn parse_age(s: &str) -> Option<u32> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: u32 = n.parse().ok()?;
    Some(match unit {
        "Y" => n,
        "M" => n / 12,
        "W" => n / 52,
        "D" => n / 365,
        _ => return None,
    })
}

fn age_from_dates(birth: &str, study: &str) -> Option<u32> {
    let ymd = |s: &str| -> Option<(i32, u32, u32)> {
        let s = s.trim();
        (s.len() == 8).then(|| {
            Some((
                s[..4].parse().ok()?,
                s[4..6].parse().ok()?,
                s[6..].parse().ok()?,
            ))
        })?
    };
    let (by, bm, bd) = ymd(birth)?;
    let (sy, sm, sd) = ymd(study)?;
    let mut age = sy - by;
    if (sm, sd) < (bm, bd) {
        age -= 1;
    }
    u32::try_from(age).ok()
}

/// Infers on one file; `heatmaps` is a folder for registered heatmap PNGs.
/// Reading and decoding the file together may take at most `deadline`
/// ([`crate::deadline`]).
pub fn infer_file(
    model: &mut Model,
    path: &Path,
    heatmaps: Option<&Path>,
    limits: &Limits,
    deadline: Duration,
) -> Result<Outcome> {
    let t0 = Instant::now();
    let (file, limits_) = (path.to_path_buf(), *limits);
    let instance = crate::deadline::within(deadline, path, move || {
        overread_dicom::open(&file, &limits_).context(DicomSnafu { path: file.clone() })
    })?;
    if let Some(reason) = model.refusal(&study_info(instance.header())) {
        return Ok(Outcome::Refused { reason });
    }
    let file = path.to_path_buf();
    let left = deadline.saturating_sub(t0.elapsed());
    let decoded = crate::deadline::within(left, path, move || {
        let frame = instance.frame(0).context(DicomSnafu { path: file })?;
        Ok(crate::frames::Decoded {
            instance,
            frame,
            reduced: None,
        })
    })?;
    infer_decoded(model, path, &decoded, heatmaps, t0)
}

/// Infers on an image already decoded (shared with the viewer through
/// [`crate::frames`]); `t0` is when its reading began, for `decode_ms`.
pub fn infer_decoded(
    model: &mut Model,
    path: &Path,
    decoded: &crate::frames::Decoded,
    heatmaps: Option<&Path>,
    t0: Instant,
) -> Result<Outcome> {
    let header = decoded.instance.header().clone();
    if let Some(reason) = model.refusal(&study_info(&header)) {
        return Ok(Outcome::Refused { reason });
    }
    let image = decoded
        .instance
        .display_frame(0, &decoded.frame, None)
        .context(DicomSnafu { path })?;
    if image.channels != 1 {
        return Ok(Outcome::Refused {
            reason: "colour images are outside the intended use".into(),
        });
    }
    let decode_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let gray = GrayImage {
        width: image.width as usize,
        height: image.height as usize,
        pixels: &image.data,
    };
    let stats = ImageStats::of(&image.data);
    let inference = model.infer(gray).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let sop_uid = header.sop_instance_uid;
    let heatmap = match (heatmaps, inference.findings.first()) {
        (Some(dir), Some(first)) => Some(write_heatmap(
            &inference,
            &first.label,
            dir,
            sop_uid.as_deref(),
            path,
        )?),
        _ => None,
    };
    Ok(Outcome::Inferred {
        study_uid: header.study_instance_uid,
        sop_uid,
        inference,
        decode_ms,
        heatmap,
        image: stats,
    })
}

/// Writes the registered heatmap of `label` as an 8-bit PNG the size of the image.
fn write_heatmap(
    inference: &Inference,
    label: &str,
    dir: &Path,
    sop_uid: Option<&str>,
    source: &Path,
) -> Result<PathBuf> {
    let fail = |message: String| Error::Output {
        path: dir.to_path_buf(),
        message,
    };
    let Some(reg) = inference.registered(label) else {
        return Err(fail(format!("the model has no heatmap for {label}")));
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    // Name by a sanitised id, never by a raw path from the file.
    let stem = sop_uid.map(str::to_string).unwrap_or_else(|| {
        source
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(96)
        .collect();
    let label: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let out = dir.join(format!("{safe}_{label}.png"));
    let pixels: Vec<u8> = reg
        .values
        .iter()
        .map(|v| (v * 255.0).round() as u8)
        .collect();
    let img = image::GrayImage::from_raw(reg.width as u32, reg.height as u32, pixels)
        .ok_or_else(|| fail("heatmap size mismatch".into()))?;
    img.save(&out).map_err(|e| fail(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("064Y"), Some(64));
        assert_eq!(parse_age("018M"), Some(1));
        assert_eq!(parse_age("x"), None);
        assert_eq!(age_from_dates("19400305", "20040826"), Some(64));
        assert_eq!(age_from_dates("19400905", "20040826"), Some(63));
    }
}
