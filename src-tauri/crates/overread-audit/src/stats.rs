//! Agreement statistics over effective decisions (a decision superseded by a
//! correction no longer counts).

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use time::{Date, Duration};

use crate::error::Result;
use crate::event::Decision;
use crate::log::AuditLog;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Agreement {
    /// AI flags the reader decided on.
    pub flags_shown: u64,
    pub confirmed: u64,
    pub dismissed: u64,
    pub missed_added: u64,
    /// Confirmed flags / decided flags.
    pub ppv: Option<f64>,
    pub median_ms_to_decision: Option<f64>,
}

/// Effective confirms and dismissals of one finding on one day (UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DailyAgreement {
    /// YYYY-MM-DD
    pub day: String,
    pub finding: String,
    pub confirmed: u64,
    pub dismissed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub from: Option<String>,
    pub to: Option<String>,
    pub decisions: u64,
    pub per_finding: BTreeMap<String, Agreement>,
    pub per_reader: BTreeMap<String, Agreement>,
    /// By day, then finding.
    pub daily: Vec<DailyAgreement>,
}

#[derive(Default)]
struct Tally {
    flags: u64,
    confirmed: u64,
    dismissed: u64,
    missed: u64,
    times: Vec<i64>,
}

impl Tally {
    fn finish(mut self) -> Agreement {
        self.times.sort_unstable();
        let median = match self.times.len() {
            0 => None,
            n if n % 2 == 1 => Some(self.times[n / 2] as f64),
            n => Some((self.times[n / 2 - 1] + self.times[n / 2]) as f64 / 2.0),
        };
        let decided = self.confirmed + self.dismissed;
        Agreement {
            flags_shown: self.flags,
            confirmed: self.confirmed,
            dismissed: self.dismissed,
            missed_added: self.missed,
            ppv: (decided > 0).then(|| self.confirmed as f64 / decided as f64),
            median_ms_to_decision: median,
        }
    }
}

impl AuditLog {
    /// Statistics per finding and per reader over `from..=to` (UTC days).
    pub fn stats(&self, from: Option<Date>, to: Option<Date>) -> Result<Stats> {
        let lo = from.map(|d| d.to_string()).unwrap_or_default();
        let hi = to
            .map(|d| (d + Duration::days(1)).to_string())
            .unwrap_or_else(|| "9999".into());
        let mut superseded = HashSet::new();
        let mut decisions = Vec::new();
        self.for_each_row(
            "WHERE kind = 'decision' AND recorded_at >= ?1 AND recorded_at < ?2",
            &[&lo, &hi],
            |row| {
                let record = row.record()?;
                if let Some(target) = record.decision.as_ref().and_then(|d| d.supersedes) {
                    superseded.insert(target);
                }
                decisions.push(record);
                Ok(())
            },
        )?;
        let mut per_finding: BTreeMap<String, Tally> = BTreeMap::new();
        let mut per_reader: BTreeMap<String, Tally> = BTreeMap::new();
        let mut daily: BTreeMap<(String, String), DailyAgreement> = BTreeMap::new();
        let mut count = 0;
        for record in decisions.iter().filter(|r| !superseded.contains(&r.seq)) {
            let Some(d) = &record.decision else { continue };
            count += 1;
            let reader = record
                .reader
                .as_ref()
                .map(|r| r.id.clone())
                .unwrap_or_default();
            for tally in [
                per_finding.entry(d.finding.clone()).or_default(),
                per_reader.entry(reader).or_default(),
            ] {
                match (d.decision, d.ai_flagged) {
                    (Decision::Confirm, true) => {
                        tally.flags += 1;
                        tally.confirmed += 1;
                    }
                    (Decision::Dismiss, true) => {
                        tally.flags += 1;
                        tally.dismissed += 1;
                    }
                    (Decision::AddMissed, _) => tally.missed += 1,
                    _ => {}
                }
                if let Some(ms) = d.display_to_decision_ms {
                    tally.times.push(ms as i64);
                }
            }
            let day = daily
                .entry((record.day().to_string(), d.finding.clone()))
                .or_insert_with(|| DailyAgreement {
                    day: record.day().to_string(),
                    finding: d.finding.clone(),
                    ..DailyAgreement::default()
                });
            match d.decision {
                Decision::Confirm => day.confirmed += 1,
                Decision::Dismiss => day.dismissed += 1,
                Decision::AddMissed => {}
            }
        }
        Ok(Stats {
            from: from.map(|d| d.to_string()),
            to: to.map(|d| d.to_string()),
            decisions: count,
            per_finding: per_finding
                .into_iter()
                .map(|(k, v)| (k, v.finish()))
                .collect(),
            per_reader: per_reader
                .into_iter()
                .map(|(k, v)| (k, v.finish()))
                .collect(),
            daily: daily.into_values().collect(),
        })
    }
}
