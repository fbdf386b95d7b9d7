//! `overread infer --server`: the demonstration model served by a real
//! Triton Inference Server (started once for this binary) gives the
//! findings the device gives, names the server's model and version, and a
//! server that does not answer leaves the device to infer, saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use overread_remote::testing::{Triton, free_port};
use serde_json::Value;

fn overread(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_overread"))
        .args(args)
        .output()
        .expect("runs")
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo")
}

fn lines(o: &Output) -> Vec<Value> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

#[test]
fn inference_on_the_server_matches_the_device_and_falls_back_when_it_is_down() {
    if Triton::python().is_none() || std::env::var_os("ORT_DYLIB_PATH").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Triton and ORT_DYLIB_PATH"
        );
        eprintln!("skipped: no .cache/venv-triton or ORT_DYLIB_PATH");
        return;
    }
    let triton = Triton::start(&demo(), "overread-demo-opacity");
    let dir = tempfile::tempdir().expect("test set-up");
    let studies = dir.path().join("studies");
    let s = |p: &Path| p.to_str().expect("utf8").to_string();
    let out = overread(&[
        "demo",
        "generate",
        &s(&studies),
        "--count",
        "3",
        "--size",
        "256",
    ]);
    assert!(out.status.success());
    let (model, files) = (s(&demo()), s(&studies));
    let infer = |extra: &[&str]| {
        let mut args = vec![
            "infer",
            "--model",
            &model,
            "--json",
            "--ep",
            "cpu",
            "--db",
            "/nonexistent/audit.sqlite3",
        ];
        args.extend(extra);
        args.push(&files);
        overread(&args)
    };
    let device = lines(&infer(&[]));
    let served = lines(&infer(&["--server", &triton.url]));
    let inferred = |v: &Vec<Value>| {
        v.iter()
            .filter(|l| l["findings"].is_array())
            .cloned()
            .collect::<Vec<_>>()
    };
    let (device, served) = (inferred(&device), inferred(&served));
    assert_eq!(device.len(), 3);
    assert_eq!(served.len(), 3);
    for (d, r) in device.iter().zip(&served) {
        assert_eq!(d["path"], r["path"]);
        assert_eq!(r["ep"], "remote");
        assert_eq!(r["served_by"]["model"], "overread-demo-opacity");
        assert_eq!(r["served_by"]["version"], "1");
        assert_eq!(r["served_by"]["server"], triton.url.as_str());
        let (a, b) = (&d["findings"][0], &r["findings"][0]);
        assert_eq!(a["flagged"], b["flagged"]);
        let diff =
            (a["score"].as_f64().expect("score") - b["score"].as_f64().expect("score")).abs();
        assert!(diff <= 1e-5, "{a} vs {b}");
    }

    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = infer(&["--server", &closed]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains("unavailable") && stderr.contains("running on the device"),
        "{stderr}"
    );
    for line in inferred(&lines(&out)) {
        assert_eq!(line["ep"], "cpu (server down)");
        assert_eq!(line["served_by"], Value::Null);
    }
}
