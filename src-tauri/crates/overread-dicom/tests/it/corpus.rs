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

/// Every codec's frames split over many fragments with an empty offset table
/// (64 KiB for RG1, as the WG-04 set stores MR1_JLSL; 1 KiB for the 10-frame
/// MR) decode exactly as pydicom decodes them (#12).
#[test]
fn fragmented_frames_of_every_codec_match_pydicom() {
    let Some(dir) = corpus_dir() else { return };
    let manifest: Vec<Value> = serde_json::from_slice(
        &std::fs::read(dir.join("reference/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let mut tally = Tally::default();
    let mut syntaxes = std::collections::BTreeSet::new();
    for entry in manifest
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("fragmented/"))
        })
        .filter(|e| e["path"] != "fragmented/emri_rle_1k.dcm")
    {
        assert!(entry.get("pydicom_error").is_none(), "{entry}");
        syntaxes.insert(
            entry["transfer_syntax"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        check_file(
            &dir,
            entry["path"].as_str().expect("path"),
            entry,
            &mut tally,
        );
    }
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    // JPEG baseline, extended, lossless SV1; JPEG-LS lossless and near;
    // JPEG 2000 lossless and lossy; RLE.
    assert!(
        syntaxes.len() >= 8,
        "fragmented syntaxes in the corpus: {syntaxes:?}"
    );
    assert!(tally.exact + tally.within_tolerance >= 11);
}

/// RLE allows one fragment per frame, but a multi-frame file split further
/// with no offset table (dcmtk writes one) still decodes: each frame starts
/// where an RLE header does. pydicom refuses it, so the native original is
/// the reference.
#[test]
fn rle_frames_split_over_fragments_are_found_by_their_headers() {
    let Some(dir) = corpus_dir() else { return };
    let ours = open(&dir.join("fragmented/emri_rle_1k.dcm"), &Limits::default()).expect("open");
    let native = open(&dir.join("pydicom-data/emri_small.dcm"), &Limits::default()).expect("open");
    assert_eq!(ours.image().expect("image").frames, 10);
    for f in 0..10 {
        let a: Vec<i64> = ours
            .frame(f)
            .expect("rle frame")
            .samples
            .iter_i64()
            .collect();
        let b: Vec<i64> = native
            .frame(f)
            .expect("native frame")
            .samples
            .iter_i64()
            .collect();
        assert_eq!(a, b, "frame {f}");
    }
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
