//! Our decoded values against pydicom's, on every file of the corpus both
//! can decode: exact for lossless syntaxes, within a tolerance for lossy ones.

use std::path::Path;

use overread_dicom::{Limits, open};
use serde_json::Value;

use crate::{corpus_dir, npy};

/// Files where we deliberately differ from pydicom, with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

/// Files pydicom decodes that we refuse, with the reason.
const REFUSED: &[(&str, &str)] = &[(
    "pydicom/JPEG2000-embedded-sequence-delimiter.dcm",
    "its SIZ marker declares a width of 3722445056 (the test file's deliberate damage)",
)];

#[derive(Default)]
struct Tally {
    exact: usize,
    within_tolerance: usize,
    refused: usize,
    failures: Vec<String>,
}

#[test]
fn decoded_values_match_pydicom() {
    let Some(dir) = corpus_dir() else { return };
    let manifest: Vec<Value> = serde_json::from_slice(
        &std::fs::read(dir.join("reference/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let mut tally = Tally::default();
    for entry in &manifest {
        let rel = entry["path"].as_str().expect("path");
        if entry.get("pydicom_error").is_some() {
            continue;
        }
        check_file(&dir, rel, entry, &mut tally);
    }
    eprintln!(
        "corpus: {} exact, {} lossy within tolerance, {} refused as listed, {} failures",
        tally.exact,
        tally.within_tolerance,
        tally.refused,
        tally.failures.len()
    );
    assert!(
        tally.exact + tally.within_tolerance >= 150,
        "too few files compared: is the corpus complete?"
    );
    assert!(
        tally.failures.is_empty(),
        "mismatches with pydicom:\n{}",
        tally.failures.join("\n")
    );
}

fn check_file(dir: &Path, rel: &str, entry: &Value, tally: &mut Tally) {
    let fail = |tally: &mut Tally, msg: String| tally.failures.push(format!("{rel}: {msg}"));
    let instance = match open(&dir.join(rel), &Limits::default()) {
        Ok(i) => i,
        Err(e) => return fail(tally, format!("open: {e}")),
    };
    let frames = entry["frames"].as_u64().unwrap_or(1) as u32;
    let mut ours: Vec<f64> = Vec::new();
    for f in 0..frames {
        match instance.frame(f) {
            Ok(frame) => ours.extend(frame.samples.iter_i64().map(|v| v as f64)),
            Err(e) => {
                if REFUSED.iter().any(|(p, _)| *p == rel) {
                    tally.refused += 1;
                } else {
                    fail(tally, format!("frame {f}: {e}"));
                }
                return;
            }
        }
    }
    let reference = match npy::read(
        &dir.join("reference")
            .join(entry["npy"].as_str().unwrap_or_default()),
    ) {
        Ok(r) => r,
        Err(e) => return fail(tally, e),
    };
    if ours.len() != reference.data.len() {
        return fail(
            tally,
            format!(
                "{} samples, pydicom has {} (shape {:?})",
                ours.len(),
                reference.data.len(),
                reference.shape
            ),
        );
    }
    let known = KNOWN_DIFFERENCES.iter().find(|(p, _)| *p == rel);
    let diffs: Vec<f64> = ours
        .iter()
        .zip(&reference.data)
        .map(|(a, b)| (a - b).abs())
        .collect();
    let max = diffs.iter().copied().fold(0.0, f64::max);
    let mean = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
    if max == 0.0 {
        tally.exact += 1;
    } else if entry["lossy"].as_bool() == Some(true) {
        // Lossy decoders differ in IDCT/wavelet rounding: allow a few units
        // at worst and a small average, scaled to the sample depth.
        let bits = entry["bits_stored"].as_u64().unwrap_or(8).min(16) as i32;
        let unit = 2f64.powi(bits - 8).max(1.0);
        if max <= 8.0 * unit && mean <= 0.5 * unit {
            tally.within_tolerance += 1;
        } else {
            fail(
                tally,
                format!("lossy values differ: max {max}, mean {mean:.3}"),
            );
        }
    } else if known.is_some() {
        tally.exact += 1;
    } else {
        let first = diffs.iter().position(|&d| d > 0.0).unwrap_or(0);
        fail(
            tally,
            format!(
                "lossless values differ: max {max}, first at {first} (ours {}, pydicom {})",
                ours[first], reference.data[first]
            ),
        );
    }
    if let Some(modality) = entry.get("modality_npy").and_then(Value::as_str) {
        check_modality(dir, rel, &instance, modality, tally);
    }
}

fn check_modality(
    dir: &Path,
    rel: &str,
    instance: &overread_dicom::Instance,
    npy_name: &str,
    tally: &mut Tally,
) {
    let Ok(reference) = npy::read(&dir.join("reference").join(npy_name)) else {
        tally
            .failures
            .push(format!("{rel}: cannot read {npy_name}"));
        return;
    };
    let Ok(frame) = instance.frame(0) else { return };
    let ours = instance.modality_values(0, &frame);
    let max = ours
        .iter()
        .zip(&reference.data)
        .map(|(a, b)| (f64::from(*a) - b).abs())
        .fold(0.0, f64::max);
    let scale = reference.data.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    if ours.len() != reference.data.len() || max > 1e-5 * scale {
        tally.failures.push(format!(
            "{rel}: modality LUT output differs from pydicom's (max {max})"
        ));
    }
}
