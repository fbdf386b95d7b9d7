//! One worklist for several readers: two workstations on one PACS (a real
//! Orthanc whose index is in PostgreSQL, Debian's `orthanc-postgresql`) and
//! one department store on the same PostgreSQL, both started by this test.
//! A study one reader opens is claimed for them: the other workstation
//! shows who is reading it, keeps it out of "next" and refuses decisions on
//! it until it is taken over (recorded). Each study is read once, and both
//! workstations' decisions reach the store.

use std::collections::HashMap;
use std::path::Path;

use overread_core::api::{
    DecisionRequest, ErrorCode, ReaderIdentity, ReadingStatus, Rect, Settings, StudyId, WorklistRow,
};
use overread_core::workstation::Workstation;
use overread_pacs::testing::{Orthanc, free_port};
use overread_store::testing::Postgres;

fn workstation(dir: &Path, name: &str, reader: &str, store: &str, pacs_port: u16) -> Workstation {
    let home = dir.join(name);
    std::fs::create_dir_all(home.join("no-local-studies")).expect("mkdir");
    let config = home.join("pacs.toml");
    std::fs::write(
        &config,
        format!(
            "[cache]\ndir = {:?}\n[[source]]\nname = \"pacs\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:{pacs_port}/dicom-web\"\n[source.worklist]\ndays = 36500\n",
            home.join("cache")
        ),
    )
    .expect("config");
    let mut settings = Settings::demo(&home.join("no-local-studies"), Path::new("unused-model"));
    settings.reader = ReaderIdentity {
        id: reader.to_lowercase().replace(' ', "."),
        display_name: reader.into(),
        role: "radiologist".into(),
    };
    settings.pacs_config = Some(config.display().to_string());
    settings.department_store = Some(store.into());
    // SAFETY: the workstation id is read from the environment when the log
    // opens; this test's own threads are the only ones, and none reads the
    // environment from C while it is set.
    unsafe { std::env::set_var("OVERREAD_WORKSTATION", name) };
    let ws = Workstation::open(settings, &home.join("audit.sqlite3"), None).expect("open");
    assert_eq!(ws.sync_pacs(), 3, "{name} retrieves the three studies");
    ws
}

fn rows(ws: &Workstation) -> HashMap<String, WorklistRow> {
    ws.worklist()
        .rows
        .into_iter()
        .map(|r| (r.accession.clone(), r))
        .collect()
}

/// The study "next" gives: the first unread row nobody else is reading.
fn next(ws: &Workstation) -> WorklistRow {
    ws.worklist()
        .rows
        .into_iter()
        .find(|r| r.reading == ReadingStatus::Unread && r.claim.as_ref().is_none_or(|c| c.mine))
        .expect("a study to read")
}

fn add(ws: &Workstation, id: StudyId) -> Result<(), overread_core::api::ApiError> {
    let request = DecisionRequest {
        finding: "nodule".into(),
        decision: "add_missed".into(),
        region: Some(Rect {
            x: 10.0,
            y: 10.0,
            width: 20.0,
            height: 20.0,
        }),
        reason: None,
        display_ms: Some(1500.0),
    };
    ws.decide(id, &request).map(|_| ())
}

#[test]
fn two_workstations_read_each_study_once() {
    let pg = Postgres::start();
    pg.create_database("orthanc");
    let orthanc =
        Orthanc::start_on_postgres(free_port(), "127.0.0.1", pg.port(), "overread", "orthanc");
    let system = String::from_utf8_lossy(&orthanc.get("/system")).into_owned();
    let backend: serde_json::Value = serde_json::from_str(&system).expect("/system");
    assert!(
        backend["DatabaseBackendPlugin"]
            .as_str()
            .is_some_and(|p| p.contains("PostgreSQLIndex")),
        "Orthanc's index is in PostgreSQL: {system}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let studies = dir.path().join("studies");
    overread_core::demo::generate(&studies, 3, 128, 11).expect("phantoms");
    for e in std::fs::read_dir(&studies).expect("studies").flatten() {
        if e.path().extension().is_some_and(|x| x == "dcm") {
            orthanc.upload(&e.path());
        }
    }
    let store = pg.conninfo();
    let a = workstation(dir.path(), "ws-a", "Dr A", &store, orthanc.http);
    let b = workstation(dir.path(), "ws-b", "Dr B", &store, orthanc.http);
    assert!(a.sync_claims() && b.sync_claims(), "the store answers");
    assert!(
        rows(&b).values().all(|r| r.claim.is_none()),
        "nobody reads yet"
    );

    // A opens its next study: claimed at once, B sees who reads it and its
    // "next" is another study; B's decisions on it are refused.
    let first = next(&a);
    a.open_study(first.id).expect("open");
    assert!(a.sync_claims());
    assert!(
        rows(&a)[&first.accession]
            .claim
            .as_ref()
            .is_some_and(|c| c.mine)
    );
    assert!(b.sync_claims());
    let seen = rows(&b)[&first.accession].claim.clone().expect("claimed");
    assert_eq!(
        (seen.reader.as_str(), seen.workstation.as_str(), seen.mine),
        ("Dr A", "ws-a", false)
    );
    let order: Vec<String> = b.worklist().rows.into_iter().map(|r| r.accession).collect();
    assert_eq!(
        order.last(),
        Some(&first.accession),
        "out of B's next order: {order:?}"
    );
    let b_first = next(&b);
    assert_ne!(b_first.accession, first.accession);
    let b_id = |acc: &str| rows(&b)[acc].id;
    let e = add(&b, b_id(&first.accession)).expect_err("read-only at B");
    assert_eq!(e.code, ErrorCode::Claimed);
    assert!(
        e.message.starts_with("Dr A is reading this study at ws-a"),
        "{e:?}"
    );
    b.open_study(b_id(&first.accession))
        .expect("B may still look at it");
    assert!(b.sync_claims());
    assert!(
        !rows(&b)[&first.accession]
            .claim
            .as_ref()
            .is_some_and(|c| c.mine),
        "looking is not taking"
    );

    // Each reads their own.
    b.open_study(b_first.id).expect("open");
    assert!(b.sync_claims());
    add(&a, first.id).expect("A decides its study");
    add(&b, b_first.id).expect("B decides its study");

    // A moves on to the third (A's "next" knows B is reading the second):
    // A's first stays claimed as read, the third is claimed.
    assert!(a.sync_claims());
    let third = next(&a);
    assert!(third.accession != first.accession && third.accession != b_first.accession);
    a.open_study(third.id).expect("open");
    assert!(a.sync_claims() && b.sync_claims());
    let at_b = rows(&b);
    let read = at_b[&first.accession].claim.clone().expect("read by A");
    assert!(read.done && read.reader == "Dr A", "{read:?}");
    let e = add(&b, b_id(&first.accession)).expect_err("read by A");
    assert!(
        e.message.starts_with("Dr A read this study at ws-a"),
        "{e:?}"
    );
    assert!(
        at_b[&third.accession]
            .claim
            .as_ref()
            .is_some_and(|c| c.reader == "Dr A")
    );

    // B takes the third over: recorded at B; A's decisions are refused then.
    let e = b
        .take_over(b_first.id)
        .expect_err("nobody else holds B's own");
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    b.take_over(b_id(&third.accession)).expect("take over");
    let taken = b.audit_recent(5).expect("audit");
    assert!(
        taken
            .iter()
            .any(|r| r.kind == "study_taken_over" && r.reader == "dr.b"),
        "{taken:?}"
    );
    assert!(b.sync_claims() && a.sync_claims());
    let at_a = rows(&a)[&third.accession].claim.clone().expect("claimed");
    assert_eq!((at_a.reader.as_str(), at_a.mine), ("Dr B", false));
    assert_eq!(
        add(&a, third.id).expect_err("taken over").code,
        ErrorCode::Claimed
    );
    add(&b, b_id(&third.accession)).expect("B decides it");

    // Both logs reach the store: every study decided once, by one reader.
    assert!(a.sync_department() > 0 && b.sync_department() > 0);
    let mut decided: HashMap<String, Vec<String>> = HashMap::new();
    for (ws, row) in rows_in_store(&store, "decision") {
        let list = decided
            .entry(row.get("accession_number").to_cell())
            .or_default();
        if !list.contains(&ws) {
            list.push(ws);
        }
    }
    let took = rows_in_store(&store, "study_taken_over");
    assert_eq!(took.len(), 1, "{took:?}");
    let detail = took[0].1.get("detail").to_cell();
    assert!(
        detail.contains("\"from_reader\":\"Dr A\"")
            && detail.contains("\"from_workstation\":\"ws-a\""),
        "{detail}"
    );
    let mut expected = HashMap::from([
        (first.accession.clone(), "ws-a".to_string()),
        (b_first.accession.clone(), "ws-b".to_string()),
        (third.accession.clone(), "ws-b".to_string()),
    ]);
    assert_eq!(decided.len(), 3, "{decided:?}");
    for (accession, workstations) in decided {
        assert_eq!(
            workstations,
            vec![expected.remove(&accession).expect("a study")]
        );
    }

    // Closing releases at once, as read: at A, every study is read, by A
    // or by B, and nothing is left for "next".
    b.release_claims();
    assert!(a.sync_claims());
    let at_a = rows(&a);
    let by_b = at_a[&third.accession].claim.clone().expect("read by B");
    assert!(by_b.done && by_b.reader == "Dr B", "{by_b:?}");
    assert!(
        at_a.values().all(|r| r.reading == ReadingStatus::Read
            || r.claim.as_ref().is_some_and(|c| c.done && !c.mine))
    );

    // Offline, claims are unknown and reading goes on locally.
    drop(orthanc);
    pg.stop();
    assert!(!a.sync_claims(), "offline");
    assert!(
        rows(&a).values().all(|r| r.claim.is_none()),
        "unknown, not assumed"
    );
    add(&a, third.id).expect("reading goes on locally");
}

/// The store's rows of one kind, with their workstation.
fn rows_in_store(conninfo: &str, kind: &str) -> Vec<(String, overread_audit::row::Row)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let timeout = std::time::Duration::from_secs(10);
        let mut store = overread_store::Store::connect(conninfo, None, timeout)
            .await
            .expect("connect");
        let mut out = Vec::new();
        store
            .for_each_row("2000-01-01", "2999-12-31", &[kind], |ws, row| {
                out.push((ws.to_string(), row));
            })
            .await
            .expect("rows");
        out
    })
}
