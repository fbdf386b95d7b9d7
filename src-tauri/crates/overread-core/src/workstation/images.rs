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
use crate::api::{ApiError, ErrorCode, StudyId};
use crate::pixels::{self, ViewerImage};

/// Decoded images kept (about 8 MB each for a chest X-ray).
const KEPT: usize = 3;

type Decoded = Result<Arc<ViewerImage>, ApiError>;

struct Job {
    id: StudyId,
    path: PathBuf,
    reply: SyncSender<Decoded>,
}

type Kept = Owned<Vec<(StudyId, Arc<ViewerImage>)>>;

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

    fn cached(&self, id: StudyId) -> Option<Arc<ViewerImage>> {
        self.kept
            .read(|k| k.iter().find(|(k, _)| *k == id).map(|(_, i)| i.clone()))
    }

    /// The decoded image of study `id`, from `path`.
    pub(crate) fn get(&self, id: StudyId, path: PathBuf) -> Decoded {
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
