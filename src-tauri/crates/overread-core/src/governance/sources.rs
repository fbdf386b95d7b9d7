//! Where a report's records come from: one workstation's log, or the
//! department store (every workstation's).

use overread_audit::{AuditLog, EventKind};
use snafu::Snafu;

use super::collect::Collector;
use super::{Options, Report};
use crate::department::{StoreError, connect, runtime};

/// The kinds of rows a report reads.
const KINDS: [EventKind; 3] = [
    EventKind::InferenceRun,
    EventKind::Decision,
    EventKind::UnaidedImpression,
];

/// Why a report could not be made.
#[derive(Debug, Snafu)]
pub enum GovernanceError {
    #[snafu(display("{message}"))]
    Period { message: String },

    #[snafu(display("the audit log: {source}"))]
    Log { source: overread_audit::Error },

    #[snafu(display("the department store: {source}"))]
    Store { source: StoreError },

    #[snafu(display("the department store holds a row that cannot be read: {message}"))]
    BadRow { message: String },

    #[snafu(display("{message}"))]
    Write { message: String },
}

impl GovernanceError {
    /// A stable code a UI or script can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            GovernanceError::Period { .. } => "invalid_argument",
            GovernanceError::Log { .. } => "audit",
            GovernanceError::Store { .. } | GovernanceError::BadRow { .. } => "store",
            GovernanceError::Write { .. } => "output",
        }
    }
}

/// The rows of a report's windows, read and tallied: the report and the
/// registry CSV are made from it.
pub struct Collected {
    collector: Collector,
    scope: String,
    chain_alerts: Vec<String>,
}

impl std::fmt::Debug for Collected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collected")
            .field("scope", &self.scope)
            .field("rows", &self.collector.rows)
            .field("decisions", &self.collector.decisions.len())
            .finish_non_exhaustive()
    }
}

impl Collected {
    pub fn report(&self) -> Report {
        self.collector
            .finish(self.scope.clone(), self.chain_alerts.clone())
    }

    /// Writes the registry CSV ([`super::registry`]); returns its rows.
    pub fn write_registry(&self, out: &mut dyn std::io::Write) -> std::io::Result<u64> {
        self.collector.write_registry(out)
    }
}

/// Reads one workstation's log.
pub fn from_log(log: &AuditLog, options: Options) -> Result<Collected, GovernanceError> {
    let mut c = Collector::new(options);
    log.for_each_record(&KINDS, |record| {
        c.add(&record.workstation_id, &record);
        Ok(())
    })
    .map_err(|source| GovernanceError::Log { source })?;
    Ok(Collected {
        collector: c,
        scope: format!("this workstation's audit log ({})", log.path().display()),
        chain_alerts: Vec::new(),
    })
}

/// Reads the department store: every workstation's rows, and the rows the
/// store refused. Blocks; each call to the store waits at most
/// [`STORE_TIMEOUT`](crate::department::STORE_TIMEOUT).
pub fn from_store(conninfo: &str, options: Options) -> Result<Collected, GovernanceError> {
    let store = |source| GovernanceError::Store { source };
    let runtime = runtime().map_err(store)?;
    let (from, to) = (
        options
            .baseline
            .from
            .clone()
            .min(options.period.from.clone()),
        options.baseline.to.clone().max(options.period.to.clone()),
    );
    let mut c = Collector::new(options);
    let mut bad: Option<String> = None;
    let (workstations, alerts) = runtime.block_on(async {
        let mut s = connect(conninfo).await.map_err(store)?;
        let kinds: Vec<&str> = KINDS.iter().map(|k| k.as_str()).collect();
        s.for_each_row(&from, &to, &kinds, |workstation, row| match row.record() {
            Ok(record) => c.add(workstation, &record),
            Err(e) if bad.is_none() => {
                bad = Some(format!("{workstation} row {}: {e}", row.seq));
            }
            Err(_) => {}
        })
        .await
        .map_err(store)?;
        let workstations = s.workstations().await.map_err(store)?;
        let alerts = s.alerts(100).await.map_err(store)?;
        Ok::<_, GovernanceError>((workstations, alerts))
    })?;
    if let Some(message) = bad {
        return Err(GovernanceError::BadRow { message });
    }
    let chain_alerts = alerts
        .iter()
        .map(|a| {
            format!(
                "{}: row {} refused at {}: {}",
                a.workstation, a.seq, a.received_at, a.reason
            )
        })
        .collect();
    let scope = format!(
        "the department store ({} workstation{})",
        workstations.len(),
        if workstations.len() == 1 { "" } else { "s" }
    );
    Ok(Collected {
        collector: c,
        scope,
        chain_alerts,
    })
}

/// Writes a report file as the exports are written: a new owner-only
/// (0600) temporary file beside it, renamed over the name when complete, so
/// a reader never sees half a file and a link left at the name is replaced,
/// not followed.
pub fn write_private(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), GovernanceError> {
    let fail = |e: std::io::Error| GovernanceError::Write {
        message: format!("{}: {e}", path.display()),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".overread-report.")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(fail)?;
    {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut out).map_err(fail)?;
        std::io::Write::flush(&mut out).map_err(fail)?;
    }
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
