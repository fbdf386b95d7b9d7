//! The governance tallies on records with known answers: two model
//! versions, a drifted finding beside a stable one, a changed manufacturer
//! mix, a corrected decision and a read-first study.

use overread_audit::{Decision, DecisionFields, EventKind, ModelRef, Reader, Record, StudyRef};
use serde_json::json;

use super::collect::Collector;
use super::{Options, Window};

/// A small deterministic generator of scores in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Log {
    records: Vec<Record>,
}

fn model(version: &str) -> ModelRef {
    ModelRef {
        name: "cxr".into(),
        version: version.into(),
        sha256: format!("sha-{version}"),
    }
}

impl Log {
    fn push(
        &mut self,
        day: &str,
        kind: EventKind,
        m: Option<ModelRef>,
        study: usize,
    ) -> &mut Record {
        let seq = self.records.len() as i64 + 1;
        self.records.push(Record {
            seq,
            recorded_at: format!("{day}T10:00:00.000Z"),
            kind,
            reader: Some(Reader {
                id: "r1".into(),
                display_name: "Dr One".into(),
                role: "radiologist".into(),
            }),
            workstation_id: "ws1".into(),
            study: Some(StudyRef {
                patient_id: format!("PAT{study}"),
                accession_number: format!("ACC{study}"),
                study_uid: format!("1.2.3.{study}"),
                series_uid: format!("1.2.3.{study}.1"),
                sop_uid: format!("1.2.3.{study}.1.1"),
            }),
            model: m,
            execution_provider: None,
            decision: None,
            app_version: "test".into(),
            detail: None,
            prev_hash: String::new(),
            row_hash: String::new(),
        });
        self.records.last_mut().expect("pushed")
    }

    fn inference(
        &mut self,
        day: &str,
        version: &str,
        study: usize,
        nodule: f64,
        effusion: f64,
        maker: &str,
    ) {
        let r = self.push(day, EventKind::InferenceRun, Some(model(version)), study);
        r.detail = Some(json!({
            "findings": [
                {"label": "nodule", "score": nodule, "flagged": nodule >= 0.5},
                {"label": "effusion", "score": effusion, "flagged": effusion >= 0.5},
            ],
            "acquisition": {"manufacturer": maker, "modality": "DX", "view": "PA", "kvp": 110.0, "exposure_mas": 2.5},
            "image": {"mean": 0.45, "sd": 0.2},
        }));
    }

    fn decision(
        &mut self,
        day: &str,
        version: &str,
        study: usize,
        finding: &str,
        d: Decision,
        reader: &str,
    ) -> i64 {
        let r = self.push(day, EventKind::Decision, Some(model(version)), study);
        r.reader.as_mut().expect("reader").id = reader.into();
        r.decision = Some(DecisionFields {
            finding: finding.into(),
            decision: d,
            ai_score: Some(0.7),
            threshold: Some(0.5),
            ai_flagged: d != Decision::AddMissed,
            region: None,
            reason: None,
            display_to_decision_ms: Some(4000),
            supersedes: None,
        });
        r.seq
    }
}

fn day(base: &str, i: usize) -> String {
    format!("{base}-{:02}", 1 + i % 28)
}

fn collected() -> Collector {
    let mut log = Log {
        records: Vec::new(),
    };
    let mut rng = Lcg(7);
    let mut study = 0;
    // Baseline (October): nodule scores low, one manufacturer.
    for i in 0..400 {
        study += 1;
        let (n, e) = (rng.next() * 0.6, rng.next() * 0.5);
        log.inference(&day("2026-10", i), "1.0", study, n, e, "ACME");
    }
    // Period (November): nodule scores shifted up, effusion as before, half
    // the images from a new manufacturer.
    let mut nodule_flagged = 0;
    for i in 0..400 {
        study += 1;
        let (n, e) = (0.3 + rng.next() * 0.6, rng.next() * 0.5);
        nodule_flagged += u64::from(n >= 0.5);
        let maker = if i % 2 == 0 { "ACME" } else { "NewCo" };
        log.inference(&day("2026-11", i), "1.0", study, n, e, maker);
    }
    // The same image scored again (a restart): counted once.
    let again = log.records.last().cloned().expect("a record");
    log.records.push(Record {
        seq: 10_000,
        ..again
    });
    // Version 2 in the period only.
    for i in 0..100 {
        study += 1;
        log.inference(
            &day("2026-11", i),
            "2.0",
            study,
            rng.next(),
            rng.next(),
            "ACME",
        );
    }
    // Decisions on version 1: r1 accepts 10 and rejects 5 nodule flags and
    // adds 2 effusions; r2 rejects one, then corrects it to an acceptance.
    let read_first = 401;
    for i in 0..10 {
        log.decision(
            "2026-11-03",
            "1.0",
            read_first + i,
            "nodule",
            Decision::Confirm,
            "r1",
        );
    }
    for i in 0..5 {
        log.decision(
            "2026-11-10",
            "1.0",
            420 + i,
            "nodule",
            Decision::Dismiss,
            "r1",
        );
    }
    for i in 0..2 {
        log.decision(
            "2026-11-17",
            "1.0",
            read_first + i,
            "effusion",
            Decision::AddMissed,
            "r1",
        );
    }
    let wrong = log.decision("2026-11-20", "1.0", 430, "nodule", Decision::Dismiss, "r2");
    let fix = log.decision("2026-11-20", "1.0", 430, "nodule", Decision::Confirm, "r2");
    log.records[fix as usize - 1]
        .decision
        .as_mut()
        .expect("decision")
        .supersedes = Some(wrong);
    // Version 2: r1 accepts three nodule flags.
    for i in 0..3 {
        log.decision(
            "2026-11-21",
            "2.0",
            900 + i,
            "nodule",
            Decision::Confirm,
            "r1",
        );
    }
    // Read first: study 401 read unaided as "effusion" only.
    let r = log.push("2026-11-03", EventKind::UnaidedImpression, None, read_first);
    r.detail = Some(json!({"impression": "abnormal", "findings": ["effusion"], "note": null}));
    let options = Options::new(
        Window::new("2026-11-01", "2026-11-28").expect("period"),
        Some(Window::new("2026-10-01", "2026-10-28").expect("baseline")),
    );
    let mut c = Collector::new(options);
    for r in &log.records {
        c.add(&r.workstation_id, r);
    }
    assert_eq!(nodule_flagged, {
        let r = c.finish(String::new(), Vec::new());
        r.models[0]
            .findings
            .iter()
            .find(|f| f.finding == "nodule")
            .expect("nodule")
            .flagged
    });
    c
}

#[test]
fn model_versions_are_never_pooled_and_corrections_replace_decisions() {
    let r = collected().finish("test".into(), Vec::new());
    assert_eq!(r.models.len(), 2);
    let (v1, v2) = (&r.models[0], &r.models[1]);
    assert_eq!(
        (v1.model.version.as_str(), v2.model.version.as_str()),
        ("1.0", "2.0")
    );
    assert_eq!(v1.images, 400, "an image scored twice counts once");
    assert_eq!(v2.images, 100);
    let nodule = v1
        .findings
        .iter()
        .find(|f| f.finding == "nodule")
        .expect("nodule");
    assert_eq!(
        (nodule.agreement.accepted, nodule.agreement.rejected),
        (11, 5)
    );
    assert_eq!(nodule.agreement.ppv, Some(11.0 / 16.0));
    assert_eq!(nodule.agreement.median_ms, Some(4000.0));
    let effusion = v1
        .findings
        .iter()
        .find(|f| f.finding == "effusion")
        .expect("effusion");
    assert_eq!(effusion.agreement.added, 2);
    assert_eq!(v1.decisions, 18);
    let v2_nodule = v2
        .findings
        .iter()
        .find(|f| f.finding == "nodule")
        .expect("v2 nodule");
    assert_eq!(
        (v2_nodule.agreement.accepted, v2_nodule.agreement.ppv),
        (3, Some(1.0))
    );
    let r2 = v1
        .readers
        .iter()
        .find(|g| g.key == "r2 (radiologist)")
        .expect("r2");
    assert_eq!((r2.agreement.accepted, r2.agreement.rejected), (1, 0));
    assert_eq!(v1.workstations.len(), 1);
    assert!(
        v1.weeks
            .iter()
            .any(|w| w.week == "2026-W45" && w.finding == "nodule")
    );
}

#[test]
fn a_shifted_score_and_a_new_manufacturer_raise_drift_alerts() {
    let r = collected().finish("test".into(), Vec::new());
    let v1 = &r.models[0];
    let drift = |f: &str| {
        v1.score_drift
            .iter()
            .find(|d| d.finding == f)
            .expect("drift")
    };
    let nodule = drift("nodule");
    assert!(nodule.alert, "{nodule:?}");
    assert!(nodule.psi.expect("psi") > 0.2 && nodule.ks_p.expect("p") < 1e-6);
    let effusion = drift("effusion");
    assert!(
        !effusion.alert && effusion.psi.expect("psi") < 0.1,
        "{effusion:?}"
    );
    let mix = |a: &str| v1.mix_drift.iter().find(|m| m.attribute == a).expect("mix");
    assert!(mix("manufacturer").alert);
    assert!(!mix("view").alert && !mix("kVp").alert);
    let whats: Vec<&str> = r.drift_alerts.iter().map(|a| a.what.as_str()).collect();
    assert_eq!(whats, ["score: nodule", "mix: manufacturer"]);
    assert!(r.drift_alerts.iter().all(|a| a.model.version == "1.0"));
    // Version 2 has no baseline: not judged, and said why.
    let v2 = &r.models[1];
    assert!(
        v2.score_drift
            .iter()
            .all(|d| d.psi.is_none() && d.note.is_some() && !d.alert)
    );
}

#[test]
fn read_first_compares_the_unaided_read_with_the_ai_and_the_final_decision() {
    let r = collected().finish("test".into(), Vec::new());
    let v1 = &r.models[0];
    assert_eq!(v1.read_first_studies, 1);
    let row = |f: &str| v1.read_first.iter().find(|r| r.finding == f).expect("row");
    let n = row("nodule");
    assert_eq!(
        (
            n.unaided_positive,
            n.ai_flagged,
            n.final_positive,
            n.unaided_agreed_with_ai,
            n.changed_after_ai,
            n.changed_towards_ai
        ),
        (0, 1, 1, 0, 1, 1)
    );
    let e = row("effusion");
    assert_eq!(
        (
            e.unaided_positive,
            e.ai_flagged,
            e.final_positive,
            e.changed_after_ai
        ),
        (1, 0, 1, 0)
    );
}

#[test]
fn the_html_is_self_contained_and_the_registry_is_deidentified() {
    let c = collected();
    let html = super::html::render(&c.finish("test".into(), Vec::new()));
    assert!(html.contains("data-what=\"score: nodule\""));
    assert!(html.contains("data-model=\"cxr 1.0\""));
    assert!(html.contains("class=\"histogram\""));
    for outside in [
        "http://", "https://", "<script", " src=", "<link", "PAT4", "1.2.3.",
    ] {
        assert!(!html.contains(outside), "{outside} in the report");
    }
    let mut csv = Vec::new();
    let rows = c.write_registry(&mut csv).expect("csv");
    assert_eq!(rows, 21, "effective decisions only");
    let csv = String::from_utf8(csv).expect("utf-8");
    assert_eq!(csv.lines().count(), 22);
    for identifying in ["PAT", "ACC", "1.2.3.", "r1", "r2", "ws1", "Dr One"] {
        assert!(!csv.contains(identifying), "{identifying} in the registry");
    }
    assert!(csv.contains(",sha-1.0,nodule,0.7000,flagged,accepted,radiologist,2026-11-03,4000"));
    // The same case's two rows share a pseudonym; different cases do not.
    let cases: std::collections::BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    assert_eq!(cases.len(), 10 + 5 + 1 + 3);
}

#[test]
fn the_default_baseline_is_the_window_before() {
    let w = Window::new("2026-11-01", "2026-11-28").expect("window");
    assert_eq!(
        w.preceding(),
        Window {
            from: "2026-10-04".into(),
            to: "2026-10-31".into()
        }
    );
    assert!(w.contains("2026-11-01T00:00:00.000Z"));
    assert!(w.contains("2026-11-28T23:59:59.999Z"));
    assert!(!w.contains("2026-11-29T00:00:00.000Z"));
    assert!(Window::new("2026-11-28", "2026-11-01").is_err());
    assert!(Window::new("2026-13-01", "2026-11-01").is_err());
    assert!(Window::new("yesterday", "2026-11-01").is_err());
    let by_hand = Window {
        from: "x".into(),
        to: "2026-1".into(),
    };
    assert_eq!(by_hand.preceding().to, time::Date::MIN.to_string());
}
