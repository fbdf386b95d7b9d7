//! A workstation's background sync into a real department store (a
//! PostgreSQL 15 this test starts): its state as the sources strip shows
//! it, through the database going away and coming back, and a connection
//! string with a password refused by the settings.

use std::path::Path;
use std::sync::{Arc, Mutex};

use overread_core::api::{Settings, StoreState, WorklistChange};
use overread_core::workstation::Workstation;
use overread_store::testing::Postgres;

#[test]
fn a_workstation_keeps_the_store_in_sync_and_says_where_it_stands() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let studies = dir.path().join("studies");
    overread_core::demo::generate(&studies, 2, 128, 3).expect("phantoms");
    let mut settings = Settings::demo(&studies, Path::new("unused-model"));
    settings.department_store = Some(pg.conninfo());
    let ws =
        Workstation::open(settings.clone(), &dir.path().join("audit.sqlite3"), None).expect("open");
    let heard: Arc<Mutex<Vec<WorklistChange>>> = Arc::default();
    let events = heard.clone();
    ws.set_listener(Arc::new(move |c| events.lock().expect("events").push(c)));

    let before = ws.worklist().store.expect("a store is configured");
    assert_eq!(before.state, StoreState::Checking);
    let sent = ws.sync_department();
    assert!(sent > 0, "the log's rows so far");
    let status = ws.store_status().expect("status");
    assert_eq!(status.state, StoreState::InSync, "{status:?}");
    assert_eq!(status.behind, 0.0);
    assert!(
        heard.lock().expect("events").iter().any(|c| c
            .store
            .as_ref()
            .is_some_and(|s| s.state == StoreState::InSync)),
        "the state reached the listener"
    );

    // Offline: reading goes on, the state says why, and nothing is lost.
    pg.stop();
    let id = ws.worklist().rows[0].id;
    ws.open_study(id).expect("opens offline");
    assert_eq!(ws.sync_department(), 0);
    let offline = ws.store_status().expect("status");
    assert_eq!(offline.state, StoreState::Offline, "{offline:?}");
    let why = offline.message.expect("why");
    assert!(why.starts_with("department store unreachable"), "{why}");
    assert!(!why.contains('\n'));

    // Back: what waited goes, once.
    pg.start_again();
    assert_eq!(ws.sync_department(), 1, "the study_opened row");
    assert_eq!(ws.store_status().expect("status").state, StoreState::InSync);
    assert_eq!(ws.sync_department(), 0);

    // A password in the connection string is refused by the settings.
    let mut with_password = settings;
    with_password.department_store = Some(format!("{} password=secret", pg.conninfo()));
    let e = with_password.validate().expect_err("refused");
    assert!(e.message.contains("OVERREAD_STORE_PASSWORD"), "{e:?}");
    assert!(!e.message.contains("secret"));
}
