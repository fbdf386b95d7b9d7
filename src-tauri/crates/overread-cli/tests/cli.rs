//! The `overread` binary as scripts use it: names, JSON fields, exit codes.

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

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// A folder with two phantom studies, a text file and a truncated DICOM file.
fn sample_folder() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let studies = dir.path().join("studies");
    let out = overread(&[
        "demo",
        "generate",
        studies.to_str().expect("utf8"),
        "--count",
        "2",
        "--size",
        "128",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&studies)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    files.sort();
    std::fs::write(dir.path().join("notes.txt"), "not DICOM").expect("write");
    let bytes = std::fs::read(&files[0]).expect("read");
    std::fs::write(dir.path().join("truncated.dcm"), &bytes[..bytes.len() / 2]).expect("write");
    (dir, files)
}

const SCAN_FIELDS: [&str; 10] = [
    "path",
    "patient_id",
    "study_uid",
    "series_uid",
    "sop_uid",
    "modality",
    "rows",
    "cols",
    "frames",
    "transfer_syntax",
];

/// A file whose name is not UTF-8 (Latin-1, as on an old CD) gets its line
/// with the name shown lossily and exactly; the scan goes on past it, and
/// `info` reads it.
#[test]
fn file_names_that_are_not_utf8_are_listed() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, files) = sample_folder();
    let latin1 = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9 \\ study.dcm"));
    std::fs::copy(&files[0], &latin1).expect("copy");
    let out = overread(&["scan", dir.path().to_str().expect("utf8"), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 6, "every file has its line: {lines:#?}");
    let line = lines
        .iter()
        .find(|l| l.get("path_escaped").is_some())
        .expect("the Latin-1 name is listed");
    assert!(line.get("error").is_none(), "{line}");
    assert!(
        line["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("caf\u{FFFD} \\ study.dcm")),
        "{line}"
    );
    assert!(
        line["path_escaped"]
            .as_str()
            .is_some_and(|p| p.ends_with("caf\\xe9 \\\\ study.dcm")),
        "{line}"
    );
    let info = Command::new(env!("CARGO_BIN_EXE_overread"))
        .arg("info")
        .arg(&latin1)
        .arg("--json")
        .output()
        .expect("runs");
    assert!(info.status.success(), "{}", stderr(&info));
    assert_eq!(json_lines(&info)[0]["path_escaped"], line["path_escaped"]);
}

#[test]
fn scan_json_has_one_line_per_file() {
    let (dir, _) = sample_folder();
    let out = overread(&["scan", dir.path().to_str().expect("utf8"), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    // Two studies, the truth file, notes.txt, truncated.dcm.
    assert_eq!(lines.len(), 5, "{lines:#?}");
    let ok: Vec<&Value> = lines.iter().filter(|l| l.get("error").is_none()).collect();
    assert_eq!(ok.len(), 2);
    for line in &ok {
        let keys: Vec<&str> = line
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = SCAN_FIELDS.to_vec();
        expected.sort();
        let mut keys = keys.clone();
        keys.sort();
        assert_eq!(keys, expected);
        assert_eq!(line["rows"], 128);
        assert_eq!(line["transfer_syntax"], "1.2.840.10008.1.2.1");
        assert!(
            line["patient_id"]
                .as_str()
                .expect("id")
                .starts_with("OVR-PH-")
        );
    }
    let errors: Vec<&Value> = lines.iter().filter(|l| l.get("error").is_some()).collect();
    for e in &errors {
        assert_eq!(
            e.as_object().expect("object").len(),
            2,
            "{{path, error}} only: {e}"
        );
    }
    let truncated = errors
        .iter()
        .find(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("truncated.dcm"))
        })
        .expect("listed");
    assert!(
        truncated["error"]
            .as_str()
            .expect("text")
            .contains("malformed"),
        "{truncated}"
    );
}

#[test]
fn scan_of_a_missing_folder_exits_2() {
    let out = overread(&["scan", "/nonexistent/overread-test", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn info_json_adds_image_fields() {
    let (_dir, files) = sample_folder();
    let out = overread(&["info", files[0].to_str().expect("utf8"), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let info = &json_lines(&out)[0];
    for key in SCAN_FIELDS.iter().chain(&[
        "photometric",
        "bits_allocated",
        "bits_stored",
        "windows",
        "body_part",
        "view_position",
    ]) {
        assert!(info.get(*key).is_some(), "missing {key}: {info}");
    }
    assert_eq!(info["bits_stored"], 12);
    assert_eq!(info["body_part"], "CHEST");
    assert_eq!(info["windows"][0]["center"], 2048.0);
}

#[test]
fn render_writes_the_png_and_honours_options() {
    let (dir, files) = sample_folder();
    let png = dir.path().join("out.png");
    let input = files[0].to_str().expect("utf8");
    let out = overread(&["render", input, "-o", png.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let default = image::open(&png).expect("png").to_luma8();
    assert_eq!(default.dimensions(), (128, 128));
    let out = overread(&[
        "render",
        input,
        "-o",
        png.to_str().expect("utf8"),
        "--window",
        "1000,200",
        "--size",
        "64",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let narrow = image::open(&png).expect("png").to_luma8();
    assert_eq!(narrow.dimensions(), (64, 64));
    // A narrow window saturates far more pixels than the default.
    let extremes = |img: &image::GrayImage| {
        img.pixels()
            .filter(|p| p.0[0] == 0 || p.0[0] == 255)
            .count() as f64
            / img.len() as f64
    };
    assert!(extremes(&narrow) > extremes(&default) + 0.2);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let (dir, _) = sample_folder();
    let png = dir.path().join("x.png");
    for input in ["truncated.dcm", "notes.txt", "missing.dcm"] {
        let path = dir.path().join(input);
        let out = overread(&[
            "render",
            path.to_str().expect("utf8"),
            "-o",
            png.to_str().expect("utf8"),
        ]);
        assert_eq!(out.status.code(), Some(2), "{input}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{input}: {err}");
        assert!(err.contains(input), "names the file: {err}");
        let out = overread(&["info", path.to_str().expect("utf8")]);
        assert_eq!(out.status.code(), Some(2));
    }
    let (_d, files) = sample_folder();
    let out = overread(&[
        "render",
        files[0].to_str().expect("utf8"),
        "-o",
        png.to_str().expect("utf8"),
        "--frame",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("frame 3 does not exist"));
    let out = overread(&[
        "render",
        files[0].to_str().expect("utf8"),
        "-o",
        png.to_str().expect("utf8"),
        "--window",
        "10,0",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("OVERREAD_CORPUS")?);
    assert!(
        dir.join("reference/manifest.json").is_file(),
        "OVERREAD_CORPUS has no manifest"
    );
    Some(dir)
}

/// Every file pydicom decodes renders (or is one of the listed refusals),
/// to a PNG of the right size; everything else exits 2 with one line.
#[test]
fn render_and_info_work_on_the_whole_corpus() {
    let Some(dir) = corpus() else {
        eprintln!("skipped: OVERREAD_CORPUS is not set");
        return;
    };
    let manifest: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("reference/manifest.json")).expect("read"))
            .expect("json");
    let out_dir = tempfile::tempdir().expect("tempdir");
    let refused = ["pydicom/JPEG2000-embedded-sequence-delimiter.dcm"];
    let mut rendered = 0;
    for entry in &manifest {
        let rel = entry["path"].as_str().expect("path");
        let input = dir.join(rel);
        let png = out_dir.path().join("x.png");
        let out = overread(&[
            "render",
            input.to_str().expect("utf8"),
            "-o",
            png.to_str().expect("utf8"),
        ]);
        let decodable = entry.get("npy").is_some() && !refused.contains(&rel);
        if decodable {
            assert!(out.status.success(), "{rel}: {}", stderr(&out));
            let img = image::open(&png).expect("png");
            let shape: Vec<u64> = entry["shape"]
                .as_array()
                .expect("shape")
                .iter()
                .filter_map(Value::as_u64)
                .collect();
            let frames = entry["frames"].as_u64().unwrap_or(1);
            let (rows, cols) = if frames > 1 {
                (shape[1], shape[2])
            } else {
                (shape[0], shape[1])
            };
            assert_eq!(
                (u64::from(img.height()), u64::from(img.width())),
                (rows, cols),
                "{rel}"
            );
            rendered += 1;
        } else {
            assert!(
                matches!(out.status.code(), Some(0) | Some(2)),
                "{rel}: {:?}",
                out.status
            );
            if out.status.code() == Some(2) {
                assert_eq!(stderr(&out).lines().count(), 1, "{rel}");
            }
        }
        let info = overread(&["info", input.to_str().expect("utf8"), "--json"]);
        if decodable {
            assert!(info.status.success(), "{rel}: {}", stderr(&info));
        } else {
            assert!(
                matches!(info.status.code(), Some(0) | Some(2)),
                "{rel}: {:?}",
                info.status
            );
        }
    }
    assert!(rendered >= 160, "rendered {rendered}");
}

#[test]
fn scan_reads_a_dicomdir_and_the_whole_corpus() {
    let Some(dir) = corpus() else {
        eprintln!("skipped: OVERREAD_CORPUS is not set");
        return;
    };
    let dicomdir = dir.join("pydicom/dicomdirtests/DICOMDIR");
    let out = overread(&["scan", dicomdir.to_str().expect("utf8"), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert!(lines.len() >= 30, "{} files referenced", lines.len());
    assert!(lines.iter().all(|l| {
        l.get("error").is_none()
            && Path::new(l["path"].as_str().expect("path"))
                .starts_with(dir.join("pydicom/dicomdirtests"))
    }));
    let out = overread(&["scan", dir.to_str().expect("utf8"), "--json"]);
    assert!(out.status.success());
    let lines = json_lines(&out);
    let ok = lines.iter().filter(|l| l.get("error").is_none()).count();
    assert!(ok >= 200, "{ok} readable files");
    let rg1 = lines
        .iter()
        .find(|l| {
            l["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("rg1/RG1_jpeg_extended_12bit.dcm"))
        })
        .expect("rg1");
    assert_eq!(rg1["transfer_syntax"], "1.2.840.10008.1.2.4.51");
    assert_eq!(
        (rg1["rows"].as_u64(), rg1["cols"].as_u64()),
        (Some(1955), Some(1841))
    );
}

/// `overread audit record` arguments for one decision on a synthetic study.
fn record_args<'a>(
    db: &'a str,
    n: &'a str,
    decision: &'a str,
    finding: &'a str,
    reason: &'a str,
) -> Vec<&'a str> {
    vec![
        "audit",
        "record",
        "--db",
        db,
        "--reader-id",
        "rad1",
        "--reader-name",
        "Dr Phantom",
        "--reader-role",
        "radiologist",
        "--workstation",
        "ws-test",
        "--patient-id",
        "OVR-PH-0001",
        "--accession",
        "OVRDEMO00001",
        "--study-uid",
        "2.25.1",
        "--series-uid",
        "2.25.2",
        "--sop-uid",
        n,
        "--model-name",
        "demo",
        "--model-version",
        "1.0.0",
        "--model-sha256",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "--ep",
        "cpu",
        "--finding",
        finding,
        "--score",
        "0.91",
        "--threshold",
        "0.5",
        "--flagged",
        "--decision",
        decision,
        "--ms",
        "2300",
        "--reason",
        reason,
    ]
}

#[test]
fn audit_record_verify_stats_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("audit.sqlite3");
    let db = db.to_str().expect("utf8");
    let out = overread(&record_args(db, "2.25.3", "confirm", "nodule", "clear"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["seq"], 1);
    let out = overread(&record_args(
        db,
        "2.25.4",
        "dismiss",
        "nodule",
        "=cmd|' /C calc'!A0",
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    // The same validation as the app: an out-of-range score is refused, nothing recorded.
    let mut bad = record_args(db, "2.25.5", "confirm", "nodule", "x");
    let i = bad.iter().position(|a| *a == "0.91").expect("score");
    bad[i] = "1.7";
    let out = overread(&bad);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("AI score"), "{}", stderr(&out));

    let out = overread(&["audit", "verify", "--db", db, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["rows"], 2);

    let out = overread(&["audit", "stats", "--db", db, "--json"]);
    assert!(out.status.success());
    let stats = &json_lines(&out)[0];
    assert_eq!(stats["per_finding"]["nodule"]["confirmed"], 1);
    assert_eq!(stats["per_finding"]["nodule"]["dismissed"], 1);
    assert_eq!(stats["per_finding"]["nodule"]["ppv"], 0.5);

    let csv = dir.path().join("export.csv");
    let out = overread(&[
        "audit",
        "export",
        "--db",
        db,
        "-o",
        csv.to_str().expect("utf8"),
        "--excel",
        "--reader-id",
        "gov1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("chain head"));
    let text = std::fs::read_to_string(&csv).expect("csv");
    assert!(text.starts_with('\u{feff}'));
    assert!(text.contains("'=cmd|"), "formula neutralised");
    libreoffice_round_trip(dir.path(), &csv);

    // Tampering with the file directly is caught, with the row named.
    let conn = std::process::Command::new("python3")
        .args(["-c", &format!(
            "import sqlite3; c=sqlite3.connect('{db}'); c.executescript(\"DROP TRIGGER audit_events_append_only_update; UPDATE audit_events SET decision='confirm' WHERE seq=2;\"); c.commit()"
        )])
        .status()
        .expect("python3");
    assert!(conn.success());
    let out = overread(&["audit", "verify", "--db", db]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("row 2"), "{}", stderr(&out));
}

/// Opens the export in LibreOffice Calc (CSV → XLSX → CSV): every row and
/// field survives, and the neutralised formula stays text. A control file
/// shows that Calc does evaluate an unneutralised formula.
/// A deleted log does not start a fresh chain silently (#12): the head kept
/// beside it refuses the new one until `audit acknowledge` records who
/// accepted it and why.
#[test]
fn a_deleted_log_is_refused_until_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("audit.sqlite3");
    let db = db.to_str().expect("utf8");
    for (i, sop) in ["2.25.31", "2.25.32"].into_iter().enumerate() {
        let out = overread(&record_args(db, sop, "confirm", "nodule", "clear"));
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(json_lines(&out)[0]["seq"], i + 1);
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{suffix}"));
    }
    let out = overread(&["audit", "verify", "--db", db]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(message.contains("has 0 rows but had 2"), "{message}");
    assert!(message.contains("overread audit acknowledge"), "{message}");
    assert_eq!(message.trim().lines().count(), 1, "{message}");

    let out = overread(&[
        "audit",
        "acknowledge",
        "--db",
        db,
        "--reader-id",
        "it1",
        "--reason",
        "disk replaced; no backup",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = overread(&["audit", "verify", "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn libreoffice_round_trip(dir: &Path, csv: &Path) {
    let Ok(soffice) = which("soffice") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have LibreOffice (scripts/setup.sh installs it)"
        );
        eprintln!("skipped: LibreOffice is not installed");
        return;
    };
    let profile = dir.join("lo-profile");
    let convert = |input: &Path, to: &str, out: &Path| {
        let status = Command::new(&soffice)
            .arg(format!(
                "-env:UserInstallation=file://{}",
                profile.display()
            ))
            .args(["--headless", "--convert-to", to, "--outdir"])
            .arg(out)
            .arg(input)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("soffice");
        assert!(status.success());
    };
    let control = dir.join("control.csv");
    std::fs::write(&control, "a,b\r\n=1+1,x\r\n").expect("write");
    convert(&control, "xlsx", dir);
    convert(&dir.join("control.xlsx"), "csv", &dir.join("back"));
    let back = std::fs::read_to_string(dir.join("back/control.csv")).expect("read");
    assert!(
        back.contains("2,x"),
        "Calc evaluates plain formulas: {back}"
    );

    convert(csv, "xlsx", dir);
    convert(&dir.join("export.xlsx"), "csv", &dir.join("back"));
    let original = csv::Reader::from_path(csv)
        .expect("csv")
        .into_records()
        .count();
    let mut reader = csv::Reader::from_path(dir.join("back/export.csv")).expect("csv");
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("parses");
    assert_eq!(rows.len(), original);
    let reason = header
        .iter()
        .position(|h| h == "reason")
        .expect("reason column");
    assert!(
        rows.iter().any(|r| r[reason].contains("=cmd|")),
        "the formula survives as text"
    );
    assert!(rows.iter().all(|r| r.len() == header.len()));
}

fn which(name: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
        .ok_or(())
}

fn demo_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo")
}

#[test]
fn infer_json_lines_refusals_and_errors() {
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set ORT_DYLIB_PATH (scripts/test.sh)"
        );
        eprintln!("skipped: ORT_DYLIB_PATH is not set");
        return;
    }
    let (dir, files) = sample_folder();
    let model = demo_model();
    let heatmaps = dir.path().join("heatmaps");
    let mut args = vec![
        "infer",
        "--model",
        model.to_str().expect("utf8"),
        "--json",
        "--ep",
        "cpu",
        "--heatmaps",
        heatmaps.to_str().expect("utf8"),
    ];
    args.extend(files.iter().map(|f| f.to_str().expect("utf8")));
    let truncated = dir.path().join("truncated.dcm");
    args.push(truncated.to_str().expect("utf8"));
    let out = overread(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("not for clinical use"));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    for line in &lines[..2] {
        for key in [
            "path",
            "sop_uid",
            "model",
            "model_version",
            "model_sha256",
            "ep",
            "findings",
            "heatmap",
            "ms",
        ] {
            assert!(line.get(key).is_some(), "missing {key}: {line}");
        }
        assert_eq!(line["ep"], "cpu");
        assert_eq!(line["clinical"], false);
        let finding = &line["findings"][0];
        for key in ["label", "score", "threshold", "flagged", "box"] {
            assert!(finding.get(key).is_some(), "missing {key}: {finding}");
        }
        for key in ["decode", "preprocess", "infer", "post"] {
            assert!(line["ms"][key].as_f64().is_some());
        }
        assert!(Path::new(line["heatmap"].as_str().expect("heatmap path")).is_file());
    }
    assert!(
        lines[2]["error"]
            .as_str()
            .expect("error")
            .contains("malformed")
    );

    // Outside the intended use: refused with the reason, never inferred.
    if let Some(corpus) = corpus() {
        let ct = corpus.join("pydicom/CT_small.dcm");
        let out = overread(&[
            "infer",
            "--model",
            model.to_str().expect("utf8"),
            "--json",
            "--ep",
            "cpu",
            ct.to_str().expect("utf8"),
        ]);
        assert!(
            json_lines(&out)[0]["refused"]
                .as_str()
                .expect("refused")
                .contains("modality CT")
        );
    }

    // A bad model or runtime: one line, exit 2.
    let out = overread(&[
        "infer",
        "--model",
        dir.path().to_str().expect("utf8"),
        files[0].to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("manifest.toml"), "{}", stderr(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_overread"))
        .args([
            "infer",
            "--model",
            model.to_str().expect("utf8"),
            files[0].to_str().expect("utf8"),
        ])
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ORT_DYLIB_PATH"), "{}", stderr(&out));
}

/// `overread model install` checks, copies and records; `list` shows it;
/// a second install of the same version is refused (#12).
#[test]
fn model_install_is_checked_copied_and_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("audit.sqlite3");
    let db = db.to_str().expect("utf8");
    let demo = demo_model();
    let demo = demo.to_str().expect("utf8");
    let out = overread(&["model", "install", demo, "--db", db, "--reader-id", "it1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = overread(&["model", "list", "--db", db, "--json"]);
    let listed = json_lines(&out);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "overread-demo-opacity");
    assert!(
        Path::new(listed[0]["dir"].as_str().expect("dir"))
            .join("model.onnx")
            .is_file()
    );
    let out = overread(&["model", "install", demo, "--db", db, "--reader-id", "it1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already installed"));
    let csv = dir.path().join("a.csv");
    let out = overread(&[
        "audit",
        "export",
        "--db",
        db,
        "-o",
        csv.to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&csv).expect("csv");
    assert_eq!(text.matches("model_installed").count(), 1);
}
