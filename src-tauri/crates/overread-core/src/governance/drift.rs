//! Drift statistics: a score distribution (or a category mix) in the
//! period against the same in a baseline window. Everything is counted in
//! fixed bins, so memory does not grow with the number of rows.

use std::collections::BTreeMap;

/// Fine bins of a score in [0, 1]; the KS statistic is read at their edges.
pub const FINE_BINS: usize = 100;
/// Bins of the population stability index (merged fine bins).
pub const PSI_BINS: usize = 10;
/// A share of zero would make the PSI infinite: shares are floored here.
const EPSILON: f64 = 1e-4;

/// Counts of scores in [`FINE_BINS`] equal bins over [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    counts: Vec<u64>,
    n: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; FINE_BINS],
            n: 0,
        }
    }
}

impl Histogram {
    /// Counts a score; scores outside [0, 1] go to the end bins, NaN nowhere.
    pub fn add(&mut self, score: f64) {
        if score.is_nan() {
            return;
        }
        let bin = (score.clamp(0.0, 1.0) * FINE_BINS as f64) as usize;
        self.counts[bin.min(FINE_BINS - 1)] += 1;
        self.n += 1;
    }

    pub fn n(&self) -> u64 {
        self.n
    }

    /// Shares of the [`PSI_BINS`] coarse bins (all zero when empty).
    pub fn shares(&self) -> Vec<f64> {
        let per = FINE_BINS / PSI_BINS;
        self.counts
            .chunks(per)
            .map(|c| share(c.iter().sum(), self.n))
            .collect()
    }

    /// The cumulative share at each fine bin's upper edge.
    fn cdf(&self) -> Vec<f64> {
        let mut acc = 0;
        self.counts
            .iter()
            .map(|c| {
                acc += c;
                share(acc, self.n)
            })
            .collect()
    }
}

fn share(count: u64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { count as f64 / n as f64 }
}

/// Population stability index of `current` against `baseline` shares:
/// Σ (c − b) · ln(c / b), shares floored at a small epsilon. Under 0.1 is
/// usually read as stable, 0.1–0.2 as a moderate shift, over 0.2 as a shift
/// worth looking at.
pub fn psi(current: &[f64], baseline: &[f64]) -> f64 {
    current
        .iter()
        .zip(baseline)
        .map(|(&c, &b)| {
            let (c, b) = (c.max(EPSILON), b.max(EPSILON));
            (c - b) * (c / b).ln()
        })
        .sum()
}

/// Two-sample Kolmogorov–Smirnov statistic D (read at the fine bins'
/// edges, so a lower bound of the exact D by at most one bin's mass) and
/// its asymptotic p-value.
pub fn ks(current: &Histogram, baseline: &Histogram) -> (f64, f64) {
    let d = current
        .cdf()
        .iter()
        .zip(baseline.cdf())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let (n, m) = (current.n as f64, baseline.n as f64);
    if n == 0.0 || m == 0.0 {
        return (d, 1.0);
    }
    let ne = n * m / (n + m);
    let lambda = (ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d;
    (d, kolmogorov_q(lambda))
}

/// Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}, the probability that D
/// exceeds its observed value under the null.
fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 1e-3 {
        return 1.0;
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=100 {
        let k = f64::from(k);
        let term = sign * (-2.0 * k * k * lambda * lambda).exp();
        sum += term;
        if term.abs() < 1e-12 {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// Counts of a categorical attribute (manufacturer, view…).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mix {
    counts: BTreeMap<String, u64>,
    n: u64,
}

/// The most categories one attribute keeps; the rest are counted as "other".
const MAX_CATEGORIES: usize = 64;

impl Mix {
    pub fn add(&mut self, category: &str) {
        let key = if self.counts.contains_key(category) || self.counts.len() < MAX_CATEGORIES {
            category
        } else {
            "other"
        };
        *self.counts.entry(key.to_string()).or_default() += 1;
        self.n += 1;
    }

    pub fn n(&self) -> u64 {
        self.n
    }

    /// Every category of either mix with its share in each, and the PSI.
    pub fn against(&self, baseline: &Mix) -> (Vec<(String, f64, f64)>, f64) {
        let mut names: Vec<&String> = self.counts.keys().chain(baseline.counts.keys()).collect();
        names.sort();
        names.dedup();
        let rows: Vec<(String, f64, f64)> = names
            .into_iter()
            .map(|k| {
                let c = share(self.counts.get(k).copied().unwrap_or(0), self.n);
                let b = share(baseline.counts.get(k).copied().unwrap_or(0), baseline.n);
                (k.clone(), c, b)
            })
            .collect();
        let (c, b): (Vec<f64>, Vec<f64>) = rows.iter().map(|r| (r.1, r.2)).unzip();
        (rows, psi(&c, &b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(scores: impl Iterator<Item = f64>) -> Histogram {
        let mut h = Histogram::default();
        scores.for_each(|s| h.add(s));
        h
    }

    #[test]
    fn the_same_distribution_is_stable_and_a_shifted_one_is_not() {
        let base = hist((0..2000).map(|i| f64::from(i % 100) / 100.0));
        let same = hist((0..1000).map(|i| f64::from(i % 100) / 100.0));
        let shifted = hist((0..1000).map(|i| f64::from(i % 100) / 100.0 * 0.5 + 0.5));
        assert!(psi(&same.shares(), &base.shares()) < 0.01);
        let (d, p) = ks(&same, &base);
        assert!(d < 0.02 && p > 0.5, "d {d} p {p}");
        assert!(psi(&shifted.shares(), &base.shares()) > 0.5);
        let (d, p) = ks(&shifted, &base);
        assert!((d - 0.5).abs() < 0.02 && p < 1e-6, "d {d} p {p}");
    }

    #[test]
    fn ks_p_value_matches_the_kolmogorov_distribution() {
        // Q(1.36) ≈ 0.049, Q(1.63) ≈ 0.0098: the classic critical values.
        assert!((kolmogorov_q(1.36) - 0.049).abs() < 0.002);
        assert!((kolmogorov_q(1.63) - 0.0098).abs() < 0.001);
        assert_eq!(kolmogorov_q(0.0), 1.0);
    }

    #[test]
    fn out_of_range_and_nan_scores_do_not_panic() {
        let h = hist([-1.0, 2.0, f64::NAN, 1.0, 0.0].into_iter());
        assert_eq!(h.n(), 4);
        assert!((h.shares().iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_new_category_raises_the_mix_psi() {
        let mut base = Mix::default();
        let mut cur = Mix::default();
        for i in 0..100 {
            base.add("ACME");
            cur.add(if i < 50 { "ACME" } else { "Other Corp" });
        }
        let (rows, p) = cur.against(&base);
        assert_eq!(rows.len(), 2);
        assert!(p > 0.2, "psi {p}");
        let (_, same) = base.against(&base);
        assert!(same.abs() < 1e-12);
    }
}
