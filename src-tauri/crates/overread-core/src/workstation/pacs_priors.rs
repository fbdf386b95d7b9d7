//! The open study's priors on the PACS. When a study is selected, every
//! configured source is asked for the patient's earlier chest radiographs
//! (QIDO-RS or C-FIND: Patient ID, study dates up to the current one, CR and
//! DX); they are listed beside the study, and the newest is retrieved into
//! the cache in the background, kept off the worklist, and triaged like any
//! study. Earlier readers' assessments of it are read back from the PACS's
//! structured reports, so that the comparison line can say what was decided
//! then even on a workstation that never saw the prior.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use overread_dicom::Header;
use overread_pacs::{self as pacs, Cache, CancellationToken, Client, PacsConfig, StudyRecord};

use super::owned::Owned;
use super::pacs::partial_message;
use super::study::{EarlierDecision, Here, LOCAL};
use super::{Change, Workstation, WsResult, unknown};
use crate::api::{ApiError, ErrorCode, StudyId, StudyPriors};

/// A study's priors are asked for again after this long.
const ASK_AGAIN: Duration = Duration::from_secs(5 * 60);

/// The most priors one source is asked to list for a study.
const MOST_PRIORS: u32 = 50;

/// Which studies' priors were asked for, and which priors are being
/// retrieved, so that a study selected twice asks once.
#[derive(Debug)]
pub(crate) struct PriorRequests {
    asked: Owned<HashMap<StudyId, Instant>>,
    retrieving: Owned<HashSet<String>>,
}

impl PriorRequests {
    pub(crate) fn new() -> PriorRequests {
        PriorRequests {
            asked: Owned::new("priors-asked", HashMap::new()),
            retrieving: Owned::new("priors-retrieving", HashSet::new()),
        }
    }

    /// Whether to ask for `id`'s priors now (not asked in the last
    /// [`ASK_AGAIN`]); marks it asked.
    fn ask(&self, id: StudyId) -> bool {
        let now = Instant::now();
        self.asked.write(|asked| {
            let due = asked.get(&id).is_none_or(|at| now - *at >= ASK_AGAIN);
            if due {
                asked.insert(id, now);
            }
            due
        })
    }

    /// Claims a study to retrieve; false when another caller has it.
    fn claim(&self, study_uid: &str) -> bool {
        self.retrieving.write(|r| r.insert(study_uid.to_string()))
    }

    fn release(&self, study_uid: &str) {
        self.retrieving.write(|r| r.remove(study_uid));
    }
}

/// The assessments a structured report names, as the audit log names
/// decisions: accepted and modified are confirmed, rejected dismissed.
fn as_decision(assessment: &str) -> Option<&'static str> {
    match assessment {
        "accepted" | "modified" => Some("confirm"),
        "rejected" => Some("dismiss"),
        "added" => Some("add_missed"),
        _ => None,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))
}

impl Workstation {
    /// Asks every PACS source for the study's priors (at most once in five
    /// minutes per study), lists those not here beside it, and retrieves
    /// `which` (by default the newest prior) when it is on a PACS and not
    /// here; then reads earlier readers' assessments of it back from the
    /// PACS. Blocks on the network: the app runs it off the main thread when
    /// a study is selected. Each change reaches the listener as a `priors`
    /// event. Returns the priors as they stand; a source that could not be
    /// asked is one line in `problems`.
    pub fn find_priors(&self, id: StudyId, which: Option<StudyId>) -> WsResult<StudyPriors> {
        let current = self
            .studies
            .get(id, |s| s.header.clone())
            .ok_or_else(|| unknown(id))?;
        if let Some(p) = which
            && !self.priors(id).contains(&p)
        {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("study {p} is not a prior of study {id}"),
            ));
        }
        let mut problems = Vec::new();
        match self.pacs_setup() {
            Some(Ok((config, cache))) if current.patient_id.is_some() => {
                if self.pacs.priors.ask(id) {
                    let listed = self.list_pacs_priors(&config, &current, &mut problems);
                    if !listed.is_empty() {
                        self.emit(Change {
                            priors: true,
                            ..Change::default()
                        });
                    }
                }
                if let Some(prior) = which.or_else(|| self.priors(id).first().copied())
                    && let Err(why) = self.retrieve_prior(&config, &cache, prior)
                {
                    problems.push(why);
                }
            }
            Some(Err(message)) => problems.push(message),
            _ => {}
        }
        let mut found = self.study_priors(id)?;
        found.problems = problems;
        Ok(found)
    }

    /// Lists the current study's priors each source holds and the worklist
    /// does not; returns the ones new here.
    fn list_pacs_priors(
        &self,
        config: &PacsConfig,
        current: &Header,
        problems: &mut Vec<String>,
    ) -> Vec<StudyId> {
        let (Some(patient), Some(date)) = (&current.patient_id, &current.study_date) else {
            return Vec::new();
        };
        let query = pacs::StudyQuery {
            patient_id: Some(patient.clone()),
            study_date: Some(format!("-{}", date.trim())),
            modalities: vec!["CR".into(), "DX".into()],
            limit: Some(MOST_PRIORS),
            ..pacs::StudyQuery::default()
        };
        let runtime = match runtime() {
            Ok(r) => r,
            Err(e) => {
                problems.push(e);
                return Vec::new();
            }
        };
        let cancel = CancellationToken::new();
        let mut listed = Vec::new();
        for source in &config.sources {
            let found = Client::new(source)
                .and_then(|c| runtime.block_on(c.search_studies(&query, &cancel)));
            let matches = match found {
                Ok(m) => m,
                Err(e) => {
                    problems.push(format!("priors on {}: {e}", source.name));
                    continue;
                }
            };
            for m in matches {
                if current.study_instance_uid.as_ref() == Some(&m.study_uid)
                    || self.studies.by_uid(&m.study_uid).is_some()
                {
                    continue;
                }
                let Some(id) = self.put_retrieving(&source.name, &m, true) else {
                    continue;
                };
                let waiting = format!("on {}; retrieved when compared", source.name);
                self.studies.update(id, |s| {
                    s.here = Here::Retrieving {
                        waiting: Some(waiting),
                    }
                });
                listed.push(id);
            }
        }
        listed
    }

    /// Retrieves a prior on a PACS into the cache (off the worklist unless
    /// the worklist holds it), puts it up for triage, starts decoding it,
    /// and reads earlier readers' assessments of it back. Nothing to do for
    /// a prior here already or being retrieved by another caller.
    fn retrieve_prior(
        &self,
        config: &PacsConfig,
        cache: &Cache,
        prior: StudyId,
    ) -> Result<(), String> {
        let Some((source, uid, here, prior_only)) = self.studies.get(prior, |s| {
            (
                s.source.clone(),
                s.header.study_instance_uid.clone(),
                s.here.clone(),
                s.prior_only,
            )
        }) else {
            return Ok(());
        };
        let Some(uid) = uid else { return Ok(()) };
        // A study of the worklist is the sync's to retrieve, unless it was
        // evicted (a study read long ago is not listed again).
        let wanted = match here {
            Here::Available { .. } => false,
            Here::Evicted => true,
            Here::Retrieving { .. } | Here::Partial { .. } => prior_only,
        };
        if source == LOCAL || !wanted || !self.pacs.priors.claim(&uid) {
            return Ok(());
        }
        let result = self.retrieve_claimed(config, cache, &source, &uid, prior_only);
        self.pacs.priors.release(&uid);
        let problem = match result {
            Ok(rec) => {
                let readings = self.journal.readings().unwrap_or_default();
                if rec.is_complete() && self.add_cached(cache, &rec, &readings).is_some() {
                    if let Ok(file) = self.image_file(prior, 0) {
                        self.images.warm((prior, 0), file);
                    }
                } else {
                    self.put_partial(&uid, partial_message(&rec));
                }
                self.read_back_decisions(prior).err()
            }
            Err(e) => {
                let why = format!("not retrieved from {source}: {e}");
                self.studies.update(prior, |s| {
                    s.here = Here::Retrieving {
                        waiting: Some(why.clone()),
                    }
                });
                Some(format!("prior {uid}: {why}"))
            }
        };
        self.emit(Change::rows(vec![prior]));
        problem.map_or(Ok(()), Err)
    }

    /// Retrieves one study the caller has claimed. A prior's cache record
    /// says so before the first instance arrives, so that after a restart it
    /// stays off the worklist however far the retrieve got.
    fn retrieve_claimed(
        &self,
        config: &PacsConfig,
        cache: &Cache,
        source: &str,
        uid: &str,
        prior_only: bool,
    ) -> Result<StudyRecord, String> {
        let client = config
            .source(source)
            .and_then(Client::new)
            .map_err(|e| e.to_string())?;
        if prior_only && cache.study(uid).map_err(|e| e.to_string())?.is_none() {
            let mut rec = StudyRecord::new(source, uid);
            rec.prior = true;
            cache.save_study(&rec).map_err(|e| e.to_string())?;
        }
        let cancel = CancellationToken::new();
        runtime()?
            .block_on(pacs::retrieve_study(
                &client,
                source,
                uid,
                cache,
                &cancel,
                &mut |_| {},
            ))
            .map_err(|e| e.to_string())
    }

    /// Keeps the assessments of `prior` stored on its PACS, as decisions.
    fn read_back_decisions(&self, prior: StudyId) -> Result<(), String> {
        let assessments = self
            .earlier_assessments(prior)
            .map_err(|e| format!("earlier assessments of a prior: {}", e.message))?;
        let earlier: Vec<EarlierDecision> = assessments
            .into_iter()
            .flat_map(|a| a.findings)
            .filter_map(|f| {
                Some(EarlierDecision {
                    decision: as_decision(&f.assessment)?.to_string(),
                    finding: f.label,
                    reason: f.reason,
                })
            })
            .collect();
        self.studies.update(prior, |s| s.earlier = earlier);
        Ok(())
    }

    /// Studies here as priors that a worklist query now lists join the
    /// worklist, and their cache records say so; returns their ids.
    pub(super) fn claim_priors(&self, cache: &Cache, matches: &[pacs::StudyMatch]) -> Vec<StudyId> {
        let mut ids = Vec::new();
        for m in matches {
            let Some(id) = self.studies.claim(&m.study_uid) else {
                continue;
            };
            ids.push(id);
            if let Ok(Some(mut rec)) = cache.study(&m.study_uid)
                && rec.prior
            {
                rec.prior = false;
                if let Err(e) = cache.save_study(&rec) {
                    eprintln!("overread: PACS cache: {e}");
                }
            }
        }
        ids
    }
}
