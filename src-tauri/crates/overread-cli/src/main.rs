//! `overread`: everything but the window, over the same core as the app.
//!
//! Exit codes: 0 success; 2 bad input or arguments (one line on stderr);
//! 101 is a panic, which is always a bug.

mod audit;
mod governance;
mod infer;
mod pacs;
mod results;
mod site;
mod validate;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use overread_core::dicom::scan::ScanEntry;
use overread_core::dicom::{Header, Limits, Window};
use overread_core::render::RenderOptions;
use overread_core::{demo, library, render};
use serde::Serialize;

/// The manual's sections after the commands (`overread --help`, and the
/// manual page the Debian package makes from it).
const AFTER_LONG_HELP: &str = "\
Examples:
  overread scan /data/studies --json
  overread infer /data/studies --model /usr/lib/overread/models/demo --json
  overread model validate --model DIR --truth truth.csv -o report.html /data/site-studies
  overread model accept DIR --report report.json --reader-id ab --reader-role radiologist
  overread audit verify
  overread pacs --config /etc/overread/pacs.toml echo
  overread governance report --store 'host=store dbname=overread' --from 2026-11-01 --to 2026-11-30 -o report.html

Files:
  ~/.local/share/overread/audit.sqlite3   the decision audit log (OVERREAD_AUDIT_DB)
  ~/.local/share/overread/models/         the model store beside it
  /etc/overread/settings.json             machine-wide settings, read by the app
  /usr/lib/overread/                      ONNX Runtime and the demonstration model

Environment:
  OVERREAD_AUDIT_DB      the audit log
  OVERREAD_PACS_CONFIG   the PACS configuration file
  OVERREAD_WORKSTATION   this workstation's id in audit rows (else the host name)
  ORT_DYLIB_PATH         libonnxruntime (else the one beside the program or in /usr/lib/overread)
  OVERREAD_STORE_PASSWORD, OVERREAD_STORE_PASSWORD_FILE, OVERREAD_STORE_CA_FILE
                         the department store's password and CA bundle

Exit status:
  0 success; 2 bad input or arguments, with one line on standard error;
  3 `audit verify` found the chain broken; 101 a panic, which is always a bug.

Each command has its own --help.";

#[derive(Parser)]
#[command(
    name = "overread",
    version,
    about = "Review AI findings on chest X-rays: headless tools",
    long_about = "Review AI findings on chest X-rays: everything but the window, over the \
                  same core as the Overread app. Index and render DICOM, run the AI model, \
                  keep and check the decision audit log, talk to the PACS, sign results \
                  off, and report to the governance group.",
    after_long_help = AFTER_LONG_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Index a folder, a DICOMDIR or a file: one line per file.
    Scan {
        path: PathBuf,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one instance's header.
    Info {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Render an instance's display-ready image to PNG (or 16-bit PGM/PNG).
    Render {
        file: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        /// 0-based frame number.
        #[arg(long, default_value_t = 0)]
        frame: u32,
        /// Window centre and width, e.g. --window 2048,4096.
        #[arg(long, value_parser = parse_window, allow_hyphen_values = true)]
        window: Option<(f64, f64)>,
        /// Longest side of the output in pixels.
        #[arg(long)]
        size: Option<u32>,
        /// Write 16 bits per sample (PNG or PGM).
        #[arg(long)]
        sixteen_bit: bool,
    },
    /// Run an AI model (a folder with model.onnx and manifest.toml) on images.
    Infer(Box<infer::InferArgs>),
    /// The decision audit log: record, verify, export, stats.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Query and retrieve studies from a PACS (DICOMweb or DIMSE).
    Pacs(pacs::PacsArgs),
    /// The AI governance group's report: agreement, flag rates and drift,
    /// per model version.
    Governance(governance::GovernanceArgs),
    /// A study's signed-off results: sign off, write, send, read back.
    Results(Box<results::ResultsArgs>),
    /// The model store: the models Settings may pick.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Synthetic demo studies.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Check a model folder (manifest, model.onnx checksum), copy it into the
    /// store and record who installed it in the audit log.
    Install {
        dir: PathBuf,
        /// The audit log (the store is `models/` beside it).
        #[arg(long)]
        db: Option<PathBuf>,
        #[command(flatten)]
        by: audit::Admin,
    },
    /// Validate a model on this site's own studies against a truth file:
    /// ROC and AUC with a bootstrap interval, sensitivity and specificity
    /// with Wilson intervals, the threshold for a target sensitivity, and
    /// calibration, as an HTML and a JSON report.
    Validate(Box<validate::ValidateArgs>),
    /// Read MODEL.onnx's inputs and outputs and write a manifest draft
    /// beside it (`manifest.toml`), with what the graph cannot answer
    /// marked "?" to fill in; the graph is printed on standard error.
    Init {
        model: PathBuf,
        /// Where to write the draft (default: manifest.toml beside the model).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// libonnxruntime to load (default: ORT_DYLIB_PATH, then beside the executable).
        #[arg(long)]
        runtime: Option<PathBuf>,
    },
    #[command(flatten)]
    Site(site::SiteCommand),
    /// The installed models, one per line.
    List {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn model(command: ModelCommand) -> Result<(), String> {
    use overread_core::{audit, models};
    match command {
        ModelCommand::Install { dir, db, by } => {
            let db = db.unwrap_or_else(audit::default_path);
            let mut log = audit::open(&db).map_err(|e| e.to_string())?;
            let m = models::install(
                &dir,
                &models::store_for(&db),
                &mut log,
                by.reader(),
                &audit::workstation_id(),
            )?;
            println!(
                "installed {} {} (sha256 {}) in {}",
                m.name, m.version, m.sha256, m.dir
            );
        }
        ModelCommand::Validate(args) => validate::run(*args)?,
        ModelCommand::Init {
            model,
            output,
            runtime,
        } => model_init(&model, output, runtime.as_deref())?,
        ModelCommand::Site(command) => site::run(command)?,
        ModelCommand::List { db, json } => {
            let db = db.unwrap_or_else(audit::default_path);
            for m in models::installed(&models::store_for(&db)) {
                if json {
                    println!("{}", serde_json::to_string(&m).map_err(|e| e.to_string())?);
                } else {
                    let use_ = if m.clinical {
                        "clinical"
                    } else {
                        "demonstration"
                    };
                    println!("{} {} {use_} {} {}", m.name, m.version, m.sha256, m.dir);
                }
            }
        }
    }
    Ok(())
}

/// `overread model init`: the draft is never written over an existing file.
fn model_init(model: &Path, output: Option<PathBuf>, runtime: Option<&Path>) -> Result<(), String> {
    use overread_core::inference::init;
    let graph = init::describe(model, runtime).map_err(|e| e.to_string())?;
    let out = output.unwrap_or_else(|| model.with_file_name("manifest.toml"));
    if out.exists() {
        return Err(format!(
            "{} exists; name another file with -o",
            out.display()
        ));
    }
    let stem = model
        .file_stem()
        .map_or("model".into(), |s| s.to_string_lossy().into_owned());
    for (what, ports) in [("input", &graph.inputs), ("output", &graph.outputs)] {
        for p in ports {
            eprintln!("{what} {} {} {:?}", p.name, p.dtype, p.shape);
        }
    }
    let text = init::draft(&graph, &stem);
    std::fs::write(&out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
    let questions = text
        .lines()
        .filter(|l| l.trim_start().starts_with("# ?"))
        .count();
    println!(
        "wrote {} with {questions} questions to answer (each marked \"?\")",
        out.display()
    );
    Ok(())
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Write synthetic chest phantoms (CR/DX, with and without opacities) and their ground truth.
    Generate {
        dir: PathBuf,
        #[arg(long, default_value_t = 12)]
        count: u32,
        /// Rows and columns of each image.
        #[arg(long, default_value_t = 1024)]
        size: u16,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Also this many patients with two priors each (an unchanged, a
        /// growing and a new opacity), for prior comparison.
        #[arg(long, default_value_t = 0)]
        priors: u32,
    },
    /// Print the phantoms' ground truth in DIR as a validation truth file
    /// (`overread model validate --truth`).
    Truth { dir: PathBuf },
}

fn parse_window(s: &str) -> Result<(f64, f64), String> {
    let (c, w) = s.split_once(',').ok_or("expected CENTER,WIDTH")?;
    let c: f64 = c
        .trim()
        .parse()
        .map_err(|_| format!("bad window centre {c:?}"))?;
    let w: f64 = w
        .trim()
        .parse()
        .map_err(|_| format!("bad window width {w:?}"))?;
    if !c.is_finite() || !w.is_finite() || w < 1.0 {
        return Err("window width must be at least 1".into());
    }
    Ok((c, w))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let limits = Limits::default();
    if let Command::Infer(args) = cli.command {
        return match infer::run(*args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("overread: {}", message.replace('\n', " "));
                ExitCode::from(2)
            }
        };
    }
    if let Command::Model { command } = cli.command {
        return match model(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("overread: {}", message.replace('\n', " "));
                ExitCode::from(2)
            }
        };
    }
    if let Command::Audit { command } = cli.command {
        return match audit::run(command) {
            Ok(code) => ExitCode::from(code),
            Err(message) => {
                eprintln!("overread: {}", message.replace('\n', " "));
                ExitCode::from(2)
            }
        };
    }
    if let Command::Results(args) = cli.command {
        return match results::run(*args) {
            Ok(code) => ExitCode::from(code),
            Err(message) => {
                eprintln!("overread: {}", message.replace('\n', " "));
                ExitCode::from(2)
            }
        };
    }
    if let Command::Governance(args) = cli.command {
        return match governance::run(args) {
            Ok(code) => ExitCode::from(code),
            Err(message) => {
                eprintln!("overread: {}", message.replace('\n', " "));
                ExitCode::from(2)
            }
        };
    }
    if let Command::Pacs(args) = cli.command {
        return match pacs::run(args) {
            Ok(code) => ExitCode::from(code),
            Err(message) => {
                eprintln!("overread: {}", message.replace('\n', " "));
                ExitCode::from(2)
            }
        };
    }
    let result = match cli.command {
        Command::Audit { .. }
        | Command::Infer(_)
        | Command::Pacs(_)
        | Command::Governance(_)
        | Command::Results(_)
        | Command::Model { .. } => Ok(()),
        Command::Scan { path, json } => scan(&path, json, &limits),
        Command::Info { file, json } => info(&file, json, &limits),
        Command::Render {
            file,
            output,
            frame,
            window,
            size,
            sixteen_bit,
        } => {
            let options = RenderOptions {
                frame,
                window,
                size,
                sixteen_bit,
            };
            render::render(&file, &output, &options, &limits).map_err(|e| e.to_string())
        }
        Command::Demo {
            command:
                DemoCommand::Generate {
                    dir,
                    count,
                    size,
                    seed,
                    priors,
                },
        } => demo::generate(&dir, count, size, seed)
            .and_then(|mut paths| {
                paths.extend(demo::generate_priors(&dir, priors, size, seed)?);
                Ok(paths)
            })
            .map(|paths| {
                eprintln!("wrote {} phantom studies to {}", paths.len(), dir.display());
            })
            .map_err(|e| e.to_string()),
        Command::Demo {
            command: DemoCommand::Truth { dir },
        } => demo::truth_csv(&dir)
            .map(|csv| print!("{csv}"))
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("overread: {}", message.replace('\n', " "));
            ExitCode::from(2)
        }
    }
}

/// A file's path as JSON shows it: `path` is the name as text (bytes that
/// are not UTF-8 shown as U+FFFD); a name that is not UTF-8 (a Latin-1 name
/// from an old CD) also gets `path_escaped`, exact and reversible: those
/// bytes as `\xNN`, a backslash as `\\`.
#[derive(Serialize)]
struct PathOut {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_escaped: Option<String>,
}

impl PathOut {
    fn new(path: &Path) -> PathOut {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        let escaped = std::str::from_utf8(bytes).is_err().then(|| {
            let mut out = String::new();
            for chunk in bytes.utf8_chunks() {
                out.push_str(&chunk.valid().replace('\\', "\\\\"));
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        });
        PathOut {
            path: path.to_string_lossy().into_owned(),
            path_escaped: escaped,
        }
    }
}

/// The fields `scan --json` prints for a readable file; absent values are null.
#[derive(Serialize)]
struct ScanLine<'a> {
    #[serde(flatten)]
    path: PathOut,
    patient_id: Option<&'a str>,
    study_uid: Option<&'a str>,
    series_uid: Option<&'a str>,
    sop_uid: Option<&'a str>,
    modality: Option<&'a str>,
    rows: Option<u32>,
    cols: Option<u32>,
    frames: Option<u32>,
    transfer_syntax: &'a str,
}

impl<'a> ScanLine<'a> {
    fn new(path: &'a Path, h: &'a Header) -> Self {
        ScanLine {
            path: PathOut::new(path),
            patient_id: h.patient_id.as_deref(),
            study_uid: h.study_instance_uid.as_deref(),
            series_uid: h.series_instance_uid.as_deref(),
            sop_uid: h.sop_instance_uid.as_deref(),
            modality: h.modality.as_deref(),
            rows: h.rows,
            cols: h.cols,
            frames: h.frames,
            transfer_syntax: &h.transfer_syntax,
        }
    }
}

#[derive(Serialize)]
struct ErrorLine {
    #[serde(flatten)]
    path: PathOut,
    error: String,
}

#[derive(Serialize)]
struct InfoLine<'a> {
    #[serde(flatten)]
    scan: ScanLine<'a>,
    photometric: Option<&'a str>,
    bits_allocated: Option<u16>,
    bits_stored: Option<u16>,
    windows: &'a [Window],
    body_part: Option<&'a str>,
    view_position: Option<&'a str>,
}

/// A progress bar on standard error when it is a terminal, else hidden.
fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} {{per_sec}} {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

fn scan(path: &Path, json: bool, limits: &Limits) -> Result<(), String> {
    let (files, problems) = library::plan(path, limits).map_err(|e| e.to_string())?;
    let bar = progress(files.len() as u64, "files");
    let report = library::scan(&files, problems, limits, &|| bar.inc(1));
    bar.finish_and_clear();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = if json {
        print_json(&mut out, &report.entries)
    } else {
        print_table(&mut out, &report.entries)
    };
    result
        .and_then(|()| out.flush())
        .or_else(ignore_broken_pipe)?;
    let ok = report.entries.iter().filter(|e| e.result.is_ok()).count();
    if !json {
        eprintln!("{ok} DICOM files, {} skipped", report.entries.len() - ok);
    }
    Ok(())
}

fn ignore_broken_pipe(e: std::io::Error) -> Result<(), String> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(format!("cannot write output: {e}"))
    }
}

fn print_json(out: &mut impl Write, entries: &[ScanEntry]) -> std::io::Result<()> {
    for entry in entries {
        let line = match &entry.result {
            Ok(h) => serde_json::to_string(&ScanLine::new(&entry.path, h)),
            Err(e) => serde_json::to_string(&ErrorLine {
                path: PathOut::new(&entry.path),
                error: e.to_string(),
            }),
        };
        writeln!(out, "{}", line.map_err(std::io::Error::other)?)?;
    }
    Ok(())
}

fn print_table(out: &mut impl Write, entries: &[ScanEntry]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<10} {:<16} {:<4} {:>11} {:>6}  {:<28} PATH",
        "STATUS", "PATIENT", "MOD", "SIZE", "FRAMES", "TRANSFER SYNTAX"
    )?;
    for entry in entries {
        let path = entry.path.display();
        match &entry.result {
            Ok(h) => {
                let size = match (h.cols, h.rows) {
                    (Some(c), Some(r)) => format!("{c}×{r}"),
                    _ => "-".into(),
                };
                writeln!(
                    out,
                    "{:<10} {:<16} {:<4} {:>11} {:>6}  {:<28} {path}",
                    if h.is_dicomdir() { "dicomdir" } else { "ok" },
                    truncate(h.patient_id.as_deref().unwrap_or("-"), 16),
                    h.modality.as_deref().unwrap_or("-"),
                    size,
                    h.frames
                        .map(|f| f.to_string())
                        .unwrap_or_else(|| "-".into()),
                    truncate(h.transfer_syntax_name, 28),
                )?;
            }
            Err(e) => writeln!(out, "{:<10} {e}: {path}", "skipped")?,
        }
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

fn info(file: &Path, json: bool, limits: &Limits) -> Result<(), String> {
    let h = overread_core::dicom::read_header(file, limits)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let line = InfoLine {
        scan: ScanLine::new(file, &h),
        photometric: h.photometric.as_deref(),
        bits_allocated: h.bits_allocated,
        bits_stored: h.bits_stored,
        windows: &h.windows,
        body_part: h.body_part.as_deref(),
        view_position: h.view_position.as_deref(),
    };
    let mut out = std::io::stdout().lock();
    let written = if json {
        serde_json::to_string(&line)
            .map_err(std::io::Error::other)
            .and_then(|s| writeln!(out, "{s}"))
    } else {
        let v = serde_json::to_value(&line).map_err(|e| e.to_string())?;
        let mut result = Ok(());
        if let Some(map) = v.as_object() {
            for (k, v) in map {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => "-".into(),
                    other => other.to_string(),
                };
                result = result.and_then(|()| writeln!(out, "{k:<16} {text}"));
            }
        }
        result
    };
    written.or_else(ignore_broken_pipe)
}
