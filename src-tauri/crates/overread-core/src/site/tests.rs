use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use overread_audit::{AuditLog, Reader};

use super::*;
use crate::validation::{Options, Scored, Scores, TruthSource, parse_truth, report};

/// The demonstration model copied, renamed and marked clinical.
fn clinical_model(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo");
    let dest = dir.join("clinical");
    std::fs::create_dir_all(&dest).expect("test set-up");
    std::fs::copy(src.join("model.onnx"), dest.join("model.onnx")).expect("test set-up");
    let text = std::fs::read_to_string(src.join("manifest.toml")).expect("test set-up");
    let text = text
        .replacen(
            "name = \"overread-demo-opacity\"",
            "name = \"site-test\"",
            1,
        )
        .replacen("clinical = false", "clinical = true", 1);
    std::fs::write(dest.join("manifest.toml"), text).expect("test set-up");
    dest
}

fn manifest(dir: &Path) -> Manifest {
    overread_infer::read_model(dir).expect("test set-up").0
}

/// A validation report for the model in `dir`, written to `path`.
fn write_report(model: &Path, path: &Path) {
    let truth = parse_truth("1.1,opacity,1\n1.2,opacity,0\n").expect("test set-up");
    let scored = [("1.1", 0.8), ("1.2", 0.1)]
        .iter()
        .map(|&(uid, score)| Scored {
            path: PathBuf::from(uid),
            study_uid: Some(uid.into()),
            sop_uid: None,
            scores: BTreeMap::from([("opacity".to_string(), score)]),
        })
        .collect();
    let source = TruthSource::of(Path::new("truth.csv"), b"t", 2);
    let scores = Scores {
        scored,
        ..Scores::default()
    };
    let r = report(
        &manifest(model),
        (&truth, source),
        scores,
        Options::default(),
    )
    .expect("report");
    std::fs::write(path, serde_json::to_vec(&r).expect("json")).expect("test set-up");
}

fn reader(role: &str) -> Reader {
    Reader {
        id: "ab".into(),
        display_name: "Dr A Bell".into(),
        role: role.into(),
    }
}

fn by<'a>(log: &'a mut AuditLog, role: &str) -> By<'a> {
    By {
        log,
        reader: reader(role),
        workstation_id: "ws-1",
    }
}

#[test]
fn a_clinical_model_flags_only_once_a_report_for_its_weights_is_accepted() {
    let dir = tempfile::tempdir().expect("test set-up");
    let model = clinical_model(dir.path());
    let sha = manifest(&model).sha256;
    let mut log = crate::audit::open(&dir.path().join("audit.sqlite3")).expect("log");
    let state = SiteState::from_log(&log, &sha).expect("state");
    assert_eq!(state.go_live(true), GoLive::NotValidatedHere);
    assert!(!state.site_use(true).may_flag);
    // The demonstration model is labelled as one and flags as before.
    assert_eq!(state.go_live(false), GoLive::Demonstration);
    assert!(state.site_use(false).may_flag);

    let report = dir.path().join("report.json");
    write_report(&model, &report);
    let err = accept(&model, &report, by(&mut log, "reporting radiographer")).expect_err("refused");
    assert!(
        err.contains("by a radiologist, a clinical lead or a clinical safety officer"),
        "{err}"
    );
    // A report about other weights is refused.
    let other = dir.path().join("other.json");
    let text = std::fs::read_to_string(&report)
        .expect("report")
        .replace(&sha, &"0".repeat(64));
    std::fs::write(&other, text).expect("test set-up");
    let err = accept(&model, &other, by(&mut log, "radiologist")).expect_err("refused");
    assert!(err.contains("not site-test 0.1.0"), "{err}");
    assert_eq!(
        log.head().expect("head").0,
        0,
        "nothing refused is recorded"
    );

    let applied = accept(&model, &report, by(&mut log, "Radiologist")).expect("accepted");
    let sha_report = crate::validation::hex_sha256(&std::fs::read(&report).expect("report"));
    let a = applied.state.accepted.as_ref().expect("accepted");
    assert_eq!(a.report_sha256, sha_report);
    assert_eq!((a.by.reader_name.as_str(), a.by.seq), ("Dr A Bell", 1));
    assert_eq!(applied.state.go_live(true), GoLive::Validated);
    let overlay = std::fs::read_to_string(applied.overlay.expect("written")).expect("overlay");
    assert!(overlay.contains("go_live = \"validated\"") && overlay.contains(&sha_report));
    // The manifest is never edited.
    assert!(
        std::fs::read_to_string(model.join("manifest.toml"))
            .expect("manifest")
            .contains("opacity = 0.5")
    );

    // The log, not the overlay, is the record.
    std::fs::write(model.join(OVERLAY_FILE), "go_live = \"validated\"\n").expect("test set-up");
    let other_weights = SiteState::from_log(&log, &"0".repeat(64)).expect("state");
    assert_eq!(other_weights.go_live(true), GoLive::NotValidatedHere);
}

#[test]
fn thresholds_are_recorded_old_to_new_and_retiring_stops_flags() {
    let dir = tempfile::tempdir().expect("test set-up");
    let model = clinical_model(dir.path());
    let sha = manifest(&model).sha256;
    let mut log = crate::audit::open(&dir.path().join("audit.sqlite3")).expect("log");
    let report = dir.path().join("report.json");
    write_report(&model, &report);

    for (label, value, said) in [
        (
            "effusion",
            0.4,
            "\"effusion\" is not one of the model's labels (opacity)",
        ),
        ("opacity", 1.5, "threshold 1.5 is outside 0–1"),
    ] {
        let err = set_threshold(&model, label, value, &report, by(&mut log, "radiologist"))
            .expect_err("refused");
        assert_eq!(err, said);
    }
    set_threshold(
        &model,
        "opacity",
        0.4,
        &report,
        by(&mut log, "clinical lead"),
    )
    .expect("set");
    let state = set_threshold(
        &model,
        "opacity",
        0.35,
        &report,
        by(&mut log, "clinical lead"),
    )
    .expect("set")
    .state;
    let t = &state.thresholds[0];
    assert_eq!(
        (t.label.as_str(), t.value, t.previous),
        ("opacity", 0.35, 0.4)
    );
    assert_eq!(state.site_use(true).thresholds.get("opacity"), Some(&0.35));
    // Thresholds alone do not put a clinical model live.
    assert_eq!(state.go_live(true), GoLive::NotValidatedHere);

    let records = log.records(1, 10).expect("records");
    let detail = records[1].detail.clone().expect("detail");
    assert_eq!(records[1].kind, EventKind::ModelThresholdChanged);
    assert_eq!(
        (detail["old"].as_f64(), detail["new"].as_f64()),
        (Some(0.4000000059604645), Some(0.3499999940395355))
    );
    assert_eq!(
        records[1].model.as_ref().map(|m| m.sha256.as_str()),
        Some(sha.as_str())
    );

    accept(&model, &report, by(&mut log, "radiologist")).expect("accepted");
    assert!(retire(&model, " ", by(&mut log, "radiologist")).is_err());
    let state = retire(
        &model,
        "drift after the detector change",
        by(&mut log, "clinical safety officer"),
    )
    .expect("retired")
    .state;
    assert_eq!(state.go_live(true), GoLive::Retired);
    assert!(!state.site_use(true).may_flag);
    assert!(
        accept(&model, &report, by(&mut log, "radiologist"))
            .expect_err("retired")
            .contains("is retired here")
    );
    log.verify().expect("verify");
}

#[test]
fn the_app_accepts_a_report_as_the_sessions_reader() {
    use crate::api::Settings;
    use crate::workstation::Workstation;
    let dir = tempfile::tempdir().expect("test set-up");
    let model = clinical_model(dir.path());
    let studies = dir.path().join("studies");
    std::fs::create_dir_all(&studies).expect("test set-up");
    let mut settings = Settings::demo(&studies, &model);
    settings.reader.role = "reporting radiographer".into();
    let db = dir.path().join("audit.sqlite3");
    let report = dir.path().join("report.json");
    write_report(&model, &report);
    {
        let ws = Workstation::open(settings.clone(), &db, None).expect("open");
        let site = ws.model_site().expect("site");
        assert_eq!(
            (site.go_live, site.in_force),
            (GoLive::NotValidatedHere, None)
        );
        let err = ws.accept_validation(&report).expect_err("refused");
        assert_eq!(err.code, crate::api::ErrorCode::InvalidArgument);
    }
    settings.reader.role = "radiologist".into();
    let ws = Workstation::open(settings, &db, None).expect("open");
    let site = ws.accept_validation(&report).expect("accepted");
    assert_eq!(site.go_live, GoLive::Validated);
    let by = &site.state.accepted.as_ref().expect("accepted").by;
    assert_eq!(by.role, "radiologist");
    let rows = ws.audit_recent(10).expect("rows");
    assert!(
        rows.iter().any(|r| r.kind == "model_validation_accepted"),
        "{rows:?}"
    );
    assert!(model.join(OVERLAY_FILE).is_file());
    // A site threshold, set in the app on the same report.
    let err = ws
        .set_site_threshold("opacity", 1.5, &report)
        .expect_err("refused");
    assert_eq!(err.message, "threshold 1.5 is outside 0–1");
    let site = ws
        .set_site_threshold("opacity", 0.42, &report)
        .expect("set");
    let t = &site.state.thresholds[0];
    assert_eq!((t.previous, t.value), (0.5, 0.42));
    assert_eq!(
        t.by.reader_name,
        site.state
            .accepted
            .as_ref()
            .expect("accepted")
            .by
            .reader_name
    );
}
