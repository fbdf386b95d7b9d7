//! `overread pacs` against a real Orthanc PACS, started by this test on
//! 127.0.0.1 ports of its own with a throw-away storage folder, over
//! DICOMweb, C-GET and C-MOVE, and against the faults a hospital network
//! produces: a PACS that answers 503 with Retry-After, one that dies in the
//! middle of a transfer, one that stalls (a stopped process), one that is
//! down.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use overread_pacs::testing::{Orthanc, free_port};
use overread_store::testing::test_ca;

fn overread(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_overread"))
        .args(args)
        .output()
        .expect("run overread")
}

/// `overread pacs --config CFG --source SOURCE ARGS...`
fn pacs(cfg: &str, source: &str, args: &[&str]) -> Output {
    let mut all = vec!["pacs", "--config", cfg, "--source", source];
    all.extend_from_slice(args);
    overread(&all)
}

/// A loopback proxy in front of Orthanc that answers the first `fail`
/// requests with 503 and Retry-After: 1, then forwards; once `cut_at` bytes
/// have come back through it, the answer under way is cut off in the
/// middle and every later connection is closed at once (a PACS killed
/// mid-transfer, as the client sees it).
fn flaky_proxy(upstream: u16, fail: usize, cut_at: Option<usize>) -> (u16, Arc<AtomicUsize>) {
    let forwarded = Arc::new(AtomicUsize::new(0));
    let cut_done = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let (forwarded, cut_done) = (forwarded.clone(), cut_done.clone());
            std::thread::spawn(move || {
                let mut client = conn;
                if cut_done.load(Ordering::SeqCst) > 0 {
                    return;
                }
                if n < fail {
                    let mut buf = [0u8; 4096];
                    let _ = client.read(&mut buf);
                    let _ = client.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    return;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    return;
                };
                let (mut c2, mut s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let up = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut s2);
                    let _ = s2.shutdown(std::net::Shutdown::Write);
                });
                let mut server = server;
                let mut buf = vec![0u8; 16384];
                // Polls, so that a cut also ends the connections kept alive.
                let _ = server.set_read_timeout(Some(Duration::from_millis(20)));
                loop {
                    if cut_done.load(Ordering::SeqCst) > 0 {
                        let _ = client.shutdown(std::net::Shutdown::Both);
                        let _ = server.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    let k = match server.read(&mut buf) {
                        Ok(0) => break,
                        Ok(k) => k,
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) =>
                        {
                            continue;
                        }
                        Err(_) => break,
                    };
                    if client.write_all(&buf[..k]).is_err() {
                        break;
                    }
                    let total = forwarded.fetch_add(k, Ordering::SeqCst) + k;
                    if cut_at.is_some_and(|at| total > at) {
                        cut_done.fetch_add(1, Ordering::SeqCst);
                    }
                }
                let _ = client.shutdown(std::net::Shutdown::Write);
                let _ = up.join();
            });
        }
    });
    (port, served)
}

fn config(dir: &Path, sources: &[(&str, u16, f64)], dimse_port: u16, scp_port: u16) -> PathBuf {
    let mut text = format!(
        "[cache]\ndir = {:?}\nmax_bytes = 1000000000\n",
        dir.join("cache")
    );
    let scp = format!(
        "retrieve = \"move\"\nstorage_scp = {{ port = {scp_port}, bind = \"127.0.0.1\" }}\n"
    );
    for (name, called, extra) in [
        ("dimse", "ORTHANC", ""),
        ("wrong-ae", "NOT-ORTHANC", ""),
        ("dimse-move", "ORTHANC", scp.as_str()),
    ] {
        text += &format!(
            "[[source]]\nname = \"{name}\"\nkind = \"dimse\"\nhost = \"127.0.0.1\"\nport = {dimse_port}\ncalled_ae = \"{called}\"\n{extra}[source.timeouts]\nidle_s = 10\n"
        );
    }
    for (name, port, idle) in sources {
        text += &format!(
            "[[source]]\nname = \"{name}\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:{port}/dicom-web\"\nmax_retries = 3\n[source.timeouts]\nconnect_s = 2\nidle_s = {idle}\noverall_s = 20\n"
        );
    }
    let path = dir.join("pacs.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// A configuration whose one DICOMweb source, `name`, puts every study it
/// has on the worklist (whatever its date).
fn worklist_config(dir: &Path, name: &str, port: u16) -> PathBuf {
    let text = format!(
        "[cache]\ndir = {:?}\n[[source]]\nname = \"{name}\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:{port}/dicom-web\"\n[source.timeouts]\nconnect_s = 2\nidle_s = 2\noverall_s = 20\n[source.worklist]\ndays = 36500\n",
        dir.join("cache")
    );
    std::fs::create_dir_all(dir).expect("mkdir");
    let path = dir.join("pacs.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// `overread pacs worklist --json` over `dir`'s configuration and audit log.
fn worklist(dir: &Path) -> (Option<i32>, serde_json::Value) {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo");
    let out = overread(&[
        "pacs",
        "--config",
        dir.join("pacs.toml").to_str().expect("utf8"),
        "worklist",
        "--json",
        "--model",
        model.to_str().expect("utf8"),
        "--audit",
        dir.join("audit.sqlite").to_str().expect("utf8"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    let list = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), list)
}

/// Checks every complete study was triaged (or, without ONNX Runtime,
/// reports the AI error) and none is left waiting.
fn assert_triaged(list: &serde_json::Value, complete: usize) {
    let rows = list["rows"].as_array().expect("rows");
    let done: Vec<_> = rows
        .iter()
        .filter(|r| r["availability"] == "available")
        .collect();
    assert_eq!(done.len(), complete, "{list}");
    let ort = std::env::var_os("ORT_DYLIB_PATH").is_some();
    for r in done {
        let ai = r["ai"].as_str().unwrap_or_default();
        if ort {
            assert!(matches!(ai, "flagged" | "no_flags" | "refused"), "{r}");
        } else {
            assert_eq!(ai, "error", "{r}");
        }
    }
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(files_under(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn query_retrieve_and_faults_against_orthanc() {
    let work = tempfile::tempdir().expect("tempdir");
    let scp_port = free_port();
    let orthanc = Orthanc::start(scp_port);

    // Synthetic studies, plus RG1 (JPEG 2000 in the corpus when it is built).
    let demo = work.path().join("demo");
    let out = overread(&[
        "demo",
        "generate",
        demo.to_str().expect("utf8"),
        "--count",
        "3",
        "--size",
        "256",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut uploaded: Vec<PathBuf> = files_under(&demo)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    // And RG1 as HTJ2K, a study of its own: every retrieval keeps its syntax.
    if let Some(corpus) = std::env::var_os("OVERREAD_CORPUS") {
        for rel in ["rg1/RG1_j2k_lossless.dcm", "rg1/RG1_htj2k_lossless.dcm"] {
            let rg1 = PathBuf::from(&corpus).join(rel);
            if rg1.exists() {
                uploaded.push(rg1);
            }
        }
    }
    // A study of three instances (PA, AP and lateral of one visit).
    let multi = overread_phantom::PhantomStudy::new(40, 7, 256, 256, 1);
    let mut multi_files = Vec::new();
    for (i, view) in ["PA", "AP", "LL"].into_iter().enumerate() {
        let mut inst = multi.clone();
        inst.view_position = view.into();
        inst.sop_instance_uid = format!("{}.{}", multi.sop_instance_uid, i + 1);
        let dir = work.path().join(format!("multi-{i}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        multi_files.push(inst.write(&dir).expect("write"));
    }
    uploaded.extend(multi_files.iter().cloned());
    let n_studies = uploaded.len() - multi_files.len() + 1;
    for f in &uploaded {
        orthanc.upload(f);
    }

    // The PACS as a worklist source: every study listed, retrieved,
    // triaged; each retrieval recorded in the audit log.
    let wl = work.path().join("worklist");
    worklist_config(&wl, "pacs", orthanc.http);
    let (code, list) = worklist(&wl);
    assert_eq!(code, Some(0), "{list}");
    assert_eq!(list["rows"].as_array().expect("rows").len(), n_studies);
    assert_triaged(&list, n_studies);
    let source = &list["sources"][0];
    assert_eq!(source["state"], "online", "{source}");
    assert_eq!(source["complete"], n_studies, "{source}");
    assert!(
        list["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["source"] == "pacs")
    );
    let export = wl.join("audit.csv");
    let out = overread(&[
        "audit",
        "export",
        "--db",
        wl.join("audit.sqlite").to_str().expect("utf8"),
        "--output",
        export.to_str().expect("utf8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(&export).expect("export");
    assert_eq!(
        csv.matches("instances_transferred").count(),
        n_studies,
        "{csv}"
    );

    readers_during_a_real_sync_never_deadlock(&work.path().join("stress"), orthanc.http, n_studies);

    // A PACS that dies in the middle of a study: that study is partial and
    // never triaged, the source is shown offline, the studies not yet
    // retrieved wait for it.
    let (cutter3, _) = flaky_proxy(orthanc.http, 0, Some(200_000));
    let wl_cut = work.path().join("worklist-cut");
    worklist_config(&wl_cut, "cut", cutter3);
    let (code, list) = worklist(&wl_cut);
    assert_eq!(code, Some(1), "{list}");
    let rows = list["rows"].as_array().expect("rows");
    let partial: Vec<_> = rows
        .iter()
        .filter(|r| r["availability"] == "partial")
        .collect();
    assert_eq!(partial.len(), 1, "{list}");
    assert_eq!(partial[0]["ai"], "waiting", "never triaged: {list}");
    assert!(
        partial[0]["availability_message"]
            .as_str()
            .is_some_and(|m| m.contains("retrieved")),
        "{list}"
    );
    assert!(
        rows.iter()
            .filter(|r| r["availability"] == "retrieving")
            .all(|r| r["availability_message"]
                .as_str()
                .is_some_and(|m| m.contains("offline"))),
        "{list}"
    );
    assert_eq!(list["sources"][0]["state"], "offline", "{list}");

    let (proxy, served) = flaky_proxy(orthanc.http, 2, None);
    let (cutter, _) = flaky_proxy(orthanc.http, 0, Some(65_536));
    // Lets the first instance of the multi-instance study through, then
    // dies in the middle of the second.
    let (cutter2, _) = flaky_proxy(orthanc.http, 0, Some(200_000));
    let cfg = config(
        work.path(),
        &[
            ("pacs", orthanc.http, 2.0),
            ("flaky", proxy, 2.0),
            ("cut", cutter, 2.0),
            ("cut-multi", cutter2, 2.0),
        ],
        orthanc.dicom,
        scp_port,
    );
    let cfg = cfg.to_str().expect("utf8");

    // Echo and query.
    let out = pacs(cfg, "pacs", &["echo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pacs(cfg, "pacs", &["query", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let studies = json_lines(&out);
    assert_eq!(studies.len(), n_studies, "{studies:?}");
    let out = pacs(
        cfg,
        "pacs",
        &["query", "--json", "--patient-id", "NO-SUCH-PATIENT"],
    );
    assert!(json_lines(&out).is_empty());

    // Retrieve every study: complete, and byte for byte what was stored
    // (transfer-syntax=* keeps the stored syntax).
    let mut cached_bytes = std::collections::BTreeSet::new();
    for s in &studies {
        let uid = s["study_uid"].as_str().expect("uid");
        let out = pacs(cfg, "pacs", &["retrieve", "--json", uid]);
        let line = &json_lines(&out)[0];
        assert!(out.status.success(), "{line}");
        assert_eq!(line["complete"], true, "{line}");
        for f in line["files"].as_array().expect("files") {
            cached_bytes.insert(std::fs::read(f.as_str().expect("path")).expect("read"));
        }
    }
    for f in &uploaded {
        assert!(
            cached_bytes.contains(&std::fs::read(f).expect("read")),
            "{}",
            f.display()
        );
    }

    // Hostile or oversized answers (#12): a study that lists more instances
    // than one study may have, or takes more bytes, is refused with the
    // reason; and retrieval stops before the disk falls below the reserve
    // kept for the audit log (here a reserve larger than any disk).
    let limited = |name: &str, cache: &str| {
        let path = work.path().join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "[cache]\ndir = {:?}\n{cache}\n[[source]]\nname = \"pacs\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:{}/dicom-web\"\n",
                work.path().join(format!("{name}-cache")),
                orthanc.http
            ),
        )
        .expect("config");
        path
    };
    let multi_study = multi.study_instance_uid.as_str();
    for (name, cache, expect) in [
        (
            "few-parts",
            "max_study_instances = 2",
            "at most 2 per study",
        ),
        (
            "few-bytes",
            "max_study_bytes = 1000",
            "one study may take (cache.max_study_bytes)",
        ),
        (
            "no-room",
            "min_free_bytes = 1000000000000000",
            "kept free so that decisions",
        ),
    ] {
        let cfg = limited(name, cache);
        let out = pacs(
            cfg.to_str().expect("utf8"),
            "pacs",
            &["retrieve", multi_study],
        );
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.status.success() && said.contains(expect),
            "{name}: {said}"
        );
        assert_eq!(said.trim().lines().count(), 1, "{name}: one line: {said}");
    }

    // QIDO-RS series, WADO-RS metadata and frames of the multi-instance study.
    let multi_uid = multi.study_instance_uid.as_str();
    let out = pacs(cfg, "pacs", &["series", "--json", multi_uid]);
    let series = json_lines(&out);
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(series[0]["instances"], 3, "{series:?}");
    let out = pacs(cfg, "pacs", &["metadata", multi_uid]);
    let meta = json_lines(&out);
    assert_eq!(meta.len(), 3, "{meta:?}");
    assert!(
        meta.iter().all(|m| m["7FE00010"]["Value"].is_null()),
        "no bulk data inline"
    );
    {
        use overread_core::pacs::{CancellationToken, Client, InstanceRef, PacsConfig};
        let config = PacsConfig::load(Path::new(cfg)).expect("config");
        let client = Client::new(config.source("pacs").expect("source")).expect("client");
        let web = client.dicomweb().expect("dicomweb");
        let sop = format!("{}.1", multi.sop_instance_uid);
        let inst = InstanceRef {
            study_uid: multi.study_instance_uid.clone(),
            series_uid: multi.series_instance_uid.clone(),
            sop_uid: sop,
            sop_class_uid: None,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let frames = rt
            .block_on(web.retrieve_frames(&inst, &[1], &CancellationToken::new()))
            .expect("frames");
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].len(), 256 * 256 * 2, "one 16-bit 256×256 frame");
        let err = rt
            .block_on(web.retrieve_frames(&inst, &[0], &CancellationToken::new()))
            .expect_err("frame 0");
        assert!(err.to_string().contains("start at 1"), "{err}");
    }

    // DIMSE: C-ECHO, C-FIND, C-GET of every instance of the first study
    // (in its stored transfer syntax), and a rejected association in words.
    let out = pacs(cfg, "dimse", &["echo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pacs(cfg, "dimse", &["query", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found: Vec<_> = json_lines(&out)
        .iter()
        .map(|s| s["study_uid"].clone())
        .collect();
    let mut expected: Vec<_> = studies.iter().map(|s| s["study_uid"].clone()).collect();
    found.sort_by_key(|v| v.to_string());
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(found, expected);
    let info = |p: &str| -> serde_json::Value {
        serde_json::from_slice(&overread(&["info", "--json", p]).stdout).expect("info")
    };
    let originals: Vec<serde_json::Value> = uploaded
        .iter()
        .map(|p| info(p.to_str().expect("utf8")))
        .collect();
    // Orthanc 1.10 (Debian 12) predates HTJ2K's transfer syntaxes: it can
    // serve an HTJ2K file over WADO-RS as stored, but not over DIMSE.
    let htj2k: Vec<&serde_json::Value> = originals
        .iter()
        .filter(|o| {
            o["transfer_syntax"]
                .as_str()
                .is_some_and(|ts| ts.starts_with("1.2.840.10008.1.2.4.20"))
        })
        .collect();
    for source in ["dimse", "dimse-move"] {
        let cache_dimse = work.path().join(format!("cache-{source}"));
        let mut got_instances = 0;
        for s in &studies {
            let uid = s["study_uid"].as_str().expect("uid");
            if htj2k.iter().any(|o| o["study_uid"] == uid) {
                continue;
            }
            let out = pacs(
                cfg,
                source,
                &[
                    "retrieve",
                    "--json",
                    "--cache",
                    cache_dimse.to_str().expect("utf8"),
                    uid,
                ],
            );
            let line = &json_lines(&out)[0];
            assert_eq!(line["complete"], true, "{source}: {line}");
            for f in line["files"].as_array().expect("files") {
                let got = info(f.as_str().expect("path"));
                let original = originals
                    .iter()
                    .find(|o| o["sop_uid"] == got["sop_uid"])
                    .expect("an uploaded instance");
                assert_eq!(got["transfer_syntax"], original["transfer_syntax"]);
                got_instances += 1;
            }
        }
        assert_eq!(got_instances, uploaded.len() - htj2k.len(), "{source}");
        // Only what the cache names: content hashes, never a UID or a
        // name from the peer.
        for f in files_under(&cache_dimse) {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let (stem, ext) = name.rsplit_once('.').unwrap_or_default();
            assert!(
                matches!((stem.len(), ext), (64, "dcm") | (32, "json"))
                    && stem.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}",
                f.display()
            );
        }
    }
    let out = pacs(cfg, "wrong-ae", &["echo"]);
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("refused the association") && msg.contains("called AE title"),
        "{msg}"
    );

    // 503 with Retry-After: retried, then served.
    let first = studies[0]["study_uid"].as_str().expect("uid");
    let cache2 = work.path().join("cache-flaky");
    let out = pacs(
        cfg,
        "flaky",
        &[
            "retrieve",
            "--json",
            "--cache",
            cache2.to_str().expect("utf8"),
            first,
        ],
    );
    let line = &json_lines(&out)[0];
    assert_eq!(line["complete"], true, "{line}");
    assert!(served.load(Ordering::SeqCst) >= 3);

    // The transfer cut off in the middle: reported, nothing half-written;
    // the next retrieve, with the PACS back, completes the study.
    let cache_cut = work.path().join("cache-cut");
    let cut_args = [
        "retrieve",
        "--json",
        "--cache",
        cache_cut.to_str().expect("utf8"),
        first,
    ];
    let out = pacs(cfg, "cut", &cut_args);
    let line = &json_lines(&out)[0];
    assert_eq!(out.status.code(), Some(1), "{line}");
    assert_eq!(line["complete"], false, "{line}");
    assert!(files_under(&cache_cut.join("objects")).is_empty());
    assert!(files_under(&cache_cut.join("tmp")).is_empty());
    let out = pacs(cfg, "pacs", &cut_args);
    let line = &json_lines(&out)[0];
    assert!(out.status.success(), "{line}");
    assert_eq!(line["complete"], true, "{line}");

    // The PACS dies in the middle of the second of three instances: the
    // first is kept, the study is marked partial, and the next retrieve,
    // with the PACS back, fetches only the two missing.
    let cache_multi = work.path().join("cache-multi");
    let multi_args = [
        "retrieve",
        "--json",
        "--cache",
        cache_multi.to_str().expect("utf8"),
        multi_uid,
    ];
    let out = pacs(cfg, "cut-multi", &multi_args);
    let line = &json_lines(&out)[0];
    assert_eq!(out.status.code(), Some(1), "{line}");
    assert_eq!(line["complete"], false, "{line}");
    // (The listing, asked for at the same time, may or may not have
    // arrived before the PACS died.)
    assert_eq!(line["instances"], 1, "{line}");
    assert!(files_under(&cache_multi.join("tmp")).is_empty());
    let out = pacs(cfg, "pacs", &multi_args);
    let line = &json_lines(&out)[0];
    assert!(out.status.success(), "{line}");
    assert_eq!(line["complete"], true, "{line}");
    assert_eq!(line["reused"], 1, "{line}");
    assert_eq!(line["fetched"], 2, "{line}");

    // STOW-RS: a new study sent to the PACS is stored and found.
    let sent = overread_phantom::PhantomStudy::new(60, 99, 128, 128, 0);
    let sent_dir = work.path().join("stow");
    std::fs::create_dir_all(&sent_dir).expect("mkdir");
    let file = sent.write(&sent_dir).expect("write");
    let out = pacs(cfg, "pacs", &["store", file.to_str().expect("utf8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome = &json_lines(&out)[0];
    assert_eq!(
        outcome["stored"][0],
        sent.sop_instance_uid.as_str(),
        "{outcome}"
    );
    let out = pacs(
        cfg,
        "pacs",
        &["query", "--json", "--patient-id", &sent.patient_id],
    );
    assert_eq!(json_lines(&out).len(), 1);
    let out = pacs(cfg, "dimse", &["store", file.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a DICOMweb source"));

    // A stalled PACS (stopped process): a clear time-out, nothing half-written.
    orthanc.signal("-STOP");
    let cache3 = work.path().join("cache-stall");
    let started = Instant::now();
    let out = pacs(
        cfg,
        "pacs",
        &[
            "retrieve",
            "--json",
            "--cache",
            cache3.to_str().expect("utf8"),
            first,
        ],
    );
    orthanc.signal("-CONT");
    let line = &json_lines(&out)[0];
    assert_eq!(out.status.code(), Some(1), "{line}");
    assert_eq!(line["code"], "timeout", "{line}");
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(files_under(&cache3.join("objects")).is_empty());
    assert!(files_under(&cache3.join("tmp")).is_empty());

    // A JPEG 2000 instance whose codestream lost its second half inside
    // valid DICOM framing (#17): the retrieval proves each codestream whole
    // without decoding it, so this one is refused, in one line, and not kept.
    if let Some(corpus) = std::env::var_os("OVERREAD_CORPUS") {
        let cut = PathBuf::from(corpus).join("damaged/RG1_j2k_cut.dcm");
        orthanc.upload(&cut);
        let info = overread(&["info", "--json", cut.to_str().expect("utf8")]);
        let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("info");
        let study = info["study_uid"].as_str().expect("study uid").to_owned();
        let cfg = limited("cut", "");
        let out = pacs(cfg.to_str().expect("utf8"), "pacs", &["retrieve", &study]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success() && said.contains("the codestream is cut"),
            "{said}"
        );
        assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
        let out = pacs(
            cfg.to_str().expect("utf8"),
            "pacs",
            &["retrieve", "--json", &study],
        );
        let line = &json_lines(&out)[0];
        assert_eq!(
            (line["complete"].as_bool(), line["instances"].as_u64()),
            (Some(false), Some(0)),
            "{line}"
        );
        let problems = line["problems"].as_object().expect("problems");
        assert!(
            problems.values().all(|p| p
                .as_str()
                .is_some_and(|p| p.contains("did not arrive whole"))),
            "{line}"
        );
    }

    // The PACS down: a clear error; the cached studies stay usable offline.
    drop(orthanc);
    let out = pacs(cfg, "pacs", &["echo"]);
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("pacs: cannot connect"), "{msg}");
    assert_eq!(msg.trim().lines().count(), 1, "{msg}");
    let cached = files_under(&work.path().join("cache/objects"));
    assert_eq!(cached.len(), uploaded.len());

    // The worklist with the PACS down: the source shows why, and every
    // cached study is on the worklist and triaged.
    let (code, list) = worklist(&wl);
    assert_eq!(code, Some(1), "{list}");
    let source = &list["sources"][0];
    assert_eq!(source["state"], "offline", "{source}");
    assert!(
        source["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot connect")),
        "{source}"
    );
    assert_eq!(list["rows"].as_array().expect("rows").len(), n_studies);
    assert_triaged(&list, n_studies);
    for f in cached {
        let out = overread(&["info", "--json", f.to_str().expect("utf8")]);
        assert!(out.status.success());
    }
}

/// The workstation's lock rule against a real PACS: reader threads call
/// worklist / open / decide / heatmap while a sync retrieves every study
/// from Orthanc (and keeps asking it), and triage runs as studies arrive.
/// A deadlock fails at the time-out instead of hanging.
fn readers_during_a_real_sync_never_deadlock(dir: &Path, port: u16, n_studies: usize) {
    use overread_core::api::{Availability, DecisionRequest, Settings};
    use overread_core::workstation::Workstation;
    use std::sync::atomic::AtomicBool;

    worklist_config(dir, "pacs", port);
    let empty = dir.join("no-local-studies");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo");
    let mut settings = Settings::demo(&empty, &model);
    settings.pacs_config = Some(dir.join("pacs.toml").display().to_string());
    let ws = Arc::new(Workstation::open(settings, &dir.join("audit.sqlite"), None).expect("open"));
    let stop = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let run = {
        let (ws, stop) = (ws.clone(), stop.clone());
        std::thread::spawn(move || {
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    while !stop.load(Ordering::SeqCst) {
                        if ws.sync_pacs() > 0 {
                            ws.run_triage(1);
                        }
                    }
                });
                let readers: Vec<_> = (0..3)
                    .map(|r| {
                        let ws = &ws;
                        scope.spawn(move || {
                            for i in 0..400 {
                                let rows = ws.worklist().rows;
                                if rows.is_empty() {
                                    std::thread::sleep(Duration::from_millis(5));
                                    continue;
                                }
                                let row = &rows[(i + r) % rows.len()];
                                if row.availability != Availability::Available {
                                    continue;
                                }
                                match i % 10 {
                                    0 => {
                                        ws.open_study(row.id).expect("an arrived study opens");
                                    }
                                    5 => {
                                        let _ = ws.decide(
                                            row.id,
                                            &DecisionRequest {
                                                finding: "opacity".into(),
                                                decision: "confirm".into(),
                                                region: None,
                                                reason: None,
                                                display_ms: None,
                                            },
                                        );
                                        let _ = ws.heatmap(row.id, "opacity");
                                    }
                                    _ => {}
                                }
                            }
                        })
                    })
                    .collect();
                for reader in readers {
                    reader.join().expect("reader finished");
                }
                stop.store(true, Ordering::SeqCst);
            });
            done_tx.send(()).ok();
        })
    };
    match done_rx.recv_timeout(Duration::from_secs(180)) {
        Ok(()) => run.join().expect("no panic"),
        Err(_) => panic!("deadlock: readers and a real PACS sync did not finish in 180 s"),
    }
    ws.sync_pacs();
    let w = ws.worklist();
    assert_eq!(w.rows.len(), n_studies, "{:?}", w.sources);
    assert!(
        w.rows
            .iter()
            .all(|r| r.availability == Availability::Available),
        "every study arrived: {:?}",
        w.rows
    );
    assert!(ws.verify().expect("verify").ok);
}

/// DICOM TLS (#12): against an Orthanc that speaks only TLS on its DICOM
/// port, with a certificate from a CA made at test time, a source with that
/// CA echoes, queries and retrieves (C-GET) over TLS; the same source in
/// the clear, or trusting another CA, fails with a one-line reason.
#[test]
fn dimse_over_tls_with_a_test_ca() {
    let work = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = test_ca(work.path(), "pacs");
    let (other_ca, _, _) = test_ca(work.path(), "other");
    let orthanc = Orthanc::start_with(
        free_port(),
        serde_json::json!({
            "DicomTlsEnabled": true,
            "DicomTlsCertificate": cert,
            "DicomTlsPrivateKey": key,
            "DicomTlsTrustedCertificates": ca,
            "DicomTlsRemoteCertificateRequired": false,
        }),
    );
    let demo = work.path().join("demo");
    let out = overread(&[
        "demo",
        "generate",
        demo.to_str().expect("utf8"),
        "--count",
        "1",
        "--size",
        "256",
    ]);
    assert!(out.status.success());
    let file = files_under(&demo)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "dcm"))
        .expect("a phantom");
    orthanc.upload(&file);
    let source = |name: &str, tls: &str| {
        format!(
            "[[source]]\nname = \"{name}\"\nkind = \"dimse\"\nhost = \"127.0.0.1\"\nport = {}\ncalled_ae = \"ORTHANC\"\n{tls}[source.timeouts]\nconnect_s = 2\nidle_s = 5\n",
            orthanc.dicom
        )
    };
    let text = format!(
        "[cache]\ndir = {:?}\n{}{}{}",
        work.path().join("cache"),
        source(
            "tls",
            &format!("tls = {{ ca_bundle = {ca:?}, server_name = \"localhost\" }}\n")
        ),
        source("clear", ""),
        source(
            "wrong-ca",
            &format!("tls = {{ ca_bundle = {other_ca:?}, server_name = \"localhost\" }}\n")
        ),
    );
    let cfg = work.path().join("pacs.toml");
    std::fs::write(&cfg, text).expect("config");
    let cfg = cfg.to_str().expect("utf8");

    let out = pacs(cfg, "tls", &["echo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pacs(cfg, "tls", &["query", "--json"]);
    let studies = json_lines(&out);
    assert_eq!(studies.len(), 1, "{studies:?}");
    let uid = studies[0]["study_uid"].as_str().expect("uid");
    let out = pacs(cfg, "tls", &["retrieve", "--json", uid]);
    let line = &json_lines(&out)[0];
    assert_eq!(line["complete"], true, "{line}");
    // The instance that was stored, and it decodes.
    let info = |p: &str| {
        let out = overread(&["info", p, "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let got = info(line["files"][0].as_str().expect("file"));
    let sent = info(file.to_str().expect("utf8"));
    assert_eq!(got["sop_uid"], sent["sop_uid"]);
    let png = work.path().join("over-tls.png");
    let out = overread(&[
        "render",
        line["files"][0].as_str().expect("file"),
        "-o",
        png.to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "the retrieved instance decodes");

    for (name, expect) in [("clear", ""), ("wrong-ca", "certificate")] {
        let out = pacs(cfg, name, &["echo"]);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{name} must fail: {said}");
        assert!(said.to_lowercase().contains(expect), "{name}: {said}");
        assert_eq!(said.trim().lines().count(), 1, "{name}: {said}");
    }
}

/// The results' configuration: "web" (DICOMweb, every study on the
/// worklist) and "dimse" (the same Orthanc over DIMSE, no worklist).
fn results_config(dir: &Path, web: u16, dimse: u16) -> PathBuf {
    worklist_days_config(dir, web, dimse, 36500)
}

/// As [`results_config`], the worklist being the last `days` days' studies.
fn worklist_days_config(dir: &Path, web: u16, dimse: u16, days: u32) -> PathBuf {
    let text = format!(
        "[cache]\ndir = {:?}\n\
         [[source]]\nname = \"web\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:{web}/dicom-web\"\n\
         [source.timeouts]\nconnect_s = 2\nidle_s = 2\noverall_s = 20\n[source.worklist]\ndays = {days}\n\
         [[source]]\nname = \"dimse\"\nkind = \"dimse\"\nhost = \"127.0.0.1\"\nport = {dimse}\ncalled_ae = \"ORTHANC\"\n\
         [source.timeouts]\nidle_s = 5\n[source.worklist]\nenabled = false\n",
        dir.join("cache")
    );
    std::fs::create_dir_all(dir).expect("mkdir");
    let path = dir.join("pacs.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// The SOP classes Orthanc holds for a study (QIDO-RS).
fn classes_on(orthanc: &Orthanc, study_uid: &str) -> Vec<String> {
    let body = orthanc.get(&format!("/dicom-web/studies/{study_uid}/instances"));
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut classes: Vec<String> = list
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["00080016"]["Value"][0].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    classes.sort();
    classes
}

const SR: &str = "1.2.840.10008.5.1.4.1.1.88.34";
const PM: &str = "1.2.840.10008.5.1.4.1.1.30";
const GSPS: &str = "1.2.840.10008.5.1.4.1.1.11.1";

fn reader_settings(config: &Path, reader: &str) -> overread_core::api::Settings {
    let model =
        std::path::absolute(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo"))
            .expect("model path");
    overread_core::api::Settings {
        sources: Vec::new(),
        model_dir: model.display().to_string(),
        execution_provider: "cpu".into(),
        inference_server: None,
        reader: overread_core::api::ReaderIdentity {
            id: reader.to_lowercase(),
            display_name: format!("{reader} Reader"),
            role: "radiologist".into(),
        },
        read_first: false,
        max_wait_minutes: 120,
        pacs_config: Some(config.display().to_string()),
        results_folder: None,
        viewing: overread_core::api::Viewing::default(),
        department_store: None,
        audit_log: None,
    }
}

/// Reader Ann's workstation over `dir`'s audit log: the PACS synced and triaged.
fn reader_a(config: &Path, dir: &Path) -> overread_core::workstation::Workstation {
    let ws = overread_core::workstation::Workstation::open(
        reader_settings(config, "Ann"),
        &dir.join("audit.sqlite"),
        None,
    )
    .expect("open");
    ws.sync_pacs();
    ws.run_triage(1);
    ws
}

/// Confirms every flagged finding of a study and signs it off.
fn decide_and_sign_off(
    ws: &overread_core::workstation::Workstation,
    id: overread_core::api::StudyId,
) {
    let study = ws.open_study(id).expect("open");
    for f in study.findings.iter().filter(|f| f.flagged) {
        ws.decide(
            id,
            &overread_core::api::DecisionRequest {
                finding: f.label.clone(),
                decision: "confirm".into(),
                region: None,
                reason: None,
                display_ms: Some(1500.0),
            },
        )
        .expect("decided");
    }
    let view = ws.sign_off(id).expect("signed off");
    assert_eq!(view.state, overread_core::api::ResultsState::Queued);
}

/// One read and one decode (#17): the study was retrieved (proved whole
/// from the bytes as they arrived), put on the worklist (its header read
/// once, by the scan of the cache), triaged (read and decoded), and now
/// opened, its preview and full image fetched: the viewer takes the frame
/// triage decoded, and nothing reads or decodes the file again.
fn read_and_decoded_once(
    ws: &overread_core::workstation::Workstation,
    id: overread_core::api::StudyId,
    study_uid: &str,
    uploaded: &[PathBuf],
    cache: &Path,
) {
    use overread_core::dicom::{Limits, counters, read_header};
    let (original, sop) = uploaded
        .iter()
        .find_map(|f| {
            let h = read_header(f, &Limits::default()).ok()?;
            (h.study_instance_uid.as_deref() == Some(study_uid)).then(|| {
                (
                    std::fs::read(f).expect("read"),
                    h.sop_instance_uid.expect("sop"),
                )
            })
        })
        .expect("the uploaded file");
    let cached = files_under(&cache.join("objects"))
        .into_iter()
        .find(|f| std::fs::read(f).is_ok_and(|b| b == original))
        .expect("the cached copy");
    ws.open_study(id).expect("open");
    ws.pixels(id, 0, true).expect("preview");
    ws.pixels(id, 0, false).expect("full image");
    let (file, instance) = (counters::of_path(&cached), counters::of_instance(&sop));
    eprintln!("retrieved, triaged and opened: {file:?}; the instance: {instance:?}");
    assert_eq!(file.reads, 1, "whole-file reads: {file:?}");
    assert_eq!(file.header_reads, 1, "header reads (the scan): {file:?}");
    assert_eq!(file.decodes, 1, "full decodes: {file:?}");
    // Nor was it decoded from the bytes as they arrived (its SOP UID is
    // this test's own).
    assert_eq!(
        instance.decodes, 1,
        "full decodes of the instance: {instance:?}"
    );
}

#[test]
fn signed_off_results_reach_orthanc_and_a_second_reader() {
    use overread_core::api::ResultsState;
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        eprintln!("skipped: ORT_DYLIB_PATH is not set (the demo model needs ONNX Runtime)");
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let orthanc = Orthanc::start(free_port());
    let studies = work.path().join("studies");
    let files = overread_core::demo::generate(&studies, 3, 256, 7).expect("phantoms");
    for f in &files {
        orthanc.upload(f);
    }
    let a = work.path().join("reader-a");
    let config = results_config(&a, orthanc.http, orthanc.dicom);
    let ws = reader_a(&config, &a);
    let rows = ws.worklist().rows;
    let flagged: Vec<_> = rows
        .iter()
        .filter(|r| r.ai == overread_core::api::AiStatus::Flagged)
        .map(|r| r.id)
        .collect();
    assert!(
        flagged.len() >= 2,
        "two flagged phantoms expected: {rows:?}"
    );
    // Study ids are this session's; the UIDs find them again after a restart.
    let first_study = files_study_uid(&ws, flagged[0]);
    let second_study = files_study_uid(&ws, flagged[1]);
    let first = flagged[0];
    read_and_decoded_once(&ws, first, &first_study, &files, &a.join("cache"));

    // The PACS stalls (a stopped process): the outbox keeps the results.
    decide_and_sign_off(&ws, first);
    orthanc.signal("-STOP");
    assert_eq!(ws.send_results(), 0);
    let row = ws
        .worklist()
        .rows
        .into_iter()
        .find(|r| r.id == first)
        .expect("row");
    assert_eq!(row.results.state, ResultsState::Failed, "{row:?}");
    orthanc.signal("-CONT");
    drop(ws);

    // A restart: what waited goes now, once.
    let ws = reader_a(&config, &a);
    let first = ws.find_study(&first_study).expect("first study");
    let second = ws.find_study(&second_study).expect("second study");
    let first_uid = {
        let (signoff, objects) = ws.signed_off_objects(first).expect("objects");
        assert_eq!(objects.len(), 3, "{signoff:?}");
        signoff.objects[0].sop_instance_uid.clone()
    };
    assert_eq!(ws.send_results(), 1);
    let row = ws
        .worklist()
        .rows
        .into_iter()
        .find(|r| r.id == first)
        .expect("row");
    assert_eq!(row.results.state, ResultsState::Sent, "{row:?}");
    let on_pacs = classes_on(&orthanc, &first_study);
    let recorded = recorded_classes(&ws, first);
    assert!(
        recorded.contains(&PM.to_string()),
        "a heatmap of the flagged finding"
    );
    for class in recorded {
        assert_eq!(
            on_pacs.iter().filter(|c| **c == class).count(),
            1,
            "{class} once on Orthanc: {on_pacs:?}"
        );
    }
    // Sending the same sign-off again stores nothing new.
    ws.send_signed_off(first, "web").expect("sent again");
    assert_eq!(classes_on(&orthanc, &first_study), on_pacs);

    // DIMSE: C-STORE of the second study's results.
    decide_and_sign_off(&ws, second);
    ws.send_signed_off(second, "dimse").expect("C-STORE");
    let stored = classes_on(&orthanc, &second_study);
    let recorded = recorded_classes(&ws, second);
    assert!(
        recorded.contains(&PM.to_string()),
        "a heatmap of the flagged finding"
    );
    for class in recorded {
        assert!(stored.contains(&class), "{class} by C-STORE: {stored:?}");
    }
    // Its outbox entry (for "web") then stores the same objects: still once.
    assert_eq!(ws.send_results(), 1);
    assert_eq!(classes_on(&orthanc, &second_study), stored);
    ws.close();
    drop(ws);

    // A second workstation process sees the first reader's assessment.
    let b = work.path().join("reader-b");
    let config_b = results_config(&b, orthanc.http, orthanc.dicom);
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo");
    let out = overread(&[
        "results",
        "earlier",
        &first_study,
        "--json",
        "--config",
        config_b.to_str().expect("utf8"),
        "--model",
        model.to_str().expect("utf8"),
        "--audit",
        b.join("audit.sqlite").to_str().expect("utf8"),
        "--reader",
        "bob",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let earlier: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
    let earlier = earlier.as_array().expect("list");
    assert_eq!(earlier.len(), 1, "{earlier:?}");
    assert_eq!(earlier[0]["sop_instance_uid"], first_uid.as_str());
    assert_eq!(earlier[0]["reader"], "READER, Ann");
    let findings = earlier[0]["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .any(|f| f["assessment"] == "accepted" && f["flagged"] == true),
        "{findings:?}"
    );

    // The CLI writes the same objects again from the audit log.
    let written = a.join("written");
    let out = overread(&[
        "results",
        "write",
        &first_study,
        "-o",
        written.to_str().expect("utf8"),
        "--config",
        config.to_str().expect("utf8"),
        "--model",
        model.to_str().expect("utf8"),
        "--audit",
        a.join("audit.sqlite").to_str().expect("utf8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&written)
        .expect("written")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&"sr.dcm".to_string()), "{names:?}");

    priors_come_from_the_pacs_with_what_was_decided_then(&orthanc, work.path());
}

/// A patient's earlier radiographs are only on the PACS. Reader Pat reads
/// the middle one (every finding dismissed as stable) and signs it off to
/// the PACS. Reader Cleo's worklist is today's studies: the latest is on it,
/// the priors are not. Selecting it finds both priors on the PACS, retrieves
/// the newest into the cache off the worklist, triages it, and reads Pat's
/// assessment back, so the comparison line says "dismissed as stable"
/// though Cleo's own log never saw the prior. After a restart the prior is
/// still here and still off the worklist; the older one comes when asked.
fn priors_come_from_the_pacs_with_what_was_decided_then(orthanc: &Orthanc, work: &Path) {
    use overread_core::api::{AiStatus, Availability, DecisionRequest};
    use overread_core::workstation::Workstation;
    let today = overread_core::pacs::query::today();
    let series = overread_core::phantom::patient_with_priors(900, 77, 256, 256, 3, &today);
    let files = work.join("priors");
    std::fs::create_dir_all(&files).expect("mkdir");
    let uids: Vec<String> = series
        .studies
        .iter()
        .map(|study| {
            orthanc.upload(&study.write(&files).expect("write"));
            study.study_instance_uid.clone()
        })
        .collect();
    let (oldest_uid, middle_uid, latest_uid) = (&uids[0], &uids[1], &uids[2]);

    // Pat reads the middle study and signs it off to the PACS.
    let pat_dir = work.join("reader-pat");
    let pat_config = results_config(&pat_dir, orthanc.http, orthanc.dicom);
    let pat = Workstation::open(
        reader_settings(&pat_config, "Pat"),
        &pat_dir.join("audit.sqlite"),
        None,
    )
    .expect("open");
    pat.sync_pacs();
    pat.run_triage(1);
    let middle = pat
        .find_study(middle_uid)
        .expect("the middle study on Pat's worklist");
    let findings = pat.open_study(middle).expect("open").findings;
    assert!(!findings.is_empty(), "the demo model reports every label");
    for f in &findings {
        pat.decide(
            middle,
            &DecisionRequest {
                finding: f.label.clone(),
                decision: "dismiss".into(),
                region: None,
                reason: Some("stable".into()),
                display_ms: Some(900.0),
            },
        )
        .expect("dismissed");
    }
    pat.sign_off(middle).expect("signed off");
    pat.send_signed_off(middle, "web").expect("sent");
    pat.close();
    drop(pat);

    // Cleo's worklist: today's studies.
    let cleo_dir = work.join("reader-cleo");
    let cleo_config = worklist_days_config(&cleo_dir, orthanc.http, orthanc.dicom, 1);
    let open_cleo = || {
        Workstation::open(
            reader_settings(&cleo_config, "Cleo"),
            &cleo_dir.join("audit.sqlite"),
            None,
        )
        .expect("open")
    };
    let cleo = open_cleo();
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let heard = events.clone();
    cleo.set_listener(Arc::new(move |c| heard.lock().expect("events").push(c)));
    cleo.sync_pacs();
    cleo.run_triage(1);
    let on_worklist = |ws: &Workstation| -> Vec<String> {
        ws.worklist()
            .rows
            .iter()
            .filter_map(|r| ws.study_uid(r.id))
            .collect()
    };
    let rows = on_worklist(&cleo);
    assert!(rows.contains(latest_uid), "today's study: {rows:?}");
    assert!(!rows.contains(middle_uid) && !rows.contains(oldest_uid));
    let latest = cleo.find_study(latest_uid).expect("latest");
    assert!(cleo.study_priors(latest).expect("priors").priors.is_empty());

    let found = cleo.find_priors(latest, None).expect("priors found");
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    let dates: Vec<&str> = found.priors.iter().map(|p| p.study_date.as_str()).collect();
    assert_eq!(
        dates.len(),
        2,
        "both priors listed, newest first: {dates:?}"
    );
    assert!(dates[0] > dates[1], "{dates:?}");
    assert_eq!(found.priors[0].availability, Availability::Available);
    assert_eq!(found.priors[1].availability, Availability::Retrieving);
    let (middle, oldest) = (found.priors[0].id, found.priors[1].id);
    assert_eq!(cleo.study_uid(middle).as_ref(), Some(middle_uid));
    // Off the worklist, in the full list and in the change events alike.
    assert_eq!(on_worklist(&cleo), rows);
    {
        let events = events.lock().expect("events");
        assert!(events.iter().any(|c| c.priors), "a priors event");
        assert!(
            events
                .iter()
                .flat_map(|c| &c.rows)
                .all(|r| r.id != middle && r.id != oldest),
            "no worklist row for a prior"
        );
    }
    // Triaged like any study, then compared with Pat's decision.
    cleo.run_triage(1);
    let now = cleo.study_priors(latest).expect("priors");
    assert!(
        matches!(now.priors[0].ai, AiStatus::Flagged | AiStatus::NoFlags),
        "{:?}",
        now.priors[0]
    );
    assert!(!now.lines.is_empty());
    for line in &now.lines {
        assert!(
            line.line.ends_with("dismissed as stable"),
            "Pat's assessment read back from the PACS: {line:?}"
        );
    }
    let view = cleo.open_study(latest).expect("open");
    assert_eq!(view.findings[0].prior.as_ref(), Some(&now.lines[0].line));
    // Selected again within five minutes, the PACS is not asked again (a
    // stalled PACS would be a problem otherwise).
    orthanc.signal("-STOP");
    let again = cleo.find_priors(latest, None).expect("again");
    orthanc.signal("-CONT");
    assert!(again.problems.is_empty(), "{:?}", again.problems);
    assert_eq!(again.priors, now.priors);
    cleo.close();
    drop(cleo);

    // After a restart, with no network asked: the prior is in the cache,
    // still off the worklist, still compared.
    let cleo = open_cleo();
    assert_eq!(on_worklist(&cleo), rows);
    let latest = cleo.find_study(latest_uid).expect("latest");
    let after = cleo.study_priors(latest).expect("priors");
    assert_eq!(after.priors.len(), 1, "the retrieved prior only");
    assert_eq!(after.priors[0].availability, Availability::Available);
    // The older prior comes when stepped to.
    cleo.find_priors(latest, None).expect("listed again");
    let oldest = cleo.find_study(oldest_uid).expect("listed");
    let got = cleo.find_priors(latest, Some(oldest)).expect("retrieved");
    assert!(got.problems.is_empty(), "{:?}", got.problems);
    assert_eq!(got.priors[1].id, oldest);
    assert_eq!(got.priors[1].availability, Availability::Available);
    assert_eq!(on_worklist(&cleo), rows);
    // A study that is not a prior is refused with a clear error.
    let err = cleo
        .find_priors(oldest, Some(latest))
        .expect_err("not a prior");
    assert!(err.message.contains("is not a prior"), "{err:?}");
}

/// The SOP classes of a study's latest sign-off's objects (a Parametric
/// Map for each flagged finding that has a heatmap).
fn recorded_classes(
    ws: &overread_core::workstation::Workstation,
    id: overread_core::api::StudyId,
) -> Vec<String> {
    let (signoff, _) = ws.signed_off_objects(id).expect("signed off");
    let mut classes: Vec<String> = signoff
        .objects
        .iter()
        .map(|o| o.sop_class_uid.clone())
        .collect();
    assert!(classes.contains(&SR.to_string()) && classes.contains(&GSPS.to_string()));
    classes.sort();
    classes
}

fn files_study_uid(
    ws: &overread_core::workstation::Workstation,
    id: overread_core::api::StudyId,
) -> String {
    ws.study_uid(id).expect("study UID")
}
