//! The audit log file: opening with the durability settings checked, appending
//! hash-chained rows, verifying the chain.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params_from_iter};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::anchor::{self, Head};
use crate::error::{Error, Result, invalid};
use crate::event::{self, DecisionEvent, EventKind, OtherEvent};
use crate::record::Record;
use crate::row::{self, COLUMNS, GENESIS, Row, Value};
use crate::schema;

/// Address space SQLite may map for reading the file.
const MMAP_BYTES: i64 = 1 << 30;

/// How to open the log.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// SQLCipher key (only with the `sqlcipher` feature); from the OS keychain in the app.
    pub key: Option<String>,
    /// The application version written into every row.
    pub app_version: String,
    /// Where the last known head is kept outside the database
    /// ([`anchor_path`](crate::anchor_path)); `None` keeps none.
    pub anchor: Option<PathBuf>,
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    Ok {
        rows: i64,
        head_hash: String,
    },
    /// The first row whose sequence, link or hash is wrong.
    Broken {
        seq: i64,
        position: i64,
        reason: String,
    },
}

/// An open audit log. Rows are only ever inserted.
#[derive(Debug)]
pub struct AuditLog {
    conn: Connection,
    path: PathBuf,
    app_version: String,
    key: Option<String>,
    anchor: Option<PathBuf>,
    /// Why the anchor could not be updated after the last commit, if so.
    anchor_error: Option<String>,
}

impl AuditLog {
    /// Opens (creating owner-only if absent) the log at `path`, applies
    /// pending migrations, checks the durability pragmas and runs quick_check.
    pub fn open(path: &Path, options: &OpenOptions) -> Result<AuditLog> {
        let db_error = |e: rusqlite::Error| Error::Database {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        create_owner_only(path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_error)?;
        if let Some(key) = &options.key {
            if !cfg!(feature = "sqlcipher") {
                return Err(invalid(
                    "key",
                    "this build has no SQLCipher (feature `sqlcipher`)",
                ));
            }
            conn.pragma_update(None, "key", key).map_err(db_error)?;
        }
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_error)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Pragma {
                path: path.into(),
                pragma: "journal_mode",
                actual: mode,
                expected: "wal",
            });
        }
        // A wrong pragma is silent: read it back.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_error)?;
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .map_err(db_error)?;
        if sync != 2 {
            return Err(Error::Pragma {
                path: path.into(),
                pragma: "synchronous",
                actual: sync.to_string(),
                expected: "2 (FULL)",
            });
        }
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_error)?;
        // Reads (export, verify) map pages instead of copying them.
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)
            .map_err(db_error)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(db_error)?;
        if check != "ok" {
            return Err(Error::Corrupt {
                path: path.into(),
                detail: check,
            });
        }
        schema::migrations()
            .to_latest(&mut conn)
            .map_err(|e| Error::Database {
                path: path.into(),
                message: format!("migration failed: {e}"),
            })?;
        let mut log = AuditLog {
            conn,
            path: path.to_path_buf(),
            app_version: options.app_version.clone(),
            key: options.key.clone(),
            anchor: options.anchor.clone(),
            anchor_error: None,
        };
        log.check_anchor()?;
        Ok(log)
    }

    /// Opens a log that does not extend its anchored head (restored from a
    /// backup, or cut short) after an administrator has looked into why:
    /// records who acknowledged it, the head that was expected, the head
    /// found and the reason, then anchors the new head.
    pub fn open_acknowledging(
        path: &Path,
        options: &OpenOptions,
        by: event::Reader,
        reason: &str,
        workstation_id: &str,
    ) -> Result<AuditLog> {
        let Some(anchor) = options.anchor.clone() else {
            return Err(invalid("anchor", "no anchor file to acknowledge"));
        };
        if reason.trim().is_empty() {
            return Err(invalid("reason", "say why the log's head changed"));
        }
        let expected = anchor::read(&anchor)?;
        let mut log = AuditLog::open(
            path,
            &OpenOptions {
                anchor: None,
                ..options.clone()
            },
        )?;
        let (rows, hash) = log.head()?;
        let event = OtherEvent {
            kind: EventKind::AuditLogUsed,
            reader: Some(by),
            workstation_id: workstation_id.to_string(),
            study: None,
            model: None,
            execution_provider: None,
            detail: serde_json::json!({
                "action": "head_acknowledged",
                "expected": expected,
                "found": Head { rows, hash },
                "reason": reason.trim(),
            }),
        };
        log.anchor = Some(anchor);
        log.record_event(&event)?;
        if let Some(e) = log.anchor_error.take() {
            return Err(Error::Output {
                path: log.anchor.clone().unwrap_or_default(),
                message: e,
            });
        }
        Ok(log)
    }

    /// Refuses a log that is shorter than the anchored head or does not
    /// contain it; anchors the head when there is no anchor yet, or when the
    /// log has moved past it (a commit whose anchor write was cut off).
    fn check_anchor(&mut self) -> Result<()> {
        let Some(path) = self.anchor.clone() else {
            return Ok(());
        };
        let (rows, hash) = self.head()?;
        let found = Head { rows, hash };
        let Some(expected) = anchor::read(&path)? else {
            return if rows > 0 {
                anchor::write(&path, &found)
            } else {
                Ok(())
            };
        };
        let refuse = |what: String| Error::Anchor {
            path: path.clone(),
            message: format!(
                "{what}; if this is expected (the log was restored from a backup), \
                 an administrator runs `overread audit acknowledge --reason …`"
            ),
        };
        if rows < expected.rows {
            return Err(refuse(format!(
                "the log has {rows} rows but had {} (rows were removed from its end, or the file was replaced)",
                expected.rows
            )));
        }
        let at: String = if expected.rows == 0 {
            GENESIS.to_string()
        } else {
            self.conn
                .query_row(
                    "SELECT row_hash FROM audit_events WHERE seq = ?1",
                    [expected.rows],
                    |r| r.get(0),
                )
                .map_err(|e| self.db_error(e))?
        };
        if at != expected.hash {
            return Err(refuse(format!(
                "row {} does not have the last known head hash {} (the log was replaced or rewritten)",
                expected.rows,
                short(&expected.hash)
            )));
        }
        if rows > expected.rows {
            anchor::write(&path, &found)?;
        }
        Ok(())
    }

    /// Why the anchor could not be updated after the last commit (the row
    /// itself is committed; the anchor lags behind, which a later commit
    /// repairs).
    pub fn anchor_error(&self) -> Option<&str> {
        self.anchor_error.as_deref()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    fn db_error(&self, e: rusqlite::Error) -> Error {
        Error::Database {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Records a decision and returns it as stored. It counts as recorded
    /// once this returns Ok: the COMMIT has completed with synchronous=FULL.
    pub fn record_decision(&mut self, event: &DecisionEvent) -> Result<Record> {
        event.validate()?;
        if let Some(target) = event.supersedes {
            let kind: Option<String> = self
                .conn
                .query_row(
                    "SELECT kind FROM audit_events WHERE seq = ?1",
                    [target as i64],
                    |r| r.get(0),
                )
                .map(Some)
                .or_else(|e| {
                    if e == rusqlite::Error::QueryReturnedNoRows {
                        Ok(None)
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| self.db_error(e))?;
            if kind.as_deref() != Some("decision") {
                return Err(invalid(
                    "supersedes",
                    format!("row {target} is not a recorded decision"),
                ));
            }
        }
        let values = decision_values(event, &self.app_version);
        self.append(&[values]).map(|mut v| v.remove(0))
    }

    /// Records any other audit event.
    pub fn record_event(&mut self, event: &OtherEvent) -> Result<Record> {
        event.validate()?;
        let values = other_values(event, &self.app_version);
        self.append(&[values]).map(|mut v| v.remove(0))
    }

    /// Records many decisions in one transaction (imports and benchmarks).
    pub fn record_decisions(&mut self, events: &[DecisionEvent]) -> Result<Vec<Record>> {
        for e in events {
            e.validate()?;
        }
        let rows: Vec<Vec<Value>> = events
            .iter()
            .map(|e| decision_values(e, &self.app_version))
            .collect();
        self.append(&rows)
    }

    fn append(&mut self, rows: &[Vec<Value>]) -> Result<Vec<Record>> {
        let path = self.path.clone();
        let db_error = |e: rusqlite::Error| Error::Database {
            path: path.clone(),
            message: e.to_string(),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error)?;
        let (mut seq, mut prev) = last_row(&tx).map_err(db_error)?;
        let mut recorded = Vec::with_capacity(rows.len());
        {
            let sql = format!(
                "INSERT INTO audit_events (seq, {}, prev_hash, row_hash) VALUES ({})",
                COLUMNS.join(", "),
                (1..=COLUMNS.len() + 3)
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut stmt = tx.prepare_cached(&sql).map_err(db_error)?;
            for values in rows {
                seq += 1;
                let hash = row::row_hash(&prev, seq, values);
                let mut params: Vec<rusqlite::types::Value> = Vec::with_capacity(COLUMNS.len() + 3);
                params.push(seq.into());
                params.extend(values.iter().map(to_sql));
                params.push(prev.clone().into());
                params.push(hash.clone().into());
                stmt.execute(params_from_iter(params)).map_err(db_error)?;
                let row = Row {
                    seq,
                    values: values.clone(),
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    row_hash: hash,
                };
                recorded.push(row.record()?);
            }
        }
        tx.commit().map_err(db_error)?;
        if let (Some(path), Some(last)) = (&self.anchor, recorded.last()) {
            let head = Head {
                rows: last.seq,
                hash: last.row_hash.clone(),
            };
            self.anchor_error = anchor::write(path, &head).err().map(|e| e.to_string());
        }
        Ok(recorded)
    }

    /// Rows with `from <= seq`, in order, at most `limit`.
    pub fn rows(&self, from_seq: i64, limit: i64) -> Result<Vec<Row>> {
        let sql = format!(
            "SELECT seq, {}, prev_hash, row_hash FROM audit_events WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
            COLUMNS.join(", ")
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| self.db_error(e))?;
        let rows = stmt
            .query_map([from_seq, limit], read_row)
            .map_err(|e| self.db_error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.db_error(e))
    }

    /// Typed records with `from <= seq`, in order, at most `limit`.
    pub fn records(&self, from_seq: i64, limit: i64) -> Result<Vec<Record>> {
        self.rows(from_seq, limit)?
            .iter()
            .map(Row::record)
            .collect()
    }

    /// Calls `f` with every record of the given kinds, in sequence order,
    /// streaming (the log may hold millions of rows).
    pub fn for_each_record(
        &self,
        kinds: &[EventKind],
        mut f: impl FnMut(Record) -> Result<()>,
    ) -> Result<()> {
        let list = kinds
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        self.for_each_row(&format!("WHERE kind IN ({list})"), &[], |row| {
            f(row.record()?)
        })
    }

    /// Calls `f` for every row in sequence order, streaming.
    pub(crate) fn for_each_row(
        &self,
        filter: &str,
        params: &[&dyn rusqlite::ToSql],
        mut f: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        let sql = format!(
            "SELECT seq, {}, prev_hash, row_hash FROM audit_events {filter} ORDER BY seq",
            COLUMNS.join(", ")
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.db_error(e))?;
        let mut rows = stmt.query(params).map_err(|e| self.db_error(e))?;
        while let Some(r) = rows.next().map_err(|e| self.db_error(e))? {
            f(read_row(r).map_err(|e| self.db_error(e))?)?;
        }
        Ok(())
    }

    /// The last row's hash (GENESIS for an empty log) and the row count.
    pub fn head(&self) -> Result<(i64, String)> {
        last_row(&self.conn).map_err(|e| self.db_error(e))
    }

    /// Walks the whole chain: sequence numbers 1, 2, 3…, each row linked to
    /// the previous hash, each hash recomputed from the row's values.
    pub fn verify(&self) -> Result<Verification> {
        let mut expected_seq = 1i64;
        let mut prev = GENESIS.to_string();
        let mut broken = None;
        self.for_each_row("", &[], |row| {
            if broken.is_some() {
                return Ok(());
            }
            let reason = if row.seq != expected_seq {
                Some(format!("sequence number {} where {expected_seq} was expected (a row is missing or reordered)", row.seq))
            } else if row.prev_hash != prev {
                Some("does not link to the previous row's hash (a row before it was removed, reordered or edited)".to_string())
            } else if row::row_hash(&prev, row.seq, &row.values) != row.row_hash {
                Some("its contents do not match its hash (the row was edited)".to_string())
            } else {
                None
            };
            if let Some(reason) = reason {
                broken = Some(Verification::Broken { seq: row.seq, position: expected_seq, reason });
            }
            prev = row.row_hash;
            expected_seq += 1;
            Ok(())
        })?;
        Ok(broken.unwrap_or(Verification::Ok {
            rows: expected_seq - 1,
            head_hash: prev,
        }))
    }

    /// Full integrity_check (before exports).
    pub fn integrity_check(&self) -> Result<()> {
        integrity_check(&self.conn, &self.path)
    }

    /// A second, read-only connection to the same file (with the key and
    /// read settings), for work on another thread; WAL lets it read while
    /// this connection works.
    pub(crate) fn reader(&self) -> Reader {
        Reader {
            path: self.path.clone(),
            key: self.key.clone(),
        }
    }

    /// Runs integrity_check on a reader connection in another thread; join
    /// it to get the result.
    pub(crate) fn integrity_check_in_background(&self) -> std::thread::JoinHandle<Result<()>> {
        let reader = self.reader();
        std::thread::spawn(move || integrity_check(&reader.open()?, &reader.path))
    }

    /// The first and last sequence numbers recorded in `[from, to)` (RFC 3339
    /// prefixes), through the date index; (1, 0) when there are none.
    pub(crate) fn seq_range(&self, from: &str, to: &str) -> Result<(i64, i64)> {
        self.conn
            .query_row(
                "SELECT IFNULL(MIN(seq), 1), IFNULL(MAX(seq), 0) FROM audit_events WHERE recorded_at >= ?1 AND recorded_at < ?2",
                [from, to],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.db_error(e))
    }

    /// Copies the log through SQLite's online backup API (never a file copy).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        create_owner_only(dest)?;
        let mut target = Connection::open(dest).map_err(|e| Error::Database {
            path: dest.into(),
            message: e.to_string(),
        })?;
        let backup =
            rusqlite::backup::Backup::new(&self.conn, &mut target).map_err(|e| self.db_error(e))?;
        backup
            .run_to_completion(256, std::time::Duration::from_millis(0), None)
            .map_err(|e| self.db_error(e))
    }
}

/// What a worker thread needs to open its own read-only connection.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    pub path: PathBuf,
    key: Option<String>,
}

impl Reader {
    pub(crate) fn open(&self) -> Result<Connection> {
        let db_error = |e: rusqlite::Error| Error::Database {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_error)?;
        if let Some(key) = &self.key {
            conn.pragma_update(None, "key", key).map_err(db_error)?;
        }
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)
            .map_err(db_error)?;
        Ok(conn)
    }
}

/// Streams raw rows of `conn` in sequence order.
pub(crate) fn for_each_raw_row(
    conn: &Connection,
    path: &Path,
    filter: &str,
    params: &[&dyn rusqlite::ToSql],
    mut f: impl FnMut(&rusqlite::Row<'_>) -> Result<()>,
) -> Result<()> {
    let db_error = |e: rusqlite::Error| Error::Database {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let sql = format!(
        "SELECT seq, {}, prev_hash, row_hash FROM audit_events {filter} ORDER BY seq",
        COLUMNS.join(", ")
    );
    let mut stmt = conn.prepare(&sql).map_err(db_error)?;
    let mut rows = stmt.query(params).map_err(db_error)?;
    while let Some(r) = rows.next().map_err(db_error)? {
        f(r)?;
    }
    Ok(())
}

/// The last row's sequence number and hash; (0, GENESIS) for an empty log.
fn last_row(conn: &Connection) -> rusqlite::Result<(i64, String)> {
    conn.query_row(
        "SELECT seq, row_hash FROM audit_events ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .or_else(|e| {
        if e == rusqlite::Error::QueryReturnedNoRows {
            Ok((0, GENESIS.to_string()))
        } else {
            Err(e)
        }
    })
}

fn integrity_check(conn: &Connection, path: &Path) -> Result<()> {
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| Error::Database {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if result != "ok" {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            detail: result,
        });
    }
    Ok(())
}

fn to_sql(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => (*i).into(),
        Value::Real(r) => (*r).into(),
        Value::Text(s) => s.clone().into(),
    }
}

pub(crate) fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    let mut values = Vec::with_capacity(COLUMNS.len());
    for i in 0..COLUMNS.len() {
        values.push(match r.get_ref(i + 1)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Real(v) => Value::Real(v),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Text(hex::encode(b)),
        });
    }
    Ok(Row {
        seq: r.get(0)?,
        values,
        prev_hash: r.get(COLUMNS.len() + 1)?,
        row_hash: r.get(COLUMNS.len() + 2)?,
    })
}

/// UTC now, RFC 3339 with milliseconds (as `recorded_at` is written).
pub fn now() -> String {
    let t = OffsetDateTime::now_utc();
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn decision_values(e: &DecisionEvent, app_version: &str) -> Vec<Value> {
    let t = |s: &str| Value::Text(s.to_string());
    vec![
        t(&now()),
        t(EventKind::Decision.as_str()),
        t(&e.reader.id),
        t(&e.reader.display_name),
        t(&e.reader.role),
        t(&e.workstation_id),
        t(&e.study.patient_id),
        t(&e.study.accession_number),
        t(&e.study.study_uid),
        t(&e.study.series_uid),
        t(&e.study.sop_uid),
        Value::text(e.model.as_ref().map(|m| m.name.as_str())),
        Value::text(e.model.as_ref().map(|m| m.version.as_str())),
        Value::text(e.model.as_ref().map(|m| m.sha256.as_str())),
        Value::text(e.execution_provider.as_deref()),
        t(&e.finding),
        e.ai_score.map_or(Value::Null, Value::Real),
        e.threshold.map_or(Value::Null, Value::Real),
        Value::Int(i64::from(e.ai_flagged)),
        t(e.decision.as_str()),
        Value::text(e.region.map(|r| r.encode()).as_deref()),
        Value::text(e.reason.as_deref()),
        e.display_to_decision_ms
            .map_or(Value::Null, |v| Value::Int(v as i64)),
        e.supersedes.map_or(Value::Null, |v| Value::Int(v as i64)),
        t(app_version),
        Value::Null,
    ]
}

fn other_values(e: &OtherEvent, app_version: &str) -> Vec<Value> {
    let t = |s: &str| Value::Text(s.to_string());
    let study = e.study.as_ref();
    vec![
        t(&now()),
        t(e.kind.as_str()),
        Value::text(e.reader.as_ref().map(|r| r.id.as_str())),
        Value::text(e.reader.as_ref().map(|r| r.display_name.as_str())),
        Value::text(e.reader.as_ref().map(|r| r.role.as_str())),
        t(&e.workstation_id),
        Value::text(study.map(|s| s.patient_id.as_str())),
        Value::text(study.map(|s| s.accession_number.as_str())),
        Value::text(study.map(|s| s.study_uid.as_str())),
        Value::text(study.map(|s| s.series_uid.as_str())),
        Value::text(study.map(|s| s.sop_uid.as_str())),
        Value::text(e.model.as_ref().map(|m| m.name.as_str())),
        Value::text(e.model.as_ref().map(|m| m.version.as_str())),
        Value::text(e.model.as_ref().map(|m| m.sha256.as_str())),
        Value::text(e.execution_provider.as_deref()),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        t(app_version),
        if e.detail.is_null() {
            Value::Null
        } else {
            Value::Text(e.detail.to_string())
        },
    ]
}

/// Creates the file with mode 0600 if it does not exist (PHI at rest).
fn create_owner_only(path: &Path) -> Result<()> {
    let out = |e: std::io::Error| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(out)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(out(e)),
    }
}

/// The first 12 hex digits of a hash, for messages.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
