//! `overread infer PATH... --model DIR`.

use std::path::{Path, PathBuf};

use clap::Args;
use overread_core::dicom::Limits;
use overread_core::infer::{Outcome, infer_file};
use overread_core::inference::{EpChoice, Finding, Model, ServedBy};
use overread_core::remote::Server;
use overread_core::site::GoLive;
use serde::Serialize;

#[derive(Args)]
pub struct InferArgs {
    /// DICOM files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Model folder (model.onnx + manifest.toml).
    #[arg(long)]
    model: PathBuf,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    /// Write each image's registered heatmap as a PNG here.
    #[arg(long)]
    heatmaps: Option<PathBuf>,
    /// Execution provider: auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    ep: String,
    /// Intra-op threads for the session.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// libonnxruntime to load (default: ORT_DYLIB_PATH, then beside the executable).
    #[arg(long)]
    runtime: Option<PathBuf>,
    /// Run on this inference server (Open Inference Protocol v2, e.g.
    /// http://inference:8000), on the device when it does not answer.
    #[arg(long)]
    server: Option<String>,
    /// The model's name on the server (default: the manifest's name).
    #[arg(long, requires = "server")]
    server_model: Option<String>,
    /// The model's version on the server (default: the server's choice).
    #[arg(long, requires = "server")]
    server_version: Option<String>,
    /// The audit log whose record of this site's use of the model applies
    /// (thresholds set here, go-live).
    #[arg(long)]
    db: Option<PathBuf>,
}

#[derive(Serialize)]
struct Ms {
    decode: f64,
    preprocess: f64,
    infer: f64,
    post: f64,
}

#[derive(Serialize)]
struct Line<'a> {
    path: &'a Path,
    sop_uid: Option<&'a str>,
    model: &'a str,
    model_version: &'a str,
    model_sha256: &'a str,
    /// false for demonstration models: not for clinical use.
    clinical: bool,
    /// Whether the model may flag here (`overread model accept`).
    go_live: GoLive,
    ep: &'a str,
    /// The inference server that answered, with its model name and version.
    served_by: Option<&'a ServedBy>,
    findings: &'a [Finding],
    heatmap: Option<&'a Path>,
    ms: Ms,
}

pub fn run(args: InferArgs) -> Result<(), String> {
    let ep = EpChoice::parse(&args.ep).map_err(|e| e.to_string())?;
    let mut model = match &args.server {
        None => Model::load(&args.model, args.runtime.as_deref(), ep, args.threads)
            .map_err(|e| e.to_string())?,
        Some(url) => {
            overread_core::remote::check_url(url)?;
            let server = Server {
                url: url.clone(),
                model: args.server_model.clone(),
                version: args.server_version.clone(),
            };
            overread_core::remote::load(
                &args.model,
                &server,
                args.runtime.as_deref(),
                ep,
                args.threads,
            )?
        }
    };
    if let Some(why) = &model.fallback {
        eprintln!("overread: {why}");
    }
    let db = args
        .db
        .clone()
        .unwrap_or_else(overread_core::audit::default_path);
    let state = overread_core::site::state_at(&db, &model.manifest.sha256)?;
    let clinical = model.manifest.clinical;
    let go_live = state.go_live(clinical);
    model.set_site_use(state.site_use(clinical));
    if go_live != GoLive::Validated {
        eprintln!("overread: {} {}", model.manifest.name, go_live.label());
    }
    let limits = Limits::default();
    let mut files = Vec::new();
    for p in &args.paths {
        let (found, _) = overread_core::library::plan(p, &limits).map_err(|e| e.to_string())?;
        files.extend(found);
    }
    for path in &files {
        let value = match infer_file(
            &mut model,
            path,
            args.heatmaps.as_deref(),
            &limits,
            overread_core::deadline::DECODE_DEADLINE,
        ) {
            Ok(Outcome::Inferred {
                sop_uid,
                inference,
                decode_ms,
                heatmap,
                ..
            }) => {
                let m = &model.manifest;
                let line = Line {
                    path,
                    sop_uid: sop_uid.as_deref(),
                    model: &m.name,
                    model_version: &m.version,
                    model_sha256: &m.sha256,
                    clinical: m.clinical,
                    go_live,
                    ep: &inference.execution_provider,
                    served_by: inference.served_by.as_ref(),
                    findings: &inference.findings,
                    heatmap: heatmap.as_deref(),
                    ms: Ms {
                        decode: decode_ms,
                        preprocess: inference.ms.preprocess,
                        infer: inference.ms.infer,
                        post: inference.ms.post,
                    },
                };
                if !args.json {
                    let flags: Vec<String> = inference
                        .findings
                        .iter()
                        .map(|f| {
                            format!(
                                "{} {:.2}{}",
                                f.label,
                                f.score,
                                if f.flagged { " FLAGGED" } else { "" }
                            )
                        })
                        .collect();
                    println!(
                        "{}  {}  [{} on {}]",
                        path.display(),
                        flags.join(", "),
                        m.name,
                        inference.execution_provider
                    );
                    continue;
                }
                serde_json::to_value(&line)
            }
            Ok(Outcome::Refused { reason }) => {
                if !args.json {
                    println!("{}  refused: {reason}", path.display());
                    continue;
                }
                Ok(serde_json::json!({ "path": path, "refused": reason }))
            }
            Err(e) => {
                if !args.json {
                    println!("{}  error: {e}", path.display());
                    continue;
                }
                Ok(serde_json::json!({ "path": path, "error": e.to_string() }))
            }
        };
        println!("{}", value.map_err(|e| e.to_string())?);
    }
    Ok(())
}
