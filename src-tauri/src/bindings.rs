//! TypeScript bindings for the IPC, generated from the Rust types (ts-rs)
//! and this command table into `ui/src/bindings.ts`. The test
//! `bindings_are_current` fails when the file is stale; regenerate with
//! `OVERREAD_UPDATE_BINDINGS=1 cargo test -p overread-app bindings`.

use overread_core::api::*;
use ts_rs::TS;

/// One command's TypeScript signature.
struct Command {
    name: &'static str,
    doc: &'static str,
    args: Vec<(&'static str, String)>,
    ret: String,
}

fn cmd(
    name: &'static str,
    doc: &'static str,
    args: Vec<(&'static str, String)>,
    ret: String,
) -> Command {
    Command {
        name,
        doc,
        args,
        ret,
    }
}

fn commands() -> Vec<Command> {
    vec![
        cmd(
            "worklist",
            "The worklist in reading order, with triage progress.",
            vec![],
            Worklist::name(),
        ),
        cmd(
            "open_study",
            "Opens a study: decodes it and returns what the viewer shows.",
            vec![("id", String::name())],
            StudyView::name(),
        ),
        cmd(
            "decide",
            "Records a decision; resolves only after the audit row is committed.",
            vec![("request", DecisionRequest::name())],
            DecisionView::name(),
        ),
        cmd(
            "record_impression",
            "Read-first mode: records the unaided impression and reveals the AI.",
            vec![("request", ImpressionRequest::name())],
            StudyView::name(),
        ),
        cmd(
            "audit_recent",
            "The newest audit rows, newest first.",
            vec![("limit", u32::name())],
            Vec::<AuditEntry>::name(),
        ),
        cmd(
            "verify_chain",
            "Walks the audit log's hash chain.",
            vec![],
            ChainStatus::name(),
        ),
        cmd(
            "export_audit",
            "Exports the audit log as CSV.",
            vec![("path", String::name()), ("deidentify", bool::name())],
            ExportResult::name(),
        ),
        cmd(
            "agreement_stats",
            "Agreement statistics per finding and reader.",
            vec![],
            StatsView::name(),
        ),
        cmd(
            "get_settings",
            "The current settings.",
            vec![],
            Settings::name(),
        ),
        cmd(
            "save_settings",
            "Saves settings; a changed reader is recorded.",
            vec![("settings", Settings::name())],
            Settings::name(),
        ),
        cmd(
            "cancel_triage",
            "Stops background triage after the studies already running.",
            vec![],
            "null".into(),
        ),
        cmd(
            "refresh_sources",
            "Asks the PACS sources for new studies now; retrieval and triage follow in the background.",
            vec![],
            "null".into(),
        ),
    ]
}

/// Every type the IPC carries, in declaration order.
fn declarations() -> Vec<(String, Option<String>)> {
    macro_rules! decls {
        ($($t:ty),* $(,)?) => { vec![$((<$t>::decl(), <$t>::docs())),*] };
    }
    decls![
        AiStatus,
        ReadingStatus,
        WorklistRow,
        Worklist,
        TriageProgress,
        ModelView,
        Threshold,
        WindowPreset,
        Rect,
        FindingView,
        DecisionView,
        StudyView,
        ImageGeometry,
        DecisionRequest,
        ImpressionRequest,
        AuditEntry,
        ChainStatus,
        ExportResult,
        AgreementView,
        DailyAgreement,
        StatsView,
        SourceState,
        SourceStatus,
        ReaderIdentity,
        Settings,
        ApiError,
    ]
}

/// The whole `ui/src/bindings.ts`.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from Rust by src-tauri/src/bindings.rs (ts-rs). Do not edit:\n\
         // OVERREAD_UPDATE_BINDINGS=1 cargo test -p overread-app bindings\n\n\
         import { invoke } from \"@tauri-apps/api/core\";\n\n",
    );
    for (decl, docs) in declarations() {
        if let Some(d) = docs {
            out.push_str(&d);
        }
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "/** Event name of TriageProgress. */\nexport const TRIAGE_EVENT = {:?};\n\n",
        crate::TRIAGE_EVENT
    ));
    out.push_str(
        "/** The app's commands. Rejections carry an ApiError. */\nexport const commands = {\n",
    );
    for c in commands() {
        let params: Vec<String> = c.args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        let names: Vec<&str> = c.args.iter().map(|(n, _)| *n).collect();
        let camel = camel(c.name);
        let args = if names.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", names.join(", "))
        };
        out.push_str(&format!(
            "  /** {} */\n  {camel}: ({}): Promise<{}> => invoke({:?}{args}),\n",
            c.doc,
            params.join(", "),
            c.ret,
            c.name
        ));
    }
    out.push_str("};\n");
    out
}

fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for ch in s.chars() {
        if ch == '_' {
            up = true;
        } else if up {
            out.extend(ch.to_uppercase());
            up = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/bindings.ts");

    #[test]
    fn bindings_are_current() {
        let fresh = typescript();
        if std::env::var_os("OVERREAD_UPDATE_BINDINGS").is_some() {
            std::fs::write(FILE, &fresh).expect("write bindings");
            return;
        }
        let on_disk = std::fs::read_to_string(FILE).unwrap_or_default();
        assert!(
            on_disk == fresh,
            "ui/src/bindings.ts is stale: run OVERREAD_UPDATE_BINDINGS=1 cargo test -p overread-app bindings"
        );
    }

    #[test]
    fn every_command_has_a_binding_and_a_permission() {
        let table: Vec<&str> = commands().iter().map(|c| c.name).collect();
        assert_eq!(table, crate::commands::NAMES.to_vec());
        // build.rs declares the same NAMES (it includes command_names.rs).
        let capability = include_str!("../capabilities/main.json");
        for name in crate::commands::NAMES {
            let permission = format!("\"allow-{}\"", name.replace('_', "-"));
            assert!(
                capability.contains(&permission),
                "{permission} missing from the capability"
            );
        }
    }
}
