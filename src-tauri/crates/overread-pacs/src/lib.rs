//! # overread-pacs
//!
//! Overread's PACS client. It queries and retrieves studies over DICOMweb
//! (PS3.18: QIDO-RS, WADO-RS, STOW-RS) and DIMSE (PS3.7: C-ECHO, C-FIND,
//! C-GET, C-MOVE to our own storage SCP, C-STORE of our results) into a content-addressed local
//! [`cache`], and keeps working when the PACS is slow or down: cached
//! studies stay usable, transient failures are retried where that is safe,
//! and a study counts complete only when every instance the PACS listed is
//! present and decodable, so the AI never runs on half a study.
//!
//! This crate knows the network; DICOM data sets are parsed and written by
//! `overread-dicom`.

pub mod cache;
pub mod config;
pub mod dicomweb;
pub mod dimse;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod multipart;
pub mod query;
pub mod retry;
mod scp;
pub mod testing;

pub use cache::{Cache, StudyLimits, StudyRecord};
pub use config::{DimseRetrieve, PacsConfig, Source, SourceKind};
pub use dicomweb::DicomWebClient;
pub use dimse::DimseClient;
pub use error::{Error, Result};
pub use query::{InstanceRef, SeriesMatch, StoreOutcome, StudyMatch, StudyQuery};
pub use tokio_util::sync::CancellationToken;

use serde::Serialize;
use std::path::PathBuf;

/// Progress of a retrieve, reported before the first transfer and after
/// each instance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Progress {
    /// Instances present in the cache.
    pub done: usize,
    /// Instances the PACS listed.
    pub total: usize,
    pub bytes: u64,
    /// Of `done`, those already cached before this retrieve (resumed).
    pub reused: usize,
    /// Instances transferred by this retrieve.
    pub fetched: usize,
}

/// A configured source, ready to use.
#[derive(Debug, Clone)]
// One client per source, made once per sync: the size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Client {
    DicomWeb(DicomWebClient),
    Dimse(DimseClient),
}

/// Runs a blocking DIMSE call off the async runtime, cancellable (the
/// association is dropped, closing its connection, when the call returns).
async fn blocking<T: Send + 'static>(
    cancel: &CancellationToken,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let task = tokio::task::spawn_blocking(f);
    tokio::select! {
        _ = cancel.cancelled() => Err(Error::Cancelled),
        r = task => r.unwrap_or_else(|e| Err(Error::Protocol {
            source_name: "dimse".into(),
            message: format!("the worker stopped: {e}"),
        })),
    }
}

impl Client {
    pub fn new(source: &Source) -> Result<Client> {
        match &source.kind {
            SourceKind::Dicomweb(w) => Ok(Client::DicomWeb(DicomWebClient::new(source, w)?)),
            SourceKind::Dimse(d) => Ok(Client::Dimse(DimseClient::new(source, d))),
        }
    }

    /// The DICOMweb client, for what only DICOMweb offers (series search,
    /// metadata, frames, STOW-RS).
    pub fn dicomweb(&self) -> Option<&DicomWebClient> {
        match self {
            Client::DicomWeb(c) => Some(c),
            Client::Dimse(_) => None,
        }
    }

    /// Checks the source answers: C-ECHO, or a one-study QIDO search.
    pub async fn echo(&self, cancel: &CancellationToken) -> Result<()> {
        match self {
            Client::DicomWeb(c) => {
                let q = StudyQuery {
                    limit: Some(1),
                    ..StudyQuery::default()
                };
                c.search_studies(&q, cancel).await.map(|_| ())
            }
            Client::Dimse(c) => {
                let c = c.clone();
                blocking(cancel, move || c.echo()).await
            }
        }
    }

    async fn retrieve_instance(
        &self,
        inst: &InstanceRef,
        cache: &Cache,
        cancel: &CancellationToken,
    ) -> Result<cache::StoredObject> {
        match self {
            Client::DicomWeb(c) => c.retrieve_instance(inst, cache, cancel).await,
            Client::Dimse(c) => {
                let (c, inst, cache) = (c.clone(), inst.clone(), cache.clone());
                blocking(cancel, move || match c.retrieve_mode() {
                    DimseRetrieve::Get => c.get_instance(&inst, &cache),
                    DimseRetrieve::Move => c.move_instance(&inst, &cache),
                })
                .await
            }
        }
    }

    /// Stores Part-10 files (our results objects): STOW-RS in one request,
    /// or C-STORE on one association. Succeeds only when the PACS stored
    /// every file.
    pub async fn store(&self, files: &[PathBuf], cancel: &CancellationToken) -> Result<()> {
        match self {
            Client::DicomWeb(c) => {
                let outcome = tokio::select! {
                    _ = cancel.cancelled() => return Err(Error::Cancelled),
                    r = c.store(files) => r?,
                };
                if !outcome.failed.is_empty() || outcome.stored.len() < files.len() {
                    return Err(Error::Protocol {
                        source_name: c.name.clone(),
                        message: format!(
                            "STOW-RS stored {} of {} objects (HTTP {}); refused: {}",
                            outcome.stored.len(),
                            files.len(),
                            outcome.http_status,
                            outcome.failed.join(", ")
                        ),
                    });
                }
                Ok(())
            }
            Client::Dimse(c) => {
                let limits = overread_dicom::Limits::default();
                let mut parts = Vec::new();
                for f in files {
                    let bytes = std::fs::read(f).map_err(|e| Error::Protocol {
                        source_name: c.name.clone(),
                        message: format!("cannot read {}: {e}", f.display()),
                    })?;
                    parts.push(
                        overread_dicom::net::store_file(bytes, &limits).map_err(|e| {
                            Error::Protocol {
                                source_name: c.name.clone(),
                                message: format!("{}: {e}", f.display()),
                            }
                        })?,
                    );
                }
                let c = c.clone();
                blocking(cancel, move || c.store(&parts)).await
            }
        }
    }

    /// The structured reports stored in a study (results read back).
    pub async fn list_results(
        &self,
        study_uid: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<InstanceRef>> {
        let mut listed = self.list_instances(study_uid, cancel).await?;
        listed.retain(|i| {
            i.sop_class_uid
                .as_deref()
                .is_some_and(query::is_structured_report)
        });
        Ok(listed)
    }

    /// Retrieves one instance into the cache (a report read back).
    pub async fn fetch(
        &self,
        inst: &InstanceRef,
        cache: &Cache,
        cancel: &CancellationToken,
    ) -> Result<PathBuf> {
        self.retrieve_instance(inst, cache, cancel)
            .await
            .map(|o| o.path)
    }

    pub async fn search_studies(
        &self,
        q: &StudyQuery,
        cancel: &CancellationToken,
    ) -> Result<Vec<StudyMatch>> {
        if let Some(d) = &q.study_date
            && !query::valid_date_range(d)
        {
            return Err(Error::Config {
                reason: format!("study date {d:?} is not YYYYMMDD or a range of them"),
            });
        }
        match self {
            Client::DicomWeb(c) => c.search_studies(q, cancel).await,
            Client::Dimse(c) => {
                let (c, q) = (c.clone(), q.clone());
                blocking(cancel, move || c.search_studies(&q)).await
            }
        }
    }

    pub async fn list_instances(
        &self,
        study_uid: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<InstanceRef>> {
        match self {
            Client::DicomWeb(c) => c.search_instances(study_uid, cancel).await,
            Client::Dimse(c) => {
                let (c, uid) = (c.clone(), study_uid.to_string());
                blocking(cancel, move || c.search_instances(&uid)).await
            }
        }
    }
}

/// Whether a stored object is the instance asked for, proved whole.
fn verify(obj: &cache::StoredObject, sop_uid: &str) -> std::result::Result<(), String> {
    if obj.verified.as_deref()? != sop_uid {
        return Err("the server sent a different instance".into());
    }
    Ok(())
}

/// Lists a study's instances and, when none is cached yet, fetches the
/// whole study at the same time in one WADO-RS request or one C-GET
/// association (instead of one per instance). Returns the listing and what the
/// study request stored; what it could not store is left to the
/// per-instance loop.
async fn list_and_prefetch(
    client: &Client,
    study_uid: &str,
    cache: &Cache,
    cancel: &CancellationToken,
    nothing_cached: bool,
) -> (Result<Vec<InstanceRef>>, Vec<cache::StoredObject>) {
    match client {
        Client::DicomWeb(c) if nothing_cached => {
            let (listed, (stored, outcome)) = tokio::join!(
                c.search_instances(study_uid, cancel),
                c.retrieve_study_parts(study_uid, cache, cancel)
            );
            match outcome {
                Err(Error::Cancelled) => (Err(Error::Cancelled), stored),
                _ => (listed, stored),
            }
        }
        Client::Dimse(c) if nothing_cached && c.retrieve_mode() == DimseRetrieve::Get => {
            let (c2, uid, cache) = (c.clone(), study_uid.to_string(), cache.clone());
            let (listed, fetched) = tokio::join!(
                client.list_instances(study_uid, cancel),
                blocking(cancel, move || Ok(c2.get_study(&uid, &cache)))
            );
            match fetched {
                Err(e) => (Err(e), Vec::new()),
                // Whatever went wrong is met again, per instance, or not.
                Ok((stored, _)) => (listed, stored),
            }
        }
        _ => (client.list_instances(study_uid, cancel).await, Vec::new()),
    }
}

/// Retrieves a study into the cache, instance by instance: instances already
/// cached are kept (a retrieve interrupted by a PACS failure resumes where it
/// stopped), each one is checked decodable, and the study record is saved
/// after every instance. Returns the record; check
/// [`StudyRecord::is_complete`].
pub async fn retrieve_study(
    client: &Client,
    source_name: &str,
    study_uid: &str,
    cache: &Cache,
    cancel: &CancellationToken,
    progress: &mut dyn FnMut(&Progress),
) -> Result<StudyRecord> {
    // The reserve first: a decision must always be able to commit.
    cache.check_room()?;
    let cached = cache.study(study_uid)?;
    let nothing_cached = cached.as_ref().is_none_or(|r| r.instances.is_empty());
    let limits = cache.limits().clone();
    let over = |message: String| Error::StudyLimit {
        source_name: source_name.to_string(),
        study_uid: study_uid.to_string(),
        message,
    };
    let mut record = cached.unwrap_or_else(|| StudyRecord::new(source_name, study_uid));
    let (listed, prefetched) =
        list_and_prefetch(client, study_uid, cache, cancel, nothing_cached).await;
    let reused = record.instances.len();
    let mut fetched = 0;
    let listed = match listed {
        Ok(mut listed) => {
            // Reports and presentation states (ours among them) are not
            // part of what the AI reads.
            listed.retain(|i| !i.sop_class_uid.as_deref().is_some_and(query::is_non_image));
            record.expected = listed.iter().map(|i| i.sop_uid.clone()).collect();
            record
                .instances
                .retain(|sop, _| record.expected.contains(sop));
            listed
        }
        Err(e) => {
            // Keep what the study request stored for the next attempt.
            for obj in prefetched {
                if let Ok(sop) = obj.verified.clone()
                    && !record.instances.contains_key(&sop)
                {
                    record.add(sop, &obj);
                }
            }
            if !record.instances.is_empty() {
                cache.save_study(&record)?;
            }
            return Err(e);
        }
    };
    record.problems.clear();
    if listed.len() > limits.max_study_instances {
        return Err(over(format!(
            "the PACS lists {} instances; at most {} per study are retrieved (cache.max_study_instances)",
            listed.len(),
            limits.max_study_instances
        )));
    }
    let total = listed.len();
    for obj in prefetched {
        // Instances the listing does not name are not kept in the record.
        if let Ok(sop) = obj.verified.clone()
            && record.expected.contains(&sop)
            && !record.instances.contains_key(&sop)
        {
            record.add(sop, &obj);
            fetched += 1;
        }
    }
    cache.save_study(&record)?;
    if record.bytes() > limits.max_study_bytes {
        return Err(over(format!(
            "{} bytes, more than one study may take (cache.max_study_bytes)",
            record.bytes()
        )));
    }
    let report = |record: &StudyRecord, fetched| Progress {
        done: record.instances.len(),
        total,
        bytes: record.bytes(),
        reused,
        fetched,
    };
    progress(&report(&record, fetched));
    let mut first_error = None;
    for inst in &listed {
        if record.instances.contains_key(&inst.sop_uid) {
            continue;
        }
        if record.bytes() >= limits.max_study_bytes {
            cache.save_study(&record)?;
            return Err(over(format!(
                "{} bytes retrieved, the most one study may take (cache.max_study_bytes)",
                record.bytes()
            )));
        }
        if let Err(e) = cache.check_room() {
            cache.save_study(&record)?;
            return Err(e);
        }
        let stored = client.retrieve_instance(inst, cache, cancel).await;
        match stored {
            Ok(obj) => match verify(&obj, &inst.sop_uid) {
                Ok(()) => {
                    fetched += 1;
                    record.add(inst.sop_uid.clone(), &obj);
                }
                Err(why) => {
                    record.problems.insert(inst.sop_uid.clone(), why);
                }
            },
            Err(Error::Cancelled) => {
                cache.save_study(&record)?;
                return Err(Error::Cancelled);
            }
            // The PACS went away: keep what we have, report the failure.
            Err(e) if e.is_transient() || matches!(e, Error::Protocol { .. }) => {
                record.problems.insert(inst.sop_uid.clone(), e.to_string());
                cache.save_study(&record)?;
                first_error.get_or_insert(e);
                break;
            }
            Err(e) => {
                record.problems.insert(inst.sop_uid.clone(), e.to_string());
                first_error.get_or_insert(e);
            }
        }
        cache.save_study(&record)?;
        progress(&report(&record, fetched));
    }
    // Every change to the record was saved as it was made.
    match first_error {
        Some(e) if !record.is_complete() => Err(e),
        _ => Ok(record),
    }
}
