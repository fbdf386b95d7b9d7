//! Sending a workstation's audit log to the department store (PostgreSQL,
//! through `overread-store`), shared by the app's background sync and
//! `overread audit sync`. The cursor is the store's own head for this
//! workstation: rows after it are read from the local log in batches and
//! sent; the store checks each against the chain it holds. Nothing is
//! re-scanned, and a replay after a crash or a lost reply stores nothing
//! twice.

use std::path::Path;
use std::time::Duration;

use overread_audit::Reader;
use overread_audit::row::Row;
use overread_store::{Alert, BATCH_ROWS, ClaimRequest, Store};

pub use overread_store::Error as StoreError;
pub use overread_store::check_conninfo;
/// A private PostgreSQL cluster for tests and benchmarks.
pub use overread_store::testing;

/// How long any one call to the store may take.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes a password file may hold.
const MAX_PASSWORD_BYTES: u64 = 4096;

/// What one sync did and where the two chains stand.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    /// Rows the store took now.
    pub sent: u64,
    /// The last row the store holds for this workstation.
    pub store_head: i64,
    /// The local log's last row.
    pub local_head: i64,
    /// The first row the store refused now, and why.
    pub refused: Option<(i64, String)>,
    /// The newest refusals the store holds (every workstation's).
    pub alerts: Vec<Alert>,
}

/// The store's password: `OVERREAD_STORE_PASSWORD`, else the first line of
/// the file `OVERREAD_STORE_PASSWORD_FILE` names; none when neither is set
/// (the connection string or PostgreSQL's trust rules decide).
pub fn password() -> Result<Option<String>, StoreError> {
    if let Ok(p) = std::env::var("OVERREAD_STORE_PASSWORD") {
        return Ok(Some(p));
    }
    let Some(file) = std::env::var_os("OVERREAD_STORE_PASSWORD_FILE") else {
        return Ok(None);
    };
    let fail = |why: String| StoreError::Config {
        message: format!("password file {}: {why}", Path::new(&file).display()),
    };
    let meta = std::fs::metadata(&file).map_err(|e| fail(e.to_string()))?;
    if meta.len() > MAX_PASSWORD_BYTES {
        return Err(fail(format!("larger than {MAX_PASSWORD_BYTES} bytes")));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| fail(e.to_string()))?;
    Ok(Some(text.lines().next().unwrap_or_default().to_string()))
}

/// Connects to the store with the password (see [`password`]) and, when
/// `OVERREAD_STORE_CA_FILE` names one, the CA bundle its TLS certificate
/// chains to (TLS is used whenever the server offers it, and verified).
pub(crate) async fn connect(conninfo: &str) -> Result<Store, StoreError> {
    let password = password()?;
    let ca_file = std::env::var_os("OVERREAD_STORE_CA_FILE").map(std::path::PathBuf::from);
    Store::connect_tls(
        conninfo,
        password.as_deref(),
        ca_file.as_deref(),
        STORE_TIMEOUT,
    )
    .await
}

/// A runtime for one blocking conversation with the store (the connection
/// is a task on it).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, StoreError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::Config {
            message: format!("cannot start the network runtime: {e}"),
        })
}

fn local(message: String) -> StoreError {
    StoreError::Config {
        message: format!("the local audit log: {message}"),
    }
}

/// Sends the rows of a local log the store does not hold yet, in batches,
/// until the store holds them all or refuses one. `read(from, n)` returns
/// the local rows with `seq >= from`, at most `n` (the caller holds no lock
/// across calls); `local_head` is the local log's last row. Blocks; every
/// call to the store waits at most [`STORE_TIMEOUT`].
pub fn sync(
    conninfo: &str,
    workstation: &str,
    local_head: i64,
    read: &mut dyn FnMut(i64, usize) -> Result<Vec<Row>, String>,
) -> Result<SyncReport, StoreError> {
    runtime()?.block_on(async {
        let mut store = connect(conninfo).await?;
        store.migrate().await?;
        let mut head = store.head(workstation).await?;
        let mut report = SyncReport {
            sent: 0,
            store_head: head.seq,
            local_head,
            refused: None,
            alerts: Vec::new(),
        };
        // The row at the store's head (or at the local head, when the local
        // log is shorter) must be the same row in both: a log replaced or
        // rewritten since the last sync is refused, and the store keeps it.
        if head.seq > 0 {
            let at = read(head.seq.min(local_head).max(1), 1).map_err(local)?;
            if let Some(row) = at.first() {
                let got = store.ingest(workstation, std::slice::from_ref(row)).await?;
                report.refused = got.refused;
            }
            if report.refused.is_none() && local_head < head.seq {
                report.refused = Some((
                    local_head + 1,
                    format!(
                        "the store holds {} rows of this workstation and the local log only {local_head}: the local log was cut short or replaced",
                        head.seq
                    ),
                ));
            }
        }
        while report.refused.is_none() && head.seq < local_head {
            let rows = read(head.seq + 1, BATCH_ROWS).map_err(local)?;
            if rows.is_empty() {
                break;
            }
            let got = store.ingest(workstation, &rows).await?;
            report.sent += got.inserted;
            // A batch that moves nothing (every row refused or held) ends
            // the round rather than looping.
            let moved = got.head.seq > head.seq;
            head = got.head;
            if got.refused.is_some() {
                report.refused = got.refused;
                break;
            }
            if !moved {
                break;
            }
        }
        report.store_head = head.seq;
        report.alerts = store.alerts(20).await?;
        Ok(report)
    })
}

pub use overread_store::{Claim, Claimed};

/// How long a claim lasts unless its workstation renews it: a workstation
/// that dies frees its study after this.
pub const CLAIM_TTL: Duration = Duration::from_secs(30);

/// What one round of claims asks of the store.
#[derive(Debug, Clone, Copy)]
pub struct ClaimsAsk<'a> {
    pub workstation: &'a str,
    pub reader: &'a Reader,
    /// A study this workstation no longer has open (Study Instance UID), and
    /// whether its reader finished it (the claim then stays as the mark that
    /// it is read).
    pub release: Option<(&'a str, bool)>,
    /// The study open now: claimed, or the claim renewed.
    pub claim: Option<&'a str>,
    /// Take the open study over from whoever holds it.
    pub take_over: bool,
    pub ttl: Duration,
    /// The studies whose claims to read (the worklist's).
    pub studies: &'a [String],
}

/// What the store answered: the open study's claim, and the worklist's
/// live or finished claims.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsAnswer {
    pub claimed: Option<Claimed>,
    pub live: Vec<Claim>,
}

/// One round of claims: release what was left, claim or renew what is
/// open, and read the worklist's claims. Blocks; each call waits at most
/// [`STORE_TIMEOUT`].
pub fn claims_round(conninfo: &str, ask: ClaimsAsk<'_>) -> Result<ClaimsAnswer, StoreError> {
    runtime()?.block_on(async {
        let mut store = connect(conninfo).await?;
        store.migrate().await?;
        if let Some((study, done)) = ask.release {
            store.release(study, ask.workstation, done).await?;
        }
        let claimed = match ask.claim {
            Some(study) => Some(
                store
                    .claim(ClaimRequest {
                        study_uid: study,
                        workstation: ask.workstation,
                        reader_id: &ask.reader.id,
                        reader_name: &ask.reader.display_name,
                        ttl: ask.ttl.as_secs_f64(),
                        take_over: ask.take_over,
                    })
                    .await?,
            ),
            None => None,
        };
        let live = store.claims(ask.studies).await?;
        Ok(ClaimsAnswer { claimed, live })
    })
}
