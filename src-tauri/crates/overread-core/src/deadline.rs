//! The per-file decode deadline.
//!
//! Every decode path in overread-dicom is bounded in memory and in work, but
//! a file can still take too long: a stalled network share or USB disk, a
//! FIFO where a file was, or a valid but enormous image. Reading and
//! decoding one file therefore runs on its own thread, and the caller waits
//! at most the deadline: past it, that file is an error (its study says so)
//! and the caller goes on with the rest. The late thread finishes on its own
//! (its work is bounded) and its result is dropped; while
//! [`MAX_OVERDUE`] of them are still running, further files are refused at
//! once instead of piling up threads.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::error::{Error, Result};

/// How long reading and decoding one file may take. A chest radiograph
/// takes well under a second (docs/benchmarks.md).
pub const DECODE_DEADLINE: Duration = Duration::from_secs(30);

/// Late decodes still running before new ones are refused.
pub const MAX_OVERDUE: usize = 4;

static OVERDUE: AtomicUsize = AtomicUsize::new(0);

const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
const ABANDONED: u8 = 2;

/// Runs `f` (the reading and decoding of `path`) on its own thread and
/// waits at most `deadline` for it.
pub fn within<T: Send + 'static>(
    deadline: Duration,
    path: &Path,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let overdue = OVERDUE.load(Ordering::SeqCst);
    if overdue >= MAX_OVERDUE {
        return Err(Error::Output {
            path: path.to_path_buf(),
            message: format!(
                "not read: {overdue} earlier files are still being read past the deadline (a stalled disk or share?)"
            ),
        });
    }
    let state = Arc::new(AtomicU8::new(RUNNING));
    let (tx, rx) = mpsc::sync_channel(1);
    let theirs = state.clone();
    std::thread::Builder::new()
        .name("decode".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(result);
            if theirs
                .compare_exchange(RUNNING, FINISHED, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                OVERDUE.fetch_sub(1, Ordering::SeqCst);
            }
        })
        .map_err(|e| Error::Output {
            path: path.to_path_buf(),
            message: format!("cannot start a decoding thread: {e}"),
        })?;
    let answer = match rx.recv_timeout(deadline) {
        Ok(answer) => answer,
        Err(_) => {
            OVERDUE.fetch_add(1, Ordering::SeqCst);
            if state
                .compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Err(Error::Output {
                    path: path.to_path_buf(),
                    message: format!(
                        "reading and decoding took longer than {} s, so the file was skipped (a stalled disk or share, or a file too costly to decode)",
                        deadline.as_secs_f32()
                    ),
                });
            }
            // It finished just now: take its answer.
            OVERDUE.fetch_sub(1, Ordering::SeqCst);
            rx.recv().map_err(|_| Error::Output {
                path: path.to_path_buf(),
                message: "the decoding thread ended without an answer".into(),
            })?
        }
    };
    answer.unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(Error::Output {
            path: path.to_path_buf(),
            message: format!("decoding failed unexpectedly ({why})"),
        })
    })
}

/// Late decodes still running.
pub fn overdue() -> usize {
    OVERDUE.load(Ordering::SeqCst)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A FIFO where a file was: opening it for reading blocks until a
    /// writer comes, as a stalled network share does. Returns its path.
    pub(crate) fn stalled_file(dir: &Path, name: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        let _ = std::fs::remove_file(&path);
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        path
    }

    /// Lets the blocked readers of a FIFO go: a writer opens and closes it
    /// (without blocking when no reader is left).
    pub(crate) fn release(path: &Path) {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NONBLOCK: i32 = 0o4000;
        for _ in 0..20 {
            let opened = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(O_NONBLOCK)
                .open(path);
            if opened.is_err() {
                return; // no reader waits any more
            }
            drop(opened);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_stalled_read_is_cut_at_the_deadline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = stalled_file(dir.path(), "stalled.dcm");
        let path = fifo.clone();
        let t0 = std::time::Instant::now();
        let result = within(Duration::from_millis(300), &fifo, move || {
            std::fs::read(&path).map_err(|e| Error::Output {
                path: path.clone(),
                message: e.to_string(),
            })
        });
        let err = result.expect_err("cut");
        assert!(err.to_string().contains("took longer than 0.3 s"), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(5));
        release(&fifo);
        // A quick one answers at once; a panic is an error, not a crash.
        assert_eq!(within(DECODE_DEADLINE, &fifo, || Ok(7)).expect("quick"), 7);
        let panicked = within(DECODE_DEADLINE, &fifo, || -> Result<()> {
            panic!("codec bug")
        });
        assert!(
            panicked
                .expect_err("panic")
                .to_string()
                .contains("codec bug")
        );
    }
}
