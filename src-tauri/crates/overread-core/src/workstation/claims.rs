//! One worklist for several readers. With a department store configured,
//! the study open here is claimed for this reader: a lease in the store that
//! a background round renews every few seconds and releases when the reader
//! opens another study (a workstation that dies lets it expire). Each round
//! also reads every live claim, so the worklist shows "being read by NAME",
//! keeps those studies out of "next", and refuses decisions on them until
//! the reader takes one over (recorded in the audit log). Offline, claims
//! are unknown and reading goes on locally.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use overread_audit::EventKind;

use super::journal::Event;
use super::owned::Owned;
use super::{Change, Workstation, WsResult, reading, unknown};
use crate::api::{ApiError, ClaimView, ErrorCode, ReadingStatus, StudyId, StudyView, WorklistRow};
use crate::department::{self, Claimed, ClaimsAsk};

#[derive(Debug, Default)]
struct State {
    /// The study open here (Study Instance UID).
    open: Option<String>,
    /// The study this workstation holds a lease on, as the store last said.
    held: Option<String>,
    /// Take the open study over at the next round.
    take_over: bool,
    /// Every live claim the store told of, by worklist study; empty while
    /// the store cannot be reached.
    live: HashMap<StudyId, ClaimView>,
}

/// This module's state, and the bell that starts a round early.
#[derive(Debug)]
pub(crate) struct Claims {
    state: Owned<State>,
    wake: (Mutex<bool>, Condvar),
}

impl Claims {
    pub(crate) fn new() -> Claims {
        Claims {
            state: Owned::new("claims", State::default()),
            wake: (Mutex::new(false), Condvar::new()),
        }
    }

    fn ring(&self) {
        let (rung, bell) = &self.wake;
        *rung.lock().unwrap_or_else(PoisonError::into_inner) = true;
        bell.notify_all();
    }
}

fn held_by_other(claim: &ClaimView) -> ApiError {
    let what = if claim.done {
        "read this study"
    } else {
        "is reading this study"
    };
    ApiError::new(
        ErrorCode::Claimed,
        format!(
            "{} {what} at {} (since {}): it is read-only here until you take it over",
            claim.reader, claim.workstation, claim.since
        ),
    )
}

impl Workstation {
    /// Fills in who is reading each row.
    pub(super) fn with_claims(&self, rows: &mut [WorklistRow]) {
        self.claims.state.read(|st| {
            for row in rows {
                row.claim = st.live.get(&row.id).cloned();
            }
        });
    }

    /// Refuses to record a reading on a study another reader holds.
    pub(super) fn check_claim(&self, id: StudyId) -> WsResult<()> {
        match self.claims.state.read(|st| st.live.get(&id).cloned()) {
            Some(claim) if !claim.mine => Err(held_by_other(&claim)),
            _ => Ok(()),
        }
    }

    /// The reader opened a study: claim it at once (the round runs early).
    pub(super) fn opened(&self, study_uid: String) {
        let department = self.settings.read(|s| s.department_store.is_some());
        if !department {
            return;
        }
        let changed = self.claims.state.write(|st| {
            let changed = st.open.as_deref() != Some(&study_uid);
            if changed {
                st.open = Some(study_uid);
                st.take_over = false;
            }
            changed
        });
        if changed {
            self.claims.ring();
        }
    }

    /// Takes a study over from the reader who holds it: recorded in the
    /// audit log (whom, since when) before anything changes, then claimed in
    /// the store at once. Returns the study as the viewer shows it.
    pub fn take_over(&self, id: StudyId) -> WsResult<StudyView> {
        let study = self
            .studies
            .get(id, |s| reading::study_ref(&s.header))
            .ok_or_else(|| unknown(id))?
            .ok_or_else(reading::invalid_study)?;
        let holder = self
            .claims
            .state
            .read(|st| st.live.get(&id).cloned())
            .filter(|c| !c.mine)
            .ok_or_else(|| ApiError::invalid("nobody else is reading this study"))?;
        let study_uid = study.study_uid.clone();
        self.journal.record(Event {
            study: Some(study),
            detail: serde_json::json!({
                "from_reader": holder.reader,
                "from_workstation": holder.workstation,
                "claimed_since": holder.since,
            }),
            ..Event::new(EventKind::StudyTakenOver, Some(self.reader()))
        })?;
        let reader = self.settings.read(|s| s.audit_reader().display_name);
        let workstation = self.journal.workstation_id();
        self.claims.state.write(|st| {
            st.open = Some(study_uid);
            st.take_over = true;
            st.live.insert(
                id,
                ClaimView {
                    reader,
                    workstation,
                    mine: true,
                    since: overread_audit::now_rfc3339(),
                    done: false,
                },
            );
        });
        self.claims.ring();
        self.emit(Change::rows(vec![id]));
        self.open_study(id)
    }

    /// Waits until a study is opened or taken over, or `most` has passed:
    /// the claims thread's pause between rounds.
    pub fn wait_for_claims(&self, most: Duration) {
        let (rung, bell) = &self.claims.wake;
        let guard = rung.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut guard, _) = bell
            .wait_timeout_while(guard, most, |rung| !*rung)
            .unwrap_or_else(PoisonError::into_inner);
        *guard = false;
    }

    /// One round of claims with the department store (nothing when none is
    /// configured): release what was left, claim or renew what is open, and
    /// read every live claim. Blocks on the network (the app runs it on its
    /// own thread); rows whose claim changed reach the listener. Returns
    /// whether the store answered.
    pub fn sync_claims(&self) -> bool {
        let Some(conninfo) = self.settings.read(|s| s.department_store.clone()) else {
            self.set_live(HashMap::new());
            return false;
        };
        let (open, held, take_over) = self
            .claims
            .state
            .read(|st| (st.open.clone(), st.held.clone(), st.take_over));
        let workstation = self.journal.workstation_id();
        let reader = self.reader();
        let release = held.filter(|h| open.as_ref() != Some(h)).map(|h| {
            let read = self.studies.by_uid(&h).and_then(|id| {
                self.studies
                    .get(id, |s| reading::reading_status(s) == ReadingStatus::Read)
            });
            (h, read.unwrap_or(false))
        });
        let studies: Vec<String> = self
            .studies
            .map(|s| s.header.study_instance_uid.clone())
            .into_iter()
            .flatten()
            .collect();
        let ask = ClaimsAsk {
            workstation: &workstation,
            reader: &reader,
            release: release.as_ref().map(|(h, done)| (h.as_str(), *done)),
            claim: open.as_deref(),
            take_over,
            ttl: department::CLAIM_TTL,
            studies: &studies,
        };
        let answer = match department::claims_round(&conninfo, ask) {
            Ok(answer) => answer,
            Err(_) => {
                // Unknown while offline: nobody is shown reading anything.
                self.set_live(HashMap::new());
                return false;
            }
        };
        let granted = matches!(answer.claimed, Some(Claimed::Granted { .. }));
        let mut live = HashMap::new();
        for c in answer.live {
            if let Some(id) = self.studies.by_uid(&c.study_uid) {
                let view = ClaimView {
                    mine: c.workstation == workstation,
                    reader: c.reader_name,
                    workstation: c.workstation,
                    since: c.claimed_at,
                    done: c.done,
                };
                live.insert(id, view);
            }
        }
        self.claims.state.write(|st| {
            // Only what this round asked about is settled by its answer; a
            // study opened meanwhile is asked about in the next round.
            if st.open == open {
                st.held = if granted { open.clone() } else { None };
                if granted {
                    st.take_over = false;
                }
            }
        });
        self.set_live(live);
        true
    }

    /// Replaces the live claims; the rows whose claim changed are told.
    fn set_live(&self, live: HashMap<StudyId, ClaimView>) {
        let changed: Vec<StudyId> = self.claims.state.write(|st| {
            let mut changed: Vec<StudyId> = st
                .live
                .iter()
                .filter(|(id, c)| live.get(id) != Some(c))
                .map(|(id, _)| *id)
                .collect();
            changed.extend(live.keys().filter(|id| !st.live.contains_key(id)));
            st.live = live;
            changed
        });
        if !changed.is_empty() {
            self.emit(Change::rows(changed));
        }
    }

    /// Gives up this workstation's claim (the app is closing): the study is
    /// free for the next reader at once rather than when the lease expires.
    pub fn release_claims(&self) {
        let held = self.claims.state.write(|st| {
            st.open = None;
            st.held.is_some()
        });
        if held {
            self.sync_claims();
        }
    }
}
