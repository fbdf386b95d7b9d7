//! The DICOM crate's one integration-test binary.

mod complete;
mod corpus;
mod malformed;
mod npy;
mod results;

use std::path::PathBuf;

/// The corpus built by tests/corpus/setup.sh. Tests that need it fail when
/// OVERREAD_CORPUS names a missing folder, and skip (saying so) when the
/// variable is unset, so a plain `cargo test` works on a fresh checkout.
pub fn corpus_dir() -> Option<PathBuf> {
    match std::env::var_os("OVERREAD_CORPUS") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            assert!(
                dir.join("reference/manifest.json").is_file(),
                "OVERREAD_CORPUS={} has no reference/manifest.json: run tests/corpus/setup.sh",
                dir.display()
            );
            Some(dir)
        }
        None => {
            eprintln!(
                "skipped: OVERREAD_CORPUS is not set (scripts/test.sh sets it after building the corpus)"
            );
            None
        }
    }
}

/// The repository's root (for scripts the tests run).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}
