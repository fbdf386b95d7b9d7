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
use overread_store::{Claim, ClaimRequest, Claimed, Error, SCHEMA_VERSION, Store};

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
        assert_eq!(store.migrate().await.expect("migrate"), SCHEMA_VERSION);
        // Twice (another workstation starting): nothing runs again.
        assert_eq!(
            store.migrate().await.expect("migrate again"),
            SCHEMA_VERSION
        );

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

    rt.block_on(claims(&pg, timeout));
    rt.block_on(tls(&pg, work.path(), timeout));

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

fn ask<'a>(
    study: &'a str,
    ws: &'a str,
    name: &'a str,
    ttl: f64,
    take_over: bool,
) -> ClaimRequest<'a> {
    ClaimRequest {
        study_uid: study,
        workstation: ws,
        reader_id: name,
        reader_name: name,
        ttl,
        take_over,
    }
}

/// Leases on studies: one holder at a time, renewed by its holder, taken
/// over only when asked (naming whom), expired by the server's clock, and
/// released; many workstations asking at once get one winner.
async fn claims(pg: &Postgres, timeout: Duration) {
    let a = Store::connect(&pg.conninfo(), None, timeout)
        .await
        .expect("connect a");
    let b = Store::connect(&pg.conninfo(), None, timeout)
        .await
        .expect("connect b");
    let Claimed::Granted { claim, taken_from } = a
        .claim(ask("1.2.3", "ws-a", "Dr A", 30.0, false))
        .await
        .expect("a")
    else {
        panic!("nobody held 1.2.3");
    };
    assert_eq!((claim.workstation.as_str(), taken_from), ("ws-a", None));
    assert!(
        claim.expires_in > 29.0 && claim.expires_in <= 30.0,
        "{claim:?}"
    );
    let held = b
        .claim(ask("1.2.3", "ws-b", "Dr B", 30.0, false))
        .await
        .expect("b");
    let Claimed::HeldBy(holder) = held else {
        panic!("a holds it: {held:?}");
    };
    assert_eq!(
        (holder.workstation.as_str(), holder.reader_name.as_str()),
        ("ws-a", "Dr A")
    );
    // Renewing keeps the first claim's time.
    let Claimed::Granted { claim: renewed, .. } = a
        .claim(ask("1.2.3", "ws-a", "Dr A", 30.0, false))
        .await
        .expect("renew")
    else {
        panic!("a renews its own");
    };
    assert_eq!(renewed.claimed_at, claim.claimed_at);
    // An explicit take-over names whom it displaced.
    let took = b
        .claim(ask("1.2.3", "ws-b", "Dr B", 30.0, true))
        .await
        .expect("take over");
    assert!(
        matches!(&took, Claimed::Granted { taken_from: Some((ws, who)), .. } if ws == "ws-a" && who == "Dr A"),
        "{took:?}"
    );
    assert!(matches!(
        a.claim(ask("1.2.3", "ws-a", "Dr A", 30.0, false))
            .await
            .expect("a again"),
        Claimed::HeldBy(_)
    ));
    // Released: free for the next; a release of what one does not hold is false.
    let uids = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(!a.release("1.2.3", "ws-a", false).await.expect("not a's"));
    assert!(b.release("1.2.3", "ws-b", false).await.expect("b's"));
    assert!(
        b.claims(&uids(&["1.2.3"]))
            .await
            .expect("claims")
            .is_empty()
    );

    // Finished: the claim stays as the mark that the study is read; another
    // reader is refused it (read-only) unless they take it over, and its
    // reader may open it again.
    a.claim(ask("2.2.2", "ws-a", "Dr A", 30.0, false))
        .await
        .expect("a");
    assert!(a.release("2.2.2", "ws-a", true).await.expect("done"));
    let read = b.claims(&uids(&["2.2.2", "1.2.3"])).await.expect("claims");
    assert_eq!(read.len(), 1);
    assert!(read[0].done && read[0].workstation == "ws-a", "{read:?}");
    assert!(matches!(
        b.claim(ask("2.2.2", "ws-b", "Dr B", 30.0, false))
            .await
            .expect("b"),
        Claimed::HeldBy(Claim { done: true, .. })
    ));
    let again = a
        .claim(ask("2.2.2", "ws-a", "Dr A", 30.0, false))
        .await
        .expect("reopen");
    assert!(
        matches!(
            again,
            Claimed::Granted {
                claim: Claim { done: false, .. },
                ..
            }
        ),
        "{again:?}"
    );

    // A lease nobody renews expires by the server's clock.
    a.claim(ask("4.5.6", "ws-a", "Dr A", 0.5, false))
        .await
        .expect("short");
    assert_eq!(b.claims(&uids(&["4.5.6"])).await.expect("claims").len(), 1);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        b.claims(&uids(&["4.5.6"]))
            .await
            .expect("claims")
            .is_empty()
    );
    let Claimed::Granted { taken_from, .. } = b
        .claim(ask("4.5.6", "ws-b", "Dr B", 30.0, false))
        .await
        .expect("expired")
    else {
        panic!("an expired lease is free");
    };
    assert_eq!(taken_from, None, "an expired lease is not a take-over");

    // Ten workstations asking for one study at once: exactly one wins.
    let mut stores = Vec::new();
    for _ in 0..10 {
        stores.push(
            Store::connect(&pg.conninfo(), None, timeout)
                .await
                .expect("connect"),
        );
    }
    let asks: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            tokio::spawn(async move {
                let n = format!("ws-{i}");
                s.claim(ask("7.8.9", &n, &n, 30.0, false)).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for a in asks {
        answers.push(a.await.expect("task"));
    }
    let granted = answers
        .iter()
        .filter(|a| matches!(a, Ok(Claimed::Granted { .. })))
        .count();
    assert_eq!(granted, 1, "{answers:?}");

    // Bad input is the server's one-line error, not a lease.
    let e = a
        .claim(ask("", "ws-a", "Dr A", 30.0, false))
        .await
        .expect_err("empty uid");
    assert!(matches!(e, Error::Server { .. }), "{e}");
    let e = a
        .claim(ask("1.2", "ws-a", "Dr A", -1.0, false))
        .await
        .expect_err("ttl");
    assert!(e.to_string().contains("between 0 and 3600"), "{e}");
}

/// Whether this connection is encrypted, as the server sees it.
async fn encrypted(store: &Store) -> bool {
    store.is_tls().await.expect("pg_stat_ssl")
}

/// TLS when the server offers it, always verified: a server whose
/// certificate does not chain to a trusted CA is refused with the fix.
async fn tls(pg: &Postgres, dir: &Path, timeout: Duration) {
    let plain = Store::connect(&pg.conninfo(), None, timeout)
        .await
        .expect("plain");
    assert!(!encrypted(&plain).await, "the server offers no TLS yet");
    let (ca, cert, key) = overread_store::testing::test_ca(dir, "store");
    let (other, _, _) = overread_store::testing::test_ca(dir, "other");
    pg.enable_tls(&cert, &key);

    let e = Store::connect(&pg.conninfo(), None, timeout)
        .await
        .expect_err("untrusted");
    assert!(matches!(e, Error::Config { .. }), "{e}");
    assert!(e.to_string().contains("OVERREAD_STORE_CA_FILE"), "{e}");
    let e = Store::connect_tls(&pg.conninfo(), None, Some(&other), timeout)
        .await
        .expect_err("another CA");
    assert!(e.to_string().contains("not trusted"), "{e}");
    let store = Store::connect_tls(&pg.conninfo(), None, Some(&ca), timeout)
        .await
        .expect("trusted");
    assert!(encrypted(&store).await, "TLS when the server offers it");
    let required = format!("{} sslmode=require", pg.conninfo());
    let store = Store::connect_tls(&required, None, Some(&ca), timeout)
        .await
        .expect("require");
    assert!(encrypted(&store).await);
    let disabled = format!("{} sslmode=disable", pg.conninfo());
    let store = Store::connect(&disabled, None, timeout)
        .await
        .expect("disable");
    assert!(!encrypted(&store).await, "sslmode=disable never asks");

    let e = Store::connect_tls(
        &pg.conninfo(),
        None,
        Some(&dir.join("missing.pem")),
        timeout,
    )
    .await
    .expect_err("no bundle");
    assert!(e.to_string().contains("missing.pem"), "{e}");
    std::fs::write(dir.join("empty.pem"), "not a certificate").expect("write");
    let e = Store::connect_tls(&pg.conninfo(), None, Some(&dir.join("empty.pem")), timeout)
        .await
        .expect_err("empty bundle");
    assert!(e.to_string().contains("holds no certificate"), "{e}");
}
