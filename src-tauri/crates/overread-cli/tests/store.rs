//! `overread audit sync` into a real PostgreSQL (started once by this test
//! binary): five workstation processes recording and syncing at once, one
//! killed with SIGKILL in the middle of a sync, the database stopped and
//! started again while they run. Afterwards every row each workstation
//! recorded is in the store exactly once and every chain verifies there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use overread_core::audit_log::row::{COLUMNS, GENESIS, Row, Value, row_hash};
use overread_core::audit_log::{Decision, DecisionEvent, ModelRef, Reader, StudyRef};
use overread_store::Store;
use overread_store::testing::Postgres;

const WORKSTATIONS: usize = 5;

fn overread(ws: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_overread"))
        .args(args)
        .env("OVERREAD_WORKSTATION", ws)
        .env_remove("OVERREAD_STORE_PASSWORD")
        .env_remove("OVERREAD_STORE_PASSWORD_FILE")
        .output()
        .expect("run overread")
}

fn db(dir: &Path, ws: &str) -> PathBuf {
    dir.join(format!("{ws}.sqlite3"))
}

/// One decision recorded by `overread audit record` (acknowledged when it
/// exits 0).
fn record(dir: &Path, ws: &str, n: usize) {
    let db = db(dir, ws);
    let out = overread(
        ws,
        &[
            "audit",
            "record",
            "--db",
            db.to_str().expect("utf8"),
            "--reader-id",
            "ann",
            "--reader-name",
            "Ann Reader",
            "--reader-role",
            "radiologist",
            "--patient-id",
            &format!("OVR-PH-{n:04}"),
            "--study-uid",
            &format!("2.25.{n}1"),
            "--series-uid",
            &format!("2.25.{n}2"),
            "--sop-uid",
            &format!("2.25.{n}3"),
            "--model-name",
            "demo-opacity",
            "--model-version",
            "1.0.0",
            "--model-sha256",
            &"ab".repeat(32),
            "--ep",
            "cpu",
            "--finding",
            "nodule",
            "--score",
            "0.73",
            "--threshold",
            "0.5",
            "--flagged",
            "--decision",
            "confirm",
            "--ms",
            "1200",
        ],
    );
    assert!(
        out.status.success(),
        "record: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sync(dir: &Path, ws: &str, store: &str) -> Output {
    let db = db(dir, ws);
    overread(
        ws,
        &[
            "audit",
            "sync",
            "--db",
            db.to_str().expect("utf8"),
            "--store",
            store,
            "--json",
        ],
    )
}

/// A backlog written straight into a log (faster than one process per row).
fn backlog(dir: &Path, ws: &str, rows: u64) {
    let mut log = overread_core::audit::open(&db(dir, ws)).expect("open");
    let events: Vec<DecisionEvent> = (0..rows)
        .map(|n| DecisionEvent {
            reader: Reader {
                id: "bob".into(),
                display_name: "Bob Reader".into(),
                role: "reporting radiographer".into(),
            },
            workstation_id: ws.into(),
            study: StudyRef {
                patient_id: format!("OVR-PH-{n:05}"),
                accession_number: format!("ACC{n:05}"),
                study_uid: format!("2.25.{n}1"),
                series_uid: format!("2.25.{n}2"),
                sop_uid: format!("2.25.{n}3"),
            },
            model: Some(ModelRef {
                name: "demo-opacity".into(),
                version: "1.0.0".into(),
                sha256: "cd".repeat(32),
            }),
            execution_provider: Some("cpu".into()),
            finding: "nodule".into(),
            ai_score: Some(n as f64 / rows as f64),
            threshold: Some(0.5),
            ai_flagged: n * 2 >= rows,
            decision: Decision::Dismiss,
            region: None,
            reason: Some("seen before".into()),
            display_to_decision_ms: Some(900),
            supersedes: None,
        })
        .collect();
    for chunk in events.chunks(1000) {
        log.record_decisions(chunk).expect("record");
    }
}

fn local_head(dir: &Path, ws: &str) -> i64 {
    overread_core::audit::open(&db(dir, ws))
        .expect("open")
        .head()
        .expect("head")
        .0
}

#[test]
fn five_workstations_sync_at_once_through_a_kill_and_a_database_restart() {
    let pg = Postgres::start();
    let store = pg.conninfo();
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_path_buf();
    let names: Vec<String> = (0..WORKSTATIONS).map(|i| format!("ws-{i}")).collect();

    // ws-0 has a backlog of several batches; its first sync is killed.
    backlog(&dir, &names[0], 7000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_overread"))
        .args(["audit", "sync", "--db"])
        .arg(db(&dir, &names[0]))
        .args(["--store", &store])
        .env("OVERREAD_WORKSTATION", &names[0])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Killed once its first batch is in the store, with more to send.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let at_kill = rt.block_on(async {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(s) = Store::connect(&store, None, Duration::from_secs(5)).await {
                loop {
                    let head = s.head(&names[0]).await.map(|h| h.seq).unwrap_or(0);
                    if head > 0 || Instant::now() > until {
                        // SIGKILL: no chance to clean up (Child::kill on Unix).
                        child.kill().expect("kill");
                        return head;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            assert!(Instant::now() < until, "the store never answered");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    child.wait().expect("reaped");
    assert!(
        at_kill > 0 && at_kill < 7000,
        "killed in the middle of its sync: {at_kill} of 7000 rows stored"
    );

    // Five workstations record and sync at once; the database is stopped
    // and started again while they do.
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, ws)| {
            let (dir, ws, store, stop) = (dir.clone(), ws.clone(), store.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut failures = 0;
                for n in 0..12 {
                    record(&dir, &ws, i * 100 + n);
                    if n % 3 == 2 && !sync(&dir, &ws, &store).status.success() {
                        failures += 1;
                    }
                }
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                failures
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    pg.stop();
    std::thread::sleep(Duration::from_millis(1500));
    pg.start_again();
    stop.store(true, Ordering::SeqCst);
    let failures: usize = threads
        .into_iter()
        .map(|t| t.join().expect("workstation thread"))
        .sum();
    eprintln!("syncs that met the database down: {failures}");

    // Each workstation syncs until the store holds its whole log.
    for ws in &names {
        let until = Instant::now() + Duration::from_secs(120);
        loop {
            let out = sync(&dir, ws, &store);
            if out.status.success() {
                let report: serde_json::Value =
                    serde_json::from_slice(&out.stdout).expect("json report");
                if report["store_head"] == report["local_head"] {
                    break;
                }
            }
            assert!(
                Instant::now() < until,
                "{ws} never caught up: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    rt.block_on(async {
        let s = Store::connect(&store, None, Duration::from_secs(10))
            .await
            .expect("connect");
        assert_eq!(s.workstations().await.expect("workstations"), names);
        for ws in &names {
            let head = local_head(&dir, ws);
            assert_eq!(
                s.count(ws).await.expect("count"),
                head,
                "{ws}: exactly once"
            );
            assert_eq!(
                s.verify(ws).await.expect("verify"),
                (head, None),
                "{ws}: the chain verifies in the store"
            );
        }
        assert!(s.alerts(10).await.expect("alerts").is_empty());
    });
    assert_eq!(local_head(&dir, &names[0]), 7000 + 12);

    // A local log replaced after sync (a fresh file under the same name)
    // is refused by the store: exit 3, the reason, an alert for everyone.
    std::fs::remove_file(db(&dir, &names[1])).expect("remove");
    let _ = std::fs::remove_file(overread_core::audit_log::anchor_path(&db(&dir, &names[1])));
    record(&dir, &names[1], 999);
    let out = sync(&dir, &names[1], &store);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        report["refused"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("changed after it was synced")),
        "{report}"
    );
    let other = sync(&dir, &names[2], &store);
    let report: serde_json::Value = serde_json::from_slice(&other.stdout).expect("json");
    assert_eq!(
        report["alerts"][0]["workstation"],
        names[1].as_str(),
        "{report}"
    );

    governance(&dir, &store, &names, &rt);
}

/// A month of a workstation's history, written straight into the store as
/// a valid chain (the store checks every hash): October as the baseline,
/// November with the nodule scores shifted up.
fn history() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut prev = GENESIS.to_string();
    let mut push = |cells: &[(&str, Value)]| {
        let seq = rows.len() as i64 + 1;
        let values: Vec<Value> = COLUMNS
            .iter()
            .map(|c| {
                cells
                    .iter()
                    .find(|(k, _)| k == c)
                    .map_or(Value::Null, |(_, v)| v.clone())
            })
            .collect();
        let hash = row_hash(&prev, seq, &values);
        rows.push(Row {
            seq,
            values,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            row_hash: hash,
        });
    };
    let text = |s: &str| Value::Text(s.to_string());
    for i in 0..600usize {
        let month = if i < 300 { "10" } else { "11" };
        let day = format!("2026-{month}-{:02}T09:00:00.000Z", 1 + i % 28);
        // Baseline nodule scores spread over 0–0.6, the period's over 0.3–0.9.
        let spread = (i * 37 % 100) as f64 / 100.0;
        let nodule = if i < 300 {
            spread * 0.6
        } else {
            0.3 + spread * 0.6
        };
        let base = [
            ("recorded_at", text(&day)),
            ("reader_id", text("ann")),
            ("reader_role", text("radiologist")),
            ("workstation_id", text("ws-history")),
            ("patient_id", text(&format!("OVR-PH-H{i}"))),
            ("study_uid", text(&format!("2.25.9{i}"))),
            ("sop_uid", text(&format!("2.25.9{i}3"))),
            ("model_name", text("cxr")),
            ("model_version", text("1.0")),
            ("model_sha256", text(&"cd".repeat(32))),
            ("app_version", text("test")),
        ];
        let detail = serde_json::json!({
            "findings": [{"label": "nodule", "score": nodule, "flagged": nodule >= 0.5}],
            "acquisition": {"manufacturer": "ACME", "modality": "DX", "view": "PA"},
            "image": {"mean": 0.45, "sd": 0.2},
        });
        let mut cells = base.to_vec();
        cells.push(("kind", text("inference_run")));
        cells.push(("detail", text(&detail.to_string())));
        push(&cells);
        if i >= 300 && nodule >= 0.5 {
            let mut cells = base.to_vec();
            cells.extend([
                ("kind", text("decision")),
                ("finding", text("nodule")),
                ("ai_score", Value::Real(nodule)),
                ("threshold", Value::Real(0.5)),
                ("ai_flagged", Value::Int(1)),
                (
                    "decision",
                    text(if i % 3 == 0 { "dismiss" } else { "confirm" }),
                ),
                ("display_to_decision_ms", Value::Int(3000)),
            ]);
            push(&cells);
        }
    }
    rows
}

/// The governance report over the store: the history's drift, the chain
/// alert raised above, every workstation; and over one local log.
fn governance(dir: &Path, store: &str, names: &[String], rt: &tokio::runtime::Runtime) {
    let rows = history();
    let decisions = rows
        .iter()
        .filter(|r| r.get("kind") == &Value::Text("decision".into()))
        .count();
    rt.block_on(async {
        let s = Store::connect(store, None, Duration::from_secs(10))
            .await
            .expect("connect");
        for batch in rows.chunks(overread_store::BATCH_ROWS) {
            let got = s.ingest("ws-history", batch).await.expect("ingest");
            assert_eq!(got.refused, None);
        }
    });
    let html = dir.join("report.html");
    let csv = dir.join("registry.csv");
    let out = overread(
        "ws-0",
        &[
            "governance",
            "report",
            "--store",
            store,
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-28",
            "--baseline-from",
            "2026-10-01",
            "--baseline-to",
            "2026-10-28",
            "-o",
            html.to_str().expect("utf8"),
            "--csv",
            csv.to_str().expect("utf8"),
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["scope"],
        format!("the department store ({} workstations)", names.len() + 1)
    );
    let models = report["models"].as_array().expect("models");
    assert_eq!(
        models.len(),
        1,
        "only the history lies in November: {report}"
    );
    assert_eq!(models[0]["decisions"], decisions);
    assert_eq!(
        report["drift_alerts"][0]["what"], "score: nodule",
        "{report}"
    );
    let chain = report["chain_alerts"][0].as_str().expect("a chain alert");
    assert!(chain.starts_with(&format!("{}: row", names[1])), "{chain}");
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(page.contains("class=\"chain-alert\"") && page.contains("data-what=\"score: nodule\""));
    let mut reader = csv::Reader::from_path(&csv).expect("registry csv");
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        overread_core::governance::registry::HEADER
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(records.len(), decisions);
    assert!(
        records
            .iter()
            .all(|r| r.len() == 11 && r[3] == "cd".repeat(32))
    );
    let all = std::fs::read_to_string(&csv).expect("csv");
    assert!(!all.contains("OVR-PH") && !all.contains("2.25.") && !all.contains("ann"));

    // Over one workstation's own log (today's rows), no store needed.
    let today = overread_core::audit_log::now_rfc3339()[..10].to_string();
    let db = db(dir, &names[2]);
    let out = overread(
        &names[2],
        &[
            "governance",
            "report",
            "--db",
            db.to_str().expect("utf8"),
            "--from",
            &today,
            "--to",
            &today,
            "-o",
            dir.join("local.html").to_str().expect("utf8"),
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        report["scope"]
            .as_str()
            .is_some_and(|s| s.starts_with("this workstation's audit log"))
    );
    assert_eq!(
        report["models"][0]["model"]["name"], "demo-opacity",
        "{report}"
    );
    assert!(
        report["models"][0]["decisions"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    let bad = overread(
        &names[2],
        &[
            "governance",
            "report",
            "--db",
            db.to_str().expect("utf8"),
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-01",
            "-o",
            "x.html",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("after it ends"));
}
