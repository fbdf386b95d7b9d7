"""Recomputes a validation report's statistics with scikit-learn and SciPy.

Usage: check.py REPORT.json

From the report's own (truth, score) cases, per label: the ROC curve
(roc_curve, drop_intermediate=False), the AUC (roc_auc_score), the AUC's
stratified bootstrap interval (the same SplitMix64 draws, each resample's
AUC by roc_auc_score, numpy's percentile), the confusion counts
(confusion_matrix), Wilson intervals (scipy.stats.binomtest), the threshold
for the target sensitivity, the reliability diagram (calibration_curve) and
the Brier score (brier_score_loss). Prints one line per check; exits 1 on
the first difference larger than 1e-9.
"""

import json
import sys

import numpy as np
from scipy.stats import binomtest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score, roc_curve

TOL = 1e-9
MASK = (1 << 64) - 1


class SplitMix64:
    """overread_phantom::Rng: the seed is mixed with the golden ratio first."""

    def __init__(self, seed):
        self.state = (seed ^ 0x9E3779B97F4A7C15) & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def same(what, ours, theirs):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=0, atol=TOL):
        print(f"DIFFERENT {what}: ours {ours.tolist()} vs theirs {theirs.tolist()}")
        sys.exit(1)
    print(f"same {what}")


def wilson(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return [k / n, ci.low, ci.high]


def check_proportion(what, ours, k, n):
    if n == 0:
        if ours is not None:
            print(f"DIFFERENT {what}: ours {ours}, but n is 0")
            sys.exit(1)
        return
    same(what, [ours["k"], ours["n"], ours["value"], ours["low"], ours["high"]], [k, n] + wilson(k, n))


def check_operating(what, op, y, s):
    called = (s >= op["threshold"]).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, called, labels=[0, 1]).ravel()
    c = op["confusion"]
    same(f"{what} confusion", [c["tp"], c["fp"], c["tn"], c["fn_"]], [tp, fp, tn, fn])
    check_proportion(f"{what} sensitivity", op["sensitivity"], tp, tp + fn)
    check_proportion(f"{what} specificity", op["specificity"], tn, tn + fp)
    check_proportion(f"{what} PPV", op["ppv"], tp, tp + fp)
    check_proportion(f"{what} NPV", op["npv"], tn, tn + fn)


def bootstrap(y, s, resamples, seed):
    rng = SplitMix64(seed)
    pos, neg = s[y == 1], s[y == 0]
    aucs = []
    for _ in range(resamples):
        draw = [cls[rng.next() % len(cls)] for cls in (pos, neg) for _ in range(len(cls))]
        truth = [1] * len(pos) + [0] * len(neg)
        aucs.append(roc_auc_score(truth, draw))
    return [np.percentile(aucs, 2.5), np.percentile(aucs, 97.5)]


def main():
    report = json.load(open(sys.argv[1]))
    options = report["options"]
    for label in report["labels"]:
        name = label["label"]
        cases = [c for c in report["cases"] if c["label"] == name]
        y = np.array([int(c["truth"]) for c in cases])
        s = np.array([c["score"] for c in cases], dtype=float)
        same(f"{name} counts", [label["cases"], label["positives"], label["negatives"]],
             [len(y), int(y.sum()), int(len(y) - y.sum())])

        fpr, tpr, thresholds = roc_curve(y, s, drop_intermediate=False)
        roc = label["roc"]
        same(f"{name} ROC fpr", [p["fpr"] for p in roc], fpr)
        same(f"{name} ROC tpr", [p["tpr"] for p in roc], tpr)
        same(f"{name} ROC thresholds", [p["threshold"] for p in roc[1:]], thresholds[1:])
        same(f"{name} AUC", label["auc"], roc_auc_score(y, s))
        b = options["bootstrap"]
        same(f"{name} AUC interval ({b['resamples']} resamples)", label["auc_interval"],
             bootstrap(y, s, b["resamples"], b["seed"]))

        check_operating(f"{name} at the manifest threshold", label["manifest"], y, s)
        reached = np.flatnonzero(tpr >= options["target_sensitivity"])
        same(f"{name} threshold for the target sensitivity", label["target"]["threshold"],
             thresholds[reached[0]])
        check_operating(f"{name} at the target threshold", label["target"], y, s)

        prob_true, prob_pred = calibration_curve(y, s, n_bins=options["bins"], strategy="uniform")
        bins = label["calibration"]["bins"]
        same(f"{name} reliability observed", [b["observed"] for b in bins], prob_true)
        same(f"{name} reliability predicted", [b["predicted"] for b in bins], prob_pred)
        same(f"{name} Brier score", label["calibration"]["brier"], brier_score_loss(y, s))
    print("all statistics agree with scikit-learn and SciPy")


if __name__ == "__main__":
    main()
