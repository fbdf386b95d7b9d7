//! `overread audit …`: record, verify, export, stats.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use overread_core::audit;
use overread_core::audit_log::{
    AuditLog, Date, Decision, DecisionEvent, ExportOptions, ModelRef, Reader, Region, StudyRef,
    Verification, parse_date,
};

/// Exit code of `audit verify` when the chain is broken.
pub const EXIT_BROKEN: u8 = 3;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Append a decision (the same validation as the app).
    Record(Box<RecordArgs>),
    /// Walk the hash chain: exit 0 when intact, 3 with the first broken row.
    Verify {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        json: bool,
    },
    /// Export rows to CSV (RFC 4180), plain or de-identified.
    Export {
        #[command(flatten)]
        db: Db,
        #[arg(short, long)]
        output: PathBuf,
        /// First day (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: Option<String>,
        /// Last day (YYYY-MM-DD, UTC).
        #[arg(long)]
        to: Option<String>,
        /// DICOM PS3.15 Annex E basic profile: identifiers removed or pseudonymised, dates shifted.
        #[arg(long)]
        deidentify: bool,
        /// Start with a UTF-8 byte order mark for spreadsheet programs.
        #[arg(long)]
        excel: bool,
        #[command(flatten)]
        who: OptionalReader,
    },
    /// Accept a log that no longer extends its anchored head (restored from
    /// a backup, say) after finding out why; records who, the expected and
    /// found heads, and the reason.
    Acknowledge {
        #[command(flatten)]
        db: Db,
        /// Why the head changed (recorded).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        by: Admin,
    },
    /// Send the rows the department store does not hold yet (PostgreSQL;
    /// password from OVERREAD_STORE_PASSWORD or OVERREAD_STORE_PASSWORD_FILE).
    /// Exit 0 when the store holds the whole log, 3 when it refused a row.
    Sync {
        #[command(flatten)]
        db: Db,
        /// libpq connection string or postgresql:// URL.
        #[arg(long, env = "OVERREAD_STORE")]
        store: String,
        #[arg(long)]
        json: bool,
    },
    /// Agreement statistics per finding and per reader.
    Stats {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct Db {
    /// The audit log (default: $OVERREAD_AUDIT_DB or ~/.local/share/overread/audit.sqlite3).
    #[arg(long)]
    db: Option<PathBuf>,
}

impl Db {
    pub(crate) fn path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(audit::default_path)
    }

    pub(crate) fn open(&self) -> Result<AuditLog, String> {
        audit::open(&self.path()).map_err(|e| e.to_string())
    }
}

/// Who runs an administrative command (recorded with its event).
#[derive(Args)]
pub struct Admin {
    #[arg(long)]
    reader_id: String,
    #[arg(long)]
    reader_name: Option<String>,
    #[arg(long, default_value = "administrator")]
    reader_role: String,
}

impl Admin {
    pub fn reader(self) -> Reader {
        Reader {
            display_name: self.reader_name.unwrap_or_else(|| self.reader_id.clone()),
            id: self.reader_id,
            role: self.reader_role,
        }
    }
}

#[derive(Args)]
pub struct OptionalReader {
    /// Who runs the command (recorded with the event).
    #[arg(long)]
    reader_id: Option<String>,
    #[arg(long, requires = "reader_id")]
    reader_name: Option<String>,
    #[arg(long, requires = "reader_id")]
    reader_role: Option<String>,
}

impl OptionalReader {
    fn reader(&self) -> Option<Reader> {
        let id = self.reader_id.clone()?;
        Some(Reader {
            display_name: self.reader_name.clone().unwrap_or_else(|| id.clone()),
            role: self
                .reader_role
                .clone()
                .unwrap_or_else(|| "unspecified".into()),
            id,
        })
    }
}

#[derive(Args)]
pub struct RecordArgs {
    #[command(flatten)]
    db: Db,
    #[arg(long)]
    reader_id: String,
    #[arg(long)]
    reader_name: String,
    #[arg(long)]
    reader_role: String,
    /// Default: $OVERREAD_WORKSTATION or the host name.
    #[arg(long)]
    workstation: Option<String>,
    #[arg(long)]
    patient_id: String,
    #[arg(long, default_value = "")]
    accession: String,
    #[arg(long)]
    study_uid: String,
    #[arg(long)]
    series_uid: String,
    #[arg(long)]
    sop_uid: String,
    #[arg(long, requires_all = ["model_version", "model_sha256"])]
    model_name: Option<String>,
    #[arg(long)]
    model_version: Option<String>,
    #[arg(long)]
    model_sha256: Option<String>,
    /// Execution provider that ran the model (cpu, cuda, …).
    #[arg(long)]
    ep: Option<String>,
    #[arg(long)]
    finding: String,
    #[arg(long)]
    score: Option<f64>,
    #[arg(long)]
    threshold: Option<f64>,
    /// The AI flagged this finding.
    #[arg(long)]
    flagged: bool,
    /// confirm, dismiss or add-missed.
    #[arg(long)]
    decision: String,
    /// x,y,width,height in image pixels (for add-missed).
    #[arg(long)]
    region: Option<String>,
    #[arg(long)]
    reason: Option<String>,
    /// Milliseconds from display to decision.
    #[arg(long)]
    ms: Option<u64>,
    /// The decision row this one corrects.
    #[arg(long)]
    supersedes: Option<u64>,
}

impl RecordArgs {
    fn event(&self) -> Result<DecisionEvent, String> {
        let model = match (&self.model_name, &self.model_version, &self.model_sha256) {
            (Some(name), Some(version), Some(sha256)) => Some(ModelRef {
                name: name.clone(),
                version: version.clone(),
                sha256: sha256.clone(),
            }),
            _ => None,
        };
        Ok(DecisionEvent {
            reader: Reader {
                id: self.reader_id.clone(),
                display_name: self.reader_name.clone(),
                role: self.reader_role.clone(),
            },
            workstation_id: self
                .workstation
                .clone()
                .unwrap_or_else(audit::workstation_id),
            study: StudyRef {
                patient_id: self.patient_id.clone(),
                accession_number: self.accession.clone(),
                study_uid: self.study_uid.clone(),
                series_uid: self.series_uid.clone(),
                sop_uid: self.sop_uid.clone(),
            },
            model,
            execution_provider: self.ep.clone(),
            finding: self.finding.clone(),
            ai_score: self.score,
            threshold: self.threshold,
            ai_flagged: self.flagged,
            decision: Decision::parse(&self.decision).map_err(|e| e.to_string())?,
            region: self
                .region
                .as_deref()
                .map(Region::parse)
                .transpose()
                .map_err(|e| e.to_string())?,
            reason: self.reason.clone(),
            display_to_decision_ms: self.ms,
            supersedes: self.supersedes,
        })
    }
}

fn date(s: &Option<String>) -> Result<Option<Date>, String> {
    s.as_deref()
        .map(parse_date)
        .transpose()
        .map_err(|e| e.to_string())
}

/// Runs an audit command; `Ok(code)` is the exit code.
pub fn run(command: AuditCommand) -> Result<u8, String> {
    match command {
        AuditCommand::Record(args) => {
            let event = args.event()?;
            let mut log = args.db.open()?;
            let recorded = log.record_decision(&event).map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string(&recorded).map_err(|e| e.to_string())?
            );
            Ok(0)
        }
        AuditCommand::Sync { db, store, json } => sync(&db, &store, json),
        AuditCommand::Acknowledge { db, reason, by } => {
            let log = audit::open_acknowledging(&db.path(), by.reader(), &reason)
                .map_err(|e| e.to_string())?;
            let (rows, head) = log.head().map_err(|e| e.to_string())?;
            println!("acknowledged: {rows} rows, chain head {head} (recorded)");
            Ok(0)
        }
        AuditCommand::Verify { db, json } => {
            let mut log = db.open()?;
            let result = log.verify().map_err(|e| e.to_string())?;
            audit::record_use(&mut log, None, "verify").map_err(|e| e.to_string())?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&result).map_err(|e| e.to_string())?
                );
            }
            match result {
                Verification::Ok { rows, head_hash } => {
                    if !json {
                        println!("ok: {rows} rows, chain head {head_hash}");
                    }
                    Ok(0)
                }
                Verification::Broken { seq, reason, .. } => {
                    eprintln!("overread: audit chain broken at row {seq}: {reason}");
                    Ok(EXIT_BROKEN)
                }
            }
        }
        AuditCommand::Export {
            db,
            output,
            from,
            to,
            deidentify,
            excel,
            who,
        } => {
            let mut log = db.open()?;
            let options = ExportOptions {
                from: date(&from)?,
                to: date(&to)?,
                deidentify,
                excel,
                exported_by: who.reader(),
                workstation_id: audit::workstation_id(),
            };
            let summary = log
                .export_csv(&output, &options)
                .map_err(|e| e.to_string())?;
            println!(
                "exported {} rows to {}{}; chain head {} (row {})",
                summary.rows,
                output.display(),
                if deidentify { " (de-identified)" } else { "" },
                summary.head_hash,
                summary.head_seq
            );
            Ok(0)
        }
        AuditCommand::Stats { db, from, to, json } => {
            let mut log = db.open()?;
            let stats = log
                .stats(date(&from)?, date(&to)?)
                .map_err(|e| e.to_string())?;
            audit::record_use(&mut log, None, "stats").map_err(|e| e.to_string())?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&stats).map_err(|e| e.to_string())?
                );
                return Ok(0);
            }
            println!("{} decisions", stats.decisions);
            for (title, table) in [
                ("finding", &stats.per_finding),
                ("reader", &stats.per_reader),
            ] {
                println!(
                    "\n{title:<20} {:>7} {:>9} {:>9} {:>7} {:>6} {:>12}",
                    "flags", "confirmed", "dismissed", "missed", "PPV", "median ms"
                );
                for (key, a) in table.iter() {
                    let ppv = a
                        .ppv
                        .map(|p| format!("{p:.2}"))
                        .unwrap_or_else(|| "-".into());
                    let ms = a
                        .median_ms_to_decision
                        .map(|m| format!("{m:.0}"))
                        .unwrap_or_else(|| "-".into());
                    println!(
                        "{key:<20} {:>7} {:>9} {:>9} {:>7} {ppv:>6} {ms:>12}",
                        a.flags_shown, a.confirmed, a.dismissed, a.missed_added
                    );
                }
            }
            Ok(0)
        }
    }
}

/// `audit sync`: the log's new rows into the department store.
fn sync(db: &Db, store: &str, json: bool) -> Result<u8, String> {
    let log = db.open()?;
    let (local_head, _) = log.head().map_err(|e| e.to_string())?;
    let mut read = |from: i64, n: usize| log.rows(from, n as i64).map_err(|e| e.to_string());
    let report =
        overread_core::department::sync(store, &audit::workstation_id(), local_head, &mut read)
            .map_err(|e| e.to_string())?;
    if json {
        let out = serde_json::json!({
            "sent": report.sent,
            "store_head": report.store_head,
            "local_head": report.local_head,
            "refused": report.refused.as_ref().map(|(seq, reason)| serde_json::json!({"seq": seq, "reason": reason})),
            "alerts": report.alerts.iter().map(|a| serde_json::json!({
                "workstation": a.workstation, "seq": a.seq, "reason": a.reason, "received_at": a.received_at,
            })).collect::<Vec<_>>(),
        });
        println!("{out}");
    } else {
        println!(
            "sent {} rows; the store holds rows 1–{} of {} here",
            report.sent, report.store_head, report.local_head
        );
        for a in &report.alerts {
            println!(
                "alert: {} row {}: {} ({})",
                a.workstation, a.seq, a.reason, a.received_at
            );
        }
    }
    match &report.refused {
        Some((seq, reason)) => {
            eprintln!("overread: the department store refused row {seq}: {reason}");
            Ok(EXIT_BROKEN)
        }
        None => Ok(0),
    }
}
