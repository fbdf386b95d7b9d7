//! Background triage: run a model over many studies with bounded
//! concurrency, progress events and cancellation, caching results by
//! (SOP Instance UID, model SHA-256) so nothing is computed twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use overread_dicom::Limits;
use overread_infer::Model;

use crate::frames::Frames;
use crate::infer::{Outcome, infer_decoded};

/// One study's triage result.
#[derive(Debug, Clone)]
pub enum TriageResult {
    Done(Arc<Outcome>),
    /// Already computed for this instance and model.
    Cached(Arc<Outcome>),
    Failed(String),
    /// Cancelled before it started.
    Cancelled,
}

/// What the UI hears while triage runs.
#[derive(Debug, Clone)]
pub enum TriageEvent {
    Started {
        path: PathBuf,
    },
    Finished {
        path: PathBuf,
        result: TriageResult,
        done: usize,
        total: usize,
    },
}

/// Results by (SOP Instance UID, model SHA-256), shared between runs.
#[derive(Debug, Default)]
pub struct ResultCache {
    entries: Mutex<HashMap<(String, String), Arc<Outcome>>>,
}

impl ResultCache {
    pub fn get(&self, sop_uid: &str, model_sha256: &str) -> Option<Arc<Outcome>> {
        self.entries
            .lock()
            .ok()?
            .get(&(sop_uid.to_string(), model_sha256.to_string()))
            .cloned()
    }

    fn put(&self, sop_uid: String, model_sha256: String, outcome: Arc<Outcome>) {
        if let Ok(mut map) = self.entries.lock() {
            map.insert((sop_uid, model_sha256), outcome);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Concurrent inference jobs for background triage: one per two cores, at
/// least one, each with one intra-op thread, so the viewer keeps a core on
/// small machines.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| (n.get() / 2).max(1))
        .unwrap_or(1)
}

/// How each file is read: the decoder's limits, the per-file deadline, and
/// the decoded frames shared with the viewer (each image decoded once).
#[derive(Debug, Clone)]
pub struct Reading {
    pub limits: Limits,
    pub deadline: Duration,
    pub frames: Arc<Frames>,
}

impl Default for Reading {
    fn default() -> Self {
        Reading {
            limits: Limits::default(),
            deadline: crate::deadline::DECODE_DEADLINE,
            frames: Arc::default(),
        }
    }
}

/// One image to triage: its file, and its SOP Instance UID when the header
/// read at scan time gave one (then the file is not read again to find it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub path: PathBuf,
    pub sop_uid: Option<String>,
}

impl Job {
    /// A file whose header has not been read.
    pub fn file(path: PathBuf) -> Job {
        Job {
            path,
            sop_uid: None,
        }
    }
}

/// Runs `models` (one per concurrent job, each with its own session) over
/// `jobs`. Returns every file's result in input order. A file that takes
/// longer than the deadline to read and decode fails alone.
pub fn triage(
    jobs: &[Job],
    models: &mut [Model],
    cache: &ResultCache,
    cancel: &AtomicBool,
    heatmaps: Option<&Path>,
    reading: &Reading,
    on_event: &(dyn Fn(TriageEvent) + Sync),
) -> Vec<(PathBuf, TriageResult)> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let total = jobs.len();
    let results: Vec<Mutex<Option<TriageResult>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for model in models.iter_mut() {
            let (next, done, results) = (&next, &done, &results);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let path = &job.path;
                    let result = if cancel.load(Ordering::SeqCst) {
                        TriageResult::Cancelled
                    } else {
                        on_event(TriageEvent::Started { path: path.clone() });
                        run_one(model, job, cache, heatmaps, reading)
                    };
                    let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                    on_event(TriageEvent::Finished {
                        path: path.clone(),
                        result: result.clone(),
                        done: finished,
                        total,
                    });
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    jobs.iter()
        .map(|j| j.path.clone())
        .zip(results)
        .map(|(p, r)| {
            (
                p,
                r.into_inner()
                    .ok()
                    .flatten()
                    .unwrap_or(TriageResult::Cancelled),
            )
        })
        .collect()
}

fn run_one(
    model: &mut Model,
    job: &Job,
    cache: &ResultCache,
    heatmaps: Option<&Path>,
    reading: &Reading,
) -> TriageResult {
    let (path, sha) = (&job.path, model.results_key());
    // The header says whether this instance was done before: kept from the
    // scan, else read now.
    let sop = match &job.sop_uid {
        Some(sop) => Some(sop.clone()),
        None => {
            let (file, limits) = (path.to_path_buf(), reading.limits);
            let header = crate::deadline::within(reading.deadline, path, move || {
                overread_dicom::read_header(&file, &limits).map_err(|source| {
                    crate::error::Error::Dicom {
                        path: file.clone(),
                        source,
                    }
                })
            });
            match header {
                Ok(h) => h.sop_instance_uid,
                Err(e) => return TriageResult::Failed(e.to_string()),
            }
        }
    };
    if let Some(hit) = sop.as_deref().and_then(|s| cache.get(s, &sha)) {
        return TriageResult::Cached(hit);
    }
    // A panic in the model or the decoder fails this study, not the run:
    // the other studies are triaged and the runner stays usable.
    let inferred = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let t0 = std::time::Instant::now();
        let decoded =
            reading
                .frames
                .get(path, sop.as_deref(), &reading.limits, reading.deadline)?;
        infer_decoded(model, path, &decoded, heatmaps, t0)
    }));
    let inferred = match inferred {
        Ok(r) => r,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            return TriageResult::Failed(format!(
                "{}: the AI failed unexpectedly on this study ({why})",
                path.display()
            ));
        }
    };
    match inferred {
        Ok(outcome) => {
            let outcome = Arc::new(outcome);
            if let Some(sop) = sop {
                cache.put(sop, sha, outcome.clone());
            }
            TriageResult::Done(outcome)
        }
        Err(e) => TriageResult::Failed(e.to_string()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn jobs(paths: &[PathBuf]) -> Vec<Job> {
        paths.iter().cloned().map(Job::file).collect()
    }
    use overread_infer::{FakeBackend, Manifest, Outputs};

    /// The demo manifest over a fake backend: every image scores 0.9.
    pub(crate) fn fake_model() -> Model {
        let manifest = Manifest::parse(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../models/demo/manifest.toml"
            ))
            .expect("manifest"),
        )
        .expect("valid");
        let mut outputs = Outputs::new();
        outputs.insert("scores".into(), (vec![1, 1], vec![0.9]));
        outputs.insert("heatmap".into(), (vec![1, 1, 4, 4], vec![0.0; 16]));
        Model::with_backend(
            manifest,
            Box::new(FakeBackend {
                outputs,
                last_input: None,
            }),
        )
    }

    /// Scores like [`fake_model`] but panics on its `n`-th run (from 1).
    struct PanicsOn {
        n: usize,
        runs: usize,
        inner: FakeBackend,
    }

    impl overread_infer::InferenceBackend for PanicsOn {
        fn run(
            &mut self,
            input: &str,
            shape: [usize; 4],
            data: Vec<f32>,
        ) -> overread_infer::Result<Outputs> {
            self.runs += 1;
            if self.runs == self.n {
                panic!("simulated fault in the model");
            }
            self.inner.run(input, shape, data)
        }

        fn execution_provider(&self) -> &str {
            "fake"
        }
    }

    /// The demo manifest over a backend that panics on its `n`-th run.
    pub(crate) fn model_panicking_on(n: usize) -> Model {
        let good = fake_model();
        let mut outputs = Outputs::new();
        outputs.insert("scores".into(), (vec![1, 1], vec![0.9]));
        outputs.insert("heatmap".into(), (vec![1, 1, 4, 4], vec![0.0; 16]));
        Model::with_backend(
            good.manifest.clone(),
            Box::new(PanicsOn {
                n,
                runs: 0,
                inner: FakeBackend {
                    outputs,
                    last_input: None,
                },
            }),
        )
    }

    #[test]
    fn a_panic_on_one_study_fails_that_study_only() {
        let (_d, paths) = studies(3);
        let results = triage(
            &jobs(&paths),
            &mut [model_panicking_on(2)],
            &ResultCache::default(),
            &AtomicBool::new(false),
            None,
            &Reading::default(),
            &|_| {},
        );
        let failed: Vec<&String> = results
            .iter()
            .filter_map(|(_, r)| match r {
                TriageResult::Failed(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(failed.len(), 1, "{results:?}");
        assert!(failed[0].contains("failed unexpectedly"), "{failed:?}");
        let done = results
            .iter()
            .filter(|(_, r)| matches!(r, TriageResult::Done(_)))
            .count();
        assert_eq!(done, 2, "the others are triaged");
    }

    /// A file that stalls (a FIFO where the file was, as a hung network
    /// share behaves) fails alone at the deadline; the rest are triaged.
    #[test]
    fn a_stalled_file_fails_alone_at_the_deadline() {
        let (d, paths) = studies(3);
        let stalled = crate::deadline::tests::stalled_file(d.path(), "stalled.dcm");
        let paths = vec![paths[0].clone(), stalled.clone(), paths[2].clone()];
        let reading = Reading {
            deadline: Duration::from_millis(500),
            ..Reading::default()
        };
        let results = triage(
            &jobs(&paths),
            &mut [fake_model()],
            &ResultCache::default(),
            &AtomicBool::new(false),
            None,
            &reading,
            &|_| {},
        );
        crate::deadline::tests::release(&stalled);
        assert!(
            matches!(&results[1].1, TriageResult::Failed(m) if m.contains("took longer than")),
            "{results:?}"
        );
        assert!(matches!(results[0].1, TriageResult::Done(_)));
        assert!(matches!(results[2].1, TriageResult::Done(_)));
    }

    fn studies(n: u32) -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = crate::demo::generate(dir.path(), n, 64, 5).expect("phantoms");
        (dir, paths)
    }

    #[test]
    fn every_study_once_with_progress_then_from_the_cache() {
        let (_d, paths) = studies(5);
        let mut models = vec![fake_model(), fake_model()];
        let cache = ResultCache::default();
        let events = Mutex::new(Vec::new());
        let on_event = |e: TriageEvent| {
            if let TriageEvent::Finished { done, total, .. } = e {
                events.lock().expect("lock").push((done, total));
            }
        };
        let cancel = AtomicBool::new(false);
        let first = triage(
            &jobs(&paths),
            &mut models,
            &cache,
            &cancel,
            None,
            &Reading::default(),
            &on_event,
        );
        assert!(
            first
                .iter()
                .all(|(_, r)| matches!(r, TriageResult::Done(_))),
            "{first:?}"
        );
        assert_eq!(cache.len(), 5);
        let mut seen: Vec<usize> = events
            .lock()
            .expect("lock")
            .iter()
            .map(|(d, _)| *d)
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2, 3, 4, 5]);
        let again = triage(
            &jobs(&paths),
            &mut models,
            &cache,
            &cancel,
            None,
            &Reading::default(),
            &on_event,
        );
        assert!(
            again
                .iter()
                .all(|(_, r)| matches!(r, TriageResult::Cached(_))),
            "nothing computed twice"
        );
    }

    #[test]
    fn cancellation_stops_what_has_not_started() {
        let (_d, paths) = studies(4);
        let mut models = vec![fake_model()];
        let cancel = AtomicBool::new(false);
        let on_event = |e: TriageEvent| {
            if let TriageEvent::Finished { done: 2, .. } = e {
                cancel.store(true, Ordering::SeqCst);
            }
        };
        let results = triage(
            &jobs(&paths),
            &mut models,
            &ResultCache::default(),
            &cancel,
            None,
            &Reading::default(),
            &on_event,
        );
        let cancelled = results
            .iter()
            .filter(|(_, r)| matches!(r, TriageResult::Cancelled))
            .count();
        assert_eq!(cancelled, 2, "{results:?}");
    }
}
