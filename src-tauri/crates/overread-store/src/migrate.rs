//! Versioned migrations: each file in `migrations/` runs once, in order,
//! all in one transaction under one store-wide lock, so that workstations
//! starting together do not race. `overread.schema_migrations` records what
//! ran.

use std::time::Duration;

use crate::error::{Error, Result, from_pg};

/// The migrations, in order: (version, name, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "audit_rows",
        include_str!("../migrations/0001_audit_rows.sql"),
    ),
    (2, "verify", include_str!("../migrations/0002_verify.sql")),
    (3, "claims", include_str!("../migrations/0003_claims.sql")),
];

/// The schema version this Overread writes and reads.
pub const SCHEMA_VERSION: i32 = 3;

/// Any number: the lock's key among the store's advisory locks.
const LOCK: i64 = 0x4f56_5244_0001;

pub(crate) async fn run(client: &mut tokio_postgres::Client, timeout: Duration) -> Result<i32> {
    let work = async {
        let tx = client.transaction().await.map_err(|e| from_pg(&e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
            .await
            .map_err(|e| from_pg(&e))?;
        tx.batch_execute(
            "CREATE SCHEMA IF NOT EXISTS overread;
             CREATE TABLE IF NOT EXISTS overread.schema_migrations (
                 version    integer PRIMARY KEY,
                 name       text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );",
        )
        .await
        .map_err(|e| from_pg(&e))?;
        let found: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM overread.schema_migrations",
                &[],
            )
            .await
            .map_err(|e| from_pg(&e))?
            .get(0);
        if found > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                found,
                known: SCHEMA_VERSION,
            });
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > found) {
            tx.batch_execute(sql).await.map_err(|e| from_pg(&e))?;
            tx.execute(
                "INSERT INTO overread.schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await
            .map_err(|e| from_pg(&e))?;
        }
        tx.commit().await.map_err(|e| from_pg(&e))?;
        Ok(SCHEMA_VERSION)
    };
    tokio::time::timeout(timeout * 4, work)
        .await
        .map_err(|_| Error::Timeout {
            seconds: (timeout * 4).as_secs(),
        })?
}
