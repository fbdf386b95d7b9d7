//! The results objects (SR, Parametric Map, GSPS) checked by tools no one
//! here wrote: dicom3tools' dciodvfy (every object), PixelMed's SR validator
//! (the TID 1500 tree), dcmtk's dsrdump, and highdicom / pydicom reading
//! back what was written. Runs where the test corpus is set up
//! (`OVERREAD_CORPUS`, by scripts/test.sh, whose set-up installs the tools);
//! skipped otherwise, like the corpus tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use overread_dicom::results::{
    AiResult, Algorithm, Assessment, FindingResult, Heatmap, ObjectKind, Rect, ResultObject,
    Signer, StudyResults, write_all,
};
use overread_dicom::write::{SyntheticImage, write_synthetic};
use overread_dicom::{Limits, read_header};

const ROWS: u16 = 96;
const COLS: u16 = 128;

fn source(dir: &Path) -> PathBuf {
    let pixels: Vec<u16> = (0..usize::from(ROWS) * usize::from(COLS))
        .map(|i| (i % 4096) as u16)
        .collect();
    let path = dir.join("source.dcm");
    write_synthetic(
        &path,
        &SyntheticImage {
            patient_id: "OVR-PH-0001",
            patient_name: "PHANTOM^ALPHA",
            patient_birth_date: "19700101",
            patient_sex: "F",
            patient_age: "056Y",
            study_instance_uid: "2.25.311",
            series_instance_uid: "2.25.312",
            sop_instance_uid: "2.25.313",
            accession_number: "OVRDEMO00001",
            study_date: "20261104",
            study_time: "093000",
            study_description: "XR CHEST (SYNTHETIC PHANTOM)",
            modality: "CR",
            body_part: "CHEST",
            view_position: "PA",
            series_number: 1,
            series_description: "PA",
            rows: ROWS,
            cols: COLS,
            bits_stored: 12,
            monochrome1: true,
            pixel_spacing_mm: 0.2,
            window: (2048.0, 4096.0),
            pixels: &pixels,
        },
    )
    .expect("test set-up");
    path
}

fn results(src: &Path) -> StudyResults {
    let header = read_header(src, &Limits::default()).expect("test set-up");
    let ai = |score, flagged| {
        Some(AiResult {
            score,
            threshold: 0.5,
            flagged,
        })
    };
    let rect = |x, y, width, height| {
        Some(Rect {
            x,
            y,
            width,
            height,
        })
    };
    StudyResults {
        source: header,
        workstation_id: "ws-validators".into(),
        signoff_key: "ws-validators/12".into(),
        predecessor_key: Some("ws-validators/7".into()),
        algorithm: Some(Algorithm {
            name: "Overread demo model".into(),
            version: "1.0.0".into(),
            sha256: "0123456789abcdef".repeat(4),
        }),
        signer: Signer {
            id: "ann".into(),
            name: "Ann Reader".into(),
            role: "radiologist".into(),
        },
        signed_date: "20261204".into(),
        signed_time: "101500".into(),
        institution: Some("Test Trust".into()),
        pixel_spacing: Some((0.2, 0.2)),
        findings: vec![
            FindingResult {
                label: "nodule".into(),
                ai: ai(0.8125, true),
                region: rect(40.0, 30.0, 16.0, 12.0),
                assessment: Assessment::Accepted,
                reason: None,
            },
            FindingResult {
                label: "effusion".into(),
                ai: ai(0.625, true),
                region: rect(90.0, 60.0, 20.0, 14.0),
                assessment: Assessment::Rejected,
                reason: Some("old blunting, unchanged".into()),
            },
            FindingResult {
                label: "consolidation".into(),
                ai: ai(0.75, true),
                region: rect(10.0, 50.0, 24.0, 20.0),
                assessment: Assessment::Modified,
                reason: None,
            },
            FindingResult {
                label: "pneumothorax".into(),
                ai: ai(0.125, false),
                region: None,
                assessment: Assessment::NotAssessed,
                reason: None,
            },
            FindingResult {
                label: "fracture".into(),
                ai: None,
                region: rect(100.0, 8.0, 10.0, 10.0),
                assessment: Assessment::Added,
                reason: None,
            },
        ],
        heatmaps: vec![Heatmap {
            label: "nodule".into(),
            values: (0..usize::from(ROWS) * usize::from(COLS))
                .map(|i| (i % 251) as f32 / 250.0)
                .collect(),
        }],
        software_version: "0.1.0".into(),
    }
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (scripts/setup.sh --corpus installs it)")
    });
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn write(dir: &Path, objects: &[ResultObject]) -> Vec<(ObjectKind, PathBuf)> {
    objects
        .iter()
        .map(|o| {
            let path = dir.join(format!("{}.dcm", o.kind.name()));
            std::fs::write(&path, &o.bytes).expect("test set-up");
            (o.kind.clone(), path)
        })
        .collect()
}

fn lines<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn results_objects_pass_the_validators_and_read_back_in_highdicom() {
    let Some(corpus) = crate::corpus_dir() else {
        return;
    };
    let python = corpus.join("../venv/bin/python");
    let tmp = tempfile::tempdir().expect("test set-up");
    let dir = std::env::var_os("OVERREAD_RESULTS_KEEP")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("test set-up");
    let src = source(&dir);
    let r = results(&src);
    let objects = write_all(&r).expect("test set-up");
    let files = write(&dir, &objects);
    let path = |k: &str| {
        files
            .iter()
            .find(|(kind, _)| kind.name() == k)
            .expect("test set-up")
            .1
            .clone()
    };

    // dciodvfy: no errors on any object; warnings are printed for the record.
    for (kind, file) in &files {
        let (_, out) = run(Command::new("dciodvfy").arg(file));
        let errors = lines(&out, "Error");
        eprintln!("dciodvfy {}: {} errors", kind.name(), errors.len());
        let mut warnings = lines(&out, "Warning");
        warnings.sort_unstable();
        warnings.dedup();
        for w in warnings {
            eprintln!("  {w}");
        }
        assert!(errors.is_empty(), "dciodvfy {}:\n{out}", kind.name());
    }

    // PixelMed's SR validator: the TID 1500 tree, context groups, code meanings.
    let (_, out) = run(Command::new("java")
        .args([
            "-Djdk.xml.xpathExprOpLimit=0",
            "-Djdk.xml.xpathTotalOpLimit=0",
            "-Djdk.xml.xpathExprGrpLimit=0",
            "-cp",
            "/usr/share/java/pixelmed.jar",
            "com.pixelmed.validate.DicomSRValidator",
        ])
        .arg(path("sr")));
    eprintln!("PixelMed:\n{out}");
    assert!(out.contains("Found Root Template TID_1500"), "{out}");
    assert!(out.contains("Root Template Validation Complete"), "{out}");
    assert!(lines(&out, "Error").is_empty(), "{out}");

    // dcmtk prints the tree.
    let (ok, out) = run(Command::new("dsrdump").arg(path("sr")));
    assert!(ok, "{out}");
    for want in [
        "Comprehensive 3D SR",
        "Verification Flag   : VERIFIED",
        "Imaging Measurement Report",
        "(27925004,SCT,\"Nodule\")",
        "(REJECTED,99OVRD,\"Rejected by reader\")",
        "\"old blunting, unchanged\"",
    ] {
        assert!(out.contains(want), "dsrdump lacks {want}:\n{out}");
    }

    // highdicom and pydicom read back what was written.
    let (ok, out) = run(Command::new(&python)
        .arg(crate::repo_root().join("tests/results/check.py"))
        .args([path("sr"), path("pm-nodule"), path("gsps")]));
    assert!(ok, "{out}");
    let got: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    let sr = &got["sr"];
    assert_eq!(sr["verification"], "VERIFIED");
    assert_eq!(sr["verifier"], "Reader^Ann");
    let groups = sr["groups"].as_array().expect("test set-up");
    assert_eq!(groups.len(), r.findings.len());
    for f in &r.findings {
        let g = groups
            .iter()
            .find(|g| {
                g["label"]
                    .as_str()
                    .expect("test set-up")
                    .starts_with(&f.label)
            })
            .unwrap_or_else(|| panic!("highdicom found no group for {}", f.label));
        let code = overread_dicom::results::codes::finding(&f.label);
        assert_eq!(g["finding"]["value"], code.value.as_str(), "{g}");
        assert_eq!(g["assessment"], f.assessment.code().value, "{g}");
        match f.ai {
            Some(ai) => {
                assert_eq!(g["score"].as_f64(), Some(ai.score), "{g}");
                assert_eq!(g["threshold"].as_f64(), Some(ai.threshold), "{g}");
                let flag = if ai.flagged { "Yes" } else { "No" };
                assert_eq!(g["flagged"], flag, "{g}");
            }
            None => assert!(g["score"].is_null(), "{g}"),
        }
        match f.region {
            Some(rect) => {
                let want = [rect.x, rect.y, rect.width, rect.height];
                let got: Vec<f64> =
                    serde_json::from_value(g["region"].clone()).expect("test set-up");
                assert_eq!(got, want, "{g}");
            }
            None => assert!(g["region"].is_null(), "{g}"),
        }
    }
    let pm = &got["pm"];
    assert_eq!(pm["rows"], u64::from(ROWS));
    assert_eq!(pm["columns"], u64::from(COLS));
    assert_eq!(pm["source"], "2.25.313");
    let want_sum: f64 = r.heatmaps[0].values.iter().map(|v| f64::from(*v)).sum();
    let got_sum = pm["sum"].as_f64().expect("test set-up");
    assert!((got_sum - want_sum).abs() < 1e-3, "{got_sum} vs {want_sum}");
    assert_eq!(pm["max"].as_f64(), Some(1.0));
    let gsps = &got["gsps"];
    assert_eq!(gsps["referenced"], "2.25.313");
    assert_eq!(gsps["presentation_lut"], "INVERSE");
    let texts: Vec<&str> = gsps["annotations"]
        .as_array()
        .expect("test set-up")
        .iter()
        .filter_map(|a| a["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "nodule: accepted (AI 0.81)",
            "consolidation: accepted, region changed (AI 0.75)",
            "fracture: added by reader"
        ],
        "the GSPS shows accepted, modified and added findings only"
    );
}
