//! TypeScript bindings for the IPC, generated from the Rust types (ts-rs)
//! and this command table into `ui/src/bindings.ts`. The test
//! `bindings_are_current` fails when the file is stale; regenerate with
//! `OVERREAD_UPDATE_BINDINGS=1 cargo test -p overread-app bindings`.

use overread_core::api::*;
use ts_rs::TS;

/// One command's TypeScript signature (made from the command table).
#[derive(Debug)]
pub struct Command {
    pub name: &'static str,
    pub doc: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub ret: String,
}

/// Every type the IPC carries, in declaration order.
fn declarations() -> Vec<(String, Option<String>)> {
    macro_rules! decls {
        ($($t:ty),* $(,)?) => { vec![$((<$t>::decl(), <$t>::docs())),*] };
    }
    decls![
        StudyId,
        Availability,
        AiStatus,
        AuditHealth,
        StartupProblem,
        SettingKey,
        SettingsPolicy,
        SetupRequest,
        ModelChoice,
        SetupView,
        PacsCheck,
        InstalledModel,
        ReadingStatus,
        WorklistRow,
        Worklist,
        TriageProgress,
        WorklistChange,
        ModelStatus,
        ModelView,
        overread_core::site::GoLive,
        overread_core::site::Change,
        overread_core::site::Acceptance,
        overread_core::site::SiteThreshold,
        overread_core::site::SiteState,
        ModelSite,
        Threshold,
        WindowPreset,
        Rect,
        FindingView,
        DecisionView,
        StudyView,
        PriorView,
        PriorLine,
        StudyPriors,
        ImageRef,
        Hanging,
        ResultsState,
        ResultsView,
        EarlierFinding,
        EarlierAssessment,
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
        Viewing,
        PriorSide,
        ScanProgress,
        SourceAdded,
        StoreState,
        StoreAlert,
        StoreStatus,
        ClaimView,
        GovernanceScope,
        GovernanceRequest,
        GovernanceGroup,
        GovernanceFinding,
        GovernanceModel,
        GovernanceView,
        ErrorCode,
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
        "/** Event name of WorklistChange. */\nexport const WORKLIST_EVENT = {:?};\n\n",
        crate::WORKLIST_EVENT
    ));
    out.push_str(
        "/** The app's commands. Rejections carry an ApiError. */\nexport const commands = {\n",
    );
    for c in crate::commands::table() {
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

    /// The capability grants exactly the table's commands, besides the
    /// event and dialog permissions the window needs; build.rs declares
    /// the same names (it includes the same table).
    #[test]
    fn the_capability_grants_exactly_the_command_table() {
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).expect("json");
        let granted: std::collections::BTreeSet<String> = capability["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| p.as_str())
            .filter_map(|p| p.strip_prefix("allow-"))
            .map(str::to_string)
            .collect();
        let table: std::collections::BTreeSet<String> = crate::commands::NAMES
            .iter()
            .map(|n| n.replace('_', "-"))
            .collect();
        assert_eq!(
            granted, table,
            "capabilities/main.json drifted from command_table.rs"
        );
        let names: Vec<&str> = crate::commands::table().iter().map(|c| c.name).collect();
        assert_eq!(names, crate::commands::NAMES);
    }
}
