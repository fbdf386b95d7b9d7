//! The bundled demo worklist: synthetic chest phantoms with known findings.

use std::path::{Path, PathBuf};

use overread_phantom::{PhantomStudy, demo_studies};
use snafu::ResultExt;

use crate::error::{DicomSnafu, Error, Result};

/// File written beside the studies with each phantom's ground truth.
pub const TRUTH_FILE: &str = "phantom-truth.json";

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
