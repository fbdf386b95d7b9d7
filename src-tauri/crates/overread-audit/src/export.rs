//! CSV export (RFC 4180 through the csv crate), plain or de-identified, with
//! formula neutralisation; the export is itself an audit event.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};

use crate::error::{Error, Result, invalid};
use crate::event::{EventKind, OtherEvent, Reader};
use crate::log::AuditLog;
use crate::row::{COLUMNS, Row, Value};

/// The export's header, stable: `seq`, the row columns, the row's chain
/// links, and the chain head at export time (to anchor elsewhere).
pub fn header() -> Vec<&'static str> {
    let mut h = vec!["seq"];
    h.extend(COLUMNS);
    h.extend(["prev_hash", "row_hash", "chain_head"]);
    h
}

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// First day included (UTC).
    pub from: Option<Date>,
    /// Last day included (UTC).
    pub to: Option<Date>,
    pub deidentify: bool,
    /// Start with a UTF-8 byte order mark, which spreadsheet programs use to detect the encoding.
    pub excel: bool,
    /// Who exports (recorded in the export event).
    pub exported_by: Option<Reader>,
    pub workstation_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub rows: u64,
    pub head_seq: i64,
    pub head_hash: String,
    pub deidentified: bool,
    /// The export's own audit event.
    pub export_event_seq: i64,
}

/// Parses YYYY-MM-DD.
pub fn parse_date(s: &str) -> Result<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, format).map_err(|_| invalid("date", format!("{s:?} is not YYYY-MM-DD")))
}

/// A cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection).
fn neutralise(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// DICOM PS3.15 Annex E basic profile for our columns: names, IDs, free text
/// and details removed; reader and workstation pseudonymised; UIDs replaced
/// by keyed-HMAC UIDs; dates shifted. The key and shift are drawn per export
/// and discarded, so pseudonyms are consistent within one export only.
struct Deidentifier {
    key: [u8; 32],
    shift: Duration,
}

impl Deidentifier {
    fn new() -> Result<Deidentifier> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| invalid("random key", e.to_string()))?;
        let mut days = [0u8; 2];
        getrandom::fill(&mut days).map_err(|e| invalid("random shift", e.to_string()))?;
        let shift = Duration::days(30 + i64::from(u16::from_le_bytes(days) % 336));
        Ok(Deidentifier { key, shift })
    }

    fn mac(&self, domain: &str, value: &str) -> [u8; 32] {
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(domain.as_bytes());
        m.update(&[0]);
        m.update(value.as_bytes());
        m.finalize().into_bytes().into()
    }

    fn apply(&self, column: &str, value: &Value) -> Value {
        let Some(text) = value.as_text() else {
            return value.clone();
        };
        match column {
            "reader_name" | "patient_id" | "accession_number" | "reason" | "detail" => Value::Null,
            "reader_id" => Value::Text(format!(
                "R-{}",
                &hex::encode(self.mac("reader", text))[..12]
            )),
            "workstation_id" => Value::Text(format!(
                "W-{}",
                &hex::encode(self.mac("workstation", text))[..8]
            )),
            "study_uid" | "series_uid" | "sop_uid" => {
                let m = self.mac("uid", text);
                let n = u128::from_be_bytes(m[..16].try_into().unwrap_or([0; 16])) >> 1;
                Value::Text(format!("2.25.{n}"))
            }
            "recorded_at" => OffsetDateTime::parse(text, &Rfc3339)
                .ok()
                .and_then(|t| (t - self.shift).format(&Rfc3339).ok())
                .map_or(Value::Null, Value::Text),
            _ => value.clone(),
        }
    }
}

impl AuditLog {
    /// Writes the rows recorded between `from` and `to` (inclusive days, UTC)
    /// to `out` atomically (temporary file, fsync, rename), after a full
    /// integrity check, and records the export as an audit event.
    pub fn export_csv(&mut self, out: &Path, options: &ExportOptions) -> Result<ExportSummary> {
        self.integrity_check()?;
        let (head_seq, head_hash) = self.head()?;
        let from = options.from.map(|d| d.to_string()).unwrap_or_default();
        let to = options
            .to
            .map(|d| (d + Duration::days(1)).to_string())
            .unwrap_or_else(|| "9999".into());
        if options.from.zip(options.to).is_some_and(|(f, t)| f > t) {
            return Err(invalid("date range", "--from is after --to"));
        }
        // The export must be recordable before anything is written.
        let mut event = OtherEvent {
            kind: EventKind::Export,
            reader: options.exported_by.clone(),
            workstation_id: options.workstation_id.clone(),
            study: None,
            model: None,
            execution_provider: None,
            detail: serde_json::Value::Null,
        };
        event.validate()?;
        let deid = if options.deidentify {
            Some(Deidentifier::new()?)
        } else {
            None
        };
        let output = |e: &dyn std::fmt::Display| Error::Output {
            path: out.to_path_buf(),
            message: e.to_string(),
        };
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| output(&"no file name"))?;
        let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
        remove_stale_partials(dir, &name);
        let result = (|| {
            let mut file = std::io::BufWriter::with_capacity(
                1 << 20,
                std::fs::File::create(&tmp).map_err(|e| output(&e))?,
            );
            if options.excel {
                file.write_all("\u{feff}".as_bytes())
                    .map_err(|e| output(&e))?;
            }
            let mut csv = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(file);
            csv.write_record(header()).map_err(|e| output(&e))?;
            let mut rows = 0u64;
            let mut record: Vec<String> = Vec::with_capacity(COLUMNS.len() + 4);
            self.for_each_row(
                "WHERE recorded_at >= ?1 AND recorded_at < ?2",
                &[&from, &to],
                |row: Row| {
                    record.clear();
                    record.push(row.seq.to_string());
                    for (column, value) in COLUMNS.iter().zip(&row.values) {
                        let value = match &deid {
                            Some(d) => d.apply(column, value),
                            None => value.clone(),
                        };
                        record.push(neutralise(value.to_cell()));
                    }
                    record.push(row.prev_hash);
                    record.push(row.row_hash);
                    record.push(head_hash.clone());
                    csv.write_record(&record).map_err(|e| output(&e))?;
                    rows += 1;
                    Ok(())
                },
            )?;
            let file = csv.into_inner().map_err(|e| output(&e.error()))?;
            let file = file.into_inner().map_err(|e| output(e.error()))?;
            file.sync_all().map_err(|e| output(&e))?;
            std::fs::rename(&tmp, out).map_err(|e| output(&e))?;
            Ok(rows)
        })();
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let detail = serde_json::json!({
            "file": name,
            "rows": rows,
            "from": options.from.map(|d| d.to_string()),
            "to": options.to.map(|d| d.to_string()),
            "deidentified": options.deidentify,
            "head_seq": head_seq,
            "head_hash": head_hash,
        });
        event.detail = detail;
        let recorded = self.record_event(&event)?;
        Ok(ExportSummary {
            path: out.to_path_buf(),
            rows,
            head_seq,
            head_hash,
            deidentified: options.deidentify,
            export_event_seq: recorded.seq,
        })
    }
}

/// Temporary files of exports to the same name that were interrupted
/// (the process was killed before its rename).
fn remove_stale_partials(dir: &Path, name: &str) {
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with(&prefix) && file.ends_with(".partial") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad.to_string()).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("confirm".into()), "confirm");
        assert_eq!(neutralise("0.93".into()), "0.93");
    }

    #[test]
    fn pseudonyms_are_consistent_within_an_export_only() {
        let a = Deidentifier::new().expect("key");
        let b = Deidentifier::new().expect("key");
        let uid = Value::Text("1.2.3.4".into());
        assert_eq!(a.apply("study_uid", &uid), a.apply("study_uid", &uid));
        assert_ne!(a.apply("study_uid", &uid), b.apply("study_uid", &uid));
        let Value::Text(t) = a.apply("study_uid", &uid) else {
            panic!("text")
        };
        assert!(t.starts_with("2.25.") && t.len() <= 64);
        assert_eq!(
            a.apply("patient_id", &Value::Text("123".into())),
            Value::Null
        );
        let shifted = a.apply(
            "recorded_at",
            &Value::Text("2026-11-29T10:00:00.000Z".into()),
        );
        assert_ne!(shifted, Value::Text("2026-11-29T10:00:00.000Z".into()));
    }
}
