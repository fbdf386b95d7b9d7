//! The report's shape, and the tallies turned into it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use overread_audit::Decision;
use serde::Serialize;

use super::collect::{ATTRIBUTES, Collector, Dec};
use super::drift::{self, Histogram};
use super::{ModelKey, Options};

/// Reader agreement over effective decisions (a corrected decision no
/// longer counts).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Agreement {
    /// AI flags a reader decided on.
    pub decided_flags: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Findings the AI did not flag, added by a reader.
    pub added: u64,
    /// Accepted flags / decided flags: the flags' positive predictive value
    /// as judged by readers.
    pub ppv: Option<f64>,
    /// Median milliseconds from display to decision.
    pub median_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingReport {
    pub finding: String,
    /// Images the model scored for this finding in the period.
    pub images: u64,
    pub flagged: u64,
    pub flag_rate: Option<f64>,
    pub agreement: Agreement,
}

/// Agreement for one reader, workstation or week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupReport {
    pub key: String,
    pub agreement: Agreement,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekReport {
    /// ISO week, `2026-W49`.
    pub week: String,
    pub finding: String,
    pub images: u64,
    pub flagged: u64,
    pub flag_rate: Option<f64>,
    pub agreement: Agreement,
}

/// Read-first mode, per finding: the reader's unaided impression against
/// the AI and the final decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadFirstRow {
    pub finding: String,
    pub studies: u64,
    pub unaided_positive: u64,
    pub ai_flagged: u64,
    pub final_positive: u64,
    /// The unaided read and the AI said the same.
    pub unaided_agreed_with_ai: u64,
    /// The final decision differs from the unaided read…
    pub changed_after_ai: u64,
    /// …and now says what the AI said.
    pub changed_towards_ai: u64,
}

/// One finding's scores in the period against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreDrift {
    pub finding: String,
    pub n_period: u64,
    pub n_baseline: u64,
    pub psi: Option<f64>,
    pub ks_d: Option<f64>,
    pub ks_p: Option<f64>,
    /// Shares of ten equal score bins.
    pub period_shares: Vec<f64>,
    pub baseline_shares: Vec<f64>,
    pub alert: bool,
    /// Why drift was not judged, when it was not.
    pub note: Option<String>,
}

/// One attribute's mix (manufacturer, view, kVp…) against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixDrift {
    pub attribute: String,
    /// Category, share in the period, share in the baseline.
    pub categories: Vec<(String, f64, f64)>,
    pub n_period: u64,
    pub n_baseline: u64,
    pub psi: Option<f64>,
    pub alert: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftAlert {
    pub model: ModelKey,
    /// `score: nodule` or `mix: manufacturer`.
    pub what: String,
    pub psi: Option<f64>,
    pub ks_p: Option<f64>,
    pub message: String,
}

/// Everything about one model version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelReport {
    pub model: ModelKey,
    pub images: u64,
    pub decisions: u64,
    pub overall: Agreement,
    pub findings: Vec<FindingReport>,
    pub readers: Vec<GroupReport>,
    pub workstations: Vec<GroupReport>,
    pub weeks: Vec<WeekReport>,
    pub read_first_studies: u64,
    pub read_first: Vec<ReadFirstRow>,
    pub score_drift: Vec<ScoreDrift>,
    pub mix_drift: Vec<MixDrift>,
}

/// A governance report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What was read: the department store or one log.
    pub scope: String,
    pub generated_at: String,
    pub options: Options,
    /// Rows read inside the period or the baseline.
    pub rows: u64,
    pub models: Vec<ModelReport>,
    pub drift_alerts: Vec<DriftAlert>,
    /// Rows the department store refused (a log changed after it was
    /// synced), as the store words them.
    pub chain_alerts: Vec<String>,
}

#[derive(Default)]
struct Tally {
    decided: u64,
    accepted: u64,
    rejected: u64,
    added: u64,
    ms: Vec<u32>,
}

impl Tally {
    fn add(&mut self, d: &Dec) {
        match (d.decision, d.flagged) {
            (Decision::Confirm, true) => {
                self.decided += 1;
                self.accepted += 1;
            }
            (Decision::Dismiss, true) => {
                self.decided += 1;
                self.rejected += 1;
            }
            (Decision::AddMissed, _) => self.added += 1,
            _ => {}
        }
        self.ms.extend(d.ms);
    }

    fn finish(mut self) -> Agreement {
        self.ms.sort_unstable();
        let n = self.ms.len();
        let median = match n {
            0 => None,
            _ if n % 2 == 1 => Some(f64::from(self.ms[n / 2])),
            _ => Some((f64::from(self.ms[n / 2 - 1]) + f64::from(self.ms[n / 2])) / 2.0),
        };
        Agreement {
            decided_flags: self.decided,
            accepted: self.accepted,
            rejected: self.rejected,
            added: self.added,
            ppv: (self.decided > 0).then(|| self.accepted as f64 / self.decided as f64),
            median_ms: median,
        }
    }
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn groups(tallies: BTreeMap<String, Tally>) -> Vec<GroupReport> {
    tallies
        .into_iter()
        .map(|(key, t)| GroupReport {
            key,
            agreement: t.finish(),
        })
        .collect()
}

fn score_drift(finding: &str, period: &Histogram, baseline: &Histogram, o: &Options) -> ScoreDrift {
    let enough = period.n() >= o.min_samples && baseline.n() >= o.min_samples;
    let (psi, ks) = if enough {
        (
            Some(drift::psi(&period.shares(), &baseline.shares())),
            Some(drift::ks(period, baseline)),
        )
    } else {
        (None, None)
    };
    let alert = psi.is_some_and(|p| p >= o.psi_alert)
        || ks.is_some_and(|(d, p)| p < o.ks_alert_p && d >= 0.1);
    ScoreDrift {
        finding: finding.to_string(),
        n_period: period.n(),
        n_baseline: baseline.n(),
        psi,
        ks_d: ks.map(|k| k.0),
        ks_p: ks.map(|k| k.1),
        period_shares: period.shares(),
        baseline_shares: baseline.shares(),
        alert,
        note: (!enough).then(|| {
            format!(
                "not judged: {} scores in the period and {} in the baseline (at least {} each)",
                period.n(),
                baseline.n(),
                o.min_samples
            )
        }),
    }
}

impl Collector {
    /// The decisions that still stand (not corrected by a later one).
    pub(super) fn effective(&self) -> impl Iterator<Item = &Dec> {
        self.decisions
            .iter()
            .filter(|d| !self.superseded.contains(&(d.workstation, d.seq)))
    }

    fn read_first(&self, model: u32, labels: &BTreeSet<String>) -> (u64, Vec<ReadFirstRow>) {
        // (workstation, study) → (AI-flagged findings, final positives).
        let mut studies: HashMap<(u32, u64), (HashSet<u32>, HashSet<u32>)> = HashMap::new();
        for d in self.effective().filter(|d| d.model == model) {
            if !self.impressions.contains_key(&(d.workstation, d.study)) {
                continue;
            }
            let s = studies.entry((d.workstation, d.study)).or_default();
            if d.flagged {
                s.0.insert(d.finding);
            }
            if matches!(d.decision, Decision::Confirm | Decision::AddMissed) {
                s.1.insert(d.finding);
            }
        }
        let rows = labels
            .iter()
            .map(|label| {
                let mut row = ReadFirstRow {
                    finding: label.clone(),
                    studies: studies.len() as u64,
                    unaided_positive: 0,
                    ai_flagged: 0,
                    final_positive: 0,
                    unaided_agreed_with_ai: 0,
                    changed_after_ai: 0,
                    changed_towards_ai: 0,
                };
                let id = self
                    .strings
                    .names
                    .iter()
                    .position(|n| n == label)
                    .map(|i| i as u32);
                for (key, (ai, fin)) in &studies {
                    let u = self.impressions[key].findings.contains(label);
                    let a = id.is_some_and(|i| ai.contains(&i));
                    let f = id.is_some_and(|i| fin.contains(&i));
                    row.unaided_positive += u64::from(u);
                    row.ai_flagged += u64::from(a);
                    row.final_positive += u64::from(f);
                    row.unaided_agreed_with_ai += u64::from(u == a);
                    row.changed_after_ai += u64::from(u != f);
                    row.changed_towards_ai += u64::from(u != f && f == a);
                }
                row
            })
            .collect();
        (studies.len() as u64, rows)
    }

    /// The report, with the store's chain alerts (none for a local log).
    pub(super) fn finish(&self, scope: String, chain_alerts: Vec<String>) -> Report {
        let o = &self.options;
        let mut models = Vec::new();
        let mut alerts = Vec::new();
        for (index, (key, acc)) in self.models.iter().enumerate() {
            let index = index as u32;
            let mut overall = Tally::default();
            let mut per_finding: BTreeMap<String, Tally> = BTreeMap::new();
            let mut per_reader: BTreeMap<String, Tally> = BTreeMap::new();
            let mut per_ws: BTreeMap<String, Tally> = BTreeMap::new();
            let mut per_week: BTreeMap<(String, String), Tally> = BTreeMap::new();
            let mut decisions = 0;
            for d in self.effective().filter(|d| d.model == index) {
                decisions += 1;
                let name = |id| self.strings.name(id).to_string();
                overall.add(d);
                per_finding.entry(name(d.finding)).or_default().add(d);
                per_reader.entry(name(d.reader)).or_default().add(d);
                per_ws.entry(name(d.workstation)).or_default().add(d);
                per_week
                    .entry((name(d.week), name(d.finding)))
                    .or_default()
                    .add(d);
            }
            let labels: BTreeSet<String> = acc
                .findings
                .keys()
                .cloned()
                .chain(per_finding.keys().cloned())
                .collect();
            let (read_first_studies, read_first) = self.read_first(index, &labels);
            let findings = labels
                .iter()
                .map(|label| {
                    let fa = acc.findings.get(label);
                    let (images, flagged) = fa.map_or((0, 0), |f| (f.images, f.flagged));
                    FindingReport {
                        finding: label.clone(),
                        images,
                        flagged,
                        flag_rate: rate(flagged, images),
                        agreement: per_finding.remove(label).unwrap_or_default().finish(),
                    }
                })
                .collect();
            let mut week_keys: BTreeSet<(String, String)> = acc.weeks.keys().cloned().collect();
            week_keys.extend(per_week.keys().cloned());
            let weeks = week_keys
                .into_iter()
                .map(|k| {
                    let (images, flagged) = acc.weeks.get(&k).copied().unwrap_or((0, 0));
                    let agreement = per_week.remove(&k).unwrap_or_default().finish();
                    WeekReport {
                        week: k.0,
                        finding: k.1,
                        images,
                        flagged,
                        flag_rate: rate(flagged, images),
                        agreement,
                    }
                })
                .collect();
            let score_drift: Vec<ScoreDrift> = acc
                .findings
                .iter()
                .map(|(label, f)| score_drift(label, &f.current, &f.baseline, o))
                .collect();
            let mix_drift: Vec<MixDrift> = ATTRIBUTES
                .iter()
                .filter_map(|a| acc.mix.get(a).map(|m| (a, m)))
                .map(|(attribute, (period, baseline))| {
                    let (categories, psi) = period.against(baseline);
                    let enough = period.n() >= o.min_samples && baseline.n() >= o.min_samples;
                    let psi = enough.then_some(psi);
                    MixDrift {
                        attribute: attribute.to_string(),
                        categories,
                        n_period: period.n(),
                        n_baseline: baseline.n(),
                        psi,
                        alert: psi.is_some_and(|p| p >= o.psi_alert),
                    }
                })
                .collect();
            for s in score_drift.iter().filter(|s| s.alert) {
                alerts.push(DriftAlert {
                    model: key.clone(),
                    what: format!("score: {}", s.finding),
                    psi: s.psi,
                    ks_p: s.ks_p,
                    message: format!(
                        "{} {}: the {} score distribution shifted (PSI {:.2}, KS D {:.2}, p {:.1e})",
                        key.name,
                        key.version,
                        s.finding,
                        s.psi.unwrap_or(0.0),
                        s.ks_d.unwrap_or(0.0),
                        s.ks_p.unwrap_or(1.0)
                    ),
                });
            }
            for m in mix_drift.iter().filter(|m| m.alert) {
                alerts.push(DriftAlert {
                    model: key.clone(),
                    what: format!("mix: {}", m.attribute),
                    psi: m.psi,
                    ks_p: None,
                    message: format!(
                        "{} {}: the {} mix of the images changed (PSI {:.2})",
                        key.name,
                        key.version,
                        m.attribute,
                        m.psi.unwrap_or(0.0)
                    ),
                });
            }
            models.push(ModelReport {
                model: key.clone(),
                images: acc.images,
                decisions,
                overall: overall.finish(),
                findings,
                readers: groups(per_reader),
                workstations: groups(per_ws),
                weeks,
                read_first_studies,
                read_first,
                score_drift,
                mix_drift,
            });
        }
        models.sort_by(|a, b| a.model.cmp(&b.model));
        Report {
            scope,
            generated_at: overread_audit::now_rfc3339(),
            options: self.options.clone(),
            rows: self.rows,
            models,
            drift_alerts: alerts,
            chain_alerts,
        }
    }
}
