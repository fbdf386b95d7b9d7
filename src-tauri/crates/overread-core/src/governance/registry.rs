//! The decisions of a report's period as a CSV shaped for national AI
//! registries: one row per effective reader decision, with the model, its
//! version and checksum, the finding, the AI's score and result, the
//! reader's decision and role, and the day. De-identified: no patient,
//! accession, UID, reader or workstation identity; each case is a
//! pseudonym keyed afresh for every export, so rows of one case link within
//! the file and to nothing outside it.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::Write;

use overread_audit::Decision;

use super::collect::Collector;

/// The registry CSV's header.
pub const HEADER: [&str; 11] = [
    "case",
    "model_name",
    "model_version",
    "model_sha256",
    "finding",
    "ai_score",
    "ai_result",
    "reader_decision",
    "reader_role",
    "decision_date",
    "display_to_decision_ms",
];

/// One CSV field: quoted when it must be, and text that a spreadsheet would
/// run as a formula made inert.
pub(super) fn field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

impl Collector {
    /// Writes the registry CSV; returns the rows written.
    pub(super) fn write_registry(&self, out: &mut dyn Write) -> std::io::Result<u64> {
        let key = RandomState::new();
        writeln!(out, "{}", HEADER.join(","))?;
        let mut n = 0;
        for d in self.effective() {
            let model = &self.models[d.model as usize].0;
            let decision = match d.decision {
                Decision::Confirm if d.flagged => "accepted",
                Decision::Dismiss if d.flagged => "rejected",
                Decision::Confirm => "confirmed below threshold",
                Decision::Dismiss => "dismissed below threshold",
                Decision::AddMissed => "added by reader",
            };
            let cells = [
                format!("C-{:016x}", key.hash_one((d.workstation, d.study))),
                field(&model.name),
                field(&model.version),
                field(&model.sha256),
                field(self.strings.name(d.finding)),
                d.score.map(|s| format!("{s:.4}")).unwrap_or_default(),
                if d.decision == Decision::AddMissed {
                    "not flagged".into()
                } else if d.flagged {
                    "flagged".into()
                } else {
                    "not flagged".into()
                },
                decision.into(),
                field(self.strings.name(d.role)),
                self.strings.name(d.day).to_string(),
                d.ms.map(|m| m.to_string()).unwrap_or_default(),
            ];
            writeln!(out, "{}", cells.join(","))?;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_made_inert() {
        assert_eq!(field("nodule"), "nodule");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("-1+2,"), "\"'-1+2,\"");
    }
}
