//! `overread-bench store [ROWS] [WORKSTATIONS]`: the department store
//! against PostgreSQL's own bulk load and aggregation, side by side in one
//! run on one private cluster.
//!
//! - initial sync of a ROWS-row log, against `\copy` of the same rows (the
//!   log's CSV export) into a table of the same columns and key;
//! - WORKSTATIONS logs synced at once (ROWS × WORKSTATIONS in the store);
//! - steady state: WORKSTATIONS threads each recording a decision and
//!   syncing it, latency from the commit to the store's acknowledgement;
//! - the governance report over every row in the store, against one
//!   PostgreSQL GROUP BY over the same rows.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use overread_core::audit_log::{AuditLog, ExportOptions};
use overread_core::department::{self, testing::Postgres};
use overread_core::governance::{self, Options, Window};

fn fill(log: &mut AuditLog, rows: u64, offset: u64) -> Result<(), String> {
    let mut n = 0;
    while n < rows {
        let batch: Vec<_> = (n..(n + 10_000).min(rows))
            .map(|i| crate::decision(offset + i))
            .collect();
        log.record_decisions(&batch).map_err(|e| e.to_string())?;
        n += batch.len() as u64;
    }
    Ok(())
}

fn sync(conninfo: &str, ws: &str, log: &AuditLog) -> Result<department::SyncReport, String> {
    let (head, _) = log.head().map_err(|e| e.to_string())?;
    let mut read = |from: i64, n: usize| log.rows(from, n as i64).map_err(|e| e.to_string());
    department::sync(conninfo, ws, head, &mut read).map_err(|e| e.to_string())
}

fn psql(conninfo: &str, sql: &str) -> Result<f64, String> {
    let start = Instant::now();
    let out = Command::new("psql")
        .args([conninfo, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(start.elapsed().as_secs_f64())
}

/// The same columns and key as the store's table, for `\copy`.
fn copy_table() -> String {
    let typed = |c: &str| match c {
        "ai_score" | "threshold" => "float8",
        "ai_flagged" | "display_to_decision_ms" | "supersedes" => "bigint",
        _ => "text",
    };
    let columns: Vec<String> = overread_core::audit_log::export_header()
        .iter()
        .map(|c| {
            format!(
                "{c} {}",
                if *c == "seq" {
                    "bigint PRIMARY KEY"
                } else {
                    typed(c)
                }
            )
        })
        .collect();
    format!("CREATE TABLE bench_copy ({})", columns.join(", "))
}

fn open(dir: &Path, name: &str) -> Result<AuditLog, String> {
    overread_core::audit::open(&dir.join(format!("{name}.sqlite3"))).map_err(|e| e.to_string())
}

pub fn run(rows: u64, workstations: u64) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("overread-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = measure(&dir, rows, workstations);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(dir: &Path, rows: u64, workstations: u64) -> Result<(), String> {
    let pg = Postgres::start();
    let conninfo = pg.conninfo();
    let names: Vec<String> = (0..workstations).map(|i| format!("bench-ws-{i}")).collect();
    let mut logs = Vec::new();
    let start = Instant::now();
    for (i, name) in names.iter().enumerate() {
        let mut log = open(dir, name)?;
        fill(&mut log, rows, i as u64 * rows)?;
        logs.push(log);
    }
    let filled = start.elapsed().as_secs_f64();

    // Initial sync of one log against \copy of the same rows.
    let start = Instant::now();
    let first = sync(&conninfo, &names[0], &logs[0])?;
    let initial = start.elapsed().as_secs_f64();
    let csv = dir.join("copy.csv");
    logs[0]
        .export_csv(
            &csv,
            &ExportOptions {
                workstation_id: "bench-ws".into(),
                ..ExportOptions::default()
            },
        )
        .map_err(|e| e.to_string())?;
    psql(&conninfo, &copy_table())?;
    let copy = psql(
        &conninfo,
        &format!(
            "\\copy bench_copy FROM '{}' WITH (FORMAT csv, HEADER true)",
            csv.display()
        ),
    )?;

    // The others at once.
    let start = Instant::now();
    let results: Vec<Result<department::SyncReport, String>> = std::thread::scope(|s| {
        let conninfo = &conninfo;
        // A log is used by one thread at a time (it is Send, not Sync).
        let handles: Vec<_> = names[1..]
            .iter()
            .zip(logs[1..].iter_mut())
            .map(|(name, log)| s.spawn(move || sync(conninfo, name, log)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a sync thread panicked".into()))
            })
            .collect()
    });
    let together = start.elapsed().as_secs_f64();
    let mut sent = first.sent;
    for r in results {
        sent += r?.sent;
    }

    // Steady state: each workstation records one decision and syncs it.
    let rounds = 50;
    let mut latencies: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .zip(logs.iter_mut())
            .enumerate()
            .map(|(i, (name, log))| {
                let conninfo = &conninfo;
                s.spawn(move || -> Result<Vec<f64>, String> {
                    let mut out = Vec::new();
                    for r in 0..rounds {
                        let event = crate::decision(10_000_000 + i as u64 * 1000 + r);
                        let t = Instant::now();
                        log.record_decision(&event).map_err(|e| e.to_string())?;
                        sync(conninfo, name, log)?;
                        out.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect::<Result<Vec<_>, String>>()
    })?
    .into_iter()
    .flatten()
    .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];

    // Governance over the whole store against one GROUP BY of the same rows.
    let today = overread_core::audit_log::now_rfc3339()[..10].to_string();
    let options = Options::new(
        Window::new(&today, &today).map_err(|e| e.to_string())?,
        None,
    );
    let start = Instant::now();
    let report = governance::from_store(&conninfo, options.clone())
        .map_err(|e| e.to_string())?
        .report();
    let html = governance::html::render(&report);
    let gov = start.elapsed().as_secs_f64();
    let stored: u64 = report.models.iter().map(|m| m.decisions).sum();
    let group_by = psql(
        &conninfo,
        "SELECT model_name, model_version, finding, decision, reader_id, count(*), avg(ai_score), \
         percentile_cont(0.5) WITHIN GROUP (ORDER BY display_to_decision_ms) \
         FROM overread.audit_rows WHERE kind IN ('decision', 'inference_run', 'unaided_impression') \
         GROUP BY 1, 2, 3, 4, 5",
    )?;
    let start = Instant::now();
    let local = governance::from_log(&logs[0], options)
        .map_err(|e| e.to_string())?
        .report();
    let gov_local = start.elapsed().as_secs_f64();

    let rate = |n: f64, s: f64| n / s;
    println!(
        "### Department store: {rows} rows per workstation, {workstations} workstations, one run (log fill {filled:.1} s)\n"
    );
    println!("| measure | Overread | anchor | anchor | ratio |");
    println!("|---|---:|---:|---|---:|");
    println!(
        "| initial sync of {} rows (checked row by row in the database) | {initial:.1} s ({:.0} rows/s) | {copy:.1} s ({:.0} rows/s) | `\\copy` of the same rows, same key, no checks | {:.2}× |",
        first.sent,
        rate(first.sent as f64, initial),
        rate(rows as f64, copy),
        initial / copy
    );
    println!(
        "| {} more logs synced at once | {together:.1} s ({:.0} rows/s) | | | |",
        workstations - 1,
        rate((sent - first.sent) as f64, together)
    );
    println!(
        "| steady state, {workstations} workstations: decision → in the store, p50 / p99 | {:.1} / {:.1} ms | | | |",
        pct(0.5),
        pct(0.99)
    );
    println!(
        "| governance report over the store ({stored} decisions, HTML {} kB) | {gov:.1} s | {group_by:.1} s | one `GROUP BY` over the same rows | {:.2}× |",
        html.len() / 1024,
        gov / group_by
    );
    println!(
        "| governance report over one local log ({} decisions) | {gov_local:.1} s | | | |",
        local.models.iter().map(|m| m.decisions).sum::<u64>()
    );
    drop(pg);
    Ok(())
}
