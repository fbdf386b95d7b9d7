//! Decoded frames shared by triage and the viewer, so that each image is
//! read and decoded once however many parts of the workstation need it.
//!
//! Entries are keyed by the SOP Instance UID (from the header kept at scan
//! time) and the file's content as the file system describes it (length
//! and modification time): a file replaced under the same name is decoded
//! again. The cache is sized in bytes and evicts the least recently used.
//! Two threads asking for the same image at once share one read and one
//! decode: the second waits for the first's result.
//!
//! A JPEG 2000 image has two stages. Its first pixels come from a decode at
//! reduced resolution ([`Frames::first`]: tens of milliseconds where the
//! full image takes hundreds), and the file's bytes are kept with it until
//! the full frame is decoded from them ([`Frames::get`]), so the file is
//! still read once. A full decode that comes first makes the reduced frame
//! too, so the viewer's first image of a J2K file is the same whichever
//! stage came first.
//!
//! The lock guards only the list; reading and decoding run outside it,
//! within the per-file deadline ([`crate::deadline`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use overread_dicom::{Frame, Instance, Limits};

use crate::error::{DicomSnafu, Error, Result};
use crate::pixels::PREVIEW_SIDE;
use snafu::ResultExt;

/// What triage and the viewer need of an image: its header and attributes
/// (the file's bytes released) and its first frame's stored values.
#[derive(Debug)]
pub struct Decoded {
    pub instance: Instance,
    pub frame: Frame,
    /// The first frame at reduced resolution, from the codestream's lower
    /// wavelet levels (JPEG 2000); `None` for other syntaxes.
    pub reduced: Option<Frame>,
}

/// A JPEG 2000 image before its full decode: the file as read, and the
/// first frame at reduced resolution (`None` if the codec made none).
#[derive(Debug)]
pub struct Opened {
    pub instance: Instance,
    pub reduced: Option<Frame>,
}

/// The earliest stage of an image there is.
#[derive(Debug, Clone)]
pub enum First {
    Full(Arc<Decoded>),
    Opened(Arc<Opened>),
}

fn frame_bytes(frame: &Frame) -> u64 {
    let per_sample = match &frame.samples {
        overread_dicom::Samples::U8(_) => 1,
        overread_dicom::Samples::U16(_) | overread_dicom::Samples::I16(_) => 2,
        _ => 4,
    };
    (frame.samples.len() * per_sample) as u64
}

impl Decoded {
    fn bytes(&self) -> u64 {
        frame_bytes(&self.frame) + self.reduced.as_ref().map_or(0, frame_bytes)
    }
}

impl Opened {
    fn bytes(&self) -> u64 {
        self.instance.held_bytes() as u64 + self.reduced.as_ref().map_or(0, frame_bytes)
    }

    /// The full frame, from the bytes already read.
    fn decode(&self, path: &Path) -> Result<Decoded> {
        let frame = self.instance.frame(0).context(DicomSnafu { path })?;
        Ok(Decoded {
            instance: self.instance.without_pixel_data(),
            frame,
            reduced: self.reduced.clone(),
        })
    }
}

/// Default budget: about eight 2k × 2k 16-bit radiographs.
pub const DEFAULT_BUDGET: u64 = 64 << 20;

/// Which image, in which state of its file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    /// The SOP Instance UID, or the path when the header had none.
    instance: String,
    len: u64,
    modified: Option<SystemTime>,
}

type Shared<T> = Arc<OnceLock<std::result::Result<Arc<T>, Arc<Error>>>>;

#[derive(Default)]
struct Entry {
    full: Shared<Decoded>,
    /// Set once a full decode has begun: a first-pixels request then waits
    /// for it rather than reading the file again.
    full_begun: bool,
    opened: Option<Shared<Opened>>,
    bytes: u64,
}

/// The cache: most recently used first.
pub struct Frames {
    budget: u64,
    entries: Mutex<Vec<(Key, Entry)>>,
}

impl std::fmt::Debug for Frames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frames")
            .field("budget", &self.budget)
            .field("used", &self.used())
            .finish()
    }
}

impl Default for Frames {
    fn default() -> Self {
        Frames::new(DEFAULT_BUDGET)
    }
}

fn key_of(path: &Path, sop_uid: Option<&str>) -> Result<Key> {
    let meta = std::fs::metadata(path).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    Ok(Key {
        instance: sop_uid.map_or_else(|| path.display().to_string(), str::to_owned),
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

impl Frames {
    pub fn new(budget: u64) -> Frames {
        Frames {
            budget,
            entries: Mutex::new(Vec::new()),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Vec<(Key, Entry)>) -> R) -> R {
        f(&mut self.entries.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Bytes of decoded samples (and files kept for their full decode) held now.
    pub fn used(&self) -> u64 {
        self.with(|e| e.iter().map(|(_, e)| e.bytes).sum())
    }

    /// The entry for `key`, made the most recent (created if new); `f` sees it.
    fn touch<R>(&self, key: &Key, f: impl FnOnce(&mut Entry) -> R) -> R {
        self.with(|entries| {
            let entry = match entries.iter().position(|(k, _)| k == key) {
                Some(i) => entries.remove(i).1,
                None => Entry::default(),
            };
            entries.insert(0, (key.clone(), entry));
            f(&mut entries[0].1)
        })
    }

    /// Files what a stage produced: its size counted and the budget kept
    /// (least recently used out first; this one stays), or, on failure,
    /// the entry dropped so that the next request tries again.
    fn settle(&self, key: &Key, outcome: std::result::Result<u64, ()>, full: bool) {
        self.with(|entries| {
            let Some(i) = entries.iter().position(|(k, _)| k == key) else {
                return;
            };
            let Ok(bytes) = outcome else {
                entries.remove(i);
                return;
            };
            let (key, mut entry) = entries.remove(i);
            if full {
                entry.bytes = bytes;
                entry.opened = None; // the file's bytes are let go
            } else if entry.full.get().is_none() {
                entry.bytes = bytes;
            }
            entries.insert(0, (key, entry));
            let mut used: u64 = entries.iter().map(|(_, e)| e.bytes).sum();
            while used > self.budget && entries.len() > 1 {
                used -= entries.pop().map_or(0, |(_, e)| e.bytes);
            }
        });
    }

    /// The first frame of the file at `path` (instance `sop_uid`, from its
    /// header), decoded once: from the cache, from a decode another thread
    /// has begun, from the bytes a first-pixels request kept, or read and
    /// decoded now within `deadline`.
    pub fn get(
        &self,
        path: &Path,
        sop_uid: Option<&str>,
        limits: &Limits,
        deadline: Duration,
    ) -> Result<Arc<Decoded>> {
        let key = key_of(path, sop_uid)?;
        let (full, opened) = self.touch(&key, |e| {
            e.full_begun = true;
            (e.full.clone(), e.opened.clone())
        });
        let (file, limits) = (path.to_path_buf(), *limits);
        let result = full
            .get_or_init(|| {
                let opened = opened.and_then(|o| o.wait().as_ref().ok().cloned());
                crate::deadline::within(deadline, path, move || match opened {
                    Some(opened) => opened.decode(&file),
                    None => decode(&file, &limits),
                })
                .map(Arc::new)
                .map_err(Arc::new)
            })
            .clone();
        self.settle(&key, result.as_ref().map(|d| d.bytes()).map_err(drop), true);
        result.map_err(|source| Error::Shared { source })
    }

    /// The earliest stage of the image there is, for first pixels: the
    /// full frame when it is decoded or being decoded; else, for JPEG 2000
    /// (`reducible`, from the header kept at scan time), the file read and
    /// its frame decoded at reduced resolution, the bytes kept for
    /// [`Frames::get`]; else the full frame.
    pub fn first(
        &self,
        path: &Path,
        sop_uid: Option<&str>,
        reducible: bool,
        limits: &Limits,
        deadline: Duration,
    ) -> Result<First> {
        let key = key_of(path, sop_uid)?;
        let opened = self.touch(&key, |e| match e.full.get() {
            Some(Ok(done)) => Err(done.clone()),
            _ if e.full_begun || !reducible => Ok(None),
            _ => Ok(Some(e.opened.get_or_insert_with(Shared::default).clone())),
        });
        let opened = match opened {
            Err(done) => return Ok(First::Full(done)),
            Ok(None) => return self.get(path, sop_uid, limits, deadline).map(First::Full),
            Ok(Some(opened)) => opened,
        };
        let (file, limits) = (path.to_path_buf(), *limits);
        let result = opened
            .get_or_init(|| {
                crate::deadline::within(deadline, path, move || open_reduced(&file, &limits))
                    .map(Arc::new)
                    .map_err(Arc::new)
            })
            .clone();
        self.settle(
            &key,
            result.as_ref().map(|o| o.bytes()).map_err(drop),
            false,
        );
        result
            .map(First::Opened)
            .map_err(|source| Error::Shared { source })
    }
}

/// Reads and decodes the first frame (and, for JPEG 2000, the reduced one
/// from the same bytes), keeping the header, not the file.
fn decode(path: &PathBuf, limits: &Limits) -> Result<Decoded> {
    let opened = open_reduced(path, limits)?;
    let mut instance = opened.instance;
    let frame = instance.frame(0).context(DicomSnafu { path })?;
    instance.release_pixel_data();
    Ok(Decoded {
        instance,
        frame,
        reduced: opened.reduced,
    })
}

/// Reads the file and, where its codec makes one cheaply (JPEG 2000), its
/// first frame at reduced resolution.
fn open_reduced(path: &PathBuf, limits: &Limits) -> Result<Opened> {
    let instance = overread_dicom::open(path, limits).context(DicomSnafu { path })?;
    // No reduced frame is no error: the full decode says what is wrong.
    let reduced = instance.reduced_frame(0, PREVIEW_SIDE).ok().flatten();
    Ok(Opened { instance, reduced })
}

#[cfg(test)]
mod tests;
