//! `overread model accept | threshold | retire | status`: this site's use
//! of a model, each change recorded in the audit log.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use overread_core::audit_log::Reader;
use overread_core::site::{self, Applied, By, SiteState};

/// Who accepts: a named reader whose role may accept a validation.
#[derive(Args)]
pub struct Accepter {
    #[arg(long)]
    reader_id: String,
    #[arg(long)]
    reader_name: Option<String>,
    /// radiologist, clinical lead or clinical safety officer.
    #[arg(long)]
    reader_role: String,
}

impl Accepter {
    fn reader(self) -> Reader {
        Reader {
            display_name: self.reader_name.unwrap_or_else(|| self.reader_id.clone()),
            id: self.reader_id,
            role: self.reader_role,
        }
    }
}

#[derive(Subcommand)]
pub enum SiteCommand {
    /// Accept a validation report (`overread model validate`) for the model
    /// in DIR: a clinical model flags studies here only once one is accepted.
    Accept {
        dir: PathBuf,
        #[arg(long)]
        report: PathBuf,
        #[arg(long)]
        db: Option<PathBuf>,
        #[command(flatten)]
        by: Accepter,
    },
    /// Set this site's threshold for one label, resting on a validation report.
    Threshold {
        dir: PathBuf,
        #[arg(long)]
        label: String,
        #[arg(long)]
        value: f32,
        #[arg(long)]
        report: PathBuf,
        #[arg(long)]
        db: Option<PathBuf>,
        #[command(flatten)]
        by: Accepter,
    },
    /// Withdraw the model from use here: it flags nothing from then on.
    Retire {
        dir: PathBuf,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        db: Option<PathBuf>,
        #[command(flatten)]
        by: Accepter,
    },
    /// This site's use of the model: go-live, thresholds, who and when.
    Status {
        dir: PathBuf,
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn change(
    db: Option<PathBuf>,
    by: Accepter,
    f: impl FnOnce(By) -> Result<Applied, String>,
) -> Result<SiteState, String> {
    let db = db.unwrap_or_else(overread_core::audit::default_path);
    let mut log = overread_core::audit::open(&db).map_err(|e| e.to_string())?;
    let ws = overread_core::audit::workstation_id();
    let applied = f(By {
        log: &mut log,
        reader: by.reader(),
        workstation_id: &ws,
    })?;
    match &applied.overlay {
        Ok(path) => eprintln!("recorded in {}; wrote {}", db.display(), path.display()),
        Err(why) => eprintln!("recorded in {}; {why}", db.display()),
    }
    Ok(applied.state)
}

fn print(dir: &Path, state: &SiteState, json: bool) -> Result<(), String> {
    let (manifest, _) = overread_core::inference::read_model(dir).map_err(|e| e.to_string())?;
    let go_live = state.go_live(manifest.clinical);
    if json {
        let mut v = serde_json::to_value(state).map_err(|e| e.to_string())?;
        v["go_live"] = serde_json::to_value(go_live).map_err(|e| e.to_string())?;
        println!("{v}");
        return Ok(());
    }
    println!(
        "{} {}: {}",
        manifest.name,
        manifest.version,
        go_live.label()
    );
    if let Some(a) = &state.accepted {
        println!(
            "accepted report {} by {} ({}) at {}",
            a.report_sha256, a.by.reader_name, a.by.role, a.by.at
        );
    }
    for label in &manifest.output.scores.labels {
        match state.thresholds.iter().find(|t| &t.label == label) {
            Some(t) => println!(
                "{label}: threshold {} set here (was {}) by {} at {}, on report {}",
                t.value, t.previous, t.by.reader_name, t.by.at, t.report_sha256
            ),
            None => println!(
                "{label}: threshold {} from the manifest",
                manifest.thresholds.get(label).copied().unwrap_or(0.5)
            ),
        }
    }
    if let Some(r) = &state.retired {
        println!("retired by {} at {}", r.reader_name, r.at);
    }
    Ok(())
}

pub fn run(command: SiteCommand) -> Result<(), String> {
    match command {
        SiteCommand::Accept {
            dir,
            report,
            db,
            by,
        } => {
            let state = change(db, by, |by| site::accept(&dir, &report, by))?;
            print(&dir, &state, false)
        }
        SiteCommand::Threshold {
            dir,
            label,
            value,
            report,
            db,
            by,
        } => {
            let state = change(db, by, |by| {
                site::set_threshold(&dir, &label, value, &report, by)
            })?;
            print(&dir, &state, false)
        }
        SiteCommand::Retire {
            dir,
            reason,
            db,
            by,
        } => {
            let state = change(db, by, |by| site::retire(&dir, &reason, by))?;
            print(&dir, &state, false)
        }
        SiteCommand::Status { dir, db, json } => {
            let (manifest, _) =
                overread_core::inference::read_model(&dir).map_err(|e| e.to_string())?;
            let db = db.unwrap_or_else(overread_core::audit::default_path);
            let state = site::state_at(&db, &manifest.sha256)?;
            print(&dir, &state, json)
        }
    }
}
