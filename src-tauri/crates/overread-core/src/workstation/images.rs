//! Decoded images for the viewer: the one on screen and its neighbours.
//!
//! Decoding is long (hundreds of milliseconds for JPEG 2000), so it is not
//! done under a lock: one decoder thread owns the decoding and serves
//! requests in order over a channel. A prefetch and an open of the same
//! study therefore decode it once, and memory stays bounded (one decode at a
//! time). Images already decoded are read from a small shared list without
//! waiting for the decoder.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Weak};
use std::time::Duration;

use overread_dicom::Limits;

use super::owned::Owned;
use super::{Workstation, WsResult};
use crate::api::{ApiError, ErrorCode, ImageGeometry, StudyId};
use crate::pixels::{self, ViewerImage};

/// Decoded images kept (about 8 MB each for a chest X-ray): the two
/// views of the open study, its prior's, and a prefetched one.
const KEPT: usize = 5;

type Decoded = Result<Arc<ViewerImage>, ApiError>;

/// A study's image: its id and the image's place in hanging order.
type Key = (StudyId, u32);

struct Job {
    id: Key,
    path: PathBuf,
    reply: SyncSender<Decoded>,
}

type Kept = Owned<Vec<(Key, Arc<ViewerImage>)>>;

#[derive(Debug)]
pub(crate) struct Images {
    kept: Arc<Kept>,
    jobs: Sender<Job>,
}

impl Images {
    pub(crate) fn new(limits: Limits, deadline: Duration) -> Images {
        let kept: Arc<Kept> = Arc::new(Owned::new("images", Vec::new()));
        let (jobs, queue) = mpsc::channel();
        let weak = Arc::downgrade(&kept);
        // If the thread cannot start, every request says so (below).
        let _ = std::thread::Builder::new()
            .name("decoder".into())
            .spawn(move || decoder(queue, weak, limits, deadline));
        Images { kept, jobs }
    }

    fn cached(&self, id: Key) -> Option<Arc<ViewerImage>> {
        self.kept
            .read(|k| k.iter().find(|(k, _)| *k == id).map(|(_, i)| i.clone()))
    }

    /// The decoded image `id` (a study's image), from `path`.
    pub(crate) fn get(&self, id: Key, path: PathBuf) -> Decoded {
        if let Some(image) = self.cached(id) {
            return Ok(image);
        }
        let gone = || ApiError::new(ErrorCode::Internal, "the image decoder has stopped");
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send(Job { id, path, reply })
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }

    /// Queues `id` for decoding without waiting for it (a prior, before it
    /// is shown); nothing when it is decoded already.
    pub(crate) fn warm(&self, id: Key, path: PathBuf) {
        if self.cached(id).is_some() {
            return;
        }
        // Nobody waits on the reply: the decoder's send fails, harmlessly.
        let (reply, _) = mpsc::sync_channel(1);
        let _ = self.jobs.send(Job { id, path, reply });
    }

    /// Whether `id` is decoded (for tests).
    #[cfg(test)]
    pub(crate) fn is_cached(&self, id: Key) -> bool {
        self.cached(id).is_some()
    }

    /// Forgets every decoded image (their files may be gone).
    pub(crate) fn clear(&self) {
        self.kept.write(Vec::clear);
    }
}

/// The decoder thread: ends when the workstation is dropped.
fn decoder(queue: Receiver<Job>, kept: Weak<Kept>, limits: Limits, deadline: Duration) {
    for job in queue {
        let Some(kept) = kept.upgrade() else { return };
        let hit = kept.read(|k| k.iter().find(|(k, _)| *k == job.id).map(|(_, i)| i.clone()));
        let result = match hit {
            Some(image) => Ok(image),
            None => decode(&job.path, limits, deadline).inspect(|image| {
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

/// Decodes within the per-file deadline ([`crate::deadline`]): a file
/// that stalls is an error for its study, and the decoder goes on.
fn decode(path: &std::path::Path, limits: Limits, deadline: Duration) -> Decoded {
    let file = path.to_path_buf();
    let decoded =
        crate::deadline::within(deadline, path, move || pixels::viewer_image(&file, &limits));
    match decoded {
        Ok(image) => Ok(Arc::new(image)),
        Err(e) => Err(ApiError::new(ErrorCode::Image, e.to_string())),
    }
}

impl Workstation {
    /// The decoded first image of a study (the one shown on opening and
    /// inferred), from the cache or the file.
    pub fn image(&self, id: StudyId) -> WsResult<Arc<ViewerImage>> {
        self.image_at(id, 0)
    }

    /// Image `index` of a study, in hanging order.
    pub fn image_at(&self, id: StudyId, index: u32) -> WsResult<Arc<ViewerImage>> {
        let path = self.shown_file(id)?;
        let path = if index == 0 {
            path
        } else {
            self.studies
                .get(id, |s| s.files.get(index as usize).map(|f| f.path.clone()))
                .flatten()
                .ok_or_else(|| ApiError::invalid(format!("this study has no image {index}")))?
        };
        self.images.get((id, index), path)
    }

    /// How the viewer draws image `index` of a study (a lateral beside the
    /// frontal, or a prior in comparison); its pixels come from
    /// `overread://localhost/pixels/{id}/{index}`.
    pub fn open_image(&self, id: StudyId, index: u32) -> WsResult<ImageGeometry> {
        Ok(super::view::geometry(self.image_at(id, index)?.as_ref()))
    }

    /// Little-endian u16 pixels for `overread://localhost/pixels/{id}[/{index}]`.
    /// A study's first reduced image (the worklist's prefetch, and the first
    /// fetch of opening) also starts decoding its newest prior.
    pub fn pixels(&self, id: StudyId, index: u32, preview: bool) -> WsResult<Vec<u8>> {
        let image = self.image_at(id, index)?;
        if index == 0 && preview {
            self.warm_newest_prior(id);
        }
        Ok(if preview {
            image.preview_bytes()
        } else {
            image.bytes()
        })
    }
}
