// The app's commands, written once: each command's name, arguments and
// result. build.rs includes this file with a `commands!` that lists the
// names (each becomes a permission); src/commands.rs includes it with one
// that makes the handler, the TypeScript bindings (arguments and results
// typed by ts-rs) and a compile-time check that every command function has
// exactly these argument and result types. The capability is checked
// against the names by a test. Change a command here first.
commands! {
    /// Why the app could not start, when it could not (the window then
    /// shows only that); null otherwise.
    startup_problem() -> Option<StartupProblem>;
    /// The first-run screen, when this reader has no settings yet (the
    /// window then shows only that); null once the workstation is set up.
    setup_view() -> Option<SetupView>;
    /// Asks each source of a PACS configuration file whether it answers
    /// (C-ECHO, or a one-study QIDO-RS search); a file that does not load
    /// is an error.
    check_pacs(path: String) -> Vec<PacsCheck>;
    /// Runs a native folder dialog (the app's own) and returns the folder
    /// picked, adding nothing; null when the reader cancels.
    choose_folder() -> Option<String>;
    /// Finishes the first run: every choice checked and recorded in the
    /// audit log, the settings saved, the worklist opened.
    finish_setup(request: SetupRequest) -> ();
    /// Opens the demo worklist instead of setting up (synthetic phantoms,
    /// the demonstration model, a log of its own; nothing saved).
    try_demo() -> ();
    /// The machine-wide settings file and the settings it locks.
    settings_policy() -> SettingsPolicy;
    /// The worklist in reading order, with triage progress.
    worklist() -> Worklist;
    /// Opens a study: decodes it and returns what the viewer shows.
    open_study(id: String) -> StudyView;
    /// How to draw image `image` (in hanging order) of a study: a lateral
    /// beside the frontal, or a prior in comparison.
    open_image(id: String, image: u32) -> ImageGeometry;
    /// Asks the PACS sources for the study's priors (once in five minutes)
    /// and retrieves `prior` (by default the newest) when it is not here;
    /// it is triaged in the background. Called when a study is selected.
    find_priors(id: String, prior: Option<String>) -> StudyPriors;
    /// The study's priors as they stand, without the network (asked again
    /// when a `worklist-change` event says a prior changed).
    study_priors(id: String) -> StudyPriors;
    /// Takes over a study another reader is reading (a department store's
    /// claim): recorded in the audit log, then claimed for this reader.
    take_over(id: String) -> StudyView;
    /// Records a decision; resolves only after the audit row is committed.
    decide(id: String, request: DecisionRequest) -> DecisionView;
    /// Read-first mode: records the unaided impression and reveals the AI.
    record_impression(id: String, request: ImpressionRequest) -> StudyView;
    /// Signs the study's assessment off (every flagged finding decided):
    /// makes the SR, Parametric Maps and GSPS and queues them for the PACS.
    sign_off(id: String) -> ResultsView;
    /// Assessments of the study already on its PACS (or in the results folder).
    earlier_assessments(id: String) -> Vec<EarlierAssessment>;
    /// The newest audit rows, newest first.
    audit_recent(limit: u32) -> Vec<AuditEntry>;
    /// Walks the audit log's hash chain.
    verify_chain() -> ChainStatus;
    /// Exports the audit log as CSV to the file the reader picks in a save
    /// dialog that the app runs (the webview passes no path); null when the
    /// reader cancels.
    export_audit(deidentify: bool) -> Option<ExportResult>;
    /// Agreement statistics per finding and reader.
    agreement_stats() -> StatsView;
    /// The governance view of a period, over this workstation's log or the
    /// department store: per model version, flags, agreement and drift.
    governance(request: GovernanceRequest) -> GovernanceView;
    /// Saves the whole governance report as one self-contained HTML file
    /// where the reader picks in a save dialog the app runs; the path, or
    /// null when the reader cancels.
    save_governance_report(request: GovernanceRequest) -> Option<String>;
    /// The models in the model store, which Settings picks among.
    installed_models() -> Vec<InstalledModel>;
    /// This site's use of the configured model: go-live, the thresholds set
    /// here, who accepted which validation report (from the audit log).
    model_site() -> ModelSite;
    /// Accepts a validation report (`overread model validate`) for the
    /// configured model as this session's reader, picked in an open dialog
    /// the app runs: recorded in the audit log; null when the reader
    /// cancels. It applies at the next start.
    accept_validation() -> Option<ModelSite>;
    /// Sets this site's threshold for one of the configured model's labels
    /// as this session's reader, resting on a validation report picked in
    /// an open dialog the app runs: recorded in the audit log; null when
    /// the reader cancels. It applies at the next start.
    set_site_threshold(label: String, value: f32) -> Option<ModelSite>;
    /// The current settings.
    get_settings() -> Settings;
    /// Saves settings; a changed reader is recorded.
    save_settings(settings: Settings) -> Settings;
    /// Adds local sources (folders, DICOM files, DICOMDIRs): the drop
    /// handler's entry point. Each is scanned with progress; its studies
    /// join the worklist and the settings keep it.
    add_sources(paths: Vec<String>) -> Vec<SourceAdded>;
    /// Runs a native folder dialog (the app's own) and adds the folder
    /// picked; empty when the reader cancels.
    open_folder() -> Vec<SourceAdded>;
    /// Removes a local source; its studies leave the worklist.
    remove_source(path: String) -> ();
    /// Stops background triage after the studies already running.
    cancel_triage() -> ();
    /// Asks the PACS sources for new studies now; retrieval and triage follow in the background.
    refresh_sources() -> ();
}
