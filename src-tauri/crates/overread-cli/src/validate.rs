//! `overread model validate --model DIR --truth TRUTH.csv STUDIES...`: a
//! model checked on this site's own studies, as an HTML and a JSON report.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use overread_core::dicom::Limits;
use overread_core::inference::{EpChoice, Model};
use overread_core::validation::{self, Options, TruthSource, stats::Bootstrap};

/// The largest truth file read (a million rows is about 80 MB).
const MAX_TRUTH_BYTES: u64 = 128 << 20;

#[derive(Args)]
pub struct ValidateArgs {
    /// DICOM files or folders: this site's studies.
    #[arg(required = true)]
    studies: Vec<PathBuf>,
    /// Model folder (model.onnx + manifest.toml).
    #[arg(long)]
    model: PathBuf,
    /// CSV of `study or SOP instance UID,label,0|1` (`overread demo truth`
    /// writes the phantoms' one).
    #[arg(long)]
    truth: PathBuf,
    /// The HTML report.
    #[arg(short, long)]
    output: PathBuf,
    /// The JSON report (default: the HTML's path with .json).
    #[arg(long)]
    json: Option<PathBuf>,
    /// The sensitivity the site's operating point must reach.
    #[arg(long, default_value_t = 0.9)]
    target_sensitivity: f64,
    /// Bootstrap resamples for the AUC's interval.
    #[arg(long, default_value_t = 2000)]
    resamples: u32,
    /// The bootstrap's seed.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Execution provider: auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    ep: String,
    /// Intra-op threads for the session.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// libonnxruntime to load (default: ORT_DYLIB_PATH, then beside the executable).
    #[arg(long)]
    runtime: Option<PathBuf>,
}

pub fn run(args: ValidateArgs) -> Result<(), String> {
    let mut bytes = Vec::new();
    std::fs::File::open(&args.truth)
        .and_then(|f| f.take(MAX_TRUTH_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("{}: {e}", args.truth.display()))?;
    if bytes.len() as u64 > MAX_TRUTH_BYTES {
        return Err(format!(
            "{}: larger than {} MB",
            args.truth.display(),
            MAX_TRUTH_BYTES >> 20
        ));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("{}: not UTF-8 text", args.truth.display()))?;
    let truth =
        validation::parse_truth(text).map_err(|e| format!("{}: {e}", args.truth.display()))?;
    let options = Options {
        target_sensitivity: args.target_sensitivity,
        bootstrap: Bootstrap {
            resamples: args.resamples,
            seed: args.seed,
        },
        ..Options::default()
    };

    let ep = EpChoice::parse(&args.ep).map_err(|e| e.to_string())?;
    let mut model = Model::load(&args.model, args.runtime.as_deref(), ep, args.threads)
        .map_err(|e| e.to_string())?;
    if let Some(why) = &model.fallback {
        eprintln!("overread: {why}");
    }
    let limits = Limits::default();
    let mut files = Vec::new();
    for p in &args.studies {
        let (found, _) = overread_core::library::plan(p, &limits).map_err(|e| e.to_string())?;
        files.extend(found);
    }
    let bar = crate::progress(files.len() as u64, "images");
    let scores = validation::score_files(&mut model, &files, &limits, &|| bar.inc(1));
    bar.finish_and_clear();

    let source = TruthSource::of(&args.truth, &bytes, truth.len());
    let report = validation::report(&model.manifest, (&truth, source), scores, options)?;
    let json_path = args
        .json
        .clone()
        .unwrap_or_else(|| args.output.with_extension("json"));
    let json = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&json_path, &json).map_err(|e| format!("{}: {e}", json_path.display()))?;
    std::fs::write(&args.output, validation::html(&report))
        .map_err(|e| format!("{}: {e}", args.output.display()))?;

    for l in &report.labels {
        let auc = match (l.auc, l.auc_interval) {
            (Some(a), Some((lo, hi))) => format!("AUC {a:.3} ({lo:.3}–{hi:.3})"),
            _ => "AUC –".into(),
        };
        let at = |o: &validation::Operating| {
            let pct = |p: Option<validation::stats::Proportion>| {
                p.map_or("–".into(), |p| format!("{:.1}%", p.value * 100.0))
            };
            format!(
                "threshold {:.4}: sensitivity {}, specificity {}",
                o.threshold,
                pct(o.sensitivity),
                pct(o.specificity)
            )
        };
        println!(
            "{}: {} cases ({} positive), {auc}; manifest {}; target {}",
            l.label,
            l.cases,
            l.positives,
            at(&l.manifest),
            l.target.as_ref().map_or("not reachable".into(), at)
        );
    }
    println!(
        "{} of {} images inferred; {} truth rows without an inferred image; {} files not DICOM",
        report.inferred,
        report.images,
        report.unmatched.len(),
        report.not_dicom
    );
    println!(
        "wrote {} and {} (sha256 {})",
        args.output.display(),
        json_path.display(),
        validation::hex_sha256(&json)
    );
    Ok(())
}
