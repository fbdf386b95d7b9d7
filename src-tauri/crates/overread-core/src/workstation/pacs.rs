//! PACS sources on the worklist.
//!
//! Each source named in the PACS configuration (settings `pacs_config`) is
//! asked for its worklist studies (by default today's CR and DX); each new
//! study appears at once as "retrieving", is retrieved into the local cache
//! in the background, and is queued for triage only when every instance the
//! PACS listed arrived and decodes. A study that did not arrive whole is
//! marked partial and never inferred. A source that fails is shown offline
//! with the reason, and the studies already in the cache stay fully usable:
//! they are put on the worklist at start without any network.

use std::collections::HashSet;

use overread_pacs::{self as pacs, Cache, CancellationToken, Client, PacsConfig, StudyRecord};

use super::*;
use crate::api::SourceState;

/// A one-line reason for a partial study.
fn partial_message(rec: &StudyRecord) -> String {
    let mut m = if rec.expected.is_empty() {
        format!(
            "{} instances retrieved; the PACS's list of the study did not arrive",
            rec.instances.len()
        )
    } else {
        format!(
            "{} of {} instances retrieved",
            rec.instances.len(),
            rec.expected.len()
        )
    };
    if let Some(why) = rec.problems.values().next() {
        m.push_str(": ");
        m.push_str(why);
    }
    m
}

fn source_status(name: &str, kind: &str, state: SourceState) -> SourceStatus {
    SourceStatus {
        name: name.into(),
        kind: kind.into(),
        state,
        message: None,
        studies: 0,
        complete: 0,
        instances_done: 0,
        instances_total: 0,
        last_answer: None,
    }
}

impl Workstation {
    /// The PACS configuration and cache, when the settings name one.
    fn pacs_setup(&self) -> Option<std::result::Result<(PacsConfig, Cache), String>> {
        let path = self.settings().pacs_config?;
        let load = || {
            let config = PacsConfig::load(Path::new(&path)).map_err(|e| e.to_string())?;
            let dir = config
                .cache
                .dir
                .clone()
                .unwrap_or_else(|| self.pacs_cache_dir.clone());
            // Opened once: opening clears tmp/, where a retrieve may be writing.
            let mut held = lock(&self.pacs_cache);
            let cache = match held.as_ref() {
                Some(c) if c.dir() == dir && c.max_bytes() == config.cache.max_bytes => c.clone(),
                _ => {
                    let c = Cache::open(&dir, config.cache.max_bytes).map_err(|e| e.to_string())?;
                    *held = Some(c.clone());
                    c
                }
            };
            Ok((config, cache))
        };
        Some(load())
    }

    /// The configuration cannot be used: one offline entry that says why.
    fn pacs_config_failed(&self, message: String) {
        let mut status = source_status("PACS configuration", "", SourceState::Offline);
        status.message = Some(message);
        *lock(&self.sources) = vec![status];
    }

    /// The configured sources, keeping the state of those already known.
    fn init_sources(&self, config: &PacsConfig) {
        let mut statuses = lock(&self.sources);
        let old = std::mem::take(&mut *statuses);
        for src in config.sources.iter().filter(|s| s.worklist.enabled) {
            let kind = match &src.kind {
                pacs::SourceKind::Dicomweb(_) => "dicomweb",
                pacs::SourceKind::Dimse(_) => "dimse",
            };
            statuses.push(
                old.iter()
                    .find(|o| o.name == src.name && o.kind == kind)
                    .cloned()
                    .unwrap_or_else(|| source_status(&src.name, kind, SourceState::NotChecked)),
            );
        }
    }

    fn set_source(&self, name: &str, f: impl FnOnce(&mut SourceStatus)) {
        if let Some(s) = lock(&self.sources).iter_mut().find(|s| s.name == name) {
            f(s);
        }
    }

    fn source_offline(&self, name: &str, e: &pacs::Error) {
        self.set_source(name, |s| {
            s.state = SourceState::Offline;
            s.message = Some(e.to_string());
            s.instances_done = 0;
            s.instances_total = 0;
        });
    }

    /// The sources with their study counts, for the worklist.
    pub(super) fn source_statuses(&self) -> Vec<SourceStatus> {
        let studies = self.studies.read().unwrap_or_else(|p| p.into_inner());
        lock(&self.sources)
            .iter()
            .cloned()
            .map(|mut st| {
                let mine = studies.iter().filter(|s| s.source == st.name);
                let (mut n, mut complete) = (0, 0);
                for s in mine {
                    n += 1;
                    complete +=
                        u32::from(!matches!(s.ai, AiStatus::Retrieving | AiStatus::Partial));
                }
                st.studies = n;
                st.complete = complete;
                st
            })
            .collect()
    }

    /// Puts the PACS studies already in the cache on the worklist, without
    /// the network, so that a reader can work with the PACS down.
    pub(super) fn load_cached_pacs(&self) {
        let (config, cache) = match self.pacs_setup() {
            None => return,
            Some(Err(message)) => return self.pacs_config_failed(message),
            Some(Ok(v)) => v,
        };
        self.init_sources(&config);
        let Ok(records) = cache.studies() else { return };
        let decided = self.decisions_by_sop().unwrap_or_default();
        let configured: HashSet<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
        for rec in records
            .iter()
            .filter(|r| configured.contains(r.source.as_str()))
        {
            self.add_cached(&cache, rec, &decided);
        }
    }

    /// Puts a study from the cache on the worklist: queued for triage when
    /// complete, partial otherwise. None when no instance of it is cached.
    fn add_cached(
        &self,
        cache: &Cache,
        rec: &StudyRecord,
        decided: &HashMap<String, (Vec<DecisionView>, bool)>,
    ) -> Option<String> {
        let files = cache.instance_paths(rec);
        let report = crate::library::scan(&files, Vec::new(), &self.limits, &|| {});
        let mut found = BTreeMap::new();
        group_studies(&mut found, report.headers());
        let (path, header, images) = found.remove(&rec.study_uid)?;
        let complete = rec.is_complete();
        let ai = if complete {
            AiStatus::Queued
        } else {
            AiStatus::Partial
        };
        let id = self.put_study(
            &rec.source,
            &rec.study_uid,
            path,
            header,
            images,
            ai,
            decided,
        );
        if !complete {
            self.update(&id, |s| s.ai_message = Some(partial_message(rec)));
        }
        Some(id)
    }

    /// Marks a PACS study used now, for the cache's least-recently-used
    /// eviction.
    pub(super) fn touch_pacs(&self, study_uid: &str) {
        // The cache the study came from is open already: no need to read
        // the configuration again on every open.
        let cache = lock(&self.pacs_cache).clone();
        if let Some(cache) = cache {
            let _ = cache.touch(study_uid);
        }
    }

    /// Whether the study is on the worklist and complete.
    fn has_complete(&self, study_uid: &str) -> bool {
        self.studies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|s| {
                s.header.study_instance_uid.as_deref() == Some(study_uid)
                    && !s.path.as_os_str().is_empty()
                    && !matches!(s.ai, AiStatus::Retrieving | AiStatus::Partial)
            })
    }

    /// Shows a study the PACS listed as "retrieving", from its query match.
    fn put_retrieving(&self, source: &str, m: &pacs::StudyMatch) {
        let header = Header {
            study_instance_uid: Some(m.study_uid.clone()),
            patient_id: m.patient_id.clone(),
            patient_name: m.patient_name.clone(),
            study_date: m.study_date.clone(),
            accession_number: m.accession_number.clone(),
            study_description: m.description.clone(),
            modality: m.modalities.first().cloned(),
            ..Header::default()
        };
        // A study already complete keeps its state; one not yet complete
        // (new, or partial before) becomes "retrieving".
        self.put_study(
            source,
            &m.study_uid,
            PathBuf::new(),
            header,
            m.instances.unwrap_or(0),
            AiStatus::Retrieving,
            &HashMap::new(),
        );
    }

    /// Says why the studies still to be retrieved from a source wait.
    fn waiting_for(&self, source: &str) {
        let mut studies = self.studies.write().unwrap_or_else(|p| p.into_inner());
        for s in studies
            .iter_mut()
            .filter(|s| s.source == source && s.ai == AiStatus::Retrieving)
        {
            s.ai_message = Some(format!(
                "waiting for {source}, which is offline; retried at the next refresh"
            ));
        }
    }

    /// Marks a study that did not arrive whole.
    fn put_partial(&self, study_uid: &str, message: String) {
        let mut studies = self.studies.write().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = studies
            .iter_mut()
            .find(|s| s.header.study_instance_uid.as_deref() == Some(study_uid))
        {
            s.ai = AiStatus::Partial;
            s.ai_message = Some(message);
        }
    }

    /// Asks every PACS source for its worklist studies, retrieves the new
    /// ones into the cache and queues for triage those that arrived
    /// complete; then evicts least recently used studies beyond the cache's
    /// size, never one still to be read. Blocks (the app runs it on its own
    /// thread); `on_change` is called whenever the worklist or a source's
    /// state changes. Returns how many studies it queued for triage.
    pub fn sync_pacs(&self, on_change: &(dyn Fn() + Sync)) -> usize {
        if self.syncing.swap(true, Ordering::SeqCst) {
            return 0;
        }
        let queued = self.sync_pacs_once(on_change);
        self.syncing.store(false, Ordering::SeqCst);
        queued
    }

    fn sync_pacs_once(&self, on_change: &(dyn Fn() + Sync)) -> usize {
        let (config, cache) = match self.pacs_setup() {
            None => {
                lock(&self.sources).clear();
                return 0;
            }
            Some(Err(message)) => {
                self.pacs_config_failed(message);
                on_change();
                return 0;
            }
            Some(Ok(v)) => v,
        };
        self.init_sources(&config);
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                self.pacs_config_failed(format!("cannot start the network runtime: {e}"));
                on_change();
                return 0;
            }
        };
        let cancel = CancellationToken::new();
        // Decisions already recorded, read from the log only when a study
        // is added (the log may hold millions of rows).
        let mut decided = None;
        let mut queued = 0;
        for source in config.sources.iter().filter(|s| s.worklist.enabled) {
            let name = source.name.as_str();
            self.set_source(name, |s| s.state = SourceState::Checking);
            on_change();
            let matches = Client::new(source).and_then(|client| {
                let found =
                    runtime.block_on(client.search_studies(&source.worklist.query(), &cancel))?;
                Ok((client, found))
            });
            let (client, matches) = match matches {
                Ok(v) => v,
                Err(e) => {
                    self.source_offline(name, &e);
                    on_change();
                    continue;
                }
            };
            self.set_source(name, |s| {
                s.state = SourceState::Online;
                s.message = None;
                s.last_answer = Some(overread_audit::now_rfc3339());
            });
            let todo: Vec<_> = matches
                .iter()
                .filter(|m| !self.has_complete(&m.study_uid))
                .collect();
            for m in &todo {
                self.put_retrieving(name, m);
            }
            on_change();
            for m in todo {
                let mut progress = |p: &pacs::Progress| {
                    self.set_source(name, |s| {
                        s.instances_done = p.done as u32;
                        s.instances_total = p.total as u32;
                    });
                    on_change();
                };
                let result = runtime.block_on(pacs::retrieve_study(
                    &client,
                    name,
                    &m.study_uid,
                    &cache,
                    &cancel,
                    &mut progress,
                ));
                self.set_source(name, |s| {
                    s.instances_done = 0;
                    s.instances_total = 0;
                });
                let record = match &result {
                    Ok(rec) => Some(rec.clone()),
                    Err(_) => cache.study(&m.study_uid).ok().flatten(),
                };
                let shown = record.as_ref().and_then(|rec| {
                    let decided =
                        decided.get_or_insert_with(|| self.decisions_by_sop().unwrap_or_default());
                    self.add_cached(&cache, rec, decided)
                });
                match (&result, &record) {
                    (Ok(rec), _) if rec.is_complete() && shown.is_some() => {
                        queued += 1;
                        self.record_transfer(rec, true);
                    }
                    (Ok(rec), _) => {
                        self.put_partial(&m.study_uid, partial_message(rec));
                        self.record_transfer(rec, false);
                    }
                    (Err(e), rec) => {
                        let message = match rec {
                            Some(rec) if !rec.problems.is_empty() => partial_message(rec),
                            Some(rec) => format!("{}: {e}", partial_message(rec)),
                            None => format!("nothing retrieved: {e}"),
                        };
                        self.put_partial(&m.study_uid, message);
                    }
                }
                on_change();
                // The PACS went away: the rest waits for the next sync.
                if let Err(e) = &result
                    && (e.is_transient() || matches!(e, pacs::Error::Protocol { .. }))
                {
                    self.source_offline(name, e);
                    self.waiting_for(name);
                    on_change();
                    break;
                }
            }
        }
        self.evict(&cache);
        on_change();
        queued
    }

    /// Records a study's arrival from a PACS (PS3.15 A.5.3.4 DICOM
    /// Instances Transferred).
    fn record_transfer(&self, rec: &StudyRecord, complete: bool) {
        let study = self
            .studies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|s| s.header.study_instance_uid.as_deref() == Some(rec.study_uid.as_str()))
            .and_then(|s| study_ref(&s.header));
        let _ = self.record(
            EventKind::InstancesTransferred,
            study,
            None,
            None,
            serde_json::json!({
                "source": rec.source,
                "instances": rec.instances.len(),
                "expected": rec.expected.len(),
                "complete": complete,
            }),
        );
    }

    /// Keeps the cache within its size; studies still to be read on the
    /// worklist are pinned. Evicted studies leave the viewer until a sync
    /// retrieves them again.
    fn evict(&self, cache: &Cache) {
        let pinned: HashSet<String> = self
            .studies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|s| s.source != LOCAL && reading_status(s) != ReadingStatus::Read)
            .filter_map(|s| s.header.study_instance_uid.clone())
            .collect();
        let Ok(evicted) = cache.evict(&|uid| pinned.contains(uid)) else {
            return;
        };
        if evicted.studies.is_empty() {
            return;
        }
        lock(&self.images).clear();
        let mut studies = self.studies.write().unwrap_or_else(|p| p.into_inner());
        for s in studies.iter_mut().filter(|s| {
            s.source != LOCAL
                && s.header
                    .study_instance_uid
                    .as_ref()
                    .is_some_and(|u| evicted.studies.contains(u))
        }) {
            s.path = PathBuf::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::tests::fake_model;
    use overread_pacs::cache::CachedInstance;
    use std::io::Write;

    /// Puts a phantom study's instances in the cache; `expected` extra SOP
    /// UIDs are listed but never arrive.
    fn cache_study(cache: &Cache, dir: &Path, index: u32, views: usize, missing: usize) -> String {
        let study = overread_phantom::PhantomStudy::new(index, 40 + u64::from(index), 128, 128, 1);
        let mut rec = StudyRecord::new("pacs", &study.study_instance_uid);
        for v in 0..views + missing {
            let sop = format!("{}.{v}", study.sop_instance_uid);
            rec.expected.push(sop.clone());
            if v >= views {
                continue;
            }
            let mut inst = study.clone();
            inst.sop_instance_uid = sop.clone();
            let sub = dir.join(format!("{index}-{v}"));
            std::fs::create_dir_all(&sub).expect("mkdir");
            let file = inst.write(&sub).expect("write");
            let mut w = cache.writer().expect("writer");
            w.write_all(&std::fs::read(file).expect("read"))
                .expect("copy");
            let obj = w.finish().expect("finish");
            rec.instances.insert(
                sop,
                CachedInstance {
                    sha256: obj.sha256,
                    bytes: obj.bytes,
                },
            );
        }
        cache.save_study(&rec).expect("save");
        study.study_instance_uid
    }

    /// With the PACS never asked (or down), the studies in the cache are on
    /// the worklist: complete ones triaged and openable, partial ones marked
    /// and never inferred.
    #[test]
    fn cached_pacs_studies_are_on_the_worklist_without_the_network() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(&dir.path().join("cache"), 1 << 30).expect("cache");
        let complete = cache_study(&cache, dir.path(), 1, 2, 0);
        let partial = cache_study(&cache, dir.path(), 2, 1, 1);
        let config = dir.path().join("pacs.toml");
        std::fs::write(
            &config,
            format!(
                "[cache]\ndir = {:?}\n[[source]]\nname = \"pacs\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:9/dicom-web\"\n",
                dir.path().join("cache")
            ),
        )
        .expect("config");
        let empty = dir.path().join("no-local-studies");
        std::fs::create_dir_all(&empty).expect("mkdir");
        let mut settings = Settings::demo(&empty, Path::new("unused-model"));
        settings.pacs_config = Some(config.display().to_string());
        let ws =
            Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open");
        ws.run_triage_with(vec![fake_model()], &|_| {});
        let w = ws.worklist();
        assert_eq!(w.rows.len(), 2, "{w:?}");
        let by_uid = |uid: &str| {
            let id = ws
                .studies
                .read()
                .expect("lock")
                .iter()
                .find(|s| s.header.study_instance_uid.as_deref() == Some(uid))
                .map(|s| s.id.clone())
                .expect("on the worklist");
            w.rows.iter().find(|r| r.id == id).cloned().expect("row")
        };
        let c = by_uid(&complete);
        assert_eq!(c.ai, AiStatus::Flagged, "{c:?}");
        assert_eq!(c.images, 2);
        assert_eq!(c.source, "pacs");
        ws.open_study(&c.id).expect("opens from the cache");
        let p = by_uid(&partial);
        assert_eq!(p.ai, AiStatus::Partial, "{p:?}");
        assert!(
            p.ai_message
                .as_deref()
                .is_some_and(|m| m.starts_with("1 of 2 instances")),
            "{p:?}"
        );
        assert_eq!(w.sources.len(), 1);
        assert_eq!(w.sources[0].state, SourceState::NotChecked);
        assert_eq!((w.sources[0].studies, w.sources[0].complete), (2, 1));
    }

    /// A configuration that cannot be read is shown as an offline entry that
    /// says why, and the local studies stay.
    #[test]
    fn a_broken_pacs_configuration_is_shown_not_fatal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let studies = dir.path().join("studies");
        crate::demo::generate(&studies, 1, 128, 3).expect("phantoms");
        let mut settings = Settings::demo(&studies, Path::new("unused-model"));
        settings.pacs_config = Some(dir.path().join("missing.toml").display().to_string());
        let ws =
            Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open");
        assert_eq!(ws.sync_pacs(&|| {}), 0);
        let w = ws.worklist();
        assert_eq!(w.rows.len(), 1);
        assert_eq!(w.sources.len(), 1);
        assert_eq!(w.sources[0].state, SourceState::Offline);
        assert!(
            w.sources[0]
                .message
                .as_deref()
                .is_some_and(|m| m.contains("missing.toml")),
            "{:?}",
            w.sources
        );
    }
}
