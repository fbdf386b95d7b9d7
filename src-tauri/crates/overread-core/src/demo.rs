//! The bundled demo worklist: synthetic chest phantoms with known findings.

use std::path::{Path, PathBuf};

use overread_phantom::{PatientSeries, PhantomStudy, demo_studies, patient_with_priors};
use snafu::ResultExt;

use crate::error::{DicomSnafu, Error, Result};

/// File written beside the studies with each phantom's ground truth.
pub const TRUTH_FILE: &str = "phantom-truth.json";
/// File written beside the patients with priors: each series and the course
/// (unchanged, growing, new) of each opacity of its latest study.
pub const PRIORS_TRUTH_FILE: &str = "phantom-priors.json";

/// Writes `count` phantom studies of `size`×`size` pixels into `dir`, and
/// their ground truth; returns the instance paths.
pub fn generate(dir: &Path, count: u32, size: u16, seed: u64) -> Result<Vec<PathBuf>> {
    let fail = |message: String| Error::Output {
        path: dir.to_path_buf(),
        message,
    };
    if size < 64 {
        return Err(Error::InvalidArgument {
            message: format!("phantom size must be at least 64, got {size}"),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let studies: Vec<PhantomStudy> = demo_studies(count, size, size, seed);
    let mut paths = Vec::with_capacity(studies.len());
    for study in &studies {
        paths.push(study.write(dir).context(DicomSnafu { path: dir })?);
    }
    let truth = serde_json::to_vec_pretty(&studies).map_err(|e| fail(e.to_string()))?;
    std::fs::write(dir.join(TRUTH_FILE), truth).map_err(|e| fail(e.to_string()))?;
    Ok(paths)
}

/// The ground truth of the phantoms in `dir` as a validation truth file
/// (`overread model validate --truth`): one `study UID,opacity,0|1` row per
/// study, 1 when it has an opacity.
pub fn truth_csv(dir: &Path) -> Result<String> {
    let path = dir.join(TRUTH_FILE);
    let fail = |message: String| Error::Output {
        path: path.clone(),
        message,
    };
    let bytes = std::fs::read(&path).map_err(|e| fail(e.to_string()))?;
    let studies: Vec<PhantomStudy> =
        serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))?;
    let mut csv = String::from("study_instance_uid,label,value\n");
    for s in &studies {
        let positive = u8::from(!s.spec.opacities.is_empty());
        csv.push_str(&format!("{},opacity,{positive}\n", s.study_instance_uid));
    }
    Ok(csv)
}

/// Writes `patients` fictitious patients with three studies each, a year
/// apart, for prior comparison (an unchanged, a growing and a new opacity;
/// see [`PatientSeries`]), and their ground truth; returns the paths, oldest
/// study first for each patient.
pub fn generate_priors(dir: &Path, patients: u32, size: u16, seed: u64) -> Result<Vec<PathBuf>> {
    let fail = |message: String| Error::Output {
        path: dir.to_path_buf(),
        message,
    };
    if patients == 0 {
        return Ok(Vec::new());
    }
    if size < 64 {
        return Err(Error::InvalidArgument {
            message: format!("phantom size must be at least 64, got {size}"),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let series: Vec<PatientSeries> = (0..patients)
        .map(|i| {
            let s = seed.wrapping_mul(7_919).wrapping_add(u64::from(i));
            patient_with_priors(
                100 + i,
                s,
                size,
                size,
                3,
                &format!("202611{:02}", 20 + i % 8),
            )
        })
        .collect();
    let mut paths = Vec::new();
    for study in series.iter().flat_map(|s| &s.studies) {
        paths.push(study.write(dir).context(DicomSnafu { path: dir })?);
    }
    let truth = serde_json::to_vec_pretty(&series).map_err(|e| fail(e.to_string()))?;
    std::fs::write(dir.join(PRIORS_TRUTH_FILE), truth).map_err(|e| fail(e.to_string()))?;
    Ok(paths)
}

/// The demo worklist in `dir`, generated on first use: one patient at
/// three dates (so comparison is in the demo too) and twelve phantoms.
pub fn ensure(dir: &Path) -> std::result::Result<(), String> {
    if dir.join(TRUTH_FILE).is_file() {
        return Ok(());
    }
    generate_priors(dir, 1, 1024, 2026).map_err(|e| e.to_string())?;
    generate(dir, 12, 1024, 2026)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
