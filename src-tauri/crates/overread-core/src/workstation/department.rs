//! This workstation's log in the department store: a background sync that
//! sends the rows the store does not hold yet, and the store's state for
//! the sources strip and the audit screen. Offline is normal: the log keeps
//! every decision, and the next sync sends what waited.

use std::sync::atomic::{AtomicBool, Ordering};

use super::owned::Owned;
use super::{Change, Workstation};
use crate::api::{StoreAlert, StoreState, StoreStatus};
use crate::department::{self, SyncReport};

/// This module's state: the store's last known state, and whether a sync
/// is running.
#[derive(Debug)]
pub(crate) struct Department {
    status: Owned<Option<StoreStatus>>,
    syncing: AtomicBool,
}

impl Department {
    pub(crate) fn new() -> Department {
        Department {
            status: Owned::new("department", None),
            syncing: AtomicBool::new(false),
        }
    }
}

/// The state a sync's report means.
fn status_of(report: &SyncReport) -> StoreStatus {
    let alerts: Vec<StoreAlert> = report
        .alerts
        .iter()
        .map(|a| StoreAlert {
            workstation: a.workstation.clone(),
            seq: a.seq as f64,
            reason: a.reason.clone(),
            received_at: a.received_at.clone(),
        })
        .collect();
    let behind = (report.local_head - report.store_head).max(0);
    let (state, message) = match (&report.refused, alerts.first()) {
        (Some((seq, why)), _) => (
            StoreState::Alert,
            Some(format!("the store refused row {seq} of this log: {why}")),
        ),
        (None, Some(a)) => (
            StoreState::Alert,
            Some(format!(
                "the store refused row {} of workstation {}: {}",
                a.seq, a.workstation, a.reason
            )),
        ),
        (None, None) if behind > 0 => (StoreState::Behind, None),
        (None, None) => (StoreState::InSync, None),
    };
    StoreStatus {
        state,
        message,
        behind: behind as f64,
        last_answer: Some(overread_audit::now_rfc3339()),
        alerts,
    }
}

impl Workstation {
    /// The department store's state, when one is configured.
    pub fn store_status(&self) -> Option<StoreStatus> {
        if self.settings.read(|s| s.department_store.is_none()) {
            return None;
        }
        Some(
            self.department
                .status
                .read(Option::clone)
                .unwrap_or(StoreStatus {
                    state: StoreState::Checking,
                    message: None,
                    behind: 0.0,
                    last_answer: None,
                    alerts: Vec::new(),
                }),
        )
    }

    /// Sends the local log's rows the department store does not hold yet
    /// (nothing when no store is configured, or a sync is running). Blocks
    /// on the network (the app runs it on its own thread, every few
    /// seconds); the state reaches the listener. Returns the rows sent.
    pub fn sync_department(&self) -> u64 {
        let Some(conninfo) = self.settings.read(|s| s.department_store.clone()) else {
            self.department.status.write(|s| *s = None);
            return 0;
        };
        if self.department.syncing.swap(true, Ordering::SeqCst) {
            return 0;
        }
        let workstation = self.journal.workstation_id();
        let result = self
            .journal
            .head()
            .map_err(|e| e.message)
            .and_then(|local| {
                let mut read =
                    |from: i64, n: usize| self.journal.rows(from, n).map_err(|e| e.message);
                department::sync(&conninfo, &workstation, local, &mut read)
                    .map_err(|e| e.to_string())
            });
        self.department.syncing.store(false, Ordering::SeqCst);
        let (status, sent) = match result {
            Ok(report) => (status_of(&report), report.sent),
            Err(why) => {
                // Offline keeps what the store said last (its alerts).
                let last = self.department.status.read(Option::clone);
                (
                    StoreStatus {
                        state: StoreState::Offline,
                        message: Some(why),
                        behind: last.as_ref().map_or(0.0, |s| s.behind),
                        last_answer: last.as_ref().and_then(|s| s.last_answer.clone()),
                        alerts: last.map(|s| s.alerts).unwrap_or_default(),
                    },
                    0,
                )
            }
        };
        let changed = self.department.status.write(|s| {
            let changed = s.as_ref().is_none_or(|old| {
                old.state != status.state
                    || old.message != status.message
                    || old.behind != status.behind
                    || old.alerts != status.alerts
            });
            *s = Some(status.clone());
            changed
        });
        if changed {
            self.emit(Change {
                store: Some(status),
                ..Change::default()
            });
        }
        sent
    }
}
