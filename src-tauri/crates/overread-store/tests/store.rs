//! The department store against a real PostgreSQL 15, started once by this
//! test binary in a throw-away folder on a loopback port (as the `postgres`
//! system user when the test runs as root: PostgreSQL refuses to run as
//! root). Real SQLite logs from overread-audit are synced into it.

use std::path::Path;
use std::time::Duration;

use overread_audit::row::{GENESIS, Row, Value, row_hash};
use overread_audit::{
    AuditLog, Decision, DecisionEvent, EventKind, ModelRef, OpenOptions, OtherEvent, Reader,
    StudyRef,
};
use overread_store::testing::Postgres;
use overread_store::{Error, Store};

fn decision(n: u64) -> DecisionEvent {
    DecisionEvent {
        reader: Reader {
            id: format!("reader{}", n % 3),
            display_name: format!("Dr Phantom {}", n % 3),
            role: "radiologist".into(),
        },
        workstation_id: "ws-a".into(),
        study: StudyRef {
            patient_id: format!("OVR-PH-{n:04}"),
            accession_number: format!("ACC{n:05}"),
            study_uid: format!("2.25.{}1", n + 1),
            series_uid: format!("2.25.{}2", n + 1),
            sop_uid: format!("2.25.{}3", n + 1),
        },
        model: Some(ModelRef {
            name: "demo-opacity".into(),
            version: "1.0.0".into(),
            sha256: "ab".repeat(32),
        }),
        execution_provider: Some("cpu".into()),
        finding: "nodule".into(),
        // Values whose decimal forms are not exact: the store must hash
        // the same bits.
        ai_score: Some(0.1 + n as f64 / 7.0 % 0.8),
        threshold: Some(0.6),
        ai_flagged: n.is_multiple_of(2),
        decision: if n.is_multiple_of(3) {
            Decision::Dismiss
        } else {
            Decision::Confirm
        },
        region: None,
        reason: n
            .is_multiple_of(3)
            .then(|| "stable — ünchanged".to_string()),
        display_to_decision_ms: Some(1000 + n),
        supersedes: None,
    }
}

/// A local log with `n` decisions after an application start event.
fn local_log(path: &Path, n: u64) -> AuditLog {
    let mut log = AuditLog::open(
        path,
        &OpenOptions {
            key: None,
            app_version: "0.1.0-test".into(),
            anchor: None,
        },
    )
    .expect("open the local log");
    log.record_event(&OtherEvent {
        kind: EventKind::ApplicationStart,
        reader: None,
        workstation_id: "ws-a".into(),
        study: None,
        model: None,
        execution_provider: None,
        detail: serde_json::json!({"note": "a start"}),
    })
    .expect("start event");
    for i in 0..n {
        log.record_decision(&decision(i)).expect("decision");
    }
    log
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The rows with one column changed and the chain hashed again from there:
/// a local log edited with its triggers dropped and re-hashed.
fn rewritten(rows: &[Row], at: usize, column: usize, value: Value) -> Vec<Row> {
    let mut out = rows.to_vec();
    out[at].values[column] = value;
    let mut prev = if at == 0 {
        GENESIS.to_string()
    } else {
        out[at - 1].row_hash.clone()
    };
    for r in &mut out[at..] {
        r.prev_hash = prev.clone();
        r.row_hash = row_hash(&prev, r.seq, &r.values);
        prev = r.row_hash.clone();
    }
    out
}

#[test]
fn each_row_is_stored_once_and_a_log_changed_after_sync_is_refused() {
    let pg = Postgres::start();
    let rt = runtime();
    let work = tempfile::tempdir().expect("tempdir");
    let timeout = Duration::from_secs(10);
    rt.block_on(async {
        let mut store = Store::connect(&pg.conninfo(), None, timeout)
            .await
            .expect("connect");
        assert_eq!(store.migrate().await.expect("migrate"), 2);
        // Twice (another workstation starting): nothing runs again.
        assert_eq!(store.migrate().await.expect("migrate again"), 2);

        let mut log = local_log(&work.path().join("a.sqlite"), 40);
        let rows = log.rows(1, 10_000).expect("rows");
        assert_eq!(rows.len(), 41);
        let got = store.ingest("ws-a", &rows).await.expect("ingest");
        assert_eq!((got.inserted, got.duplicates), (41, 0), "{got:?}");
        assert_eq!(got.refused, None);
        let (seq, hash) = log.head().expect("local head");
        assert_eq!((got.head.seq, got.head.hash.clone()), (seq, hash));
        assert_eq!(store.head("ws-a").await.expect("head"), got.head);

        // A replay (a lost reply, a crash before the cursor moved): nothing twice.
        let again = store.ingest("ws-a", &rows[10..]).await.expect("replay");
        assert_eq!((again.inserted, again.duplicates), (0, 31));
        assert_eq!(store.count("ws-a").await.expect("count"), 41);

        // New rows continue the chain.
        log.record_decision(&decision(99)).expect("decision");
        let new = log.rows(42, 100).expect("rows");
        let more = store.ingest("ws-a", &new).await.expect("more");
        assert_eq!((more.inserted, more.head.seq), (1, 42));

        // The local log edited and re-hashed after sync (triggers dropped):
        // the chain is consistent in itself, yet the store refuses it.
        let all = log.rows(1, 100).expect("rows");
        let reason = overread_audit::row::COLUMNS
            .iter()
            .position(|c| *c == "reason")
            .expect("reason column");
        let forged = rewritten(&all, 3, reason, Value::Text("changed later".into()));
        let refused = store.ingest("ws-a", &forged).await.expect("ingest");
        let (seq, why) = refused.refused.clone().expect("refused");
        assert_eq!(seq, 4);
        assert!(
            why.contains("the local log was changed after it was synced"),
            "{why}"
        );
        assert_eq!(refused.head.seq, 42, "nothing after it was taken");
        // The forged chain carried on with a new row: it does not extend
        // the stored head.
        let mut next = forged[41].clone();
        next.seq = 43;
        next.prev_hash = forged[41].row_hash.clone();
        next.row_hash = row_hash(&next.prev_hash, 43, &next.values);
        let cut = store.ingest("ws-a", &[next]).await.expect("ingest");
        let (_, why) = cut.refused.expect("refused");
        assert!(why.contains("does not extend the stored head"), "{why}");

        // A row whose contents do not match its hash, and a gap.
        let mut tampered = log.rows(1, 100).expect("rows")[41].clone();
        tampered.seq = 43;
        tampered.prev_hash = more.head.hash.clone();
        tampered.row_hash = row_hash(&tampered.prev_hash, 43, &tampered.values);
        tampered.values[reason] = Value::Text("edited in transit".into());
        let bad = store.ingest("ws-a", &[tampered]).await.expect("ingest");
        assert!(
            bad.refused
                .expect("refused")
                .1
                .contains("does not match its contents")
        );
        let mut gap = all[41].clone();
        gap.seq = 50;
        let gap = store.ingest("ws-a", &[gap]).await.expect("ingest");
        assert!(gap.refused.expect("refused").1.contains("rows are missing"));

        // Each refusal is one alert, kept once however often it is sent.
        store.ingest("ws-a", &forged).await.expect("again");
        let alerts = store.alerts(10).await.expect("alerts");
        assert_eq!(alerts.len(), 4, "{alerts:?}");
        assert!(alerts.iter().all(|a| a.workstation == "ws-a"));
        assert_eq!(store.count("ws-a").await.expect("count"), 42);
        // What the store holds still verifies, refusals and all.
        assert_eq!(store.verify("ws-a").await.expect("verify"), (42, None));

        // Another workstation's chain is its own.
        let b = local_log(&work.path().join("b.sqlite"), 5);
        let got = store
            .ingest("ws-b", &b.rows(1, 100).expect("rows"))
            .await
            .expect("ws-b");
        assert_eq!((got.inserted, got.refused), (6, None));
    });

    // Nothing in the store is updated or deleted, even by its owner.
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&pg.conninfo(), tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        for sql in [
            "UPDATE overread.audit_rows SET reason = 'x' WHERE seq = 1",
            "DELETE FROM overread.audit_rows WHERE seq = 1",
            "TRUNCATE overread.audit_rows",
            "DELETE FROM overread.quarantine",
        ] {
            let e = client.batch_execute(sql).await.expect_err(sql);
            let message = e.as_db_error().map(|d| d.message().to_string());
            assert!(
                message
                    .as_deref()
                    .is_some_and(|m| m.contains("append-only")),
                "{sql}: {message:?}"
            );
        }
        // The database's owner can still switch the trigger off and edit a
        // row; verify names it.
        client
            .batch_execute(
                "ALTER TABLE overread.audit_rows DISABLE TRIGGER audit_rows_append_only;
                 UPDATE overread.audit_rows SET reason = 'edited in the store' WHERE workstation = 'ws-b' AND seq = 3;
                 ALTER TABLE overread.audit_rows ENABLE TRIGGER audit_rows_append_only;",
            )
            .await
            .expect("an owner's edit");
        let store = Store::connect(&pg.conninfo(), None, Duration::from_secs(5))
            .await
            .expect("connect");
        let (verified, bad) = store.verify("ws-b").await.expect("verify");
        assert_eq!(verified, 2);
        let (seq, why) = bad.expect("the edit is found");
        assert_eq!(seq, 3);
        assert!(why.contains("does not match its contents"), "{why}");
    });

    // The server goes away: a transient error, then the sync goes on.
    let mut log = local_log(&work.path().join("c.sqlite"), 3);
    rt.block_on(async {
        let store = Store::connect(&pg.conninfo(), None, Duration::from_secs(5))
            .await
            .expect("connect");
        let rows = log.rows(1, 100).expect("rows");
        store.ingest("ws-c", &rows[..2]).await.expect("first part");
        pg.stop();
        let e = store.ingest("ws-c", &rows[2..]).await.expect_err("down");
        assert!(e.is_transient(), "{e}");
        assert!(!e.to_string().contains('\n'));
        let e = Store::connect(&pg.conninfo(), None, Duration::from_secs(2))
            .await
            .expect_err("down");
        assert!(e.is_transient(), "{e}");
        pg.start_again();
        let store = Store::connect(&pg.conninfo(), None, Duration::from_secs(5))
            .await
            .expect("reconnect");
        let head = store.head("ws-c").await.expect("head");
        assert_eq!(head.seq, 2, "what was acknowledged survived the crash");
        log.record_decision(&decision(7)).expect("decision");
        let rest = log.rows(head.seq + 1, 100).expect("rows");
        let got = store.ingest("ws-c", &rest).await.expect("the rest");
        assert_eq!((got.inserted, got.head.seq), (3, 5));
    });

    // A connection string that cannot be read is a configuration error.
    let e = rt
        .block_on(Store::connect(
            "host=127.0.0.1 port=notaport",
            None,
            timeout,
        ))
        .expect_err("bad");
    assert!(matches!(e, Error::Config { .. }), "{e}");
}
