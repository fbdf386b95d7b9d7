//! How often each file is read and each instance decoded, for tests that
//! prove work is done once per study (the `counters` feature; off in the
//! app). Reads count by path: whole files ([`crate::open`]) apart from
//! headers ([`crate::read_header`], which scans use). Decodes count by the
//! path the instance was read from, and by SOP Instance UID (instances
//! made from bytes have no path): full-resolution frames apart from
//! reduced previews. Tests running at once may decode copies of one
//! instance; the path tells them apart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// What has been done to one file or instance so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Whole-file reads (`open`).
    pub reads: u32,
    /// Header-only reads (`read_header`, scans).
    pub header_reads: u32,
    /// Full-resolution frame decodes.
    pub decodes: u32,
    /// Reduced-resolution decodes (JPEG 2000 previews).
    pub previews: u32,
}

static BY_PATH: Mutex<Option<HashMap<PathBuf, Count>>> = Mutex::new(None);
static BY_SOP: Mutex<Option<HashMap<String, Count>>> = Mutex::new(None);

fn bump<K: std::hash::Hash + Eq>(
    map: &Mutex<Option<HashMap<K, Count>>>,
    key: K,
    f: impl FnOnce(&mut Count),
) {
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    f(map.get_or_insert_with(HashMap::new).entry(key).or_default());
}

pub(crate) fn read(path: &Path, header_only: bool) {
    bump(&BY_PATH, path.to_path_buf(), |c| {
        if header_only {
            c.header_reads += 1;
        } else {
            c.reads += 1;
        }
    });
}

pub(crate) fn decoded(origin: Option<&Path>, sop: Option<&str>, preview: bool) {
    let count = |c: &mut Count| {
        if preview {
            c.previews += 1;
        } else {
            c.decodes += 1;
        }
    };
    if let Some(path) = origin {
        bump(&BY_PATH, path.to_path_buf(), count);
    }
    bump(&BY_SOP, sop.unwrap_or_default().to_owned(), count);
}

/// Reads of the file at `path`, and decodes of what was read from it, so far.
pub fn of_path(path: &Path) -> Count {
    let map = BY_PATH.lock().unwrap_or_else(PoisonError::into_inner);
    map.as_ref()
        .and_then(|m| m.get(path))
        .copied()
        .unwrap_or_default()
}

/// Decodes of the instance `sop` so far.
pub fn of_instance(sop: &str) -> Count {
    let map = BY_SOP.lock().unwrap_or_else(PoisonError::into_inner);
    map.as_ref()
        .and_then(|m| m.get(sop))
        .copied()
        .unwrap_or_default()
}
