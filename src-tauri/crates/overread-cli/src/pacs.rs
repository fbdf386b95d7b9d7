//! `overread pacs echo|query|retrieve`: the PACS client from a shell.

use clap::{Args, Subcommand};
use overread_core::api::{Availability, ReaderIdentity, Settings, SourceState};
use overread_core::pacs::{
    self, Cache, CancellationToken, Client, PacsConfig, Progress, StudyQuery, query,
};
use overread_core::workstation::Workstation;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct PacsArgs {
    /// The PACS configuration (TOML); default $OVERREAD_PACS_CONFIG.
    #[arg(long, global = true, env = "OVERREAD_PACS_CONFIG")]
    config: Option<PathBuf>,
    /// A source named in the configuration.
    #[arg(long, global = true)]
    source: Option<String>,
    #[command(subcommand)]
    command: PacsCommand,
}

#[derive(Subcommand)]
enum PacsCommand {
    /// Check that the source answers.
    Echo,
    /// Search for studies.
    Query {
        #[arg(long)]
        patient_id: Option<String>,
        /// Wildcards * and ? allowed.
        #[arg(long)]
        patient_name: Option<String>,
        /// YYYYMMDD, a range YYYYMMDD-YYYYMMDD, or "today".
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        accession: Option<String>,
        /// e.g. --modality CR --modality DX
        #[arg(long = "modality")]
        modalities: Vec<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        offset: Option<u32>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// The series of a study (DICOMweb).
    Series {
        study: String,
        #[arg(long)]
        json: bool,
    },
    /// A study's metadata as DICOM JSON, one instance per line (DICOMweb).
    Metadata { study: String },
    /// Send Part-10 files to the PACS with STOW-RS (DICOMweb).
    Store {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The worklist from every source, headless: query each source's
    /// worklist studies, retrieve them, triage those that arrived complete,
    /// and print the worklist (exit 1 when a source is offline or a study
    /// is partial).
    Worklist {
        /// The AI model folder (model.onnx and manifest.toml).
        #[arg(long)]
        model: PathBuf,
        /// The audit log (SQLite) that records retrievals and AI runs.
        #[arg(long)]
        audit: PathBuf,
        /// Reader id written into the audit log.
        #[arg(long, default_value = "cli")]
        reader: String,
        /// The whole worklist as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Retrieve studies into the local cache (resumes where a failed retrieve stopped).
    Retrieve {
        /// Study Instance UIDs.
        #[arg(required = true)]
        studies: Vec<String>,
        /// Cache folder; default from the configuration, else ~/.cache/overread/pacs.
        #[arg(long)]
        cache: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn default_cache() -> PathBuf {
    overread_core::paths::cache_dir().join("pacs")
}

/// Runs a `pacs` command; `Ok(code)` is the exit status.
pub fn run(args: PacsArgs) -> Result<u8, String> {
    let path = args
        .config
        .ok_or("no PACS configuration: pass --config FILE or set OVERREAD_PACS_CONFIG")?;
    let config = PacsConfig::load(&path).map_err(|e| e.to_string())?;
    for warning in config.warnings() {
        eprintln!("overread: warning: {warning}");
    }
    if let PacsCommand::Worklist {
        model,
        audit,
        reader,
        json,
    } = args.command
    {
        return worklist(&path, &model, &audit, &reader, json);
    }
    let name = match args.source {
        Some(n) => n,
        None if config.sources.len() == 1 => config.sources[0].name.clone(),
        None => return Err("several sources are configured: pass --source NAME".into()),
    };
    let source = config.source(&name).map_err(|e| e.to_string())?;
    let client = Client::new(source).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))?;
    let cancel = CancellationToken::new();
    let mut out = std::io::stdout().lock();
    match args.command {
        PacsCommand::Echo => {
            let started = std::time::Instant::now();
            runtime
                .block_on(client.echo(&cancel))
                .map_err(|e| e.to_string())?;
            let _ = writeln!(
                out,
                "{name}: answered in {} ms",
                started.elapsed().as_millis()
            );
            Ok(0)
        }
        PacsCommand::Query {
            patient_id,
            patient_name,
            date,
            accession,
            modalities,
            limit,
            offset,
            json,
        } => {
            let q = StudyQuery {
                patient_id,
                patient_name,
                study_date: date.map(|d| if d == "today" { query::today() } else { d }),
                accession_number: accession,
                modalities,
                limit,
                offset,
                ..StudyQuery::default()
            };
            let studies = runtime
                .block_on(client.search_studies(&q, &cancel))
                .map_err(|e| e.to_string())?;
            for s in &studies {
                if json {
                    let _ = writeln!(out, "{}", serde_json::to_string(s).unwrap_or_default());
                } else {
                    let _ = writeln!(
                        out,
                        "{:<10} {:<8} {:<16} {:<24} {}",
                        s.study_date.as_deref().unwrap_or("-"),
                        s.modalities.join(","),
                        s.accession_number.as_deref().unwrap_or("-"),
                        s.patient_id.as_deref().unwrap_or("-"),
                        s.study_uid
                    );
                }
            }
            Ok(0)
        }
        // Handled above: it needs every source, not one client.
        PacsCommand::Worklist { .. } => Ok(0),
        PacsCommand::Series { study, json } => {
            let web = web_only(&client, &name)?;
            let series = runtime
                .block_on(web.search_series(&study, &cancel))
                .map_err(|e| e.to_string())?;
            for s in &series {
                if json {
                    let _ = writeln!(out, "{}", serde_json::to_string(s).unwrap_or_default());
                } else {
                    let _ = writeln!(
                        out,
                        "{:<4} {:<6} {:>5} {}",
                        s.modality.as_deref().unwrap_or("-"),
                        s.series_number.as_deref().unwrap_or("-"),
                        s.instances.map(|n| n.to_string()).unwrap_or_default(),
                        s.series_uid
                    );
                }
            }
            Ok(0)
        }
        PacsCommand::Metadata { study } => {
            let web = web_only(&client, &name)?;
            let items = runtime
                .block_on(web.retrieve_metadata(&study, &cancel))
                .map_err(|e| e.to_string())?;
            for item in &items {
                let _ = writeln!(out, "{item}");
            }
            Ok(0)
        }
        PacsCommand::Store { files } => {
            let web = web_only(&client, &name)?;
            let outcome = runtime
                .block_on(web.store(&files))
                .map_err(|e| e.to_string())?;
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string(&outcome).unwrap_or_default()
            );
            Ok(u8::from(
                !outcome.failed.is_empty() || outcome.stored.len() < files.len(),
            ))
        }
        PacsCommand::Retrieve {
            studies,
            cache,
            json,
        } => {
            let dir = cache
                .or(config.cache.dir.clone())
                .unwrap_or_else(default_cache);
            let limits = overread_core::pacs::StudyLimits::from_config(
                &config.cache,
                vec![overread_core::audit::default_path()],
            );
            let cache = Cache::open(&dir, config.cache.max_bytes)
                .map_err(|e| e.to_string())?
                .with_limits(limits);
            let mut code = 0;
            for study in &studies {
                let mut last = Progress::default();
                let mut report = |p: &Progress| {
                    if !json {
                        eprint!("\r{study}: {}/{} instances", p.done, p.total);
                    }
                    last = p.clone();
                };
                let result = runtime.block_on(pacs::retrieve_study(
                    &client,
                    &name,
                    study,
                    &cache,
                    &cancel,
                    &mut report,
                ));
                if !json {
                    eprintln!();
                }
                let line = match &result {
                    Ok(rec) => serde_json::json!({
                        "study_uid": study,
                        "complete": rec.is_complete(),
                        "instances": rec.instances.len(),
                        "expected": rec.expected.len(),
                        "fetched": last.fetched,
                        "reused": last.reused,
                        "bytes": rec.bytes(),
                        "files": cache.instance_paths(rec),
                        "problems": rec.problems,
                    }),
                    Err(e) => serde_json::json!({
                        "study_uid": study,
                        "complete": false,
                        // What the cache holds for it now.
                        "instances": cache.study(study).ok().flatten().map_or(0, |r| r.instances.len()),
                        "expected": last.total,
                        "fetched": last.fetched,
                        "error": e.to_string(),
                        "code": e.code(),
                    }),
                };
                if !matches!(&result, Ok(r) if r.is_complete()) {
                    code = 1;
                }
                if json {
                    let _ = writeln!(out, "{line}");
                } else {
                    match &result {
                        Ok(r) if r.is_complete() => {
                            let _ =
                                writeln!(out, "{study}: complete, {} instances", r.instances.len());
                        }
                        Ok(r) => {
                            // The first refusal says why (all are in --json).
                            let why = r
                                .problems
                                .iter()
                                .next()
                                .map(|(sop, why)| format!(" ({sop}: {why})"))
                                .unwrap_or_default();
                            let _ = writeln!(
                                out,
                                "{study}: partial, {} of {} instances{why}",
                                r.instances.len(),
                                r.expected.len()
                            );
                        }
                        Err(e) => {
                            let _ = writeln!(out, "{study}: {e}");
                        }
                    }
                }
            }
            Ok(code)
        }
    }
}

fn web_only<'a>(client: &'a Client, name: &str) -> Result<&'a pacs::DicomWebClient, String> {
    client
        .dicomweb()
        .ok_or_else(|| format!("{name}: this needs a DICOMweb source"))
}

/// A unit enum's name as the JSON output spells it ("no_flags").
fn wire_name(v: &impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `overread pacs worklist`: the app's PACS worklist, over the same core.
fn worklist(
    config: &Path,
    model: &Path,
    audit: &Path,
    reader: &str,
    json: bool,
) -> Result<u8, String> {
    let absolute = |p: &Path| std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()));
    let settings = Settings {
        sources: Vec::new(),
        model_dir: absolute(model)?.display().to_string(),
        execution_provider: "auto".into(),
        inference_server: None,
        reader: ReaderIdentity {
            id: reader.into(),
            display_name: reader.into(),
            role: "radiologist".into(),
        },
        read_first: false,
        max_wait_minutes: 120,
        pacs_config: Some(absolute(config)?.display().to_string()),
        results_folder: None,
        viewing: Default::default(),
        department_store: None,
        audit_log: None,
    };
    let ws = Workstation::open(settings, audit, None).map_err(|e| e.to_string())?;
    let quiet = json || !std::io::stderr().is_terminal();
    if !quiet {
        ws.set_listener(std::sync::Arc::new(|change| {
            for s in change.sources.iter().flatten() {
                if s.instances_total > 0 {
                    eprint!(
                        "\r{}: {}/{} instances",
                        s.name, s.instances_done, s.instances_total
                    );
                }
            }
        }));
    }
    ws.sync_pacs();
    ws.run_triage(overread_core::triage::default_jobs());
    let list = ws.worklist();
    ws.close();
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string(&list).unwrap_or_default());
    } else {
        if !quiet {
            eprintln!();
        }
        for s in &list.sources {
            let _ = writeln!(
                out,
                "{} ({}): {}, {} studies, {} complete{}",
                s.name,
                s.kind,
                wire_name(&s.state),
                s.studies,
                s.complete,
                s.message
                    .as_deref()
                    .map(|m| format!(" - {m}"))
                    .unwrap_or_default()
            );
        }
        for r in &list.rows {
            let _ = writeln!(
                out,
                "{:<10} {:<4} {:<16} {:<24} {:<10} {}",
                r.study_date,
                r.modality,
                r.accession,
                r.patient_name,
                wire_name(&r.ai),
                r.top_finding.as_deref().unwrap_or("")
            );
        }
    }
    let offline = list.sources.iter().any(|s| s.state == SourceState::Offline);
    let partial = list
        .rows
        .iter()
        .any(|r| r.availability == Availability::Partial);
    Ok(u8::from(offline || partial))
}
