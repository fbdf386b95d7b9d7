//! The PACS cache on the worklist: studies already cached put on it
//! without the network, and the cache kept within its size.

use std::collections::{HashMap, HashSet};

use overread_pacs::{Cache, StudyRecord};

use super::pacs::partial_message;
use super::reading::reading_status;
use super::study::{Arrival, Here, LOCAL, Reading};
use super::{Change, Workstation};
use crate::api::{ReadingStatus, StudyId};

impl Workstation {
    /// Puts the PACS studies already in the cache on the worklist, without
    /// the network, so that a reader can work with the PACS down.
    pub(super) fn load_cached_pacs(&self) {
        let (config, cache) = match self.pacs_setup() {
            None => return,
            Some(Err(message)) => return self.pacs.config_failed(message),
            Some(Ok(v)) => v,
        };
        self.pacs.init_sources(&config);
        let Ok(records) = cache.studies() else { return };
        let readings = self.journal.readings().unwrap_or_default();
        let configured: HashSet<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
        for rec in records
            .iter()
            .filter(|r| configured.contains(r.source.as_str()))
        {
            self.add_cached(&cache, rec, &readings);
        }
    }

    /// Puts a study from the cache on the worklist: queued for triage when
    /// complete, partial otherwise. None when no instance of it is cached.
    pub(super) fn add_cached(
        &self,
        cache: &Cache,
        rec: &StudyRecord,
        readings: &HashMap<String, Reading>,
    ) -> Option<StudyId> {
        let files = cache.instance_paths(rec);
        let found = crate::library::scan(&files, Vec::new(), &self.limits, &|| {})
            .studies()
            .into_iter()
            .find(|s| s.study_uid == rec.study_uid)?;
        let (path, header, images, files) =
            (found.path, found.header, found.instances, found.images);
        let here = if rec.is_complete() {
            Here::Available { path }
        } else {
            Here::Partial {
                path: Some(path),
                reason: partial_message(rec),
            }
        };
        let reading = header
            .sop_instance_uid
            .as_ref()
            .and_then(|sop| readings.get(sop).cloned())
            .unwrap_or_default();
        self.studies.put(Arrival {
            source: rec.source.clone(),
            study_uid: rec.study_uid.clone(),
            here,
            header,
            images,
            files,
            reading,
            prior_only: rec.prior,
        })
    }

    /// Keeps the cache within its size; studies still to be read on the
    /// worklist are pinned. Evicted studies leave the viewer until a sync
    /// retrieves them again.
    pub(super) fn evict(&self, cache: &Cache) {
        let pinned: HashSet<String> = self
            .studies
            .map(|s| {
                (s.source != LOCAL && reading_status(s) != ReadingStatus::Read)
                    .then(|| s.header.study_instance_uid.clone())
                    .flatten()
            })
            .into_iter()
            .flatten()
            .collect();
        let evicted = match cache.evict(&|uid| pinned.contains(uid)) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("overread: PACS cache eviction: {e}");
                return;
            }
        };
        if evicted.studies.is_empty() {
            return;
        }
        self.images.clear();
        let ids = self.studies.evicted(&evicted.studies);
        self.emit(Change::rows(ids));
    }
}
