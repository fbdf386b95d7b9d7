//! Decoded images for the viewer: the one on screen and its neighbours.
//!
//! Decoding is long (hundreds of milliseconds for JPEG 2000), so it is not
//! done under a lock: one decoder thread serves the viewer's requests in
//! order over a channel, and the frames themselves come from
//! [`crate::frames`], shared with triage, so that an image triage decoded is
//! not decoded again. Images already made are read from a small shared
//! list without waiting for the decoder.
//!
//! An image has up to two stages here: the first (geometry, windows and a
//! reduced preview) and the full one. For JPEG 2000 the first stage comes
//! from a reduced-resolution decode, tens of milliseconds, and the full
//! image after; for other syntaxes both come from the one full decode.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Weak};
use std::time::Duration;

use overread_dicom::Limits;

use super::owned::Owned;
use super::study::ImageFile;
use super::{Workstation, WsResult};
use crate::api::{ApiError, ErrorCode, ImageGeometry, StudyId};
use crate::frames::{First, Frames};
use crate::pixels::{self, ViewerImage};
use crate::triage::Reading;

/// Images kept (about 8 MB each for a chest X-ray at full resolution): the
/// two views of the open study, its prior's, and a prefetched one.
const KEPT: usize = 5;

type Made = Result<Arc<ViewerImage>, ApiError>;

/// A study's image: its id and the image's place in hanging order.
type Key = (StudyId, u32);

struct Job {
    id: Key,
    file: ImageFile,
    /// The first stage will do (geometry and preview); else the full image.
    first: bool,
    reply: SyncSender<Made>,
}

type Kept = Owned<Vec<(Key, Arc<ViewerImage>)>>;

#[derive(Debug)]
pub(crate) struct Images {
    kept: Arc<Kept>,
    jobs: Sender<Job>,
}

impl Images {
    pub(crate) fn new(limits: Limits, deadline: Duration, frames: Arc<Frames>) -> Images {
        let kept: Arc<Kept> = Arc::new(Owned::new("images", Vec::new()));
        let (jobs, queue) = mpsc::channel();
        let weak = Arc::downgrade(&kept);
        let reading = Reading {
            limits,
            deadline,
            frames,
        };
        // If the thread cannot start, every request says so (below).
        let _ = std::thread::Builder::new()
            .name("decoder".into())
            .spawn(move || decoder(queue, weak, reading));
        Images { kept, jobs }
    }

    /// A kept image: any stage when `first`, else only a full one.
    fn cached(&self, id: Key, first: bool) -> Option<Arc<ViewerImage>> {
        self.kept.read(|k| kept(k, id, first))
    }

    /// Image `id` from `file`: its first stage when `first` (what opening
    /// shows before the full image), else the full image.
    pub(crate) fn get(&self, id: Key, file: ImageFile, first: bool) -> Made {
        if let Some(image) = self.cached(id, first) {
            return Ok(image);
        }
        let gone = || ApiError::new(ErrorCode::Internal, "the image decoder has stopped");
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send(Job {
                id,
                file,
                first,
                reply,
            })
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }

    /// Queues `id` for decoding without waiting for it (a prior, before it
    /// is shown); nothing when it is decoded already.
    pub(crate) fn warm(&self, id: Key, file: ImageFile) {
        if self.cached(id, false).is_some() {
            return;
        }
        // Nobody waits on the reply: the decoder's send fails, harmlessly.
        let (reply, _) = mpsc::sync_channel(1);
        let _ = self.jobs.send(Job {
            id,
            file,
            first: false,
            reply,
        });
    }

    /// Whether `id` is decoded in full (for tests).
    #[cfg(test)]
    pub(crate) fn is_cached(&self, id: Key) -> bool {
        self.cached(id, false).is_some()
    }

    /// Forgets every decoded image (their files may be gone).
    pub(crate) fn clear(&self) {
        self.kept.write(Vec::clear);
    }
}

fn kept(k: &[(Key, Arc<ViewerImage>)], id: Key, first: bool) -> Option<Arc<ViewerImage>> {
    k.iter()
        .find(|(k, i)| *k == id && (first || i.is_full()))
        .map(|(_, i)| i.clone())
}

/// The decoder thread: ends when the workstation is dropped.
fn decoder(queue: Receiver<Job>, kept: Weak<Kept>, reading: Reading) {
    for job in queue {
        let Some(kept) = kept.upgrade() else { return };
        let result = match kept.read(|k| self::kept(k, job.id, job.first)) {
            Some(image) => Ok(image),
            None => make(&job.file, job.first, &reading).inspect(|image| {
                kept.write(|k| {
                    k.retain(|(k, _)| *k != job.id);
                    k.insert(0, (job.id, image.clone()));
                    k.truncate(KEPT);
                });
            }),
        };
        // The asker may have given up; nothing to do then.
        let _ = job.reply.send(result);
    }
}

/// The viewer's image of a file from its frames ([`crate::frames`]: read
/// and decoded once for triage and viewer alike, within the per-file
/// deadline): the first stage of a JPEG 2000 file when that is enough.
fn make(file: &ImageFile, first: bool, reading: &Reading) -> Made {
    let (path, sop, frames) = (&file.path, file.sop_uid.as_deref(), &reading.frames);
    let (limits, deadline) = (&reading.limits, reading.deadline);
    let full = |d: Arc<crate::frames::Decoded>| pixels::viewer_image_from(path, &d);
    let image = if first {
        match frames.first(path, sop, file.reducible, limits, deadline) {
            Ok(First::Full(d)) => full(d),
            Ok(First::Opened(o)) => match o.reduced.as_ref() {
                Some(r) => pixels::viewer_first(path, &o.instance, r).transpose(),
                None => None,
            }
            .unwrap_or_else(|| frames.get(path, sop, limits, deadline).and_then(full)),
            Err(e) => Err(e),
        }
    } else {
        frames.get(path, sop, limits, deadline).and_then(full)
    };
    match image {
        Ok(image) => Ok(Arc::new(image)),
        Err(e) => Err(ApiError::new(ErrorCode::Image, e.to_string())),
    }
}

impl Workstation {
    /// The decoded first image of a study (the one shown on opening and
    /// inferred), in full, from the cache or the file.
    pub fn image(&self, id: StudyId) -> WsResult<Arc<ViewerImage>> {
        self.image_at(id, 0)
    }

    /// Image `index` of a study in full, in hanging order.
    pub fn image_at(&self, id: StudyId, index: u32) -> WsResult<Arc<ViewerImage>> {
        let file = self.image_file(id, index)?;
        self.images.get((id, index), file, false)
    }

    /// Image `index`'s first stage: geometry, windows and the preview (for
    /// JPEG 2000 before the full image is decoded), or the full image.
    pub(super) fn first_image(&self, id: StudyId, index: u32) -> WsResult<Arc<ViewerImage>> {
        let file = self.image_file(id, index)?;
        self.images.get((id, index), file, true)
    }

    /// Image `index`'s file as the header kept at scan time describes it.
    pub(super) fn image_file(&self, id: StudyId, index: u32) -> WsResult<ImageFile> {
        // Says why the study's images are not here, when they are not.
        self.shown_file(id)?;
        self.studies
            .get(id, |s| s.image_file(index as usize))
            .flatten()
            .ok_or_else(|| ApiError::invalid(format!("this study has no image {index}")))
    }

    /// How the viewer draws image `index` of a study (a lateral beside the
    /// frontal, or a prior in comparison); its pixels come from
    /// `overread://localhost/pixels/{id}/{index}`.
    pub fn open_image(&self, id: StudyId, index: u32) -> WsResult<ImageGeometry> {
        Ok(super::view::geometry(self.first_image(id, index)?.as_ref()))
    }

    /// Little-endian u16 pixels for `overread://localhost/pixels/{id}[/{index}]`:
    /// the preview from the image's first stage, else the full image. A
    /// study's first preview (the worklist's prefetch, and the first fetch
    /// of opening) also starts decoding its newest prior.
    pub fn pixels(&self, id: StudyId, index: u32, preview: bool) -> WsResult<Vec<u8>> {
        if !preview {
            return Ok(self.image_at(id, index)?.bytes());
        }
        let image = self.first_image(id, index)?;
        if index == 0 {
            self.warm_newest_prior(id);
        }
        Ok(image.preview_bytes())
    }
}

#[cfg(test)]
mod tests;
