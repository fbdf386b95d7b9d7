//! Agreement statistics over effective decisions (a decision superseded by a
//! correction no longer counts).

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use time::{Date, Duration};

use crate::error::Result;
use crate::log::{AuditLog, value_int, value_text};

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

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub from: Option<String>,
    pub to: Option<String>,
    pub decisions: u64,
    pub per_finding: BTreeMap<String, Agreement>,
    pub per_reader: BTreeMap<String, Agreement>,
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
                if let Some(target) = value_int(&row, "supersedes") {
                    superseded.insert(target);
                }
                decisions.push(row);
                Ok(())
            },
        )?;
        let mut per_finding: BTreeMap<String, Tally> = BTreeMap::new();
        let mut per_reader: BTreeMap<String, Tally> = BTreeMap::new();
        let mut count = 0;
        for row in decisions.iter().filter(|r| !superseded.contains(&r.seq)) {
            count += 1;
            let finding = value_text(row, "finding").unwrap_or_default();
            let reader = value_text(row, "reader_id").unwrap_or_default();
            let flagged = value_int(row, "ai_flagged") == Some(1);
            let decision = value_text(row, "decision").unwrap_or_default();
            let ms = value_int(row, "display_to_decision_ms");
            for tally in [
                per_finding.entry(finding.clone()).or_default(),
                per_reader.entry(reader.clone()).or_default(),
            ] {
                match (decision.as_str(), flagged) {
                    ("confirm", true) => {
                        tally.flags += 1;
                        tally.confirmed += 1;
                    }
                    ("dismiss", true) => {
                        tally.flags += 1;
                        tally.dismissed += 1;
                    }
                    ("add_missed", _) => tally.missed += 1,
                    _ => {}
                }
                if let Some(ms) = ms {
                    tally.times.push(ms);
                }
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
        })
    }
}
