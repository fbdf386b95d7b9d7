//! Governance: what an AI governance group looks at, over the department
//! store or one workstation's log. Per model version (never pooled), per
//! finding, reader, workstation and ISO week: flag rate, reader agreement,
//! positive predictive value of flags as judged by readers, time from
//! display to decision, read-first results; and drift of each finding's
//! score distribution and of the acquisition mix against a baseline window
//! (population stability index, Kolmogorov–Smirnov), with alerts.
//! [`html`] writes the report a meeting reads; [`registry`] the CSV for
//! national AI registries.

mod collect;
pub mod drift;
pub mod html;
pub mod registry;
mod report;
mod sources;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use report::{
    Agreement, DriftAlert, FindingReport, GroupReport, MixDrift, ModelReport, ReadFirstRow, Report,
    ScoreDrift, WeekReport,
};
pub use sources::{Collected, GovernanceError, from_log, from_store, write_private};

/// A model version: decisions on one are never pooled with another's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ModelKey {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

/// Inclusive UTC days, YYYY-MM-DD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from: String,
    pub to: String,
}

impl Window {
    /// A window from two YYYY-MM-DD days; refused when either is not a
    /// date or `from` is after `to`.
    pub fn new(from: &str, to: &str) -> Result<Window, GovernanceError> {
        for d in [from, to] {
            if collect::iso_week(d) == "unknown" || d.len() != 10 {
                return Err(GovernanceError::Period {
                    message: format!("{d:?} is not a date (YYYY-MM-DD)"),
                });
            }
        }
        if from > to {
            return Err(GovernanceError::Period {
                message: format!("the window starts ({from}) after it ends ({to})"),
            });
        }
        Ok(Window {
            from: from.into(),
            to: to.into(),
        })
    }

    /// The window of the same length that ends the day before this one:
    /// the default baseline.
    pub fn preceding(&self) -> Window {
        // The fields are checked by `new`; a window built by hand that is
        // not a date gives the earliest date, never a panic.
        let day = |s: &str| {
            let part = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<i32>().ok());
            let month = part(5..7)
                .and_then(|m| u8::try_from(m).ok())
                .and_then(|m| time::Month::try_from(m).ok());
            match (
                part(0..4),
                month,
                part(8..10).and_then(|d| u8::try_from(d).ok()),
            ) {
                (Some(y), Some(m), Some(d)) => {
                    time::Date::from_calendar_date(y, m, d).unwrap_or(time::Date::MIN)
                }
                _ => time::Date::MIN,
            }
        };
        let (from, to) = (day(&self.from), day(&self.to));
        let length = to - from;
        let end = from.previous_day().unwrap_or(from);
        let start = end.checked_sub(length).unwrap_or(time::Date::MIN);
        Window {
            from: start.to_string(),
            to: end.to_string(),
        }
    }

    /// Whether a YYYY-MM-DD day (or an RFC 3339 time's day) lies inside.
    pub fn contains(&self, day: &str) -> bool {
        let day = day.get(..10).unwrap_or(day);
        self.from.as_str() <= day && day <= self.to.as_str()
    }
}

/// What a report covers and when a shift is an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Options {
    pub period: Window,
    pub baseline: Window,
    /// A population stability index at or above this is a drift alert.
    pub psi_alert: f64,
    /// A Kolmogorov–Smirnov p-value under this (with D ≥ 0.1) is an alert.
    pub ks_alert_p: f64,
    /// Fewer scores than this in either window: drift is not judged.
    pub min_samples: u64,
}

impl Options {
    /// The usual thresholds: PSI 0.2, KS p < 0.001, at least 30 scores.
    pub fn new(period: Window, baseline: Option<Window>) -> Options {
        Options {
            baseline: baseline.unwrap_or_else(|| period.preceding()),
            period,
            psi_alert: 0.2,
            ks_alert_p: 0.001,
            min_samples: 30,
        }
    }
}
