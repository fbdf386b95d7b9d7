// The app's commands, by name: included by build.rs (each becomes a
// permission) and by the app (handler, bindings, capability check).
pub const NAMES: [&str; 12] = [
    "worklist",
    "open_study",
    "decide",
    "record_impression",
    "audit_recent",
    "verify_chain",
    "export_audit",
    "agreement_stats",
    "get_settings",
    "save_settings",
    "cancel_triage",
    "refresh_sources",
];
