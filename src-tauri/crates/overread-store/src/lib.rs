//! The department store: every workstation's audit log collected in one
//! PostgreSQL database, for governance across readers and workstations.
//!
//! Each workstation's SQLite log stays the source of truth for its own
//! decisions and works offline; the store is a copy that the workstation's
//! own user cannot rewrite. The database itself checks every row as it
//! arrives (`overread.ingest`, in the migrations): the row's hash recomputed
//! from its contents and its previous hash equal to the stored head of that
//! workstation's chain. A row that does not extend the head is kept aside in
//! a quarantine with the reason, and every workstation shows the alert. The
//! key is (workstation, seq), so sending the same rows twice stores them
//! once.
//!
//! This is the only crate that knows PostgreSQL.

mod claims;
mod error;
mod migrate;
pub mod testing;
mod tls;
mod wire;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use overread_audit::row::Row;

pub use claims::{Claim, ClaimRequest, Claimed};
pub use error::{Error, Result};
pub use migrate::SCHEMA_VERSION;

use error::from_pg;

/// A workstation's chain as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The last row stored (0 when none).
    pub seq: i64,
    pub hash: String,
}

/// What one ingest did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub inserted: u64,
    /// Rows the store held already (a replay).
    pub duplicates: u64,
    /// The first row refused and why; it is in the quarantine, and the rows
    /// after it were not taken.
    pub refused: Option<(i64, String)>,
    /// The workstation's head in the store after this ingest.
    pub head: Head,
}

/// A row the store refused: a workstation's log that no longer extends
/// what the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub workstation: String,
    pub seq: i64,
    pub reason: String,
    /// RFC 3339, UTC.
    pub received_at: String,
}

/// The most rows sent in one ingest call.
pub const BATCH_ROWS: usize = 2000;

/// Checks a connection string without connecting: it must parse, and it
/// must not hold a password (that comes from the environment or a file, so
/// it never sits in a settings file).
pub fn check_conninfo(conninfo: &str) -> Result<()> {
    let config: tokio_postgres::Config =
        conninfo
            .parse()
            .map_err(|e: tokio_postgres::Error| Error::Config {
                message: format!("the connection string cannot be read: {e}"),
            })?;
    if config.get_password().is_some() {
        return Err(Error::Config {
            message: "the connection string holds a password; set OVERREAD_STORE_PASSWORD or OVERREAD_STORE_PASSWORD_FILE instead".into(),
        });
    }
    if config.get_hosts().is_empty() {
        return Err(Error::Config {
            message: "the connection string names no host".into(),
        });
    }
    Ok(())
}

/// Runs a call to PostgreSQL, waiting at most `timeout`.
async fn within<T>(
    timeout: Duration,
    call: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T> {
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| Error::Timeout {
            seconds: timeout.as_secs(),
        })?
        .map_err(|e| from_pg(&e))
}

/// A connection to the department store.
#[derive(Debug)]
pub struct Store {
    client: tokio_postgres::Client,
    connection: tokio::task::JoinHandle<()>,
    timeout: Duration,
}

impl Drop for Store {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl Store {
    /// Connects with a libpq connection string (`host=… port=… user=…
    /// dbname=…`, or a `postgresql://` URL); `password`, when given,
    /// overrides any in the string. TLS is used when the server offers it
    /// (see [`Store::connect_tls`]), verified against the system's roots.
    /// Every call waits at most `timeout`. Must run inside a tokio runtime
    /// (the connection is a task on it).
    pub async fn connect(
        conninfo: &str,
        password: Option<&str>,
        timeout: Duration,
    ) -> Result<Store> {
        Store::connect_tls(conninfo, password, None, timeout).await
    }

    /// As [`Store::connect`], trusting also the CA bundle at `ca_file`
    /// (PEM). TLS is used whenever the server offers it (`sslmode=prefer`,
    /// the default; `require` refuses a server without it; `disable` never
    /// asks), and the server's certificate must verify: an untrusted one is
    /// a configuration error, never a silent fallback.
    pub async fn connect_tls(
        conninfo: &str,
        password: Option<&str>,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<Store> {
        let mut config: tokio_postgres::Config =
            conninfo
                .parse()
                .map_err(|e: tokio_postgres::Error| Error::Config {
                    message: format!("the connection string cannot be read: {e}"),
                })?;
        if let Some(p) = password {
            config.password(p);
        }
        config.connect_timeout(timeout);
        config.application_name("overread");
        let tls = tls::MakeTls(Arc::new(tls::config(ca_file)?));
        let (client, connection) = within(timeout, config.connect(tls))
            .await
            .map_err(tls::explain)?;
        let connection = tokio::spawn(async move {
            // The error reaches the caller through the client's next call.
            let _ = connection.await;
        });
        Ok(Store {
            client,
            connection,
            timeout,
        })
    }

    /// Runs a call with the store's timeout.
    async fn timed<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        within(self.timeout, call).await
    }

    /// Brings the store's schema up to this version's (each migration once,
    /// in order, one store-wide lock); returns the schema version.
    pub async fn migrate(&mut self) -> Result<i32> {
        migrate::run(&mut self.client, self.timeout).await
    }

    /// Where the store holds a workstation's chain.
    pub async fn head(&self, workstation: &str) -> Result<Head> {
        let row = self
            .timed(self.client.query_opt(
                "SELECT seq, row_hash FROM overread.audit_rows WHERE workstation = $1 ORDER BY seq DESC LIMIT 1",
                &[&workstation],
            ))
            .await?;
        Ok(match row {
            Some(r) => Head {
                seq: r.get(0),
                hash: r.get(1),
            },
            None => Head {
                seq: 0,
                hash: overread_audit::row::GENESIS.to_string(),
            },
        })
    }

    /// Sends a workstation's rows, in order (at most [`BATCH_ROWS`]); the
    /// database checks each one against the stored head.
    pub async fn ingest(&self, workstation: &str, rows: &[Row]) -> Result<Ingested> {
        if rows.len() > BATCH_ROWS {
            return Err(Error::Config {
                message: format!("{} rows in one ingest; at most {BATCH_ROWS}", rows.len()),
            });
        }
        let batch: Vec<wire::RowIn> = rows.iter().map(wire::RowIn::from).collect();
        let r = self
            .timed(self.client.query_one(
                "SELECT inserted, duplicates, refused_seq, refused_reason, head_seq, head_hash \
                 FROM overread.ingest($1, $2)",
                &[&workstation, &batch],
            ))
            .await?;
        let refused_seq: Option<i64> = r.get(2);
        let refused_reason: Option<String> = r.get(3);
        Ok(Ingested {
            inserted: r.get::<_, i64>(0) as u64,
            duplicates: r.get::<_, i64>(1) as u64,
            refused: refused_seq.zip(refused_reason),
            head: Head {
                seq: r.get(4),
                hash: r.get(5),
            },
        })
    }

    /// The newest rows the store refused, newest first.
    pub async fn alerts(&self, limit: i64) -> Result<Vec<Alert>> {
        let rows = self
            .timed(self.client.query(
                "SELECT workstation, seq, reason, \
                 to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                 FROM overread.quarantine ORDER BY id DESC LIMIT $1",
                &[&limit],
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Alert {
                workstation: r.get(0),
                seq: r.get(1),
                reason: r.get(2),
                received_at: r.get(3),
            })
            .collect())
    }

    /// Walks a workstation's chain in the store: how many rows verify, and
    /// the first that does not with the reason.
    pub async fn verify(&self, workstation: &str) -> Result<(i64, Option<(i64, String)>)> {
        let r = self
            .timed(self.client.query_one(
                "SELECT verified, bad_seq, reason FROM overread.verify($1)",
                &[&workstation],
            ))
            .await?;
        let bad: Option<i64> = r.get(1);
        let reason: Option<String> = r.get(2);
        Ok((r.get(0), bad.zip(reason)))
    }

    /// The workstations the store holds rows of.
    pub async fn workstations(&self) -> Result<Vec<String>> {
        let rows = self
            .timed(self.client.query(
                "SELECT DISTINCT workstation FROM overread.audit_rows ORDER BY 1",
                &[],
            ))
            .await?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Calls `f` with each stored row of the given kinds recorded on the
    /// days `from..=to` (YYYY-MM-DD, UTC), with its workstation, streaming
    /// in batches through a cursor (the store may hold millions of rows);
    /// each batch waits at most the store's timeout. Returns the rows read.
    pub async fn for_each_row(
        &mut self,
        from: &str,
        to: &str,
        kinds: &[&str],
        mut f: impl FnMut(&str, Row),
    ) -> Result<u64> {
        const FETCH_ROWS: i32 = 5000;
        let timeout = self.timeout;
        let sql = format!(
            "SELECT workstation, seq, {}, prev_hash, row_hash FROM overread.audit_rows \
             WHERE left(recorded_at, 10) COLLATE \"C\" BETWEEN $1 AND $2 AND kind = ANY($3) \
             ORDER BY workstation, seq",
            overread_audit::row::COLUMNS.join(", ")
        );
        let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        let tx = within(timeout, self.client.transaction()).await?;
        // Rows come in key order from the primary key's index, so the first
        // batch is ready at once: a sort of millions of rows first would
        // keep the first fetch waiting longer than any call may.
        within(timeout, tx.batch_execute("SET LOCAL enable_sort = off")).await?;
        let portal = within(timeout, tx.bind(sql.as_str(), &[&from, &to, &kinds])).await?;
        let mut read = 0;
        loop {
            let batch = within(timeout, tx.query_portal(&portal, FETCH_ROWS)).await?;
            if batch.is_empty() {
                break;
            }
            for r in &batch {
                let (workstation, row) = wire::row_out(r);
                f(&workstation, row);
                read += 1;
            }
        }
        within(timeout, tx.commit()).await?;
        Ok(read)
    }

    /// Whether this connection is encrypted (PostgreSQL's `pg_stat_ssl`).
    pub async fn is_tls(&self) -> Result<bool> {
        let r = self
            .timed(self.client.query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            ))
            .await?;
        Ok(r.get(0))
    }

    /// Rows the store holds for a workstation.
    pub async fn count(&self, workstation: &str) -> Result<i64> {
        let r = self
            .timed(self.client.query_one(
                "SELECT count(*) FROM overread.audit_rows WHERE workstation = $1",
                &[&workstation],
            ))
            .await?;
        Ok(r.get(0))
    }
}
