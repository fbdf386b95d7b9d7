//! Bringing a model to a site: `overread model init` (a manifest draft),
//! `overread model validate` on phantoms (its statistics recomputed by
//! scikit-learn and SciPy, tests/validation/check.py, and its refusals), and
//! go-live (`model accept | threshold | retire | status`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn overread(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_overread"))
        .args(args)
        .output()
        .expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8")
}

/// ONNX Runtime is there (CI always has it).
fn have_runtime() -> bool {
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set ORT_DYLIB_PATH (scripts/test.sh)"
        );
        eprintln!("skipped: ORT_DYLIB_PATH is not set");
        return false;
    }
    true
}

/// Phantoms and their truth file.
fn phantoms(dir: &Path, count: &str) -> (PathBuf, PathBuf) {
    let studies = dir.join("studies");
    let out = overread(&[
        "demo",
        "generate",
        s(&studies),
        "--count",
        count,
        "--size",
        "256",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = overread(&["demo", "truth", s(&studies)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let truth = dir.join("truth.csv");
    std::fs::write(&truth, &out.stdout).expect("test set-up");
    (studies, truth)
}

fn validate(studies: &Path, truth: &Path, html: &Path, extra: &[&str]) -> Output {
    let model = root().join("models/demo");
    let mut args = vec![
        "model",
        "validate",
        "--model",
        s(&model),
        "--truth",
        s(truth),
        "-o",
        s(html),
        "--ep",
        "cpu",
    ];
    args.extend(extra);
    args.push(s(studies));
    overread(&args)
}

/// The test venv's Python with scikit-learn (scripts/setup.sh --corpus).
fn python() -> Option<PathBuf> {
    let corpus = PathBuf::from(std::env::var_os("OVERREAD_CORPUS")?);
    Some(corpus.join("../venv/bin/python"))
}

fn check(python: &Path, report: &Path) -> Output {
    Command::new(python)
        .arg(root().join("tests/validation/check.py"))
        .arg(report)
        .output()
        .expect("runs")
}

#[test]
fn validation_reports_statistics_scikit_learn_agrees_with() {
    if !have_runtime() {
        return;
    }
    let dir = tempfile::tempdir().expect("test set-up");
    let (studies, truth) = phantoms(dir.path(), "48");
    let html = dir.path().join("report.html");
    let out = validate(
        &studies,
        &truth,
        &html,
        &["--target-sensitivity", "0.95", "--resamples", "500"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("opacity: 48 cases"), "{stdout}");
    // Every fourth phantom's lateral is outside the intended use.
    assert!(
        stdout.contains(
            "48 of 60 images inferred; 0 truth rows without an inferred image; 1 files not DICOM"
        ),
        "{stdout}"
    );

    let json = html.with_extension("json");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("parses");
    let manifest =
        std::fs::read_to_string(root().join("models/demo/manifest.toml")).expect("manifest");
    let sha = report["model"]["sha256"].as_str().expect("sha256");
    assert!(manifest.contains(sha));
    assert_eq!(report["model"]["clinical"], false);
    assert_eq!(report["options"]["bootstrap"]["resamples"], 500);
    assert_eq!(report["problems"].as_array().expect("problems").len(), 12);
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(page.contains("class=\"roc\"") && page.contains("class=\"brier\""));
    assert!(page.contains(sha) && !page.contains("<script"));

    let Some(python) = python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set OVERREAD_CORPUS"
        );
        eprintln!("skipped the scikit-learn check: OVERREAD_CORPUS is not set");
        return;
    };
    let out = check(&python, &json);
    let said = String::from_utf8_lossy(&out.stdout);
    eprintln!("{said}{}", stderr(&out));
    assert!(out.status.success());
    assert!(said.contains("all statistics agree"));

    // The check can fail: a report whose interval is off by 0.001 is caught.
    let mut tampered = report.clone();
    let low = tampered["labels"][0]["auc_interval"][0]
        .as_f64()
        .expect("interval");
    tampered["labels"][0]["auc_interval"][0] = Value::from(low - 0.001);
    let bad = dir.path().join("tampered.json");
    std::fs::write(&bad, serde_json::to_vec(&tampered).expect("json")).expect("test set-up");
    let out = check(&python, &bad);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("DIFFERENT opacity AUC interval"));
}

#[test]
fn bad_truth_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("test set-up");
    let studies = dir.path().join("none");
    std::fs::create_dir_all(&studies).expect("test set-up");
    let html = dir.path().join("r.html");
    let cases: [(&[u8], &str); 4] = [
        (
            b"1.2.3,opacity,yes\n",
            "truth line 1: the value is \"yes\", not 0 or 1",
        ),
        (
            b"uid,label,value\n1.2.3,opacity\n",
            "truth line 2: expected 3 fields",
        ),
        (b"", "the truth file has no rows"),
        (b"\xff\xfe", "not UTF-8 text"),
    ];
    for (text, said) in cases {
        let truth = dir.path().join("truth.csv");
        std::fs::write(&truth, text).expect("test set-up");
        let out = validate(&studies, &truth, &html, &[]);
        assert_eq!(out.status.code(), Some(2), "{text:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(said), "{err}");
    }
    if !have_runtime() {
        return;
    }
    let truth = dir.path().join("truth.csv");
    std::fs::write(&truth, "1.2.3,effusion,1\n").expect("test set-up");
    let out = validate(&studies, &truth, &html, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("truth label \"effusion\" is not one of the model's labels (opacity)")
    );
    assert!(!html.exists());
}

/// The demonstration model copied and marked clinical.
fn clinical_copy(dir: &Path) -> PathBuf {
    let dest = dir.join("clinical");
    std::fs::create_dir_all(&dest).expect("test set-up");
    let src = root().join("models/demo");
    std::fs::copy(src.join("model.onnx"), dest.join("model.onnx")).expect("test set-up");
    let text = std::fs::read_to_string(src.join("manifest.toml")).expect("test set-up");
    let text = text
        .replacen(
            "name = \"overread-demo-opacity\"",
            "name = \"cli-clinical\"",
            1,
        )
        .replacen("clinical = false", "clinical = true", 1);
    std::fs::write(dest.join("manifest.toml"), text).expect("test set-up");
    dest
}

fn flags(out: &Output) -> Vec<bool> {
    assert!(out.status.success(), "{}", stderr(out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .map(|v| v["findings"][0]["flagged"].as_bool().expect("flagged"))
        .collect()
}

#[test]
fn a_clinical_model_goes_live_only_when_a_named_radiologist_accepts_its_report() {
    if !have_runtime() {
        return;
    }
    let dir = tempfile::tempdir().expect("test set-up");
    let (studies, truth) = phantoms(dir.path(), "6");
    let model = clinical_copy(dir.path());
    let db = dir.path().join("audit.sqlite3");
    let image = studies.join("OVRDEMO00002.dcm");
    let infer = || {
        overread(&[
            "infer",
            "--model",
            s(&model),
            "--db",
            s(&db),
            "--json",
            "--ep",
            "cpu",
            s(&image),
        ])
    };
    let out = infer();
    assert!(stderr(&out).contains("cli-clinical not validated here: nothing is flagged"));
    assert_eq!(flags(&out), [false]);

    // Validated, but not yet accepted: still nothing flagged.
    let html = dir.path().join("report.html");
    let report = html.with_extension("json");
    let out = {
        let mut args = vec![
            "model",
            "validate",
            "--model",
            s(&model),
            "--truth",
            s(&truth),
            "-o",
            s(&html),
        ];
        args.extend(["--ep", "cpu", s(&studies)]);
        overread(&args)
    };
    assert!(out.status.success(), "{}", stderr(&out));
    let site = |cmd: &[&str], role: &str| {
        let mut args = vec!["model"];
        args.extend(cmd);
        args.extend([
            s(&model),
            "--db",
            s(&db),
            "--reader-id",
            "ab",
            "--reader-name",
            "Dr A Bell",
            "--reader-role",
            role,
        ]);
        overread(&args)
    };
    let out = site(
        &["accept", "--report", s(&report)],
        "reporting radiographer",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1);
    assert_eq!(flags(&infer()), [false]);

    let out = site(&["accept", "--report", s(&report)], "radiologist");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cli-clinical 0.1.0: validated here"));
    assert_eq!(flags(&infer()), [true]);

    // A site threshold above the score: not flagged, with the threshold shown.
    let out = site(
        &[
            "threshold",
            "--label",
            "opacity",
            "--value",
            "0.99999",
            "--report",
            s(&report),
        ],
        "clinical lead",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = infer();
    let line: Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().expect("line"))
            .expect("json");
    assert!(
        (line["findings"][0]["threshold"]
            .as_f64()
            .expect("threshold")
            - 0.99999)
            .abs()
            < 1e-6
    );
    assert_eq!(line["go_live"], "validated");

    let out = overread(&["model", "status", s(&model), "--db", s(&db), "--json"]);
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["go_live"], "validated");
    assert_eq!(status["accepted"]["by"]["reader_name"], "Dr A Bell");
    assert_eq!(status["thresholds"][0]["previous"], 0.5);

    let out = site(
        &["retire", "--reason", "a new detector"],
        "clinical safety officer",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(flags(&infer()), [false]);

    // Every change is a row of an intact chain.
    let out = overread(&["audit", "verify", "--db", s(&db)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: 3 rows"));
}

/// `overread model init`: the draft names what the graph says, refuses to
/// run until every question is answered, and once answered runs the model
/// as its own manifest does.
#[test]
fn model_init_drafts_a_manifest_that_runs_once_answered() {
    if !have_runtime() {
        return;
    }
    let dir = tempfile::tempdir().expect("test set-up");
    let model = dir.path().join("vendor");
    std::fs::create_dir_all(&model).expect("test set-up");
    let onnx = model.join("model.onnx");
    std::fs::copy(root().join("models/demo/model.onnx"), &onnx).expect("test set-up");
    let out = overread(&["model", "init", s(&onnx)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("10 questions"));
    assert!(stderr(&out).contains("input image Float32 [1, 1, 256, 256]"));
    let draft = std::fs::read_to_string(model.join("manifest.toml")).expect("draft");
    for said in [
        "name = \"image\"",
        "height = 256",
        "channels = 1",
        "name = \"scores\"",
        "name = \"heatmap\"",
    ] {
        assert!(draft.contains(said), "{said} in\n{draft}");
    }
    // Never over an existing manifest.
    let again = overread(&["model", "init", s(&onnx)]);
    assert_eq!(again.status.code(), Some(2));

    let (studies, _) = phantoms(dir.path(), "3");
    let image = studies.join("OVRDEMO00002.dcm");
    let infer =
        |m: &Path| overread(&["infer", "--model", s(m), "--json", "--ep", "cpu", s(&image)]);
    let out = infer(&model);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is a question from `overread model init` still to answer"),
        "{}",
        stderr(&out)
    );

    let answered = [
        ("version = \"?\"", "version = \"1.0\""),
        ("licence = \"?\"", "licence = \"Apache-2.0\""),
        ("modalities = [\"?\"]", "modalities = [\"CR\", \"DX\"]"),
        ("views = [\"?\"]", "views = [\"PA\", \"AP\"]"),
        ("body_parts = [\"?\"]", "body_parts = [\"CHEST\"]"),
        ("range = \"?\"", "range = [0.0, 1.0]"),
        ("resize = \"?\"", "resize = \"letterbox\""),
        ("labels = [\"?\"]", "labels = [\"opacity\"]"),
        ("activation = \"?\"", "activation = \"none\""),
        ("kind = \"?\"", "kind = \"segmentation\""),
        ("\"?\" = 0.5", "opacity = 0.5"),
    ]
    .iter()
    .fold(draft, |t, (q, a)| t.replace(q, a));
    std::fs::write(model.join("manifest.toml"), answered).expect("test set-up");
    let ours = infer(&model);
    let theirs = infer(&root().join("models/demo"));
    let score = |o: &Output| {
        assert!(o.status.success(), "{}", stderr(o));
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        v["findings"][0]["score"].as_f64().expect("score")
    };
    assert_eq!(score(&ours), score(&theirs));
}
