//! `overread governance report`: the governance group's report over the
//! department store or this workstation's log.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use overread_core::audit;
use overread_core::governance::{self, Options, Window};

use crate::audit::Db;

#[derive(Args)]
pub struct GovernanceArgs {
    #[command(subcommand)]
    command: GovernanceCommand,
}

#[derive(Subcommand)]
enum GovernanceCommand {
    /// Write one self-contained HTML report (no network needed to open it)
    /// and, with --csv, the registry CSV (de-identified).
    Report(Box<ReportArgs>),
}

#[derive(Args)]
struct ReportArgs {
    /// First day of the period (YYYY-MM-DD, UTC).
    #[arg(long)]
    from: String,
    /// Last day of the period (YYYY-MM-DD, UTC).
    #[arg(long)]
    to: String,
    /// The HTML report.
    #[arg(short, long)]
    output: PathBuf,
    /// Also write the decisions as a CSV for national AI registries.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// First day of the drift baseline (default: the window of the same
    /// length just before the period).
    #[arg(long, requires = "baseline_to")]
    baseline_from: Option<String>,
    #[arg(long, requires = "baseline_from")]
    baseline_to: Option<String>,
    /// Population stability index at which a shift is an alert.
    #[arg(long, default_value_t = 0.2)]
    psi_alert: f64,
    /// The department store (libpq connection string or postgresql:// URL;
    /// password from OVERREAD_STORE_PASSWORD or OVERREAD_STORE_PASSWORD_FILE).
    /// Without it, this workstation's log.
    #[arg(long, env = "OVERREAD_STORE")]
    store: Option<String>,
    #[command(flatten)]
    db: Db,
    /// Print the report as JSON on stdout as well.
    #[arg(long)]
    json: bool,
}

pub fn run(args: GovernanceArgs) -> Result<u8, String> {
    let GovernanceCommand::Report(a) = args.command;
    let period = Window::new(&a.from, &a.to).map_err(|e| e.to_string())?;
    let baseline = match (&a.baseline_from, &a.baseline_to) {
        (Some(f), Some(t)) => Some(Window::new(f, t).map_err(|e| e.to_string())?),
        _ => None,
    };
    if !(a.psi_alert.is_finite() && a.psi_alert > 0.0) {
        return Err(format!(
            "--psi-alert {} must be a positive number",
            a.psi_alert
        ));
    }
    let mut options = Options::new(period, baseline);
    options.psi_alert = a.psi_alert;
    let collected = match &a.store {
        Some(conninfo) => governance::from_store(conninfo, options).map_err(|e| e.to_string())?,
        None => {
            let mut log = a.db.open()?;
            let collected = governance::from_log(&log, options).map_err(|e| e.to_string())?;
            audit::record_use(&mut log, None, "governance report").map_err(|e| e.to_string())?;
            collected
        }
    };
    let report = collected.report();
    let html = governance::html::render(&report);
    governance::write_private(&a.output, |out| out.write_all(html.as_bytes()))
        .map_err(|e| e.to_string())?;
    let mut registry_rows = None;
    if let Some(csv) = &a.csv {
        governance::write_private(csv, |out| {
            registry_rows = Some(collected.write_registry(out)?);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| e.to_string())?
        );
    }
    eprintln!(
        "{}: {} model version{}, {} rows read, {} drift alert{}, {} chain alert{}{}",
        a.output.display(),
        report.models.len(),
        if report.models.len() == 1 { "" } else { "s" },
        report.rows,
        report.drift_alerts.len(),
        if report.drift_alerts.len() == 1 {
            ""
        } else {
            "s"
        },
        report.chain_alerts.len(),
        if report.chain_alerts.len() == 1 {
            ""
        } else {
            "s"
        },
        registry_rows.map_or(String::new(), |n| format!("; {n} registry rows")),
    );
    Ok(0)
}
