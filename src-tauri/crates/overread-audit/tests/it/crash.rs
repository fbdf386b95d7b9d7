//! The crash-safety proof: a child process records decisions one by one and
//! prints `ACK n` after each COMMIT; the parent SIGKILLs it at random moments,
//! hundreds of times, on the same database. After every kill: integrity_check
//! passes, every acknowledged row is present and byte-identical, sequence
//! numbers have no gaps, and the chain verifies. Then the same during exports
//! and during a migration.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use overread_audit::{Decision, ExportOptions, Verification};
use rusqlite::Connection;

use crate::{decision, open};

const CHILD_ENV: &str = "OVERREAD_AUDIT_CRASH_CHILD";

/// The child: runs when the test binary is re-executed with CHILD_ENV set.
#[test]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (mode, db) = spec.split_once(':').expect("mode:path");
    let mut log = open(Path::new(db));
    let mut n = log.head().expect("head").0 as u64;
    loop {
        match mode {
            "record" => {
                n += 1;
                let d = if n.is_multiple_of(2) {
                    Decision::Confirm
                } else {
                    Decision::Dismiss
                };
                let r = log.record_decision(&decision(n, d)).expect("records");
                println!("ACK {} {}", r.seq, r.row_hash);
            }
            "export" => {
                let out = Path::new(db).with_extension("csv");
                log.export_csv(
                    &out,
                    &ExportOptions {
                        workstation_id: "ws".into(),
                        ..Default::default()
                    },
                )
                .expect("exports");
                println!("ACK export");
            }
            _ => {
                // "open": opening ran the migrations.
                println!("ACK open");
                std::process::exit(0);
            }
        }
    }
}

fn spawn(mode: &str, db: &Path) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "crash::crash_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{mode}:{}", db.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns")
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Kills `child` after it has printed `acks` ACK lines (or after `delay`
/// when `acks` is 0); returns the ACK lines read.
fn kill_after(mut child: Child, acks: u64, delay: Duration) -> Vec<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let start = Instant::now();
    while (acks == 0 && start.elapsed() < delay) || (acks > 0 && (seen.len() as u64) < acks) {
        match rx.recv_timeout(Duration::from_millis(5)) {
            Ok(line) => seen.push(line),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
        if start.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    // SIGKILL: no destructors, no flush; whatever was mid-COMMIT stays mid-COMMIT.
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    seen.extend(rx.try_iter());
    seen
}

fn check(db: &Path, acked: &[(i64, String)]) {
    let conn = Connection::open(db).expect("raw");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
    drop(conn);
    let log = open(db);
    let (head, _) = log.head().expect("head");
    for (seq, hash) in acked {
        assert!(*seq <= head, "acknowledged row {seq} lost (head {head})");
        let row = log.rows(*seq, 1).expect("rows").remove(0);
        assert_eq!(&row.row_hash, hash, "acknowledged row {seq} changed");
    }
    match log.verify().expect("verifies") {
        Verification::Ok { rows, .. } => assert_eq!(rows, head, "gap-free"),
        broken => panic!("chain broken after a kill: {broken:?}"),
    }
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("audit.sqlite3");
    (dir, db)
}

#[test]
fn killed_while_recording_loses_nothing_acknowledged() {
    let (_dir, db) = temp_db();
    drop(open(&db));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut acked: Vec<(i64, String)> = Vec::new();
    let kills = 200;
    for _ in 0..kills {
        // Kill after 1–8 acknowledgements, plus a random delay inside the next commit.
        let child = spawn("record", &db);
        let want = 1 + rng.below(8);
        let lines = kill_after(child, want, Duration::ZERO);
        for line in lines {
            let mut parts = line.split_whitespace();
            if parts.next() == Some("ACK") {
                let seq: i64 = parts.next().and_then(|s| s.parse().ok()).expect("seq");
                acked.push((seq, parts.next().expect("hash").to_string()));
            }
        }
        check(&db, &acked);
    }
    assert!(acked.len() >= kills, "{} rows acknowledged", acked.len());
}

#[test]
fn killed_while_exporting_leaves_the_log_and_no_half_file() {
    let (dir, db) = temp_db();
    {
        let mut log = open(&db);
        let events: Vec<_> = (0..3000).map(|i| decision(i, Decision::Confirm)).collect();
        log.record_decisions(&events).expect("records");
    }
    let acked: Vec<(i64, String)> = open(&db)
        .rows(1, 3000)
        .expect("rows")
        .into_iter()
        .map(|r| (r.seq, r.row_hash))
        .collect();
    let mut rng = Rng(42);
    for _ in 0..20 {
        let child = spawn("export", &db);
        kill_after(child, 0, Duration::from_millis(20 + rng.below(150)));
        check(&db, &acked);
        let csv = db.with_extension("csv");
        if csv.exists() {
            let text = std::fs::read_to_string(&csv).expect("read");
            let rows = csv::Reader::from_reader(text.as_bytes()).records().count();
            assert!(rows >= 3000, "a complete export or none: {rows} rows");
        }
        let partial = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .count();
        assert!(
            partial <= 2,
            "at most the temporary files of the one interrupted export: {partial}"
        );
    }
}

#[test]
fn killed_during_migration_keeps_the_data_and_migrates_later() {
    let (_dir, db) = temp_db();
    {
        let mut log = open(&db);
        let events: Vec<_> = (0..20_000)
            .map(|i| decision(i, Decision::Dismiss))
            .collect();
        log.record_decisions(&events).expect("records");
    }
    let acked: Vec<(i64, String)> = open(&db)
        .rows(1, 20_000)
        .expect("rows")
        .into_iter()
        .map(|r| (r.seq, r.row_hash))
        .collect();
    let mut rng = Rng(7);
    for _ in 0..15 {
        // Roll the schema back to version 1 (as an older Overread left it).
        {
            let conn = Connection::open(&db).expect("raw");
            conn.execute_batch(
                "DROP INDEX IF EXISTS audit_events_recorded_at; PRAGMA user_version = 1;",
            )
            .expect("downgrade");
        }
        let child = spawn("open", &db);
        kill_after(child, 0, Duration::from_millis(rng.below(120)));
        check(&db, &acked);
        let conn = Connection::open(&db).expect("raw");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        let indexes: i64 = conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'audit_events_%'", [], |r| r.get(0)).expect("count");
        assert_eq!(version, 2, "the check above opened the log, which migrates");
        assert_eq!(indexes, 1);
    }
}
