use std::collections::BTreeMap;
use std::path::PathBuf;

use super::stats::*;
use super::*;

fn cases(truth: &[u8], scores: &[f64]) -> Vec<Case> {
    truth
        .iter()
        .zip(scores)
        .map(|(&t, &s)| Case {
            score: s,
            positive: t == 1,
        })
        .collect()
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-4, "{a} ≠ {b}");
}

#[test]
fn roc_and_auc_of_scikit_learns_example() {
    // sklearn.metrics.roc_curve's documented example.
    let c = cases(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]);
    let r = roc(&c);
    let t: Vec<Option<f64>> = r.iter().map(|p| p.threshold).collect();
    assert_eq!(t, [None, Some(0.8), Some(0.4), Some(0.35), Some(0.1)]);
    let fpr: Vec<f64> = r.iter().map(|p| p.fpr).collect();
    let tpr: Vec<f64> = r.iter().map(|p| p.tpr).collect();
    assert_eq!(fpr, [0.0, 0.0, 0.5, 0.5, 1.0]);
    assert_eq!(tpr, [0.0, 0.5, 0.5, 1.0, 1.0]);
    assert_eq!(auc(&c), Some(0.75));
}

#[test]
fn ties_count_one_half_and_one_class_has_no_curve() {
    assert_eq!(auc(&cases(&[0, 1, 0, 1], &[0.5; 4])), Some(0.5));
    assert_eq!(auc(&cases(&[0, 0, 1, 1], &[0.1, 0.2, 0.3, 0.4])), Some(1.0));
    assert_eq!(auc(&cases(&[1, 1, 0, 0], &[0.1, 0.2, 0.3, 0.4])), Some(0.0));
    assert_eq!(auc(&cases(&[1, 1], &[0.1, 0.2])), None);
    assert!(roc(&[]).is_empty());
    assert_eq!(
        auc_interval(&cases(&[1, 1], &[0.1, 0.2]), Bootstrap::default()),
        None
    );
}

#[test]
fn wilson_intervals_match_published_values() {
    // Newcombe (1998), table I: 0/10 → 0–0.2775; 5/10 → 0.2366–0.7634.
    let p = Proportion::wilson(0, 10).expect("a value");
    assert_eq!(p.low, 0.0);
    close(p.high, 0.2775);
    let p = Proportion::wilson(5, 10).expect("a value");
    close(p.low, 0.2366);
    close(p.high, 0.7634);
    assert_eq!(Proportion::wilson(1, 0), None);
    assert_eq!(Proportion::wilson(3, 2), None);
}

#[test]
fn the_target_threshold_is_the_highest_reaching_the_sensitivity() {
    let c = cases(&[0, 0, 1, 1, 1, 0], &[0.1, 0.4, 0.35, 0.8, 0.9, 0.95]);
    let r = roc(&c);
    assert_eq!(threshold_for_sensitivity(&r, 0.6), Some(0.8));
    assert_eq!(threshold_for_sensitivity(&r, 1.0), Some(0.35));
    let at = Confusion::at(&c, 0.35);
    assert_eq!((at.tp, at.fp, at.tn, at.fn_), (3, 2, 1, 0));
}

#[test]
fn the_bootstrap_interval_is_reproducible_and_holds_the_auc() {
    let truth: Vec<u8> = (0..200).map(|i| u8::from(i % 3 == 0)).collect();
    let scores: Vec<f64> = (0..200)
        .map(|i| f64::from(i % 3 == 0) * 0.3 + f64::from((i * 37) % 101) / 150.0)
        .collect();
    let c = cases(&truth, &scores);
    let b = Bootstrap::default();
    let (lo, hi) = auc_interval(&c, b).expect("a value");
    let a = auc(&c).expect("a value");
    assert!(lo < a && a < hi, "{lo} {a} {hi}");
    assert_eq!(auc_interval(&c, b), Some((lo, hi)));
    let other = auc_interval(&c, Bootstrap { seed: 7, ..b }).expect("a value");
    assert_ne!(other, (lo, hi));
}

#[test]
fn calibration_bins_put_an_edge_score_in_the_bin_below() {
    let c = cases(&[0, 1, 1, 0], &[0.1, 0.15, 1.0, 0.0]);
    let cal = calibration(&c, 10).expect("a value");
    let counts: Vec<(f64, u64)> = cal.bins.iter().map(|b| (b.low, b.count)).collect();
    assert_eq!(counts, [(0.0, 2), (0.1, 1), (0.9, 1)]);
    close(cal.bins[0].predicted, 0.05);
    assert_eq!(cal.bins[0].observed, 0.0);
    close(cal.brier, (0.01 + 0.7225 + 0.0 + 0.0) / 4.0);
    assert!(
        calibration(&cases(&[1], &[1.5]), 10)
            .expect_err("an error")
            .contains("outside 0–1")
    );
}

#[test]
fn quantiles_interpolate_like_numpy() {
    let v = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(quantile(&v, 0.5), Some(2.5));
    assert_eq!(quantile(&v, 0.025), Some(1.075));
    assert_eq!(quantile(&v, 1.0), Some(4.0));
    assert_eq!(quantile(&[], 0.5), None);
}

#[test]
fn truth_files_parse_with_headers_comments_and_clear_errors() {
    let rows = parse_truth(
        "uid,label,value\n# a comment\n1.2.3,opacity,1\n\n1.2.4, opacity ,0\n1.2.3,opacity,1\n",
    )
    .expect("a value");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].label, "opacity");
    assert!(!rows[1].positive);
    let err = parse_truth("1.2.3,opacity,2\n").expect_err("an error");
    assert_eq!(err, "truth line 1: the value is \"2\", not 0 or 1");
}

#[test]
fn truth_errors_name_the_line() {
    let err = |t: &str| parse_truth(t).expect_err("an error");
    assert_eq!(
        err("1.2.3,opacity,1\n1.2.4,opacity"),
        "truth line 2: expected 3 fields (UID,label,0 or 1), found 2"
    );
    assert_eq!(
        err("1.2.3,opacity,1\n1.2.4,opacity,yes"),
        "truth line 2: the value is \"yes\", not 0 or 1"
    );
    assert_eq!(
        err("abc,opacity,1"),
        "truth line 1: \"abc\" is not a DICOM UID"
    );
    assert_eq!(
        err("1.2,opacity,1\n1.2,opacity,0"),
        "truth line 2: 1.2 opacity is both 0 and 1"
    );
    assert_eq!(err("uid,label,value\n"), "the truth file has no rows");
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../models/demo/manifest.toml"
    ))
    .expect("test set-up");
    Manifest::parse(&text).expect("test set-up")
}

fn scored(study: &str, sop: &str, score: f64) -> Scored {
    Scored {
        path: PathBuf::from(format!("{sop}.dcm")),
        study_uid: Some(study.into()),
        sop_uid: Some(sop.into()),
        scores: BTreeMap::from([("opacity".to_string(), score)]),
    }
}

#[test]
fn a_study_scores_its_highest_image_and_unmatched_rows_are_listed() {
    let truth = parse_truth("1.1,opacity,1\n1.1.5,opacity,0\n2.1,opacity,0\n3.1,opacity,1\n")
        .expect("a value");
    let images = [
        scored("1.1", "1.1.5", 0.2),
        scored("1.1", "1.1.6", 0.9),
        scored("2.1", "2.1.5", 0.3),
    ];
    let source = TruthSource::of(Path::new("t.csv"), b"x", truth.len());
    let problems = vec![Problem {
        path: "x.dcm".into(),
        why: "refused: view position LL is outside the intended use (PA, AP)".into(),
    }];
    let scores = Scores {
        scored: images.to_vec(),
        problems,
        not_dicom: 1,
    };
    let r = report(&manifest(), (&truth, source), scores, Options::default()).expect("a value");
    assert_eq!(r.not_dicom, 1);
    let got: Vec<(&str, f64)> = r.cases.iter().map(|c| (c.uid.as_str(), c.score)).collect();
    assert_eq!(got, [("1.1", 0.9), ("1.1.5", 0.2), ("2.1", 0.3)]);
    assert_eq!(
        r.unmatched,
        [Unmatched {
            uid: "3.1".into(),
            label: "opacity".into()
        }]
    );
    assert_eq!((r.images, r.inferred), (4, 3));
    let l = &r.labels[0];
    assert_eq!((l.cases, l.positives, l.negatives), (3, 1, 2));
    assert_eq!(l.auc, Some(1.0));
    assert_eq!(l.manifest.threshold, 0.5);
    assert_eq!(l.manifest.confusion.tp, 1);

    let html = html(&r);
    assert!(html.contains("class=\"roc\"") && html.contains("class=\"reliability\""));
    assert!(html.contains("demonstration model, not for clinical use"));
    assert!(html.contains("refused: view position LL"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
}

#[test]
fn a_truth_label_the_model_lacks_is_refused() {
    let truth = parse_truth("1.1,effusion,1\n").expect("a value");
    let source = TruthSource::of(Path::new("t.csv"), b"x", 1);
    let err = report(
        &manifest(),
        (&truth, source),
        Scores::default(),
        Options::default(),
    )
    .expect_err("an error");
    assert_eq!(
        err,
        "truth label \"effusion\" is not one of the model's labels (opacity)"
    );
}
