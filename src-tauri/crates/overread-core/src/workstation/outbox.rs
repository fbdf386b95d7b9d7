//! The outbox on its way out: [`Workstation::send_results`] stores waiting
//! entries on the study's PACS (STOW-RS or C-STORE) or writes a local
//! study's to the results folder, with backoff while that fails, and audits
//! each stored entry before removing it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use overread_audit::EventKind;
use overread_pacs::{CancellationToken, Client};

use super::journal::Event;
use super::owned::Owned;
use super::study::LOCAL;
use super::{Change, Workstation, reading};
use crate::results::{self, Pending};

/// Backoff between attempts to send one entry: 30 s doubling to 10 min.
fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(30u64.saturating_mul(1 << attempts.min(5)).min(600))
}

/// The outbox's folder and what sending has learned (in memory).
#[derive(Debug)]
pub(crate) struct Outbox {
    pub dir: PathBuf,
    /// `<audit dir>/results`: local studies' results when Settings name none.
    pub default_results: PathBuf,
    sending: AtomicBool,
    /// Per entry folder: failed attempts and when to try again.
    retry: Owned<HashMap<PathBuf, (u32, Instant)>>,
}

impl Outbox {
    pub(crate) fn new(audit_dir: &Path) -> Outbox {
        Outbox {
            dir: audit_dir.join("outbox"),
            default_results: audit_dir.join("results"),
            sending: AtomicBool::new(false),
            retry: Owned::new("outbox", HashMap::new()),
        }
    }
}

impl Workstation {
    /// Sends what waits in the outbox (entries whose backoff has passed);
    /// returns how many were stored. One pass; the app calls it after each
    /// sign-off and every half minute.
    pub fn send_results(&self) -> usize {
        if self.outbox.sending.swap(true, Ordering::SeqCst) {
            return 0;
        }
        struct Lower<'a>(&'a AtomicBool);
        impl Drop for Lower<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        let _lower = Lower(&self.outbox.sending);
        let now = Instant::now();
        let mut stored = 0;
        for pending in results::pending(&self.outbox.dir) {
            let Ok(p) = pending else { continue };
            let due = self
                .outbox
                .retry
                .read(|r| r.get(&p.dir).is_none_or(|(_, at)| *at <= now));
            if !due {
                continue;
            }
            let outcome = self.send_entry(&p);
            let study = self.studies.by_uid(&p.entry.study_uid);
            match outcome {
                Ok(()) => {
                    stored += 1;
                    self.outbox.retry.write(|r| r.remove(&p.dir));
                }
                Err(why) => {
                    self.outbox.retry.write(|r| {
                        let (attempts, at) = r.entry(p.dir.clone()).or_insert((0, now));
                        *attempts += 1;
                        *at = now + backoff(*attempts);
                    });
                    if let Some(id) = study {
                        self.studies
                            .update(id, |s| s.reading.results_problem = Some(why));
                    }
                }
            }
            if let Some(id) = study {
                self.emit(Change::rows(vec![id]));
            }
        }
        stored
    }

    /// Sends one entry of the outbox now, whatever its backoff.
    pub(crate) fn send_dir(&self, dir: &Path) -> Result<(), String> {
        let p =
            results::read_entry(dir).map_err(|e| format!("outbox entry {}: {e}", dir.display()))?;
        self.send_entry(&p)
    }

    /// Stores one entry where it goes, audits it, and removes it.
    fn send_entry(&self, p: &Pending) -> Result<(), String> {
        let destination = if p.entry.destination == LOCAL {
            let folder = self
                .settings
                .read(|s| s.results_folder.clone())
                .map(PathBuf::from)
                .unwrap_or_else(|| self.outbox.default_results.clone());
            let files: Vec<(String, PathBuf)> = p
                .entry
                .objects
                .iter()
                .zip(&p.files)
                .map(|(o, f)| (format!("{}_{}", o.kind, o.sop_instance_uid), f.clone()))
                .collect();
            results::write_to_folder(&folder, &p.entry.study_uid, &files)
                .map_err(|e| format!("cannot write to {}: {e}", folder.display()))?;
            folder.display().to_string()
        } else {
            let (config, _cache) = self
                .pacs_setup()
                .ok_or_else(|| "no PACS configuration is set".to_string())??;
            let source = config
                .source(&p.entry.destination)
                .map_err(|e| e.to_string())?;
            let client = Client::new(source).map_err(|e| e.to_string())?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(client.store(&p.files, &CancellationToken::new()))
                .map_err(|e| e.to_string())?;
            p.entry.destination.clone()
        };
        // Stored: audited before the entry goes (sending it again stores it once).
        let study = self
            .studies
            .by_uid(&p.entry.study_uid)
            .and_then(|id| self.studies.get(id, |s| reading::study_ref(&s.header)))
            .flatten();
        self.journal
            .record(Event {
                study,
                detail: serde_json::json!({
                    "signoff_key": p.entry.signoff_key,
                    "destination": destination,
                    "objects": p.entry.objects,
                }),
                ..Event::new(EventKind::ResultsStored, None)
            })
            .map_err(|e| format!("stored, but the audit log refused the record: {e}"))?;
        if let Some(id) = self.studies.by_uid(&p.entry.study_uid) {
            self.studies.update(id, |s| {
                s.reading.stored.push(p.entry.signoff_key.clone());
                s.reading.results_problem = None;
            });
        }
        let _ = std::fs::remove_dir_all(&p.dir);
        Ok(())
    }
}
