//! The statistics of a local validation, on (score, truth) pairs of one
//! label: the ROC curve and its area with a stratified bootstrap interval,
//! sensitivity and specificity with Wilson intervals, the threshold that
//! reaches a target sensitivity, and calibration. Each is defined as
//! scikit-learn defines it (`roc_curve(drop_intermediate=False)`,
//! `roc_auc_score`, `calibration_curve(strategy="uniform")`,
//! `brier_score_loss`), and `tests/validation/check.py` holds them to it.

use overread_phantom::Rng;
use serde::{Deserialize, Serialize};

/// The normal quantile of a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// One case: the model's score and the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Case {
    pub score: f64,
    pub positive: bool,
}

/// A point of the ROC curve: the rates when `score >= threshold` is
/// called positive. The first point, (0, 0), has no threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    pub threshold: Option<f64>,
    pub fpr: f64,
    pub tpr: f64,
}

/// A proportion with its Wilson 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Proportion {
    pub k: u64,
    pub n: u64,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Proportion {
    /// `k` of `n`; `None` when `n` is 0.
    pub fn wilson(k: u64, n: u64) -> Option<Proportion> {
        if n == 0 || k > n {
            return None;
        }
        let (kf, nf) = (k as f64, n as f64);
        let p = kf / nf;
        let z2 = Z95 * Z95;
        let denom = 1.0 + z2 / nf;
        let centre = (p + z2 / (2.0 * nf)) / denom;
        let half = Z95 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
        Some(Proportion {
            k,
            n,
            value: p,
            low: (centre - half).max(0.0),
            high: (centre + half).min(1.0),
        })
    }
}

/// The confusion counts when `score >= threshold` is called positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
}

impl Confusion {
    pub fn at(cases: &[Case], threshold: f64) -> Confusion {
        let mut c = Confusion {
            tp: 0,
            fp: 0,
            tn: 0,
            fn_: 0,
        };
        for case in cases {
            match (case.positive, case.score >= threshold) {
                (true, true) => c.tp += 1,
                (true, false) => c.fn_ += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }

    pub fn sensitivity(&self) -> Option<Proportion> {
        Proportion::wilson(self.tp, self.tp + self.fn_)
    }

    pub fn specificity(&self) -> Option<Proportion> {
        Proportion::wilson(self.tn, self.tn + self.fp)
    }

    /// Positive predictive value.
    pub fn ppv(&self) -> Option<Proportion> {
        Proportion::wilson(self.tp, self.tp + self.fp)
    }

    /// Negative predictive value.
    pub fn npv(&self) -> Option<Proportion> {
        Proportion::wilson(self.tn, self.tn + self.fn_)
    }
}

/// Cases sorted by score, highest first (the order every curve walks).
fn sorted(cases: &[Case]) -> Vec<Case> {
    let mut s = cases.to_vec();
    s.sort_by(|a, b| b.score.total_cmp(&a.score));
    s
}

/// The ROC curve: (0, 0), then one point per distinct score, highest
/// first. Empty when either class has no cases.
pub fn roc(cases: &[Case]) -> Vec<RocPoint> {
    let s = sorted(cases);
    let pos = s.iter().filter(|c| c.positive).count() as f64;
    let neg = s.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return Vec::new();
    }
    let mut points = vec![RocPoint {
        threshold: None,
        fpr: 0.0,
        tpr: 0.0,
    }];
    let (mut tp, mut fp) = (0u64, 0u64);
    for (i, c) in s.iter().enumerate() {
        if c.positive {
            tp += 1;
        } else {
            fp += 1;
        }
        if s.get(i + 1).is_none_or(|next| next.score != c.score) {
            points.push(RocPoint {
                threshold: Some(c.score),
                fpr: fp as f64 / neg,
                tpr: tp as f64 / pos,
            });
        }
    }
    points
}

/// The area under a ROC curve (trapezoids; ties count one half).
pub fn area(points: &[RocPoint]) -> f64 {
    points
        .windows(2)
        .map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) / 2.0)
        .sum()
}

/// The area under the ROC curve; `None` when either class has no cases.
pub fn auc(cases: &[Case]) -> Option<f64> {
    let points = roc(cases);
    (!points.is_empty()).then(|| area(&points))
}

/// The `q`-quantile (0–1) of sorted values, interpolated linearly between
/// the closest ranks (numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// How the AUC's interval is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub resamples: u32,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Bootstrap {
        Bootstrap {
            resamples: 2000,
            seed: 2026,
        }
    }
}

/// The AUC's 95 % interval: the 2.5th and 97.5th percentiles of the AUCs
/// of stratified resamples (positives drawn with replacement from the
/// positives, then negatives from the negatives: `next_u64() % count` of
/// the seeded SplitMix64 generator, so the interval is reproducible and
/// the check can draw the same resamples).
pub fn auc_interval(cases: &[Case], b: Bootstrap) -> Option<(f64, f64)> {
    let pos: Vec<Case> = cases.iter().copied().filter(|c| c.positive).collect();
    let neg: Vec<Case> = cases.iter().copied().filter(|c| !c.positive).collect();
    if pos.is_empty() || neg.is_empty() || b.resamples == 0 {
        return None;
    }
    let mut rng = Rng::new(b.seed);
    let mut sample = Vec::with_capacity(cases.len());
    let mut aucs = Vec::with_capacity(b.resamples as usize);
    for _ in 0..b.resamples {
        sample.clear();
        for class in [&pos, &neg] {
            for _ in 0..class.len() {
                sample.push(class[(rng.next_u64() % class.len() as u64) as usize]);
            }
        }
        aucs.extend(auc(&sample));
    }
    aucs.sort_by(f64::total_cmp);
    Some((quantile(&aucs, 0.025)?, quantile(&aucs, 0.975)?))
}

/// The highest threshold whose sensitivity reaches `target` (the ROC
/// point where the true-positive rate first reaches it).
pub fn threshold_for_sensitivity(points: &[RocPoint], target: f64) -> Option<f64> {
    points
        .iter()
        .find(|p| p.threshold.is_some() && p.tpr >= target)
        .and_then(|p| p.threshold)
}

/// One bin of the reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    pub low: f64,
    pub high: f64,
    pub count: u64,
    /// Mean score in the bin.
    pub predicted: f64,
    /// Fraction of the bin's cases that are positive.
    pub observed: f64,
}

/// Calibration: the reliability diagram's non-empty bins and the Brier score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub bins: Vec<Bin>,
    pub brier: f64,
}

/// Calibration over `n_bins` equal bins of 0–1 (a score on an inner edge
/// belongs to the bin below it, as in scikit-learn); an error when a score
/// is not a probability.
pub fn calibration(cases: &[Case], n_bins: usize) -> Result<Calibration, String> {
    if let Some(c) = cases.iter().find(|c| !(0.0..=1.0).contains(&c.score)) {
        return Err(format!(
            "score {} is outside 0–1, so the scores are not probabilities",
            c.score
        ));
    }
    if cases.is_empty() || n_bins == 0 {
        return Err("no cases".into());
    }
    let step = 1.0 / n_bins as f64;
    let edges: Vec<f64> = (0..=n_bins).map(|i| i as f64 * step).collect();
    let (mut count, mut score, mut pos) =
        (vec![0u64; n_bins], vec![0.0; n_bins], vec![0u64; n_bins]);
    let mut brier = 0.0;
    for c in cases {
        let bin = edges[1..n_bins].iter().filter(|&&e| e < c.score).count();
        count[bin] += 1;
        score[bin] += c.score;
        pos[bin] += u64::from(c.positive);
        brier += (c.score - f64::from(u8::from(c.positive))).powi(2);
    }
    let bins = (0..n_bins)
        .filter(|&i| count[i] > 0)
        .map(|i| Bin {
            low: edges[i],
            high: if i + 1 == n_bins { 1.0 } else { edges[i + 1] },
            count: count[i],
            predicted: score[i] / count[i] as f64,
            observed: pos[i] as f64 / count[i] as f64,
        })
        .collect();
    Ok(Calibration {
        bins,
        brier: brier / cases.len() as f64,
    })
}
