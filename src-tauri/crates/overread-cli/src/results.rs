//! `overread results`: a study's signed-off results from a shell, over the
//! same core as the app. The worklist is built as the app builds it (the
//! study folders, the PACS configuration), triaged with the model, then:
//! `sign-off` signs a study off with the decisions already in the audit log;
//! `write` makes its latest sign-off's SR, Parametric Maps and GSPS again as
//! files; `send` stores them on a source; `earlier` reads back the
//! assessments already stored for it.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use overread_core::api::{ReaderIdentity, Settings, StudyId};
use overread_core::workstation::Workstation;

#[derive(Args)]
pub struct ResultsArgs {
    /// Study folders (or DICOMDIRs), as Settings' sources.
    #[arg(long = "studies", global = true)]
    studies: Vec<PathBuf>,
    /// The PACS configuration (TOML); default $OVERREAD_PACS_CONFIG.
    #[arg(long, global = true, env = "OVERREAD_PACS_CONFIG")]
    config: Option<PathBuf>,
    /// The AI model folder the study was (or is) triaged with.
    #[arg(long, global = true)]
    model: Option<PathBuf>,
    /// The audit log (SQLite) holding the decisions and sign-offs.
    #[arg(long, global = true)]
    audit: Option<PathBuf>,
    /// Reader id for what this run records.
    #[arg(long, global = true, default_value = "cli")]
    reader: String,
    /// Where local studies' results go (default: beside the audit log).
    #[arg(long, global = true)]
    results_folder: Option<PathBuf>,
    #[command(subcommand)]
    command: ResultsCommand,
}

#[derive(Subcommand)]
enum ResultsCommand {
    /// Sign a study off with the decisions in the audit log (every flagged
    /// finding must have one); its results are queued and sent.
    SignOff { study: String },
    /// Write the latest sign-off's objects (SR, Parametric Maps, GSPS) as files.
    Write {
        study: String,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Store the latest sign-off's objects on a source now ("local": the
    /// results folder).
    Send {
        study: String,
        #[arg(long)]
        source: String,
    },
    /// The assessments already stored for a study (its PACS, or the results folder).
    Earlier {
        study: String,
        #[arg(long)]
        json: bool,
    },
}

fn absolute(p: &Path) -> Result<String, String> {
    std::path::absolute(p)
        .map(|p| p.display().to_string())
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// The headless workstation: sources scanned, PACS synced, triaged when the
/// command needs AI results.
fn open(args: &ResultsArgs, triage: bool) -> Result<Workstation, String> {
    let model = args
        .model
        .as_deref()
        .ok_or("--model is needed (the model the study is triaged with)")?;
    let audit = args.audit.as_deref().ok_or("--audit is needed")?;
    let settings = Settings {
        sources: args
            .studies
            .iter()
            .map(|p| absolute(p))
            .collect::<Result<_, _>>()?,
        model_dir: absolute(model)?,
        execution_provider: "auto".into(),
        inference_server: None,
        reader: ReaderIdentity {
            id: args.reader.clone(),
            display_name: args.reader.clone(),
            role: "radiologist".into(),
        },
        read_first: false,
        max_wait_minutes: 120,
        pacs_config: args.config.as_deref().map(absolute).transpose()?,
        results_folder: args.results_folder.as_deref().map(absolute).transpose()?,
        viewing: Default::default(),
        department_store: None,
        audit_log: None,
    };
    let ws = Workstation::open(settings, audit, None).map_err(|e| e.to_string())?;
    ws.sync_pacs();
    if triage {
        ws.run_triage(overread_core::triage::default_jobs());
    }
    Ok(ws)
}

fn find(ws: &Workstation, study: &str) -> Result<StudyId, String> {
    ws.find_study(study)
        .ok_or_else(|| format!("study {study} is not in the given folders or on the PACS worklist"))
}

/// Runs a `results` command; `Ok(code)` is the exit status.
pub fn run(args: ResultsArgs) -> Result<u8, String> {
    let triage = !matches!(args.command, ResultsCommand::Earlier { .. });
    let ws = open(&args, triage)?;
    let mut out = std::io::stdout().lock();
    let result = match &args.command {
        ResultsCommand::SignOff { study } => {
            let id = find(&ws, study)?;
            let view = ws.sign_off(id).map_err(|e| e.to_string())?;
            ws.send_results();
            let state = ws
                .worklist()
                .rows
                .into_iter()
                .find(|r| r.id == id)
                .map(|r| r.results)
                .unwrap_or(view);
            let _ = writeln!(out, "{}", serde_json::to_string(&state).unwrap_or_default());
            Ok(0)
        }
        ResultsCommand::Write { study, output } => {
            let id = find(&ws, study)?;
            let (_, objects) = ws.signed_off_objects(id).map_err(|e| e.to_string())?;
            std::fs::create_dir_all(output).map_err(|e| format!("{}: {e}", output.display()))?;
            for o in objects {
                let path = output.join(format!("{}.dcm", o.kind.name()));
                std::fs::write(&path, &o.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                let _ = writeln!(out, "{}", path.display());
            }
            Ok(0)
        }
        ResultsCommand::Send { study, source } => {
            let id = find(&ws, study)?;
            ws.send_signed_off(id, source).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "stored on {source}");
            Ok(0)
        }
        ResultsCommand::Earlier { study, json } => {
            let id = find(&ws, study)?;
            let earlier = ws.earlier_assessments(id).map_err(|e| e.to_string())?;
            if *json {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&earlier).unwrap_or_default()
                );
            } else {
                for a in &earlier {
                    let _ = writeln!(out, "{} {} ({})", a.verified_at, a.reader, a.workstation);
                    for f in &a.findings {
                        let _ = writeln!(
                            out,
                            "  {:<20} {:<14} {}{}",
                            f.label,
                            f.assessment,
                            f.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
                            f.reason
                                .as_deref()
                                .map(|r| format!(" ({r})"))
                                .unwrap_or_default()
                        );
                    }
                }
            }
            Ok(0)
        }
    };
    ws.close();
    result
}
