//! CSV export (RFC 4180 through the csv crate), plain or de-identified, with
//! formula neutralisation; the export is itself an audit event.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use time::{Date, Duration};

use crate::error::{Error, Result, invalid};
use crate::event::{EventKind, OtherEvent, Reader};
use crate::log::AuditLog;
use crate::row::COLUMNS;

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

/// One sequence range of an export, written as CSV records.
struct Part<'a> {
    from: &'a str,
    to: &'a str,
    head_hash: &'a str,
    deid: Option<&'a Deidentifier>,
}

impl Part<'_> {
    /// Writes rows `lo..=hi` (within the date range) to `file`; returns the
    /// row count and the file.
    fn write(
        &self,
        conn: &rusqlite::Connection,
        db: &Path,
        lo: i64,
        hi: i64,
        file: std::fs::File,
        out: &Path,
    ) -> Result<(u64, std::fs::File)> {
        let output = |e: &dyn std::fmt::Display| Error::Output {
            path: out.to_path_buf(),
            message: e.to_string(),
        };
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .buffer_capacity(1 << 20)
            .from_writer(file);
        let mut rows = 0u64;
        let mut cell = String::new();
        // One reused record per row: csv's fast path copies whole records.
        let mut record = csv::ByteRecord::with_capacity(1024, COLUMNS.len() + 4);
        // Rows in rowid order: the unary + keeps SQLite from sorting by the date index.
        let filter = "WHERE seq BETWEEN ?1 AND ?2 AND +recorded_at >= ?3 AND +recorded_at < ?4";
        crate::log::for_each_raw_row(conn, db, filter, &[&lo, &hi, &self.from, &self.to], |row| {
            record.clear();
            for i in 0..COLUMNS.len() + 3 {
                let column = match i {
                    0 => "seq",
                    i if i <= COLUMNS.len() => COLUMNS[i - 1],
                    i if i == COLUMNS.len() + 1 => "prev_hash",
                    _ => "row_hash",
                };
                let value = row.get_ref(i).map_err(|e| output(&e))?;
                push_cell(&mut record, &mut cell, column, value, self.deid);
            }
            record.push_field(self.head_hash.as_bytes());
            csv.write_byte_record(&record).map_err(|e| output(&e))?;
            rows += 1;
            Ok(())
        })?;
        let file = csv.into_inner().map_err(|e| output(&e.error()))?;
        Ok((rows, file))
    }
}

/// Adds one cell to `record`: text neutralised, and de-identified when asked.
fn push_cell(
    record: &mut csv::ByteRecord,
    buf: &mut String,
    column: &str,
    value: rusqlite::types::ValueRef<'_>,
    deid: Option<&Deidentifier>,
) {
    use rusqlite::types::ValueRef;
    use std::fmt::Write as _;
    buf.clear();
    match value {
        ValueRef::Null => {}
        ValueRef::Integer(v) => match deid {
            // Sequence numbers would join rows across exports: re-keyed.
            Some(d) if matches!(column, "seq" | "supersedes") => buf.push_str(&d.sequence(v)),
            _ => {
                let _ = write!(buf, "{v}");
            }
        },
        ValueRef::Real(v) => {
            let _ = write!(buf, "{v}");
        }
        ValueRef::Text(t) => {
            let text = String::from_utf8_lossy(t);
            match deid {
                Some(d) => buf.push_str(d.apply(column, &text).as_deref().unwrap_or("")),
                _ if !formula_like(&text) => {
                    record.push_field(text.as_bytes());
                    return;
                }
                _ => buf.push_str(&text),
            }
            if formula_like(buf) {
                buf.insert(0, '\'');
            }
        }
        ValueRef::Blob(b) => buf.push_str(&hex::encode(b)),
    }
    record.push_field(buf.as_bytes());
}

/// Whether a spreadsheet would run a cell as a formula (OWASP CSV injection);
/// such cells get a leading apostrophe.
fn formula_like(text: &str) -> bool {
    text.starts_with(['\t', '\r'])
        || text
            .trim_start_matches(|c: char| c.is_whitespace())
            .starts_with(['=', '+', '-', '@'])
}

/// DICOM PS3.15 Annex E basic profile for our columns: names, IDs, free text
/// and details removed; reader and workstation pseudonymised; UIDs replaced
/// by keyed-HMAC UIDs; dates shifted. The key and shift are drawn per export
/// and discarded, so pseudonyms are consistent within one export only.
struct Deidentifier {
    /// The keyed HMAC state, cloned for each value.
    mac: Hmac<Sha256>,
    shift: Duration,
    /// Readers and workstations repeat: their pseudonyms are computed once.
    cache: std::cell::RefCell<std::collections::HashMap<(&'static str, String), String>>,
}

impl Clone for Deidentifier {
    fn clone(&self) -> Self {
        Deidentifier {
            mac: self.mac.clone(),
            shift: self.shift,
            cache: Default::default(),
        }
    }
}

impl Deidentifier {
    fn new() -> Result<Deidentifier> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| invalid("random key", e.to_string()))?;
        let mut days = [0u8; 2];
        getrandom::fill(&mut days).map_err(|e| invalid("random shift", e.to_string()))?;
        let shift = Duration::days(30 + i64::from(u16::from_le_bytes(days) % 336));
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .map_err(|e| invalid("HMAC key", e.to_string()))?;
        Ok(Deidentifier {
            mac,
            shift,
            cache: Default::default(),
        })
    }

    fn mac(&self, domain: &str, value: &str) -> [u8; 32] {
        let mut m = self.mac.clone();
        m.update(domain.as_bytes());
        m.update(&[0]);
        m.update(value.as_bytes());
        m.finalize().into_bytes().into()
    }

    fn cached(&self, domain: &'static str, value: &str, make: impl FnOnce() -> String) -> String {
        let key = (domain, value.to_string());
        if let Some(hit) = self.cache.borrow().get(&key) {
            return hit.clone();
        }
        let made = make();
        self.cache.borrow_mut().insert(key, made.clone());
        made
    }

    /// A sequence number's pseudonym: the same within this export, and
    /// nothing in common with the log or any other export.
    fn sequence(&self, seq: i64) -> String {
        format!(
            "S-{}",
            &hex::encode(self.mac("seq", &seq.to_string()))[..12]
        )
    }

    /// The de-identified text of a column, or None where it is removed.
    fn apply(&self, column: &str, text: &str) -> Option<String> {
        match column {
            // The chain's hashes would join rows across exports and back to
            // the log: re-keyed, so links hold within this export only.
            "prev_hash" | "row_hash" | "chain_head" => Some(hex::encode(self.mac("hash", text))),
            "reader_name" | "patient_id" | "accession_number" | "reason" | "detail" => None,
            "reader_id" => Some(self.cached("reader", text, || {
                format!("R-{}", &hex::encode(self.mac("reader", text))[..12])
            })),
            "workstation_id" => Some(self.cached("workstation", text, || {
                format!("W-{}", &hex::encode(self.mac("workstation", text))[..8])
            })),
            "study_uid" | "series_uid" | "sop_uid" => {
                let m = self.mac("uid", text);
                let mut n = [0u8; 16];
                n.copy_from_slice(&m[..16]);
                Some(format!("2.25.{}", u128::from_be_bytes(n) >> 1))
            }
            // Whole days, so the time of day (and every interval) is kept.
            "recorded_at" => {
                let day = text.get(..10)?;
                let shifted = self.cached("date", day, || {
                    parse_date(day)
                        .map(|d| (d - self.shift).to_string())
                        .unwrap_or_default()
                });
                (!shifted.is_empty()).then(|| format!("{shifted}{}", &text[10..]))
            }
            _ => Some(text.to_string()),
        }
    }
}

impl AuditLog {
    /// Writes the rows recorded between `from` and `to` (inclusive days, UTC)
    /// to `out` atomically (temporary file, fsync, rename), after a full
    /// integrity check, and records the export as an audit event.
    pub fn export_csv(&mut self, out: &Path, options: &ExportOptions) -> Result<ExportSummary> {
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
        // integrity_check runs beside the writing; the file is published only if it passes.
        let checker = self.integrity_check_in_background();
        // The date index finds the sequence range; the second half of it is
        // written by a worker on its own read-only connection, beside this
        // thread's first half and the integrity check.
        let (lo, hi) = self.seq_range(&from, &to)?;
        let mid = lo + (hi - lo + 1) / 2;
        // The head as this export shows it (re-keyed when de-identified).
        let shown_head = match &deid {
            Some(d) => d.apply("chain_head", &head_hash).unwrap_or_default(),
            None => head_hash.clone(),
        };
        let tail = dir.join(format!(".{name}.{}.tail.partial", std::process::id()));
        let result = (|| {
            let worker = {
                let (reader, tail, from, to, head_hash) = (
                    self.reader(),
                    tail.clone(),
                    from.clone(),
                    to.clone(),
                    shown_head.clone(),
                );
                let deid = deid.clone();
                std::thread::spawn(move || -> Result<u64> {
                    let conn = reader.open()?;
                    let file = create_private(&tail).map_err(|e| Error::Output {
                        path: tail.clone(),
                        message: e.to_string(),
                    })?;
                    let part = Part {
                        from: &from,
                        to: &to,
                        head_hash: &head_hash,
                        deid: deid.as_ref(),
                    };
                    part.write(&conn, &reader.path, mid, hi, file, &tail)
                        .map(|(rows, _)| rows)
                })
            };
            let mut file = create_private(&tmp).map_err(|e| output(&e))?;
            if options.excel {
                file.write_all("\u{feff}".as_bytes())
                    .map_err(|e| output(&e))?;
            }
            let mut csv = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(&mut file);
            csv.write_record(header()).map_err(|e| output(&e))?;
            csv.flush().map_err(|e| output(&e))?;
            drop(csv);
            let part = Part {
                from: &from,
                to: &to,
                head_hash: &shown_head,
                deid: deid.as_ref(),
            };
            let (head_rows, mut file) =
                part.write(self.conn(), self.path(), lo, mid - 1, file, &tmp)?;
            let tail_rows = worker
                .join()
                .map_err(|_| output(&"export worker failed"))??;
            let mut tail_file = std::fs::File::open(&tail).map_err(|e| output(&e))?;
            std::io::copy(&mut tail_file, &mut file).map_err(|e| output(&e))?;
            file.sync_all().map_err(|e| output(&e))?;
            checker
                .join()
                .map_err(|_| output(&"integrity check thread failed"))??;
            std::fs::rename(&tmp, out).map_err(|e| output(&e))?;
            let _ = std::fs::remove_file(&tail);
            Ok(head_rows + tail_rows)
        })();
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                let _ = std::fs::remove_file(&tail);
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

/// A new file only its owner can read (0600): never an existing file, and
/// never through a symbolic link someone left at its name.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
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
        for bad in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            " =1+1",
            "\u{a0}@SUM(A1)",
            "\n-2",
        ] {
            let mut record = csv::ByteRecord::new();
            push_cell(
                &mut record,
                &mut String::new(),
                "reason",
                rusqlite::types::ValueRef::Text(bad.as_bytes()),
                None,
            );
            assert!(record[0].starts_with(b"'"), "{bad:?}");
        }
        assert!(!formula_like("confirm") && !formula_like("0.93"));
    }

    #[test]
    fn pseudonyms_are_consistent_within_an_export_only() {
        let a = Deidentifier::new().expect("key");
        let b = Deidentifier::new().expect("key");
        assert_eq!(
            a.apply("study_uid", "1.2.3.4"),
            a.apply("study_uid", "1.2.3.4")
        );
        assert_ne!(
            a.apply("study_uid", "1.2.3.4"),
            b.apply("study_uid", "1.2.3.4")
        );
        let t = a.apply("study_uid", "1.2.3.4").expect("replaced");
        assert!(t.starts_with("2.25.") && t.len() <= 64);
        assert_eq!(a.apply("reader_id", "rad1"), a.apply("reader_id", "rad1"));
        assert_eq!(a.apply("patient_id", "123"), None);
        let shifted = a
            .apply("recorded_at", "2026-11-29T10:00:00.000Z")
            .expect("shifted");
        assert!(
            shifted.ends_with("T10:00:00.000Z") && !shifted.starts_with("2026-11-29"),
            "{shifted}"
        );
    }
}
