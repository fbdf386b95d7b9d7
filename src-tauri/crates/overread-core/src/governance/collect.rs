//! Reading audit records (from a local log or the department store) into
//! the governance tallies, one record at a time. Decisions are kept in a
//! compact form until the end, because a later correction supersedes an
//! earlier decision; everything else is counted as it streams past.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use overread_audit::{Decision, EventKind, Record};
use serde_json::Value as Json;

use super::drift::{Histogram, Mix};
use super::{ModelKey, Options};

/// Attributes of the acquisition mix, in report order.
pub(super) const ATTRIBUTES: [&str; 6] = [
    "manufacturer",
    "modality",
    "view",
    "kVp",
    "exposure (mAs)",
    "image mean",
];

/// One finding of one model: what the AI flagged and how scores fell.
#[derive(Default)]
pub(super) struct FindingAcc {
    pub images: u64,
    pub flagged: u64,
    pub current: Histogram,
    pub baseline: Histogram,
}

#[derive(Default)]
pub(super) struct ModelAcc {
    pub images: u64,
    pub findings: BTreeMap<String, FindingAcc>,
    /// (ISO week, finding) → (images, flagged).
    pub weeks: BTreeMap<(String, String), (u64, u64)>,
    /// Attribute → (period, baseline).
    pub mix: BTreeMap<&'static str, (Mix, Mix)>,
}

/// A decision as the tallies need it (strings interned).
#[derive(Clone, Copy)]
pub(super) struct Dec {
    pub model: u32,
    pub finding: u32,
    pub reader: u32,
    pub workstation: u32,
    pub week: u32,
    pub study: u64,
    pub seq: i64,
    pub decision: Decision,
    pub flagged: bool,
    pub ms: Option<u32>,
    pub score: Option<f32>,
    /// The day it was recorded (interned YYYY-MM-DD).
    pub day: u32,
    /// The reader's role (interned), for the registry.
    pub role: u32,
}

/// A read-first impression: the findings the reader suspected unaided.
pub(super) struct Impression {
    pub findings: BTreeSet<String>,
}

/// Strings seen many times, kept once.
#[derive(Default)]
pub(super) struct Interner {
    ids: HashMap<String, u32>,
    pub names: Vec<String>,
}

impl Interner {
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), id);
        id
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// Everything read so far.
pub(super) struct Collector {
    pub options: Options,
    pub models: Vec<(ModelKey, ModelAcc)>,
    model_ids: HashMap<ModelKey, u32>,
    pub strings: Interner,
    pub decisions: Vec<Dec>,
    /// (workstation, seq) of decisions a later one corrected.
    pub superseded: HashSet<(u32, i64)>,
    /// (workstation, study) → the unaided impression.
    pub impressions: HashMap<(u32, u64), Impression>,
    /// Images already counted, per window and model (an image inferred on
    /// two workstations, or again after a restart, counts once).
    seen: HashSet<u64>,
    pub rows: u64,
}

fn hash64(parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// ISO week of a YYYY-MM-DD day, as `2026-W49`.
pub(super) fn iso_week(day: &str) -> String {
    let parse = || -> Option<time::Date> {
        let month = time::Month::try_from(day.get(5..7)?.parse::<u8>().ok()?).ok()?;
        time::Date::from_calendar_date(
            day.get(..4)?.parse().ok()?,
            month,
            day.get(8..10)?.parse().ok()?,
        )
        .ok()
    };
    match parse() {
        Some(d) => {
            let (y, w, _) = d.to_iso_week_date();
            format!("{y}-W{w:02}")
        }
        None => "unknown".into(),
    }
}

/// The category an acquisition or image value falls in.
fn category(attribute: &str, detail: &Json) -> String {
    let acq = detail.get("acquisition");
    let text = |k: &str| {
        acq.and_then(|a| a.get(k))
            .and_then(Json::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_string())
    };
    let num = |v: Option<&Json>| v.and_then(Json::as_f64);
    let banded = |v: Option<f64>, edges: &[f64], unit: &str| match v {
        None => "not recorded".to_string(),
        Some(x) => match edges.iter().position(|&e| x < e) {
            Some(0) => format!("< {}{unit}", edges[0]),
            Some(i) => format!("{}–{}{unit}", edges[i - 1], edges[i]),
            None => format!("≥ {}{unit}", edges[edges.len() - 1]),
        },
    };
    match attribute {
        "manufacturer" => text("manufacturer").unwrap_or_else(|| "not recorded".into()),
        "modality" => text("modality").unwrap_or_else(|| "not recorded".into()),
        "view" => text("view").unwrap_or_else(|| "not recorded".into()),
        "kVp" => banded(
            num(acq.and_then(|a| a.get("kvp"))),
            &[70.0, 90.0, 110.0, 130.0],
            "",
        ),
        "exposure (mAs)" => banded(
            num(acq.and_then(|a| a.get("exposure_mas"))),
            &[1.0, 2.0, 4.0, 8.0],
            "",
        ),
        _ => banded(
            num(detail.get("image").and_then(|i| i.get("mean"))),
            &[0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
            "",
        ),
    }
}

impl Collector {
    pub fn new(options: Options) -> Collector {
        Collector {
            options,
            models: Vec::new(),
            model_ids: HashMap::new(),
            strings: Interner::default(),
            decisions: Vec::new(),
            superseded: HashSet::new(),
            impressions: HashMap::new(),
            seen: HashSet::new(),
            rows: 0,
        }
    }

    fn model(&mut self, record: &Record) -> u32 {
        let key = match &record.model {
            Some(m) => ModelKey {
                name: m.name.clone(),
                version: m.version.clone(),
                sha256: m.sha256.clone(),
            },
            None => ModelKey {
                name: "no model recorded".into(),
                version: String::new(),
                sha256: String::new(),
            },
        };
        if let Some(&id) = self.model_ids.get(&key) {
            return id;
        }
        let id = self.models.len() as u32;
        self.model_ids.insert(key.clone(), id);
        self.models.push((key, ModelAcc::default()));
        id
    }

    /// Takes one record of `workstation`'s log.
    pub fn add(&mut self, workstation: &str, record: &Record) {
        let day = record.day();
        let in_period = self.options.period.contains(day);
        let in_baseline = self.options.baseline.contains(day);
        if !in_period && !in_baseline {
            return;
        }
        self.rows += 1;
        match record.kind {
            EventKind::InferenceRun => self.inference(record, in_period, in_baseline),
            EventKind::Decision if in_period => self.decision(workstation, record),
            EventKind::UnaidedImpression if in_period => {
                let ws = self.strings.id(workstation);
                let study = record.study.as_ref().map_or("", |s| s.study_uid.as_str());
                let findings = record
                    .detail
                    .as_ref()
                    .and_then(|d| d.get("findings"))
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| f.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                self.impressions
                    .insert((ws, hash64(&[study])), Impression { findings });
            }
            _ => {}
        }
    }

    fn inference(&mut self, record: &Record, in_period: bool, in_baseline: bool) {
        let Some(detail) = record.detail.as_ref() else {
            return;
        };
        let model = self.model(record);
        let sop = record.study.as_ref().map_or("", |s| s.sop_uid.as_str());
        let week = iso_week(record.day());
        for (window, wanted) in [("period", in_period), ("baseline", in_baseline)] {
            let key = hash64(&[window, model.to_string().as_str(), sop]);
            if !wanted || !self.seen.insert(key) {
                continue;
            }
            let acc = &mut self.models[model as usize].1;
            let current = window == "period";
            if current {
                acc.images += 1;
            }
            for attribute in ATTRIBUTES {
                let mix = acc.mix.entry(attribute).or_default();
                let side = if current { &mut mix.0 } else { &mut mix.1 };
                side.add(&category(attribute, detail));
            }
            let findings = detail.get("findings").and_then(Json::as_array);
            for f in findings.into_iter().flatten() {
                let (Some(label), Some(score)) = (
                    f.get("label").and_then(Json::as_str),
                    f.get("score").and_then(Json::as_f64),
                ) else {
                    continue;
                };
                let flagged = f.get("flagged").and_then(Json::as_bool) == Some(true);
                let fa = acc.findings.entry(label.to_string()).or_default();
                if current {
                    fa.images += 1;
                    fa.flagged += u64::from(flagged);
                    fa.current.add(score);
                    let w = acc
                        .weeks
                        .entry((week.clone(), label.to_string()))
                        .or_default();
                    w.0 += 1;
                    w.1 += u64::from(flagged);
                } else {
                    fa.baseline.add(score);
                }
            }
        }
    }

    fn decision(&mut self, workstation: &str, record: &Record) {
        let Some(d) = &record.decision else { return };
        let model = self.model(record);
        let ws = self.strings.id(workstation);
        if let Some(target) = d.supersedes {
            self.superseded.insert((ws, target));
        }
        let reader = match &record.reader {
            Some(r) if r.role.is_empty() => r.id.clone(),
            Some(r) => format!("{} ({})", r.id, r.role),
            None => "unknown".into(),
        };
        let dec = Dec {
            model,
            finding: self.strings.id(&d.finding),
            reader: self.strings.id(&reader),
            workstation: ws,
            week: self.strings.id(&iso_week(record.day())),
            study: hash64(&[record.study.as_ref().map_or("", |s| s.study_uid.as_str())]),
            seq: record.seq,
            decision: d.decision,
            flagged: d.ai_flagged,
            ms: d
                .display_to_decision_ms
                .map(|ms| u32::try_from(ms).unwrap_or(u32::MAX)),
            score: d.ai_score.map(|s| s as f32),
            day: self.strings.id(record.day()),
            role: self
                .strings
                .id(record.reader.as_ref().map_or("", |r| r.role.as_str())),
        };
        self.decisions.push(dec);
    }
}
