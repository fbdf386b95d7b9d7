//! # overread-app
//!
//! The desktop window: a thin Tauri shell over [`overread_core::workstation`].
//! Each command parses the study id, calls the core and returns a typed
//! result or an `ApiError` whose `code` the UI branches on; the commands are
//! written once in `command_table.rs`. Pixels and heatmaps never travel as
//! JSON: they are served as bytes by the asynchronous `overread://` scheme
//! ([`scheme`]). Triage and PACS sync report what changed as the
//! [`WORKLIST_EVENT`].
//!
//! This is the only package that knows Tauri.

// A release build loads the frontend embedded in the binary, never a
// development server's URL (tauri.conf.json's devUrl): without the
// `custom-protocol` feature (which `tauri build` and the package scripts
// turn on) it must not build at all.
#[cfg(all(not(debug_assertions), not(feature = "custom-protocol")))]
compile_error!(
    "a release build of overread-app must embed the frontend: build with `--features custom-protocol`"
);

pub mod bindings;
pub mod commands;
pub mod config;
pub mod scheme;
pub mod setup;

use std::sync::Arc;

use overread_core::api::{StartupProblem, WorklistChange};
use overread_core::workstation::Workstation;
use tauri::{Emitter, Manager};

/// The event that carries a [`WorklistChange`].
pub const WORKLIST_EVENT: &str = "worklist-change";

/// Adds the workstation, the `overread://` scheme and the commands to a
/// builder (the real one, or Tauri's mock in tests).
pub fn configure<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    workstation: Arc<Workstation>,
) -> tauri::Builder<R> {
    shell(builder.manage(workstation))
}

/// The `overread://` scheme and the commands: what every start adds.
fn shell<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .register_asynchronous_uri_scheme_protocol("overread", scheme::handle)
        .invoke_handler(commands::handler())
}

/// As [`configure`], for a first run: no workstation until the set-up
/// screen is finished (then [`begin`] adds it).
pub fn configure_setup<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    context: overread_core::setup::SetupContext,
) -> tauri::Builder<R> {
    shell(builder.manage(setup::Setup::new(context)))
}

/// Hands the workstation to the window (when it is not there yet) and
/// starts its threads: triage, the PACS, the outbox, the department store.
pub fn begin<R: tauri::Runtime>(app: &tauri::AppHandle<R>, workstation: Arc<Workstation>) {
    app.manage(workstation);
    forward_changes(app);
    start_triage(app);
    start_polling(app);
    start_audit_retry(app);
    start_outbox(app);
    start_store_sync(app);
    start_claims(app);
}

/// Forwards the workstation's worklist changes to the window.
pub fn forward_changes<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let handle = app.clone();
    app.state::<Arc<Workstation>>()
        .set_listener(Arc::new(move |change: WorklistChange| {
            if let Err(e) = handle.emit(WORKLIST_EVENT, change) {
                eprintln!("overread-app: cannot send a worklist change: {e}");
            }
        }));
}

/// Starts triage of the worklist on its own thread; its changes reach the
/// window through [`forward_changes`].
pub fn start_triage<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let ws = app.state::<Arc<Workstation>>().inner().clone();
    std::thread::Builder::new()
        .name("triage".into())
        .spawn(move || ws.run_triage(overread_core::triage::default_jobs()))
        .ok();
}

/// How often the PACS sources are asked for new studies.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Asks the PACS sources for new studies on its own thread (retrieving
/// them into the cache), then triages what arrived complete. Each change
/// reaches the window as a [`WORKLIST_EVENT`].
pub fn start_sync<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let ws = app.state::<Arc<Workstation>>().inner().clone();
    let handle = app.clone();
    std::thread::Builder::new()
        .name("pacs-sync".into())
        .spawn(move || {
            if ws.sync_pacs() > 0 {
                start_triage(&handle);
            }
        })
        .ok();
}

/// Syncs the PACS sources now and every [`SYNC_EVERY`].
fn start_polling<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let handle = app.clone();
    std::thread::Builder::new()
        .name("pacs-poll".into())
        .spawn(move || {
            loop {
                start_sync(&handle);
                std::thread::sleep(SYNC_EVERY);
            }
        })
        .ok();
}

/// How often the outbox is tried (entries that failed wait out their backoff).
const SEND_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Sends what waits in the outbox, on its own thread (one pass).
pub fn start_sending<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let ws = app.state::<Arc<Workstation>>().inner().clone();
    std::thread::Builder::new()
        .name("results-send".into())
        .spawn(move || ws.send_results())
        .ok();
}

/// Tries the outbox now and every [`SEND_EVERY`]: results signed off before
/// a restart, or while the PACS was down, go when it answers.
fn start_outbox<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let handle = app.clone();
    std::thread::Builder::new()
        .name("results-outbox".into())
        .spawn(move || {
            loop {
                start_sending(&handle);
                std::thread::sleep(SEND_EVERY);
            }
        })
        .ok();
}

/// How often this workstation's new audit rows go to the department store.
const STORE_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Sends the log's new rows to the department store now and every
/// [`STORE_SYNC_EVERY`] (nothing when none is configured); offline, it
/// resumes by itself.
fn start_store_sync<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let ws = app.state::<Arc<Workstation>>().inner().clone();
    std::thread::Builder::new()
        .name("store-sync".into())
        .spawn(move || {
            loop {
                ws.sync_department();
                std::thread::sleep(STORE_SYNC_EVERY);
            }
        })
        .ok();
}

/// How often this workstation's claim on the open study is renewed and
/// the other readers' claims are read (well inside the lease's 30 s).
const CLAIMS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Claims the study the reader opens (at once), renews the claim and reads
/// who is reading what, every [`CLAIMS_EVERY`] (nothing when no store is
/// configured).
fn start_claims<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let ws = app.state::<Arc<Workstation>>().inner().clone();
    std::thread::Builder::new()
        .name("store-claims".into())
        .spawn(move || {
            loop {
                ws.sync_claims();
                ws.wait_for_claims(CLAIMS_EVERY);
            }
        })
        .ok();
}

/// How often background audit events the log refused are tried again.
const AUDIT_RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Tries refused background audit events again every few seconds (one
/// uncontended lock when none wait).
fn start_audit_retry<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let ws = app.state::<Arc<Workstation>>().inner().clone();
    std::thread::Builder::new()
        .name("audit-retry".into())
        .spawn(move || {
            loop {
                std::thread::sleep(AUDIT_RETRY_EVERY);
                ws.retry_audit();
            }
        })
        .ok();
}

/// Memory hygiene for a process that decodes many 8–16 MB images on
/// short-lived threads: at most two malloc arenas, and freed pages handed
/// back to the system after each image is served (glibc only).
pub mod memory {
    pub fn limit_arenas() {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes allocator tuning; it is called once at
        // start, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }

    pub fn give_back() {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only releases free heap pages; it is thread-safe.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// Refusing to start (a broken audit log, an unreadable source or settings
/// file) is right, but a reader who double-clicked the app sees no
/// terminal: the window opens with only what is wrong and how to fix it.
/// Exits with status 2 when it is closed.
fn show_startup_problem(problem: StartupProblem, context: tauri::Context<tauri::Wry>) -> ! {
    eprintln!("overread-app: {}", problem.message);
    let app = tauri::Builder::<tauri::Wry>::new()
        .manage(problem)
        .invoke_handler(commands::handler())
        .build(context);
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => eprintln!("overread-app: could not open the window either: {e}"),
    }
    std::process::exit(2);
}

/// What `overread-app --help` prints (and its manual page is made from).
pub const HELP: &str = "\
Usage: overread-app [--help | --version]

Opens Overread's window: the worklist of chest X-rays with the AI's
findings, the viewer, the reader's decisions and the audit log. The first
start with no settings opens a set-up screen (who reads, where studies come
from, which model, where the audit log is), with \"Try it with demo data\".

Options:
  -h, --help     print this help and exit
  -V, --version  print the version and exit

Files:
  /etc/overread/settings.json
      machine-wide settings from the IT team, read before the reader's own;
      the keys it names in \"locked\" cannot be changed in Settings
  ~/.config/overread/settings.json
      the reader's settings
  ~/.local/share/overread/audit.sqlite3
      the decision audit log (unless the settings put it elsewhere)
  /usr/lib/overread/
      ONNX Runtime and the demonstration model

Environment:
  OVERREAD_SETTINGS           the reader's settings file
  OVERREAD_MACHINE_SETTINGS   the machine-wide settings file
  OVERREAD_AUDIT_DB           the audit log, over any setting
  OVERREAD_DEMO_DIR           open the demo worklist in this folder at once
  OVERREAD_MODEL_DIR          the demo's model folder
  OVERREAD_RUNTIME            libonnxruntime (else ORT_DYLIB_PATH, else the bundled one)
  OVERREAD_STORE_PASSWORD, OVERREAD_STORE_PASSWORD_FILE, OVERREAD_STORE_CA_FILE
                              the department store's password and CA bundle
  OVERREAD_WORKSTATION        this workstation's id in audit rows (else the host name)

Exit status:
  0 closed normally; 2 could not start (the window says why)

See also: overread(1), the command line over the same core.
";

/// Handles `--help` and `--version` before any window: the exit status,
/// or `None` to open the window. Other arguments (a launcher's, a
/// WebDriver's) are left alone.
pub fn command_line(args: &[String]) -> Option<i32> {
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => {
            print!("{HELP}");
            Some(0)
        }
        Some("-V" | "--version") => {
            println!("overread-app {}", overread_core::APP_VERSION);
            Some(0)
        }
        _ => None,
    }
}

/// The app's entry point: configuration, the workstation (or the first
/// run's screen), the window.
pub fn run() {
    memory::limit_arenas();
    // One context (the embedded frontend): the worklist's window, or the
    // startup problem's.
    let context = tauri::generate_context!();
    let (builder, ws, settings_path) = match config::Config::resolve() {
        Err(e) => show_startup_problem(StartupProblem::configuration(e), context),
        Ok(config::Start::Setup(setup)) => {
            let path = setup.settings_path.clone();
            (configure_setup(tauri::Builder::new(), setup), None, path)
        }
        Ok(config::Start::Ready(config)) => {
            let opened =
                Workstation::open(config.settings.clone(), &config.audit_db, config.runtime);
            let ws = match opened {
                Ok(ws) => Arc::new(ws.with_policy(config.policy)),
                Err(e) => show_startup_problem(StartupProblem::from_error(&e), context),
            };
            (shell(tauri::Builder::new()), Some(ws), config.settings_path)
        }
    };
    let app = builder
        .plugin(tauri_plugin_dialog::init())
        .manage(config::SettingsPath(settings_path))
        .manage(config::ExportTo::from_env())
        .setup(move |app| {
            if let Some(ws) = ws {
                begin(app.handle(), ws);
            }
            Ok(())
        })
        .build(context);
    match app {
        Ok(app) => app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event
                && let Some(ws) = handle.try_state::<Arc<Workstation>>()
            {
                ws.release_claims();
                ws.close();
            }
        }),
        Err(e) => {
            eprintln!("overread-app: could not start the window: {e}");
            std::process::exit(2);
        }
    }
}
